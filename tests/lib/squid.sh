# shellcheck shell=sh
# squid.sh: a private Squid on a loopback port for the tests and the
# benchmarks (POSIX sh), sourced after tests/testlib.sh (stop_pid). Reads
# SQUID (default /usr/sbin/squid) and WAIT (seconds, default 10). The user
# proxy must exist: Squid runs as it (cache_effective_user).
#
# squid_conf DIR PORT
#   writes DIR/squid.conf: http_port 127.0.0.1:PORT, logs and pid file in
#   DIR (made, owned by proxy), no cache, no DNS or ICMP outside loopback,
#   only 127.0.0.1 let in; then the lines on stdin, which name the helpers
#   ("auth_param ntlm program ...") and the access rules after them.
# squid_spawn DIR [PREFIX...]
#   starts "PREFIX... $SQUID -N -f DIR/squid.conf" in the background (a
#   PREFIX such as "nsenter -t PID -m --" must exec Squid), its output in
#   DIR/stdout.log; sets SQUID_PID.
# squid_ready DIR PORT URL
#   waits up to WAIT s until a request for URL through the proxy on PORT
#   gets any HTTP answer (407 included); otherwise prints DIR's logs to
#   stderr, stops SQUID_PID and returns 1.
# squid_start DIR PORT URL
#   squid_spawn, then squid_ready.

SQUID=${SQUID:-/usr/sbin/squid}
SQUID_PID=""

squid_conf() {
    mkdir -p "$1"
    chown proxy "$1"
    {
        cat <<EOC
http_port 127.0.0.1:$2
pid_filename $1/squid.pid
cache_log $1/cache.log
access_log stdio:$1/access.log
cache_store_log none
coredump_dir $1
cache deny all
cache_effective_user proxy
shutdown_lifetime 0 seconds
pinger_enable off
dns_nameservers 127.0.0.1
udp_outgoing_address 127.0.0.1
acl localnet src 127.0.0.1
http_access deny !localnet
EOC
        cat
    } >"$1/squid.conf"
}

squid_spawn() {
    dir=$1
    shift
    "$@" "$SQUID" -N -f "$dir/squid.conf" >"$dir/stdout.log" 2>&1 &
    SQUID_PID=$!
}

squid_ready() {
    tries=$((${WAIT:-10} * 10))
    until curl -s -o /dev/null --max-time 2 -x "http://127.0.0.1:$2" "$3" 2>/dev/null; do
        tries=$((tries - 1))
        if [ "$tries" -le 0 ] || ! kill -0 "$SQUID_PID" 2>/dev/null; then
            echo "squid did not start:" >&2
            cat "$1/cache.log" "$1/stdout.log" >&2
            stop_pid "$SQUID_PID"
            SQUID_PID=""
            return 1
        fi
        sleep 0.1
    done
}

squid_start() {
    squid_spawn "$1"
    squid_ready "$1" "$2" "$3"
}
