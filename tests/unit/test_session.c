/*
 * test_session.c: session security (MS-NLMP 3.4): the GSS_WrapEx values of
 * MS-NLMP 4.2.2.4, 4.2.3.4 and 4.2.4.4, signatures computed with an
 * independent Python implementation, and initiator <-> acceptor round trips.
 *
 * The Python reference used for the values that are not in the spec (RC4
 * written out by hand, hashlib/hmac/binascii from the standard library):
 *
 *   import hashlib, hmac, binascii, struct
 *   def rc4(key):
 *       S = list(range(256)); j = 0
 *       for i in range(256):
 *           j = (j + S[i] + key[i % len(key)]) % 256; S[i], S[j] = S[j], S[i]
 *       i = j = 0
 *       while True:
 *           i = (i + 1) % 256; j = (j + S[i]) % 256; S[i], S[j] = S[j], S[i]
 *           yield S[(S[i] + S[j]) % 256]
 *   def enc(g, d): return bytes(b ^ next(g) for b in d)
 *   pt = "Plaintext".encode("utf-16-le"); rsk = b"\x55" * 16
 *   CSI/SSI/CSE/SSE = b"session key to {client-to-server,server-to-client} {signing,sealing} key magic
 * constant\0" # NTLMv2 GetMIC, client, messages 0 and 1 (one RC4 handle across both): g = rc4(hashlib.md5(rsk
 * + CSE).digest()); sk = hashlib.md5(rsk + CSI).digest() for seq in (0, 1): c = hmac.new(sk,
 * struct.pack("<I", seq) + pt, "md5").digest()[:8] print("01000000" + enc(g, c).hex() + struct.pack("<I",
 * seq).hex()) # the same with SSE/SSI for the server's first signature # NTLMv1 GetMIC, shared handle and
 * counter, messages 0 and 1: g = rc4(rsk); crc = binascii.crc32(pt) for seq in (0, 1): b = enc(g, bytes(4) +
 * struct.pack("<I", crc) + bytes(4)) print("01000000" + (b[:8] + bytes(x ^ y for x, y in zip(b[8:],
 * struct.pack("<I", seq)))).hex()) # NTLMv1 with LM_KEY: key rsk[:7] + b"\xa0" (56 bits) or rsk[:5] +
 * b"\xe5\x38\xb0" (40 bits): g = rc4(key); print(enc(g, pt).hex(), "01000000" + enc(g, bytes(4) +
 * struct.pack("<I", crc) + bytes(4)).hex())
 */
#include "testutil.h"
#include "vectors.h"

#define V1_LM_KEY_56_FLAGS ((V1_FLAGS & ~NTLM_NEGOTIATE_128) | NTLM_NEGOTIATE_LM_KEY)
#define V1_LM_KEY_40_FLAGS ((V1_FLAGS & ~(NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_56)) | NTLM_NEGOTIATE_LM_KEY)

/* An initiator and an acceptor sharing flags and ExportedSessionKey. */
struct pair {
	struct ntlm_session *initiator;
	struct ntlm_session *acceptor;
};

static struct pair pair_new(uint32_t flags, const char *key_hex)
{
	struct ntlm_hash key = hash_hex(key_hex);
	struct pair p = {NULL, NULL};

	ck_assert_status(ntlm_session_new(flags, &key, true, &p.initiator), NTLM_OK);
	ck_assert_status(ntlm_session_new(flags, &key, false, &p.acceptor), NTLM_OK);
	ck_assert_ptr_nonnull(p.initiator);
	ck_assert_ptr_nonnull(p.acceptor);
	return p;
}

static void pair_free(struct pair *p)
{
	ntlm_session_free(p->initiator);
	ntlm_session_free(p->acceptor);
}

/* ---- MS-NLMP 4.2 GSS_WrapEx values ------------------------------------- */

/* V_PLAINTEXT sealed as the initiator's first message. */
static const struct wrap_vector {
	const char *name;
	uint32_t flags;
	const char *key; /* ExportedSessionKey */
	const char *sealed, *signature;
	bool in_place; /* seal and unseal with out == msg */
} wrap_vectors[] = {
    /* MS-NLMP 4.2.2.4: NTLMv1 without ESS; KEY_EXCH, so ExportedSessionKey is
     * the RandomSessionKey. The CRC32 of the plaintext (7d84aa93) is inside. */
    {"4.2.2.4 NTLMv1", V1_FLAGS, V_RANDOM_SESSION_KEY, V1_SEALED_DATA, V1_SIGNATURE, false},
    /* MS-NLMP 4.2.3.4: ESS without KEY_EXCH, so ExportedSessionKey is the
     * KeyExchangeKey, sealing with 56 bits and a checksum in the clear. */
    {"4.2.3.4 NTLMv1-ESS", V1ESS_FLAGS, V1ESS_KXKEY, V1ESS_SEALED_DATA, V1ESS_SIGNATURE, false},
    /* MS-NLMP 4.2.4.4: NTLMv2 with KEY_EXCH: the checksum is RC4'd after the data. */
    {"4.2.4.4 NTLMv2", V2_FLAGS, V_RANDOM_SESSION_KEY, V2_SEALED_DATA, V2_SIGNATURE, false},
    /* Sealing in place (out == msg) gives the same result. */
    {"4.2.4.4 NTLMv2 in place", V2_FLAGS, V_RANDOM_SESSION_KEY, V2_SEALED_DATA, V2_SIGNATURE, true},
    /* NTLMv1 with LM_KEY: the 8-byte 56/40-bit sealing keys (values from the Python reference). */
    {"NTLMv1 LM_KEY 56-bit", V1_LM_KEY_56_FLAGS, V_RANDOM_SESSION_KEY, "1ea99fa44e987c38cce9cff08d9b862d6da7",
     "01000000a2278ee8843d6b69eb493907", false},
    {"NTLMv1 LM_KEY 40-bit", V1_LM_KEY_40_FLAGS, V_RANDOM_SESSION_KEY, "9b759ed758bce8e85e0b7ffebc1f1261e8c1",
     "01000000237c2c62d810db677125d908", false},
};

/* Seals V_PLAINTEXT as the initiator's first message and checks data and
 * signature, then has the acceptor unseal it. */
START_TEST(wrap_vector)
{
	const struct wrap_vector *v = &wrap_vectors[_i];
	struct pair p = pair_new(v->flags, v->key);
	size_t len;
	uint8_t *pt = test_hex(V_PLAINTEXT, &len);
	uint8_t *sealed = v->in_place ? pt : malloc(len);
	uint8_t *clear = v->in_place ? pt : malloc(len);
	uint8_t sig[16];

	ck_assert_ptr_nonnull(sealed);
	ck_assert_ptr_nonnull(clear);
	ck_assert_status_msg(v->name, ntlm_session_seal(p.initiator, pt, len, sealed, sig), NTLM_OK);
	ck_assert_hex_eq_msg(v->name, sealed, len, v->sealed);
	ck_assert_hex_eq_msg(v->name, sig, 16, v->signature);
	ck_assert_status_msg(v->name, ntlm_session_unseal(p.acceptor, sealed, len, clear, sig), NTLM_OK);
	ck_assert_hex_eq_msg(v->name, clear, len, V_PLAINTEXT);
	if (!v->in_place) {
		free(sealed);
		free(clear);
	}
	free(pt);
	pair_free(&p);
}
END_TEST

/* ---- signatures (GSS_GetMIC) ------------------------------------------- */

/* Signs V_PLAINTEXT as the next message from s and checks the signature. */
static void check_signature(struct ntlm_session *s, const char *sig_hex)
{
	size_t len;
	uint8_t *pt = test_hex(V_PLAINTEXT, &len);
	uint8_t sig[16];

	ck_assert_status(ntlm_session_sign(s, pt, len, sig), NTLM_OK);
	ck_assert_hex_eq(sig, 16, sig_hex);
	free(pt);
}

START_TEST(sign_v2_values)
{
	struct pair p = pair_new(V2_FLAGS, V_RANDOM_SESSION_KEY);

	check_signature(p.initiator, "0100000074d045342c4f1cd500000000");
	check_signature(p.initiator, "01000000e50c09993e3a33d001000000");
	check_signature(p.acceptor, "01000000e01b84f3fbde503c00000000");
	pair_free(&p);
}
END_TEST

START_TEST(sign_v1_values)
{
	struct pair p = pair_new(V1_FLAGS, V_RANDOM_SESSION_KEY);

	check_signature(p.initiator, "0100000006fe68d87d7df2099ed7578a");
	check_signature(p.initiator, "010000004b3b3545763cef5b45e57458");
	pair_free(&p);
}
END_TEST

/* ---- round trips --------------------------------------------------------- */

static const uint32_t all_flags[] = {
    V1_FLAGS, V1_LM_KEY_56_FLAGS, V1ESS_FLAGS, V1ESS_FLAGS | NTLM_NEGOTIATE_KEY_EXCH | NTLM_NEGOTIATE_128,
    V2_FLAGS,
};

/* A message of n bytes that differs for every i. */
static void fill_message(uint8_t *m, size_t n, unsigned i)
{
	for (size_t j = 0; j < n; j++)
		m[j] = (uint8_t)(i * 31u + j * 7u + 1u);
}

/* Message i of len bytes (fill_message) and its signature. */
struct signed_msg {
	uint8_t data[32];
	size_t len;
	uint8_t sig[16];
};

/* Fills message i of len bytes and signs it as the next message from s. */
static struct signed_msg sign_message(struct ntlm_session *s, unsigned i, size_t len)
{
	struct signed_msg m = {.len = len};

	ck_assert_uint_le(len, sizeof(m.data));
	fill_message(m.data, len, i);
	ck_assert_status(ntlm_session_sign(s, m.data, len, m.sig), NTLM_OK);
	return m;
}

/* Signs messages 0 and 1 (24 bytes) as the initiator's next two messages. */
static void sign_two(const struct pair *p, struct signed_msg m[2])
{
	m[0] = sign_message(p->initiator, 0, 24);
	m[1] = sign_message(p->initiator, 1, 24);
}

/* Verifies m as the next message to s. */
static enum ntlm_status verify_message(struct ntlm_session *s, const struct signed_msg *m)
{
	return ntlm_session_verify(s, m->data, m->len, m->sig);
}

/* Signs from one side and verifies on the other, alternating directions
 * (half-duplex, which NTLMv1 without ESS requires). */
START_TEST(sign_verify_round_trip)
{
	uint32_t flags = all_flags[_i];
	struct pair p = pair_new(flags, V_RANDOM_SESSION_KEY);

	for (unsigned i = 0; i < 6; i++) {
		struct ntlm_session *from = (i % 2) ? p.acceptor : p.initiator;
		struct ntlm_session *to = (i % 2) ? p.initiator : p.acceptor;
		uint8_t msg[40], sig[16];

		fill_message(msg, sizeof(msg), i);
		ck_assert_status(ntlm_session_sign(from, msg, sizeof(msg), sig), NTLM_OK);
		ck_assert_uint_eq(sig[0], 1);
		ck_assert_status(ntlm_session_verify(to, msg, sizeof(msg), sig), NTLM_OK);
		if (flags & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY) {
			/* each direction counts its own messages, in the clear (MS-NLMP 3.4.4.2) */
			uint32_t seq = (uint32_t)sig[12] | (uint32_t)sig[13] << 8 | (uint32_t)sig[14] << 16 |
			               (uint32_t)sig[15] << 24;
			ck_assert_uint_eq(seq, i / 2);
		}
	}
	/* an empty message is signed too */
	{
		uint8_t sig[16];
		ck_assert_status(ntlm_session_sign(p.initiator, NULL, 0, sig), NTLM_OK);
		ck_assert_status(ntlm_session_verify(p.acceptor, NULL, 0, sig), NTLM_OK);
	}
	pair_free(&p);
}
END_TEST

/* With ESS both directions may send several messages in a row. */
START_TEST(sign_verify_full_duplex_ess)
{
	struct pair p = pair_new(V2_FLAGS, V_RANDOM_SESSION_KEY);
	uint8_t msg[3][16], isig[3][16], asig[3][16];

	for (unsigned i = 0; i < 3; i++) {
		fill_message(msg[i], sizeof(msg[i]), i);
		ck_assert_status(ntlm_session_sign(p.initiator, msg[i], 16, isig[i]), NTLM_OK);
		ck_assert_status(ntlm_session_sign(p.acceptor, msg[i], 16, asig[i]), NTLM_OK);
		/* different keys per direction */
		ck_assert(memcmp(isig[i], asig[i], 16) != 0);
	}
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_status(ntlm_session_verify(p.acceptor, msg[i], 16, isig[i]), NTLM_OK);
		ck_assert_status(ntlm_session_verify(p.initiator, msg[i], 16, asig[i]), NTLM_OK);
	}
	pair_free(&p);
}
END_TEST

START_TEST(seal_unseal_round_trip)
{
	struct pair p = pair_new(all_flags[_i], V_RANDOM_SESSION_KEY);

	for (unsigned i = 0; i < 6; i++) {
		struct ntlm_session *from = (i % 2) ? p.acceptor : p.initiator;
		struct ntlm_session *to = (i % 2) ? p.initiator : p.acceptor;
		uint8_t msg[100], sealed[100], clear[100], sig[16];
		size_t len = 1 + i * 19;

		fill_message(msg, len, i);
		ck_assert_status(ntlm_session_seal(from, msg, len, sealed, sig), NTLM_OK);
		ck_assert(memcmp(sealed, msg, len) != 0 || len < 4);
		ck_assert_status(ntlm_session_unseal(to, sealed, len, clear, sig), NTLM_OK);
		ck_assert_mem_eq(clear, msg, len);
	}
	pair_free(&p);
}
END_TEST

/* ---- rejections ---------------------------------------------------------- */

START_TEST(tampered_message_rejected)
{
	struct pair p = pair_new(all_flags[_i], V_RANDOM_SESSION_KEY);
	struct signed_msg m = sign_message(p.initiator, 7, 32);

	m.data[5] ^= 0x01;
	ck_assert_status(verify_message(p.acceptor, &m), NTLM_STATUS_MIC_INVALID);
	pair_free(&p);
}
END_TEST

START_TEST(tampered_signature_rejected)
{
	struct pair p = pair_new(all_flags[_i], V_RANDOM_SESSION_KEY);
	struct signed_msg m = sign_message(p.initiator, 3, 32);

	m.sig[10] ^= 0x80; /* checksum byte in both layouts */
	ck_assert_status(verify_message(p.acceptor, &m), NTLM_STATUS_MIC_INVALID);
	pair_free(&p);
}
END_TEST

START_TEST(tampered_sealed_message_rejected)
{
	uint32_t flags = all_flags[_i];
	struct pair p = pair_new(flags, V_RANDOM_SESSION_KEY);
	uint8_t msg[32], sealed[32], clear[32], sig[16];

	fill_message(msg, sizeof(msg), 1);
	ck_assert_status(ntlm_session_seal(p.initiator, msg, sizeof(msg), sealed, sig), NTLM_OK);
	sealed[31] ^= 0x40;
	memset(clear, 0xaa, sizeof(clear));
	ck_assert_status(ntlm_session_unseal(p.acceptor, sealed, sizeof(sealed), clear, sig),
	                 NTLM_STATUS_MIC_INVALID);
	/* the unverified plaintext is not handed out */
	for (size_t i = 0; i < sizeof(clear); i++)
		ck_assert_uint_eq(clear[i], 0);
	pair_free(&p);
}
END_TEST

/* The same message and signature a second time: the sequence number has moved on. */
START_TEST(replay_rejected)
{
	struct pair p = pair_new(all_flags[_i], V_RANDOM_SESSION_KEY);
	struct signed_msg m = sign_message(p.initiator, 2, 24);

	ck_assert_status(verify_message(p.acceptor, &m), NTLM_OK);
	ck_assert_status(verify_message(p.acceptor, &m), NTLM_STATUS_MIC_INVALID);
	pair_free(&p);
}
END_TEST

/* Two messages verified in the wrong order. */
START_TEST(reorder_rejected)
{
	struct pair p = pair_new(all_flags[_i], V_RANDOM_SESSION_KEY);
	struct signed_msg m[2];

	sign_two(&p, m);
	ck_assert_status(verify_message(p.acceptor, &m[1]), NTLM_STATUS_MIC_INVALID);
	pair_free(&p);
}
END_TEST

/* ESS without KEY_EXCH: a rejected signature consumes nothing, so the
 * expected sequence number stays and the genuine message still verifies
 * (MS-NLMP 3.4.4: "SeqNum is not incremented"). */
START_TEST(ess_recovers_after_rejection)
{
	struct pair p = pair_new(V1ESS_FLAGS, V1ESS_KXKEY);
	struct signed_msg m[2];

	sign_two(&p, m);
	ck_assert_status(verify_message(p.acceptor, &m[1]), NTLM_STATUS_MIC_INVALID);
	ck_assert_status(verify_message(p.acceptor, &m[0]), NTLM_OK);
	ck_assert_status(verify_message(p.acceptor, &m[1]), NTLM_OK);
	pair_free(&p);
}
END_TEST

/* When the failed check consumed RC4 key stream the receiving side cannot
 * resynchronise: later messages are refused too. */
START_TEST(rc4_direction_broken_after_rejection)
{
	struct pair p = pair_new(V2_FLAGS, V_RANDOM_SESSION_KEY);
	struct signed_msg m[2];

	sign_two(&p, m);
	m[0].data[0] ^= 1;
	ck_assert_status(verify_message(p.acceptor, &m[0]), NTLM_STATUS_MIC_INVALID);
	ck_assert_status(verify_message(p.acceptor, &m[1]), NTLM_STATUS_MIC_INVALID);
	/* the other direction (own keys and handle) still works */
	m[1] = sign_message(p.acceptor, 1, 24);
	ck_assert_status(verify_message(p.initiator, &m[1]), NTLM_OK);
	pair_free(&p);
}
END_TEST

/* A signature made by the receiving side's own send direction is not accepted (reflection). */
START_TEST(reflection_rejected)
{
	struct pair p = pair_new(V2_FLAGS, V_RANDOM_SESSION_KEY);
	struct signed_msg m = sign_message(p.initiator, 4, 24);

	ck_assert_status(verify_message(p.initiator, &m), NTLM_STATUS_MIC_INVALID);
	pair_free(&p);
}
END_TEST

/* A different ExportedSessionKey on the other side. */
START_TEST(wrong_key_rejected)
{
	struct ntlm_hash k1 = hash_hex(V_RANDOM_SESSION_KEY),
	                 k2 = hash_hex("55555555555555555555555555555554");
	struct ntlm_session *a = NULL, *b = NULL;
	struct signed_msg m;

	ck_assert_status(ntlm_session_new(V2_FLAGS, &k1, true, &a), NTLM_OK);
	ck_assert_status(ntlm_session_new(V2_FLAGS, &k2, false, &b), NTLM_OK);
	m = sign_message(a, 5, 24);
	ck_assert_status(verify_message(b, &m), NTLM_STATUS_MIC_INVALID);
	ntlm_session_free(a);
	ntlm_session_free(b);
}
END_TEST

START_TEST(argument_errors)
{
	struct ntlm_hash key = hash_hex(V_RANDOM_SESSION_KEY);
	struct ntlm_session *s = NULL;
	uint8_t msg[4] = {0}, out[4], sig[16] = {0};

	ck_assert_status(ntlm_session_new(V2_FLAGS, NULL, true, &s), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_session_new(V2_FLAGS, &key, true, NULL), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_session_sign(NULL, msg, 4, sig), NTLM_ERR_INVALID_ARGUMENT);
	ntlm_session_free(NULL);
	/* connectionless mode is not implemented */
	ck_assert_status(ntlm_session_new(V1_FLAGS | NTLM_NEGOTIATE_DATAGRAM, &key, true, &s),
	                 NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_ptr_null(s);

	ck_assert_status(ntlm_session_new(V2_FLAGS, &key, true, &s), NTLM_OK);
	ck_assert_status(ntlm_session_sign(s, NULL, 4, sig), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_session_sign(s, msg, 4, NULL), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_session_verify(s, msg, 4, NULL), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_session_seal(s, msg, 4, NULL, sig), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_session_unseal(s, NULL, 4, out, sig), NTLM_ERR_INVALID_ARGUMENT);
	ntlm_session_free(s);

	/* sealing needs NTLMSSP_NEGOTIATE_SEAL, signing SIGN or SEAL */
	s = NULL;
	ck_assert_status(ntlm_session_new(V2_FLAGS & ~NTLM_NEGOTIATE_SEAL, &key, true, &s), NTLM_OK);
	ck_assert_status(ntlm_session_seal(s, msg, 4, out, sig), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_session_sign(s, msg, 4, sig), NTLM_OK);
	ntlm_session_free(s);
	s = NULL;
	ck_assert_status(
	    ntlm_session_new(V2_FLAGS & ~(NTLM_NEGOTIATE_SEAL | NTLM_NEGOTIATE_SIGN), &key, true, &s),
	    NTLM_OK);
	ck_assert_status(ntlm_session_sign(s, msg, 4, sig), NTLM_ERR_INVALID_ARGUMENT);
	ntlm_session_free(s);
}
END_TEST

static Suite *session_suite(void)
{
	Suite *s = suite_create("session");
	TCase *vectors = test_add_tcase(s, "vectors", TESTS(sign_v2_values, sign_v1_values));
	TCase *trips = test_add_tcase(s, "round-trips", TESTS(sign_verify_full_duplex_ess));
	TCase *reject =
	    test_add_tcase(s, "rejections",
	                   TESTS(ess_recovers_after_rejection, rc4_direction_broken_after_rejection,
	                         reflection_rejected, wrong_key_rejected, argument_errors));
	const int n = (int)ARRAY_SIZE(all_flags); /* the loop tests run once per flag set */

	tcase_add_loop_test(vectors, wrap_vector, 0, (int)ARRAY_SIZE(wrap_vectors));
	tcase_add_loop_test(trips, sign_verify_round_trip, 0, n);
	tcase_add_loop_test(trips, seal_unseal_round_trip, 0, n);
	tcase_add_loop_test(reject, tampered_message_rejected, 0, n);
	tcase_add_loop_test(reject, tampered_signature_rejected, 0, n);
	tcase_add_loop_test(reject, tampered_sealed_message_rejected, 0, n);
	tcase_add_loop_test(reject, replay_rejected, 0, n);
	tcase_add_loop_test(reject, reorder_rejected, 0, n);
	return s;
}

int main(void)
{
	return test_run_suite(session_suite());
}
