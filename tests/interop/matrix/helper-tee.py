#!/usr/bin/python3
"""Runs an ntlm_auth helper for Squid and copies its verdicts to a file.

    helper-tee.py LOG -- HELPER ARGV...

Squid starts this in place of the helper (auth_param ntlm program). Lines
from Squid go to the helper unchanged, and the helper's replies back to
Squid unchanged; each reply that is a verdict (AF, OK, NA, ERR, BH) is also
appended to LOG as "VERDICT <reply>", which is how the matrix learns what
the helper behind Squid (ours or Samba's) said. Request lines are never
written anywhere: they carry the client's AUTHENTICATE.
"""

import os
import subprocess
import sys


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.stderr.write("usage: helper-tee.py LOG -- HELPER ARGV...\n")
        return 2
    log = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    helper = subprocess.Popen(sys.argv[3:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for line in sys.stdin.buffer:
        helper.stdin.write(line)
        helper.stdin.flush()
        reply = helper.stdout.readline()
        if not reply:
            break
        if reply.split(b" ", 1)[0].strip() in (b"AF", b"OK", b"NA", b"ERR", b"BH"):
            os.write(log, b"VERDICT " + reply.rstrip(b"\n") + b"\n")
        sys.stdout.buffer.write(reply)
        sys.stdout.buffer.flush()
    helper.stdin.close()
    return helper.wait()


if __name__ == "__main__":
    sys.exit(main())
