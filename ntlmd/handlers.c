/*
 * handlers.c: the dispatch table of ntlmd (docs/PROTOCOL.md describes each
 * request) and its small handlers: PING, STATS, CHALLENGE with the
 * challenge limits. The other handlers are in verify.c, password.c and
 * membership.c; what they share is in handlers.h.
 */
#include <config.h>

#include <stdlib.h>

#include "handlers.h"

/* The lifetime and the clock skew: how long an unused challenge is
 * remembered at most, and the floor of the retention of used ones. */
static int64_t lifetime_and_skew_ms(const struct ntlmd_config *cfg, const struct ntlmd_policy *policy)
{
	return ((int64_t)cfg->challenge_lifetime + (int64_t)policy->max_clock_skew) * 1000;
}

/* How long an issued challenge is remembered when it is not used: the
 * lifetime and the clock skew, cut to pending_challenge_lifetime so that
 * the NEGOTIATEs of a flood leave the table soon. Once it is forgotten, a
 * first answer to it is taken as one to a challenge the caller built;
 * that is no replay. */
static int64_t issued_retention_ms(const struct ntlmd_config *cfg, const struct ntlmd_policy *policy)
{
	int64_t pending = (int64_t)cfg->pending_challenge_lifetime * 1000;
	int64_t longest = lifetime_and_skew_ms(cfg, policy);

	return pending < longest ? pending : longest;
}

/* How long an issued challenge may be answered while it is remembered:
 * challenge_lifetime, within its retention. */
static int64_t issued_valid_ms(const struct ntlmd_config *cfg, const struct ntlmd_policy *policy)
{
	int64_t lifetime = (int64_t)cfg->challenge_lifetime * 1000;
	int64_t retention = issued_retention_ms(cfg, policy);

	return lifetime < retention ? lifetime : retention;
}

/* How long a used challenge is remembered, so that a replayed answer is
 * refused by the table until the acceptor's NTLMv2 timestamp check
 * refuses it by itself. The acceptor takes a client timestamp within
 * max_clock_skew of its clock, either way (MS-NLMP 3.2.5.1.2): a
 * response accepted at time u carries a timestamp of at most
 * u + max_clock_skew, and a replay of it passes the timestamp check until
 * u + 2 * max_clock_skew. Never shorter than lifetime_and_skew_ms(). */
int64_t handler_used_retention_ms(const struct ntlmd_config *cfg, const struct ntlmd_policy *policy)
{
	int64_t twice_skew = 2 * (int64_t)policy->max_clock_skew * 1000;
	int64_t floor = lifetime_and_skew_ms(cfg, policy);

	return twice_skew > floor ? twice_skew : floor;
}

#define CHALLENGE_WARNING_MS 60000 /* at most one warning a minute of each kind */

/* Whether a warning of w's kind may be logged now (once a minute at
 * most); if not, one more event is counted for the next one. */
static bool warning_due(struct ntlmd_limit_warning *w, int64_t now)
{
	if (w->ever && now - w->logged < CHALLENGE_WARNING_MS) {
		w->quiet++;
		return false;
	}
	return true;
}

static void warning_logged(struct ntlmd_limit_warning *w, int64_t now)
{
	w->ever = true;
	w->logged = now;
	w->quiet = 0;
}

/* A copy of a client address fit for a log line: bytes outside printable
 * ASCII become '?', and a long one is cut. */
static const char *printable_address(const char *address, char out[65])
{
	size_t i;

	for (i = 0; i < 64 && address[i] != '\0'; i++)
		out[i] = address[i] > 0x20 && address[i] < 0x7f ? address[i] : '?';
	out[i] = '\0';
	return out;
}

/* A challenge refused for a limit: the audit detail names it, and a
 * warning does, once a minute at most. True when the warning was logged
 * now. */
bool handler_challenge_limit_hit(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	enum ntlmd_challenge_limit limit = ntlmd_challenges_limit_hit(ctx->challenges);
	struct ntlmd_limit_warning *w = &ctx->challenge_warnings[limit];
	const struct ntlmd_config *cfg = handler_cfg_of(req);
	unsigned uid = (unsigned)req->peer.uid;
	char shown[65];

	ntlmd_audit_set(req->event.detail,
	                limit == NTLMD_LIMIT_UID ? "challenge refused: max_pending_challenges_per_uid reached"
	                : limit == NTLMD_LIMIT_ADDRESS
	                    ? "challenge refused: max_pending_challenges_per_address reached"
	                    : "challenge refused: max_challenges reached");
	if (!warning_due(w, req->now))
		return false;
	if (limit == NTLMD_LIMIT_UID)
		ntlmd_log(LOG_WARNING,
		          "challenge refused to uid=%u: it holds %u unused challenges "
		          "(max_pending_challenges_per_uid); %llu more refused since the last message",
		          uid, cfg->max_pending_challenges_per_uid, w->quiet);
	else if (limit == NTLMD_LIMIT_ADDRESS)
		ntlmd_log(
		    LOG_WARNING,
		    "challenge refused to uid=%u for client address %s: it holds %u unused challenges "
		    "for that address (max_pending_challenges_per_address); %llu more refused since the "
		    "last message",
		    uid, printable_address(req->event.client_address, shown),
		    cfg->max_pending_challenges_per_address, w->quiet);
	else
		ntlmd_log(LOG_WARNING,
		          "challenge refused to uid=%u: the challenge table holds %zu challenges "
		          "(max_challenges %u); %llu more refused since the last message",
		          uid, ntlmd_challenges_count(ctx->challenges), cfg->max_challenges, w->quiet);
	warning_logged(w, req->now);
	return true;
}

/* A challenge for a client address issued while its uid held
 * max_pending_challenges_per_uid: the oldest unused challenges were
 * forgotten to make room. A warning says so, once a minute at most. */
static void challenges_forgotten(struct ntlmd_context *ctx, struct ntlmd_request *req, uint64_t before)
{
	struct ntlmd_limit_warning *w = &ctx->challenge_warnings[NTLMD_LIMIT_ADDRESS + 1];
	uint64_t n = ntlmd_challenges_forgotten(ctx->challenges) - before;

	if (n == 0)
		return;
	w->quiet += n - 1;
	if (!warning_due(w, req->now))
		return;
	ntlmd_log(LOG_WARNING,
	          "uid=%u holds %u unused challenges (max_pending_challenges_per_uid): the oldest unused "
	          "challenges are forgotten to make room; %llu forgotten since the last message",
	          (unsigned)req->peer.uid, handler_cfg_of(req)->max_pending_challenges_per_uid, w->quiet + 1);
	warning_logged(w, req->now);
}

/* ------------------------------------------------------------------ */
/* PING, CHALLENGE                                                     */

static enum ntlmd_step start_ping(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	ntlmd_stats_put_counters(ctx, &req->reply, req->now);
	req->event.request = NULL;
	return handler_reply(req, NTLM_OK);
}

/* STATS: from memory, on the loop; no audit record (a scrape is no
 * decision), as PING. */
static enum ntlmd_step start_stats(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	ntlmd_stats_reply(ctx, &req->reply, req->now);
	req->event.request = NULL;
	return handler_reply(req, NTLM_OK);
}

static enum ntlmd_step start_challenge(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	const struct ntlmd_config *cfg = handler_cfg_of(req);
	struct request_ctx rc;
	struct ntlmd_issue issue;
	const uint8_t *negotiate = NULL;
	uint8_t *challenge = NULL, server_challenge[NTLM_CHALLENGE_LEN];
	size_t negotiate_len = 0, challenge_len = 0;
	uint64_t forgotten = ntlmd_challenges_forgotten(ctx->challenges);
	uint32_t flags;
	enum ntlm_status st;

	handler_request_begin(req, &rc);
	issue = (struct ntlmd_issue){
	    .service = rc.service,
	    .uid = req->peer.uid,
	    .address = rc.client_address,
	    .max_pending_per_address = cfg->max_pending_challenges_per_address,
	    .now = req->now,
	    .valid_ms = issued_valid_ms(cfg, rc.policy),
	    .retain_ms = issued_retention_ms(cfg, rc.policy),
	};
	if (rc.policy->ntlm_auth == NTLMD_NTLM_DISABLED) {
		st = NTLM_STATUS_NTLM_BLOCKED;
		goto out;
	}
	if (ntlmd_frame_has(&req->frame, NTLMD_TAG_NEGOTIATE) &&
	    (st = ntlmd_frame_get_bytes(&req->frame, NTLMD_TAG_NEGOTIATE, &negotiate, &negotiate_len)) !=
	        NTLM_OK)
		goto out;
	/* A fresh random server challenge could repeat a remembered one only
	 * by a 2^-64 chance; one more draw settles it. */
	for (int attempt = 0; attempt < 2; attempt++) {
		free(challenge);
		if ((st = ntlm_acceptor_challenge(&ctx->names, negotiate, negotiate_len, ntlm_filetime_now(),
		                                  &challenge, &challenge_len)) != NTLM_OK ||
		    (st = ntlm_challenge_peek(challenge, challenge_len, &flags, server_challenge)) != NTLM_OK)
			goto out;
		st = ntlmd_challenges_issue_for(ctx->challenges, server_challenge, &issue);
		if (st != NTLM_ERR_INTERNAL)
			break;
	}
	/* A flood's refusals are not audited one by one: the first of each
	 * minute is, with the warning, and the warning counts the rest. */
	if (st == NTLM_ERR_INSUFFICIENT_RESOURCES && !handler_challenge_limit_hit(ctx, req))
		req->event.request = NULL;
	if (st != NTLM_OK)
		goto out;
	challenges_forgotten(ctx, req, forgotten);
	ntlmd_put_bytes(&req->reply, NTLMD_TAG_CHALLENGE, challenge, challenge_len);
out:
	free(challenge);
	if (st == NTLM_OK)
		req->event.request = NULL; /* not a decision: nothing to audit */
	return handler_reply(req, st);
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */

/* The table is the access policy. */
static const struct ntlmd_handler handlers[] = {
    {NTLMD_REQ_PING, "PING", NTLMD_FROM_ANYONE, start_ping, NULL, NULL},
    {NTLMD_REQ_CHALLENGE, "CHALLENGE", NTLMD_FROM_PRIVILEGED, start_challenge, NULL, NULL},
    {NTLMD_REQ_VERIFY, "VERIFY", NTLMD_FROM_PRIVILEGED, handler_start_verify, handler_resume_verify,
     handler_clear_verify},
    {NTLMD_REQ_VERIFY_RESPONSE, "VERIFY_RESPONSE", NTLMD_FROM_PRIVILEGED, handler_start_verify_response,
     handler_resume_verify, handler_clear_verify},
    {NTLMD_REQ_CHECK_PASSWORD, "CHECK_PASSWORD", NTLMD_FROM_PRIVILEGED, handler_start_check_password,
     handler_resume_check_password, handler_clear_user},
    {NTLMD_REQ_ACCOUNT_STATUS, "ACCOUNT_STATUS", NTLMD_FROM_PRIVILEGED, handler_start_account_status,
     handler_resume_account_status, handler_clear_user},
    {NTLMD_REQ_CHANGE_PASSWORD, "CHANGE_PASSWORD", NTLMD_FROM_PRIVILEGED, handler_start_change_password,
     handler_resume_change_password, handler_clear_user},
    {NTLMD_REQ_CHECK_MEMBERSHIP, "CHECK_MEMBERSHIP", NTLMD_FROM_PRIVILEGED, handler_start_check_membership,
     handler_resume_check_membership, handler_clear_membership},
    {NTLMD_REQ_SYNC_PASSWORD, "SYNC_PASSWORD", NTLMD_FROM_ROOT, handler_start_sync_password,
     handler_resume_sync_password, handler_clear_user},
    /* who may VERIFY may see what VERIFY did */
    {NTLMD_REQ_STATS, "STATS", NTLMD_FROM_PRIVILEGED, start_stats, NULL, NULL},
};

const struct ntlmd_handler *ntlmd_handler_find(uint16_t type)
{
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].type == type)
			return &handlers[i];
	return NULL;
}
