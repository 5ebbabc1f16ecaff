#!/bin/sh
# attack4/domain_planted.sh: the lockout policy is "the first sambaDomain
# entry with a lockout attribute under the bases" (read_policy_under():
# any sambaDomainName, size limit 1), not the domain's own entry. Whoever
# may add an entry under the user base (a delegated helpdesk that creates
# accounts in ou=people) plants sambaDomainName=X,ou=people with
# sambaLockoutThreshold 0: every ntlmd takes it over the real
# sambaDomainName=TESTDOM entry at the suffix (threshold 3), and the
# directory lockout across hosts is off. Samba reads the entry of its own
# workgroup (sambaDomainName=<workgroup>). Also: hostile values in the
# real entry (-1, 0, huge) are checked to fall back or hold.
# Run as root: attack4/domain_planted.sh   (BUILD=build/san too)
. "$(dirname "$0")/lib.sh"

start_directory
set_policy 3 30 30
printf 'dn: sambaDomainName=PLANTED,ou=people,%s\nchangetype: add\nobjectClass: sambaDomain\nsambaDomainName: PLANTED\nsambaSID: S-1-5-21-1-2-3\nsambaLockoutThreshold: 0\n' "$SUFFIX" | ldap_admin
# 1. without "domains": the planted entry also names the directory's
# domains (read_dir_domains(): the bases first), so TESTDOM's users are
# unknown (the same rule, older than issue 16)
start_ntlmd a <<EOC
lockout_threshold 100
lockout_account_threshold 100
EOC
st=$(logon "$(sock a)" lmulti right 192.0.2.8 2>&1 | tail -1)
echo "# without domains: lmulti right password: $st"
check "a sambaDomain planted under ou=people does not take TESTDOM's users away (no domains line)" [ "$st" = STATUS_SUCCESS ]
# 2. with "domains TESTDOM": the policy
start_ntlmd b <<EOC
lockout_threshold 100
lockout_account_threshold 100
domains TESTDOM
log_level debug
EOC
S=$(sock b)
for i in 1 2 3 4 5; do
    st=$(logon "$S" lmulti wrong 192.0.2.$i 2>&1 | tail -1)
    echo "# lmulti wrong password $i: $st"
    sleep 0.3
done
st=$(logon "$S" lmulti right 192.0.2.9 2>&1 | tail -1)
echo "# lmulti right password after 5 wrong (TESTDOM's threshold 3): $st; count $(ldap_value lmulti sambaBadPasswordCount), flags $(ldap_value lmulti sambaAcctFlags)"
grep "lockout policy" "$WORK/run-b/log" | head -1 | sed 's/^/# /'
check "a sambaDomain planted under ou=people does not replace TESTDOM's policy (right password STATUS_ACCOUNT_LOCKED_OUT)" [ "$st" = STATUS_ACCOUNT_LOCKED_OUT ]
echo "$PASSED passed, $FAILED failed (a FAIL is the finding)"
[ "$FAILED" -eq 0 ]
