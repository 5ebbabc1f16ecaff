#!/bin/sh
# attack5/conf_values.sh: ntlmd.conf through the typed parser (keys merge
# 7439804): `ntlmd -t -f FILE` on hostile values of the global and the
# ldap store's keys. Each bad input must give exit 1 and a message with its
# line number ("line N" / "FILE:N"); each good one exit 0; nothing may hang
# (timeout 10 s), crash (ASan/UBSan abort: exit >= 128 or ASan text), or
# print the bindpw_file's content. Run as root:
#   attack5/conf_values.sh            (BUILD=build/san too)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build/plain}
NTLMD=$BUILD/ntlmd/ntlmd
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
W=$(mktemp -d "${TMPDIR:-/tmp}/conf_values.XXXXXX") || exit 99
trap 'rm -rf "$W"' EXIT
touch "$W/results"
SECRET=pw-SECRET-$$-do-not-print
printf '%s\n' "$SECRET" >"$W/bindpw"
chmod 600 "$W/bindpw"
mkfifo -m 600 "$W/fifo"
mkdir -m 700 "$W/dir"
head -c 100 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/ro"; chmod 600 "$W/ro"

base() { # the ldap base lines a check adds to
    cat <<EOC
socket $W/socket
backends ldap
uri ldap://127.0.0.1:1
base dc=example,dc=test
binddn cn=reader,dc=example,dc=test
EOC
}

# run NAME EXPECT(0|1) LINE-NUMBER-or-"" : the file is on stdin
run() {
    name=$1 want=$2 lineno=$3
    cat >"$W/conf"
    timeout 10 "$NTLMD" -t -f "$W/conf" >"$W/out" 2>&1
    rc=$?
    why=""
    [ "$rc" -eq 124 ] && why="hangs (timeout 10 s)"
    [ -z "$why" ] && [ "$rc" -ge 128 ] && why="crashed (exit $rc)"
    [ -z "$why" ] && grep -q "Sanitizer\|runtime error" "$W/out" && why="sanitizer report"
    [ -z "$why" ] && grep -q "$SECRET" "$W/out" && why="prints the bindpw_file's content"
    [ -z "$why" ] && [ "$rc" -ne "$want" ] && why="exit $rc, expected $want"
    if [ -z "$why" ] && [ "$want" -eq 1 ] && [ -n "$lineno" ] && ! grep -q "[: ]$lineno[:)]\|line $lineno\b" "$W/out"; then
        why="no line $lineno in the message"
    fi
    if [ -z "$why" ]; then
        echo pass >>"$W/results"
        [ -n "${VERBOSE:-}" ] && { echo "PASS $name"; sed 's/^/#   /' "$W/out" | head -3; }
    else
        echo fail >>"$W/results"
        echo "FAIL $name: $why"
        sed 's/^/#   /' "$W/out" | head -4
    fi
}
# one global-key line on line 1
g() { printf '%s\n' "$2" | run "$1" "$3" 1; }
# one ldap-key line on line 6 after the base
l() { { base; printf '%s\n' "$2"; } | run "$1" "$3" 6; }

# numbers (T_UINT: max_connections 1..65536; ldap timelimit 1..3600)
g "number +5" "max_connections +5" 1
g "number -1" "max_connections -1" 1
g "number 0x10" "max_connections 0x10" 1
g "number 1e3" "max_connections 1e3" 1
g "number at the lower bound-1 (0)" "max_connections 0" 1
g "number at the lower bound (1)" "max_connections 1" 0
g "number at the upper bound (65536)" "max_connections 65536" 0
g "number at the upper bound+1" "max_connections 65537" 1
g "number 2^32+1 (wraps in unsigned?)" "max_connections 4294967297" 1
g "number 2^64" "max_connections 18446744073709551616" 1
g "number 2^64-1" "max_connections 18446744073709551615" 1
g "number 100 digits" "max_connections $(printf '9%.0s' $(seq 100))" 1
g "number with inner blank" "max_connections 1 0" 1
g "number with a trailing unit" "max_connections 10s" 1
g "number in unicode digits" "max_connections ١٠" 1
g "u64 max_clock_skew 2^64+5 (overflow check)" "max_clock_skew 18446744073709551621" 1
l "ldap number +5" "timelimit +5" 1
l "ldap number -0" "timelimit -0" 1
l "ldap number 0 (min 1)" "timelimit 0" 1
l "ldap number 3600 (max)" "timelimit 3600" 0
l "ldap number 3601" "timelimit 3601" 1
l "ldap number 0x10" "timelimit 0x10" 1
l "ldap number 2^32+5 (would wrap to 5)" "timelimit 4294967301" 1
l "ldap cache_ttl 0 (min 0)" "cache_ttl 0" 0
# enum words
l "enum in odd case (SuB)" "scope SuB" 0
l "enum with trailing blanks" "scope sub   " 0
l "enum with trailing tab and comment" "$(printf 'scope sub\t# c')" 0
l "enum unknown" "scope deep" 1
l "enum two words" "scope sub one" 1
l "bool store words (TRUE)" "lockout_writeback TRUE" 0
l "bool store word 1" "lockout_writeback 1" 1
g "global bool 'on' (global takes yes|no)" "anonymous on" 1
g "global word odd case" "log_level DeBuG" 0
# empty values
g "empty global value" "max_connections" 1
g "empty global value with =" "max_connections =" 1
l "empty ldap value" "scope" 1
l "empty ldap value with = and blanks" "binddn =    " 1
l "empty filter ()" "filter ()" 0
l "filter (" "filter (" 1
l "filter )(" "filter )(" 1
l "filter unbalanced ((a=b)" "filter ((a=b)" 1
l "attribute with a blank" "domain_attribute a b" 1
l "attribute 1abc" "domain_attribute 1abc" 1
# repeated non-repeatable keys
{ base; printf 'scope sub\nscope one\n'; } | run "repeated scope" 1 7
{ base; printf 'binddn cn=x\n'; } | run "repeated binddn (line 5 and 6)" 1 6
{ printf 'max_connections 5\nmax_connections 6\n'; } | run "repeated max_connections" 1 2
{ base; printf 'domains A\ndomains B\n'; } | run "repeated domains (WORDS, not repeatable)" 1 7
# files
l "bindpw_file a directory" "bindpw_file $W/dir" 1
l "bindpw_file a fifo (nobody writes)" "bindpw_file $W/fifo" 1
l "bindpw_file /dev/zero" "bindpw_file /dev/zero" 1
ln -s "$W/bindpw" "$W/link"
l "bindpw_file a symlink to the secret" "bindpw_file $W/link" 1
l "bindpw_file missing" "bindpw_file $W/nothing" 1
l "bindpw_file relative" "bindpw_file bindpw" 1
l "bindpw_file ok" "bindpw_file $W/bindpw" 0
l "tls_cacertfile a directory" "tls_cacertfile $W/dir" 1
l "tls_cacertfile a fifo" "tls_cacertfile $W/fifo" 1
l "tls_cacertfile /dev/zero" "tls_cacertfile /dev/zero" 1
l "tls_cacertfile the bindpw file (not a certificate)" "tls_cacertfile $W/bindpw" 1
l "tls_cacertdir a regular file" "tls_cacertdir $W/bindpw" 1
l "tls_cert relative path" "tls_cert cert.pem" 1
# a file the daemon's user cannot read after the privilege drop (mode 600 root)
{ base; printf 'user nobody\ntls_cacertfile %s\n' "$W/ro"; } | run "tls_cacertfile root-only 0600 with user nobody" 1 7
# many repeats, long lines
{ base; for i in $(seq 5000); do printf 'base ou=u%s,dc=example,dc=test\n' "$i"; done; } >"$W/many"
start=$(date +%s%N)
run "5000 base lines (STRINGS) accepted" 0 "" <"$W/many"
echo "# 5000 base lines: ntlmd -t took $((($(date +%s%N) - start) / 1000000)) ms"
{ base; printf 'binddn cn=%s\n' "$(head -c 4090 /dev/zero | tr '\0' a)"; } | run "line of 4098 bytes" 1 6
{ base; printf 'filter (cn=%s)\n' "$(head -c 4084 /dev/zero | tr '\0' a)"; } | run "filter of 4096 bytes (the line limit)" 0 ""
{ printf 'max_connections %s\n' "$(head -c 2000000 /dev/zero | tr '\0' 1)"; } | run "2 MB line" 1 ""
# keys of a store not in backends
printf 'backends files\nscope sideways\n' | run "ldap key with a bad value while backends files" 1 2
printf 'backends files\nbindpw_file /nonexistent\n' | run "ldap bindpw_file missing while backends files" 1 2
printf 'backends files\nuri http://x\n' | run "ldap uri wrong while backends files" 1 2
# the secret in a message: a bindpw_file whose content is a path, a uri
printf '%s\n' "$SECRET" >"$W/bindpw2"; chmod 644 "$W/bindpw2"
l "bindpw_file mode 644 (message must not quote the content)" "bindpw_file $W/bindpw2" 1
l "the secret typed as a key" "$SECRET" 1
l "the secret typed as bindpw" "bindpw $SECRET" 1
l "the secret typed as the value of scope" "scope $SECRET" 1
PASSED=$(grep -c pass "$W/results") FAILED=$(grep -c fail "$W/results")
echo "$PASSED passed, $FAILED failed (a FAIL is a finding)"
[ "$FAILED" -eq 0 ]
