#!/bin/sh
# Replays every fuzz target's seed corpus (tests/fuzz/corpus/<name>/) through
# the same LLVMFuzzerTestOneInput, without libFuzzer (fuzz/replay_<name>).
# A target passes when its replay exits 0 (under --enable-sanitizers, ASan and
# UBSan abort on any finding).
set -u

here=$(cd "$(dirname "$0")" && pwd)
tests_dir=${TESTS_DIR:-$(dirname "$here")}
replay_dir=${FUZZ_REPLAY_DIR:-./fuzz}
targets=${FUZZ_TARGETS:-"negotiate challenge authenticate av_pairs v2_blob verify spnego frame smbpasswd_line config ldap_entry"}

passed=0
failed=0
for name in $targets; do
	corpus="$tests_dir/fuzz/corpus/$name"
	prog="$replay_dir/replay_$name"
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
		echo "FAIL fuzz_$name: no corpus in $corpus"
		failed=$((failed + 1))
		continue
	fi
	if [ ! -x "$prog" ]; then
		echo "FAIL fuzz_$name: $prog not built"
		failed=$((failed + 1))
		continue
	fi
	if out=$("$prog" "$corpus" 2>&1); then
		echo "ok   $out"
		passed=$((passed + 1))
	else
		printf '%s\n' "$out"
		echo "FAIL fuzz_$name"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
