#!/bin/bash
# bench_helper_vs_samba.sh: the same squid-2.5-ntlmssp driver (bench_helper:
# NTLMv2 + MIC handshakes from libntlmssp's initiator, one at a time) against
#   - our ntlm_auth asking a private ntlmd (files backend), and
#   - Samba's ntlm_auth asking a private standalone winbindd (tdbsam user),
# in the same run, alternating rounds. Prints handshakes/s, the helper's
# p50/p99 latency and the CPU per handshake (helper + daemon: ntlm_auth +
# every process of winbindd's namespace), and the ratios.
#
# Samba's winbindd runs in its own mount and PID namespace (unshare), where
# a private directory is bind-mounted on /run/samba (libwbclient's fixed
# socket path) and private copies of /etc/passwd and /etc/group carry the
# benchmark's account: nothing on the machine is changed. Needs root,
# winbindd, pdbedit, ntlm_auth (Samba), unshare and nsenter.
#
# Every process (driver, helpers, daemons) is pinned to one CPU (PIN_CPU,
# default 1; PIN_CPU= turns pinning off): on a small shared VM, wake-ups
# across CPUs otherwise dominate and vary from run to run.
#
# ntlmd runs as a service would, in the foreground (NTLMD_FLAGS, default
# -F) with log_level warning: no line per successful logon, as Samba logs
# none at its default log level. NTLMD_FLAGS=-d logs every request at the
# debug level to stderr and syslog (two more writes per request).
# ntlm_auth keeps one connection to ntlmd for all its requests.
#
# Usage (from the build's bench directory, as bench/run.sh does):
#   bench_helper_vs_samba.sh [HANDSHAKES-PER-ROUND] [ROUNDS]   (defaults 2000 and 3)
set -u
PIN_CPU=${PIN_CPU-1}
NTLMD_FLAGS=${NTLMD_FLAGS:--F}
if [ -n "$PIN_CPU" ] && [ -z "${BENCH_PINNED:-}" ] && command -v taskset >/dev/null 2>&1; then
	BENCH_PINNED=1 exec taskset -c "$PIN_CPU" "$0" "$@"
fi
here=$(pwd)
top="$here/.."
N=${1:-2000}
ROUNDS=${2:-3}
LIMIT=60 # seconds: bound of each round
USER_NAME=benchuser
PASSWORD='Bench-Passw0rd'

for tool in winbindd pdbedit unshare nsenter; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "skipped: $tool is missing"
		exit 0
	fi
done
if [ ! -x /usr/bin/ntlm_auth ] || [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root and Samba's /usr/bin/ntlm_auth"
	exit 0
fi

tmp=$(mktemp -d /tmp/ntlm_auth-bench.XXXXXX)
chmod 0755 "$tmp"
ntlmd_pid=""
ns_pid=""
winbindd_pid=""
cleanup() {
	[ -n "$ntlmd_pid" ] && kill "$ntlmd_pid" 2>/dev/null && wait "$ntlmd_pid" 2>/dev/null
	# winbindd is PID 1 of its namespace: its end ends every process there
	[ -n "$winbindd_pid" ] && kill "$winbindd_pid" 2>/dev/null
	[ -n "$ns_pid" ] && kill "$ns_pid" 2>/dev/null && wait "$ns_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
run() { "$top/libtool" --mode=execute "$@"; }

# ---- ours: ntlmd with the files backend
printf '%s\n' "$PASSWORD" | run "$top/ntlmtool/ntlmtool" passwd --file "$tmp/smbpasswd" useradd "$USER_NAME" \
	--uid 4001 --flags UX --password - >/dev/null
cat >"$tmp/ntlmd.conf" <<CONF
socket $tmp/ntlmd/socket
backends files
hash_file $tmp/smbpasswd
netbios_name BENCH
netbios_domain BENCH
log_level warning
CONF
"$top/ntlmd/ntlmd" "$NTLMD_FLAGS" -f "$tmp/ntlmd.conf" >"$tmp/ntlmd.log" 2>&1 &
ntlmd_pid=$!

# ---- Samba: standalone winbindd in its own namespaces
S=$tmp/samba
mkdir -p "$S/private" "$S/lock" "$S/state" "$S/cache" "$S/run" "$S/log" "$S/pid"
cp /etc/passwd "$S/passwd"
cp /etc/group "$S/group"
echo "$USER_NAME:x:4001:4001:bench:/nonexistent:/usr/sbin/nologin" >>"$S/passwd"
echo "$USER_NAME:x:4001:" >>"$S/group"
cat >"$S/smb.conf" <<CONF
[global]
netbios name = NTLMBENCH
workgroup = BENCHWG
server role = standalone server
passdb backend = tdbsam:$S/private/passdb.tdb
private dir = $S/private
lock directory = $S/lock
state directory = $S/state
cache directory = $S/cache
pid directory = $S/pid
ncalrpc dir = $S/run/ncalrpc
log file = $S/log/log.%m
ntlm auth = yes
disable netbios = yes
interfaces = lo
bind interfaces only = yes
CONF
cat >"$S/init.sh" <<INIT
mkdir -p /run/samba
mount --bind "$S/run" /run/samba
mount --bind "$S/passwd" /etc/passwd
mount --bind "$S/group" /etc/group
printf '%s\n%s\n' '$PASSWORD' '$PASSWORD' | pdbedit -s "$S/smb.conf" -a -t -u $USER_NAME >"$S/log/pdbedit.log" 2>&1
exec winbindd -F --no-process-group -s "$S/smb.conf" >"$S/log/winbindd.out" 2>&1
INIT
unshare --mount --pid --fork --kill-child --propagation private sh "$S/init.sh" &
ns_pid=$!

# winbindd is the child of unshare (PID 1 of the new namespace)
for _ in $(seq 100); do
	winbindd_pid=$(pgrep -P "$ns_pid" winbindd | head -1)
	[ -n "$winbindd_pid" ] && [ -S "$S/run/winbindd/pipe" ] && [ -S "$tmp/ntlmd/socket" ] && break
	sleep 0.1
done
if [ -z "$winbindd_pid" ] || [ ! -S "$tmp/ntlmd/socket" ]; then
	echo "failed: winbindd or ntlmd did not start"
	cat "$S/log/winbindd.out" "$tmp/ntlmd.log"
	exit 1
fi

ours() {
	run "$here/bench_helper" -n "$N" -t "$LIMIT" -w 200 -u "$USER_NAME" -p "$PASSWORD" -d BENCH \
		-D "$ntlmd_pid" -l ours -- "$top/ntlm_auth/ntlm_auth" --helper-protocol=squid-2.5-ntlmssp \
		--ntlmd-socket "$tmp/ntlmd/socket"
}
samba() {
	run "$here/bench_helper" -n "$N" -t "$LIMIT" -w 200 -u "$USER_NAME" -p "$PASSWORD" -d NTLMBENCH \
		-N "$winbindd_pid" -l samba -- nsenter -t "$winbindd_pid" -m -- /usr/bin/ntlm_auth \
		--helper-protocol=squid-2.5-ntlmssp --configfile="$S/smb.conf"
}

echo "pinned to CPU: ${PIN_CPU:-none}; ntlmd $NTLMD_FLAGS; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$tmp/results"
for r in $(seq "$ROUNDS"); do
	echo "-- round $r"
	ours | tee -a "$tmp/results" | grep -v '^RESULT'
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
