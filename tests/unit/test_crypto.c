/*
 * test_crypto.c: the response computations and keys of MS-NLMP 3.3 / 3.4.5
 * against the MS-NLMP 4.2 values (vectors.h), RFC 2202 and values computed
 * with independent tools (Python hashlib/hmac, the openssl command line),
 * whose commands are given next to each value.
 */
#include "testutil.h"
#include "vectors.h"

/* ---- helpers ------------------------------------------------------------ */

typedef enum ntlm_status (*owf_fn)(const char *password, struct ntlm_hash *ret);

/* Hashes password with owf (ntlm_lmowfv1 or ntlm_ntowfv1) and checks the result. */
static void check_owf(owf_fn owf, const char *password, const char *hex)
{
	struct ntlm_hash h;

	ck_assert_status(owf(password, &h), NTLM_OK);
	ck_assert_hex_eq(h.bytes, 16, hex);
}

/* Derives the sealing key of one direction (client: client-to-server) and checks it. */
static void check_sealkey(uint32_t flags, const struct ntlm_hash *key, bool client, const char *hex)
{
	struct ntlm_hash k;

	ck_assert_status(ntlm_sealkey(flags, key, client, &k), NTLM_OK);
	ck_assert_hex_eq(k.bytes, 16, hex);
}

/* Derives the signing key of one direction, which must be present, and checks it. */
static void check_signkey(uint32_t flags, const struct ntlm_hash *key, bool client, const char *hex)
{
	struct ntlm_hash k;
	bool present = false;

	ck_assert_status(ntlm_signkey(flags, key, client, &k, &present), NTLM_OK);
	ck_assert(present);
	ck_assert_hex_eq(k.bytes, 16, hex);
}

/* The signing and sealing keys of both directions with extended session security. */
static void check_ess_keys(uint32_t flags, const char *key_hex, const char *client_sign,
                           const char *client_seal, const char *server_sign, const char *server_seal)
{
	struct ntlm_hash key = hash_hex(key_hex);

	check_signkey(flags, &key, true, client_sign);
	check_sealkey(flags, &key, true, client_seal);
	check_signkey(flags, &key, false, server_sign);
	check_sealkey(flags, &key, false, server_seal);
}

/* ---- MS-NLMP 4.2.2 NTLMv1 --------------------------------------------- */

START_TEST(lmowfv1_vector)
{
	/* MS-NLMP 4.2.2.1.1 */
	check_owf(ntlm_lmowfv1, V_PASSWORD, V1_LMOWF);
	/* UpperCase(Passwd): any case gives the same hash */
	check_owf(ntlm_lmowfv1, "pAsSwOrD", V1_LMOWF);
}
END_TEST

/* Expected values from Python: the password upper-cased, NUL padded to 14
 * bytes, each 7-byte half spread to a parity DES key and encrypted with
 * `openssl enc -des-ecb -nopad -provider legacy -K <key>` over "KGS!@#$%". */
START_TEST(lmowfv1_edges)
{
	struct ntlm_hash h;

	/* the well-known LM hash of the empty password */
	check_owf(ntlm_lmowfv1, "", "aad3b435b51404eeaad3b435b51404ee");
	/* 14 characters is the longest password with an LM hash */
	check_owf(ntlm_lmowfv1, "abcdefghijklmn", "e0c510199cc66abd8c51ec214bebdea1");
	/* MS-NLMP 3.3.1: no LMOWFv1 for longer passwords; h is left untouched */
	memset(h.bytes, 0x77, sizeof(h.bytes));
	ck_assert_status(ntlm_lmowfv1("abcdefghijklmno", &h), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_hex_eq(h.bytes, 16, "77777777777777777777777777777777");
}
END_TEST

START_TEST(ntowfv1_vector)
{
	/* MS-NLMP 4.2.2.1.2 */
	check_owf(ntlm_ntowfv1, V_PASSWORD, V1_NTOWF);
}
END_TEST

/* MD4 through NTOWFv1. Expected values: python3 -c 'import sys;
 * sys.stdout.buffer.write("<pw>".encode("utf-16-le"))' | openssl dgst -md4 -provider legacy */
START_TEST(ntowfv1_md4)
{
	/* MD4("") (RFC 1320) */
	check_owf(ntlm_ntowfv1, "", "31d6cfe0d16ae931b73c59d7e0c089c0");
	/* "Pässwörd€": Latin-1 and BMP characters */
	check_owf(ntlm_ntowfv1, "P\xc3\xa4ss\x77\xc3\xb6rd\xe2\x82\xac", "04e9d4087e1303bea8e5239aa5ddd064");
	/* U+1F600 (a surrogate pair in UTF-16) then "x" */
	check_owf(ntlm_ntowfv1, "\xf0\x9f\x98\x80x", "4239d4dcd7148a5ea8f750b376cfdbd6");
}
END_TEST

START_TEST(ntowfv1_refuses_bad_input)
{
	struct ntlm_hash h;
	char *pw = malloc(1026);

	ck_assert_status(ntlm_ntowfv1("\xff", &h), NTLM_ERR_BAD_STRING);
	/* passwords are capped at 1024 UTF-16 code units */
	ck_assert_ptr_nonnull(pw);
	memset(pw, 'a', 1025);
	pw[1025] = '\0';
	ck_assert_status(ntlm_ntowfv1(pw, &h), NTLM_ERR_STRING_TOO_LONG);
	pw[1024] = '\0';
	ck_assert_status(ntlm_ntowfv1(pw, &h), NTLM_OK);
	free(pw);
}
END_TEST

START_TEST(v1_session_base_key)
{
	struct ntlm_hash nt = hash_hex(V1_NTOWF), k;

	/* MS-NLMP 4.2.2.1.3 */
	ck_assert_status(ntlm_v1_session_base_key(&nt, &k), NTLM_OK);
	ck_assert_hex_eq(k.bytes, 16, V1_SESSION_BASE_KEY);
}
END_TEST

START_TEST(v1_responses)
{
	struct ntlm_hash nt = hash_hex(V1_NTOWF), lm = hash_hex(V1_LMOWF);
	uint8_t sc[8], r[24];

	bytes_hex(V_SERVER_CHALLENGE, sc, sizeof(sc));
	/* MS-NLMP 4.2.2.2.1 */
	ck_assert_status(ntlm_desl(&nt, sc, r), NTLM_OK);
	ck_assert_hex_eq(r, 24, V1_NT_RESPONSE);
	/* MS-NLMP 4.2.2.2.2 */
	ck_assert_status(ntlm_desl(&lm, sc, r), NTLM_OK);
	ck_assert_hex_eq(r, 24, V1_LM_RESPONSE);
}
END_TEST

/* The three NTLMv1 KXKEY variants (MS-NLMP 3.4.5.1) over the MS-NLMP 4.2.2 values. */
static const struct v1_kxkey_case {
	const char *name;
	uint32_t flags;
	const char *kxkey;
	const char *encrypted_session_key; /* MS-NLMP 4.2.2.2.3 */
} v1_kxkey_cases[] = {
    /* MS-NLMP 4.2.2.1.3: without LM_KEY / NON_NT_SESSION_KEY, KXKEY = SessionBaseKey */
    {"SessionBaseKey", V1_FLAGS, V1_SESSION_BASE_KEY, V1_ENC_SESSION_KEY},
    /* MS-NLMP 3.4.5.1 REQUEST_NON_NT_SESSION_KEY: LMOWF[0..7] || Z(8) */
    {"NON_NT_SESSION_KEY", V1_FLAGS | NTLM_REQUEST_NON_NT_SESSION_KEY,
     "e52cac67419a9a22"
     "0000000000000000",
     V1_ENC_SESSION_KEY_NON_NT},
    /* MS-NLMP 4.2.2.2.2 with NTLMSSP_NEGOTIATE_LM_KEY */
    {"LM_KEY", V1_FLAGS | NTLM_NEGOTIATE_LM_KEY, V1_LM_KEY_KXKEY, V1_ENC_SESSION_KEY_LM_KEY},
};

/* KXKEY, then RC4K(KeyExchangeKey, RandomSessionKey) for the KEY_EXCH message. */
START_TEST(v1_kxkey_variant)
{
	const struct v1_kxkey_case *c = &v1_kxkey_cases[_i];
	struct ntlm_hash base = hash_hex(V1_SESSION_BASE_KEY), lm = hash_hex(V1_LMOWF), k;
	uint8_t sc[8], lm_resp[24], rsk[16], enc[16];

	bytes_hex(V_SERVER_CHALLENGE, sc, sizeof(sc));
	bytes_hex(V1_LM_RESPONSE, lm_resp, sizeof(lm_resp));
	bytes_hex(V_RANDOM_SESSION_KEY, rsk, sizeof(rsk));
	ck_assert_status_msg(c->name, ntlm_kxkey(c->flags, &base, lm_resp, &lm, sc, false, &k), NTLM_OK);
	ck_assert_hex_eq_msg(c->name, k.bytes, 16, c->kxkey);
	ck_assert_status_msg(c->name, ntlm_rc4k(&k, rsk, enc), NTLM_OK);
	ck_assert_hex_eq_msg(c->name, enc, 16, c->encrypted_session_key);
	/* RC4K is its own inverse: the acceptor recovers the RandomSessionKey */
	ck_assert_status_msg(c->name, ntlm_rc4k(&k, enc, enc), NTLM_OK);
	ck_assert_hex_eq_msg(c->name, enc, 16, V_RANDOM_SESSION_KEY);
}
END_TEST

START_TEST(v1_no_signkey_without_ess)
{
	struct ntlm_hash key = hash_hex(V_RANDOM_SESSION_KEY), k;
	bool present = true;

	/* MS-NLMP 3.4.5.2: no signing key without extended session security */
	memset(k.bytes, 0x77, sizeof(k.bytes));
	ck_assert_status(ntlm_signkey(V1_FLAGS, &key, true, &k, &present), NTLM_OK);
	ck_assert(!present);
	ck_assert_hex_eq(k.bytes, 16, "00000000000000000000000000000000");
}
END_TEST

/* MS-NLMP 3.4.5.3 without extended session security: the key itself, or with
 * LM_KEY a 56/40-bit key of 8 bytes, returned repeated twice (see ntlm_sealkey). */
START_TEST(v1_sealkeys)
{
	struct ntlm_hash key = hash_hex(V_RANDOM_SESSION_KEY);
	const uint32_t base = V1_FLAGS & ~(NTLM_NEGOTIATE_56 | NTLM_NEGOTIATE_128);

	check_sealkey(V1_FLAGS, &key, true, V_RANDOM_SESSION_KEY);
	check_sealkey(base | NTLM_NEGOTIATE_LM_KEY | NTLM_NEGOTIATE_56, &key, true,
	              "55555555555555a0"
	              "55555555555555a0");
	check_sealkey(base | NTLM_NEGOTIATE_LM_KEY, &key, false,
	              "5555555555e538b0"
	              "5555555555e538b0");
	/* NTLMSSP_REVISION_W2K3: DATAGRAM weakens the key as LM_KEY does */
	check_sealkey(base | NTLM_NEGOTIATE_DATAGRAM | NTLM_NEGOTIATE_56, &key, true,
	              "55555555555555a0"
	              "55555555555555a0");
}
END_TEST

/* ---- MS-NLMP 4.2.3 NTLMv1 with extended session security --------------- */

START_TEST(ess_response)
{
	struct ntlm_hash nt = hash_hex(V1_NTOWF);
	uint8_t sc[8], cc[8], r[24];

	bytes_hex(V_SERVER_CHALLENGE, sc, sizeof(sc));
	bytes_hex(V_CLIENT_CHALLENGE, cc, sizeof(cc));
	/* MS-NLMP 4.2.3.2.2 */
	ck_assert_status(ntlm_ess_response(&nt, sc, cc, r), NTLM_OK);
	ck_assert_hex_eq(r, 24, V1ESS_NT_RESPONSE);
}
END_TEST

START_TEST(ess_kxkey)
{
	struct ntlm_hash base = hash_hex(V1_SESSION_BASE_KEY), k;
	uint8_t sc[8], lm_resp[24];

	bytes_hex(V_SERVER_CHALLENGE, sc, sizeof(sc));
	bytes_hex(V1ESS_LM_RESPONSE, lm_resp, sizeof(lm_resp));
	/* MS-NLMP 4.2.3.1.3; no LMOWF is needed. 4.2.3 has no KEY_EXCH, so no
	 * EncryptedRandomSessionKey to check. */
	ck_assert_status(ntlm_kxkey(V1ESS_FLAGS, &base, lm_resp, NULL, sc, false, &k), NTLM_OK);
	ck_assert_hex_eq(k.bytes, 16, V1ESS_KXKEY);
	/* ESS takes precedence over LM_KEY (MS-NLMP 2.2.2.5) */
	ck_assert_status(ntlm_kxkey(V1ESS_FLAGS | NTLM_NEGOTIATE_LM_KEY, &base, lm_resp, NULL, sc, false, &k),
	                 NTLM_OK);
	ck_assert_hex_eq(k.bytes, 16, V1ESS_KXKEY);
}
END_TEST

/* MS-NLMP 4.2.3.4: ExportedSessionKey = KeyExchangeKey (no KEY_EXCH), 56-bit
 * sealing. Server-direction values: python3 -c 'import hashlib;
 * k=bytes.fromhex("eb93429a8bd952f8b89c55b87f475edc");
 * print(hashlib.md5(k+b"session key to server-to-client signing key magic constant\0").hexdigest(),
 *       hashlib.md5(k[:7]+b"session key to server-to-client sealing key magic constant\0").hexdigest(),
 *       hashlib.md5(k[:5]+b"session key to client-to-server sealing key magic constant\0").hexdigest())' */
START_TEST(ess_sign_seal_keys)
{
	struct ntlm_hash key = hash_hex(V1ESS_KXKEY);

	check_ess_keys(V1ESS_FLAGS, V1ESS_KXKEY, V1ESS_SIGN_KEY, V1ESS_SEAL_KEY,
	               "10df49862ab2dab51f62c27e93bb655d", "7ae2bf1af0ad5c0d008a158624847414");
	/* 40 bits: neither NEGOTIATE_128 nor NEGOTIATE_56 */
	check_sealkey(V1ESS_FLAGS & ~NTLM_NEGOTIATE_56, &key, true, "26b2c1e77be4533d555a220a0fdeb96c");
}
END_TEST

/* ---- MS-NLMP 4.2.4 NTLMv2 ---------------------------------------------- */

START_TEST(ntowfv2_vector)
{
	struct ntlm_hash nt = hash_hex(V1_NTOWF), h;

	/* MS-NLMP 4.2.4.1.1 */
	ck_assert_status(ntlm_ntowfv2(&nt, V_USER, V_DOMAIN, &h), NTLM_OK);
	ck_assert_hex_eq(h.bytes, 16, V2_NTOWF);
	/* Uppercase(User): the user name's case does not matter ... */
	ck_assert_status(ntlm_ntowfv2(&nt, "uSeR", V_DOMAIN, &h), NTLM_OK);
	ck_assert_hex_eq(h.bytes, 16, V2_NTOWF);
	/* ... the domain's does. Expected: python3 -c 'import hmac;
	 * k=bytes.fromhex("a4f49c406510bdcab6824ee7c30fd852");
	 * print(hmac.new(k, "USERDOMAIN".encode("utf-16-le"), "md5").hexdigest())' */
	ck_assert_status(ntlm_ntowfv2(&nt, V_USER, "DOMAIN", &h), NTLM_OK);
	ck_assert_hex_eq(h.bytes, 16, "f38efea48ada6afaa95ae44669e5634b");
}
END_TEST

/* Expected: python3 -c 'import hmac; k=bytes.fromhex("a4f49c406510bdcab6824ee7c30fd852");
 * print(hmac.new(k, "USER".encode("utf-16-le"), "md5").hexdigest())' */
START_TEST(ntowfv2_no_domain)
{
	struct ntlm_hash nt = hash_hex(V1_NTOWF), a, b;

	ck_assert_status(ntlm_ntowfv2(&nt, V_USER, NULL, &a), NTLM_OK);
	ck_assert_status(ntlm_ntowfv2(&nt, V_USER, "", &b), NTLM_OK);
	ck_assert_mem_eq(a.bytes, b.bytes, 16);
	ck_assert_hex_eq(a.bytes, 16, "4cf86da43b3cd4785ab26bcee1e1884b");
}
END_TEST

START_TEST(ntowfv2_name_cap)
{
	struct ntlm_hash nt = hash_hex(V1_NTOWF), h;
	char name[NTLM_MAX_NAME + 2];

	/* names are capped at NTLM_MAX_NAME UTF-16 code units */
	memset(name, 'u', NTLM_MAX_NAME + 1);
	name[NTLM_MAX_NAME + 1] = '\0';
	ck_assert_status(ntlm_ntowfv2(&nt, name, V_DOMAIN, &h), NTLM_ERR_STRING_TOO_LONG);
	ck_assert_status(ntlm_ntowfv2(&nt, V_USER, name, &h), NTLM_ERR_STRING_TOO_LONG);
	name[NTLM_MAX_NAME] = '\0';
	ck_assert_status(ntlm_ntowfv2(&nt, name, V_DOMAIN, &h), NTLM_OK);
}
END_TEST

START_TEST(v2_responses)
{
	struct ntlm_hash key = hash_hex(V2_NTOWF), base;
	uint8_t sc[8], cc[8], proof[16], lmv2[24];
	size_t temp_len;
	uint8_t *temp = test_hex(V2_TEMP, &temp_len);

	bytes_hex(V_SERVER_CHALLENGE, sc, sizeof(sc));
	bytes_hex(V_CLIENT_CHALLENGE, cc, sizeof(cc));
	/* MS-NLMP 4.2.4.2.2: NTProofStr over temp (4.2.4.1.3) */
	ck_assert_status(ntlm_ntproofstr(&key, sc, temp, temp_len, proof), NTLM_OK);
	ck_assert_hex_eq(proof, 16, V2_NTPROOFSTR);
	/* MS-NLMP 4.2.4.1.2 */
	ck_assert_status(ntlm_v2_session_base_key(&key, proof, &base), NTLM_OK);
	ck_assert_hex_eq(base.bytes, 16, V2_SESSION_BASE_KEY);
	/* MS-NLMP 4.2.4.2.1 */
	ck_assert_status(ntlm_lmv2_response(&key, sc, cc, lmv2), NTLM_OK);
	ck_assert_hex_eq(lmv2, 24, V2_LMV2_RESPONSE);
	free(temp);
}
END_TEST

START_TEST(v2_kxkey_and_encrypted_key)
{
	struct ntlm_hash base = hash_hex(V2_SESSION_BASE_KEY), k;
	uint8_t rsk[16], enc[16];

	bytes_hex(V_RANDOM_SESSION_KEY, rsk, sizeof(rsk));
	/* MS-NLMP 3.4.5.1: for NTLMv2 KXKEY = SessionBaseKey, whatever the flags */
	ck_assert_status(ntlm_kxkey(V2_FLAGS | NTLM_NEGOTIATE_LM_KEY, &base, NULL, NULL, NULL, true, &k),
	                 NTLM_OK);
	ck_assert_hex_eq(k.bytes, 16, V2_SESSION_BASE_KEY);
	/* MS-NLMP 4.2.4.2.3 */
	ck_assert_status(ntlm_rc4k(&k, rsk, enc), NTLM_OK);
	ck_assert_hex_eq(enc, 16, V2_ENC_SESSION_KEY);
}
END_TEST

/* MS-NLMP 4.2.4.4 (client direction). Server direction: python3 -c 'import hashlib; k=b"\x55"*16;
 * print(hashlib.md5(k+b"session key to server-to-client signing key magic constant\0").hexdigest(),
 *       hashlib.md5(k+b"session key to server-to-client sealing key magic constant\0").hexdigest())' */
START_TEST(v2_sign_seal_keys)
{
	check_ess_keys(V2_FLAGS, V_RANDOM_SESSION_KEY, V2_SIGN_KEY, V2_SEAL_KEY,
	               "d04d6f10741041d1d246d64188d7a8ad", "9355f3a957c1583d25c4c2f11e40390e");
}
END_TEST

/* ---- HMAC-MD5, MIC, channel bindings ------------------------------------ */

/* RFC 2202 section 2, test cases 1-7 (also checked with Python's hmac module). */
START_TEST(hmac_md5_rfc2202)
{
	static const struct {
		const char *key_hex;
		const char *data;
		const char *data_hex;
		const char *mac;
	} cases[] = {
	    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There", NULL, "9294727a3638bb1c13f48ef8158bfc9d"},
	    {"4a656665", "what do ya want for nothing?", NULL, "750c783e6ab0b503eaa86e310a5db738"},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, NULL, "56be34521d144c88dbb8c733f0e8b3f6"},
	    {"0102030405060708090a0b0c0d0e0f10111213141516171819", NULL, NULL,
	     "697eaf0aca3a3aea3a75164746ffaa79"},
	    {"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "Test With Truncation", NULL,
	     "56461ef2342edc00f9bab995690efd4c"},
	    {NULL, "Test Using Larger Than Block-Size Key - Hash Key First", NULL,
	     "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"},
	    {NULL, "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data", NULL,
	     "6f630fad67cda0ee1fb1f562db3aa53e"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t key[80], data[80], mac[16];
		size_t key_len, data_len;

		if (cases[i].key_hex != NULL) {
			uint8_t *k = test_hex(cases[i].key_hex, &key_len);
			memcpy(key, k, key_len);
			free(k);
		} else {
			/* cases 6 and 7: 80 bytes of 0xaa, longer than the MD5 block */
			key_len = 80;
			memset(key, 0xaa, key_len);
		}
		if (cases[i].data != NULL) {
			data_len = strlen(cases[i].data);
			memcpy(data, cases[i].data, data_len);
		} else {
			/* cases 3 and 4: 50 bytes of 0xdd / 0xcd */
			data_len = 50;
			memset(data, i == 2 ? 0xdd : 0xcd, data_len);
		}
		ck_assert_status(ntlm_hmac_md5(key, key_len, data, data_len, mac), NTLM_OK);
		ck_assert_hex_eq(mac, 16, cases[i].mac);
	}
}
END_TEST

/* Empty key and message: python3 -c 'import hmac; print(hmac.new(b"", b"", "md5").hexdigest())' */
START_TEST(hmac_md5_empty)
{
	uint8_t mac[16];

	ck_assert_status(ntlm_hmac_md5(NULL, 0, NULL, 0, mac), NTLM_OK);
	ck_assert_hex_eq(mac, 16, "74e6f7298a9c2d168935f58c001bad88");
}
END_TEST

/*
 * The MIC over the MS-NLMP 4.2.4.3 CHALLENGE and AUTHENTICATE with the 16
 * bytes at offset 72 taken as zeros, key 0x55 * 16. Expected:
 *   python3 -c 'import hmac; neg=bytes.fromhex("4e544c4d5353500001000000978208e2"
 *     "000000000000000000000000000000000a0063450000000f"); chal=...; auth=bytearray(...);
 *     auth[72:88]=bytes(16); print(hmac.new(b"\x55"*16, neg+chal+auth, "md5").hexdigest())'
 * with chal/auth the V2_CHALLENGE_MSG / V2_AUTHENTICATE_MSG bytes (and without neg for the second).
 */
START_TEST(mic)
{
	struct ntlm_hash key = hash_hex(V_RANDOM_SESSION_KEY);
	size_t neg_len, chal_len, auth_len;
	uint8_t *neg = test_hex(
	    "4e544c4d5353500001000000978208e2000000000000000000000000000000000a0063450000000f", &neg_len);
	uint8_t *chal = test_hex(V2_CHALLENGE_MSG, &chal_len);
	uint8_t *auth = test_hex(V2_AUTHENTICATE_MSG, &auth_len);
	uint8_t m[16], m2[16];

	ck_assert_status(ntlm_compute_mic(&key, neg, neg_len, chal, chal_len, auth, auth_len, 72, m),
	                 NTLM_OK);
	ck_assert_hex_eq(m, 16, "44b4f59e078482d855b4fae8fef3792f");
	/* whatever the MIC field holds, it counts as zeros */
	memset(auth + 72, 0xee, 16);
	ck_assert_status(ntlm_compute_mic(&key, neg, neg_len, chal, chal_len, auth, auth_len, 72, m2),
	                 NTLM_OK);
	ck_assert_mem_eq(m, m2, 16);
	/* a byte just after the field does count */
	auth[88] ^= 1;
	ck_assert_status(ntlm_compute_mic(&key, neg, neg_len, chal, chal_len, auth, auth_len, 72, m2),
	                 NTLM_OK);
	ck_assert(memcmp(m, m2, 16) != 0);
	auth[88] ^= 1;
	/* no NEGOTIATE (connectionless) */
	ck_assert_status(ntlm_compute_mic(&key, NULL, 0, chal, chal_len, auth, auth_len, 72, m), NTLM_OK);
	ck_assert_hex_eq(m, 16, "34d774912df104b4919a29ab9f64c187");
	/* the field must lie inside the message, after the header */
	ck_assert_status(
	    ntlm_compute_mic(&key, neg, neg_len, chal, chal_len, auth, auth_len, auth_len - 15, m),
	    NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_compute_mic(&key, neg, neg_len, chal, chal_len, auth, auth_len, SIZE_MAX, m),
	                 NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_compute_mic(&key, neg, neg_len, chal, chal_len, auth, 10, 0, m),
	                 NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_compute_mic(&key, neg, neg_len, chal, chal_len, auth, auth_len, 0, m),
	                 NTLM_ERR_INVALID_ARGUMENT);
	free(neg);
	free(chal);
	free(auth);
}
END_TEST

/*
 * Expected values: MD5 of the RFC 2744 serialisation built by Python:
 *   import hashlib, struct
 *   def cb(it, ia, at, aa, app):
 *       return hashlib.md5(struct.pack("<II", it, len(ia)) + ia + struct.pack("<II", at, len(aa)) + aa
 *                          + struct.pack("<I", len(app)) + app).hexdigest()
 *   cb(0, b"", 0, b"", b"tls-server-end-point:" + bytes(range(32)))
 *   cb(2, bytes([192, 0, 2, 1]), 2, bytes([198, 51, 100, 7]), b"abc")
 *   cb(0, b"", 0, b"", b"")
 */
START_TEST(channel_bindings)
{
	uint8_t app[21 + 32], h[16];
	static const uint8_t ia[] = {192, 0, 2, 1}, aa[] = {198, 51, 100, 7};
	struct ntlm_channel_bindings cb = {0};

	memcpy(app, "tls-server-end-point:", 21);
	for (size_t i = 0; i < 32; i++)
		app[21 + i] = (uint8_t)i;
	cb.application_data = (struct ntlm_view){app, sizeof(app)};
	ck_assert_status(ntlm_channel_bindings_hash(&cb, h), NTLM_OK);
	ck_assert_hex_eq(h, 16, "8f1214c9c9cab8dc3bf866da9aba57a7");

	cb = (struct ntlm_channel_bindings){
	    .initiator_addrtype = 2,
	    .initiator_address = {ia, sizeof(ia)},
	    .acceptor_addrtype = 2,
	    .acceptor_address = {aa, sizeof(aa)},
	    .application_data = {(const uint8_t *)"abc", 3},
	};
	ck_assert_status(ntlm_channel_bindings_hash(&cb, h), NTLM_OK);
	ck_assert_hex_eq(h, 16, "47415e208df0de1d465f4055b3371700");

	cb = (struct ntlm_channel_bindings){0};
	ck_assert_status(ntlm_channel_bindings_hash(&cb, h), NTLM_OK);
	ck_assert_hex_eq(h, 16, "441018525208457705bf09a8ee3c1093");

	cb.application_data = (struct ntlm_view){NULL, 1};
	ck_assert_status(ntlm_channel_bindings_hash(&cb, h), NTLM_ERR_INVALID_ARGUMENT);
}
END_TEST

/* ---- argument errors ---------------------------------------------------- */

START_TEST(argument_errors)
{
	struct ntlm_hash h = {{0}};
	uint8_t c8[8] = {0}, r24[24], r16[16];
	bool present;

	ck_assert_status(ntlm_lmowfv1(NULL, &h), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_lmowfv1("x", NULL), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_ntowfv1(NULL, &h), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_ntowfv1("x", NULL), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_ntowfv2(NULL, "u", "d", &h), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_ntowfv2(&h, NULL, "d", &h), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_ntowfv2(&h, "u", "d", NULL), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_desl(NULL, c8, r24), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_desl(&h, NULL, r24), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_desl(&h, c8, NULL), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_ess_response(&h, NULL, c8, r24), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_ess_response(&h, c8, NULL, r24), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_ntproofstr(&h, c8, NULL, 1, r16), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_ntproofstr(NULL, c8, c8, 8, r16), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_lmv2_response(&h, c8, NULL, r24), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_v2_session_base_key(&h, NULL, &h), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_v1_session_base_key(NULL, &h), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_kxkey(0, NULL, r24, &h, c8, false, &h), NTLM_ERR_INVALID_ARGUMENT);
	/* each KXKEY variant needs its inputs */
	ck_assert_status(ntlm_kxkey(NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY, &h, NULL, NULL, c8, false, &h),
	                 NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_kxkey(NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY, &h, r24, NULL, NULL, false, &h),
	                 NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_kxkey(NTLM_NEGOTIATE_LM_KEY, &h, r24, NULL, c8, false, &h),
	                 NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_kxkey(NTLM_REQUEST_NON_NT_SESSION_KEY, &h, r24, NULL, c8, false, &h),
	                 NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_signkey(0, &h, true, &h, NULL), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_signkey(0, NULL, true, &h, &present), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_sealkey(0, &h, true, NULL), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_rc4k(&h, NULL, r16), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_hmac_md5(NULL, 1, c8, 8, r16), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_hmac_md5(c8, 8, NULL, 1, r16), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_hmac_md5(c8, 8, c8, 8, NULL), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_compute_mic(NULL, NULL, 0, c8, 8, r24, 24, 0, r16), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_channel_bindings_hash(NULL, r16), NTLM_ERR_INVALID_ARGUMENT);
}
END_TEST

static Suite *crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *v1 = test_add_tcase(s, "ntlmv1",
	                           TESTS(lmowfv1_vector, lmowfv1_edges, ntowfv1_vector, ntowfv1_md4,
	                                 ntowfv1_refuses_bad_input, v1_session_base_key, v1_responses,
	                                 v1_no_signkey_without_ess, v1_sealkeys));

	tcase_add_loop_test(v1, v1_kxkey_variant, 0, (int)ARRAY_SIZE(v1_kxkey_cases));
	test_add_tcase(s, "ntlmv1-ess", TESTS(ess_response, ess_kxkey, ess_sign_seal_keys));
	test_add_tcase(s, "ntlmv2",
	               TESTS(ntowfv2_vector, ntowfv2_no_domain, ntowfv2_name_cap, v2_responses,
	                     v2_kxkey_and_encrypted_key, v2_sign_seal_keys));
	test_add_tcase(s, "primitives", TESTS(hmac_md5_rfc2202, hmac_md5_empty, mic, channel_bindings));
	test_add_tcase(s, "arguments", TESTS(argument_errors));
	return s;
}

int main(void)
{
	return test_run_suite(crypto_suite());
}
