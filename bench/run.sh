#!/bin/bash
# Runs every benchmark from a build directory ("make bench" calls it from
# build/.../bench). Each one prints its figures beside the peer or floor it
# is measured against in the same run, and the run ends with a table of the
# ratios, all from this run.
#   1. bench_verify: NTLMv2+MIC verification vs the raw HMAC-MD5 floor, one core
#   2. bench_ntlmd:  VERIFY through a private ntlmd, 1 and 2 clients, one connection per
#                    request and one kept connection per client, vs in-process
#   3. bench_files:  the files backend at 1,000,000 users: load time, lookups, RSS
#   4. ldap-bench.sh: VERIFY with the ldap backend (cold, warm) vs raw libldap and files;
#                    the same at scale: 100,000 accounts, a random sample of them looked up;
#                    32 clients with the directory 20 ms away vs the tree before issue 16's
#                    worker pool; files users and cache hits while the directory hangs
#   5. bench_helper: ntlm_auth + ntlmd vs Samba's ntlm_auth + winbindd (squid-2.5-ntlmssp)
#   6. bench_gssntlmssp: libntlmssp's in-process acceptor vs gss-ntlmssp's GSSAPI acceptor
#   7. bench_squid.sh: requests/s through Squid with our helper vs with Samba's
#   8. bench_challenges.sh: 150,001 consecutive handshakes through ntlmd's default
#                    challenge table, all answered; memory per remembered challenge
# A benchmark may print machine-readable lines "RATIO <name> <value>"; the
# others' figures are read from their usual output. The table lists each
# with what it compares and its target. As root, it first installs the
# Debian packages of the peers that are missing (scripts/install-deps.sh;
# BENCH_NO_INSTALL=1 skips that); every peer it then starts is private.
# Usage: bench/run.sh [SECONDS-PER-ROUND] [ROUNDS]   (bench_verify's; defaults 0.5 and 9)
# RATIO lines for the benchmarks that print none, read from their output
# (a benchmark's own RATIO line of the same name wins).
derived_ratios() { # log
	local log=$1
	# bench_verify: "median NTLMv2+MIC verify: ... ratio 1.78x (target <= 2x)"
	sed -n 's/^median NTLMv2+MIC verify:.* ratio \([0-9.]*\)x.*/RATIO verify_vs_hmac \1/p' "$log"
	sed -n 's/^median NTLMv2+MIC+CB verify:.* ratio \([0-9.]*\)x.*/RATIO verify_cb_vs_hmac \1/p' "$log"
	# bench_ntlmd: "ratio in-process / ntlmd: one-shot Ax with 1 client, Bx with 2; kept Cx with 1 client, ..."
	sed -n 's/^ratio in-process \/ ntlmd: .*kept \([0-9.]*\)x with 1 client.*/RATIO ntlmd_vs_inprocess \1/p' "$log"
	# bench_files: "load: best B s, median M s, ..." and "... X bytes per user"
	sed -n 's/^load: *best [0-9.]* s, median \([0-9.]*\) s.*/RATIO files_load_s \1/p' "$log"
	sed -n 's/^memory: .*: \([0-9.]*\) bytes per user.*/RATIO files_rss_bytes_per_user \1/p' "$log"
	# ldap-bench.sh: "ratios: raw one-connection / cold kept Ax (...), ..., ldapsearch-like / cold kept Bx; files / warm Cx (...)"
	sed -n 's/^ratios: raw one-connection \/ cold kept \([0-9.]*\)x.*/RATIO ldap_raw_vs_cold \1/p' "$log"
	sed -n 's/^ratios: .* ldapsearch-like \/ cold kept \([0-9.]*\)x.*/RATIO ldap_ldapsearch_vs_cold \1/p' "$log"
	sed -n 's/^ratios: .* files \/ warm \([0-9.]*\)x.*/RATIO ldap_files_vs_warm \1/p' "$log"
	# bench_helper_vs_samba.sh: "median p50_ms: ours A, samba B: ours Rx lower"
	sed -n 's/^median hs_per_s: .* ours \([0-9.]*\)x more.*/RATIO helper_rate \1/p' "$log"
	sed -n 's/^median p50_ms: .* ours \([0-9.]*\)x lower.*/RATIO helper_p50 \1/p' "$log"
	sed -n 's/^median cpu_ms: .* ours \([0-9.]*\)x lower.*/RATIO helper_cpu \1/p' "$log"
}

# The table: every RATIO of the run, with what it compares and its target.
summary() { # log
	local log=$1 all
	all=$(mktemp /tmp/bench-ratios.XXXXXX)
	grep '^RATIO ' "$log" >"$all"
	derived_ratios "$log" | while read -r _ name value; do
		grep -q "^RATIO $name " "$all" || echo "RATIO $name $value"
	done >>"$all.derived"
	cat "$all.derived" >>"$all"
	rm -f "$all.derived"
	echo
	echo "== summary: ratios measured in this run ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
	printf '%-62s %10s  %s\n' "comparison" "value" "target"
	row() { # name description unit target
		local v
		v=$(awk -v n="$1" '$2 == n {print $3; exit}' "$all")
		printf '%-62s %10s  %s\n' "$2" "${v:-n/a}${v:+$3}" "$4"
	}
	row verify_vs_hmac "1. NTLMv2+MIC verification time / 4x HMAC-MD5 floor" x "<= 2x"
	row verify_cb_vs_hmac "1. the same with channel bindings / floor" x ""
	row ntlmd_vs_inprocess "2. in-process verification rate / ntlmd VERIFY, 1 kept client" x ""
	row files_load_s "3. files backend, 1 M users: load time (median)" " s" "< 2 s"
	row files_rss_bytes_per_user "3. files backend, 1 M users: RSS per user" " B" ""
	row ldap_raw_vs_cold "4. raw libldap lookup rate / ntlmd ldap cold" x "<= 1.5x"
	row ldap_ldapsearch_vs_cold "4. ldapsearch-like lookup rate / ntlmd ldap cold" x ""
	row ldap_files_vs_warm "4. ntlmd files rate / ntlmd ldap warm" x "<= 1.2x"
	row ldap_scale_raw_vs_cold "4. 100k accounts, sampled users: raw lookup rate / ntlmd cold" x ""
	row ldap_scale_ldapsearch_vs_cold "4. 100k accounts: ldapsearch-like lookup rate / ntlmd cold" x ""
	row ldap_scale_files_vs_warm "4. 100k accounts: ntlmd files rate / ntlmd ldap warm" x ""
	row ldap_scale_load_s "4. 100k accounts: slapadd load time (median)" " s" ""
	row ldap_scale_warm_rss_mb "4. 100k accounts: warm ntlmd's VmRSS after the warm-up pass" " MB" ""
	row ldap_concurrency_20ms "4. cache-miss VERIFY/s, directory 20 ms away: new / before" x ">= 20x"
	row hung_files_p99_ms "4. directory hung: p99 of a files user" " ms" "< 5 ms"
	row hung_cache_hit_p99_ms "4. directory hung: p99 of a cache hit" " ms" "< 5 ms"
	row helper_rate "5. helper handshakes/s: ours / Samba ntlm_auth+winbindd" x ""
	row helper_p50 "5. helper p50: Samba / ours" x ">= 20x"
	row helper_cpu "5. CPU per handshake: Samba / ours" x ">= 10x"
	row helper_p50_vs_old "5. helper p50: this build / OLD_REV's build" x "<= 1.05"
	row helper_p50_ceiling_samba_over_floor "5. helper p50: Samba / the hops alone (the most possible)" x ""
	row gss_acceptor_time "6. acceptor time per handshake: gss-ntlmssp / ours" x ""
	row gss_handshake_rate "6. in-process handshakes/s: ours / gss-ntlmssp" x ""
	row squid_e2e_rate "7. squid end to end requests/s: ours / Samba" x ""
	row squid_e2e_p50 "7. squid end to end request p50: Samba / ours" x ""
	row squid_e2e_auth_cpu "7. squid end to end authentication CPU: Samba / ours" x ""
	# any other RATIO a benchmark printed
	known=" verify_vs_hmac verify_cb_vs_hmac ntlmd_vs_inprocess files_load_s files_rss_bytes_per_user ldap_raw_vs_cold"
	known="$known ldap_ldapsearch_vs_cold ldap_scale_raw_vs_cold ldap_scale_ldapsearch_vs_cold ldap_scale_files_vs_warm"
	known="$known ldap_scale_load_s ldap_scale_warm_rss_mb"
	known="$known ldap_files_vs_warm ldap_concurrency_20ms hung_files_p99_ms hung_cache_hit_p99_ms helper_rate helper_p50 helper_cpu helper_p50_ceiling_samba_over_floor"
	known="$known helper_p50_vs_old"
	known="$known gss_acceptor_time gss_handshake_rate"
	known="$known squid_e2e_rate squid_e2e_p50 squid_e2e_auth_cpu "
	while read -r _ name value; do
		case "$known" in *" $name "*) continue ;; esac
		printf '%-62s %10s\n' "$name" "$value"
	done <"$all"
	rm -f "$all"
}

# The run's output goes to the terminal and to a log, which the summary
# table is made from once every benchmark has finished.
if [ -z "${BENCH_RUN_LOG:-}" ]; then
	BENCH_RUN_LOG=$(mktemp /tmp/bench-run.XXXXXX)
	export BENCH_RUN_LOG
	"$0" "$@" 2>&1 | tee "$BENCH_RUN_LOG"
	rc=${PIPESTATUS[0]}
	summary "$BENCH_RUN_LOG"
	rm -f "$BENCH_RUN_LOG"
	exit "$rc"
fi
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
# The peers (Samba, winbind, squid, gss-ntlmssp, slapd, the Python client)
# come from Debian: install what is missing (BENCH_NO_INSTALL=1: do not);
# nothing is installed when everything is present.
deps="$(dirname "$0")/../scripts/install-deps.sh"
if [ -z "${BENCH_NO_INSTALL:-}" ] && [ "$(id -u)" -eq 0 ] && [ -x "$deps" ]; then
	"$deps" || echo "warning: $deps failed: the benchmarks whose peer is missing will say skipped"
fi
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
# the private ntlmd of tests/lib/ntlmd.sh, with a throwaway account for the
# benchmark only (the build tree's ntlmd is a libtool wrapper that execs the
# real binary, so NTLMD_PID is the daemon itself)
TESTS_LIB=$(cd "$(dirname "$0")/../tests/lib" && pwd) NTLMD=$top/ntlmd/ntlmd NTLMTOOL=$top/ntlmtool/ntlmtool
# shellcheck source=tests/testlib.sh
. "$TESTS_LIB/../testlib.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"
ntlmd_useradd "$tmp/smbpasswd" bench 1000 Bench-Passw0rd
echo "max_clock_skew 0" | ntlmd_conf "$tmp/socket" "$tmp/smbpasswd" files BENCH BENCH >"$tmp/ntlmd.conf"
ntlmd_start "$tmp/ntlmd.conf" "$tmp/ntlmd.log" "$tmp/socket"
daemon=$NTLMD_PID
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

# 6. and 7. fail on their own: the others' figures still reach the table
failed=0
echo
echo "== 6. libntlmssp's in-process acceptor vs gss-ntlmssp's GSSAPI acceptor (bench_gssntlmssp)"
if [ -x "$here/bench_gssntlmssp" ]; then
	$pin "$top/libtool" --mode=execute "$here/bench_gssntlmssp" 2000 5 || failed=1
else
	echo "skipped: bench_gssntlmssp not built (configure found no gssapi/gssapi.h; Debian: libkrb5-dev)"
fi

echo
echo "== 7. end to end through Squid: our ntlm_auth + ntlmd vs Samba's ntlm_auth + winbindd (bench_squid.sh)"
"$(dirname "$0")/bench_squid.sh" 1000 3 2 || failed=1

echo
echo "== 8. sustained handshakes through ntlmd's challenge table (bench_challenges.sh)"
"$(dirname "$0")/bench_challenges.sh" 150001 || failed=1
[ "$failed" -eq 0 ]
