#!/bin/bash
# bench_helper_vs_samba.sh: the same squid-2.5-ntlmssp driver (bench_helper:
# NTLMv2 + MIC handshakes from libntlmssp's initiator, one at a time) against
#   - our ntlm_auth asking a private ntlmd (files backend), and
#   - Samba's ntlm_auth asking a private standalone winbindd (tdbsam user),
# in the same run, alternating rounds. Prints handshakes/s, the helper's
# p50/p99 latency and the CPU per handshake (helper + daemon: ntlm_auth +
# every process of winbindd's namespace), and the ratios.
#
# Samba's winbindd runs in its own mount and PID namespace (lib-samba.sh):
# nothing on the machine is changed. Needs root, winbindd, pdbedit,
# ntlm_auth (Samba), unshare and nsenter.
#
# Every process (driver, helpers, daemons) is pinned to one CPU (PIN_CPU,
# default 1; PIN_CPU= turns pinning off): on a small VM, a wake-up across
# CPUs costs more than our whole handshake. The run ends with the floor of
# the placement: bench_ipc_floor passes the same messages through the same
# three processes without any work (about 0.016 ms per handshake pinned,
# 0.16 ms unpinned on an idle 2-vCPU VM).
#
# ntlmd runs as a service would, in the foreground (NTLMD_FLAGS, default
# -F) with log_level warning: no line per successful logon, as Samba logs
# none at its default log level. NTLMD_FLAGS=-d logs every request at the
# debug level to stderr and syslog (two more writes per request).
# ntlm_auth keeps one connection to ntlmd for all its requests.
#
# OLD_REV (a commit; unset: none) adds a third helper in the same rounds:
# ntlm_auth and ntlmd built from that commit (lib-oldrev.sh: a detached
# worktree in the run's directory, removed at the end), with the same
# driver, flags and CPU. The run then prints this build's p50 over the old
# build's: no regression is <= 1.05.
#
# Usage (from the build's bench directory, as bench/run.sh does):
#   bench_helper_vs_samba.sh [HANDSHAKES-PER-ROUND] [ROUNDS]   (defaults 2000 and 3)
set -u
# shellcheck source=bench/lib-pin.sh
. "$(dirname "$0")/lib-pin.sh"
NTLMD_FLAGS=${NTLMD_FLAGS:--F}
pin_self "$@"
here=$(pwd)
top="$here/.."
N=${1:-2000}
ROUNDS=${2:-3}
LIMIT=60 # seconds: bound of each round
USER_NAME=benchuser
PASSWORD='Bench-Passw0rd'

# shellcheck source=bench/lib-samba.sh
. "$(dirname "$0")/lib-samba.sh"
# the private ntlmd: tests/lib/ntlmd.sh
srcdir=$(cd "$(dirname "$0")/.." && pwd)
TESTS_LIB=$srcdir/tests/lib NTLMD=$top/ntlmd/ntlmd NTLMTOOL=$top/ntlmtool/ntlmtool
# shellcheck source=tests/testlib.sh
. "$srcdir/tests/testlib.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"
# shellcheck source=bench/lib-oldrev.sh
. "$(dirname "$0")/lib-oldrev.sh"
samba_check || exit 0
src=$srcdir

tmp=$(mktemp -d /tmp/ntlm_auth-bench.XXXXXX)
chmod 0755 "$tmp"
ntlmd_pid="" old_ntlmd_pid="" old_top=""
cleanup() {
	[ -n "$ntlmd_pid" ] && kill "$ntlmd_pid" 2>/dev/null && wait "$ntlmd_pid" 2>/dev/null
	[ -n "$old_ntlmd_pid" ] && kill "$old_ntlmd_pid" 2>/dev/null && wait "$old_ntlmd_pid" 2>/dev/null
	samba_stop
	old_remove "$src" "$tmp/old-src"
	rm -rf "$tmp"
}
trap cleanup EXIT
run() { "$top/libtool" --mode=execute "$@"; }

# ---- ours: ntlmd with the files backend (tests/lib/ntlmd.sh)
ntlmd_useradd "$tmp/smbpasswd" "$USER_NAME" 4001 "$PASSWORD"
echo "log_level warning" | ntlmd_conf "$tmp/ntlmd/socket" "$tmp/smbpasswd" files BENCH BENCH >"$tmp/ntlmd.conf"
ntlmd_spawn "$tmp/ntlmd.conf" "$tmp/ntlmd.log" "$NTLMD_FLAGS"
ntlmd_pid=$NTLMD_PID

# ---- the old build's ntlm_auth + ntlmd (OLD_REV), the same way
if [ -n "${OLD_REV:-}" ]; then
	echo "old build: $(git -C "$src" log -1 --format='%h %s' "$OLD_REV" | cut -c1-60)... in $tmp/old-src"
	old_build "$src" "$OLD_REV" "$tmp/old-src" libntlm common ldap backends ntlmd ntlm_auth ntlmtool || {
		echo "failed: the tree of $OLD_REV did not build"
		exit 1
	}
	old_top=$tmp/old-src/build
	mkdir -p "$tmp/old/ntlmd"
	echo "log_level warning" | ntlmd_conf "$tmp/old/ntlmd/socket" "$tmp/smbpasswd" files BENCH BENCH \
		>"$tmp/old/ntlmd.conf"
	this_ntlmd=$NTLMD
	NTLMD=$old_top/ntlmd/ntlmd
	ntlmd_start "$tmp/old/ntlmd.conf" "$tmp/old/ntlmd.log" "$tmp/old/ntlmd/socket" "$NTLMD_FLAGS" || exit 1
	NTLMD=$this_ntlmd
	old_ntlmd_pid=$NTLMD_PID
fi

# ---- Samba: standalone winbindd in its own namespaces (lib-samba.sh)
S=$tmp/samba
samba_start "$S" "$USER_NAME" 4001 "$PASSWORD" NTLMBENCH BENCHWG || exit 1
winbindd_pid=$SAMBA_WINBINDD_PID
ntlmd_ready "$tmp/ntlmd/socket" "$ntlmd_pid" || {
	echo "failed: ntlmd did not start"
	cat "$tmp/ntlmd.log"
	exit 1
}

# ours [LABEL BUILD DIR NTLMD-PID]: our ntlm_auth of BUILD (default this
# one) over the ntlmd whose socket is DIR/ntlmd/socket
ours() {
	run "$here/bench_helper" -n "$N" -t "$LIMIT" -w 200 -u "$USER_NAME" -p "$PASSWORD" -d BENCH \
		-D "${4:-$ntlmd_pid}" -l "${1:-ours}" -- "${2:-$top}/ntlm_auth/ntlm_auth" \
		--helper-protocol=squid-2.5-ntlmssp --ntlmd-socket "${3:-$tmp}/ntlmd/socket"
}
samba() {
	run "$here/bench_helper" -n "$N" -t "$LIMIT" -w 200 -u "$USER_NAME" -p "$PASSWORD" -d NTLMBENCH \
		-N "$winbindd_pid" -l samba -- nsenter -t "$winbindd_pid" -m -- /usr/bin/ntlm_auth \
		--helper-protocol=squid-2.5-ntlmssp --configfile="$SAMBA_CONF"
}

echo "pinned to CPU: ${PIN_CPU:-none}; ntlmd $NTLMD_FLAGS; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$tmp/results"
for r in $(seq "$ROUNDS"); do
	echo "-- round $r"
	ours | tee -a "$tmp/results" | grep -v '^RESULT'
	if [ -n "$old_top" ]; then
		ours old "$old_top" "$tmp/old" "$old_ntlmd_pid" | tee -a "$tmp/results" | grep -v '^RESULT'
	fi
	samba | tee -a "$tmp/results" | grep -v '^RESULT'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# medians over the rounds, and the ratios Samba/ours
median() { # label field
	grep "^RESULT $1 " "$tmp/results" | tr ' ' '\n' | sed -n "s/^$2=//p" | sort -g |
		awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'
}
for f in hs_per_s p50_ms p99_ms cpu_ms; do
	o=$(median ours "$f")
	s=$(median samba "$f")
	if [ -z "$o" ] || [ -z "$s" ]; then continue; fi
	if [ "$f" = hs_per_s ]; then
		ratio=$(awk -v o="$o" -v s="$s" 'BEGIN {printf "%.1f", o / s}')
		echo "median $f: ours $o, samba $s: ours ${ratio}x more"
	else
		ratio=$(awk -v o="$o" -v s="$s" 'BEGIN {printf "%.1f", s / o}')
		echo "median $f: ours $o, samba $s: ours ${ratio}x lower"
	fi
done

# this build against the old one (OLD_REV): the same driver, the same rounds
if [ -n "$old_top" ]; then
	for f in p50_ms p99_ms cpu_ms; do
		o=$(median ours "$f")
		p=$(median old "$f")
		s=$(median samba "$f")
		if [ -z "$o" ] || [ -z "$p" ]; then continue; fi
		awk -v f="$f" -v o="$o" -v p="$p" -v s="$s" -v rev="$OLD_REV" 'BEGIN {
			printf "median %s: this build %s, %s %s (samba / old %.1fx): this build / old %.3fx\n", f, o, rev, p,
				s / p, o / p }'
	done
	o=$(median ours p50_ms)
	p=$(median old p50_ms)
	if [ -n "$o" ] && [ -n "$p" ]; then
		awk -v o="$o" -v p="$p" 'BEGIN {
			printf "helper p50, this build / old: %.3fx (no regression: <= 1.05)\n", o / p
			printf "RATIO helper_p50_vs_old %.3f\n", o / p }'
	fi
fi

# The hops alone: three processes passing messages of the same sizes the
# same way, without the work. Its p50 is the floor under any helper of this
# shape in this CPU placement, and Samba's p50 over it the best ratio one
# could measure here.
if [ -x "$here/bench_ipc_floor" ]; then
	floor=$("$here/bench_ipc_floor" -n "$N" | sed -n 's/^RESULT floor p50_ms=\([0-9.]*\).*/\1/p')
	s=$(median samba p50_ms)
	if [ -n "$floor" ] && [ -n "$s" ]; then
		ceiling=$(awk -v f="$floor" -v s="$s" 'BEGIN {printf "%.1f", s / f}')
		echo "floor: the same hops without the work (bench_ipc_floor), p50 $floor ms;" \
			"samba / floor ${ceiling}x is the most any helper could show here"
		echo "RATIO helper_p50_ceiling_samba_over_floor $ceiling"
	fi
fi
