/*
 * ldap_int.h: what the pieces of the ldap store share (private to ldap/;
 * ldapstore.h is the store's interface). The store is split by
 * responsibility: ldap_conn.c (connections, binds, StartTLS, failover, the
 * servers' state), ldap_entry.c (an entry's values to a struct
 * ntlmd_account, without libldap: ldap_entry.h), ldap_search.c (filters, searches with failover, the
 * sambaDomain policy read), ldap_cache.c, ldap_write.c (the lockout
 * write-back, the password change), ldap_groups.c, and ldap_store.c (the
 * lookups and the vtable).
 *
 * Threads: the settings are read-only once open; the server state (which
 * URI is down until when, the directory's availability, the domains read,
 * the idle connections, the counters) is behind state_lock, the cache
 * behind cache_lock. Neither is ever held across a network call, so
 * lookup_now (ntlmd's loop thread) never waits for the directory. The
 * design is in docs/ldap.md.
 */
#ifndef PAM_NTLM_LDAP_INT_H
#define PAM_NTLM_LDAP_INT_H

#include "ldap_entry.h"
#include "ldapstore.h"

#include <ldap.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define MAX_USER       256
#define CACHE_BUCKETS  1024u
#define CACHE_MAX      65536u
#define FILTER_MAX     (4 * MAX_USER + 1024)
#define DIAGNOSTIC_MAX 160

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
	char *server_domain;               /* ntlmd.conf's netbios_domain (NULL: none), read-only once open:
	                                    * without a domains line, the sambaDomain entry preferred */

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
	char *policy_warned_dn;       /* the entry the "several sambaDomain" warning last named */

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

/* What to search for: one entry (a user, a group) under the first base
 * that has it. */
struct search {
	char *const *bases; /* NULL-terminated */
	const char *filter;
	char **attrs;
};

/* ldap_conn.c: clocks, connections, the servers' and the directory's state */
int64_t ntlmd_ldap_mono_ms(void);
int64_t ntlmd_ldap_mono_now(void);
bool ntlmd_ldap_server_down(int rc);
const char *ntlmd_ldap_diagnostic(LDAP *ld, char text[DIAGNOSTIC_MAX]);
void ntlmd_ldap_drop_connection(struct ntlmd_ldap_conn *c);
void ntlmd_ldap_mark_down(struct ntlmd_ldap_op *op, size_t i, int rc);
int ntlmd_ldap_wait_result(LDAP *ld, int msgid, unsigned seconds, LDAPMessage **ret);
LDAP *ntlmd_ldap_connect_uri(const struct ntlmd_ldap_store *s, const char *uri, const char *dn,
                             const char *pw);
char **ntlmd_ldap_naming_contexts(const struct ntlmd_ldap_store *s, LDAP *ld);
enum ntlm_status ntlmd_ldap_directory_unavailable(struct ntlmd_ldap_store *s);
bool ntlmd_ldap_directory_resting(struct ntlmd_ldap_store *s);
enum ntlm_status ntlmd_ldap_ensure_connected(struct ntlmd_ldap_op *op);
bool ntlmd_ldap_op_begin(struct ntlmd_ldap_store *s, struct ntlmd_ldap_op *op);
void ntlmd_ldap_op_end(struct ntlmd_ldap_op *op);

/* ldap_search.c: filters, searches with failover, the lockout policy, an
 * entry's values pulled for the entry parser (ldap_entry.h) */
char *ntlmd_ldap_get_value(LDAP *ld, LDAPMessage *e, const char *attr, bool *ret_absent);
enum ntlm_status ntlmd_ldap_entry_to_account(struct ntlmd_ldap_store *s, LDAP *ld, LDAPMessage *e,
                                             struct ntlmd_account *a);
int64_t ntlmd_ldap_bad_count_of(const struct ntlmd_ldap_store *s, LDAP *ld, LDAPMessage *e,
                                int64_t *ret_time);
bool ntlmd_ldap_valid_user(const char *user);
enum ntlm_status ntlmd_ldap_search_failover(struct ntlmd_ldap_op *op, const struct search *q,
                                            LDAPMessage **ret);
bool ntlmd_ldap_match_filter(const char *filter, const char *attribute, const char *value,
                             char out[FILTER_MAX]);
enum ntlm_status ntlmd_ldap_find_entry(struct ntlmd_ldap_op *op, const char *user, LDAPMessage **ret);
struct lockout_policy ntlmd_ldap_current_policy(struct ntlmd_ldap_op *op);

/* ldap_cache.c: every function here but the *_locked ones takes cache_lock */
void ntlmd_ldap_lower_key(const char *user, char *key, size_t n);
struct cache_entry *ntlmd_ldap_cache_find_locked(struct ntlmd_ldap_store *s, const char *key);
void ntlmd_ldap_cache_remove(struct ntlmd_ldap_store *s, const char *key);
void ntlmd_ldap_cache_forget_dn(struct ntlmd_ldap_store *s, const char *dn);
void ntlmd_ldap_cache_sweep_locked(struct ntlmd_ldap_store *s, int64_t now, int64_t keep);
bool ntlmd_ldap_account_copy(const struct ntlmd_account *a, struct ntlmd_account *ret);
void ntlmd_ldap_cache_put(struct ntlmd_ldap_store *s, const char *key, const struct ntlmd_account *a,
                          unsigned ttl);
enum ntlm_status ntlmd_ldap_cache_get(struct ntlmd_ldap_store *s, const char *key, int64_t now,
                                      struct ntlmd_account *ret, bool *ret_hit);
void ntlmd_ldap_count_miss(struct ntlmd_ldap_store *s);

/* ldap_write.c: the directory's lockout, the write-back, the password change */
void ntlmd_ldap_read_lockout(struct ntlmd_ldap_op *op, LDAPMessage *e, struct ntlmd_account *a);
enum ntlm_status ntlmd_ldap_set_password(void *state, const char *user, const struct ntlm_hash *nt_hash,
                                         int64_t now);
void ntlmd_ldap_record_logon(void *state, const char *user, int64_t bad_count, bool success, int64_t now);

/* ldap_groups.c: the group search */
enum ntlm_status ntlmd_ldap_group_member(void *state, const char *group, const char *user, const char *key,
                                         bool *ret_member);

#endif /* PAM_NTLM_LDAP_INT_H */
