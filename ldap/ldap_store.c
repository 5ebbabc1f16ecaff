/*
 * ldap_store.c: the ldap store of ntlmd. A pool of connections, one per
 * operation in progress (ntlmd runs operations in its store workers, one
 * at a time each, so there are at most as many connections as workers,
 * as nslcd has one per thread); each connection goes to the first URI
 * that answers; every operation is bounded (connect and bind by
 * bind_timelimit, each search by timelimit); a server that stops
 * answering is dropped and the operation retried on the next URI, so no
 * lookup is lost to a failover. A directory no server of which answers
 * makes the store NTLM_ERR_BACKEND_UNAVAILABLE, never NO_SUCH_USER, at
 * once for reconnect_retrytime seconds (then one operation tries again).
 *
 * Threads: the settings are read-only once open; the server state (which
 * URI is down until when, the directory's availability, the domains read,
 * the idle connections, the counters) is behind state_lock, the cache
 * behind cache_lock. Neither is ever held across a network call, so
 * lookup_now (ntlmd's loop thread) never waits for the directory. The
 * design is in docs/ldap.md.
 */
#include <config.h>

#include "ldapstore.h"
#include "sid.h"

#include <ctype.h>
#include <errno.h>
#include <ldap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#define MAX_USER        256
#define CACHE_BUCKETS   1024u
#define CACHE_MAX       65536u
#define MAX_DOMAINS     64
#define FILTER_MAX      (4 * MAX_USER + 1024)
#define LOGON_HOURS_HEX 42 /* sambaLogonHours: 21 bytes, 168 hours */
#define DIAGNOSTIC_MAX  160
#define POLICY_TTL      60 /* seconds a sambaDomain lockout policy read is kept */
/* Writes of one write-back whose compare-and-swap another writer beat: at
 * least one writer wins each round, so N writers at once need N rounds. */
#define CAS_ATTEMPTS 16
/* The last plausible sambaBadPasswordTime: 9999-12-31T23:59:59Z. */
#define MAX_BAD_TIME INT64_C(253402300799)

struct cache_entry {
	struct cache_entry *next;
	char *key;       /* the user name, lower-case */
	int64_t expires; /* monotonic seconds */
	bool negative;
	struct ntlmd_account account; /* wiped on eviction; its bad_count is the entry's */
};

/* What the store has done, logged when it closes (a reload, the exit):
 * the first three under state_lock, the others under cache_lock. */
struct ntlmd_ldap_stats {
	unsigned long searches, connects, failovers;
	unsigned long cache_hits, cache_misses, stale_served;
};

/* One connection of the pool; one operation uses it at a time. */
struct ntlmd_ldap_conn {
	struct ntlmd_ldap_conn *next; /* in the idle list */
	LDAP *ld;                     /* NULL: not connected */
	size_t current;               /* the URI of ld */
	int64_t last_used;            /* monotonic seconds */
};

/* When the directory's count locks an account (lockout_writeback). */
struct lockout_policy {
	int64_t threshold; /* bad passwords that set L; 0: never */
	int64_t window;    /* seconds: a bad password after this long counts from 1 again */
	int64_t duration;  /* seconds an L lasts; -1: until an administrator clears it */
};

struct ntlmd_ldap_store {
	struct ntlmd_ldap_conf conf;       /* read-only once open */
	struct lockout_policy conf_policy; /* ntlmd.conf's, read-only once open */

	pthread_mutex_t state_lock;
	int64_t *down_until; /* per URI, monotonic seconds: skipped before, while others answer */
	int *last_error;     /* per URI: the LDAP result code it last failed with (0: none), STATS */
	/* The directory as a whole: unavailable once an operation found no
	 * server answering; until retry_at (monotonic ms) every operation
	 * fails at once, then one tries the servers again. A connection
	 * clears it. */
	bool unavailable;
	int64_t unavailable_since; /* monotonic seconds */
	int64_t retry_at;
	char **dir_domains; /* sambaDomainName values read at the last connect (kept while disconnected) */
	char **dir_sids;    /* the sambaSID of each of them ("" when absent), same indices */
	struct ntlmd_ldap_conn *idle; /* connections no operation uses */
	struct ntlmd_ldap_stats stats;
	struct lockout_policy policy; /* the sambaDomain's over conf_policy */
	int64_t policy_read_at;       /* monotonic seconds; 0: never read */

	pthread_mutex_t cache_lock;
	struct cache_entry *buckets[CACHE_BUCKETS];
	size_t cached;
};

/* One operation (a lookup, a write, a group search): the connection it
 * holds, and the servers that failed in it (each fails at most once in
 * one operation, then the next is tried). */
struct ntlmd_ldap_op {
	struct ntlmd_ldap_store *s;
	struct ntlmd_ldap_conn *conn;
	bool *failed; /* per URI */
};

enum attempt { ATTEMPT_OK, ATTEMPT_NOT_FOUND, ATTEMPT_SERVER_DOWN, ATTEMPT_FAILED };

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_now(void)
{
	return mono_ms() / 1000;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* ------------------------------------------------------------------ */
/* Connections */

/* Results that mean the server is gone or not answering: the operation
 * goes to the next URI. */
static bool server_down(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR ||
	       rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY || rc == LDAP_UNWILLING_TO_PERFORM ||
	       rc == LDAP_OTHER;
}

/* The server's diagnostic message of ld's last operation, as " (text)",
 * in text (DIAGNOSTIC_MAX bytes; "" when none); returns text. */
static const char *diagnostic(LDAP *ld, char text[DIAGNOSTIC_MAX])
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

static void drop_connection(struct ntlmd_ldap_conn *c)
{
	if (c->ld != NULL)
		ldap_unbind_ext_s(c->ld, NULL, NULL);
	c->ld = NULL;
}

/* Server i failed in op: skipped by the others for reconnect_sleeptime. */
static void mark_down(struct ntlmd_ldap_op *op, size_t i, int rc)
{
	struct ntlmd_ldap_store *s = op->s;

	op->failed[i] = true;
	pthread_mutex_lock(&s->state_lock);
	s->down_until[i] = mono_now() + s->conf.reconnect_sleeptime;
	s->last_error[i] = rc;
	pthread_mutex_unlock(&s->state_lock);
}

/* Waits for the result of msgid within seconds; LDAP_TIMEOUT abandons it. */
static int wait_result(LDAP *ld, int msgid, unsigned seconds, LDAPMessage **ret)
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
	rc = wait_result(ld, msgid, s->conf.bind_timelimit, &res);
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
			                  ldap_err2string(rc), diagnostic(ld, diag));
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
			                  ldap_err2string(rc), diagnostic(ld, diag));
		else
			ntlmd_backend_log(LOG_ERR, "ldap: %s: %s%s", uri, ldap_err2string(rc),
			                  diagnostic(ld, diag));
		goto fail;
	}
	return ld;
fail:
	ldap_unbind_ext_s(ld, NULL, NULL);
	return NULL;
}

static LDAP *connect_uri(const struct ntlmd_ldap_store *s, const char *uri, const char *dn, const char *pw)
{
	return connect_uri_rc(s, uri, dn, pw, NULL);
}

/* The sambaDomain names and SIDs one connect reads (swapped in whole). */
struct domain_list {
	char **names, **sids; /* NULL-terminated, same indices; a SID "" when absent */
	size_t n;
};

/* Appends name and sid (NULL: none); false when out of memory. */
static bool add_dir_domain(struct domain_list *l, const struct berval *name, const struct berval *sid)
{
	char **names = realloc(l->names, (l->n + 2) * sizeof(char *));

	if (names == NULL)
		return false;
	l->names = names;
	names[l->n] = NULL;
	{
		char **sids = realloc(l->sids, (l->n + 2) * sizeof(char *));
		if (sids == NULL)
			return false;
		l->sids = sids;
		sids[l->n] = NULL;
	}
	names[l->n] = strndup(name->bv_val, name->bv_len);
	l->sids[l->n] = sid != NULL ? strndup(sid->bv_val, sid->bv_len) : strdup("");
	if (names[l->n] == NULL || l->sids[l->n] == NULL) {
		free(names[l->n]);
		free(l->sids[l->n]);
		names[l->n] = l->sids[l->n] = NULL;
		return false;
	}
	l->n++;
	names[l->n] = l->sids[l->n] = NULL;
	return true;
}

/* Appends the domain names (and SIDs) of the sambaDomain entries under base. */
static void read_domains_under(const struct ntlmd_ldap_store *s, LDAP *ld, const char *base,
                               struct domain_list *l)
{
	char sid_attr[] = "sambaSID";
	char *attrs[] = {s->conf.domain_attribute, sid_attr, NULL};
	struct timeval tv = {(time_t)s->conf.timelimit, 0};
	LDAPMessage *res = NULL;
	int rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, "(objectClass=sambaDomain)", attrs, 0, NULL,
	                           NULL, &tv, MAX_DOMAINS, &res);

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
static char **naming_contexts(const struct ntlmd_ldap_store *s, LDAP *ld)
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
				strv_free(list); /* the ones before i */
				list = NULL;
				break;
			}
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return list;
}

/* Reads the domain names of the sambaDomain entries under the bases, or
 * else under the server's naming contexts (the sambaDomain entry usually
 * sits above the users), and puts them in service. None found: any
 * domain. */
static void read_dir_domains(struct ntlmd_ldap_store *s, LDAP *ld)
{
	struct domain_list l = {0};

	for (size_t b = 0; s->conf.bases[b] != NULL; b++)
		read_domains_under(s, ld, s->conf.bases[b], &l);
	if (l.n == 0) {
		char **contexts = naming_contexts(s, ld);
		for (size_t i = 0; contexts != NULL && contexts[i] != NULL; i++)
			read_domains_under(s, ld, contexts[i], &l);
		strv_free(contexts);
	}
	if (l.n > 0)
		ntlmd_backend_log(LOG_DEBUG, "ldap: %zu domain name(s) read from the directory", l.n);
	pthread_mutex_lock(&s->state_lock);
	strv_free(s->dir_domains);
	strv_free(s->dir_sids);
	s->dir_domains = l.names;
	s->dir_sids = l.sids;
	pthread_mutex_unlock(&s->state_lock);
}

/* No server answered in this operation: the directory is unavailable for
 * reconnect_retrytime seconds (logged when it becomes so, not on each
 * failed retry). */
static enum ntlm_status directory_unavailable(struct ntlmd_ldap_store *s)
{
	bool first;

	pthread_mutex_lock(&s->state_lock);
	s->retry_at = mono_ms() + (int64_t)s->conf.reconnect_retrytime * 1000;
	first = !s->unavailable;
	if (first) {
		s->unavailable = true;
		s->unavailable_since = mono_now();
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
static bool directory_resting(struct ntlmd_ldap_store *s)
{
	bool resting;

	pthread_mutex_lock(&s->state_lock);
	resting = s->unavailable && mono_ms() < s->retry_at;
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
		                  s->conf.uris[i], (long long)(mono_now() - since));
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
static enum ntlm_status ensure_connected(struct ntlmd_ldap_op *op)
{
	struct ntlmd_ldap_store *s = op->s;
	struct ntlmd_ldap_conn *c = op->conn;
	int64_t now;
	int rc = LDAP_SUCCESS;

	if (c->ld != NULL)
		return NTLM_OK;
	if (directory_resting(s))
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	now = mono_now();
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < s->conf.n_uris; i++) {
			if (uri_down(s, i, now) != (pass == 1) || op->failed[i])
				continue;
			c->ld = connect_uri_rc(s, s->conf.uris[i], s->conf.binddn, s->conf.bindpw, &rc);
			if (c->ld == NULL) {
				mark_down(op, i, rc);
				continue;
			}
			server_answers(s, c, i);
			if (s->conf.domains == NULL)
				read_dir_domains(s, c->ld);
			return NTLM_OK;
		}
	}
	return directory_unavailable(s);
}

/* Starts an operation: an idle connection of the pool, or a new one
 * (connected on first use). false when out of memory. */
static bool op_begin(struct ntlmd_ldap_store *s, struct ntlmd_ldap_op *op)
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
static void op_end(struct ntlmd_ldap_op *op)
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

/* ------------------------------------------------------------------ */
/* Entries */

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

static bool valid_user(const char *user)
{
	size_t n = strnlen(user, MAX_USER + 1);

	if (n == 0 || n > MAX_USER)
		return false;
	for (const char *p = user; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* The entry's single value of attribute, NUL-terminated (malloc'd), or
 * NULL with *ret_absent when there is none. */
static char *get_value(LDAP *ld, LDAPMessage *e, const char *attr, bool *ret_absent)
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

/* Frees a value that may hold a secret. */
static void free_value(char *v)
{
	if (v != NULL)
		ntlm_wipe(v, strlen(v));
	free(v);
}

static bool parse_hash(const char *hex, struct ntlm_hash *ret)
{
	return ntlm_hex_to_bytes(hex, strlen(hex), ret->bytes, sizeof(ret->bytes)) == NTLM_OK;
}

static bool parse_int64(const char *s, int64_t *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0)
		return false;
	*ret = (int64_t)v;
	return true;
}

/* sambaAcctFlags: "[" letters and blanks "]" (Samba's pdb_decode_acct_ctrl). */
static bool parse_flags(const char *s, char *ret, size_t n)
{
	size_t len = strlen(s), o = 0;

	if (len < 2 || s[0] != '[' || s[len - 1] != ']')
		return false;
	for (size_t i = 1; i + 1 < len; i++) {
		if (s[i] == ' ')
			continue;
		if (s[i] < 'A' || s[i] > 'Z' || o + 1 >= n)
			return false;
		ret[o++] = s[i];
	}
	ret[o] = '\0';
	return true;
}

/* sambaLogonHours: 42 hex digits, byte i from digits 2i and 2i+1 (Samba's
 * pdb_gethexhours). */
static bool parse_logon_hours(const char *s, uint8_t ret[21])
{
	uint8_t *bytes = NULL;
	size_t n = 0;

	if (strlen(s) != LOGON_HOURS_HEX || ntlm_hex_decode(s, LOGON_HOURS_HEX, &bytes, &n) != NTLM_OK)
		return false;
	if (n == 21)
		memcpy(ret, bytes, 21);
	free(bytes);
	return n == 21;
}

/* sambaUserWorkstations: a comma-separated list; empty = any. */
static bool parse_workstations(const char *s, char ***ret)
{
	char *copy = strdup(s), *save = NULL;
	char **list = NULL;
	size_t n = 0;

	if (copy == NULL)
		return false;
	for (char *w = strtok_r(copy, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
		char **grown;
		size_t len;

		while (*w == ' ')
			w++;
		len = strlen(w);
		while (len > 0 && w[len - 1] == ' ')
			w[--len] = '\0';
		if (len == 0)
			continue;
		grown = realloc(list, (n + 2) * sizeof(char *));
		if (grown == NULL || (grown[n] = strdup(w)) == NULL) {
			list = grown != NULL ? grown : list;
			if (list != NULL)
				list[n] = NULL;
			strv_free(list);
			free(copy);
			return false;
		}
		list = grown;
		list[++n] = NULL;
	}
	free(copy);
	*ret = list;
	return true;
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

/* The canonical text of an entry's SID value (sambaSID), or NULL in
 * *ret when there is none or it is not a SID (the account then has no
 * SID; its other attributes still serve). */
static enum ntlm_status canonical_sid(const char *value, char **ret)
{
	struct ntlmd_sid sid;
	char text[NTLMD_SID_TEXT_MAX];

	*ret = NULL;
	if (value == NULL || ntlmd_sid_parse(value, &sid, NULL) != NTLM_OK ||
	    !ntlmd_sid_format(&sid, text, sizeof(text)))
		return NTLM_OK;
	*ret = strdup(text);
	return *ret != NULL ? NTLM_OK : NTLM_ERR_NO_MEMORY;
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
static enum ntlm_status entry_to_account(struct ntlmd_ldap_store *s, LDAP *ld, LDAPMessage *e,
                                         struct ntlmd_account *a)
{
	char *const *attr = s->conf.attrs;
	const char *bad = NULL, *why = "";
	enum ntlm_status st = NTLM_OK;
	char *v[NTLMD_LDAP_ATTR_COUNT] = {0};
	bool absent[NTLMD_LDAP_ATTR_COUNT];
	int64_t n;

	for (size_t i = 0; i < NTLMD_LDAP_ATTR_COUNT; i++) {
		v[i] = get_value(ld, e, attr[i], &absent[i]);
		if (!absent[i] && v[i] == NULL && bad == NULL) {
			bad = attr[i];
			why = "not text";
		}
	}
	*a = (struct ntlmd_account){.pwd_last_set = -1, .pwd_must_change = -1, .kickoff_time = -1};
	if (bad != NULL)
		goto out;
	a->name = strdup(v[NTLMD_LDAP_ATTR_UID] != NULL ? v[NTLMD_LDAP_ATTR_UID] : "");
	if (a->name == NULL) {
		st = NTLM_ERR_NO_MEMORY;
		goto out;
	}
	if ((st = entry_identity(s, ld, e, v[NTLMD_LDAP_ATTR_SID], a)) != NTLM_OK)
		goto out;
	if ((st = canonical_sid(v[NTLMD_LDAP_ATTR_SID], &a->sid)) != NTLM_OK)
		goto out;
	if (v[NTLMD_LDAP_ATTR_UID_NUMBER] != NULL && parse_int64(v[NTLMD_LDAP_ATTR_UID_NUMBER], &n) &&
	    n >= 0 && n <= UINT32_MAX) {
		a->has_uid = true;
		a->uid = (uint32_t)n;
	}
	if (v[NTLMD_LDAP_ATTR_NT] != NULL) {
		if (!parse_hash(v[NTLMD_LDAP_ATTR_NT], &a->nt_hash)) {
			bad = attr[NTLMD_LDAP_ATTR_NT];
			why = "not 32 hex digits";
			goto out;
		}
		a->has_nt = true;
	}
	if (v[NTLMD_LDAP_ATTR_LM] != NULL) {
		if (parse_hash(v[NTLMD_LDAP_ATTR_LM], &a->lm_hash))
			a->has_lm = true;
		else if (strspn(v[NTLMD_LDAP_ATTR_LM], "X") != strlen(v[NTLMD_LDAP_ATTR_LM])) {
			bad = attr[NTLMD_LDAP_ATTR_LM];
			why = "not 32 hex digits";
			goto out;
		}
	}
	if (v[NTLMD_LDAP_ATTR_FLAGS] == NULL)
		strcpy(a->flags, "U");
	else if (!parse_flags(v[NTLMD_LDAP_ATTR_FLAGS], a->flags, sizeof(a->flags))) {
		bad = attr[NTLMD_LDAP_ATTR_FLAGS];
		why = "not \"[LETTERS]\"";
		goto out;
	}
	a->null_password = !a->has_nt && strchr(a->flags, 'N') != NULL;
	{
		static const enum ntlmd_ldap_attr times[] = {
		    NTLMD_LDAP_ATTR_PWD_LAST_SET, NTLMD_LDAP_ATTR_PWD_MUST_CHANGE, NTLMD_LDAP_ATTR_KICKOFF};
		int64_t *slots[] = {&a->pwd_last_set, &a->pwd_must_change, &a->kickoff_time};
		for (size_t i = 0; i < 3; i++)
			if (v[times[i]] != NULL && !parse_int64(v[times[i]], slots[i])) {
				bad = attr[times[i]];
				why = "not a number";
				goto out;
			}
	}
	if (v[NTLMD_LDAP_ATTR_LOGON_HOURS] != NULL) {
		if (!parse_logon_hours(v[NTLMD_LDAP_ATTR_LOGON_HOURS], a->logon_hours)) {
			bad = attr[NTLMD_LDAP_ATTR_LOGON_HOURS];
			why = "not 42 hex digits";
			goto out;
		}
		a->has_logon_hours = true;
	}
	if (v[NTLMD_LDAP_ATTR_WORKSTATIONS] != NULL &&
	    !parse_workstations(v[NTLMD_LDAP_ATTR_WORKSTATIONS], &a->workstations))
		st = NTLM_ERR_NO_MEMORY;
out:
	if (bad != NULL) {
		char *dn = ldap_get_dn(ld, e);
		ntlmd_backend_log(LOG_ERR, "ldap: entry %s: attribute %s is malformed (%s): entry refused",
		                  dn != NULL ? dn : "?", bad, why);
		ldap_memfree(dn);
		st = NTLM_ERR_BAD_ENCODING;
	}
	if (st != NTLM_OK)
		ntlmd_account_clear(a);
	for (size_t i = 0; i < NTLMD_LDAP_ATTR_COUNT; i++)
		free_value(v[i]);
	return st;
}

/* ------------------------------------------------------------------ */
/* Searches with failover */

/* What to search for: one entry (a user, a group) under the first base
 * that has it. */
struct search {
	char *const *bases; /* NULL-terminated */
	const char *filter;
	char **attrs;
};

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
			rc = wait_result(ld, msgid, s->conf.timelimit, &res);
		if (rc == LDAP_SUCCESS)
			rc = ldap_parse_result(ld, res, &err, NULL, NULL, NULL, NULL, 0);
		if (rc == LDAP_SUCCESS)
			rc = err;
		*ret_rc = rc;
		if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED && rc != LDAP_NO_SUCH_OBJECT) {
			ldap_msgfree(res);
			return server_down(rc) ? ATTEMPT_SERVER_DOWN : ATTEMPT_FAILED;
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
static enum ntlm_status search_failover(struct ntlmd_ldap_op *op, const struct search *q, LDAPMessage **ret)
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
		enum ntlm_status st = ensure_connected(op);
		enum attempt a;

		if (st != NTLM_OK)
			return st;
		pthread_mutex_lock(&s->state_lock);
		s->stats.searches++;
		pthread_mutex_unlock(&s->state_lock);
		a = search_once(op, q, ret, &rc);
		c->last_used = mono_now();
		if (a == ATTEMPT_OK)
			return NTLM_OK;
		if (a == ATTEMPT_NOT_FOUND)
			return NTLM_STATUS_NO_SUCH_USER;
		if (a == ATTEMPT_FAILED) {
			if (rc != LDAP_SIZELIMIT_EXCEEDED)
				ntlmd_backend_log(LOG_ERR, "ldap: %s: search failed: %s%s",
				                  s->conf.uris[c->current], ldap_err2string(rc),
				                  diagnostic(c->ld, diag));
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
			mark_down(op, c->current, rc);
		}
		drop_connection(c);
	}
	return directory_unavailable(s);
}

/* (&FILTER(ATTRIBUTE=value)) with value escaped (RFC 4515); false when it
 * does not fit. */
static bool match_filter(const char *filter, const char *attribute, const char *value, char out[FILTER_MAX])
{
	char escaped[4 * MAX_USER + 4];

	return escape_filter_value(value, escaped, sizeof(escaped)) &&
	       (size_t)snprintf(out, FILTER_MAX, "(&%s(%s=%s))", filter, attribute, escaped) < FILTER_MAX;
}

/* Searches for user's entry (the attributes of the account). */
static enum ntlm_status find_entry(struct ntlmd_ldap_op *op, const char *user, LDAPMessage **ret)
{
	const struct ntlmd_ldap_store *s = op->s;
	char filter[FILTER_MAX];
	char *attrs[NTLMD_LDAP_ATTR_COUNT + 1];
	struct search q = {.bases = s->conf.bases, .filter = filter, .attrs = attrs};

	if (!match_filter(s->conf.filter, s->conf.attrs[NTLMD_LDAP_ATTR_UID], user, filter))
		return NTLM_STATUS_NO_SUCH_USER;
	for (size_t i = 0; i < NTLMD_LDAP_ATTR_COUNT; i++)
		attrs[i] = s->conf.attrs[i];
	attrs[NTLMD_LDAP_ATTR_COUNT] = NULL;
	return search_failover(op, &q, ret);
}

/* ------------------------------------------------------------------ */
/* Cache: every function here but the *_locked ones takes cache_lock */

static unsigned bucket_of(const char *key)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 16777619u;
	return h % CACHE_BUCKETS;
}

static void lower_key(const char *user, char *key, size_t n)
{
	size_t i;

	for (i = 0; user[i] && i + 1 < n; i++)
		key[i] = (char)tolower((unsigned char)user[i]);
	key[i] = '\0';
}

static void entry_free(struct cache_entry *e)
{
	ntlmd_account_clear(&e->account);
	free(e->key);
	free(e);
}

static struct cache_entry *cache_find_locked(struct ntlmd_ldap_store *s, const char *key)
{
	for (struct cache_entry *e = s->buckets[bucket_of(key)]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void cache_remove_locked(struct ntlmd_ldap_store *s, const char *key)
{
	for (struct cache_entry **p = &s->buckets[bucket_of(key)]; *p != NULL; p = &(*p)->next)
		if (strcmp((*p)->key, key) == 0) {
			struct cache_entry *e = *p;
			*p = e->next;
			entry_free(e);
			s->cached--;
			return;
		}
}

static void cache_remove(struct ntlmd_ldap_store *s, const char *key)
{
	pthread_mutex_lock(&s->cache_lock);
	cache_remove_locked(s, key);
	pthread_mutex_unlock(&s->cache_lock);
}

/* Drops every entry of the account at dn, under whichever spelling a
 * client found it: the directory matches "x", " x" and "X" alike, and an
 * entry kept under another spelling would hide the count and the L just
 * written (attack3 F2). Without memory for the key, the whole cache. */
static void cache_forget_dn(struct ntlmd_ldap_store *s, const char *dn)
{
	char *key = ntlmd_account_key("ldap", dn);

	pthread_mutex_lock(&s->cache_lock);
	for (unsigned b = 0; b < CACHE_BUCKETS; b++)
		for (struct cache_entry **p = &s->buckets[b]; *p != NULL;) {
			struct cache_entry *e = *p;
			if (key == NULL || (e->account.key != NULL && strcmp(e->account.key, key) == 0)) {
				*p = e->next;
				entry_free(e);
				s->cached--;
			} else {
				p = &e->next;
			}
		}
	pthread_mutex_unlock(&s->cache_lock);
	free(key);
}

/* Drops the entries expired for longer than keep seconds (all of them when
 * keep < 0). */
static void cache_sweep_locked(struct ntlmd_ldap_store *s, int64_t now, int64_t keep)
{
	for (unsigned b = 0; b < CACHE_BUCKETS; b++)
		for (struct cache_entry **p = &s->buckets[b]; *p != NULL;) {
			struct cache_entry *e = *p;
			if (keep < 0 || now - e->expires > keep) {
				*p = e->next;
				entry_free(e);
				s->cached--;
			} else {
				p = &e->next;
			}
		}
}

static bool account_copy(const struct ntlmd_account *a, struct ntlmd_account *ret)
{
	*ret = *a;
	ret->name = ret->domain = ret->key = ret->sid = NULL;
	ret->workstations = NULL;
	if ((ret->name = strdup(a->name)) == NULL ||
	    (a->key != NULL && (ret->key = strdup(a->key)) == NULL) ||
	    (a->sid != NULL && (ret->sid = strdup(a->sid)) == NULL) ||
	    (a->domain != NULL && (ret->domain = strdup(a->domain)) == NULL))
		goto fail;
	if (a->workstations != NULL) {
		size_t n = 0;
		while (a->workstations[n] != NULL)
			n++;
		ret->workstations = calloc(n + 1, sizeof(char *));
		if (ret->workstations == NULL)
			goto fail;
		for (size_t i = 0; i < n; i++)
			if ((ret->workstations[i] = strdup(a->workstations[i])) == NULL)
				goto fail;
	}
	return true;
fail:
	ntlmd_account_clear(ret);
	return false;
}

/* Keeps a copy of a (NULL: a negative entry) for ttl seconds. */
static void cache_put(struct ntlmd_ldap_store *s, const char *key, const struct ntlmd_account *a,
                      unsigned ttl)
{
	struct cache_entry *e;
	int64_t now = mono_now();

	if (ttl == 0)
		return;
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->key = strdup(key)) == NULL || (a != NULL && !account_copy(a, &e->account))) {
		if (e != NULL)
			free(e->key);
		free(e);
		return;
	}
	e->negative = a == NULL;
	e->expires = now + ttl;
	pthread_mutex_lock(&s->cache_lock);
	cache_remove_locked(s, key);
	if (s->cached >= CACHE_MAX)
		cache_sweep_locked(s, now, 0);
	if (s->cached >= CACHE_MAX)
		cache_sweep_locked(s, now, -1); /* full of live entries: start afresh */
	e->next = s->buckets[bucket_of(key)];
	s->buckets[bucket_of(key)] = e;
	s->cached++;
	pthread_mutex_unlock(&s->cache_lock);
}

/* A live cache entry for key: *ret_hit true with its answer (a copy of the
 * account, or NO_SUCH_USER for a negative entry); a miss is counted. */
static enum ntlm_status cache_get(struct ntlmd_ldap_store *s, const char *key, int64_t now,
                                  struct ntlmd_account *ret, bool *ret_hit)
{
	const struct cache_entry *e;
	enum ntlm_status st = NTLM_OK;

	pthread_mutex_lock(&s->cache_lock);
	e = cache_find_locked(s, key);
	/* a lockout that ran out is read again (and cleared: auto_unlock) */
	*ret_hit = e != NULL && e->expires >= now &&
	           (e->account.locked_until <= 0 || e->account.locked_until > (int64_t)time(NULL));
	if (*ret_hit) {
		s->stats.cache_hits++;
		if (e->negative)
			st = NTLM_STATUS_NO_SUCH_USER;
		else if (!account_copy(&e->account, ret))
			st = NTLM_ERR_NO_MEMORY;
	}
	pthread_mutex_unlock(&s->cache_lock);
	return st;
}

static void count_miss(struct ntlmd_ldap_store *s)
{
	pthread_mutex_lock(&s->cache_lock);
	s->stats.cache_misses++;
	pthread_mutex_unlock(&s->cache_lock);
}

/* ------------------------------------------------------------------ */
/* The store */

/* The entry's sambaBadPasswordCount (-1 when absent or malformed), and
 * its sambaBadPasswordTime in *ret_time (0 when absent). */
static int64_t bad_count_of(const struct ntlmd_ldap_store *s, LDAP *ld, LDAPMessage *e, int64_t *ret_time)
{
	int64_t count = -1, t = 0;
	bool absent;
	char *v = get_value(ld, e, s->conf.attrs[NTLMD_LDAP_ATTR_BAD_COUNT], &absent);

	if (v == NULL || !parse_int64(v, &count) || count < 0)
		count = -1;
	free(v);
	if (ret_time != NULL) {
		v = get_value(ld, e, s->conf.attrs[NTLMD_LDAP_ATTR_BAD_TIME], &absent);
		/* outside 1970..9999 it is malformed, read as absent: an L
		 * then holds until an administrator clears it, and no sum
		 * with a duration can wrap (attack3 F6) */
		if (v == NULL || !parse_int64(v, &t) || t < 0 || t > MAX_BAD_TIME)
			t = 0;
		free(v);
		*ret_time = t;
	}
	return count;
}

/* ------------------------------------------------------------------ */
/* Lockout across hosts (lockout_writeback yes; docs/ldap.md "Lockout
 * across hosts"): Samba's ldapsam, pdb_increment_bad_password_count and
 * pdb_update_autolock_flag */

/* Waits for the result of one modify of dn on ld. */
static int run_modify(const struct ntlmd_ldap_store *s, LDAP *ld, const char *dn, LDAPMod **mods)
{
	LDAPMessage *res = NULL;
	int msgid, err = LDAP_OTHER, rc = ldap_modify_ext(ld, dn, mods, NULL, NULL, &msgid);

	if (rc == LDAP_SUCCESS)
		rc = wait_result(ld, msgid, s->conf.timelimit, &res);
	if (rc == LDAP_SUCCESS)
		rc = ldap_parse_result(ld, res, &err, NULL, NULL, NULL, NULL, 1);
	return rc != LDAP_SUCCESS ? rc : err;
}

/* A connection for a write: rootbinddn's own to the server of op's (the
 * caller unbinds it, *ret_root), or op's when no rootbinddn is set. NULL
 * when rootbinddn's bind failed. */
static LDAP *writer_of(struct ntlmd_ldap_op *op, LDAP **ret_root)
{
	const struct ntlmd_ldap_store *s = op->s;

	*ret_root = NULL;
	if (s->conf.rootbinddn == NULL)
		return op->conn->ld;
	*ret_root = connect_uri(s, s->conf.uris[op->conn->current], s->conf.rootbinddn, s->conf.rootbindpw);
	return *ret_root;
}

/* One policy value of a sambaDomain entry: minutes in Samba's schema
 * (sambaLockoutDuration, sambaLockoutObservationWindow) given in seconds;
 * min is the least value accepted (-1: the duration, whose "forever" is
 * -1 or 0). Absent or malformed: *slot kept. */
static void policy_value(LDAP *ld, LDAPMessage *e, const char *attr, bool minutes, int64_t min, int64_t *slot)
{
	bool absent;
	char *v = get_value(ld, e, attr, &absent);
	int64_t n;

	if (v != NULL && parse_int64(v, &n)) {
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
	contexts = naming_contexts(s, ld);
	for (size_t i = 0; contexts != NULL && contexts[i] != NULL && r == POLICY_NONE; i++)
		r = read_policy_under(s, ld, contexts[i], p);
	strv_free(contexts);
	return r;
}

/* The lockout policy in force: the directory's sambaDomain values where
 * it has them, else ntlmd.conf's; read again on op's connection (a
 * connected one) when older than POLICY_TTL seconds. A failed read keeps
 * the last one. */
static struct lockout_policy current_policy(struct ntlmd_ldap_op *op)
{
	struct ntlmd_ldap_store *s = op->s;
	struct lockout_policy p;
	enum policy_read r;
	bool fresh;

	pthread_mutex_lock(&s->state_lock);
	p = s->policy;
	fresh = s->policy_read_at != 0 && mono_now() - s->policy_read_at < POLICY_TTL;
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
	s->policy_read_at = mono_now();
	pthread_mutex_unlock(&s->state_lock);
	return p;
}

/* sambaAcctFlags value flags ("[U          ]"; NULL: absent, "[U]") with
 * L set or cleared, in the same width: L takes the first blank (or goes
 * before ']'); a cleared L leaves a blank before ']'. false: not
 * bracketed, or it does not fit in n bytes. */
static bool flags_with_lock(const char *flags, bool lock, char *out, size_t n)
{
	size_t len, o = 0;

	if (flags == NULL)
		flags = "[U          ]";
	len = strlen(flags);
	if (len < 2 || len + 2 > n || flags[0] != '[' || flags[len - 1] != ']')
		return false;
	if (lock) {
		const char *blank = strchr(flags, ' ');
		memcpy(out, flags, len + 1);
		if (blank != NULL)
			out[blank - flags] = 'L';
		else
			memcpy(out + len - 1, "L]", 3);
		return true;
	}
	for (size_t i = 0; i + 1 < len; i++)
		if (flags[i] != 'L')
			out[o++] = flags[i];
	while (o + 1 < len)
		out[o++] = ' ';
	memcpy(out + o, "]", 2);
	return true;
}

/* An L whose duration has passed: cleared in the directory with the
 * count, in one modify that fails when another writer changed the flags
 * first (then that writer's answer stands), and in a. */
static void auto_unlock(struct ntlmd_ldap_op *op, LDAPMessage *e, struct ntlmd_account *a)
{
	struct ntlmd_ldap_store *s = op->s;
	char new_flags[32], zero[] = "0", diag[DIAGNOSTIC_MAX];
	bool absent;
	char *old_flags = get_value(op->conn->ld, e, s->conf.attrs[NTLMD_LDAP_ATTR_FLAGS], &absent);
	char *dn = ldap_get_dn(op->conn->ld, e);
	char *old_vals[] = {old_flags, NULL}, *new_vals[] = {new_flags, NULL}, *zero_vals[] = {zero, NULL};
	LDAPMod del = {LDAP_MOD_DELETE, s->conf.attrs[NTLMD_LDAP_ATTR_FLAGS], {.modv_strvals = old_vals}};
	LDAPMod add = {LDAP_MOD_ADD, s->conf.attrs[NTLMD_LDAP_ATTR_FLAGS], {.modv_strvals = new_vals}};
	LDAPMod count = {
	    LDAP_MOD_REPLACE, s->conf.attrs[NTLMD_LDAP_ATTR_BAD_COUNT], {.modv_strvals = zero_vals}};
	LDAPMod *mods[] = {&del, &add, &count, NULL};
	LDAP *root = NULL, *ld;
	char *l = strchr(a->flags, 'L');
	int rc;

	if (l != NULL)
		memmove(l, l + 1, strlen(l));
	a->bad_count = 0;
	if (old_flags == NULL || dn == NULL ||
	    !flags_with_lock(old_flags, false, new_flags, sizeof(new_flags)))
		goto out;
	if ((ld = writer_of(op, &root)) == NULL)
		goto out;
	rc = run_modify(s, ld, dn, mods);
	if (rc == LDAP_SUCCESS)
		ntlmd_backend_log(LOG_NOTICE, "ldap: %s: lockout duration passed: unlocked (L cleared)", dn);
	else if (rc != LDAP_NO_SUCH_ATTRIBUTE)
		ntlmd_backend_log(LOG_ERR, "ldap: %s: clearing an expired lockout failed: %s%s", dn,
		                  ldap_err2string(rc), diagnostic(ld, diag));
out:
	if (root != NULL)
		ldap_unbind_ext_s(root, NULL, NULL);
	ldap_memfree(dn);
	free(old_flags);
}

/* The directory's lockout of the account read in e: an L whose duration
 * has not passed (or with no sambaBadPasswordTime, or a duration of -1:
 * until an administrator clears it) sets a->locked_until, and so does a
 * count at the threshold within the observation window without L (fail
 * closed: the write of L was refused, or the policy changed); an L whose
 * duration passed is cleared (auto-unlock, as Samba does on reading). */
static void store_lockout(struct ntlmd_ldap_op *op, LDAPMessage *e, struct ntlmd_account *a)
{
	struct lockout_policy p = current_policy(op);
	int64_t now = (int64_t)time(NULL), until;

	if (strchr(a->flags, 'L') == NULL) {
		if (p.threshold == 0 || a->bad_count < p.threshold || now - a->bad_time >= p.window)
			return;
		until = p.duration < 0 ? -1 : a->bad_time + p.duration;
		if (until < 0 || until > now)
			a->locked_until = until;
		return;
	}
	if (p.duration < 0 || a->bad_time <= 0)
		a->locked_until = -1;
	else if (a->bad_time + p.duration > now)
		a->locked_until = a->bad_time + p.duration;
	else
		auto_unlock(op, e, a);
}

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
	e = cache_find_locked(s, key);
	if (e != NULL && !e->negative && now - e->expires <= (int64_t)s->conf.cache_stale_ttl) {
		s->stats.stale_served++;
		st = account_copy(&e->account, ret) ? NTLM_OK : NTLM_ERR_NO_MEMORY;
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
	int64_t now = mono_now();
	enum ntlm_status st;

	*ret_answered = true;
	if (!valid_user(user) || other_domain(s, domain))
		return NTLM_STATUS_NO_SUCH_USER; /* the next store's */
	st = cache_get(s, key, now, ret, ret_answered);
	if (*ret_answered)
		return st;
	*ret_answered = !wait && directory_resting(s);
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
	lower_key(user, key, sizeof(key));
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
		st = entry_to_account(s, ld, ldap_first_entry(ld, res), ret);
	if (st == NTLM_OK)
		ret->bad_count = bad_count_of(s, ld, ldap_first_entry(ld, res), &ret->bad_time);
	if (st == NTLM_OK && s->conf.lockout_writeback)
		store_lockout(op, ldap_first_entry(ld, res), ret);
	if (st == NTLM_OK)
		cache_put(s, key, ret, s->conf.cache_ttl);
	else if (st == NTLM_STATUS_NO_SUCH_USER && !other_domain(s, domain))
		cache_put(s, key, NULL, s->conf.negative_cache_ttl);
	else if (st == NTLM_ERR_BACKEND_UNAVAILABLE)
		st = serve_stale(s, user, key, mono_now(), ret);
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
	lower_key(user, key, sizeof(key));
	st = answer_from_memory(s, user, domain, key, true, ret, &answered);
	if (answered)
		return st;
	count_miss(s);
	if (!op_begin(s, &op))
		return NTLM_ERR_NO_MEMORY;
	st = find_entry(&op, user, &res);
	st = account_of_search(&op, st, res, user, domain, key, ret);
	ldap_msgfree(res);
	op_end(&op);
	return st;
}

/* The modifications of a password change (Samba's ldapsam): the new NT
 * hash, no LM hash, the time of the change, and sambaPwdMustChange moved
 * by the same interval (removed when it had none). */
static int modify_password(const struct ntlmd_ldap_store *s, LDAP *ld, const char *dn,
                           const struct ntlmd_account *old, const struct ntlm_hash *nt_hash, int64_t now)
{
	static const char hex[] = "0123456789ABCDEF";
	char nt_hex[33], last_set[24], must_change[24];
	char *nt_vals[] = {nt_hex, NULL}, *last_vals[] = {last_set, NULL}, *must_vals[] = {must_change, NULL};
	LDAPMod nt = {LDAP_MOD_REPLACE, s->conf.attrs[NTLMD_LDAP_ATTR_NT], {.modv_strvals = nt_vals}};
	LDAPMod lm = {LDAP_MOD_REPLACE, s->conf.attrs[NTLMD_LDAP_ATTR_LM], {.modv_strvals = NULL}};
	LDAPMod last = {
	    LDAP_MOD_REPLACE, s->conf.attrs[NTLMD_LDAP_ATTR_PWD_LAST_SET], {.modv_strvals = last_vals}};
	LDAPMod must = {
	    LDAP_MOD_REPLACE, s->conf.attrs[NTLMD_LDAP_ATTR_PWD_MUST_CHANGE], {.modv_strvals = NULL}};
	LDAPMod *mods[] = {&nt, &lm, &last, &must, NULL};
	int rc;

	for (size_t i = 0; i < 16; i++) {
		nt_hex[2 * i] = hex[nt_hash->bytes[i] >> 4];
		nt_hex[2 * i + 1] = hex[nt_hash->bytes[i] & 15];
	}
	nt_hex[32] = '\0';
	snprintf(last_set, sizeof(last_set), "%lld", (long long)now);
	if (old->pwd_must_change > 0 && old->pwd_last_set > 0 && old->pwd_must_change > old->pwd_last_set) {
		snprintf(must_change, sizeof(must_change), "%lld",
		         (long long)now + ((long long)old->pwd_must_change - (long long)old->pwd_last_set));
		must.mod_vals.modv_strvals = must_vals;
	} else if (old->pwd_must_change < 0) {
		mods[3] = NULL; /* nothing to move or remove */
	}
	rc = run_modify(s, ld, dn, mods);
	ntlm_wipe(nt_hex, sizeof(nt_hex));
	return rc;
}

/* The entry's DN, and its account, found on op's connection. */
static enum ntlm_status entry_dn_and_account(struct ntlmd_ldap_op *op, LDAPMessage *res, char **ret_dn,
                                             struct ntlmd_account *ret)
{
	LDAP *ld = op->conn->ld;
	enum ntlm_status st;

	*ret_dn = ldap_get_dn(ld, ldap_first_entry(ld, res));
	st = entry_to_account(op->s, ld, ldap_first_entry(ld, res), ret);
	if (*ret_dn == NULL && st == NTLM_OK) {
		ntlmd_account_clear(ret);
		st = NTLM_ERR_BACKEND_UNAVAILABLE;
	}
	return st;
}

static enum ntlm_status store_set_password(void *state, const char *user, const struct ntlm_hash *nt_hash,
                                           int64_t now)
{
	struct ntlmd_ldap_store *s = state;
	struct ntlmd_account old = {0};
	LDAPMessage *res = NULL;
	LDAP *root = NULL, *ld;
	char *dn = NULL, key[MAX_USER + 1], diag[DIAGNOSTIC_MAX];
	struct ntlmd_ldap_op op;
	enum ntlm_status st;
	int rc;

	if (s == NULL || user == NULL || nt_hash == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (!valid_user(user))
		return NTLM_STATUS_NO_SUCH_USER;
	if (!op_begin(s, &op))
		return NTLM_ERR_NO_MEMORY;
	st = find_entry(&op, user, &res);
	if (st == NTLM_OK)
		st = entry_dn_and_account(&op, res, &dn, &old);
	if (st != NTLM_OK)
		goto out;
	if ((ld = writer_of(&op, &root)) == NULL) {
		st = NTLM_ERR_BACKEND_UNAVAILABLE;
		goto out;
	}
	rc = modify_password(s, ld, dn, &old, nt_hash, now);
	if (rc != LDAP_SUCCESS) {
		ntlmd_backend_log(LOG_ERR, "ldap: %s: changing the password of %s failed: %s%s",
		                  s->conf.uris[op.conn->current], dn, ldap_err2string(rc),
		                  diagnostic(ld, diag));
		st = rc == LDAP_INSUFFICIENT_ACCESS ? NTLM_STATUS_ACCOUNT_RESTRICTION
		                                    : NTLM_ERR_BACKEND_UNAVAILABLE;
		if (server_down(rc) && root == NULL)
			drop_connection(op.conn);
	} else {
		ntlmd_backend_log(LOG_INFO, "ldap: password of %s changed", dn);
	}
out:
	lower_key(user, key, sizeof(key));
	cache_remove(s, key);
	if (root != NULL)
		ldap_unbind_ext_s(root, NULL, NULL);
	ldap_msgfree(res);
	op_end(&op);
	ntlmd_account_clear(&old);
	ldap_memfree(dn);
	return st;
}

/* A sambaAcctFlags change in a write-back: old (NULL: absent) to new
 * (NULL: no change). */
struct flags_change {
	char *old, *new;
};

/* Replaces the bad-password count old (-1: absent) by new in one modify
 * that fails when another writer changed it first: delete the old value,
 * add the new (the per-user serialisation of concurrent ntlmd instances);
 * with time, sambaBadPasswordTime too; with flags->new, sambaAcctFlags in
 * the same modify (the count that reaches the threshold sets L: of two
 * hosts, the one whose swap succeeds is the one that locks). */
static int write_bad_count(const struct ntlmd_ldap_store *s, LDAP *ld, const char *dn, int64_t old,
                           int64_t new, int64_t time_now, const struct flags_change *flags)
{
	char old_s[24], new_s[24], time_s[24];
	char *old_vals[] = {old_s, NULL}, *new_vals[] = {new_s, NULL}, *time_vals[] = {time_s, NULL};
	char *old_flags[] = {flags->old, NULL}, *new_flags[] = {flags->new, NULL};
	LDAPMod del = {LDAP_MOD_DELETE, s->conf.attrs[NTLMD_LDAP_ATTR_BAD_COUNT], {.modv_strvals = old_vals}};
	LDAPMod add = {LDAP_MOD_ADD, s->conf.attrs[NTLMD_LDAP_ATTR_BAD_COUNT], {.modv_strvals = new_vals}};
	LDAPMod when = {
	    LDAP_MOD_REPLACE, s->conf.attrs[NTLMD_LDAP_ATTR_BAD_TIME], {.modv_strvals = time_vals}};
	LDAPMod del_flags = {
	    LDAP_MOD_DELETE, s->conf.attrs[NTLMD_LDAP_ATTR_FLAGS], {.modv_strvals = old_flags}};
	LDAPMod add_flags = {LDAP_MOD_ADD, s->conf.attrs[NTLMD_LDAP_ATTR_FLAGS], {.modv_strvals = new_flags}};
	LDAPMod *mods[6] = {NULL};
	size_t m = 0;

	snprintf(old_s, sizeof(old_s), "%lld", (long long)old);
	snprintf(new_s, sizeof(new_s), "%lld", (long long)new);
	snprintf(time_s, sizeof(time_s), "%lld", (long long)time_now);
	if (old >= 0)
		mods[m++] = &del;
	mods[m++] = &add;
	if (time_now > 0)
		mods[m++] = &when;
	if (flags->new != NULL && flags->old != NULL)
		mods[m++] = &del_flags;
	if (flags->new != NULL)
		mods[m++] = &add_flags;
	return run_modify(s, ld, dn, mods);
}

/* The flags change of a bad password that moves the count to new: L set
 * when new reaches the policy's threshold and the entry e has none. */
static struct flags_change lock_at_threshold(struct ntlmd_ldap_op *op, LDAPMessage *e,
                                             const struct lockout_policy *p, int64_t new, char buf[32])
{
	struct flags_change f = {NULL, NULL};
	bool absent;

	if (p->threshold == 0 || new < p->threshold)
		return f;
	f.old = get_value(op->conn->ld, e, op->s->conf.attrs[NTLMD_LDAP_ATTR_FLAGS], &absent);
	if ((f.old == NULL && !absent) || (f.old != NULL && strchr(f.old, 'L') != NULL) ||
	    !flags_with_lock(f.old, true, buf, 32))
		return f; /* already locked, or malformed: the count alone */
	f.new = buf;
	return f;
}

/* One compare-and-swap of user's bad-password count on op's connection
 * (rootbinddn's, *root, opened at the first write): LDAP_SUCCESS, another
 * writer's change first (LDAP_NO_SUCH_ATTRIBUTE, LDAP_TYPE_OR_VALUE_EXISTS:
 * try again), or a failure, logged. *ret_done: nothing to write. */
static int record_once(struct ntlmd_ldap_op *op, const char *user, bool success, int64_t now, LDAP **root,
                       bool *ret_done)
{
	struct ntlmd_ldap_store *s = op->s;
	LDAPMessage *res = NULL, *e;
	struct lockout_policy p;
	struct flags_change flags = {NULL, NULL};
	char flags_buf[32], diag[DIAGNOSTIC_MAX];
	int64_t old, last = 0, new;
	char *dn = NULL;
	int rc = LDAP_SUCCESS;

	*ret_done = true;
	if (find_entry(op, user, &res) != NTLM_OK)
		return LDAP_SUCCESS;
	p = current_policy(op);
	e = ldap_first_entry(op->conn->ld, res);
	old = bad_count_of(s, op->conn->ld, e, &last);
	new = success ? 0 : (old > 0 && now - last < p.window ? old + 1 : 1);
	if (!success)
		flags = lock_at_threshold(op, e, &p, new, flags_buf);
	dn = ldap_get_dn(op->conn->ld, e);
	if (dn == NULL || (success && old <= 0))
		goto out;
	*ret_done = false;
	if (s->conf.rootbinddn != NULL && *root == NULL)
		*root =
		    connect_uri(s, s->conf.uris[op->conn->current], s->conf.rootbinddn, s->conf.rootbindpw);
	rc = s->conf.rootbinddn != NULL && *root == NULL
	         ? LDAP_SERVER_DOWN
	         : write_bad_count(s, *root != NULL ? *root : op->conn->ld, dn, old, new, success ? 0 : now,
	                           &flags);
	/* a value added where none was read, while another writer added one:
	 * a second value of a single-valued attribute (RFC 4512 2.5.1) */
	if (rc == LDAP_CONSTRAINT_VIOLATION && (old < 0 || (flags.new != NULL &&flags.old == NULL)))
		rc = LDAP_TYPE_OR_VALUE_EXISTS;
	if (rc == LDAP_SUCCESS && flags.new != NULL)
		ntlmd_backend_log(
		    LOG_NOTICE,
		    "ldap: %s: %lld bad passwords (threshold %lld): locked out in the directory "
		    "(L) for %lld s",
		    dn, (long long)new, (long long)p.threshold, (long long)p.duration);
	else if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_ATTRIBUTE && rc != LDAP_TYPE_OR_VALUE_EXISTS)
		ntlmd_backend_log(LOG_ERR, "ldap: %s: %s: updating the bad-password count failed: %s%s",
		                  s->conf.uris[op->conn->current], dn, ldap_err2string(rc),
		                  diagnostic(*root != NULL ? *root : op->conn->ld, diag));
out:
	if (dn != NULL)
		cache_forget_dn(s, dn);
	ldap_msgfree(res);
	free(flags.old);
	ldap_memfree(dn);
	return rc;
}

/*
 * Lockout write-back (lockout_writeback yes), as Samba's passdb does: a
 * wrong password counts 1 more in sambaBadPasswordCount (1 again when the
 * last one, sambaBadPasswordTime, is older than the observation window)
 * and sets sambaBadPasswordTime; the count that reaches the threshold
 * sets L in sambaAcctFlags in the same modify (current_policy: the
 * sambaDomain's, else ntlmd.conf's). A success resets a count the lookup
 * saw above 0 and never touches L. Each write is a compare-and-swap of
 * the count, retried on a fresh read when another writer was first
 * (another ntlmd, or another worker of this one: ntlmd sends the
 * write-back to a worker after the reply).
 */
static void store_record_logon(void *state, const char *user, int64_t bad_count, bool success, int64_t now)
{
	struct ntlmd_ldap_store *s = state;
	char key[MAX_USER + 1];
	LDAP *root = NULL;
	struct ntlmd_ldap_op op;

	if (s == NULL || user == NULL || !s->conf.lockout_writeback || !valid_user(user))
		return;
	if (success && bad_count <= 0)
		return; /* nothing to reset */
	if (!op_begin(s, &op))
		return;
	lower_key(user, key, sizeof(key));
	for (int attempt = 1;; attempt++) {
		bool done;
		int rc = record_once(&op, user, success, now, &root, &done);

		if (done || (rc != LDAP_NO_SUCH_ATTRIBUTE && rc != LDAP_TYPE_OR_VALUE_EXISTS))
			break; /* done, or a failure already logged */
		if (attempt == CAS_ATTEMPTS) {
			char shown[NTLMD_LOG_NAME_MAX];

			ntlmd_backend_log(LOG_ERR,
			                  "ldap: %s: the bad-password count changed under each of %d "
			                  "writes: this outcome is not counted",
			                  ntlmd_log_name(user, shown, sizeof(shown)), CAS_ATTEMPTS);
			break;
		}
	}
	/* written or not, the next lookup reads the entry again (the count,
	 * and L that another host may have set) */
	cache_remove(s, key);
	if (root != NULL)
		ldap_unbind_ext_s(root, NULL, NULL);
	op_end(&op);
}

/* ------------------------------------------------------------------ */
/* Groups */

/* The normalized DN of user's entry (free it), found like a lookup but
 * reading no attribute. */
static enum ntlm_status user_dn(struct ntlmd_ldap_op *op, const char *user, char **ret)
{
	const struct ntlmd_ldap_store *s = op->s;
	char filter[FILTER_MAX];
	char no_attr[] = LDAP_NO_ATTRS; /* "1.1": no attribute (RFC 4511 4.5.1.8) */
	char *no_attrs[] = {no_attr, NULL};
	struct search q = {.bases = s->conf.bases, .filter = filter, .attrs = no_attrs};
	LDAPMessage *res = NULL;
	char *dn, *norm = NULL;
	enum ntlm_status st;

	if (!match_filter(s->conf.filter, s->conf.attrs[NTLMD_LDAP_ATTR_UID], user, filter))
		return NTLM_STATUS_NO_SUCH_USER;
	st = search_failover(op, &q, &res);
	if (st != NTLM_OK)
		return st;
	dn = ldap_get_dn(op->conn->ld, ldap_first_entry(op->conn->ld, res));
	ldap_msgfree(res);
	if (dn == NULL ||
	    ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAP, &norm, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		st = NTLM_ERR_NO_MEMORY;
	ldap_memfree(dn);
	if (st == NTLM_OK) {
		*ret = strdup(norm);
		st = *ret != NULL ? NTLM_OK : NTLM_ERR_NO_MEMORY;
	}
	ldap_memfree(norm);
	return st;
}

/* One value of the member attribute names user (memberUid: the name,
 * ASCII case-insensitively) or, when dn is not NULL, the user's entry
 * (the value normalized as a DN first). */
static bool names_user(const struct berval *v, const char *user, const char *dn)
{
	char text[FILTER_MAX];
	char *norm = NULL;
	bool same;

	if (v->bv_len >= sizeof(text) || memchr(v->bv_val, '\0', v->bv_len) != NULL)
		return false;
	memcpy(text, v->bv_val, v->bv_len);
	text[v->bv_len] = '\0';
	if (dn == NULL)
		return strcasecmp(text, user) == 0;
	if (ldap_dn_normalize(text, LDAP_DN_FORMAT_LDAP, &norm, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return false;
	same = strcasecmp(norm, dn) == 0;
	ldap_memfree(norm);
	return same;
}

/*
 * The group search: the one entry under group_base matching
 * (&group_filter(group_name_attribute=group)), then its
 * group_member_attribute values. Every search has the lookups' timelimit
 * and failover. No group search configured, or no such group:
 * NO_SUCH_USER (the next store's).
 */
/* The DN of the account whose key is key when it is this store's (an
 * "ldap:" key), normalized as user_dn() gives it; NO_SUCH_USER for another
 * store's account. */
static enum ntlm_status key_dn(const char *key, char **ret)
{
	char *norm = NULL;
	enum ntlm_status st = NTLM_ERR_NO_MEMORY;

	if (strncmp(key, "ldap:", 5) != 0)
		return NTLM_STATUS_NO_SUCH_USER;
	if (ldap_dn_normalize(key + 5, LDAP_DN_FORMAT_LDAP, &norm, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return NTLM_STATUS_NO_SUCH_USER;
	if ((*ret = strdup(norm)) != NULL)
		st = NTLM_OK;
	ldap_memfree(norm);
	return st;
}

/* Whether user is a member of the group entry found in op (its member
 * values; dn: the user's normalized DN when members are DNs). */
static bool member_of_result(struct ntlmd_ldap_op *op, LDAPMessage *res, const char *user, const char *dn)
{
	LDAP *ld = op->conn->ld;
	struct berval **vals =
	    ldap_get_values_len(ld, ldap_first_entry(ld, res), op->s->conf.group_member_attribute);
	bool member = false;

	for (size_t i = 0; vals != NULL && vals[i] != NULL && !member; i++)
		member = names_user(vals[i], user, dn);
	ldap_value_free_len(vals);
	return member;
}

/* Whether one of the values of attribute of entry e is sid (compared as
 * SIDs: "s-1-5-..." and "S-1-5-..." are one). */
static bool entry_has_sid(LDAP *ld, LDAPMessage *e, const char *attribute, const struct ntlmd_sid *sid)
{
	struct berval **vals = ldap_get_values_len(ld, e, attribute);
	char text[NTLMD_SID_TEXT_MAX];
	struct ntlmd_sid v;
	bool same = false;

	for (size_t i = 0; vals != NULL && vals[i] != NULL && !same; i++) {
		if (vals[i]->bv_len >= sizeof(text))
			continue;
		memcpy(text, vals[i]->bv_val, vals[i]->bv_len);
		text[vals[i]->bv_len] = '\0';
		same = ntlmd_sid_parse(text, &v, NULL) == NTLM_OK && ntlmd_sid_equal(&v, sid);
	}
	ldap_value_free_len(vals);
	return same;
}

/* Whether sid is the account's own (sambaSID) or its primary group's
 * (sambaPrimaryGroupSID): the entry of user whose DN is dn (this store's
 * account of that key), searched on op's connection. NO_SUCH_USER when
 * the entry is gone or another. */
static enum ntlm_status account_has_sid(struct ntlmd_ldap_op *op, const char *user, const char *dn,
                                        const struct ntlmd_sid *sid, bool *ret)
{
	const struct ntlmd_ldap_store *s = op->s;
	char filter[FILTER_MAX];
	char *attrs[] = {s->conf.attrs[NTLMD_LDAP_ATTR_SID], s->conf.attrs[NTLMD_LDAP_ATTR_PRIMARY_GROUP_SID],
	                 NULL};
	struct search q = {.bases = s->conf.bases, .filter = filter, .attrs = attrs};
	LDAPMessage *res = NULL, *e;
	LDAP *ld;
	char *found = NULL, *norm = NULL;
	enum ntlm_status st;

	if (!match_filter(s->conf.filter, s->conf.attrs[NTLMD_LDAP_ATTR_UID], user, filter))
		return NTLM_STATUS_NO_SUCH_USER;
	if ((st = search_failover(op, &q, &res)) != NTLM_OK)
		return st;
	ld = op->conn->ld; /* the connection that returned res */
	e = ldap_first_entry(ld, res);
	found = ldap_get_dn(ld, e);
	if (found == NULL ||
	    ldap_dn_normalize(found, LDAP_DN_FORMAT_LDAP, &norm, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		st = NTLM_ERR_NO_MEMORY;
	else if (strcasecmp(norm, dn) != 0)
		st = NTLM_STATUS_NO_SUCH_USER;
	else
		*ret = entry_has_sid(ld, e, attrs[0], sid) || entry_has_sid(ld, e, attrs[1], sid);
	ldap_memfree(norm);
	ldap_memfree(found);
	ldap_msgfree(res);
	return st;
}

/* Whether the sambaGroupMapping entry of sid under group_base lists the
 * user (group_member_attribute, as for a group name), searched on op's
 * connection. NO_SUCH_USER when there is no group search or no such
 * entry. */
static enum ntlm_status mapped_group_member(struct ntlmd_ldap_op *op, const char *sid_text, const char *user,
                                            const char *dn, bool *ret)
{
	const struct ntlmd_ldap_store *s = op->s;
	char filter[FILTER_MAX];
	char *attrs[] = {s->conf.group_member_attribute, NULL};
	struct search q = {.bases = s->conf.group_bases, .filter = filter, .attrs = attrs};
	LDAPMessage *res = NULL;
	enum ntlm_status st;

	if (s->conf.group_bases == NULL ||
	    (size_t)snprintf(filter, sizeof(filter), "(&%s(objectClass=sambaGroupMapping)(sambaSID=%s))",
	                     s->conf.group_filter, sid_text) >= sizeof(filter))
		return NTLM_STATUS_NO_SUCH_USER;
	if ((st = search_failover(op, &q, &res)) != NTLM_OK)
		return st;
	*ret = (!s->conf.group_member_dn || dn != NULL) && member_of_result(op, res, user, dn);
	ldap_msgfree(res);
	return NTLM_OK;
}

/*
 * A group given as a SID (ntlm_auth --require-membership-of=S-1-5-21-...):
 * this store's account is a member of its own sambaSID and of its
 * sambaPrimaryGroupSID; any account (a files user too, by memberUid) is a
 * member of the sambaGroupMapping entry with that sambaSID under
 * group_base that lists it. The account's own entry answers for any SID
 * (not a member: NTLM_OK, false); another store's account whose SID no
 * mapping names: NO_SUCH_USER, for the next store. Like a group name's
 * search, it runs in one operation of the pool (a store worker's, never
 * ntlmd's loop: group_member has no no-wait form).
 */
static enum ntlm_status sid_member(struct ntlmd_ldap_store *s, const char *group, const char *user,
                                   const char *key, bool *ret_member)
{
	struct ntlmd_sid sid;
	char text[NTLMD_SID_TEXT_MAX];
	struct ntlmd_ldap_op op;
	char *dn = NULL;
	bool member = false, ours = false;
	enum ntlm_status st = NTLM_OK;

	if (ntlmd_sid_parse(group, &sid, NULL) != NTLM_OK || !ntlmd_sid_format(&sid, text, sizeof(text)))
		return NTLM_STATUS_NO_SUCH_USER;
	if (key != NULL && (st = key_dn(key, &dn)) != NTLM_OK && st != NTLM_STATUS_NO_SUCH_USER)
		return st;
	if (!op_begin(s, &op)) {
		free(dn);
		return NTLM_ERR_NO_MEMORY;
	}
	if (dn != NULL) {
		st = account_has_sid(&op, user, dn, &sid, &member);
		ours = st == NTLM_OK;
		if (st != NTLM_OK && st != NTLM_STATUS_NO_SUCH_USER)
			goto out;
	}
	if (!member) {
		st = mapped_group_member(&op, text, user, s->conf.group_member_dn ? dn : NULL, &member);
		if (st == NTLM_STATUS_NO_SUCH_USER && ours)
			st = NTLM_OK;
	} else {
		st = NTLM_OK;
	}
out:
	op_end(&op);
	free(dn);
	if (st == NTLM_OK) {
		char shown_user[NTLMD_LOG_NAME_MAX];

		ntlmd_backend_log(LOG_DEBUG, "ldap: %s is %sa member of %s",
		                  ntlmd_log_name(user, shown_user, sizeof(shown_user)), member ? "" : "not ",
		                  text);
		*ret_member = member;
	}
	return st;
}

static enum ntlm_status store_group_member(void *state, const char *group, const char *user, const char *key,
                                           bool *ret_member)
{
	struct ntlmd_ldap_store *s = state;
	char filter[FILTER_MAX];
	char *attrs[2];
	struct search q = {.filter = filter, .attrs = attrs};
	LDAPMessage *res = NULL;
	struct ntlmd_ldap_op op;
	char *dn = NULL;
	bool member = false;
	enum ntlm_status st = NTLM_OK;

	if (s == NULL || group == NULL || user == NULL || ret_member == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (valid_user(user) && ntlmd_sid_looks_like(group))
		return sid_member(s, group, user, key, ret_member);
	if (s->conf.group_bases == NULL || !valid_user(group) || !valid_user(user))
		return NTLM_STATUS_NO_SUCH_USER;
	if (!match_filter(s->conf.group_filter, s->conf.group_name_attribute, group, filter))
		return NTLM_STATUS_NO_SUCH_USER;
	if (!op_begin(s, &op))
		return NTLM_ERR_NO_MEMORY;
	/* the user's DN first: the group's result is read on the connection
	 * that returned it */
	if (s->conf.group_member_dn) {
		st = key != NULL ? key_dn(key, &dn) : user_dn(&op, user, &dn);
		if (st != NTLM_OK && st != NTLM_STATUS_NO_SUCH_USER)
			goto out;
	}
	attrs[0] = s->conf.group_member_attribute;
	attrs[1] = NULL;
	q.bases = s->conf.group_bases;
	st = search_failover(&op, &q, &res);
	if (st == NTLM_OK && (!s->conf.group_member_dn || dn != NULL))
		member = member_of_result(&op, res, user, dn);
	ldap_msgfree(res);
	if (st == NTLM_OK) {
		char shown_user[NTLMD_LOG_NAME_MAX], shown_group[NTLMD_LOG_NAME_MAX];

		ntlmd_backend_log(LOG_DEBUG, "ldap: %s is %sa member of group %s",
		                  ntlmd_log_name(user, shown_user, sizeof(shown_user)), member ? "" : "not ",
		                  ntlmd_log_name(group, shown_group, sizeof(shown_group)));
		*ret_member = member;
	}
out:
	op_end(&op);
	free(dn);
	return st;
}

/* Once a second (ntlmd's loop thread): expired cache entries go, idle
 * connections close after idle_timelimit. Only connections no operation
 * holds are touched. */
static void store_refresh(void *state)
{
	struct ntlmd_ldap_store *s = state;
	struct ntlmd_ldap_conn *closing = NULL;
	int64_t now = mono_now();

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->cache_lock);
	cache_sweep_locked(s, now, (int64_t)s->conf.cache_stale_ttl);
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
		drop_connection(c);
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
		drop_connection(c);
		free(c);
	}
	strv_free(s->dir_domains);
	strv_free(s->dir_sids);
	cache_sweep_locked(s, 0, -1);
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
	int64_t now_ms = mono_ms();

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
	*ret_state = s;
	return NTLM_OK;
}

/* group_member as the chain takes it: NO_SUCH_GROUP when this store
 * cannot answer for that group and account (the searches say
 * NO_SUCH_USER: "not here, the next store's"). */
static enum ntlm_status store_group_answer(void *state, const char *group, const char *user, const char *key,
                                           bool *ret_member)
{
	enum ntlm_status st = store_group_member(state, group, user, key, ret_member);

	return st == NTLM_STATUS_NO_SUCH_USER ? NTLM_STATUS_NO_SUCH_GROUP : st;
}

const struct ntlmd_backend ntlmd_backend_ldap = {
    .name = "ldap",
    .config = {.name = "ldap", .keys = ntlmd_ldap_config_keys},
    .check_config = ntlmd_ldap_check_config,
    .open = ntlmd_ldap_open,
    .lookup = store_lookup,
    .lookup_now = store_lookup_now,
    .set_password = store_set_password,
    .refresh = store_refresh,
    .close = store_close,
    .record_logon = store_record_logon,
    .group_member = store_group_answer,
    .serves_domain = store_serves_domain,
    .stats = store_stats,
};
