/*
 * access.c: who may send which request (the dispatch table's access
 * column), decided on the loop from what it knows, with the one part
 * that may wait (the caller's group list from NSS, which may ask a
 * directory) run in a worker.
 */
#include <config.h>

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "request.h"

const char *ntlmd_request_name(uint16_t type)
{
	const struct ntlmd_handler *h = ntlmd_handler_find(type);

	return h != NULL ? h->name : NULL;
}

static bool in_gids(const struct ntlmd_context *ctx, uint32_t gid)
{
	for (size_t i = 0; i < ctx->n_allow_gids; i++)
		if (ctx->allow_gids[i] == gid)
			return true;
	return false;
}

/* root, allow_users, a primary group in allow_groups: true; false when
 * that is all there is to ask (no allow_groups); else *ret_unknown. */
static bool privileged_by_ids(const struct ntlmd_context *ctx, const struct ntlmd_peer *peer,
                              bool *ret_unknown)
{
	*ret_unknown = false;
	if (peer->uid == 0)
		return true;
	for (size_t i = 0; i < ctx->n_allow_uids; i++)
		if (ctx->allow_uids[i] == peer->uid)
			return true;
	if (ctx->n_allow_gids == 0)
		return false;
	if (in_gids(ctx, peer->gid))
		return true;
	*ret_unknown = true;
	return false;
}

/* A remembered verdict for uid: 1 privileged, 0 not, -1 none. */
static int cached_verdict(const struct ntlmd_context *ctx, uint32_t uid, int64_t now)
{
	for (size_t i = 0; i < NTLMD_ACCESS_CACHE; i++)
		if (ctx->access_cache[i].expires > now && ctx->access_cache[i].uid == uid)
			return ctx->access_cache[i].privileged ? 1 : 0;
	return -1;
}

bool ntlmd_known_privileged(const struct ntlmd_context *ctx, const struct ntlmd_peer *peer, int64_t now)
{
	bool unknown;

	if (privileged_by_ids(ctx, peer, &unknown))
		return true;
	return unknown && cached_verdict(ctx, peer->uid, now) == 1;
}

enum ntlmd_access_answer ntlmd_access_check(struct ntlmd_context *ctx, const struct ntlmd_peer *peer,
                                            uint16_t type, int64_t now, const char **ret_reason)
{
	const struct ntlmd_handler *h = ntlmd_handler_find(type);
	bool unknown;
	int verdict;

	if (h == NULL) {
		*ret_reason = "unknown request type";
		return NTLMD_ACCESS_REFUSED;
	}
	if (h->access == NTLMD_FROM_ANYONE)
		return NTLMD_ACCESS_ALLOWED;
	*ret_reason = h->access == NTLMD_FROM_ROOT ? "request reserved to root"
	                                           : "caller not in allow_users or allow_groups";
	if (h->access == NTLMD_FROM_ROOT)
		return peer->uid == 0 ? NTLMD_ACCESS_ALLOWED : NTLMD_ACCESS_REFUSED;
	if (privileged_by_ids(ctx, peer, &unknown))
		return NTLMD_ACCESS_ALLOWED;
	if (!unknown)
		return NTLMD_ACCESS_REFUSED;
	verdict = cached_verdict(ctx, peer->uid, now);
	if (verdict >= 0)
		return verdict == 1 ? NTLMD_ACCESS_ALLOWED : NTLMD_ACCESS_REFUSED;
	return NTLMD_ACCESS_ASK_NSS;
}

/* getpwuid_r and getgrouplist: reentrant, unlike getpwuid, so that
 * several workers may ask at once. */
void ntlmd_peer_groups_fetch(struct ntlmd_peer_groups *g)
{
	struct passwd pw, *found = NULL;
	long size = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t buf_len = size > 0 ? (size_t)size : 16384;
	char *buf = malloc(buf_len);

	g->found = false;
	g->n = 0;
	if (buf == NULL)
		return;
	if (getpwuid_r((uid_t)g->uid, &pw, buf, buf_len, &found) == 0 && found != NULL) {
		int n = NTLMD_PEER_GROUPS;

		/* a user in more groups than fit is judged on the first ones */
		if (getgrouplist(pw.pw_name, pw.pw_gid, g->groups, &n) < 0)
			n = NTLMD_PEER_GROUPS;
		g->n = n;
		g->found = true;
	}
	free(buf);
}

bool ntlmd_access_learn(struct ntlmd_context *ctx, const struct ntlmd_peer_groups *g, int64_t now)
{
	bool allowed = in_gids(ctx, g->gid);
	size_t slot;

	for (int i = 0; g->found && i < g->n && !allowed; i++)
		allowed = in_gids(ctx, (uint32_t)g->groups[i]);
	slot = ctx->access_cache_next++ % NTLMD_ACCESS_CACHE;
	ctx->access_cache[slot].uid = g->uid;
	ctx->access_cache[slot].privileged = allowed;
	ctx->access_cache[slot].expires = now + NTLMD_ACCESS_CACHE_MS;
	return allowed;
}

bool ntlmd_request_allowed(struct ntlmd_context *ctx, const struct ntlmd_peer *peer, uint16_t type,
                           const char **ret_reason)
{
	int64_t now = ntlmd_now_ms();
	enum ntlmd_access_answer a = ntlmd_access_check(ctx, peer, type, now, ret_reason);
	struct ntlmd_peer_groups g = {.uid = peer->uid, .gid = peer->gid};

	if (a != NTLMD_ACCESS_ASK_NSS)
		return a == NTLMD_ACCESS_ALLOWED;
	ntlmd_peer_groups_fetch(&g);
	return ntlmd_access_learn(ctx, &g, now);
}
