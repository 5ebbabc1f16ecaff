#!/bin/sh
# test-ct.sh: the constant-time check (ctgrind style). Runs ct_verify under
# valgrind memcheck with --error-exitcode=1: the NT hash from the account
# store, proofs and MICs are marked undefined, so a branch or a memory index
# on them anywhere in the verify path fails the run. Two self-checks must
# fail: an early-exit compare and a table lookup on secret data, both caught.
#
# Run by "make check" (tests/harden.am sets CT_VERIFY), or by hand:
#   CT_VERIFY=build/tests/harden/ct_verify tests/harden/test-ct.sh
# Exit 77 when valgrind is absent, or when the build is instrumented with
# the sanitizers (valgrind cannot run AddressSanitizer binaries).
set -u

CT_VERIFY=${CT_VERIFY:?set CT_VERIFY to the ct_verify program}
PASSED=0
FAILED=0
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

if ! command -v valgrind >/dev/null 2>&1; then
    echo "SKIP: valgrind is missing" >&2
    exit 77
fi
case "${SANITIZER_CFLAGS:-}" in
*-fsanitize*)
    echo "SKIP: a sanitizer build; valgrind cannot run it" >&2
    exit 77
    ;;
esac

# memcheck only: leaks belong to scripts/run-valgrind.sh
run() {
    valgrind -q --error-exitcode=1 --leak-check=no --track-origins=yes "$CT_VERIFY" "$@" >"$LOG" 2>&1
}

pass() {
    echo "PASS $1"
    PASSED=$((PASSED + 1))
}

fail() {
    echo "FAIL $1"
    sed 's/^/    /' "$LOG"
    FAILED=$((FAILED + 1))
}

# 1. the library: ntlm_equal_ct and the verify path, no secret-dependent
#    branch or index (valgrind exit 0, and the program's own checks pass)
run
rc=$?
if [ "$rc" -eq 0 ] && grep -q ', 0 failures$' "$LOG"; then
    pass "constant-time: $(grep 'ntlm_equal_ct calls' "$LOG" | sed 's/^ct_verify: //')"
else
    fail "constant-time: verify path (exit $rc)"
fi

# 2. self-check: an early-exit compare on secret data is reported
run --leaky
rc=$?
if [ "$rc" -eq 1 ] && grep -q 'Conditional jump or move depends on uninitialised value' "$LOG" &&
    grep -q 'leaky_equal' "$LOG"; then
    pass "self-check: a variable-time compare on a secret is detected"
else
    fail "self-check: a variable-time compare on a secret went unnoticed (exit $rc)"
fi

# 3. self-check: a table indexed by a secret byte is reported
run --lookup
rc=$?
if [ "$rc" -eq 1 ] && grep -q 'Use of uninitialised value of size' "$LOG"; then
    pass "self-check: a secret-indexed table lookup is detected"
else
    fail "self-check: a secret-indexed table lookup went unnoticed (exit $rc)"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
