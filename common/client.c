/*
 * client.c: one request to ntlmd over its UNIX socket, bounded in time.
 */
#include <errno.h>
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

/* Reads exactly len bytes; an early end of stream is ECONNRESET. */
static int recv_all(int fd, uint8_t *p, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
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

enum ntlm_status ntlmd_call(const char *socket_path, uint16_t type, const struct ntlm_writer *fields,
                            unsigned timeout_ms, struct ntlmd_reply *ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int64_t deadline = now_ms() + (timeout_ms != 0 ? timeout_ms : NTLMD_CLIENT_TIMEOUT_MS);
	uint8_t header[NTLMD_HEADER_LEN];
	uint8_t *request = NULL, *payload = NULL;
	size_t request_len = 0;
	struct ntlmd_reply reply = {0};
	uint16_t reply_type;
	uint32_t payload_len = 0;
	enum ntlm_status st;
	int fd = -1, saved_errno = 0;

	if (socket_path == NULL)
		socket_path = NTLMD_DEFAULT_SOCKET;
	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NTLM_ERR_INVALID_ARGUMENT;
	}
	memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
	if ((st = ntlmd_frame_encode(type, fields, &request, &request_len)) != NTLM_OK) {
		errno = EINVAL;
		return st;
	}

	st = NTLM_ERR_BACKEND_UNAVAILABLE;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect_until(fd, &sa, deadline) < 0 ||
	    send_all(fd, request, request_len, deadline) < 0 ||
	    recv_all(fd, header, sizeof(header), deadline) < 0)
		goto out;
	if ((st = ntlmd_header_decode(header, sizeof(header), &reply_type, &payload_len)) != NTLM_OK) {
		errno = EPROTO;
		goto out;
	}
	payload = malloc(payload_len > 0 ? payload_len : 1);
	if (payload == NULL) {
		st = NTLM_ERR_NO_MEMORY;
		goto out;
	}
	if (recv_all(fd, payload, payload_len, deadline) < 0) {
		st = NTLM_ERR_BACKEND_UNAVAILABLE;
		goto out;
	}
	if (reply_type != (uint16_t)(type | NTLMD_REPLY)) {
		st = NTLM_ERR_WRONG_MESSAGE_TYPE;
		errno = EPROTO;
		goto out;
	}
	if ((st = ntlmd_payload_decode(reply_type, payload, payload_len, &reply.frame)) != NTLM_OK ||
	    (st = ntlmd_reply_status(&reply.frame, &reply.status)) != NTLM_OK) {
		errno = EPROTO;
		goto out;
	}
	*ret = reply;
	reply = (struct ntlmd_reply){0};
	st = NTLM_OK;
out:
	saved_errno = errno;
	if (fd >= 0)
		close(fd);
	if (payload != NULL) {
		ntlm_wipe(payload, payload_len);
		free(payload);
	}
	if (request != NULL) {
		ntlm_wipe(request, request_len);
		free(request);
	}
	ntlmd_reply_clear(&reply);
	if (st != NTLM_OK)
		errno = saved_errno;
	return st;
}

void ntlmd_reply_clear(struct ntlmd_reply *r)
{
	if (r == NULL)
		return;
	ntlmd_frame_clear(&r->frame);
	r->status = NTLM_OK;
}
