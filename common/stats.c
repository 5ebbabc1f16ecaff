/*
 * stats.c: the record encodings of ntlmd's STATS reply (stats.h), on
 * libntlmssp's capped writer and bounded reader.
 */
#include <config.h>

#include <string.h>

#include "frame.h"
#include "stats.h"

/* 0.0005 s to 10 s, the Prometheus client libraries' default spread with
 * a finer start: a files lookup takes tens of microseconds. */
const uint64_t ntlmd_stats_bucket_us[NTLMD_STATS_BUCKETS] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

void ntlmd_histogram_add(struct ntlmd_histogram *h, uint64_t us)
{
	size_t i = 0;

	while (i < NTLMD_STATS_BUCKETS && us > ntlmd_stats_bucket_us[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum_us += us;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

/* A text record: NULL as "", cut to NTLMD_STATS_TEXT at a UTF-8
 * character boundary. */
static void put_text(struct ntlm_writer *w, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n > NTLMD_STATS_TEXT) {
		n = NTLMD_STATS_TEXT;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	ntlm_write_u16le(w, (uint16_t)n);
	if (n > 0)
		ntlm_write_bytes(w, s, n);
}

void ntlmd_stats_put_count(struct ntlm_writer *w, const char *name, uint64_t value)
{
	put_text(w, name);
	ntlm_write_u64le(w, value);
}

void ntlmd_stats_put_histogram(struct ntlm_writer *w, const struct ntlmd_histogram *h)
{
	uint64_t cumulative = 0;

	ntlm_write_u64le(w, h->count);
	ntlm_write_u64le(w, h->sum_us);
	ntlm_write_u8(w, NTLMD_STATS_BUCKETS);
	for (size_t i = 0; i < NTLMD_STATS_BUCKETS; i++) {
		cumulative += h->bucket[i];
		ntlm_write_u64le(w, ntlmd_stats_bucket_us[i]);
		ntlm_write_u64le(w, cumulative);
	}
}

void ntlmd_stats_put_store(struct ntlm_writer *w, const char *store, const struct ntlmd_store_stat *s)
{
	put_text(w, store);
	put_text(w, s->name);
	put_text(w, s->server);
	put_text(w, s->detail);
	ntlm_write_u64le(w, s->value);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

/* A text record into out (NTLMD_STATS_TEXT + 1 bytes), NUL-terminated. */
static enum ntlm_status read_text(struct ntlm_reader *r, char *out)
{
	const uint8_t *p;
	uint16_t n;
	enum ntlm_status st;

	if ((st = ntlm_read_u16le(r, &n)) != NTLM_OK || (st = ntlm_read_view(r, n, &p)) != NTLM_OK)
		return st;
	if (n > NTLMD_STATS_TEXT)
		return NTLM_ERR_STRING_TOO_LONG;
	out[0] = '\0';
	if (n == 0)
		return NTLM_OK; /* an absent text (a store's own figure has no server) */
	if (!ntlmd_string_valid((const char *)p, n) || memchr(p, '\0', n) != NULL)
		return NTLM_ERR_BAD_STRING;
	memcpy(out, p, n);
	out[n] = '\0';
	return NTLM_OK;
}

enum ntlm_status ntlmd_stats_next_count(struct ntlm_reader *r, struct ntlmd_stats_count *ret)
{
	enum ntlm_status st;

	if (ntlm_reader_left(r) == 0)
		return NTLM_ERR_TRUNCATED;
	if ((st = read_text(r, ret->name)) != NTLM_OK)
		return st;
	return ntlm_read_u64le(r, &ret->value);
}

enum ntlm_status ntlmd_stats_read_histogram(const uint8_t *p, size_t len, struct ntlmd_stats_histogram *ret)
{
	struct ntlm_reader r;
	enum ntlm_status st;

	ntlm_reader_init(&r, p, len);
	if ((st = ntlm_read_u64le(&r, &ret->count)) != NTLM_OK ||
	    (st = ntlm_read_u64le(&r, &ret->sum_us)) != NTLM_OK ||
	    (st = ntlm_read_u8(&r, &ret->n)) != NTLM_OK)
		return st;
	for (size_t i = 0; i < ret->n; i++) {
		if ((st = ntlm_read_u64le(&r, &ret->le_us[i])) != NTLM_OK ||
		    (st = ntlm_read_u64le(&r, &ret->cumulative[i])) != NTLM_OK)
			return st;
		if (ret->cumulative[i] > ret->count ||
		    (i > 0 &&
		     (ret->le_us[i] <= ret->le_us[i - 1] || ret->cumulative[i] < ret->cumulative[i - 1])))
			return NTLM_ERR_BAD_ENCODING;
	}
	return ntlm_reader_expect_end(&r);
}

enum ntlm_status ntlmd_stats_next_store(struct ntlm_reader *r, struct ntlmd_stats_store *ret)
{
	enum ntlm_status st;

	if (ntlm_reader_left(r) == 0)
		return NTLM_ERR_TRUNCATED;
	if ((st = read_text(r, ret->store)) != NTLM_OK || (st = read_text(r, ret->name)) != NTLM_OK ||
	    (st = read_text(r, ret->server)) != NTLM_OK || (st = read_text(r, ret->detail)) != NTLM_OK)
		return st;
	return ntlm_read_u64le(r, &ret->value);
}
