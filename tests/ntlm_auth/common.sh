# shellcheck shell=sh
# common.sh: sourced by the ntlm_auth tests. Starts a real ntlmd (files
# backend, tests/lib/ntlmd.sh) in a private directory with the test accounts
# of helper_driver.py, and gives the pass/fail counting, the bounded waits
# and the cleanup.
# Needs: NTLMD, NTLM_AUTH, SHIPPED_DIR and INSTALLED_NTLM_AUTH (the path the
# shipped examples name the helper by) (make check sets them). KEEP_WORK=1
# keeps the private directory (configs, logs) for a look after the run.

PY=/usr/bin/python3 # Debian's python3 sees python3-ntlm-auth and python3-impacket
HERE=$(cd "$(dirname "$0")" && pwd)
DRIVER=$HERE/helper_driver.py
WAIT=10 # seconds: bound of every wait

# shellcheck source=tests/testlib.sh
. "$HERE/../testlib.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"
WORK=""
PIDS=""


# Remembers a background process to stop at exit.
started() {
    PIDS="$PIDS $1"
}

cleanup() {
    for pid in $PIDS; do
        kill "$pid" 2>/dev/null
    done
    for pid in $PIDS; do
        wait "$pid" 2>/dev/null
    done
    remove_work
}

# Waits (bounded) until the command "$@" succeeds.
wait_until() {
    tries=$((WAIT * 10))
    until "$@" 2>/dev/null; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.1
    done
}

# Runs a driver, prints its case lines and adds its counts.
driver() { run_counted 300 "$@"; }

# The common prerequisites, and a private directory in $WORK.
setup() {
    if [ -z "${NTLMD:-}" ] || [ ! -x "$NTLMD" ] || [ -z "${NTLM_AUTH:-}" ] || [ ! -x "$NTLM_AUTH" ]; then
        echo "ERROR: set NTLMD and NTLM_AUTH (make check does)" >&2
        exit 99
    fi
    if [ -z "${INSTALLED_NTLM_AUTH:-}" ]; then
        echo "ERROR: set INSTALLED_NTLM_AUTH, \$(pkglibexecdir)/ntlm_auth (make check does)" >&2
        exit 99
    fi
    # ntlmd answers privileged callers only: root here
    [ "$(id -u)" -eq 0 ] || skip_or_fail "root (ntlmd's privileged requests)"
    require_python ntlm_auth Cryptodome
    trap cleanup EXIT
    trap 'exit 1' HUP INT TERM
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/ntlm_auth-test.XXXXXX") || exit 99
    chmod 0755 "$WORK"
}

# Starts ntlmd on $WORK/run/socket; extra configuration lines on stdin.
# With SHIPPED_SERVICES set, the service blocks are those of the shipped
# ntlmd.conf (etc/ntlmd.conf.in as installed); otherwise a "radius" service
# that permits NTLMv1.
start_ntlmd() {
    if [ -n "${SHIPPED_SERVICES:-}" ]; then
        SHIPPED_CONF=$(shipped ntlmd.conf) || exit 99
    fi
    SOCKET=$WORK/run/socket
    HASHES=$WORK/smbpasswd
    NTLMD_LOG=$WORK/ntlmd.log
    "$PY" -B "$DRIVER" write-hashes "$HASHES" || exit 99
    {
        cat <<EOC
allow_users        proxy nobody freerad
allow_groups       proxy nogroup freerad
lockout_threshold  0
EOC
        cat
        if [ -n "${SHIPPED_SERVICES:-}" ]; then
            # the service blocks of the shipped ntlmd.conf, verbatim
            echo
            sed -n '/^service /,$p' "$SHIPPED_CONF"
        else
            printf '\nservice radius\nntlm_auth          ntlmv1-permitted\n'
        fi
    } | ntlmd_conf "$SOCKET" "$HASHES" >"$WORK/ntlmd.conf"
    ntlmd_start "$WORK/ntlmd.conf" "$NTLMD_LOG" "$SOCKET" || exit 99
    started "$NTLMD_PID"
}
