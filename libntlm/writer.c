/*
 * writer.c: the growable, capped output buffer. Errors are sticky. Buffers
 * may hold secrets (session keys, responses), so memory is never handed to
 * realloc(): growing copies into a new block and wipes the old one.
 */
#include "internal.h"

#include <stdlib.h>

#define WRITER_MIN_CAP 256u

void ntlm_writer_init(struct ntlm_writer *w, size_t max)
{
	*w = (struct ntlm_writer){.max = max, .error = NTLM_OK};
}

void ntlm_writer_fail(struct ntlm_writer *w, enum ntlm_status st)
{
	if (w->error == NTLM_OK)
		w->error = st;
}

/* Makes room for n more bytes; false (and a sticky error) if it cannot. */
static bool writer_reserve(struct ntlm_writer *w, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (w->error != NTLM_OK)
		return false;
	if (n > w->max || w->len > w->max - n) {
		ntlm_writer_fail(w, NTLM_ERR_MESSAGE_TOO_LONG);
		return false;
	}
	need = w->len + n;
	if (need <= w->cap)
		return true;
	cap = w->cap > 0 ? w->cap : WRITER_MIN_CAP < w->max ? WRITER_MIN_CAP : w->max;
	while (cap < need)
		cap = cap > w->max / 2 ? w->max : cap * 2;
	p = malloc(cap);
	if (p == NULL) {
		ntlm_writer_fail(w, NTLM_ERR_NO_MEMORY);
		return false;
	}
	if (w->len > 0)
		memcpy(p, w->data, w->len);
	ntlm_free_wiped(w->data, w->cap);
	w->data = p;
	w->cap = cap;
	return true;
}

void ntlm_store_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)(v & 0xFFu);
}

static void write_le(struct ntlm_writer *w, uint64_t v, size_t n)
{
	if (!writer_reserve(w, n))
		return;
	ntlm_store_le(w->data + w->len, v, n);
	w->len += n;
}

void ntlm_write_u8(struct ntlm_writer *w, uint8_t v)
{
	write_le(w, v, 1);
}

void ntlm_write_u16le(struct ntlm_writer *w, uint16_t v)
{
	write_le(w, v, 2);
}

void ntlm_write_u32le(struct ntlm_writer *w, uint32_t v)
{
	write_le(w, v, 4);
}

void ntlm_write_u64le(struct ntlm_writer *w, uint64_t v)
{
	write_le(w, v, 8);
}

void ntlm_write_bytes(struct ntlm_writer *w, const void *p, size_t n)
{
	if (p == NULL && n > 0) {
		ntlm_writer_fail(w, NTLM_ERR_INVALID_ARGUMENT);
		return;
	}
	if (!writer_reserve(w, n) || n == 0)
		return;
	memcpy(w->data + w->len, p, n);
	w->len += n;
}

void ntlm_write_zeros(struct ntlm_writer *w, size_t n)
{
	if (!writer_reserve(w, n) || n == 0)
		return;
	memset(w->data + w->len, 0, n);
	w->len += n;
}

/* Patches n bytes already written at pos. */
static void put_at(struct ntlm_writer *w, size_t pos, uint64_t v, size_t n)
{
	if (w->error != NTLM_OK)
		return;
	if (pos > w->len || n > w->len - pos) {
		ntlm_writer_fail(w, NTLM_ERR_INVALID_ARGUMENT);
		return;
	}
	ntlm_store_le(w->data + pos, v, n);
}

void ntlm_writer_put_u16le_at(struct ntlm_writer *w, size_t pos, uint16_t v)
{
	put_at(w, pos, v, 2);
}

void ntlm_writer_put_u32le_at(struct ntlm_writer *w, size_t pos, uint32_t v)
{
	put_at(w, pos, v, 4);
}

enum ntlm_status ntlm_writer_finish(struct ntlm_writer *w, uint8_t **ret, size_t *ret_len)
{
	enum ntlm_status st = w->error;

	if (st == NTLM_OK && (ret == NULL || ret_len == NULL))
		st = NTLM_ERR_INVALID_ARGUMENT;
	/* An empty message still comes back as a pointer the caller can free(). */
	if (st == NTLM_OK && w->data == NULL) {
		w->data = malloc(1);
		if (w->data == NULL)
			st = NTLM_ERR_NO_MEMORY;
	}
	if (st != NTLM_OK) {
		ntlm_writer_clear(w);
		w->error = st;
		return st;
	}
	*ret = w->data;
	*ret_len = w->len;
	w->data = NULL;
	w->len = 0;
	w->cap = 0;
	return NTLM_OK;
}

void ntlm_writer_clear(struct ntlm_writer *w)
{
	ntlm_free_wiped(w->data, w->cap);
	w->data = NULL;
	w->len = 0;
	w->cap = 0;
}
