#!/bin/sh
# test-pam.sh: pam_ntlm.so in real pamtester processes against a real
# ntlmd (files backend) started here in a temporary directory. The PAM
# configuration is private: pam_wrapper (libpam-wrapper) makes libpam read
# the service files of the temporary directory, which name the built module
# by its absolute path; /etc/pam.d is never read or touched.
#
# Covers password logins (good, wrong, unknown, disabled, locked,
# must-change), auto mode, use_first_pass, acct_mgmt and
# ignore_unknown_user, chauthtok as root and as another user (the hash in
# the smbpasswd file changes), migrate, verify mode with messages made
# beforehand, exchange mode driven interactively with an AUTHENTICATE from
# python3-ntlm-auth, SPNEGO-wrapped exchanges and verify mode (tokens of
# python3-impacket, the final NTLM_FINAL_TOKEN checked), NTLMSSP selected
# after a Kerberos optimistic token that lists it, Kerberos alone refused
# by name, malformed answers, and a daemon that is absent, never
# answers or is stopped during a login. Every case also feeds the log check:
# no password appears in any output.
#
# Run by "make check" (tests/pam.am sets NTLMD, PAM_NTLM_SO, PAM_NTLM_SERVER),
# or by hand:
#   NTLMD=build/ntlmd/ntlmd PAM_NTLM_SO=build/pam_ntlm/.libs/pam_ntlm.so tests/pam/test-pam.sh
# One line per case, then "N passed, M failed".
set -u

PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
DRIVER=$HERE/pam_driver.py
INTEROP_DIR=${INTEROP_DIR:-$HERE/../interop}
export INTEROP_DIR
WAIT=10
TIMEOUT_MS=1500 # the module's timeout in the unavailability cases

WORK=""
DAEMON_PID=""
SILENT_PID=""
GARBAGE_PID=""

# shellcheck source=tests/pam/pam-lib.sh
. "$HERE/pam-lib.sh"

cleanup() {
    for pid in $DAEMON_PID $SILENT_PID $GARBAGE_PID; do
        kill -CONT "$pid" 2>/dev/null
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ -n "$WORK" ] && [ -d "$WORK" ] && [ -z "${KEEP:-}" ]; then
        rm -rf "$WORK"
    fi
}

# ------------------------------------------------------------------ setup

pam_require
command -v setpriv >/dev/null 2>&1 || skip_or_fail "setpriv"
[ "$(id -u)" -eq 0 ] || skip_or_fail "root (ntlmd's root-only requests; the test switches to nobody)"
NOBODY_UID=$(id -u nobody)

trap cleanup EXIT
trap 'exit 1' HUP INT TERM
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pam-ntlm-test.XXXXXX") || exit 99
chmod 0755 "$WORK" # nobody reaches the socket and the service files
SOCKET=$WORK/run/socket
HASHES=$WORK/smbpasswd
CONF=$WORK/ntlmd.conf
LOG=$WORK/ntlmd.log
ALL_OUTPUT=$WORK/all-output # every pamtester output, for the secret check
PAMD=$WORK/pam.d
mkdir "$PAMD"
: >"$ALL_OUTPUT"

"$PY" -B "$DRIVER" write-hashes "$HASHES" || exit 99

cat >"$CONF" <<EOF
# ntlmd configuration of test-pam.sh
socket            $SOCKET
hash_file         $HASHES
backends          files
netbios_name      TESTSRV
netbios_domain    TESTDOM
read_timeout      5000
lockout_threshold 0
allow_users       $NOBODY_UID

service ntlm-cb
channel_bindings  required
EOF

pam_start_ntlmd "$CONF" "$LOG" "$SOCKET"

M="$PAM_NTLM_SO socket=$SOCKET"

write_unix_check

service ntlm-password "auth required $M mode=password" "account required $M" "password required $M"
service ntlm-auto "auth required $M mode=auto" "account required $M"
service ntlm-debug "auth required $M mode=password debug no_such_option timeout=5"
service ntlm-first "auth required $M use_first_pass"
service ntlm-unix-first "auth requisite $PAM_EXEC expose_authtok quiet $UNIX_CHECK" "auth required $M use_first_pass"
service ntlm-ignore "account required $M ignore_unknown_user" "account required $PAM_PERMIT"
service ntlm-migrate "auth requisite $PAM_EXEC expose_authtok quiet $UNIX_CHECK" "auth optional $M migrate"
service ntlm-migrate-add "auth requisite $PAM_EXEC expose_authtok quiet $UNIX_CHECK" \
    "auth optional $M migrate add_users"
service ntlm-verify "auth required $M mode=verify" "account required $M"
service ntlm-exchange "auth required $M mode=exchange" "account required $M"
service ntlm-absent "auth required $PAM_NTLM_SO socket=$WORK/absent/socket mode=password"
service ntlm-default-socket "auth required $PAM_NTLM_SO mode=password"
service ntlm-silent "auth required $PAM_NTLM_SO socket=$WORK/silent.sock timeout=$TIMEOUT_MS mode=password"
service ntlm-server-exchange "auth required $M mode=exchange" "account required $M"
service ntlm-server-verify "auth required $M mode=verify" "account required $M"
service ntlm-cb "auth required $M mode=exchange require_cb" "account required $M"
service ntlm-garbage "auth required $PAM_NTLM_SO socket=$WORK/garbage.sock timeout=$TIMEOUT_MS mode=password"
service ntlm-stopped "auth required $M mode=exchange timeout=$TIMEOUT_MS"
# pam_exec after a SPNEGO login prints the final token the module left in
# the PAM environment (pam_exec runs its command with that environment)
FINAL_SH=$WORK/print-final.sh
cat >"$FINAL_SH" <<'EOF'
#!/bin/sh
echo "NTLM_FINAL_TOKEN=${NTLM_FINAL_TOKEN:-none}"
EOF
chmod 0755 "$FINAL_SH"
service ntlm-spnego "auth required $M mode=exchange" "auth optional $PAM_EXEC stdout type=auth $FINAL_SH" \
    "account required $M"
service ntlm-spnego-auto "auth required $M mode=auto" "auth optional $PAM_EXEC stdout type=auth $FINAL_SH" \
    "account required $M"
service ntlm-spnego-verify "auth required $M mode=verify" "auth optional $PAM_EXEC stdout type=auth $FINAL_SH"

# As pt, as the user nobody.
pt_nobody() {
    svc=$1
    user=$2
    input=$3
    shift 3
    OUT=$(printf '%s' "$input" | timeout 60 setpriv --reuid=nobody --regid=nogroup --clear-groups \
        env LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$PAMD" PAM_WRAPPER_DEBUGLEVEL=2 \
        TMPDIR="$WORK/nobody-tmp" "$PAMTESTER" "$svc" "$user" "$@" 2>&1)
    RC=$?
    printf '%s\n' "$OUT" >>"$ALL_OUTPUT"
}
mkdir "$WORK/nobody-tmp" && chown nobody "$WORK/nobody-tmp"

hash_is() { # USER PASSWORD
    printf '%s\n' "$2" | "$PY" -B "$DRIVER" hash-is "$HASHES" "$1"
}

# ------------------------------------------------------------------ password logins

pt ntlm-password alice 'Passw0rd!
' authenticate
expect "password: good password" 0 "$AUTH_OK"
pt ntlm-password alice 'WrongPass1
' authenticate
expect "password: wrong password -> PAM_AUTH_ERR, STATUS_WRONG_PASSWORD logged" 1 "$AUTH_ERR" \
    "password authentication failed for user alice: STATUS_WRONG_PASSWORD"
pt ntlm-password nosuchuser 'Nobody123!
' authenticate
expect "password: unknown user -> PAM_USER_UNKNOWN" 1 "$UNKNOWN" "STATUS_NO_SUCH_USER"
pt ntlm-password bob 'Bobpass1!
' authenticate
expect "password: disabled account -> PAM_ACCT_EXPIRED" 1 "$EXPIRED" "STATUS_ACCOUNT_DISABLED"
pt ntlm-password carol 'Carolpw1!
' authenticate
expect "password: locked account -> PAM_MAXTRIES" 1 "$MAXTRIES" "STATUS_ACCOUNT_LOCKED_OUT"
pt ntlm-password dave 'Davepass1!
' authenticate
expect "password: must change -> PAM_NEW_AUTHTOK_REQD" 1 "$NEWTOK" "STATUS_PASSWORD_MUST_CHANGE"
pt ntlm-password dave 'WrongPass1
' authenticate
expect "password: must change, wrong password -> PAM_AUTH_ERR (state not revealed)" 1 "$AUTH_ERR"
pt ntlm-password alice '
' authenticate
expect "password: empty password refused without asking" 1 "$AUTH_ERR"
pt ntlm-auto alice 'Passw0rd!
' authenticate
expect "auto mode: a plain password is checked as one" 0 "$AUTH_OK"
RHOST=192.0.2.7
pt ntlm-password alice 'WrongPass1
' authenticate
RHOST=""
expect "PAM_RHOST goes to ntlmd as the client address and into the log line" 1 "$AUTH_ERR" \
    "for user alice from 192.0.2.7: STATUS_WRONG_PASSWORD"
if grep -q 'CHECK_PASSWORD failure .*client="192.0.2.7"' "$LOG"; then
    pass "ntlmd's audit names the client address the module sent"
else
    fail "ntlmd's log has no client=\"192.0.2.7\" for the CHECK_PASSWORD"
fi
pt ntlm-debug alice 'Passw0rd!
' authenticate
expect "strict options: unknown option and bad timeout logged, valid ones applied" 0 "$AUTH_OK" \
    'unknown option "no_such_option" ignored'
if printf '%s\n' "$OUT" | grep -qF 'option "timeout": invalid value ignored' &&
    printf '%s\n' "$OUT" | grep -qF 'password accepted for user alice: STATUS_SUCCESS'; then
    pass "debug: the outcome is logged with its status"
else
    fail "debug output: $OUT"
fi
pt ntlm-first alice 'Passw0rd!
' authenticate
expect "use_first_pass without an earlier password -> PAM_AUTH_ERR, no prompt" 1 "$AUTH_ERR" \
    "use_first_pass: no password from an earlier module"
printf '%s' 'Passw0rd!' >"$WORK/unix-password"
pt ntlm-unix-first alice 'Passw0rd!
' authenticate
expect "use_first_pass: the password of the module before" 0 "$AUTH_OK"
if [ "$(printf '%s\n' "$OUT" | grep -o 'Password:' | wc -l)" -eq 1 ]; then
    pass "use_first_pass: asked once"
else
    fail "use_first_pass asked $(printf '%s\n' "$OUT" | grep -o 'Password:' | wc -l) times"
fi

# ------------------------------------------------------------------ acct_mgmt

pt ntlm-password alice '' acct_mgmt
expect "acct_mgmt: valid account" 0 "$ACCT_OK"
pt ntlm-password bob '' acct_mgmt
expect "acct_mgmt: disabled -> PAM_ACCT_EXPIRED" 1 "$EXPIRED" "account refused for user bob: STATUS_ACCOUNT_DISABLED"
pt ntlm-password carol '' acct_mgmt
expect "acct_mgmt: locked -> PAM_PERM_DENIED" 1 "$PERM" "STATUS_ACCOUNT_LOCKED_OUT"
pt ntlm-password dave '' acct_mgmt
expect "acct_mgmt: must change -> PAM_NEW_AUTHTOK_REQD" 1 "$NEWTOK" "STATUS_PASSWORD_MUST_CHANGE"
pt ntlm-password nosuchuser '' acct_mgmt
expect "acct_mgmt: unknown user -> PAM_USER_UNKNOWN" 1 "$UNKNOWN"
pt ntlm-ignore nosuchuser '' acct_mgmt
expect "acct_mgmt ignore_unknown_user: unknown user ignored, the next module decides" 0 "$ACCT_OK"
pt ntlm-ignore bob '' acct_mgmt
expect "acct_mgmt ignore_unknown_user: a disabled account is still refused" 1 "$EXPIRED"

# ------------------------------------------------------------------ chauthtok

pt ntlm-password erin 'Erinnew1!
Erinnew1!
' chauthtok
expect "chauthtok as root: no old password needed" 0 "altered successfully" "NT hash change for user erin: STATUS_SUCCESS"
if hash_is erin 'Erinnew1!'; then
    pass "chauthtok as root: the smbpasswd file holds the new NT hash"
else
    fail "chauthtok as root: the hash in the file did not change"
fi
pt ntlm-password erin 'Erinnew1!
' authenticate
expect "chauthtok: the new password logs in" 0 "$AUTH_OK"
pt ntlm-password erin 'Erinpass1!
' authenticate
expect "chauthtok: the old password no longer does" 1 "$AUTH_ERR"
pt ntlm-password erin 'Erinnew1!
Erinother1!
' chauthtok
expect "chauthtok: retyped password differs -> refused" 1 "Sorry, passwords do not match"
pt_nobody ntlm-password erin 'WrongPass1
Erinnew2!
Erinnew2!
' chauthtok
expect "chauthtok as nobody: wrong old password refused" 1 "$AUTH_ERR" "STATUS_WRONG_PASSWORD"
if hash_is erin 'Erinnew1!'; then
    pass "chauthtok as nobody, wrong old password: the hash did not change"
else
    fail "chauthtok as nobody with a wrong old password changed the hash"
fi
pt_nobody ntlm-password erin 'Erinnew1!
Erinnew2!
Erinnew2!
' chauthtok
expect "chauthtok as nobody: the old password is asked and checked" 0 "altered successfully" "Current NTLM password:"
if hash_is erin 'Erinnew2!'; then
    pass "chauthtok as nobody: the smbpasswd file holds the new NT hash"
else
    fail "chauthtok as nobody: the hash in the file did not change"
fi

# ------------------------------------------------------------------ migrate

printf '%s' 'Franknew1!' >"$WORK/unix-password"
pt ntlm-migrate frank 'WrongPass1
' authenticate
expect "migrate: a password the first module refuses is not stored" 1 "unix-check.sh failed"
if hash_is frank 'Frankold1!'; then
    pass "migrate: refused password, hash unchanged"
else
    fail "migrate stored a refused password"
fi
pt ntlm-migrate frank 'Franknew1!
' authenticate
expect "migrate: the first module's password is accepted" 0 "$AUTH_OK" "migrate: NT hash stored for user frank: STATUS_SUCCESS"
if hash_is frank 'Franknew1!'; then
    pass "migrate: the smbpasswd file holds the NT hash of the accepted password"
else
    fail "migrate: the hash in the file did not change"
fi
pt ntlm-password frank 'Franknew1!
' authenticate
expect "migrate: the migrated password now logs in through ntlmd" 0 "$AUTH_OK"

printf '%s' 'Nobodypw1!' >"$WORK/unix-password"
pt ntlm-migrate nobody 'Nobodypw1!
' authenticate
expect "migrate without add_users: a user missing from the store is left out" 0 "$AUTH_OK" \
    "migrate: nothing stored for user nobody: STATUS_NO_SUCH_USER"
pt ntlm-migrate-add nobody 'Nobodypw1!
' authenticate
expect "migrate add_users: a system user missing from the store is added (CHANGE_PASSWORD + CREATE)" 0 \
    "$AUTH_OK" "migrate: user added for user nobody: STATUS_SUCCESS"
if hash_is nobody 'Nobodypw1!' && grep -q "^nobody:$NOBODY_UID:X\{32\}:[0-9A-F]\{32\}:\[U " "$HASHES"; then
    pass "migrate add_users: the new line has the system uid, the NT hash, no LM hash, flag U"
else
    fail "migrate add_users: line $(grep -c '^nobody:' "$HASHES") of nobody not as expected"
fi
pt ntlm-password nobody 'Nobodypw1!
' authenticate
expect "migrate add_users: the added user logs in through ntlmd" 0 "$AUTH_OK"
printf '%s' 'Ghostpw1!' >"$WORK/unix-password"
pt ntlm-migrate-add no-such-system-user 'Ghostpw1!
' authenticate
if [ "$RC" -eq 0 ] && ! grep -q '^no-such-system-user:' "$HASHES" &&
    printf '%s\n' "$OUT" | grep -qF "STATUS_NO_SUCH_USER"; then
    pass "migrate add_users: a user the system does not know is not added"
else
    fail "migrate add_users of an unknown system user: status $RC: $(printf '%s\n' "$OUT" | tail -3)"
fi

# create_as WHO USER [driver options]: CHANGE_PASSWORD + CREATE sent as WHO
# (root or nobody) by the Python protocol client; sets OUT to the status.
create_as() {
    who=$1
    shift
    if [ "$who" = root ]; then
        OUT=$(printf '%s\n' 'Createpw1!' | "$PY" -B "$DRIVER" create "$SOCKET" "$@" 2>&1)
    else
        OUT=$(printf '%s\n' 'Createpw1!' | setpriv --reuid=nobody --regid=nogroup --clear-groups \
            "$PY" -B "$DRIVER" create "$SOCKET" "$@" 2>&1)
    fi
}
create_as nobody daemon
if [ "$OUT" = STATUS_INVALID_PARAMETER ] && ! grep -q '^daemon:' "$HASHES"; then
    pass "CREATE from a caller other than root -> STATUS_INVALID_PARAMETER, nothing added"
else
    fail "CREATE as nobody: $OUT"
fi
create_as root daemon --old
if [ "$OUT" = STATUS_INVALID_PARAMETER ] && ! grep -q '^daemon:' "$HASHES"; then
    pass "CREATE with an old password -> STATUS_INVALID_PARAMETER"
else
    fail "CREATE with PASSWORD: $OUT"
fi
create_as root daemon --value 2
if [ "$OUT" = STATUS_INVALID_PARAMETER ] && ! grep -q '^daemon:' "$HASHES"; then
    pass "CREATE 2 -> STATUS_INVALID_PARAMETER"
else
    fail "CREATE 2: $OUT"
fi
create_as root alice --value 0
if [ "$OUT" = STATUS_SUCCESS ] && hash_is alice 'Createpw1!'; then
    pass "CREATE 0 is a plain change by root"
else
    fail "CREATE 0: $OUT"
fi
pt ntlm-password alice 'Passw0rd!
Passw0rd!
' chauthtok
if hash_is alice 'Passw0rd!'; then
    pass "alice's password restored"
else
    fail "alice's password not restored: $OUT"
fi

# ------------------------------------------------------------------ verify mode

verify_input() { # USER PASSWORD
    printf '%s\n' "$2" | "$PY" -B "$DRIVER" verify-input "$1"
}
VIN=$(verify_input alice 'Passw0rd!')
pt ntlm-verify '' "$VIN
" authenticate acct_mgmt
expect "verify mode: NEGOTIATE, CHALLENGE, AUTHENTICATE of python3-ntlm-auth accepted" 0 "$AUTH_OK"
expect "verify mode: acct_mgmt of the authenticated user" 0 "$ACCT_OK"
pt ntlm-verify '' "$VIN
" authenticate
expect "verify mode: the same messages again -> replay refused" 1 "$AUTH_ERR" "STATUS_NTLM_CHALLENGE_EXPIRED"
pt ntlm-verify '' "$(verify_input alice 'WrongPass1')
" authenticate
expect "verify mode: wrong password -> PAM_AUTH_ERR" 1 "$AUTH_ERR" "STATUS_WRONG_PASSWORD"
pt ntlm-verify '' "$(verify_input bob 'Bobpass1!')
" authenticate
expect "verify mode: disabled account -> PAM_ACCT_EXPIRED" 1 "$EXPIRED" "STATUS_ACCOUNT_DISABLED"
pt ntlm-verify '' "$(verify_input nosuchuser 'Nobody123!')
" authenticate
expect "verify mode: unknown user -> PAM_USER_UNKNOWN" 1 "$UNKNOWN"
VNOPT=$(printf '%s\n' "$VIN" | sed -n 2,3p)
pt ntlm-verify '' "
$(verify_input alice 'Passw0rd!' | sed -n 2,3p)
" authenticate
expect "verify mode: an empty NEGOTIATE answer sends none (the client's MIC covered one: refused)" 1 \
    "$AUTH_ERR" "STATUS_NTLM_MIC_INVALID"
pt ntlm-verify '' "$VNOPT
$VNOPT
" authenticate
expect "verify mode: a CHALLENGE where the NEGOTIATE is due -> wrong message type" 1 "$AUTH_ERR" \
    "STATUS_NTLM_WRONG_MESSAGE_TYPE"
pt ntlm-verify '' "not base64 at all!
x
y
" authenticate
expect "verify mode: garbage -> PAM_AUTH_ERR, bad encoding logged" 1 "$AUTH_ERR" "STATUS_NTLM_BAD_ENCODING"
pt ntlm-verify '' "TlRMTVNTUAABAAAA
" authenticate
expect "verify mode: a truncated NEGOTIATE -> PAM_AUTH_ERR" 1 "$AUTH_ERR" "is not valid"
pt ntlm-verify '' "" authenticate
expect "verify mode: end of input -> conversation error, no hang" 1 "Conversation error"
BIG=$(head -c 6000 /dev/zero | tr '\0' 'A')
pt ntlm-verify '' "$BIG
$BIG
$BIG
" authenticate
if [ "$RC" -eq 1 ] && ! printf '%s\n' "$OUT" | grep -q "$AUTH_OK"; then
    pass "verify mode: oversize answers -> clean failure"
else
    fail "verify mode with oversize answers: status $RC: $(printf '%s\n' "$OUT" | tail -3)"
fi

# ------------------------------------------------------------------ exchange mode

exchange ntlm-exchange alice 'Passw0rd!'
expect "exchange mode: NEGOTIATE -> CHALLENGE prompt -> AUTHENTICATE of python3-ntlm-auth" 0 "$AUTH_OK"
expect "exchange mode: acct_mgmt of the authenticated user" 0 "$ACCT_OK"
exchange ntlm-exchange alice 'Passw0rd!' --prefix
expect "exchange mode: a NEGOTIATE with the 'NTLM ' prefix" 0 "$AUTH_OK"
exchange ntlm-auto alice 'Passw0rd!'
expect "auto mode: a NEGOTIATE answer starts an exchange" 0 "$AUTH_OK"
exchange ntlm-exchange alice 'WrongPass1'
expect "exchange mode: wrong password -> PAM_AUTH_ERR" 1 "$AUTH_ERR" "NTLM authentication failed for user alice: STATUS_WRONG_PASSWORD"
exchange ntlm-exchange carol 'Carolpw1!'
expect "exchange mode: locked account -> PAM_MAXTRIES" 1 "$MAXTRIES"
exchange ntlm-exchange alice 'Passw0rd!' --answer garbage
expect "exchange mode: garbage AUTHENTICATE -> PAM_AUTH_ERR" 1 "$AUTH_ERR" "STATUS_NTLM_BAD_ENCODING"
exchange ntlm-exchange alice 'Passw0rd!' --answer negotiate
expect "exchange mode: a NEGOTIATE where the AUTHENTICATE is due -> PAM_AUTH_ERR" 1 "$AUTH_ERR" \
    "STATUS_NTLM_WRONG_MESSAGE_TYPE"

# ------------------------------------------------------------------ SPNEGO

# The client's messages in SPNEGO tokens of python3-impacket ("Negotiate "
# as an HTTP server gets them); the driver unwraps the CHALLENGE with
# impacket and decodes the final token pam_exec printed.
exchange ntlm-spnego alice 'Passw0rd!' --spnego
expect "SPNEGO exchange: NegTokenInit(NEGOTIATE) -> NegTokenResp(CHALLENGE) -> NegTokenResp(AUTHENTICATE)" 0 \
    "$AUTH_OK"
expect "SPNEGO exchange: NTLM_FINAL_TOKEN is a NegTokenResp, accept-completed and nothing else" 0 \
    "final=accept-completed
"
expect "SPNEGO exchange: acct_mgmt of the authenticated user" 0 "$ACCT_OK"
exchange ntlm-spnego-auto alice 'Passw0rd!' --spnego
expect "SPNEGO in auto mode: a NegTokenInit starts an exchange" 0 "final=accept-completed"
exchange ntlm-spnego alice 'WrongPass1' --spnego
expect "SPNEGO exchange: wrong password -> PAM_AUTH_ERR, no final token" 1 "final=missing" \
    "STATUS_WRONG_PASSWORD"
exchange ntlm-spnego alice 'Passw0rd!' --spnego --answer negotiate
expect "SPNEGO exchange: a wrapped NEGOTIATE where the AUTHENTICATE is due -> PAM_AUTH_ERR" 1 "$AUTH_ERR" \
    "STATUS_NTLM_WRONG_MESSAGE_TYPE"
exchange ntlm-spnego alice 'Passw0rd!'
expect "bare NTLMSSP exchange: no final token" 0 "NTLM_FINAL_TOKEN=none"
exchange ntlm-spnego alice 'Passw0rd!' --answer kerberos
expect "Kerberos AP-REQ in a NegTokenInit -> PAM_AUTHINFO_UNAVAIL, logged as not served" 1 "$UNAVAIL" \
    "Kerberos token refused (AP-REQ for HTTP/web.example.test@EXAMPLE.TEST): Kerberos is not served"
exchange ntlm-spnego alice 'Passw0rd!' --spnego --answer kerberos-ntlm
expect "Kerberos AP-REQ with NTLMSSP listed too: NTLMSSP selected (NegTokenResp without a token), then accepted" \
    0 "final=accept-completed"
exchange ntlm-spnego-auto alice 'Passw0rd!' --spnego --answer kerberos-ntlm
expect "Kerberos first with NTLMSSP listed, in auto mode: NTLMSSP selected and accepted" 0 "final=accept-completed"
exchange ntlm-spnego alice 'WrongPass1' --spnego --answer kerberos-ntlm
expect "Kerberos first, NTLMSSP selected, wrong password -> PAM_AUTH_ERR" 1 "final=missing" "STATUS_WRONG_PASSWORD"
exchange ntlm-spnego-auto alice 'Passw0rd!' --answer kerberos
expect "Kerberos in auto mode: refused by name, not taken for a password" 1 "$UNAVAIL" \
    "Kerberos is not served"
pt ntlm-spnego-verify '' "$(printf '%s\n' 'Passw0rd!' | "$PY" -B "$DRIVER" verify-input alice --spnego)
" authenticate
# A1 07 30 05 A0 03 0A 01 00: negState accept-completed alone (RFC 4178 4.2.2)
expect "SPNEGO verify mode: wrapped NEGOTIATE and AUTHENTICATE accepted, final token accept-completed" 0 \
    "$AUTH_OK" "NTLM_FINAL_TOKEN=oQcwBaADCgEA"

# ------------------------------------------------------------------ the example server

# server USER PASSWORD CLIENT_CB SERVER_OPTIONS...: one exchange of
# python3-ntlm-auth (binding CLIENT_CB unless empty) with
# examples/pam-ntlm-server; sets OUT (its reply line and "exit=STATUS") and
# RC (0 for an OK line).
server() {
    user=$1
    password=$2
    cb=$3
    shift 3
    OUT=$(printf '%s\n' "$password" | timeout 60 "$PY" -B "$DRIVER" line-client --user "$user" ${cb:+--cb "$cb"} \
        -- env LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$PAMD" PAM_WRAPPER_DEBUGLEVEL=2 \
        "$PAM_NTLM_SERVER" "$@" 2>&1)
    RC=1
    printf '%s\n' "$OUT" | grep -q '^OK ' && RC=0
    printf '%s\n' "$OUT" >>"$ALL_OUTPUT"
}
CB_HEX=$(printf 'tls-server-end-point:0123456789abcdef0123456789abcdef' | od -An -tx1 | tr -d ' \n')
CB_OTHER=$(printf 'tls-server-end-point:fedcba9876543210fedcba9876543210' | od -An -tx1 | tr -d ' \n')

if [ -n "${PAM_NTLM_SERVER:-}" ] && [ -x "$PAM_NTLM_SERVER" ]; then
    server alice 'Passw0rd!' '' --service ntlm-server-exchange
    expect "example server, exchange mode: PAM_INCOMPLETE, CHALLENGE sent, resumed, accepted" 0 \
        "ntlm_user=alice domain=TESTDOM workstation=CLIENT1 type=NTLMv2"
    expect "example server: PAM_USER is the daemon's AUTH_USER, no session key in the environment" 0 \
        "key_in_env=no" "OK user=TESTDOM\\alice "
    server alice 'WrongPass1' '' --service ntlm-server-exchange
    expect "example server, exchange mode: wrong password -> FAIL" 1 "FAIL $AUTH_ERR"
    server nosuchuser 'Nobody123!' '' --service ntlm-server-exchange
    expect "example server, exchange mode: unknown user -> PAM_USER_UNKNOWN" 1 "FAIL $UNKNOWN"
    server alice 'Passw0rd!' '' --service ntlm-server-verify --mode verify
    expect "example server, verify mode: its own libntlmssp CHALLENGE, verified through PAM" 0 \
        "ntlm_user=alice domain=TESTDOM workstation=CLIENT1 type=NTLMv2"
    server bob 'Bobpass1!' '' --service ntlm-server-verify --mode verify
    expect "example server, verify mode: disabled account -> PAM_ACCT_EXPIRED" 1 "FAIL $EXPIRED"
    server alice 'Passw0rd!' "$CB_HEX" --service ntlm-cb --cb-app-data "$CB_HEX"
    expect "channel bindings from the application (NTLM_CB_APPLICATION): matching -> valid" 0 "cb=valid"
    server alice 'Passw0rd!' "$CB_OTHER" --service ntlm-cb --cb-app-data "$CB_HEX"
    expect "channel bindings: the client bound another certificate -> refused" 1 "FAIL $AUTH_ERR" "STATUS_BAD_BINDINGS"
    server alice 'Passw0rd!' '' --service ntlm-cb --cb-app-data "$CB_HEX"
    expect "channel bindings required by ntlmd, client sends none -> refused" 1 "FAIL $AUTH_ERR" \
        "STATUS_NTLM_BINDINGS_MISSING"
    server alice 'Passw0rd!' "$CB_HEX" --service ntlm-cb
    expect "require_cb: the application passed no channel bindings -> refused" 1 "FAIL $AUTH_ERR" \
        "require_cb: the application passed no channel bindings"
else
    fail "examples/pam-ntlm-server not found (set PAM_NTLM_SERVER)"
fi

# ------------------------------------------------------------------ daemon unavailable

pt ntlm-absent alice 'Passw0rd!
' authenticate
expect "no daemon at the socket -> PAM_AUTHINFO_UNAVAIL" 1 "$UNAVAIL" "cannot be asked"
# the installation's default socket, RUNSTATEDIR/ntlmd/socket (tests/Makefile.am)
DEFAULT_SOCKET=${NTLMD_DEFAULT_SOCKET:-/run/ntlmd/socket}
if [ ! -S "$DEFAULT_SOCKET" ]; then
    pt ntlm-default-socket alice 'Passw0rd!
' authenticate
    expect "no daemon at the default socket: the log names its path" 1 "$UNAVAIL" \
        "ntlmd at $DEFAULT_SOCKET cannot be asked"
else
    echo "# an ntlmd listens on $DEFAULT_SOCKET: the default-socket message is not tested"
fi
"$PY" -B "$DRIVER" silent-socket "$WORK/silent.sock" &
SILENT_PID=$!
tries=$((WAIT * 10))
while [ ! -S "$WORK/silent.sock" ] && [ "$tries" -gt 0 ]; do
    tries=$((tries - 1))
    sleep 0.1
done
start=$(date +%s%N)
pt ntlm-silent alice 'Passw0rd!
' authenticate
ms=$((($(date +%s%N) - start) / 1000000))
expect "a daemon that never answers -> PAM_AUTHINFO_UNAVAIL" 1 "$UNAVAIL"
if [ "$ms" -ge "$TIMEOUT_MS" ] && [ "$ms" -lt $((TIMEOUT_MS + 3000)) ]; then
    pass "a daemon that never answers: given up after the timeout (${ms} ms, timeout $TIMEOUT_MS ms)"
else
    fail "a daemon that never answers: pamtester took ${ms} ms (timeout $TIMEOUT_MS ms)"
fi
"$PY" -B "$DRIVER" garbage-socket "$WORK/garbage.sock" &
GARBAGE_PID=$!
tries=$((WAIT * 10))
while [ ! -S "$WORK/garbage.sock" ] && [ "$tries" -gt 0 ]; do
    tries=$((tries - 1))
    sleep 0.1
done
pt ntlm-garbage alice 'Passw0rd!
' authenticate
expect "a daemon that sends a malformed reply -> PAM_AUTHINFO_UNAVAIL" 1 "$UNAVAIL" "cannot be asked"
exchange ntlm-stopped alice 'Passw0rd!' --stop-pid "$DAEMON_PID"
expect "daemon stopped (SIGSTOP) during an exchange -> PAM_AUTHINFO_UNAVAIL" 1 "$UNAVAIL"
elapsed=$(printf '%s\n' "$OUT" | sed -n 's/^result=.* elapsed=\([0-9.]*\)$/\1/p')
if [ -n "$elapsed" ] && "$PY" -c "import sys; sys.exit(0 if 1.4 <= $elapsed < 4.5 else 1)"; then
    pass "daemon stopped during an exchange: the login ended after the timeout (${elapsed} s)"
else
    fail "daemon stopped during an exchange: the login took ${elapsed:-?} s"
fi
pt ntlm-password alice 'Passw0rd!
' authenticate
expect "the daemon, resumed, serves again" 0 "$AUTH_OK"

# ------------------------------------------------------------------ secrets

leaked=""
for pw in 'Passw0rd!' 'WrongPass1' 'Bobpass1!' 'Carolpw1!' 'Davepass1!' 'Erinnew1!' 'Erinnew2!' 'Franknew1!' \
    'Nobodypw1!' 'Ghostpw1!' 'Createpw1!'; do
    # the verify-mode and exchange lines hold no password; pamtester never
    # echoes the answers, so any hit is a leak
    if grep -qF -- "$pw" "$ALL_OUTPUT" "$LOG"; then
        leaked="$leaked $pw"
    fi
done
if [ -z "$leaked" ]; then
    pass "no password in any module log line, pamtester output or ntlmd log"
else
    fail "passwords leaked:$leaked"
fi
if ! grep -qi -- "$("$PY" -B -c "import sys; sys.path.insert(0, '$INTEROP_DIR'); import clients; print(clients.nt_hash('Passw0rd!').hex())")" \
    "$ALL_OUTPUT" "$LOG"; then
    pass "no NT hash in any output"
else
    fail "an NT hash reached an output"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
