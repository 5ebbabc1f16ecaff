/*
 * testutil.h: helpers shared by the check unit tests.
 */
#ifndef NTLM_TESTUTIL_H
#define NTLM_TESTUTIL_H

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntlmssp.h"

/* The number of elements of an array (for tables of cases and loop tests). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Parses a hex string (spaces allowed) into a malloc'd buffer. */
static inline uint8_t *test_hex(const char *hex, size_t *ret_len)
{
	size_t n = strlen(hex), len = 0;
	uint8_t *out = malloc(n / 2 + 1);
	int hi = -1;

	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)hex[i], v;
		if (isspace(c))
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			ck_abort_msg("bad hex digit '%c' in test vector", c);
		if (hi < 0) {
			hi = v;
		} else {
			out[len++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	ck_assert_msg(hi < 0, "odd number of hex digits in test vector");
	*ret_len = len;
	return out;
}

/* Copies a fixed-size hex vector into buf, checking its length. */
static inline void bytes_hex(const char *hex, uint8_t *buf, size_t n)
{
	size_t len;
	uint8_t *p = test_hex(hex, &len);

	ck_assert_uint_eq(len, n);
	memcpy(buf, p, n);
	free(p);
}

/* A hash from a 32-digit hex vector. */
static inline struct ntlm_hash hash_hex(const char *hex)
{
	struct ntlm_hash h;

	bytes_hex(hex, h.bytes, sizeof(h.bytes));
	return h;
}

/* Formats bytes as lower-case hex into a static-size buffer for messages. */
static inline const char *test_tohex(const uint8_t *p, size_t len, char *buf, size_t bufsize)
{
	size_t j = 0;
	for (size_t i = 0; i < len && j + 3 <= bufsize; i++)
		j += (size_t)snprintf(buf + j, bufsize - j, "%02x", p[i]);
	buf[j < bufsize ? j : bufsize - 1] = '\0';
	return buf;
}

/* Asserts that got[0..len) equals the hex vector, printing both on mismatch,
 * after what (a case name, or "") when it is not empty. */
#define ck_assert_hex_eq_msg(what, got, got_len, hex)                                                       \
	do {                                                                                                \
		const char *what_ = (what);                                                                 \
		size_t exp_len_;                                                                            \
		uint8_t *exp_ = test_hex((hex), &exp_len_);                                                 \
		char gbuf_[2 * 4096 + 1], ebuf_[2 * 4096 + 1];                                              \
		ck_assert_msg(exp_len_ == (size_t)(got_len) && memcmp(exp_, (got), exp_len_) == 0,          \
		              "%s%sbytes differ\n  expected (%zu): %s\n  got      (%zu): %s", what_,        \
		              what_[0] != '\0' ? ": " : "", exp_len_,                                       \
		              test_tohex(exp_, exp_len_, ebuf_, sizeof(ebuf_)), (size_t)(got_len),          \
		              test_tohex((const uint8_t *)(got), (size_t)(got_len), gbuf_, sizeof(gbuf_))); \
		free(exp_);                                                                                 \
	} while (0)
#define ck_assert_hex_eq(got, got_len, hex) ck_assert_hex_eq_msg("", got, got_len, hex)

/* Asserts a status, printing names on mismatch after what (a case name, or ""). */
#define ck_assert_status_msg(what, got, want)                                              \
	do {                                                                               \
		const char *what_ = (what);                                                \
		enum ntlm_status g_ = (got), w_ = (want);                                  \
		ck_assert_msg(g_ == w_, "%s%sstatus %s (%d), expected %s (%d)", what_,     \
		              what_[0] != '\0' ? ": " : "", ntlm_status_name(g_), (int)g_, \
		              ntlm_status_name(w_), (int)w_);                              \
	} while (0)
#define ck_assert_status(got, want) ck_assert_status_msg("", got, want)

/* A NULL-terminated list of tests for test_add_tcase(). */
#define TESTS(...) ((const TTest *const[]){__VA_ARGS__, NULL})

/* Adds a TCase named name with the tests of a TESTS() list to s; returns it
 * for loop tests and timeouts. */
static inline TCase *test_add_tcase(Suite *s, const char *name, const TTest *const *tests)
{
	TCase *tc = tcase_create(name);

	for (; *tests != NULL; tests++)
		tcase_add_test(tc, *tests);
	suite_add_tcase(s, tc);
	return tc;
}

/* Runs one suite and returns the process exit code. */
static inline int test_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* NTLM_TESTUTIL_H */
