/*
 * bench_ntlmd: VERIFY requests per second through a running ntlmd, and the
 * latency of each request (p50, p99), with 1 and 2 concurrent clients, set
 * beside the same verifications done in-process by libntlmssp in the same
 * run (the floor the daemon adds its socket round trip, framing, backend
 * lookup, challenge bookkeeping and audit log to). Each client either
 * keeps one connection for all its requests (ntlmd_client, "kept") or
 * makes one per request (ntlmd_call, "one-shot").
 *
 * The exchanges are prepared beforehand (initiator NTLMv2 + MIC, each with
 * its own CHALLENGE built in-process, so the daemon verifies them in its
 * "verify mode" and every request is a fresh, non-replayed exchange).
 *
 * usage: bench_ntlmd SOCKET USER|@FILE PASSWORD [REQUESTS-PER-CLIENT [MODE]]
 * MODE: all (the default: in-process, then 1 and 2 clients, one-shot and
 * kept), or kept or one-shot alone (1 client only). With @FILE (one name a
 * line, every user with PASSWORD) the exchanges take the users in turn, so
 * that each request looks up the next one (ldap-bench.sh's scale case).
 */
#include <config.h>

#include "bench_users.h"
#include "client.h"
#include "ntlmssp.h"
#include "protocol.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct exchange {
	uint8_t *neg, *chal, *auth;
	size_t neg_len, chal_len, auth_len;
};

static const struct ntlm_server_names names = {.nb_computer = "BENCH", .nb_domain = "BENCH"};

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* n exchanges for the users in turn with password, each with its own
 * CHALLENGE. */
static struct exchange *make_exchanges(size_t n, const struct bench_users *users, const char *password)
{
	struct ntlm_initiator_config cfg = {.domain = "BENCH", .workstation = "WS", .password = password};
	struct exchange *x = calloc(n, sizeof(*x));

	for (size_t i = 0; x != NULL && i < n; i++) {
		cfg.user = bench_users_at(users, i);
		if (ntlm_initiator_negotiate(&cfg, &x[i].neg, &x[i].neg_len) != NTLM_OK ||
		    ntlm_acceptor_challenge(&names, x[i].neg, x[i].neg_len, ntlm_filetime_now(), &x[i].chal,
		                            &x[i].chal_len) != NTLM_OK ||
		    ntlm_initiator_authenticate(&cfg, x[i].neg, x[i].neg_len, x[i].chal, x[i].chal_len,
		                                &x[i].auth, &x[i].auth_len, NULL) != NTLM_OK) {
			fprintf(stderr, "bench_ntlmd: cannot build exchange %zu\n", i);
			exit(1);
		}
	}
	return x;
}

static void free_exchanges(struct exchange *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(x[i].neg);
		free(x[i].chal);
		free(x[i].auth);
	}
	free(x);
}

/* One VERIFY request, on the kept connection kept (NULL: a connection of
 * its own); exits on anything but success. */
static void verify_once(const char *socket, struct ntlmd_client *kept, const struct exchange *x)
{
	struct ntlm_writer w;
	struct ntlmd_reply r;
	enum ntlm_status st;

	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_SERVICE, "bench");
	ntlmd_put_bytes(&w, NTLMD_TAG_NEGOTIATE, x->neg, x->neg_len);
	ntlmd_put_bytes(&w, NTLMD_TAG_CHALLENGE, x->chal, x->chal_len);
	ntlmd_put_bytes(&w, NTLMD_TAG_AUTHENTICATE, x->auth, x->auth_len);
	ntlmd_put_string(&w, NTLMD_TAG_CLIENT_ADDRESS, "127.0.0.1");
	st = kept != NULL ? ntlmd_client_call(kept, NTLMD_REQ_VERIFY, &w, &r)
	                  : ntlmd_call(socket, NTLMD_REQ_VERIFY, &w, NTLMD_CLIENT_TIMEOUT_MS, &r);
	ntlm_writer_clear(&w);
	if (st == NTLM_OK)
		st = r.status;
	if (st != NTLM_OK) {
		fprintf(stderr, "bench_ntlmd: VERIFY failed: %s\n", ntlm_status_name(st));
		exit(1);
	}
	ntlmd_reply_clear(&r);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Runs n requests (on one kept connection when keep); writes each latency
 * (us) to lat and returns the elapsed seconds. The kept connection is made
 * by the first request, inside the timing, as a real client's would be. */
static double run_client(const char *socket, bool keep, const struct exchange *x, size_t n, double *lat)
{
	struct ntlmd_client *kept = keep ? ntlmd_client_new(socket, 0) : NULL;
	double start = now_us();

	if (keep && kept == NULL)
		exit(1);
	for (size_t i = 0; i < n; i++) {
		double t = now_us();
		verify_once(socket, kept, &x[i]);
		lat[i] = now_us() - t;
	}
	start = (now_us() - start) / 1e6;
	ntlmd_client_free(kept);
	return start;
}

/* Runs `clients` processes of n requests each; prints rate and latencies. */
static double run_concurrent(const char *socket, bool keep, struct exchange *x, size_t n, int clients)
{
	int fds[2][2];
	double total = 0, elapsed = 0, *lat = calloc((size_t)clients * n, sizeof(double));

	for (int c = 0; c < clients; c++) {
		if (pipe(fds[c]) < 0)
			exit(1);
		if (fork() == 0) {
			double e = run_client(socket, keep, x + (size_t)c * n, n, lat);
			if (write(fds[c][1], &e, sizeof(e)) != sizeof(e) ||
			    write(fds[c][1], lat, n * sizeof(double)) != (ssize_t)(n * sizeof(double)))
				_exit(1);
			_exit(0);
		}
		close(fds[c][1]);
	}
	for (int c = 0; c < clients; c++) {
		double e = 0;
		size_t got = 0;
		if (read(fds[c][0], &e, sizeof(e)) != sizeof(e))
			exit(1);
		while (got < n * sizeof(double)) {
			ssize_t r =
			    read(fds[c][0], (char *)(lat + (size_t)c * n) + got, n * sizeof(double) - got);
			if (r <= 0)
				exit(1);
			got += (size_t)r;
		}
		close(fds[c][0]);
		elapsed = e > elapsed ? e : elapsed;
		wait(NULL);
	}
	total = (double)clients * (double)n / elapsed;
	qsort(lat, (size_t)clients * n, sizeof(double), cmp_double);
	printf("ntlmd VERIFY, %d client%s, %-8s: %.0f requests/s, latency p50 %.1f us, p99 %.1f us\n",
	       clients, clients == 1 ? " " : "s", keep ? "kept" : "one-shot", total,
	       lat[(size_t)clients * n / 2], lat[(size_t)clients * n * 99 / 100]);
	free(lat);
	return total;
}

/* The in-process lookup: one fixed entry (ctx), as a files-backend hit. */
static enum ntlm_status fixed_lookup(void *ctx, const char *user, const char *domain,
                                     struct ntlm_credentials *ret)
{
	(void)user;
	(void)domain;
	*ret = *(const struct ntlm_credentials *)ctx;
	return NTLM_OK;
}

/* In-process verifications per second of the same messages (the floor). */
static double run_in_process(const struct exchange *x, size_t n, const char *password)
{
	struct ntlm_credentials creds = {0};
	struct ntlm_policy p;
	double start;

	if (ntlm_ntowfv1(password, &creds.nt_hash) != NTLM_OK)
		exit(1);
	ntlm_policy_init(&p);
	start = now_us();
	for (size_t i = 0; i < n; i++) {
		struct ntlm_accept_result r;
		if (ntlm_acceptor_verify(&p, x[i].neg, x[i].neg_len, x[i].chal, x[i].chal_len, x[i].auth,
		                         x[i].auth_len, NULL, fixed_lookup, &creds, ntlm_filetime_now(),
		                         &r) != NTLM_OK) {
			fprintf(stderr, "bench_ntlmd: in-process verification failed: %s\n",
			        ntlm_status_name(r.status));
			exit(1);
		}
		ntlm_accept_result_clear(&r);
	}
	ntlm_wipe(&creds, sizeof(creds));
	return (double)n / ((now_us() - start) / 1e6);
}

int main(int argc, char **argv)
{
	size_t n = argc > 4 ? (size_t)atol(argv[4]) : 5000;
	const char *mode = argc > 5 ? argv[5] : "all";
	struct bench_users users;
	struct exchange *x;
	double one, two, one_kept, two_kept, floor_rate;

	if (argc < 4 || n < 100 || n > 1000000 ||
	    (strcmp(mode, "all") != 0 && strcmp(mode, "kept") != 0 && strcmp(mode, "one-shot") != 0)) {
		fprintf(stderr, "usage: bench_ntlmd SOCKET USER|@FILE PASSWORD "
		                "[REQUESTS-PER-CLIENT (100-1000000) [all|kept|one-shot]]\n");
		return 2;
	}
	if (bench_users_load(argv[2], &users) != 0)
		return 1;
	if (strcmp(mode, "all") != 0) {
		x = make_exchanges(n, &users, argv[3]);
		run_concurrent(argv[1], strcmp(mode, "kept") == 0, x, n, 1);
		free_exchanges(x, n);
		bench_users_free(&users);
		return 0;
	}
	x = make_exchanges(7 * n, &users, argv[3]);
	floor_rate = run_in_process(x, n, argv[3]);
	one = run_concurrent(argv[1], false, x + n, n, 1);
	one_kept = run_concurrent(argv[1], true, x + 2 * n, n, 1);
	two = run_concurrent(argv[1], false, x + 3 * n, n, 2);
	two_kept = run_concurrent(argv[1], true, x + 5 * n, n, 2);
	printf("in-process ntlm_acceptor_verify of the same messages: %.0f/s (%.2f us)\n", floor_rate,
	       1e6 / floor_rate);
	printf("ratio in-process / ntlmd: one-shot %.1fx with 1 client, %.1fx with 2; kept %.1fx with 1 "
	       "client, %.1fx with 2\n",
	       floor_rate / one, floor_rate / two, floor_rate / one_kept, floor_rate / two_kept);
	printf("kept / one-shot: %.2fx with 1 client, %.2fx with 2\n", one_kept / one, two_kept / two);
	free_exchanges(x, 7 * n);
	bench_users_free(&users);
	return 0;
}
