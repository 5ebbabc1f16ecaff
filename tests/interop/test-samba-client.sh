#!/bin/sh
# Samba's client (ntlm_auth --helper-protocol=ntlmssp-client-1, no winbindd
# needed) against the libntlmssp acceptor.
set -eu
. "${INTEROP_DIR:-$(dirname "$0")}/common.sh"
require_command ntlm_auth "Samba's ntlm_auth (Debian: winbind)"
interop_setup
run_clients samba
