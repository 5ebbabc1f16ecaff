/*
 * backend.h: the interface every credential store of ntlmd implements,
 * the ordered backend chain (like nsswitch), and the account policy that
 * applies to every store's accounts.
 */
#ifndef PAM_NTLM_BACKEND_H
#define PAM_NTLM_BACKEND_H

#include "ntlmd_conf.h"
#include "ntlmssp.h"
#include "stats.h"

/* What a store knows about one user. */
struct ntlmd_account {
	char *name;   /* the store's spelling: the canonical account name */
	char *domain; /* the account's domain (ldap: its sambaDomain); NULL: the store
	                 leaves it to the chain, which gives netbios_domain */
	char *key;    /* stable identity: "files:" NAME, "ldap:" DN (lockout, audit) */
	uint32_t uid;
	bool has_uid; /* false: the store gives no uid (an LDAP entry without uidNumber) */
	bool has_nt;
	struct ntlm_hash nt_hash;
	bool has_lm;
	struct ntlm_hash lm_hash;
	bool null_password;      /* "NO PASSWORD" with flag N */
	char flags[16];          /* Samba account-control letters: U D L N X W S I H T M */
	int64_t pwd_last_set;    /* Unix seconds; 0 = must change; -1 unknown */
	int64_t pwd_must_change; /* Unix seconds; -1 never */
	int64_t kickoff_time;    /* Unix seconds; -1 never */
	bool has_logon_hours;
	uint8_t logon_hours[21]; /* sambaLogonHours: 168 bits, bit 0 = Sunday 00:00 UTC */
	char **workstations;     /* NULL-terminated allow-list; NULL = any */
	int64_t bad_count;       /* the store's bad-password count when it was read (ldap:
	                            sambaBadPasswordCount); <= 0: none or unknown */
	char *sid;               /* the account's SID, canonical text (ldap: sambaSID; files:
	                            domain_sid and RID 2 * uid + 1000); NULL: none known */
	int64_t locked_until;    /* the store's own lockout, refused before any proof (ldap
	                            lockout_writeback: L, or a count at the threshold):
	                            Unix seconds; -1 until an administrator clears it; 0 none */
	int64_t bad_time;        /* the store's last bad-password time (Unix seconds); 0 none */
};

/* Wipes the hashes and frees what the account owns. */
void ntlmd_account_clear(struct ntlmd_account *a);
/* The key of an account: store, ':' and id (malloc'd; NULL: no memory). */
char *ntlmd_account_key(const char *store, const char *id);

/*
 * A store's functions may run in several threads at once (ntlmd's store
 * workers), each call on its own arguments: a store guards what its calls
 * share (files: a read-write lock over its index; ldap: one mutex over
 * the server state, one over the cache, and a connection per call). open,
 * refresh and close run in ntlmd's loop thread; close only once no other
 * call of the store runs.
 */
struct ntlmd_backend {
	const char *name; /* "files", "ldap" */
	/* The store's own keys of ntlmd.conf (config.name is name), each with its
	 * type, bounds and field; check_config parses them with
	 * ntlmd_config_store_parse (HACKING.md, "A new store and its keys"). */
	struct ntlmd_config_store config;
	/* May be NULL: a store without keys of its own. Checks them in
	 * cfg->extra_* (the password files they name included), whether or
	 * not cfg->backends lists the store: every problem goes to errs (up to
	 * max, with its line number); returns the count of all of them. */
	size_t (*check_config)(const struct ntlmd_config *cfg, struct ntlmd_config_error *errs, size_t max);
	/* Opens the store for cfg; on failure, when err is not NULL, err says
	 * why (never quoting a secret). */
	enum ntlm_status (*open)(const struct ntlmd_config *cfg, void **ret_state,
	                         struct ntlmd_config_error *err);
	/* NTLM_OK with *ret filled, NTLM_STATUS_NO_SUCH_USER, or
	 * NTLM_ERR_BACKEND_UNAVAILABLE: never "no such user" for a store that
	 * could not be asked. May wait on the network. */
	enum ntlm_status (*lookup)(void *state, const char *user, const char *domain,
	                           struct ntlmd_account *ret);
	/* lookup without the network, for ntlmd's loop thread, which must
	 * never wait. NULL for a store whose lookup never waits on the network
	 * (files): its lookup serves the loop too; a store that may wait must
	 * set it. *ret_answered true: lookup's answer from what the store
	 * holds in memory (ldap: a cache entry, positive or negative; a name
	 * or domain it never serves; a directory known unavailable within
	 * reconnect_retrytime). false: only the directory can answer; nothing
	 * is written, and lookup must be called where waiting is allowed. */
	enum ntlm_status (*lookup_now)(void *state, const char *user, const char *domain,
	                               struct ntlmd_account *ret, bool *ret_answered);
	/* Stores a new NT hash and clears the LM hash; NO_SUCH_USER if absent. */
	enum ntlm_status (*set_password)(void *state, const char *user, const struct ntlm_hash *nt_hash,
	                                 int64_t now);
	/* Adds a user with an NT hash (no LM hash) and flag U; NULL for a store
	 * that cannot add users. The caller checked that no store has it. */
	enum ntlm_status (*add_user)(void *state, const char *user, uint32_t uid,
	                             const struct ntlm_hash *nt_hash, int64_t now);
	/* Picks up changes (files: re-reads a changed file atomically, keeping
	 * the last good copy when the new one is malformed). */
	void (*refresh)(void *state);
	void (*close)(void *state); /* NULL-safe */
	/* May be NULL. The outcome of a password check of user, which this
	 * store answered the lookup for: success, or a wrong password (ldap:
	 * the lockout write-back of sambaBadPasswordCount/Time). bad_count is
	 * the account's as the lookup read it: a success resets only a count
	 * above 0. */
	void (*record_logon)(void *state, const char *user, int64_t bad_count, bool success, int64_t now);
	/* May be NULL: a store without groups. Whether user belongs to group
	 * in the store's group search: NTLM_OK with *ret_member;
	 * NTLM_STATUS_NO_SUCH_GROUP when the store has no group of that name
	 * (or no group search configured); NTLM_ERR_BACKEND_UNAVAILABLE when
	 * it could not be asked. group may be a SID in canonical text
	 * ("S-1-5-21-..."; ntlmd.conf(5), MEMBERSHIP BY SID): a store answers
	 * for the SIDs it knows for that account, else NO_SUCH_GROUP.
	 * key is the account's (ntlmd_account.key),
	 * NULL when unknown: a member given by DN is this store's own entry
	 * of that key, never another store's account of the same name. */
	enum ntlm_status (*group_member)(void *state, const char *group, const char *user, const char *key,
	                                 bool *ret_member);
	/* May be NULL. Whether the store serves accounts of domain (ldap: one
	 * of `domains`, or of the directory's sambaDomain names). */
	bool (*serves_domain)(void *state, const char *domain);
	/* May be NULL. The store's figures for ntlmd's STATS (common/stats.h:
	 * a cache's hits, each server's state): emit(arg, stat) once each,
	 * the strings valid during the call. Runs on ntlmd's loop: from
	 * memory only, never waiting on the network. */
	void (*stats)(void *state, ntlmd_store_stat_fn *emit, void *arg);
};

extern const struct ntlmd_backend ntlmd_backend_files;

/* The configured stores, in order. */
struct ntlmd_backend_chain;
/*
 * Opens the stores cfg->backends names (default: files), each found among
 * the n_known stores of known (the registry, stores/registry.h) and opened
 * through its open. On failure, when err is not NULL, err->reason says
 * which store failed and why (never quoting a secret), line 0.
 */
enum ntlm_status ntlmd_backends_open_known(const struct ntlmd_backend *const *known, size_t n_known,
                                           const struct ntlmd_config *cfg, struct ntlmd_backend_chain **ret,
                                           struct ntlmd_config_error *err);
/*
 * Asks each store in turn: NO_SUCH_USER goes on to the next one. When no
 * store has the user and one of them was unavailable, the answer is
 * NTLM_ERR_BACKEND_UNAVAILABLE, never NO_SUCH_USER; so is a later store's
 * account while an earlier store could not be asked. *ret_backend names the
 * store that answered. The account is canonical: ret->name the store's
 * spelling, ret->domain its domain (the chain's for stores that name
 * none), ret->key its stable identity. The user and domain asked serve
 * only to find it.
 */
enum ntlm_status ntlmd_backends_lookup(struct ntlmd_backend_chain *c, const char *user, const char *domain,
                                       struct ntlmd_account *ret, const char **ret_backend);
/*
 * ntlmd_backends_lookup without waiting, for ntlmd's loop thread: the same
 * rules (a later store's account is trusted only when every earlier store
 * said it has no such name; the namesake check asks the earlier stores),
 * asked of each store's lookup_now. *ret_answered true: the chain's
 * answer, as ntlmd_backends_lookup would give it. false: a store must ask
 * its server before the chain can decide (nothing is written); call
 * ntlmd_backends_lookup where waiting is allowed. With "backends files
 * ldap", a files user is answered here whatever the directory does.
 */
enum ntlm_status ntlmd_backends_lookup_now(struct ntlmd_backend_chain *c, const char *user,
                                           const char *domain, struct ntlmd_account *ret,
                                           const char **ret_backend, bool *ret_answered);
/* Sets the password of the account that user and domain find, under its
 * own name in the store that holds it, when that account's key is key
 * (the account the caller proved): else NO_SUCH_USER, never another
 * store's account of the same name. */
enum ntlm_status ntlmd_backends_set_password(struct ntlmd_backend_chain *c, const char *user,
                                             const char *domain, const char *key,
                                             const struct ntlm_hash *nt_hash, int64_t now);
/* Whether domain (case-insensitive) is the chain's domain or one that a
 * store serves: the default of accepted_domains. */
bool ntlmd_backends_serve_domain(const struct ntlmd_backend_chain *c, const char *domain);
/* The domain of the accounts whose store names none (the files store):
 * ntlmd_backends_open sets netbios_domain; NULL leaves it unset. */
enum ntlm_status ntlmd_backends_set_domain(struct ntlmd_backend_chain *c, const char *domain);
/* Adds a user that no store holds to the first store that can add users:
 * NO_SUCH_USER-free chains only (a store that holds it, or is unavailable,
 * gives that answer instead); NTLM_STATUS_ACCOUNT_RESTRICTION when no store
 * can add users. */
enum ntlm_status ntlmd_backends_add_user(struct ntlmd_backend_chain *c, const char *user, uint32_t uid,
                                         const struct ntlm_hash *nt_hash, int64_t now);
/* Tells the store named backend (the one that answered the lookup) how a
 * password check of user ended: NTLM_OK or NTLM_STATUS_WRONG_PASSWORD
 * (other statuses are ignored); bad_count is the account's as the lookup
 * read it. May wait on the network (ldap lockout_writeback). */
void ntlmd_backends_record_logon(struct ntlmd_backend_chain *c, const char *backend, const char *user,
                                 int64_t bad_count, enum ntlm_status st, int64_t now);
/* Whether the store named backend records logons (record_logon set):
 * only then is a write-back worth a worker's time. */
bool ntlmd_backends_records_logons(const struct ntlmd_backend_chain *c, const char *backend);
void ntlmd_backends_refresh(struct ntlmd_backend_chain *c);
void ntlmd_backends_close(struct ntlmd_backend_chain *c);
/*
 * Asks each store with a group search in turn whether user belongs to
 * group: the first store that has the group answers (NTLM_OK with
 * *ret_member, *ret_backend its name). No store has it: NO_SUCH_GROUP, or
 * NTLM_ERR_BACKEND_UNAVAILABLE when one of them could not be asked.
 */
enum ntlm_status ntlmd_backends_group_member(struct ntlmd_backend_chain *c, const char *group,
                                             const char *user, const char *key, bool *ret_member,
                                             const char **ret_backend);

/* What the request is for, for the account policy. */
struct ntlmd_logon {
	const char *workstation; /* from the AUTHENTICATE; NULL or "" when unknown */
	bool interactive;        /* a user logon: trust accounts (W S I) are refused */
	bool allow_null_password;
	int64_t now; /* Unix seconds */
};

/*
 * The account policy of every store (Samba's passdb checks): flags D
 * (disabled), L (locked), W/S/I trust accounts, N; kickoff time (expired);
 * password must change (pwd_last_set 0 or pwd_must_change passed, unless X);
 * logon hours; workstations. Returns NTLM_OK or the status.
 */
enum ntlm_status ntlmd_account_check(const struct ntlmd_account *a, const struct ntlmd_logon *logon);
/*
 * What the acceptor needs of account a for this logon: its hashes and, as
 * account_status, ntlmd_account_check's verdict. An account without an NT
 * hash cannot log on with NTLM: NTLM_STATUS_ACCOUNT_RESTRICTION. The one
 * path from an account to a verdict, for ntlmd and ntlmtool alike.
 */
enum ntlm_status ntlmd_account_credentials(const struct ntlmd_account *a, const struct ntlmd_logon *logon,
                                           struct ntlm_credentials *ret);

/* The account an smbpasswd entry describes (the files store's accounts):
 * no expiry, hours or workstations; the domain left to the chain. */
struct smbpasswd_entry;
enum ntlm_status ntlmd_files_entry_account(const struct smbpasswd_entry *e, struct ntlmd_account *ret);
/* An ntlm_lookup_fn over an smbpasswd db outside ntlmd (ntlmtool verify,
 * the interop acceptor), with ntlmd's account policy: ctx is a struct
 * ntlmd_db_lookup. */
struct smbpasswd_db;
struct ntlmd_db_lookup {
	const struct smbpasswd_db *db;
	struct ntlmd_logon logon;
};
enum ntlm_status ntlmd_db_lookup(void *ctx, const char *user, const char *domain,
                                 struct ntlm_credentials *ret);

/* ---- additions: diagnostics, explicit chains, the files store ---- */

/* A chain of n stores already opened (tests, tools): on success it owns
 * the states and closes them in ntlmd_backends_close. */
enum ntlm_status ntlmd_backends_new(const struct ntlmd_backend *const *backends, void *const *states,
                                    size_t n, struct ntlmd_backend_chain **ret);
/* The number of stores, and store i's backend (NULL past the end) and
 * state, e.g. to ask a files store for its status. */
size_t ntlmd_backends_count(const struct ntlmd_backend_chain *c);
const struct ntlmd_backend *ntlmd_backends_store(const struct ntlmd_backend_chain *c, size_t i,
                                                 void **ret_state);

/*
 * The files store. ntlmd_backend_files.open(cfg, ...) is ntlmd_files_open of
 * cfg->hash_file (NTLMD_DEFAULT_HASH_FILE when NULL). Opening fails only
 * for a file readable or writable by others (mode & 007) or that is not a
 * regular file (NTLM_ERR_BACKEND_UNAVAILABLE, the reason in err), for no
 * memory or for no path. A missing or malformed file does not stop it:
 * lookups answer NTLM_ERR_BACKEND_UNAVAILABLE until refresh() loads a good
 * copy, and a bad new version keeps the last good copy in service.
 * refresh() reloads when (dev, ino, size, mtime ns, mode) changed (and once
 * more when the file was loaded within 2 s of its mtime, which a later
 * same-size write in the same clock tick could not change); it builds the
 * new index in full, then swaps it under a write lock. Lookups may run in
 * other threads than refresh() and set_password().
 */
enum ntlm_status ntlmd_files_open(const char *path, void **ret_state, struct ntlmd_config_error *err);
/* The files store's domain SID (ntlmd.conf's domain_sid; files_open sets
 * it): S-1-5-21-a-b-c, or NULL for none. Its accounts then have SIDs
 * (RID 2 * uid + 1000) and answer CHECK_MEMBERSHIP for SIDs of that
 * domain (their own, their system groups' with RID 2 * gid + 1001).
 * NTLM_ERR_INVALID_ARGUMENT for anything but a domain SID. */
enum ntlm_status ntlmd_files_set_domain_sid(void *state, const char *sid);
/* ntlmd_files_open of cfg's hash_file, with cfg's domain_sid: what the
 * chain and ntlmd_backend_files.open use. */
enum ntlm_status ntlmd_files_open_config(const struct ntlmd_config *cfg, void **ret_state,
                                         struct ntlmd_config_error *err);

/* What a files store is serving and how its last load went. */
struct ntlmd_files_status {
	bool loaded;            /* a good copy is in service */
	size_t users;           /* entries of that copy */
	int64_t loaded_at;      /* Unix seconds of its load; -1 before any */
	unsigned long loads;    /* good loads so far */
	unsigned long failures; /* failed attempts so far: log when it grows */
	enum ntlm_status error; /* the last attempt: NTLM_OK, NTLM_ERR_BAD_ENCODING (malformed),
	                           NTLM_ERR_BACKEND_UNAVAILABLE (missing, unreadable, mode) */
	size_t error_line;      /* 1-based line of a malformed file, else 0 */
	char reason[256];       /* the last attempt's problem, "" when it succeeded; names the
	                           line and the file, never a field's contents */
	const char *edit_error; /* why the last set_password failed (static text), or NULL */
};
void ntlmd_files_get_status(void *state, struct ntlmd_files_status *ret);
/* The last attempt's problem (NULL when it succeeded) and its line number
 * (0 when not tied to a line). Valid until the next refresh, set_password
 * or close of that store: call it from the thread that refreshes. */
const char *ntlmd_files_last_error(void *state, size_t *ret_line);

/* Where the backends log (syslog(3)'s priorities): ntlmd sets its logger
 * before any other thread runs; the default is syslog. The logger is
 * called from every thread that runs a store: it must be thread-safe. */
typedef void (*ntlmd_backend_log_fn)(int priority, const char *fmt, ...);
void ntlmd_backends_set_log(ntlmd_backend_log_fn fn);
void ntlmd_backend_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A name a client typed, fit for a log line: in double quotes, with '"',
 * '\\' and bytes below 0x20 or 0x7f as \xHH (UTF-8 kept), cut with "..."
 * when it does not fit. out must hold at least 16 bytes; returns out. */
#define NTLMD_LOG_NAME_MAX 96
const char *ntlmd_log_name(const char *name, char *out, size_t size);

/*
 * ntlmd_account_check's order (Samba's check_sam_security, then
 * sam_account_ok, source3/auth/check_samsec.c):
 *   1. L                                 -> NTLM_STATUS_ACCOUNT_LOCKED_OUT
 *   2. no NT hash: allowed only for N with null_password and
 *      allow_null_password               -> NTLM_STATUS_ACCOUNT_RESTRICTION
 *   3. D                                 -> NTLM_STATUS_ACCOUNT_DISABLED
 *   4. logon hours: the bit of the current UTC hour clear
 *                                        -> NTLM_STATUS_INVALID_LOGON_HOURS
 *   5. kickoff_time passed (> 0, now > it) -> NTLM_STATUS_ACCOUNT_EXPIRED
 *   6. unless X or N: pwd_last_set == 0 (not for W/S trust accounts)
 *                                        -> NTLM_STATUS_PASSWORD_MUST_CHANGE
 *      pwd_must_change passed (> 0, < now) -> NTLM_STATUS_PASSWORD_EXPIRED
 *   7. workstations set and the logon's not among them (case-insensitive;
 *      an unknown workstation is not among them)
 *                                        -> NTLM_STATUS_INVALID_WORKSTATION
 *   8. I, S or W when interactive        -> NTLM_STATUS_NOLOGON_TRUST_ACCOUNT
 */

#endif /* PAM_NTLM_BACKEND_H */
