/*
 * test_status.c: every status has a distinct name, a code and a message.
 */
#include "testutil.h"

START_TEST(every_status_has_name_code_message)
{
	for (int i = 0; i < _NTLM_STATUS_MAX; i++) {
		const char *name = ntlm_status_name((enum ntlm_status)i);
		ck_assert_msg(strncmp(name, "STATUS_", 7) == 0, "status %d has name %s", i, name);
		ck_assert_str_ne(name, "STATUS_UNKNOWN");
		ck_assert_str_ne(ntlm_status_message((enum ntlm_status)i), "unknown status");
		if (i != NTLM_OK)
			ck_assert_uint_ne(ntlm_status_code((enum ntlm_status)i), 0);
		for (int j = 0; j < i; j++) {
			ck_assert_str_ne(name, ntlm_status_name((enum ntlm_status)j));
			ck_assert_uint_ne(ntlm_status_code((enum ntlm_status)i),
			                  ntlm_status_code((enum ntlm_status)j));
		}
	}
}
END_TEST

START_TEST(well_known_ntstatus_codes)
{
	/* MS-ERREF 2.3.1 */
	ck_assert_uint_eq(ntlm_status_code(NTLM_STATUS_WRONG_PASSWORD), 0xC000006Au);
	ck_assert_str_eq(ntlm_status_name(NTLM_STATUS_WRONG_PASSWORD), "STATUS_WRONG_PASSWORD");
	ck_assert_uint_eq(ntlm_status_code(NTLM_STATUS_NO_SUCH_USER), 0xC0000064u);
	ck_assert_uint_eq(ntlm_status_code(NTLM_STATUS_LOGON_FAILURE), 0xC000006Du);
	ck_assert_uint_eq(ntlm_status_code(NTLM_STATUS_ACCOUNT_DISABLED), 0xC0000072u);
	ck_assert_uint_eq(ntlm_status_code(NTLM_STATUS_ACCOUNT_LOCKED_OUT), 0xC0000234u);
	ck_assert_uint_eq(ntlm_status_code(NTLM_STATUS_TIME_SKEW), 0xC0000133u);
	ck_assert_uint_eq(ntlm_status_code(NTLM_STATUS_BAD_BINDINGS), 0xC000035Bu);
	ck_assert_uint_eq(ntlm_status_code(NTLM_ERR_BACKEND_UNAVAILABLE), 0xC000005Eu);
	ck_assert_uint_eq(ntlm_status_code(NTLM_ERR_INSUFFICIENT_RESOURCES), 0xC000009Au);
	ck_assert_str_eq(ntlm_status_name(NTLM_ERR_INSUFFICIENT_RESOURCES), "STATUS_INSUFFICIENT_RESOURCES");
	ck_assert_str_eq(ntlm_status_message(NTLM_ERR_INSUFFICIENT_RESOURCES),
	                 "a resource limit of the daemon is reached; try again later");
	ck_assert(!ntlm_status_is_malformed(NTLM_ERR_INSUFFICIENT_RESOURCES));
}
END_TEST

/* The daemon-level statuses (issue 16), appended so that every earlier
 * value keeps its number (the library's ABI). */
START_TEST(daemon_level_statuses)
{
	ck_assert_int_eq(NTLM_ERR_INSUFFICIENT_RESOURCES + 1, NTLM_ERR_CONFIG);
	ck_assert_str_eq(ntlm_status_name(NTLM_ERR_CONFIG), "STATUS_NTLM_CONFIG_ERROR");
	ck_assert_uint_eq(ntlm_status_code(NTLM_ERR_CONFIG), 0xE0A70202u);
	ck_assert(!ntlm_status_is_malformed(NTLM_ERR_CONFIG));
	ck_assert_str_eq(ntlm_status_name(NTLM_ERR_BAD_REQUEST), "STATUS_INVALID_NETWORK_RESPONSE");
	ck_assert_uint_eq(ntlm_status_code(NTLM_ERR_BAD_REQUEST), 0xC00000C3u);
	ck_assert(ntlm_status_is_malformed(NTLM_ERR_BAD_REQUEST));
	ck_assert_str_eq(ntlm_status_name(NTLM_STATUS_NO_SUCH_GROUP), "STATUS_NO_SUCH_GROUP");
	ck_assert_uint_eq(ntlm_status_code(NTLM_STATUS_NO_SUCH_GROUP), 0xC0000066u);
	ck_assert_str_eq(ntlm_status_message(NTLM_STATUS_NO_SUCH_GROUP), "no such group");
	ck_assert(!ntlm_status_is_malformed(NTLM_STATUS_NO_SUCH_GROUP));
}
END_TEST

START_TEST(malformed_is_distinct_from_auth_failure)
{
	ck_assert(ntlm_status_is_malformed(NTLM_ERR_TRUNCATED));
	ck_assert(ntlm_status_is_malformed(NTLM_ERR_BAD_ENCODING));
	/* a name with a control character is malformed input, with its own status */
	ck_assert(ntlm_status_is_malformed(NTLM_ERR_CONTROL_CHARACTER));
	ck_assert_str_eq(ntlm_status_name(NTLM_ERR_CONTROL_CHARACTER), "STATUS_NTLM_CONTROL_CHARACTER");
	ck_assert_uint_eq(ntlm_status_code(NTLM_ERR_CONTROL_CHARACTER), 0xE0A7000Du);
	ck_assert_str_eq(ntlm_status_message(NTLM_ERR_CONTROL_CHARACTER),
	                 "a user, domain or workstation name holds a control character");
	ck_assert(!ntlm_status_is_malformed(NTLM_ERR_INVALID_ARGUMENT));
	ck_assert(!ntlm_status_is_malformed(NTLM_STATUS_WRONG_PASSWORD));
	ck_assert(!ntlm_status_is_malformed(NTLM_OK));
	ck_assert_str_eq(ntlm_status_name((enum ntlm_status) - 1), "STATUS_UNKNOWN");
	ck_assert_str_eq(ntlm_status_name(_NTLM_STATUS_MAX), "STATUS_UNKNOWN");
}
END_TEST

START_TEST(names_of_types_and_verdicts)
{
	ck_assert_str_eq(ntlm_response_type_name(NTLM_RESPONSE_NTLMV1_ESS), "NTLMv1-ESS");
	ck_assert_str_eq(ntlm_response_type_name(NTLM_RESPONSE_LMV2), "LMv2");
	ck_assert_str_eq(ntlm_verdict_name(NTLM_VERDICT_INVALID), "invalid");
	ck_assert_str_eq(ntlm_verdict_name((enum ntlm_verdict)99), "unknown");
}
END_TEST

START_TEST(equal_ct_and_wipe)
{
	uint8_t a[16] = {1, 2, 3}, b[16] = {1, 2, 3};

	ck_assert(ntlm_equal_ct(a, b, sizeof(a)));
	b[15] = 1;
	ck_assert(!ntlm_equal_ct(a, b, sizeof(a)));
	ntlm_wipe(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		ck_assert_uint_eq(a[i], 0);
	ntlm_wipe(NULL, 5);
}
END_TEST

START_TEST(filetime_conversions)
{
	/* MS-DTYP 2.3.3: 1970-01-01 is 116444736000000000 */
	ck_assert_uint_eq(ntlm_filetime_from_unix(0), 116444736000000000ull);
	ck_assert_int_eq(ntlm_filetime_to_unix(116444736000000000ull), 0);
	ck_assert_int_eq(ntlm_filetime_to_unix(ntlm_filetime_from_unix(1700000000)), 1700000000);
	ck_assert_uint_gt(ntlm_filetime_now(), ntlm_filetime_from_unix(1700000000));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("status");

	test_add_tcase(s, "status",
	               TESTS(every_status_has_name_code_message, well_known_ntstatus_codes,
	                     daemon_level_statuses, malformed_is_distinct_from_auth_failure,
	                     names_of_types_and_verdicts, equal_ct_and_wipe, filetime_conversions));
	return test_run_suite(s);
}
