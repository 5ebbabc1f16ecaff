#!/usr/bin/python3
"""One NTLM logon through a Squid NTLM helper (squid-2.5-ntlmssp), with
python3-ntlm-auth as the client, as Squid drives the helper: "YR <NEGOTIATE>"
answered by "TT <CHALLENGE>", then "KK <AUTHENTICATE>" answered by the
verdict. Prints the verdict line; exits 0 when it starts with EXPECT.

    squid_ntlmssp_client.py --user U --domain D --expect OK -- HELPER ARGS...

The password is read from standard input (one line), never from argv.
"""

import argparse
import base64
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from clients import enable_md4_for_ntlm_auth  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--user", required=True)
    ap.add_argument("--domain", default="")
    ap.add_argument("--expect", required=True, help="the start of the verdict line, e.g. 'OK' or 'ERR'")
    ap.add_argument("helper", nargs="+")
    args = ap.parse_args()
    password = sys.stdin.readline().rstrip("\n")

    enable_md4_for_ntlm_auth()
    from ntlm_auth.ntlm import NtlmContext

    ctx = NtlmContext(args.user, password, domain=args.domain, workstation="CLIENT1", ntlm_compatibility=3)
    helper = subprocess.Popen(args.helper, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(line):
        helper.stdin.write(line + "\n")
        helper.stdin.flush()
        reply = helper.stdout.readline().rstrip("\n")
        print(f"> {line[:40]}...\n< {reply[:60]}{'...' if len(reply) > 60 else ''}")
        return reply

    try:
        reply = ask("YR " + base64.b64encode(ctx.step()).decode())
        words = reply.split(" ")
        if words[0] != "TT":
            print(f"no challenge: {reply}")
            return 1
        token = words[1].removeprefix("token=")  # "TT <b64>" or, kv, "TT token=<b64>"
        verdict = ask("KK " + base64.b64encode(ctx.step(base64.b64decode(token))).decode())
    finally:
        helper.stdin.close()
        helper.wait(timeout=10)
    print(f"verdict: {verdict}")
    return 0 if verdict.split(" ")[0] == args.expect else 1


if __name__ == "__main__":
    sys.exit(main())
