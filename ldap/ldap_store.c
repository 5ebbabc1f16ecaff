/*
 * ldap_store.c: the ldap store of ntlmd, the vtable of its pieces
 * (ldap_int.h): lookups from memory or from the directory, refresh, close,
 * STATS, open. Every operation is bounded (connect and bind by
 * bind_timelimit, each search by timelimit); the design is in docs/ldap.md.
 */
#include <config.h>

#include "ldap_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

/* True when the domains are known (configured, or read from the
 * directory) and domain is not among them. */
static bool other_domain(struct ntlmd_ldap_store *s, const char *domain)
{
	bool other = false;

	if (domain == NULL || domain[0] == '\0')
		return false;
	pthread_mutex_lock(&s->state_lock);
	{
		char *const *list = s->conf.domains != NULL ? s->conf.domains : s->dir_domains;

		other = list != NULL && list[0] != NULL;
		for (size_t i = 0; other && list[i] != NULL; i++)
			if (strcmp(list[i], "*") == 0 || strcasecmp(list[i], domain) == 0)
				other = false;
	}
	pthread_mutex_unlock(&s->state_lock);
	return other;
}

/* The domains the store serves: configured, or read from the directory. */
static bool store_serves_domain(void *state, const char *domain)
{
	struct ntlmd_ldap_store *s = state;
	bool serves = false;

	if (s == NULL || domain == NULL)
		return false;
	pthread_mutex_lock(&s->state_lock);
	{
		char *const *list = s->conf.domains != NULL ? s->conf.domains : s->dir_domains;

		for (size_t i = 0; list != NULL && list[i] != NULL && !serves; i++)
			serves = strcmp(list[i], "*") != 0 && strcasecmp(list[i], domain) == 0;
	}
	pthread_mutex_unlock(&s->state_lock);
	return serves;
}

/* During an outage, a cached entry expired no longer than cache_stale_ttl
 * ago (only when that option is set). */
static enum ntlm_status serve_stale(struct ntlmd_ldap_store *s, const char *user, const char *key,
                                    int64_t now, struct ntlmd_account *ret)
{
	const struct cache_entry *e;
	char shown[NTLMD_LOG_NAME_MAX];
	enum ntlm_status st = NTLM_ERR_BACKEND_UNAVAILABLE;

	if (s->conf.cache_stale_ttl == 0)
		return st;
	pthread_mutex_lock(&s->cache_lock);
	e = ntlmd_ldap_cache_find_locked(s, key);
	if (e != NULL && !e->negative && now - e->expires <= (int64_t)s->conf.cache_stale_ttl) {
		s->stats.stale_served++;
		st = ntlmd_ldap_account_copy(&e->account, ret) ? NTLM_OK : NTLM_ERR_NO_MEMORY;
	}
	pthread_mutex_unlock(&s->cache_lock);
	if (st == NTLM_OK)
		ntlmd_backend_log(LOG_WARNING, "ldap: directory unavailable: serving the cached entry of %s",
		                  ntlmd_log_name(user, shown, sizeof(shown)));
	return st;
}

/* What a lookup can answer without the directory: a name the store never
 * serves, a live cache entry, or (with wait false) a directory known
 * unavailable within reconnect_retrytime: a stale entry or unavailable.
 * *ret_answered false: the directory must be asked. */
static enum ntlm_status answer_from_memory(struct ntlmd_ldap_store *s, const char *user, const char *domain,
                                           const char *key, bool wait, struct ntlmd_account *ret,
                                           bool *ret_answered)
{
	int64_t now = ntlmd_ldap_mono_now();
	enum ntlm_status st;

	*ret_answered = true;
	if (!ntlmd_ldap_valid_user(user) || other_domain(s, domain))
		return NTLM_STATUS_NO_SUCH_USER; /* the next store's */
	st = ntlmd_ldap_cache_get(s, key, now, ret, ret_answered);
	if (*ret_answered)
		return st;
	*ret_answered = !wait && ntlmd_ldap_directory_resting(s);
	if (*ret_answered)
		return serve_stale(s, user, key, now, ret);
	return NTLM_ERR_BACKEND_UNAVAILABLE;
}

static enum ntlm_status store_lookup_now(void *state, const char *user, const char *domain,
                                         struct ntlmd_account *ret, bool *ret_answered)
{
	struct ntlmd_ldap_store *s = state;
	char key[MAX_USER + 1];

	*ret_answered = true;
	if (s == NULL || user == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	ntlmd_ldap_lower_key(user, key, sizeof(key));
	return answer_from_memory(s, user, domain, key, false, ret, ret_answered);
}

/* The account of the entry found in op, cached (positive or negative). */
static enum ntlm_status account_of_search(struct ntlmd_ldap_op *op, enum ntlm_status st, LDAPMessage *res,
                                          const char *user, const char *domain, const char *key,
                                          struct ntlmd_account *ret)
{
	struct ntlmd_ldap_store *s = op->s;
	LDAP *ld = op->conn->ld;

	if (st == NTLM_OK && other_domain(s, domain)) /* the domains were read on connecting */
		st = NTLM_STATUS_NO_SUCH_USER;
	else if (st == NTLM_OK)
		st = ntlmd_ldap_entry_to_account(s, ld, ldap_first_entry(ld, res), ret);
	if (st == NTLM_OK && s->conf.lockout_writeback)
		ntlmd_ldap_read_lockout(op, ldap_first_entry(ld, res), ret);
	if (st == NTLM_OK)
		ntlmd_ldap_cache_put(s, key, ret, s->conf.cache_ttl);
	else if (st == NTLM_STATUS_NO_SUCH_USER && !other_domain(s, domain))
		ntlmd_ldap_cache_put(s, key, NULL, s->conf.negative_cache_ttl);
	else if (st == NTLM_ERR_BACKEND_UNAVAILABLE)
		st = serve_stale(s, user, key, ntlmd_ldap_mono_now(), ret);
	return st;
}

static enum ntlm_status store_lookup(void *state, const char *user, const char *domain,
                                     struct ntlmd_account *ret)
{
	struct ntlmd_ldap_store *s = state;
	char key[MAX_USER + 1];
	LDAPMessage *res = NULL;
	struct ntlmd_ldap_op op;
	enum ntlm_status st;
	bool answered;

	if (s == NULL || user == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	ntlmd_ldap_lower_key(user, key, sizeof(key));
	st = answer_from_memory(s, user, domain, key, true, ret, &answered);
	if (answered)
		return st;
	ntlmd_ldap_count_miss(s);
	if (!ntlmd_ldap_op_begin(s, &op))
		return NTLM_ERR_NO_MEMORY;
	st = ntlmd_ldap_find_entry(&op, user, &res);
	st = account_of_search(&op, st, res, user, domain, key, ret);
	ldap_msgfree(res);
	ntlmd_ldap_op_end(&op);
	return st;
}

/* Once a second (ntlmd's loop thread): expired cache entries go, idle
 * connections close after idle_timelimit. Only connections no operation
 * holds are touched. */
static void store_refresh(void *state)
{
	struct ntlmd_ldap_store *s = state;
	struct ntlmd_ldap_conn *closing = NULL;
	int64_t now = ntlmd_ldap_mono_now();

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->cache_lock);
	ntlmd_ldap_cache_sweep_locked(s, now, (int64_t)s->conf.cache_stale_ttl);
	pthread_mutex_unlock(&s->cache_lock);
	if (s->conf.idle_timelimit == 0)
		return;
	pthread_mutex_lock(&s->state_lock);
	for (struct ntlmd_ldap_conn **p = &s->idle; *p != NULL;) {
		struct ntlmd_ldap_conn *c = *p;

		if (c->ld != NULL && now - c->last_used > (int64_t)s->conf.idle_timelimit) {
			*p = c->next;
			c->next = closing;
			closing = c;
		} else {
			p = &c->next;
		}
	}
	pthread_mutex_unlock(&s->state_lock);
	while (closing != NULL) {
		struct ntlmd_ldap_conn *c = closing;

		closing = c->next;
		ntlmd_backend_log(LOG_DEBUG, "ldap: closing the idle connection to %s",
		                  s->conf.uris[c->current]);
		ntlmd_ldap_drop_connection(c);
		free(c);
	}
}

/* Called once no operation runs (ntlmd frees a chain when its last
 * request is done): every connection is idle. */
static void store_close(void *state)
{
	struct ntlmd_ldap_store *s = state;

	if (s == NULL)
		return;
	ntlmd_backend_log(
	    LOG_INFO,
	    "ldap: closing: %lu searches, %lu connections (%lu failovers), cache %lu hits / %lu "
	    "misses, %lu stale answers",
	    s->stats.searches, s->stats.connects, s->stats.failovers, s->stats.cache_hits,
	    s->stats.cache_misses, s->stats.stale_served);
	while (s->idle != NULL) {
		struct ntlmd_ldap_conn *c = s->idle;

		s->idle = c->next;
		ntlmd_ldap_drop_connection(c);
		free(c);
	}
	ntlmd_ldap_strv_free(s->dir_domains);
	ntlmd_ldap_strv_free(s->dir_sids);
	free(s->server_domain);
	free(s->policy_warned_dn);
	ntlmd_ldap_cache_sweep_locked(s, 0, -1);
	ntlmd_ldap_conf_clear(&s->conf);
	free(s->down_until);
	free(s->last_error);
	pthread_mutex_destroy(&s->state_lock);
	pthread_mutex_destroy(&s->cache_lock);
	ntlm_wipe(s, sizeof(*s));
	free(s);
}

/* STATS (backend.h): the cache's hits, misses and entries, and each
 * server's state: up (not marked down, the directory not unavailable),
 * the seconds until it is tried again, and the error it last failed with
 * (a record only once it failed). From memory, under the locks only:
 * never the network. */
static void store_stats(void *state, ntlmd_store_stat_fn *emit, void *arg)
{
	struct ntlmd_ldap_store *s = state;
	struct ntlmd_store_stat st = {NULL, NULL, NULL, 0};
	int64_t now_ms = ntlmd_ldap_mono_ms();

	pthread_mutex_lock(&s->cache_lock);
	st.name = "cache_hits_total";
	st.value = s->stats.cache_hits;
	emit(arg, &st);
	st.name = "cache_misses_total";
	st.value = s->stats.cache_misses;
	emit(arg, &st);
	st.name = "cache_entries";
	st.value = s->cached;
	emit(arg, &st);
	pthread_mutex_unlock(&s->cache_lock);
	pthread_mutex_lock(&s->state_lock);
	for (size_t i = 0; i < s->conf.n_uris; i++) {
		int64_t retry_ms = s->unavailable ? s->retry_at - now_ms : s->down_until[i] * 1000 - now_ms;

		st.server = s->conf.uris[i];
		st.name = "server_up";
		st.value = !s->unavailable && s->down_until[i] <= now_ms / 1000;
		emit(arg, &st);
		st.name = "server_retry_seconds";
		st.value = retry_ms > 0 ? (uint64_t)(retry_ms + 999) / 1000 : 0;
		emit(arg, &st);
		if (s->last_error[i] != LDAP_SUCCESS) {
			st.name = "server_last_error";
			st.detail = ldap_err2string(s->last_error[i]); /* static text */
			st.value = 1;
			emit(arg, &st);
			st.detail = NULL;
		}
	}
	pthread_mutex_unlock(&s->state_lock);
}

enum ntlm_status ntlmd_ldap_open(const struct ntlmd_config *cfg, void **ret_state,
                                 struct ntlmd_config_error *err)
{
	struct ntlmd_ldap_store *s;
	struct ntlmd_config_error local;

	if (cfg == NULL || ret_state == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NTLM_ERR_NO_MEMORY;
	if (ntlmd_ldap_conf_parse(cfg, &s->conf, err != NULL ? err : &local, 1) != 0) {
		free(s);
		return NTLM_ERR_CONFIG;
	}
	pthread_mutex_init(&s->state_lock, NULL);
	pthread_mutex_init(&s->cache_lock, NULL);
	s->down_until = calloc(s->conf.n_uris, sizeof(*s->down_until));
	s->last_error = calloc(s->conf.n_uris, sizeof(*s->last_error));
	if (s->down_until == NULL || s->last_error == NULL) {
		store_close(s);
		return NTLM_ERR_NO_MEMORY;
	}
	/* the directory's count is the account's from every address and host:
	 * ntlmd.conf's account threshold, off with lockout_threshold 0 */
	s->conf_policy = (struct lockout_policy){
	    .threshold = cfg->policy.lockout_threshold == 0 ? 0 : cfg->policy.lockout_account_threshold,
	    .window = cfg->policy.lockout_window > 0 ? cfg->policy.lockout_window : 1800,
	    .duration = cfg->policy.lockout_duration,
	};
	s->policy = s->conf_policy;
	if (cfg->netbios_domain != NULL && (s->server_domain = strdup(cfg->netbios_domain)) == NULL) {
		store_close(s);
		return NTLM_ERR_NO_MEMORY;
	}
	*ret_state = s;
	return NTLM_OK;
}

/* group_member as the chain takes it: NO_SUCH_GROUP when this store
 * cannot answer for that group and account (the searches say
 * NO_SUCH_USER: "not here, the next store's"). */
static enum ntlm_status store_group_answer(void *state, const char *group, const char *user, const char *key,
                                           bool *ret_member)
{
	enum ntlm_status st = ntlmd_ldap_group_member(state, group, user, key, ret_member);

	return st == NTLM_STATUS_NO_SUCH_USER ? NTLM_STATUS_NO_SUCH_GROUP : st;
}

const struct ntlmd_backend ntlmd_backend_ldap = {
    .name = "ldap",
    .config = {.name = "ldap", .keys = ntlmd_ldap_config_keys},
    .check_config = ntlmd_ldap_check_config,
    .open = ntlmd_ldap_open,
    .lookup = store_lookup,
    .lookup_now = store_lookup_now,
    .set_password = ntlmd_ldap_set_password,
    .refresh = store_refresh,
    .close = store_close,
    .record_logon = ntlmd_ldap_record_logon,
    .group_member = store_group_answer,
    .serves_domain = store_serves_domain,
    .stats = store_stats,
};
