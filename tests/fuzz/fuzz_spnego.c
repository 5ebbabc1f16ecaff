/* libFuzzer target: the SPNEGO / GSS-API / Kerberos unwrapper (common/spnego.c). */
#include <stddef.h>
#include <stdint.h>

#include "spnego.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spnego_token t;
	uint32_t type;

	if (size > 65536)
		return 0;
	if (ntlm_spnego_unwrap(data, size, &t) != NTLM_OK || t.kind != SPNEGO_KIND_NTLMSSP)
		return 0;
	if (ntlm_message_type(t.inner.data, t.inner.len, &type) != NTLM_OK)
		type = 0; /* only that it stays in bounds matters */
	return 0;
}
