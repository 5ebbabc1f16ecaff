/*
 * delay_relay: a TCP relay on 127.0.0.1 that holds every byte the server
 * sends for a fixed delay before passing it on (requests go through at
 * once): a directory that far away, for ldap-bench.sh's concurrency case,
 * where tc netem is not allowed. One thread, one epoll set; each chunk
 * read from the server is queued with the time it is due.
 *
 * usage: delay_relay LISTEN_PORT SERVER_PORT DELAY_MS
 * Runs until killed; prints "ready" once it listens.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 1024
#define CHUNK     16384

/* Bytes from the server, due to the client at a time. */
struct chunk {
	struct chunk *next;
	int64_t due; /* monotonic us */
	size_t len;
	uint8_t data[CHUNK];
};

/* A client and its own connection to the server. */
struct pair {
	int client, server; /* -1: free */
	struct chunk *head, *tail;
	bool server_done; /* the server closed: close once its bytes are out */
};

static struct pair pairs[MAX_PAIRS];
static int64_t delay_us;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void pair_close(struct pair *p)
{
	while (p->head != NULL) {
		struct chunk *c = p->head;

		p->head = c->next;
		free(c);
	}
	p->tail = NULL;
	if (p->client >= 0)
		close(p->client);
	if (p->server >= 0)
		close(p->server);
	p->client = p->server = -1;
	p->server_done = false;
}

/* A tag names the pair and the side: 2 * index + (1 for the server). */
static void watch(int ep, int fd, uint64_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int connect_server(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void accept_client(int ep, int listener, int server_port)
{
	int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC), one = 1;
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_PAIRS && pairs[i].client >= 0; i++)
		;
	if (i == MAX_PAIRS || (pairs[i].server = connect_server(server_port)) < 0) {
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	pairs[i].client = fd;
	watch(ep, fd, 2 * i);
	watch(ep, pairs[i].server, 2 * i + 1);
}

/* The client's bytes go to the server at once. Reads never block (an
 * event may be stale: the slot reused in the same round); writes on
 * loopback may. */
static void from_client(struct pair *p)
{
	uint8_t buf[CHUNK];
	ssize_t n = recv(p->client, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || send(p->server, buf, (size_t)n, MSG_NOSIGNAL) != n)
		pair_close(p);
}

/* The server's bytes wait delay_us in the pair's queue. */
static void from_server(int ep, struct pair *p)
{
	struct chunk *c = malloc(sizeof(*c));
	ssize_t n = c != NULL ? recv(p->server, c->data, sizeof(c->data), MSG_DONTWAIT) : -1;

	if (n < 0 && c != NULL && (errno == EAGAIN || errno == EINTR)) {
		free(c);
		return;
	}
	if (n <= 0) {
		free(c);
		p->server_done = true;
		epoll_ctl(ep, EPOLL_CTL_DEL, p->server, NULL);
		if (p->head == NULL)
			pair_close(p);
		return;
	}
	c->next = NULL;
	c->due = now_us() + delay_us;
	c->len = (size_t)n;
	if (p->tail != NULL)
		p->tail->next = c;
	else
		p->head = c;
	p->tail = c;
}

/* Sends what is due; returns the next due time (INT64_MAX: nothing). */
static int64_t flush_due(int64_t now)
{
	int64_t next = INT64_MAX;

	for (size_t i = 0; i < MAX_PAIRS; i++) {
		struct pair *p = &pairs[i];

		while (p->client >= 0 && p->head != NULL && p->head->due <= now) {
			struct chunk *c = p->head;

			if (send(p->client, c->data, c->len, MSG_NOSIGNAL) != (ssize_t)c->len) {
				pair_close(p);
				break;
			}
			p->head = c->next;
			if (p->head == NULL)
				p->tail = NULL;
			free(c);
		}
		if (p->client >= 0 && p->head == NULL && p->server_done)
			pair_close(p);
		if (p->client >= 0 && p->head != NULL && p->head->due < next)
			next = p->head->due;
	}
	return next;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct epoll_event events[64];
	int listener, ep, one = 1, server_port;

	if (argc != 4) {
		fprintf(stderr, "usage: delay_relay LISTEN_PORT SERVER_PORT DELAY_MS\n");
		return 2;
	}
	server_port = atoi(argv[2]);
	delay_us = (int64_t)atoi(argv[3]) * 1000;
	for (size_t i = 0; i < MAX_PAIRS; i++)
		pairs[i].client = pairs[i].server = -1;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (listener < 0 || ep < 0 ||
	    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(listener, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(listener, 128) != 0) {
		perror("delay_relay");
		return 1;
	}
	watch(ep, listener, UINT64_MAX);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int64_t next = flush_due(now_us()), wait_ms = -1;
		int n;

		if (next != INT64_MAX) {
			wait_ms = (next - now_us() + 999) / 1000;
			if (wait_ms < 0)
				wait_ms = 0;
		}
		n = epoll_wait(ep, events, 64, (int)wait_ms);
		for (int i = 0; i < n; i++) {
			uint64_t tag = events[i].data.u64;
			struct pair *p;

			if (tag == UINT64_MAX) {
				accept_client(ep, listener, server_port);
				continue;
			}
			p = &pairs[tag / 2];
			if (p->client < 0)
				continue; /* closed earlier in this round */
			if (tag % 2 == 0)
				from_client(p);
			else if (!p->server_done)
				from_server(ep, p);
		}
	}
}
