/*
 * session.c: NTLM session security, connection-oriented (MS-NLMP 3.4).
 *
 * With extended session security each direction has its own signing key,
 * sealing key, RC4 handle and sequence number (MS-NLMP 3.4.4.2). Without
 * it there is no signing key, one RC4 handle keyed with the one sealing key
 * serves both directions, and one sequence number counts the messages of
 * both, so the exchange is half-duplex (MS-NLMP 3.4, 3.4.4.1), as Windows
 * and Samba do it.
 *
 * A signature that fails verification leaves the sequence number where it
 * was (MS-NLMP 3.4.4). When the failed check consumed RC4 key stream (the
 * checksum is encrypted, or the message was unsealed) the receiving
 * direction can no longer follow the sender, so it is marked broken and
 * every later verify/unseal returns NTLM_STATUS_MIC_INVALID; without
 * extended session security the shared handle breaks both directions.
 *
 * Only connection-oriented mode is implemented: a session is refused for
 * NTLMSSP_NEGOTIATE_DATAGRAM, whose per-message keys need sequence numbers
 * from the application (MS-NLMP 3.4). seal/unseal may work in place.
 */
#include "crypto.h"

#include <stdlib.h>

#define SIG_VERSION 1u

/* One direction of traffic: keys, RC4 handle and sequence number. */
struct direction {
	struct ntlm_hash sign_key; /* extended session security only */
	struct ntlm_rc4 *rc4;      /* borrowed from the other direction without ESS */
	uint32_t seq;
	bool broken;
};

struct ntlm_session {
	uint32_t flags;
	bool ess;      /* NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY */
	bool key_exch; /* NTLMSSP_NEGOTIATE_KEY_EXCH: the ESS checksum is RC4'd */
	struct direction send;
	struct direction recv;
};

/* Keys and RC4 handle of one direction with extended session security (MS-NLMP 3.4.5.2-3). */
static enum ntlm_status direction_init_ess(struct direction *d, uint32_t flags, const struct ntlm_hash *key,
                                           bool client)
{
	enum ntlm_status st;
	struct ntlm_hash seal_key = {{0}};
	bool present = false;

	st = ntlm_signkey(flags, key, client, &d->sign_key, &present);
	if (st != NTLM_OK)
		goto out;
	st = ntlm_sealkey(flags, key, client, &seal_key);
	if (st != NTLM_OK)
		goto out;
	st = ntlm_crypto_rc4_new(seal_key.bytes, sizeof(seal_key.bytes), &d->rc4);
out:
	NTLM_WIPE_OBJECT(&seal_key);
	return st;
}

/* The single RC4 handle shared by both directions without extended session security. */
static enum ntlm_status session_init_v1(struct ntlm_session *s, const struct ntlm_hash *key)
{
	enum ntlm_status st;
	struct ntlm_hash seal_key = {{0}};

	st = ntlm_sealkey(s->flags, key, true, &seal_key);
	if (st != NTLM_OK)
		goto out;
	st = ntlm_crypto_rc4_new(seal_key.bytes, sizeof(seal_key.bytes), &s->send.rc4);
	if (st != NTLM_OK)
		goto out;
	s->recv.rc4 = s->send.rc4;
out:
	NTLM_WIPE_OBJECT(&seal_key);
	return st;
}

enum ntlm_status ntlm_session_new(uint32_t flags, const struct ntlm_hash *exported_key, bool initiator,
                                  struct ntlm_session **ret)
{
	enum ntlm_status st;
	struct ntlm_session *s;

	/* connectionless mode (per-message keys, application sequence numbers) is not supported */
	if (exported_key == NULL || ret == NULL || (flags & NTLM_NEGOTIATE_DATAGRAM))
		return NTLM_ERR_INVALID_ARGUMENT;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NTLM_ERR_NO_MEMORY;
	s->flags = flags;
	s->ess = (flags & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY) != 0;
	s->key_exch = (flags & NTLM_NEGOTIATE_KEY_EXCH) != 0;
	if (s->ess) {
		/* the initiator sends with the client-to-server keys */
		st = direction_init_ess(&s->send, flags, exported_key, initiator);
		if (st == NTLM_OK)
			st = direction_init_ess(&s->recv, flags, exported_key, !initiator);
	} else {
		st = session_init_v1(s, exported_key);
	}
	if (st != NTLM_OK)
		goto out;
	*ret = s;
	s = NULL;
out:
	ntlm_session_free(s);
	return st;
}

void ntlm_session_free(struct ntlm_session *s)
{
	if (s == NULL)
		return;
	if (s->recv.rc4 != s->send.rc4)
		ntlm_crypto_rc4_free(s->recv.rc4);
	ntlm_crypto_rc4_free(s->send.rc4);
	ntlm_free_wiped(s, sizeof(*s));
}

/* Sequence number of the next message in d. Without ESS one counter serves both directions. */
static uint32_t *seq_counter(struct ntlm_session *s, struct direction *d)
{
	return s->ess ? &d->seq : &s->send.seq;
}

/* MS-NLMP 3.4.4.2: HMAC_MD5(SigningKey, SeqNum || Message), of which the signature keeps 8 bytes. */
static enum ntlm_status checksum_ess(const struct direction *d, uint32_t seq, const uint8_t *msg, size_t len,
                                     uint8_t digest[16])
{
	uint8_t seq_le[4];

	ntlm_store_le(seq_le, seq, 4);
	const struct ntlm_iov iov[] = {{seq_le, sizeof(seq_le)}, {msg, len}};
	return ntlm_crypto_hmac_md5(d->sign_key.bytes, NTLM_HASH_LEN, iov, 2, digest);
}

/* MS-NLMP 3.4.4.2: Version 1 || checksum[0..7] (RC4'd with the handle when keys were
 * exchanged) || SeqNum. */
static enum ntlm_status assemble_ess(const struct ntlm_session *s, struct direction *d, uint32_t seq,
                                     const uint8_t digest[16], uint8_t sig[16])
{
	enum ntlm_status st = NTLM_OK;
	uint8_t checksum[8];

	memcpy(checksum, digest, sizeof(checksum));
	if (s->key_exch)
		st = ntlm_crypto_rc4_update(d->rc4, checksum, sizeof(checksum), checksum);
	if (st == NTLM_OK) {
		ntlm_store_le(sig, SIG_VERSION, 4);
		memcpy(sig + 4, checksum, sizeof(checksum));
		ntlm_store_le(sig + 12, seq, 4);
	}
	NTLM_WIPE_ARRAY(checksum);
	return st;
}

/*
 * MS-NLMP 3.4.4.1: Version 1 || RC4(RandomPad = 0) || RC4(CRC32(Message)) || RC4(0) XOR SeqNum.
 * The RC4'd pad is kept in the signature, as Windows sends it (4.2.2.4).
 */
static enum ntlm_status assemble_v1(struct direction *d, uint32_t seq, uint32_t crc, uint8_t sig[16])
{
	enum ntlm_status st;
	uint8_t body[12] = {0};

	ntlm_store_le(body + 4, crc, 4);
	st = ntlm_crypto_rc4_update(d->rc4, body, sizeof(body), body);
	if (st != NTLM_OK)
		goto out;
	for (size_t i = 0; i < 4; i++)
		body[8 + i] ^= (uint8_t)(seq >> (8 * i));
	ntlm_store_le(sig, SIG_VERSION, 4);
	memcpy(sig + 4, body, sizeof(body));
out:
	NTLM_WIPE_ARRAY(body);
	return st;
}

/* The signature of msg for direction d at its current sequence number (not advanced). */
static enum ntlm_status mac(struct ntlm_session *s, struct direction *d, const uint8_t *msg, size_t len,
                            uint8_t sig[16])
{
	enum ntlm_status st;
	uint32_t seq = *seq_counter(s, d);
	uint8_t digest[16];

	if (!s->ess)
		return assemble_v1(d, seq, ntlm_crc32(msg, len), sig);
	st = checksum_ess(d, seq, msg, len, digest);
	if (st == NTLM_OK)
		st = assemble_ess(s, d, seq, digest, sig);
	NTLM_WIPE_ARRAY(digest);
	return st;
}

/* Compares a received signature with the expected one. Without ESS the RandomPad is not
 * compared: it is whatever the sender chose, RC4'd (MS-NLMP 3.4.4.1). */
static bool signature_matches(const struct ntlm_session *s, const uint8_t want[16], const uint8_t got[16])
{
	if (s->ess)
		return ntlm_equal_ct(want, got, NTLM_SIGNATURE_LEN);
	/* both halves are compared whatever the first one gave */
	bool version_ok = ntlm_equal_ct(want, got, 4);
	bool rest_ok = ntlm_equal_ct(want + 8, got + 8, 8);
	return version_ok && rest_ok;
}

/* Marks a direction that lost RC4 synchronisation with the peer; without
 * ESS the handle is shared, so both directions are lost. */
static void mark_broken(struct ntlm_session *s, struct direction *d)
{
	d->broken = true;
	if (!s->ess) {
		s->send.broken = true;
		s->recv.broken = true;
	}
}

/* Signing needs SIGN or SEAL; sealing needs SEAL. */
#define SIGN_FLAGS (NTLM_NEGOTIATE_SIGN | NTLM_NEGOTIATE_SEAL)
#define SEAL_FLAGS NTLM_NEGOTIATE_SEAL

/*
 * The checks every operation starts with: its arguments (args_ok), a
 * session that negotiated one of the flags the operation needs, and a
 * direction neither broken by an earlier failure nor about to wrap its
 * sequence number. *ret is the sending or the receiving direction.
 */
static enum ntlm_status open_direction(struct ntlm_session *s, bool args_ok, uint32_t needs, bool receiving,
                                       struct direction **ret)
{
	struct direction *d;

	if (s == NULL || !args_ok || (s->flags & needs) == 0)
		return NTLM_ERR_INVALID_ARGUMENT;
	d = receiving ? &s->recv : &s->send;
	if (d->broken)
		return NTLM_STATUS_MIC_INVALID;
	if (*seq_counter(s, d) == UINT32_MAX)
		return NTLM_ERR_INVALID_ARGUMENT;
	*ret = d;
	return NTLM_OK;
}

/*
 * MS-NLMP 3.4.2: recomputes the signature of msg for d and compares it with
 * the one received; the sequence number advances only when they match.
 * NTLM_STATUS_MIC_INVALID means a mismatch, any other failure an error.
 */
static enum ntlm_status check_signature(struct ntlm_session *s, struct direction *d, const uint8_t *msg,
                                        size_t len, const uint8_t signature[16])
{
	enum ntlm_status st;
	uint8_t want[16];

	st = mac(s, d, msg, len, want);
	if (st == NTLM_OK && !signature_matches(s, want, signature))
		st = NTLM_STATUS_MIC_INVALID;
	if (st == NTLM_OK)
		(*seq_counter(s, d))++;
	NTLM_WIPE_ARRAY(want);
	return st;
}

enum ntlm_status ntlm_session_sign(struct ntlm_session *s, const uint8_t *msg, size_t len,
                                   uint8_t ret_signature[16])
{
	struct direction *d;
	enum ntlm_status st;
	uint8_t sig[16];

	st = open_direction(s, (msg != NULL || len == 0) && ret_signature != NULL, SIGN_FLAGS, false, &d);
	if (st != NTLM_OK)
		return st;
	/* MS-NLMP 3.4.2 */
	st = mac(s, d, msg, len, sig);
	if (st != NTLM_OK)
		goto out;
	(*seq_counter(s, d))++;
	memcpy(ret_signature, sig, sizeof(sig));
out:
	NTLM_WIPE_ARRAY(sig);
	return st;
}

enum ntlm_status ntlm_session_verify(struct ntlm_session *s, const uint8_t *msg, size_t len,
                                     const uint8_t signature[16])
{
	struct direction *d;
	enum ntlm_status st;

	st = open_direction(s, (msg != NULL || len == 0) && signature != NULL, SIGN_FLAGS, true, &d);
	if (st != NTLM_OK)
		return st;
	/* MS-NLMP 3.4.2: recompute the MAC and compare */
	st = check_signature(s, d, msg, len, signature);
	/* without RC4 in the MAC nothing was consumed: the sender may still be followed */
	if (st == NTLM_STATUS_MIC_INVALID && (!s->ess || s->key_exch))
		mark_broken(s, d);
	return st;
}

enum ntlm_status ntlm_session_seal(struct ntlm_session *s, const uint8_t *msg, size_t len, uint8_t *out,
                                   uint8_t ret_signature[16])
{
	struct direction *d;
	enum ntlm_status st;
	uint8_t digest[16] = {0}, sig[16];
	uint32_t seq, crc = 0;

	st = open_direction(s, ((msg != NULL && out != NULL) || len == 0) && ret_signature != NULL,
	                    SEAL_FLAGS, false, &d);
	if (st != NTLM_OK)
		return st;
	/*
	 * MS-NLMP 3.4.3: SEAL = RC4(Handle, Message), then MAC(Handle, ...) over
	 * the plaintext with the same handle. The checksum is taken first, so
	 * out may be msg.
	 */
	seq = *seq_counter(s, d);
	if (s->ess)
		st = checksum_ess(d, seq, msg, len, digest);
	else
		crc = ntlm_crc32(msg, len);
	if (st != NTLM_OK)
		goto out;
	st = ntlm_crypto_rc4_update(d->rc4, msg, len, out);
	if (st == NTLM_OK)
		st = s->ess ? assemble_ess(s, d, seq, digest, sig) : assemble_v1(d, seq, crc, sig);
	if (st != NTLM_OK) {
		/* the RC4 stream has moved on: the peer cannot follow this direction any more */
		mark_broken(s, d);
		ntlm_wipe(out, len);
		goto out;
	}
	(*seq_counter(s, d))++;
	memcpy(ret_signature, sig, sizeof(sig));
out:
	NTLM_WIPE_ARRAY(digest);
	NTLM_WIPE_ARRAY(sig);
	return st;
}

enum ntlm_status ntlm_session_unseal(struct ntlm_session *s, const uint8_t *msg, size_t len, uint8_t *out,
                                     const uint8_t signature[16])
{
	struct direction *d;
	enum ntlm_status st;

	st = open_direction(s, ((msg != NULL && out != NULL) || len == 0) && signature != NULL, SEAL_FLAGS,
	                    true, &d);
	if (st != NTLM_OK)
		return st;
	/* MS-NLMP 3.4.3: decrypt (out may be msg), then check the signature over the plaintext */
	st = ntlm_crypto_rc4_update(d->rc4, msg, len, out);
	if (st == NTLM_OK)
		st = check_signature(s, d, out, len, signature);
	if (st != NTLM_OK) {
		mark_broken(s, d);
		ntlm_wipe(out, len);
	}
	return st;
}
