/*
 * metrics.c: the counts and histograms of ntlmd's STATS request (metrics.h),
 * kept on the loop thread, and the reply that reports them.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "request.h"
#include "metrics.h"

void ntlmd_stats_count_request(struct ntlmd_stats *s, const struct ntlmd_request *req, int64_t latency_us)
{
	const struct ntlmd_audit_event *e = &req->event;
	uint8_t mschapv2 = 0;

	if (req->handler->type < NTLMD_STATS_TYPES)
		s->by_type[req->handler->type]++;
	if ((unsigned)req->status < _NTLM_STATUS_MAX)
		s->by_status[req->status]++;
	if (e->has_response_type && (unsigned)e->response_type <= NTLM_RESPONSE_LMV2) {
		if (req->handler->type == NTLMD_REQ_VERIFY_RESPONSE &&
		    ntlmd_frame_get_u8(&req->frame, NTLMD_TAG_MSCHAPV2, &mschapv2) == NTLM_OK &&
		    mschapv2 == 1)
			s->response_types[NTLMD_STATS_MSCHAPV2]++;
		else
			s->response_types[e->response_type]++;
	}
	if (e->has_verdicts && (unsigned)e->mic <= NTLM_VERDICT_UNCHECKED &&
	    (unsigned)e->channel_bindings <= NTLM_VERDICT_UNCHECKED) {
		s->mic[e->mic]++;
		s->channel_bindings[e->channel_bindings]++;
	}
	ntlmd_histogram_add(&s->request_seconds, latency_us > 0 ? (uint64_t)latency_us : 0);
}

void ntlmd_stats_count_call(struct ntlmd_stats *s, const struct ntlmd_store_call *call)
{
	if (call->waited)
		ntlmd_histogram_add(&s->store_seconds, call->elapsed_us > 0 ? (uint64_t)call->elapsed_us : 0);
}

/* ------------------------------------------------------------------ */
/* The reply                                                           */

/* Field tag: a value of records built in v (capped at the frame's size),
 * then appended as bytes; v is cleared. */
static void put_records(struct ntlm_writer *w, uint16_t tag, struct ntlm_writer *v)
{
	uint8_t *p = NULL;
	size_t n = 0;

	enum ntlm_status st = ntlm_writer_finish(v, &p, &n);

	if (st != NTLM_OK) {
		/* out of memory: the reply fails with it (sticky) */
		if (w->error == NTLM_OK)
			w->error = st;
		return;
	}
	ntlmd_put_bytes(w, tag, p, n);
	free(p);
}

static void put_by_type(const struct ntlmd_stats *s, struct ntlm_writer *w)
{
	struct ntlm_writer v;

	ntlm_writer_init(&v, NTLMD_MAX_PAYLOAD);
	for (uint16_t t = 0; t < NTLMD_STATS_TYPES; t++)
		if (ntlmd_request_name(t) != NULL)
			ntlmd_stats_put_count(&v, ntlmd_request_name(t), s->by_type[t]);
	put_records(w, NTLMD_TAG_STATS_REQUESTS, &v);
}

/* Statuses that occurred (the others are 0), and the outcomes they add
 * up to, each outcome always. */
static void put_by_status(const struct ntlmd_stats *s, struct ntlm_writer *w)
{
	static const char *const outcomes[] = {"success", "failure", "malformed", "error"};
	uint64_t by_outcome[4] = {0};
	struct ntlm_writer v;

	ntlm_writer_init(&v, NTLMD_MAX_PAYLOAD);
	for (unsigned st = 0; st < _NTLM_STATUS_MAX; st++) {
		const char *outcome = ntlmd_audit_outcome((enum ntlm_status)st);

		if (s->by_status[st] == 0)
			continue;
		ntlmd_stats_put_count(&v, ntlm_status_name((enum ntlm_status)st), s->by_status[st]);
		for (size_t i = 0; i < 4; i++)
			if (strcmp(outcome, outcomes[i]) == 0)
				by_outcome[i] += s->by_status[st];
	}
	put_records(w, NTLMD_TAG_STATS_STATUSES, &v);
	ntlm_writer_init(&v, NTLMD_MAX_PAYLOAD);
	for (size_t i = 0; i < 4; i++)
		ntlmd_stats_put_count(&v, outcomes[i], by_outcome[i]);
	put_records(w, NTLMD_TAG_STATS_OUTCOMES, &v);
}

static void put_responses(const struct ntlmd_stats *s, struct ntlm_writer *w)
{
	struct ntlm_writer v;

	ntlm_writer_init(&v, NTLMD_MAX_PAYLOAD);
	for (unsigned t = NTLM_RESPONSE_ANONYMOUS; t <= NTLM_RESPONSE_LMV2; t++)
		ntlmd_stats_put_count(&v, ntlm_response_type_name((enum ntlm_response_type)t),
		                      s->response_types[t]);
	ntlmd_stats_put_count(&v, "MS-CHAPv2", s->response_types[NTLMD_STATS_MSCHAPV2]);
	put_records(w, NTLMD_TAG_STATS_RESPONSE_TYPES, &v);
}

static void put_verdicts(struct ntlm_writer *w, uint16_t tag,
                         const uint64_t counts[NTLM_VERDICT_UNCHECKED + 1])
{
	struct ntlm_writer v;

	ntlm_writer_init(&v, NTLMD_MAX_PAYLOAD);
	for (unsigned i = 0; i <= NTLM_VERDICT_UNCHECKED; i++)
		ntlmd_stats_put_count(&v, ntlm_verdict_name((enum ntlm_verdict)i), counts[i]);
	put_records(w, tag, &v);
}

static void put_histogram(struct ntlm_writer *w, uint16_t tag, const struct ntlmd_histogram *h)
{
	struct ntlm_writer v;

	ntlm_writer_init(&v, NTLMD_MAX_PAYLOAD);
	ntlmd_stats_put_histogram(&v, h);
	put_records(w, tag, &v);
}

/* The stores' records, at most NTLMD_STATS_STORES: with texts of at most
 * NTLMD_STATS_TEXT bytes, 32 of them fill about half a frame. */
struct store_records {
	struct ntlm_writer v;
	const char *store;
	size_t n;
};

static void add_store_record(void *arg, const struct ntlmd_store_stat *stat)
{
	struct store_records *r = arg;

	if (r->n >= NTLMD_STATS_STORES || stat == NULL || stat->name == NULL || stat->name[0] == '\0')
		return;
	ntlmd_stats_put_store(&r->v, r->store, stat);
	r->n++;
}

static void put_stores(const struct ntlmd_context *ctx, struct ntlm_writer *w)
{
	struct ntlmd_backend_chain *chain = ctx->setup->chain;
	struct store_records r = {.n = 0};
	const struct ntlmd_backend *b;
	void *state;

	ntlm_writer_init(&r.v, NTLMD_MAX_PAYLOAD);
	for (size_t i = 0; chain != NULL && (b = ntlmd_backends_store(chain, i, &state)) != NULL; i++) {
		if (b->stats == NULL)
			continue;
		r.store = b->name;
		b->stats(state, add_store_record, &r);
	}
	put_records(w, NTLMD_TAG_STATS_STORES, &r.v);
}

void ntlmd_stats_put_counters(const struct ntlmd_context *ctx, struct ntlm_writer *w, int64_t now)
{
	const struct ntlmd_counters *n = &ctx->counters;

	ntlmd_put_string(w, NTLMD_TAG_VERSION, PACKAGE_VERSION);
	ntlmd_put_u64(w, NTLMD_TAG_UPTIME, (uint64_t)((now - ctx->started) / 1000));
	ntlmd_put_u64(w, NTLMD_TAG_REQUESTS, n->requests);
	ntlmd_put_u64(w, NTLMD_TAG_SUCCESSES, n->successes);
	ntlmd_put_u64(w, NTLMD_TAG_FAILURES, n->failures);
	ntlmd_put_u64(w, NTLMD_TAG_ERRORS, n->errors);
	ntlmd_put_u64(w, NTLMD_TAG_REFUSED, n->refused);
	ntlmd_put_u64(w, NTLMD_TAG_CONNECTIONS, n->connections);
	ntlmd_put_u64(w, NTLMD_TAG_CHALLENGES, ntlmd_challenges_count(ctx->challenges));
	ntlmd_put_u64(w, NTLMD_TAG_LOCKOUTS,
	              ntlmd_lockout_count(ctx->user_lockout) + ntlmd_lockout_count(ctx->address_lockout));
	ntlmd_put_u64(w, NTLMD_TAG_STORE_WAITING, n->store_waiting);
	ntlmd_put_u64(w, NTLMD_TAG_STORE_CALLS, n->store_calls);
	ntlmd_put_u64(w, NTLMD_TAG_STORE_TIMEOUTS, n->store_timeouts);
	ntlmd_put_u64(w, NTLMD_TAG_LATE_ANSWERS, n->late_answers);
	ntlmd_put_u64(w, NTLMD_TAG_WRITEBACKS, n->writebacks);
	ntlmd_put_u64(w, NTLMD_TAG_WRITEBACKS_DROPPED, n->writebacks_dropped);
	ntlmd_put_u64(w, NTLMD_TAG_STORE_CANCELLED, n->store_cancelled);
}

void ntlmd_stats_reply(const struct ntlmd_context *ctx, struct ntlm_writer *w, int64_t now)
{
	const struct ntlmd_stats *s = &ctx->stats;

	ntlmd_stats_put_counters(ctx, w, now);
	ntlmd_put_u64(w, NTLMD_TAG_CHALLENGE_CAPACITY, ctx->cfg->max_challenges);
	/* the threads that run, not the configuration's number: a reload
	 * keeps the pool (attack3 F8) */
	ntlmd_put_u64(w, NTLMD_TAG_STORE_WORKERS,
	              ctx->pool != NULL ? ntlmd_pool_workers(ctx->pool) : ctx->cfg->store_workers);
	if (ctx->pool != NULL) {
		ntlmd_put_u64(w, NTLMD_TAG_STORE_BUSY, ntlmd_pool_running(ctx->pool));
		ntlmd_put_u64(w, NTLMD_TAG_STORE_QUEUED, ntlmd_pool_queued(ctx->pool));
	}
	put_by_type(s, w);
	put_by_status(s, w);
	put_responses(s, w);
	put_verdicts(w, NTLMD_TAG_STATS_MIC, s->mic);
	put_verdicts(w, NTLMD_TAG_STATS_CHANNEL_BINDINGS, s->channel_bindings);
	put_histogram(w, NTLMD_TAG_STATS_STORE_SECONDS, &s->store_seconds);
	put_histogram(w, NTLMD_TAG_STATS_REQUEST_SECONDS, &s->request_seconds);
	put_stores(ctx, w);
}
