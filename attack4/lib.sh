# shellcheck shell=sh
# attack4/lib.sh: a private slapd (tests/lib/slapd.sh: the Samba
# schema, ldap_driver.py's accounts) and private ntlmd instances for the
# attack scripts. Sourced; run as root from anywhere. Everything lives in
# $WORK (under $TMPDIR) and is stopped by the EXIT trap.
#   BUILD   the build directory (default: build/plain of the worktree)
#   KEEP_WORK=1 keeps $WORK
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build/plain}
NTLMD=${NTLMD:-$BUILD/ntlmd/ntlmd}
NTLMTOOL=${NTLMTOOL:-$BUILD/ntlmtool/ntlmtool}
PY=/usr/bin/python3
WAIT=10
HERE=$TOP/tests/ldap
TESTS_LIB=$TOP/tests/lib
export NTLMD_TESTS_DIR=$TOP/tests/lib
export LDAP_DRIVER=$TESTS_LIB/ldap_driver.py
ATK=$TOP/attack4/atk.py
# shellcheck source=tests/testlib.sh
. "$TOP/tests/testlib.sh"
# shellcheck source=tests/lib/slapd.sh
. "$TESTS_LIB/slapd.sh"
PORT_A=$(free_ports 3)
SLAPD_A=""
NTLMD_PIDS=""
WORK=$(mktemp -d "${TMPDIR:-/tmp}/attack4.XXXXXX") || exit 99

atk_cleanup() {
    for p in $NTLMD_PIDS; do kill -CONT "$p" 2>/dev/null; stop_pid "$p"; done
    [ -n "$SLAPD_A" ] && kill -CONT "$SLAPD_A" 2>/dev/null
    stop_pid "$SLAPD_A"
    [ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
    return 0
}
trap atk_cleanup EXIT
trap 'exit 1' HUP INT TERM

start_directory() { # the slapd with ldap_driver.py's accounts, on $PORT_A
    slapd_require
    slapd_prepare
    BINDPW=reader-secret-$$
    printf '%s\n' "$BINDPW" >"$WORK/bindpw"
    chmod 600 "$WORK/bindpw"
    slapd_load "$BINDPW" a
    start_slapd a "$PORT_A"
}

# start_ntlmd NAME: an ntlmd whose ldap lines come on stdin (appended to
# a base: backends ldap, cache_ttl from $CACHE_TTL, lockout_writeback as
# cn=ntlmd); its socket is $WORK/run-NAME/socket.
start_ntlmd() {
    run=$WORK/run-$1
    mkdir -p "$run"
    {
        cat <<EOC
socket         $run/socket
backends       ldap
netbios_name   HOST$1
netbios_domain TESTDOM
base           ou=people,$SUFFIX
uri            ldap://127.0.0.1:$PORT_A
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
rootbinddn     cn=ntlmd,$SUFFIX
rootbindpw_file $WORK/bindpw
lockout_writeback yes
timelimit      2
bind_timelimit 2
cache_ttl      ${CACHE_TTL:-0}
EOC
        cat
    } >"$run/ntlmd.conf"
    "$NTLMD" -d -f "$run/ntlmd.conf" >"$run/log" 2>&1 &
    pid=$!
    NTLMD_PIDS="$NTLMD_PIDS $pid"
    eval "NTLMD_$1=\$pid"
    tries=$((WAIT * 10))
    while [ ! -S "$run/socket" ]; do
        tries=$((tries - 1))
        if [ "$tries" -le 0 ] || ! kill -0 "$pid" 2>/dev/null; then
            echo "ERROR: ntlmd $1 did not start:" >&2
            cat "$run/log" >&2
            exit 99
        fi
        sleep 0.1
    done
    sleep 0.2
}

sock() { printf '%s/run-%s/socket' "$WORK" "$1"; }

set_attrs() { # USER ATTRIBUTE VALUE [ATTRIBUTE VALUE...] on instance a
    user=$1
    shift
    {
        printf 'dn: uid=%s,ou=people,%s\nchangetype: modify\n' "$user" "$SUFFIX"
        while [ $# -ge 2 ]; do
            printf 'replace: %s\n%s: %s\n-\n' "$1" "$1" "$2"
            shift 2
        done
    } | ldap_admin
}

set_policy() { # THRESHOLD DURATION_MIN WINDOW_MIN: the sambaDomain's (Samba's minutes)
    printf 'dn: sambaDomainName=TESTDOM,%s\nchangetype: modify\nreplace: sambaLockoutThreshold\nsambaLockoutThreshold: %s\n-\nreplace: sambaLockoutDuration\nsambaLockoutDuration: %s\n-\nreplace: sambaLockoutObservationWindow\nsambaLockoutObservationWindow: %s\n' \
        "$SUFFIX" "$1" "$2" "$3" | ldap_admin
}

logon() { # SOCKET USER PASSWORD|wrong [ADDRESS]: prints the status
    "$PY" -B "$ATK" logon "$@"
}

check() { # NAME COMMAND...
    name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
