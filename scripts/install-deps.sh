#!/bin/sh
# Install every Debian package that pam_ntlm's build, tests and benchmarks need.
# Idempotent: packages already present are left alone, so running it again is cheap.
# Usage (as root on Debian 12): scripts/install-deps.sh
set -eu

PACKAGES="
build-essential autoconf automake libtool autoconf-archive pkg-config make
libssl-dev libpam0g-dev libldap2-dev check
clang libclang-rt-14-dev clang-format clang-tidy cppcheck valgrind
python3 python3-impacket python3-ntlm-auth python3-pycryptodome
winbind samba samba-common-bin curl ca-certificates
slapd ldap-utils openssl pamtester libpam-wrapper squid freeradius freeradius-utils eapoltest gss-ntlmssp libkrb5-dev
wget python3-requests-ntlm libauthen-ntlm-perl ruby ruby-ntlm libntlm0-dev python3-gssapi
golang-go golang-github-azure-go-ntlmssp-dev cntlm default-jdk-headless chromium
systemd man-db logrotate util-linux
debhelper lintian fakeroot adduser
"

# Node.js and npm (the npm clients of tests/interop/test-matrix.sh): Debian's,
# unless the machine already has a node and npm of its own (a NodeSource
# nodejs bundles npm and conflicts with Debian's npm package).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	PACKAGES="$PACKAGES nodejs npm"
fi

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run this script as root to install them" >&2
	exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Installing samba/winbind must not start system services; the tests start their own.
policy=/usr/sbin/policy-rc.d
created_policy=no
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	created_policy=yes
fi
apt-get -o DPkg::Lock::Timeout=900 update -q
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends $missing
if [ "$created_policy" = yes ]; then
	rm -f "$policy"
fi
echo "install-deps: done"
