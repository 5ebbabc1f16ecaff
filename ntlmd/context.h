/*
 * context.h: what ntlmd's event loop keeps between requests: the
 * challenge and lockout tables, the access rules, the counters, and the
 * configuration and backend chain in service (a reference-counted
 * "setup", so that a SIGHUP can replace them while requests are still
 * waiting on the old chain).
 *
 * Everything here belongs to the loop thread and needs no lock: the store
 * workers (pool.h) never see the context. What a worker needs of a
 * request travels in its store call (request.h).
 */
#ifndef PAM_NTLM_NTLMD_CONTEXT_H
#define PAM_NTLM_NTLMD_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ntlmd_conf.h"
#include "audit.h"
#include "backend.h"
#include "challenges.h"
#include "frame.h"
#include "lockout.h"
#include "metrics.h"

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
	uint64_t requests;           /* answered */
	uint64_t successes;          /* decisions with status OK */
	uint64_t failures;           /* authentication outcomes other than OK */
	uint64_t errors;             /* malformed requests, internal and backend errors */
	uint64_t refused;            /* connections ntlmd closed without an answer (server; not hang-ups) */
	uint64_t connections;        /* open now (server) */
	uint64_t store_waiting;      /* requests waiting for a store worker now */
	uint64_t store_calls;        /* store calls sent to a worker */
	uint64_t store_timeouts;     /* requests answered STATUS_NO_LOGON_SERVERS at store_timeout */
	uint64_t late_answers;       /* store answers that came after their request's deadline:
	                                dropped */
	uint64_t writebacks;         /* lockout write-backs a worker ran */
	uint64_t writebacks_dropped; /* write-backs not run: too many waiting */
	uint64_t store_cancelled;    /* store calls taken back from the queue: nobody waited */
};

/* Callers found privileged lately, by uid (group lists come from NSS). */
#define NTLMD_ACCESS_CACHE    64
#define NTLMD_ACCESS_CACHE_MS 60000

/* MS-CHAP retransmits remembered (VERIFY_RESPONSE): a keyed digest each. */
#define NTLMD_RETRANSMIT_SLOTS 64

/*
 * A configuration and the backend chain opened for it, shared by the
 * context (while in service) and by each request begun under it (until
 * the request is freed). The last reference frees them: a reload never
 * pulls a chain from under a request that waits on it. The count is the
 * loop thread's alone (requests are made and freed there).
 */
struct ntlmd_setup {
	unsigned refs;
	bool owns;                /* free cfg and close chain with the last reference */
	struct ntlmd_config *cfg; /* heap-allocated when owned */
	struct ntlmd_backend_chain *chain;
};

/* A setup of cfg and chain with one reference (the caller's). owns: the
 * setup frees cfg (ntlmd_config_clear, free) and closes chain with its
 * last reference; false: they stay the caller's and must outlive it.
 * NULL when out of memory (nothing is freed then). */
struct ntlmd_setup *ntlmd_setup_new(struct ntlmd_config *cfg, struct ntlmd_backend_chain *chain, bool owns);
struct ntlmd_setup *ntlmd_setup_ref(struct ntlmd_setup *s);
void ntlmd_setup_unref(struct ntlmd_setup *s); /* NULL-safe */

struct ntlmd_context {
	struct ntlmd_setup *setup;      /* in service: new requests take it (a reference) */
	const struct ntlmd_config *cfg; /* setup->cfg */
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

	/* VERIFY_RESPONSE's retransmit window: keyed digests of recent
	 * requests (verify.c) */
	struct {
		int64_t expires;
		uint8_t digest[16];
	} retransmits[NTLMD_RETRANSMIT_SLOTS];
	size_t retransmit_next;
	uint8_t retransmit_key[16];
	bool retransmit_keyed;

	struct ntlmd_counters counters;
	struct ntlmd_stats stats; /* STATS: counts and latency histograms */
	struct ntlmd_pool *pool;  /* the server's store workers, for STATS; NULL without a server */
	int64_t started;          /* monotonic ms */
};

/* Monotonic milliseconds. */
int64_t ntlmd_now_ms(void);

/*
 * Sets up ctx with setup in service (ctx takes a reference). Unknown
 * names in allow_users/allow_groups are logged and skipped (resolved
 * through NSS here, at start-up and reload only).
 */
enum ntlm_status ntlmd_context_init(struct ntlmd_context *ctx, struct ntlmd_setup *setup) NTLM_MUST_USE;
/* After a reload: setup replaces the one in service (ctx takes a
 * reference and drops its old one; requests still waiting keep theirs).
 * The tables are kept. */
void ntlmd_context_reload(struct ntlmd_context *ctx, struct ntlmd_setup *setup);
void ntlmd_context_clear(struct ntlmd_context *ctx);

/* ---- access (access.c) ---- */

/* "VERIFY", ...; NULL for an unknown type. */
const char *ntlmd_request_name(uint16_t type);

enum ntlmd_access_answer {
	NTLMD_ACCESS_ALLOWED,
	NTLMD_ACCESS_REFUSED,
	NTLMD_ACCESS_ASK_NSS, /* only the caller's group list (NSS) can tell */
};

/*
 * Whether peer may send a request of type (checked as soon as the header
 * is read, before the payload), without NSS: root, allow_users, the
 * primary group, the callers judged lately. NTLMD_ACCESS_ASK_NSS: fetch
 * the caller's groups in a worker (ntlmd_peer_groups_fetch), then
 * ntlmd_access_learn. *ret_reason says why a caller is refused.
 */
enum ntlmd_access_answer ntlmd_access_check(struct ntlmd_context *ctx, const struct ntlmd_peer *peer,
                                            uint16_t type, int64_t now, const char **ret_reason);

/* A caller's supplementary groups, by NSS (getpwuid_r, getgrouplist). */
#define NTLMD_PEER_GROUPS 256
struct ntlmd_peer_groups {
	uint32_t uid, gid;
	bool found; /* NSS knows the uid */
	int n;
	gid_t groups[NTLMD_PEER_GROUPS]; /* a user in more is judged on the first ones */
};
/* In a worker (NSS may ask a directory): fills g for g->uid, g->gid. */
void ntlmd_peer_groups_fetch(struct ntlmd_peer_groups *g);
/* On the loop: whether g meets allow_groups, remembered for
 * NTLMD_ACCESS_CACHE_MS. */
bool ntlmd_access_learn(struct ntlmd_context *ctx, const struct ntlmd_peer_groups *g, int64_t now);

/*
 * ntlmd_access_check with the NSS part done inline: for tests and tools,
 * never for the loop (it may wait on NSS). False for unknown types and
 * for callers the table refuses; *ret_reason then says which.
 */
bool ntlmd_request_allowed(struct ntlmd_context *ctx, const struct ntlmd_peer *peer, uint16_t type,
                           const char **ret_reason);

/* Whether peer is privileged as far as ctx knows without NSS (root,
 * allow_users, a primary group in allow_groups, a caller judged lately):
 * the server's rule of who may displace whom when the slots are full. */
bool ntlmd_known_privileged(const struct ntlmd_context *ctx, const struct ntlmd_peer *peer, int64_t now);

#endif /* PAM_NTLM_NTLMD_CONTEXT_H */
