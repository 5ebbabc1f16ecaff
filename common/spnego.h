/*
 * spnego.h: recognises what an HTTP Negotiate / SPNEGO token carries.
 *
 * ntlm_spnego_unwrap() takes the bytes of an authentication token as a
 * client or server sent them (Authorization: Negotiate, Squid YR/KK lines,
 * SMB security blobs) and says what they are:
 *
 *   - a bare NTLMSSP message ("NTLMSSP\0" ...);
 *   - a GSS-API InitialContextToken (RFC 2743 3.1, tag 0x60) whose mechanism
 *     is SPNEGO (1.3.6.1.5.5.2), Kerberos (1.2.840.113554.1.2.2, or
 *     Microsoft's 1.2.840.48018.1.2.2) or NTLMSSP (1.3.6.1.4.1.311.2.2.10);
 *   - a bare SPNEGO NegotiationToken (RFC 4178 4.2): NegTokenInit [0] or
 *     NegTokenResp [1], as sent after the first leg;
 *   - a bare Kerberos message (RFC 4120 5.5.1 AP-REQ [APPLICATION 14],
 *     AP-REP, KRB-ERROR), as impacket puts in its mechToken.
 *
 * SPNEGO is unwrapped to its mechToken / responseToken, which is then
 * recognised in turn; the kind is NTLMSSP, KERBEROS or OTHER. For Kerberos
 * the realm and service name of the ticket are decoded when the token is an
 * AP-REQ, since a wrong SPN is what admins look for.
 *
 * All parsing goes through the bounded ntlm_reader: every DER length is
 * checked against what is left, the nesting depth and the token size are
 * capped, and no byte outside the input is ever read. Views in the result
 * borrow from the input buffer.
 */
#ifndef PAM_NTLM_COMMON_SPNEGO_H
#define PAM_NTLM_COMMON_SPNEGO_H

#include "ntlmssp.h"

/* Caps: a Kerberos ticket with a large PAC stays well below 64 KiB (Windows'
 * MaxTokenSize is 48000 bytes). */
#define SPNEGO_MAX_TOKEN 65536
#define SPNEGO_MAX_DEPTH 8  /* nested GSS / SPNEGO / DER levels */
#define SPNEGO_MAX_MECHS 16 /* mechTypes entries */
#define SPNEGO_OID_MAX   64 /* dotted OID text, with its NUL */

/* OIDs in dotted form */
#define SPNEGO_OID_SPNEGO   "1.3.6.1.5.5.2"
#define SPNEGO_OID_NTLMSSP  "1.3.6.1.4.1.311.2.2.10"
#define SPNEGO_OID_KRB5     "1.2.840.113554.1.2.2"
#define SPNEGO_OID_MS_KRB5  "1.2.840.48018.1.2.2"
#define SPNEGO_OID_KRB5_U2U "1.2.840.113554.1.2.2.3"
#define SPNEGO_OID_NEGOEX   "1.3.6.1.4.1.311.2.2.30"

/* What the token finally carries. */
enum spnego_kind {
	SPNEGO_KIND_NTLMSSP = 0,
	SPNEGO_KIND_KERBEROS,
	SPNEGO_KIND_OTHER, /* another mechanism, or no inner token at all */
};

/* The outermost wrapping that was found. */
enum spnego_form {
	SPNEGO_FORM_RAW = 0,        /* a bare NTLMSSP or Kerberos message */
	SPNEGO_FORM_GSS_MECH,       /* GSS-API InitialContextToken of a mechanism (krb5, NTLMSSP) */
	SPNEGO_FORM_NEG_TOKEN_INIT, /* SPNEGO NegTokenInit (with or without the GSS-API header) */
	SPNEGO_FORM_NEG_TOKEN_RESP, /* SPNEGO NegTokenResp */
};

/* RFC 4178 4.2.2 negState */
enum spnego_neg_state {
	SPNEGO_ACCEPT_COMPLETED = 0,
	SPNEGO_ACCEPT_INCOMPLETE = 1,
	SPNEGO_REJECT = 2,
	SPNEGO_REQUEST_MIC = 3,
};

struct spnego_token {
	enum spnego_kind kind;
	enum spnego_form form;
	bool gss_header; /* the token started with the GSS-API header (0x60) */

	/* NegTokenInit */
	size_t n_mechs;
	char mech_types[SPNEGO_MAX_MECHS][SPNEGO_OID_MAX];
	/* NegTokenResp */
	bool has_neg_state;
	unsigned neg_state;
	char supported_mech[SPNEGO_OID_MAX]; /* "" when absent */
	struct ntlm_view mech_list_mic;      /* empty when absent */

	/* The mechanism token: mechToken / responseToken, or the whole input for
	 * a bare message. For Kerberos, the krb5 message (AP-REQ, ...) without
	 * any GSS-API header. Empty when the token carries none. */
	struct ntlm_view inner;
	char inner_mech[SPNEGO_OID_MAX]; /* the OID the inner token was recognised by, "" if none */

	/* Kerberos (kind KERBEROS) */
	unsigned krb_msg_type; /* RFC 4120 application tag: 14 AP-REQ, 15 AP-REP, 30 KRB-ERROR */
	uint16_t krb_tok_id;   /* RFC 1964 1.1 TOK_ID when GSS-wrapped: 0x0100 AP-REQ, ... ; 0 if none */
	char krb_realm[128];   /* ticket realm of an AP-REQ, "" when not decoded */
	char krb_sname[256];   /* ticket service name, components joined by '/', "" when not decoded */
	int32_t krb_etype;     /* ticket enc-part etype; -1 when not decoded */
};

/*
 * Recognises and unwraps a token (see above). Errors: NTLM_ERR_TRUNCATED or
 * NTLM_ERR_BAD_ENCODING for malformed DER, NTLM_ERR_TRAILING_DATA for bytes
 * after the outer element, NTLM_ERR_MESSAGE_TOO_LONG over SPNEGO_MAX_TOKEN,
 * NTLM_ERR_BAD_SIGNATURE when the bytes are neither NTLMSSP nor DER of any
 * known form. *ret is written only on success.
 */
enum ntlm_status ntlm_spnego_unwrap(const uint8_t *p, size_t len, struct spnego_token *ret) NTLM_MUST_USE;

/* "NTLMSSP", "Kerberos", "other" */
const char *ntlm_spnego_kind_name(enum spnego_kind kind);
/* "NegTokenInit", ... */
const char *ntlm_spnego_form_name(enum spnego_form form);
/* "accept-completed", "accept-incomplete", "reject", "request-mic", "unknown" */
const char *ntlm_spnego_neg_state_name(unsigned state);
/* A name for a known mechanism OID ("Kerberos 5", "NTLMSSP", ...), or NULL. */
const char *ntlm_spnego_mech_name(const char *oid);
/* "AP-REQ", "AP-REP", "KRB-ERROR", ... for a Kerberos application tag, or NULL. */
const char *ntlm_spnego_krb_msg_name(unsigned msg_type);

/*
 * Encodes a NegTokenResp (RFC 4178 4.2.2) as an acceptor sends it: negState
 * state, supportedMech NTLMSSP when supported_mech, responseToken when token
 * is not NULL, mechListMIC when mic is not NULL. Samba's answers for NTLM:
 * accept-incomplete + NTLMSSP + the CHALLENGE, then accept-completed alone
 * (A1 07 30 05 A0 03 0A 01 00). The result is malloc'd.
 */
enum ntlm_status ntlm_spnego_encode_resp(enum spnego_neg_state state, bool supported_mech,
                                         const uint8_t *token, size_t token_len, const uint8_t *mic,
                                         size_t mic_len, uint8_t **ret, size_t *ret_len) NTLM_MUST_USE;

/* The initiator's NegTokenResp after its first token (RFC 4178 4.2.2, as
 * Samba's gss-spnego-client sends it): no negState, no supportedMech; the
 * responseToken when token is not NULL (the AUTHENTICATE), the mechListMIC
 * when mic is not NULL. The result is malloc'd. */
enum ntlm_status ntlm_spnego_encode_client_resp(const uint8_t *token, size_t token_len, const uint8_t *mic,
                                                size_t mic_len, uint8_t **ret, size_t *ret_len) NTLM_MUST_USE;

/* A GSS-API-framed SPNEGO NegTokenInit whose mechTypes are { NTLMSSP }
 * and whose mechToken is token[0..token_len) (the initiator's NEGOTIATE),
 * or which has no mechToken when token is NULL. Byte for byte what Samba's
 * gss-spnego-client sends (YEgGBisGAQUFAqA+MDyg...). The result is malloc'd. */
enum ntlm_status ntlm_spnego_encode_init(const uint8_t *token, size_t token_len, uint8_t **ret,
                                         size_t *ret_len) NTLM_MUST_USE;

/* The DER MechTypeList { NTLMSSP } that both encoders above send: what a
 * mechListMIC covers (RFC 4178 5, MS-SPNG 3.1.5.1). Static bytes. */
const uint8_t *ntlm_spnego_mech_list_ntlmssp(size_t *ret_len);

/* A GSS-API-framed SPNEGO NegTokenInit offering NTLMSSP only (mechTypes
 * { 1.3.6.1.4.1.311.2.2.10 }, no mechToken): the acceptor's first token when
 * the client sent none. The result is malloc'd. */
enum ntlm_status ntlm_spnego_encode_init_ntlmssp(uint8_t **ret, size_t *ret_len) NTLM_MUST_USE;

#endif /* PAM_NTLM_COMMON_SPNEGO_H */
