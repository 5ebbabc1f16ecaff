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
 * past their lifetime, so one caller cannot take the whole table.
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
	NTLMD_LIMIT_TABLE, /* max_entries live entries */
	NTLMD_LIMIT_UID,   /* the caller's uid holds max_pending_per_uid unused challenges */
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
/* Entries held now (live or not yet dropped). */
size_t ntlmd_challenges_count(const struct ntlmd_challenges *c);
/* Entries there is room for without growing. */
size_t ntlmd_challenges_capacity(const struct ntlmd_challenges *c);
/* Bytes the table holds for its entries and buckets. */
size_t ntlmd_challenges_memory(const struct ntlmd_challenges *c);
/* The unused challenges within their lifetime issued to uid, as of the
 * last call that looked (issue). */
size_t ntlmd_challenges_pending(const struct ntlmd_challenges *c, uint32_t uid);

/* Sizes the bucket array of a hash table of ntlmd for max_entries entries
 * (a power of two, at least max_entries and 16) and draws its random
 * hash key. */
enum ntlm_status ntlmd_hash_setup(size_t max_entries, uint8_t key[16], size_t *ret_buckets) NTLM_MUST_USE;

/* SipHash-2-4 of p[0..len) under a 16-byte key: the table hash of
 * ntlmd, keyed with random bytes so a caller cannot aim at one bucket. */
uint64_t ntlmd_siphash(const uint8_t key[16], const void *p, size_t len);

#endif /* PAM_NTLM_NTLMD_CHALLENGES_H */
