/*
 * text.c: strict UTF-8 / UTF-16LE / OEM conversions, base64 (RFC 4648) and
 * the small case helpers NTLM needs. No locale is consulted: every rule here
 * is spelled out, so the result does not depend on the environment.
 */
#include "internal.h"

#include <endian.h>
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

/* ------------------------------------------------------------------ */
/* OEM text: 7-bit, UTF-8, or an 8-bit code page                       */
/* ------------------------------------------------------------------ */

/* IBM code page 850 (DOS Latin-1), bytes 0x80..0xFF. */
static const uint16_t cp850_high[128] = {
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE,
    0x00EC, 0x00C4, 0x00C5, 0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9, 0x00FF, 0x00D6,
    0x00DC, 0x00F8, 0x00A3, 0x00D8, 0x00D7, 0x0192, 0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA,
    0x00BA, 0x00BF, 0x00AE, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB, 0x2591, 0x2592, 0x2593, 0x2502,
    0x2524, 0x00C1, 0x00C2, 0x00C0, 0x00A9, 0x2563, 0x2551, 0x2557, 0x255D, 0x00A2, 0x00A5, 0x2510, 0x2514,
    0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x00E3, 0x00C3, 0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550,
    0x256C, 0x00A4, 0x00F0, 0x00D0, 0x00CA, 0x00CB, 0x00C8, 0x0131, 0x00CD, 0x00CE, 0x00CF, 0x2518, 0x250C,
    0x2588, 0x2584, 0x00A6, 0x00CC, 0x2580, 0x00D3, 0x00DF, 0x00D4, 0x00D2, 0x00F5, 0x00D5, 0x00B5, 0x00FE,
    0x00DE, 0x00DA, 0x00DB, 0x00D9, 0x00FD, 0x00DD, 0x00AF, 0x00B4, 0x00AD, 0x00B1, 0x2017, 0x00BE, 0x00B6,
    0x00A7, 0x00F7, 0x00B8, 0x00B0, 0x00A8, 0x00B7, 0x00B9, 0x00B3, 0x00B2, 0x25A0, 0x00A0,
};

/* Windows-1252 bytes 0x80..0x9F (0xA0..0xFF are ISO-8859-1). The five
 * bytes Windows-1252 leaves undefined map to the C1 code point of the same
 * value, as Windows' MultiByteToWideChar does; a name holding one is then
 * refused as holding a control character. */
static const uint16_t cp1252_c1[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* ISO-8859-15 differs from ISO-8859-1 in eight bytes. */
static const struct {
	uint8_t byte;
	uint16_t cp;
} latin9_diff[] = {
    {0xA4, 0x20AC}, {0xA6, 0x0160}, {0xA8, 0x0161}, {0xB4, 0x017D},
    {0xB8, 0x017E}, {0xBC, 0x0152}, {0xBD, 0x0153}, {0xBE, 0x0178},
};

/* The code point of byte b (>= 0x80) in the code page cs. */
static uint32_t codepage_cp(enum ntlm_oem_charset cs, uint8_t b)
{
	switch (cs) {
	case NTLM_OEM_CP1252:
		return b < 0xA0u ? cp1252_c1[b - 0x80u] : b;
	case NTLM_OEM_ISO8859_1:
		return b;
	case NTLM_OEM_ISO8859_15:
		for (size_t i = 0; i < NTLM_ARRAY_LEN(latin9_diff); i++) {
			if (latin9_diff[i].byte == b)
				return latin9_diff[i].cp;
		}
		return b;
	case NTLM_OEM_CP850:
	default:
		return cp850_high[b - 0x80u];
	}
}

static const struct {
	const char *name;
	enum ntlm_oem_charset cs;
} charset_names[] = {
    {"CP850", NTLM_OEM_CP850},          {"IBM850", NTLM_OEM_CP850},       {"CP1252", NTLM_OEM_CP1252},
    {"WINDOWS1252", NTLM_OEM_CP1252},   {"ISO88591", NTLM_OEM_ISO8859_1}, {"LATIN1", NTLM_OEM_ISO8859_1},
    {"ISO885915", NTLM_OEM_ISO8859_15}, {"LATIN9", NTLM_OEM_ISO8859_15},
};

const char *ntlm_oem_charset_name(enum ntlm_oem_charset c)
{
	switch (c) {
	case NTLM_OEM_CP850:
		return "CP850";
	case NTLM_OEM_CP1252:
		return "CP1252";
	case NTLM_OEM_ISO8859_1:
		return "ISO-8859-1";
	case NTLM_OEM_ISO8859_15:
		return "ISO-8859-15";
	}
	return NULL;
}

enum ntlm_status ntlm_oem_charset_from_name(const char *name, enum ntlm_oem_charset *ret)
{
	char folded[16];
	size_t n = 0;

	if (name == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	/* upper case, without '-' and '_': "iso-8859-1" is "ISO88591" */
	for (; *name != '\0'; name++) {
		char c = *name;

		if (c == '-' || c == '_')
			continue;
		if (n + 1 >= sizeof(folded))
			return NTLM_ERR_INVALID_ARGUMENT;
		folded[n++] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
	}
	folded[n] = '\0';
	for (size_t i = 0; i < NTLM_ARRAY_LEN(charset_names); i++) {
		if (strcmp(folded, charset_names[i].name) == 0) {
			*ret = charset_names[i].cs;
			return NTLM_OK;
		}
	}
	return NTLM_ERR_INVALID_ARGUMENT;
}

const char *ntlm_text_rule_name(enum ntlm_text_rule r)
{
	switch (r) {
	case NTLM_TEXT_NONE:
		return "none";
	case NTLM_TEXT_UTF16:
		return "UTF-16LE";
	case NTLM_TEXT_ASCII:
		return "ASCII";
	case NTLM_TEXT_UTF8:
		return "UTF-8";
	case NTLM_TEXT_CODEPAGE:
		return "code page";
	case NTLM_TEXT_ESCAPED:
		return "escaped";
	case NTLM_TEXT_UNREADABLE:
		return "unreadable";
	}
	return "unknown";
}

/* True when p[0..len) is valid UTF-8 (RFC 3629) without NUL. */
static bool is_utf8(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t used;

		if (utf8_decode_one(p + i, len - i, &cp, &used) != NTLM_OK)
			return false;
		i += used;
	}
	return true;
}

enum ntlm_status ntlm_oem_decode(const uint8_t *p, size_t len, enum ntlm_oem_charset cs, char **ret,
                                 enum ntlm_text_rule *ret_rule)
{
	enum ntlm_text_rule rule = NTLM_TEXT_ASCII;
	uint8_t *out;
	size_t o = 0;

	if ((p == NULL && len > 0) || ret == NULL || ntlm_oem_charset_name(cs) == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (len > (SIZE_MAX - 1) / 3)
		return NTLM_ERR_STRING_TOO_LONG;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == 0)
			return NTLM_ERR_BAD_STRING;
		if (p[i] > 0x7Fu)
			rule = NTLM_TEXT_UTF8;
	}
	/* valid UTF-8 first (what curl, cntlm, go-ntlmssp and python3-ntlm-auth
	 * send), else the code page: its characters take at most 3 bytes */
	if (rule == NTLM_TEXT_UTF8 && !is_utf8(p, len))
		rule = NTLM_TEXT_CODEPAGE;
	out = malloc(rule == NTLM_TEXT_CODEPAGE ? 3 * len + 1 : len + 1);
	if (out == NULL)
		return NTLM_ERR_NO_MEMORY;
	for (size_t i = 0; i < len; i++) {
		if (rule != NTLM_TEXT_CODEPAGE || p[i] < 0x80u)
			out[o++] = p[i];
		else
			o += utf8_encode_one(codepage_cp(cs, p[i]), out + o);
	}
	out[o] = '\0';
	*ret = (char *)out;
	if (ret_rule != NULL)
		*ret_rule = len == 0 ? NTLM_TEXT_NONE : rule;
	return NTLM_OK;
}

enum ntlm_status ntlm_oem_to_utf8(const uint8_t *p, size_t len, char **ret)
{
	return ntlm_oem_decode(p, len, NTLM_OEM_CP850, ret, NULL);
}

enum ntlm_status ntlm_escape_bytes(const uint8_t *p, size_t len, char **ret)
{
	static const char digits[] = "0123456789abcdef";
	char *out;
	size_t o = 0;

	if ((p == NULL && len > 0) || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (len > (SIZE_MAX - 1) / 4)
		return NTLM_ERR_STRING_TOO_LONG;
	out = malloc(4 * len + 1);
	if (out == NULL)
		return NTLM_ERR_NO_MEMORY;
	for (size_t i = 0; i < len; i++) {
		if (p[i] >= 0x20u && p[i] < 0x7Fu && p[i] != '\\') {
			out[o++] = (char)p[i];
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = digits[p[i] >> 4];
			out[o++] = digits[p[i] & 0xFu];
		}
	}
	out[o] = '\0';
	*ret = out;
	return NTLM_OK;
}

/*
 * The characters no name may hold: they end or split log lines, helper
 * replies and account keys. C0 (U+0000-U+001F, NUL, TAB, LF, CR, ESC...),
 * DEL (U+007F) and C1 (U+0080-U+009F, NEL U+0085 among them). A space is
 * a character like any other.
 */
static bool is_control(uint32_t cp)
{
	return cp < 0x20u || (cp >= 0x7Fu && cp <= 0x9Fu);
}

enum ntlm_status ntlm_utf8_name_check(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;

	if (s == NULL && len > 0)
		return NTLM_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < len; i++) {
		/* C0 and DEL are single bytes; C1 is 0xC2 0x80..0x9F (RFC 3629),
		 * while 0x80..0x9F alone are continuation bytes of other characters */
		if (p[i] < 0x20u || p[i] == 0x7Fu ||
		    (p[i] == 0xC2u && i + 1 < len && p[i + 1] >= 0x80u && p[i + 1] <= 0x9Fu))
			return NTLM_ERR_CONTROL_CHARACTER;
	}
	return NTLM_OK;
}

/* MS-NLMP 2.2.1.3: DomainName, UserName and Workstation are UTF-16LE when
 * NTLMSSP_NEGOTIATE_UNICODE is set, else OEM. In UTF-16LE a control
 * character is one code unit (none lies in the surrogate range). In OEM
 * text only C0 and DEL are single bytes in every rule: bytes 0x80..0x9F
 * are letters in CP850 and parts of UTF-8 sequences, so C1 is looked for
 * in the decoded text (ntlm_utf8_name_check()). */
enum ntlm_status ntlm_wire_name_check(const uint8_t *p, size_t len, bool unicode)
{
	size_t unit = unicode ? 2 : 1;

	if (p == NULL && len > 0)
		return NTLM_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; len - i >= unit; i += unit) {
		uint32_t u = (uint32_t)ntlm_load_le(p + i, unit);

		if (unicode ? is_control(u) : (u < 0x20u || u == 0x7Fu))
			return NTLM_ERR_CONTROL_CHARACTER;
	}
	return NTLM_OK;
}

/*
 * Base64, RFC 4648 section 4. Both directions map between 6-bit values and
 * characters by arithmetic on masks, without branches or table lookups
 * indexed by the data: the text may carry a password (ntlm_auth's PW line)
 * or a session key. Only the length and the padding steer the code.
 */

/* All ones when lo <= x <= hi, else 0 (x, lo, hi below 2^31). */
static inline uint32_t in_range_mask(uint32_t x, uint32_t lo, uint32_t hi)
{
	return (((x - lo) | (hi - x)) >> 31) - 1u;
}

/* All ones when x < bound, else 0 (both below 2^31). */
static inline uint32_t below_mask(uint32_t x, uint32_t bound)
{
	return 0u - ((x - bound) >> 31);
}

/* The character of a 6-bit value. */
static inline char b64_char(uint32_t v)
{
	uint32_t c = v + 'A';          /* 0..25: 'A'..'Z' */
	c += ~below_mask(v, 26) & 6u;  /* 26..51: 'a'..'z' */
	c -= ~below_mask(v, 52) & 75u; /* 52..61: '0'..'9' */
	c -= ~below_mask(v, 62) & 15u; /* 62: '+' */
	c += ~below_mask(v, 63) & 3u;  /* 63: '/' */
	return (char)c;
}

/* The 6-bit value of a character, with bit 8 set when it is not in the
 * alphabet ('=' included). */
static inline uint32_t b64_value(char ch)
{
	uint32_t c = (unsigned char)ch;
	uint32_t upper = in_range_mask(c, 'A', 'Z'), lower = in_range_mask(c, 'a', 'z');
	uint32_t digit = in_range_mask(c, '0', '9'), plus = in_range_mask(c, '+', '+');
	uint32_t slash = in_range_mask(c, '/', '/');
	uint32_t v = (upper & (c - 'A')) | (lower & (c - 'a' + 26u)) | (digit & (c - '0' + 52u)) |
	             (plus & 62u) | (slash & 63u);

	return v | (~(upper | lower | digit | plus | slash) & 0x100u);
}

/*
 * Eight characters at a time, one per byte lane of a 64-bit word. A lane
 * below 0x80 plus a constant below 0x81 stays within its byte, so sums
 * compare every lane with a bound at once.
 */
#define LANES(b) ((uint64_t)(b)*0x0101010101010101ull)
#define HIGH     LANES(0x80u)

/* 0xFF in the lanes of x (each below 0x80) that lie in lo..hi, else 0. */
static inline uint64_t lanes_in_range(uint64_t x, unsigned lo, unsigned hi)
{
	uint64_t ge = (x + LANES(0x80u - lo)) & HIGH, gt = (x + LANES(0x7Fu - hi)) & HIGH;

	return ((ge & ~gt) >> 7) * 0xFFu;
}

/* 0xFF in the lanes of v (each below 0x40) that are at least k, else 0. */
static inline uint64_t lanes_at_least(uint64_t v, unsigned k)
{
	return (((v + LANES(0x80u - k)) & HIGH) >> 7) * 0xFFu;
}

/* Adds the lanes of a to those of x (below 0x80) modulo 256, lane by lane. */
static inline uint64_t lanes_add(uint64_t x, uint64_t a)
{
	return (x + (a & ~HIGH)) ^ (a & HIGH);
}

/* s[0] in the lowest lane. */
static inline uint64_t load8(const char *s)
{
	uint64_t x;

	memcpy(&x, s, sizeof(x));
	return le64toh(x);
}

/*
 * Decodes s[0..8) into out[0..6); returns the lanes that were not base64
 * characters (non-zero means bad input).
 */
static inline uint64_t b64_decode8(const char *s, uint8_t *out)
{
	uint64_t x = load8(s), bad = x & HIGH;
	uint64_t up, lo, dg, pl, sl, v, t, u;

	x &= ~HIGH;
	up = lanes_in_range(x, 'A', 'Z');
	lo = lanes_in_range(x, 'a', 'z');
	dg = lanes_in_range(x, '0', '9');
	pl = lanes_in_range(x, '+', '+');
	sl = lanes_in_range(x, '/', '/');
	bad |= ~(up | lo | dg | pl | sl);
	/* 'A' -> 0, 'a' -> 26, '0' -> 52, '+' -> 62, '/' -> 63 (mod 256) */
	v = lanes_add(x, (up & LANES(0xBFu)) | (lo & LANES(0xB9u)) | (dg & LANES(0x04u)) |
	                     (pl & LANES(0x13u)) | (sl & LANES(0x10u)));
	/* 6-bit lanes -> 12 bits per 16-bit lane -> 24 bits per 32-bit lane */
	t = ((v & 0x003F003F003F003Full) << 6) | ((v >> 8) & 0x003F003F003F003Full);
	u = ((t & 0x00000FFF00000FFFull) << 12) | ((t >> 16) & 0x00000FFF00000FFFull);
	out[0] = (uint8_t)(u >> 16);
	out[1] = (uint8_t)(u >> 8);
	out[2] = (uint8_t)u;
	out[3] = (uint8_t)(u >> 48);
	out[4] = (uint8_t)(u >> 40);
	out[5] = (uint8_t)(u >> 32);
	return bad;
}

/* 0xFF in the lanes of s[0..8) that hold a base64 character or '='. */
static inline uint64_t b64_lanes_valid(const char *s)
{
	uint64_t x = load8(s), high = x & HIGH;

	x &= ~HIGH;
	return (lanes_in_range(x, 'A', 'Z') | lanes_in_range(x, 'a', 'z') | lanes_in_range(x, '0', '9') |
	        lanes_in_range(x, '+', '+') | lanes_in_range(x, '/', '/') | lanes_in_range(x, '=', '=')) &
	       ~((high >> 7) * 0xFFu);
}

/* Encodes p[0..6) as out[0..8). */
static inline void b64_encode6(const uint8_t *p, char *out)
{
	uint64_t x = (uint64_t)p[0] << 16 | (uint64_t)p[1] << 8 | p[2] | (uint64_t)p[3] << 48 |
	             (uint64_t)p[4] << 40 | (uint64_t)p[5] << 32;
	uint64_t y = ((x >> 12) & 0x00000FFF00000FFFull) | ((x & 0x00000FFF00000FFFull) << 16);
	uint64_t v = ((y >> 6) & 0x003F003F003F003Full) | ((y & 0x003F003F003F003Full) << 8);
	/* value -> character by adding, modulo 256: 65 below 26, 71 up to 51,
	 * -4 up to 61, -19 for 62, -16 for 63; the ranges nest, so each mask
	 * switches the constant from the previous one */
	uint64_t a = lanes_add(v, LANES(65u) ^ (lanes_at_least(v, 26) & LANES(65u ^ 71u)) ^
	                              (lanes_at_least(v, 52) & LANES(71u ^ 252u)) ^
	                              (lanes_at_least(v, 62) & LANES(252u ^ 237u)) ^
	                              (lanes_at_least(v, 63) & LANES(237u ^ 240u)));

	a = htole64(a);
	memcpy(out, &a, sizeof(a));
}

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
	for (; len - i >= 6; i += 6, o += 8)
		b64_encode6(p + i, out + o);
	for (; len - i >= 3; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = b64_char(v >> 18);
		out[o++] = b64_char(v >> 12 & 0x3Fu);
		out[o++] = b64_char(v >> 6 & 0x3Fu);
		out[o++] = b64_char(v & 0x3Fu);
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		out[o++] = b64_char(v >> 18);
		out[o++] = b64_char(v >> 12 & 0x3Fu);
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		out[o++] = b64_char(v >> 18);
		out[o++] = b64_char(v >> 12 & 0x3Fu);
		out[o++] = b64_char(v >> 6 & 0x3Fu);
		out[o++] = '=';
	}
	out[o] = '\0';
	*ret = out;
	return NTLM_OK;
}

/*
 * The last 2, 3 or 4 characters q[0..n): "xx==", "xxx=", "xxxx", or with
 * padding_optional "xx" and "xxx". The unused bits before the padding must
 * be zero (canonical encoding). Writes *ret_n (1 to 3) bytes; *bad gets bit
 * 8 for a character outside the alphabet.
 */
static enum ntlm_status b64_decode_tail(const char *q, size_t n, bool padding_optional, uint8_t *out,
                                        size_t *ret_n, uint32_t *bad)
{
	size_t data = n;
	uint32_t v = 0;

	if (n == 4 && q[3] == '=')
		data = q[2] == '=' ? 2 : 3;
	else if (n < 4 && !padding_optional)
		return NTLM_ERR_BAD_ENCODING;
	if (n < 2)
		return NTLM_ERR_BAD_ENCODING;
	for (size_t k = 0; k < 4; k++) {
		uint32_t d = k < data ? b64_value(q[k]) : 0;

		*bad |= d;
		v = v << 6 | (d & 0x3Fu);
	}
	if ((data == 3 && (v & 0xFFu) != 0) || (data == 2 && (v & 0xFFFFu) != 0))
		return NTLM_ERR_BAD_ENCODING;
	out[0] = (uint8_t)(v >> 16);
	out[1] = (uint8_t)(v >> 8 & 0xFFu);
	out[2] = (uint8_t)(v & 0xFFu);
	*ret_n = data - 1;
	return NTLM_OK;
}

enum ntlm_status ntlm_base64_decode_ex(const char *s, size_t slen, unsigned flags, uint8_t **ret,
                                       size_t *ret_len)
{
	bool padding_optional = (flags & NTLM_BASE64_PADDING_OPTIONAL) != 0;
	enum ntlm_status st = NTLM_OK;
	size_t o = 0, i = 0, cap, body, n;
	uint64_t bad8 = 0;
	uint32_t bad = 0;
	uint8_t *out;

	if ((s == NULL && slen > 0) || ret == NULL || ret_len == NULL ||
	    (flags & ~(unsigned)NTLM_BASE64_PADDING_OPTIONAL) != 0)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (slen % 4 != 0 && (!padding_optional || slen % 4 == 1))
		return NTLM_ERR_BAD_ENCODING;
	/* the full quanta before the last group, then the last 2 to 4 characters */
	body = slen == 0 ? 0 : (slen - 1) / 4 * 4;
	cap = slen / 4 * 3 + 3;
	out = malloc(cap);
	if (out == NULL)
		return NTLM_ERR_NO_MEMORY;
	for (; body - i >= 8; i += 8, o += 6)
		bad8 |= b64_decode8(s + i, out + o);
	bad |= (uint32_t)((bad8 | (0u - bad8)) >> 63) << 8;
	for (; i < body; i += 4) {
		uint32_t a = b64_value(s[i]), b = b64_value(s[i + 1]), c = b64_value(s[i + 2]),
		         d = b64_value(s[i + 3]);

		bad |= a | b | c | d;
		out[o++] = (uint8_t)(a << 2 | (b & 0x3Fu) >> 4);
		out[o++] = (uint8_t)((b & 0x0Fu) << 4 | (c & 0x3Fu) >> 2);
		out[o++] = (uint8_t)((c & 0x03u) << 6 | (d & 0x3Fu));
	}
	if (slen > 0) {
		if ((st = b64_decode_tail(s + body, slen - body, padding_optional, out + o, &n, &bad)) !=
		    NTLM_OK)
			goto out;
		o += n;
	}
	if ((bad & 0x100u) != 0) {
		st = NTLM_ERR_BAD_ENCODING;
		goto out;
	}
	*ret = out;
	*ret_len = o;
	out = NULL;
out:
	ntlm_free_wiped(out, cap);
	return st;
}

size_t ntlm_base64_span(const char *s, size_t n)
{
	size_t i = 0;

	if (s == NULL)
		return 0;
	for (; n - i >= 8; i += 8) {
		uint64_t valid = b64_lanes_valid(s + i);

		if (valid != UINT64_MAX)
			return i + (size_t)__builtin_ctzll(~valid) / 8;
	}
	for (; i < n; i++) {
		if ((b64_value(s[i]) & 0x100u) != 0 && s[i] != '=')
			break;
	}
	return i;
}

enum ntlm_status ntlm_base64_decode(const char *s, size_t slen, uint8_t **ret, size_t *ret_len)
{
	return ntlm_base64_decode_ex(s, slen, 0, ret, ret_len);
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

/*
 * The value of a hex digit, or -1, with no branch and no table indexed by
 * the digit: the digits of an NT hash are the secret itself, and neither
 * the branch predictor nor the cache may learn them (the range masks of the
 * base64 decoder above).
 */
int ntlm_hex_digit(char c)
{
	uint32_t u = (unsigned char)c, folded = u | 0x20u; /* 'A'..'F' -> 'a'..'f' */
	uint32_t is_digit = in_range_mask(u, '0', '9'), is_letter = in_range_mask(folded, 'a', 'f');
	uint32_t value = ((u - '0') & is_digit) | ((folded - 'a' + 10u) & is_letter);

	/* the value for a digit; 0 - 1 for anything else */
	return (int)value - 1 + (int)((is_digit | is_letter) & 1u);
}

enum ntlm_status ntlm_hex_to_bytes(const char *s, size_t slen, uint8_t *out, size_t n)
{
	int32_t bad = 0;

	if (s == NULL || (out == NULL && n != 0))
		return NTLM_ERR_INVALID_ARGUMENT;
	if (slen != 2 * n)
		return NTLM_ERR_BAD_ENCODING;
	for (size_t i = 0; i < n; i++) {
		int32_t hi = ntlm_hex_digit(s[2 * i]), lo = ntlm_hex_digit(s[2 * i + 1]);

		bad |= hi | lo; /* negative once any digit was not one */
		out[i] = (uint8_t)(hi << 4 | (lo & 15));
	}
	if (bad < 0) {
		ntlm_wipe(out, n);
		return NTLM_ERR_BAD_ENCODING;
	}
	return NTLM_OK;
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
		int v = ntlm_hex_digit(s[i]);

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
