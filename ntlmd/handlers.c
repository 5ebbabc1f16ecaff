/*
 * handlers.c: the dispatch table and the request handlers of ntlmd
 * (docs/PROTOCOL.md describes each request), each in steps (request.h):
 * start makes every check that needs no store, resume takes the store's
 * answer. Both run on the loop thread, so the tables they use need no
 * lock.
 *
 * Order of the checks in every handler that verifies a secret: lockout of
 * the client address first (in start: a locked address asks no store),
 * then the account's lockout (a locked key is refused before any
 * verification), then the verification, and the account state only for a
 * caller who proved the password, so a guesser learns nothing about the
 * account.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "request.h"
#include "sid.h"

/* ------------------------------------------------------------------ */
/* Helpers of the handlers                                             */

/* Request fields every handler may use; the policy is the request's
 * setup's (it lives as long as the request). */
struct request_ctx {
	const char *service;
	const char *client_address;
	char address[NTLMD_ADDRESS_KEY]; /* what it counts by (ntlmd_address_key); "" when none */
	const struct ntlmd_policy *policy;
	struct ntlmd_lockout_rule rule;         /* an address, an account from one address */
	struct ntlmd_lockout_rule account_rule; /* an account from every address together */
};

static const struct ntlmd_config *cfg_of(const struct ntlmd_request *req)
{
	return req->setup->cfg;
}

static void request_begin(struct ntlmd_request *req, struct request_ctx *rc)
{
	const struct ntlmd_frame *f = &req->frame;

	rc->service = ntlmd_frame_string(f, NTLMD_TAG_SERVICE);
	if (rc->service == NULL)
		rc->service = "";
	rc->client_address = ntlmd_frame_string(f, NTLMD_TAG_CLIENT_ADDRESS);
	rc->policy = ntlmd_config_policy(cfg_of(req), rc->service);
	rc->rule = (struct ntlmd_lockout_rule){
	    .threshold = rc->policy->lockout_threshold,
	    .window_s = rc->policy->lockout_window,
	    .duration_s = rc->policy->lockout_duration,
	};
	rc->account_rule = rc->rule;
	rc->account_rule.threshold =
	    rc->policy->lockout_threshold == 0 ? 0 : rc->policy->lockout_account_threshold;
	rc->address[0] = '\0';
	if (rc->client_address != NULL && rc->client_address[0] != '\0')
		ntlmd_address_key(rc->client_address, rc->address);
	ntlmd_audit_set(req->event.service, rc->service);
	ntlmd_audit_set(req->event.client_address, rc->client_address);
}

/* NTLM_STATUS_ACCOUNT_LOCKED_OUT when the client address is locked. */
static enum ntlm_status address_lockout_check(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                              const struct request_ctx *rc)
{
	int64_t left;

	if (rc->address[0] != '\0' &&
	    ntlmd_lockout_locked(ctx->address_lockout, rc->address, req->now, &left)) {
		snprintf(req->event.detail, sizeof(req->event.detail), "client address locked for %llds more",
		         (long long)left);
		return NTLM_STATUS_ACCOUNT_LOCKED_OUT;
	}
	return NTLM_OK;
}

/* The key of an account (its canonical key, so every spelling of it
 * alike) as seen from the request's client address: "-" stands for the
 * requests that name none (local PAM logons, a front end that passes no
 * address). malloc'd; NULL when out of memory. */
static char *account_address_key(const struct request_ctx *rc, const char *account_key)
{
	const char *address = rc->address[0] != '\0' ? rc->address : "-";
	size_t n = strlen(account_key) + strlen(address) + 2;
	char *key = malloc(n);

	if (key != NULL)
		snprintf(key, n, "%s\x1f%s", account_key, address);
	return key;
}

/* NTLM_STATUS_ACCOUNT_LOCKED_OUT when the account is locked for the
 * request's address (lockout_threshold failures from it), or for every
 * address (lockout_account_threshold failures from all together). A lock
 * holds for every service, whichever service's threshold it was earned
 * under. */
static enum ntlm_status account_lockout_check(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                              const struct request_ctx *rc, const char *account_key)
{
	char *pair = account_key != NULL ? account_address_key(rc, account_key) : NULL;
	enum ntlm_status st = NTLM_OK;
	int64_t left;

	if (account_key == NULL)
		return NTLM_OK;
	if (pair == NULL)
		return NTLM_ERR_NO_MEMORY;
	if (ntlmd_lockout_locked(ctx->user_lockout, pair, req->now, &left)) {
		snprintf(req->event.detail, sizeof(req->event.detail),
		         "account locked for this client address for %llds more", (long long)left);
		st = NTLM_STATUS_ACCOUNT_LOCKED_OUT;
	} else if (ntlmd_lockout_locked(ctx->user_lockout, account_key, req->now, &left)) {
		snprintf(req->event.detail, sizeof(req->event.detail),
		         "account locked for every address for %llds more", (long long)left);
		st = NTLM_STATUS_ACCOUNT_LOCKED_OUT;
	}
	free(pair);
	return st;
}

/* NTLM_STATUS_ACCOUNT_LOCKED_OUT when the account's store locked it (ldap
 * lockout_writeback: L in the directory, which any host may have set, or
 * a count at the threshold), before any proof is checked: no password
 * oracle on a locked account. The audit record says until when. */
static enum ntlm_status store_lockout_check(struct ntlmd_request *req, const struct ntlmd_account *a)
{
	char until[40] = "an administrator unlocks it";
	time_t t = (time_t)a->locked_until;
	struct tm tm;

	if (a->locked_until == 0 || (a->locked_until > 0 && a->locked_until <= (int64_t)time(NULL)))
		return NTLM_OK;
	if (a->locked_until > 0 &&
	    (gmtime_r(&t, &tm) == NULL || strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0))
		snprintf(until, sizeof(until), "%lld (Unix time)", (long long)a->locked_until);
	snprintf(req->event.detail, sizeof(req->event.detail),
	         "directory lockout: %lld bad passwords, locked until %s", (long long)a->bad_count, until);
	return NTLM_STATUS_ACCOUNT_LOCKED_OUT;
}

/* What the account lookup learned, for the reply, the lockout and the
 * audit record: the canonical account, never the client's spelling. */
struct lookup_ctx {
	const char *workstation;
	bool exact;          /* the user asked is a login name: the account must carry it */
	const char *backend; /* the store that found the account */
	bool found;
	bool has_uid; /* never uid 0 for an account without one */
	uint32_t uid;
	int64_t bad_count; /* the store's, for its write-back */
	char flags[16];
	char *name, *domain, *key; /* the canonical account (lookup_ctx_clear frees them) */
	char *sid;                 /* the account's SID, NULL when its store knows none */
};

static void lookup_ctx_clear(struct lookup_ctx *lc)
{
	free(lc->name);
	free(lc->domain);
	free(lc->key);
	free(lc->sid);
	lc->name = lc->domain = lc->key = lc->sid = NULL;
}

/* Leaves the store's write-back of this outcome to run after the reply
 * (ldap lockout_writeback): a wrong password, or a success that resets a
 * count above 0. Not needed: nothing is left. */
static void leave_writeback(struct ntlmd_request *req, const struct lookup_ctx *lc, enum ntlm_status st)
{
	struct ntlmd_writeback *w;

	if (!lc->found || (st != NTLM_OK && st != NTLM_STATUS_WRONG_PASSWORD) ||
	    (st == NTLM_OK && lc->bad_count <= 0) || req->writeback != NULL ||
	    !ntlmd_backends_records_logons(req->setup->chain, lc->backend))
		return;
	w = calloc(1, sizeof(*w));
	if (w == NULL || (w->user = strdup(lc->name)) == NULL) {
		free(w);
		ntlmd_log(LOG_ERR, "out of memory: a lockout write-back is not made");
		return;
	}
	w->job.kind = NTLMD_JOB_WRITEBACK;
	w->job.uid = req->peer.uid;
	w->setup = ntlmd_setup_ref(req->setup);
	w->backend = lc->backend;
	w->bad_count = lc->bad_count;
	w->outcome = st;
	w->now = (int64_t)time(NULL);
	req->writeback = w;
}

/* Counts the outcome of a verification. A wrong password counts against
 * the address, the account from that address and the account from every
 * address; an unknown user against the address; success clears the
 * account's counter for that address (the all-address one runs out with
 * its window: a success from one address does not forgive the guesses of
 * others). The store that answered counts too, after the reply. */
static void lockout_record(struct ntlmd_context *ctx, struct ntlmd_request *req, const struct request_ctx *rc,
                           const struct lookup_ctx *lc, enum ntlm_status st)
{
	bool has_account = lc->found && lc->key != NULL;
	char *pair = has_account ? account_address_key(rc, lc->key) : NULL;

	leave_writeback(req, lc, st);
	if (st == NTLM_OK && pair != NULL)
		ntlmd_lockout_clear(ctx->user_lockout, pair);
	if (st != NTLM_STATUS_WRONG_PASSWORD && st != NTLM_STATUS_NO_SUCH_USER)
		goto out;
	if (rc->address[0] != '\0' &&
	    ntlmd_lockout_fail(ctx->address_lockout, rc->address, &rc->rule, req->now))
		ntlmd_audit_set(req->event.detail, "too many failures: client address locked");
	if (st != NTLM_STATUS_WRONG_PASSWORD || !has_account)
		goto out;
	if (pair != NULL && ntlmd_lockout_fail(ctx->user_lockout, pair, &rc->rule, req->now))
		ntlmd_audit_set(req->event.detail,
		                "too many failures: account locked for this client address");
	if (ntlmd_lockout_fail(ctx->user_lockout, lc->key, &rc->account_rule, req->now))
		ntlmd_audit_set(req->event.detail, "too many failures from all addresses: account locked");
out:
	free(pair);
}

/* The account policy's view of this logon: every request is treated as
 * interactive (trust accounts refused) and null passwords are refused. */
static struct ntlmd_logon logon_of(const char *workstation)
{
	return (struct ntlmd_logon){
	    .workstation = workstation,
	    .interactive = true,
	    .allow_null_password = false,
	    .now = (int64_t)time(NULL),
	};
}

/* Keeps the canonical identity of account a in lc and the audit record. */
static enum ntlm_status remember_account(struct ntlmd_request *req, struct lookup_ctx *lc,
                                         const struct ntlmd_account *a)
{
	const char *default_domain = cfg_of(req)->netbios_domain;

	lookup_ctx_clear(lc);
	lc->name = strdup(a->name);
	lc->domain = strdup(a->domain != NULL ? a->domain : default_domain != NULL ? default_domain : "");
	lc->key = strdup(a->key != NULL ? a->key : a->name);
	lc->sid = a->sid != NULL ? strdup(a->sid) : NULL;
	if (lc->name == NULL || lc->domain == NULL || lc->key == NULL ||
	    (a->sid != NULL && lc->sid == NULL)) {
		lookup_ctx_clear(lc);
		return NTLM_ERR_NO_MEMORY;
	}
	lc->found = true;
	lc->has_uid = a->has_uid;
	lc->uid = a->uid;
	lc->bad_count = a->bad_count;
	memcpy(lc->flags, a->flags, sizeof(lc->flags));
	lc->flags[sizeof(lc->flags) - 1] = '\0';
	ntlmd_audit_set_account(&req->event, lc->domain, lc->name, lc->key);
	return NTLM_OK;
}

/* Asks the chain for the account of user (in domain). */
static enum ntlmd_step ask_account(struct ntlmd_request *req, const char *user, const char *domain)
{
	struct ntlmd_store_call *call = ntlmd_request_ask(req, NTLMD_CALL_LOOKUP);

	call->user = user;
	call->domain = domain;
	return NTLMD_STEP_WAIT;
}

/* The answer of ask_account: the account (in req->call.account, wiped
 * with the call) and its identity in lc. With lc->exact, an account whose
 * name is not the user asked byte for byte (another case, spaces that
 * the directory ignores) is no account of that login name. */
static enum ntlm_status account_found(struct ntlmd_request *req, struct lookup_ctx *lc)
{
	struct ntlmd_store_call *call = &req->call;
	struct ntlmd_account *a = &call->account;
	enum ntlm_status st = call->status;

	lc->backend = call->backend;
	req->event.backend = call->backend;
	if (st == NTLM_OK && lc->exact && strcmp(a->name, call->user) != 0) {
		ntlmd_audit_set(req->event.detail, "the store's account name differs from the login name");
		ntlmd_audit_set_account(&req->event, a->domain, a->name, a->key);
		ntlmd_account_clear(a);
		return NTLM_STATUS_NO_SUCH_USER;
	}
	if (st == NTLM_OK && (st = remember_account(req, lc, a)) != NTLM_OK)
		ntlmd_account_clear(a);
	return st;
}

/* The acceptor's view of the account found: its hashes and, as
 * account_status, the account policy's verdict. A locked account is
 * refused here, before any proof is checked. */
static enum ntlm_status credentials_found(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                          const struct request_ctx *rc, struct lookup_ctx *lc,
                                          struct ntlm_credentials *ret)
{
	struct ntlmd_logon logon = logon_of(lc->workstation);
	enum ntlm_status st = account_found(req, lc);

	if (st == NTLM_OK && (st = account_lockout_check(ctx, req, rc, lc->key)) == NTLM_OK &&
	    (st = store_lockout_check(req, &req->call.account)) == NTLM_OK)
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

/* The canonical account of a reply: AUTH_USER (its domain and name per
 * user_name_format), ACCOUNT_NAME, ACCOUNT_DOMAIN and UID. */
static void put_canonical(struct ntlm_writer *reply, const struct request_ctx *rc,
                          const struct lookup_ctx *lc)
{
	char *name = ntlmd_policy_format_user(rc->policy, lc->domain, lc->name);

	if (name == NULL) {
		reply->error = reply->error != NTLM_OK ? reply->error : NTLM_ERR_NO_MEMORY;
		return;
	}
	ntlmd_put_string(reply, NTLMD_TAG_AUTH_USER, name);
	free(name);
	ntlmd_put_string(reply, NTLMD_TAG_ACCOUNT_NAME, lc->name);
	ntlmd_put_string(reply, NTLMD_TAG_ACCOUNT_DOMAIN, lc->domain);
	if (lc->has_uid)
		ntlmd_put_u32(reply, NTLMD_TAG_UID, lc->uid);
	if (lc->sid != NULL)
		ntlmd_put_string(reply, NTLMD_TAG_ACCOUNT_SID, lc->sid);
}

/* Writes the parts of an acceptor result that a client may see. A
 * success names the account the store found; the client's own names are
 * only informative (USER, AUTH_DOMAIN). */
static void put_result(struct ntlm_writer *reply, const struct request_ctx *rc,
                       const struct ntlm_accept_result *res, const struct lookup_ctx *lc)
{
	if (res->status == NTLM_OK && lc->found)
		put_canonical(reply, rc, lc);
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

/* accepted_domains: a domain the service does not take is "no such user"
 * (the audit record keeps the typed domain and says why). Unset, it is
 * the server's own domains, its NetBIOS name (set_names may have taken it
 * from the host name) and the domains the stores serve (from memory: a
 * store's serves_domain never waits). Anonymous logons (no user) are left
 * to the acceptor's policy. */
static enum ntlm_status domain_check(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                     const struct request_ctx *rc, const char *user, const char *domain)
{
	bool listed = rc->policy->accepted_domains != NULL;

	if (user == NULL || user[0] == '\0')
		return NTLM_OK;
	if (domain == NULL)
		domain = "";
	if (ntlmd_config_accepts_domain(cfg_of(req), rc->policy, domain) ||
	    (!listed && (strcasecmp(domain, ctx->names.nb_computer) == 0 ||
	                 ntlmd_backends_serve_domain(req->setup->chain, domain))))
		return NTLM_OK;
	ntlmd_audit_set(req->event.detail, listed ? "domain not in accepted_domains"
	                                          : "domain not served here (accepted_domains unset)");
	return NTLM_STATUS_NO_SUCH_USER;
}

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
static int64_t used_retention_ms(const struct ntlmd_config *cfg, const struct ntlmd_policy *policy)
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
static bool challenge_limit_hit(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	enum ntlmd_challenge_limit limit = ntlmd_challenges_limit_hit(ctx->challenges);
	struct ntlmd_limit_warning *w = &ctx->challenge_warnings[limit];
	const struct ntlmd_config *cfg = cfg_of(req);
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
	          (unsigned)req->peer.uid, cfg_of(req)->max_pending_challenges_per_uid, w->quiet + 1);
	warning_logged(w, req->now);
}

/* A step that replies with status st. */
static enum ntlmd_step reply(struct ntlmd_request *req, enum ntlm_status st)
{
	req->status = st;
	return NTLMD_STEP_REPLY;
}

/* ------------------------------------------------------------------ */
/* PING, CHALLENGE                                                     */

static enum ntlmd_step start_ping(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	ntlmd_stats_put_counters(ctx, &req->reply, req->now);
	req->event.request = NULL;
	return reply(req, NTLM_OK);
}

/* STATS: from memory, on the loop; no audit record (a scrape is no
 * decision), as PING. */
static enum ntlmd_step start_stats(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	ntlmd_stats_reply(ctx, &req->reply, req->now);
	req->event.request = NULL;
	return reply(req, NTLM_OK);
}

static enum ntlmd_step start_challenge(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	const struct ntlmd_config *cfg = cfg_of(req);
	struct request_ctx rc;
	struct ntlmd_issue issue;
	const uint8_t *negotiate = NULL;
	uint8_t *challenge = NULL, server_challenge[NTLM_CHALLENGE_LEN];
	size_t negotiate_len = 0, challenge_len = 0;
	uint64_t forgotten = ntlmd_challenges_forgotten(ctx->challenges);
	uint32_t flags;
	enum ntlm_status st;

	request_begin(req, &rc);
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
	if (st == NTLM_ERR_INSUFFICIENT_RESOURCES && !challenge_limit_hit(ctx, req))
		req->event.request = NULL;
	if (st != NTLM_OK)
		goto out;
	challenges_forgotten(ctx, req, forgotten);
	ntlmd_put_bytes(&req->reply, NTLMD_TAG_CHALLENGE, challenge, challenge_len);
out:
	free(challenge);
	if (st == NTLM_OK)
		req->event.request = NULL; /* not a decision: nothing to audit */
	return reply(req, st);
}

/* ------------------------------------------------------------------ */
/* VERIFY and VERIFY_RESPONSE                                          */

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

static void clear_verify(struct ntlmd_request *req)
{
	struct verify_state *s = req->state;

	if (s == NULL)
		return;
	ntlm_verify_free(s->v);
	ntlm_accept_result_clear(&s->res);
	ntlm_authenticate_clear(&s->auth);
	lookup_ctx_clear(&s->lc);
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
		lockout_record(ctx, req, &s->rc, &s->lc, st);
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
	return reply(req, st);
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
		return ask_account(req, user, domain);
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
	if ((st = address_lockout_check(ctx, req, &s->rc)) != NTLM_OK ||
	    (st = domain_check(ctx, req, &s->rc, s->auth.user, s->auth.domain)) != NTLM_OK)
		return st;
	st = ntlmd_challenges_use(ctx->challenges, server_challenge, s->rc.service, req->now,
	                          used_retention_ms(cfg_of(req), s->rc.policy), &s->issued);
	if (st == NTLM_STATUS_CHALLENGE_EXPIRED)
		ntlmd_audit_set(req->event.detail, "server challenge already used or too old (replay?)");
	else if (st == NTLM_STATUS_CHALLENGE_MISMATCH)
		ntlmd_audit_set(req->event.detail, "challenge issued for another service");
	else if (st == NTLM_ERR_INSUFFICIENT_RESOURCES)
		challenge_limit_hit(ctx, req);
	return st;
}

static enum ntlmd_step start_verify(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct verify_state *s = new_verify(req);
	const struct ntlm_channel_bindings *cb = NULL;
	const uint8_t *negotiate = NULL, *challenge = NULL, *authenticate = NULL;
	size_t negotiate_len = 0, challenge_len = 0, authenticate_len = 0;
	enum ntlm_status st;

	if (s == NULL)
		return reply(req, NTLM_ERR_NO_MEMORY);
	request_begin(req, &s->rc);
	st = verify_prepare(ctx, req, s, &negotiate, &negotiate_len, &challenge, &challenge_len,
	                    &authenticate, &authenticate_len, &cb);
	if (st != NTLM_OK) {
		if (req->event.detail[0] == '\0' && ntlm_status_is_malformed(st))
			ntlmd_audit_set(req->event.detail, "malformed NTLMSSP message");
		return reply(req, st);
	}
	ntlmd_policy_to_ntlm(s->rc.policy, false, &s->policy);
	s->lc.workstation = s->auth.workstation;
	st = ntlm_verify_begin(&s->policy, negotiate, negotiate_len, challenge, challenge_len, authenticate,
	                       authenticate_len, cb, ntlm_filetime_now(), &s->res, &s->v);
	return verify_next(ctx, req, st);
}

static enum ntlmd_step resume_verify(struct ntlmd_context *ctx, struct ntlmd_request *req)
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
	                          used_retention_ms(cfg_of(req), s->rc.policy), &issued);
	if (st == NTLM_ERR_INSUFFICIENT_RESOURCES)
		challenge_limit_hit(ctx, req);
	else if (st != NTLM_OK)
		ntlmd_audit_set(req->event.detail, "server challenge already used (replay?)");
	if (st == NTLM_OK && has_digest)
		retransmit_remember(ctx, digest, req->now);
	return st;
}

static enum ntlmd_step start_verify_response(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct verify_state *s = new_verify(req);
	struct response_fields r = {0};
	size_t challenge_len = 0;
	enum ntlm_status st;

	if (s == NULL)
		return reply(req, NTLM_ERR_NO_MEMORY);
	s->response = true;
	request_begin(req, &s->rc);
	r.service = s->rc.service;
	s->lc.workstation = ntlmd_frame_string(&req->frame, NTLMD_TAG_WORKSTATION);
	if ((st = response_fields(&req->frame, &r, &challenge_len)) != NTLM_OK)
		return reply(req, st);
	ntlmd_audit_set(req->event.user, r.user);
	ntlmd_audit_set(req->event.domain, r.domain);
	ntlmd_audit_set(req->event.workstation, s->lc.workstation);
	if ((st = address_lockout_check(ctx, req, &s->rc)) != NTLM_OK ||
	    (st = domain_check(ctx, req, &s->rc, r.user, r.domain)) != NTLM_OK)
		return reply(req, st);
	if (challenge_len != 8)
		return reply(req, NTLM_ERR_BAD_REQUEST);
	if ((st = response_challenge(ctx, req, s, &r)) != NTLM_OK)
		return reply(req, st);
	ntlmd_policy_to_ntlm(s->rc.policy, r.mschapv2 != 0, &s->policy);
	st = ntlm_verify_begin_response(&s->policy, r.user, r.domain, r.challenge, r.lm, r.lm_len, r.nt,
	                                r.nt_len, ntlm_filetime_now(), &s->res, &s->v);
	return verify_next(ctx, req, st);
}

/* ------------------------------------------------------------------ */
/* Requests naming a user: CHECK_PASSWORD, ACCOUNT_STATUS,             */
/* CHANGE_PASSWORD, SYNC_PASSWORD                                      */

/* Where a user request is: what the store call it waits for is for. */
enum user_step { USER_FIND, USER_CHECK, USER_SET, USER_ADD };

struct user_request {
	struct request_ctx rc;
	struct lookup_ctx lc;
	const char *user, *domain;
	const char *password, *new_password; /* in the request's frame (wiped with it) */
	enum user_step step;
	uint8_t create;
	uint8_t stored; /* SYNC_PASSWORD */
	/* the account found (USER_FIND, USER_CHECK), kept for what follows:
	 * its NT hash is compared (SYNC_PASSWORD), then it is wiped */
	bool has_nt;
	struct ntlm_hash nt_hash;
};

static void clear_user(struct ntlmd_request *req)
{
	struct user_request *u = req->state;

	if (u == NULL)
		return;
	lookup_ctx_clear(&u->lc);
	ntlm_wipe(u, sizeof(*u));
	free(u);
	req->state = NULL;
}

/* USER (required), DOMAIN, WORKSTATION, EXACT_NAME and the
 * accepted_domains check. */
static enum ntlm_status user_request_begin(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                           struct user_request **ret)
{
	const struct ntlmd_frame *f = &req->frame;
	struct user_request *u = calloc(1, sizeof(*u));
	uint8_t exact = 0;
	enum ntlm_status st;

	*ret = u;
	req->state = u;
	if (u == NULL)
		return NTLM_ERR_NO_MEMORY;
	request_begin(req, &u->rc);
	if ((st = ntlmd_frame_get_string(f, NTLMD_TAG_USER, &u->user)) != NTLM_OK)
		return st;
	if (ntlmd_frame_has(f, NTLMD_TAG_EXACT_NAME) &&
	    ((st = ntlmd_frame_get_u8(f, NTLMD_TAG_EXACT_NAME, &exact)) != NTLM_OK || exact > 1))
		return st != NTLM_OK ? st : NTLM_ERR_INVALID_ARGUMENT;
	u->lc.exact = exact == 1;
	u->domain = ntlmd_frame_string(f, NTLMD_TAG_DOMAIN);
	if (u->domain == NULL)
		u->domain = "";
	u->lc.workstation = ntlmd_frame_string(f, NTLMD_TAG_WORKSTATION);
	ntlmd_audit_set(req->event.user, u->user);
	ntlmd_audit_set(req->event.domain, u->domain);
	ntlmd_audit_set(req->event.workstation, u->lc.workstation);
	if (u->user[0] == '\0')
		return NTLM_STATUS_NO_SUCH_USER;
	return domain_check(ctx, req, &u->rc, u->user, u->domain);
}

/* The account's answer kept for the steps after the lookup. */
static enum ntlm_status user_account_found(struct ntlmd_request *req, struct user_request *u)
{
	enum ntlm_status st = account_found(req, &u->lc);

	if (st == NTLM_OK) {
		u->has_nt = req->call.account.has_nt;
		u->nt_hash = req->call.account.nt_hash;
	}
	return st;
}

/* The password check of CHECK_PASSWORD and CHANGE_PASSWORD, once the
 * store answered: the account's lockout (its canonical key),
 * NTOWFv1(password) against the stored hash in constant time, then the
 * account policy (only for the right password), and the counting. */
static enum ntlm_status check_password(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                       struct user_request *u)
{
	struct ntlm_hash h;
	struct ntlmd_logon logon = logon_of(u->lc.workstation);
	enum ntlm_status st = user_account_found(req, u);

	if (st == NTLM_OK && ((st = account_lockout_check(ctx, req, &u->rc, u->lc.key)) != NTLM_OK ||
	                      (st = store_lockout_check(req, &req->call.account)) != NTLM_OK))
		return st;
	if (st == NTLM_OK && !u->has_nt)
		st = NTLM_STATUS_ACCOUNT_RESTRICTION;
	if (st == NTLM_OK && (st = ntlm_ntowfv1(u->password, &h)) == NTLM_OK) {
		if (!ntlm_equal_ct(h.bytes, u->nt_hash.bytes, sizeof(h.bytes)))
			st = NTLM_STATUS_WRONG_PASSWORD;
		else
			st = ntlmd_account_check(&req->call.account, &logon);
	}
	ntlm_wipe(&h, sizeof(h));
	lockout_record(ctx, req, &u->rc, &u->lc, st);
	return st;
}

/* Reply fields naming the account a store found. */
static void put_account(struct ntlm_writer *reply, const struct user_request *u)
{
	if (!u->lc.found)
		return;
	put_canonical(reply, &u->rc, &u->lc);
	ntlmd_put_string(reply, NTLMD_TAG_ACCOUNT_FLAGS, u->lc.flags);
}

/* Looks up the user's account for a password check: the address lockout
 * first, so that a locked address asks no store. */
static enum ntlmd_step ask_for_check(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                     struct user_request *u)
{
	enum ntlm_status st = address_lockout_check(ctx, req, &u->rc);

	if (st != NTLM_OK)
		return reply(req, st);
	u->step = USER_CHECK;
	return ask_account(req, u->user, u->domain);
}

static enum ntlmd_step start_check_password(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u;
	enum ntlm_status st = user_request_begin(ctx, req, &u);

	if (st == NTLM_OK)
		st = ntlmd_frame_get_string(&req->frame, NTLMD_TAG_PASSWORD, &u->password);
	if (st != NTLM_OK)
		return reply(req, st);
	return ask_for_check(ctx, req, u);
}

static enum ntlmd_step resume_check_password(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u = req->state;
	enum ntlm_status st = check_password(ctx, req, u);

	if (st == NTLM_OK)
		put_account(&req->reply, u);
	return reply(req, st);
}

static enum ntlmd_step start_account_status(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u;
	enum ntlm_status st = user_request_begin(ctx, req, &u);

	if (st != NTLM_OK)
		return reply(req, st);
	u->step = USER_FIND;
	return ask_account(req, u->user, u->domain);
}

static enum ntlmd_step resume_account_status(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u = req->state;
	struct ntlmd_logon logon = logon_of(u->lc.workstation);
	enum ntlm_status st = user_account_found(req, u);

	if (st == NTLM_OK) {
		put_account(&req->reply, u);
		st = ntlmd_account_check(&req->call.account, &logon);
	}
	if (st == NTLM_OK)
		st = store_lockout_check(req, &req->call.account);
	if (st == NTLM_OK)
		st = account_lockout_check(ctx, req, &u->rc, u->lc.key);
	return reply(req, st);
}

/* CHANGE_PASSWORD's checks of its fields: CREATE only by root without the
 * old password; a non-empty new password; the old one unless root. */
static enum ntlm_status change_request_check(struct ntlmd_request *req, struct user_request *u)
{
	const struct ntlmd_frame *f = &req->frame;
	enum ntlm_status st;

	u->create = 0;
	if (ntlmd_frame_has(f, NTLMD_TAG_CREATE)) {
		if ((st = ntlmd_frame_get_u8(f, NTLMD_TAG_CREATE, &u->create)) != NTLM_OK)
			return st;
		if (u->create > 1 || (u->create == 1 && (req->peer.uid != 0 || u->password != NULL))) {
			ntlmd_audit_set(req->event.detail, "CREATE is for root, without the old password");
			return NTLM_ERR_INVALID_ARGUMENT;
		}
	}
	if (u->new_password == NULL || u->new_password[0] == '\0') {
		ntlmd_audit_set(req->event.detail, "a non-empty new password is required");
		return u->new_password == NULL ? NTLM_ERR_TRUNCATED : NTLM_ERR_INVALID_ARGUMENT;
	}
	if (u->password == NULL && req->peer.uid != 0) {
		ntlmd_audit_set(req->event.detail, "the old password is required");
		return NTLM_ERR_TRUNCATED;
	}
	return NTLM_OK;
}

/* Asks the store that holds the account found to take the new password
 * (under the account's own name, when its key is still the one proven). */
static enum ntlmd_step ask_set_password(struct ntlmd_request *req, struct user_request *u)
{
	struct ntlmd_store_call *call = ntlmd_request_ask(req, NTLMD_CALL_SET_PASSWORD);
	enum ntlm_status st = ntlm_ntowfv1(u->new_password, &call->nt_hash);

	if (st != NTLM_OK)
		return reply(req, st);
	call->user = u->user;
	call->domain = u->domain;
	call->key = u->lc.key;
	u->step = USER_SET;
	return NTLMD_STEP_WAIT;
}

/* CREATE (CHANGE_PASSWORD, SYNC_PASSWORD): a system user (NSS, in the
 * worker) that no store holds under any spelling is added, with its uid
 * (a store holding a case twin of it refuses in the chain).
 * NO_SUCH_USER otherwise. A user of uid 0 (root, or another name for it)
 * is never added: the worker answers ACCOUNT_RESTRICTION (added_user). */
static enum ntlmd_step ask_add_user(struct ntlmd_request *req, struct user_request *u)
{
	struct ntlmd_store_call *call;
	enum ntlm_status st;

	if (req->event.account_key[0] != '\0') /* found under another spelling */
		return reply(req, NTLM_STATUS_NO_SUCH_USER);
	call = ntlmd_request_ask(req, NTLMD_CALL_ADD_SYSTEM_USER);
	if ((st = ntlm_ntowfv1(u->new_password, &call->nt_hash)) != NTLM_OK)
		return reply(req, st);
	call->user = u->user;
	ntlmd_audit_set(req->event.detail, "added by root");
	u->step = USER_ADD;
	return NTLMD_STEP_WAIT;
}

/* The answer of ask_add_user's call; the audit says why a uid 0 was
 * refused. */
static enum ntlm_status added_user(struct ntlmd_request *req)
{
	if (req->call.uid0_refused)
		ntlmd_audit_set(req->event.detail, "CREATE refused: uid 0 is never added");
	return req->call.status;
}

/* Root may set a password without the old one; every other caller proves
 * it first (an expired password may be changed: that is the point). The
 * account that was found (and proven) is the one written, in the store
 * that found it, under its own name. */
static enum ntlmd_step start_change_password(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u;
	enum ntlm_status st = user_request_begin(ctx, req, &u);

	if (st == NTLM_OK) {
		u->password = ntlmd_frame_string(&req->frame, NTLMD_TAG_PASSWORD);
		u->new_password = ntlmd_frame_string(&req->frame, NTLMD_TAG_NEW_PASSWORD);
		st = change_request_check(req, u);
	}
	if (st != NTLM_OK)
		return reply(req, st);
	if (u->password != NULL)
		return ask_for_check(ctx, req, u);
	u->step = USER_FIND;
	return ask_account(req, u->user, u->domain);
}

static enum ntlmd_step resume_change_password(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u = req->state;
	enum ntlm_status st = req->call.status;

	switch (u->step) {
	case USER_CHECK:
		st = check_password(ctx, req, u);
		if (st == NTLM_STATUS_PASSWORD_EXPIRED || st == NTLM_STATUS_PASSWORD_MUST_CHANGE)
			st = NTLM_OK;
		break;
	case USER_FIND:
		st = user_account_found(req, u);
		if (st == NTLM_OK)
			ntlmd_audit_set(req->event.detail, "set by root without the old password");
		break;
	case USER_SET:
		if (st == NTLM_OK)
			put_account(&req->reply, u);
		break;
	case USER_ADD:
		return reply(req, added_user(req));
	}
	if (st == NTLM_OK && u->step != USER_SET)
		return ask_set_password(req, u);
	if (st == NTLM_STATUS_NO_SUCH_USER && u->create == 1)
		return ask_add_user(req, u);
	return reply(req, st);
}

/* SYNC_PASSWORD's fields: NEW_PASSWORD (not empty), no old PASSWORD,
 * CREATE 0 or 1. */
static enum ntlm_status sync_request_check(struct ntlmd_request *req, struct user_request *u)
{
	const struct ntlmd_frame *f = &req->frame;
	enum ntlm_status st;

	if (ntlmd_frame_has(f, NTLMD_TAG_PASSWORD)) {
		ntlmd_audit_set(req->event.detail, "SYNC_PASSWORD takes no old password");
		return NTLM_ERR_INVALID_ARGUMENT;
	}
	if (ntlmd_frame_has(f, NTLMD_TAG_CREATE) &&
	    ((st = ntlmd_frame_get_u8(f, NTLMD_TAG_CREATE, &u->create)) != NTLM_OK || u->create > 1))
		return st != NTLM_OK ? st : NTLM_ERR_INVALID_ARGUMENT;
	if ((st = ntlmd_frame_get_string(f, NTLMD_TAG_NEW_PASSWORD, &u->new_password)) != NTLM_OK)
		return st;
	if (u->new_password[0] == '\0') {
		ntlmd_audit_set(req->event.detail, "a non-empty new password is required");
		return NTLM_ERR_INVALID_ARGUMENT;
	}
	return NTLM_OK;
}

/* SYNC_PASSWORD (root only): what pam_ntlm's migrate sends after an
 * earlier module (pam_unix) accepted the password. The NT hash (MS-NLMP
 * 3.3.1, NTOWFv1) of NEW_PASSWORD is written to the account found unless
 * that account holds it already. Nothing is a logon here: the account
 * policy is not asked, no lockout counter is read or counted, and the
 * audit record is a success ("unchanged" or "updated") or the lookup's
 * status. Not an oracle: only root may ask (who may set any password),
 * and an answer other than "unchanged" has overwritten the hash. */
static enum ntlmd_step start_sync_password(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u;
	enum ntlm_status st = user_request_begin(ctx, req, &u);

	if (st == NTLM_OK)
		st = sync_request_check(req, u);
	if (st != NTLM_OK)
		return reply(req, st);
	u->stored = NTLMD_STORED_ADDED;
	u->step = USER_FIND;
	return ask_account(req, u->user, u->domain);
}

/* The account found holds the password's hash already (constant-time
 * comparison): nothing to write. */
static bool sync_unchanged(struct ntlmd_request *req, struct user_request *u, enum ntlm_status *ret)
{
	struct ntlm_hash h;
	bool same;

	if ((*ret = ntlm_ntowfv1(u->new_password, &h)) != NTLM_OK)
		return true;
	same = u->has_nt && ntlm_equal_ct(h.bytes, u->nt_hash.bytes, sizeof(h.bytes));
	ntlm_wipe(&h, sizeof(h));
	if (same) {
		ntlmd_audit_set(req->event.detail, "unchanged: the stored NT hash is the password's");
		u->stored = NTLMD_STORED_UNCHANGED;
	}
	return same;
}

static enum ntlmd_step resume_sync_password(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u = req->state;
	enum ntlm_status st = req->call.status;

	(void)ctx;
	if (u->step == USER_FIND) {
		st = user_account_found(req, u);
		if (st == NTLM_OK && !sync_unchanged(req, u, &st))
			return ask_set_password(req, u);
	} else if (u->step == USER_SET && st == NTLM_OK) {
		ntlmd_audit_set(req->event.detail, "updated by root: the stored NT hash was another");
		u->stored = NTLMD_STORED_UPDATED;
	} else if (u->step == USER_ADD) {
		st = added_user(req);
	}
	if (st == NTLM_STATUS_NO_SUCH_USER && u->create == 1 && u->step != USER_ADD)
		return ask_add_user(req, u);
	if (st == NTLM_OK) {
		put_account(&req->reply, u);
		ntlmd_put_u8(&req->reply, NTLMD_TAG_PASSWORD_STORED, u->stored);
	}
	return reply(req, st);
}

/* ------------------------------------------------------------------ */
/* CHECK_MEMBERSHIP                                                    */

/* A GROUP that is a SID, in its canonical text for the stores; a
 * malformed one is STATUS_NTLM_BAD_ENCODING, and the audit says why. */
static enum ntlm_status canonical_group_sid(struct ntlmd_request *req, const char *group, char *out,
                                            size_t size)
{
	struct ntlmd_sid sid;
	const char *why = NULL;
	enum ntlm_status st = ntlmd_sid_parse(group, &sid, &why);
	char detail[NTLMD_AUDIT_TEXT];

	if (st == NTLM_OK && !ntlmd_sid_format(&sid, out, size))
		st = NTLM_ERR_INTERNAL;
	if (st != NTLM_OK) {
		snprintf(detail, sizeof(detail), "GROUP is not a SID: %s",
		         why != NULL ? why : "internal error");
		ntlmd_audit_set(req->event.detail, detail);
	}
	return st;
}

/* CHECK_MEMBERSHIP: whether the account USER (of DOMAIN) belongs to
 * GROUP in a store's group search (ldap: group_base). The account is
 * looked up again (the caller authenticated it first): the group search
 * is asked for its own name and key, so a member given by DN is that
 * account's entry, never another store's namesake. NO_SUCH_GROUP means
 * that no store has the group, NO_SUCH_USER that the account is gone. */
struct membership_state {
	struct request_ctx rc;
	struct lookup_ctx lc;
	const char *group;                 /* the frame's, or sid_text */
	char sid_text[NTLMD_SID_TEXT_MAX]; /* a GROUP that is a SID, canonical */
	bool asked_group;
};

static void clear_membership(struct ntlmd_request *req)
{
	struct membership_state *m = req->state;

	if (m == NULL)
		return;
	lookup_ctx_clear(&m->lc);
	free(m);
	req->state = NULL;
}

static enum ntlmd_step start_check_membership(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct membership_state *m = calloc(1, sizeof(*m));
	const char *user = NULL, *domain;
	enum ntlm_status st;

	(void)ctx;
	req->state = m;
	if (m == NULL)
		return reply(req, NTLM_ERR_NO_MEMORY);
	request_begin(req, &m->rc);
	st = ntlmd_frame_get_string(&req->frame, NTLMD_TAG_USER, &user);
	if (st == NTLM_OK)
		st = ntlmd_frame_get_string(&req->frame, NTLMD_TAG_GROUP, &m->group);
	if (st != NTLM_OK)
		return reply(req, st);
	domain = ntlmd_frame_string(&req->frame, NTLMD_TAG_DOMAIN);
	ntlmd_audit_set(req->event.user, user);
	ntlmd_audit_set(req->event.domain, domain);
	if (user[0] == '\0' || m->group[0] == '\0')
		return reply(req, NTLM_ERR_INVALID_ARGUMENT);
	/* a SID is checked here, on the loop (no store needed), and asked
	 * of the stores in its canonical text, like a name: in a worker */
	if (ntlmd_sid_looks_like(m->group)) {
		st = canonical_group_sid(req, m->group, m->sid_text, sizeof(m->sid_text));
		if (st != NTLM_OK)
			return reply(req, st);
		m->group = m->sid_text;
	}
	return ask_account(req, user, domain != NULL ? domain : "");
}

static enum ntlmd_step resume_check_membership(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct membership_state *m = req->state;
	struct ntlmd_store_call *call;
	enum ntlm_status st;

	(void)ctx;
	if (!m->asked_group) {
		st = account_found(req, &m->lc);
		if (st == NTLM_STATUS_NO_SUCH_USER)
			ntlmd_audit_set(req->event.detail, "no such account");
		if (st != NTLM_OK)
			return reply(req, st);
		call = ntlmd_request_ask(req, NTLMD_CALL_GROUP_MEMBER);
		call->group = m->group;
		call->user = m->lc.name;
		call->key = m->lc.key;
		m->asked_group = true;
		return NTLMD_STEP_WAIT;
	}
	st = req->call.status;
	if (st == NTLM_OK) {
		char detail[NTLMD_AUDIT_TEXT];

		ntlmd_put_u8(&req->reply, NTLMD_TAG_MEMBER, req->call.member ? 1 : 0);
		snprintf(detail, sizeof(detail), "%s a member of group %s (%s)",
		         req->call.member ? "is" : "not", m->group, req->call.backend);
		ntlmd_audit_set(req->event.detail, detail);
	} else if (st == NTLM_STATUS_NO_SUCH_GROUP && req->event.detail[0] == '\0') {
		ntlmd_audit_set(req->event.detail, "no store has that group");
	}
	return reply(req, st);
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */

/* The table is the access policy. */
static const struct ntlmd_handler handlers[] = {
    {NTLMD_REQ_PING, "PING", NTLMD_FROM_ANYONE, start_ping, NULL, NULL},
    {NTLMD_REQ_CHALLENGE, "CHALLENGE", NTLMD_FROM_PRIVILEGED, start_challenge, NULL, NULL},
    {NTLMD_REQ_VERIFY, "VERIFY", NTLMD_FROM_PRIVILEGED, start_verify, resume_verify, clear_verify},
    {NTLMD_REQ_VERIFY_RESPONSE, "VERIFY_RESPONSE", NTLMD_FROM_PRIVILEGED, start_verify_response,
     resume_verify, clear_verify},
    {NTLMD_REQ_CHECK_PASSWORD, "CHECK_PASSWORD", NTLMD_FROM_PRIVILEGED, start_check_password,
     resume_check_password, clear_user},
    {NTLMD_REQ_ACCOUNT_STATUS, "ACCOUNT_STATUS", NTLMD_FROM_PRIVILEGED, start_account_status,
     resume_account_status, clear_user},
    {NTLMD_REQ_CHANGE_PASSWORD, "CHANGE_PASSWORD", NTLMD_FROM_PRIVILEGED, start_change_password,
     resume_change_password, clear_user},
    {NTLMD_REQ_CHECK_MEMBERSHIP, "CHECK_MEMBERSHIP", NTLMD_FROM_PRIVILEGED, start_check_membership,
     resume_check_membership, clear_membership},
    {NTLMD_REQ_SYNC_PASSWORD, "SYNC_PASSWORD", NTLMD_FROM_ROOT, start_sync_password, resume_sync_password,
     clear_user},
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
