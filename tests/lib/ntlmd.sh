# shellcheck shell=sh
# ntlmd.sh: a private ntlmd for the tests and the benchmarks (POSIX sh).
# Sourced after tests/testlib.sh (stop_pid, TESTS_LIB, PYTHONPATH). Needs
# NTLMD (the binary; make check sets it), and reads PY (default
# /usr/bin/python3) and WAIT (seconds, default 10). Everything it writes is
# in the files it is given.
#
# ntlmd_hashes FILE
#   the test accounts of ntlmd_driver.py (alice, bob, ...), mode 0600.
# ntlmd_useradd FILE USER UID PASSWORD
#   one account (flags UX) through "ntlmtool passwd" (NTLMTOOL).
# ntlmd_conf SOCKET HASHES [BACKENDS [NAME [DOMAIN]]]
#   on stdout: the lines every private ntlmd has (socket, hash_file,
#   backends BACKENDS (files), netbios_name NAME (TESTSRV), netbios_domain
#   DOMAIN (TESTDOM)), then the lines on stdin, which must not set those
#   keys again (a key set twice is a configuration error); service blocks
#   last.
# ntlmd_spawn CONF LOG [FLAG]
#   starts "$NTLMD FLAG -f CONF" (FLAG: -d, the default, or -F) in the
#   background, its output in LOG; sets NTLMD_PID.
# ntlmd_ready SOCKET [PID]
#   waits up to WAIT s until a PING on SOCKET is answered (not a socket
#   file, which may exist before it listens or after the daemon died); gives
#   up early when process PID ends.
# ntlmd_start CONF LOG SOCKET [FLAG]
#   ntlmd_spawn, then ntlmd_ready; when the daemon is not ready it is
#   stopped, its log goes to stderr after "ntlmd did not start:" and the
#   status is 1 (NTLMD_PID is then empty).
# ntlmd_stop
#   stops NTLMD_PID (TERM, then KILL after WAIT s) and empties it.

NTLMD_PID=""

ntlmd_py() {
    "${PY:-/usr/bin/python3}" -B "$TESTS_LIB/ntlmd_driver.py" "$@"
}

ntlmd_hashes() {
    ntlmd_py write-hashes "$1"
}

ntlmd_useradd() {
    printf '%s\n' "$4" | "$NTLMTOOL" passwd --file "$1" useradd "$2" --uid "$3" --flags UX --password - >/dev/null
}

ntlmd_conf() {
    cat <<EOF
socket             $1
hash_file          $2
backends           ${3:-files}
netbios_name       ${4:-TESTSRV}
netbios_domain     ${5:-TESTDOM}
EOF
    cat
}

ntlmd_spawn() {
    "$NTLMD" "${3:--d}" -f "$1" >"$2" 2>&1 &
    NTLMD_PID=$!
}

ntlmd_ready() {
    ntlmd_py wait-ready --socket "$1" --within "${WAIT:-10}" --pid "${2:-0}"
}

ntlmd_start() {
    ntlmd_spawn "$1" "$2" "${4:--d}"
    ntlmd_ready "$3" "$NTLMD_PID" && return 0
    stop_pid "$NTLMD_PID"
    NTLMD_PID=""
    {
        echo "ntlmd did not start:"
        cat "$2"
    } >&2
    return 1
}

ntlmd_stop() {
    stop_pid "$NTLMD_PID"
    NTLMD_PID=""
}
