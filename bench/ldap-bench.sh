#!/bin/bash
# ldap-bench.sh: VERIFY requests per second through ntlmd with the ldap
# backend, cold (cache off) and warm (cache on), beside a raw libldap
# search-by-uid loop against the same private slapd and the files backend,
# all in the same run. Called by run.sh from the build's bench directory.
# The client keeps one connection to ntlmd for all its requests (as the
# raw loop keeps one to slapd); a cold run with one connection per request
# is shown too, labelled one-shot.
# Usage: bench/ldap-bench.sh [REQUESTS [ROUNDS]]   (defaults 3000 and 3; medians)
# Ratios (targets): raw / cold <= 1.5, files / warm <= 1.2.
#
# The scale case (LDAP_BENCH_SCALE_USERS accounts, default 100,000; 0 skips
# it) does the same over a random sample of a large directory: see its
# section below.
#
# Every process (slapd, ntlmd, the clients) is pinned to one CPU (PIN_CPU,
# default 1; PIN_CPU= turns pinning off), as in bench_helper_vs_samba.sh:
# on a small shared VM, wake-ups across CPUs otherwise dominate and swing
# the ratios from run to run.
set -eu
# shellcheck source=bench/lib-pin.sh
. "$(dirname "$0")/lib-pin.sh"
# shellcheck source=bench/lib-oldrev.sh
. "$(dirname "$0")/lib-oldrev.sh"
pin_self "$@"
here=$(pwd)
top="$here/.."
n=${1:-3000}
rounds=${2:-3}
port=${LDAP_BENCH_PORT:-21489}
users=${LDAP_BENCH_USERS:-1000}
suffix=dc=bench,dc=test
run() { "$top/libtool" --mode=execute "$@"; }

# the private slapd and ntlmd daemons: tests/lib/slapd.sh and ntlmd.sh
src=$(cd "$(dirname "$0")/.." && pwd)
TESTS_LIB=$src/tests/lib NTLMD=$top/ntlmd/ntlmd NTLMTOOL=$top/ntlmtool/ntlmtool
WAIT=10 SUFFIX=$suffix SLAPD_MAXSIZE=268435456
SLAPD_DB_EXTRA=$(printf 'index uid eq\nindex objectClass eq')
# shellcheck source=tests/testlib.sh
. "$src/tests/testlib.sh"
# shellcheck source=tests/lib/slapd.sh
. "$TESTS_LIB/slapd.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"
# slapd_require's missing piece is a skip here, as any bench's
skip_or_fail() {
	echo "skipped: $1 is missing"
	exit 0
}
slapd_require

tmp=$(mktemp -d /tmp/ntlmd-ldap-bench.XXXXXX)
WORK=$tmp
slapd="" daemons=""
stop() { [ -n "$1" ] && kill "$1" 2>/dev/null && wait "$1" 2>/dev/null; return 0; }
cleanup() {
	for d in $daemons; do stop "$d"; done
	stop "$slapd"
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

slapd_prepare
# the benchmark's throwaway account, in smbpasswd form for the files backend
ntlmd_useradd "$tmp/smbpasswd" bench 1000 Bench-Passw0rd
bindpw=bench-bind-$$
printf '%s\n' "$bindpw" >"$tmp/bindpw"
chmod 600 "$tmp/bindpw"

# sam_entries FIRST END: the accounts FIRST to END - 1 (uid bench, then
# benchI), with the benchmark's NT hash, in one awk run (no process per
# entry: 100,000 entries take well under a second). The hash is read from
# the first line of $tmp/smbpasswd, never put on a command line.
sam_entries() {
	awk -F: -v first="$1" -v end="$2" -v suffix="$suffix" -v now="$(date +%s)" 'NR == 1 {
		for (i = first; i < end; i++) {
			u = i ? "bench" i : "bench"
			printf "dn: uid=%s,ou=people,%s\nobjectClass: account\nobjectClass: sambaSamAccount\n", u, suffix
			printf "uid: %s\nsambaSID: S-1-5-21-1-2-3-%d\nsambaNTPassword: %s\n", u, 1000 + i, $4
			printf "sambaAcctFlags: [UX         ]\nsambaPwdLastSet: %d\n\n", now
		}
		exit
	}' "$tmp/smbpasswd"
}

{
	printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: bench\ndc: bench\n\n' "$suffix"
	printf 'dn: cn=ntlmd,%s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n' "$suffix"
	printf 'cn: ntlmd\nuserPassword: %s\n\n' "$bindpw"
	printf 'dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n' "$suffix"
	sam_entries 0 "$users"
} >"$tmp/data.ldif"
slapd_load_ldif "$tmp/data.ldif" a
start_slapd a "$port"
slapd=$SLAPD_A

ldap_conf() {
	printf 'uri ldap://127.0.0.1:%s\nbase ou=people,%s\nbinddn cn=ntlmd,%s\n' "$port" "$suffix" "$suffix"
	printf 'bindpw_file %s/bindpw\ntimelimit 5\nbind_timelimit 5\n' "$tmp"
}

# Starts ntlmd NAME with backends $2 and the extra lines of file $3 (not in
# a pipeline: $daemons must be set in this shell).
start_ntlmd() {
	{
		printf 'max_clock_skew 0\n'
		cat "$3"
	} | ntlmd_conf "$tmp/$1.sock" "$tmp/smbpasswd" "$2" BENCH BENCH >"$tmp/$1.conf"
	ntlmd_start "$tmp/$1.conf" "$tmp/$1.log" "$tmp/$1.sock" -F
	daemons="$daemons $NTLMD_PID"
}

# VERIFY rate with one client through ntlmd NAME, MODE kept (one
# connection for all requests) or one-shot (one per request), as USER
# (default bench; @FILE: the users of FILE in turn): "RATE P50"
ntlmd_rate() {
	run "$here/bench_ntlmd" "$tmp/$1.sock" "${3:-bench}" Bench-Passw0rd "$n" "$2" >"$tmp/out-$1"
	sed -n 's/^ntlmd VERIFY, 1 client *, [a-z-]* *: \([0-9]*\) requests.*latency p50 \([0-9.]*\) us.*/\1 \2/p' "$tmp/out-$1"
}

raw_rate() { # USER|@FILE SEARCHES [connect]
	run "$here/bench_ldap" "ldap://127.0.0.1:$port" "ou=people,$suffix" "cn=ntlmd,$suffix" "$tmp/bindpw" \
		"$@" | sed -n 's/.*: \([0-9]*\) searches.*/\1/p'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

ldap_conf >"$tmp/cold.keys"
(
	ldap_conf
	printf 'cache_ttl 600\n'
) >"$tmp/warm.keys"
start_ntlmd cold ldap "$tmp/cold.keys"
start_ntlmd warm ldap "$tmp/warm.keys"
start_ntlmd files files /dev/null
echo "pinned to CPU: ${PIN_CPU:-no}; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$tmp/figures"
for round in $(seq "$rounds"); do
	r=$(raw_rate bench "$n")
	c=$(raw_rate bench $((n / 5)) connect)
	read -r cold cold_p50 <<<"$(ntlmd_rate cold kept)"
	read -r once once_p50 <<<"$(ntlmd_rate cold one-shot)"
	read -r warm warm_p50 <<<"$(ntlmd_rate warm kept)"
	read -r files files_p50 <<<"$(ntlmd_rate files kept)"
	echo "round $round: raw $r/s, raw connect-each $c/s, cold $cold/s (p50 $cold_p50 us)," \
		"cold one-shot $once/s (p50 $once_p50 us), warm $warm/s (p50 $warm_p50 us)," \
		"files $files/s (p50 $files_p50 us)"
	echo "$r $c $cold $warm $files $once $cold_p50 $warm_p50 $files_p50 $once_p50" >>"$tmp/figures"
done
col() { cut -d' ' -f"$1" "$tmp/figures" | median; }
raw=$(col 1) each=$(col 2) cold=$(col 3) warm=$(col 4) files=$(col 5) once=$(col 6)
echo "medians of $rounds rounds ($n requests each; $users users in slapd; p50 in us):"
echo "  raw libldap search by uid, one connection:                    $raw/s"
echo "  raw libldap connect + bind + search (ldapsearch):              $each/s"
echo "  ntlmd VERIFY, ldap backend, cache off (cold), kept connection: $cold/s (p50 $(col 7))"
echo "  ntlmd VERIFY, ldap backend, cold, one connection per request:  $once/s (p50 $(col 10))"
echo "  ntlmd VERIFY, ldap backend, cache_ttl 600 (warm), kept:        $warm/s (p50 $(col 8))"
echo "  ntlmd VERIFY, files backend, kept:                             $files/s (p50 $(col 9))"
awk -v raw="$raw" -v each="$each" -v cold="$cold" -v warm="$warm" -v files="$files" -v once="$once" 'BEGIN {
	printf "ratios: raw one-connection / cold kept %.2fx (target <= 1.5x), raw / cold one-shot %.2fx,", raw / cold, raw / once
	printf " ldapsearch-like / cold kept %.2fx; files / warm %.2fx (target <= 1.2x)\n", each / cold, files / warm
	added = 1e6 / cold - 1e6 / files
	printf "time the ldap backend adds per request (cold - files, kept): %.1f us; one raw lookup: %.1f us; ratio %.2fx\n",
		added, 1e6 / raw, added * raw / 1e6 }'
# bench_ntlmd stops at the first reply that is not a success; ntlmd runs at
# log_level warning, so its log holds only what went wrong
echo "every VERIFY succeeded (bench_ntlmd checks each reply); lines in the cold ntlmd's log: $(wc -l <"$tmp/cold.log")"

# ---------------------------------------------------------------- scale
# Issue 16: LDAP_BENCH_SCALE_USERS accounts (default 100,000; 0 skips the
# case) in a second slapd, loaded with slapadd (timed, once per round), and
# a random sample of LDAP_BENCH_SCALE_SAMPLE distinct users (default 5,000;
# LDAP_BENCH_SCALE_SEED, default 16) drawn from all of them: the same users,
# in the same order, for the raw libldap lookups (one bound connection, and
# connect + bind + search each), ntlmd with the cache off (cold), ntlmd with
# cache_ttl 600 (warm, measured after one warm-up pass over the sample) and
# ntlmd with the files backend holding the same accounts. Each round looks
# every sampled user up at least once (REQUESTS, at least the sample);
# medians over ROUNDS rounds; ntlmd's resident memory (VmRSS) after the
# warm-up pass and after the rounds. The case's files are in $tmp/scale.
scale_users=${LDAP_BENCH_SCALE_USERS:-100000}

# VmRSS of process $1 in kB
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# seconds since the epoch, to the nanosecond
now_s() { date +%s.%N; }

# scale_sample N K SEED: K distinct account names drawn from the N
# accounts of sam_entries, one a line, in the order drawn
scale_sample() {
	awk -v n="$1" -v k="$2" -v seed="$3" 'BEGIN {
		srand(seed)
		while (drawn < k) {
			i = int(rand() * n)
			if (!(i in taken)) {
				taken[i]
				drawn++
				print i ? "bench" i : "bench"
			}
		}
	}'
}

# scale_load DIR: slapadd of DIR/data.ldif into a fresh DIR/db, the
# database of DIR/slapd.conf (tests/lib/slapd.sh's instance "scale");
# prints the seconds it took
scale_load() {
	local t0
	rm -rf "$1/db"
	mkdir "$1/db"
	t0=$(now_s)
	/usr/sbin/slapadd -q -f "$1/slapd.conf" -l "$1/data.ldif"
	awk -v t0="$t0" -v t1="$(now_s)" 'BEGIN { printf "%.2f\n", t1 - t0 }'
}

scale_case() {
	local root=$tmp
	# the functions called here (ldap_conf, start_ntlmd, ntlmd_rate,
	# raw_rate, col) see these: the scale slapd, its own files, REQUESTS
	local tmp=$root/scale port=$((port + 3)) n=$n sdir=$root/slapd-scale # ldaps:// on port + 5
	local k=${LDAP_BENCH_SCALE_SAMPLE:-5000} seed=${LDAP_BENCH_SCALE_SEED:-16}
	local t0 gen entries sample cold_pid warm_pid files_pid warm_rss_pass round r c raw each
	local cold cold_p50 warm warm_p50 files files_p50
	# an exit in here may run the EXIT trap with this function's tmp
	trap 'tmp=${tmp%/scale}; cleanup' EXIT
	[ "$k" -le "$scale_users" ] || k=$scale_users
	[ "$n" -ge "$k" ] || n=$k
	mkdir "$tmp" "$sdir"
	cp -p "$root/bindpw" "$tmp/bindpw"
	# instance a's slapd.conf (tests/lib/slapd.sh) with its own directory
	sed -e "s|$root/slapd-a/|$sdir/|g" -e 's/^maxsize .*/maxsize 1073741824/' \
		"$root/slapd-a/slapd.conf" >"$sdir/slapd.conf"
	# the accounts for the files backend from the benchmark's line (and
	# for sam_entries, which reads the hash from it)
	awk -F: -v OFS=: -v n="$scale_users" '{
		for (i = 0; i < n; i++) {
			$1 = i ? "bench" i : "bench"
			$2 = 1000 + i
			print
		}
	}' "$root/smbpasswd" >"$tmp/smbpasswd"
	chmod 600 "$tmp/smbpasswd"
	t0=$(now_s)
	{
		cat "$root/data.ldif"
		sam_entries "$users" "$scale_users"
	} >"$sdir/data.ldif"
	gen=$(awk -v t0="$t0" -v t1="$(now_s)" 'BEGIN { printf "%.2f", t1 - t0 }')
	entries=$(grep -c '^uid: ' "$sdir/data.ldif")
	: >"$tmp/loads"
	for _ in $(seq "$rounds"); do scale_load "$sdir" >>"$tmp/loads"; done
	start_slapd scale "$port"
	daemons="$daemons $SLAPD_SCALE"
	scale_sample "$scale_users" "$k" "$seed" >"$tmp/sample"
	sample=@$tmp/sample
	[ "$(sort -u "$tmp/sample" | wc -l)" -eq "$k" ] || {
		echo "scale: the sample is not $k distinct users"
		exit 1
	}

	ldap_conf >"$tmp/cold.keys"
	(
		ldap_conf
		printf 'cache_ttl 600\n'
	) >"$tmp/warm.keys"
	start_ntlmd cold ldap "$tmp/cold.keys"
	cold_pid=${daemons##* }
	start_ntlmd warm ldap "$tmp/warm.keys"
	warm_pid=${daemons##* }
	start_ntlmd files files /dev/null
	files_pid=${daemons##* }

	echo
	echo "== scale: $entries sambaSamAccount entries (LDIF made in $gen s; slapadd, s: $(paste -sd' ' "$tmp/loads"));" \
		"a sample of $k distinct users (seed $seed), $n requests a round"
	# warm-up, not counted: slapd's pages for the sample, the warm cache
	raw_rate "$sample" "$k" >/dev/null
	ntlmd_rate warm kept "$sample" >/dev/null
	warm_rss_pass=$(rss_kb "$warm_pid")
	: >"$tmp/figures"
	for round in $(seq "$rounds"); do
		r=$(raw_rate "$sample" "$n")
		c=$(raw_rate "$sample" $((n / 5)) connect)
		read -r cold cold_p50 <<<"$(ntlmd_rate cold kept "$sample")"
		read -r warm warm_p50 <<<"$(ntlmd_rate warm kept "$sample")"
		read -r files files_p50 <<<"$(ntlmd_rate files kept "$sample")"
		if [ -z "$r" ] || [ -z "$c" ] || [ -z "$cold" ] || [ -z "$warm" ] || [ -z "$files" ]; then
			echo "scale round $round: a lookup or a VERIFY failed (raw '$r', connect '$c', cold '$cold'," \
				"warm '$warm', files '$files'); outputs in $tmp"
			exit 1
		fi
		echo "scale round $round: raw $r/s, raw connect-each $c/s, cold $cold/s (p50 $cold_p50 us)," \
			"warm $warm/s (p50 $warm_p50 us), files $files/s (p50 $files_p50 us)"
		echo "$r $c $cold $warm $files $cold_p50 $warm_p50 $files_p50" >>"$tmp/figures"
	done
	raw=$(col 1) each=$(col 2) cold=$(col 3) warm=$(col 4) files=$(col 5)
	echo "scale medians of $rounds rounds ($n requests each over the $k sampled users; p50 in us):"
	echo "  raw libldap search by uid, one connection:                    $raw/s"
	echo "  raw libldap connect + bind + search (ldapsearch):              $each/s"
	echo "  ntlmd VERIFY, ldap backend, cache off (cold), kept connection: $cold/s (p50 $(col 6))"
	echo "  ntlmd VERIFY, ldap backend, cache_ttl 600 (warm), kept:        $warm/s (p50 $(col 7))"
	echo "  ntlmd VERIFY, files backend with the same accounts, kept:      $files/s (p50 $(col 8))"
	median <"$tmp/loads" | awk -v raw="$raw" -v each="$each" -v cold="$cold" -v warm="$warm" \
		-v files="$files" -v entries="$entries" '{
		printf "scale ratios: raw one-connection / cold %.2fx, ldapsearch-like / cold %.2fx,", raw / cold, each / cold
		printf " files / warm %.2fx (warm takes %.2fx the time of files per request)\n", files / warm, files / warm
		printf "scale load: slapadd of %d entries, median %.2f s (%.0f entries/s)\n", entries, $1, entries / $1
		printf "RATIO ldap_scale_raw_vs_cold %.2f\nRATIO ldap_scale_ldapsearch_vs_cold %.2f\n", raw / cold, each / cold
		printf "RATIO ldap_scale_files_vs_warm %.2f\nRATIO ldap_scale_load_s %.2f\n", files / warm, $1 }'
	awk -v pass="$warm_rss_pass" -v warm="$(rss_kb "$warm_pid")" -v cold="$(rss_kb "$cold_pid")" \
		-v files="$(rss_kb "$files_pid")" -v k="$k" -v users="$scale_users" 'BEGIN {
		printf "scale memory (VmRSS): warm ntlmd %.1f MB after the warm-up pass, %.1f MB after the rounds;", pass / 1024, warm / 1024
		printf " cold ntlmd %.1f MB; (warm - cold) / %d cached accounts: %.0f bytes each;", cold / 1024, k, (warm - cold) * 1024 / k
		printf " files ntlmd with %d accounts %.1f MB\n", users, files / 1024
		printf "RATIO ldap_scale_warm_rss_mb %.1f\n", pass / 1024 }'
	echo "scale: every VERIFY succeeded (bench_ntlmd checks each reply); lines in the cold ntlmd's log: $(wc -l <"$tmp/cold.log")"
	trap cleanup EXIT
}
if [ "$scale_users" != 0 ]; then scale_case; fi

# ---------------------------------------------------------------- concurrency
# Issue 16: ntlmd never waits on the directory. (1) A directory 20 ms away
# (delay_relay holds each of slapd's replies 20 ms): 32 concurrent clients
# doing cache-miss VERIFYs, through this build's ntlmd (store_workers 32)
# and through ntlmd built from OLD_REV (default 99ed7b2: main before the
# worker pool was merged; the merge base with main was that tree only
# while the change was on its branch) in this run; throughput ratio
# new / old (target >= 20x). (2) The directory hung (SIGSTOP) with 16
# lookups outstanding: the p99 latency of a files user and of a cache hit
# through the same ntlmd (targets < 5 ms). LDAP_BENCH_CONCURRENCY=0 skips
# it; CONCURRENCY_SECONDS (default 10) is each run's length.
[ "${LDAP_BENCH_CONCURRENCY:-1}" = 0 ] && exit 0
secs=${CONCURRENCY_SECONDS:-10}
rport=$((port + 1))
old_rev=${OLD_REV:-99ed7b2}
old_src=$tmp/old-src
relay=""
cleanup_concurrency() {
	set +e # the relay ends on SIGTERM with 143: not a failure of the cleanup
	[ -n "$relay" ] && kill "$relay" 2>/dev/null && wait "$relay" 2>/dev/null
	kill -CONT "$slapd" 2>/dev/null
	old_remove "$src" "$old_src"
	cleanup
}
trap cleanup_concurrency EXIT

echo
echo "== concurrency: the tree before the change ($(git -C "$src" log -1 --format='%h %s' "$old_rev" | cut -c1-60)...) built in $old_src"
old_build "$src" "$old_rev" "$old_src" libntlm common ldap backends ntlmd || {
	echo "concurrency: the old tree did not build"
	exit 1
}
old_ntlmd=$old_src/build/ntlmd/ntlmd

"$here/delay_relay" "$rport" "$port" 20 >"$tmp/relay.log" 2>&1 &
relay=$!
sleep 0.3
users=$(seq -f 'bench%.0f' 1 $((users - 1)) | tr '\n' ' ')

# start_daemon NAME BINARY BACKENDS KEYS-FILE: as start_ntlmd, with another binary
start_daemon() {
	{
		printf 'max_clock_skew 0\nlog_level warning\n'
		cat "$4"
	} | ntlmd_conf "$tmp/$1.sock" "$tmp/smbpasswd" "$3" BENCH BENCH >"$tmp/$1.conf"
	NTLMD=$2 ntlmd_start "$tmp/$1.conf" "$tmp/$1.log" "$tmp/$1.sock" -F
	daemons="$daemons $NTLMD_PID"
}

far_conf() {
	printf 'uri ldap://127.0.0.1:%s\nbase ou=people,%s\nbinddn cn=ntlmd,%s\n' "$rport" "$suffix" "$suffix"
	printf 'bindpw_file %s/bindpw\ntimelimit 5\nbind_timelimit 5\n' "$tmp"
}
far_conf >"$tmp/far-old.keys"
(
	far_conf
	printf 'store_workers 32\n'
) >"$tmp/far-new.keys"
start_daemon far-old "$old_ntlmd" ldap "$tmp/far-old.keys"
start_daemon far-new "$top/ntlmd/ntlmd" ldap "$tmp/far-new.keys"

# conc NAME CLIENTS SECONDS [-k] USER...: bench_concurrent's line
conc() {
	local name=$1 clients=$2 seconds=$3 keep=""
	shift 3
	if [ "$1" = -k ]; then
		keep=-k
		shift
	fi
	# shellcheck disable=SC2086 # $keep: no option or one
	run "$here/bench_concurrent" $keep -c "$clients" -t "$seconds" "$tmp/$name.sock" Bench-Passw0rd "$@"
}
# a few requests first: connections to the directory are made
conc far-old 1 1 bench >/dev/null
conc far-new 1 1 bench >/dev/null
# shellcheck disable=SC2086
old_line=$(conc far-old 32 "$secs" $users)
# shellcheck disable=SC2086
new_line=$(conc far-new 32 "$secs" $users)
echo "  before the change, 32 clients, directory 20 ms away, cache off: $old_line"
echo "  this build (store_workers 32), the same:                        $new_line"
rate() { sed -n 's/.*requests, \([0-9]*\)\/s.*/\1/p'; }
old_rate=$(printf '%s\n' "$old_line" | rate)
new_rate=$(printf '%s\n' "$new_line" | rate)
awk -v o="$old_rate" -v n="$new_rate" 'BEGIN {
	printf "ratio: cache-miss VERIFY throughput, this build / before, directory 20 ms away: %.1fx (target >= 20x)\n", n / o
	printf "RATIO ldap_concurrency_20ms %.1f\n", n / o }'

# the cost of the hand-off to a worker, for one client with slapd near
# (no relay): a cache miss now crosses two threads
near_conf() {
	printf 'uri ldap://127.0.0.1:%s\nbase ou=people,%s\nbinddn cn=ntlmd,%s\n' "$port" "$suffix" "$suffix"
	printf 'bindpw_file %s/bindpw\ntimelimit 5\nbind_timelimit 5\n' "$tmp"
}
near_conf >"$tmp/near.keys"
start_daemon near-old "$old_ntlmd" ldap "$tmp/near.keys"
start_daemon near-new "$top/ntlmd/ntlmd" ldap "$tmp/near.keys"
conc near-old 1 1 bench >/dev/null
conc near-new 1 1 bench >/dev/null
# shellcheck disable=SC2086
near_old=$(conc near-old 1 $((secs / 2)) $users)
# shellcheck disable=SC2086
near_new=$(conc near-new 1 $((secs / 2)) $users)
echo "  before the change, 1 client, slapd near, cache off:             $near_old"
echo "  this build, the same (each miss handed to a worker and back):   $near_new"
awk -v o="$(printf '%s\n' "$near_old" | rate)" -v n="$(printf '%s\n' "$near_new" | rate)" 'BEGIN {
	printf "ratio: one client, cache misses, slapd near: before / this build %.2fx (the hand-off)\n", o / n
	printf "RATIO ldap_near_old_vs_new %.2f\n", o / n }'

# (2) the directory hung: files users and cache hits meanwhile
(
	printf 'uri ldap://127.0.0.1:%s\nbase ou=people,%s\nbinddn cn=ntlmd,%s\n' "$port" "$suffix" "$suffix"
	printf 'bindpw_file %s/bindpw\ntimelimit 30\nbind_timelimit 30\ncache_ttl 600\n' "$tmp"
	printf 'store_timeout 60000\nstore_workers 8\n'
) >"$tmp/hung.keys"
start_daemon hung "$top/ntlmd/ntlmd" "files ldap" "$tmp/hung.keys"
conc hung 1 1 bench1 >/dev/null # bench1 is in the cache now ("bench" is a files user too)
kill -STOP "$slapd"
# shellcheck disable=SC2086 # 16 cache misses outstanding (8 run, 8 queue) for the whole measure
conc hung 16 $((2 * secs / 3 + 2)) -k bench100 bench101 bench102 bench103 bench104 bench105 bench106 bench107 \
	bench108 bench109 bench110 bench111 bench112 bench113 bench114 bench115 >"$tmp/blocked.out" &
blocked=$!
sleep 1
files_line=$(conc hung 1 $((secs / 3)) bench)
hit_line=$(conc hung 1 $((secs / 3)) bench1)
kill -CONT "$slapd"
wait "$blocked"
echo "  slapd stopped, 16 lookups outstanding: a files user:  $files_line"
echo "  slapd stopped, 16 lookups outstanding: a cache hit:   $hit_line"
echo "  the 16 blocked clients (their first request answered once slapd went on): $(cat "$tmp/blocked.out")"
p99() { sed -n 's/.*p99 \([0-9]*\) us.*/\1/p'; }
awk -v f="$(printf '%s\n' "$files_line" | p99)" -v h="$(printf '%s\n' "$hit_line" | p99)" 'BEGIN {
	printf "hung directory: p99 of a files user %.2f ms, of a cache hit %.2f ms (targets < 5 ms)\n", f / 1000, h / 1000
	printf "RATIO hung_files_p99_ms %.2f\nRATIO hung_cache_hit_p99_ms %.2f\n", f / 1000, h / 1000 }'
