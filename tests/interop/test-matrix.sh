#!/bin/bash
# test-matrix.sh: the real-client matrix of issue 14 (tests/interop/matrix.py).
# Starts a real ntlmd (files backend, the matrix accounts) and, when it can,
# a private winbindd with the same accounts (bench/lib-samba.sh), installs
# the npm clients into the build tree (scripts/install-npm-clients.sh), and
# runs every client against our servers and Samba's. Prints one MATRIX line
# per client and case, then "N passed, M failed".
# Needs: TEST_ACCEPTOR, NTLMD, NTLM_AUTH (make check sets them); root.
set -u
. "${INTEROP_DIR:-$(dirname "$0")}/common.sh"
HERE=$INTEROP_DIR
# shellcheck source=tests/testlib.sh
. "$INTEROP_DIR/../testlib.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"
SRC_TOP=$(cd "$INTEROP_DIR/../.." && pwd)
find_acceptor
if [ -z "${NTLMD:-}" ] || [ ! -x "$NTLMD" ] || [ -z "${NTLM_AUTH:-}" ] || [ ! -x "$NTLM_AUTH" ]; then
    echo "ERROR: set NTLMD and NTLM_AUTH (make check does)" >&2
    exit 99
fi
[ "$(id -u)" -eq 0 ] || missing "root (ntlmd answers privileged callers only)"
require_python_module Cryptodome python3-pycryptodome
make_work_dir
chmod 0755 "$WORK_DIR"
BUILD_INTEROP=$(cd "$(dirname "$TEST_ACCEPTOR")" && pwd)

HASHES=$WORK_DIR/smbpasswd
"$PY" -B "$INTEROP_DIR/matrix.py" write-hashes "$HASHES" || exit 99

# ntlmd: the default policy (ntlmv2-only) for service "matrix"; "legacy"
# permits NTLMv1 for the clients that make nothing else
SOCKET=$WORK_DIR/run/socket
ntlmd_conf "$SOCKET" "$HASHES" >"$WORK_DIR/ntlmd.conf" <<EOC
lockout_threshold  0

allow_groups       proxy

service matrix
	user_name_format user

service legacy
	ntlm_auth        ntlmv1-permitted
	user_name_format user
EOC
ntlmd_start "$WORK_DIR/ntlmd.conf" "$WORK_DIR/ntlmd.log" "$SOCKET" || exit 99
BG_PIDS="$BG_PIDS $NTLMD_PID"
# the libtool wrapper builds its real binary on first use
"$NTLM_AUTH" --version >/dev/null || exit 99

# Samba: a private winbindd whose passdb holds the same accounts. A
# standalone server's accounts are in the domain of its NetBIOS name: that
# name is TESTDOM, the domain every client sends (its workgroup is another).
SAMBA_ARGS=()
# shellcheck source=bench/lib-samba.sh
. "$SRC_TOP/bench/lib-samba.sh"
# shellcheck disable=SC2317 # run by the EXIT trap
samba_cleanup() {
    samba_stop
    interop_cleanup
}
trap samba_cleanup EXIT
if reason=$(samba_check); then
    S=$WORK_DIR/samba
    mkdir -p "$S"
    alice_pw=$("$PY" -B "$INTEROP_DIR/matrix.py" password alice)
    # proxy: Squid's helpers (cntlm's parent proxy) reach winbindd's privileged pipe
    if samba_start "$S" alice 1000 "$alice_pw" TESTDOM MATRIXWG proxy >"$WORK_DIR/samba-start.log" 2>&1; then
        # the other accounts: in the namespace's /etc/passwd (a bind mount
        # of $S/passwd), then in tdbsam, the password on pdbedit's stdin
        for user in $("$PY" -B "$INTEROP_DIR/matrix.py" users); do
            [ "$user" = alice ] && continue
            uid=$("$PY" -B "$INTEROP_DIR/matrix.py" uid "$user")
            echo "$user:x:$uid:$uid:matrix:/nonexistent:/usr/sbin/nologin" >>"$S/passwd"
            "$PY" -B "$INTEROP_DIR/matrix.py" password "$user" --twice --file "$S/private/pw-$uid"
            samba_exec pdbedit -s "$SAMBA_CONF" -a -t -u "$user" <"$S/private/pw-$uid" >>"$WORK_DIR/samba-start.log" 2>&1
            rm -f "$S/private/pw-$uid"
        done
        SAMBA_ARGS=(--samba-pid "$SAMBA_WINBINDD_PID" --samba-conf "$SAMBA_CONF")
    else
        echo "winbindd did not start: $(cat "$WORK_DIR/samba-start.log")"
        [ -n "${CI:-}" ] && exit 1
    fi
    unset alice_pw
else
    echo "Samba column: $reason"
    [ -n "${CI:-}" ] && exit 1
fi

NODE_DIR=$BUILD_INTEROP/node
"$SRC_TOP/scripts/install-npm-clients.sh" "$NODE_DIR" >"$WORK_DIR/npm.log" 2>&1 ||
    echo "npm clients not installed: $(tail -n 3 "$WORK_DIR/npm.log")"

start=$(date +%s)
"$PY" -B "$INTEROP_DIR/matrix.py" run --work "$WORK_DIR" --acceptor "$ACCEPTOR" --hashes "$HASHES" \
    --ntlm-auth "$NTLM_AUTH" --ntlmd-socket "$SOCKET" --ntlmd-log "$WORK_DIR/ntlmd.log" "${SAMBA_ARGS[@]}" \
    --node-modules "$NODE_DIR/node_modules" --go-cache "$BUILD_INTEROP/gocache" ${MATRIX_ONLY:+--only "$MATRIX_ONLY"}
status=$?
echo "matrix: $(($(date +%s) - start)) s"
if [ -n "${MATRIX_KEEP:-}" ]; then
    # debugging: keep the work directory (it holds the test passwords)
    echo "work directory kept: $WORK_DIR"
    WORK_DIR=""
fi
exit $status
