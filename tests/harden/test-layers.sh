#!/bin/sh
# test-layers.sh: scripts/check-layers.sh over the source tree (no #include
# points upwards: libntlm <- common <- backends <- ldap <- stores <- ntlmd),
# and over two copies of it that must fail: backends/ including ldap/'s
# header (the old cycle) and common/ including backends/'s.
set -u
TOP=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)
. "$TOP/tests/testlib.sh"
CHECK="$TOP/scripts/check-layers.sh"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if out=$("$CHECK" "$TOP" 2>&1); then
    pass "the source tree: $out"
else
    printf '%s\n' "$out"
    fail "the source tree has upward includes"
fi

# A copy of the folders the check reads, with one upward include added.
upward() { # NAME FOLDER FILE HEADER WANT
    rm -rf "$WORK/tree"
    mkdir -p "$WORK/tree"
    for d in libntlm common backends ldap stores ntlmd ntlmtool pam_ntlm ntlm_auth; do
        mkdir -p "$WORK/tree/$d"
        cp "$TOP/$d"/*.c "$TOP/$d"/*.h "$WORK/tree/$d/" 2>/dev/null
    done
    printf '#include "%s"\n' "$4" >>"$WORK/tree/$2/$3"
    if out=$("$CHECK" "$WORK/tree" 2>&1); then
        fail "$1: not caught"
    elif printf '%s\n' "$out" | grep -q "$5"; then
        pass "$1: $(printf '%s\n' "$out" | head -1)"
    else
        printf '%s\n' "$out"
        fail "$1: caught without naming $5"
    fi
}
upward "backends/ includes ldap/" backends chain.c ldapstore.h "backends/chain.c:[0-9]*: includes ldap/ldapstore.h"
upward "common/ includes backends/" common ntlmd_conf.h backend.h "common/ntlmd_conf.h:[0-9]*: includes backends/backend.h"
upward "ntlmd/ includes ldap/" ntlmd main.c ldapstore.h "ntlmd/main.c:[0-9]*: includes ldap/ldapstore.h"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
