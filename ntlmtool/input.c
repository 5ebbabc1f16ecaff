/*
 * input.c: what ntlmtool reads. Tokens come as base64, hex, pasted header
 * lines or Squid helper lines, from the command line, @FILE or stdin;
 * passwords from the terminal without echo or from stdin; plus the small
 * parsers (hex, times, numbers) and option helpers the commands share.
 */
#include <config.h>

#include "ntlmtool.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* A pasted token, header or file is never larger than this. */
#define MAX_INPUT_TEXT (256u * 1024u)
/* Password lines */
#define MAX_PASSWORD 1024u

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

int getopt_failure(const char *cmd, int c, char **argv)
{
	const char *opt = argv[optind - 1];

	if (c == ':')
		return tool_usage_error(cmd, "option '%s' needs a value", opt);
	if (optopt != 0 && strncmp(opt, "--", 2) != 0)
		return tool_usage_error(cmd, "unknown option '-%c'", optopt);
	return tool_usage_error(cmd, "unknown option '%s'", opt);
}

int parse_options(const char *cmd, int argc, char **argv, const char *shortopts,
                  const struct option *longopts, const struct opt_store *store, const char *help,
                  opt_handler other, void *ctx)
{
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct opt_store *s = store;

		if (c == '?' || c == ':')
			return getopt_failure(cmd, c, argv);
		if (c == 'h' && help != NULL) {
			fputs(help, stdout);
			return -1;
		}
		while (s != NULL && s->id != 0 && s->id != c)
			s++;
		if (s != NULL && s->id != 0) {
			if (s->str != NULL)
				*s->str = optarg;
			if (s->flag != NULL)
				*s->flag = true;
			continue;
		}
		rc = other != NULL ? other(c, optarg, ctx) : getopt_failure(cmd, '?', argv);
		if (rc != TOOL_OK)
			return rc;
	}
	return TOOL_OK;
}

/* ------------------------------------------------------------------ */
/* Reading text                                                        */
/* ------------------------------------------------------------------ */

int read_text(const char *cmd, const char *path, size_t max, char **ret, size_t *ret_len)
{
	bool from_stdin = strcmp(path, "-") == 0;
	FILE *f = from_stdin ? stdin : fopen(path, "re");
	char *buf;
	size_t len;

	if (f == NULL)
		return tool_error(cmd, "cannot open %s: %s", path, strerror(errno));
	buf = xmalloc(max + 2);
	len = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		tool_error(cmd, "cannot read %s: %s", from_stdin ? "standard input" : path, strerror(errno));
		goto fail;
	}
	if (len > max) {
		tool_error(cmd, "%s is longer than %zu bytes", from_stdin ? "standard input" : path, max);
		goto fail;
	}
	if (!from_stdin)
		(void)fclose(f); /* read only: nothing to lose */
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return TOOL_OK;
fail:
	if (!from_stdin)
		(void)fclose(f); /* read only: nothing to lose */
	free(buf);
	return TOOL_USAGE;
}

/* ------------------------------------------------------------------ */
/* Hex, numbers, times                                                 */
/* ------------------------------------------------------------------ */

/* Hex with an optional leading 0x (white space allowed, as in dumps). */
static enum ntlm_status decode_hex(const char *s, uint8_t **ret, size_t *ret_len)
{
	while (isspace((unsigned char)*s))
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	return ntlm_hex_decode(s, strlen(s), ret, ret_len);
}

bool parse_hex_exact(const char *s, uint8_t *out, size_t n)
{
	uint8_t *p = NULL;
	size_t len = 0;
	bool ok = decode_hex(s, &p, &len) == NTLM_OK && len == n;

	if (ok)
		memcpy(out, p, n);
	if (p != NULL) {
		ntlm_wipe(p, len);
		free(p);
	}
	return ok;
}

bool parse_hex_alloc(const char *s, uint8_t **ret, size_t *ret_len)
{
	return decode_hex(s, ret, ret_len) == NTLM_OK;
}

void hex_format(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xFu];
	}
	out[2 * n] = '\0';
}

bool parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return true;
}

/* Reads exactly n digits at *s into *ret. */
static bool digits(const char **s, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return false;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*ret = v;
	return true;
}

/* ISO-8601: YYYY-MM-DD[(T| )HH:MM[:SS[.frac]]][Z|(+|-)HH:MM] */
static bool parse_iso8601(const char *s, uint64_t *ret)
{
	struct tm tm = {0};
	int year, mon, day, hour = 0, min = 0, sec = 0, oh = 0, om = 0, sign = 0;
	uint64_t frac = 0, scale = 10000000u; /* 100 ns ticks */
	time_t t;

	if (!digits(&s, 4, &year) || *s++ != '-' || !digits(&s, 2, &mon) || *s++ != '-' ||
	    !digits(&s, 2, &day))
		return false;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (!digits(&s, 2, &hour) || *s++ != ':' || !digits(&s, 2, &min))
			return false;
		if (*s == ':' && (s++, !digits(&s, 2, &sec)))
			return false;
		if (*s == '.' || *s == ',') {
			for (s++; isdigit((unsigned char)*s); s++) {
				if (scale > 1) {
					scale /= 10;
					frac += (uint64_t)(*s - '0') * scale;
				}
			}
		}
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (!digits(&s, 2, &oh))
			return false;
		if (*s == ':')
			s++;
		if (!digits(&s, 2, &om))
			return false;
	}
	if (*s != '\0' || year < 1601 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 ||
	    min > 59 || sec > 60 || oh > 23 || om > 59)
		return false;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (tm.tm_mday != day) /* normalised: 31 February */
		return false;
	t -= (time_t)sign * (oh * 3600 + om * 60);
	if (t < -11644473600LL)
		return false;
	*ret = ntlm_filetime_from_unix((int64_t)t) + frac;
	return true;
}

bool parse_time(const char *s, uint64_t *ret)
{
	return parse_uint(s, UINT64_MAX, ret) || parse_iso8601(s, ret);
}

void format_filetime(uint64_t ft, char *out, size_t n)
{
	int64_t secs = ntlm_filetime_to_unix(ft);
	unsigned ticks = (unsigned)(ft % 10000000u);
	time_t t = (time_t)secs;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999) {
		snprintf(out, n, "FILETIME %llu", (unsigned long long)ft);
		return;
	}
	if (ticks != 0)
		snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%07uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ticks);
	else
		snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void format_duration(int64_t seconds, char *out, size_t n)
{
	uint64_t s = seconds < 0 ? (uint64_t)(-(seconds + 1)) + 1 : (uint64_t)seconds;
	unsigned long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, r = s % 60;

	if (d > 0)
		snprintf(out, n, "%llud%lluh", d, h);
	else if (h > 0)
		snprintf(out, n, "%lluh%llum", h, m);
	else if (m > 0)
		snprintf(out, n, "%llum%llus", m, r);
	else
		snprintf(out, n, "%llus", r);
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */
/* ------------------------------------------------------------------ */

static char *skip_space(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static size_t word_len(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0' && !isspace((unsigned char)s[n]))
		n++;
	return n;
}

static bool word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* The HTTP headers that carry NTLM / Negotiate tokens. */
static const char *const auth_headers[] = {"Authorization", "Proxy-Authorization", "WWW-Authenticate",
                                           "Proxy-Authenticate"};
/* Squid's ntlm / negotiate helper requests and replies. */
static const char *const squid_codes[] = {"YR", "KK", "TT", "AF", "NA", "BH", "OK", "ERR"};

static const char *find_word(const char *s, size_t n, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (word_is(s, n, list[i]))
			return list[i];
	return NULL;
}

/* Removes all whitespace from s in place (base64 wrapped over lines). */
static void squeeze(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++)
		if (!isspace((unsigned char)*s))
			*w++ = *s;
	*w = '\0';
}

static bool all_hex(const char *s)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

/* Base64 or hex of one token; base64 without its '=' padding is accepted. */
static enum ntlm_status decode_token(char *tok, bool *ret_hex, uint8_t **ret, size_t *ret_len)
{
	size_t len = strlen(tok), pad;
	char *padded;
	enum ntlm_status st;

	if (all_hex(tok) && strlen(tok) % 2 == 0) {
		*ret_hex = true;
		return parse_hex_alloc(tok, ret, ret_len) ? NTLM_OK : NTLM_ERR_BAD_ENCODING;
	}
	*ret_hex = false;
	pad = (4 - len % 4) % 4;
	if (pad == 3)
		return NTLM_ERR_BAD_ENCODING;
	padded = xmalloc(len + pad + 1);
	memcpy(padded, tok, len + 1);
	memset(padded + len, '=', pad);
	padded[len + pad] = '\0';
	st = ntlm_base64_decode(padded, len + pad, ret, ret_len);
	free(padded);
	return st;
}

/*
 * Finds the token in a pasted text: an optional header name, an optional
 * scheme, an optional Squid code (with its channel number), then the token.
 * After a prefix the token is the next word; bare text is taken whole,
 * whitespace removed. Returns a pointer into text, or NULL (message printed).
 */
static char *find_token(const char *cmd, const char *what, char *text, char *source, size_t source_len)
{
	char *s = skip_space(text);
	const char *header = NULL, *squid = NULL;
	char scheme[16] = "";
	size_t n = strcspn(s, ": \t\r\n");

	if (s[n] == ':' && (header = find_word(s, n, auth_headers, ARRAY_LEN(auth_headers))) != NULL)
		s = skip_space(s + n + 1);
	n = word_len(s);
	if (word_is(s, n, "NTLM") || word_is(s, n, "Negotiate")) {
		snprintf(scheme, sizeof(scheme), "%.*s", (int)n, s);
		s = skip_space(s + n);
	} else if (header != NULL) {
		tool_error(cmd, "%s: the %s header uses the '%.*s' scheme, not NTLM or Negotiate", what,
		           header, (int)(n > 40 ? 40 : n), s);
		return NULL;
	}
	if (header == NULL && scheme[0] == '\0') {
		char *code = s;

		while (isdigit((unsigned char)*code)) /* Squid's concurrency channel-ID */
			code++;
		if (code != s && isspace((unsigned char)*code))
			code = skip_space(code);
		else
			code = s;
		n = word_len(code);
		squid = find_word(code, n, squid_codes, ARRAY_LEN(squid_codes));
		if (squid != NULL)
			s = skip_space(code + n);
	}
	if (header != NULL)
		snprintf(source, source_len, "%s header, %s scheme", header, scheme);
	else if (scheme[0] != '\0')
		snprintf(source, source_len, "%s scheme", scheme);
	else if (squid != NULL)
		snprintf(source, source_len, "Squid helper %s line", squid);
	else
		source[0] = '\0';
	if (header != NULL || scheme[0] != '\0' || squid != NULL)
		s[word_len(s)] = '\0';
	else
		squeeze(s);
	if (*s == '\0') {
		tool_error(cmd, "%s: there is no token%s%s", what, source[0] ? " in the " : "", source);
		return NULL;
	}
	return s;
}

/* True when the bytes hold the DER of a Kerberos mechanism OID: a damaged
 * token is then still recognisable as Kerberos. */
static bool names_kerberos(const uint8_t *p, size_t n)
{
	/* 1.2.840.113554.1.2.2 and Microsoft's 1.2.840.48018.1.2.2 (X.690 8.19) */
	static const uint8_t krb5[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
	static const uint8_t ms_krb5[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02};

	return memmem(p, n, krb5, sizeof(krb5)) != NULL || memmem(p, n, ms_krb5, sizeof(ms_krb5)) != NULL;
}

int input_load(const char *cmd, const char *what, const char *arg, struct tool_input *ret)
{
	struct tool_input in = {0};
	char *text = NULL, *tok = NULL, source[64];
	size_t len = 0;
	bool hex;
	enum ntlm_status st;
	int rc;

	if (arg == NULL || strcmp(arg, "-") == 0 || arg[0] == '@')
		rc =
		    read_text(cmd, arg == NULL || arg[0] == '-' ? "-" : arg + 1, MAX_INPUT_TEXT, &text, &len);
	else if (strlen(arg) > MAX_INPUT_TEXT)
		rc = tool_error(cmd, "%s: the argument is longer than %u bytes", what, MAX_INPUT_TEXT);
	else {
		text = xstrdup(arg);
		len = strlen(text);
		rc = TOOL_OK;
	}
	if (rc != TOOL_OK || text == NULL)
		return rc != TOOL_OK ? rc : TOOL_USAGE;
	if (memchr(text, '\0', len) != NULL) {
		rc = tool_error(cmd, "%s: the input is binary; give it as base64 or hex", what);
		goto out;
	}
	if ((tok = find_token(cmd, what, text, source, sizeof(source))) == NULL) {
		rc = TOOL_USAGE;
		goto out;
	}
	st = decode_token(tok, &hex, &in.raw, &in.raw_len);
	if (st != NTLM_OK) {
		rc = tool_status_error(cmd, what, st);
		goto out;
	}
	snprintf(in.source, sizeof(in.source), "%s%s%s", source, source[0] ? ", " : "",
	         hex ? "hex" : "base64");
	st = ntlm_spnego_unwrap(in.raw, in.raw_len, &in.token);
	if (st == NTLM_ERR_BAD_SIGNATURE) {
		rc = tool_error(
		    cmd, "%s: neither an NTLMSSP message nor a Negotiate (SPNEGO, Kerberos) token", what);
		goto out;
	}
	if (st != NTLM_OK) {
		rc = tool_error(cmd, "%s: the token is malformed: %s (%s)", what,
		                st == NTLM_ERR_BAD_ENCODING
		                    ? "not a valid GSS-API / SPNEGO / Kerberos DER structure"
		                    : ntlm_status_message(st),
		                ntlm_status_name(st));
		if (names_kerberos(in.raw, in.raw_len))
			tool_error(cmd, "%s names Kerberos: it is a Kerberos token (cut short?), not NTLM",
			           what);
		goto out;
	}
	*ret = in;
	in.raw = NULL;
out:
	input_clear(&in);
	free(text);
	return rc;
}

int input_load_ntlm(const char *cmd, const char *what, const char *arg, struct tool_input *ret)
{
	int rc = input_load(cmd, what, arg, ret);
	const struct spnego_token *t = &ret->token;

	if (rc != TOOL_OK)
		return rc;
	if (t->kind == SPNEGO_KIND_KERBEROS)
		rc = tool_error(
		    cmd,
		    "%s is a Kerberos token, not NTLM: the client chose Kerberos inside Negotiate, "
		    "which ntlmtool cannot verify ('ntlmtool decode' shows its ticket)",
		    what);
	else if (t->kind != SPNEGO_KIND_NTLMSSP)
		rc = tool_error(cmd, "%s carries no NTLMSSP message (mechanism %s)", what,
		                t->inner_mech[0] ? t->inner_mech : "unknown");
	else if (t->inner.len == 0)
		rc = tool_error(cmd, "%s: the %s token carries no NTLMSSP message", what,
		                ntlm_spnego_form_name(t->form));
	if (rc != TOOL_OK)
		input_clear(ret);
	return rc;
}

void input_clear(struct tool_input *in)
{
	if (in == NULL)
		return;
	if (in->raw != NULL) {
		ntlm_wipe(in->raw, in->raw_len);
		free(in->raw);
	}
	memset(in, 0, sizeof(*in));
}

/* ------------------------------------------------------------------ */
/* Passwords                                                           */
/* ------------------------------------------------------------------ */

static struct termios saved_termios;
static volatile sig_atomic_t echo_off;

static void restore_echo(int sig)
{
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
}

/* One line from stdin without its line end; NULL at end of input. */
static char *read_line(void)
{
	char *buf = xmalloc(MAX_PASSWORD + 2);
	size_t len;

	if (fgets(buf, MAX_PASSWORD + 2, stdin) == NULL) {
		free(buf);
		return NULL;
	}
	len = strlen(buf);
	if (len > MAX_PASSWORD) {
		ntlm_wipe(buf, len);
		free(buf);
		return NULL;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	return buf;
}

/* Prompts on stderr and reads a line from the terminal without echo. */
static char *read_hidden(const char *prompt)
{
	struct termios t;
	char *line;

	if (tcgetattr(STDIN_FILENO, &saved_termios) != 0)
		return read_line();
	t = saved_termios;
	t.c_lflag &= ~(tcflag_t)ECHO;
	t.c_lflag |= ECHONL;
	(void)signal(SIGINT, restore_echo);
	(void)signal(SIGTERM, restore_echo);
	(void)signal(SIGHUP, restore_echo);
	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	echo_off = 1;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
	line = read_line();
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
	echo_off = 0;
	(void)signal(SIGINT, SIG_DFL);
	(void)signal(SIGTERM, SIG_DFL);
	(void)signal(SIGHUP, SIG_DFL);
	return line;
}

int read_password(const char *cmd, const char *arg, const char *prompt, bool confirm, char **ret)
{
	char *pw, *again;

	if (arg != NULL && strcmp(arg, "-") != 0) {
		*ret = xstrdup(arg);
		return TOOL_OK;
	}
	if (arg != NULL || !isatty(STDIN_FILENO)) {
		pw = read_line();
		if (pw == NULL)
			return tool_error(cmd, "no password on standard input (one line of at most %u bytes)",
			                  MAX_PASSWORD);
		*ret = pw;
		return TOOL_OK;
	}
	pw = read_hidden(prompt);
	if (pw == NULL)
		return tool_error(cmd, "no password entered");
	if (confirm) {
		again = read_hidden("Retype password: ");
		if (again == NULL || strcmp(again, pw) != 0) { /* not secret: both typed by the same user */
			free_password(again);
			free_password(pw);
			return tool_error(cmd, "the passwords do not match");
		}
		free_password(again);
	}
	*ret = pw;
	return TOOL_OK;
}

void free_password(char *pw)
{
	if (pw == NULL)
		return;
	ntlm_wipe(pw, strlen(pw));
	free(pw);
}

/* ------------------------------------------------------------------ */
/* Policy options                                                      */
/* ------------------------------------------------------------------ */

void policy_opts_add(struct policy_opts *p, const char *kv)
{
	const char **n = realloc(p->overrides, (p->n_overrides + 1) * sizeof(*n));

	if (n == NULL) {
		fputs("ntlmtool: out of memory\n", stderr);
		exit(TOOL_USAGE);
	}
	n[p->n_overrides++] = kv;
	p->overrides = n;
}

void policy_opts_clear(struct policy_opts *p)
{
	free(p->overrides);
	memset(p, 0, sizeof(*p));
}
