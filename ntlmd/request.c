/*
 * request.c: a request's life (see request.h): made from its frame,
 * stepped through its handler, its store calls answered at once or in a
 * worker, finished into a reply and an audit record, freed.
 */
#include <config.h>

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "request.h"

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------------ */
/* Store calls                                                         */

bool ntlmd_store_call_now(struct ntlmd_backend_chain *chain, struct ntlmd_store_call *call)
{
	bool answered = false;

	/* only lookups have a path without the network: writes, group
	 * searches and NSS always go to a worker */
	if (call->op == NTLMD_CALL_LOOKUP)
		call->status = ntlmd_backends_lookup_now(chain, call->user, call->domain, &call->account,
		                                         &call->backend, &answered);
	return answered;
}

/* CREATE: the uid of a system user NSS knows (getpwnam_r: reentrant,
 * several workers may ask at once), then the chain adds it. A uid 0
 * (root, or another name for it) is never added: ACCOUNT_RESTRICTION,
 * with call->uid0_refused for the audit. */
static enum ntlm_status add_system_user(struct ntlmd_backend_chain *chain, struct ntlmd_store_call *call)
{
	struct passwd pw, *found = NULL;
	long size = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t buf_len = size > 0 ? (size_t)size : 16384;
	char *buf = malloc(buf_len);
	enum ntlm_status st;

	if (buf == NULL)
		return NTLM_ERR_NO_MEMORY;
	call->uid0_refused = false;
	if (getpwnam_r(call->user, &pw, buf, buf_len, &found) != 0 || found == NULL)
		st = NTLM_STATUS_NO_SUCH_USER;
	else if (pw.pw_uid == 0) {
		call->uid0_refused = true;
		st = NTLM_STATUS_ACCOUNT_RESTRICTION;
	} else
		st = ntlmd_backends_add_user(chain, call->user, (uint32_t)pw.pw_uid, &call->nt_hash,
		                             call->now);
	free(buf);
	return st;
}

void ntlmd_store_call_run(struct ntlmd_backend_chain *chain, struct ntlmd_store_call *call)
{
	int64_t started = now_us();

	call->waited = true;
	switch (call->op) {
	case NTLMD_CALL_LOOKUP:
		call->status =
		    ntlmd_backends_lookup(chain, call->user, call->domain, &call->account, &call->backend);
		break;
	case NTLMD_CALL_SET_PASSWORD:
		call->status = ntlmd_backends_set_password(chain, call->user, call->domain, call->key,
		                                           &call->nt_hash, call->now);
		break;
	case NTLMD_CALL_ADD_SYSTEM_USER:
		call->status = add_system_user(chain, call);
		break;
	case NTLMD_CALL_GROUP_MEMBER:
		call->status = ntlmd_backends_group_member(chain, call->group, call->user, call->key,
		                                           &call->member, &call->backend);
		break;
	default:
		call->status = NTLM_ERR_INTERNAL;
		break;
	}
	ntlm_wipe(&call->nt_hash, sizeof(call->nt_hash));
	call->elapsed_us = now_us() - started;
}

void ntlmd_store_call_clear(struct ntlmd_store_call *call)
{
	ntlmd_account_clear(&call->account);
	ntlm_wipe(call, sizeof(*call));
}

struct ntlmd_store_call *ntlmd_request_ask(struct ntlmd_request *req, enum ntlmd_store_op op)
{
	ntlmd_store_call_clear(&req->call);
	req->call.op = op;
	req->call.now = (int64_t)time(NULL);
	return &req->call;
}

/* ------------------------------------------------------------------ */
/* Write-backs                                                         */

void ntlmd_writeback_run(struct ntlmd_writeback *w)
{
	ntlmd_backends_record_logon(w->setup->chain, w->backend, w->user, w->bad_count, w->outcome, w->now);
}

void ntlmd_writeback_free(struct ntlmd_writeback *w)
{
	if (w == NULL)
		return;
	ntlmd_setup_unref(w->setup);
	free(w->user);
	free(w);
}

struct ntlmd_writeback *ntlmd_request_take_writeback(struct ntlmd_request *req)
{
	struct ntlmd_writeback *w = req->writeback;

	req->writeback = NULL;
	return w;
}

/* ------------------------------------------------------------------ */
/* The request's life                                                  */

struct ntlmd_request *ntlmd_request_new(struct ntlmd_context *ctx, const struct ntlmd_peer *peer,
                                        uint16_t type, const uint8_t *payload, size_t len)
{
	const struct ntlmd_handler *h = ntlmd_handler_find(type);
	struct ntlmd_request *req;

	if (h == NULL || (req = calloc(1, sizeof(*req))) == NULL)
		return NULL;
	req->job.kind = NTLMD_JOB_REQUEST;
	req->job.uid = peer->uid;
	req->peer = *peer;
	req->handler = h;
	req->setup = ntlmd_setup_ref(ctx->setup);
	req->now = ntlmd_now_ms();
	req->started_us = now_us();
	ntlmd_audit_reset(&req->event);
	req->event.request = h->name;
	req->event.uid = peer->uid;
	req->event.pid = peer->pid;
	ntlmd_fields_init(&req->reply);
	req->frame_status = ntlmd_payload_decode(type, payload, len, &req->frame);
	return req;
}

/* While the handler waits for a call the chain answers at once (a files
 * user, a cache hit), answer it and resume: WAIT only for a worker. */
static enum ntlmd_step advance(struct ntlmd_context *ctx, struct ntlmd_request *req, enum ntlmd_step step)
{
	while (step == NTLMD_STEP_WAIT && ntlmd_store_call_now(req->setup->chain, &req->call)) {
		req->now = ntlmd_now_ms();
		step = req->handler->resume(ctx, req);
	}
	return step;
}

enum ntlmd_step ntlmd_request_start(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	if (req->frame_status != NTLM_OK) {
		ntlmd_audit_set(req->event.detail, "malformed request frame");
		req->status = req->frame_status;
		return NTLMD_STEP_REPLY;
	}
	return advance(ctx, req, req->handler->start(ctx, req));
}

void ntlmd_request_run_call(struct ntlmd_request *req)
{
	ntlmd_store_call_run(req->setup->chain, &req->call);
}

enum ntlmd_step ntlmd_request_resume(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	req->now = ntlmd_now_ms();
	return advance(ctx, req, req->handler->resume(ctx, req));
}

void ntlmd_request_expire(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	(void)ctx;
	ntlm_writer_clear(&req->reply);
	ntlmd_fields_init(&req->reply);
	req->status = NTLM_ERR_BACKEND_UNAVAILABLE;
	ntlmd_audit_set(req->event.detail, "no store answered within store_timeout");
	req->abandoned = true;
}

static void count(struct ntlmd_context *ctx, enum ntlm_status st)
{
	if (st == NTLM_OK)
		ctx->counters.successes++;
	else if (strcmp(ntlmd_audit_outcome(st), "failure") == 0)
		ctx->counters.failures++;
	else
		ctx->counters.errors++;
}

enum ntlm_status ntlmd_request_finish(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                      uint8_t **ret_reply, size_t *ret_len)
{
	enum ntlm_status rst;

	if (req->reply.error != NTLM_OK) {
		/* The reply fields could not be built: the status says why. */
		if (req->status == NTLM_OK)
			req->status = req->reply.error;
		ntlm_writer_clear(&req->reply);
		ntlmd_fields_init(&req->reply);
	}
	req->event.status = req->status;
	ctx->counters.requests++;
	if (req->event.request != NULL)
		count(ctx, req->status);
	rst = ntlmd_reply_encode(req->handler->type, req->status, &req->reply, ret_reply, ret_len);
	req->event.latency_us = now_us() - req->started_us;
	ntlmd_stats_count_request(&ctx->stats, req, req->event.latency_us);
	ntlmd_audit_write(&req->event);
	return rst;
}

void ntlmd_request_free(struct ntlmd_request *req)
{
	if (req == NULL)
		return;
	if (req->handler->clear != NULL)
		req->handler->clear(req);
	ntlmd_store_call_clear(&req->call);
	ntlmd_writeback_free(req->writeback);
	ntlm_writer_clear(&req->reply);
	ntlmd_frame_clear(&req->frame);
	ntlmd_setup_unref(req->setup);
	free(req);
}

enum ntlm_status ntlmd_dispatch(struct ntlmd_context *ctx, const struct ntlmd_peer *peer, uint16_t type,
                                const uint8_t *payload, size_t len, uint8_t **ret_reply, size_t *ret_len)
{
	struct ntlmd_request *req;
	struct ntlmd_writeback *w;
	enum ntlm_status st;

	if (ntlmd_handler_find(type) == NULL)
		return NTLM_ERR_WRONG_MESSAGE_TYPE;
	if ((req = ntlmd_request_new(ctx, peer, type, payload, len)) == NULL)
		return NTLM_ERR_NO_MEMORY;
	for (enum ntlmd_step step = ntlmd_request_start(ctx, req); step == NTLMD_STEP_WAIT;
	     step = ntlmd_request_resume(ctx, req)) {
		ntlmd_request_run_call(req);
		ntlmd_stats_count_call(&ctx->stats, &req->call);
	}
	st = ntlmd_request_finish(ctx, req, ret_reply, ret_len);
	if ((w = ntlmd_request_take_writeback(req)) != NULL) {
		ntlmd_writeback_run(w);
		ntlmd_writeback_free(w);
	}
	ntlmd_request_free(req);
	return st;
}
