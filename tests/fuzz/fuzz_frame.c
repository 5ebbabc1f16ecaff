/* libFuzzer target: the ntlmd frame decoder (common/frame.c) and its getters. */
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntlmd_frame f;
	enum ntlm_status st;
	const char *s;
	uint32_t u32;

	if (size > 65536 + NTLMD_HEADER_LEN)
		return 0;
	if (ntlmd_frame_decode(data, size, &f) != NTLM_OK)
		return 0;
	/* the getters' results do not matter, only that they stay in bounds */
	if (ntlmd_frame_get_string(&f, NTLMD_TAG_USER, &s) != NTLM_OK)
		s = NULL;
	if (ntlmd_frame_get_u32(&f, NTLMD_TAG_FLAGS, &u32) != NTLM_OK)
		u32 = 0;
	if (ntlmd_reply_status(&f, &st) != NTLM_OK)
		st = NTLM_OK;
	ntlmd_frame_clear(&f);
	return 0;
}
