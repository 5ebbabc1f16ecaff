#!/bin/sh
# test-flood.sh: the NEGOTIATE flood of issue 13 through ntlm_auth, as Squid
# runs it with key_extras "%>a". One client address sends 200000 NEGOTIATEs
# it never finishes (one ntlm_auth process, every line piped in) while a
# second address logs on through another ntlm_auth. The flooding address
# gets max_pending_challenges_per_address challenges (1000, the default)
# and BH NT_STATUS_INSUFFICIENT_RESOURCES after that; the second address
# logs on every time; ntlmd's VmRSS grows by less than RSS_GROWTH_MIB.
# max_pending_challenges_per_uid is lowered to 50000 (a quarter of the
# flood) so that, without the per-address limit, the flood fills the front
# end's share and the second address is refused, as in the issue.
# Run by "make check", or: NTLMD=... NTLM_AUTH=... tests/ntlm_auth/test-flood.sh
set -u
# shellcheck source=tests/ntlm_auth/common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

COUNT=200000
CAP=1000 # the default of max_pending_challenges_per_address
RSS_GROWTH_MIB=8

setup
# Under AddressSanitizer freed memory waits in a quarantine (256 MiB by
# default) before it is reused, so RSS measures the quarantine, not the
# table: ntlmd runs without one here (each request's frames are freed).
case "${SANITIZER_CFLAGS:-}" in
*address*)
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
    export ASAN_OPTIONS
    ;;
esac
start_ntlmd <<EOC
max_pending_challenges_per_uid 50000
EOC
driver "$PY" -B "$HERE/flood_driver.py" flood --ntlm-auth "$NTLM_AUTH" --socket "$SOCKET" \
    --ntlmd-pid "$NTLMD_PID" --count "$COUNT" --cap "$CAP" --rss-growth-mib "$RSS_GROWTH_MIB" \
    --log "$NTLMD_LOG"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
