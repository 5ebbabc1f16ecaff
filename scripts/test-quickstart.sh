#!/bin/bash
# test-quickstart.sh: runs README's quick start exactly: the command lines
# between "<!-- quickstart:begin -->" and "<!-- quickstart:end -->" in
# README.md, at most ten, one after the other in one shell, from the top of
# the repository, as root. They install the packages in build/debs
# (scripts/build-debs.sh; CI: scripts/test-packages.sh made them), add a
# user, start ntlmd, give Debian's Squid the shipped example and fetch a
# page through it with curl --proxy-ntlm on loopback. Then it checks that
# the last line printed 200, that a wrong password gets 407, and that
# Squid's access.log names the user, and it undoes everything: Squid, the
# page server and ntlmd stopped (by their process ids), the example taken
# out of /etc/squid/conf.d, the packages purged.
#
# Nothing in the commands is substituted: Squid listens on its default
# port, 3128, and the page server on 8000; both must be free (in CI a
# taken port fails the test, elsewhere it skips). No squid may run already.
# One line per case, then "N passed, M failed"; exit 1 on any failure.
# Usage: scripts/test-quickstart.sh
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
# the drivers' Python libraries (tests/lib, tests/interop) on PYTHONPATH,
# as make check puts them
export TESTS_LIB="$top/tests/lib"
# shellcheck source=tests/testlib.sh
. "$top/tests/testlib.sh"

PACKAGES="libntlmssp0 libntlmssp-dev ntlmd libpam-ntlm ntlm-auth-helper"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/test-quickstart.XXXXXX")
T0=$(date +%s)
BG_PIDS=""
SQUID_CONF_D=/etc/squid/conf.d/ntlm_auth.conf

[ "$(id -u)" -eq 0 ] || { echo "test-quickstart: run as root (it installs packages)" >&2; exit 1; }
ls "$top"/build/debs/ntlmd_*.deb >/dev/null 2>&1 ||
	{ echo "test-quickstart: no packages in build/debs (scripts/build-debs.sh)" >&2; exit 1; }
for port in 3128 8000; do
	if ss -Hltn "sport = :$port" | grep -q .; then skip_or_fail "a free port $port (taken: $(ss -Hltnp "sport = :$port"))"; fi
done
if [ -s /run/squid.pid ] && kill -0 "$(cat /run/squid.pid)" 2>/dev/null; then
	skip_or_fail "no running squid (pid $(cat /run/squid.pid))"
fi
if [ -e "$SQUID_CONF_D" ]; then
	echo "test-quickstart: $SQUID_CONF_D exists already" >&2
	exit 1
fi
for p in $PACKAGES; do
	case $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) in
	"" | "un ") ;;
	*) echo "test-quickstart: $p is installed; purge it first (dpkg --purge $PACKAGES)" >&2 && exit 1 ;;
	esac
done

# the processes running /usr/sbin/ntlmd (the installed daemon)
installed_ntlmd() {
	for d in /proc/[0-9]*; do
		[ "$(readlink "$d/exe" 2>/dev/null)" = /usr/sbin/ntlmd ] && echo "${d#/proc/}"
	done
}
NTLMD_BEFORE=$(installed_ntlmd | tr '\n' ' ')

cleanup() {
	# Squid: SIGINT to the master, its immediate shutdown (SIGTERM would
	# wait shutdown_lifetime, 30 s)
	if [ -s /run/squid.pid ]; then
		spid=$(cat /run/squid.pid)
		kill -INT "$spid" 2>/dev/null
		tries=100
		while kill -0 "$spid" 2>/dev/null && [ "$tries" -gt 0 ]; do
			tries=$((tries - 1))
			sleep 0.1
		done
	fi
	rm -f "$SQUID_CONF_D"
	for pid in $BG_PIDS $(installed_ntlmd); do
		case " $NTLMD_BEFORE " in *" $pid "*) continue ;; esac
		kill "$pid" 2>/dev/null
	done
	# shellcheck disable=SC2086
	dpkg --purge $PACKAGES >"$WORK/purge.log" 2>&1 || cat "$WORK/purge.log" >&2
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# ------------------------------------------------------------------ the commands

awk '/^<!-- quickstart:begin -->$/ { p = 1; next } /^<!-- quickstart:end -->$/ { p = 0 } p' "$top/README.md" |
	sed '/^```/d; /^[[:space:]]*$/d' >"$WORK/commands"
n=$(wc -l <"$WORK/commands")
if [ "$n" -ge 1 ] && [ "$n" -le 10 ]; then
	pass "README's quick start has $n commands (at most ten)"
else
	fail "README's quick start has $n commands between its markers"
	echo "$PASSED passed, $FAILED failed"
	exit 1
fi

cd "$top" || exit 99
export DEBIAN_FRONTEND=noninteractive
i=0
ok=yes
while IFS= read -r line <&3; do
	i=$((i + 1))
	echo "# $i: $line"
	start=$(date +%s)
	# in this shell: a line ending in & leaves its process in $!
	eval "$line" >"$WORK/out.$i" 2>"$WORK/err.$i" </dev/null
	rc=$?
	case $line in
	*"&") BG_PIDS="$BG_PIDS $!" ;;
	esac
	cat "$WORK/out.$i" "$WORK/err.$i" | sed 's/^/#    /' | tail -n 5
	if [ "$rc" -eq 0 ]; then
		pass "command $i exits 0 ($(($(date +%s) - start)) s)"
	else
		fail "command $i exits $rc: $(cat "$WORK/out.$i" "$WORK/err.$i" | tail -n 20)"
		ok=no
		break
	fi
done 3<"$WORK/commands"

# ------------------------------------------------------------------ the checks

LAST=$(tail -n 1 "$WORK/commands")
if [ "$ok" = yes ] && [ "$(cat "$WORK/out.$n")" = 200 ]; then
	pass "the last command (curl --proxy-ntlm through Squid) prints 200 on its standard output"
else
	fail "the last command printed '$(cat "$WORK/out.$n" 2>/dev/null)', expected 200"
fi
# the same request with a wrong password
WRONG=$(printf '%s\n' "$LAST" | sed "s/-U '\\([^:]*\\):[^']*'/-U '\\1:Wrong-pass1'/")
if [ "$WRONG" != "$LAST" ] && [ "$(eval "$WRONG" 2>/dev/null)" = 407 ]; then
	pass "the same curl with a wrong password prints 407"
else
	fail "a wrong password: '$(eval "$WRONG" 2>&1)'"
fi
USER=$(printf '%s\n' "$LAST" | sed -n "s/.*-U '\\([^:]*\\):.*/\\1/p")
if grep -q " TCP_MISS/200 .* $USER HIER_DIRECT/127.0.0.1 " /var/log/squid/access.log 2>/dev/null; then
	pass "Squid's access.log names $USER for the 200"
else
	fail "Squid's access.log: $(tail -n 3 /var/log/squid/access.log 2>&1)"
fi
if [ -n "$(installed_ntlmd)" ]; then
	pass "the installed ntlmd ran (pid $(installed_ntlmd | tr '\n' ' '))"
else
	fail "no /usr/sbin/ntlmd process"
fi

echo "# $(($(date +%s) - T0)) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
