/*
 * bench_ipc_floor: the cost of the hops of a squid-2.5-ntlmssp handshake
 * without the work. Three processes stand where bench_helper, ntlm_auth and
 * ntlmd do, and pass messages of the same sizes the same way:
 *
 *   driver --pipe--> helper --UNIX stream socket--> daemon (epoll)
 *   driver <--pipe-- helper <--UNIX stream socket-- daemon
 *
 * twice per handshake (NEGOTIATE / CHALLENGE, then AUTHENTICATE / verdict),
 * the helper waiting for the daemon with poll() + recv() as ntlmd_client
 * does. No NTLM, no parsing: the p50 it reports is the floor under the
 * helper latency bench_helper measures, on this machine and with this CPU
 * placement (bench_helper_vs_samba.sh runs it beside both helpers).
 *
 * Usage: bench_ipc_floor [-n HANDSHAKES] [-w WARMUP]
 * Prints "RESULT floor p50_ms=... p99_ms=..." and a line for people.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Sizes of the four messages of a handshake as they cross the hops: the
 * YR line, ntlmd's CHALLENGE request and reply, the TT line, the KK line,
 * the VERIFY request and reply, the AF line (bytes, as seen by strace). */
#define YR_LINE       60
#define CHALLENGE_REQ 69
#define CHALLENGE_REP 179
#define TT_LINE       164
#define KK_LINE       404
#define VERIFY_REQ    497
#define VERIFY_REP    204
#define AF_LINE       19
#define BUF           4096

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Writes n bytes; 0, or -1 when the peer is gone. */
static int put(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly n bytes; 0, or -1 at the end of the stream. */
static int get(int fd, char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The daemon: one connection, epoll; the requests alternate, CHALLENGE
 * then VERIFY, each answered with a reply of its size. */
static void daemon_loop(int fd)
{
	struct epoll_event ev = {.events = EPOLLIN}, out;
	char buf[BUF];
	int ep = epoll_create1(0);
	bool verify = false;

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		_exit(2);
	for (;;) {
		if (epoll_wait(ep, &out, 1, -1) < 1)
			continue;
		if (get(fd, buf, verify ? VERIFY_REQ : CHALLENGE_REQ) < 0 ||
		    put(fd, buf, verify ? VERIFY_REP : CHALLENGE_REP) < 0)
			_exit(0);
		verify = !verify;
	}
}

/* Sends a request of req bytes to the daemon and reads rep bytes back,
 * waiting with poll() first. */
static int ask_daemon(int fd, char *buf, size_t req, size_t rep)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (put(fd, buf, req) < 0 || poll(&p, 1, 10000) != 1)
		return -1;
	return get(fd, buf, rep);
}

/* The helper: a line from the driver, a question to the daemon, a line
 * back. */
static void helper_loop(int in, int out, int daemon)
{
	char buf[BUF];

	for (;;) {
		if (get(in, buf, YR_LINE) < 0 || ask_daemon(daemon, buf, CHALLENGE_REQ, CHALLENGE_REP) < 0 ||
		    put(out, buf, TT_LINE) < 0)
			_exit(0);
		if (get(in, buf, KK_LINE) < 0 || ask_daemon(daemon, buf, VERIFY_REQ, VERIFY_REP) < 0 ||
		    put(out, buf, AF_LINE) < 0)
			_exit(0);
	}
}

/* One handshake from the driver; the time spent waiting for the helper
 * (the driver does no work between its two lines). */
static int handshake(int to, int from, double *ret_wait)
{
	char buf[BUF];
	double t0;

	memset(buf, 'A', sizeof(buf));
	t0 = now_us();
	if (put(to, buf, YR_LINE) < 0 || get(from, buf, TT_LINE) < 0 || put(to, buf, KK_LINE) < 0 ||
	    get(from, buf, AF_LINE) < 0)
		return -1;
	*ret_wait = now_us() - t0;
	return 0;
}

int main(int argc, char **argv)
{
	int to_helper[2], from_helper[2], sv[2], opt, status;
	long n = 20000, warmup = 500;
	pid_t daemon_pid, helper_pid;
	double *waits, w;

	while ((opt = getopt(argc, argv, "n:w:")) != -1) {
		char *end;
		long v = strtol(optarg, &end, 10);

		if (*optarg == '\0' || *end != '\0' || (opt != 'n' && opt != 'w'))
			goto usage;
		if (opt == 'n')
			n = v;
		else
			warmup = v;
	}
	if (n <= 0 || n > 10000000 || warmup < 0 || warmup > 1000000)
		goto usage;
	(void)signal(SIGPIPE, SIG_IGN);
	if (pipe(to_helper) < 0 || pipe(from_helper) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 ||
	    (waits = calloc((size_t)n, sizeof(*waits))) == NULL) {
		perror("bench_ipc_floor");
		return 2;
	}
	if ((daemon_pid = fork()) == 0) {
		close(sv[0]);
		close(to_helper[0]);
		close(to_helper[1]);
		close(from_helper[0]);
		close(from_helper[1]);
		daemon_loop(sv[1]);
	}
	if ((helper_pid = fork()) == 0) {
		close(sv[1]);
		close(to_helper[1]);
		close(from_helper[0]);
		helper_loop(to_helper[0], from_helper[1], sv[0]);
	}
	if (daemon_pid < 0 || helper_pid < 0) {
		perror("bench_ipc_floor: fork");
		free(waits);
		return 2;
	}
	close(sv[0]);
	close(sv[1]);
	close(to_helper[0]);
	close(from_helper[1]);
	for (long i = 0; i < warmup; i++)
		if (handshake(to_helper[1], from_helper[0], &w) < 0)
			goto broken;
	for (long i = 0; i < n; i++)
		if (handshake(to_helper[1], from_helper[0], &waits[i]) < 0)
			goto broken;
	close(to_helper[1]);
	waitpid(helper_pid, &status, 0);
	waitpid(daemon_pid, &status, 0);
	qsort(waits, (size_t)n, sizeof(*waits), cmp_double);
	printf(
	    "floor    handshakes %6ld  helper p50 %7.3f ms  p99 %7.3f ms  (the hops alone: no NTLM work)\n",
	    n, waits[n / 2] / 1e3, waits[n * 99 / 100] / 1e3);
	printf("RESULT floor p50_ms=%.4f p99_ms=%.4f\n", waits[n / 2] / 1e3, waits[n * 99 / 100] / 1e3);
	free(waits);
	return 0;
broken:
	fprintf(stderr, "bench_ipc_floor: a process of the chain ended\n");
	free(waits);
	return 1;
usage:
	fprintf(stderr, "usage: bench_ipc_floor [-n HANDSHAKES] [-w WARMUP]\n");
	return 2;
}
