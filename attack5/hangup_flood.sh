#!/bin/sh
# attack5/hangup_flood.sh [N]: the hang-up path of f3 (5c78b07,
# conn_hung_up). One lookup hangs (slapd SIGSTOPped, store_workers 1);
# N clients send a VERIFY and hang up while it waits. Measured: log lines
# and bytes per hang-up; PING/STATS afterwards: REFUSED unchanged,
# STORE_CANCELLED + (hang-ups whose call was still queued), store_waiting
# back to 0, no connection left open; ntlmd still answers; no ASan report
# (BUILD=build/san).
. "$(dirname "$0")/../attack4/lib.sh"
N=${1:-200}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1
start_directory
start_ntlmd a <<EOC
store_workers 1
max_connections 1024
EOC
S=$(sock a)
stats() { "$NTLMTOOL" stats --socket "$S" --json >"$WORK/$1.json" 2>&1; }
field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' "$WORK/$1.json" "$2"; }
"$PY" -B "$TOP/attack4/atk.py" logon "$S" lhank right >/dev/null 2>&1 # connect once
stats s0
lines0=$(wc -l <"$WORK/run-a/log") bytes0=$(wc -c <"$WORK/run-a/log")
sent=$(PYTHONPATH=$TOP/tests/lib:$TOP/tests/interop "$PY" -B "$(dirname "$0")/hangup_flood.py" "$S" "$SLAPD_A" "$N" 2>"$WORK/flood.err")
stats s1
lines1=$(wc -l <"$WORK/run-a/log") bytes1=$(wc -c <"$WORK/run-a/log")
left=$(grep -c "the client left during" "$WORK/run-a/log")
kill -CONT "$SLAPD_A"
sleep 3
stats s2
echo "# $sent hang-ups (of $N): log +$((lines1 - lines0)) lines, +$((bytes1 - bytes0)) bytes ($(((bytes1 - bytes0) / (sent > 0 ? sent : 1))) bytes per hang-up); 'the client left' lines: $left"
grep "the client left during" "$WORK/run-a/log" | head -1 | sed 's/^/# /'
for k in refused store_cancelled store_waiting connections requests; do
    echo "# $k: $(field s0 $k) -> $(field s1 $k) -> $(field s2 $k)"
done
cat "$WORK/flood.err" | head -3
check "every hang-up sent" [ "$sent" = "$N" ]
# N + 1: the holding client leaves too (hangup_flood.py exits), its call running
check "one log line per hang-up, no more" [ "$left" -eq $((N + 1)) ] && [ $((lines1 - lines0)) -le $((N + 5)) ]
check "REFUSED unchanged by hang-ups" [ "$(field s1 refused)" = "$(field s0 refused)" ]
check "STORE_CANCELLED + N (every queued call taken back)" [ "$(field s1 store_cancelled)" -eq $(($(field s0 store_cancelled) + N)) ]
check "store_waiting back to 0 after" [ "$(field s2 store_waiting)" = 0 ]
check "ntlmd still answers a logon" [ "$("$PY" -B "$TOP/attack4/atk.py" logon "$S" lhank right 2>&1 | tail -1)" = STATUS_SUCCESS ]
check "no sanitizer report" sh -c "! grep -q 'Sanitizer\|runtime error' '$WORK/run-a/log'"
echo "$PASSED passed, $FAILED failed (a FAIL is a finding)"
[ "$FAILED" -eq 0 ]
