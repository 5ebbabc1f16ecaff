/*
 * av_pairs.c: AV_PAIR lists (MS-NLMP 2.2.2.1), the TargetInfo of the
 * CHALLENGE and the AvPairs of the NTLMv2 client challenge (2.2.2.7).
 */
#include "internal.h"

#include <stdlib.h>

/* MS-NLMP 2.2.2.1: the value sizes fixed by the specification, 0 if free. */
static size_t av_fixed_len(uint16_t id)
{
	switch (id) {
	case NTLM_AV_EOL:
		return 0;
	case NTLM_AV_FLAGS:
		return 4;
	case NTLM_AV_TIMESTAMP:
		return 8;
	case NTLM_AV_CHANNEL_BINDINGS:
		return 16;
	default:
		return SIZE_MAX;
	}
}

static bool av_list_has(const struct ntlm_av_list *l, uint16_t id)
{
	return ntlm_av_list_find(l, id) != NULL;
}

/* Reads one AV_PAIR: AvId (u16le), AvLen (u16le), Value[AvLen]. */
static enum ntlm_status read_av_pair(struct ntlm_reader *r, struct ntlm_av_pair *ret)
{
	struct ntlm_av_pair pair = {0};
	uint16_t avlen;
	size_t fixed;

	if (ntlm_read_u16le(r, &pair.id) != NTLM_OK || ntlm_read_u16le(r, &avlen) != NTLM_OK ||
	    ntlm_read_view(r, avlen, &pair.value.data) != NTLM_OK)
		return NTLM_ERR_BAD_AV_PAIR;
	pair.value.len = avlen;
	fixed = av_fixed_len(pair.id);
	if (fixed != SIZE_MAX && pair.value.len != fixed)
		return NTLM_ERR_BAD_AV_PAIR;
	*ret = pair;
	return NTLM_OK;
}

/* Clients pad the list after MsvAvEOL; the padding must be zeros. */
static enum ntlm_status expect_zero_padding(struct ntlm_reader *r)
{
	uint8_t b;

	while (ntlm_reader_left(r) > 0) {
		if (ntlm_read_u8(r, &b) != NTLM_OK)
			return NTLM_ERR_INTERNAL;
		if (b != 0)
			return NTLM_ERR_TRAILING_DATA;
	}
	return NTLM_OK;
}

enum ntlm_status ntlm_av_list_decode(const uint8_t *p, size_t len, struct ntlm_av_list *ret)
{
	struct ntlm_av_list list = {0};
	struct ntlm_reader r;
	enum ntlm_status st;

	if ((p == NULL && len > 0) || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	ntlm_reader_init(&r, p, len);
	for (;;) {
		struct ntlm_av_pair pair;

		/* A list that runs out before MsvAvEOL is malformed. */
		st = read_av_pair(&r, &pair);
		if (st != NTLM_OK)
			return st;
		if (pair.id == NTLM_AV_EOL)
			break;
		if (list.count == NTLM_MAX_AV_PAIRS || av_list_has(&list, pair.id))
			return NTLM_ERR_BAD_AV_PAIR;
		list.pairs[list.count++] = pair;
	}
	st = expect_zero_padding(&r);
	if (st != NTLM_OK)
		return st;
	*ret = list;
	return NTLM_OK;
}

/* MS-NLMP 2.2.1.2: TargetInfo is there only with NTLMSSP_NEGOTIATE_TARGET_INFO;
 * a CHALLENGE without it gets an NTLMv2 blob whose AV list is empty too
 * (the 3.3.2 temp then ends in its Z(4) alone). */
enum ntlm_status ntlm_av_list_decode_opt(const uint8_t *p, size_t len, struct ntlm_av_list *ret)
{
	if (len == 0 && ret != NULL) {
		memset(ret, 0, sizeof(*ret));
		return NTLM_OK;
	}
	return ntlm_av_list_decode(p, len, ret);
}

const struct ntlm_av_pair *ntlm_av_list_find(const struct ntlm_av_list *l, uint16_t id)
{
	if (l == NULL)
		return NULL;
	for (size_t i = 0; i < l->count && i < NTLM_MAX_AV_PAIRS; i++) {
		if (l->pairs[i].id == id)
			return &l->pairs[i];
	}
	return NULL;
}

/* The value of pair id when it is exactly n bytes long, through a reader. */
static bool av_get_fixed(const struct ntlm_av_list *l, uint16_t id, size_t n, struct ntlm_reader *ret)
{
	const struct ntlm_av_pair *pair = ntlm_av_list_find(l, id);

	if (pair == NULL || pair->value.len != n)
		return false;
	ntlm_reader_init(ret, pair->value.data, pair->value.len);
	return true;
}

bool ntlm_av_list_get_u32(const struct ntlm_av_list *l, uint16_t id, uint32_t *ret)
{
	struct ntlm_reader r;

	return av_get_fixed(l, id, 4, &r) && ntlm_read_u32le(&r, ret) == NTLM_OK;
}

bool ntlm_av_list_get_u64(const struct ntlm_av_list *l, uint16_t id, uint64_t *ret)
{
	struct ntlm_reader r;

	return av_get_fixed(l, id, 8, &r) && ntlm_read_u64le(&r, ret) == NTLM_OK;
}

void ntlm_av_write(struct ntlm_writer *w, uint16_t id, const void *value, size_t len)
{
	if (len > UINT16_MAX) {
		ntlm_writer_fail(w, NTLM_ERR_INVALID_ARGUMENT);
		return;
	}
	ntlm_write_u16le(w, id);
	ntlm_write_u16le(w, (uint16_t)len);
	ntlm_write_bytes(w, value, len);
}

void ntlm_av_write_eol(struct ntlm_writer *w)
{
	ntlm_av_write(w, NTLM_AV_EOL, NULL, 0);
}

enum ntlm_status ntlm_av_write_name(struct ntlm_writer *w, uint16_t id, const char *name)
{
	uint8_t *u = NULL;
	size_t ulen = 0;
	enum ntlm_status st;

	if (name == NULL)
		return NTLM_OK;
	st = ntlm_utf8_to_utf16le(name, NTLM_MAX_NAME, &u, &ulen);
	if (st != NTLM_OK)
		return st;
	ntlm_av_write(w, id, u, ulen);
	free(u);
	return NTLM_OK;
}
