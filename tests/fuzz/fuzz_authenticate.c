/* libFuzzer target: ntlm_authenticate_decode (MS-NLMP 2.2.1.3), then the
 * NTLMv2 blob and AV pairs an NTLMv2 response carries. */
#include <stddef.h>
#include <stdint.h>

#include "ntlmssp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntlm_authenticate m;
	struct ntlm_v2_blob blob;
	struct ntlm_av_list l;

	if (size > 65536)
		return 0;
	if (ntlm_authenticate_decode(data, size, &m) != NTLM_OK)
		return 0;
	if (m.nt_response.len > 24 &&
	    ntlm_v2_blob_decode(m.nt_response.data + 16, m.nt_response.len - 16, &blob) == NTLM_OK &&
	    ntlm_av_list_decode(blob.av_pairs.data, blob.av_pairs.len, &l) == NTLM_OK)
		(void)ntlm_av_list_find(&l, NTLM_AV_FLAGS);
	ntlm_authenticate_clear(&m);
	return 0;
}
