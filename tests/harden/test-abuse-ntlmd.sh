#!/bin/sh
# test-abuse-ntlmd.sh: named attacks against a real ntlmd, where the daemon
# matters: drop-the-MIC, replay on a new challenge, anonymous and an
# oversized AUTHENTICATE through the default service, and a flood of idle
# connections from an unprivileged user (nobody, through setpriv) while a
# privileged caller (root) keeps authenticating: every one of its requests
# must be answered within BOUND_MS; and the reverse, where root holds every
# slot and nobody's connection must not cut one of root's short.
#
# Run by "make check" (tests/Makefile.am sets NTLMD), or by hand:
#   NTLMD=build/ntlmd/ntlmd tests/harden/test-abuse-ntlmd.sh
# One line per case, then "N passed, M failed"; exit 1 on any failure,
# 77 (skip) when a prerequisite is missing outside CI, 99 on a hard error.
set -u

PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
DRIVER=$HERE/abuse_driver.py
NTLMD_DRIVER=$HERE/../ntlmd/ntlmd_driver.py
INTEROP_DIR=${INTEROP_DIR:-$HERE/../interop}
export INTEROP_DIR
WAIT=10 # seconds: bound of every wait

MAX_CONNECTIONS=32
READ_TIMEOUT_MS=3000
FLOOD_SECONDS=8
FLOOD_CONNECTIONS=$((MAX_CONNECTIONS * 2))
BOUND_MS=500 # the latency target of a privileged request under the flood

# shellcheck source=tests/testlib.sh
. "$HERE/../testlib.sh"
WORK=""
DAEMON_PID=""
FLOOD_PID=""


cleanup() {
    for pid in $FLOOD_PID $DAEMON_PID; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        rm -rf "$WORK"
    fi
}

# Runs a driver (with a time limit), prints its case lines and adds its counts.
driver() { run_counted 300 "$@"; }

if [ -z "${NTLMD:-}" ] || [ ! -x "$NTLMD" ]; then
    echo "ERROR: set NTLMD to the ntlmd binary (make check does)" >&2
    exit 99
fi
[ -x "$PY" ] || skip_or_fail "$PY"
"$PY" -c "import ntlm_auth" 2>/dev/null || skip_or_fail "the Python module ntlm_auth"
command -v setpriv >/dev/null 2>&1 || skip_or_fail "setpriv"
[ "$(id -u)" -eq 0 ] || skip_or_fail "root (the flood runs as nobody)"

trap cleanup EXIT
trap 'exit 1' HUP INT TERM
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ntlmd-abuse.XXXXXX") || exit 99
chmod 0755 "$WORK" # nobody must reach the socket; the hash file stays 0600
SOCKET=$WORK/run/socket
HASHES=$WORK/smbpasswd
CONF=$WORK/ntlmd.conf
LOG=$WORK/ntlmd.log
"$PY" -B "$NTLMD_DRIVER" write-hashes "$HASHES" || exit 99

# The default service only: every attack meets the default policy.
cat >"$CONF" <<EOF2
socket            $SOCKET
hash_file         $HASHES
backends          files
netbios_name      TESTSRV
netbios_domain    TESTDOM
read_timeout      $READ_TIMEOUT_MS
max_connections   $MAX_CONNECTIONS
lockout_threshold 0
EOF2

"$NTLMD" -d -f "$CONF" 2>"$LOG" &
DAEMON_PID=$!
tries=$((WAIT * 10))
while [ ! -S "$SOCKET" ] && [ "$tries" -gt 0 ] && kill -0 "$DAEMON_PID" 2>/dev/null; do
    tries=$((tries - 1))
    sleep 0.1
done
if [ ! -S "$SOCKET" ]; then
    fail "ntlmd did not start: $(cat "$LOG")"
    echo "$PASSED passed, $FAILED failed"
    exit 1
fi

driver "$PY" -B "$DRIVER" cases --socket "$SOCKET"

# The flood: nobody holds twice max_connections idle connections, reopening
# each one as soon as ntlmd closes it; root authenticates meanwhile.
REPORT=$WORK/flood.report
touch "$REPORT"
chown nobody "$REPORT"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$PY" -B "$DRIVER" flood --socket "$SOCKET" --seconds "$FLOOD_SECONDS" \
    --connections "$FLOOD_CONNECTIONS" --report "$REPORT" &
FLOOD_PID=$!
sleep 1 # the flood fills every slot first
driver "$PY" -B "$DRIVER" privileged --socket "$SOCKET" --seconds $((FLOOD_SECONDS - 3)) --bound-ms "$BOUND_MS"
wait "$FLOOD_PID"
FLOOD_PID=""
read -r _ opened _ closed <"$REPORT" || opened=0
if [ "${opened:-0}" -gt "$MAX_CONNECTIONS" ] && [ "${closed:-0}" -gt 0 ]; then
    pass "the flood from nobody ran ($opened connections opened, $closed closed by ntlmd)"
else
    fail "the flood from nobody did not run: $(cat "$REPORT")"
fi
NOBODY_UID=$(id -u nobody)
if grep -q "uid=$NOBODY_UID pid=[0-9]* closed" "$LOG"; then
    pass "the flood's closed connections are logged with nobody's uid"
else
    fail "no log line for the flood of uid $NOBODY_UID"
fi
if kill -0 "$DAEMON_PID" 2>/dev/null; then
    pass "ntlmd survived the flood"
else
    fail "ntlmd died during the flood"
fi

# The other way round: root holds every slot (a privileged load); an
# unprivileged caller is refused and cuts none of root's connections short.
HOLD_REPORT=$WORK/hold.report
"$PY" -B "$DRIVER" hold --socket "$SOCKET" --seconds 2 --connections "$MAX_CONNECTIONS" \
    --report "$HOLD_REPORT" &
HOLD_PID=$!
sleep 0.5
driver setpriv --reuid=nobody --regid=nogroup --clear-groups "$PY" -B "$DRIVER" probe --socket "$SOCKET"
wait "$HOLD_PID"
if [ "$(cat "$HOLD_REPORT" 2>/dev/null)" = "held $MAX_CONNECTIONS closed 0" ]; then
    pass "an unprivileged caller cut none of root's $MAX_CONNECTIONS connections short"
else
    fail "root's connections while nobody knocked: $(cat "$HOLD_REPORT" 2>/dev/null)"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
