/* libFuzzer target: ntlm_challenge_decode (MS-NLMP 2.2.1.2), then the
 * target info it carries. */
#include <stddef.h>
#include <stdint.h>

#include "ntlmssp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntlm_challenge m;
	struct ntlm_av_list l;

	if (size > 65536)
		return 0;
	if (ntlm_challenge_decode(data, size, &m) != NTLM_OK)
		return 0;
	if (ntlm_av_list_decode(m.target_info.data, m.target_info.len, &l) == NTLM_OK)
		(void)ntlm_av_list_find(&l, NTLM_AV_TIMESTAMP);
	ntlm_challenge_clear(&m);
	return 0;
}
