/* libFuzzer target: ntlm_auth's squid-2.5-basic line protocol (ntlm_auth/helper.c)
 * with a fake daemon (fuzz_helper.h). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_helper.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_helper_lines(NA_PROTO_SQUID_BASIC, data, size);
}
