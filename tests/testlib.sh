# shellcheck shell=sh
# testlib.sh: the counting every shell test shares (POSIX sh). A test
# sources it, calls pass/fail once per case, and ends with the line
# "N passed, M failed" that scripts/run-tests.sh adds up.
#
# It also says where the shared set-ups are: TESTS_LIB, tests/lib of the
# source tree (ntlmd.sh, slapd.sh, squid.sh and the Python protocol
# libraries, tests/lib/README.md), and PYTHONPATH, which holds tests/lib and
# tests/interop so that every Python driver imports ntlmd_driver, ldap_driver
# and clients by name. make check sets both (tests/Makefile.am); a test run
# by hand gets them from its HERE (its own folder, one below tests/) when
# the caller defines it before sourcing this file.
if [ -z "${TESTS_LIB:-}" ] && [ -n "${HERE:-}" ] && [ -d "$HERE/../lib" ]; then
    TESTS_LIB=$(cd "$HERE/../lib" && pwd)
fi
if [ -n "${TESTS_LIB:-}" ]; then
    case ":${PYTHONPATH:-}:" in
    *":$TESTS_LIB:"*) ;;
    *) PYTHONPATH=$TESTS_LIB:$(cd "$TESTS_LIB/../interop" && pwd)${PYTHONPATH:+:$PYTHONPATH} ;;
    esac
    export TESTS_LIB PYTHONPATH
fi

PASSED=0
FAILED=0

pass() {
    printf 'PASS %s\n' "$1"
    PASSED=$((PASSED + 1))
}

fail() {
    printf 'FAIL %s\n' "$1"
    FAILED=$((FAILED + 1))
}

# check NAME COMMAND...: one case from a command's status (pass when it
# succeeds). COMMAND runs in this shell: a function it names may set
# variables.
check() {
    name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

# remove_work: removes the test's private directory $WORK, unless
# KEEP_WORK is set (to read what a failed run left); for a cleanup trap.
remove_work() {
    if [ -n "${WORK:-}" ] && [ -d "$WORK" ] && [ -z "${KEEP_WORK:-}" ]; then
        rm -rf "$WORK"
    fi
}

# stop_pid PID: stops process PID (TERM, then KILL after ${WAIT:-10} s) and
# reaps it; nothing when PID is empty.
stop_pid() {
    [ -n "$1" ] || return 0
    kill "$1" 2>/dev/null
    tries=$((${WAIT:-10} * 10))
    while kill -0 "$1" 2>/dev/null && [ "$tries" -gt 0 ]; do
        tries=$((tries - 1))
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

# The shipped files (etc/*.in) as "make install" installs them: generated
# with this build's directories into $SHIPPED_DIR, the build tree's etc/
# (tests/Makefile.am). A test uses them as they are; it may substitute only
# what etc/README.md lists (the installed helper's path, which becomes the
# built one with the test's socket; the audit file's path; ports).
shipped() {
    if [ -z "${SHIPPED_DIR:-}" ] || [ ! -f "$SHIPPED_DIR/$1" ]; then
        echo "ERROR: no shipped $1 in SHIPPED_DIR=${SHIPPED_DIR:-} (make check sets it)" >&2
        exit 99
    fi
    printf '%s\n' "$SHIPPED_DIR/$1"
}

# A prerequisite that is missing: a skip (77) on a developer's machine, a
# failure in CI, which must run every test.
skip_or_fail() {
    if [ -n "${CI:-}" ]; then
        echo "FAIL: $1 is missing; CI must run this test" >&2
        exit 1
    fi
    echo "SKIP: $1 is missing" >&2
    exit 77
}

# require_built VAR...: each VAR names a built program (make check sets
# them: tests/Makefile.am); a hard error (99) otherwise.
require_built() {
    for v in "$@"; do
        eval "bin=\${$v:-}"
        if [ -z "$bin" ] || [ ! -x "$bin" ]; then
            echo "ERROR: set $v to the built program (make check does)" >&2
            exit 99
        fi
    done
}

# require_python MODULE...: the test's Python, $PY, with each MODULE
# importable, or skip_or_fail.
require_python() {
    [ -x "$PY" ] || skip_or_fail "$PY"
    for m in "$@"; do
        "$PY" -c "import $m" 2>/dev/null || skip_or_fail "the Python module $m"
    done
}

# free_ports COUNT: prints a port P of 127.0.0.1 such that P .. P+COUNT-1
# are all free for TCP and UDP now, searched from a random start in
# 20000-29999 (outside Linux's ephemeral range, 32768-60999), so that two
# suites running at once on one machine do not take each other's ports.
free_ports() {
    python3 - "$1" <<'PY'
import random, socket, sys
count = int(sys.argv[1])
def free(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True
start = random.randrange(20000, 30000 - count)
for i in range(10000 // count):
    base = 20000 + (start - 20000 + i * count) % (10000 - count)
    if all(free(base + k) for k in range(count)):
        print(base)
        sys.exit(0)
sys.exit("no free ports in 20000-29999")
PY
}

# run_counted SECONDS COMMAND...: runs a driver that prints PASS/FAIL lines
# and its own "N passed, M failed", bounded in time; shows its case lines
# and adds its counts to this test's. A driver that fails without a FAIL
# line counts as one failure.
run_counted() {
    # TEST_TIMEOUT_SCALE (an integer, default 1) stretches every driver's
    # limit: run-valgrind.sh sets it, valgrind runs each program 10-50x slower
    limit=$(($1 * ${TEST_TIMEOUT_SCALE:-1}))
    shift
    out=$(timeout "$limit" "$@" 2>&1)
    rc=$?
    printf '%s\n' "$out" | grep -v '^[0-9]* passed, [0-9]* failed$'
    p=$(printf '%s\n' "$out" | grep -c '^PASS ')
    f=$(printf '%s\n' "$out" | grep -c '^FAIL ')
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        fail "a driver run exited with status $rc: $(printf '%s\n' "$out" | tail -n 3)"
    fi
}
