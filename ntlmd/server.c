/*
 * server.c: the epoll loop of ntlmd (see server.h).
 */
#include <config.h> /* autoconf: _GNU_SOURCE for accept4, struct ucred */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

#define TAG_LISTEN UINT64_MAX
#define TAG_SIGNAL (UINT64_MAX - 1)
#define TAG_POOL   (UINT64_MAX - 2)
#define MAX_EVENTS 64
#define TICK_MS    1000
/* At most one "too many connections" line per this many ms. */
#define OVERFLOW_LOG_MS 1000
/* How long accepting pauses when the process is out of descriptors. */
#define EMFILE_PAUSE_MS 100

/* HEADER -> (ACCESS) -> PAYLOAD -> (STORE) -> REPLY -> HEADER ... */
enum conn_state {
	CONN_HEADER,
	CONN_ACCESS, /* waiting for the caller's group list (NSS, in a worker) */
	CONN_PAYLOAD,
	CONN_STORE, /* waiting for a store call of its request (in a worker) */
	CONN_REPLY,
};

struct conn;

/* The NSS group list of a caller, fetched in a worker. */
struct access_job {
	struct ntlmd_job job;
	struct ntlmd_peer_groups groups;
	struct conn *owner; /* NULL once the connection is gone */
};

struct conn {
	int fd;                 /* -1: free slot */
	struct ntlmd_peer peer; /* taken at accept, for every request of the connection */
	int64_t opened;         /* ms, when accepted */
	int64_t deadline;
	int64_t idle_since; /* ms, when the last reply was written; 0: not idle */
	unsigned served;    /* replies written on this connection */
	uint32_t events;    /* watched: EPOLLIN, EPOLLOUT, or none while waiting for a worker */
	bool last;          /* close after this reply: its request was a malformed frame */
	enum conn_state state;
	struct ntlmd_request *req; /* CONN_STORE: the request whose call a worker runs */
	struct access_job *access; /* CONN_ACCESS */
	uint8_t header[NTLMD_HEADER_LEN];
	size_t got; /* bytes of the header, then of the payload, read so far */
	uint16_t type;
	uint32_t payload_len;
	uint8_t *payload; /* exactly payload_len bytes, once the header is accepted */
	uint8_t *reply;
	size_t reply_len, sent;
};

struct ntlmd_server {
	int listen_fd, epoll_fd, signal_fd;
	struct ntlmd_context *ctx;
	struct ntlmd_server_hooks hooks;
	struct conn *conns;
	size_t *free_slots; /* stack of free slot numbers */
	size_t n_free, max_conns;
	int64_t now; /* CLOCK_MONOTONIC ms, read when epoll_wait returns and after each round */
	int64_t last_tick;
	int64_t next_expiry;     /* no connection's deadline is before this: no scan until then */
	int64_t overflow_logged; /* when the last "too many" line was written */
	uint64_t overflow_quiet; /* refusals not logged since */
	int64_t listen_paused_until;
	bool stop;
	struct ntlmd_pool *pool;
	size_t writebacks_pending; /* submitted, not back: at most max_conns */
	int64_t drop_logged;       /* when the last "write-back dropped" line was written */
	uint64_t drop_quiet;       /* write-backs dropped and not logged since */
};

static void submit_writeback(struct ntlmd_server *s, struct ntlmd_writeback *w);

static int64_t read_timeout_ms(const struct ntlmd_server *s)
{
	unsigned t = s->ctx->cfg->read_timeout_ms;

	return t > 0 ? t : 5000;
}

static int64_t idle_timeout_ms(const struct ntlmd_server *s)
{
	unsigned t = s->ctx->cfg->idle_timeout_ms;

	return t > 0 ? t : 30000;
}

static int64_t store_timeout_ms(const struct ntlmd_server *s)
{
	unsigned t = s->ctx->cfg->store_timeout_ms;

	return t > 0 ? t : NTLMD_DEFAULT_STORE_TIMEOUT_MS;
}

static unsigned max_requests(const struct ntlmd_server *s)
{
	unsigned n = s->ctx->cfg->max_requests_per_connection;

	return n > 0 ? n : 10000;
}

/* Sets c's deadline; expire() scans the connections again by then. */
static void conn_set_deadline(struct ntlmd_server *s, struct conn *c, int64_t deadline)
{
	c->deadline = deadline;
	if (deadline < s->next_expiry)
		s->next_expiry = deadline;
}

/* Waiting for the first byte of a further request, after a reply. */
static bool conn_idle(const struct conn *c)
{
	return c->state == CONN_HEADER && c->got == 0 && c->served > 0;
}

/* Wipes (requests and replies may hold passwords and keys) and frees. */
static void free_buffer(uint8_t **p, size_t len)
{
	if (*p != NULL) {
		ntlm_wipe(*p, len);
		free(*p);
	}
	*p = NULL;
}

/* A request nobody waits for any more: the count an earlier step left (a
 * password check before a change) is written back all the same; its call,
 * if still queued, is taken back (attack3 F9: it held its uid's share
 * until a worker ran it for nobody) and the request freed. false: a
 * worker runs the call, the request stays until it comes back. */
static bool request_drop(struct ntlmd_server *s, struct ntlmd_request *req)
{
	struct ntlmd_writeback *w;

	if ((w = ntlmd_request_take_writeback(req)) != NULL)
		submit_writeback(s, w);
	if (!ntlmd_pool_cancel(s->pool, &req->job))
		return false;
	s->ctx->counters.store_waiting--;
	s->ctx->counters.store_cancelled++;
	ntlmd_request_free(req);
	return true;
}

static void conn_close(struct ntlmd_server *s, struct conn *c)
{
	/* a call in a worker cannot be taken back: its request is freed when
	 * it comes back, and its answer dropped */
	if (c->req != NULL) {
		if (!request_drop(s, c->req)) {
			c->req->abandoned = true;
			c->req->owner = NULL;
		}
	}
	if (c->access != NULL) {
		if (ntlmd_pool_cancel(s->pool, &c->access->job))
			free(c->access);
		else
			c->access->owner = NULL;
	}
	close(c->fd); /* also leaves the epoll set */
	free_buffer(&c->payload, c->payload_len);
	free_buffer(&c->reply, c->reply_len);
	*c = (struct conn){.fd = -1};
	s->free_slots[s->n_free++] = (size_t)(c - s->conns);
	s->ctx->counters.connections--;
}

/* Closes a connection that gets no answer, with one log line. */
static void conn_refuse(struct ntlmd_server *s, struct conn *c, int priority, const char *why,
                        const char *detail)
{
	const char *name = c->state != CONN_HEADER ? ntlmd_request_name(c->type) : NULL;

	ntlmd_log(priority, "connection from uid=%u pid=%d closed%s%s: %s%s%s", (unsigned)c->peer.uid,
	          (int)c->peer.pid, name != NULL ? " during " : "", name != NULL ? name : "", why,
	          detail != NULL ? ": " : "", detail != NULL ? detail : "");
	s->ctx->counters.refused++;
	conn_close(s, c);
}

/* Closes the connection of a client that hung up while its request
 * waited (for a worker or its groups): not a refusal, REFUSED does not
 * count it (attack4: it did); one NOTICE line of its own. */
static void conn_hung_up(struct ntlmd_server *s, struct conn *c)
{
	const char *name = ntlmd_request_name(c->type);

	ntlmd_log(LOG_NOTICE,
	          "connection from uid=%u pid=%d: the client left during %s while its request waited "
	          "(a hang-up, not a refusal)",
	          (unsigned)c->peer.uid, (int)c->peer.pid, name != NULL ? name : "a request");
	conn_close(s, c);
}

/* When every slot is taken: the connection idle longest between two
 * requests, whoever holds it (closing it cuts no request short; its client
 * reconnects when it needs to), except that an unprivileged caller never
 * displaces a privileged caller's connection. NULL when none is idle. */
static struct conn *idle_victim(struct ntlmd_server *s, const struct ntlmd_peer *caller, int64_t now)
{
	struct conn *oldest = NULL;
	bool caller_privileged = ntlmd_known_privileged(s->ctx, caller, now);

	for (size_t i = 0; i < s->max_conns; i++) {
		struct conn *c = &s->conns[i];

		if (c->fd < 0 || !conn_idle(c) || (oldest != NULL && c->idle_since >= oldest->idle_since))
			continue;
		if (!caller_privileged && ntlmd_known_privileged(s->ctx, &c->peer, now))
			continue;
		oldest = c;
	}
	return oldest;
}

/* Then: the oldest connection of a uid that holds more
 * than half of them, so that one user's flood of connections cannot lock
 * every other caller out. NULL when no uid holds a majority, when it is the
 * caller's, or when it is a privileged one and the caller is not (an
 * unprivileged caller never cuts a privileged request short). A majority
 * vote, then a count: two passes. */
static struct conn *flood_victim(struct ntlmd_server *s, const struct ntlmd_peer *caller, int64_t now)
{
	uint32_t uid = 0;
	size_t votes = 0, held = 0;
	struct conn *oldest = NULL;

	for (size_t i = 0; i < s->max_conns; i++) {
		const struct conn *c = &s->conns[i];

		if (c->fd < 0)
			continue;
		if (votes == 0) {
			uid = c->peer.uid;
			votes = 1;
		} else if (c->peer.uid == uid) {
			votes++;
		} else {
			votes--;
		}
	}
	if (votes == 0 || uid == caller->uid)
		return NULL;
	for (size_t i = 0; i < s->max_conns; i++) {
		struct conn *c = &s->conns[i];

		if (c->fd < 0 || c->peer.uid != uid)
			continue;
		held++;
		if (oldest == NULL || c->opened < oldest->opened)
			oldest = c;
	}
	if (held * 2 <= s->max_conns || (ntlmd_known_privileged(s->ctx, &oldest->peer, now) &&
	                                 !ntlmd_known_privileged(s->ctx, caller, now)))
		return NULL;
	return oldest;
}

/* Watches fd for reading (a request), writing (the rest of a reply), or
 * nothing but a hang-up (0: waiting for a worker). */
static bool conn_watch(struct ntlmd_server *s, struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)(c - s->conns)};

	if (c->events == events)
		return true;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		return false;
	c->events = events;
	return true;
}

/* The reply is out: the connection waits for a further request (already
 * sent ones stay in the socket until now: no frame is read ahead), or is
 * closed after max_requests_per_connection. */
static void conn_reply_done(struct ntlmd_server *s, struct conn *c)
{
	int64_t now = s->now;

	free_buffer(&c->reply, c->reply_len);
	c->reply_len = c->sent = 0;
	c->served++;
	if (c->last) {
		conn_close(s, c);
		return;
	}
	if (c->served >= max_requests(s)) {
		ntlmd_log(
		    LOG_DEBUG,
		    "connection from uid=%u pid=%d closed after %u requests (max_requests_per_connection)",
		    (unsigned)c->peer.uid, (int)c->peer.pid, c->served);
		conn_close(s, c);
		return;
	}
	c->state = CONN_HEADER;
	c->got = 0;
	c->idle_since = now;
	conn_set_deadline(s, c, now + idle_timeout_ms(s));
	if (!conn_watch(s, c, EPOLLIN))
		conn_refuse(s, c, LOG_ERR, "cannot wait for the next request", strerror(errno));
}

/* Writes as much of the reply as the socket takes; then waits for the next
 * request. */
static void conn_write(struct ntlmd_server *s, struct conn *c)
{
	while (c->sent < c->reply_len) {
		ssize_t n = send(c->fd, c->reply + c->sent, c->reply_len - c->sent, MSG_NOSIGNAL);

		if (n > 0) {
			c->sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!conn_watch(s, c, EPOLLOUT))
				conn_refuse(s, c, LOG_ERR, "cannot wait to write the reply", strerror(errno));
			return;
		}
		ntlmd_log(LOG_NOTICE, "connection from uid=%u pid=%d: reply not delivered: %s",
		          (unsigned)c->peer.uid, (int)c->peer.pid,
		          n < 0 ? strerror(errno) : "connection closed");
		conn_close(s, c);
		return;
	}
	conn_reply_done(s, c);
}

/* The reply of req (finished: encoded, audited, counted) goes out on c;
 * a malformed payload ends the connection after it (as a malformed
 * header does). */
static void conn_reply(struct ntlmd_server *s, struct conn *c, struct ntlmd_request *req)
{
	enum ntlm_status st = ntlmd_request_finish(s->ctx, req, &c->reply, &c->reply_len);

	c->last = st == NTLM_OK && req->frame_status != NTLM_OK;
	s->now = ntlmd_now_ms();
	if (st != NTLM_OK) {
		c->reply = NULL;
		c->reply_len = 0;
		conn_refuse(s, c, LOG_ERR, "no reply could be built", ntlm_status_name(st));
		return;
	}
	c->state = CONN_REPLY;
	c->sent = 0;
	conn_set_deadline(s, c, s->now + read_timeout_ms(s));
	/* written at once when the socket takes it (the usual case): then
	 * watched for the next request, else for writing */
	conn_write(s, c);
}

/* A lockout write-back left by a request: to a worker, after the reply,
 * through the pool's own queue (attack3 F3: in the caller's uid queue, the
 * caller's own lookups could fill its share and drop them); dropped,
 * counted and logged (once a second at most) when max_connections of them
 * are pending already (a directory that does not keep up must not pile
 * them up without end). */
static void run_writeback(struct ntlmd_job *job)
{
	ntlmd_writeback_run((struct ntlmd_writeback *)(void *)job); /* the job is its first member */
}

static void submit_writeback(struct ntlmd_server *s, struct ntlmd_writeback *w)
{
	w->job.run = run_writeback;
	if (s->writebacks_pending < s->max_conns && ntlmd_pool_submit_own(s->pool, &w->job, s->max_conns)) {
		s->writebacks_pending++;
		return;
	}
	s->ctx->counters.writebacks_dropped++;
	if (s->now - s->drop_logged >= OVERFLOW_LOG_MS) {
		ntlmd_log(LOG_WARNING,
		          "lockout write-back for %s dropped: %s: %zu pending (max_connections), the "
		          "directory does not keep up; %llu more dropped since the last message",
		          w->backend, ntlm_status_name(NTLM_ERR_INSUFFICIENT_RESOURCES),
		          s->writebacks_pending, (unsigned long long)s->drop_quiet);
		s->drop_logged = s->now;
		s->drop_quiet = 0;
	} else {
		s->drop_quiet++;
	}
	ntlmd_writeback_free(w);
}

/* The request is done with c: its reply goes out, its write-back to a
 * worker, and it is freed. */
static void request_done(struct ntlmd_server *s, struct conn *c, struct ntlmd_request *req)
{
	struct ntlmd_writeback *w;

	c->req = NULL;
	conn_reply(s, c, req);
	if ((w = ntlmd_request_take_writeback(req)) != NULL)
		submit_writeback(s, w);
	ntlmd_request_free(req);
}

static void run_request_call(struct ntlmd_job *job)
{
	ntlmd_request_run_call((struct ntlmd_request *)(void *)job);
}

/* req waits for its store call: to a worker, c watched for nothing but a
 * hang-up, its deadline store_timeout. A uid over its share of the
 * queue is answered at once (STATUS_INSUFFICIENT_RESOURCES). */
static void request_wait(struct ntlmd_server *s, struct conn *c, struct ntlmd_request *req)
{
	req->job.run = run_request_call;
	req->owner = c;
	if (!ntlmd_pool_submit(s->pool, &req->job)) {
		ntlmd_audit_set(req->event.detail, "too many store calls of this uid waiting");
		req->status = NTLM_ERR_INSUFFICIENT_RESOURCES;
		request_done(s, c, req);
		return;
	}
	s->ctx->counters.store_calls++;
	s->ctx->counters.store_waiting++;
	if (c->state != CONN_STORE) {
		c->state = CONN_STORE;
		c->req = req;
		conn_set_deadline(s, c, s->now + store_timeout_ms(s));
		if (!conn_watch(s, c, 0))
			conn_refuse(s, c, LOG_ERR, "cannot wait for the store", strerror(errno));
	}
}

/* The whole request is in: start it; it is answered now, or waits. */
static void conn_serve(struct ntlmd_server *s, struct conn *c)
{
	struct ntlmd_request *req = ntlmd_request_new(s->ctx, &c->peer, c->type, c->payload, c->payload_len);

	free_buffer(&c->payload, c->payload_len);
	if (req == NULL) {
		conn_refuse(s, c, LOG_ERR, "out of memory", NULL);
		return;
	}
	if (ntlmd_request_start(s->ctx, req) == NTLMD_STEP_WAIT)
		request_wait(s, c, req);
	else
		request_done(s, c, req);
}

/* A store call is back: the request goes on (it may ask again), unless
 * its connection is gone or its deadline passed (the answer is then
 * dropped). */
static void request_back(struct ntlmd_server *s, struct ntlmd_request *req)
{
	struct conn *c = req->owner;

	s->ctx->counters.store_waiting--;
	ntlmd_stats_count_call(&s->ctx->stats, &req->call);
	if (req->abandoned || c == NULL || req->job.cancelled) {
		if (!req->job.cancelled)
			s->ctx->counters.late_answers++;
		ntlmd_request_free(req);
		return;
	}
	if (ntlmd_request_resume(s->ctx, req) == NTLMD_STEP_WAIT) {
		request_wait(s, c, req);
		return;
	}
	request_done(s, c, req);
}

/* store_timeout passed while c's request waits: it is answered
 * STATUS_NO_LOGON_SERVERS now; a call still queued is taken back and the
 * request freed, one in a worker stays with it, and is freed when its
 * (late) answer comes back. */
static void request_expired(struct ntlmd_server *s, struct conn *c)
{
	struct ntlmd_request *req = c->req;

	c->req = NULL;
	req->owner = NULL;
	s->ctx->counters.store_timeouts++;
	ntlmd_request_expire(s->ctx, req);
	conn_reply(s, c, req);
	request_drop(s, req);
}

static void run_access_job(struct ntlmd_job *job)
{
	ntlmd_peer_groups_fetch(&((struct access_job *)(void *)job)->groups);
}

/* The caller's group list is needed (allow_groups): fetched in a worker
 * before the payload is read. false when c was closed. */
static bool conn_ask_access(struct ntlmd_server *s, struct conn *c)
{
	struct access_job *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		conn_refuse(s, c, LOG_ERR, "out of memory", NULL);
		return false;
	}
	a->job = (struct ntlmd_job){.uid = c->peer.uid, .kind = NTLMD_JOB_ACCESS, .run = run_access_job};
	a->groups.uid = c->peer.uid;
	a->groups.gid = c->peer.gid;
	a->owner = c;
	if (!ntlmd_pool_submit(s->pool, &a->job)) {
		free(a);
		conn_refuse(s, c, LOG_WARNING, "too many store calls of this uid waiting", "its group list");
		return false;
	}
	c->access = a;
	c->state = CONN_ACCESS;
	if (!conn_watch(s, c, 0)) {
		conn_refuse(s, c, LOG_ERR, "cannot wait for the caller's groups", strerror(errno));
		return false;
	}
	return true;
}

/* The caller's groups are known: its request is read, or refused. */
static void access_back(struct ntlmd_server *s, struct access_job *a)
{
	struct conn *c = a->owner;
	bool allowed;
	char detail[64];

	if (c == NULL || a->job.cancelled) {
		free(a);
		return;
	}
	c->access = NULL;
	allowed = ntlmd_access_learn(s->ctx, &a->groups, s->now);
	free(a);
	if (!allowed) {
		snprintf(detail, sizeof(detail), "request type %u", (unsigned)c->type);
		conn_refuse(s, c, LOG_WARNING, "caller not in allow_users or allow_groups", detail);
		return;
	}
	c->state = CONN_PAYLOAD;
	if (!conn_watch(s, c, EPOLLIN))
		conn_refuse(s, c, LOG_ERR, "cannot read the request", strerror(errno));
	/* the payload may be in the socket already: level-triggered epoll
	 * reports it in the next round */
}

/* Everything the workers finished: requests resumed, write-backs
 * counted, group lists applied. */
static void pool_back(struct ntlmd_server *s)
{
	struct ntlmd_job *job;

	s->now = ntlmd_now_ms();
	while ((job = ntlmd_pool_done(s->pool)) != NULL) {
		switch (job->kind) {
		case NTLMD_JOB_REQUEST:
			request_back(s, (struct ntlmd_request *)(void *)job);
			break;
		case NTLMD_JOB_WRITEBACK:
			s->writebacks_pending--;
			if (!job->cancelled)
				s->ctx->counters.writebacks++;
			ntlmd_writeback_free((struct ntlmd_writeback *)(void *)job);
			break;
		default:
			access_back(s, (struct access_job *)(void *)job);
			break;
		}
	}
}

/* The header is in: check it and the caller before taking the payload. */
static bool conn_header(struct ntlmd_server *s, struct conn *c)
{
	enum ntlmd_access_answer access;
	const char *reason;
	enum ntlm_status st = ntlmd_header_decode(c->header, sizeof(c->header), &c->type, &c->payload_len);

	if (st != NTLM_OK) {
		conn_refuse(s, c, LOG_WARNING,
		            st == NTLM_ERR_MESSAGE_TOO_LONG ? "frame length over the cap"
		                                            : "malformed frame header",
		            ntlm_status_name(st));
		return false;
	}
	c->state = CONN_PAYLOAD;
	access = ntlmd_access_check(s->ctx, &c->peer, c->type, s->now, &reason);
	if (access == NTLMD_ACCESS_REFUSED) {
		char detail[64];

		snprintf(detail, sizeof(detail), "request type %u", (unsigned)c->type);
		conn_refuse(s, c, LOG_WARNING, reason, detail);
		return false;
	}
	c->got = 0;
	c->payload = malloc(c->payload_len > 0 ? c->payload_len : 1);
	if (c->payload == NULL) {
		conn_refuse(s, c, LOG_ERR, "out of memory", NULL);
		return false;
	}
	if (access == NTLMD_ACCESS_ASK_NSS) {
		conn_ask_access(s, c);
		return false; /* read on when the answer is in */
	}
	return true;
}

static void conn_read(struct ntlmd_server *s, struct conn *c)
{
	for (;;) {
		uint8_t *dst = c->state == CONN_HEADER ? c->header + c->got : c->payload + c->got;
		size_t want = (c->state == CONN_HEADER ? NTLMD_HEADER_LEN : c->payload_len) - c->got;
		ssize_t n;

		if (want == 0) {
			if (c->state == CONN_HEADER) {
				if (!conn_header(s, c))
					return;
				continue;
			}
			conn_serve(s, c);
			return;
		}
		n = recv(c->fd, dst, want, 0);
		if (n > 0) {
			if (conn_idle(c)) {
				/* a further request begins: read_timeout bounds it */
				c->idle_since = 0;
				conn_set_deadline(s, c, s->now + read_timeout_ms(s));
			}
			c->got += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == 0 && c->state == CONN_HEADER && c->got == 0) {
			/* left without a word, or after its last reply: nothing to report */
			conn_close(s, c);
			return;
		}
		conn_refuse(s, c, LOG_WARNING, n == 0 ? "truncated frame" : "read error",
		            n == 0 ? "the client closed before the end of its request" : strerror(errno));
		return;
	}
}

static void accept_all(struct ntlmd_server *s)
{
	for (;;) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct epoll_event ev = {.events = EPOLLIN};
		struct conn *c, *victim;
		struct ntlmd_peer peer;
		int64_t now;
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				ntlmd_log(LOG_ERR, "cannot accept connections: %s", strerror(errno));
				s->listen_paused_until = ntlmd_now_ms() + EMFILE_PAUSE_MS;
				ev.events = 0;
				ev.data.u64 = TAG_LISTEN;
				epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, s->listen_fd, &ev);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
				ntlmd_log(LOG_ERR, "accept: %s", strerror(errno));
			}
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			ntlmd_log(LOG_ERR, "SO_PEERCRED: %s; connection closed", strerror(errno));
			close(fd);
			continue;
		}
		now = ntlmd_now_ms();
		peer = (struct ntlmd_peer){
		    .uid = (uint32_t)cred.uid, .gid = (uint32_t)cred.gid, .pid = (int32_t)cred.pid};
		if (s->n_free == 0 && (victim = idle_victim(s, &peer, now)) != NULL) {
			ntlmd_log(LOG_DEBUG,
			          "idle connection from uid=%u pid=%d closed to make room for another caller",
			          (unsigned)victim->peer.uid, (int)victim->peer.pid);
			conn_close(s, victim);
		}
		if (s->n_free == 0 && (victim = flood_victim(s, &peer, now)) != NULL)
			conn_refuse(s, victim, LOG_WARNING, "making room for another caller",
			            "this uid holds most of max_connections");
		if (s->n_free == 0) {
			s->ctx->counters.refused++;
			if (now - s->overflow_logged >= OVERFLOW_LOG_MS) {
				ntlmd_log(LOG_WARNING,
				          "connection from uid=%u pid=%d closed: %zu connections open "
				          "(max_connections)"
				          "; %llu more closed since the last message",
				          (unsigned)cred.uid, (int)cred.pid, s->max_conns,
				          (unsigned long long)s->overflow_quiet);
				s->overflow_logged = now;
				s->overflow_quiet = 0;
			} else {
				s->overflow_quiet++;
			}
			close(fd);
			continue;
		}
		c = &s->conns[s->free_slots[--s->n_free]];
		*c = (struct conn){
		    .fd = fd,
		    .peer = peer,
		    .opened = now,
		    .events = EPOLLIN,
		    .state = CONN_HEADER,
		};
		conn_set_deadline(s, c, now + read_timeout_ms(s));
		s->ctx->counters.connections++;
		ev.data.u64 = (uint64_t)(c - s->conns);
		if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			ntlmd_log(LOG_ERR, "epoll_ctl: %s; connection closed", strerror(errno));
			conn_close(s, c);
		}
	}
}

/* Closes connections past their deadline; returns ms until the next one
 * (at most TICK_MS). The connections are scanned only once the earliest
 * deadline set since the last scan has come. */
static int expire(struct ntlmd_server *s)
{
	int64_t now = s->now, next = now + TICK_MS;
	char detail[64];

	if (now < s->next_expiry) {
		if (s->next_expiry < next)
			next = s->next_expiry;
		goto out;
	}
	for (size_t i = 0; i < s->max_conns; i++) {
		struct conn *c = &s->conns[i];

		if (c->fd < 0)
			continue;
		if (c->deadline <= now && conn_idle(c)) {
			/* a kept connection unused for idle_timeout: a normal end */
			ntlmd_log(
			    LOG_DEBUG,
			    "idle connection from uid=%u pid=%d closed after %u requests (idle_timeout)",
			    (unsigned)c->peer.uid, (int)c->peer.pid, c->served);
			conn_close(s, c);
			continue;
		}
		if (c->deadline <= now && c->state == CONN_STORE) {
			request_expired(s, c);
			if (c->fd >= 0 && c->deadline < next)
				next = c->deadline;
			continue;
		}
		if (c->deadline <= now && c->state == CONN_ACCESS) {
			conn_refuse(s, c, LOG_WARNING, "the caller's groups were not known in time",
			            "NSS did not answer");
			continue;
		}
		if (c->deadline <= now) {
			snprintf(detail, sizeof(detail), "%lld ms", (long long)read_timeout_ms(s));
			conn_refuse(s, c, LOG_WARNING,
			            c->state == CONN_REPLY ? "reply not read in time"
			                                   : "request not received in time",
			            detail);
			continue;
		}
		if (c->deadline < next)
			next = c->deadline;
	}
	s->next_expiry = next;
out:
	if (s->listen_paused_until != 0 && s->listen_paused_until < next)
		next = s->listen_paused_until;
	return (int)(next > now ? next - now : 0);
}

static void read_signals(struct ntlmd_server *s)
{
	struct signalfd_siginfo si;

	while (read(s->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			ntlmd_log(LOG_INFO, "SIGHUP: reloading the configuration");
			if (s->hooks.reload != NULL)
				s->hooks.reload(s->hooks.arg);
		} else {
			ntlmd_log(LOG_INFO, "signal %u: shutting down", (unsigned)si.ssi_signo);
			s->stop = true;
		}
	}
}

struct ntlmd_server *ntlmd_server_new(int listen_fd, struct ntlmd_context *ctx, unsigned max_connections,
                                      const struct ntlmd_server_hooks *hooks)
{
	struct ntlmd_server *s;
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t set;
	int saved;

	if (max_connections == 0)
		max_connections = 1;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->listen_fd = listen_fd;
	s->epoll_fd = s->signal_fd = -1;
	s->ctx = ctx;
	s->hooks = *hooks;
	s->max_conns = max_connections;
	s->conns = calloc(max_connections, sizeof(*s->conns));
	s->free_slots = calloc(max_connections, sizeof(*s->free_slots));
	if (s->conns == NULL || s->free_slots == NULL)
		goto fail;
	for (size_t i = 0; i < max_connections; i++) {
		s->conns[i].fd = -1;
		s->free_slots[s->n_free++] = max_connections - 1 - i;
	}

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		goto fail;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		goto fail;
	s->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->signal_fd < 0 || s->epoll_fd < 0)
		goto fail;
	if (fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(listen_fd, F_SETFD, FD_CLOEXEC) < 0)
		goto fail;
	ev.data.u64 = TAG_LISTEN;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev) < 0)
		goto fail;
	ev.data.u64 = TAG_SIGNAL;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->signal_fd, &ev) < 0)
		goto fail;
	/* after the signal mask is set: the workers inherit it blocked */
	s->pool = ntlmd_pool_new(ctx->cfg->store_workers, max_connections / 2 > 0 ? max_connections / 2 : 1);
	if (s->pool == NULL)
		goto fail;
	ctx->pool = s->pool;
	ev.data.u64 = TAG_POOL;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, ntlmd_pool_fd(s->pool), &ev) < 0)
		goto fail;
	s->now = s->last_tick = ntlmd_now_ms();
	return s;
fail:
	saved = errno;
	ntlmd_server_free(s);
	errno = saved;
	return NULL;
}

int ntlmd_server_run(struct ntlmd_server *s)
{
	struct epoll_event events[MAX_EVENTS];

	while (!s->stop) {
		int timeout = expire(s);
		int n = epoll_wait(s->epoll_fd, events, MAX_EVENTS, timeout);

		s->now = ntlmd_now_ms();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ntlmd_log(LOG_ERR, "epoll_wait: %s", strerror(errno));
			return -1;
		}
		/* Signals first: a SIGHUP (audit file rotation) sent before a
		 * request arrived takes effect before that request's record. */
		for (int i = 0; i < n; i++)
			if (events[i].data.u64 == TAG_SIGNAL)
				read_signals(s);
		for (int i = 0; i < n; i++) {
			uint64_t tag = events[i].data.u64;
			struct conn *c;

			if (tag == TAG_LISTEN) {
				accept_all(s);
				continue;
			}
			if (tag == TAG_SIGNAL)
				continue;
			if (tag == TAG_POOL) {
				pool_back(s);
				continue;
			}
			c = &s->conns[tag];
			if (c->fd < 0)
				continue; /* closed by an earlier event of this round */
			if (c->state == CONN_STORE || c->state == CONN_ACCESS) {
				/* watched for nothing: the client hung up while it waited */
				conn_hung_up(s, c);
				continue;
			}
			if (c->state == CONN_REPLY)
				conn_write(s, c);
			else
				conn_read(s, c);
		}
		s->now = ntlmd_now_ms();
		if (s->listen_paused_until != 0 && s->now >= s->listen_paused_until) {
			struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_LISTEN};

			s->listen_paused_until = 0;
			epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, s->listen_fd, &ev);
		}
		if (s->now - s->last_tick >= TICK_MS) {
			s->last_tick = s->now;
			if (s->hooks.tick != NULL)
				s->hooks.tick(s->hooks.arg);
		}
	}
	return 0;
}

void ntlmd_server_free(struct ntlmd_server *s)
{
	struct ntlmd_job *job;

	if (s == NULL)
		return;
	/* the slots are initialised only when both arrays were allocated */
	for (size_t i = 0; s->conns != NULL && s->free_slots != NULL && i < s->max_conns; i++)
		if (s->conns[i].fd >= 0)
			conn_close(s, &s->conns[i]);
	/* every job comes back (run, or cancelled): nothing is left to a
	 * worker when the chains are closed */
	ntlmd_pool_stop(s->pool);
	while (s->pool != NULL && (job = ntlmd_pool_done(s->pool)) != NULL) {
		if (job->kind == NTLMD_JOB_REQUEST)
			ntlmd_request_free((struct ntlmd_request *)(void *)job);
		else if (job->kind == NTLMD_JOB_WRITEBACK)
			ntlmd_writeback_free((struct ntlmd_writeback *)(void *)job);
		else
			free(job);
	}
	if (s->ctx != NULL && s->ctx->pool == s->pool)
		s->ctx->pool = NULL;
	ntlmd_pool_free(s->pool);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	if (s->signal_fd >= 0)
		close(s->signal_fd);
	free(s->conns);
	free(s->free_slots);
	free(s);
}
