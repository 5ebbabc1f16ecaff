/*
 * test_reader.c: the bounded reader, the writer, the text helpers (UTF-8,
 * UTF-16LE, OEM, base64) and AV_PAIR lists (MS-NLMP 2.2.2.1).
 */
#include "testutil.h"

#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Reader                                                              */
/* ------------------------------------------------------------------ */

START_TEST(test_reader_integers)
{
	static const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	                             0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15};
	struct ntlm_reader r;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	ntlm_reader_init(&r, in, sizeof(in));
	ck_assert_uint_eq(ntlm_reader_left(&r), 21);
	ck_assert_status(ntlm_read_u8(&r, &u8), NTLM_OK);
	ck_assert_uint_eq(u8, 0x01);
	ck_assert_status(ntlm_read_u16le(&r, &u16), NTLM_OK);
	ck_assert_uint_eq(u16, 0x0302);
	ck_assert_status(ntlm_read_u32le(&r, &u32), NTLM_OK);
	ck_assert_uint_eq(u32, 0x07060504u);
	ck_assert_status(ntlm_read_u64le(&r, &u64), NTLM_OK);
	ck_assert(u64 == 0x0f0e0d0c0b0a0908ull);
	ck_assert_uint_eq(ntlm_reader_left(&r), 6);
	ck_assert_status(ntlm_reader_expect_end(&r), NTLM_ERR_TRAILING_DATA);

	/* A failed read neither moves nor writes. */
	u64 = 42;
	ck_assert_status(ntlm_read_u64le(&r, &u64), NTLM_ERR_TRUNCATED);
	ck_assert(u64 == 42);
	ck_assert_uint_eq(ntlm_reader_left(&r), 6);
	ck_assert_status(ntlm_read_u32le(&r, &u32), NTLM_OK);
	ck_assert_uint_eq(u32, 0x13121110u);
	u32 = 7;
	ck_assert_status(ntlm_read_u32le(&r, &u32), NTLM_ERR_TRUNCATED);
	ck_assert_uint_eq(u32, 7);
	ck_assert_status(ntlm_read_u16le(&r, &u16), NTLM_OK);
	ck_assert_uint_eq(u16, 0x1514);
	ck_assert_status(ntlm_read_u8(&r, &u8), NTLM_ERR_TRUNCATED);
	ck_assert_status(ntlm_read_u16le(&r, &u16), NTLM_ERR_TRUNCATED);
	ck_assert_status(ntlm_reader_expect_end(&r), NTLM_OK);
}
END_TEST

START_TEST(test_reader_bytes_views)
{
	static const uint8_t in[] = "abcdefgh";
	struct ntlm_reader r;
	uint8_t buf[4] = {0};
	const uint8_t *view = NULL;

	ntlm_reader_init(&r, in, 8);
	ck_assert_status(ntlm_read_bytes(&r, buf, 3), NTLM_OK);
	ck_assert_mem_eq(buf, "abc", 3);
	ck_assert_status(ntlm_read_view(&r, 2, &view), NTLM_OK);
	ck_assert_ptr_eq(view, in + 3);
	ck_assert_status(ntlm_reader_skip(&r, 1), NTLM_OK);
	ck_assert_status(ntlm_reader_skip(&r, 3), NTLM_ERR_TRUNCATED);
	ck_assert_status(ntlm_read_bytes(&r, buf, 3), NTLM_ERR_TRUNCATED);
	ck_assert_status(ntlm_read_view(&r, SIZE_MAX, &view), NTLM_ERR_TRUNCATED);
	ck_assert_status(ntlm_reader_skip(&r, SIZE_MAX), NTLM_ERR_TRUNCATED);
	ck_assert_uint_eq(ntlm_reader_left(&r), 2);
	ck_assert_status(ntlm_read_view(&r, 2, &view), NTLM_OK);
	ck_assert_mem_eq(view, "gh", 2);
	ck_assert_status(ntlm_read_view(&r, 0, &view), NTLM_OK);
	ck_assert_status(ntlm_reader_expect_end(&r), NTLM_OK);

	/* An empty reader over NULL is valid and empty. */
	ntlm_reader_init(&r, NULL, 0);
	ck_assert_uint_eq(ntlm_reader_left(&r), 0);
	ck_assert_status(ntlm_read_u8(&r, buf), NTLM_ERR_TRUNCATED);
	ck_assert_status(ntlm_reader_expect_end(&r), NTLM_OK);
}
END_TEST

START_TEST(test_reader_slice)
{
	static const uint8_t in[] = "0123456789";
	struct ntlm_reader msg, s;
	uint8_t b;

	ntlm_reader_init(&msg, in, 10);
	ck_assert_status(ntlm_reader_skip(&msg, 7), NTLM_OK);
	/* Independent of msg->pos. */
	ck_assert_status(ntlm_reader_slice(&msg, 2, 3, &s), NTLM_OK);
	ck_assert_uint_eq(ntlm_reader_left(&s), 3);
	ck_assert_status(ntlm_read_u8(&s, &b), NTLM_OK);
	ck_assert_uint_eq(b, '2');
	ck_assert_status(ntlm_reader_slice(&msg, 0, 10, &s), NTLM_OK);
	ck_assert_status(ntlm_reader_slice(&msg, 10, 0, &s), NTLM_OK);
	ck_assert_uint_eq(ntlm_reader_left(&s), 0);
	ck_assert_status(ntlm_reader_slice(&msg, 9, 1, &s), NTLM_OK);
	ck_assert_status(ntlm_reader_slice(&msg, 9, 2, &s), NTLM_ERR_FIELD_OUT_OF_BOUNDS);
	ck_assert_status(ntlm_reader_slice(&msg, 11, 0, &s), NTLM_ERR_FIELD_OUT_OF_BOUNDS);
	ck_assert_status(ntlm_reader_slice(&msg, 0, 11, &s), NTLM_ERR_FIELD_OUT_OF_BOUNDS);
	/* offset + len would wrap around: refused, not overflowed. */
	ck_assert_status(ntlm_reader_slice(&msg, 1, SIZE_MAX, &s), NTLM_ERR_FIELD_OUT_OF_BOUNDS);
	ck_assert_status(ntlm_reader_slice(&msg, SIZE_MAX, 2, &s), NTLM_ERR_FIELD_OUT_OF_BOUNDS);
	ck_assert_status(ntlm_reader_slice(&msg, 0xFFFFFFFFu, 0xFFFFu, &s), NTLM_ERR_FIELD_OUT_OF_BOUNDS);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

/* Finishes w and checks the bytes written against a hex vector. */
static void check_written(struct ntlm_writer *w, const char *hex)
{
	uint8_t *out = NULL;
	size_t len = 0;

	ck_assert_status(ntlm_writer_finish(w, &out, &len), NTLM_OK);
	ck_assert_hex_eq(out, len, hex);
	free(out);
}

/* Finishes w, checks that it holds want_len bytes and returns them (a
 * buffer even when empty). */
static uint8_t *finish_with_len(struct ntlm_writer *w, size_t want_len)
{
	uint8_t *out = NULL;
	size_t len = SIZE_MAX;

	ck_assert_status(ntlm_writer_finish(w, &out, &len), NTLM_OK);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(len, want_len);
	return out;
}

START_TEST(test_writer_basic)
{
	struct ntlm_writer w;

	ntlm_writer_init(&w, 100);
	ntlm_write_u8(&w, 0x01);
	ntlm_write_u16le(&w, 0x0302);
	ntlm_write_u32le(&w, 0x07060504u);
	ntlm_write_u64le(&w, 0x0f0e0d0c0b0a0908ull);
	ntlm_write_bytes(&w, "xy", 2);
	ntlm_write_zeros(&w, 4);
	ntlm_write_bytes(&w, NULL, 0);
	ntlm_writer_put_u16le_at(&w, 15, 0xbbaa);
	ntlm_writer_put_u32le_at(&w, 17, 0x44332211u);
	ck_assert_status(w.error, NTLM_OK);
	check_written(&w, "01 0203 04050607 08090a0b0c0d0e0f aabb 11223344");
	ck_assert_ptr_null(w.data);
}
END_TEST

START_TEST(test_writer_grows)
{
	struct ntlm_writer w;
	uint8_t *out;

	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	for (unsigned i = 0; i < 1000; i++)
		ntlm_write_u8(&w, (uint8_t)(i * 7));
	out = finish_with_len(&w, 1000);
	for (unsigned i = 0; i < 1000; i++)
		ck_assert_uint_eq(out[i], (uint8_t)(i * 7));
	free(out);

	/* Exactly max bytes fit. */
	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	ntlm_write_zeros(&w, NTLM_MAX_MESSAGE);
	free(finish_with_len(&w, NTLM_MAX_MESSAGE));
}
END_TEST

START_TEST(test_writer_cap_is_sticky)
{
	struct ntlm_writer w;
	uint8_t *out = (uint8_t *)"untouched";
	size_t len = 12345;

	ntlm_writer_init(&w, 10);
	ntlm_write_u64le(&w, 1);
	ntlm_write_u32le(&w, 2); /* 12 > 10 */
	ck_assert_status(w.error, NTLM_ERR_MESSAGE_TOO_LONG);
	ck_assert_uint_eq(w.len, 8);
	ntlm_write_u8(&w, 3); /* would fit, but the error is sticky */
	ck_assert_uint_eq(w.len, 8);
	ntlm_write_zeros(&w, SIZE_MAX);
	ck_assert_status(w.error, NTLM_ERR_MESSAGE_TOO_LONG);
	ck_assert_status(ntlm_writer_finish(&w, &out, &len), NTLM_ERR_MESSAGE_TOO_LONG);
	ck_assert_str_eq((const char *)out, "untouched");
	ck_assert_uint_eq(len, 12345);
	ck_assert_ptr_null(w.data);

	/* A huge single write is refused without overflow. */
	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	ntlm_write_u8(&w, 1);
	ntlm_write_zeros(&w, SIZE_MAX);
	ck_assert_status(w.error, NTLM_ERR_MESSAGE_TOO_LONG);
	ntlm_writer_clear(&w);
	ck_assert_ptr_null(w.data);
}
END_TEST

START_TEST(test_writer_put_at_bounds)
{
	struct ntlm_writer w;
	uint8_t *out = NULL;
	size_t len = 0;

	ntlm_writer_init(&w, 100);
	ntlm_write_zeros(&w, 4);
	ntlm_writer_put_u32le_at(&w, 0, 1);
	ck_assert_status(w.error, NTLM_OK);
	ntlm_writer_put_u16le_at(&w, 3, 1); /* [3, 5) is past the end */
	ck_assert_status(w.error, NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_writer_finish(&w, &out, &len), NTLM_ERR_INVALID_ARGUMENT);

	ntlm_writer_init(&w, 100);
	ntlm_writer_put_u32le_at(&w, SIZE_MAX, 1);
	ck_assert_status(w.error, NTLM_ERR_INVALID_ARGUMENT);
	ntlm_writer_clear(&w);

	ntlm_writer_init(&w, 100);
	ntlm_write_bytes(&w, NULL, 3);
	ck_assert_status(w.error, NTLM_ERR_INVALID_ARGUMENT);
	ntlm_writer_clear(&w);
}
END_TEST

START_TEST(test_writer_empty_finish)
{
	struct ntlm_writer w;

	ntlm_writer_init(&w, 100);
	free(finish_with_len(&w, 0));
}
END_TEST

/* ------------------------------------------------------------------ */
/* UTF-8 -> UTF-16LE                                                   */
/* ------------------------------------------------------------------ */

/* Converts and checks against a hex vector. */
static void check_to_utf16(const char *s, size_t max, const char *hex)
{
	uint8_t *out = NULL;
	size_t len = 0;

	ck_assert_status(ntlm_utf8_to_utf16le(s, max, &out, &len), NTLM_OK);
	ck_assert_hex_eq(out, len, hex);
	free(out);
}

static void check_to_utf16_fails(const char *s, size_t max, enum ntlm_status want)
{
	uint8_t *out = (uint8_t *)"x";
	size_t len = 77;

	ck_assert_status(ntlm_utf8_to_utf16le(s, max, &out, &len), want);
	ck_assert_str_eq((const char *)out, "x");
	ck_assert_uint_eq(len, 77);
}

START_TEST(test_utf8_to_utf16_valid)
{
	check_to_utf16("User", 256, "5500730065007200");
	check_to_utf16("", 256, "");
	check_to_utf16("\xc3\xa9", 256, "e900");             /* U+00E9 */
	check_to_utf16("\xc2\x80", 256, "8000");             /* U+0080, smallest 2-byte */
	check_to_utf16("\xdf\xbf", 256, "ff07");             /* U+07FF */
	check_to_utf16("\xe0\xa0\x80", 256, "0008");         /* U+0800, smallest 3-byte */
	check_to_utf16("\xe2\x82\xac", 256, "ac20");         /* U+20AC EURO SIGN */
	check_to_utf16("\xed\x9f\xbf", 256, "ffd7");         /* U+D7FF, just below surrogates */
	check_to_utf16("\xee\x80\x80", 256, "00e0");         /* U+E000, just above */
	check_to_utf16("\xef\xbf\xbf", 256, "ffff");         /* U+FFFF */
	check_to_utf16("\xf0\x90\x80\x80", 256, "00d800dc"); /* U+10000 */
	check_to_utf16("\xf0\x9f\x98\x80", 256, "3dd800de"); /* U+1F600 */
	check_to_utf16("\xf4\x8f\xbf\xbf", 256, "ffdbffdf"); /* U+10FFFF */
	check_to_utf16("a\xc3\xa9\xf0\x9f\x98\x80z", 256, "6100e9003dd800de7a00");
}
END_TEST

START_TEST(test_utf8_to_utf16_invalid)
{
	static const char *const bad[] = {
	    "\x80",                     /* lone continuation byte */
	    "a\xbf",                    /* lone continuation byte */
	    "\xc3",                     /* truncated 2-byte */
	    "\xe2\x82",                 /* truncated 3-byte */
	    "\xf0\x9f\x98",             /* truncated 4-byte */
	    "\xc3\x41",                 /* bad continuation */
	    "\xc0\x80",                 /* overlong NUL (embedded NUL in modified UTF-8) */
	    "\xc0\xaf",                 /* overlong '/' */
	    "\xc1\xbf",                 /* overlong U+007F */
	    "\xe0\x80\x80",             /* overlong NUL, 3 bytes */
	    "\xe0\x9f\xbf",             /* overlong U+07FF */
	    "\xf0\x80\x80\x80",         /* overlong NUL, 4 bytes */
	    "\xf0\x8f\xbf\xbf",         /* overlong U+FFFF */
	    "\xed\xa0\x80",             /* U+D800 high surrogate */
	    "\xed\xbf\xbf",             /* U+DFFF low surrogate */
	    "\xed\xa0\xbd\xed\xb8\x80", /* CESU-8 surrogate pair */
	    "\xf4\x90\x80\x80",         /* U+110000 */
	    "\xf5\x80\x80\x80",         /* lead byte beyond U+10FFFF */
	    "\xf8\x88\x80\x80\x80",     /* 5-byte form */
	    "\xfe",
	    "\xff",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_to_utf16_fails(bad[i], 256, NTLM_ERR_BAD_STRING);
	check_to_utf16_fails(NULL, 256, NTLM_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_utf8_to_utf16_max_units)
{
	check_to_utf16("abc", 3, "610062006300");
	check_to_utf16_fails("abcd", 3, NTLM_ERR_STRING_TOO_LONG);
	check_to_utf16("", 0, "");
	check_to_utf16_fails("a", 0, NTLM_ERR_STRING_TOO_LONG);
	/* A supplementary character needs two units. */
	check_to_utf16("\xf0\x9f\x98\x80", 2, "3dd800de");
	check_to_utf16_fails("\xf0\x9f\x98\x80", 1, NTLM_ERR_STRING_TOO_LONG);
	check_to_utf16_fails("a\xf0\x9f\x98\x80", 2, NTLM_ERR_STRING_TOO_LONG);
	/* Units, not bytes: three 2-byte characters are three units. */
	check_to_utf16("\xc3\xa9\xc3\xa9\xc3\xa9", 3, "e900e900e900");
	check_to_utf16("x", SIZE_MAX, "7800");
}
END_TEST

/* ------------------------------------------------------------------ */
/* UTF-16LE -> UTF-8, OEM                                              */
/* ------------------------------------------------------------------ */

static void check_from_utf16(const char *hex, const char *want)
{
	size_t len;
	uint8_t *in = test_hex(hex, &len);
	char *out = NULL;

	ck_assert_status(ntlm_utf16le_to_utf8(in, len, &out), NTLM_OK);
	ck_assert_str_eq(out, want);
	free(out);
	free(in);
}

static void check_from_utf16_fails(const char *hex)
{
	size_t len;
	uint8_t *in = test_hex(hex, &len);
	char *out = (char *)"x";

	ck_assert_status(ntlm_utf16le_to_utf8(in, len, &out), NTLM_ERR_BAD_STRING);
	ck_assert_str_eq(out, "x");
	free(in);
}

START_TEST(test_utf16_to_utf8)
{
	check_from_utf16("530065007200760065007200", "Server");
	check_from_utf16("", "");
	check_from_utf16("e900", "\xc3\xa9");
	check_from_utf16("ac20", "\xe2\x82\xac");
	check_from_utf16("ffd7", "\xed\x9f\xbf");
	check_from_utf16("00e0", "\xee\x80\x80");
	check_from_utf16("ffff", "\xef\xbf\xbf");
	check_from_utf16("00d800dc", "\xf0\x90\x80\x80");
	check_from_utf16("3dd800de", "\xf0\x9f\x98\x80");
	check_from_utf16("ffdbffdf", "\xf4\x8f\xbf\xbf");

	check_from_utf16_fails("55");       /* odd length */
	check_from_utf16_fails("550073");   /* odd length */
	check_from_utf16_fails("0000");     /* U+0000 */
	check_from_utf16_fails("55000000"); /* NUL inside */
	check_from_utf16_fails("3dd8");     /* high surrogate at the end */
	check_from_utf16_fails("3dd84100"); /* high surrogate, then 'A' */
	check_from_utf16_fails("3dd83dd8"); /* two high surrogates */
	check_from_utf16_fails("00de");     /* lone low surrogate */
	check_from_utf16_fails("00de3dd8"); /* pair in the wrong order */
	check_from_utf16_fails("41003dd8"); /* trailing high surrogate */
}
END_TEST

/* The worst-case expansion (3 bytes per unit) fits the output. */
START_TEST(test_utf16_to_utf8_expansion)
{
	uint8_t in[2 * 300];
	char *out = NULL;

	for (size_t i = 0; i < 300; i++) {
		in[2 * i] = 0xac;
		in[2 * i + 1] = 0x20;
	}
	ck_assert_status(ntlm_utf16le_to_utf8(in, sizeof(in), &out), NTLM_OK);
	ck_assert_uint_eq(strlen(out), 900);
	ck_assert_mem_eq(out + 897, "\xe2\x82\xac", 3);
	free(out);
}
END_TEST

START_TEST(test_oem_to_utf8)
{
	char *out = NULL;

	ck_assert_status(ntlm_oem_to_utf8((const uint8_t *)"DOMAIN", 6, &out), NTLM_OK);
	ck_assert_str_eq(out, "DOMAIN");
	free(out);
	ck_assert_status(ntlm_oem_to_utf8(NULL, 0, &out), NTLM_OK);
	ck_assert_str_eq(out, "");
	free(out);
	ck_assert_status(ntlm_oem_to_utf8((const uint8_t *)"\x01\x7f", 2, &out), NTLM_OK);
	ck_assert_str_eq(out, "\x01\x7f");
	free(out);

	/* not UTF-8: CP850, the default code page (0x80 is C cedilla, 0xE9 U acute) */
	ck_assert_status(ntlm_oem_to_utf8((const uint8_t *)"A\x80", 2, &out), NTLM_OK);
	ck_assert_str_eq(out, "A\xc3\x87");
	free(out);
	ck_assert_status(ntlm_oem_to_utf8((const uint8_t *)"\xe9", 1, &out), NTLM_OK);
	ck_assert_str_eq(out, "\xc3\x9a");
	free(out);
	out = NULL;
	ck_assert_status(ntlm_oem_to_utf8((const uint8_t *)"A\0B", 3, &out), NTLM_ERR_BAD_STRING);
	ck_assert_ptr_null(out);
}
END_TEST

/* OEM text: 7-bit as it is, valid UTF-8 as it is (curl, cntlm, go-ntlmssp
 * and python3-ntlm-auth send UTF-8), else the configured code page. */
START_TEST(test_oem_decode_rules)
{
	static const struct {
		const char *in;
		enum ntlm_oem_charset cs;
		const char *out;
		enum ntlm_text_rule rule;
	} cases[] = {
	    {"erin", NTLM_OEM_CP850, "erin", NTLM_TEXT_ASCII},
	    {"J\xc3\xbcrgen", NTLM_OEM_CP850, "J\xc3\xbcrgen", NTLM_TEXT_UTF8},     /* UTF-8 u-umlaut */
	    {"J\x81rgen", NTLM_OEM_CP850, "J\xc3\xbcrgen", NTLM_TEXT_CODEPAGE},     /* CP850 0x81 */
	    {"J\xfcrgen", NTLM_OEM_CP1252, "J\xc3\xbcrgen", NTLM_TEXT_CODEPAGE},    /* CP1252 0xFC */
	    {"J\xfcrgen", NTLM_OEM_ISO8859_1, "J\xc3\xbcrgen", NTLM_TEXT_CODEPAGE}, /* Latin-1 0xFC */
	    {"\x80", NTLM_OEM_CP1252, "\xe2\x82\xac", NTLM_TEXT_CODEPAGE},          /* euro sign */
	    {"\xa4", NTLM_OEM_ISO8859_15, "\xe2\x82\xac", NTLM_TEXT_CODEPAGE},      /* euro sign */
	    {"\xa4", NTLM_OEM_ISO8859_1, "\xc2\xa4", NTLM_TEXT_CODEPAGE},           /* currency sign */
	    {"\xb0", NTLM_OEM_CP850, "\xe2\x96\x91", NTLM_TEXT_CODEPAGE},           /* light shade */
	    {"\x81", NTLM_OEM_CP1252, "\xc2\x81", NTLM_TEXT_CODEPAGE},              /* undefined: C1 */
	    {"\xc3\x28", NTLM_OEM_CP850, "\xe2\x94\x9c(", NTLM_TEXT_CODEPAGE},      /* broken UTF-8 */
	    {"\xed\xa0\x80", NTLM_OEM_ISO8859_1, "\xc3\xad\xc2\xa0\xc2\x80",
	     NTLM_TEXT_CODEPAGE}, /* surrogate */
	};
	enum ntlm_oem_charset cs;
	enum ntlm_text_rule rule;
	char *out;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ck_assert_status(ntlm_oem_decode((const uint8_t *)cases[i].in, strlen(cases[i].in),
		                                 cases[i].cs, &out, &rule),
		                 NTLM_OK);
		ck_assert_msg(strcmp(out, cases[i].out) == 0, "case %zu: %s", i, out);
		ck_assert_int_eq(rule, cases[i].rule);
		free(out);
	}
	ck_assert_status(ntlm_oem_decode(NULL, 0, NTLM_OEM_CP850, &out, &rule), NTLM_OK);
	ck_assert_int_eq(rule, NTLM_TEXT_NONE);
	free(out);
	ck_assert_status(ntlm_oem_decode((const uint8_t *)"a", 1, (enum ntlm_oem_charset)42, &out, &rule),
	                 NTLM_ERR_INVALID_ARGUMENT);
	/* names of the charsets, as ntlmd.conf's oem_charset takes them */
	ck_assert_status(ntlm_oem_charset_from_name("cp850", &cs), NTLM_OK);
	ck_assert_int_eq(cs, NTLM_OEM_CP850);
	ck_assert_status(ntlm_oem_charset_from_name("Windows-1252", &cs), NTLM_OK);
	ck_assert_int_eq(cs, NTLM_OEM_CP1252);
	ck_assert_status(ntlm_oem_charset_from_name("iso-8859-1", &cs), NTLM_OK);
	ck_assert_int_eq(cs, NTLM_OEM_ISO8859_1);
	ck_assert_status(ntlm_oem_charset_from_name("ISO-8859-15", &cs), NTLM_OK);
	ck_assert_int_eq(cs, NTLM_OEM_ISO8859_15);
	ck_assert_status(ntlm_oem_charset_from_name("UTF-8", &cs), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlm_oem_charset_from_name("CP850-and-then-some", &cs), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_str_eq(ntlm_oem_charset_name(NTLM_OEM_ISO8859_15), "ISO-8859-15");
	ck_assert_str_eq(ntlm_text_rule_name(NTLM_TEXT_CODEPAGE), "code page");
	/* every byte of every code page decodes to valid UTF-8 */
	for (int c = NTLM_OEM_CP850; c <= NTLM_OEM_ISO8859_15; c++) {
		for (unsigned b = 1; b < 256; b++) {
			uint8_t in[2] = {(uint8_t)b, 0xFF}; /* 0xFF after it: never UTF-8 */
			uint8_t *u16;
			size_t u16_len;

			ck_assert_status(ntlm_oem_decode(in, 2, (enum ntlm_oem_charset)c, &out, &rule),
			                 NTLM_OK);
			ck_assert_status(ntlm_utf8_to_utf16le(out, 4, &u16, &u16_len), NTLM_OK);
			free(u16);
			free(out);
		}
	}
}
END_TEST

/* cp (a scalar value above 0) as UTF-8 between 'a' and 'b'; the length. */
static size_t utf8_between(uint32_t cp, char s[8])
{
	size_t n = 0;

	s[n++] = 'a';
	if (cp < 0x80u) {
		s[n++] = (char)cp;
	} else if (cp < 0x800u) {
		s[n++] = (char)(0xC0u | cp >> 6);
		s[n++] = (char)(0x80u | (cp & 0x3Fu));
	} else if (cp < 0x10000u) {
		s[n++] = (char)(0xE0u | cp >> 12);
		s[n++] = (char)(0x80u | (cp >> 6 & 0x3Fu));
		s[n++] = (char)(0x80u | (cp & 0x3Fu));
	} else {
		s[n++] = (char)(0xF0u | cp >> 18);
		s[n++] = (char)(0x80u | (cp >> 12 & 0x3Fu));
		s[n++] = (char)(0x80u | (cp >> 6 & 0x3Fu));
		s[n++] = (char)(0x80u | (cp & 0x3Fu));
	}
	s[n++] = 'b';
	s[n] = '\0';
	return n;
}

/* Every code point U+0001..U+10FFFF but the surrogates, in UTF-8 between
 * two letters and alone: ntlm_utf8_name_check() refuses exactly C0, DEL and
 * C1. The UTF-8 forms of other characters hold bytes 0x80..0x9F too (U+0418
 * is D0 98, U+20AC E2 82 AC): they are no C1 character. */
START_TEST(test_utf8_name_check)
{
	for (uint32_t cp = 1; cp <= 0x10FFFFu; cp++) {
		char s[8];
		size_t len;
		enum ntlm_status want =
		    cp < 0x20u || (cp >= 0x7Fu && cp <= 0x9Fu) ? NTLM_ERR_CONTROL_CHARACTER : NTLM_OK;

		if (cp >= 0xD800u && cp <= 0xDFFFu)
			continue;
		len = utf8_between(cp, s);
		/* one assertion per failure only: the loop is long */
		if (ntlm_utf8_name_check(s, len) != want || ntlm_utf8_name_check(s + 1, len - 2) != want)
			ck_abort_msg("U+%04X", (unsigned)cp);
	}
	ck_assert_status(ntlm_utf8_name_check("a\0b", 3), NTLM_ERR_CONTROL_CHARACTER);
	ck_assert_status(ntlm_utf8_name_check("john smith", 10), NTLM_OK);
	ck_assert_status(ntlm_utf8_name_check("\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd", 8), NTLM_OK);
	ck_assert_status(ntlm_utf8_name_check("", 0), NTLM_OK);
	ck_assert_status(ntlm_utf8_name_check(NULL, 0), NTLM_OK);
	ck_assert_status(ntlm_utf8_name_check(NULL, 1), NTLM_ERR_INVALID_ARGUMENT);
	/* only len bytes are looked at: a NEL cut after its first byte is not one */
	ck_assert_status(ntlm_utf8_name_check("a\xc2\x85", 2), NTLM_OK);
	ck_assert_status(ntlm_utf8_name_check("a\nb", 1), NTLM_OK);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Base64 (RFC 4648)                                                   */
/* ------------------------------------------------------------------ */

/* RFC 4648 section 10 */
static const char *const rfc4648[][2] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

START_TEST(test_base64_rfc4648)
{
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const char *plain = rfc4648[i][0], *enc = rfc4648[i][1];
		char *e = NULL;
		uint8_t *d = NULL;
		size_t dlen = 99;

		ck_assert_status(ntlm_base64_encode((const uint8_t *)plain, strlen(plain), &e), NTLM_OK);
		ck_assert_str_eq(e, enc);
		free(e);
		ck_assert_status(ntlm_base64_decode(enc, strlen(enc), &d, &dlen), NTLM_OK);
		ck_assert_ptr_nonnull(d);
		ck_assert_uint_eq(dlen, strlen(plain));
		if (dlen > 0)
			ck_assert_mem_eq(d, plain, dlen);
		free(d);
	}
}
END_TEST

START_TEST(test_base64_binary_roundtrip)
{
	uint8_t in[256];
	char *e = NULL;
	uint8_t *d = NULL;
	size_t dlen;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(255 - i);
	for (size_t n = 0; n <= sizeof(in); n++) {
		ck_assert_status(ntlm_base64_encode(in, n, &e), NTLM_OK);
		ck_assert_uint_eq(strlen(e), (n + 2) / 3 * 4);
		ck_assert_status(ntlm_base64_decode(e, strlen(e), &d, &dlen), NTLM_OK);
		ck_assert_uint_eq(dlen, n);
		if (n > 0)
			ck_assert_mem_eq(d, in, n);
		free(e);
		free(d);
	}
	/* The whole alphabet, both special characters included. */
	ck_assert_status(ntlm_base64_decode("+/+/", 4, &d, &dlen), NTLM_OK);
	ck_assert_hex_eq(d, dlen, "fbffbf");
	free(d);
}
END_TEST

START_TEST(test_base64_strict)
{
	static const char *const bad[] = {
	    "Zg",       /* padding missing */
	    "Zg=",      /* padding short */
	    "Zm9vY",    /* not a multiple of 4 */
	    "Zm9v\n",   /* newline */
	    "Zm 9v",    /* space inside */
	    " Zm9v",    /* leading space */
	    "Zm9v ",    /* trailing space */
	    "Zm9\tv",   /* tab */
	    "Zm9v\r\n", /* CRLF */
	    "Z===",     /* too much padding */
	    "====",     /* only padding */
	    "=Zm9",     /* padding first */
	    "Zm=v",     /* data after padding */
	    "Zg==Zm9v", /* padding in the middle */
	    "Zh==",     /* non-zero bits under the padding */
	    "Zm9=",     /* non-zero bits under the padding */
	    "Zm9v-_==", /* base64url alphabet */
	    "Zm9v!AAA", "Zm9v\200AAA",
	};
	uint8_t *d = (uint8_t *)"x";
	size_t dlen = 5;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(ntlm_base64_decode(bad[i], strlen(bad[i]), &d, &dlen) == NTLM_ERR_BAD_ENCODING,
		              "accepted \"%s\"", bad[i]);
		ck_assert_str_eq((const char *)d, "x");
		ck_assert_uint_eq(dlen, 5);
	}
	/* slen is honoured: an embedded NUL is just a bad character. */
	ck_assert_status(ntlm_base64_decode("Zm9\0", 4, &d, &dlen), NTLM_ERR_BAD_ENCODING);
	/* ... and bytes after slen are not read. */
	ck_assert_status(ntlm_base64_decode("Zm9v!!!", 4, &d, &dlen), NTLM_OK);
	ck_assert_hex_eq(d, dlen, "666f6f");
	free(d);
}
END_TEST

/* Every byte value as each of the four characters of a quantum: the
 * alphabet decodes to its index, everything else is refused. */
START_TEST(test_base64_every_character)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (unsigned c = 0; c < 256; c++) {
		const char *hit = c != 0 ? strchr(alphabet, (int)c) : NULL;

		for (int pos = 0; pos < 4; pos++) {
			char q[5] = "AAAA";
			uint8_t *d = NULL;
			size_t dlen = 0;
			enum ntlm_status st;

			q[pos] = (char)c;
			if (c == '=' && pos == 3)
				continue; /* "AAA=" is padding: test_base64_strict covers it */
			st = ntlm_base64_decode(q, 4, &d, &dlen);
			if (hit == NULL) {
				ck_assert_msg(st == NTLM_ERR_BAD_ENCODING, "byte 0x%02x at %d accepted", c,
				              pos);
				continue;
			}
			ck_assert_status(st, NTLM_OK);
			ck_assert_uint_eq(dlen, 3);
			/* the 24 bits hold the value at bit 18 - 6 * pos */
			ck_assert_uint_eq((uint32_t)d[0] << 16 | (uint32_t)d[1] << 8 | d[2],
			                  (uint32_t)(hit - alphabet) << (18 - 6 * pos));
			free(d);
		}
	}
}
END_TEST

/* The same in a 32-character text, so that every position of the
 * eight-character steps is tried: each byte value at each position decodes
 * to its value there, or makes the whole text refused. */
START_TEST(test_base64_every_character_long)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (unsigned c = 0; c < 256; c++) {
		const char *hit = c != 0 ? strchr(alphabet, (int)c) : NULL;

		for (size_t pos = 0; pos < 28; pos++) {
			char text[33];
			uint8_t *d = NULL;
			size_t dlen = 0;
			enum ntlm_status st;
			uint32_t got;

			memset(text, 'A', 32);
			text[32] = '\0';
			text[pos] = (char)c;
			st = ntlm_base64_decode(text, 32, &d, &dlen);
			if (hit == NULL) {
				ck_assert_msg(st == NTLM_ERR_BAD_ENCODING, "byte 0x%02x at %zu accepted", c,
				              pos);
				continue;
			}
			ck_assert_status(st, NTLM_OK);
			ck_assert_uint_eq(dlen, 24);
			/* the quantum holding pos, and the value in its 24 bits */
			got = (uint32_t)d[pos / 4 * 3] << 16 | (uint32_t)d[pos / 4 * 3 + 1] << 8 |
			      d[pos / 4 * 3 + 2];
			ck_assert_uint_eq(got, (uint32_t)(hit - alphabet) << (18 - 6 * (pos % 4)));
			for (size_t k = 0; k < 24; k++)
				if (k / 3 != pos / 4)
					ck_assert_uint_eq(d[k], 0);
			free(d);
		}
	}
}
END_TEST

/* The span stops at the first byte that is neither in the alphabet nor
 * '=', wherever it falls in the eight-byte steps. */
START_TEST(test_base64_span)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
	char buf[24];

	for (unsigned c = 0; c < 256; c++) {
		bool in = c != 0 && strchr(alphabet, (int)c) != NULL;

		for (size_t pos = 0; pos < sizeof(buf); pos++) {
			memset(buf, 'Q', sizeof(buf));
			buf[pos] = (char)c;
			ck_assert_uint_eq(ntlm_base64_span(buf, sizeof(buf)), in ? sizeof(buf) : pos);
			/* n bounds the scan */
			ck_assert_uint_eq(ntlm_base64_span(buf, pos), pos);
		}
	}
	ck_assert_uint_eq(ntlm_base64_span("TlRM TVNT", 9), 4);
	ck_assert_uint_eq(ntlm_base64_span(NULL, 5), 0);
}
END_TEST

START_TEST(test_base64_padding_optional)
{
	static const struct {
		const char *in, *hex;
	} ok[] = {
	    {"", ""},
	    {"Zg", "66"},
	    {"Zm8", "666f"},
	    {"Zm9v", "666f6f"},
	    {"Zg==", "66"},
	    {"Zm8=", "666f"},
	    {"Zm9vYg", "666f6f62"},
	    {"Zm9vYmE", "666f6f6261"},
	    {"Zm9vYmFy", "666f6f626172"},
	};
	static const char *const bad[] = {"Z", "Zm9vY", "Zh", "Zm9", "Zg=", "Z=", "Zm9v!A", "Zg==Zg", "=Zg"};
	uint8_t *d;
	size_t dlen;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		d = NULL;
		ck_assert_status(ntlm_base64_decode_ex(ok[i].in, strlen(ok[i].in),
		                                       NTLM_BASE64_PADDING_OPTIONAL, &d, &dlen),
		                 NTLM_OK);
		ck_assert_hex_eq(d, dlen, ok[i].hex);
		free(d);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ntlm_base64_decode_ex(bad[i], strlen(bad[i]), NTLM_BASE64_PADDING_OPTIONAL, &d,
		                                    &dlen) == NTLM_ERR_BAD_ENCODING,
		              "accepted \"%s\"", bad[i]);
	/* without the flag, the padding is required; unknown flags are refused */
	ck_assert_status(ntlm_base64_decode_ex("Zg", 2, 0, &d, &dlen), NTLM_ERR_BAD_ENCODING);
	ck_assert_status(ntlm_base64_decode_ex("Zg==", 4, 0x2u, &d, &dlen), NTLM_ERR_INVALID_ARGUMENT);
}
END_TEST

/* An NTLMSSP NEGOTIATE as curl sends it in the HTTP header. */
START_TEST(test_base64_ntlmssp)
{
	uint8_t *d = NULL;
	size_t dlen;
	char *e = NULL;
	const char *b64 = "TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=";

	ck_assert_status(ntlm_base64_decode(b64, strlen(b64), &d, &dlen), NTLM_OK);
	ck_assert_hex_eq(d, dlen, "4e544c4d53535000010000000682080000000000000000000000000000000000");
	ck_assert_status(ntlm_base64_encode(d, dlen, &e), NTLM_OK);
	ck_assert_str_eq(e, b64);
	free(e);
	free(d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* AV pairs (MS-NLMP 2.2.2.1)                                          */
/* ------------------------------------------------------------------ */

/* The TargetInfo of the MS-NLMP 4.2.4.3 CHALLENGE. */
#define V2_TARGET_INFO                     \
	"02000c0044006f006d00610069006e00" \
	"01000c005300650072007600650072000000 0000"

static enum ntlm_status decode_hex_list(const char *hex, struct ntlm_av_list *l, uint8_t **ret_buf)
{
	size_t len;
	uint8_t *buf = test_hex(hex, &len);
	enum ntlm_status st = ntlm_av_list_decode(buf, len, l);

	*ret_buf = buf;
	return st;
}

static void check_list_fails(const char *hex, enum ntlm_status want)
{
	struct ntlm_av_list l = {.count = 99};
	uint8_t *buf;

	ck_assert_status(decode_hex_list(hex, &l, &buf), want);
	ck_assert_uint_eq(l.count, 99); /* not written on failure */
	free(buf);
}

START_TEST(test_av_list_spec)
{
	struct ntlm_av_list l;
	const struct ntlm_av_pair *p;
	uint8_t *buf;

	ck_assert_status(decode_hex_list(V2_TARGET_INFO, &l, &buf), NTLM_OK);
	ck_assert_uint_eq(l.count, 2);
	ck_assert_uint_eq(l.pairs[0].id, NTLM_AV_NB_DOMAIN_NAME);
	ck_assert_hex_eq(l.pairs[0].value.data, l.pairs[0].value.len, "44006f006d00610069006e00");
	ck_assert_ptr_eq(l.pairs[0].value.data, buf + 4);
	ck_assert_uint_eq(l.pairs[1].id, NTLM_AV_NB_COMPUTER_NAME);
	ck_assert_hex_eq(l.pairs[1].value.data, l.pairs[1].value.len, "5300650072007600650072 00");
	p = ntlm_av_list_find(&l, NTLM_AV_NB_COMPUTER_NAME);
	ck_assert_ptr_eq(p, &l.pairs[1]);
	ck_assert_ptr_null(ntlm_av_list_find(&l, NTLM_AV_TIMESTAMP));
	ck_assert_ptr_null(ntlm_av_list_find(NULL, NTLM_AV_TIMESTAMP));
	free(buf);
}
END_TEST

START_TEST(test_av_list_typed)
{
	struct ntlm_av_list l;
	uint8_t *buf;
	uint32_t u32 = 0;
	uint64_t u64 = 0;

	ck_assert_status(decode_hex_list("06000400 02000000"
	                                 "07000800 0090d336b734c301"
	                                 "0a001000 00000000000000000000000000000000"
	                                 "09000400 41004200"
	                                 "00000000",
	                                 &l, &buf),
	                 NTLM_OK);
	ck_assert_uint_eq(l.count, 4);
	ck_assert(ntlm_av_list_get_u32(&l, NTLM_AV_FLAGS, &u32));
	ck_assert_uint_eq(u32, NTLM_AVFLAG_MIC_PRESENT);
	ck_assert(ntlm_av_list_get_u64(&l, NTLM_AV_TIMESTAMP, &u64));
	ck_assert(u64 == 0x01c334b736d39000ull);
	/* The size must match the accessor. */
	ck_assert(ntlm_av_list_get_u32(&l, NTLM_AV_TARGET_NAME, &u32));
	ck_assert_uint_eq(u32, 0x00420041u);
	ck_assert(!ntlm_av_list_get_u64(&l, NTLM_AV_TARGET_NAME, &u64));
	ck_assert(!ntlm_av_list_get_u32(&l, NTLM_AV_TIMESTAMP, &u32));
	ck_assert(!ntlm_av_list_get_u32(&l, NTLM_AV_NB_COMPUTER_NAME, &u32));
	ck_assert(!ntlm_av_list_get_u64(&l, NTLM_AV_NB_COMPUTER_NAME, &u64));
	free(buf);
}
END_TEST

START_TEST(test_av_list_padding_and_unknown)
{
	struct ntlm_av_list l;
	uint8_t *buf;

	/* Zero padding after EOL (clients pad the NTLMv2 blob). */
	ck_assert_status(decode_hex_list(V2_TARGET_INFO "00000000", &l, &buf), NTLM_OK);
	ck_assert_uint_eq(l.count, 2);
	free(buf);
	/* An EOL alone is an empty list. */
	ck_assert_status(decode_hex_list("00000000", &l, &buf), NTLM_OK);
	ck_assert_uint_eq(l.count, 0);
	free(buf);
	/* Unknown ids are kept, with any length. */
	ck_assert_status(decode_hex_list("ff7f0300 616263 00000000", &l, &buf), NTLM_OK);
	ck_assert_uint_eq(l.count, 1);
	ck_assert_uint_eq(l.pairs[0].id, 0x7fff);
	ck_assert_uint_eq(l.pairs[0].value.len, 3);
	free(buf);
}
END_TEST

START_TEST(test_av_list_errors)
{
	check_list_fails("", NTLM_ERR_BAD_AV_PAIR);                         /* no EOL */
	check_list_fails("01000200 4100", NTLM_ERR_BAD_AV_PAIR);            /* no EOL */
	check_list_fails("000000", NTLM_ERR_BAD_AV_PAIR);                   /* EOL truncated */
	check_list_fails("0100", NTLM_ERR_BAD_AV_PAIR);                     /* header truncated */
	check_list_fails("01000400 4100", NTLM_ERR_BAD_AV_PAIR);            /* value past the end */
	check_list_fails("0100ffff 00000000", NTLM_ERR_BAD_AV_PAIR);        /* value past the end */
	check_list_fails("00000100 00", NTLM_ERR_BAD_AV_PAIR);              /* EOL with AvLen 1 */
	check_list_fails("06000300 000000 00000000", NTLM_ERR_BAD_AV_PAIR); /* flags: 3 bytes */
	check_list_fails("06000500 0000000000 00000000", NTLM_ERR_BAD_AV_PAIR);
	check_list_fails("07000400 00000000 00000000", NTLM_ERR_BAD_AV_PAIR); /* timestamp: 4 bytes */
	check_list_fails("0a000f00 000000000000000000000000000000 00000000", NTLM_ERR_BAD_AV_PAIR);
	check_list_fails("0a001100 0000000000000000000000000000000000 00000000", NTLM_ERR_BAD_AV_PAIR);
	check_list_fails("01000200 4100 01000200 4200 00000000", NTLM_ERR_BAD_AV_PAIR); /* duplicate */
	check_list_fails("06000400 00000000 06000400 02000000 00000000", NTLM_ERR_BAD_AV_PAIR);
	check_list_fails(V2_TARGET_INFO "01", NTLM_ERR_TRAILING_DATA);
	check_list_fails(V2_TARGET_INFO "000000000100", NTLM_ERR_TRAILING_DATA);
	check_list_fails(V2_TARGET_INFO "01000200 4100 00000000", NTLM_ERR_TRAILING_DATA);

	struct ntlm_av_list l;
	ck_assert_status(ntlm_av_list_decode(NULL, 4, &l), NTLM_ERR_INVALID_ARGUMENT);
}
END_TEST

/* Builds a list of n pairs with distinct ids 0x100.. and an EOL. */
static void build_many(size_t n, uint8_t **ret, size_t *ret_len)
{
	struct ntlm_writer w;

	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	for (size_t i = 0; i < n; i++)
		ntlm_av_write(&w, (uint16_t)(0x100 + i), "v", 1);
	ntlm_av_write_eol(&w);
	ck_assert_status(ntlm_writer_finish(&w, ret, ret_len), NTLM_OK);
}

START_TEST(test_av_list_max_pairs)
{
	struct ntlm_av_list l;
	uint8_t *buf;
	size_t len;

	build_many(NTLM_MAX_AV_PAIRS, &buf, &len);
	ck_assert_status(ntlm_av_list_decode(buf, len, &l), NTLM_OK);
	ck_assert_uint_eq(l.count, NTLM_MAX_AV_PAIRS);
	ck_assert_uint_eq(l.pairs[NTLM_MAX_AV_PAIRS - 1].id, 0x100 + NTLM_MAX_AV_PAIRS - 1);
	free(buf);
	build_many(NTLM_MAX_AV_PAIRS + 1, &buf, &len);
	ck_assert_status(ntlm_av_list_decode(buf, len, &l), NTLM_ERR_BAD_AV_PAIR);
	free(buf);
}
END_TEST

START_TEST(test_av_write)
{
	struct ntlm_writer w;
	static const uint8_t big[70000];

	ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
	ntlm_av_write(&w, NTLM_AV_NB_DOMAIN_NAME, "D\0o\0m\0a\0i\0n\0", 12);
	ntlm_av_write(&w, NTLM_AV_NB_COMPUTER_NAME, "S\0e\0r\0v\0e\0r\0", 12);
	ntlm_av_write_eol(&w);
	check_written(&w, V2_TARGET_INFO);

	/* AvLen is 16 bits. */
	ntlm_writer_init(&w, SIZE_MAX);
	ntlm_av_write(&w, NTLM_AV_SINGLE_HOST, big, sizeof(big));
	ck_assert_status(w.error, NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_uint_eq(w.len, 0);
	ntlm_writer_clear(&w);
}
END_TEST

START_TEST(test_hex_decode)
{
	static const struct {
		const char *in;
		enum ntlm_status st;
		const char *out; /* expected bytes as written, for OK cases */
		size_t out_len;
	} cases[] = {
	    {"", NTLM_OK, "", 0},
	    {"4e544c4d", NTLM_OK, "NTLM", 4},
	    {"4E 54\t4c\n4D", NTLM_OK, "NTLM", 4},
	    {"00ff", NTLM_OK, "\x00\xff", 2},
	    {"4e5", NTLM_ERR_BAD_ENCODING, NULL, 0},
	    {"4g", NTLM_ERR_BAD_ENCODING, NULL, 0},
	    {"0x4e", NTLM_ERR_BAD_ENCODING, NULL, 0},
	    {"4e\0054", NTLM_ERR_BAD_ENCODING, NULL, 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t *p = NULL;
		size_t len = 0, in_len = i == ARRAY_SIZE(cases) - 1 ? 5 : strlen(cases[i].in);
		enum ntlm_status st = ntlm_hex_decode(cases[i].in, in_len, &p, &len);

		ck_assert_msg(st == cases[i].st, "case %zu: %s", i, ntlm_status_name(st));
		if (st == NTLM_OK) {
			ck_assert_uint_eq(len, cases[i].out_len);
			ck_assert_mem_eq(p, cases[i].out, len);
			free(p);
		}
	}
	ck_assert_status(ntlm_hex_decode(NULL, 2, NULL, NULL), NTLM_ERR_INVALID_ARGUMENT);
}
END_TEST

/* The constant-time digit agrees with the obvious one on every byte. */
START_TEST(test_hex_digit_every_byte)
{
	for (int c = 0; c < 256; c++) {
		int want = c >= '0' && c <= '9'   ? c - '0'
		           : c >= 'a' && c <= 'f' ? c - 'a' + 10
		           : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                                  : -1;

		ck_assert_msg(ntlm_hex_digit((char)c) == want, "byte 0x%02x: %d, not %d", (unsigned)c,
		              ntlm_hex_digit((char)c), want);
	}
}
END_TEST

START_TEST(test_hex_to_bytes)
{
	static const char hash[] = "8846F7EAEE8FB117AD06BDD830B7586C";
	static const uint8_t want[16] = {0x88, 0x46, 0xf7, 0xea, 0xee, 0x8f, 0xb1, 0x17,
	                                 0xad, 0x06, 0xbd, 0xd8, 0x30, 0xb7, 0x58, 0x6c};
	uint8_t out[16];
	char bad[sizeof(hash)];

	ck_assert_status(ntlm_hex_to_bytes(hash, 32, out, sizeof(out)), NTLM_OK);
	ck_assert_mem_eq(out, want, sizeof(want));
	ck_assert_status(ntlm_hex_to_bytes("8846f7eaee8fb117ad06bdd830b7586c", 32, out, sizeof(out)),
	                 NTLM_OK);
	ck_assert_mem_eq(out, want, sizeof(want));
	/* a wrong length, a space, a non-digit anywhere: refused, out wiped */
	ck_assert_status(ntlm_hex_to_bytes(hash, 31, out, sizeof(out)), NTLM_ERR_BAD_ENCODING);
	ck_assert_status(ntlm_hex_to_bytes(hash, 32, out, 15), NTLM_ERR_BAD_ENCODING);
	for (size_t i = 0; i < 32; i++) {
		static const char others[] = {'g', 'G', ' ', '/', ':', '@', '`', '\0', '\x80'};

		for (size_t k = 0; k < sizeof(others); k++) {
			memcpy(bad, hash, sizeof(hash));
			bad[i] = others[k];
			memset(out, 0x55, sizeof(out));
			ck_assert_status(ntlm_hex_to_bytes(bad, 32, out, sizeof(out)), NTLM_ERR_BAD_ENCODING);
			for (size_t j = 0; j < sizeof(out); j++)
				ck_assert_uint_eq(out[j], 0);
		}
	}
	ck_assert_status(ntlm_hex_to_bytes("", 0, out, 0), NTLM_OK);
	ck_assert_status(ntlm_hex_to_bytes(NULL, 0, out, 0), NTLM_ERR_INVALID_ARGUMENT);
}
END_TEST

static Suite *reader_suite(void)
{
	Suite *s = suite_create("reader");

	test_add_tcase(s, "reader", TESTS(test_reader_integers, test_reader_bytes_views, test_reader_slice));
	test_add_tcase(s, "writer",
	               TESTS(test_writer_basic, test_writer_grows, test_writer_cap_is_sticky,
	                     test_writer_put_at_bounds, test_writer_empty_finish));
	test_add_tcase(s, "text",
	               TESTS(test_utf8_to_utf16_valid, test_utf8_to_utf16_invalid,
	                     test_utf8_to_utf16_max_units, test_utf16_to_utf8, test_utf16_to_utf8_expansion,
	                     test_oem_to_utf8, test_oem_decode_rules, test_utf8_name_check,
	                     test_base64_rfc4648, test_base64_binary_roundtrip, test_base64_strict,
	                     test_base64_every_character, test_base64_every_character_long, test_base64_span,
	                     test_base64_padding_optional, test_base64_ntlmssp, test_hex_decode,
	                     test_hex_digit_every_byte, test_hex_to_bytes));
	test_add_tcase(s, "av_pairs",
	               TESTS(test_av_list_spec, test_av_list_typed, test_av_list_padding_and_unknown,
	                     test_av_list_errors, test_av_list_max_pairs, test_av_write));
	return s;
}

int main(void)
{
	return test_run_suite(reader_suite());
}
