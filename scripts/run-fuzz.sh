#!/bin/bash
# Runs every libFuzzer target built by `make fuzz` for SECONDS each (default
# 60) on a copy of its seed corpus (tests/fuzz/corpus/<name>/), with
# -max_len=65536 -timeout=10. Crashers are kept under
# tests/fuzz/crashers/<name>/ (add them to the corpus as regression inputs
# once fixed). Prints, per target and in total, the executions and the
# coverage reached: libFuzzer's `cov:` (coverage points) and `ft:` (features)
# from the target's last stats line. The last line is machine-readable:
#   FUZZ total_execs=N total_cov=N total_ft=N targets=N failed=N
# Run it from the build directory where `make fuzz` ran, or set FUZZ_BUILD
# to that directory's fuzz/.
# Usage: scripts/run-fuzz.sh [SECONDS]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
bin=${FUZZ_BUILD:-$PWD/fuzz}
targets="negotiate challenge authenticate av_pairs v2_blob verify spnego frame smbpasswd_line config ldap_entry
	helper_ntlmssp helper_spnego helper_basic helper_server1 helper_client helper_spnego_client"

case "$seconds" in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS]" >&2
	exit 2
	;;
esac
for name in $targets; do
	if [ ! -x "$bin/fuzz_$name" ]; then
		echo "run-fuzz: $bin/fuzz_$name not found: run \`make fuzz\` in a build directory and this script from there (or set FUZZ_BUILD)" >&2
		exit 2
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/run-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

total=0
failed=0
total_cov=0
total_ft=0
count=0
printf '%-20s %12s %8s %8s  %s\n' target executions cov ft result
for name in $targets; do
	crashers="$top/tests/fuzz/crashers/$name"
	mkdir -p "$crashers" "$work/$name"
	cp "$top/tests/fuzz/corpus/$name"/* "$work/$name/" 2>/dev/null || true
	log="$work/$name.log"
	if "$bin/fuzz_$name" -max_len=65536 -timeout=10 -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$crashers/" "$work/$name" >"$log" 2>&1; then
		result=ok
	else
		result="FAILED (see $crashers/)"
		failed=$((failed + 1))
		cp "$log" "$crashers/last-run.log"
	fi
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
	# the last stats line ("#N DONE|pulse|NEW ... cov: C ft: F ...")
	stats=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
	cov=$(printf '%s\n' "$stats" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$stats" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	[ -n "$runs" ] || runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$log" | tail -n 1)
	total=$((total + ${runs:-0}))
	total_cov=$((total_cov + ${cov:-0}))
	total_ft=$((total_ft + ${ft:-0}))
	count=$((count + 1))
	printf '%-20s %12s %8s %8s  %s\n' "fuzz_$name" "${runs:-?}" "${cov:-?}" "${ft:-?}" "$result"
	rmdir "$crashers" 2>/dev/null || true
done
printf '%-20s %12s %8s %8s\n' total "$total" "$total_cov" "$total_ft"
echo "FUZZ total_execs=$total total_cov=$total_cov total_ft=$total_ft targets=$count failed=$failed"
rmdir "$top/tests/fuzz/crashers" 2>/dev/null || true
[ "$failed" -eq 0 ]
