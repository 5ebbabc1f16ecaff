#!/usr/bin/python3
"""Runs Samba 4.17's own tests of ntlm_auth (python3-samba's
samba/tests/ntlm_auth.py, unchanged) against the project's ntlm_auth and
prints one line per test: "PASS name", "FAIL name: why", "SKIP name: why"
or "XFAIL name: why" (a known gap, named in PENDING), then
"N passed, M failed". A PENDING test that passes is a FAIL, so that the
list shrinks as the gaps close.

The environment is the test file's own: BINDIR (where ntlm_auth is),
SMB_CONF_PATH, DC_USERNAME, DC_PASSWORD, DOMAIN, and wbinfo on PATH.
"""

import sys
import unittest

SKIP = {
    "test_ntlmssp_gss_spnego_cached_creds":
        "--use-cached-creds needs winbindd's credential cache (wbinfo --ccache-save); ntlm_auth keeps no "
        "credentials of its own and answers BH NT_STATUS_NO_SUCH_LOGON_SESSION (ntlm_auth(1))",
}
PENDING = {
}


class Result(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.lines = []
        self.passed = self.failed = 0

    @staticmethod
    def name(test):
        return test.id().rsplit(".", 1)[-1]

    def out(self, line):
        print(line, flush=True)

    def addSuccess(self, test):
        n = self.name(test)
        if n in PENDING:
            self.failed += 1
            self.out(f"FAIL {n}: passes now; remove it from PENDING ({PENDING[n]})")
        else:
            self.passed += 1
            self.out(f"PASS {n}")

    def _bad(self, test, err):
        n = self.name(test)
        why = str(err[1]).strip().splitlines()
        why = why[-1] if why else err[0].__name__
        if n in PENDING:
            self.out(f"XFAIL {n}: {PENDING[n]} ({why[:200]})")
        else:
            self.failed += 1
            self.out(f"FAIL {n}: {why[:300]}")

    addFailure = _bad
    addError = _bad

    def addSkip(self, test, reason):
        self.out(f"SKIP {self.name(test)}: {reason}")


def main():
    from samba.tests import ntlm_auth as samba_ntlm_auth
    cls = samba_ntlm_auth.NTLMAuthHelpersTests
    for name, reason in SKIP.items():
        setattr(cls, name, unittest.skip(reason)(getattr(cls, name)))
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(cls)
    result = Result()
    suite.run(result)
    print("SKIP samba.tests.ntlm_auth_krb5: needs a KDC (Kerberos is not served by this helper)")
    print(f"{result.passed} passed, {result.failed} failed")
    return 0 if result.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
