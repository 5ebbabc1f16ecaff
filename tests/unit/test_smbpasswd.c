/*
 * test_smbpasswd.c: the smbpasswd line parser and file index.
 */
#include "testutil.h"

#include "smbpasswd.h"

#include <unistd.h>

/* Parses line, asserting the status. */
static enum ntlm_status parse(const char *line, struct smbpasswd_entry *e, const char **reason)
{
	return smbpasswd_parse_line(line, strlen(line), e, reason);
}

START_TEST(parses_samba_lines)
{
	struct smbpasswd_entry e;
	const char *reason = NULL;

	/* as smbpasswd -a writes it; the NT hash is NTOWFv1("Password")
	 * (MS-NLMP 4.2.2.1.2), the LM hash LMOWFv1("Password") (4.2.2.1.1) */
	ck_assert_status(parse("User:1000:E52CAC67419A9A224A3B108F3FA6CB6D:A4F49C406510BDCAB6824EE7C30FD852:"
	                       "[U          ]:LCT-5F3A1B2C:",
	                       &e, &reason),
	                 NTLM_OK);
	ck_assert_str_eq(e.user, "User");
	ck_assert_uint_eq(e.uid, 1000);
	ck_assert(e.has_lm && e.has_nt && !e.null_password);
	ck_assert_hex_eq(e.nt.bytes, 16, "a4f49c406510bdcab6824ee7c30fd852");
	ck_assert_hex_eq(e.lm.bytes, 16, "e52cac67419a9a224a3b108f3fa6cb6d");
	ck_assert_str_eq(e.flags, "U");
	ck_assert_int_eq(e.last_change, 0x5F3A1B2C);
	smbpasswd_entry_clear(&e);

	ck_assert_status(
	    parse("bob:1001:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:a4f49c406510bdcab6824ee7c30fd852:[DUX        ]:"
	          "LCT-00000000:",
	          &e, &reason),
	    NTLM_OK);
	ck_assert(!e.has_lm);
	ck_assert(smbpasswd_entry_has_flag(&e, 'D'));
	ck_assert(smbpasswd_entry_has_flag(&e, 'X'));
	ck_assert(!smbpasswd_entry_has_flag(&e, 'L'));
	smbpasswd_entry_clear(&e);

	ck_assert_status(
	    parse(
	        "guest:65534:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:[NU         ]:"
	        "LCT-00000000:",
	        &e, &reason),
	    NTLM_OK);
	ck_assert(e.null_password && !e.has_nt);
	smbpasswd_entry_clear(&e);
}
END_TEST

START_TEST(rejects_malformed_lines_without_echo)
{
	static const char *const bad[] = {
	    "",
	    "alice",
	    "alice:1000:X:Y:[U]:",
	    "alice:notanumber:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:a4f49c406510bdcab6824ee7c30fd852:[U          "
	    "]:",
	    "alice:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:a4f49c406510bdcab6824ee7c30fd85Z:[U          ]:",
	    "alice:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:a4f49c406510bdcab6824ee7c30fd852:U:",
	    "alice:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:a4f49c406510bdcab6824ee7c30fd852:[Q          ]:",
	    "alice:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:a4f49c406510bdcab6824ee7c30fd852:[U          "
	    "]:LCT-zz:",
	    "alice:99999999999:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:a4f49c406510bdcab6824ee7c30fd852:[U          "
	    "]:",
	    ":1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:a4f49c406510bdcab6824ee7c30fd852:[U          ]:",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct smbpasswd_entry e;
		const char *reason = NULL;
		ck_assert_msg(parse(bad[i], &e, &reason) == NTLM_ERR_BAD_ENCODING, "accepted: %s", bad[i]);
		ck_assert_ptr_nonnull(reason);
		ck_assert_ptr_null(strstr(reason, "a4f49c"));
	}
}
END_TEST

/* Writes text to a temporary file and returns its path (static buffer). */
static const char *write_temp(const char *text)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/test_smbpasswd.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

START_TEST(db_load_and_lookup)
{
	struct smbpasswd_db *db = NULL;
	size_t bad_line = 0;
	const char *reason = NULL;
	const char *path =
	    write_temp("# demo users\n"
	               "\n"
	               "alice:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:a4f49c406510bdcab6824ee7c30fd852:"
	               "[U          ]:LCT-00000000:\n"
	               "Bob:1001:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:a4f49c406510bdcab6824ee7c30fd852:"
	               "[DU         ]:LCT-00000000:\r\n");
	const struct smbpasswd_entry *e;

	ck_assert_status(smbpasswd_db_load(path, &db, &bad_line, &reason), NTLM_OK);
	ck_assert_uint_eq(smbpasswd_db_count(db), 2);
	e = smbpasswd_db_find(db, "ALICE");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->user, "alice");
	e = smbpasswd_db_find(db, "bob");
	ck_assert_ptr_nonnull(e);
	ck_assert(smbpasswd_entry_has_flag(e, 'D'));
	ck_assert_ptr_null(smbpasswd_db_find(db, "carol"));
	smbpasswd_db_free(db);
	unlink(path);

	path = write_temp(
	    "alice:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:a4f49c406510bdcab6824ee7c30fd852:[U          ]:\n"
	    "broken line\n");
	db = NULL;
	ck_assert_status(smbpasswd_db_load(path, &db, &bad_line, &reason), NTLM_ERR_BAD_ENCODING);
	ck_assert_uint_eq(bad_line, 2);
	ck_assert_ptr_null(db);
	unlink(path);

	ck_assert_status(smbpasswd_db_load("/nonexistent/file", &db, &bad_line, &reason),
	                 NTLM_ERR_BACKEND_UNAVAILABLE);
}
END_TEST

START_TEST(db_many_users)
{
	FILE *f;
	char path[] = "/tmp/test_smbpasswd_many.XXXXXX";
	int fd = mkstemp(path);
	struct smbpasswd_db *db = NULL;
	size_t bad_line = 0;
	char name[32];

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	for (int i = 0; i < 5000; i++)
		fprintf(f, "user%d:%d:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:%032x:[U          ]:LCT-00000000:\n",
		        i, i, i);
	fclose(f);
	ck_assert_status(smbpasswd_db_load(path, &db, &bad_line, NULL), NTLM_OK);
	ck_assert_uint_eq(smbpasswd_db_count(db), 5000);
	for (int i = 0; i < 5000; i += 7) {
		const struct smbpasswd_entry *e;
		snprintf(name, sizeof(name), "USER%d", i);
		e = smbpasswd_db_find(db, name);
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(e->uid, (uint32_t)i);
	}
	smbpasswd_db_free(db);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("smbpasswd");

	test_add_tcase(s, "smbpasswd",
	               TESTS(parses_samba_lines, rejects_malformed_lines_without_echo, db_load_and_lookup,
	                     db_many_users));
	return test_run_suite(s);
}
