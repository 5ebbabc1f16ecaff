/* libFuzzer target: the ntlmd frame decoder (common/frame.c) and its
 * getters, and the STATS record readers (common/stats.c) on the STATS
 * fields of a decoded frame. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "frame.h"
#include "stats.h"

/* Every record of the STATS fields f carries; only bounds matter. */
static void read_stats(const struct ntlmd_frame *f)
{
	static const uint16_t counts[] = {NTLMD_TAG_STATS_REQUESTS, NTLMD_TAG_STATS_OUTCOMES,
	                                  NTLMD_TAG_STATS_STATUSES, NTLMD_TAG_STATS_RESPONSE_TYPES,
	                                  NTLMD_TAG_STATS_MIC,      NTLMD_TAG_STATS_CHANNEL_BINDINGS};
	static const uint16_t histograms[] = {NTLMD_TAG_STATS_STORE_SECONDS, NTLMD_TAG_STATS_REQUEST_SECONDS};
	struct ntlmd_stats_count *c = malloc(sizeof(*c));
	struct ntlmd_stats_store *s = malloc(sizeof(*s));
	struct ntlmd_stats_histogram *h = malloc(sizeof(*h));
	struct ntlm_reader r;
	const uint8_t *p;
	size_t n;

	if (c == NULL || s == NULL || h == NULL)
		goto out;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if (ntlmd_frame_get_bytes(f, counts[i], &p, &n) == NTLM_OK)
			for (ntlm_reader_init(&r, p, n); ntlmd_stats_next_count(&r, c) == NTLM_OK;)
				;
	for (size_t i = 0; i < sizeof(histograms) / sizeof(histograms[0]); i++)
		if (ntlmd_frame_get_bytes(f, histograms[i], &p, &n) == NTLM_OK &&
		    ntlmd_stats_read_histogram(p, n, h) != NTLM_OK)
			h->n = 0;
	if (ntlmd_frame_get_bytes(f, NTLMD_TAG_STATS_STORES, &p, &n) == NTLM_OK)
		for (ntlm_reader_init(&r, p, n); ntlmd_stats_next_store(&r, s) == NTLM_OK;)
			;
out:
	free(c);
	free(s);
	free(h);
}

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
	read_stats(&f);
	ntlmd_frame_clear(&f);
	return 0;
}
