#!/bin/bash
# Runs the micro-benchmarks from a build directory ("make bench" calls it).
# Pins to one core when taskset is available, so "per core" means one core.
# Usage: bench/run.sh [SECONDS-PER-ROUND] [ROUNDS]
set -eu
here=$(pwd)
bin="$here/bench_verify"
[ -x "$bin" ] || { echo "run.sh: build bench_verify first (make -C bench bench_verify)" >&2; exit 1; }
pin=""
if command -v taskset >/dev/null 2>&1; then
	pin="taskset -c 0"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "openssl: $(openssl version 2>/dev/null || echo unknown)"
# libtool wrapper: run the real binary with the just-built library
$pin "$here/../libtool" --mode=execute "$bin" "${1:-0.5}" "${2:-9}"
