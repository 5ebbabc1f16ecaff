#!/bin/sh
# python3-impacket (32-byte NEGOTIATE, NTLMv2 without MIC, SPNs, NTLMv1-ESS)
# against the libntlmssp acceptor.
set -eu
. "${INTEROP_DIR:-$(dirname "$0")}/common.sh"
require_python_module impacket.ntlm python3-impacket
interop_setup
run_clients impacket
