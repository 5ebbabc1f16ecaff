/*
 * config.c: ntlmd.conf (config.h, ntlmd.conf(5)). The file is read whole,
 * up to NTLMD_CONFIG_MAX_SIZE, and walked line by line through the bounded
 * reader; one table describes every key, its scope and its value type, and
 * one function parses a value for the file and for ntlmtool -o alike. The
 * stores' keys (struct ntlmd_config_store_key) are kept as text while the
 * file is read and parsed for each store by the same function
 * (ntlmd_config_store_parse), their declaration turned into a key_def.
 *
 * Service blocks are recorded as (key, value, line) overrides and applied,
 * once the whole file is read, over the final global policy.
 */
#include "ntlmd_conf.h"
#include "sid.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#define ARRAY_LEN(a)       (sizeof(a) / sizeof((a)[0]))
#define MAX_NAME_LEN       256u /* list items, user, group, service */
#define MAX_NETBIOS_LEN    15u
#define MAX_DNS_LEN        255u
#define MIN_CHALLENGES     1000u
#define MAX_CHALLENGES     100000000u           /* ntlmd's challenge table: 32-bit positions, 2.8 GB */
#define MAX_SECONDS        (365u * 24u * 3600u) /* one year: catches milliseconds typed for seconds */
#define LANMAN_RULE_REASON "lanman_auth = yes needs ntlm_auth = ntlmv1-permitted"

/* ------------------------------------------------------------------ */
/* The keys                                                            */
/* ------------------------------------------------------------------ */

enum key_scope {
	SCOPE_POLICY,  /* global or inside a service block */
	SCOPE_GLOBAL,  /* daemon settings: global only */
	SCOPE_REFUSED, /* never accepted; help says why */
};

enum key_type {
	T_BOOL,    /* one of words[] (yes_no_words, store_bool_words) */
	T_WORD,    /* one of words[], stored as an int-sized enum */
	T_UINT,    /* unsigned in [min, max] */
	T_U64,     /* uint64_t in [min, max] */
	T_FLAGS,   /* names of words[] OR'ed into a uint32_t, or "none" */
	T_LIST,    /* char ** NULL-terminated; items from words[] if set */
	T_CHAR,    /* one punctuation character */
	T_STRING,  /* one token of at most max bytes */
	T_PATH,    /* an absolute path of at most max bytes */
	T_NETBIOS, /* a NetBIOS name, stored upper-cased */
	T_DNS,     /* a DNS name */
	T_SID,     /* a domain SID S-1-5-21-a-b-c, stored in its canonical text */
	/* the stores' types (struct ntlmd_config_store_key): */
	T_TEXT,   /* NTLMD_CONF_STRING: the whole value, blanks kept, at most max bytes (0: any) */
	T_STRV,   /* NTLMD_CONF_STRINGS: the whole value appended to a char ** */
	T_WORDS,  /* NTLMD_CONF_WORDS: its words appended to a char ** */
	T_ATTR,   /* NTLMD_CONF_ATTRIBUTE: an LDAP attribute name */
	T_FILTER, /* NTLMD_CONF_FILTER: "(...)" */
	T_FILE,   /* NTLMD_CONF_FILE: a regular file this process can read */
	T_DIR,    /* NTLMD_CONF_DIRECTORY: a directory this process can read */
};

#define KF_STAR_ANY    1u /* T_LIST: a lone "*" stores NULL (any, unchecked) */
#define KF_STAR_ALONE  2u /* T_LIST: "*" may only stand alone, and is kept (NULL is the default) */
#define KF_STORE_NAMES 4u /* T_LIST: items are the names of the stores the load was given */

struct key_def {
	const char *name;
	enum key_scope scope;
	enum key_type type;
	size_t off; /* in struct ntlmd_policy (SCOPE_POLICY) or struct ntlmd_config */
	const struct ntlmd_config_word *words;
	size_t n_words;
	uint64_t min, max; /* T_UINT, T_U64; max length for T_STRING, T_PATH, T_TEXT */
	unsigned flags;
	const char *help; /* SCOPE_REFUSED */
};

/* Every T_WORD field is stored through an int. */
_Static_assert(sizeof(enum ntlmd_ntlm_auth) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ntlm_cb_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ntlmd_name_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ntlmd_name_case) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ntlm_oem_charset) == sizeof(int), "enum size");

static const struct ntlmd_config_word ntlm_auth_words[] = {
    {"ntlmv2-only", NTLMD_NTLMV2_ONLY},
    {"ntlmv1-permitted", NTLMD_NTLMV1_PERMITTED},
    {"mschapv2-and-ntlmv2-only", NTLMD_MSCHAPV2_AND_NTLMV2_ONLY},
    {"disabled", NTLMD_NTLM_DISABLED},
};
static const struct ntlmd_config_word cb_words[] = {
    {"off", NTLM_CB_OFF},
    {"when-supported", NTLM_CB_WHEN_SUPPORTED},
    {"required", NTLM_CB_REQUIRED},
};
static const struct ntlmd_config_word flag_words[] = {
    {"128", NTLM_NEGOTIATE_128},
    {"56", NTLM_NEGOTIATE_56},
    {"key-exch", NTLM_NEGOTIATE_KEY_EXCH},
    {"sign", NTLM_NEGOTIATE_SIGN},
    {"seal", NTLM_NEGOTIATE_SEAL},
    {"ess", NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY},
    {"always-sign", NTLM_NEGOTIATE_ALWAYS_SIGN},
    {"version", NTLM_NEGOTIATE_VERSION},
    {"unicode", NTLM_NEGOTIATE_UNICODE},
};
/* OEM names that are not UTF-8 (Samba's "dos charset"; libntlmssp's tables) */
static const struct ntlmd_config_word charset_words[] = {
    {"CP850", NTLM_OEM_CP850},
    {"CP1252", NTLM_OEM_CP1252},
    {"ISO-8859-1", NTLM_OEM_ISO8859_1},
    {"ISO-8859-15", NTLM_OEM_ISO8859_15},
};
static const struct ntlmd_config_word format_words[] = {
    {"domain\\user", NTLMD_NAME_DOMAIN_USER},
    {"user", NTLMD_NAME_USER},
    {"user@domain", NTLMD_NAME_USER_AT_DOMAIN},
};
static const struct ntlmd_config_word case_words[] = {
    {"keep", NTLMD_CASE_KEEP},
    {"lower", NTLMD_CASE_LOWER},
    {"upper", NTLMD_CASE_UPPER},
};
/* T_BOOL: the global keys take yes | no; the stores' keys nslcd's spellings too */
static const struct ntlmd_config_word yes_no_words[] = {{"yes", 1}, {"no", 0}};
static const struct ntlmd_config_word store_bool_words[] = {
    {"yes", 1}, {"on", 1}, {"true", 1}, {"no", 0}, {"off", 0}, {"false", 0},
};
static const struct ntlmd_config_word log_words[] = {
    {"error", LOG_ERR},
    {"warning", LOG_WARNING},
    {"info", LOG_INFO},
    {"debug", LOG_DEBUG},
};

#define WORDS(w)         .words = (w), .n_words = ARRAY_LEN(w)
#define POLICY(field, t) .scope = SCOPE_POLICY, .type = (t), .off = offsetof(struct ntlmd_policy, field)
#define GLOBAL(field, t) .scope = SCOPE_GLOBAL, .type = (t), .off = offsetof(struct ntlmd_config, field)

static const struct key_def keys[] = {
    {"ntlm_auth", POLICY(ntlm_auth, T_WORD), WORDS(ntlm_auth_words)},
    {"lanman_auth", POLICY(lanman_auth, T_BOOL), WORDS(yes_no_words)},
    {"lmv2", POLICY(lmv2, T_BOOL), WORDS(yes_no_words)},
    {"anonymous", POLICY(anonymous, T_BOOL), WORDS(yes_no_words)},
    {"require_mic", POLICY(require_mic, T_BOOL), WORDS(yes_no_words)},
    {"channel_bindings", POLICY(channel_bindings, T_WORD), WORDS(cb_words)},
    {"target_names", POLICY(target_names, T_LIST), .flags = KF_STAR_ANY},
    {"allow_unverified_spn", POLICY(allow_unverified_spn, T_BOOL), WORDS(yes_no_words)},
    {"max_clock_skew", POLICY(max_clock_skew, T_U64), .min = 0, .max = MAX_SECONDS},
    {"required_flags", POLICY(required_flags, T_FLAGS), WORDS(flag_words)},
    {"oem_charset", POLICY(oem_charset, T_WORD), WORDS(charset_words)},
    {"accepted_domains", POLICY(accepted_domains, T_LIST), .flags = KF_STAR_ALONE},
    {"lockout_threshold", POLICY(lockout_threshold, T_UINT), .min = 0, .max = 1000000},
    {"lockout_account_threshold", POLICY(lockout_account_threshold, T_UINT), .min = 0, .max = 1000000},
    {"lockout_window", POLICY(lockout_window, T_UINT), .min = 1, .max = MAX_SECONDS},
    {"lockout_duration", POLICY(lockout_duration, T_UINT), .min = 1, .max = MAX_SECONDS},
    {"user_name_format", POLICY(user_name_format, T_WORD), WORDS(format_words)},
    {"user_name_case", POLICY(user_name_case, T_WORD), WORDS(case_words)},
    {"domain_separator", POLICY(domain_separator, T_CHAR)},

    {"socket", GLOBAL(socket_path, T_PATH), .max = sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1},
    {"user", GLOBAL(user, T_STRING), .max = MAX_NAME_LEN},
    {"group", GLOBAL(group, T_STRING), .max = MAX_NAME_LEN},
    {"allow_users", GLOBAL(allow_users, T_LIST)},
    {"allow_groups", GLOBAL(allow_groups, T_LIST)},
    {"backends", GLOBAL(backends, T_LIST), .flags = KF_STORE_NAMES},
    {"hash_file", GLOBAL(hash_file, T_PATH), .max = PATH_MAX - 1},
    {"netbios_name", GLOBAL(netbios_name, T_NETBIOS)},
    {"netbios_domain", GLOBAL(netbios_domain, T_NETBIOS)},
    {"dns_name", GLOBAL(dns_name, T_DNS)},
    {"dns_domain", GLOBAL(dns_domain, T_DNS)},
    {"dns_tree", GLOBAL(dns_tree, T_DNS)},
    {"domain_sid", GLOBAL(domain_sid, T_SID)},
    {"challenge_lifetime", GLOBAL(challenge_lifetime, T_UINT), .min = 1, .max = 86400},
    {"max_challenges", GLOBAL(max_challenges, T_UINT), .min = MIN_CHALLENGES, .max = MAX_CHALLENGES},
    {"max_pending_challenges_per_uid", GLOBAL(max_pending_challenges_per_uid, T_UINT), .min = 1,
     .max = MAX_CHALLENGES},
    {"max_pending_challenges_per_address", GLOBAL(max_pending_challenges_per_address, T_UINT), .min = 1,
     .max = MAX_CHALLENGES},
    {"pending_challenge_lifetime", GLOBAL(pending_challenge_lifetime, T_UINT), .min = 1, .max = 86400},
    {"max_connections", GLOBAL(max_connections, T_UINT), .min = 1, .max = 65536},
    {"read_timeout", GLOBAL(read_timeout_ms, T_UINT), .min = 1, .max = 600000},
    {"idle_timeout", GLOBAL(idle_timeout_ms, T_UINT), .min = 1, .max = 3600000},
    {"max_requests_per_connection", GLOBAL(max_requests_per_connection, T_UINT), .min = 1, .max = 1000000000},
    {"store_workers", GLOBAL(store_workers, T_UINT), .min = 1, .max = NTLMD_MAX_STORE_WORKERS},
    {"store_timeout", GLOBAL(store_timeout_ms, T_UINT), .min = 1, .max = 600000},
    {"audit_json", GLOBAL(audit_json, T_PATH), .max = PATH_MAX - 1},
    {"log_level", GLOBAL(log_level, T_WORD), WORDS(log_words)},
};
#define N_KEYS ARRAY_LEN(keys)

/* The stores of a load that names none: the files store, whose settings
 * (hash_file, domain_sid) are keys of the table above. */
static const struct ntlmd_config_store files_only = {.name = "files"};
static const struct ntlmd_config_store *const default_stores[] = {&files_only};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static bool ascii_eq_nocase(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
	}
	return *a == *b;
}

static void ascii_case(char *s, enum ntlmd_name_case c)
{
	for (; c != NTLMD_CASE_KEEP && *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 0x80)
			*s = (char)(c == NTLMD_CASE_LOWER ? tolower(ch) : toupper(ch));
	}
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Appends s (owned on success) to a NULL-terminated vector of n items. */
static enum ntlm_status strv_push(char ***v, size_t n, char *s)
{
	char **nv = realloc(*v, (n + 2) * sizeof(*nv));
	if (nv == NULL)
		return NTLM_ERR_NO_MEMORY;
	nv[n] = s;
	nv[n + 1] = NULL;
	*v = nv;
	return NTLM_OK;
}

static enum ntlm_status strv_dup(char *const *v, char ***ret)
{
	char **out = NULL;
	size_t n = 0;

	*ret = NULL;
	if (v == NULL)
		return NTLM_OK;
	out = calloc(1, sizeof(*out));
	if (out == NULL)
		return NTLM_ERR_NO_MEMORY;
	for (; v[n] != NULL; n++) {
		char *s = strdup(v[n]);
		if (s == NULL || strv_push(&out, n, s) != NTLM_OK) {
			free(s);
			strv_free(out);
			return NTLM_ERR_NO_MEMORY;
		}
	}
	*ret = out;
	return NTLM_OK;
}

/* Replaces *field with a copy of s (NULL stores NULL). */
static enum ntlm_status set_string(char **field, const char *s)
{
	char *copy = NULL;
	if (s != NULL && (copy = strdup(s)) == NULL)
		return NTLM_ERR_NO_MEMORY;
	free(*field);
	*field = copy;
	return NTLM_OK;
}

/* The whitespace-separated words of s, malloc'd; *ret_n counts them. */
static enum ntlm_status split_words(const char *s, char ***ret, size_t *ret_n)
{
	char **v = calloc(1, sizeof(*v));
	size_t n = 0;

	if (v == NULL)
		return NTLM_ERR_NO_MEMORY;
	while (*s != '\0') {
		size_t len;
		char *w;
		while (is_blank(*s))
			s++;
		len = strcspn(s, " \t");
		if (len == 0)
			break;
		w = strndup(s, len);
		if (w == NULL || strv_push(&v, n, w) != NTLM_OK) {
			free(w);
			strv_free(v);
			return NTLM_ERR_NO_MEMORY;
		}
		n++;
		s += len;
	}
	*ret = v;
	*ret_n = n;
	return NTLM_OK;
}

static const struct key_def *find_key(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

static const struct ntlmd_config_word *find_word(const struct key_def *k, const char *s)
{
	for (size_t i = 0; i < k->n_words; i++) {
		if (ascii_eq_nocase(k->words[i].name, s))
			return &k->words[i];
	}
	return NULL;
}

/* "a, b or c" from a key's words. */
static void words_text(const struct key_def *k, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < k->n_words && used < size; i++) {
		const char *sep = i == 0 ? "" : i + 1 == k->n_words ? " or " : ", ";
		/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): the word tables are constant */
		int n = snprintf(buf + used, size - used, "%s%s", sep, k->words[i].name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* A name an error may quote: a short run of [a-z0-9_]. Anything else
 * could be a secret typed on the wrong line and is not repeated. */
static bool quotable_key(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 40 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* The first control character (other than tab) in s[0..n), or -1. */
static int control_char(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return c;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

struct reason {
	char text[sizeof(((struct ntlmd_config_error *)NULL)->reason)];
};

__attribute__((format(printf, 2, 3))) static enum ntlm_status bad(struct reason *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	return NTLM_ERR_CONFIG;
}

/* Decimal digits only, in [min, max]. */
static enum ntlm_status parse_number(const struct key_def *k, const char *s, uint64_t *ret, struct reason *r)
{
	uint64_t v = 0;

	if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
		return bad(r, "%s: '%.40s' is not a number", k->name, s);
	for (; *s != '\0'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return bad(r, "%s: number too large", k->name);
		v = v * 10 + d;
	}
	if (v < k->min || v > k->max)
		return bad(r, "%s: %llu is out of range (%llu to %llu)", k->name, (unsigned long long)v,
		           (unsigned long long)k->min, (unsigned long long)k->max);
	*ret = v;
	return NTLM_OK;
}

/* Checks the items of a list value; rewrites word items to their spelling. */
static enum ntlm_status check_list(const struct key_def *k, char **v, size_t n, struct reason *r)
{
	char expected[160];

	for (size_t i = 0; i < n; i++) {
		if (strlen(v[i]) > MAX_NAME_LEN)
			return bad(r, "%s: an item is longer than %u bytes", k->name, MAX_NAME_LEN);
		if ((k->flags & (KF_STAR_ANY | KF_STAR_ALONE)) && strcmp(v[i], "*") == 0 && n > 1)
			return bad(r, "%s: '*' must stand alone", k->name);
		if (k->words != NULL) {
			const struct ntlmd_config_word *w = find_word(k, v[i]);
			if (w == NULL) {
				words_text(k, expected, sizeof(expected));
				return bad(r, "%s: expected %s, not '%.40s'", k->name, expected, v[i]);
			}
			if (set_string(&v[i], w->name) != NTLM_OK)
				return NTLM_ERR_NO_MEMORY;
		}
		for (size_t j = 0; j < i; j++) {
			/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): every word has a name */
			if (strcmp(v[i], v[j]) == 0)
				return bad(r, "%s: '%.40s' is listed twice", k->name, v[i]);
		}
	}
	return NTLM_OK;
}

static enum ntlm_status parse_list(const struct key_def *k, const char *value, void *field, struct reason *r)
{
	char **v = NULL;
	size_t n = 0;
	enum ntlm_status st = split_words(value, &v, &n);

	if (st == NTLM_OK)
		st = check_list(k, v, n, r);
	/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): every word has a name */
	if (st == NTLM_OK && (k->flags & KF_STAR_ANY) && n == 1 && strcmp(v[0], "*") == 0) {
		strv_free(v);
		v = NULL;
	}
	if (st == NTLM_OK) {
		strv_free(*(char ***)field);
		*(char ***)field = v;
		v = NULL;
	}
	strv_free(v);
	return st;
}

static enum ntlm_status parse_flags(const struct key_def *k, const char *value, uint32_t *ret,
                                    struct reason *r)
{
	char **v = NULL;
	size_t n = 0;
	uint32_t flags = 0;
	enum ntlm_status st = split_words(value, &v, &n);

	if (st == NTLM_OK && !(n == 1 && ascii_eq_nocase(v[0], "none")))
		st = check_list(k, v, n, r);
	for (size_t i = 0; st == NTLM_OK && i < n; i++) {
		const struct ntlmd_config_word *w = find_word(k, v[i]);
		flags |= w != NULL ? w->value : 0;
	}
	if (st == NTLM_OK)
		*ret = flags;
	strv_free(v);
	return st;
}

/* NetBIOS names: 1 to 15 bytes of printable ASCII outside \/:*?"<>|. */
static enum ntlm_status check_netbios(const struct key_def *k, const char *s, struct reason *r)
{
	size_t n = strlen(s);

	if (n > MAX_NETBIOS_LEN)
		return bad(r, "%s: longer than %u characters", k->name, MAX_NETBIOS_LEN);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("\\/:*?\"<>|.", c) != NULL)
			return bad(r, "%s: character '%c' is not allowed in a NetBIOS name", k->name,
			           c > 0x20 && c < 0x7f ? c : '?');
	}
	return NTLM_OK;
}

/* DNS names: letters, digits, '-', '_' and '.', not starting with '.' or '-'. */
static enum ntlm_status check_dns(const struct key_def *k, const char *s, struct reason *r)
{
	size_t n = strlen(s);
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";

	if (n > MAX_DNS_LEN)
		return bad(r, "%s: longer than %u characters", k->name, MAX_DNS_LEN);
	if (strspn(s, allowed) != n || s[0] == '.' || s[0] == '-' || strstr(s, "..") != NULL)
		return bad(r, "%s: '%.60s' is not a DNS name", k->name, s);
	return NTLM_OK;
}

/* A domain SID (S-1-5-21-a-b-c), stored as its canonical text. */
static enum ntlm_status parse_domain_sid(const struct key_def *k, const char *value, void *field,
                                         struct reason *r)
{
	struct ntlmd_sid sid;
	char text[NTLMD_SID_TEXT_MAX];
	const char *why = NULL;

	if (ntlmd_sid_parse(value, &sid, &why) != NTLM_OK)
		return bad(r, "%s: not a SID (%s)", k->name, why);
	if (!ntlmd_sid_is_domain(&sid))
		return bad(r, "%s: not a domain SID of the form S-1-5-21-a-b-c", k->name);
	if (!ntlmd_sid_format(&sid, text, sizeof(text)))
		return NTLM_ERR_INTERNAL;
	return set_string(field, text);
}

/* RFC 4515: a filter's parentheses balance (a value's own are escaped as
 * \28 and \29), and the outer pair holds it whole: "((a=b)" and
 * "(a=b))(c=d)" passed before, and failed at the first search (attack5). */
static bool filter_balanced(const char *s)
{
	int depth = 0;

	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0')
			s++;
		else if (*s == '(')
			depth++;
		else if (*s == ')' && (--depth < 0 || (depth == 0 && s[1] != '\0')))
			return false;
	}
	return depth == 0;
}

/* T_FILE: a regular file, T_DIR: a directory, this process can read (a
 * fifo, a device or a directory given for a file passed, and held or
 * failed the TLS set-up at the first connect instead: attack5). */
static enum ntlm_status check_readable(const struct key_def *k, const char *value, struct reason *r)
{
	struct stat st;
	bool dir = k->type == T_DIR;

	if (access(value, R_OK) != 0 || stat(value, &st) != 0)
		return bad(r, "%s %.120s: cannot read: %s", k->name, value, strerror(errno));
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return bad(r, "%s %.120s: not a %s", k->name, value, dir ? "directory" : "regular file");
	return NTLM_OK;
}

/* A single-token value of the scalar types. */
static enum ntlm_status parse_scalar(const struct key_def *k, const char *value, void *field,
                                     struct reason *r)
{
	char expected[160];
	const struct ntlmd_config_word *w;
	int word_value;
	uint64_t num = 0;
	enum ntlm_status st;
	size_t len = strlen(value);

	switch (k->type) {
	case T_BOOL:
		w = find_word(k, value);
		if (w == NULL)
			return bad(r, "%s: expected yes or no, not '%.40s'", k->name, value);
		*(bool *)field = w->value != 0;
		return NTLM_OK;
	case T_WORD:
		w = find_word(k, value);
		if (w == NULL) {
			words_text(k, expected, sizeof(expected));
			return bad(r, "%s: expected %s, not '%.40s'", k->name, expected, value);
		}
		word_value = (int)w->value;
		memcpy(field, &word_value, sizeof(word_value));
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a T_WORD field is an enum, not a pointer */
		return NTLM_OK;
	case T_UINT:
	case T_U64:
		st = parse_number(k, value, &num, r);
		if (st == NTLM_OK && k->type == T_UINT)
			*(unsigned *)field = (unsigned)num;
		else if (st == NTLM_OK)
			*(uint64_t *)field = num;
		return st;
	case T_CHAR:
		if (len != 1 || !isprint((unsigned char)value[0]) || isalnum((unsigned char)value[0]))
			return bad(r, "%s: expected one punctuation character such as \\ or +", k->name);
		*(char *)field = value[0];
		return NTLM_OK;
	case T_PATH:
		if (value[0] != '/')
			return bad(r, "%s: must be an absolute path", k->name);
		/* fall through */
	case T_STRING:
	case T_TEXT:
		if (len > k->max)
			return bad(r, "%s: longer than %llu bytes", k->name, (unsigned long long)k->max);
		break;
	case T_ATTR:
		if (!ntlmd_config_is_attribute_name(value))
			return bad(r, "%s: \"%.60s\" is not an attribute name", k->name, value);
		break;
	case T_FILTER: /* RFC 4515: filter = "(" filtercomp ")" */
		if (value[0] != '(' || value[len - 1] != ')')
			return bad(r, "%s: expected an LDAP filter in parentheses", k->name);
		if (!filter_balanced(value))
			return bad(r, "%s: unbalanced parentheses", k->name);
		break;
	case T_FILE:
	case T_DIR:
		st = check_readable(k, value, r);
		if (st != NTLM_OK)
			return st;
		break;
	case T_NETBIOS:
		st = check_netbios(k, value, r);
		if (st != NTLM_OK)
			return st;
		break;
	case T_DNS:
		st = check_dns(k, value, r);
		if (st != NTLM_OK)
			return st;
		break;
	case T_SID:
		return parse_domain_sid(k, value, field, r);
	default:
		return bad(r, "%s: internal error: unexpected value type", k->name);
	}
	st = set_string(field, value);
	if (st == NTLM_OK && k->type == T_NETBIOS)
		ascii_case(*(char **)field, NTLMD_CASE_UPPER);
	return st;
}

/* Appends s to the NULL-terminated vector *field. */
static enum ntlm_status append_item(char ***field, const char *s)
{
	size_t n = 0;
	char *copy = strdup(s);

	while (*field != NULL && (*field)[n] != NULL)
		n++;
	if (copy == NULL || strv_push(field, n, copy) != NTLM_OK) {
		free(copy);
		return NTLM_ERR_NO_MEMORY;
	}
	return NTLM_OK;
}

/* T_STRV: the whole value, T_WORDS: each of its words, appended. */
static enum ntlm_status parse_append(const struct key_def *k, const char *value, char ***field)
{
	char **words = NULL;
	size_t n = 0;
	enum ntlm_status st;

	if (k->type == T_STRV)
		return append_item(field, value);
	st = split_words(value, &words, &n);
	for (size_t i = 0; st == NTLM_OK && i < n; i++)
		st = append_item(field, words[i]);
	strv_free(words);
	return st;
}

/* Whether a value of type t may hold blanks (a DN, a filter, a path). */
static bool takes_blanks(enum key_type t)
{
	return t == T_TEXT || t == T_FILTER || t == T_FILE || t == T_DIR;
}

/*
 * Parses value (trimmed, non-empty) for key k into base (the policy for
 * policy keys, the config for global ones). On NTLM_ERR_CONFIG the
 * target is unchanged and r says why, never quoting more than a short,
 * non-secret value.
 */
static enum ntlm_status parse_value(const struct key_def *k, const char *value, void *base, struct reason *r)
{
	void *field = (char *)base + k->off;

	if (k->scope == SCOPE_REFUSED)
		return bad(r, "%s", k->help);
	if (k->type == T_LIST)
		return parse_list(k, value, field, r);
	if (k->type == T_FLAGS)
		return parse_flags(k, value, field, r);
	if (k->type == T_STRV || k->type == T_WORDS)
		return parse_append(k, value, field);
	if (!takes_blanks(k->type) && strpbrk(value, " \t") != NULL)
		return bad(r, "%s: takes one value", k->name);
	return parse_scalar(k, value, field, r);
}

/* ------------------------------------------------------------------ */
/* Policies                                                            */
/* ------------------------------------------------------------------ */

static void policy_defaults(struct ntlmd_policy *p)
{
	*p = (struct ntlmd_policy){
	    .ntlm_auth = NTLMD_NTLMV2_ONLY,
	    .channel_bindings = NTLM_CB_WHEN_SUPPORTED,
	    .max_clock_skew = 1800,
	    .oem_charset = NTLM_OEM_CP850,
	    .lockout_threshold = 10,         /* Windows 11's account lockout policy */
	    .lockout_account_threshold = 50, /* five addresses' worth */
	    .lockout_window = 600,
	    .lockout_duration = 600,
	    .user_name_format = NTLMD_NAME_DOMAIN_USER,
	    .user_name_case = NTLMD_CASE_KEEP,
	    .domain_separator = '\\',
	};
}

static void policy_clear(struct ntlmd_policy *p)
{
	strv_free(p->target_names);
	strv_free(p->accepted_domains);
	memset(p, 0, sizeof(*p));
}

static enum ntlm_status policy_copy(struct ntlmd_policy *dst, const struct ntlmd_policy *src)
{
	*dst = *src;
	dst->target_names = NULL;
	dst->accepted_domains = NULL;
	if (strv_dup(src->target_names, &dst->target_names) != NTLM_OK ||
	    strv_dup(src->accepted_domains, &dst->accepted_domains) != NTLM_OK) {
		policy_clear(dst);
		return NTLM_ERR_NO_MEMORY;
	}
	return NTLM_OK;
}

/* Samba's rule: LM only where NTLMv1 is permitted. */
static bool lanman_rule_ok(const struct ntlmd_policy *p)
{
	return !p->lanman_auth || p->ntlm_auth == NTLMD_NTLMV1_PERMITTED;
}

/* ------------------------------------------------------------------ */
/* Host names                                                          */
/* ------------------------------------------------------------------ */

#define NAME_NB_COMPUTER 1u
#define NAME_NB_DOMAIN   2u
#define NAME_DNS_DOMAIN  4u
#define NAME_DNS_TREE    8u

/* The upper-cased first label of s, at most 15 bytes. */
static char *netbios_from_dns(const char *s)
{
	size_t n = strcspn(s, ".");
	char *out = strndup(s, n < MAX_NETBIOS_LEN ? n : MAX_NETBIOS_LEN);
	if (out != NULL)
		ascii_case(out, NTLMD_CASE_UPPER);
	return out;
}

/*
 * Fills the names not in given (NAME_* bits) from cfg->dns_name: the DNS
 * domain is what follows its first dot, the tree is the domain, the NetBIOS
 * computer name its first label, and the NetBIOS domain the first label of
 * the DNS domain, or else the computer name (a standalone server's SAM).
 */
static enum ntlm_status derive_names(struct ntlmd_config *cfg, unsigned given)
{
	const char *dot = strchr(cfg->dns_name, '.');
	enum ntlm_status st = NTLM_OK;

	if (!(given & NAME_DNS_DOMAIN))
		st = set_string(&cfg->dns_domain, dot != NULL && dot[1] != '\0' ? dot + 1 : NULL);
	if (st == NTLM_OK && !(given & NAME_DNS_TREE))
		st = set_string(&cfg->dns_tree, cfg->dns_domain);
	if (st == NTLM_OK && !(given & NAME_NB_COMPUTER)) {
		free(cfg->netbios_name);
		cfg->netbios_name = netbios_from_dns(cfg->dns_name);
		st = cfg->netbios_name != NULL ? NTLM_OK : NTLM_ERR_NO_MEMORY;
	}
	if (st == NTLM_OK && !(given & NAME_NB_DOMAIN)) {
		free(cfg->netbios_domain);
		cfg->netbios_domain =
		    cfg->dns_domain != NULL ? netbios_from_dns(cfg->dns_domain) : strdup(cfg->netbios_name);
		st = cfg->netbios_domain != NULL ? NTLM_OK : NTLM_ERR_NO_MEMORY;
	}
	return st;
}

/* ------------------------------------------------------------------ */
/* Defaults and clearing                                               */
/* ------------------------------------------------------------------ */

void ntlmd_config_clear(struct ntlmd_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	policy_clear(&cfg->policy);
	for (size_t i = 0; i < cfg->n_services; i++) {
		free(cfg->services[i].name);
		policy_clear(&cfg->services[i].policy);
	}
	free(cfg->services);
	char *strings[] = {cfg->socket_path,  cfg->user,           cfg->group,     cfg->hash_file,
	                   cfg->netbios_name, cfg->netbios_domain, cfg->dns_name,  cfg->dns_domain,
	                   cfg->dns_tree,     cfg->audit_json,     cfg->domain_sid};
	for (size_t i = 0; i < ARRAY_LEN(strings); i++)
		free(strings[i]);
	char **vectors[] = {cfg->allow_users, cfg->allow_groups, cfg->backends, cfg->extra_keys,
	                    cfg->extra_values};
	for (size_t i = 0; i < ARRAY_LEN(vectors); i++)
		strv_free(vectors[i]);
	free(cfg->extra_lines);
	memset(cfg, 0, sizeof(*cfg));
}

enum ntlm_status ntlmd_config_init(struct ntlmd_config *cfg)
{
	char host[MAX_DNS_LEN + 2] = "";
	enum ntlm_status st = NTLM_ERR_NO_MEMORY;

	if (cfg == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	memset(cfg, 0, sizeof(*cfg));
	policy_defaults(&cfg->policy);
	cfg->challenge_lifetime = 300;
	cfg->max_challenges = NTLMD_DEFAULT_MAX_CHALLENGES;
	cfg->max_pending_challenges_per_uid = NTLMD_DEFAULT_MAX_CHALLENGES / 10;
	cfg->max_pending_challenges_per_address = NTLMD_DEFAULT_MAX_PENDING_PER_ADDRESS;
	cfg->pending_challenge_lifetime = NTLMD_DEFAULT_PENDING_LIFETIME;
	cfg->max_connections = 256;
	cfg->read_timeout_ms = 5000;
	cfg->idle_timeout_ms = 30000;
	cfg->max_requests_per_connection = 10000;
	cfg->store_workers = NTLMD_DEFAULT_STORE_WORKERS;
	cfg->store_timeout_ms = NTLMD_DEFAULT_STORE_TIMEOUT_MS;
	cfg->log_level = LOG_INFO;
	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0' || host[0] == '.')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';

	cfg->socket_path = strdup(NTLMD_DEFAULT_SOCKET);
	cfg->hash_file = strdup(NTLMD_DEFAULT_HASH_FILE);
	cfg->dns_name = strdup(host);
	cfg->backends = calloc(2, sizeof(char *));
	cfg->extra_keys = calloc(1, sizeof(char *));
	cfg->extra_values = calloc(1, sizeof(char *));
	cfg->extra_lines = calloc(1, sizeof(unsigned));
	if (cfg->socket_path == NULL || cfg->hash_file == NULL || cfg->dns_name == NULL ||
	    cfg->backends == NULL || cfg->extra_keys == NULL || cfg->extra_values == NULL ||
	    cfg->extra_lines == NULL)
		goto out;
	cfg->backends[0] = strdup("files");
	if (cfg->backends[0] == NULL)
		goto out;
	st = derive_names(cfg, 0);
out:
	if (st != NTLM_OK)
		ntlmd_config_clear(cfg);
	return st;
}

/* ------------------------------------------------------------------ */
/* The file                                                            */
/* ------------------------------------------------------------------ */

struct override {
	const struct key_def *key;
	char *value;
	unsigned line;
};

/* One "service NAME" block, applied when the file is read. */
struct block {
	char *name; /* NULL when the service line was wrong: checked, then dropped */
	unsigned line;
	unsigned seen[N_KEYS]; /* line each key was set on, 0 = not set */
	struct override *overrides;
	size_t n_overrides;
};

struct parser {
	struct ntlmd_config *cfg;
	struct ntlmd_config_error *errors;
	size_t max_errors, n_errors;
	unsigned seen[N_KEYS];
	const struct ntlmd_config_store *const *stores; /* whose names and keys the file may use */
	size_t n_stores;
	unsigned store_seen[NTLMD_CONFIG_MAX_STORES][NTLMD_CONFIG_MAX_STORE_KEYS];
	struct block *blocks;
	size_t n_blocks;
	size_t n_extra;
	enum ntlm_status fatal; /* NTLM_ERR_NO_MEMORY stops the parse */
};

/* Records an error, keeping errors[] ordered by line (line 0 first). */
__attribute__((format(printf, 3, 4))) static void add_error(struct parser *p, unsigned line, const char *fmt,
                                                            ...)
{
	size_t stored = p->n_errors < p->max_errors ? p->n_errors : p->max_errors, pos = stored, kept;
	va_list ap;

	p->n_errors++;
	while (pos > 0 && p->errors[pos - 1].line > line)
		pos--;
	if (pos >= p->max_errors)
		return; /* counted, not stored */
	/* shift the later ones up; when full, the last one falls off */
	kept = stored < p->max_errors ? stored : p->max_errors - 1;
	memmove(&p->errors[pos + 1], &p->errors[pos], (kept - pos) * sizeof(p->errors[0]));
	p->errors[pos].line = line;
	va_start(ap, fmt);
	vsnprintf(p->errors[pos].reason, sizeof(p->errors[pos].reason), fmt, ap);
	va_end(ap);
}

static void note_status(struct parser *p, unsigned line, enum ntlm_status st, const struct reason *r)
{
	if (st == NTLM_ERR_CONFIG)
		add_error(p, line, "%s", r->text);
	else if (st != NTLM_OK && p->fatal == NTLM_OK)
		p->fatal = st;
}

static void free_blocks(struct parser *p)
{
	for (size_t i = 0; i < p->n_blocks; i++) {
		for (size_t j = 0; j < p->blocks[i].n_overrides; j++)
			free(p->blocks[i].overrides[j].value);
		free(p->blocks[i].overrides);
		free(p->blocks[i].name);
	}
	free(p->blocks);
	p->blocks = NULL;
	p->n_blocks = 0;
}

/* Reads the whole file, at most NTLMD_CONFIG_MAX_SIZE bytes. */
static enum ntlm_status read_file(struct parser *p, const char *path, char **ret, size_t *ret_len)
{
	size_t cap = 8192, len = 0;
	char *buf = NULL;
	enum ntlm_status st = NTLM_ERR_NO_MEMORY;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		add_error(p, 0, "cannot open %.120s: %s", path, strerror(errno));
		return NTLM_ERR_CONFIG;
	}
	buf = malloc(cap);
	if (buf == NULL)
		goto out;
	for (;;) {
		ssize_t n;
		if (len == cap) { /* cap <= NTLMD_CONFIG_MAX_SIZE here */
			size_t ncap =
			    cap * 2 > NTLMD_CONFIG_MAX_SIZE + 1 ? NTLMD_CONFIG_MAX_SIZE + 1 : cap * 2;
			char *nbuf = realloc(buf, ncap);
			if (nbuf == NULL)
				goto out;
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			add_error(p, 0, "cannot read %.120s: %s", path, strerror(errno));
			st = NTLM_ERR_CONFIG;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > NTLMD_CONFIG_MAX_SIZE) {
			add_error(p, 0, "the file is larger than %u bytes", NTLMD_CONFIG_MAX_SIZE);
			st = NTLM_ERR_CONFIG;
			goto out;
		}
	}
	*ret = buf;
	*ret_len = len;
	buf = NULL;
	st = NTLM_OK;
out:
	free(buf);
	close(fd);
	return st;
}

/* Removes a comment ('#' at the start of a word) and surrounding blanks;
 * splits "key value", "key = value" or "key=value". False for a blank line. */
static bool split_line(char *line, char **ret_key, char **ret_value)
{
	char *end, *rest;
	size_t n;

	for (char *c = line; *c != '\0'; c++) {
		if (*c == '#' && (c == line || is_blank(c[-1]))) {
			*c = '\0';
			break;
		}
	}
	n = strlen(line);
	while (n > 0 && is_blank(line[n - 1]))
		line[--n] = '\0';
	while (is_blank(*line))
		line++;
	if (*line == '\0')
		return false;
	end = line + strcspn(line, " \t=");
	rest = end;
	while (is_blank(*rest))
		rest++;
	if (*rest == '=')
		rest++;
	while (is_blank(*rest))
		rest++;
	*end = '\0';
	*ret_key = line;
	*ret_value = rest;
	return true;
}

static struct block *current_block(struct parser *p)
{
	return p->n_blocks > 0 ? &p->blocks[p->n_blocks - 1] : NULL;
}

static void open_block(struct parser *p, unsigned line, const char *name)
{
	struct block *b = realloc(p->blocks, (p->n_blocks + 1) * sizeof(*b));

	if (b == NULL) {
		p->fatal = NTLM_ERR_NO_MEMORY;
		return;
	}
	p->blocks = b;
	b = &p->blocks[p->n_blocks++];
	memset(b, 0, sizeof(*b));
	b->line = line;
	if (*name == '\0') {
		add_error(p, line, "service: missing service name");
		return;
	}
	if (strpbrk(name, " \t") != NULL || strlen(name) > MAX_NAME_LEN) {
		add_error(p, line, "service: takes one name of at most %u bytes", MAX_NAME_LEN);
		return;
	}
	for (size_t i = 0; i + 1 < p->n_blocks; i++) {
		if (p->blocks[i].name != NULL && strcmp(p->blocks[i].name, name) == 0) {
			add_error(p, line, "service %.60s: already opened on line %u", name,
			          p->blocks[i].line);
			return;
		}
	}
	b->name = strdup(name);
	if (b->name == NULL)
		p->fatal = NTLM_ERR_NO_MEMORY;
}

static void add_extra(struct parser *p, const char *key, const char *value, unsigned line)
{
	struct ntlmd_config *cfg = p->cfg;
	char *k = strdup(key), *v = strdup(value);
	unsigned *lines = realloc(cfg->extra_lines, (p->n_extra + 2) * sizeof(*lines));

	if (lines != NULL)
		cfg->extra_lines = lines;
	if (k == NULL || v == NULL || lines == NULL ||
	    strv_push(&cfg->extra_keys, p->n_extra, k) != NTLM_OK) {
		free(k);
		free(v);
		p->fatal = NTLM_ERR_NO_MEMORY;
		return;
	}
	if (strv_push(&cfg->extra_values, p->n_extra, v) != NTLM_OK) {
		free(v);
		cfg->extra_keys[p->n_extra] = NULL;
		free(k);
		p->fatal = NTLM_ERR_NO_MEMORY;
		return;
	}
	lines[p->n_extra] = line;
	lines[p->n_extra + 1] = 0;
	p->n_extra++;
}

/* A policy key inside a service block: checked now, applied at the end. */
static void add_override(struct parser *p, struct block *b, const struct key_def *k, const char *value,
                         unsigned line)
{
	struct ntlmd_policy scratch = {0};
	struct reason r = {""};
	struct override *o;
	enum ntlm_status st = parse_value(k, value, &scratch, &r);

	policy_clear(&scratch);
	note_status(p, line, st, &r);
	if (st != NTLM_OK)
		return;
	o = realloc(b->overrides, (b->n_overrides + 1) * sizeof(*o));
	if (o == NULL) {
		p->fatal = NTLM_ERR_NO_MEMORY;
		return;
	}
	b->overrides = o;
	o = &o[b->n_overrides];
	o->key = k;
	o->line = line;
	o->value = strdup(value);
	if (o->value == NULL)
		p->fatal = NTLM_ERR_NO_MEMORY;
	else
		b->n_overrides++;
}

/* The key called name that one of the parser's stores declares, or NULL;
 * *ret_seen is where the line it was set on is kept. */
static const struct ntlmd_config_store_key *find_store_key(struct parser *p, const char *name,
                                                           unsigned **ret_seen)
{
	for (size_t i = 0; i < p->n_stores; i++) {
		const struct ntlmd_config_store_key *k = p->stores[i]->keys;
		for (size_t j = 0; k != NULL && k[j].name != NULL; j++)
			if (strcmp(k[j].name, name) == 0) {
				*ret_seen = &p->store_seen[i][j];
				return &k[j];
			}
	}
	return NULL;
}

/* Whether a store's key is declared so that it can be parsed: a known
 * type, an ENUM's names, a CUSTOM's hook, NUMBER bounds an unsigned holds. */
static bool store_key_fits(const struct ntlmd_config_store_key *k)
{
	if (k->refused != NULL)
		return true;
	switch (k->type) {
	case NTLMD_CONF_NUMBER:
		return k->min <= k->max && k->max <= UINT_MAX;
	case NTLMD_CONF_ENUM:
		return k->words != NULL && k->words[0].name != NULL;
	case NTLMD_CONF_CUSTOM:
		return k->hook != NULL;
	default:
		return (unsigned)k->type <= (unsigned)NTLMD_CONF_CUSTOM;
	}
}

/* Whether a store has a name and at most NTLMD_CONFIG_MAX_STORE_KEYS keys,
 * each well declared. */
static bool store_fits(const struct ntlmd_config_store *store)
{
	size_t n_keys = 0;

	if (store == NULL || store->name == NULL)
		return false;
	for (; store->keys != NULL && store->keys[n_keys].name != NULL; n_keys++)
		if (n_keys >= NTLMD_CONFIG_MAX_STORE_KEYS || !store_key_fits(&store->keys[n_keys]))
			return false;
	return true;
}

static bool stores_fit(const struct ntlmd_config_store *const *stores, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!store_fits(stores[i]))
			return false;
	return true;
}

/* The backends key, whose words are the names of the parser's stores. */
static void parse_backends(struct parser *p, const struct key_def *k, const char *value, unsigned line)
{
	struct ntlmd_config_word names[NTLMD_CONFIG_MAX_STORES];
	struct key_def def = *k;
	struct reason r = {""};

	for (size_t i = 0; i < p->n_stores; i++)
		names[i] = (struct ntlmd_config_word){p->stores[i]->name, 0};
	def.words = names;
	def.n_words = p->n_stores;
	note_status(p, line, parse_value(&def, value, p->cfg, &r), &r);
}

static void parse_line(struct parser *p, unsigned line, char *text, size_t len)
{
	struct block *blk = current_block(p);
	const struct key_def *k;
	const struct ntlmd_config_store_key *sk;
	char *key, *value;
	unsigned *seen = NULL;
	struct reason r = {""};
	int c = control_char(text, len);

	if (c >= 0) {
		add_error(p, line, "control character 0x%02x in the line", (unsigned)c);
		return;
	}
	if (!split_line(text, &key, &value))
		return;
	if (strcmp(key, "service") == 0) {
		open_block(p, line, value);
		return;
	}
	k = find_key(key);
	sk = k == NULL ? find_store_key(p, key, &seen) : NULL;
	if (k == NULL && sk == NULL) {
		if (quotable_key(key))
			add_error(p, line, "unknown key '%s'", key);
		else
			add_error(p, line, "unknown key (the line does not start with a key name)");
		return;
	}
	if ((k != NULL && k->scope == SCOPE_REFUSED) || (sk != NULL && sk->refused != NULL)) {
		add_error(p, line, "%s", k != NULL ? k->help : sk->refused);
		return;
	}
	if (*value == '\0') {
		add_error(p, line, "%s: missing value", key);
		return;
	}
	if (blk != NULL && (k == NULL || k->scope != SCOPE_POLICY)) {
		add_error(p, line, "%s is a global key: not allowed in the service block opened on line %u",
		          key, blk->line);
		return;
	}
	if (sk == NULL)
		seen = blk != NULL ? &blk->seen[k - keys] : &p->seen[k - keys];
	if (*seen != 0 && !(sk != NULL && sk->repeatable)) {
		add_error(p, line, "%s: already set on line %u%s", key, *seen,
		          blk != NULL ? " of this service block" : "");
		return;
	}
	*seen = line;
	if (sk != NULL)
		add_extra(p, key, value, line);
	else if (blk != NULL)
		add_override(p, blk, k, value, line);
	else if (k->scope == SCOPE_POLICY)
		note_status(p, line, parse_value(k, value, &p->cfg->policy, &r), &r);
	else if ((k->flags & KF_STORE_NAMES) != 0)
		parse_backends(p, k, value, line);
	else
		note_status(p, line, parse_value(k, value, p->cfg, &r), &r);
}

/* Walks the buffer one line at a time through the bounded reader. */
static void parse_buffer(struct parser *p, const char *buf, size_t len)
{
	char text[NTLMD_CONFIG_MAX_LINE + 1];
	struct ntlm_reader rd;
	unsigned line = 0;

	ntlm_reader_init(&rd, buf, len);
	while (ntlm_reader_left(&rd) > 0 && p->fatal == NTLM_OK) {
		size_t left = ntlm_reader_left(&rd), n;
		const uint8_t *start = rd.data + rd.pos, *nl = memchr(start, '\n', left), *view;

		n = nl != NULL ? (size_t)(nl - start) : left;
		line++;
		if (ntlm_read_view(&rd, n, &view) != NTLM_OK ||
		    (nl != NULL && ntlm_reader_skip(&rd, 1) != NTLM_OK)) {
			p->fatal = NTLM_ERR_INTERNAL;
			return;
		}
		if (n > 0 && view[n - 1] == '\r')
			n--;
		if (n > NTLMD_CONFIG_MAX_LINE) {
			add_error(p, line, "line longer than %u bytes", NTLMD_CONFIG_MAX_LINE);
			continue;
		}
		if (n > 0) /* an empty line may have no view */
			memcpy(text, view, n);
		text[n] = '\0';
		parse_line(p, line, text, n);
	}
}

static size_t key_index(const char *name)
{
	return (size_t)(find_key(name) - keys);
}

/* The services: the final global policy with each block's overrides. */
static void build_services(struct parser *p)
{
	struct ntlmd_config *cfg = p->cfg;
	size_t lanman = key_index("lanman_auth");
	struct reason r = {""};

	cfg->services = calloc(p->n_blocks + 1, sizeof(*cfg->services));
	if (cfg->services == NULL) {
		p->fatal = NTLM_ERR_NO_MEMORY;
		return;
	}
	for (size_t i = 0; i < p->n_blocks && p->fatal == NTLM_OK; i++) {
		const struct block *b = &p->blocks[i];
		struct ntlmd_service *svc = &cfg->services[cfg->n_services];
		if (b->name == NULL)
			continue;
		if (policy_copy(&svc->policy, &cfg->policy) != NTLM_OK) {
			p->fatal = NTLM_ERR_NO_MEMORY;
			return;
		}
		svc->name = strdup(b->name);
		cfg->n_services++;
		if (svc->name == NULL)
			p->fatal = NTLM_ERR_NO_MEMORY;
		for (size_t j = 0; j < b->n_overrides && p->fatal == NTLM_OK; j++) {
			enum ntlm_status st =
			    parse_value(b->overrides[j].key, b->overrides[j].value, &svc->policy, &r);
			/* checked when read: only memory can fail now */
			if (st != NTLM_OK)
				p->fatal = st == NTLM_ERR_NO_MEMORY ? st : NTLM_ERR_INTERNAL;
		}
		if (lanman_rule_ok(&svc->policy))
			continue;
		if (b->seen[lanman] != 0)
			add_error(p, b->seen[lanman], LANMAN_RULE_REASON " (service %.60s)", b->name);
		else
			svc->policy.lanman_auth = false; /* inherited, but this service refuses NTLMv1 */
	}
}

/* max_pending_challenges_per_uid defaults to a tenth of max_challenges
 * and may not exceed it. */
static void pending_default(struct parser *p)
{
	struct ntlmd_config *cfg = p->cfg;
	unsigned line = p->seen[key_index("max_pending_challenges_per_uid")];

	if (line == 0)
		cfg->max_pending_challenges_per_uid =
		    cfg->max_challenges / 10 > 0 ? cfg->max_challenges / 10 : 1;
	else if (cfg->max_pending_challenges_per_uid > cfg->max_challenges)
		add_error(p, line, "max_pending_challenges_per_uid: %u is more than max_challenges (%u)",
		          cfg->max_pending_challenges_per_uid, cfg->max_challenges);
}

/* max_pending_challenges_per_address defaults to 1000, or to
 * max_pending_challenges_per_uid if that is smaller, and may not exceed
 * it. */
static void pending_address_default(struct parser *p)
{
	struct ntlmd_config *cfg = p->cfg;
	unsigned line = p->seen[key_index("max_pending_challenges_per_address")];
	unsigned per_uid = cfg->max_pending_challenges_per_uid;

	if (line == 0)
		cfg->max_pending_challenges_per_address = per_uid < NTLMD_DEFAULT_MAX_PENDING_PER_ADDRESS
		                                              ? per_uid
		                                              : NTLMD_DEFAULT_MAX_PENDING_PER_ADDRESS;
	else if (cfg->max_pending_challenges_per_address > per_uid)
		add_error(
		    p, line,
		    "max_pending_challenges_per_address: %u is more than max_pending_challenges_per_uid (%u)",
		    cfg->max_pending_challenges_per_address, per_uid);
}

static void finish(struct parser *p)
{
	unsigned given = 0;
	static const struct {
		const char *key;
		unsigned bit;
	} names[] = {
	    {"netbios_name", NAME_NB_COMPUTER},
	    {"netbios_domain", NAME_NB_DOMAIN},
	    {"dns_domain", NAME_DNS_DOMAIN},
	    {"dns_tree", NAME_DNS_TREE},
	};

	if (!lanman_rule_ok(&p->cfg->policy))
		add_error(p, p->seen[key_index("lanman_auth")], LANMAN_RULE_REASON);
	pending_default(p);
	pending_address_default(p);
	build_services(p);
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		given |= p->seen[key_index(names[i].key)] != 0 ? names[i].bit : 0;
	if (p->fatal == NTLM_OK && derive_names(p->cfg, given) != NTLM_OK)
		p->fatal = NTLM_ERR_NO_MEMORY;
}

enum ntlm_status ntlmd_config_load(const char *path, struct ntlmd_config *cfg,
                                   struct ntlmd_config_error *errors, size_t max_errors, size_t *ret_n_errors)
{
	return ntlmd_config_load_stores(path, default_stores, ARRAY_LEN(default_stores), cfg, errors,
	                                max_errors, ret_n_errors);
}

enum ntlm_status ntlmd_config_load_stores(const char *path, const struct ntlmd_config_store *const *stores,
                                          size_t n_stores, struct ntlmd_config *cfg,
                                          struct ntlmd_config_error *errors, size_t max_errors,
                                          size_t *ret_n_errors)
{
	struct parser p = {.cfg = cfg,
	                   .errors = errors,
	                   .max_errors = errors != NULL ? max_errors : 0,
	                   .stores = stores,
	                   .n_stores = n_stores};
	char *buf = NULL;
	size_t len = 0;
	enum ntlm_status st;

	if (ret_n_errors != NULL)
		*ret_n_errors = 0;
	if (path == NULL || cfg == NULL || stores == NULL || n_stores == 0 ||
	    n_stores > NTLMD_CONFIG_MAX_STORES || !stores_fit(stores, n_stores))
		return NTLM_ERR_INVALID_ARGUMENT;
	ntlmd_config_clear(cfg);
	st = ntlmd_config_init(cfg);
	if (st != NTLM_OK)
		goto out;
	cfg->path = strdup(path);
	if (cfg->path == NULL) {
		st = NTLM_ERR_NO_MEMORY;
		goto out;
	}
	st = read_file(&p, path, &buf, &len);
	if (st != NTLM_OK)
		goto out;
	parse_buffer(&p, buf, len);
	if (p.fatal == NTLM_OK)
		finish(&p);
	st = p.fatal != NTLM_OK ? p.fatal : p.n_errors > 0 ? NTLM_ERR_CONFIG : NTLM_OK;
out:
	free(buf);
	free_blocks(&p);
	if (st != NTLM_OK)
		ntlmd_config_clear(cfg);
	if (ret_n_errors != NULL)
		*ret_n_errors = p.n_errors;
	return st;
}

/* ------------------------------------------------------------------ */
/* The stores' keys                                                    */
/* ------------------------------------------------------------------ */

void ntlmd_config_report_add(struct ntlmd_config_report *rep, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (rep == NULL)
		return;
	if (rep->errs != NULL && rep->n < rep->max) {
		rep->errs[rep->n].line = line;
		va_start(ap, fmt);
		vsnprintf(rep->errs[rep->n].reason, sizeof(rep->errs[rep->n].reason), fmt, ap);
		va_end(ap);
	}
	rep->n++;
}

/* RFC 4512 1.4: descr = ALPHA *(ALPHA / DIGIT / "-"), options after ';'. */
bool ntlmd_config_is_attribute_name(const char *s)
{
	static const char rest[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-;";

	return s != NULL && isalpha((unsigned char)s[0]) && isascii((unsigned char)s[0]) &&
	       strspn(s, rest) == strlen(s);
}

/* The parser's type of each store type (NTLMD_CONF_CUSTOM has none). */
static const enum key_type store_types[] = {
    [NTLMD_CONF_STRING] = T_TEXT,    [NTLMD_CONF_STRINGS] = T_STRV,  [NTLMD_CONF_WORDS] = T_WORDS,
    [NTLMD_CONF_NUMBER] = T_UINT,    [NTLMD_CONF_BOOL] = T_BOOL,     [NTLMD_CONF_ENUM] = T_WORD,
    [NTLMD_CONF_ATTRIBUTE] = T_ATTR, [NTLMD_CONF_FILTER] = T_FILTER, [NTLMD_CONF_FILE] = T_FILE,
    [NTLMD_CONF_DIRECTORY] = T_DIR,
};
_Static_assert(ARRAY_LEN(store_types) == NTLMD_CONF_CUSTOM, "a parser type for each store type");

/* A store's key as the one parser of ntlmd.conf reads it. */
static struct key_def store_key_def(const struct ntlmd_config_store_key *sk)
{
	struct key_def k = {.name = sk->name,
	                    .scope = SCOPE_GLOBAL,
	                    .type = store_types[sk->type],
	                    .off = sk->off,
	                    .min = sk->min,
	                    .max = sk->max};

	if (sk->type == NTLMD_CONF_STRING && k.max == 0)
		k.max = NTLMD_CONFIG_MAX_LINE;
	if (sk->type == NTLMD_CONF_BOOL) {
		k.words = store_bool_words;
		k.n_words = ARRAY_LEN(store_bool_words);
	} else if (sk->type == NTLMD_CONF_ENUM) {
		k.words = sk->words;
		while (sk->words[k.n_words].name != NULL)
			k.n_words++;
	}
	return k;
}

static const struct ntlmd_config_store_key *store_key(const struct ntlmd_config_store *store,
                                                      const char *name)
{
	for (size_t i = 0; store->keys != NULL && store->keys[i].name != NULL; i++)
		if (strcmp(store->keys[i].name, name) == 0)
			return &store->keys[i];
	return NULL;
}

/* One line's value of a store's key into conf: its hook, or its type. */
static enum ntlm_status parse_store_value(const struct ntlmd_config_store_key *sk, const char *value,
                                          unsigned line, void *conf, struct ntlmd_config_report *rep)
{
	struct key_def k;
	struct reason r = {""};
	enum ntlm_status st;

	if (sk->type == NTLMD_CONF_CUSTOM)
		return sk->hook(conf, value, line, rep);
	k = store_key_def(sk);
	st = parse_value(&k, value, conf, &r);
	if (st != NTLM_ERR_CONFIG)
		return st;
	ntlmd_config_report_add(rep, line, "%s", r.text);
	return NTLM_OK;
}

enum ntlm_status ntlmd_config_store_parse(const struct ntlmd_config *cfg,
                                          const struct ntlmd_config_store *store, void *conf,
                                          struct ntlmd_config_report *rep)
{
	if (cfg == NULL || conf == NULL || rep == NULL || !store_fits(store))
		return NTLM_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; cfg->extra_keys != NULL && cfg->extra_keys[i] != NULL; i++) {
		const struct ntlmd_config_store_key *sk = store_key(store, cfg->extra_keys[i]);
		enum ntlm_status st;

		if (sk == NULL || sk->refused != NULL) /* another store's key */
			continue;
		st = parse_store_value(sk, cfg->extra_values[i], cfg->extra_lines[i], conf, rep);
		if (st == NTLM_ERR_NO_MEMORY)
			rep->oom = true;
		if (st != NTLM_OK)
			return st;
	}
	return NTLM_OK;
}

unsigned ntlmd_config_store_key_line(const struct ntlmd_config *cfg, const char *key)
{
	unsigned line = 0;

	for (size_t i = 0;
	     cfg != NULL && key != NULL && cfg->extra_keys != NULL && cfg->extra_keys[i] != NULL; i++)
		if (strcmp(cfg->extra_keys[i], key) == 0)
			line = cfg->extra_lines[i];
	return line;
}

/* ------------------------------------------------------------------ */
/* ntlmtool -o, look-ups and the policy helpers                        */
/* ------------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static enum ntlm_status set_error(struct ntlmd_config_error *err,
                                                                        const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->line = 0;
		va_start(ap, fmt);
		vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
		va_end(ap);
	}
	return NTLM_ERR_CONFIG;
}

enum ntlm_status ntlmd_config_set_policy(struct ntlmd_config *cfg, const char *key, const char *value,
                                         struct ntlmd_config_error *err)
{
	const struct key_def *k;
	struct ntlmd_policy tmp;
	struct reason r = {""};
	char text[NTLMD_CONFIG_MAX_LINE + 1];
	size_t len;
	const char *v;
	enum ntlm_status st;

	if (cfg == NULL || key == NULL || value == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	k = find_key(key);
	if (k == NULL || k->scope != SCOPE_POLICY) {
		if (k != NULL && k->scope == SCOPE_REFUSED)
			return set_error(err, "%s", k->help);
		if (quotable_key(key))
			return set_error(err, "'%s' is not a policy key", key);
		return set_error(err, "not a policy key");
	}
	for (v = value; is_blank(*v); v++)
		;
	len = strlen(v);
	while (len > 0 && is_blank(v[len - 1]))
		len--;
	if (len == 0)
		return set_error(err, "%s: missing value", key);
	if (len > NTLMD_CONFIG_MAX_LINE)
		return set_error(err, "%s: value longer than %u bytes", key, NTLMD_CONFIG_MAX_LINE);
	if (control_char(v, len) >= 0)
		return set_error(err, "%s: control character in the value", key);
	memcpy(text, v, len);
	text[len] = '\0';

	st = policy_copy(&tmp, &cfg->policy);
	if (st != NTLM_OK)
		return st;
	st = parse_value(k, text, &tmp, &r);
	if (st == NTLM_OK && !lanman_rule_ok(&tmp))
		st = bad(&r, LANMAN_RULE_REASON);
	if (st != NTLM_OK) {
		policy_clear(&tmp);
		return st == NTLM_ERR_CONFIG ? set_error(err, "%s", r.text) : st;
	}
	policy_clear(&cfg->policy);
	cfg->policy = tmp;
	return NTLM_OK;
}

const struct ntlmd_policy *ntlmd_config_policy(const struct ntlmd_config *cfg, const char *service)
{
	if (cfg == NULL)
		return NULL;
	for (size_t i = 0; service != NULL && i < cfg->n_services; i++) {
		if (strcmp(cfg->services[i].name, service) == 0)
			return &cfg->services[i].policy;
	}
	return &cfg->policy;
}

void ntlmd_policy_to_ntlm(const struct ntlmd_policy *policy, bool mschap, struct ntlm_policy *ret)
{
	bool enabled, v1;

	ntlm_policy_init(ret);
	if (policy == NULL || ret == NULL)
		return;
	enabled = policy->ntlm_auth != NTLMD_NTLM_DISABLED;
	v1 = policy->ntlm_auth == NTLMD_NTLMV1_PERMITTED ||
	     (policy->ntlm_auth == NTLMD_MSCHAPV2_AND_NTLMV2_ONLY && mschap);
	ret->allow_ntlmv2 = enabled;
	ret->allow_lmv2 = enabled && policy->lmv2;
	ret->allow_ntlmv1 = v1;
	ret->allow_ntlmv1_ess = v1;
	ret->allow_lm = policy->ntlm_auth == NTLMD_NTLMV1_PERMITTED && policy->lanman_auth;
	ret->allow_anonymous = enabled && policy->anonymous;
	ret->require_mic = policy->require_mic;
	ret->channel_bindings = policy->channel_bindings;
	ret->target_names = (const char *const *)policy->target_names;
	ret->allow_unverified_spn = policy->allow_unverified_spn;
	ret->max_clock_skew = policy->max_clock_skew;
	ret->required_flags = policy->required_flags;
	ret->oem_charset = policy->oem_charset;
}

bool ntlmd_policy_accepts_domain(const struct ntlmd_policy *policy, const char *domain)
{
	if (policy == NULL || policy->accepted_domains == NULL)
		return true;
	for (size_t i = 0; policy->accepted_domains[i] != NULL; i++) {
		if (strcmp(policy->accepted_domains[i], "*") == 0 ||
		    ascii_eq_nocase(policy->accepted_domains[i], domain != NULL ? domain : ""))
			return true;
	}
	return false;
}

bool ntlmd_config_accepts_domain(const struct ntlmd_config *cfg, const struct ntlmd_policy *policy,
                                 const char *domain)
{
	const char *own[3] = {NULL, NULL, NULL};

	if (domain == NULL)
		domain = "";
	if (policy != NULL && policy->accepted_domains != NULL)
		return ntlmd_policy_accepts_domain(policy, domain);
	if (domain[0] == '\0')
		return true;
	if (cfg != NULL) {
		own[0] = cfg->netbios_domain;
		own[1] = cfg->dns_domain;
		own[2] = cfg->netbios_name;
	}
	for (size_t i = 0; i < 3; i++)
		if (own[i] != NULL && ascii_eq_nocase(own[i], domain))
			return true;
	return false;
}

/* out = a, sep, b and a NUL (out holds alen + blen + 2 bytes). */
static void join_names(char *out, const char *a, size_t alen, char sep, const char *b, size_t blen)
{
	memcpy(out, a, alen);
	out[alen] = sep;
	memcpy(out + alen + 1, b, blen + 1);
}

char *ntlmd_policy_format_user(const struct ntlmd_policy *policy, const char *domain, const char *user)
{
	size_t ulen, dlen;
	char *out;

	if (policy == NULL || user == NULL)
		return NULL;
	ulen = strlen(user);
	dlen = domain != NULL ? strlen(domain) : 0;
	if (policy->user_name_format == NTLMD_NAME_USER || dlen == 0) {
		out = strdup(user);
	} else if ((out = malloc(ulen + dlen + 2)) == NULL) {
		return NULL;
	} else if (policy->user_name_format == NTLMD_NAME_USER_AT_DOMAIN) {
		join_names(out, user, ulen, '@', domain, dlen);
	} else {
		join_names(out, domain, dlen,
		           policy->domain_separator != '\0' ? policy->domain_separator : '\\', user, ulen);
	}
	if (out != NULL)
		ascii_case(out, policy->user_name_case);
	return out;
}
