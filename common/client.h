/*
 * client.h: the client side of the ntlmd protocol, used by pam_ntlm,
 * ntlm_auth and ntlmtool. ntlmd_call(): one call = one connection:
 * connect, send one request, read one reply, close. ntlmd_client: a kept
 * connection that carries one request after the other, for a process that
 * asks often (ntlm_auth, benchmarks). Every call is bounded by a timeout.
 * No signal is raised (MSG_NOSIGNAL) and no descriptor leaks into a child
 * (SOCK_CLOEXEC), so it is safe inside a PAM module of sshd.
 */
#ifndef PAM_NTLM_COMMON_CLIENT_H
#define PAM_NTLM_COMMON_CLIENT_H

#include "frame.h"

/* Default bound on one call, connect to last reply byte. */
#define NTLMD_CLIENT_TIMEOUT_MS 10000u

struct ntlmd_reply {
	enum ntlm_status status;  /* the daemon's verdict (its NTLMD_TAG_STATUS) */
	struct ntlmd_frame frame; /* every field of the reply */
};

/*
 * Sends a request of type with fields (from ntlmd_fields_init(); NULL for
 * none) to the daemon at socket_path (NULL: NTLMD_DEFAULT_SOCKET) and
 * reads its reply, within timeout_ms (0: NTLMD_CLIENT_TIMEOUT_MS).
 *
 * Returns NTLM_OK when a well-formed reply arrived; *ret then holds it and
 * ret->status is the daemon's answer (free with ntlmd_reply_clear()).
 * Otherwise *ret is untouched and the status says what went wrong:
 *   NTLM_ERR_BACKEND_UNAVAILABLE  the daemon could not be reached, or it
 *                                 closed the connection without a reply
 *                                 (which is how it refuses a caller), or
 *                                 the timeout passed; errno is kept
 *                                 (ECONNREFUSED, ENOENT, EACCES,
 *                                 ECONNRESET, ETIMEDOUT, ...);
 *   a malformed-input status      the reply is not a valid frame (errno
 *                                 EPROTO), NTLM_ERR_WRONG_MESSAGE_TYPE when
 *                                 it answers another request type;
 *   the writer's error            the request could not be encoded;
 *   NTLM_ERR_INVALID_ARGUMENT     socket path too long (ENAMETOOLONG).
 */
enum ntlm_status ntlmd_call(const char *socket_path, uint16_t type, const struct ntlm_writer *fields,
                            unsigned timeout_ms, struct ntlmd_reply *ret) NTLM_MUST_USE;

/*
 * A kept connection to the daemon at socket_path (NULL:
 * NTLMD_DEFAULT_SOCKET), each call bounded by timeout_ms (0:
 * NTLMD_CLIENT_TIMEOUT_MS). It connects at the first call and keeps the
 * descriptor (SOCK_CLOEXEC) until ntlmd_client_close() or _free(). Returns
 * NULL with errno (ENAMETOOLONG, ENOMEM). Not for several threads at once,
 * nor for both processes after a fork().
 */
struct ntlmd_client *ntlmd_client_new(const char *socket_path, unsigned timeout_ms) NTLM_MUST_USE;

/*
 * As ntlmd_call(), on the kept connection (made first when there is none).
 * When the daemon had closed a kept connection (the write fails with EPIPE
 * or ECONNRESET, or the stream ends or is reset before any byte of the
 * reply), it connects again and sends the request once more, within the
 * same timeout; a new connection is never retried. Any other failure
 * closes the connection (the next call makes a new one) and returns what
 * ntlmd_call() would.
 */
enum ntlm_status ntlmd_client_call(struct ntlmd_client *c, uint16_t type, const struct ntlm_writer *fields,
                                   struct ntlmd_reply *ret) NTLM_MUST_USE;

/* Closes the connection, if any; the next call makes a new one. NULL-safe. */
void ntlmd_client_close(struct ntlmd_client *c);

/* Closes the connection and frees c. NULL-safe. */
void ntlmd_client_free(struct ntlmd_client *c);

/* Wipes and frees the reply (it may hold a session key). NULL-safe. */
void ntlmd_reply_clear(struct ntlmd_reply *r);

/*
 * A reply made in this process, as ntlmd would send it for a request of
 * type: status and fields (cleared here, whatever the outcome) encoded
 * and decoded back through the frame code, so its reader sees exactly
 * what a daemon's reply gives (ntlm_auth's --local-test-password, the
 * fuzz targets' daemon). The encoded bytes are wiped. NTLM_OK: *ret holds
 * it (free with ntlmd_reply_clear()).
 */
enum ntlm_status ntlmd_reply_make(uint16_t type, enum ntlm_status status, struct ntlm_writer *fields,
                                  struct ntlmd_reply *ret) NTLM_MUST_USE;

#endif /* PAM_NTLM_COMMON_CLIENT_H */
