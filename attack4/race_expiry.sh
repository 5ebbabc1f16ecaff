#!/bin/sh
# attack4/race_expiry.sh: race_expiry.py against ntlmd (store_workers 2,
# store_timeout 40 ms, max_connections 32, lockout write-backs on), then
# SIGTERM: no sanitizer report (BUILD=build/san: use after free, double
# free, leaks of requests, access and write-back jobs end ntlmd with one).
# Run as root: BUILD=build/san attack4/race_expiry.sh [SECONDS] [CLIENTS]
. "$(dirname "$0")/lib.sh"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
SECONDS_=${1:-20}
CLIENTS=${2:-8}

start_directory
set_policy 1000 1 5
start_ntlmd a <<EOC
store_workers 2
store_timeout 40
max_connections 32
lockout_threshold 100000
lockout_account_threshold 100000
EOC
"$PY" -B "$TOP/attack4/race_expiry.py" "$(sock a)" "$SLAPD_A" "$SECONDS_" "$CLIENTS" | tee "$WORK/out"
check "race_expiry.py: counters right, ntlmd answers" [ "$(grep -c '^FAIL' "$WORK/out")" -eq 0 ]
kill -TERM "$NTLMD_a"
i=0
while kill -0 "$NTLMD_a" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$NTLMD_a" 2>/dev/null
code=$?
grep -E "ERROR: (Address|Leak)Sanitizer|runtime error" "$WORK/run-a/log" | head -5 | sed 's/^/# /'
no_report() { ! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error" "$WORK/run-a/log"; }
check "no sanitizer report in ntlmd's log" no_report
check "ntlmd exited 0 on SIGTERM" [ "$code" -eq 0 ]
NTLMD_PIDS=""
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
