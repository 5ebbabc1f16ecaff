/*
 * server.h: ntlmd's event loop. One thread, one epoll set: the listening
 * socket, a signalfd (SIGHUP, SIGTERM, SIGINT) and every client
 * connection, each non-blocking with its own deadline, so a slow or
 * hostile client never holds up another.
 *
 * A connection carries requests one after the other: the 12-byte header is
 * checked as soon as it arrives (type known, caller allowed by the
 * SO_PEERCRED taken at accept), the payload is read into a buffer of
 * exactly its announced length (at most NTLMD_MAX_PAYLOAD), the reply is
 * written, and only then is the next header read (never more than one
 * frame is read ahead of its reply). A connection idle between two
 * requests longer than idle_timeout, or that reached
 * max_requests_per_connection, is closed quietly; a malformed frame
 * (header or payload), an oversized length, an unknown or forbidden type
 * or a missed read_timeout closes it with one log line that names the
 * caller's uid and pid. When every slot is taken, the connection idle
 * longest makes room first.
 *
 * The loop never waits on a store. A request whose store call the chain
 * cannot answer from memory goes to the store workers (pool.h) and its
 * connection waits, watched for nothing but a hang-up, until the answer
 * comes back through the pool's descriptor in the same epoll set; the
 * other connections are served meanwhile. Its deadline is store_timeout:
 * then it is answered STATUS_NO_LOGON_SERVERS, and the late answer is
 * dropped and counted. A caller's group list (allow_groups) is fetched
 * the same way, before its payload is read. Each connection has at most
 * one request in flight, so max_connections bounds them; a uid may have
 * at most max_connections / 2 store calls waiting for a worker (the share
 * past which the slot rule below cuts its oldest connection), and the
 * workers take the uids in turn.
 */
#ifndef PAM_NTLM_NTLMD_SERVER_H
#define PAM_NTLM_NTLMD_SERVER_H

#include <stdbool.h>

#include "request.h"

struct ntlmd_server;

/* What the loop asks of main.c. */
struct ntlmd_server_hooks {
	/* SIGHUP: reload the configuration and refresh the backends. */
	void (*reload)(void *arg);
	/* About once a second: periodic work (backend refresh). */
	void (*tick)(void *arg);
	void *arg;
};

/*
 * Sets up the loop on listen_fd (a bound, listening UNIX stream socket;
 * made non-blocking here) for ctx, with room for max_connections clients.
 * Blocks SIGHUP, SIGTERM and SIGINT (they are read from a signalfd) and
 * ignores SIGPIPE. Returns NULL with errno on failure.
 */
struct ntlmd_server *ntlmd_server_new(int listen_fd, struct ntlmd_context *ctx, unsigned max_connections,
                                      const struct ntlmd_server_hooks *hooks);
/* Serves until SIGTERM or SIGINT: 0, or -1 with errno when the loop
 * itself failed. */
int ntlmd_server_run(struct ntlmd_server *s);
/* Closes every connection (not the listening socket); NULL-safe. */
void ntlmd_server_free(struct ntlmd_server *s);

#endif /* PAM_NTLM_NTLMD_SERVER_H */
