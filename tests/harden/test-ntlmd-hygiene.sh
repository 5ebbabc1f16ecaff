#!/bin/sh
# test-ntlmd-hygiene.sh: ntlmd holds NT hashes, so it must not be dumpable
# and must have core dumps off. Checked from /proc on a running ntlmd: as
# root, and after its privilege drop to nobody (where a dumpable process
# would own its /proc files and nobody could read its memory and
# environment).
#
# Run by "make check" (tests/Makefile.am sets NTLMD), or by hand:
#   NTLMD=build/ntlmd/ntlmd tests/harden/test-ntlmd-hygiene.sh
# One line per case, then "N passed, M failed"; exit 1 on any failure,
# 77 (skip) when a prerequisite is missing outside CI, 99 on a hard error.
set -u

PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
WAIT=10

# shellcheck source=tests/testlib.sh
. "$HERE/../testlib.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"
WORK=""
DAEMON_PID=""


stop_daemon() {
    stop_pid "$DAEMON_PID"
    DAEMON_PID=""
}

cleanup() {
    stop_daemon
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        rm -rf "$WORK"
    fi
}

# Starts ntlmd with configuration $1 (tests/lib/ntlmd.sh); false when it
# does not answer on its socket $2.
start_daemon() {
    ntlmd_start "$1" "$WORK/ntlmd.log" "$2" || return 1
    DAEMON_PID=$NTLMD_PID
}

# The core file size limits (soft and hard) of process $1, "0 0" when off.
core_limits() {
    awk '/^Max core file size/ { print $5, $6 }' "/proc/$1/limits"
}

if [ -z "${NTLMD:-}" ] || [ ! -x "$NTLMD" ]; then
    echo "ERROR: set NTLMD to the ntlmd binary (make check does)" >&2
    exit 99
fi
[ -x "$PY" ] || skip_or_fail "$PY"
command -v setpriv >/dev/null 2>&1 || skip_or_fail "setpriv"
[ "$(id -u)" -eq 0 ] || skip_or_fail "root (ntlmd drops to nobody)"

trap cleanup EXIT
trap 'exit 1' HUP INT TERM
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ntlmd-hygiene.XXXXXX") || exit 99
chmod 0755 "$WORK"
ntlmd_hashes "$WORK/smbpasswd" || exit 99

base_conf() {
    echo "lockout_threshold 0" | ntlmd_conf "$1" "$2"
}

# ------------------------------------------------------------------ as root
base_conf "$WORK/run/socket" "$WORK/smbpasswd" >"$WORK/root.conf"
if start_daemon "$WORK/root.conf" "$WORK/run/socket"; then
    limits=$(core_limits "$DAEMON_PID")
    if [ "$limits" = "0 0" ]; then
        pass "as root: core dumps off (Max core file size 0, soft and hard)"
    else
        fail "as root: Max core file size is '$limits'"
    fi
    nnp=$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$DAEMON_PID/status")
    if [ "$nnp" = 1 ]; then
        pass "as root: no_new_privs set"
    else
        fail "as root: NoNewPrivs is '$nnp'"
    fi
else
    fail "as root: ntlmd did not start"
fi
stop_daemon

# ------------------------------------------------------------------ after the drop
DROP=$WORK/drop
mkdir "$DROP"
chmod 0755 "$DROP"
cp "$WORK/smbpasswd" "$DROP/smbpasswd"
chown nobody:nogroup "$DROP/smbpasswd"
chmod 0600 "$DROP/smbpasswd"
{
    base_conf "$DROP/run/socket" "$DROP/smbpasswd"
    echo "user              nobody"
    echo "group             nogroup"
} >"$DROP/ntlmd.conf"
NOBODY=$(id -u nobody)
if start_daemon "$DROP/ntlmd.conf" "$DROP/run/socket"; then
    # the socket listens just before the drop: wait (bounded) for the drop
    tries=$((WAIT * 10))
    while :; do
        uid=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$DAEMON_PID/status")
        [ "$uid" != "0 0 0 0" ] || [ "$tries" -le 0 ] && break
        tries=$((tries - 1))
        sleep 0.1
    done
    if [ "$uid" = "$NOBODY $NOBODY $NOBODY $NOBODY" ]; then
        pass "after the drop: ntlmd runs as nobody"
    else
        fail "after the drop: Uid is '$uid'"
    fi
    # A process that is not dumpable has its /proc files owned by root.
    owner=$(stat -c %u "/proc/$DAEMON_PID/environ")
    if [ "$owner" = 0 ]; then
        pass "after the drop: not dumpable (/proc/PID/environ owned by root, not nobody)"
    else
        fail "after the drop: /proc/PID/environ owned by uid $owner: the process is dumpable"
    fi
    if setpriv --reuid=nobody --regid=nogroup --clear-groups cat "/proc/$DAEMON_PID/environ" >/dev/null 2>&1; then
        fail "after the drop: nobody can read ntlmd's environment"
    else
        pass "after the drop: nobody cannot read ntlmd's environment"
    fi
    if setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$PY" -c "import sys; open('/proc/$DAEMON_PID/mem', 'rb').close()" 2>/dev/null; then
        fail "after the drop: nobody can open ntlmd's memory"
    else
        pass "after the drop: nobody cannot open ntlmd's memory"
    fi
    limits=$(core_limits "$DAEMON_PID")
    if [ "$limits" = "0 0" ]; then
        pass "after the drop: core dumps off"
    else
        fail "after the drop: Max core file size is '$limits'"
    fi
else
    fail "after the drop: ntlmd did not start"
fi
stop_daemon

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
