/*
 * context.c: the loop's state between requests (see context.h): the
 * setups in service and their references, the tables, the names the
 * CHALLENGE announces, and allow_users / allow_groups resolved to numbers.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "context.h"

int64_t ntlmd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Setups                                                              */

struct ntlmd_setup *ntlmd_setup_new(struct ntlmd_config *cfg, struct ntlmd_backend_chain *chain, bool owns)
{
	struct ntlmd_setup *s = calloc(1, sizeof(*s));

	if (s != NULL)
		*s = (struct ntlmd_setup){.refs = 1, .owns = owns, .cfg = cfg, .chain = chain};
	return s;
}

struct ntlmd_setup *ntlmd_setup_ref(struct ntlmd_setup *s)
{
	s->refs++;
	return s;
}

/* The last reference closes the chain: by then no worker runs one of its
 * calls (each call holds its request's reference). */
void ntlmd_setup_unref(struct ntlmd_setup *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	if (s->owns) {
		ntlmd_backends_close(s->chain);
		ntlmd_config_clear(s->cfg);
		free(s->cfg);
	}
	free(s);
}

/* ------------------------------------------------------------------ */
/* Context                                                             */

/* Parses a decimal id; false if s is not all digits or too large. */
static bool parse_id(const char *s, uint32_t *ret)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v >= UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

static bool user_id(const char *name, uint32_t *ret)
{
	const struct passwd *pw = getpwnam(name);

	if (pw == NULL)
		return false;
	*ret = (uint32_t)pw->pw_uid;
	return true;
}

static bool group_id(const char *name, uint32_t *ret)
{
	const struct group *gr = getgrnam(name);

	if (gr == NULL)
		return false;
	*ret = (uint32_t)gr->gr_gid;
	return true;
}

/* The ids of names (NULL-terminated, may be NULL): numbers as they are,
 * names through lookup (NSS); unknown names are logged and skipped. */
static uint32_t *resolve_ids(char *const *names, const char *key, bool (*lookup)(const char *, uint32_t *),
                             size_t *ret_n)
{
	size_t n = 0, count = 0;
	uint32_t *ids;

	while (names != NULL && names[n] != NULL)
		n++;
	ids = calloc(n + 1, sizeof(*ids));
	for (size_t i = 0; i < n && ids != NULL; i++) {
		if (parse_id(names[i], &ids[count]) || lookup(names[i], &ids[count]))
			count++;
		else
			ntlmd_log(LOG_WARNING, "%s: '%s' not found; ignored", key, names[i]);
	}
	*ret_n = ids != NULL ? count : 0;
	return ids;
}

/* allow_users and allow_groups as numbers. At start-up and SIGHUP only:
 * names go through NSS here, on the loop (numbers in ntlmd.conf avoid
 * it); the per-request NSS call (getgrouplist) runs in a worker. */
static void resolve_access(struct ntlmd_context *c)
{
	free(c->allow_uids);
	free(c->allow_gids);
	memset(c->access_cache, 0, sizeof(c->access_cache));
	c->allow_uids = resolve_ids(c->cfg->allow_users, "allow_users", user_id, &c->n_allow_uids);
	c->allow_gids = resolve_ids(c->cfg->allow_groups, "allow_groups", group_id, &c->n_allow_gids);
}

/* The names the CHALLENGE announces; the NetBIOS computer name defaults to
 * the first label of the host name, upper-cased, at most 15 characters. */
static void set_names(struct ntlmd_context *c)
{
	const struct ntlmd_config *cfg = c->cfg;

	c->names = (struct ntlm_server_names){
	    .nb_computer = cfg->netbios_name,
	    .nb_domain = cfg->netbios_domain,
	    .dns_computer = cfg->dns_name,
	    .dns_domain = cfg->dns_domain,
	    .dns_tree = cfg->dns_tree,
	};
	if (c->names.nb_computer == NULL || c->names.nb_computer[0] == '\0') {
		char host[256] = "";
		size_t i;

		if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
			strcpy(host, "NTLMD");
		for (i = 0; i < 15 && host[i] != '\0' && host[i] != '.'; i++)
			c->host_name[i] = (char)toupper((unsigned char)host[i]);
		c->host_name[i] = '\0';
		c->names.nb_computer = c->host_name;
	}
}

enum ntlm_status ntlmd_context_init(struct ntlmd_context *c, struct ntlmd_setup *setup)
{
	const struct ntlmd_config *cfg = setup->cfg;
	enum ntlm_status st;

	*c = (struct ntlmd_context){.setup = ntlmd_setup_ref(setup), .cfg = cfg, .started = ntlmd_now_ms()};
	if ((st = ntlmd_challenges_new(cfg->max_challenges, cfg->max_pending_challenges_per_uid,
	                               &c->challenges)) != NTLM_OK ||
	    (st = ntlmd_lockout_new(NTLMD_LOCKOUT_MAX, &c->user_lockout)) != NTLM_OK ||
	    (st = ntlmd_lockout_new(NTLMD_LOCKOUT_MAX, &c->address_lockout)) != NTLM_OK) {
		ntlmd_context_clear(c);
		return st;
	}
	resolve_access(c);
	set_names(c);
	return NTLM_OK;
}

void ntlmd_context_reload(struct ntlmd_context *c, struct ntlmd_setup *setup)
{
	const struct ntlmd_config *cfg = setup->cfg;
	struct ntlmd_setup *old = c->setup;

	c->setup = ntlmd_setup_ref(setup);
	c->cfg = cfg;
	ntlmd_setup_unref(old);
	if (ntlmd_challenges_set_limits(c->challenges, cfg->max_challenges,
	                                cfg->max_pending_challenges_per_uid) != NTLM_OK)
		ntlmd_log(LOG_ERR,
		          "max_challenges %u, max_pending_challenges_per_uid %u: refused; keeping the "
		          "running limits",
		          cfg->max_challenges, cfg->max_pending_challenges_per_uid);
	resolve_access(c);
	set_names(c);
}

void ntlmd_context_clear(struct ntlmd_context *c)
{
	ntlmd_challenges_free(c->challenges);
	ntlmd_lockout_free(c->user_lockout);
	ntlmd_lockout_free(c->address_lockout);
	free(c->allow_uids);
	free(c->allow_gids);
	ntlmd_setup_unref(c->setup);
	ntlm_wipe(c->retransmit_key, sizeof(c->retransmit_key));
	*c = (struct ntlmd_context){0};
}
