#!/bin/sh
# attack4/bad_count_malformed.sh: a sambaBadPasswordCount the schema takes
# (INTEGER syntax) but ntlmd reads as malformed: negative ("-5"), past
# int64 ("99999999999999999999"). record_once() reads it as absent (-1) and
# writes the count as an add without a delete: the single-valued
# attribute already has a value, slapd answers constraintViolation, which
# record_once() reads as "another writer was first" and retries, 16 times
# (CAS_ATTEMPTS), for every wrong password: nothing is ever counted, L is
# never set, the lockout across hosts is void for that account, and each
# guess costs the directory 16 searches and 16 refused modifies, with a
# LOG_ERR line. Also INT64_MAX with threshold 0: old + 1 overflows
# (signed; UBSan under build/san).
# Run as root: attack4/bad_count_malformed.sh   (BUILD=build/san too)
. "$(dirname "$0")/lib.sh"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

start_directory
set_policy 3 30 30
start_ntlmd a <<EOC
lockout_threshold 100
lockout_account_threshold 100
EOC
S=$(sock a)
LOG=$WORK/run-a/log

n=0
for bad in -5 99999999999999999999; do
    n=$((n + 1))
    user=lmulti
    [ $n -eq 2 ] && user=lkill
    set_attrs $user sambaBadPasswordCount "$bad" sambaBadPasswordTime "$(date +%s)"
    before=$(grep -c "changed under each of" "$LOG")
    for i in 1 2 3 4; do
        st=$(logon "$S" $user wrong 192.0.2.$i 2>&1 | tail -1)
        echo "# $user (count $bad) wrong password $i: $st"
        sleep 0.5
    done
    st=$(logon "$S" $user right 192.0.2.9 2>&1 | tail -1)
    after=$(grep -c "changed under each of" "$LOG")
    echo "# $user: right password after 4 wrong: $st; count now $(ldap_value $user sambaBadPasswordCount), flags $(ldap_value $user sambaAcctFlags); 'changed under each of 16 writes' lines: $((after - before))"
    check "$user (sambaBadPasswordCount $bad): 4 wrong passwords lock it at the threshold 3 (right password STATUS_ACCOUNT_LOCKED_OUT)" [ "$st" = STATUS_ACCOUNT_LOCKED_OUT ]
    check "$user: no write-back gave up after 16 refused writes" [ "$after" -eq "$before" ]
done

# INT64_MAX with threshold 0 (Samba's default: counted, never locked)
set_policy 0 30 30
sleep 61 # POLICY_TTL
set_attrs lfail sambaBadPasswordCount 9223372036854775807 sambaBadPasswordTime "$(date +%s)"
st=$(logon "$S" lfail wrong 192.0.2.20 2>&1 | tail -1)
sleep 1
echo "# lfail (count INT64_MAX, threshold 0) wrong password: $st; count now $(ldap_value lfail sambaBadPasswordCount)"
grep -m3 "runtime error" "$LOG" | sed 's/^/# /'
check "ntlmd survives the write-back of count INT64_MAX" kill -0 "$NTLMD_a"
check "the count after INT64_MAX is not negative" sh -c "[ \"\$(printf %.1s '$(ldap_value lfail sambaBadPasswordCount)')\" != - ]"
echo "$PASSED passed, $FAILED failed (a FAIL is the finding)"
[ "$FAILED" -eq 0 ]
