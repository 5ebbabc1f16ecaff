/*
 * acceptor.c: the server side of NTLM (MS-NLMP 3.2.5): building the
 * CHALLENGE and verifying the AUTHENTICATE against it.
 *
 * Order of the checks in ntlm_acceptor_verify(), and why:
 *  1. decode all messages (malformed input has its own statuses);
 *  2. classify the response and apply the policy (no account lookup for a
 *     response type the service refuses: no oracle, no lockout noise);
 *  3. NTLMv2: the echo of the server's AV pairs and the timestamp skew,
 *     which compare only values the client sent in clear, so they may come
 *     before the proof and tell a stale or foreign challenge apart from a
 *     wrong password;
 *  4. the account lookup and the proof (NTProofStr / DESL), in constant time;
 *  5. only once the proof holds is the NTLMv2 blob authentic: then the MIC,
 *     channel bindings and target name it announces are checked;
 *  6. the account status (disabled, locked, ...) comes last, so it is only
 *     revealed to someone who knows the password.
 */
#include "crypto.h"

#include <stdlib.h>

/* Version we announce: Windows 10 build 19041, NTLMSSP_REVISION_W2K3 */
static const struct ntlm_version server_version = {10, 0, 19041, NTLM_REVISION_W2K3};

void ntlm_policy_init(struct ntlm_policy *p)
{
	if (p == NULL)
		return;
	*p = (struct ntlm_policy){
	    .allow_ntlmv2 = true,
	    .check_av_echo = true,
	    .retry_nil_domain = true,
	    .channel_bindings = NTLM_CB_WHEN_SUPPORTED,
	    .max_clock_skew = NTLM_DEFAULT_MAX_CLOCK_SKEW,
	    .oem_charset = NTLM_OEM_CP850,
	};
}

void ntlm_accept_result_clear(struct ntlm_accept_result *r)
{
	if (r == NULL)
		return;
	char *strings[] = {r->user, r->domain, r->workstation, r->client_target_name};
	ntlm_clear_struct(r, sizeof(*r), strings, NTLM_ARRAY_LEN(strings));
}

/* ------------------------------------------------------------------ */
/* CHALLENGE (MS-NLMP 3.2.5.1.1)                                       */
/* ------------------------------------------------------------------ */

/* Flags we support and echo when the client asks for them. */
#define ECHOED_FLAGS                                                                          \
	(NTLM_NEGOTIATE_SIGN | NTLM_NEGOTIATE_SEAL | NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_56 | \
	 NTLM_NEGOTIATE_KEY_EXCH | NTLM_NEGOTIATE_VERSION | NTLM_NEGOTIATE_IDENTIFY)
/* What a client that sent no NEGOTIATE is assumed to want. */
#define DEFAULT_CLIENT_FLAGS (NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY | ECHOED_FLAGS)

/* The CHALLENGE flags answering the client's (MS-NLMP 3.2.5.1.1). */
static uint32_t challenge_flags(uint32_t client, bool domain_joined)
{
	uint32_t f = NTLM_REQUEST_TARGET | NTLM_NEGOTIATE_NTLM | NTLM_NEGOTIATE_ALWAYS_SIGN |
	             NTLM_NEGOTIATE_TARGET_INFO;

	if (client & NTLM_NEGOTIATE_UNICODE)
		f |= NTLM_NEGOTIATE_UNICODE;
	else if (client & NTLM_NEGOTIATE_OEM)
		f |= NTLM_NEGOTIATE_OEM;
	else
		f |= NTLM_NEGOTIATE_UNICODE;
	if (client & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY)
		f |= NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY;
	else if (client & NTLM_NEGOTIATE_LM_KEY)
		f |= NTLM_NEGOTIATE_LM_KEY;
	f |= domain_joined ? NTLM_TARGET_TYPE_DOMAIN : NTLM_TARGET_TYPE_SERVER;
	return f | (client & ECHOED_FLAGS);
}

/* TargetInfo: names, then MsvAvTimestamp, then MsvAvEOL. */
static enum ntlm_status build_target_info(const struct ntlm_server_names *names, uint64_t now, uint8_t **ret,
                                          size_t *ret_len)
{
	struct ntlm_writer w;
	uint8_t ts[8];
	enum ntlm_status st;
	/* MS-NLMP 3.1.5.1.2: NTLMv2 clients refuse a CHALLENGE without both
	 * NetBIOS names, so a missing domain name falls back to the computer's. */
	const char *nb_domain = names->nb_domain ? names->nb_domain : names->nb_computer;

	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	if ((st = ntlm_av_write_name(&w, NTLM_AV_NB_COMPUTER_NAME, names->nb_computer)) != NTLM_OK ||
	    (st = ntlm_av_write_name(&w, NTLM_AV_NB_DOMAIN_NAME, nb_domain)) != NTLM_OK ||
	    (st = ntlm_av_write_name(&w, NTLM_AV_DNS_COMPUTER_NAME, names->dns_computer)) != NTLM_OK ||
	    (st = ntlm_av_write_name(&w, NTLM_AV_DNS_DOMAIN_NAME, names->dns_domain)) != NTLM_OK ||
	    (st = ntlm_av_write_name(&w, NTLM_AV_DNS_TREE_NAME, names->dns_tree)) != NTLM_OK) {
		ntlm_writer_clear(&w);
		return st;
	}
	ntlm_store_le(ts, now, sizeof(ts));
	ntlm_av_write(&w, NTLM_AV_TIMESTAMP, ts, sizeof(ts));
	ntlm_av_write_eol(&w);
	return ntlm_writer_finish(&w, ret, ret_len);
}

enum ntlm_status ntlm_acceptor_challenge(const struct ntlm_server_names *names, const uint8_t *negotiate,
                                         size_t negotiate_len, uint64_t now, uint8_t **ret, size_t *ret_len)
{
	struct ntlm_negotiate neg = {0};
	struct ntlm_challenge chal = {0};
	uint8_t *info = NULL;
	size_t info_len = 0;
	uint32_t client_flags = DEFAULT_CLIENT_FLAGS;
	enum ntlm_status st;

	if (names == NULL || names->nb_computer == NULL || ret == NULL || ret_len == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (negotiate != NULL) {
		st = ntlm_negotiate_decode(negotiate, negotiate_len, &neg);
		if (st != NTLM_OK)
			return st;
		client_flags = neg.flags;
		ntlm_negotiate_clear(&neg);
	}
	chal.flags = challenge_flags(client_flags, names->domain_joined);
	st = ntlm_random(chal.server_challenge, sizeof(chal.server_challenge));
	if (st != NTLM_OK)
		goto out;
	st = build_target_info(names, now, &info, &info_len);
	if (st != NTLM_OK)
		goto out;
	chal.target_info = (struct ntlm_view){info, info_len};
	/* casting away const: target_name is only read by the encoder */
	chal.target_name =
	    (char *)(names->domain_joined && names->nb_domain ? names->nb_domain : names->nb_computer);
	chal.has_version = (chal.flags & NTLM_NEGOTIATE_VERSION) != 0;
	chal.version = server_version;
	st = ntlm_challenge_encode(&chal, ret, ret_len);
out:
	free(info);
	return st;
}

/* ------------------------------------------------------------------ */
/* AUTHENTICATE (MS-NLMP 3.2.5.1.2)                                    */
/* ------------------------------------------------------------------ */

/* Everything one verification works on; wiped at the end. */
struct verify_state {
	const struct ntlm_policy *policy;
	uint64_t now;
	struct ntlm_accept_result *result;

	const uint8_t *negotiate, *challenge, *authenticate;
	size_t negotiate_len, challenge_len, authenticate_len;
	const struct ntlm_channel_bindings *cb;

	uint8_t server_challenge[NTLM_CHALLENGE_LEN];
	struct ntlm_view server_info; /* CHALLENGE TargetInfo */
	/* the negotiated flags, CHALLENGE & AUTHENTICATE: they classify the
	 * response and choose the keys (MS-NLMP 3.2.5.1.2 uses the server's
	 * NegFlg), whatever the AUTHENTICATE alone claims */
	uint32_t flags;
	struct ntlm_view lm, nt, enc_key;
	const char *user, *domain;
	size_t mic_offset;
	uint8_t mic[NTLM_MIC_LEN];

	/* NTLMv2 only */
	struct ntlm_av_list server_avs; /* the CHALLENGE's TargetInfo, decoded */
	/* no CHALLENGE message (MS-CHAP callers), or its TargetInfo could not
	 * be decoded with the echo check off: the skew is checked as ever */
	bool server_avs_unknown;
	struct ntlm_v2_blob blob;
	struct ntlm_av_list client_avs;
	uint32_t client_av_flags;

	/* the status so far; NTLM_OK with needs_account while the proof waits
	 * for the account's hashes */
	enum ntlm_status status;
	bool needs_account;
	struct ntlm_credentials creds;
	struct ntlm_hash session_base_key;
	struct ntlm_hash exported_key;
};

/* One verification in steps: the state and the messages it decoded. */
struct ntlm_verify {
	struct verify_state s;
	struct ntlm_challenge chal;
	struct ntlm_authenticate auth;
	struct ntlm_policy policy; /* the bare-response callers' copy */
};

/* A response type the policy refuses. */
static bool response_type_allowed(const struct ntlm_policy *p, enum ntlm_response_type t)
{
	switch (t) {
	case NTLM_RESPONSE_NTLMV2:
		return p->allow_ntlmv2;
	case NTLM_RESPONSE_NTLMV1:
		return p->allow_ntlmv1;
	case NTLM_RESPONSE_NTLMV1_ESS:
		return p->allow_ntlmv1_ess;
	case NTLM_RESPONSE_LM:
	case NTLM_RESPONSE_LMV2:
		return p->allow_lm || p->allow_lmv2;
	case NTLM_RESPONSE_ANONYMOUS:
		return p->allow_anonymous;
	case NTLM_RESPONSE_NONE:
		break;
	}
	return false;
}

/* True for an LmChallengeResponse of Z(1) (MS-NLMP 3.2.5.1.2 anonymous). */
static bool is_z1(struct ntlm_view v)
{
	return v.len == 1 && v.data[0] == 0;
}

/* Which response the AUTHENTICATE carries, from the field lengths
 * (MS-NLMP 3.2.5.1.2). LM-only responses are told apart later. */
static enum ntlm_response_type classify_response(const struct verify_state *s)
{
	if (s->user[0] == '\0' && s->nt.len == 0 && (s->lm.len == 0 || is_z1(s->lm)))
		return NTLM_RESPONSE_ANONYMOUS;
	if (s->nt.len > NTLM_V1_RESPONSE_LEN)
		return NTLM_RESPONSE_NTLMV2;
	if (s->nt.len == NTLM_V1_RESPONSE_LEN)
		return (s->flags & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY) &&
		               s->lm.len == NTLM_V1_RESPONSE_LEN
		           ? NTLM_RESPONSE_NTLMV1_ESS
		           : NTLM_RESPONSE_NTLMV1;
	if (s->nt.len == 0 && s->lm.len == NTLM_V1_RESPONSE_LEN)
		return NTLM_RESPONSE_LM; /* or LMv2: decided by verify_lm_only() */
	return NTLM_RESPONSE_NONE;
}

/* Copies the client's names into the result; s->user and s->domain point
 * at the copies. */
static enum ntlm_status set_names(struct verify_state *s, const char *user, const char *domain,
                                  const char *workstation)
{
	struct ntlm_accept_result *r = s->result;

	r->user = strdup(user);
	r->domain = strdup(domain);
	r->workstation = strdup(workstation);
	if (!r->user || !r->domain || !r->workstation)
		return NTLM_ERR_NO_MEMORY;
	s->user = r->user;
	s->domain = r->domain;
	return NTLM_OK;
}

/* Decodes the three messages into s and the names into the result. */
static enum ntlm_status decode_messages(struct verify_state *s, struct ntlm_challenge *chal,
                                        struct ntlm_authenticate *auth)
{
	struct ntlm_negotiate neg = {0};
	struct ntlm_decode_options opt = {.oem_charset = s->policy->oem_charset};
	struct ntlm_accept_result *r = s->result;
	enum ntlm_status st;

	/* the NEGOTIATE's names only inform: its decoder refuses no name */
	if (s->negotiate != NULL) {
		st = ntlm_negotiate_decode_ex(s->negotiate, s->negotiate_len, &opt, &neg);
		ntlm_negotiate_clear(&neg);
		if (st != NTLM_OK)
			return st;
	}
	st = ntlm_challenge_decode_ex(s->challenge, s->challenge_len, &opt, chal);
	if (st != NTLM_OK)
		return st;
	/* the names in the encoding the CHALLENGE chose (MS-NLMP 3.2.5.1.2) */
	opt.has_challenge_flags = true;
	opt.challenge_flags = chal->flags;
	st = ntlm_authenticate_decode_ex(s->authenticate, s->authenticate_len, &opt, auth);
	if (st != NTLM_OK)
		return st;

	memcpy(s->server_challenge, chal->server_challenge, NTLM_CHALLENGE_LEN);
	s->server_info = chal->target_info;
	s->flags = auth->flags & chal->flags;
	s->lm = auth->lm_response;
	s->nt = auth->nt_response;
	s->enc_key = auth->encrypted_session_key;
	s->mic_offset = auth->mic_offset;
	memcpy(s->mic, auth->mic, NTLM_MIC_LEN);
	r->flags = s->flags;
	r->user_text = auth->user_text;
	r->domain_text = auth->domain_text;
	r->workstation_text = auth->workstation_text;
	r->name_fallback = auth->user_text == NTLM_TEXT_CODEPAGE || auth->domain_text == NTLM_TEXT_CODEPAGE ||
	                   auth->workstation_text == NTLM_TEXT_CODEPAGE;

	return set_names(s, auth->user, auth->domain, auth->workstation);
}

/* Decodes the NTLMv2_CLIENT_CHALLENGE and its AV pairs (MS-NLMP 2.2.2.7). */
static enum ntlm_status decode_v2_blob(struct verify_state *s)
{
	enum ntlm_status st;

	st = ntlm_v2_blob_decode(s->nt.data + 16, s->nt.len - 16, &s->blob);
	if (st != NTLM_OK)
		return st;
	/* empty when the CHALLENGE had no TargetInfo (curl, Chromium, OpenJDK,
	 * go-ntlmssp, gss-ntlmssp, python3-ntlm-auth): the proof still holds */
	st = ntlm_av_list_decode_opt(s->blob.av_pairs.data, s->blob.av_pairs.len, &s->client_avs);
	if (st != NTLM_OK)
		return st;
	if (!ntlm_av_list_get_u32(&s->client_avs, NTLM_AV_FLAGS, &s->client_av_flags))
		s->client_av_flags = 0;
	s->result->has_client_timestamp = true;
	s->result->client_timestamp = s->blob.timestamp;
	s->result->clock_skew = ntlm_filetime_to_unix(s->blob.timestamp) - ntlm_filetime_to_unix(s->now);
	return NTLM_OK;
}

/* True when both views hold the same bytes. Not secret: AV pairs travel in
 * clear in both directions. */
static bool view_equal(struct ntlm_view a, struct ntlm_view b)
{
	return a.len == b.len &&
	       (a.len == 0 || memcmp(a.data, b.data, a.len) == 0); /* not secret: public AV pairs */
}

/*
 * Every AV pair of our CHALLENGE must come back unchanged in the client's
 * blob (Samba's CVE-2016-2110 / CVE-2019-1166 defence). MsvAvFlags is
 * exempt: clients set the MIC bit in it. A difference in MsvAvTimestamp
 * alone means the response answers another of our challenges.
 */
static enum ntlm_status check_av_echo(const struct verify_state *s)
{
	const struct ntlm_av_list *server = &s->server_avs;
	bool timestamp_differs = false, other_differs = false;

	for (size_t i = 0; i < server->count; i++) {
		const struct ntlm_av_pair *mine = &server->pairs[i];
		const struct ntlm_av_pair *echo;

		if (mine->id == NTLM_AV_FLAGS)
			continue;
		echo = ntlm_av_list_find(&s->client_avs, mine->id);
		if (echo != NULL && view_equal(echo->value, mine->value))
			continue;
		if (mine->id == NTLM_AV_TIMESTAMP && echo != NULL)
			timestamp_differs = true;
		else
			other_differs = true;
	}
	if (other_differs)
		return NTLM_STATUS_AV_PAIRS_ALTERED;
	if (timestamp_differs)
		return NTLM_STATUS_CHALLENGE_MISMATCH;
	return NTLM_OK;
}

/*
 * The client timestamp within max_clock_skew, when it echoes one of ours.
 * MS-NLMP 3.1.5.1.2 has the client copy the CHALLENGE's MsvAvTimestamp and
 * sets no server-side check otherwise: without one in the CHALLENGE the
 * client had no server time to echo (python3-ntlm-auth 1.4 then sends the
 * year 5347), so the skew is not checked and replay protection rests on
 * the caller's challenge table (one use per CHALLENGE, its lifetime).
 */
static enum ntlm_status check_clock_skew(struct verify_state *s)
{
	int64_t skew = s->result->clock_skew;
	uint64_t abs_skew = skew < 0 ? (uint64_t)(-(skew + 1)) + 1 : (uint64_t)skew;

	if (!s->server_avs_unknown && ntlm_av_list_find(&s->server_avs, NTLM_AV_TIMESTAMP) == NULL)
		return NTLM_OK;
	s->result->skew_checked = s->policy->max_clock_skew != 0;
	if (s->policy->max_clock_skew != 0 && abs_skew > s->policy->max_clock_skew)
		return NTLM_STATUS_TIME_SKEW;
	return NTLM_OK;
}

/* What the account store answered for the user: its status (NTLM_OK,
 * NTLM_STATUS_NO_SUCH_USER, NTLM_ERR_BACKEND_UNAVAILABLE, ...) and, with
 * NTLM_OK, the hashes, copied into the state (the caller wipes its own). */
static enum ntlm_status take_credentials(struct verify_state *s, enum ntlm_status lookup_status,
                                         const struct ntlm_credentials *creds)
{
	memset(&s->creds, 0, sizeof(s->creds));
	if (lookup_status != NTLM_OK)
		return lookup_status;
	if (creds == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if ((unsigned)creds->account_status >= (unsigned)_NTLM_STATUS_MAX)
		return NTLM_ERR_INTERNAL;
	s->creds = *creds;
	return NTLM_OK;
}

/* NTProofStr check for one domain spelling; sets the session base key. */
static enum ntlm_status try_ntlmv2_domain(struct verify_state *s, const char *domain, bool *ret_match)
{
	struct ntlm_hash key;
	uint8_t proof[16];
	enum ntlm_status st;

	st = ntlm_ntowfv2(&s->creds.nt_hash, s->user, domain, &key);
	if (st != NTLM_OK)
		goto out;
	st = ntlm_ntproofstr(&key, s->server_challenge, s->nt.data + 16, s->nt.len - 16, proof);
	if (st != NTLM_OK)
		goto out;
	*ret_match = ntlm_equal_ct(proof, s->nt.data, 16);
	if (*ret_match)
		st = ntlm_v2_session_base_key(&key, proof, &s->session_base_key);
out:
	NTLM_WIPE_OBJECT(&key);
	NTLM_WIPE_ARRAY(proof);
	return st;
}

/* The NTLMv2 proof, with the NIL-domain retry of MS-NLMP 3.2.5.1.2. */
static enum ntlm_status verify_ntlmv2_proof(struct verify_state *s)
{
	bool match = false;
	enum ntlm_status st;

	st = try_ntlmv2_domain(s, s->domain, &match);
	if (st == NTLM_OK && !match && s->policy->retry_nil_domain && s->domain[0] != '\0') {
		st = try_ntlmv2_domain(s, "", &match);
		s->result->used_nil_domain = match;
	}
	if (st != NTLM_OK)
		return st;
	return match ? NTLM_OK : NTLM_STATUS_WRONG_PASSWORD;
}

/* The client's MsvAvChannelBindings when it holds non-zero bindings: Z(16)
 * is what MS-NLMP 3.1.5.1.2 clients send when they have none. */
static const struct ntlm_av_pair *sent_bindings(const struct verify_state *s)
{
	static const uint8_t zeros[16];
	const struct ntlm_av_pair *p = ntlm_av_list_find(&s->client_avs, NTLM_AV_CHANNEL_BINDINGS);

	if (p == NULL || p->value.len != 16 || view_equal(p->value, (struct ntlm_view){zeros, 16}))
		return NULL;
	return p;
}

/* MsvAvChannelBindings against the application's bindings (MS-NLMP
 * 3.2.5.1.2; modes as IIS extended protection None / Allow / Require). */
static enum ntlm_status check_channel_bindings(struct verify_state *s)
{
	const struct ntlm_av_pair *p = sent_bindings(s);
	bool sent = p != NULL;
	uint8_t expected[16];
	enum ntlm_status st;

	if (s->policy->channel_bindings == NTLM_CB_OFF ||
	    (s->cb == NULL && s->policy->channel_bindings != NTLM_CB_REQUIRED)) {
		s->result->channel_bindings = sent ? NTLM_VERDICT_UNCHECKED : NTLM_VERDICT_ABSENT;
		return NTLM_OK;
	}
	if (s->cb == NULL)
		return NTLM_ERR_INVALID_ARGUMENT; /* required, but the application gave none */
	if (!sent) {
		s->result->channel_bindings = NTLM_VERDICT_ABSENT;
		return s->policy->channel_bindings == NTLM_CB_REQUIRED ? NTLM_STATUS_BINDINGS_MISSING
		                                                       : NTLM_OK;
	}
	st = ntlm_channel_bindings_hash(s->cb, expected);
	if (st != NTLM_OK)
		return st;
	if (!ntlm_equal_ct(expected, p->value.data, 16)) {
		s->result->channel_bindings = NTLM_VERDICT_INVALID;
		return NTLM_STATUS_BAD_BINDINGS;
	}
	s->result->channel_bindings = NTLM_VERDICT_VALID;
	return NTLM_OK;
}

/* True when name is in the NULL-terminated list (ASCII case-insensitive). */
static bool target_name_accepted(const char *const *list, const char *name)
{
	for (; *list != NULL; list++)
		if (ntlm_ascii_casecmp_eq(*list, name))
			return true;
	return false;
}

/* MsvAvTargetName against the accepted SPNs. */
static enum ntlm_status check_target_name(struct verify_state *s)
{
	const struct ntlm_av_pair *p = ntlm_av_list_find(&s->client_avs, NTLM_AV_TARGET_NAME);
	enum ntlm_status st;

	s->result->unverified_spn = (s->client_av_flags & NTLM_AVFLAG_UNVERIFIED_SPN) != 0;
	if (p != NULL && p->value.len > 0) {
		st = ntlm_utf16le_to_utf8(p->value.data, p->value.len, &s->result->client_target_name);
		if (st != NTLM_OK)
			return st;
	}
	if (s->policy->target_names == NULL) {
		s->result->target_name =
		    s->result->client_target_name ? NTLM_VERDICT_UNCHECKED : NTLM_VERDICT_ABSENT;
		return NTLM_OK;
	}
	if (s->result->client_target_name == NULL) {
		s->result->target_name = NTLM_VERDICT_ABSENT;
		return NTLM_STATUS_TARGET_NAME_MISMATCH;
	}
	/* MS-NLMP 3.2.5.1.2: an SPN the client marks unverified is not trusted */
	if (s->result->unverified_spn && !s->policy->allow_unverified_spn) {
		s->result->target_name = NTLM_VERDICT_INVALID;
		return NTLM_STATUS_TARGET_NAME_MISMATCH;
	}
	if (!target_name_accepted(s->policy->target_names, s->result->client_target_name)) {
		s->result->target_name = NTLM_VERDICT_INVALID;
		return NTLM_STATUS_TARGET_NAME_MISMATCH;
	}
	s->result->target_name = NTLM_VERDICT_VALID;
	return NTLM_OK;
}

/* ExportedSessionKey from the KeyExchangeKey (MS-NLMP 3.2.5.1.2): unwrapped
 * from EncryptedRandomSessionKey when the client did key exchange. */
static enum ntlm_status derive_exported_key(struct verify_state *s, const struct ntlm_hash *kxkey)
{
	if ((s->flags & NTLM_NEGOTIATE_KEY_EXCH) && s->enc_key.len == 16)
		return ntlm_rc4k(kxkey, s->enc_key.data, s->exported_key.bytes);
	s->exported_key = *kxkey;
	return NTLM_OK;
}

/* The MIC, when the client's MsvAvFlags announce one, or when policy
 * requires it (MS-NLMP 3.2.5.1.2; CVE-2019-1040). */
static enum ntlm_status check_mic(struct verify_state *s, bool announced)
{
	uint8_t mic[16];
	enum ntlm_status st;

	if (!announced) {
		s->result->mic = NTLM_VERDICT_ABSENT;
		return s->policy->require_mic ? NTLM_STATUS_MIC_MISSING : NTLM_OK;
	}
	if (s->mic_offset == 0) {
		s->result->mic = NTLM_VERDICT_ABSENT;
		return NTLM_STATUS_MIC_MISSING;
	}
	st = ntlm_compute_mic(&s->exported_key, s->negotiate, s->negotiate ? s->negotiate_len : 0,
	                      s->challenge, s->challenge_len, s->authenticate, s->authenticate_len,
	                      s->mic_offset, mic);
	if (st != NTLM_OK)
		return st;
	if (!ntlm_equal_ct(mic, s->mic, sizeof(mic))) {
		s->result->mic = NTLM_VERDICT_INVALID;
		NTLM_WIPE_ARRAY(mic);
		return NTLM_STATUS_MIC_INVALID;
	}
	NTLM_WIPE_ARRAY(mic);
	s->result->mic = NTLM_VERDICT_VALID;
	return NTLM_OK;
}

/* Before the proof, what the blob announces is reported as "unchecked":
 * should verification stop early, the result (and the audit log) still
 * says that the client sent a MIC or channel bindings. The checks after
 * the proof overwrite these verdicts. */
static void note_announced_protections(struct verify_state *s)
{
	const struct ntlm_av_pair *spn = ntlm_av_list_find(&s->client_avs, NTLM_AV_TARGET_NAME);

	if (s->client_av_flags & NTLM_AVFLAG_MIC_PRESENT)
		s->result->mic = NTLM_VERDICT_UNCHECKED;
	if (sent_bindings(s) != NULL)
		s->result->channel_bindings = NTLM_VERDICT_UNCHECKED;
	if (spn != NULL && spn->value.len > 0)
		s->result->target_name = NTLM_VERDICT_UNCHECKED;
}

/* MS-NLMP 3.3.2 NTLMv2: the checks of 3.2.5.1.2 that come before the
 * account is needed (values the client sent in clear). */
static enum ntlm_status prepare_ntlmv2(struct verify_state *s)
{
	enum ntlm_status st;

	if (s->nt.len < 16 + NTLM_NTLMV2_BLOB_HEADER)
		return NTLM_ERR_BAD_RESPONSE;
	/* a CHALLENGE without TargetInfo has the empty list (MS-NLMP 2.2.1.2) */
	if (!s->server_avs_unknown &&
	    ntlm_av_list_decode_opt(s->server_info.data, s->server_info.len, &s->server_avs) != NTLM_OK) {
		if (s->policy->check_av_echo)
			return NTLM_ERR_BAD_AV_PAIR;
		s->server_avs_unknown = true;
	}
	if ((st = decode_v2_blob(s)) != NTLM_OK)
		return st;
	note_announced_protections(s);
	if (s->policy->check_av_echo && (st = check_av_echo(s)) != NTLM_OK)
		return st;
	return check_clock_skew(s);
}

/* NTLMv2 with the account's hashes: the proof, then what the authentic
 * blob announces. */
static enum ntlm_status prove_ntlmv2(struct verify_state *s)
{
	enum ntlm_status st;

	if ((st = verify_ntlmv2_proof(s)) != NTLM_OK)
		return st;
	/* the blob is authentic from here on */
	if ((st = derive_exported_key(s, &s->session_base_key)) != NTLM_OK)
		return st;
	if ((st = check_mic(s, (s->client_av_flags & NTLM_AVFLAG_MIC_PRESENT) != 0)) != NTLM_OK)
		return st;
	if ((st = check_channel_bindings(s)) != NTLM_OK)
		return st;
	if ((st = check_target_name(s)) != NTLM_OK)
		return st;
	s->result->has_session_key = true;
	return NTLM_OK;
}

/* Checks that do not apply to responses without an NTLMv2 blob: they can
 * carry no MIC flag, channel bindings or SPN, so a policy requiring one
 * refuses them. */
static enum ntlm_status check_v1_protections(struct verify_state *s)
{
	if (s->policy->require_mic)
		return NTLM_STATUS_MIC_MISSING;
	if (s->policy->channel_bindings == NTLM_CB_REQUIRED)
		return NTLM_STATUS_BINDINGS_MISSING;
	if (s->policy->target_names != NULL)
		return NTLM_STATUS_TARGET_NAME_MISMATCH;
	return NTLM_OK;
}

/* Session key of a v1 / LM response (MS-NLMP 3.3.1, 3.4.5.1). Without the
 * LM hash an LM_KEY session has no key; the logon itself still stands. */
static enum ntlm_status derive_v1_keys(struct verify_state *s, bool lm_only)
{
	struct ntlm_hash kxkey;
	const struct ntlm_hash *lm_hash = s->creds.has_lm_hash ? &s->creds.lm_hash : NULL;
	enum ntlm_status st;

	if (lm_only) {
		if (lm_hash == NULL)
			return NTLM_OK;
		/* MS-NLMP 3.3.1: with no NT response the session base key is
		 * built from the LM hash */
		memset(&s->session_base_key, 0, sizeof(s->session_base_key));
		memcpy(s->session_base_key.bytes, lm_hash->bytes, 8);
	} else {
		st = ntlm_v1_session_base_key(&s->creds.nt_hash, &s->session_base_key);
		if (st != NTLM_OK)
			return st;
	}
	if ((s->flags & (NTLM_NEGOTIATE_LM_KEY | NTLM_REQUEST_NON_NT_SESSION_KEY)) && lm_hash == NULL)
		return NTLM_OK;
	st = ntlm_kxkey(s->flags, &s->session_base_key, s->lm.len == 24 ? s->lm.data : NULL, lm_hash,
	                s->server_challenge, false, &kxkey);
	if (st == NTLM_OK)
		st = derive_exported_key(s, &kxkey);
	if (st == NTLM_OK)
		s->result->has_session_key = true;
	NTLM_WIPE_OBJECT(&kxkey);
	return st;
}

/* MS-NLMP 3.3.1 NTLMv1 and NTLMv1 with extended session security. The LM
 * field is never consulted when the NT response fails: with ESS the
 * "expected" LM response would be client data (a peer's auth bypass). */
static enum ntlm_status prove_ntlmv1(struct verify_state *s, bool ess)
{
	uint8_t expected[24];
	enum ntlm_status st;

	if (ess)
		st = ntlm_ess_response(&s->creds.nt_hash, s->server_challenge, s->lm.data, expected);
	else
		st = ntlm_desl(&s->creds.nt_hash, s->server_challenge, expected);
	if (st != NTLM_OK)
		goto out;
	if (!ntlm_equal_ct(expected, s->nt.data, sizeof(expected))) {
		st = NTLM_STATUS_WRONG_PASSWORD;
		goto out;
	}
	s->result->mic = NTLM_VERDICT_ABSENT;
	st = derive_v1_keys(s, false);
out:
	NTLM_WIPE_ARRAY(expected);
	return st;
}

/* An LM-field-only response: LMv2 first, then LM, as the policy allows. */
static enum ntlm_status prove_lm_only(struct verify_state *s)
{
	uint8_t expected[24] = {0};
	struct ntlm_hash key = {0};
	enum ntlm_status st = NTLM_STATUS_WRONG_PASSWORD;

	if (s->policy->allow_lmv2) {
		const char *domains[2] = {s->domain, ""};
		size_t n = s->policy->retry_nil_domain && s->domain[0] != '\0' ? 2 : 1;
		for (size_t i = 0; i < n && st == NTLM_STATUS_WRONG_PASSWORD; i++) {
			enum ntlm_status cst = ntlm_ntowfv2(&s->creds.nt_hash, s->user, domains[i], &key);
			if (cst == NTLM_OK)
				cst =
				    ntlm_lmv2_response(&key, s->server_challenge, s->lm.data + 16, expected);
			if (cst != NTLM_OK) {
				st = cst;
				break;
			}
			if (ntlm_equal_ct(expected, s->lm.data, 24)) {
				s->result->response_type = NTLM_RESPONSE_LMV2;
				s->result->used_nil_domain = i == 1;
				st = ntlm_v2_session_base_key(&key, expected, &s->session_base_key);
				if (st == NTLM_OK)
					st = derive_exported_key(s, &s->session_base_key);
				if (st == NTLM_OK)
					s->result->has_session_key = true;
			}
		}
	}
	if (st == NTLM_STATUS_WRONG_PASSWORD && s->policy->allow_lm && s->creds.has_lm_hash) {
		st = ntlm_desl(&s->creds.lm_hash, s->server_challenge, expected);
		if (st == NTLM_OK && ntlm_equal_ct(expected, s->lm.data, 24)) {
			s->result->response_type = NTLM_RESPONSE_LM;
			st = derive_v1_keys(s, true);
		} else if (st == NTLM_OK) {
			st = NTLM_STATUS_WRONG_PASSWORD;
		}
	}
	NTLM_WIPE_ARRAY(expected);
	NTLM_WIPE_OBJECT(&key);
	return st;
}

/* Classifies the response, applies the policy and makes the checks that
 * need no account; sets needs_account when the proof is next. */
static enum ntlm_status prepare_response(struct verify_state *s)
{
	struct ntlm_accept_result *r = s->result;
	enum ntlm_status st;

	r->response_type = classify_response(s);
	if (r->response_type == NTLM_RESPONSE_NONE)
		return NTLM_ERR_BAD_RESPONSE;
	if (r->response_type == NTLM_RESPONSE_ANONYMOUS)
		return s->policy->allow_anonymous ? NTLM_OK : NTLM_STATUS_ANONYMOUS_REFUSED;
	if (!response_type_allowed(s->policy, r->response_type))
		return NTLM_STATUS_NTLM_BLOCKED;
	if ((s->flags & s->policy->required_flags) != s->policy->required_flags)
		return NTLM_STATUS_DOWNGRADE_DETECTED;
	st = r->response_type == NTLM_RESPONSE_NTLMV2 ? prepare_ntlmv2(s) : check_v1_protections(s);
	s->needs_account = st == NTLM_OK;
	return st;
}

/* The proof with the account's hashes, then the account's status. */
static enum ntlm_status prove_response(struct verify_state *s)
{
	enum ntlm_status st;

	switch (s->result->response_type) {
	case NTLM_RESPONSE_NTLMV2:
		st = prove_ntlmv2(s);
		break;
	case NTLM_RESPONSE_NTLMV1:
	case NTLM_RESPONSE_NTLMV1_ESS:
		st = prove_ntlmv1(s, s->result->response_type == NTLM_RESPONSE_NTLMV1_ESS);
		break;
	default:
		st = prove_lm_only(s);
		break;
	}
	if (st == NTLM_OK)
		st = s->creds.account_status;
	return st;
}

/*
 * The start both ways in share: the result is cleared, the arguments are
 * checked (args_ok), and the steps' state is allocated. A failure here is
 * recorded in result->status and leaves *ret NULL.
 */
static enum ntlm_status steps_alloc(struct ntlm_accept_result *result, bool args_ok,
                                    const struct ntlm_policy *policy, uint64_t now, struct ntlm_verify **ret)
{
	struct ntlm_verify *v;

	if (ret == NULL || result == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	*ret = NULL;
	memset(result, 0, sizeof(*result));
	if (!args_ok) {
		result->status = NTLM_ERR_INVALID_ARGUMENT;
		return result->status;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL) {
		result->status = NTLM_ERR_NO_MEMORY;
		return result->status;
	}
	v->s.policy = policy;
	v->s.now = now;
	v->s.result = result;
	*ret = v;
	return NTLM_OK;
}

enum ntlm_status ntlm_verify_begin(const struct ntlm_policy *policy, const uint8_t *negotiate,
                                   size_t negotiate_len, const uint8_t *challenge, size_t challenge_len,
                                   const uint8_t *authenticate, size_t authenticate_len,
                                   const struct ntlm_channel_bindings *cb, uint64_t now,
                                   struct ntlm_accept_result *result, struct ntlm_verify **ret)
{
	struct ntlm_verify *v;
	struct verify_state *s;
	enum ntlm_status st;

	st = steps_alloc(result, policy != NULL && challenge != NULL && authenticate != NULL, policy, now,
	                 ret);
	if (st != NTLM_OK)
		return st;
	v = *ret;
	s = &v->s;
	s->negotiate = negotiate;
	s->negotiate_len = negotiate_len;
	s->challenge = challenge;
	s->challenge_len = challenge_len;
	s->authenticate = authenticate;
	s->authenticate_len = authenticate_len;
	s->cb = cb;
	s->status = decode_messages(s, &v->chal, &v->auth);
	if (s->status == NTLM_OK)
		s->status = prepare_response(s);
	return NTLM_OK;
}

enum ntlm_status ntlm_verify_begin_response(const struct ntlm_policy *policy, const char *user,
                                            const char *domain, const uint8_t server_challenge[8],
                                            const uint8_t *lm_response, size_t lm_len,
                                            const uint8_t *nt_response, size_t nt_len, uint64_t now,
                                            struct ntlm_accept_result *result, struct ntlm_verify **ret)
{
	struct ntlm_verify *v;
	struct verify_state *s;
	enum ntlm_status st;

	st = steps_alloc(result,
	                 policy != NULL && user != NULL && server_challenge != NULL &&
	                     (lm_len == 0 || lm_response != NULL) && (nt_len == 0 || nt_response != NULL) &&
	                     (lm_len == 0 || lm_len == 24),
	                 policy, now, ret);
	if (st != NTLM_OK)
		return st;
	v = *ret;
	s = &v->s;
	/* no CHALLENGE message: the AV-pair echo cannot be checked */
	v->policy = *policy;
	v->policy.check_av_echo = false;
	s->policy = &v->policy;
	s->server_avs_unknown = true;
	s->lm = (struct ntlm_view){lm_response, lm_len};
	s->nt = (struct ntlm_view){nt_response, nt_len};
	memcpy(s->server_challenge, server_challenge, NTLM_CHALLENGE_LEN);
	/* MS-CHAP carries the ESS client challenge in the LM field when the
	 * caller asks for it; without flags a 24-byte NT response is NTLMv1 */
	s->status = set_names(s, user, domain ? domain : "", "");
	if (s->status == NTLM_OK)
		s->status = prepare_response(s);
	return NTLM_OK;
}

bool ntlm_verify_wants(const struct ntlm_verify *v, const char **ret_user, const char **ret_domain)
{
	bool wants = v != NULL && v->s.status == NTLM_OK && v->s.needs_account;

	if (ret_user != NULL)
		*ret_user = wants ? v->s.user : NULL;
	if (ret_domain != NULL)
		*ret_domain = wants ? v->s.domain : NULL;
	return wants;
}

void ntlm_verify_free(struct ntlm_verify *v)
{
	if (v == NULL)
		return;
	ntlm_challenge_clear(&v->chal);
	ntlm_authenticate_clear(&v->auth);
	ntlm_wipe(v, sizeof(*v));
	free(v);
}

enum ntlm_status ntlm_verify_finish(struct ntlm_verify *v, enum ntlm_status lookup_status,
                                    const struct ntlm_credentials *creds)
{
	struct verify_state *s;
	struct ntlm_accept_result *result;
	enum ntlm_status st;

	if (v == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	s = &v->s;
	result = s->result;
	st = s->status;
	if (st == NTLM_OK && s->needs_account) {
		st = take_credentials(s, lookup_status, creds);
		if (st == NTLM_OK)
			st = prove_response(s);
	}
	/* the session key is handed over only with NTLM_OK */
	if (st == NTLM_OK && result->has_session_key)
		result->session_key = s->exported_key;
	else
		result->has_session_key = false;
	result->status = st;
	ntlm_verify_free(v);
	return st;
}

/* The one-call form: the steps, with the store asked through lookup. */
static enum ntlm_status verify_with_lookup(struct ntlm_verify *v, ntlm_lookup_fn lookup, void *lookup_ctx)
{
	struct ntlm_credentials creds = {0};
	enum ntlm_status lookup_status = NTLM_ERR_INVALID_ARGUMENT;
	const char *user, *domain;
	enum ntlm_status st;

	if (ntlm_verify_wants(v, &user, &domain) && lookup != NULL)
		lookup_status = lookup(lookup_ctx, user, domain, &creds);
	st = ntlm_verify_finish(v, lookup_status, &creds);
	ntlm_wipe(&creds, sizeof(creds));
	return st;
}

enum ntlm_status ntlm_acceptor_verify(const struct ntlm_policy *policy, const uint8_t *negotiate,
                                      size_t negotiate_len, const uint8_t *challenge, size_t challenge_len,
                                      const uint8_t *authenticate, size_t authenticate_len,
                                      const struct ntlm_channel_bindings *cb, ntlm_lookup_fn lookup,
                                      void *lookup_ctx, uint64_t now, struct ntlm_accept_result *result)
{
	struct ntlm_verify *v = NULL;
	enum ntlm_status st;

	st = ntlm_verify_begin(policy, negotiate, negotiate_len, challenge, challenge_len, authenticate,
	                       authenticate_len, cb, now, result, &v);
	if (st != NTLM_OK)
		return st;
	return verify_with_lookup(v, lookup, lookup_ctx);
}

/* ------------------------------------------------------------------ */
/* Bare challenge/response (MS-CHAP style callers)                     */
/* ------------------------------------------------------------------ */

enum ntlm_status ntlm_acceptor_verify_response(const struct ntlm_policy *policy, const char *user,
                                               const char *domain, const uint8_t server_challenge[8],
                                               const uint8_t *lm_response, size_t lm_len,
                                               const uint8_t *nt_response, size_t nt_len,
                                               ntlm_lookup_fn lookup, void *lookup_ctx, uint64_t now,
                                               struct ntlm_accept_result *result)
{
	struct ntlm_verify *v = NULL;
	enum ntlm_status st;

	st = ntlm_verify_begin_response(policy, user, domain, server_challenge, lm_response, lm_len,
	                                nt_response, nt_len, now, result, &v);
	if (st != NTLM_OK)
		return st;
	return verify_with_lookup(v, lookup, lookup_ctx);
}
