/*
 * responses.c: the one-way functions, challenge responses and session keys
 * of MS-NLMP 3.3 and 3.4.5, over the primitives of crypto.h.
 */
#include "crypto.h"

/* Passwords are capped (in UTF-16 code units) before they are hashed. */
#define PASSWORD_MAX_UNITS 1024u
/* LMOWFv1 takes at most 14 OEM bytes (MS-NLMP 3.3.1). */
#define LM_PASSWORD_MAX 14u

/* MS-NLMP 3.3.1: the constant LMOWFv1 encrypts ("KGS!@#$%"; the
 * pseudocode's "KGS!@#%$" is a typo, the 4.2.2.1.1 values use this). */
static const uint8_t lm_magic[8] = {'K', 'G', 'S', '!', '@', '#', '$', '%'};

/* MS-NLMP 3.4.5.2 / 3.4.5.3: the magic constants, NUL terminator included in the hash. */
static const char client_sign_magic[] = "session key to client-to-server signing key magic constant";
static const char server_sign_magic[] = "session key to server-to-client signing key magic constant";
static const char client_seal_magic[] = "session key to client-to-server sealing key magic constant";
static const char server_seal_magic[] = "session key to server-to-client sealing key magic constant";

enum ntlm_status ntlm_lmowfv1(const char *password, struct ntlm_hash *ret)
{
	enum ntlm_status st;
	uint8_t upper[LM_PASSWORD_MAX] = {0};
	struct ntlm_hash h = {{0}};
	size_t len;

	if (password == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	/* MS-NLMP 3.3.1: no LMOWFv1 exists for passwords over 14 characters. */
	len = strnlen(password, LM_PASSWORD_MAX + 1);
	if (len > LM_PASSWORD_MAX)
		return NTLM_ERR_INVALID_ARGUMENT;
	/* UpperCase() of ASCII letters only; other bytes are kept as they are. */
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)password[i];
		upper[i] = (c >= 'a' && c <= 'z') ? (uint8_t)(c - ('a' - 'A')) : c;
	}
	st = ntlm_crypto_des7(upper, lm_magic, h.bytes);
	if (st != NTLM_OK)
		goto out;
	st = ntlm_crypto_des7(upper + 7, lm_magic, h.bytes + 8);
	if (st != NTLM_OK)
		goto out;
	*ret = h;
out:
	NTLM_WIPE_ARRAY(upper);
	NTLM_WIPE_OBJECT(&h);
	return st;
}

enum ntlm_status ntlm_ntowfv1(const char *password, struct ntlm_hash *ret)
{
	enum ntlm_status st;
	uint8_t *unicode = NULL;
	size_t unicode_len = 0;
	struct ntlm_hash h = {{0}};

	if (password == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	/* MS-NLMP 3.3.1: MD4(UNICODE(Passwd)) */
	st = ntlm_utf8_to_utf16le(password, PASSWORD_MAX_UNITS, &unicode, &unicode_len);
	if (st != NTLM_OK)
		goto out;
	st = ntlm_crypto_md4(&(struct ntlm_iov){unicode, unicode_len}, 1, h.bytes);
	if (st != NTLM_OK)
		goto out;
	*ret = h;
out:
	ntlm_free_wiped(unicode, unicode_len);
	NTLM_WIPE_OBJECT(&h);
	return st;
}

enum ntlm_status ntlm_ntowfv2(const struct ntlm_hash *nt_hash, const char *user, const char *domain,
                              struct ntlm_hash *ret)
{
	enum ntlm_status st;
	uint8_t *user16 = NULL, *domain16 = NULL;
	size_t user16_len = 0, domain16_len = 0;
	struct ntlm_hash h = {{0}};

	if (nt_hash == NULL || user == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	st = ntlm_utf8_to_utf16le(user, NTLM_MAX_NAME, &user16, &user16_len);
	if (st != NTLM_OK)
		goto out;
	st = ntlm_utf8_to_utf16le(domain != NULL ? domain : "", NTLM_MAX_NAME, &domain16, &domain16_len);
	if (st != NTLM_OK)
		goto out;
	/* MS-NLMP 3.3.2: HMAC_MD5(NTOWFv1, UNICODE(Uppercase(User) || UserDom)); UserDom keeps its case */
	ntlm_utf16le_upper(user16, user16_len);
	{
		const struct ntlm_iov iov[] = {{user16, user16_len}, {domain16, domain16_len}};
		st = ntlm_crypto_hmac_md5(nt_hash->bytes, NTLM_HASH_LEN, iov, 2, h.bytes);
	}
	if (st != NTLM_OK)
		goto out;
	*ret = h;
out:
	ntlm_free_wiped(user16, user16_len);
	ntlm_free_wiped(domain16, domain16_len);
	NTLM_WIPE_OBJECT(&h);
	return st;
}

/* MS-NLMP 6 DESL(K, D) = DES(K[0..6], D) || DES(K[7..13], D) || DES(K[14..15] || Z(5), D) */
static enum ntlm_status desl(const uint8_t key[16], const uint8_t data[8], uint8_t ret[24])
{
	enum ntlm_status st;
	uint8_t third[7] = {0};
	uint8_t out[24];

	memcpy(third, key + 14, 2);
	st = ntlm_crypto_des7(key, data, out);
	if (st == NTLM_OK)
		st = ntlm_crypto_des7(key + 7, data, out + 8);
	if (st == NTLM_OK)
		st = ntlm_crypto_des7(third, data, out + 16);
	if (st == NTLM_OK)
		memcpy(ret, out, sizeof(out));
	NTLM_WIPE_ARRAY(third);
	NTLM_WIPE_ARRAY(out);
	return st;
}

enum ntlm_status ntlm_desl(const struct ntlm_hash *key, const uint8_t challenge[8], uint8_t ret[24])
{
	if (key == NULL || challenge == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	return desl(key->bytes, challenge, ret);
}

/*
 * The two 24-byte responses over ServerChallenge || ClientChallenge:
 * NTLMv1 with extended session security (lmv2 false) and LMv2 (lmv2 true).
 */
static enum ntlm_status challenges_response(const struct ntlm_hash *key, const uint8_t server_challenge[8],
                                            const uint8_t client_challenge[8], bool lmv2, uint8_t ret[24])
{
	enum ntlm_status st;
	uint8_t digest[16];

	if (key == NULL || server_challenge == NULL || client_challenge == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	const struct ntlm_iov iov[] = {{server_challenge, 8}, {client_challenge, 8}};
	if (!lmv2) {
		/* MS-NLMP 3.3.1: DESL(ResponseKeyNT, MD5(ServerChallenge || ClientChallenge)[0..7]) */
		st = ntlm_crypto_md5(iov, 2, digest);
		if (st == NTLM_OK)
			st = desl(key->bytes, digest, ret);
	} else {
		/* MS-NLMP 3.3.2: HMAC_MD5(ResponseKeyLM, ServerChallenge || ClientChallenge) ||
		 * ClientChallenge */
		st = ntlm_crypto_hmac_md5(key->bytes, NTLM_HASH_LEN, iov, 2, digest);
		if (st == NTLM_OK) {
			memcpy(ret, digest, 16);
			memcpy(ret + 16, client_challenge, 8);
		}
	}
	NTLM_WIPE_ARRAY(digest);
	return st;
}

enum ntlm_status ntlm_ess_response(const struct ntlm_hash *nt_hash, const uint8_t server_challenge[8],
                                   const uint8_t client_challenge[8], uint8_t ret[24])
{
	return challenges_response(nt_hash, server_challenge, client_challenge, false, ret);
}

enum ntlm_status ntlm_lmv2_response(const struct ntlm_hash *response_key, const uint8_t server_challenge[8],
                                    const uint8_t client_challenge[8], uint8_t ret[24])
{
	return challenges_response(response_key, server_challenge, client_challenge, true, ret);
}

enum ntlm_status ntlm_ntproofstr(const struct ntlm_hash *response_key, const uint8_t server_challenge[8],
                                 const uint8_t *blob, size_t blob_len, uint8_t ret[16])
{
	if (response_key == NULL || server_challenge == NULL || (blob == NULL && blob_len != 0) ||
	    ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	/* MS-NLMP 3.3.2: HMAC_MD5(ResponseKeyNT, ServerChallenge || temp) */
	const struct ntlm_iov iov[] = {{server_challenge, 8}, {blob, blob_len}};
	return ntlm_crypto_hmac_md5(response_key->bytes, NTLM_HASH_LEN, iov, 2, ret);
}

enum ntlm_status ntlm_v2_session_base_key(const struct ntlm_hash *response_key, const uint8_t ntproofstr[16],
                                          struct ntlm_hash *ret)
{
	enum ntlm_status st;
	struct ntlm_hash h = {{0}};

	if (response_key == NULL || ntproofstr == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	/* MS-NLMP 3.3.2: HMAC_MD5(ResponseKeyNT, NTProofStr) */
	st = ntlm_crypto_hmac_md5(response_key->bytes, NTLM_HASH_LEN, &(struct ntlm_iov){ntproofstr, 16}, 1,
	                          h.bytes);
	if (st == NTLM_OK)
		*ret = h;
	NTLM_WIPE_OBJECT(&h);
	return st;
}

enum ntlm_status ntlm_v1_session_base_key(const struct ntlm_hash *nt_hash, struct ntlm_hash *ret)
{
	enum ntlm_status st;
	struct ntlm_hash h = {{0}};

	if (nt_hash == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	/* MS-NLMP 3.3.1: MD4(NTOWFv1) */
	st = ntlm_crypto_md4(&(struct ntlm_iov){nt_hash->bytes, NTLM_HASH_LEN}, 1, h.bytes);
	if (st == NTLM_OK)
		*ret = h;
	NTLM_WIPE_OBJECT(&h);
	return st;
}

/* MS-NLMP 3.4.5.1, NTLMv1 with NTLMSSP_NEGOTIATE_LM_KEY:
 * DES(LMOWF[0..6], LmChallengeResponse[0..7]) || DES(LMOWF[7] || 0xBDBDBDBDBDBD, LmChallengeResponse[0..7])
 */
static enum ntlm_status kxkey_lm_key(const struct ntlm_hash *lm_hash, const uint8_t lm_response[24],
                                     struct ntlm_hash *ret)
{
	enum ntlm_status st;
	uint8_t second[7] = {0, 0xbd, 0xbd, 0xbd, 0xbd, 0xbd, 0xbd};

	second[0] = lm_hash->bytes[7];
	st = ntlm_crypto_des7(lm_hash->bytes, lm_response, ret->bytes);
	if (st == NTLM_OK)
		st = ntlm_crypto_des7(second, lm_response, ret->bytes + 8);
	NTLM_WIPE_ARRAY(second);
	return st;
}

/* Whether the inputs the KXKEY variant selected by flags reads were supplied. */
static bool kxkey_inputs_present(uint32_t flags, bool ntlmv2, const uint8_t *lm_response,
                                 const struct ntlm_hash *lm_hash, const uint8_t *server_challenge)
{
	if (ntlmv2)
		return true;
	if (flags & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY)
		return lm_response != NULL && server_challenge != NULL;
	if (flags & NTLM_NEGOTIATE_LM_KEY)
		return lm_response != NULL && lm_hash != NULL;
	if (flags & NTLM_REQUEST_NON_NT_SESSION_KEY)
		return lm_hash != NULL;
	return true;
}

enum ntlm_status ntlm_kxkey(uint32_t flags, const struct ntlm_hash *session_base_key,
                            const uint8_t lm_response[24], const struct ntlm_hash *lm_hash,
                            const uint8_t server_challenge[8], bool ntlmv2, struct ntlm_hash *ret)
{
	enum ntlm_status st = NTLM_OK;
	struct ntlm_hash h = {{0}};

	if (session_base_key == NULL || ret == NULL ||
	    !kxkey_inputs_present(flags, ntlmv2, lm_response, lm_hash, server_challenge))
		return NTLM_ERR_INVALID_ARGUMENT;
	if (ntlmv2) {
		/* MS-NLMP 3.4.5.1: for NTLMv2 KeyExchangeKey is the SessionBaseKey */
		h = *session_base_key;
	} else if (flags & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY) {
		/* HMAC_MD5(SessionBaseKey, ServerChallenge || LmChallengeResponse[0..7]); ESS wins over
		 * LM_KEY */
		const struct ntlm_iov iov[] = {{server_challenge, 8}, {lm_response, 8}};
		st = ntlm_crypto_hmac_md5(session_base_key->bytes, NTLM_HASH_LEN, iov, 2, h.bytes);
	} else if (flags & NTLM_NEGOTIATE_LM_KEY) {
		st = kxkey_lm_key(lm_hash, lm_response, &h);
	} else if (flags & NTLM_REQUEST_NON_NT_SESSION_KEY) {
		/* LMOWF[0..7] || Z(8) */
		memcpy(h.bytes, lm_hash->bytes, 8);
	} else {
		h = *session_base_key;
	}
	if (st == NTLM_OK)
		*ret = h;
	NTLM_WIPE_OBJECT(&h);
	return st;
}

/* MD5(key[0..key_len) || magic || NUL): the SIGNKEY / SEALKEY derivation of MS-NLMP 3.4.5.2-3. */
static enum ntlm_status derive_with_magic(const uint8_t *key, size_t key_len, const char *magic,
                                          struct ntlm_hash *ret)
{
	const struct ntlm_iov iov[] = {{key, key_len}, {magic, strlen(magic) + 1}};
	return ntlm_crypto_md5(iov, 2, ret->bytes);
}

enum ntlm_status ntlm_signkey(uint32_t flags, const struct ntlm_hash *exported_key, bool client,
                              struct ntlm_hash *ret, bool *ret_present)
{
	enum ntlm_status st = NTLM_OK;
	struct ntlm_hash h = {{0}};
	bool present = false;

	if (exported_key == NULL || ret == NULL || ret_present == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	/* MS-NLMP 3.4.5.2: only extended session security has signing keys. */
	if (flags & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY) {
		st = derive_with_magic(exported_key->bytes, NTLM_HASH_LEN,
		                       client ? client_sign_magic : server_sign_magic, &h);
		present = true;
	}
	if (st == NTLM_OK) {
		*ret = h;
		*ret_present = present;
	}
	NTLM_WIPE_OBJECT(&h);
	return st;
}

/*
 * MS-NLMP 3.4.5.3. Without extended session security and with LM_KEY (or
 * DATAGRAM, as NTLMSSP_REVISION_W2K3 does) the key is 8 bytes: it is
 * returned twice over in the 16-byte result, which RC4 schedules exactly as
 * the 8-byte key (RC4 reads key[i mod len] for i < 256, and 8 divides 16).
 */
enum ntlm_status ntlm_sealkey(uint32_t flags, const struct ntlm_hash *exported_key, bool client,
                              struct ntlm_hash *ret)
{
	enum ntlm_status st = NTLM_OK;
	struct ntlm_hash h = {{0}};

	if (exported_key == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (flags & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY) {
		/* 128, 56 or 40 bits of the key, then MD5 with the direction's constant */
		size_t len = (flags & NTLM_NEGOTIATE_128) ? 16 : (flags & NTLM_NEGOTIATE_56) ? 7 : 5;
		st = derive_with_magic(exported_key->bytes, len,
		                       client ? client_seal_magic : server_seal_magic, &h);
	} else if (flags & (NTLM_NEGOTIATE_LM_KEY | NTLM_NEGOTIATE_DATAGRAM)) {
		if (flags & NTLM_NEGOTIATE_56) {
			/* ExportedSessionKey[0..6] || 0xA0 */
			memcpy(h.bytes, exported_key->bytes, 7);
			h.bytes[7] = 0xa0;
		} else {
			/* ExportedSessionKey[0..4] || 0xE5 0x38 0xB0 */
			memcpy(h.bytes, exported_key->bytes, 5);
			h.bytes[5] = 0xe5;
			h.bytes[6] = 0x38;
			h.bytes[7] = 0xb0;
		}
		memcpy(h.bytes + 8, h.bytes, 8);
	} else {
		h = *exported_key;
	}
	if (st == NTLM_OK)
		*ret = h;
	NTLM_WIPE_OBJECT(&h);
	return st;
}

enum ntlm_status ntlm_rc4k(const struct ntlm_hash *key, const uint8_t in[16], uint8_t ret[16])
{
	uint8_t out[16];
	enum ntlm_status st;

	if (key == NULL || in == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	/* MS-NLMP 3.1.5.1: a one-time RC4 instance keyed with K */
	st = ntlm_crypto_rc4_once(key->bytes, NTLM_HASH_LEN, in, sizeof(out), out);
	if (st == NTLM_OK)
		memcpy(ret, out, sizeof(out));
	NTLM_WIPE_ARRAY(out);
	return st;
}

enum ntlm_status ntlm_compute_mic(const struct ntlm_hash *exported_key, const uint8_t *negotiate,
                                  size_t negotiate_len, const uint8_t *challenge, size_t challenge_len,
                                  const uint8_t *authenticate, size_t authenticate_len, size_t mic_offset,
                                  uint8_t ret[16])
{
	static const uint8_t zero_mic[NTLM_MIC_LEN];

	if (exported_key == NULL || (negotiate == NULL && negotiate_len != 0) || challenge == NULL ||
	    authenticate == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	/* The MIC follows the fixed header; the check subtracts, so it cannot overflow. */
	if (authenticate_len < NTLM_MIC_LEN || mic_offset < NTLM_AUTHENTICATE_HEADER ||
	    mic_offset > authenticate_len - NTLM_MIC_LEN)
		return NTLM_ERR_INVALID_ARGUMENT;
	/* MS-NLMP 3.1.5.1.2: HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE),
	 * with the AUTHENTICATE's MIC field taken as Z(16) */
	const struct ntlm_iov iov[] = {
	    {negotiate, negotiate_len},
	    {challenge, challenge_len},
	    {authenticate, mic_offset},
	    {zero_mic, NTLM_MIC_LEN},
	    {authenticate + mic_offset + NTLM_MIC_LEN, authenticate_len - mic_offset - NTLM_MIC_LEN},
	};
	return ntlm_crypto_hmac_md5(exported_key->bytes, NTLM_HASH_LEN, iov, 5, ret);
}

enum ntlm_status ntlm_hmac_md5(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                               uint8_t ret[16])
{
	if ((key == NULL && key_len != 0) || (msg == NULL && msg_len != 0) || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	return ntlm_crypto_hmac_md5(key, key_len, &(struct ntlm_iov){msg, msg_len}, 1, ret);
}

static bool view_valid(const struct ntlm_view *v)
{
	return (v->data != NULL || v->len == 0) && v->len <= UINT32_MAX;
}

/* MS-NLMP 2.2.2.1 MsvAvChannelBindings: MD5 of the RFC 2744 gss_channel_bindings_struct,
 * each address and the application data preceded by its length (u32le), each address by its type. */
enum ntlm_status ntlm_channel_bindings_hash(const struct ntlm_channel_bindings *cb, uint8_t ret[16])
{
	uint8_t init_hdr[8], acc_hdr[8], app_hdr[4];

	if (cb == NULL || ret == NULL || !view_valid(&cb->initiator_address) ||
	    !view_valid(&cb->acceptor_address) || !view_valid(&cb->application_data))
		return NTLM_ERR_INVALID_ARGUMENT;
	ntlm_store_le(init_hdr, cb->initiator_addrtype, 4);
	ntlm_store_le(init_hdr + 4, (uint32_t)cb->initiator_address.len, 4);
	ntlm_store_le(acc_hdr, cb->acceptor_addrtype, 4);
	ntlm_store_le(acc_hdr + 4, (uint32_t)cb->acceptor_address.len, 4);
	ntlm_store_le(app_hdr, (uint32_t)cb->application_data.len, 4);
	const struct ntlm_iov iov[] = {
	    {init_hdr, sizeof(init_hdr)}, {cb->initiator_address.data, cb->initiator_address.len},
	    {acc_hdr, sizeof(acc_hdr)},   {cb->acceptor_address.data, cb->acceptor_address.len},
	    {app_hdr, sizeof(app_hdr)},   {cb->application_data.data, cb->application_data.len},
	};
	return ntlm_crypto_md5(iov, 6, ret);
}
