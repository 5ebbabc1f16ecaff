#!/bin/sh
# python3-ntlm-auth (NTLMv2 with MIC, channel bindings, NTLMv1 levels 0-2)
# against the libntlmssp acceptor.
set -eu
. "${INTEROP_DIR:-$(dirname "$0")}/common.sh"
require_python_module ntlm_auth python3-ntlm-auth
interop_setup
run_clients python-ntlm-auth
