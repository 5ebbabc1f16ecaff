#!/bin/sh
# test-stats.sh: ntlmd's STATS request and "ntlmtool stats", against a
# real ntlmd (-d, a private socket and configuration, as test-ntlmd.sh)
# and a real slapd (tests/lib/slapd.sh):
#  - a known set of requests (stats_driver.py: 3 good NTLMv2 VERIFYs, 2
#    wrong passwords, 1 unknown user, 1 CHALLENGE, 1 PING) moves the
#    counts by exactly that: by type, status, outcome, response type, MIC,
#    channel bindings, the request histogram's count;
#  - --json parses (python3 json), --prometheus parses with a strict
#    parser of the exposition format and says what --json says;
#  - a caller that may not VERIFY gets STATUS_ACCESS_DENIED, an absent
#    daemon STATUS_NO_LOGON_SERVERS;
#  - the ldap store: a first logon is a cache miss and one worker call, a
#    second a cache hit and none; while slapd hangs (SIGSTOP) STATS is
#    answered at once and sees the busy worker, and a client that hangs
#    up while its lookup waits is not counted in REFUSED; slapd stopped, its server
#    is reported down with the error and a retry time;
#  - the shipped ntlmd-stats.service's command, and the textfile example
#    of the shipped man page ntlmtool(1), write the textfile atomically
#    (it parses strictly), and keep the last file when ntlmd is down.
#
# Run by "make check" (tests/Makefile.am sets NTLMD and NTLMTOOL), or:
#   NTLMD=build/ntlmd/ntlmd NTLMTOOL=build/ntlmtool/ntlmtool tests/ntlmd/test-stats.sh
# One line per case, then "N passed, M failed"; exit 1 on any failure,
# 77 (skip) when a prerequisite is missing outside CI, 99 on a hard error.
set -u

PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
DRIVER=$HERE/stats_driver.py
WAIT=10

# shellcheck source=tests/testlib.sh
. "$HERE/../testlib.sh"
NTLMD_DRIVER=$TESTS_LIB/ntlmd_driver.py
LDAP_DRIVER=$TESTS_LIB/ldap_driver.py
# shellcheck source=tests/lib/slapd.sh
. "$TESTS_LIB/slapd.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"
WORK=""
DAEMON_PID=""
SLAPD_A=""

cleanup() {
    stop_pid "$DAEMON_PID"
    stop_pid "$SLAPD_A"
    remove_work
}

driver() { run_counted 300 "$PY" -B "$DRIVER" "$@"; }

# Starts ntlmd on configuration $1 (log $1.log); SOCKET is its socket.
start_ntlmd() {
    LOG=$1.log
    ntlmd_start "$1" "$LOG" "$SOCKET" || exit 99
    DAEMON_PID=$NTLMD_PID
}

stop_ntlmd() {
    stop_pid "$DAEMON_PID"
    DAEMON_PID=""
    rm -f "$SOCKET"
}

stats_json() { # FILE: ntlmtool stats --json into FILE; its exit status
    "$NTLMTOOL" stats --socket "$SOCKET" --json >"$1" 2>"$1.err"
}

has() { printf '%s\n' "$1" | grep -Eq -- "$2"; }       # TEXT ERE: a line of TEXT matches
has_text() { printf '%s\n' "$1" | grep -Fq -- "$2"; } # TEXT STRING: TEXT holds STRING
prometheus_to() { "$NTLMTOOL" stats --socket "$SOCKET" --prometheus >"$1"; }

json_ok() { "$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; }

# ------------------------------------------------------------------ setup

require_built NTLMD NTLMTOOL
require_python ntlm_auth Cryptodome
command -v setpriv >/dev/null 2>&1 || skip_or_fail "setpriv"
[ "$(id -u)" -eq 0 ] || skip_or_fail "root (the test switches to nobody)"
slapd_require

trap cleanup EXIT
trap 'exit 1' HUP INT TERM
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ntlmd-stats.XXXXXX") || exit 99
chmod 0755 "$WORK" # nobody must reach the socket
mkdir -p "$WORK/run"
SOCKET=$WORK/run/socket
"$PY" -B "$NTLMD_DRIVER" write-hashes "$WORK/smbpasswd" || exit 99

cat >"$WORK/files.conf" <<EOF
socket          $SOCKET
hash_file       $WORK/smbpasswd
backends        files
netbios_name    TESTSRV
netbios_domain  TESTDOM
allow_groups    4242
lockout_threshold 0
max_challenges  5000
store_workers   3
EOF

# ------------------------------------------------------------------ counts

start_ntlmd "$WORK/files.conf"
check "ntlmtool stats --json before" stats_json "$WORK/before.json"
check "--json is one JSON object" json_ok "$WORK/before.json"
driver requests --socket "$SOCKET"
check "ntlmtool stats --json after" stats_json "$WORK/after.json"
check "--json after parses" json_ok "$WORK/after.json"
driver deltas "$WORK/before.json" "$WORK/after.json"

# the Prometheus form of the same counts (one more STATS ago: compare it
# with a JSON taken after it, which moves only the STATS counts)
check "ntlmtool stats --prometheus" prometheus_to "$WORK/after.prom"
check "ntlmtool stats --json after --prometheus" stats_json "$WORK/after2.json"
# STATS is the only request in between: make the JSON its view, minus that one
"$PY" - "$WORK/after2.json" "$WORK/prom-view.json" <<'PY'
import json, sys
js = json.load(open(sys.argv[1]))
js["requests"] -= 1
js["requests_by_type"]["STATS"] -= 1
js["replies_by_status"]["STATUS_SUCCESS"] -= 1
js["replies_by_outcome"]["success"] -= 1
js["request_seconds"]["count"] -= 1
# (the latency sum also holds that STATS' time: the text's may only be smaller)
json.dump(js, open(sys.argv[2], "w"))
PY
driver prometheus "$WORK/after.prom" "$WORK/prom-view.json"

# the wire format, decoded by the Python driver from docs/PROTOCOL.md
check "ntlmtool stats --json before the raw STATS" stats_json "$WORK/raw.json"
driver raw --socket "$SOCKET" "$WORK/raw.json"

out=$("$NTLMTOOL" stats --socket "$SOCKET" 2>&1)
check "text form names the requests by type" has "$out" "^requests by type$"
check "text form counts VERIFY" has "$out" "^ +VERIFY +[0-9]+$"

# ------------------------------------------------------------------ refusals

out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$NTLMTOOL" stats --socket "$SOCKET" 2>&1)
rc=$?
check "nobody (not in allow_groups): exit 1" [ "$rc" -eq 1 ]
check "nobody: STATUS_ACCESS_DENIED" has_text "$out" STATUS_ACCESS_DENIED
check "nobody: the daemon logs the refusal" grep -q "caller not in allow_users or allow_groups" "$LOG"
out=$("$NTLMTOOL" stats --socket "$WORK/no-such-socket" 2>&1)
rc=$?
check "no daemon: exit 1" [ "$rc" -eq 1 ]
check "no daemon: STATUS_NO_LOGON_SERVERS" has_text "$out" STATUS_NO_LOGON_SERVERS
out=$("$NTLMTOOL" stats --json --prometheus 2>&1)
rc=$?
check "--json with --prometheus: usage error (2)" [ "$rc" -eq 2 ]

# ------------------------------------------------------------------ the shipped timer's service

# etc/systemd/ntlmd-stats.service's command, run as systemd would (its $$
# is a $), with the built ntlmtool, the test's socket and a private
# textfile directory (etc/README.md: what a test may substitute)
UNIT=$(shipped systemd/ntlmd-stats.service)
check "ntlmd-stats.service writes Debian's textfile directory" \
    grep -qx 'Environment=PROM=/var/lib/prometheus/node-exporter/ntlmd.prom' "$UNIT"
check "ntlmd-stats.service may write only there" \
    grep -qx 'ReadWritePaths=/var/lib/prometheus/node-exporter' "$UNIT"
check "ntlmd-stats.timer runs it every minute" grep -qx 'OnUnitActiveSec=1min' "$(shipped systemd/ntlmd-stats.timer)"
script=$(sed -n "s/^ExecStart=\/bin\/sh -c '\(.*\)'$/\1/p" "$UNIT" | sed -e 's/\$\$/$/g' \
    -e "s|[^ ]*/ntlmtool stats --socket [^ ]*|$NTLMTOOL stats --socket $SOCKET|")
check "ntlmd-stats.service: its command runs ntlmtool stats --prometheus" \
    has_text "$script" "$NTLMTOOL stats --socket $SOCKET --prometheus"
mkdir -p "$WORK/textfile"
PROM_FILE=$WORK/textfile/ntlmd.prom
PROM=$PROM_FILE sh -c "$script"
rc=$?
check "ntlmd-stats.service: the command succeeds" [ "$rc" -eq 0 ]
check "ntlmd-stats.service: ntlmd.prom written, mode 0644, nothing else left" \
    [ "$(stat -c %a "$PROM_FILE" 2>/dev/null)" = 644 -a "$(ls "$WORK/textfile")" = ntlmd.prom ]
"$PY" -B "$DRIVER" prometheus "$PROM_FILE" "$WORK/after2.json" >"$WORK/textfile.check" 2>&1
check "ntlmd-stats.service: ntlmd.prom parses strictly" grep -q "^PASS the text parses strictly" "$WORK/textfile.check"
# ntlmd.prom made a directory (the textfile directory is its collector's
# user's): mv must not move each run's file into it and succeed
mkdir -p "$WORK/textfile2/ntlmd.prom"
PROM=$WORK/textfile2/ntlmd.prom sh -c "$script" 2>"$WORK/textfile2.err"
rc=$?
check "ntlmd-stats.service: ntlmd.prom a directory: the command fails" [ "$rc" -ne 0 ]
nothing_moved() { [ -z "$(ls -A "$WORK/textfile2/ntlmd.prom")" ] && [ "$(ls "$WORK/textfile2")" = ntlmd.prom ]; }
check "ntlmd-stats.service: ntlmd.prom a directory: nothing moved into it, no temporary file left" nothing_moved
cp "$PROM_FILE" "$WORK/textfile.good"
stop_ntlmd
PROM=$PROM_FILE sh -c "$script" 2>"$WORK/textfile.err"
rc=$?
check "ntlmd-stats.service: ntlmd down: the command fails" [ "$rc" -ne 0 ]
check "ntlmd-stats.service: ntlmd down: says STATUS_NO_LOGON_SERVERS" grep -q STATUS_NO_LOGON_SERVERS "$WORK/textfile.err"
kept_last_file() { cmp -s "$PROM_FILE" "$WORK/textfile.good" && [ "$(ls "$WORK/textfile")" = ntlmd.prom ]; }
check "ntlmd-stats.service: ntlmd down: the last good file stays, no temporary file" kept_last_file

# ------------------------------------------------------------------ ntlmtool(1)'s textfile example

# the example of man/ntlmtool.1 (EXAMPLES: "as the shipped timer does"),
# as a monitoring host runs it in its textfile directory: the text of its
# first command (up to the mv), roff's \- and \e read as - and \, with the
# built ntlmtool and the test's socket (etc/README.md's substitution)
MAN_PAGE=$HERE/../../man/ntlmtool.1
man_example() {
    sed -n '/textfile collector, as the shipped timer does:$/,/^\.fi$/p' "$MAN_PAGE" |
        sed -n '/^\.nf$/,/mv /{/^\.nf$/d;p;}' | sed -e 's/\\-/-/g' -e 's/\\e/\\/g'
}
example=$(man_example)
echo "ntlmtool(1)'s textfile example: $example"
# shellcheck disable=SC2016 # the $ are the example's own
check "ntlmtool(1): the textfile example writes ntlmtool stats --prometheus through mv -T" \
    has "$example" '^tmp=\$\(mktemp ntlmd\.prom\.XXXXXX\) && \{ ntlmtool stats --prometheus > "\$tmp" &&$'
no_backslash() { case $1 in *\\*) return 1 ;; esac; }
check "ntlmtool(1): the textfile example has no roff escape left" no_backslash "$example"
script=$(printf '%s\n' "$example" | sed "s|ntlmtool stats |$NTLMTOOL stats --socket $SOCKET |")
mkdir -p "$WORK/textfile-man"
start_ntlmd "$WORK/files.conf"
(cd "$WORK/textfile-man" && sh -c "$script")
rc=$?
check "ntlmtool(1)'s textfile example: succeeds" [ "$rc" -eq 0 ]
MAN_PROM=$WORK/textfile-man/ntlmd.prom
check "ntlmtool(1)'s textfile example: ntlmd.prom written, mode 0644, nothing else left" \
    [ "$(stat -c %a "$MAN_PROM" 2>/dev/null)" = 644 -a "$(ls "$WORK/textfile-man")" = ntlmd.prom ]
stats_json "$WORK/man.json"
"$PY" -B "$DRIVER" prometheus "$MAN_PROM" "$WORK/man.json" >"$WORK/man.check" 2>&1
check "ntlmtool(1)'s textfile example: ntlmd.prom parses strictly" grep -q "^PASS the text parses strictly" "$WORK/man.check"
check "ntlmtool(1)'s textfile example: ntlmd.prom holds the request counts" \
    grep -q '^ntlmd_requests_total [0-9][0-9]*$' "$MAN_PROM"
cp "$MAN_PROM" "$WORK/man.good"
stop_ntlmd
(cd "$WORK/textfile-man" && sh -c "$script") 2>"$WORK/man.err"
man_kept_last_file() { cmp -s "$MAN_PROM" "$WORK/man.good" && [ "$(ls "$WORK/textfile-man")" = ntlmd.prom ]; }
check "ntlmtool(1)'s textfile example: ntlmd down: the last file stays, no temporary file" man_kept_last_file
check "ntlmtool(1)'s textfile example: ntlmd down: ntlmtool says STATUS_NO_LOGON_SERVERS" \
    grep -q STATUS_NO_LOGON_SERVERS "$WORK/man.err"

# ------------------------------------------------------------------ a reload, a hostile reply

# the pool keeps its threads over a reload: STATS says what runs
start_ntlmd "$WORK/files.conf"
sed -i 's/^store_workers .*/store_workers 7/' "$WORK/files.conf"
kill -HUP "$DAEMON_PID"
workers_said() {
    stats_json "$WORK/reload.json" &&
        [ "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["store_workers"])' "$WORK/reload.json")" = 3 ]
}
check "after a reload from store_workers 3 to 7: STATS says 3, the threads that run" workers_said
check "  and ntlmd runs 4 threads (the loop and 3 workers)" [ "$(ls "/proc/$DAEMON_PID/task" | wc -l)" -eq 4 ]
stop_ntlmd
sed -i 's/^store_workers .*/store_workers 3/' "$WORK/files.conf"

# what ntlmtool prints of a reply's text: no line of the reply's own in
# the Prometheus form, no control byte in the text form
hostile() { # CASE: ntlmtool stats --prometheus and text against it, in WORK/hostile-CASE.*
    "$PY" -B "$HERE/hostile_ntlmd.py" "$WORK/hostile.sock" "$1" &
    fake=$!
    tries=$((WAIT * 10))
    while [ ! -S "$WORK/hostile.sock" ] && [ "$tries" -gt 0 ]; do
        tries=$((tries - 1))
        sleep 0.1
    done
    "$NTLMTOOL" stats --socket "$WORK/hostile.sock" --prometheus >"$WORK/hostile-$1.prom" 2>&1
    "$NTLMTOOL" stats --socket "$WORK/hostile.sock" >"$WORK/hostile-$1.txt" 2>&1
    stop_pid "$fake"
    rm -f "$WORK/hostile.sock"
}
no_line_of_its_own() { ! grep -q '^ntlmd_injected' "$WORK/hostile-$1.prom" && grep -q '^ntlmd_' "$WORK/hostile-$1.prom"; }
no_control_byte() { ! LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$WORK/hostile-$1.txt"; }
for c in inject-help labels esc-text; do
    hostile "$c"
    check "a hostile reply ($c): --prometheus has no line of the reply's own" no_line_of_its_own "$c"
    check "a hostile reply ($c): the text form has no control byte" no_control_byte "$c"
done

# ------------------------------------------------------------------ ldap

PORT_A=$(free_ports 3)
slapd_prepare
BINDPW=reader-secret-$$
printf '%s\n' "$BINDPW" >"$WORK/bindpw"
chmod 600 "$WORK/bindpw"
slapd_load "$BINDPW" a
start_slapd a "$PORT_A"
URI_A=ldap://127.0.0.1:$PORT_A
cat >"$WORK/ldap.conf" <<EOF
socket          $SOCKET
hash_file       $WORK/smbpasswd
backends        files ldap
netbios_name    TESTSRV
netbios_domain  TESTDOM
lockout_threshold 0
base            ou=people,$SUFFIX
uri             $URI_A
binddn          cn=reader,$SUFFIX
bindpw_file     $WORK/bindpw
timelimit       5
bind_timelimit  2
cache_ttl       60
store_workers   1
reconnect_sleeptime 30
reconnect_retrytime 30
EOF
start_ntlmd "$WORK/ldap.conf"

figure() { # FILE NAME [SERVER]
    "$PY" -B "$DRIVER" store "$@"
}
ldap_logon() { # CASE...
    run_counted 60 "$PY" -B "$LDAP_DRIVER" expect --socket "$SOCKET" "$@"
}

stats_json "$WORK/l0.json"
up0=$(figure "$WORK/l0.json" server_up "$URI_A")
check "ldap: a server that never failed is up" [ "$up0" = 1 ]
no_last_error() { ! figure "$WORK/l0.json" server_last_error "$URI_A" 2>/dev/null; }
check "ldap: ... and has no last error" no_last_error
ldap_logon lalice=STATUS_SUCCESS
stats_json "$WORK/l1.json"
ldap_logon lalice=STATUS_SUCCESS
stats_json "$WORK/l2.json"
h0=$(figure "$WORK/l0.json" cache_hits_total)
h1=$(figure "$WORK/l1.json" cache_hits_total)
h2=$(figure "$WORK/l2.json" cache_hits_total)
m0=$(figure "$WORK/l0.json" cache_misses_total)
m1=$(figure "$WORK/l1.json" cache_misses_total)
m2=$(figure "$WORK/l2.json" cache_misses_total)
c0=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["store_call_seconds"]["count"])' "$WORK/l0.json")
c1=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["store_call_seconds"]["count"])' "$WORK/l1.json")
c2=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["store_call_seconds"]["count"])' "$WORK/l2.json")
echo "ldap cache: hits $h0 -> $h1 -> $h2, misses $m0 -> $m1 -> $m2; store calls timed $c0 -> $c1 -> $c2"
check "ldap: first logon is a cache miss, no hit" [ "$m1" -gt "$m0" -a "$h1" -eq "$h0" ]
check "ldap: first logon is one worker call (store histogram +1)" [ "$c1" -eq $((c0 + 1)) ]
check "ldap: second logon is a cache hit, no miss" [ "$h2" -eq $((h1 + 1)) -a "$m2" -eq "$m1" ]
check "ldap: second logon is answered from memory (store histogram +0)" [ "$c2" -eq "$c1" ]
check "ldap: cache entries 1" [ "$(figure "$WORK/l2.json" cache_entries)" -eq 1 ]

# a directory that hangs (slapd stopped by SIGSTOP) holds a worker for up
# to timelimit (5 s): STATS is answered meanwhile, and sees the worker
# busy; slapd continued, the lookup completes
slapd_freeze "$SLAPD_A"
"$PY" -B "$LDAP_DRIVER" expect --socket "$SOCKET" ljane=STATUS_SUCCESS >"$WORK/hung.out" 2>&1 &
HUNG_PID=$!
tries=$((WAIT * 10))
busy=0
while [ "$tries" -gt 0 ]; do
    stats_json "$WORK/hung.json" &&
        busy=$("$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["store_busy"], j["store_waiting"])' \
            "$WORK/hung.json")
    [ "$busy" = "1 1" ] && break
    tries=$((tries - 1))
    sleep 0.1
done
t0=$(date +%s%N)
stats_json "$WORK/hung2.json"
t1=$(date +%s%N)
still=$(kill -0 "$HUNG_PID" 2>/dev/null && echo waiting)
echo "STATS while a lookup hangs: store_busy, store_waiting = $busy; answered in $(((t1 - t0) / 1000000)) ms; the lookup $still"
check "ldap: a hung lookup: STATS sees one worker busy, one request waiting" [ "$busy" = "1 1" ]
# (1 s times TEST_TIMEOUT_SCALE: ntlmd and ntlmtool under valgrind)
check "ldap: a hung lookup: STATS answered within ${TEST_TIMEOUT_SCALE:-1} s while the lookup still waits" \
    [ $(((t1 - t0) / 1000000)) -lt $((1000 * ${TEST_TIMEOUT_SCALE:-1})) -a "$still" = waiting ]
# a client that hangs up while its request waits (queued behind the hung
# lookup: store_workers 1) is a hang-up, not a refusal: REFUSED does not
# move, its call is taken back (STORE_CANCELLED +1), and the log says the
# client left (attack4: it went through the refusal's path and count)
json_field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
refused0=$(json_field "$WORK/hung2.json" refused)
cancelled0=$(json_field "$WORK/hung2.json" store_cancelled)
"$PY" -B "$LDAP_DRIVER" expect --socket "$SOCKET" lhank=STATUS_SUCCESS >"$WORK/left.out" 2>&1 &
LEFT_PID=$!
tries=$((WAIT * 10))
while [ "$tries" -gt 0 ]; do
    stats_json "$WORK/left.json" && [ "$(json_field "$WORK/left.json" store_waiting)" = 2 ] && break
    tries=$((tries - 1))
    sleep 0.1
done
kill -KILL "$LEFT_PID"
wait "$LEFT_PID" 2>/dev/null
tries=$((WAIT * 10))
until grep -q "the client left during VERIFY" "$LOG" || [ "$tries" -eq 0 ]; do
    tries=$((tries - 1))
    sleep 0.1
done
stats_json "$WORK/left2.json"
refused1=$(json_field "$WORK/left2.json" refused)
cancelled1=$(json_field "$WORK/left2.json" store_cancelled)
echo "a client that hung up while its VERIFY waited: store_waiting $(json_field "$WORK/left.json" store_waiting) before; REFUSED $refused0 -> $refused1, STORE_CANCELLED $cancelled0 -> $cancelled1"
check "ldap: a client that hangs up while its request waits: the log says it left" \
    grep -q "the client left during VERIFY while its request waited (a hang-up, not a refusal)" "$LOG"
check "ldap: a client that hangs up while its request waits is not counted in REFUSED" [ "$refused1" = "$refused0" ]
check "ldap: ... its queued call is taken back (STORE_CANCELLED +1)" [ "$cancelled1" -eq $((cancelled0 + 1)) ]
kill -CONT "$SLAPD_A"
wait "$HUNG_PID"
check "ldap: the hung lookup completes once slapd goes on" grep -q "^PASS ljane" "$WORK/hung.out"

stop_pid "$SLAPD_A"
SLAPD_A=""
ldap_logon lbob=STATUS_NO_LOGON_SERVERS
stats_json "$WORK/l3.json"
up=$(figure "$WORK/l3.json" server_up "$URI_A")
detail=$("$PY" -B "$DRIVER" store-detail "$WORK/l3.json" server_last_error "$URI_A")
retry=$(figure "$WORK/l3.json" server_retry_seconds "$URI_A")
echo "ldap server $URI_A after slapd stopped: up=$up retry=${retry}s error='$detail'"
check "ldap: slapd stopped: the server is down" [ "$up" = 0 ]
check "ldap: slapd stopped: its last error is named" [ -n "$detail" ]
check "ldap: slapd stopped: a retry time within reconnect_retrytime" [ "$retry" -gt 0 -a "$retry" -le 30 ]
"$NTLMTOOL" stats --socket "$SOCKET" --prometheus >"$WORK/l3.prom"
check "ldap: --prometheus reports the server down" grep -q "^ntlmd_store_server_up{store=\"ldap\",server=\"$URI_A\"} 0$" "$WORK/l3.prom"
check "ldap: --prometheus names its last error" grep -q "^ntlmd_store_server_last_error{store=\"ldap\",server=\"$URI_A\",detail=\"$detail\"} 1$" "$WORK/l3.prom"
out=$("$NTLMTOOL" stats --socket "$SOCKET" 2>&1)
check "ldap: the text form has a line per server figure" has_text "$out" "ldap $URI_A server_up: 0"
check "ldap: ... with the last error" has_text "$out" "ldap $URI_A server_last_error: 1 ($detail)"
"$PY" -B "$DRIVER" prometheus "$WORK/l3.prom" "$WORK/l3.json" >"$WORK/l3.check" 2>&1
check "ldap: --prometheus parses strictly" grep -q "^PASS the text parses strictly" "$WORK/l3.check"
stop_ntlmd

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
