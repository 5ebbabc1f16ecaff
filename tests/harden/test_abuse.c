/*
 * test_abuse.c: named attacks against the library's acceptor that
 * tests/unit/test_acceptor.c does not already cover (tests/harden/README.md
 * maps every attack to its test). Each one is refused by the default policy
 * (ntlm_policy_init) with its exact status. The AUTHENTICATE messages come
 * from the library's initiator and are then rewritten the way a
 * man in the middle would.
 */
#include <strings.h>

#include "testutil.h"

/* ---- the account store and one exchange ---- */

static const char password[] = "Passw0rd!";

static enum ntlm_status lookup(void *ctx, const char *user, const char *domain, struct ntlm_credentials *ret)
{
	(void)ctx;
	(void)domain;
	if (strcasecmp(user, "alice") != 0)
		return NTLM_STATUS_NO_SUCH_USER;
	ck_assert_status(ntlm_ntowfv1(password, &ret->nt_hash), NTLM_OK);
	ret->has_lm_hash = ntlm_lmowfv1(password, &ret->lm_hash) == NTLM_OK;
	ret->account_status = NTLM_OK;
	return NTLM_OK;
}

static const struct ntlm_server_names server_names = {
    .nb_computer = "SERVER",
    .nb_domain = "DOMAIN",
    .dns_computer = "server.example.test",
    .dns_domain = "example.test",
};

#define NOW_UNIX 1795305600
static uint64_t now_ft(void)
{
	return ntlm_filetime_from_unix(NOW_UNIX);
}

static const uint8_t cb_data[] = "tls-server-end-point:0123456789abcdef";
static const struct ntlm_channel_bindings server_cb = {.application_data = {cb_data, sizeof(cb_data) - 1}};

struct exchange {
	uint8_t *neg, *chal, *auth;
	size_t neg_len, chal_len, auth_len;
};

static struct ntlm_initiator_config alice(enum ntlm_client_mode mode)
{
	return (struct ntlm_initiator_config){
	    .user = "alice",
	    .domain = "DOMAIN",
	    .workstation = "WS1",
	    .password = password,
	    .mode = mode,
	};
}

static void run_client(const struct ntlm_initiator_config *cfg, struct exchange *x)
{
	memset(x, 0, sizeof(*x));
	ck_assert_status(ntlm_initiator_negotiate(cfg, &x->neg, &x->neg_len), NTLM_OK);
	ck_assert_status(
	    ntlm_acceptor_challenge(&server_names, x->neg, x->neg_len, now_ft(), &x->chal, &x->chal_len),
	    NTLM_OK);
	ck_assert_status(ntlm_initiator_authenticate(cfg, x->neg, x->neg_len, x->chal, x->chal_len, &x->auth,
	                                             &x->auth_len, NULL),
	                 NTLM_OK);
}

static void exchange_free(struct exchange *x)
{
	free(x->neg);
	free(x->chal);
	free(x->auth);
	memset(x, 0, sizeof(*x));
}

/* Verifies x with the default policy and the server's channel bindings;
 * the result must carry no session key unless it succeeded. */
static enum ntlm_status verify_default(const struct exchange *x)
{
	struct ntlm_policy p;
	struct ntlm_accept_result r;
	enum ntlm_status st;

	ntlm_policy_init(&p);
	st = ntlm_acceptor_verify(&p, x->neg, x->neg_len, x->chal, x->chal_len, x->auth, x->auth_len,
	                          &server_cb, lookup, NULL, now_ft(), &r);
	ck_assert_int_eq(r.status, st);
	if (st != NTLM_OK)
		ck_assert(!r.has_session_key);
	ntlm_accept_result_clear(&r);
	return st;
}

/* ---- rewriting an AUTHENTICATE in transit ---- */

/* The NTLMv2 response: NTProofStr (16), then the blob header (28: MS-NLMP
 * 2.2.2.7) and the AV pairs. */
#define V2_AV_PAIRS 44

enum av_edit {
	AV_KEEP,
	AV_REMOVE,        /* the pair is left out */
	AV_CLEAR_MIC_BIT, /* MsvAvFlags without MIC_PRESENT */
	AV_ZERO_VALUE,    /* the value replaced with zeros (what a client without CB sends) */
};

/* Copies the NTLMv2 response nt with the AV pair id edited; malloc'd. */
static uint8_t *edit_av_pair(const uint8_t *nt, size_t len, uint16_t id, enum av_edit edit, size_t *ret_len)
{
	uint8_t *out = calloc(1, len);
	size_t in = V2_AV_PAIRS, o = V2_AV_PAIRS;
	bool found = false;

	ck_assert_ptr_nonnull(out);
	ck_assert_uint_gt(len, V2_AV_PAIRS);
	memcpy(out, nt, V2_AV_PAIRS);
	while (in + 4 <= len) {
		uint16_t pid = (uint16_t)(nt[in] | nt[in + 1] << 8);
		size_t plen = (size_t)(nt[in + 2] | nt[in + 3] << 8);

		ck_assert_uint_le(in + 4 + plen, len);
		if (pid == id) {
			found = true;
			if (edit == AV_REMOVE) {
				in += 4 + plen;
				continue;
			}
			memcpy(out + o, nt + in, 4 + plen);
			if (edit == AV_CLEAR_MIC_BIT)
				out[o + 4] &= (uint8_t)~NTLM_AVFLAG_MIC_PRESENT;
			else if (edit == AV_ZERO_VALUE)
				memset(out + o + 4, 0, plen);
		} else {
			memcpy(out + o, nt + in, 4 + plen);
		}
		o += 4 + plen;
		in += 4 + plen;
		if (pid == NTLM_AV_EOL)
			break;
	}
	ck_assert_msg(found || edit == AV_KEEP, "AV pair %u not in the response", (unsigned)id);
	memcpy(out + o, nt + in, len - in); /* the trailing bytes after MsvAvEOL */
	*ret_len = o + (len - in);
	return out;
}

/* What a man in the middle changes in the AUTHENTICATE. */
struct rewrite {
	uint16_t av_id; /* the AV pair of the NTLMv2 response to edit */
	enum av_edit edit;
	bool drop_mic;        /* re-encoded without the MIC field */
	uint32_t clear_flags; /* removed from the AUTHENTICATE flags */
};

static void rewrite_authenticate(struct exchange *x, const struct rewrite *rw)
{
	struct ntlm_authenticate a;
	uint8_t *nt, *out;
	size_t nt_len, out_len;

	ck_assert_status(ntlm_authenticate_decode(x->auth, x->auth_len, &a), NTLM_OK);
	nt = edit_av_pair(a.nt_response.data, a.nt_response.len, rw->av_id, rw->edit, &nt_len);
	a.nt_response = (struct ntlm_view){nt, nt_len};
	if (rw->drop_mic)
		a.mic_offset = 0;
	a.flags &= ~rw->clear_flags;
	ck_assert_status(ntlm_authenticate_encode(&a, &out, &out_len), NTLM_OK);
	ntlm_authenticate_clear(&a);
	free(nt);
	free(x->auth);
	x->auth = out;
	x->auth_len = out_len;
}

/* alice's NTLMv2 exchange with a MIC (and channel bindings when bound),
 * rewritten by rw (NULL: untouched), verified with the default policy. */
static enum ntlm_status verify_rewritten(bool bound, const struct rewrite *rw)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct exchange x;
	enum ntlm_status st;

	if (bound)
		cfg.channel_bindings = &server_cb;
	run_client(&cfg, &x);
	if (rw != NULL)
		rewrite_authenticate(&x, rw);
	st = verify_default(&x);
	exchange_free(&x);
	return st;
}

/* ---- drop-the-MIC (CVE-2019-1040 class) ---- */

/* The baseline: the untouched exchanges pass, with a MIC. */
START_TEST(drop_the_mic_baseline_passes)
{
	ck_assert_status(verify_rewritten(false, NULL), NTLM_OK);
	ck_assert_status(verify_rewritten(true, NULL), NTLM_OK);
}
END_TEST

/* The MIC field removed; MsvAvFlags still announces it. */
START_TEST(drop_the_mic_field_removed)
{
	const struct rewrite rw = {NTLM_AV_FLAGS, AV_KEEP, true, 0};

	ck_assert_status(verify_rewritten(false, &rw), NTLM_STATUS_MIC_MISSING);
}
END_TEST

/* The MIC removed and the MIC_PRESENT bit cleared in MsvAvFlags, with the
 * signing flags stripped as in CVE-2019-1040: the bit is inside the
 * NTProofStr's input, so the proof fails. */
START_TEST(drop_the_mic_avflags_bit_cleared)
{
	const struct rewrite rw = {NTLM_AV_FLAGS, AV_CLEAR_MIC_BIT, true,
	                           NTLM_NEGOTIATE_SIGN | NTLM_NEGOTIATE_ALWAYS_SIGN};

	ck_assert_status(verify_rewritten(false, &rw), NTLM_STATUS_WRONG_PASSWORD);
}
END_TEST

/* The MIC removed and the whole MsvAvFlags pair stripped. */
START_TEST(drop_the_mic_avflags_pair_stripped)
{
	const struct rewrite rw = {NTLM_AV_FLAGS, AV_REMOVE, true, 0};

	ck_assert_status(verify_rewritten(false, &rw), NTLM_STATUS_WRONG_PASSWORD);
}
END_TEST

/* ---- channel-binding strip by a man in the middle ---- */

/* The client bound the exchange to the server's channel; the relay
 * replaces the hash with Z(16), which clients without bindings send. */
START_TEST(channel_binding_strip_zeroed)
{
	const struct rewrite rw = {NTLM_AV_CHANNEL_BINDINGS, AV_ZERO_VALUE, false, 0};

	ck_assert_status(verify_rewritten(true, &rw), NTLM_STATUS_WRONG_PASSWORD);
}
END_TEST

/* The relay removes the MsvAvChannelBindings pair. */
START_TEST(channel_binding_strip_removed)
{
	const struct rewrite rw = {NTLM_AV_CHANNEL_BINDINGS, AV_REMOVE, false, 0};

	ck_assert_status(verify_rewritten(true, &rw), NTLM_STATUS_WRONG_PASSWORD);
}
END_TEST

/* ---- replay on a new challenge ---- */

/* An AUTHENTICATE captured from one exchange, replayed against a new
 * CHALLENGE issued in the same second (same target info, so the AV echo
 * check cannot tell them apart): the proof covers the server challenge. */
START_TEST(replay_on_new_challenge_same_second)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct exchange x, y;
	uint8_t *captured;
	size_t captured_len;

	run_client(&cfg, &x);
	run_client(&cfg, &y);
	ck_assert(memcmp(x.chal + 24, y.chal + 24, 8) != 0); /* not secret: two server challenges */
	captured = x.auth;
	captured_len = x.auth_len;
	x.auth = y.auth;
	x.auth_len = y.auth_len;
	y.auth = captured;
	y.auth_len = captured_len;
	ck_assert_status(verify_default(&y), NTLM_STATUS_WRONG_PASSWORD);
	exchange_free(&x);
	exchange_free(&y);
}
END_TEST

/* ---- legacy responses under the default policy ---- */

/* NTLMv1-ESS with a wrong password: blocked before any password check,
 * so the answer does not depend on the password. */
START_TEST(ntlmv1_ess_wrong_password_blocked)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV1_ESS);
	struct exchange x;

	cfg.password = "WrongPass1";
	run_client(&cfg, &x);
	ck_assert_status(verify_default(&x), NTLM_STATUS_NTLM_BLOCKED);
	exchange_free(&x);
}
END_TEST

/* ---- anonymous ---- */

/* Encodes an AUTHENTICATE with empty NT response and LM Z(1) (MS-NLMP
 * 3.2.5.1.2: the anonymous form) for user into x->auth. */
static void null_session(struct exchange *x, const char *user)
{
	struct ntlm_authenticate a = {.flags = NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_ANONYMOUS};
	static const uint8_t z1[1] = {0};
	char *u = strdup(user), empty[] = "";

	ck_assert_ptr_nonnull(u);
	free(x->auth);
	a.user = u;
	a.domain = a.workstation = empty;
	a.lm_response = (struct ntlm_view){z1, 1};
	ck_assert_status(ntlm_authenticate_encode(&a, &x->auth, &x->auth_len), NTLM_OK);
	free(u);
}

/* A null session with LM Z(1) while anonymous is off. */
START_TEST(anonymous_lm_z1_refused)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct exchange x;

	run_client(&cfg, &x);
	null_session(&x, "");
	ck_assert_status(verify_default(&x), NTLM_STATUS_ANONYMOUS_REFUSED);
	exchange_free(&x);
}
END_TEST

/* The same null session naming a user: neither anonymous nor a response
 * for alice; malformed, never a logon. */
START_TEST(anonymous_with_user_name_refused)
{
	struct ntlm_initiator_config cfg = alice(NTLM_CLIENT_NTLMV2);
	struct exchange x;

	run_client(&cfg, &x);
	null_session(&x, "alice");
	ck_assert_status(verify_default(&x), NTLM_ERR_BAD_RESPONSE);
	exchange_free(&x);
}
END_TEST

static Suite *abuse_suite(void)
{
	Suite *s = suite_create("abuse");

	test_add_tcase(s, "drop_the_mic",
	               TESTS(drop_the_mic_baseline_passes, drop_the_mic_field_removed,
	                     drop_the_mic_avflags_bit_cleared, drop_the_mic_avflags_pair_stripped));
	test_add_tcase(s, "channel_binding_strip",
	               TESTS(channel_binding_strip_zeroed, channel_binding_strip_removed));
	test_add_tcase(s, "replay", TESTS(replay_on_new_challenge_same_second));
	test_add_tcase(s, "legacy", TESTS(ntlmv1_ess_wrong_password_blocked));
	test_add_tcase(s, "anonymous", TESTS(anonymous_lm_z1_refused, anonymous_with_user_name_refused));
	return s;
}

int main(void)
{
	return test_run_suite(abuse_suite());
}
