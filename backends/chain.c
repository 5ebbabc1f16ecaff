/*
 * chain.c: the ordered list of credential stores, asked in turn like
 * nsswitch. A store that does not have the user hands over to the next; a
 * store that could not be asked is remembered, so that "not found anywhere"
 * becomes NTLM_ERR_BACKEND_UNAVAILABLE rather than NO_SUCH_USER whenever
 * one of them might have had the user.
 */
#include <config.h>

#include "backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

static void default_log(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(priority, fmt, ap);
	va_end(ap);
}

static ntlmd_backend_log_fn backend_log = default_log;

void ntlmd_backends_set_log(ntlmd_backend_log_fn fn)
{
	backend_log = fn != NULL ? fn : default_log;
}

void ntlmd_backend_log(int priority, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	backend_log(priority, "%s", line);
}

const char *ntlmd_log_name(const char *name, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	out[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		bool plain = *p >= 0x20 && *p != 0x7f && *p != '"' && *p != '\\';

		if (o + (plain ? 1 : 4) + 5 > size) { /* room for '"...' and the NUL */
			memcpy(out + o, "\"...", 4);
			out[o + 4] = '\0';
			return out;
		}
		if (plain) {
			out[o++] = (char)*p;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[*p >> 4];
		out[o++] = hex[*p & 15];
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

struct store {
	const struct ntlmd_backend *backend;
	void *state;
};

struct ntlmd_backend_chain {
	struct store *stores;
	size_t n;
	char *domain; /* of the accounts whose store names none: netbios_domain */
};

/* The store of known called name, or NULL. */
static const struct ntlmd_backend *find_known(const struct ntlmd_backend *const *known, size_t n_known,
                                              const char *name)
{
	for (size_t i = 0; i < n_known; i++)
		if (strcmp(known[i]->name, name) == 0)
			return known[i];
	return NULL;
}

__attribute__((format(printf, 2, 3))) static void set_error(struct ntlmd_config_error *err, const char *fmt,
                                                            ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->line = 0;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
}

/* Opens one store through its open, with a reason when it gives none. */
static enum ntlm_status open_store(const struct ntlmd_backend *b, const struct ntlmd_config *cfg, void **ret,
                                   struct ntlmd_config_error *err)
{
	enum ntlm_status st;

	if (err != NULL)
		err->reason[0] = '\0';
	st = b->open(cfg, ret, err);
	if (st != NTLM_OK && err != NULL && err->reason[0] == '\0')
		set_error(err, "backend %s: cannot open its store", b->name);
	return st;
}

enum ntlm_status ntlmd_backends_open_known(const struct ntlmd_backend *const *known, size_t n_known,
                                           const struct ntlmd_config *cfg, struct ntlmd_backend_chain **ret,
                                           struct ntlmd_config_error *err)
{
	static const char *const default_backends[] = {"files", NULL};
	const char *const *names;
	struct ntlmd_backend_chain *c;
	enum ntlm_status st = NTLM_OK;
	size_t n = 0;

	if (known == NULL || cfg == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	names = cfg->backends != NULL ? (const char *const *)cfg->backends : default_backends;
	while (names[n] != NULL)
		n++;
	if (n == 0) {
		set_error(err, "no backend configured");
		return NTLM_ERR_CONFIG;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->stores = calloc(n, sizeof(*c->stores))) == NULL) {
		free(c);
		return NTLM_ERR_NO_MEMORY;
	}
	for (size_t i = 0; i < n && st == NTLM_OK; i++) {
		const struct ntlmd_backend *b = find_known(known, n_known, names[i]);
		if (b == NULL) {
			set_error(err, "unknown backend \"%s\"", names[i]);
			st = NTLM_ERR_CONFIG;
			break;
		}
		for (size_t j = 0; j < c->n; j++)
			if (c->stores[j].backend == b) {
				set_error(err, "backend %s listed twice", b->name);
				st = NTLM_ERR_CONFIG;
			}
		if (st == NTLM_OK)
			st = open_store(b, cfg, &c->stores[c->n].state, err);
		if (st == NTLM_OK)
			c->stores[c->n++].backend = b;
	}
	if (st == NTLM_OK)
		st = ntlmd_backends_set_domain(c, cfg->netbios_domain);
	if (st != NTLM_OK) {
		ntlmd_backends_close(c);
		return st;
	}
	*ret = c;
	return NTLM_OK;
}

enum ntlm_status ntlmd_backends_set_domain(struct ntlmd_backend_chain *c, const char *domain)
{
	char *copy = NULL;

	if (c == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (domain != NULL && (copy = strdup(domain)) == NULL)
		return NTLM_ERR_NO_MEMORY;
	free(c->domain);
	c->domain = copy;
	return NTLM_OK;
}

bool ntlmd_backends_serve_domain(const struct ntlmd_backend_chain *c, const char *domain)
{
	if (c == NULL || domain == NULL)
		return false;
	if (c->domain != NULL && strcasecmp(c->domain, domain) == 0)
		return true;
	for (size_t i = 0; i < c->n; i++)
		if (c->stores[i].backend->serves_domain != NULL &&
		    c->stores[i].backend->serves_domain(c->stores[i].state, domain))
			return true;
	return false;
}

enum ntlm_status ntlmd_backends_new(const struct ntlmd_backend *const *backends, void *const *states,
                                    size_t n, struct ntlmd_backend_chain **ret)
{
	struct ntlmd_backend_chain *c;

	if (backends == NULL || states == NULL || ret == NULL || n == 0)
		return NTLM_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < n; i++)
		if (backends[i] == NULL || backends[i]->lookup == NULL)
			return NTLM_ERR_INVALID_ARGUMENT;
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->stores = calloc(n, sizeof(*c->stores))) == NULL) {
		free(c);
		return NTLM_ERR_NO_MEMORY;
	}
	for (size_t i = 0; i < n; i++)
		c->stores[i] = (struct store){backends[i], states[i]};
	c->n = n;
	*ret = c;
	return NTLM_OK;
}

size_t ntlmd_backends_count(const struct ntlmd_backend_chain *c)
{
	return c != NULL ? c->n : 0;
}

const struct ntlmd_backend *ntlmd_backends_store(const struct ntlmd_backend_chain *c, size_t i,
                                                 void **ret_state)
{
	if (c == NULL || i >= c->n)
		return NULL;
	if (ret_state != NULL)
		*ret_state = c->stores[i].state;
	return c->stores[i].backend;
}

/*
 * Asks store s for user. With may_wait false the store answers from
 * memory only (its lookup_now, or its lookup when it never waits):
 * *ret_answered false then means that only its server can say.
 */
static enum ntlm_status ask_store(const struct store *s, bool may_wait, const char *user, const char *domain,
                                  struct ntlmd_account *ret, bool *ret_answered)
{
	*ret_answered = true;
	if (may_wait || s->backend->lookup_now == NULL)
		return s->backend->lookup(s->state, user, domain, ret);
	return s->backend->lookup_now(s->state, user, domain, ret, ret_answered);
}

/*
 * An account store i found for a typed domain other than its own (the
 * server's NetBIOS or DNS name, which a directory does not serve) may have
 * a namesake in an earlier store under its own domain: two accounts would
 * then answer to one name (DOMAIN\name), and the verdict, the PAM user and
 * a group check could not tell them apart. The earlier stores are asked
 * for the account's own name and domain: NO_SUCH_USER (ambiguous, logged)
 * when one has it, NTLM_ERR_BACKEND_UNAVAILABLE when one cannot say.
 * Without may_wait, *ret_answered false when an earlier store would have
 * to ask its server.
 */
static enum ntlm_status check_unambiguous(struct ntlmd_backend_chain *c, size_t i, const char *typed,
                                          const struct ntlmd_account *a, bool may_wait, bool *ret_answered)
{
	*ret_answered = true;
	for (size_t j = 0; j < i && typed != NULL && typed[0] != '\0' && a->domain != NULL &&
	                   strcasecmp(typed, a->domain) != 0;
	     j++) {
		struct ntlmd_account twin = {0};
		enum ntlm_status st =
		    ask_store(&c->stores[j], may_wait, a->name, a->domain, &twin, ret_answered);

		ntlmd_account_clear(&twin);
		if (!*ret_answered)
			return NTLM_ERR_BACKEND_UNAVAILABLE;
		if (st == NTLM_OK) {
			ntlmd_backend_log(LOG_ERR,
			                  "account %s\\%s is in the %s store and the %s store: refused as "
			                  "ambiguous (rename one, or give the stores different domains)",
			                  a->domain, a->name, c->stores[j].backend->name,
			                  c->stores[i].backend->name);
			return NTLM_STATUS_NO_SUCH_USER;
		}
		if (st != NTLM_STATUS_NO_SUCH_USER)
			return NTLM_ERR_BACKEND_UNAVAILABLE;
	}
	return NTLM_OK;
}

/*
 * Asks the stores in turn. On NTLM_OK *ret_index is the store that has the
 * user and *ret its account. Not found anywhere is NO_SUCH_USER, or
 * NTLM_ERR_BACKEND_UNAVAILABLE when a store could not be asked (any answer
 * but OK and NO_SUCH_USER). A store is trusted with a name only when every
 * store before it could say it does not hold it: while an earlier one
 * cannot be asked, a later store's account of that name is
 * NTLM_ERR_BACKEND_UNAVAILABLE too (the earlier store's account may be the
 * one meant; accounts that must work while a directory is down go first).
 * Without may_wait the stores answer from memory, and *ret_answered is
 * false (nothing written) as soon as one of them would have to ask its
 * server for the chain to decide: the same rules, never a guess.
 */
static enum ntlm_status find_store(struct ntlmd_backend_chain *c, bool may_wait, const char *user,
                                   const char *domain, struct ntlmd_account *ret, size_t *ret_index,
                                   bool *ret_answered)
{
	bool unavailable = false;

	*ret_answered = true;
	for (size_t i = 0; i < c->n; i++) {
		enum ntlm_status st = ask_store(&c->stores[i], may_wait, user, domain, ret, ret_answered);

		if (!*ret_answered)
			return NTLM_ERR_BACKEND_UNAVAILABLE;
		if (st == NTLM_OK && ret->domain == NULL && c->domain != NULL &&
		    (ret->domain = strdup(c->domain)) == NULL) {
			ntlmd_account_clear(ret);
			return NTLM_ERR_NO_MEMORY;
		}
		if (st == NTLM_OK && unavailable) {
			/* an earlier store could not say whether it holds this name:
			 * its account may be the one meant (fail closed) */
			ntlmd_account_clear(ret);
			return NTLM_ERR_BACKEND_UNAVAILABLE;
		}
		if (st == NTLM_OK &&
		    (st = check_unambiguous(c, i, domain, ret, may_wait, ret_answered)) != NTLM_OK) {
			ntlmd_account_clear(ret);
			return st;
		}
		if (st == NTLM_OK) {
			*ret_index = i;
			return NTLM_OK;
		}
		if (st != NTLM_STATUS_NO_SUCH_USER)
			unavailable = true;
	}
	return unavailable ? NTLM_ERR_BACKEND_UNAVAILABLE : NTLM_STATUS_NO_SUCH_USER;
}

/* The lookup of either mode: the account and the name of its store. */
static enum ntlm_status chain_lookup(struct ntlmd_backend_chain *c, bool may_wait, const char *user,
                                     const char *domain, struct ntlmd_account *ret, const char **ret_backend,
                                     bool *ret_answered)
{
	enum ntlm_status st;
	size_t i = 0;

	*ret_answered = true;
	if (c == NULL || user == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	st = find_store(c, may_wait, user, domain, ret, &i, ret_answered);
	if (*ret_answered && st == NTLM_OK && ret_backend != NULL)
		*ret_backend = c->stores[i].backend->name;
	return st;
}

enum ntlm_status ntlmd_backends_lookup(struct ntlmd_backend_chain *c, const char *user, const char *domain,
                                       struct ntlmd_account *ret, const char **ret_backend)
{
	bool answered;

	return chain_lookup(c, true, user, domain, ret, ret_backend, &answered);
}

enum ntlm_status ntlmd_backends_lookup_now(struct ntlmd_backend_chain *c, const char *user,
                                           const char *domain, struct ntlmd_account *ret,
                                           const char **ret_backend, bool *ret_answered)
{
	return chain_lookup(c, false, user, domain, ret, ret_backend, ret_answered);
}

/* The store that finds the account takes its new password, under the
 * account's own name, when it is still the account proven (same key). */
enum ntlm_status ntlmd_backends_set_password(struct ntlmd_backend_chain *c, const char *user,
                                             const char *domain, const char *key,
                                             const struct ntlm_hash *nt_hash, int64_t now)
{
	struct ntlmd_account a = {0};
	const struct store *s;
	enum ntlm_status st;
	bool answered;
	size_t i = 0;

	if (c == NULL || user == NULL || key == NULL || nt_hash == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	st = find_store(c, true, user, domain != NULL ? domain : "", &a, &i, &answered);
	if (st == NTLM_OK && (a.key == NULL || strcmp(a.key, key) != 0))
		st = NTLM_STATUS_NO_SUCH_USER; /* another account answers now */
	s = &c->stores[st == NTLM_OK ? i : 0];
	if (st == NTLM_OK && s->backend->set_password == NULL)
		st = NTLM_STATUS_ACCOUNT_RESTRICTION; /* a read-only store */
	if (st == NTLM_OK)
		st = s->backend->set_password(s->state, a.name, nt_hash, now);
	ntlmd_account_clear(&a);
	return st;
}

void ntlmd_backends_record_logon(struct ntlmd_backend_chain *c, const char *backend, const char *user,
                                 int64_t bad_count, enum ntlm_status st, int64_t now)
{
	const struct store *s;

	if (c == NULL || backend == NULL || user == NULL ||
	    (st != NTLM_OK && st != NTLM_STATUS_WRONG_PASSWORD))
		return;
	for (size_t i = 0; i < c->n; i++) {
		s = &c->stores[i];
		if (strcmp(s->backend->name, backend) == 0 && s->backend->record_logon != NULL)
			s->backend->record_logon(s->state, user, bad_count, st == NTLM_OK, now);
	}
}

bool ntlmd_backends_records_logons(const struct ntlmd_backend_chain *c, const char *backend)
{
	for (size_t i = 0; c != NULL && backend != NULL && i < c->n; i++)
		if (strcmp(c->stores[i].backend->name, backend) == 0)
			return c->stores[i].backend->record_logon != NULL;
	return false;
}

enum ntlm_status ntlmd_backends_group_member(struct ntlmd_backend_chain *c, const char *group,
                                             const char *user, const char *key, bool *ret_member,
                                             const char **ret_backend)
{
	bool unavailable = false;

	if (c == NULL || group == NULL || user == NULL || ret_member == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < c->n; i++) {
		const struct store *s = &c->stores[i];
		enum ntlm_status st;
		bool member = false;

		if (s->backend->group_member == NULL)
			continue;
		st = s->backend->group_member(s->state, group, user, key, &member);
		if (st == NTLM_OK) {
			*ret_member = member;
			if (ret_backend != NULL)
				*ret_backend = s->backend->name;
			return NTLM_OK;
		}
		if (st != NTLM_STATUS_NO_SUCH_GROUP)
			unavailable = true;
	}
	return unavailable ? NTLM_ERR_BACKEND_UNAVAILABLE : NTLM_STATUS_NO_SUCH_GROUP;
}

void ntlmd_backends_refresh(struct ntlmd_backend_chain *c)
{
	for (size_t i = 0; c != NULL && i < c->n; i++)
		if (c->stores[i].backend->refresh != NULL)
			c->stores[i].backend->refresh(c->stores[i].state);
}

void ntlmd_backends_close(struct ntlmd_backend_chain *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		if (c->stores[i].backend->close != NULL)
			c->stores[i].backend->close(c->stores[i].state);
	free(c->stores);
	free(c->domain);
	free(c);
}

/* A user no store holds goes to the first store that can add users. */
enum ntlm_status ntlmd_backends_add_user(struct ntlmd_backend_chain *c, const char *user, uint32_t uid,
                                         const struct ntlm_hash *nt_hash, int64_t now)
{
	struct ntlmd_account a = {0};
	enum ntlm_status st;
	bool answered;
	size_t i = 0;

	if (c == NULL || user == NULL || user[0] == '\0' || nt_hash == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	st = find_store(c, true, user, "", &a, &i, &answered);
	ntlmd_account_clear(&a);
	if (st == NTLM_OK)
		return NTLM_ERR_INVALID_ARGUMENT; /* a store holds it: set its password instead */
	if (st != NTLM_STATUS_NO_SUCH_USER)
		return st;
	for (i = 0; i < c->n; i++)
		if (c->stores[i].backend->add_user != NULL)
			return c->stores[i].backend->add_user(c->stores[i].state, user, uid, nt_hash, now);
	return NTLM_STATUS_ACCOUNT_RESTRICTION;
}
