/*
 * main.c: ntlm_auth, a drop-in for Samba's ntlm_auth that asks ntlmd.
 * Option parsing (popt style: --opt=value and --opt value), the exec modes
 * FreeRADIUS uses (challenge/response with NT_KEY, plaintext) and the stdio
 * loop of the helper protocols (helper.c). See ntlm_auth(1).
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "diagnostics.h"
#include "helper.h"
#include "local.h"
#include "ntlmd_conf.h"
#include "protocol.h"
#include "sid.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

enum opt_id {
	O_HELPER_PROTOCOL,
	O_USERNAME,
	O_DOMAIN,
	O_WORKSTATION,
	O_CHALLENGE,
	O_LM_RESPONSE,
	O_NT_RESPONSE,
	O_PASSWORD,
	O_REQUEST_LM_KEY,
	O_REQUEST_NT_KEY,
	O_USE_CACHED_CREDS,
	O_ALLOW_MSCHAPV2,
	O_OFFLINE_LOGON,
	O_DIAGNOSTICS,
	O_REQUIRE_MEMBERSHIP_OF,
	O_PAM_WINBIND_CONF,
	O_TARGET_SERVICE,
	O_TARGET_HOSTNAME,
	O_DEBUGLEVEL,
	O_DEBUG_STDOUT,
	O_CONFIGFILE,
	O_OPTION,
	O_VERSION,
	O_HELP,
	O_USAGE,
	/* ours */
	O_SOCKET,
	O_TIMEOUT,
	O_SERVICE,
	O_SQUID_KV,
	O_CHANNEL_IDS,
	O_SEPARATOR,
	O_LOCAL_TEST_PASSWORD,
};

static const struct option_def {
	const char *name;
	char short_name;
	bool has_arg;
	enum opt_id id;
} option_defs[] = {
    {"helper-protocol", 0, true, O_HELPER_PROTOCOL},
    {"username", 0, true, O_USERNAME},
    {"domain", 0, true, O_DOMAIN},
    {"workstation", 0, true, O_WORKSTATION},
    {"challenge", 0, true, O_CHALLENGE},
    {"lm-response", 0, true, O_LM_RESPONSE},
    {"nt-response", 0, true, O_NT_RESPONSE},
    {"password", 0, true, O_PASSWORD},
    {"request-lm-key", 0, false, O_REQUEST_LM_KEY},
    {"request-nt-key", 0, false, O_REQUEST_NT_KEY},
    {"use-cached-creds", 0, false, O_USE_CACHED_CREDS},
    {"allow-mschapv2", 0, false, O_ALLOW_MSCHAPV2},
    {"offline-logon", 0, false, O_OFFLINE_LOGON},
    {"diagnostics", 0, false, O_DIAGNOSTICS},
    {"require-membership-of", 0, true, O_REQUIRE_MEMBERSHIP_OF},
    {"pam-winbind-conf", 0, true, O_PAM_WINBIND_CONF},
    {"target-service", 0, true, O_TARGET_SERVICE},
    {"target-hostname", 0, true, O_TARGET_HOSTNAME},
    {"debuglevel", 'd', true, O_DEBUGLEVEL},
    {"debug-stdout", 0, false, O_DEBUG_STDOUT},
    {"configfile", 0, true, O_CONFIGFILE},
    {"option", 0, true, O_OPTION},
    {"version", 'V', false, O_VERSION},
    {"help", '?', false, O_HELP},
    {"usage", 0, false, O_USAGE},
    {"ntlmd-socket", 0, true, O_SOCKET},
    {"ntlmd-timeout", 0, true, O_TIMEOUT},
    {"service", 0, true, O_SERVICE},
    {"squid-kv-replies", 0, false, O_SQUID_KV},
    {"channel-ids", 0, false, O_CHANNEL_IDS},
    {"separator", 0, true, O_SEPARATOR},
    {"local-test-password", 0, false, O_LOCAL_TEST_PASSWORD},
};

static const char usage_head[] =
    "Usage: ntlm_auth [OPTION...]\n"
    "  --helper-protocol=PROTO     squid-2.5-ntlmssp, squid-2.5-basic, squid-2.4-basic,\n"
    "                              gss-spnego, ntlm-server-1, ntlmssp-client-1,\n"
    "                              gss-spnego-client\n"
    "  --username=USER             user name (DOMAIN\\user is split)\n"
    "  --domain=DOMAIN             domain name (empty: none)\n"
    "  --workstation=NAME          workstation name\n"
    "  --challenge=HEX             8-byte server challenge (challenge/response mode)\n"
    "  --lm-response=HEX           24-byte LM response\n"
    "  --nt-response=HEX           NT response (24 bytes or NTLMv2)\n"
    "  --password=PASSWORD         plaintext mode; client modes: the password to use\n"
    "  --local-test-password       server modes: accept --password, checked here for ANY user\n"
    "                              (Samba's test mode: no ntlmd, policy, audit or lockout)\n"
    "  --request-nt-key            print NT_KEY: on success\n"
    "  --request-lm-key            accepted (ntlmd returns no LM key)\n"
    "  --allow-mschapv2            the response is MS-CHAPv2's\n"
    "  --require-membership-of=GROUP  the user must be in this group (NSS, then ntlmd's group search)\n";
/* then --ntlmd-socket with the installation's default (print_usage) */
static const char usage_tail[] =
    "  --ntlmd-timeout=MS          bound on each question to ntlmd (default 10000)\n"
    "  --service=NAME              ntlmd.conf service whose policy applies\n"
    "  --squid-kv-replies          Squid 3.4+ replies: OK user=..., ERR message=...\n"
    "  --channel-ids               basic modes: requests carry a channel-ID (concurrency=N)\n"
    "  --separator=C               winbind separator of DOMAIN<C>user (default \\)\n"
    "  -d, --debuglevel=N, --configfile=FILE, --option=NAME=VALUE, --pam-winbind-conf=FILE,\n"
    "  --target-hostname=HOST      client modes: MsvAvTargetName SERVICE/HOST (default service host)\n"
    "  --target-service=SERVICE    client modes: the service of that name (HTTP, cifs, ...)\n"
    "  --offline-logon, --use-cached-creds: accepted\n"
    "  --diagnostics               with --username and --password: ntlmd verifies computed responses\n"
    "  -V, --version; -?, --help; --usage\n"
    "See ntlm_auth(1).\n";

static void print_usage(FILE *out)
{
	fputs(usage_head, out);
	fprintf(out, "  --ntlmd-socket=PATH         ntlmd's socket (default %s)\n", NTLMD_DEFAULT_SOCKET);
	fputs(usage_tail, out);
}

struct config {
	const char *values[O_LOCAL_TEST_PASSWORD + 1];
	bool flags[O_LOCAL_TEST_PASSWORD + 1];
};

__attribute__((format(printf, 1, 2))) static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ntlm_auth: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_usage(stderr);
}

static const struct option_def *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(option_defs) / sizeof(option_defs[0]); i++)
		if (strlen(option_defs[i].name) == len && strncmp(option_defs[i].name, name, len) == 0)
			return &option_defs[i];
	return NULL;
}

static const struct option_def *find_short(char c)
{
	for (size_t i = 0; i < sizeof(option_defs) / sizeof(option_defs[0]); i++)
		if (option_defs[i].short_name == c)
			return &option_defs[i];
	return NULL;
}

/* Parses argv into cfg; false (after a message) on an unknown option, a
 * missing value or a positional argument. */
static bool parse_args(int argc, char **argv, struct config *cfg)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = NULL;
		const struct option_def *def;

		if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0') {
			const char *eq = strchr(arg + 2, '=');

			def = find_long(arg + 2, eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2));
			if (eq != NULL)
				value = eq + 1;
		} else if (arg[0] == '-' && arg[1] != '\0' && arg[1] != '-') {
			def = find_short(arg[1]);
			if (arg[2] != '\0')
				value = arg + 2;
		} else {
			usage_error("unexpected argument '%s'", arg);
			return false;
		}
		if (def == NULL) {
			usage_error("Invalid option %s: unknown option", arg);
			return false;
		}
		if (def->has_arg && value == NULL) {
			if (i + 1 >= argc) {
				usage_error("option %s needs a value", arg);
				return false;
			}
			value = argv[++i];
		} else if (!def->has_arg && value != NULL) {
			usage_error("option %s takes no value", arg);
			return false;
		}
		cfg->values[def->id] = value;
		cfg->flags[def->id] = true;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* The daemon                                                          */

struct daemon {
	const char *socket;
	unsigned timeout_ms;
	struct ntlmd_client *client; /* helper modes: one kept connection; NULL: one per call */
	struct na_local local;       /* --password with a server protocol */
};

static enum ntlm_status call_daemon(void *ctx, uint16_t type, const struct ntlm_writer *fields,
                                    struct ntlmd_reply *ret)
{
	const struct daemon *d = ctx;
	enum ntlm_status st = d->client != NULL ? ntlmd_client_call(d->client, type, fields, ret)
	                                        : ntlmd_call(d->socket, type, fields, d->timeout_ms, ret);

	if (st == NTLM_ERR_BACKEND_UNAVAILABLE)
		fprintf(stderr, "ntlm_auth: ntlmd at %s: %s\n",
		        d->socket != NULL ? d->socket : NTLMD_DEFAULT_SOCKET, strerror(errno));
	return st;
}

/* ------------------------------------------------------------------ */
/* --require-membership-of                                             */

/* Where the group search of ntlmd is asked: a connection of its own. */
struct group_daemon {
	const char *socket;
	unsigned timeout_ms;
	const struct na_options *opt; /* service, quiet */
};
static struct group_daemon group_daemon;

/* CHECK_MEMBERSHIP (docs/PROTOCOL.md): na_options.group_check. */
static enum ntlm_status ask_group_search(void *ctx, const char *group, const char *user, const char *domain)
{
	const struct group_daemon *g = ctx;
	struct ntlm_writer w;
	struct ntlmd_reply r;
	uint8_t member = 0;
	enum ntlm_status st;
	int saved;

	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_SERVICE, g->opt->service);
	ntlmd_put_string(&w, NTLMD_TAG_USER, user);
	ntlmd_put_string(&w, NTLMD_TAG_DOMAIN, domain);
	ntlmd_put_string(&w, NTLMD_TAG_GROUP, group);
	st = ntlmd_call(g->socket, NTLMD_REQ_CHECK_MEMBERSHIP, &w, g->timeout_ms, &r);
	saved = errno;
	ntlm_writer_clear(&w);
	if (st != NTLM_OK) {
		char esc[NA_ESCAPE_MAX];

		if (!g->opt->quiet)
			fprintf(stderr,
			        "ntlm_auth: ntlmd at %s cannot be asked whether \"%s\" is in group %s: %s\n",
			        g->socket != NULL ? g->socket : NTLMD_DEFAULT_SOCKET,
			        na_escape(user, esc, sizeof(esc)), group,
			        st == NTLM_ERR_BACKEND_UNAVAILABLE ? strerror(saved) : ntlm_status_name(st));
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	}
	st = r.status;
	if (st == NTLM_OK)
		st = ntlmd_frame_get_u8(&r.frame, NTLMD_TAG_MEMBER, &member) == NTLM_OK && member == 1
		         ? NTLM_OK
		         : NTLM_STATUS_LOGON_FAILURE;
	else if (st == NTLM_ERR_BACKEND_UNAVAILABLE && !g->opt->quiet)
		fprintf(stderr, "ntlm_auth: ntlmd's group search for group %s is unavailable: %s\n", group,
		        ntlm_status_name(st));
	ntlmd_reply_clear(&r);
	return st;
}

/* A SID (S-1-5-21-...) goes to ntlmd as it is, in its canonical text:
 * the stores decide (ntlmd.conf(5), MEMBERSHIP BY SID). A malformed one:
 * false, the caller exits, as Samba's does for a group it cannot resolve. */
static bool resolve_group_sid(const char *value, struct na_options *opt)
{
	static char text[NTLMD_SID_TEXT_MAX];
	struct ntlmd_sid sid;
	const char *why = NULL;

	if (ntlmd_sid_parse(value, &sid, &why) != NTLM_OK || !ntlmd_sid_format(&sid, text, sizeof(text))) {
		fprintf(stderr, "ntlm_auth: --require-membership-of=%.200s: not a SID (%s)\n", value,
		        why != NULL ? why : "it is malformed");
		return false;
	}
	opt->require_group = true;
	opt->group_is_sid = true;
	opt->group_name = text;
	opt->group_check = ask_group_search;
	opt->group_check_ctx = &group_daemon;
	return true;
}

/* Resolves Samba's forms (GROUP, DOMAIN\GROUP, DOMAIN+GROUP) by NSS; the
 * name goes to ntlmd's group search too. A SID goes to ntlmd alone. */
static bool resolve_group(const char *value, char sep, struct na_options *opt)
{
	const struct group *gr;
	const char *name = value, *p;

	if (ntlmd_sid_looks_like(value))
		return resolve_group_sid(value, opt);
	if ((p = strrchr(name, sep)) != NULL || (p = strrchr(name, '\\')) != NULL ||
	    (p = strrchr(name, '+')) != NULL)
		name = p + 1;
	opt->require_group = true;
	opt->group_name = name;
	opt->group_check = ask_group_search;
	opt->group_check_ctx = &group_daemon;
	gr = getgrnam(name);
	if (gr == NULL) {
		fprintf(stderr,
		        "ntlm_auth: --require-membership-of=%s: group '%s' not found by NSS; ntlmd's group "
		        "search is asked (a group it does not know either fails every authentication with "
		        "NT_STATUS_INVALID_PARAMETER)\n",
		        value, name);
		opt->group_error = true;
		return true;
	}
	opt->group_gid = gr->gr_gid;
	return true;
}

/* ------------------------------------------------------------------ */
/* Exec modes                                                          */

/* Asks ntlmd (fields are cleared), then --require-membership-of: the
 * verdict, NTLM_ERR_BACKEND_UNAVAILABLE when ntlmd could not be asked, the
 * fields' own error when they could not be encoded. */
static enum ntlm_status exec_request(const struct na_options *opt, struct daemon *d, uint16_t type,
                                     struct ntlm_writer *fields, struct ntlmd_reply *reply)
{
	enum ntlm_status st = fields->error;

	/* values that cannot make a request (a name that is not UTF-8, or too
	 * long): their own status (NT_STATUS_INVALID_PARAMETER for FreeRADIUS),
	 * not "No logon servers", which says ntlmd is down */
	if (st != NTLM_OK) {
		ntlm_writer_clear(fields);
		*reply = (struct ntlmd_reply){0};
		return st;
	}
	st = call_daemon(d, type, fields, reply);
	ntlm_writer_clear(fields);
	if (st != NTLM_OK) {
		*reply = (struct ntlmd_reply){0};
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	}
	return reply->status == NTLM_OK ? na_membership(opt, reply, na_reply_account(reply)) : reply->status;
}

/* Prints Samba's failure line "<text> (0x<code>)" on stdout. */
static int print_failure(enum ntlm_status st)
{
	printf("%s (0x%lx)\n", na_status_text(st, true), (unsigned long)na_status_code(st, true));
	return 1;
}

static bool hex_option(const char *name, const char *value, size_t min, size_t max, uint8_t *out,
                       size_t *ret_len)
{
	size_t n = na_hex_prefix(value, out, max);

	if (n < min) {
		char esc[NA_ESCAPE_MAX];

		na_escape(value, esc, sizeof(esc));
		if (min == max)
			fprintf(stderr, "ntlm_auth: hex decode of %s failed! (got %zu bytes, expected %zu)\n",
			        esc, n, min);
		else
			fprintf(
			    stderr,
			    "ntlm_auth: hex decode of %s failed! (only got %zu bytes, needed at least %zu)\n",
			    esc, n, min);
		(void)name;
		return false;
	}
	*ret_len = n;
	return true;
}

/* The challenge/response check of FreeRADIUS' rlm_mschap. */
static int challenge_mode(const struct config *cfg, const struct na_options *opt, struct daemon *d,
                          const char *user, const char *domain)
{
	uint8_t challenge[8], lm[24], nt[4096];
	size_t challenge_len = 0, lm_len = 0, nt_len = 0;
	struct ntlm_writer fields;
	struct ntlmd_reply reply = {0};
	const uint8_t *key;
	size_t key_len;
	enum ntlm_status st;
	int rc;

	if (!hex_option("challenge", cfg->values[O_CHALLENGE], 8, 8, challenge, &challenge_len))
		return 1;
	if (cfg->values[O_LM_RESPONSE] != NULL &&
	    !hex_option("lm-response", cfg->values[O_LM_RESPONSE], 24, 24, lm, &lm_len))
		return 1;
	if (cfg->values[O_NT_RESPONSE] != NULL &&
	    !hex_option("nt-response", cfg->values[O_NT_RESPONSE], 24, sizeof(nt), nt, &nt_len))
		return 1;
	if (lm_len == 0 && nt_len == 0) {
		fprintf(stderr, "ntlm_auth: must supply LM or NT response for a challenge\n");
		return 1;
	}
	ntlmd_fields_init(&fields);
	if (opt->service != NULL)
		ntlmd_put_string(&fields, NTLMD_TAG_SERVICE, opt->service);
	ntlmd_put_string(&fields, NTLMD_TAG_USER, user);
	ntlmd_put_string(&fields, NTLMD_TAG_DOMAIN, domain);
	ntlmd_put_string(&fields, NTLMD_TAG_WORKSTATION, opt->workstation);
	ntlmd_put_bytes(&fields, NTLMD_TAG_SERVER_CHALLENGE, challenge, challenge_len);
	if (lm_len > 0)
		ntlmd_put_bytes(&fields, NTLMD_TAG_LM_RESPONSE, lm, lm_len);
	if (nt_len > 0)
		ntlmd_put_bytes(&fields, NTLMD_TAG_NT_RESPONSE, nt, nt_len);
	if (cfg->flags[O_ALLOW_MSCHAPV2])
		ntlmd_put_u8(&fields, NTLMD_TAG_MSCHAPV2, 1);
	st = exec_request(opt, d, NTLMD_REQ_VERIFY_RESPONSE, &fields, &reply);
	ntlm_wipe(nt, sizeof(nt));
	ntlm_wipe(lm, sizeof(lm));
	if (st != NTLM_OK) {
		char esc[NA_ESCAPE_MAX];

		/* the name is the client's (FreeRADIUS's User-Name): escaped */
		fprintf(stderr, "ntlm_auth: user \"%s\": %s\n", na_escape(user, esc, sizeof(esc)),
		        ntlm_status_name(st));
		rc = print_failure(st);
		goto out;
	}
	rc = 0;
	if (cfg->flags[O_REQUEST_NT_KEY] &&
	    ntlmd_frame_get_bytes(&reply.frame, NTLMD_TAG_SESSION_KEY, &key, &key_len) == NTLM_OK &&
	    key_len == 16) {
		fputs("NT_KEY: ", stdout);
		for (size_t i = 0; i < key_len; i++)
			printf("%02X", key[i]);
		fputc('\n', stdout);
	}
out:
	ntlmd_reply_clear(&reply);
	return rc;
}

static int plaintext_mode(const struct na_options *opt, struct daemon *d, const char *user,
                          const char *domain, const char *password)
{
	struct ntlm_writer fields;
	struct ntlmd_reply reply = {0};
	enum ntlm_status st;

	ntlmd_fields_init(&fields);
	if (opt->service != NULL)
		ntlmd_put_string(&fields, NTLMD_TAG_SERVICE, opt->service);
	ntlmd_put_string(&fields, NTLMD_TAG_USER, user);
	ntlmd_put_string(&fields, NTLMD_TAG_DOMAIN, domain);
	ntlmd_put_string(&fields, NTLMD_TAG_WORKSTATION, opt->workstation);
	ntlmd_put_string(&fields, NTLMD_TAG_PASSWORD, password);
	st = exec_request(opt, d, NTLMD_REQ_CHECK_PASSWORD, &fields, &reply);
	ntlmd_reply_clear(&reply);
	printf("%s: %s (0x%lx)\n", na_status_name(st, true), na_status_text(st, true),
	       (unsigned long)na_status_code(st, true));
	return st == NTLM_OK ? 0 : 1;
}

/* --diagnostics: needs the password (Samba prompts; this helper does not). */
static int diagnostics_mode(const struct config *cfg, const struct na_options *opt, struct daemon *d,
                            const char *user, const char *domain, const char *password)
{
	struct na_diagnostics diag = {.user = user,
	                              .domain = domain,
	                              .password = password,
	                              .service = opt->service,
	                              .request_lm_key = cfg->flags[O_REQUEST_LM_KEY],
	                              .call = call_daemon,
	                              .call_ctx = d};

	if (password == NULL) {
		fputs("ntlm_auth: --diagnostics needs --password\n", stderr);
		return 1;
	}
	return na_diagnostics_run(&diag);
}

/* ------------------------------------------------------------------ */
/* Helper loop                                                         */

/* Writes the whole reply and flushes it; false when stdout is gone. */
static bool write_reply(struct na_buf *out)
{
	bool ok = !out->failed;

	if (out->failed) {
		fputs("ntlm_auth: out of memory while answering\n", stderr);
		ok = fputs("BH out of memory\n", stdout) >= 0;
	} else if (out->len > 0) {
		ok = fwrite(out->p, 1, out->len, stdout) == out->len;
	}
	ok = fflush(stdout) == 0 && ok;
	na_buf_clear(out);
	return ok;
}

/* The server helpers, where --password is Samba's test mode. */
static bool server_protocol(enum na_protocol p)
{
	return p == NA_PROTO_SQUID_NTLMSSP || p == NA_PROTO_GSS_SPNEGO || p == NA_PROTO_NTLM_SERVER_1;
}

/* Samba's test mode: --password with a server protocol (and
 * --local-test-password, check_local_test_mode) checks the client's
 * responses against it, here (local.c). */
static bool local_mode(const struct na_options *opt)
{
	return opt->password != NULL && server_protocol(opt->protocol);
}

static int helper_loop(const struct na_options *opt, struct daemon *d)
{
	struct na_helper h;
	char *line = malloc(NA_MAX_LINE + 2);
	int rc = 0;

	if (line == NULL)
		return 1;
	/* a helper asks for every line: keep the connection (NULL: one per call) */
	d->client = ntlmd_client_new(d->socket, d->timeout_ms);
	if (local_mode(opt)) {
		struct na_local *l = &d->local;

		*l = (struct na_local){.password = opt->password,
		                       .separator = opt->separator,
		                       .fallback = call_daemon,
		                       .fallback_ctx = d};
		na_helper_init(&h, opt, na_local_call, l);
	} else {
		na_helper_init(&h, opt, call_daemon, d);
	}
	for (;;) {
		struct na_buf out = {0};
		size_t len;

		if (fgets(line, NA_MAX_LINE + 2, stdin) == NULL)
			break;
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n') {
			len--;
		} else if (len == NA_MAX_LINE + 1) {
			int c;

			while ((c = getchar()) != EOF && c != '\n')
				;
			na_helper_overlong(&h, &out);
			if (!write_reply(&out))
				break;
			continue;
		}
		na_helper_line(&h, line, len, &out);
		ntlm_wipe(line, len);
		if (!write_reply(&out)) {
			rc = 1;
			break;
		}
	}
	ntlm_wipe(line, NA_MAX_LINE + 2);
	free(line);
	na_helper_clear(&h);
	ntlmd_client_free(d->client);
	d->client = NULL;
	return rc;
}

/* ------------------------------------------------------------------ */

static unsigned parse_timeout(const char *s, bool *ok)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	*ok = errno == 0 && end != s && *end == '\0' && v > 0 && v <= 600000;
	return (unsigned)v;
}

/*
 * --password with a server helper is Samba's test mode (local.c): any user
 * name with that one password, checked here, not by ntlmd: no policy (NTLMv1
 * and LM accepted), no audit, no lockout, and a verdict that names the
 * client's spelling, no store's account. It must be asked for by name
 * (--local-test-password), never with an empty password, and never with
 * --require-membership-of (which would check the client's spelling of a
 * name no store vouches for). False (after a message) when the options
 * do not fit; a warning on stderr when the mode is on.
 */
static bool check_local_test_mode(const struct config *cfg)
{
	const char *proto_name = cfg->values[O_HELPER_PROTOCOL];
	enum na_protocol proto = proto_name != NULL ? na_protocol_from_name(proto_name) : NA_PROTO_NONE;
	bool server = server_protocol(proto), has_password = cfg->values[O_PASSWORD] != NULL;

	if (cfg->flags[O_LOCAL_TEST_PASSWORD] && !(server && has_password)) {
		usage_error("--local-test-password goes with --password and a server helper protocol "
		            "(squid-2.5-ntlmssp, gss-spnego, ntlm-server-1)");
		return false;
	}
	if (!server || !has_password)
		return true;
	if (!cfg->flags[O_LOCAL_TEST_PASSWORD]) {
		fprintf(stderr,
		        "ntlm_auth: --password with --helper-protocol=%s is Samba's local test mode: ANY "
		        "user name with that password is accepted, checked here instead of by ntlmd (no "
		        "policy, no audit, no lockout). A server helper asks ntlmd: leave --password out. "
		        "For a test, add --local-test-password.\n",
		        proto_name);
		return false;
	}
	if (cfg->values[O_PASSWORD][0] == '\0') {
		fputs("ntlm_auth: --local-test-password: the password is empty\n", stderr);
		return false;
	}
	if (cfg->values[O_REQUIRE_MEMBERSHIP_OF] != NULL) {
		fputs("ntlm_auth: --local-test-password: --require-membership-of cannot be checked (the "
		      "user is whatever name the client sends, no store's account)\n",
		      stderr);
		return false;
	}
	fprintf(stderr,
	        "ntlm_auth: WARNING: --local-test-password: %s accepts ANY user name with the "
	        "password given, checked here, not by ntlmd: no ntlmd.conf policy (NTLMv1 and LM "
	        "accepted), no audit record, no lockout. For tests only.\n",
	        proto_name);
	return true;
}

int main(int argc, char **argv)
{
	struct config cfg = {0};
	struct na_options opt = {0};
	struct daemon d = {0};
	char *split_domain = NULL, *password = NULL, *target_name = NULL;
	const char *user = NULL, *domain;
	int rc = 1;
	bool ok;

	if (argc < 2) {
		print_usage(stderr);
		return 1;
	}
	if (!parse_args(argc, argv, &cfg))
		return 1;
	if (cfg.flags[O_HELP] || cfg.flags[O_USAGE]) {
		print_usage(stdout);
		return 0;
	}
	if (cfg.flags[O_VERSION]) {
		printf("Version %s (pam_ntlm)\n", PACKAGE_VERSION);
		return 0;
	}
	if (!check_local_test_mode(&cfg))
		return 1;
	d.socket = cfg.values[O_SOCKET];
	if (cfg.values[O_TIMEOUT] != NULL) {
		d.timeout_ms = parse_timeout(cfg.values[O_TIMEOUT], &ok);
		if (!ok) {
			usage_error("bad --ntlmd-timeout '%s' (milliseconds, 1..600000)",
			            cfg.values[O_TIMEOUT]);
			return 1;
		}
	}
	opt.separator = '\\';
	if (cfg.values[O_SEPARATOR] != NULL) {
		if (strlen(cfg.values[O_SEPARATOR]) != 1) {
			usage_error("bad --separator '%s' (one character)", cfg.values[O_SEPARATOR]);
			return 1;
		}
		opt.separator = cfg.values[O_SEPARATOR][0];
	}
	opt.kv_replies = cfg.flags[O_SQUID_KV];
	opt.channel_ids = cfg.flags[O_CHANNEL_IDS];
	opt.workstation = cfg.values[O_WORKSTATION];
	group_daemon = (struct group_daemon){.socket = d.socket, .timeout_ms = d.timeout_ms, .opt = &opt};
	if (cfg.values[O_REQUIRE_MEMBERSHIP_OF] != NULL &&
	    !resolve_group(cfg.values[O_REQUIRE_MEMBERSHIP_OF], opt.separator, &opt))
		return 1;

	/* --username=DOM\user: the domain part must agree with --domain */
	domain = cfg.values[O_DOMAIN];
	if (cfg.values[O_USERNAME] != NULL) {
		if (!na_split_user(cfg.values[O_USERNAME], opt.separator, &split_domain, &user))
			return 1;
		if (split_domain != NULL) {
			if (domain != NULL && strcasecmp(domain, split_domain) != 0) {
				char e1[NA_ESCAPE_MAX], e2[NA_ESCAPE_MAX];

				fprintf(
				    stderr,
				    "ntlm_auth: Domain specified in username (%s) doesn't match specified "
				    "domain (%s)!\n",
				    na_escape(split_domain, e1, sizeof(e1)),
				    na_escape(domain, e2, sizeof(e2)));
				goto out;
			}
			domain = split_domain;
		}
	}
	opt.username = user;
	opt.domain = domain;
	if (cfg.values[O_PASSWORD] != NULL) {
		/* keep a copy and blank the argument, so that ps shows it for as
		 * short a time as possible */
		password = strdup(cfg.values[O_PASSWORD]);
		if (password == NULL)
			goto out;
		ntlm_wipe((char *)cfg.values[O_PASSWORD], strlen(cfg.values[O_PASSWORD]));
	}
	opt.password = password;
	opt.use_cached_creds = cfg.flags[O_USE_CACHED_CREDS];
	/* Samba's client modes name the target in MsvAvTargetName when a host
	 * is given: SERVICE/HOST, service "host" by default */
	if (cfg.values[O_TARGET_HOSTNAME] != NULL && cfg.values[O_TARGET_HOSTNAME][0] != '\0') {
		const char *service =
		    cfg.values[O_TARGET_SERVICE] != NULL && cfg.values[O_TARGET_SERVICE][0] != '\0'
		        ? cfg.values[O_TARGET_SERVICE]
		        : "host";
		size_t n = strlen(service) + strlen(cfg.values[O_TARGET_HOSTNAME]) + 2;

		if ((target_name = malloc(n)) == NULL)
			goto out;
		snprintf(target_name, n, "%s/%s", service, cfg.values[O_TARGET_HOSTNAME]);
		opt.target_name = target_name;
	}

	if (cfg.values[O_HELPER_PROTOCOL] != NULL) {
		opt.protocol = na_protocol_from_name(cfg.values[O_HELPER_PROTOCOL]);
		if (opt.protocol == NA_PROTO_NONE) {
			fprintf(stderr,
			        "ntlm_auth: unknown helper protocol [%s]\n\nValid helper protools:\n\n"
			        "squid-2.4-basic\nsquid-2.5-basic\nsquid-2.5-ntlmssp\nntlmssp-client-1\n"
			        "gss-spnego\ngss-spnego-client\nntlm-server-1\n",
			        cfg.values[O_HELPER_PROTOCOL]);
			goto out;
		}
		opt.service = cfg.values[O_SERVICE] != NULL            ? cfg.values[O_SERVICE]
		              : opt.protocol == NA_PROTO_NTLM_SERVER_1 ? "radius"
		                                                       : "squid";
		rc = helper_loop(&opt, &d);
		goto out;
	}

	opt.service = cfg.values[O_SERVICE] != NULL ? cfg.values[O_SERVICE] : "radius";
	if (user == NULL) {
		fputs("ntlm_auth: username must be specified!\n", stderr);
		goto out;
	}
	if (cfg.flags[O_DIAGNOSTICS]) {
		rc = diagnostics_mode(&cfg, &opt, &d, user, domain, password);
	} else if (cfg.values[O_CHALLENGE] != NULL) {
		rc = challenge_mode(&cfg, &opt, &d, user, domain);
	} else if (password != NULL) {
		rc = plaintext_mode(&opt, &d, user, domain, password);
	} else {
		fputs("ntlm_auth: a password (--password) or a challenge and response must be given\n",
		      stderr);
	}
out:
	fflush(stdout);
	free(split_domain);
	free(target_name);
	if (password != NULL) {
		ntlm_wipe(password, strlen(password));
		free(password);
	}
	return rc;
}
