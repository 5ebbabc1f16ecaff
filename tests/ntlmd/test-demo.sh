#!/bin/sh
# The README's demo as a test: ntlm-demo starts a real ntlmd (files backend)
# and verifies NTLMv2+MIC+CB, wrong-password and NTLMv1 exchanges built by
# libntlmssp's initiator through it. Then no log may hold the demo hash.
set -eu
: "${NTLMD:?set by tests/Makefile.am}" "${NTLM_DEMO:?set by tests/Makefile.am}" "${NTLMTOOL:?}"
dir=$(mktemp -d /tmp/test-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT

"$NTLM_DEMO" "$NTLMD" "$dir/demo" >"$dir/out.txt" 2>&1 || {
	cat "$dir/out.txt"
	echo "1 passed, 1 failed"
	exit 1
}
grep -q 'all three outcomes as expected' "$dir/out.txt"
echo "PASS: demo through ntlmd: NTLMv2 accepted, wrong password and NTLMv1 refused"

hash=$(printf 'Demo-Passw0rd\n' | "$NTLMTOOL" hash - | awk '{print $NF}' | tail -n 1)
[ ${#hash} -eq 32 ] || { echo "FAIL: ntlmtool hash gave '$hash'"; echo "1 passed, 1 failed"; exit 1; }
lower=$(printf '%s' "$hash" | tr 'A-F' 'a-f')
upper=$(printf '%s' "$hash" | tr 'a-f' 'A-F')
if grep -rq -e "$lower" -e "$upper" -e 'Demo-Passw0rd' "$dir/out.txt" "$dir/demo/ntlmd.log" "$dir/demo/audit.json"; then
	echo "FAIL: the demo hash or password appears in a log"
	echo "1 passed, 1 failed"
	exit 1
fi
grep -q "$upper" "$dir/demo/smbpasswd" # the hash file itself does hold it: the check above can fail
echo "PASS: no log holds the demo hash or password"
echo "2 passed, 0 failed"
