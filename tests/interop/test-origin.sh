#!/bin/sh
# examples/ntlm-http-origin.py over the project's ntlm_auth
# (squid-2.5-ntlmssp) and a private ntlmd (files store, lockout_threshold 3):
# the fixes of the attack review's F6-F8 (origin_driver.py, python3-ntlm-auth
# as the client):
#   - the client address follows each token: 3 wrong passwords from
#     127.0.0.3 lock alice there only, and ntlmd's audit names the address;
#   - --max-handshakes 2: a third NEGOTIATE gets 503 and a closed connection,
#     never more than 2 helper processes;
#   - the request log escapes control characters (ESC, CR, C1);
#   - the right password gets 200 and the handshake's helper ends with the
#     verdict.
# The lockout case runs last: on a server without the address its guesses
# would lock alice for the other cases too.
# Needs: NTLMD, NTLM_AUTH (make check sets them). NTLM_HTTP_ORIGIN names
# another origin server script to test (default: the one in examples/).
set -u
# shellcheck source=tests/interop/common.sh
. "${INTEROP_DIR:-$(dirname "$0")}/common.sh"
HERE=$INTEROP_DIR
# shellcheck source=tests/testlib.sh
. "$INTEROP_DIR/../testlib.sh"
# shellcheck source=tests/lib/ntlmd.sh
. "$TESTS_LIB/ntlmd.sh"
ORIGIN=${NTLM_HTTP_ORIGIN:-$INTEROP_DIR/../../examples/ntlm-http-origin.py}
if [ -z "${NTLMD:-}" ] || [ ! -x "$NTLMD" ] || [ -z "${NTLM_AUTH:-}" ] || [ ! -x "$NTLM_AUTH" ]; then
    echo "ERROR: set NTLMD and NTLM_AUTH (make check does)" >&2
    exit 99
fi
[ -f "$ORIGIN" ] || { echo "ERROR: no origin server $ORIGIN" >&2; exit 99; }
require_python_module ntlm_auth python3-ntlm-auth
require_python_module Cryptodome python3-pycryptodome
start=$(date +%s.%N)
make_work_dir
chmod 0755 "$WORK_DIR"

HASHES=$WORK_DIR/smbpasswd
make_hash_file "$HASHES" || exit 99
SOCKET=$WORK_DIR/run/socket
NTLMD_LOG=$WORK_DIR/ntlmd.log
# the helpers run as this test's user: allow_users makes it a privileged caller
ntlmd_conf "$SOCKET" "$HASHES" >"$WORK_DIR/ntlmd.conf" <<EOC
allow_users        $(id -u)
lockout_threshold  3
EOC
ntlmd_start "$WORK_DIR/ntlmd.conf" "$NTLMD_LOG" "$SOCKET" || exit 99
BG_PIDS="$BG_PIDS $NTLMD_PID"
# the libtool wrapper builds its real binary on first use
"$NTLM_AUTH" --version >/dev/null || exit 99

# start_origin NAME [OPTION...]: the origin server with our helper; sets
# PORT and SERVER_PID, or returns 1 (its stderr shown) when it did not start.
start_origin() {
    name=$1
    shift
    "$PY" -B "$ORIGIN" --port-file "$WORK_DIR/$name.port" "$@" -- \
        "$NTLM_AUTH" --helper-protocol=squid-2.5-ntlmssp --ntlmd-socket="$SOCKET" \
        >"$WORK_DIR/$name.out" 2>"$WORK_DIR/$name.err" &
    SERVER_PID=$!
    BG_PIDS="$BG_PIDS $SERVER_PID"
    if ! wait_for_file "$WORK_DIR/$name.port" "$SERVER_PID" 2>/dev/null; then
        echo "origin server '$name' did not start: $(head -c 600 "$WORK_DIR/$name.err")"
        return 1
    fi
    PORT=$(cat "$WORK_DIR/$name.port")
    echo "origin server '$name' on 127.0.0.1:$PORT (pid $SERVER_PID)${*:+, $*}"
}

driver() {
    run_counted 60 "$PY" -B "$INTEROP_DIR/origin_driver.py" "$@"
}

if start_origin main; then
    MAIN_PORT=$PORT MAIN_PID=$SERVER_PID
else
    exit 99
fi
driver full --port "$MAIN_PORT" --server-pid "$MAIN_PID" --out "$WORK_DIR/main.out"

if start_origin limit --max-handshakes 2; then
    driver limit --port "$PORT" --server-pid "$SERVER_PID"
else
    fail "origin: --max-handshakes 2: the server did not start"
fi

if start_origin hold --max-handshakes-per-address 2 --handshake-timeout 1; then
    driver hold --port "$PORT" --server-pid "$SERVER_PID"
else
    fail "origin: --max-handshakes-per-address 2: the server did not start"
fi

driver inject --port "$MAIN_PORT" --out "$WORK_DIR/main.out" --err "$WORK_DIR/main.err"
driver lockout --port "$MAIN_PORT" --ntlmd-log "$NTLMD_LOG"

echo "origin: $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
