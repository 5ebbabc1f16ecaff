/*
 * test_helper_unit.c: table-driven unit tests of ntlm_auth's pieces that
 * need no daemon: the SPNEGO encoders (round trip through the unwrapper,
 * every DER length form), Samba's status names/codes/texts, the hex and
 * user-name helpers, and the squid-2.5-basic unescaping with a recording
 * fake of ntlmd.
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
	r = reply_to(&h, "NT-Response: zz\x1b\x7f");
	ck_assert_str_eq(r, "Error: hex decode of zz?? failed! (only got 0 bytes, needed at least 24)\n.\n");
	free(r);
	r = reply_to(&h, "Frob\tnicate: 1");
	ck_assert_str_eq(r, "Error: Unknown request Frob?nicate\n.\n");
	free(r);
	/* a line is len bytes and may hold an LF when it does not come from stdin */
	na_helper_line(&h, lf_key, sizeof(lf_key) - 1, &out);
	ck_assert_str_eq(out.p, "Error: Unknown request Frob?AF x\n.\n");
	na_buf_clear(&out);
	na_helper_clear(&h);
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
	ck_assert_int_eq(member(&opt, stranger, NTLM_STATUS_NO_SUCH_USER, 1), NTLM_STATUS_LOGON_FAILURE);
	/* NSS does not know the group: only the group search is asked */
	opt.group_error = true;
	ck_assert_int_eq(member(&opt, "root", NTLM_OK, 1), NTLM_OK);
	ck_assert_int_eq(member(&opt, "root", NTLM_STATUS_LOGON_FAILURE, 1), NTLM_STATUS_LOGON_FAILURE);
	/* ... and when it does not know it either: Samba's unresolvable group */
	ck_assert_int_eq(member(&opt, "root", NTLM_STATUS_NO_SUCH_USER, 1), NTLM_ERR_INVALID_ARGUMENT);
	/* no group search: NSS alone */
	opt.group_check = NULL;
	ck_assert_int_eq(member(&opt, "root", NTLM_OK, 0), NTLM_ERR_INVALID_ARGUMENT);
	opt.group_error = false;
	ck_assert_int_eq(member(&opt, stranger, NTLM_OK, 0), NTLM_STATUS_LOGON_FAILURE);
	opt.require_group = false;
	ck_assert_int_eq(member(&opt, stranger, NTLM_STATUS_LOGON_FAILURE, 0), NTLM_OK);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ntlm_auth");

	test_add_tcase(
	    s, "spnego",
	    TESTS(spnego_resp_round_trip, spnego_resp_completed_is_samba_s, spnego_init_offers_ntlmssp));
	test_add_tcase(s, "text",
	               TESTS(samba_status_mapping, status_descriptions_as_samba_4_17, hex_prefix_as_samba,
	                     split_user_names));
	test_add_tcase(s, "basic", TESTS(basic_unescaping));
	test_add_tcase(s, "gate", TESTS(reply_gate_withholds_split_lines, reply_gate_block_protocols));
	test_add_tcase(s, "key_extras", TESTS(key_extras_client_address));
	test_add_tcase(s, "membership", TESTS(membership_order));
	return test_run_suite(s);
}
