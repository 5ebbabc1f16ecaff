#!/bin/bash
# bench_challenges.sh: the sustained rate of ntlmd's challenge table. With
# the default max_challenges, challenge_lifetime and max_clock_skew, more
# than N (default 150000) consecutive squid-2.5-ntlmssp handshakes
# (bench_helper: NTLMv2 + MIC from libntlmssp's initiator, through our
# ntlm_auth and a private ntlmd with the files backend) must all succeed:
# each leaves one used challenge in the table for 2 * max_clock_skew. Then
# PING's challenge count and ntlmd's resident memory give the memory per
# entry. Exit status 1 when a handshake failed or fewer than N ran.
#
# Every process is pinned to one CPU (PIN_CPU, default 1; PIN_CPU= turns
# pinning off).
#
# Usage (from the build's bench directory, after "make bench_helper"):
#   bench_challenges.sh [HANDSHAKES]   (default 150001)
set -u
# shellcheck source=bench/lib-pin.sh
. "$(dirname "$0")/lib-pin.sh"
pin_self "$@"
here=$(pwd)
top="$here/.."
srcdir=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-150001}
LIMIT=120 # seconds: bound of the run
USER_NAME=benchuser
PASSWORD='Bench-Passw0rd'
PY=/usr/bin/python3

tmp=$(mktemp -d /tmp/ntlmd-challenges-bench.XXXXXX)
chmod 0755 "$tmp"
ntlmd_pid=""
cleanup() {
	[ -n "$ntlmd_pid" ] && kill "$ntlmd_pid" 2>/dev/null && wait "$ntlmd_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
run() { "$top/libtool" --mode=execute "$@"; }
# the private ntlmd: tests/lib/ntlmd.sh
TESTS_LIB=$srcdir/tests/lib NTLMD=$top/ntlmd/ntlmd NTLMTOOL=$top/ntlmtool/ntlmtool
# shellcheck source=tests/testlib.sh
. "$srcdir/tests/testlib.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"

# ntlmd's resident memory, in kB.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$ntlmd_pid/status"; }

# The challenges ntlmd holds (PING).
challenges_held() {
	"$PY" -B -c '
import sys
import ntlmd_driver as d
print(d.call(sys.argv[1], d.PING).u64(77))' "$tmp/ntlmd/socket"
}

ntlmd_useradd "$tmp/smbpasswd" "$USER_NAME" 4001 "$PASSWORD"
echo "log_level warning" | ntlmd_conf "$tmp/ntlmd/socket" "$tmp/smbpasswd" files BENCH BENCH >"$tmp/ntlmd.conf"
ntlmd_start "$tmp/ntlmd.conf" "$tmp/ntlmd.log" "$tmp/ntlmd/socket" -F || exit 1
ntlmd_pid=$NTLMD_PID

rss0=$(rss_kb)
held0=$(challenges_held)
start=$(date +%s.%N)
run "$here/bench_helper" -n "$N" -t "$LIMIT" -w 0 -u "$USER_NAME" -p "$PASSWORD" -d BENCH \
	-D "$ntlmd_pid" -l challenges -- "$top/ntlm_auth/ntlm_auth" --helper-protocol=squid-2.5-ntlmssp \
	--ntlmd-socket "$tmp/ntlmd/socket" >"$tmp/result" 2>&1
rc=$?
end=$(date +%s.%N)
cat "$tmp/result"
held1=$(challenges_held)
rss1=$(rss_kb)
echo "ntlmd holds $held1 challenges (was $held0); resident memory ${rss0} kB -> ${rss1} kB," \
	"$(awk -v a="$rss0" -v b="$rss1" -v n="$((held1 - held0))" 'BEGIN {if (n > 0) printf "%.1f", (b - a) * 1024 / n; else print "?"}') bytes per challenge;" \
	"$(awk -v s="$start" -v e="$end" 'BEGIN {printf "%.1f", e - s}') s"
if grep -q 'challenge refused' "$tmp/ntlmd.log"; then
	echo "failed: ntlmd refused challenges:"
	grep 'challenge refused' "$tmp/ntlmd.log"
	exit 1
fi
if [ "$rc" -ne 0 ] || [ "$held1" -lt "$N" ]; then
	echo "failed: bench_helper exited with $rc after $held1 handshakes (wanted $N)"
	exit 1
fi
echo "ok: $N consecutive handshakes, all answered AF"
