#!/bin/sh
# test-multihost.sh: one lockout across hosts through the directory
# (docs/ldap.md "Lockout across hosts"). Two private slapd in OpenLDAP
# multi-provider replication (syncrepl refreshAndPersist both ways,
# multiprovider on, the syncprov overlay), each on its own loopback port
# and data directory; two real ntlmd with lockout_writeback yes, each
# pointed at its own provider first (uri lists both). Wrong passwords are
# spread over both ntlmd by ldap_driver.py (NTLMv2 from python3-ntlm-auth):
# the account locks at the sambaDomain's threshold (not ntlmd.conf's), the
# right password is then refused on both hosts, it unlocks once the
# duration has passed; a provider killed during the guessing loses no
# count; a directory that refuses the write fails closed; an AUTHENTICATE
# replayed to the other host is refused.
#
# Run by "make check", or: NTLMD=build/ntlmd/ntlmd tests/ldap/test-multihost.sh
# One line per case, then "N passed, M failed"; exit 1 on any failure,
# 77 (skip) when a prerequisite is missing outside CI, 99 on a hard error.
set -u

PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
WAIT=10
REPLICATION_WAIT=15 # seconds: the bound on a change reaching the other provider

# shellcheck source=tests/testlib.sh
. "$HERE/../testlib.sh"
PORT_A=$(free_ports 4)
PORT_B=$((PORT_A + 1)) # ldaps:// on PORT_A + 2, PORT_B + 2 (unused)
WORK=""
SLAPD_A=""
SLAPD_B=""
NTLMD_A=""
NTLMD_B=""
NTLMD_C=""
NTLMD_D=""

DRIVER=$TESTS_LIB/ldap_driver.py
# shellcheck source=tests/lib/slapd.sh
. "$TESTS_LIB/slapd.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"

cleanup() {
    stop_pid "$NTLMD_A"
    stop_pid "$NTLMD_B"
    stop_pid "$NTLMD_C"
    stop_pid "$NTLMD_D"
    stop_pid "$SLAPD_A"
    stop_pid "$SLAPD_B"
    remove_work
}

driver() { run_counted 120 "$PY" -B "$DRIVER" "$@"; }
expect_on() { # HOST CASE...: logons through ntlmd HOST (a, b or c)
    host=$1
    shift
    driver expect --socket "$WORK/run-$host/socket" --label "host $host: " "$@"
}

# The multi-provider part of instance $1's slapd.conf (serverID $2, the
# other provider on port $3), made by slapd_conf of tests/lib/slapd.sh.
multiprovider_conf() {
    conf=$WORK/slapd-$1/slapd.conf
    sed -i "s|^moduleload back_mdb\$|moduleload back_mdb\nmoduleload syncprov\nserverID $2|" "$conf"
    cat >>"$conf" <<EOF
index entryCSN,entryUUID eq
syncrepl rid=00$2 provider=ldap://127.0.0.1:$3 bindmethod=simple binddn="$ADMIN" credentials=admin-secret
    searchbase="$SUFFIX" type=refreshAndPersist retry="1 +" timeout=2 network-timeout=2
multiprovider on
overlay syncprov
EOF
}

value_on() { # PORT USER ATTRIBUTE: the value on that provider
    ldapsearch -LLL -x -H "ldap://127.0.0.1:$1" -D "$ADMIN" -w admin-secret -o nettimeout=5 -o ldif-wrap=no \
        -b "ou=people,$SUFFIX" "(uid=$2)" "$3" 2>/dev/null | sed -n "s/^$3: //p"
}

becomes_on() { # PORT USER ATTRIBUTE VALUE: within REPLICATION_WAIT s
    tries=$((REPLICATION_WAIT * 20))
    while [ "$(value_on "$1" "$2" "$3")" != "$4" ]; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.05
    done
}

admin_on() { # PORT: ldapmodify as the rootdn, LDIF on stdin
    ldapmodify -x -H "ldap://127.0.0.1:$1" -D "$ADMIN" -w admin-secret -o nettimeout=5 >/dev/null
}

set_attrs() { # PORT USER ATTRIBUTE VALUE [ATTRIBUTE VALUE...]
    port=$1
    user=$2
    shift 2
    {
        printf 'dn: uid=%s,ou=people,%s\nchangetype: modify\n' "$user" "$SUFFIX"
        while [ $# -ge 2 ]; do
            printf 'replace: %s\n%s: %s\n-\n' "$1" "$1" "$2"
            shift 2
        done
    } | admin_on "$port"
}

# Starts ntlmd HOST ($1) with the ldap lines on stdin; sets NTLMD_<HOST>
# (so stdin is a file, never a pipe: a function in a pipeline runs in a
# subshell, whose variables the cleanup would not see).
start_host() {
    run=$WORK/run-$1
    mkdir -p "$run"
    {
        cat <<EOF
socket         $run/socket
backends       ldap
netbios_name   HOST$1
netbios_domain TESTDOM
base           ou=people,$SUFFIX
timelimit      2
bind_timelimit 2
cache_ttl      ${CACHE_TTL:-1}
lockout_threshold ${LOCAL_THRESHOLD:-100}
lockout_account_threshold 50
EOF
        cat
    } >"$run/ntlmd.conf"
    ntlmd_start "$run/ntlmd.conf" "$run/log" "$run/socket" || exit 99
    eval "NTLMD_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')=\$NTLMD_PID"
}

writer_conf() { # FIRST SECOND: the ports of the providers, in order
    cat <<EOF
uri            ldap://127.0.0.1:$1 ldap://127.0.0.1:$2
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
rootbinddn     cn=ntlmd,$SUFFIX
rootbindpw_file $WORK/bindpw
lockout_writeback yes
EOF
}

# ------------------------------------------------------------------ setup

require_built NTLMD
require_python ntlm_auth Cryptodome
slapd_require
[ -r /usr/lib/ldap/syncprov.la ] || skip_or_fail "slapd's syncprov module"
command -v bc >/dev/null 2>&1 || skip_or_fail "bc"
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ntlmd-multihost.XXXXXX") || exit 99
slapd_prepare

BINDPW=reader-secret-$$
printf '%s\n' "$BINDPW" >"$WORK/bindpw"
chmod 600 "$WORK/bindpw"
# provider a is loaded; b starts empty and gets everything by replication
slapd_load "$BINDPW" a
slapd_conf b
multiprovider_conf a 1 "$PORT_B"
multiprovider_conf b 2 "$PORT_A"
start_slapd a "$PORT_A"
start_slapd b "$PORT_B"
# the lockout policy of the domain (Samba's schema: minutes): 3 bad
# passwords within 5 min lock for 1 min; ntlmd.conf says 50
printf 'dn: sambaDomainName=TESTDOM,%s\nchangetype: modify\nreplace: sambaLockoutThreshold\nsambaLockoutThreshold: 3\n-\nreplace: sambaLockoutDuration\nsambaLockoutDuration: 1\n-\nreplace: sambaLockoutObservationWindow\nsambaLockoutObservationWindow: 5\n' \
    "$SUFFIX" | admin_on "$PORT_A"
check "replication: provider b has the accounts and the policy of provider a" \
    becomes_on "$PORT_B" lmulti sambaAcctFlags "[U          ]"

writer_conf "$PORT_A" "$PORT_B" >"$WORK/a.ldap"
start_host a <"$WORK/a.ldap"
writer_conf "$PORT_B" "$PORT_A" >"$WORK/b.ldap"
start_host b <"$WORK/b.ldap"

# ------------------------------------------------------------------ lock at the directory's threshold

expect_on a lmulti/wrong=STATUS_WRONG_PASSWORD
check "count 1 written by host a" becomes_on "$PORT_A" lmulti sambaBadPasswordCount 1
check "count 1 replicated to provider b" becomes_on "$PORT_B" lmulti sambaBadPasswordCount 1
expect_on b lmulti/wrong=STATUS_WRONG_PASSWORD
check "count 2 written by host b" becomes_on "$PORT_B" lmulti sambaBadPasswordCount 2
check "count 2 replicated to provider a" becomes_on "$PORT_A" lmulti sambaBadPasswordCount 2
expect_on a lmulti/wrong=STATUS_WRONG_PASSWORD
t0=$(date +%s.%N)
check "the third bad password (sambaDomain's threshold 3, not ntlmd.conf's 50) sets L on provider a" \
    becomes_on "$PORT_A" lmulti sambaAcctFlags "[UL         ]"
t1=$(date +%s.%N)
check "L replicated to provider b" becomes_on "$PORT_B" lmulti sambaAcctFlags "[UL         ]"
t2=$(date +%s.%N)
echo "# replication window: L on provider a after $(echo "$t1 - $t0" | bc) s, on provider b $(echo "$t2 - $t1" | bc) s later"
check "the count stays at 3" [ "$(value_on "$PORT_B" lmulti sambaBadPasswordCount)" = 3 ]
sleep 2.1 # cache_ttl 1: a cached account hides a lock no longer than that + 1 s
expect_on a lmulti=STATUS_ACCOUNT_LOCKED_OUT lmulti/wrong=STATUS_ACCOUNT_LOCKED_OUT
expect_on b lmulti=STATUS_ACCOUNT_LOCKED_OUT lmulti/wrong=STATUS_ACCOUNT_LOCKED_OUT
check "host b's log says why: directory lockout, the count and the unlock time" \
    grep -q 'directory lockout: 3 bad passwords, locked until 20[0-9-]*T' "$WORK/run-b/log"
check "a locked account's wrong password is not counted (refused before the proof)" \
    [ "$(value_on "$PORT_A" lmulti sambaBadPasswordCount)" = 3 ]

# ------------------------------------------------------------------ auto-unlock

# the duration (1 min) passing, without waiting for it: the bad-password
# time moved back by 61 s on provider a
set_attrs "$PORT_A" lmulti sambaBadPasswordTime $(($(date +%s) - 61))
becomes_on "$PORT_B" lmulti sambaBadPasswordTime "$(value_on "$PORT_A" lmulti sambaBadPasswordTime)"
sleep 2.1
expect_on b lmulti=STATUS_SUCCESS
check "auto-unlock: L cleared in the directory by host b" becomes_on "$PORT_B" lmulti sambaAcctFlags "[U          ]"
check "auto-unlock: the count is 0" becomes_on "$PORT_B" lmulti sambaBadPasswordCount 0
check "auto-unlock replicated to provider a" becomes_on "$PORT_A" lmulti sambaAcctFlags "[U          ]"
sleep 2.1
expect_on a lmulti=STATUS_SUCCESS

# ------------------------------------------------------------------ fail closed

# host c binds as cn=reader and has no rootbinddn: the directory refuses
# its writes (insufficient access); its in-memory lockout_threshold is 2
LOCAL_THRESHOLD=2
cat >"$WORK/c.ldap" <<EOF
uri            ldap://127.0.0.1:$PORT_A
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
lockout_writeback yes
EOF
start_host c <"$WORK/c.ldap"
set_attrs "$PORT_A" lfail sambaBadPasswordCount 2 sambaBadPasswordTime "$(date +%s)"
expect_on c lfail/wrong=STATUS_WRONG_PASSWORD
refused() {
    tries=$((WAIT * 10))
    until grep -q "uid=lfail,ou=people,$SUFFIX: updating the bad-password count failed: Insufficient access" \
        "$WORK/run-c/log"; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.1
    done
}
check "a refused write is logged with the DN and the LDAP error" refused
check "the refused write changed nothing" [ "$(value_on "$PORT_A" lfail sambaBadPasswordCount)" = 2 ]
set_attrs "$PORT_A" lfail sambaBadPasswordCount 3
sleep 2.1
expect_on c lfail=STATUS_ACCOUNT_LOCKED_OUT
check "fail closed: a count at the threshold without L refuses the right password" \
    grep -q 'directory lockout: 3 bad passwords' "$WORK/run-c/log"
# the in-memory lockout still applies when the directory takes no write
expect_on c lmulti/wrong=STATUS_WRONG_PASSWORD lmulti/wrong=STATUS_WRONG_PASSWORD lmulti=STATUS_ACCOUNT_LOCKED_OUT
check "refused writes: the in-memory lockout locked lmulti on host c" \
    grep -q 'account locked for this client address' "$WORK/run-c/log"
check "refused writes: lmulti's directory count is still 0" [ "$(value_on "$PORT_A" lmulti sambaBadPasswordCount)" = 0 ]
stop_pid "$NTLMD_C"
NTLMD_C=""

# ------------------------------------------------------------------ replay to the other host

# host b never saw host a's challenge: it takes it as one the caller built
# (verify mode) and accepts it once, then refuses it as used; what bounds
# this is max_clock_skew (the NTLMv2 timestamp), docs/ldap.md "Replay"
driver replay --socket "$WORK/run-a/socket" --other "$WORK/run-b/socket" \
    --status STATUS_SUCCESS lreplay

# ------------------------------------------------------------------ a provider killed while guessing

expect_on a lkill/wrong=STATUS_WRONG_PASSWORD
expect_on b lkill/wrong=STATUS_WRONG_PASSWORD
check "failover: count 2 on both providers" becomes_on "$PORT_A" lkill sambaBadPasswordCount 2
stop_pid "$SLAPD_A"
SLAPD_A=""
expect_on a lkill/wrong=STATUS_WRONG_PASSWORD
check "failover: host a's third bad password lands on provider b, with L" \
    becomes_on "$PORT_B" lkill sambaAcctFlags "[UL         ]"
check "failover: no count lost (3 on provider b)" [ "$(value_on "$PORT_B" lkill sambaBadPasswordCount)" = 3 ]
check "failover: host a says it went to the next server" grep -q "trying the next server\|connected to ldap://127.0.0.1:$PORT_B" "$WORK/run-a/log"
sleep 2.1
expect_on a lkill=STATUS_ACCOUNT_LOCKED_OUT
expect_on b lkill=STATUS_ACCOUNT_LOCKED_OUT

# ------------------------------------------------------------------ two hosts at once, one provider

# with provider a down both hosts write to b: 3 wrong passwords through
# each host at the same time; the swaps serialise on b, and the one that
# moves the count to 3 sets L (answers after it are LOCKED_OUT already)
race() { # HOST: 3 wrong passwords, each WRONG_PASSWORD or LOCKED_OUT
    "$PY" -B "$DRIVER" expect --socket "$WORK/run-$1/socket" lrace/wrong=STATUS_WRONG_PASSWORD \
        lrace/wrong=STATUS_WRONG_PASSWORD lrace/wrong=STATUS_WRONG_PASSWORD >"$WORK/race-$1.out" 2>&1
}
race a &
race_a=$!
race b &
race_b=$!
wait "$race_a"
wait "$race_b"
wrong=$(cat "$WORK/race-a.out" "$WORK/race-b.out" | grep -c '^PASS ')
locked=$(cat "$WORK/race-a.out" "$WORK/race-b.out" | grep -c '^FAIL .*status STATUS_ACCOUNT_LOCKED_OUT')
echo "# race: $wrong WRONG_PASSWORD and $locked LOCKED_OUT answers"
check "race: 6 answers, each WRONG_PASSWORD or (once locked) LOCKED_OUT" [ $((wrong + locked)) -eq 6 ]
check "race: L set on provider b" becomes_on "$PORT_B" lrace sambaAcctFlags "[UL         ]"
race_count=$(value_on "$PORT_B" lrace sambaBadPasswordCount)
check "race: no lost update: the count ($race_count) is the number of WRONG_PASSWORD answers ($wrong), at least 3" \
    [ "$race_count" -eq "$wrong" ] && [ "$wrong" -ge 3 ]
sleep 2.1
expect_on a lrace=STATUS_ACCOUNT_LOCKED_OUT
expect_on b lrace=STATUS_ACCOUNT_LOCKED_OUT

# ------------------------------------------------------------------ a spelling's cache entry, a time past any sum

# host d keeps accounts 60 s: each wrong password under another spelling
# is read and cached under that spelling; the write that sets L must drop
# them all, or the spellings kept would hide this host's own lock
# (attack3 F2)
writer_conf "$PORT_B" "$PORT_A" >"$WORK/d.ldap" # provider a is gone (killed above)
CACHE_TTL=60 LOCAL_THRESHOLD=100 start_host d <"$WORK/d.ldap"
expect_on d "lspelled/wrong=STATUS_WRONG_PASSWORD"
check "spellings: count 1" becomes_on "$PORT_B" lspelled sambaBadPasswordCount 1
expect_on d " lspelled/wrong=STATUS_WRONG_PASSWORD"
check "spellings: count 2" becomes_on "$PORT_B" lspelled sambaBadPasswordCount 2
expect_on d "lspelled /wrong=STATUS_WRONG_PASSWORD"
check "spellings: the third sets L" becomes_on "$PORT_B" lspelled sambaAcctFlags "[UL         ]"
expect_on d " lspelled=STATUS_ACCOUNT_LOCKED_OUT" "lspelled /wrong=STATUS_ACCOUNT_LOCKED_OUT" \
    "LSPELLED=STATUS_ACCOUNT_LOCKED_OUT"
check "spellings: no guess after L was counted" [ "$(value_on "$PORT_B" lspelled sambaBadPasswordCount)" = 3 ]

# an L whose sambaBadPasswordTime is the int64 limit: malformed, so the
# lock holds (time + duration wrapped to the past and unlocked it: F6)
set_attrs "$PORT_B" ltime sambaAcctFlags "[UL         ]" sambaBadPasswordCount 3 \
    sambaBadPasswordTime 9223372036854775807
expect_on d "ltime=STATUS_ACCOUNT_LOCKED_OUT"
check "a bad-password time at the int64 limit leaves L set" \
    [ "$(value_on "$PORT_B" ltime sambaAcctFlags)" = "[UL         ]" ]
stop_pid "$NTLMD_D"
NTLMD_D=""

stopped() { # every ntlmd this test started ends on TERM
    for pid in "$NTLMD_A" "$NTLMD_B"; do
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
        stop_pid "$pid"
        ! kill -0 "$pid" 2>/dev/null || return 1
    done
}
check "both ntlmd were running to the end and stop on TERM" stopped
NTLMD_A=""
NTLMD_B=""

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
