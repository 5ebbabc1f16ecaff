# shellcheck shell=sh
# pam-lib.sh: the harness of the pam tests, sourced by test-pam.sh and
# test-pam-ldap.sh (POSIX sh): pass/fail counting, the prerequisites,
# private PAM service files read through pam_wrapper, pamtester runs (plain
# and driven interactively by pam_driver.py) and their checks.
#
# The caller sets PY, DRIVER (pam_driver.py), PAM_NTLM_SO, and after
# pam_require, WORK, PAMD (the service directory) and ALL_OUTPUT (every
# pamtester output is appended there, for the secret checks).
# PAMTESTER names the pamtester to run (default: pamtester from PATH); a
# wrapper that runs it under a checker (scripts/run-valgrind.sh) fits there.
PAMTESTER=${PAMTESTER:-pamtester}

# shellcheck source=tests/testlib.sh
. "$HERE/../testlib.sh"

# NTLMD and PAM_NTLM_SO set (99 otherwise), pamtester, pam_wrapper
# (PWRAP), pam_exec and pam_permit (PAM_EXEC, PAM_PERMIT), Python with
# python3-ntlm-auth, root.
pam_require() {
    if [ -z "${NTLMD:-}" ] || [ ! -x "$NTLMD" ]; then
        echo "ERROR: set NTLMD to the ntlmd binary (make check does)" >&2
        exit 99
    fi
    if [ -z "${PAM_NTLM_SO:-}" ] || [ ! -f "$PAM_NTLM_SO" ]; then
        echo "ERROR: set PAM_NTLM_SO to the built pam_ntlm.so (make check does)" >&2
        exit 99
    fi
    command -v "$PAMTESTER" >/dev/null 2>&1 || skip_or_fail "pamtester"
    PWRAP=""
    for f in /usr/lib/*/libpam_wrapper.so /usr/lib/libpam_wrapper.so; do
        [ -f "$f" ] && PWRAP=$f && break
    done
    [ -n "$PWRAP" ] || skip_or_fail "libpam_wrapper.so (libpam-wrapper)"
    PAM_EXEC=""
    for f in /usr/lib/*/security/pam_exec.so /lib/*/security/pam_exec.so; do
        [ -f "$f" ] && PAM_EXEC=$f && break
    done
    PAM_PERMIT=$(dirname "${PAM_EXEC:-/lib/security/x}")/pam_permit.so
    if [ -z "$PAM_EXEC" ] || [ ! -f "$PAM_PERMIT" ]; then
        skip_or_fail "pam_exec.so and pam_permit.so (libpam-modules)"
    fi
    [ -x "$PY" ] || skip_or_fail "$PY"
    for m in ntlm_auth Cryptodome; do
        "$PY" -c "import $m" 2>/dev/null || skip_or_fail "the Python module $m"
    done
    [ "$(id -u)" -eq 0 ] || skip_or_fail "root (ntlmd's root-only requests)"
    # The programs that load the module (pamtester) are not built with the
    # sanitizers: when the module is (--enable-sanitizers), their runtimes
    # must be loaded first.
    PRELOAD=$PWRAP
    for lib in ubsan asan; do # asan must come first
        path=$(ldd "$PAM_NTLM_SO" 2>/dev/null | sed -n "s|^[[:space:]]*lib$lib\.so[^ ]* => \([^ ]*\) .*|\1|p")
        [ -n "$path" ] && PRELOAD="$path $PRELOAD"
    done
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 # pamtester's own allocations
    export ASAN_OPTIONS
}

# Starts ntlmd -d on configuration $1 (log $2) and waits for socket $3;
# sets DAEMON_PID.
pam_start_ntlmd() {
    "$NTLMD" -d -f "$1" >"$2" 2>&1 &
    DAEMON_PID=$!
    tries=$((WAIT * 10))
    while [ ! -S "$3" ] && [ "$tries" -gt 0 ] && kill -0 "$DAEMON_PID" 2>/dev/null; do
        tries=$((tries - 1))
        sleep 0.1
    done
    if [ ! -S "$3" ]; then
        echo "ERROR: ntlmd did not start: $(cat "$2")" >&2
        exit 99
    fi
}

# service NAME LINES...: writes a private PAM service file.
service() {
    name=$1
    shift
    printf '%s\n' "$@" >"$PAMD/$name"
}

# A stand-in for pam_unix: pam_exec with expose_authtok asks for the
# password, sets PAM_AUTHTOK and runs $UNIX_CHECK, which accepts the
# password kept in $WORK/unix-password.
write_unix_check() {
    UNIX_CHECK=$WORK/unix-check.sh
    cat >"$UNIX_CHECK" <<EOF
#!/bin/sh
want=\$(cat "$WORK/unix-password")
got=\$(tr -d '\\000')
[ "\$got" = "\$want" ]
EOF
    chmod 0700 "$UNIX_CHECK"
}

# pt SERVICE USER INPUT OPERATION...: runs pamtester under pam_wrapper with
# INPUT on stdin; sets OUT (stdout and stderr, syslog lines included) and RC.
# PAM_RHOST is $RHOST when set.
RHOST=""
pt() {
    svc=$1
    user=$2
    input=$3
    shift 3
    OUT=$(printf '%s' "$input" | timeout 60 env LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 \
        PAM_WRAPPER_SERVICE_DIR="$PAMD" PAM_WRAPPER_DEBUGLEVEL=2 \
        "$PAMTESTER" ${RHOST:+-I "rhost=$RHOST"} "$svc" "$user" "$@" 2>&1)
    RC=$?
    printf '%s\n' "$OUT" >>"$ALL_OUTPUT"
}

# exchange SERVICE USER PASSWORD [driver options]: pamtester (authenticate,
# acct_mgmt) driven by pam_driver.py, which answers the CHALLENGE prompt
# with python3-ntlm-auth for USER; sets OUT and RC. pamtester starts PAM
# with an empty user, as a server that learns the user from the exchange
# does (an NTLM account never logs in a PAM user set beforehand that is
# another account).
exchange() {
    svc=$1
    user=$2
    password=$3
    shift 3
    OUT=$(printf '%s\n' "$password" | timeout 60 "$PY" -B "$DRIVER" exchange --user "$user" "$@" -- \
        env LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$PAMD" PAM_WRAPPER_DEBUGLEVEL=2 \
        "$PAMTESTER" "$svc" "" authenticate acct_mgmt 2>&1)
    RC=$(printf '%s\n' "$OUT" | sed -n 's/^result=.* status=\([0-9a-z]*\) .*/\1/p')
    [ -n "$RC" ] || RC=255
    [ "$RC" = killed ] && RC=254
    printf '%s\n' "$OUT" >>"$ALL_OUTPUT"
}

# expect NAME RC TEXT [LOGTEXT]: the last run ended with status RC and its
# output holds TEXT (and LOGTEXT).
expect() {
    name=$1
    want_rc=$2
    text=$3
    logtext=${4:-}
    if [ "$RC" -eq "$want_rc" ] && printf '%s\n' "$OUT" | grep -qF -- "$text" &&
        { [ -z "$logtext" ] || printf '%s\n' "$OUT" | grep -qF -- "$logtext"; }; then
        pass "$name"
    else
        fail "$name (status $RC, wanted $want_rc, \"$text\" ${logtext:+and \"$logtext\"}): $(printf '%s\n' "$OUT" | grep -v PWRAP_DEBUG | tail -5)"
    fi
}

# pamtester's texts of the PAM codes
# shellcheck disable=SC2034 # each script uses some of them
{
    AUTH_OK="pamtester: successfully authenticated"
    AUTH_ERR="Authentication failure"
    UNKNOWN="User not known to the underlying authentication module"
    EXPIRED="User account has expired"
    MAXTRIES="Have exhausted maximum number of retries for service"
    NEWTOK="Authentication token is no longer valid; new one required"
    UNAVAIL="Authentication service cannot retrieve authentication info"
    ACCT_OK="pamtester: account management done"
    PERM="Permission denied"
}
