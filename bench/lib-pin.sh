# shellcheck shell=bash
# lib-pin.sh: runs a benchmark script with every process it starts on one
# CPU. Sourced at the top of the script, then: pin_self "$@".
#
# PIN_CPU names the CPU (default 1; PIN_CPU= turns pinning off). On a small
# shared VM, wake-ups across CPUs otherwise dominate the figures and move
# them from run to run. The script is executed again under taskset, once
# (BENCH_PINNED marks the pinned run); without taskset it runs unpinned.

PIN_CPU=${PIN_CPU-1}

pin_self() {
	if [ -n "$PIN_CPU" ] && [ -z "${BENCH_PINNED:-}" ] && command -v taskset >/dev/null 2>&1; then
		BENCH_PINNED=1 exec taskset -c "$PIN_CPU" "$0" "$@"
	fi
}
