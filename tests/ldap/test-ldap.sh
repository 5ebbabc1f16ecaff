#!/bin/sh
# test-ldap.sh: the ldap backend of ntlmd against real slapd instances.
# Starts two private slapd (Debian's slapd, the Samba schema from the samba
# package, data loaded with slapadd) on loopback ports in a temporary
# directory, a test CA made with openssl for StartTLS, and real ntlmd
# daemons with "backends files ldap", driven through the daemon protocol by
# tests/lib/ldap_driver.py (NTLMv2 from python3-ntlm-auth). The slapd and
# ntlmd set-ups are tests/lib's slapd.sh and ntlmd.sh.
#
# Run by "make check" (tests/Makefile.am sets NTLMD), or by hand:
#   NTLMD=build/ntlmd/ntlmd tests/ldap/test-ldap.sh
# One line per case, then "N passed, M failed"; exit 1 on any failure,
# 77 (skip) when a prerequisite is missing outside CI, 99 on a hard error.
set -u

PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
WAIT=10

# shellcheck source=tests/testlib.sh
. "$HERE/../testlib.sh"
PORT_A=${LDAP_TEST_PORT:-$(free_ports 4)}
PORT_B=$((PORT_A + 1)) # and ldaps:// on PORT_A + 2, PORT_B + 2
WORK=""
DAEMON_PID=""
SLAPD_A=""
SLAPD_B=""

DRIVER=$TESTS_LIB/ldap_driver.py
# shellcheck source=tests/lib/slapd.sh
. "$TESTS_LIB/slapd.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"

cleanup() {
    stop_pid "$DAEMON_PID"
    stop_pid "$SLAPD_A"
    stop_pid "$SLAPD_B"
    remove_work
}

# Runs the driver, prints its case lines and adds its counts.
driver() { run_counted 120 "$PY" -B "$DRIVER" "$@"; }

expect() { driver expect --socket "$SOCKET" "$@"; }

# Starts ntlmd on configuration $1; the log is $1.log.
start_ntlmd() {
    CONF=$1
    LOG=$1.log
    SOCKET=$WORK/run/socket
    ntlmd_start "$CONF" "$LOG" "$SOCKET" || exit 99
    DAEMON_PID=$NTLMD_PID
}

stop_ntlmd() {
    stop_pid "$DAEMON_PID"
    DAEMON_PID=""
    rm -f "$WORK/run/socket"
}

# An ntlmd.conf at $1 with the ldap lines on stdin after the common ones.
write_conf() {
    {
        cat <<EOF
base           ou=people,$SUFFIX
timelimit      2
bind_timelimit 2
EOF
        cat
    } | ntlmd_conf "$WORK/run/socket" "$WORK/smbpasswd" "files ldap" >"$1"
}

# The keys of a store that reads as cn=reader and writes as cn=ntlmd on
# server A, for the heredocs of write_conf.
writer_keys() {
    cat <<EOF
uri            ldap://127.0.0.1:$PORT_A
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
rootbinddn     cn=ntlmd,$SUFFIX
rootbindpw_file $WORK/rootbindpw
EOF
}

# ------------------------------------------------------------------ setup

require_built NTLMD
require_python ntlm_auth Cryptodome
slapd_require
[ "$(id -u)" -eq 0 ] || skip_or_fail "root (SASL EXTERNAL maps uid 0)"
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ntlmd-ldap.XXXXXX") || exit 99
mkdir -p "$WORK/run"
slapd_prepare

BINDPW=reader-secret-$$
printf '%s\n' "$BINDPW" >"$WORK/bindpw"
printf '%s\n' "$BINDPW" >"$WORK/rootbindpw"
printf 'wrong-%s\n' "$BINDPW" >"$WORK/badpw"
chmod 600 "$WORK/bindpw" "$WORK/rootbindpw" "$WORK/badpw"
"$PY" -B "$DRIVER" files "$WORK/smbpasswd" || exit 99
slapd_load "$BINDPW" a b
start_slapd a "$PORT_A"
start_slapd b "$PORT_B"
LDAPI_A=$(slapd_ldapi a)

# ------------------------------------------------------------------ ntlmd -t

write_conf "$WORK/good.conf" <<EOF
uri            ldap://127.0.0.1:$PORT_A ldap://127.0.0.1:$PORT_B
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
EOF
out=$("$NTLMD" -t -f "$WORK/good.conf" 2>&1)
check "ntlmd -t accepts a good ldap configuration" [ "$out" = "configuration OK" ]

write_conf "$WORK/broken.conf" <<EOF
uri            http://127.0.0.1:$PORT_A
ssl            sometimes
tls_reqcert    maybe
scope          everything
map            sambaNTPassword bad/name
EOF
out=$("$NTLMD" -t -f "$WORK/broken.conf" 2>&1)
rc=$?
ok=true
for l in 9 10 11 12 13; do
    printf '%s\n' "$out" | grep -q "^$WORK/broken.conf:$l: " || ok=false
done
check "ntlmd -t: each bad ldap key is reported as FILE:LINE: reason, status 1" [ "$rc" -eq 1 ] && $ok
[ "$ok" = true ] || printf '%s\n' "$out"

chmod 640 "$WORK/bindpw"
out=$("$NTLMD" -t -f "$WORK/good.conf" 2>&1)
rc=$?
chmod 600 "$WORK/bindpw"
check "ntlmd -t refuses a bindpw_file readable by its group" \
    [ "$rc" -eq 1 ] && printf '%s\n' "$out" | grep -q "good.conf:11: bindpw_file .*readable or writable by group"

# the ldap keys of a file whose backends leave ldap out: read, and each
# line named as ignored (attack5 N3: "configuration OK" said nothing)
sed 's/^backends .*/backends       files/' "$WORK/good.conf" >"$WORK/unused.conf"
out=$("$NTLMD" -t -f "$WORK/unused.conf" 2>&1)
rc=$?
ok=true
for k in uri binddn bindpw_file; do
    l=$(grep -n "^$k " "$WORK/unused.conf" | cut -d: -f1)
    printf '%s\n' "$out" | grep -q "^$WORK/unused.conf:$l: warning: $k is a key of the ldap store, which backends does not list: the line is ignored$" || ok=false
done
check "ntlmd -t: keys of a store not in backends are each named as ignored, and the file is OK" \
    [ "$rc" -eq 0 ] && $ok && [ "$(printf '%s\n' "$out" | tail -n 1)" = "configuration OK" ]
[ "$ok" = true ] || printf '%s\n' "$out"

cp "$WORK/good.conf" "$WORK/retry.conf"
printf 'reconnect_retrytime 30\n' >>"$WORK/retry.conf"
out=$("$NTLMD" -t -f "$WORK/retry.conf" 2>&1)
check "ntlmd -t accepts reconnect_retrytime" [ "$out" = "configuration OK" ]
cp "$WORK/good.conf" "$WORK/retry-bad.conf"
printf 'reconnect_retrytime soon\n' >>"$WORK/retry-bad.conf"
out=$("$NTLMD" -t -f "$WORK/retry-bad.conf" 2>&1)
check "ntlmd -t: a bad reconnect_retrytime is reported as FILE:LINE: reason" [ "$?" -eq 1 ] &&
    printf '%s\n' "$out" | grep -q "^$WORK/retry-bad.conf:$(wc -l <"$WORK/retry-bad.conf"): reconnect_retrytime: "

printf 'bindpw %s\n' "$BINDPW" >"$WORK/inline.conf"
out=$("$NTLMD" -t -f "$WORK/inline.conf" 2>&1)
check "ntlmd -t refuses bindpw inline" \
    [ "$?" -eq 1 ] && printf '%s\n' "$out" | grep -q "inline.conf:1: .*bindpw_file"

# ------------------------------------------------------------------ lookups and policy

# reconnect_retrytime 0: every lookup tries the server (restarted between
# two requests below); the window of reconnect_retrytime is tested later
write_conf "$WORK/main.conf" <<EOF
$(writer_keys)
reconnect_retrytime 0
EOF
start_ntlmd "$WORK/main.conf"
expect --label "LDAP user: " lalice=STATUS_SUCCESS lalice/wrong=STATUS_WRONG_PASSWORD
expect --label "files after ldap: " falice=STATUS_SUCCESS nobody=STATUS_NO_SUCH_USER
expect --label "another domain goes to the next store: " --domain OTHERDOM lalice=STATUS_NO_SUCH_USER
# one canonical account: spellings the directory matches alike are one
# account in the verdict and in the lockout (default threshold 10)
driver identity --socket "$SOCKET" --threshold 10
check "identity: the audit names the entry's DN as the account key" \
    grep -q "account_key=\"ldap:uid=lspell,ou=people,$SUFFIX\"" "$LOG"
expect --label "policy: " \
    lbob=STATUS_ACCOUNT_DISABLED lcarol=STATUS_ACCOUNT_LOCKED_OUT ldave=STATUS_ACCOUNT_EXPIRED \
    lerin=STATUS_PASSWORD_MUST_CHANGE lfrank=STATUS_PASSWORD_EXPIRED lgina=STATUS_INVALID_LOGON_HOURS \
    lhank=STATUS_SUCCESS livan=STATUS_INVALID_WORKSTATION ljane=STATUS_SUCCESS \
    lkim=STATUS_NOLOGON_WORKSTATION_TRUST_ACCOUNT lleo=STATUS_ACCOUNT_RESTRICTION
expect --label "malformed entry: " lshort=STATUS_NO_LOGON_SERVERS lnothex=STATUS_NO_LOGON_SERVERS \
    lflags=STATUS_NO_LOGON_SERVERS
expect --label "two entries for one name: refused: " ldup=STATUS_NO_LOGON_SERVERS
check "two entries for one name: the log says so" grep -q "several entries under ou=people,$SUFFIX match" "$LOG"
check "malformed sambaNTPassword: the log names the entry and the attribute" \
    grep -q "entry uid=lshort,ou=people,$SUFFIX: attribute sambaNTPassword is malformed" "$LOG"
check "malformed sambaNTPassword: the log never shows the value" \
    sh -c "! grep -qi -e 0123456789ABCDEF0123456789ABCD -e ZZZZZZZZZZZZ '$LOG'"
check "ntlmd still runs after the malformed entries" kill -0 "$DAEMON_PID"

# cache off: a change in the directory is seen at once
"$PY" -B "$DRIVER" nthash lalice >"$WORK/other-hash"
set_nt_hash lcache "$(cat "$WORK/other-hash")"
expect --label "cache off, hash changed in the directory: " lcache=STATUS_WRONG_PASSWORD
set_nt_hash lcache "$("$PY" -B "$DRIVER" nthash lcache)"
expect --label "cache off, hash restored: " lcache=STATUS_SUCCESS

# password change through rootbinddn, visible with ldapsearch
driver change --socket "$SOCKET" lmia
check "password change: ldapsearch shows the new sambaNTPassword" \
    [ "$(ldap_value lmia sambaNTPassword)" = "$("$PY" -B "$DRIVER" nthash lmia new)" ]
last=$(ldap_value lmia sambaPwdLastSet)
check "password change: sambaPwdLastSet is now" [ $(($(date +%s) - ${last:-0})) -lt 60 ]
must=$(ldap_value lmia sambaPwdMustChange)
check "password change: sambaPwdMustChange moved by the same interval" \
    [ $((${must:-0} - ${last:-0})) -ge $((86400 * 30 + 90)) ]

# slapd restarted: unavailable (never NO_SUCH_USER) while down, then reconnects
stop_pid "$SLAPD_A"
expect --label "directory down: " --within 7 lalice=STATUS_NO_LOGON_SERVERS nobody=STATUS_NO_LOGON_SERVERS
expect --label "directory down, files still served: " falice=STATUS_SUCCESS
check "directory down: the log says no server answers" grep -q "no directory server answers" "$LOG"
start_slapd a "$PORT_A"
expect --label "slapd restarted, reconnected: " lalice=STATUS_SUCCESS
stop_pid "$SLAPD_A"
start_slapd a "$PORT_A"
expect --label "slapd restarted between two requests, reconnected at once: " lalice=STATUS_SUCCESS
# the only server hangs (SIGSTOP): answered within timelimit + bind_timelimit
slapd_freeze "$SLAPD_A"
expect --label "the only server hung: " --within 5 lalice=STATUS_NO_LOGON_SERVERS lbob=STATUS_NO_LOGON_SERVERS
kill -CONT "$SLAPD_A"
expect --label "the hung server answers again: " lalice=STATUS_SUCCESS
stop_ntlmd
check "no hash or password in the log" sh -c "! grep -qi -e '$BINDPW' -e '$(cat "$WORK/other-hash")' '$LOG'"

# ------------------------------------------------------------------ bind failure

write_conf "$WORK/badbind.conf" <<EOF
uri            ldap://127.0.0.1:$PORT_A
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/badpw
EOF
start_ntlmd "$WORK/badbind.conf"
expect --label "bind refused: " lalice=STATUS_NO_LOGON_SERVERS falice=STATUS_SUCCESS
check "bind refused: the log names the DN and the reason" \
    grep -q "bind as cn=reader,$SUFFIX refused: Invalid credentials" "$LOG"
stop_ntlmd

# ------------------------------------------------------------------ group search (ntlm_auth)

# ntlm_auth --require-membership-of: groups NSS does not know, found by the
# ldap store's group search (CHECK_MEMBERSHIP); the users authenticate first
basic() { # GROUP USER PASSWORD: ntlm_auth's squid-2.5-basic reply
    printf '%s %s\n' "$2" "$3" | timeout 30 "$NTLM_AUTH" --helper-protocol=squid-2.5-basic \
        --ntlmd-socket="$SOCKET" --require-membership-of="$1" 2>>"$WORK/ntlm_auth.err"
}
ntlmssp() { # GROUP USER: ntlm_auth's last squid-2.5-ntlmssp reply (python3-ntlm-auth client)
    timeout 60 "$PY" -B "$DRIVER" helper "$2" -- "$NTLM_AUTH" --helper-protocol=squid-2.5-ntlmssp \
        --ntlmd-socket="$SOCKET" --require-membership-of="$1" 2>>"$WORK/ntlm_auth.err"
}
reply_is() { # NAME GOT WANTED
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got \"$2\", wanted \"$3\""; fi
}

if [ -n "${NTLM_AUTH:-}" ] && [ -x "$NTLM_AUTH" ]; then
    write_conf "$WORK/groups.conf" <<EOF
uri            ldap://127.0.0.1:$PORT_A
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
group_base     ou=groups,$SUFFIX
EOF
    start_ntlmd "$WORK/groups.conf"
    reply_is "group search: posixGroup member (memberUid) -> OK" "$(basic webusers lalice Lalice-pass1)" OK
    reply_is "group search: memberUid in capitals matches" "$(basic webusers lhank Lhank-pass8)" OK
    reply_is "group search: a files user listed in the LDAP group, DOMAIN\\GROUP form -> OK" \
        "$(basic 'TESTDOM\webusers' falice Falice-pass1)" OK
    reply_is "group search: not a member -> ERR" "$(basic webusers ljane Ljane-pass10)" ERR
    reply_is "group search: a member with a wrong password -> ERR" "$(basic webusers lalice Wrong-pass0)" ERR
    reply_is "group search, squid-2.5-ntlmssp: member -> AF" "$(ntlmssp webusers lalice)" 'AF TESTDOM\lalice'
    reply_is "group search, squid-2.5-ntlmssp: not a member -> Samba's NA NT_STATUS_LOGON_FAILURE" \
        "$(ntlmssp webusers ljane)" "NA NT_STATUS_LOGON_FAILURE"
    reply_is "group search: a group neither NSS nor the directory knows -> NA NT_STATUS_INVALID_PARAMETER" \
        "$(ntlmssp no-such-group-xyz lalice)" "NA NT_STATUS_INVALID_PARAMETER"
    check "group search: ntlm_auth says NSS does not know the group and ntlmd is asked" \
        grep -q "group 'webusers' not found by NSS; ntlmd's group search is asked" "$WORK/ntlm_auth.err"
    reply_is "group search: a groupOfNames does not match group_filter (posixGroup) -> unknown group" \
        "$(ntlmssp webadmins ljane)" "NA NT_STATUS_INVALID_PARAMETER"
    # membership by SID (ntlm_auth --require-membership-of=S-1-5-21-...):
    # the account's sambaSID and sambaPrimaryGroupSID, and the
    # sambaGroupMapping entry of that sambaSID under group_base
    LSID=S-1-5-21-1111111111-2222222222-3333333333 # ldap_driver.py's SID
    reply_is "SID: the account's own sambaSID -> OK" "$(basic "$LSID-3000" lalice Lalice-pass1)" OK
    reply_is "SID: written s-1-... (as Samba's string_to_sid takes it) -> OK" \
        "$(basic "s${LSID#S}-3000" lalice Lalice-pass1)" OK
    reply_is "SID: ljane's own sambaSID (uidNumber 3009) -> AF" "$(ntlmssp "$LSID-3018" ljane)" 'AF TESTDOM\ljane'
    reply_is "SID: another account's sambaSID -> NA NT_STATUS_LOGON_FAILURE" "$(ntlmssp "$LSID-3000" ljane)" \
        "NA NT_STATUS_LOGON_FAILURE"
    reply_is "SID: the account's sambaPrimaryGroupSID -> OK" "$(basic "$LSID-513" lalice Lalice-pass1)" OK
    reply_is "SID: a sambaGroupMapping entry that lists the account (memberUid) -> OK" \
        "$(basic "$LSID-5001" lalice Lalice-pass1)" OK
    reply_is "SID: a files user listed in an LDAP sambaGroupMapping -> OK" \
        "$(basic "$LSID-5001" falice Falice-pass1)" OK
    reply_is "SID: a sambaGroupMapping entry that does not list the account -> ERR" \
        "$(basic "$LSID-5001" lhank Lhank-pass8)" ERR
    reply_is "SID: the same account is a member of its own SID -> OK" "$(basic "$LSID-3014" lhank Lhank-pass8)" OK
    reply_is "SID, squid-2.5-ntlmssp: member by sambaGroupMapping -> AF" "$(ntlmssp "$LSID-5001" lalice)" \
        'AF TESTDOM\lalice'
    reply_is "SID, squid-2.5-ntlmssp: not a member -> NA NT_STATUS_LOGON_FAILURE" \
        "$(ntlmssp "$LSID-5001" ljane)" "NA NT_STATUS_LOGON_FAILURE"
    reply_is "SID no store knows (an LDAP account) -> NA NT_STATUS_LOGON_FAILURE, as winbindd" \
        "$(ntlmssp S-1-5-21-9-9-9-1000 lalice)" "NA NT_STATUS_LOGON_FAILURE"
    reply_is "SID no store knows (a files user) -> NA NT_STATUS_LOGON_FAILURE, as winbindd" \
        "$(ntlmssp S-1-5-21-9-9-9-1000 falice)" "NA NT_STATUS_LOGON_FAILURE"
    reply_is "SID: the well-known Everyone (S-1-1-0) is not in winbindd's membership check -> ERR" \
        "$(basic S-1-1-0 lalice Lalice-pass1)" ERR
    reply_is "SID, malformed: ntlm_auth exits before reading a request" \
        "$(basic S-1-5-21-x lalice Lalice-pass1; echo "exit $?")" "exit 1"
    check "SID, malformed: ntlm_auth says why" grep -q "not a SID (a field is not a number)" "$WORK/ntlm_auth.err"
    got=$(WBINFO_NTLMD_SOCKET=$SOCKET timeout 30 "$PY" -B "$HERE/../ntlm_auth/wbinfo" -n 'TESTDOM\lalice')
    reply_is "ACCOUNT_SID: ntlmd's reply names the account's sambaSID (wbinfo -n of the Samba tests)" \
        "$got" "$LSID-3000 SID_USER (1)"
    check "SID: ntlmd's audit line says which store answered" \
        grep -q "is a member of group $LSID-5001 (ldap)" "$LOG"
    stop_pid "$SLAPD_A"
    SLAPD_A=""
    got=$(ntlmssp webusers falice)
    case $got in
    "BH "*) pass "group search, directory down: BH for a files user whose group is in LDAP" ;;
    *) fail "group search, directory down: got \"$got\", wanted BH" ;;
    esac
    check "group search, directory down: ntlm_auth says the group search is unavailable" \
        grep -q "ntlmd's group search for group webusers is unavailable" "$WORK/ntlm_auth.err"
    # the directory is back, but within reconnect_retrytime (default 10 s)
    # of the failed search: the group search is not tried
    start_slapd a "$PORT_A"
    got=$(ntlmssp webusers falice)
    case $got in
    "BH "*) pass "group search within reconnect_retrytime of the outage: BH without asking the directory" ;;
    *) fail "group search within reconnect_retrytime of the outage: got \"$got\", wanted BH" ;;
    esac
    check "group search, directory down: one log line says the directory is unavailable" \
        [ "$(grep -c "the directory is unavailable" "$LOG")" -eq 1 ]
    stop_ntlmd

    # groupOfNames: members by DN (group_member_dn), compared as DNs
    write_conf "$WORK/groups-dn.conf" <<EOF
uri             ldap://127.0.0.1:$PORT_A
binddn          cn=reader,$SUFFIX
bindpw_file     $WORK/bindpw
group_base      ou=groups,$SUFFIX
group_filter    (objectClass=groupOfNames)
group_member_dn yes
EOF
    start_ntlmd "$WORK/groups-dn.conf"
    reply_is "group_member_dn: groupOfNames member (its DN spelled otherwise) -> AF" \
        "$(ntlmssp webadmins ljane)" 'AF TESTDOM\ljane'
    reply_is "group_member_dn: not a member -> NA NT_STATUS_LOGON_FAILURE" "$(ntlmssp webadmins lalice)" \
        "NA NT_STATUS_LOGON_FAILURE"
    reply_is "group_member_dn: a files user has no entry -> not a member" \
        "$(basic webadmins falice Falice-pass1)" ERR
    stop_ntlmd

    cp "$WORK/good.conf" "$WORK/groups-bad.conf"
    printf 'group_member_dn maybe\ngroup_filter objectClass=posixGroup\ngroup_member_attribute bad/name\n' \
        >>"$WORK/groups-bad.conf"
    lines=$(wc -l <"$WORK/groups-bad.conf")
    out=$("$NTLMD" -t -f "$WORK/groups-bad.conf" 2>&1)
    n=0
    for l in $((lines - 2)) $((lines - 1)) "$lines"; do
        printf '%s\n' "$out" | grep -q "^$WORK/groups-bad.conf:$l: group_" && n=$((n + 1))
    done
    check "ntlmd -t: each bad group key is reported as FILE:LINE: reason" [ "$n" -eq 3 ]
else
    fail "group search: NTLM_AUTH is not set (make check sets it)"
fi

# ------------------------------------------------------------------ TLS and SASL EXTERNAL

write_conf "$WORK/tls.conf" <<EOF
uri            ldap://127.0.0.1:$PORT_A
ssl            start_tls
tls_reqcert    demand
tls_cacertfile $WORK/ca.pem
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
EOF
start_ntlmd "$WORK/tls.conf"
expect --label "StartTLS, tls_reqcert demand, the right CA: " lalice=STATUS_SUCCESS
stop_ntlmd
sed "s|$WORK/ca.pem|$WORK/other-ca.pem|" "$WORK/tls.conf" >"$WORK/tls-wrong.conf"
start_ntlmd "$WORK/tls-wrong.conf"
expect --label "StartTLS with another CA: refused: " lalice=STATUS_NO_LOGON_SERVERS
check "StartTLS with another CA: the log says StartTLS failed" grep -q "StartTLS failed" "$LOG"
stop_ntlmd

sed "s|$WORK/ca.pem|$WORK/other-ca.pem|; s|tls_reqcert    demand|tls_reqcert    never|" "$WORK/tls.conf" \
    >"$WORK/tls-never.conf"
start_ntlmd "$WORK/tls-never.conf"
expect --label "StartTLS with another CA and tls_reqcert never: accepted: " lalice=STATUS_SUCCESS
stop_ntlmd

write_conf "$WORK/ldaps.conf" <<EOF
uri            ldaps://127.0.0.1:$((PORT_A + 2))
ssl            on
tls_cacertfile $WORK/ca.pem
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
EOF
start_ntlmd "$WORK/ldaps.conf"
expect --label "ldaps:// (ssl on), tls_reqcert demand by default, the right CA: " lalice=STATUS_SUCCESS
stop_ntlmd
sed "s|$WORK/ca.pem|$WORK/other-ca.pem|" "$WORK/ldaps.conf" >"$WORK/ldaps-wrong.conf"
start_ntlmd "$WORK/ldaps-wrong.conf"
expect --label "ldaps:// with another CA: refused: " lalice=STATUS_NO_LOGON_SERVERS
stop_ntlmd

write_conf "$WORK/sasl.conf" <<EOF
uri            $LDAPI_A
sasl_mech      EXTERNAL
EOF
start_ntlmd "$WORK/sasl.conf"
expect --label "SASL EXTERNAL over ldapi:// as root: " lalice=STATUS_SUCCESS
stop_ntlmd

# ------------------------------------------------------------------ cache

write_conf "$WORK/cache.conf" <<EOF
uri            ldap://127.0.0.1:$PORT_A
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
cache_ttl      60
negative_cache_ttl 60
EOF
start_ntlmd "$WORK/cache.conf"
expect --label "cache on: " lcache=STATUS_SUCCESS lzed=STATUS_NO_SUCH_USER
set_nt_hash lcache "$(cat "$WORK/other-hash")"
"$PY" -B "$DRIVER" user-ldif "$SUFFIX" lzed | ldapadd -x -H "ldap://127.0.0.1:$PORT_A" -D "$ADMIN" \
    -w admin-secret -o nettimeout=5 >/dev/null
expect --label "cache on, directory changed, cached answers within the TTL: " lcache=STATUS_SUCCESS \
    lzed=STATUS_NO_SUCH_USER
kill -HUP "$DAEMON_PID"
sleep 0.5
expect --label "cache flushed by SIGHUP: " lcache=STATUS_WRONG_PASSWORD lzed=STATUS_SUCCESS
set_nt_hash lcache "$("$PY" -B "$DRIVER" nthash lcache)"
stop_ntlmd

write_conf "$WORK/stale.conf" <<EOF
uri            ldap://127.0.0.1:$PORT_A
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
cache_ttl      1
cache_stale_ttl 60
EOF
start_ntlmd "$WORK/stale.conf"
expect --label "stale cache: " lcache=STATUS_SUCCESS
sleep 2.2
stop_pid "$SLAPD_A"
expect --label "directory down, cache_stale_ttl set: served from the cache: " lcache=STATUS_SUCCESS \
    lalice=STATUS_NO_LOGON_SERVERS
check "stale cache: the log says so" grep -qF 'serving the cached entry of "lcache"' "$LOG"
stop_ntlmd
start_slapd a "$PORT_A"

# ------------------------------------------------------------------ reconnect_retrytime

# The only server hangs (SIGSTOP): the first lookup waits for timelimit,
# then for reconnect_retrytime seconds every lookup that needs the
# directory fails at once, files users and stale cache entries are served
# at once, and one line says the directory is unavailable.
RETRY=4
write_conf "$WORK/retrytime.conf" <<EOF
uri            ldap://127.0.0.1:$PORT_A
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
cache_ttl      1
cache_stale_ttl 60
reconnect_retrytime $RETRY
EOF
start_ntlmd "$WORK/retrytime.conf"
expect --label "reconnect_retrytime, directory up: " lcache=STATUS_SUCCESS
sleep 1.2 # lcache's entry is stale
slapd_freeze "$SLAPD_A"
expect --label "reconnect_retrytime, the only server hung, the first lookup waits for timelimit: " \
    --at-least 1.5 --within 3.5 lalice=STATUS_NO_LOGON_SERVERS
expect --label "reconnect_retrytime window: fails at once: " --within 0.5 \
    lbob=STATUS_NO_LOGON_SERVERS lcarol=STATUS_NO_LOGON_SERVERS ldave=STATUS_NO_LOGON_SERVERS \
    lerin=STATUS_NO_LOGON_SERVERS lfrank=STATUS_NO_LOGON_SERVERS lnobody=STATUS_NO_LOGON_SERVERS \
    falice=STATUS_SUCCESS lcache=STATUS_SUCCESS
check "reconnect_retrytime window: one log line says the directory is unavailable" \
    [ "$(grep -c "the directory is unavailable" "$LOG")" -eq 1 ]
check "reconnect_retrytime window: the line names the servers and the retry time" \
    grep -q "no directory server answers (1 configured): .*every $RETRY s" "$LOG"
kill -CONT "$SLAPD_A"
expect --label "reconnect_retrytime window, the server answers again, not yet tried: " --within 0.5 \
    lgina=STATUS_NO_LOGON_SERVERS
sleep "$RETRY"
expect --label "reconnect_retrytime passed: one lookup tries again: " --within 1.5 lalice=STATUS_SUCCESS
check "reconnect_retrytime: the log says the directory answers again" \
    grep -q "the directory answers again (ldap://127.0.0.1:$PORT_A)" "$LOG"
expect --label "reconnect_retrytime, directory up: " lbob=STATUS_ACCOUNT_DISABLED
# unavailable again, then SIGHUP: the reloaded store tries the servers at once
slapd_freeze "$SLAPD_A"
expect --label "reconnect_retrytime, hung again: " --at-least 1.5 --within 3.5 lhank=STATUS_NO_LOGON_SERVERS
kill -CONT "$SLAPD_A"
kill -HUP "$DAEMON_PID"
sleep 0.5
expect --label "reconnect_retrytime window reset by SIGHUP: " --within 1.5 lhank=STATUS_SUCCESS
check "reconnect_retrytime: two outages, two lines saying the directory is unavailable" \
    [ "$(grep -c "the directory is unavailable" "$LOG")" -eq 2 ]
stop_ntlmd

# ------------------------------------------------------------------ one name in two stores

# ldap first; TESTSRV (the server's NetBIOS name, a default accepted
# domain) is no domain of the directory's, so it reaches the files store,
# whose accounts are TESTDOM's, as the directory's are: the namesake is
# ambiguous and refused
write_conf "$WORK/twin.conf" <<EOF
$(writer_keys)
EOF
sed -i 's/^backends .*/backends       ldap files/' "$WORK/twin.conf"
start_ntlmd "$WORK/twin.conf"
driver twin --socket "$SOCKET" --mode ambiguous --files-domain TESTSRV
check "one name in two stores: the log says the account is ambiguous" \
    grep -q 'account TESTDOM\\ltwin is in the ldap store and the files store: refused as ambiguous' "$LOG"
slapd_freeze "$SLAPD_A"
driver twin --socket "$SOCKET" --mode ldap-down
kill -CONT "$SLAPD_A"
stop_ntlmd
# the directory's accounts in their own domain: two accounts
cp "$WORK/twin.conf" "$WORK/twin-domains.conf"
cat >>"$WORK/twin-domains.conf" <<EOF
domains         LDAPDOM
group_base      ou=groups,$SUFFIX
group_filter    (objectClass=groupOfNames)
group_member_dn yes
EOF
start_ntlmd "$WORK/twin-domains.conf"
driver twin --socket "$SOCKET" --mode domains --ldap-domain LDAPDOM
stop_ntlmd

# ------------------------------------------------------------------ lockout write-back

write_conf "$WORK/writeback.conf" <<EOF
$(writer_keys)
lockout_writeback yes
domains        TESTDOM EXTRA
EOF
start_ntlmd "$WORK/writeback.conf"
expect --label "lockout write-back: " lhank/wrong=STATUS_WRONG_PASSWORD lhank/wrong=STATUS_WRONG_PASSWORD
# a worker writes it after the reply
check "lockout write-back: sambaBadPasswordCount 2 after two wrong passwords" \
    ldap_value_becomes lhank sambaBadPasswordCount 2
bad_time=$(ldap_value lhank sambaBadPasswordTime)
check "lockout write-back: sambaBadPasswordTime is now" [ $(($(date +%s) - ${bad_time:-0})) -lt 60 ]
expect --label "lockout write-back: " lhank=STATUS_SUCCESS
check "lockout write-back: a good logon resets the count" ldap_value_becomes lhank sambaBadPasswordCount 0
expect --label "configured domains: " --domain EXTRA lhank=STATUS_SUCCESS
expect --label "configured domains: " --domain OTHERDOM lhank=STATUS_NO_SUCH_USER
stop_ntlmd
# sambaLockoutDuration 0 locks until an administrator clears L, as -1
# does: Samba (pdb_update_autolock_flag) and Windows (lockoutDuration 0)
# never auto-unlock it; 0 seconds would clear every L on the next lookup
printf 'dn: sambaDomainName=TESTDOM,%s\nchangetype: modify\nreplace: sambaLockoutThreshold\nsambaLockoutThreshold: 2\n-\nreplace: sambaLockoutDuration\nsambaLockoutDuration: 0\n-\n' \
    "$SUFFIX" | ldap_admin
# a sambaDomain of another name planted under the users' base (whoever
# may add entries there), threshold 0: the policy is TESTDOM's all the
# same, the domains line names it (attack4 F2: the first sambaDomain under
# the bases was read, and the directory lockout was off)
printf 'dn: sambaDomainName=PLANTED,ou=people,%s\nchangetype: add\nobjectClass: sambaDomain\nsambaDomainName: PLANTED\nsambaSID: S-1-5-21-1-2-3\nsambaLockoutThreshold: 0\n' \
    "$SUFFIX" | ldap_admin
start_ntlmd "$WORK/writeback.conf"
expect --label "duration 0: " lkill/wrong=STATUS_WRONG_PASSWORD lkill/wrong=STATUS_WRONG_PASSWORD
check "duration 0: the second bad password (threshold 2) sets L" \
    ldap_value_becomes lkill sambaAcctFlags "[UL         ]"
expect --label "duration 0: " lkill=STATUS_ACCOUNT_LOCKED_OUT lkill/wrong=STATUS_ACCOUNT_LOCKED_OUT
check "duration 0: L stays (no auto-unlock)" [ "$(ldap_value lkill sambaAcctFlags)" = "[UL         ]" ]
printf 'dn: uid=lrace,ou=people,%s\nchangetype: modify\nreplace: sambaAcctFlags\nsambaAcctFlags: [UL         ]\n-\nreplace: sambaBadPasswordCount\nsambaBadPasswordCount: 2\n-\nreplace: sambaBadPasswordTime\nsambaBadPasswordTime: %s\n-\n' \
    "$SUFFIX" "$(($(date +%s) - 60))" | ldap_admin
expect --label "duration 0, L set by Samba a minute ago: " lrace=STATUS_ACCOUNT_LOCKED_OUT
check "duration 0: an L that Samba set is kept" [ "$(ldap_value lrace sambaAcctFlags)" = "[UL         ]" ]
# a count the schema takes but ntlmd reads as malformed (negative, past
# INT32_MAX) is replaced, counting from 1 again (attack4 F1: an add
# without its delete met the single value, each write was refused as
# another writer's, and the account was never counted nor locked)
printf 'dn: uid=lfail,ou=people,%s\nchangetype: modify\nreplace: sambaBadPasswordCount\nsambaBadPasswordCount: -5\n-\nreplace: sambaBadPasswordTime\nsambaBadPasswordTime: %s\n-\n\ndn: uid=lmulti,ou=people,%s\nchangetype: modify\nreplace: sambaBadPasswordCount\nsambaBadPasswordCount: 9223372036854775807\n-\nreplace: sambaBadPasswordTime\nsambaBadPasswordTime: %s\n-\n' \
    "$SUFFIX" "$(date +%s)" "$SUFFIX" "$(date +%s)" | ldap_admin
expect --label "malformed count: " lfail/wrong=STATUS_WRONG_PASSWORD lmulti/wrong=STATUS_WRONG_PASSWORD
check "malformed count -5: a bad password writes 1" ldap_value_becomes lfail sambaBadPasswordCount 1
check "malformed count INT64_MAX: a bad password writes 1" ldap_value_becomes lmulti sambaBadPasswordCount 1
expect --label "malformed count: " lfail/wrong=STATUS_WRONG_PASSWORD
check "malformed count: the second bad password (threshold 2) sets L" \
    ldap_value_becomes lfail sambaAcctFlags "[UL         ]"
expect --label "malformed count, then locked: " lfail=STATUS_ACCOUNT_LOCKED_OUT
check "malformed count: no write-back gave up" sh -c "! grep -q 'changed under each of' '$LOG'"
stop_ntlmd
# the same planted entry without a domains line (attack4 F3: the domains
# were read under the bases only, PLANTED hid TESTDOM, whose users were
# STATUS_NO_SUCH_USER, and the policy was PLANTED's): netbios_domain
# (TESTDOM) is not under the bases, so the naming contexts are read too,
# and the policy is the entry named netbios_domain (threshold 2)
unlock() { # UID: count 0, flags [U], no L
    printf 'dn: uid=%s,ou=people,%s\nchangetype: modify\nreplace: sambaAcctFlags\nsambaAcctFlags: [U          ]\n-\nreplace: sambaBadPasswordCount\nsambaBadPasswordCount: 0\n-\n' \
        "$1" "$SUFFIX" | ldap_admin
}
sed '/^domains /d' "$WORK/writeback.conf" >"$WORK/nodomains.conf"
unlock lmulti
start_ntlmd "$WORK/nodomains.conf"
expect --label "no domains line, a sambaDomain planted under the base: " lmulti=STATUS_SUCCESS \
    lmulti/wrong=STATUS_WRONG_PASSWORD lmulti/wrong=STATUS_WRONG_PASSWORD
check "no domains line, planted sambaDomain: TESTDOM's threshold (2) sets L" \
    ldap_value_becomes lmulti sambaAcctFlags "[UL         ]"
check "no domains line, planted sambaDomain: no warning (the entry named netbios_domain is read)" \
    sh -c "! grep -q 'several sambaDomain entries' '$LOG'"
stop_ntlmd
# domains * and a netbios_domain no entry is named (F2's filter without
# names): the first entry with lockout attributes, the bases first, here
# PLANTED (threshold 0: counted, never locked), and a warning names it,
# once; PLANTED removed, the same read takes TESTDOM's (threshold 2: a
# count of 2 is a lock)
sed 's/^domains .*/domains        */; s/^netbios_domain .*/netbios_domain NOSUCH/' "$WORK/writeback.conf" >"$WORK/anydomain.conf"
unlock lmulti
start_ntlmd "$WORK/anydomain.conf"
expect --label "domains *, no entry named netbios_domain: " --domain NOSUCH \
    lmulti/wrong=STATUS_WRONG_PASSWORD lmulti/wrong=STATUS_WRONG_PASSWORD
check "domains *, no entry named netbios_domain: the first entry's policy (PLANTED, threshold 0) counts" \
    ldap_value_becomes lmulti sambaBadPasswordCount 2
check "domains *, no entry named netbios_domain: ... and does not lock" \
    [ "$(ldap_value lmulti sambaAcctFlags)" = "[U          ]" ]
check "domains *, several entries with lockout attributes: one warning names the entry read" \
    [ "$(grep -c "several sambaDomain entries have lockout attributes and none is named NOSUCH (netbios_domain): the lockout policy is read from sambaDomainName=PLANTED,ou=people,$SUFFIX; name the domain with a domains line" "$LOG")" -eq 1 ]
stop_ntlmd
printf 'dn: sambaDomainName=PLANTED,ou=people,%s\nchangetype: delete\n' "$SUFFIX" | ldap_admin
unlock lmulti
start_ntlmd "$WORK/anydomain.conf"
expect --label "domains *, one entry (TESTDOM, above the base): " --domain NOSUCH \
    lmulti/wrong=STATUS_WRONG_PASSWORD lmulti/wrong=STATUS_WRONG_PASSWORD
check "domains *, one entry: its threshold (2) sets L" \
    ldap_value_becomes lmulti sambaAcctFlags "[UL         ]"
stop_ntlmd
# a sambaDomain planted under the users' base with the domain's own name
# in another case (sambaDomainName is caseIgnoreMatch), threshold 0: read
# first (the bases before the naming contexts), it set the policy with
# the domains line and without one, silently (attack5 F1). Two entries
# of the domain's name are in doubt: ntlmd.conf's policy
# (lockout_account_threshold 2 here) is used, and one warning names both
printf 'dn: sambaDomainName=testdom,ou=people,%s\nchangetype: add\nobjectClass: sambaDomain\nsambaDomainName: testdom\nsambaSID: S-1-5-21-1-2-3\nsambaLockoutThreshold: 0\n' \
    "$SUFFIX" | ldap_admin
for conf in writeback nodomains; do
    { cat "$WORK/$conf.conf"; echo "lockout_account_threshold 2"; } >"$WORK/twin-$conf.conf"
    unlock lmulti
    start_ntlmd "$WORK/twin-$conf.conf"
    expect --label "$conf.conf, a sambaDomain named testdom planted under the base: " \
        lmulti/wrong=STATUS_WRONG_PASSWORD lmulti/wrong=STATUS_WRONG_PASSWORD
    check "$conf.conf, a sambaDomain named testdom planted under the base: not its threshold 0 (L set)" \
        ldap_value_becomes lmulti sambaAcctFlags "[UL         ]"
    check "$conf.conf, two sambaDomain entries named TESTDOM: one warning names both" \
        [ "$(grep -c "two sambaDomain entries are named testdom: sambaDomainName=testdom,ou=people,$SUFFIX and sambaDomainName=TESTDOM,$SUFFIX; the directory's lockout policy is not used, ntlmd.conf's is" "$LOG")" -eq 1 ]
    stop_ntlmd
done
printf 'dn: sambaDomainName=testdom,ou=people,%s\nchangetype: delete\n' "$SUFFIX" | ldap_admin
# 64 sambaDomain entries planted under the users' base (MAX_DOMAINS names
# are read), no domains line: the entry named netbios_domain is read
# first, so the list is not full before it (attack5 F4: TESTDOM's users
# were STATUS_NO_SUCH_USER)
plant64() { # add | delete
    i=0
    while [ "$i" -lt 64 ]; do
        if [ "$1" = add ]; then
            printf 'dn: sambaDomainName=P%02d,ou=people,%s\nchangetype: add\nobjectClass: sambaDomain\nsambaDomainName: P%02d\nsambaSID: S-1-5-21-9-9-%d\n\n' \
                "$i" "$SUFFIX" "$i" "$i"
        else
            printf 'dn: sambaDomainName=P%02d,ou=people,%s\nchangetype: delete\n\n' "$i" "$SUFFIX"
        fi
        i=$((i + 1))
    done | ldap_admin
}
plant64 add
unlock lmulti
start_ntlmd "$WORK/nodomains.conf"
expect --label "no domains line, 64 sambaDomain entries planted under the base: " lmulti=STATUS_SUCCESS
stop_ntlmd
plant64 delete
printf 'dn: sambaDomainName=TESTDOM,%s\nchangetype: modify\ndelete: sambaLockoutThreshold\n-\ndelete: sambaLockoutDuration\n-\n' \
    "$SUFFIX" | ldap_admin
check "lockout write-back off by default: lalice's count untouched" \
    [ -z "$(ldap_value lalice sambaBadPasswordCount)" ]

# ------------------------------------------------------------------ concurrency

# ntlmd never waits on the directory: 12 lookups at once (cache off: each
# a miss) with the only server stopped, 4 store workers (4 run, 8 queue);
# files users, PING and CHALLENGE are answered meanwhile (the driver checks
# that no directory VERIFY was answered before them, not a time)
write_conf "$WORK/concurrent.conf" <<EOF
uri            ldap://127.0.0.1:$PORT_A
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
store_workers  4
EOF
start_ntlmd "$WORK/concurrent.conf"
driver concurrent --socket "$SOCKET" --count 12 --slapd "$SLAPD_A" --then cont
stop_ntlmd

# a hung server during the lookups: each is answered STATUS_NO_LOGON_SERVERS
# at store_timeout, before timelimit; the 8 calls no worker took leave the
# queue then (attack3 F9), the 4 answers that come after SIGCONT are
# dropped and counted; then the directory works again
write_conf "$WORK/hung.conf" <<EOF
uri            ldap://127.0.0.1:$PORT_A
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
store_workers  4
store_timeout  1000
EOF
start_ntlmd "$WORK/hung.conf"
driver concurrent --socket "$SOCKET" --count 12 --slapd "$SLAPD_A" --then hang --store-timeout 1 --workers 4
check "hung server: the audit says no store answered within store_timeout" \
    grep -q 'no store answered within store_timeout' "$LOG"
stop_ntlmd

# one uid's share (max_connections 8: 4 waiting), one worker, the directory
# stopped: calls whose clients hung up or whose store_timeout passed leave
# the queue at once, and a fresh lookup of the uid waits instead of being
# refused (attack3 F9); lockout write-backs are outside the share, so the
# uid's own flood does not drop them (attack3 F3), up to their own bound
# (max_connections pending: the 9th is dropped, counted and logged).
# timelimit 10: no search times out while slapd is stopped.
write_conf "$WORK/share.conf" <<EOF
$(writer_keys)
lockout_writeback yes
cache_ttl      60
store_workers  1
max_connections 8
store_timeout  3000
EOF
sed -i 's/^timelimit .*/timelimit      10/; s/^bind_timelimit .*/bind_timelimit 10/' "$WORK/share.conf"
start_ntlmd "$WORK/share.conf"
driver share --socket "$SOCKET" --slapd "$SLAPD_A" --max-connections 8
check "a uid's share full: its wrong passwords are counted in the directory (count 8: all but the one dropped)" \
    ldap_value_becomes lflood sambaBadPasswordCount 8
check "the dropped write-back: one log line says so" \
    [ "$(grep -c 'lockout write-back for ldap dropped: STATUS_INSUFFICIENT_RESOURCES: 8 pending (max_connections)' "$LOG")" -eq 1 ]
stop_ntlmd

# a reload while lookups wait: they finish with the old chain, which is
# closed once the last of them is done
start_ntlmd "$WORK/concurrent.conf"
driver concurrent --socket "$SOCKET" --count 12 --slapd "$SLAPD_A" --then reload --daemon "$DAEMON_PID"
check "reload while lookups wait: the old store is closed after them" grep -q "ldap: closing: " "$LOG"
check "reload while lookups wait: ntlmd still runs" kill -0 "$DAEMON_PID"
stop_ntlmd

# failover with lookups in flight: the first server stopped, then killed
# while 12 lookups wait on it; each is retried on the second server
write_conf "$WORK/failover-inflight.conf" <<EOF
uri            ldap://127.0.0.1:$PORT_A
uri            ldap://127.0.0.1:$PORT_B
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
store_workers  4
EOF
start_ntlmd "$WORK/failover-inflight.conf"
driver concurrent --socket "$SOCKET" --count 12 --slapd "$SLAPD_A" --then kill --kill "$SLAPD_A"
wait "$SLAPD_A" 2>/dev/null
SLAPD_A=""
check "failover in flight: the lookups went to the second server" \
    grep -q "connected to ldap://127.0.0.1:$PORT_B" "$LOG"
stop_ntlmd
start_slapd a "$PORT_A"

# ------------------------------------------------------------------ failover

write_conf "$WORK/failover.conf" <<EOF
uri            ldap://127.0.0.1:$PORT_A
uri            ldap://127.0.0.1:$PORT_B
binddn         cn=reader,$SUFFIX
bindpw_file    $WORK/bindpw
EOF
start_ntlmd "$WORK/failover.conf"
driver stream --socket "$SOCKET" --count 30 --kill "$SLAPD_A" --at 10 lalice
wait "$SLAPD_A" 2>/dev/null
SLAPD_A=""
check "failover: the log names the server that went away" \
    grep -q "ldap://127.0.0.1:$PORT_A: Can't contact LDAP server" "$LOG"
check "failover: connected to the second server" grep -q "connected to ldap://127.0.0.1:$PORT_B" "$LOG"
expect --label "after the failover: " lbob=STATUS_ACCOUNT_DISABLED nobody=STATUS_NO_SUCH_USER
# the second server hangs (SIGSTOP): the search times out, the first answers
start_slapd a "$PORT_A"
slapd_freeze "$SLAPD_B"
expect --label "second server hung, the first back: " --within 5 lalice=STATUS_SUCCESS lbob=STATUS_ACCOUNT_DISABLED
kill -CONT "$SLAPD_B"
check "hung server: the log says it stopped answering" \
    grep -q "ldap://127.0.0.1:$PORT_B stopped answering (Timed out)" "$LOG"
stop_ntlmd
check "failover: the store's closing line counts the failovers" grep -Eq "closing: .*\(([1-9][0-9]*) failovers\)" "$LOG"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
