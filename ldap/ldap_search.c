/*
 * ldap_search.c: the searches of the ldap store: filters (RFC 4515),
 * one entry under the first base that has it, each search bounded by
 * timelimit and retried on the next server when one stops answering; the
 * lockout policy of the sambaDomain entry.
 */
#include <config.h>

#include "ldap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
 * min is the least value accepted. Absent or malformed: *slot kept. */
static void policy_value(LDAP *ld, LDAPMessage *e, const char *attr, bool minutes, int64_t min, int64_t *slot)
{
	bool absent;
	char *v = ntlmd_ldap_get_value(ld, e, attr, &absent);
	int64_t n;

	if (v != NULL && ntlmd_ldap_parse_int64(v, &n)) {
		if (min < 0 && n == UINT32_MAX)
			n = -1; /* "forever" written as Samba's (uint32_t)-1 */
		if (n >= min && n <= INT32_MAX)
			*slot = minutes && n > 0 ? n * 60 : n;
	}
	free(v);
}

enum policy_read { POLICY_FOUND, POLICY_NONE, POLICY_FAILED };

/* The first sambaDomain entry under base that has a lockout attribute:
 * its values over *p. */
static enum policy_read read_policy_under(const struct ntlmd_ldap_store *s, LDAP *ld, const char *base,
                                          struct lockout_policy *p)
{
	char threshold[] = "sambaLockoutThreshold", duration[] = "sambaLockoutDuration",
	     window[] = "sambaLockoutObservationWindow";
	char *attrs[] = {threshold, duration, window, NULL};
	struct timeval tv = {(time_t)s->conf.timelimit, 0};
	LDAPMessage *res = NULL, *e;
	enum policy_read r = POLICY_NONE;
	int rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE,
	                           "(&(objectClass=sambaDomain)(|(sambaLockoutThreshold=*)"
	                           "(sambaLockoutDuration=*)(sambaLockoutObservationWindow=*)))",
	                           attrs, 0, NULL, NULL, &tv, 1, &res);

	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED && rc != LDAP_NO_SUCH_OBJECT)
		r = POLICY_FAILED;
	else if ((e = ldap_first_entry(ld, res)) != NULL) {
		policy_value(ld, e, threshold, false, 0, &p->threshold);
		policy_value(ld, e, duration, true, -1, &p->duration);
		policy_value(ld, e, window, true, 1, &p->window);
		r = POLICY_FOUND;
	}
	ldap_msgfree(res);
	return r;
}

/* The policy of the sambaDomain entry under the bases or else the naming
 * contexts, over ntlmd.conf's. */
static enum policy_read read_policy(const struct ntlmd_ldap_store *s, LDAP *ld, struct lockout_policy *p)
{
	enum policy_read r = POLICY_NONE;
	char **contexts;

	for (size_t b = 0; s->conf.bases[b] != NULL && r == POLICY_NONE; b++)
		r = read_policy_under(s, ld, s->conf.bases[b], p);
	if (r != POLICY_NONE)
		return r;
	contexts = ntlmd_ldap_naming_contexts(s, ld);
	for (size_t i = 0; contexts != NULL && contexts[i] != NULL && r == POLICY_NONE; i++)
		r = read_policy_under(s, ld, contexts[i], p);
	ntlmd_ldap_strv_free(contexts);
	return r;
}

/* The lockout policy in force: the directory's sambaDomain values where
 * it has them, else ntlmd.conf's; read again on op's connection (a
 * connected one) when older than POLICY_TTL seconds. A failed read keeps
 * the last one. */
struct lockout_policy ntlmd_ldap_current_policy(struct ntlmd_ldap_op *op)
{
	struct ntlmd_ldap_store *s = op->s;
	struct lockout_policy p;
	enum policy_read r;
	bool fresh;

	pthread_mutex_lock(&s->state_lock);
	p = s->policy;
	fresh = s->policy_read_at != 0 && ntlmd_ldap_mono_now() - s->policy_read_at < POLICY_TTL;
	pthread_mutex_unlock(&s->state_lock);
	if (fresh || op->conn->ld == NULL)
		return p;
	p = s->conf_policy;
	r = read_policy(s, op->conn->ld, &p);
	if (r == POLICY_FAILED) {
		pthread_mutex_lock(&s->state_lock);
		p = s->policy;
		pthread_mutex_unlock(&s->state_lock);
		return p;
	}
	ntlmd_backend_log(LOG_DEBUG,
	                  "ldap: lockout policy (%s): threshold %lld, window %lld s, duration %lld s",
	                  r == POLICY_FOUND ? "sambaDomain" : "ntlmd.conf", (long long)p.threshold,
	                  (long long)p.window, (long long)p.duration);
	pthread_mutex_lock(&s->state_lock);
	s->policy = p;
	s->policy_read_at = ntlmd_ldap_mono_now();
	pthread_mutex_unlock(&s->state_lock);
	return p;
}
