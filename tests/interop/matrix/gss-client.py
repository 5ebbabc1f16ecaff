#!/usr/bin/python3
"""Token client of test-matrix.sh: gss-ntlmssp as a GSSAPI initiator through
python3-gssapi. Usage: gss-client.py USER DOMAIN; the password is the first
line of stdin. Prints the NEGOTIATE (base64) and, for the CHALLENGE read on
stdin, the AUTHENTICATE."""
import base64
import sys

import gssapi
import gssapi.raw

NTLMSSP = gssapi.OID.from_int_seq("1.3.6.1.4.1.311.2.2.10")


def main():
    user, domain = sys.argv[1], sys.argv[2]
    password = sys.stdin.readline().rstrip("\n")
    name = gssapi.Name(f"{domain}\\{user}", gssapi.NameType.user)
    creds = gssapi.raw.acquire_cred_with_password(
        name, password.encode("utf-8"), usage="initiate", mechs=[NTLMSSP]
    ).creds
    target = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
    ctx = gssapi.SecurityContext(name=target, creds=creds, mech=NTLMSSP, usage="initiate")
    print(base64.b64encode(ctx.step()).decode(), flush=True)
    challenge = base64.b64decode(sys.stdin.readline().strip())
    print(base64.b64encode(ctx.step(challenge)).decode(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
