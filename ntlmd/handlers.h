/*
 * handlers.h: what ntlmd does with a request. One dispatch table maps each
 * request type to its access class and handler; handlers read the decoded
 * request, write the reply fields and return the status, and do no I/O,
 * so they run in unit tests without a socket. The server owns the sockets
 * and writes the audit record the handler filled in.
 *
 * ntlmd is single-threaded: one struct ntlmd_context serves every request,
 * one at a time.
 */
#ifndef PAM_NTLM_NTLMD_HANDLERS_H
#define PAM_NTLM_NTLMD_HANDLERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ntlmd_conf.h"
#include "audit.h"
#include "backend.h"
#include "challenges.h"
#include "frame.h"
#include "lockout.h"

/* The caller, by SO_PEERCRED. */
struct ntlmd_peer {
	uint32_t uid;
	uint32_t gid;
	int32_t pid;
};

/* Who may send a request type. */
enum ntlmd_access {
	NTLMD_FROM_ANYONE = 0,
	NTLMD_FROM_PRIVILEGED, /* root, allow_users, allow_groups */
	NTLMD_FROM_ROOT,
};

/* Since start-up; PING reports them. */
struct ntlmd_counters {
	uint64_t requests;    /* answered */
	uint64_t successes;   /* decisions with status OK */
	uint64_t failures;    /* authentication outcomes other than OK */
	uint64_t errors;      /* malformed requests, internal and backend errors */
	uint64_t refused;     /* connections closed without an answer (server) */
	uint64_t connections; /* open now (server) */
};

/* Callers found privileged lately, by uid (group lists come from NSS). */
#define NTLMD_ACCESS_CACHE    64
#define NTLMD_ACCESS_CACHE_MS 60000

struct ntlmd_context {
	const struct ntlmd_config *cfg;
	struct ntlmd_backend_chain *backends;
	struct ntlmd_challenges *challenges;
	struct ntlmd_lockout *user_lockout;
	struct ntlmd_lockout *address_lockout;
	struct ntlm_server_names names;
	char host_name[64]; /* NetBIOS name from the host name when none is configured */

	/* allow_users / allow_groups, resolved to numbers at (re)load */
	uint32_t *allow_uids;
	size_t n_allow_uids;
	uint32_t *allow_gids;
	size_t n_allow_gids;
	struct {
		uint32_t uid;
		bool privileged;
		int64_t expires;
	} access_cache[NTLMD_ACCESS_CACHE];
	size_t access_cache_next;

	/* The warnings of a full challenge table, of a uid or an address at
	 * its cap (indexed by enum ntlmd_challenge_limit) and of challenges
	 * forgotten to make room (the last), rate-limited: when each was last
	 * logged, how many events since. */
	struct ntlmd_limit_warning {
		int64_t logged;
		bool ever;
		unsigned long long quiet;
	} challenge_warnings[NTLMD_LIMIT_ADDRESS + 2];

	struct ntlmd_counters counters;
	int64_t started; /* monotonic ms */
	int64_t now;     /* monotonic ms of the request being served */
	/* The record of the request being served; event.request is NULL when
	 * it deserves none (PING, a CHALLENGE that succeeded). */
	struct ntlmd_audit_event event;
};

/* Monotonic milliseconds. */
int64_t ntlmd_now_ms(void);

/*
 * Sets up ctx for cfg and the open backend chain (both stay owned by the
 * caller and must outlive ctx) and makes it the context the handlers
 * use. Unknown names in allow_users/allow_groups are logged and skipped.
 */
enum ntlm_status ntlmd_context_init(struct ntlmd_context *ctx, const struct ntlmd_config *cfg,
                                    struct ntlmd_backend_chain *backends) NTLM_MUST_USE;
/* After a reload: new configuration and chain (the tables are kept). */
void ntlmd_context_reload(struct ntlmd_context *ctx, const struct ntlmd_config *cfg,
                          struct ntlmd_backend_chain *backends);
void ntlmd_context_clear(struct ntlmd_context *ctx);

/* "VERIFY", ...; NULL for an unknown type. */
const char *ntlmd_request_name(uint16_t type);

/*
 * Whether peer may send a request of type (checked as soon as the header
 * is read, before the payload). False for unknown types and for callers
 * the table refuses; *ret_reason then says which, for the log.
 */
bool ntlmd_request_allowed(const struct ntlmd_peer *peer, uint16_t type, const char **ret_reason);

/*
 * Serves one request whose header was accepted: decodes the payload, runs
 * the handler and encodes the reply (a malformed payload gets a reply
 * with its status). Returns NTLM_OK with the reply frame (malloc'd; wipe
 * and free it), or a status when no reply can be built (the connection
 * is then closed). ctx->event holds the audit record afterwards.
 */
enum ntlm_status ntlmd_dispatch(const struct ntlmd_peer *peer, uint16_t type, const uint8_t *payload,
                                size_t len, uint8_t **ret_reply, size_t *ret_len) NTLM_MUST_USE;

#endif /* PAM_NTLM_NTLMD_HANDLERS_H */
