/* libFuzzer target: ntlm_negotiate_decode (MS-NLMP 2.2.1.1). */
#include <stddef.h>
#include <stdint.h>

#include "ntlmssp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntlm_negotiate m;

	if (size > 65536)
		return 0;
	if (ntlm_negotiate_decode(data, size, &m) == NTLM_OK)
		ntlm_negotiate_clear(&m);
	return 0;
}
