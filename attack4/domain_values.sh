#!/bin/sh
# attack4/domain_values.sh: hostile values in the sambaDomain entry's
# lockout policy (each read by a fresh ntlmd, lockout_account_threshold 3
# in ntlmd.conf as the fallback; 4 wrong passwords then the right one):
#   threshold -1, window 0, duration -5: out of range, ntlmd.conf's used
#   duration 2147483647 minutes (past the year 6000): locked, and the audit
#     line says until when
#   threshold 99999999999 (past int32): out of range, ntlmd.conf's used
# Run as root: attack4/domain_values.sh   (BUILD=build/san too)
. "$(dirname "$0")/lib.sh"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
start_directory
n=0
for pol in "-1 30 30" "3 30 0" "3 -5 30" "3 2147483647 30" "99999999999 30 30"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    set_policy $pol
    user=$(echo "lalice lhank ljane lcache lspell" | cut -d' ' -f$n)
    start_ntlmd p$n <<EOC
lockout_threshold 100
lockout_account_threshold 3
log_level debug
EOC
    S=$(sock p$n)
    for i in 1 2 3 4; do logon "$S" $user wrong 192.0.2.$i >/dev/null 2>&1; sleep 0.3; done
    st=$(logon "$S" $user right 192.0.2.50 2>&1 | tail -1)
    echo "# policy threshold/duration/window '$pol': $user right password after 4 wrong: $st; flags $(ldap_value $user sambaAcctFlags)"
    grep -m1 "lockout policy" "$WORK/run-p$n/log" | sed 's/^/#   /'
    grep -m1 "directory lockout" "$WORK/run-p$n/log" | sed 's/.*detail=/#   detail=/'
    check "policy '$pol': the account is locked after 4 wrong passwords" [ "$st" = STATUS_ACCOUNT_LOCKED_OUT ]
    check "policy '$pol': ntlmd alive" kill -0 "$(eval echo \$NTLMD_p$n)"
done
grep -h "runtime error" "$WORK"/run-p*/log | head -3 | sed 's/^/# /'
echo "$PASSED passed, $FAILED failed (a FAIL is the finding)"
[ "$FAILED" -eq 0 ]
