#!/bin/sh
# test-freeradius.sh: Debian's FreeRADIUS (freeradius -X) with a private
# raddb whose mschap module calls ntlm_auth --request-nt-key over a real
# ntlmd, on a loopback port. radtest -t mschap (MS-CHAPv1): Access-Accept
# for the right password, Access-Reject for a wrong one and a disabled
# account; MS-CHAPv2 through radclient: Access-Accept with the right
# MS-CHAP2-Success (it needs the right NT_KEY) and the MS-MPPE keys; PAP
# through the exec module: Access-Accept / Access-Reject.
#
# The shipped files are used as shipped, so that they must agree: ntlmd runs
# with the service blocks of ntlmd.conf (and its default global policy,
# ntlmv2-only), and the mschap and exec modules are freeradius/
# mschap-ntlm_auth and exec-ntlm_auth, as make install installs them (the
# build tree's etc/, generated from etc/*.in), in which sed substitutes only
# the helper's installed path, $(pkglibexecdir)/ntlm_auth, by the built
# helper with --ntlmd-socket= the test's socket (etc/README.md). The
# listener's port is the test's own.
set -u
# shellcheck source=tests/ntlm_auth/common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

RADIUSD=${RADIUSD:-/usr/sbin/freeradius}
PORT=${NTLM_AUTH_RADIUS_PORT:-$(free_ports 1)}
SECRET=testing123

[ -x "$RADIUSD" ] || skip_or_fail "freeradius"
command -v radtest >/dev/null 2>&1 || skip_or_fail "radtest (freeradius-utils)"
command -v radclient >/dev/null 2>&1 || skip_or_fail "radclient (freeradius-utils)"
setup
SHIPPED_SERVICES=1 start_ntlmd </dev/null
"$NTLM_AUTH" --version >/dev/null || exit 99 # the libtool wrapper's first run

RADDB=$WORK/raddb
mkdir -p "$RADDB" "$WORK/log" "$WORK/run"
for f in mschap-ntlm_auth exec-ntlm_auth; do
    src=$(shipped "freeradius/$f") || exit 99
    sed "s|$INSTALLED_NTLM_AUTH |$NTLM_AUTH --ntlmd-socket=$SOCKET |" "$src" >"$RADDB/$f"
    grep -q -- "--ntlmd-socket=$SOCKET" "$RADDB/$f" || {
        echo "ERROR: no $INSTALLED_NTLM_AUTH in $src" >&2
        exit 99
    }
done
cp /etc/freeradius/3.0/dictionary "$RADDB/dictionary"
cat >"$RADDB/radiusd.conf" <<EOC
# A trimmed radiusd.conf: one client, one listener, the mschap module only.
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = $WORK
sbindir = /usr/sbin
logdir = $WORK/log
raddbdir = $RADDB
radacctdir = $WORK/log
name = freeradius
confdir = $RADDB
modconfdir = $RADDB/mods-config
run_dir = $WORK/run
db_dir = $WORK
libdir = /usr/lib/freeradius
pidfile = $WORK/run/freeradius.pid
max_request_time = 30
cleanup_delay = 0
max_requests = 256
hostname_lookups = no
log {
    destination = files
    file = $WORK/log/radius.log
    auth = yes
}
security {
    allow_core_dumps = no
    max_attributes = 200
    reject_delay = 0
    status_server = no
}
thread pool {
    start_servers = 1
    max_servers = 2
    min_spare_servers = 1
    max_spare_servers = 2
    max_requests_per_server = 0
}
client localhost {
    ipaddr = 127.0.0.1
    secret = $SECRET
}
modules {
\$INCLUDE $RADDB/mschap-ntlm_auth
\$INCLUDE $RADDB/exec-ntlm_auth
}
server default {
    listen {
        type = auth
        ipaddr = 127.0.0.1
        port = $PORT
    }
    authorize {
        mschap
        if (&User-Password) {
            update control {
                &Auth-Type := ntlm_auth
            }
        }
    }
    authenticate {
        Auth-Type MS-CHAP {
            mschap
        }
        Auth-Type ntlm_auth {
            ntlm_auth
        }
    }
}
EOC

"$RADIUSD" -X -d "$RADDB" >"$WORK/log/debug.log" 2>&1 &
started $!
if ! wait_until grep -q "Ready to process requests" "$WORK/log/debug.log"; then
    echo "ERROR: freeradius did not start:" >&2
    tail -30 "$WORK/log/debug.log" >&2
    exit 99
fi

radtest_case() { # name expected user password [type]
    out=$(timeout 30 radtest -t "${5:-mschap}" "$3" "$4" "127.0.0.1:$PORT" 0 "$SECRET" 2>&1)
    if printf '%s\n' "$out" | grep -q "Received $2"; then
        pass "$1"
    else
        fail "$1: $(printf '%s\n' "$out" | tail -5)"
    fi
}
radtest_case "MS-CHAPv1 (radtest -t mschap), right password: Access-Accept" Access-Accept alice 'Passw0rd!'
radtest_case "MS-CHAPv1, wrong password: Access-Reject" Access-Reject alice WrongPass1
radtest_case "MS-CHAPv1, unknown user: Access-Reject" Access-Reject nosuchuser WrongPass1
radtest_case "MS-CHAPv1, disabled account: Access-Reject" Access-Reject bob 'Bobpass1!'
radtest_case "PAP through the exec module (radtest -t pap), right password: Access-Accept" \
    Access-Accept alice 'Passw0rd!' pap
radtest_case "PAP through the exec module, wrong password: Access-Reject" Access-Reject alice WrongPass1 pap

v2_case() { # name expect user password
    out=$(timeout 60 "$PY" -B "$HERE/radius_client.py" --server "127.0.0.1:$PORT" --secret "$SECRET" \
        --user "$3" --password "$4" --expect "$2" 2>&1)
    if [ "$out" = ok ]; then pass "$1"; else fail "$1: $out"; fi
}
v2_case "MS-CHAPv2, right password: Access-Accept, MS-CHAP2-Success from the NT_KEY, MS-MPPE keys" accept alice 'Passw0rd!'
v2_case "MS-CHAPv2, wrong password: Access-Reject" reject alice WrongPass1

if grep -q "E=691" "$WORK/log/debug.log" && ! grep -q "Invalid output from ntlm_auth" "$WORK/log/debug.log"; then
    pass "FreeRADIUS parsed every ntlm_auth output (E=691 on failures, no 'Invalid output')"
else
    fail "FreeRADIUS debug log: $(grep -i 'ntlm_auth\|E=6' "$WORK/log/debug.log" | tail -10)"
fi
if grep -q 'Passw0rd\|Bobpass' "$NTLMD_LOG"; then
    fail "a password reached ntlmd's log"
else
    pass "no password in ntlmd's log"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
