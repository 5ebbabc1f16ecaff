#!/bin/bash
# Runs every benchmark from a build directory ("make bench" calls it from
# build/.../bench). Each one prints its figures beside the peer or floor it
# is measured against in the same run.
#   1. bench_verify: NTLMv2+MIC verification vs the raw HMAC-MD5 floor, one core
#   2. bench_ntlmd:  VERIFY through a private ntlmd, 1 and 2 clients, one connection per
#                    request and one kept connection per client, vs in-process
#   3. bench_files:  the files backend at 1,000,000 users: load time, lookups, RSS
#   4. ldap-bench.sh: VERIFY with the ldap backend (cold, warm) vs raw libldap and files
#   5. bench_helper: ntlm_auth + ntlmd vs Samba's ntlm_auth + winbindd (squid-2.5-ntlmssp)
# Usage: bench/run.sh [SECONDS-PER-ROUND] [ROUNDS]   (bench_verify's; defaults 0.5 and 9)
set -eu
here=$(pwd)
top="$here/.."
pin=""
if command -v taskset >/dev/null 2>&1; then
	pin="taskset -c 0"
fi
run() { "$top/libtool" --mode=execute "$@"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "openssl: $(openssl version 2>/dev/null || echo unknown)"
echo
echo "== 1. core verification (bench_verify)"
$pin "$top/libtool" --mode=execute "$here/bench_verify" "${1:-0.5}" "${2:-9}"

echo
echo "== 2. ntlmd over its socket (bench_ntlmd)"
tmp=$(mktemp -d /tmp/ntlmd-bench.XXXXXX)
daemon=""
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
# a throwaway account for the benchmark only
printf 'Bench-Passw0rd\n' | run "$top/ntlmtool/ntlmtool" passwd --file "$tmp/smbpasswd" useradd bench \
	--uid 1000 --flags UX --password - >/dev/null
cat >"$tmp/ntlmd.conf" <<CONF
socket $tmp/socket
backends files
hash_file $tmp/smbpasswd
netbios_name BENCH
netbios_domain BENCH
max_clock_skew 0
CONF
# the build tree's ntlmd is a libtool wrapper that execs the real binary, so
# $! is the daemon itself
"$top/ntlmd/ntlmd" -d -f "$tmp/ntlmd.conf" >"$tmp/ntlmd.log" 2>&1 &
daemon=$!
for _ in $(seq 50); do [ -S "$tmp/socket" ] && break; sleep 0.1; done
run "$here/bench_ntlmd" "$tmp/socket" bench Bench-Passw0rd 5000
grep -c 'VERIFY success' "$tmp/ntlmd.log" | sed 's/^/ntlmd logged successes: /'

echo
echo "== 3. files backend at 1,000,000 users (bench_files)"
run "$here/bench_files" 1000000 3

echo
echo "== 4. ldap backend: cold, warm, raw libldap lookups and files (ldap-bench.sh)"
"$(dirname "$0")/ldap-bench.sh"

echo "== 5. ntlm_auth + ntlmd vs Samba's ntlm_auth + winbindd (bench_helper_vs_samba.sh)"
"$(dirname "$0")/bench_helper_vs_samba.sh" 2000 3
