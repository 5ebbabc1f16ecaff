"""attack5/hangup_flood.py SOCKET SLAPD_PID N: builds N+1 VERIFY frames of
directory users, stops slapd (SIGSTOP), sends the first one and keeps its
connection (its lookup holds the only store worker), then N clients send
theirs and hang up at once, the request still queued. Prints N."""
import os
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "tests", "lib"), os.path.join(HERE, "..", "tests", "interop")]
import ldap_driver as ld  # noqa: E402
import ntlmd_driver as nd  # noqa: E402

nd.enable_md4_for_ntlm_auth()

sock, slapd, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
users = ["ljane", "lhank"]
frames = [ld.verify_frame(sock, users[i % 2], ld.password_of(users[i % 2])) for i in range(n + 1)]
os.kill(slapd, signal.SIGSTOP)
hold = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
hold.connect(sock)
hold.sendall(frames[0])
time.sleep(0.2)
for f in frames[1:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall(f)
    s.close()
time.sleep(0.3)
print(n, flush=True)
