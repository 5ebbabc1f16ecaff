/*
 * bench_concurrent: VERIFY requests per second through a running ntlmd
 * from several concurrent clients for a fixed time, and the latency of
 * each request (p50, p99). Each client is a process with one kept
 * connection; client i cycles through the users from the i-th on, each
 * request a fresh exchange against a CHALLENGE built in-process (ntlmd's
 * verify mode: no CHALLENGE round trip, no replay), so that with the
 * ldap cache off every request is a directory lookup.
 *
 * usage: bench_concurrent [-k] [-c CLIENTS] [-t SECONDS] [-d DOMAIN] SOCKET PASSWORD USER...
 *   -k  keep going when a reply is not a success (counted); else the
 *       first one ends the run with status 1
 * Prints one line:
 *   CLIENTS clients, S s: N requests, R/s; latency p50 A us, p99 B us, max C us; F not successful
 */
#include <config.h>

#include "client.h"
#include "ntlmssp.h"
#include "protocol.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PER_CLIENT 200000

/* What each client leaves for the parent (shared memory). */
struct result {
	size_t n, failed;
	uint32_t latency_us[MAX_PER_CLIENT];
};

static const struct ntlm_server_names names = {.nb_computer = "BENCH", .nb_domain = "BENCH"};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One VERIFY of user on c: true when it succeeded. */
static bool verify_once(struct ntlmd_client *c, const char *user, const char *domain, const char *password)
{
	struct ntlm_initiator_config cfg = {
	    .user = user, .domain = domain, .workstation = "WS", .password = password};
	uint8_t *neg = NULL, *chal = NULL, *auth = NULL;
	size_t neg_len, chal_len, auth_len;
	struct ntlm_writer w;
	struct ntlmd_reply r;
	enum ntlm_status st = NTLM_ERR_INTERNAL;

	if (ntlm_initiator_negotiate(&cfg, &neg, &neg_len) != NTLM_OK ||
	    ntlm_acceptor_challenge(&names, neg, neg_len, ntlm_filetime_now(), &chal, &chal_len) != NTLM_OK ||
	    ntlm_initiator_authenticate(&cfg, neg, neg_len, chal, chal_len, &auth, &auth_len, NULL) !=
	        NTLM_OK)
		goto out;
	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_SERVICE, "bench");
	ntlmd_put_bytes(&w, NTLMD_TAG_NEGOTIATE, neg, neg_len);
	ntlmd_put_bytes(&w, NTLMD_TAG_CHALLENGE, chal, chal_len);
	ntlmd_put_bytes(&w, NTLMD_TAG_AUTHENTICATE, auth, auth_len);
	if (ntlmd_client_call(c, NTLMD_REQ_VERIFY, &w, &r) == NTLM_OK) {
		st = r.status;
		ntlmd_reply_clear(&r);
	}
	ntlm_writer_clear(&w);
out:
	free(neg);
	free(chal);
	free(auth);
	return st == NTLM_OK;
}

/* Client i: requests until the deadline. */
static void client_run(const char *socket, const char *domain, const char *password, char **users,
                       size_t n_users, size_t i, double deadline, bool keep_going, struct result *res)
{
	struct ntlmd_client *c = ntlmd_client_new(socket, 60000);

	if (c == NULL)
		_exit(1);
	for (size_t k = i; now_s() < deadline && res->n < MAX_PER_CLIENT; k++) {
		double t0 = now_s();
		bool ok = verify_once(c, users[k % n_users], domain, password);

		res->latency_us[res->n++] = (uint32_t)((now_s() - t0) * 1e6);
		if (!ok) {
			res->failed++;
			if (!keep_going) {
				fprintf(stderr, "bench_concurrent: a VERIFY of %s did not succeed\n",
				        users[k % n_users]);
				_exit(1);
			}
		}
	}
	ntlmd_client_free(c);
	_exit(0);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *domain = "BENCH";
	size_t clients = 1, total = 0, failed = 0, k = 0;
	double seconds = 5, start, elapsed;
	struct result *res;
	uint32_t *all;
	bool keep_going = false;
	int opt, status = 0;

	while ((opt = getopt(argc, argv, "kc:t:d:")) != -1) {
		if (opt == 'k')
			keep_going = true;
		else if (opt == 'c')
			clients = strtoul(optarg, NULL, 10);
		else if (opt == 't')
			seconds = strtod(optarg, NULL);
		else if (opt == 'd')
			domain = optarg;
		else
			return 2;
	}
	if (argc - optind < 3 || clients == 0) {
		fprintf(stderr, "usage: bench_concurrent [-k] [-c CLIENTS] [-t SECONDS] [-d DOMAIN] SOCKET "
		                "PASSWORD USER...\n");
		return 2;
	}
	res = mmap(NULL, clients * sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		return 1;
	start = now_s();
	for (size_t i = 0; i < clients; i++) {
		pid_t pid = fork();

		if (pid == 0)
			client_run(argv[optind], domain, argv[optind + 1], argv + optind + 2,
			           (size_t)(argc - optind - 2), i, start + seconds, keep_going, &res[i]);
		if (pid < 0)
			return 1;
	}
	for (size_t i = 0; i < clients; i++) {
		int st = 0;

		wait(&st);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			status = 1;
	}
	elapsed = now_s() - start;
	for (size_t i = 0; i < clients; i++) {
		total += res[i].n;
		failed += res[i].failed;
	}
	all = calloc(total > 0 ? total : 1, sizeof(*all));
	if (all == NULL)
		return 1;
	for (size_t i = 0; i < clients; i++)
		for (size_t j = 0; j < res[i].n; j++)
			all[k++] = res[i].latency_us[j];
	qsort(all, total, sizeof(*all), cmp_u32);
	printf("%zu clients, %.1f s: %zu requests, %.0f/s; latency p50 %u us, p99 %u us, max %u us; "
	       "%zu not successful\n",
	       clients, elapsed, total, (double)total / elapsed, total > 0 ? all[total / 2] : 0,
	       total > 0 ? all[total * 99 / 100] : 0, total > 0 ? all[total - 1] : 0, failed);
	free(all);
	munmap(res, clients * sizeof(*res));
	return status;
}
