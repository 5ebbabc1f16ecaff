/*
 * test_store_keys.c: the keys the stores declare (struct
 * ntlmd_config_store_key). Each registered store's keys and its section of
 * ntlmd.conf(5) (".SH LDAP BACKEND KEYS") name the same keys; the typed
 * parser's bounds, numbers, enums and bools through the real
 * ntlmd_stores_config_load and ntlmd_backends_check_config (the registry);
 * every type through ntlmd_config_load_stores and ntlmd_config_store_parse
 * with a store of the test's own; ill-declared keys are refused.
 */
#include <config.h>

#include "testutil.h"

#include "backend.h"
#include "registry.h"

#include <ctype.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ERRORS 16
#define MAX_NAMES  1024
#define MANUAL     TOP_SRCDIR "/man/ntlmd.conf.5"

static char *write_temp(const char *text)
{
	const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	size_t n = strlen(dir) + sizeof("/test_store_keys.XXXXXX");
	char *path = malloc(n);
	int fd;

	ck_assert_ptr_nonnull(path);
	snprintf(path, n, "%s/test_store_keys.XXXXXX", dir);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(close(fd), 0);
	return path;
}

/* ---- the manual ---- */

struct names {
	char *v[MAX_NAMES];
	size_t n;
};

static void names_add(struct names *s, const char *line)
{
	size_t len = strcspn(line, " \t,.");

	ck_assert_uint_lt(s->n, MAX_NAMES);
	s->v[s->n] = strndup(line, len);
	ck_assert_ptr_nonnull(s->v[s->n]);
	s->n++;
}

static bool names_have(const struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return true;
	return false;
}

static void names_free(struct names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

/* The section ".SH NAME BACKEND KEYS" of the manual at path: its entries
 * (the first word of the line after .TP or .TQ) and every word it sets in
 * bold at the start of a line (.B, .BI, .BR). */
static bool read_section(const char *path, const char *store, struct names *entries, struct names *bold)
{
	char line[512], title[64];
	bool in = false, found = false, after_tag = false;
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	snprintf(title, sizeof(title), ".SH %s BACKEND KEYS", store);
	for (char *c = title; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, ".SH ", 4) == 0) {
			in = strcmp(line, title) == 0;
			found = found || in;
			continue;
		}
		if (!in)
			continue;
		if (strncmp(line, ".BI ", 4) == 0 || strncmp(line, ".BR ", 4) == 0 ||
		    strncmp(line, ".B ", 3) == 0) {
			const char *word = line + (line[2] == ' ' ? 3 : 4);
			names_add(bold, word);
			if (after_tag)
				names_add(entries, word);
		}
		after_tag = strcmp(line, ".TP") == 0 || strcmp(line, ".TQ") == 0;
	}
	fclose(f);
	return found;
}

/*
 * The problems between a store's keys and its section of the manual at
 * path: a key without an entry (a refused key: not even named), an entry
 * that is no key of the store. Each is printed; returns their count.
 */
static size_t manual_problems(const struct ntlmd_config_store *store, const char *path)
{
	struct names entries = {.n = 0}, bold = {.n = 0};
	size_t problems = 0;

	if (!read_section(path, store->name, &entries, &bold)) {
		printf("ntlmd.conf(5) has no section for the keys of store %s\n", store->name);
		return 1;
	}
	for (const struct ntlmd_config_store_key *k = store->keys; k->name != NULL; k++) {
		bool documented =
		    k->refused != NULL ? names_have(&bold, k->name) : names_have(&entries, k->name);
		if (!documented) {
			printf("%s key %s is declared, not documented in ntlmd.conf(5)\n", store->name,
			       k->name);
			problems++;
		}
	}
	for (size_t i = 0; i < entries.n; i++) {
		const struct ntlmd_config_store_key *k = store->keys;
		while (k->name != NULL && strcmp(k->name, entries.v[i]) != 0)
			k++;
		if (k->name == NULL || k->refused != NULL) {
			printf("ntlmd.conf(5) documents %s key %s, which the store does not declare\n",
			       store->name, entries.v[i]);
			problems++;
		}
	}
	names_free(&entries);
	names_free(&bold);
	return problems;
}

START_TEST(manual_matches_declarations)
{
	size_t n_stores = 0, with_keys = 0;
	const struct ntlmd_backend *const *stores = ntlmd_stores(&n_stores);

	for (size_t i = 0; i < n_stores; i++) {
		if (stores[i]->config.keys == NULL || stores[i]->config.keys[0].name == NULL)
			continue;
		with_keys++;
		ck_assert_uint_eq(manual_problems(&stores[i]->config, MANUAL), 0);
	}
	ck_assert_uint_ge(with_keys, 1); /* ldap */
}
END_TEST

/* The check above fails on a manual that lost an entry and gained one. */
START_TEST(manual_drift_is_caught)
{
	const struct ntlmd_backend *ldap = ntlmd_backend_find("ldap");
	FILE *f = fopen(MANUAL, "r");
	char line[512], *text = NULL, *path;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(ldap);
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(out);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, ".BI cache_stale_ttl ", 20) == 0) /* its entry gone */
			fputs(".I cache_stale_ttl\n", out);
		else if (strncmp(line, ".BI negative_cache_ttl ", 23) == 0) /* a key no store has */
			fputs(".BI negative_cache_size \" N\"\n", out);
		else
			fputs(line, out);
	}
	fclose(f);
	ck_assert_int_eq(fclose(out), 0);
	path = write_temp(text);
	/* cache_stale_ttl and negative_cache_ttl undocumented, negative_cache_size undeclared */
	ck_assert_uint_eq(manual_problems(&ldap->config, path), 3);
	unlink(path);
	free(path);
	free(text);
}
END_TEST

/* ---- bounds through the registry ---- */

/* Loads text with the registry's stores; returns the first problem the
 * stores' checks find (empty: none), with its line. */
static size_t check_text(const char *text, struct ntlmd_config_error *errs)
{
	struct ntlmd_config cfg = {0};
	struct ntlmd_config_error cerrs[4];
	size_t n = 0;
	char *path = write_temp(text);

	ck_assert_int_eq(ntlmd_stores_config_load(path, &cfg, cerrs, 4, &n), NTLM_OK);
	n = ntlmd_backends_check_config(&cfg, errs, MAX_ERRORS);
	ntlmd_config_clear(&cfg);
	unlink(path);
	free(path);
	return n;
}

static const struct {
	const char *line; /* set on line 2, after "backends files" */
	const char *reason;
} bad_values[] = {
    {"timelimit 0", "timelimit: 0 is out of range (1 to 3600)"},
    {"bind_timelimit 3601", "bind_timelimit: 3601 is out of range (1 to 3600)"},
    {"cache_ttl 86401", "cache_ttl: 86401 is out of range (0 to 86400)"},
    {"reconnect_sleeptime 1e3", "reconnect_sleeptime: '1e3' is not a number"},
    {"idle_timelimit -1", "idle_timelimit: '-1' is not a number"},
    {"negative_cache_ttl 99999999999999999999999", "negative_cache_ttl: number too large"},
    {"cache_stale_ttl 5 s", "cache_stale_ttl: takes one value"},
    {"scope everything", "scope: expected sub, subtree, one, onelevel or base, not 'everything'"},
    {"ssl maybe", "ssl: expected off, no, start_tls, on or yes, not 'maybe'"},
    {"tls_reqcert sometimes", "tls_reqcert: expected never, allow, try, demand or hard, not 'sometimes'"},
    {"lockout_writeback perhaps", "lockout_writeback: expected yes or no, not 'perhaps'"},
    {"group_member_dn 1", "group_member_dn: expected yes or no, not '1'"},
    {"domain_attribute 9lives", "domain_attribute: \"9lives\" is not an attribute name"},
    {"group_name_attribute a b", "group_name_attribute: takes one value"},
    {"filter objectClass=x", "filter: expected an LDAP filter in parentheses"},
    {"tls_cert /nonexistent/cert.pem", "tls_cert /nonexistent/cert.pem: cannot read: No such file"},
};

START_TEST(registry_bad_value)
{
	struct ntlmd_config_error errs[MAX_ERRORS];
	char text[256];
	size_t n;

	snprintf(text, sizeof(text), "backends files\n%s\n", bad_values[_i].line);
	n = check_text(text, errs);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(errs[0].line, 2);
	ck_assert_msg(strstr(errs[0].reason, bad_values[_i].reason) == errs[0].reason, "%s: got \"%s\"",
	              bad_values[_i].line, errs[0].reason);
}
END_TEST

/* The bounds themselves, nslcd's spellings of yes and no, any case of a name. */
START_TEST(registry_edges_accepted)
{
	struct ntlmd_config_error errs[MAX_ERRORS];
	static const char *const good[] = {
	    "timelimit 1",          "timelimit 3600",
	    "cache_ttl 0",          "cache_ttl 86400",
	    "lockout_writeback on", "lockout_writeback TRUE",
	    "group_member_dn off",  "group_member_dn false",
	    "scope SubTree",        "ssl no",
	    "tls_reqcert Never",    "filter (&(a=b)(c=d e))",
	};

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		char text[256];
		snprintf(text, sizeof(text), "backends files\n%s\n", good[i]);
		ck_assert_msg(check_text(text, errs) == 0, "%s: %s", good[i], errs[0].reason);
	}
}
END_TEST

/* ---- every type, with a store of the test's own ---- */

struct demo_conf {
	char *name, *filter, *attr, *file, *dir;
	char **lines, **words;
	unsigned count;
	bool flag;
	int mode;
	unsigned hook_line;
	char *hook_value;
};

static enum ntlm_status demo_hook(void *conf, const char *value, unsigned line,
                                  struct ntlmd_config_report *rep)
{
	struct demo_conf *c = conf;

	if (strcmp(value, "refuse") == 0) {
		ntlmd_config_report_add(rep, line, "special: refused");
		return NTLM_OK;
	}
	c->hook_line = line;
	free(c->hook_value);
	c->hook_value = strdup(value);
	return c->hook_value != NULL ? NTLM_OK : NTLM_ERR_NO_MEMORY;
}

static const struct ntlmd_config_word demo_modes[] = {{"low", 1}, {"high", 7}, {NULL, 0}};

#define DEMO(f) .off = offsetof(struct demo_conf, f)
static const struct ntlmd_config_store_key demo_keys[] = {
    {"demo_name", .type = NTLMD_CONF_STRING, DEMO(name), .max = 8},
    {"demo_line", .type = NTLMD_CONF_STRINGS, DEMO(lines), .repeatable = true},
    {"demo_words", .type = NTLMD_CONF_WORDS, DEMO(words)},
    {"demo_count", .type = NTLMD_CONF_NUMBER, DEMO(count), .min = 2, .max = 9},
    {"demo_flag", .type = NTLMD_CONF_BOOL, DEMO(flag)},
    {"demo_mode", .type = NTLMD_CONF_ENUM, DEMO(mode), .words = demo_modes},
    {"demo_attr", .type = NTLMD_CONF_ATTRIBUTE, DEMO(attr)},
    {"demo_filter", .type = NTLMD_CONF_FILTER, DEMO(filter)},
    {"demo_file", .type = NTLMD_CONF_FILE, DEMO(file)},
    {"demo_dir", .type = NTLMD_CONF_DIRECTORY, DEMO(dir)},
    {"demo_special", .type = NTLMD_CONF_CUSTOM, .hook = demo_hook},
    {"demo_secret", .refused = "demo_secret is not accepted inline"},
    {NULL},
};
static const struct ntlmd_config_store demo_store = {.name = "demo", .keys = demo_keys};
static const struct ntlmd_config_store files_store = {.name = "files"};

static void demo_clear(struct demo_conf *c)
{
	char **vs[] = {c->lines, c->words};
	free(c->name);
	free(c->filter);
	free(c->attr);
	free(c->file);
	free(c->dir);
	free(c->hook_value);
	for (size_t i = 0; i < ARRAY_SIZE(vs); i++) {
		for (size_t j = 0; vs[i] != NULL && vs[i][j] != NULL; j++)
			free(vs[i][j]);
		free(vs[i]);
	}
	memset(c, 0, sizeof(*c));
}

/* Loads text with the files and demo stores and parses demo's keys into c. */
static size_t demo_parse(const char *text, struct demo_conf *c, struct ntlmd_config_error *errs)
{
	const struct ntlmd_config_store *const stores[] = {&files_store, &demo_store};
	struct ntlmd_config cfg = {0};
	struct ntlmd_config_error cerrs[4];
	struct ntlmd_config_report rep = {.errs = errs, .max = MAX_ERRORS};
	size_t n = 0;
	char *path = write_temp(text);

	ck_assert_int_eq(ntlmd_config_load_stores(path, stores, 2, &cfg, cerrs, 4, &n), NTLM_OK);
	ck_assert_int_eq(ntlmd_config_store_parse(&cfg, &demo_store, c, &rep), NTLM_OK);
	ck_assert(!rep.oom);
	ntlmd_config_clear(&cfg);
	unlink(path);
	free(path);
	return rep.n;
}

START_TEST(every_type)
{
	struct demo_conf c = {.count = 5};
	struct ntlmd_config_error errs[MAX_ERRORS];
	char *file = write_temp("x\n"), text[1024];

	snprintf(text, sizeof(text),
	         "demo_name a b c\n"
	         "demo_line first line\n"
	         "demo_words one two\n"
	         "demo_line second\n"
	         "demo_count 9\n"
	         "demo_flag true\n"
	         "demo_mode HIGH\n"
	         "demo_attr sambaNTPassword;binary\n"
	         "demo_filter (cn=x y)\n"
	         "demo_file %s\n"
	         "demo_special anything at all\n",
	         file);
	ck_assert_uint_eq(demo_parse(text, &c, errs), 0);
	ck_assert_str_eq(c.name, "a b c");
	ck_assert_str_eq(c.lines[0], "first line");
	ck_assert_str_eq(c.lines[1], "second");
	ck_assert_ptr_null(c.lines[2]);
	ck_assert_str_eq(c.words[1], "two");
	ck_assert_ptr_null(c.words[2]);
	ck_assert_uint_eq(c.count, 9);
	ck_assert(c.flag);
	ck_assert_int_eq(c.mode, 7);
	ck_assert_str_eq(c.attr, "sambaNTPassword;binary");
	ck_assert_str_eq(c.filter, "(cn=x y)");
	ck_assert_str_eq(c.file, file);
	ck_assert_str_eq(c.hook_value, "anything at all");
	ck_assert_uint_eq(c.hook_line, 11);
	demo_clear(&c);
	unlink(file);
	free(file);
}
END_TEST

START_TEST(every_type_refuses)
{
	struct demo_conf c = {.count = 5, .mode = 1};
	struct ntlmd_config_error errs[MAX_ERRORS];
	static const char *const want[] = {
	    "demo_name: longer than 8 bytes",
	    "demo_count: 1 is out of range (2 to 9)",
	    "demo_flag: expected yes or no, not 'maybe'",
	    "demo_mode: expected low or high, not 'middle'",
	    "demo_attr: \"-x\" is not an attribute name",
	    "demo_filter: expected an LDAP filter in parentheses",
	    "special: refused",
	};
	size_t n = demo_parse("demo_name 123456789\n"
	                      "demo_count 1\n"
	                      "demo_flag maybe\n"
	                      "demo_mode middle\n"
	                      "demo_attr -x\n"
	                      "demo_filter (x\n"
	                      "demo_special refuse\n",
	                      &c, errs);

	ck_assert_uint_eq(n, ARRAY_SIZE(want));
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(errs[i].line, i + 1);
		ck_assert_str_eq(errs[i].reason, want[i]);
	}
	/* a refused value leaves the field as it was */
	ck_assert_uint_eq(c.count, 5);
	ck_assert_int_eq(c.mode, 1);
	ck_assert(!c.flag);
	ck_assert_uint_eq(demo_parse("demo_count 10\n", &c, errs), 1);
	ck_assert_str_eq(errs[0].reason, "demo_count: 10 is out of range (2 to 9)");
	ck_assert_uint_eq(c.count, 5);
	demo_clear(&c);
}
END_TEST

/* A FILE key takes a regular file only, a DIRECTORY key a directory only:
 * a fifo, a device or a directory for a file held or failed the TLS set-up
 * at the first connect (attack5: ntlmd -t said OK). */
START_TEST(file_kinds)
{
	struct demo_conf c = {0};
	struct ntlmd_config_error errs[MAX_ERRORS];
	char *file = write_temp("x\n"), dir[512], fifo[600], text[2048];
	size_t n;

	snprintf(dir, sizeof(dir), "%s.d", file);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	snprintf(text, sizeof(text), "demo_file %s\ndemo_dir %s\n", file, dir);
	ck_assert_uint_eq(demo_parse(text, &c, errs), 0);
	ck_assert_str_eq(c.dir, dir);
	demo_clear(&c);
	snprintf(text, sizeof(text), "demo_file %s\n", dir);
	n = demo_parse(text, &c, errs);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(errs[0].line, 1);
	ck_assert_ptr_nonnull(strstr(errs[0].reason, ": not a regular file"));
	snprintf(text, sizeof(text), "demo_file %s\ndemo_dir %s\n", fifo, file);
	n = demo_parse(text, &c, errs);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_nonnull(strstr(errs[0].reason, ": not a regular file"));
	ck_assert_uint_eq(errs[1].line, 2);
	ck_assert_ptr_nonnull(strstr(errs[1].reason, ": not a directory"));
	ck_assert_uint_eq(demo_parse("demo_file /dev/zero\n", &c, errs), 1);
	ck_assert_str_eq(errs[0].reason, "demo_file /dev/zero: not a regular file");
	ck_assert_ptr_null(c.file);
	demo_clear(&c);
	unlink(fifo);
	rmdir(dir);
	unlink(file);
	free(file);
}
END_TEST

/* A FILTER's parentheses balance, escapes aside (attack5: "((a=b)" passed
 * ntlmd -t and failed at the first search). */
START_TEST(filter_balance)
{
	struct demo_conf c = {0};
	struct ntlmd_config_error errs[MAX_ERRORS];
	static const char *const bad[] = {"((a=b)",      "(a=b))",  "(a=b)(c=d)",
	                                  "(a=b))(c=d)", "(&(a=b)", "(a=\\)"};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[128];
		snprintf(text, sizeof(text), "demo_filter %s\n", bad[i]);
		ck_assert_uint_eq(demo_parse(text, &c, errs), 1);
		ck_assert_str_eq(errs[0].reason, "demo_filter: unbalanced parentheses");
	}
	ck_assert_uint_eq(demo_parse("demo_filter (&(cn=a\\29b\\28)(|(x=*)(y=\\5c)))\n", &c, errs), 0);
	ck_assert_str_eq(c.filter, "(&(cn=a\\29b\\28)(|(x=*)(y=\\5c)))");
	demo_clear(&c);
}
END_TEST

/* A non-repeatable key given twice, a refused key: the load's own errors. */
START_TEST(load_rules)
{
	const struct ntlmd_config_store *const stores[] = {&files_store, &demo_store};
	struct ntlmd_config cfg = {0};
	struct ntlmd_config_error errs[4];
	size_t n = 0;
	char *path = write_temp("demo_count 3\ndemo_count 4\ndemo_secret x\n");

	ck_assert_int_eq(ntlmd_config_load_stores(path, stores, 2, &cfg, errs, 4, &n), NTLM_ERR_CONFIG);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(errs[0].line, 2);
	ck_assert_str_eq(errs[0].reason, "demo_count: already set on line 1");
	ck_assert_str_eq(errs[1].reason, "demo_secret is not accepted inline");
	unlink(path);
	free(path);
}
END_TEST

/* Keys that cannot be parsed are refused before any file is read. */
START_TEST(ill_declared_refused)
{
	static const struct ntlmd_config_store_key bad_keys[][2] = {
	    {{"k", .type = NTLMD_CONF_NUMBER, .min = 5, .max = 4}, {NULL}},
	    {{"k", .type = NTLMD_CONF_NUMBER, .max = (uint64_t)UINT32_MAX + 1}, {NULL}},
	    {{"k", .type = NTLMD_CONF_ENUM}, {NULL}},
	    {{"k", .type = NTLMD_CONF_CUSTOM}, {NULL}},
	    {{"k", .type = (enum ntlmd_config_type)99}, {NULL}},
	};
	struct ntlmd_config cfg = {0};
	struct ntlmd_config_report rep = {.max = 0};
	char *path = write_temp("\n");

	for (size_t i = 0; i < ARRAY_SIZE(bad_keys); i++) {
		const struct ntlmd_config_store bad = {.name = "bad", .keys = bad_keys[i]};
		const struct ntlmd_config_store *const stores[] = {&files_store, &bad};
		ck_assert_int_eq(ntlmd_config_load_stores(path, stores, 2, &cfg, NULL, 0, NULL),
		                 NTLM_ERR_INVALID_ARGUMENT);
		ck_assert_int_eq(ntlmd_config_init(&cfg), NTLM_OK);
		ck_assert_int_eq(ntlmd_config_store_parse(&cfg, &bad, &rep, &rep), NTLM_ERR_INVALID_ARGUMENT);
		ntlmd_config_clear(&cfg);
	}
	unlink(path);
	free(path);
}
END_TEST

static Suite *store_keys_suite(void)
{
	Suite *s = suite_create("store_keys");
	TCase *manual = tcase_create("manual"), *registry = tcase_create("registry"),
	      *types = tcase_create("types");

	tcase_add_test(manual, manual_matches_declarations);
	tcase_add_test(manual, manual_drift_is_caught);
	tcase_add_loop_test(registry, registry_bad_value, 0, ARRAY_SIZE(bad_values));
	tcase_add_test(registry, registry_edges_accepted);
	tcase_add_test(types, every_type);
	tcase_add_test(types, every_type_refuses);
	tcase_add_test(types, load_rules);
	tcase_add_test(types, file_kinds);
	tcase_add_test(types, filter_balance);
	tcase_add_test(types, ill_declared_refused);
	suite_add_tcase(s, manual);
	suite_add_tcase(s, registry);
	suite_add_tcase(s, types);
	return s;
}

int main(void)
{
	ntlmd_backends_set_log(NULL);
	return test_run_suite(store_keys_suite());
}
