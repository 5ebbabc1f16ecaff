/* libFuzzer target: ntlm_av_list_decode (MS-NLMP 2.2.2.1) and its getters. */
#include <stddef.h>
#include <stdint.h>

#include "ntlmssp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntlm_av_list l;
	uint32_t flags;
	uint64_t ts;

	if (size > 65536)
		return 0;
	if (ntlm_av_list_decode(data, size, &l) != NTLM_OK)
		return 0;
	(void)ntlm_av_list_get_u32(&l, NTLM_AV_FLAGS, &flags);
	(void)ntlm_av_list_get_u64(&l, NTLM_AV_TIMESTAMP, &ts);
	(void)ntlm_av_list_find(&l, NTLM_AV_TARGET_NAME);
	return 0;
}
