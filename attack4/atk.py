#!/usr/bin/python3
"""attack4/atk.py: small clients of ntlmd for the attack scripts, on the
protocol and NTLM clients of tests/ntlmd/ntlmd_driver.py.

    atk.py logon SOCKET USER PASSWORD|wrong [ADDRESS]
        one NTLMv2 logon (python3-ntlm-auth, domain TESTDOM) of USER as typed;
        prints the status ("wrong": a wrong password, "right": the user's own)
    atk.py logon-timed SOCKET USER PASSWORD   the same, and the monotonic time of the reply
    atk.py mschap SOCKET USER PASSWORD|wrong|right   one MS-CHAPv2 VERIFY_RESPONSE (service radius)
    atk.py password USER         the test password of an ldap_driver.py user
"""
import os
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))

import ntlmd_driver as nd  # noqa: E402
import ldap_driver as ld  # noqa: E402


def logon(sock, user, password, address=None):
    nd.enable_md4_for_ntlm_auth()
    if password == "wrong":
        password = nd.WRONG_PASSWORD
    elif password == "right":
        password = ld.password_of(user.strip().lower())
    ex = nd.ntlm_auth_exchange(sock, user, password, address=address)
    return ex.verify()


def mschap(sock, user, password):
    """VERIFY_RESPONSE as FreeRADIUS's mschap module sends it through
    ntlm_auth: service radius, MSCHAPV2 1, the NT response DESL(NT hash,
    challenge) to an 8-byte challenge the caller chose."""
    if password == "wrong":
        password = nd.WRONG_PASSWORD
    elif password == "right":
        password = ld.password_of(user.strip().lower())
    chal = os.urandom(8)
    return nd.call(sock, nd.VERIFY_RESPONSE, [
        (nd.T_SERVICE, "radius"), (nd.T_USER, user), (nd.T_DOMAIN, nd.DOMAIN), (nd.T_SERVER_CHALLENGE, chal),
        (nd.T_NT_RESPONSE, nd.desl(nd.nt_hash(password), chal)), (nd.T_MSCHAPV2, bytes([1]))])


def main(argv):
    if argv[0] == "logon":
        r = logon(argv[1], argv[2], argv[3], argv[4] if len(argv) > 4 else None)
        print(r.status)
        return 0
    if argv[0] == "mschap":
        print(mschap(argv[1], argv[2], argv[3]).status)
        return 0
    if argv[0] == "logon-timed":  # the status, then the monotonic time of the reply
        r = logon(argv[1], argv[2], argv[3])
        print(r.status, time.monotonic())
        return 0
    if argv[0] == "password":
        print(ld.password_of(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
