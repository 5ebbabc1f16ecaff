/*
 * ldap_conn.c: the connections of the ldap store. A pool of connections,
 * one per operation in progress (ntlmd runs operations in its store
 * workers, one at a time each, so there are at most as many connections as
 * workers, as nslcd has one per thread); each connection goes to the first
 * URI that answers; connect and bind are bounded by bind_timelimit; a
 * server that stops answering is dropped and the operation retried on the
 * next URI, so no lookup is lost to a failover. A directory no server of
 * which answers makes the store NTLM_ERR_BACKEND_UNAVAILABLE, never
 * NO_SUCH_USER, at once for reconnect_retrytime seconds (then one
 * operation tries again). The domains (sambaDomain) are read on connecting.
 */
#include <config.h>

#include "ldap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#define MAX_DOMAINS 64

int64_t ntlmd_ldap_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ntlmd_ldap_mono_now(void)
{
	return ntlmd_ldap_mono_ms() / 1000;
}

/* Results that mean the server is gone or not answering: the operation
 * goes to the next URI. */
bool ntlmd_ldap_server_down(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR ||
	       rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY || rc == LDAP_UNWILLING_TO_PERFORM ||
	       rc == LDAP_OTHER;
}

/* The server's diagnostic message of ld's last operation, as " (text)",
 * in text (DIAGNOSTIC_MAX bytes; "" when none); returns text. */
const char *ntlmd_ldap_diagnostic(LDAP *ld, char text[DIAGNOSTIC_MAX])
{
	char *msg = NULL;

	text[0] = '\0';
	if (ld != NULL && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS &&
	    msg != NULL) {
		snprintf(text, DIAGNOSTIC_MAX, " (%s)", msg);
		ldap_memfree(msg);
	}
	return text;
}

void ntlmd_ldap_drop_connection(struct ntlmd_ldap_conn *c)
{
	if (c->ld != NULL)
		ldap_unbind_ext_s(c->ld, NULL, NULL);
	c->ld = NULL;
}

/* Server i failed in op: skipped by the others for reconnect_sleeptime. */
void ntlmd_ldap_mark_down(struct ntlmd_ldap_op *op, size_t i, int rc)
{
	struct ntlmd_ldap_store *s = op->s;

	op->failed[i] = true;
	pthread_mutex_lock(&s->state_lock);
	s->down_until[i] = ntlmd_ldap_mono_now() + s->conf.reconnect_sleeptime;
	s->last_error[i] = rc;
	pthread_mutex_unlock(&s->state_lock);
}

/* Waits for the result of msgid within seconds; LDAP_TIMEOUT abandons it. */
int ntlmd_ldap_wait_result(LDAP *ld, int msgid, unsigned seconds, LDAPMessage **ret)
{
	struct timeval tv = {(time_t)seconds, 0};
	int rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, ret);

	if (rc == 0) {
		ldap_abandon_ext(ld, msgid, NULL, NULL);
		return LDAP_TIMEOUT;
	}
	if (rc < 0) {
		int err = LDAP_SERVER_DOWN;
		ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &err);
		return err != LDAP_SUCCESS ? err : LDAP_SERVER_DOWN;
	}
	return LDAP_SUCCESS;
}

/* Binds with the configured identity within bind_timelimit. */
static int bind_identity(const struct ntlmd_ldap_store *s, LDAP *ld, const char *dn, const char *pw)
{
	struct berval cred = {0, (char *)""}; /* EXTERNAL: an empty response, no authzid */
	LDAPMessage *res = NULL;
	int msgid, rc, err = LDAP_OTHER;

	if (s->conf.sasl_external && dn == s->conf.binddn)
		rc = ldap_sasl_bind(ld, NULL, "EXTERNAL", &cred, NULL, NULL, &msgid);
	else if (dn == NULL)
		return LDAP_SUCCESS; /* anonymous */
	else {
		cred.bv_val = (char *)pw;
		cred.bv_len = pw != NULL ? strlen(pw) : 0;
		rc = ldap_sasl_bind(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, &msgid);
	}
	if (rc != LDAP_SUCCESS)
		return rc;
	rc = ntlmd_ldap_wait_result(ld, msgid, s->conf.bind_timelimit, &res);
	if (rc != LDAP_SUCCESS)
		return rc;
	rc = ldap_parse_result(ld, res, &err, NULL, NULL, NULL, NULL, 1);
	return rc != LDAP_SUCCESS ? rc : err;
}

static bool set_tls_options(const struct ntlmd_ldap_store *s, LDAP *ld)
{
	const struct ntlmd_ldap_conf *c = &s->conf;
	int reqcert = c->tls_reqcert, zero = 0;

	if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &reqcert) != LDAP_OPT_SUCCESS)
		return false;
	if (c->tls_cacertfile != NULL &&
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, c->tls_cacertfile) != LDAP_OPT_SUCCESS)
		return false;
	if (c->tls_cacertdir != NULL &&
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTDIR, c->tls_cacertdir) != LDAP_OPT_SUCCESS)
		return false;
	if (c->tls_cert != NULL &&
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CERTFILE, c->tls_cert) != LDAP_OPT_SUCCESS)
		return false;
	if (c->tls_key != NULL && ldap_set_option(ld, LDAP_OPT_X_TLS_KEYFILE, c->tls_key) != LDAP_OPT_SUCCESS)
		return false;
	/* a context of this handle's own, with the options above */
	return ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) == LDAP_OPT_SUCCESS;
}

/* A handle to uri with every timeout set, TLS negotiated and bound as dn;
 * NULL after logging why, with the LDAP result code it failed with in
 * *ret_rc (may be NULL: connect_uri; the server's last error, STATS).
 * libldap's connect, StartTLS and bind are synchronous: this waits up to
 * bind_timelimit for each, which is why it runs in a store worker, never
 * in ntlmd's loop (docs/ldap.md). */
static LDAP *connect_uri_rc(const struct ntlmd_ldap_store *s, const char *uri, const char *dn, const char *pw,
                            int *ret_rc)
{
	const struct ntlmd_ldap_conf *c = &s->conf;
	struct timeval net = {(time_t)c->bind_timelimit, 0}, api = {(time_t)c->timelimit, 0};
	int version = LDAP_VERSION3, rc;
	char diag[DIAGNOSTIC_MAX];
	LDAP *ld = NULL;

	rc = ldap_initialize(&ld, uri);
	if (ret_rc != NULL)
		*ret_rc = rc;
	if (rc != LDAP_SUCCESS) {
		ntlmd_backend_log(LOG_ERR, "ldap: %s: %s", uri, ldap_err2string(rc));
		return NULL;
	}
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &api) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON) != LDAP_OPT_SUCCESS) {
		if (ret_rc != NULL)
			*ret_rc = LDAP_LOCAL_ERROR;
		ntlmd_backend_log(LOG_ERR, "ldap: %s: cannot set the connection options", uri);
		goto fail;
	}
	if ((c->ssl != NTLMD_LDAP_SSL_OFF || strncasecmp(uri, "ldaps://", 8) == 0) &&
	    !set_tls_options(s, ld)) {
		ntlmd_backend_log(LOG_ERR, "ldap: %s: cannot set the TLS options", uri);
		if (ret_rc != NULL)
			*ret_rc = LDAP_LOCAL_ERROR;
		goto fail;
	}
	if (c->ssl == NTLMD_LDAP_SSL_START_TLS) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
		if (ret_rc != NULL)
			*ret_rc = rc;
		if (rc != LDAP_SUCCESS) {
			ntlmd_backend_log(LOG_ERR, "ldap: %s: StartTLS failed: %s%s", uri,
			                  ldap_err2string(rc), ntlmd_ldap_diagnostic(ld, diag));
			goto fail;
		}
	}
	rc = bind_identity(s, ld, dn, pw);
	if (ret_rc != NULL)
		*ret_rc = rc;
	if (rc != LDAP_SUCCESS) {
		if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
		    rc == LDAP_INSUFFICIENT_ACCESS || rc == LDAP_STRONG_AUTH_REQUIRED ||
		    rc == LDAP_CONFIDENTIALITY_REQUIRED)
			ntlmd_backend_log(LOG_ERR, "ldap: %s: bind as %s refused: %s%s", uri,
			                  dn != NULL              ? dn
			                  : s->conf.sasl_external ? "SASL EXTERNAL"
			                                          : "anonymous",
			                  ldap_err2string(rc), ntlmd_ldap_diagnostic(ld, diag));
		else
			ntlmd_backend_log(LOG_ERR, "ldap: %s: %s%s", uri, ldap_err2string(rc),
			                  ntlmd_ldap_diagnostic(ld, diag));
		goto fail;
	}
	return ld;
fail:
	ldap_unbind_ext_s(ld, NULL, NULL);
	return NULL;
}

LDAP *ntlmd_ldap_connect_uri(const struct ntlmd_ldap_store *s, const char *uri, const char *dn,
                             const char *pw)
{
	return connect_uri_rc(s, uri, dn, pw, NULL);
}

/* The sambaDomain names and SIDs one connect reads (swapped in whole). */
struct domain_list {
	char **names, **sids; /* NULL-terminated, same indices; a SID "" when absent */
	size_t n;
};

/* True when l holds name (case-insensitive) with sid (NULL: any SID). */
static bool domain_listed(const struct domain_list *l, const char *name, const char *sid)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->names[i], name) == 0 && (sid == NULL || strcmp(l->sids[i], sid) == 0))
			return true;
	return false;
}

/* Appends name and sid (NULL: none), unless l holds them already (a
 * naming context holds the bases); false when out of memory. */
static bool add_dir_domain(struct domain_list *l, const struct berval *name, const struct berval *sid)
{
	char *n = strndup(name->bv_val, name->bv_len);
	char *d = sid != NULL ? strndup(sid->bv_val, sid->bv_len) : strdup("");
	char **names, **sids;
	bool ok = false;

	if (n == NULL || d == NULL)
		goto out;
	ok = true;
	if (domain_listed(l, n, d))
		goto out;
	ok = (names = realloc(l->names, (l->n + 2) * sizeof(char *))) != NULL;
	if (!ok)
		goto out;
	l->names = names;
	names[l->n] = NULL;
	ok = (sids = realloc(l->sids, (l->n + 2) * sizeof(char *))) != NULL;
	if (!ok)
		goto out;
	l->sids = sids;
	names[l->n] = n;
	sids[l->n] = d;
	n = d = NULL;
	l->n++;
	names[l->n] = sids[l->n] = NULL;
out:
	free(n);
	free(d);
	return ok;
}

/* Moves the entries named name (the server's own domain) to the front, in
 * their order: an account's SID is matched with them first. */
static void own_domain_first(struct domain_list *l, const char *name)
{
	size_t k = 0;

	for (size_t i = 0; name != NULL && i < l->n; i++)
		if (strcasecmp(l->names[i], name) == 0) {
			char *n = l->names[i], *d = l->sids[i];

			memmove(l->names + k + 1, l->names + k, (i - k) * sizeof(char *));
			memmove(l->sids + k + 1, l->sids + k, (i - k) * sizeof(char *));
			l->names[k] = n;
			l->sids[k++] = d;
		}
}

/* Appends the domain names (and SIDs) of the sambaDomain entries under
 * base that filter takes. */
static void read_domains_under(const struct ntlmd_ldap_store *s, LDAP *ld, const char *base,
                               const char *filter, struct domain_list *l)
{
	char sid_attr[] = "sambaSID";
	char *attrs[] = {s->conf.domain_attribute, sid_attr, NULL};
	struct timeval tv = {(time_t)s->conf.timelimit, 0};
	LDAPMessage *res = NULL;
	int rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tv,
	                           MAX_DOMAINS, &res);

	if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED) {
		for (LDAPMessage *e = ldap_first_entry(ld, res); e != NULL; e = ldap_next_entry(ld, e)) {
			struct berval **v = ldap_get_values_len(ld, e, s->conf.domain_attribute);
			struct berval **sid = ldap_get_values_len(ld, e, sid_attr);
			for (size_t i = 0; v != NULL && v[i] != NULL && l->n < MAX_DOMAINS; i++)
				if (!add_dir_domain(l, v[i], sid != NULL ? sid[0] : NULL))
					break;
			ldap_value_free_len(sid);
			ldap_value_free_len(v);
		}
	}
	ldap_msgfree(res);
}

/* The server's naming contexts (the root DSE's namingContexts), where a
 * sambaDomain entry above the users' bases is; NULL when none. */
char **ntlmd_ldap_naming_contexts(const struct ntlmd_ldap_store *s, LDAP *ld)
{
	char *attrs[] = {(char *)"namingContexts", NULL};
	struct timeval tv = {(time_t)s->conf.timelimit, 0};
	LDAPMessage *res = NULL;
	struct berval **v = NULL;
	char **list = NULL;
	size_t n = 0;

	if (ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL, &tv, 1,
	                      &res) == LDAP_SUCCESS)
		v = ldap_get_values_len(ld, ldap_first_entry(ld, res), "namingContexts");
	while (v != NULL && v[n] != NULL)
		n++;
	if (n > 0 && (list = calloc(n + 1, sizeof(char *))) != NULL)
		for (size_t i = 0; i < n; i++)
			if ((list[i] = strndup(v[i]->bv_val, v[i]->bv_len)) == NULL) {
				ntlmd_ldap_strv_free(list); /* the ones before i */
				list = NULL;
				break;
			}
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return list;
}

/* read_domains_under() with filter over the bases, then over the naming
 * contexts when the list lacks netbios_domain (or is empty). */
static void read_domains_where(struct ntlmd_ldap_store *s, LDAP *ld, const char *filter,
                               struct domain_list *l)
{
	for (size_t b = 0; s->conf.bases[b] != NULL; b++)
		read_domains_under(s, ld, s->conf.bases[b], filter, l);
	if (l->n == 0 || (s->server_domain != NULL && !domain_listed(l, s->server_domain, NULL))) {
		char **contexts = ntlmd_ldap_naming_contexts(s, ld);
		for (size_t i = 0; contexts != NULL && contexts[i] != NULL; i++)
			read_domains_under(s, ld, contexts[i], filter, l);
		ntlmd_ldap_strv_free(contexts);
	}
}

/* Reads the domain names of the sambaDomain entries under the bases, and
 * under the server's naming contexts too (the sambaDomain entry usually
 * sits above the users) when none is found there or none named
 * netbios_domain (attack4 F3: an entry planted under a base hid the real
 * one, and the domain's users were unknown); the entries named
 * netbios_domain first, so that MAX_DOMAINS entries planted under a base
 * do not fill the list before it (attack5 F4); puts them in service, the
 * server's own domain first. None found: any domain. */
static void read_dir_domains(struct ntlmd_ldap_store *s, LDAP *ld)
{
	struct domain_list l = {0};
	char own[FILTER_MAX];

	if (s->server_domain != NULL &&
	    ntlmd_ldap_match_filter("(objectClass=sambaDomain)", s->conf.domain_attribute, s->server_domain,
	                            own))
		read_domains_where(s, ld, own, &l);
	read_domains_where(s, ld, "(objectClass=sambaDomain)", &l);
	own_domain_first(&l, s->server_domain);
	if (l.n > 0)
		ntlmd_backend_log(LOG_DEBUG, "ldap: %zu domain name(s) read from the directory", l.n);
	pthread_mutex_lock(&s->state_lock);
	ntlmd_ldap_strv_free(s->dir_domains);
	ntlmd_ldap_strv_free(s->dir_sids);
	s->dir_domains = l.names;
	s->dir_sids = l.sids;
	pthread_mutex_unlock(&s->state_lock);
}

/* No server answered in this operation: the directory is unavailable for
 * reconnect_retrytime seconds (logged when it becomes so, not on each
 * failed retry). */
enum ntlm_status ntlmd_ldap_directory_unavailable(struct ntlmd_ldap_store *s)
{
	bool first;

	pthread_mutex_lock(&s->state_lock);
	s->retry_at = ntlmd_ldap_mono_ms() + (int64_t)s->conf.reconnect_retrytime * 1000;
	first = !s->unavailable;
	if (first) {
		s->unavailable = true;
		s->unavailable_since = ntlmd_ldap_mono_now();
	}
	pthread_mutex_unlock(&s->state_lock);
	if (first)
		ntlmd_backend_log(
		    LOG_ERR,
		    "ldap: no directory server answers (%zu configured): the directory is "
		    "unavailable: lookups fail at once with STATUS_NO_LOGON_SERVERS, the servers "
		    "are tried again every %u s (reconnect_retrytime)",
		    s->conf.n_uris, s->conf.reconnect_retrytime);
	else
		ntlmd_backend_log(LOG_INFO, "ldap: still no directory server answers: next try in %u s",
		                  s->conf.reconnect_retrytime);
	return NTLM_ERR_BACKEND_UNAVAILABLE;
}

/* Whether the directory is unavailable and not to be tried before
 * retry_at: every operation then fails at once. */
bool ntlmd_ldap_directory_resting(struct ntlmd_ldap_store *s)
{
	bool resting;

	pthread_mutex_lock(&s->state_lock);
	resting = s->unavailable && ntlmd_ldap_mono_ms() < s->retry_at;
	pthread_mutex_unlock(&s->state_lock);
	return resting;
}

/* Connection c reached server i: counted, and the directory is available
 * again (said once). */
static void server_answers(struct ntlmd_ldap_store *s, struct ntlmd_ldap_conn *c, size_t i)
{
	int64_t since = 0;
	bool was_unavailable;

	pthread_mutex_lock(&s->state_lock);
	if (s->stats.connects > 0 && i != c->current)
		s->stats.failovers++;
	s->stats.connects++;
	s->down_until[i] = 0;
	was_unavailable = s->unavailable;
	if (was_unavailable) {
		s->unavailable = false;
		since = s->unavailable_since;
	}
	pthread_mutex_unlock(&s->state_lock);
	c->current = i;
	ntlmd_backend_log(LOG_INFO, "ldap: connected to %s", s->conf.uris[i]);
	if (was_unavailable)
		ntlmd_backend_log(LOG_NOTICE,
		                  "ldap: the directory answers again (%s), after %lld s unavailable",
		                  s->conf.uris[i], (long long)(ntlmd_ldap_mono_now() - since));
}

static bool uri_down(struct ntlmd_ldap_store *s, size_t i, int64_t now)
{
	bool down;

	pthread_mutex_lock(&s->state_lock);
	down = s->down_until[i] > now;
	pthread_mutex_unlock(&s->state_lock);
	return down;
}

/* The order to try the URIs in: those not marked down, then the others,
 * never one that failed in this operation. Connects op's connection to
 * the first that answers. While the directory is unavailable (before
 * retry_at), fails at once without touching the network. */
enum ntlm_status ntlmd_ldap_ensure_connected(struct ntlmd_ldap_op *op)
{
	struct ntlmd_ldap_store *s = op->s;
	struct ntlmd_ldap_conn *c = op->conn;
	int64_t now;
	int rc = LDAP_SUCCESS;

	if (c->ld != NULL)
		return NTLM_OK;
	if (ntlmd_ldap_directory_resting(s))
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	now = ntlmd_ldap_mono_now();
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < s->conf.n_uris; i++) {
			if (uri_down(s, i, now) != (pass == 1) || op->failed[i])
				continue;
			c->ld = connect_uri_rc(s, s->conf.uris[i], s->conf.binddn, s->conf.bindpw, &rc);
			if (c->ld == NULL) {
				ntlmd_ldap_mark_down(op, i, rc);
				continue;
			}
			server_answers(s, c, i);
			if (s->conf.domains == NULL)
				read_dir_domains(s, c->ld);
			return NTLM_OK;
		}
	}
	return ntlmd_ldap_directory_unavailable(s);
}

/* Starts an operation: an idle connection of the pool, or a new one
 * (connected on first use). false when out of memory. */
bool ntlmd_ldap_op_begin(struct ntlmd_ldap_store *s, struct ntlmd_ldap_op *op)
{
	*op = (struct ntlmd_ldap_op){.s = s};
	op->failed = calloc(s->conf.n_uris, sizeof(*op->failed));
	if (op->failed == NULL)
		return false;
	pthread_mutex_lock(&s->state_lock);
	op->conn = s->idle;
	if (op->conn != NULL)
		s->idle = op->conn->next;
	pthread_mutex_unlock(&s->state_lock);
	if (op->conn == NULL)
		op->conn = calloc(1, sizeof(*op->conn));
	if (op->conn == NULL) {
		free(op->failed);
		return false;
	}
	op->conn->next = NULL;
	return true;
}

/* Ends an operation: its connection goes back to the pool. */
void ntlmd_ldap_op_end(struct ntlmd_ldap_op *op)
{
	struct ntlmd_ldap_store *s = op->s;

	free(op->failed);
	op->failed = NULL;
	if (op->conn == NULL)
		return;
	pthread_mutex_lock(&s->state_lock);
	op->conn->next = s->idle;
	s->idle = op->conn;
	pthread_mutex_unlock(&s->state_lock);
	op->conn = NULL;
}
