/*
 * reader.c: the bounded reader. This is the only code in the project that
 * indexes untrusted bytes; every check is "n > len - pos", a subtraction
 * that cannot overflow because pos <= len always holds.
 */
#include "internal.h"

void ntlm_reader_init(struct ntlm_reader *r, const void *data, size_t len)
{
	r->data = data;
	r->len = data != NULL ? len : 0;
	r->pos = 0;
}

size_t ntlm_reader_left(const struct ntlm_reader *r)
{
	return r->len - r->pos;
}

/* Borrows the next n bytes, or NTLM_ERR_TRUNCATED without moving. */
static enum ntlm_status take(struct ntlm_reader *r, size_t n, const uint8_t **ret)
{
	if (n > ntlm_reader_left(r))
		return NTLM_ERR_TRUNCATED;
	*ret = n > 0 ? r->data + r->pos : NULL;
	r->pos += n;
	return NTLM_OK;
}

uint64_t ntlm_load_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

/* Reads an n-byte little-endian integer into *ret, an unsigned integer of
 * exactly n bytes (1, 2, 4 or 8); *ret is written only on success. */
static enum ntlm_status read_le(struct ntlm_reader *r, size_t n, void *ret)
{
	const uint8_t *p;
	enum ntlm_status st = take(r, n, &p);
	uint64_t v;

	if (st != NTLM_OK)
		return st;
	v = ntlm_load_le(p, n);
	switch (n) {
	case 1:
		*(uint8_t *)ret = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)ret = (uint16_t)v;
		break;
	case 4:
		*(uint32_t *)ret = (uint32_t)v;
		break;
	default:
		*(uint64_t *)ret = v;
		break;
	}
	return NTLM_OK;
}

enum ntlm_status ntlm_read_u8(struct ntlm_reader *r, uint8_t *ret)
{
	return read_le(r, sizeof(*ret), ret);
}

enum ntlm_status ntlm_read_u16le(struct ntlm_reader *r, uint16_t *ret)
{
	return read_le(r, sizeof(*ret), ret);
}

enum ntlm_status ntlm_read_u32le(struct ntlm_reader *r, uint32_t *ret)
{
	return read_le(r, sizeof(*ret), ret);
}

enum ntlm_status ntlm_read_u64le(struct ntlm_reader *r, uint64_t *ret)
{
	return read_le(r, sizeof(*ret), ret);
}

enum ntlm_status ntlm_read_bytes(struct ntlm_reader *r, void *ret, size_t n)
{
	const uint8_t *p;
	enum ntlm_status st = take(r, n, &p);

	if (st == NTLM_OK && n > 0)
		memcpy(ret, p, n);
	return st;
}

enum ntlm_status ntlm_read_view(struct ntlm_reader *r, size_t n, const uint8_t **ret)
{
	return take(r, n, ret);
}

enum ntlm_status ntlm_reader_skip(struct ntlm_reader *r, size_t n)
{
	const uint8_t *p;

	return take(r, n, &p);
}

enum ntlm_status ntlm_reader_slice(const struct ntlm_reader *msg, size_t offset, size_t len,
                                   struct ntlm_reader *ret)
{
	if (offset > msg->len || len > msg->len - offset)
		return NTLM_ERR_FIELD_OUT_OF_BOUNDS;
	ntlm_reader_init(ret, len > 0 ? msg->data + offset : NULL, len);
	return NTLM_OK;
}

enum ntlm_status ntlm_reader_expect_end(const struct ntlm_reader *r)
{
	return ntlm_reader_left(r) == 0 ? NTLM_OK : NTLM_ERR_TRAILING_DATA;
}
