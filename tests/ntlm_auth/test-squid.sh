#!/bin/sh
# test-squid.sh: Debian's Squid on loopback with a private squid.conf, its
# auth_param ntlm, negotiate and basic programs being ntlm_auth
# (squid-2.5-ntlmssp, gss-spnego, squid-2.5-basic) over a real ntlmd; a
# tiny origin server (python3 http.server); clients: curl --proxy-ntlm,
# curl --proxy-basic and a scripted Negotiate client. Checks 200 for the
# right password, 407 for a wrong one and for a disabled account, and the
# user name in access.log as ntlmd.conf formats it.
set -u
# shellcheck source=tests/ntlm_auth/common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
# shellcheck source=tests/lib/squid.sh
. "$TESTS_LIB/squid.sh"

PORT_BASE=${NTLM_AUTH_PORT_BASE:-$(free_ports 3)}
PROXY_PORT=$PORT_BASE
ORIGIN_PORT=$((PORT_BASE + 1))
KV_PORT=$((PORT_BASE + 2)) # a second squid, helpers as the shipped example runs them

[ -x "$SQUID" ] || skip_or_fail "squid"
command -v curl >/dev/null 2>&1 || skip_or_fail "curl"
[ "$(id -u)" -eq 0 ] || skip_or_fail "root (squid switches to its cache_effective_user)"
id proxy >/dev/null 2>&1 || skip_or_fail "the proxy user"
setup
# the reported name: lower case, winbind's '+' separator (ntlmd.conf)
start_ntlmd <<EOC
user_name_case     lower
domain_separator   +
EOC
EXPECTED_USER='testdom+alice'

# The libtool wrapper builds its real binary on first use: do it as root.
"$NTLM_AUTH" --version >/dev/null || exit 99

mkdir -p "$WORK/www"
echo "hello from the origin" >"$WORK/www/index.html"
"$PY" -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$ORIGIN_PORT" >"$WORK/origin.log" 2>&1 &
started $!

HELPER="$NTLM_AUTH --ntlmd-socket $SOCKET"
# Starts a squid in $WORK/$1 on port $2 (tests/lib/squid.sh); $3: extra
# ntlm_auth options; $4: more auth_param lines.
start_squid() {
    squid_conf "$WORK/$1" "$2" <<EOC
auth_param ntlm program $HELPER --helper-protocol=squid-2.5-ntlmssp $3
auth_param ntlm children 3 startup=1 idle=1
auth_param negotiate program $HELPER --helper-protocol=gss-spnego $3
auth_param negotiate children 3 startup=1 idle=1
auth_param basic program $HELPER --helper-protocol=squid-2.5-basic $3
auth_param basic children 2 startup=1 idle=1
auth_param basic realm test
${4:-}
acl authed proxy_auth REQUIRED
http_access allow authed
http_access deny all
EOC
    squid_start "$WORK/$1" "$2" "http://127.0.0.1:$ORIGIN_PORT/" || exit 99
    started "$SQUID_PID"
}
if ! wait_until curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$ORIGIN_PORT/"; then
    echo "ERROR: the origin server did not start: $(cat "$WORK/origin.log")" >&2
    exit 99
fi
# The second squid runs the helpers with the options of the shipped example
# (squid/ntlm_auth.conf as make install installs it): key=value replies for
# the three schemes, so that "john smith" is logged whole. Its program lines
# name the installed helper, $(pkglibexecdir)/ntlm_auth.
SHIPPED=$(shipped squid/ntlm_auth.conf) || exit 99
shipped_options() { # scheme: the options after --helper-protocol=... of its program line
    sed -n "s|^auth_param $1 program $INSTALLED_NTLM_AUTH --helper-protocol=[^ ]* *||p" "$SHIPPED"
}
KV_OPTIONS=$(shipped_options ntlm)
ok=1
for scheme in ntlm negotiate basic; do
    case " $(shipped_options "$scheme") " in
    *" --squid-kv-replies "*) ;;
    *) ok=0 ;;
    esac
    [ "$(shipped_options "$scheme")" = "$KV_OPTIONS" ] || ok=0
done
if [ "$ok" -eq 1 ]; then
    pass "the shipped Squid example runs ntlm, negotiate and basic with --squid-kv-replies"
else
    fail "the shipped Squid example: $(grep '^auth_param .* program' "$SHIPPED")"
fi

start_squid squid "$PROXY_PORT" ""
# and with its key_extras lines as they are: the client address reaches ntlmd
KEY_EXTRAS=$(grep '^auth_param [a-z]* key_extras ' "$SHIPPED")
if [ "$(printf '%s\n' "$KEY_EXTRAS" | grep -c '"%>a"$')" -eq 3 ]; then
    pass "the shipped Squid example passes the client address (key_extras \"%>a\") for the three schemes"
else
    fail "the shipped Squid example's key_extras: $KEY_EXTRAS"
fi
start_squid squid-kv "$KV_PORT" "$KV_OPTIONS" "$KEY_EXTRAS"

URL="http://127.0.0.1:$ORIGIN_PORT/index.html"
# curl through the proxy; prints the final status
via() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -x "http://127.0.0.1:$PROXY_PORT" "$@" "$URL"
}
check_http() { # NAME EXPECTED ACTUAL: an HTTP status (testlib.sh's check runs a command)
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: HTTP $3, expected $2"; fi
}

check_http "no credentials: 407" 407 "$(via)"
check_http "NTLM (curl --proxy-ntlm), right password: 200" 200 "$(via --proxy-ntlm -U 'TESTDOM\alice:Passw0rd!')"
check_http "NTLM, wrong password: 407" 407 "$(via --proxy-ntlm -U 'TESTDOM\alice:WrongPass1')"
check_http "NTLM, unknown user: 407" 407 "$(via --proxy-ntlm -U 'TESTDOM\nosuchuser:WrongPass1')"
check_http "NTLM, disabled account with its right password: 407" 407 "$(via --proxy-ntlm -U 'TESTDOM\bob:Bobpass1!')"
check_http "Basic (curl --proxy-basic), right password: 200" 200 "$(via --proxy-basic -U 'TESTDOM\alice:Passw0rd!')"
check_http "Basic, wrong password: 407" 407 "$(via --proxy-basic -U 'alice:WrongPass1')"
check_http "Basic, disabled account: 407" 407 "$(via --proxy-basic -U 'bob:Bobpass1!')"

neg() {
    timeout 30 "$PY" -B "$HERE/negotiate_client.py" --proxy "127.0.0.1:$PROXY_PORT" --url "$URL" "$@" 2>&1
}
check_http "Negotiate with SPNEGO-wrapped NTLMSSP, right password: 200" 200 "$(neg --user alice --password 'Passw0rd!')"
check_http "Negotiate with raw NTLMSSP, right password: 200" 200 "$(neg --raw --user alice --password 'Passw0rd!')"
check_http "Negotiate, wrong password: 407" 407 "$(neg --user alice --password WrongPass1)"
check_http "Negotiate, disabled account: 407" 407 "$(neg --user bob --password 'Bobpass1!')"

# Squid >= 3.4 replies (OK user=... / OK token=... user=... / ERR message=...),
# as the shipped example configures them
PROXY_PORT=$KV_PORT
check_http "kv replies: NTLM right password: 200" 200 "$(via --proxy-ntlm -U 'TESTDOM\alice:Passw0rd!')"
check_http "kv replies: NTLM wrong password: 407" 407 "$(via --proxy-ntlm -U 'TESTDOM\alice:WrongPass1')"
check_http "kv replies: Negotiate (SPNEGO) right password: 200" 200 "$(neg --user alice --password 'Passw0rd!')"
check_http "kv replies: Negotiate wrong password: 407" 407 "$(neg --user alice --password WrongPass1)"
check_http "kv replies: Basic wrong password: 407" 407 "$(via --proxy-basic -U 'alice:WrongPass1')"
check_http "kv replies: NTLM, a user name with a space: 200" 200 "$(via --proxy-ntlm -U 'TESTDOM\john smith:John-pass1')"
if grep -q ' testdom+john smith ' "$WORK/squid-kv/access.log"; then
    pass "kv replies: the name with a space reaches access.log whole (URL-escaped in the reply)"
else
    fail "kv replies: no 'testdom+john smith' in access.log: $(tail -3 "$WORK/squid-kv/access.log")"
fi
n=$(awk -v u="$EXPECTED_USER" '$8 == u && $4 ~ /\/200$/' "$WORK/squid-kv/access.log" | wc -l)
if [ "$n" -eq 2 ]; then
    pass "kv replies: access.log names '$EXPECTED_USER' (URL-escaped in the reply, unescaped by Squid)"
else
    fail "kv replies: access.log: $(cat "$WORK/squid-kv/access.log")"
fi

if grep 'VERIFY success ' "$NTLMD_LOG" | grep -q 'client="127.0.0.1"'; then
    pass "kv replies: ntlmd's audit names the client address Squid passed (key_extras)"
else
    fail "kv replies: no VERIFY success with client=\"127.0.0.1\" in ntlmd's log: $(grep 'VERIFY' "$NTLMD_LOG" | tail -2)"
fi

# access.log (squid's native format, user in the 8th field): the NTLM and
# Negotiate successes carry ntlmd's name; Basic logs the name the client sent.
n=$(awk -v u="$EXPECTED_USER" '$8 == u && $4 ~ /\/200$/' "$WORK/squid/access.log" | wc -l)
if [ "$n" -eq 3 ]; then
    pass "access.log names the user '$EXPECTED_USER' (ntlmd.conf's format) on the 3 NTLM/Negotiate successes"
else
    fail "access.log: $n lines with user '$EXPECTED_USER' and 200, expected 3: $(cat "$WORK/squid/access.log")"
fi
if grep -qi "FATAL\|Unsupported helper response\|helpers are crashing\|exited" "$WORK"/squid*/cache.log; then
    fail "cache.log reports helper trouble: $(grep -i 'FATAL\|Unsupported\|crashing\|exited' "$WORK"/squid*/cache.log)"
else
    pass "cache.log: no helper crash, no unsupported reply"
fi
if grep -q 'Passw0rd\|Bobpass' "$WORK"/squid*/cache.log "$NTLMD_LOG"; then
    fail "a password reached a log"
else
    pass "no password in cache.log or ntlmd's log"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
