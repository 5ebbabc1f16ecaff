/*
 * test_pam_options.c: pam_ntlm.so's option parsing, its mapping of
 * statuses to PAM codes and its decoding of conversation answers
 * (pam_ntlm/options.h).
 */
#include <security/_pam_types.h>
#include <unistd.h>

#include "options.h"
#include "testutil.h"

/* A NEGOTIATE as curl sends it, and a CHALLENGE of ntlmd (MS-NLMP 2.2.1.1, 2.2.1.2). */
#define NEGOTIATE_B64 "TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA="
#define CHALLENGE_B64                                                                                      \
	"TlRMTVNTUAACAAAABwAHADgAAAA2goribvc6mDl0e6QAAAAAAAAAADwAPAA/AAAACgBhSgAAAA9URVNUU1JWAQAOAFQARQBT" \
	"AFQAUwBSAFYAAgAOAFQARQBTAFQARABPAE0AAwAEAHYAbQAHAAgAT1ELIzuE3QEAAAAA"

struct complaints {
	unsigned n;
	char last[256];
};

static void collect(void *ctx, const char *message)
{
	struct complaints *c = ctx;

	c->n++;
	snprintf(c->last, sizeof(c->last), "%s", message);
}

static unsigned parse(struct pam_ntlm_options *o, struct complaints *c, int argc, const char **argv)
{
	memset(c, 0, sizeof(*c));
	return pam_ntlm_parse_options(argc, argv, o, collect, c);
}

START_TEST(defaults)
{
	struct pam_ntlm_options o;
	struct complaints c;

	ck_assert_uint_eq(parse(&o, &c, 0, NULL), 0);
	ck_assert_uint_eq(c.n, 0);
	ck_assert_str_eq(o.socket, "");
	ck_assert_str_eq(o.service, "");
	ck_assert_uint_eq(o.timeout_ms, 0);
	/* no exchange starts in a service that did not ask for one */
	ck_assert_int_eq(o.mode, PAM_NTLM_MODE_PASSWORD);
	ck_assert(!o.use_first_pass && !o.try_first_pass && !o.use_authtok && !o.migrate);
	ck_assert(!o.ignore_unknown_user && !o.debug && !o.require_cb);
	ck_assert(!o.add_users && !o.min_uid_set);
}
END_TEST

START_TEST(every_option)
{
	const char *argv[] = {"socket=/run/x/socket", "timeout=2500", "mode=verify", "use_first_pass",
	                      "use_authtok",          "migrate",      "add_users",   "min_uid=1500",
	                      "ignore_unknown_user",  "debug",        "require_cb",  "service=smb-front"};
	struct pam_ntlm_options o;
	struct complaints c;

	ck_assert_uint_eq(parse(&o, &c, (int)ARRAY_SIZE(argv), argv), 0);
	ck_assert_str_eq(o.socket, "/run/x/socket");
	ck_assert_uint_eq(o.timeout_ms, 2500);
	ck_assert_int_eq(o.mode, PAM_NTLM_MODE_VERIFY);
	ck_assert(o.use_first_pass && o.use_authtok && o.migrate && o.ignore_unknown_user && o.debug);
	ck_assert(o.require_cb && o.add_users && !o.try_first_pass);
	ck_assert(o.min_uid_set);
	ck_assert_uint_eq(o.min_uid, 1500);
	ck_assert_str_eq(o.service, "smb-front");
}
END_TEST

START_TEST(modes)
{
	static const struct {
		const char *arg;
		enum pam_ntlm_mode mode;
	} cases[] = {{"mode=auto", PAM_NTLM_MODE_AUTO},
	             {"mode=exchange", PAM_NTLM_MODE_EXCHANGE},
	             {"mode=verify", PAM_NTLM_MODE_VERIFY},
	             {"mode=password", PAM_NTLM_MODE_PASSWORD}};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *argv[1] = {cases[i].arg};
		struct pam_ntlm_options o;
		struct complaints c;

		ck_assert_uint_eq(parse(&o, &c, 1, argv), 0);
		ck_assert_int_eq(o.mode, cases[i].mode);
		ck_assert_str_eq(pam_ntlm_mode_name(o.mode), cases[i].arg + 5);
	}
}
END_TEST

/* Each bad argument is reported once, names the option, and leaves the
 * default in place; the good arguments around it still apply. */
START_TEST(bad_arguments_are_reported)
{
	static const char *const bad[] = {
	    "no_such_option", "Debug",       "debug=1",      "mode=",
	    "mode=kerberos",  "timeout=",    "timeout=99",   "timeout=600001",
	    "timeout=-5",     "timeout=10x", "timeout= 500", "socket=relative/path",
	    "socket=",        "service=",    "colour=blue",  "",
	    "min_uid=",       "min_uid=-1",  "min_uid=1e3",  "min_uid=4294967296",
	    "min_uid= 5",     "min_uid=x",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *argv[] = {"debug", bad[i], "mode=password"};
		struct pam_ntlm_options o;
		struct complaints c;

		ck_assert_msg(parse(&o, &c, 3, argv) == 1, "argument \"%s\" not refused", bad[i]);
		ck_assert_uint_eq(c.n, 1);
		ck_assert(o.debug);
		ck_assert_int_eq(o.mode, PAM_NTLM_MODE_PASSWORD);
		ck_assert_uint_eq(o.timeout_ms, 0);
		ck_assert_str_eq(o.socket, "");
		ck_assert_str_eq(o.service, "");
		ck_assert(!o.min_uid_set);
	}
}
END_TEST

START_TEST(complaints_name_the_option_not_the_value)
{
	const char *argv[] = {"timeout=Secret-Looking-Value"};
	const char *argv2[] = {"nosuch=Hunter2"};
	struct pam_ntlm_options o;
	struct complaints c;

	ck_assert_uint_eq(parse(&o, &c, 1, argv), 1);
	ck_assert_ptr_nonnull(strstr(c.last, "timeout"));
	ck_assert_ptr_null(strstr(c.last, "Secret"));
	ck_assert_uint_eq(parse(&o, &c, 1, argv2), 1);
	ck_assert_ptr_nonnull(strstr(c.last, "nosuch"));
	ck_assert_ptr_null(strstr(c.last, "Hunter2"));
}
END_TEST

START_TEST(limits)
{
	char long_socket[7 + PAM_NTLM_SOCKET_MAX + 2]; /* "socket=" and a path one byte too long */
	const char *argv[1] = {long_socket};
	const char *edges[] = {"timeout=100", "timeout=600000"};
	struct pam_ntlm_options o;
	struct complaints c;

	memset(long_socket, 'a', sizeof(long_socket) - 1);
	memcpy(long_socket, "socket=/", 8);
	long_socket[sizeof(long_socket) - 1] = '\0'; /* a path of PAM_NTLM_SOCKET_MAX + 1 bytes */
	ck_assert_uint_eq(parse(&o, &c, 1, argv), 1);
	ck_assert_str_eq(o.socket, "");
	long_socket[sizeof(long_socket) - 2] = '\0'; /* PAM_NTLM_SOCKET_MAX bytes: fits */
	ck_assert_uint_eq(parse(&o, &c, 1, argv), 0);
	ck_assert_uint_eq(strlen(o.socket), PAM_NTLM_SOCKET_MAX);
	ck_assert_uint_eq(parse(&o, &c, 2, edges), 0);
	ck_assert_uint_eq(o.timeout_ms, 600000);
}
END_TEST

START_TEST(add_users_needs_migrate)
{
	const char *argv[] = {"add_users"};
	struct pam_ntlm_options o;
	struct complaints c;

	ck_assert_uint_eq(parse(&o, &c, 1, argv), 1);
	ck_assert_ptr_nonnull(strstr(c.last, "migrate"));
}
END_TEST

START_TEST(min_uid_values)
{
	static const struct {
		const char *arg;
		uint32_t uid;
	} cases[] = {{"min_uid=0", 0}, {"min_uid=1000", 1000}, {"min_uid=4294967295", 4294967295u}};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *argv[] = {"migrate", "add_users", cases[i].arg};
		struct pam_ntlm_options o;
		struct complaints c;

		ck_assert_uint_eq(parse(&o, &c, 3, argv), 0);
		ck_assert(o.min_uid_set);
		ck_assert_uint_eq(o.min_uid, cases[i].uid);
	}
}
END_TEST

START_TEST(min_uid_needs_add_users)
{
	const char *argv[] = {"migrate", "min_uid=500"};
	struct pam_ntlm_options o;
	struct complaints c;

	ck_assert_uint_eq(parse(&o, &c, 2, argv), 1);
	ck_assert_ptr_nonnull(strstr(c.last, "add_users"));
	/* shipped_check (tests/pam/pam-lib.sh) looks for this text */
	ck_assert_ptr_nonnull(strstr(c.last, "applies only with migrate"));
}
END_TEST

/* Writes text to a new temporary file; returns its path (static buffer). */
static const char *login_defs(const char *text)
{
	static char path[] = "/tmp/test_pam_options.XXXXXX";
	int fd;

	memcpy(path + sizeof(path) - 7, "XXXXXX", 6);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(close(fd), 0);
	return path;
}

START_TEST(login_defs_uid_min)
{
	static const struct {
		const char *text;
		bool found;
		uint32_t uid;
	} cases[] = {
	    {"# shadow\nMAIL_DIR /var/mail\nUID_MIN\t\t\t 1000\nUID_MAX 60000\n", true, 1000},
	    {"  UID_MIN   500  \n", true, 500},
	    {"UID_MIN \"2000\"\n", true, 2000},
	    {"UID_MIN 100\nUID_MIN 1200\n", true, 1200}, /* the last one counts */
	    {"UID_MIN 100\nUID_MIN junk\n", true, 100},  /* an invalid line is skipped */
	    {"UID_MIN 1200", true, 1200},                /* no final newline */
	    {"#UID_MIN 100\nSYS_UID_MIN 100\nUID_MINIMUM 7\n", false, 0},
	    {"UID_MIN 0x10\n", false, 0},
	    {"UID_MIN -1\n", false, 0},
	    {"UID_MIN 4294967296\n", false, 0},
	    {"UID_MIN 12 34\n", false, 0},
	    {"UID_MIN \"12\n", false, 0},
	    {"UID_MIN\n", false, 0},
	    {"", false, 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *path = login_defs(cases[i].text);
		uint32_t v = 77;

		ck_assert_msg(pam_ntlm_login_defs_uid_min(path, &v) == cases[i].found, "case %zu", i);
		ck_assert_uint_eq(v, cases[i].found ? cases[i].uid : 77);
		unlink(path);
	}
	ck_assert(!pam_ntlm_login_defs_uid_min("/nonexistent/login.defs", &(uint32_t){0}));
}
END_TEST

START_TEST(first_pass_options_conflict)
{
	const char *argv[] = {"try_first_pass", "use_first_pass"};
	struct pam_ntlm_options o;
	struct complaints c;

	ck_assert_uint_eq(parse(&o, &c, 2, argv), 1);
	ck_assert(o.use_first_pass);
	ck_assert(!o.try_first_pass);
	ck_assert_uint_eq(pam_ntlm_parse_options(2, argv, &o, NULL, NULL), 1); /* no callback: no crash */
}
END_TEST

/* ------------------------------------------------------------------ */

START_TEST(status_mapping)
{
	static const struct {
		enum ntlm_status st;
		int auth, account, password;
	} cases[] = {
	    {NTLM_OK, PAM_SUCCESS, PAM_SUCCESS, PAM_SUCCESS},
	    {NTLM_STATUS_WRONG_PASSWORD, PAM_AUTH_ERR, PAM_AUTH_ERR, PAM_AUTH_ERR},
	    {NTLM_STATUS_LOGON_FAILURE, PAM_AUTH_ERR, PAM_AUTH_ERR, PAM_AUTH_ERR},
	    {NTLM_STATUS_NO_SUCH_USER, PAM_USER_UNKNOWN, PAM_USER_UNKNOWN, PAM_USER_UNKNOWN},
	    {NTLM_STATUS_ACCOUNT_DISABLED, PAM_ACCT_EXPIRED, PAM_ACCT_EXPIRED, PAM_PERM_DENIED},
	    {NTLM_STATUS_ACCOUNT_EXPIRED, PAM_ACCT_EXPIRED, PAM_ACCT_EXPIRED, PAM_PERM_DENIED},
	    {NTLM_STATUS_ACCOUNT_LOCKED_OUT, PAM_MAXTRIES, PAM_PERM_DENIED, PAM_PERM_DENIED},
	    {NTLM_STATUS_PASSWORD_EXPIRED, PAM_NEW_AUTHTOK_REQD, PAM_NEW_AUTHTOK_REQD, PAM_AUTHTOK_ERR},
	    {NTLM_STATUS_PASSWORD_MUST_CHANGE, PAM_NEW_AUTHTOK_REQD, PAM_NEW_AUTHTOK_REQD, PAM_AUTHTOK_ERR},
	    {NTLM_STATUS_INVALID_LOGON_HOURS, PAM_AUTH_ERR, PAM_PERM_DENIED, PAM_PERM_DENIED},
	    {NTLM_STATUS_INVALID_WORKSTATION, PAM_AUTH_ERR, PAM_PERM_DENIED, PAM_PERM_DENIED},
	    {NTLM_STATUS_ACCOUNT_RESTRICTION, PAM_AUTH_ERR, PAM_PERM_DENIED, PAM_PERM_DENIED},
	    {NTLM_STATUS_NOLOGON_TRUST_ACCOUNT, PAM_AUTH_ERR, PAM_PERM_DENIED, PAM_PERM_DENIED},
	    {NTLM_ERR_BACKEND_UNAVAILABLE, PAM_AUTHINFO_UNAVAIL, PAM_AUTHINFO_UNAVAIL, PAM_AUTHINFO_UNAVAIL},
	    {NTLM_ERR_INTERNAL, PAM_AUTHINFO_UNAVAIL, PAM_AUTHINFO_UNAVAIL, PAM_AUTHINFO_UNAVAIL},
	    {NTLM_ERR_NO_MEMORY, PAM_BUF_ERR, PAM_BUF_ERR, PAM_BUF_ERR},
	    {NTLM_ERR_INSUFFICIENT_RESOURCES, PAM_AUTHINFO_UNAVAIL, PAM_AUTHINFO_UNAVAIL,
	     PAM_AUTHINFO_UNAVAIL},
	    {NTLM_ERR_INVALID_ARGUMENT, PAM_SYSTEM_ERR, PAM_SYSTEM_ERR, PAM_AUTHTOK_ERR},
	    {NTLM_STATUS_MIC_INVALID, PAM_AUTH_ERR, PAM_AUTH_ERR, PAM_AUTH_ERR},
	    {NTLM_STATUS_BAD_BINDINGS, PAM_AUTH_ERR, PAM_AUTH_ERR, PAM_AUTH_ERR},
	    {NTLM_STATUS_CHALLENGE_EXPIRED, PAM_AUTH_ERR, PAM_AUTH_ERR, PAM_AUTH_ERR},
	    {NTLM_STATUS_NTLM_BLOCKED, PAM_AUTH_ERR, PAM_AUTH_ERR, PAM_AUTH_ERR},
	    {NTLM_ERR_TRUNCATED, PAM_AUTH_ERR, PAM_AUTH_ERR, PAM_AUTH_ERR},
	    {NTLM_ERR_WRONG_MESSAGE_TYPE, PAM_AUTH_ERR, PAM_AUTH_ERR, PAM_AUTH_ERR},
	    {NTLM_ERR_CONTROL_CHARACTER, PAM_AUTH_ERR, PAM_AUTH_ERR, PAM_AUTH_ERR},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *name = ntlm_status_name(cases[i].st);

		ck_assert_msg(pam_ntlm_status_to_pam(cases[i].st, PAM_NTLM_PHASE_AUTH) == cases[i].auth,
		              "%s auth", name);
		ck_assert_msg(pam_ntlm_status_to_pam(cases[i].st, PAM_NTLM_PHASE_ACCOUNT) == cases[i].account,
		              "%s account", name);
		ck_assert_msg(pam_ntlm_status_to_pam(cases[i].st, PAM_NTLM_PHASE_PASSWORD) ==
		                  cases[i].password,
		              "%s password", name);
	}
}
END_TEST

/* No failure is ever mapped to success, whatever the phase. */
START_TEST(no_failure_is_success)
{
	for (int s = 1; s < _NTLM_STATUS_MAX; s++)
		for (int p = PAM_NTLM_PHASE_AUTH; p <= PAM_NTLM_PHASE_PASSWORD; p++)
			ck_assert_msg(pam_ntlm_status_to_pam((enum ntlm_status)s, (enum pam_ntlm_phase)p) !=
			                  PAM_SUCCESS,
			              "%s", ntlm_status_name((enum ntlm_status)s));
}
END_TEST

/* ------------------------------------------------------------------ */

static enum ntlm_status decode(const char *text, uint32_t type, size_t *ret_len)
{
	uint8_t *msg = NULL;
	enum ntlm_status st = pam_ntlm_decode_message(text, type, &msg, ret_len);

	if (st == NTLM_OK) {
		ck_assert_ptr_nonnull(msg);
		ck_assert_mem_eq(msg, "NTLMSSP\0", 8);
		ck_assert_uint_eq(msg[8], type);
	}
	free(msg);
	return st;
}

START_TEST(answers_with_and_without_prefix)
{
	static const char *const good[] = {
	    NEGOTIATE_B64,          "NTLM " NEGOTIATE_B64,     "Negotiate " NEGOTIATE_B64,
	    "ntlm  " NEGOTIATE_B64, "  " NEGOTIATE_B64 "\r\n", "NEGOTIATE\t" NEGOTIATE_B64,
	};
	size_t len = 0;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		ck_assert_msg(decode(good[i], 1, &len) == NTLM_OK, "\"%s\"", good[i]);
		ck_assert_uint_eq(len, 32);
		ck_assert(pam_ntlm_looks_like_negotiate(good[i]));
	}
	ck_assert_int_eq(decode(CHALLENGE_B64, 2, &len), NTLM_OK);
}
END_TEST

START_TEST(bad_answers)
{
	char big[PAM_NTLM_MAX_ANSWER + 2];
	size_t len = 0;

	ck_assert_int_eq(decode(NULL, 1, &len), NTLM_ERR_TRUNCATED);
	ck_assert_int_eq(decode("", 1, &len), NTLM_ERR_TRUNCATED);
	ck_assert_int_eq(decode("NTLM ", 1, &len), NTLM_ERR_TRUNCATED);
	ck_assert_int_eq(decode("not base64!", 1, &len), NTLM_ERR_BAD_ENCODING);
	ck_assert_int_eq(decode("NTLMx" NEGOTIATE_B64, 1, &len), NTLM_ERR_BAD_ENCODING);
	/* base64 of "hello world!" */
	ck_assert(ntlm_status_is_malformed(decode("aGVsbG8gd29ybGQh", 1, &len)));
	/* the right message in the wrong place */
	ck_assert_int_eq(decode(NEGOTIATE_B64, 3, &len), NTLM_ERR_WRONG_MESSAGE_TYPE);
	ck_assert_int_eq(decode(CHALLENGE_B64, 1, &len), NTLM_ERR_WRONG_MESSAGE_TYPE);
	/* "NTLMSSP\0" and type 1, then nothing: a truncated NEGOTIATE */
	ck_assert_int_ne(decode("TlRMTVNTUAABAAAA", 1, &len), NTLM_OK);
	/* over the cap before any decoding */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(decode(big, 1, &len), NTLM_ERR_MESSAGE_TOO_LONG);
	/* a plain password is not a NEGOTIATE */
	ck_assert(!pam_ntlm_looks_like_negotiate("Passw0rd!"));
	ck_assert(!pam_ntlm_looks_like_negotiate(""));
	ck_assert(!pam_ntlm_looks_like_negotiate(CHALLENGE_B64));
}
END_TEST

/* Every truncation of a valid answer is refused without a crash. */
START_TEST(truncated_answers)
{
	char text[256];
	size_t len = 0;

	for (size_t n = 0; n < strlen(CHALLENGE_B64); n++) {
		snprintf(text, sizeof(text), "%.*s", (int)n, CHALLENGE_B64);
		(void)decode(text, 2, &len);
	}
	for (size_t n = 0; n < strlen(NEGOTIATE_B64); n++) {
		snprintf(text, sizeof(text), "%.*s", (int)n, NEGOTIATE_B64);
		ck_assert_int_ne(decode(text, 1, &len), NTLM_OK);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* SPNEGO-wrapped answers (RFC 4178 4.2), built here byte by byte       */

/* tag, short length, content: every token here stays under 128 bytes */
static size_t der(uint8_t *out, uint8_t tag, const uint8_t *content, size_t len)
{
	ck_assert_uint_lt(len, 128);
	out[0] = tag;
	out[1] = (uint8_t)len;
	memmove(out + 2, content, len);
	return len + 2;
}

static const uint8_t oid_spnego[] = {0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
static const uint8_t oid_ntlmssp[] = {0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
static const uint8_t oid_krb5[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};

/* GSS-API [APPLICATION 0] { SPNEGO, NegTokenInit { mechTypes { mech },
 * mechToken token } } */
static size_t neg_token_init(uint8_t *out, const uint8_t *mech, size_t mech_len, const uint8_t *token,
                             size_t token_len)
{
	uint8_t a[256], b[256];
	size_t n, m;

	n = der(a, 0x30, mech, mech_len);            /* MechTypeList */
	n = der(b, 0xa0, a, n);                      /* [0] mechTypes */
	m = der(a, 0x04, token, token_len);          /* OCTET STRING */
	m = der(b + n, 0xa2, a, m);                  /* [2] mechToken */
	n = der(a, 0x30, b, n + m);                  /* NegTokenInit */
	n = der(b + sizeof(oid_spnego), 0xa0, a, n); /* [0] */
	memcpy(b, oid_spnego, sizeof(oid_spnego));
	return der(out, 0x60, b, n + sizeof(oid_spnego)); /* RFC 2743 3.1 */
}

static char *b64(const uint8_t *p, size_t len)
{
	char *text = NULL;

	ck_assert_int_eq(ntlm_base64_encode(p, len, &text), NTLM_OK);
	return text;
}

START_TEST(spnego_wrapped_answers)
{
	uint8_t *neg = NULL, *msg = NULL, *resp = NULL;
	size_t neg_len = 0, len = 0, resp_len = 0;
	struct pam_ntlm_wrapping w;
	uint8_t tok[256];
	size_t tok_len;
	char *text;

	ck_assert_int_eq(ntlm_base64_decode(NEGOTIATE_B64, strlen(NEGOTIATE_B64), &neg, &neg_len), NTLM_OK);

	/* NegTokenInit with the NEGOTIATE as its mechToken */
	tok_len = neg_token_init(tok, oid_ntlmssp, sizeof(oid_ntlmssp), neg, neg_len);
	text = b64(tok, tok_len);
	ck_assert_int_eq(pam_ntlm_decode_token(text, 1, &msg, &len, &w), NTLM_OK);
	ck_assert(w.spnego);
	ck_assert(!w.kerberos);
	ck_assert_uint_eq(len, neg_len);
	ck_assert_mem_eq(msg, neg, neg_len);
	ck_assert(pam_ntlm_looks_like_negotiate(text));
	free(msg);
	msg = NULL;
	/* the right token, the wrong leg */
	ck_assert_int_eq(pam_ntlm_decode_token(text, 3, &msg, &len, &w), NTLM_ERR_WRONG_MESSAGE_TYPE);
	free(text);

	/* NegTokenResp (as the second leg comes) with "Negotiate " before it */
	ck_assert_int_eq(
	    ntlm_spnego_encode_resp(SPNEGO_ACCEPT_INCOMPLETE, false, neg, neg_len, NULL, 0, &resp, &resp_len),
	    NTLM_OK);
	text = b64(resp, resp_len);
	{
		char prefixed[512];

		snprintf(prefixed, sizeof(prefixed), "Negotiate %s", text);
		ck_assert_int_eq(pam_ntlm_decode_token(prefixed, 1, &msg, &len, &w), NTLM_OK);
		ck_assert(w.spnego);
		ck_assert_mem_eq(msg, neg, neg_len);
		free(msg);
		msg = NULL;
	}
	free(text);
	free(resp);

	/* a bare NTLMSSP message is not SPNEGO */
	ck_assert_int_eq(pam_ntlm_decode_token(NEGOTIATE_B64, 1, &msg, &len, &w), NTLM_OK);
	ck_assert(!w.spnego);
	free(msg);
	msg = NULL;

	/* Kerberos offered, with a Kerberos AP-REQ as the mechToken (RFC 4120
	 * 5.5.1 [APPLICATION 14]): refused, and said to be Kerberos */
	{
		static const uint8_t ap_req[] = {0x6e, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x02, 0x01, 0x05};

		tok_len = neg_token_init(tok, oid_krb5, sizeof(oid_krb5), ap_req, sizeof(ap_req));
		text = b64(tok, tok_len);
		ck_assert_int_eq(pam_ntlm_decode_token(text, 1, &msg, &len, &w), NTLM_ERR_WRONG_MESSAGE_TYPE);
		ck_assert(w.kerberos);
		ck_assert_str_eq(w.krb_what, "AP-REQ");
		ck_assert(!w.offers_ntlmssp);
		/* auto mode starts an exchange, which refuses it by name */
		ck_assert(pam_ntlm_looks_like_negotiate(text));
		free(text);

		/* the same listing NTLMSSP too: the module may select NTLMSSP */
		uint8_t both[sizeof(oid_krb5) + sizeof(oid_ntlmssp)];

		memcpy(both, oid_krb5, sizeof(oid_krb5));
		memcpy(both + sizeof(oid_krb5), oid_ntlmssp, sizeof(oid_ntlmssp));
		tok_len = neg_token_init(tok, both, sizeof(both), ap_req, sizeof(ap_req));
		text = b64(tok, tok_len);
		ck_assert_int_eq(pam_ntlm_decode_token(text, 1, &msg, &len, &w), NTLM_ERR_WRONG_MESSAGE_TYPE);
		ck_assert(w.kerberos);
		ck_assert(w.offers_ntlmssp);
		ck_assert(pam_ntlm_looks_like_negotiate(text));
		free(text);
	}

	/* every truncation of a wrapped token is refused without a crash */
	tok_len = neg_token_init(tok, oid_ntlmssp, sizeof(oid_ntlmssp), neg, neg_len);
	for (size_t n = 0; n < tok_len; n++) {
		text = b64(tok, n);
		ck_assert_int_ne(pam_ntlm_decode_token(text, 1, &msg, &len, &w), NTLM_OK);
		free(text);
	}
	free(neg);
}
END_TEST

/* The identity rule: a PAM user names an account when it is its store
 * name or its formatted name, byte for byte. */
START_TEST(identity_rule)
{
	static const struct {
		const char *pam_user, *account, *auth_user;
		bool same;
	} cases[] = {
	    {"alice", "alice", "TESTDOM\\alice", true},
	    {"TESTDOM\\alice", "alice", "TESTDOM\\alice", true},
	    {"alice", "alice", NULL, true},
	    /* case counts: Alice and alice are two accounts */
	    {"Alice", "alice", "TESTDOM\\alice", false},
	    {"alice", "Alice", "TESTDOM\\Alice", false},
	    {"ALICE", "alice", "TESTDOM\\alice", false},
	    {"testdom\\alice", "alice", "TESTDOM\\alice", false},
	    /* spaces and other spellings the store may match are not the name */
	    {" alice", "alice", "TESTDOM\\alice", false},
	    {"alice ", "alice", "TESTDOM\\alice", false},
	    {"TESTDOM/alice", "alice", "TESTDOM\\alice", false},
	    {"alice@TESTDOM", "alice", "TESTDOM\\alice", false},
	    /* another account */
	    {"root", "alice", "TESTDOM\\alice", false},
	    {"TESTDOM\\root", "alice", "TESTDOM\\alice", false},
	    /* nothing names nothing */
	    {"", "alice", "TESTDOM\\alice", false},
	    {NULL, "alice", "TESTDOM\\alice", false},
	    {"alice", NULL, "alice", false},
	    {"alice", "", "alice", false},
	    {"", "", "", false},
	    {"", "alice", "", false},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		ck_assert_msg(pam_ntlm_user_names_account(cases[i].pam_user, cases[i].account,
		                                          cases[i].auth_user) == cases[i].same,
		              "case %zu", i);
}
END_TEST

/* Names in log lines: quoted, escaped, cut. */
START_TEST(quoted_names)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"alice", "\"alice\""},
	    {"TESTDOM\\alice", "\"TESTDOM\\\\alice\""},
	    {"", "\"\""},
	    {"a\"b", "\"a\\\"b\""},
	    {"root\nPAM user \"alice\"", "\"root\\x0APAM user \\\"alice\\\"\""},
	    {"x\r\t\x1b[2Jy\x7f", "\"x\\x0D\\x09\\x1B[2Jy\\x7F\""},
	    {"a\xc2\x85"
	     "b",
	     "\"a\\xC2\\x85b\""},                   /* NEL, a C1 control */
	    {"j\xc3\xbcrgen", "\"j\xc3\xbcrgen\""}, /* other UTF-8 stays */
	    {"\xc2\xa0", "\"\xc2\xa0\""},           /* NBSP is not C1 */
	};
	char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		ck_assert_str_eq(pam_ntlm_quote(cases[i].in, buf, sizeof(buf)), cases[i].out);
	ck_assert_str_eq(pam_ntlm_quote(NULL, buf, sizeof(buf)), "-");
	ck_assert_str_eq(pam_ntlm_quote("alice", buf, 4), "");

	/* cut: the closing quote and "..." always fit, an escape is never split */
	ck_assert_str_eq(pam_ntlm_quote("abcdefgh", buf, 10), "\"abcd\"...");
	ck_assert_str_eq(pam_ntlm_quote("abcdefg", buf, 10), "\"abcdefg\"");
	ck_assert_str_eq(pam_ntlm_quote("ab\ncdefgh", buf, 10), "\"ab\"...");
	for (size_t cap = 8; cap < 40; cap++) {
		char small[40];
		const char *q = pam_ntlm_quote("name\n\"with\\ \x01 escapes\x7f", small, cap);

		ck_assert_uint_lt(strlen(q), cap);
		ck_assert_int_eq(q[0], '"');
		ck_assert(strchr(q, '\n') == NULL && strchr(q, '\x01') == NULL && strchr(q, '\x7f') == NULL);
		ck_assert(strcmp(q + strlen(q) - 1, "\"") == 0 || strcmp(q + strlen(q) - 4, "\"...") == 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pam_options");

	test_add_tcase(s, "options",
	               TESTS(defaults, every_option, modes, bad_arguments_are_reported,
	                     complaints_name_the_option_not_the_value, limits, add_users_needs_migrate,
	                     min_uid_values, min_uid_needs_add_users, login_defs_uid_min,
	                     first_pass_options_conflict));
	test_add_tcase(s, "status", TESTS(status_mapping, no_failure_is_success));
	test_add_tcase(s, "identity", TESTS(identity_rule, quoted_names));
	test_add_tcase(
	    s, "answers",
	    TESTS(answers_with_and_without_prefix, bad_answers, truncated_answers, spnego_wrapped_answers));
	return test_run_suite(s);
}
