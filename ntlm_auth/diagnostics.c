/*
 * diagnostics.c: --diagnostics, Samba's self-test of ntlm_auth (its
 * diagnose_ntlm_auth()): with --username and --password, responses are
 * computed here and ntlmd is asked to verify them, a right one and a
 * broken one of each kind, and the session key ntlmd returns is compared
 * with the one computed here. Exit 0 when every test that ntlmd's policy
 * permits passed, 1 otherwise; each failure prints "Test <name> failed!"
 * on stderr as Samba does, with the NTSTATUS name.
 *
 * A response type the policy of the service refuses (NTLMv1, LM: status
 * NTLM_BLOCKED) is reported as not permitted, not as a failure: the
 * policy is ntlmd's to set (ntlmd.conf(5) ntlm_auth, lanman_auth).
 *
 * ntlmd is sent right responses only. Each one it refused would count as a
 * wrong password toward the account's lockout: a health check run with the
 * right password would lock the account. So the broken variants ("must
 * fail") are checked here, by libntlmssp's acceptor (the code ntlmd runs)
 * with the hash of the given password (local.c), and the broken plaintext
 * by comparing NT hashes; a broken variant runs only when ntlmd took its
 * right one. And once ntlmd refused a right response (the password given
 * is wrong, the account disabled or locked), it is asked nothing more: one
 * run counts as one failed logon at most.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "diagnostics.h"
#include "local.h"
#include "protocol.h"

enum diag_kind { DIAG_NTLMV2, DIAG_NTLMV1, DIAG_LM, DIAG_PLAINTEXT };

struct diag_test {
	const char *name;
	enum diag_kind kind;
	bool broken;  /* the response or password is altered: must fail */
	bool lm_only; /* run with --request-lm-key only */
};

static const struct diag_test diag_tests[] = {
    {"NTLMv2", DIAG_NTLMV2, false, false},
    {"NTLMv2, broken", DIAG_NTLMV2, true, false},
    {"NTLM", DIAG_NTLMV1, false, false},
    {"NTLM, broken", DIAG_NTLMV1, true, false},
    {"LM", DIAG_LM, false, true},
    {"Plaintext", DIAG_PLAINTEXT, false, false},
    {"Plaintext, broken", DIAG_PLAINTEXT, true, false},
};

/* MS-NLMP 2.2.2.7 NTLMv2_CLIENT_CHALLENGE with an AV list of MsvAvEOL only:
 * RespType, HiRespType, Z(6), TimeStamp, ChallengeFromClient, Z(4),
 * MsvAvEOL, then the Z(4) that 3.3.2's temp ends with. */
static size_t v2_blob(uint8_t blob[48], const uint8_t client_challenge[8])
{
	uint64_t now = ntlm_filetime_now();

	memset(blob, 0, 48);
	blob[0] = 1;
	blob[1] = 1;
	for (size_t i = 0; i < 8; i++)
		blob[8 + i] = (uint8_t)(now >> (8 * i));
	memcpy(blob + 16, client_challenge, 8);
	return 36;
}

/* The NT (or LM) response of the test and the session key it gives;
 * *ret_nt_len 0 when the response goes in the LM field. */
static enum ntlm_status diag_response(const struct diag_test *t, const char *user, const char *domain,
                                      const char *password, const uint8_t chal[8], uint8_t resp[64],
                                      size_t *ret_len, struct ntlm_hash *ret_key)
{
	struct ntlm_hash nt = {0}, v2 = {0};
	uint8_t cc[8], blob[48];
	size_t blob_len;
	enum ntlm_status st;

	if (t->kind == DIAG_LM) {
		if ((st = ntlm_lmowfv1(password, &nt)) == NTLM_OK &&
		    (st = ntlm_desl(&nt, chal, resp)) == NTLM_OK)
			*ret_len = 24;
		*ret_key = (struct ntlm_hash){0};
		goto out;
	}
	if ((st = ntlm_ntowfv1(password, &nt)) != NTLM_OK)
		goto out;
	if (t->kind == DIAG_NTLMV1) {
		if ((st = ntlm_desl(&nt, chal, resp)) == NTLM_OK &&
		    (st = ntlm_v1_session_base_key(&nt, ret_key)) == NTLM_OK)
			*ret_len = 24;
		goto out;
	}
	/* MS-NLMP 3.3.2 */
	if ((st = ntlm_random(cc, sizeof(cc))) != NTLM_OK ||
	    (st = ntlm_ntowfv2(&nt, user, domain, &v2)) != NTLM_OK)
		goto out;
	blob_len = v2_blob(blob, cc);
	if ((st = ntlm_ntproofstr(&v2, chal, blob, blob_len, resp)) != NTLM_OK ||
	    (st = ntlm_v2_session_base_key(&v2, resp, ret_key)) != NTLM_OK)
		goto out;
	memcpy(resp + 16, blob, blob_len);
	*ret_len = 16 + blob_len;
out:
	ntlm_wipe(&nt, sizeof(nt));
	ntlm_wipe(&v2, sizeof(v2));
	return st;
}

/* na_local's fallback: the broken variants ask the local acceptor only. */
static enum ntlm_status no_daemon(void *ctx, uint16_t type, const struct ntlm_writer *fields,
                                  struct ntlmd_reply *ret)
{
	(void)ctx;
	(void)type;
	(void)fields;
	(void)ret;
	return NTLM_ERR_INTERNAL;
}

/* "Plaintext, broken", here: the NT hash of a wrong password against the
 * given one's (what ntlmd's CHECK_PASSWORD compares). */
static enum ntlm_status local_plaintext(const char *password, const char *wrong)
{
	struct ntlm_hash want = {0}, got = {0};
	enum ntlm_status st;

	if ((st = ntlm_ntowfv1(password, &want)) == NTLM_OK && (st = ntlm_ntowfv1(wrong, &got)) == NTLM_OK)
		st = ntlm_equal_ct(want.bytes, got.bytes, sizeof(want.bytes)) ? NTLM_OK
		                                                              : NTLM_STATUS_WRONG_PASSWORD;
	ntlm_wipe(&want, sizeof(want));
	ntlm_wipe(&got, sizeof(got));
	return st;
}

/* One test: the verdict of ntlmd (of the local acceptor for a broken
 * variant), or NTLM_ERR_BACKEND_UNAVAILABLE; on success *ret_key_ok says
 * whether its session key is the one computed. */
static enum ntlm_status diag_run(const struct na_diagnostics *d, const struct diag_test *t, bool *ret_key_ok)
{
	const char *domain = d->domain != NULL ? d->domain : "";
	struct ntlm_writer fields;
	struct ntlmd_reply reply = {0};
	struct ntlm_hash key = {0};
	uint8_t chal[8], resp[64];
	size_t resp_len = 0, got_len;
	const uint8_t *got;
	enum ntlm_status st;

	struct na_local local = {.password = d->password, .separator = '\\', .fallback = no_daemon};

	*ret_key_ok = true;
	if (t->kind == DIAG_PLAINTEXT && t->broken)
		return local_plaintext(d->password, "\x01-not-the-password");
	ntlmd_fields_init(&fields);
	ntlmd_put_string(&fields, NTLMD_TAG_SERVICE, d->service);
	ntlmd_put_string(&fields, NTLMD_TAG_USER, d->user);
	ntlmd_put_string(&fields, NTLMD_TAG_DOMAIN, domain);
	if (t->kind == DIAG_PLAINTEXT) {
		ntlmd_put_string(&fields, NTLMD_TAG_PASSWORD, d->password);
		st = d->call(d->call_ctx, NTLMD_REQ_CHECK_PASSWORD, &fields, &reply);
		goto asked;
	}
	if (ntlm_random(chal, sizeof(chal)) != NTLM_OK ||
	    diag_response(t, d->user, domain, d->password, chal, resp, &resp_len, &key) != NTLM_OK) {
		ntlm_writer_clear(&fields);
		return NTLM_ERR_INTERNAL;
	}
	if (t->broken) /* the NTProofStr, or the DESL output: a wrong password, not a malformed response */
		resp[0] ^= 1;
	ntlmd_put_bytes(&fields, NTLMD_TAG_SERVER_CHALLENGE, chal, sizeof(chal));
	ntlmd_put_bytes(&fields, t->kind == DIAG_LM ? NTLMD_TAG_LM_RESPONSE : NTLMD_TAG_NT_RESPONSE, resp,
	                resp_len);
	/* a broken response goes to the local acceptor, never to ntlmd */
	st = t->broken ? na_local_call(&local, NTLMD_REQ_VERIFY_RESPONSE, &fields, &reply)
	               : d->call(d->call_ctx, NTLMD_REQ_VERIFY_RESPONSE, &fields, &reply);
asked:
	ntlm_writer_clear(&fields);
	ntlm_wipe(resp, sizeof(resp));
	if (st != NTLM_OK) {
		ntlm_wipe(&key, sizeof(key));
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	}
	st = reply.status;
	if (st == NTLM_OK && (t->kind == DIAG_NTLMV1 || t->kind == DIAG_NTLMV2))
		*ret_key_ok =
		    ntlmd_frame_get_bytes(&reply.frame, NTLMD_TAG_SESSION_KEY, &got, &got_len) == NTLM_OK &&
		    got_len == sizeof(key.bytes) && ntlm_equal_ct(got, key.bytes, sizeof(key.bytes));
	ntlm_wipe(&key, sizeof(key));
	ntlmd_reply_clear(&reply);
	return st;
}

/* MS-NLMP 3.3.1 LMOWFv1 exists for passwords of up to 14 characters. */
static bool has_lm_hash(const char *password)
{
	struct ntlm_hash lm;
	bool ok = ntlm_lmowfv1(password, &lm) == NTLM_OK;

	ntlm_wipe(&lm, sizeof(lm));
	return ok;
}

int na_diagnostics_run(const struct na_diagnostics *d)
{
	unsigned failed = 0;
	bool took[DIAG_PLAINTEXT + 1] = {false}; /* ntlmd took the right response of the kind */
	enum ntlm_status refused = NTLM_OK;      /* ntlmd refused a right response so */

	for (size_t i = 0; i < sizeof(diag_tests) / sizeof(diag_tests[0]); i++) {
		const struct diag_test *t = &diag_tests[i];
		bool key_ok;
		enum ntlm_status st;

		if (t->lm_only && !d->request_lm_key)
			continue;
		if (t->broken && !took[t->kind]) {
			fprintf(stderr,
			        "ntlm_auth: diagnostics: test %s not run: its right response was not taken\n",
			        t->name);
			continue;
		}
		if (!t->broken && refused != NTLM_OK) {
			fprintf(
			    stderr,
			    "ntlm_auth: diagnostics: test %s not run: ntlmd refused the password given (%s); "
			    "it is asked nothing more, not to count toward the account's lockout\n",
			    t->name, ntlm_status_name(refused));
			continue;
		}
		if (t->kind == DIAG_LM && !has_lm_hash(d->password)) {
			fprintf(stderr,
			        "ntlm_auth: diagnostics: test %s not run: the password has no LM hash "
			        "(over 14 characters)\n",
			        t->name);
			continue;
		}
		st = diag_run(d, t, &key_ok);
		if (st == NTLM_STATUS_NTLM_BLOCKED) {
			fprintf(stderr,
			        "ntlm_auth: diagnostics: test %s not run: %s (ntlmd's policy refuses it)\n",
			        t->name, ntlm_status_name(st));
		} else if (st == NTLM_ERR_BACKEND_UNAVAILABLE || st == NTLM_ERR_INTERNAL ||
		           (t->broken ? st == NTLM_OK : st != NTLM_OK || !key_ok)) {
			fprintf(stderr, "diagnose_ntlm_auth: Test %s failed! (%s%s)\n", t->name,
			        ntlm_status_name(st),
			        st == NTLM_OK && !key_ok ? ", session key differs" : "");
			failed++;
			if (!t->broken && st != NTLM_OK && st != NTLM_ERR_BACKEND_UNAVAILABLE &&
			    st != NTLM_ERR_INTERNAL)
				refused = st;
			else if (!t->broken)
				took[t->kind] = st == NTLM_OK;
		} else {
			fprintf(stderr, "ntlm_auth: diagnostics: test %s passed (%s%s)\n", t->name,
			        ntlm_status_name(st),
			        t->broken ? ", checked here: ntlmd is sent no wrong response" : "");
			if (!t->broken)
				took[t->kind] = true;
		}
	}
	return failed == 0 ? 0 : 1;
}
