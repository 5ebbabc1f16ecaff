/*
 * challenges.c: the table of issued and used server challenges.
 *
 * Entries live in a ring in insertion order, so the oldest are dropped
 * from its head; a chained hash over ring positions finds them. Used
 * entries may be retained longer than those behind them, so when the ring
 * is full a compaction drops every expired entry wherever it is.
 */
#include <stdlib.h>
#include <string.h>

#include "challenges.h"

#define NONE UINT32_MAX

enum entry_state { ENTRY_ISSUED = 1, ENTRY_USED };

struct entry {
	uint64_t challenge;   /* the 8 bytes, little-endian */
	uint64_t service;     /* keyed hash of the service name */
	int64_t valid_until;  /* an issued challenge is usable until then */
	int64_t retain_until; /* the entry is kept until then */
	uint32_t next;        /* next ring position in the same bucket */
	uint8_t state;
};

struct ntlmd_challenges {
	struct entry *ring;
	size_t cap, head, count;
	uint32_t *buckets;   /* ring position of the first entry, or NONE */
	size_t mask;         /* bucket count - 1 (a power of two) */
	uint8_t key[16];     /* hash key */
	int64_t next_expiry; /* no entry expires before then (compaction) */
};

/* ------------------------------------------------------------------ */
/* SipHash-2-4 (Aumasson and Bernstein, 2012)                          */

static uint64_t rotl(uint64_t x, unsigned b)
{
	return x << b | x >> (64 - b);
}

static uint64_t load64(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

static void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl(v[1], 13) ^ v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl(v[1], 17) ^ v[2];
	v[2] = rotl(v[2], 32);
}

uint64_t ntlmd_siphash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0 = load64(key, 8), k1 = load64(key + 8, 8);
	uint64_t v[4] = {k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
	                 k1 ^ 0x7465646279746573ull};
	uint64_t m;
	size_t i;

	for (i = 0; len - i >= 8; i += 8) {
		m = load64(p + i, 8);
		v[3] ^= m;
		sipround(v);
		sipround(v);
		v[0] ^= m;
	}
	m = load64(p + i, len - i) | (uint64_t)(len & 0xff) << 56;
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ------------------------------------------------------------------ */

enum ntlm_status ntlmd_hash_setup(size_t max_entries, uint8_t key[16], size_t *ret_buckets)
{
	size_t nb = 16;

	if (max_entries == 0 || max_entries > SIZE_MAX / 4)
		return NTLM_ERR_INVALID_ARGUMENT;
	while (nb < max_entries)
		nb *= 2;
	*ret_buckets = nb;
	return ntlm_random(key, 16);
}

enum ntlm_status ntlmd_challenges_new(size_t max_entries, struct ntlmd_challenges **ret)
{
	struct ntlmd_challenges *c;
	size_t nb;
	enum ntlm_status st;

	if (max_entries >= NONE)
		return NTLM_ERR_INVALID_ARGUMENT;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NTLM_ERR_NO_MEMORY;
	if ((st = ntlmd_hash_setup(max_entries, c->key, &nb)) != NTLM_OK) {
		free(c);
		return st;
	}
	c->ring = calloc(max_entries, sizeof(*c->ring));
	c->buckets = malloc(nb * sizeof(*c->buckets));
	c->cap = max_entries;
	c->mask = nb - 1;
	if (c->ring == NULL || c->buckets == NULL) {
		ntlmd_challenges_free(c);
		return NTLM_ERR_NO_MEMORY;
	}
	memset(c->buckets, 0xff, nb * sizeof(*c->buckets)); /* NONE */
	*ret = c;
	return NTLM_OK;
}

void ntlmd_challenges_free(struct ntlmd_challenges *c)
{
	if (c == NULL)
		return;
	free(c->ring);
	free(c->buckets);
	ntlm_wipe(c->key, sizeof(c->key));
	free(c);
}

size_t ntlmd_challenges_count(const struct ntlmd_challenges *c)
{
	return c->count;
}

static size_t bucket_of(const struct ntlmd_challenges *c, uint64_t challenge)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(challenge >> (8 * i));
	return (size_t)ntlmd_siphash(c->key, b, sizeof(b)) & c->mask;
}

static uint32_t find_entry(const struct ntlmd_challenges *c, uint64_t challenge)
{
	for (uint32_t i = c->buckets[bucket_of(c, challenge)]; i != NONE; i = c->ring[i].next)
		if (c->ring[i].challenge == challenge)
			return i;
	return NONE;
}

/* Takes ring position pos out of its bucket chain. */
static void unlink_entry(struct ntlmd_challenges *c, uint32_t pos)
{
	uint32_t *link = &c->buckets[bucket_of(c, c->ring[pos].challenge)];

	while (*link != NONE && *link != pos)
		link = &c->ring[*link].next;
	if (*link == pos)
		*link = c->ring[pos].next;
}

/* Drops expired entries from the head of the ring. */
static void purge_head(struct ntlmd_challenges *c, int64_t now)
{
	while (c->count > 0 && c->ring[c->head].retain_until <= now) {
		unlink_entry(c, (uint32_t)c->head);
		c->head = (c->head + 1) % c->cap;
		c->count--;
	}
}

/* Drops every expired entry wherever it is: the live ones are packed at
 * the start of the ring, in order, and the buckets rebuilt. Nothing is
 * tried again before the earliest live entry expires. */
static void compact(struct ntlmd_challenges *c, int64_t now)
{
	struct entry *tmp;
	size_t kept = 0;
	int64_t earliest = INT64_MAX;

	if (now < c->next_expiry)
		return;
	tmp = malloc(c->cap * sizeof(*tmp));
	if (tmp == NULL)
		return;
	for (size_t i = 0; i < c->count; i++) {
		const struct entry *e = &c->ring[(c->head + i) % c->cap];
		if (e->retain_until <= now)
			continue;
		if (e->retain_until < earliest)
			earliest = e->retain_until;
		tmp[kept++] = *e;
	}
	c->next_expiry = earliest;
	if (kept < c->count) {
		memcpy(c->ring, tmp, kept * sizeof(*tmp));
		c->head = 0;
		c->count = kept;
		memset(c->buckets, 0xff, (c->mask + 1) * sizeof(*c->buckets));
		for (size_t i = 0; i < kept; i++) {
			size_t b = bucket_of(c, c->ring[i].challenge);
			c->ring[i].next = c->buckets[b];
			c->buckets[b] = (uint32_t)i;
		}
	}
	free(tmp);
}

/* Appends an entry; NTLM_ERR_NO_MEMORY when every entry is live. */
static enum ntlm_status add(struct ntlmd_challenges *c, const struct entry *e, int64_t now)
{
	size_t pos, b;

	purge_head(c, now);
	if (c->count == c->cap)
		compact(c, now);
	if (c->count == c->cap)
		return NTLM_ERR_NO_MEMORY;
	pos = (c->head + c->count) % c->cap;
	b = bucket_of(c, e->challenge);
	c->ring[pos] = *e;
	c->ring[pos].next = c->buckets[b];
	c->buckets[b] = (uint32_t)pos;
	c->count++;
	return NTLM_OK;
}

static uint64_t service_hash(const struct ntlmd_challenges *c, const char *service)
{
	if (service == NULL)
		service = "";
	return ntlmd_siphash(c->key, service, strlen(service));
}

enum ntlm_status ntlmd_challenges_issue(struct ntlmd_challenges *c, const uint8_t challenge[8],
                                        const char *service, int64_t now, int64_t valid_ms, int64_t retain_ms)
{
	struct entry e = {
	    .challenge = load64(challenge, 8),
	    .service = service_hash(c, service),
	    .valid_until = now + valid_ms,
	    .retain_until = now + (retain_ms > valid_ms ? retain_ms : valid_ms),
	    .state = ENTRY_ISSUED,
	};

	purge_head(c, now);
	if (find_entry(c, e.challenge) != NONE)
		return NTLM_ERR_INTERNAL;
	return add(c, &e, now);
}

enum ntlm_status ntlmd_challenges_use(struct ntlmd_challenges *c, const uint8_t challenge[8],
                                      const char *service, int64_t now, int64_t retain_ms, bool *ret_issued)
{
	uint64_t key = load64(challenge, 8);
	uint32_t pos;
	struct entry *e;
	enum ntlm_status st = NTLM_OK;

	purge_head(c, now);
	pos = find_entry(c, key);
	if (pos == NONE) {
		/* Built by the caller: accepted once, then remembered as used. */
		struct entry n = {.challenge = key,
		                  .service = service_hash(c, service),
		                  .valid_until = now,
		                  .retain_until = now + retain_ms,
		                  .state = ENTRY_USED};
		if ((st = add(c, &n, now)) != NTLM_OK)
			return st;
		*ret_issued = false;
		return NTLM_OK;
	}
	e = &c->ring[pos];
	if (e->retain_until <= now)
		st = NTLM_STATUS_CHALLENGE_EXPIRED; /* waiting to be purged: too old anyway */
	else if (e->state == ENTRY_USED)
		st = NTLM_STATUS_CHALLENGE_EXPIRED;
	else if (now > e->valid_until)
		st = NTLM_STATUS_CHALLENGE_EXPIRED;
	else if (e->service != service_hash(c, service))
		st = NTLM_STATUS_CHALLENGE_MISMATCH;
	e->state = ENTRY_USED;
	if (e->retain_until < now + retain_ms)
		e->retain_until = now + retain_ms;
	if (st == NTLM_OK)
		*ret_issued = true;
	return st;
}
