#!/bin/sh
# attack4/pool_chaos.sh: pool_chaos.py against the sanitizer build of ntlmd
# (ASan + UBSan, -fno-sanitize-recover: any use after free, double free or
# leak of a request, a write-back or a setup ends ntlmd with a report).
# store_workers 2, store_timeout 1000 ms, max_connections 16 (8 waiting
# calls per uid). Run as root: BUILD=build/san attack4/pool_chaos.sh [ROUNDS]
. "$(dirname "$0")/lib.sh"
ROUNDS=${1:-8}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

start_directory
set_policy 3 1 5
start_ntlmd a <<EOC
store_workers 2
store_timeout 1000
max_connections 16
lockout_threshold 1000
lockout_account_threshold 1000
EOC
S=$(sock a)
"$PY" -B "$TOP/attack4/pool_chaos.py" "$S" "$SLAPD_A" "$NTLMD_a" "$ROUNDS" 12
rc=$?
check "ntlmd answered after every round" [ "$rc" -eq 0 ]
kill -TERM "$NTLMD_a"
i=0
while kill -0 "$NTLMD_a" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$NTLMD_a" 2>/dev/null
code=$?
echo "# ntlmd exit status after SIGTERM: $code"
grep -E "ERROR: (Address|Leak)Sanitizer|runtime error" "$WORK/run-a/log" | head -5 | sed 's/^/# /'
no_report() { ! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error" "$WORK/run-a/log"; }
check "no sanitizer report in ntlmd's log" no_report
check "ntlmd exited 0 on SIGTERM" [ "$code" -eq 0 ]
grep -c "the client left" "$WORK/run-a/log" | sed 's/^/# "the client left" lines: /'
grep -c "SIGHUP" "$WORK/run-a/log" | sed 's/^/# reloads: /'
NTLMD_PIDS=""
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
