# shellcheck shell=sh
# common.sh: shared functions of the interop tests (sourced, not run).
#
# The tests run from "make check" (tests/Makefile.am sets TEST_ACCEPTOR and
# INTEROP_DIR) or by hand:
#   TEST_ACCEPTOR=build/tests/interop/ntlm-test-acceptor tests/interop/test-impacket.sh
#
# Exit statuses follow the Automake test protocol: 0 pass, 1 fail, 77 skip,
# 99 hard error. A missing client is a skip on a developer machine and a
# failure in CI ($CI set), so CI can never pass by skipping everything.

# Debian's python3, which sees the Debian packages (python3-impacket,
# python3-ntlm-auth, python3-pycryptodome); another python3 may come first in PATH.
PY=/usr/bin/python3

# Scripts of this directory.
INTEROP_DIR=${INTEROP_DIR:-$(cd "$(dirname "$0")" && pwd)}

# Every bounded wait lasts at most this many seconds.
INTEROP_TIMEOUT=10

# Background processes to stop on exit (space-separated pids).
BG_PIDS=""
WORK_DIR=""

interop_cleanup() {
    for pid in $BG_PIDS; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $BG_PIDS; do
        wait "$pid" 2>/dev/null || true
    done
    BG_PIDS=""
    if [ -n "$WORK_DIR" ] && [ -d "$WORK_DIR" ]; then
        rm -rf "$WORK_DIR"
    fi
}

# Reports a missing prerequisite: skip (77) normally, fail (1) in CI.
missing() {
    if [ -n "${CI:-}" ]; then
        echo "FAIL: $1 is missing; CI must run every interop test" >&2
        exit 1
    fi
    echo "SKIP: $1 is missing" >&2
    exit 77
}

require_command() {
    command -v "$1" >/dev/null 2>&1 || missing "${2:-the command $1}"
}

require_python_module() {
    [ -x "$PY" ] || missing "$PY"
    "$PY" -c "import $1" >/dev/null 2>&1 || missing "${2:-the Python module $1}"
}

# Sets ACCEPTOR to the acceptor program; hard error when it was not built.
find_acceptor() {
    ACCEPTOR=${TEST_ACCEPTOR:-}
    if [ -z "$ACCEPTOR" ] && [ -n "${top_builddir:-}" ]; then
        ACCEPTOR=$top_builddir/tests/interop/ntlm-test-acceptor
    fi
    if [ -z "$ACCEPTOR" ] || [ ! -x "$ACCEPTOR" ]; then
        echo "ERROR: ntlm-test-acceptor not found (set TEST_ACCEPTOR; run 'make check')" >&2
        exit 99
    fi
}

# Creates WORK_DIR, removed (with every background process) on exit.
make_work_dir() {
    trap interop_cleanup EXIT
    trap 'exit 1' HUP INT TERM
    WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ntlm-interop.XXXXXX")
}

# Writes the test accounts (alice good, bob disabled) as an smbpasswd file.
# The hashes are computed and written by Python: they never appear on a
# command line.
make_hash_file() {
    "$PY" -B "$INTEROP_DIR/clients.py" write-hashes "$1"
}

# Waits (at most INTEROP_TIMEOUT seconds) until file $1 is not empty, while
# process $2 runs.
wait_for_file() {
    tries=$((INTEROP_TIMEOUT * 10))
    while [ ! -s "$1" ]; do
        if ! kill -0 "$2" 2>/dev/null; then
            echo "ERROR: process $2 exited before writing $1" >&2
            return 1
        fi
        tries=$((tries - 1))
        if [ "$tries" -le 0 ]; then
            echo "ERROR: $1 not written within $INTEROP_TIMEOUT s" >&2
            return 1
        fi
        sleep 0.1
    done
}

# Everything a test needs: the acceptor, Python with pycryptodome, a work
# dir and HASHES, the smbpasswd file of the test accounts.
interop_setup() {
    find_acceptor
    require_python_module Cryptodome python3-pycryptodome
    make_work_dir
    HASHES=$WORK_DIR/smbpasswd
    make_hash_file "$HASHES"
}

# Runs clients.py for one client against the acceptor.
run_clients() {
    "$PY" -B "$INTEROP_DIR/clients.py" "$1" --acceptor "$ACCEPTOR" --hashes "$HASHES"
}
