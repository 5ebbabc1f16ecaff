/*
 * ntlmd_conf.h: ntlmd.conf, the one configuration file of ntlmd, and the policy
 * keys that ntlmtool also accepts (-o KEY=VALUE, --config FILE).
 *
 * Format (nslcd.conf-like, documented in ntlmd.conf(5)): one setting per
 * line, "key value" or "key = value"; '#' starts a comment; blank lines are
 * ignored. Lines before the first "service NAME" line are global. A
 * "service NAME" line opens a block that lasts until the next one; inside
 * it only policy keys are allowed, and they override the global values for
 * requests that name that service (the PAM service name, "squid", ...).
 *
 * Policy keys (global or per service):
 *   ntlm_auth          ntlmv2-only | ntlmv1-permitted | mschapv2-and-ntlmv2-only | disabled
 *                      (Samba's meanings; default ntlmv2-only)
 *   lanman_auth        yes | no (default no; needs ntlm_auth = ntlmv1-permitted)
 *   lmv2               yes | no (default no; never a fallback for NTLMv2)
 *   anonymous          yes | no (default no)
 *   require_mic        yes | no (default no)
 *   channel_bindings   off | when-supported | required (default when-supported)
 *   target_names       SPN... (accepted MsvAvTargetName values; default: unchecked)
 *   allow_unverified_spn yes | no
 *   max_clock_skew     seconds (default 1800; 0 = unchecked)
 *   required_flags     128 56 key-exch sign seal ... (names of negotiate flags)
 *   oem_charset        CP850 | CP1252 | ISO-8859-1 | ISO-8859-15: OEM names that are
 *                      not UTF-8 (default CP850, as Samba's "dos charset")
 *   accepted_domains   NAME... (NTLM domains accepted; "*" any; default: the server's own:
 *                      netbios_domain, dns_domain, netbios_name, "", the stores' domains)
 *   lockout_threshold  failures before lockout of an address, and of an account
 *                      from one address (default 10; 0 = off)
 *   lockout_account_threshold
 *                      failures from all addresses together before lockout of an
 *                      account for every address (default 50; 0 = none)
 *   lockout_window     seconds over which failures count (default 600)
 *   lockout_duration   seconds an account stays locked (default 600)
 *   user_name_format   user | domain\user | user@domain (default domain\user)
 *   user_name_case     keep | lower | upper (default keep)
 *   domain_separator   one character used in domain\user (default '\')
 *
 * Global-only keys:
 *   socket             path of the listening socket (default
 *                      RUNSTATEDIR/ntlmd/socket: ntlmd_default_socket)
 *   user, group        account ntlmd drops to after start-up (default: stay root)
 *   allow_users        user names or uids allowed to ask for verifications
 *   allow_groups       group names or gids allowed to ask for verifications
 *   backends           ordered list, e.g. "files ldap" (default files)
 *   hash_file          smbpasswd-format file of the files backend
 *                      (default SYSCONFDIR/ntlmd/smbpasswd)
 *   netbios_name, netbios_domain, dns_name, dns_domain, dns_tree
 *                      names the CHALLENGE announces (defaults from the host name)
 *   domain_sid         S-1-5-21-a-b-c: the SID of the files store's domain; its
 *                      accounts and groups get Samba's algorithmic RIDs
 *                      (default: none, the files store has no SIDs)
 *   challenge_lifetime seconds a CHALLENGE stays valid (default 300)
 *   max_challenges     issued and used challenges remembered at once
 *                      (default 4000000)
 *   max_pending_challenges_per_uid
 *                      issued challenges one caller uid may hold unused
 *                      within their lifetime (default max_challenges / 10)
 *   max_pending_challenges_per_address
 *                      the same for one client address a caller names
 *                      (default 1000, or max_pending_challenges_per_uid
 *                      if smaller)
 *   pending_challenge_lifetime
 *                      seconds an issued challenge is remembered unused
 *                      (default 60)
 *   max_connections    concurrent client connections (default 256)
 *   read_timeout       milliseconds a client has to send a whole frame (default 5000)
 *   idle_timeout       milliseconds a connection may wait between two requests
 *                      (default 30000)
 *   max_requests_per_connection
 *                      requests served on one connection before it is closed
 *                      (default 10000)
 *   store_workers      threads that run the store calls that may wait: LDAP
 *                      searches and writes, password file edits, NSS group
 *                      lists (default 8; read at start-up)
 *   store_timeout      milliseconds a request may wait for a store before it is
 *                      answered STATUS_NO_LOGON_SERVERS (default 8000)
 *   audit_json         path of a JSON-lines audit log (default: none)
 *   log_level          error | warning | info | debug (default info)
 * Keys of the stores (ldap: uri, base, binddn, bindpw_file, ...) are not
 * listed here: each store declares its own, with their types and bounds
 * (struct ntlmd_config_store), and the caller hands them to
 * ntlmd_config_load_stores (ntlmd and ntlmtool: the stores' registry,
 * stores/registry.h). They are global only, kept in extra_* with their line
 * numbers, and parsed for their store by ntlmd_config_store_parse, with the
 * parsers of the keys above.
 */
#ifndef PAM_NTLM_NTLMD_CONF_H
#define PAM_NTLM_NTLMD_CONF_H

#include "ntlmssp.h"

/* The installation's paths: configure's sysconfdir and runstatedir, as make
 * expands them (common/paths.am), compiled into common/paths.c only. */
extern const char ntlmd_default_config[];    /* SYSCONFDIR/ntlmd.conf */
extern const char ntlmd_default_socket[];    /* RUNSTATEDIR/ntlmd/socket */
extern const char ntlmd_default_hash_file[]; /* SYSCONFDIR/ntlmd/smbpasswd */
#define NTLMD_DEFAULT_CONFIG                  ntlmd_default_config
#define NTLMD_DEFAULT_SOCKET                  ntlmd_default_socket
#define NTLMD_DEFAULT_HASH_FILE               ntlmd_default_hash_file
#define NTLMD_CONFIG_MAX_SIZE                 (1024u * 1024u) /* bytes in ntlmd.conf */
#define NTLMD_CONFIG_MAX_LINE                 4096u           /* bytes in one of its lines */
#define NTLMD_DEFAULT_MAX_CHALLENGES          4000000u        /* max_challenges */
#define NTLMD_DEFAULT_MAX_PENDING_PER_ADDRESS 1000u           /* max_pending_challenges_per_address */
#define NTLMD_DEFAULT_PENDING_LIFETIME        60u             /* pending_challenge_lifetime, seconds */
#define NTLMD_DEFAULT_STORE_WORKERS           8u              /* store_workers */
#define NTLMD_MAX_STORE_WORKERS               256u
#define NTLMD_DEFAULT_STORE_TIMEOUT_MS        8000u /* store_timeout: under the clients' 10 s */

enum ntlmd_ntlm_auth {
	NTLMD_NTLMV2_ONLY = 0,
	NTLMD_NTLMV1_PERMITTED,
	NTLMD_MSCHAPV2_AND_NTLMV2_ONLY,
	NTLMD_NTLM_DISABLED,
};

enum ntlmd_name_format {
	NTLMD_NAME_DOMAIN_USER = 0, /* DOMAIN\user */
	NTLMD_NAME_USER,            /* user */
	NTLMD_NAME_USER_AT_DOMAIN,  /* user@DOMAIN */
};

enum ntlmd_name_case { NTLMD_CASE_KEEP = 0, NTLMD_CASE_LOWER, NTLMD_CASE_UPPER };

/* Everything that may differ per service. */
struct ntlmd_policy {
	enum ntlmd_ntlm_auth ntlm_auth;
	bool lanman_auth;
	bool lmv2;
	bool anonymous;
	bool require_mic;
	enum ntlm_cb_mode channel_bindings;
	char **target_names; /* NULL-terminated, NULL = unchecked */
	bool allow_unverified_spn;
	uint64_t max_clock_skew;
	uint32_t required_flags;
	enum ntlm_oem_charset oem_charset;
	char **accepted_domains; /* NULL-terminated, NULL = any */
	unsigned lockout_threshold;
	unsigned lockout_account_threshold;
	unsigned lockout_window;
	unsigned lockout_duration;
	enum ntlmd_name_format user_name_format;
	enum ntlmd_name_case user_name_case;
	char domain_separator;
};

struct ntlmd_service {
	char *name;
	struct ntlmd_policy policy;
};

struct ntlmd_config {
	char *path;                 /* the file it was read from, NULL for defaults */
	struct ntlmd_policy policy; /* global */
	struct ntlmd_service *services;
	size_t n_services;

	char *socket_path;
	char *user, *group;
	char **allow_users;  /* NULL-terminated, may be NULL */
	char **allow_groups; /* NULL-terminated, may be NULL */
	char **backends;     /* NULL-terminated, never NULL after init ("files") */
	char *hash_file;
	char *netbios_name, *netbios_domain, *dns_name, *dns_domain, *dns_tree;
	char *domain_sid; /* S-1-5-21-a-b-c, canonical; NULL: the files store has no SIDs */
	unsigned challenge_lifetime;
	unsigned max_challenges;
	unsigned max_pending_challenges_per_uid;     /* never 0 after a load */
	unsigned max_pending_challenges_per_address; /* never 0 after a load */
	unsigned pending_challenge_lifetime;
	unsigned max_connections;
	unsigned read_timeout_ms;
	unsigned idle_timeout_ms;
	unsigned max_requests_per_connection;
	unsigned store_workers;    /* threads of the store pool (read at start-up) */
	unsigned store_timeout_ms; /* how long a request waits for a store */
	char *audit_json;
	int log_level; /* syslog priority: LOG_ERR .. LOG_DEBUG */

	/* "key value" lines of the stores' own keys (ldap), for each store to
	 * parse: parallel arrays, NULL-terminated, with their line numbers */
	char **extra_keys, **extra_values;
	unsigned *extra_lines;
};

/* One problem found in a file: its line number (0: not tied to a line)
 * and a reason that never quotes a secret. */
struct ntlmd_config_error {
	unsigned line;
	char reason[200];
};

/*
 * The value types of the keys a store declares. Each key is parsed by
 * ntlmd_config_store_parse into its field at off in the store's own config
 * struct, by the same parser as the global keys (the same messages).
 */
enum ntlmd_config_type {
	NTLMD_CONF_STRING = 0, /* the whole value, blanks kept, at most max bytes (0: a line's) -> char * */
	NTLMD_CONF_STRINGS,    /* each line's whole value appended (repeatable) -> char ** */
	NTLMD_CONF_WORDS,      /* blank-separated words, appended -> char ** */
	NTLMD_CONF_NUMBER,     /* decimal digits in [min, max] (seconds, counts) -> unsigned */
	NTLMD_CONF_BOOL,       /* yes | on | true, no | off | false -> bool */
	NTLMD_CONF_ENUM,       /* one of words (any case) -> its value, stored through an int */
	NTLMD_CONF_ATTRIBUTE,  /* an LDAP attribute name (RFC 4512 descr, options after ';') -> char * */
	NTLMD_CONF_FILTER,     /* an LDAP filter in parentheses, "(...)" -> char * */
	NTLMD_CONF_FILE,       /* a regular file this process can read (checked when parsed) -> char * */
	NTLMD_CONF_DIRECTORY,  /* a directory this process can read (checked when parsed) -> char * */
	NTLMD_CONF_CUSTOM,     /* hook alone reads it (URI lists, map, files read later) */
};

/* One name of an NTLMD_CONF_ENUM key; a table is ended by a NULL name. */
struct ntlmd_config_word {
	const char *name;
	uint32_t value;
};

/* Where the problems of a store's keys go: errs[0..max) in order, n counts
 * them all (those past max too); oom once memory ran out. */
struct ntlmd_config_report {
	struct ntlmd_config_error *errs;
	size_t max, n;
	bool oom;
};
/* Appends one problem at line (0: not tied to a line); never quote a secret. */
void ntlmd_config_report_add(struct ntlmd_config_report *rep, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A custom key's parser: value (trimmed, non-empty) of the line, into conf
 * (the struct ntlmd_config_store_parse was given); problems into rep.
 * NTLM_ERR_NO_MEMORY stops the parse. */
typedef enum ntlm_status (*ntlmd_config_hook_fn)(void *conf, const char *value, unsigned line,
                                                 struct ntlmd_config_report *rep);

/* A key of ntlmd.conf that a store declares: global only, kept in extra_*
 * (with its line) when the file is read, then parsed for the store by
 * ntlmd_config_store_parse. */
struct ntlmd_config_store_key {
	const char *name;
	enum ntlmd_config_type type;
	size_t off;                            /* of its field in the store's config struct */
	uint64_t min, max;                     /* NUMBER: bounds; STRING: max bytes (0: any) */
	const struct ntlmd_config_word *words; /* ENUM: its names, ended by a NULL name */
	ntlmd_config_hook_fn hook;             /* CUSTOM: its parser */
	bool repeatable;                       /* may be given on several lines (nslcd's uri, base, map) */
	const char *refused;                   /* not NULL: never accepted, and this says why */
};

/* A store as ntlmd.conf knows it: its name in "backends" and its keys. */
struct ntlmd_config_store {
	const char *name;
	const struct ntlmd_config_store_key *keys; /* ended by a NULL name; NULL: none */
};
#define NTLMD_CONFIG_MAX_STORES     16u
#define NTLMD_CONFIG_MAX_STORE_KEYS 64u /* keys of one store */

/* Defaults for everything (no file read). */
enum ntlm_status ntlmd_config_init(struct ntlmd_config *cfg);
/*
 * Reads path over the defaults. Every error is reported through errors[]
 * (up to max_errors; *ret_n_errors counts all of them) and makes the call
 * fail with NTLM_ERR_CONFIG (STATUS_NTLM_CONFIG_ERROR), an unreadable
 * file too (its reason in errors[0], line 0). On failure cfg is left cleared.
 * cfg is cleared first, so pass it zeroed or initialised.
 */
enum ntlm_status ntlmd_config_load(const char *path, struct ntlmd_config *cfg,
                                   struct ntlmd_config_error *errors, size_t max_errors,
                                   size_t *ret_n_errors);
/*
 * ntlmd_config_load for the stores given (n_stores from 1 to
 * NTLMD_CONFIG_MAX_STORES, each with at most NTLMD_CONFIG_MAX_STORE_KEYS
 * keys, each key well declared: NTLM_ERR_INVALID_ARGUMENT otherwise):
 * "backends" takes their names, and their keys are kept in extra_*; any
 * other key is an error. ntlmd_config_load is
 * this with the files store alone, which declares no key of its own.
 */
enum ntlm_status ntlmd_config_load_stores(const char *path, const struct ntlmd_config_store *const *stores,
                                          size_t n_stores, struct ntlmd_config *cfg,
                                          struct ntlmd_config_error *errors, size_t max_errors,
                                          size_t *ret_n_errors);
/*
 * Parses the keys store declares that cfg's file set (cfg->extra_*, in
 * file order) into conf, the store's own config struct, whose fields hold
 * their defaults: each by its type into its field at off, or by its hook.
 * Problems go to rep with their lines. NTLM_ERR_NO_MEMORY (rep->oom set
 * too) or NTLM_OK, whatever rep holds.
 */
enum ntlm_status ntlmd_config_store_parse(const struct ntlmd_config *cfg,
                                          const struct ntlmd_config_store *store, void *conf,
                                          struct ntlmd_config_report *rep);
/* The last line of cfg's file that set the store key called key, 0: none. */
unsigned ntlmd_config_store_key_line(const struct ntlmd_config *cfg, const char *key);
/* Whether s is an LDAP attribute name (NTLMD_CONF_ATTRIBUTE's rule). */
bool ntlmd_config_is_attribute_name(const char *s);
/* Sets one policy key on the global policy ("key=value" from ntlmtool -o).
 * On error fills *err (line 0) and returns NTLM_ERR_CONFIG. */
enum ntlm_status ntlmd_config_set_policy(struct ntlmd_config *cfg, const char *key, const char *value,
                                         struct ntlmd_config_error *err);
/* The policy for a service name (the global one when no block names it). */
const struct ntlmd_policy *ntlmd_config_policy(const struct ntlmd_config *cfg, const char *service);
/* The library policy a service's settings amount to (strings borrowed from
 * policy, valid while it is). mschap selects the MS-CHAPv2 rule of
 * ntlm_auth = mschapv2-and-ntlmv2-only. */
void ntlmd_policy_to_ntlm(const struct ntlmd_policy *policy, bool mschap, struct ntlm_policy *ret);
/* True when the NTLM domain is in the policy's accepted_domains
 * (case-insensitive; "*" any; an unset list: true). */
bool ntlmd_policy_accepts_domain(const struct ntlmd_policy *policy, const char *domain);
/* accepted_domains as a service applies it: the policy's list when set,
 * else the server's own domains: "", netbios_domain, dns_domain and
 * netbios_name (case-insensitive). The stores' domains (ldap) are the
 * caller's to add (ntlmd_backends_serve_domain). */
bool ntlmd_config_accepts_domain(const struct ntlmd_config *cfg, const struct ntlmd_policy *policy,
                                 const char *domain);
/* Formats the authenticated name per user_name_format/case; malloc'd. */
char *ntlmd_policy_format_user(const struct ntlmd_policy *policy, const char *domain, const char *user);
/* Frees everything; NULL-safe; the struct is left zeroed. */
void ntlmd_config_clear(struct ntlmd_config *cfg);

#endif /* PAM_NTLM_NTLMD_CONF_H */
