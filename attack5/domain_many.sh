#!/bin/sh
# attack5/domain_many.sh [N]: N sambaDomain entries planted under
# ou=people (whoever may add entries there), no domains line. f3's
# read_dir_domains() reads the bases first, at most MAX_DOMAINS (64)
# names, and the naming contexts only to add netbios_domain: with the list
# full the real TESTDOM was never added. Also a planted name with filter
# metacharacters, "P(*)\". Checks: lmulti logs on, TESTDOM's policy
# (threshold 3) sets L, ntlmd does not crash (BUILD=build/san).
. "$(dirname "$0")/../attack4/lib.sh"
N=${1:-100}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1
start_directory
set_policy 3 30 30
{
    i=0
    while [ "$i" -lt "$N" ]; do
        printf 'dn: sambaDomainName=P%03d,ou=people,%s\nchangetype: add\nobjectClass: sambaDomain\nsambaDomainName: P%03d\nsambaSID: S-1-5-21-9-9-%d\nsambaLockoutThreshold: 0\n\n' \
            "$i" "$SUFFIX" "$i" "$i"
        i=$((i + 1))
    done
    printf 'dn: sambaDomainName=P\\28\\2A\\29\\5C,ou=people,%s\nchangetype: add\nobjectClass: sambaDomain\nsambaDomainName: P(*)\\\nsambaSID: S-1-5-21-9-9-999\nsambaLockoutThreshold: 0\n\n' "$SUFFIX"
} | ldap_admin
echo "# planted: $(ldapsearch -LLL -x -H "ldap://127.0.0.1:$PORT_A" -D "$ADMIN" -w admin-secret -b "ou=people,$SUFFIX" '(objectClass=sambaDomain)' dn | grep -c '^dn:') sambaDomain entries under ou=people"
start_ntlmd a <<EOC
lockout_threshold 100
lockout_account_threshold 100
log_level debug
EOC
st=$(logon "$(sock a)" lmulti right 192.0.2.8 2>&1 | tail -1)
echo "# no domains line, $N planted: lmulti right password: $st"
grep "domain name(s) read" "$WORK/run-a/log" | head -1 | sed 's/^/# /'
check "$N planted sambaDomain entries do not take TESTDOM's users away" [ "$st" = STATUS_SUCCESS ]
for i in 1 2 3 4; do logon "$(sock a)" lfail wrong 192.0.2.$i >/dev/null 2>&1; sleep 0.3; done
sleep 1
fl=$(ldap_value lfail sambaAcctFlags)
echo "# lfail after 4 wrong: $fl"
grep "lockout policy" "$WORK/run-a/log" | head -1 | sed 's/^/# /'
check "$N planted: TESTDOM's threshold 3 sets L" [ "$fl" = "[UL         ]" ]
check "no sanitizer report, ntlmd alive" sh -c "kill -0 $NTLMD_a && ! grep -q 'Sanitizer\|runtime error' '$WORK/run-a/log'"
echo "$PASSED passed, $FAILED failed (a FAIL is a finding)"
[ "$FAILED" -eq 0 ]
