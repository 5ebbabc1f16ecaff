/*
 * ldap_search.c: the searches of the ldap store: filters (RFC 4515),
 * one entry under the first base that has it, each search bounded by
 * timelimit and retried on the next server when one stops answering; the
 * lockout policy of the sambaDomain entry; an entry found as a struct
 * ntlmd_account (its values parsed by ldap_entry.c).
 */
#include <config.h>

#include "ldap_int.h"
#include "sid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#define POLICY_TTL 60 /* seconds a sambaDomain lockout policy read is kept */

/* RFC 4515 3: '*', '(', ')', '\' and NUL as \XX in an assertion value. */
static bool escape_filter_value(const char *in, char *out, size_t n)
{
	size_t o = 0;

	for (; *in; in++) {
		unsigned char ch = (unsigned char)*in;
		if (o + 4 >= n)
			return false;
		if (ch == '*' || ch == '(' || ch == ')' || ch == '\\' || ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(out + o, n - o, "\\%02x", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
	return true;
}

bool ntlmd_ldap_valid_user(const char *user)
{
	size_t n = strnlen(user, MAX_USER + 1);

	if (n == 0 || n > MAX_USER)
		return false;
	for (const char *p = user; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Entries: their values pulled out of a result for the entry parser
 * (ldap_entry.c), and what needs the store: the key and the domain */

/* The entry's single value of attribute, NUL-terminated (malloc'd), or
 * NULL with *ret_absent when there is none. */
char *ntlmd_ldap_get_value(LDAP *ld, LDAPMessage *e, const char *attr, bool *ret_absent)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	char *s = NULL;

	*ret_absent = v == NULL || v[0] == NULL;
	if (!*ret_absent && memchr(v[0]->bv_val, '\0', v[0]->bv_len) == NULL)
		s = strndup(v[0]->bv_val, v[0]->bv_len);
	else if (!*ret_absent)
		s = NULL; /* a NUL inside: malformed */
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		ntlm_wipe(v[i]->bv_val, v[i]->bv_len); /* libldap's copy of a value that may be a hash */
	ldap_value_free_len(v);
	return s;
}

/* The values of the attributes names[0..n-1] (n at most
 * NTLMD_LDAP_ATTR_COUNT) of an entry, as the entry parser takes them. */
struct pulled_entry {
	struct berval **bv[NTLMD_LDAP_ATTR_COUNT];
	struct ntlmd_ldap_value *values[NTLMD_LDAP_ATTR_COUNT];
	struct ntlmd_ldap_attribute attributes[NTLMD_LDAP_ATTR_COUNT];
	struct ntlmd_ldap_entry entry;
};

/* Wipes (libldap's copies of values that may be hashes) and frees p. */
static void pulled_free(struct pulled_entry *p)
{
	for (size_t i = 0; i < p->entry.count; i++) {
		for (size_t j = 0; p->bv[i] != NULL && p->bv[i][j] != NULL; j++)
			ntlm_wipe(p->bv[i][j]->bv_val, p->bv[i][j]->bv_len);
		ldap_value_free_len(p->bv[i]);
		free(p->values[i]);
	}
}

/* Pulls the values of names out of entry e into *p (free it with
 * pulled_free, even on false: no memory). */
static bool pull_entry(LDAP *ld, LDAPMessage *e, char *const names[], size_t n, struct pulled_entry *p)
{
	bool ok = true;

	memset(p, 0, sizeof(*p));
	p->entry = (struct ntlmd_ldap_entry){p->attributes, n};
	for (size_t i = 0; i < n; i++) {
		size_t count = 0;

		p->bv[i] = ldap_get_values_len(ld, e, names[i]);
		while (p->bv[i] != NULL && p->bv[i][count] != NULL)
			count++;
		if (count > 0 && (p->values[i] = calloc(count, sizeof(*p->values[i]))) == NULL) {
			ok = false;
			count = 0;
		}
		for (size_t j = 0; j < count; j++)
			p->values[i][j] = (struct ntlmd_ldap_value){p->bv[i][j]->bv_val, p->bv[i][j]->bv_len};
		p->attributes[i] = (struct ntlmd_ldap_attribute){names[i], p->values[i], count};
	}
	return ok;
}

/* The domain of an account whose sambaSID is sid (may be NULL): the
 * sambaDomain whose SID prefixes it; else the first configured `domains`
 * name, else the only sambaDomain read; else NULL (the chain then gives
 * netbios_domain). Called with state_lock held (the domains read). */
static const char *entry_domain_locked(const struct ntlmd_ldap_store *s, const char *sid)
{
	char *const *list = s->conf.domains != NULL ? s->conf.domains : s->dir_domains;

	for (size_t i = 0; sid != NULL && s->dir_sids != NULL && s->dir_sids[i] != NULL; i++) {
		size_t n = strlen(s->dir_sids[i]);
		if (n > 0 && strncasecmp(sid, s->dir_sids[i], n) == 0 && sid[n] == '-')
			return s->dir_domains[i];
	}
	if (list == NULL || list[0] == NULL || strcmp(list[0], "*") == 0)
		return NULL;
	if (s->conf.domains == NULL && list[1] != NULL)
		return NULL; /* several domains and no SID to choose */
	return list[0];
}

/* The canonical identity of entry e: key "ldap:" DN, and its domain. */
static enum ntlm_status entry_identity(struct ntlmd_ldap_store *s, LDAP *ld, LDAPMessage *e, const char *sid,
                                       struct ntlmd_account *a)
{
	char *dn = ldap_get_dn(ld, e);
	const char *domain;
	bool no_memory;

	if (dn == NULL)
		return NTLM_ERR_NO_MEMORY;
	a->key = ntlmd_account_key("ldap", dn);
	ldap_memfree(dn);
	pthread_mutex_lock(&s->state_lock);
	domain = entry_domain_locked(s, sid);
	no_memory = domain != NULL && (a->domain = strdup(domain)) == NULL;
	pthread_mutex_unlock(&s->state_lock);
	if (a->key == NULL || no_memory)
		return NTLM_ERR_NO_MEMORY;
	return NTLM_OK;
}

/* Fills a from entry e; on a malformed attribute logs the entry and the
 * attribute (never the value) and returns NTLM_ERR_BAD_ENCODING. */
enum ntlm_status ntlmd_ldap_entry_to_account(struct ntlmd_ldap_store *s, LDAP *ld, LDAPMessage *e,
                                             struct ntlmd_account *a)
{
	struct ntlmd_ldap_entry_fault fault = {NULL, NULL};
	struct pulled_entry p;
	enum ntlm_status st = NTLM_ERR_NO_MEMORY;
	char *sid = NULL;
	bool absent;

	memset(a, 0, sizeof(*a));
	if (pull_entry(ld, e, s->conf.attrs, NTLMD_LDAP_ATTR_COUNT, &p))
		st = ntlmd_ldap_entry_parse(&p.entry, (const char *const *)s->conf.attrs, a, &fault);
	if (st == NTLM_OK) {
		/* the domain from the value as it is, as the SID prefixes of the
		 * domains read are compared with it */
		sid = ntlmd_ldap_entry_text(&p.entry, s->conf.attrs[NTLMD_LDAP_ATTR_SID], &absent);
		if ((st = entry_identity(s, ld, e, sid, a)) != NTLM_OK)
			ntlmd_account_clear(a);
	} else if (st == NTLM_ERR_BAD_ENCODING) {
		char *dn = ldap_get_dn(ld, e);
		ntlmd_backend_log(LOG_ERR, "ldap: entry %s: attribute %s is malformed (%s): entry refused",
		                  dn != NULL ? dn : "?", fault.attribute, fault.why);
		ldap_memfree(dn);
	}
	ntlmd_ldap_free_value(sid);
	pulled_free(&p);
	return st;
}

/* The entry's sambaBadPasswordCount (-1 when absent or malformed), and
 * its sambaBadPasswordTime in *ret_time (0 when absent or malformed). */
int64_t ntlmd_ldap_bad_count_of(const struct ntlmd_ldap_store *s, LDAP *ld, LDAPMessage *e, int64_t *ret_time)
{
	char *const names[] = {s->conf.attrs[NTLMD_LDAP_ATTR_BAD_COUNT],
	                       s->conf.attrs[NTLMD_LDAP_ATTR_BAD_TIME]};
	struct pulled_entry p;
	int64_t count = -1;

	if (pull_entry(ld, e, names, 2, &p))
		count = ntlmd_ldap_entry_bad_count(&p.entry, (const char *const *)s->conf.attrs, ret_time);
	else if (ret_time != NULL)
		*ret_time = 0;
	pulled_free(&p);
	return count;
}

/* One search on op's connection: *ret the entry's result (the caller
 * frees it) on ATTEMPT_OK. */
static enum attempt search_once(struct ntlmd_ldap_op *op, const struct search *q, LDAPMessage **ret,
                                int *ret_rc)
{
	const struct ntlmd_ldap_store *s = op->s;
	LDAP *ld = op->conn->ld;
	const char *filter = q->filter;

	for (size_t b = 0; q->bases[b] != NULL; b++) {
		LDAPMessage *res = NULL;
		struct timeval limit = {(time_t)s->conf.timelimit, 0};
		int msgid, err = LDAP_OTHER, count;
		/* timelimit for the server too; size limit 2 to see duplicates */
		int rc = ldap_search_ext(ld, q->bases[b], s->conf.scope, filter, q->attrs, 0, NULL, NULL,
		                         &limit, 2, &msgid);

		if (rc == LDAP_SUCCESS)
			rc = ntlmd_ldap_wait_result(ld, msgid, s->conf.timelimit, &res);
		if (rc == LDAP_SUCCESS)
			rc = ldap_parse_result(ld, res, &err, NULL, NULL, NULL, NULL, 0);
		if (rc == LDAP_SUCCESS)
			rc = err;
		*ret_rc = rc;
		if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED && rc != LDAP_NO_SUCH_OBJECT) {
			ldap_msgfree(res);
			return ntlmd_ldap_server_down(rc) ? ATTEMPT_SERVER_DOWN : ATTEMPT_FAILED;
		}
		count = ldap_count_entries(ld, res);
		if (count > 1 || rc == LDAP_SIZELIMIT_EXCEEDED) {
			ntlmd_backend_log(LOG_ERR, "ldap: several entries under %s match %s: refused",
			                  q->bases[b], filter);
			ldap_msgfree(res);
			*ret_rc = LDAP_SIZELIMIT_EXCEEDED;
			return ATTEMPT_FAILED;
		}
		if (count == 1) {
			*ret = res;
			return ATTEMPT_OK;
		}
		ldap_msgfree(res);
	}
	return ATTEMPT_NOT_FOUND;
}

/* Searches, on the next URI when the current server is down: NTLM_OK with
 * *ret (read it on op->conn->ld), NTLM_STATUS_NO_SUCH_USER when no entry
 * matches, or NTLM_ERR_BACKEND_UNAVAILABLE. */
enum ntlm_status ntlmd_ldap_search_failover(struct ntlmd_ldap_op *op, const struct search *q,
                                            LDAPMessage **ret)
{
	struct ntlmd_ldap_store *s = op->s;
	struct ntlmd_ldap_conn *c = op->conn;
	char diag[DIAGNOSTIC_MAX];
	int rc = LDAP_SUCCESS;
	bool reopened = false;

	/* each server may fail once in an operation, then the next is tried;
	 * a connection found closed (the server restarted, or closed an idle
	 * connection) is opened again once before that counts */
	for (size_t attempt = 0; attempt <= s->conf.n_uris; attempt++) {
		enum ntlm_status st = ntlmd_ldap_ensure_connected(op);
		enum attempt a;

		if (st != NTLM_OK)
			return st;
		pthread_mutex_lock(&s->state_lock);
		s->stats.searches++;
		pthread_mutex_unlock(&s->state_lock);
		a = search_once(op, q, ret, &rc);
		c->last_used = ntlmd_ldap_mono_now();
		if (a == ATTEMPT_OK)
			return NTLM_OK;
		if (a == ATTEMPT_NOT_FOUND)
			return NTLM_STATUS_NO_SUCH_USER;
		if (a == ATTEMPT_FAILED) {
			if (rc != LDAP_SIZELIMIT_EXCEEDED)
				ntlmd_backend_log(LOG_ERR, "ldap: %s: search failed: %s%s",
				                  s->conf.uris[c->current], ldap_err2string(rc),
				                  ntlmd_ldap_diagnostic(c->ld, diag));
			return NTLM_ERR_BACKEND_UNAVAILABLE;
		}
		if (rc == LDAP_SERVER_DOWN && !reopened) {
			ntlmd_backend_log(LOG_INFO, "ldap: %s closed the connection: reconnecting",
			                  s->conf.uris[c->current]);
			reopened = true;
		} else {
			ntlmd_backend_log(LOG_WARNING,
			                  "ldap: %s stopped answering (%s): trying the next server",
			                  s->conf.uris[c->current], ldap_err2string(rc));
			ntlmd_ldap_mark_down(op, c->current, rc);
		}
		ntlmd_ldap_drop_connection(c);
	}
	return ntlmd_ldap_directory_unavailable(s);
}

/* (&FILTER(ATTRIBUTE=value)) with value escaped (RFC 4515); false when it
 * does not fit. */
bool ntlmd_ldap_match_filter(const char *filter, const char *attribute, const char *value,
                             char out[FILTER_MAX])
{
	char escaped[4 * MAX_USER + 4];

	return escape_filter_value(value, escaped, sizeof(escaped)) &&
	       (size_t)snprintf(out, FILTER_MAX, "(&%s(%s=%s))", filter, attribute, escaped) < FILTER_MAX;
}

/* Searches for user's entry (the attributes of the account). */
enum ntlm_status ntlmd_ldap_find_entry(struct ntlmd_ldap_op *op, const char *user, LDAPMessage **ret)
{
	const struct ntlmd_ldap_store *s = op->s;
	char filter[FILTER_MAX];
	char *attrs[NTLMD_LDAP_ATTR_COUNT + 1];
	struct search q = {.bases = s->conf.bases, .filter = filter, .attrs = attrs};

	if (!ntlmd_ldap_match_filter(s->conf.filter, s->conf.attrs[NTLMD_LDAP_ATTR_UID], user, filter))
		return NTLM_STATUS_NO_SUCH_USER;
	for (size_t i = 0; i < NTLMD_LDAP_ATTR_COUNT; i++)
		attrs[i] = s->conf.attrs[i];
	attrs[NTLMD_LDAP_ATTR_COUNT] = NULL;
	return ntlmd_ldap_search_failover(op, &q, ret);
}

/* One policy value of a sambaDomain entry: minutes in Samba's schema
 * (sambaLockoutDuration, sambaLockoutObservationWindow) given in seconds;
 * min is the least value accepted (-1: the duration, whose "forever" is
 * -1 or 0). Absent or malformed: *slot kept. */
static void policy_value(LDAP *ld, LDAPMessage *e, const char *attr, bool minutes, int64_t min, int64_t *slot)
{
	bool absent;
	char *v = ntlmd_ldap_get_value(ld, e, attr, &absent);
	int64_t n;

	if (v != NULL && ntlmd_ldap_parse_int64(v, &n)) {
		/* "forever": Samba's (uint32_t)-1, and 0, which Samba
		 * (pdb_update_autolock_flag) and Windows never auto-unlock
		 * either (0 seconds would clear every L on the next read) */
		if (min < 0 && (n == UINT32_MAX || n == 0))
			n = -1;
		if (n >= min && n <= INT32_MAX)
			*slot = minutes && n > 0 ? n * 60 : n;
	}
	free(v);
}

enum policy_read { POLICY_FOUND, POLICY_NONE, POLICY_FAILED };

#define POLICY_ENTRIES 64 /* sambaDomain entries one policy search returns at most */

/* The sambaDomain entry a policy read took, and whether another one
 * matched too where every place was searched; twin: the DN of another
 * entry of the same name (attack5: one planted under a base, named like
 * the real domain, was read first). */
struct policy_hit {
	char *dn;   /* malloc'd; NULL: none */
	char *name; /* its domain name (domain_attribute), malloc'd; NULL: none */
	char *twin; /* malloc'd; NULL: none */
	bool several;
};

static void policy_hit_clear(struct policy_hit *hit)
{
	free(hit->dn);
	free(hit->name);
	free(hit->twin);
}

/* Whether entry e's domain name (domain_attribute) is name, in any case
 * (sambaDomainName's caseIgnoreMatch). */
static bool entry_named(const struct ntlmd_ldap_store *s, LDAP *ld, LDAPMessage *e, const char *name)
{
	struct berval **v = ldap_get_values_len(ld, e, s->conf.domain_attribute);
	bool same = false;

	for (size_t i = 0; name != NULL && v != NULL && v[i] != NULL && !same; i++)
		same = strlen(name) == v[i]->bv_len && strncasecmp(v[i]->bv_val, name, v[i]->bv_len) == 0;
	ldap_value_free_len(v);
	return same;
}

static char *entry_name(const struct ntlmd_ldap_store *s, LDAP *ld, LDAPMessage *e)
{
	bool absent;

	return ntlmd_ldap_get_value(ld, e, s->conf.domain_attribute, &absent);
}

/* The names of the `domains` line when it names domains (not `*`), else
 * NULL. */
static char *const *configured_names(const struct ntlmd_ldap_store *s)
{
	for (size_t i = 0; s->conf.domains != NULL && s->conf.domains[i] != NULL; i++)
		if (strcmp(s->conf.domains[i], "*") == 0)
			return NULL;
	return s->conf.domains;
}

/* The filter of a policy's sambaDomain entry: one with a lockout
 * attribute, named by one of names (NULL: any name), as Samba reads its
 * own workgroup's entry (attack4 F2, F3: whoever may add an entry under a
 * base planted a sambaDomain with threshold 0 that every ntlmd read
 * first). false when it does not fit. */
static bool policy_filter(const struct ntlmd_ldap_store *s, char *const *names, char out[FILTER_MAX])
{
	size_t o = (size_t)snprintf(out, FILTER_MAX, "%s",
	                            "(&(objectClass=sambaDomain)(|(sambaLockoutThreshold=*)"
	                            "(sambaLockoutDuration=*)(sambaLockoutObservationWindow=*))");

	if (names != NULL) {
		o += (size_t)snprintf(out + o, FILTER_MAX - o, "(|");
		for (size_t i = 0; names[i] != NULL && o < FILTER_MAX; i++) {
			char escaped[4 * MAX_USER + 4];

			if (!escape_filter_value(names[i], escaped, sizeof(escaped)))
				return false;
			o += (size_t)snprintf(out + o, FILTER_MAX - o, "(%s=%s)", s->conf.domain_attribute,
			                      escaped);
		}
		if (o < FILTER_MAX)
			o += (size_t)snprintf(out + o, FILTER_MAX - o, ")");
	}
	if (o < FILTER_MAX)
		o += (size_t)snprintf(out + o, FILTER_MAX - o, ")");
	return o < FILTER_MAX;
}

/* The sambaDomain entries under base that filter takes (POLICY_ENTRIES at
 * most): the values of the first one of the whole read over *p, its DN and
 * name in hit, hit->several when another DN matches, hit->twin when another
 * DN has the same name. */
static enum policy_read read_policy_under(const struct ntlmd_ldap_store *s, LDAP *ld, const char *base,
                                          const char *filter, struct lockout_policy *p,
                                          struct policy_hit *hit)
{
	char threshold[] = "sambaLockoutThreshold", duration[] = "sambaLockoutDuration",
	     window[] = "sambaLockoutObservationWindow";
	char *attrs[] = {threshold, duration, window, s->conf.domain_attribute, NULL};
	struct timeval tv = {(time_t)s->conf.timelimit, 0};
	LDAPMessage *res = NULL;
	enum policy_read r = POLICY_NONE;
	int rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tv,
	                           POLICY_ENTRIES, &res);

	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED && rc != LDAP_NO_SUCH_OBJECT)
		r = POLICY_FAILED;
	for (LDAPMessage *e = ldap_first_entry(ld, res); r != POLICY_FAILED && e != NULL;
	     e = ldap_next_entry(ld, e)) {
		char *dn = ldap_get_dn(ld, e);

		if (dn == NULL)
			continue;
		if (hit->dn == NULL && (hit->dn = strdup(dn)) != NULL) {
			hit->name = entry_name(s, ld, e);
			policy_value(ld, e, threshold, false, 0, &p->threshold);
			policy_value(ld, e, duration, true, -1, &p->duration);
			policy_value(ld, e, window, true, 1, &p->window);
		} else if (hit->dn != NULL && strcmp(hit->dn, dn) != 0) {
			hit->several = true;
			if (hit->twin == NULL && entry_named(s, ld, e, hit->name))
				hit->twin = strdup(dn);
		}
		ldap_memfree(dn);
		r = hit->dn != NULL ? POLICY_FOUND : r;
	}
	ldap_msgfree(res);
	return r;
}

/* read_policy_under() over places (NULL-terminated; NULL: none) after r,
 * up to the first found, or each one when every is set. */
static enum policy_read read_policy_in(const struct ntlmd_ldap_store *s, LDAP *ld, char *const *places,
                                       const char *filter, bool every, enum policy_read r,
                                       struct lockout_policy *p, struct policy_hit *hit)
{
	for (size_t i = 0; places != NULL && places[i] != NULL && r != POLICY_FAILED; i++) {
		enum policy_read u;

		if (r == POLICY_FOUND && !every)
			break;
		u = read_policy_under(s, ld, places[i], filter, p, hit);
		if (u != POLICY_NONE)
			r = u;
	}
	return r;
}

/* The entry filter takes under the bases, else the naming contexts (the
 * sambaDomain entry usually sits above the users); every: both searched,
 * to see whether several entries match. */
static enum policy_read read_policy_where(const struct ntlmd_ldap_store *s, LDAP *ld, const char *filter,
                                          bool every, struct lockout_policy *p, struct policy_hit *hit)
{
	enum policy_read r = read_policy_in(s, ld, s->conf.bases, filter, every, POLICY_NONE, p, hit);
	char **contexts;

	if (r == POLICY_FAILED || (r == POLICY_FOUND && !every))
		return r;
	contexts = ntlmd_ldap_naming_contexts(s, ld);
	r = read_policy_in(s, ld, contexts, filter, every, r, p, hit);
	ntlmd_ldap_strv_free(contexts);
	return r;
}

/* The policy of the sambaDomain entry named by the `domains` line; without
 * one (or with `*`), of the entry named netbios_domain, and only when none
 * is, of the first entry with a lockout attribute (the bases first; hit
 * says whether there are several). Over ntlmd.conf's. Two entries of the
 * named domain's name (hit->twin): ntlmd.conf's policy, as Samba refuses
 * "too many domain info entries" (attack5: whoever may add an entry under
 * a base planted one named like the domain, read first, threshold 0). */
static enum policy_read read_policy(const struct ntlmd_ldap_store *s, LDAP *ld, struct lockout_policy *p,
                                    struct policy_hit *hit)
{
	char *const *named = configured_names(s);
	char *const own[] = {s->server_domain, NULL};
	char filter[FILTER_MAX];
	enum policy_read r;

	if (named != NULL || s->server_domain != NULL) {
		if (!policy_filter(s, named != NULL ? named : own, filter))
			return POLICY_FAILED;
		r = read_policy_where(s, ld, filter, true, p, hit);
		hit->several = false; /* the named entry: no question which, unless it has a twin */
		if (r == POLICY_FOUND && hit->twin != NULL) {
			*p = s->conf_policy;
			return POLICY_NONE;
		}
		if (named != NULL || r != POLICY_NONE)
			return r;
	}
	if (!policy_filter(s, NULL, filter))
		return POLICY_FAILED;
	return read_policy_where(s, ld, filter, true, p, hit);
}

/* Several sambaDomain entries with lockout attributes and none named: the
 * policy is the first one's; a warning names it once, not on each read,
 * until another entry is taken (attack4 F3). */
static void warn_several_domains(struct ntlmd_ldap_store *s, const struct policy_hit *hit)
{
	bool doubt = hit->several || hit->twin != NULL, say;

	pthread_mutex_lock(&s->state_lock);
	say = doubt && (s->policy_warned_dn == NULL || strcmp(s->policy_warned_dn, hit->dn) != 0);
	if (say || !doubt) {
		free(s->policy_warned_dn);
		s->policy_warned_dn = say ? strdup(hit->dn) : NULL;
	}
	pthread_mutex_unlock(&s->state_lock);
	if (say && hit->twin != NULL)
		ntlmd_backend_log(LOG_WARNING,
		                  "ldap: two sambaDomain entries are named %s: %s and %s; the directory's "
		                  "lockout policy is not used, ntlmd.conf's is, until one is removed",
		                  hit->name != NULL ? hit->name : "(no name)", hit->dn, hit->twin);
	else if (say)
		ntlmd_backend_log(LOG_WARNING,
		                  "ldap: several sambaDomain entries have lockout attributes and none is "
		                  "named %s (netbios_domain): the lockout policy is read from %s; name the "
		                  "domain with a domains line",
		                  s->server_domain != NULL ? s->server_domain : "(none)", hit->dn);
}

/* The lockout policy in force: the directory's sambaDomain values where
 * it has them, else ntlmd.conf's; read again on op's connection (a
 * connected one) when older than POLICY_TTL seconds. A failed read keeps
 * the last one. */
struct lockout_policy ntlmd_ldap_current_policy(struct ntlmd_ldap_op *op)
{
	struct ntlmd_ldap_store *s = op->s;
	struct lockout_policy p;
	struct policy_hit hit = {NULL, NULL, NULL, false};
	enum policy_read r;
	bool fresh;

	pthread_mutex_lock(&s->state_lock);
	p = s->policy;
	fresh = s->policy_read_at != 0 && ntlmd_ldap_mono_now() - s->policy_read_at < POLICY_TTL;
	pthread_mutex_unlock(&s->state_lock);
	if (fresh || op->conn->ld == NULL)
		return p;
	p = s->conf_policy;
	r = read_policy(s, op->conn->ld, &p, &hit);
	if (r == POLICY_FAILED) {
		policy_hit_clear(&hit);
		pthread_mutex_lock(&s->state_lock);
		p = s->policy;
		pthread_mutex_unlock(&s->state_lock);
		return p;
	}
	warn_several_domains(s, &hit);
	ntlmd_backend_log(
	    LOG_DEBUG, "ldap: lockout policy (%s): threshold %lld, window %lld s, duration %lld s%s%s",
	    r == POLICY_FOUND ? "sambaDomain" : "ntlmd.conf", (long long)p.threshold, (long long)p.window,
	    (long long)p.duration, r == POLICY_FOUND ? ", from " : "", r == POLICY_FOUND ? hit.dn : "");
	policy_hit_clear(&hit);
	pthread_mutex_lock(&s->state_lock);
	s->policy = p;
	s->policy_read_at = ntlmd_ldap_mono_now();
	pthread_mutex_unlock(&s->state_lock);
	return p;
}
