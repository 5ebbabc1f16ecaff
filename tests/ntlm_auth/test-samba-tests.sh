#!/bin/sh
# test-samba-tests.sh: Samba 4.17's own tests of ntlm_auth
# (python3-samba's samba/tests/ntlm_auth.py, run unchanged by
# samba_tests.py) against the project's ntlm_auth, which asks a private
# ntlmd (files backend).
#
# What the test file needs from its environment, and what stands in:
#   BINDIR/ntlm_auth  a wrapper that runs the built ntlm_auth with
#                     --ntlmd-socket of the private ntlmd, and with
#                     --local-test-password where the test file runs a
#                     server helper with --password (Samba's test mode,
#                     which ours serves only when asked for by name)
#   wbinfo            tests/ntlm_auth/wbinfo, a documented subset on PATH:
#                     -n answers the account's SID as ntlmd gives it
#                     (ACCOUNT_SID of ACCOUNT_STATUS: the files store's
#                     domain_sid and Samba's algorithmic RID 2*uid+1000);
#                     --ccache-save is refused (no credential cache)
#   the SIDs          --require-membership-of=<that SID> is resolved by
#                     ntlmd (CHECK_MEMBERSHIP with a SID): the account is a
#                     member of its own SID, and not of the test's "bad"
#                     SID (the same with its last two digits cut off)
#   SMB_CONF_PATH     a two-line smb.conf (workgroup; winbind separator "\",
#                     written "\\": a lone "\" at the end of a line is
#                     Samba's line continuation, which left the separator
#                     empty and sent "TESTDOMdcuser" to squid-2.5-basic)
#   DC_USERNAME/DC_PASSWORD/DOMAIN  an account of the private store, with a
#                     password drawn for this run (the test file takes it
#                     from the environment and puts it on command lines)
# ntlm_auth_krb5.py is not run: it needs a KDC.
# Run by "make check", or: NTLMD=... NTLM_AUTH=... tests/ntlm_auth/test-samba-tests.sh
set -u
# shellcheck source=tests/ntlm_auth/common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

setup
"$PY" -c "import samba.tests.ntlm_auth" 2>/dev/null || skip_or_fail "python3-samba (samba.tests.ntlm_auth)"

DOMAIN_SID=S-1-5-21-1004336348-1177238915-682003330
USER=dcuser
USER_UID=1500
# the files store of this run: one account, a password drawn now
PASSWORD=$("$PY" -c 'import secrets; print("Dc-" + secrets.token_hex(8))')
SOCKET=$WORK/run/socket
HASHES=$WORK/smbpasswd
NTLMD_LOG=$WORK/ntlmd.log
mkdir -p "$WORK/bin" "$WORK/run"
PASSWORD=$PASSWORD "$PY" -B - "$HASHES" "$USER" "$USER_UID" <<'PY' || exit 99
import os, sys, time
from clients import nt_hash
path, user, uid = sys.argv[1:]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    f.write(f"{user}:{uid}:{'X' * 32}:{nt_hash(os.environ['PASSWORD']).hex().upper()}:[U          ]:"
            f"LCT-{int(time.time()):08X}:\n")
PY
ntlmd_conf "$SOCKET" "$HASHES" >"$WORK/ntlmd.conf" <<EOC
domain_sid         $DOMAIN_SID
lockout_threshold  0

service radius
ntlm_auth          ntlmv1-permitted
EOC
ntlmd_start "$WORK/ntlmd.conf" "$NTLMD_LOG" "$SOCKET" || exit 99
started "$NTLMD_PID"

# Samba's tests run its server helpers in their local test mode
# (--password with squid-2.5-ntlmssp, gss-spnego or ntlm-server-1), which
# ours serves only when asked for by name: the wrapper adds
# --local-test-password to those command lines, and to no other.
cat >"$WORK/bin/ntlm_auth" <<EOW
#!/bin/sh
server=no password=no prev=
for a in "\$@"; do
    case "\$prev:\$a" in
    *:--helper-protocol=squid-2.5-ntlmssp | *:--helper-protocol=gss-spnego | *:--helper-protocol=ntlm-server-1 | \\
    --helper-protocol:squid-2.5-ntlmssp | --helper-protocol:gss-spnego | --helper-protocol:ntlm-server-1)
        server=yes ;;
    *:--password | *:--password=*) password=yes ;;
    esac
    prev=\$a
done
if [ \$server = yes ] && [ \$password = yes ]; then
    set -- --local-test-password "\$@"
fi
exec "$NTLM_AUTH" --ntlmd-socket="$SOCKET" "\$@"
EOW
chmod 0755 "$WORK/bin/ntlm_auth"
ln -s "$HERE/wbinfo" "$WORK/bin/wbinfo"
printf '[global]\nworkgroup = TESTDOM\nwinbind separator = \\\\\n' >"$WORK/smb.conf"

driver env PATH="$WORK/bin:$PATH" BINDIR="$WORK/bin" SMB_CONF_PATH="$WORK/smb.conf" \
    WBINFO_NTLMD_SOCKET="$SOCKET" \
    DC_USERNAME="$USER" DC_PASSWORD="$PASSWORD" DOMAIN=TESTDOM \
    "$PY" -B "$HERE/samba_tests.py"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
