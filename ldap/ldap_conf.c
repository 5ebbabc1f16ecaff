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

/* The ldap keys of ntlmd.conf (nslcd.conf names), which parse_key reads. */
const struct ntlmd_config_store_key ntlmd_ldap_config_keys[] = {
    {.name = "uri", .repeatable = true},
    {.name = "base", .repeatable = true},
    {.name = "scope"},
    {.name = "filter"},
    {.name = "timelimit"},
    {.name = "bind_timelimit"},
    {.name = "binddn"},
    {.name = "bindpw_file"},
    {.name = "rootbinddn"},
    {.name = "rootbindpw_file"},
    {.name = "rootpwmodpw_file"},
    {.name = "sasl_mech"},
    {.name = "ssl"},
    {.name = "tls_reqcert"},
    {.name = "tls_cacertfile"},
    {.name = "tls_cacertdir"},
    {.name = "tls_cert"},
    {.name = "tls_key"},
    {.name = "map", .repeatable = true},
    {.name = "cache_ttl"},
    {.name = "negative_cache_ttl"},
    {.name = "cache_stale_ttl"},
    {.name = "domains"},
    {.name = "domain_attribute"},
    {.name = "idle_timelimit"},
    {.name = "reconnect_sleeptime"},
    {.name = "reconnect_retrytime"},
    {.name = "lockout_writeback"},
    {.name = "group_base", .repeatable = true},
    {.name = "group_filter"},
    {.name = "group_name_attribute"},
    {.name = "group_member_attribute"},
    {.name = "group_member_dn"},
    /* nslcd's inline passwords: refused, so that no secret sits in ntlmd.conf */
    {.name = "bindpw", .refused = "bindpw is not accepted inline: use bindpw_file"},
    {.name = "rootpwmodpw", .refused = "rootpwmodpw is not accepted inline: use rootpwmodpw_file"},
    {.name = NULL},
};

/* Whether key is one of the ldap store's (extra_* holds every store's). */
static bool is_ldap_key(const char *key)
{
	for (const struct ntlmd_config_store_key *k = ntlmd_ldap_config_keys; k->name != NULL; k++)
		if (strcmp(k->name, key) == 0)
			return k->refused == NULL;
	return false;
}

struct parse {
	struct ntlmd_ldap_conf *c;
	struct ntlmd_config_error *errs;
	size_t max, n;
	bool oom;
	unsigned sasl_line, ssl_line, bindpw_line, rootpw_line;
	const char *bindpw_file, *rootpw_file;
};

__attribute__((format(printf, 3, 4))) static void fail(struct parse *p, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (p->n < p->max) {
		p->errs[p->n].line = line;
		va_start(ap, fmt);
		vsnprintf(p->errs[p->n].reason, sizeof(p->errs[p->n].reason), fmt, ap);
		va_end(ap);
	}
	p->n++;
}

static char *dup_or_oom(struct parse *p, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		p->oom = true;
	return d;
}

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

/* Splits value on blanks into *v. */
static bool add_words(struct parse *p, char ***v, const char *value)
{
	char *copy = dup_or_oom(p, value), *save = NULL;
	bool ok = copy != NULL;

	for (char *w = copy != NULL ? strtok_r(copy, " \t", &save) : NULL; ok && w != NULL;
	     w = strtok_r(NULL, " \t", &save))
		ok = strv_add(v, w);
	free(copy);
	if (!ok)
		p->oom = true;
	return ok;
}

static bool parse_seconds(struct parse *p, const char *key, const char *value, unsigned line, unsigned max,
                          unsigned *ret)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 || n > max) {
		fail(p, line, "%s: expected a number of seconds from 0 to %u", key, max);
		return false;
	}
	*ret = (unsigned)n;
	return true;
}

static bool parse_bool(const char *value, bool *ret)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "on") == 0 || strcmp(value, "true") == 0)
		*ret = true;
	else if (strcmp(value, "no") == 0 || strcmp(value, "off") == 0 || strcmp(value, "false") == 0)
		*ret = false;
	else
		return false;
	return true;
}

static bool is_attribute_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == ';'))
			return false;
	return true;
}

static void parse_uri(struct parse *p, const char *value, unsigned line)
{
	char **words = NULL;

	if (!add_words(p, &words, value) || words == NULL)
		return;
	for (size_t i = 0; words[i] != NULL; i++) {
		LDAPURLDesc *desc = NULL;

		if (strncasecmp(words[i], "ldap://", 7) != 0 && strncasecmp(words[i], "ldaps://", 8) != 0 &&
		    strncasecmp(words[i], "ldapi://", 8) != 0) {
			fail(p, line, "uri: \"%s\" is not an ldap://, ldaps:// or ldapi:// URI", words[i]);
			continue;
		}
		if (ldap_url_parse(words[i], &desc) != LDAP_URL_SUCCESS) {
			fail(p, line, "uri: \"%s\" is not a valid LDAP URI", words[i]);
			continue;
		}
		ldap_free_urldesc(desc);
		if (!strv_add(&p->c->uris, words[i]))
			p->oom = true;
		else
			p->c->n_uris++;
	}
	strv_free(words);
}

static void parse_map(struct parse *p, const char *value, unsigned line)
{
	char from[128], to[128], extra;
	int n = sscanf(value, "%127s %127s %c", from, to, &extra);
	size_t i;

	/* nslcd's "map MAP ATTRIBUTE NEW" form: MAP passwd or sambaSamAccount */
	if (n == 3 && (strcasecmp(from, "sambaSamAccount") == 0 || strcmp(from, "passwd") == 0)) {
		value = strchr(value, ' ') != NULL ? strchr(value, ' ') + 1 : value;
		while (*value == ' ' || *value == '\t')
			value++;
		n = sscanf(value, "%127s %127s %c", from, to, &extra);
	}
	if (n != 2) {
		fail(p, line, "map: expected \"map ATTRIBUTE NEWATTRIBUTE\"");
		return;
	}
	for (i = 0; i < NTLMD_LDAP_ATTR_COUNT; i++)
		if (strcasecmp(from, ntlmd_ldap_default_attrs[i]) == 0)
			break;
	if (i == NTLMD_LDAP_ATTR_COUNT) {
		fail(p, line, "map: unknown attribute \"%s\" (see ntlmd.conf(5) for the mapped ones)", from);
		return;
	}
	if (!is_attribute_name(to)) {
		fail(p, line, "map: \"%s\" is not an attribute name", to);
		return;
	}
	free(p->c->attrs[i]);
	p->c->attrs[i] = dup_or_oom(p, to);
}

/* Reads the first line of a password file, refusing one open to group or
 * others (the secret never appears in a message). */
static char *read_password_file(struct parse *p, const char *key, const char *path, unsigned line)
{
	char buf[MAX_PW_FILE + 1];
	struct stat st;
	ssize_t n;
	char *pw = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

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
	else
		pw = dup_or_oom(p, buf);
	ntlm_wipe(buf, sizeof(buf));
out:
	close(fd);
	return pw;
}

static void set_string(struct parse *p, char **slot, const char *value)
{
	free(*slot);
	*slot = dup_or_oom(p, value);
}

/* One key of the ldap backend (ntlmd_ldap_config_keys); a declared key it
 * does not read is reported as unsupported. */
static void parse_key(struct parse *p, const char *key, const char *value, unsigned line)
{
	struct ntlmd_ldap_conf *c = p->c;
	bool b;

	if (strcmp(key, "uri") == 0) {
		parse_uri(p, value, line);
	} else if (strcmp(key, "base") == 0) {
		if (!strv_add(&c->bases, value))
			p->oom = true;
	} else if (strcmp(key, "scope") == 0) {
		if (strcmp(value, "sub") == 0 || strcmp(value, "subtree") == 0)
			c->scope = LDAP_SCOPE_SUBTREE;
		else if (strcmp(value, "one") == 0 || strcmp(value, "onelevel") == 0)
			c->scope = LDAP_SCOPE_ONELEVEL;
		else if (strcmp(value, "base") == 0)
			c->scope = LDAP_SCOPE_BASE;
		else
			fail(p, line, "scope: expected sub, one or base");
	} else if (strcmp(key, "filter") == 0) {
		size_t n = strlen(value);
		if (value[0] != '(' || value[n - 1] != ')')
			fail(p, line, "filter: expected an LDAP filter in parentheses");
		else
			set_string(p, &c->filter, value);
	} else if (strcmp(key, "timelimit") == 0) {
		if (parse_seconds(p, key, value, line, MAX_SECONDS, &c->timelimit) && c->timelimit == 0)
			fail(p, line, "timelimit: 0 would wait forever; give 1 to %u seconds", MAX_SECONDS);
	} else if (strcmp(key, "bind_timelimit") == 0) {
		if (parse_seconds(p, key, value, line, MAX_SECONDS, &c->bind_timelimit) &&
		    c->bind_timelimit == 0)
			fail(p, line, "bind_timelimit: 0 would wait forever; give 1 to %u seconds",
			     MAX_SECONDS);
	} else if (strcmp(key, "idle_timelimit") == 0) {
		parse_seconds(p, key, value, line, MAX_CACHE_TTL, &c->idle_timelimit);
	} else if (strcmp(key, "reconnect_sleeptime") == 0) {
		parse_seconds(p, key, value, line, MAX_SECONDS, &c->reconnect_sleeptime);
	} else if (strcmp(key, "reconnect_retrytime") == 0) {
		parse_seconds(p, key, value, line, MAX_SECONDS, &c->reconnect_retrytime);
	} else if (strcmp(key, "binddn") == 0) {
		set_string(p, &c->binddn, value);
	} else if (strcmp(key, "bindpw_file") == 0) {
		p->bindpw_file = value;
		p->bindpw_line = line;
	} else if (strcmp(key, "rootbinddn") == 0) {
		set_string(p, &c->rootbinddn, value);
	} else if (strcmp(key, "rootbindpw_file") == 0 || strcmp(key, "rootpwmodpw_file") == 0) {
		p->rootpw_file = value;
		p->rootpw_line = line;
	} else if (strcmp(key, "sasl_mech") == 0) {
		if (strcasecmp(value, "EXTERNAL") != 0)
			fail(p, line, "sasl_mech: only EXTERNAL (over ldapi://) is supported");
		c->sasl_external = true;
		p->sasl_line = line;
	} else if (strcmp(key, "ssl") == 0) {
		p->ssl_line = line;
		if (strcmp(value, "off") == 0 || strcmp(value, "no") == 0)
			c->ssl = NTLMD_LDAP_SSL_OFF;
		else if (strcmp(value, "start_tls") == 0)
			c->ssl = NTLMD_LDAP_SSL_START_TLS;
		else if (strcmp(value, "on") == 0 || strcmp(value, "yes") == 0)
			c->ssl = NTLMD_LDAP_SSL_ON;
		else
			fail(p, line, "ssl: expected off, start_tls or on");
	} else if (strcmp(key, "tls_reqcert") == 0) {
		static const struct {
			const char *name;
			int value;
		} levels[] = {{"never", LDAP_OPT_X_TLS_NEVER},
		              {"allow", LDAP_OPT_X_TLS_ALLOW},
		              {"try", LDAP_OPT_X_TLS_TRY},
		              {"demand", LDAP_OPT_X_TLS_DEMAND},
		              {"hard", LDAP_OPT_X_TLS_HARD}};
		size_t i;
		for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
			if (strcmp(value, levels[i].name) == 0)
				break;
		if (i == sizeof(levels) / sizeof(levels[0]))
			fail(p, line, "tls_reqcert: expected never, allow, try, demand or hard");
		else
			c->tls_reqcert = levels[i].value;
	} else if (strcmp(key, "tls_cacertfile") == 0 || strcmp(key, "tls_cacertdir") == 0 ||
	           strcmp(key, "tls_cert") == 0 || strcmp(key, "tls_key") == 0) {
		char **slot = strcmp(key, "tls_cacertfile") == 0  ? &c->tls_cacertfile
		              : strcmp(key, "tls_cacertdir") == 0 ? &c->tls_cacertdir
		              : strcmp(key, "tls_cert") == 0      ? &c->tls_cert
		                                                  : &c->tls_key;
		if (access(value, R_OK) != 0)
			fail(p, line, "%s %s: cannot read: %s", key, value, strerror(errno));
		else
			set_string(p, slot, value);
	} else if (strcmp(key, "map") == 0) {
		parse_map(p, value, line);
	} else if (strcmp(key, "cache_ttl") == 0) {
		parse_seconds(p, key, value, line, MAX_CACHE_TTL, &c->cache_ttl);
	} else if (strcmp(key, "negative_cache_ttl") == 0) {
		parse_seconds(p, key, value, line, MAX_CACHE_TTL, &c->negative_cache_ttl);
	} else if (strcmp(key, "cache_stale_ttl") == 0) {
		parse_seconds(p, key, value, line, MAX_CACHE_TTL, &c->cache_stale_ttl);
	} else if (strcmp(key, "domain_attribute") == 0) {
		if (!is_attribute_name(value))
			fail(p, line, "domain_attribute: \"%s\" is not an attribute name", value);
		else
			set_string(p, &c->domain_attribute, value);
	} else if (strcmp(key, "domains") == 0) {
		add_words(p, &c->domains, value);
	} else if (strcmp(key, "group_base") == 0) {
		if (!strv_add(&c->group_bases, value))
			p->oom = true;
	} else if (strcmp(key, "group_filter") == 0) {
		size_t n = strlen(value);
		if (value[0] != '(' || value[n - 1] != ')')
			fail(p, line, "group_filter: expected an LDAP filter in parentheses");
		else
			set_string(p, &c->group_filter, value);
	} else if (strcmp(key, "group_name_attribute") == 0 || strcmp(key, "group_member_attribute") == 0) {
		if (!is_attribute_name(value))
			fail(p, line, "%s: \"%s\" is not an attribute name", key, value);
		else
			set_string(p, key[6] == 'n' ? &c->group_name_attribute : &c->group_member_attribute,
			           value);
	} else if (strcmp(key, "group_member_dn") == 0) {
		if (!parse_bool(value, &b))
			fail(p, line, "group_member_dn: expected yes or no");
		else
			c->group_member_dn = b;
	} else if (strcmp(key, "lockout_writeback") == 0) {
		if (!parse_bool(value, &b))
			fail(p, line, "lockout_writeback: expected yes or no");
		else
			c->lockout_writeback = b;
	} else {
		fail(p, line, "%s: not supported by the ldap backend", key);
	}
}

static bool uses_ldap(const struct ntlmd_config *cfg)
{
	for (size_t i = 0; cfg->backends != NULL && cfg->backends[i] != NULL; i++)
		if (strcmp(cfg->backends[i], "ldap") == 0)
			return true;
	return false;
}

/* Checks that need every key. */
static void check_whole(struct parse *p)
{
	struct ntlmd_ldap_conf *c = p->c;

	if (c->n_uris == 0)
		fail(p, 0, "ldap backend: no uri configured");
	if (c->bases == NULL)
		fail(p, 0, "ldap backend: no base configured");
	if (p->bindpw_file != NULL && c->binddn == NULL)
		fail(p, p->bindpw_line, "bindpw_file: needs a binddn");
	if (p->rootpw_file != NULL && c->rootbinddn == NULL)
		fail(p, p->rootpw_line, "rootbindpw_file: needs a rootbinddn");
	if (c->rootbinddn != NULL && p->rootpw_file == NULL)
		fail(p, 0, "rootbinddn: needs a rootbindpw_file");
	if (c->sasl_external && c->binddn != NULL)
		fail(p, p->sasl_line, "sasl_mech EXTERNAL and binddn: choose one identity");
	for (size_t i = 0; i < c->n_uris; i++) {
		bool ldaps = strncasecmp(c->uris[i], "ldaps://", 8) == 0;
		bool ldapi = strncasecmp(c->uris[i], "ldapi://", 8) == 0;
		if (c->ssl == NTLMD_LDAP_SSL_START_TLS && (ldaps || ldapi))
			fail(p, p->ssl_line, "ssl start_tls: %s is not an ldap:// URI", c->uris[i]);
		if (c->ssl == NTLMD_LDAP_SSL_ON && !ldaps && !ldapi)
			fail(p, p->ssl_line, "ssl on: %s is not an ldaps:// URI", c->uris[i]);
		if (c->sasl_external && !ldapi)
			fail(p, p->sasl_line, "sasl_mech EXTERNAL: %s is not an ldapi:// URI", c->uris[i]);
	}
	/* the files are checked even when something else is wrong */
	if (p->bindpw_file != NULL)
		c->bindpw = read_password_file(p, "bindpw_file", p->bindpw_file, p->bindpw_line);
	if (p->rootpw_file != NULL)
		c->rootbindpw = read_password_file(p, "rootbindpw_file", p->rootpw_file, p->rootpw_line);
}

size_t ntlmd_ldap_conf_parse(const struct ntlmd_config *cfg, struct ntlmd_ldap_conf *ret,
                             struct ntlmd_config_error *errs, size_t max)
{
	struct ntlmd_ldap_conf c = {
	    .scope = LDAP_SCOPE_SUBTREE,
	    .timelimit = 10,
	    .bind_timelimit = 10,
	    .reconnect_sleeptime = 10,
	    .reconnect_retrytime = 10,
	    .tls_reqcert = LDAP_OPT_X_TLS_DEMAND,
	};
	struct parse p = {.c = &c, .errs = errs, .max = errs != NULL ? max : 0};

	if (cfg == NULL)
		return 0;
	c.filter = dup_or_oom(&p, "(objectClass=sambaSamAccount)");
	c.group_filter = dup_or_oom(&p, "(objectClass=posixGroup)");
	c.group_name_attribute = dup_or_oom(&p, "cn");
	c.domain_attribute = dup_or_oom(&p, "sambaDomainName");
	for (size_t i = 0; i < NTLMD_LDAP_ATTR_COUNT; i++)
		c.attrs[i] = dup_or_oom(&p, ntlmd_ldap_default_attrs[i]);
	for (size_t i = 0; cfg->extra_keys != NULL && cfg->extra_keys[i] != NULL; i++)
		if (is_ldap_key(cfg->extra_keys[i]))
			parse_key(&p, cfg->extra_keys[i], cfg->extra_values[i], cfg->extra_lines[i]);
	if (uses_ldap(cfg) || ret != NULL)
		check_whole(&p);
	/* members by DN are in "member" (groupOfNames) unless mapped */
	if (c.group_member_attribute == NULL)
		c.group_member_attribute = dup_or_oom(&p, c.group_member_dn ? "member" : "memberUid");
	if (p.oom)
		fail(&p, 0, "ldap backend: out of memory");
	if (p.n != 0 || ret == NULL)
		ntlmd_ldap_conf_clear(&c);
	else
		*ret = c;
	return p.n;
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
