/*
 * frame.c: ntlmd frames (protocol.h, docs/PROTOCOL.md). Every byte from
 * the wire is read through struct ntlm_reader; nothing is laid over it.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"

/* What a known tag holds; decoding checks the value against it. */
enum field_kind {
	KIND_UNKNOWN = 0, /* not stored */
	KIND_STRING,      /* UTF-8, no NUL, <= NTLMD_MAX_STRING */
	KIND_NAME,        /* a KIND_STRING without control characters (ntlm_utf8_name_check) */
	KIND_BYTES,       /* anything */
	KIND_U8,
	KIND_U32,
	KIND_U64,
	KIND_8BYTES,
	KIND_16BYTES,
};

static const uint8_t tag_kinds[NTLMD_FRAME_TAGS] = {
    [NTLMD_TAG_STATUS] = KIND_U32,
    [NTLMD_TAG_STATUS_NAME] = KIND_STRING,
    [NTLMD_TAG_MESSAGE] = KIND_STRING,
    [NTLMD_TAG_SERVICE] = KIND_STRING,
    [NTLMD_TAG_CLIENT_ADDRESS] = KIND_STRING,
    [NTLMD_TAG_NEGOTIATE] = KIND_BYTES,
    [NTLMD_TAG_CHALLENGE] = KIND_BYTES,
    [NTLMD_TAG_AUTHENTICATE] = KIND_BYTES,
    [NTLMD_TAG_CB_APPLICATION] = KIND_BYTES,
    [NTLMD_TAG_CB_INITIATOR_ADDR] = KIND_BYTES,
    [NTLMD_TAG_CB_ACCEPTOR_ADDR] = KIND_BYTES,
    [NTLMD_TAG_USER] = KIND_NAME,
    [NTLMD_TAG_DOMAIN] = KIND_NAME,
    [NTLMD_TAG_WORKSTATION] = KIND_NAME,
    [NTLMD_TAG_SERVER_CHALLENGE] = KIND_8BYTES,
    [NTLMD_TAG_LM_RESPONSE] = KIND_BYTES,
    [NTLMD_TAG_NT_RESPONSE] = KIND_BYTES,
    [NTLMD_TAG_PASSWORD] = KIND_STRING,
    [NTLMD_TAG_NEW_PASSWORD] = KIND_STRING,
    [NTLMD_TAG_MSCHAPV2] = KIND_U8,
    [NTLMD_TAG_CREATE] = KIND_U8,
    [NTLMD_TAG_GROUP] = KIND_STRING,
    [NTLMD_TAG_EXACT_NAME] = KIND_U8,
    [NTLMD_TAG_AUTH_USER] = KIND_STRING,
    [NTLMD_TAG_AUTH_DOMAIN] = KIND_STRING,
    [NTLMD_TAG_RESPONSE_TYPE] = KIND_STRING,
    [NTLMD_TAG_FLAGS] = KIND_U32,
    [NTLMD_TAG_MIC] = KIND_STRING,
    [NTLMD_TAG_CHANNEL_BINDINGS] = KIND_STRING,
    [NTLMD_TAG_TARGET_NAME] = KIND_STRING,
    [NTLMD_TAG_CLIENT_SPN] = KIND_STRING,
    [NTLMD_TAG_SESSION_KEY] = KIND_16BYTES,
    [NTLMD_TAG_ACCOUNT_FLAGS] = KIND_STRING,
    [NTLMD_TAG_VERSION] = KIND_STRING,
    [NTLMD_TAG_UID] = KIND_U32,
    [NTLMD_TAG_MEMBER] = KIND_U8,
    [NTLMD_TAG_ACCOUNT_NAME] = KIND_STRING,
    [NTLMD_TAG_ACCOUNT_DOMAIN] = KIND_STRING,
    [NTLMD_TAG_PASSWORD_STORED] = KIND_U8,
    [NTLMD_TAG_ACCOUNT_SID] = KIND_STRING,
    [NTLMD_TAG_UPTIME] = KIND_U64,
    [NTLMD_TAG_REQUESTS] = KIND_U64,
    [NTLMD_TAG_SUCCESSES] = KIND_U64,
    [NTLMD_TAG_FAILURES] = KIND_U64,
    [NTLMD_TAG_ERRORS] = KIND_U64,
    [NTLMD_TAG_REFUSED] = KIND_U64,
    [NTLMD_TAG_CONNECTIONS] = KIND_U64,
    [NTLMD_TAG_CHALLENGES] = KIND_U64,
    [NTLMD_TAG_LOCKOUTS] = KIND_U64,
    [NTLMD_TAG_STORE_WAITING] = KIND_U64,
    [NTLMD_TAG_STORE_CALLS] = KIND_U64,
    [NTLMD_TAG_STORE_TIMEOUTS] = KIND_U64,
    [NTLMD_TAG_LATE_ANSWERS] = KIND_U64,
    [NTLMD_TAG_WRITEBACKS] = KIND_U64,
    [NTLMD_TAG_WRITEBACKS_DROPPED] = KIND_U64,
    [NTLMD_TAG_STORE_CANCELLED] = KIND_U64,
    [NTLMD_TAG_STATS_REQUESTS] = KIND_BYTES,
    [NTLMD_TAG_STATS_OUTCOMES] = KIND_BYTES,
    [NTLMD_TAG_STATS_STATUSES] = KIND_BYTES,
    [NTLMD_TAG_STATS_RESPONSE_TYPES] = KIND_BYTES,
    [NTLMD_TAG_STATS_MIC] = KIND_BYTES,
    [NTLMD_TAG_STATS_CHANNEL_BINDINGS] = KIND_BYTES,
    [NTLMD_TAG_STATS_STORE_SECONDS] = KIND_BYTES,
    [NTLMD_TAG_STATS_REQUEST_SECONDS] = KIND_BYTES,
    [NTLMD_TAG_STATS_STORES] = KIND_BYTES,
    [NTLMD_TAG_CHALLENGE_CAPACITY] = KIND_U64,
    [NTLMD_TAG_STORE_WORKERS] = KIND_U64,
    [NTLMD_TAG_STORE_BUSY] = KIND_U64,
    [NTLMD_TAG_STORE_QUEUED] = KIND_U64,
};

static enum field_kind tag_kind(uint16_t tag)
{
	return tag < NTLMD_FRAME_TAGS ? (enum field_kind)tag_kinds[tag] : KIND_UNKNOWN;
}

/* The exact size of a fixed-size kind, 0 for variable ones. */
static size_t kind_size(enum field_kind k)
{
	switch (k) {
	case KIND_U8:
		return 1;
	case KIND_U32:
		return 4;
	case KIND_U64:
	case KIND_8BYTES:
		return 8;
	case KIND_16BYTES:
		return 16;
	default:
		return 0;
	}
}

/* RFC 3629: shortest form only, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = p[i];
		size_t n;
		uint32_t cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1Fu;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0Fu;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07u;
		} else {
			return false;
		}
		if (n > len - i - 1)
			return false;
		for (size_t k = 1; k <= n; k++) {
			uint8_t cc = p[i + k];
			if ((cc & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (cc & 0x3Fu);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n + 1;
	}
	return true;
}

bool ntlmd_string_valid(const char *s, size_t len)
{
	return s != NULL && len <= NTLMD_MAX_STRING && utf8_valid((const uint8_t *)s, len);
}

enum ntlm_status ntlmd_header_decode(const uint8_t *p, size_t len, uint16_t *ret_type,
                                     uint32_t *ret_payload_len)
{
	struct ntlm_reader r;
	uint8_t magic[3], version;
	uint16_t type, flags;
	uint32_t payload_len;
	enum ntlm_status st;

	ntlm_reader_init(&r, p, len < NTLMD_HEADER_LEN ? len : NTLMD_HEADER_LEN);
	if ((st = ntlm_read_bytes(&r, magic, sizeof(magic))) != NTLM_OK ||
	    (st = ntlm_read_u8(&r, &version)) != NTLM_OK || (st = ntlm_read_u16le(&r, &type)) != NTLM_OK ||
	    (st = ntlm_read_u16le(&r, &flags)) != NTLM_OK ||
	    (st = ntlm_read_u32le(&r, &payload_len)) != NTLM_OK)
		return st;
	/* not secret: protocol magic */
	if (memcmp(magic, NTLMD_MAGIC, sizeof(magic)) != 0 /* not secret: the frame magic */ ||
	    version != NTLMD_VERSION)
		return NTLM_ERR_BAD_SIGNATURE;
	if (flags != 0)
		return NTLM_ERR_BAD_REQUEST;
	if (payload_len > NTLMD_MAX_PAYLOAD)
		return NTLM_ERR_MESSAGE_TOO_LONG;
	*ret_type = type;
	*ret_payload_len = payload_len;
	return NTLM_OK;
}

/* Checks a value against the kind of its tag. */
static enum ntlm_status check_value(enum field_kind kind, const uint8_t *v, size_t len)
{
	size_t want = kind_size(kind);

	if (want != 0 && len != want)
		return NTLM_ERR_BAD_REQUEST;
	if (kind == KIND_STRING || kind == KIND_NAME) {
		if (len > NTLMD_MAX_STRING)
			return NTLM_ERR_STRING_TOO_LONG;
		/* a NUL in a name is a control character, not a bad string */
		if (kind == KIND_NAME && ntlm_utf8_name_check((const char *)v, len) != NTLM_OK)
			return NTLM_ERR_CONTROL_CHARACTER;
		if (!utf8_valid(v, len))
			return NTLM_ERR_BAD_STRING;
	}
	return NTLM_OK;
}

/* True when tag already came in this frame: a known tag is in the table,
 * an unknown one in the list of those seen so far. */
static bool tag_seen(const struct ntlmd_frame *f, const uint16_t *unknown, size_t n_unknown, uint16_t tag)
{
	if (tag < NTLMD_FRAME_TAGS && f->fields[tag].present)
		return true;
	for (size_t i = 0; i < n_unknown; i++)
		if (unknown[i] == tag)
			return true;
	return false;
}

enum ntlm_status ntlmd_payload_decode(uint16_t type, const uint8_t *p, size_t len, struct ntlmd_frame *ret)
{
	/* Unknown tags are ignored but must not repeat either: they are
	 * listed here (a frame has at most NTLMD_MAX_FIELDS fields). */
	uint16_t unknown[NTLMD_MAX_FIELDS];
	size_t n_fields = 0, n_unknown = 0;
	struct ntlmd_frame *f = ret;
	struct ntlm_reader r;
	enum ntlm_status st = NTLM_OK;
	size_t used = 0;

	if (len > NTLMD_MAX_PAYLOAD)
		return NTLM_ERR_MESSAGE_TOO_LONG;
	/* filled in place: a frame is a few KiB, not worth a copy */
	*f = (struct ntlmd_frame){.type = type};
	/* Each stored field takes its bytes plus a NUL; a tag is stored at
	 * most once, so len + NTLMD_FRAME_TAGS always suffices. */
	f->buf_size = len + NTLMD_FRAME_TAGS;
	f->buf = malloc(f->buf_size);
	if (f->buf == NULL) {
		*f = (struct ntlmd_frame){0};
		return NTLM_ERR_NO_MEMORY;
	}

	ntlm_reader_init(&r, p, len);
	while (ntlm_reader_left(&r) > 0) {
		uint16_t tag;
		uint32_t vlen;
		const uint8_t *v;
		enum field_kind kind;

		if ((st = ntlm_read_u16le(&r, &tag)) != NTLM_OK ||
		    (st = ntlm_read_u32le(&r, &vlen)) != NTLM_OK)
			goto out;
		if (vlen > ntlm_reader_left(&r)) {
			st = NTLM_ERR_FIELD_OUT_OF_BOUNDS;
			goto out;
		}
		if ((st = ntlm_read_view(&r, vlen, &v)) != NTLM_OK)
			goto out;
		if (++n_fields > NTLMD_MAX_FIELDS || tag_seen(f, unknown, n_unknown, tag)) {
			st = NTLM_ERR_BAD_REQUEST;
			goto out;
		}
		kind = tag_kind(tag);
		if (kind == KIND_UNKNOWN) {
			unknown[n_unknown++] = tag;
			continue; /* the protocol grows by adding tags */
		}
		if ((st = check_value(kind, v, vlen)) != NTLM_OK)
			goto out;
		/* used + vlen + 1 <= len + NTLMD_FRAME_TAGS: see above */
		if (vlen > 0)
			memcpy(f->buf + used, v, vlen);
		f->buf[used + vlen] = 0; /* strings end in a NUL */
		f->fields[tag] = (struct ntlmd_field){.data = f->buf + used, .len = vlen, .present = true};
		used += (size_t)vlen + 1;
	}
out:
	if (st != NTLM_OK)
		ntlmd_frame_clear(f);
	return st;
}

enum ntlm_status ntlmd_frame_decode(const uint8_t *p, size_t len, struct ntlmd_frame *ret)
{
	struct ntlm_reader r;
	const uint8_t *payload;
	uint16_t type;
	uint32_t payload_len;
	enum ntlm_status st;

	ntlm_reader_init(&r, p, len);
	if ((st = ntlm_read_view(&r, NTLMD_HEADER_LEN, &payload)) != NTLM_OK)
		return st;
	if ((st = ntlmd_header_decode(payload, NTLMD_HEADER_LEN, &type, &payload_len)) != NTLM_OK)
		return st;
	if ((st = ntlm_read_view(&r, payload_len, &payload)) != NTLM_OK)
		return st;
	if ((st = ntlm_reader_expect_end(&r)) != NTLM_OK)
		return st;
	return ntlmd_payload_decode(type, payload, payload_len, ret);
}

void ntlmd_frame_clear(struct ntlmd_frame *f)
{
	if (f == NULL)
		return;
	if (f->buf != NULL) {
		ntlm_wipe(f->buf, f->buf_size);
		free(f->buf);
	}
	*f = (struct ntlmd_frame){0};
}

/* ------------------------------------------------------------------ */
/* Getters                                                             */

static const struct ntlmd_field *field(const struct ntlmd_frame *f, uint16_t tag)
{
	if (f == NULL || tag >= NTLMD_FRAME_TAGS || !f->fields[tag].present)
		return NULL;
	return &f->fields[tag];
}

bool ntlmd_frame_has(const struct ntlmd_frame *f, uint16_t tag)
{
	return field(f, tag) != NULL;
}

enum ntlm_status ntlmd_frame_get_string(const struct ntlmd_frame *f, uint16_t tag, const char **ret)
{
	const struct ntlmd_field *fl = field(f, tag);

	if (fl == NULL)
		return NTLM_ERR_TRUNCATED;
	if (tag_kind(tag) != KIND_STRING && tag_kind(tag) != KIND_NAME)
		return NTLM_ERR_BAD_ENCODING;
	*ret = (const char *)fl->data;
	return NTLM_OK;
}

const char *ntlmd_frame_string(const struct ntlmd_frame *f, uint16_t tag)
{
	const char *s;

	return ntlmd_frame_get_string(f, tag, &s) == NTLM_OK ? s : NULL;
}

enum ntlm_status ntlmd_frame_get_bytes(const struct ntlmd_frame *f, uint16_t tag, const uint8_t **ret,
                                       size_t *ret_len)
{
	const struct ntlmd_field *fl = field(f, tag);

	if (fl == NULL)
		return NTLM_ERR_TRUNCATED;
	*ret = fl->len > 0 ? fl->data : NULL;
	*ret_len = fl->len;
	return NTLM_OK;
}

/* A fixed-size integer field through the reader. */
static enum ntlm_status get_int(const struct ntlmd_frame *f, uint16_t tag, enum field_kind kind,
                                struct ntlm_reader *ret)
{
	const struct ntlmd_field *fl = field(f, tag);

	if (fl == NULL)
		return NTLM_ERR_TRUNCATED;
	if (tag_kind(tag) != kind)
		return NTLM_ERR_BAD_ENCODING;
	ntlm_reader_init(ret, fl->data, fl->len);
	return NTLM_OK;
}

enum ntlm_status ntlmd_frame_get_u32(const struct ntlmd_frame *f, uint16_t tag, uint32_t *ret)
{
	struct ntlm_reader r;
	enum ntlm_status st = get_int(f, tag, KIND_U32, &r);

	return st != NTLM_OK ? st : ntlm_read_u32le(&r, ret);
}

enum ntlm_status ntlmd_frame_get_u64(const struct ntlmd_frame *f, uint16_t tag, uint64_t *ret)
{
	struct ntlm_reader r;
	enum ntlm_status st = get_int(f, tag, KIND_U64, &r);

	return st != NTLM_OK ? st : ntlm_read_u64le(&r, ret);
}

enum ntlm_status ntlmd_frame_get_u8(const struct ntlmd_frame *f, uint16_t tag, uint8_t *ret)
{
	struct ntlm_reader r;
	enum ntlm_status st = get_int(f, tag, KIND_U8, &r);

	return st != NTLM_OK ? st : ntlm_read_u8(&r, ret);
}

enum ntlm_status ntlmd_status_from_code(uint32_t code)
{
	for (int s = NTLM_OK; s < _NTLM_STATUS_MAX; s++)
		if (ntlm_status_code((enum ntlm_status)s) == code)
			return (enum ntlm_status)s;
	return NTLM_ERR_INTERNAL;
}

enum ntlm_status ntlmd_reply_status(const struct ntlmd_frame *reply, enum ntlm_status *ret)
{
	uint32_t code;
	enum ntlm_status st = ntlmd_frame_get_u32(reply, NTLMD_TAG_STATUS, &code);

	if (st == NTLM_OK)
		*ret = ntlmd_status_from_code(code);
	return st;
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */

/* Makes the writer fail with st unless it already failed. */
static void writer_fail(struct ntlm_writer *w, enum ntlm_status st)
{
	if (w->error == NTLM_OK)
		w->error = st;
}

void ntlmd_fields_init(struct ntlm_writer *w)
{
	ntlm_writer_init(w, NTLMD_MAX_PAYLOAD);
}

void ntlmd_put_bytes(struct ntlm_writer *w, uint16_t tag, const void *p, size_t n)
{
	if (n > NTLMD_MAX_PAYLOAD) {
		writer_fail(w, NTLM_ERR_MESSAGE_TOO_LONG);
		return;
	}
	ntlm_write_u16le(w, tag);
	ntlm_write_u32le(w, (uint32_t)n);
	if (n > 0)
		ntlm_write_bytes(w, p, n);
}

void ntlmd_put_string(struct ntlm_writer *w, uint16_t tag, const char *s)
{
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	if (n > NTLMD_MAX_STRING) {
		writer_fail(w, NTLM_ERR_STRING_TOO_LONG);
		return;
	}
	if (!utf8_valid((const uint8_t *)s, n)) {
		writer_fail(w, NTLM_ERR_BAD_STRING);
		return;
	}
	ntlmd_put_bytes(w, tag, s, n);
}

void ntlmd_put_u32(struct ntlm_writer *w, uint16_t tag, uint32_t v)
{
	ntlm_write_u16le(w, tag);
	ntlm_write_u32le(w, 4);
	ntlm_write_u32le(w, v);
}

void ntlmd_put_u64(struct ntlm_writer *w, uint16_t tag, uint64_t v)
{
	ntlm_write_u16le(w, tag);
	ntlm_write_u32le(w, 8);
	ntlm_write_u64le(w, v);
}

void ntlmd_put_u8(struct ntlm_writer *w, uint16_t tag, uint8_t v)
{
	ntlm_write_u16le(w, tag);
	ntlm_write_u32le(w, 1);
	ntlm_write_u8(w, v);
}

/* Stores v little-endian in p[0..n). */
static void put_le(uint8_t *p, uint32_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Frames the payload pieces a (and b, may be NULL) under one header, in
 * one buffer of the exact size. */
static enum ntlm_status encode_parts(uint16_t type, const struct ntlm_writer *a, const struct ntlm_writer *b,
                                     uint8_t **ret, size_t *ret_len)
{
	size_t alen = a != NULL ? a->len : 0, blen = b != NULL ? b->len : 0;
	uint8_t *p;

	if (a != NULL && a->error != NTLM_OK)
		return a->error;
	if (b != NULL && b->error != NTLM_OK)
		return b->error;
	if (alen > NTLMD_MAX_PAYLOAD || blen > NTLMD_MAX_PAYLOAD - alen)
		return NTLM_ERR_MESSAGE_TOO_LONG;
	if ((p = malloc(NTLMD_HEADER_LEN + alen + blen)) == NULL)
		return NTLM_ERR_NO_MEMORY;
	memcpy(p, NTLMD_MAGIC, 3);
	p[3] = NTLMD_VERSION;
	put_le(p + 4, type, 2);
	put_le(p + 6, 0, 2); /* flags */
	put_le(p + 8, (uint32_t)(alen + blen), 4);
	if (alen > 0)
		memcpy(p + NTLMD_HEADER_LEN, a->data, alen);
	if (blen > 0)
		memcpy(p + NTLMD_HEADER_LEN + alen, b->data, blen);
	*ret = p;
	*ret_len = NTLMD_HEADER_LEN + alen + blen;
	return NTLM_OK;
}

enum ntlm_status ntlmd_frame_encode(uint16_t type, const struct ntlm_writer *fields, uint8_t **ret,
                                    size_t *ret_len)
{
	return encode_parts(type, fields, NULL, ret, ret_len);
}

enum ntlm_status ntlmd_reply_encode(uint16_t request_type, enum ntlm_status status,
                                    const struct ntlm_writer *fields, uint8_t **ret, size_t *ret_len)
{
	struct ntlm_writer head;
	enum ntlm_status st;

	ntlmd_fields_init(&head);
	ntlmd_put_u32(&head, NTLMD_TAG_STATUS, ntlm_status_code(status));
	ntlmd_put_string(&head, NTLMD_TAG_STATUS_NAME, ntlm_status_name(status));
	ntlmd_put_string(&head, NTLMD_TAG_MESSAGE, ntlm_status_message(status));
	st = encode_parts((uint16_t)(request_type | NTLMD_REPLY), &head, fields, ret, ret_len);
	ntlm_writer_clear(&head);
	return st;
}
