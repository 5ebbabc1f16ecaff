/*
 * verify.c: VERIFY (an AUTHENTICATE against a challenge ntlmd issued) and
 * VERIFY_RESPONSE (a response to the caller's challenge: MS-CHAP, NTLMv1
 * and v2 responses), each as start and resume (handlers.h).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

/* The acceptor's view of the account found: its hashes and, as
 * account_status, the account policy's verdict. A locked account is
 * refused here, before any proof is checked. */
static enum ntlm_status credentials_found(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                          const struct request_ctx *rc, struct lookup_ctx *lc,
                                          struct ntlm_credentials *ret)
{
	struct ntlmd_logon logon = handler_logon_of(lc->workstation);
	enum ntlm_status st = handler_account_found(req, lc);

	if (st == NTLM_OK && (st = handler_account_lockout_check(ctx, req, rc, lc->key)) == NTLM_OK &&
	    (st = handler_store_lockout_check(req, &req->call.account)) == NTLM_OK)
		st = ntlmd_account_credentials(&req->call.account, &logon, ret);
	ntlmd_store_call_clear(&req->call);
	return st;
}

/* Channel bindings from the request: NULL when none of the CB tags is
 * present. An address field is a u32le address type and the address. */
static enum ntlm_status channel_bindings(const struct ntlmd_frame *req, struct ntlm_channel_bindings *cb,
                                         const struct ntlm_channel_bindings **ret)
{
	static const uint16_t addr_tags[2] = {NTLMD_TAG_CB_INITIATOR_ADDR, NTLMD_TAG_CB_ACCEPTOR_ADDR};
	uint32_t *types[2] = {&cb->initiator_addrtype, &cb->acceptor_addrtype};
	struct ntlm_view *addrs[2] = {&cb->initiator_address, &cb->acceptor_address};
	bool any = false;
	enum ntlm_status st;

	*cb = (struct ntlm_channel_bindings){0};
	for (int i = 0; i < 2; i++) {
		struct ntlm_reader r;
		const uint8_t *p;
		size_t len;

		if (ntlmd_frame_get_bytes(req, addr_tags[i], &p, &len) != NTLM_OK)
			continue;
		any = true;
		ntlm_reader_init(&r, p, len);
		if ((st = ntlm_read_u32le(&r, types[i])) != NTLM_OK ||
		    (st = ntlm_read_view(&r, ntlm_reader_left(&r), &addrs[i]->data)) != NTLM_OK)
			return st;
		addrs[i]->len = len - 4;
	}
	if (ntlmd_frame_get_bytes(req, NTLMD_TAG_CB_APPLICATION, &cb->application_data.data,
	                          &cb->application_data.len) == NTLM_OK)
		any = true;
	*ret = any ? cb : NULL;
	return NTLM_OK;
}

/* Writes the parts of an acceptor result that a client may see. A
 * success names the account the store found; the client's own names are
 * only informative (USER, AUTH_DOMAIN). */
static void put_result(struct ntlm_writer *reply, const struct request_ctx *rc,
                       const struct ntlm_accept_result *res, const struct lookup_ctx *lc)
{
	if (res->status == NTLM_OK && lc->found)
		handler_put_canonical(reply, rc, lc);
	ntlmd_put_string(reply, NTLMD_TAG_USER, res->user);
	ntlmd_put_string(reply, NTLMD_TAG_AUTH_DOMAIN, res->domain);
	ntlmd_put_string(reply, NTLMD_TAG_WORKSTATION, res->workstation);
	if (res->response_type != NTLM_RESPONSE_NONE)
		ntlmd_put_string(reply, NTLMD_TAG_RESPONSE_TYPE, ntlm_response_type_name(res->response_type));
	ntlmd_put_u32(reply, NTLMD_TAG_FLAGS, res->flags);
	if (res->status == NTLM_OK && res->has_session_key)
		ntlmd_put_bytes(reply, NTLMD_TAG_SESSION_KEY, res->session_key.bytes,
		                sizeof(res->session_key.bytes));
}

/* Copies what the acceptor learned into the audit record. */
static void audit_result(struct ntlmd_audit_event *e, const struct ntlm_accept_result *res, bool verdicts)
{
	ntlmd_audit_set(e->user, res->user);
	ntlmd_audit_set(e->domain, res->domain);
	ntlmd_audit_set(e->workstation, res->workstation);
	ntlmd_audit_set(e->client_spn, res->client_target_name);
	e->has_response_type = res->response_type != NTLM_RESPONSE_NONE;
	e->response_type = res->response_type;
	e->has_verdicts = verdicts;
	e->mic = res->mic;
	e->channel_bindings = res->channel_bindings;
	e->target_name = res->target_name;
	e->has_clock_skew = res->has_client_timestamp;
	e->clock_skew = res->clock_skew;
}

/* The state of a verification: the library's steps (ntlm_verify_*), which
 * keep pointers to the policy, the messages (in the request's frame) and
 * the channel bindings, all here or in the request until finish. */
struct verify_state {
	struct request_ctx rc;
	struct lookup_ctx lc;
	struct ntlm_policy policy;
	struct ntlm_channel_bindings cb_buf;
	struct ntlm_authenticate auth;
	struct ntlm_accept_result res;
	struct ntlm_verify *v; /* until finish; freed by clear when abandoned */
	bool issued;           /* VERIFY: the challenge was ntlmd's */
	bool retransmit;       /* VERIFY_RESPONSE: an identical retransmit: no second attempt */
	bool response;         /* VERIFY_RESPONSE (no NTLMSSP verdicts) */
};

void handler_clear_verify(struct ntlmd_request *req)
{
	struct verify_state *s = req->state;

	if (s == NULL)
		return;
	ntlm_verify_free(s->v);
	ntlm_accept_result_clear(&s->res);
	ntlm_authenticate_clear(&s->auth);
	handler_lookup_ctx_clear(&s->lc);
	ntlm_wipe(s, sizeof(*s));
	free(s);
	req->state = NULL;
}

static struct verify_state *new_verify(struct ntlmd_request *req)
{
	struct verify_state *s = calloc(1, sizeof(*s));

	req->state = s;
	return s;
}

/* The verification's outcome st: the lockout count, the reply and the
 * record (what the library decoded is in the result, whatever st). */
static enum ntlmd_step verify_done(struct ntlmd_context *ctx, struct ntlmd_request *req, enum ntlm_status st)
{
	struct verify_state *s = req->state;

	if (!s->retransmit) /* a retransmit is not a second attempt */
		handler_lockout_record(ctx, req, &s->rc, &s->lc, st);
	if (!s->response)
		ntlm_writer_clear(&req->reply); /* the result below says it all */
	put_result(&req->reply, &s->rc, &s->res, &s->lc);
	audit_result(&req->event, &s->res, !s->response);
	if (!s->response) {
		ntlmd_put_string(&req->reply, NTLMD_TAG_MIC, ntlm_verdict_name(s->res.mic));
		ntlmd_put_string(&req->reply, NTLMD_TAG_CHANNEL_BINDINGS,
		                 ntlm_verdict_name(s->res.channel_bindings));
		ntlmd_put_string(&req->reply, NTLMD_TAG_TARGET_NAME, ntlm_verdict_name(s->res.target_name));
		ntlmd_put_string(&req->reply, NTLMD_TAG_CLIENT_SPN, s->res.client_target_name);
	}
	if (st == NTLM_OK && !s->response && !s->issued)
		ntlmd_audit_set(req->event.detail, "challenge built by the caller");
	/* the names themselves go to the record, escaped, never into a bare log line */
	if (!s->response && s->res.name_fallback && req->event.detail[0] == '\0') {
		char detail[NTLMD_AUDIT_TEXT];

		snprintf(detail, sizeof(detail), "a name is not UTF-8: decoded by oem_charset %s",
		         ntlm_oem_charset_name(s->policy.oem_charset));
		ntlmd_audit_set(req->event.detail, detail);
	}
	return handler_reply(req, st);
}

/* The proof, once the store answered (or without an account, when the
 * library wants none). */
static enum ntlmd_step finish_verify(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct verify_state *s = req->state;
	struct ntlm_credentials creds = {0};
	enum ntlm_status lookup_status = NTLM_ERR_INVALID_ARGUMENT, st;
	struct ntlm_verify *v = s->v;

	if (req->call.op == NTLMD_CALL_LOOKUP)
		lookup_status = credentials_found(ctx, req, &s->rc, &s->lc, &creds);
	s->v = NULL; /* finish frees it */
	st = ntlm_verify_finish(v, lookup_status, &creds);
	ntlm_wipe(&creds, sizeof(creds));
	return verify_done(ctx, req, st);
}

/* After ntlm_verify_begin*: the account the library wants, or the proof
 * at once when it wants none (a refused response type, a malformed
 * message, a skew: no store is asked for those). */
static enum ntlmd_step verify_next(struct ntlmd_context *ctx, struct ntlmd_request *req, enum ntlm_status st)
{
	struct verify_state *s = req->state;
	const char *user, *domain;

	if (st != NTLM_OK) /* begin failed (memory): no verification state */
		return verify_done(ctx, req, st);
	if (ntlm_verify_wants(s->v, &user, &domain))
		return handler_ask_account(req, user, domain);
	return finish_verify(ctx, req);
}

/* VERIFY's fields, the AUTHENTICATE's names, the address lockout, the
 * domain and the challenge: everything before the library's steps. */
static enum ntlm_status verify_prepare(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                       struct verify_state *s, const uint8_t **negotiate,
                                       size_t *negotiate_len, const uint8_t **challenge,
                                       size_t *challenge_len, const uint8_t **authenticate,
                                       size_t *authenticate_len, const struct ntlm_channel_bindings **cb)
{
	const struct ntlmd_frame *f = &req->frame;
	struct ntlm_decode_options opt = {0};
	uint8_t server_challenge[NTLM_CHALLENGE_LEN];
	uint32_t chal_flags;
	enum ntlm_status st;

	if ((st = ntlmd_frame_get_bytes(f, NTLMD_TAG_CHALLENGE, challenge, challenge_len)) != NTLM_OK ||
	    (st = ntlmd_frame_get_bytes(f, NTLMD_TAG_AUTHENTICATE, authenticate, authenticate_len)) !=
	        NTLM_OK)
		return st;
	if (ntlmd_frame_has(f, NTLMD_TAG_NEGOTIATE) &&
	    (st = ntlmd_frame_get_bytes(f, NTLMD_TAG_NEGOTIATE, negotiate, negotiate_len)) != NTLM_OK)
		return st;
	if ((st = channel_bindings(f, &s->cb_buf, cb)) != NTLM_OK)
		return st;
	/* The names, before anything is verified: for the lockout, the
	 * domain check and the account policy (workstation). */
	if ((st = ntlm_challenge_peek(*challenge, *challenge_len, &chal_flags, server_challenge)) != NTLM_OK)
		return st;
	/* decoded as the acceptor will: in the CHALLENGE's encoding, OEM text
	 * through the service's oem_charset */
	opt.oem_charset = s->rc.policy->oem_charset;
	opt.has_challenge_flags = true;
	opt.challenge_flags = chal_flags;
	if ((st = ntlm_authenticate_decode_ex(*authenticate, *authenticate_len, &opt, &s->auth)) != NTLM_OK)
		return st;
	ntlmd_audit_set(req->event.user, s->auth.user);
	ntlmd_audit_set(req->event.domain, s->auth.domain);
	ntlmd_audit_set(req->event.workstation, s->auth.workstation);
	ntlmd_put_string(&req->reply, NTLMD_TAG_USER, s->auth.user);
	ntlmd_put_string(&req->reply, NTLMD_TAG_AUTH_DOMAIN, s->auth.domain);
	ntlmd_put_string(&req->reply, NTLMD_TAG_WORKSTATION, s->auth.workstation);
	if ((st = handler_address_lockout_check(ctx, req, &s->rc)) != NTLM_OK ||
	    (st = handler_domain_check(ctx, req, &s->rc, s->auth.user, s->auth.domain)) != NTLM_OK)
		return st;
	st = ntlmd_challenges_use(ctx->challenges, server_challenge, s->rc.service, req->now,
	                          handler_used_retention_ms(handler_cfg_of(req), s->rc.policy), &s->issued);
	if (st == NTLM_STATUS_CHALLENGE_EXPIRED)
		ntlmd_audit_set(req->event.detail, "server challenge already used or too old (replay?)");
	else if (st == NTLM_STATUS_CHALLENGE_MISMATCH)
		ntlmd_audit_set(req->event.detail, "challenge issued for another service");
	else if (st == NTLM_ERR_INSUFFICIENT_RESOURCES)
		handler_challenge_limit_hit(ctx, req);
	return st;
}

enum ntlmd_step handler_start_verify(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct verify_state *s = new_verify(req);
	const struct ntlm_channel_bindings *cb = NULL;
	const uint8_t *negotiate = NULL, *challenge = NULL, *authenticate = NULL;
	size_t negotiate_len = 0, challenge_len = 0, authenticate_len = 0;
	enum ntlm_status st;

	if (s == NULL)
		return handler_reply(req, NTLM_ERR_NO_MEMORY);
	handler_request_begin(req, &s->rc);
	st = verify_prepare(ctx, req, s, &negotiate, &negotiate_len, &challenge, &challenge_len,
	                    &authenticate, &authenticate_len, &cb);
	if (st != NTLM_OK) {
		if (req->event.detail[0] == '\0' && ntlm_status_is_malformed(st))
			ntlmd_audit_set(req->event.detail, "malformed NTLMSSP message");
		return handler_reply(req, st);
	}
	ntlmd_policy_to_ntlm(s->rc.policy, false, &s->policy);
	s->lc.workstation = s->auth.workstation;
	st = ntlm_verify_begin(&s->policy, negotiate, negotiate_len, challenge, challenge_len, authenticate,
	                       authenticate_len, cb, ntlm_filetime_now(), &s->res, &s->v);
	return verify_next(ctx, req, st);
}

enum ntlmd_step handler_resume_verify(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	return finish_verify(ctx, req);
}

/* MS-CHAP retransmits: a RADIUS client resends the same Access-Request
 * when an answer is slow, and FreeRADIUS runs ntlm_auth again with the
 * same challenge and response. Such an identical request, within a short
 * window, is verified again instead of being refused as a replay; a
 * different response on a used challenge is still refused. A request is
 * remembered by a keyed digest (HMAC-MD5 under a per-process random key,
 * the context's) of its service, names, challenge and responses: no
 * response is kept. */
#define RETRANSMIT_WINDOW_MS 30000

static void digest_field(struct ntlm_writer *w, const void *p, size_t n)
{
	ntlm_write_u32le(w, (uint32_t)n);
	if (n > 0)
		ntlm_write_bytes(w, p, n);
}

/* What a VERIFY_RESPONSE's digest covers. */
struct response_fields {
	const char *service, *user, *domain;
	const uint8_t *challenge, *lm, *nt;
	size_t lm_len, nt_len;
	uint8_t mschapv2;
};

/* The digest of a VERIFY_RESPONSE; false when it cannot be computed (then
 * no retransmit is recognised). */
static bool retransmit_digest(struct ntlmd_context *ctx, const struct response_fields *r, uint8_t ret[16])
{
	struct ntlm_writer w;
	uint8_t *msg = NULL;
	size_t msg_len = 0;
	bool ok;

	if (!ctx->retransmit_keyed) {
		if (ntlm_random(ctx->retransmit_key, sizeof(ctx->retransmit_key)) != NTLM_OK)
			return false;
		ctx->retransmit_keyed = true;
	}
	ntlm_writer_init(&w, NTLMD_MAX_PAYLOAD * 2);
	digest_field(&w, r->service, strlen(r->service));
	digest_field(&w, r->user, strlen(r->user));
	digest_field(&w, r->domain, strlen(r->domain));
	digest_field(&w, r->challenge, 8);
	digest_field(&w, r->lm, r->lm_len);
	digest_field(&w, r->nt, r->nt_len);
	digest_field(&w, &r->mschapv2, 1);
	if (ntlm_writer_finish(&w, &msg, &msg_len) != NTLM_OK)
		return false;
	ok = ntlm_hmac_md5(ctx->retransmit_key, sizeof(ctx->retransmit_key), msg, msg_len, ret) == NTLM_OK;
	ntlm_wipe(msg, msg_len);
	free(msg);
	return ok;
}

static bool retransmit_seen(const struct ntlmd_context *ctx, const uint8_t digest[16], int64_t now)
{
	bool seen = false;

	for (size_t i = 0; i < NTLMD_RETRANSMIT_SLOTS; i++)
		seen |= ctx->retransmits[i].expires > now &&
		        ntlm_equal_ct(ctx->retransmits[i].digest, digest, sizeof(ctx->retransmits[i].digest));
	return seen;
}

static void retransmit_remember(struct ntlmd_context *ctx, const uint8_t digest[16], int64_t now)
{
	size_t i = ctx->retransmit_next;

	ctx->retransmit_next = (i + 1) % NTLMD_RETRANSMIT_SLOTS;
	ctx->retransmits[i].expires = now + RETRANSMIT_WINDOW_MS;
	memcpy(ctx->retransmits[i].digest, digest, sizeof(ctx->retransmits[i].digest));
}

/* VERIFY_RESPONSE's fields; *ret_challenge_len 8 or the status says not. */
static enum ntlm_status response_fields(const struct ntlmd_frame *f, struct response_fields *r,
                                        size_t *ret_challenge_len)
{
	enum ntlm_status st;

	r->domain = ntlmd_frame_string(f, NTLMD_TAG_DOMAIN);
	if ((st = ntlmd_frame_get_string(f, NTLMD_TAG_USER, &r->user)) != NTLM_OK ||
	    (st = ntlmd_frame_get_bytes(f, NTLMD_TAG_SERVER_CHALLENGE, &r->challenge, ret_challenge_len)) !=
	        NTLM_OK)
		return st;
	if (ntlmd_frame_has(f, NTLMD_TAG_LM_RESPONSE) &&
	    (st = ntlmd_frame_get_bytes(f, NTLMD_TAG_LM_RESPONSE, &r->lm, &r->lm_len)) != NTLM_OK)
		return st;
	if (ntlmd_frame_has(f, NTLMD_TAG_NT_RESPONSE) &&
	    (st = ntlmd_frame_get_bytes(f, NTLMD_TAG_NT_RESPONSE, &r->nt, &r->nt_len)) != NTLM_OK)
		return st;
	if (ntlmd_frame_has(f, NTLMD_TAG_MSCHAPV2) &&
	    (st = ntlmd_frame_get_u8(f, NTLMD_TAG_MSCHAPV2, &r->mschapv2)) != NTLM_OK)
		return st;
	if (r->domain == NULL)
		r->domain = "";
	return NTLM_OK;
}

/* The caller chose the challenge: each is answered once, but for an
 * identical retransmit within RETRANSMIT_WINDOW_MS. */
static enum ntlm_status response_challenge(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                           struct verify_state *s, const struct response_fields *r)
{
	uint8_t digest[16];
	bool has_digest = retransmit_digest(ctx, r, digest), issued;
	enum ntlm_status st;

	s->retransmit = has_digest && retransmit_seen(ctx, digest, req->now);
	if (s->retransmit) {
		ntlmd_audit_set(req->event.detail, "identical retransmit of a recent request");
		return NTLM_OK;
	}
	st = ntlmd_challenges_use(ctx->challenges, r->challenge, s->rc.service, req->now,
	                          handler_used_retention_ms(handler_cfg_of(req), s->rc.policy), &issued);
	if (st == NTLM_ERR_INSUFFICIENT_RESOURCES)
		handler_challenge_limit_hit(ctx, req);
	else if (st != NTLM_OK)
		ntlmd_audit_set(req->event.detail, "server challenge already used (replay?)");
	if (st == NTLM_OK && has_digest)
		retransmit_remember(ctx, digest, req->now);
	return st;
}

enum ntlmd_step handler_start_verify_response(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct verify_state *s = new_verify(req);
	struct response_fields r = {0};
	size_t challenge_len = 0;
	enum ntlm_status st;

	if (s == NULL)
		return handler_reply(req, NTLM_ERR_NO_MEMORY);
	s->response = true;
	handler_request_begin(req, &s->rc);
	r.service = s->rc.service;
	s->lc.workstation = ntlmd_frame_string(&req->frame, NTLMD_TAG_WORKSTATION);
	if ((st = response_fields(&req->frame, &r, &challenge_len)) != NTLM_OK)
		return handler_reply(req, st);
	ntlmd_audit_set(req->event.user, r.user);
	ntlmd_audit_set(req->event.domain, r.domain);
	ntlmd_audit_set(req->event.workstation, s->lc.workstation);
	if ((st = handler_address_lockout_check(ctx, req, &s->rc)) != NTLM_OK ||
	    (st = handler_domain_check(ctx, req, &s->rc, r.user, r.domain)) != NTLM_OK)
		return handler_reply(req, st);
	if (challenge_len != 8)
		return handler_reply(req, NTLM_ERR_BAD_REQUEST);
	if ((st = response_challenge(ctx, req, s, &r)) != NTLM_OK)
		return handler_reply(req, st);
	ntlmd_policy_to_ntlm(s->rc.policy, r.mschapv2 != 0, &s->policy);
	st = ntlm_verify_begin_response(&s->policy, r.user, r.domain, r.challenge, r.lm, r.lm_len, r.nt,
	                                r.nt_len, ntlm_filetime_now(), &s->res, &s->v);
	return verify_next(ctx, req, st);
}
