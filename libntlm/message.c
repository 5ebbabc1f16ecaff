/*
 * message.c: NTLMSSP messages (MS-NLMP 2.2.1). Decoders read through the
 * bounded reader field by field, like the specification tables they follow;
 * no struct is ever laid over wire bytes. Encoders write through the capped
 * writer.
 */
#include "internal.h"

#include <stdlib.h>

/* MS-NLMP 2.2.1.3: MIC (16 bytes) follows VERSION in the AUTHENTICATE. */
#define NTLM_MIC_OFFSET (NTLM_AUTHENTICATE_HEADER + NTLM_VERSION_LEN)
/* MS-NLMP 2.2.2.8: NTProofStr (16) then the NTLMv2_CLIENT_CHALLENGE (>= 28). */
#define NTLM_MIN_V2_RESPONSE (16u + NTLM_NTLMV2_BLOB_HEADER)

/* A security buffer (Len, MaxLen, Offset) of MS-NLMP 2.2.1; MaxLen is ignored. */
struct sec_buffer {
	uint16_t len;
	uint32_t offset;
};

/* ------------------------------------------------------------------ */
/* Decoding helpers, shared by the three decoders                      */
/* ------------------------------------------------------------------ */

/* MS-NLMP 2.2.1: Signature "NTLMSSP\0" then MessageType. */
static enum ntlm_status read_signature(struct ntlm_reader *r, uint32_t *ret_type)
{
	uint8_t sig[NTLM_SIGNATURE_BYTES];
	enum ntlm_status st;

	st = ntlm_read_bytes(r, sig, sizeof(sig));
	if (st != NTLM_OK)
		return st;
	if (memcmp(sig, NTLM_SIGNATURE, NTLM_SIGNATURE_BYTES) != 0)
		return NTLM_ERR_BAD_SIGNATURE;
	return ntlm_read_u32le(r, ret_type);
}

/* Opens a message: size cap, signature and the expected type. */
static enum ntlm_status open_message(const uint8_t *buf, size_t len, uint32_t type, struct ntlm_reader *ret)
{
	enum ntlm_status st;
	uint32_t got;

	if (len > NTLM_MAX_MESSAGE)
		return NTLM_ERR_MESSAGE_TOO_LONG;
	if (buf == NULL && len > 0)
		return NTLM_ERR_INVALID_ARGUMENT;
	ntlm_reader_init(ret, buf, len);
	st = read_signature(ret, &got);
	if (st != NTLM_OK)
		return st;
	return got == type ? NTLM_OK : NTLM_ERR_WRONG_MESSAGE_TYPE;
}

/* Reads the 8-byte Len / MaxLen / Offset triple. */
static enum ntlm_status read_field(struct ntlm_reader *hdr, struct sec_buffer *ret)
{
	struct sec_buffer f;
	uint16_t max_len;
	enum ntlm_status st;

	if ((st = ntlm_read_u16le(hdr, &f.len)) != NTLM_OK ||
	    (st = ntlm_read_u16le(hdr, &max_len)) != NTLM_OK ||
	    (st = ntlm_read_u32le(hdr, &f.offset)) != NTLM_OK)
		return st;
	*ret = f;
	return NTLM_OK;
}

/*
 * The lowest offset of the non-empty fields, or msg_len when all are empty:
 * what lies between the fixed header and this offset is VERSION (and MIC).
 * Fields inside the header are refused by field_slice(), which every field
 * goes through before VERSION is read.
 */
static size_t payload_start(const struct sec_buffer *const *fields, size_t n, size_t msg_len)
{
	size_t lowest = msg_len;

	for (size_t i = 0; i < n; i++) {
		if (fields[i]->len > 0 && fields[i]->offset < lowest)
			lowest = fields[i]->offset;
	}
	return lowest;
}

/* The payload bytes a field points to, as a sub-reader of the whole message.
 * A non-empty field may not start inside the fixed header. */
static enum ntlm_status field_slice(const struct ntlm_reader *msg, const struct sec_buffer *f,
                                    size_t header_len, struct ntlm_reader *ret)
{
	if (f->len > 0 && f->offset < header_len)
		return NTLM_ERR_FIELD_OVERLAP;
	return ntlm_reader_slice(msg, f->offset, f->len, ret);
}

/* A field as a borrowed view (data NULL when empty). */
static enum ntlm_status field_view(const struct ntlm_reader *msg, const struct sec_buffer *f,
                                   size_t header_len, struct ntlm_view *ret)
{
	struct ntlm_reader r;
	struct ntlm_view v;
	enum ntlm_status st;

	st = field_slice(msg, f, header_len, &r);
	if (st != NTLM_OK)
		return st;
	v.len = ntlm_reader_left(&r);
	st = ntlm_read_view(&r, v.len, &v.data);
	if (st != NTLM_OK)
		return st;
	*ret = v;
	return NTLM_OK;
}

/* A name field as UTF-8 ("" when empty), from UTF-16LE or OEM, capped at
 * NTLM_MAX_NAME characters. */
static enum ntlm_status field_name(const struct ntlm_reader *msg, const struct sec_buffer *f,
                                   size_t header_len, bool unicode, char **ret)
{
	struct ntlm_view v;
	enum ntlm_status st;
	size_t max_bytes = unicode ? 2 * NTLM_MAX_NAME : NTLM_MAX_NAME;

	st = field_view(msg, f, header_len, &v);
	if (st != NTLM_OK)
		return st;
	if (v.len > max_bytes)
		return NTLM_ERR_STRING_TOO_LONG;
	return unicode ? ntlm_utf16le_to_utf8(v.data, v.len, ret) : ntlm_oem_to_utf8(v.data, v.len, ret);
}

/* MS-NLMP 2.2.2.10 VERSION: major, minor, build, 3 reserved bytes, revision. */
static enum ntlm_status read_version(struct ntlm_reader *r, struct ntlm_version *ret)
{
	struct ntlm_version v;
	enum ntlm_status st;

	if ((st = ntlm_read_u8(r, &v.major)) != NTLM_OK || (st = ntlm_read_u8(r, &v.minor)) != NTLM_OK ||
	    (st = ntlm_read_u16le(r, &v.build)) != NTLM_OK || (st = ntlm_reader_skip(r, 3)) != NTLM_OK ||
	    (st = ntlm_read_u8(r, &v.revision)) != NTLM_OK)
		return st;
	*ret = v;
	return NTLM_OK;
}

/*
 * VERSION is read when the flag asks for it and the payload leaves room:
 * real clients (curl, cntlm, impacket) set the flag and omit the field.
 */
static enum ntlm_status maybe_read_version(struct ntlm_reader *hdr, uint32_t flags, size_t payload,
                                           bool *ret_has, struct ntlm_version *ret)
{
	if ((flags & NTLM_NEGOTIATE_VERSION) == 0 || payload < hdr->pos ||
	    payload - hdr->pos < NTLM_VERSION_LEN) {
		*ret_has = false;
		return NTLM_OK;
	}
	*ret_has = true;
	return read_version(hdr, ret);
}

enum ntlm_status ntlm_message_type(const uint8_t *buf, size_t len, uint32_t *ret)
{
	struct ntlm_reader r;
	enum ntlm_status st;
	uint32_t type;

	if (ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (len > NTLM_MAX_MESSAGE)
		return NTLM_ERR_MESSAGE_TOO_LONG;
	if (buf == NULL && len > 0)
		return NTLM_ERR_INVALID_ARGUMENT;
	ntlm_reader_init(&r, buf, len);
	st = read_signature(&r, &type);
	if (st != NTLM_OK)
		return st;
	if (type < NTLM_TYPE_NEGOTIATE || type > NTLM_TYPE_AUTHENTICATE)
		return NTLM_ERR_WRONG_MESSAGE_TYPE;
	*ret = type;
	return NTLM_OK;
}

/* ------------------------------------------------------------------ */
/* Decoders                                                            */
/* ------------------------------------------------------------------ */

/* MS-NLMP 2.2.1.1 NEGOTIATE_MESSAGE */
enum ntlm_status ntlm_negotiate_decode(const uint8_t *buf, size_t len, struct ntlm_negotiate *ret)
{
	struct ntlm_reader msg, hdr;
	struct sec_buffer domain, workstation;
	struct ntlm_negotiate n = {0};
	const struct sec_buffer *fields[2];
	size_t payload, nfields = 0;
	bool has_domain, has_workstation;
	enum ntlm_status st;

	if (ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if ((st = open_message(buf, len, NTLM_TYPE_NEGOTIATE, &msg)) != NTLM_OK)
		goto out;
	hdr = msg;
	if ((st = ntlm_read_u32le(&hdr, &n.flags)) != NTLM_OK ||
	    (st = read_field(&hdr, &domain)) != NTLM_OK || (st = read_field(&hdr, &workstation)) != NTLM_OK)
		goto out;
	/* The fields count only when their OEM_*_SUPPLIED flag is set. */
	has_domain = (n.flags & NTLM_NEGOTIATE_OEM_DOMAIN_SUPPLIED) != 0;
	has_workstation = (n.flags & NTLM_NEGOTIATE_OEM_WORKSTATION_SUPPLIED) != 0;
	if (has_domain)
		fields[nfields++] = &domain;
	if (has_workstation)
		fields[nfields++] = &workstation;
	payload = payload_start(fields, nfields, len);
	if (has_domain &&
	    (st = field_name(&msg, &domain, NTLM_NEGOTIATE_HEADER, false, &n.domain)) != NTLM_OK)
		goto out;
	if (has_workstation &&
	    (st = field_name(&msg, &workstation, NTLM_NEGOTIATE_HEADER, false, &n.workstation)) != NTLM_OK)
		goto out;
	if ((st = maybe_read_version(&hdr, n.flags, payload, &n.has_version, &n.version)) != NTLM_OK)
		goto out;

	*ret = n;
	n = (struct ntlm_negotiate){0};
out:
	ntlm_negotiate_clear(&n);
	return st;
}

/* MS-NLMP 2.2.1.2 CHALLENGE_MESSAGE */
enum ntlm_status ntlm_challenge_decode(const uint8_t *buf, size_t len, struct ntlm_challenge *ret)
{
	struct ntlm_reader msg, hdr;
	struct sec_buffer target_name, target_info;
	struct ntlm_challenge c = {0};
	const struct sec_buffer *fields[] = {&target_name, &target_info};
	size_t payload;
	enum ntlm_status st;

	if (ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if ((st = open_message(buf, len, NTLM_TYPE_CHALLENGE, &msg)) != NTLM_OK)
		goto out;
	hdr = msg;
	if ((st = read_field(&hdr, &target_name)) != NTLM_OK ||
	    (st = ntlm_read_u32le(&hdr, &c.flags)) != NTLM_OK ||
	    (st = ntlm_read_bytes(&hdr, c.server_challenge, NTLM_CHALLENGE_LEN)) != NTLM_OK ||
	    (st = ntlm_reader_skip(&hdr, 8)) != NTLM_OK || /* Reserved */
	    (st = read_field(&hdr, &target_info)) != NTLM_OK)
		goto out;
	payload = payload_start(fields, 2, len);
	if (target_name.len > 0 &&
	    (st = field_name(&msg, &target_name, NTLM_CHALLENGE_HEADER,
	                     (c.flags & NTLM_NEGOTIATE_UNICODE) != 0, &c.target_name)) != NTLM_OK)
		goto out;
	/* TargetInfo stays raw: the caller runs ntlm_av_list_decode() on it. */
	if ((st = field_view(&msg, &target_info, NTLM_CHALLENGE_HEADER, &c.target_info)) != NTLM_OK)
		goto out;
	if ((st = maybe_read_version(&hdr, c.flags, payload, &c.has_version, &c.version)) != NTLM_OK)
		goto out;

	*ret = c;
	c = (struct ntlm_challenge){0};
out:
	ntlm_challenge_clear(&c);
	return st;
}

/* MS-NLMP 2.2.2.3, 2.2.2.4, 2.2.2.6, 2.2.2.8: the possible response sizes. */
static enum ntlm_status check_response_sizes(const struct ntlm_authenticate *a)
{
	size_t lm = a->lm_response.len, nt = a->nt_response.len, key = a->encrypted_session_key.len;

	if (nt != 0 && nt != NTLM_V1_RESPONSE_LEN && nt < NTLM_MIN_V2_RESPONSE)
		return NTLM_ERR_BAD_RESPONSE;
	if (lm != 0 && lm != 1 && lm != NTLM_V1_RESPONSE_LEN) /* 1: Z(1) of an anonymous logon */
		return NTLM_ERR_BAD_RESPONSE;
	if (key != 0 && key != NTLM_HASH_LEN)
		return NTLM_ERR_BAD_RESPONSE;
	return NTLM_OK;
}

/*
 * MS-NLMP 2.2.1.3: VERSION at 64 and MIC at 72, each present when the
 * payload leaves room for it. The MIC is found by room alone: when VERSION
 * is not negotiated its 8 bytes are still there, zeroed.
 */
static enum ntlm_status read_version_and_mic(struct ntlm_reader *hdr, size_t payload,
                                             struct ntlm_authenticate *a)
{
	enum ntlm_status st;

	st = maybe_read_version(hdr, a->flags, payload, &a->has_version, &a->version);
	if (st != NTLM_OK || payload < NTLM_MIC_OFFSET + NTLM_MIC_LEN)
		return st;
	if (!a->has_version && (st = ntlm_reader_skip(hdr, NTLM_VERSION_LEN)) != NTLM_OK)
		return st;
	a->mic_offset = NTLM_MIC_OFFSET;
	return ntlm_read_bytes(hdr, a->mic, NTLM_MIC_LEN);
}

/* MS-NLMP 2.2.1.3 AUTHENTICATE_MESSAGE */
enum ntlm_status ntlm_authenticate_decode(const uint8_t *buf, size_t len, struct ntlm_authenticate *ret)
{
	struct ntlm_reader msg, hdr;
	struct sec_buffer lm, nt, domain, user, workstation, session_key;
	struct ntlm_authenticate a = {0};
	const struct sec_buffer *fields[] = {&lm, &nt, &domain, &user, &workstation, &session_key};
	const size_t h = NTLM_AUTHENTICATE_HEADER;
	size_t payload;
	bool unicode;
	enum ntlm_status st;

	if (ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if ((st = open_message(buf, len, NTLM_TYPE_AUTHENTICATE, &msg)) != NTLM_OK)
		goto out;
	hdr = msg;
	if ((st = read_field(&hdr, &lm)) != NTLM_OK || (st = read_field(&hdr, &nt)) != NTLM_OK ||
	    (st = read_field(&hdr, &domain)) != NTLM_OK || (st = read_field(&hdr, &user)) != NTLM_OK ||
	    (st = read_field(&hdr, &workstation)) != NTLM_OK ||
	    (st = read_field(&hdr, &session_key)) != NTLM_OK ||
	    (st = ntlm_read_u32le(&hdr, &a.flags)) != NTLM_OK)
		goto out;
	payload = payload_start(fields, 6, len);
	unicode = (a.flags & NTLM_NEGOTIATE_UNICODE) != 0;
	if ((st = field_view(&msg, &lm, h, &a.lm_response)) != NTLM_OK ||
	    (st = field_view(&msg, &nt, h, &a.nt_response)) != NTLM_OK ||
	    (st = field_view(&msg, &session_key, h, &a.encrypted_session_key)) != NTLM_OK ||
	    (st = check_response_sizes(&a)) != NTLM_OK)
		goto out;
	if ((st = field_name(&msg, &domain, h, unicode, &a.domain)) != NTLM_OK ||
	    (st = field_name(&msg, &user, h, unicode, &a.user)) != NTLM_OK ||
	    (st = field_name(&msg, &workstation, h, unicode, &a.workstation)) != NTLM_OK)
		goto out;
	if ((st = read_version_and_mic(&hdr, payload, &a)) != NTLM_OK)
		goto out;

	*ret = a;
	a = (struct ntlm_authenticate){0};
out:
	ntlm_authenticate_clear(&a);
	return st;
}

/* MS-NLMP 2.2.2.7 NTLMv2_CLIENT_CHALLENGE */
enum ntlm_status ntlm_v2_blob_decode(const uint8_t *p, size_t len, struct ntlm_v2_blob *ret)
{
	struct ntlm_reader r;
	struct ntlm_v2_blob b = {0};
	enum ntlm_status st;

	if ((p == NULL && len > 0) || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	ntlm_reader_init(&r, p, len);
	if ((st = ntlm_read_u8(&r, &b.resp_type)) != NTLM_OK ||
	    (st = ntlm_read_u8(&r, &b.hi_resp_type)) != NTLM_OK)
		return st;
	if (b.resp_type != 1 || b.hi_resp_type != 1)
		return NTLM_ERR_BAD_RESPONSE;
	if ((st = ntlm_reader_skip(&r, 2 + 4)) != NTLM_OK || /* Reserved1, Reserved2 */
	    (st = ntlm_read_u64le(&r, &b.timestamp)) != NTLM_OK ||
	    (st = ntlm_read_bytes(&r, b.client_challenge, NTLM_CHALLENGE_LEN)) != NTLM_OK ||
	    (st = ntlm_reader_skip(&r, 4)) != NTLM_OK) /* Reserved3 */
		return st;
	b.av_pairs.len = ntlm_reader_left(&r);
	if ((st = ntlm_read_view(&r, b.av_pairs.len, &b.av_pairs.data)) != NTLM_OK)
		return st;
	*ret = b;
	return NTLM_OK;
}

void ntlm_negotiate_clear(struct ntlm_negotiate *m)
{
	if (m == NULL)
		return;
	ntlm_free_string(m->domain);
	ntlm_free_string(m->workstation);
	NTLM_WIPE_OBJECT(m);
}

void ntlm_challenge_clear(struct ntlm_challenge *m)
{
	if (m == NULL)
		return;
	ntlm_free_string(m->target_name);
	NTLM_WIPE_OBJECT(m);
}

void ntlm_authenticate_clear(struct ntlm_authenticate *m)
{
	if (m == NULL)
		return;
	ntlm_free_string(m->domain);
	ntlm_free_string(m->user);
	ntlm_free_string(m->workstation);
	NTLM_WIPE_OBJECT(m);
}

/* ------------------------------------------------------------------ */
/* Encoders                                                            */
/* ------------------------------------------------------------------ */

/* One payload item: the bytes and where its security buffer sits in the header. */
struct payload_item {
	size_t field_pos;
	const uint8_t *data;
	size_t len;
};

/* An encoded name: UTF-16LE or OEM (ASCII only). NULL s is the empty name. */
struct encoded_name {
	uint8_t *data;
	size_t len;
};

static enum ntlm_status encode_name(const char *s, bool unicode, struct encoded_name *ret)
{
	size_t n;

	*ret = (struct encoded_name){0};
	if (s == NULL || *s == '\0')
		return NTLM_OK;
	if (unicode)
		return ntlm_utf8_to_utf16le(s, NTLM_MAX_NAME, &ret->data, &ret->len);
	n = strlen(s);
	if (n > NTLM_MAX_NAME)
		return NTLM_ERR_STRING_TOO_LONG;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] > 0x7Fu)
			return NTLM_ERR_BAD_STRING;
	}
	ret->data = malloc(n);
	if (ret->data == NULL)
		return NTLM_ERR_NO_MEMORY;
	memcpy(ret->data, s, n);
	ret->len = n;
	return NTLM_OK;
}

static void encoded_name_clear(struct encoded_name *e)
{
	ntlm_wipe(e->data, e->len);
	free(e->data);
	*e = (struct encoded_name){0};
}

static void write_signature(struct ntlm_writer *w, uint32_t type)
{
	ntlm_write_bytes(w, NTLM_SIGNATURE, NTLM_SIGNATURE_BYTES);
	ntlm_write_u32le(w, type);
}

/* Reserves a security buffer in the header; returns its position. */
static size_t write_field_placeholder(struct ntlm_writer *w)
{
	size_t pos = w->len;

	ntlm_write_zeros(w, 8);
	return pos;
}

/* MS-NLMP 2.2.2.10 */
static void write_version(struct ntlm_writer *w, const struct ntlm_version *v)
{
	ntlm_write_u8(w, v->major);
	ntlm_write_u8(w, v->minor);
	ntlm_write_u16le(w, v->build);
	ntlm_write_zeros(w, 3);
	ntlm_write_u8(w, v->revision);
}

/*
 * Appends the payload items in order and fills in their security buffers.
 * An empty item points where it would have been (MS-NLMP 2.2.1.3 SHOULD, as
 * the 4.2.x.3 AUTHENTICATE messages do), or is left all zeros when
 * zero_empty is set (as the 4.2.2.3 CHALLENGE and Windows' NEGOTIATE do).
 */
static void write_payload(struct ntlm_writer *w, const struct payload_item *items, size_t n, bool zero_empty)
{
	for (size_t i = 0; i < n; i++) {
		size_t offset = w->len;

		/* offset fits in 32 bits: the writer caps it at NTLM_MAX_MESSAGE */
		if (items[i].len > UINT16_MAX) {
			if (w->error == NTLM_OK)
				w->error = NTLM_ERR_MESSAGE_TOO_LONG;
			return;
		}
		ntlm_write_bytes(w, items[i].data, items[i].len);
		if (items[i].len == 0 && zero_empty)
			continue;
		ntlm_writer_put_u16le_at(w, items[i].field_pos, (uint16_t)items[i].len);
		ntlm_writer_put_u16le_at(w, items[i].field_pos + 2, (uint16_t)items[i].len);
		ntlm_writer_put_u32le_at(w, items[i].field_pos + 4, (uint32_t)offset);
	}
}

/* MS-NLMP 2.2.1.1: domain and workstation are OEM whatever the flags say. */
enum ntlm_status ntlm_negotiate_encode(const struct ntlm_negotiate *m, uint8_t **ret, size_t *ret_len)
{
	struct ntlm_writer w;
	struct encoded_name domain = {0}, workstation = {0};
	struct payload_item items[2];
	enum ntlm_status st;

	if (m == NULL || ret == NULL || ret_len == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	if ((st = encode_name(m->domain, false, &domain)) != NTLM_OK ||
	    (st = encode_name(m->workstation, false, &workstation)) != NTLM_OK)
		goto out;
	write_signature(&w, NTLM_TYPE_NEGOTIATE);
	ntlm_write_u32le(&w, m->flags);
	items[0] = (struct payload_item){write_field_placeholder(&w), domain.data, domain.len};
	items[1] = (struct payload_item){write_field_placeholder(&w), workstation.data, workstation.len};
	if (m->has_version)
		write_version(&w, &m->version);
	write_payload(&w, items, 2, true);
	st = ntlm_writer_finish(&w, ret, ret_len);
out:
	ntlm_writer_clear(&w);
	encoded_name_clear(&domain);
	encoded_name_clear(&workstation);
	return st;
}

/* MS-NLMP 2.2.1.2 */
enum ntlm_status ntlm_challenge_encode(const struct ntlm_challenge *m, uint8_t **ret, size_t *ret_len)
{
	struct ntlm_writer w;
	struct encoded_name target_name = {0};
	struct payload_item items[2];
	enum ntlm_status st;

	if (m == NULL || ret == NULL || ret_len == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	if ((st = encode_name(m->target_name, (m->flags & NTLM_NEGOTIATE_UNICODE) != 0, &target_name)) !=
	    NTLM_OK)
		goto out;
	write_signature(&w, NTLM_TYPE_CHALLENGE);
	items[0] = (struct payload_item){write_field_placeholder(&w), target_name.data, target_name.len};
	ntlm_write_u32le(&w, m->flags);
	ntlm_write_bytes(&w, m->server_challenge, NTLM_CHALLENGE_LEN);
	ntlm_write_zeros(&w, 8); /* Reserved */
	items[1] =
	    (struct payload_item){write_field_placeholder(&w), m->target_info.data, m->target_info.len};
	if (m->has_version)
		write_version(&w, &m->version);
	write_payload(&w, items, 2, true);
	st = ntlm_writer_finish(&w, ret, ret_len);
out:
	ntlm_writer_clear(&w);
	encoded_name_clear(&target_name);
	return st;
}

/* MS-NLMP 2.2.1.3. The MIC sits at 72 with VERSION (zeroed when not
 * negotiated) before it; it is written as zeros for the caller to patch. */
enum ntlm_status ntlm_authenticate_encode(const struct ntlm_authenticate *m, uint8_t **ret, size_t *ret_len)
{
	struct ntlm_writer w;
	struct encoded_name domain = {0}, user = {0}, workstation = {0};
	struct payload_item items[6];
	bool unicode;
	enum ntlm_status st;

	if (m == NULL || ret == NULL || ret_len == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (m->mic_offset != 0 && m->mic_offset != NTLM_MIC_OFFSET)
		return NTLM_ERR_INVALID_ARGUMENT;
	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	unicode = (m->flags & NTLM_NEGOTIATE_UNICODE) != 0;
	if ((st = encode_name(m->domain, unicode, &domain)) != NTLM_OK ||
	    (st = encode_name(m->user, unicode, &user)) != NTLM_OK ||
	    (st = encode_name(m->workstation, unicode, &workstation)) != NTLM_OK)
		goto out;
	write_signature(&w, NTLM_TYPE_AUTHENTICATE);
	/* Payload in the order of the MS-NLMP 4.2.x.3 example messages. */
	items[3] =
	    (struct payload_item){write_field_placeholder(&w), m->lm_response.data, m->lm_response.len};
	items[4] =
	    (struct payload_item){write_field_placeholder(&w), m->nt_response.data, m->nt_response.len};
	items[0] = (struct payload_item){write_field_placeholder(&w), domain.data, domain.len};
	items[1] = (struct payload_item){write_field_placeholder(&w), user.data, user.len};
	items[2] = (struct payload_item){write_field_placeholder(&w), workstation.data, workstation.len};
	items[5] = (struct payload_item){write_field_placeholder(&w), m->encrypted_session_key.data,
	                                 m->encrypted_session_key.len};
	ntlm_write_u32le(&w, m->flags);
	if (m->has_version)
		write_version(&w, &m->version);
	else if (m->mic_offset != 0)
		ntlm_write_zeros(&w, NTLM_VERSION_LEN);
	if (m->mic_offset != 0)
		ntlm_write_zeros(&w, NTLM_MIC_LEN);
	write_payload(&w, items, sizeof(items) / sizeof(items[0]), false);
	st = ntlm_writer_finish(&w, ret, ret_len);
out:
	ntlm_writer_clear(&w);
	encoded_name_clear(&domain);
	encoded_name_clear(&user);
	encoded_name_clear(&workstation);
	return st;
}
