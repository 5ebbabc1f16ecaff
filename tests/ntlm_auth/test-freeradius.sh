#!/bin/sh
# test-freeradius.sh: Debian's FreeRADIUS (freeradius -X) with a private
# raddb whose mschap module calls ntlm_auth --request-nt-key over a real
# ntlmd, on a loopback port. radtest -t mschap (MS-CHAPv1): Access-Accept
# for the right password, Access-Reject for a wrong one and a disabled
# account; MS-CHAPv2 through radclient: Access-Accept with the right
# MS-CHAP2-Success (it needs the right NT_KEY) and the MS-MPPE keys; PAP
# through the exec module: Access-Accept / Access-Reject; PEAP-MSCHAPv2
# through the eap module with eapol_test (Debian's eapoltest): success with
# the authenticator response and the MPPE keys checked, wrong password and
# unknown account rejected with ntlmd's audit saying why, the inner user
# typed in another case or as DOMAIN\user named as the store's account.
#
# The shipped files are used as shipped, so that they must agree: ntlmd runs
# with the service blocks of ntlmd.conf (and its default global policy,
# ntlmv2-only), and the mschap and exec modules are freeradius/
# mschap-ntlm_auth and exec-ntlm_auth, as make install installs them (the
# build tree's etc/, generated from etc/*.in), in which sed substitutes only
# the helper's installed path, $(pkglibexecdir)/ntlm_auth, by the built
# helper with --ntlmd-socket= the test's socket (etc/README.md). The
# listener's port is the test's own; the eap module (not shipped) gets a
# throwaway CA and server certificate made here.
set -u
# shellcheck source=tests/ntlm_auth/common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
# shellcheck source=tests/ntlm_auth/eapol.sh
. "$HERE/eapol.sh"

RADIUSD=${RADIUSD:-/usr/sbin/freeradius}
PORT=${NTLM_AUTH_RADIUS_PORT:-$(free_ports 1)}
SECRET=testing123

[ -x "$RADIUSD" ] || skip_or_fail "freeradius"
command -v radtest >/dev/null 2>&1 || skip_or_fail "radtest (freeradius-utils)"
command -v radclient >/dev/null 2>&1 || skip_or_fail "radclient (freeradius-utils)"
command -v openssl >/dev/null 2>&1 || skip_or_fail "openssl"
# eapol_test (Debian's eapoltest, which scripts/install-deps.sh installs):
# without it the MS-CHAP cases still run and the test ends as a skip (77),
# except in CI, or where dpkg says eapoltest is installed: then a missing
# or broken eapol_test is a failure.
EAPOL_TEST=${EAPOL_TEST:-$(command -v eapol_test 2>/dev/null || echo /usr/bin/eapol_test)}
EAPOL_MISSING=""
if ! [ -x "$EAPOL_TEST" ] || ! "$EAPOL_TEST" -v >/dev/null 2>&1; then
    if [ -n "${CI:-}" ] ||
        dpkg-query -W -f='${Status}' eapoltest 2>/dev/null | grep -q 'install ok installed'; then
        echo "FAIL: eapol_test ($EAPOL_TEST) does not run; CI and an installed eapoltest must run it" >&2
        exit 1
    fi
    EAPOL_MISSING="eapol_test (Debian's eapoltest)"
fi
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

# A throwaway CA and server certificate (EC P-256: fast) for the eap
# module's PEAP; eapol_test checks the server's chain against the CA.
TLS=$WORK/tls
mkdir -p "$TLS"
if ! {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=pam_ntlm test CA" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$TLS/ca.key" -out "$TLS/ca.pem" &&
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -subj "/CN=radius.test" -keyout "$TLS/server.key" -out "$TLS/server.csr" &&
        printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
            >"$TLS/server.ext" &&
        openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" \
            -CAcreateserial -days 2 -extfile "$TLS/server.ext" -out "$TLS/server.pem"
} >"$TLS/openssl.log" 2>&1; then
    echo "ERROR: openssl could not make the test certificates: $(tail -5 "$TLS/openssl.log")" >&2
    exit 99
fi
cat >"$RADDB/radiusd.conf" <<EOC
# A trimmed radiusd.conf: one client, one listener, the mschap, exec and
# eap modules, and the inner-tunnel server of PEAP.
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
    # PEAP with EAP-MSCHAPv2 inside: the inner method's MS-CHAPv2 goes to
    # the shipped mschap module (Auth-Type MS-CHAP in inner-tunnel).
    eap {
        default_eap_type = peap
        timer_expire = 60
        ignore_unknown_eap_types = no
        max_sessions = 64
        tls-config tls-common {
            private_key_file = $TLS/server.key
            certificate_file = $TLS/server.pem
            ca_file = $TLS/ca.pem
            cipher_list = "DEFAULT"
            ecdh_curve = "prime256v1"
            tls_min_version = "1.2"
            tls_max_version = "1.2"
            cache {
                enable = no
            }
        }
        peap {
            tls = tls-common
            default_eap_type = mschapv2
            virtual_server = inner-tunnel
        }
        mschapv2 {
        }
    }
}
server default {
    listen {
        type = auth
        ipaddr = 127.0.0.1
        port = $PORT
    }
    authorize {
        eap {
            ok = return
        }
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
        Auth-Type EAP {
            eap
        }
    }
}
server inner-tunnel {
    authorize {
        mschap
        eap {
            ok = return
        }
    }
    authenticate {
        Auth-Type MS-CHAP {
            mschap
        }
        Auth-Type EAP {
            eap
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

# PAP passwords reach ntlm_auth byte for byte: exec-ntlm_auth passes
# %{string:User-Password} (a plain %{User-Password} is escaped by FreeRADIUS
# 3 for the command line, a backslash doubled, a double quote preceded by
# one). quinn's password holds a backslash, a double quote and a space
# (helper_driver.py ACCOUNTS); ntlmd's audit must say CHECK_PASSWORD success.
pap_case() { # name expect user password status
    before=$(wc -l <"$NTLMD_LOG")
    out=$(timeout 60 "$PY" -B "$HERE/radius_client.py" --pap --server "127.0.0.1:$PORT" --secret "$SECRET" \
        --user "$3" --password "$4" --expect "$2" 2>&1)
    audit=$(tail -n +"$((before + 1))" "$NTLMD_LOG" | grep ' CHECK_PASSWORD ')
    if [ "$out" != ok ]; then
        fail "$1: $out"
    elif ! printf '%s\n' "$audit" | grep -q " status=$5 .*user=\"$3\""; then
        fail "$1: ntlmd's audit: $audit"
    else
        pass "$1"
    fi
}
pap_case 'PAP, a password with a backslash, a double quote and a space (a\b"c d): Access-Accept, byte for byte' \
    accept quinn 'a\b"c d' STATUS_SUCCESS
pap_case 'PAP, that password with the backslash doubled: Access-Reject' reject quinn 'a\\b"c d' STATUS_WRONG_PASSWORD
pap_case 'PAP, alice, sent the same way: Access-Accept' accept alice 'Passw0rd!' STATUS_SUCCESS

# PEAP-MSCHAPv2 with eapol_test (wpa_supplicant's EAP peer as a RADIUS
# client): the TLS tunnel to the eap module, inside it EAP-MSCHAPv2, whose
# MS-CHAPv2 goes through the shipped mschap module to ntlm_auth. What a
# success and a failure must show is eapol.sh's (shared with
# scripts/test-packages.sh): among it the authenticator response, the MPPE
# keys against the MSK and the master key from ntlm_auth's NT_KEY.
# Every case must leave exactly one VERIFY audit record in ntlmd's log with
# the expected status, naming the store's account ("TESTDOM\alice",
# files:alice) whatever case or domain prefix the client typed.
peap_case() { # name expect(accept|reject) identity password status
    name=$1 expect=$2 ident=$3 password=$4 status=$5
    before=$(wc -l <"$NTLMD_LOG")
    rbefore=$(wc -l <"$WORK/log/debug.log")
    eapol_run "$WORK/eapol-$PASSED-$FAILED.conf" "$ident" "$password" "$TLS/ca.pem" "$PORT" "$SECRET"
    audit=$(tail -n +"$((before + 1))" "$NTLMD_LOG" | grep ' VERIFY')
    problems=""
    if [ "$expect" = accept ]; then
        eapol_check_accept "$(tail -n +"$((rbefore + 1))" "$WORK/log/debug.log")"
    else
        eapol_check_reject
    fi
    n=$(printf '%s\n' "$audit" | grep -c .)
    if [ "$n" -ne 1 ]; then
        problems="$problems $n VERIFY audit records, expected 1;"
    else
        printf '%s\n' "$audit" | grep -q " status=$status " ||
            problems="$problems the audit says no status=$status;"
        if [ "$status" = STATUS_NO_SUCH_USER ]; then
            printf '%s\n' "$audit" | grep -q ' account=' && problems="$problems the audit names an account;"
        else
            printf '%s\n' "$audit" | grep -qF ' account="TESTDOM\\alice" account_key="files:alice" ' ||
                problems="$problems the audit does not name the account TESTDOM\\alice (files:alice);"
        fi
    fi
    if [ -z "$problems" ]; then
        pass "$name"
    else
        fail "$name:$problems eapol_test: $(eapol_summary) audit: $audit"
    fi
}
if [ -n "$EAPOL_MISSING" ]; then
    echo "SKIP PEAP-MSCHAPv2 cases: $EAPOL_MISSING is missing"
else
    peap_case "PEAP-MSCHAPv2 (eapol_test), right password: SUCCESS, S= accepted, MPPE keys = MSK, NT_KEY's master key" \
        accept alice 'Passw0rd!' STATUS_SUCCESS
    peap_case "PEAP-MSCHAPv2, wrong password: FAILURE, audit STATUS_WRONG_PASSWORD for TESTDOM\\alice" \
        reject alice WrongPass1 STATUS_WRONG_PASSWORD
    peap_case "PEAP-MSCHAPv2, unknown account: FAILURE, audit STATUS_NO_SUCH_USER, no account named" \
        reject nosuchuser WrongPass1 STATUS_NO_SUCH_USER
    peap_case "PEAP-MSCHAPv2, inner user typed ALICE: SUCCESS, keys checked, audit names TESTDOM\\alice" \
        accept ALICE 'Passw0rd!' STATUS_SUCCESS
    peap_case "PEAP-MSCHAPv2, inner user TESTDOM\\alice: SUCCESS, keys checked, audit names TESTDOM\\alice" \
        accept 'TESTDOM\alice' 'Passw0rd!' STATUS_SUCCESS
    peap_case "PEAP-MSCHAPv2, inner user testdom\\ALICE, wrong password: audit STATUS_WRONG_PASSWORD for TESTDOM\\alice" \
        reject 'testdom\ALICE' WrongPass1 STATUS_WRONG_PASSWORD
fi

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
[ "$FAILED" -eq 0 ] || exit 1
if [ -n "$EAPOL_MISSING" ]; then
    echo "SKIP: $EAPOL_MISSING is missing: the PEAP-MSCHAPv2 cases did not run" >&2
    exit 77
fi
exit 0
