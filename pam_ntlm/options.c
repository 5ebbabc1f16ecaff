/*
 * options.c: module options, status -> PAM code mapping and the decoding
 * of conversation answers (options.h). No PAM handle, no I/O.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <security/_pam_types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const mode_names[] = {
    [PAM_NTLM_MODE_AUTO] = "auto",
    [PAM_NTLM_MODE_EXCHANGE] = "exchange",
    [PAM_NTLM_MODE_VERIFY] = "verify",
    [PAM_NTLM_MODE_PASSWORD] = "password",
};

const char *pam_ntlm_mode_name(enum pam_ntlm_mode m)
{
	return (size_t)m < ARRAY_LEN(mode_names) ? mode_names[m] : "?";
}

/* Reports one bad argument; the argument's value is not quoted, since a
 * misplaced password must not reach the log. */
static unsigned complain(pam_ntlm_complain_fn fn, void *ctx, const char *before, const char *name,
                         const char *after)
{
	char msg[256];

	if (fn != NULL) {
		snprintf(msg, sizeof(msg), "%s%s%s", before, name, after);
		fn(ctx, msg);
	}
	return 1;
}

/* Copies value into dst[cap] when it fits and is not empty. */
static bool set_text(char *dst, size_t cap, const char *value)
{
	size_t n = strlen(value);

	if (n == 0 || n >= cap)
		return false;
	memcpy(dst, value, n + 1);
	return true;
}

/* A decimal number of milliseconds within the bounds. */
static bool set_timeout(unsigned *dst, const char *value)
{
	char *end = NULL;
	unsigned long v;

	if (!isdigit((unsigned char)value[0]))
		return false;
	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno != 0 || *end != '\0' || v < PAM_NTLM_TIMEOUT_MIN || v > PAM_NTLM_TIMEOUT_MAX)
		return false;
	*dst = (unsigned)v;
	return true;
}

/* A decimal uid, 0 to UINT32_MAX. */
static bool set_uid(uint32_t *dst, const char *value)
{
	char *end = NULL;
	unsigned long long v;

	if (!isdigit((unsigned char)value[0]))
		return false;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return false;
	*dst = (uint32_t)v;
	return true;
}

static bool set_mode(enum pam_ntlm_mode *dst, const char *value)
{
	for (size_t i = 0; i < ARRAY_LEN(mode_names); i++)
		if (strcmp(value, mode_names[i]) == 0) {
			*dst = (enum pam_ntlm_mode)i;
			return true;
		}
	return false;
}

/* The flag options: name -> member. */
static bool *flag_option(struct pam_ntlm_options *o, const char *arg)
{
	static const struct {
		const char *name;
		size_t offset;
	} flags[] = {
	    {"use_first_pass", offsetof(struct pam_ntlm_options, use_first_pass)},
	    {"try_first_pass", offsetof(struct pam_ntlm_options, try_first_pass)},
	    {"use_authtok", offsetof(struct pam_ntlm_options, use_authtok)},
	    {"migrate", offsetof(struct pam_ntlm_options, migrate)},
	    {"add_users", offsetof(struct pam_ntlm_options, add_users)},
	    {"ignore_unknown_user", offsetof(struct pam_ntlm_options, ignore_unknown_user)},
	    {"debug", offsetof(struct pam_ntlm_options, debug)},
	    {"require_cb", offsetof(struct pam_ntlm_options, require_cb)},
	};

	for (size_t i = 0; i < ARRAY_LEN(flags); i++)
		if (strcmp(arg, flags[i].name) == 0)
			return (bool *)((char *)o + flags[i].offset);
	return NULL;
}

/* One NAME=VALUE option; false when NAME is known but VALUE is not valid,
 * *ret_known false when NAME is not an option. */
static bool parse_valued(struct pam_ntlm_options *o, const char *name, size_t name_len, const char *value,
                         bool *ret_known)
{
	*ret_known = true;
	if (name_len == 6 && strncmp(name, "socket", 6) == 0)
		return value[0] == '/' && set_text(o->socket, sizeof(o->socket), value);
	if (name_len == 7 && strncmp(name, "timeout", 7) == 0)
		return set_timeout(&o->timeout_ms, value);
	if (name_len == 4 && strncmp(name, "mode", 4) == 0)
		return set_mode(&o->mode, value);
	if (name_len == 7 && strncmp(name, "service", 7) == 0)
		return set_text(o->service, sizeof(o->service), value);
	if (name_len == 7 && strncmp(name, "min_uid", 7) == 0) {
		if (!set_uid(&o->min_uid, value))
			return false;
		o->min_uid_set = true;
		return true;
	}
	*ret_known = false;
	return false;
}

unsigned pam_ntlm_parse_options(int argc, const char **argv, struct pam_ntlm_options *ret,
                                pam_ntlm_complain_fn fn, void *ctx)
{
	unsigned bad = 0;

	memset(ret, 0, sizeof(*ret));
	/* an exchange proves an account the client chooses: it starts only in
	 * a service that asks for one (docs/pam-conversation.md) */
	ret->mode = PAM_NTLM_MODE_PASSWORD;
	for (int i = 0; i < argc && argv != NULL; i++) {
		const char *arg = argv[i];
		const char *eq;
		bool *flag;
		bool known;

		if (arg == NULL || arg[0] == '\0') {
			bad += complain(fn, ctx, "empty module argument ignored", "", "");
			continue;
		}
		flag = flag_option(ret, arg);
		if (flag != NULL) {
			*flag = true;
			continue;
		}
		eq = strchr(arg, '=');
		if (eq == NULL) {
			bad += complain(fn, ctx, "unknown option \"", arg, "\" ignored");
			continue;
		}
		if (!parse_valued(ret, arg, (size_t)(eq - arg), eq + 1, &known)) {
			char name[64];
			size_t n =
			    (size_t)(eq - arg) < sizeof(name) - 1 ? (size_t)(eq - arg) : sizeof(name) - 1;

			memcpy(name, arg, n);
			name[n] = '\0';
			bad += complain(fn, ctx, known ? "option \"" : "unknown option \"", name,
			                known ? "\": invalid value ignored" : "=...\" ignored");
		}
	}
	if (ret->add_users && !ret->migrate)
		bad += complain(fn, ctx, "add_users applies only with migrate", "", "");
	if (ret->min_uid_set && !ret->add_users)
		bad += complain(fn, ctx, "min_uid applies only with migrate add_users", "", "");
	if (ret->use_first_pass && ret->try_first_pass) {
		ret->try_first_pass = false;
		bad += complain(fn, ctx, "use_first_pass and try_first_pass together: use_first_pass applies",
		                "", "");
	}
	return bad;
}

/* The value of a login.defs line whose name was UID_MIN: a decimal uid,
 * optionally in double quotes, then nothing but white space. */
static bool uid_min_value(const char *p, uint32_t *ret)
{
	char digits[16];
	size_t n = 0;
	bool quoted = *p == '"';

	if (quoted)
		p++;
	while (isdigit((unsigned char)*p) && n < sizeof(digits) - 1)
		digits[n++] = *p++;
	digits[n] = '\0';
	if (quoted && *p++ != '"')
		return false;
	while (isspace((unsigned char)*p))
		p++;
	return n > 0 && *p == '\0' && set_uid(ret, digits);
}

bool pam_ntlm_login_defs_uid_min(const char *path, uint32_t *ret)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	uint32_t v = 0;

	if (f == NULL)
		return false;
	while (getline(&line, &cap, f) >= 0) {
		const char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "UID_MIN", 7) != 0 || (p[7] != ' ' && p[7] != '\t'))
			continue;
		p += 7;
		while (*p == ' ' || *p == '\t')
			p++;
		if (uid_min_value(p, &v))
			found = true;
	}
	free(line);
	(void)fclose(f);
	if (found)
		*ret = v;
	return found;
}

/* ------------------------------------------------------------------ */

bool pam_ntlm_user_names_account(const char *pam_user, const char *account_name, const char *auth_user)
{
	if (pam_user == NULL || pam_user[0] == '\0' || account_name == NULL || account_name[0] == '\0')
		return false;
	/* not secret: names, compared byte for byte (case counts) */
	if (strcmp(pam_user, account_name) == 0)
		return true;
	return auth_user != NULL && auth_user[0] != '\0' && strcmp(pam_user, auth_user) == 0;
}

/* \xHH for byte c in out[0..4); returns 4. */
static size_t hex_escape(unsigned char c, char *out)
{
	static const char hex[] = "0123456789ABCDEF";

	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 0xf];
	return 4;
}

/* The escaped form of the character at s, in out[]; returns its length
 * (1, 2, 4 or 8 bytes). *ret_used is how many bytes of s it covers. */
static size_t escape_one(const unsigned char *s, char out[8], size_t *ret_used)
{
	*ret_used = 1;
	if (s[0] == '"' || s[0] == '\\') {
		out[0] = '\\';
		out[1] = (char)s[0];
		return 2;
	}
	if (s[0] < 0x20 || s[0] == 0x7f)
		return hex_escape(s[0], out);
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) { /* C1 in UTF-8 */
		*ret_used = 2;
		return hex_escape(s[0], out) + hex_escape(s[1], out + 4);
	}
	out[0] = (char)s[0];
	return 1;
}

/* The length of the escaped form of s (without quotes). */
static size_t escaped_len(const unsigned char *s)
{
	size_t total = 0;

	while (*s != '\0') {
		char form[8];
		size_t used;

		total += escape_one(s, form, &used);
		s += used;
	}
	return total;
}

const char *pam_ntlm_quote(const char *s, char *buf, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0, room;
	bool cut;

	if (cap < 8) {
		if (cap > 0)
			buf[0] = '\0';
		return buf;
	}
	if (s == NULL) {
		memcpy(buf, "-", 2);
		return buf;
	}
	/* the quotes and the NUL; "..." too when s is cut */
	cut = escaped_len(p) + 3 > cap;
	room = cap - (cut ? 6 : 3);
	buf[n++] = '"';
	while (*p != '\0') {
		char form[8];
		size_t used;
		size_t len = escape_one(p, form, &used);

		if (n - 1 + len > room)
			break;
		memcpy(buf + n, form, len);
		n += len;
		p += used;
	}
	memcpy(buf + n, cut ? "\"..." : "\"", cut ? 5 : 2);
	return buf;
}

/* ------------------------------------------------------------------ */

/* Account restrictions: logon hours, workstation, trust accounts. */
static bool is_restriction(enum ntlm_status s)
{
	return s == NTLM_STATUS_INVALID_LOGON_HOURS || s == NTLM_STATUS_INVALID_WORKSTATION ||
	       s == NTLM_STATUS_ACCOUNT_RESTRICTION || s == NTLM_STATUS_NOLOGON_TRUST_ACCOUNT;
}

int pam_ntlm_status_to_pam(enum ntlm_status s, enum pam_ntlm_phase phase)
{
	switch (s) {
	case NTLM_OK:
		return PAM_SUCCESS;
	case NTLM_STATUS_NO_SUCH_USER:
		return PAM_USER_UNKNOWN;
	case NTLM_STATUS_ACCOUNT_LOCKED_OUT:
		return phase == PAM_NTLM_PHASE_AUTH ? PAM_MAXTRIES : PAM_PERM_DENIED;
	case NTLM_STATUS_ACCOUNT_DISABLED:
	case NTLM_STATUS_ACCOUNT_EXPIRED:
		return phase == PAM_NTLM_PHASE_PASSWORD ? PAM_PERM_DENIED : PAM_ACCT_EXPIRED;
	case NTLM_STATUS_PASSWORD_EXPIRED:
	case NTLM_STATUS_PASSWORD_MUST_CHANGE:
		return phase == PAM_NTLM_PHASE_PASSWORD ? PAM_AUTHTOK_ERR : PAM_NEW_AUTHTOK_REQD;
	case NTLM_ERR_BACKEND_UNAVAILABLE:
	case NTLM_ERR_INTERNAL:
	case NTLM_ERR_CRYPTO:
	case NTLM_ERR_INSUFFICIENT_RESOURCES: /* ntlmd at a limit: no verdict on the credentials */
	case NTLM_ERR_CONFIG:                 /* ntlmd's configuration is wrong: not the user's fault */
		return PAM_AUTHINFO_UNAVAIL;
	case NTLM_ERR_NO_MEMORY:
		return PAM_BUF_ERR;
	case NTLM_ERR_INVALID_ARGUMENT:
		return phase == PAM_NTLM_PHASE_PASSWORD ? PAM_AUTHTOK_ERR : PAM_SYSTEM_ERR;
	default:
		break;
	}
	if (is_restriction(s))
		return phase == PAM_NTLM_PHASE_AUTH ? PAM_AUTH_ERR : PAM_PERM_DENIED;
	/* wrong password, logon failure, every NTLM policy refusal and every
	 * malformed message: the credentials were not good */
	return PAM_AUTH_ERR;
}

/* ------------------------------------------------------------------ */

/* Skips an optional scheme word ("NTLM ", "Negotiate ", any case). */
static const char *skip_scheme(const char *p)
{
	static const char *const schemes[] = {"NTLM", "Negotiate"};

	for (size_t i = 0; i < ARRAY_LEN(schemes); i++) {
		size_t n = strlen(schemes[i]);

		if (strncasecmp(p, schemes[i], n) == 0 && (p[n] == ' ' || p[n] == '\t')) {
			p += n;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
	}
	return p;
}

/* Decodes the whole message of its type, so that a malformed one is
 * refused before it goes to ntlmd (MS-NLMP 2.2.1). */
static enum ntlm_status check_message(const uint8_t *msg, size_t len, uint32_t type)
{
	enum ntlm_status st;

	if (type == 1) {
		struct ntlm_negotiate m;

		st = ntlm_negotiate_decode(msg, len, &m);
		if (st == NTLM_OK)
			ntlm_negotiate_clear(&m);
	} else if (type == 2) {
		struct ntlm_challenge m;

		st = ntlm_challenge_decode(msg, len, &m);
		if (st == NTLM_OK)
			ntlm_challenge_clear(&m);
	} else {
		struct ntlm_authenticate m;

		st = ntlm_authenticate_decode(msg, len, &m);
		if (st == NTLM_OK)
			ntlm_authenticate_clear(&m);
	}
	return st;
}

/* Records what a non-NTLMSSP token carried, for the caller's log line. */
static void note_kerberos(const struct spnego_token *t, struct pam_ntlm_wrapping *info)
{
	const char *what = ntlm_spnego_krb_msg_name(t->krb_msg_type);

	info->kerberos = true;
	snprintf(info->krb_what, sizeof(info->krb_what), "%s", what != NULL ? what : "");
	snprintf(info->krb_realm, sizeof(info->krb_realm), "%s", t->krb_realm);
	snprintf(info->krb_sname, sizeof(info->krb_sname), "%s", t->krb_sname);
}

/* The NTLMSSP message in the token buf: the whole of it when bare, or the
 * mechToken / responseToken of a SPNEGO or GSS-API token (RFC 4178 4.2). */
static enum ntlm_status find_ntlmssp(const uint8_t *buf, size_t len, struct ntlm_view *ret,
                                     struct pam_ntlm_wrapping *info)
{
	static const uint8_t signature[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};
	struct spnego_token t;
	enum ntlm_status st;

	if (len >= sizeof(signature) &&
	    memcmp(buf, signature, sizeof(signature)) == 0) { /* not secret: MS-NLMP 2.2.1 */
		ret->data = buf;
		ret->len = len;
		return NTLM_OK;
	}
	st = ntlm_spnego_unwrap(buf, len, &t);
	if (st != NTLM_OK)
		return st;
	if (t.kind == SPNEGO_KIND_KERBEROS)
		note_kerberos(&t, info);
	if (t.kind != SPNEGO_KIND_NTLMSSP || t.inner.len == 0) {
		/* RFC 4178 3.2: the acceptor may pick another mechanism of the
		 * list than the one of the optimistic token */
		for (size_t i = 0; t.form == SPNEGO_FORM_NEG_TOKEN_INIT && i < t.n_mechs; i++)
			if (strcmp(t.mech_types[i], SPNEGO_OID_NTLMSSP) == 0)
				info->offers_ntlmssp = true;
		return NTLM_ERR_WRONG_MESSAGE_TYPE;
	}
	info->spnego = t.form == SPNEGO_FORM_NEG_TOKEN_INIT || t.form == SPNEGO_FORM_NEG_TOKEN_RESP;
	*ret = t.inner;
	return NTLM_OK;
}

enum ntlm_status pam_ntlm_decode_token(const char *text, uint32_t type, uint8_t **ret, size_t *ret_len,
                                       struct pam_ntlm_wrapping *info)
{
	struct pam_ntlm_wrapping ignored;
	struct ntlm_view inner = {0};
	enum ntlm_status st;
	const char *p, *end;
	uint8_t *buf = NULL, *msg = NULL;
	size_t len = 0;
	uint32_t got = 0;

	if (info == NULL)
		info = &ignored;
	memset(info, 0, sizeof(*info));
	if (text == NULL)
		return NTLM_ERR_TRUNCATED;
	if (strnlen(text, PAM_NTLM_MAX_ANSWER + 1) > PAM_NTLM_MAX_ANSWER)
		return NTLM_ERR_MESSAGE_TOO_LONG;
	p = text;
	while (isspace((unsigned char)*p))
		p++;
	p = skip_scheme(p);
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (end == p)
		return NTLM_ERR_TRUNCATED;
	st = ntlm_base64_decode(p, (size_t)(end - p), &buf, &len);
	if (st != NTLM_OK)
		return st;
	st = find_ntlmssp(buf, len, &inner, info);
	if (st != NTLM_OK)
		goto out;
	if (inner.len > NTLM_MAX_MESSAGE) {
		st = NTLM_ERR_MESSAGE_TOO_LONG;
		goto out;
	}
	st = ntlm_message_type(inner.data, inner.len, &got);
	if (st != NTLM_OK)
		goto out;
	if (got != type) {
		st = NTLM_ERR_WRONG_MESSAGE_TYPE;
		goto out;
	}
	st = check_message(inner.data, inner.len, type);
	if (st != NTLM_OK)
		goto out;
	msg = malloc(inner.len);
	if (msg == NULL) {
		st = NTLM_ERR_NO_MEMORY;
		goto out;
	}
	memcpy(msg, inner.data, inner.len);
	*ret = msg;
	*ret_len = inner.len;
out:
	if (buf != NULL) {
		/* an AUTHENTICATE holds responses: wipe them with the buffer */
		ntlm_wipe(buf, len);
		free(buf);
	}
	return st;
}

enum ntlm_status pam_ntlm_decode_message(const char *text, uint32_t type, uint8_t **ret, size_t *ret_len)
{
	return pam_ntlm_decode_token(text, type, ret, ret_len, NULL);
}

bool pam_ntlm_looks_like_negotiate(const char *text)
{
	/* base64 of "NTLMSSP\0" and type 1 (MS-NLMP 2.2.1.1), or of a DER
	 * token: GSS-API 0x60 ("Y"), NegTokenInit / NegTokenResp 0xA0 / 0xA1
	 * ("o"). Anything else, a password in particular, is not decoded. */
	static const char b64_prefix[] = "TlRMTVNTUAAB";
	struct pam_ntlm_wrapping info;
	uint8_t *msg = NULL;
	size_t len = 0;
	const char *p = text;

	if (p == NULL)
		return false;
	while (isspace((unsigned char)*p))
		p++;
	p = skip_scheme(p);
	/* not secret: fixed prefixes */
	if (strncmp(p, b64_prefix, sizeof(b64_prefix) - 1) != 0 && p[0] != 'Y' && p[0] != 'o')
		return false;
	if (pam_ntlm_decode_token(text, 1, &msg, &len, &info) != NTLM_OK)
		return info.kerberos || info.offers_ntlmssp;
	free(msg);
	return true;
}
