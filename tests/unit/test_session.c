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

/* Seals V_PLAINTEXT as the initiator's first message and checks data and
 * signature, then has the acceptor unseal it. */
static void check_wrap_vector(uint32_t flags, const char *key_hex, const char *sealed_hex,
                              const char *sig_hex)
{
	struct pair p = pair_new(flags, key_hex);
	size_t len;
	uint8_t *pt = test_hex(V_PLAINTEXT, &len);
	uint8_t *sealed = malloc(len), *clear = malloc(len);
	uint8_t sig[16];

	ck_assert_ptr_nonnull(sealed);
	ck_assert_ptr_nonnull(clear);
	ck_assert_status(ntlm_session_seal(p.initiator, pt, len, sealed, sig), NTLM_OK);
	ck_assert_hex_eq(sealed, len, sealed_hex);
	ck_assert_hex_eq(sig, 16, sig_hex);
	ck_assert_status(ntlm_session_unseal(p.acceptor, sealed, len, clear, sig), NTLM_OK);
	ck_assert_mem_eq(clear, pt, len);
	free(pt);
	free(sealed);
	free(clear);
	pair_free(&p);
}

/* ---- MS-NLMP 4.2 GSS_WrapEx values ------------------------------------- */

/* MS-NLMP 4.2.2.4: NTLMv1 without ESS; KEY_EXCH, so ExportedSessionKey is
 * the RandomSessionKey. The CRC32 of the plaintext (7d84aa93) is inside. */
START_TEST(wrap_v1)
{
	check_wrap_vector(V1_FLAGS, V_RANDOM_SESSION_KEY, V1_SEALED_DATA, V1_SIGNATURE);
}
END_TEST

/* MS-NLMP 4.2.3.4: ESS without KEY_EXCH, so ExportedSessionKey is the
 * KeyExchangeKey, sealing with 56 bits and a checksum in the clear. */
START_TEST(wrap_v1_ess)
{
	check_wrap_vector(V1ESS_FLAGS, V1ESS_KXKEY, V1ESS_SEALED_DATA, V1ESS_SIGNATURE);
}
END_TEST

/* MS-NLMP 4.2.4.4: NTLMv2 with KEY_EXCH: the checksum is RC4'd after the data. */
START_TEST(wrap_v2)
{
	check_wrap_vector(V2_FLAGS, V_RANDOM_SESSION_KEY, V2_SEALED_DATA, V2_SIGNATURE);
}
END_TEST

/* Sealing in place (out == msg) gives the same result. */
START_TEST(wrap_v2_in_place)
{
	struct pair p = pair_new(V2_FLAGS, V_RANDOM_SESSION_KEY);
	size_t len;
	uint8_t *buf = test_hex(V_PLAINTEXT, &len);
	uint8_t sig[16];

	ck_assert_status(ntlm_session_seal(p.initiator, buf, len, buf, sig), NTLM_OK);
	ck_assert_hex_eq(buf, len, V2_SEALED_DATA);
	ck_assert_hex_eq(sig, 16, V2_SIGNATURE);
	ck_assert_status(ntlm_session_unseal(p.acceptor, buf, len, buf, sig), NTLM_OK);
	ck_assert_hex_eq(buf, len, V_PLAINTEXT);
	free(buf);
	pair_free(&p);
}
END_TEST

/* NTLMv1 with LM_KEY: the 8-byte 56/40-bit sealing keys (values from the Python reference). */
START_TEST(wrap_v1_lm_key)
{
	check_wrap_vector(V1_LM_KEY_56_FLAGS, V_RANDOM_SESSION_KEY, "1ea99fa44e987c38cce9cff08d9b862d6da7",
	                  "01000000a2278ee8843d6b69eb493907");
	check_wrap_vector(V1_LM_KEY_40_FLAGS, V_RANDOM_SESSION_KEY, "9b759ed758bce8e85e0b7ffebc1f1261e8c1",
	                  "01000000237c2c62d810db677125d908");
}
END_TEST

/* ---- signatures (GSS_GetMIC) ------------------------------------------- */

START_TEST(sign_v2_values)
{
	struct pair p = pair_new(V2_FLAGS, V_RANDOM_SESSION_KEY);
	size_t len;
	uint8_t *pt = test_hex(V_PLAINTEXT, &len);
	uint8_t sig[16];

	ck_assert_status(ntlm_session_sign(p.initiator, pt, len, sig), NTLM_OK);
	ck_assert_hex_eq(sig, 16, "0100000074d045342c4f1cd500000000");
	ck_assert_status(ntlm_session_sign(p.initiator, pt, len, sig), NTLM_OK);
	ck_assert_hex_eq(sig, 16, "01000000e50c09993e3a33d001000000");
	ck_assert_status(ntlm_session_sign(p.acceptor, pt, len, sig), NTLM_OK);
	ck_assert_hex_eq(sig, 16, "01000000e01b84f3fbde503c00000000");
	free(pt);
	pair_free(&p);
}
END_TEST

START_TEST(sign_v1_values)
{
	struct pair p = pair_new(V1_FLAGS, V_RANDOM_SESSION_KEY);
	size_t len;
	uint8_t *pt = test_hex(V_PLAINTEXT, &len);
	uint8_t sig[16];

	ck_assert_status(ntlm_session_sign(p.initiator, pt, len, sig), NTLM_OK);
	ck_assert_hex_eq(sig, 16, "0100000006fe68d87d7df2099ed7578a");
	ck_assert_status(ntlm_session_sign(p.initiator, pt, len, sig), NTLM_OK);
	ck_assert_hex_eq(sig, 16, "010000004b3b3545763cef5b45e57458");
	free(pt);
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
	uint32_t flags = all_flags[_i];
	struct pair p = pair_new(flags, V_RANDOM_SESSION_KEY);

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
	uint32_t flags = all_flags[_i];
	struct pair p = pair_new(flags, V_RANDOM_SESSION_KEY);
	uint8_t msg[32], sig[16];

	fill_message(msg, sizeof(msg), 7);
	ck_assert_status(ntlm_session_sign(p.initiator, msg, sizeof(msg), sig), NTLM_OK);
	msg[5] ^= 0x01;
	ck_assert_status(ntlm_session_verify(p.acceptor, msg, sizeof(msg), sig), NTLM_STATUS_MIC_INVALID);
	pair_free(&p);
}
END_TEST

START_TEST(tampered_signature_rejected)
{
	uint32_t flags = all_flags[_i];
	struct pair p = pair_new(flags, V_RANDOM_SESSION_KEY);
	uint8_t msg[32], sig[16];

	fill_message(msg, sizeof(msg), 3);
	ck_assert_status(ntlm_session_sign(p.initiator, msg, sizeof(msg), sig), NTLM_OK);
	sig[10] ^= 0x80; /* checksum byte in both layouts */
	ck_assert_status(ntlm_session_verify(p.acceptor, msg, sizeof(msg), sig), NTLM_STATUS_MIC_INVALID);
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
	uint32_t flags = all_flags[_i];
	struct pair p = pair_new(flags, V_RANDOM_SESSION_KEY);
	uint8_t msg[24], sig[16];

	fill_message(msg, sizeof(msg), 2);
	ck_assert_status(ntlm_session_sign(p.initiator, msg, sizeof(msg), sig), NTLM_OK);
	ck_assert_status(ntlm_session_verify(p.acceptor, msg, sizeof(msg), sig), NTLM_OK);
	ck_assert_status(ntlm_session_verify(p.acceptor, msg, sizeof(msg), sig), NTLM_STATUS_MIC_INVALID);
	pair_free(&p);
}
END_TEST

/* Two messages verified in the wrong order. */
START_TEST(reorder_rejected)
{
	uint32_t flags = all_flags[_i];
	struct pair p = pair_new(flags, V_RANDOM_SESSION_KEY);
	uint8_t m0[24], m1[24], s0[16], s1[16];

	fill_message(m0, sizeof(m0), 0);
	fill_message(m1, sizeof(m1), 1);
	ck_assert_status(ntlm_session_sign(p.initiator, m0, sizeof(m0), s0), NTLM_OK);
	ck_assert_status(ntlm_session_sign(p.initiator, m1, sizeof(m1), s1), NTLM_OK);
	ck_assert_status(ntlm_session_verify(p.acceptor, m1, sizeof(m1), s1), NTLM_STATUS_MIC_INVALID);
	pair_free(&p);
}
END_TEST

/* ESS without KEY_EXCH: a rejected signature consumes nothing, so the
 * expected sequence number stays and the genuine message still verifies
 * (MS-NLMP 3.4.4: "SeqNum is not incremented"). */
START_TEST(ess_recovers_after_rejection)
{
	struct pair p = pair_new(V1ESS_FLAGS, V1ESS_KXKEY);
	uint8_t m0[24], m1[24], s0[16], s1[16];

	fill_message(m0, sizeof(m0), 0);
	fill_message(m1, sizeof(m1), 1);
	ck_assert_status(ntlm_session_sign(p.initiator, m0, sizeof(m0), s0), NTLM_OK);
	ck_assert_status(ntlm_session_sign(p.initiator, m1, sizeof(m1), s1), NTLM_OK);
	ck_assert_status(ntlm_session_verify(p.acceptor, m1, sizeof(m1), s1), NTLM_STATUS_MIC_INVALID);
	ck_assert_status(ntlm_session_verify(p.acceptor, m0, sizeof(m0), s0), NTLM_OK);
	ck_assert_status(ntlm_session_verify(p.acceptor, m1, sizeof(m1), s1), NTLM_OK);
	pair_free(&p);
}
END_TEST

/* When the failed check consumed RC4 key stream the receiving side cannot
 * resynchronise: later messages are refused too. */
START_TEST(rc4_direction_broken_after_rejection)
{
	struct pair p = pair_new(V2_FLAGS, V_RANDOM_SESSION_KEY);
	uint8_t m0[24], m1[24], s0[16], s1[16];

	fill_message(m0, sizeof(m0), 0);
	fill_message(m1, sizeof(m1), 1);
	ck_assert_status(ntlm_session_sign(p.initiator, m0, sizeof(m0), s0), NTLM_OK);
	ck_assert_status(ntlm_session_sign(p.initiator, m1, sizeof(m1), s1), NTLM_OK);
	m0[0] ^= 1;
	ck_assert_status(ntlm_session_verify(p.acceptor, m0, sizeof(m0), s0), NTLM_STATUS_MIC_INVALID);
	ck_assert_status(ntlm_session_verify(p.acceptor, m1, sizeof(m1), s1), NTLM_STATUS_MIC_INVALID);
	/* the other direction (own keys and handle) still works */
	ck_assert_status(ntlm_session_sign(p.acceptor, m1, sizeof(m1), s1), NTLM_OK);
	ck_assert_status(ntlm_session_verify(p.initiator, m1, sizeof(m1), s1), NTLM_OK);
	pair_free(&p);
}
END_TEST

/* A signature made by the receiving side's own send direction is not accepted (reflection). */
START_TEST(reflection_rejected)
{
	struct pair p = pair_new(V2_FLAGS, V_RANDOM_SESSION_KEY);
	uint8_t msg[24], sig[16];

	fill_message(msg, sizeof(msg), 4);
	ck_assert_status(ntlm_session_sign(p.initiator, msg, sizeof(msg), sig), NTLM_OK);
	ck_assert_status(ntlm_session_verify(p.initiator, msg, sizeof(msg), sig), NTLM_STATUS_MIC_INVALID);
	pair_free(&p);
}
END_TEST

/* A different ExportedSessionKey on the other side. */
START_TEST(wrong_key_rejected)
{
	struct ntlm_hash k1 = hash_hex(V_RANDOM_SESSION_KEY),
	                 k2 = hash_hex("55555555555555555555555555555554");
	struct ntlm_session *a = NULL, *b = NULL;
	uint8_t msg[24], sig[16];

	fill_message(msg, sizeof(msg), 5);
	ck_assert_status(ntlm_session_new(V2_FLAGS, &k1, true, &a), NTLM_OK);
	ck_assert_status(ntlm_session_new(V2_FLAGS, &k2, false, &b), NTLM_OK);
	ck_assert_status(ntlm_session_sign(a, msg, sizeof(msg), sig), NTLM_OK);
	ck_assert_status(ntlm_session_verify(b, msg, sizeof(msg), sig), NTLM_STATUS_MIC_INVALID);
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
	TCase *vectors = tcase_create("vectors");
	TCase *trips = tcase_create("round-trips");
	TCase *reject = tcase_create("rejections");
	const int n = (int)(sizeof(all_flags) / sizeof(all_flags[0]));

	tcase_add_test(vectors, wrap_v1);
	tcase_add_test(vectors, wrap_v1_ess);
	tcase_add_test(vectors, wrap_v2);
	tcase_add_test(vectors, wrap_v2_in_place);
	tcase_add_test(vectors, wrap_v1_lm_key);
	tcase_add_test(vectors, sign_v2_values);
	tcase_add_test(vectors, sign_v1_values);
	tcase_add_loop_test(trips, sign_verify_round_trip, 0, n);
	tcase_add_test(trips, sign_verify_full_duplex_ess);
	tcase_add_loop_test(trips, seal_unseal_round_trip, 0, n);
	tcase_add_loop_test(reject, tampered_message_rejected, 0, n);
	tcase_add_loop_test(reject, tampered_signature_rejected, 0, n);
	tcase_add_loop_test(reject, tampered_sealed_message_rejected, 0, n);
	tcase_add_loop_test(reject, replay_rejected, 0, n);
	tcase_add_loop_test(reject, reorder_rejected, 0, n);
	tcase_add_test(reject, ess_recovers_after_rejection);
	tcase_add_test(reject, rc4_direction_broken_after_rejection);
	tcase_add_test(reject, reflection_rejected);
	tcase_add_test(reject, wrong_key_rejected);
	tcase_add_test(reject, argument_errors);
	suite_add_tcase(s, vectors);
	suite_add_tcase(s, trips);
	suite_add_tcase(s, reject);
	return s;
}

int main(void)
{
	return test_run_suite(session_suite());
}
