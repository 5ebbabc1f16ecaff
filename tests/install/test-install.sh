#!/bin/sh
# test-install.sh: "make install DESTDIR=$D" from the build tree, then:
# - every file README's "Installing" section names is installed, and every
#   installed file is one it names (the table's `$(dir)/...` entries);
# - the installed configuration, units and examples are the build tree's
#   generated files byte for byte (the ones the other tests use), hold no
#   unsubstituted @name@, and every path they give under sbindir, bindir,
#   pkglibexecdir or pamlibdir is an installed program; the installed
#   ntlmd and ntlm_auth print this build's configuration file and socket;
# - systemd-analyze verify --root passes on the installed units in a root
#   made of the installed tree and the system's own units (systemd is not
#   PID 1 here: this is the unit check that can be made), and fails once
#   the unit's ExecStart binary is missing (the check is real);
# - the installed ntlmd starts under systemd-socket-activate as the
#   installed units say (ListenStream= moved into a private directory,
#   SocketMode=, DirectoryMode=, ExecStartPre= and ExecStart=), and the
#   installed ntlm_auth logs a user on through the activated socket;
# - a second "make install" keeps an edited ntlmd.conf, and "make
#   uninstall" removes every other installed file.
#
# Run by "make check" (tests/install.am sets MAKE, top_builddir, SHIPPED_DIR
# and the installation directories DIR_<name>). Needs root (ntlm_auth also
# runs as nobody), systemd-analyze, systemd-socket-activate and setpriv.
# One line per case, then "N passed, M failed"; exit 1 on any failure,
# 77 (skip) when a prerequisite is missing outside CI, 99 on a hard error.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
WAIT=10 # seconds: bound of every wait
# shellcheck source=tests/testlib.sh
. "$HERE/../testlib.sh"
WORK=""
DAEMON_PID=""

cleanup() {
    if [ -n "$DAEMON_PID" ]; then
        kill "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
    fi
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        rm -rf "$WORK"
    fi
}

# The installation directory $(name) of this build (tests/install.am), with
# each // as / (as find prints the installed files).
dir() {
    case $1 in
    *[!a-z]* | "") return 1 ;;
    esac
    eval "printf '%s\\n' \"\${DIR_$1:-}\"" | sed 's|//*|/|g'
}

# Expands the $(name) at the start of $1; fails on an unknown name.
expand() {
    # shellcheck disable=SC2016 # $(name) is make's notation
    name=$(printf '%s\n' "$1" | sed -n 's|^\$(\([a-z]*\)).*|\1|p')
    value=$(dir "$name") || return 1
    [ -n "$value" ] || return 1
    printf '%s%s\n' "$value" "${1#"\$($name)"}"
}

# Runs an installed program with the installed library.
installed() {
    LD_LIBRARY_PATH=$D$(dir libdir) "$@"
}

# ------------------------------------------------------------------ setup

for v in MAKE top_builddir SHIPPED_DIR DIR_sbindir DIR_libdir DIR_sysconfdir DIR_runstatedir; do
    eval "[ -n \"\${$v:-}\" ]" || {
        echo "ERROR: $v is not set (make check sets it: tests/install.am)" >&2
        exit 99
    }
done
[ "$(id -u)" -eq 0 ] || skip_or_fail "root (ntlm_auth also runs as nobody)"
for tool in systemd-analyze systemd-socket-activate setpriv; do
    command -v "$tool" >/dev/null 2>&1 || skip_or_fail "$tool"
done
BUILD=$(cd "${top_builddir:?}" && pwd)
README=$(cd "$HERE/../.." && pwd)/README.md
UNITDIR=$(dir systemdsystemunitdir)

trap cleanup EXIT
trap 'exit 1' HUP INT TERM
WORK=$(mktemp -d "${TMPDIR:-/tmp}/install-test.XXXXXX") || exit 99
chmod 0755 "$WORK" # nobody runs the installed ntlm_auth
D=$WORK/dest

# make install, as an admin runs it, from the build tree; the jobserver of
# the make running this test is not this make's.
make_install() { # target log
    (cd "$BUILD" && MAKEFLAGS='' MAKELEVEL='' $MAKE "$1" DESTDIR="$D") >"$2" 2>&1
}

if make_install install "$WORK/install.log"; then
    pass "make install DESTDIR=... from the build tree"
else
    fail "make install: $(tail -n 20 "$WORK/install.log")"
    echo "$PASSED passed, $FAILED failed"
    exit 1
fi
( cd "$D" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort ) >"$WORK/installed"

# ------------------------------------------------------------------ README

# The entries of README's "Installing" table: `$(dir)/path`, a trailing /
# for a whole directory, * as in the shell.
# shellcheck disable=SC2016 # $(name) is make's notation
awk '/^## Installing/ { p = 1; next } /^## / { p = 0 } p' "$README" | grep -o '`\$([a-z]*)/[^`]*`' | tr -d '`' >"$WORK/readme"
if [ "$(wc -l <"$WORK/readme")" -lt 10 ]; then
    fail "README's Installing section names fewer than 10 installed files: $(cat "$WORK/readme")"
fi
bad=""
: >"$WORK/patterns"
while read -r entry; do
    # shellcheck disable=SC2016
    case $entry in
    '$(systemdsystemunitdir)'*) [ -n "$UNITDIR" ] || continue ;; # configured without units
    esac
    path=$(expand "$entry") || {
        bad="$bad; unknown directory in $entry"
        continue
    }
    case $path in
    */) pattern="$path*" ;;
    *) pattern=$path ;;
    esac
    printf '%s\n' "$pattern" >>"$WORK/patterns"
    found=no
    while read -r f; do
        # shellcheck disable=SC2254 # the entry is a pattern
        case $f in $pattern) found=yes && break ;; esac
    done <"$WORK/installed"
    [ "$found" = yes ] || bad="$bad; $entry ($path) is not installed"
done <"$WORK/readme"
while read -r f; do
    covered=no
    while read -r pattern; do
        # shellcheck disable=SC2254
        case $f in $pattern) covered=yes && break ;; esac
    done <"$WORK/patterns"
    [ "$covered" = yes ] || bad="$bad; $f is installed but README does not say so"
done <"$WORK/installed"
if [ -z "$bad" ]; then
    pass "README's Installing table names exactly the installed files ($(wc -l <"$WORK/installed") files)"
else
    fail "README's Installing table and make install disagree:$bad"
fi

# ------------------------------------------------------------------ the installed text files

SYSCONFDIR=$(dir sysconfdir)
EXAMPLES=$(dir docdir)/examples
# installed copy : generated file of the build tree
PAIRS="$SYSCONFDIR/ntlmd.conf:ntlmd.conf $SYSCONFDIR/logrotate.d/ntlmd:logrotate.d/ntlmd"
for f in ntlmd.conf pam.d/ntlm-exchange pam.d/ntlm-login pam.d/ntlm-test squid/ntlm_auth.conf \
    freeradius/mschap-ntlm_auth freeradius/exec-ntlm_auth systemd/ntlmd-stats.service systemd/ntlmd-stats.timer; do
    PAIRS="$PAIRS $EXAMPLES/$f:$f"
done
if [ -n "$UNITDIR" ]; then
    PAIRS="$PAIRS $UNITDIR/ntlmd.service:systemd/ntlmd.service $UNITDIR/ntlmd.socket:systemd/ntlmd.socket"
fi
bad=""
TEXT=""
for pair in $PAIRS; do
    inst=$D${pair%%:*}
    TEXT="$TEXT $inst"
    cmp -s "$inst" "$SHIPPED_DIR/${pair#*:}" || bad="$bad ${pair%%:*}"
done
if [ -z "$bad" ]; then
    pass "the installed configuration, units and examples are the build tree's etc/ files the tests use"
else
    fail "installed files that differ from (or lack) the build tree's:$bad"
fi
# shellcheck disable=SC2086 # a list of paths without spaces (mktemp)
left=$(grep -nE '@[A-Za-z_]+@' $TEXT)
if [ -z "$left" ]; then
    pass "no unsubstituted @name@ in the installed files"
else
    fail "unsubstituted: $left"
fi
# every path under the program directories is an installed program
bad=""
n=0
for name in sbindir bindir pkglibexecdir pamlibdir; do
    d=$(dir "$name")
    # shellcheck disable=SC2086,SC2013 # paths without spaces
    for p in $(grep -ohE "(^|[ \"=-])$d/[A-Za-z0-9_.+-]+" $TEXT | sed 's|^[ "=-]||' | sort -u); do
        n=$((n + 1))
        [ -f "$D$p" ] && [ -x "$D$p" ] || bad="$bad $p"
    done
done
# at least ntlm_auth and pam_ntlm.so, and ntlmd in the units
least=2
[ -z "$UNITDIR" ] || least=3
if [ -z "$bad" ] && [ "$n" -ge "$least" ]; then
    pass "the $n program paths of the installed files are installed programs"
else
    fail "program paths of the installed files: $n found (at least $least expected), not installed:${bad:- none}"
fi

# Each file names what it must: its program or path, as installed.
# names FILE TEXT...: every TEXT is in the installed FILE
names() {
    file=$1
    shift
    for t in "$@"; do
        grep -qF -- "$t" "$D$file" || {
            fail "$file does not say $t"
            return
        }
    done
    pass "$file names $*"
}
SBINDIR=$(dir sbindir)
RUNSTATEDIR=$(dir runstatedir)
LOCALSTATEDIR=$(dir localstatedir)
NTLM_AUTH_PATH=$(dir pkglibexecdir)/ntlm_auth
PAM_MODULE=$(dir pamlibdir)/pam_ntlm.so
names "$SYSCONFDIR/ntlmd.conf" "hash_file            $SYSCONFDIR/ntlmd/smbpasswd" \
    "#socket              $RUNSTATEDIR/ntlmd/socket"
names "$SYSCONFDIR/logrotate.d/ntlmd" "$LOCALSTATEDIR/log/ntlmd/audit.json {"
names "$EXAMPLES/squid/ntlm_auth.conf" "auth_param ntlm program $NTLM_AUTH_PATH " \
    "auth_param negotiate program $NTLM_AUTH_PATH " "auth_param basic program $NTLM_AUTH_PATH "
names "$EXAMPLES/freeradius/mschap-ntlm_auth" "ntlm_auth = \"$NTLM_AUTH_PATH "
names "$EXAMPLES/freeradius/exec-ntlm_auth" "program = \"$NTLM_AUTH_PATH "
for f in ntlm-exchange ntlm-login ntlm-test; do
    names "$EXAMPLES/pam.d/$f" "required  $PAM_MODULE"
done
if [ -n "$UNITDIR" ]; then
    names "$UNITDIR/ntlmd.service" "ExecStart=$SBINDIR/ntlmd " "ExecStartPre=$SBINDIR/ntlmd -t" \
        "ReadWritePaths=-$SYSCONFDIR/ntlmd -$RUNSTATEDIR/ntlmd -$LOCALSTATEDIR/log/ntlmd"
    names "$UNITDIR/ntlmd.socket" "ListenStream=$RUNSTATEDIR/ntlmd/socket"
else
    echo "# configured without systemd units: the unit checks are not run"
fi
mode=$(stat -c %a "$D$SYSCONFDIR/ntlmd.conf")
if [ "$mode" = 644 ]; then
    pass "$SYSCONFDIR/ntlmd.conf is installed with mode 0644"
else
    fail "$SYSCONFDIR/ntlmd.conf has mode $mode"
fi

# The installed programs: this build's paths, the installed library.
if installed ldd "$D$SBINDIR/ntlmd" | grep -q "libntlmssp.so.0 => $D$(dir libdir)/"; then
    pass "the installed ntlmd runs with the installed libntlmssp"
else
    fail "the installed ntlmd does not load the installed libntlmssp: $(installed ldd "$D$SBINDIR/ntlmd")"
fi
help=$(installed "$D$SBINDIR/ntlmd" -h 2>&1)
case $help in
*"(default $SYSCONFDIR/ntlmd.conf)"*"socket $RUNSTATEDIR/ntlmd/socket"*"hash file $SYSCONFDIR/ntlmd/smbpasswd"*)
    pass "ntlmd -h: the configuration file, socket and hash file of --sysconfdir and --runstatedir"
    ;;
*) fail "ntlmd -h: $help" ;;
esac
help=$(installed "$D$NTLM_AUTH_PATH" --help 2>&1)
case $help in
*"ntlmd's socket (default $RUNSTATEDIR/ntlmd/socket)"*) pass "ntlm_auth --help: the default socket of --runstatedir" ;;
*) fail "ntlm_auth --help: $help" ;;
esac

# ------------------------------------------------------------------ systemd-analyze verify

# A root for --root: the installed tree, the system's units (the targets
# the units name), and /bin/kill (ExecReload=); MANPATH finds the installed
# man pages of Documentation=. With --root, systemd-analyze finds units in
# its search path only: units installed elsewhere (distcheck's prefix) are
# verified as copies in the root's /etc/systemd/system.
verify_units() { # root
    MANPATH=$1$(dir mandir) systemd-analyze verify --root="$1" "$1$VUNITDIR/ntlmd.socket" \
        "$1$VUNITDIR/ntlmd.service" >"$WORK/verify.out" 2>&1
}
if [ -n "$UNITDIR" ]; then
    VROOT=$WORK/vroot
    cp -a "$D" "$VROOT" && mkdir -p "$VROOT/etc/systemd/system" "$VROOT/bin" || exit 99
    case $UNITDIR in
    /etc/systemd/system | /run/systemd/system | /usr/local/lib/systemd/system | /usr/lib/systemd/system | \
        /lib/systemd/system)
        VUNITDIR=$UNITDIR
        ;;
    *)
        VUNITDIR=/etc/systemd/system
        cp "$D$UNITDIR/ntlmd.socket" "$D$UNITDIR/ntlmd.service" "$VROOT$VUNITDIR/" || exit 99
        echo "# $UNITDIR is not in systemd's search path: the units are verified in $VUNITDIR"
        ;;
    esac
    SYSTEM_UNITS=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
    for u in "${SYSTEM_UNITS:-/lib/systemd/system}"/*; do
        case ${u##*/} in
        ntlmd.*) ;;
        *) cp -a "$u" "$VROOT/etc/systemd/system/" ;;
        esac
    done
    [ -e "$VROOT/bin/kill" ] || cp /bin/kill "$VROOT/bin/kill" || exit 99
    if verify_units "$VROOT" && ! grep -q ntlmd "$WORK/verify.out"; then
        pass "systemd-analyze verify --root: the installed units pass"
    else
        fail "systemd-analyze verify --root: $(cat "$WORK/verify.out")"
    fi
    # the example timer and its service (not installed as units: an admin
    # copies them to /etc/systemd/system), with the /bin/sh they run
    cp "$D$EXAMPLES/systemd/ntlmd-stats.service" "$D$EXAMPLES/systemd/ntlmd-stats.timer" \
        "$VROOT/etc/systemd/system/" || exit 99
    [ -e "$VROOT/bin/sh" ] || cp /bin/sh "$VROOT/bin/sh" || exit 99
    if MANPATH=$VROOT$(dir mandir) systemd-analyze verify --root="$VROOT" \
        "$VROOT/etc/systemd/system/ntlmd-stats.timer" "$VROOT/etc/systemd/system/ntlmd-stats.service" \
        >"$WORK/verify-stats.out" 2>&1 && ! grep -q ntlmd "$WORK/verify-stats.out"; then
        pass "systemd-analyze verify --root: the example ntlmd-stats.timer and .service pass"
    else
        fail "systemd-analyze verify --root, ntlmd-stats: $(cat "$WORK/verify-stats.out")"
    fi
    rm -f "$VROOT/bin/sh"
    if ! MANPATH=$VROOT$(dir mandir) systemd-analyze verify --root="$VROOT" \
        "$VROOT/etc/systemd/system/ntlmd-stats.service" >"$WORK/verify-stats.out" 2>&1 &&
        grep -q "/bin/sh is not executable" "$WORK/verify-stats.out"; then
        pass "systemd-analyze verify --root fails when the example service's /bin/sh is missing"
    else
        fail "systemd-analyze verify --root without /bin/sh: $(cat "$WORK/verify-stats.out")"
    fi
    rm -f "$VROOT$SBINDIR/ntlmd"
    if ! verify_units "$VROOT" && grep -q "$SBINDIR/ntlmd is not executable" "$WORK/verify.out"; then
        pass "systemd-analyze verify --root fails when the unit's ntlmd is not installed"
    else
        fail "systemd-analyze verify --root without ntlmd: $(cat "$WORK/verify.out")"
    fi
fi

# ------------------------------------------------------------------ socket activation

# unit_value FILE KEY: the value of KEY= in an installed unit (the last one)
unit_value() {
    sed -n "s|^$2=||p" "$D$1" | tail -n 1
}
if [ -n "$UNITDIR" ]; then
    LISTEN=$(unit_value "$UNITDIR/ntlmd.socket" ListenStream)
    SOCKET_MODE=$(unit_value "$UNITDIR/ntlmd.socket" SocketMode)
    DIR_MODE=$(unit_value "$UNITDIR/ntlmd.socket" DirectoryMode)
    START=$(unit_value "$UNITDIR/ntlmd.service" ExecStart)
    START_PRE=$(unit_value "$UNITDIR/ntlmd.service" ExecStartPre)
    # the only substitution: $(runstatedir) becomes a private directory
    SOCKET=$WORK/run${LISTEN#"$RUNSTATEDIR"}
    HASHES=$WORK/smbpasswd
    CONF=$WORK/ntlmd.conf
    mkdir -p "$WORK/run" && mkdir -m "$DIR_MODE" "$(dirname "$SOCKET")" || exit 99
    # the installed ntlmd.conf, with the test's hash file
    sed "s|^hash_file .*|hash_file $HASHES|" "$D$SYSCONFDIR/ntlmd.conf" >"$CONF"
    printf '%s\n' 'Passw0rd!' | installed "$D$(dir bindir)/ntlmtool" passwd --file "$HASHES" \
        --password - --uid 4242 set alice >"$WORK/ntlmtool.out" 2>&1 || {
        echo "ERROR: ntlmtool passwd: $(cat "$WORK/ntlmtool.out")" >&2
        exit 99
    }
    # ExecStartPre= and ExecStart= with the installed binary, the test's
    # configuration (-f), and -d to read the log on stderr
    # shellcheck disable=SC2086 # the unit's words
    if installed "$D"$START_PRE -f "$CONF" >"$WORK/t.out" 2>&1; then
        pass "ExecStartPre ($START_PRE) accepts the installed ntlmd.conf"
    else
        fail "ExecStartPre ($START_PRE): $(cat "$WORK/t.out")"
    fi
    # shellcheck disable=SC2086
    systemd-socket-activate -l "$SOCKET" -E LD_LIBRARY_PATH="$D$(dir libdir)" \
        "$D"$START -d -f "$CONF" 2>"$WORK/activated.log" &
    DAEMON_PID=$!
    tries=$((WAIT * 10))
    while [ ! -S "$SOCKET" ] && [ "$tries" -gt 0 ]; do
        tries=$((tries - 1))
        sleep 0.1
    done
    # SocketMode=: systemd-socket-activate always binds 0644, so the test
    # sets the unit's mode as systemd does before it passes the socket on
    chmod "$SOCKET_MODE" "$SOCKET" || exit 99
    basic() { # user password [setpriv options]: ntlm_auth's squid-2.5-basic answer
        line="$1 $2"
        shift 2
        [ $# -eq 0 ] || set -- setpriv "$@"
        printf '%s\n' "$line" | installed "$@" "$D$NTLM_AUTH_PATH" \
            --helper-protocol=squid-2.5-basic --ntlmd-socket="$SOCKET" 2>>"$WORK/ntlm_auth.err"
    }
    answer=$(basic alice 'Passw0rd!')
    if [ "$answer" = OK ]; then
        pass "the installed ntlm_auth logs alice on through the activated socket"
    else
        fail "ntlm_auth, right password: '$answer' $(cat "$WORK/ntlm_auth.err")"
    fi
    answer=$(basic alice 'WrongPass1')
    case $answer in
    ERR*) pass "a wrong password: ERR" ;;
    *) fail "ntlm_auth, wrong password: '$answer'" ;;
    esac
    if grep -q "listening on a socket from systemd" "$WORK/activated.log" &&
        grep -q "STATUS_WRONG_PASSWORD" "$WORK/activated.log"; then
        pass "ntlmd answered on systemd's socket (its log: the socket, STATUS_WRONG_PASSWORD)"
    else
        fail "ntlmd's log: $(cat "$WORK/activated.log")"
    fi
    # SocketMode=0666: anyone connects, ntlmd refuses by SO_PEERCRED
    answer=$(basic alice 'Passw0rd!' --reuid=nobody --regid=nogroup --clear-groups)
    if [ "$answer" != OK ] &&
        grep -q "connection from uid=65534 .*caller not in allow_users or allow_groups" "$WORK/activated.log"; then
        pass "nobody reaches ntlmd through the socket (SocketMode=$SOCKET_MODE); ntlmd refuses it (allow_groups)"
    else
        fail "nobody: '$answer' $(tail -n 2 "$WORK/ntlm_auth.err"); ntlmd's log: $(tail -n 3 "$WORK/activated.log")"
    fi
    kill -TERM "$DAEMON_PID"
    wait "$DAEMON_PID" 2>/dev/null
    DAEMON_PID=""
fi

# ------------------------------------------------------------------ reinstall, uninstall

echo "# edited by the admin" >>"$D$SYSCONFDIR/ntlmd.conf"
if make_install install "$WORK/reinstall.log" && grep -q "# edited by the admin" "$D$SYSCONFDIR/ntlmd.conf" &&
    grep -q "kept $D$SYSCONFDIR/ntlmd.conf" "$WORK/reinstall.log"; then
    pass "make install again keeps the edited $SYSCONFDIR/ntlmd.conf, and says so"
else
    fail "make install again: $(grep -i ntlmd.conf "$WORK/reinstall.log")"
fi
if make_install uninstall "$WORK/uninstall.log"; then
    left=$(cd "$D" && find . \( -type f -o -type l \) | sed 's|^\.||')
    if [ "$left" = "$SYSCONFDIR/ntlmd.conf" ] && grep -q "kept $D$SYSCONFDIR/ntlmd.conf" "$WORK/uninstall.log"; then
        pass "make uninstall removes every installed file but the edited ntlmd.conf, and says so"
    else
        fail "make uninstall left: $left"
    fi
else
    fail "make uninstall: $(tail -n 20 "$WORK/uninstall.log")"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
