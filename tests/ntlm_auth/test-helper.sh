#!/bin/sh
# test-helper.sh: ntlm_auth's helper protocols and exec modes driven line by
# line (helper_driver.py) against a real ntlmd, each reply compared with
# the text Samba's ntlm_auth prints.
# Run by "make check", or: NTLMD=... NTLM_AUTH=... tests/ntlm_auth/test-helper.sh
set -u
# shellcheck source=tests/ntlm_auth/common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

setup
# "diag": --diagnostics with a lockout that a few refusals reach
start_ntlmd <<'EOC'
service diag
ntlm_auth                  ntlmv1-permitted
lockout_threshold          3
lockout_account_threshold  3
EOC
driver "$PY" -B "$DRIVER" main --ntlm-auth "$NTLM_AUTH" --socket "$SOCKET" --log "$NTLMD_LOG"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
