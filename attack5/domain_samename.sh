#!/bin/sh
# attack5/domain_samename.sh: f3 (942179e) and F2's fix (678ea61) pick the
# lockout policy's sambaDomain entry by its *name* (the domains line, else
# netbios_domain), searching the users' bases before the naming contexts,
# first found wins, and no warning for the named entry
# ("hit->several = false"). Whoever may add an entry under ou=people (the
# F2 attacker) plants one named like the real domain: exactly TESTDOM, or
# in another case (sambaDomainName is caseIgnoreMatch), with threshold 0.
# Also: the same name with another SID takes the domain list
# (read_dir_domains: TESTDOM is "listed", the naming contexts are not read).
# Run as root: attack5/domain_samename.sh   (BUILD=build/san too)
. "$(dirname "$0")/../attack4/lib.sh"

start_directory
set_policy 3 30 30
plant() { # NAME SID THRESHOLD
    printf 'dn: sambaDomainName=%s,ou=people,%s\nchangetype: add\nobjectClass: sambaDomain\nsambaDomainName: %s\nsambaSID: %s\nsambaLockoutThreshold: %s\n' \
        "$1" "$SUFFIX" "$1" "$2" "$3" | ldap_admin
}
unplant() { printf 'dn: sambaDomainName=%s,ou=people,%s\nchangetype: delete\n' "$1" "$SUFFIX" | ldap_admin; }
reset_user() { set_attrs "$1" sambaBadPasswordCount 0 sambaAcctFlags '[U          ]'; }
guess5() { # NAME USER: 5 wrong from 5 addresses; prints the directory's flags then
    for i in 1 2 3 4 5; do logon "$(sock "$1")" "$2" wrong 192.0.2.$i >/dev/null 2>&1; sleep 0.3; done
    sleep 1
    ldap_value "$2" sambaAcctFlags
}
# the directory's L (across hosts) must be set after 5 wrong: by TESTDOM's
# threshold 3, or by ntlmd.conf's lockout_account_threshold 4 where the
# entry is in doubt; never left off by the planted threshold 0
REAL_SID=$(ldapsearch -LLL -x -H "ldap://127.0.0.1:$PORT_A" -D "$ADMIN" -w admin-secret -o ldif-wrap=no -b "$SUFFIX" -s one "(sambaDomainName=TESTDOM)" sambaSID | sed -n "s/^sambaSID: //p")
echo "# the real entry: sambaDomainName=TESTDOM,$SUFFIX threshold 3 ${REAL_SID:+SID $REAL_SID}"

# 1. domains TESTDOM (F2's fix), planted sambaDomainName=testdom (other case)
plant testdom "$REAL_SID" 0
start_ntlmd a <<EOC
lockout_threshold 100
lockout_account_threshold 4
domains TESTDOM
log_level debug
EOC
st=$(guess5 a lmulti)
echo "# domains TESTDOM, planted 'testdom' threshold 0 under ou=people: lmulti's flags after 5 wrong: $st"
grep "lockout policy\|two sambaDomain" "$WORK/run-a/log" | head -2 | sed 's/^/# /'
check "domains TESTDOM: a planted 'testdom' under ou=people does not replace TESTDOM's policy (L set)" [ "$st" = "[UL         ]" ]
stop_pid "$NTLMD_a"
unplant testdom
reset_user lmulti

# 2. no domains line: netbios_domain TESTDOM names the entry; planted TESTDOM
plant TESTDOM "$REAL_SID" 0
start_ntlmd b <<EOC
lockout_threshold 100
lockout_account_threshold 4
log_level debug
EOC
st=$(guess5 b lfail)
echo "# no domains line, planted 'TESTDOM' threshold 0 under ou=people: lfail's flags after 5 wrong: $st"
grep "lockout policy\|two sambaDomain" "$WORK/run-b/log" | head -2 | sed 's/^/# /'
echo "# warnings: $(grep -c "several sambaDomain\|two sambaDomain" "$WORK/run-b/log")"
check "no domains line: a planted 'TESTDOM' under ou=people does not replace TESTDOM's policy (L set)" [ "$st" = "[UL         ]" ]
check "no domains line: two entries named TESTDOM are warned about" grep -q "two sambaDomain entries are named TESTDOM" "$WORK/run-b/log"
stop_pid "$NTLMD_b"
unplant TESTDOM

# 3. no domains line: planted TESTDOM with another SID (same name, different SID)
plant TESTDOM S-1-5-21-111-222-333 3
start_ntlmd c <<EOC
lockout_threshold 100
lockout_account_threshold 4
EOC
st=$(logon "$(sock c)" lmulti right 192.0.2.8 2>&1 | tail -1)
echo "# no domains line, planted TESTDOM with another SID: lmulti right password: $st"
check "a planted TESTDOM with another SID does not take TESTDOM's users away" [ "$st" = STATUS_SUCCESS ]
stop_pid "$NTLMD_c"
unplant TESTDOM
echo "$PASSED passed, $FAILED failed (a FAIL is the finding)"
[ "$FAILED" -eq 0 ]
