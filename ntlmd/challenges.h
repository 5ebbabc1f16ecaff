/*
 * challenges.h: the server challenges ntlmd has issued or seen used, so
 * that each CHALLENGE answers one AUTHENTICATE only.
 *
 * An entry is keyed by the 8-byte server challenge. A challenge the daemon
 * issued is usable once, within its lifetime, by the service that asked
 * for it. A challenge it did not issue (the caller built the CHALLENGE) is
 * accepted once and then remembered as used, so a replayed AUTHENTICATE is
 * refused too. Entries are kept for a retention time the caller chooses
 * (handlers.c: long enough that the acceptor's NTLMv2 timestamp check
 * refuses a replay by itself once the entry is gone).
 *
 * Memory follows use: the table starts with room for
 * NTLMD_CHALLENGES_INITIAL entries and doubles when full, up to
 * max_entries; expired entries are dropped first, and when max_entries
 * live entries are held new ones are refused. A caller uid may hold at
 * most max_pending_per_uid issued challenges that are neither used nor
 * past their lifetime (pending), so one caller cannot take the whole table.
 *
 * A front end (Squid, a web server through PAM) relays for many clients,
 * so its requests may name the client address: the pending challenges of
 * one uid for one address are limited too (max_pending_per_address), and a
 * request that names an address is never refused for its uid's limit: the
 * oldest pending challenges in the table are forgotten instead, until one
 * of that uid's is. A forgotten challenge costs its client nothing but its
 * binding to the service: an answer to it is taken as one to a challenge
 * the caller built (accepted once, then remembered as used), as is an
 * answer to any challenge past its retention. So an address flooding the
 * table with NEGOTIATEs it never finishes is refused past its own limit,
 * and the other addresses of the same front end still get challenges.
 * IPv6 addresses count by their /64 prefix (one host may hold a whole
 * /64); an IPv4-mapped IPv6 address counts as its IPv4 address.
 *
 * Times passed in are milliseconds of a monotonic clock; entries keep
 * them as whole seconds since the first call, rounded up (a challenge is
 * usable, and an entry kept, at least as long as asked, at most a second
 * longer).
 */
#ifndef PAM_NTLM_NTLMD_CHALLENGES_H
#define PAM_NTLM_NTLMD_CHALLENGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntlmssp.h"

/* The room a new table starts with (or max_entries, if smaller). */
#define NTLMD_CHALLENGES_INITIAL 4096u
/* The bound of max_entries: entry positions are 32-bit. */
#define NTLMD_CHALLENGES_LIMIT 100000000u

struct ntlmd_challenges;

/* Which limit refused the last entry (NTLM_ERR_INSUFFICIENT_RESOURCES). */
enum ntlmd_challenge_limit {
	NTLMD_LIMIT_NONE = 0,
	NTLMD_LIMIT_TABLE,   /* max_entries live entries */
	NTLMD_LIMIT_UID,     /* the caller's uid holds max_pending_per_uid unused challenges */
	NTLMD_LIMIT_ADDRESS, /* ... and max_pending_per_address for the client address */
};

/* A challenge to remember (ntlmd_challenges_issue_for). */
struct ntlmd_issue {
	const char *service;
	uint32_t uid;                   /* the caller */
	const char *address;            /* the client address the caller named; NULL or "": none */
	size_t max_pending_per_address; /* >= 1: what uid may hold pending for it */
	int64_t now;                    /* ms */
	int64_t valid_ms;               /* usable until now + valid_ms */
	int64_t retain_ms;              /* remembered until now + retain_ms (at least valid_ms) */
};

/* max_entries in 1..NTLMD_CHALLENGES_LIMIT; max_pending_per_uid >= 1. */
enum ntlm_status ntlmd_challenges_new(size_t max_entries, size_t max_pending_per_uid,
                                      struct ntlmd_challenges **ret) NTLM_MUST_USE;
/* NULL-safe. */
void ntlmd_challenges_free(struct ntlmd_challenges *c);
/* New limits (a reload): entries held stay; a smaller max_entries refuses
 * new ones until enough have expired. */
enum ntlm_status ntlmd_challenges_set_limits(struct ntlmd_challenges *c, size_t max_entries,
                                             size_t max_pending_per_uid) NTLM_MUST_USE;

/*
 * Remembers a challenge the daemon issued for service, at the request of
 * uid: usable until now + valid_ms, remembered until now + retain_ms (at
 * least until now + valid_ms). NTLM_ERR_INSUFFICIENT_RESOURCES when uid
 * holds max_pending_per_uid unused challenges within their lifetime, or the
 * table holds max_entries live entries (ntlmd_challenges_limit_hit() says
 * which); NTLM_ERR_INTERNAL when the challenge is already known (the
 * caller draws another one).
 */
enum ntlm_status ntlmd_challenges_issue(struct ntlmd_challenges *c, const uint8_t challenge[8],
                                        const char *service, uint32_t uid, int64_t now, int64_t valid_ms,
                                        int64_t retain_ms) NTLM_MUST_USE;

/*
 * The same for a request that may name the client address. With an
 * address, the uid may hold at most req->max_pending_per_address pending
 * challenges for it (past that: NTLM_ERR_INSUFFICIENT_RESOURCES, limit
 * NTLMD_LIMIT_ADDRESS), and the uid's own limit refuses nothing: when uid
 * holds max_pending_per_uid, the oldest pending challenges of the table are
 * forgotten until one of uid's is. Without an address, as
 * ntlmd_challenges_issue(). NTLM_ERR_INVALID_ARGUMENT when an address
 * comes with max_pending_per_address 0.
 */
enum ntlm_status ntlmd_challenges_issue_for(struct ntlmd_challenges *c, const uint8_t challenge[8],
                                            const struct ntlmd_issue *req) NTLM_MUST_USE;

/*
 * Uses a challenge for a verification by service. NTLM_OK when it is
 * usable: issued by the daemon (*ret_issued true) and unused, unexpired and
 * for this service, or unknown (*ret_issued false). Either way it is
 * remembered as used until at least now + retain_ms. Otherwise:
 * NTLM_STATUS_CHALLENGE_EXPIRED (used already, or past its lifetime),
 * NTLM_STATUS_CHALLENGE_MISMATCH (issued for another service; it is used up
 * too), NTLM_ERR_INSUFFICIENT_RESOURCES (an unknown challenge and the table
 * holds max_entries live entries).
 */
enum ntlm_status ntlmd_challenges_use(struct ntlmd_challenges *c, const uint8_t challenge[8],
                                      const char *service, int64_t now, int64_t retain_ms,
                                      bool *ret_issued) NTLM_MUST_USE;

/* The limit behind the last NTLM_ERR_INSUFFICIENT_RESOURCES. */
enum ntlmd_challenge_limit ntlmd_challenges_limit_hit(const struct ntlmd_challenges *c);

/* The text a client address counts by, in the challenge limits and the
 * lockout alike: an IPv4 address (IPv4-mapped ones too) as a.b.c.d, an
 * IPv6 address as its /64 prefix ("2001:db8:1:2::/64": one host may use
 * a whole /64), anything else as written (cut to NTLMD_ADDRESS_KEY - 1). */
#define NTLMD_ADDRESS_KEY 300
void ntlmd_address_key(const char *address, char out[NTLMD_ADDRESS_KEY]);
/* Entries held now (live or not yet dropped). */
size_t ntlmd_challenges_count(const struct ntlmd_challenges *c);
/* Entries there is room for without growing. */
size_t ntlmd_challenges_capacity(const struct ntlmd_challenges *c);
/* Bytes the table holds for its entries and buckets. */
size_t ntlmd_challenges_memory(const struct ntlmd_challenges *c);
/* The unused challenges within their lifetime issued to uid, as of the
 * last call that looked (issue). */
size_t ntlmd_challenges_pending(const struct ntlmd_challenges *c, uint32_t uid);
/* The same for uid and one client address (by its /64 for IPv6). */
size_t ntlmd_challenges_pending_address(const struct ntlmd_challenges *c, uint32_t uid, const char *address);
/* Pending challenges forgotten to make room (a uid at its limit), since
 * the table was made. */
uint64_t ntlmd_challenges_forgotten(const struct ntlmd_challenges *c);
/* The uids and client addresses (or uids without one) that hold pending
 * challenges: the groups they are counted in, 24 bytes and an index slot
 * each; the room for them shrinks back when none is left. */
size_t ntlmd_challenges_groups(const struct ntlmd_challenges *c);

/* Sizes the bucket array of a hash table of ntlmd for max_entries entries
 * (a power of two, at least max_entries and 16) and draws its random
 * hash key. */
enum ntlm_status ntlmd_hash_setup(size_t max_entries, uint8_t key[16], size_t *ret_buckets) NTLM_MUST_USE;

/* SipHash-2-4 of p[0..len) under a 16-byte key: the table hash of
 * ntlmd, keyed with random bytes so a caller cannot aim at one bucket. */
uint64_t ntlmd_siphash(const uint8_t key[16], const void *p, size_t len);

#endif /* PAM_NTLM_NTLMD_CHALLENGES_H */
