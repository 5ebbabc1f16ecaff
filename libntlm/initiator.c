/*
 * initiator.c: the client side of NTLM (MS-NLMP 3.1.5): NEGOTIATE, then
 * AUTHENTICATE for a CHALLENGE, from a password or an NT hash. NTLMv2 with
 * MIC and channel bindings is the default; the older response types exist
 * for tests, interop and for reproducing legacy clients.
 */
#include "crypto.h"

#include <stdlib.h>

/* The version we announce: Windows 10 build 19041, NTLMSSP_REVISION_W2K3 */
static const struct ntlm_version client_version = {10, 0, 19041, NTLM_REVISION_W2K3};

/* MS-NLMP 3.1.5.1.1: what a modern client asks for. */
#define CLIENT_FLAGS                                                                                 \
	(NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_OEM | NTLM_REQUEST_TARGET | NTLM_NEGOTIATE_NTLM |   \
	 NTLM_NEGOTIATE_ALWAYS_SIGN | NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLM_NEGOTIATE_128 | \
	 NTLM_NEGOTIATE_56 | NTLM_NEGOTIATE_KEY_EXCH | NTLM_NEGOTIATE_SIGN | NTLM_NEGOTIATE_SEAL |   \
	 NTLM_NEGOTIATE_VERSION)

/* The NEGOTIATE flags for a configuration. */
static uint32_t negotiate_flags(const struct ntlm_initiator_config *cfg)
{
	uint32_t f = CLIENT_FLAGS | cfg->extra_flags;

	if (cfg->mode == NTLM_CLIENT_NTLMV1 || cfg->mode == NTLM_CLIENT_LM)
		f &= ~NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY;
	if (cfg->oem)
		f &= ~NTLM_NEGOTIATE_UNICODE;
	return f & ~cfg->drop_flags;
}

enum ntlm_status ntlm_initiator_negotiate(const struct ntlm_initiator_config *cfg, uint8_t **ret,
                                          size_t *ret_len)
{
	struct ntlm_negotiate neg = {0};

	if (cfg == NULL || ret == NULL || ret_len == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	neg.flags = negotiate_flags(cfg);
	neg.has_version = (neg.flags & NTLM_NEGOTIATE_VERSION) && !cfg->no_version;
	neg.version = client_version;
	return ntlm_negotiate_encode(&neg, ret, ret_len);
}

/* Everything one AUTHENTICATE is built from; wiped at the end. */
struct build_state {
	const struct ntlm_initiator_config *cfg;
	struct ntlm_challenge chal;
	uint32_t flags;
	struct ntlm_hash nt_hash;
	bool has_lm_hash;
	struct ntlm_hash lm_hash;
	uint8_t client_challenge[NTLM_CHALLENGE_LEN];
	uint8_t *lm, *nt; /* responses, malloc'd */
	size_t lm_len, nt_len;
	struct ntlm_hash session_base_key;
	struct ntlm_hash exported_key;
	uint8_t enc_key[16];
	bool has_enc_key;
	bool ntlmv2;
};

/* The user's NT hash (and LM hash when a password is given). */
static enum ntlm_status load_secrets(struct build_state *b)
{
	const struct ntlm_initiator_config *cfg = b->cfg;
	enum ntlm_status st;

	if (cfg->nt_hash != NULL) {
		b->nt_hash = *cfg->nt_hash;
		return NTLM_OK;
	}
	if (cfg->password == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	st = ntlm_ntowfv1(cfg->password, &b->nt_hash);
	if (st != NTLM_OK)
		return st;
	/* passwords over 14 characters have no LM hash */
	b->has_lm_hash = ntlm_lmowfv1(cfg->password, &b->lm_hash) == NTLM_OK;
	return NTLM_OK;
}

/* Allocates a response buffer of len bytes. */
static enum ntlm_status alloc_response(uint8_t **p, size_t len)
{
	*p = calloc(1, len ? len : 1);
	return *p ? NTLM_OK : NTLM_ERR_NO_MEMORY;
}

/* The client's AV pairs: the server's, then MsvAvFlags, channel bindings
 * and target name (MS-NLMP 3.1.5.1.2), then MsvAvEOL. */
static enum ntlm_status build_client_av_pairs(struct build_state *b, const struct ntlm_av_list *server,
                                              struct ntlm_writer *w)
{
	const struct ntlm_initiator_config *cfg = b->cfg;
	uint32_t av_flags = 0;
	enum ntlm_status st;

	(void)ntlm_av_list_get_u32(server, NTLM_AV_FLAGS, &av_flags);
	if (!cfg->no_mic)
		av_flags |= NTLM_AVFLAG_MIC_PRESENT;
	if (cfg->unverified_spn)
		av_flags |= NTLM_AVFLAG_UNVERIFIED_SPN;
	for (size_t i = 0; i < server->count; i++)
		if (server->pairs[i].id != NTLM_AV_FLAGS)
			ntlm_av_write(w, server->pairs[i].id, server->pairs[i].value.data,
			              server->pairs[i].value.len);
	if (av_flags != 0) {
		uint8_t v[4];

		ntlm_store_le(v, av_flags, sizeof(v));
		ntlm_av_write(w, NTLM_AV_FLAGS, v, sizeof(v));
	}
	if (!cfg->no_channel_bindings) {
		uint8_t cb[16] = {0};
		if (cfg->channel_bindings != NULL) {
			st = ntlm_channel_bindings_hash(cfg->channel_bindings, cb);
			if (st != NTLM_OK)
				return st;
		}
		ntlm_av_write(w, NTLM_AV_CHANNEL_BINDINGS, cb, sizeof(cb));
	}
	st = ntlm_av_write_name(w, NTLM_AV_TARGET_NAME, cfg->target_name);
	if (st != NTLM_OK)
		return st;
	ntlm_av_write_eol(w);
	return NTLM_OK;
}

/* temp of MS-NLMP 3.3.2: the NTLMv2_CLIENT_CHALLENGE followed by Z(4). */
static enum ntlm_status build_v2_blob(struct build_state *b, uint64_t timestamp, uint8_t **ret,
                                      size_t *ret_len)
{
	struct ntlm_av_list server;
	struct ntlm_writer w;
	enum ntlm_status st;

	st = ntlm_av_list_decode_opt(b->chal.target_info.data, b->chal.target_info.len, &server);
	if (st != NTLM_OK)
		return st;
	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	ntlm_write_u8(&w, 1); /* RespType */
	ntlm_write_u8(&w, 1); /* HiRespType */
	ntlm_write_zeros(&w, 6);
	ntlm_write_u64le(&w, timestamp);
	ntlm_write_bytes(&w, b->client_challenge, NTLM_CHALLENGE_LEN);
	ntlm_write_zeros(&w, 4);
	st = build_client_av_pairs(b, &server, &w);
	if (st != NTLM_OK) {
		ntlm_writer_clear(&w);
		return st;
	}
	ntlm_write_zeros(&w, 4);
	return ntlm_writer_finish(&w, ret, ret_len);
}

/* MS-NLMP 3.3.2 NTLMv2 (and LMv2) responses. */
static enum ntlm_status build_ntlmv2(struct build_state *b)
{
	const struct ntlm_initiator_config *cfg = b->cfg;
	struct ntlm_av_list server;
	struct ntlm_hash key;
	uint64_t timestamp;
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	enum ntlm_status st;

	st = ntlm_ntowfv2(&b->nt_hash, cfg->user, cfg->domain ? cfg->domain : "", &key);
	if (st != NTLM_OK)
		return st;
	st = ntlm_av_list_decode_opt(b->chal.target_info.data, b->chal.target_info.len, &server);
	if (st != NTLM_OK)
		goto out;
	/* MS-NLMP 3.1.5.1.2: the server's timestamp when it sent one */
	if (!ntlm_av_list_get_u64(&server, NTLM_AV_TIMESTAMP, &timestamp)) {
		timestamp = cfg->timestamp ? *cfg->timestamp : ntlm_filetime_now();
	} else if (cfg->mode != NTLM_CLIENT_LMV2) {
		/* and then Z(24) instead of an LMv2 response */
		b->lm_len = 24;
		st = alloc_response(&b->lm, b->lm_len);
		if (st != NTLM_OK)
			goto out;
	}
	if (b->lm == NULL) {
		b->lm_len = 24;
		if ((st = alloc_response(&b->lm, b->lm_len)) != NTLM_OK ||
		    (st = ntlm_lmv2_response(&key, b->chal.server_challenge, b->client_challenge, b->lm)) !=
		        NTLM_OK)
			goto out;
	}
	if (cfg->mode == NTLM_CLIENT_LMV2) {
		/* LMv2 only: the session base key comes from the LMv2 proof */
		st = ntlm_v2_session_base_key(&key, b->lm, &b->session_base_key);
		goto out;
	}
	st = build_v2_blob(b, timestamp, &blob, &blob_len);
	if (st != NTLM_OK)
		goto out;
	b->nt_len = 16 + blob_len;
	if ((st = alloc_response(&b->nt, b->nt_len)) != NTLM_OK)
		goto out;
	memcpy(b->nt + 16, blob, blob_len);
	if ((st = ntlm_ntproofstr(&key, b->chal.server_challenge, blob, blob_len, b->nt)) != NTLM_OK)
		goto out;
	st = ntlm_v2_session_base_key(&key, b->nt, &b->session_base_key);
	b->ntlmv2 = true;
out:
	free(blob);
	NTLM_WIPE_OBJECT(&key);
	return st;
}

/* MS-NLMP 3.3.1 LM, NTLMv1 and NTLMv1 with extended session security. */
static enum ntlm_status build_ntlmv1(struct build_state *b)
{
	enum ntlm_client_mode mode = b->cfg->mode;
	enum ntlm_status st;

	b->lm_len = 24;
	if ((st = alloc_response(&b->lm, b->lm_len)) != NTLM_OK)
		return st;
	if (mode == NTLM_CLIENT_NTLMV1_ESS) {
		memcpy(b->lm, b->client_challenge, NTLM_CHALLENGE_LEN); /* then Z(16) */
		b->nt_len = 24;
		if ((st = alloc_response(&b->nt, b->nt_len)) != NTLM_OK)
			return st;
		st = ntlm_ess_response(&b->nt_hash, b->chal.server_challenge, b->client_challenge, b->nt);
		if (st == NTLM_OK)
			st = ntlm_v1_session_base_key(&b->nt_hash, &b->session_base_key);
		return st;
	}
	if (mode == NTLM_CLIENT_LM) {
		if (!b->has_lm_hash)
			return NTLM_ERR_INVALID_ARGUMENT;
		st = ntlm_desl(&b->lm_hash, b->chal.server_challenge, b->lm);
		memset(&b->session_base_key, 0, sizeof(b->session_base_key));
		memcpy(b->session_base_key.bytes, b->lm_hash.bytes, 8);
		return st;
	}
	b->nt_len = 24;
	if ((st = alloc_response(&b->nt, b->nt_len)) != NTLM_OK)
		return st;
	if ((st = ntlm_desl(&b->nt_hash, b->chal.server_challenge, b->nt)) != NTLM_OK)
		return st;
	/* MS-NLMP 3.3.1: without an LM hash the NT response is sent twice */
	if (b->has_lm_hash)
		st = ntlm_desl(&b->lm_hash, b->chal.server_challenge, b->lm);
	else
		memcpy(b->lm, b->nt, 24);
	if (st == NTLM_OK)
		st = ntlm_v1_session_base_key(&b->nt_hash, &b->session_base_key);
	return st;
}

/* KXKEY, then the ExportedSessionKey and its encrypted form (3.1.5.1.2). */
static enum ntlm_status derive_keys(struct build_state *b)
{
	const struct ntlm_initiator_config *cfg = b->cfg;
	struct ntlm_hash kxkey;
	enum ntlm_status st;

	st = ntlm_kxkey(b->flags, &b->session_base_key, b->lm, b->has_lm_hash ? &b->lm_hash : NULL,
	                b->chal.server_challenge, b->ntlmv2 || cfg->mode == NTLM_CLIENT_LMV2, &kxkey);
	if (st != NTLM_OK)
		return st;
	if (b->flags & NTLM_NEGOTIATE_KEY_EXCH) {
		if (cfg->random_session_key)
			memcpy(b->exported_key.bytes, cfg->random_session_key, 16);
		else
			st = ntlm_random(b->exported_key.bytes, 16);
		if (st == NTLM_OK)
			st = ntlm_rc4k(&kxkey, b->exported_key.bytes, b->enc_key);
		b->has_enc_key = true;
	} else {
		b->exported_key = kxkey;
	}
	NTLM_WIPE_OBJECT(&kxkey);
	return st;
}

/* The AUTHENTICATE flags: the CHALLENGE's, as far as this client does them. */
static uint32_t authenticate_flags(const struct build_state *b)
{
	const struct ntlm_initiator_config *cfg = b->cfg;
	uint32_t f =
	    b->chal.flags & (negotiate_flags(cfg) | NTLM_TARGET_TYPE_DOMAIN | NTLM_TARGET_TYPE_SERVER |
	                     NTLM_NEGOTIATE_TARGET_INFO | NTLM_NEGOTIATE_LM_KEY);

	if (cfg->mode == NTLM_CLIENT_NTLMV1_ESS)
		f |= NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY;
	if (cfg->mode == NTLM_CLIENT_NTLMV1 || cfg->mode == NTLM_CLIENT_LM)
		f &= ~NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY;
	if (cfg->nt_hash != NULL && cfg->password == NULL)
		f &= ~NTLM_NEGOTIATE_LM_KEY; /* needs the LM hash we do not have */
	return f & ~cfg->drop_flags;
}

/* Encodes the AUTHENTICATE and, for NTLMv2 with MIC, patches the MIC in. */
static enum ntlm_status encode_authenticate(struct build_state *b, const uint8_t *negotiate,
                                            size_t negotiate_len, const uint8_t *challenge,
                                            size_t challenge_len, uint8_t **ret, size_t *ret_len)
{
	const struct ntlm_initiator_config *cfg = b->cfg;
	bool with_mic = b->ntlmv2 && !cfg->no_mic;
	struct ntlm_authenticate a = {
	    .flags = b->flags,
	    .lm_response = {b->lm, b->lm_len},
	    .nt_response = {b->nt, b->nt_len},
	    .encrypted_session_key = {b->has_enc_key ? b->enc_key : NULL, b->has_enc_key ? 16 : 0},
	    /* casting away const: the encoder only reads the names */
	    .domain = (char *)(cfg->domain ? cfg->domain : ""),
	    .user = (char *)cfg->user,
	    .workstation = (char *)(cfg->workstation ? cfg->workstation : ""),
	    .version = client_version,
	};
	uint8_t *msg = NULL;
	size_t len = 0;
	enum ntlm_status st;

	/* MS-NLMP 2.2.1.3: the MIC sits after the VERSION field, which is then
	 * sent (zeroed when the VERSION flag is off) */
	a.has_version = ((b->flags & NTLM_NEGOTIATE_VERSION) && !cfg->no_version) || with_mic;
	if (a.has_version && !(b->flags & NTLM_NEGOTIATE_VERSION))
		a.version = (struct ntlm_version){0};
	a.mic_offset = with_mic ? NTLM_AUTHENTICATE_HEADER + NTLM_VERSION_LEN : 0;
	st = ntlm_authenticate_encode(&a, &msg, &len);
	if (st != NTLM_OK)
		return st;
	if (with_mic) {
		st = ntlm_compute_mic(&b->exported_key, negotiate, negotiate ? negotiate_len : 0, challenge,
		                      challenge_len, msg, len, a.mic_offset, msg + a.mic_offset);
		if (st != NTLM_OK) {
			ntlm_free_wiped(msg, len);
			return st;
		}
	}
	*ret = msg;
	*ret_len = len;
	return NTLM_OK;
}

/* Frees what a build_state owns and wipes it. */
static void build_state_clear(struct build_state *b)
{
	ntlm_challenge_clear(&b->chal);
	ntlm_free_wiped(b->lm, b->lm_len);
	ntlm_free_wiped(b->nt, b->nt_len);
	ntlm_wipe(b, sizeof(*b));
}

enum ntlm_status ntlm_initiator_authenticate(const struct ntlm_initiator_config *cfg,
                                             const uint8_t *negotiate, size_t negotiate_len,
                                             const uint8_t *challenge, size_t challenge_len, uint8_t **ret,
                                             size_t *ret_len, struct ntlm_hash *ret_session_key)
{
	struct build_state b = {.cfg = cfg};
	enum ntlm_status st;

	if (cfg == NULL || cfg->user == NULL || challenge == NULL || ret == NULL || ret_len == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if ((st = ntlm_challenge_decode(challenge, challenge_len, &b.chal)) != NTLM_OK)
		goto out;
	if ((st = load_secrets(&b)) != NTLM_OK)
		goto out;
	if (cfg->client_challenge != NULL)
		memcpy(b.client_challenge, cfg->client_challenge, NTLM_CHALLENGE_LEN);
	else if ((st = ntlm_random(b.client_challenge, NTLM_CHALLENGE_LEN)) != NTLM_OK)
		goto out;
	b.flags = authenticate_flags(&b);
	if (cfg->mode == NTLM_CLIENT_NTLMV2 || cfg->mode == NTLM_CLIENT_LMV2)
		st = build_ntlmv2(&b);
	else
		st = build_ntlmv1(&b);
	if (st != NTLM_OK)
		goto out;
	if ((st = derive_keys(&b)) != NTLM_OK)
		goto out;
	st = encode_authenticate(&b, negotiate, negotiate_len, challenge, challenge_len, ret, ret_len);
	if (st == NTLM_OK && ret_session_key != NULL)
		*ret_session_key = b.exported_key;
out:
	build_state_clear(&b);
	return st;
}
