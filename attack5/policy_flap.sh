#!/bin/sh
# attack5/policy_flap.sh: the warning of two sambaDomain entries of the
# domain's name (7c39271) comes once per change: a planted "testdom" under
# ou=people present (warning 1), removed (policy TESTDOM's again, no new
# warning), planted again (warning 2), and not again on later reads. The
# policy is read again after POLICY_TTL (60 s): the script takes ~2.5 min.
. "$(dirname "$0")/../attack4/lib.sh"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1
start_directory
set_policy 3 30 30
plant() { printf 'dn: sambaDomainName=testdom,ou=people,%s\nchangetype: add\nobjectClass: sambaDomain\nsambaDomainName: testdom\nsambaSID: S-1-5-21-1-2-3\nsambaLockoutThreshold: 0\n' "$SUFFIX" | ldap_admin; }
unplant() { printf 'dn: sambaDomainName=testdom,ou=people,%s\nchangetype: delete\n' "$SUFFIX" | ldap_admin; }
plant
start_ntlmd a <<EOC
domains TESTDOM
log_level debug
EOC
L=$WORK/run-a/log
read_now() { logon "$(sock a)" lhank right >/dev/null 2>&1; sleep 0.5; }
warnings() { grep -c "two sambaDomain entries are named" "$L"; }
policy() { grep "lockout policy" "$L" | tail -1 | sed 's/.*lockout policy/lockout policy/'; }
read_now
w1=$(warnings) p1=$(policy)
unplant
sleep 61
read_now
w2=$(warnings) p2=$(policy)
plant
sleep 61
read_now
w3=$(warnings) p3=$(policy)
read_now
w4=$(warnings)
echo "# planted: $w1 warning(s), $p1"
echo "# removed, 61 s: $w2 warning(s), $p2"
echo "# planted again, 61 s: $w3 warning(s), $p3; a read later: $w4"
check "planted: one warning, ntlmd.conf's policy" [ "$w1" -eq 1 ]
check "removed: no new warning, TESTDOM's policy (threshold 3)" sh -c "[ $w2 -eq 1 ] && echo '$p2' | grep -q 'threshold 3'"
check "planted again: one more warning (once per change), ntlmd.conf's policy" sh -c "[ $w3 -eq 2 ] && echo '$p3' | grep -q ntlmd.conf"
check "no further warning on the next read" [ "$w4" -eq 2 ]
echo "$PASSED passed, $FAILED failed (a FAIL is a finding)"
[ "$FAILED" -eq 0 ]
