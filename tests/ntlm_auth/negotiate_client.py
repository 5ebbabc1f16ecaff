#!/usr/bin/python3
"""A scripted HTTP Negotiate client for the Squid test: sends SPNEGO-wrapped
(or raw) NTLMSSP from python3-ntlm-auth in Proxy-Authorization: Negotiate
over one keep-alive connection, and prints the final HTTP status.

    negotiate_client.py --proxy HOST:PORT --url URL --user U --password P
                        [--domain D] [--raw]
"""

import argparse
import base64
import http.client
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from clients import enable_md4_for_ntlm_auth  # noqa: E402
from helper_driver import OID_NTLMSSP, neg_token_init, neg_token_resp, resp_token  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--domain", default="TESTDOM")
    ap.add_argument("--raw", action="store_true")
    args = ap.parse_args()
    enable_md4_for_ntlm_auth()
    from ntlm_auth.ntlm import NtlmContext

    host, port = args.proxy.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    ctx = NtlmContext(args.user, args.password, domain=args.domain, workstation="CLIENT1", ntlm_compatibility=3)
    neg = ctx.step()
    token = neg if args.raw else neg_token_init([OID_NTLMSSP], neg)
    for _leg in range(3):
        conn.request("GET", args.url, headers={"Proxy-Authorization": "Negotiate " + base64.b64encode(token).decode()})
        r = conn.getresponse()
        r.read()
        if r.status != 407:
            break
        hdr = [v for k, v in r.getheaders() if k.lower() == "proxy-authenticate" and v.startswith("Negotiate ")]
        if not hdr:
            break
        blob = base64.b64decode(hdr[0].split(" ", 1)[1])
        chal = blob if args.raw else resp_token(blob)
        auth = ctx.step(chal)
        token = auth if args.raw else neg_token_resp(auth)
    print(r.status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
