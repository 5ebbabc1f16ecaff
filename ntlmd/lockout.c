/*
 * lockout.c: failure counters in a chained hash table with an LRU list,
 * so the table stays bounded and the least recently touched key goes
 * first when it is full.
 */
#include <stdlib.h>
#include <string.h>

#include "challenges.h"
#include "lockout.h"

struct lentry {
	char *key;
	unsigned failures;
	int64_t window_start; /* first failure of the current window */
	int64_t window;       /* ms: the longest window it was counted under */
	int64_t locked_until; /* 0: not locked */
	int64_t stale_after;  /* nothing to remember about it after then */
	struct lentry *bnext; /* bucket chain */
	struct lentry *newer, *older;
};

struct ntlmd_lockout {
	struct lentry **buckets;
	size_t mask; /* bucket count - 1 */
	size_t count, cap;
	struct lentry *newest, *oldest; /* LRU list */
	uint8_t key[16];
};

enum ntlm_status ntlmd_lockout_new(size_t max_entries, struct ntlmd_lockout **ret)
{
	struct ntlmd_lockout *l = calloc(1, sizeof(*l));
	size_t nb = 0;
	enum ntlm_status st = l != NULL ? ntlmd_hash_setup(max_entries, l->key, &nb) : NTLM_ERR_NO_MEMORY;

	if (st == NTLM_OK && (l->buckets = calloc(nb, sizeof(struct lentry *))) == NULL)
		st = NTLM_ERR_NO_MEMORY;
	if (st != NTLM_OK) {
		ntlmd_lockout_free(l);
		return st;
	}
	l->mask = nb - 1;
	l->cap = max_entries;
	*ret = l;
	return NTLM_OK;
}

void ntlmd_lockout_free(struct ntlmd_lockout *l)
{
	if (l == NULL)
		return;
	for (struct lentry *e = l->newest, *next; e != NULL; e = next) {
		next = e->older;
		free(e->key);
		free(e);
	}
	free(l->buckets);
	free(l);
}

size_t ntlmd_lockout_count(const struct ntlmd_lockout *l)
{
	return l->count;
}

static struct lentry **bucket(const struct ntlmd_lockout *l, const char *key)
{
	return &l->buckets[ntlmd_siphash(l->key, key, strlen(key)) & l->mask];
}

static struct lentry *find_key(const struct ntlmd_lockout *l, const char *key)
{
	for (struct lentry *e = *bucket(l, key); e != NULL; e = e->bnext)
		if (strcmp(e->key, key) == 0) /* not secret: user names and addresses */
			return e;
	return NULL;
}

static void lru_unlink(struct ntlmd_lockout *l, struct lentry *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		l->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		l->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void lru_push(struct ntlmd_lockout *l, struct lentry *e)
{
	e->older = l->newest;
	e->newer = NULL;
	if (l->newest != NULL)
		l->newest->newer = e;
	l->newest = e;
	if (l->oldest == NULL)
		l->oldest = e;
}

static void remove_entry(struct ntlmd_lockout *l, struct lentry *e)
{
	struct lentry **link = bucket(l, e->key);

	while (*link != NULL && *link != e)
		link = &(*link)->bnext;
	if (*link == e)
		*link = e->bnext;
	lru_unlink(l, e);
	free(e->key);
	free(e);
	l->count--;
}

/* Drops stale keys from the old end of the list. */
static void purge(struct ntlmd_lockout *l, int64_t now)
{
	while (l->oldest != NULL && l->oldest->stale_after <= now)
		remove_entry(l, l->oldest);
}

bool ntlmd_lockout_locked(const struct ntlmd_lockout *l, const char *key, int64_t now, int64_t *ret_left_s)
{
	const struct lentry *e = find_key(l, key);

	if (e == NULL || e->locked_until <= now)
		return false;
	if (ret_left_s != NULL)
		*ret_left_s = (e->locked_until - now + 999) / 1000;
	return true;
}

/* The entry a full table gives up for a new key: the least recently
 * touched one that is not locked, among the EVICTION_SCAN oldest, so that
 * a flood of new keys does not unlock what it pushes out; the oldest when
 * all of those are locked. */
#define EVICTION_SCAN 64
static struct lentry *eviction_victim(const struct ntlmd_lockout *l, int64_t now)
{
	struct lentry *e = l->oldest;

	for (int i = 0; e != NULL && i < EVICTION_SCAN; i++, e = e->newer)
		if (e->locked_until <= now)
			return e;
	return l->oldest;
}

bool ntlmd_lockout_fail(struct ntlmd_lockout *l, const char *key, const struct ntlmd_lockout_rule *rule,
                        int64_t now)
{
	int64_t window = (int64_t)rule->window_s * 1000, duration = (int64_t)rule->duration_s * 1000;
	struct lentry *e;
	bool locked = false;

	if (rule->threshold == 0)
		return false;
	purge(l, now);
	e = find_key(l, key);
	if (e == NULL) {
		struct lentry **b;

		if (l->count >= l->cap && l->oldest != NULL)
			remove_entry(l, eviction_victim(l, now));
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			return false;
		e->key = strdup(key);
		if (e->key == NULL) {
			free(e);
			return false;
		}
		b = bucket(l, key);
		e->bnext = *b;
		*b = e;
		l->count++;
	} else {
		lru_unlink(l, e);
	}
	lru_push(l, e);

	if (e->locked_until > now) {
		/* already locked: the lock is not extended by more failures */
	} else {
		/* A key is shared by every service: a service with a shorter
		 * lockout_window must not restart what a longer one counts. */
		if (window > e->window)
			e->window = window;
		if (e->failures == 0 || now - e->window_start >= e->window) {
			e->failures = 0;
			e->window_start = now;
			e->window = window;
		}
		e->failures++;
		if (e->failures >= rule->threshold) {
			e->locked_until = now + duration;
			e->failures = 0;
			locked = true;
		}
	}
	e->stale_after = e->window_start + e->window;
	if (e->locked_until > e->stale_after)
		e->stale_after = e->locked_until;
	return locked;
}

void ntlmd_lockout_clear(struct ntlmd_lockout *l, const char *key)
{
	struct lentry *e = find_key(l, key);

	if (e != NULL)
		remove_entry(l, e);
}
