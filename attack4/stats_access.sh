#!/bin/sh
# attack4/stats_access.sh: who may ask STATS of a real ntlmd, and what its
# reply carries after logons with hostile names (a line feed, a quote, an
# ESC, a backslash in the user and domain names typed by a client).
# Run as root: attack4/stats_access.sh
. "$(dirname "$0")/lib.sh"
start_directory
chmod o+x "$(dirname "$WORK")" "$WORK"
start_ntlmd a <<EOC
allow_users proxy
EOC
chmod 755 "$WORK/run-a"
S=$(sock a)
for typed in 'lalice' "$(printf 'evil\nntlmd_injected 1')" 'x"y\z' "$(printf 'e\033[2Jx')" "$(head -c 2000 /dev/zero | tr '\0' A)" "$(printf 'bidi\342\200\256x')"; do
    logon "$S" "$typed" wrong 192.0.2.7 >/dev/null 2>&1
done
setpriv --reuid=nobody --regid=nogroup --clear-groups "$NTLMTOOL" stats --socket "$S" >"$WORK/nobody.out" 2>"$WORK/nobody.err"
rc=$?
echo "# as nobody (not in allow_users): exit $rc: $(head -c 200 "$WORK/nobody.err")"
check "STATS refused to an unprivileged uid (exit 1, nothing on stdout)" [ "$rc" -eq 1 ] && [ ! -s "$WORK/nobody.out" ]
setpriv --reuid=proxy --regid=proxy --clear-groups "$NTLMTOOL" stats --socket "$S" --prometheus >"$WORK/proxy.prom" 2>&1
check "STATS answered to allow_users (proxy)" [ $? -eq 0 ]
"$NTLMTOOL" stats --socket "$S" --json >"$WORK/root.json"
"$NTLMTOOL" stats --socket "$S" >"$WORK/root.txt"
no_names() { ! grep -q 'evil\|injected\|x"y\|lalice\|AAAAAAAA\|bidi' "$WORK/proxy.prom" "$WORK/root.json" "$WORK/root.txt"; }
check "no name a client typed reaches any form of STATS" no_names
no_secret() { ! grep -qi "$("$PY" -B "$LDAP_DRIVER" nthash lalice)" "$WORK/proxy.prom" "$WORK/root.json" "$WORK/root.txt"; }
check "no NT hash in STATS" no_secret
wc -c "$WORK/proxy.prom" "$WORK/root.json" "$WORK/root.txt" | sed 's/^/# /'
ls -l "$WORK/proxy.prom" | sed 's/^/# /'
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
