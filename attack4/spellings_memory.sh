#!/bin/sh
# attack4/spellings_memory.sh: guesses spread over the spellings slapd
# matches alike (case, blanks; fullwidth forms not tried: python3-ntlm-auth's
# client does not encode them), over client addresses and
# over both forms of the domain, against ntlmd's in-memory lockout
# (sambaLockoutThreshold 0: no directory lock to fall back on):
# lockout_account_threshold 4 must stop them all, whatever the spelling,
# because the counter is keyed on the account's canonical key (ldap: DN),
# not on the name typed. A UPN (lrace@testdom) is tried too.
# Run as root: attack4/spellings_memory.sh   (BUILD=build/san too)
. "$(dirname "$0")/lib.sh"
start_directory
set_policy 0 30 30 # no directory lock: the in-memory one alone
start_ntlmd a <<EOC
lockout_threshold 100
lockout_account_threshold 4
EOC
S=$(sock a)
i=0
for typed in lrace LRACE " lrace" "lrace " "LrAcE" "lrace@testdom"; do
    i=$((i + 1))
    st=$(logon "$S" "$typed" wrong 192.0.2.$i 2>&1 | tail -1)
    echo "# wrong password as '$typed' from 192.0.2.$i: $st"
done
st=$(logon "$S" lrace right 192.0.2.99 2>&1 | tail -1)
echo "# right password as 'lrace' from a fresh address: $st"
check "4 wrong passwords under 4 spellings lock the account in memory (right password STATUS_ACCOUNT_LOCKED_OUT)" [ "$st" = STATUS_ACCOUNT_LOCKED_OUT ]
st=$(logon "$S" "  LRACE " right 192.0.2.98 2>&1 | tail -1)
echo "# right password as '  LRACE ': $st"
check "and under another spelling too" [ "$st" = STATUS_ACCOUNT_LOCKED_OUT ]
echo "$PASSED passed, $FAILED failed (a FAIL is the finding)"
[ "$FAILED" -eq 0 ]
