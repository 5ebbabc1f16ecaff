#!/bin/sh
# test-pam.sh: pam_ntlm.so in real pamtester processes against a real
# ntlmd (files backend) started here in a temporary directory. The PAM
# configuration is private: pam_wrapper (libpam-wrapper) makes libpam read
# the service files of the temporary directory; /etc/pam.d is never read or
# touched. The shipped etc/pam.d/ntlm-test, ntlm-exchange and ntlm-login
# run as shipped, only socket= added (pam-lib.sh, "Shipped service files");
# the tests' own services name the built module by its absolute path.
#
# Covers password logins (good, wrong, unknown, disabled, locked,
# must-change), auto mode, use_first_pass, acct_mgmt and
# ignore_unknown_user, chauthtok as root and as another user (the hash in
# the smbpasswd file changes), migrate and chauthtok through ntlm-login
# with pam_unix and private Unix users (the hash is stored at pam_setcred,
# never after a password pam_unix refused, whatever pam_unix's control),
# verify mode with messages made
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

HERE=$(cd "$(dirname "$0")" && pwd)
TIMEOUT_MS=1500 # the module's timeout in the unavailability cases

# shellcheck source=tests/pam/pam-lib.sh
. "$HERE/pam-lib.sh"

# ------------------------------------------------------------------ setup

pam_require
command -v setpriv >/dev/null 2>&1 || skip_or_fail "setpriv"
command -v openssl >/dev/null 2>&1 || skip_or_fail "openssl (the Unix users' password hashes)"
NOBODY_UID=$(id -u nobody)
pam_setup test

# ntlm-login and ntlm-test count wrong passwords (henry: the migrate
# lockout cases); the other services do not
pam_files_conf "allow_users       $NOBODY_UID" "" \
    "service ntlm-cb" "channel_bindings  required" "" \
    "service ntlm-login" "lockout_threshold 3" "lockout_account_threshold 3" "" \
    "service ntlm-test" "lockout_threshold 3" "lockout_account_threshold 3"
pam_start_ntlmd

M="$PAM_NTLM_SO socket=$SOCKET"

write_unix_check

# The shipped services (pam-lib.sh, "Shipped service files"): ntlm-test
# (auto mode, debug), ntlm-exchange (the custom server's) and ntlm-login
# (pam_unix, then migrate) with the private Unix users frank, gina (in no
# store) and henry.
pam_shipped ntlm-test ntlm-exchange ntlm-login
pam_unix_user frank 1005 'Franknew1!'
pam_unix_user gina 1006 'Ginapass1!'
pam_unix_user henry 1007 'Henrynew1!'

service ntlm-password "auth required $M mode=password" "account required $M" "password required $M"
service ntlm-debug "auth required $M mode=password debug no_such_option timeout=5"
service ntlm-first "auth required $M use_first_pass"
service ntlm-unix-first "auth requisite $PAM_EXEC expose_authtok quiet $UNIX_CHECK" "auth required $M use_first_pass"
service ntlm-ignore "account required $M ignore_unknown_user" "account required $PAM_PERMIT"
service ntlm-migrate-add "auth requisite $PAM_EXEC expose_authtok quiet $UNIX_CHECK" \
    "auth optional $M migrate add_users" "auth optional $PAM_PERMIT"
service ntlm-migrate-add-high "auth requisite $PAM_EXEC expose_authtok quiet $UNIX_CHECK" \
    "auth optional $M migrate add_users min_uid=4294967295" "auth optional $PAM_PERMIT"
service ntlm-migrate-add-root "auth requisite $PAM_EXEC expose_authtok quiet $UNIX_CHECK" \
    "auth optional $M migrate add_users min_uid=0" "auth optional $PAM_PERMIT"
# migrate after pam_unix in the stacks of attack2/migrate_unverified.sh
# (finding F1): "required" goes on after a wrong password, "sufficient"
# runs migrate only after one; and "sufficient" before pam_deny and
# migrate, where migrate never runs after a right one
service ntlm-login-required "auth required pam_unix.so" "auth optional $M migrate"
service ntlm-login-sufficient "auth sufficient pam_unix.so" "auth optional $M migrate" "auth requisite pam_deny.so"
service ntlm-login-sufficient-deny "auth sufficient pam_unix.so" "auth required pam_deny.so" "auth optional $M migrate"
service ntlm-verify "auth required $M mode=verify" "account required $M"
service ntlm-absent "auth required $PAM_NTLM_SO socket=$WORK/absent/socket mode=password"
service ntlm-default-socket "auth required $PAM_NTLM_SO mode=password"
service ntlm-silent "auth required $PAM_NTLM_SO socket=$WORK/silent.sock timeout=$TIMEOUT_MS mode=password"
service ntlm-server-verify "auth required $M mode=verify" "account required $M"
service ntlm-cb "auth required $M mode=exchange require_cb" "account required $M"
service ntlm-garbage "auth required $PAM_NTLM_SO socket=$WORK/garbage.sock timeout=$TIMEOUT_MS mode=password"
service ntlm-stopped "auth required $M mode=exchange timeout=$TIMEOUT_MS"
# pam_exec after a SPNEGO login prints the final token the module left in
# the PAM environment (pam_exec runs its command with that environment)
FINAL_SH=$WORK/print-final.sh
# shellcheck disable=SC2016 # expanded by pam_exec's shell
printf '%s\n' '#!/bin/sh' 'echo "NTLM_FINAL_TOKEN=${NTLM_FINAL_TOKEN:-none}"' >"$FINAL_SH"
chmod 0755 "$FINAL_SH"
service ntlm-spnego "auth required $M mode=exchange" "auth optional $PAM_EXEC stdout type=auth $FINAL_SH" \
    "account required $M"
service ntlm-spnego-auto "auth required $M mode=auto" "auth optional $PAM_EXEC stdout type=auth $FINAL_SH" \
    "account required $M"
service ntlm-spnego-verify "auth required $M mode=verify" "auth optional $PAM_EXEC stdout type=auth $FINAL_SH"

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
pt ntlm-test alice 'Passw0rd!
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

# ------------------------------------------------------------------ the shipped services as such

pt ntlm-test alice '' open_session close_session
expect "etc/pam.d/ntlm-test: the session phase opens and closes" 0 "session has successfully been closed"
pt ntlm-exchange alice '' acct_mgmt open_session close_session
expect "etc/pam.d/ntlm-exchange: acct_mgmt and the session phase" 0 "session has successfully been closed"
pt ntlm-exchange alice '' chauthtok
expect "etc/pam.d/ntlm-exchange: no password change (pam_deny)" 1 "Authentication token manipulation error"
# The check behind every run of a shipped file (shipped_check), on copies
# of ntlm-test with one disagreement each: both runs must show it.
sed 's/mode=auto debug/mode=auto debug no_such_option/' "$PAMD/ntlm-test" >"$PAMD/changed-option"
sed '/^auth/s/ pam_ntlm.so / pam_ntlm_typo.so /' "$PAMD/ntlm-test" >"$PAMD/changed-module"
for changed in option module; do
    pt "changed-$changed" alice 'Passw0rd!
' authenticate
    if disagreement >/dev/null; then
        pass "shipped-file check: a changed $changed is seen (the login's status: $RC)"
    else
        fail "shipped-file check missed a changed $changed: status $RC: $(last)"
    fi
done

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

pt ntlm-test erin 'Erinnew1!
Erinnew1!
' chauthtok
expect "chauthtok as root (etc/pam.d/ntlm-test): no old password needed" 0 "altered successfully" "NT hash change for user erin: STATUS_SUCCESS"
expect_hash "chauthtok as root: the smbpasswd file holds the new NT hash" erin 'Erinnew1!'
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
expect_hash "chauthtok as nobody, wrong old password: the hash did not change" erin 'Erinnew1!'
pt_nobody ntlm-password erin 'Erinnew1!
Erinnew2!
Erinnew2!
' chauthtok
expect "chauthtok as nobody: the old password is asked and checked" 0 "altered successfully" "Current NTLM password:"
expect_hash "chauthtok as nobody: the smbpasswd file holds the new NT hash" erin 'Erinnew2!'

# ------------------------------------------------------------------ migrate (etc/pam.d/ntlm-login)

# pam_unix checks the private Unix users' passwords (pam_unix_user); frank's
# NT hash in the store is his old password's. migrate keeps the password in
# pam_authenticate and stores it in pam_setcred, which an application calls
# only after pam_authenticate succeeded (pamtester stops at the first
# operation that fails, as login, su and sshd do).
pt ntlm-login frank 'WrongPass1
' authenticate setcred
expect "ntlm-login: a password pam_unix refuses -> PAM_AUTH_ERR" 1 "$AUTH_ERR"
expect_hash "ntlm-login: a refused password is not migrated, hash unchanged" frank 'Frankold1!'

# Finding F1: a wrong Unix password typed for frank must not become his NT
# hash, whatever pam_unix's control (the stacks of
# attack2/migrate_unverified.sh); the NTLM login with it fails (through
# ntlm-password, which counts no lockout).
for svc in ntlm-login-required ntlm-login-sufficient ntlm-login-sufficient-deny; do
    pw="Attacker-$svc-1"
    pt "$svc" frank "$pw
" authenticate setcred
    if [ "$RC" -eq 1 ] && has "$AUTH_ERR" && ! has "migrate: NT hash stored" && hash_is frank 'Frankold1!'; then
        pass "$svc: a wrong Unix password for frank is not stored (authenticate fails, no setcred)"
    else
        fail "$svc: a wrong Unix password: status $RC, frank's hash $(hash_is frank 'Frankold1!' && echo kept || echo changed): $(last)"
    fi
    pt ntlm-password frank "$pw
" authenticate
    expect "$svc: the attacker's password does not log in frank through ntlmd" 1 "$AUTH_ERR" "STATUS_WRONG_PASSWORD"
done
if ! grep -q 'SYNC_PASSWORD .*user="frank"' "$LOG"; then
    pass "after the wrong Unix passwords: ntlmd got no SYNC_PASSWORD for frank"
else
    fail "SYNC_PASSWORD for frank after wrong Unix passwords: $(grep 'SYNC_PASSWORD .*frank' "$LOG" | tail -1)"
fi
# the right password: "sufficient" before pam_deny and migrate ends the
# stack at pam_unix: migrate never runs (nothing kept, nothing stored)
pt ntlm-login-sufficient-deny frank 'Franknew1!
' authenticate setcred
expect "sufficient pam_unix, then pam_deny and migrate: the right password logs in" 0 "$CRED_OK"
expect_hash "sufficient pam_unix, then pam_deny and migrate: migrate never runs, nothing stored" frank 'Frankold1!'

# the shipped ntlm-login: an application that never calls pam_setcred
# (pamtester authenticate only) gets nothing stored, nor does
# PAM_REFRESH_CRED; PAM_ESTABLISH_CRED stores the NT hash once
pt ntlm-login frank 'Franknew1!
' authenticate acct_mgmt
expect "ntlm-login: pam_unix accepts, acct_mgmt of both modules" 0 "$ACCT_OK"
if ! has "migrate: NT hash stored" && hash_is frank 'Frankold1!'; then
    pass "ntlm-login without pam_setcred: nothing stored (migrate needs an application that calls pam_setcred)"
else
    fail "ntlm-login without pam_setcred stored frank's hash: $(last)"
fi
pt ntlm-login frank 'Franknew1!
' authenticate 'setcred(PAM_REFRESH_CRED)'
if [ "$RC" -eq 0 ] && ! has "migrate: NT hash stored" && hash_is frank 'Frankold1!'; then
    pass "ntlm-login with PAM_REFRESH_CRED: nothing stored"
else
    fail "ntlm-login with PAM_REFRESH_CRED: status $RC: $(last)"
fi
pt ntlm-login frank 'Franknew1!
' authenticate acct_mgmt setcred setcred
expect "ntlm-login: pam_unix accepts, acct_mgmt, pam_setcred: migrate stores the NT hash" 0 \
    "$CRED_OK" "migrate: NT hash stored for user frank: STATUS_SUCCESS"
expect_hash "migrate: the smbpasswd file holds the NT hash of the accepted password" frank 'Franknew1!'
if [ "$(printf '%s\n' "$OUT" | grep -c 'migrate: NT hash stored')" -eq 1 ] &&
    [ "$(grep -c 'SYNC_PASSWORD .*user="frank"' "$LOG")" -eq 1 ]; then
    pass "migrate: a second pam_setcred sends nothing (the password is wiped after the first)"
else
    fail "migrate: SYNC_PASSWORDs for frank: $(grep -c 'SYNC_PASSWORD .*user="frank"' "$LOG")"
fi
pt ntlm-test frank 'Franknew1!
' authenticate
expect "migrate: the migrated password now logs in through ntlmd (etc/pam.d/ntlm-test)" 0 "$AUTH_OK"
pt ntlm-login-required frank 'Franknew1!
' authenticate 'setcred(PAM_REINITIALIZE_CRED)'
if [ "$RC" -eq 0 ] && grep -q 'SYNC_PASSWORD success .*service="ntlm-login-required" user="frank" .*detail="unchanged' "$LOG"; then
    pass "required pam_unix, then migrate: the right password is synced at PAM_REINITIALIZE_CRED (unchanged)"
else
    fail "ntlm-login-required with the right password: status $RC: $(last)"
fi
pt ntlm-login gina 'Ginapass1!
' authenticate acct_mgmt setcred
expect "ntlm-login: a Unix user in no store logs in; migrate stores nothing; account: ignore_unknown_user" 0 \
    "$ACCT_OK" "migrate: nothing stored for user gina: STATUS_NO_SUCH_USER"
if ! grep -q '^gina:' "$HASHES"; then
    pass "ntlm-login without add_users: gina is not added to the store"
else
    fail "ntlm-login added gina to the store"
fi
pt ntlm-login frank 'Franknew2!
Franknew2!
' chauthtok
expect "ntlm-login chauthtok as root: pam_unix, then pam_ntlm with the same new password (use_authtok)" 0 \
    "altered successfully" "NT hash change for user frank: STATUS_SUCCESS"
expect_hash "ntlm-login chauthtok: the smbpasswd file holds the new NT hash" frank 'Franknew2!'
pt ntlm-login frank 'Franknew2!
' authenticate
expect "ntlm-login chauthtok: pam_unix takes the new password too" 0 "$AUTH_OK"

# ------------------------------------------------------------------ migrate: a refresh is not a failed logon

# henry's NT hash in the store is his old password's; his Unix password
# is new. ntlm-login and ntlm-test lock an account after 3 wrong passwords
# (lockout_threshold in their service blocks above). Two wrong passwords,
# then the refresh of a stale hash, then the new password: the refresh is
# no third failure (migrate sends one SYNC_PASSWORD, never a probing
# CHECK_PASSWORD).
henry_failures() {
    grep -c 'failure .*user="henry"' "$LOG"
}
for wrong in WrongPass1 WrongPass2; do
    pt ntlm-test henry "$wrong
" authenticate
done
expect "lockout: a second wrong password of henry (threshold 3) -> PAM_AUTH_ERR" 1 "$AUTH_ERR" "STATUS_WRONG_PASSWORD"
before=$(henry_failures)
pt ntlm-login henry 'Henrynew1!
' authenticate setcred
expect "ntlm-login: henry's Unix password refreshes his stale NT hash" 0 "$CRED_OK" \
    "migrate: NT hash stored for user henry: STATUS_SUCCESS"
expect_hash "migrate refresh: the store holds the NT hash of henry's Unix password" henry 'Henrynew1!'
if [ "$(henry_failures)" -eq "$before" ] && [ "$before" -eq 2 ] &&
    grep -q 'SYNC_PASSWORD success .*uid=0 .*service="ntlm-login" user="henry" .*detail="updated by root' "$LOG"; then
    pass "migrate refresh: ntlmd's audit has one SYNC_PASSWORD success (updated) and no failure record for it"
else
    fail "migrate refresh: henry's failure records $before -> $(henry_failures): $(grep 'henry' "$LOG" | tail -2)"
fi
pt ntlm-test henry 'Henrynew1!
' authenticate
expect "lockout: after 2 wrong passwords and the refresh, henry's new password logs in (nothing counted)" 0 "$AUTH_OK"
pt ntlm-login henry 'Henrynew1!
' authenticate setcred
if [ "$RC" -eq 0 ] && ! has "migrate: NT hash stored" &&
    [ "$(grep -c 'SYNC_PASSWORD success .*user="henry" .*detail="unchanged' "$LOG")" -eq 1 ]; then
    pass "ntlm-login again: the hash is current, nothing written (SYNC_PASSWORD: unchanged)"
else
    fail "ntlm-login with a current hash: status $RC: $(grep 'SYNC_PASSWORD.*henry' "$LOG" | tail -1)"
fi

# driver_as WHO PASSWORD COMMAND ARGS...: a protocol request of
# pam_driver.py (COMMAND: create, sync) sent as WHO (root, or nobody, who
# is in allow_users), PASSWORD on its stdin; sets OUT to what it printed.
driver_as() {
    who=$1
    secret=$2
    shift 2
    if [ "$who" = root ]; then
        OUT=$(printf '%s\n' "$secret" | "$PY" -B "$DRIVER" "$@" 2>&1)
    else
        OUT=$(printf '%s\n' "$secret" | setpriv --reuid=nobody --regid=nogroup --clear-groups \
            "$PY" -B "$DRIVER" "$@" 2>&1)
    fi
}
driver_as nobody 'Henryevil1!' sync "$SOCKET" henry
if [ "$OUT" = "closed without a reply" ] && hash_is henry 'Henrynew1!' &&
    grep 'request reserved to root' "$LOG" | grep -q 'request type 9'; then
    pass "SYNC_PASSWORD from a privileged caller other than root (allow_users): refused unanswered, nothing written"
else
    fail "SYNC_PASSWORD as nobody: $OUT; $(grep 'request type 9' "$LOG" | tail -1)"
fi
driver_as root 'Henryevil1!' sync "$SOCKET" nosuchuser
if [ "$OUT" = STATUS_NO_SUCH_USER ] && ! grep -q '^nosuchuser:' "$HASHES"; then
    pass "SYNC_PASSWORD of a user no store holds, without CREATE: STATUS_NO_SUCH_USER, nothing added"
else
    fail "SYNC_PASSWORD of nosuchuser: $OUT"
fi

# migrate add_users (no shipped file has it): pam_exec stands in for
# pam_unix, for nobody, a user the system (and ntlmd) knows; add_users
# adds no uid below min_uid (default UID_MIN of /etc/login.defs, else
# 1000), and ntlmd never adds uid 0
printf '%s' 'Nobodypw1!' >"$WORK/unix-password"
pt ntlm-migrate-add-high nobody 'Nobodypw1!
' authenticate setcred
if [ "$RC" -eq 0 ] && ! grep -q '^nobody:' "$HASHES" &&
    has "migrate add_users: user nobody not added: uid $NOBODY_UID is below min_uid 4294967295"; then
    pass "migrate add_users min_uid=4294967295: nobody (uid $NOBODY_UID) is not added, and the log says why"
else
    fail "migrate add_users min_uid above nobody's uid: status $RC: $(last)"
fi
pt ntlm-migrate-add nobody 'Nobodypw1!
' authenticate
if [ "$RC" -eq 0 ] && ! grep -q '^nobody:' "$HASHES"; then
    pass "migrate add_users without pam_setcred: nobody is not added"
else
    fail "migrate add_users without pam_setcred: status $RC, $(grep -c '^nobody:' "$HASHES") line(s)"
fi
pt ntlm-migrate-add nobody 'Nobodypw1!
' authenticate setcred
expect "migrate add_users: a system user missing from the store is added (SYNC_PASSWORD + CREATE)" 0 \
    "$CRED_OK" "migrate: user added for user nobody: STATUS_SUCCESS"
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
' authenticate setcred
if [ "$RC" -eq 0 ] && ! grep -q '^no-such-system-user:' "$HASHES" &&
    has "STATUS_NO_SUCH_USER" && has "user no-such-system-user not added: not a system user"; then
    pass "migrate add_users: a user the system does not know is not added"
else
    fail "migrate add_users of an unknown system user: status $RC: $(printf '%s\n' "$OUT" | tail -3)"
fi
printf '%s' 'Rootpw1!' >"$WORK/unix-password"
for u in root daemon; do
    pt ntlm-migrate-add "$u" 'Rootpw1!
' authenticate setcred
    if [ "$RC" -eq 0 ] && ! grep -q "^$u:" "$HASHES" &&
        has "migrate add_users: user $u not added: uid $(id -u "$u") is below min_uid" &&
        ! grep -q "SYNC_PASSWORD .*user=\"$u\" .*added" "$LOG"; then
        pass "migrate add_users (default min_uid): $u (uid $(id -u "$u")) is not added, and the log says why"
    else
        fail "migrate add_users of $u: status $RC: $(last)"
    fi
done
pt ntlm-migrate-add-root root 'Rootpw1!
' authenticate setcred
if [ "$RC" -eq 0 ] && ! grep -q '^root:' "$HASHES" &&
    has "migrate: nothing stored for user root: STATUS_ACCOUNT_RESTRICTION" &&
    grep -q 'SYNC_PASSWORD failure .*user="root" .*detail="CREATE refused: uid 0 is never added"' "$LOG"; then
    pass "migrate add_users min_uid=0: ntlmd refuses to add root (STATUS_ACCOUNT_RESTRICTION, audit detail)"
else
    fail "migrate add_users min_uid=0 for root: status $RC: $(last); $(grep 'user="root"' "$LOG" | tail -1)"
fi

# create_as WHO USER [driver options]: CHANGE_PASSWORD + CREATE sent as WHO;
# sets OUT to the status.
create_as() {
    as=$1
    shift
    driver_as "$as" 'Createpw1!' create "$SOCKET" "$@"
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
create_as root root
if [ "$OUT" = STATUS_ACCOUNT_RESTRICTION ] && ! grep -q '^root:' "$HASHES" &&
    grep -q 'CHANGE_PASSWORD failure .*user="root" .*detail="CREATE refused: uid 0 is never added"' "$LOG"; then
    pass "CHANGE_PASSWORD + CREATE of root by root -> STATUS_ACCOUNT_RESTRICTION, nothing added"
else
    fail "CREATE of root: $OUT; $(grep 'CHANGE_PASSWORD.*user="root"' "$LOG" | tail -1)"
fi
driver_as root 'Rootpw1!' sync "$SOCKET" root --create
if [ "$OUT" = STATUS_ACCOUNT_RESTRICTION ] && ! grep -q '^root:' "$HASHES" &&
    grep -q 'SYNC_PASSWORD failure .*user="root" .*detail="CREATE refused: uid 0 is never added"' "$LOG"; then
    pass "SYNC_PASSWORD + CREATE of root -> STATUS_ACCOUNT_RESTRICTION, nothing added"
else
    fail "SYNC_PASSWORD + CREATE of root: $OUT"
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
expect_hash "alice's password restored" alice 'Passw0rd!'

# ------------------------------------------------------------------ verify mode

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
exchange ntlm-test alice 'Passw0rd!'
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
        -- "$PAM_RUN" "$PAM_NTLM_SERVER" "$@" 2>&1)
    RC=1
    printf '%s\n' "$OUT" | grep -q '^OK ' && RC=0
    ran "$(printf '%s\n' "$*" | sed -n 's/.*--service \([^ ]*\).*/\1/p')"
}
CB_HEX=$(printf 'tls-server-end-point:0123456789abcdef0123456789abcdef' | od -An -tx1 | tr -d ' \n')
CB_OTHER=$(printf 'tls-server-end-point:fedcba9876543210fedcba9876543210' | od -An -tx1 | tr -d ' \n')

if [ -n "${PAM_NTLM_SERVER:-}" ] && [ -x "$PAM_NTLM_SERVER" ]; then
    server alice 'Passw0rd!' '' --service ntlm-exchange
    expect "example server, exchange mode: PAM_INCOMPLETE, CHALLENGE sent, resumed, accepted" 0 \
        "ntlm_user=alice domain=TESTDOM workstation=CLIENT1 type=NTLMv2"
    expect "example server: PAM_USER is the daemon's AUTH_USER, no session key in the environment" 0 \
        "key_in_env=no" "OK user=TESTDOM\\alice "
    server alice 'WrongPass1' '' --service ntlm-exchange
    expect "example server, exchange mode: wrong password -> FAIL" 1 "FAIL $AUTH_ERR"
    server nosuchuser 'Nobody123!' '' --service ntlm-exchange
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
PAM_PIDS="$PAM_PIDS $!"
wait_socket "$WORK/silent.sock"
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
PAM_PIDS="$PAM_PIDS $!"
wait_socket "$WORK/garbage.sock"
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

# the verify-mode and exchange lines hold no password; pamtester never
# echoes the answers, so any hit is a leak
secrets_absent 'Passw0rd!' 'WrongPass1' 'Bobpass1!' 'Carolpw1!' 'Davepass1!' 'Erinnew1!' 'Erinnew2!' \
    'Franknew1!' 'Franknew2!' 'Ginapass1!' 'Henrynew1!' 'Henryevil1!' 'Nobodypw1!' 'Ghostpw1!' 'Createpw1!' \
    'Rootpw1!' 'Attacker-ntlm-login-required-1' 'Attacker-ntlm-login-sufficient-1' \
    'Attacker-ntlm-login-sufficient-deny-1' \
    "$("$PY" -B -c "import clients; print(clients.nt_hash('Passw0rd!').hex())")"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
