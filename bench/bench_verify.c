/*
 * bench_verify: NTLMv2+MIC verifications per second on one core, set beside
 * the raw crypto they cannot avoid, measured in the same run.
 *
 * The verification is ntlm_acceptor_verify() on a real exchange built by
 * the initiator (NTLMv2, MIC, channel bindings, KEY_EXCH): decoding three
 * messages, the AV-pair echo, the skew check, NTOWFv2, NTProofStr, the
 * session base key, the RC4 key unwrap, the MIC and the channel-binding
 * hash. The baseline is a bare loop of the four HMAC-MD5 of such a
 * verification over inputs of the same sizes (NTOWFv2 over user+domain,
 * NTProofStr over challenge+blob, the session base key, the MIC over the
 * three messages), done with OpenSSL's fastest path for small inputs: the
 * low-level MD5 functions with a hand-made HMAC.
 *
 * usage: bench_verify [SECONDS-PER-ROUND] [ROUNDS]   (defaults 1 and 5; run.sh uses 0.5 and 9)
 * Prints one line per round and the medians.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "ntlmssp.h"

#include <openssl/md5.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct ntlm_server_names names = {
    .nb_computer = "SERVER",
    .nb_domain = "DOMAIN",
    .dns_computer = "server.example.test",
    .dns_domain = "example.test",
};

static struct ntlm_hash user_hash;

static enum ntlm_status lookup(void *ctx, const char *user, const char *domain, struct ntlm_credentials *ret)
{
	(void)ctx;
	(void)user;
	(void)domain;
	ret->nt_hash = user_hash;
	ret->has_lm_hash = false;
	ret->account_status = NTLM_OK;
	return NTLM_OK;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* HMAC-MD5 with the low-level MD5 API (RFC 2104). */
static void hmac_md5_raw(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t len, uint8_t out[16])
{
	uint8_t k[64] = {0}, pad[64];
	MD5_CTX c;

	memcpy(k, key, key_len); /* keys here are <= 64 bytes */
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	MD5_Init(&c);
	MD5_Update(&c, pad, 64);
	MD5_Update(&c, msg, len);
	MD5_Final(out, &c);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	MD5_Init(&c);
	MD5_Update(&c, pad, 64);
	MD5_Update(&c, out, 16);
	MD5_Final(out, &c);
}

struct exchange {
	uint8_t *neg, *chal, *auth;
	size_t neg_len, chal_len, auth_len;
	uint64_t now;
	struct ntlm_channel_bindings cb;
};

static const uint8_t app_data[] = "tls-server-end-point:0123456789abcdef0123456789abcdef";

static void make_exchange(struct exchange *x)
{
	struct ntlm_initiator_config cfg = {
	    .user = "alice",
	    .domain = "DOMAIN",
	    .workstation = "WS1",
	    .password = "Passw0rd!",
	    .channel_bindings = &x->cb,
	};

	x->cb = (struct ntlm_channel_bindings){.application_data = {app_data, sizeof(app_data) - 1}};
	x->now = ntlm_filetime_now();
	if (ntlm_ntowfv1("Passw0rd!", &user_hash) != NTLM_OK ||
	    ntlm_initiator_negotiate(&cfg, &x->neg, &x->neg_len) != NTLM_OK ||
	    ntlm_acceptor_challenge(&names, x->neg, x->neg_len, x->now, &x->chal, &x->chal_len) != NTLM_OK ||
	    ntlm_initiator_authenticate(&cfg, x->neg, x->neg_len, x->chal, x->chal_len, &x->auth,
	                                &x->auth_len, NULL) != NTLM_OK) {
		fprintf(stderr, "bench_verify: cannot build the exchange\n");
		exit(1);
	}
}

/* Verifications per second over `seconds`; with_cb also checks the channel
 * bindings (one more MD5, over the gss_channel_bindings_struct). */
static double run_verify(const struct exchange *x, double seconds, bool with_cb)
{
	struct ntlm_policy p;
	uint64_t n = 0;
	double start = now_seconds(), elapsed;

	ntlm_policy_init(&p);
	p.require_mic = true;
	p.channel_bindings = with_cb ? NTLM_CB_REQUIRED : NTLM_CB_OFF;
	do {
		for (int i = 0; i < 1000; i++) {
			struct ntlm_accept_result r;
			if (ntlm_acceptor_verify(&p, x->neg, x->neg_len, x->chal, x->chal_len, x->auth,
			                         x->auth_len, with_cb ? &x->cb : NULL, lookup, NULL, x->now,
			                         &r) != NTLM_OK) {
				fprintf(stderr, "bench_verify: verification failed: %s\n",
				        ntlm_status_name(r.status));
				exit(1);
			}
			ntlm_accept_result_clear(&r);
		}
		n += 1000;
		elapsed = now_seconds() - start;
	} while (elapsed < seconds);
	return (double)n / elapsed;
}

/* The four HMAC-MD5 of one verification, per second. */
static double run_raw(const struct exchange *x, double seconds)
{
	uint8_t ntowf[16], proof[16], sbk[16], mic[16];
	size_t blob_len = x->auth_len > 200 ? x->auth_len - 150 : 100; /* about the NTLMv2 blob's size */
	size_t mic_len = x->neg_len + x->chal_len + x->auth_len;
	uint8_t *buf = calloc(1, mic_len + 8);
	static const uint8_t user_domain[] = "A\0L\0I\0C\0E\0D\0O\0M\0A\0I\0N\0";
	volatile uint8_t sink = 0;
	uint64_t n = 0;
	double start = now_seconds(), elapsed;

	memcpy(buf, x->neg, x->neg_len);
	memcpy(buf + x->neg_len, x->chal, x->chal_len);
	memcpy(buf + x->neg_len + x->chal_len, x->auth, x->auth_len);
	do {
		for (int i = 0; i < 1000; i++) {
			hmac_md5_raw(user_hash.bytes, 16, user_domain, sizeof(user_domain) - 1, ntowf);
			hmac_md5_raw(ntowf, 16, buf, 8 + blob_len, proof);
			hmac_md5_raw(ntowf, 16, proof, 16, sbk);
			hmac_md5_raw(sbk, 16, buf, mic_len, mic);
			sink ^= mic[0];
		}
		n += 1000;
		elapsed = now_seconds() - start;
	} while (elapsed < seconds);
	free(buf);
	(void)sink;
	return (double)n / elapsed;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	double verify[64], verify_cb[64], raw[64], ratio[64], ratio_cb[64];
	struct exchange x;
	int mid;

	if (seconds <= 0 || seconds > 60 || rounds < 1 || rounds > 64) {
		fprintf(stderr, "usage: bench_verify [SECONDS-PER-ROUND (0-60)] [ROUNDS (1-64)]\n");
		return 2;
	}
	make_exchange(&x);
	printf("NTLMv2+MIC verification with KEY_EXCH (%zu+%zu+%zu byte messages) vs 4x HMAC-MD5, one core\n",
	       x.neg_len, x.chal_len, x.auth_len);
	for (int r = 0; r < rounds; r++) {
		raw[r] = run_raw(&x, seconds);
		verify[r] = run_verify(&x, seconds, false);
		verify_cb[r] = run_verify(&x, seconds, true);
		ratio[r] = raw[r] / verify[r];
		ratio_cb[r] = raw[r] / verify_cb[r];
		printf("round %d: raw %.0f/s (%.2f us)  verify %.0f/s (%.2f us) %.2fx  +CB %.0f/s (%.2f us) "
		       "%.2fx\n",
		       r + 1, raw[r], 1e6 / raw[r], verify[r], 1e6 / verify[r], ratio[r], verify_cb[r],
		       1e6 / verify_cb[r], ratio_cb[r]);
	}
	qsort(verify, (size_t)rounds, sizeof(double), cmp_double);
	qsort(verify_cb, (size_t)rounds, sizeof(double), cmp_double);
	qsort(raw, (size_t)rounds, sizeof(double), cmp_double);
	qsort(ratio, (size_t)rounds, sizeof(double), cmp_double);
	qsort(ratio_cb, (size_t)rounds, sizeof(double), cmp_double);
	mid = rounds / 2;
	printf("median raw HMAC-MD5 floor (4 HMACs): %.0f/s (%.2f us)\n", raw[mid], 1e6 / raw[mid]);
	printf("median NTLMv2+MIC verify:            %.0f/s per core (%.2f us), ratio %.2fx (target <= 2x)\n",
	       verify[mid], 1e6 / verify[mid], ratio[mid]);
	printf("median NTLMv2+MIC+CB verify:         %.0f/s per core (%.2f us), ratio %.2fx\n",
	       verify_cb[mid], 1e6 / verify_cb[mid], ratio_cb[mid]);
	free(x.neg);
	free(x.chal);
	free(x.auth);
	return 0;
}
