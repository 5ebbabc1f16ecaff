#!/bin/sh
# test-abuse-ntlmd.sh: named attacks against a real ntlmd, where the daemon
# matters: drop-the-MIC, replay on a new challenge, anonymous and an
# oversized AUTHENTICATE through the default service, and a flood of idle
# connections from an unprivileged user (nobody, through setpriv) while a
# privileged caller (root) keeps authenticating: every one of its requests
# must be answered within BOUND_MS; and the reverse, where root holds every
# slot and nobody's connection must not cut one of root's short.
# Then the challenge table's limits, on a second ntlmd with max_challenges
# 2000 that allows nobody: nobody asking for challenges it never answers is
# stopped at max_pending_challenges_per_uid (a tenth: 200) while root still
# logs on; challenges the caller built fill the table, after which every
# new one is refused with STATUS_INSUFFICIENT_RESOURCES (ntlm_auth: BH
# NT_STATUS_INSUFFICIENT_RESOURCES), each limit logged once. And a late
# replay, on a third ntlmd (challenge_lifetime 1, max_clock_skew 5): a used
# challenge is still refused after lifetime + skew, while the acceptor
# would take the response's timestamp, until 2 * skew.
#
# Run by "make check" (tests/Makefile.am sets NTLMD), or by hand:
#   NTLMD=build/ntlmd/ntlmd tests/harden/test-abuse-ntlmd.sh
# One line per case, then "N passed, M failed"; exit 1 on any failure,
# 77 (skip) when a prerequisite is missing outside CI, 99 on a hard error.
set -u

PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
DRIVER=$HERE/abuse_driver.py
WAIT=10 # seconds: bound of every wait

MAX_CONNECTIONS=32
READ_TIMEOUT_MS=3000
FLOOD_SECONDS=8
FLOOD_CONNECTIONS=$((MAX_CONNECTIONS * 2))
BOUND_MS=500 # the latency target of a privileged request under the flood

# shellcheck source=tests/testlib.sh
. "$HERE/../testlib.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"
WORK=""
DAEMON_PID=""
FLOOD_PID=""
LIMITS_PID=""
LATE_PID=""


cleanup() {
    for pid in $FLOOD_PID $DAEMON_PID $LIMITS_PID $LATE_PID; do
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
ntlmd_hashes "$HASHES" || exit 99

# The default service only: every attack meets the default policy.
ntlmd_conf "$SOCKET" "$HASHES" >"$CONF" <<EOF2
read_timeout      $READ_TIMEOUT_MS
max_connections   $MAX_CONNECTIONS
lockout_threshold 0
EOF2

if ntlmd_start "$CONF" "$LOG" "$SOCKET"; then
    DAEMON_PID=$NTLMD_PID
else
    fail "ntlmd did not start"
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

# ------------------------------------------------------------------ limits

MAX_CHALLENGES=2000
MAX_PENDING=$((MAX_CHALLENGES / 10)) # the default of max_pending_challenges_per_uid
SOCKET2=$WORK/run2/socket
LOG2=$WORK/ntlmd-limits.log
AUDIT2=$WORK/audit-limits.json
ntlmd_conf "$SOCKET2" "$HASHES" >"$WORK/limits.conf" <<EOF2
audit_json        $AUDIT2
allow_users       nobody
max_challenges    $MAX_CHALLENGES
lockout_threshold 0
EOF2
if ntlmd_start "$WORK/limits.conf" "$LOG2" "$SOCKET2"; then
    LIMITS_PID=$NTLMD_PID
    driver setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$PY" -B "$DRIVER" pending-flood --socket "$SOCKET2" --granted "$MAX_PENDING" --extra 50
    # held: nobody's unused challenges and root's one exchange
    driver "$PY" -B "$DRIVER" fill-table --socket "$SOCKET2" --max "$MAX_CHALLENGES" \
        --held $((MAX_PENDING + 1))
    n=$(grep -c "challenge refused to uid=$NOBODY_UID: it holds $MAX_PENDING unused challenges (max_pending_challenges_per_uid)" "$LOG2")
    if [ "$n" -eq 1 ]; then
        pass "nobody's 51 refusals at its cap logged once, with its uid and the limit"
    else
        fail "$n log lines for nobody's cap: $(grep 'challenge refused' "$LOG2")"
    fi
    n=$(grep -c "challenge refused to uid=0: the challenge table holds $MAX_CHALLENGES challenges (max_challenges $MAX_CHALLENGES)" "$LOG2")
    if [ "$n" -eq 1 ]; then
        pass "the full table logged once, with the uid and the limit"
    else
        fail "$n log lines for the full table: $(grep 'challenge refused' "$LOG2")"
    fi
    if grep -q '"detail":"challenge refused: max_pending_challenges_per_uid reached"' "$AUDIT2" &&
        grep -q '"detail":"challenge refused: max_challenges reached"' "$AUDIT2"; then
        pass "the audit records say which limit refused"
    else
        fail "no audit record names the limit: $(grep -c refused "$AUDIT2")"
    fi
    if [ -n "${NTLM_AUTH:-}" ] && [ -x "$NTLM_AUTH" ]; then
        negotiate=$("$PY" -c 'import base64, ntlm_auth.ntlm as n; print(base64.b64encode(n.NtlmContext("u", "p").step()).decode())')
        reply=$(echo "YR $negotiate" | "$NTLM_AUTH" --helper-protocol=squid-2.5-ntlmssp --ntlmd-socket="$SOCKET2" 2>/dev/null)
        if [ "$reply" = "BH NT_STATUS_INSUFFICIENT_RESOURCES NT_STATUS_INSUFFICIENT_RESOURCES" ]; then
            pass "ntlm_auth (squid-2.5-ntlmssp) answers a full table with BH NT_STATUS_INSUFFICIENT_RESOURCES"
        else
            fail "ntlm_auth's answer to a full table: '$reply'"
        fi
    fi
    if kill -0 "$LIMITS_PID" 2>/dev/null; then
        pass "ntlmd survived its full table"
    else
        fail "ntlmd died with its table full"
    fi
else
    fail "ntlmd (limits) did not start"
fi

# ------------------------------------------------------------------ late replay

SKEW=5 # more than 3: room between lifetime + skew (+1 s rounding) and 2 * skew
SOCKET3=$WORK/run3/socket
LOG3=$WORK/ntlmd-late.log
ntlmd_conf "$SOCKET3" "$HASHES" >"$WORK/late.conf" <<EOF2
challenge_lifetime 1
lockout_threshold  0

service skew
max_clock_skew     $SKEW
EOF2
if ntlmd_start "$WORK/late.conf" "$LOG3" "$SOCKET3"; then
    LATE_PID=$NTLMD_PID
    driver "$PY" -B "$DRIVER" late-replay --socket "$SOCKET3" --service skew --skew "$SKEW"
else
    fail "ntlmd (late replay) did not start"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
