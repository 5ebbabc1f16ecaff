/*
 * ldap_conf.c: the ldap keys of ntlmd.conf (nslcd.conf names), parsed and
 * checked with the line number of every problem, and the password files
 * read once (refused when open to group or others).
 */
#include <config.h>

#include "ldap_entry.h"
#include "ldapstore.h"

#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SECONDS   3600u
#define MAX_CACHE_TTL 86400u
#define MAX_PW_FILE   1024

/* A password file, read by check_whole once every key is known. */
struct pw_file {
	const char *path; /* cfg's value; NULL: not given */
	unsigned line;
};

/* What a parse fills: the settings, and what the checks of the whole file need. */
struct parse {
	struct ntlmd_ldap_conf c;
	struct ntlmd_config_report rep;
	unsigned sasl_line;
	struct pw_file bindpw, rootpw;
};

#define fail(p, ...) ntlmd_config_report_add(&(p)->rep, __VA_ARGS__)

static enum ntlm_status parse_uri(void *conf, const char *value, unsigned line,
                                  struct ntlmd_config_report *rep);
static enum ntlm_status parse_map(void *conf, const char *value, unsigned line,
                                  struct ntlmd_config_report *rep);
static enum ntlm_status parse_bindpw_file(void *conf, const char *value, unsigned line,
                                          struct ntlmd_config_report *rep);
static enum ntlm_status parse_rootpw_file(void *conf, const char *value, unsigned line,
                                          struct ntlmd_config_report *rep);
static enum ntlm_status parse_sasl_mech(void *conf, const char *value, unsigned line,
                                        struct ntlmd_config_report *rep);

static const struct ntlmd_config_word scope_words[] = {
    {"sub", LDAP_SCOPE_SUBTREE},       {"subtree", LDAP_SCOPE_SUBTREE}, {"one", LDAP_SCOPE_ONELEVEL},
    {"onelevel", LDAP_SCOPE_ONELEVEL}, {"base", LDAP_SCOPE_BASE},       {NULL, 0},
};
static const struct ntlmd_config_word ssl_words[] = {
    {"off", NTLMD_LDAP_SSL_OFF}, {"no", NTLMD_LDAP_SSL_OFF}, {"start_tls", NTLMD_LDAP_SSL_START_TLS},
    {"on", NTLMD_LDAP_SSL_ON},   {"yes", NTLMD_LDAP_SSL_ON}, {NULL, 0},
};
static const struct ntlmd_config_word reqcert_words[] = {
    {"never", LDAP_OPT_X_TLS_NEVER},   {"allow", LDAP_OPT_X_TLS_ALLOW}, {"try", LDAP_OPT_X_TLS_TRY},
    {"demand", LDAP_OPT_X_TLS_DEMAND}, {"hard", LDAP_OPT_X_TLS_HARD},   {NULL, 0},
};
/* an ENUM is stored through an int */
_Static_assert(sizeof(enum ntlmd_ldap_ssl) == sizeof(int), "enum size");

#define FIELD(f)              .off = offsetof(struct parse, c.f)
#define TYPED(t, f)           .type = (t), FIELD(f)
#define SECONDS(f, low, high) TYPED(NTLMD_CONF_NUMBER, f), .min = (low), .max = (high)
#define CUSTOM(fn)            .type = NTLMD_CONF_CUSTOM, .hook = (fn)

/* The ldap keys of ntlmd.conf (nslcd.conf names), each with its type and
 * bounds: ntlmd_config_store_parse reads them into struct parse. A timelimit
 * of 0 would wait forever: those take 1 at least. */
const struct ntlmd_config_store_key ntlmd_ldap_config_keys[] = {
    {"uri", CUSTOM(parse_uri), .repeatable = true},
    {"base", TYPED(NTLMD_CONF_STRINGS, bases), .repeatable = true},
    {"scope", TYPED(NTLMD_CONF_ENUM, scope), .words = scope_words},
    {"filter", TYPED(NTLMD_CONF_FILTER, filter)},
    {"timelimit", SECONDS(timelimit, 1, MAX_SECONDS)},
    {"bind_timelimit", SECONDS(bind_timelimit, 1, MAX_SECONDS)},
    {"binddn", TYPED(NTLMD_CONF_STRING, binddn)},
    {"bindpw_file", CUSTOM(parse_bindpw_file)},
    {"rootbinddn", TYPED(NTLMD_CONF_STRING, rootbinddn)},
    {"rootbindpw_file", CUSTOM(parse_rootpw_file)},
    {"rootpwmodpw_file", CUSTOM(parse_rootpw_file)},
    {"sasl_mech", CUSTOM(parse_sasl_mech)},
    {"ssl", TYPED(NTLMD_CONF_ENUM, ssl), .words = ssl_words},
    {"tls_reqcert", TYPED(NTLMD_CONF_ENUM, tls_reqcert), .words = reqcert_words},
    {"tls_cacertfile", TYPED(NTLMD_CONF_FILE, tls_cacertfile)},
    {"tls_cacertdir", TYPED(NTLMD_CONF_DIRECTORY, tls_cacertdir)},
    {"tls_cert", TYPED(NTLMD_CONF_FILE, tls_cert)},
    {"tls_key", TYPED(NTLMD_CONF_FILE, tls_key)},
    {"map", CUSTOM(parse_map), .repeatable = true},
    {"cache_ttl", SECONDS(cache_ttl, 0, MAX_CACHE_TTL)},
    {"negative_cache_ttl", SECONDS(negative_cache_ttl, 0, MAX_CACHE_TTL)},
    {"cache_stale_ttl", SECONDS(cache_stale_ttl, 0, MAX_CACHE_TTL)},
    {"domains", TYPED(NTLMD_CONF_WORDS, domains)},
    {"domain_attribute", TYPED(NTLMD_CONF_ATTRIBUTE, domain_attribute)},
    {"idle_timelimit", SECONDS(idle_timelimit, 0, MAX_CACHE_TTL)},
    {"reconnect_sleeptime", SECONDS(reconnect_sleeptime, 0, MAX_SECONDS)},
    {"reconnect_retrytime", SECONDS(reconnect_retrytime, 0, MAX_SECONDS)},
    {"lockout_writeback", TYPED(NTLMD_CONF_BOOL, lockout_writeback)},
    {"group_base", TYPED(NTLMD_CONF_STRINGS, group_bases), .repeatable = true},
    {"group_filter", TYPED(NTLMD_CONF_FILTER, group_filter)},
    {"group_name_attribute", TYPED(NTLMD_CONF_ATTRIBUTE, group_name_attribute)},
    {"group_member_attribute", TYPED(NTLMD_CONF_ATTRIBUTE, group_member_attribute)},
    {"group_member_dn", TYPED(NTLMD_CONF_BOOL, group_member_dn)},
    /* nslcd's inline passwords: refused, so that no secret sits in ntlmd.conf */
    {.name = "bindpw", .refused = "bindpw is not accepted inline: use bindpw_file"},
    {.name = "rootpwmodpw", .refused = "rootpwmodpw is not accepted inline: use rootpwmodpw_file"},
    {.name = NULL},
};

static void strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static bool strv_add(char ***v, const char *s)
{
	size_t n = 0;
	char **grown, *d;

	while (*v != NULL && (*v)[n] != NULL)
		n++;
	d = strdup(s);
	grown = d != NULL ? realloc(*v, (n + 2) * sizeof(char *)) : NULL;
	if (grown == NULL) {
		free(d);
		return false;
	}
	grown[n] = d;
	grown[n + 1] = NULL;
	*v = grown;
	return true;
}

/* uri: blank-separated ldap://, ldaps:// or ldapi:// URIs, each checked by
 * ldap_url_parse, appended in failover order. */
static enum ntlm_status parse_uri(void *conf, const char *value, unsigned line,
                                  struct ntlmd_config_report *rep)
{
	struct parse *p = conf;
	char *copy = strdup(value), *save = NULL;
	enum ntlm_status st = copy != NULL ? NTLM_OK : NTLM_ERR_NO_MEMORY;

	for (char *w = copy != NULL ? strtok_r(copy, " \t", &save) : NULL; st == NTLM_OK && w != NULL;
	     w = strtok_r(NULL, " \t", &save)) {
		LDAPURLDesc *desc = NULL;

		if (strncasecmp(w, "ldap://", 7) != 0 && strncasecmp(w, "ldaps://", 8) != 0 &&
		    strncasecmp(w, "ldapi://", 8) != 0) {
			ntlmd_config_report_add(rep, line,
			                        "uri: \"%s\" is not an ldap://, ldaps:// or ldapi:// URI", w);
			continue;
		}
		if (ldap_url_parse(w, &desc) != LDAP_URL_SUCCESS) {
			ntlmd_config_report_add(rep, line, "uri: \"%s\" is not a valid LDAP URI", w);
			continue;
		}
		ldap_free_urldesc(desc);
		if (!strv_add(&p->c.uris, w))
			st = NTLM_ERR_NO_MEMORY;
		else
			p->c.n_uris++;
	}
	free(copy);
	return st;
}

/* map ATTRIBUTE NEWATTRIBUTE, or nslcd's "map MAP ATTRIBUTE NEW" with MAP
 * passwd or sambaSamAccount. */
static enum ntlm_status parse_map(void *conf, const char *value, unsigned line,
                                  struct ntlmd_config_report *rep)
{
	struct parse *p = conf;
	char from[128], to[128], extra;
	int n = sscanf(value, "%127s %127s %c", from, to, &extra);
	size_t i;

	if (n == 3 && (strcasecmp(from, "sambaSamAccount") == 0 || strcmp(from, "passwd") == 0)) {
		value = strchr(value, ' ') != NULL ? strchr(value, ' ') + 1 : value;
		while (*value == ' ' || *value == '\t')
			value++;
		n = sscanf(value, "%127s %127s %c", from, to, &extra);
	}
	if (n != 2) {
		ntlmd_config_report_add(rep, line, "map: expected \"map ATTRIBUTE NEWATTRIBUTE\"");
		return NTLM_OK;
	}
	for (i = 0; i < NTLMD_LDAP_ATTR_COUNT; i++)
		if (strcasecmp(from, ntlmd_ldap_default_attrs[i]) == 0)
			break;
	if (i == NTLMD_LDAP_ATTR_COUNT) {
		ntlmd_config_report_add(
		    rep, line, "map: unknown attribute \"%s\" (see ntlmd.conf(5) for the mapped ones)", from);
		return NTLM_OK;
	}
	if (!ntlmd_config_is_attribute_name(to)) {
		ntlmd_config_report_add(rep, line, "map: \"%s\" is not an attribute name", to);
		return NTLM_OK;
	}
	free(p->c.attrs[i]);
	p->c.attrs[i] = strdup(to);
	return p->c.attrs[i] != NULL ? NTLM_OK : NTLM_ERR_NO_MEMORY;
}

static enum ntlm_status parse_bindpw_file(void *conf, const char *value, unsigned line,
                                          struct ntlmd_config_report *rep)
{
	(void)rep;
	((struct parse *)conf)->bindpw = (struct pw_file){value, line};
	return NTLM_OK;
}

/* rootbindpw_file, or its nslcd spelling rootpwmodpw_file */
static enum ntlm_status parse_rootpw_file(void *conf, const char *value, unsigned line,
                                          struct ntlmd_config_report *rep)
{
	(void)rep;
	((struct parse *)conf)->rootpw = (struct pw_file){value, line};
	return NTLM_OK;
}

static enum ntlm_status parse_sasl_mech(void *conf, const char *value, unsigned line,
                                        struct ntlmd_config_report *rep)
{
	struct parse *p = conf;

	if (strcasecmp(value, "EXTERNAL") != 0)
		ntlmd_config_report_add(rep, line, "sasl_mech: only EXTERNAL (over ldapi://) is supported");
	p->c.sasl_external = true;
	p->sasl_line = line;
	return NTLM_OK;
}

/* Reads the first line of a password file, refusing one open to group or
 * others (the secret never appears in a message). O_NONBLOCK: a fifo is
 * refused as not a regular file, not waited on (attack5: ntlmd -t hung). */
static char *read_password_file(struct parse *p, const char *key, const char *path, unsigned line)
{
	char buf[MAX_PW_FILE + 1];
	struct stat st;
	ssize_t n;
	char *pw = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0) {
		fail(p, line, "%s %s: cannot open: %s", key, path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fail(p, line, "%s %s: not a regular file", key, path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		fail(p, line, "%s %s: readable or writable by group or others (mode %04o); run: chmod 600 %s",
		     key, path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	n = read(fd, buf, MAX_PW_FILE);
	if (n < 0) {
		fail(p, line, "%s %s: cannot read: %s", key, path, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0')
		fail(p, line, "%s %s: the file is empty", key, path);
	else if ((pw = strdup(buf)) == NULL)
		p->rep.oom = true;
	ntlm_wipe(buf, sizeof(buf));
out:
	close(fd);
	return pw;
}

static bool uses_ldap(const struct ntlmd_config *cfg)
{
	for (size_t i = 0; cfg->backends != NULL && cfg->backends[i] != NULL; i++)
		if (strcmp(cfg->backends[i], "ldap") == 0)
			return true;
	return false;
}

/* Checks that need every key. */
static void check_whole(struct parse *p, const struct ntlmd_config *cfg)
{
	struct ntlmd_ldap_conf *c = &p->c;
	unsigned ssl_line = ntlmd_config_store_key_line(cfg, "ssl");

	if (c->n_uris == 0)
		fail(p, 0, "ldap backend: no uri configured");
	if (c->bases == NULL)
		fail(p, 0, "ldap backend: no base configured");
	if (p->bindpw.path != NULL && c->binddn == NULL)
		fail(p, p->bindpw.line, "bindpw_file: needs a binddn");
	if (p->rootpw.path != NULL && c->rootbinddn == NULL)
		fail(p, p->rootpw.line, "rootbindpw_file: needs a rootbinddn");
	if (c->rootbinddn != NULL && p->rootpw.path == NULL)
		fail(p, 0, "rootbinddn: needs a rootbindpw_file");
	if (c->sasl_external && c->binddn != NULL)
		fail(p, p->sasl_line, "sasl_mech EXTERNAL and binddn: choose one identity");
	for (size_t i = 0; i < c->n_uris; i++) {
		bool ldaps = strncasecmp(c->uris[i], "ldaps://", 8) == 0;
		bool ldapi = strncasecmp(c->uris[i], "ldapi://", 8) == 0;
		if (c->ssl == NTLMD_LDAP_SSL_START_TLS && (ldaps || ldapi))
			fail(p, ssl_line, "ssl start_tls: %s is not an ldap:// URI", c->uris[i]);
		if (c->ssl == NTLMD_LDAP_SSL_ON && !ldaps && !ldapi)
			fail(p, ssl_line, "ssl on: %s is not an ldaps:// URI", c->uris[i]);
		if (c->sasl_external && !ldapi)
			fail(p, p->sasl_line, "sasl_mech EXTERNAL: %s is not an ldapi:// URI", c->uris[i]);
	}
	/* the files are checked even when something else is wrong */
	if (p->bindpw.path != NULL)
		c->bindpw = read_password_file(p, "bindpw_file", p->bindpw.path, p->bindpw.line);
	if (p->rootpw.path != NULL)
		c->rootbindpw = read_password_file(p, "rootbindpw_file", p->rootpw.path, p->rootpw.line);
}

/* The defaults of the settings the file does not give. */
static bool set_defaults(struct ntlmd_ldap_conf *c)
{
	bool ok;

	*c = (struct ntlmd_ldap_conf){
	    .scope = LDAP_SCOPE_SUBTREE,
	    .timelimit = 10,
	    .bind_timelimit = 10,
	    .reconnect_sleeptime = 10,
	    .reconnect_retrytime = 10,
	    .tls_reqcert = LDAP_OPT_X_TLS_DEMAND,
	};
	c->filter = strdup("(objectClass=sambaSamAccount)");
	c->group_filter = strdup("(objectClass=posixGroup)");
	c->group_name_attribute = strdup("cn");
	c->domain_attribute = strdup("sambaDomainName");
	ok = c->filter != NULL && c->group_filter != NULL && c->group_name_attribute != NULL &&
	     c->domain_attribute != NULL;
	for (size_t i = 0; i < NTLMD_LDAP_ATTR_COUNT; i++)
		ok = (c->attrs[i] = strdup(ntlmd_ldap_default_attrs[i])) != NULL && ok;
	return ok;
}

size_t ntlmd_ldap_conf_parse(const struct ntlmd_config *cfg, struct ntlmd_ldap_conf *ret,
                             struct ntlmd_config_error *errs, size_t max)
{
	struct parse p = {.rep = {.errs = errs, .max = errs != NULL ? max : 0}};
	struct ntlmd_ldap_conf *c = &p.c;

	if (cfg == NULL)
		return 0;
	if (!set_defaults(c))
		p.rep.oom = true;
	else if (ntlmd_config_store_parse(cfg, &ntlmd_backend_ldap.config, &p, &p.rep) ==
	         NTLM_ERR_INVALID_ARGUMENT)
		fail(&p, 0, "ldap backend: internal error: a key's declaration is wrong");
	if (!p.rep.oom && (uses_ldap(cfg) || ret != NULL))
		check_whole(&p, cfg);
	/* members by DN are in "member" (groupOfNames) unless mapped */
	if (c->group_member_attribute == NULL &&
	    (c->group_member_attribute = strdup(c->group_member_dn ? "member" : "memberUid")) == NULL)
		p.rep.oom = true;
	if (p.rep.oom)
		fail(&p, 0, "ldap backend: out of memory");
	if (p.rep.n != 0 || ret == NULL)
		ntlmd_ldap_conf_clear(c);
	else
		*ret = *c;
	return p.rep.n;
}

void ntlmd_ldap_conf_clear(struct ntlmd_ldap_conf *c)
{
	if (c == NULL)
		return;
	strv_free(c->uris);
	strv_free(c->bases);
	strv_free(c->domains);
	strv_free(c->group_bases);
	free(c->group_filter);
	free(c->group_name_attribute);
	free(c->group_member_attribute);
	ntlm_free_string(c->bindpw);
	ntlm_free_string(c->rootbindpw);
	free(c->filter);
	free(c->binddn);
	free(c->rootbinddn);
	free(c->tls_cacertfile);
	free(c->tls_cacertdir);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->domain_attribute);
	for (size_t i = 0; i < NTLMD_LDAP_ATTR_COUNT; i++)
		free(c->attrs[i]);
	memset(c, 0, sizeof(*c));
}

size_t ntlmd_ldap_check_config(const struct ntlmd_config *cfg, struct ntlmd_config_error *errs, size_t max)
{
	return ntlmd_ldap_conf_parse(cfg, NULL, errs, max);
}
