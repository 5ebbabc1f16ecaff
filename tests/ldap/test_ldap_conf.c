/*
 * test_ldap_conf.c: the ldap backend's keys (ntlmd_ldap_conf_parse): defaults,
 * every value, every error with its line number, the password files'
 * mode check; and a store whose servers are all unreachable answers
 * NTLM_ERR_BACKEND_UNAVAILABLE at once, never NO_SUCH_USER.
 */
#include <config.h>

#include "testutil.h"

#include "backend.h"
#include "registry.h"
#include "ldapstore.h"

#include <fcntl.h>
#include <ldap.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ERRORS 32

static char tmpdir[] = "/tmp/test_ldap_conf.XXXXXX";

static char *write_file(const char *name, const char *text, mode_t mode)
{
	char *path = malloc(strlen(tmpdir) + strlen(name) + 2);
	int fd;

	ck_assert_ptr_nonnull(path);
	sprintf(path, "%s/%s", tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

/* Loads text as ntlmd.conf, then parses its ldap keys. */
static size_t parse(const char *text, struct ntlmd_ldap_conf *ret, struct ntlmd_config_error *errs)
{
	struct ntlmd_config cfg = {0};
	struct ntlmd_config_error cerrs[4];
	size_t n = 0, got;
	char *path = write_file("ntlmd.conf", text, 0600);

	ck_assert_int_eq(ntlmd_stores_config_load(path, &cfg, cerrs, 4, &n), NTLM_OK);
	got = ntlmd_ldap_conf_parse(&cfg, ret, errs, MAX_ERRORS);
	ntlmd_config_clear(&cfg);
	free(path);
	return got;
}

static bool has_error(const struct ntlmd_config_error *errs, size_t n, unsigned line, const char *part)
{
	for (size_t i = 0; i < n && i < MAX_ERRORS; i++)
		if (errs[i].line == line && strstr(errs[i].reason, part) != NULL)
			return true;
	return false;
}

START_TEST(defaults)
{
	struct ntlmd_ldap_conf c;
	struct ntlmd_config_error errs[MAX_ERRORS];

	ck_assert_uint_eq(
	    parse("backends files ldap\nuri ldap://127.0.0.1\nbase dc=example,dc=org\n", &c, errs), 0);
	ck_assert_uint_eq(c.n_uris, 1);
	ck_assert_int_eq(c.scope, LDAP_SCOPE_SUBTREE);
	ck_assert_str_eq(c.filter, "(objectClass=sambaSamAccount)");
	ck_assert_uint_eq(c.timelimit, 10);
	ck_assert_uint_eq(c.bind_timelimit, 10);
	ck_assert_uint_eq(c.reconnect_sleeptime, 10);
	ck_assert_uint_eq(c.reconnect_retrytime, 10);
	ck_assert_int_eq(c.tls_reqcert, LDAP_OPT_X_TLS_DEMAND);
	ck_assert_int_eq(c.ssl, NTLMD_LDAP_SSL_OFF);
	ck_assert_str_eq(c.attrs[NTLMD_LDAP_ATTR_UID], "uid");
	ck_assert_str_eq(c.attrs[NTLMD_LDAP_ATTR_NT], "sambaNTPassword");
	ck_assert_str_eq(c.attrs[NTLMD_LDAP_ATTR_BAD_TIME], "sambaBadPasswordTime");
	ck_assert_str_eq(c.domain_attribute, "sambaDomainName");
	ck_assert_ptr_null(c.domains);
	ck_assert_uint_eq(c.cache_ttl, 0);
	ck_assert(!c.lockout_writeback);
	ck_assert_ptr_null(c.bindpw);
	ck_assert_ptr_null(c.group_bases);
	ck_assert_str_eq(c.group_filter, "(objectClass=posixGroup)");
	ck_assert_str_eq(c.group_name_attribute, "cn");
	ck_assert_str_eq(c.group_member_attribute, "memberUid");
	ck_assert(!c.group_member_dn);
	ntlmd_ldap_conf_clear(&c);
}
END_TEST

START_TEST(every_value)
{
	struct ntlmd_ldap_conf c;
	struct ntlmd_config_error errs[MAX_ERRORS];
	char *pw = write_file("bindpw", "s3cret-bind\n", 0600);
	char *rootpw = write_file("rootpw", "r00t-bind", 0600);
	char text[2048];

	snprintf(text, sizeof(text),
	         "backends files ldap\n"
	         "uri ldap://a.example.org ldap://b.example.org:3389\n"
	         "uri = ldap://c.example.org\n"
	         "base ou=people,dc=example,dc=org\n"
	         "base ou=staff,dc=example,dc=org\n"
	         "scope one\n"
	         "filter (objectClass=posixAccount)\n"
	         "timelimit 3\n"
	         "bind_timelimit 4\n"
	         "idle_timelimit 60\n"
	         "reconnect_sleeptime 7\n"
	         "reconnect_retrytime 0\n"
	         "binddn cn=ntlmd,dc=example,dc=org\n"
	         "bindpw_file %s\n"
	         "rootbinddn cn=admin,dc=example,dc=org\n"
	         "rootbindpw_file %s\n"
	         "ssl start_tls\n"
	         "tls_reqcert hard\n"
	         "map uid sAMAccountName\n"
	         "map passwd sambaNTPassword ntHash\n"
	         "cache_ttl 60\n"
	         "negative_cache_ttl 30\n"
	         "cache_stale_ttl 600\n"
	         "domains CORP EXAMPLE\n"
	         "lockout_writeback yes\n"
	         "group_base ou=groups,dc=example,dc=org\n"
	         "group_base ou=teams,dc=example,dc=org\n"
	         "group_filter (objectClass=groupOfNames)\n"
	         "group_name_attribute ou\n"
	         "group_member_dn yes\n",
	         pw, rootpw);
	ck_assert_uint_eq(parse(text, &c, errs), 0);
	ck_assert_uint_eq(c.n_uris, 3);
	ck_assert_str_eq(c.uris[1], "ldap://b.example.org:3389");
	ck_assert_str_eq(c.uris[2], "ldap://c.example.org");
	ck_assert_str_eq(c.bases[1], "ou=staff,dc=example,dc=org");
	ck_assert_ptr_null(c.bases[2]);
	ck_assert_int_eq(c.scope, LDAP_SCOPE_ONELEVEL);
	ck_assert_str_eq(c.filter, "(objectClass=posixAccount)");
	ck_assert_uint_eq(c.timelimit, 3);
	ck_assert_uint_eq(c.bind_timelimit, 4);
	ck_assert_uint_eq(c.idle_timelimit, 60);
	ck_assert_uint_eq(c.reconnect_sleeptime, 7);
	ck_assert_uint_eq(c.reconnect_retrytime, 0); /* every lookup tries the servers */
	ck_assert_str_eq(c.bindpw, "s3cret-bind");
	ck_assert_str_eq(c.rootbindpw, "r00t-bind");
	ck_assert_int_eq(c.ssl, NTLMD_LDAP_SSL_START_TLS);
	ck_assert_int_eq(c.tls_reqcert, LDAP_OPT_X_TLS_HARD);
	ck_assert_str_eq(c.attrs[NTLMD_LDAP_ATTR_UID], "sAMAccountName");
	ck_assert_str_eq(c.attrs[NTLMD_LDAP_ATTR_NT], "ntHash");
	ck_assert_uint_eq(c.cache_ttl, 60);
	ck_assert_uint_eq(c.negative_cache_ttl, 30);
	ck_assert_uint_eq(c.cache_stale_ttl, 600);
	ck_assert_str_eq(c.domains[1], "EXAMPLE");
	ck_assert(c.lockout_writeback);
	ck_assert_str_eq(c.group_bases[1], "ou=teams,dc=example,dc=org");
	ck_assert_ptr_null(c.group_bases[2]);
	ck_assert_str_eq(c.group_filter, "(objectClass=groupOfNames)");
	ck_assert_str_eq(c.group_name_attribute, "ou");
	ck_assert(c.group_member_dn);
	/* members by DN: "member" unless group_member_attribute says otherwise */
	ck_assert_str_eq(c.group_member_attribute, "member");
	ntlmd_ldap_conf_clear(&c);
	unlink(pw);
	unlink(rootpw);
	free(pw);
	free(rootpw);
}
END_TEST

START_TEST(errors_with_lines)
{
	struct ntlmd_ldap_conf c;
	struct ntlmd_config_error errs[MAX_ERRORS];
	size_t n = parse("backends files ldap\n"            /* 1 */
	                 "uri http://x.example.org\n"       /* 2 */
	                 "ssl sometimes\n"                  /* 3 */
	                 "tls_reqcert maybe\n"              /* 4 */
	                 "scope everything\n"               /* 5 */
	                 "timelimit 0\n"                    /* 6 */
	                 "bind_timelimit ten\n"             /* 7 */
	                 "map noSuchAttribute x\n"          /* 8 */
	                 "map uid bad/name\n"               /* 9 */
	                 "filter objectClass=x\n"           /* 10 */
	                 "cache_ttl 99999999\n"             /* 11 */
	                 "lockout_writeback perhaps\n"      /* 12 */
	                 "sasl_mech GSSAPI\n"               /* 13 */
	                 "reconnect_retrytime 3601\n"       /* 14 */
	                 "tls_cacertfile /nonexistent/ca\n" /* 15 */
	                 "domain_attribute a b\n"           /* 16 */
	                 "group_filter objectClass=x\n"     /* 17 */
	                 "group_member_dn perhaps\n"        /* 18 */
	                 "group_member_attribute a/b\n",    /* 19 */
	                 &c, errs);

	ck_assert_uint_ge(n, 15);
	ck_assert(has_error(errs, n, 2, "not an ldap://"));
	ck_assert(has_error(errs, n, 3, "ssl"));
	ck_assert(has_error(errs, n, 4, "tls_reqcert"));
	ck_assert(has_error(errs, n, 5, "scope"));
	ck_assert(has_error(errs, n, 6, "timelimit"));
	ck_assert(has_error(errs, n, 7, "bind_timelimit"));
	ck_assert(has_error(errs, n, 8, "unknown attribute"));
	ck_assert(has_error(errs, n, 9, "not an attribute name"));
	ck_assert(has_error(errs, n, 10, "filter"));
	ck_assert(has_error(errs, n, 11, "cache_ttl"));
	ck_assert(has_error(errs, n, 12, "lockout_writeback"));
	ck_assert(has_error(errs, n, 13, "EXTERNAL"));
	ck_assert(has_error(errs, n, 14, "reconnect_retrytime: 3601 is out of range (0 to 3600)"));
	ck_assert(has_error(errs, n, 15, "cannot read"));
	ck_assert(has_error(errs, n, 16, "domain_attribute"));
	ck_assert(has_error(errs, n, 17, "group_filter"));
	ck_assert(has_error(errs, n, 18, "group_member_dn"));
	ck_assert(has_error(errs, n, 19, "group_member_attribute"));
	ck_assert(has_error(errs, n, 0, "no uri"));
	ck_assert(has_error(errs, n, 0, "no base"));
}
END_TEST

START_TEST(combinations)
{
	struct ntlmd_ldap_conf c;
	struct ntlmd_config_error errs[MAX_ERRORS];
	size_t n;

	n = parse("backends ldap\nuri ldaps://a ldapi:///\nbase dc=x\nssl start_tls\n", &c, errs);
	ck_assert(has_error(errs, n, 4, "ssl start_tls: ldaps://a"));
	n = parse("backends ldap\nuri ldap://a\nbase dc=x\nssl on\n", &c, errs);
	ck_assert(has_error(errs, n, 4, "ssl on: ldap://a"));
	n = parse("backends ldap\nuri ldap://a\nbase dc=x\nsasl_mech EXTERNAL\n", &c, errs);
	ck_assert(has_error(errs, n, 4, "not an ldapi://"));
	n = parse("backends ldap\nuri ldapi:///\nbase dc=x\nsasl_mech EXTERNAL\nbinddn cn=x\n", &c, errs);
	ck_assert(has_error(errs, n, 4, "choose one identity"));
	n = parse("backends ldap\nuri ldap://a\nbase dc=x\nbindpw_file /x\n", &c, errs);
	ck_assert(has_error(errs, n, 4, "needs a binddn"));
	n = parse("backends ldap\nuri ldap://a\nbase dc=x\nrootbinddn cn=x\n", &c, errs);
	ck_assert(has_error(errs, n, 0, "needs a rootbindpw_file"));
	/* the keys of an unused ldap backend are still checked, the whole not */
	n = parse("backends files\nssl maybe\n", NULL, errs);
	ck_assert_uint_eq(n, 1);
	ck_assert(has_error(errs, n, 2, "ssl"));
	ck_assert_uint_eq(parse("backends files\n", NULL, errs), 0);
}
END_TEST

START_TEST(password_file_mode)
{
	struct ntlmd_ldap_conf c;
	struct ntlmd_config_error errs[MAX_ERRORS];
	char *pw = write_file("groupreadable", "Secret-In-File\n", 0640), text[512];
	size_t n;

	snprintf(text, sizeof(text), "backends ldap\nuri ldap://a\nbase dc=x\nbinddn cn=x\nbindpw_file %s\n",
	         pw);
	n = parse(text, &c, errs);
	ck_assert_uint_eq(n, 1);
	ck_assert(has_error(errs, n, 5, "readable or writable by group or others (mode 0640)"));
	ck_assert_ptr_null(strstr(errs[0].reason, "Secret-In-File"));
	ck_assert_int_eq(chmod(pw, 0604), 0);
	ck_assert_uint_eq(parse(text, &c, errs), 1);
	ck_assert_int_eq(chmod(pw, 0600), 0);
	ck_assert_uint_eq(parse(text, &c, errs), 0);
	ck_assert_str_eq(c.bindpw, "Secret-In-File");
	ntlmd_ldap_conf_clear(&c);
	unlink(pw);
	free(pw);
	pw = write_file("empty", "\n", 0600);
	snprintf(text, sizeof(text), "backends ldap\nuri ldap://a\nbase dc=x\nbinddn cn=x\nbindpw_file %s\n",
	         pw);
	n = parse(text, &c, errs);
	ck_assert(has_error(errs, n, 5, "empty"));
	unlink(pw);
	free(pw);
}
END_TEST

/* A password file that is a fifo nobody writes to, or a directory: an
 * error on its line, at once (attack5: the open of the fifo waited for a
 * writer, and ntlmd -t and ntlmd's start hung). */
START_TEST(password_file_not_regular)
{
	struct ntlmd_ldap_conf c;
	struct ntlmd_config_error errs[MAX_ERRORS];
	char fifo[sizeof(tmpdir) + 8], text[512];
	size_t n;

	snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	snprintf(text, sizeof(text), "backends ldap\nuri ldap://a\nbase dc=x\nbinddn cn=x\nbindpw_file %s\n",
	         fifo);
	n = parse(text, &c, errs);
	ck_assert_uint_eq(n, 1);
	ck_assert(has_error(errs, n, 5, "not a regular file"));
	snprintf(text, sizeof(text), "backends ldap\nuri ldap://a\nbase dc=x\nbinddn cn=x\nbindpw_file %s\n",
	         tmpdir);
	n = parse(text, &c, errs);
	ck_assert_uint_eq(n, 1);
	ck_assert(has_error(errs, n, 5, "not a regular file"));
	unlink(fifo);
}
END_TEST

/* Nothing listens on port 1 of the loopback: refused at once. */
START_TEST(unreachable_is_unavailable)
{
	struct ntlmd_config cfg = {0};
	struct ntlmd_config_error cerrs[4], err = {0};
	struct ntlmd_backend_chain *chain = NULL;
	struct ntlmd_account a = {0};
	const char *text = "backends ldap\nuri ldap://127.0.0.1:1 ldap://127.0.0.1:2\nbase dc=x\n"
	                   "timelimit 2\nbind_timelimit 2\n";
	char *path = write_file("unreachable.conf", text, 0600);
	size_t n = 0;
	time_t start;

	ck_assert_int_eq(ntlmd_stores_config_load(path, &cfg, cerrs, 4, &n), NTLM_OK);
	ck_assert_ptr_eq(ntlmd_backend_find("ldap"), &ntlmd_backend_ldap);
	/* opening does not connect: a dead directory does not stop ntlmd */
	ck_assert_int_eq(ntlmd_backends_open_err(&cfg, &chain, &err), NTLM_OK);
	start = time(NULL);
	ck_assert_int_eq(ntlmd_backends_lookup(chain, "alice", "", &a, NULL), NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_int_eq(ntlmd_backends_lookup(chain, "bob", "", &a, NULL), NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_int_le(time(NULL) - start, 4);
	/* names no directory entry can have never reach it */
	ck_assert_int_eq(ntlmd_backends_lookup(chain, "bad\nname", "", &a, NULL), NTLM_STATUS_NO_SUCH_USER);
	ntlmd_backends_close(chain);
	ntlmd_config_clear(&cfg);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(open_reports_errors)
{
	struct ntlmd_config cfg = {0};
	struct ntlmd_config_error cerrs[4], err = {0};
	struct ntlmd_backend_chain *chain = NULL;
	char *path = write_file("bad.conf", "backends files ldap\nhash_file /nonexistent\nssl maybe\n", 0600);
	size_t n = 0;

	ck_assert_int_eq(ntlmd_stores_config_load(path, &cfg, cerrs, 4, &n), NTLM_OK);
	ck_assert_int_ne(ntlmd_backends_open_err(&cfg, &chain, &err), NTLM_OK);
	ck_assert_uint_eq(err.line, 3);
	ck_assert_ptr_nonnull(strstr(err.reason, "ssl"));
	ntlmd_config_clear(&cfg);
	unlink(path);
	free(path);
}
END_TEST

static Suite *ntlmd_ldap_conf_suite(void)
{
	Suite *s = suite_create("ldap_conf");
	TCase *tc = tcase_create("keys");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, every_value);
	tcase_add_test(tc, errors_with_lines);
	tcase_add_test(tc, combinations);
	tcase_add_test(tc, password_file_mode);
	tcase_add_test(tc, password_file_not_regular);
	tcase_add_test(tc, unreachable_is_unavailable);
	tcase_add_test(tc, open_reports_errors);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc;

	if (mkdtemp(tmpdir) == NULL)
		return 99;
	ntlmd_backends_set_log(NULL);
	rc = test_run_suite(ntlmd_ldap_conf_suite());
	{
		char path[sizeof(tmpdir) + 16];
		snprintf(path, sizeof(path), "%s/ntlmd.conf", tmpdir);
		unlink(path);
	}
	rmdir(tmpdir);
	return rc;
}
