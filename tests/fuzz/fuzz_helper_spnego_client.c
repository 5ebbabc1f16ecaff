/* libFuzzer target: ntlm_auth's gss-spnego-client line protocol (ntlm_auth/helper.c)
 * with a fake daemon (fuzz_helper.h). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_helper.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_helper_lines(NA_PROTO_GSS_SPNEGO_CLIENT, data, size);
}
