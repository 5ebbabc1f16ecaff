/*
 * helper.c: the helper protocols of ntlm_auth, byte-compatible with Samba's
 * (squid-2.5-ntlmssp, squid-2.5-basic, gss-spnego, ntlm-server-1,
 * ntlmssp-client-1, gss-spnego-client). See helper.h and ntlm_auth(1).
 *
 * Diagnostics go to stderr only; stdout carries exactly the replies.
 */
#include <config.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper.h"
#include "protocol.h"
#include "spnego.h"

static const uint8_t ntlmssp_signature[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

/* ------------------------------------------------------------------ */
/* Output buffer                                                       */

void na_buf_add(struct na_buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = malloc(cap);

		if (p == NULL) {
			b->failed = true;
			return;
		}
		if (b->p != NULL) {
			memcpy(p, b->p, b->len);
			ntlm_wipe(b->p, b->cap);
			free(b->p);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

void na_buf_addf(struct na_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
	} else if ((size_t)n < sizeof(small)) {
		na_buf_add(b, small);
	} else {
		char *big = malloc((size_t)n + 1);

		if (big == NULL) {
			b->failed = true;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		na_buf_add(b, big);
		free(big);
	}
	ntlm_wipe(small, sizeof(small));
}

void na_buf_clear(struct na_buf *b)
{
	if (b->p != NULL) {
		ntlm_wipe(b->p, b->cap);
		free(b->p);
	}
	*b = (struct na_buf){0};
}

/* Appends the base64 of p[0..n) (nothing on failure, which the buffer
 * records). */
static void buf_add_b64(struct na_buf *b, const uint8_t *p, size_t n)
{
	char *s = NULL;

	if (ntlm_base64_encode(p, n, &s) != NTLM_OK) {
		b->failed = true;
		return;
	}
	na_buf_add(b, s);
	free(s);
}

/* Appends s URL-escaped for a Squid key=value reply (%XX for every byte
 * but letters, digits and "-._~"), so that spaces, quotes and backslashes
 * survive Squid's parser. */
static void buf_add_escaped(struct na_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char one[4];

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			one[0] = (char)c;
			one[1] = '\0';
		} else {
			one[0] = '%';
			one[1] = hex[c >> 4];
			one[2] = hex[c & 15];
			one[3] = '\0';
		}
		na_buf_add(b, one);
	}
}

/* The bytes no reply line may hold before its final LF: C0 controls and DEL. */
static bool is_control_byte(unsigned char c)
{
	return c < 0x20u || c == 0x7Fu;
}

/* Appends s[0..n) with every control byte replaced by '?': for the values
 * of the client that a reply echoes (ntlm-server-1's error texts). */
static void buf_add_clean(struct na_buf *b, const char *s, size_t n)
{
	char one[2] = {0, 0};

	for (size_t i = 0; i < n; i++) {
		one[0] = is_control_byte((unsigned char)s[i]) ? '?' : s[i];
		na_buf_add(b, one);
	}
}

/* The length of the valid UTF-8 sequence at p[0..n), or 0. */
static size_t utf8_sequence(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		len = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		len = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xE0)
		lo = 0xA0; /* overlong */
	else if (p[0] == 0xED)
		hi = 0x9F; /* surrogates */
	else if (p[0] == 0xF0)
		lo = 0x90; /* overlong */
	else if (p[0] == 0xF4)
		hi = 0x8F; /* over U+10FFFF */
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

/* The escaped form of the character at p[i] (of n bytes) in piece (room
 * for 16 bytes): its length; *ret_len gets the bytes it takes. */
static size_t escape_piece(const unsigned char *p, size_t n, size_t i, char piece[20], size_t *ret_len)
{
	size_t len = utf8_sequence(p + i, n - i), k = 0;
	bool escape =
	    len == 0 || p[i] < 0x20 || p[i] == 0x7F || (len == 2 && p[i] == 0xC2 && p[i + 1] <= 0x9F) ||
	    (len == 3 && p[i] == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9));

	if (len == 0)
		len = 1;
	for (size_t j = 0; j < len; j++) {
		if (escape)
			k += (size_t)snprintf(piece + k, 20 - k, "\\x%02x", p[i + j]);
		else if (p[i + j] == '"' || p[i + j] == '\\')
			k += (size_t)snprintf(piece + k, 20 - k, "\\%c", p[i + j]);
		else
			piece[k++] = (char)p[i + j];
	}
	*ret_len = len;
	return k;
}

const char *na_escape(const char *s, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), total = 0, o = 0, len;
	char piece[20];

	for (size_t i = 0; i < n; i += len)
		total += escape_piece(p, n, i, piece, &len);
	for (size_t i = 0; i < n; i += len) {
		size_t k = escape_piece(p, n, i, piece, &len);

		if (total > size - 1 && o + k > size - 4) {
			memcpy(out + o, "...", 3); /* cut: o <= size - 4 */
			o += 3;
			break;
		}
		memcpy(out + o, piece, k);
		o += k;
	}
	out[o] = '\0';
	return out;
}

static void log_line(const struct na_helper *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(const struct na_helper *h, const char *fmt, ...)
{
	va_list ap;

	if (h->opt.quiet)
		return;
	fputs("ntlm_auth: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------------ */
/* Protocol names                                                      */

enum na_protocol na_protocol_from_name(const char *name)
{
	static const struct {
		const char *name;
		enum na_protocol p;
	} names[] = {
	    {"squid-2.5-ntlmssp", NA_PROTO_SQUID_NTLMSSP},     {"squid-2.5-basic", NA_PROTO_SQUID_BASIC},
	    {"squid-2.4-basic", NA_PROTO_SQUID24_BASIC},       {"gss-spnego", NA_PROTO_GSS_SPNEGO},
	    {"ntlm-server-1", NA_PROTO_NTLM_SERVER_1},         {"ntlmssp-client-1", NA_PROTO_NTLMSSP_CLIENT},
	    {"gss-spnego-client", NA_PROTO_GSS_SPNEGO_CLIENT},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0)
			return names[i].p;
	return NA_PROTO_NONE;
}

/* ------------------------------------------------------------------ */
/* Helper state                                                        */

static void server_reset(struct na_helper *h)
{
	free(h->negotiate);
	free(h->challenge);
	h->negotiate = h->challenge = NULL;
	h->negotiate_len = h->challenge_len = 0;
	h->state = NA_STATE_NONE;
	h->has_flags = h->has_key = false;
	h->flags = 0;
	ntlm_wipe(h->session_key, sizeof(h->session_key));
}

static void block_clear(struct na_block *b)
{
	free(b->username);
	free(b->domain);
	free(b->full_username);
	ntlm_free_string(b->password);
	ntlm_free_wiped(b->challenge, b->challenge_len);
	ntlm_free_wiped(b->nt_response, b->nt_len);
	ntlm_free_wiped(b->lm_response, b->lm_len);
	na_buf_clear(&b->error);
	*b = (struct na_block){0};
}

/* Keeps err (a line's error reply) as the block's error when it is the
 * block's first; err is emptied either way. */
static void block_keep_error(struct na_block *b, struct na_buf *err)
{
	if (err->len == 0 && !err->failed) {
		na_buf_clear(err); /* no error, but it may hold a buffer */
		return;
	}
	if (b->error.len == 0 && !b->error.failed) {
		b->error = *err;
		*err = (struct na_buf){0};
	} else {
		na_buf_clear(err);
	}
}

/* The same for a fixed text. */
static void block_error(struct na_block *b, const char *text)
{
	struct na_buf err = {0};

	na_buf_add(&err, text);
	block_keep_error(b, &err);
}

void na_helper_init(struct na_helper *h, const struct na_options *opt, na_call_fn call, void *call_ctx)
{
	*h = (struct na_helper){0};
	h->opt = *opt;
	if (h->opt.separator == '\0')
		h->opt.separator = '\\';
	h->call = call;
	h->call_ctx = call_ctx;
	if (opt->password != NULL)
		h->client_password = strdup(opt->password);
}

void na_helper_clear(struct na_helper *h)
{
	server_reset(h);
	ntlm_free_string(h->client_password);
	free(h->client_negotiate);
	free(h->pending_blob);
	ntlm_free_string(h->pending_line);
	ntlm_session_free(h->client_session);
	block_clear(&h->block);
	*h = (struct na_helper){0};
}

/* Asks the daemon; returns its verdict, or NTLM_ERR_BACKEND_UNAVAILABLE
 * when it could not be asked (the reason is logged). *reply is cleared by
 * the caller whatever the result. */
static enum ntlm_status ask(struct na_helper *h, uint16_t type, struct ntlm_writer *fields,
                            struct ntlmd_reply *reply)
{
	enum ntlm_status st;

	if (h->opt.service != NULL && h->opt.service[0] != '\0')
		ntlmd_put_string(fields, NTLMD_TAG_SERVICE, h->opt.service);
	if (h->client_address[0] != '\0')
		ntlmd_put_string(fields, NTLMD_TAG_CLIENT_ADDRESS, h->client_address);
	if (fields->error != NTLM_OK) {
		/* the client's values cannot make a request (a name that is not
		 * UTF-8, too long): its own status, not "ntlmd unreachable" */
		st = fields->error;
		ntlm_writer_clear(fields);
		*reply = (struct ntlmd_reply){0};
		log_line(h, "the request cannot be put to ntlmd: %s (%s)", ntlm_status_name(st),
		         ntlm_status_message(st));
		return st;
	}
	st = h->call(h->call_ctx, type, fields, reply);
	ntlm_writer_clear(fields);
	if (st != NTLM_OK) {
		*reply = (struct ntlmd_reply){0};
		log_line(h, "ntlmd could not be asked: %s (%s)", ntlm_status_name(st),
		         ntlm_status_message(st));
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	}
	return reply->status;
}

/* --require-membership-of, after a successful authentication. */
static enum ntlm_status check_membership(const struct na_helper *h, const struct ntlmd_reply *reply)
{
	const char *user = na_reply_account(reply);
	enum ntlm_status st = na_membership(&h->opt, reply, user);
	char esc[NA_ESCAPE_MAX];

	if (st != NTLM_STATUS_LOGON_FAILURE)
		return st;
	log_line(h, "user \"%s\" is not a member of the required group %s (by NSS or ntlmd's group search)",
	         na_escape(user != NULL ? user : "", esc, sizeof(esc)),
	         h->opt.group_name != NULL ? h->opt.group_name : "");
	return NTLM_STATUS_LOGON_FAILURE;
}

/* Our side failed (daemon unreachable, ...): BH, not NA. */
static bool is_helper_failure(enum ntlm_status st)
{
	return st == NTLM_ERR_BACKEND_UNAVAILABLE || st == NTLM_ERR_NO_MEMORY || st == NTLM_ERR_CRYPTO ||
	       st == NTLM_ERR_INTERNAL || st == NTLM_ERR_INSUFFICIENT_RESOURCES || st == NTLM_ERR_CONFIG;
}

/* ------------------------------------------------------------------ */
/* key_extras: the client address                                      */

/* Whether s[0..len) is 1 to NA_MAX_ADDRESS printable ASCII characters
 * (no space). */
static bool address_word(const char *s, size_t len)
{
	if (len == 0 || len > NA_MAX_ADDRESS)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* Takes the client address from Squid's key_extras, extras[0..n) (the
 * text after the blob or the password and one space): its first word,
 * when address_word() says it may be one. "-" (Squid's unknown value) is
 * none; anything else is not sent, and said once. */
static void take_client_address(struct na_helper *h, const char *extras, size_t n)
{
	const char *end = memchr(extras, ' ', n);
	size_t len = end != NULL ? (size_t)(end - extras) : n;

	h->client_address[0] = '\0';
	if (len == 0 || (len == 1 && extras[0] == '-'))
		return;
	if (!address_word(extras, len)) {
		if (!h->address_refused)
			log_line(h,
			         "the first word of key_extras is no client address (1 to %u printable "
			         "characters): such lines reach ntlmd without one",
			         NA_MAX_ADDRESS);
		h->address_refused = true;
		return;
	}
	memcpy(h->client_address, extras, len);
	h->client_address[len] = '\0';
}

/* The key_extras of a YR or KK line: after the blob and one space. A
 * blob holds no space, so the first one ends it (memchr: the blob is
 * scanned again, for its base64, only by decode_blob). */
static void blob_line_address(struct na_helper *h, const char *line, size_t len)
{
	const char *sp;
	size_t at;

	if (len <= 3 || line[2] != ' ' || (sp = memchr(line + 3, ' ', len - 3)) == NULL)
		return;
	at = (size_t)(sp - line);
	take_client_address(h, line + at + 1, len - at - 1);
}

/* Decodes the base64 blob at the start of s[0..n): up to the first
 * character that is not base64 (key_extras follow after a space); missing
 * padding is tolerated, since Squid passes the client's text as it is. */
static enum ntlm_status decode_blob(const char *s, size_t n, uint8_t **ret, size_t *ret_len)
{
	size_t len = ntlm_base64_span(s, n);

	if (len > NA_MAX_LINE)
		return NTLM_ERR_MESSAGE_TOO_LONG;
	return ntlm_base64_decode_ex(s, len, NTLM_BASE64_PADDING_OPTIONAL, ret, ret_len);
}

/* ------------------------------------------------------------------ */
/* The NTLMSSP acceptor over ntlmd (squid-2.5-ntlmssp, gss-spnego)     */

struct step {
	enum ntlm_status st;
	bool final;   /* AUTHENTICATE handled: st is the verdict */
	uint8_t *out; /* the CHALLENGE to send (not final) */
	size_t out_len;
	char *user; /* the name to report (final, success) */
};

static void step_clear(struct step *s)
{
	free(s->out);
	free(s->user);
	*s = (struct step){0};
}

static void server_challenge(struct na_helper *h, const uint8_t *msg, size_t len, struct step *res)
{
	struct ntlm_writer fields;
	struct ntlmd_reply reply = {0};
	const uint8_t *challenge;
	uint8_t server_challenge[NTLM_CHALLENGE_LEN];
	size_t challenge_len;
	uint32_t flags;

	server_reset(h);
	ntlmd_fields_init(&fields);
	ntlmd_put_bytes(&fields, NTLMD_TAG_NEGOTIATE, msg, len);
	res->st = ask(h, NTLMD_REQ_CHALLENGE, &fields, &reply);
	if (res->st != NTLM_OK)
		goto out;
	if ((res->st = ntlmd_frame_get_bytes(&reply.frame, NTLMD_TAG_CHALLENGE, &challenge,
	                                     &challenge_len)) != NTLM_OK ||
	    (res->st = ntlm_challenge_peek(challenge, challenge_len, &flags, server_challenge)) != NTLM_OK) {
		log_line(h, "ntlmd sent no usable CHALLENGE: %s", ntlm_status_name(res->st));
		res->st = NTLM_ERR_INTERNAL;
		goto out;
	}
	h->negotiate = malloc(len);
	h->challenge = malloc(challenge_len);
	res->out = malloc(challenge_len);
	if (h->negotiate == NULL || h->challenge == NULL || res->out == NULL) {
		res->st = NTLM_ERR_NO_MEMORY;
		server_reset(h);
		goto out;
	}
	memcpy(h->negotiate, msg, len);
	h->negotiate_len = len;
	memcpy(h->challenge, challenge, challenge_len);
	h->challenge_len = challenge_len;
	memcpy(res->out, challenge, challenge_len);
	res->out_len = challenge_len;
	h->flags = flags;
	h->has_flags = true;
	h->state = NA_STATE_CHALLENGED;
out:
	ntlmd_reply_clear(&reply);
}

static void server_verify(struct na_helper *h, const uint8_t *msg, size_t len, struct step *res)
{
	struct ntlm_writer fields;
	struct ntlmd_reply reply = {0};
	const char *user = NULL;
	const uint8_t *key;
	size_t key_len;
	uint32_t flags;

	res->final = true;
	ntlmd_fields_init(&fields);
	ntlmd_put_bytes(&fields, NTLMD_TAG_NEGOTIATE, h->negotiate, h->negotiate_len);
	ntlmd_put_bytes(&fields, NTLMD_TAG_CHALLENGE, h->challenge, h->challenge_len);
	ntlmd_put_bytes(&fields, NTLMD_TAG_AUTHENTICATE, msg, len);
	res->st = ask(h, NTLMD_REQ_VERIFY, &fields, &reply);
	h->state = NA_STATE_DONE;
	if (ntlm_status_is_malformed(res->st)) /* the reply line says only NT_STATUS_INVALID_PARAMETER */
		log_line(h, "AUTHENTICATE refused by ntlmd: %s (%s)", ntlm_status_name(res->st),
		         ntlm_status_message(res->st));
	if (res->st == NTLM_OK &&
	    ntlmd_frame_get_string(&reply.frame, NTLMD_TAG_AUTH_USER, &user) != NTLM_OK) {
		log_line(h, "ntlmd accepted the logon but sent no user name");
		res->st = NTLM_ERR_INTERNAL;
	}
	if (res->st == NTLM_OK)
		res->st = check_membership(h, &reply);
	if (res->st == NTLM_OK && (res->user = strdup(user)) == NULL)
		res->st = NTLM_ERR_NO_MEMORY;
	if (ntlmd_frame_get_u32(&reply.frame, NTLMD_TAG_FLAGS, &flags) == NTLM_OK) {
		h->flags = flags;
		h->has_flags = true;
	}
	if (res->st == NTLM_OK &&
	    ntlmd_frame_get_bytes(&reply.frame, NTLMD_TAG_SESSION_KEY, &key, &key_len) == NTLM_OK &&
	    key_len == sizeof(h->session_key)) {
		memcpy(h->session_key, key, key_len);
		h->has_key = true;
	}
	ntlmd_reply_clear(&reply);
}

/* One NTLMSSP message of the client: NEGOTIATE starts a context (any state
 * but CHALLENGED), AUTHENTICATE finishes it; anything else is the wrong
 * message type. */
static void server_step(struct na_helper *h, const uint8_t *msg, size_t len, struct step *res)
{
	uint32_t type = 0;

	*res = (struct step){0};
	res->st = ntlm_message_type(msg, len, &type);
	if (res->st != NTLM_OK)
		goto bad;
	if (type == 1 && h->state != NA_STATE_CHALLENGED) {
		server_challenge(h, msg, len, res);
		return;
	}
	if (type == 3 && h->state == NA_STATE_CHALLENGED) {
		server_verify(h, msg, len, res);
		return;
	}
	res->st = NTLM_ERR_WRONG_MESSAGE_TYPE;
bad:
	log_line(h, "NTLMSSP message refused: %s (%s)", ntlm_status_name(res->st),
	         ntlm_status_message(res->st));
	res->final = true;
	server_reset(h);
	h->state = NA_STATE_DONE;
}

/* ------------------------------------------------------------------ */
/* Commands shared by the NTLMSSP modes: SF, PW, GK, GF                */

/* Returns true when the line was one of them (and answered). */
static bool common_command(struct na_helper *h, const char *line, size_t len, struct na_buf *out)
{
	if (len >= 2 && strncmp(line, "SF", 2) == 0) {
		na_buf_add(out, "OK\n");
		return true;
	}
	if (len >= 2 && strncmp(line, "PW", 2) == 0) {
		uint8_t *pw = NULL;
		size_t pw_len = 0;

		if (len < 3 || decode_blob(line + 3, len - 3, &pw, &pw_len) != NTLM_OK) {
			na_buf_add(out, "BH Invalid password\n");
			return true;
		}
		if (h->opt.protocol == NA_PROTO_NTLMSSP_CLIENT ||
		    h->opt.protocol == NA_PROTO_GSS_SPNEGO_CLIENT) {
			ntlm_free_string(h->client_password);
			h->client_password = strndup((const char *)pw, pw_len);
		} else {
			log_line(h, "PW ignored: ntlmd checks the passwords");
		}
		ntlm_free_wiped(pw, pw_len);
		na_buf_add(out, "OK\n");
		return true;
	}
	if (len == 2 && strncmp(line, "GK", 2) == 0) {
		if (!h->has_key) {
			na_buf_add(out, "BH No session key\n");
		} else {
			na_buf_add(out, "GK ");
			buf_add_b64(out, h->session_key, sizeof(h->session_key));
			na_buf_add(out, "\n");
		}
		return true;
	}
	if (len == 2 && strncmp(line, "GF", 2) == 0) {
		if (!h->has_flags)
			na_buf_add(out, "BH\n");
		else
			na_buf_addf(out, "GF 0x%08lx\n", (unsigned long)h->flags);
		return true;
	}
	return false;
}

/* Answers a line that is no known command (squid-2.5-ntlmssp wording). */
static void unknown_command(const char *line, size_t len, struct na_buf *out)
{
	if (len < 2)
		na_buf_add(out, "BH Query invalid\n");
	else if (strncmp(line, "OK", 2) == 0)
		na_buf_add(out, "BH Command expected\n");
	else
		na_buf_add(out, "BH SPNEGO request invalid prefix\n");
}

static void ntlmssp_failure(const struct na_helper *h, enum ntlm_status st, struct na_buf *out);
static void spnego_failure(const struct na_helper *h, enum ntlm_status st, struct na_buf *out);

/* The prologue of the server modes: a YR starts over; a line that is
 * neither YR nor KK is answered here (false is returned). */
static bool server_blob_line(struct na_helper *h, const char *line, size_t len, struct na_buf *out)
{
	if (len >= 2 && strncmp(line, "YR", 2) == 0) {
		server_reset(h);
		return true;
	}
	if (len >= 2 && strncmp(line, "KK", 2) == 0) {
		if (h->state != NA_STATE_DONE)
			return true;
		/* as Samba: a finished (or failed) context takes no more tokens
		 * until a YR starts a new one */
		log_line(h, "KK after the end of a handshake; a YR must start a new one");
		if (h->opt.protocol == NA_PROTO_GSS_SPNEGO)
			spnego_failure(h, NTLM_ERR_WRONG_MESSAGE_TYPE, out);
		else
			ntlmssp_failure(h, NTLM_ERR_WRONG_MESSAGE_TYPE, out);
		return false;
	}
	if (!common_command(h, line, len, out))
		unknown_command(line, len, out);
	return false;
}

/* ------------------------------------------------------------------ */
/* squid-2.5-ntlmssp                                                   */

static void ntlmssp_failure(const struct na_helper *h, enum ntlm_status st, struct na_buf *out)
{
	const char *name = na_status_name(st, true);

	if (is_helper_failure(st))
		na_buf_addf(out, h->opt.kv_replies ? "BH message=%s\n" : "BH %s %s\n", name, name);
	else
		na_buf_addf(out, h->opt.kv_replies ? "ERR message=%s\n" : "NA %s\n", name);
}

static void squid_ntlmssp_line(struct na_helper *h, const char *line, size_t len, struct na_buf *out)
{
	struct step res = {0};
	uint8_t *msg = NULL;
	size_t msg_len = 0;

	if (!server_blob_line(h, line, len, out))
		return;
	blob_line_address(h, line, len);
	if (len <= 3 || line[2] != ' ' || decode_blob(line + 3, len - 3, &msg, &msg_len) != NTLM_OK ||
	    msg_len == 0) {
		log_line(h, "%.2s without a decodable NTLMSSP blob", line);
		server_reset(h);
		na_buf_add(out, h->opt.kv_replies ? "ERR message=NT_STATUS_INVALID_PARAMETER\n"
		                                  : "NA NT_STATUS_INVALID_PARAMETER\n");
		goto out;
	}
	server_step(h, msg, msg_len, &res);
	if (res.st == NTLM_OK && !res.final) {
		na_buf_add(out, "TT ");
		buf_add_b64(out, res.out, res.out_len);
		na_buf_add(out, "\n");
	} else if (res.st == NTLM_OK) {
		if (h->opt.kv_replies) {
			na_buf_add(out, "OK user=");
			buf_add_escaped(out, res.user);
			na_buf_add(out, "\n");
		} else {
			na_buf_addf(out, "AF %s\n", res.user);
		}
	} else {
		ntlmssp_failure(h, res.st, out);
	}
out:
	step_clear(&res);
	free(msg);
}

/* ------------------------------------------------------------------ */
/* gss-spnego                                                          */

static bool offers_ntlmssp(const struct spnego_token *t)
{
	for (size_t i = 0; i < t->n_mechs; i++)
		if (strcmp(t->mech_types[i], SPNEGO_OID_NTLMSSP) == 0)
			return true;
	return false;
}

/* TT with a NegTokenResp: accept-incomplete, NTLMSSP, and token if any. */
static void spnego_continue(struct na_buf *out, const uint8_t *token, size_t token_len)
{
	uint8_t *der = NULL;
	size_t der_len = 0;

	if (ntlm_spnego_encode_resp(SPNEGO_ACCEPT_INCOMPLETE, true, token, token_len, NULL, 0, &der,
	                            &der_len) != NTLM_OK) {
		na_buf_add(out, "BH NT_STATUS_NO_MEMORY * NT_STATUS_NO_MEMORY\n");
		return;
	}
	na_buf_add(out, "TT ");
	buf_add_b64(out, der, der_len);
	na_buf_add(out, " *\n");
	free(der);
}

static void spnego_failure(const struct na_helper *h, enum ntlm_status st, struct na_buf *out)
{
	const char *name = na_status_name(st, true);

	if (h->opt.kv_replies)
		na_buf_addf(out, "%s message=%s\n", is_helper_failure(st) ? "BH" : "ERR", name);
	else if (is_helper_failure(st))
		na_buf_addf(out, "BH %s * %s\n", name, name);
	else
		na_buf_addf(out, "NA * %s\n", name);
}

static void spnego_success(const struct na_helper *h, const char *user, struct na_buf *out)
{
	uint8_t *der = NULL;
	size_t der_len = 0;

	if (h->spnego && ntlm_spnego_encode_resp(SPNEGO_ACCEPT_COMPLETED, false, NULL, 0, NULL, 0, &der,
	                                         &der_len) != NTLM_OK) {
		spnego_failure(h, NTLM_ERR_NO_MEMORY, out);
		return;
	}
	if (h->opt.kv_replies) {
		/* Squid needs a token with the user; AA== stands for none. */
		na_buf_add(out, "OK token=");
		if (der != NULL)
			buf_add_b64(out, der, der_len);
		else
			na_buf_add(out, "AA==");
		na_buf_add(out, " user=");
		buf_add_escaped(out, user);
	} else {
		na_buf_add(out, "AF ");
		if (der != NULL)
			buf_add_b64(out, der, der_len);
		else
			na_buf_add(out, "*");
		na_buf_addf(out, " %s", user);
	}
	na_buf_add(out, "\n");
	free(der);
}

/* A token that carries no NTLMSSP message: Kerberos, or a NegTokenInit
 * whose optimistic token is not NTLMSSP. */
static void spnego_not_ntlmssp(struct na_helper *h, const struct spnego_token *t, struct na_buf *out)
{
	if (t->form == SPNEGO_FORM_NEG_TOKEN_INIT && offers_ntlmssp(t)) {
		/* RFC 4178 5: the acceptor picks NTLMSSP; the client restarts
		 * with an NTLMSSP NEGOTIATE in its next token. */
		server_reset(h);
		h->spnego = true;
		spnego_continue(out, NULL, 0);
		return;
	}
	server_reset(h);
	h->state = NA_STATE_DONE;
	if (t->kind == SPNEGO_KIND_KERBEROS) {
		log_line(
		    h,
		    "Kerberos token refused (%s%s%s%s%s): Kerberos is not served by this helper, which "
		    "verifies NTLMSSP through ntlmd; use a Kerberos helper such as negotiate_kerberos_auth",
		    ntlm_spnego_krb_msg_name(t->krb_msg_type) != NULL
		        ? ntlm_spnego_krb_msg_name(t->krb_msg_type)
		        : "Kerberos message",
		    t->krb_sname[0] != '\0' ? ", service " : "", t->krb_sname,
		    t->krb_realm[0] != '\0' ? ", realm " : "", t->krb_realm);
		na_buf_add(out, h->opt.kv_replies ? "BH message=\"Kerberos is not served by this helper\"\n"
		                                  : "BH Kerberos is not served by this helper\n");
		return;
	}
	log_line(h, "SPNEGO token without an NTLMSSP message (%s) refused", ntlm_spnego_kind_name(t->kind));
	spnego_failure(h, NTLM_ERR_INVALID_ARGUMENT, out);
}

static void spnego_init(struct na_helper *h, struct na_buf *out)
{
	uint8_t *der = NULL;
	size_t der_len = 0;

	server_reset(h);
	h->spnego = true;
	if (ntlm_spnego_encode_init_ntlmssp(&der, &der_len) != NTLM_OK) {
		spnego_failure(h, NTLM_ERR_NO_MEMORY, out);
		return;
	}
	na_buf_add(out, "TT ");
	buf_add_b64(out, der, der_len);
	na_buf_add(out, " *\n");
	free(der);
}

static void gss_spnego_line(struct na_helper *h, const char *line, size_t len, struct na_buf *out)
{
	struct step res = {0};
	struct spnego_token t;
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	const uint8_t *msg;
	size_t msg_len;
	bool yr = len >= 2 && strncmp(line, "YR", 2) == 0;
	enum ntlm_status st;

	if (!server_blob_line(h, line, len, out))
		return;
	blob_line_address(h, line, len);
	st = len > 3 && line[2] == ' ' ? decode_blob(line + 3, len - 3, &blob, &blob_len) : NTLM_OK;
	if (st != NTLM_OK || blob_len == 0) {
		free(blob);
		/* no token: the acceptor speaks first (a blob that is not base64
		 * decodes to nothing, as in Samba) */
		if (yr && st == NTLM_OK) {
			spnego_init(h, out);
			return;
		}
		log_line(h, "%.2s without a decodable token", line);
		spnego_failure(h, NTLM_ERR_BAD_ENCODING, out);
		return;
	}
	if (blob_len >= sizeof(ntlmssp_signature) &&
	    memcmp(blob, ntlmssp_signature, sizeof(ntlmssp_signature)) == 0) { /* not secret: a signature */
		if (h->state != NA_STATE_CHALLENGED)
			h->spnego = false;
		msg = blob;
		msg_len = blob_len;
	} else if ((st = ntlm_spnego_unwrap(blob, blob_len, &t)) != NTLM_OK) {
		log_line(h, "undecodable Negotiate token: %s (%s)", ntlm_status_name(st),
		         ntlm_status_message(st));
		server_reset(h);
		spnego_failure(h, st, out);
		goto out;
	} else if (t.kind != SPNEGO_KIND_NTLMSSP) {
		spnego_not_ntlmssp(h, &t, out);
		goto out;
	} else {
		/* Not checked, and said once per process, not on every logon
		 * (Squid's cache.log): ntlm_auth(1) says why. */
		if (t.mech_list_mic.len > 0 && !h->mic_noted) {
			log_line(h, "the client's mechListMIC is not checked (NTLMSSP is the only mechanism "
			            "offered and chosen; see ntlm_auth(1)); said once per process");
			h->mic_noted = true;
		}
		h->spnego = true;
		msg = t.inner.data;
		msg_len = t.inner.len;
	}
	server_step(h, msg, msg_len, &res);
	if (res.st == NTLM_OK && !res.final) {
		if (h->spnego) {
			spnego_continue(out, res.out, res.out_len);
		} else {
			na_buf_add(out, "TT ");
			buf_add_b64(out, res.out, res.out_len);
			na_buf_add(out, " *\n");
		}
	} else if (res.st == NTLM_OK) {
		spnego_success(h, res.user, out);
	} else {
		spnego_failure(h, res.st, out);
	}
out:
	step_clear(&res);
	free(blob);
}

/* ------------------------------------------------------------------ */
/* squid-2.5-basic / squid-2.4-basic                                   */

/* Strict URL unescaping of s[0..n) (Samba >= 4.9): '%' must be followed
 * by two hex digits and "%00" is refused. NULL on failure. */
static char *url_unescape(const char *s, size_t n)
{
	char *r = malloc(n + 1);
	size_t o = 0;

	if (r == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			r[o++] = s[i];
			continue;
		}
		int hi, lo;

		if (i + 2 >= n)
			goto bad;
		hi = ntlm_hex_digit(s[i + 1]);
		lo = ntlm_hex_digit(s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			goto bad;
		r[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	r[o] = '\0';
	return r;
bad:
	ntlm_free_wiped(r, n + 1);
	return NULL;
}

/* A Basic verdict. In key=value form a success names the account as
 * ntlmd found it (user=, URL-escaped), so that Squid's ACLs and logs see
 * the account and not the spelling typed; the old form has no room for
 * it. account is NULL on failure. */
static void basic_reply(const struct na_helper *h, const char *id, size_t id_len, enum ntlm_status st,
                        const char *account, struct na_buf *out)
{
	if (id != NULL && id_len > 0)
		na_buf_addf(out, "%.*s ", (int)id_len, id);
	if (st == NTLM_OK && h->opt.kv_replies && account != NULL) {
		na_buf_add(out, "OK user=");
		buf_add_escaped(out, account);
		na_buf_add(out, "\n");
	} else if (st == NTLM_OK)
		na_buf_add(out, "OK\n");
	else if (!h->opt.kv_replies)
		na_buf_add(out, "ERR\n");
	else
		na_buf_addf(out, "%s message=%s\n", is_helper_failure(st) ? "BH" : "ERR",
		            na_status_name(st, true));
}

/* CHECK_PASSWORD of a Basic "[DOMAIN\\]user password"; on success
 * *ret_account is the account's formatted name (AUTH_USER, malloc'd). */
static enum ntlm_status basic_check(struct na_helper *h, const char *name, const char *password,
                                    char **ret_account)
{
	struct ntlm_writer fields;
	struct ntlmd_reply reply = {0};
	char *domain = NULL;
	const char *user, *account;
	enum ntlm_status st;

	if (!na_split_user(name, h->opt.separator, &domain, &user))
		return NTLM_ERR_NO_MEMORY;
	ntlmd_fields_init(&fields);
	ntlmd_put_string(&fields, NTLMD_TAG_USER, user);
	ntlmd_put_string(&fields, NTLMD_TAG_DOMAIN, domain);
	ntlmd_put_string(&fields, NTLMD_TAG_PASSWORD, password);
	st = ask(h, NTLMD_REQ_CHECK_PASSWORD, &fields, &reply);
	if (st == NTLM_OK)
		st = check_membership(h, &reply);
	if (st == NTLM_OK && (account = ntlmd_frame_string(&reply.frame, NTLMD_TAG_AUTH_USER)) != NULL &&
	    (*ret_account = strdup(account)) == NULL)
		st = NTLM_ERR_NO_MEMORY;
	ntlmd_reply_clear(&reply);
	free(domain);
	return st;
}

/* The length of the channel-ID that starts a basic request line (its
 * first word), 0 without --channel-ids. */
static size_t channel_id_len(const struct na_helper *h, const char *line, size_t len)
{
	const char *sp;

	if (!h->opt.channel_ids)
		return 0;
	sp = memchr(line, ' ', len);
	return sp != NULL ? (size_t)(sp - line) : len;
}

static void basic_line(struct na_helper *h, const char *line, size_t len, struct na_buf *out)
{
	const char *id = NULL, *sp, *end = line + len, *pw_end;
	size_t id_len = channel_id_len(h, line, len);
	char *user = NULL, *password = NULL, *account = NULL;
	enum ntlm_status st = NTLM_ERR_INVALID_ARGUMENT;

	if (h->opt.channel_ids) {
		id = line;
		line = id_len < len ? line + id_len + 1 : end;
	}
	sp = memchr(line, ' ', (size_t)(end - line));
	if (sp == NULL || sp == line) {
		log_line(h, "basic request without \"user password\"");
		goto reply;
	}
	if (h->opt.protocol == NA_PROTO_SQUID24_BASIC) {
		user = strndup(line, (size_t)(sp - line));
		password = strndup(sp + 1, (size_t)(end - sp - 1));
	} else {
		/* Squid escapes spaces: a further word is key_extras */
		pw_end = memchr(sp + 1, ' ', (size_t)(end - sp - 1));
		user = url_unescape(line, (size_t)(sp - line));
		password = url_unescape(sp + 1, (size_t)((pw_end != NULL ? pw_end : end) - sp - 1));
		if (pw_end != NULL)
			take_client_address(h, pw_end + 1, (size_t)(end - pw_end - 1));
	}
	if (user == NULL || password == NULL || memchr(line, '\0', (size_t)(end - line)) != NULL) {
		log_line(h, "basic request with a bad escape or a NUL byte");
		goto reply;
	}
	st = basic_check(h, user, password, &account);
reply:
	basic_reply(h, id, id_len, st, account, out);
	free(account);
	free(user);
	ntlm_free_string(password);
}

/* ------------------------------------------------------------------ */
/* ntlm-server-1                                                       */

static bool key_is(const char *key, size_t key_len, const char *name)
{
	return strlen(name) == key_len && strncasecmp(key, name, key_len) == 0;
}

/* A hex value into *ret (malloc'd): Samba's error texts when its length is
 * not min..max bytes. */
static bool block_hex(const char *value, size_t min, size_t max, uint8_t **ret, size_t *ret_len,
                      struct na_buf *out)
{
	size_t cap = strlen(value) / 2 + 1;
	uint8_t *p = malloc(cap);
	size_t n;

	if (p == NULL) {
		out->failed = true;
		return false;
	}
	n = na_hex_prefix(value, p, cap);
	if (n < min || n > max) {
		na_buf_add(out, "Error: hex decode of ");
		buf_add_clean(out, value, strlen(value));
		if (min == max)
			na_buf_addf(out, " failed! (got %zu bytes, expected %zu)\n.\n", n, min);
		else
			na_buf_addf(out, " failed! (only got %zu bytes, needed at least %zu)\n.\n", n, min);
		ntlm_free_wiped(p, cap);
		return false;
	}
	ntlm_free_wiped(*ret, *ret_len);
	*ret = p;
	*ret_len = n;
	return true;
}

static void set_string(char **field, const char *value, struct na_buf *err)
{
	ntlm_free_string(*field);
	*field = strdup(value);
	if (*field == NULL)
		err->failed = true;
}

static void block_key(struct na_helper *h, const char *key, size_t key_len, const char *value,
                      struct na_buf *err)
{
	struct na_block *b = &h->block;

	if (key_is(key, key_len, "Username"))
		set_string(&b->username, value, err);
	else if (key_is(key, key_len, "NT-Domain"))
		set_string(&b->domain, value, err);
	else if (key_is(key, key_len, "Full-Username"))
		set_string(&b->full_username, value, err);
	else if (key_is(key, key_len, "Password"))
		set_string(&b->password, value, err);
	else if (key_is(key, key_len, "LANMAN-Challenge"))
		block_hex(value, 8, 8, &b->challenge, &b->challenge_len, err);
	else if (key_is(key, key_len, "NT-Response"))
		block_hex(value, 24, 4096, &b->nt_response, &b->nt_len, err);
	else if (key_is(key, key_len, "LANMAN-Response"))
		block_hex(value, 24, 24, &b->lm_response, &b->lm_len, err);
	else if (key_is(key, key_len, "Request-User-Session-Key"))
		b->want_user_key = strncasecmp(value, "Yes", 3) == 0;
	else if (key_is(key, key_len, "Request-LanMan-Session-Key"))
		b->want_lm_key = strncasecmp(value, "Yes", 3) == 0;
	else {
		na_buf_add(err, "Error: Unknown request ");
		buf_add_clean(err, key, key_len);
		na_buf_add(err, "\n.\n");
	}
}

/*
 * A failed check, framed as Samba 4.17 frames it (source3/utils/ntlm_auth.c,
 * manage_ntlm_server_1_request): a plaintext Password: check answers
 * "Authenticated: No" and the block's one "."; a challenge/response check
 * adds "Authentication-Error: <Samba's NTSTATUS text>" followed by a "."
 * of its own, so the block ends in two (Radiator swallows the second,
 * Samba's own test counts it). No status squashing in this protocol.
 */
static void block_failure(bool plaintext, enum ntlm_status st, struct na_buf *out)
{
	if (plaintext)
		na_buf_add(out, "Authenticated: No\n.\n");
	else
		na_buf_addf(out, "Authenticated: No\nAuthentication-Error: %s\n.\n.\n",
		            na_status_description(st, false));
}

static void block_verify(struct na_helper *h, const char *user, const char *domain, struct na_buf *out)
{
	struct na_block *b = &h->block;
	struct ntlm_writer fields;
	struct ntlmd_reply reply = {0};
	const uint8_t *key = NULL;
	size_t key_len = 0;
	enum ntlm_status st;

	ntlmd_fields_init(&fields);
	ntlmd_put_string(&fields, NTLMD_TAG_USER, user);
	ntlmd_put_string(&fields, NTLMD_TAG_DOMAIN, domain);
	ntlmd_put_string(&fields, NTLMD_TAG_WORKSTATION, h->opt.workstation);
	if (b->password != NULL) {
		ntlmd_put_string(&fields, NTLMD_TAG_PASSWORD, b->password);
		st = ask(h, NTLMD_REQ_CHECK_PASSWORD, &fields, &reply);
	} else {
		ntlmd_put_bytes(&fields, NTLMD_TAG_SERVER_CHALLENGE, b->challenge, b->challenge_len);
		if (b->lm_response != NULL)
			ntlmd_put_bytes(&fields, NTLMD_TAG_LM_RESPONSE, b->lm_response, b->lm_len);
		if (b->nt_response != NULL)
			ntlmd_put_bytes(&fields, NTLMD_TAG_NT_RESPONSE, b->nt_response, b->nt_len);
		st = ask(h, NTLMD_REQ_VERIFY_RESPONSE, &fields, &reply);
	}
	if (st == NTLM_OK)
		st = check_membership(h, &reply);
	if (st != NTLM_OK) {
		block_failure(b->password != NULL, st, out);
		goto out;
	}
	na_buf_add(out, "Authenticated: Yes\n");
	if (b->want_user_key &&
	    ntlmd_frame_get_bytes(&reply.frame, NTLMD_TAG_SESSION_KEY, &key, &key_len) == NTLM_OK &&
	    key_len == 16) {
		na_buf_add(out, "User-Session-Key: ");
		for (size_t i = 0; i < key_len; i++)
			na_buf_addf(out, "%02X", key[i]);
		na_buf_add(out, "\n");
	}
	na_buf_add(out, ".\n");
out:
	ntlmd_reply_clear(&reply);
}

/*
 * The block's ".": its one reply. A block with a line that could not be
 * taken is answered with that line's error alone (the first one), and
 * nothing is checked. Samba 4.17 answers such a line at once and the "."
 * again, so a front end that reads one reply per block (up to a ".")
 * reads the answer to the block before (see ntlm_auth(1)).
 */
static void block_end(struct na_helper *h, struct na_buf *out)
{
	struct na_block *b = &h->block;
	char *split_domain = NULL;
	const char *user = b->username, *domain = b->domain;

	if (b->error.failed) {
		na_buf_add(out, "Error: out of memory!\n.\n");
		block_clear(b);
		return;
	}
	if (b->error.len > 0) {
		na_buf_add(out, b->error.p);
		block_clear(b);
		return;
	}
	if (user == NULL && b->full_username != NULL) {
		if (!na_split_user(b->full_username, h->opt.separator, &split_domain, &user))
			user = NULL;
		if (domain == NULL)
			domain = split_domain;
	}
	if (user == NULL)
		na_buf_add(out, "Error: No username supplied!\n.\n");
	else if (b->password == NULL && b->challenge == NULL)
		na_buf_add(out, b->nt_response != NULL || b->lm_response != NULL
		                    ? "Error: No lanman-challenge supplied!\n.\n"
		                    : "Error: No password supplied!\n.\n");
	else if (b->password == NULL && b->nt_response == NULL && b->lm_response == NULL)
		na_buf_add(out, "Error: No password supplied!\n.\n");
	else
		block_verify(h, user, domain, out);
	free(split_domain);
	block_clear(b);
}

/* One line of a block: a key is taken, or the line's error is kept for
 * the block's "." (block_end); only the "." answers. */
static void ntlm_server_1_line(struct na_helper *h, const char *line, size_t len, struct na_buf *out)
{
	const char *colon, *value;
	char *decoded_text = NULL;
	uint8_t *decoded = NULL;
	size_t decoded_len = 0, key_len;
	struct na_buf err = {0};

	if (len == 1 && line[0] == '.') {
		block_end(h, out);
		return;
	}
	colon = memchr(line, ':', len);
	if (colon == NULL || colon + 1 >= line + len || memchr(line, '\0', len) != NULL) {
		block_error(&h->block, "Error: Parameter not found!\n.\n");
		return;
	}
	key_len = (size_t)(colon - line);
	value = colon + 1;
	if (*value == ':') { /* "Key:: <base64>" */
		value++;
		while (*value == ' ')
			value++;
		if (decode_blob(value, (size_t)(line + len - value), &decoded, &decoded_len) != NTLM_OK ||
		    memchr(decoded, '\0', decoded_len) != NULL ||
		    (decoded_text = strndup((const char *)decoded, decoded_len)) == NULL) {
			na_buf_add(&err, "Error: base64 decode failed!\n.\n");
			goto out;
		}
		value = decoded_text;
	} else if (*value == ' ') {
		value++;
	} else {
		na_buf_add(&err, "Error: Parameter not found!\n.\n");
		goto out;
	}
	block_key(h, line, key_len, value, &err);
out:
	block_keep_error(&h->block, &err);
	ntlm_free_wiped(decoded, decoded_len);
	ntlm_free_string(decoded_text);
}

/* ------------------------------------------------------------------ */
/* ntlmssp-client-1                                                    */

static void client_config(const struct na_helper *h, struct ntlm_initiator_config *cfg)
{
	*cfg = (struct ntlm_initiator_config){0};
	cfg->user = h->opt.username != NULL ? h->opt.username : "";
	cfg->domain = h->opt.domain;
	cfg->workstation = h->opt.workstation;
	cfg->password = h->client_password;
	cfg->target_name = h->opt.target_name;
}

static void client_negotiate(struct na_helper *h, struct na_buf *out)
{
	struct ntlm_initiator_config cfg;
	enum ntlm_status st;

	free(h->client_negotiate);
	h->client_negotiate = NULL;
	client_config(h, &cfg);
	st = ntlm_initiator_negotiate(&cfg, &h->client_negotiate, &h->client_negotiate_len);
	if (st != NTLM_OK) {
		na_buf_addf(out, "BH %s\n", na_status_name(st, false));
		return;
	}
	na_buf_add(out, "YR ");
	buf_add_b64(out, h->client_negotiate, h->client_negotiate_len);
	na_buf_add(out, "\n");
}

static void client_authenticate(struct na_helper *h, const char *blob, struct na_buf *out)
{
	struct ntlm_initiator_config cfg;
	struct ntlm_challenge decoded = {0};
	struct ntlm_hash key = {0};
	uint8_t *challenge = NULL, *msg = NULL;
	size_t challenge_len = 0, msg_len = 0;
	enum ntlm_status st;

	if ((st = decode_blob(blob, strlen(blob), &challenge, &challenge_len)) != NTLM_OK ||
	    (st = ntlm_challenge_decode(challenge, challenge_len, &decoded)) != NTLM_OK) {
		na_buf_addf(out, "NA %s\n", na_status_name(st, false));
		goto out;
	}
	client_config(h, &cfg);
	st = ntlm_initiator_authenticate(&cfg, h->client_negotiate, h->client_negotiate_len, challenge,
	                                 challenge_len, &msg, &msg_len, &key);
	if (st != NTLM_OK) {
		na_buf_addf(out, "NA %s\n", na_status_name(st, false));
		goto out;
	}
	memcpy(h->session_key, key.bytes, sizeof(h->session_key));
	h->has_key = true;
	h->flags = decoded.flags;
	h->has_flags = true;
	na_buf_add(out, "AF ");
	buf_add_b64(out, msg, msg_len);
	na_buf_add(out, "\n");
out:
	ntlm_wipe(&key, sizeof(key));
	ntlm_challenge_clear(&decoded);
	free(challenge);
	free(msg);
}

/* Runs a YR or TT that had to wait for the password. */
static void client_pending(struct na_helper *h, struct na_buf *out)
{
	char pending = h->pending;
	char *blob = h->pending_blob;

	h->pending = 0;
	h->pending_blob = NULL;
	if (pending == 'Y')
		client_negotiate(h, out);
	else if (pending == 'T' && blob != NULL)
		client_authenticate(h, blob, out);
	free(blob);
}

static void client_line(struct na_helper *h, const char *line, size_t len, struct na_buf *out)
{
	if (len >= 2 && strncmp(line, "PW", 2) == 0) {
		common_command(h, line, len, out);
		if (h->client_password != NULL)
			client_pending(h, out);
		return;
	}
	if (len >= 2 && strncmp(line, "YR", 2) == 0) {
		h->has_key = h->has_flags = false;
		if (h->client_password == NULL && h->opt.use_cached_creds) {
			log_line(
			    h, "--use-cached-creds: ntlm_auth has no credential cache (that is winbindd's); "
			       "give --password or leave the option out to be asked with PW");
			na_buf_add(out, "BH NT_STATUS_NO_SUCH_LOGON_SESSION no cached credentials\n");
			return;
		}
		if (h->client_password == NULL) {
			h->pending = 'Y';
			na_buf_add(out, "PW\n");
			return;
		}
		client_negotiate(h, out);
		return;
	}
	if (len > 3 && strncmp(line, "TT ", 3) == 0) {
		if (h->client_negotiate == NULL) {
			na_buf_add(out, "BH NTLMSSP CHALLENGE before NEGOTIATE\n");
			return;
		}
		if (h->client_password == NULL) {
			free(h->pending_blob);
			h->pending = 'T';
			h->pending_blob = strndup(line + 3, len - 3);
			na_buf_add(out, "PW\n");
			return;
		}
		client_authenticate(h, line + 3, out);
		return;
	}
	if (!common_command(h, line, len, out))
		unknown_command(line, len, out);
}

/* ------------------------------------------------------------------ */
/* gss-spnego-client                                                   */
/*
 * The initiator's side of gss-spnego, line for line as Samba 4.17's
 * manage_gensec_request() answers (checked against /usr/bin/ntlm_auth):
 *
 *   YR                     -> YR <NegTokenInit: mechTypes {NTLMSSP}, NEGOTIATE>
 *   TT <acceptor's NegTokenInit> (gss-spnego's answer to a bare YR)
 *                          -> KK <the same NegTokenInit>
 *   TT <NegTokenResp accept-incomplete, CHALLENGE>
 *                          -> KK <NegTokenResp: AUTHENTICATE [, mechListMIC]>
 *   AF <NegTokenResp accept-completed [, mechListMIC]> <user>
 *                          -> AF
 *
 * A token is read up to the first character that is not base64 (the
 * server helper's "TT <b64> *", "AF <b64> <user>"); text that is not
 * base64 at all is no token, so a line without one starts a context and
 * answers YR, as Samba's does. Failures: NA <squashed NT status>; a wrong
 * mechListMIC of the acceptor: BH NT_STATUS_ACCESS_DENIED ...
 *
 * mechListMIC (RFC 4178 5, MS-SPNG 3.1.5.1): sent when the AUTHENTICATE
 * carries an NTLMSSP MIC and signing was negotiated, as Windows and MIT's
 * SPNEGO with gss-ntlmssp do, since an acceptor that checked that MIC may
 * then require the mechListMIC. The acceptor's mechListMIC is checked when
 * it sends one; its absence is accepted (Samba 4.17's own client sends none
 * and our gss-spnego sends none): the list it protects holds NTLMSSP alone,
 * so there is no choice an attacker could have downgraded. ntlm_auth(1).
 */

static void sp_client_reset(struct na_helper *h)
{
	free(h->client_negotiate);
	h->client_negotiate = NULL;
	h->client_negotiate_len = 0;
	ntlm_session_free(h->client_session);
	h->client_session = NULL;
	h->sp_client = NA_SPNEGO_CLIENT_NONE;
	h->has_key = h->has_flags = false;
	h->flags = 0;
	ntlm_wipe(h->session_key, sizeof(h->session_key));
}

static void sp_client_failure(struct na_helper *h, enum ntlm_status st, struct na_buf *out)
{
	h->sp_client = NA_SPNEGO_CLIENT_FAILED;
	na_buf_addf(out, "NA %s\n", na_status_name(st, true));
}

static void sp_client_reply(const char *code, const uint8_t *der, size_t der_len, struct na_buf *out)
{
	na_buf_addf(out, "%s ", code);
	buf_add_b64(out, der, der_len);
	na_buf_add(out, "\n");
}

/* The first token: a NegTokenInit with the NEGOTIATE; code YR when the
 * context starts without a token of the acceptor, else KK. */
static void sp_client_init(struct na_helper *h, const char *code, struct na_buf *out)
{
	struct ntlm_initiator_config cfg;
	uint8_t *der = NULL;
	size_t der_len = 0;
	enum ntlm_status st;

	client_config(h, &cfg);
	st = ntlm_initiator_negotiate(&cfg, &h->client_negotiate, &h->client_negotiate_len);
	if (st == NTLM_OK)
		st = ntlm_spnego_encode_init(h->client_negotiate, h->client_negotiate_len, &der, &der_len);
	if (st != NTLM_OK) {
		sp_client_failure(h, st, out);
		return;
	}
	h->sp_client = NA_SPNEGO_CLIENT_INIT;
	sp_client_reply(code, der, der_len, out);
	free(der);
}

/* The MIC field of our own AUTHENTICATE holds an NTLMSSP MIC. */
static bool has_ntlm_mic(const struct ntlm_authenticate *a)
{
	uint8_t any = 0;

	if (a->mic_offset == 0)
		return false;
	for (size_t i = 0; i < sizeof(a->mic); i++)
		any |= a->mic[i];
	return any != 0;
}

/* The acceptor's CHALLENGE (in t): answers KK with the AUTHENTICATE and,
 * when the AUTHENTICATE has a MIC and signing was negotiated, our
 * mechListMIC (GSS_GetMIC of the mechTypes, MS-NLMP 3.4.4, sequence 0). */
static void sp_client_authenticate(struct na_helper *h, const struct spnego_token *t, struct na_buf *out)
{
	struct ntlm_initiator_config cfg;
	struct ntlm_authenticate sent = {0};
	struct ntlm_hash key = {0};
	uint8_t *msg = NULL, *der = NULL;
	uint8_t mic[NTLM_MIC_LEN];
	size_t msg_len = 0, der_len = 0, list_len;
	const uint8_t *list = ntlm_spnego_mech_list_ntlmssp(&list_len);
	bool with_mic = false;
	enum ntlm_status st;

	client_config(h, &cfg);
	st = ntlm_initiator_authenticate(&cfg, h->client_negotiate, h->client_negotiate_len, t->inner.data,
	                                 t->inner.len, &msg, &msg_len, &key);
	if (st == NTLM_OK)
		st = ntlm_authenticate_decode(msg, msg_len, &sent);
	if (st == NTLM_OK)
		st = ntlm_session_new(sent.flags, &key, true, &h->client_session);
	if (st == NTLM_OK) {
		with_mic = has_ntlm_mic(&sent) && (sent.flags & NTLM_NEGOTIATE_SIGN) != 0;
		if (with_mic)
			st = ntlm_session_sign(h->client_session, list, list_len, mic);
	}
	if (st == NTLM_OK)
		st = ntlm_spnego_encode_client_resp(msg, msg_len, with_mic ? mic : NULL,
		                                    with_mic ? sizeof(mic) : 0, &der, &der_len);
	if (st != NTLM_OK) {
		log_line(h, "no AUTHENTICATE for the acceptor's CHALLENGE: %s (%s)", ntlm_status_name(st),
		         ntlm_status_message(st));
		sp_client_failure(h, st, out);
		goto out;
	}
	memcpy(h->session_key, key.bytes, sizeof(h->session_key));
	h->has_key = true;
	h->flags = sent.flags;
	h->has_flags = true;
	h->sp_client = NA_SPNEGO_CLIENT_AUTH;
	sp_client_reply("KK", der, der_len, out);
out:
	ntlm_wipe(&key, sizeof(key));
	ntlm_wipe(mic, sizeof(mic));
	ntlm_authenticate_clear(&sent);
	ntlm_free_wiped(msg, msg_len);
	free(der);
}

/* The acceptor's last token: accept-completed, its mechListMIC checked
 * when it sent one. */
static void sp_client_final(struct na_helper *h, const struct spnego_token *t, struct na_buf *out)
{
	size_t list_len;
	const uint8_t *list = ntlm_spnego_mech_list_ntlmssp(&list_len);

	if (t->neg_state != SPNEGO_ACCEPT_COMPLETED || t->inner.len > 0) {
		log_line(h, "the acceptor's last token is %s%s, not accept-completed",
		         ntlm_spnego_neg_state_name(t->neg_state),
		         t->inner.len > 0 ? " with a responseToken" : "");
		sp_client_failure(h, NTLM_ERR_INVALID_ARGUMENT, out);
		return;
	}
	if (t->mech_list_mic.len > 0 &&
	    (t->mech_list_mic.len != NTLM_MIC_LEN ||
	     ntlm_session_verify(h->client_session, list, list_len, t->mech_list_mic.data) != NTLM_OK)) {
		log_line(h, "the acceptor's mechListMIC is wrong: the exchange is refused");
		h->sp_client = NA_SPNEGO_CLIENT_FAILED;
		na_buf_add(out, "BH NT_STATUS_ACCESS_DENIED NT_STATUS_ACCESS_DENIED\n");
		return;
	}
	h->sp_client = NA_SPNEGO_CLIENT_DONE;
	na_buf_add(out, "AF\n");
}

/* One token of the acceptor (in[0..in_len), may be empty). */
static void sp_client_token(struct na_helper *h, const uint8_t *in, size_t in_len, struct na_buf *out)
{
	struct spnego_token t;
	enum ntlm_status st;

	if (h->sp_client == NA_SPNEGO_CLIENT_NONE && in_len == 0) {
		sp_client_init(h, "YR", out);
		return;
	}
	if (h->sp_client == NA_SPNEGO_CLIENT_DONE || h->sp_client == NA_SPNEGO_CLIENT_FAILED || in_len == 0) {
		sp_client_failure(h, NTLM_ERR_INVALID_ARGUMENT, out);
		return;
	}
	if ((st = ntlm_spnego_unwrap(in, in_len, &t)) != NTLM_OK) {
		log_line(h, "undecodable SPNEGO token of the acceptor: %s (%s)", ntlm_status_name(st),
		         ntlm_status_message(st));
		sp_client_failure(h, NTLM_ERR_INVALID_ARGUMENT, out);
		return;
	}
	if (h->sp_client == NA_SPNEGO_CLIENT_NONE) {
		/* the acceptor spoke first (gss-spnego's answer to a bare YR) */
		if (t.form == SPNEGO_FORM_NEG_TOKEN_INIT && offers_ntlmssp(&t)) {
			sp_client_init(h, "KK", out);
		} else {
			log_line(h, "the acceptor's first token is %s, not a NegTokenInit offering NTLMSSP",
			         ntlm_spnego_form_name(t.form));
			sp_client_failure(h, NTLM_ERR_INVALID_ARGUMENT, out);
		}
		return;
	}
	if (t.form != SPNEGO_FORM_NEG_TOKEN_RESP) {
		log_line(h, "the acceptor sent a %s where a NegTokenResp was due",
		         ntlm_spnego_form_name(t.form));
		sp_client_failure(h, NTLM_ERR_INVALID_ARGUMENT, out);
		return;
	}
	if (t.has_neg_state && t.neg_state == SPNEGO_REJECT) {
		sp_client_failure(h, NTLM_STATUS_LOGON_FAILURE, out);
		return;
	}
	if (t.supported_mech[0] != '\0' && strcmp(t.supported_mech, SPNEGO_OID_NTLMSSP) != 0) {
		log_line(h, "the acceptor chose %s, which was not offered", t.supported_mech);
		sp_client_failure(h, NTLM_ERR_INVALID_ARGUMENT, out);
		return;
	}
	if (h->sp_client == NA_SPNEGO_CLIENT_AUTH) {
		sp_client_final(h, &t, out);
		return;
	}
	if (t.kind != SPNEGO_KIND_NTLMSSP || t.inner.len == 0 || !t.has_neg_state ||
	    (t.neg_state != SPNEGO_ACCEPT_INCOMPLETE && t.neg_state != SPNEGO_REQUEST_MIC)) {
		log_line(h, "the acceptor's answer carries no NTLMSSP CHALLENGE (%s)",
		         ntlm_spnego_neg_state_name(t.neg_state));
		sp_client_failure(h, NTLM_ERR_INVALID_ARGUMENT, out);
		return;
	}
	sp_client_authenticate(h, &t, out);
}

static bool has_prefix(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && strncmp(line, prefix, n) == 0;
}

static void gss_spnego_client_line(struct na_helper *h, const char *line, size_t len, struct na_buf *out)
{
	static const char *const commands[] = {"TT ", "KK ", "AF ", "NA ", "UG", "PW ", "GK", "GF"};
	bool known = false;
	uint8_t *in = NULL;
	size_t in_len = 0;

	if (len < 2) {
		na_buf_add(out, "BH Query invalid\n");
		return;
	}
	if (len > 3 && has_prefix(line, len, "SF ")) {
		na_buf_add(out, "OK\n");
		return;
	}
	if (has_prefix(line, len, "OK")) {
		na_buf_add(out, "BH Command expected\n");
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		known = known || has_prefix(line, len, commands[i]);
	if (!known && !has_prefix(line, len, "YR")) {
		na_buf_add(out, "BH SPNEGO request invalid prefix\n");
		return;
	}
	if (has_prefix(line, len, "PW ")) {
		char *pending = h->pending_line;

		common_command(h, line, len, out);
		h->pending_line = NULL;
		if (pending != NULL && h->client_password != NULL)
			gss_spnego_client_line(h, pending, strlen(pending), out);
		ntlm_free_string(pending);
		return;
	}
	if (has_prefix(line, len, "GK") || has_prefix(line, len, "GF")) {
		common_command(h, line, 2, out);
		return;
	}
	if (has_prefix(line, len, "YR"))
		sp_client_reset(h);
	if (h->client_password == NULL) {
		/* Samba's gss-spnego-client has no cached credentials: it asks */
		ntlm_free_string(h->pending_line);
		h->pending_line = strndup(line, len);
		na_buf_add(out, "PW\n");
		return;
	}
	/* text that is not base64 at all is no token; base64 that does not
	 * decode is a broken one */
	if (len > 3 && ntlm_base64_span(line + 3, len - 3) > 0 &&
	    decode_blob(line + 3, len - 3, &in, &in_len) != NTLM_OK) {
		sp_client_failure(h, NTLM_ERR_BAD_ENCODING, out);
		return;
	}
	sp_client_token(h, in, in_len, out);
	free(in);
}

/* ------------------------------------------------------------------ */
/* The reply gate                                                      */

/* The protocols that answer every request with exactly one line. */
static bool one_line_protocol(enum na_protocol p)
{
	return p == NA_PROTO_SQUID_NTLMSSP || p == NA_PROTO_GSS_SPNEGO || p == NA_PROTO_SQUID_BASIC ||
	       p == NA_PROTO_SQUID24_BASIC;
}

/* Whether out->p[start..len) is one line: it ends in its only LF and
 * holds no other control byte. */
/* Whether p[0..n) holds a control byte: eight bytes a step (a byte below
 * 0x20, or one equal to 0x7F, sets its high bit in the masks), the rest
 * one by one. Every reply passes here, most of them base64. */
static bool has_control_byte(const char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, del;
		memcpy(&x, p + i, 8);
		del = x ^ (0x7Fu * ones);
		if ((((x - 0x20u * ones) & ~x) | ((del - ones) & ~del)) & highs)
			return true;
	}
	for (; i < n; i++)
		if (is_control_byte((unsigned char)p[i]))
			return true;
	return false;
}

static bool is_one_clean_line(const struct na_buf *out, size_t start)
{
	if (out->len <= start || out->p[out->len - 1] != '\n')
		return false;
	return !has_control_byte(out->p + start, out->len - 1 - start);
}

/*
 * Every reply passes here before the caller writes it: out->p[start..len)
 * answers one request (line[0..len), NULL for an overlong one). Whatever
 * reached it (a name from ntlmd, a value of the client, an error text), no
 * reply line holds a control byte but its final LF: Squid would take the
 * text after a stray LF as the answer to its next request.
 *
 * A Squid protocol's reply must be exactly one such line. One that is not
 * is withheld and replaced by the protocol's BH line (never by a success
 * with a mangled name), and the context is dropped. The block protocols
 * (ntlm-server-1, ntlmssp-client-1) answer with several lines: their other
 * control bytes become '?' (the values they echo are cleaned where they
 * are written, see buf_add_clean()).
 */
static void seal_reply(struct na_helper *h, const char *line, size_t len, struct na_buf *out, size_t start)
{
	size_t id_len;

	if (out->failed || out->len < start)
		return; /* incomplete: the caller answers "BH out of memory" */
	if (!one_line_protocol(h->opt.protocol)) {
		for (size_t i = start; i < out->len; i++)
			if (out->p[i] != '\n' && is_control_byte((unsigned char)out->p[i]))
				out->p[i] = '?';
		return;
	}
	if (is_one_clean_line(out, start))
		return;
	log_line(h, "a reply held a control character (or was not one line): withheld, answered BH instead");
	ntlm_wipe(out->p + start, out->len - start);
	out->len = start;
	switch (h->opt.protocol) {
	case NA_PROTO_SQUID_NTLMSSP:
		server_reset(h);
		h->state = NA_STATE_DONE;
		ntlmssp_failure(h, NTLM_ERR_INTERNAL, out);
		break;
	case NA_PROTO_GSS_SPNEGO:
		server_reset(h);
		h->state = NA_STATE_DONE;
		spnego_failure(h, NTLM_ERR_INTERNAL, out);
		break;
	default: /* basic: the channel-ID, when it can be echoed */
		id_len = line != NULL ? channel_id_len(h, line, len) : 0;
		for (size_t i = 0; i < id_len; i++)
			if (is_control_byte((unsigned char)line[i]))
				id_len = 0;
		basic_reply(h, line, id_len, NTLM_ERR_INTERNAL, NULL, out);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */

static void overlong_reply(struct na_helper *h, struct na_buf *out)
{
	log_line(h, "request line over %u bytes dropped", NA_MAX_LINE);
	switch (h->opt.protocol) {
	case NA_PROTO_SQUID_BASIC:
	case NA_PROTO_SQUID24_BASIC:
		na_buf_add(out, h->opt.kv_replies ? "BH message=\"request too long\"\n" : "ERR\n");
		break;
	case NA_PROTO_NTLM_SERVER_1: /* answered by the block's "." */
		block_error(&h->block, "Error: request too long!\n.\n");
		break;
	case NA_PROTO_GSS_SPNEGO:
		server_reset(h);
		na_buf_add(out, "BH Oversized message * Oversized message\n");
		break;
	default:
		server_reset(h);
		na_buf_add(out, "BH Oversized message\n");
		break;
	}
}

static void helper_line(struct na_helper *h, const char *line, size_t len, struct na_buf *out)
{
	h->client_address[0] = '\0'; /* each line names its own */
	if (len > NA_MAX_LINE) {
		overlong_reply(h, out);
		return;
	}
	if (len == 0)
		log_line(h, "empty request line");
	switch (h->opt.protocol) {
	case NA_PROTO_SQUID_NTLMSSP:
		squid_ntlmssp_line(h, line, len, out);
		break;
	case NA_PROTO_GSS_SPNEGO:
		gss_spnego_line(h, line, len, out);
		break;
	case NA_PROTO_SQUID_BASIC:
	case NA_PROTO_SQUID24_BASIC:
		basic_line(h, line, len, out);
		break;
	case NA_PROTO_NTLM_SERVER_1:
	case NA_PROTO_NTLMSSP_CLIENT:
	case NA_PROTO_GSS_SPNEGO_CLIENT: {
		/* these read values as C strings: a NUL-terminated copy */
		char *copy = memchr(line, '\0', len) == NULL ? strndup(line, len) : NULL;

		if (copy == NULL && h->opt.protocol == NA_PROTO_NTLM_SERVER_1)
			block_error(&h->block, "Error: Parameter not found!\n.\n");
		else if (copy == NULL)
			na_buf_add(out, "BH Query invalid\n");
		else if (h->opt.protocol == NA_PROTO_NTLM_SERVER_1)
			ntlm_server_1_line(h, copy, len, out);
		else if (h->opt.protocol == NA_PROTO_GSS_SPNEGO_CLIENT)
			gss_spnego_client_line(h, copy, len, out);
		else
			client_line(h, copy, len, out);
		ntlm_free_string(copy);
		break;
	}
	default:
		na_buf_add(out, "BH unknown helper protocol\n");
		break;
	}
}

void na_helper_line(struct na_helper *h, const char *line, size_t len, struct na_buf *out)
{
	size_t start = out->len;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	helper_line(h, line, len, out);
	seal_reply(h, line, len, out, start);
}

void na_helper_overlong(struct na_helper *h, struct na_buf *out)
{
	size_t start = out->len;

	overlong_reply(h, out);
	seal_reply(h, NULL, 0, out, start);
}
