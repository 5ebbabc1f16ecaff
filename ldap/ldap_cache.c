/*
 * ldap_cache.c: the ldap store's cache of accounts, positive and negative,
 * by lower-case user name; entries are wiped on eviction.
 */
#include <config.h>

#include "ldap_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned bucket_of(const char *key)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 16777619u;
	return h % CACHE_BUCKETS;
}

void ntlmd_ldap_lower_key(const char *user, char *key, size_t n)
{
	size_t i;

	for (i = 0; user[i] && i + 1 < n; i++)
		key[i] = (char)tolower((unsigned char)user[i]);
	key[i] = '\0';
}

static void entry_free(struct cache_entry *e)
{
	ntlmd_account_clear(&e->account);
	free(e->key);
	free(e);
}

struct cache_entry *ntlmd_ldap_cache_find_locked(struct ntlmd_ldap_store *s, const char *key)
{
	for (struct cache_entry *e = s->buckets[bucket_of(key)]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void cache_remove_locked(struct ntlmd_ldap_store *s, const char *key)
{
	for (struct cache_entry **p = &s->buckets[bucket_of(key)]; *p != NULL; p = &(*p)->next)
		if (strcmp((*p)->key, key) == 0) {
			struct cache_entry *e = *p;
			*p = e->next;
			entry_free(e);
			s->cached--;
			return;
		}
}

void ntlmd_ldap_cache_remove(struct ntlmd_ldap_store *s, const char *key)
{
	pthread_mutex_lock(&s->cache_lock);
	cache_remove_locked(s, key);
	pthread_mutex_unlock(&s->cache_lock);
}

/* Drops every entry of the account at dn, under whichever spelling a
 * client found it: the directory matches "x", " x" and "X" alike, and an
 * entry kept under another spelling would hide the count and the L just
 * written (attack3 F2). Without memory for the key, the whole cache. */
void ntlmd_ldap_cache_forget_dn(struct ntlmd_ldap_store *s, const char *dn)
{
	char *key = ntlmd_account_key("ldap", dn);

	pthread_mutex_lock(&s->cache_lock);
	for (unsigned b = 0; b < CACHE_BUCKETS; b++)
		for (struct cache_entry **p = &s->buckets[b]; *p != NULL;) {
			struct cache_entry *e = *p;
			if (key == NULL || (e->account.key != NULL && strcmp(e->account.key, key) == 0)) {
				*p = e->next;
				entry_free(e);
				s->cached--;
			} else {
				p = &e->next;
			}
		}
	pthread_mutex_unlock(&s->cache_lock);
	free(key);
}

/* Drops the entries expired for longer than keep seconds (all of them when
 * keep < 0). */
void ntlmd_ldap_cache_sweep_locked(struct ntlmd_ldap_store *s, int64_t now, int64_t keep)
{
	for (unsigned b = 0; b < CACHE_BUCKETS; b++)
		for (struct cache_entry **p = &s->buckets[b]; *p != NULL;) {
			struct cache_entry *e = *p;
			if (keep < 0 || now - e->expires > keep) {
				*p = e->next;
				entry_free(e);
				s->cached--;
			} else {
				p = &e->next;
			}
		}
}

bool ntlmd_ldap_account_copy(const struct ntlmd_account *a, struct ntlmd_account *ret)
{
	*ret = *a;
	ret->name = ret->domain = ret->key = ret->sid = NULL;
	ret->workstations = NULL;
	if ((ret->name = strdup(a->name)) == NULL ||
	    (a->key != NULL && (ret->key = strdup(a->key)) == NULL) ||
	    (a->sid != NULL && (ret->sid = strdup(a->sid)) == NULL) ||
	    (a->domain != NULL && (ret->domain = strdup(a->domain)) == NULL))
		goto fail;
	if (a->workstations != NULL) {
		size_t n = 0;
		while (a->workstations[n] != NULL)
			n++;
		ret->workstations = calloc(n + 1, sizeof(char *));
		if (ret->workstations == NULL)
			goto fail;
		for (size_t i = 0; i < n; i++)
			if ((ret->workstations[i] = strdup(a->workstations[i])) == NULL)
				goto fail;
	}
	return true;
fail:
	ntlmd_account_clear(ret);
	return false;
}

/* Keeps a copy of a (NULL: a negative entry) for ttl seconds. */
void ntlmd_ldap_cache_put(struct ntlmd_ldap_store *s, const char *key, const struct ntlmd_account *a,
                          unsigned ttl)
{
	struct cache_entry *e;
	int64_t now = ntlmd_ldap_mono_now();

	if (ttl == 0)
		return;
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->key = strdup(key)) == NULL ||
	    (a != NULL && !ntlmd_ldap_account_copy(a, &e->account))) {
		if (e != NULL)
			free(e->key);
		free(e);
		return;
	}
	e->negative = a == NULL;
	e->expires = now + ttl;
	pthread_mutex_lock(&s->cache_lock);
	cache_remove_locked(s, key);
	if (s->cached >= CACHE_MAX)
		ntlmd_ldap_cache_sweep_locked(s, now, 0);
	if (s->cached >= CACHE_MAX)
		ntlmd_ldap_cache_sweep_locked(s, now, -1); /* full of live entries: start afresh */
	e->next = s->buckets[bucket_of(key)];
	s->buckets[bucket_of(key)] = e;
	s->cached++;
	pthread_mutex_unlock(&s->cache_lock);
}

/* A live cache entry for key: *ret_hit true with its answer (a copy of the
 * account, or NO_SUCH_USER for a negative entry); a miss is counted. */
enum ntlm_status ntlmd_ldap_cache_get(struct ntlmd_ldap_store *s, const char *key, int64_t now,
                                      struct ntlmd_account *ret, bool *ret_hit)
{
	const struct cache_entry *e;
	enum ntlm_status st = NTLM_OK;

	pthread_mutex_lock(&s->cache_lock);
	e = ntlmd_ldap_cache_find_locked(s, key);
	/* a lockout that ran out is read again (and cleared: auto_unlock) */
	*ret_hit = e != NULL && e->expires >= now &&
	           (e->account.locked_until <= 0 || e->account.locked_until > (int64_t)time(NULL));
	if (*ret_hit) {
		s->stats.cache_hits++;
		if (e->negative)
			st = NTLM_STATUS_NO_SUCH_USER;
		else if (!ntlmd_ldap_account_copy(&e->account, ret))
			st = NTLM_ERR_NO_MEMORY;
	}
	pthread_mutex_unlock(&s->cache_lock);
	return st;
}

void ntlmd_ldap_count_miss(struct ntlmd_ldap_store *s)
{
	pthread_mutex_lock(&s->cache_lock);
	s->stats.cache_misses++;
	pthread_mutex_unlock(&s->cache_lock);
}
