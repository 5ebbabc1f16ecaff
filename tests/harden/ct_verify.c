/*
 * ct_verify.c: a constant-time check in the ctgrind style. Run under
 * valgrind memcheck (tests/harden/test-ct.sh): the secret inputs (NT
 * hashes, proofs, MICs) are marked undefined with the memcheck client
 * requests, so any branch or memory index that depends on them is reported
 * as a use of an uninitialised value and fails the run.
 *
 * The one place where secret-derived data may become public is the outcome
 * of ntlm_equal_ct() (equal / not equal): a valgrind function wrapper calls
 * the library's ntlm_equal_ct, which is itself checked, and marks only its
 * boolean result as defined. Everything the acceptor computes before the
 * comparison (NTOWFv2, NTProofStr, the session keys, the MIC) is checked.
 *
 * Usage: ct_verify            the checks (valgrind must report no error)
 *        ct_verify --leaky    self-check: an early-exit compare on secret
 *                             data (valgrind must report it)
 *        ct_verify --lookup   self-check: a table indexed by a secret byte
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ntlmssp.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_MEMCHECK_H 1
#endif
#endif

#ifndef HAVE_MEMCHECK_H
int main(void)
{
	puts("ct_verify: built without <valgrind/memcheck.h>");
	return 77;
}
#else

/* ---- the declassification point ---- */

static unsigned long comparisons;

/* Wraps ntlm_equal_ct of libntlmssp.so (the Z-encoded soname is
 * "libntlmssp.so*"): the real function runs under memcheck, then its result
 * (public by design: the caller must learn equal / not equal) is defined. */
bool I_WRAP_SONAME_FNNAME_ZU(libntlmsspZdsoZa, ntlm_equal_ct)(const void *a, const void *b, size_t n);
bool I_WRAP_SONAME_FNNAME_ZU(libntlmsspZdsoZa, ntlm_equal_ct)(const void *a, const void *b, size_t n)
{
	OrigFn fn;
	unsigned long r;
	unsigned char equal;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_WWW(r, fn, a, b, n);
	equal = (unsigned char)r;
	VALGRIND_MAKE_MEM_DEFINED(&equal, sizeof(equal));
	comparisons++;
	return equal != 0;
}

static void make_secret(void *p, size_t n)
{
	VALGRIND_MAKE_MEM_UNDEFINED(p, n);
}

/* ---- checks ---- */

static int failures;

#define EXPECT(cond, ...)                                     \
	do {                                                  \
		if (!(cond)) {                                \
			fprintf(stderr, "ct_verify: FAIL: "); \
			fprintf(stderr, __VA_ARGS__);         \
			fputc('\n', stderr);                  \
			failures++;                           \
		}                                             \
	} while (0)

static const char password[] = "Passw0rd!";

/* The account store: one user whose NT hash is secret from the moment it
 * leaves the store. */
static enum ntlm_status lookup(void *ctx, const char *user, const char *domain, struct ntlm_credentials *ret)
{
	(void)ctx;
	(void)domain;
	if (strcasecmp(user, "alice") != 0)
		return NTLM_STATUS_NO_SUCH_USER;
	if (ntlm_ntowfv1(password, &ret->nt_hash) != NTLM_OK)
		return NTLM_ERR_CRYPTO;
	make_secret(&ret->nt_hash, sizeof(ret->nt_hash));
	ret->has_lm_hash = false;
	ret->account_status = NTLM_OK;
	return NTLM_OK;
}

static const struct ntlm_server_names names = {
    .nb_computer = "SERVER",
    .nb_domain = "DOMAIN",
    .dns_computer = "server.example.test",
    .dns_domain = "example.test",
};

/* ntlm_equal_ct over secret buffers of the sizes the library compares:
 * proofs, MICs, hashes and signatures (16), NTLMv1 / LM responses (24). */
static void check_equal_ct(void)
{
	static const size_t sizes[] = {16, 24, 8, 4};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t a[24], b[24];
		size_t n = sizes[i];

		for (size_t j = 0; j < n; j++)
			a[j] = b[j] = (uint8_t)(0x5a ^ (j * 7));
		make_secret(a, n);
		make_secret(b, n);
		EXPECT(ntlm_equal_ct(a, b, n), "equal secrets of %zu bytes compare unequal", n);
		b[n - 1] ^= 1; /* a secret-dependent flip: b stays undefined */
		make_secret(b, n);
		EXPECT(!ntlm_equal_ct(a, b, n), "different secrets of %zu bytes compare equal", n);
	}
}

/* One exchange through the library's initiator and acceptor: the verify
 * path from the account store's hash to the NTProofStr and MIC checks. */
struct exchange {
	uint8_t *neg, *chal, *auth;
	size_t neg_len, chal_len, auth_len;
};

static bool run_client(const char *pw, bool no_mic, struct exchange *x)
{
	struct ntlm_initiator_config cfg = {
	    .user = "alice",
	    .domain = "DOMAIN",
	    .workstation = "WS1",
	    .password = pw,
	    .mode = NTLM_CLIENT_NTLMV2,
	    .no_mic = no_mic,
	    /* KEY_EXCH makes the acceptor decrypt the session key with RC4,
	     * whose key schedule indexes a table with key bytes (see
	     * tests/harden/README.md); left out here */
	    .drop_flags = NTLM_NEGOTIATE_KEY_EXCH,
	};
	uint64_t now = ntlm_filetime_now();

	memset(x, 0, sizeof(*x));
	return ntlm_initiator_negotiate(&cfg, &x->neg, &x->neg_len) == NTLM_OK &&
	       ntlm_acceptor_challenge(&names, x->neg, x->neg_len, now, &x->chal, &x->chal_len) == NTLM_OK &&
	       ntlm_initiator_authenticate(&cfg, x->neg, x->neg_len, x->chal, x->chal_len, &x->auth,
	                                   &x->auth_len, NULL) == NTLM_OK;
}

static void exchange_free(struct exchange *x)
{
	free(x->neg);
	free(x->chal);
	free(x->auth);
}

static enum ntlm_status verify(const struct exchange *x, struct ntlm_accept_result *r)
{
	struct ntlm_policy policy;

	ntlm_policy_init(&policy);
	policy.require_mic = true;
	return ntlm_acceptor_verify(&policy, x->neg, x->neg_len, x->chal, x->chal_len, x->auth, x->auth_len,
	                            NULL, lookup, NULL, ntlm_filetime_now(), r);
}

static void check_verify(const char *what, const char *pw, bool tamper_mic, enum ntlm_status want,
                         unsigned long min_comparisons)
{
	struct exchange x;
	struct ntlm_accept_result r;
	unsigned long before = comparisons;
	enum ntlm_status st;

	if (!run_client(pw, false, &x)) {
		EXPECT(false, "%s: the initiator failed", what);
		exchange_free(&x);
		return;
	}
	/* the MIC is the last 16 bytes of the fixed header (MS-NLMP 2.2.1.3) */
	if (tamper_mic && x.auth_len >= 88)
		x.auth[72 + 15] ^= 0x01;
	st = verify(&x, &r);
	EXPECT(st == want, "%s: status %s, expected %s", what, ntlm_status_name(st), ntlm_status_name(want));
	EXPECT(comparisons - before >= min_comparisons, "%s: %lu ntlm_equal_ct calls, expected at least %lu",
	       what, comparisons - before, min_comparisons);
	if (st == NTLM_OK)
		EXPECT(r.mic == NTLM_VERDICT_VALID, "%s: MIC verdict %s", what, ntlm_verdict_name(r.mic));
	ntlm_accept_result_clear(&r);
	exchange_free(&x);
}

/* The bare challenge/response path (MS-CHAP style callers). */
static void check_verify_response(void)
{
	struct exchange x;
	struct ntlm_authenticate m;
	struct ntlm_accept_result r;
	struct ntlm_policy policy;
	const uint8_t *server_challenge;
	enum ntlm_status st;

	if (!run_client(password, true, &x)) { /* no MSVAVFLAGS MIC bit: there is no MIC here */
		EXPECT(false, "verify_response: the initiator failed");
		exchange_free(&x);
		return;
	}
	ntlm_policy_init(&policy);
	st = ntlm_authenticate_decode(x.auth, x.auth_len, &m);
	EXPECT(st == NTLM_OK, "verify_response: decode %s", ntlm_status_name(st));
	if (st == NTLM_OK) {
		server_challenge = x.chal + 24; /* ServerChallenge (MS-NLMP 2.2.1.2) */
		st = ntlm_acceptor_verify_response(&policy, "alice", "DOMAIN", server_challenge, NULL, 0,
		                                   m.nt_response.data, m.nt_response.len, lookup, NULL,
		                                   ntlm_filetime_now(), &r);
		EXPECT(st == NTLM_OK, "verify_response: status %s", ntlm_status_name(st));
		ntlm_accept_result_clear(&r);
		ntlm_authenticate_clear(&m);
	}
	exchange_free(&x);
}

/* ---- self-checks: what the run must catch ---- */

/* An early-exit compare: its running time depends on where the inputs
 * first differ. */
static bool leaky_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return false;
	}
	return true;
}

static int self_check_leaky(void)
{
	uint8_t a[16], b[16];

	memset(a, 0x11, sizeof(a));
	memcpy(b, a, sizeof(b));
	make_secret(a, sizeof(a));
	return leaky_equal(a, b, sizeof(a)) ? 0 : 1;
}

static int self_check_lookup(void)
{
	static const uint8_t table[256] = {1, 2, 3};
	uint8_t key[1] = {2};

	make_secret(key, sizeof(key));
	return table[key[0]] == 3 ? 0 : 1; /* the index is secret */
}

int main(int argc, char **argv)
{
	if (!RUNNING_ON_VALGRIND) {
		fputs("ct_verify: run me under valgrind (tests/harden/test-ct.sh)\n", stderr);
		return 2;
	}
	if (argc > 1 && strcmp(argv[1], "--leaky") == 0)
		return self_check_leaky() == 0 ? 0 : 2;
	if (argc > 1 && strcmp(argv[1], "--lookup") == 0)
		return self_check_lookup() == 0 ? 0 : 2;

	check_equal_ct();
	check_verify("NTLMv2 with MIC, right password", password, false, NTLM_OK, 2);
	check_verify("NTLMv2, wrong password", "Wrong-password", false, NTLM_STATUS_WRONG_PASSWORD, 1);
	check_verify("NTLMv2, tampered MIC", password, true, NTLM_STATUS_MIC_INVALID, 2);
	check_verify_response();
	if (comparisons == 0)
		EXPECT(false, "the ntlm_equal_ct wrapper never ran: nothing was declassified");
	printf("ct_verify: %lu ntlm_equal_ct calls checked, %d failures\n", comparisons, failures);
	return failures == 0 ? 0 : 2;
}
#endif
