#!/bin/sh
# curl --ntlm (NTLMv2 without MIC; the VERSION flag set but no VERSION field)
# against a local HTTP server that authenticates through the libntlmssp
# acceptor, whose CHALLENGE has TargetInfo with MsvAvTimestamp, no
# TargetInfo, or TargetInfo without MsvAvTimestamp. Passwords reach curl through a netrc file, never its command line.
set -eu
. "${INTEROP_DIR:-$(dirname "$0")}/common.sh"
require_command curl
curl --version | grep -q 'NTLM' || missing "curl with NTLM support"
interop_setup

passed=0
failed=0
SERVER_PID=""
SERVER_NAME=""

# start_server NAME [ACCEPTOR OPTION...]: sets PORT and SERVER_PID.
start_server() {
    SERVER_NAME=$1
    shift
    "$PY" -B "$INTEROP_DIR/http_ntlm_server.py" --acceptor "$ACCEPTOR" --hashes "$HASHES" \
        --port-file "$WORK_DIR/$SERVER_NAME.port" -- "$@" \
        >"$WORK_DIR/$SERVER_NAME.out" 2>"$WORK_DIR/$SERVER_NAME.err" &
    SERVER_PID=$!
    BG_PIDS="$BG_PIDS $SERVER_PID"
    if ! wait_for_file "$WORK_DIR/$SERVER_NAME.port" "$SERVER_PID"; then
        cat "$WORK_DIR/$SERVER_NAME.err" >&2
        exit 99
    fi
    PORT=$(cat "$WORK_DIR/$SERVER_NAME.port")
    echo "server '$SERVER_NAME' on 127.0.0.1:$PORT${*:+ (acceptor options: $*)}"
}

# Stops the server; its exit status says whether the acceptor exited cleanly.
stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    status=0
    wait "$SERVER_PID" || status=$?
    BG_PIDS=""
    if [ "$status" -ne 0 ]; then
        echo "FAIL curl: server '$SERVER_NAME' exited with status $status:"
        sed 's/^/    /' "$WORK_DIR/$SERVER_NAME.err"
        failed=$((failed + 1))
    fi
}

# curl_case NAME HTTP_CODE VERDICT_REGEX BODY_REGEX [write-netrc OPTION...]
curl_case() {
    name=$1 want_code=$2 want_verdict=$3 want_body=$4
    shift 4
    "$PY" -B "$INTEROP_DIR/clients.py" write-netrc "$WORK_DIR/netrc" "$@"
    out=$WORK_DIR/$SERVER_NAME.out
    before=$(wc -l <"$out")
    code=$(curl -sS --max-time "$INTEROP_TIMEOUT" --ntlm --netrc-file "$WORK_DIR/netrc" \
        -o "$WORK_DIR/body" -w '%{http_code}' "http://127.0.0.1:$PORT/") || code="curl-error-$?"
    rm -f "$WORK_DIR/netrc"
    verdict=$(sed -n "$((before + 1)),\$p" "$out" | grep '^VERDICT ' | tail -n 1 || true)
    problems=""
    [ "$code" = "$want_code" ] || problems="$problems HTTP $code, wanted $want_code;"
    printf '%s\n' "$verdict" | grep -Eq "^VERDICT $want_verdict" ||
        problems="$problems acceptor verdict wanted /$want_verdict/;"
    grep -Eq "$want_body" "$WORK_DIR/body" 2>/dev/null ||
        problems="$problems body wanted /$want_body/;"
    if [ -z "$problems" ]; then
        passed=$((passed + 1))
        echo "PASS curl: $name: HTTP $code, ${verdict#VERDICT }"
    else
        failed=$((failed + 1))
        echo "FAIL curl: $name:$problems got HTTP $code, [${verdict#VERDICT }]"
    fi
}

start_server default
curl_case "NTLMv2 without MIC, good password, no domain" 200 \
    'OK user=alice domain= .*type=NTLMv2 mic=absent .*key=present' '^hello alice$' --user alice
curl_case "NTLMv2 without MIC, good password, domain TESTDOM" 200 \
    'OK user=alice domain=TESTDOM .*type=NTLMv2 mic=absent' '^hello alice$' --user alice --domain TESTDOM
curl_case "wrong password" 401 'FAIL STATUS_WRONG_PASSWORD 0xC000006A' 'access denied' \
    --user alice --wrong-password
curl_case "unknown user" 401 'FAIL STATUS_NO_SUCH_USER 0xC0000064' 'access denied' --user nosuchuser
curl_case "disabled user" 401 'FAIL STATUS_ACCOUNT_DISABLED 0xC0000072' 'access denied' --user bob
curl_case "disabled user, wrong password" 401 'FAIL STATUS_WRONG_PASSWORD' 'access denied' \
    --user bob --wrong-password
stop_server

start_server require-mic --require-mic
curl_case "no MIC while the policy requires one" 401 'FAIL STATUS_NTLM_MIC_MISSING' 'access denied' \
    --user alice
stop_server

# A CHALLENGE without TargetInfo: curl then sends an NTLMv2 blob whose AV
# list is empty (not even MsvAvEOL, MS-NLMP 2.2.2.7), which is legal
start_server no-target-info --no-target-info
curl_case "CHALLENGE without TargetInfo: NTLMv2 with an empty AV list, good password" 200 \
    'OK user=alice domain=TESTDOM .*type=NTLMv2' '^hello alice$' --user alice --domain TESTDOM
curl_case "CHALLENGE without TargetInfo, wrong password" 401 'FAIL STATUS_WRONG_PASSWORD' 'access denied' \
    --user alice --domain TESTDOM --wrong-password
stop_server

# TargetInfo without MsvAvTimestamp: no server time to echo, no skew check
start_server no-timestamp --no-timestamp
curl_case "CHALLENGE without MsvAvTimestamp, good password" 200 \
    'OK user=alice domain=TESTDOM .*type=NTLMv2' '^hello alice$' --user alice --domain TESTDOM
curl_case "CHALLENGE without MsvAvTimestamp, wrong password" 401 'FAIL STATUS_WRONG_PASSWORD' \
    'access denied' --user alice --domain TESTDOM --wrong-password
stop_server

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
