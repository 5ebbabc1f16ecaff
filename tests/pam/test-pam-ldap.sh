#!/bin/sh
# test-pam-ldap.sh: pam_ntlm.so in real pamtester processes against a real
# ntlmd with "backends files ldap" and a private slapd (tests/lib/slapd.sh,
# the accounts of tests/lib/ldap_driver.py), for what the smbpasswd store
# cannot hold: an expired account (sambaKickoffTime), a password that must
# change (sambaPwdLastSet 0, sambaPwdMustChange passed), logon hours,
# workstation restrictions (the AUTHENTICATE's workstation, in exchange and
# verify mode), chauthtok and migrate of an LDAP user (the new
# sambaNTPassword read back with ldapsearch), and the directory going down.
# The PAM configuration is private (pam_wrapper), as in test-pam.sh; the
# exchanges run the shipped etc/pam.d/ntlm-exchange (socket= added).
#
# Run by "make check" (tests/pam.am sets NTLMD and PAM_NTLM_SO), or by hand:
#   NTLMD=build/ntlmd/ntlmd PAM_NTLM_SO=build/pam_ntlm/.libs/pam_ntlm.so tests/pam/test-pam-ldap.sh
# One line per case, then "N passed, M failed"; 77 (skip) when slapd is absent.
set -u

PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
DRIVER=$HERE/pam_driver.py
WAIT=10

SLAPD_A=""

# shellcheck source=tests/pam/pam-lib.sh
. "$HERE/pam-lib.sh"
# shellcheck source=tests/lib/slapd.sh
. "$TESTS_LIB/slapd.sh"
PORT_A=${PAM_LDAP_TEST_PORT:-$(free_ports 3)} # and ldaps:// on PORT_A + 2

cleanup() {
    stop_pid "$DAEMON_PID"
    DAEMON_PID=""
    kill -CONT "$SLAPD_A" 2>/dev/null
    stop_pid "$SLAPD_A"
    pam_cleanup
}

# ------------------------------------------------------------------ setup

# slapd absent: skipped (exit 77) even under CI; the rest is required there
if [ ! -x "$SLAPD" ]; then
    echo "SKIP: slapd is missing" >&2
    exit 77
fi
pam_require
slapd_require

pam_setup ldap
trap cleanup EXIT

slapd_prepare
BINDPW=reader-secret-$$
printf '%s\n' "$BINDPW" >"$WORK/bindpw"
chmod 600 "$WORK/bindpw"
"$PY" -B "$LDAP_DRIVER" files "$WORK/smbpasswd" || exit 99
slapd_load "$BINDPW" a
start_slapd a "$PORT_A"

ntlmd_conf "$SOCKET" "$WORK/smbpasswd" "files ldap" >"$CONF" <<EOF
read_timeout    5000
lockout_threshold 0
uri             ldap://127.0.0.1:$PORT_A
base            ou=people,$SUFFIX
binddn          cn=reader,$SUFFIX
bindpw_file     $WORK/bindpw
rootbinddn      cn=ntlmd,$SUFFIX
rootbindpw_file $WORK/bindpw
timelimit       2
bind_timelimit  2
EOF
pam_start_ntlmd

M="$PAM_NTLM_SO socket=$SOCKET"
write_unix_check
service ntlm-password "auth required $M mode=password" "account required $M" "password required $M"
service ntlm-account "account required $M"
pam_shipped ntlm-exchange
service ntlm-verify "auth required $M mode=verify" "account required $M"
service ntlm-migrate "auth requisite $PAM_EXEC expose_authtok quiet $UNIX_CHECK" "auth optional $M migrate" \
    "auth optional $PAM_PERMIT"

# ldap_hash_is USER PASSWORD: sambaNTPassword of USER on slapd is NT(PASSWORD)
ldap_hash_is() {
    [ "$(ldap_value "$1" sambaNTPassword)" = "$(printf '%s\n' "$2" | "$PY" -B "$LDAP_DRIVER" nthash-stdin)" ]
}

# ------------------------------------------------------------------ a plain LDAP user

pt ntlm-password lalice 'Lalice-pass1
' authenticate acct_mgmt
expect "LDAP user: password login and acct_mgmt" 0 "$ACCT_OK"
pt ntlm-password lalice 'Wrong-pass0
' authenticate
expect "LDAP user: wrong password -> PAM_AUTH_ERR" 1 "$AUTH_ERR" "STATUS_WRONG_PASSWORD"
exchange ntlm-exchange lalice 'Lalice-pass1'
expect "LDAP user: exchange mode (python3-ntlm-auth) and acct_mgmt" 0 "$ACCT_OK"

# ------------------------------------------------------------------ account expired

pt ntlm-password ldave 'Ldave-pass4
' authenticate
expect "sambaKickoffTime passed: authenticate -> PAM_ACCT_EXPIRED" 1 "$EXPIRED" "STATUS_ACCOUNT_EXPIRED"
pt ntlm-account ldave '' acct_mgmt
expect "sambaKickoffTime passed: acct_mgmt -> PAM_ACCT_EXPIRED" 1 "$EXPIRED" "account refused for user ldave: STATUS_ACCOUNT_EXPIRED"
exchange ntlm-exchange ldave 'Ldave-pass4'
expect "sambaKickoffTime passed: exchange mode -> PAM_ACCT_EXPIRED" 1 "$EXPIRED"
pt ntlm-password ldave 'Wrong-pass0
' authenticate
expect "sambaKickoffTime passed, wrong password: PAM_AUTH_ERR (expiry not revealed)" 1 "$AUTH_ERR"

# ------------------------------------------------------------------ password must change

pt ntlm-password lerin 'Lerin-pass5
' authenticate
expect "sambaPwdLastSet 0: authenticate -> PAM_NEW_AUTHTOK_REQD" 1 "$NEWTOK" "STATUS_PASSWORD_MUST_CHANGE"
pt ntlm-account lerin '' acct_mgmt
expect "sambaPwdLastSet 0: acct_mgmt -> PAM_NEW_AUTHTOK_REQD" 1 "$NEWTOK"
pt ntlm-password lfrank 'Lfrank-pass6
' authenticate
expect "sambaPwdMustChange passed: authenticate -> PAM_NEW_AUTHTOK_REQD" 1 "$NEWTOK" "STATUS_PASSWORD_EXPIRED"
pt ntlm-account lfrank '' acct_mgmt
expect "sambaPwdMustChange passed: acct_mgmt -> PAM_NEW_AUTHTOK_REQD" 1 "$NEWTOK"
pt ntlm-password lerin 'Lerin-new-pass5
Lerin-new-pass5
' chauthtok
expect "sambaPwdLastSet 0: chauthtok is allowed" 0 "altered successfully"
pt ntlm-password lerin 'Lerin-new-pass5
' authenticate acct_mgmt
expect "sambaPwdLastSet 0, password changed: login and acct_mgmt succeed" 0 "$ACCT_OK"

# ------------------------------------------------------------------ logon hours

pt ntlm-password lgina 'Lgina-pass7
' authenticate
expect "sambaLogonHours all closed: authenticate -> PAM_AUTH_ERR" 1 "$AUTH_ERR" "STATUS_INVALID_LOGON_HOURS"
pt ntlm-account lgina '' acct_mgmt
expect "sambaLogonHours all closed: acct_mgmt -> PAM_PERM_DENIED" 1 "$PERM" "STATUS_INVALID_LOGON_HOURS"
pt ntlm-password lhank 'Lhank-pass8
' authenticate acct_mgmt
expect "sambaLogonHours all open: login and acct_mgmt succeed" 0 "$ACCT_OK"

# ------------------------------------------------------------------ workstations

# livan may log on from OTHERPC and ELSEWHERE only; ljane from OTHERPC and CLIENT1
exchange ntlm-exchange livan 'Livan-pass9'
expect "sambaUserWorkstations: exchange from CLIENT1 -> refused" 1 "$AUTH_ERR" "STATUS_INVALID_WORKSTATION"
exchange ntlm-exchange livan 'Livan-pass9' --workstation ELSEWHERE
expect "sambaUserWorkstations: exchange from a listed workstation -> accepted, acct_mgmt too" 0 "$ACCT_OK"
pt ntlm-verify '' "$(printf '%s\n' 'Livan-pass9' | "$PY" -B "$DRIVER" verify-input livan)
" authenticate
expect "sambaUserWorkstations: verify mode from CLIENT1 -> refused" 1 "$AUTH_ERR" "STATUS_INVALID_WORKSTATION"
pt ntlm-verify '' "$(printf '%s\n' 'Livan-pass9' | "$PY" -B "$DRIVER" verify-input livan --workstation OTHERPC)
" authenticate acct_mgmt
expect "sambaUserWorkstations: verify mode from a listed workstation -> accepted" 0 "$ACCT_OK"
exchange ntlm-exchange ljane 'Ljane-pass10'
expect "sambaUserWorkstations (any case): exchange from client1 -> accepted" 0 "$ACCT_OK"

# ------------------------------------------------------------------ chauthtok

pt ntlm-password lmia 'Lmia-new-pass18
Lmia-new-pass18
' chauthtok
expect "chauthtok of an LDAP user as root" 0 "altered successfully" "NT hash change for user lmia: STATUS_SUCCESS"
if ldap_hash_is lmia 'Lmia-new-pass18'; then
    pass "chauthtok: ldapsearch shows the new sambaNTPassword"
else
    fail "chauthtok: sambaNTPassword on slapd is not the new password's NT hash"
fi
last=$(ldap_value lmia sambaPwdLastSet)
if [ $(($(date +%s) - ${last:-0})) -lt 60 ]; then
    pass "chauthtok: sambaPwdLastSet is now"
else
    fail "chauthtok: sambaPwdLastSet is ${last:-absent}"
fi
pt ntlm-password lmia 'Lmia-new-pass18
' authenticate
expect "chauthtok: the new password logs in" 0 "$AUTH_OK"
pt ntlm-password lmia 'Lmia-pass13
' authenticate
expect "chauthtok: the old password no longer does" 1 "$AUTH_ERR"

# ------------------------------------------------------------------ migrate

printf '%s' 'Lcache-unix-pass1' >"$WORK/unix-password"
pt ntlm-migrate lcache 'Lcache-unix-pass1
' authenticate setcred
expect "migrate of an LDAP user: the first module's password is stored at pam_setcred" 0 "$CRED_OK" \
    "migrate: NT hash stored for user lcache: STATUS_SUCCESS"
if ldap_hash_is lcache 'Lcache-unix-pass1'; then
    pass "migrate: ldapsearch shows the NT hash of the accepted password"
else
    fail "migrate: sambaNTPassword on slapd did not change"
fi
pt ntlm-password lcache 'Lcache-unix-pass1
' authenticate
expect "migrate: the migrated password logs in through ntlmd" 0 "$AUTH_OK"
pt ntlm-migrate lcache 'Lcache-unix-pass1
' authenticate setcred
expect "migrate: the same password again stores nothing" 0 "$CRED_OK"
if printf '%s\n' "$OUT" | grep -q "NT hash stored"; then
    fail "migrate wrote an unchanged hash again"
else
    pass "migrate: an unchanged hash is not written again"
fi

# ------------------------------------------------------------------ directory down

stop_pid "$SLAPD_A"
SLAPD_A=""
pt ntlm-password lalice 'Lalice-pass1
' authenticate
expect "directory down: PAM_AUTHINFO_UNAVAIL, not an unknown user" 1 "$UNAVAIL"
pt ntlm-password falice 'Falice-pass1
' authenticate
expect "directory down: the files store still serves its users" 0 "$AUTH_OK"

# ------------------------------------------------------------------ secrets

secrets_absent Lalice-pass1 Lmia-new-pass18 Lcache-unix-pass1 Livan-pass9 "$BINDPW"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
