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
	if (memcmp(sig, NTLM_SIGNATURE, NTLM_SIGNATURE_BYTES) != 0) /* not secret: the public signature */
		return NTLM_ERR_BAD_SIGNATURE;
	return ntlm_read_u32le(r, ret_type);
}

/* Opens a message of any type: size cap and signature; *ret_type is its MessageType. */
static enum ntlm_status open_any_message(const uint8_t *buf, size_t len, struct ntlm_reader *ret,
                                         uint32_t *ret_type)
{
	if (len > NTLM_MAX_MESSAGE)
		return NTLM_ERR_MESSAGE_TOO_LONG;
	if (buf == NULL && len > 0)
		return NTLM_ERR_INVALID_ARGUMENT;
	ntlm_reader_init(ret, buf, len);
	return read_signature(ret, ret_type);
}

/* Opens a message: size cap, signature and the expected type. */
static enum ntlm_status open_message(const uint8_t *buf, size_t len, uint32_t type, struct ntlm_reader *ret)
{
	enum ntlm_status st;
	uint32_t got;

	st = open_any_message(buf, len, ret, &got);
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

/* What a name field may hold besides valid text. */
enum name_rule {
	NAME_ANY_TEXT, /* informative names: the CHALLENGE's target */
	NAME_LOGON,    /* AUTHENTICATE's user, domain, workstation: no control character */
};

/* The default decoding options. */
static const struct ntlm_decode_options default_options = {.oem_charset = NTLM_OEM_CP850};

/* Bytes of a name as UTF-8, from UTF-16LE or OEM (ntlm_oem_decode()),
 * capped at NTLM_MAX_NAME characters; *ret_text says which rule applied. */
static enum ntlm_status name_text(struct ntlm_view v, bool unicode, enum name_rule rule,
                                  enum ntlm_oem_charset cs, char **ret, enum ntlm_text_rule *ret_text)
{
	size_t max_bytes = unicode ? 2 * NTLM_MAX_NAME : NTLM_MAX_NAME;
	enum ntlm_text_rule text = NTLM_TEXT_NONE;
	char *out = NULL;
	enum ntlm_status st;

	if (v.len > max_bytes)
		return NTLM_ERR_STRING_TOO_LONG;
	/* Looked for before the conversion, so that a NUL gets this status too. */
	if (rule == NAME_LOGON && (st = ntlm_wire_name_check(v.data, v.len, unicode)) != NTLM_OK)
		return st;
	if (unicode) {
		st = ntlm_utf16le_to_utf8(v.data, v.len, &out);
		text = v.len > 0 ? NTLM_TEXT_UTF16 : NTLM_TEXT_NONE;
	} else {
		st = ntlm_oem_decode(v.data, v.len, cs, &out, &text);
	}
	if (st != NTLM_OK)
		return st;
	/* C1 in OEM text shows only once decoded (UTF-8 C2 80..C2 9F,
	 * ISO-8859-1 bytes 0x80..0x9F) */
	if (rule == NAME_LOGON && (st = ntlm_utf8_name_check(out, strlen(out))) != NTLM_OK) {
		ntlm_free_string(out);
		return st;
	}
	*ret = out;
	*ret_text = text;
	return NTLM_OK;
}

/* A name field as UTF-8 ("" when empty): the field's bytes through name_text(). */
static enum ntlm_status field_name(const struct ntlm_reader *msg, const struct sec_buffer *f,
                                   size_t header_len, bool unicode, enum name_rule rule,
                                   enum ntlm_oem_charset cs, char **ret, enum ntlm_text_rule *ret_text)
{
	struct ntlm_view v;
	enum ntlm_status st;

	st = field_view(msg, f, header_len, &v);
	if (st != NTLM_OK)
		return st;
	return name_text(v, unicode, rule, cs, ret, ret_text);
}

/*
 * A NEGOTIATE name (MS-NLMP 2.2.1.1: OEM, informative only). It never
 * refuses the message: text that decodes to a name is kept as such, other
 * bytes (a NUL, a control character, too long) are kept escaped, and a
 * field pointing into the header or past the end is left NULL, as the
 * GSS-API client that writes DomainName offset 24 in a 32-byte NEGOTIATE
 * needs (its raw bytes still go into the MIC).
 */
static enum ntlm_status informative_name(const struct ntlm_reader *msg, const struct sec_buffer *f,
                                         enum ntlm_oem_charset cs, char **ret, enum ntlm_text_rule *ret_text)
{
	struct ntlm_view v;
	enum ntlm_status st;

	if (field_view(msg, f, NTLM_NEGOTIATE_HEADER, &v) != NTLM_OK) {
		*ret = NULL;
		*ret_text = NTLM_TEXT_UNREADABLE;
		return NTLM_OK;
	}
	st = name_text(v, false, NAME_LOGON, cs, ret, ret_text);
	if (st == NTLM_ERR_NO_MEMORY || st == NTLM_ERR_INVALID_ARGUMENT)
		return st;
	if (st == NTLM_OK)
		return NTLM_OK;
	*ret_text = NTLM_TEXT_ESCAPED;
	return ntlm_escape_bytes(v.data, v.len, ret);
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
	st = open_any_message(buf, len, &r, &type);
	if (st != NTLM_OK)
		return st;
	if (type < NTLM_TYPE_NEGOTIATE || type > NTLM_TYPE_AUTHENTICATE)
		return NTLM_ERR_WRONG_MESSAGE_TYPE;
	*ret = type;
	return NTLM_OK;
}

/* MS-NLMP 2.2.1.2: Signature, MessageType, TargetNameFields (8 bytes),
 * NegotiateFlags, ServerChallenge; nothing after them is read. */
enum ntlm_status ntlm_challenge_peek(const uint8_t *buf, size_t len, uint32_t *ret_flags,
                                     uint8_t ret_server_challenge[NTLM_CHALLENGE_LEN])
{
	struct ntlm_reader r;
	enum ntlm_status st;
	uint32_t flags;
	const uint8_t *chal;

	if (ret_flags == NULL || ret_server_challenge == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if ((st = open_message(buf, len, NTLM_TYPE_CHALLENGE, &r)) != NTLM_OK ||
	    (st = ntlm_read_view(&r, 8, &chal)) != NTLM_OK /* TargetNameFields */ ||
	    (st = ntlm_read_u32le(&r, &flags)) != NTLM_OK ||
	    (st = ntlm_read_view(&r, NTLM_CHALLENGE_LEN, &chal)) != NTLM_OK)
		return st;
	*ret_flags = flags;
	memcpy(ret_server_challenge, chal, NTLM_CHALLENGE_LEN);
	return NTLM_OK;
}

/* ------------------------------------------------------------------ */
/* Decoders                                                            */
/* ------------------------------------------------------------------ */

/*
 * Each decoder body reads the fixed header from hdr (positioned after
 * MessageType) and the payload fields from msg (the whole message) into m,
 * a zeroed struct of its message type, as the options o say.
 */

/* MS-NLMP 2.2.1.1 NEGOTIATE_MESSAGE */
static enum ntlm_status negotiate_body(const struct ntlm_reader *msg, struct ntlm_reader *hdr,
                                       const struct ntlm_decode_options *o, void *m)
{
	struct ntlm_negotiate *n = m;
	struct sec_buffer domain, workstation;
	const struct sec_buffer *fields[2];
	size_t payload, nfields = 0;
	bool has_domain, has_workstation;
	enum ntlm_status st;

	if ((st = ntlm_read_u32le(hdr, &n->flags)) != NTLM_OK || (st = read_field(hdr, &domain)) != NTLM_OK ||
	    (st = read_field(hdr, &workstation)) != NTLM_OK)
		return st;
	/* The fields count only when their OEM_*_SUPPLIED flag is set. */
	has_domain = (n->flags & NTLM_NEGOTIATE_OEM_DOMAIN_SUPPLIED) != 0;
	has_workstation = (n->flags & NTLM_NEGOTIATE_OEM_WORKSTATION_SUPPLIED) != 0;
	if (has_domain)
		fields[nfields++] = &domain;
	if (has_workstation)
		fields[nfields++] = &workstation;
	payload = payload_start(fields, nfields, msg->len);
	/* informative only: never a reason to refuse the message */
	if (has_domain &&
	    (st = informative_name(msg, &domain, o->oem_charset, &n->domain, &n->domain_text)) != NTLM_OK)
		return st;
	if (has_workstation && (st = informative_name(msg, &workstation, o->oem_charset, &n->workstation,
	                                              &n->workstation_text)) != NTLM_OK)
		return st;
	return maybe_read_version(hdr, n->flags, payload, &n->has_version, &n->version);
}

/* MS-NLMP 2.2.1.2 CHALLENGE_MESSAGE */
static enum ntlm_status challenge_body(const struct ntlm_reader *msg, struct ntlm_reader *hdr,
                                       const struct ntlm_decode_options *o, void *m)
{
	struct ntlm_challenge *c = m;
	enum ntlm_text_rule text;
	struct sec_buffer target_name, target_info;
	const struct sec_buffer *fields[] = {&target_name, &target_info};
	size_t payload;
	enum ntlm_status st;

	if ((st = read_field(hdr, &target_name)) != NTLM_OK ||
	    (st = ntlm_read_u32le(hdr, &c->flags)) != NTLM_OK ||
	    (st = ntlm_read_bytes(hdr, c->server_challenge, NTLM_CHALLENGE_LEN)) != NTLM_OK ||
	    (st = ntlm_reader_skip(hdr, 8)) != NTLM_OK || /* Reserved */
	    (st = read_field(hdr, &target_info)) != NTLM_OK)
		return st;
	payload = payload_start(fields, 2, msg->len);
	if (target_name.len > 0 && (st = field_name(msg, &target_name, NTLM_CHALLENGE_HEADER,
	                                            (c->flags & NTLM_NEGOTIATE_UNICODE) != 0, NAME_ANY_TEXT,
	                                            o->oem_charset, &c->target_name, &text)) != NTLM_OK)
		return st;
	/* TargetInfo stays raw: the caller runs ntlm_av_list_decode() on it. */
	if ((st = field_view(msg, &target_info, NTLM_CHALLENGE_HEADER, &c->target_info)) != NTLM_OK)
		return st;
	return maybe_read_version(hdr, c->flags, payload, &c->has_version, &c->version);
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

/*
 * The encoding of the AUTHENTICATE's names. MS-NLMP 2.2.1.3 ties it to
 * NTLMSSP_NEGOTIATE_UNICODE, and 3.2.5.1.2 works on the server's NegFlg:
 * the encoding the CHALLENGE chose wins over the AUTHENTICATE's own flag
 * (GNU wget sets UNICODE in its AUTHENTICATE and sends 8-bit names after an
 * OEM CHALLENGE; Samba decodes them as OEM). *ret_open is set when the
 * CHALLENGE left the choice open (both flags or neither): the other
 * encoding is then tried when the bytes cannot be the first one.
 */
static bool names_unicode(uint32_t auth_flags, const struct ntlm_decode_options *o, bool *ret_open)
{
	uint32_t offered = o->challenge_flags & (NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_OEM);

	*ret_open = false;
	if (o->has_challenge_flags && offered == NTLM_NEGOTIATE_UNICODE)
		return true;
	if (o->has_challenge_flags && offered == NTLM_NEGOTIATE_OEM)
		return false;
	*ret_open = o->has_challenge_flags;
	return (auth_flags & NTLM_NEGOTIATE_UNICODE) != 0;
}

/* DomainName, UserName and Workstation in one encoding, all or none. */
static enum ntlm_status logon_names(const struct ntlm_reader *msg, const struct sec_buffer *const f[3],
                                    bool unicode, enum ntlm_oem_charset cs, struct ntlm_authenticate *a)
{
	char *names[3] = {NULL, NULL, NULL};
	enum ntlm_text_rule texts[3];
	enum ntlm_status st = NTLM_OK;

	for (size_t i = 0; i < 3 && st == NTLM_OK; i++)
		st = field_name(msg, f[i], NTLM_AUTHENTICATE_HEADER, unicode, NAME_LOGON, cs, &names[i],
		                &texts[i]);
	if (st != NTLM_OK) {
		for (size_t i = 0; i < 3; i++)
			ntlm_free_string(names[i]);
		return st;
	}
	a->domain = names[0];
	a->user = names[1];
	a->workstation = names[2];
	a->domain_text = texts[0];
	a->user_text = texts[1];
	a->workstation_text = texts[2];
	return NTLM_OK;
}

/* MS-NLMP 2.2.1.3 AUTHENTICATE_MESSAGE */
static enum ntlm_status authenticate_body(const struct ntlm_reader *msg, struct ntlm_reader *hdr,
                                          const struct ntlm_decode_options *o, void *m)
{
	struct ntlm_authenticate *a = m;
	struct sec_buffer lm, nt, domain, user, workstation, session_key;
	const struct sec_buffer *fields[] = {&lm, &nt, &domain, &user, &workstation, &session_key};
	const struct sec_buffer *names[3] = {&domain, &user, &workstation};
	const size_t h = NTLM_AUTHENTICATE_HEADER;
	size_t payload;
	bool unicode, open;
	enum ntlm_status st;

	if ((st = read_field(hdr, &lm)) != NTLM_OK || (st = read_field(hdr, &nt)) != NTLM_OK ||
	    (st = read_field(hdr, &domain)) != NTLM_OK || (st = read_field(hdr, &user)) != NTLM_OK ||
	    (st = read_field(hdr, &workstation)) != NTLM_OK ||
	    (st = read_field(hdr, &session_key)) != NTLM_OK ||
	    (st = ntlm_read_u32le(hdr, &a->flags)) != NTLM_OK)
		return st;
	payload = payload_start(fields, 6, msg->len);
	unicode = names_unicode(a->flags, o, &open);
	if ((st = field_view(msg, &lm, h, &a->lm_response)) != NTLM_OK ||
	    (st = field_view(msg, &nt, h, &a->nt_response)) != NTLM_OK ||
	    (st = field_view(msg, &session_key, h, &a->encrypted_session_key)) != NTLM_OK ||
	    (st = check_response_sizes(a)) != NTLM_OK)
		return st;
	/* DomainName, UserName and Workstation name the account and end up in
	 * log lines and helper replies: a control character in any of them
	 * refuses the message (NTLM_ERR_CONTROL_CHARACTER). */
	st = logon_names(msg, names, unicode, o->oem_charset, a);
	/* the CHALLENGE left the encoding open: what the bytes can be */
	if (open && (st == NTLM_ERR_BAD_STRING || st == NTLM_ERR_CONTROL_CHARACTER) &&
	    logon_names(msg, names, !unicode, o->oem_charset, a) == NTLM_OK)
		st = NTLM_OK;
	if (st != NTLM_OK)
		return st;
	return read_version_and_mic(hdr, payload, a);
}

/* The *_clear() functions over void *, for struct message_decoder. */
static void negotiate_release(void *m)
{
	ntlm_negotiate_clear(m);
}

static void challenge_release(void *m)
{
	ntlm_challenge_clear(m);
}

static void authenticate_release(void *m)
{
	ntlm_authenticate_clear(m);
}

/* What tells the three decoders apart. */
struct message_decoder {
	size_t size; /* of the result struct */
	enum ntlm_status (*body)(const struct ntlm_reader *msg, struct ntlm_reader *hdr,
	                         const struct ntlm_decode_options *o, void *m);
	void (*clear)(void *m);
};

static const struct message_decoder decoders[] = {
    [NTLM_TYPE_NEGOTIATE] = {sizeof(struct ntlm_negotiate), negotiate_body, negotiate_release},
    [NTLM_TYPE_CHALLENGE] = {sizeof(struct ntlm_challenge), challenge_body, challenge_release},
    [NTLM_TYPE_AUTHENTICATE] = {sizeof(struct ntlm_authenticate), authenticate_body, authenticate_release},
};

/* Room for the result of any decoder. */
union any_message {
	struct ntlm_negotiate negotiate;
	struct ntlm_challenge challenge;
	struct ntlm_authenticate authenticate;
};

/* The frame of the three decoders: the message is decoded into zeroed
 * scratch space, handed to *ret only on success, and the scratch space is
 * cleared (strings freed, bytes wiped) on every path. */
static enum ntlm_status decode_message(uint32_t type, const uint8_t *buf, size_t len,
                                       const struct ntlm_decode_options *o, void *ret)
{
	const struct message_decoder *d = &decoders[type];
	struct ntlm_reader msg, hdr;
	union any_message m;
	enum ntlm_status st;

	if (ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	memset(&m, 0, sizeof(m));
	if ((st = open_message(buf, len, type, &msg)) != NTLM_OK)
		goto out;
	hdr = msg;
	if ((st = d->body(&msg, &hdr, o != NULL ? o : &default_options, &m)) != NTLM_OK)
		goto out;
	memcpy(ret, &m, d->size);
	memset(&m, 0, sizeof(m));
out:
	d->clear(&m);
	return st;
}

enum ntlm_status ntlm_negotiate_decode(const uint8_t *buf, size_t len, struct ntlm_negotiate *ret)
{
	return decode_message(NTLM_TYPE_NEGOTIATE, buf, len, NULL, ret);
}

enum ntlm_status ntlm_challenge_decode(const uint8_t *buf, size_t len, struct ntlm_challenge *ret)
{
	return decode_message(NTLM_TYPE_CHALLENGE, buf, len, NULL, ret);
}

enum ntlm_status ntlm_authenticate_decode(const uint8_t *buf, size_t len, struct ntlm_authenticate *ret)
{
	return decode_message(NTLM_TYPE_AUTHENTICATE, buf, len, NULL, ret);
}

enum ntlm_status ntlm_negotiate_decode_ex(const uint8_t *buf, size_t len,
                                          const struct ntlm_decode_options *opt, struct ntlm_negotiate *ret)
{
	return decode_message(NTLM_TYPE_NEGOTIATE, buf, len, opt, ret);
}

enum ntlm_status ntlm_challenge_decode_ex(const uint8_t *buf, size_t len,
                                          const struct ntlm_decode_options *opt, struct ntlm_challenge *ret)
{
	return decode_message(NTLM_TYPE_CHALLENGE, buf, len, opt, ret);
}

enum ntlm_status ntlm_authenticate_decode_ex(const uint8_t *buf, size_t len,
                                             const struct ntlm_decode_options *opt,
                                             struct ntlm_authenticate *ret)
{
	return decode_message(NTLM_TYPE_AUTHENTICATE, buf, len, opt, ret);
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
	char *strings[] = {m->domain, m->workstation};
	ntlm_clear_struct(m, sizeof(*m), strings, NTLM_ARRAY_LEN(strings));
}

void ntlm_challenge_clear(struct ntlm_challenge *m)
{
	if (m == NULL)
		return;
	char *strings[] = {m->target_name};
	ntlm_clear_struct(m, sizeof(*m), strings, NTLM_ARRAY_LEN(strings));
}

void ntlm_authenticate_clear(struct ntlm_authenticate *m)
{
	if (m == NULL)
		return;
	char *strings[] = {m->domain, m->user, m->workstation};
	ntlm_clear_struct(m, sizeof(*m), strings, NTLM_ARRAY_LEN(strings));
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
	ret->data = malloc(n); /* NOLINT(clang-analyzer-optin.portability.UnixAPI): s is not empty, n >= 1 */
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

/* Reserves a security buffer in the header for len bytes of payload at data. */
static struct payload_item reserve_field(struct ntlm_writer *w, const uint8_t *data, size_t len)
{
	struct payload_item item = {w->len, data, len};

	ntlm_write_zeros(w, 8);
	return item;
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
 * The end of every encoder: VERSION when version is not NULL, then the
 * payload items in order with their security buffers filled in, then the
 * finished message (the writer is released on every path). An empty item
 * points where it would have been (MS-NLMP 2.2.1.3 SHOULD, as the 4.2.x.3
 * AUTHENTICATE messages do), or is left all zeros when zero_empty is set
 * (as the 4.2.2.3 CHALLENGE and Windows' NEGOTIATE do).
 */
static enum ntlm_status finish_message(struct ntlm_writer *w, const struct ntlm_version *version,
                                       const struct payload_item *items, size_t n, bool zero_empty,
                                       uint8_t **ret, size_t *ret_len)
{
	if (version != NULL)
		write_version(w, version);
	for (size_t i = 0; i < n; i++) {
		size_t offset = w->len;

		/* offset fits in 32 bits: the writer caps it at NTLM_MAX_MESSAGE */
		if (items[i].len > UINT16_MAX) {
			ntlm_writer_fail(w, NTLM_ERR_MESSAGE_TOO_LONG);
			break;
		}
		ntlm_write_bytes(w, items[i].data, items[i].len);
		if (items[i].len == 0 && zero_empty)
			continue;
		ntlm_writer_put_u16le_at(w, items[i].field_pos, (uint16_t)items[i].len);
		ntlm_writer_put_u16le_at(w, items[i].field_pos + 2, (uint16_t)items[i].len);
		ntlm_writer_put_u32le_at(w, items[i].field_pos + 4, (uint32_t)offset);
	}
	return ntlm_writer_finish(w, ret, ret_len);
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
	if ((st = encode_name(m->domain, false, &domain)) != NTLM_OK ||
	    (st = encode_name(m->workstation, false, &workstation)) != NTLM_OK)
		goto out;
	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	write_signature(&w, NTLM_TYPE_NEGOTIATE);
	ntlm_write_u32le(&w, m->flags);
	items[0] = reserve_field(&w, domain.data, domain.len);
	items[1] = reserve_field(&w, workstation.data, workstation.len);
	st = finish_message(&w, m->has_version ? &m->version : NULL, items, 2, true, ret, ret_len);
out:
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
	st = encode_name(m->target_name, (m->flags & NTLM_NEGOTIATE_UNICODE) != 0, &target_name);
	if (st != NTLM_OK)
		goto out;
	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	write_signature(&w, NTLM_TYPE_CHALLENGE);
	items[0] = reserve_field(&w, target_name.data, target_name.len);
	ntlm_write_u32le(&w, m->flags);
	ntlm_write_bytes(&w, m->server_challenge, NTLM_CHALLENGE_LEN);
	ntlm_write_zeros(&w, 8); /* Reserved */
	items[1] = reserve_field(&w, m->target_info.data, m->target_info.len);
	st = finish_message(&w, m->has_version ? &m->version : NULL, items, 2, true, ret, ret_len);
out:
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
	unicode = (m->flags & NTLM_NEGOTIATE_UNICODE) != 0;
	if ((st = encode_name(m->domain, unicode, &domain)) != NTLM_OK ||
	    (st = encode_name(m->user, unicode, &user)) != NTLM_OK ||
	    (st = encode_name(m->workstation, unicode, &workstation)) != NTLM_OK)
		goto out;
	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	write_signature(&w, NTLM_TYPE_AUTHENTICATE);
	/* Payload in the order of the MS-NLMP 4.2.x.3 example messages. */
	items[3] = reserve_field(&w, m->lm_response.data, m->lm_response.len);
	items[4] = reserve_field(&w, m->nt_response.data, m->nt_response.len);
	items[0] = reserve_field(&w, domain.data, domain.len);
	items[1] = reserve_field(&w, user.data, user.len);
	items[2] = reserve_field(&w, workstation.data, workstation.len);
	items[5] = reserve_field(&w, m->encrypted_session_key.data, m->encrypted_session_key.len);
	ntlm_write_u32le(&w, m->flags);
	if (m->has_version)
		write_version(&w, &m->version);
	else if (m->mic_offset != 0)
		ntlm_write_zeros(&w, NTLM_VERSION_LEN);
	if (m->mic_offset != 0)
		ntlm_write_zeros(&w, NTLM_MIC_LEN);
	st = finish_message(&w, NULL, items, NTLM_ARRAY_LEN(items), false, ret, ret_len);
out:
	encoded_name_clear(&domain);
	encoded_name_clear(&user);
	encoded_name_clear(&workstation);
	return st;
}
