/*
 * bench_helper: drives any squid-2.5-ntlmssp helper (ours, Samba's
 * ntlm_auth) with full NTLMv2+MIC handshakes from libntlmssp's initiator,
 * one at a time, and reports handshakes per second, the helper's latency
 * (time spent waiting for its two answers, the client's work left out;
 * p50/p99) and the CPU per handshake of the helper and of its daemon
 * processes (from /proc/<pid>/stat, sampled before and after the measured
 * loop).
 *
 *   bench_helper [-n COUNT] [-t SECONDS] [-w WARMUP] -u USER -p PASSWORD [-d DOMAIN]
 *                [-e EXPECT] [-D PID]... [-N PID] [-l LABEL] -- HELPER [ARG]...
 *
 * -D adds a daemon process; -N counts every process in the PID namespace
 * of PID (Samba's winbindd and the children it starts). The loop stops at
 * COUNT handshakes or after SECONDS, whichever comes first. Exit status 1
 * when an answer was not EXPECT... (default "AF ").
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ntlmssp.h"

#define MAX_PIDS     256
#define LINE_MAX_LEN 8192

struct proc_set {
	pid_t pids[MAX_PIDS];
	size_t n;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of a process in seconds; 0 when it is gone. */
static double proc_cpu(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long utime = 0, stime = 0;
	FILE *f;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		return 0;
	}
	fclose(f);
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
		return 0;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* Adds every process sharing pid's PID namespace. */
static void add_namespace(struct proc_set *s, pid_t pid)
{
	char path[64], want[128], link[128];
	DIR *d;
	const struct dirent *e;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	n = readlink(path, want, sizeof(want) - 1);
	if (n <= 0)
		return;
	want[n] = '\0';
	d = opendir("/proc");
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && s->n < MAX_PIDS) {
		pid_t p = (pid_t)atoi(e->d_name);

		if (p <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)p);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			if (strcmp(link, want) == 0)
				s->pids[s->n++] = p;
		}
	}
	closedir(d);
}

static double set_cpu(const struct proc_set *s)
{
	double t = 0;

	for (size_t i = 0; i < s->n; i++)
		t += proc_cpu(s->pids[i]);
	return t;
}

struct helper {
	pid_t pid;
	FILE *in, *out;
};

static int start_helper(char **argv, struct helper *h)
{
	int to[2], from[2];

	if (pipe(to) != 0 || pipe(from) != 0)
		return -1;
	h->pid = fork();
	if (h->pid < 0)
		return -1;
	if (h->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	h->in = fdopen(to[1], "w");
	h->out = fdopen(from[0], "r");
	return h->in != NULL && h->out != NULL ? 0 : -1;
}

/* Sends line, returns the answer (without LF) in buf and the wait. */
static int ask(struct helper *h, const char *line, char *buf, size_t size, double *ret_wait)
{
	double t0 = now_s();
	size_t n;

	if (fputs(line, h->in) < 0 || fputc('\n', h->in) < 0 || fflush(h->in) != 0)
		return -1;
	if (fgets(buf, (int)size, h->out) == NULL)
		return -1;
	*ret_wait = now_s() - t0;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* One handshake: returns 0 when the final answer starts with expect. */
static int handshake(struct helper *h, const struct ntlm_initiator_config *cfg, const char *expect,
                     double *ret_wait, char *last, size_t last_size)
{
	uint8_t *neg = NULL, *chal = NULL, *auth = NULL;
	size_t neg_len = 0, chal_len = 0, auth_len = 0;
	char *b64 = NULL, *line = NULL;
	double w1 = 0, w2 = 0;
	int rc = -1;

	if (ntlm_initiator_negotiate(cfg, &neg, &neg_len) != NTLM_OK ||
	    ntlm_base64_encode(neg, neg_len, &b64) != NTLM_OK)
		goto out;
	line = malloc(strlen(b64) + 4);
	if (line == NULL)
		goto out;
	sprintf(line, "YR %s", b64);
	if (ask(h, line, last, last_size, &w1) != 0 || strncmp(last, "TT ", 3) != 0)
		goto out;
	if (ntlm_base64_decode(last + 3, strlen(last + 3), &chal, &chal_len) != NTLM_OK ||
	    ntlm_initiator_authenticate(cfg, neg, neg_len, chal, chal_len, &auth, &auth_len, NULL) != NTLM_OK)
		goto out;
	free(b64);
	free(line);
	b64 = NULL;
	if (ntlm_base64_encode(auth, auth_len, &b64) != NTLM_OK || (line = malloc(strlen(b64) + 4)) == NULL)
		goto out;
	sprintf(line, "KK %s", b64);
	if (ask(h, line, last, last_size, &w2) != 0)
		goto out;
	*ret_wait = w1 + w2;
	rc = strncmp(last, expect, strlen(expect)) == 0 ? 0 : -1;
out:
	free(neg);
	free(chal);
	free(auth);
	free(b64);
	free(line);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct ntlm_initiator_config cfg = {0};
	struct proc_set daemons = {0};
	struct helper h = {0};
	const char *expect = "AF ", *label = "helper";
	long count = 1000, warmup = 50;
	double limit = 30, *waits, t0, elapsed, helper_cpu0, daemon_cpu0, helper_cpu, daemon_cpu;
	pid_t ns_pid = 0;
	char last[LINE_MAX_LEN];
	long done = 0, bad = 0;
	int opt, status;

	cfg.domain = "";
	while ((opt = getopt(argc, argv, "n:t:w:u:p:d:e:D:N:l:")) != -1) {
		switch (opt) {
		case 'n':
			count = atol(optarg);
			break;
		case 't':
			limit = atof(optarg);
			break;
		case 'w':
			warmup = atol(optarg);
			break;
		case 'u':
			cfg.user = optarg;
			break;
		case 'p':
			cfg.password = optarg;
			break;
		case 'd':
			cfg.domain = optarg;
			break;
		case 'e':
			expect = optarg;
			break;
		case 'D':
			if (daemons.n < MAX_PIDS)
				daemons.pids[daemons.n++] = (pid_t)atoi(optarg);
			break;
		case 'N':
			ns_pid = (pid_t)atoi(optarg);
			break;
		case 'l':
			label = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind >= argc || cfg.user == NULL || cfg.password == NULL || count <= 0 || count > 10000000 ||
	    limit <= 0 || limit > 3600 || warmup < 0 || warmup > 100000)
		goto usage;
	cfg.workstation = "BENCHWS";
	signal(SIGPIPE, SIG_IGN);
	waits = calloc((size_t)count, sizeof(*waits));
	if (waits == NULL || start_helper(argv + optind, &h) != 0) {
		perror("bench_helper");
		return 2;
	}
	for (long i = 0; i < warmup; i++) {
		double w;

		if (handshake(&h, &cfg, expect, &w, last, sizeof(last)) != 0) {
			fprintf(stderr, "%s: warm-up handshake failed, last answer: %s\n", label, last);
			return 1;
		}
	}
	if (ns_pid > 0)
		add_namespace(&daemons, ns_pid);
	helper_cpu0 = proc_cpu(h.pid);
	daemon_cpu0 = set_cpu(&daemons);
	t0 = now_s();
	while (done < count && now_s() - t0 < limit) {
		if (handshake(&h, &cfg, expect, &waits[done], last, sizeof(last)) != 0) {
			if (++bad == 1)
				fprintf(stderr, "%s: unexpected answer: %s\n", label, last);
			if (bad > 10)
				break;
			continue;
		}
		done++;
	}
	elapsed = now_s() - t0;
	helper_cpu = proc_cpu(h.pid) - helper_cpu0;
	daemon_cpu = set_cpu(&daemons) - daemon_cpu0;
	fclose(h.in);
	fclose(h.out);
	waitpid(h.pid, &status, 0);
	if (done == 0) {
		fprintf(stderr, "%s: no handshake completed\n", label);
		return 1;
	}
	qsort(waits, (size_t)done, sizeof(*waits), cmp_double);
	printf("%-8s handshakes %6ld  %8.0f hs/s  helper p50 %7.3f ms  p99 %7.3f ms  "
	       "CPU/handshake: helper %6.3f ms + daemon %6.3f ms = %6.3f ms (%zu daemon processes)\n",
	       label, done, (double)done / elapsed, waits[done / 2] * 1e3,
	       waits[(size_t)((double)done * 0.99)] * 1e3, helper_cpu / (double)done * 1e3,
	       daemon_cpu / (double)done * 1e3, (helper_cpu + daemon_cpu) / (double)done * 1e3, daemons.n);
	printf("RESULT %s hs_per_s=%.1f p50_ms=%.4f p99_ms=%.4f cpu_ms=%.4f\n", label, (double)done / elapsed,
	       waits[done / 2] * 1e3, waits[(size_t)((double)done * 0.99)] * 1e3,
	       (helper_cpu + daemon_cpu) / (double)done * 1e3);
	free(waits);
	return bad > 0 ? 1 : 0;
usage:
	fputs("usage: bench_helper [-n COUNT] [-t SECONDS] [-w WARMUP] -u USER -p PASSWORD [-d DOMAIN] [-e "
	      "EXPECT]\n"
	      "                    [-D PID]... [-N PID] [-l LABEL] -- HELPER [ARG]...\n",
	      stderr);
	return 2;
}
