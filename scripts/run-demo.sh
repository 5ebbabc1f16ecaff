#!/bin/bash
# Builds pam_ntlm and runs the built-in default job: a local hash file with
# a demo user and real NTLM exchanges verified end to end (examples/ntlm-demo).
# Usage: scripts/run-demo.sh   (as root on a fresh Debian 12 machine)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

"$top/scripts/install-deps.sh"
if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ]; then
	(cd "$top" && ./autogen.sh >/dev/null 2>&1) || { echo "run-demo: autogen.sh failed" >&2; exit 1; }
fi
build="$top/build/demo"
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" --quiet
make -j"$(nproc)" --silent >/dev/null
exec ./examples/ntlm-demo ./ntlmd/ntlmd
