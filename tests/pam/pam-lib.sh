# shellcheck shell=sh
# pam-lib.sh: the harness of the pam tests, sourced by test-pam.sh,
# test-pam-identity.sh and test-pam-ldap.sh (POSIX sh): pass/fail counting,
# the prerequisites, the temporary directory and its ntlmd, the service
# files (the shipped ones of etc/pam.d and the tests' own), the runs of
# PAM applications (pamtester plain and driven interactively by
# pam_driver.py, pam-su, the example server) and their checks.
#
# The caller sets HERE (tests/pam), then calls pam_require and pam_setup NAME, which set WORK, SOCKET, HASHES,
# CONF, LOG, PAMD (the service directory) and ALL_OUTPUT (every output of a
# PAM application is appended there, for the secret checks).
# PAMTESTER names the pamtester to run (default: pamtester from PATH); a
# wrapper that runs it under a checker (scripts/run-valgrind.sh) fits there.
#
# Shipped service files
# ---------------------
# The services etc/pam.d/ntlm-exchange, ntlm-login and ntlm-test are run as
# shipped (pam_shipped): the copy in PAMD differs from the shipped file only
# by " socket=SOCKET" appended to each line whose module is pam_ntlm.so, so
# that the module asks the test's ntlmd and not /run/ntlmd/socket. Nothing
# else is substituted, the module's name included: every PAM application
# runs through tests/pam/pam-run.sh, in a private mount namespace where the
# directory libpam loads "pam_ntlm.so" from (PAM_RUN_SYSMODS) shows the
# built module beside the system's modules (pam_unix.so, pam_deny.so, ...).
# pam_wrapper makes libpam read PAMD instead of /etc/pam.d, and prints the
# modules' syslog lines. For pam_unix (ntlm-login), pam_unix_user adds Unix
# users to a private /etc (an overlay in the same namespace). A shipped file
# that the module disagrees with (an option it does not take, a module it
# cannot load) fails the test (shipped_check). Neither /etc nor the module
# directory of the machine is changed.
PAMTESTER=${PAMTESTER:-pamtester}
PY=${PY:-/usr/bin/python3}
DRIVER=$HERE/pam_driver.py
WAIT=${WAIT:-10}
# the shipped service files as make install installs them (the build tree's
# etc/pam.d, generated from etc/pam.d/*.in) and the module path they name
ETC_PAMD=${ETC_PAMD:-${SHIPPED_DIR:-$HERE/../../etc}/pam.d}
INSTALLED_PAM_NTLM=${INSTALLED_PAM_NTLM:-pam_ntlm.so}
PAM_RUN=$HERE/pam-run.sh

# shellcheck source=tests/testlib.sh
. "$HERE/../testlib.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"

# NTLMD and PAM_NTLM_SO set (99 otherwise), pamtester, pam_wrapper
# (PWRAP), pam_exec and pam_permit (PAM_EXEC, PAM_PERMIT), Python with
# python3-ntlm-auth, root, unshare.
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
    require_python ntlm_auth Cryptodome
    [ "$(id -u)" -eq 0 ] || skip_or_fail "root (ntlmd's root-only requests, the mount namespace)"
    command -v unshare >/dev/null 2>&1 || skip_or_fail "unshare (util-linux)"
    # The programs that load the module (pamtester) are not built with the
    # sanitizers: when the module is (--enable-sanitizers), their runtimes
    # must be loaded first.
    PRELOAD=$PWRAP
    # ASan resolves the functions it intercepts when it starts: libcrypt,
    # which pam_unix brings in later by dlopen, must be there already, or
    # ASan's crypt_r calls a null pointer (a SEGV in pam_unix)
    if ldd "$PAM_NTLM_SO" 2>/dev/null | grep -q 'libasan\.so'; then
        path=$(ldd "$(dirname "$PAM_EXEC")/pam_unix.so" 2>/dev/null | sed -n 's|^[[:space:]]*libcrypt\.so[^ ]* => \([^ ]*\) .*|\1|p')
        [ -n "$path" ] && PRELOAD="$path $PRELOAD"
    fi
    for lib in ubsan asan; do # asan must come first
        path=$(ldd "$PAM_NTLM_SO" 2>/dev/null | sed -n "s|^[[:space:]]*lib$lib\.so[^ ]* => \([^ ]*\) .*|\1|p")
        [ -n "$path" ] && PRELOAD="$path $PRELOAD"
    done
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 # pamtester's own allocations
    export ASAN_OPTIONS
}

# pam_cleanup: the trap of pam_setup: stops ntlmd and every PID in
# PAM_PIDS (resumed first: a test may have stopped one), removes WORK
# unless KEEP is set.
DAEMON_PID=""
PAM_PIDS=""
pam_cleanup() {
    for pid in $DAEMON_PID $PAM_PIDS; do
        kill -CONT "$pid" 2>/dev/null
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ -n "${WORK:-}" ] && [ -d "$WORK" ] && [ -z "${KEEP:-}" ]; then
        rm -rf "$WORK"
    fi
}

# pam_setup NAME: the temporary directory of test NAME, the paths in it,
# the accounts of pam_driver.py in HASHES, and the mount namespace of
# pam-run.sh (checked once: 99 when it cannot be made). A caller with its
# own cleanup sets its trap after this.
pam_setup() {
    trap pam_cleanup EXIT
    trap 'exit 1' HUP INT TERM
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/pam-ntlm-$1.XXXXXX") || exit 99
    chmod 0755 "$WORK" # nobody reaches the socket and the service files
    SOCKET=$WORK/run/socket
    HASHES=$WORK/smbpasswd
    CONF=$WORK/ntlmd.conf
    LOG=$WORK/ntlmd.log
    ALL_OUTPUT=$WORK/all-output
    PAMD=$WORK/pam.d
    mkdir "$PAMD" "$WORK/modules" "$WORK/run"
    : >"$ALL_OUTPUT"
    "$PY" -B "$DRIVER" write-hashes "$HASHES" || exit 99
    ln -s "$(cd "$(dirname "$PAM_NTLM_SO")" && pwd)/$(basename "$PAM_NTLM_SO")" "$WORK/modules/pam_ntlm.so"
    PAM_RUN_MODULES=$WORK/modules
    PAM_RUN_SYSMODS=$(dirname "$PAM_EXEC")
    PAM_RUN_PRELOAD=$PRELOAD
    PAM_RUN_ETC=""
    export PAM_RUN_MODULES PAM_RUN_SYSMODS PAM_RUN_PRELOAD PAM_RUN_ETC PAMD
    if ! "$PAM_RUN" test -L "$PAM_RUN_SYSMODS/pam_ntlm.so" 2>"$WORK/pam-run.err"; then
        echo "ERROR: pam-run.sh: no private mount namespace: $(cat "$WORK/pam-run.err")" >&2
        exit 99
    fi
}

# pam_files_conf [LINES...]: ntlmd's configuration in CONF: the files
# store HASHES, socket SOCKET, lockout off (the tests that count failures
# turn it on in a service block), then LINES.
# shellcheck disable=SC2120 # LINES are optional
pam_files_conf() {
    {
        echo "# ntlmd configuration of $(basename "$0")"
        {
            echo "read_timeout      5000"
            echo "lockout_threshold 0"
            printf '%s\n' "$@"
        } | ntlmd_conf "$SOCKET" "$HASHES"
    } >"$CONF"
}

# pam_start_ntlmd: starts ntlmd -d on CONF (its output in LOG) and waits
# until it answers on SOCKET (tests/lib/ntlmd.sh); sets DAEMON_PID.
pam_start_ntlmd() {
    ntlmd_start "$CONF" "$LOG" "$SOCKET" || exit 99
    DAEMON_PID=$NTLMD_PID
}

# wait_socket PATH [PID]: waits up to WAIT seconds for the socket PATH
# (while PID lives): the test's own servers that are not ntlmd.
wait_socket() {
    tries=$((WAIT * 10))
    while [ ! -S "$1" ] && [ "$tries" -gt 0 ] && { [ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null; }; do
        tries=$((tries - 1))
        sleep 0.1
    done
}

# service NAME LINES...: writes a test's own service file.
service() {
    name=$1
    shift
    printf '%s\n' "$@" >"$PAMD/$name"
}

# pam_shipped NAME...: copies etc/pam.d/NAME (as installed) into PAMD with
# two changes on each line of the module and nothing else (checked: 99
# otherwise): its installed path INSTALLED_PAM_NTLM becomes "pam_ntlm.so",
# which pam-run.sh's namespace resolves to the built module, and
# " socket=SOCKET" is appended. The runs of NAME are then checked by
# shipped_check.
SHIPPED=""
pam_shipped() {
    for name in "$@"; do
        [ -f "$ETC_PAMD/$name" ] || {
            echo "ERROR: no shipped pam.d/$name in $ETC_PAMD (make check generates it)" >&2
            exit 99
        }
        awk -v sock="$SOCKET" -v mod="$INSTALLED_PAM_NTLM" \
            '!/^[[:space:]]*#/ && $3 == mod { sub(mod, "pam_ntlm.so"); print $0 " socket=" sock; next } { print }' \
            "$ETC_PAMD/$name" >"$PAMD/$name" || exit 99
        if ! grep -q " pam_ntlm.so .*socket=$SOCKET\$" "$PAMD/$name" ||
            [ "$(sed -E -e "s| socket=$SOCKET\$||" -e "/^[[:space:]]*#/!s# pam_ntlm\.so( |\$)# $INSTALLED_PAM_NTLM\1#" "$PAMD/$name" |
                cmp - "$ETC_PAMD/$name" && echo same)" != same ]; then
            echo "ERROR: the copy of pam.d/$name differs from it by more than the module path and socket=" >&2
            exit 99
        fi
        SHIPPED="$SHIPPED $name "
    done
}

# disagreement: the lines of the last output in which the module refused
# a module argument or libpam could not load a module (none: status 1).
disagreement() {
    printf '%s\n' "$OUT" | grep -E 'unknown option "|": invalid value ignored|empty module argument ignored|applies only with migrate|try_first_pass together|unable to dlopen|adding faulty module'
}

# shipped_check SERVICE: when SERVICE is a shipped file, a failure when
# the last output shows a disagreement with the module.
shipped_check() {
    case $SHIPPED in
    *" $1 "*) ;;
    *) return 0 ;;
    esac
    if bad=$(disagreement); then
        fail "etc/pam.d/$1 as shipped disagrees with the module: $(printf '%s\n' "$bad" | head -3 | tr '\n' '|')"
    fi
}

# pam_unix_user NAME UID PASSWORD: a Unix user NAME (uid and gid UID) in
# the private /etc of pam-run.sh, for pam_unix (SHA-512 crypt of PASSWORD,
# given to openssl on its stdin); PAM_RUN_ETC is set on the first call.
# /etc/shadow there holds the test's users only.
pam_unix_user() {
    if [ -z "$PAM_RUN_ETC" ]; then
        PAM_RUN_ETC=$WORK/etc
        mkdir -p "$PAM_RUN_ETC/upper" "$PAM_RUN_ETC/work"
        cp /etc/passwd "$PAM_RUN_ETC/upper/passwd"
        : >"$PAM_RUN_ETC/upper/shadow"
        chmod 0600 "$PAM_RUN_ETC/upper/shadow"
        export PAM_RUN_ETC
    fi
    crypted=$(printf '%s\n' "$3" | openssl passwd -6 -stdin) || exit 99
    echo "$1:x:$2:$2:pam test user:/nonexistent:/usr/sbin/nologin" >>"$PAM_RUN_ETC/upper/passwd"
    echo "$1:$crypted:19000:0:99999:7:::" >>"$PAM_RUN_ETC/upper/shadow"
}

# A stand-in for pam_unix in the tests' own services: pam_exec with
# expose_authtok asks for the password, sets PAM_AUTHTOK and runs
# $UNIX_CHECK, which accepts the password kept in $WORK/unix-password.
# pam_exec's pam_setcred returns PAM_IGNORE, pam_unix's PAM_SUCCESS: a
# service with migrate ends with "auth optional $PAM_PERMIT", so that
# pam_setcred succeeds as after pam_unix (migrate's own pam_setcred never
# changes the outcome).
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

# ran SERVICE: after a run of SERVICE, its output to ALL_OUTPUT and the
# shipped file check.
ran() {
    printf '%s\n' "$OUT" >>"$ALL_OUTPUT"
    shipped_check "$1"
}

# pt SERVICE USER INPUT OPERATION...: runs pamtester (pam-run.sh) with
# INPUT on stdin; sets OUT (stdout and stderr, syslog lines included) and
# RC. PAM_RHOST is $RHOST when set.
RHOST=""
pt() {
    svc=$1
    user=$2
    input=$3
    shift 3
    OUT=$(printf '%s' "$input" | timeout 60 "$PAM_RUN" "$PAMTESTER" ${RHOST:+-I "rhost=$RHOST"} "$svc" "$user" "$@" 2>&1)
    RC=$?
    ran "$svc"
}

# As pt, as the user nobody (setpriv inside the namespace: it mounts as root).
pt_nobody() {
    svc=$1
    user=$2
    input=$3
    shift 3
    mkdir -p "$WORK/nobody-tmp" && chown nobody "$WORK/nobody-tmp"
    OUT=$(printf '%s' "$input" | timeout 60 "$PAM_RUN" setpriv --reuid=nobody --regid=nogroup --clear-groups \
        env TMPDIR="$WORK/nobody-tmp" "$PAMTESTER" "$svc" "$user" "$@" 2>&1)
    RC=$?
    ran "$svc"
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
        "$PAM_RUN" "$PAMTESTER" "$svc" "" authenticate acct_mgmt 2>&1)
    RC=$(printf '%s\n' "$OUT" | sed -n 's/^result=.* status=\([0-9a-z]*\) .*/\1/p')
    [ -n "$RC" ] || RC=255
    [ "$RC" = killed ] && RC=254
    ran "$svc"
}

# hash_is USER PASSWORD: USER's NT hash in HASHES is NT(PASSWORD).
hash_is() {
    printf '%s\n' "$2" | "$PY" -B "$DRIVER" hash-is "$HASHES" "$1"
}

# expect_hash NAME USER PASSWORD: one case: USER's NT hash in HASHES is
# NT(PASSWORD).
expect_hash() {
    if hash_is "$2" "$3"; then
        pass "$1"
    else
        fail "$1 (another NT hash in the store for $2): $(last)"
    fi
}

# verify_input USER PASSWORD [options]: the three lines pamtester reads in
# verify mode (pam_driver.py verify-input).
verify_input() {
    vuser=$1
    vpassword=$2
    shift 2
    printf '%s\n' "$vpassword" | "$PY" -B "$DRIVER" verify-input "$vuser" "$@"
}

# has TEXT: the last output holds TEXT; has_line LINE: a line that is LINE.
has() {
    printf '%s\n' "$OUT" | grep -qF -- "$1"
}
has_line() {
    printf '%s\n' "$OUT" | grep -qxF -- "$1"
}

# last: the last lines of the output, for a failure message (backslashes
# doubled: fail's echo would take them for escapes)
last() {
    printf '%s\n' "$OUT" | grep -v PWRAP_DEBUG | tail -4 | tr '\n' '|' | sed 's/\\/\\\\/g'
}

# secrets_absent SECRET...: one case: no SECRET (case aside, for hex
# hashes) in ALL_OUTPUT, LOG or the files of SECRET_FILES.
SECRET_FILES=""
secrets_absent() {
    leaked=""
    for secret in "$@"; do
        # shellcheck disable=SC2086 # SECRET_FILES: paths without spaces
        if grep -qiF -- "$secret" "$ALL_OUTPUT" "$LOG" $SECRET_FILES; then
            leaked="$leaked $secret"
        fi
    done
    if [ -z "$leaked" ]; then
        pass "no password or NT hash in any output of a PAM application or in ntlmd's log"
    else
        fail "secrets leaked:$leaked"
    fi
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
    CRED_OK="pamtester: credential info has successfully been set."
    AUTH_ERR="Authentication failure"
    UNKNOWN="User not known to the underlying authentication module"
    EXPIRED="User account has expired"
    MAXTRIES="Have exhausted maximum number of retries for service"
    NEWTOK="Authentication token is no longer valid; new one required"
    UNAVAIL="Authentication service cannot retrieve authentication info"
    ACCT_OK="pamtester: account management done"
    PERM="Permission denied"
}
