#!/bin/sh
# test-pam-identity.sh: who logs in through pam_ntlm.so (pam_ntlm(8),
# "IDENTITY"; docs/pam-conversation.md, "Who logs in"), against a real
# ntlmd (files backend) and, for what the real daemon never answers, a
# stand-in (pam_driver.py fake-ntlmd). The PAM configuration is private
# (pam_wrapper), as in test-pam.sh; the shipped etc/pam.d/ntlm-exchange and
# ntlm-test run as shipped, only socket= added (pam-lib.sh).
#
# - pam-su (tests/pam/pam-su.c) calls PAM as util-linux su does:
#   pam_start(SERVICE, "root"), then pam_authenticate and pam_acct_mgmt,
#   and answers the password prompt with an NTLM NEGOTIATE and the
#   CHALLENGE prompt with an AUTHENTICATE for alice. Refused in every mode
#   that allows an exchange (the shipped ntlm-exchange and ntlm-test too); in the default and password modes no exchange
#   starts at all. The same account passes (by its store name, by the name
#   ntlmd formats, or with no PAM user set); a name that differs in case
#   does not.
# - pass-the-hash: an AUTHENTICATE built from the NT hash alone does not
#   log in to a password service (the default mode).
# - names that differ in case: PAM user Alice is not store user alice, in
#   password logins, acct_mgmt, chauthtok and migrate (add_users): alice's
#   hash never changes.
# - chauthtok of an expired password (PAM_CHANGE_EXPIRED_AUTHTOK) as root
#   asks for the old password and checks it.
# - an ntlmd that names no account in its replies (older than the module)
#   is refused; every request about a login name carries EXACT_NAME.
#
# Run by "make check" (tests/pam.am sets NTLMD, PAM_NTLM_SO, PAM_SU), or by hand:
#   NTLMD=build/ntlmd/ntlmd PAM_NTLM_SO=build/pam_ntlm/.libs/pam_ntlm.so \
#   PAM_SU=build/tests/pam/pam-su tests/pam/test-pam-identity.sh
# One line per case, then "N passed, M failed".
set -u

HERE=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=tests/pam/pam-lib.sh
. "$HERE/pam-lib.sh"

# ------------------------------------------------------------------ setup

pam_require
if [ -z "${PAM_SU:-}" ] || [ ! -x "$PAM_SU" ]; then
    echo "ERROR: set PAM_SU to the built tests/pam/pam-su (make check does)" >&2
    exit 99
fi
PAM_DENY=$(dirname "$PAM_EXEC")/pam_deny.so
[ -f "$PAM_DENY" ] || skip_or_fail "pam_deny.so (libpam-modules)"
pam_setup identity
pam_files_conf
pam_start_ntlmd

M="$PAM_NTLM_SO socket=$SOCKET"
write_unix_check

# The shipped services that allow an exchange, as shipped (socket= added)
pam_shipped ntlm-exchange ntlm-test
# The stack of the report: pam_ntlm sufficient, then pam_deny; the
# account phase asks pam_ntlm too.
for mode in exchange auto password; do
    service "su-$mode" "auth sufficient $M mode=$mode" "auth requisite $PAM_DENY" "account required $M"
done
service su-default "auth sufficient $M" "auth requisite $PAM_DENY" "account required $M"
service login "auth required $M" "account required $M" "password required $M"
service verify "auth required $M mode=verify" "account required $M"
service migrate "auth requisite $PAM_EXEC expose_authtok quiet $UNIX_CHECK" "auth optional $M migrate" \
    "auth optional $PAM_PERMIT"
service migrate-add "auth requisite $PAM_EXEC expose_authtok quiet $UNIX_CHECK" \
    "auth optional $M migrate add_users" "auth optional $PAM_PERMIT"

# su_like [--nt-hash] [--domain D] SERVICE TARGET NTLM_USER SECRET:
# pam-su under pam_wrapper, the secret on its stdin; sets OUT and RC.
su_like() {
    opts=""
    while [ "$1" = --nt-hash ] || [ "$1" = --domain ]; do
        if [ "$1" = --domain ]; then
            opts="$opts --domain $2"
            shift
        else
            opts="$opts $1"
        fi
        shift
    done
    # shellcheck disable=SC2086 # opts: words without spaces
    OUT=$(printf '%s\n' "$4" | timeout 60 "$PAM_RUN" "$PAM_SU" $opts "$1" "$2" "$3" 2>&1)
    RC=$?
    ran "$1"
}

# prompts: how many prompts the last pam-su run was asked.
prompts() {
    printf '%s\n' "$OUT" | grep -c '^prompt: '
}

# ------------------------------------------------------------------ su: another account's proof

for svc in su-exchange su-auto ntlm-exchange ntlm-test; do
    su_like "$svc" root alice 'Passw0rd!'
    if [ "$RC" -eq 1 ] && has "authenticate: PAM_AUTH_ERR" && ! has "acct_mgmt:" &&
        has "prompt: NTLM CHALLENGE ... AUTHENTICATE: "; then
        pass "su as root, $svc: alice's NTLM exchange does not log in root -> PAM_AUTH_ERR"
    else
        fail "su as root, $svc, alice's exchange: status $RC: $(last)"
    fi
    if has 'NTLM exchange refused: PAM user "root" is not the NTLM account "alice" ("TESTDOM\\alice")' &&
        has "STATUS_LOGON_FAILURE"; then
        pass "su as root, $svc: the refusal names the PAM user and the NTLM account"
    else
        fail "su as root, $svc: no log line naming root and alice: $(last)"
    fi
done
for mode in password default; do
    su_like "su-$mode" root alice 'Passw0rd!'
    if [ "$RC" -eq 1 ] && ! has "authenticate: PAM_SUCCESS" && [ "$(prompts)" -eq 1 ] &&
        has "prompt: Password: " && ! has "NTLM CHALLENGE"; then
        pass "su as root, mode=$mode: no exchange starts, the NEGOTIATE is a wrong password"
    else
        fail "su as root, mode=$mode: status $RC, $(prompts) prompts: $(last)"
    fi
done
pt verify root "$(verify_input alice 'Passw0rd!')
" authenticate
expect "verify mode with PAM user root: alice's three messages -> PAM_AUTH_ERR" 1 "$AUTH_ERR" \
    'PAM user "root" is not the NTLM account "alice"'

# ------------------------------------------------------------------ su: the same account

for svc in su-exchange su-auto ntlm-exchange ntlm-test; do
    su_like "$svc" alice alice 'Passw0rd!'
    if [ "$RC" -eq 0 ] && has "authenticate: PAM_SUCCESS" && has "acct_mgmt: PAM_SUCCESS" &&
        has_line "PAM_USER=alice"; then
        pass "su to alice, $svc: alice's exchange passes, PAM_USER stays alice"
    else
        fail "su to alice, $svc: status $RC: $(last)"
    fi
done
su_like su-exchange 'TESTDOM\alice' alice 'Passw0rd!'
expect "PAM user named as ntlmd formats the account (user_name_format) and alice's exchange -> accepted" 0 \
    "acct_mgmt: PAM_SUCCESS" 'PAM_USER=TESTDOM\alice'
su_like su-exchange Alice alice 'Passw0rd!'
expect "PAM user Alice and alice's exchange: case counts -> PAM_AUTH_ERR" 1 "authenticate: PAM_AUTH_ERR" \
    'PAM user "Alice" is not the NTLM account "alice"'
su_like su-exchange - alice 'Passw0rd!'
expect "no PAM user (a server learning the user from the exchange): PAM_USER set to ntlmd's AUTH_USER" 0 \
    "acct_mgmt: PAM_SUCCESS" 'PAM_USER=TESTDOM\alice'
su_like --domain testdom su-exchange - ALICE 'Passw0rd!'
if [ "$RC" -eq 0 ] && has_line 'PAM_USER=TESTDOM\alice' && has_line "NTLM_USER=alice" &&
    has_line "NTLM_DOMAIN=TESTDOM"; then
    pass "client spelling ALICE in testdom: PAM_USER, NTLM_USER and NTLM_DOMAIN are the account's names"
else
    fail "client spelling ALICE in testdom: status $RC: $(last)"
fi
su_like su-exchange alice alice 'WrongPass1'
expect "su to alice with a wrong password -> PAM_AUTH_ERR" 1 "authenticate: PAM_AUTH_ERR" "STATUS_WRONG_PASSWORD"

# ------------------------------------------------------------------ pass-the-hash

NT_ALICE=$("$PY" -B -c "import clients; print(clients.nt_hash('Passw0rd!').hex())")
su_like --nt-hash login alice alice "$NT_ALICE"
if [ "$RC" -eq 1 ] && has "authenticate: PAM_AUTH_ERR" && [ "$(prompts)" -eq 1 ] && ! has "NTLM CHALLENGE" &&
    has "password authentication failed for user alice: STATUS_WRONG_PASSWORD"; then
    pass "pass-the-hash into a password service (default mode): no exchange, a wrong password"
else
    fail "pass-the-hash into a password service: status $RC, $(prompts) prompts: $(last)"
fi
su_like --nt-hash su-exchange alice alice "$NT_ALICE"
expect "the same NT-hash logon where the service asks for exchanges (mode=exchange) is an NTLM logon" 0 \
    "acct_mgmt: PAM_SUCCESS"

# ------------------------------------------------------------------ names that differ in case

pt login Alice 'Passw0rd!
' authenticate
expect "password login: alice's password does not log in PAM user Alice" 1 "$UNKNOWN" "STATUS_NO_SUCH_USER"
pt login alice 'Passw0rd!
' authenticate acct_mgmt
expect "password login: alice's password logs in alice, acct_mgmt too" 0 "$ACCT_OK"
pt login Alice '' acct_mgmt
expect "acct_mgmt of PAM user Alice: not alice's account -> PAM_USER_UNKNOWN" 1 "$UNKNOWN"
pt login Alice 'Alicenew1!
Alicenew1!
' chauthtok
if [ "$RC" -ne 0 ] && hash_is alice 'Passw0rd!'; then
    pass "chauthtok of PAM user Alice as root: refused, alice's hash unchanged"
else
    fail "chauthtok of Alice: status $RC, alice's hash $(hash_is alice 'Passw0rd!' && echo kept || echo changed)"
fi
for svc in migrate migrate-add; do
    printf '%s' 'Alicenew1!' >"$WORK/unix-password"
    pt "$svc" Alice 'Alicenew1!
' authenticate setcred
    if [ "$RC" -eq 0 ] && hash_is alice 'Passw0rd!' && ! grep -q '^Alice:' "$HASHES"; then
        pass "$svc: Unix user Alice's password is not stored over store user alice"
    else
        fail "$svc of Alice: status $RC, alice's hash $(hash_is alice 'Passw0rd!' && echo kept || echo changed): $(last)"
    fi
done
pt login alice 'Passw0rd!
' authenticate
expect "alice's own password still logs her in after Alice's migrate" 0 "$AUTH_OK"

# ------------------------------------------------------------------ chauthtok of an expired password

# dave's password must change (pam_driver.py: LCT 0). As root, with
# PAM_CHANGE_EXPIRED_AUTHTOK (login, su and sshd ask so), the old password
# is asked first: the two lines that would set a new one without it are
# taken as a wrong old password.
pt login dave 'Davenew1!
Davenew1!
' 'chauthtok(PAM_CHANGE_EXPIRED_AUTHTOK)'
if [ "$RC" -eq 1 ] && has "Current NTLM password:" && has "STATUS_WRONG_PASSWORD" && hash_is dave 'Davepass1!'; then
    pass "expired password, root, PAM_CHANGE_EXPIRED_AUTHTOK: the old password is asked; a wrong one refused"
else
    fail "expired password changed by root without the old one: status $RC, dave's hash $(hash_is dave 'Davepass1!' && echo kept || echo changed): $(last)"
fi
pt login dave 'Davepass1!
Davenew1!
Davenew1!
' 'chauthtok(PAM_CHANGE_EXPIRED_AUTHTOK)'
if [ "$RC" -eq 0 ] && has "Current NTLM password:" && hash_is dave 'Davenew1!'; then
    pass "expired password, root, PAM_CHANGE_EXPIRED_AUTHTOK: with the old password the change is made"
else
    fail "expired password change with the old password: status $RC: $(last)"
fi

# ------------------------------------------------------------------ an older ntlmd

FAKE_LOG=$WORK/fake-requests
: >"$FAKE_LOG"
"$PY" -B "$DRIVER" fake-ntlmd "$WORK/fake-old.sock" "$FAKE_LOG" &
PAM_PIDS="$PAM_PIDS $!"
"$PY" -B "$DRIVER" fake-ntlmd "$WORK/fake-fold.sock" "$FAKE_LOG" --fold &
PAM_PIDS="$PAM_PIDS $!"
wait_socket "$WORK/fake-old.sock"
wait_socket "$WORK/fake-fold.sock"
for fake in old fold; do
    F="$PAM_NTLM_SO socket=$WORK/fake-$fake.sock"
    service "fake-$fake" "auth required $F" "account required $F" "password required $F"
    service "fake-$fake-migrate" "auth requisite $PAM_EXEC expose_authtok quiet $UNIX_CHECK" \
        "auth optional $F migrate add_users" "auth optional $PAM_PERMIT"
done

pt fake-old alice 'Passw0rd!
' authenticate
expect "an ntlmd whose CHECK_PASSWORD success names no account: refused (fails closed)" 1 "$AUTH_ERR" \
    "password login refused: ntlmd's reply names no account"
pt fake-old alice '' acct_mgmt
expect "an ntlmd whose ACCOUNT_STATUS success names no account: refused" 1 "$AUTH_ERR" \
    "account check refused: ntlmd's reply names no account"
pt fake-fold Alice 'Passw0rd!
' authenticate
expect "a daemon that answers alice for PAM user Alice: refused by the module itself" 1 "$AUTH_ERR" \
    'password login refused: PAM user "Alice" is not the NTLM account "alice"'
pt fake-fold Alice '' acct_mgmt
expect "acct_mgmt: a daemon that answers alice for PAM user Alice -> refused" 1 "$AUTH_ERR" \
    'account check refused: PAM user "Alice" is not the NTLM account "alice"'
pt fake-fold alice 'Passw0rd!
' authenticate acct_mgmt
expect "the stand-in naming the account asked for: accepted" 0 "$ACCT_OK"
pt fake-fold alice 'Alicenew1!
Alicenew1!
' chauthtok
expect "chauthtok through the stand-in" 0 "altered successfully"
printf '%s' 'Wrongpw1!' >"$WORK/unix-password"
pt fake-fold-migrate nobody 'Wrongpw1!
' authenticate setcred
pt fake-fold-migrate nosuchuser 'Wrongpw1!
' authenticate setcred
want="CHECK_PASSWORD user=alice exact=1 create=-
ACCOUNT_STATUS user=alice exact=1 create=-
CHECK_PASSWORD user=Alice exact=1 create=-
ACCOUNT_STATUS user=Alice exact=1 create=-
CHECK_PASSWORD user=alice exact=1 create=-
ACCOUNT_STATUS user=alice exact=1 create=-
ACCOUNT_STATUS user=alice exact=1 create=-
CHANGE_PASSWORD user=alice exact=1 create=-
SYNC_PASSWORD user=nobody exact=1 create=1
SYNC_PASSWORD user=nosuchuser exact=1 create=-"
if [ "$(cat "$FAKE_LOG")" = "$want" ]; then
    pass "EXACT_NAME 1 on every CHECK_PASSWORD, ACCOUNT_STATUS, CHANGE_PASSWORD and migrate's one SYNC_PASSWORD (CREATE 1 with add_users for a system user of uid >= min_uid, none for a user the system does not know)"
else
    fail "requests the stand-in got: $(tr '\n' '|' <"$FAKE_LOG")"
fi

# ------------------------------------------------------------------ secrets

SECRET_FILES=$FAKE_LOG
secrets_absent 'Passw0rd!' 'WrongPass1' 'Alicenew1!' 'Davepass1!' 'Davenew1!' 'Wrongpw1!' "$NT_ALICE"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
