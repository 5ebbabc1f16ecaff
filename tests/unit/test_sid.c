/*
 * test_sid.c: common/sid.c: the SID text of MS-DTYP 2.4.2.1 read and
 * written, malformed SIDs refused with STATUS_NTLM_BAD_ENCODING and a
 * reason, and Samba's algorithmic RIDs.
 */
#include "sid.h"
#include "testutil.h"

/* Parses text that must be a SID and gives it back canonical. */
static void round_trip(const char *text, const char *want)
{
	struct ntlmd_sid sid;
	char out[NTLMD_SID_TEXT_MAX];
	const char *why = NULL;

	ck_assert_status_msg(text, ntlmd_sid_parse(text, &sid, &why), NTLM_OK);
	ck_assert_ptr_null(why);
	ck_assert(ntlmd_sid_format(&sid, out, sizeof(out)));
	ck_assert_str_eq(out, want);
}

START_TEST(parse_and_format)
{
	struct ntlmd_sid sid;

	round_trip("S-1-5-21-1004336348-1177238915-682003330-4000",
	           "S-1-5-21-1004336348-1177238915-682003330-4000");
	round_trip("s-1-5-21-1-2-3", "S-1-5-21-1-2-3"); /* Samba's string_to_sid takes "s-" */
	round_trip("S-1-1-0", "S-1-1-0");
	round_trip("S-1-5-32-544", "S-1-5-32-544");
	round_trip("S-1-5-21-007-2-3", "S-1-5-21-7-2-3");
	round_trip("S-1-5-4294967295", "S-1-5-4294967295");
	/* MS-DTYP 2.4.2.1: an authority of 2^32 or more is written in hex */
	round_trip("S-1-0x000100000000-1", "S-1-0x000100000000-1");
	round_trip("S-1-4294967296-1", "S-1-0x000100000000-1");
	round_trip("S-1-0xffffffffffff-1", "S-1-0xFFFFFFFFFFFF-1");
	round_trip("S-1-0x5-1", "S-1-5-1");
	round_trip("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15");
	round_trip("S-1-0xFFFFFFFFFFFF-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-"
	           "4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-"
	           "4294967295",
	           "S-1-0xFFFFFFFFFFFF-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-"
	           "4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-"
	           "4294967295");

	ck_assert_status(ntlmd_sid_parse("S-1-5-21-1-2-3", &sid, NULL), NTLM_OK);
	ck_assert_uint_eq(sid.count, 4);
	ck_assert_uint_eq(sid.authority, 5);
	ck_assert_uint_eq(sid.sub[0], 21);
	ck_assert_uint_eq(sid.sub[3], 3);
}
END_TEST

static const struct {
	const char *text, *why;
} malformed[] = {
    {"", "an empty field"},
    {"S", "it ends after S"},
    {"S-", "an empty field"},
    {"X-1-5-21", "it does not start with S-"},
    {"SS-1-5", "it does not start with S-"},
    {"S-2-5-21", "the revision is not 1"},
    {"S-01-5-21", NULL}, /* revision 1 written with a zero: accepted below */
    {"S-1", "no identifier authority"},
    {"S-1-5", "no sub-authority"},
    {"S-1-5-", "an empty field"},
    {"S-1-5-21--2", "an empty field"},
    {"S-1-5-21-1-2-3-", "an empty field"},
    {"S-1--5-21", "an empty field"},
    {"S-1-5-+21", "a field is not a number"},
    {"S-1-5- 21", "a field is not a number"},
    {"S-1-5-21 ", "a field is not a number"},
    {"S-1-5-2x", "a field is not a number"},
    {"S-1-0x-1", "a field is not a number"},
    {"S-1-0xG-1", "a field is not a number"},
    {"S-1-5-0x15", "a field is not a number"}, /* hex only for the authority */
    {"S-1-5-21-4294967296", "a number is too large"},
    {"S-1-281474976710656-1", "a number is too large"}, /* 2^48 */
    {"S-1-0x1000000000000-1", "a number is too large"},
    {"S-256-5-1", "a number is too large"},
    {"S-1-5-123456789012345678901", "a field is too long"},
    {"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", "more than 15 sub-authorities"},
};

START_TEST(malformed_refused)
{
	struct ntlmd_sid sid = {.count = 99};
	const char *why = NULL;
	enum ntlm_status st = ntlmd_sid_parse(malformed[_i].text, &sid, &why);

	if (malformed[_i].why == NULL) {
		ck_assert_status(st, NTLM_OK);
		return;
	}
	ck_assert_status_msg(malformed[_i].text, st, NTLM_ERR_BAD_ENCODING);
	ck_assert(ntlm_status_is_malformed(st));
	ck_assert_ptr_nonnull(why);
	ck_assert_str_eq(why, malformed[_i].why);
	ck_assert_uint_eq(sid.count, 99); /* *ret written only on success */
}
END_TEST

START_TEST(bounded)
{
	/* longer than any SID: refused before it is read */
	char text[4 * NTLMD_SID_TEXT_MAX];
	struct ntlmd_sid sid;
	const char *why = NULL;
	char out[NTLMD_SID_TEXT_MAX];

	memset(text, '1', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "S-1-5-", 6);
	ck_assert_status(ntlmd_sid_parse(text, &sid, &why), NTLM_ERR_BAD_ENCODING);
	ck_assert_str_eq(why, "it is too long");
	ck_assert_status(ntlmd_sid_parse(NULL, &sid, &why), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlmd_sid_parse("S-1-5-1", NULL, &why), NTLM_ERR_INVALID_ARGUMENT);

	/* the formatter never writes past out */
	ck_assert_status(ntlmd_sid_parse("S-1-5-21-1004336348-1177238915-682003330", &sid, NULL), NTLM_OK);
	ck_assert(!ntlmd_sid_format(&sid, out, 10));
	ck_assert(!ntlmd_sid_format(&sid, out, strlen("S-1-5-21-1004336348-1177238915-682003330")));
	ck_assert(ntlmd_sid_format(&sid, out, strlen("S-1-5-21-1004336348-1177238915-682003330") + 1));
}
END_TEST

START_TEST(looks_like)
{
	ck_assert(ntlmd_sid_looks_like("S-1-5-21-1-2-3"));
	ck_assert(ntlmd_sid_looks_like("s-1"));
	ck_assert(ntlmd_sid_looks_like("S-1-x")); /* a SID, if a malformed one */
	ck_assert(!ntlmd_sid_looks_like("S-admins"));
	ck_assert(!ntlmd_sid_looks_like("webusers"));
	ck_assert(!ntlmd_sid_looks_like("S"));
	ck_assert(!ntlmd_sid_looks_like(""));
	ck_assert(!ntlmd_sid_looks_like(NULL));
}
END_TEST

START_TEST(domains_and_rids)
{
	struct ntlmd_sid domain, user, other;
	uint32_t rid = 0;

	ck_assert_status(ntlmd_sid_parse("S-1-5-21-1-2-3", &domain, NULL), NTLM_OK);
	ck_assert(ntlmd_sid_is_domain(&domain));
	ck_assert_status(ntlmd_sid_parse("S-1-5-32-544", &other, NULL), NTLM_OK);
	ck_assert(!ntlmd_sid_is_domain(&other));
	ck_assert(ntlmd_sid_compose(&domain, 4000, &user));
	ck_assert(!ntlmd_sid_is_domain(&user));
	ck_assert_status(ntlmd_sid_parse("s-1-5-21-1-2-3-4000", &other, NULL), NTLM_OK);
	ck_assert(ntlmd_sid_equal(&user, &other));
	ck_assert(ntlmd_sid_split_rid(&other, &domain, &rid));
	ck_assert_uint_eq(rid, 4000);
	/* not of that domain: another domain, the domain itself, two more RIDs */
	ck_assert_status(ntlmd_sid_parse("S-1-5-21-1-2-4-4000", &other, NULL), NTLM_OK);
	ck_assert(!ntlmd_sid_split_rid(&other, &domain, &rid));
	ck_assert(!ntlmd_sid_split_rid(&domain, &domain, &rid));
	ck_assert_status(ntlmd_sid_parse("S-1-5-21-1-2-3-4000-1", &other, NULL), NTLM_OK);
	ck_assert(!ntlmd_sid_split_rid(&other, &domain, &rid));
	ck_assert(!ntlmd_sid_equal(&user, &other));
	/* Samba's test "bad" SID: the user's with its last two digits cut */
	ck_assert_status(ntlmd_sid_parse("S-1-5-21-1-2-3-40", &other, NULL), NTLM_OK);
	ck_assert(!ntlmd_sid_equal(&user, &other));
	/* 15 sub-authorities: no room for a RID */
	ck_assert_status(ntlmd_sid_parse("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15", &other, NULL), NTLM_OK);
	ck_assert(!ntlmd_sid_compose(&other, 1, &user));
}
END_TEST

START_TEST(algorithmic_rids)
{
	uint32_t rid = 0;

	/* Samba: algorithmic rid base 1000; users 2 * uid + base, groups + 1 */
	ck_assert(ntlmd_uid_to_rid(0, &rid));
	ck_assert_uint_eq(rid, 1000);
	ck_assert(ntlmd_gid_to_rid(0, &rid));
	ck_assert_uint_eq(rid, 1001);
	ck_assert(ntlmd_uid_to_rid(1500, &rid));
	ck_assert_uint_eq(rid, 4000);
	ck_assert(ntlmd_gid_to_rid(100, &rid));
	ck_assert_uint_eq(rid, 1201);
	/* the largest that fit in 32 bits, and the first that do not */
	ck_assert(ntlmd_uid_to_rid(2147483147u, &rid));
	ck_assert_uint_eq(rid, 4294967294u);
	ck_assert(ntlmd_gid_to_rid(2147483147u, &rid));
	ck_assert_uint_eq(rid, 4294967295u);
	rid = 7;
	ck_assert(!ntlmd_uid_to_rid(2147483148u, &rid));
	ck_assert(!ntlmd_gid_to_rid(2147483148u, &rid));
	ck_assert(!ntlmd_uid_to_rid(UINT32_MAX, &rid));
	ck_assert_uint_eq(rid, 7);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sid");
	TCase *t = tcase_create("sid");

	tcase_add_test(t, parse_and_format);
	tcase_add_loop_test(t, malformed_refused, 0, (int)ARRAY_SIZE(malformed));
	tcase_add_test(t, bounded);
	tcase_add_test(t, looks_like);
	tcase_add_test(t, domains_and_rids);
	tcase_add_test(t, algorithmic_rids);
	suite_add_tcase(s, t);
	return test_run_suite(s);
}
