/*
 * spnego.c: a bounded DER reader (X.690) over struct ntlm_reader, and the
 * recognition of GSS-API / SPNEGO (RFC 2743 3.1, RFC 4178 4.2) and Kerberos
 * (RFC 4120 5.5.1, RFC 1964 1.1) tokens. See spnego.h.
 */
#include <config.h>

#include "spnego.h"

#include <stdio.h>
#include <string.h>

/* One DER element: its identifier octet and a reader over its contents. */
struct der {
	uint8_t tag;
	struct ntlm_reader value;
};

/* Identifier octets (X.690 8.1.2) used here */
#define DER_INTEGER     0x02u
#define DER_OCTET       0x04u
#define DER_OID         0x06u
#define DER_ENUMERATED  0x0Au
#define DER_GENERAL_STR 0x1Bu
#define DER_SEQUENCE    0x30u
#define DER_CTX(n)      (0xA0u | (n)) /* [n] constructed */
#define DER_APP(n)      (0x60u | (n)) /* [APPLICATION n] constructed */
#define DER_TAG_NUMBER  0x1Fu

/* RFC 4120 5.10 application tags of Kerberos messages */
#define KRB_TICKET  1u
#define KRB_AS_REQ  10u
#define KRB_AP_REQ  14u
#define KRB_AP_REP  15u
#define KRB_ERROR   30u
#define KRB_MAX_APP 30u

static const uint8_t ntlmssp_signature[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

/* Reads one element: a single identifier octet (tag numbers up to 30) and a
 * definite length of at most 4 octets (X.690 8.1.3), checked against what
 * is left before any byte of the contents is taken. */
static enum ntlm_status der_next(struct ntlm_reader *r, struct der *ret)
{
	const uint8_t *v;
	uint8_t tag, b;
	size_t len = 0;
	enum ntlm_status st;

	if ((st = ntlm_read_u8(r, &tag)) != NTLM_OK || (st = ntlm_read_u8(r, &b)) != NTLM_OK)
		return st;
	if ((tag & DER_TAG_NUMBER) == DER_TAG_NUMBER)
		return NTLM_ERR_BAD_ENCODING;
	if (b < 0x80u) {
		len = b;
	} else {
		size_t n = b & 0x7Fu;

		if (n == 0 || n > 4) /* indefinite form, or over 4 GiB */
			return NTLM_ERR_BAD_ENCODING;
		while (n-- > 0) {
			if ((st = ntlm_read_u8(r, &b)) != NTLM_OK)
				return st;
			len = len << 8 | b;
		}
	}
	if (len > ntlm_reader_left(r))
		return NTLM_ERR_TRUNCATED;
	if ((st = ntlm_read_view(r, len, &v)) != NTLM_OK)
		return st;
	ret->tag = tag;
	ntlm_reader_init(&ret->value, v, len);
	return NTLM_OK;
}

/* The next element, which must carry tag. */
static enum ntlm_status der_expect(struct ntlm_reader *r, uint8_t tag, struct der *ret)
{
	enum ntlm_status st = der_next(r, ret);

	if (st == NTLM_OK && ret->tag != tag)
		return NTLM_ERR_BAD_ENCODING;
	return st;
}

/* The one element that fills all of r (the outer element of a token). */
static enum ntlm_status der_only(struct ntlm_reader *r, struct der *ret)
{
	enum ntlm_status st = der_next(r, ret);

	return st != NTLM_OK ? st : ntlm_reader_expect_end(r);
}

/* The contents of an element as a view. */
static struct ntlm_view der_view(const struct der *d)
{
	return (struct ntlm_view){d->value.data, d->value.len};
}

/* An OBJECT IDENTIFIER's contents (X.690 8.19) as dotted text. */
static enum ntlm_status der_oid_text(struct ntlm_reader v, char out[SPNEGO_OID_MAX])
{
	size_t used = 0;
	bool first = true;

	if (ntlm_reader_left(&v) == 0)
		return NTLM_ERR_BAD_ENCODING;
	while (ntlm_reader_left(&v) > 0) {
		uint32_t arc = 0;
		uint8_t b;
		int n;

		do {
			if (ntlm_read_u8(&v, &b) != NTLM_OK)
				return NTLM_ERR_TRUNCATED;
			if ((arc == 0 && b == 0x80u) || arc > (UINT32_MAX >> 7)) /* not minimal, or too big */
				return NTLM_ERR_BAD_ENCODING;
			arc = arc << 7 | (b & 0x7Fu);
		} while (b & 0x80u);
		if (first) {
			uint32_t top = arc < 80 ? arc / 40 : 2;

			n = snprintf(out, SPNEGO_OID_MAX, "%u.%u", (unsigned)top, (unsigned)(arc - 40 * top));
			first = false;
		} else {
			n = snprintf(out + used, SPNEGO_OID_MAX - used, ".%u", (unsigned)arc);
		}
		if (n < 0 || (size_t)n >= SPNEGO_OID_MAX - used)
			return NTLM_ERR_BAD_ENCODING;
		used += (size_t)n;
	}
	return NTLM_OK;
}

/* A small non-negative INTEGER or ENUMERATED (X.690 8.3) of up to 4 octets. */
static enum ntlm_status der_int(struct ntlm_reader v, int32_t *ret)
{
	uint32_t u = 0;
	size_t n = ntlm_reader_left(&v);
	uint8_t b;

	if (n == 0 || n > 4)
		return NTLM_ERR_BAD_ENCODING;
	for (size_t i = 0; i < n; i++) {
		if (ntlm_read_u8(&v, &b) != NTLM_OK)
			return NTLM_ERR_TRUNCATED;
		if (i == 0 && (b & 0x80u))
			u = UINT32_MAX; /* negative: sign-extend */
		u = u << 8 | b;
	}
	*ret = (int32_t)u;
	return NTLM_OK;
}

/* Appends a GeneralString to buf (size n): printable ASCII kept, anything
 * else shown as '?', cut with "..." when it does not fit. */
static void append_text(char *buf, size_t n, struct ntlm_reader v)
{
	size_t used = strlen(buf);
	uint8_t b;

	while (ntlm_read_u8(&v, &b) == NTLM_OK) {
		if (used + 1 >= n) {
			if (n >= 4)
				memcpy(buf + n - 4, "...", 4);
			return;
		}
		buf[used++] = b >= 0x20u && b < 0x7Fu ? (char)b : '?';
		buf[used] = '\0';
	}
}

/* Calls field(ctx, n, &value) for each [n] EXPLICIT field of the SEQUENCE
 * that fills r: NegTokenInit, NegTokenResp, Ticket, PrincipalName and
 * EncryptedData are all built that way. */
typedef enum ntlm_status (*field_fn)(void *ctx, unsigned n, struct der *value);

/* The fields in the contents of a SEQUENCE. */
static enum ntlm_status seq_fields(struct ntlm_reader *contents, field_fn field, void *ctx)
{
	struct der f, v;
	enum ntlm_status st;

	while (ntlm_reader_left(contents) > 0) {
		if ((st = der_next(contents, &f)) != NTLM_OK)
			return st;
		if ((f.tag & 0xE0u) != DER_CTX(0))
			return NTLM_ERR_BAD_ENCODING;
		if ((st = der_only(&f.value, &v)) != NTLM_OK ||
		    (st = field(ctx, f.tag & DER_TAG_NUMBER, &v)) != NTLM_OK)
			return st;
	}
	return NTLM_OK;
}

/* The SEQUENCE that fills r, field by field. */
static enum ntlm_status tagged_fields(struct ntlm_reader *r, field_fn field, void *ctx)
{
	struct der seq;
	enum ntlm_status st;

	if ((st = der_only(r, &seq)) != NTLM_OK)
		return st;
	return seq.tag == DER_SEQUENCE ? seq_fields(&seq.value, field, ctx) : NTLM_ERR_BAD_ENCODING;
}

/* ------------------------------------------------------------------ */
/* Recognition                                                         */
/* ------------------------------------------------------------------ */

struct unwrap {
	struct spnego_token *t;
	bool form_set;
};

static enum ntlm_status recognise(struct unwrap *u, const uint8_t *p, size_t len, const char *hint,
                                  unsigned depth);

/* The outermost wrapping is the one reported. */
static void set_form(struct unwrap *u, enum spnego_form form)
{
	if (!u->form_set)
		u->t->form = form;
	u->form_set = true;
}

static bool is_krb5_oid(const char *oid)
{
	return strcmp(oid, SPNEGO_OID_KRB5) == 0 || strcmp(oid, SPNEGO_OID_MS_KRB5) == 0 ||
	       strcmp(oid, SPNEGO_OID_KRB5_U2U) == 0;
}

/* RFC 4120 5.2.2 PrincipalName ::= SEQUENCE { name-type [0], name-string [1]
 * SEQUENCE OF KerberosString }: the components joined with '/'. */
static enum ntlm_status principal_field(void *ctx, unsigned n, struct der *v)
{
	struct spnego_token *t = ctx;
	struct der name;
	enum ntlm_status st;

	if (n != 1)
		return NTLM_OK;
	if (v->tag != DER_SEQUENCE)
		return NTLM_ERR_BAD_ENCODING;
	while (ntlm_reader_left(&v->value) > 0) {
		if ((st = der_expect(&v->value, DER_GENERAL_STR, &name)) != NTLM_OK)
			return st;
		if (t->krb_sname[0] != '\0')
			append_text(t->krb_sname, sizeof(t->krb_sname),
			            (struct ntlm_reader){(const uint8_t *)"/", 1, 0});
		append_text(t->krb_sname, sizeof(t->krb_sname), name.value);
	}
	return NTLM_OK;
}

/* RFC 4120 5.2.9 EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1], cipher [2] } */
static enum ntlm_status enc_part_field(void *ctx, unsigned n, struct der *v)
{
	struct spnego_token *t = ctx;

	if (n != 0)
		return NTLM_OK;
	return v->tag == DER_INTEGER ? der_int(v->value, &t->krb_etype) : NTLM_ERR_BAD_ENCODING;
}

/* RFC 4120 5.3 Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1],
 * sname [2] PrincipalName, enc-part [3] EncryptedData } */
static enum ntlm_status ticket_field(void *ctx, unsigned n, struct der *v)
{
	struct spnego_token *t = ctx;

	switch (n) {
	case 1:
		if (v->tag != DER_GENERAL_STR)
			return NTLM_ERR_BAD_ENCODING;
		append_text(t->krb_realm, sizeof(t->krb_realm), v->value);
		return NTLM_OK;
	case 2:
	case 3:
		return v->tag == DER_SEQUENCE
		           ? seq_fields(&v->value, n == 2 ? principal_field : enc_part_field, t)
		           : NTLM_ERR_BAD_ENCODING;
	default:
		return NTLM_OK;
	}
}

static enum ntlm_status krb_ticket(struct spnego_token *t, struct ntlm_reader *r)
{
	struct der app;
	enum ntlm_status st;

	if ((st = der_only(r, &app)) != NTLM_OK)
		return st;
	if (app.tag != DER_APP(KRB_TICKET))
		return NTLM_ERR_BAD_ENCODING;
	return tagged_fields(&app.value, ticket_field, t);
}

/* A bare Kerberos message (RFC 4120 5.10: [APPLICATION n]); for an AP-REQ
 * (5.5.1) the ticket's realm, service name and etype are decoded. */
static enum ntlm_status krb_message(struct unwrap *u, const uint8_t *p, size_t len)
{
	struct spnego_token *t = u->t;
	struct ntlm_reader r;
	struct der app, seq, f;
	enum ntlm_status st;

	ntlm_reader_init(&r, p, len);
	if ((st = der_only(&r, &app)) != NTLM_OK)
		return st;
	if ((app.tag & 0xE0u) != 0x60u || (app.tag & DER_TAG_NUMBER) < KRB_AS_REQ ||
	    (app.tag & DER_TAG_NUMBER) > KRB_MAX_APP)
		return NTLM_ERR_BAD_SIGNATURE;
	t->kind = SPNEGO_KIND_KERBEROS;
	t->inner = (struct ntlm_view){p, len};
	t->krb_msg_type = app.tag & DER_TAG_NUMBER;
	set_form(u, SPNEGO_FORM_RAW);
	if (t->krb_msg_type != KRB_AP_REQ)
		return NTLM_OK;
	/* AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0], msg-type [1],
	 * ap-options [2], ticket [3], authenticator [4] } */
	if ((st = der_only(&app.value, &seq)) != NTLM_OK)
		return st;
	if (seq.tag != DER_SEQUENCE)
		return NTLM_ERR_BAD_ENCODING;
	while (ntlm_reader_left(&seq.value) > 0) {
		if ((st = der_next(&seq.value, &f)) != NTLM_OK)
			return st;
		if (f.tag == DER_CTX(3))
			return krb_ticket(t, &f.value);
	}
	return NTLM_OK;
}

/* The inner token of SPNEGO, recognised with the mechanism OID it is
 * announced under as a hint: an unknown token is then taken for what the
 * OID says. */
static enum ntlm_status inner_token(struct unwrap *u, struct ntlm_view token, const char *hint,
                                    unsigned depth)
{
	struct spnego_token *t = u->t;
	enum ntlm_status st;

	if (token.len == 0) {
		/* no token: only the mechanism list tells what the peer wants */
		t->kind = hint == NULL                            ? SPNEGO_KIND_OTHER
		          : is_krb5_oid(hint)                     ? SPNEGO_KIND_KERBEROS
		          : strcmp(hint, SPNEGO_OID_NTLMSSP) == 0 ? SPNEGO_KIND_NTLMSSP
		                                                  : SPNEGO_KIND_OTHER;
		return NTLM_OK;
	}
	st = recognise(u, token.data, token.len, hint, depth + 1);
	if (st != NTLM_ERR_BAD_SIGNATURE || hint == NULL || strcmp(hint, SPNEGO_OID_NTLMSSP) == 0)
		return st;
	/* a token of another mechanism (NegoEx, ...) or a Kerberos token we could not read */
	t->kind = is_krb5_oid(hint) ? SPNEGO_KIND_KERBEROS : SPNEGO_KIND_OTHER;
	t->inner = token;
	snprintf(t->inner_mech, sizeof(t->inner_mech), "%s", hint);
	return NTLM_OK;
}

/* What the fields of a NegTokenInit / NegTokenResp leave for the inner token. */
struct neg_fields {
	struct spnego_token *t;
	struct ntlm_view token; /* mechToken / responseToken */
};

/* RFC 4178 4.2.1 NegTokenInit ::= SEQUENCE { mechTypes [0], reqFlags [1],
 * mechToken [2] OCTET STRING, mechListMIC [3] } and Microsoft's
 * NegTokenInit2 (MS-SPNG 2.2.1: negHints [3], mechListMIC [4]). */
static enum ntlm_status init_field(void *ctx, unsigned n, struct der *v)
{
	struct neg_fields *c = ctx;
	struct spnego_token *t = c->t;
	struct der oid;
	enum ntlm_status st;

	if (n == 0) {
		if (v->tag != DER_SEQUENCE)
			return NTLM_ERR_BAD_ENCODING;
		while (ntlm_reader_left(&v->value) > 0) {
			if (t->n_mechs == SPNEGO_MAX_MECHS)
				return NTLM_ERR_BAD_ENCODING;
			if ((st = der_expect(&v->value, DER_OID, &oid)) != NTLM_OK ||
			    (st = der_oid_text(oid.value, t->mech_types[t->n_mechs])) != NTLM_OK)
				return st;
			t->n_mechs++;
		}
	} else if (n == 2) {
		if (v->tag != DER_OCTET)
			return NTLM_ERR_BAD_ENCODING;
		c->token = der_view(v);
	} else if ((n == 3 || n == 4) && v->tag == DER_OCTET) {
		t->mech_list_mic = der_view(v);
	}
	/* reqFlags, negHints: not needed */
	return NTLM_OK;
}

/* RFC 4178 4.2.2 NegTokenResp ::= SEQUENCE { negState [0] ENUMERATED,
 * supportedMech [1], responseToken [2] OCTET STRING, mechListMIC [3] } */
static enum ntlm_status resp_field(void *ctx, unsigned n, struct der *v)
{
	static const uint8_t tags[] = {DER_ENUMERATED, DER_OID, DER_OCTET, DER_OCTET};
	struct neg_fields *c = ctx;
	struct spnego_token *t = c->t;
	int32_t state;
	enum ntlm_status st;

	if (n >= sizeof(tags) || v->tag != tags[n])
		return NTLM_ERR_BAD_ENCODING;
	switch (n) {
	case 0:
		if ((st = der_int(v->value, &state)) != NTLM_OK)
			return st;
		t->has_neg_state = true;
		t->neg_state = (unsigned)state;
		return NTLM_OK;
	case 1:
		return der_oid_text(v->value, t->supported_mech);
	case 2:
		c->token = der_view(v);
		return NTLM_OK;
	default:
		t->mech_list_mic = der_view(v);
		return NTLM_OK;
	}
}

static enum ntlm_status neg_token(struct unwrap *u, struct ntlm_reader *r, bool init, unsigned depth)
{
	struct spnego_token *t = u->t;
	struct neg_fields c = {t, {NULL, 0}};
	const char *hint;
	enum ntlm_status st;

	set_form(u, init ? SPNEGO_FORM_NEG_TOKEN_INIT : SPNEGO_FORM_NEG_TOKEN_RESP);
	if ((st = tagged_fields(r, init ? init_field : resp_field, &c)) != NTLM_OK)
		return st;
	if (init)
		hint = t->n_mechs > 0 ? t->mech_types[0] : NULL;
	else
		hint = t->supported_mech[0] ? t->supported_mech : NULL;
	return inner_token(u, c.token, hint, depth);
}

/* RFC 4178 4.2 NegotiationToken ::= CHOICE { negTokenInit [0], negTokenResp [1] } */
static enum ntlm_status negotiation_token(struct unwrap *u, struct ntlm_reader *r, unsigned depth)
{
	struct der choice;
	enum ntlm_status st;

	if ((st = der_only(r, &choice)) != NTLM_OK)
		return st;
	if (choice.tag != DER_CTX(0) && choice.tag != DER_CTX(1))
		return NTLM_ERR_BAD_ENCODING;
	return neg_token(u, &choice.value, choice.tag == DER_CTX(0), depth + 1);
}

/* RFC 2743 3.1 InitialContextToken ::= [APPLICATION 0] IMPLICIT SEQUENCE {
 * thisMech MechType, innerContextToken ANY } */
static enum ntlm_status gss_token(struct unwrap *u, const uint8_t *p, size_t len, unsigned depth)
{
	struct spnego_token *t = u->t;
	struct ntlm_reader r;
	struct der app, oid;
	char mech[SPNEGO_OID_MAX];
	enum ntlm_status st;

	ntlm_reader_init(&r, p, len);
	if ((st = der_only(&r, &app)) != NTLM_OK || (st = der_expect(&app.value, DER_OID, &oid)) != NTLM_OK ||
	    (st = der_oid_text(oid.value, mech)) != NTLM_OK)
		return st;
	if (!u->form_set)
		t->gss_header = true;
	if (strcmp(mech, SPNEGO_OID_SPNEGO) == 0)
		return negotiation_token(u, &app.value, depth);
	set_form(u, SPNEGO_FORM_GSS_MECH);
	snprintf(t->inner_mech, sizeof(t->inner_mech), "%s", mech);
	if (is_krb5_oid(mech)) {
		/* RFC 1964 1.1: a two-byte TOK_ID, then the Kerberos message */
		uint8_t id[2];

		if ((st = ntlm_read_bytes(&app.value, id, sizeof(id))) != NTLM_OK)
			return st;
		t->krb_tok_id = (uint16_t)(id[0] << 8 | id[1]);
		st = krb_message(u, app.value.data + app.value.pos, ntlm_reader_left(&app.value));
		snprintf(t->inner_mech, sizeof(t->inner_mech), "%s", mech);
		return st;
	}
	return inner_token(
	    u, (struct ntlm_view){app.value.data + app.value.pos, ntlm_reader_left(&app.value)}, mech, depth);
}

static enum ntlm_status recognise(struct unwrap *u, const uint8_t *p, size_t len, const char *hint,
                                  unsigned depth)
{
	struct spnego_token *t = u->t;
	struct ntlm_reader r;

	if (depth > SPNEGO_MAX_DEPTH)
		return NTLM_ERR_BAD_ENCODING;
	if (len >= sizeof(ntlmssp_signature) &&
	    memcmp(p, ntlmssp_signature, sizeof(ntlmssp_signature)) == 0) { /* not secret: a signature */
		set_form(u, SPNEGO_FORM_RAW);
		t->kind = SPNEGO_KIND_NTLMSSP;
		t->inner = (struct ntlm_view){p, len};
		snprintf(t->inner_mech, sizeof(t->inner_mech), "%s", SPNEGO_OID_NTLMSSP);
		return NTLM_OK;
	}
	if (len == 0)
		return NTLM_ERR_TRUNCATED;
	ntlm_reader_init(&r, p, len);
	switch (p[0]) {
	case DER_APP(0):
		return gss_token(u, p, len, depth);
	case DER_CTX(0):
	case DER_CTX(1):
		return negotiation_token(u, &r, depth);
	default:
		break;
	}
	if ((p[0] & 0xE0u) == 0x60u) {
		enum ntlm_status st = krb_message(u, p, len);

		if (st == NTLM_OK && hint != NULL && is_krb5_oid(hint))
			snprintf(t->inner_mech, sizeof(t->inner_mech), "%s", hint);
		return st;
	}
	return NTLM_ERR_BAD_SIGNATURE;
}

enum ntlm_status ntlm_spnego_unwrap(const uint8_t *p, size_t len, struct spnego_token *ret)
{
	struct spnego_token t;
	struct unwrap u = {&t, false};
	enum ntlm_status st;

	if ((p == NULL && len > 0) || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (len > SPNEGO_MAX_TOKEN)
		return NTLM_ERR_MESSAGE_TOO_LONG;
	memset(&t, 0, sizeof(t));
	t.krb_etype = -1;
	st = recognise(&u, p, len, NULL, 0);
	if (st == NTLM_OK)
		*ret = t;
	return st;
}

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

/* names[v] of a table of n names, or unknown outside it. */
static const char *table_name(const char *const *names, size_t n, unsigned v, const char *unknown)
{
	return v < n && names[v] != NULL ? names[v] : unknown;
}

const char *ntlm_spnego_kind_name(enum spnego_kind kind)
{
	static const char *const names[] = {[SPNEGO_KIND_NTLMSSP] = "NTLMSSP",
	                                    [SPNEGO_KIND_KERBEROS] = "Kerberos",
	                                    [SPNEGO_KIND_OTHER] = "other"};

	return table_name(names, sizeof(names) / sizeof(names[0]), (unsigned)kind, "other");
}

const char *ntlm_spnego_form_name(enum spnego_form form)
{
	static const char *const names[] = {
	    [SPNEGO_FORM_RAW] = "raw",
	    [SPNEGO_FORM_GSS_MECH] = "GSS-API",
	    [SPNEGO_FORM_NEG_TOKEN_INIT] = "NegTokenInit",
	    [SPNEGO_FORM_NEG_TOKEN_RESP] = "NegTokenResp",
	};

	return table_name(names, sizeof(names) / sizeof(names[0]), (unsigned)form, "unknown");
}

const char *ntlm_spnego_neg_state_name(unsigned state)
{
	static const char *const names[] = {"accept-completed", "accept-incomplete", "reject", "request-mic"};

	return table_name(names, sizeof(names) / sizeof(names[0]), state, "unknown");
}

const char *ntlm_spnego_mech_name(const char *oid)
{
	static const struct {
		const char *oid, *name;
	} mechs[] = {
	    {SPNEGO_OID_SPNEGO, "SPNEGO"},
	    {SPNEGO_OID_NTLMSSP, "NTLMSSP"},
	    {SPNEGO_OID_KRB5, "Kerberos 5"},
	    {SPNEGO_OID_MS_KRB5, "Microsoft Kerberos 5"},
	    {SPNEGO_OID_KRB5_U2U, "Kerberos 5 user-to-user"},
	    {SPNEGO_OID_NEGOEX, "NegoEx"},
	};

	for (size_t i = 0; oid != NULL && i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strcmp(oid, mechs[i].oid) == 0)
			return mechs[i].name;
	return NULL;
}

const char *ntlm_spnego_krb_msg_name(unsigned msg_type)
{
	/* RFC 4120 5.10 */
	static const char *const names[] = {
	    [10] = "AS-REQ",         [11] = "AS-REP",           [12] = "TGS-REQ",  [13] = "TGS-REP",
	    [KRB_AP_REQ] = "AP-REQ", [KRB_AP_REP] = "AP-REP",   [20] = "KRB-SAFE", [21] = "KRB-PRIV",
	    [22] = "KRB-CRED",       [KRB_ERROR] = "KRB-ERROR",
	};

	return table_name(names, sizeof(names) / sizeof(names[0]), msg_type, NULL);
}

/* ------------------------------------------------------------------ */
/* Encoding of the server's SPNEGO tokens (RFC 4178 4.2)               */

/* DER of the NTLMSSP mechanism OID 1.3.6.1.4.1.311.2.2.10 */
static const uint8_t ntlmssp_oid_der[] = {0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0A};
/* DER of the SPNEGO OID 1.3.6.1.5.5.2 */
static const uint8_t spnego_oid_der[] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x02};

/* Octets of a definite length (X.690 8.1.3.3 / 8.1.3.5). */
static size_t der_length_size(size_t n)
{
	size_t size = 1;

	for (size_t v = n; n >= 0x80 && v > 0; v >>= 8)
		size++;
	return size;
}

static size_t der_tlv_size(size_t n)
{
	return 1 + der_length_size(n) + n;
}

static void der_put_header(struct ntlm_writer *w, uint8_t tag, size_t n)
{
	size_t octets = der_length_size(n) - 1;

	ntlm_write_u8(w, tag);
	if (octets == 0) {
		ntlm_write_u8(w, (uint8_t)n);
		return;
	}
	ntlm_write_u8(w, (uint8_t)(0x80u | octets));
	for (size_t i = octets; i > 0; i--)
		ntlm_write_u8(w, (uint8_t)(n >> (8 * (i - 1))));
}

/* [ctx] { inner_tag { p[0..n) } } */
static void der_put_explicit(struct ntlm_writer *w, uint8_t ctx_tag, uint8_t inner_tag, const uint8_t *p,
                             size_t n)
{
	der_put_header(w, ctx_tag, der_tlv_size(n));
	der_put_header(w, inner_tag, n);
	ntlm_write_bytes(w, p, n);
}

/* NegotiationToken ::= negTokenResp [1] NegTokenResp ::= SEQUENCE { negState [0]
 * (when has_state), supportedMech [1] (NTLMSSP, when supported_mech),
 * responseToken [2] (when token), mechListMIC [3] (when mic) } */
static enum ntlm_status encode_resp(bool has_state, enum spnego_neg_state state, bool supported_mech,
                                    const uint8_t *token, size_t token_len, const uint8_t *mic,
                                    size_t mic_len, uint8_t **ret, size_t *ret_len)
{
	struct ntlm_writer w;
	const uint8_t enumerated = (uint8_t)state;
	size_t fields = 0;

	if ((token_len > 0 && token == NULL) || (mic_len > 0 && mic == NULL) ||
	    token_len > SPNEGO_MAX_TOKEN || mic_len > SPNEGO_MAX_TOKEN)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (has_state)
		fields += der_tlv_size(der_tlv_size(1));
	if (supported_mech)
		fields += der_tlv_size(der_tlv_size(sizeof(ntlmssp_oid_der)));
	if (token != NULL)
		fields += der_tlv_size(der_tlv_size(token_len));
	if (mic != NULL)
		fields += der_tlv_size(der_tlv_size(mic_len));
	ntlm_writer_init(&w, der_tlv_size(der_tlv_size(fields)));
	der_put_header(&w, DER_CTX(1), der_tlv_size(fields));
	der_put_header(&w, DER_SEQUENCE, fields);
	if (has_state)
		der_put_explicit(&w, DER_CTX(0), DER_ENUMERATED, &enumerated, 1);
	if (supported_mech)
		der_put_explicit(&w, DER_CTX(1), DER_OID, ntlmssp_oid_der, sizeof(ntlmssp_oid_der));
	if (token != NULL)
		der_put_explicit(&w, DER_CTX(2), DER_OCTET, token, token_len);
	if (mic != NULL)
		der_put_explicit(&w, DER_CTX(3), DER_OCTET, mic, mic_len);
	return ntlm_writer_finish(&w, ret, ret_len);
}

enum ntlm_status ntlm_spnego_encode_resp(enum spnego_neg_state state, bool supported_mech,
                                         const uint8_t *token, size_t token_len, const uint8_t *mic,
                                         size_t mic_len, uint8_t **ret, size_t *ret_len)
{
	return encode_resp(true, state, supported_mech, token, token_len, mic, mic_len, ret, ret_len);
}

enum ntlm_status ntlm_spnego_encode_client_resp(const uint8_t *token, size_t token_len, const uint8_t *mic,
                                                size_t mic_len, uint8_t **ret, size_t *ret_len)
{
	return encode_resp(false, SPNEGO_ACCEPT_COMPLETED, false, token, token_len, mic, mic_len, ret,
	                   ret_len);
}

/* RFC 4178 4.2.1 MechTypeList ::= SEQUENCE OF MechType, NTLMSSP only: the
 * bytes the mechListMIC covers (RFC 4178 5). */
static const uint8_t mech_list_ntlmssp[] = {0x30, 0x0C, 0x06, 0x0A, 0x2B, 0x06, 0x01,
                                            0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0A};

const uint8_t *ntlm_spnego_mech_list_ntlmssp(size_t *ret_len)
{
	*ret_len = sizeof(mech_list_ntlmssp);
	return mech_list_ntlmssp;
}

enum ntlm_status ntlm_spnego_encode_init(const uint8_t *token, size_t token_len, uint8_t **ret,
                                         size_t *ret_len)
{
	struct ntlm_writer w;
	size_t mech_types = der_tlv_size(sizeof(mech_list_ntlmssp)); /* [0] MechTypeList */
	size_t fields, init, inner;

	if ((token_len > 0 && token == NULL) || token_len > SPNEGO_MAX_TOKEN)
		return NTLM_ERR_INVALID_ARGUMENT;
	fields = mech_types + (token != NULL ? der_tlv_size(der_tlv_size(token_len)) : 0);
	init = der_tlv_size(der_tlv_size(fields)); /* [0] NegTokenInit SEQUENCE */
	inner = der_tlv_size(sizeof(spnego_oid_der)) + init;
	ntlm_writer_init(&w, der_tlv_size(inner));
	/* RFC 2743 3.1 InitialContextToken: [APPLICATION 0] thisMech innerContextToken */
	der_put_header(&w, DER_APP(0), inner);
	der_put_header(&w, DER_OID, sizeof(spnego_oid_der));
	ntlm_write_bytes(&w, spnego_oid_der, sizeof(spnego_oid_der));
	der_put_header(&w, DER_CTX(0), der_tlv_size(fields));
	der_put_header(&w, DER_SEQUENCE, fields);
	der_put_header(&w, DER_CTX(0), sizeof(mech_list_ntlmssp));
	ntlm_write_bytes(&w, mech_list_ntlmssp, sizeof(mech_list_ntlmssp));
	if (token != NULL)
		der_put_explicit(&w, DER_CTX(2), DER_OCTET, token, token_len);
	return ntlm_writer_finish(&w, ret, ret_len);
}

enum ntlm_status ntlm_spnego_encode_init_ntlmssp(uint8_t **ret, size_t *ret_len)
{
	return ntlm_spnego_encode_init(NULL, 0, ret, ret_len);
}
