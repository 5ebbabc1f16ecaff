#!/bin/sh
# test-ntlmd.sh: starts a real ntlmd (-d) on a socket in a temporary
# directory, with a temporary configuration and hash file (tests/lib/ntlmd.sh),
# and drives it with tests/lib/ntlmd_driver.py (an independent implementation of the protocol,
# with NTLM messages from python3-ntlm-auth and python3-impacket), as root
# and as nobody, on one connection per request and on kept connections
# (idle_timeout, max_requests_per_connection, pipelining, ntlm_auth's kept
# C client reconnecting). It also checks "ntlmd -t", the refusal of a hash
# file open to others, a clean SIGTERM and that no hash or password reaches
# a log.
#
# Run by "make check" (tests/Makefile.am sets NTLMD), or by hand:
#   NTLMD=build/ntlmd/ntlmd tests/ntlmd/test-ntlmd.sh
# One line per case, then "N passed, M failed"; exit 1 on any failure,
# 77 (skip) when a prerequisite is missing outside CI, 99 on a hard error.
set -u

PY=/usr/bin/python3 # Debian's python3 sees python3-ntlm-auth and python3-impacket
HERE=$(cd "$(dirname "$0")" && pwd)
WAIT=10 # seconds: bound of every wait

READ_TIMEOUT_MS=1500
MAX_CONNECTIONS=16
IDLE_TIMEOUT_MS=1000
MAX_REQUESTS=5

# shellcheck source=tests/testlib.sh
. "$HERE/../testlib.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"
DRIVER=$TESTS_LIB/ntlmd_driver.py
WORK=""
LR="" # the real rotation's directory
DAEMON_PID=""


cleanup() {
    if [ -n "$DAEMON_PID" ]; then
        kill "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
    fi
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        rm -rf "$WORK"
    fi
}

# Runs the driver (with a time limit), prints its case lines and adds its
# counts; a driver that dies without reporting counts as one failure.
driver() { run_counted 600 "$@"; }

# Waits (bounded) for process $1 to exit; sets EXIT_STATUS.
wait_exit() {
    tries=$((WAIT * 10))
    while kill -0 "$1" 2>/dev/null; do
        tries=$((tries - 1))
        if [ "$tries" -le 0 ]; then
            kill -KILL "$1" 2>/dev/null
            wait "$1" 2>/dev/null
            EXIT_STATUS=timeout
            return 1
        fi
        sleep 0.1
    done
    wait "$1"
    EXIT_STATUS=$?
}

# ------------------------------------------------------------------ setup

require_built NTLMD
require_python ntlm_auth impacket Cryptodome
command -v setpriv >/dev/null 2>&1 || skip_or_fail "setpriv"
[ "$(id -u)" -eq 0 ] || skip_or_fail "root (the test switches to nobody)"

trap cleanup EXIT
trap 'exit 1' HUP INT TERM
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ntlmd-test.XXXXXX") || exit 99
chmod 0755 "$WORK" # nobody must reach the socket; the hash file stays 0600
SOCKET=$WORK/run/socket
HASHES=$WORK/smbpasswd
CONF=$WORK/ntlmd.conf
LOG=$WORK/ntlmd.log
AUDIT=$WORK/audit.json

ntlmd_hashes "$HASHES" || exit 99

cat >"$CONF" <<EOF
# ntlmd configuration of test-ntlmd.sh
socket            $SOCKET
hash_file         $HASHES
backends          files
audit_json        $AUDIT
netbios_name      TESTSRV
netbios_domain    TESTDOM
read_timeout      $READ_TIMEOUT_MS
max_connections   $MAX_CONNECTIONS
idle_timeout      $IDLE_TIMEOUT_MS
max_requests_per_connection $MAX_REQUESTS
challenge_lifetime 300
allow_groups      4242
lockout_threshold 0

service lockout
lockout_threshold 3
lockout_account_threshold 6
lockout_window    600
lockout_duration  600

service mic
require_mic       yes

service cb
channel_bindings  required

service spn
target_names      HTTP/www.example.test

service spn-ok
target_names      HTTP/www.example.test cifs/TESTSRV

service v1
ntlm_auth         ntlmv1-permitted

service mschap
ntlm_auth         mschapv2-and-ntlmv2-only
EOF

cp "$CONF" "$WORK/activated.conf" # before the SIGHUP cases edit $CONF

# ------------------------------------------------------------------ ntlmd -t

out=$("$NTLMD" -t -f "$CONF" 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && [ "$out" = "configuration OK" ]; then
    pass "ntlmd -t: a good configuration gives 'configuration OK' and status 0"
else
    fail "ntlmd -t on a good configuration: status $rc, output: $out"
fi

BROKEN=$WORK/broken.conf
cat >"$BROKEN" <<EOF
# line 1
socket $SOCKET
no_such_key 1
ntlm_auth sometimes
hash_file $HASHES
max_connections many
EOF
out=$("$NTLMD" -t -f "$BROKEN" 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && printf '%s\n' "$out" | grep -q "^$BROKEN:3: " &&
    printf '%s\n' "$out" | grep -q "^$BROKEN:4: " && printf '%s\n' "$out" | grep -q "^$BROKEN:6: " &&
    ! printf '%s\n' "$out" | grep -q "configuration OK"; then
    pass "ntlmd -t: a broken configuration gives FILE:LINE: reason for each error and status 1"
else
    fail "ntlmd -t on a broken configuration: status $rc, output: $out"
fi

out=$("$NTLMD" -t -f "$WORK/missing.conf" 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && printf '%s\n' "$out" | grep -q "missing.conf"; then
    pass "ntlmd -t: a missing configuration file gives status 1"
else
    fail "ntlmd -t on a missing file: status $rc, output: $out"
fi

# ------------------------------------------------------------------ secret file mode

OPEN_HASHES=$WORK/open-smbpasswd
OPEN_CONF=$WORK/open.conf
cp "$HASHES" "$OPEN_HASHES"
chmod 0644 "$OPEN_HASHES"
sed -e "s|^hash_file .*|hash_file $OPEN_HASHES|" -e "s|^socket .*|socket $WORK/open/socket|" \
    -e "s|^audit_json .*||" "$CONF" >"$OPEN_CONF"
out=$(timeout "$WAIT" "$NTLMD" -d -f "$OPEN_CONF" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && printf '%s\n' "$out" | grep -q "readable or writable by others" &&
    [ ! -S "$WORK/open/socket" ]; then
    pass "ntlmd refuses to start with a hash file readable by others"
else
    fail "ntlmd with a hash file of mode 0644: status $rc, output: $out"
fi
out=$("$NTLMD" -t -f "$OPEN_CONF" 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && printf '%s\n' "$out" | grep -q "chmod o-rwx"; then
    pass "ntlmd -t reports a hash file readable by others"
else
    fail "ntlmd -t with a hash file of mode 0644: status $rc, output: $out"
fi
rm -f "$OPEN_HASHES"

# ------------------------------------------------------------------ the daemon

if ntlmd_start "$CONF" "$LOG" "$SOCKET"; then
    DAEMON_PID=$NTLMD_PID
else
    fail "ntlmd did not start"
    echo "$PASSED passed, $FAILED failed"
    exit 1
fi
mode=$(stat -c %a "$SOCKET")
dmode=$(stat -c %a "$(dirname "$SOCKET")")
if [ "$mode" = 666 ] && [ "$dmode" = 755 ]; then
    pass "socket 0666 in a 0755 directory ntlmd created"
else
    fail "socket mode $mode, directory mode $dmode"
fi

driver "$PY" -B "$DRIVER" main --socket "$SOCKET" --hashes "$HASHES" \
    --read-timeout-ms "$READ_TIMEOUT_MS" --max-connections "$MAX_CONNECTIONS"
driver "$PY" -B "$DRIVER" kept --socket "$SOCKET" --idle-timeout-ms "$IDLE_TIMEOUT_MS" \
    --max-requests "$MAX_REQUESTS" --max-connections "$MAX_CONNECTIONS"

# A malformed hash file: logged with its line number, the last good copy
# stays in service.
cp -p "$HASHES" "$WORK/good-smbpasswd"
echo "this line has no fields" >>"$HASHES"
tries=$((WAIT * 10))
while ! grep -q "files: $HASHES: line [0-9]*:" "$LOG" && [ "$tries" -gt 0 ]; do
    tries=$((tries - 1))
    sleep 0.1
done
if grep -q "files: $HASHES: line [0-9]*: .*serving the last good copy" "$LOG"; then
    pass "a malformed hash file is logged with its line number"
else
    fail "no log line names the malformed line of the hash file"
fi
driver "$PY" -B "$DRIVER" logon --socket "$SOCKET" --name "the last good copy stays in service" alice
cp "$WORK/good-smbpasswd" "$HASHES"

driver setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$PY" -B "$DRIVER" unauthorised --socket "$SOCKET"

NOBODY_UID=$(id -u nobody)
if grep -q "uid=$NOBODY_UID pid=[0-9]* closed during VERIFY: caller not in allow_users or allow_groups" "$LOG"; then
    pass "the refusal of nobody is logged with uid and pid"
else
    fail "no log line for the refusal of uid $NOBODY_UID"
fi
if grep -q "closed: request not received in time" "$LOG" && grep -q "closed: malformed frame header" "$LOG" &&
    grep -q "closed: frame length over the cap" "$LOG" && grep -q "closed: unknown request type" "$LOG"; then
    pass "slow, malformed, oversized and unknown frames are each logged"
else
    fail "a log line is missing for a slow, malformed, oversized or unknown frame"
fi

# SIGHUP: a policy change takes effect without a restart.
printf '\nservice hup\nrequire_mic yes\n' >>"$CONF"
kill -HUP "$DAEMON_PID"
tries=$((WAIT * 10))
while ! grep -q "configuration reloaded" "$LOG" && [ "$tries" -gt 0 ]; do
    tries=$((tries - 1))
    sleep 0.1
done
if grep -q "configuration reloaded" "$LOG" && kill -0 "$DAEMON_PID" 2>/dev/null; then
    pass "SIGHUP reloads the configuration"
else
    fail "no reload after SIGHUP"
fi
driver "$PY" -B "$DRIVER" logon --socket "$SOCKET" --client impacket --service hup \
    --expect STATUS_NTLM_MIC_MISSING --name "after SIGHUP the new service policy (require_mic) applies" alice
printf 'no_such_key 1\n' >>"$CONF"
kill -HUP "$DAEMON_PID"
sleep 0.5
if grep -q "reload failed: keeping the running configuration" "$LOG" && kill -0 "$DAEMON_PID" 2>/dev/null; then
    pass "SIGHUP with a broken configuration keeps the running one"
else
    fail "a broken configuration on SIGHUP was not refused cleanly"
fi

kill -TERM "$DAEMON_PID"
wait_exit "$DAEMON_PID"
DAEMON_PID=""
if [ "$EXIT_STATUS" = 0 ] && [ ! -e "$SOCKET" ]; then
    pass "SIGTERM: ntlmd exits with status 0 and removes its socket"
else
    fail "SIGTERM: exit status $EXIT_STATUS, socket $([ -e "$SOCKET" ] && echo left || echo removed)"
fi
# Socket activation: systemd's protocol (LISTEN_PID, LISTEN_FDS, fd 3).
ACT_LOG=$WORK/activated.log
if command -v systemd-socket-activate >/dev/null 2>&1; then
    mkdir "$WORK/act"
    chmod 0755 "$WORK/act"
    systemd-socket-activate -l "$WORK/act/socket" "$NTLMD" -d -f "$WORK/activated.conf" 2>"$ACT_LOG" &
    DAEMON_PID=$!
    ntlmd_ready "$WORK/act/socket" "$DAEMON_PID" # its first connection starts ntlmd
    driver "$PY" -B "$DRIVER" logon --socket "$WORK/act/socket" --name "socket activation: a logon on systemd's socket" alice
    if grep -q "listening on a socket from systemd" "$ACT_LOG"; then
        pass "socket activation: ntlmd takes the socket it is given"
    else
        fail "socket activation: ntlmd did not use the socket from systemd-socket-activate"
    fi
    kill -TERM "$DAEMON_PID"
    wait_exit "$DAEMON_PID"
    DAEMON_PID=""
    if [ "$EXIT_STATUS" = 0 ] && [ -S "$WORK/act/socket" ]; then
        pass "socket activation: SIGTERM exits 0 and leaves systemd's socket alone"
    else
        fail "socket activation: exit status $EXIT_STATUS"
    fi
else
    echo "socket activation not run" >"$ACT_LOG"
    echo "# socket activation not tested: systemd-socket-activate is missing"
fi

# Without -d or -F ntlmd goes to the background once its socket listens.
BG=$WORK/bg
mkdir "$BG"
sed -e "s|^socket .*|socket $BG/socket|" -e "s|^audit_json .*||" "$WORK/activated.conf" >"$BG/ntlmd.conf"
"$NTLMD" -f "$BG/ntlmd.conf" 2>"$BG/stderr"
rc=$?
bg_pid=$(pgrep -f -- "-f $BG/ntlmd.conf")
if [ "$rc" -eq 0 ] && [ -S "$BG/socket" ] && [ -n "$bg_pid" ]; then
    DAEMON_PID=$bg_pid
    pass "background: ntlmd returns 0 with its socket listening"
    driver "$PY" -B "$DRIVER" logon --socket "$BG/socket" --name "background: a logon" alice
    kill -TERM "$bg_pid"
    tries=$((WAIT * 10))
    while kill -0 "$bg_pid" 2>/dev/null && [ "$tries" -gt 0 ]; do
        tries=$((tries - 1))
        sleep 0.1
    done
    if ! kill -0 "$bg_pid" 2>/dev/null && [ ! -e "$BG/socket" ]; then
        pass "background: SIGTERM stops the daemon and removes its socket"
    else
        fail "background: the daemon did not stop on SIGTERM"
        kill -KILL "$bg_pid" 2>/dev/null
    fi
    DAEMON_PID=""
else
    fail "background: status $rc, pid '$bg_pid': $(cat "$BG/stderr")"
fi

# The C client keeps its connection (ntlm_auth's helper modes) and sends a
# request again when the daemon closed it: the driver starts and restarts
# its own ntlmd.
KEPT_LOG=$WORK/kept-ntlmd.log
: >"$KEPT_LOG"
if [ -n "${NTLM_AUTH:-}" ] && [ -x "$NTLM_AUTH" ]; then
    KEPT=$WORK/kept
    mkdir "$KEPT"
    chmod 0755 "$KEPT"
    sed -e "s|^socket .*|socket $KEPT/socket|" -e "s|^audit_json .*||" "$WORK/activated.conf" >"$KEPT/ntlmd.conf"
    driver "$PY" -B "$DRIVER" kept-client --ntlmd "$NTLMD" --conf "$KEPT/ntlmd.conf" --socket "$KEPT/socket" \
        --log "$KEPT_LOG" --ntlm-auth "$NTLM_AUTH" --idle-timeout-ms "$IDLE_TIMEOUT_MS" \
        --max-requests "$MAX_REQUESTS"
else
    echo "# the kept C client is not tested: set NTLM_AUTH to ntlm_auth (make check does)"
fi

# Rotation of the audit file of the dropped daemon ($DROP/log, nobody's):
# records rot1-rot2 before "mv audit.json audit.json.1; kill -HUP", rot3-rot4
# right after it (no wait: the reopen comes before the next record), rot5
# after a HUP without a rotation, then "mv audit.json audit.json.2", the
# directory handed to root, a HUP whose reopen fails (logged with the path
# and errno), and rot6-rot7, which go on to the old descriptor (.2). Every
# record is counted in exactly one file.
rot_logons() {
    for r in "$@"; do
        driver "$PY" -B "$DRIVER" logon --socket "$DROP/run/socket" --service "$r" \
            --name "audit rotation: logon of service $r" alice
    done
}
audit_rotation() {
    A=$DROP/log/audit.json
    rot_logons rot1 rot2
    mv "$A" "$A.1"
    kill -HUP "$DAEMON_PID"
    rot_logons rot3 rot4
    kill -HUP "$DAEMON_PID"
    rot_logons rot5
    if [ "$(stat -c %U "$A" 2>/dev/null)" = nobody ] && ! grep -q "cannot reopen the audit file" "$DROP_LOG"; then
        pass "audit rotation: SIGHUP creates a new audit.json, nobody's, in nobody's directory"
    else
        fail "audit rotation: no new audit.json owned by nobody: $(ls -l "$DROP/log"; grep audit "$DROP_LOG")"
    fi
    mv "$A" "$A.2"
    chown root:root "$DROP/log"
    chmod 0755 "$DROP/log"
    kill -HUP "$DAEMON_PID"
    tries=$((WAIT * 10))
    while ! grep -q "cannot reopen the audit file" "$DROP_LOG" && [ "$tries" -gt 0 ]; do
        tries=$((tries - 1))
        sleep 0.1
    done
    if grep -q "cannot reopen the audit file $A: Permission denied" "$DROP_LOG"; then
        pass "audit rotation: a failed reopen is logged with the path and errno"
    else
        fail "audit rotation: no error for the failed reopen: $(grep audit "$DROP_LOG")"
    fi
    rot_logons rot6 rot7
    bad=""
    per=$(grep -c '"service":"rot1"' "$A.1")
    [ "$per" -ge 1 ] || bad="$bad rot1:none"
    for r in rot1 rot2 rot3 rot4 rot5 rot6 rot7; do
        case $r in rot1 | rot2) want=$A.1 other=$A.2 ;; *) want=$A.2 other=$A.1 ;; esac
        [ "$(grep -c "\"service\":\"$r\"" "$want")" = "$per" ] || bad="$bad $r:not-$per-in-$(basename "$want")"
        [ "$(grep -c "\"service\":\"$r\"" "$other")" = 0 ] || bad="$bad $r:also-in-$(basename "$other")"
    done
    [ ! -e "$A" ] || bad="$bad audit.json-recreated"
    if [ -z "$bad" ]; then
        pass "audit rotation: every record ($per per logon) is in exactly one file, none lost"
    else
        fail "audit rotation:$bad"
    fi
}

# The shipped logrotate rule parses (-d: nothing is rotated, no script runs);
# only its path, $(localstatedir)/log/ntlmd/audit.json, becomes the test's,
# and its "su ntlmd ntlmd" the test daemon's user, nobody (etc/README.md).
# rotate_rule AUDIT_PATH: the shipped rule so, on stdout.
rotate_rule() {
    sed -e "s|^${INSTALLED_AUDIT_JSON:?make check sets it} |$1 |" \
        -e 's|^\([[:space:]]*su\) ntlmd ntlmd$|\1 nobody nogroup|' "$ROTATE_RULE"
}
if command -v logrotate >/dev/null 2>&1; then
    ROTATE_RULE=$(shipped logrotate.d/ntlmd) || exit 99
    rotate_rule "$WORK/rotate/audit.json" >"$WORK/logrotate.conf"
    mkdir "$WORK/rotate"
    : >"$WORK/rotate/audit.json"
    if logrotate -d -s "$WORK/logrotate.state" "$WORK/logrotate.conf" >"$WORK/logrotate.out" 2>&1 &&
        grep -q "rotating pattern: $WORK/rotate/audit.json" "$WORK/logrotate.out"; then
        pass "the shipped logrotate.d/ntlmd is a valid logrotate rule"
    else
        fail "the shipped logrotate.d/ntlmd: $(cat "$WORK/logrotate.out")"
    fi
fi

# Privilege drop: "user" and "group" of the configuration, checked in /proc.
DROP=$WORK/drop
mkdir "$DROP"
chmod 0755 "$DROP"
cp "$HASHES" "$DROP/smbpasswd"
chown nobody:nogroup "$DROP/smbpasswd"
chmod 0600 "$DROP/smbpasswd"
DROP_LOG=$DROP/ntlmd.log
sed -e "s|^hash_file .*|hash_file $DROP/smbpasswd|" -e "s|^socket .*|socket $DROP/run/socket|" \
    -e "s|^audit_json .*|audit_json $DROP/log/audit.json\nuser nobody\ngroup nogroup|" \
    "$WORK/activated.conf" >"$DROP/ntlmd.conf"
# the audit file's directory belongs to ntlmd's user (ntlmd.conf(5), audit_json)
mkdir "$DROP/log"
chown nobody:nogroup "$DROP/log"
chmod 0750 "$DROP/log"
if ntlmd_start "$DROP/ntlmd.conf" "$DROP_LOG" "$DROP/run/socket"; then
    DAEMON_PID=$NTLMD_PID
    n=$(id -u nobody)
    g=$(getent group nogroup | cut -d: -f3)
    # the socket listens just before the drop: wait (bounded) for the drop
    tries=$((WAIT * 10))
    while :; do
        ids=$(awk '/^(Uid|Gid):/ { printf "%s %s %s %s;", $2, $3, $4, $5 } /^Groups:/ { printf "%s;", $2 }
            /^NoNewPrivs:/ { printf "%s", $2 }' "/proc/$DAEMON_PID/status")
        case "$ids" in "0 "*) ;; *) break ;; esac
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || break
        sleep 0.1
    done
    if [ "$ids" = "$n $n $n $n;$g $g $g $g;$g;1" ]; then
        pass "privilege drop: uid, gid and groups are nobody/nogroup, no_new_privs set"
    else
        fail "privilege drop: /proc says $ids"
    fi
    driver "$PY" -B "$DRIVER" logon --socket "$DROP/run/socket" --name "privilege drop: a logon after the drop" alice
    audit_rotation
    kill -TERM "$DAEMON_PID"
    wait_exit "$DAEMON_PID"
    if [ "$EXIT_STATUS" = 0 ] && [ ! -e "$DROP/run/socket" ]; then
        pass "privilege drop: SIGTERM still removes the socket"
    else
        fail "privilege drop: exit status $EXIT_STATUS, socket $([ -e "$DROP/run/socket" ] && echo left || echo removed)"
    fi
else
    fail "privilege drop: ntlmd did not start"
fi
DAEMON_PID=""

# The shipped logrotate rule for real (-f, as root, as cron and
# logrotate.timer run it) on the audit file of a daemon dropped to nobody,
# in nobody's directory (0750, as the Debian package makes
# /var/log/ntlmd): logrotate does the rotation as nobody (its "su"), the
# rule's postrotate HUPs ntlmd, which goes on in a new audit.json; a second
# rotation compresses the first. In a private PID and mount namespace: the
# rule's "pkill -HUP -x ntlmd" reaches this test's ntlmd only, and its
# systemctl no service manager.
if command -v logrotate >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1; then
    LR=$WORK/lr
    mkdir -p "$LR/log"
    chmod 0755 "$LR"
    sed "s|$DROP/|$LR/|g" "$DROP/ntlmd.conf" >"$LR/ntlmd.conf"
    cp -p "$DROP/smbpasswd" "$LR/smbpasswd"
    chown nobody:nogroup "$LR/log"
    chmod 0750 "$LR/log"
    rotate_rule "$LR/log/audit.json" >"$LR/logrotate.conf"
    cat >"$LR/rotate.sh" <<'EOF'
# in the namespace: ntlmd, a logon, a rotation, a logon, a rotation
. "$TESTS_LIB/../testlib.sh"
. "$TESTS_LIB/ntlmd.sh"
if [ -d /run/systemd ]; then mount -t tmpfs tmpfs /run/systemd || exit 99; fi
ntlmd_start "$LR/ntlmd.conf" "$LR/ntlmd.log" "$LR/run/socket" || exit 99
lr_logon() { "$PY" -B "$DRIVER" logon --socket "$LR/run/socket" --service "$1" --name "$1" alice >"$LR/$1.out" 2>&1; }
lr_logon lr1
pgrep -x ntlmd >"$LR/named"
# under valgrind the rule's pkill -x ntlmd names no process: the HUP its
# postrotate would send is sent here (the check of that HUP is skipped)
lr_hup() { [ -s "$LR/named" ] || kill -HUP "$NTLMD_PID"; }
logrotate -f -v -s "$LR/state" "$LR/logrotate.conf" >"$LR/rotate1.out" 2>&1
echo $? >"$LR/rotate1.rc"
lr_hup
lr_logon lr2
logrotate -f -v -s "$LR/state" "$LR/logrotate.conf" >"$LR/rotate2.out" 2>&1
echo $? >"$LR/rotate2.rc"
lr_hup
ntlmd_stop
EOF
    export LR PY DRIVER
    unshare --pid --fork --mount-proc sh "$LR/rotate.sh" >"$LR/ns.out" 2>&1
    echo "logrotate -f -v, twice: $(grep -hE '^switching euid from 0|^compressing' "$LR/rotate1.out" "$LR/rotate2.out" | tr '\n' ';')"
    check "logrotate, the shipped rule for real: both rotations exit 0" \
        [ "$(cat "$LR/rotate1.rc" "$LR/rotate2.rc" 2>/dev/null | tr '\n' ' ')" = "0 0 " ]
    check "logrotate, the shipped rule for real: it rotates as the daemon's user (su), not as root" \
        grep -q "^switching euid from 0 to $(id -u nobody) and egid from 0 to $(getent group nogroup | cut -d: -f3)" "$LR/rotate1.out"
    check "logrotate, the shipped rule for real: every file in nobody's directory is nobody's" \
        [ -z "$(find "$LR/log" ! -user nobody)" ]
    has_service() { grep -q "\"service\":\"$2\"" "$1"; } # FILE SERVICE: a record of SERVICE in FILE
    first_in_gz() { gzip -dc "$LR/log/audit.json.2.gz" >"$LR/2.json" && has_service "$LR/2.json" lr1; }
    check "logrotate, the shipped rule for real: the second rotation compressed the first into audit.json.2.gz" \
        first_in_gz
    if [ -s "$LR/named" ]; then
        second_alone() { ! has_service "$LR/log/audit.json.1" lr1 && has_service "$LR/log/audit.json.1" lr2; }
        check "logrotate, the shipped rule for real: its postrotate HUPs ntlmd, whose next record starts audit.json.1 anew" \
            second_alone
    else
        echo "not checked: the HUP of the rule's pkill -x ntlmd (this ntlmd runs under another process name: valgrind)"
    fi
fi

if grep -qiE "AddressSanitizer|runtime error|LeakSanitizer" "$LOG" "$ACT_LOG" "$DROP_LOG" "$KEPT_LOG" \
    ${LR:+"$LR/ntlmd.log"}; then
    fail "sanitizer report in the daemon log"
else
    pass "no sanitizer report in the daemon log"
fi

amode=$(stat -c %a "$AUDIT" 2>/dev/null)
if [ "$amode" = 640 ]; then
    pass "the JSON audit file has mode 0640"
else
    fail "the JSON audit file has mode $amode"
fi
driver "$PY" -B "$DRIVER" check-audit "$AUDIT"
# the kept client's daemon log exists only when that client ran
if [ -n "${NTLM_AUTH:-}" ] && [ -x "$NTLM_AUTH" ]; then
    driver "$PY" -B "$DRIVER" check-logs "$LOG" "$AUDIT" "$ACT_LOG" "$DROP_LOG" "$KEPT_LOG"
else
    driver "$PY" -B "$DRIVER" check-logs "$LOG" "$AUDIT" "$ACT_LOG" "$DROP_LOG"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
