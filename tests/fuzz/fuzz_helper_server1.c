/* libFuzzer target: ntlm_auth's ntlm-server-1 line protocol (ntlm_auth/helper.c)
 * with a fake daemon (fuzz_helper.h). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_helper.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_helper_lines(NA_PROTO_NTLM_SERVER_1, data, size);
}
