#!/usr/bin/python3
"""attack4/race_expiry.py SOCKET SLAPD_PID SECONDS CLIENTS

Cancel against a worker taking the job, and store_timeout at the moment of
the answer: for SECONDS, a thread stops and continues slapd (SIGSTOP for
5-60 ms, SIGCONT for 5-60 ms) while CLIENTS threads each send VERIFYs
(cache off: every one a store call; right and wrong passwords) and then
either hang up after 0-80 ms (a third of them with a RST) or wait for the
answer; ntlmd's store_timeout is about as long as a stop, so expiries,
hang-ups and answers meet. Then slapd runs again and PING must show
STORE_WAITING 0 (no underflow, no request left behind) within 10 s.
Prints the outcome counts and the counters; exit 1 on a wrong counter
or when ntlmd stopped answering.
"""
import os
import random
import signal
import socket
import struct
import sys
import threading
import time
from collections import Counter

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import ntlmd_driver as nd  # noqa: E402
import ldap_driver as ld  # noqa: E402

USERS = ["lalice", "lhank", "ljane", "lcache", "lrace", "lspell"]


def toggler(slapd, stop):
    while not stop.is_set():
        os.kill(slapd, signal.SIGSTOP)
        time.sleep(random.uniform(0.005, 0.06))
        os.kill(slapd, signal.SIGCONT)
        time.sleep(random.uniform(0.005, 0.06))
    os.kill(slapd, signal.SIGCONT)


def client(sock, stop, out, lock):
    rnd = random.Random()
    while not stop.is_set():
        user = rnd.choice(USERS)
        pw = ld.password_of(user) if rnd.random() < 0.5 else nd.WRONG_PASSWORD
        try:
            f = ld.verify_frame(sock, user, pw)
            k = nd.Kept(sock, timeout=10)
            k.send(f)
            what = rnd.random()
            if what < 0.5:
                time.sleep(rnd.uniform(0, 0.08))
                if what < 0.17:
                    k.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                k.close()
                r = "hang-up"
            else:
                r = k.reply(nd.VERIFY).status
                k.close()
        except (nd.Closed, OSError, ValueError) as e:
            r = f"error {type(e).__name__}"
        with lock:
            out[r] += 1


def main(sock, slapd, seconds, clients):
    nd.enable_md4_for_ntlm_auth()
    stop = threading.Event()
    out, lock = Counter(), threading.Lock()
    threads = [threading.Thread(target=toggler, args=(slapd, stop))]
    threads += [threading.Thread(target=client, args=(sock, stop, out, lock)) for _ in range(clients)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    os.kill(slapd, signal.SIGCONT)
    print("# outcomes:", dict(sorted(out.items())))
    deadline = time.monotonic() + 10
    while True:
        p = ld.ping(sock)
        waiting = p.u64(ld.T_STORE_WAITING)
        if waiting == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    names = [("store_calls", ld.T_STORE_CALLS), ("store_waiting", ld.T_STORE_WAITING),
             ("store_timeouts", ld.T_STORE_TIMEOUTS), ("late_answers", ld.T_LATE_ANSWERS),
             ("store_cancelled", ld.T_STORE_CANCELLED), ("writebacks", ld.T_WRITEBACKS),
             ("writebacks_dropped", ld.T_WRITEBACKS_DROPPED)]
    print("# PING:", ", ".join(f"{n} {p.u64(t)}" for n, t in names))
    after = ld.logon(sock, "lalice", ld.password_of("lalice")).status
    print(f"# a fresh logon after: {after}")
    ok = waiting == 0 and after == "STATUS_SUCCESS"
    print("PASS" if waiting == 0 else "FAIL", "STORE_WAITING back to 0 (no underflow, nothing left queued)")
    print("PASS" if after == "STATUS_SUCCESS" else "FAIL", "a fresh logon after the storm succeeds")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])))
