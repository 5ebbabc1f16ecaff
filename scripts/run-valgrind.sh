#!/bin/bash
# run-valgrind.sh: valgrind memcheck over the check programs and ntlmd.
# Builds a plain configuration (no sanitizers) in build/valgrind, then runs
#  - every unit test and harden/test_abuse (in-process: CK_FORK=no) and every
#    fuzz replay over its seed corpus, under valgrind;
#  - the ntlmd integration tests (tests/ntlmd/test-ntlmd.sh, test-demo.sh)
#    with NTLMD pointing at a wrapper that starts ntlmd under valgrind;
# all with --leak-check=full --errors-for-leak-kinds=definite
# --error-exitcode=1. Any memcheck error or definite leak fails the run.
# Extra arguments go to configure.
# Usage: scripts/run-valgrind.sh [CONFIGURE-OPTION...]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build/valgrind
VG_FLAGS="--leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 --track-origins=yes --num-callers=30"

command -v valgrind >/dev/null 2>&1 || {
	echo "run-valgrind: valgrind is missing (scripts/install-deps.sh installs it)" >&2
	exit 1
}
if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ]; then
	(cd "$top" && ./autogen.sh >/dev/null 2>&1) || {
		echo "run-valgrind: autogen.sh failed" >&2
		exit 1
	}
fi
mkdir -p "$build"
cd "$build" || exit 1
# shellcheck disable=SC2068
"$top/configure" --quiet $@ || exit 1
make -j"$(nproc)" --silent || exit 1
make -j"$(nproc)" --silent -C tests check TESTS= >/dev/null || exit 1 # the check programs only

logs=$build/valgrind-logs
rm -rf "$logs"
mkdir -p "$logs"
status=0
note() {
	printf '%s\n' "$*"
}

# Every memcheck log of the run: no error, no definite leak.
check_logs() {
	bad=$(grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' "$logs"/*.log 2>/dev/null)
	if [ -n "$bad" ]; then
		for f in $bad; do
			note "==== $f"
			cat "$f"
		done
		return 1
	fi
}

# 1. The check programs, one valgrind run each (libtool runs the real binary).
# shellcheck disable=SC2016 # $(UNIT_TESTS) is make's, not the shell's
unit_tests=$(printf 'print:\n\t@echo $(UNIT_TESTS)\n' | make -s -C tests -f Makefile -f - print)
passed=0
failed=0
for t in $unit_tests harden/test_abuse; do
	# shellcheck disable=SC2086
	if CK_FORK=no ./libtool --mode=execute valgrind $VG_FLAGS --log-file="$logs/$(echo "$t" | tr / _).log" \
		"tests/$t" >"$logs/$(echo "$t" | tr / _).out" 2>&1; then
		note "ok   $t"
		passed=$((passed + 1))
	else
		note "FAIL $t (output: $logs/$(echo "$t" | tr / _).out)"
		failed=$((failed + 1))
	fi
done
for prog in tests/fuzz/replay_*; do
	[ -x "$prog" ] || continue
	name=${prog#tests/fuzz/replay_}
	# shellcheck disable=SC2086
	if ./libtool --mode=execute valgrind $VG_FLAGS --log-file="$logs/replay_$name.log" \
		"$prog" "$top/tests/fuzz/corpus/$name" >"$logs/replay_$name.out" 2>&1; then
		note "ok   fuzz replay $name"
		passed=$((passed + 1))
	else
		note "FAIL fuzz replay $name (output: $logs/replay_$name.out)"
		failed=$((failed + 1))
	fi
done

# 2. ntlmd under valgrind through its integration tests. The wrapper keeps
#    the daemon's own exit status meaningful: valgrind's is 1 on an error.
#    ntlmd/ntlmd is a libtool script: libtool runs valgrind on the binary.
wrapper=$build/ntlmd-valgrind
cat >"$wrapper" <<EOF
#!/bin/sh
exec "$build/libtool" --mode=execute valgrind $VG_FLAGS --log-file="$logs/ntlmd.%p.log" \\
	"$build/ntlmd/ntlmd" "\$@"
EOF
chmod 0755 "$wrapper"
chmod 0755 "$build"
chmod 1777 "$logs" # the daemon drops to nobody in one case and still writes its log
for t in ntlmd/test-ntlmd.sh ntlmd/test-demo.sh; do
	out=$logs/$(echo "$t" | tr / _).out
	if NTLMD=$wrapper NTLMTOOL=$build/ntlmtool/ntlmtool NTLM_DEMO=$build/examples/ntlm-demo \
		TESTS_DIR=$top/tests INTEROP_DIR=$top/tests/interop sh "$top/tests/$t" >"$out" 2>&1; then
		note "ok   $t with ntlmd under valgrind ($(tail -n 1 "$out"))"
		passed=$((passed + 1))
	else
		grep -E '^(FAIL|ERROR)' "$out"
		note "FAIL $t with ntlmd under valgrind (output: $out)"
		failed=$((failed + 1))
	fi
done

# Every ntlmd log must come from ntlmd itself and end in a summary (a log
# without one: the process was not the one valgrind watched to its end).
n_ntlmd=$(grep -l 'Command: .*/ntlmd' "$logs"/ntlmd.*.log 2>/dev/null | wc -l)
n_summary=$(grep -l 'ERROR SUMMARY' "$logs"/ntlmd.*.log 2>/dev/null | wc -l)
note "ntlmd under valgrind: $n_ntlmd processes, $n_summary with a final summary"
if [ "$n_ntlmd" -eq 0 ]; then
	note "FAIL ntlmd never ran under valgrind"
	failed=$((failed + 1))
fi
if ! check_logs; then
	note "run-valgrind: memcheck reported errors or definite leaks (logs: $logs)"
	status=1
fi
[ "$failed" -eq 0 ] || status=1
note "$passed passed, $failed failed"
exit "$status"
