#!/bin/sh
# attack5/logrotate_rule.sh: the shipped etc/logrotate.d/ntlmd.in (tidy,
# d1b970a: "su ntlmd ntlmd") on a Debian-like layout in a private
# directory: var/log/ntlmd owned by ntlmd:ntlmd 0750 (the ntlmd user must
# exist: uid of `id ntlmd`). The postrotate script is replaced by a line
# that writes a marker file (the shipped one HUPs every process named
# ntlmd on the host). Cases: a normal rotation; "su" naming a user that
# does not exist; links planted by the ntlmd user (audit.json.1 and
# audit.json pointing at a root-only file) before a rotation.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/logrotate.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
PASSED=0 FAILED=0
check() { n=$1; shift; if "$@"; then PASSED=$((PASSED + 1)); echo "PASS $n"; else FAILED=$((FAILED + 1)); echo "FAIL $n"; fi; }
id ntlmd >/dev/null 2>&1 || { echo "SKIP: no ntlmd user"; exit 77; }
# the ntlmd user must reach the directory: every parent traversable
p=$T; while [ "$p" != / ]; do [ -x "$p" ] || break; p=$(dirname "$p"); done
chmod 0711 "$T" "${TMPDIR:-/tmp}" 2>/dev/null
L=$T/var/log/ntlmd
mkdir -p "$L"
chown ntlmd:ntlmd "$L"
chmod 0750 "$L"
printf 'ROOT-ONLY-SECRET\n' >"$T/rootfile"
chmod 0600 "$T/rootfile"
rule() { # SU_USER SU_GROUP: the shipped rule, the path and postrotate made private
    sed -e "s|^@localstatedir@/log/ntlmd/audit.json |$L/audit.json |" \
        -e "s|^\([[:space:]]*su\) ntlmd ntlmd$|\1 $1 $2|" \
        -e "s|^\([[:space:]]*\)systemctl kill .*|\1echo ran >$T/postrotate-ran|" \
        -e '/pkill -HUP -x ntlmd/d' "$TOP/etc/logrotate.d/ntlmd.in" >"$T/rule"
}
audit() { printf '{"n":%s}\n' "$1" | su -s /bin/sh ntlmd -c "cat >>$L/audit.json"; }

# 1. a normal rotation, as the ntlmd user
rule ntlmd ntlmd
audit 1
logrotate -f -s "$T/state" "$T/rule" >"$T/out1" 2>&1
rc=$?
echo "# normal rotation: exit $rc; $(ls -l "$L" | tail -n +2 | awk '{print $1, $3, $4, $NF}' | tr '\n' ';')"
check "a normal rotation: audit.json.1 made, owned by ntlmd, postrotate ran" \
    sh -c "[ $rc -eq 0 ] && [ -f '$L/audit.json.1' ] && [ \$(stat -c %U '$L/audit.json.1') = ntlmd ] && [ -f '$T/postrotate-ran' ]"

# 2. su naming a user that does not exist
rm -f "$T/postrotate-ran" "$T/state"
audit 2
rule ntlmd-nosuchuser ntlmd-nosuchuser
logrotate -f -s "$T/state" "$T/rule" >"$T/out2" 2>&1
rc=$?
echo "# unknown user: exit $rc: $(head -2 "$T/out2" | tr '\n' ' ')"
check "an unknown su user: logrotate fails (exit != 0) and says so" sh -c "[ $rc -ne 0 ] && grep -qi 'unknown user\|user.*not\|nosuchuser' '$T/out2'"
check "an unknown su user: nothing rotated as root, no postrotate" sh -c "[ -s '$L/audit.json' ] && [ ! -e '$T/postrotate-ran' ]"

# 3. links planted by the ntlmd user, then a rotation (-f twice: the
# second compresses .1, delaycompress)
rule ntlmd ntlmd
rm -f "$L"/audit.json.* "$T/state"
su -s /bin/sh ntlmd -c "ln -s $T/rootfile $L/audit.json.1"
audit 3
logrotate -f -s "$T/state" "$T/rule" >"$T/out3" 2>&1
logrotate -f -s "$T/state" "$T/rule" >>"$T/out3" 2>&1
echo "# planted audit.json.1 -> rootfile: $(ls -l "$L" | tail -n +2 | awk '{print $1, $3, $9, $10, $11}' | tr '\n' ';') logrotate: $(grep -i error "$T/out3" | head -2 | tr "\n" " ")"
leak=no
for f in "$L"/*; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    case $f in *.gz) zcat "$f" 2>/dev/null ;; *) cat "$f" ;; esac | grep -q ROOT-ONLY-SECRET && leak="$f"
done
check "a planted link: the root-only file's content reaches no file of the log directory" [ "$leak" = no ]
check "a planted link: the root-only file is intact and root's" \
    sh -c "[ \"\$(cat '$T/rootfile')\" = ROOT-ONLY-SECRET ] && [ \$(stat -c %U:%a '$T/rootfile') = root:600 ]"
rm -f "$L"/audit.json* "$T/state"
su -s /bin/sh ntlmd -c "ln -s $T/rootfile $L/audit.json"
logrotate -f -s "$T/state" "$T/rule" >"$T/out4" 2>&1
rc=$?
echo "# planted audit.json -> rootfile: exit $rc; $(ls -l "$L" | tail -n +2 | awk '{print $1, $3, $9, $10, $11}' | tr '\n' ';') $(head -1 "$T/out4")"
check "a planted audit.json link: the root-only file stays root's and unchanged" \
    sh -c "[ \"\$(cat '$T/rootfile')\" = ROOT-ONLY-SECRET ] && [ \$(stat -c %U:%a '$T/rootfile') = root:600 ]"
echo "$PASSED passed, $FAILED failed (a FAIL is a finding)"
[ "$FAILED" -eq 0 ]
