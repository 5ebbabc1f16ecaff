/*
 * test_message.c: NTLMSSP message decoding and encoding (MS-NLMP 2.2.1)
 * against the MS-NLMP 4.2 example messages, hand-built variants seen from
 * real clients, every malformation the decoders must refuse, and a
 * deterministic bit-flip mutation pass.
 */
#include "testutil.h"
#include "vectors.h"

#include <stdint.h>

#define AUTH_HEADER 64u
#define MIC_OFFSET  72u

/* MS-NLMP 4.2.2.3 / 4.2.3.3 / 4.2.4.3 AUTHENTICATE flags, as on the wire. */
#define V1_AUTH_FLAGS    0xe2808235u /* 35 82 80 e2 */
#define V1ESS_AUTH_FLAGS 0x82088235u /* 35 82 08 82 */
#define V2_AUTH_FLAGS    0xe2888235u /* 35 82 88 e2 */

#define DOMAIN_U16       "44006f006d00610069006e00"          /* "Domain" */
#define USER_U16         "5500730065007200"                  /* "User" */
#define WORKSTATION_U16  "43004f004d00500055005400450052 00" /* "COMPUTER" */
#define SERVER_U16       "530065007200760065007200"          /* "Server" */
#define V2_TARGET_INFO   "02000c00" DOMAIN_U16 "01000c00" SERVER_U16 "00000000"
#define MIC_PATTERN      "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define VERSION_5_1      "0501280a0000000f" /* 5.1 build 2600, NTLMSSP_REVISION_W2K3 */

/* A decoded message of any type, for the generic tests. */
enum msg_kind { KIND_NEGOTIATE, KIND_CHALLENGE, KIND_AUTHENTICATE };

struct vector {
	const char *name;
	enum msg_kind kind;
	const char *hex;
};

/* A 40-byte NEGOTIATE as Windows 10 sends it: no names, VERSION 10.0.19041. */
#define WIN10_NEGOTIATE \
	"4e544c4d53535000 01000000 b78208e2 0000000000000000 0000000000000000 0a00614a0000000f"

static const struct vector vectors[] = {
    {"4.2.2.3 CHALLENGE", KIND_CHALLENGE, V1_CHALLENGE_MSG},
    {"4.2.2.3 AUTHENTICATE", KIND_AUTHENTICATE, V1_AUTHENTICATE_MSG},
    {"4.2.3.3 CHALLENGE", KIND_CHALLENGE, V1ESS_CHALLENGE_MSG},
    {"4.2.3.3 AUTHENTICATE", KIND_AUTHENTICATE, V1ESS_AUTHENTICATE_MSG},
    {"4.2.4.3 CHALLENGE", KIND_CHALLENGE, V2_CHALLENGE_MSG},
    {"4.2.4.3 AUTHENTICATE", KIND_AUTHENTICATE, V2_AUTHENTICATE_MSG},
    {"Windows NEGOTIATE", KIND_NEGOTIATE, WIN10_NEGOTIATE},
};
#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

union any_msg {
	struct ntlm_negotiate n;
	struct ntlm_challenge c;
	struct ntlm_authenticate a;
};

static enum ntlm_status decode_any(enum msg_kind k, const uint8_t *buf, size_t len, union any_msg *m)
{
	switch (k) {
	case KIND_NEGOTIATE:
		return ntlm_negotiate_decode(buf, len, &m->n);
	case KIND_CHALLENGE:
		return ntlm_challenge_decode(buf, len, &m->c);
	case KIND_AUTHENTICATE:
		return ntlm_authenticate_decode(buf, len, &m->a);
	}
	return NTLM_ERR_INTERNAL;
}

static enum ntlm_status encode_any(enum msg_kind k, const union any_msg *m, uint8_t **ret, size_t *ret_len)
{
	switch (k) {
	case KIND_NEGOTIATE:
		return ntlm_negotiate_encode(&m->n, ret, ret_len);
	case KIND_CHALLENGE:
		return ntlm_challenge_encode(&m->c, ret, ret_len);
	case KIND_AUTHENTICATE:
		return ntlm_authenticate_encode(&m->a, ret, ret_len);
	}
	return NTLM_ERR_INTERNAL;
}

static void clear_any(enum msg_kind k, union any_msg *m)
{
	switch (k) {
	case KIND_NEGOTIATE:
		ntlm_negotiate_clear(&m->n);
		break;
	case KIND_CHALLENGE:
		ntlm_challenge_clear(&m->c);
		break;
	case KIND_AUTHENTICATE:
		ntlm_authenticate_clear(&m->a);
		break;
	}
}

static void check_view(struct ntlm_view v, const char *hex)
{
	static const uint8_t none[1];

	/* an empty view has no data pointer (and memcmp wants one) */
	if (v.len == 0)
		ck_assert_ptr_null(v.data);
	ck_assert_hex_eq(v.len > 0 ? v.data : none, v.len, hex);
}

static void check_version(const struct ntlm_version *v, uint8_t major, uint8_t minor, uint16_t build)
{
	ck_assert_uint_eq(v->major, major);
	ck_assert_uint_eq(v->minor, minor);
	ck_assert_uint_eq(v->build, build);
	ck_assert_uint_eq(v->revision, 15); /* NTLMSSP_REVISION_W2K3 */
}

/* ------------------------------------------------------------------ */
/* MS-NLMP 4.2 CHALLENGE messages                                      */
/* ------------------------------------------------------------------ */

/* A spec message from hex, checking the type ntlm_message_type() reads. */
static uint8_t *spec_message(const char *hex, uint32_t want_type, size_t *ret_len)
{
	uint8_t *buf = test_hex(hex, ret_len);
	uint32_t type = 0;

	ck_assert_status(ntlm_message_type(buf, *ret_len, &type), NTLM_OK);
	ck_assert_uint_eq(type, want_type);
	return buf;
}

static void check_spec_challenge(const char *hex, uint32_t flags, const char *target_info)
{
	size_t len;
	uint8_t *buf = spec_message(hex, 2, &len);
	struct ntlm_challenge c;

	uint8_t peeked[NTLM_CHALLENGE_LEN];
	uint32_t peeked_flags = 0;

	ck_assert_status(ntlm_challenge_decode(buf, len, &c), NTLM_OK);
	ck_assert_uint_eq(c.flags, flags);
	ck_assert_hex_eq(c.server_challenge, 8, V_SERVER_CHALLENGE);
	ck_assert_str_eq(c.target_name, V_SERVER);
	/* the fixed header alone gives the same flags and challenge, and a
	 * message cut before the end of ServerChallenge gives none */
	ck_assert_status(ntlm_challenge_peek(buf, len, &peeked_flags, peeked), NTLM_OK);
	ck_assert_uint_eq(peeked_flags, flags);
	ck_assert_hex_eq(peeked, 8, V_SERVER_CHALLENGE);
	ck_assert_status(ntlm_challenge_peek(buf, 32, &peeked_flags, peeked), NTLM_OK);
	ck_assert_status(ntlm_challenge_peek(buf, 31, &peeked_flags, peeked), NTLM_ERR_TRUNCATED);
	if (target_info == NULL) {
		ck_assert_uint_eq(c.target_info.len, 0);
		ck_assert_ptr_null(c.target_info.data);
	} else {
		check_view(c.target_info, target_info);
		/* borrowed: it points into buf */
		ck_assert(c.target_info.data > buf && c.target_info.data < buf + len);
	}
	ck_assert(c.has_version);
	check_version(&c.version, 6, 0, 6000);
	ntlm_challenge_clear(&c);
	ck_assert_ptr_null(c.target_name);
	free(buf);
}

START_TEST(test_challenge_4_2_2_3)
{
	check_spec_challenge(V1_CHALLENGE_MSG, V1_FLAGS, NULL);
}
END_TEST

START_TEST(test_challenge_4_2_3_3)
{
	check_spec_challenge(V1ESS_CHALLENGE_MSG, V1ESS_FLAGS, NULL);
}
END_TEST

START_TEST(test_challenge_4_2_4_3)
{
	size_t len;
	uint8_t *buf = test_hex(V2_CHALLENGE_MSG, &len);
	struct ntlm_challenge c;
	struct ntlm_av_list l;

	check_spec_challenge(V2_CHALLENGE_MSG, V2_FLAGS, V2_TARGET_INFO);
	/* MS-NLMP 4.2.4: MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server" */
	ck_assert_status(ntlm_challenge_decode(buf, len, &c), NTLM_OK);
	ck_assert_status(ntlm_av_list_decode(c.target_info.data, c.target_info.len, &l), NTLM_OK);
	ck_assert_uint_eq(l.count, 2);
	ck_assert_uint_eq(l.pairs[0].id, NTLM_AV_NB_DOMAIN_NAME);
	check_view(l.pairs[0].value, DOMAIN_U16);
	ck_assert_uint_eq(l.pairs[1].id, NTLM_AV_NB_COMPUTER_NAME);
	check_view(l.pairs[1].value, SERVER_U16);
	ntlm_challenge_clear(&c);
	free(buf);
}
END_TEST

/* ------------------------------------------------------------------ */
/* MS-NLMP 4.2 AUTHENTICATE messages                                   */
/* ------------------------------------------------------------------ */

static void check_spec_authenticate(const char *hex, uint32_t flags, const char *lm, const char *nt,
                                    const char *session_key)
{
	size_t len;
	uint8_t *buf = spec_message(hex, 3, &len);
	struct ntlm_authenticate a;

	ck_assert_status(ntlm_authenticate_decode(buf, len, &a), NTLM_OK);
	ck_assert_uint_eq(a.flags, flags);
	ck_assert_str_eq(a.domain, V_DOMAIN);
	ck_assert_str_eq(a.user, V_USER);
	ck_assert_str_eq(a.workstation, V_WORKSTATION);
	check_view(a.lm_response, lm);
	check_view(a.nt_response, nt);
	check_view(a.encrypted_session_key, session_key);
	if (session_key[0] == '\0')
		ck_assert_ptr_null(a.encrypted_session_key.data);
	ck_assert(a.has_version);
	check_version(&a.version, 5, 1, 2600);
	/* The payload starts at 72: room for VERSION, none for a MIC. */
	ck_assert_uint_eq(a.mic_offset, 0);
	ntlm_authenticate_clear(&a);
	ck_assert_ptr_null(a.user);
	free(buf);
}

START_TEST(test_authenticate_4_2_2_3)
{
	check_spec_authenticate(V1_AUTHENTICATE_MSG, V1_AUTH_FLAGS, V1_LM_RESPONSE, V1_NT_RESPONSE,
	                        V1_ENC_SESSION_KEY);
}
END_TEST

START_TEST(test_authenticate_4_2_3_3)
{
	check_spec_authenticate(V1ESS_AUTHENTICATE_MSG, V1ESS_AUTH_FLAGS, V1ESS_LM_RESPONSE,
	                        V1ESS_NT_RESPONSE, "");
}
END_TEST

START_TEST(test_authenticate_4_2_4_3)
{
	size_t len;
	uint8_t *buf = test_hex(V2_AUTHENTICATE_MSG, &len);
	struct ntlm_authenticate a;
	struct ntlm_v2_blob b;
	struct ntlm_av_list l;

	check_spec_authenticate(V2_AUTHENTICATE_MSG, V2_AUTH_FLAGS, V2_LMV2_RESPONSE, V2_NTPROOFSTR V2_TEMP,
	                        V2_ENC_SESSION_KEY);
	/* MS-NLMP 4.2.4.1.3: the NTLMv2_CLIENT_CHALLENGE after NTProofStr */
	ck_assert_status(ntlm_authenticate_decode(buf, len, &a), NTLM_OK);
	ck_assert_uint_eq(a.nt_response.len, 16 + 68);
	ck_assert_status(ntlm_v2_blob_decode(a.nt_response.data + 16, a.nt_response.len - 16, &b), NTLM_OK);
	ck_assert_uint_eq(b.resp_type, 1);
	ck_assert_uint_eq(b.hi_resp_type, 1);
	ck_assert(b.timestamp == 0);
	ck_assert_hex_eq(b.client_challenge, 8, V_CLIENT_CHALLENGE);
	/* the server's AV pairs, then four bytes of zero padding */
	check_view(b.av_pairs, V2_TARGET_INFO "00000000");
	ck_assert_status(ntlm_av_list_decode(b.av_pairs.data, b.av_pairs.len, &l), NTLM_OK);
	ck_assert_uint_eq(l.count, 2);
	ntlm_authenticate_clear(&a);
	free(buf);
}
END_TEST

/* Decoding then encoding every example gives back the same bytes. */
START_TEST(test_reencode_identical)
{
	for (size_t i = 0; i < N_VECTORS; i++) {
		size_t len, out_len = 0;
		uint8_t *buf = test_hex(vectors[i].hex, &len), *out = NULL;
		union any_msg m;

		ck_assert_msg(decode_any(vectors[i].kind, buf, len, &m) == NTLM_OK, "%s", vectors[i].name);
		ck_assert_msg(encode_any(vectors[i].kind, &m, &out, &out_len) == NTLM_OK, "%s",
		              vectors[i].name);
		ck_assert_hex_eq(out, out_len, vectors[i].hex);
		clear_any(vectors[i].kind, &m);
		free(out);
		free(buf);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* NTLMv2 blob                                                         */
/* ------------------------------------------------------------------ */

START_TEST(test_v2_blob)
{
	size_t len;
	uint8_t *buf;
	struct ntlm_v2_blob b = {.resp_type = 99};

	/* 28 bytes: no AV pairs at all; reserved fields are ignored. */
	buf = test_hex("0101ffff ffffffff 0102030405060708 1112131415161718 ffffffff", &len);
	ck_assert_status(ntlm_v2_blob_decode(buf, len, &b), NTLM_OK);
	ck_assert(b.timestamp == 0x0807060504030201ull);
	ck_assert_hex_eq(b.client_challenge, 8, "1112131415161718");
	ck_assert_uint_eq(b.av_pairs.len, 0);
	ck_assert_ptr_null(b.av_pairs.data);

	b.resp_type = 99;
	ck_assert_status(ntlm_v2_blob_decode(buf, len - 1, &b), NTLM_ERR_TRUNCATED);
	ck_assert_status(ntlm_v2_blob_decode(buf, 0, &b), NTLM_ERR_TRUNCATED);
	ck_assert_uint_eq(b.resp_type, 99);
	buf[0] = 2;
	ck_assert_status(ntlm_v2_blob_decode(buf, len, &b), NTLM_ERR_BAD_RESPONSE);
	buf[0] = 1;
	buf[1] = 0;
	ck_assert_status(ntlm_v2_blob_decode(buf, len, &b), NTLM_ERR_BAD_RESPONSE);
	ck_assert_uint_eq(b.resp_type, 99);
	free(buf);
}
END_TEST

/* ------------------------------------------------------------------ */
/* NEGOTIATE                                                           */
/* ------------------------------------------------------------------ */

START_TEST(test_negotiate_windows)
{
	size_t len;
	uint8_t *buf = test_hex(WIN10_NEGOTIATE, &len);
	struct ntlm_negotiate n;

	ck_assert_status(ntlm_negotiate_decode(buf, len, &n), NTLM_OK);
	ck_assert_uint_eq(n.flags, 0xe20882b7u);
	ck_assert_ptr_null(n.domain);
	ck_assert_ptr_null(n.workstation);
	ck_assert(n.has_version);
	check_version(&n.version, 10, 0, 19041);
	ntlm_negotiate_clear(&n);

	/* Same bytes without the VERSION flag: the 8 bytes are not a VERSION. */
	buf[15] = 0xe0;
	ck_assert_status(ntlm_negotiate_decode(buf, len, &n), NTLM_OK);
	ck_assert(!n.has_version);
	ntlm_negotiate_clear(&n);
	free(buf);
}
END_TEST

/* impacket and curl: 32 bytes, the VERSION flag set and no VERSION field. */
START_TEST(test_negotiate_32_bytes)
{
	size_t len, out_len;
	uint8_t *buf = test_hex("4e544c4d53535000 01000000 35820862 0000000000000000 0000000000000000", &len);
	uint8_t *out = NULL;
	struct ntlm_negotiate n;

	ck_assert_uint_eq(len, 32);
	ck_assert_status(ntlm_negotiate_decode(buf, len, &n), NTLM_OK);
	ck_assert_uint_eq(n.flags, 0x62088235u);
	ck_assert(n.flags & NTLM_NEGOTIATE_VERSION);
	ck_assert(!n.has_version);
	ck_assert_ptr_null(n.domain);
	ck_assert_ptr_null(n.workstation);
	ck_assert_status(ntlm_negotiate_encode(&n, &out, &out_len), NTLM_OK);
	ck_assert_hex_eq(out, out_len,
	                 "4e544c4d53535000 01000000 35820862 0000000000000000 0000000000000000");
	ntlm_negotiate_clear(&n);
	free(out);
	free(buf);
}
END_TEST

/* cntlm style: OEM names right after the 32-byte header, VERSION flag set but no room. */
START_TEST(test_negotiate_oem_names)
{
	/* flags: UNICODE OEM REQUEST_TARGET NTLM OEM_DOMAIN OEM_WORKSTATION ALWAYS_SIGN VERSION */
	const char *hex = "4e544c4d53535000 01000000 07b20002"
	                  "06000600 20000000" /* domain "DOMAIN" at 32 */
	                  "02000200 26000000" /* workstation "WS" at 38 */
	                  "444f4d41494e 5753";
	size_t len, out_len;
	uint8_t *buf = test_hex(hex, &len), *out = NULL;
	struct ntlm_negotiate n;

	ck_assert_status(ntlm_negotiate_decode(buf, len, &n), NTLM_OK);
	ck_assert_str_eq(n.domain, "DOMAIN");
	ck_assert_str_eq(n.workstation, "WS");
	ck_assert(!n.has_version);
	ck_assert_status(ntlm_negotiate_encode(&n, &out, &out_len), NTLM_OK);
	ck_assert_hex_eq(out, out_len, hex);
	ntlm_negotiate_clear(&n);
	free(out);

	/* Without the SUPPLIED flags the fields are ignored, even when bogus. */
	buf[13] = 0x82; /* flags 0x02008207 */
	buf[20] = 0xff;
	buf[21] = 0xff; /* domain offset 0x0000ffff */
	ck_assert_status(ntlm_negotiate_decode(buf, len, &n), NTLM_OK);
	ck_assert_ptr_null(n.domain);
	ck_assert_ptr_null(n.workstation);
	ntlm_negotiate_clear(&n);
	free(buf);

	/* OEM 8-bit text that is not UTF-8 decodes through CP850 (0xE9 is U
	 * acute); the encoder still writes ASCII only. */
	buf = test_hex("4e544c4d53535000 01000000 07100000 01000100 20000000 0000000000000000 e9", &len);
	ck_assert_status(ntlm_negotiate_decode(buf, len, &n), NTLM_OK);
	ck_assert_str_eq(n.domain, "\xc3\x9a");
	ck_assert_int_eq(n.domain_text, NTLM_TEXT_CODEPAGE);
	ntlm_negotiate_clear(&n);
	free(buf);
	n = (struct ntlm_negotiate){.flags = NTLM_NEGOTIATE_OEM, .domain = (char *)"caf\xc3\xa9"};
	ck_assert_status(ntlm_negotiate_encode(&n, &out, &out_len), NTLM_ERR_BAD_STRING);
}
END_TEST

/* Encodes m, checks the bytes against hex and decodes them into ret; returns
 * the encoding, which the views in ret point into. */
static uint8_t *encode_and_decode(enum msg_kind k, const union any_msg *m, const char *hex,
                                  union any_msg *ret)
{
	uint8_t *out = NULL;
	size_t out_len;

	ck_assert_status(encode_any(k, m, &out, &out_len), NTLM_OK);
	ck_assert_hex_eq(out, out_len, hex);
	ck_assert_status(decode_any(k, out, out_len, ret), NTLM_OK);
	return out;
}

START_TEST(test_negotiate_encode_roundtrip)
{
	const struct ntlm_negotiate n = {
	    .flags = NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_OEM_DOMAIN_SUPPLIED |
	             NTLM_NEGOTIATE_OEM_WORKSTATION_SUPPLIED | NTLM_NEGOTIATE_VERSION,
	    .domain = (char *)"DOMAIN",
	    .workstation = (char *)"WS",
	    .has_version = true,
	    .version = {6, 1, 7601, 15},
	};
	const union any_msg m = {.n = n};
	union any_msg d;
	/* MS-NLMP 2.2.1.1: names are OEM even with UNICODE; VERSION at 32 */
	uint8_t *out =
	    encode_and_decode(KIND_NEGOTIATE, &m,
	                      "4e544c4d53535000 01000000 01300002 06000600 28000000 02000200 2e000000"
	                      "0601b11d0000000f 444f4d41494e 5753",
	                      &d);

	ck_assert_str_eq(d.n.domain, "DOMAIN");
	ck_assert_str_eq(d.n.workstation, "WS");
	ck_assert(d.n.has_version);
	check_version(&d.n.version, 6, 1, 7601);
	ntlm_negotiate_clear(&d.n);
	free(out);
}
END_TEST

/* ------------------------------------------------------------------ */
/* AUTHENTICATE built by hand: MIC, OEM, long names                    */
/* ------------------------------------------------------------------ */

struct auth_build {
	uint32_t flags;
	size_t payload_start; /* >= 64: VERSION then MIC_PATTERN fill the gap */
	const uint8_t *user;  /* NULL: "User" in UTF-16LE */
	size_t user_len;
	bool no_payload; /* all fields empty; the message is payload_start long */
	bool oem;        /* domain and workstation in ASCII */
};

static void append_hex(struct ntlm_writer *w, const char *hex)
{
	size_t len;
	uint8_t *b = test_hex(hex, &len);

	ntlm_write_bytes(w, b, len);
	free(b);
}

/* An AUTHENTICATE with the 4.2.2 values, its payload where b says. */
static uint8_t *build_auth(const struct auth_build *b, size_t *ret_len)
{
	size_t user_len, user_hex_len;
	uint8_t *user_hex = test_hex(USER_U16, &user_hex_len), *gap, *out = NULL;
	const uint8_t *user = b->user != NULL ? b->user : user_hex;
	/* payload order: domain, user, workstation, LM, NT, session key */
	size_t lens[6] = {12, 0, 16, 24, 24, 16}, offs[6], pos = b->payload_start, gap_len;
	const char *domain_hex = b->oem ? "446f6d61696e" : DOMAIN_U16;
	const char *workstation_hex = b->oem ? "434f4d5055544552" : WORKSTATION_U16;
	static const size_t header_order[6] = {3, 4, 0, 1, 2, 5};
	struct ntlm_writer w;

	user_len = b->user != NULL ? b->user_len : user_hex_len;
	lens[1] = user_len;
	if (b->oem) {
		lens[0] = 6;
		lens[2] = 8;
	}
	for (size_t i = 0; i < 6; i++) {
		if (b->no_payload)
			lens[i] = 0;
		offs[i] = b->no_payload ? 0 : pos;
		pos += lens[i];
	}
	ntlm_writer_init(&w, 1u << 20);
	ntlm_write_bytes(&w, "NTLMSSP", 8);
	ntlm_write_u32le(&w, 3);
	for (size_t i = 0; i < 6; i++) {
		size_t k = header_order[i];
		ntlm_write_u16le(&w, (uint16_t)lens[k]);
		ntlm_write_u16le(&w, (uint16_t)lens[k]);
		ntlm_write_u32le(&w, (uint32_t)offs[k]);
	}
	ntlm_write_u32le(&w, b->flags);
	gap = test_hex(VERSION_5_1 MIC_PATTERN, &gap_len);
	for (size_t i = AUTH_HEADER; i < b->payload_start; i++)
		ntlm_write_u8(&w, i - AUTH_HEADER < gap_len ? gap[i - AUTH_HEADER] : 0);
	if (!b->no_payload) {
		append_hex(&w, domain_hex);
		ntlm_write_bytes(&w, user, user_len);
		append_hex(&w, workstation_hex);
		append_hex(&w, V1_LM_RESPONSE);
		append_hex(&w, V1_NT_RESPONSE);
		append_hex(&w, V1_ENC_SESSION_KEY);
	}
	ck_assert_status(ntlm_writer_finish(&w, &out, ret_len), NTLM_OK);
	free(gap);
	free(user_hex);
	return out;
}

/* Decodes a hand-built AUTHENTICATE and checks VERSION / MIC inference. */
static void check_mic_inference(uint32_t flags, size_t payload_start, bool want_version, size_t want_mic)
{
	struct auth_build b = {.flags = flags, .payload_start = payload_start};
	size_t len;
	uint8_t *buf = build_auth(&b, &len);
	struct ntlm_authenticate a;

	ck_assert_status(ntlm_authenticate_decode(buf, len, &a), NTLM_OK);
	ck_assert_msg(a.has_version == want_version, "payload at %zu: has_version %d", payload_start,
	              a.has_version);
	if (want_version)
		check_version(&a.version, 5, 1, 2600);
	ck_assert_uint_eq(a.mic_offset, want_mic);
	if (want_mic != 0)
		ck_assert_hex_eq(a.mic, 16, MIC_PATTERN);
	ck_assert_str_eq(a.user, "User");
	ck_assert_str_eq(a.domain, "Domain");
	ck_assert_str_eq(a.workstation, "COMPUTER");
	check_view(a.nt_response, V1_NT_RESPONSE);
	ntlm_authenticate_clear(&a);
	free(buf);
}

START_TEST(test_authenticate_mic_inference)
{
	const uint32_t v = V2_AUTH_FLAGS, nov = V2_AUTH_FLAGS & ~NTLM_NEGOTIATE_VERSION;

	check_mic_inference(v, 88, true, MIC_OFFSET);
	check_mic_inference(v, 96, true, MIC_OFFSET);
	check_mic_inference(v, 87, true, 0);
	check_mic_inference(v, 80, true, 0);
	check_mic_inference(v, 72, true, 0);
	check_mic_inference(v, 71, false, 0);
	check_mic_inference(v, 64, false, 0);
	/* Without the VERSION flag the MIC still sits at 72 (VERSION zeroed). */
	check_mic_inference(nov, 88, false, MIC_OFFSET);
	check_mic_inference(nov, 80, false, 0);
	check_mic_inference(nov, 72, false, 0);
	check_mic_inference(nov, 64, false, 0);
}
END_TEST

/* With no payload at all, the message length decides. */
START_TEST(test_authenticate_mic_no_payload)
{
	static const size_t lens[] = {64, 72, 87, 88, 100};
	static const size_t mics[] = {0, 0, 0, MIC_OFFSET, MIC_OFFSET};

	for (size_t i = 0; i < 5; i++) {
		struct auth_build b = {.flags = V2_AUTH_FLAGS, .payload_start = lens[i], .no_payload = true};
		size_t len;
		uint8_t *buf = build_auth(&b, &len);
		struct ntlm_authenticate a;

		ck_assert_uint_eq(len, lens[i]);
		ck_assert_status(ntlm_authenticate_decode(buf, len, &a), NTLM_OK);
		ck_assert(a.has_version == (lens[i] >= 72));
		ck_assert_uint_eq(a.mic_offset, mics[i]);
		ck_assert_str_eq(a.user, "");
		ck_assert_str_eq(a.domain, "");
		ck_assert_str_eq(a.workstation, "");
		ck_assert_uint_eq(a.nt_response.len, 0);
		ck_assert_ptr_null(a.nt_response.data);
		ntlm_authenticate_clear(&a);
		free(buf);
	}
}
END_TEST

/* The encoder writes a zeroed MIC at 72 (and zeroed VERSION if not negotiated). */
START_TEST(test_authenticate_mic_encode)
{
	const uint32_t flag_sets[2] = {V2_AUTH_FLAGS, V2_AUTH_FLAGS & ~NTLM_NEGOTIATE_VERSION};

	for (size_t i = 0; i < 2; i++) {
		struct auth_build b = {.flags = flag_sets[i], .payload_start = 88};
		size_t len, out_len;
		uint8_t *buf = build_auth(&b, &len), *out = NULL;
		struct ntlm_authenticate a;

		ck_assert_status(ntlm_authenticate_decode(buf, len, &a), NTLM_OK);
		ck_assert_uint_eq(a.mic_offset, MIC_OFFSET);
		ck_assert_status(ntlm_authenticate_encode(&a, &out, &out_len), NTLM_OK);
		/* the same bytes, with the MIC (and an unnegotiated VERSION) zeroed */
		memset(buf + MIC_OFFSET, 0, 16);
		if (i == 1)
			memset(buf + AUTH_HEADER, 0, 8);
		ck_assert_uint_eq(out_len, len);
		ck_assert_mem_eq(out, buf, len);
		free(out);

		/* The MIC can only be at 72. */
		a.mic_offset = AUTH_HEADER;
		ck_assert_status(ntlm_authenticate_encode(&a, &out, &out_len), NTLM_ERR_INVALID_ARGUMENT);
		a.mic_offset = 80;
		ck_assert_status(ntlm_authenticate_encode(&a, &out, &out_len), NTLM_ERR_INVALID_ARGUMENT);
		a.mic_offset = MIC_OFFSET;
		ntlm_authenticate_clear(&a);
		free(buf);
	}
}
END_TEST

START_TEST(test_authenticate_oem)
{
	const uint8_t lm[24] = {1, 2, 3}, nt[24] = {4, 5, 6};
	struct ntlm_authenticate a = {
	    .flags = NTLM_NEGOTIATE_OEM | NTLM_NEGOTIATE_NTLM,
	    .lm_response = {lm, 24},
	    .nt_response = {nt, 24},
	    .domain = (char *)"DOM",
	    .user = (char *)"user",
	    .workstation = (char *)"WS",
	};
	struct ntlm_authenticate d;
	uint8_t *out = NULL;
	size_t out_len;

	ck_assert_status(ntlm_authenticate_encode(&a, &out, &out_len), NTLM_OK);
	ck_assert_uint_eq(out_len, 64 + 3 + 4 + 2 + 24 + 24);
	ck_assert_hex_eq(out + 28, 8, "03000300 40000000"); /* domain at 64 */
	ck_assert_hex_eq(out + 36, 8, "04000400 43000000"); /* user at 67 */
	ck_assert_hex_eq(out + 52, 8, "00000000 79000000"); /* empty key: where it would be */
	ck_assert_mem_eq(out + 64, "DOMuserWS", 9);
	ck_assert_status(ntlm_authenticate_decode(out, out_len, &d), NTLM_OK);
	ck_assert_str_eq(d.domain, "DOM");
	ck_assert_str_eq(d.user, "user");
	ck_assert_str_eq(d.workstation, "WS");
	ck_assert(!d.has_version);
	ck_assert_uint_eq(d.mic_offset, 0);
	ck_assert_mem_eq(d.lm_response.data, lm, 24);
	ntlm_authenticate_clear(&d);

	/* Non-ASCII in an OEM message decodes through the code page (CP850
	 * 0xC9 is U+2554), and the encoder writes ASCII only. */
	out[66] = 0xc9;
	ck_assert_status(ntlm_authenticate_decode(out, out_len, &d), NTLM_OK);
	ck_assert_str_eq(d.domain, "DO\xe2\x95\x94");
	ck_assert_int_eq(d.domain_text, NTLM_TEXT_CODEPAGE);
	ck_assert_int_eq(d.user_text, NTLM_TEXT_ASCII);
	ntlm_authenticate_clear(&d);
	free(out);
	a.user = (char *)"\xc3\xa9t\xc3\xa9";
	ck_assert_status(ntlm_authenticate_encode(&a, &out, &out_len), NTLM_ERR_BAD_STRING);
	/* Invalid UTF-8 is refused for UNICODE too. */
	a.flags |= NTLM_NEGOTIATE_UNICODE;
	a.user = (char *)"\xc3";
	ck_assert_status(ntlm_authenticate_encode(&a, &out, &out_len), NTLM_ERR_BAD_STRING);
}
END_TEST

/* An anonymous AUTHENTICATE: Z(1) LM response, nothing else (MS-NLMP 3.2.5.1.2). */
START_TEST(test_authenticate_anonymous)
{
	const uint8_t z1[1] = {0};
	const struct ntlm_authenticate a = {.flags = NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_ANONYMOUS,
	                                    .lm_response = {z1, 1}};
	const union any_msg m = {.a = a};
	union any_msg d;
	uint8_t *out = encode_and_decode(
	    KIND_AUTHENTICATE, &m,
	    "4e544c4d53535000 03000000 01000100 40000000 00000000 41000000 00000000 40000000"
	    "00000000 40000000 00000000 40000000 00000000 41000000 01080000 00",
	    &d);

	ck_assert_str_eq(d.a.domain, "");
	ck_assert_str_eq(d.a.user, "");
	ck_assert_str_eq(d.a.workstation, "");
	ck_assert_uint_eq(d.a.lm_response.len, 1);
	ck_assert_uint_eq(d.a.nt_response.len, 0);
	ntlm_authenticate_clear(&d.a);
	free(out);
}
END_TEST

START_TEST(test_authenticate_name_limits)
{
	uint8_t name[2 * (NTLM_MAX_NAME + 1)];
	struct auth_build b = {.flags = V1_AUTH_FLAGS, .payload_start = 72, .user = name};
	struct ntlm_authenticate a;
	uint8_t *buf;
	size_t len;
	char long_name[NTLM_MAX_NAME + 2];

	for (size_t i = 0; i < NTLM_MAX_NAME + 1; i++) {
		name[2 * i] = 'a';
		name[2 * i + 1] = 0;
	}
	b.user_len = 2 * NTLM_MAX_NAME;
	buf = build_auth(&b, &len);
	ck_assert_status(ntlm_authenticate_decode(buf, len, &a), NTLM_OK);
	ck_assert_uint_eq(strlen(a.user), NTLM_MAX_NAME);
	ntlm_authenticate_clear(&a);
	free(buf);

	b.user_len = 2 * (NTLM_MAX_NAME + 1);
	buf = build_auth(&b, &len);
	ck_assert_status(ntlm_authenticate_decode(buf, len, &a), NTLM_ERR_STRING_TOO_LONG);
	free(buf);

	/* OEM: the cap is in characters too */
	memset(name, 'a', sizeof(name));
	b.flags = V1_AUTH_FLAGS & ~NTLM_NEGOTIATE_UNICODE;
	b.oem = true;
	b.user_len = NTLM_MAX_NAME;
	buf = build_auth(&b, &len);
	ck_assert_status(ntlm_authenticate_decode(buf, len, &a), NTLM_OK);
	ck_assert_str_eq(a.domain, "Domain");
	ck_assert_str_eq(a.workstation, "COMPUTER");
	ck_assert_uint_eq(strlen(a.user), NTLM_MAX_NAME);
	ntlm_authenticate_clear(&a);
	free(buf);
	b.user_len = NTLM_MAX_NAME + 1;
	buf = build_auth(&b, &len);
	ck_assert_status(ntlm_authenticate_decode(buf, len, &a), NTLM_ERR_STRING_TOO_LONG);
	free(buf);

	/* Encoding a name over the cap fails the same way. */
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	{
		struct ntlm_authenticate e = {.flags = NTLM_NEGOTIATE_UNICODE, .user = long_name};
		uint8_t *out = NULL;
		size_t out_len;

		ck_assert_status(ntlm_authenticate_encode(&e, &out, &out_len), NTLM_ERR_STRING_TOO_LONG);
		e.flags = NTLM_NEGOTIATE_OEM;
		ck_assert_status(ntlm_authenticate_encode(&e, &out, &out_len), NTLM_ERR_STRING_TOO_LONG);
		long_name[NTLM_MAX_NAME] = '\0';
		ck_assert_status(ntlm_authenticate_encode(&e, &out, &out_len), NTLM_OK);
		free(out);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Control characters in names                                         */
/* ------------------------------------------------------------------ */

enum { NAME_DOMAIN, NAME_USER, NAME_WORKSTATION };

/*
 * An AUTHENTICATE, UTF-16LE or OEM, whose domain, user or workstation
 * (which) holds the code unit u at its start, middle or end (pos 0, 1, 2);
 * the other names are plain. The encoder writes '#' where u goes, which is
 * then patched into the payload.
 */
static uint8_t *auth_with_unit(bool unicode, int which, int pos, uint16_t u, size_t *ret_len)
{
	static const char *const names[3][3] = {
	    {"#DOMAIN", "DOM#AIN", "DOMAIN#"}, {"#user", "us#er", "user#"}, {"#WS", "W#S", "WS#"}};
	static const uint8_t lm[24] = {1}, nt[24] = {2};
	struct ntlm_authenticate a = {
	    .flags = (unicode ? NTLM_NEGOTIATE_UNICODE : NTLM_NEGOTIATE_OEM) | NTLM_NEGOTIATE_NTLM,
	    .lm_response = {lm, 24},
	    .nt_response = {nt, 24},
	    .domain = (char *)"DOMAIN",
	    .user = (char *)"user",
	    .workstation = (char *)"WS",
	};
	char **field = which == NAME_DOMAIN ? &a.domain : which == NAME_USER ? &a.user : &a.workstation;
	size_t unit = unicode ? 2 : 1, hit = 0, len, flen, off;
	uint8_t *out = NULL;

	*field = (char *)names[which][pos];
	ck_assert_status(ntlm_authenticate_encode(&a, &out, &len), NTLM_OK);
	/* MS-NLMP 2.2.1.3: DomainNameFields at 28, UserNameFields at 36,
	 * WorkstationFields at 44: Len (2), MaxLen (2), Offset (4) */
	flen = (size_t)out[28 + 8 * which] | (size_t)out[29 + 8 * which] << 8;
	off = (size_t)out[32 + 8 * which] | (size_t)out[33 + 8 * which] << 8;
	ck_assert_uint_le(off + flen, len);
	for (size_t i = off; i + unit <= off + flen; i += unit) {
		if (out[i] == '#' && (!unicode || out[i + 1] == 0)) {
			out[i] = (uint8_t)(u & 0xFF);
			if (unicode)
				out[i + 1] = (uint8_t)(u >> 8);
			hit++;
		}
	}
	ck_assert_uint_eq(hit, 1);
	*ret_len = len;
	return out;
}

/* What the decoder must say of the unit u in a name. */
static enum ntlm_status expected_for_unit(bool unicode, uint16_t u)
{
	if (u < 0x20 || u == 0x7F)
		return NTLM_ERR_CONTROL_CHARACTER; /* C0, DEL */
	if (unicode && u >= 0x80 && u <= 0x9F)
		return NTLM_ERR_CONTROL_CHARACTER; /* C1 (NEL U+0085 among them) */
	/* an OEM byte 0x80..0xFF alone is no UTF-8: CP850, where 0x80..0x9F are letters */
	return NTLM_OK;
}

/* Every code unit up to U+02FF, in each name, at its start, middle and end,
 * UTF-16LE and OEM: control characters are refused with their own status,
 * everything else (a space, 'e' with an acute accent, NBSP...) decodes. */
START_TEST(test_authenticate_control_characters)
{
	for (int unicode = 0; unicode <= 1; unicode++) {
		for (int which = NAME_DOMAIN; which <= NAME_WORKSTATION; which++) {
			for (int pos = 0; pos < 3; pos++) {
				for (uint32_t u = 0; u < (unicode ? 0x300u : 0x100u); u++) {
					struct ntlm_authenticate d;
					size_t len;
					uint8_t *buf = auth_with_unit(unicode, which, pos, (uint16_t)u, &len);
					enum ntlm_status want = expected_for_unit(unicode, (uint16_t)u);
					enum ntlm_status st = ntlm_authenticate_decode(buf, len, &d);

					ck_assert_msg(st == want, "%s name %d pos %d U+%04X: %s, expected %s",
					              unicode ? "UTF-16" : "OEM", which, pos, (unsigned)u,
					              ntlm_status_name(st), ntlm_status_name(want));
					if (st == NTLM_OK)
						ntlm_authenticate_clear(&d);
					free(buf);
				}
			}
		}
	}
}
END_TEST

/* Spaces and non-ASCII letters are names like any other. */
START_TEST(test_authenticate_names_with_spaces_and_accents)
{
	static const uint8_t lm[24] = {1}, nt[24] = {2};
	struct ntlm_authenticate a = {
	    .flags = NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_NTLM,
	    .lm_response = {lm, 24},
	    .nt_response = {nt, 24},
	    .domain = (char *)"R\xc3\xa9seau Sud",
	    .user = (char *)" john smith ",
	    .workstation = (char *)"PC de Jos\xc3\xa9",
	};
	struct ntlm_authenticate d;
	uint8_t *out = NULL;
	size_t len;

	ck_assert_status(ntlm_authenticate_encode(&a, &out, &len), NTLM_OK);
	ck_assert_status(ntlm_authenticate_decode(out, len, &d), NTLM_OK);
	ck_assert_str_eq(d.domain, "R\xc3\xa9seau Sud");
	ck_assert_str_eq(d.user, " john smith ");
	ck_assert_str_eq(d.workstation, "PC de Jos\xc3\xa9");
	ntlm_authenticate_clear(&d);
	free(out);

	/* OEM: spaces too */
	a.flags = NTLM_NEGOTIATE_OEM | NTLM_NEGOTIATE_NTLM;
	a.domain = (char *)"MY DOMAIN";
	a.workstation = (char *)"WS 1";
	ck_assert_status(ntlm_authenticate_encode(&a, &out, &len), NTLM_OK);
	ck_assert_status(ntlm_authenticate_decode(out, len, &d), NTLM_OK);
	ck_assert_str_eq(d.domain, "MY DOMAIN");
	ck_assert_str_eq(d.user, " john smith ");
	ck_assert_str_eq(d.workstation, "WS 1");
	ntlm_authenticate_clear(&d);
	free(out);
}
END_TEST

/* The NEGOTIATE's domain and workstation are informative: a control
 * character in them does not refuse the message. */
START_TEST(test_negotiate_names_not_checked)
{
	/* OEM domain "DO\tM" (TAB) and workstation "W\nS" (LF) */
	const char *hex = "4e544c4d53535000 01000000 07b00000"
	                  "04000400 20000000"
	                  "03000300 24000000"
	                  "444f094d 570a53";
	size_t len;
	uint8_t *buf = test_hex(hex, &len);
	struct ntlm_negotiate n;

	ck_assert_status(ntlm_negotiate_decode(buf, len, &n), NTLM_OK);
	/* kept for the log, escaped */
	ck_assert_str_eq(n.domain, "DO\\x09M");
	ck_assert_str_eq(n.workstation, "W\\x0aS");
	ck_assert_int_eq(n.domain_text, NTLM_TEXT_ESCAPED);
	ntlm_negotiate_clear(&n);
	free(buf);
}
END_TEST

/* Issue 14 class 3: go-ntlmssp writes UTF-8 in the NEGOTIATE's OEM
 * domain; NUL bytes and over-long names are kept escaped; nothing in the
 * informative names refuses the NEGOTIATE. */
START_TEST(test_negotiate_names_never_refuse)
{
	/* domain "Müller" in UTF-8, workstation "W\0S" */
	const char *hex = "4e544c4d53535000 01000000 07300000"
	                  "07000700 20000000"
	                  "03000300 27000000"
	                  "4dc3bc6c6c6572 570053";
	size_t len;
	uint8_t *buf = test_hex(hex, &len), *big;
	struct ntlm_negotiate n;

	ck_assert_status(ntlm_negotiate_decode(buf, len, &n), NTLM_OK);
	ck_assert_str_eq(n.domain, "M\xc3\xbcller");
	ck_assert_int_eq(n.domain_text, NTLM_TEXT_UTF8);
	ck_assert_str_eq(n.workstation, "W\\x00S");
	ck_assert_int_eq(n.workstation_text, NTLM_TEXT_ESCAPED);
	ntlm_negotiate_clear(&n);
	/* a domain of 300 bytes, over NTLM_MAX_NAME: kept escaped */
	big = calloc(1, 32 + 300);
	memcpy(big, buf, 32);
	memset(big + 32, 'a', 300);
	big[24] = 0; /* no workstation */
	big[25] = 0;
	big[12] = 0x07;
	big[13] = 0x10; /* OEM_DOMAIN_SUPPLIED only */
	big[16] = 300 & 0xff;
	big[17] = 300 >> 8;
	ck_assert_status(ntlm_negotiate_decode(big, 32 + 300, &n), NTLM_OK);
	ck_assert_int_eq(n.domain_text, NTLM_TEXT_ESCAPED);
	ck_assert_uint_eq(strlen(n.domain), 300);
	ntlm_negotiate_clear(&n);
	free(big);
	free(buf);
}
END_TEST

/* Issue 14 class 6: a Debian GSS-API NTLM client writes DomainName offset
 * 24 in a 32-byte NEGOTIATE with the data at 32. The message decodes; the
 * unreadable name is left out. */
START_TEST(test_negotiate_offset_inside_header)
{
	const char *hex = "4e544c4d53535000 01000000 07320000"
	                  "06000600 18000000"
	                  "02000200 26000000"
	                  "444f4d41494e 5753";
	size_t len;
	uint8_t *buf = test_hex(hex, &len);
	struct ntlm_negotiate n;

	ck_assert_status(ntlm_negotiate_decode(buf, len, &n), NTLM_OK);
	ck_assert_ptr_null(n.domain);
	ck_assert_int_eq(n.domain_text, NTLM_TEXT_UNREADABLE);
	ck_assert_str_eq(n.workstation, "WS");
	ck_assert(!n.has_version);
	ntlm_negotiate_clear(&n);
	/* past the end: the same */
	buf[20] = 0xf0;
	ck_assert_status(ntlm_negotiate_decode(buf, len, &n), NTLM_OK);
	ck_assert_int_eq(n.domain_text, NTLM_TEXT_UNREADABLE);
	ntlm_negotiate_clear(&n);
	free(buf);
}
END_TEST

/* An OEM AUTHENTICATE (flags say OEM, or UNICODE as GNU wget sends them)
 * with the names "TESTDOM", "erin" and "WGET-PC" in 8-bit text. */
static uint8_t *wget_style_auth(uint32_t flags, size_t *ret_len)
{
	static const uint8_t lm[24] = {1}, nt[24] = {2};
	struct ntlm_authenticate a = {
	    .flags = NTLM_NEGOTIATE_OEM | NTLM_NEGOTIATE_NTLM,
	    .lm_response = {lm, 24},
	    .nt_response = {nt, 24},
	    .domain = (char *)"TESTDOM",
	    .user = (char *)"erin",
	    .workstation = (char *)"WGET-PC",
	};
	uint8_t *out;

	ck_assert_status(ntlm_authenticate_encode(&a, &out, ret_len), NTLM_OK);
	out[60] = (uint8_t)flags; /* NegotiateFlags at 60, after encoding */
	out[61] = (uint8_t)(flags >> 8);
	out[62] = (uint8_t)(flags >> 16);
	out[63] = (uint8_t)(flags >> 24);
	return out;
}

/* Issue 14 class 1: the AUTHENTICATE's names are decoded in the encoding
 * the CHALLENGE chose, not in the one its own flags claim. */
START_TEST(test_authenticate_names_follow_challenge)
{
	const uint32_t wget = NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_NTLM;
	struct ntlm_decode_options oem = {.has_challenge_flags = true,
	                                  .challenge_flags = NTLM_NEGOTIATE_OEM | NTLM_NEGOTIATE_NTLM};
	struct ntlm_decode_options both = {.has_challenge_flags = true,
	                                   .challenge_flags = NTLM_NEGOTIATE_OEM | NTLM_NEGOTIATE_UNICODE};
	struct ntlm_decode_options neither = {.has_challenge_flags = true, .challenge_flags = 0};
	struct ntlm_decode_options unicode = {.has_challenge_flags = true,
	                                      .challenge_flags = NTLM_NEGOTIATE_UNICODE};
	struct ntlm_authenticate d;
	size_t len;
	uint8_t *buf = wget_style_auth(wget, &len);

	/* on its own flags alone, "TESTDOM" (7 bytes) is no UTF-16 */
	ck_assert_status(ntlm_authenticate_decode(buf, len, &d), NTLM_ERR_BAD_STRING);
	/* after an OEM CHALLENGE: OEM */
	ck_assert_status(ntlm_authenticate_decode_ex(buf, len, &oem, &d), NTLM_OK);
	ck_assert_str_eq(d.user, "erin");
	ck_assert_str_eq(d.domain, "TESTDOM");
	ck_assert_str_eq(d.workstation, "WGET-PC");
	ck_assert_int_eq(d.user_text, NTLM_TEXT_ASCII);
	ntlm_authenticate_clear(&d);
	/* the CHALLENGE left it open: UTF-16 first, then what the bytes can be */
	ck_assert_status(ntlm_authenticate_decode_ex(buf, len, &both, &d), NTLM_OK);
	ck_assert_str_eq(d.user, "erin");
	ntlm_authenticate_clear(&d);
	ck_assert_status(ntlm_authenticate_decode_ex(buf, len, &neither, &d), NTLM_OK);
	ck_assert_str_eq(d.user, "erin");
	ntlm_authenticate_clear(&d);
	/* after a UNICODE CHALLENGE the bytes must be UTF-16: no guessing */
	ck_assert_status(ntlm_authenticate_decode_ex(buf, len, &unicode, &d), NTLM_ERR_BAD_STRING);
	free(buf);

	/* UTF-16 names with the OEM flag, after a UNICODE CHALLENGE: UTF-16 */
	{
		static const uint8_t lm[24] = {1}, nt[24] = {2};
		struct ntlm_authenticate a = {
		    .flags = NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_NTLM,
		    .lm_response = {lm, 24},
		    .nt_response = {nt, 24},
		    .domain = (char *)"DOM",
		    .user = (char *)"erin",
		    .workstation = (char *)"WS",
		};
		ck_assert_status(ntlm_authenticate_encode(&a, &buf, &len), NTLM_OK);
		buf[60] = NTLM_NEGOTIATE_OEM;
		ck_assert_status(ntlm_authenticate_decode_ex(buf, len, &unicode, &d), NTLM_OK);
		ck_assert_str_eq(d.user, "erin");
		ck_assert_int_eq(d.user_text, NTLM_TEXT_UTF16);
		ntlm_authenticate_clear(&d);
		/* open CHALLENGE, OEM flag: "e\0r\0..." cannot be OEM (NUL), so UTF-16 */
		ck_assert_status(ntlm_authenticate_decode_ex(buf, len, &neither, &d), NTLM_OK);
		ck_assert_str_eq(d.user, "erin");
		ntlm_authenticate_clear(&d);
		/* closed OEM CHALLENGE: the NULs are control characters */
		ck_assert_status(ntlm_authenticate_decode_ex(buf, len, &oem, &d), NTLM_ERR_CONTROL_CHARACTER);
		free(buf);
	}
}
END_TEST

/* Issue 14 class 4: OEM names in UTF-8 or the configured code page; the
 * control-character rule holds for the decoded text whatever the rule. */
START_TEST(test_authenticate_oem_charsets)
{
	static const uint8_t lm[24] = {1}, nt[24] = {2};
	struct ntlm_authenticate a = {
	    .flags = NTLM_NEGOTIATE_OEM | NTLM_NEGOTIATE_NTLM,
	    .lm_response = {lm, 24},
	    .nt_response = {nt, 24},
	    .domain = (char *)"DOM",
	    .user = (char *)"#",
	    .workstation = (char *)"WS",
	};
	struct ntlm_decode_options latin1 = {.oem_charset = NTLM_OEM_ISO8859_1};
	struct ntlm_decode_options cp1252 = {.oem_charset = NTLM_OEM_CP1252};
	struct ntlm_authenticate d;
	uint8_t *buf;
	size_t len;

	ck_assert_status(ntlm_authenticate_encode(&a, &buf, &len), NTLM_OK);
	ck_assert_uint_eq(buf[67], '#'); /* the user after "DOM" at 64 */
	/* 0xFC: u umlaut in Latin-1 and CP1252, superscript three in CP850 */
	buf[67] = 0xfc;
	ck_assert_status(ntlm_authenticate_decode_ex(buf, len, &latin1, &d), NTLM_OK);
	ck_assert_str_eq(d.user, "\xc3\xbc");
	ck_assert_int_eq(d.user_text, NTLM_TEXT_CODEPAGE);
	ntlm_authenticate_clear(&d);
	ck_assert_status(ntlm_authenticate_decode(buf, len, &d), NTLM_OK);
	ck_assert_str_eq(d.user, "\xc2\xb3");
	ntlm_authenticate_clear(&d);
	/* 0x85: a letter in CP850, NEL in ISO-8859-1, an ellipsis in CP1252 */
	buf[67] = 0x85;
	ck_assert_status(ntlm_authenticate_decode(buf, len, &d), NTLM_OK);
	ck_assert_str_eq(d.user, "\xc3\xa0");
	ntlm_authenticate_clear(&d);
	ck_assert_status(ntlm_authenticate_decode_ex(buf, len, &latin1, &d), NTLM_ERR_CONTROL_CHARACTER);
	ck_assert_status(ntlm_authenticate_decode_ex(buf, len, &cp1252, &d), NTLM_OK);
	ck_assert_str_eq(d.user, "\xe2\x80\xa6");
	ntlm_authenticate_clear(&d);
	/* 0x81, undefined in CP1252: C1, refused */
	buf[67] = 0x81;
	ck_assert_status(ntlm_authenticate_decode_ex(buf, len, &cp1252, &d), NTLM_ERR_CONTROL_CHARACTER);
	free(buf);

	/* UTF-8 in an OEM field (curl, cntlm, python3-ntlm-auth): NEL as UTF-8 is refused */
	a.user = (char *)"##";
	ck_assert_status(ntlm_authenticate_encode(&a, &buf, &len), NTLM_OK);
	buf[67] = 0xc3;
	buf[68] = 0xa9;
	ck_assert_status(ntlm_authenticate_decode(buf, len, &d), NTLM_OK);
	ck_assert_str_eq(d.user, "\xc3\xa9");
	ck_assert_int_eq(d.user_text, NTLM_TEXT_UTF8);
	ntlm_authenticate_clear(&d);
	buf[67] = 0xc2;
	buf[68] = 0x85;
	ck_assert_status(ntlm_authenticate_decode(buf, len, &d), NTLM_ERR_CONTROL_CHARACTER);
	free(buf);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Malformed messages                                                  */
/* ------------------------------------------------------------------ */

static size_t header_len(enum msg_kind k)
{
	return k == KIND_NEGOTIATE ? 32 : k == KIND_CHALLENGE ? 48 : 64;
}

/* Every prefix of every valid message is refused, short headers as TRUNCATED
 * and the rest because a payload field runs past the end. The exception is a
 * NEGOTIATE without payload: cut anywhere after 32 bytes it is still valid,
 * and then it has no VERSION. */
START_TEST(test_every_truncation)
{
	for (size_t i = 0; i < N_VECTORS; i++) {
		size_t len;
		uint8_t *full = test_hex(vectors[i].hex, &len);

		for (size_t n = 0; n < len; n++) {
			/* a fresh allocation of exactly n bytes, so ASan sees any overread */
			uint8_t *buf = malloc(n > 0 ? n : 1);
			union any_msg m;
			enum ntlm_status st;

			ck_assert_ptr_nonnull(buf);
			memcpy(buf, full, n);
			st = decode_any(vectors[i].kind, buf, n, &m);
			if (vectors[i].kind == KIND_NEGOTIATE && n >= 32) {
				ck_assert_status(st, NTLM_OK);
				ck_assert(!m.n.has_version);
				ntlm_negotiate_clear(&m.n);
				free(buf);
				continue;
			}
			ck_assert_msg(st != NTLM_OK, "%s: prefix of %zu bytes accepted", vectors[i].name, n);
			if (n < header_len(vectors[i].kind))
				ck_assert_status(st, NTLM_ERR_TRUNCATED);
			else
				ck_assert_status(st, NTLM_ERR_FIELD_OUT_OF_BOUNDS);
			free(buf);
		}
		free(full);
	}
}
END_TEST

START_TEST(test_too_long)
{
	size_t len;
	uint8_t *v2 = test_hex(V2_AUTHENTICATE_MSG, &len);
	uint8_t *buf = calloc(1, NTLM_MAX_MESSAGE + 1);
	struct ntlm_authenticate a;
	struct ntlm_challenge c;
	struct ntlm_negotiate n;
	uint32_t type;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, v2, len);
	/* padding after the payload is allowed up to the cap */
	ck_assert_status(ntlm_authenticate_decode(buf, NTLM_MAX_MESSAGE, &a), NTLM_OK);
	ntlm_authenticate_clear(&a);
	ck_assert_status(ntlm_authenticate_decode(buf, NTLM_MAX_MESSAGE + 1, &a), NTLM_ERR_MESSAGE_TOO_LONG);
	ck_assert_status(ntlm_challenge_decode(buf, NTLM_MAX_MESSAGE + 1, &c), NTLM_ERR_MESSAGE_TOO_LONG);
	ck_assert_status(ntlm_negotiate_decode(buf, NTLM_MAX_MESSAGE + 1, &n), NTLM_ERR_MESSAGE_TOO_LONG);
	ck_assert_status(ntlm_message_type(buf, NTLM_MAX_MESSAGE + 1, &type), NTLM_ERR_MESSAGE_TOO_LONG);
	ck_assert_status(ntlm_authenticate_decode(buf, SIZE_MAX, &a), NTLM_ERR_MESSAGE_TOO_LONG);
	free(buf);
	free(v2);

	/* An encoder cannot produce more than NTLM_MAX_MESSAGE bytes. */
	{
		static uint8_t big[NTLM_MAX_MESSAGE];
		struct ntlm_challenge e = {.flags = NTLM_NEGOTIATE_UNICODE,
		                           .target_info = {big, sizeof(big)}};
		uint8_t *out = NULL;
		size_t out_len;

		ck_assert_status(ntlm_challenge_encode(&e, &out, &out_len), NTLM_ERR_MESSAGE_TOO_LONG);
		ck_assert_ptr_null(out);
		e.target_info.len = NTLM_MAX_MESSAGE - 48;
		ck_assert_status(ntlm_challenge_encode(&e, &out, &out_len), NTLM_OK);
		ck_assert_uint_eq(out_len, NTLM_MAX_MESSAGE);
		free(out);
	}
}
END_TEST

START_TEST(test_signature_and_type)
{
	size_t len;
	uint8_t *chal = test_hex(V2_CHALLENGE_MSG, &len);
	struct ntlm_authenticate a;
	struct ntlm_challenge c;
	struct ntlm_negotiate n;
	uint32_t type = 77;

	uint8_t peeked[NTLM_CHALLENGE_LEN];
	uint32_t flags;
	size_t neg_len;
	uint8_t *neg = test_hex("4e544c4d53535000010000000682080000000000000000000000000000000000", &neg_len);

	ck_assert_status(ntlm_authenticate_decode(chal, len, &a), NTLM_ERR_WRONG_MESSAGE_TYPE);
	ck_assert_status(ntlm_negotiate_decode(chal, len, &n), NTLM_ERR_WRONG_MESSAGE_TYPE);
	ck_assert_status(ntlm_challenge_peek(neg, neg_len, &flags, peeked), NTLM_ERR_WRONG_MESSAGE_TYPE);
	free(neg);
	for (size_t i = 0; i < 8; i++) {
		chal[i] ^= 0x20;
		ck_assert_status(ntlm_challenge_decode(chal, len, &c), NTLM_ERR_BAD_SIGNATURE);
		ck_assert_status(ntlm_challenge_peek(chal, len, &flags, peeked), NTLM_ERR_BAD_SIGNATURE);
		ck_assert_status(ntlm_message_type(chal, len, &type), NTLM_ERR_BAD_SIGNATURE);
		chal[i] ^= 0x20;
	}
	ck_assert_status(ntlm_message_type(chal, 11, &type), NTLM_ERR_TRUNCATED);
	ck_assert_status(ntlm_message_type(chal, 7, &type), NTLM_ERR_TRUNCATED);
	ck_assert_status(ntlm_message_type(chal, 12, &type), NTLM_OK);
	ck_assert_uint_eq(type, 2);
	static const uint32_t bad_types[] = {0, 4, 0x100, 0x02000000, 0xffffffffu};
	for (size_t i = 0; i < 5; i++) {
		chal[8] = (uint8_t)(bad_types[i] & 0xff);
		chal[9] = (uint8_t)(bad_types[i] >> 8 & 0xff);
		chal[10] = (uint8_t)(bad_types[i] >> 16 & 0xff);
		chal[11] = (uint8_t)(bad_types[i] >> 24);
		type = 77;
		ck_assert_status(ntlm_message_type(chal, len, &type), NTLM_ERR_WRONG_MESSAGE_TYPE);
		ck_assert_uint_eq(type, 77);
		ck_assert_status(ntlm_challenge_decode(chal, len, &c), NTLM_ERR_WRONG_MESSAGE_TYPE);
	}
	free(chal);
	ck_assert_status(ntlm_message_type((const uint8_t *)"NTLMSSP\0\1\0\0\0", 12, &type), NTLM_OK);
	ck_assert_uint_eq(type, 1);
	ck_assert_status(ntlm_message_type(NULL, 0, &type), NTLM_ERR_TRUNCATED);
}
END_TEST

/* One field of a message rewritten: a security buffer's Len, MaxLen or
 * Offset (MS-NLMP 2.2.1.2, 2.2.1.3: at +0, +2 and +4 of the field), the
 * Offset as the message length minus value, or the AUTHENTICATE flags. */
enum part { NO_WRITE, LEN, MAXLEN, OFFSET, OFFSET_FROM_END, FLAGS };
struct field_write {
	enum part part;
	size_t field; /* where the security buffer (or the flags) starts */
	uint32_t value;
};

/* AUTHENTICATE: LM 12, NT 20, domain 28, user 36, workstation 44, key 52, flags 60 */
enum { F_LM = 12, F_NT = 20, F_DOMAIN = 28, F_USER = 36, F_KEY = 52, F_FLAGS = 60 };
/* CHALLENGE: target name 12, target info 40 */
enum { F_TARGET_NAME = 12, F_TARGET_INFO = 40 };

/* A spec message with one or two fields changed, and the decode status. */
static const struct field_case {
	const char *name;
	const char *hex; /* decoded as the message type it carries */
	struct field_write w[2];
	enum ntlm_status want;
} field_cases[] = {
    {"user offset near the end",
     V2_AUTHENTICATE_MSG,
     {{OFFSET_FROM_END, F_USER, 2}},
     NTLM_ERR_FIELD_OUT_OF_BOUNDS},
    {"user offset max", V2_AUTHENTICATE_MSG, {{OFFSET, F_USER, 0xffffffffu}}, NTLM_ERR_FIELD_OUT_OF_BOUNDS},
    {"user length max", V2_AUTHENTICATE_MSG, {{LEN, F_USER, 0xffff}}, NTLM_ERR_FIELD_OUT_OF_BOUNDS},
    /* 85 bytes from len - 84 */
    {"NT response past the end",
     V2_AUTHENTICATE_MSG,
     {{LEN, F_NT, 85}, {OFFSET_FROM_END, F_NT, 84}},
     NTLM_ERR_FIELD_OUT_OF_BOUNDS},
    {"domain in the header", V2_AUTHENTICATE_MSG, {{OFFSET, F_DOMAIN, 40}}, NTLM_ERR_FIELD_OVERLAP},
    {"LM at 0", V2_AUTHENTICATE_MSG, {{OFFSET, F_LM, 0}}, NTLM_ERR_FIELD_OVERLAP},
    {"LM at 63", V2_AUTHENTICATE_MSG, {{OFFSET, F_LM, 63}}, NTLM_ERR_FIELD_OVERLAP},
    /* V1ESS: the key is empty, so its offset is ignored */
    {"empty key at 0", V1ESS_AUTHENTICATE_MSG, {{OFFSET, F_KEY, 0}}, NTLM_OK},
    /* MaxLen MUST be ignored */
    {"bogus MaxLen", V1_AUTHENTICATE_MSG, {{MAXLEN, F_USER, 0xffff}, {MAXLEN, F_LM, 0}}, NTLM_OK},
    {"user of odd length", V1_AUTHENTICATE_MSG, {{LEN, F_USER, 7}}, NTLM_ERR_BAD_STRING},
    /* names are UTF-16 but now read as OEM: NUL bytes, control characters */
    {"UNICODE flag cleared",
     V1_AUTHENTICATE_MSG,
     {{FLAGS, F_FLAGS, V1_AUTH_FLAGS & ~NTLM_NEGOTIATE_UNICODE}},
     NTLM_ERR_CONTROL_CHARACTER},
    {"NT response of 30 bytes", V2_AUTHENTICATE_MSG, {{LEN, F_NT, 30}}, NTLM_ERR_BAD_RESPONSE},
    {"NT response of 23 bytes", V2_AUTHENTICATE_MSG, {{LEN, F_NT, 23}}, NTLM_ERR_BAD_RESPONSE},
    {"NT response of 43 bytes", V2_AUTHENTICATE_MSG, {{LEN, F_NT, 43}}, NTLM_ERR_BAD_RESPONSE},
    {"NT response of 44 bytes", V2_AUTHENTICATE_MSG, {{LEN, F_NT, 44}}, NTLM_OK},
    {"LM response of 16 bytes", V2_AUTHENTICATE_MSG, {{LEN, F_LM, 16}}, NTLM_ERR_BAD_RESPONSE},
    {"LM response of 1 byte", V2_AUTHENTICATE_MSG, {{LEN, F_LM, 1}}, NTLM_OK},
    {"LM response of 0 bytes", V2_AUTHENTICATE_MSG, {{LEN, F_LM, 0}}, NTLM_OK},
    {"session key of 8 bytes", V2_AUTHENTICATE_MSG, {{LEN, F_KEY, 8}}, NTLM_ERR_BAD_RESPONSE},
    {"target name in the header", V2_CHALLENGE_MSG, {{OFFSET, F_TARGET_NAME, 20}}, NTLM_ERR_FIELD_OVERLAP},
    {"target name of odd length", V2_CHALLENGE_MSG, {{LEN, F_TARGET_NAME, 11}}, NTLM_ERR_BAD_STRING},
    {"target info past the end", V2_CHALLENGE_MSG, {{LEN, F_TARGET_INFO, 37}}, NTLM_ERR_FIELD_OUT_OF_BOUNDS},
    {"target info offset max",
     V2_CHALLENGE_MSG,
     {{OFFSET, F_TARGET_INFO, 0xfffffff0u}},
     NTLM_ERR_FIELD_OUT_OF_BOUNDS},
};

static void apply_write(uint8_t *buf, size_t len, const struct field_write *w)
{
	static const size_t pos[] = {
	    [LEN] = 0, [MAXLEN] = 2, [OFFSET] = 4, [OFFSET_FROM_END] = 4, [FLAGS] = 0};
	static const size_t size[] = {
	    [LEN] = 2, [MAXLEN] = 2, [OFFSET] = 4, [OFFSET_FROM_END] = 4, [FLAGS] = 4};
	uint32_t v = w->part == OFFSET_FROM_END ? (uint32_t)len - w->value : w->value;

	for (size_t i = 0; i < size[w->part]; i++)
		buf[w->field + pos[w->part] + i] = (uint8_t)(v >> (8 * i));
}

START_TEST(test_field_errors)
{
	for (size_t i = 0; i < ARRAY_SIZE(field_cases); i++) {
		const struct field_case *fc = &field_cases[i];
		size_t len;
		uint8_t *buf = test_hex(fc->hex, &len);
		uint32_t type = 0;
		enum msg_kind k;
		union any_msg m;
		enum ntlm_status st;

		ck_assert_status(ntlm_message_type(buf, len, &type), NTLM_OK);
		k = (enum msg_kind)(type - 1); /* NEGOTIATE is 1 */
		apply_write(buf, len, &fc->w[0]);
		apply_write(buf, len, &fc->w[1]);
		st = decode_any(k, buf, len, &m);
		ck_assert_status_msg(fc->name, st, fc->want);
		if (st == NTLM_OK)
			clear_any(k, &m);
		free(buf);
	}
}
END_TEST

/* A CHALLENGE whose TargetInfo is malformed still decodes: the list is the
 * caller's to check, and ntlm_av_list_decode() refuses it. */
START_TEST(test_challenge_bad_target_info)
{
	static const char *const bad_lists[][2] = {
	    {"02000c00" DOMAIN_U16, "no EOL"},
	    {"06000300 000000 00000000", "MsvAvFlags of 3 bytes"},
	    {"07000400 00000000 00000000", "MsvAvTimestamp of 4 bytes"},
	    {"02000c00" DOMAIN_U16 "02000c00" DOMAIN_U16 "00000000", "duplicate"},
	    {"02000c00" DOMAIN_U16 "00000000 41", "trailing garbage"},
	};
	static const enum ntlm_status want[] = {NTLM_ERR_BAD_AV_PAIR, NTLM_ERR_BAD_AV_PAIR,
	                                        NTLM_ERR_BAD_AV_PAIR, NTLM_ERR_BAD_AV_PAIR,
	                                        NTLM_ERR_TRAILING_DATA};

	for (size_t i = 0; i < 5; i++) {
		size_t tlen, out_len;
		uint8_t *ti = test_hex(bad_lists[i][0], &tlen), *out = NULL;
		struct ntlm_challenge c = {
		    .flags = V2_FLAGS, .target_name = (char *)"Server", .target_info = {ti, tlen}};
		struct ntlm_challenge d;
		struct ntlm_av_list l;

		memcpy(c.server_challenge, "\x01\x23\x45\x67\x89\xab\xcd\xef", 8);
		ck_assert_status(ntlm_challenge_encode(&c, &out, &out_len), NTLM_OK);
		ck_assert_status(ntlm_challenge_decode(out, out_len, &d), NTLM_OK);
		ck_assert_uint_eq(d.target_info.len, tlen);
		ck_assert_msg(ntlm_av_list_decode(d.target_info.data, d.target_info.len, &l) == want[i], "%s",
		              bad_lists[i][1]);
		ntlm_challenge_clear(&d);
		free(out);
		free(ti);
	}
}
END_TEST

START_TEST(test_null_arguments)
{
	struct ntlm_authenticate a;
	uint8_t *out;
	size_t len;

	ck_assert_status(ntlm_authenticate_decode(NULL, 100, &a), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_authenticate_decode(NULL, 0, &a), NTLM_ERR_TRUNCATED);
	ck_assert_status(ntlm_authenticate_decode((const uint8_t *)"x", 1, NULL), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_authenticate_encode(NULL, &out, &len), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_negotiate_encode(NULL, &out, &len), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_challenge_encode(NULL, &out, &len), NTLM_ERR_INVALID_ARGUMENT);
	ntlm_negotiate_clear(NULL);
	ntlm_challenge_clear(NULL);
	ntlm_authenticate_clear(NULL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Mutation: every single-bit flip of every valid message              */
/* ------------------------------------------------------------------ */

/*
 * After a flip the decoder either refuses the message or accepts it; an
 * accepted message must re-encode, the result must decode, and encoding
 * is then a fixed point (OpenSSH's sshbuf fuzz style, deterministic).
 */
static void mutate_and_check(const char *name, enum msg_kind k, const uint8_t *orig, size_t len,
                             size_t *ret_accepted, size_t *ret_refused)
{
	uint8_t *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	for (size_t bit = 0; bit < 8 * len; bit++) {
		union any_msg m, m2;
		uint8_t *e1 = NULL, *e2 = NULL;
		size_t e1_len, e2_len;
		enum ntlm_status st;

		memcpy(buf, orig, len);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		st = decode_any(k, buf, len, &m);
		if (st != NTLM_OK) {
			ck_assert_msg(ntlm_status_is_malformed(st), "%s bit %zu: %s", name, bit,
			              ntlm_status_name(st));
			(*ret_refused)++;
			continue;
		}
		(*ret_accepted)++;
		st = encode_any(k, &m, &e1, &e1_len);
		ck_assert_msg(st == NTLM_OK, "%s bit %zu: re-encode %s", name, bit, ntlm_status_name(st));
		st = decode_any(k, e1, e1_len, &m2);
		ck_assert_msg(st == NTLM_OK, "%s bit %zu: re-decode %s", name, bit, ntlm_status_name(st));
		st = encode_any(k, &m2, &e2, &e2_len);
		ck_assert_msg(st == NTLM_OK, "%s bit %zu: second encode %s", name, bit, ntlm_status_name(st));
		ck_assert_msg(e1_len == e2_len && memcmp(e1, e2, e1_len) == 0,
		              "%s bit %zu: not a fixed point", name, bit);
		clear_any(k, &m);
		clear_any(k, &m2);
		free(e1);
		free(e2);
	}
	free(buf);
}

START_TEST(test_bit_flips)
{
	size_t accepted = 0, refused = 0;

	for (size_t i = 0; i < N_VECTORS; i++) {
		size_t len;
		uint8_t *buf = test_hex(vectors[i].hex, &len);

		mutate_and_check(vectors[i].name, vectors[i].kind, buf, len, &accepted, &refused);
		free(buf);
	}
	/* and an AUTHENTICATE carrying a MIC */
	{
		struct auth_build b = {.flags = V2_AUTH_FLAGS, .payload_start = 88};
		size_t len;
		uint8_t *buf = build_auth(&b, &len);

		mutate_and_check("AUTHENTICATE with MIC", KIND_AUTHENTICATE, buf, len, &accepted, &refused);
		free(buf);
	}
	/* Both outcomes occur: flips in flags or payload bytes are accepted,
	 * flips in the signature or lengths are refused. */
	ck_assert_uint_gt(accepted, 4000);
	ck_assert_uint_gt(refused, 1000);
}
END_TEST

static Suite *message_suite(void)
{
	Suite *s = suite_create("message");

	test_add_tcase(s, "spec",
	               TESTS(test_challenge_4_2_2_3, test_challenge_4_2_3_3, test_challenge_4_2_4_3,
	                     test_authenticate_4_2_2_3, test_authenticate_4_2_3_3, test_authenticate_4_2_4_3,
	                     test_reencode_identical, test_v2_blob));
	test_add_tcase(s, "clients",
	               TESTS(test_negotiate_windows, test_negotiate_32_bytes, test_negotiate_oem_names,
	                     test_negotiate_encode_roundtrip, test_authenticate_mic_inference,
	                     test_authenticate_mic_no_payload, test_authenticate_mic_encode,
	                     test_authenticate_oem, test_authenticate_anonymous,
	                     test_authenticate_name_limits));
	test_add_tcase(s, "names",
	               TESTS(test_authenticate_control_characters, test_negotiate_names_never_refuse,
	                     test_negotiate_offset_inside_header, test_authenticate_names_follow_challenge,
	                     test_authenticate_oem_charsets, test_authenticate_names_with_spaces_and_accents,
	                     test_negotiate_names_not_checked));
	test_add_tcase(s, "malformed",
	               TESTS(test_every_truncation, test_too_long, test_signature_and_type, test_field_errors,
	                     test_challenge_bad_target_info, test_null_arguments));
	tcase_set_timeout(test_add_tcase(s, "mutation", TESTS(test_bit_flips)), 120);
	return s;
}

int main(void)
{
	return test_run_suite(message_suite());
}
