#!/bin/bash
# Builds pam_ntlm out of tree and runs the whole test suite: the unit tests,
# the interop tests against independent NTLM clients, then "make distcheck".
# Extra arguments go to configure, e.g. --enable-werror or --enable-sanitizers.
# --no-distcheck skips the distcheck pass.
# Usage: scripts/run-tests.sh [--no-distcheck] [CONFIGURE-OPTION...]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

distcheck=yes
flags=""
for arg in "$@"; do
	case "$arg" in
	--no-distcheck) distcheck=no ;;
	*) flags="$flags $arg" ;;
	esac
done

"$top/scripts/install-deps.sh"
if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ]; then
	(cd "$top" && ./autogen.sh >/dev/null 2>&1) || { echo "run-tests: autogen.sh failed" >&2; exit 1; }
fi

# one build directory per configuration, so plain and sanitizer builds coexist
name=$(printf '%s' "$flags" | tr -c 'a-zA-Z0-9\n' '_' | sed 's/^_*//')
build="$top/build/check${name:+-$name}"
mkdir -p "$build"
cd "$build"
# each run has its own temporary directory, recorded for "make secret-sweep":
# it sweeps what this run's tests left behind, never another run's files
# (mode 1777 as /tmp: tests drop to nobody and reach their files there)
TMPDIR=$(mktemp -d /tmp/pam-ntlm-run.XXXXXX)
chmod 1777 "$TMPDIR"
export TMPDIR
printf '%s\n' "$TMPDIR" >"$build/test-tmpdir"
# shellcheck disable=SC2086
"$top/configure" --quiet $flags
make -j"$(nproc)" --silent

status=0
make -j"$(nproc)" check || status=$?
if [ "$status" -ne 0 ]; then
	# show what failed, then stop
	find tests -name '*.log' ! -name test-suite.log -exec grep -l -E '^(FAIL|ERROR)' {} + 2>/dev/null |
		while read -r f; do echo "==== $f"; tail -n 60 "$f"; done
	tail -n 80 tests/test-suite.log 2>/dev/null || true
	exit "$status"
fi

if [ "$distcheck" = yes ]; then
	# shellcheck disable=SC2086
	make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS="$flags" >distcheck.log 2>&1 || {
		tail -n 80 distcheck.log
		echo "run-tests: make distcheck failed (log: $build/distcheck.log)" >&2
		exit 1
	}
	grep -E '^=+$|archives ready|ready for distribution' distcheck.log | tail -n 3
fi
# the plain closing line: every check and interop case, from the test logs
# (check prints "Checks: N, Failures: F, Errors: E"; the drivers "N passed, M failed")
find tests -name '*.log' ! -name test-suite.log -exec cat {} + 2>/dev/null | awk '
	/Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
		gsub(/[,%]/, " "); for (i = 1; i < NF; i++) {
			if ($i == "Checks:") c = $(i + 1); if ($i == "Failures:") f = $(i + 1); if ($i == "Errors:") e = $(i + 1) }
		pass += c - f - e; fail += f + e }
	/^[0-9]+ passed, [0-9]+ failed$/ { pass += $1; fail += $3 }
	END { printf "run-tests: %d checks\n%d passed, %d failed\n", pass + fail, pass, fail }'
echo "run-tests: all tests passed ($flags )"
