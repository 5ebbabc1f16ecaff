/*
 * test_ldap_entry.c: the ldap store's entry parser (ntlmd_ldap_entry_parse,
 * ldap/ldap_entry.c) on entries built here, no directory: every attribute
 * read, flags with blanks ("[UL   ]"), hashes that are not hex, multi-valued
 * attributes (the first value counts), numbers too large, a NUL in a value,
 * an empty value, attribute names in another case, and an entry with no
 * attribute at all.
 */
#include <config.h>

#include "testutil.h"

#include "ldap_entry.h"

#define MAX_FIELDS 32

/* One value of an entry: name, value (len 0: strlen). Consecutive fields
 * of one name make a multi-valued attribute. */
struct field {
	const char *name;
	const char *value;
	size_t len;
};

struct built_entry {
	struct ntlmd_ldap_value values[MAX_FIELDS];
	struct ntlmd_ldap_attribute attrs[MAX_FIELDS];
	struct ntlmd_ldap_entry entry;
};

static const struct ntlmd_ldap_entry *build(struct built_entry *b, const struct field *f, size_t n)
{
	size_t count = 0;

	ck_assert_uint_le(n, MAX_FIELDS);
	for (size_t i = 0; i < n; i++) {
		b->values[i] =
		    (struct ntlmd_ldap_value){f[i].value, f[i].len != 0 ? f[i].len : strlen(f[i].value)};
		if (count > 0 && strcmp(b->attrs[count - 1].name, f[i].name) == 0)
			b->attrs[count - 1].count++;
		else
			b->attrs[count++] = (struct ntlmd_ldap_attribute){f[i].name, &b->values[i], 1};
	}
	b->entry = (struct ntlmd_ldap_entry){b->attrs, count};
	return &b->entry;
}

/* Parses f with the default attribute names. */
static enum ntlm_status parse(const struct field *f, size_t n, struct ntlmd_account *a,
                              struct ntlmd_ldap_entry_fault *fault)
{
	struct built_entry b;

	*fault = (struct ntlmd_ldap_entry_fault){NULL, NULL};
	return ntlmd_ldap_entry_parse(build(&b, f, n), ntlmd_ldap_default_attrs, a, fault);
}

START_TEST(every_attribute)
{
	static const struct field f[] = {
	    {"uid", "alice", 0},
	    {"sambaNTPassword", "8846F7EAEE8FB117AD06BDD830B7586C", 0},
	    {"sambaLMPassword", "e52cac67419a9a224a3b108f3fa6cb6d", 0},
	    {"sambaAcctFlags", "[UX         ]", 0},
	    {"sambaPwdLastSet", "1700000000", 0},
	    {"sambaPwdMustChange", "1800000000", 0},
	    {"sambaKickoffTime", "2000000000", 0},
	    {"sambaLogonHours", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF0001", 0},
	    {"sambaUserWorkstations", " ws1 , ,ws2", 0},
	    {"sambaBadPasswordCount", "2", 0},
	    {"sambaBadPasswordTime", "1700000100", 0},
	    {"uidNumber", "4294967295", 0},
	    {"sambaSID", "s-1-5-21-1-2-3-1001", 0},
	};
	struct ntlmd_ldap_entry_fault fault;
	struct ntlmd_account a;

	ck_assert_int_eq(parse(f, ARRAY_SIZE(f), &a, &fault), NTLM_OK);
	ck_assert_str_eq(a.name, "alice");
	ck_assert(a.has_nt);
	ck_assert_uint_eq(a.nt_hash.bytes[0], 0x88);
	ck_assert_uint_eq(a.nt_hash.bytes[15], 0x6C);
	ck_assert(a.has_lm);
	ck_assert_uint_eq(a.lm_hash.bytes[0], 0xE5);
	ck_assert_str_eq(a.flags, "UX");
	ck_assert(!a.null_password);
	ck_assert_int_eq(a.pwd_last_set, 1700000000);
	ck_assert_int_eq(a.pwd_must_change, 1800000000);
	ck_assert_int_eq(a.kickoff_time, 2000000000);
	ck_assert(a.has_logon_hours);
	ck_assert_uint_eq(a.logon_hours[0], 0xFF);
	ck_assert_uint_eq(a.logon_hours[19], 0x00);
	ck_assert_uint_eq(a.logon_hours[20], 0x01);
	ck_assert_ptr_nonnull(a.workstations);
	ck_assert_str_eq(a.workstations[0], "ws1");
	ck_assert_str_eq(a.workstations[1], "ws2");
	ck_assert_ptr_null(a.workstations[2]);
	ck_assert_int_eq(a.bad_count, 2);
	ck_assert_int_eq(a.bad_time, 1700000100);
	ck_assert(a.has_uid);
	ck_assert_uint_eq(a.uid, 4294967295u);
	ck_assert_str_eq(a.sid, "S-1-5-21-1-2-3-1001"); /* canonical */
	ck_assert_ptr_null(a.key);                      /* the caller's: the DN */
	ck_assert_ptr_null(a.domain);                   /* the caller's: the store's domains */
	ntlmd_account_clear(&a);
}
END_TEST

/* No attribute at all: an account with no hash, flags "U", no times, no
 * lockout count (-1), no SID, no uid, name "". */
START_TEST(missing_attributes)
{
	struct ntlmd_ldap_entry_fault fault;
	struct ntlmd_account a;

	ck_assert_int_eq(parse(NULL, 0, &a, &fault), NTLM_OK);
	ck_assert_str_eq(a.name, "");
	ck_assert(!a.has_nt && !a.has_lm && !a.has_uid && !a.has_logon_hours);
	ck_assert_str_eq(a.flags, "U");
	ck_assert_int_eq(a.pwd_last_set, -1);
	ck_assert_int_eq(a.pwd_must_change, -1);
	ck_assert_int_eq(a.kickoff_time, -1);
	ck_assert_int_eq(a.bad_count, -1);
	ck_assert_int_eq(a.bad_time, 0);
	ck_assert_ptr_null(a.sid);
	ck_assert_ptr_null(a.workstations);
	ntlmd_account_clear(&a);
}
END_TEST

/* Flags with blanks among the letters, as Samba writes them. */
START_TEST(flags)
{
	static const struct {
		const char *value;
		const char *letters; /* NULL: refused */
	} cases[] = {
	    {"[UL   ]", "UL"}, {"[U          ]", "U"}, {"[NU         ]", "NU"}, {"[]", ""},
	    {"[ D U ]", "DU"}, {"UL", NULL},           {"[ul]", NULL},          {"[U", NULL},
	    {"", NULL},        {"[U1]", NULL},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct field f[] = {{"sambaAcctFlags", cases[i].value, 0}};
		struct ntlmd_ldap_entry_fault fault;
		struct ntlmd_account a;
		enum ntlm_status st = parse(f, 1, &a, &fault);

		if (cases[i].letters != NULL) {
			ck_assert_msg(st == NTLM_OK, "%s refused", cases[i].value);
			ck_assert_str_eq(a.flags, cases[i].letters);
			ntlmd_account_clear(&a);
		} else {
			ck_assert_msg(st == NTLM_ERR_BAD_ENCODING, "%s taken", cases[i].value);
			ck_assert_str_eq(fault.attribute, "sambaAcctFlags");
			ck_assert_ptr_null(a.name); /* cleared */
		}
	}
}
END_TEST

/* N with no NT hash: a null password; with a hash: not. */
START_TEST(null_password)
{
	struct field no_hash[] = {{"sambaAcctFlags", "[NU         ]", 0}};
	struct field with_hash[] = {{"sambaNTPassword", "8846F7EAEE8FB117AD06BDD830B7586C", 0},
	                            {"sambaAcctFlags", "[NU         ]", 0}};
	struct ntlmd_ldap_entry_fault fault;
	struct ntlmd_account a;

	ck_assert_int_eq(parse(no_hash, 1, &a, &fault), NTLM_OK);
	ck_assert(a.null_password);
	ntlmd_account_clear(&a);
	ck_assert_int_eq(parse(with_hash, 2, &a, &fault), NTLM_OK);
	ck_assert(!a.null_password);
	ntlmd_account_clear(&a);
}
END_TEST

/* A hash must be 32 hex digits; an LM hash of X's is "none". */
START_TEST(bad_hex)
{
	static const struct field cases[] = {
	    {"sambaNTPassword", "8846F7EAEE8FB117AD06BDD830B7586", 0},   /* 31 digits */
	    {"sambaNTPassword", "8846F7EAEE8FB117AD06BDD830B7586C0", 0}, /* 33 */
	    {"sambaNTPassword", "G846F7EAEE8FB117AD06BDD830B7586C", 0},  /* not hex */
	    {"sambaNTPassword", "", 0},
	    {"sambaLMPassword", "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXY", 0},
	    {"sambaLogonHours", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 0}, /* 41 */
	    {"sambaLogonHours", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFZZ", 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ntlmd_ldap_entry_fault fault;
		struct ntlmd_account a;

		ck_assert_msg(parse(&cases[i], 1, &a, &fault) == NTLM_ERR_BAD_ENCODING, "case %zu taken", i);
		ck_assert_str_eq(fault.attribute, cases[i].name);
		ck_assert_ptr_nonnull(strstr(fault.why, "hex digits"));
	}
	{
		struct field lm_none[] = {{"sambaLMPassword", "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", 0}};
		struct ntlmd_ldap_entry_fault fault;
		struct ntlmd_account a;

		ck_assert_int_eq(parse(lm_none, 1, &a, &fault), NTLM_OK);
		ck_assert(!a.has_lm);
		ntlmd_account_clear(&a);
	}
}
END_TEST

/* A multi-valued attribute: the first value counts, the others are not
 * read (a bad second value does not refuse the entry). */
START_TEST(multi_valued)
{
	static const struct field f[] = {
	    {"uid", "alice", 0},
	    {"uid", "alice2", 0},
	    {"sambaNTPassword", "8846F7EAEE8FB117AD06BDD830B7586C", 0},
	    {"sambaNTPassword", "not a hash", 0},
	    {"sambaBadPasswordCount", "3", 0},
	    {"sambaBadPasswordCount", "4", 0},
	};
	struct ntlmd_ldap_entry_fault fault;
	struct ntlmd_account a;

	ck_assert_int_eq(parse(f, ARRAY_SIZE(f), &a, &fault), NTLM_OK);
	ck_assert_int_eq(a.bad_count, 3);
	ck_assert_msg(a.has_nt && a.nt_hash.bytes[15] == 0x6C, "the first sambaNTPassword");
	ck_assert_str_eq(a.name, "alice");
	ntlmd_account_clear(&a);
}
END_TEST

/* Numbers past int64 refuse a time; a uid past 32 bits or a negative one
 * is no uid; a count past int64 or negative is no count. */
START_TEST(huge_numbers)
{
	static const char *const too_big = "99999999999999999999";
	static const char *const times[] = {"sambaPwdLastSet", "sambaPwdMustChange", "sambaKickoffTime"};
	struct ntlmd_ldap_entry_fault fault;
	struct ntlmd_account a;

	for (size_t i = 0; i < ARRAY_SIZE(times); i++) {
		struct field big[] = {{times[i], too_big, 0}};
		struct field text[] = {{times[i], "12x", 0}};

		ck_assert_int_eq(parse(big, 1, &a, &fault), NTLM_ERR_BAD_ENCODING);
		ck_assert_str_eq(fault.attribute, times[i]);
		ck_assert_str_eq(fault.why, "not a number");
		ck_assert_int_eq(parse(text, 1, &a, &fault), NTLM_ERR_BAD_ENCODING);
	}
	{
		struct field f[] = {{"uidNumber", "4294967296", 0},
		                    {"sambaBadPasswordCount", too_big, 0},
		                    {"sambaBadPasswordTime", too_big, 0},
		                    {"sambaPwdLastSet", "9223372036854775807", 0}};

		ck_assert_int_eq(parse(f, ARRAY_SIZE(f), &a, &fault), NTLM_OK);
		ck_assert(!a.has_uid);
		ck_assert_int_eq(a.bad_count, -1);
		ck_assert_int_eq(a.bad_time, 0);
		ck_assert_int_eq(a.pwd_last_set, INT64_MAX);
		ntlmd_account_clear(&a);
	}
	{
		struct field f[] = {{"uidNumber", "-1", 0}, {"sambaBadPasswordCount", "-2", 0}};

		ck_assert_int_eq(parse(f, ARRAY_SIZE(f), &a, &fault), NTLM_OK);
		ck_assert(!a.has_uid);
		ck_assert_int_eq(a.bad_count, -1);
		ntlmd_account_clear(&a);
	}
	{
		/* past INT32_MAX: malformed, so that no + 1 on it overflows (attack4 F1) */
		struct field f[] = {{"sambaBadPasswordCount", "9223372036854775807", 0}};
		struct field g[] = {{"sambaBadPasswordCount", "2147483648", 0}};
		struct field h[] = {{"sambaBadPasswordCount", "2147483647", 0}};

		ck_assert_int_eq(parse(f, ARRAY_SIZE(f), &a, &fault), NTLM_OK);
		ck_assert_int_eq(a.bad_count, -1);
		ntlmd_account_clear(&a);
		ck_assert_int_eq(parse(g, ARRAY_SIZE(g), &a, &fault), NTLM_OK);
		ck_assert_int_eq(a.bad_count, -1);
		ntlmd_account_clear(&a);
		ck_assert_int_eq(parse(h, ARRAY_SIZE(h), &a, &fault), NTLM_OK);
		ck_assert_int_eq(a.bad_count, INT32_MAX);
		ntlmd_account_clear(&a);
	}
}
END_TEST

/* A NUL inside a value: not text, whichever attribute. */
START_TEST(nul_in_value)
{
	struct field f[] = {{"uid", "al\0ice", 6}};
	struct ntlmd_ldap_entry_fault fault;
	struct ntlmd_account a;

	ck_assert_int_eq(parse(f, 1, &a, &fault), NTLM_ERR_BAD_ENCODING);
	ck_assert_str_eq(fault.attribute, "uid");
	ck_assert_str_eq(fault.why, "not text");
}
END_TEST

/* Attribute names match without case (LDAP's attribute descriptions);
 * an attribute with no value is absent; an unknown one is ignored. */
START_TEST(names_and_values)
{
	struct field f[] = {{"UID", "bob", 0},
	                    {"sambantpassword", "8846f7eaee8fb117ad06bdd830b7586c", 0},
	                    {"description", "[not flags", 0}};
	struct built_entry b;
	struct ntlmd_ldap_entry_fault fault;
	struct ntlmd_account a;
	const struct ntlmd_ldap_entry *e = build(&b, f, ARRAY_SIZE(f));
	bool absent = false;

	ck_assert_int_eq(ntlmd_ldap_entry_parse(e, ntlmd_ldap_default_attrs, &a, &fault), NTLM_OK);
	ck_assert_str_eq(a.name, "bob");
	ck_assert(a.has_nt);
	ntlmd_account_clear(&a);
	b.attrs[0].count = 0; /* uid with no value */
	ck_assert_ptr_null(ntlmd_ldap_entry_text(e, "uid", &absent));
	ck_assert(absent);
	ck_assert_int_eq(ntlmd_ldap_entry_parse(e, ntlmd_ldap_default_attrs, &a, &fault), NTLM_OK);
	ck_assert_str_eq(a.name, "");
	ntlmd_account_clear(&a);
	b.attrs[0].count = 1; /* uid with one empty value, no bytes at all */
	b.values[0] = (struct ntlmd_ldap_value){NULL, 0};
	ck_assert_int_eq(ntlmd_ldap_entry_parse(e, ntlmd_ldap_default_attrs, &a, &fault), NTLM_OK);
	ck_assert_str_eq(a.name, "");
	ck_assert(a.has_nt);
	ntlmd_account_clear(&a);
}
END_TEST

static Suite *ldap_entry_suite(void)
{
	Suite *s = suite_create("ldap_entry");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, every_attribute);
	tcase_add_test(tc, missing_attributes);
	tcase_add_test(tc, flags);
	tcase_add_test(tc, null_password);
	tcase_add_test(tc, bad_hex);
	tcase_add_test(tc, multi_valued);
	tcase_add_test(tc, huge_numbers);
	tcase_add_test(tc, nul_in_value);
	tcase_add_test(tc, names_and_values);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(ldap_entry_suite());
}
