/*
 * lockout.h: failed-logon counters kept in the daemon's memory.
 *
 * One table counts failures per key (ntlmd keeps one for user names and
 * one for client addresses). Failures count within a window; at the
 * threshold the key is locked for a duration, and the daemon refuses it
 * with STATUS_ACCOUNT_LOCKED_OUT before verifying anything. A success
 * clears the key. Memory is bounded: at most max_entries keys; stale ones
 * go first, then the least recently touched.
 * Times are milliseconds of a monotonic clock.
 */
#ifndef PAM_NTLM_NTLMD_LOCKOUT_H
#define PAM_NTLM_NTLMD_LOCKOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntlmssp.h"

#define NTLMD_LOCKOUT_MAX 100000u

struct ntlmd_lockout;

/* When to lock: threshold failures (0 = never) within window_s seconds
 * lock the key for duration_s seconds. */
struct ntlmd_lockout_rule {
	unsigned threshold;
	unsigned window_s;
	unsigned duration_s;
};

enum ntlm_status ntlmd_lockout_new(size_t max_entries, struct ntlmd_lockout **ret) NTLM_MUST_USE;
/* NULL-safe. */
void ntlmd_lockout_free(struct ntlmd_lockout *l);

/* True when key is locked at now; *ret_left_s (may be NULL) is then the
 * number of seconds left. */
bool ntlmd_lockout_locked(const struct ntlmd_lockout *l, const char *key, int64_t now, int64_t *ret_left_s);
/* Counts a failure for key; true when this failure locked it. Does nothing
 * when rule->threshold is 0. */
bool ntlmd_lockout_fail(struct ntlmd_lockout *l, const char *key, const struct ntlmd_lockout_rule *rule,
                        int64_t now);
/* Forgets key (after a success). */
void ntlmd_lockout_clear(struct ntlmd_lockout *l, const char *key);
/* Keys held now. */
size_t ntlmd_lockout_count(const struct ntlmd_lockout *l);

#endif /* PAM_NTLM_NTLMD_LOCKOUT_H */
