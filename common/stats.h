/*
 * stats.h: the value encodings of ntlmd's STATS reply (common/protocol.h,
 * docs/PROTOCOL.md "STATS"), written by ntlmd and read by ntlmtool. A tag
 * appears once in a frame, so each family of figures is one field whose
 * value is a list of records:
 *
 *   text      := len u16le | UTF-8 bytes (no NUL, at most NTLMD_STATS_TEXT)
 *   counts    := { name text | value u64le }*
 *   histogram := count u64le | sum_us u64le | n u8 | { le_us u64le | cumulative u64le }[n]
 *   stores    := { store text | name text | server text | detail text | value u64le }*
 *
 * Every record is read through libntlmssp's bounded reader: a length past
 * the value, a bad string or a short record is refused, never skipped.
 */
#ifndef PAM_NTLM_COMMON_STATS_H
#define PAM_NTLM_COMMON_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntlmssp.h"

#define NTLMD_STATS_TEXT    256u /* cap on one text of a record (longer ones are cut) */
#define NTLMD_STATS_BUCKETS 14u  /* finite buckets of a latency histogram */
#define NTLMD_STATS_STORES  32u  /* cap on the store records of one reply (docs/PROTOCOL.md, bounds) */

/* The upper bounds of the latency buckets, in microseconds (0.0005 s to
 * 10 s); a last +Inf bucket is the histogram's count. */
extern const uint64_t ntlmd_stats_bucket_us[NTLMD_STATS_BUCKETS];

/* A latency histogram: per-bucket counts (not cumulative) and the +Inf
 * rest, their count and sum. */
struct ntlmd_histogram {
	uint64_t bucket[NTLMD_STATS_BUCKETS + 1]; /* the last: over the largest bound */
	uint64_t count;
	uint64_t sum_us;
};
void ntlmd_histogram_add(struct ntlmd_histogram *h, uint64_t us);

/*
 * A figure a store reports (backend.h, stats): name is [a-z0-9_], ending
 * in "_total" for a counter (else a gauge); server NULL for the store's
 * own figure, or the server (URI) it is about; detail NULL or a text (a
 * server's last error).
 */
struct ntlmd_store_stat {
	const char *name;
	const char *server;
	const char *detail;
	uint64_t value;
};
typedef void ntlmd_store_stat_fn(void *arg, const struct ntlmd_store_stat *stat);

/* ---- writing (into a value, then ntlmd_put_bytes) ---- */
void ntlmd_stats_put_count(struct ntlm_writer *w, const char *name, uint64_t value);
void ntlmd_stats_put_histogram(struct ntlm_writer *w, const struct ntlmd_histogram *h);
void ntlmd_stats_put_store(struct ntlm_writer *w, const char *store, const struct ntlmd_store_stat *s);

/* ---- reading: each *_next returns NTLM_OK with a record, NTLM_ERR_TRUNCATED
 * at the clean end of the value (ntlm_reader_left() 0), or the status of a
 * malformed record. Texts are copied NUL-terminated into the record. ---- */
struct ntlmd_stats_count {
	char name[NTLMD_STATS_TEXT + 1];
	uint64_t value;
};
enum ntlm_status ntlmd_stats_next_count(struct ntlm_reader *r, struct ntlmd_stats_count *ret) NTLM_MUST_USE;

struct ntlmd_stats_histogram {
	uint64_t count, sum_us;
	uint8_t n;
	uint64_t le_us[255], cumulative[255];
};
/* The whole value: the bounds ascending, the counts not decreasing and
 * none above count (else NTLM_ERR_BAD_ENCODING). */
enum ntlm_status ntlmd_stats_read_histogram(const uint8_t *p, size_t len,
                                            struct ntlmd_stats_histogram *ret) NTLM_MUST_USE;

struct ntlmd_stats_store {
	char store[NTLMD_STATS_TEXT + 1], name[NTLMD_STATS_TEXT + 1];
	char server[NTLMD_STATS_TEXT + 1], detail[NTLMD_STATS_TEXT + 1];
	uint64_t value;
};
enum ntlm_status ntlmd_stats_next_store(struct ntlm_reader *r, struct ntlmd_stats_store *ret) NTLM_MUST_USE;

#endif /* PAM_NTLM_COMMON_STATS_H */
