/*
 * handlers_common.c: what the request handlers share (handlers.h): the
 * request's fields and policy, the lockout checks and the counting of an
 * outcome, the account lookup through the store chain, the domain check,
 * the canonical account of a reply.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "handlers.h"

const struct ntlmd_config *handler_cfg_of(const struct ntlmd_request *req)
{
	return req->setup->cfg;
}

void handler_request_begin(struct ntlmd_request *req, struct request_ctx *rc)
{
	const struct ntlmd_frame *f = &req->frame;

	rc->service = ntlmd_frame_string(f, NTLMD_TAG_SERVICE);
	if (rc->service == NULL)
		rc->service = "";
	rc->client_address = ntlmd_frame_string(f, NTLMD_TAG_CLIENT_ADDRESS);
	rc->policy = ntlmd_config_policy(handler_cfg_of(req), rc->service);
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
enum ntlm_status handler_address_lockout_check(struct ntlmd_context *ctx, struct ntlmd_request *req,
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
enum ntlm_status handler_account_lockout_check(struct ntlmd_context *ctx, struct ntlmd_request *req,
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
enum ntlm_status handler_store_lockout_check(struct ntlmd_request *req, const struct ntlmd_account *a)
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

void handler_lookup_ctx_clear(struct lookup_ctx *lc)
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
void handler_lockout_record(struct ntlmd_context *ctx, struct ntlmd_request *req,
                            const struct request_ctx *rc, const struct lookup_ctx *lc, enum ntlm_status st)
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
struct ntlmd_logon handler_logon_of(const char *workstation)
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
	const char *default_domain = handler_cfg_of(req)->netbios_domain;

	handler_lookup_ctx_clear(lc);
	lc->name = strdup(a->name);
	lc->domain = strdup(a->domain != NULL ? a->domain : default_domain != NULL ? default_domain : "");
	lc->key = strdup(a->key != NULL ? a->key : a->name);
	lc->sid = a->sid != NULL ? strdup(a->sid) : NULL;
	if (lc->name == NULL || lc->domain == NULL || lc->key == NULL ||
	    (a->sid != NULL && lc->sid == NULL)) {
		handler_lookup_ctx_clear(lc);
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
enum ntlmd_step handler_ask_account(struct ntlmd_request *req, const char *user, const char *domain)
{
	struct ntlmd_store_call *call = ntlmd_request_ask(req, NTLMD_CALL_LOOKUP);

	call->user = user;
	call->domain = domain;
	return NTLMD_STEP_WAIT;
}

/* The answer of handler_ask_account: the account (in req->call.account, wiped
 * with the call) and its identity in lc. With lc->exact, an account whose
 * name is not the user asked byte for byte (another case, spaces that
 * the directory ignores) is no account of that login name. */
enum ntlm_status handler_account_found(struct ntlmd_request *req, struct lookup_ctx *lc)
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

/* The canonical account of a reply: AUTH_USER (its domain and name per
 * user_name_format), ACCOUNT_NAME, ACCOUNT_DOMAIN and UID. */
void handler_put_canonical(struct ntlm_writer *reply, const struct request_ctx *rc,
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

/* accepted_domains: a domain the service does not take is "no such user"
 * (the audit record keeps the typed domain and says why). Unset, it is
 * the server's own domains, its NetBIOS name (set_names may have taken it
 * from the host name) and the domains the stores serve (from memory: a
 * store's serves_domain never waits). Anonymous logons (no user) are left
 * to the acceptor's policy. */
enum ntlm_status handler_domain_check(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                      const struct request_ctx *rc, const char *user, const char *domain)
{
	bool listed = rc->policy->accepted_domains != NULL;

	if (user == NULL || user[0] == '\0')
		return NTLM_OK;
	if (domain == NULL)
		domain = "";
	if (ntlmd_config_accepts_domain(handler_cfg_of(req), rc->policy, domain) ||
	    (!listed && (strcasecmp(domain, ctx->names.nb_computer) == 0 ||
	                 ntlmd_backends_serve_domain(req->setup->chain, domain))))
		return NTLM_OK;
	ntlmd_audit_set(req->event.detail, listed ? "domain not in accepted_domains"
	                                          : "domain not served here (accepted_domains unset)");
	return NTLM_STATUS_NO_SUCH_USER;
}

/* A step that replies with status st. */
enum ntlmd_step handler_reply(struct ntlmd_request *req, enum ntlm_status st)
{
	req->status = st;
	return NTLMD_STEP_REPLY;
}
