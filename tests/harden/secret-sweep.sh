#!/bin/sh
# secret-sweep.sh: after the test suite, looks for every test password and
# NT hash where none may be: every *.log and *.trs of the build directory,
# every file under the temporary directories the tests leave behind (they
# should leave none), and the environment and command line of the project's
# processes still running.
#
# The secrets: every password the tests use, collected from tests/ (Python
# Account(...) and *PASSWORD = "..." lines, C .password = "..." lines, shell
# *_PW= / *PASSWORD= assignments) and from tests/harden/secrets.list; their
# NT hashes (MD4 of UTF-16LE), and every NT hash of an smbpasswd line under
# tests/; hashes in lower and upper case.
#
# Usage: tests/harden/secret-sweep.sh BUILD-DIR    ("make secret-sweep" runs it)
# Prints what it scanned and, for a finding, the file and which secret (by
# its origin, never the secret itself); "N passed, M failed"; exit 1 on a
# finding.
set -u

PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
TESTS=$(cd "$HERE/.." && pwd)
BUILD=${1:?usage: secret-sweep.sh BUILD-DIR}
BUILD=$(cd "$BUILD" && pwd) || exit 99
LIST=$HERE/secrets.list

PASSED=0
FAILED=0
WORK=$(mktemp -d /tmp/secret-sweep.XXXXXX) || exit 99
trap 'rm -rf "$WORK"' EXIT

pass() {
    echo "PASS $1"
    PASSED=$((PASSED + 1))
}

fail() {
    echo "FAIL $1"
    FAILED=$((FAILED + 1))
}

# ------------------------------------------------------------------ secrets
# $WORK/secrets: "origin<TAB>secret", one per line (the file is 0600 and
# removed on exit).
umask 077
"$PY" - "$TESTS" "$LIST" >"$WORK/secrets" <<'EOF' || exit 99
import os, re, sys

tests, listfile = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(tests, "interop"))
from clients import nt_hash  # noqa: E402  (MD4 with the pycryptodome fallback)

patterns = {
    ".py": [r'Account\(\s*"[^"]*"\s*,\s*\d+\s*,\s*"([^"]+)"', r'^[A-Z_]*PASSWORD\s*=\s*"([^"]+)"'],
    ".c": [r'\.password\s*=\s*"([^"]+)"', r'\bpassword\s*=\s*"([^"]+)"', r'#define\s+\w*PASSWORD\s+"([^"]+)"'],
    ".sh": [r"^\s*[A-Z_]*(?:_PW|PASSWORD)='([^']+)'", r'^\s*[A-Z_]*(?:_PW|PASSWORD)="([^"$]+)"'],
}
smbpasswd = re.compile(r"^[^:#\s]+:\d+:(?:[0-9A-Fa-f]{32}|X{32}):([0-9A-Fa-f]{32}):", re.M)
passwords, hashes = {}, {}

def scan(path, rel):
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return
    for p in patterns.get(os.path.splitext(path)[1], []):
        for m in re.finditer(p, text, re.M):
            passwords.setdefault(m.group(1), rel)
    for m in smbpasswd.finditer(text):
        hashes.setdefault(m.group(1).lower(), rel)

roots = [tests, os.path.join(tests, "..", "examples")]
for root in roots:
    for d, _, files in os.walk(root):
        if os.sep + "fuzz" + os.sep + "corpus" in d + os.sep:
            continue  # generated copies of the same lines
        for f in files:
            path = os.path.join(d, f)
            scan(path, os.path.relpath(path, os.path.join(tests, "..")))
if os.path.exists(listfile):
    for line in open(listfile, encoding="utf-8"):
        line = line.rstrip("\n")
        if line and not line.startswith("#"):
            passwords.setdefault(line, "tests/harden/secrets.list")

for pw, origin in sorted(passwords.items(), key=lambda kv: kv[1]):
    if len(pw) < 6:
        continue  # too short to be told from ordinary text
    print(f"password from {origin}\t{pw}")
    h = nt_hash(pw).hex()
    hashes.setdefault(h, f"NT hash of a password from {origin}")
for h, origin in sorted(hashes.items(), key=lambda kv: kv[1]):
    label = origin if origin.startswith("NT hash") else f"NT hash from {origin}"
    print(f"{label}\t{h}")
    print(f"{label} (upper case)\t{h.upper()}")
EOF
n_secrets=$(wc -l <"$WORK/secrets")
if [ "$n_secrets" -lt 4 ]; then
    fail "only $n_secrets secrets collected from $TESTS"
    echo "$PASSED passed, $FAILED failed"
    exit 1
fi

# Looks for every secret in the files listed in $1 (NUL-separated); prints
# one FAIL line per secret and file.
sweep() {
    what=$1
    files=$2
    found=0
    if [ -s "$files" ]; then
        while IFS="$(printf '\t')" read -r origin secret; do
            xargs -0 grep -l -F -e "$secret" -- <"$files" 2>/dev/null >"$WORK/hits"
            while read -r hit; do
                fail "$origin found in $hit"
                found=1
            done <"$WORK/hits"
        done <"$WORK/secrets"
    fi
    [ "$found" -eq 0 ] && pass "$what: none of the $n_secrets secrets found"
}

# ------------------------------------------------------------------ logs
find "$BUILD" \( -name '*.log' -o -name '*.trs' \) -type f -print0 >"$WORK/logs"
n_logs=$(tr -cd '\0' <"$WORK/logs" | wc -c)
if [ "$n_logs" -eq 0 ]; then
    fail "no log in $BUILD: run the test suite first"
else
    sweep "$n_logs log files under $BUILD" "$WORK/logs"
fi

# ------------------------------------------------------------------ leftovers
# scripts/run-tests.sh gives each run its own TMPDIR and records it in
# BUILD/test-tmpdir: every file this run's tests left there is swept, and the
# files of another run going on beside this one are not (they are that run's,
# and it may still be using them). Without the record: the directories named
# by the tests' mktemp templates under $TMPDIR or /tmp.
: >"$WORK/left"
if [ -s "$BUILD/test-tmpdir" ]; then
    run_tmp=$(cat "$BUILD/test-tmpdir")
    [ -d "$run_tmp" ] && find "$run_tmp" -type f -print0 >>"$WORK/left"
    left_what="this run's temporary directory $run_tmp"
else
    grep -rhoE 'mktemp -d "?(\$\{TMPDIR:-/tmp\}|/tmp)/[A-Za-z0-9_.-]+\.XXXXXX' "$TESTS" 2>/dev/null |
        sed -E 's/.*\/([A-Za-z0-9_.-]+)\.XXXXXX$/\1/' | sort -u >"$WORK/prefixes"
    while read -r prefix; do
        for dir in "${TMPDIR:-/tmp}/$prefix".*; do
            [ -d "$dir" ] && find "$dir" -type f -print0 >>"$WORK/left"
        done
    done <"$WORK/prefixes"
    left_what="the tests' temporary directories ($(tr '\n' ' ' <"$WORK/prefixes" | sed 's/ $//'))"
fi
n_left=$(tr -cd '\0' <"$WORK/left" | wc -c)
sweep "$n_left files left in $left_what" "$WORK/left"

# ------------------------------------------------------------------ processes
# The project's processes: their binary is in the build directory, or they
# are named as the project's programs.
: >"$WORK/procs"
n_procs=0
for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    comm=$(cat "$p/comm" 2>/dev/null) || continue
    case "$exe:$comm" in
    "$BUILD"/*:* | *:ntlmd | *:ntlm_auth | *:ntlmtool | *:ntlm-demo | *:lt-ntlm*) ;;
    *) continue ;;
    esac
    [ "${p#/proc/}" = "$$" ] && continue
    for f in environ cmdline; do
        if cp "$p/$f" "$WORK/proc-${p#/proc/}-$f" 2>/dev/null; then
            printf '%s\0' "$WORK/proc-${p#/proc/}-$f" >>"$WORK/procs"
        fi
    done
    n_procs=$((n_procs + 1))
done
sweep "the environment and command line of $n_procs running project processes" "$WORK/procs"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
