/*
 * challenges.c: the table of issued and used server challenges.
 *
 * Entries live in a ring in insertion order, so the oldest are dropped
 * from its head; a chained hash over ring positions finds them. Used
 * entries may be retained longer than those behind them, so when the ring
 * is full a compaction drops every expired entry wherever it is. The ring
 * starts small and doubles when it is full (after a compaction) up to
 * max_entries, and halves when it is three quarters empty; each resize
 * and each compaction is one pass over the entries, paid for by the
 * additions or removals since the last one.
 *
 * The unused challenges of each caller uid are counted: an entry is
 * ENTRY_PENDING (counted) from its issue until it is used or its lifetime
 * ends. Issued entries are appended in time order with one lifetime, so a
 * cursor (scan) that walks the ring from its head finds those whose
 * lifetime ended, each once; the same cursor finds the oldest pending
 * entries when some must be forgotten, and each step past one is paid for
 * by that entry's issue.
 *
 * A pending entry belongs to a group: its uid and client address (or its
 * uid alone, without an address). A group holds the counts of its pending
 * entries and exists while it has some, so there are never more groups
 * than pending entries. A forgotten entry leaves its bucket chain at once
 * (it is unknown from then on) and the ring at the next compaction.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "challenges.h"

#define NONE UINT32_MAX

/* Owner slots are 16-bit; a uid past the last one shares it. */
#define OWNER_SLOTS 0xffffu
/* Group numbers are 24-bit: as many groups as pending entries, fewer than
 * NTLMD_CHALLENGES_LIMIT but more than a table of over 16 million entries
 * could need; past that a new group is refused as a full table. */
#define GROUP_LIMIT    0xffffffu
#define GROUPS_INITIAL 16u
/* The bytes of an address text that count (a longer one is cut). */
#define ADDRESS_TEXT_MAX 255u

enum entry_state {
	ENTRY_PENDING = 1, /* issued, unused, within its lifetime: counted for its group */
	ENTRY_ISSUED,      /* issued, unused, past its lifetime */
	ENTRY_USED,
	ENTRY_FORGOTTEN, /* pending once, forgotten to make room: unknown, dropped at the next compaction */
};

/* 28 bytes (4-byte aligned): the memory figure of ntlmd.conf(5). */
struct entry {
	uint32_t challenge[2]; /* the 8 bytes, as two little-endian halves */
	uint32_t next;         /* next ring position in the same bucket */
	uint32_t service;      /* keyed hash of the service name */
	uint32_t valid_until;  /* an issued challenge is usable until then (s) */
	uint32_t retain_until; /* the entry is kept until then (s) */
	uint32_t group : 24;   /* ENTRY_PENDING: the group it counts for */
	uint32_t state : 8;
};
_Static_assert(sizeof(struct entry) == 28, "entry layout");

struct owner {
	uint32_t uid;
	uint32_t pending; /* its ENTRY_PENDING entries */
};

/* The pending entries of one uid for one client address, or for none. */
struct pending_group {
	uint64_t key;     /* keyed hash of the uid and the address (group_key) */
	uint32_t next;    /* next group in its index chain; when free, the next free one */
	uint32_t pending; /* its ENTRY_PENDING entries; 0: free */
	uint16_t owner;   /* owner slot of the uid */
};

struct ntlmd_challenges {
	struct entry *ring;
	size_t cap, head, count;
	size_t scan; /* the first scan entries from head are not ENTRY_PENDING */
	size_t max_entries, max_pending;
	uint32_t *buckets; /* ring position of the first entry, or NONE */
	size_t mask;       /* bucket count - 1 (a power of two) */
	uint8_t key[16];   /* hash key */
	int64_t epoch;     /* ms of the first call: time 0 of the entries */
	bool has_epoch;
	uint32_t next_expiry; /* no entry expires before then (compaction) */
	struct owner *owners;
	size_t n_owners, owners_cap;
	uint16_t *owner_index; /* open addressing: owner slot + 1, or 0 */
	size_t owner_mask;
	struct pending_group *groups;
	size_t groups_cap;     /* room in groups (a power of two) */
	size_t groups_made;    /* groups[0..groups_made) have been handed out */
	size_t n_groups;       /* of which in use */
	uint32_t free_group;   /* the first free one below groups_made, or NONE */
	uint32_t *group_index; /* groups_cap chains of groups by key, or NONE */
	uint64_t forgotten;
	enum ntlmd_challenge_limit limit_hit;
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

/* ------------------------------------------------------------------ */
/* Time: seconds since the epoch of the table                          */

static int64_t since_epoch(struct ntlmd_challenges *c, int64_t now)
{
	if (!c->has_epoch) {
		c->epoch = now;
		c->has_epoch = true;
	}
	return now > c->epoch ? now - c->epoch : 0;
}

/* ms (since the epoch) rounded down / up to whole seconds. */
static uint32_t secs_down(int64_t ms)
{
	return ms / 1000 >= UINT32_MAX ? UINT32_MAX : (uint32_t)(ms / 1000);
}

static uint32_t secs_up(int64_t ms)
{
	return ms <= 0 ? 0 : ms / 1000 >= UINT32_MAX - 1 ? UINT32_MAX : (uint32_t)((ms + 999) / 1000);
}

/* ------------------------------------------------------------------ */
/* Owners: the unused challenges of each uid                           */

static size_t owner_hash(const struct ntlmd_challenges *c, uint32_t uid)
{
	return (size_t)(((uint64_t)uid * 0x9e3779b97f4a7c15ull) >> 32) & c->owner_mask;
}

static void owner_index_put(struct ntlmd_challenges *c, size_t slot)
{
	size_t i = owner_hash(c, c->owners[slot].uid);

	while (c->owner_index[i] != 0)
		i = (i + 1) & c->owner_mask;
	c->owner_index[i] = (uint16_t)(slot + 1);
}

/* Room for twice as many owners; false when out of memory. */
static bool owners_grow(struct ntlmd_challenges *c)
{
	size_t ncap = c->owners_cap != 0 ? c->owners_cap * 2 : 16;
	struct owner *o;
	uint16_t *index;

	if (ncap > OWNER_SLOTS)
		ncap = OWNER_SLOTS;
	o = realloc(c->owners, ncap * sizeof(*o));
	if (o == NULL)
		return false;
	c->owners = o;
	index = calloc(ncap * 2, sizeof(*index));
	if (index == NULL)
		return false;
	free(c->owner_index);
	c->owner_index = index;
	c->owners_cap = ncap;
	c->owner_mask = 1;
	while (c->owner_mask + 1 < ncap * 2)
		c->owner_mask = c->owner_mask * 2 + 1;
	for (size_t s = 0; s < c->n_owners; s++)
		owner_index_put(c, s);
	return true;
}

/* The owner slot of uid, added if new; false when out of memory. */
static bool owner_of(struct ntlmd_challenges *c, uint32_t uid, uint16_t *ret)
{
	if (c->owners_cap != 0)
		for (size_t i = owner_hash(c, uid); c->owner_index[i] != 0; i = (i + 1) & c->owner_mask)
			if (c->owners[c->owner_index[i] - 1].uid == uid) {
				*ret = (uint16_t)(c->owner_index[i] - 1);
				return true;
			}
	if (c->n_owners == OWNER_SLOTS) { /* 65535 uids: the last slot is shared */
		*ret = OWNER_SLOTS - 1;
		return true;
	}
	if (c->n_owners == c->owners_cap && !owners_grow(c))
		return false;
	c->owners[c->n_owners] = (struct owner){.uid = uid};
	owner_index_put(c, c->n_owners);
	*ret = (uint16_t)c->n_owners++;
	return true;
}

/* ------------------------------------------------------------------ */
/* Groups: the unused challenges of each uid and client address        */

/* The bytes an address counts by, after a kind byte: an IPv4 address (an
 * IPv4-mapped IPv6 one too) its 4 bytes, an IPv6 address its /64 prefix,
 * anything else its text (at most ADDRESS_TEXT_MAX bytes). */
/* 4 with the IPv4 address (an IPv4-mapped IPv6 one too) in bytes[0..4),
 * 6 with an IPv6 address's /64 prefix in bytes[0..8), 0 for anything else. */
static int address_parse(const char *address, uint8_t bytes[8])
{
	static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, address, &a4) == 1) {
		memcpy(bytes, &a4, 4);
		return 4;
	}
	if (inet_pton(AF_INET6, address, &a6) != 1)
		return 0;
	if (memcmp(a6.s6_addr, v4_mapped, sizeof(v4_mapped)) == 0) { /* not secret: an address */
		memcpy(bytes, a6.s6_addr + 12, 4);
		return 4;
	}
	memcpy(bytes, a6.s6_addr, 8);
	return 6;
}

static size_t address_bytes(const char *address, uint8_t out[1 + ADDRESS_TEXT_MAX])
{
	int kind = address_parse(address, out + 1);
	size_t n;

	out[0] = (uint8_t)kind;
	if (kind != 0)
		return kind == 4 ? 5 : 9;
	n = strnlen(address, ADDRESS_TEXT_MAX);
	memcpy(out + 1, address, n);
	return 1 + n;
}

void ntlmd_address_key(const char *address, char out[NTLMD_ADDRESS_KEY])
{
	uint8_t b[16] = {0};

	switch (address_parse(address, b)) {
	case 4:
		inet_ntop(AF_INET, b, out, NTLMD_ADDRESS_KEY);
		break;
	case 6: {
		size_t n;
		inet_ntop(AF_INET6, b, out, NTLMD_ADDRESS_KEY); /* the prefix, the rest zero */
		n = strlen(out);
		snprintf(out + n, NTLMD_ADDRESS_KEY - n, "/64");
		break;
	}
	default:
		snprintf(out, NTLMD_ADDRESS_KEY, "%s", address);
		break;
	}
}

/* The key of a group: the keyed hash of the uid and the address bytes
 * (address NULL or "": the uid alone). */
static uint64_t group_key(const struct ntlmd_challenges *c, uint32_t uid, const char *address)
{
	uint8_t b[4 + 1 + ADDRESS_TEXT_MAX];
	size_t n = 4;

	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(uid >> (8 * i));
	if (address != NULL && address[0] != '\0')
		n += address_bytes(address, b + 4);
	return ntlmd_siphash(c->key, b, n);
}

static uint32_t *group_chain(const struct ntlmd_challenges *c, uint64_t key)
{
	return &c->group_index[key & (c->groups_cap - 1)];
}

/* The group of key, or NONE. */
static uint32_t group_find(const struct ntlmd_challenges *c, uint64_t key)
{
	for (uint32_t g = *group_chain(c, key); g != NONE; g = c->groups[g].next)
		if (c->groups[g].key == key)
			return g;
	return NONE;
}

/* Moves the groups to room for ncap (a power of two, >= groups_made),
 * their chains rebuilt; false (nothing changed) when out of memory. */
static bool groups_resize(struct ntlmd_challenges *c, size_t ncap)
{
	uint32_t *index = malloc(ncap * sizeof(*index));
	struct pending_group *groups;

	if (index == NULL)
		return false;
	groups = realloc(c->groups, ncap * sizeof(*groups));
	if (groups == NULL) {
		free(index);
		return false;
	}
	c->groups = groups;
	free(c->group_index);
	c->group_index = index;
	c->groups_cap = ncap;
	memset(index, 0xff, ncap * sizeof(*index)); /* NONE */
	for (uint32_t g = 0; g < c->groups_made; g++) {
		if (c->groups[g].pending == 0)
			continue; /* free: stays in the free list */
		c->groups[g].next = *group_chain(c, c->groups[g].key);
		*group_chain(c, c->groups[g].key) = g;
	}
	return true;
}

/* The group of key, made for owner if there is none: NTLM_ERR_NO_MEMORY,
 * or NTLM_ERR_INSUFFICIENT_RESOURCES when every group number is taken. A
 * new group counts nothing yet: the caller adds its entry at once. */
static enum ntlm_status group_get(struct ntlmd_challenges *c, uint64_t key, uint16_t owner, uint32_t *ret)
{
	uint32_t g = group_find(c, key);

	if (g != NONE) {
		*ret = g;
		return NTLM_OK;
	}
	if (c->free_group != NONE) {
		g = c->free_group;
		c->free_group = c->groups[g].next;
	} else {
		if (c->groups_made == GROUP_LIMIT)
			return NTLM_ERR_INSUFFICIENT_RESOURCES;
		if (c->groups_made == c->groups_cap && !groups_resize(c, c->groups_cap * 2))
			return NTLM_ERR_NO_MEMORY;
		g = (uint32_t)c->groups_made++;
	}
	c->groups[g] = (struct pending_group){.key = key, .next = *group_chain(c, key), .owner = owner};
	*group_chain(c, key) = g;
	c->n_groups++;
	*ret = g;
	return NTLM_OK;
}

/* A group whose last pending entry went: out of its chain, into the free
 * list; the last one gone, the room shrinks back. */
static void group_release(struct ntlmd_challenges *c, uint32_t g)
{
	uint32_t *link = group_chain(c, c->groups[g].key);

	while (*link != NONE && *link != g)
		link = &c->groups[*link].next;
	if (*link == g)
		*link = c->groups[g].next;
	c->groups[g].next = c->free_group;
	c->free_group = g;
	c->n_groups--;
	if (c->n_groups == 0 && c->groups_cap > GROUPS_INITIAL) {
		c->groups_made = 0;
		c->free_group = NONE;
		/* on failure the larger room stays, empty */
		(void)groups_resize(c, GROUPS_INITIAL);
	}
}

/* An ENTRY_PENDING entry stops counting for its group and owner. */
static void settle(struct ntlmd_challenges *c, struct entry *e, uint8_t state)
{
	if (e->state == ENTRY_PENDING) {
		struct pending_group *g = &c->groups[e->group];

		if (c->owners[g->owner].pending > 0)
			c->owners[g->owner].pending--;
		if (g->pending > 0 && --g->pending == 0)
			group_release(c, e->group);
	}
	e->state = state;
}

/* ------------------------------------------------------------------ */
/* The ring and its buckets                                            */

static size_t buckets_for(size_t cap)
{
	size_t nb = 16;

	while (nb < cap)
		nb *= 2;
	return nb;
}

enum ntlm_status ntlmd_challenges_new(size_t max_entries, size_t max_pending_per_uid,
                                      struct ntlmd_challenges **ret)
{
	struct ntlmd_challenges *c;
	size_t nb;
	enum ntlm_status st;

	if (max_entries == 0 || max_entries > NTLMD_CHALLENGES_LIMIT || max_pending_per_uid == 0)
		return NTLM_ERR_INVALID_ARGUMENT;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NTLM_ERR_NO_MEMORY;
	c->cap = max_entries < NTLMD_CHALLENGES_INITIAL ? max_entries : NTLMD_CHALLENGES_INITIAL;
	if ((st = ntlmd_hash_setup(c->cap, c->key, &nb)) != NTLM_OK) {
		free(c);
		return st;
	}
	c->max_entries = max_entries;
	c->max_pending = max_pending_per_uid;
	c->free_group = NONE;
	c->ring = calloc(c->cap, sizeof(*c->ring));
	c->buckets = malloc(nb * sizeof(*c->buckets));
	c->mask = nb - 1;
	if (c->ring == NULL || c->buckets == NULL || !owners_grow(c) || !groups_resize(c, GROUPS_INITIAL)) {
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
	free(c->owners);
	free(c->owner_index);
	free(c->groups);
	free(c->group_index);
	ntlm_wipe(c->key, sizeof(c->key));
	free(c);
}

enum ntlm_status ntlmd_challenges_set_limits(struct ntlmd_challenges *c, size_t max_entries,
                                             size_t max_pending_per_uid)
{
	if (max_entries == 0 || max_entries > NTLMD_CHALLENGES_LIMIT || max_pending_per_uid == 0)
		return NTLM_ERR_INVALID_ARGUMENT;
	c->max_entries = max_entries;
	c->max_pending = max_pending_per_uid;
	return NTLM_OK;
}

enum ntlmd_challenge_limit ntlmd_challenges_limit_hit(const struct ntlmd_challenges *c)
{
	return c->limit_hit;
}

size_t ntlmd_challenges_count(const struct ntlmd_challenges *c)
{
	return c->count;
}

size_t ntlmd_challenges_capacity(const struct ntlmd_challenges *c)
{
	return c->cap;
}

size_t ntlmd_challenges_memory(const struct ntlmd_challenges *c)
{
	return c->cap * sizeof(*c->ring) + (c->mask + 1) * sizeof(*c->buckets);
}

size_t ntlmd_challenges_pending(const struct ntlmd_challenges *c, uint32_t uid)
{
	for (size_t s = 0; s < c->n_owners; s++)
		if (c->owners[s].uid == uid)
			return c->owners[s].pending;
	return 0;
}

size_t ntlmd_challenges_pending_address(const struct ntlmd_challenges *c, uint32_t uid, const char *address)
{
	uint32_t g = group_find(c, group_key(c, uid, address));

	return g != NONE ? c->groups[g].pending : 0;
}

uint64_t ntlmd_challenges_forgotten(const struct ntlmd_challenges *c)
{
	return c->forgotten;
}

size_t ntlmd_challenges_groups(const struct ntlmd_challenges *c)
{
	return c->n_groups;
}

static struct entry *at(const struct ntlmd_challenges *c, size_t i)
{
	return &c->ring[(c->head + i) % c->cap];
}

static size_t bucket_of(const struct ntlmd_challenges *c, const uint32_t challenge[2])
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(challenge[i / 4] >> (8 * (i % 4)));
	return (size_t)ntlmd_siphash(c->key, b, sizeof(b)) & c->mask;
}

static uint32_t find_entry(const struct ntlmd_challenges *c, const uint32_t challenge[2])
{
	for (uint32_t i = c->buckets[bucket_of(c, challenge)]; i != NONE; i = c->ring[i].next)
		if (c->ring[i].challenge[0] == challenge[0] && c->ring[i].challenge[1] == challenge[1])
			return i;
	return NONE;
}

/* Puts ring position pos at the front of its bucket chain. */
static void link_entry(struct ntlmd_challenges *c, size_t pos)
{
	size_t b = bucket_of(c, c->ring[pos].challenge);

	c->ring[pos].next = c->buckets[b];
	c->buckets[b] = (uint32_t)pos;
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

/* Links the count entries from head again (after they moved); forgotten
 * ones stay out. */
static void rebuild_buckets(struct ntlmd_challenges *c)
{
	memset(c->buckets, 0xff, (c->mask + 1) * sizeof(*c->buckets));
	for (size_t i = 0; i < c->count; i++)
		if (at(c, i)->state != ENTRY_FORGOTTEN)
			link_entry(c, (c->head + i) % c->cap);
}

/* Moves the entries, in order, to a ring of ncap >= count positions
 * starting at 0, with buckets for it; false (nothing changed) when out of
 * memory. */
static bool resize(struct ntlmd_challenges *c, size_t ncap)
{
	struct entry *ring;
	size_t nb = buckets_for(ncap);
	uint32_t *buckets;

	if (ncap == 0 || ncap < c->count)
		return false;
	ring = malloc(ncap * sizeof(*ring));
	buckets = nb != c->mask + 1 ? malloc(nb * sizeof(*buckets)) : c->buckets;
	if (ring == NULL || buckets == NULL) {
		free(ring);
		if (buckets != c->buckets)
			free(buckets);
		return false;
	}
	for (size_t i = 0; i < c->count; i++)
		ring[i] = *at(c, i);
	free(c->ring);
	if (buckets != c->buckets)
		free(c->buckets);
	c->ring = ring;
	c->buckets = buckets;
	c->mask = nb - 1;
	c->cap = ncap;
	c->head = 0;
	rebuild_buckets(c);
	return true;
}

/* Walks scan on: each ENTRY_PENDING entry past its lifetime stops
 * counting; stops at the first one still within it. */
static void settle_lifetimes(struct ntlmd_challenges *c, int64_t rel)
{
	while (c->scan < c->count) {
		struct entry *e = at(c, c->scan);

		if (e->state == ENTRY_PENDING) {
			if (rel <= (int64_t)e->valid_until * 1000)
				break;
			settle(c, e, ENTRY_ISSUED);
		}
		c->scan++;
	}
}

/* Drops the head entry. */
static void drop_head(struct ntlmd_challenges *c)
{
	struct entry *e = &c->ring[c->head];

	settle(c, e, e->state == ENTRY_PENDING ? ENTRY_ISSUED : e->state);
	if (e->state != ENTRY_FORGOTTEN)
		unlink_entry(c, (uint32_t)c->head);
	c->head = (c->head + 1) % c->cap;
	c->count--;
	if (c->scan > 0)
		c->scan--;
}

/* Drops expired entries from the head of the ring. */
static void purge_head(struct ntlmd_challenges *c, uint32_t now_s)
{
	while (c->count > 0 && c->ring[c->head].retain_until <= now_s)
		drop_head(c);
}

/* Drops every expired entry wherever it is: the live ones are packed
 * from the head, in order (in place: the write position never passes the
 * read one), and the buckets rebuilt. Nothing is tried again before the
 * earliest live entry expires. */
static void compact(struct ntlmd_challenges *c, int64_t rel)
{
	uint32_t now_s = secs_down(rel), earliest = UINT32_MAX;
	size_t kept = 0;

	if (now_s < c->next_expiry)
		return;
	for (size_t i = 0; i < c->count; i++) {
		struct entry *e = at(c, i);

		if (e->state == ENTRY_PENDING && rel > (int64_t)e->valid_until * 1000)
			settle(c, e, ENTRY_ISSUED);
		if (e->retain_until <= now_s) {
			settle(c, e, e->state == ENTRY_PENDING ? ENTRY_ISSUED : e->state);
			continue;
		}
		if (e->retain_until < earliest)
			earliest = e->retain_until;
		*at(c, kept++) = *e;
	}
	c->next_expiry = earliest;
	if (kept < c->count) {
		c->count = kept;
		c->scan = 0; /* every entry before the first pending one is settled */
		rebuild_buckets(c);
	}
}

/* Whether there is room for one more entry: expired ones dropped, the
 * ring grown if it is full and may grow. Every live entry is kept. */
static bool make_room(struct ntlmd_challenges *c, int64_t rel)
{
	size_t limit = c->max_entries < c->cap ? c->max_entries : c->cap;

	if (c->count < limit)
		return true;
	compact(c, rel);
	/* still over three quarters full: double, rather than compact
	 * again for a few free places */
	if (c->cap < c->max_entries && c->count >= c->cap - c->cap / 4) {
		size_t ncap = c->cap * 2 < c->max_entries ? c->cap * 2 : c->max_entries;
		(void)resize(c, ncap);
	}
	limit = c->max_entries < c->cap ? c->max_entries : c->cap;
	return c->count < limit;
}

/* Halves the ring when it is three quarters empty. */
static void maybe_shrink(struct ntlmd_challenges *c)
{
	size_t floor = NTLMD_CHALLENGES_INITIAL;

	if (c->cap > floor && c->count < c->cap / 4)
		(void)resize(c, c->cap / 2 > floor ? c->cap / 2 : floor);
}

/* Appends an entry, where make_room() found room; a pending one counts
 * for its group and the group's owner. */
static void append(struct ntlmd_challenges *c, const struct entry *e)
{
	size_t pos = (c->head + c->count) % c->cap;

	c->ring[pos] = *e;
	link_entry(c, pos);
	c->count++;
	if (e->retain_until < c->next_expiry)
		c->next_expiry = e->retain_until;
	if (e->state == ENTRY_PENDING) {
		c->groups[e->group].pending++;
		c->owners[c->groups[e->group].owner].pending++;
	}
}

/* Appends an entry; NTLM_ERR_INSUFFICIENT_RESOURCES when max_entries
 * entries are live. */
static enum ntlm_status add(struct ntlmd_challenges *c, const struct entry *e, int64_t rel)
{
	if (!make_room(c, rel)) {
		c->limit_hit = NTLMD_LIMIT_TABLE;
		return NTLM_ERR_INSUFFICIENT_RESOURCES;
	}
	append(c, e);
	return NTLM_OK;
}

/* Forgets the pending entry i places from the head: it stops counting and
 * leaves its bucket chain (an answer to it is now one to a challenge the
 * caller built); the next compaction drops it. */
static void forget(struct ntlmd_challenges *c, size_t i)
{
	size_t pos = (c->head + i) % c->cap;

	settle(c, &c->ring[pos], ENTRY_FORGOTTEN);
	unlink_entry(c, (uint32_t)pos);
	c->ring[pos].retain_until = 0;
	c->next_expiry = 0;
	c->forgotten++;
}

/* Forgets the oldest pending entries, whoever holds them, until one of
 * owner's is gone: false when owner holds none. The scan cursor stops at
 * the oldest pending entry (settle_lifetimes), so each step forgets an
 * entry or passes one that is no longer pending. */
static bool forget_oldest(struct ntlmd_challenges *c, uint16_t owner)
{
	while (c->scan < c->count) {
		const struct entry *e = at(c, c->scan);
		bool mine = e->state == ENTRY_PENDING && c->groups[e->group].owner == owner;

		if (e->state == ENTRY_PENDING)
			forget(c, c->scan);
		c->scan++;
		if (mine)
			return true;
	}
	return false;
}

static uint32_t service_hash(const struct ntlmd_challenges *c, const char *service)
{
	if (service == NULL)
		service = "";
	return (uint32_t)ntlmd_siphash(c->key, service, strlen(service));
}

static void challenge_halves(const uint8_t challenge[8], uint32_t ret[2])
{
	ret[0] = (uint32_t)load64(challenge, 4);
	ret[1] = (uint32_t)load64(challenge + 4, 4);
}

/* The time of a call: the ms since the epoch; expired entries dropped
 * from the head, and the ring halved if it emptied. */
static int64_t begin(struct ntlmd_challenges *c, int64_t now)
{
	int64_t rel = since_epoch(c, now);

	purge_head(c, secs_down(rel));
	maybe_shrink(c);
	return rel;
}

/* The limit that refuses a new pending entry for owner and the group of
 * key, if any. With an address (max_per_address > 0), only the address's
 * own limit refuses: the uid's makes room instead (issue_for). */
static enum ntlmd_challenge_limit pending_limit(const struct ntlmd_challenges *c, uint16_t owner,
                                                uint64_t key, size_t max_per_address)
{
	uint32_t g = group_find(c, key);

	if (max_per_address > 0)
		return g != NONE && c->groups[g].pending >= max_per_address ? NTLMD_LIMIT_ADDRESS
		                                                            : NTLMD_LIMIT_NONE;
	return c->owners[owner].pending >= c->max_pending ? NTLMD_LIMIT_UID : NTLMD_LIMIT_NONE;
}

enum ntlm_status ntlmd_challenges_issue_for(struct ntlmd_challenges *c, const uint8_t challenge[8],
                                            const struct ntlmd_issue *req)
{
	int64_t rel = begin(c, req->now);
	bool has_address = req->address != NULL && req->address[0] != '\0';
	uint64_t key = group_key(c, req->uid, req->address);
	enum ntlmd_challenge_limit limit;
	enum ntlm_status st;
	uint16_t owner;
	uint32_t group;
	struct entry e = {
	    .service = service_hash(c, req->service),
	    .valid_until = secs_up(rel + req->valid_ms),
	    .retain_until = secs_up(rel + (req->retain_ms > req->valid_ms ? req->retain_ms : req->valid_ms)),
	    .state = ENTRY_PENDING,
	};

	if (has_address && req->max_pending_per_address == 0)
		return NTLM_ERR_INVALID_ARGUMENT;
	challenge_halves(challenge, e.challenge);
	if (!owner_of(c, req->uid, &owner))
		return NTLM_ERR_NO_MEMORY;
	settle_lifetimes(c, rel);
	if ((limit = pending_limit(c, owner, key, has_address ? req->max_pending_per_address : 0)) !=
	    NTLMD_LIMIT_NONE) {
		c->limit_hit = limit;
		return NTLM_ERR_INSUFFICIENT_RESOURCES;
	}
	if (find_entry(c, e.challenge) != NONE)
		return NTLM_ERR_INTERNAL;
	if (!make_room(c, rel)) {
		c->limit_hit = NTLMD_LIMIT_TABLE;
		return NTLM_ERR_INSUFFICIENT_RESOURCES;
	}
	while (c->owners[owner].pending >= c->max_pending)
		if (!forget_oldest(c, owner))
			break;
	/* after the forgetting, which may have freed the group */
	if ((st = group_get(c, key, owner, &group)) != NTLM_OK) {
		c->limit_hit = NTLMD_LIMIT_TABLE;
		return st;
	}
	e.group = group;
	append(c, &e);
	return NTLM_OK;
}

enum ntlm_status ntlmd_challenges_issue(struct ntlmd_challenges *c, const uint8_t challenge[8],
                                        const char *service, uint32_t uid, int64_t now, int64_t valid_ms,
                                        int64_t retain_ms)
{
	const struct ntlmd_issue req = {
	    .service = service, .uid = uid, .now = now, .valid_ms = valid_ms, .retain_ms = retain_ms};

	return ntlmd_challenges_issue_for(c, challenge, &req);
}

enum ntlm_status ntlmd_challenges_use(struct ntlmd_challenges *c, const uint8_t challenge[8],
                                      const char *service, int64_t now, int64_t retain_ms, bool *ret_issued)
{
	int64_t rel = begin(c, now);
	uint32_t key[2], pos, retain = secs_up(rel + retain_ms);
	struct entry *e;
	enum ntlm_status st = NTLM_OK;

	challenge_halves(challenge, key);
	pos = find_entry(c, key);
	if (pos == NONE) {
		/* Built by the caller: accepted once, then remembered as used. */
		struct entry n = {.challenge = {key[0], key[1]},
		                  .service = service_hash(c, service),
		                  .retain_until = retain,
		                  .state = ENTRY_USED};
		if ((st = add(c, &n, rel)) != NTLM_OK)
			return st;
		*ret_issued = false;
		return NTLM_OK;
	}
	e = &c->ring[pos];
	if (e->retain_until <= secs_down(rel))
		st = NTLM_STATUS_CHALLENGE_EXPIRED; /* waiting to be purged: too old anyway */
	else if (e->state == ENTRY_USED)
		st = NTLM_STATUS_CHALLENGE_EXPIRED;
	else if (rel > (int64_t)e->valid_until * 1000)
		st = NTLM_STATUS_CHALLENGE_EXPIRED;
	else if (e->service != service_hash(c, service))
		st = NTLM_STATUS_CHALLENGE_MISMATCH;
	settle(c, e, ENTRY_USED);
	if (e->retain_until < retain)
		e->retain_until = retain;
	if (st == NTLM_OK)
		*ret_issued = true;
	return st;
}
