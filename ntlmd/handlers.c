/*
 * handlers.c: the dispatch table, access control and request handlers of
 * ntlmd (docs/PROTOCOL.md describes each request).
 *
 * Order of the checks in every handler that verifies a secret: lockout of
 * the client address and of the user first (a locked key is refused before
 * any verification), then the verification, and the account state only
 * for a caller who proved the password, so a guesser learns nothing about
 * the account.
 */
#include <config.h> /* autoconf: PACKAGE_VERSION */

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "handlers.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* The context every handler works in (ntlmd is single-threaded). */
static struct ntlmd_context *ctx;

int64_t ntlmd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Context                                                             */

/* Parses a decimal id; false if s is not all digits or too large. */
static bool parse_id(const char *s, uint32_t *ret)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v >= UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

static bool user_id(const char *name, uint32_t *ret)
{
	const struct passwd *pw = getpwnam(name);

	if (pw == NULL)
		return false;
	*ret = (uint32_t)pw->pw_uid;
	return true;
}

static bool group_id(const char *name, uint32_t *ret)
{
	const struct group *gr = getgrnam(name);

	if (gr == NULL)
		return false;
	*ret = (uint32_t)gr->gr_gid;
	return true;
}

/* The ids of names (NULL-terminated, may be NULL): numbers as they are,
 * names through lookup (NSS); unknown names are logged and skipped. */
static uint32_t *resolve_ids(char *const *names, const char *key, bool (*lookup)(const char *, uint32_t *),
                             size_t *ret_n)
{
	size_t n = 0, count = 0;
	uint32_t *ids;

	while (names != NULL && names[n] != NULL)
		n++;
	ids = calloc(n + 1, sizeof(*ids));
	for (size_t i = 0; i < n && ids != NULL; i++) {
		if (parse_id(names[i], &ids[count]) || lookup(names[i], &ids[count]))
			count++;
		else
			ntlmd_log(LOG_WARNING, "%s: '%s' not found; ignored", key, names[i]);
	}
	*ret_n = ids != NULL ? count : 0;
	return ids;
}

/* allow_users and allow_groups as numbers. */
static void resolve_access(struct ntlmd_context *c)
{
	free(c->allow_uids);
	free(c->allow_gids);
	memset(c->access_cache, 0, sizeof(c->access_cache));
	c->allow_uids = resolve_ids(c->cfg->allow_users, "allow_users", user_id, &c->n_allow_uids);
	c->allow_gids = resolve_ids(c->cfg->allow_groups, "allow_groups", group_id, &c->n_allow_gids);
}

/* The names the CHALLENGE announces; the NetBIOS computer name defaults to
 * the first label of the host name, upper-cased, at most 15 characters. */
static void set_names(struct ntlmd_context *c)
{
	const struct ntlmd_config *cfg = c->cfg;

	c->names = (struct ntlm_server_names){
	    .nb_computer = cfg->netbios_name,
	    .nb_domain = cfg->netbios_domain,
	    .dns_computer = cfg->dns_name,
	    .dns_domain = cfg->dns_domain,
	    .dns_tree = cfg->dns_tree,
	};
	if (c->names.nb_computer == NULL || c->names.nb_computer[0] == '\0') {
		char host[256] = "";
		size_t i;

		if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
			strcpy(host, "NTLMD");
		for (i = 0; i < 15 && host[i] != '\0' && host[i] != '.'; i++)
			c->host_name[i] = (char)toupper((unsigned char)host[i]);
		c->host_name[i] = '\0';
		c->names.nb_computer = c->host_name;
	}
}

enum ntlm_status ntlmd_context_init(struct ntlmd_context *c, const struct ntlmd_config *cfg,
                                    struct ntlmd_backend_chain *backends)
{
	enum ntlm_status st;

	*c = (struct ntlmd_context){.cfg = cfg, .backends = backends, .started = ntlmd_now_ms()};
	if ((st = ntlmd_challenges_new(cfg->max_challenges, cfg->max_pending_challenges_per_uid,
	                               &c->challenges)) != NTLM_OK ||
	    (st = ntlmd_lockout_new(NTLMD_LOCKOUT_MAX, &c->user_lockout)) != NTLM_OK ||
	    (st = ntlmd_lockout_new(NTLMD_LOCKOUT_MAX, &c->address_lockout)) != NTLM_OK) {
		ntlmd_context_clear(c);
		return st;
	}
	resolve_access(c);
	set_names(c);
	ctx = c;
	return NTLM_OK;
}

void ntlmd_context_reload(struct ntlmd_context *c, const struct ntlmd_config *cfg,
                          struct ntlmd_backend_chain *backends)
{
	c->cfg = cfg;
	c->backends = backends;
	if (ntlmd_challenges_set_limits(c->challenges, cfg->max_challenges,
	                                cfg->max_pending_challenges_per_uid) != NTLM_OK)
		ntlmd_log(LOG_ERR,
		          "max_challenges %u, max_pending_challenges_per_uid %u: refused; keeping the "
		          "running limits",
		          cfg->max_challenges, cfg->max_pending_challenges_per_uid);
	resolve_access(c);
	set_names(c);
}

void ntlmd_context_clear(struct ntlmd_context *c)
{
	ntlmd_challenges_free(c->challenges);
	ntlmd_lockout_free(c->user_lockout);
	ntlmd_lockout_free(c->address_lockout);
	free(c->allow_uids);
	free(c->allow_gids);
	if (ctx == c)
		ctx = NULL;
	*c = (struct ntlmd_context){0};
}

/* ------------------------------------------------------------------ */
/* Access control                                                      */

static bool in_gids(uint32_t gid)
{
	for (size_t i = 0; i < ctx->n_allow_gids; i++)
		if (ctx->allow_gids[i] == gid)
			return true;
	return false;
}

/* Whether uid's supplementary groups (getgrouplist) meet allow_groups;
 * remembered for a minute, as NSS may be slow. */
static bool groups_allowed(uint32_t uid)
{
	const struct passwd *pw;
	gid_t groups[256];
	int ngroups = (int)(sizeof(groups) / sizeof(groups[0]));
	bool allowed = false;
	size_t slot;

	for (size_t i = 0; i < NTLMD_ACCESS_CACHE; i++)
		if (ctx->access_cache[i].expires > ctx->now && ctx->access_cache[i].uid == uid)
			return ctx->access_cache[i].privileged;
	pw = getpwuid((uid_t)uid);
	if (pw != NULL) {
		/* A user in more groups than fit is judged on the first ones. */
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) < 0)
			ngroups = (int)(sizeof(groups) / sizeof(groups[0]));
		for (int i = 0; i < ngroups && !allowed; i++)
			allowed = in_gids((uint32_t)groups[i]);
	}
	slot = ctx->access_cache_next++ % NTLMD_ACCESS_CACHE;
	ctx->access_cache[slot].uid = uid;
	ctx->access_cache[slot].privileged = allowed;
	ctx->access_cache[slot].expires = ctx->now + NTLMD_ACCESS_CACHE_MS;
	return allowed;
}

static bool peer_privileged(const struct ntlmd_peer *peer)
{
	if (peer->uid == 0)
		return true;
	for (size_t i = 0; i < ctx->n_allow_uids; i++)
		if (ctx->allow_uids[i] == peer->uid)
			return true;
	if (ctx->n_allow_gids == 0)
		return false;
	if (in_gids(peer->gid))
		return true;
	return groups_allowed(peer->uid);
}

/* ------------------------------------------------------------------ */
/* Helpers of the handlers                                             */

/* Request fields every handler may use. */
struct request_ctx {
	const char *service;
	const char *client_address;
	char address[NTLMD_ADDRESS_KEY]; /* what it counts by (ntlmd_address_key); "" when none */
	const struct ntlmd_policy *policy;
	struct ntlmd_lockout_rule rule;         /* an address, an account from one address */
	struct ntlmd_lockout_rule account_rule; /* an account from every address together */
};

static void request_begin(const struct ntlmd_frame *req, struct request_ctx *rc)
{
	rc->service = ntlmd_frame_string(req, NTLMD_TAG_SERVICE);
	if (rc->service == NULL)
		rc->service = "";
	rc->client_address = ntlmd_frame_string(req, NTLMD_TAG_CLIENT_ADDRESS);
	rc->policy = ntlmd_config_policy(ctx->cfg, rc->service);
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
	ntlmd_audit_set(ctx->event.service, rc->service);
	ntlmd_audit_set(ctx->event.client_address, rc->client_address);
}

/* NTLM_STATUS_ACCOUNT_LOCKED_OUT when the client address is locked. */
static enum ntlm_status address_lockout_check(const struct request_ctx *rc)
{
	int64_t left;

	if (rc->address[0] != '\0' &&
	    ntlmd_lockout_locked(ctx->address_lockout, rc->address, ctx->now, &left)) {
		snprintf(ctx->event.detail, sizeof(ctx->event.detail), "client address locked for %llds more",
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
static enum ntlm_status account_lockout_check(const struct request_ctx *rc, const char *account_key)
{
	char *pair = account_key != NULL ? account_address_key(rc, account_key) : NULL;
	enum ntlm_status st = NTLM_OK;
	int64_t left;

	if (account_key == NULL)
		return NTLM_OK;
	if (pair == NULL)
		return NTLM_ERR_NO_MEMORY;
	if (ntlmd_lockout_locked(ctx->user_lockout, pair, ctx->now, &left)) {
		snprintf(ctx->event.detail, sizeof(ctx->event.detail),
		         "account locked for this client address for %llds more", (long long)left);
		st = NTLM_STATUS_ACCOUNT_LOCKED_OUT;
	} else if (ntlmd_lockout_locked(ctx->user_lockout, account_key, ctx->now, &left)) {
		snprintf(ctx->event.detail, sizeof(ctx->event.detail),
		         "account locked for every address for %llds more", (long long)left);
		st = NTLM_STATUS_ACCOUNT_LOCKED_OUT;
	}
	free(pair);
	return st;
}

/* What the account lookup learned, for the reply, the lockout and the
 * audit record: the canonical account, never the client's spelling. */
struct lookup_ctx {
	const struct request_ctx *rc; /* for the account's lockout */
	const char *workstation;
	bool exact;          /* the user asked is a login name: the account must carry it */
	const char *backend; /* the store that found the account */
	bool found;
	bool has_uid; /* never uid 0 for an account without one */
	uint32_t uid;
	int64_t bad_count; /* the store's, for its write-back */
	char flags[16];
	char *name, *domain, *key; /* the canonical account (lookup_ctx_clear frees them) */
};

static void lookup_ctx_clear(struct lookup_ctx *lc)
{
	free(lc->name);
	free(lc->domain);
	free(lc->key);
	lc->name = lc->domain = lc->key = NULL;
}

/* Counts the outcome of a verification. A wrong password counts against
 * the address, the account from that address and the account from every
 * address; an unknown user against the address; success clears the
 * account's counter for that address (the all-address one runs out with
 * its window: a success from one address does not forgive the guesses of
 * others). */
static void lockout_record(const struct request_ctx *rc, const struct lookup_ctx *lc, enum ntlm_status st)
{
	bool has_account = lc->found && lc->key != NULL;
	char *pair = has_account ? account_address_key(rc, lc->key) : NULL;

	/* the store that answered keeps its own count (ldap lockout_writeback) */
	if (lc->found)
		ntlmd_backends_record_logon(ctx->backends, lc->backend, lc->name, lc->bad_count, st,
		                            (int64_t)time(NULL));
	if (st == NTLM_OK && pair != NULL)
		ntlmd_lockout_clear(ctx->user_lockout, pair);
	if (st != NTLM_STATUS_WRONG_PASSWORD && st != NTLM_STATUS_NO_SUCH_USER)
		goto out;
	if (rc->address[0] != '\0' &&
	    ntlmd_lockout_fail(ctx->address_lockout, rc->address, &rc->rule, ctx->now))
		ntlmd_audit_set(ctx->event.detail, "too many failures: client address locked");
	if (st != NTLM_STATUS_WRONG_PASSWORD || !has_account)
		goto out;
	if (pair != NULL && ntlmd_lockout_fail(ctx->user_lockout, pair, &rc->rule, ctx->now))
		ntlmd_audit_set(ctx->event.detail,
		                "too many failures: account locked for this client address");
	if (ntlmd_lockout_fail(ctx->user_lockout, lc->key, &rc->account_rule, ctx->now))
		ntlmd_audit_set(ctx->event.detail, "too many failures from all addresses: account locked");
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
static enum ntlm_status remember_account(struct lookup_ctx *lc, const struct ntlmd_account *a)
{
	lookup_ctx_clear(lc);
	lc->name = strdup(a->name);
	lc->domain = strdup(a->domain != NULL                  ? a->domain
	                    : ctx->cfg->netbios_domain != NULL ? ctx->cfg->netbios_domain
	                                                       : "");
	lc->key = strdup(a->key != NULL ? a->key : a->name);
	if (lc->name == NULL || lc->domain == NULL || lc->key == NULL) {
		lookup_ctx_clear(lc);
		return NTLM_ERR_NO_MEMORY;
	}
	lc->found = true;
	lc->has_uid = a->has_uid;
	lc->uid = a->uid;
	lc->bad_count = a->bad_count;
	memcpy(lc->flags, a->flags, sizeof(lc->flags));
	lc->flags[sizeof(lc->flags) - 1] = '\0';
	ntlmd_audit_set_account(&ctx->event, lc->domain, lc->name, lc->key);
	return NTLM_OK;
}

/* Looks user up through the backend chain into *ret (wiped by the caller
 * with ntlmd_account_clear()). With lc->exact, an account whose name is
 * not user byte for byte (another case, spaces that the directory
 * ignores) is no account of that login name. */
static enum ntlm_status find_account(struct lookup_ctx *lc, const char *user, const char *domain,
                                     struct ntlmd_account *ret)
{
	enum ntlm_status st = ntlmd_backends_lookup(ctx->backends, user, domain, ret, &lc->backend);

	ctx->event.backend = lc->backend;
	if (st == NTLM_OK && lc->exact && strcmp(ret->name, user) != 0) {
		ntlmd_audit_set(ctx->event.detail, "the store's account name differs from the login name");
		ntlmd_audit_set_account(&ctx->event, ret->domain, ret->name, ret->key);
		ntlmd_account_clear(ret);
		return NTLM_STATUS_NO_SUCH_USER;
	}
	if (st == NTLM_OK && (st = remember_account(lc, ret)) != NTLM_OK)
		ntlmd_account_clear(ret);
	return st;
}

/* ntlm_lookup_fn over the backend chain: the hashes and, as
 * account_status, the account policy's verdict. A locked account is
 * refused here, before any proof is checked. */
static enum ntlm_status lookup_credentials(void *arg, const char *user, const char *domain,
                                           struct ntlm_credentials *ret)
{
	struct lookup_ctx *lc = arg;
	struct ntlmd_account a = {0};
	struct ntlmd_logon logon = logon_of(lc->workstation);
	enum ntlm_status st = find_account(lc, user, domain, &a);

	if (st != NTLM_OK)
		goto out;
	if ((st = account_lockout_check(lc->rc, lc->key)) != NTLM_OK)
		goto out;
	st = ntlmd_account_credentials(&a, &logon, ret);
out:
	ntlmd_account_clear(&a);
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
static void audit_result(const struct ntlm_accept_result *res, bool verdicts)
{
	struct ntlmd_audit_event *e = &ctx->event;

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
 * from the host name) and the domains the stores serve. Anonymous logons
 * (no user) are left to the acceptor's policy. */
static enum ntlm_status domain_check(const struct request_ctx *rc, const char *user, const char *domain)
{
	bool listed = rc->policy->accepted_domains != NULL;

	if (user == NULL || user[0] == '\0')
		return NTLM_OK;
	if (domain == NULL)
		domain = "";
	if (ntlmd_config_accepts_domain(ctx->cfg, rc->policy, domain) ||
	    (!listed && (strcasecmp(domain, ctx->names.nb_computer) == 0 ||
	                 ntlmd_backends_serve_domain(ctx->backends, domain))))
		return NTLM_OK;
	ntlmd_audit_set(ctx->event.detail, listed ? "domain not in accepted_domains"
	                                          : "domain not served here (accepted_domains unset)");
	return NTLM_STATUS_NO_SUCH_USER;
}

/* The lifetime and the clock skew: how long an unused challenge is
 * remembered at most, and the floor of the retention of used ones. */
static int64_t lifetime_and_skew_ms(const struct ntlmd_policy *policy)
{
	return ((int64_t)ctx->cfg->challenge_lifetime + (int64_t)policy->max_clock_skew) * 1000;
}

/* How long an issued challenge is remembered when it is not used: the
 * lifetime and the clock skew, cut to pending_challenge_lifetime so that
 * the NEGOTIATEs of a flood leave the table soon. Once it is forgotten, a
 * first answer to it is taken as one to a challenge the caller built;
 * that is no replay. */
static int64_t issued_retention_ms(const struct ntlmd_policy *policy)
{
	int64_t pending = (int64_t)ctx->cfg->pending_challenge_lifetime * 1000;
	int64_t longest = lifetime_and_skew_ms(policy);

	return pending < longest ? pending : longest;
}

/* How long an issued challenge may be answered while it is remembered:
 * challenge_lifetime, within its retention. */
static int64_t issued_valid_ms(const struct ntlmd_policy *policy)
{
	int64_t lifetime = (int64_t)ctx->cfg->challenge_lifetime * 1000;
	int64_t retention = issued_retention_ms(policy);

	return lifetime < retention ? lifetime : retention;
}

/* How long a used challenge is remembered, so that a replayed answer is
 * refused by the table until the acceptor's NTLMv2 timestamp check
 * refuses it by itself. The acceptor takes a client timestamp within
 * max_clock_skew of its clock, either way (MS-NLMP 3.2.5.1.2): a
 * response accepted at time u carries a timestamp of at most
 * u + max_clock_skew, and a replay of it passes the timestamp check until
 * u + 2 * max_clock_skew. Never shorter than lifetime_and_skew_ms(). */
static int64_t used_retention_ms(const struct ntlmd_policy *policy)
{
	int64_t twice_skew = 2 * (int64_t)policy->max_clock_skew * 1000;
	int64_t floor = lifetime_and_skew_ms(policy);

	return twice_skew > floor ? twice_skew : floor;
}

#define CHALLENGE_WARNING_MS 60000 /* at most one warning a minute of each kind */

/* Whether a warning of w's kind may be logged now (once a minute at
 * most); if not, one more event is counted for the next one. */
static bool warning_due(struct ntlmd_limit_warning *w)
{
	if (w->ever && ctx->now - w->logged < CHALLENGE_WARNING_MS) {
		w->quiet++;
		return false;
	}
	return true;
}

static void warning_logged(struct ntlmd_limit_warning *w)
{
	w->ever = true;
	w->logged = ctx->now;
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
static bool challenge_limit_hit(const struct ntlmd_peer *peer)
{
	enum ntlmd_challenge_limit limit = ntlmd_challenges_limit_hit(ctx->challenges);
	struct ntlmd_limit_warning *w = &ctx->challenge_warnings[limit];
	char shown[65];

	ntlmd_audit_set(ctx->event.detail,
	                limit == NTLMD_LIMIT_UID ? "challenge refused: max_pending_challenges_per_uid reached"
	                : limit == NTLMD_LIMIT_ADDRESS
	                    ? "challenge refused: max_pending_challenges_per_address reached"
	                    : "challenge refused: max_challenges reached");
	if (!warning_due(w))
		return false;
	if (limit == NTLMD_LIMIT_UID)
		ntlmd_log(LOG_WARNING,
		          "challenge refused to uid=%u: it holds %u unused challenges "
		          "(max_pending_challenges_per_uid); %llu more refused since the last message",
		          (unsigned)peer->uid, ctx->cfg->max_pending_challenges_per_uid, w->quiet);
	else if (limit == NTLMD_LIMIT_ADDRESS)
		ntlmd_log(
		    LOG_WARNING,
		    "challenge refused to uid=%u for client address %s: it holds %u unused challenges "
		    "for that address (max_pending_challenges_per_address); %llu more refused since the "
		    "last message",
		    (unsigned)peer->uid, printable_address(ctx->event.client_address, shown),
		    ctx->cfg->max_pending_challenges_per_address, w->quiet);
	else
		ntlmd_log(LOG_WARNING,
		          "challenge refused to uid=%u: the challenge table holds %zu challenges "
		          "(max_challenges %u); %llu more refused since the last message",
		          (unsigned)peer->uid, ntlmd_challenges_count(ctx->challenges),
		          ctx->cfg->max_challenges, w->quiet);
	warning_logged(w);
	return true;
}

/* A challenge for a client address issued while its uid held
 * max_pending_challenges_per_uid: the oldest unused challenges were
 * forgotten to make room. A warning says so, once a minute at most. */
static void challenges_forgotten(const struct ntlmd_peer *peer, uint64_t before)
{
	struct ntlmd_limit_warning *w = &ctx->challenge_warnings[NTLMD_LIMIT_ADDRESS + 1];
	uint64_t n = ntlmd_challenges_forgotten(ctx->challenges) - before;

	if (n == 0)
		return;
	w->quiet += n - 1;
	if (!warning_due(w))
		return;
	ntlmd_log(LOG_WARNING,
	          "uid=%u holds %u unused challenges (max_pending_challenges_per_uid): the oldest unused "
	          "challenges are forgotten to make room; %llu forgotten since the last message",
	          (unsigned)peer->uid, ctx->cfg->max_pending_challenges_per_uid, w->quiet + 1);
	warning_logged(w);
}

/* ------------------------------------------------------------------ */
/* Handlers                                                            */

static enum ntlm_status handle_ping(const struct ntlmd_peer *peer, const struct ntlmd_frame *req,
                                    struct ntlm_writer *reply)
{
	const struct ntlmd_counters *n = &ctx->counters;

	(void)peer;
	(void)req;
	ntlmd_put_string(reply, NTLMD_TAG_VERSION, PACKAGE_VERSION);
	ntlmd_put_u64(reply, NTLMD_TAG_UPTIME, (uint64_t)((ctx->now - ctx->started) / 1000));
	ntlmd_put_u64(reply, NTLMD_TAG_REQUESTS, n->requests);
	ntlmd_put_u64(reply, NTLMD_TAG_SUCCESSES, n->successes);
	ntlmd_put_u64(reply, NTLMD_TAG_FAILURES, n->failures);
	ntlmd_put_u64(reply, NTLMD_TAG_ERRORS, n->errors);
	ntlmd_put_u64(reply, NTLMD_TAG_REFUSED, n->refused);
	ntlmd_put_u64(reply, NTLMD_TAG_CONNECTIONS, n->connections);
	ntlmd_put_u64(reply, NTLMD_TAG_CHALLENGES, ntlmd_challenges_count(ctx->challenges));
	ntlmd_put_u64(reply, NTLMD_TAG_LOCKOUTS,
	              ntlmd_lockout_count(ctx->user_lockout) + ntlmd_lockout_count(ctx->address_lockout));
	ctx->event.request = NULL;
	return NTLM_OK;
}

static enum ntlm_status handle_challenge(const struct ntlmd_peer *peer, const struct ntlmd_frame *req,
                                         struct ntlm_writer *reply)
{
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
	    .uid = peer->uid,
	    .address = rc.client_address,
	    .max_pending_per_address = ctx->cfg->max_pending_challenges_per_address,
	    .now = ctx->now,
	    .valid_ms = issued_valid_ms(rc.policy),
	    .retain_ms = issued_retention_ms(rc.policy),
	};
	if (rc.policy->ntlm_auth == NTLMD_NTLM_DISABLED) {
		st = NTLM_STATUS_NTLM_BLOCKED;
		goto out;
	}
	if (ntlmd_frame_has(req, NTLMD_TAG_NEGOTIATE) &&
	    (st = ntlmd_frame_get_bytes(req, NTLMD_TAG_NEGOTIATE, &negotiate, &negotiate_len)) != NTLM_OK)
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
	if (st == NTLM_ERR_INSUFFICIENT_RESOURCES && !challenge_limit_hit(peer))
		ctx->event.request = NULL;
	if (st != NTLM_OK)
		goto out;
	challenges_forgotten(peer, forgotten);
	ntlmd_put_bytes(reply, NTLMD_TAG_CHALLENGE, challenge, challenge_len);
out:
	free(challenge);
	if (st == NTLM_OK)
		ctx->event.request = NULL; /* not a decision: nothing to audit */
	return st;
}

static enum ntlm_status handle_verify(const struct ntlmd_peer *peer, const struct ntlmd_frame *req,
                                      struct ntlm_writer *reply)
{
	struct request_ctx rc;
	struct ntlm_policy policy;
	struct ntlm_channel_bindings cb_buf;
	const struct ntlm_channel_bindings *cb = NULL;
	struct ntlm_authenticate auth = {0};
	struct ntlm_accept_result res = {0};
	struct lookup_ctx lc = {0};
	const uint8_t *negotiate = NULL, *challenge, *authenticate;
	size_t negotiate_len = 0, challenge_len, authenticate_len;
	uint8_t server_challenge[NTLM_CHALLENGE_LEN];
	uint32_t chal_flags;
	struct ntlm_decode_options opt = {0};
	bool issued = false, verified = false;
	enum ntlm_status st;

	request_begin(req, &rc);
	if ((st = ntlmd_frame_get_bytes(req, NTLMD_TAG_CHALLENGE, &challenge, &challenge_len)) != NTLM_OK ||
	    (st = ntlmd_frame_get_bytes(req, NTLMD_TAG_AUTHENTICATE, &authenticate, &authenticate_len)) !=
	        NTLM_OK)
		goto out;
	if (ntlmd_frame_has(req, NTLMD_TAG_NEGOTIATE) &&
	    (st = ntlmd_frame_get_bytes(req, NTLMD_TAG_NEGOTIATE, &negotiate, &negotiate_len)) != NTLM_OK)
		goto out;
	if ((st = channel_bindings(req, &cb_buf, &cb)) != NTLM_OK)
		goto out;
	/* The names, before anything is verified: for the lockout, the
	 * domain check and the account policy (workstation). */
	if ((st = ntlm_challenge_peek(challenge, challenge_len, &chal_flags, server_challenge)) != NTLM_OK)
		goto out;
	/* decoded as the acceptor will: in the CHALLENGE's encoding, OEM text
	 * through the service's oem_charset */
	opt.oem_charset = rc.policy->oem_charset;
	opt.has_challenge_flags = true;
	opt.challenge_flags = chal_flags;
	if ((st = ntlm_authenticate_decode_ex(authenticate, authenticate_len, &opt, &auth)) != NTLM_OK)
		goto out;
	ntlmd_audit_set(ctx->event.user, auth.user);
	ntlmd_audit_set(ctx->event.domain, auth.domain);
	ntlmd_audit_set(ctx->event.workstation, auth.workstation);
	ntlmd_put_string(reply, NTLMD_TAG_USER, auth.user);
	ntlmd_put_string(reply, NTLMD_TAG_AUTH_DOMAIN, auth.domain);
	ntlmd_put_string(reply, NTLMD_TAG_WORKSTATION, auth.workstation);

	if ((st = address_lockout_check(&rc)) != NTLM_OK ||
	    (st = domain_check(&rc, auth.user, auth.domain)) != NTLM_OK)
		goto out;
	st = ntlmd_challenges_use(ctx->challenges, server_challenge, rc.service, ctx->now,
	                          used_retention_ms(rc.policy), &issued);
	if (st == NTLM_STATUS_CHALLENGE_EXPIRED)
		ntlmd_audit_set(ctx->event.detail, "server challenge already used or too old (replay?)");
	else if (st == NTLM_STATUS_CHALLENGE_MISMATCH)
		ntlmd_audit_set(ctx->event.detail, "challenge issued for another service");
	else if (st == NTLM_ERR_INSUFFICIENT_RESOURCES)
		challenge_limit_hit(peer);
	if (st != NTLM_OK)
		goto out;

	ntlmd_policy_to_ntlm(rc.policy, false, &policy);
	lc.workstation = auth.workstation;
	lc.rc = &rc;
	st = ntlm_acceptor_verify(&policy, negotiate, negotiate_len, challenge, challenge_len, authenticate,
	                          authenticate_len, cb, lookup_credentials, &lc, ntlm_filetime_now(), &res);
	verified = true;
	lockout_record(&rc, &lc, st);
	ntlm_writer_clear(reply); /* the result below says it all */
	put_result(reply, &rc, &res, &lc);
	ntlmd_put_string(reply, NTLMD_TAG_MIC, ntlm_verdict_name(res.mic));
	ntlmd_put_string(reply, NTLMD_TAG_CHANNEL_BINDINGS, ntlm_verdict_name(res.channel_bindings));
	ntlmd_put_string(reply, NTLMD_TAG_TARGET_NAME, ntlm_verdict_name(res.target_name));
	ntlmd_put_string(reply, NTLMD_TAG_CLIENT_SPN, res.client_target_name);
	audit_result(&res, true);
	if (st == NTLM_OK && !issued)
		ntlmd_audit_set(ctx->event.detail, "challenge built by the caller");
	/* the names themselves go to the record, escaped, never into a bare log line */
	if (res.name_fallback && ctx->event.detail[0] == '\0') {
		char detail[NTLMD_AUDIT_TEXT];

		snprintf(detail, sizeof(detail), "a name is not UTF-8: decoded by oem_charset %s",
		         ntlm_oem_charset_name(policy.oem_charset));
		ntlmd_audit_set(ctx->event.detail, detail);
	}
out:
	if (!verified && st != NTLM_OK && ctx->event.detail[0] == '\0' && ntlm_status_is_malformed(st))
		ntlmd_audit_set(ctx->event.detail, "malformed NTLMSSP message");
	ntlm_accept_result_clear(&res);
	ntlm_authenticate_clear(&auth);
	lookup_ctx_clear(&lc);
	return st;
}

/* MS-CHAP retransmits: a RADIUS client resends the same Access-Request
 * when an answer is slow, and FreeRADIUS runs ntlm_auth again with the
 * same challenge and response. Such an identical request, within a short
 * window, is verified again instead of being refused as a replay; a
 * different response on a used challenge is still refused. A request is
 * remembered by a keyed digest (HMAC-MD5 under a per-process random key)
 * of its service, names, challenge and responses: no response is kept. */
#define RETRANSMIT_WINDOW_MS 30000
#define RETRANSMIT_SLOTS     64

struct retransmit {
	int64_t expires;
	uint8_t digest[16];
};

static struct retransmit retransmits[RETRANSMIT_SLOTS];
static size_t retransmit_next;
static uint8_t retransmit_key[16];
static bool retransmit_keyed;

static void digest_field(struct ntlm_writer *w, const void *p, size_t n)
{
	ntlm_write_u32le(w, (uint32_t)n);
	if (n > 0)
		ntlm_write_bytes(w, p, n);
}

/* The digest of a VERIFY_RESPONSE; false when it cannot be computed (then
 * no retransmit is recognised). */
static bool retransmit_digest(const char *service, const char *user, const char *domain,
                              const uint8_t challenge[8], const uint8_t *lm, size_t lm_len, const uint8_t *nt,
                              size_t nt_len, uint8_t mschapv2, uint8_t ret[16])
{
	struct ntlm_writer w;
	uint8_t *msg = NULL;
	size_t msg_len = 0;
	bool ok;

	if (!retransmit_keyed) {
		if (ntlm_random(retransmit_key, sizeof(retransmit_key)) != NTLM_OK)
			return false;
		retransmit_keyed = true;
	}
	ntlm_writer_init(&w, NTLMD_MAX_PAYLOAD * 2);
	digest_field(&w, service != NULL ? service : "", service != NULL ? strlen(service) : 0);
	digest_field(&w, user, strlen(user));
	digest_field(&w, domain, strlen(domain));
	digest_field(&w, challenge, 8);
	digest_field(&w, lm, lm_len);
	digest_field(&w, nt, nt_len);
	digest_field(&w, &mschapv2, 1);
	if (ntlm_writer_finish(&w, &msg, &msg_len) != NTLM_OK)
		return false;
	ok = ntlm_hmac_md5(retransmit_key, sizeof(retransmit_key), msg, msg_len, ret) == NTLM_OK;
	ntlm_wipe(msg, msg_len);
	free(msg);
	return ok;
}

static bool retransmit_seen(const uint8_t digest[16], int64_t now)
{
	bool seen = false;

	for (size_t i = 0; i < RETRANSMIT_SLOTS; i++)
		seen |= retransmits[i].expires > now &&
		        ntlm_equal_ct(retransmits[i].digest, digest, sizeof(retransmits[i].digest));
	return seen;
}

static void retransmit_remember(const uint8_t digest[16], int64_t now)
{
	struct retransmit *r = &retransmits[retransmit_next];

	retransmit_next = (retransmit_next + 1) % RETRANSMIT_SLOTS;
	r->expires = now + RETRANSMIT_WINDOW_MS;
	memcpy(r->digest, digest, sizeof(r->digest));
}

static enum ntlm_status handle_verify_response(const struct ntlmd_peer *peer, const struct ntlmd_frame *req,
                                               struct ntlm_writer *reply)
{
	struct request_ctx rc;
	struct ntlm_policy policy;
	struct ntlm_accept_result res = {0};
	struct lookup_ctx lc = {0};
	const char *user, *domain;
	const uint8_t *server_challenge, *lm = NULL, *nt = NULL;
	size_t challenge_len, lm_len = 0, nt_len = 0;
	uint8_t mschapv2 = 0, digest[16];
	bool issued, has_digest, retransmit;
	enum ntlm_status st;

	request_begin(req, &rc);
	domain = ntlmd_frame_string(req, NTLMD_TAG_DOMAIN);
	lc.workstation = ntlmd_frame_string(req, NTLMD_TAG_WORKSTATION);
	lc.rc = &rc;
	if ((st = ntlmd_frame_get_string(req, NTLMD_TAG_USER, &user)) != NTLM_OK ||
	    (st = ntlmd_frame_get_bytes(req, NTLMD_TAG_SERVER_CHALLENGE, &server_challenge,
	                                &challenge_len)) != NTLM_OK)
		goto out;
	if (ntlmd_frame_has(req, NTLMD_TAG_LM_RESPONSE) &&
	    (st = ntlmd_frame_get_bytes(req, NTLMD_TAG_LM_RESPONSE, &lm, &lm_len)) != NTLM_OK)
		goto out;
	if (ntlmd_frame_has(req, NTLMD_TAG_NT_RESPONSE) &&
	    (st = ntlmd_frame_get_bytes(req, NTLMD_TAG_NT_RESPONSE, &nt, &nt_len)) != NTLM_OK)
		goto out;
	if (ntlmd_frame_has(req, NTLMD_TAG_MSCHAPV2) &&
	    (st = ntlmd_frame_get_u8(req, NTLMD_TAG_MSCHAPV2, &mschapv2)) != NTLM_OK)
		goto out;
	if (domain == NULL)
		domain = "";
	ntlmd_audit_set(ctx->event.user, user);
	ntlmd_audit_set(ctx->event.domain, domain);
	ntlmd_audit_set(ctx->event.workstation, lc.workstation);

	if ((st = address_lockout_check(&rc)) != NTLM_OK || (st = domain_check(&rc, user, domain)) != NTLM_OK)
		goto out;
	if (challenge_len != 8) {
		st = NTLM_ERR_BAD_ENCODING;
		goto out;
	}
	/* The caller chose the challenge: each is answered once, but for an
	 * identical retransmit within RETRANSMIT_WINDOW_MS. */
	has_digest = retransmit_digest(rc.service, user, domain, server_challenge, lm, lm_len, nt, nt_len,
	                               mschapv2, digest);
	retransmit = has_digest && retransmit_seen(digest, ctx->now);
	if (!retransmit) {
		st = ntlmd_challenges_use(ctx->challenges, server_challenge, rc.service, ctx->now,
		                          used_retention_ms(rc.policy), &issued);
		if (st == NTLM_ERR_INSUFFICIENT_RESOURCES)
			challenge_limit_hit(peer);
		else if (st != NTLM_OK)
			ntlmd_audit_set(ctx->event.detail, "server challenge already used (replay?)");
		if (st != NTLM_OK)
			goto out;
		if (has_digest)
			retransmit_remember(digest, ctx->now);
	} else {
		ntlmd_audit_set(ctx->event.detail, "identical retransmit of a recent request");
	}
	ntlmd_policy_to_ntlm(rc.policy, mschapv2 != 0, &policy);
	st = ntlm_acceptor_verify_response(&policy, user, domain, server_challenge, lm, lm_len, nt, nt_len,
	                                   lookup_credentials, &lc, ntlm_filetime_now(), &res);
	if (!retransmit) /* a retransmit is not a second attempt */
		lockout_record(&rc, &lc, st);
	put_result(reply, &rc, &res, &lc);
	audit_result(&res, false);
out:
	ntlm_accept_result_clear(&res);
	lookup_ctx_clear(&lc);
	return st;
}

/* A request naming a user: CHECK_PASSWORD, ACCOUNT_STATUS,
 * CHANGE_PASSWORD. */
struct user_request {
	struct request_ctx rc;
	struct lookup_ctx lc;
	struct ntlmd_account account; /* wiped by user_request_end() */
	const char *user, *domain;
};

/* USER (required), DOMAIN, WORKSTATION, EXACT_NAME and the
 * accepted_domains check. */
static enum ntlm_status user_request_begin(const struct ntlmd_frame *req, struct user_request *u)
{
	uint8_t exact = 0;
	enum ntlm_status st;

	*u = (struct user_request){0};
	request_begin(req, &u->rc);
	if ((st = ntlmd_frame_get_string(req, NTLMD_TAG_USER, &u->user)) != NTLM_OK)
		return st;
	if (ntlmd_frame_has(req, NTLMD_TAG_EXACT_NAME) &&
	    ((st = ntlmd_frame_get_u8(req, NTLMD_TAG_EXACT_NAME, &exact)) != NTLM_OK || exact > 1))
		return st != NTLM_OK ? st : NTLM_ERR_INVALID_ARGUMENT;
	u->lc.exact = exact == 1;
	u->domain = ntlmd_frame_string(req, NTLMD_TAG_DOMAIN);
	if (u->domain == NULL)
		u->domain = "";
	u->lc.workstation = ntlmd_frame_string(req, NTLMD_TAG_WORKSTATION);
	u->lc.rc = &u->rc;
	ntlmd_audit_set(ctx->event.user, u->user);
	ntlmd_audit_set(ctx->event.domain, u->domain);
	ntlmd_audit_set(ctx->event.workstation, u->lc.workstation);
	if (u->user[0] == '\0')
		return NTLM_STATUS_NO_SUCH_USER;
	return domain_check(&u->rc, u->user, u->domain);
}

static enum ntlm_status user_request_end(struct user_request *u, enum ntlm_status st)
{
	ntlmd_account_clear(&u->account);
	lookup_ctx_clear(&u->lc);
	return st;
}

/* The password check of CHECK_PASSWORD and CHANGE_PASSWORD: the address
 * lockout, the account, its lockout (its canonical key), NTOWFv1(password)
 * against the stored hash in constant time, then the account policy (only
 * for the right password), and the counting. */
static enum ntlm_status check_password(struct user_request *u, const char *password)
{
	struct ntlm_hash h;
	struct ntlmd_logon logon = logon_of(u->lc.workstation);
	enum ntlm_status st;

	if ((st = address_lockout_check(&u->rc)) != NTLM_OK)
		return st;
	st = find_account(&u->lc, u->user, u->domain, &u->account);
	if (st == NTLM_OK && (st = account_lockout_check(&u->rc, u->lc.key)) != NTLM_OK)
		return st;
	if (st == NTLM_OK && !u->account.has_nt)
		st = NTLM_STATUS_ACCOUNT_RESTRICTION;
	if (st == NTLM_OK && (st = ntlm_ntowfv1(password, &h)) == NTLM_OK) {
		if (!ntlm_equal_ct(h.bytes, u->account.nt_hash.bytes, sizeof(h.bytes)))
			st = NTLM_STATUS_WRONG_PASSWORD;
		else
			st = ntlmd_account_check(&u->account, &logon);
	}
	ntlm_wipe(&h, sizeof(h));
	lockout_record(&u->rc, &u->lc, st);
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

static enum ntlm_status handle_check_password(const struct ntlmd_peer *peer, const struct ntlmd_frame *req,
                                              struct ntlm_writer *reply)
{
	struct user_request u;
	const char *password;
	enum ntlm_status st = user_request_begin(req, &u);

	(void)peer;
	if (st == NTLM_OK)
		st = ntlmd_frame_get_string(req, NTLMD_TAG_PASSWORD, &password);
	if (st == NTLM_OK)
		st = check_password(&u, password);
	if (st == NTLM_OK)
		put_account(reply, &u);
	return user_request_end(&u, st);
}

static enum ntlm_status handle_account_status(const struct ntlmd_peer *peer, const struct ntlmd_frame *req,
                                              struct ntlm_writer *reply)
{
	struct user_request u;
	struct ntlmd_logon logon;
	enum ntlm_status st = user_request_begin(req, &u);

	(void)peer;
	if (st == NTLM_OK)
		st = find_account(&u.lc, u.user, u.domain, &u.account);
	if (st == NTLM_OK) {
		put_account(reply, &u);
		logon = logon_of(u.lc.workstation);
		st = ntlmd_account_check(&u.account, &logon);
	}
	if (st == NTLM_OK)
		st = account_lockout_check(&u.rc, u.lc.key);
	return user_request_end(&u, st);
}

/* CHANGE_PASSWORD's checks of its fields: CREATE only by root without the
 * old password; a non-empty new password; the old one unless root. */
static enum ntlm_status change_request_check(const struct ntlmd_peer *peer, const struct ntlmd_frame *req,
                                             const char *old_password, const char *new_password,
                                             uint8_t *ret_create)
{
	enum ntlm_status st;

	*ret_create = 0;
	if (ntlmd_frame_has(req, NTLMD_TAG_CREATE)) {
		if ((st = ntlmd_frame_get_u8(req, NTLMD_TAG_CREATE, ret_create)) != NTLM_OK)
			return st;
		if (*ret_create > 1 || (*ret_create == 1 && (peer->uid != 0 || old_password != NULL))) {
			ntlmd_audit_set(ctx->event.detail, "CREATE is for root, without the old password");
			return NTLM_ERR_INVALID_ARGUMENT;
		}
	}
	if (new_password == NULL || new_password[0] == '\0') {
		ntlmd_audit_set(ctx->event.detail, "a non-empty new password is required");
		return new_password == NULL ? NTLM_ERR_TRUNCATED : NTLM_ERR_INVALID_ARGUMENT;
	}
	if (old_password == NULL && peer->uid != 0) {
		ntlmd_audit_set(ctx->event.detail, "the old password is required");
		return NTLM_ERR_TRUNCATED;
	}
	return NTLM_OK;
}

/* CREATE (CHANGE_PASSWORD, SYNC_PASSWORD): a system user (NSS) that no
 * store holds under any spelling is added, with its uid (a store holding a
 * case twin of it refuses in the chain). NO_SUCH_USER otherwise. */
static enum ntlm_status add_system_user(const struct user_request *u, const char *new_password)
{
	struct ntlm_hash h;
	const struct passwd *pw;
	enum ntlm_status st;

	if (ctx->event.account_key[0] != '\0' || (pw = getpwnam(u->user)) == NULL)
		return NTLM_STATUS_NO_SUCH_USER;
	if ((st = ntlm_ntowfv1(new_password, &h)) == NTLM_OK) {
		ntlmd_audit_set(ctx->event.detail, "added by root");
		st = ntlmd_backends_add_user(ctx->backends, u->user, (uint32_t)pw->pw_uid, &h,
		                             (int64_t)time(NULL));
	}
	ntlm_wipe(&h, sizeof(h));
	return st;
}

/* Root may set a password without the old one; every other caller proves
 * it first (an expired password may be changed: that is the point). The
 * account that was found (and proven) is the one written, in the store
 * that found it, under its own name. */
static enum ntlm_status handle_change_password(const struct ntlmd_peer *peer, const struct ntlmd_frame *req,
                                               struct ntlm_writer *reply)
{
	struct user_request u;
	struct ntlm_hash h = {{0}};
	const char *old_password = ntlmd_frame_string(req, NTLMD_TAG_PASSWORD);
	const char *new_password = ntlmd_frame_string(req, NTLMD_TAG_NEW_PASSWORD);
	uint8_t create = 0;
	enum ntlm_status st = user_request_begin(req, &u);

	if (st == NTLM_OK)
		st = change_request_check(peer, req, old_password, new_password, &create);
	if (st == NTLM_OK && old_password != NULL) {
		st = check_password(&u, old_password);
		if (st == NTLM_STATUS_PASSWORD_EXPIRED || st == NTLM_STATUS_PASSWORD_MUST_CHANGE)
			st = NTLM_OK;
	} else if (st == NTLM_OK) {
		st = find_account(&u.lc, u.user, u.domain, &u.account);
		if (st == NTLM_OK)
			ntlmd_audit_set(ctx->event.detail, "set by root without the old password");
	}
	if (st == NTLM_OK && (st = ntlm_ntowfv1(new_password, &h)) == NTLM_OK)
		st = ntlmd_backends_set_password(ctx->backends, u.user, u.domain, u.lc.key, &h,
		                                 (int64_t)time(NULL));
	if (st == NTLM_OK)
		put_account(reply, &u);
	ntlm_wipe(&h, sizeof(h));
	if (st == NTLM_STATUS_NO_SUCH_USER && create == 1)
		st = add_system_user(&u, new_password);
	return user_request_end(&u, st);
}

/* SYNC_PASSWORD's fields: NEW_PASSWORD (not empty), no old PASSWORD,
 * CREATE 0 or 1. */
static enum ntlm_status sync_request_check(const struct ntlmd_frame *req, const char **ret_new_password,
                                           uint8_t *ret_create)
{
	enum ntlm_status st;

	*ret_create = 0;
	if (ntlmd_frame_has(req, NTLMD_TAG_PASSWORD)) {
		ntlmd_audit_set(ctx->event.detail, "SYNC_PASSWORD takes no old password");
		return NTLM_ERR_INVALID_ARGUMENT;
	}
	if (ntlmd_frame_has(req, NTLMD_TAG_CREATE) &&
	    ((st = ntlmd_frame_get_u8(req, NTLMD_TAG_CREATE, ret_create)) != NTLM_OK || *ret_create > 1))
		return st != NTLM_OK ? st : NTLM_ERR_INVALID_ARGUMENT;
	if ((st = ntlmd_frame_get_string(req, NTLMD_TAG_NEW_PASSWORD, ret_new_password)) != NTLM_OK)
		return st;
	if ((*ret_new_password)[0] == '\0') {
		ntlmd_audit_set(ctx->event.detail, "a non-empty new password is required");
		return NTLM_ERR_INVALID_ARGUMENT;
	}
	return NTLM_OK;
}

/* Stores h for the account found unless it holds h already (constant-time
 * comparison); *ret_stored says which. */
static enum ntlm_status sync_account(struct user_request *u, const struct ntlm_hash *h, uint8_t *ret_stored)
{
	enum ntlm_status st;

	if (u->account.has_nt && ntlm_equal_ct(h->bytes, u->account.nt_hash.bytes, sizeof(h->bytes))) {
		ntlmd_audit_set(ctx->event.detail, "unchanged: the stored NT hash is the password's");
		*ret_stored = NTLMD_STORED_UNCHANGED;
		return NTLM_OK;
	}
	st =
	    ntlmd_backends_set_password(ctx->backends, u->user, u->domain, u->lc.key, h, (int64_t)time(NULL));
	if (st == NTLM_OK) {
		ntlmd_audit_set(ctx->event.detail, "updated by root: the stored NT hash was another");
		*ret_stored = NTLMD_STORED_UPDATED;
	}
	return st;
}

/* SYNC_PASSWORD (root only): what pam_ntlm's migrate sends after an
 * earlier module (pam_unix) accepted the password. The NT hash (MS-NLMP
 * 3.3.1, NTOWFv1) of NEW_PASSWORD is written to the account found unless
 * that account holds it already. Nothing is a logon here: the account
 * policy is not asked, no lockout counter is read or counted, and the
 * audit record is a success ("unchanged" or "updated") or the lookup's
 * status. Not an oracle: only root may ask (who may set any password),
 * and an answer other than "unchanged" has overwritten the hash. */
static enum ntlm_status handle_sync_password(const struct ntlmd_peer *peer, const struct ntlmd_frame *req,
                                             struct ntlm_writer *reply)
{
	struct user_request u;
	struct ntlm_hash h = {{0}};
	const char *new_password = NULL;
	uint8_t create = 0, stored = NTLMD_STORED_ADDED;
	enum ntlm_status st = user_request_begin(req, &u);

	(void)peer; /* root only: the dispatch table */
	if (st == NTLM_OK)
		st = sync_request_check(req, &new_password, &create);
	if (st == NTLM_OK)
		st = find_account(&u.lc, u.user, u.domain, &u.account);
	if (st == NTLM_OK && (st = ntlm_ntowfv1(new_password, &h)) == NTLM_OK)
		st = sync_account(&u, &h, &stored);
	ntlm_wipe(&h, sizeof(h));
	if (st == NTLM_STATUS_NO_SUCH_USER && create == 1)
		st = add_system_user(&u, new_password);
	if (st == NTLM_OK) {
		put_account(reply, &u);
		ntlmd_put_u8(reply, NTLMD_TAG_PASSWORD_STORED, stored);
	}
	return user_request_end(&u, st);
}

/* CHECK_MEMBERSHIP: whether the account USER (of DOMAIN) belongs to
 * GROUP in a store's group search (ldap: group_base). The account is
 * looked up again (the caller authenticated it first): the group search
 * is asked for its own name and key, so a member given by DN is that
 * account's entry, never another store's namesake. NO_SUCH_USER means that
 * no store has the group, or that the account is gone. */
static enum ntlm_status handle_check_membership(const struct ntlmd_peer *peer, const struct ntlmd_frame *req,
                                                struct ntlm_writer *reply)
{
	struct request_ctx rc;
	struct lookup_ctx lc = {.rc = &rc};
	struct ntlmd_account a = {0};
	const char *user = NULL, *group = NULL, *domain, *backend = NULL;
	bool member = false;
	enum ntlm_status st;

	(void)peer;
	request_begin(req, &rc);
	st = ntlmd_frame_get_string(req, NTLMD_TAG_USER, &user);
	if (st == NTLM_OK)
		st = ntlmd_frame_get_string(req, NTLMD_TAG_GROUP, &group);
	if (st != NTLM_OK)
		return st;
	domain = ntlmd_frame_string(req, NTLMD_TAG_DOMAIN);
	ntlmd_audit_set(ctx->event.user, user);
	ntlmd_audit_set(ctx->event.domain, domain);
	if (user[0] == '\0' || group[0] == '\0')
		return NTLM_ERR_INVALID_ARGUMENT;
	st = find_account(&lc, user, domain != NULL ? domain : "", &a);
	ntlmd_account_clear(&a);
	if (st == NTLM_STATUS_NO_SUCH_USER)
		ntlmd_audit_set(ctx->event.detail, "no such account");
	if (st == NTLM_OK)
		st = ntlmd_backends_group_member(ctx->backends, group, lc.name, lc.key, &member, &backend);
	if (st == NTLM_OK) {
		char detail[NTLMD_AUDIT_TEXT];

		ntlmd_put_u8(reply, NTLMD_TAG_MEMBER, member ? 1 : 0);
		snprintf(detail, sizeof(detail), "%s a member of group %s (%s)", member ? "is" : "not", group,
		         backend);
		ntlmd_audit_set(ctx->event.detail, detail);
	} else if (st == NTLM_STATUS_NO_SUCH_USER && ctx->event.detail[0] == '\0') {
		ntlmd_audit_set(ctx->event.detail, "no store has that group");
	}
	lookup_ctx_clear(&lc);
	return st;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */

typedef enum ntlm_status (*ntlmd_handler)(const struct ntlmd_peer *peer, const struct ntlmd_frame *req,
                                          struct ntlm_writer *reply);

/* The table is the access policy. */
static const struct {
	uint16_t type;
	const char *name;
	enum ntlmd_access access;
	ntlmd_handler handler;
} handlers[] = {
    {NTLMD_REQ_PING, "PING", NTLMD_FROM_ANYONE, handle_ping},
    {NTLMD_REQ_CHALLENGE, "CHALLENGE", NTLMD_FROM_PRIVILEGED, handle_challenge},
    {NTLMD_REQ_VERIFY, "VERIFY", NTLMD_FROM_PRIVILEGED, handle_verify},
    {NTLMD_REQ_VERIFY_RESPONSE, "VERIFY_RESPONSE", NTLMD_FROM_PRIVILEGED, handle_verify_response},
    {NTLMD_REQ_CHECK_PASSWORD, "CHECK_PASSWORD", NTLMD_FROM_PRIVILEGED, handle_check_password},
    {NTLMD_REQ_ACCOUNT_STATUS, "ACCOUNT_STATUS", NTLMD_FROM_PRIVILEGED, handle_account_status},
    {NTLMD_REQ_CHANGE_PASSWORD, "CHANGE_PASSWORD", NTLMD_FROM_PRIVILEGED, handle_change_password},
    {NTLMD_REQ_CHECK_MEMBERSHIP, "CHECK_MEMBERSHIP", NTLMD_FROM_PRIVILEGED, handle_check_membership},
    {NTLMD_REQ_SYNC_PASSWORD, "SYNC_PASSWORD", NTLMD_FROM_ROOT, handle_sync_password},
};

static int find_handler(uint16_t type)
{
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].type == type)
			return (int)i;
	return -1;
}

const char *ntlmd_request_name(uint16_t type)
{
	int i = find_handler(type);

	return i < 0 ? NULL : handlers[i].name;
}

bool ntlmd_request_allowed(const struct ntlmd_peer *peer, uint16_t type, const char **ret_reason)
{
	int i = find_handler(type);
	bool ok;

	ctx->now = ntlmd_now_ms();
	if (i < 0) {
		*ret_reason = "unknown request type";
		return false;
	}
	switch (handlers[i].access) {
	case NTLMD_FROM_ANYONE:
		ok = true;
		break;
	case NTLMD_FROM_PRIVILEGED:
		ok = peer_privileged(peer);
		break;
	default:
		ok = peer->uid == 0;
		break;
	}
	if (!ok)
		*ret_reason = handlers[i].access == NTLMD_FROM_ROOT
		                  ? "request reserved to root"
		                  : "caller not in allow_users or allow_groups";
	return ok;
}

static void count(enum ntlm_status st)
{
	if (st == NTLM_OK)
		ctx->counters.successes++;
	else if (strcmp(ntlmd_audit_outcome(st), "failure") == 0)
		ctx->counters.failures++;
	else
		ctx->counters.errors++;
}

enum ntlm_status ntlmd_dispatch(const struct ntlmd_peer *peer, uint16_t type, const uint8_t *payload,
                                size_t len, uint8_t **ret_reply, size_t *ret_len)
{
	struct ntlmd_frame req = {0};
	struct ntlm_writer fields;
	int i = find_handler(type);
	enum ntlm_status st, rst;

	ctx->now = ntlmd_now_ms();
	ntlmd_audit_reset(&ctx->event);
	if (i < 0)
		return NTLM_ERR_WRONG_MESSAGE_TYPE;
	ctx->event.request = handlers[i].name;
	ctx->event.uid = peer->uid;
	ctx->event.pid = peer->pid;
	ntlmd_fields_init(&fields);
	st = ntlmd_payload_decode(type, payload, len, &req);
	if (st == NTLM_OK)
		st = handlers[i].handler(peer, &req, &fields);
	else
		ntlmd_audit_set(ctx->event.detail, "malformed request frame");
	if (fields.error != NTLM_OK) {
		/* The reply fields could not be built: the status says why. */
		if (st == NTLM_OK)
			st = fields.error;
		ntlm_writer_clear(&fields);
		ntlmd_fields_init(&fields);
	}
	ctx->event.status = st;
	ctx->counters.requests++;
	if (ctx->event.request != NULL)
		count(st);
	rst = ntlmd_reply_encode(type, st, &fields, ret_reply, ret_len);
	ntlm_writer_clear(&fields);
	ntlmd_frame_clear(&req);
	return rst;
}
