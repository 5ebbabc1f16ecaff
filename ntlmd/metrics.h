/*
 * metrics.h: what ntlmd's STATS request reports (docs/PROTOCOL.md, STATS):
 * counts by request type, outcome, status, response type, MIC and
 * channel-binding verdicts, and two latency histograms. Loop thread only,
 * no locks: a store call's time is measured by its worker into the call
 * and added here when the job comes back (HACKING.md, "Who owns what").
 */
#ifndef PAM_NTLM_NTLMD_METRICS_H
#define PAM_NTLM_NTLMD_METRICS_H

#include <stdint.h>

#include "ntlmssp.h"
#include "stats.h"

#define NTLMD_STATS_TYPES     16                       /* request types 0..15 */
#define NTLMD_STATS_RESPONSES (NTLM_RESPONSE_LMV2 + 2) /* the library's, then MS-CHAPv2 */
#define NTLMD_STATS_MSCHAPV2  (NTLM_RESPONSE_LMV2 + 1)

struct ntlmd_stats {
	uint64_t by_type[NTLMD_STATS_TYPES];
	uint64_t by_status[_NTLM_STATUS_MAX];
	uint64_t response_types[NTLMD_STATS_RESPONSES];
	uint64_t mic[NTLM_VERDICT_UNCHECKED + 1];
	uint64_t channel_bindings[NTLM_VERDICT_UNCHECKED + 1];
	struct ntlmd_histogram store_seconds;   /* store calls, in a worker */
	struct ntlmd_histogram request_seconds; /* requests, start to reply built */
};

struct ntlmd_context;
struct ntlmd_request;
struct ntlmd_store_call;

/* A request is answered: its type, status, verdicts and latency. */
void ntlmd_stats_count_request(struct ntlmd_stats *s, const struct ntlmd_request *req, int64_t latency_us);
/* A store call is back from its worker (answered, late or cancelled). */
void ntlmd_stats_count_call(struct ntlmd_stats *s, const struct ntlmd_store_call *call);
/* PING's fields: the version, the uptime and the counters since start-up. */
void ntlmd_stats_put_counters(const struct ntlmd_context *ctx, struct ntlm_writer *w, int64_t now);
/* The STATS reply's fields (PING's, then) (docs/PROTOCOL.md): from memory only; the
 * stores' figures through their stats function, which never waits. */
void ntlmd_stats_reply(const struct ntlmd_context *ctx, struct ntlm_writer *w, int64_t now);

#endif /* PAM_NTLM_NTLMD_METRICS_H */
