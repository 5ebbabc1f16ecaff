/*
 * challenges.h: the server challenges ntlmd has issued or seen used, so
 * that each CHALLENGE answers one AUTHENTICATE only.
 *
 * An entry is keyed by the 8-byte server challenge. A challenge the daemon
 * issued is usable once, within its lifetime, by the service that asked
 * for it. A challenge it did not issue (the caller built the CHALLENGE) is
 * accepted once and then remembered as used, so a replayed AUTHENTICATE is
 * refused too. Used entries are kept for a retention time the caller
 * chooses (challenge_lifetime + max_clock_skew: past that the acceptor's
 * timestamp check refuses an NTLMv2 replay by itself).
 *
 * Memory is bounded: at most max_entries entries; expired ones are dropped
 * first; when every entry is still live, new ones are refused.
 * Times are milliseconds of a monotonic clock.
 */
#ifndef PAM_NTLM_NTLMD_CHALLENGES_H
#define PAM_NTLM_NTLMD_CHALLENGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntlmssp.h"

#define NTLMD_CHALLENGES_MAX 100000u

struct ntlmd_challenges;

enum ntlm_status ntlmd_challenges_new(size_t max_entries, struct ntlmd_challenges **ret) NTLM_MUST_USE;
/* NULL-safe. */
void ntlmd_challenges_free(struct ntlmd_challenges *c);

/*
 * Remembers a challenge the daemon issued for service: usable until
 * now + valid_ms, remembered until now + retain_ms. NTLM_ERR_NO_MEMORY when
 * the table is full of live entries; NTLM_ERR_INTERNAL when the challenge
 * is already known (the caller draws another one).
 */
enum ntlm_status ntlmd_challenges_issue(struct ntlmd_challenges *c, const uint8_t challenge[8],
                                        const char *service, int64_t now, int64_t valid_ms,
                                        int64_t retain_ms) NTLM_MUST_USE;

/*
 * Uses a challenge for a verification by service. NTLM_OK when it is
 * usable: issued by the daemon (*ret_issued true) and unused, unexpired and
 * for this service, or unknown (*ret_issued false). Either way it is
 * remembered as used until at least now + retain_ms. Otherwise:
 * NTLM_STATUS_CHALLENGE_EXPIRED (used already, or past its lifetime),
 * NTLM_STATUS_CHALLENGE_MISMATCH (issued for another service; it is used up
 * too), NTLM_ERR_NO_MEMORY (an unknown challenge and no room to remember it).
 */
enum ntlm_status ntlmd_challenges_use(struct ntlmd_challenges *c, const uint8_t challenge[8],
                                      const char *service, int64_t now, int64_t retain_ms,
                                      bool *ret_issued) NTLM_MUST_USE;

/* Entries held now (live or not yet dropped). */
size_t ntlmd_challenges_count(const struct ntlmd_challenges *c);

/* Sizes the bucket array of a hash table of ntlmd for max_entries entries
 * (a power of two, at least max_entries and 16) and draws its random
 * hash key. */
enum ntlm_status ntlmd_hash_setup(size_t max_entries, uint8_t key[16], size_t *ret_buckets) NTLM_MUST_USE;

/* SipHash-2-4 of p[0..len) under a 16-byte key: the table hash of
 * ntlmd, keyed with random bytes so a caller cannot aim at one bucket. */
uint64_t ntlmd_siphash(const uint8_t key[16], const void *p, size_t len);

#endif /* PAM_NTLM_NTLMD_CHALLENGES_H */
