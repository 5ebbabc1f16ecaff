/*
 * test_acceptor.c: the acceptor and initiator together: the MS-NLMP 4.2
 * messages verified end to end, initiator-to-acceptor round trips for every
 * response type and flag combination, and every tamper class rejected with
 * its own status.
 */
#include "testutil.h"
#include "vectors.h"

/* ---- a small account store ---- */

struct account {
	const char *user;
	const char *password;
	enum ntlm_status status; /* account status after a good password */
	bool no_lm;
};

static const struct account accounts[] = {
    {"User", "Password", NTLM_OK, false},
    {"alice", "Passw0rd!", NTLM_OK, false},
    {"bob", "Bobpass1!", NTLM_STATUS_ACCOUNT_DISABLED, false},
    {"carol", "a passphrase longer than fourteen", NTLM_OK, true},
};

static int lookups;

/* ntlm_lookup_fn over accounts[], case-insensitive as Windows names are. */
static enum ntlm_status lookup(void *ctx, const char *user, const char *domain, struct ntlm_credentials *ret)
{
	(void)ctx;
	(void)domain;
	lookups++;
	for (size_t i = 0; i < sizeof(accounts) / sizeof(accounts[0]); i++) {
		if (strcasecmp(accounts[i].user, user) != 0)
			continue;
		ck_assert_status(ntlm_ntowfv1(accounts[i].password, &ret->nt_hash), NTLM_OK);
		ret->has_lm_hash =
		    !accounts[i].no_lm && ntlm_lmowfv1(accounts[i].password, &ret->lm_hash) == NTLM_OK;
		ret->account_status = accounts[i].status;
		return NTLM_OK;
	}
	return NTLM_STATUS_NO_SUCH_USER;
}

static enum ntlm_status lookup_unavailable(void *ctx, const char *user, const char *domain,
                                           struct ntlm_credentials *ret)
{
	(void)ctx;
	(void)user;
	(void)domain;
	(void)ret;
	return NTLM_ERR_BACKEND_UNAVAILABLE;
}

static const struct ntlm_server_names server_names = {
    .nb_computer = "SERVER",
    .nb_domain = "DOMAIN",
    .dns_computer = "server.example.test",
    .dns_domain = "example.test",
};

/* A fixed "now" so tests do not depend on the clock */
#define NOW_UNIX 1795305600
static uint64_t now_ft(void)
{
	return ntlm_filetime_from_unix(NOW_UNIX);
}

/* One exchange: the three messages and the client's session key. */
struct exchange {
	uint8_t *neg, *chal, *auth;
	size_t neg_len, chal_len, auth_len;
	struct ntlm_hash client_key;
};

static void exchange_free(struct exchange *x)
{
	free(x->neg);
	free(x->chal);
	free(x->auth);
	memset(x, 0, sizeof(*x));
}

/* Runs NEGOTIATE -> CHALLENGE (at challenge_time) -> AUTHENTICATE. */
static void run_client(const struct ntlm_initiator_config *cfg, uint64_t challenge_time, struct exchange *x)
{
	memset(x, 0, sizeof(*x));
	ck_assert_status(ntlm_initiator_negotiate(cfg, &x->neg, &x->neg_len), NTLM_OK);
	ck_assert_status(ntlm_acceptor_challenge(&server_names, x->neg, x->neg_len, challenge_time, &x->chal,
	                                         &x->chal_len),
	                 NTLM_OK);
	ck_assert_status(ntlm_initiator_authenticate(cfg, x->neg, x->neg_len, x->chal, x->chal_len, &x->auth,
	                                             &x->auth_len, &x->client_key),
	                 NTLM_OK);
}

/* Verifies x with policy; returns the status and fills r. */
static enum ntlm_status verify(const struct exchange *x, const struct ntlm_policy *policy,
                               const struct ntlm_channel_bindings *cb, struct ntlm_accept_result *r)
{
	return ntlm_acceptor_verify(policy, x->neg, x->neg_len, x->chal, x->chal_len, x->auth, x->auth_len,
	                            cb, lookup, NULL, now_ft(), r);
}

/* Verifies auth against the NEGOTIATE and CHALLENGE of x with policy, no
 * channel bindings and the accounts of lookup_fn; returns the status only. */
static enum ntlm_status verify_auth(const struct exchange *x, const uint8_t *auth, size_t auth_len,
                                    const struct ntlm_policy *policy, ntlm_lookup_fn lookup_fn)
{
	struct ntlm_accept_result r;
	enum ntlm_status st = ntlm_acceptor_verify(policy, x->neg, x->neg_len, x->chal, x->chal_len, auth,
	                                           auth_len, NULL, lookup_fn, NULL, now_ft(), &r);

	ntlm_accept_result_clear(&r);
	return st;
}

/* Verifies x with policy and no channel bindings; returns the status only. */
static enum ntlm_status verify_status(const struct exchange *x, const struct ntlm_policy *policy)
{
	return verify_auth(x, x->auth, x->auth_len, policy, lookup);
}

static struct ntlm_initiator_config alice(enum ntlm_client_mode mode)
{
	return (struct ntlm_initiator_config){
	    .user = "alice",
	    .domain = "DOMAIN",
	    .workstation = "WS1",
	    .password = "Passw0rd!",
	    .mode = mode,
	};
}

/* Decodes hex into a malloc'd buffer (for the spec messages). */
static uint8_t *hex(const char *h, size_t *len)
{
	return test_hex(h, len);
}

/* ---- MS-NLMP 4.2 messages end to end ---- */

/* Verifies a 4.2 CHALLENGE/AUTHENTICATE pair with User/Password. */
static enum ntlm_status verify_spec(const char *chal_hex, const char *auth_hex, const struct ntlm_policy *p,
                                    struct ntlm_accept_result *r)
{
	size_t clen, alen;
	uint8_t *c = hex(chal_hex, &clen), *a = hex(auth_hex, &alen);
	/* the 4.2.4 blob carries Time = 0 */
	enum ntlm_status st = ntlm_acceptor_verify(p, NULL, 0, c, clen, a, alen, NULL, lookup, NULL, 0, r);
	free(c);
	free(a);
	return st;
}

START_TEST(spec_ntlmv2_messages)
{
	struct ntlm_policy p;
	struct ntlm_accept_result r;

	ntlm_policy_init(&p);
	ck_assert_status(verify_spec(V2_CHALLENGE_MSG, V2_AUTHENTICATE_MSG, &p, &r), NTLM_OK);
	ck_assert_str_eq(r.user, "User");
	ck_assert_str_eq(r.domain, "Domain");
	ck_assert_str_eq(r.workstation, "COMPUTER");
	ck_assert_int_eq(r.response_type, NTLM_RESPONSE_NTLMV2);
	ck_assert_int_eq(r.mic, NTLM_VERDICT_ABSENT);
	ck_assert(r.has_session_key);
	/* MS-NLMP 4.2.1: RandomSessionKey, recovered through KEY_EXCH */
	ck_assert_hex_eq(r.session_key.bytes, 16, V_RANDOM_SESSION_KEY);
	ntlm_accept_result_clear(&r);

	/* require_mic refuses it: the 4.2.4 client sent no MIC */
	p.require_mic = true;
	ck_assert_status(verify_spec(V2_CHALLENGE_MSG, V2_AUTHENTICATE_MSG, &p, &r), NTLM_STATUS_MIC_MISSING);
	ntlm_accept_result_clear(&r);
}
END_TEST

/* MS-NLMP 4.2.2 and 4.2.3: refused by the default policy (NTLMv2 only)
 * before any account lookup, verified once the policy allows them. */
static const struct spec_legacy_case {
	const char *name;
	const char *chal, *auth;
	bool ess; /* needs allow_ntlmv1_ess, else allow_ntlmv1 */
	enum ntlm_response_type type;
	const char *session_key;
} spec_legacy_cases[] = {
    {"4.2.2 NTLMv1", V1_CHALLENGE_MSG, V1_AUTHENTICATE_MSG, false, NTLM_RESPONSE_NTLMV1,
     V_RANDOM_SESSION_KEY},
    /* no KEY_EXCH in 4.2.3: the exported key is the KeyExchangeKey */
    {"4.2.3 NTLMv1-ESS", V1ESS_CHALLENGE_MSG, V1ESS_AUTHENTICATE_MSG, true, NTLM_RESPONSE_NTLMV1_ESS,
     V1ESS_KXKEY},
};

START_TEST(spec_legacy_messages)
{
	const struct spec_legacy_case *c = &spec_legacy_cases[_i];
	struct ntlm_policy p;
	struct ntlm_accept_result r;

	ntlm_policy_init(&p);
	lookups = 0;
	ck_assert_status_msg(c->name, verify_spec(c->chal, c->auth, &p, &r), NTLM_STATUS_NTLM_BLOCKED);
	ck_assert_msg(r.response_type == c->type, "%s: blocked as %s", c->name,
	              ntlm_response_type_name(r.response_type));
	ck_assert_msg(lookups == 0, "%s: %d account lookups", c->name, lookups);
	ntlm_accept_result_clear(&r);

	if (c->ess)
		p.allow_ntlmv1_ess = true;
	else
		p.allow_ntlmv1 = true;
	ck_assert_status_msg(c->name, verify_spec(c->chal, c->auth, &p, &r), NTLM_OK);
	ck_assert_msg(r.response_type == c->type, "%s: verified as %s", c->name,
	              ntlm_response_type_name(r.response_type));
	ck_assert_hex_eq_msg(c->name, r.session_key.bytes, 16, c->session_key);
	ntlm_accept_result_clear(&r);
}
END_TEST

/* ---- round trips ---- */

/* A policy that allows everything the client mode needs. */
static struct ntlm_policy permissive(void)
{
	struct ntlm_policy p;
	ntlm_policy_init(&p);
	p.allow_lm = p.allow_ntlmv1 = p.allow_ntlmv1_ess = p.allow_lmv2 = true;
	return p;
}

static const enum ntlm_client_mode all_modes[] = {
    NTLM_CLIENT_NTLMV2, NTLM_CLIENT_NTLMV1, NTLM_CLIENT_NTLMV1_ESS, NTLM_CLIENT_LM, NTLM_CLIENT_LMV2,
};
static const enum ntlm_response_type mode_types[] = {
    NTLM_RESPONSE_NTLMV2, NTLM_RESPONSE_NTLMV1, NTLM_RESPONSE_NTLMV1_ESS,
    NTLM_RESPONSE_LM,     NTLM_RESPONSE_LMV2,
};
/* Flag variations: each is dropped from the client's flags. */
static const uint32_t flag_drops[] = {
    0,
    NTLM_NEGOTIATE_KEY_EXCH,
    NTLM_NEGOTIATE_SIGN | NTLM_NEGOTIATE_SEAL,
    NTLM_NEGOTIATE_128,
    NTLM_NEGOTIATE_56 | NTLM_NEGOTIATE_128,
    NTLM_NEGOTIATE_VERSION,
    NTLM_NEGOTIATE_UNICODE,
    NTLM_NEGOTIATE_KEY_EXCH | NTLM_NEGOTIATE_SIGN | NTLM_NEGOTIATE_SEAL | NTLM_NEGOTIATE_VERSION,
};

/* Sends one sealed message each way with the two sides' session keys. */
static void check_session_security(uint32_t flags, const struct ntlm_hash *client_key,
                                   const struct ntlm_hash *server_key)
{
	struct ntlm_session *c = NULL, *s = NULL;
	const uint8_t msg[] = "a message that travels sealed";
	uint8_t sealed[sizeof(msg)], opened[sizeof(msg)], sig[16];

	ck_assert_status(ntlm_session_new(flags, client_key, true, &c), NTLM_OK);
	ck_assert_status(ntlm_session_new(flags, server_key, false, &s), NTLM_OK);
	for (int i = 0; i < 3; i++) {
		ck_assert_status(ntlm_session_seal(c, msg, sizeof(msg), sealed, sig), NTLM_OK);
		ck_assert_status(ntlm_session_unseal(s, sealed, sizeof(msg), opened, sig), NTLM_OK);
		ck_assert_mem_eq(opened, msg, sizeof(msg));
		ck_assert_status(ntlm_session_sign(s, msg, sizeof(msg), sig), NTLM_OK);
		ck_assert_status(ntlm_session_verify(c, msg, sizeof(msg), sig), NTLM_OK);
	}
	ntlm_session_free(c);
	ntlm_session_free(s);
}

START_TEST(round_trip_all_modes_and_flags)
{
	int combos = 0;

	for (size_t m = 0; m < sizeof(all_modes) / sizeof(all_modes[0]); m++) {
		for (size_t d = 0; d < sizeof(flag_drops) / sizeof(flag_drops[0]); d++) {
			for (int no_mic = 0; no_mic < 2; no_mic++) {
				struct ntlm_initiator_config cfg = alice(all_modes[m]);
				struct ntlm_policy p = permissive();
				struct ntlm_accept_result r;
				struct exchange x;

				cfg.drop_flags = flag_drops[d];
				cfg.no_mic = no_mic;
				run_client(&cfg, now_ft(), &x);
				ck_assert_msg(verify(&x, &p, NULL, &r) == NTLM_OK,
				              "mode %zu drop %#x no_mic %d: %s", m, flag_drops[d], no_mic,
				              ntlm_status_name(r.status));
				ck_assert_int_eq(r.response_type, mode_types[m]);
				ck_assert_str_eq(r.user, "alice");
				ck_assert_str_eq(r.domain, "DOMAIN");
				ck_assert_str_eq(r.workstation, "WS1");
				if (all_modes[m] == NTLM_CLIENT_NTLMV2)
					ck_assert_int_eq(r.mic,
					                 no_mic ? NTLM_VERDICT_ABSENT : NTLM_VERDICT_VALID);
				ck_assert(r.has_session_key);
				ck_assert_mem_eq(r.session_key.bytes, x.client_key.bytes, 16);
				if (r.flags & (NTLM_NEGOTIATE_SIGN | NTLM_NEGOTIATE_SEAL))
					check_session_security(r.flags, &x.client_key, &r.session_key);
				ntlm_accept_result_clear(&r);
				exchange_free(&x);
				combos++;
			}
		}
	}
	ck_assert_int_eq(combos, 5 * 8 * 2);
}
END_TEST

START_TEST(round_trip_nt_hash_and_variants)
{
	struct ntlm_hash h;
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	struct exchange x;
	const char *spns[] = {"HTTP/server.example.test", NULL};
	const uint8_t app[] = "tls-server-end-point:0123456789abcdef0123456789abcdef";
	struct ntlm_channel_bindings cb = {.application_data = {app, sizeof(app) - 1}};

	/* from the NT hash instead of the password */
	ck_assert_status(ntlm_ntowfv1("Passw0rd!", &h), NTLM_OK);
	cfg.password = NULL;
	cfg.nt_hash = &h;
	/* with everything a strict service checks */
	cfg.channel_bindings = &cb;
	cfg.target_name = "http/SERVER.example.test";
	run_client(&cfg, now_ft(), &x);
	ntlm_policy_init(&p);
	p.require_mic = true;
	p.channel_bindings = NTLM_CB_REQUIRED;
	p.target_names = spns;
	p.required_flags = NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_KEY_EXCH;
	ck_assert_status(verify(&x, &p, &cb, &r), NTLM_OK);
	ck_assert_int_eq(r.mic, NTLM_VERDICT_VALID);
	ck_assert_int_eq(r.channel_bindings, NTLM_VERDICT_VALID);
	ck_assert_int_eq(r.target_name, NTLM_VERDICT_VALID);
	ck_assert_str_eq(r.client_target_name, "http/SERVER.example.test");
	ck_assert(r.has_client_timestamp);
	ck_assert_int_eq(r.clock_skew, 0);
	ntlm_accept_result_clear(&r);
	exchange_free(&x);

	/* a long password (no LM hash) and a NEGOTIATE without VERSION field */
	cfg = alice(NTLM_CLIENT_NTLMV2);
	cfg.user = "CAROL";
	cfg.password = "a passphrase longer than fourteen";
	cfg.no_version = true;
	run_client(&cfg, now_ft(), &x);
	ck_assert_uint_eq(x.neg_len, 32);
	ntlm_policy_init(&p);
	ck_assert_status(verify(&x, &p, NULL, &r), NTLM_OK);
	ck_assert_str_eq(r.user, "CAROL");
	ntlm_accept_result_clear(&r);
	exchange_free(&x);
}
END_TEST

START_TEST(round_trip_oem_strings)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	struct exchange x;

	cfg.oem = true;
	run_client(&cfg, now_ft(), &x);
	ntlm_policy_init(&p);
	ck_assert_status(verify(&x, &p, NULL, &r), NTLM_OK);
	ck_assert_uint_eq(r.flags & NTLM_NEGOTIATE_UNICODE, 0);
	ck_assert_str_eq(r.user, "alice");
	ntlm_accept_result_clear(&r);
	exchange_free(&x);
}
END_TEST

/* ---- outcomes and tamper classes ---- */

/* Runs alice's exchange with cfg changes and policy, expecting want. */
static void expect_status(const struct ntlm_initiator_config *cfg, const struct ntlm_policy *p,
                          const struct ntlm_channel_bindings *cb, enum ntlm_status want)
{
	struct ntlm_accept_result r;
	struct exchange x;

	run_client(cfg, now_ft(), &x);
	ck_assert_status(verify(&x, p, cb, &r), want);
	ck_assert_int_eq(r.status, want);
	if (want != NTLM_OK)
		ck_assert(!r.has_session_key);
	ntlm_accept_result_clear(&r);
	exchange_free(&x);
}

START_TEST(outcomes_per_account)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct exchange x;

	ntlm_policy_init(&p);
	cfg.password = "WrongPass1";
	expect_status(&cfg, &p, NULL, NTLM_STATUS_WRONG_PASSWORD);
	cfg.user = "nosuch";
	expect_status(&cfg, &p, NULL, NTLM_STATUS_NO_SUCH_USER);
	/* disabled: revealed only with the right password */
	cfg.user = "bob";
	cfg.password = "Bobpass1!";
	expect_status(&cfg, &p, NULL, NTLM_STATUS_ACCOUNT_DISABLED);
	cfg.password = "WrongPass1";
	expect_status(&cfg, &p, NULL, NTLM_STATUS_WRONG_PASSWORD);
	/* the store is down: never "no such user" */
	cfg = alice(NTLM_CLIENT_NTLMV2);
	run_client(&cfg, now_ft(), &x);
	ck_assert_status(verify_auth(&x, x.auth, x.auth_len, &p, lookup_unavailable),
	                 NTLM_ERR_BACKEND_UNAVAILABLE);
	exchange_free(&x);
}
END_TEST

START_TEST(wrong_password_every_response_type)
{
	struct ntlm_policy p = permissive();

	for (size_t m = 0; m < sizeof(all_modes) / sizeof(all_modes[0]); m++) {
		struct ntlm_initiator_config cfg = alice(all_modes[m]);
		cfg.password = "WrongPass1";
		expect_status(&cfg, &p, NULL, NTLM_STATUS_WRONG_PASSWORD);
	}
}
END_TEST

/* A peer implementation accepts a wrong password over NTLMv1-ESS through
 * an LM fallback: the "expected" LM response is client data. */
START_TEST(ess_wrong_password_no_lm_fallback)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV1_ESS);
	struct ntlm_policy p = permissive();

	cfg.password = "WrongPass1";
	expect_status(&cfg, &p, NULL, NTLM_STATUS_WRONG_PASSWORD);
}
END_TEST

START_TEST(default_policy_refuses_legacy)
{
	struct ntlm_policy p;
	const enum ntlm_client_mode legacy[] = {NTLM_CLIENT_NTLMV1, NTLM_CLIENT_NTLMV1_ESS, NTLM_CLIENT_LM,
	                                        NTLM_CLIENT_LMV2};

	ntlm_policy_init(&p);
	for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++) {
		struct ntlm_initiator_config cfg = alice(legacy[i]);
		expect_status(&cfg, &p, NULL, NTLM_STATUS_NTLM_BLOCKED);
	}
}
END_TEST

/* Flips one byte of the AUTHENTICATE at offset and verifies. */
static enum ntlm_status verify_flipped(struct exchange *x, size_t offset, const struct ntlm_policy *p)
{
	enum ntlm_status st;

	x->auth[offset] ^= 0x01;
	st = verify_status(x, p);
	x->auth[offset] ^= 0x01;
	return st;
}

/* The payload offset of the AUTHENTICATE security buffer whose header
 * starts at pos (MS-NLMP 2.2.1.3: Len, MaxLen, Offset). */
static size_t field_offset(const struct exchange *x, size_t pos)
{
	return (size_t)x->auth[pos + 4] | (size_t)x->auth[pos + 5] << 8 | (size_t)x->auth[pos + 6] << 16 |
	       (size_t)x->auth[pos + 7] << 24;
}
#define NT_FIELD          20
#define WORKSTATION_FIELD 44

/* A failed proof leaves the MIC and bindings the client announced
 * "unchecked", not "absent": the audit log tells them apart. */
START_TEST(wrong_password_reports_announced_protections)
{
	const uint8_t app[] = "tls-server-end-point:aaaa";
	struct ntlm_channel_bindings cb = {.application_data = {app, sizeof(app) - 1}};
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	struct exchange x;

	ntlm_policy_init(&p);
	cfg.password = "WrongPass1";
	cfg.channel_bindings = &cb;
	cfg.target_name = "HTTP/server.example.test";
	run_client(&cfg, now_ft(), &x);
	ck_assert_status(verify(&x, &p, &cb, &r), NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_int_eq(r.mic, NTLM_VERDICT_UNCHECKED);
	ck_assert_int_eq(r.channel_bindings, NTLM_VERDICT_UNCHECKED);
	ck_assert_int_eq(r.target_name, NTLM_VERDICT_UNCHECKED);
	ntlm_accept_result_clear(&r);
	exchange_free(&x);

	cfg.no_mic = true;
	cfg.channel_bindings = NULL;
	cfg.target_name = NULL;
	run_client(&cfg, now_ft(), &x);
	ck_assert_status(verify(&x, &p, &cb, &r), NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_int_eq(r.mic, NTLM_VERDICT_ABSENT);
	ck_assert_int_eq(r.channel_bindings, NTLM_VERDICT_ABSENT);
	ck_assert_int_eq(r.target_name, NTLM_VERDICT_ABSENT);
	ntlm_accept_result_clear(&r);
	exchange_free(&x);
}
END_TEST

START_TEST(tamper_proof_and_mic)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct exchange x;

	ntlm_policy_init(&p);
	run_client(&cfg, now_ft(), &x);
	/* a flipped proof */
	ck_assert_status(verify_flipped(&x, field_offset(&x, NT_FIELD), &p), NTLM_STATUS_WRONG_PASSWORD);
	/* a MIC altered */
	ck_assert_status(verify_flipped(&x, 72 + 5, &p), NTLM_STATUS_MIC_INVALID);
	/* the workstation name (MIC-protected, outside the proof) altered */
	ck_assert_status(verify_flipped(&x, field_offset(&x, WORKSTATION_FIELD), &p),
	                 NTLM_STATUS_MIC_INVALID);
	/* a MIC zeroed with its flag kept */
	memset(x.auth + 72, 0, 16);
	{
		struct ntlm_accept_result r;
		ck_assert_status(verify(&x, &p, NULL, &r), NTLM_STATUS_MIC_INVALID);
		ck_assert_int_eq(r.mic, NTLM_VERDICT_INVALID);
		ntlm_accept_result_clear(&r);
	}
	exchange_free(&x);

	/* drop the MIC: a client without one is refused when policy requires */
	cfg.no_mic = true;
	p.require_mic = true;
	expect_status(&cfg, &p, NULL, NTLM_STATUS_MIC_MISSING);
}
END_TEST

/* The NEGOTIATE altered after the fact (a flag stripped in transit) breaks
 * the MIC, which covers all three messages. */
START_TEST(tamper_negotiate_flags)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct exchange x;

	ntlm_policy_init(&p);
	run_client(&cfg, now_ft(), &x);
	x.neg[12] &= (uint8_t)~NTLM_NEGOTIATE_SIGN;
	ck_assert_status(verify_status(&x, &p), NTLM_STATUS_MIC_INVALID);
	exchange_free(&x);

	/* a client that lacks a required flag: downgrade */
	cfg.drop_flags = NTLM_NEGOTIATE_128;
	p.required_flags = NTLM_NEGOTIATE_128;
	expect_status(&cfg, &p, NULL, NTLM_STATUS_DOWNGRADE_DETECTED);
}
END_TEST

/* Finds the UTF-16LE name in buf and flips its first byte. */
static void alter_name(uint8_t *buf, size_t len, const char *ascii)
{
	size_t n = strlen(ascii);
	for (size_t i = 0; i + 2 * n <= len; i++) {
		size_t j = 0;
		while (j < n && buf[i + 2 * j] == (uint8_t)ascii[j] && buf[i + 2 * j + 1] == 0)
			j++;
		if (j == n) {
			buf[i] ^= 0x20; /* case flip */
			return;
		}
	}
	ck_abort_msg("name %s not found", ascii);
}

START_TEST(tamper_av_pairs_and_challenge)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct exchange x, y;
	uint8_t *relayed;

	ntlm_policy_init(&p);
	/* AV pairs altered in the CHALLENGE on its way to the client */
	memset(&x, 0, sizeof(x));
	ck_assert_status(ntlm_initiator_negotiate(&cfg, &x.neg, &x.neg_len), NTLM_OK);
	ck_assert_status(
	    ntlm_acceptor_challenge(&server_names, x.neg, x.neg_len, now_ft(), &x.chal, &x.chal_len),
	    NTLM_OK);
	relayed = malloc(x.chal_len);
	memcpy(relayed, x.chal, x.chal_len);
	alter_name(relayed + 48, x.chal_len - 48, "example.test");
	ck_assert_status(ntlm_initiator_authenticate(&cfg, x.neg, x.neg_len, relayed, x.chal_len, &x.auth,
	                                             &x.auth_len, NULL),
	                 NTLM_OK);
	ck_assert_status(verify_status(&x, &p), NTLM_STATUS_AV_PAIRS_ALTERED);
	free(relayed);
	exchange_free(&x);

	/* the wrong challenge: an AUTHENTICATE for one CHALLENGE verified
	 * against another one issued a second later */
	run_client(&cfg, now_ft(), &x);
	run_client(&cfg, now_ft() + 10000000u, &y);
	ck_assert_status(verify_auth(&y, x.auth, x.auth_len, &p, lookup), NTLM_STATUS_CHALLENGE_MISMATCH);
	/* without the echo check it still fails, as a wrong proof */
	p.check_av_echo = false;
	ck_assert_status(verify_auth(&y, x.auth, x.auth_len, &p, lookup), NTLM_STATUS_WRONG_PASSWORD);
	exchange_free(&x);
	exchange_free(&y);
}
END_TEST

START_TEST(tamper_stale_timestamp)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	struct exchange x;
	uint64_t two_hours = 2ull * 3600 * 10000000;

	ntlm_policy_init(&p);
	run_client(&cfg, now_ft() - two_hours, &x);
	ck_assert_status(verify(&x, &p, NULL, &r), NTLM_STATUS_TIME_SKEW);
	ck_assert_int_eq(r.clock_skew, -7200);
	ntlm_accept_result_clear(&r);
	/* max_clock_skew = 0 turns the check off */
	p.max_clock_skew = 0;
	ck_assert_status(verify_status(&x, &p), NTLM_OK);
	exchange_free(&x);
}
END_TEST

START_TEST(tamper_channel_bindings)
{
	const uint8_t good[] = "tls-server-end-point:aaaa", bad[] = "tls-server-end-point:bbbb";
	struct ntlm_channel_bindings server = {.application_data = {good, sizeof(good) - 1}};
	struct ntlm_channel_bindings other = {.application_data = {bad, sizeof(bad) - 1}};
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	struct exchange x;

	ntlm_policy_init(&p);
	/* wrong channel bindings, when-supported and required */
	cfg.channel_bindings = &other;
	expect_status(&cfg, &p, &server, NTLM_STATUS_BAD_BINDINGS);
	p.channel_bindings = NTLM_CB_REQUIRED;
	expect_status(&cfg, &p, &server, NTLM_STATUS_BAD_BINDINGS);
	/* a CB strip: the client sends none (or zeros) */
	cfg.channel_bindings = NULL;
	expect_status(&cfg, &p, &server, NTLM_STATUS_BINDINGS_MISSING);
	cfg.no_channel_bindings = true;
	expect_status(&cfg, &p, &server, NTLM_STATUS_BINDINGS_MISSING);
	/* when-supported lets a client without bindings in */
	p.channel_bindings = NTLM_CB_WHEN_SUPPORTED;
	expect_status(&cfg, &p, &server, NTLM_OK);
	/* off: not checked, reported as unchecked */
	cfg = alice(NTLM_CLIENT_NTLMV2);
	cfg.channel_bindings = &other;
	p.channel_bindings = NTLM_CB_OFF;
	run_client(&cfg, now_ft(), &x);
	ck_assert_status(verify(&x, &p, &server, &r), NTLM_OK);
	ck_assert_int_eq(r.channel_bindings, NTLM_VERDICT_UNCHECKED);
	ntlm_accept_result_clear(&r);
	exchange_free(&x);
	/* NTLMv1 cannot carry bindings */
	cfg = alice(NTLM_CLIENT_NTLMV1_ESS);
	p = permissive();
	p.channel_bindings = NTLM_CB_REQUIRED;
	expect_status(&cfg, &p, &server, NTLM_STATUS_BINDINGS_MISSING);
}
END_TEST

START_TEST(tamper_target_name)
{
	const char *spns[] = {"HTTP/server.example.test", "HOST/server", NULL};
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;

	ntlm_policy_init(&p);
	p.target_names = spns;
	cfg.target_name = "HTTP/evil.example.test";
	expect_status(&cfg, &p, NULL, NTLM_STATUS_TARGET_NAME_MISMATCH);
	cfg.target_name = NULL;
	expect_status(&cfg, &p, NULL, NTLM_STATUS_TARGET_NAME_MISMATCH);
	cfg.target_name = "host/SERVER";
	expect_status(&cfg, &p, NULL, NTLM_OK);
	cfg.unverified_spn = true;
	expect_status(&cfg, &p, NULL, NTLM_STATUS_TARGET_NAME_MISMATCH);
	p.allow_unverified_spn = true;
	expect_status(&cfg, &p, NULL, NTLM_OK);
}
END_TEST

/* LMv2 is never a fallback when an NTLMv2 response is present: a wrong
 * NTLMv2 response with a valid LMv2 next to it is refused (CVE-2019-1338). */
START_TEST(no_lmv2_fallback)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p = permissive();
	struct ntlm_authenticate a;
	struct ntlm_accept_result r;
	struct ntlm_challenge c;
	struct ntlm_hash nt, key;
	struct exchange x;
	uint8_t lmv2[24], *fixed;
	size_t fixed_len;
	uint8_t *nt_copy;

	cfg.password = "WrongPass1";
	cfg.no_mic = true;
	run_client(&cfg, now_ft(), &x);
	ck_assert_status(ntlm_authenticate_decode(x.auth, x.auth_len, &a), NTLM_OK);
	ck_assert_status(ntlm_challenge_decode(x.chal, x.chal_len, &c), NTLM_OK);
	/* an LMv2 response computed with the right password */
	ck_assert_status(ntlm_ntowfv1("Passw0rd!", &nt), NTLM_OK);
	ck_assert_status(ntlm_ntowfv2(&nt, "alice", "DOMAIN", &key), NTLM_OK);
	ck_assert_status(ntlm_lmv2_response(&key, c.server_challenge,
	                                    (const uint8_t *)"\x01\x02\x03\x04\x05\x06\x07\x08", lmv2),
	                 NTLM_OK);
	nt_copy = malloc(a.nt_response.len);
	memcpy(nt_copy, a.nt_response.data, a.nt_response.len);
	a.lm_response = (struct ntlm_view){lmv2, 24};
	a.nt_response = (struct ntlm_view){nt_copy, a.nt_response.len};
	ck_assert_status(ntlm_authenticate_encode(&a, &fixed, &fixed_len), NTLM_OK);
	free(x.auth);
	x.auth = fixed;
	x.auth_len = fixed_len;
	ck_assert_status(verify(&x, &p, NULL, &r), NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_int_eq(r.response_type, NTLM_RESPONSE_NTLMV2);
	ntlm_accept_result_clear(&r);
	ntlm_authenticate_clear(&a);
	ntlm_challenge_clear(&c);
	free(nt_copy);
	exchange_free(&x);
}
END_TEST

/* MS-NLMP 3.2.5.1.2: a client that used NIL for the domain in NTOWFv2 but
 * names a domain in the message. */
START_TEST(nil_domain_retry)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct ntlm_authenticate a;
	struct ntlm_accept_result r;
	struct exchange x;
	uint8_t *fixed;
	size_t fixed_len;
	char domain[] = "DOMAIN";

	cfg.domain = NULL;
	cfg.no_mic = true;
	run_client(&cfg, now_ft(), &x);
	ck_assert_status(ntlm_authenticate_decode(x.auth, x.auth_len, &a), NTLM_OK);
	free(a.domain);
	a.domain = domain;
	ck_assert_status(ntlm_authenticate_encode(&a, &fixed, &fixed_len), NTLM_OK);
	a.domain = NULL;
	free(x.auth);
	x.auth = fixed;
	x.auth_len = fixed_len;
	ntlm_policy_init(&p);
	ck_assert_status(verify(&x, &p, NULL, &r), NTLM_OK);
	ck_assert(r.used_nil_domain);
	ck_assert_str_eq(r.domain, "DOMAIN");
	ntlm_accept_result_clear(&r);
	p.retry_nil_domain = false;
	ck_assert_status(verify_status(&x, &p), NTLM_STATUS_WRONG_PASSWORD);
	ntlm_authenticate_clear(&a);
	exchange_free(&x);
}
END_TEST

START_TEST(anonymous)
{
	struct ntlm_authenticate a = {.flags = NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_ANONYMOUS};
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	struct exchange x;
	char empty[] = "";

	run_client(&cfg, now_ft(), &x);
	a.user = a.domain = a.workstation = empty;
	free(x.auth);
	ck_assert_status(ntlm_authenticate_encode(&a, &x.auth, &x.auth_len), NTLM_OK);
	ntlm_policy_init(&p);
	ck_assert_status(verify(&x, &p, NULL, &r), NTLM_STATUS_ANONYMOUS_REFUSED);
	ck_assert_int_eq(r.response_type, NTLM_RESPONSE_ANONYMOUS);
	ntlm_accept_result_clear(&r);
	p.allow_anonymous = true;
	ck_assert_status(verify(&x, &p, NULL, &r), NTLM_OK);
	ck_assert(!r.has_session_key);
	ntlm_accept_result_clear(&r);
	exchange_free(&x);
}
END_TEST

/* Truncated, overlapping and out-of-bounds AUTHENTICATE messages are
 * malformed, never a wrong password, and never crash. */
START_TEST(malformed_authenticate)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	struct exchange x;
	size_t full;

	ntlm_policy_init(&p);
	run_client(&cfg, now_ft(), &x);
	full = x.auth_len;
	for (size_t n = 0; n < full; n++) {
		x.auth_len = n;
		ck_assert_msg(ntlm_status_is_malformed(verify(&x, &p, NULL, &r)), "truncated to %zu: %s", n,
		              ntlm_status_name(r.status));
		ntlm_accept_result_clear(&r);
	}
	x.auth_len = full;
	/* NT response offset past the end */
	x.auth[27] = 0x7f;
	ck_assert_status(verify_status(&x, &p), NTLM_ERR_FIELD_OUT_OF_BOUNDS);
	/* NT response offset inside the header */
	x.auth[24] = 8;
	x.auth[25] = x.auth[26] = x.auth[27] = 0;
	ck_assert_status(verify_status(&x, &p), NTLM_ERR_FIELD_OVERLAP);
	/* an oversized message */
	{
		uint8_t *big = calloc(1, NTLM_MAX_MESSAGE + 1);
		memcpy(big, x.auth, x.auth_len);
		ck_assert_status(verify_auth(&x, big, NTLM_MAX_MESSAGE + 1, &p, lookup),
		                 NTLM_ERR_MESSAGE_TOO_LONG);
		free(big);
	}
	/* the messages in the wrong places */
	ck_assert_status(verify_auth(&x, x.neg, x.neg_len, &p, lookup), NTLM_ERR_WRONG_MESSAGE_TYPE);
	exchange_free(&x);
}
END_TEST

/* MS-CHAP style verification without NTLMSSP messages. */
START_TEST(bare_challenge_response)
{
	const uint8_t chal[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct ntlm_hash nt, expect_key;
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	uint8_t resp[24];

	ck_assert_status(ntlm_ntowfv1("Passw0rd!", &nt), NTLM_OK);
	ck_assert_status(ntlm_desl(&nt, chal, resp), NTLM_OK);
	ntlm_policy_init(&p);
	ck_assert_status(ntlm_acceptor_verify_response(&p, "alice", "", chal, NULL, 0, resp, 24, lookup, NULL,
	                                               now_ft(), &r),
	                 NTLM_STATUS_NTLM_BLOCKED);
	ntlm_accept_result_clear(&r);
	p.allow_ntlmv1 = true;
	ck_assert_status(ntlm_acceptor_verify_response(&p, "alice", "", chal, NULL, 0, resp, 24, lookup, NULL,
	                                               now_ft(), &r),
	                 NTLM_OK);
	/* the NT session key FreeRADIUS wants: MD4(NT hash) */
	ck_assert_status(ntlm_v1_session_base_key(&nt, &expect_key), NTLM_OK);
	ck_assert(r.has_session_key);
	ck_assert_mem_eq(r.session_key.bytes, expect_key.bytes, 16);
	ntlm_accept_result_clear(&r);
	resp[3] ^= 1;
	ck_assert_status(ntlm_acceptor_verify_response(&p, "alice", "", chal, NULL, 0, resp, 24, lookup, NULL,
	                                               now_ft(), &r),
	                 NTLM_STATUS_WRONG_PASSWORD);
	ntlm_accept_result_clear(&r);
}
END_TEST

/* The steps give what the one call gives, and ask for the account only
 * when the proof is next. */
START_TEST(steps_match_one_call)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct ntlm_accept_result one, r;
	struct ntlm_credentials creds = {0};
	struct ntlm_verify *v = NULL;
	const char *user = NULL, *domain = NULL;
	struct exchange x;

	ntlm_policy_init(&p);
	run_client(&cfg, now_ft(), &x);
	ck_assert_status(verify(&x, &p, NULL, &one), NTLM_OK);

	ck_assert_status(ntlm_verify_begin(&p, x.neg, x.neg_len, x.chal, x.chal_len, x.auth, x.auth_len, NULL,
	                                   now_ft(), &r, &v),
	                 NTLM_OK);
	ck_assert_ptr_nonnull(v);
	ck_assert(ntlm_verify_wants(v, &user, &domain));
	ck_assert_str_eq(user, "alice");
	ck_assert_str_eq(domain, "DOMAIN");
	lookups = 0;
	ck_assert_status(lookup(NULL, user, domain, &creds), NTLM_OK);
	ck_assert_status(ntlm_verify_finish(v, NTLM_OK, &creds), NTLM_OK);
	ntlm_wipe(&creds, sizeof(creds));
	ck_assert_status(r.status, NTLM_OK);
	ck_assert(r.has_session_key);
	ck_assert_mem_eq(r.session_key.bytes, one.session_key.bytes, 16);
	ck_assert_mem_eq(r.session_key.bytes, x.client_key.bytes, 16);
	ck_assert_int_eq(r.mic, one.mic);
	ck_assert_int_eq(r.response_type, NTLM_RESPONSE_NTLMV2);
	ntlm_accept_result_clear(&r);

	/* what the store answers is the verdict when it has no account */
	static const enum ntlm_status store_answers[] = {NTLM_STATUS_NO_SUCH_USER,
	                                                 NTLM_ERR_BACKEND_UNAVAILABLE};
	for (size_t i = 0; i < ARRAY_SIZE(store_answers); i++) {
		ck_assert_status(ntlm_verify_begin(&p, x.neg, x.neg_len, x.chal, x.chal_len, x.auth,
		                                   x.auth_len, NULL, now_ft(), &r, &v),
		                 NTLM_OK);
		ck_assert(ntlm_verify_wants(v, NULL, NULL));
		ck_assert_status(ntlm_verify_finish(v, store_answers[i], NULL), store_answers[i]);
		ck_assert_status(r.status, store_answers[i]);
		ck_assert(!r.has_session_key);
		ntlm_accept_result_clear(&r);
	}
	/* a wrong password's hashes */
	ck_assert_status(ntlm_verify_begin(&p, x.neg, x.neg_len, x.chal, x.chal_len, x.auth, x.auth_len, NULL,
	                                   now_ft(), &r, &v),
	                 NTLM_OK);
	ck_assert_status(ntlm_ntowfv1("WrongPass1", &creds.nt_hash), NTLM_OK);
	ck_assert_status(ntlm_verify_finish(v, NTLM_OK, &creds), NTLM_STATUS_WRONG_PASSWORD);
	ck_assert(!r.has_session_key);
	ntlm_accept_result_clear(&r);
	/* abandoned while the store is asked (a deadline): nothing leaks */
	ck_assert_status(ntlm_verify_begin(&p, x.neg, x.neg_len, x.chal, x.chal_len, x.auth, x.auth_len, NULL,
	                                   now_ft(), &r, &v),
	                 NTLM_OK);
	ntlm_verify_free(v);
	ck_assert_str_eq(r.user, "alice");
	ntlm_accept_result_clear(&r);
	ntlm_accept_result_clear(&one);
	exchange_free(&x);
}
END_TEST

/* No account is wanted for what fails before the proof: a refused response
 * type, a malformed message, a stale challenge. */
START_TEST(steps_want_no_account_before_the_proof)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV1);
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	struct ntlm_verify *v = NULL;
	const char *user = "x";
	struct exchange x;

	ntlm_policy_init(&p);
	run_client(&cfg, now_ft(), &x);
	ck_assert_status(ntlm_verify_begin(&p, x.neg, x.neg_len, x.chal, x.chal_len, x.auth, x.auth_len, NULL,
	                                   now_ft(), &r, &v),
	                 NTLM_OK);
	ck_assert(!ntlm_verify_wants(v, &user, NULL));
	ck_assert_ptr_null(user);
	ck_assert_status(ntlm_verify_finish(v, NTLM_OK, NULL), NTLM_STATUS_NTLM_BLOCKED);
	ck_assert_status(r.status, NTLM_STATUS_NTLM_BLOCKED);
	ntlm_accept_result_clear(&r);
	exchange_free(&x);

	cfg = alice(NTLM_CLIENT_NTLMV2);
	run_client(&cfg, now_ft() - (uint64_t)(2 * NTLM_DEFAULT_MAX_CLOCK_SKEW) * 10000000u, &x);
	ck_assert_status(ntlm_verify_begin(&p, x.neg, x.neg_len, x.chal, x.chal_len, x.auth, x.auth_len, NULL,
	                                   now_ft(), &r, &v),
	                 NTLM_OK);
	ck_assert(!ntlm_verify_wants(v, NULL, NULL));
	ck_assert_status(ntlm_verify_finish(v, NTLM_OK, NULL), NTLM_STATUS_TIME_SKEW);
	ntlm_accept_result_clear(&r);

	ck_assert_status(
	    ntlm_verify_begin(&p, x.neg, x.neg_len, x.chal, x.chal_len, x.auth, 20, NULL, now_ft(), &r, &v),
	    NTLM_OK);
	ck_assert(!ntlm_verify_wants(v, NULL, NULL));
	ck_assert_int_ne(ntlm_verify_finish(v, NTLM_OK, NULL), NTLM_OK);
	ntlm_accept_result_clear(&r);

	/* wrong arguments: no state, the result says so */
	ck_assert_status(ntlm_verify_begin(&p, NULL, 0, NULL, 0, x.auth, x.auth_len, NULL, now_ft(), &r, &v),
	                 NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_ptr_null(v);
	ck_assert_status(r.status, NTLM_ERR_INVALID_ARGUMENT);
	ntlm_accept_result_clear(&r);
	ck_assert_status(ntlm_verify_finish(NULL, NTLM_OK, NULL), NTLM_ERR_INVALID_ARGUMENT);
	ntlm_verify_free(NULL);
	exchange_free(&x);
}
END_TEST

/* MS-CHAP callers in steps: the bare response waits for the account too. */
START_TEST(steps_bare_response)
{
	const uint8_t chal[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct ntlm_credentials creds = {0};
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	struct ntlm_verify *v = NULL;
	const char *user = NULL, *domain = NULL;
	uint8_t resp[24];

	ck_assert_status(ntlm_ntowfv1("Passw0rd!", &creds.nt_hash), NTLM_OK);
	ck_assert_status(ntlm_desl(&creds.nt_hash, chal, resp), NTLM_OK);
	ntlm_policy_init(&p);
	p.allow_ntlmv1 = true;
	ck_assert_status(
	    ntlm_verify_begin_response(&p, "alice", NULL, chal, NULL, 0, resp, 24, now_ft(), &r, &v),
	    NTLM_OK);
	ck_assert(ntlm_verify_wants(v, &user, &domain));
	ck_assert_str_eq(user, "alice");
	ck_assert_str_eq(domain, "");
	ck_assert_status(ntlm_verify_finish(v, NTLM_OK, &creds), NTLM_OK);
	ck_assert(r.has_session_key);
	ntlm_accept_result_clear(&r);
	ck_assert_status(
	    ntlm_verify_begin_response(&p, "alice", "", chal, resp, 7, resp, 24, now_ft(), &r, &v),
	    NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_ptr_null(v);
	ntlm_accept_result_clear(&r);
	ntlm_wipe(&creds, sizeof(creds));
}
END_TEST

START_TEST(challenge_contents)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_challenge c1, c2;
	struct ntlm_av_list l;
	struct exchange x, y;
	uint64_t ts;

	run_client(&cfg, now_ft(), &x);
	run_client(&cfg, now_ft(), &y);
	ck_assert_status(ntlm_challenge_decode(x.chal, x.chal_len, &c1), NTLM_OK);
	ck_assert_status(ntlm_challenge_decode(y.chal, y.chal_len, &c2), NTLM_OK);
	/* fresh random challenges */
	ck_assert(memcmp(c1.server_challenge, c2.server_challenge, 8) != 0);
	ck_assert_str_eq(c1.target_name, "SERVER");
	ck_assert(c1.flags & NTLM_NEGOTIATE_TARGET_INFO);
	ck_assert(c1.flags & NTLM_NEGOTIATE_UNICODE);
	ck_assert(c1.flags & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY);
	ck_assert(c1.flags & NTLM_TARGET_TYPE_SERVER);
	ck_assert_status(ntlm_av_list_decode(c1.target_info.data, c1.target_info.len, &l), NTLM_OK);
	ck_assert(ntlm_av_list_get_u64(&l, NTLM_AV_TIMESTAMP, &ts));
	ck_assert_uint_eq(ts, now_ft());
	ck_assert_ptr_nonnull(ntlm_av_list_find(&l, NTLM_AV_NB_COMPUTER_NAME));
	ck_assert_ptr_nonnull(ntlm_av_list_find(&l, NTLM_AV_NB_DOMAIN_NAME));
	ck_assert_ptr_nonnull(ntlm_av_list_find(&l, NTLM_AV_DNS_COMPUTER_NAME));
	ck_assert_ptr_nonnull(ntlm_av_list_find(&l, NTLM_AV_DNS_DOMAIN_NAME));
	ck_assert_ptr_null(ntlm_av_list_find(&l, NTLM_AV_FLAGS));
	ntlm_challenge_clear(&c1);
	ntlm_challenge_clear(&c2);
	exchange_free(&x);
	exchange_free(&y);
}
END_TEST

/* ---- real clients that other servers accept (issue 14) ---- */

/* Rebuilds the CHALLENGE of x with TargetInfo replaced by info (NULL: none,
 * and the TARGET_INFO flag off), the rest unchanged. */
static void rebuild_challenge(struct exchange *x, const uint8_t *info, size_t info_len)
{
	struct ntlm_challenge c;
	uint8_t *out;
	size_t out_len;

	ck_assert_status(ntlm_challenge_decode(x->chal, x->chal_len, &c), NTLM_OK);
	c.target_info = (struct ntlm_view){info, info_len};
	if (info == NULL)
		c.flags &= ~NTLM_NEGOTIATE_TARGET_INFO;
	ck_assert_status(ntlm_challenge_encode(&c, &out, &out_len), NTLM_OK);
	ntlm_challenge_clear(&c);
	free(x->chal);
	x->chal = out;
	x->chal_len = out_len;
}

/* The server's names without MsvAvTimestamp, as a server that sends none. */
static void target_info_without_timestamp(uint8_t **ret, size_t *ret_len)
{
	struct ntlm_writer w;
	uint8_t *u;
	size_t n;

	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	ck_assert_status(ntlm_utf8_to_utf16le("SERVER", 16, &u, &n), NTLM_OK);
	ntlm_av_write(&w, NTLM_AV_NB_COMPUTER_NAME, u, n);
	ntlm_av_write(&w, NTLM_AV_NB_DOMAIN_NAME, u, n);
	free(u);
	ntlm_av_write_eol(&w);
	ck_assert_status(ntlm_writer_finish(&w, ret, ret_len), NTLM_OK);
}

/*
 * The NTLMv2 AUTHENTICATE curl 7.88 (lib/vauth/ntlm.c) sends: the blob is
 * MS-NLMP 3.3.2's temp with the CHALLENGE's TargetInfo copied as it is,
 * nothing added, then Z(4); no MIC, UNICODE names, the CHALLENGE's flags.
 */
static void curl_style_authenticate(struct exchange *x, const char *password, uint64_t timestamp)
{
	static const uint8_t client_challenge[8] = {0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8};
	struct ntlm_challenge c;
	struct ntlm_hash nt, key;
	struct ntlm_writer w;
	uint8_t *blob, *resp, lm[24];
	size_t blob_len;

	ck_assert_status(ntlm_challenge_decode(x->chal, x->chal_len, &c), NTLM_OK);
	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	ntlm_write_u8(&w, 1);
	ntlm_write_u8(&w, 1);
	ntlm_write_zeros(&w, 6);
	ntlm_write_u64le(&w, timestamp);
	ntlm_write_bytes(&w, client_challenge, 8);
	ntlm_write_zeros(&w, 4);
	ntlm_write_bytes(&w, c.target_info.data, c.target_info.len);
	ntlm_write_zeros(&w, 4);
	ck_assert_status(ntlm_writer_finish(&w, &blob, &blob_len), NTLM_OK);
	ck_assert_status(ntlm_ntowfv1(password, &nt), NTLM_OK);
	ck_assert_status(ntlm_ntowfv2(&nt, "alice", "DOMAIN", &key), NTLM_OK);
	resp = malloc(16 + blob_len);
	memcpy(resp + 16, blob, blob_len);
	ck_assert_status(ntlm_ntproofstr(&key, c.server_challenge, blob, blob_len, resp), NTLM_OK);
	ck_assert_status(ntlm_lmv2_response(&key, c.server_challenge, client_challenge, lm), NTLM_OK);
	{
		struct ntlm_authenticate a = {
		    .flags = c.flags & ~(NTLM_NEGOTIATE_KEY_EXCH | NTLM_NEGOTIATE_VERSION),
		    .lm_response = {lm, 24},
		    .nt_response = {resp, 16 + blob_len},
		    .domain = (char *)"DOMAIN",
		    .user = (char *)"alice",
		    .workstation = (char *)"CURLHOST",
		};
		free(x->auth);
		ck_assert_status(ntlm_authenticate_encode(&a, &x->auth, &x->auth_len), NTLM_OK);
	}
	free(resp);
	free(blob);
	ntlm_challenge_clear(&c);
}

/* Class 2: a CHALLENGE without TargetInfo; curl, Chromium, OpenJDK,
 * go-ntlmssp, gss-ntlmssp and python3-ntlm-auth answer with an empty AV
 * list, only temp's Z(4). Accepted; the proof is still checked. */
START_TEST(client_challenge_without_target_info)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	struct exchange x, y;

	ntlm_policy_init(&p);
	cfg.no_mic = true;
	run_client(&cfg, now_ft(), &x);
	rebuild_challenge(&x, NULL, 0);
	curl_style_authenticate(&x, "Passw0rd!", now_ft());
	ck_assert_uint_eq(x.auth_len,
	                  64 + 12 + 10 + 16 + 24 + 16 + 28 + 4); /* names, LM, NTProofStr, blob, Z(4) */
	ck_assert_status(verify(&x, &p, NULL, &r), NTLM_OK);
	ck_assert_int_eq(r.response_type, NTLM_RESPONSE_NTLMV2);
	ck_assert_int_eq(r.mic, NTLM_VERDICT_ABSENT);
	ck_assert(!r.skew_checked);
	ntlm_accept_result_clear(&r);
	/* the proof is still checked */
	curl_style_authenticate(&x, "wrong", now_ft());
	ck_assert_status(verify_status(&x, &p), NTLM_STATUS_WRONG_PASSWORD);
	/* and a policy that wants a MIC or bindings still refuses */
	curl_style_authenticate(&x, "Passw0rd!", now_ft());
	p.require_mic = true;
	ck_assert_status(verify_status(&x, &p), NTLM_STATUS_MIC_MISSING);
	p.require_mic = false;
	p.channel_bindings = NTLM_CB_REQUIRED;
	{
		const uint8_t cbdata[] = "tls-server-end-point:aaaa";
		struct ntlm_channel_bindings cb = {.application_data = {cbdata, sizeof(cbdata) - 1}};
		ck_assert_status(verify(&x, &p, &cb, &r), NTLM_STATUS_BINDINGS_MISSING);
		ntlm_accept_result_clear(&r);
	}
	/* the project's own initiator answers it too (MsvAvEOL, then Z(4)) */
	ntlm_policy_init(&p);
	free(x.auth);
	ck_assert_status(ntlm_initiator_authenticate(&cfg, x.neg, x.neg_len, x.chal, x.chal_len, &x.auth,
	                                             &x.auth_len, NULL),
	                 NTLM_OK);
	ck_assert_status(verify_status(&x, &p), NTLM_OK);
	exchange_free(&x);

	/* the same client against our own CHALLENGE (TargetInfo echoed): fine,
	 * and the echo check still sees a changed TargetInfo */
	run_client(&cfg, now_ft(), &x);
	curl_style_authenticate(&x, "Passw0rd!", now_ft());
	ck_assert_status(verify_status(&x, &p), NTLM_OK);
	rebuild_challenge(&x, NULL, 0);
	curl_style_authenticate(&x, "Passw0rd!", now_ft());
	run_client(&cfg, now_ft(), &y);
	memcpy(y.chal + 24, x.chal + 24, 8); /* y's TargetInfo, x's server challenge */
	ck_assert_status(verify_auth(&y, x.auth, x.auth_len, &p, lookup), NTLM_STATUS_AV_PAIRS_ALTERED);
	exchange_free(&x);
	exchange_free(&y);
}
END_TEST

/* Class 7: no MsvAvTimestamp in the CHALLENGE. python3-ntlm-auth 1.4 then
 * sends a garbage time (the year 5347); the skew is not checked, as the
 * client had no server time to echo. With a timestamp, it still is. */
START_TEST(client_challenge_without_timestamp)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	struct exchange x;
	uint8_t *info;
	size_t info_len;
	/* 5347-01-01 as python3-ntlm-auth 1.4 computes it */
	const uint64_t year_5347 = ntlm_filetime_from_unix(106563916800LL);

	ntlm_policy_init(&p);
	target_info_without_timestamp(&info, &info_len);
	cfg.timestamp = &year_5347;
	memset(&x, 0, sizeof(x));
	ck_assert_status(ntlm_initiator_negotiate(&cfg, &x.neg, &x.neg_len), NTLM_OK);
	ck_assert_status(
	    ntlm_acceptor_challenge(&server_names, x.neg, x.neg_len, now_ft(), &x.chal, &x.chal_len),
	    NTLM_OK);
	rebuild_challenge(&x, info, info_len);
	ck_assert_status(ntlm_initiator_authenticate(&cfg, x.neg, x.neg_len, x.chal, x.chal_len, &x.auth,
	                                             &x.auth_len, NULL),
	                 NTLM_OK);
	ck_assert_status(verify(&x, &p, NULL, &r), NTLM_OK);
	ck_assert(r.has_client_timestamp);
	ck_assert_uint_eq(r.client_timestamp, year_5347);
	ck_assert(!r.skew_checked);
	ck_assert_int_eq(r.mic, NTLM_VERDICT_VALID);
	ntlm_accept_result_clear(&r);
	/* the wrong password is still one */
	cfg.password = "wrong";
	free(x.auth);
	ck_assert_status(ntlm_initiator_authenticate(&cfg, x.neg, x.neg_len, x.chal, x.chal_len, &x.auth,
	                                             &x.auth_len, NULL),
	                 NTLM_OK);
	ck_assert_status(verify_status(&x, &p), NTLM_STATUS_WRONG_PASSWORD);
	exchange_free(&x);
	free(info);

	/* curl against a CHALLENGE without TargetInfo sends its own clock: any skew passes */
	cfg.password = "Passw0rd!";
	cfg.no_mic = true;
	run_client(&cfg, now_ft(), &x);
	rebuild_challenge(&x, NULL, 0);
	curl_style_authenticate(&x, "Passw0rd!", year_5347);
	ck_assert_status(verify_status(&x, &p), NTLM_OK);
	exchange_free(&x);
}
END_TEST

/* Class 1: GNU wget sets NEGOTIATE_UNICODE in its AUTHENTICATE but sends
 * 8-bit names after an OEM CHALLENGE: the CHALLENGE's encoding decodes them. */
START_TEST(client_unicode_flag_after_oem_challenge)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	struct exchange x;

	ntlm_policy_init(&p);
	cfg.oem = true;
	cfg.no_mic = true; /* wget sends none; the flag edit would break it */
	run_client(&cfg, now_ft(), &x);
	x.auth[60] |= NTLM_NEGOTIATE_UNICODE;
	ck_assert_status(verify(&x, &p, NULL, &r), NTLM_OK);
	ck_assert_str_eq(r.user, "alice");
	ck_assert_str_eq(r.domain, "DOMAIN");
	ck_assert_str_eq(r.workstation, "WS1");
	ck_assert_int_eq(r.user_text, NTLM_TEXT_ASCII);
	ck_assert_uint_eq(r.flags & NTLM_NEGOTIATE_UNICODE, 0);
	ck_assert(!r.name_fallback);
	ntlm_accept_result_clear(&r);
	exchange_free(&x);

	/* the other way round: UTF-16 names under an OEM flag after a UNICODE CHALLENGE */
	cfg.oem = false;
	run_client(&cfg, now_ft(), &x);
	x.auth[60] = (uint8_t)((x.auth[60] & ~NTLM_NEGOTIATE_UNICODE) | NTLM_NEGOTIATE_OEM);
	ck_assert_status(verify(&x, &p, NULL, &r), NTLM_OK);
	ck_assert_str_eq(r.user, "alice");
	ck_assert_int_eq(r.user_text, NTLM_TEXT_UTF16);
	ntlm_accept_result_clear(&r);
	exchange_free(&x);
}
END_TEST

/* Class 4: a non-ASCII user name in OEM text, as UTF-8 (curl, cntlm,
 * python3-ntlm-auth) or in the code page; name_fallback tells them apart. */
START_TEST(client_oem_non_ascii_names)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	struct exchange x;
	size_t at;

	ntlm_policy_init(&p);
	cfg.oem = true;
	cfg.no_mic = true;
	cfg.workstation = "W#";
	run_client(&cfg, now_ft(), &x);
	/* the workstation does not enter the proof: "W" + 0x81 (CP850 u umlaut) */
	for (at = 64; at < x.auth_len && x.auth[at] != '#'; at++)
		;
	ck_assert_uint_lt(at, x.auth_len);
	x.auth[at] = 0x81;
	ck_assert_status(verify(&x, &p, NULL, &r), NTLM_OK);
	ck_assert_str_eq(r.workstation, "W\xc3\xbc");
	ck_assert_int_eq(r.workstation_text, NTLM_TEXT_CODEPAGE);
	ck_assert(r.name_fallback);
	ntlm_accept_result_clear(&r);
	/* ISO-8859-1: 0x81 is a C1 control, refused */
	p.oem_charset = NTLM_OEM_ISO8859_1;
	ck_assert_status(verify_status(&x, &p), NTLM_ERR_CONTROL_CHARACTER);
	exchange_free(&x);
}
END_TEST

/* Class 5: Node's httpntlm and OpenJDK set EXTENDED_SESSIONSECURITY in the
 * AUTHENTICATE when the CHALLENGE did not offer it, and compute plain
 * NTLMv1: the negotiated flags classify the response and derive the keys. */
START_TEST(client_ess_claimed_not_negotiated)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV1);
	struct ntlm_policy p = permissive();
	struct ntlm_accept_result r;
	struct exchange x;

	cfg.drop_flags = NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY;
	run_client(&cfg, now_ft(), &x);
	ck_assert_uint_eq(x.chal[22] & 0x08, 0); /* the CHALLENGE offers no ESS */
	x.auth[62] |= 0x08;                      /* the AUTHENTICATE claims it */
	ck_assert_status(verify(&x, &p, NULL, &r), NTLM_OK);
	ck_assert_int_eq(r.response_type, NTLM_RESPONSE_NTLMV1);
	ck_assert_uint_eq(r.flags & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY, 0);
	ck_assert(r.has_session_key);
	ck_assert_mem_eq(r.session_key.bytes, x.client_key.bytes, 16);
	ntlm_accept_result_clear(&r);
	/* a wrong password is still one */
	ck_assert_status(verify_flipped(&x, field_offset(&x, NT_FIELD), &p), NTLM_STATUS_WRONG_PASSWORD);
	exchange_free(&x);

	/* OpenJDK: the same with an empty LM field */
	cfg.drop_flags = NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLM_NEGOTIATE_KEY_EXCH;
	run_client(&cfg, now_ft(), &x);
	x.auth[62] |= 0x08;
	x.auth[12] = x.auth[13] = x.auth[14] = x.auth[15] = 0; /* LmChallengeResponseFields: Len, MaxLen */
	ck_assert_status(verify(&x, &p, NULL, &r), NTLM_OK);
	ck_assert_int_eq(r.response_type, NTLM_RESPONSE_NTLMV1);
	ntlm_accept_result_clear(&r);
	exchange_free(&x);
}
END_TEST

/* Class 6: a NEGOTIATE whose DomainName offset points inside its header
 * starts an exchange; its raw bytes still go into the MIC. */
START_TEST(client_negotiate_offset_inside_header)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct ntlm_policy p;
	struct exchange x;
	uint8_t *neg;
	size_t neg_len;

	ntlm_policy_init(&p);
	/* flags OEM_DOMAIN_SUPPLIED, DomainName 6 bytes "DOMAIN" at 32, offset written as 24 */
	ck_assert_status(ntlm_initiator_negotiate(&cfg, &neg, &neg_len), NTLM_OK);
	ck_assert_uint_ge(neg_len, 32);
	memset(&x, 0, sizeof(x));
	x.neg_len = 32 + 6;
	x.neg = calloc(1, x.neg_len);
	memcpy(x.neg, neg, 16);
	x.neg[12 + 1] |= 0x10; /* NEGOTIATE_OEM_DOMAIN_SUPPLIED */
	x.neg[15] &= (uint8_t) ~(NTLM_NEGOTIATE_VERSION >> 24);
	x.neg[16] = 6;
	x.neg[18] = 6;
	x.neg[20] = 24;
	memcpy(x.neg + 32, "DOMAIN", 6);
	free(neg);
	ck_assert_status(
	    ntlm_acceptor_challenge(&server_names, x.neg, x.neg_len, now_ft(), &x.chal, &x.chal_len),
	    NTLM_OK);
	ck_assert_status(ntlm_initiator_authenticate(&cfg, x.neg, x.neg_len, x.chal, x.chal_len, &x.auth,
	                                             &x.auth_len, NULL),
	                 NTLM_OK);
	ck_assert_status(verify_status(&x, &p), NTLM_OK);
	/* the MIC covers the NEGOTIATE as sent */
	x.neg[33] ^= 1;
	ck_assert_status(verify_status(&x, &p), NTLM_STATUS_MIC_INVALID);
	exchange_free(&x);

	/* go-ntlmssp: UTF-8 in the OEM domain field, and a NUL in the workstation */
	ck_assert_status(ntlm_initiator_negotiate(&cfg, &neg, &neg_len), NTLM_OK);
	memset(&x, 0, sizeof(x));
	x.neg_len = 32 + 7 + 3;
	x.neg = calloc(1, x.neg_len);
	memcpy(x.neg, neg, 16);
	free(neg);
	x.neg[13] |= 0x30;
	x.neg[15] &= (uint8_t) ~(NTLM_NEGOTIATE_VERSION >> 24);
	x.neg[16] = x.neg[18] = 7;
	x.neg[20] = 32;
	x.neg[24] = x.neg[26] = 3;
	x.neg[28] = 39;
	memcpy(x.neg + 32,
	       "M\xc3\xbcller"
	       "W\0S",
	       10);
	ck_assert_status(
	    ntlm_acceptor_challenge(&server_names, x.neg, x.neg_len, now_ft(), &x.chal, &x.chal_len),
	    NTLM_OK);
	ck_assert_status(ntlm_initiator_authenticate(&cfg, x.neg, x.neg_len, x.chal, x.chal_len, &x.auth,
	                                             &x.auth_len, NULL),
	                 NTLM_OK);
	ck_assert_status(verify_status(&x, &p), NTLM_OK);
	exchange_free(&x);
}
END_TEST

static Suite *acceptor_suite(void)
{
	Suite *s = suite_create("acceptor");
	TCase *spec = test_add_tcase(s, "spec", TESTS(spec_ntlmv2_messages));
	TCase *rt = test_add_tcase(s, "round_trip",
	                           TESTS(round_trip_all_modes_and_flags, round_trip_nt_hash_and_variants,
	                                 round_trip_oem_strings, challenge_contents, bare_challenge_response,
	                                 steps_match_one_call, steps_want_no_account_before_the_proof,
	                                 steps_bare_response));

	tcase_add_loop_test(spec, spec_legacy_messages, 0, (int)ARRAY_SIZE(spec_legacy_cases));
	tcase_set_timeout(rt, 60);
	test_add_tcase(s, "tamper",
	               TESTS(outcomes_per_account, wrong_password_every_response_type,
	                     ess_wrong_password_no_lm_fallback, default_policy_refuses_legacy,
	                     wrong_password_reports_announced_protections, tamper_proof_and_mic,
	                     tamper_negotiate_flags, tamper_av_pairs_and_challenge, tamper_stale_timestamp,
	                     tamper_channel_bindings, tamper_target_name, no_lmv2_fallback, nil_domain_retry,
	                     anonymous, malformed_authenticate));
	test_add_tcase(s, "real_clients",
	               TESTS(client_challenge_without_target_info, client_challenge_without_timestamp,
	                     client_unicode_flag_after_oem_challenge, client_oem_non_ascii_names,
	                     client_ess_claimed_not_negotiated, client_negotiate_offset_inside_header));
	return s;
}

int main(void)
{
	return test_run_suite(acceptor_suite());
}
