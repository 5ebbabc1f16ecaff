#!/bin/bash
# bench_squid.sh: end-to-end requests per second through Squid, with our
# ntlm_auth (squid-2.5-ntlmssp over a private ntlmd, files backend) and with
# Samba's ntlm_auth (over a private standalone winbindd, tdbsam user,
# lib-samba.sh), in the same run, rounds alternating.
#
# Everything is private: a tiny origin server (python3 http.server), ntlmd,
# winbindd in its own namespaces, and two squids with their own configs, logs
# and pid files in a mktemp directory, on loopback ports from
# BENCH_SQUID_PORT_BASE (default 26300: origin, squid with ours, squid with
# Samba's, squid without authentication). The squid with Samba's helper runs in winbindd's mount namespace
# so that its helpers reach that winbindd; its helpers run as user proxy,
# which joins winbindd_priv in the namespace's private /etc/group.
#
# The client is a small python3-ntlm-auth load generator (NTLMv2 + MIC)
# with WORKERS parallel processes: every request opens a new TCP
# connection and so makes a full handshake (407 + CHALLENGE, then 200), and
# spawns no process. Sanity first: the right password gives 200 and a
# wrong one 407 through both squids, with curl --proxy-ntlm as the real
# client too; every timed request must give 200. Every round is bounded in
# count and in time.
#
# A third squid without authentication, driven by the same client (one
# plain GET per connection), gives the ceiling: what squid, the origin and
# the client cost without any NTLM. Prints per round and as medians
# requests/s and the request latency p50, and the machine-readable lines:
#   RATIO squid_e2e_rate <our requests/s / Samba's>
#   RATIO squid_e2e_p50 <Samba's request p50 / ours>
#   RATIO squid_e2e_auth_cpu <Samba's authentication CPU per request / ours>
# The authentication CPU is utime + stime from /proc before and after each
# round: ntlmd and squid's ntlm_auth helpers for ours; squid's ntlm_auth
# helpers and every process of winbindd's namespace for Samba's (a worker
# that exits during the round takes its time with it).
#
# Usage (from the build's bench directory, as bench/run.sh does):
#   bench_squid.sh [REQUESTS-PER-ROUND] [ROUNDS] [WORKERS]   (defaults 1000, 3, 2)
set -u
here=$(pwd)
top="$here/.."
src=$(cd "$(dirname "$0")" && pwd)
N=${1:-1000}
ROUNDS=${2:-3}
JOBS=${3:-2}
LIMIT=60 # seconds: bound of each round
PORT_BASE=${BENCH_SQUID_PORT_BASE:-26300}
ORIGIN_PORT=$PORT_BASE
OURS_PORT=$((PORT_BASE + 1))
SAMBA_PORT=$((PORT_BASE + 2))
PLAIN_PORT=$((PORT_BASE + 3)) # the ceiling: the same squid and client, no authentication
USER_NAME=benchuser
PASSWORD='Bench-Passw0rd'
PY=/usr/bin/python3
SQUID=${SQUID:-/usr/sbin/squid}

# shellcheck source=bench/lib-samba.sh
. "$src/lib-samba.sh"
# the private ntlmd and squids: tests/lib/ntlmd.sh and squid.sh
TESTS_LIB=$src/../tests/lib NTLMD=$top/ntlmd/ntlmd NTLMTOOL=$top/ntlmtool/ntlmtool
# shellcheck source=tests/testlib.sh
. "$src/../tests/testlib.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"
# shellcheck source=tests/lib/squid.sh
. "$TESTS_LIB/squid.sh"
samba_check || exit 0
if [ ! -x "$SQUID" ] || ! command -v curl >/dev/null 2>&1 || ! id proxy >/dev/null 2>&1; then
	echo "skipped: needs squid, curl and the proxy user"
	exit 0
fi
for m in ntlm_auth Cryptodome; do
	if ! "$PY" -c "import $m" 2>/dev/null; then
		echo "skipped: needs the Python module $m ($PY)"
		exit 0
	fi
done

tmp=$(mktemp -d /tmp/squid-bench.XXXXXX)
chmod 0755 "$tmp"
pids=""
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	samba_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
run() { "$top/libtool" --mode=execute "$@"; }
wait_for() { # tries command...: up to 10 s
	for _ in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# ---- the origin
mkdir -p "$tmp/www"
echo "hello from the origin" >"$tmp/www/index.html"
"$PY" -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$ORIGIN_PORT" >"$tmp/origin.log" 2>&1 &
pids="$pids $!"
URL="http://127.0.0.1:$ORIGIN_PORT/index.html"

# ---- ours: ntlmd with the files backend, answering squid's user
ntlmd_useradd "$tmp/smbpasswd" "$USER_NAME" 4001 "$PASSWORD"
ntlmd_conf "$tmp/ntlmd/socket" "$tmp/smbpasswd" files BENCH BENCH >"$tmp/ntlmd.conf" <<CONF
allow_users proxy
allow_groups proxy
lockout_threshold 0
log_level warning
CONF
ntlmd_spawn "$tmp/ntlmd.conf" "$tmp/ntlmd.log"
ntlmd_pid=$NTLMD_PID
pids="$pids $ntlmd_pid"
# the libtool wrapper builds its real binary on first use: do it as root
run "$top/ntlm_auth/ntlm_auth" --version >/dev/null || exit 1
helper_ours=$top/ntlm_auth/ntlm_auth

# ---- Samba: standalone winbindd; squid's helpers run as proxy
samba_start "$tmp/samba" "$USER_NAME" 4001 "$PASSWORD" NTLMBENCH BENCHWG proxy || exit 1
pids="$pids $SAMBA_WINBINDD_PID"

if ! ntlmd_ready "$tmp/ntlmd/socket" "$ntlmd_pid"; then
	echo "failed: ntlmd did not start"
	cat "$tmp/ntlmd.log"
	exit 1
fi
if ! wait_for curl -sf -o /dev/null --max-time 2 "$URL"; then
	echo "failed: the origin did not start"
	cat "$tmp/origin.log"
	exit 1
fi

# The squids (tests/lib/squid.sh) in $tmp/NAME: port $2, NTLM helper
# command $3 (none: no authentication); $4...: the command squid runs under.
bench_squid() {
	local name=$1 port=$2 helper=$3
	shift 3
	if [ -n "$helper" ]; then
		squid_conf "$tmp/$name" "$port" <<EOC
auth_param ntlm program $helper
auth_param ntlm children 8 startup=8 idle=1
acl authed proxy_auth REQUIRED
http_access allow authed
http_access deny all
EOC
	else
		printf 'http_access allow localnet\nhttp_access deny all\n' | squid_conf "$tmp/$name" "$port"
	fi
	squid_spawn "$tmp/$name" "$@"
	pids="$pids $SQUID_PID"
	squid_ready "$tmp/$name" "$port" "$URL" || {
		echo "failed: squid ($name) did not start"
		exit 1
	}
}
bench_squid ours "$OURS_PORT" "$helper_ours --helper-protocol=squid-2.5-ntlmssp --ntlmd-socket $tmp/ntlmd/socket"
squid_ours_pid=$SQUID_PID
bench_squid plain "$PLAIN_PORT" ""
# in winbindd's mount namespace (nsenter execs squid, so SQUID_PID is squid
# itself and the cleanup reaches it)
bench_squid samba "$SAMBA_PORT" "/usr/bin/ntlm_auth --helper-protocol=squid-2.5-ntlmssp --configfile=$SAMBA_CONF" \
	nsenter -t "$SAMBA_WINBINDD_PID" -m --
squid_samba_pid=$SQUID_PID

# ---- the load generator
cat >"$tmp/load.py" <<'PY'
import argparse, base64, hashlib, http.client, multiprocessing, statistics, sys, time


def enable_md4():
    # python3-ntlm-auth uses hashlib.new("md4"), which OpenSSL 3 refuses
    # without its legacy provider: route it to pycryptodome, here only
    try:
        hashlib.new("md4")
        return
    except ValueError:
        pass
    from Cryptodome.Hash import MD4

    original = hashlib.new

    def new(name, data=b"", **kw):
        if name.lower() == "md4":
            h = MD4.new()
            if data:
                h.update(data)
            return h
        return original(name, data, **kw)

    hashlib.new = new


def one_request(a):
    """A new connection, a full NTLM handshake; returns the final status."""
    from ntlm_auth.ntlm import NtlmContext

    conn = http.client.HTTPConnection(a.host, a.port, timeout=10)
    try:
        if a.no_auth:
            conn.request("GET", a.url)
            r = conn.getresponse()
            r.read()
            return r.status
        ctx = NtlmContext(a.user, a.password, domain=a.domain, workstation="CLIENT1", ntlm_compatibility=3)
        token = ctx.step()
        for _ in range(2):
            conn.request("GET", a.url, headers={"Proxy-Authorization": "NTLM " + base64.b64encode(token).decode()})
            r = conn.getresponse()
            r.read()
            if r.status != 407:
                return r.status
            hdr = [v for k, v in r.getheaders() if k.lower() == "proxy-authenticate" and v.startswith("NTLM ")]
            if not hdr or ctx.complete:
                return r.status
            token = ctx.step(base64.b64decode(hdr[0].split(" ", 1)[1]))
        return r.status
    finally:
        conn.close()


def worker(args):
    a, n, deadline = args
    enable_md4()
    one_request(a)  # warm-up, not counted: imports, first connection
    lat, bad = [], 0
    t_start = time.monotonic()
    for _ in range(n):
        if time.monotonic() > deadline:
            break
        t0 = time.perf_counter()
        status = one_request(a)
        lat.append(time.perf_counter() - t0)
        if status != a.expect:
            bad += 1
    return lat, bad, t_start, time.monotonic()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True, help="the password on its first line")
    ap.add_argument("--domain", required=True)
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=60)
    ap.add_argument("--expect", type=int, default=200)
    ap.add_argument("--label", default="run")
    ap.add_argument("--no-auth", action="store_true", help="plain GET, no Proxy-Authorization")
    a = ap.parse_args()
    with open(a.password_file, encoding="utf-8") as f:
        a.password = f.readline().rstrip("\n")
    a.host, port = a.proxy.rsplit(":", 1)
    a.port = int(port)
    per = [a.n // a.j + (1 if i < a.n % a.j else 0) for i in range(a.j)]
    deadline = time.monotonic() + a.time_limit
    with multiprocessing.Pool(a.j) as pool:
        results = pool.map(worker, [(a, k, deadline) for k in per])
    # from the first worker's start to the last one's end (CLOCK_MONOTONIC)
    elapsed = max(r[3] for r in results) - min(r[2] for r in results)
    lat = sorted(x for r in results for x in r[0])
    bad = sum(r[1] for r in results)
    done = len(lat)
    p50 = statistics.median(lat) * 1e3 if lat else 0
    p99 = lat[min(done - 1, int(done * 0.99))] * 1e3 if lat else 0
    rate = done / elapsed if elapsed > 0 else 0
    print(f"{a.label:6} requests {done:6d} ({bad} not {a.expect})  {rate:8.1f} req/s  p50 {p50:.2f} ms  p99 {p99:.2f} ms")
    print(f"RESULT {a.label} req_per_s={rate:.1f} p50_ms={p50:.3f} p99_ms={p99:.3f} done={done} bad={bad}")
    return 0 if bad == 0 and done > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
PY

# the client reads the password from a file, not from its command line
(
	umask 077
	printf '%s\n' "$PASSWORD" >"$tmp/right.pw"
	printf '%s\n' "Wrong-Passw0rd" >"$tmp/wrong.pw"
)
load() { # label port domain n jobs [right|wrong expect]
	local extra=""
	[ "$1" = plain ] && extra=--no-auth
	# shellcheck disable=SC2086 # $extra: one option or none
	timeout $((LIMIT + 30)) "$PY" -B "$tmp/load.py" --label "$1" --proxy "127.0.0.1:$2" --url "$URL" \
		--user "$USER_NAME" --password-file "$tmp/${6:-right}.pw" --domain "$3" -n "$4" -j "$5" \
		--time-limit "$LIMIT" --expect "${7:-200}" $extra
}
curl_status() { # port domain password
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 -x "http://127.0.0.1:$1" --proxy-ntlm \
		-U "$2\\$USER_NAME:$3" "$URL"
}

# ---- sanity: both squids authenticate for real. winbindd starts
# samba-dcerpcd for the local SAM on the first logon: wait for that.
authenticates() { # port domain
	[ "$(curl_status "$1" "$2" "$PASSWORD")" = 200 ]
}
wait_for authenticates "$OURS_PORT" BENCH
wait_for authenticates "$SAMBA_PORT" NTLMBENCH
ok=1
for s in ours:$OURS_PORT:BENCH samba:$SAMBA_PORT:NTLMBENCH; do
	IFS=: read -r name port dom <<<"$s"
	good=$(curl_status "$port" "$dom" "$PASSWORD")
	wrong=$(curl_status "$port" "$dom" "Wrong-Passw0rd")
	echo "sanity: $name: curl --proxy-ntlm right password $good, wrong password $wrong"
	[ "$good" = 200 ] && [ "$wrong" = 407 ] || ok=0
	load "$name" "$port" "$dom" 20 1 | grep -v '^RESULT' || ok=0
	load "$name" "$port" "$dom" 4 1 wrong 407 | grep -v '^RESULT' || ok=0
done
if [ "$ok" -ne 1 ]; then
	echo "failed: sanity checks"
	tail -n 5 "$tmp/ours/cache.log" "$tmp/samba/cache.log" "$tmp/ntlmd.log" "$tmp"/samba/log/log.*
	exit 1
fi

# ---- CPU of the authentication side: utime + stime from /proc/<pid>/stat
hz=$(getconf CLK_TCK)
descendants() { # pid: it and every process below it
	local c
	echo "$1"
	for c in $(pgrep -P "$1"); do descendants "$c"; done
}
cpu_ticks() { # pid...
	local p total=0 t
	for p in "$@"; do
		# the fields after "pid (comm)": utime and stime are the 12th and 13th
		t=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}')
		total=$((total + ${t:-0}))
	done
	echo "$total"
}
# ours: ntlmd and squid's helpers; Samba: squid's helpers and every process
# of winbindd's namespace (its domain child, samba-dcerpcd, rpcd workers)
auth_pids() { # label
	case "$1" in
	ours) echo "$ntlmd_pid" && pgrep -P "$squid_ours_pid" -f ntlm_auth ;;
	samba) descendants "$SAMBA_WINBINDD_PID" && pgrep -P "$squid_samba_pid" -f ntlm_auth ;;
	esac
}
# One timed round; adds cpu_ms= (authentication CPU per request) to RESULT.
timed_round() { # label port domain
	local before after count cpu rc=0
	# shellcheck disable=SC2046 # one pid per word
	before=$(cpu_ticks $(auth_pids "$1"))
	load "$1" "$2" "$3" "$N" "$JOBS" >"$tmp/round" || rc=1
	# shellcheck disable=SC2046
	after=$(cpu_ticks $(auth_pids "$1"))
	count=$(sed -n 's/^RESULT .* done=\([0-9]*\).*/\1/p' "$tmp/round")
	if [ "$1" != plain ]; then
		cpu=$(awk -v a="$after" -v b="$before" -v n="${count:-0}" -v hz="$hz" \
			'BEGIN { if (n > 0) printf "%.3f", (a - b) * 1000 / hz / n }')
		sed -i "s/^RESULT .*/& cpu_ms=$cpu/" "$tmp/round"
		echo "$1    authentication CPU per request: $cpu ms" >>"$tmp/round"
	fi
	tee -a "$tmp/results" <"$tmp/round" | grep -v '^RESULT'
	return "$rc"
}

echo "$N requests per round (at most $LIMIT s), $JOBS workers, $ROUNDS rounds alternating;" \
	"load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$tmp/results"
failed=0
for r in $(seq "$ROUNDS"); do
	echo "-- round $r"
	timed_round ours "$OURS_PORT" BENCH || failed=1
	timed_round samba "$SAMBA_PORT" NTLMBENCH || failed=1
	timed_round plain "$PLAIN_PORT" - || failed=1
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$failed" -ne 0 ]; then
	echo "failed: some requests did not get 200"
	exit 1
fi
# squid logged the user on every request it let through
for name in ours samba; do
	n=$(awk -v u="$USER_NAME" 'tolower($8) ~ u && $4 ~ /\/200$/' "$tmp/$name/access.log" | wc -l)
	echo "$name: squid's access.log has $n requests with 200 and the user"
done

median() { # label field
	grep "^RESULT $1 " "$tmp/results" | tr ' ' '\n' | sed -n "s/^$2=//p" | sort -g |
		awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'
}
o=$(median ours req_per_s)
s=$(median samba req_per_s)
op=$(median ours p50_ms)
sp=$(median samba p50_ms)
p=$(median plain req_per_s)
pp=$(median plain p50_ms)
echo "median req/s: ours $o, samba $s, no authentication $p;" \
	"median p50: ours $op ms, samba $sp ms, no authentication $pp ms"
awk -v o="$o" -v s="$s" -v p="$p" 'BEGIN { if (p > 0) printf "share of the unauthenticated rate: ours %.0f %%, samba %.0f %%\n", 100 * o / p, 100 * s / p }'
oc=$(median ours cpu_ms)
sc=$(median samba cpu_ms)
echo "median authentication CPU per request: ours $oc ms, samba $sc ms (clock ticks of 1/$hz s)"
awk -v o="$o" -v s="$s" 'BEGIN { if (s > 0) printf "RATIO squid_e2e_rate %.2f\n", o / s }'
awk -v o="$oc" -v s="$sc" 'BEGIN { if (o > 0) printf "RATIO squid_e2e_auth_cpu %.2f\n", s / o }'
awk -v o="$op" -v s="$sp" 'BEGIN { if (o > 0) printf "RATIO squid_e2e_p50 %.2f\n", s / o }'
