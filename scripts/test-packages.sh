#!/bin/bash
# test-packages.sh: the Debian packages (debian/) on this machine, as an admin
# gets them:
#  1. builds them once (scripts/build-debs.sh, DEB_BUILD_OPTIONS=nocheck
#     unless set: the test suite runs apart) into build/debs, or takes them
#     from --debs DIR;
#  2. lintian on the .changes (the five packages and their -dbgsym): no
#     error and no warning (each one left is overridden in debian/ with its
#     reason); the informational tags are printed;
#  3. installs the five packages with apt-get, and checks what the postinst
#     did (the system user, the modes of /etc/ntlmd and /var/log/ntlmd, the
#     conffiles, the PAM configuration unchanged, ntlmd.socket enabled and
#     ntlmd.service not), systemd-analyze verify on the installed units, the
#     man pages, and a program built against libntlmssp-dev;
#  4. sets a demo user's password with the installed ntlmtool (from stdin),
#     starts the installed ntlmd under systemd-socket-activate with the
#     installed units' settings (systemd is not PID 1 here) and its
#     installed configuration as it is, and logs the user on through the
#     installed ntlm_auth, run as Squid runs it (user proxy, the options of
#     the installed Squid example) with python3-ntlm-auth as the client, and
#     through pamtester with the installed pam.d example ntlm-test;
#     then FreeRADIUS: README's lines ("FreeRADIUS with the installed
#     examples") on a copy of Debian's /etc/freeradius/3.0, freeradius -X
#     on it (user freerad, its default ports), and radtest MS-CHAP and PAP,
#     MS-CHAPv2 (tests/ntlm_auth/radius_client.py) and eapol_test
#     PEAP-MSCHAPv2 (tests/ntlm_auth/eapol.sh) through the installed
#     examples, ntlm_auth and ntlmd with /etc/ntlmd.conf as installed;
#  5. removes the packages (the conffiles stay), purges them, and compares
#     the file system with what it was before the install: nothing may be
#     left but the system user "ntlmd" (debian/README.Debian, "Purge").
# One line per case, then "N passed, M failed"; exit 1 on any failure.
# Needs root, on Debian 12 with scripts/install-deps.sh run; installs and
# purges packages on this machine (the five are purged first if installed).
# The FreeRADIUS cases need freeradius, freeradius-utils and eapoltest
# (install-deps.sh) and UDP ports 1812, 1813 and 18120 free: without them
# they are skipped, and fail in CI (CI set).
# Usage: scripts/test-packages.sh [--debs DIR]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
# the drivers' Python libraries (tests/lib, tests/interop) on PYTHONPATH,
# as make check puts them
export TESTS_LIB="$top/tests/lib"
# shellcheck source=tests/testlib.sh
. "$top/tests/testlib.sh"
# shellcheck source=tests/ntlm_auth/eapol.sh
. "$top/tests/ntlm_auth/eapol.sh"

DEBS=""
while [ $# -gt 0 ]; do
	case $1 in
	--debs) DEBS=$2 && shift 2 ;;
	*) echo "usage: $0 [--debs DIR]" >&2 && exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "test-packages: run as root (it installs packages)" >&2; exit 1; }

PACKAGES="libntlmssp0 libntlmssp-dev ntlmd libpam-ntlm ntlm-auth-helper"
PY=/usr/bin/python3 # Debian's, with python3-ntlm-auth (not a pyenv shim)
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/test-packages.XXXXXX")
chmod 0755 "$WORK"
DAEMON_PID=""
FR_PID=""
T0=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
APT="apt-get -o DPkg::Lock::Timeout=300 -y -q"

cleanup() {
	if [ -n "$FR_PID" ]; then
		kill "$FR_PID" 2>/dev/null
		wait "$FR_PID" 2>/dev/null
	fi
	if [ -n "$DAEMON_PID" ]; then
		kill "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	rm -f /etc/pam.d/ntlm-test.test-packages
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

phase() { echo "# $1 ($(($(date +%s) - T0)) s)"; }
installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null; }
check() { # name command...: one case, passing when the command succeeds
	name=$1
	shift
	if out=$("$@" 2>&1); then pass "$name"; else fail "$name: $out"; fi
}

# ------------------------------------------------------------------ 1. build

if [ -z "$DEBS" ]; then
	phase "building the packages (scripts/build-debs.sh)"
	DEBS=$top/build/debs
	DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck} "$top/scripts/build-debs.sh" "$DEBS" || exit 1
fi
DEBS=$(cd "$DEBS" && pwd)
FILES=""
for p in $PACKAGES; do
	f=$(ls "$DEBS/${p}_"*.deb 2>/dev/null | head -n 1)
	[ -n "$f" ] || { echo "test-packages: no ${p}_*.deb in $DEBS" >&2; exit 1; }
	FILES="$FILES $f"
done
VERSION=$(dpkg-deb -f "$DEBS/ntlmd_"*.deb Version)

# ------------------------------------------------------------------ 2. lintian

phase "lintian"
CHANGES=$(ls "$DEBS"/*.changes | head -n 1)
lintian --display-info --pedantic --tag-display-limit 0 "$CHANGES" >"$WORK/lintian.out" 2>&1
grep -v '^running with root privileges' "$WORK/lintian.out" | sed 's/^/# lintian: /'
errors=$(grep -c '^E: ' "$WORK/lintian.out")
warnings=$(grep -c '^W: ' "$WORK/lintian.out")
if [ "$errors" -eq 0 ] && [ "$warnings" -eq 0 ] && ! grep -q '^internal error' "$WORK/lintian.out"; then
	pass "lintian $(basename "$CHANGES"): no error, no warning ($(grep -c '^[IPX]: ' "$WORK/lintian.out") informational tags)"
else
	fail "lintian: $errors errors, $warnings warnings"
fi

# ------------------------------------------------------------------ 3. install

phase "installing $PACKAGES"
for p in $PACKAGES; do
	if [ -n "$(installed "$p")" ] && [ "$(installed "$p")" != "un " ]; then
		echo "# $p is on this machine already: purged first"
		# shellcheck disable=SC2086
		dpkg --purge $PACKAGES >"$WORK/prepurge.log" 2>&1 || { cat "$WORK/prepurge.log"; exit 1; }
		break
	fi
done

# The file system without its volatile parts: what other programs (apt,
# man-db, journald, the tests) write there, and this tree. Plain files at
# the top of / are left out too: on a shared build machine other jobs drop
# logs there while this test runs, and no package installs a file there.
snapshot() {
	find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /var/tmp \
		-o -path /var/cache -o -path /var/lib/apt -o -path /var/log/journal -o -path /root -o -path /home \
		-o -path /work -o -path "$top" -o -path "${TMPDIR:-/tmp}" \) -prune \
		-o \( -type f -regex '/[^/]*' \) -o -print 2>/dev/null | sort
}
snapshot >"$WORK/before"
pam_sums() { sha256sum /etc/pam.d/common-* /var/lib/pam/seen; }
pam_sums >"$WORK/pam.before"
USER_BEFORE=$(getent passwd ntlmd || true)

# shellcheck disable=SC2086
if $APT install --no-install-recommends $FILES >"$WORK/install.log" 2>&1; then
	pass "apt-get install of the five packages ($VERSION)"
else
	fail "apt-get install: $(tail -n 20 "$WORK/install.log")"
	echo "$PASSED passed, $FAILED failed"
	exit 1
fi

# the PAM configuration is the admin's: the profile is there, not enabled
if diff <(pam_sums | grep -v /var/lib/pam/seen) <(grep -v /var/lib/pam/seen "$WORK/pam.before") >/dev/null &&
	grep -qx 'Default: no' /usr/share/pam-configs/ntlm && ! grep -q pam_ntlm /etc/pam.d/common-*; then
	pass "libpam-ntlm leaves /etc/pam.d/common-* as they were; its profile /usr/share/pam-configs/ntlm says Default: no"
else
	fail "the PAM configuration changed on install: $(grep -l pam_ntlm /etc/pam.d/common-*)"
fi

# the postinst: user, directories, hash file
pw=$(getent passwd ntlmd)
uid=$(printf '%s' "$pw" | cut -d: -f3)
if [ -n "$pw" ] && [ "$uid" -lt 1000 ] && [ "$(printf '%s' "$pw" | cut -d: -f7)" = /usr/sbin/nologin ] &&
	getent group ntlmd >/dev/null; then
	pass "the system user and group ntlmd exist (uid $uid, no login shell)"
else
	fail "the system user ntlmd: '$pw'"
fi
stat_is() { # path "mode owner:group"
	actual=$(stat -c '%a %U:%G' "$1" 2>&1)
	if [ "$actual" = "$2" ]; then pass "$1: $2"; else fail "$1: $actual, expected $2"; fi
}
stat_is /etc/ntlmd "700 ntlmd:ntlmd"
stat_is /etc/ntlmd/smbpasswd "600 ntlmd:ntlmd"
stat_is /var/log/ntlmd "750 ntlmd:ntlmd"
stat_is /etc/ntlmd.conf "644 root:root"

conffiles=$(dpkg-query -W -f='${Conffiles}\n' ntlmd | awk 'NF { print $1 }' | sort | tr '\n' ' ')
if [ "$conffiles" = "/etc/logrotate.d/ntlmd /etc/ntlmd.conf " ]; then
	pass "ntlmd's conffiles: $conffiles"
else
	fail "ntlmd's conffiles: '$conffiles'"
fi
# /etc/ntlmd.conf: the example with user, group and audit_json set
diff /usr/share/doc/ntlmd/examples/ntlmd.conf /etc/ntlmd.conf | grep '^>' >"$WORK/conf.diff"
if [ "$(cat "$WORK/conf.diff")" = "> user                 ntlmd
> group                ntlmd
> audit_json           /var/log/ntlmd/audit.json" ]; then
	pass "/etc/ntlmd.conf is the installed example with user, group and audit_json set (README.Debian)"
else
	fail "/etc/ntlmd.conf against the example: $(cat "$WORK/conf.diff")"
fi
check "ntlmd -t accepts the installed /etc/ntlmd.conf" sh -c '/usr/sbin/ntlmd -t | grep -qx "configuration OK"'
if [ -L /etc/systemd/system/sockets.target.wants/ntlmd.socket ] &&
	[ ! -e /etc/systemd/system/multi-user.target.wants/ntlmd.service ]; then
	pass "ntlmd.socket is enabled, ntlmd.service is not (socket activation)"
else
	fail "enabled units: $(ls /etc/systemd/system/*.wants/ntlmd.* 2>&1)"
fi
if systemd-analyze verify /lib/systemd/system/ntlmd.socket /lib/systemd/system/ntlmd.service >"$WORK/verify" 2>&1 &&
	! grep -q ntlmd "$WORK/verify"; then
	pass "systemd-analyze verify: the installed units"
else
	fail "systemd-analyze verify: $(cat "$WORK/verify")"
fi
check "logrotate parses the installed /etc/logrotate.d/ntlmd (logrotate -d)" \
	sh -c 'out=$(logrotate -d /etc/logrotate.d/ntlmd 2>&1) && ! printf "%s\n" "$out" | grep -i "^error"'
bad=""
for m in "8 ntlmd" "5 ntlmd.conf" "1 ntlmtool" "8 pam_ntlm" "1pam_ntlm ntlm_auth"; do
	# shellcheck disable=SC2086
	man -w $m >/dev/null 2>&1 || bad="$bad $m"
done
if [ -z "$bad" ] && [ "$(man -w 1pam_ntlm ntlm_auth)" = /usr/share/man/man1/ntlm_auth.1pam_ntlm.gz ]; then
	pass "man finds ntlmd(8), ntlmd.conf(5), ntlmtool(1), pam_ntlm(8), ntlm_auth(1pam_ntlm)"
else
	fail "man pages not found:$bad"
fi
# libntlmssp-dev: pkg-config, the header, the link
cat >"$WORK/dev.c" <<'EOF'
#include <ntlmssp.h>
#include <stdio.h>
int main(void)
{
	puts(ntlm_status_name(NTLM_OK));
	return 0;
}
EOF
# shellcheck disable=SC2046
if [ "$(pkg-config --modversion libntlmssp)" = "$VERSION" ] &&
	cc -o "$WORK/dev" "$WORK/dev.c" $(pkg-config --cflags --libs libntlmssp) >"$WORK/dev.log" 2>&1 &&
	ldd "$WORK/dev" | grep -q "libntlmssp.so.0 => \\(/usr\\)\\?/lib/$MULTIARCH/libntlmssp.so.0" && "$WORK/dev" >/dev/null; then
	pass "a program builds against libntlmssp-dev (pkg-config $VERSION) and runs with libntlmssp0"
else
	fail "libntlmssp-dev: $(pkg-config --modversion libntlmssp 2>&1) $(cat "$WORK/dev.log") $(ldd "$WORK/dev" 2>&1)"
fi

# ------------------------------------------------------------------ 4. the demo exchange

phase "the demo exchange through the installed programs"
# the password from standard input, never from argv
if printf '%s\n' 'Demo-pass1' | ntlmtool passwd --file /etc/ntlmd/smbpasswd --password - --uid 4242 set demo \
	>"$WORK/passwd.out" 2>&1 && [ "$(stat -c '%a %U' /etc/ntlmd/smbpasswd)" = "600 ntlmd" ]; then
	pass "ntlmtool passwd adds the user demo (password on stdin); the hash file stays ntlmd's, mode 0600"
else
	fail "ntlmtool passwd: $(cat "$WORK/passwd.out"); $(stat -c '%a %U' /etc/ntlmd/smbpasswd)"
fi

# the installed units' settings, as systemd would apply them
unit_value() { sed -n "s|^$2=||p" "/lib/systemd/system/$1" | tail -n 1; }
LISTEN=$(unit_value ntlmd.socket ListenStream)
SOCKET_MODE=$(unit_value ntlmd.socket SocketMode)
DIR_MODE=$(unit_value ntlmd.socket DirectoryMode)
START=$(unit_value ntlmd.service ExecStart)
START_PRE=$(unit_value ntlmd.service ExecStartPre)
if [ -e "$LISTEN" ]; then
	echo "test-packages: $LISTEN exists: another ntlmd runs on this machine" >&2
	exit 1
fi
[ -d "$(dirname "$LISTEN")" ] || mkdir -m "$DIR_MODE" "$(dirname "$LISTEN")"
# shellcheck disable=SC2086 # the unit's words
check "ExecStartPre ($START_PRE) passes" $START_PRE
# shellcheck disable=SC2086
systemd-socket-activate -l "$LISTEN" $START 2>"$WORK/activate.log" &
DAEMON_PID=$!
tries=100
while [ ! -S "$LISTEN" ] && [ "$tries" -gt 0 ]; do
	tries=$((tries - 1))
	sleep 0.1
done
chmod "$SOCKET_MODE" "$LISTEN" # systemd-socket-activate binds 0644; systemd sets SocketMode=

# Squid's NTLM helper line of the installed example, run as Squid runs it
SQUID_EXAMPLE=/usr/share/doc/ntlm-auth-helper/examples/squid/ntlm_auth.conf
HELPER=$(sed -n 's/^auth_param ntlm program //p' "$SQUID_EXAMPLE")
exchange() { # password expected
	# shellcheck disable=SC2086 # the example's words
	printf '%s\n' "$1" | timeout 30 setpriv --reuid=proxy --regid=proxy --init-groups \
		"$PY" -B "$top/tests/packages/squid_ntlmssp_client.py" --user demo --expect "$2" -- $HELPER \
		>"$WORK/exchange.out" 2>&1
}
if exchange 'Demo-pass1' OK && grep -qx 'verdict: OK user=demo' "$WORK/exchange.out"; then
	pass "NTLM logon through the installed ntlm_auth ($HELPER) as user proxy: OK user=demo"
else
	fail "NTLM logon, right password: $(cat "$WORK/exchange.out") $(cat "$WORK/activate.log")"
fi
if exchange 'Wrong-pass1' ERR; then
	pass "a wrong password: $(sed -n 's/^verdict: //p' "$WORK/exchange.out")"
else
	fail "NTLM logon, wrong password: $(cat "$WORK/exchange.out")"
fi
if [ "$(ps -o user= -p "$DAEMON_PID" 2>/dev/null)" = ntlmd ]; then
	pass "the installed ntlmd runs as the user ntlmd (user of /etc/ntlmd.conf) after the drop"
else
	fail "ntlmd runs as '$(ps -o user= -p "$DAEMON_PID" 2>/dev/null)'"
fi
if [ "$(stat -c %U /var/log/ntlmd/audit.json 2>/dev/null)" = ntlmd ] &&
	grep -q '"user":"demo".*"response_type":"NTLMv2"' /var/log/ntlmd/audit.json; then
	pass "the audit file /var/log/ntlmd/audit.json (owned by ntlmd) records demo's NTLMv2 logons"
else
	fail "the audit file: $(ls -l /var/log/ntlmd/ 2>&1)"
fi

# PAM: the installed example service as the admin installs it
cp /usr/share/doc/libpam-ntlm/examples/pam.d/ntlm-test /etc/pam.d/ntlm-test.test-packages
pt() { printf '%s\n' "$1" | timeout 30 pamtester ntlm-test.test-packages demo authenticate acct_mgmt >"$WORK/pt.out" 2>&1; }
if pt 'Demo-pass1' && grep -q 'successfully authenticated' "$WORK/pt.out"; then
	pass "pamtester with the installed pam.d/ntlm-test (module $(awk '$1 == "auth" { print $3 }' /etc/pam.d/ntlm-test.test-packages)): demo logs in"
else
	fail "pamtester, right password: $(cat "$WORK/pt.out")"
fi
if ! pt 'Wrong-pass1' && grep -q 'Authentication failure' "$WORK/pt.out"; then
	pass "pamtester, a wrong password: Authentication failure"
else
	fail "pamtester, wrong password: $(cat "$WORK/pt.out")"
fi
rm -f /etc/pam.d/ntlm-test.test-packages

# FreeRADIUS: Debian's own configuration, a private copy of
# /etc/freeradius/3.0 (freeradius-config as shipped: dpkg --verify), given
# the installed examples by README's lines ("Debian packages", between the
# freeradius markers), run as they are with one substitution: the copy's
# directory for /etc/freeradius/3.0/, which every line must name (the
# machine's configuration stays as it is). FreeRADIUS then runs with -X in
# the foreground on its default ports (1812, 1813, and 18120 for
# inner-tunnel), drops to its user freerad (radiusd.conf), and its
# ntlm_auth calls reach the installed ntlmd on its default socket with the
# installed /etc/ntlmd.conf unchanged: allow_groups names freerad, and the
# block "service radius" permits MS-CHAP's responses.
phase "FreeRADIUS with the installed examples"
FR_CONF=/etc/freeradius/3.0
FR_MISSING=""
for f in /usr/sbin/freeradius /usr/bin/radtest /usr/bin/radclient /usr/bin/eapol_test "$FR_CONF/radiusd.conf"; do
	[ -e "$f" ] || FR_MISSING="$FR_MISSING $f (scripts/install-deps.sh);"
done
for port in 1812 1813 18120; do
	if ss -Hlun "sport = :$port" | grep -q .; then FR_MISSING="$FR_MISSING a free UDP port $port;"; fi
done
freeradius_cases() {
	check "Debian's $FR_CONF is as freeradius-config ships it (dpkg --verify)" \
		sh -c 'out=$(dpkg --verify freeradius-config 2>&1) && [ -z "$out" ] || { echo "$out"; false; }'
	RADDB=$WORK/freeradius
	cp -a "$FR_CONF" "$RADDB"
	steps=$(sed -n '/^<!-- freeradius:begin -->$/,/^<!-- freeradius:end -->$/p' "$top/README.md" | grep -v '^<!--\|^```')
	if [ -z "$steps" ] || printf '%s\n' "$steps" | grep -v -q "$FR_CONF/"; then
		fail "README's FreeRADIUS lines: each must name $FR_CONF/: '$steps'"
		return
	fi
	if bash -eu -c "$(printf '%s\n' "$steps" | sed "s|$FR_CONF/|$RADDB/|g")" >"$WORK/fr-steps.out" 2>&1 &&
		cmp -s "$RADDB/mods-available/mschap" /usr/share/doc/ntlm-auth-helper/examples/freeradius/mschap-ntlm_auth &&
		cmp -s "$RADDB/mods-available/ntlm_auth" /usr/share/doc/ntlm-auth-helper/examples/freeradius/exec-ntlm_auth; then
		pass "README's $(printf '%s\n' "$steps" | wc -l) FreeRADIUS lines: the installed examples are the mschap and ntlm_auth modules, PAP goes to ntlm_auth"
	else
		fail "README's FreeRADIUS lines: $(cat "$WORK/fr-steps.out")"
		return
	fi
	audit_before=$(wc -l </var/log/ntlmd/audit.json)
	/usr/sbin/freeradius -X -d "$RADDB" >"$WORK/radius.log" 2>&1 &
	FR_PID=$!
	tries=100
	until grep -q '^Ready to process requests' "$WORK/radius.log" || [ "$tries" -eq 0 ]; do
		tries=$((tries - 1))
		sleep 0.1
	done
	if [ "$tries" -gt 0 ] && [ "$(ps -o user= -p "$FR_PID" 2>/dev/null)" = freerad ]; then
		pass "freeradius -X starts with it (user freerad, ports 1812, 1813, 18120)"
	else
		fail "freeradius did not start: $(ps -o user= -p "$FR_PID" 2>&1) $(tail -n 20 "$WORK/radius.log")"
		return
	fi
	radtest_case() { # name expected type password
		out=$(timeout 30 radtest -t "$3" demo "$4" 127.0.0.1 0 testing123 2>&1)
		if printf '%s\n' "$out" | grep -q "Received $2"; then pass "$1"; else fail "$1: $(printf '%s\n' "$out" | tail -n 5)"; fi
	}
	v2_case() { # name password expect
		out=$(timeout 60 "$PY" -B "$top/tests/ntlm_auth/radius_client.py" --server 127.0.0.1:1812 \
			--secret testing123 --user demo --password "$2" --expect "$3" 2>&1)
		if [ "$out" = ok ]; then pass "$1"; else fail "$1: $out"; fi
	}
	# the server's certificate, which eapol_test checks: the eap module's (Debian's snakeoil)
	CA=$(sed -n 's/^[[:space:]]*certificate_file = //p' "$RADDB/mods-available/eap" | head -n 1)
	peap_case() { # name expect(accept|reject) password
		rbefore=$(wc -l <"$WORK/radius.log")
		eapol_run "$WORK/eapol-$2.conf" demo "$3" "$CA" 1812 testing123
		problems=""
		if [ "$2" = accept ]; then
			eapol_check_accept "$(tail -n +"$((rbefore + 1))" "$WORK/radius.log")"
		else
			eapol_check_reject
		fi
		if [ -z "$problems" ]; then pass "$1"; else fail "$1:$problems eapol_test: $(eapol_summary)"; fi
	}
	radtest_case "radtest -t mschap (MS-CHAPv1), right password: Access-Accept" Access-Accept mschap Demo-pass1
	v2_case "MS-CHAPv2 (radclient), right password: Access-Accept, MS-CHAP2-Success from the NT_KEY, MS-MPPE keys" \
		Demo-pass1 accept
	v2_case "MS-CHAPv2, wrong password: Access-Reject" Wrong-pass1 reject
	radtest_case "radtest -t pap (exec module ntlm_auth), right password: Access-Accept" Access-Accept pap Demo-pass1
	radtest_case "radtest -t pap, wrong password: Access-Reject" Access-Reject pap Wrong-pass1
	peap_case "PEAP-MSCHAPv2 (eapol_test), right password: SUCCESS, S= accepted, MPPE keys OK: 1  mismatch: 0, = MSK" \
		accept Demo-pass1
	peap_case "PEAP-MSCHAPv2, wrong password: FAILURE (Access-Reject, PEAP result TLV Failure)" reject Wrong-pass1
	kill "$FR_PID"
	wait "$FR_PID" 2>/dev/null
	FR_PID=""
	# one audit record per logon, each from FreeRADIUS's user through the
	# service "radius"
	tail -n +"$((audit_before + 1))" /var/log/ntlmd/audit.json >"$WORK/fr-audit.json"
	fr_uid=$(id -u freerad)
	if "$PY" - "$WORK/fr-audit.json" "$fr_uid" >"$WORK/fr-audit.out" 2>&1 <<'PY'; then
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
got = [(r["service"], r["caller_uid"], r["user"], r["status"]) for r in records]
ok, bad = ("radius", int(sys.argv[2]), "demo", "STATUS_SUCCESS"), ("radius", int(sys.argv[2]), "demo", "STATUS_WRONG_PASSWORD")
want = [ok, ok, bad, ok, bad, ok, bad]
if got != want:
    sys.exit(f"audit records {got}, expected {want}")
PY
		pass "ntlmd's audit: the 7 logons, each from uid $fr_uid (freerad) through the service radius, with its status"
	else
		fail "ntlmd's audit: $(cat "$WORK/fr-audit.out")"
	fi
	if ! grep -q 'Invalid output from ntlm_auth' "$WORK/radius.log"; then
		pass "FreeRADIUS parsed every ntlm_auth output (no 'Invalid output')"
	else
		fail "FreeRADIUS: $(grep 'ntlm_auth' "$WORK/radius.log" | tail -n 5)"
	fi
}
if [ -z "$FR_MISSING" ]; then
	freeradius_cases
elif [ -n "${CI:-}" ]; then
	fail "FreeRADIUS: missing:$FR_MISSING CI must run these cases"
else
	echo "# SKIP FreeRADIUS: missing:$FR_MISSING"
fi

kill "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=""

# ------------------------------------------------------------------ 5. remove, purge

phase "remove, purge"
# shellcheck disable=SC2086
if $APT remove $PACKAGES >"$WORK/remove.log" 2>&1 && [ "$(installed ntlmd)" = "rc " ] &&
	[ -f /etc/ntlmd.conf ] && [ ! -e /usr/sbin/ntlmd ]; then
	pass "apt-get remove: the programs go, the conffiles stay (ntlmd: rc)"
else
	fail "apt-get remove: $(installed ntlmd) $(tail -n 5 "$WORK/remove.log")"
fi
# dpkg: apt-get knows no package that is in no archive and not installed
# shellcheck disable=SC2086
if dpkg --purge $PACKAGES >"$WORK/purge.log" 2>&1; then
	pass "dpkg --purge"
else
	fail "dpkg --purge: $(tail -n 10 "$WORK/purge.log")"
fi
left=""
for p in $PACKAGES; do
	s=$(installed "$p")
	[ -z "$s" ] || [ "$s" = "un " ] || left="$left $p($s)"
done
[ -z "$left" ] || fail "still known to dpkg after the purge:$left"
snapshot >"$WORK/after"
added=$(comm -13 "$WORK/before" "$WORK/after")
removed=$(comm -23 "$WORK/before" "$WORK/after")
if [ -z "$added" ] && [ -z "$removed" ] && [ ! -e /run/ntlmd ]; then
	pass "after the purge the file system is as before the install ($(wc -l <"$WORK/after") paths compared; /run/ntlmd gone)"
else
	fail "after the purge: left $(printf '%s' "$added" | tr '\n' ' '); gone $(printf '%s' "$removed" | tr '\n' ' '); /run/ntlmd: $(ls -d /run/ntlmd 2>&1)"
fi
if diff <(pam_sums) "$WORK/pam.before" >/dev/null; then
	pass "/etc/pam.d/common-* and pam-auth-update's /var/lib/pam/seen are as before the install"
else
	fail "the PAM configuration after the purge: $(diff <(pam_sums) "$WORK/pam.before")"
fi
if [ -n "$(getent passwd ntlmd)" ]; then
	pass "the system user ntlmd stays after the purge, as Debian keeps system users (README.Debian)${USER_BEFORE:+ (it existed before)}"
else
	fail "the system user ntlmd is gone"
fi

phase "done"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
