/*
 * client.c: requests to ntlmd over its UNIX socket, bounded in time: one
 * per connection (ntlmd_call) or several on a kept one (ntlmd_client).
 */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "ntlmd_conf.h"

/* Milliseconds of CLOCK_MONOTONIC. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline. 0 when ready, -1 with errno
 * (ETIMEDOUT when the deadline passed). */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&pfd, 1, (int)(left > 60000 ? 60000 : left));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* Connects the non-blocking socket fd to path. A full listen queue
 * (EAGAIN on a UNIX socket) is retried until the deadline. */
static int connect_until(int fd, const struct sockaddr_un *sa, int64_t deadline)
{
	for (;;) {
		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS) {
			int err = 0;
			socklen_t len = sizeof(err);

			if (wait_fd(fd, POLLOUT, deadline) < 0)
				return -1;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				return -1;
			if (err != 0) {
				errno = err;
				return -1;
			}
			return 0;
		}
		if (errno != EAGAIN)
			return -1;
		if (now_ms() >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		poll(NULL, 0, 10);
	}
}

static int send_all(int fd, const uint8_t *p, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, deadline) < 0)
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}

/* Reads at least min and at most max bytes; an early end of stream is
 * ECONNRESET. *ret_got counts the bytes read, also on failure. */
static int recv_at_least(int fd, uint8_t *p, size_t min, size_t max, int64_t deadline, size_t *ret_got)
{
	*ret_got = 0;
	while (*ret_got < min) {
		ssize_t n = recv(fd, p + *ret_got, max - *ret_got, 0);

		if (n > 0) {
			*ret_got += (size_t)n;
			continue;
		}
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(fd, POLLIN, deadline) < 0)
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}

/* Reads exactly len bytes (see recv_at_least). */
static int recv_all(int fd, uint8_t *p, size_t len, int64_t deadline)
{
	size_t got;

	return recv_at_least(fd, p, len, len, deadline, &got);
}

/* The socket address of socket_path (NULL: NTLMD_DEFAULT_SOCKET). */
static enum ntlm_status socket_address(const char *socket_path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	if (socket_path == NULL)
		socket_path = NTLMD_DEFAULT_SOCKET;
	if (strlen(socket_path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return NTLM_ERR_INVALID_ARGUMENT;
	}
	memcpy(sa->sun_path, socket_path, strlen(socket_path) + 1);
	return NTLM_OK;
}

static int64_t deadline_after(unsigned timeout_ms)
{
	return now_ms() + (timeout_ms != 0 ? timeout_ms : NTLMD_CLIENT_TIMEOUT_MS);
}

/* A new connection to the daemon, or -1 with errno. */
static int connect_daemon(const struct sockaddr_un *sa, int64_t deadline)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd >= 0 && connect_until(fd, sa, deadline) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		fd = -1;
	}
	return fd;
}

/* Whether errno after a failed write says the daemon had closed the
 * connection before the request. */
static bool closed_by_peer(void)
{
	return errno == EPIPE || errno == ECONNRESET;
}

/*
 * Writes the encoded request of type on the connected fd and reads its
 * reply. On failure, *ret_stale tells whether the daemon had closed the
 * connection before taking the request: the write failed with EPIPE or
 * ECONNRESET, or the stream ended (or was reset) before any byte of the
 * reply. errno is set as ntlmd_call() documents.
 */
static enum ntlm_status exchange(int fd, uint16_t type, const uint8_t *request, size_t request_len,
                                 int64_t deadline, struct ntlmd_reply *ret, bool *ret_stale)
{
	/* The header and, usually, the whole payload come in one read: the
	 * daemon writes nothing but the one reply, so reading ahead is safe. */
	uint8_t first[1024];
	uint8_t *payload = NULL;
	const uint8_t *body;
	struct ntlmd_reply reply = {0};
	uint16_t reply_type;
	uint32_t payload_len = 0;
	size_t got = 0, early;
	enum ntlm_status st = NTLM_ERR_BACKEND_UNAVAILABLE;
	int saved_errno;

	*ret_stale = false;
	if (send_all(fd, request, request_len, deadline) < 0) {
		*ret_stale = closed_by_peer();
		goto out;
	}
	/* the reply cannot be there yet: wait before the first read, which
	 * saves a recv that would only say EAGAIN */
	if (wait_fd(fd, POLLIN, deadline) < 0 ||
	    recv_at_least(fd, first, NTLMD_HEADER_LEN, sizeof(first), deadline, &got) < 0) {
		*ret_stale = got == 0 && errno == ECONNRESET;
		goto out;
	}
	if ((st = ntlmd_header_decode(first, NTLMD_HEADER_LEN, &reply_type, &payload_len)) != NTLM_OK) {
		errno = EPROTO;
		goto out;
	}
	early = got - NTLMD_HEADER_LEN;
	if (early > payload_len) {
		st = NTLM_ERR_TRAILING_DATA; /* bytes after the one reply */
		errno = EPROTO;
		goto out;
	}
	if (early == payload_len) {
		body = first + NTLMD_HEADER_LEN; /* the whole reply came in the first read */
	} else {
		if ((payload = malloc(payload_len)) == NULL) {
			st = NTLM_ERR_NO_MEMORY;
			goto out;
		}
		memcpy(payload, first + NTLMD_HEADER_LEN, early);
		if (recv_all(fd, payload + early, payload_len - early, deadline) < 0) {
			st = NTLM_ERR_BACKEND_UNAVAILABLE;
			goto out;
		}
		body = payload;
	}
	if (reply_type != (uint16_t)(type | NTLMD_REPLY)) {
		st = NTLM_ERR_WRONG_MESSAGE_TYPE;
		errno = EPROTO;
		goto out;
	}
	if ((st = ntlmd_payload_decode(reply_type, body, payload_len, &reply.frame)) != NTLM_OK ||
	    (st = ntlmd_reply_status(&reply.frame, &reply.status)) != NTLM_OK) {
		errno = EPROTO;
		goto out;
	}
	*ret = reply;
	reply = (struct ntlmd_reply){0};
	st = NTLM_OK;
out:
	saved_errno = errno;
	if (payload != NULL) {
		ntlm_wipe(payload, payload_len);
		free(payload);
	}
	ntlm_wipe(first, got < sizeof(first) ? got : sizeof(first));
	ntlmd_reply_clear(&reply);
	errno = saved_errno;
	return st;
}

/* Wipes and frees an encoded request, keeping errno. */
static void free_request(uint8_t *request, size_t request_len)
{
	int saved = errno;

	if (request != NULL) {
		ntlm_wipe(request, request_len);
		free(request);
	}
	errno = saved;
}

enum ntlm_status ntlmd_call(const char *socket_path, uint16_t type, const struct ntlm_writer *fields,
                            unsigned timeout_ms, struct ntlmd_reply *ret)
{
	struct sockaddr_un sa;
	int64_t deadline = deadline_after(timeout_ms);
	uint8_t *request = NULL;
	size_t request_len = 0;
	enum ntlm_status st;
	bool stale;
	int fd, saved_errno;

	if ((st = socket_address(socket_path, &sa)) != NTLM_OK)
		return st;
	if ((st = ntlmd_frame_encode(type, fields, &request, &request_len)) != NTLM_OK) {
		errno = EINVAL;
		return st;
	}
	fd = connect_daemon(&sa, deadline);
	if (fd < 0)
		st = NTLM_ERR_BACKEND_UNAVAILABLE;
	else
		st = exchange(fd, type, request, request_len, deadline, ret, &stale);
	saved_errno = errno;
	if (fd >= 0)
		close(fd);
	free_request(request, request_len);
	errno = saved_errno;
	return st;
}

struct ntlmd_client {
	struct sockaddr_un sa;
	unsigned timeout_ms;
	int fd; /* -1: not connected */
};

struct ntlmd_client *ntlmd_client_new(const char *socket_path, unsigned timeout_ms)
{
	struct ntlmd_client *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if (socket_address(socket_path, &c->sa) != NTLM_OK) {
		free(c);
		errno = ENAMETOOLONG;
		return NULL;
	}
	c->timeout_ms = timeout_ms;
	c->fd = -1;
	return c;
}

/* Closes the connection, keeping errno. */
static void client_disconnect(struct ntlmd_client *c)
{
	int saved = errno;

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	errno = saved;
}

enum ntlm_status ntlmd_client_call(struct ntlmd_client *c, uint16_t type, const struct ntlm_writer *fields,
                                   struct ntlmd_reply *ret)
{
	int64_t deadline;
	uint8_t *request = NULL;
	size_t request_len = 0;
	enum ntlm_status st;
	bool reused, stale = false;

	if (c == NULL) {
		errno = EINVAL;
		return NTLM_ERR_INVALID_ARGUMENT;
	}
	deadline = deadline_after(c->timeout_ms);
	if ((st = ntlmd_frame_encode(type, fields, &request, &request_len)) != NTLM_OK) {
		errno = EINVAL;
		return st;
	}
	/* A kept connection the daemon closed while it was idle (idle_timeout,
	 * max_requests_per_connection, a restart) is found out by the
	 * exchange; the request is then sent once more on a new connection. */
	do {
		reused = c->fd >= 0;
		if (!reused && (c->fd = connect_daemon(&c->sa, deadline)) < 0) {
			st = NTLM_ERR_BACKEND_UNAVAILABLE;
			break;
		}
		st = exchange(c->fd, type, request, request_len, deadline, ret, &stale);
		if (st != NTLM_OK)
			client_disconnect(c);
	} while (st != NTLM_OK && reused && stale);
	free_request(request, request_len);
	return st;
}

void ntlmd_client_close(struct ntlmd_client *c)
{
	if (c != NULL)
		client_disconnect(c);
}

void ntlmd_client_free(struct ntlmd_client *c)
{
	if (c == NULL)
		return;
	client_disconnect(c);
	free(c);
}

void ntlmd_reply_clear(struct ntlmd_reply *r)
{
	if (r == NULL)
		return;
	ntlmd_frame_clear(&r->frame);
	r->status = NTLM_OK;
}

enum ntlm_status ntlmd_reply_make(uint16_t type, enum ntlm_status status, struct ntlm_writer *fields,
                                  struct ntlmd_reply *ret)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	enum ntlm_status st = ntlmd_reply_encode(type, status, fields, &buf, &len);

	ntlm_writer_clear(fields);
	if (st != NTLM_OK)
		return st;
	*ret = (struct ntlmd_reply){0};
	st = ntlmd_frame_decode(buf, len, &ret->frame);
	ntlm_wipe(buf, len);
	free(buf);
	if (st == NTLM_OK)
		ret->status = status;
	return st;
}
