/*
 * request.h: one request in ntlmd, from its decoded frame to its reply,
 * with everything that is its own in one struct (after SSSD's per-request
 * state and docs/daemon-requests.md). A handler runs in steps on the loop
 * thread: start makes every check that needs no store and either replies
 * or asks one store call and waits; resume runs when the call's answer is
 * in, and replies or asks again. Only the store call itself may wait, and
 * it runs in a worker (pool.h) unless the chain can answer it at once
 * without the network (a files user, a cache hit): then the request is
 * answered in the same turn of the loop.
 *
 *   new -> start -> [call -> resume]... -> finish (reply, audit) -> free
 *
 * The request keeps a reference to the setup (configuration and chain)
 * it started under until it is freed: a reload meanwhile does not change
 * what it runs with. Its hashes live in its store call's account and in
 * the library's verification state, both wiped when the call is cleared
 * and the request freed; nothing of them reaches the reply, the audit
 * record or a log line.
 */
#ifndef PAM_NTLM_NTLMD_REQUEST_H
#define PAM_NTLM_NTLMD_REQUEST_H

#include "context.h"
#include "pool.h"

/* What a request may ask of the stores: the chain's operations, and the
 * one NSS call a request makes (CREATE: the system user's uid). */
enum ntlmd_store_op {
	NTLMD_CALL_NONE = 0,
	NTLMD_CALL_LOOKUP,          /* the account user (in domain) names */
	NTLMD_CALL_SET_PASSWORD,    /* nt_hash for the account user finds, if its key is key */
	NTLMD_CALL_ADD_SYSTEM_USER, /* user, known to NSS and to no store, added with nt_hash */
	NTLMD_CALL_GROUP_MEMBER,    /* whether user (key) is in group */
};

/* A store call: the question (strings borrowed from the request, which
 * outlives the call), then the answer. */
struct ntlmd_store_call {
	enum ntlmd_store_op op;
	const char *user, *domain, *key, *group;
	struct ntlm_hash nt_hash; /* SET_PASSWORD, ADD_SYSTEM_USER; wiped by clear */
	int64_t now;              /* Unix seconds, for the stores' timestamps */
	/* the answer */
	enum ntlm_status status;
	struct ntlmd_account account; /* LOOKUP; wiped by clear */
	const char *backend;          /* LOOKUP, GROUP_MEMBER: the store that answered (static) */
	bool member;                  /* GROUP_MEMBER */
	bool uid0_refused;            /* ADD_SYSTEM_USER: refused, the user's uid is 0 */
	bool waited;                  /* a worker answered it */
	int64_t elapsed_us;           /* the worker's time on it (STATS) */
};

/* Answers call at once when the chain can without waiting (LOOKUP only:
 * see ntlmd_backends_lookup_now); false: it needs a worker. */
bool ntlmd_store_call_now(struct ntlmd_backend_chain *chain, struct ntlmd_store_call *call);
/* Answers call, waiting as long as the stores take: in a worker. */
void ntlmd_store_call_run(struct ntlmd_backend_chain *chain, struct ntlmd_store_call *call);
/* Wipes the hashes and frees the answer; the call is then empty. */
void ntlmd_store_call_clear(struct ntlmd_store_call *call);

enum ntlmd_step { NTLMD_STEP_REPLY, NTLMD_STEP_WAIT };

struct ntlmd_request;

struct ntlmd_handler {
	uint16_t type;
	const char *name;
	enum ntlmd_access access;
	/* Loop thread, never waits: sets req->status and the reply fields,
	 * or fills req->call (ntlmd_request_ask) and waits. */
	enum ntlmd_step (*start)(struct ntlmd_context *ctx, struct ntlmd_request *req);
	/* Loop thread, once req->call holds its answer; may ask again. NULL
	 * for a handler that never waits. */
	enum ntlmd_step (*resume)(struct ntlmd_context *ctx, struct ntlmd_request *req);
	/* Frees req->state (wiping what needs it); NULL when it has none. */
	void (*clear)(struct ntlmd_request *req);
};

/* A lockout write-back the request leaves behind, run by a worker after
 * the reply (fire and forget): the outcome of a password check, for the
 * store that answered the lookup (ldap lockout_writeback). */
struct ntlmd_writeback {
	struct ntlmd_job job;
	struct ntlmd_setup *setup; /* a reference: the chain it goes to */
	const char *backend;       /* static: the store's name */
	char *user;                /* the account's own name */
	int64_t bad_count;
	enum ntlm_status outcome;
	int64_t now;
};

/* Job kinds (ntlmd_job.kind) of the daemon's jobs. */
enum { NTLMD_JOB_REQUEST = 1, NTLMD_JOB_WRITEBACK, NTLMD_JOB_ACCESS };

struct ntlmd_request {
	struct ntlmd_job job; /* the store call, in a worker */
	struct ntlmd_peer peer;
	const struct ntlmd_handler *handler;
	struct ntlmd_setup *setup;      /* a reference, released by free */
	struct ntlmd_frame frame;       /* the decoded payload */
	enum ntlm_status frame_status;  /* the payload's decoding: not OK closes the connection */
	struct ntlm_writer reply;       /* the reply's fields */
	enum ntlm_status status;        /* the reply's status */
	struct ntlmd_audit_event event; /* event.request NULL: nothing to record */
	int64_t now;                    /* monotonic ms: at start, then at each resume */
	int64_t started_us;             /* monotonic us at start: the audit's latency */
	struct ntlmd_store_call call;
	void *state;                       /* the handler's */
	struct ntlmd_writeback *writeback; /* left to run after the reply, or NULL */
	bool abandoned; /* answered or dropped while its call ran: free it when the call is back */
	void *owner;    /* the server's: the connection waiting for it */
};

/* A request of type from peer (the type's handler must exist: the header
 * check found it) with its payload decoded, under ctx's setup in service.
 * NULL when out of memory. */
struct ntlmd_request *ntlmd_request_new(struct ntlmd_context *ctx, const struct ntlmd_peer *peer,
                                        uint16_t type, const uint8_t *payload, size_t len);
/* Starts it (a malformed payload is answered with its status): REPLY,
 * or WAIT with req->call to run in a worker. Store calls the chain
 * answers at once are answered here, without waiting. */
enum ntlmd_step ntlmd_request_start(struct ntlmd_context *ctx, struct ntlmd_request *req);
/* In a worker: runs req->call against the request's chain. */
void ntlmd_request_run_call(struct ntlmd_request *req);
/* On the loop, once the call is back: REPLY, or WAIT again. */
enum ntlmd_step ntlmd_request_resume(struct ntlmd_context *ctx, struct ntlmd_request *req);
/* The deadline passed while the call runs: the request is answered
 * NTLM_ERR_BACKEND_UNAVAILABLE (STATUS_NO_LOGON_SERVERS) with an audit
 * detail saying so, and marked abandoned; its call's answer, when it
 * comes, is dropped and counted (late_answers). */
void ntlmd_request_expire(struct ntlmd_context *ctx, struct ntlmd_request *req);
/*
 * Encodes the reply (malloc'd into *ret_reply; wipe and free it), writes
 * the audit record and counts the outcome. NTLM_OK, or a status when no
 * reply can be built (then the connection is closed). The write-back it
 * leaves, if any, is in req->writeback: take it (ntlmd_request_take_writeback).
 */
enum ntlm_status ntlmd_request_finish(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                      uint8_t **ret_reply, size_t *ret_len) NTLM_MUST_USE;
/* The write-back left by the request (the caller's now), or NULL. */
struct ntlmd_writeback *ntlmd_request_take_writeback(struct ntlmd_request *req);
/* In a worker: the write-back. */
void ntlmd_writeback_run(struct ntlmd_writeback *w);
/* On the loop: frees it (its setup reference too). NULL-safe. */
void ntlmd_writeback_free(struct ntlmd_writeback *w);
/* Frees a request (wiping its buffers) and drops its setup reference;
 * NULL-safe. Never while its call runs in a worker. */
void ntlmd_request_free(struct ntlmd_request *req);

/*
 * The whole of one request at once, the store calls run inline (waiting):
 * for tests and tools, never for the loop. NTLM_OK with the reply frame,
 * or a status when none can be built. A write-back is run inline too.
 */
enum ntlm_status ntlmd_dispatch(struct ntlmd_context *ctx, const struct ntlmd_peer *peer, uint16_t type,
                                const uint8_t *payload, size_t len, uint8_t **ret_reply,
                                size_t *ret_len) NTLM_MUST_USE;

/* For handlers (handlers.c, verify.c, ...): asks call op; fill req->call's question
 * after this, then return NTLM_STEP_WAIT. The previous answer is cleared. */
struct ntlmd_store_call *ntlmd_request_ask(struct ntlmd_request *req, enum ntlmd_store_op op);

/* The handler of type (dispatch table, handlers.c), or NULL. */
const struct ntlmd_handler *ntlmd_handler_find(uint16_t type);

#endif /* PAM_NTLM_NTLMD_REQUEST_H */
