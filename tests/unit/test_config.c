/*
 * test_config.c: ntlmd.conf: defaults, every key valid and invalid, service
 * blocks, error collection with line numbers, the size caps, the policy
 * mapping (checked field by field and by real exchanges), user name
 * formatting, ntlmtool -o, and the example file of the source tree.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

/* By path: "config.h" on the include path is autoconf's header. */
#include "ntlmd_conf.h"
#include "registry.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define MAX_ERRORS 32

struct loaded {
	struct ntlmd_config cfg;
	struct ntlmd_config_error errors[MAX_ERRORS];
	size_t n_errors;
	enum ntlm_status status;
};

/* Writes len bytes to a new temporary file; returns its malloc'd path. */
static char *write_temp(const void *data, size_t len)
{
	const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	size_t n = strlen(dir) + sizeof("/test_config.XXXXXX");
	char *path = malloc(n);
	const char *p = data;
	int fd;

	ck_assert_ptr_nonnull(path);
	snprintf(path, n, "%s/test_config.XXXXXX", dir);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		ck_assert_int_gt(w, 0);
		p += w;
		len -= (size_t)w;
	}
	ck_assert_int_eq(close(fd), 0);
	return path;
}

static void load_bytes(const void *data, size_t len, struct loaded *l)
{
	char *path = write_temp(data, len);

	memset(l, 0, sizeof(*l));
	l->status = ntlmd_stores_config_load(path, &l->cfg, l->errors, MAX_ERRORS, &l->n_errors);
	unlink(path);
	free(path);
}

static void load_text(const char *text, struct loaded *l)
{
	load_bytes(text, strlen(text), l);
}

/* Loads text that must parse cleanly. */
static void load_ok(const char *text, struct loaded *l)
{
	load_text(text, l);
	ck_assert_msg(l->status == NTLM_OK, "load: %s, %zu errors, first: line %u: %s",
	              ntlm_status_name(l->status), l->n_errors, l->n_errors ? l->errors[0].line : 0,
	              l->n_errors ? l->errors[0].reason : "");
	ck_assert_uint_eq(l->n_errors, 0);
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		if (b[i] != 0)
			return false;
	}
	return true;
}

/* Asserts a failed load with exactly one error, on line, saying want. */
static void assert_one_error(const struct loaded *l, unsigned line, const char *want)
{
	ck_assert_status(l->status, NTLM_ERR_CONFIG);
	ck_assert_msg(l->n_errors == 1, "%zu errors, first: line %u: %s", l->n_errors,
	              l->n_errors ? l->errors[0].line : 0, l->n_errors ? l->errors[0].reason : "");
	ck_assert_uint_eq(l->errors[0].line, line);
	ck_assert_msg(strstr(l->errors[0].reason, want) != NULL, "reason '%s' lacks '%s'",
	              l->errors[0].reason, want);
	ck_assert_msg(all_zero(&l->cfg, sizeof(l->cfg)), "cfg not cleared after a failed load");
}

static size_t strv_count(char *const *v)
{
	size_t n = 0;
	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

/* Asserts a NULL-terminated list equals the space-separated words. */
static void assert_list(char *const *v, const char *words)
{
	char buf[512];
	size_t i = 0;

	snprintf(buf, sizeof(buf), "%s", words);
	for (char *save = NULL, *w = strtok_r(buf, " ", &save); w != NULL;
	     w = strtok_r(NULL, " ", &save), i++) {
		ck_assert_ptr_nonnull(v);
		ck_assert_ptr_nonnull(v[i]);
		ck_assert_str_eq(v[i], w);
	}
	ck_assert_uint_eq(strv_count(v), i);
}

/* ---- defaults ---- */

static void assert_default_policy(const struct ntlmd_policy *p)
{
	ck_assert_int_eq(p->ntlm_auth, NTLMD_NTLMV2_ONLY);
	ck_assert(!p->lanman_auth);
	ck_assert(!p->lmv2);
	ck_assert(!p->anonymous);
	ck_assert(!p->require_mic);
	ck_assert_int_eq(p->channel_bindings, NTLM_CB_WHEN_SUPPORTED);
	ck_assert_ptr_null(p->target_names);
	ck_assert(!p->allow_unverified_spn);
	ck_assert_uint_eq(p->max_clock_skew, 1800);
	ck_assert_uint_eq(p->required_flags, 0);
	ck_assert_int_eq(p->oem_charset, NTLM_OEM_CP850);
	ck_assert_ptr_null(p->accepted_domains);
	ck_assert_uint_eq(p->lockout_threshold, 10); /* Windows 11's defaults */
	ck_assert_uint_eq(p->lockout_window, 600);
	ck_assert_uint_eq(p->lockout_duration, 600);
	ck_assert_int_eq(p->user_name_format, NTLMD_NAME_DOMAIN_USER);
	ck_assert_int_eq(p->user_name_case, NTLMD_CASE_KEEP);
	ck_assert_int_eq(p->domain_separator, '\\');
}

START_TEST(defaults)
{
	struct ntlmd_config cfg;
	char host[300] = "", label[16];
	size_t n;

	ck_assert_status(ntlmd_config_init(&cfg), NTLM_OK);
	assert_default_policy(&cfg.policy);
	ck_assert_ptr_null(cfg.path);
	ck_assert_uint_eq(cfg.n_services, 0);
	ck_assert_str_eq(cfg.socket_path, NTLMD_DEFAULT_SOCKET);
	ck_assert_ptr_null(cfg.user);
	ck_assert_ptr_null(cfg.group);
	ck_assert_ptr_null(cfg.allow_users);
	ck_assert_ptr_null(cfg.allow_groups);
	assert_list(cfg.backends, "files");
	ck_assert_str_eq(cfg.hash_file, NTLMD_DEFAULT_HASH_FILE);
	ck_assert_uint_eq(cfg.challenge_lifetime, 300);
	ck_assert_uint_eq(cfg.max_connections, 256);
	ck_assert_uint_eq(cfg.read_timeout_ms, 5000);
	ck_assert_uint_eq(cfg.idle_timeout_ms, 30000);
	ck_assert_uint_eq(cfg.max_requests_per_connection, 10000);
	ck_assert_uint_eq(cfg.max_challenges, 4000000);
	ck_assert_uint_eq(cfg.max_pending_challenges_per_uid, 400000);
	ck_assert_uint_eq(cfg.max_pending_challenges_per_address, 1000);
	ck_assert_uint_eq(cfg.pending_challenge_lifetime, 60);
	ck_assert_ptr_null(cfg.audit_json);
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
	ck_assert_ptr_nonnull(cfg.extra_keys);
	ck_assert_ptr_null(cfg.extra_keys[0]);
	ck_assert_ptr_null(cfg.extra_values[0]);

	/* names from the host name */
	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	ck_assert_str_eq(cfg.dns_name, host);
	n = strcspn(host, ".");
	n = n > 15 ? 15 : n;
	for (size_t i = 0; i < n; i++)
		label[i] = (char)toupper((unsigned char)host[i]);
	label[n] = '\0';
	ck_assert_str_eq(cfg.netbios_name, label);
	if (strchr(host, '.') != NULL) {
		ck_assert_str_eq(cfg.dns_domain, strchr(host, '.') + 1);
		ck_assert_str_eq(cfg.dns_tree, cfg.dns_domain);
	} else {
		ck_assert_ptr_null(cfg.dns_domain);
		ck_assert_str_eq(cfg.netbios_domain, cfg.netbios_name);
	}
	ntlmd_config_clear(&cfg);
	ck_assert(all_zero(&cfg, sizeof(cfg)));
	ntlmd_config_clear(&cfg); /* twice is fine */
	ntlmd_config_clear(NULL);
	ck_assert_status(ntlmd_config_init(NULL), NTLM_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(empty_file_gives_defaults)
{
	struct loaded l;

	load_ok("# nothing but comments\n\n   \t\n", &l);
	assert_default_policy(&l.cfg.policy);
	ck_assert_ptr_nonnull(l.cfg.path);
	assert_list(l.cfg.backends, "files");
	ntlmd_config_clear(&l.cfg);
	load_ok("", &l);
	ntlmd_config_clear(&l.cfg);
}
END_TEST

/* ---- every key with a valid value ---- */

static const char every_key[] = "ntlm_auth = ntlmv1-permitted\n"
                                "lanman_auth yes\n"
                                "lmv2 yes\n"
                                "anonymous yes\n"
                                "require_mic yes\n"
                                "channel_bindings required\n"
                                "target_names HTTP/www.example.com host/www.example.com\n"
                                "allow_unverified_spn yes\n"
                                "max_clock_skew 300\n"
                                "required_flags 128 56 key-exch sign seal ess always-sign version unicode\n"
                                "accepted_domains EXAMPLE example.com\n"
                                "lockout_threshold 5\n"
                                "lockout_window 600\n"
                                "lockout_duration 900\n"
                                "user_name_format user@domain\n"
                                "user_name_case lower\n"
                                "domain_separator +\n"
                                "socket /run/test/ntlmd.sock\n"
                                "user ntlmd\n"
                                "group ntlmgrp\n"
                                "allow_users root 13\n"
                                "allow_groups proxy freerad\n"
                                "backends ldap files\n"
                                "hash_file /etc/test/smbpasswd\n"
                                "netbios_name web01\n"
                                "netbios_domain corp\n"
                                "dns_name web01.corp.example.com\n"
                                "dns_domain corp.example.com\n"
                                "dns_tree example.com\n"
                                "domain_sid s-1-5-21-0001004336348-1177238915-682003330\n"
                                "challenge_lifetime 120\n"
                                "max_connections 64\n"
                                "read_timeout 2000\n"
                                "idle_timeout 1500\n"
                                "max_requests_per_connection 7\n"
                                "max_challenges 5000000\n"
                                "max_pending_challenges_per_uid 20000\n"
                                "max_pending_challenges_per_address 300\n"
                                "pending_challenge_lifetime 30\n"
                                "audit_json /var/log/ntlmd/audit.json\n"
                                "log_level debug\n";

START_TEST(every_key_valid)
{
	struct loaded l;
	const struct ntlmd_policy *p = &l.cfg.policy;

	load_ok(every_key, &l);
	ck_assert_int_eq(p->ntlm_auth, NTLMD_NTLMV1_PERMITTED);
	ck_assert(p->lanman_auth);
	ck_assert(p->lmv2);
	ck_assert(p->anonymous);
	ck_assert(p->require_mic);
	ck_assert_int_eq(p->channel_bindings, NTLM_CB_REQUIRED);
	assert_list(p->target_names, "HTTP/www.example.com host/www.example.com");
	ck_assert(p->allow_unverified_spn);
	ck_assert_uint_eq(p->max_clock_skew, 300);
	ck_assert_uint_eq(p->required_flags,
	                  NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_56 | NTLM_NEGOTIATE_KEY_EXCH |
	                      NTLM_NEGOTIATE_SIGN | NTLM_NEGOTIATE_SEAL |
	                      NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLM_NEGOTIATE_ALWAYS_SIGN |
	                      NTLM_NEGOTIATE_VERSION | NTLM_NEGOTIATE_UNICODE);
	assert_list(p->accepted_domains, "EXAMPLE example.com");
	ck_assert_uint_eq(p->lockout_threshold, 5);
	ck_assert_uint_eq(p->lockout_window, 600);
	ck_assert_uint_eq(p->lockout_duration, 900);
	ck_assert_int_eq(p->user_name_format, NTLMD_NAME_USER_AT_DOMAIN);
	ck_assert_int_eq(p->user_name_case, NTLMD_CASE_LOWER);
	ck_assert_int_eq(p->domain_separator, '+');
	ck_assert_str_eq(l.cfg.socket_path, "/run/test/ntlmd.sock");
	ck_assert_str_eq(l.cfg.user, "ntlmd");
	ck_assert_str_eq(l.cfg.group, "ntlmgrp");
	assert_list(l.cfg.allow_users, "root 13");
	assert_list(l.cfg.allow_groups, "proxy freerad");
	assert_list(l.cfg.backends, "ldap files");
	ck_assert_str_eq(l.cfg.hash_file, "/etc/test/smbpasswd");
	ck_assert_str_eq(l.cfg.netbios_name, "WEB01"); /* NetBIOS names are upper-cased */
	ck_assert_str_eq(l.cfg.netbios_domain, "CORP");
	ck_assert_str_eq(l.cfg.dns_name, "web01.corp.example.com");
	ck_assert_str_eq(l.cfg.dns_domain, "corp.example.com");
	ck_assert_str_eq(l.cfg.dns_tree, "example.com");
	/* stored canonical: "S-", no leading zeros */
	ck_assert_str_eq(l.cfg.domain_sid, "S-1-5-21-1004336348-1177238915-682003330");
	ck_assert_uint_eq(l.cfg.challenge_lifetime, 120);
	ck_assert_uint_eq(l.cfg.max_connections, 64);
	ck_assert_uint_eq(l.cfg.read_timeout_ms, 2000);
	ck_assert_uint_eq(l.cfg.idle_timeout_ms, 1500);
	ck_assert_uint_eq(l.cfg.max_requests_per_connection, 7);
	ck_assert_uint_eq(l.cfg.max_challenges, 5000000);
	ck_assert_uint_eq(l.cfg.max_pending_challenges_per_uid, 20000);
	ck_assert_uint_eq(l.cfg.max_pending_challenges_per_address, 300);
	ck_assert_uint_eq(l.cfg.pending_challenge_lifetime, 30);
	ck_assert_str_eq(l.cfg.audit_json, "/var/log/ntlmd/audit.json");
	ck_assert_int_eq(l.cfg.log_level, LOG_DEBUG);
	ck_assert_uint_eq(l.cfg.n_services, 0);
	ntlmd_config_clear(&l.cfg);
}
END_TEST

/* Every word of every word-valued key, one line at a time. */
typedef uint64_t (*getter)(const struct ntlmd_config *);
#define GETTER(name, expr)                                 \
	static uint64_t name(const struct ntlmd_config *c) \
	{                                                  \
		return (uint64_t)(expr);                   \
	}
GETTER(get_ntlm_auth, c->policy.ntlm_auth)
GETTER(get_cb, c->policy.channel_bindings)
GETTER(get_format, c->policy.user_name_format)
GETTER(get_case, c->policy.user_name_case)
GETTER(get_log, c->log_level)
GETTER(get_flags, c->policy.required_flags)
GETTER(get_lmv2, c->policy.lmv2)
GETTER(get_anonymous, c->policy.anonymous)
GETTER(get_mic, c->policy.require_mic)
GETTER(get_unverified, c->policy.allow_unverified_spn)
GETTER(get_skew, c->policy.max_clock_skew)
GETTER(get_charset, c->policy.oem_charset)
GETTER(get_threshold, c->policy.lockout_threshold)
GETTER(get_separator, (unsigned char)c->policy.domain_separator)
GETTER(get_max_challenges, c->max_challenges)
GETTER(get_max_pending, c->max_pending_challenges_per_uid)
GETTER(get_max_pending_address, c->max_pending_challenges_per_address)
GETTER(get_pending_lifetime, c->pending_challenge_lifetime)

static const struct {
	const char *text;
	getter get;
	uint64_t want;
} word_cases[] = {
    {"ntlm_auth ntlmv2-only", get_ntlm_auth, NTLMD_NTLMV2_ONLY},
    {"ntlm_auth ntlmv1-permitted", get_ntlm_auth, NTLMD_NTLMV1_PERMITTED},
    {"ntlm_auth mschapv2-and-ntlmv2-only", get_ntlm_auth, NTLMD_MSCHAPV2_AND_NTLMV2_ONLY},
    {"ntlm_auth disabled", get_ntlm_auth, NTLMD_NTLM_DISABLED},
    {"ntlm_auth NTLMv1-Permitted", get_ntlm_auth, NTLMD_NTLMV1_PERMITTED},
    {"channel_bindings off", get_cb, NTLM_CB_OFF},
    {"channel_bindings when-supported", get_cb, NTLM_CB_WHEN_SUPPORTED},
    {"channel_bindings required", get_cb, NTLM_CB_REQUIRED},
    {"user_name_format domain\\user", get_format, NTLMD_NAME_DOMAIN_USER},
    {"user_name_format user", get_format, NTLMD_NAME_USER},
    {"user_name_format user@domain", get_format, NTLMD_NAME_USER_AT_DOMAIN},
    {"user_name_case keep", get_case, NTLMD_CASE_KEEP},
    {"user_name_case lower", get_case, NTLMD_CASE_LOWER},
    {"user_name_case upper", get_case, NTLMD_CASE_UPPER},
    {"log_level error", get_log, LOG_ERR},
    {"log_level warning", get_log, LOG_WARNING},
    {"log_level info", get_log, LOG_INFO},
    {"log_level debug", get_log, LOG_DEBUG},
    {"oem_charset CP850", get_charset, NTLM_OEM_CP850},
    {"oem_charset cp1252", get_charset, NTLM_OEM_CP1252},
    {"oem_charset ISO-8859-1", get_charset, NTLM_OEM_ISO8859_1},
    {"oem_charset iso-8859-15", get_charset, NTLM_OEM_ISO8859_15},
    {"required_flags 128", get_flags, NTLM_NEGOTIATE_128},
    {"required_flags 56", get_flags, NTLM_NEGOTIATE_56},
    {"required_flags key-exch", get_flags, NTLM_NEGOTIATE_KEY_EXCH},
    {"required_flags sign", get_flags, NTLM_NEGOTIATE_SIGN},
    {"required_flags seal", get_flags, NTLM_NEGOTIATE_SEAL},
    {"required_flags ess", get_flags, NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY},
    {"required_flags always-sign", get_flags, NTLM_NEGOTIATE_ALWAYS_SIGN},
    {"required_flags version", get_flags, NTLM_NEGOTIATE_VERSION},
    {"required_flags unicode", get_flags, NTLM_NEGOTIATE_UNICODE},
    {"required_flags none", get_flags, 0},
    {"lmv2 yes", get_lmv2, 1},
    {"lmv2 no", get_lmv2, 0},
    {"anonymous YES", get_anonymous, 1},
    {"require_mic yes", get_mic, 1},
    {"allow_unverified_spn yes", get_unverified, 1},
    {"max_clock_skew 0", get_skew, 0},
    {"max_clock_skew 31536000", get_skew, 31536000},
    {"max_clock_skew 000042", get_skew, 42},
    {"lockout_threshold 0", get_threshold, 0},
    {"lockout_threshold 1000000", get_threshold, 1000000},
    {"domain_separator \\", get_separator, '\\'},
    {"domain_separator /", get_separator, '/'},
    {"max_challenges 1000", get_max_challenges, 1000},
    {"max_challenges 100000000", get_max_challenges, 100000000},
    {"max_challenges 2000", get_max_pending, 200}, /* a tenth by default */
    {"max_pending_challenges_per_uid 7", get_max_pending, 7},
    {"max_challenges 100000", get_max_pending_address, 1000}, /* 1000 by default */
    {"max_challenges 2000", get_max_pending_address, 200},    /* ... or the uid's limit */
    {"max_pending_challenges_per_uid 9", get_max_pending_address, 9},
    {"max_pending_challenges_per_address 1", get_max_pending_address, 1},
    {"max_pending_challenges_per_address 400000", get_max_pending_address, 400000},
    {"pending_challenge_lifetime 1", get_pending_lifetime, 1},
    {"pending_challenge_lifetime 86400", get_pending_lifetime, 86400},
};

START_TEST(word_values)
{
	struct loaded l;
	char text[200];

	snprintf(text, sizeof(text), "%s\n", word_cases[_i].text);
	load_ok(text, &l);
	ck_assert_msg(word_cases[_i].get(&l.cfg) == word_cases[_i].want, "%s: got %llu, want %llu",
	              word_cases[_i].text, (unsigned long long)word_cases[_i].get(&l.cfg),
	              (unsigned long long)word_cases[_i].want);
	ntlmd_config_clear(&l.cfg);
}
END_TEST

START_TEST(line_forms)
{
	struct loaded l;

	load_ok("ntlm_auth=disabled\r\n"         /* key=value, CRLF */
	        "  lmv2   =   yes   # comment\n" /* blanks around, comment after */
	        "\tanonymous\tyes\n"             /* tabs */
	        "target_names HTTP/a#b  # c\n"   /* '#' inside a word is kept */
	        "accepted_domains *\n"           /* '*' = any */
	        "# require_mic yes\n"            /* comment line */
	        "max_clock_skew 60",             /* no final newline */
	        &l);
	ck_assert_int_eq(l.cfg.policy.ntlm_auth, NTLMD_NTLM_DISABLED);
	ck_assert(l.cfg.policy.lmv2);
	ck_assert(l.cfg.policy.anonymous);
	ck_assert(!l.cfg.policy.require_mic);
	assert_list(l.cfg.policy.target_names, "HTTP/a#b");
	assert_list(l.cfg.policy.accepted_domains, "*"); /* kept: explicit, unlike the unset default */
	ck_assert_uint_eq(l.cfg.policy.max_clock_skew, 60);
	ntlmd_config_clear(&l.cfg);

	/* "*" also resets target_names to unchecked, "none" required_flags */
	load_ok("target_names *\nrequired_flags none\nbackends LDAP Files\n", &l);
	ck_assert_ptr_null(l.cfg.policy.target_names);
	ck_assert_uint_eq(l.cfg.policy.required_flags, 0);
	assert_list(l.cfg.backends, "ldap files"); /* canonical spelling */
	ntlmd_config_clear(&l.cfg);
}
END_TEST

/* ---- every key with an invalid value ---- */

static const struct {
	const char *text;
	unsigned line;
	const char *reason;
} bad_cases[] = {
    {"ntlm_auth ntlmv3\n", 1,
     "ntlm_auth: expected ntlmv2-only, ntlmv1-permitted, mschapv2-and-ntlmv2-only or disabled"},
    {"lanman_auth maybe\n", 1, "lanman_auth: expected yes or no"},
    {"lmv2 1\n", 1, "lmv2: expected yes or no"},
    {"anonymous\n", 1, "anonymous: missing value"},
    {"require_mic yes no\n", 1, "require_mic: takes one value"},
    {"channel_bindings require\n", 1, "channel_bindings: expected off, when-supported or required"},
    {"target_names * HTTP/x\n", 1, "target_names: '*' must stand alone"},
    {"target_names HTTP/a HTTP/a\n", 1, "target_names: 'HTTP/a' is listed twice"},
    {"allow_unverified_spn on\n", 1, "allow_unverified_spn: expected yes or no"},
    {"max_clock_skew -1\n", 1, "max_clock_skew: '-1' is not a number"},
    {"max_clock_skew 1e3\n", 1, "is not a number"},
    {"max_clock_skew +5\n", 1, "is not a number"},
    {"max_clock_skew 99999999999999999999999\n", 1, "max_clock_skew: number too large"},
    {"max_clock_skew 18446744073709551616\n", 1, "number too large"},
    {"max_clock_skew 31536001\n", 1, "max_clock_skew: 31536001 is out of range (0 to 31536000)"},
    {"required_flags sign bogus\n", 1, "required_flags: expected 128, 56, key-exch"},
    {"oem_charset UTF-8\n", 1, "oem_charset: expected CP850, CP1252, ISO-8859-1 or ISO-8859-15"},
    {"required_flags none sign\n", 1, "not 'none'"},
    {"required_flags sign SIGN\n", 1, "'sign' is listed twice"},
    {"accepted_domains A A\n", 1, "accepted_domains: 'A' is listed twice"},
    {"lockout_threshold 1000001\n", 1, "lockout_threshold: 1000001 is out of range"},
    {"lockout_window 0\n", 1, "lockout_window: 0 is out of range (1 to 31536000)"},
    {"lockout_duration x\n", 1, "lockout_duration: 'x' is not a number"},
    {"user_name_format DOMAIN/user\n", 1, "user_name_format: expected domain\\user, user or user@domain"},
    {"user_name_case title\n", 1, "user_name_case: expected keep, lower or upper"},
    {"domain_separator ab\n", 1, "domain_separator: expected one punctuation character"},
    {"domain_separator a\n", 1, "domain_separator: expected one punctuation character"},
    {"socket run/ntlmd.sock\n", 1, "socket: must be an absolute path"},
    {"socket "
     "/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaa\n",
     1, "socket: longer than 107 bytes"},
    {"user a b\n", 1, "user: takes one value"},
    {"group\n", 1, "group: missing value"},
    {"allow_users root root\n", 1, "allow_users: 'root' is listed twice"},
    {"allow_groups\n", 1, "allow_groups: missing value"},
    {"backends files nis\n", 1, "backends: expected files or ldap, not 'nis'"},
    {"backends files files\n", 1, "backends: 'files' is listed twice"},
    {"hash_file smbpasswd\n", 1, "hash_file: must be an absolute path"},
    {"netbios_name TOOLONGNETBIOSNAME\n", 1, "netbios_name: longer than 15 characters"},
    {"netbios_name a.b\n", 1, "netbios_name: character '.' is not allowed"},
    {"netbios_domain A*B\n", 1, "netbios_domain: character '*' is not allowed"},
    {"dns_name -bad.example\n", 1, "dns_name: '-bad.example' is not a DNS name"},
    {"dns_domain a..b\n", 1, "dns_domain: 'a..b' is not a DNS name"},
    {"dns_tree x/y\n", 1, "dns_tree: 'x/y' is not a DNS name"},
    {"challenge_lifetime 0\n", 1, "challenge_lifetime: 0 is out of range (1 to 86400)"},
    {"max_connections 65537\n", 1, "max_connections: 65537 is out of range (1 to 65536)"},
    {"max_challenges 999\n", 1, "max_challenges: 999 is out of range (1000 to 100000000)"},
    {"max_challenges 100000001\n", 1, "max_challenges: 100000001 is out of range (1000 to 100000000)"},
    {"max_pending_challenges_per_uid 0\n", 1,
     "max_pending_challenges_per_uid: 0 is out of range (1 to 100000000)"},
    {"max_challenges 2000\nmax_pending_challenges_per_uid 2001\n", 2,
     "max_pending_challenges_per_uid: 2001 is more than max_challenges (2000)"},
    {"max_pending_challenges_per_address 0\n", 1,
     "max_pending_challenges_per_address: 0 is out of range (1 to 100000000)"},
    {"max_pending_challenges_per_uid 10\nmax_pending_challenges_per_address 11\n", 2,
     "max_pending_challenges_per_address: 11 is more than max_pending_challenges_per_uid (10)"},
    {"max_pending_challenges_per_address 400001\n", 1,
     "max_pending_challenges_per_address: 400001 is more than max_pending_challenges_per_uid (400000)"},
    {"pending_challenge_lifetime 0\n", 1, "pending_challenge_lifetime: 0 is out of range (1 to 86400)"},
    {"pending_challenge_lifetime 86401\n", 1,
     "pending_challenge_lifetime: 86401 is out of range (1 to 86400)"},
    {"read_timeout 600001\n", 1, "read_timeout: 600001 is out of range (1 to 600000)"},
    {"idle_timeout 0\n", 1, "idle_timeout: 0 is out of range (1 to 3600000)"},
    {"idle_timeout 3600001\n", 1, "idle_timeout: 3600001 is out of range (1 to 3600000)"},
    {"idle_timeout 5s\n", 1, "idle_timeout: '5s' is not a number"},
    {"max_requests_per_connection 0\n", 1,
     "max_requests_per_connection: 0 is out of range (1 to 1000000000)"},
    {"audit_json audit.log\n", 1, "audit_json: must be an absolute path"},
    {"domain_sid S-1-5-21-1-2\n", 1, "domain_sid: not a domain SID of the form S-1-5-21-a-b-c"},
    {"domain_sid S-1-5-32-544\n", 1, "domain_sid: not a domain SID of the form S-1-5-21-a-b-c"},
    {"domain_sid S-1-5-21-1-2-3-1000\n", 1, "domain_sid: not a domain SID of the form S-1-5-21-a-b-c"},
    {"domain_sid S-1-5-21-1-2-4294967296\n", 1, "domain_sid: not a SID (a number is too large)"},
    {"domain_sid S-1-5-21--2-3\n", 1, "domain_sid: not a SID (an empty field)"},
    {"domain_sid CORP\n", 1, "domain_sid: not a SID (it does not start with S-)"},
    {"log_level verbose\n", 1, "log_level: expected error, warning, info or debug"},
    {"frobnicate yes\n", 1, "unknown key 'frobnicate'"},
    {"Hunter2!pass\n", 1, "unknown key (the line does not start with a key name)"},
    {"= value\n", 1, "unknown key (the line does not start with a key name)"},
    {"uri\n", 1, "uri: missing value"},
    {"service\n", 1, "service: missing service name"},
    {"service a b\n", 1, "service: takes one name"},
    {"service sshd\nsocket /x\n", 2,
     "socket is a global key: not allowed in the service block opened on line 1"},
    {"service sshd\nlog_level info\n", 2, "log_level is a global key"},
    {"service sshd\nuri ldap://x\n", 2, "uri is a global key"},
    {"service sshd\nrequire_mic yes\nrequire_mic no\n", 3,
     "require_mic: already set on line 2 of this service block"},
    {"# x\nservice sshd\n\nntlm_auth bogus\n", 4, "ntlm_auth: expected"},
    {"service a\nservice a\n", 2, "service a: already opened on line 1"},
    {"ntlm_auth ntlmv2-only\nntlm_auth disabled\n", 2, "ntlm_auth: already set on line 1"},
    {"socket /a\n\nsocket /b\n", 3, "socket: already set on line 1"},
    {"binddn cn=a\nbinddn cn=b\n", 2, "binddn: already set on line 1"},
    {"lanman_auth yes\n", 1, "lanman_auth = yes needs ntlm_auth = ntlmv1-permitted"},
    {"lanman_auth yes\nntlm_auth mschapv2-and-ntlmv2-only\n", 1, "needs ntlm_auth = ntlmv1-permitted"},
    {"ntlm_auth ntlmv1-permitted\nservice s\nntlm_auth ntlmv2-only\nlanman_auth yes\n", 4,
     "lanman_auth = yes needs ntlm_auth = ntlmv1-permitted (service s)"},
    {"lmv2 yes\x01\n", 1, "control character 0x01"},
    {"lmv2 yes\x7f\n", 1, "control character 0x7f"},
    {"lmv2 y\res\n", 1, "control character 0x0d"},
};

START_TEST(invalid_values)
{
	struct loaded l;

	load_text(bad_cases[_i].text, &l);
	assert_one_error(&l, bad_cases[_i].line, bad_cases[_i].reason);
}
END_TEST

START_TEST(nul_byte)
{
	static const char text[] = "lmv2 yes\nanonymous y\0es\n";
	struct loaded l;

	load_bytes(text, sizeof(text) - 1, &l);
	assert_one_error(&l, 2, "control character 0x00");
}
END_TEST

START_TEST(inline_bindpw_refused)
{
	struct loaded l;

	load_text("uri ldap://localhost\nbindpw S3cr3t-Passw0rd\n", &l);
	assert_one_error(&l, 2, "bindpw is not accepted inline: use bindpw_file");
	ck_assert_ptr_null(strstr(l.errors[0].reason, "S3cr3t"));

	load_text("rootpwmodpw Hunter2\n", &l);
	assert_one_error(&l, 1, "use rootpwmodpw_file");
	ck_assert_ptr_null(strstr(l.errors[0].reason, "Hunter2"));

	/* even without a value, and inside a service block */
	load_text("service s\nbindpw\n", &l);
	assert_one_error(&l, 2, "use bindpw_file");
}
END_TEST

/* ---- several errors in one pass ---- */

START_TEST(errors_collected_in_one_pass)
{
	static const char text[] = "# ntlmd.conf with six mistakes\n" /* 1 */
	                           "ntlm_auth ntlmv2-only\n"          /* 2 */
	                           "lanman_auth yes\n"                /* 3: Samba's rule, found at the end */
	                           "max_clock_skew soon\n"            /* 4 */
	                           "socket relative\n"                /* 5 */
	                           "\n"                               /* 6 */
	                           "nonsense_key 1\n"                 /* 7 */
	                           "ntlm_auth ntlmv2-only\n"          /* 8: duplicate */
	                           "service squid\n"                  /* 9 */
	                           "  hash_file /x\n"                 /* 10: global key */
	                           "  require_mic yes\n";             /* 11: fine */
	static const struct {
		unsigned line;
		const char *reason;
	} want[] = {
	    {3, "lanman_auth = yes needs ntlm_auth = ntlmv1-permitted"},
	    {4, "max_clock_skew: 'soon' is not a number"},
	    {5, "socket: must be an absolute path"},
	    {7, "unknown key 'nonsense_key'"},
	    {8, "ntlm_auth: already set on line 2"},
	    {10, "hash_file is a global key: not allowed in the service block opened on line 9"},
	};
	struct loaded l;
	struct ntlmd_config cfg = {0};
	struct ntlmd_config_error few[3];
	size_t n = 99;
	char *path;

	load_text(text, &l);
	ck_assert_status(l.status, NTLM_ERR_CONFIG);
	ck_assert_uint_eq(l.n_errors, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		ck_assert_uint_eq(l.errors[i].line, want[i].line);
		ck_assert_msg(strstr(l.errors[i].reason, want[i].reason) != NULL,
		              "error %zu: '%s' lacks '%s'", i, l.errors[i].reason, want[i].reason);
	}
	ck_assert(all_zero(&l.cfg, sizeof(l.cfg)));

	/* room for three: all six counted, the first three (by line) kept */
	path = write_temp(text, strlen(text));
	memset(few, 0, sizeof(few));
	ck_assert_status(ntlmd_config_load(path, &cfg, few, 3, &n), NTLM_ERR_CONFIG);
	ck_assert_uint_eq(n, ARRAY_SIZE(want));
	for (size_t i = 0; i < 3; i++)
		ck_assert_uint_eq(few[i].line, want[i].line);
	/* no room at all, and no counter */
	ck_assert_status(ntlmd_config_load(path, &cfg, NULL, 0, &n), NTLM_ERR_CONFIG);
	ck_assert_uint_eq(n, ARRAY_SIZE(want));
	ck_assert_status(ntlmd_config_load(path, &cfg, few, 3, NULL), NTLM_ERR_CONFIG);
	ck_assert(all_zero(&cfg, sizeof(cfg)));
	unlink(path);
	free(path);
}
END_TEST

/* ---- service blocks ---- */

START_TEST(service_override_and_fallback)
{
	struct loaded l;
	const struct ntlmd_policy *g, *squid, *radius;

	load_ok("require_mic yes\n"
	        "accepted_domains CORP\n"
	        "max_clock_skew 600\n"
	        "service squid\n"
	        "  channel_bindings off\n"
	        "  user_name_format user\n"
	        "  accepted_domains *\n"
	        "service freeradius\n"
	        "  ntlm_auth mschapv2-and-ntlmv2-only\n"
	        "  target_names host/radius.example.com\n"
	        "  require_mic no\n",
	        &l);
	g = ntlmd_config_policy(&l.cfg, NULL);
	ck_assert_ptr_eq(g, &l.cfg.policy);
	ck_assert_ptr_eq(ntlmd_config_policy(&l.cfg, "sshd"), g);  /* no block: global */
	ck_assert_ptr_eq(ntlmd_config_policy(&l.cfg, "SQUID"), g); /* service names are exact */
	ck_assert_uint_eq(l.cfg.n_services, 2);

	squid = ntlmd_config_policy(&l.cfg, "squid");
	ck_assert_ptr_ne(squid, g);
	ck_assert_int_eq(squid->channel_bindings, NTLM_CB_OFF);
	ck_assert_int_eq(squid->user_name_format, NTLMD_NAME_USER);
	assert_list(squid->accepted_domains, "*");     /* explicit any */
	ck_assert(squid->require_mic);                 /* inherited */
	ck_assert_uint_eq(squid->max_clock_skew, 600); /* inherited */
	ck_assert_int_eq(squid->ntlm_auth, NTLMD_NTLMV2_ONLY);

	radius = ntlmd_config_policy(&l.cfg, "freeradius");
	ck_assert_int_eq(radius->ntlm_auth, NTLMD_MSCHAPV2_AND_NTLMV2_ONLY);
	assert_list(radius->target_names, "host/radius.example.com");
	ck_assert(!radius->require_mic);
	assert_list(radius->accepted_domains, "CORP"); /* inherited, as its own copy */
	ck_assert_ptr_ne(radius->accepted_domains, g->accepted_domains);
	ck_assert_int_eq(radius->channel_bindings, NTLM_CB_WHEN_SUPPORTED);

	/* the global policy is untouched by the blocks */
	ck_assert_int_eq(g->channel_bindings, NTLM_CB_WHEN_SUPPORTED);
	ck_assert_ptr_null(g->target_names);
	ck_assert_int_eq(g->user_name_format, NTLMD_NAME_DOMAIN_USER);
	ck_assert_ptr_null(ntlmd_config_policy(NULL, "squid"));
	ntlmd_config_clear(&l.cfg);
}
END_TEST

START_TEST(service_lanman_rule)
{
	struct loaded l;
	const struct ntlmd_policy *p;

	/* a block may turn LM on where NTLMv1 is permitted globally */
	load_ok("ntlm_auth ntlmv1-permitted\nservice legacy\nlanman_auth yes\n", &l);
	p = ntlmd_config_policy(&l.cfg, "legacy");
	ck_assert(p->lanman_auth);
	ck_assert(!l.cfg.policy.lanman_auth);
	ntlmd_config_clear(&l.cfg);

	/* an inherited lanman_auth = yes lapses where a block refuses NTLMv1 */
	load_ok("ntlm_auth ntlmv1-permitted\nlanman_auth yes\nservice strict\nntlm_auth ntlmv2-only\n", &l);
	p = ntlmd_config_policy(&l.cfg, "strict");
	ck_assert(!p->lanman_auth);
	ck_assert(l.cfg.policy.lanman_auth);
	ntlmd_config_clear(&l.cfg);
}
END_TEST

/* ---- backend keys ---- */

START_TEST(backend_keys_kept)
{
	struct loaded l;

	load_ok("backends files ldap\n"
	        "uri ldap://ldap1.example.com\n"
	        "# comment\n"
	        "uri = ldaps://ldap2.example.com ldaps://ldap3.example.com\n"
	        "base ou=people,dc=example,dc=com\n"
	        "bindpw_file /etc/ntlmd/bindpw\n"
	        "map passwd uid sAMAccountName\n"
	        "map passwd ntpassword sambaNTPassword\n"
	        "service sshd\n"
	        "require_mic yes\n",
	        &l);
	assert_list(l.cfg.extra_keys, "uri uri base bindpw_file map map");
	ck_assert_str_eq(l.cfg.extra_values[0], "ldap://ldap1.example.com");
	ck_assert_str_eq(l.cfg.extra_values[1], "ldaps://ldap2.example.com ldaps://ldap3.example.com");
	ck_assert_str_eq(l.cfg.extra_values[2], "ou=people,dc=example,dc=com");
	ck_assert_str_eq(l.cfg.extra_values[3], "/etc/ntlmd/bindpw");
	ck_assert_str_eq(l.cfg.extra_values[5], "passwd ntpassword sambaNTPassword");
	ck_assert_ptr_null(l.cfg.extra_values[6]);
	static const unsigned lines[] = {2, 4, 5, 6, 7, 8, 0};
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		ck_assert_uint_eq(l.cfg.extra_lines[i], lines[i]);
	ntlmd_config_clear(&l.cfg);
}
END_TEST

/* Every key a registered store declares is kept for it (ldap: 33), in
 * order with its line; its refused keys are errors that name the way. */
START_TEST(every_backend_key)
{
	size_t n_stores, n = 0, used = 0;
	const struct ntlmd_backend *const *stores = ntlmd_stores(&n_stores);
	const char *names[64];
	char text[8192] = "";
	struct loaded l;

	for (size_t s = 0; s < n_stores; s++) {
		ck_assert_str_eq(stores[s]->config.name, stores[s]->name);
		for (const struct ntlmd_config_store_key *k = stores[s]->config.keys;
		     k != NULL && k->name != NULL; k++) {
			if (k->refused != NULL)
				continue;
			ck_assert_uint_lt(n, ARRAY_SIZE(names));
			names[n] = k->name;
			used +=
			    (size_t)snprintf(text + used, sizeof(text) - used, "%s value%zu\n", k->name, n);
			n++;
		}
	}
	ck_assert_uint_eq(n, 33);
	load_ok(text, &l);
	for (size_t i = 0; i < n; i++) {
		char want[32];
		snprintf(want, sizeof(want), "value%zu", i);
		ck_assert_str_eq(l.cfg.extra_keys[i], names[i]);
		ck_assert_str_eq(l.cfg.extra_values[i], want);
		ck_assert_uint_eq(l.cfg.extra_lines[i], i + 1);
	}
	ck_assert_ptr_null(l.cfg.extra_keys[n]);
	ntlmd_config_clear(&l.cfg);
	load_text("uri ldap://a\nbindpw S3cr3t\nrootpwmodpw S3cr3t\n", &l);
	ck_assert_status(l.status, NTLM_ERR_CONFIG);
	ck_assert_uint_eq(l.n_errors, 2);
	ck_assert_str_eq(l.errors[0].reason, "bindpw is not accepted inline: use bindpw_file");
	ck_assert_str_eq(l.errors[1].reason, "rootpwmodpw is not accepted inline: use rootpwmodpw_file");
}
END_TEST

/* The toy store of stores_decide_keys: two keys, one repeatable. */
static const struct ntlmd_config_store_key toy_keys[] = {
    {.name = "toy_path"}, {.name = "toy_host", .repeatable = true}, {.name = NULL}};
static const struct ntlmd_config_store toy_store = {.name = "toy", .keys = toy_keys};
static const struct ntlmd_config_store files_store = {.name = "files"};
static const struct ntlmd_config_store nameless = {.keys = toy_keys};

/* Loads text with the stores given (NULL: ntlmd_config_load, the files
 * store alone); the errors go to l. */
static void load_with_stores(const char *text, const struct ntlmd_config_store *const *stores, size_t n,
                             struct loaded *l)
{
	char *path = write_temp(text, strlen(text));

	memset(l, 0, sizeof(*l));
	l->status = stores == NULL ? ntlmd_config_load(path, &l->cfg, l->errors, MAX_ERRORS, &l->n_errors)
	                           : ntlmd_config_load_stores(path, stores, n, &l->cfg, l->errors, MAX_ERRORS,
	                                                      &l->n_errors);
	unlink(path);
	free(path);
}

/* common/ knows no store: a load given the files store alone takes no
 * ldap key and no ldap backend, and the stores given decide both. */
START_TEST(stores_decide_keys)
{
	const struct ntlmd_config_store *const mine[] = {&files_store, &toy_store};
	struct loaded l;

	load_with_stores("backends files ldap\nuri ldap://x\n", NULL, 0, &l);
	ck_assert_status(l.status, NTLM_ERR_CONFIG);
	ck_assert_uint_eq(l.n_errors, 2);
	ck_assert_str_eq(l.errors[0].reason, "backends: expected files, not 'ldap'");
	ck_assert_str_eq(l.errors[1].reason, "unknown key 'uri'");
	ck_assert_uint_eq(l.errors[1].line, 2);

	load_with_stores("backends TOY files\ntoy_host a\ntoy_host b\ntoy_path /p\ntoy_path /q\n", mine, 2,
	                 &l);
	ck_assert_status(l.status, NTLM_ERR_CONFIG);
	ck_assert_uint_eq(l.n_errors, 1);
	ck_assert_str_eq(l.errors[0].reason, "toy_path: already set on line 4");
	ck_assert_uint_eq(l.errors[0].line, 5);

	load_with_stores("backends TOY files\ntoy_host a\ntoy_host b\ntoy_path /p\n", mine, 2, &l);
	ck_assert_status(l.status, NTLM_OK);
	assert_list(l.cfg.backends, "toy files");
	assert_list(l.cfg.extra_keys, "toy_host toy_host toy_path");
	ntlmd_config_clear(&l.cfg);

	load_with_stores("toy_path /p\n", mine, 0, &l);
	ck_assert_status(l.status, NTLM_ERR_INVALID_ARGUMENT);
	load_with_stores("toy_path /p\n", (const struct ntlmd_config_store *const[]){&files_store, &nameless},
	                 2, &l);
	ck_assert_status(l.status, NTLM_ERR_INVALID_ARGUMENT);
	load_with_stores("toy_path /p\n", NULL, 0, &l);
	ck_assert_status(l.status, NTLM_ERR_CONFIG);
}
END_TEST

/* ---- host names ---- */

START_TEST(names_derived)
{
	struct loaded l;

	load_ok("dns_name web01.corp.example.com\n", &l);
	ck_assert_str_eq(l.cfg.dns_domain, "corp.example.com");
	ck_assert_str_eq(l.cfg.dns_tree, "corp.example.com");
	ck_assert_str_eq(l.cfg.netbios_name, "WEB01");
	ck_assert_str_eq(l.cfg.netbios_domain, "CORP");
	ntlmd_config_clear(&l.cfg);

	/* a standalone server: the NetBIOS domain is its own name */
	load_ok("dns_name standalone\nnetbios_name Box7\n", &l);
	ck_assert_ptr_null(l.cfg.dns_domain);
	ck_assert_ptr_null(l.cfg.dns_tree);
	ck_assert_str_eq(l.cfg.netbios_name, "BOX7");
	ck_assert_str_eq(l.cfg.netbios_domain, "BOX7");
	ntlmd_config_clear(&l.cfg);

	/* the first label is cut at 15 characters; a given domain is kept */
	load_ok(
	    "dns_name averyveryverylonghostname.example.org\ndns_domain ad.example.org\nnetbios_domain AD\n",
	    &l);
	ck_assert_str_eq(l.cfg.netbios_name, "AVERYVERYVERYLO");
	ck_assert_str_eq(l.cfg.netbios_domain, "AD");
	ck_assert_str_eq(l.cfg.dns_domain, "ad.example.org");
	ck_assert_str_eq(l.cfg.dns_tree, "ad.example.org");
	ntlmd_config_clear(&l.cfg);
}
END_TEST

/* ---- size caps and unreadable files ---- */

static char *filled(size_t len, size_t line_len)
{
	char *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	memset(buf, ' ', len);
	buf[0] = '#';
	for (size_t i = line_len; i < len; i += line_len + 1)
		buf[i] = '\n';
	return buf;
}

START_TEST(file_size_cap)
{
	struct loaded l;
	char *buf = filled(NTLMD_CONFIG_MAX_SIZE + 1, 100);

	/* exactly at the cap: fine */
	load_bytes(buf, NTLMD_CONFIG_MAX_SIZE, &l);
	ck_assert_status(l.status, NTLM_OK);
	ntlmd_config_clear(&l.cfg);

	/* one byte over */
	load_bytes(buf, NTLMD_CONFIG_MAX_SIZE + 1, &l);
	assert_one_error(&l, 0, "the file is larger than 1048576 bytes");
	free(buf);
}
END_TEST

START_TEST(line_length_cap)
{
	struct loaded l;
	size_t len = 3 * (NTLMD_CONFIG_MAX_LINE + 2) + 64;
	char *buf = malloc(len), *p = buf;

	ck_assert_ptr_nonnull(buf);
	/* line 1: a comment of exactly the cap, with CRLF: fine */
	memset(p, '#', NTLMD_CONFIG_MAX_LINE);
	p += NTLMD_CONFIG_MAX_LINE;
	*p++ = '\r';
	*p++ = '\n';
	/* line 2: one byte over */
	memset(p, '#', NTLMD_CONFIG_MAX_LINE + 1);
	p += NTLMD_CONFIG_MAX_LINE + 1;
	*p++ = '\n';
	/* line 3: parsed as usual after the long one */
	p += sprintf(p, "lmv2 perhaps\n");
	load_bytes(buf, (size_t)(p - buf), &l);
	ck_assert_status(l.status, NTLM_ERR_CONFIG);
	ck_assert_uint_eq(l.n_errors, 2);
	ck_assert_uint_eq(l.errors[0].line, 2);
	ck_assert_str_eq(l.errors[0].reason, "line longer than 4096 bytes");
	ck_assert_uint_eq(l.errors[1].line, 3);
	ck_assert_str_eq(l.errors[1].reason, "lmv2: expected yes or no, not 'perhaps'");

	/* a long value at the end of the file, without a newline */
	p = buf;
	p += sprintf(p, "target_names ");
	memset(p, 'a', NTLMD_CONFIG_MAX_LINE);
	p += NTLMD_CONFIG_MAX_LINE;
	load_bytes(buf, (size_t)(p - buf), &l);
	assert_one_error(&l, 1, "line longer than 4096 bytes");
	free(buf);
}
END_TEST

START_TEST(missing_file)
{
	struct ntlmd_config cfg;
	struct ntlmd_config_error errors[4];
	size_t n = 99;

	ck_assert_status(ntlmd_config_init(&cfg), NTLM_OK);
	ck_assert_status(ntlmd_config_load("/nonexistent/ntlmd.conf", &cfg, errors, 4, &n), NTLM_ERR_CONFIG);
	ck_assert(all_zero(&cfg, sizeof(cfg))); /* and the defaults it held are freed */
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(errors[0].line, 0);
	ck_assert_str_eq(errors[0].reason, "cannot open /nonexistent/ntlmd.conf: No such file or directory");

	/* a directory cannot be read */
	ck_assert_status(ntlmd_config_load("/", &cfg, errors, 4, &n), NTLM_ERR_CONFIG);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(errors[0].reason, "cannot read /"));

	ck_assert_status(ntlmd_config_load(NULL, &cfg, errors, 4, &n), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlmd_config_load("/x", NULL, errors, 4, &n), NTLM_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(reload_over_loaded_config)
{
	struct loaded l;
	char *path = write_temp(every_key, strlen(every_key));
	size_t n;

	/* loading over an initialised or loaded config frees what it held
	 * (the sanitizer build checks for leaks) */
	load_ok("target_names a b c\nuri ldap://x\nservice x\nrequire_mic yes\n", &l);
	ck_assert_status(ntlmd_stores_config_load(path, &l.cfg, l.errors, MAX_ERRORS, &n), NTLM_OK);
	ck_assert_str_eq(l.cfg.path, path);
	ck_assert_uint_eq(l.cfg.n_services, 0);
	ck_assert_ptr_null(l.cfg.extra_keys[0]);
	assert_list(l.cfg.policy.target_names, "HTTP/www.example.com host/www.example.com");
	ntlmd_config_clear(&l.cfg);
	unlink(path);
	free(path);
}
END_TEST

/* ---- policy mapping ---- */

static struct ntlm_policy map_policy(const char *text, bool mschap)
{
	struct loaded l;
	struct ntlm_policy np;

	load_ok(text, &l);
	ntlmd_policy_to_ntlm(&l.cfg.policy, mschap, &np);
	ck_assert_ptr_null(np.target_names);
	ntlmd_config_clear(&l.cfg);
	return np;
}

#define ck_assert_allowed(np, lm, v1, ess, v2, lmv2)            \
	do {                                                    \
		ck_assert_int_eq((np).allow_lm, (lm));          \
		ck_assert_int_eq((np).allow_ntlmv1, (v1));      \
		ck_assert_int_eq((np).allow_ntlmv1_ess, (ess)); \
		ck_assert_int_eq((np).allow_ntlmv2, (v2));      \
		ck_assert_int_eq((np).allow_lmv2, (lmv2));      \
	} while (0)

START_TEST(policy_mapping_modes)
{
	struct ntlm_policy np;

	/* ntlmv2-only */
	np = map_policy("", false);
	ck_assert_allowed(np, false, false, false, true, false);
	ck_assert(!np.allow_anonymous);
	ck_assert(np.check_av_echo);
	ck_assert(np.retry_nil_domain);
	np = map_policy("lmv2 yes\nanonymous yes\n", true);
	ck_assert_allowed(np, false, false, false, true, true);
	ck_assert(np.allow_anonymous);

	/* ntlmv1-permitted */
	np = map_policy("ntlm_auth ntlmv1-permitted\n", false);
	ck_assert_allowed(np, false, true, true, true, false);
	np = map_policy("ntlm_auth ntlmv1-permitted\nlanman_auth yes\nlmv2 yes\n", false);
	ck_assert_allowed(np, true, true, true, true, true);

	/* mschapv2-and-ntlmv2-only: NTLMv1 for MS-CHAP callers only */
	np = map_policy("ntlm_auth mschapv2-and-ntlmv2-only\n", false);
	ck_assert_allowed(np, false, false, false, true, false);
	np = map_policy("ntlm_auth mschapv2-and-ntlmv2-only\nlmv2 yes\n", true);
	ck_assert_allowed(np, false, true, true, true, true);

	/* disabled: nothing, not even anonymous or LMv2 */
	np = map_policy("ntlm_auth disabled\nlmv2 yes\nanonymous yes\n", true);
	ck_assert_allowed(np, false, false, false, false, false);
	ck_assert(!np.allow_anonymous);
}
END_TEST

START_TEST(policy_mapping_fields)
{
	struct loaded l;
	struct ntlm_policy np;

	load_ok("require_mic yes\nchannel_bindings required\ntarget_names HTTP/a HTTP/b\n"
	        "allow_unverified_spn yes\nmax_clock_skew 77\nrequired_flags sign seal\n",
	        &l);
	ntlmd_policy_to_ntlm(&l.cfg.policy, false, &np);
	ck_assert(np.require_mic);
	ck_assert_int_eq(np.channel_bindings, NTLM_CB_REQUIRED);
	ck_assert_ptr_eq(np.target_names, (const char *const *)l.cfg.policy.target_names); /* borrowed */
	ck_assert(np.allow_unverified_spn);
	ck_assert_uint_eq(np.max_clock_skew, 77);
	ck_assert_uint_eq(np.required_flags, NTLM_NEGOTIATE_SIGN | NTLM_NEGOTIATE_SEAL);
	ntlmd_config_clear(&l.cfg);

	/* the defaults match the library's own */
	struct ntlm_policy lib;
	struct ntlmd_config cfg;
	ck_assert_status(ntlmd_config_init(&cfg), NTLM_OK);
	ntlmd_policy_to_ntlm(&cfg.policy, false, &np);
	ntlm_policy_init(&lib);
	ck_assert_int_eq(memcmp(&np, &lib, sizeof(np)), 0); /* not secret: policy structs */
	ntlmd_config_clear(&cfg);
	ntlmd_policy_to_ntlm(NULL, false, &np); /* library defaults */
	ck_assert(np.allow_ntlmv2);
	ntlmd_policy_to_ntlm(NULL, false, NULL);
}
END_TEST

/* Real exchanges under a mapped policy: the library's verdict. */
static enum ntlm_status lookup(void *ctx, const char *user, const char *domain, struct ntlm_credentials *ret)
{
	(void)ctx;
	(void)domain;
	if (strcmp(user, "alice") != 0)
		return NTLM_STATUS_NO_SUCH_USER;
	ck_assert_status(ntlm_ntowfv1("Passw0rd!", &ret->nt_hash), NTLM_OK);
	ck_assert_status(ntlm_lmowfv1("Passw0rd!", &ret->lm_hash), NTLM_OK);
	ret->has_lm_hash = true;
	ret->account_status = NTLM_OK;
	return NTLM_OK;
}

static enum ntlm_status exchange(const char *text, bool mschap, enum ntlm_client_mode mode)
{
	static const struct ntlm_server_names names = {.nb_computer = "SERVER", .nb_domain = "DOMAIN"};
	struct ntlm_initiator_config client = {
	    .user = "alice", .domain = "DOMAIN", .workstation = "WS1", .password = "Passw0rd!", .mode = mode};
	struct ntlm_accept_result r;
	struct ntlm_policy np;
	struct loaded l;
	uint8_t *neg = NULL, *chal = NULL, *auth = NULL;
	size_t neg_len, chal_len, auth_len;
	uint64_t now = ntlm_filetime_now();
	enum ntlm_status st;

	load_ok(text, &l);
	ntlmd_policy_to_ntlm(&l.cfg.policy, mschap, &np);
	memset(&r, 0, sizeof(r));
	ck_assert_status(ntlm_initiator_negotiate(&client, &neg, &neg_len), NTLM_OK);
	ck_assert_status(ntlm_acceptor_challenge(&names, neg, neg_len, now, &chal, &chal_len), NTLM_OK);
	ck_assert_status(
	    ntlm_initiator_authenticate(&client, neg, neg_len, chal, chal_len, &auth, &auth_len, NULL),
	    NTLM_OK);
	st = ntlm_acceptor_verify(&np, neg, neg_len, chal, chal_len, auth, auth_len, NULL, lookup, NULL, now,
	                          &r);
	ntlm_accept_result_clear(&r);
	free(neg);
	free(chal);
	free(auth);
	ntlmd_config_clear(&l.cfg);
	return st;
}

START_TEST(policy_mapping_exchanges)
{
	static const char v1[] = "ntlm_auth ntlmv1-permitted\n";
	static const char v1_lm[] = "ntlm_auth ntlmv1-permitted\nlanman_auth yes\n";
	static const char mschap[] = "ntlm_auth mschapv2-and-ntlmv2-only\n";

	ck_assert_status(exchange("", false, NTLM_CLIENT_NTLMV2), NTLM_OK);
	ck_assert_status(exchange("", false, NTLM_CLIENT_NTLMV1), NTLM_STATUS_NTLM_BLOCKED);
	ck_assert_status(exchange("", false, NTLM_CLIENT_NTLMV1_ESS), NTLM_STATUS_NTLM_BLOCKED);
	ck_assert_status(exchange("", false, NTLM_CLIENT_LMV2), NTLM_STATUS_NTLM_BLOCKED);
	ck_assert_status(exchange("lmv2 yes\n", false, NTLM_CLIENT_LMV2), NTLM_OK);

	ck_assert_status(exchange(v1, false, NTLM_CLIENT_NTLMV1), NTLM_OK);
	ck_assert_status(exchange(v1, false, NTLM_CLIENT_NTLMV1_ESS), NTLM_OK);
	ck_assert_status(exchange(v1, false, NTLM_CLIENT_LM), NTLM_STATUS_NTLM_BLOCKED);
	ck_assert_status(exchange(v1_lm, false, NTLM_CLIENT_LM), NTLM_OK);

	ck_assert_status(exchange(mschap, false, NTLM_CLIENT_NTLMV1_ESS), NTLM_STATUS_NTLM_BLOCKED);
	ck_assert_status(exchange(mschap, true, NTLM_CLIENT_NTLMV1_ESS), NTLM_OK);
	ck_assert_status(exchange(mschap, true, NTLM_CLIENT_NTLMV2), NTLM_OK);

	ck_assert_status(exchange("ntlm_auth disabled\n", true, NTLM_CLIENT_NTLMV2),
	                 NTLM_STATUS_NTLM_BLOCKED);
	ck_assert_status(exchange("ntlm_auth disabled\n", true, NTLM_CLIENT_NTLMV1),
	                 NTLM_STATUS_NTLM_BLOCKED);
}
END_TEST

START_TEST(accepts_domain)
{
	struct loaded l;

	load_ok("accepted_domains CORP corp.example.com\n", &l);
	ck_assert(ntlmd_policy_accepts_domain(&l.cfg.policy, "CORP"));
	ck_assert(ntlmd_policy_accepts_domain(&l.cfg.policy, "corp"));
	ck_assert(ntlmd_policy_accepts_domain(&l.cfg.policy, "Corp.Example.Com"));
	ck_assert(!ntlmd_policy_accepts_domain(&l.cfg.policy, "OTHER"));
	ck_assert(!ntlmd_policy_accepts_domain(&l.cfg.policy, "COR"));
	ck_assert(!ntlmd_policy_accepts_domain(&l.cfg.policy, ""));
	ck_assert(!ntlmd_policy_accepts_domain(&l.cfg.policy, NULL));
	ntlmd_config_clear(&l.cfg);

	load_ok("accepted_domains *\n", &l);
	ck_assert(ntlmd_policy_accepts_domain(&l.cfg.policy, "ANYTHING"));
	ck_assert(ntlmd_policy_accepts_domain(&l.cfg.policy, ""));
	ntlmd_config_clear(&l.cfg);
	ck_assert(ntlmd_policy_accepts_domain(NULL, "X"));
}
END_TEST

/* ---- user names ---- */

static const struct {
	enum ntlmd_name_format format;
	enum ntlmd_name_case name_case;
	char separator;
	const char *domain, *user, *want;
} format_cases[] = {
    {NTLMD_NAME_DOMAIN_USER, NTLMD_CASE_KEEP, '\\', "Corp", "Alice", "Corp\\Alice"},
    {NTLMD_NAME_DOMAIN_USER, NTLMD_CASE_LOWER, '\\', "Corp", "Alice", "corp\\alice"},
    {NTLMD_NAME_DOMAIN_USER, NTLMD_CASE_UPPER, '\\', "Corp", "Alice", "CORP\\ALICE"},
    {NTLMD_NAME_DOMAIN_USER, NTLMD_CASE_KEEP, '+', "Corp", "Alice", "Corp+Alice"},
    {NTLMD_NAME_DOMAIN_USER, NTLMD_CASE_LOWER, '/', "Corp", "Alice", "corp/alice"},
    {NTLMD_NAME_DOMAIN_USER, NTLMD_CASE_KEEP, '\0', "Corp", "Alice", "Corp\\Alice"},
    {NTLMD_NAME_USER, NTLMD_CASE_KEEP, '\\', "Corp", "Alice", "Alice"},
    {NTLMD_NAME_USER, NTLMD_CASE_LOWER, '\\', "Corp", "Alice", "alice"},
    {NTLMD_NAME_USER, NTLMD_CASE_UPPER, '+', "Corp", "Alice", "ALICE"},
    {NTLMD_NAME_USER_AT_DOMAIN, NTLMD_CASE_KEEP, '\\', "Corp", "Alice", "Alice@Corp"},
    {NTLMD_NAME_USER_AT_DOMAIN, NTLMD_CASE_LOWER, '+', "Corp", "Alice", "alice@corp"},
    {NTLMD_NAME_USER_AT_DOMAIN, NTLMD_CASE_UPPER, '\\', "corp.example.com", "Alice",
     "ALICE@CORP.EXAMPLE.COM"},
    /* an empty or absent domain formats as the bare user */
    {NTLMD_NAME_DOMAIN_USER, NTLMD_CASE_KEEP, '\\', "", "Alice", "Alice"},
    {NTLMD_NAME_DOMAIN_USER, NTLMD_CASE_LOWER, '\\', NULL, "Alice", "alice"},
    {NTLMD_NAME_USER_AT_DOMAIN, NTLMD_CASE_UPPER, '\\', "", "Alice", "ALICE"},
    {NTLMD_NAME_USER_AT_DOMAIN, NTLMD_CASE_KEEP, '\\', NULL, "Alice", "Alice"},
    /* case mapping touches ASCII letters only */
    {NTLMD_NAME_DOMAIN_USER, NTLMD_CASE_UPPER, '\\', "Corp", "J\xc3\xbcrgen", "CORP\\J\xc3\xbcRGEN"},
};

START_TEST(format_user)
{
	struct ntlmd_config cfg;
	char *s;

	ck_assert_status(ntlmd_config_init(&cfg), NTLM_OK);
	cfg.policy.user_name_format = format_cases[_i].format;
	cfg.policy.user_name_case = format_cases[_i].name_case;
	cfg.policy.domain_separator = format_cases[_i].separator;
	s = ntlmd_policy_format_user(&cfg.policy, format_cases[_i].domain, format_cases[_i].user);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, format_cases[_i].want);
	free(s);
	ck_assert_ptr_null(ntlmd_policy_format_user(&cfg.policy, "Corp", NULL));
	ck_assert_ptr_null(ntlmd_policy_format_user(NULL, "Corp", "Alice"));
	ntlmd_config_clear(&cfg);
}
END_TEST

START_TEST(format_user_from_file)
{
	struct loaded l;
	char *s;

	load_ok("user_name_format = domain\\user\nuser_name_case upper\ndomain_separator +\n", &l);
	s = ntlmd_policy_format_user(&l.cfg.policy, "corp", "bob");
	ck_assert_str_eq(s, "CORP+BOB");
	free(s);
	ntlmd_config_clear(&l.cfg);
}
END_TEST

/* ---- ntlmtool -o ---- */

START_TEST(set_policy)
{
	struct ntlmd_config cfg;
	struct ntlmd_config_error err;

	ck_assert_status(ntlmd_config_init(&cfg), NTLM_OK);
	ck_assert_status(ntlmd_config_set_policy(&cfg, "ntlm_auth", "ntlmv1-permitted", &err), NTLM_OK);
	ck_assert_int_eq(cfg.policy.ntlm_auth, NTLMD_NTLMV1_PERMITTED);
	ck_assert_status(ntlmd_config_set_policy(&cfg, "require_mic", " yes ", &err), NTLM_OK);
	ck_assert(cfg.policy.require_mic);
	ck_assert_status(ntlmd_config_set_policy(&cfg, "target_names", "HTTP/a HTTP/b", &err), NTLM_OK);
	assert_list(cfg.policy.target_names, "HTTP/a HTTP/b");
	ck_assert_status(ntlmd_config_set_policy(&cfg, "target_names", "HTTP/c", NULL), NTLM_OK);
	assert_list(cfg.policy.target_names, "HTTP/c");
	ck_assert_status(ntlmd_config_set_policy(&cfg, "required_flags", "128 key-exch", &err), NTLM_OK);
	ck_assert_uint_eq(cfg.policy.required_flags, NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_KEY_EXCH);
	ck_assert_status(ntlmd_config_set_policy(&cfg, "max_clock_skew", "0", &err), NTLM_OK);
	ck_assert_uint_eq(cfg.policy.max_clock_skew, 0);
	ck_assert_status(ntlmd_config_set_policy(&cfg, "lanman_auth", "yes", &err), NTLM_OK);
	ck_assert(cfg.policy.lanman_auth);

	/* errors: the policy is left as it was, err says why */
	static const struct {
		const char *key, *value, *reason;
	} bad[] = {
	    {"ntlm_auth", "ntlmv2-only", "lanman_auth = yes needs ntlm_auth = ntlmv1-permitted"},
	    {"ntlm_auth", "sometimes", "ntlm_auth: expected ntlmv2-only"},
	    {"max_clock_skew", "-5", "max_clock_skew: '-5' is not a number"},
	    {"require_mic", "", "require_mic: missing value"},
	    {"require_mic", "  ", "require_mic: missing value"},
	    {"require_mic", "yes\n", "require_mic: control character in the value"},
	    {"target_names", "* x", "target_names: '*' must stand alone"},
	    {"socket", "/tmp/s", "'socket' is not a policy key"},
	    {"log_level", "debug", "'log_level' is not a policy key"},
	    {"service", "squid", "'service' is not a policy key"},
	    {"uri", "ldap://x", "'uri' is not a policy key"},
	    {"no_such_key", "1", "'no_such_key' is not a policy key"},
	    {"Secret Words", "1", "not a policy key"},
	    {"bindpw", "s3cret", "'bindpw' is not a policy key"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&err, 0xff, sizeof(err));
		ck_assert_status(ntlmd_config_set_policy(&cfg, bad[i].key, bad[i].value, &err),
		                 NTLM_ERR_CONFIG);
		ck_assert_uint_eq(err.line, 0);
		ck_assert_msg(strstr(err.reason, bad[i].reason) != NULL, "'%s' lacks '%s'", err.reason,
		              bad[i].reason);
		ck_assert_ptr_null(strstr(err.reason, "s3cret"));
	}
	ck_assert_status(ntlmd_config_set_policy(&cfg, "bindpw", "x", NULL), NTLM_ERR_CONFIG);
	ck_assert_int_eq(cfg.policy.ntlm_auth, NTLMD_NTLMV1_PERMITTED);
	ck_assert(cfg.policy.require_mic);
	assert_list(cfg.policy.target_names, "HTTP/c");
	ck_assert_uint_eq(cfg.policy.max_clock_skew, 0);

	/* LM off first, then NTLMv1 may go */
	ck_assert_status(ntlmd_config_set_policy(&cfg, "lanman_auth", "no", &err), NTLM_OK);
	ck_assert_status(ntlmd_config_set_policy(&cfg, "ntlm_auth", "ntlmv2-only", &err), NTLM_OK);
	ck_assert_status(ntlmd_config_set_policy(&cfg, "lanman_auth", "yes", &err), NTLM_ERR_CONFIG);

	ck_assert_status(ntlmd_config_set_policy(NULL, "lmv2", "yes", &err), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlmd_config_set_policy(&cfg, NULL, "yes", &err), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlmd_config_set_policy(&cfg, "lmv2", NULL, &err), NTLM_ERR_INVALID_ARGUMENT);
	ntlmd_config_clear(&cfg);
}
END_TEST

/* ---- the shipped ntlmd.conf, as make install installs it ---- */

START_TEST(example_config)
{
	const char *top = getenv("top_builddir");
	struct ntlmd_config cfg;
	struct ntlmd_config_error errors[8];
	size_t n = 0;
	char path[4096];
	enum ntlm_status st;

	/* make check sets it, relative to the tests build directory where it
	 * runs; etc/ntlmd.conf is generated there from etc/ntlmd.conf.in */
	ck_assert_msg(top != NULL, "top_builddir is not set: run the test through make check");
	snprintf(path, sizeof(path), "%s/etc/ntlmd.conf", top);
	st = ntlmd_config_load(path, &cfg, errors, 8, &n);
	ck_assert_msg(st == NTLM_OK, "%s: %s, %zu errors, first: line %u: %s", path, ntlm_status_name(st), n,
	              n ? errors[0].line : 0, n ? errors[0].reason : "");
	ck_assert_uint_eq(cfg.n_services, 2);
	ck_assert_int_eq(ntlmd_config_policy(&cfg, "squid")->channel_bindings, NTLM_CB_OFF);
	/* the service name ntlm_auth sends for FreeRADIUS (ntlm_auth(1)) */
	ck_assert_int_eq(ntlmd_config_policy(&cfg, "radius")->ntlm_auth, NTLMD_MSCHAPV2_AND_NTLMV2_ONLY);
	ck_assert_uint_eq(ntlmd_config_policy(&cfg, "radius")->lockout_threshold, 10);
	assert_list(cfg.backends, "files");
	/* its paths are the installation's, those compiled into ntlmd */
	ck_assert_str_eq(cfg.hash_file, NTLMD_DEFAULT_HASH_FILE);
	ck_assert_str_eq(cfg.socket_path, NTLMD_DEFAULT_SOCKET);
	ntlmd_config_clear(&cfg);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, empty_file_gives_defaults);
	tcase_add_test(tc, every_key_valid);
	tcase_add_loop_test(tc, word_values, 0, (int)ARRAY_SIZE(word_cases));
	tcase_add_test(tc, line_forms);
	tcase_add_loop_test(tc, invalid_values, 0, (int)ARRAY_SIZE(bad_cases));
	tcase_add_test(tc, nul_byte);
	tcase_add_test(tc, inline_bindpw_refused);
	tcase_add_test(tc, errors_collected_in_one_pass);
	tcase_add_test(tc, service_override_and_fallback);
	tcase_add_test(tc, service_lanman_rule);
	tcase_add_test(tc, backend_keys_kept);
	tcase_add_test(tc, stores_decide_keys);
	tcase_add_test(tc, every_backend_key);
	tcase_add_test(tc, names_derived);
	tcase_add_test(tc, file_size_cap);
	tcase_add_test(tc, line_length_cap);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, reload_over_loaded_config);
	tcase_add_test(tc, policy_mapping_modes);
	tcase_add_test(tc, policy_mapping_fields);
	tcase_add_test(tc, policy_mapping_exchanges);
	tcase_add_test(tc, accepts_domain);
	tcase_add_loop_test(tc, format_user, 0, (int)ARRAY_SIZE(format_cases));
	tcase_add_test(tc, format_user_from_file);
	tcase_add_test(tc, set_policy);
	tcase_add_test(tc, example_config);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(config_suite());
}
