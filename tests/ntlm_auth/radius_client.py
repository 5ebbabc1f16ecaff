#!/usr/bin/python3
"""MS-CHAPv2 through FreeRADIUS with radclient: builds the MS-CHAP-Challenge
and MS-CHAP2-Response (RFC 2759, RFC 2548) for a password, sends them, and
checks the answer: Access-Accept carrying MS-CHAP2-Success with the right
authenticator response (which needs the NT_KEY ntlm_auth printed) and the
MS-MPPE keys; or Access-Reject.

    radius_client.py --server 127.0.0.1:PORT --secret S --user U --password P --expect accept|reject

With --pap: a PAP User-Password instead, sent here byte for byte (radclient
would unescape a backslash), and only the Access-Accept or Access-Reject is
checked.

Prints "ok" or what was wrong; exit status 0 when the expectation held.
"""

import argparse
import hashlib
import os
import re
import socket
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from clients import md4, nt_hash  # noqa: E402
from ntlmd_driver import desl  # noqa: E402  (tests/lib, on PYTHONPATH as clients is)

MAGIC1 = b"Magic server to client signing constant"
MAGIC2 = b"Pad to make it do more than one iteration"


def pap(server, secret, user, password):
    """An Access-Request with User-Name and User-Password (RFC 2865 5.2),
    the password's bytes as given (no radclient quoting): the reply's name."""
    host, port = server.rsplit(":", 1)
    auth = os.urandom(16)
    padded = password + b"\0" * (-len(password) % 16 if password else 16)
    hidden, last = b"", auth
    for i in range(0, len(padded), 16):
        block = bytes(x ^ y for x, y in zip(padded[i:i + 16], hashlib.md5(secret + last).digest()))
        hidden += block
        last = block
    attrs = bytes([1, 2 + len(user)]) + user + bytes([2, 2 + len(hidden)]) + hidden
    ident = os.urandom(1)[0]
    packet = struct.pack(">BBH", 1, ident, 20 + len(attrs)) + auth + attrs
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(20)
        s.sendto(packet, (host, int(port)))
        reply = s.recv(4096)
    if reply[1] != ident:
        return f"a reply to another request ({reply[1]})"
    return {2: "Access-Accept", 3: "Access-Reject"}.get(reply[0], f"code {reply[0]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--expect", choices=["accept", "reject"], required=True)
    ap.add_argument("--pap", action="store_true")
    args = ap.parse_args()

    if args.pap:
        got = pap(args.server, args.secret.encode(), args.user.encode(), args.password.encode())
        want = "Access-Accept" if args.expect == "accept" else "Access-Reject"
        print("ok" if got == want else f"expected {want}, got {got}")
        return 0 if got == want else 1

    auth_challenge = os.urandom(16)
    peer_challenge = os.urandom(16)
    # RFC 2759 8.2 ChallengeHash, 8.1 GenerateNTResponse
    challenge_hash = hashlib.sha1(peer_challenge + auth_challenge + args.user.encode()).digest()[:8]
    nt_response = desl(nt_hash(args.password), challenge_hash)
    response = bytes([1, 0]) + peer_challenge + b"\0" * 8 + nt_response
    request = (f'User-Name = "{args.user}"\n'
               f"MS-CHAP-Challenge = 0x{auth_challenge.hex()}\n"
               f"MS-CHAP2-Response = 0x{response.hex()}\n")
    r = subprocess.run(["radclient", "-x", "-r", "1", "-t", "10", args.server, "auth", args.secret],
                       input=request, capture_output=True, text=True, timeout=30)
    out = r.stdout + r.stderr
    if args.expect == "reject":
        ok = "Received Access-Reject" in out and "Received Access-Accept" not in out
        print("ok" if ok else f"expected Access-Reject: {out}")
        return 0 if ok else 1
    if "Received Access-Accept" not in out:
        print(f"expected Access-Accept: {out}")
        return 1
    # RFC 2759 8.7 GenerateAuthenticatorResponse from MD4(NT hash)
    d = hashlib.sha1(md4(nt_hash(args.password)) + nt_response + MAGIC1).digest()
    want_s = "S=" + hashlib.sha1(d + challenge_hash + MAGIC2).digest().hex().upper()
    problems = []
    m = re.search(r"MS-CHAP2-Success = 0x([0-9a-fA-F]+)", out)
    got = bytes.fromhex(m.group(1))[1:].decode("ascii", "replace") if m else ""
    if got != want_s:
        problems.append(f"MS-CHAP2-Success {got!r}, expected {want_s!r}")
    for attr in ("MS-MPPE-Recv-Key", "MS-MPPE-Send-Key"):
        if attr not in out:
            problems.append(f"no {attr}")
    print("ok" if not problems else "; ".join(problems) + f": {out}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
