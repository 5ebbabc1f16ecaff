/*
 * sid.c: SIDs as text (MS-DTYP 2.4.2.1), read through the one bounded
 * reader, and Samba's algorithmic RIDs.
 */
#include <config.h>

#include "sid.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define AUTHORITY_MAX  0xFFFFFFFFFFFFull /* 48 bits */
#define FIELD_MAX      20                /* the longest field: "0x" and 12 hex digits, with room */
#define SID_TEXT_LIMIT (NTLMD_SID_TEXT_MAX - 1)

/* One "-"-separated field of the text, copied into buf (NUL-terminated). */
struct field {
	char buf[FIELD_MAX + 1];
	size_t len;
	bool last; /* no '-' after it */
};

/* Reads the next field: the bytes up to a '-' (consumed) or the end. */
static enum ntlm_status read_field(struct ntlm_reader *r, struct field *f, const char **why)
{
	uint8_t c = 0;

	f->len = 0;
	f->last = true;
	while (ntlm_reader_left(r) > 0) {
		if (ntlm_read_u8(r, &c) != NTLM_OK)
			return NTLM_ERR_INTERNAL;
		if (c == '-') {
			f->last = false;
			break;
		}
		if (f->len == FIELD_MAX) {
			*why = "a field is too long";
			return NTLM_ERR_BAD_ENCODING;
		}
		f->buf[f->len++] = (char)c;
	}
	f->buf[f->len] = '\0';
	if (f->len == 0) {
		*why = "an empty field";
		return NTLM_ERR_BAD_ENCODING;
	}
	return NTLM_OK;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A field of decimal digits (or, with hex_ok, "0x" and hex digits) no
 * larger than max. */
static enum ntlm_status field_number(const struct field *f, bool hex_ok, uint64_t max, uint64_t *ret,
                                     const char **why)
{
	bool hex = hex_ok && f->len > 2 && f->buf[0] == '0' && (f->buf[1] == 'x' || f->buf[1] == 'X');
	uint64_t base = hex ? 16 : 10, v = 0;

	for (size_t i = hex ? 2 : 0; i < f->len; i++) {
		int d = hex ? hex_digit(f->buf[i])
		            : (f->buf[i] >= '0' && f->buf[i] <= '9' ? f->buf[i] - '0' : -1);

		if (d < 0) {
			*why = "a field is not a number";
			return NTLM_ERR_BAD_ENCODING;
		}
		if (v > (max - (uint64_t)d) / base) {
			*why = "a number is too large";
			return NTLM_ERR_BAD_ENCODING;
		}
		v = v * base + (uint64_t)d;
	}
	*ret = v;
	return NTLM_OK;
}

/* "S" (or "s"), "-", the revision 1, "-". */
static enum ntlm_status read_prefix(struct ntlm_reader *r, struct field *f, const char **why)
{
	uint64_t revision = 0;
	enum ntlm_status st = read_field(r, f, why);

	if (st == NTLM_OK && (f->len != 1 || (f->buf[0] != 'S' && f->buf[0] != 's'))) {
		*why = "it does not start with S-";
		st = NTLM_ERR_BAD_ENCODING;
	}
	if (st == NTLM_OK && f->last) {
		*why = "it ends after S";
		st = NTLM_ERR_BAD_ENCODING;
	}
	if (st == NTLM_OK)
		st = read_field(r, f, why);
	if (st == NTLM_OK)
		st = field_number(f, false, UINT8_MAX, &revision, why);
	if (st == NTLM_OK && revision != 1) {
		*why = "the revision is not 1";
		st = NTLM_ERR_BAD_ENCODING;
	}
	if (st == NTLM_OK && f->last) {
		*why = "no identifier authority";
		st = NTLM_ERR_BAD_ENCODING;
	}
	return st;
}

static enum ntlm_status parse_text(struct ntlm_reader *r, struct ntlmd_sid *sid, const char **why)
{
	struct field f;
	uint64_t v = 0;
	enum ntlm_status st = read_prefix(r, &f, why);

	if (st == NTLM_OK)
		st = read_field(r, &f, why);
	if (st == NTLM_OK)
		st = field_number(&f, true, AUTHORITY_MAX, &sid->authority, why);
	if (st == NTLM_OK && f.last) {
		*why = "no sub-authority";
		st = NTLM_ERR_BAD_ENCODING;
	}
	while (st == NTLM_OK && !f.last) {
		if (sid->count == NTLMD_SID_MAX_SUBAUTH) {
			*why = "more than 15 sub-authorities";
			return NTLM_ERR_BAD_ENCODING;
		}
		st = read_field(r, &f, why);
		if (st == NTLM_OK)
			st = field_number(&f, false, UINT32_MAX, &v, why);
		if (st == NTLM_OK)
			sid->sub[sid->count++] = (uint32_t)v;
	}
	return st;
}

enum ntlm_status ntlmd_sid_parse(const char *text, struct ntlmd_sid *ret, const char **ret_why)
{
	struct ntlm_reader r;
	struct ntlmd_sid sid = {0};
	const char *why = NULL;
	size_t len;
	enum ntlm_status st;

	if (text == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	len = strnlen(text, SID_TEXT_LIMIT + 1);
	if (len > SID_TEXT_LIMIT) {
		why = "it is too long";
		st = NTLM_ERR_BAD_ENCODING;
		goto out;
	}
	ntlm_reader_init(&r, text, len);
	st = parse_text(&r, &sid, &why);
out:
	if (st == NTLM_OK)
		*ret = sid;
	else if (ret_why != NULL)
		*ret_why = why != NULL ? why : "it is malformed";
	return st;
}

bool ntlmd_sid_looks_like(const char *text)
{
	return text != NULL && (text[0] == 'S' || text[0] == 's') && text[1] == '-' && text[2] >= '0' &&
	       text[2] <= '9';
}

bool ntlmd_sid_format(const struct ntlmd_sid *sid, char *out, size_t size)
{
	size_t used;
	int n;

	if (sid == NULL || out == NULL || size == 0 || sid->count > NTLMD_SID_MAX_SUBAUTH)
		return false;
	/* MS-DTYP 2.4.2.1: decimal below 2^32, else hexadecimal */
	if (sid->authority < 0x100000000ull)
		n = snprintf(out, size, "S-1-%" PRIu64, sid->authority);
	else
		n = snprintf(out, size, "S-1-0x%012" PRIX64, sid->authority);
	if (n < 0 || (size_t)n >= size)
		return false;
	used = (size_t)n;
	for (size_t i = 0; i < sid->count; i++) {
		n = snprintf(out + used, size - used, "-%" PRIu32, sid->sub[i]);
		if (n < 0 || (size_t)n >= size - used)
			return false;
		used += (size_t)n;
	}
	return true;
}

bool ntlmd_sid_equal(const struct ntlmd_sid *a, const struct ntlmd_sid *b)
{
	if (a == NULL || b == NULL || a->count != b->count || a->authority != b->authority)
		return false;
	for (size_t i = 0; i < a->count && i < NTLMD_SID_MAX_SUBAUTH; i++)
		if (a->sub[i] != b->sub[i])
			return false;
	return true;
}

bool ntlmd_sid_is_domain(const struct ntlmd_sid *sid)
{
	/* S-1-5-21-a-b-c: NT authority, SECURITY_NT_NON_UNIQUE (MS-DTYP 2.4.2.4) */
	return sid != NULL && sid->authority == 5 && sid->count == 4 && sid->sub[0] == 21;
}

bool ntlmd_sid_compose(const struct ntlmd_sid *domain, uint32_t rid, struct ntlmd_sid *ret)
{
	if (domain == NULL || ret == NULL || domain->count >= NTLMD_SID_MAX_SUBAUTH)
		return false;
	*ret = *domain;
	ret->sub[ret->count++] = rid;
	return true;
}

bool ntlmd_sid_split_rid(const struct ntlmd_sid *sid, const struct ntlmd_sid *domain, uint32_t *ret_rid)
{
	struct ntlmd_sid prefix;

	if (sid == NULL || domain == NULL || ret_rid == NULL || sid->count == 0 ||
	    sid->count != domain->count + 1)
		return false;
	prefix = *sid;
	prefix.count--;
	if (!ntlmd_sid_equal(&prefix, domain))
		return false;
	*ret_rid = sid->sub[sid->count - 1];
	return true;
}

/* base + 2 * id + odd, when it fits in 32 bits */
static bool algorithmic_rid(uint32_t id, uint32_t odd, uint32_t *ret_rid)
{
	uint64_t rid = (uint64_t)id * 2 + NTLMD_ALGORITHMIC_RID_BASE + odd;

	if (ret_rid == NULL || rid > UINT32_MAX)
		return false;
	*ret_rid = (uint32_t)rid;
	return true;
}

bool ntlmd_uid_to_rid(uint32_t uid, uint32_t *ret_rid)
{
	return algorithmic_rid(uid, 0, ret_rid);
}

bool ntlmd_gid_to_rid(uint32_t gid, uint32_t *ret_rid)
{
	return algorithmic_rid(gid, 1, ret_rid);
}
