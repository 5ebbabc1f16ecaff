/*
 * test_helper_unit.c: table-driven unit tests of ntlm_auth's pieces that
 * need no daemon: the SPNEGO encoders (round trip through the unwrapper,
 * every DER length form, the initiator's tokens byte for byte as Samba's),
 * gss-spnego-client against a libntlm acceptor (mechListMICs both ways), Samba's status names/codes/texts,
 * the hex and user-name helpers, and the squid-2.5-basic unescaping with a recording fake of ntlmd.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "helper.h"
#include "protocol.h"
#include "spnego.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* SPNEGO                                                              */

START_TEST(spnego_resp_round_trip)
{
	static const size_t sizes[] = {12, 100, 119, 120, 127, 128, 200, 255, 256, 3000, 65000};

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint8_t *token = calloc(1, sizes[i]), *der = NULL;
		size_t der_len = 0;
		struct spnego_token t;

		ck_assert_ptr_nonnull(token);
		memcpy(token, "NTLMSSP", 8);
		token[sizes[i] - 1] = 0x5a;
		ck_assert_int_eq(ntlm_spnego_encode_resp(SPNEGO_ACCEPT_INCOMPLETE, true, token, sizes[i],
		                                         NULL, 0, &der, &der_len),
		                 NTLM_OK);
		ck_assert_int_eq(ntlm_spnego_unwrap(der, der_len, &t), NTLM_OK);
		ck_assert_int_eq(t.form, SPNEGO_FORM_NEG_TOKEN_RESP);
		ck_assert_int_eq(t.kind, SPNEGO_KIND_NTLMSSP);
		ck_assert(t.has_neg_state);
		ck_assert_uint_eq(t.neg_state, SPNEGO_ACCEPT_INCOMPLETE);
		ck_assert_str_eq(t.supported_mech, SPNEGO_OID_NTLMSSP);
		ck_assert_uint_eq(t.inner.len, sizes[i]);
		ck_assert_mem_eq(t.inner.data, token, sizes[i]);
		free(der);
		free(token);
	}
}
END_TEST

START_TEST(spnego_resp_completed_is_samba_s)
{
	/* Samba's final gss-spnego token: oQcwBaADCgEA */
	static const uint8_t want[] = {0xA1, 0x07, 0x30, 0x05, 0xA0, 0x03, 0x0A, 0x01, 0x00};
	uint8_t *der = NULL;
	size_t der_len = 0;

	ck_assert_int_eq(
	    ntlm_spnego_encode_resp(SPNEGO_ACCEPT_COMPLETED, false, NULL, 0, NULL, 0, &der, &der_len),
	    NTLM_OK);
	ck_assert_uint_eq(der_len, sizeof(want));
	ck_assert_mem_eq(der, want, sizeof(want));
	free(der);
	ck_assert_int_eq(
	    ntlm_spnego_encode_resp(SPNEGO_ACCEPT_COMPLETED, false, NULL, 3, NULL, 0, &der, &der_len),
	    NTLM_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(spnego_init_offers_ntlmssp)
{
	uint8_t *der = NULL;
	size_t der_len = 0;
	struct spnego_token t;

	ck_assert_int_eq(ntlm_spnego_encode_init_ntlmssp(&der, &der_len), NTLM_OK);
	ck_assert_int_eq(ntlm_spnego_unwrap(der, der_len, &t), NTLM_OK);
	ck_assert(t.gss_header);
	ck_assert_int_eq(t.form, SPNEGO_FORM_NEG_TOKEN_INIT);
	ck_assert_uint_eq(t.n_mechs, 1);
	ck_assert_str_eq(t.mech_types[0], SPNEGO_OID_NTLMSSP);
	ck_assert_uint_eq(t.inner.len, 0);
	free(der);
}
END_TEST

/* Samba 4.17's gss-spnego-client, first token (YR), and the NEGOTIATE in it */
static const char samba_init_b64[] =
    "YEgGBisGAQUFAqA+MDygDjAMBgorBgEEAYI3AgIKoioEKE5UTE1TU1AAAQAAAAWCCGIAAAAAKAAAAA"
    "AAAAAoAAAABgEAAAAAAA8=";
static const char samba_negotiate_hex[] =
    "4e544c4d5353500001000000058208620000000028000000000000002800000006010000"
    "0000000f";

static uint8_t *b64(const char *s, size_t *ret_len)
{
	uint8_t *p = NULL;

	ck_assert_int_eq(ntlm_base64_decode(s, strlen(s), &p, ret_len), NTLM_OK);
	return p;
}

static bool contains(const uint8_t *p, size_t n, const uint8_t *q, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(p + i, q, m) == 0)
			return true;
	return false;
}

/* The initiator's NegTokenInit is Samba's, byte for byte; without a token
 * it is the acceptor's NTLMSSP-only offer. */
START_TEST(spnego_client_init_is_samba_s)
{
	size_t want_len, neg_len, der_len, bare_len, list_len;
	uint8_t *want = b64(samba_init_b64, &want_len);
	uint8_t *neg = test_hex(samba_negotiate_hex, &neg_len);
	uint8_t *der = NULL, *bare = NULL;
	const uint8_t *list = ntlm_spnego_mech_list_ntlmssp(&list_len);
	struct spnego_token t;

	ck_assert_int_eq(ntlm_spnego_encode_init(neg, neg_len, &der, &der_len), NTLM_OK);
	ck_assert_uint_eq(der_len, want_len);
	ck_assert_mem_eq(der, want, want_len);
	ck_assert_int_eq(ntlm_spnego_unwrap(der, der_len, &t), NTLM_OK);
	ck_assert(t.gss_header);
	ck_assert_int_eq(t.form, SPNEGO_FORM_NEG_TOKEN_INIT);
	ck_assert_int_eq(t.kind, SPNEGO_KIND_NTLMSSP);
	ck_assert_uint_eq(t.n_mechs, 1);
	ck_assert_str_eq(t.mech_types[0], SPNEGO_OID_NTLMSSP);
	ck_assert_uint_eq(t.inner.len, neg_len);
	ck_assert_mem_eq(t.inner.data, neg, neg_len);
	/* the MechTypeList a mechListMIC covers is the one inside the token */
	ck_assert_hex_eq(list, list_len, "300c060a2b06010401823702020a");
	ck_assert(contains(der, der_len, list, list_len));
	ck_assert_int_eq(ntlm_spnego_encode_init(NULL, 0, &bare, &bare_len), NTLM_OK);
	free(der);
	ck_assert_int_eq(ntlm_spnego_encode_init_ntlmssp(&der, &der_len), NTLM_OK);
	ck_assert_uint_eq(der_len, bare_len);
	ck_assert_mem_eq(der, bare, bare_len);
	ck_assert_int_eq(ntlm_spnego_encode_init(NULL, 3, &bare, &bare_len), NTLM_ERR_INVALID_ARGUMENT);
	free(der);
	free(bare);
	free(neg);
	free(want);
}
END_TEST

/* The initiator's NegTokenResp: no negState, no supportedMech (Samba's
 * form, A1 82 01 44 30 82 01 40 A2 82 01 3C 04 82 01 38 for a 312-byte
 * AUTHENTICATE), every length form, with and without a mechListMIC. */
START_TEST(spnego_client_resp_round_trip)
{
	static const size_t sizes[] = {12, 100, 127, 128, 255, 256, 312, 1000, 60000};
	static const uint8_t mic[16] = {1, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0, 0, 0};
	uint8_t *token = calloc(1, 65536);

	ck_assert_ptr_nonnull(token);
	memcpy(token, "NTLMSSP\0\3\0\0\0", 12);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (int with_mic = 0; with_mic < 2; with_mic++) {
			uint8_t *der = NULL;
			size_t der_len = 0;
			struct spnego_token t;

			ck_assert_int_eq(
			    ntlm_spnego_encode_client_resp(token, sizes[i], with_mic ? mic : NULL,
			                                   with_mic ? sizeof(mic) : 0, &der, &der_len),
			    NTLM_OK);
			if (sizes[i] == 312 && !with_mic)
				ck_assert_hex_eq(der, 16, "a182014430820140a282013c04820138");
			ck_assert_int_eq(ntlm_spnego_unwrap(der, der_len, &t), NTLM_OK);
			ck_assert_int_eq(t.form, SPNEGO_FORM_NEG_TOKEN_RESP);
			ck_assert(!t.has_neg_state);
			ck_assert_str_eq(t.supported_mech, "");
			ck_assert_uint_eq(t.inner.len, sizes[i]);
			ck_assert_mem_eq(t.inner.data, token, sizes[i]);
			ck_assert_uint_eq(t.mech_list_mic.len, with_mic ? sizeof(mic) : 0);
			if (with_mic)
				ck_assert_mem_eq(t.mech_list_mic.data, mic, sizeof(mic));
			free(der);
		}
	}
	free(token);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Status names, hex, names                                            */

START_TEST(samba_status_mapping)
{
	static const struct {
		enum ntlm_status st;
		bool squash;
		const char *name;
		uint32_t code;
		const char *text;
	} cases[] = {
	    {NTLM_OK, true, "NT_STATUS_OK", 0, "Success"},
	    {NTLM_STATUS_NO_SUCH_USER, true, "NT_STATUS_LOGON_FAILURE", 0xc000006du, "Logon failure"},
	    {NTLM_STATUS_WRONG_PASSWORD, true, "NT_STATUS_LOGON_FAILURE", 0xc000006du, "Logon failure"},
	    {NTLM_STATUS_NO_SUCH_USER, false, "NT_STATUS_NO_SUCH_USER", 0xc0000064u, "No such user"},
	    {NTLM_STATUS_WRONG_PASSWORD, false, "NT_STATUS_WRONG_PASSWORD", 0xc000006au, "Wrong Password"},
	    {NTLM_STATUS_ACCOUNT_DISABLED, true, "NT_STATUS_ACCOUNT_DISABLED", 0xc0000072u,
	     "Account disabled"},
	    {NTLM_STATUS_ACCOUNT_LOCKED_OUT, true, "NT_STATUS_ACCOUNT_LOCKED_OUT", 0xc0000234u,
	     "Account locked out"},
	    {NTLM_STATUS_PASSWORD_EXPIRED, true, "NT_STATUS_PASSWORD_EXPIRED", 0xc0000071u,
	     "Password expired"},
	    {NTLM_STATUS_PASSWORD_MUST_CHANGE, true, "NT_STATUS_PASSWORD_MUST_CHANGE", 0xc0000224u,
	     "Must change password"},
	    {NTLM_STATUS_MIC_INVALID, true, "NT_STATUS_LOGON_FAILURE", 0xc000006du, "Logon failure"},
	    {NTLM_STATUS_CHALLENGE_EXPIRED, true, "NT_STATUS_LOGON_FAILURE", 0xc000006du, "Logon failure"},
	    {NTLM_ERR_TRUNCATED, true, "NT_STATUS_INVALID_PARAMETER", 0xc000000du,
	     "Unexpected information received"},
	    {NTLM_ERR_BAD_ENCODING, true, "NT_STATUS_INVALID_PARAMETER", 0xc000000du,
	     "Unexpected information received"},
	    {NTLM_ERR_CONTROL_CHARACTER, true, "NT_STATUS_INVALID_PARAMETER", 0xc000000du,
	     "Unexpected information received"},
	    {NTLM_ERR_CONTROL_CHARACTER, false, "NT_STATUS_INVALID_PARAMETER", 0xc000000du,
	     "Unexpected information received"},
	    {NTLM_ERR_BACKEND_UNAVAILABLE, true, "NT_STATUS_NO_LOGON_SERVERS", 0xc000005eu,
	     "No logon servers"},
	    {NTLM_ERR_INTERNAL, true, "NT_STATUS_UNSUCCESSFUL", 0xc0000001u, "Undetermined error"},
	    {NTLM_ERR_INSUFFICIENT_RESOURCES, true, "NT_STATUS_INSUFFICIENT_RESOURCES", 0xc000009au,
	     "Insufficient system resources"},
	    /* the daemon-level statuses: our side, the request, the group */
	    {NTLM_ERR_CONFIG, true, "NT_STATUS_UNSUCCESSFUL", 0xc0000001u, "Undetermined error"},
	    {NTLM_ERR_BAD_REQUEST, true, "NT_STATUS_INVALID_PARAMETER", 0xc000000du,
	     "Unexpected information received"},
	    {NTLM_STATUS_NO_SUCH_GROUP, false, "NT_STATUS_NO_SUCH_GROUP", 0xc0000066u, "No such group"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ck_assert_str_eq(na_status_name(cases[i].st, cases[i].squash), cases[i].name);
		ck_assert_uint_eq(na_status_code(cases[i].st, cases[i].squash), cases[i].code);
		ck_assert_str_eq(na_status_text(cases[i].st, cases[i].squash), cases[i].text);
	}
}
END_TEST

/* Samba 4.17's texts (libsamba-errors' get_friendly_nt_error_msg(), read
 * from the installed library): ntlm-server-1's Authentication-Error. */
START_TEST(status_descriptions_as_samba_4_17)
{
	static const struct {
		enum ntlm_status st;
		bool squash;
		const char *text;
	} cases[] = {
	    {NTLM_STATUS_WRONG_PASSWORD, false,
	     "When trying to update a password, this return status indicates that the value provided as the "
	     "current password is not correct."},
	    {NTLM_STATUS_WRONG_PASSWORD, true,
	     "The attempted logon is invalid. This is either due to a bad username or authentication "
	     "information."},
	    {NTLM_STATUS_NO_SUCH_USER, false, "The specified account does not exist."},
	    {NTLM_STATUS_ACCOUNT_DISABLED, false,
	     "The referenced account is currently disabled and cannot be logged on to."},
	    {NTLM_ERR_BACKEND_UNAVAILABLE, false,
	     "No logon servers are currently available to service the logon request."},
	    {NTLM_ERR_BAD_ENCODING, false, "An invalid parameter was passed to a service or function."},
	    {NTLM_OK, false, "The operation completed successfully."},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		ck_assert_str_eq(na_status_description(cases[i].st, cases[i].squash), cases[i].text);
}
END_TEST

START_TEST(hex_prefix_as_samba)
{
	static const struct {
		const char *in;
		size_t max, n;
		const char *bytes;
	} cases[] = {
	    {"0011223344556677", 8, 8, "0011223344556677"},
	    {"0x0011", 8, 2, "0011"},
	    {"0XabCD", 8, 2, "abcd"},
	    {"00112233445566778899", 8, 8, "0011223344556677"},
	    {"00", 8, 1, "00"},
	    {"zz", 8, 0, ""},
	    {"00z1", 8, 1, "00"},
	    {"001", 8, 1, "00"},
	    {"", 8, 0, ""},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t out[16];
		size_t want_len;
		uint8_t *want = test_hex(cases[i].bytes, &want_len);

		ck_assert_uint_eq(na_hex_prefix(cases[i].in, out, cases[i].max), cases[i].n);
		ck_assert_uint_eq(want_len, cases[i].n);
		if (want_len > 0)
			ck_assert_mem_eq(out, want, want_len);
		free(want);
	}
}
END_TEST

START_TEST(split_user_names)
{
	static const struct {
		const char *in, *domain, *user;
	} cases[] = {
	    {"DOM\\alice", "DOM", "alice"},
	    {"alice", NULL, "alice"},
	    {"a\\b\\c", "a", "b\\c"},
	    {"\\alice", "", "alice"},
	    {"alice@example.com", NULL, "alice@example.com"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *domain = NULL;
		const char *user = NULL;

		ck_assert(na_split_user(cases[i].in, '\\', &domain, &user));
		ck_assert_str_eq(user, cases[i].user);
		if (cases[i].domain == NULL)
			ck_assert_ptr_null(domain);
		else
			ck_assert_str_eq(domain, cases[i].domain);
		free(domain);
	}
	ck_assert_uint_eq(na_protocol_from_name("squid-2.5-ntlmssp"), NA_PROTO_SQUID_NTLMSSP);
	ck_assert_uint_eq(na_protocol_from_name("gss-spnego"), NA_PROTO_GSS_SPNEGO);
	ck_assert_uint_eq(na_protocol_from_name("squid-2.5-NTLMSSP"), NA_PROTO_NONE);
}
END_TEST

/* ------------------------------------------------------------------ */
/* squid-2.5-basic with a recording fake of ntlmd                      */

struct recorder {
	unsigned calls;
	char user[64], domain[64], password[64];
	bool has_domain;
};

static enum ntlm_status recording_call(void *ctx, uint16_t type, const struct ntlm_writer *fields,
                                       struct ntlmd_reply *ret)
{
	struct recorder *r = ctx;
	struct ntlmd_frame req = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	const char *s;
	enum ntlm_status st;

	r->calls++;
	ck_assert_uint_eq(type, NTLMD_REQ_CHECK_PASSWORD);
	ck_assert_int_eq(ntlmd_payload_decode(type, fields->data, fields->len, &req), NTLM_OK);
	ck_assert_int_eq(ntlmd_frame_get_string(&req, NTLMD_TAG_USER, &s), NTLM_OK);
	snprintf(r->user, sizeof(r->user), "%s", s);
	ck_assert_int_eq(ntlmd_frame_get_string(&req, NTLMD_TAG_PASSWORD, &s), NTLM_OK);
	snprintf(r->password, sizeof(r->password), "%s", s);
	s = ntlmd_frame_string(&req, NTLMD_TAG_DOMAIN);
	r->has_domain = s != NULL;
	snprintf(r->domain, sizeof(r->domain), "%s", s != NULL ? s : "");
	st = strcmp(r->password, "right") == 0 ? NTLM_OK : NTLM_STATUS_WRONG_PASSWORD;
	ntlmd_frame_clear(&req);
	ck_assert_int_eq(ntlmd_reply_encode(type, st, NULL, &buf, &len), NTLM_OK);
	*ret = (struct ntlmd_reply){0};
	ck_assert_int_eq(ntlmd_frame_decode(buf, len, &ret->frame), NTLM_OK);
	ret->status = st;
	free(buf);
	return NTLM_OK;
}

START_TEST(basic_unescaping)
{
	static const struct {
		bool channel_ids;
		const char *line, *reply;
		unsigned calls;
		const char *domain, *user, *password;
	} cases[] = {
	    {false, "dom%5Cal%20ice right", "OK\n", 1, "dom", "al ice", "right"},
	    {false, "alice p%25w", "ERR\n", 1, NULL, "alice", "p%w"},
	    {false, "alice right extras", "OK\n", 1, NULL, "alice", "right"},
	    {false, "alice r%69ght", "OK\n", 1, NULL, "alice", "right"},
	    {false, "alice right%", "ERR\n", 0, NULL, NULL, NULL},
	    {false, "alice right%0", "ERR\n", 0, NULL, NULL, NULL},
	    {false, "alice right%00", "ERR\n", 0, NULL, NULL, NULL},
	    {false, "alice%zz right", "ERR\n", 0, NULL, NULL, NULL},
	    {false, "aliceright", "ERR\n", 0, NULL, NULL, NULL},
	    {false, " right", "ERR\n", 0, NULL, NULL, NULL},
	    {false, "", "ERR\n", 0, NULL, NULL, NULL},
	    {true, "42 alice right", "42 OK\n", 1, NULL, "alice", "right"},
	    {true, "0 alice wrong", "0 ERR\n", 1, NULL, "alice", "wrong"},
	    /* a channel-ID that cannot be echoed on one line: a bare ERR */
	    {true, "4\t2 alice right", "ERR\n", 1, NULL, "alice", "right"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct na_options opt = {
		    .protocol = NA_PROTO_SQUID_BASIC, .quiet = true, .channel_ids = cases[i].channel_ids};
		struct recorder r = {0};
		struct na_helper h;
		struct na_buf out = {0};

		na_helper_init(&h, &opt, recording_call, &r);
		na_helper_line(&h, cases[i].line, strlen(cases[i].line), &out);
		ck_assert_msg(out.p != NULL && strcmp(out.p, cases[i].reply) == 0, "case %zu: %s", i,
		              out.p != NULL ? out.p : "(nothing)");
		ck_assert_uint_eq(r.calls, cases[i].calls);
		if (cases[i].calls > 0) {
			ck_assert_str_eq(r.user, cases[i].user);
			ck_assert_str_eq(r.password, cases[i].password);
			ck_assert(r.has_domain == (cases[i].domain != NULL));
			if (cases[i].domain != NULL)
				ck_assert_str_eq(r.domain, cases[i].domain);
		}
		na_buf_clear(&out);
		na_helper_clear(&h);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* The reply gate, with a fake ntlmd that names a hostile user         */

/* What the fake answers VERIFY with: success for this AUTH_USER. */
static const char *fake_auth_user;

static enum ntlm_status naming_call(void *ctx, uint16_t type, const struct ntlm_writer *fields,
                                    struct ntlmd_reply *ret)
{
	struct ntlm_writer w;
	uint8_t *buf = NULL, *chal = NULL;
	size_t len = 0, chal_len = 0;
	const struct ntlm_challenge c = {.flags = NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_NTLM,
	                                 .server_challenge = {1, 2, 3, 4, 5, 6, 7, 8}};
	static const uint8_t key[16] = {9};

	(void)ctx;
	(void)fields;
	ntlmd_fields_init(&w);
	if (type == NTLMD_REQ_CHALLENGE) {
		ck_assert_int_eq(ntlm_challenge_encode(&c, &chal, &chal_len), NTLM_OK);
		ntlmd_put_bytes(&w, NTLMD_TAG_CHALLENGE, chal, chal_len);
		free(chal);
	} else {
		ck_assert_uint_eq(type, NTLMD_REQ_VERIFY);
		ntlmd_put_string(&w, NTLMD_TAG_AUTH_USER, fake_auth_user);
		ntlmd_put_bytes(&w, NTLMD_TAG_SESSION_KEY, key, sizeof(key));
	}
	ck_assert_int_eq(ntlmd_reply_encode(type, NTLM_OK, &w, &buf, &len), NTLM_OK);
	ntlm_writer_clear(&w);
	*ret = (struct ntlmd_reply){0};
	ck_assert_int_eq(ntlmd_frame_decode(buf, len, &ret->frame), NTLM_OK);
	ret->status = NTLM_OK;
	free(buf);
	return NTLM_OK;
}

/* The reply to one line, as a string the caller frees. */
static char *reply_to(struct na_helper *h, const char *line)
{
	struct na_buf out = {0};
	char *r;

	na_helper_line(h, line, strlen(line), &out);
	ck_assert(!out.failed);
	r = strdup(out.p != NULL ? out.p : "");
	ck_assert_ptr_nonnull(r);
	na_buf_clear(&out);
	return r;
}

/* A name from ntlmd that would split the reply line: the Squid protocols
 * answer with one BH line instead (never an AF with a mangled name), the
 * key=value form escapes it, and the context holds no session key after. */
START_TEST(reply_gate_withholds_split_lines)
{
	/* "NTLMSSP\0" + MessageType 1 / 3: all the helper looks at */
	static const char negotiate[] = "YR TlRMTVNTUAABAAAA", authenticate[] = "KK TlRMTVNTUAADAAAA";
	static const char *const hostile[] = {"TESTDOM\\alice\nAF TESTDOM\\root", "TESTDOM\\alice\r",
	                                      "\tTESTDOM\\alice", "TESTDOM\\al\x1bice", "TESTDOM\\alice\x7f"};
	static const struct {
		enum na_protocol protocol;
		bool kv;
		const char *want; /* NULL: the escaped name, as "OK user=" */
	} modes[] = {
	    {NA_PROTO_SQUID_NTLMSSP, false, "BH NT_STATUS_UNSUCCESSFUL NT_STATUS_UNSUCCESSFUL\n"},
	    {NA_PROTO_SQUID_NTLMSSP, true, NULL},
	    {NA_PROTO_GSS_SPNEGO, false, "BH NT_STATUS_UNSUCCESSFUL * NT_STATUS_UNSUCCESSFUL\n"},
	    {NA_PROTO_GSS_SPNEGO, true, NULL},
	};

	for (size_t m = 0; m < ARRAY_SIZE(modes); m++) {
		for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
			struct na_options opt = {
			    .protocol = modes[m].protocol, .quiet = true, .kv_replies = modes[m].kv};
			struct na_helper h;
			char *tt, *verdict, *gk, want[256];

			fake_auth_user = hostile[i];
			na_helper_init(&h, &opt, naming_call, NULL);
			tt = reply_to(&h, negotiate);
			ck_assert_msg(strncmp(tt, "TT ", 3) == 0, "%s", tt);
			verdict = reply_to(&h, authenticate);
			if (modes[m].want != NULL) {
				snprintf(want, sizeof(want), "%s", modes[m].want);
			} else {
				/* URL-escaped: the line break is %0A, the backslash %5C */
				size_t n = (size_t)snprintf(want, sizeof(want), "%s",
				                            modes[m].protocol == NA_PROTO_GSS_SPNEGO
				                                ? "OK token=AA== user="
				                                : "OK user=");
				for (const char *p = hostile[i]; *p != '\0'; p++)
					n += (size_t)snprintf(want + n, sizeof(want) - n,
					                      isalnum((unsigned char)*p) ? "%c" : "%%%02X",
					                      (unsigned char)*p);
				snprintf(want + n, sizeof(want) - n, "\n");
			}
			ck_assert_msg(strcmp(verdict, want) == 0, "mode %zu name %zu: %s", m, i, verdict);
			gk = reply_to(&h, "GK");
			if (modes[m].want != NULL)
				ck_assert_str_eq(gk, "BH No session key\n");
			free(tt);
			free(verdict);
			free(gk);
			na_helper_clear(&h);
		}
	}
}
END_TEST

/* Values of the client that ntlm-server-1 echoes in its error texts keep
 * to their line; and in every protocol, no byte below 0x20 or 0x7F but the
 * LFs that end lines. */
START_TEST(reply_gate_block_protocols)
{
	struct na_options opt = {.protocol = NA_PROTO_NTLM_SERVER_1, .quiet = true};
	struct na_helper h;
	struct na_buf out = {0};
	char *r;
	static const char lf_key[] = "Frob\nAF x: 1";

	na_helper_init(&h, &opt, naming_call, NULL);
	/* each error answers at the block's "." (ntlm_server_1_one_reply_per_block) */
	r = reply_to(&h, "NT-Response: zz\x1b\x7f");
	ck_assert_str_eq(r, "");
	free(r);
	r = reply_to(&h, ".");
	ck_assert_str_eq(r, "Error: hex decode of zz?? failed! (only got 0 bytes, needed at least 24)\n.\n");
	free(r);
	r = reply_to(&h, "Frob\tnicate: 1");
	ck_assert_str_eq(r, "");
	free(r);
	r = reply_to(&h, ".");
	ck_assert_str_eq(r, "Error: Unknown request Frob?nicate\n.\n");
	free(r);
	/* a line is len bytes and may hold an LF when it does not come from stdin */
	na_helper_line(&h, lf_key, sizeof(lf_key) - 1, &out);
	ck_assert_uint_eq(out.len, 0);
	na_helper_line(&h, ".", 1, &out);
	ck_assert_str_eq(out.p, "Error: Unknown request Frob?AF x\n.\n");
	na_buf_clear(&out);
	na_helper_clear(&h);
}
END_TEST

/* ntlm-server-1 answers each block exactly once, at its ".": a line that
 * cannot be taken is answered there with its error (the block's first),
 * nothing of the block is checked, and the next block gets its own answer.
 * Samba 4.17 answers such a line at once and the "." again: a front end
 * reading one reply per block then read the attacker's own "Authenticated:
 * Yes" as the answer to the next block (a victim's name, a wrong password). */
START_TEST(ntlm_server_1_one_reply_per_block)
{
	static const char nul_line[] = "Username: al\0ice";
	static const struct {
		const char *bad; /* NULL: nul_line; "": an overlong line */
		const char *reply;
	} cases[] = {
	    {"LANMAN-Response: 00", "Error: hex decode of 00 failed! (got 1 bytes, expected 24)\n.\n"},
	    {"Password:: eAB5", "Error: base64 decode failed!\n.\n"}, /* "x\0y" */
	    {"NT-Domain:: AA==", "Error: base64 decode failed!\n.\n"},
	    {"garbage", "Error: Parameter not found!\n.\n"},
	    {"Username:x", "Error: Parameter not found!\n.\n"},
	    {"Frobnicate: 1", "Error: Unknown request Frobnicate\n.\n"},
	    {"LANMAN-Challenge: 0011", "Error: hex decode of 0011 failed! (got 2 bytes, expected 8)\n.\n"},
	    {NULL, "Error: Parameter not found!\n.\n"},
	    {"", "Error: request too long!\n.\n"},
	};
	struct na_options opt = {.protocol = NA_PROTO_NTLM_SERVER_1, .quiet = true};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		static const char *const before[] = {"Username: alice", "Password: right"};
		static const char *const after[] = {"NT-Response: 00", "Frobnicate: 2", "Username: bob"};
		struct recorder rec = {0};
		struct na_helper h;
		struct na_buf out = {0};
		char *r;

		na_helper_init(&h, &opt, recording_call, &rec);
		for (size_t k = 0; k < ARRAY_SIZE(before); k++) {
			r = reply_to(&h, before[k]);
			ck_assert_str_eq(r, "");
			free(r);
		}
		if (cases[i].bad == NULL)
			na_helper_line(&h, nul_line, sizeof(nul_line) - 1, &out);
		else if (cases[i].bad[0] == '\0')
			na_helper_overlong(&h, &out);
		else
			na_helper_line(&h, cases[i].bad, strlen(cases[i].bad), &out);
		ck_assert_msg(out.len == 0, "case %zu answered before the \".\": %s", i, out.p);
		/* later errors do not replace the first */
		for (size_t k = 0; k < ARRAY_SIZE(after); k++)
			na_helper_line(&h, after[k], strlen(after[k]), &out);
		ck_assert_msg(out.len == 0, "case %zu: %s", i, out.p);
		na_helper_line(&h, ".", 1, &out);
		ck_assert_msg(out.p != NULL && strcmp(out.p, cases[i].reply) == 0, "case %zu: %s", i,
		              out.p != NULL ? out.p : "(nothing)");
		ck_assert_uint_eq(rec.calls, 0);
		na_buf_clear(&out);
		/* the next block: its own answer, from a clean block */
		r = reply_to(&h, "Username: victim");
		ck_assert_str_eq(r, "");
		free(r);
		r = reply_to(&h, "Password: wrong");
		ck_assert_str_eq(r, "");
		free(r);
		r = reply_to(&h, ".");
		ck_assert_str_eq(r, "Authenticated: No\n.\n");
		free(r);
		ck_assert_uint_eq(rec.calls, 1);
		ck_assert_str_eq(rec.user, "victim");
		r = reply_to(&h, "Username: alice");
		free(r);
		r = reply_to(&h, "Password: right");
		free(r);
		r = reply_to(&h, ".");
		ck_assert_str_eq(r, "Authenticated: Yes\n.\n");
		free(r);
		na_helper_clear(&h);
	}
}
END_TEST

/* Names on stderr: na_escape() keeps each on its line and its quotes. */
START_TEST(escape_for_log)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"alice", "alice"},
	    {"", ""},
	    {"al\x1b[31mice\nntlm_auth: FAKE", "al\\x1b[31mice\\x0antlm_auth: FAKE"},
	    {"a\"b\\c", "a\\\"b\\\\c"},
	    {"\r\t\x7f", "\\x0d\\x09\\x7f"},
	    {"j\xc3\xb6rg", "j\xc3\xb6rg"},                                     /* UTF-8 as it is */
	    {"\xe2\x82\xac \xf0\x9f\x98\x80", "\xe2\x82\xac \xf0\x9f\x98\x80"}, /* euro sign, emoji */
	    {"a\xff", "a\\xff"},                                                /* not UTF-8 */
	    {"a\xc3", "a\\xc3"},                                                /* cut sequence */
	    {"\xc0\xaf", "\\xc0\\xaf"},                                         /* overlong */
	    {"\xed\xa0\x80", "\\xed\\xa0\\x80"},                                /* surrogate */
	    {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},                       /* over U+10FFFF */
	    {"\xc2\x9b[2J", "\\xc2\\x9b[2J"},                                   /* C1 CSI */
	    {"a\xe2\x80\xa8"
	     "b",
	     "a\\xe2\\x80\\xa8b"}, /* U+2028 */
	};
	char out[NA_ESCAPE_MAX], small[10];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		ck_assert_str_eq(na_escape(cases[i].in, out, sizeof(out)), cases[i].want);
	/* cut, at a piece, with "..." */
	ck_assert_str_eq(na_escape("abcdefghi", small, sizeof(small)), "abcdefghi");
	ck_assert_str_eq(na_escape("abcdefghij", small, sizeof(small)), "abcdef...");
	ck_assert_str_eq(na_escape("abcde\x01"
	                           "fgh",
	                           small, sizeof(small)),
	                 "abcde...");
	ck_assert_str_eq(na_escape("\x01\x02\x03", small, sizeof(small)), "\\x01...");
}
END_TEST

/* ------------------------------------------------------------------ */
/* key_extras: the client address sent to ntlmd                        */

struct address_recorder {
	unsigned calls;
	uint16_t type;
	char address[128]; /* "" when the request had none */
};

/* A fake ntlmd that records the CLIENT_ADDRESS of each request and
 * refuses it (STATUS_INSUFFICIENT_RESOURCES: BH). */
static enum ntlm_status address_call(void *ctx, uint16_t type, const struct ntlm_writer *fields,
                                     struct ntlmd_reply *ret)
{
	struct address_recorder *r = ctx;
	struct ntlmd_frame req = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	const char *s;

	r->calls++;
	r->type = type;
	ck_assert_int_eq(ntlmd_payload_decode(type, fields->data, fields->len, &req), NTLM_OK);
	s = ntlmd_frame_string(&req, NTLMD_TAG_CLIENT_ADDRESS);
	snprintf(r->address, sizeof(r->address), "%s", s != NULL ? s : "");
	ntlmd_frame_clear(&req);
	ck_assert_int_eq(ntlmd_reply_encode(type, NTLM_ERR_INSUFFICIENT_RESOURCES, NULL, &buf, &len),
	                 NTLM_OK);
	*ret = (struct ntlmd_reply){0};
	ck_assert_int_eq(ntlmd_frame_decode(buf, len, &ret->frame), NTLM_OK);
	ret->status = NTLM_ERR_INSUFFICIENT_RESOURCES;
	free(buf);
	return NTLM_OK;
}

#define NEGOTIATE_B64 "TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw=="

/* Squid appends key_extras ("%>a") after the blob or the password: its
 * first word goes to ntlmd as CLIENT_ADDRESS when it is 1 to 64 printable
 * characters; otherwise none is sent, and the request is served as one
 * without key_extras. */
START_TEST(key_extras_client_address)
{
	static const char long_word[] = "a123456789b123456789c123456789d123456789e123456789f123456789ABCD";
	static const struct {
		enum na_protocol protocol;
		bool channel_ids;
		const char *line, *address;
	} cases[] = {
	    {NA_PROTO_SQUID_NTLMSSP, false, "YR " NEGOTIATE_B64 " 192.0.2.1", "192.0.2.1"},
	    {NA_PROTO_SQUID_NTLMSSP, false, "YR " NEGOTIATE_B64 " 2001:db8::1 more words", "2001:db8::1"},
	    {NA_PROTO_SQUID_NTLMSSP, false,
	     "YR TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw 192.0.2.2", "192.0.2.2"},
	    {NA_PROTO_SQUID_NTLMSSP, false, "KK " NEGOTIATE_B64 " 192.0.2.3", "192.0.2.3"},
	    {NA_PROTO_SQUID_NTLMSSP, false, "YR " NEGOTIATE_B64, ""},
	    {NA_PROTO_SQUID_NTLMSSP, false, "YR " NEGOTIATE_B64 " -", ""},
	    {NA_PROTO_SQUID_NTLMSSP, false, "YR " NEGOTIATE_B64 "  192.0.2.4", ""},
	    {NA_PROTO_SQUID_NTLMSSP, false, "YR " NEGOTIATE_B64 " 192.0.2.5\x01", ""},
	    {NA_PROTO_SQUID_NTLMSSP, false, "YR " NEGOTIATE_B64 " 192.0.2.5\x7f", ""},
	    {NA_PROTO_SQUID_NTLMSSP, false, "YR " NEGOTIATE_B64 " caf\xc3\xa9", ""},
	    {NA_PROTO_SQUID_NTLMSSP, false, "YR " NEGOTIATE_B64 " \"quoted\\\"", "\"quoted\\\""},
	    {NA_PROTO_GSS_SPNEGO, false, "YR " NEGOTIATE_B64 " 192.0.2.6", "192.0.2.6"},
	    {NA_PROTO_SQUID_BASIC, false, "alice right 192.0.2.7", "192.0.2.7"},
	    {NA_PROTO_SQUID_BASIC, false, "alice right", ""},
	    {NA_PROTO_SQUID_BASIC, true, "7 alice right 192.0.2.8 x", "192.0.2.8"},
	    {NA_PROTO_SQUID24_BASIC, false, "alice right 192.0.2.9", ""},
	};
	char line[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct na_options opt = {
		    .protocol = cases[i].protocol, .quiet = true, .channel_ids = cases[i].channel_ids};
		struct address_recorder r = {0};
		struct na_helper h;
		struct na_buf out = {0};

		na_helper_init(&h, &opt, address_call, &r);
		na_helper_line(&h, cases[i].line, strlen(cases[i].line), &out);
		ck_assert_msg(r.calls == 1, "case %zu: %u calls (%s)", i, r.calls,
		              out.p != NULL ? out.p : "");
		ck_assert_msg(strcmp(r.address, cases[i].address) == 0, "case %zu: address '%s'", i,
		              r.address);
		/* exactly one reply line */
		ck_assert_ptr_nonnull(out.p);
		ck_assert_ptr_eq(strchr(out.p, '\n'), out.p + out.len - 1);
		na_buf_clear(&out);
		/* the next line names its own, or none */
		na_helper_line(&h, "YR " NEGOTIATE_B64, strlen("YR " NEGOTIATE_B64), &out);
		if (cases[i].protocol != NA_PROTO_SQUID_BASIC && cases[i].protocol != NA_PROTO_SQUID24_BASIC)
			ck_assert_str_eq(r.address, "");
		na_buf_clear(&out);
		na_helper_clear(&h);
	}
	/* 64 characters are taken, 65 are not */
	for (int extra = 0; extra < 2; extra++) {
		struct na_options opt = {.protocol = NA_PROTO_SQUID_NTLMSSP, .quiet = true};
		struct address_recorder r = {0};
		struct na_helper h;
		struct na_buf out = {0};

		snprintf(line, sizeof(line), "YR %s %s%s", NEGOTIATE_B64, long_word, extra ? "E" : "");
		na_helper_init(&h, &opt, address_call, &r);
		na_helper_line(&h, line, strlen(line), &out);
		ck_assert_str_eq(r.address, extra ? "" : long_word);
		na_buf_clear(&out);
		na_helper_clear(&h);
	}
}
END_TEST

/* --require-membership-of: NSS first, then ntlmd's group search (a fake
 * here, counting its calls). */
static int group_calls;
static enum ntlm_status group_answer;

static enum ntlm_status fake_group_check(void *ctx, const char *group, const char *user, const char *domain)
{
	(void)domain;
	ck_assert_ptr_null(ctx);
	ck_assert_str_eq(group, "webusers");
	ck_assert_ptr_nonnull(user);
	group_calls++;
	return group_answer;
}

static enum ntlm_status member(const struct na_options *opt, const char *user, enum ntlm_status answer,
                               int want_calls)
{
	struct ntlmd_reply reply = {0}; /* no UID: the name goes to NSS */
	enum ntlm_status st;

	group_calls = 0;
	group_answer = answer;
	st = na_membership(opt, &reply, user);
	ck_assert_int_eq(group_calls, want_calls);
	return st;
}

START_TEST(membership_order)
{
	static const char *const stranger = "no-such-user-for-ntlm-auth";
	struct na_options opt = {
	    .require_group = true, .group_gid = 0, .group_name = "webusers", .group_check = fake_group_check};

	/* NSS lists root in gid 0: accepted without asking ntlmd */
	ck_assert_int_eq(member(&opt, "root", NTLM_STATUS_LOGON_FAILURE, 0), NTLM_OK);
	/* NSS says no: the group search decides */
	ck_assert_int_eq(member(&opt, stranger, NTLM_OK, 1), NTLM_OK);
	ck_assert_int_eq(member(&opt, stranger, NTLM_STATUS_LOGON_FAILURE, 1), NTLM_STATUS_LOGON_FAILURE);
	ck_assert_int_eq(member(&opt, stranger, NTLM_ERR_BACKEND_UNAVAILABLE, 1),
	                 NTLM_ERR_BACKEND_UNAVAILABLE);
	/* the directory does not have the group NSS knows: not a member */
	ck_assert_int_eq(member(&opt, stranger, NTLM_STATUS_NO_SUCH_GROUP, 1), NTLM_STATUS_LOGON_FAILURE);
	/* NSS does not know the group: only the group search is asked */
	opt.group_error = true;
	ck_assert_int_eq(member(&opt, "root", NTLM_OK, 1), NTLM_OK);
	ck_assert_int_eq(member(&opt, "root", NTLM_STATUS_LOGON_FAILURE, 1), NTLM_STATUS_LOGON_FAILURE);
	/* ... and when it does not know it either: Samba's unresolvable group */
	ck_assert_int_eq(member(&opt, "root", NTLM_STATUS_NO_SUCH_GROUP, 1), NTLM_ERR_INVALID_ARGUMENT);
	/* the account is gone (NO_SUCH_USER): never a member, not a bad group */
	ck_assert_int_eq(member(&opt, "root", NTLM_STATUS_NO_SUCH_USER, 1), NTLM_STATUS_LOGON_FAILURE);
	/* no group search: NSS alone */
	opt.group_check = NULL;
	ck_assert_int_eq(member(&opt, "root", NTLM_OK, 0), NTLM_ERR_INVALID_ARGUMENT);
	opt.group_error = false;
	ck_assert_int_eq(member(&opt, stranger, NTLM_OK, 0), NTLM_STATUS_LOGON_FAILURE);
	opt.require_group = false;
	ck_assert_int_eq(member(&opt, stranger, NTLM_STATUS_LOGON_FAILURE, 0), NTLM_OK);
}
END_TEST

/* ------------------------------------------------------------------ */
/* gss-spnego-client against a libntlm acceptor                        */

static const char client_password[] = "Sp3nego-Client";

static enum ntlm_status client_lookup(void *ctx, const char *user, const char *domain,
                                      struct ntlm_credentials *ret)
{
	(void)ctx;
	(void)domain;
	if (strcmp(user, "alice") != 0)
		return NTLM_STATUS_NO_SUCH_USER;
	*ret = (struct ntlm_credentials){0};
	return ntlm_ntowfv1(client_password, &ret->nt_hash);
}

/* The token of a client reply line "<code> <b64>\n", checked for code. */
static uint8_t *reply_token(const char *reply, const char *code, size_t *ret_len)
{
	size_t n = strlen(code);
	char *text;
	uint8_t *p;

	ck_assert_msg(strncmp(reply, code, n) == 0 && reply[n] == ' ', "%s", reply);
	text = strndup(reply + n + 1, strcspn(reply + n + 1, " \n"));
	p = b64(text, ret_len);
	free(text);
	return p;
}

static char *line_with(const char *code, const uint8_t *p, size_t len, const char *tail)
{
	char *text = NULL, *line;
	size_t n;

	ck_assert_int_eq(ntlm_base64_encode(p, len, &text), NTLM_OK);
	n = strlen(code) + strlen(text) + strlen(tail) + 2;
	line = malloc(n);
	ck_assert_ptr_nonnull(line);
	snprintf(line, n, "%s %s%s", code, text, tail);
	free(text);
	return line;
}

/* A NegTokenInit of the initiator (mechTypes {NTLMSSP}, then mechToken) */
static const char init_prefix[] = "YR YEgGBisGAQUFAqA+MDygDjAMBgorBgEEAYI3AgIKoi";

enum server_mic { SERVER_MIC_GOOD, SERVER_MIC_NONE, SERVER_MIC_BAD, SERVER_REJECTS };

/* One exchange: the acceptor speaks first (as gss-spnego does to a bare
 * YR), checks the client's AUTHENTICATE and mechListMIC, and answers with
 * its own per how. Returns the client's last reply. */
static char *client_exchange(struct na_helper *h, enum server_mic how, uint32_t *ret_flags,
                             struct ntlm_hash *ret_key)
{
	static const struct ntlm_server_names names = {.nb_computer = "TESTSRV", .nb_domain = "TESTDOM"};
	struct ntlm_policy policy;
	struct ntlm_accept_result result = {0};
	struct ntlm_session *server = NULL;
	struct spnego_token neg_t, auth_t;
	uint8_t *init = NULL, *neg = NULL, *chal = NULL, *der = NULL, *auth = NULL, mic[16];
	size_t init_len, neg_len, chal_len, der_len, auth_len, list_len;
	const uint8_t *list = ntlm_spnego_mech_list_ntlmssp(&list_len);
	char *line, *reply;

	ck_assert_int_eq(ntlm_spnego_encode_init_ntlmssp(&init, &init_len), NTLM_OK);
	line = line_with("TT", init, init_len, " *");
	reply = reply_to(h, line);
	free(line);
	neg = reply_token(reply, "KK", &neg_len);
	free(reply);
	ck_assert_int_eq(ntlm_spnego_unwrap(neg, neg_len, &neg_t), NTLM_OK);
	ck_assert_int_eq(neg_t.form, SPNEGO_FORM_NEG_TOKEN_INIT);
	ck_assert_int_eq(ntlm_acceptor_challenge(&names, neg_t.inner.data, neg_t.inner.len,
	                                         ntlm_filetime_now(), &chal, &chal_len),
	                 NTLM_OK);
	ck_assert_int_eq(
	    ntlm_spnego_encode_resp(SPNEGO_ACCEPT_INCOMPLETE, true, chal, chal_len, NULL, 0, &der, &der_len),
	    NTLM_OK);
	line = line_with("TT", der, der_len, " *");
	free(der);
	reply = reply_to(h, line);
	free(line);
	auth = reply_token(reply, "KK", &auth_len);
	free(reply);
	ck_assert_int_eq(ntlm_spnego_unwrap(auth, auth_len, &auth_t), NTLM_OK);
	ck_assert_int_eq(auth_t.form, SPNEGO_FORM_NEG_TOKEN_RESP);
	ck_assert(!auth_t.has_neg_state);
	ntlm_policy_init(&policy);
	ck_assert_int_eq(ntlm_acceptor_verify(&policy, neg_t.inner.data, neg_t.inner.len, chal, chal_len,
	                                      auth_t.inner.data, auth_t.inner.len, NULL, client_lookup, NULL,
	                                      ntlm_filetime_now(), &result),
	                 NTLM_OK);
	ck_assert_int_eq(result.mic, NTLM_VERDICT_VALID);
	ck_assert_str_eq(result.client_target_name, "HTTP/www.example.test");
	/* the client's mechListMIC: GSS_GetMIC(mechTypes), sequence 0 */
	ck_assert_uint_eq(auth_t.mech_list_mic.len, 16);
	ck_assert_int_eq(ntlm_session_new(result.flags, &result.session_key, false, &server), NTLM_OK);
	ck_assert_int_eq(ntlm_session_verify(server, list, list_len, auth_t.mech_list_mic.data), NTLM_OK);
	ck_assert_int_eq(ntlm_session_sign(server, list, list_len, mic), NTLM_OK);
	if (how == SERVER_MIC_BAD)
		mic[15] ^= 1;
	ck_assert_int_eq(
	    ntlm_spnego_encode_resp(how == SERVER_REJECTS ? SPNEGO_REJECT : SPNEGO_ACCEPT_COMPLETED, false,
	                            NULL, 0, how == SERVER_MIC_NONE ? NULL : mic,
	                            how == SERVER_MIC_NONE ? 0 : sizeof(mic), &der, &der_len),
	    NTLM_OK);
	line = line_with(how == SERVER_REJECTS ? "NA" : "AF", der, der_len, " TESTDOM\\alice");
	reply = reply_to(h, line);
	*ret_flags = result.flags;
	*ret_key = result.session_key;
	free(line);
	free(der);
	ntlm_session_free(server);
	ntlm_accept_result_clear(&result);
	free(init);
	free(neg);
	free(chal);
	free(auth);
	return reply;
}

START_TEST(gss_spnego_client_exchange)
{
	static const struct {
		enum server_mic how;
		const char *want;
	} cases[] = {
	    {SERVER_MIC_GOOD, "AF\n"},
	    {SERVER_MIC_NONE, "AF\n"},
	    {SERVER_MIC_BAD, "BH NT_STATUS_ACCESS_DENIED NT_STATUS_ACCESS_DENIED\n"},
	    {SERVER_REJECTS, "NA NT_STATUS_LOGON_FAILURE\n"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct na_options opt = {.protocol = NA_PROTO_GSS_SPNEGO_CLIENT,
		                         .quiet = true,
		                         .username = "alice",
		                         .domain = "TESTDOM",
		                         .password = client_password,
		                         .target_name = "HTTP/www.example.test"};
		struct na_helper h;
		struct ntlm_hash key;
		uint32_t flags;
		char *verdict, *gk, *gf, want[64], *key_b64 = NULL;

		na_helper_init(&h, &opt, NULL, NULL);
		verdict = client_exchange(&h, cases[i].how, &flags, &key);
		ck_assert_msg(strcmp(verdict, cases[i].want) == 0, "case %zu: %s", i, verdict);
		/* the key and flags of the context, as Samba's GK / GF */
		if (cases[i].how != SERVER_MIC_GOOD && cases[i].how != SERVER_MIC_NONE) {
			free(verdict);
			na_helper_clear(&h);
			continue;
		}
		gk = reply_to(&h, "GK");
		gf = reply_to(&h, "GF");
		ck_assert_int_eq(ntlm_base64_encode(key.bytes, sizeof(key.bytes), &key_b64), NTLM_OK);
		snprintf(want, sizeof(want), "GK %s\n", key_b64);
		ck_assert_str_eq(gk, want);
		snprintf(want, sizeof(want), "GF 0x%08lx\n", (unsigned long)flags);
		ck_assert_str_eq(gf, want);
		free(key_b64);
		free(gk);
		free(gf);
		free(verdict);
		/* a finished context takes no more tokens; YR starts anew */
		verdict = reply_to(&h, "TT oQcwBaADCgEA");
		ck_assert_str_eq(verdict, "NA NT_STATUS_INVALID_PARAMETER\n");
		free(verdict);
		verdict = reply_to(&h, "YR");
		ck_assert_msg(strncmp(verdict, init_prefix, strlen(init_prefix)) == 0, "%s", verdict);
		free(verdict);
		na_helper_clear(&h);
	}
}
END_TEST

/* The acceptor's refusal in the second leg (negState reject); and the
 * lines Samba 4.17 answers without a context, checked against its
 * /usr/bin/ntlm_auth --helper-protocol=gss-spnego-client. */
START_TEST(gss_spnego_client_lines_as_samba)
{
	static const struct {
		const char *line, *want; /* want: a prefix of the reply */
	} cases[] = {
	    {"YR", "YR YEgGBisGAQUFAqA+MDygDjAMBgorBgEEAYI3AgIKoioEKE5UTE1TU1AAAQAAAD"},
	    {"YR abc", "NA NT_STATUS_INVALID_PARAMETER\n"},
	    {"TT", "BH SPNEGO request invalid prefix\n"},
	    {"TT !!", "YR YEgGBisGAQUFAqA+"},
	    {"KK x", "NA NT_STATUS_INVALID_PARAMETER\n"},
	    {"AF", "BH SPNEGO request invalid prefix\n"},
	    {"AF oQcwBaADCgEA", "NA NT_STATUS_INVALID_PARAMETER\n"},
	    {"NA * NT_STATUS_LOGON_FAILURE", "YR YEgGBisGAQUFAqA+"},
	    {"BH x", "BH SPNEGO request invalid prefix\n"},
	    {"GK", "BH No session key\n"},
	    {"GF", "BH\n"},
	    {"SF 0x1", "OK\n"},
	    {"OK", "BH Command expected\n"},
	    {"PW", "BH SPNEGO request invalid prefix\n"},
	    {"S", "BH Query invalid\n"},
	    {"TT TlRMTVNTUAACAAAACgAKADgAAAAFgopiLxvgMTrQQBgAAAAAAAAAADgAOABCAAAABgEAAAAAAA9QAFIATwBYAFkA",
	     "NA NT_STATUS_INVALID_PARAMETER\n"},
	    {"TT oQcwBaADCgEC", "NA NT_STATUS_INVALID_PARAMETER\n"},
	};
	static const char server_init[] =
	    "TT "
	    "YEgGBisGAQUFAqA+"
	    "MDygDjAMBgorBgEEAYI3AgIKoyowKKAmGyRub3RfZGVmaW5lZF9pbl9SRkM0MTc4QHBsZWFzZV9pZ25vcmU= *";
	struct na_options opt = {.protocol = NA_PROTO_GSS_SPNEGO_CLIENT,
	                         .quiet = true,
	                         .username = "alice",
	                         .domain = "TESTDOM",
	                         .password = client_password};
	struct na_helper h;
	char *r;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		na_helper_init(&h, &opt, NULL, NULL);
		r = reply_to(&h, cases[i].line);
		ck_assert_msg(strncmp(r, cases[i].want, strlen(cases[i].want)) == 0, "%s: %s", cases[i].line,
		              r);
		free(r);
		na_helper_clear(&h);
	}
	/* Samba's server-initiated NegTokenInit (negHints), then a reject */
	na_helper_init(&h, &opt, NULL, NULL);
	r = reply_to(&h, server_init);
	ck_assert_msg(strncmp(r, "KK YEgGBisGAQUFAqA+MDygDjAMBgorBgEEAYI3AgIKoi", 45) == 0, "%s", r);
	free(r);
	r = reply_to(&h, "TT oQcwBaADCgEC");
	ck_assert_str_eq(r, "NA NT_STATUS_LOGON_FAILURE\n");
	free(r);
	na_helper_clear(&h);
	/* no password: asked with PW, then the pending YR is answered */
	opt.password = NULL;
	na_helper_init(&h, &opt, NULL, NULL);
	r = reply_to(&h, "YR");
	ck_assert_str_eq(r, "PW\n");
	free(r);
	r = reply_to(&h, "PW U3AzbmVnby1DbGllbnQ=");
	ck_assert_msg(strncmp(r, "OK\nYR YEgGBisGAQUFAqA+", 22) == 0, "%s", r);
	free(r);
	na_helper_clear(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ntlm_auth");

	test_add_tcase(s, "spnego",
	               TESTS(spnego_resp_round_trip, spnego_resp_completed_is_samba_s,
	                     spnego_init_offers_ntlmssp, spnego_client_init_is_samba_s,
	                     spnego_client_resp_round_trip));
	test_add_tcase(s, "gss_spnego_client",
	               TESTS(gss_spnego_client_exchange, gss_spnego_client_lines_as_samba));
	test_add_tcase(s, "text",
	               TESTS(samba_status_mapping, status_descriptions_as_samba_4_17, hex_prefix_as_samba,
	                     split_user_names));
	test_add_tcase(s, "basic", TESTS(basic_unescaping));
	test_add_tcase(s, "gate", TESTS(reply_gate_withholds_split_lines, reply_gate_block_protocols));
	test_add_tcase(s, "ntlm_server_1", TESTS(ntlm_server_1_one_reply_per_block));
	test_add_tcase(s, "escape", TESTS(escape_for_log));
	test_add_tcase(s, "key_extras", TESTS(key_extras_client_address));
	test_add_tcase(s, "membership", TESTS(membership_order));
	return test_run_suite(s);
}
