/*
 * text.c: strict UTF-8 / UTF-16LE / OEM conversions, base64 (RFC 4648) and
 * the small case helpers NTLM needs. No locale is consulted: every rule here
 * is spelled out, so the result does not depend on the environment.
 */
#include "internal.h"

#include <stdlib.h>

#define UNI_MAX              0x10FFFFu
#define SURROGATE_HIGH_FIRST 0xD800u
#define SURROGATE_LOW_FIRST  0xDC00u
#define SURROGATE_LAST       0xDFFFu

static bool is_surrogate(uint32_t cp)
{
	return cp >= SURROGATE_HIGH_FIRST && cp <= SURROGATE_LAST;
}

static bool is_continuation(uint8_t b)
{
	return (b & 0xC0u) == 0x80u;
}

/*
 * Decodes one code point from p[0..n) (n >= 1) per RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF, no NUL.
 */
static enum ntlm_status utf8_decode_one(const uint8_t *p, size_t n, uint32_t *ret_cp, size_t *ret_used)
{
	uint8_t b = p[0];
	size_t need;
	uint32_t cp, min;

	if (b < 0x80u) {
		need = 1;
		cp = b;
		min = 0x01u; /* U+0000 is refused */
	} else if ((b & 0xE0u) == 0xC0u) {
		need = 2;
		cp = b & 0x1Fu;
		min = 0x80u;
	} else if ((b & 0xF0u) == 0xE0u) {
		need = 3;
		cp = b & 0x0Fu;
		min = 0x800u;
	} else if ((b & 0xF8u) == 0xF0u) {
		need = 4;
		cp = b & 0x07u;
		min = 0x10000u;
	} else {
		return NTLM_ERR_BAD_STRING;
	}
	if (n < need)
		return NTLM_ERR_BAD_STRING;
	for (size_t i = 1; i < need; i++) {
		if (!is_continuation(p[i]))
			return NTLM_ERR_BAD_STRING;
		cp = cp << 6 | (p[i] & 0x3Fu);
	}
	if (cp < min || cp > UNI_MAX || is_surrogate(cp))
		return NTLM_ERR_BAD_STRING;
	*ret_cp = cp;
	*ret_used = need;
	return NTLM_OK;
}

enum ntlm_status ntlm_utf8_to_utf16le(const char *s, size_t max_units, uint8_t **ret, size_t *ret_len)
{
	const uint8_t *in = (const uint8_t *)s;
	enum ntlm_status st = NTLM_OK;
	uint8_t *out = NULL;
	size_t n, i = 0, units = 0;

	if (s == NULL || ret == NULL || ret_len == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	n = strlen(s);
	if (n > (SIZE_MAX - 1) / 2)
		return NTLM_ERR_STRING_TOO_LONG;
	/* Each UTF-8 byte yields at most one UTF-16 unit (4 bytes -> 2 units). */
	out = malloc(2 * n + 1);
	if (out == NULL)
		return NTLM_ERR_NO_MEMORY;
	while (i < n) {
		uint32_t cp;
		size_t used, need_units;

		st = utf8_decode_one(in + i, n - i, &cp, &used);
		if (st != NTLM_OK)
			goto out;
		need_units = cp >= 0x10000u ? 2 : 1;
		if (need_units > max_units - units) { /* invariant: units <= max_units */
			st = NTLM_ERR_STRING_TOO_LONG;
			goto out;
		}
		if (need_units == 2) {
			cp -= 0x10000u;
			ntlm_store_le(out + 2 * units, SURROGATE_HIGH_FIRST | (cp >> 10), 2);
			ntlm_store_le(out + 2 * units + 2, SURROGATE_LOW_FIRST | (cp & 0x3FFu), 2);
		} else {
			ntlm_store_le(out + 2 * units, cp, 2);
		}
		units += need_units;
		i += used;
	}
	*ret = out;
	*ret_len = 2 * units;
	out = NULL;
out:
	ntlm_free_wiped(out, 2 * n + 1);
	return st;
}

/* Writes cp (a valid scalar value) as UTF-8 at p; returns the byte count. */
static size_t utf8_encode_one(uint32_t cp, uint8_t *p)
{
	if (cp < 0x80u) {
		p[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800u) {
		p[0] = (uint8_t)(0xC0u | cp >> 6);
		p[1] = (uint8_t)(0x80u | (cp & 0x3Fu));
		return 2;
	}
	if (cp < 0x10000u) {
		p[0] = (uint8_t)(0xE0u | cp >> 12);
		p[1] = (uint8_t)(0x80u | (cp >> 6 & 0x3Fu));
		p[2] = (uint8_t)(0x80u | (cp & 0x3Fu));
		return 3;
	}
	p[0] = (uint8_t)(0xF0u | cp >> 18);
	p[1] = (uint8_t)(0x80u | (cp >> 12 & 0x3Fu));
	p[2] = (uint8_t)(0x80u | (cp >> 6 & 0x3Fu));
	p[3] = (uint8_t)(0x80u | (cp & 0x3Fu));
	return 4;
}

enum ntlm_status ntlm_utf16le_to_utf8(const uint8_t *p, size_t len, char **ret)
{
	enum ntlm_status st = NTLM_OK;
	size_t units, i = 0, o = 0, cap;
	uint8_t *out = NULL;

	if ((p == NULL && len > 0) || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (len % 2 != 0)
		return NTLM_ERR_BAD_STRING;
	units = len / 2;
	if (units > (SIZE_MAX - 1) / 3)
		return NTLM_ERR_STRING_TOO_LONG;
	/* One unit -> at most 3 bytes; a surrogate pair (2 units) -> 4 bytes. */
	cap = 3 * units + 1;
	out = malloc(cap);
	if (out == NULL)
		return NTLM_ERR_NO_MEMORY;
	while (i < units) {
		uint32_t cp = (uint32_t)ntlm_load_le(p + 2 * i, 2);

		i++;
		if (cp == 0 || (cp >= SURROGATE_LOW_FIRST && cp <= SURROGATE_LAST)) {
			st = NTLM_ERR_BAD_STRING;
			goto out;
		}
		if (cp >= SURROGATE_HIGH_FIRST && cp < SURROGATE_LOW_FIRST) {
			uint32_t lo;

			if (i == units) {
				st = NTLM_ERR_BAD_STRING;
				goto out;
			}
			lo = (uint32_t)ntlm_load_le(p + 2 * i, 2);
			if (lo < SURROGATE_LOW_FIRST || lo > SURROGATE_LAST) {
				st = NTLM_ERR_BAD_STRING;
				goto out;
			}
			i++;
			cp = 0x10000u + ((cp - SURROGATE_HIGH_FIRST) << 10 | (lo - SURROGATE_LOW_FIRST));
		}
		o += utf8_encode_one(cp, out + o);
	}
	out[o] = '\0';
	*ret = (char *)out;
	out = NULL;
out:
	ntlm_free_wiped(out, cap);
	return st;
}

enum ntlm_status ntlm_oem_to_utf8(const uint8_t *p, size_t len, char **ret)
{
	char *out;

	if ((p == NULL && len > 0) || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == 0 || p[i] > 0x7Fu)
			return NTLM_ERR_BAD_STRING;
	}
	out = malloc(len + 1);
	if (out == NULL)
		return NTLM_ERR_NO_MEMORY;
	if (len > 0)
		memcpy(out, p, len);
	out[len] = '\0';
	*ret = out;
	return NTLM_OK;
}

/* RFC 4648 section 4 */
static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

enum ntlm_status ntlm_base64_encode(const uint8_t *p, size_t len, char **ret)
{
	size_t groups, o = 0, i = 0;
	char *out;

	if ((p == NULL && len > 0) || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	groups = len / 3 + (len % 3 != 0);
	if (groups > (SIZE_MAX - 1) / 4)
		return NTLM_ERR_INVALID_ARGUMENT;
	out = malloc(4 * groups + 1);
	if (out == NULL)
		return NTLM_ERR_NO_MEMORY;
	for (; len - i >= 3; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[v >> 12 & 0x3Fu];
		out[o++] = b64_alphabet[v >> 6 & 0x3Fu];
		out[o++] = b64_alphabet[v & 0x3Fu];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[v >> 12 & 0x3Fu];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[v >> 12 & 0x3Fu];
		out[o++] = b64_alphabet[v >> 6 & 0x3Fu];
		out[o++] = '=';
	}
	out[o] = '\0';
	*ret = out;
	return NTLM_OK;
}

/* The 6-bit value of an alphabet character, or -1. */
static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decodes one 4-character quantum into out; *ret_n is 3, 2 or 1. '=' is
 * allowed only in the last quantum (last), as "xx==" or "xxx=", and the
 * unused bits before the padding must be zero (canonical encoding).
 */
static enum ntlm_status b64_decode_quantum(const char *q, bool last, uint8_t *out, size_t *ret_n)
{
	uint32_t v = 0;
	size_t pad = 0;

	for (size_t k = 0; k < 4; k++) {
		int d = b64_value(q[k]);

		if (d < 0) {
			if (q[k] != '=' || !last || k < 2)
				return NTLM_ERR_BAD_ENCODING;
			pad++;
			d = 0;
		} else if (pad > 0) {
			return NTLM_ERR_BAD_ENCODING; /* data after '=' */
		}
		v = v << 6 | (uint32_t)d;
	}
	if ((pad == 1 && (v & 0xFFu) != 0) || (pad == 2 && (v & 0xFFFFu) != 0))
		return NTLM_ERR_BAD_ENCODING;
	out[0] = (uint8_t)(v >> 16);
	out[1] = (uint8_t)(v >> 8 & 0xFFu);
	out[2] = (uint8_t)(v & 0xFFu);
	*ret_n = 3 - pad;
	return NTLM_OK;
}

enum ntlm_status ntlm_base64_decode(const char *s, size_t slen, uint8_t **ret, size_t *ret_len)
{
	enum ntlm_status st = NTLM_OK;
	size_t o = 0, cap;
	uint8_t *out;

	if ((s == NULL && slen > 0) || ret == NULL || ret_len == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (slen % 4 != 0)
		return NTLM_ERR_BAD_ENCODING;
	cap = slen / 4 * 3 + 1;
	out = malloc(cap);
	if (out == NULL)
		return NTLM_ERR_NO_MEMORY;
	for (size_t i = 0; i < slen; i += 4) {
		size_t n;

		st = b64_decode_quantum(s + i, slen - i == 4, out + o, &n);
		if (st != NTLM_OK)
			goto out;
		o += n;
	}
	*ret = out;
	*ret_len = o;
	out = NULL;
out:
	ntlm_free_wiped(out, cap);
	return st;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool ntlm_ascii_casecmp_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		if (ascii_lower(*a) != ascii_lower(*b))
			return false;
	}
	return *a == *b;
}

/* The upper case of one UTF-16 unit for a-z and Latin-1 (U+00E0..U+00FE
 * without U+00F7 DIVISION SIGN; U+00FF maps to U+0178). */
static uint32_t upper_unit(uint32_t u)
{
	if (u >= 'a' && u <= 'z')
		return u - 0x20u;
	if (u >= 0xE0u && u <= 0xFEu && u != 0xF7u)
		return u - 0x20u;
	if (u == 0xFFu)
		return 0x178u;
	return u;
}

void ntlm_utf16le_upper(uint8_t *p, size_t len)
{
	if (p == NULL)
		return;
	for (size_t i = 0; len - i >= 2; i += 2)
		ntlm_store_le(p + i, upper_unit((uint32_t)ntlm_load_le(p + i, 2)), 2);
}

/* The value of a hex digit, or -1. */
static int hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_ascii_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

enum ntlm_status ntlm_hex_decode(const char *s, size_t slen, uint8_t **ret, size_t *ret_len)
{
	uint8_t *out;
	size_t n = 0;
	int hi = -1;

	if ((s == NULL && slen != 0) || ret == NULL || ret_len == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	out = malloc(slen / 2 + 1);
	if (out == NULL)
		return NTLM_ERR_NO_MEMORY;
	for (size_t i = 0; i < slen; i++) {
		int v = hex_digit_value(s[i]);

		if (is_ascii_space(s[i]))
			continue;
		if (v < 0)
			goto bad;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		goto bad;
	*ret = out;
	*ret_len = n;
	return NTLM_OK;
bad:
	ntlm_free_wiped(out, slen / 2 + 1);
	return NTLM_ERR_BAD_ENCODING;
}
