/* libFuzzer target: ntlm_v2_blob_decode (MS-NLMP 2.2.2.7), then its AV pairs. */
#include <stddef.h>
#include <stdint.h>

#include "ntlmssp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntlm_v2_blob blob;
	struct ntlm_av_list l;

	if (size > 65536)
		return 0;
	if (ntlm_v2_blob_decode(data, size, &blob) == NTLM_OK &&
	    ntlm_av_list_decode(blob.av_pairs.data, blob.av_pairs.len, &l) == NTLM_OK)
		(void)ntlm_av_list_find(&l, NTLM_AV_CHANNEL_BINDINGS);
	return 0;
}
