#!/usr/bin/python3
"""HTTP client of test-matrix.sh: python3-requests-ntlm (HttpNtlmAuth, over
python3-ntlm-auth). Usage: requests-client.py URL USER DOMAIN; the password
is the first line of stdin. Prints the final HTTP status."""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import clients  # noqa: E402  (MD4 through pycryptodome under OpenSSL 3)

clients.enable_md4_for_ntlm_auth()
import requests  # noqa: E402
from requests_ntlm import HttpNtlmAuth  # noqa: E402


def main():
    url, user, domain = sys.argv[1:4]
    password = sys.stdin.readline().rstrip("\n")
    login = f"{domain}\\{user}" if domain else user
    r = requests.get(url, auth=HttpNtlmAuth(login, password), timeout=10)
    print(r.status_code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
