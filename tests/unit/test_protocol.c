/*
 * test_protocol.c: the ntlmd protocol: frame encoding and decoding, every
 * class of malformed frame, deterministic bit-flip mutation, the client
 * against in-process fake daemons, and ntlmd's tables and handlers run
 * without a socket.
 *
 * The daemon's request code is linked from its noinst library
 * (ntlmd/libntlmd.la), over a backend chain of one fake store defined
 * below, so the handlers run exactly as in ntlmd; the store can answer
 * later, or never, to run the handlers in their steps as the loop does.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "pool.h"
#include "request.h"
#include "stats.h"
#include "testutil.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* ------------------------------------------------------------------ */
/* A fake store: a few accounts in memory                              */

#define PASSWORD "Passw0rd!"

static struct ntlmd_backend_chain *fake_chain;

struct fake_account {
	const char *name;
	const char *flags;
	struct ntlm_hash nt;
};
static struct fake_account fake_accounts[] = {{"alice", "U", {{0}}},
                                              {"bob", "DU", {{0}}},
                                              {"dave", "LU", {{0}}},
                                              {"slowalice", "U", {{0}}}, /* not in memory */
                                              {"Root", "U", {{0}}}}; /* a case twin of the system user root */

static void fake_accounts_init(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(fake_accounts); i++)
		ck_assert_status(ntlm_ntowfv1(PASSWORD, &fake_accounts[i].nt), NTLM_OK);
}

static struct fake_account *fake_find(const char *user)
{
	for (size_t i = 0; i < ARRAY_SIZE(fake_accounts); i++)
		if (strcasecmp(fake_accounts[i].name, user) == 0)
			return &fake_accounts[i];
	return NULL;
}

/* The fake store's account key: "fake:" and the name. */
static char *fake_key(const char *name)
{
	char key[128];

	snprintf(key, sizeof(key), "fake:%s", name);
	return strdup(key);
}

static enum ntlm_status fake_lookup(void *state, const char *user, const char *domain,
                                    struct ntlmd_account *ret)
{
	const struct fake_account *a = fake_find(user);

	(void)state;
	(void)domain;
	if (a == NULL)
		return NTLM_STATUS_NO_SUCH_USER;
	*ret = (struct ntlmd_account){.name = strdup(a->name),
	                              .key = fake_key(a->name),
	                              .uid = 1000,
	                              .has_uid = true,
	                              .has_nt = true,
	                              .nt_hash = a->nt,
	                              .pwd_last_set = -1, /* unknown: no must-change */
	                              .pwd_must_change = -1,
	                              .kickoff_time = -1};
	snprintf(ret->flags, sizeof(ret->flags), "%s", a->flags);
	return NTLM_OK;
}

/* Like a directory: names that begin with "slow" are not in memory (only
 * a worker's lookup finds them), the others are (a cache hit). */
static enum ntlm_status fake_lookup_now(void *state, const char *user, const char *domain,
                                        struct ntlmd_account *ret, bool *ret_answered)
{
	*ret_answered = strncasecmp(user, "slow", 4) != 0;
	return *ret_answered ? fake_lookup(state, user, domain, ret) : NTLM_ERR_BACKEND_UNAVAILABLE;
}

static enum ntlm_status fake_set_password(void *state, const char *user, const struct ntlm_hash *nt_hash,
                                          int64_t now)
{
	struct fake_account *a = fake_find(user);

	(void)state;
	(void)now;
	if (a == NULL)
		return NTLM_STATUS_NO_SUCH_USER;
	a->nt = *nt_hash;
	return NTLM_OK;
}

/* The fake store's groups: "staff" holds alice, and so does the SID
 * STAFF_SID (asked in its canonical text only); "broken" is in a store
 * that cannot be asked; no other group exists. */
#define STAFF_SID "S-1-5-21-1-2-3-1001"
static enum ntlm_status fake_group_member(void *state, const char *group, const char *user, const char *key,
                                          bool *ret_member)
{
	(void)state;
	ck_assert_ptr_nonnull(key); /* the account was looked up: its key is known */
	if (strcmp(group, "broken") == 0)
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	if (strcmp(group, "staff") != 0 && strcmp(group, STAFF_SID) != 0)
		return NTLM_STATUS_NO_SUCH_GROUP;
	*ret_member = strcasecmp(user, "alice") == 0;
	return NTLM_OK;
}

/* Write-backs the fake store was told of (record_logon). */
static unsigned fake_recorded;

static void fake_record_logon(void *state, const char *user, int64_t bad_count, bool success, int64_t now)
{
	(void)state, (void)user, (void)bad_count, (void)success, (void)now;
	fake_recorded++;
}

/* STATS: the fake store reports fake_stat_records figures, each with a
 * server and a detail of fake_stat_text bytes (the largest a store can). */
static size_t fake_stat_records, fake_stat_text;

static void fake_stats(void *state, ntlmd_store_stat_fn *emit, void *arg)
{
	char *text = malloc(fake_stat_text + 1);

	(void)state;
	ck_assert_ptr_nonnull(text);
	memset(text, 'u', fake_stat_text);
	text[fake_stat_text] = '\0';
	for (size_t i = 0; i < fake_stat_records; i++)
		emit(arg, &(const struct ntlmd_store_stat){"server_up", text, text, i});
	free(text);
}

static const struct ntlmd_backend fake_backend = {
    .name = "fake",
    .stats = fake_stats,
    .lookup = fake_lookup,
    .lookup_now = fake_lookup_now,
    .set_password = fake_set_password,
    .group_member = fake_group_member,
    .record_logon = fake_record_logon,
};

static struct ntlmd_backend_chain *fake_chain_new(void)
{
	const struct ntlmd_backend *b = &fake_backend;
	void *state = NULL;
	struct ntlmd_backend_chain *c = NULL;

	ck_assert_status(ntlmd_backends_new(&b, &state, 1, &c), NTLM_OK);
	return c;
}

/* ------------------------------------------------------------------ */
/* Frames                                                              */

/* A request with one field of every kind, and an unknown tag. */
static void sample_fields(struct ntlm_writer *w)
{
	static const uint8_t chal[8] = {1, 2, 3, 4, 5, 6, 7, 8};

	ntlmd_fields_init(w);
	ntlmd_put_string(w, NTLMD_TAG_SERVICE, "squid");
	ntlmd_put_string(w, NTLMD_TAG_USER, "J\xc3\xbcrgen");
	ntlmd_put_bytes(w, NTLMD_TAG_NEGOTIATE, "NTLMSSP", 8);
	ntlmd_put_bytes(w, NTLMD_TAG_SERVER_CHALLENGE, chal, sizeof(chal));
	ntlmd_put_bytes(w, NTLMD_TAG_LM_RESPONSE, NULL, 0);
	ntlmd_put_u8(w, NTLMD_TAG_MSCHAPV2, 1);
	ntlmd_put_u32(w, NTLMD_TAG_FLAGS, 0xE2088297u);
	ntlmd_put_u64(w, NTLMD_TAG_UPTIME, 0x0102030405060708ull);
	ntlmd_put_bytes(w, 4242, "future", 6);       /* unknown: skipped */
	ntlmd_put_string(w, NTLMD_TAG_DOMAIN, NULL); /* left out */
}

static uint8_t *sample_frame(size_t *ret_len)
{
	struct ntlm_writer w;
	uint8_t *f;

	sample_fields(&w);
	ck_assert_status(ntlmd_frame_encode(NTLMD_REQ_VERIFY_RESPONSE, &w, &f, ret_len), NTLM_OK);
	ntlm_writer_clear(&w);
	return f;
}

START_TEST(request_round_trip)
{
	struct ntlmd_frame f;
	size_t len, n;
	uint8_t *p = sample_frame(&len);
	const uint8_t *b;
	const char *s;
	uint32_t u32;
	uint64_t u64;
	uint8_t u8;

	ck_assert_status(ntlmd_frame_decode(p, len, &f), NTLM_OK);
	ck_assert_uint_eq(f.type, NTLMD_REQ_VERIFY_RESPONSE);
	ck_assert_status(ntlmd_frame_get_string(&f, NTLMD_TAG_SERVICE, &s), NTLM_OK);
	ck_assert_str_eq(s, "squid");
	ck_assert_str_eq(ntlmd_frame_string(&f, NTLMD_TAG_USER), "J\xc3\xbcrgen");
	ck_assert_ptr_null(ntlmd_frame_string(&f, NTLMD_TAG_DOMAIN));
	ck_assert_status(ntlmd_frame_get_bytes(&f, NTLMD_TAG_NEGOTIATE, &b, &n), NTLM_OK);
	ck_assert_uint_eq(n, 8);
	ck_assert_mem_eq(b, "NTLMSSP", 8);
	ck_assert_status(ntlmd_frame_get_bytes(&f, NTLMD_TAG_LM_RESPONSE, &b, &n), NTLM_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(b);
	ck_assert_status(ntlmd_frame_get_bytes(&f, NTLMD_TAG_SERVER_CHALLENGE, &b, &n), NTLM_OK);
	ck_assert_hex_eq(b, n, "0102030405060708");
	ck_assert_status(ntlmd_frame_get_u8(&f, NTLMD_TAG_MSCHAPV2, &u8), NTLM_OK);
	ck_assert_uint_eq(u8, 1);
	ck_assert_status(ntlmd_frame_get_u32(&f, NTLMD_TAG_FLAGS, &u32), NTLM_OK);
	ck_assert_uint_eq(u32, 0xE2088297u);
	ck_assert_status(ntlmd_frame_get_u64(&f, NTLMD_TAG_UPTIME, &u64), NTLM_OK);
	ck_assert_uint_eq(u64, 0x0102030405060708ull);
	/* the header, byte by byte (docs/PROTOCOL.md) */
	ck_assert_hex_eq(p, 8, "4e54440104000000");
	ck_assert_uint_eq(len - NTLMD_HEADER_LEN, (size_t)p[8] | (size_t)p[9] << 8);
	ntlmd_frame_clear(&f);
	ntlmd_frame_clear(&f); /* idempotent */
	free(p);
}
END_TEST

START_TEST(getters_refuse_absent_and_wrong_kind)
{
	struct ntlmd_frame f;
	size_t len, n;
	uint8_t *p = sample_frame(&len);
	const uint8_t *b;
	const char *s;
	uint32_t u32;
	uint8_t u8;

	ck_assert_status(ntlmd_frame_decode(p, len, &f), NTLM_OK);
	ck_assert(!ntlmd_frame_has(&f, NTLMD_TAG_PASSWORD));
	ck_assert(!ntlmd_frame_has(&f, 4242));
	ck_assert_status(ntlmd_frame_get_string(&f, NTLMD_TAG_PASSWORD, &s), NTLM_ERR_TRUNCATED);
	ck_assert_status(ntlmd_frame_get_bytes(&f, NTLMD_TAG_AUTHENTICATE, &b, &n), NTLM_ERR_TRUNCATED);
	ck_assert_status(ntlmd_frame_get_u32(&f, NTLMD_TAG_STATUS, &u32), NTLM_ERR_TRUNCATED);
	ck_assert_status(ntlmd_frame_get_u32(&f, NTLMD_TAG_SERVICE, &u32), NTLM_ERR_BAD_ENCODING);
	ck_assert_status(ntlmd_frame_get_u8(&f, NTLMD_TAG_FLAGS, &u8), NTLM_ERR_BAD_ENCODING);
	ck_assert_status(ntlmd_frame_get_string(&f, NTLMD_TAG_NEGOTIATE, &s), NTLM_ERR_BAD_ENCODING);
	ck_assert_status(ntlmd_frame_get_u32(&f, 4242, &u32), NTLM_ERR_TRUNCATED);
	ntlmd_frame_clear(&f);
	free(p);
}
END_TEST

/* A name may hold spaces and any character but C0, DEL and C1; other
 * strings (SERVICE, PASSWORD, AUTH_USER) are not held to that rule. */
START_TEST(names_without_control_characters)
{
	static const char *const good[] = {"john smith",
	                                   " alice ",
	                                   "Jos\xc3\xa9",
	                                   "\xc2\xa0nbsp",
	                                   "~",
	                                   "\xe2\x80\xa8",
	                                   "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd",
	                                   "\xe2\x82\xac",
	                                   ""};
	static const uint16_t name_tags[] = {NTLMD_TAG_USER, NTLMD_TAG_DOMAIN, NTLMD_TAG_WORKSTATION};

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		for (size_t t = 0; t < ARRAY_SIZE(name_tags); t++) {
			struct ntlm_writer w;
			struct ntlmd_frame f;
			uint8_t *p;
			size_t len;

			ntlmd_fields_init(&w);
			ntlmd_put_string(&w, name_tags[t], good[i]);
			ck_assert_status(ntlmd_frame_encode(NTLMD_REQ_CHECK_PASSWORD, &w, &p, &len), NTLM_OK);
			ntlm_writer_clear(&w);
			ck_assert_status(ntlmd_frame_decode(p, len, &f), NTLM_OK);
			ck_assert_str_eq(ntlmd_frame_string(&f, name_tags[t]), good[i]);
			ntlmd_frame_clear(&f);
			free(p);
		}
	}
	/* every C0 byte and DEL in a name; the same bytes in SERVICE, PASSWORD and
	 * AUTH_USER stay legal */
	for (unsigned c = 1; c < 0x80; c++) {
		struct ntlm_writer w;
		struct ntlmd_frame f;
		uint8_t *p;
		size_t len;
		char s[4] = {'a', (char)c, 'b', 0};
		bool control = c < 0x20 || c == 0x7f;

		ntlmd_fields_init(&w);
		ntlmd_put_string(&w, NTLMD_TAG_SERVICE, s);
		ntlmd_put_string(&w, NTLMD_TAG_PASSWORD, s);
		ntlmd_put_string(&w, NTLMD_TAG_AUTH_USER, s);
		ntlmd_put_string(&w, NTLMD_TAG_DOMAIN, s);
		ck_assert_status(ntlmd_frame_encode(NTLMD_REQ_CHECK_PASSWORD, &w, &p, &len), NTLM_OK);
		ntlm_writer_clear(&w);
		ck_assert_msg(ntlmd_frame_decode(p, len, &f) ==
		                  (control ? NTLM_ERR_CONTROL_CHARACTER : NTLM_OK),
		              "byte 0x%02x in DOMAIN", c);
		ntlmd_frame_clear(&f);
		free(p);
	}
}
END_TEST

START_TEST(reply_round_trip_and_codes)
{
	struct ntlm_writer w;
	struct ntlmd_frame f;
	enum ntlm_status st;
	uint8_t *p;
	size_t len;

	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_AUTH_USER, "TESTDOM\\alice");
	ck_assert_status(ntlmd_reply_encode(NTLMD_REQ_VERIFY, NTLM_STATUS_WRONG_PASSWORD, &w, &p, &len),
	                 NTLM_OK);
	ntlm_writer_clear(&w);
	ck_assert_status(ntlmd_frame_decode(p, len, &f), NTLM_OK);
	ck_assert_uint_eq(f.type, NTLMD_REQ_VERIFY | NTLMD_REPLY);
	/* STATUS is the first field: tag 1, length 4, 0xC000006A */
	ck_assert_hex_eq(p + NTLMD_HEADER_LEN, 10, "0100 04000000 6a0000c0");
	ck_assert_status(ntlmd_reply_status(&f, &st), NTLM_OK);
	ck_assert_status(st, NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_str_eq(ntlmd_frame_string(&f, NTLMD_TAG_STATUS_NAME), "STATUS_WRONG_PASSWORD");
	ck_assert_str_eq(ntlmd_frame_string(&f, NTLMD_TAG_MESSAGE), ntlm_status_message(st));
	ck_assert_str_eq(ntlmd_frame_string(&f, NTLMD_TAG_AUTH_USER), "TESTDOM\\alice");
	ntlmd_frame_clear(&f);
	free(p);

	for (int i = 0; i < _NTLM_STATUS_MAX; i++)
		ck_assert_status(ntlmd_status_from_code(ntlm_status_code((enum ntlm_status)i)),
		                 (enum ntlm_status)i);
	ck_assert_status(ntlmd_status_from_code(0x12345678u), NTLM_ERR_INTERNAL);
}
END_TEST

/* One malformed frame and the status it must get. */
struct bad_frame {
	const char *name;
	const char *hex;
	enum ntlm_status status;
};

/* Header: "NTD" 01, type 0100, flags 0000, payload length. Fields: tag,
 * u32 length, value. Tag 0a00 is SERVICE (a string), 2100 SERVER_CHALLENGE
 * (8 bytes), 3500 FLAGS (u32), 2600 MSCHAPV2 (u8). */
static const struct bad_frame bad_frames[] = {
    {"bad magic", "4e5458 01 0100 0000 00000000", NTLM_ERR_BAD_SIGNATURE},
    {"version 0", "4e5444 00 0100 0000 00000000", NTLM_ERR_BAD_SIGNATURE},
    {"version 2", "4e5444 02 0100 0000 00000000", NTLM_ERR_BAD_SIGNATURE},
    {"flags not 0", "4e5444 01 0100 0100 00000000", NTLM_ERR_BAD_REQUEST},
    {"length over the cap", "4e5444 01 0100 0000 01000100", NTLM_ERR_MESSAGE_TOO_LONG},
    {"length 0xffffffff", "4e5444 01 0100 0000 ffffffff", NTLM_ERR_MESSAGE_TOO_LONG},
    {"header cut", "4e5444 01 0100 0000 0000", NTLM_ERR_TRUNCATED},
    {"empty", "", NTLM_ERR_TRUNCATED},
    {"payload cut", "4e5444 01 0100 0000 0a000000 0a00 02000000 78", NTLM_ERR_TRUNCATED},
    {"trailing bytes", "4e5444 01 0100 0000 00000000 00", NTLM_ERR_TRAILING_DATA},
    {"field header cut", "4e5444 01 0100 0000 03000000 0a0001", NTLM_ERR_TRUNCATED},
    {"field past the end", "4e5444 01 0100 0000 07000000 0a00 02000000 78", NTLM_ERR_FIELD_OUT_OF_BOUNDS},
    {"field length huge", "4e5444 01 0100 0000 07000000 0a00 ffffffff 78", NTLM_ERR_FIELD_OUT_OF_BOUNDS},
    {"duplicate tag", "4e5444 01 0100 0000 0e000000 0a00 01000000 61 0a00 01000000 62", NTLM_ERR_BAD_REQUEST},
    {"duplicate unknown tag", "4e5444 01 0100 0000 0c000000 e803 00000000 e803 00000000",
     NTLM_ERR_BAD_REQUEST},
    {"duplicate unknown tag inside the table", "4e5444 01 0100 0000 0c000000 6300 00000000 6300 00000000",
     NTLM_ERR_BAD_REQUEST},
    {"NUL in a string", "4e5444 01 0100 0000 09000000 0a00 03000000 610062", NTLM_ERR_BAD_STRING},
    {"overlong UTF-8", "4e5444 01 0100 0000 08000000 0a00 02000000 c080", NTLM_ERR_BAD_STRING},
    {"UTF-16 surrogate", "4e5444 01 0100 0000 09000000 0a00 03000000 eda080", NTLM_ERR_BAD_STRING},
    {"byte 0xff", "4e5444 01 0100 0000 07000000 0a00 01000000 ff", NTLM_ERR_BAD_STRING},
    {"UTF-8 cut", "4e5444 01 0100 0000 08000000 0a00 02000000 e282", NTLM_ERR_BAD_STRING},
    /* USER (1e00), DOMAIN (1f00), WORKSTATION (2000): names, no control character */
    {"LF in USER", "4e5444 01 0100 0000 09000000 1e00 03000000 610a62", NTLM_ERR_CONTROL_CHARACTER},
    {"NUL in USER", "4e5444 01 0100 0000 09000000 1e00 03000000 610062", NTLM_ERR_CONTROL_CHARACTER},
    {"CR at the end of DOMAIN", "4e5444 01 0100 0000 08000000 1f00 02000000 610d",
     NTLM_ERR_CONTROL_CHARACTER},
    {"TAB first in DOMAIN", "4e5444 01 0100 0000 08000000 1f00 02000000 0961", NTLM_ERR_CONTROL_CHARACTER},
    {"DEL in WORKSTATION", "4e5444 01 0100 0000 07000000 2000 01000000 7f", NTLM_ERR_CONTROL_CHARACTER},
    {"NEL in WORKSTATION", "4e5444 01 0100 0000 0a000000 2000 04000000 61c28562", NTLM_ERR_CONTROL_CHARACTER},
    {"U+009F in USER", "4e5444 01 0100 0000 08000000 1e00 02000000 c29f", NTLM_ERR_CONTROL_CHARACTER},
    {"u32 of 3 bytes", "4e5444 01 0100 0000 09000000 3500 03000000 010203", NTLM_ERR_BAD_REQUEST},
    {"u8 of 2 bytes", "4e5444 01 0100 0000 08000000 2600 02000000 0101", NTLM_ERR_BAD_REQUEST},
    {"challenge of 7 bytes", "4e5444 01 0100 0000 0d000000 2100 07000000 01020304050607",
     NTLM_ERR_BAD_REQUEST},
};

START_TEST(malformed_frames_refused)
{
	const struct bad_frame *b = &bad_frames[_i];
	struct ntlmd_frame f = {0};
	size_t len;
	uint8_t *p = test_hex(b->hex, &len);

	ck_assert_status_msg(b->name, ntlmd_frame_decode(p, len, &f), b->status);
	ck_assert_ptr_null(f.buf); /* nothing written on failure */
	free(p);
}
END_TEST

/* n empty fields of distinct unknown tags: NTLMD_MAX_FIELDS pass, one more
 * makes the frame malformed. */
static enum ntlm_status decode_unknown_fields(size_t n)
{
	struct ntlm_writer w;
	struct ntlmd_frame f = {0};
	enum ntlm_status st;
	uint8_t *p;
	size_t len;

	ntlmd_fields_init(&w);
	for (size_t i = 0; i < n; i++)
		ntlmd_put_bytes(&w, (uint16_t)(1000 + i), "", 0);
	ck_assert_status(ntlmd_frame_encode(NTLMD_REQ_PING, &w, &p, &len), NTLM_OK);
	ntlm_writer_clear(&w);
	st = ntlmd_frame_decode(p, len, &f);
	ntlmd_frame_clear(&f);
	free(p);
	return st;
}

START_TEST(field_count_capped)
{
	ck_assert_status(decode_unknown_fields(NTLMD_MAX_FIELDS), NTLM_OK);
	ck_assert_status(decode_unknown_fields(NTLMD_MAX_FIELDS + 1), NTLM_ERR_BAD_REQUEST);
}
END_TEST

/* A frame with one SERVICE field of n bytes of 's'. */
static uint8_t *string_frame(size_t n, size_t *ret_len)
{
	struct ntlm_writer w;
	uint8_t *p;
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, 's', n);
	s[n] = '\0';
	ntlmd_fields_init(&w);
	ntlmd_put_bytes(&w, NTLMD_TAG_SERVICE, s, n); /* bytes: no cap on the way out */
	ck_assert_status(ntlmd_frame_encode(NTLMD_REQ_PING, &w, &p, ret_len), NTLM_OK);
	ntlm_writer_clear(&w);
	free(s);
	return p;
}

START_TEST(string_cap)
{
	struct ntlmd_frame f;
	size_t len;
	uint8_t *p = string_frame(NTLMD_MAX_STRING, &len);

	ck_assert_status(ntlmd_frame_decode(p, len, &f), NTLM_OK);
	ck_assert_uint_eq(strlen(ntlmd_frame_string(&f, NTLMD_TAG_SERVICE)), NTLMD_MAX_STRING);
	ntlmd_frame_clear(&f);
	free(p);
	p = string_frame(NTLMD_MAX_STRING + 1, &len);
	ck_assert_status(ntlmd_frame_decode(p, len, &f), NTLM_ERR_STRING_TOO_LONG);
	free(p);
}
END_TEST

START_TEST(payload_cap)
{
	struct ntlm_writer w;
	struct ntlmd_frame f;
	uint8_t *big = calloc(1, NTLMD_MAX_PAYLOAD), *p;
	size_t len;

	ck_assert_ptr_nonnull(big);
	/* exactly the cap: one field of NTLMD_MAX_PAYLOAD - 6 bytes */
	ntlmd_fields_init(&w);
	ntlmd_put_bytes(&w, NTLMD_TAG_NT_RESPONSE, big, NTLMD_MAX_PAYLOAD - 6);
	ck_assert_status(ntlmd_frame_encode(NTLMD_REQ_PING, &w, &p, &len), NTLM_OK);
	ck_assert_uint_eq(len, NTLMD_HEADER_LEN + NTLMD_MAX_PAYLOAD);
	ck_assert_status(ntlmd_frame_decode(p, len, &f), NTLM_OK);
	ntlmd_frame_clear(&f);
	free(p);
	ntlm_writer_clear(&w);
	/* one byte more */
	ntlmd_fields_init(&w);
	ntlmd_put_bytes(&w, NTLMD_TAG_NT_RESPONSE, big, NTLMD_MAX_PAYLOAD - 5);
	ck_assert_status(ntlmd_frame_encode(NTLMD_REQ_PING, &w, &p, &len), NTLM_ERR_MESSAGE_TOO_LONG);
	ntlm_writer_clear(&w);
	free(big);
}
END_TEST

START_TEST(writer_refuses_bad_strings)
{
	struct ntlm_writer w;
	uint8_t *p = NULL;
	size_t len;
	char long_string[NTLMD_MAX_STRING + 2];

	memset(long_string, 'x', sizeof(long_string) - 1);
	long_string[sizeof(long_string) - 1] = '\0';
	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_USER, long_string);
	ntlmd_put_string(&w, NTLMD_TAG_DOMAIN, "fine"); /* sticky: still failed */
	ck_assert_status(ntlmd_frame_encode(NTLMD_REQ_PING, &w, &p, &len), NTLM_ERR_STRING_TOO_LONG);
	ck_assert_ptr_null(p);
	ntlm_writer_clear(&w);

	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_USER, "\xc3");
	ck_assert_status(ntlmd_frame_encode(NTLMD_REQ_PING, &w, &p, &len), NTLM_ERR_BAD_STRING);
	ck_assert_status(ntlmd_reply_encode(NTLMD_REQ_PING, NTLM_OK, &w, &p, &len), NTLM_ERR_BAD_STRING);
	ntlm_writer_clear(&w);

	ck_assert(ntlmd_string_valid("caf\xc3\xa9", 5));
	ck_assert(ntlmd_string_valid("\xf0\x9f\x98\x80", 4));
	ck_assert(!ntlmd_string_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
	ck_assert(!ntlmd_string_valid("a\0b", 3));
	ck_assert(!ntlmd_string_valid(NULL, 0));
}
END_TEST

/* The STATS records (common/stats.h): what is written reads back, and
 * every malformed value is refused with its own status. */
START_TEST(stats_records_round_trip)
{
	struct ntlmd_histogram h = {{0}, 0, 0};
	struct ntlmd_stats_histogram hr;
	struct ntlmd_stats_count c;
	struct ntlmd_stats_store sr;
	const struct ntlmd_store_stat stat = {"server_up", "ldap://127.0.0.1:1/", "Can't contact LDAP server",
	                                      1};
	struct ntlm_writer w;
	struct ntlm_reader r;
	char long_text[NTLMD_STATS_TEXT + 10];
	uint8_t *p;
	size_t len;

	ntlm_writer_init(&w, NTLMD_MAX_PAYLOAD);
	ntlmd_stats_put_count(&w, "VERIFY", 7);
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	memcpy(long_text + NTLMD_STATS_TEXT - 1, "\xc3\xa9", 2); /* a character across the cut */
	ntlmd_stats_put_count(&w, long_text, UINT64_MAX);
	ck_assert_status(ntlm_writer_finish(&w, &p, &len), NTLM_OK);
	ntlm_reader_init(&r, p, len);
	ck_assert_status(ntlmd_stats_next_count(&r, &c), NTLM_OK);
	ck_assert_str_eq(c.name, "VERIFY");
	ck_assert_uint_eq(c.value, 7);
	ck_assert_status(ntlmd_stats_next_count(&r, &c), NTLM_OK);
	ck_assert_uint_eq(strlen(c.name), NTLMD_STATS_TEXT - 1); /* cut before the character */
	ck_assert_uint_eq(c.value, UINT64_MAX);
	ck_assert_status(ntlmd_stats_next_count(&r, &c), NTLM_ERR_TRUNCATED); /* the clean end */
	/* cut short, anywhere */
	for (size_t cut = 1; cut < 16; cut++) {
		ntlm_reader_init(&r, p, cut);
		ck_assert_status(ntlmd_stats_next_count(&r, &c), NTLM_ERR_TRUNCATED);
	}
	/* a length past the value */
	p[0] = 0xff;
	ntlm_reader_init(&r, p, 16);
	ck_assert_status(ntlmd_stats_next_count(&r, &c), NTLM_ERR_TRUNCATED);
	/* bad UTF-8, a NUL */
	p[0] = 6;
	p[2] = 0xff;
	ntlm_reader_init(&r, p, 16);
	ck_assert_status(ntlmd_stats_next_count(&r, &c), NTLM_ERR_BAD_STRING);
	p[2] = 0;
	ntlm_reader_init(&r, p, 16);
	ck_assert_status(ntlmd_stats_next_count(&r, &c), NTLM_ERR_BAD_STRING);
	free(p);

	/* a histogram: cumulative buckets, +Inf is the count */
	ntlmd_histogram_add(&h, 10);       /* 0.0005 */
	ntlmd_histogram_add(&h, 500);      /* 0.0005: the bound is inclusive (le) */
	ntlmd_histogram_add(&h, 501);      /* 0.001 */
	ntlmd_histogram_add(&h, 20000000); /* over 10 s: +Inf only */
	ntlm_writer_init(&w, NTLMD_MAX_PAYLOAD);
	ntlmd_stats_put_histogram(&w, &h);
	ck_assert_status(ntlm_writer_finish(&w, &p, &len), NTLM_OK);
	ck_assert_status(ntlmd_stats_read_histogram(p, len, &hr), NTLM_OK);
	ck_assert_uint_eq(hr.count, 4);
	ck_assert_uint_eq(hr.sum_us, 10 + 500 + 501 + 20000000);
	ck_assert_uint_eq(hr.n, NTLMD_STATS_BUCKETS);
	ck_assert_uint_eq(hr.le_us[0], 500);
	ck_assert_uint_eq(hr.cumulative[0], 2);
	ck_assert_uint_eq(hr.cumulative[1], 3);
	ck_assert_uint_eq(hr.le_us[NTLMD_STATS_BUCKETS - 1], 10000000);
	ck_assert_uint_eq(hr.cumulative[NTLMD_STATS_BUCKETS - 1], 3);
	ck_assert_status(ntlmd_stats_read_histogram(p, len - 1, &hr), NTLM_ERR_TRUNCATED);
	p[17 + 8] = 5; /* the first bucket's count (2) above the count (4)? no: 5 > 4 */
	ck_assert_status(ntlmd_stats_read_histogram(p, len, &hr), NTLM_ERR_BAD_ENCODING);
	p[17 + 8] = 2;
	p[17 + 16] = 0x10; /* the second bound (1000 us) below the first */
	p[17 + 17] = 0;
	ck_assert_status(ntlmd_stats_read_histogram(p, len, &hr), NTLM_ERR_BAD_ENCODING);
	free(p);

	/* a store record, and a trailing byte after the histogram */
	ntlm_writer_init(&w, NTLMD_MAX_PAYLOAD);
	ntlmd_stats_put_store(&w, "ldap", &stat);
	ck_assert_status(ntlm_writer_finish(&w, &p, &len), NTLM_OK);
	ntlm_reader_init(&r, p, len);
	ck_assert_status(ntlmd_stats_next_store(&r, &sr), NTLM_OK);
	ck_assert_str_eq(sr.store, "ldap");
	ck_assert_str_eq(sr.name, "server_up");
	ck_assert_str_eq(sr.server, "ldap://127.0.0.1:1/");
	ck_assert_str_eq(sr.detail, "Can't contact LDAP server");
	ck_assert_uint_eq(sr.value, 1);
	ck_assert_status(ntlmd_stats_next_store(&r, &sr), NTLM_ERR_TRUNCATED);
	ntlm_reader_init(&r, p, len - 1);
	ck_assert_status(ntlmd_stats_next_store(&r, &sr), NTLM_ERR_TRUNCATED);
	free(p);
	/* a store's own figure: no server, no detail (empty texts) */
	ntlm_writer_init(&w, NTLMD_MAX_PAYLOAD);
	ntlmd_stats_put_store(&w, "ldap",
	                      &(const struct ntlmd_store_stat){"cache_hits_total", NULL, NULL, 3});
	ck_assert_status(ntlm_writer_finish(&w, &p, &len), NTLM_OK);
	ntlm_reader_init(&r, p, len);
	ck_assert_status(ntlmd_stats_next_store(&r, &sr), NTLM_OK);
	ck_assert_str_eq(sr.server, "");
	ck_assert_str_eq(sr.detail, "");
	ck_assert_uint_eq(sr.value, 3);
	ck_assert_status(ntlmd_stats_next_store(&r, &sr), NTLM_ERR_TRUNCATED);
	free(p);
	ntlm_writer_init(&w, NTLMD_MAX_PAYLOAD);
	ntlmd_stats_put_histogram(&w, &h);
	ntlm_write_u8(&w, 0);
	ck_assert_status(ntlm_writer_finish(&w, &p, &len), NTLM_OK);
	ck_assert_status(ntlmd_stats_read_histogram(p, len, &hr), NTLM_ERR_TRAILING_DATA);
	free(p);
}
END_TEST

START_TEST(header_decode_alone)
{
	uint8_t h[NTLMD_HEADER_LEN] = {'N', 'T', 'D', 1, 3, 0, 0, 0, 0x10, 0, 0, 0};
	uint16_t type = 0;
	uint32_t len = 0;

	ck_assert_status(ntlmd_header_decode(h, sizeof(h), &type, &len), NTLM_OK);
	ck_assert_uint_eq(type, NTLMD_REQ_VERIFY);
	ck_assert_uint_eq(len, 16);
	ck_assert_status(ntlmd_header_decode(h, 11, &type, &len), NTLM_ERR_TRUNCATED);
}
END_TEST

/* Decodes p; when it decodes, the fields must re-encode to a frame that
 * decodes again to the same fields. */
static void decode_any(const uint8_t *p, size_t len)
{
	struct ntlmd_frame f, g;
	struct ntlm_writer w;
	uint8_t *q;
	size_t qlen;

	if (ntlmd_frame_decode(p, len, &f) != NTLM_OK)
		return;
	ntlmd_fields_init(&w);
	for (uint16_t t = 0; t < NTLMD_FRAME_TAGS; t++)
		if (f.fields[t].present)
			ntlmd_put_bytes(&w, t, f.fields[t].data, f.fields[t].len);
	ck_assert_status(ntlmd_frame_encode(f.type, &w, &q, &qlen), NTLM_OK);
	ck_assert_status(ntlmd_frame_decode(q, qlen, &g), NTLM_OK);
	for (uint16_t t = 0; t < NTLMD_FRAME_TAGS; t++) {
		ck_assert_int_eq(f.fields[t].present, g.fields[t].present);
		ck_assert_uint_eq(f.fields[t].len, g.fields[t].len);
		if (f.fields[t].len > 0)
			ck_assert_mem_eq(f.fields[t].data, g.fields[t].data, f.fields[t].len);
	}
	ntlmd_frame_clear(&g);
	ntlmd_frame_clear(&f);
	ntlm_writer_clear(&w);
	free(q);
}

START_TEST(mutation_never_crashes)
{
	struct ntlm_writer w;
	uint8_t *frames[3];
	size_t lens[3];

	frames[0] = sample_frame(&lens[0]);
	ntlmd_fields_init(&w);
	ck_assert_status(
	    ntlmd_reply_encode(NTLMD_REQ_VERIFY, NTLM_STATUS_MIC_INVALID, &w, &frames[1], &lens[1]), NTLM_OK);
	ntlm_writer_clear(&w);
	ck_assert_status(ntlmd_frame_encode(NTLMD_REQ_PING, NULL, &frames[2], &lens[2]), NTLM_OK);

	for (size_t k = 0; k < ARRAY_SIZE(frames); k++) {
		uint8_t *m = malloc(lens[k]);

		ck_assert_ptr_nonnull(m);
		/* every single bit flipped */
		for (size_t bit = 0; bit < lens[k] * 8; bit++) {
			memcpy(m, frames[k], lens[k]);
			m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			decode_any(m, lens[k]);
		}
		/* every truncation fails: the header announces more */
		for (size_t n = 0; n < lens[k]; n++) {
			struct ntlmd_frame f;
			uint8_t *cut = malloc(n > 0 ? n : 1);

			ck_assert_ptr_nonnull(cut);
			memcpy(cut, frames[k], n);
			ck_assert_int_ne(ntlmd_frame_decode(cut, n, &f), NTLM_OK);
			free(cut);
		}
		/* every byte set to each of a few values */
		for (size_t i = 0; i < lens[k]; i++) {
			static const uint8_t values[] = {0x00, 0x01, 0x7f, 0x80, 0xff};
			for (size_t v = 0; v < ARRAY_SIZE(values); v++) {
				memcpy(m, frames[k], lens[k]);
				m[i] = values[v];
				decode_any(m, lens[k]);
			}
		}
		free(m);
		free(frames[k]);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Client                                                              */

struct fake_daemon {
	char dir[40];
	char path[64];
	int fd;
	pid_t pid;
};

/* A listening socket in a fresh directory; behaviour runs in a child
 * process for one connection (NULL: never accept). */
static void fake_daemon_start(struct fake_daemon *d, void (*behaviour)(int conn))
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(d->dir, sizeof(d->dir), "/tmp/ntlmd-unit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d->dir));
	snprintf(d->path, sizeof(d->path), "%s/socket", d->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->path);
	d->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(d->fd, 0);
	ck_assert_int_eq(bind(d->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(d->fd, 1), 0);
	d->pid = -1;
	if (behaviour == NULL)
		return;
	d->pid = fork();
	ck_assert_int_ge(d->pid, 0);
	if (d->pid == 0) {
		int c = accept(d->fd, NULL, NULL);
		alarm(10);
		if (c >= 0)
			behaviour(c);
		_exit(0);
	}
}

static void fake_daemon_stop(struct fake_daemon *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	close(d->fd);
	unlink(d->path);
	rmdir(d->dir);
}

/* Reads one request frame (header and payload) from c. */
static void read_request(int c)
{
	uint8_t buf[NTLMD_HEADER_LEN + 256];
	size_t got = 0;

	while (got < NTLMD_HEADER_LEN) {
		ssize_t n = read(c, buf + got, sizeof(buf) - got);
		if (n <= 0)
			return;
		got += (size_t)n;
	}
}

static void reply_wrong_password(int c)
{
	struct ntlm_writer w;
	uint8_t *p;
	size_t len;

	read_request(c);
	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_AUTH_DOMAIN, "TESTDOM");
	if (ntlmd_reply_encode(NTLMD_REQ_PING, NTLM_STATUS_WRONG_PASSWORD, &w, &p, &len) == NTLM_OK)
		(void)!write(c, p, len);
}

static void reply_garbage(int c)
{
	read_request(c);
	(void)!write(c, "HTTP/1.0 200 OK\r\n\r\n", 19);
}

static void reply_other_type(int c)
{
	uint8_t *p;
	size_t len;

	read_request(c);
	if (ntlmd_reply_encode(NTLMD_REQ_VERIFY, NTLM_OK, NULL, &p, &len) == NTLM_OK)
		(void)!write(c, p, len);
}

static void close_without_reply(int c)
{
	read_request(c);
	close(c);
}

START_TEST(client_round_trip)
{
	struct fake_daemon d;
	struct ntlmd_reply r;

	fake_daemon_start(&d, reply_wrong_password);
	ck_assert_status(ntlmd_call(d.path, NTLMD_REQ_PING, NULL, 5000, &r), NTLM_OK);
	ck_assert_status(r.status, NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_str_eq(ntlmd_frame_string(&r.frame, NTLMD_TAG_AUTH_DOMAIN), "TESTDOM");
	ntlmd_reply_clear(&r);
	fake_daemon_stop(&d);
}
END_TEST

START_TEST(client_failures_map_to_statuses)
{
	struct fake_daemon d;
	struct ntlmd_reply r = {0};
	struct timespec t0, t1;

	errno = 0;
	ck_assert_status(ntlmd_call("/nonexistent/ntlmd/socket", NTLMD_REQ_PING, NULL, 1000, &r),
	                 NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_int_eq(errno, ENOENT);

	fake_daemon_start(&d, close_without_reply);
	ck_assert_status(ntlmd_call(d.path, NTLMD_REQ_PING, NULL, 5000, &r), NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_int_eq(errno, ECONNRESET);
	fake_daemon_stop(&d);

	fake_daemon_start(&d, reply_garbage);
	ck_assert_status(ntlmd_call(d.path, NTLMD_REQ_PING, NULL, 5000, &r), NTLM_ERR_BAD_SIGNATURE);
	ck_assert_int_eq(errno, EPROTO);
	fake_daemon_stop(&d);

	fake_daemon_start(&d, reply_other_type);
	ck_assert_status(ntlmd_call(d.path, NTLMD_REQ_PING, NULL, 5000, &r), NTLM_ERR_WRONG_MESSAGE_TYPE);
	fake_daemon_stop(&d);

	/* a daemon that never answers: the whole call is bounded */
	fake_daemon_start(&d, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_status(ntlmd_call(d.path, NTLMD_REQ_PING, NULL, 300, &r), NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_int_eq(errno, ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 3);
	fake_daemon_stop(&d);
	ck_assert_ptr_null(r.frame.buf); /* never written on failure */
}
END_TEST

/* ------------------------------------------------------------------ */
/* Tables                                                              */

START_TEST(siphash_vector)
{
	/* SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e */
	uint8_t key[16], msg[15];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	ck_assert_uint_eq(ntlmd_siphash(key, msg, sizeof(msg)), 0xa129ca6149be45e5ull);
}
END_TEST

/* Times in ms; the table keeps whole seconds (rounded up). */
START_TEST(challenge_table)
{
	struct ntlmd_challenges *c;
	uint8_t a[8] = {1}, b[8] = {2}, x[8] = {3}, y[8] = {4};
	bool issued = false;

	ck_assert_status(ntlmd_challenges_new(4, 4, &c), NTLM_OK);
	/* issued: usable once, by its service, within its lifetime */
	ck_assert_status(ntlmd_challenges_issue(c, a, "pam", 0, 1000, 3000, 6000), NTLM_OK);
	ck_assert_status(ntlmd_challenges_issue(c, a, "pam", 0, 1000, 3000, 6000), NTLM_ERR_INTERNAL);
	ck_assert_status(ntlmd_challenges_use(c, a, "pam", 2000, 6000, &issued), NTLM_OK);
	ck_assert(issued);
	ck_assert_status(ntlmd_challenges_use(c, a, "pam", 3000, 6000, &issued),
	                 NTLM_STATUS_CHALLENGE_EXPIRED);
	ck_assert_status(ntlmd_challenges_issue(c, b, "pam", 0, 1000, 3000, 6000), NTLM_OK);
	ck_assert_status(ntlmd_challenges_use(c, b, "pam", 4000, 6000, &issued), NTLM_OK); /* at the end */
	ck_assert_status(ntlmd_challenges_issue(c, y, "pam", 0, 1000, 3000, 6000), NTLM_OK);
	ck_assert_status(ntlmd_challenges_use(c, y, "squid", 2000, 6000, &issued),
	                 NTLM_STATUS_CHALLENGE_MISMATCH);
	ck_assert_status(ntlmd_challenges_use(c, y, "pam", 2000, 6000, &issued),
	                 NTLM_STATUS_CHALLENGE_EXPIRED);
	/* foreign: accepted once, then remembered for the retention */
	issued = true;
	ck_assert_status(ntlmd_challenges_use(c, x, "pam", 1000, 5000, &issued), NTLM_OK);
	ck_assert(!issued);
	ck_assert_status(ntlmd_challenges_use(c, x, "pam", 4000, 5000, &issued),
	                 NTLM_STATUS_CHALLENGE_EXPIRED);
	ck_assert_uint_eq(ntlmd_challenges_count(c), 4);
	/* full of live entries: refused with the table's limit, never evicted */
	ck_assert_status(ntlmd_challenges_use(c, (uint8_t[8]){5}, "pam", 5000, 5000, &issued),
	                 NTLM_ERR_INSUFFICIENT_RESOURCES);
	ck_assert_int_eq(ntlmd_challenges_limit_hit(c), NTLMD_LIMIT_TABLE);
	ck_assert_status(ntlmd_challenges_issue(c, (uint8_t[8]){6}, "pam", 0, 5000, 3000, 6000),
	                 NTLM_ERR_INSUFFICIENT_RESOURCES);
	ck_assert_uint_eq(ntlmd_challenges_capacity(c), 4); /* max_entries: no growth */
	/* later, the expired ones make room */
	ck_assert_status(ntlmd_challenges_use(c, (uint8_t[8]){5}, "pam", 30000, 5000, &issued), NTLM_OK);
	ck_assert_uint_eq(ntlmd_challenges_count(c), 1);
	/* after its retention a foreign challenge is unknown again */
	ck_assert_status(ntlmd_challenges_use(c, x, "pam", 30000, 5000, &issued), NTLM_OK);
	ck_assert_status(ntlmd_challenges_new(0, 1, &c), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlmd_challenges_new(NTLMD_CHALLENGES_LIMIT + 1, 1, &c), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(ntlmd_challenges_new(10, 0, &c), NTLM_ERR_INVALID_ARGUMENT);
	ntlmd_challenges_free(c);
}
END_TEST

static void challenge_key(uint32_t i, uint8_t tag, uint8_t k[8])
{
	memset(k, 0, 8);
	for (int j = 0; j < 4; j++)
		k[j] = (uint8_t)(i >> (8 * j));
	k[7] = tag;
}

/* The ring grows on demand (doubling, rebuilding its buckets) and shrinks
 * back when emptied; every entry stays findable. */
START_TEST(challenge_table_grows_and_shrinks)
{
	struct ntlmd_challenges *c;
	uint8_t k[8];
	bool issued;
	const uint32_t n = 50000;

	ck_assert_status(ntlmd_challenges_new(100000, 100000, &c), NTLM_OK);
	ck_assert_uint_eq(ntlmd_challenges_capacity(c), NTLMD_CHALLENGES_INITIAL);
	ck_assert_uint_eq(ntlmd_challenges_memory(c), NTLMD_CHALLENGES_INITIAL * (28 + 4));
	for (uint32_t i = 0; i < n; i++) {
		challenge_key(i, 1, k);
		ck_assert_status(ntlmd_challenges_issue(c, k, "s", 7, 1000, 300000, 600000), NTLM_OK);
	}
	ck_assert_uint_eq(ntlmd_challenges_count(c), n);
	ck_assert_uint_eq(ntlmd_challenges_capacity(c), 65536);
	ck_assert_uint_eq(ntlmd_challenges_pending(c, 7), n);
	for (uint32_t i = 0; i < n; i++) {
		challenge_key(i, 1, k);
		ck_assert_status(ntlmd_challenges_use(c, k, "s", 2000, 600000, &issued), NTLM_OK);
		ck_assert(issued);
		ck_assert_status(ntlmd_challenges_use(c, k, "s", 2000, 600000, &issued),
		                 NTLM_STATUS_CHALLENGE_EXPIRED);
	}
	/* used entries do not count as pending */
	challenge_key(n, 1, k);
	ck_assert_status(ntlmd_challenges_issue(c, k, "s", 7, 2000, 300000, 600000), NTLM_OK);
	ck_assert_uint_eq(ntlmd_challenges_pending(c, 7), 1);
	/* past the retention: purged, and the ring halves on each call down
	 * to its initial size */
	for (int i = 0; i < 8; i++)
		ck_assert_status(ntlmd_challenges_use(c, (uint8_t[8]){9, 9}, "s", 700000 + i, 1000, &issued),
		                 i == 0 ? NTLM_OK : NTLM_STATUS_CHALLENGE_EXPIRED);
	ck_assert_uint_eq(ntlmd_challenges_count(c), 1);
	ck_assert_uint_eq(ntlmd_challenges_capacity(c), NTLMD_CHALLENGES_INITIAL);
	ntlmd_challenges_free(c);
}
END_TEST

/* A used challenge is refused for the whole retention given (rounded up
 * to the second), then forgotten. */
START_TEST(challenge_table_retention)
{
	struct ntlmd_challenges *c;
	uint8_t a[8] = {0x42}, b[8] = {0x43};
	bool issued;
	const int64_t t = 5000, retain = 3600 * 1000;

	ck_assert_status(ntlmd_challenges_new(1000, 100, &c), NTLM_OK);
	ck_assert_status(ntlmd_challenges_issue(c, b, "s", 0, t, 300000, 2100000), NTLM_OK);
	ck_assert_status(ntlmd_challenges_issue(c, a, "s", 0, t, 300000, 2100000), NTLM_OK);
	ck_assert_status(ntlmd_challenges_use(c, a, "s", t + 500, retain, &issued), NTLM_OK);
	ck_assert_status(ntlmd_challenges_use(c, b, "s", t + 500, retain, &issued), NTLM_OK);
	/* the use extends the issue's retention (2100 s) to the used one */
	ck_assert_status(ntlmd_challenges_use(c, a, "s", t + 500 + retain - 1000, retain, &issued),
	                 NTLM_STATUS_CHALLENGE_EXPIRED);
	/* b (at the head of the ring), not tried again meanwhile, is
	 * forgotten after it: a challenge the caller built */
	ck_assert_status(ntlmd_challenges_use(c, b, "s", t + 500 + retain + 1000, retain, &issued), NTLM_OK);
	ck_assert(!issued);
	/* each refused try keeps a for one more retention */
	ck_assert_status(ntlmd_challenges_use(c, a, "s", t + 500 + retain + 1000, retain, &issued),
	                 NTLM_STATUS_CHALLENGE_EXPIRED);
	ntlmd_challenges_free(c);
}
END_TEST

/* One uid holding max_pending_per_uid unused challenges is refused; other
 * uids are not; a use or the end of a lifetime frees a place. */
START_TEST(challenge_table_uid_cap)
{
	struct ntlmd_challenges *c;
	uint8_t k[8], first[8];
	bool issued;
	uint32_t i;

	ck_assert_status(ntlmd_challenges_new(1000, 10, &c), NTLM_OK);
	for (i = 0; i < 10; i++) {
		challenge_key(i, 2, k);
		ck_assert_status(ntlmd_challenges_issue(c, k, "s", 65534, 1000, 3000, 9000), NTLM_OK);
	}
	challenge_key(i++, 2, k);
	ck_assert_status(ntlmd_challenges_issue(c, k, "s", 65534, 1000, 3000, 9000),
	                 NTLM_ERR_INSUFFICIENT_RESOURCES);
	ck_assert_int_eq(ntlmd_challenges_limit_hit(c), NTLMD_LIMIT_UID);
	ck_assert_uint_eq(ntlmd_challenges_pending(c, 65534), 10);
	/* root and another uid still get challenges */
	challenge_key(i++, 2, k);
	ck_assert_status(ntlmd_challenges_issue(c, k, "s", 0, 1000, 3000, 9000), NTLM_OK);
	challenge_key(i++, 2, k);
	ck_assert_status(ntlmd_challenges_issue(c, k, "s", 13, 1000, 3000, 9000), NTLM_OK);
	/* challenges the caller built (used entries) are not counted */
	for (uint32_t j = 0; j < 20; j++) {
		challenge_key(j, 3, k);
		ck_assert_status(ntlmd_challenges_use(c, k, "s", 1500, 9000, &issued), NTLM_OK);
	}
	/* a use frees one place */
	challenge_key(0, 2, first);
	ck_assert_status(ntlmd_challenges_use(c, first, "s", 1500, 9000, &issued), NTLM_OK);
	challenge_key(i++, 2, k);
	ck_assert_status(ntlmd_challenges_issue(c, k, "s", 65534, 1500, 3000, 9000), NTLM_OK);
	challenge_key(i++, 2, k);
	ck_assert_status(ntlmd_challenges_issue(c, k, "s", 65534, 1500, 3000, 9000),
	                 NTLM_ERR_INSUFFICIENT_RESOURCES);
	/* past their lifetime (still remembered, as expired) they no longer
	 * count */
	ck_assert_status(ntlmd_challenges_issue(c, k, "s", 65534, 6000, 3000, 9000), NTLM_OK);
	ck_assert_uint_eq(ntlmd_challenges_pending(c, 65534), 1);
	challenge_key(1, 2, k);
	ck_assert_status(ntlmd_challenges_use(c, k, "s", 6000, 9000, &issued), NTLM_STATUS_CHALLENGE_EXPIRED);
	/* a new limit applies at once */
	ck_assert_status(ntlmd_challenges_set_limits(c, 1000, 1), NTLM_OK);
	challenge_key(i++, 2, k);
	ck_assert_status(ntlmd_challenges_issue(c, k, "s", 65534, 6000, 3000, 9000),
	                 NTLM_ERR_INSUFFICIENT_RESOURCES);
	ck_assert_status(ntlmd_challenges_set_limits(c, 0, 1), NTLM_ERR_INVALID_ARGUMENT);
	ntlmd_challenges_free(c);
}
END_TEST

/* A challenge for uid and a client address, usable 3 s, kept 9 s. */
static enum ntlm_status issue_at(struct ntlmd_challenges *c, const uint8_t k[8], uint32_t uid,
                                 const char *address, size_t max_per_address, int64_t now)
{
	const struct ntlmd_issue req = {.service = "s",
	                                .uid = uid,
	                                .address = address,
	                                .max_pending_per_address = max_per_address,
	                                .now = now,
	                                .valid_ms = 3000,
	                                .retain_ms = 9000};

	return ntlmd_challenges_issue_for(c, k, &req);
}

/* One uid may hold max_pending_per_address unused challenges for one
 * client address: other addresses, the same address for another uid and
 * requests without an address are not refused; an IPv6 address counts by
 * its /64, an IPv4-mapped one as its IPv4 address; a use or the end of a
 * lifetime frees a place. */
START_TEST(challenge_table_address_cap)
{
	struct ntlmd_challenges *c;
	uint8_t k[8], first[8];
	bool issued;
	uint32_t i = 0;

	ck_assert_status(ntlmd_challenges_new(1000, 100, &c), NTLM_OK);
	for (int n = 0; n < 5; n++) {
		challenge_key(i++, 6, k);
		ck_assert_status(issue_at(c, k, 13, "192.0.2.1", 5, 1000), NTLM_OK);
	}
	challenge_key(i++, 6, k);
	ck_assert_status(issue_at(c, k, 13, "192.0.2.1", 5, 1000), NTLM_ERR_INSUFFICIENT_RESOURCES);
	ck_assert_int_eq(ntlmd_challenges_limit_hit(c), NTLMD_LIMIT_ADDRESS);
	ck_assert_status(issue_at(c, k, 13, "::ffff:192.0.2.1", 5, 1000), NTLM_ERR_INSUFFICIENT_RESOURCES);
	ck_assert_uint_eq(ntlmd_challenges_pending_address(c, 13, "192.0.2.1"), 5);
	ck_assert_uint_eq(ntlmd_challenges_pending_address(c, 13, "::ffff:192.0.2.1"), 5);
	ck_assert_uint_eq(ntlmd_challenges_pending(c, 13), 5);
	/* another address, another uid, no address: each counted apart */
	ck_assert_status(issue_at(c, k, 13, "192.0.2.2", 5, 1000), NTLM_OK);
	challenge_key(i++, 6, k);
	ck_assert_status(issue_at(c, k, 14, "192.0.2.1", 5, 1000), NTLM_OK);
	challenge_key(i++, 6, k);
	ck_assert_status(issue_at(c, k, 13, NULL, 5, 1000), NTLM_OK);
	challenge_key(i++, 6, k);
	ck_assert_status(issue_at(c, k, 13, "", 5, 1000), NTLM_OK);
	ck_assert_uint_eq(ntlmd_challenges_pending_address(c, 13, "192.0.2.2"), 1);
	ck_assert_uint_eq(ntlmd_challenges_pending_address(c, 14, "192.0.2.1"), 1);
	ck_assert_uint_eq(ntlmd_challenges_pending_address(c, 13, NULL), 2);
	ck_assert_uint_eq(ntlmd_challenges_pending(c, 13), 8);
	ck_assert_uint_eq(ntlmd_challenges_groups(c), 4);
	/* IPv6: one /64 */
	for (int n = 0; n < 2; n++) {
		challenge_key(i++, 6, k);
		ck_assert_status(issue_at(c, k, 13, n == 0 ? "2001:db8::1" : "2001:DB8:0:0:ffff::2", 2, 1000),
		                 NTLM_OK);
	}
	challenge_key(i++, 6, k);
	ck_assert_status(issue_at(c, k, 13, "2001:db8::ffff:1", 2, 1000), NTLM_ERR_INSUFFICIENT_RESOURCES);
	ck_assert_status(issue_at(c, k, 13, "2001:db8:0:1::1", 2, 1000), NTLM_OK);
	/* a name, or text that is no address, counts as it is */
	challenge_key(i++, 6, k);
	ck_assert_status(issue_at(c, k, 13, "client.example", 1, 1000), NTLM_OK);
	challenge_key(i++, 6, k);
	ck_assert_status(issue_at(c, k, 13, "client.example", 1, 1000), NTLM_ERR_INSUFFICIENT_RESOURCES);
	ck_assert_status(issue_at(c, k, 13, "client.example.", 1, 1000), NTLM_OK);
	/* a use frees a place */
	challenge_key(0, 6, first);
	ck_assert_status(ntlmd_challenges_use(c, first, "s", 1500, 9000, &issued), NTLM_OK);
	ck_assert(issued);
	challenge_key(i++, 6, k);
	ck_assert_status(issue_at(c, k, 13, "192.0.2.1", 5, 1500), NTLM_OK);
	challenge_key(i++, 6, k);
	ck_assert_status(issue_at(c, k, 13, "192.0.2.1", 5, 1500), NTLM_ERR_INSUFFICIENT_RESOURCES);
	/* a smaller limit refuses at once */
	ck_assert_status(issue_at(c, k, 13, "192.0.2.2", 1, 1500), NTLM_ERR_INSUFFICIENT_RESOURCES);
	/* past their lifetime they no longer count, and their groups go */
	ck_assert_status(issue_at(c, k, 13, "192.0.2.1", 5, 6000), NTLM_OK);
	ck_assert_uint_eq(ntlmd_challenges_pending_address(c, 13, "192.0.2.1"), 1);
	ck_assert_uint_eq(ntlmd_challenges_pending(c, 13), 1);
	ck_assert_uint_eq(ntlmd_challenges_groups(c), 1);
	/* remembered as expired until their retention ends */
	challenge_key(1, 6, k);
	ck_assert_status(ntlmd_challenges_use(c, k, "s", 6000, 9000, &issued), NTLM_STATUS_CHALLENGE_EXPIRED);
	ck_assert_status(issue_at(c, k, 13, "192.0.2.1", 0, 6000), NTLM_ERR_INVALID_ARGUMENT);
	ntlmd_challenges_free(c);
}
END_TEST

/* The flood of issue 13: one front end (uid 13) relays NEGOTIATEs from
 * address A that are never answered, while address B logs on. A is
 * stopped at its own limit, and B gets a usable challenge every time. */
START_TEST(challenge_table_address_flood)
{
	struct ntlmd_challenges *c;
	uint8_t k[8];
	bool issued;
	uint32_t granted = 0;

	ck_assert_status(ntlmd_challenges_new(100000, 10000, &c), NTLM_OK);
	for (uint32_t i = 0; i < 200000; i++) {
		int64_t now = 1000 + i / 100; /* 100 a millisecond */

		challenge_key(i, 7, k);
		if (issue_at(c, k, 13, "192.0.2.66", 1000, now) == NTLM_OK)
			granted++;
		else
			ck_assert_int_eq(ntlmd_challenges_limit_hit(c), NTLMD_LIMIT_ADDRESS);
		if (i % 1000 != 0)
			continue;
		challenge_key(i, 8, k);
		ck_assert_status(issue_at(c, k, 13, "198.51.100.7", 1000, now), NTLM_OK);
		ck_assert_status(ntlmd_challenges_use(c, k, "s", now, 9000, &issued), NTLM_OK);
		ck_assert(issued);
	}
	ck_assert_uint_eq(granted, 1000);
	ck_assert_uint_eq(ntlmd_challenges_pending(c, 13), 1000);
	ck_assert_uint_le(ntlmd_challenges_count(c), 1200);
	ck_assert_uint_eq(ntlmd_challenges_capacity(c), NTLMD_CHALLENGES_INITIAL);
	ck_assert_uint_eq(ntlmd_challenges_forgotten(c), 0);
	ntlmd_challenges_free(c);
}
END_TEST

/* A flood from many addresses (each under its limit) brings the uid to
 * its own limit: a request with an address is then served by forgetting
 * the oldest unused challenges, so the uid's pending challenges, the table
 * and the groups stay bounded, and B still gets a usable challenge; an
 * answer to a forgotten challenge is taken as one to a challenge the
 * caller built. A request without an address is refused, as before. */
START_TEST(challenge_table_many_addresses)
{
	struct ntlmd_challenges *c;
	uint8_t k[8], oldest[8], other[8];
	char address[64];
	bool issued;

	ck_assert_status(ntlmd_challenges_new(100000, 1000, &c), NTLM_OK);
	challenge_key(0, 10, other); /* another uid's, older than the flood */
	ck_assert_status(issue_at(c, other, 14, "192.0.2.99", 1000, 1000), NTLM_OK);
	for (uint32_t i = 0; i < 50000; i++) {
		snprintf(address, sizeof(address), "2001:db8:%x:%x::1", i >> 16, i & 0xffff);
		challenge_key(i, 9, k);
		ck_assert_status(issue_at(c, k, 13, address, 1000, 1000 + i / 100), NTLM_OK);
		ck_assert_uint_le(ntlmd_challenges_pending(c, 13), 1000);
		if (i % 5000 != 0)
			continue;
		challenge_key(i, 11, k);
		ck_assert_status(issue_at(c, k, 13, "198.51.100.7", 1000, 1000 + i / 100), NTLM_OK);
		ck_assert_status(ntlmd_challenges_use(c, k, "s", 1000 + i / 100, 9000, &issued), NTLM_OK);
		ck_assert(issued);
	}
	ck_assert_uint_eq(ntlmd_challenges_pending(c, 13), 1000);
	ck_assert_uint_le(ntlmd_challenges_groups(c), 1001);
	ck_assert_uint_ge(ntlmd_challenges_forgotten(c), 49000);
	ck_assert_uint_le(ntlmd_challenges_capacity(c), 2 * NTLMD_CHALLENGES_INITIAL);
	/* without an address: the uid's limit refuses */
	challenge_key(1, 12, k);
	ck_assert_status(ntlmd_challenges_issue(c, k, "s", 13, 1500, 3000, 9000),
	                 NTLM_ERR_INSUFFICIENT_RESOURCES);
	ck_assert_int_eq(ntlmd_challenges_limit_hit(c), NTLMD_LIMIT_UID);
	/* forgotten ones (the oldest of uid 13, and uid 14's, older still)
	 * are unknown: their answers are first uses of a caller's challenge */
	challenge_key(0, 9, oldest);
	issued = true;
	ck_assert_status(ntlmd_challenges_use(c, oldest, "s", 1500, 9000, &issued), NTLM_OK);
	ck_assert(!issued);
	ck_assert_status(ntlmd_challenges_use(c, oldest, "s", 1500, 9000, &issued),
	                 NTLM_STATUS_CHALLENGE_EXPIRED);
	ck_assert_status(ntlmd_challenges_use(c, other, "s", 1500, 9000, &issued), NTLM_OK);
	ck_assert(!issued);
	ck_assert_uint_eq(ntlmd_challenges_pending(c, 14), 0);
	/* the most recent ones are still there, as issued */
	challenge_key(49999, 9, k);
	ck_assert_status(ntlmd_challenges_use(c, k, "s", 1500, 9000, &issued), NTLM_OK);
	ck_assert(issued);
	/* all past their lifetime: nothing pending, no group left */
	challenge_key(2, 12, k);
	ck_assert_status(ntlmd_challenges_use(c, k, "s", 20000, 9000, &issued), NTLM_OK);
	ck_assert_uint_eq(ntlmd_challenges_pending(c, 13), 0);
	ck_assert_uint_eq(ntlmd_challenges_groups(c), 0);
	ntlmd_challenges_free(c);
}
END_TEST

/* Long-retained entries at the head keep expired ones behind them: when
 * the table is full a compaction drops those wherever they are, settles
 * the lifetimes, and keeps every live entry. */
START_TEST(challenge_table_compaction_mixed)
{
	struct ntlmd_challenges *c;
	uint8_t k[8];
	bool issued;

	ck_assert_status(ntlmd_challenges_new(1000, 1000, &c), NTLM_OK);
	for (uint32_t i = 0; i < 1000; i++) {
		challenge_key(i, 4, k);
		if (i % 2 == 0) /* used, kept 100 s */
			ck_assert_status(ntlmd_challenges_use(c, k, "s", 1000, 100000, &issued), NTLM_OK);
		else /* issued and unused: usable 1 s, kept 2 s */
			ck_assert_status(ntlmd_challenges_issue(c, k, "s", 5, 1000, 1000, 2000), NTLM_OK);
	}
	ck_assert_uint_eq(ntlmd_challenges_pending(c, 5), 500);
	challenge_key(1000, 4, k);
	ck_assert_status(ntlmd_challenges_use(c, k, "s", 2000, 100000, &issued),
	                 NTLM_ERR_INSUFFICIENT_RESOURCES);
	ck_assert_status(ntlmd_challenges_use(c, k, "s", 3500, 100000, &issued), NTLM_OK);
	ck_assert_uint_eq(ntlmd_challenges_count(c), 501);
	ck_assert_uint_eq(ntlmd_challenges_pending(c, 5), 0);
	challenge_key(1001, 4, k);
	ck_assert_status(ntlmd_challenges_issue(c, k, "s", 5, 3500, 1000, 2000), NTLM_OK);
	ck_assert_uint_eq(ntlmd_challenges_pending(c, 5), 1);
	for (uint32_t i = 0; i < 800; i++) {
		challenge_key(i, 4, k);
		/* the used ones are still refused; the dropped ones are unknown */
		ck_assert_status(ntlmd_challenges_use(c, k, "s", 3500, 100000, &issued),
		                 i % 2 == 0 ? NTLM_STATUS_CHALLENGE_EXPIRED : NTLM_OK);
		if (i % 2 != 0)
			ck_assert(!issued);
	}
	ck_assert_uint_eq(ntlmd_challenges_count(c), 902);
	ntlmd_challenges_free(c);
}
END_TEST

START_TEST(challenge_table_many)
{
	struct ntlmd_challenges *c;
	bool issued;

	ck_assert_status(ntlmd_challenges_new(1000, 1000, &c), NTLM_OK);
	/* entries with mixed retention wrap around the ring many times */
	for (uint32_t i = 0; i < 20000; i++) {
		uint8_t k[8] = {(uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16), 0x5a};
		int64_t now = (int64_t)i * 10;

		ck_assert_status(
		    ntlmd_challenges_issue(c, k, "s", i % 3, now, 1000, i % 7 == 0 ? 9000 : 2000), NTLM_OK);
		if (i % 3 == 0)
			ck_assert_status(ntlmd_challenges_use(c, k, "s", now, 3000, &issued), NTLM_OK);
		ck_assert_uint_le(ntlmd_challenges_count(c), 1000);
	}
	ntlmd_challenges_free(c);
}
END_TEST

START_TEST(lockout_table)
{
	struct ntlmd_lockout *l;
	const struct ntlmd_lockout_rule rule = {.threshold = 3, .window_s = 10, .duration_s = 60};
	const struct ntlmd_lockout_rule off = {0};
	int64_t left = 0;

	ck_assert_status(ntlmd_lockout_new(2, &l), NTLM_OK);
	ck_assert(!ntlmd_lockout_fail(l, "u:alice", &off, 0));
	ck_assert_uint_eq(ntlmd_lockout_count(l), 0);
	ck_assert(!ntlmd_lockout_fail(l, "u:alice", &rule, 0));
	ck_assert(!ntlmd_lockout_fail(l, "u:alice", &rule, 1000));
	/* the window passed: counting starts again */
	ck_assert(!ntlmd_lockout_fail(l, "u:alice", &rule, 11000));
	ck_assert(!ntlmd_lockout_fail(l, "u:alice", &rule, 12000));
	ck_assert(!ntlmd_lockout_locked(l, "u:alice", 12000, NULL));
	ck_assert(ntlmd_lockout_fail(l, "u:alice", &rule, 13000));
	ck_assert(ntlmd_lockout_locked(l, "u:alice", 13000, &left));
	ck_assert_int_eq(left, 60);
	ck_assert(ntlmd_lockout_locked(l, "u:alice", 72999, NULL));
	ck_assert(!ntlmd_lockout_locked(l, "u:alice", 73000, NULL));
	ck_assert(!ntlmd_lockout_locked(l, "u:bob", 13000, NULL));
	/* bounded: a third key pushes out the least recently touched key that
	 * is not locked (a flood of new keys unlocks nothing) ... */
	ck_assert(!ntlmd_lockout_fail(l, "a:192.0.2.1", &rule, 14000));
	ck_assert(!ntlmd_lockout_fail(l, "a:192.0.2.2", &rule, 14000));
	ck_assert_uint_eq(ntlmd_lockout_count(l), 2);
	ck_assert(ntlmd_lockout_locked(l, "u:alice", 14000, NULL));
	ntlmd_lockout_clear(l, "a:192.0.2.2");
	ck_assert_uint_eq(ntlmd_lockout_count(l), 1);
	/* ... and the oldest when every one is locked */
	for (int i = 0; i < 3; i++)
		(void)ntlmd_lockout_fail(l, "a:192.0.2.4", &rule, 14000);
	ck_assert(ntlmd_lockout_locked(l, "a:192.0.2.4", 14000, NULL));
	ck_assert(!ntlmd_lockout_fail(l, "a:192.0.2.5", &rule, 14000));
	ck_assert(!ntlmd_lockout_locked(l, "u:alice", 14000, NULL));
	ck_assert(ntlmd_lockout_locked(l, "a:192.0.2.4", 14000, NULL));
	ntlmd_lockout_clear(l, "a:192.0.2.4");
	ck_assert_uint_eq(ntlmd_lockout_count(l), 1);
	/* a key counted under a long window is not restarted by a failure
	 * under a shorter one (another service's lockout_window) */
	{
		const struct ntlmd_lockout_rule brief = {.threshold = 3, .window_s = 1, .duration_s = 60};
		ck_assert(!ntlmd_lockout_fail(l, "a:192.0.2.6", &rule, 20000));
		ck_assert(!ntlmd_lockout_fail(l, "a:192.0.2.6", &rule, 21000));
		ck_assert(ntlmd_lockout_fail(l, "a:192.0.2.6", &brief, 25000));
		ntlmd_lockout_clear(l, "a:192.0.2.6");
	}
	/* stale entries go by themselves */
	ck_assert(!ntlmd_lockout_fail(l, "a:192.0.2.3", &rule, 100000));
	ck_assert_uint_eq(ntlmd_lockout_count(l), 1);
	ntlmd_lockout_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Audit records                                                       */

START_TEST(audit_escaping)
{
	struct ntlmd_audit_event e;
	char *json, *text;
	char long_name[NTLMD_AUDIT_TEXT * 2];

	ntlmd_audit_reset(&e);
	e.request = "VERIFY";
	e.uid = 13;
	e.pid = 42;
	e.status = NTLM_STATUS_WRONG_PASSWORD;
	e.has_verdicts = true;
	e.mic = NTLM_VERDICT_VALID;
	ntlmd_audit_set(e.user, "a\"b\\c\nd\x01");
	ntlmd_audit_set(e.service, "squid");
	json = ntlmd_audit_json(&e, 1700000000123456);
	ck_assert_ptr_nonnull(json);
	ck_assert_ptr_nonnull(strstr(json, "\"user\":\"a\\\"b\\\\c\\u000ad\\u0001\""));
	ck_assert_ptr_nonnull(strstr(json, "\"time\":\"2023-11-14T22:13:20.123456Z\""));
	ck_assert_ptr_nonnull(strstr(json, "\"status\":\"STATUS_WRONG_PASSWORD\",\"code\":\"0xC000006A\""));
	ck_assert_ptr_nonnull(strstr(json, "\"mic_present\":true,\"mic_verified\":true"));
	ck_assert_ptr_nonnull(strstr(json, "\"outcome\":\"failure\""));
	ck_assert_ptr_nonnull(strstr(json, "\"workstation\":null"));
	ck_assert_ptr_null(strchr(json, '\n'));
	text = ntlmd_audit_text(&e);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "user=\"a\\\"b\\\\c\\x0ad\\x01\""));
	ck_assert_ptr_nonnull(strstr(text, "uid=13 pid=42"));
	free(json);
	free(text);

	/* cut at a character boundary, and marked */
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	memcpy(long_name + NTLMD_AUDIT_TEXT - 5, "\xc3\xa9\xc3\xa9", 4);
	ntlmd_audit_set(e.user, long_name);
	ck_assert(ntlmd_string_valid(e.user, strlen(e.user)));
	ck_assert_uint_lt(strlen(e.user), NTLMD_AUDIT_TEXT);
	ck_assert_str_eq(e.user + strlen(e.user) - 3, "...");

	ck_assert_str_eq(ntlmd_audit_outcome(NTLM_OK), "success");
	ck_assert_str_eq(ntlmd_audit_outcome(NTLM_ERR_TRUNCATED), "malformed");
	ck_assert_str_eq(ntlmd_audit_outcome(NTLM_STATUS_CHALLENGE_EXPIRED), "failure");
	ck_assert_str_eq(ntlmd_audit_outcome(NTLM_ERR_BACKEND_UNAVAILABLE), "error");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Handlers, without a socket                                          */

static struct ntlmd_config cfg;
static struct ntlmd_context hctx;
/* The audit record of the last request a test sent (request.h keeps it in
 * the request, which is freed with its reply). */
static struct ntlmd_audit_event last_event;
static const struct ntlmd_peer root = {.uid = 0, .gid = 0, .pid = 1};
static const struct ntlmd_peer stranger = {.uid = 4321, .gid = 4321, .pid = 2};
static const struct ntlmd_peer helper = {.uid = 1234, .gid = 1234, .pid = 3};

static void set_policy(const char *key, const char *value)
{
	struct ntlmd_config_error err;

	ck_assert_status_msg(key, ntlmd_config_set_policy(&cfg, key, value, &err), NTLM_OK);
}

static void handlers_setup(void)
{
	ntlmd_log_set_level(LOG_EMERG); /* quiet */
	fake_accounts_init();
	ck_assert_status(ntlmd_config_init(&cfg), NTLM_OK);
	free(cfg.netbios_name);
	free(cfg.netbios_domain);
	cfg.netbios_name = strdup("TESTSRV");
	cfg.netbios_domain = strdup("TESTDOM");
	cfg.allow_users = calloc(2, sizeof(char *));
	ck_assert_ptr_nonnull(cfg.allow_users);
	cfg.allow_users[0] = strdup("1234");
	fake_chain = fake_chain_new();
	{
		struct ntlmd_setup *setup = ntlmd_setup_new(&cfg, fake_chain, false);

		ck_assert_ptr_nonnull(setup);
		ck_assert_status(ntlmd_context_init(&hctx, setup), NTLM_OK);
		ntlmd_setup_unref(setup);
	}
}

static void handlers_teardown(void)
{
	ntlmd_context_clear(&hctx);
	ntlmd_backends_close(fake_chain);
	ntlmd_config_clear(&cfg);
}

/* cfg changed: the context takes it again, as after a SIGHUP. */
static void reload(void)
{
	struct ntlmd_setup *setup = ntlmd_setup_new(&cfg, fake_chain, false);

	ck_assert_ptr_nonnull(setup);
	ntlmd_context_reload(&hctx, setup);
	ntlmd_setup_unref(setup);
}

/* One request through its steps as the loop and a worker take it (the
 * worker's part inline), its reply in *ret_reply; the audit record is
 * left in last_event. */
static enum ntlm_status serve(const struct ntlmd_peer *peer, uint16_t type, const uint8_t *payload,
                              size_t len, uint8_t **ret_reply, size_t *ret_len)
{
	struct ntlmd_request *req = ntlmd_request_new(&hctx, peer, type, payload, len);
	struct ntlmd_writeback *w;
	enum ntlm_status st;

	if (req == NULL)
		return NTLM_ERR_WRONG_MESSAGE_TYPE;
	for (enum ntlmd_step step = ntlmd_request_start(&hctx, req); step == NTLMD_STEP_WAIT;
	     step = ntlmd_request_resume(&hctx, req)) {
		ntlmd_request_run_call(req);
		ntlmd_stats_count_call(&hctx.stats, &req->call);
	}
	st = ntlmd_request_finish(&hctx, req, ret_reply, ret_len);
	last_event = req->event;
	if ((w = ntlmd_request_take_writeback(req)) != NULL) {
		ntlmd_writeback_run(w);
		ntlmd_writeback_free(w);
	}
	ntlmd_request_free(req);
	return st;
}

/* Sends fields (consumed) as a request of type through ntlmd_dispatch and
 * decodes the reply into *ret; returns the reply's status. */
static enum ntlm_status request(const struct ntlmd_peer *peer, uint16_t type, struct ntlm_writer *fields,
                                struct ntlmd_frame *ret)
{
	uint8_t *req, *rep;
	size_t req_len, rep_len;
	enum ntlm_status st;

	ck_assert_status(ntlmd_frame_encode(type, fields, &req, &req_len), NTLM_OK);
	ntlm_writer_clear(fields);
	ck_assert_status(
	    serve(peer, type, req + NTLMD_HEADER_LEN, req_len - NTLMD_HEADER_LEN, &rep, &rep_len), NTLM_OK);
	ck_assert_status(ntlmd_frame_decode(rep, rep_len, ret), NTLM_OK);
	ck_assert_uint_eq(ret->type, type | NTLMD_REPLY);
	ck_assert_status(ntlmd_reply_status(ret, &st), NTLM_OK);
	ck_assert_status(last_event.status, st);
	free(req);
	free(rep);
	return st;
}

/* One NTLMSSP exchange through CHALLENGE and VERIFY. */
struct flow {
	uint8_t *neg, *chal, *auth;
	size_t neg_len, chal_len, auth_len;
	const char *service;
};

static void flow_clear(struct flow *x)
{
	free(x->neg);
	free(x->chal);
	free(x->auth);
	*x = (struct flow){0};
}

static struct ntlm_initiator_config client(const char *user, const char *password, enum ntlm_client_mode mode)
{
	return (struct ntlm_initiator_config){
	    .user = user, .domain = "TESTDOM", .workstation = "WS1", .password = password, .mode = mode};
}

/* NEGOTIATE, CHALLENGE from the daemon (or built by the caller when
 * foreign), AUTHENTICATE. */
static void flow_run(struct flow *x, const struct ntlm_initiator_config *c, const char *service, bool foreign)
{
	struct ntlm_writer w;
	struct ntlmd_frame r;
	const uint8_t *p;
	size_t n;

	*x = (struct flow){.service = service};
	ck_assert_status(ntlm_initiator_negotiate(c, &x->neg, &x->neg_len), NTLM_OK);
	if (foreign) {
		ck_assert_status(ntlm_acceptor_challenge(&hctx.names, x->neg, x->neg_len, ntlm_filetime_now(),
		                                         &x->chal, &x->chal_len),
		                 NTLM_OK);
	} else {
		ntlmd_fields_init(&w);
		ntlmd_put_string(&w, NTLMD_TAG_SERVICE, service);
		ntlmd_put_bytes(&w, NTLMD_TAG_NEGOTIATE, x->neg, x->neg_len);
		ck_assert_status(request(&root, NTLMD_REQ_CHALLENGE, &w, &r), NTLM_OK);
		ck_assert_status(ntlmd_frame_get_bytes(&r, NTLMD_TAG_CHALLENGE, &p, &n), NTLM_OK);
		x->chal = malloc(n);
		ck_assert_ptr_nonnull(x->chal);
		memcpy(x->chal, p, n);
		x->chal_len = n;
		ntlmd_frame_clear(&r);
	}
	ck_assert_status(ntlm_initiator_authenticate(c, x->neg, x->neg_len, x->chal, x->chal_len, &x->auth,
	                                             &x->auth_len, NULL),
	                 NTLM_OK);
}

static enum ntlm_status flow_verify(const struct flow *x, const char *address, struct ntlmd_frame *ret)
{
	struct ntlm_writer w;

	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_SERVICE, x->service);
	ntlmd_put_string(&w, NTLMD_TAG_CLIENT_ADDRESS, address);
	ntlmd_put_bytes(&w, NTLMD_TAG_NEGOTIATE, x->neg, x->neg_len);
	ntlmd_put_bytes(&w, NTLMD_TAG_CHALLENGE, x->chal, x->chal_len);
	ntlmd_put_bytes(&w, NTLMD_TAG_AUTHENTICATE, x->auth, x->auth_len);
	return request(&root, NTLMD_REQ_VERIFY, &w, ret);
}

/* A whole exchange by user with password; the VERIFY status. */
static enum ntlm_status logon(const char *user, const char *password, enum ntlm_client_mode mode,
                              const char *address)
{
	struct ntlm_initiator_config c = client(user, password, mode);
	struct flow x;
	struct ntlmd_frame r;
	enum ntlm_status st;

	flow_run(&x, &c, "pam", false);
	st = flow_verify(&x, address, &r);
	ntlmd_frame_clear(&r);
	flow_clear(&x);
	return st;
}

START_TEST(access_table)
{
	static const uint16_t privileged[] = {NTLMD_REQ_CHALLENGE,       NTLMD_REQ_VERIFY,
	                                      NTLMD_REQ_VERIFY_RESPONSE, NTLMD_REQ_CHECK_PASSWORD,
	                                      NTLMD_REQ_ACCOUNT_STATUS,  NTLMD_REQ_CHANGE_PASSWORD,
	                                      NTLMD_REQ_CHECK_MEMBERSHIP};
	const struct ntlmd_peer in_group = {.uid = 5555, .gid = 777, .pid = 4};
	const char *reason = NULL;

	ck_assert(ntlmd_request_allowed(&hctx, &stranger, NTLMD_REQ_PING, &reason));
	for (size_t i = 0; i < ARRAY_SIZE(privileged); i++) {
		ck_assert(ntlmd_request_allowed(&hctx, &root, privileged[i], &reason));
		ck_assert(ntlmd_request_allowed(&hctx, &helper, privileged[i], &reason));
		ck_assert(!ntlmd_request_allowed(&hctx, &stranger, privileged[i], &reason));
		ck_assert_str_eq(reason, "caller not in allow_users or allow_groups");
		ck_assert(!ntlmd_request_allowed(&hctx, &in_group, privileged[i], &reason));
	}
	ck_assert(!ntlmd_request_allowed(&hctx, &root, 99, &reason));
	ck_assert_str_eq(reason, "unknown request type");
	ck_assert(!ntlmd_request_allowed(&hctx, &root, NTLMD_REQ_PING | NTLMD_REPLY, &reason));

	/* a group by number (the caller's primary gid) */
	cfg.allow_groups = calloc(2, sizeof(char *));
	ck_assert_ptr_nonnull(cfg.allow_groups);
	cfg.allow_groups[0] = strdup("777");
	reload();
	ck_assert(ntlmd_request_allowed(&hctx, &in_group, NTLMD_REQ_VERIFY, &reason));
	ck_assert(!ntlmd_request_allowed(&hctx, &stranger, NTLMD_REQ_VERIFY, &reason));
}
END_TEST

START_TEST(ping_reports_version_and_counters)
{
	struct ntlm_writer w;
	struct ntlmd_frame r;
	uint64_t n = 99;

	ntlmd_fields_init(&w);
	ck_assert_status(request(&stranger, NTLMD_REQ_PING, &w, &r), NTLM_OK);
	ck_assert_ptr_nonnull(ntlmd_frame_string(&r, NTLMD_TAG_VERSION));
	ck_assert_status(ntlmd_frame_get_u64(&r, NTLMD_TAG_REQUESTS, &n), NTLM_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(last_event.request); /* nothing to audit */
	ntlmd_frame_clear(&r);
	ntlmd_fields_init(&w);
	ck_assert_status(request(&stranger, NTLMD_REQ_PING, &w, &r), NTLM_OK);
	ck_assert_status(ntlmd_frame_get_u64(&r, NTLMD_TAG_REQUESTS, &n), NTLM_OK);
	ck_assert_uint_eq(n, 1);
	ntlmd_frame_clear(&r);
}
END_TEST

/* The count of name in a STATS counts field (tag); absent names fail. */
static uint64_t stats_count(const struct ntlmd_frame *f, uint16_t tag, const char *name)
{
	struct ntlmd_stats_count c;
	struct ntlm_reader r;
	const uint8_t *p;
	size_t n;
	enum ntlm_status st;

	ck_assert_status(ntlmd_frame_get_bytes(f, tag, &p, &n), NTLM_OK);
	ntlm_reader_init(&r, p, n);
	while ((st = ntlmd_stats_next_count(&r, &c)) == NTLM_OK)
		if (strcmp(c.name, name) == 0)
			return c.value;
	ck_assert_msg(false, "no count %s in tag %u (%s)", name, tag, ntlm_status_name(st));
	return 0;
}

static uint64_t stats_sum(const struct ntlmd_frame *f, uint16_t tag)
{
	struct ntlmd_stats_count c;
	struct ntlm_reader r;
	const uint8_t *p;
	size_t n;
	uint64_t sum = 0;
	enum ntlm_status st;

	ck_assert_status(ntlmd_frame_get_bytes(f, tag, &p, &n), NTLM_OK);
	ntlm_reader_init(&r, p, n);
	while ((st = ntlmd_stats_next_count(&r, &c)) == NTLM_OK)
		sum += c.value;
	ck_assert_status(st, NTLM_ERR_TRUNCATED);
	return sum;
}

START_TEST(stats_reports_what_was_done)
{
	struct ntlmd_stats_histogram h;
	struct ntlm_writer w;
	struct ntlmd_frame r;
	const uint8_t *p;
	size_t n;
	uint64_t v;
	const char *reason = NULL;

	/* who may VERIFY may ask STATS, no one else */
	ck_assert(ntlmd_request_allowed(&hctx, &helper, NTLMD_REQ_STATS, &reason));
	ck_assert(!ntlmd_request_allowed(&hctx, &stranger, NTLMD_REQ_STATS, &reason));
	ck_assert_str_eq(reason, "caller not in allow_users or allow_groups");

	ck_assert_status(logon("alice", PASSWORD, NTLM_CLIENT_NTLMV2, NULL), NTLM_OK);
	ck_assert_status(logon("slowalice", PASSWORD, NTLM_CLIENT_NTLMV2, NULL), NTLM_OK); /* a worker's */
	ck_assert_status(logon("alice", "wrong", NTLM_CLIENT_NTLMV2, NULL), NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_status(logon("nobody", PASSWORD, NTLM_CLIENT_NTLMV2, NULL), NTLM_STATUS_NO_SUCH_USER);
	ntlmd_fields_init(&w);
	ck_assert_status(request(&stranger, NTLMD_REQ_PING, &w, &r), NTLM_OK);
	ntlmd_frame_clear(&r);

	ntlmd_fields_init(&w);
	ck_assert_status(request(&helper, NTLMD_REQ_STATS, &w, &r), NTLM_OK);
	ck_assert_ptr_null(last_event.request); /* a scrape is not audited */
	ck_assert_ptr_nonnull(ntlmd_frame_string(&r, NTLMD_TAG_VERSION));
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_REQUESTS, "VERIFY"), 4);
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_REQUESTS, "CHALLENGE"), 4);
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_REQUESTS, "PING"), 1);
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_REQUESTS, "STATS"), 0); /* counted once answered */
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_STATUSES, "STATUS_SUCCESS"), 2 + 4 + 1);
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_STATUSES, "STATUS_WRONG_PASSWORD"), 1);
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_STATUSES, "STATUS_NO_SUCH_USER"), 1);
	ck_assert_uint_eq(stats_sum(&r, NTLMD_TAG_STATS_STATUSES), 9);
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_OUTCOMES, "success"), 7);
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_OUTCOMES, "failure"), 2);
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_OUTCOMES, "error"), 0);
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_RESPONSE_TYPES, "NTLMv2"), 4);
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_RESPONSE_TYPES, "LM"), 0);
	ck_assert_uint_eq(stats_sum(&r, NTLMD_TAG_STATS_MIC), 4);
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_CHANNEL_BINDINGS, "absent"), 4);
	ck_assert_status(ntlmd_frame_get_bytes(&r, NTLMD_TAG_STATS_REQUEST_SECONDS, &p, &n), NTLM_OK);
	ck_assert_status(ntlmd_stats_read_histogram(p, n, &h), NTLM_OK);
	ck_assert_uint_eq(h.count, 9);
	ck_assert_status(ntlmd_frame_get_bytes(&r, NTLMD_TAG_STATS_STORE_SECONDS, &p, &n), NTLM_OK);
	ck_assert_status(ntlmd_stats_read_histogram(p, n, &h), NTLM_OK);
	ck_assert_uint_eq(h.count, 1); /* slowalice's lookup: the others were answered from memory */
	ck_assert_status(ntlmd_frame_get_u64(&r, NTLMD_TAG_CHALLENGE_CAPACITY, &v), NTLM_OK);
	ck_assert_uint_gt(v, 0);
	ck_assert(!ntlmd_frame_has(&r, NTLMD_TAG_STORE_BUSY)); /* no pool without a server */
	ntlmd_frame_clear(&r);
}
END_TEST

/* The largest STATS reply: every status counted, a store with more and
 * longer figures than a reply carries. It fits a frame, with the first
 * NTLMD_STATS_STORES records, their texts cut. */
START_TEST(stats_reply_stays_bounded)
{
	struct ntlmd_stats_store sr;
	struct ntlm_reader r;
	struct ntlmd_frame f;
	const uint8_t *p;
	uint8_t *rep;
	size_t n, rep_len, records = 0;
	enum ntlm_status st;

	for (size_t i = 0; i < _NTLM_STATUS_MAX; i++)
		hctx.stats.by_status[i] = UINT64_MAX;
	fake_stat_records = 1000;
	fake_stat_text = 4 * NTLMD_STATS_TEXT;
	ck_assert_status(serve(&helper, NTLMD_REQ_STATS, NULL, 0, &rep, &rep_len), NTLM_OK);
	ck_assert_uint_le(rep_len, NTLMD_HEADER_LEN + NTLMD_MAX_PAYLOAD);
	ck_assert_uint_lt(rep_len, NTLMD_HEADER_LEN + 45 * 1024); /* the bound docs/PROTOCOL.md gives */
	ck_assert_status(ntlmd_frame_decode(rep, rep_len, &f), NTLM_OK);
	ck_assert_status(ntlmd_reply_status(&f, &st), NTLM_OK);
	ck_assert_status(st, NTLM_OK);
	ck_assert_status(ntlmd_frame_get_bytes(&f, NTLMD_TAG_STATS_STORES, &p, &n), NTLM_OK);
	ntlm_reader_init(&r, p, n);
	while ((st = ntlmd_stats_next_store(&r, &sr)) == NTLM_OK) {
		ck_assert_str_eq(sr.store, "fake");
		ck_assert_uint_eq(strlen(sr.server), NTLMD_STATS_TEXT);
		ck_assert_uint_eq(sr.value, records);
		records++;
	}
	ck_assert_status(st, NTLM_ERR_TRUNCATED);
	ck_assert_uint_eq(records, NTLMD_STATS_STORES);
	ck_assert_uint_eq(stats_count(&f, NTLMD_TAG_STATS_STATUSES, "STATUS_WRONG_PASSWORD"), UINT64_MAX);
	fake_stat_records = fake_stat_text = 0;
	ntlmd_frame_clear(&f);
	free(rep);
}
END_TEST

/* A CHALLENGE from root for a client address (NULL: none); its status. */
static enum ntlm_status challenge_for(const char *address)
{
	struct ntlm_initiator_config c = client("alice", PASSWORD, NTLM_CLIENT_NTLMV2);
	struct ntlm_writer w;
	struct ntlmd_frame r;
	uint8_t *neg;
	size_t neg_len;
	enum ntlm_status st;

	ck_assert_status(ntlm_initiator_negotiate(&c, &neg, &neg_len), NTLM_OK);
	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_SERVICE, "squid");
	if (address != NULL)
		ntlmd_put_string(&w, NTLMD_TAG_CLIENT_ADDRESS, address);
	ntlmd_put_bytes(&w, NTLMD_TAG_NEGOTIATE, neg, neg_len);
	st = request(&root, NTLMD_REQ_CHALLENGE, &w, &r);
	ntlmd_frame_clear(&r);
	free(neg);
	return st;
}

/* CHALLENGE counts the unused challenges of each client address
 * (max_pending_challenges_per_address, from the configuration at each
 * request) and says which limit refused; with an address, the uid's limit
 * forgets the oldest instead of refusing; without, it refuses. */
START_TEST(challenge_limits_per_address)
{
	cfg.max_pending_challenges_per_uid = 10;
	cfg.max_pending_challenges_per_address = 3;
	reload();
	for (int i = 0; i < 3; i++)
		ck_assert_status(challenge_for("192.0.2.66"), NTLM_OK);
	ck_assert_status(challenge_for("192.0.2.66"), NTLM_ERR_INSUFFICIENT_RESOURCES);
	ck_assert_str_eq(last_event.detail, "challenge refused: max_pending_challenges_per_address reached");
	ck_assert_str_eq(last_event.client_address, "192.0.2.66");
	ck_assert_status(challenge_for("198.51.100.7"), NTLM_OK);
	ck_assert_status(logon("alice", PASSWORD, NTLM_CLIENT_NTLMV2, "198.51.100.7"), NTLM_OK);
	/* a reload applies at once */
	cfg.max_pending_challenges_per_address = 4;
	ck_assert_status(challenge_for("192.0.2.66"), NTLM_OK);
	/* 5 pending with an address; 5 more without, then the uid's limit */
	for (int i = 0; i < 5; i++)
		ck_assert_status(challenge_for(NULL), NTLM_OK);
	ck_assert_uint_eq(ntlmd_challenges_pending(hctx.challenges, 0), 10);
	ck_assert_status(challenge_for(NULL), NTLM_ERR_INSUFFICIENT_RESOURCES);
	ck_assert_str_eq(last_event.detail, "challenge refused: max_pending_challenges_per_uid reached");
	/* with an address: the oldest are forgotten, nothing is refused */
	for (int i = 0; i < 20; i++) {
		char address[32];

		snprintf(address, sizeof(address), "203.0.113.%d", i);
		ck_assert_status(challenge_for(address), NTLM_OK);
		ck_assert_uint_eq(ntlmd_challenges_pending(hctx.challenges, 0), 10);
	}
	ck_assert_uint_eq(ntlmd_challenges_forgotten(hctx.challenges), 20);
	ck_assert_uint_eq(ntlmd_challenges_pending_address(hctx.challenges, 0, "192.0.2.66"), 0);
	ck_assert_status(challenge_for("192.0.2.66"), NTLM_OK);
}
END_TEST

START_TEST(verify_ntlmv2_round_trip)
{
	struct ntlm_initiator_config c = client("alice", PASSWORD, NTLM_CLIENT_NTLMV2);
	struct flow x;
	struct ntlmd_frame r;
	const uint8_t *key;
	size_t key_len;

	flow_run(&x, &c, "pam", false);
	ck_assert_status(flow_verify(&x, "192.0.2.1", &r), NTLM_OK);
	ck_assert_str_eq(ntlmd_frame_string(&r, NTLMD_TAG_AUTH_USER), "TESTDOM\\alice");
	ck_assert_str_eq(ntlmd_frame_string(&r, NTLMD_TAG_AUTH_DOMAIN), "TESTDOM");
	ck_assert_str_eq(ntlmd_frame_string(&r, NTLMD_TAG_WORKSTATION), "WS1");
	ck_assert_str_eq(ntlmd_frame_string(&r, NTLMD_TAG_RESPONSE_TYPE), "NTLMv2");
	ck_assert_str_eq(ntlmd_frame_string(&r, NTLMD_TAG_MIC), "valid");
	ck_assert_status(ntlmd_frame_get_bytes(&r, NTLMD_TAG_SESSION_KEY, &key, &key_len), NTLM_OK);
	ck_assert_uint_eq(key_len, 16);
	ck_assert_str_eq(last_event.user, "alice");
	ck_assert_str_eq(last_event.client_address, "192.0.2.1");
	ck_assert_str_eq(last_event.service, "pam");
	ntlmd_frame_clear(&r);

	/* the same AUTHENTICATE again: the challenge is used up */
	ck_assert_status(flow_verify(&x, "192.0.2.1", &r), NTLM_STATUS_CHALLENGE_EXPIRED);
	ck_assert(!ntlmd_frame_has(&r, NTLMD_TAG_SESSION_KEY));
	ntlmd_frame_clear(&r);
	flow_clear(&x);
}
END_TEST

START_TEST(verify_foreign_challenge_once)
{
	struct ntlm_initiator_config c = client("alice", PASSWORD, NTLM_CLIENT_NTLMV2);
	struct flow x;
	struct ntlmd_frame r;

	flow_run(&x, &c, "pam", true);
	ck_assert_status(flow_verify(&x, NULL, &r), NTLM_OK);
	ck_assert_str_eq(last_event.detail, "challenge built by the caller");
	ntlmd_frame_clear(&r);
	ck_assert_status(flow_verify(&x, NULL, &r), NTLM_STATUS_CHALLENGE_EXPIRED);
	ntlmd_frame_clear(&r);
	flow_clear(&x);
}
END_TEST

START_TEST(verify_outcomes)
{
	ck_assert_status(logon("alice", "wrong", NTLM_CLIENT_NTLMV2, NULL), NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_status(logon("nobody", PASSWORD, NTLM_CLIENT_NTLMV2, NULL), NTLM_STATUS_NO_SUCH_USER);
	ck_assert_status(logon("bob", PASSWORD, NTLM_CLIENT_NTLMV2, NULL), NTLM_STATUS_ACCOUNT_DISABLED);
	ck_assert_status(logon("bob", "wrong", NTLM_CLIENT_NTLMV2, NULL), NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_status(logon("dave", PASSWORD, NTLM_CLIENT_NTLMV2, NULL), NTLM_STATUS_ACCOUNT_LOCKED_OUT);
	/* the default policy: NTLMv2 only */
	ck_assert_status(logon("alice", PASSWORD, NTLM_CLIENT_NTLMV1, NULL), NTLM_STATUS_NTLM_BLOCKED);
	ck_assert_status(logon("alice", PASSWORD, NTLM_CLIENT_NTLMV1_ESS, NULL), NTLM_STATUS_NTLM_BLOCKED);
	set_policy("ntlm_auth", "ntlmv1-permitted");
	ck_assert_status(logon("alice", PASSWORD, NTLM_CLIENT_NTLMV1_ESS, NULL), NTLM_OK);
	ck_assert_str_eq(ntlm_response_type_name(last_event.response_type), "NTLMv1-ESS");
	set_policy("accepted_domains", "OTHER");
	ck_assert_status(logon("alice", PASSWORD, NTLM_CLIENT_NTLMV2, NULL), NTLM_STATUS_NO_SUCH_USER);
	ck_assert_str_eq(last_event.detail, "domain not in accepted_domains");
	set_policy("ntlm_auth", "disabled");
	{
		struct ntlm_writer w;
		struct ntlmd_frame r;

		ntlmd_fields_init(&w);
		ck_assert_status(request(&root, NTLMD_REQ_CHALLENGE, &w, &r), NTLM_STATUS_NTLM_BLOCKED);
		ntlmd_frame_clear(&r);
	}
}
END_TEST

START_TEST(verify_lockout)
{
	set_policy("lockout_threshold", "2");
	set_policy("lockout_account_threshold", "4");
	ck_assert_status(logon("alice", "wrong", NTLM_CLIENT_NTLMV2, "192.0.2.9"),
	                 NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_status(logon("alice", PASSWORD, NTLM_CLIENT_NTLMV2, "192.0.2.9"), NTLM_OK);
	ck_assert_status(logon("alice", "wrong", NTLM_CLIENT_NTLMV2, "192.0.2.9"),
	                 NTLM_STATUS_WRONG_PASSWORD);
	/* two failures lock the address (a success from it forgives none), not
	 * the account for the others */
	ck_assert_status(logon("alice", PASSWORD, NTLM_CLIENT_NTLMV2, "192.0.2.9"),
	                 NTLM_STATUS_ACCOUNT_LOCKED_OUT);
	ck_assert_str_eq(last_event.detail, "client address locked for 600s more");
	ck_assert_status(logon("alice", PASSWORD, NTLM_CLIENT_NTLMV2, "192.0.2.11"), NTLM_OK);
	/* the fourth failure from all addresses together locks it for every one */
	ck_assert_status(logon("alice", "wrong", NTLM_CLIENT_NTLMV2, "192.0.2.10"),
	                 NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_status(logon("alice", "wrong", NTLM_CLIENT_NTLMV2, "192.0.2.13"),
	                 NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_status(logon("alice", PASSWORD, NTLM_CLIENT_NTLMV2, "192.0.2.12"),
	                 NTLM_STATUS_ACCOUNT_LOCKED_OUT);
	ck_assert_str_eq(last_event.detail, "account locked for every address for 600s more");
	/* requests without an address count as one address of their own */
	ck_assert_status(logon("Root", "wrong", NTLM_CLIENT_NTLMV2, NULL), NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_status(logon("Root", "wrong", NTLM_CLIENT_NTLMV2, NULL), NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_status(logon("Root", PASSWORD, NTLM_CLIENT_NTLMV2, NULL), NTLM_STATUS_ACCOUNT_LOCKED_OUT);
	ck_assert_str_eq(last_event.detail, "account locked for this client address for 600s more");
	ck_assert_status(logon("Root", PASSWORD, NTLM_CLIENT_NTLMV2, "192.0.2.14"), NTLM_OK);
	/* unknown users lock the address that sends them */
	ck_assert_status(logon("ghost", "x", NTLM_CLIENT_NTLMV2, "192.0.2.66"), NTLM_STATUS_NO_SUCH_USER);
	ck_assert_status(logon("ghost", "x", NTLM_CLIENT_NTLMV2, "192.0.2.66"), NTLM_STATUS_NO_SUCH_USER);
	ck_assert_status(logon("bob", "wrong", NTLM_CLIENT_NTLMV2, "192.0.2.66"),
	                 NTLM_STATUS_ACCOUNT_LOCKED_OUT);
	ck_assert_status(logon("bob", "wrong", NTLM_CLIENT_NTLMV2, "192.0.2.67"), NTLM_STATUS_WRONG_PASSWORD);
}
END_TEST

START_TEST(verify_response_mschap)
{
	struct ntlm_writer w;
	struct ntlmd_frame r;
	struct ntlm_hash nt, key;
	const uint8_t challenge[8] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
	uint8_t response[24];
	const uint8_t *got;
	size_t got_len;

	ck_assert_status(ntlm_ntowfv1(PASSWORD, &nt), NTLM_OK);
	ck_assert_status(ntlm_desl(&nt, challenge, response), NTLM_OK);
	ck_assert_status(ntlm_v1_session_base_key(&nt, &key), NTLM_OK);
	set_policy("ntlm_auth", "mschapv2-and-ntlmv2-only");
	for (uint8_t mschapv2 = 0; mschapv2 < 2; mschapv2++) {
		ntlmd_fields_init(&w);
		ntlmd_put_string(&w, NTLMD_TAG_USER, "alice");
		ntlmd_put_bytes(&w, NTLMD_TAG_SERVER_CHALLENGE, challenge, sizeof(challenge));
		ntlmd_put_bytes(&w, NTLMD_TAG_NT_RESPONSE, response, sizeof(response));
		ntlmd_put_u8(&w, NTLMD_TAG_MSCHAPV2, mschapv2);
		if (mschapv2 == 0) {
			ck_assert_status(request(&helper, NTLMD_REQ_VERIFY_RESPONSE, &w, &r),
			                 NTLM_STATUS_NTLM_BLOCKED);
		} else {
			/* the challenge was used by the refused attempt: the caller draws a new one */
			ck_assert_status(request(&helper, NTLMD_REQ_VERIFY_RESPONSE, &w, &r),
			                 NTLM_STATUS_CHALLENGE_EXPIRED);
		}
		ntlmd_frame_clear(&r);
	}
	{
		uint8_t fresh[8] = {0x21, 0x43, 0x65, 0x87, 0xa9, 0xcb, 0xed, 0x0f};

		ck_assert_status(ntlm_desl(&nt, fresh, response), NTLM_OK);
		ntlmd_fields_init(&w);
		ntlmd_put_string(&w, NTLMD_TAG_USER, "alice");
		ntlmd_put_bytes(&w, NTLMD_TAG_SERVER_CHALLENGE, fresh, sizeof(fresh));
		ntlmd_put_bytes(&w, NTLMD_TAG_NT_RESPONSE, response, sizeof(response));
		ntlmd_put_u8(&w, NTLMD_TAG_MSCHAPV2, 1);
		ck_assert_status(request(&helper, NTLMD_REQ_VERIFY_RESPONSE, &w, &r), NTLM_OK);
		ck_assert_status(ntlmd_frame_get_bytes(&r, NTLMD_TAG_SESSION_KEY, &got, &got_len), NTLM_OK);
		ck_assert_uint_eq(got_len, 16);
		ck_assert_mem_eq(got, key.bytes, 16);
		ntlmd_frame_clear(&r);
	}
	/* STATS: MS-CHAPv2 apart from NTLMv1: the answer without MSCHAPV2 1 is
	 * an NTLMv1 response (refused by the policy), the last one MS-CHAPv2's;
	 * the one refused on its used challenge never got to its response */
	ntlmd_fields_init(&w);
	ck_assert_status(request(&helper, NTLMD_REQ_STATS, &w, &r), NTLM_OK);
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_RESPONSE_TYPES, "MS-CHAPv2"), 1);
	ck_assert_uint_eq(stats_count(&r, NTLMD_TAG_STATS_RESPONSE_TYPES, "NTLMv1"), 1);
	ntlmd_frame_clear(&r);
}
END_TEST

/* CHECK_PASSWORD / CHANGE_PASSWORD / ACCOUNT_STATUS of user. */
static enum ntlm_status plain(const struct ntlmd_peer *peer, uint16_t type, const char *user,
                              const char *password, const char *new_password)
{
	struct ntlm_writer w;
	struct ntlmd_frame r;
	enum ntlm_status st;

	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_USER, user);
	ntlmd_put_string(&w, NTLMD_TAG_PASSWORD, password);
	ntlmd_put_string(&w, NTLMD_TAG_NEW_PASSWORD, new_password);
	st = request(peer, type, &w, &r);
	if (st == NTLM_OK) { /* the canonical account, whatever the spelling asked */
		const struct fake_account *a = fake_find(user);
		char expected[128];
		ck_assert_ptr_nonnull(a);
		snprintf(expected, sizeof(expected), "TESTDOM\\%s", a->name);
		ck_assert_str_eq(ntlmd_frame_string(&r, NTLMD_TAG_AUTH_USER), expected);
		ck_assert_str_eq(ntlmd_frame_string(&r, NTLMD_TAG_ACCOUNT_NAME), a->name);
		ck_assert_str_eq(ntlmd_frame_string(&r, NTLMD_TAG_ACCOUNT_DOMAIN), "TESTDOM");
	}
	ntlmd_frame_clear(&r);
	return st;
}

/* CHECK_MEMBERSHIP: st, and in *ret_member the MEMBER field (-1: absent). */
static enum ntlm_status membership(const struct ntlmd_peer *peer, const char *user, const char *group,
                                   int *ret_member)
{
	struct ntlm_writer w;
	struct ntlmd_frame r;
	enum ntlm_status st;
	uint8_t member = 0;

	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_USER, user);
	ntlmd_put_string(&w, NTLMD_TAG_GROUP, group);
	st = request(peer, NTLMD_REQ_CHECK_MEMBERSHIP, &w, &r);
	*ret_member = ntlmd_frame_get_u8(&r, NTLMD_TAG_MEMBER, &member) == NTLM_OK ? member : -1;
	ntlmd_frame_clear(&r);
	return st;
}

START_TEST(check_membership)
{
	int member = 0;

	ck_assert_status(membership(&helper, "alice", "staff", &member), NTLM_OK);
	ck_assert_int_eq(member, 1);
	ck_assert_str_eq(last_event.request, "CHECK_MEMBERSHIP");
	ck_assert_status(membership(&helper, "bob", "staff", &member), NTLM_OK);
	ck_assert_int_eq(member, 0);
	ck_assert_status(membership(&helper, "alice", "nosuchgroup", &member), NTLM_STATUS_NO_SUCH_GROUP);
	ck_assert_int_eq(member, -1);
	ck_assert_status(membership(&helper, "alice", "broken", &member), NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_int_eq(member, -1);
	ck_assert_status(membership(&helper, "", "staff", &member), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(membership(&helper, "alice", "", &member), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_int_eq(member, -1);
	ck_assert(
	    !ntlmd_request_allowed(&hctx, &stranger, NTLMD_REQ_CHECK_MEMBERSHIP, &(const char *){NULL}));
}
END_TEST

/* A GROUP that is a SID reaches the stores in its canonical text; a
 * malformed one is STATUS_NTLM_BAD_ENCODING before any store is asked,
 * and the audit says why. */
START_TEST(check_membership_by_sid)
{
	int member = 0;

	ck_assert_status(membership(&helper, "alice", STAFF_SID, &member), NTLM_OK);
	ck_assert_int_eq(member, 1);
	ck_assert_str_eq(last_event.detail, "is a member of group " STAFF_SID " (fake)");
	ck_assert_status(membership(&helper, "alice", "s-1-5-21-1-2-3-1001", &member), NTLM_OK);
	ck_assert_int_eq(member, 1);
	ck_assert_status(membership(&helper, "bob", STAFF_SID, &member), NTLM_OK);
	ck_assert_int_eq(member, 0);
	ck_assert_status(membership(&helper, "alice", "S-1-5-21-1-2-3-1002", &member),
	                 NTLM_STATUS_NO_SUCH_GROUP);
	ck_assert_status(membership(&helper, "alice", "S-1-5-21-", &member), NTLM_ERR_BAD_ENCODING);
	ck_assert_int_eq(member, -1);
	ck_assert_int_eq(strncmp(last_event.detail, "GROUP is not a SID: ", 20), 0);
}
END_TEST

START_TEST(plaintext_requests)
{
	ck_assert_status(plain(&helper, NTLMD_REQ_CHECK_PASSWORD, "alice", PASSWORD, NULL), NTLM_OK);
	ck_assert_status(plain(&helper, NTLMD_REQ_CHECK_PASSWORD, "alice", "nope", NULL),
	                 NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_status(plain(&helper, NTLMD_REQ_CHECK_PASSWORD, "bob", PASSWORD, NULL),
	                 NTLM_STATUS_ACCOUNT_DISABLED);
	ck_assert_status(plain(&helper, NTLMD_REQ_CHECK_PASSWORD, "bob", "nope", NULL),
	                 NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_status(plain(&helper, NTLMD_REQ_CHECK_PASSWORD, "zed", "nope", NULL),
	                 NTLM_STATUS_NO_SUCH_USER);
	ck_assert_status(plain(&helper, NTLMD_REQ_CHECK_PASSWORD, "alice", NULL, NULL), NTLM_ERR_TRUNCATED);
	ck_assert_status(plain(&helper, NTLMD_REQ_ACCOUNT_STATUS, "alice", NULL, NULL), NTLM_OK);
	ck_assert_status(plain(&helper, NTLMD_REQ_ACCOUNT_STATUS, "bob", NULL, NULL),
	                 NTLM_STATUS_ACCOUNT_DISABLED);

	/* others must prove the old password; root need not */
	ck_assert_status(plain(&helper, NTLMD_REQ_CHANGE_PASSWORD, "alice", NULL, "New-pass1"),
	                 NTLM_ERR_TRUNCATED);
	ck_assert_status(plain(&helper, NTLMD_REQ_CHANGE_PASSWORD, "alice", "nope", "New-pass1"),
	                 NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_status(plain(&helper, NTLMD_REQ_CHANGE_PASSWORD, "alice", PASSWORD, "New-pass1"), NTLM_OK);
	ck_assert_status(plain(&helper, NTLMD_REQ_CHECK_PASSWORD, "alice", "New-pass1", NULL), NTLM_OK);
	ck_assert_status(plain(&root, NTLMD_REQ_CHANGE_PASSWORD, "alice", NULL, PASSWORD), NTLM_OK);
	ck_assert_status(plain(&helper, NTLMD_REQ_CHECK_PASSWORD, "alice", PASSWORD, NULL), NTLM_OK);
	ck_assert_status(plain(&root, NTLMD_REQ_CHANGE_PASSWORD, "alice", NULL, ""),
	                 NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(plain(&root, NTLMD_REQ_CHANGE_PASSWORD, "zed", NULL, "x"), NTLM_STATUS_NO_SUCH_USER);
}
END_TEST

/* SYNC_PASSWORD of user (NEW_PASSWORD new_password) as peer from address:
 * st, and in *ret_stored its PASSWORD_STORED (-1: absent). */
static enum ntlm_status sync_password(const struct ntlmd_peer *peer, const char *user,
                                      const char *new_password, const char *address, int *ret_stored)
{
	struct ntlm_writer w;
	struct ntlmd_frame r;
	enum ntlm_status st;
	uint8_t stored = 0;

	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_USER, user);
	ntlmd_put_string(&w, NTLMD_TAG_NEW_PASSWORD, new_password);
	ntlmd_put_u8(&w, NTLMD_TAG_EXACT_NAME, 1);
	if (address != NULL)
		ntlmd_put_string(&w, NTLMD_TAG_CLIENT_ADDRESS, address);
	st = request(peer, NTLMD_REQ_SYNC_PASSWORD, &w, &r);
	*ret_stored = ntlmd_frame_get_u8(&r, NTLMD_TAG_PASSWORD_STORED, &stored) == NTLM_OK ? stored : -1;
	ntlmd_frame_clear(&r);
	return st;
}

/* pam_ntlm's migrate: root only; "unchanged" writes nothing, "updated"
 * writes; refreshing stale hashes is never a failed logon: with lockout at
 * 2, a wrong password, then refreshes, then the right password passes. */
START_TEST(sync_password_counts_nothing)
{
	const char *reason = NULL;
	int stored = 0;

	ck_assert(!ntlmd_request_allowed(&hctx, &helper, NTLMD_REQ_SYNC_PASSWORD, &reason));
	ck_assert_str_eq(reason, "request reserved to root");
	ck_assert(ntlmd_request_allowed(&hctx, &root, NTLMD_REQ_SYNC_PASSWORD, &reason));
	set_policy("lockout_threshold", "2");
	set_policy("lockout_account_threshold", "2");

	ck_assert_status(sync_password(&root, "alice", PASSWORD, "192.0.2.5", &stored), NTLM_OK);
	ck_assert_int_eq(stored, NTLMD_STORED_UNCHANGED);
	ck_assert_str_eq(last_event.detail, "unchanged: the stored NT hash is the password's");
	ck_assert_status(plain(&helper, NTLMD_REQ_CHECK_PASSWORD, "alice", "nope", NULL),
	                 NTLM_STATUS_WRONG_PASSWORD);
	for (int i = 0; i < 3; i++) {
		ck_assert_status(
		    sync_password(&root, "alice", i % 2 == 0 ? "Sync-pass1" : PASSWORD, "192.0.2.5", &stored),
		    NTLM_OK);
		ck_assert_int_eq(stored, NTLMD_STORED_UPDATED);
		ck_assert_str_eq(last_event.request, "SYNC_PASSWORD");
		ck_assert_str_eq(last_event.account_key, "fake:alice");
	}
	ck_assert_status(plain(&helper, NTLMD_REQ_CHECK_PASSWORD, "alice", "Sync-pass1", NULL), NTLM_OK);

	/* an old password, an empty new one, the lookup's statuses */
	ck_assert_status(plain(&root, NTLMD_REQ_SYNC_PASSWORD, "alice", PASSWORD, PASSWORD),
	                 NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(sync_password(&root, "alice", "", NULL, &stored), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(sync_password(&root, "zed", "x", NULL, &stored), NTLM_STATUS_NO_SUCH_USER);
	ck_assert_int_eq(stored, -1);
	ck_assert_status(sync_password(&root, "ALICE", "x", NULL, &stored), NTLM_STATUS_NO_SUCH_USER);
	ck_assert_status(plain(&helper, NTLMD_REQ_CHECK_PASSWORD, "alice", "Sync-pass1", NULL), NTLM_OK);
	ck_assert_status(sync_password(&root, "alice", PASSWORD, NULL, &stored), NTLM_OK);
}
END_TEST

/* migrate add_users as root for the system user "root": the store's
 * "Root" is another account, so nothing is written and nothing added. */
START_TEST(create_never_overwrites_a_case_twin)
{
	struct ntlm_writer w;
	struct ntlmd_frame r;
	const struct fake_account *twin = fake_find("Root");
	struct ntlm_hash before;

	ck_assert_ptr_nonnull(twin);
	before = twin->nt;
	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_USER, "root");
	ntlmd_put_string(&w, NTLMD_TAG_NEW_PASSWORD, "Twin-pass1");
	ntlmd_put_u8(&w, NTLMD_TAG_CREATE, 1);
	ntlmd_put_u8(&w, NTLMD_TAG_EXACT_NAME, 1);
	ck_assert_status(request(&root, NTLMD_REQ_CHANGE_PASSWORD, &w, &r), NTLM_STATUS_NO_SUCH_USER);
	ntlmd_frame_clear(&r);
	ck_assert_str_eq(last_event.detail, "the store's account name differs from the login name");
	ck_assert_str_eq(last_event.account_key, "fake:Root");
	ck_assert_mem_eq(twin->nt.bytes, before.bytes, 16);

	/* the login name Root itself is that account */
	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_USER, "Root");
	ntlmd_put_string(&w, NTLMD_TAG_PASSWORD, PASSWORD);
	ntlmd_put_u8(&w, NTLMD_TAG_EXACT_NAME, 1);
	ck_assert_status(request(&helper, NTLMD_REQ_CHECK_PASSWORD, &w, &r), NTLM_OK);
	ck_assert_str_eq(ntlmd_frame_string(&r, NTLMD_TAG_ACCOUNT_NAME), "Root");
	ntlmd_frame_clear(&r);
}
END_TEST

/* The bare requests refuse a USER, DOMAIN or WORKSTATION with a control
 * character (the frame is malformed), VERIFY an AUTHENTICATE whose names
 * hold one (the decoder refuses it): STATUS_NTLM_CONTROL_CHARACTER. */
START_TEST(names_with_control_characters_refused)
{
	static const char *const bad[] = {"TESTDOM\n", "TEST\rDOM", "\tTESTDOM", "TESTDOM\x7f",
	                                  "TEST\xc2\x85"};
	static const uint16_t requests[] = {NTLMD_REQ_CHECK_PASSWORD, NTLMD_REQ_ACCOUNT_STATUS,
	                                    NTLMD_REQ_CHANGE_PASSWORD, NTLMD_REQ_CHECK_MEMBERSHIP};
	static const uint16_t tags[] = {NTLMD_TAG_USER, NTLMD_TAG_DOMAIN, NTLMD_TAG_WORKSTATION};
	const uint8_t challenge[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t response[24] = {0};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		for (size_t t = 0; t < ARRAY_SIZE(tags); t++) {
			for (size_t q = 0; q <= ARRAY_SIZE(requests); q++) {
				struct ntlm_writer w;
				struct ntlmd_frame r;

				ntlmd_fields_init(&w);
				ntlmd_put_string(&w, NTLMD_TAG_USER,
				                 tags[t] == NTLMD_TAG_USER ? bad[i] : "alice");
				if (tags[t] != NTLMD_TAG_USER)
					ntlmd_put_string(&w, tags[t], bad[i]);
				ntlmd_put_string(&w, NTLMD_TAG_PASSWORD, PASSWORD);
				ntlmd_put_string(&w, NTLMD_TAG_NEW_PASSWORD, "New-pass1");
				ntlmd_put_string(&w, NTLMD_TAG_GROUP, "staff");
				if (q == ARRAY_SIZE(requests)) {
					ntlmd_put_bytes(&w, NTLMD_TAG_SERVER_CHALLENGE, challenge,
					                sizeof(challenge));
					ntlmd_put_bytes(&w, NTLMD_TAG_NT_RESPONSE, response,
					                sizeof(response));
				}
				ck_assert_status(request(&root,
				                         q == ARRAY_SIZE(requests) ? NTLMD_REQ_VERIFY_RESPONSE
				                                                   : requests[q],
				                         &w, &r),
				                 NTLM_ERR_CONTROL_CHARACTER);
				ck_assert_str_eq(ntlmd_audit_outcome(last_event.status), "malformed");
				ntlmd_frame_clear(&r);
			}
		}
	}
	/* the password was not changed by any of them */
	ck_assert_status(plain(&helper, NTLMD_REQ_CHECK_PASSWORD, "alice", PASSWORD, NULL), NTLM_OK);
	/* a space is no control character: an unknown user, not a malformed request */
	ck_assert_status(plain(&helper, NTLMD_REQ_CHECK_PASSWORD, "al ice", PASSWORD, NULL),
	                 NTLM_STATUS_NO_SUCH_USER);

	/* VERIFY: the client typed a domain with a line break */
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ntlm_initiator_config c = client("alice", PASSWORD, NTLM_CLIENT_NTLMV2);
		struct flow x;
		struct ntlmd_frame r;

		c.domain = bad[i];
		flow_run(&x, &c, "pam", false);
		ck_assert_status(flow_verify(&x, NULL, &r), NTLM_ERR_CONTROL_CHARACTER);
		ck_assert(!ntlmd_frame_has(&r, NTLMD_TAG_AUTH_USER));
		ntlmd_frame_clear(&r);
		flow_clear(&x);
	}
}
END_TEST

START_TEST(malformed_request_gets_its_status)
{
	uint8_t *rep;
	size_t len;
	struct ntlmd_frame r;
	enum ntlm_status st;
	/* SERVICE announced with 5 bytes, 1 present */
	static const uint8_t payload[] = {0x0a, 0x00, 0x05, 0x00, 0x00, 0x00, 'x'};

	ck_assert_status(serve(&root, NTLMD_REQ_VERIFY, payload, sizeof(payload), &rep, &len), NTLM_OK);
	ck_assert_status(ntlmd_frame_decode(rep, len, &r), NTLM_OK);
	ck_assert_status(ntlmd_reply_status(&r, &st), NTLM_OK);
	ck_assert_status(st, NTLM_ERR_FIELD_OUT_OF_BOUNDS);
	ck_assert_str_eq(last_event.detail, "malformed request frame");
	ntlmd_frame_clear(&r);
	free(rep);
	/* a VERIFY without its messages */
	ck_assert_status(ntlmd_dispatch(&hctx, &root, NTLMD_REQ_VERIFY, NULL, 0, &rep, &len), NTLM_OK);
	ck_assert_status(ntlmd_frame_decode(rep, len, &r), NTLM_OK);
	ck_assert_status(ntlmd_reply_status(&r, &st), NTLM_OK);
	ck_assert_status(st, NTLM_ERR_TRUNCATED);
	ntlmd_frame_clear(&r);
	free(rep);
	ck_assert_status(ntlmd_dispatch(&hctx, &root, 77, NULL, 0, &rep, &len), NTLM_ERR_WRONG_MESSAGE_TYPE);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Handlers in steps: a store that answers later, or never             */

/* A VERIFY of user's exchange, started as the loop starts it: its step. */
static struct ntlmd_request *verify_started(const struct flow *x, enum ntlmd_step *ret_step)
{
	struct ntlm_writer w;
	struct ntlmd_request *req;
	uint8_t *frame;
	size_t len;

	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_SERVICE, x->service);
	ntlmd_put_string(&w, NTLMD_TAG_CLIENT_ADDRESS, "192.0.2.9");
	ntlmd_put_bytes(&w, NTLMD_TAG_NEGOTIATE, x->neg, x->neg_len);
	ntlmd_put_bytes(&w, NTLMD_TAG_CHALLENGE, x->chal, x->chal_len);
	ntlmd_put_bytes(&w, NTLMD_TAG_AUTHENTICATE, x->auth, x->auth_len);
	ck_assert_status(ntlmd_frame_encode(NTLMD_REQ_VERIFY, &w, &frame, &len), NTLM_OK);
	ntlm_writer_clear(&w);
	req = ntlmd_request_new(&hctx, &root, NTLMD_REQ_VERIFY, frame + NTLMD_HEADER_LEN,
	                        len - NTLMD_HEADER_LEN);
	free(frame);
	ck_assert_ptr_nonnull(req);
	*ret_step = ntlmd_request_start(&hctx, req);
	return req;
}

/* A VERIFY of user's NTLMv2 logon through service "pam", started: its
 * first step must be want. */
static struct ntlmd_request *verify_begun(struct flow *x, const char *user, const char *password,
                                          enum ntlmd_step want)
{
	struct ntlm_initiator_config c = client(user, password, NTLM_CLIENT_NTLMV2);
	struct ntlmd_request *req;
	enum ntlmd_step step;

	flow_run(x, &c, "pam", false);
	req = verify_started(x, &step);
	ck_assert_int_eq(step, want);
	return req;
}

/* The reply of a finished request: its status. */
static enum ntlm_status finished(struct ntlmd_request *req)
{
	struct ntlmd_frame f;
	enum ntlm_status st;
	uint8_t *rep;
	size_t len;

	ck_assert_status(ntlmd_request_finish(&hctx, req, &rep, &len), NTLM_OK);
	ck_assert_status(ntlmd_frame_decode(rep, len, &f), NTLM_OK);
	ck_assert_status(ntlmd_reply_status(&f, &st), NTLM_OK);
	ntlmd_frame_clear(&f);
	ntlm_wipe(rep, len);
	free(rep);
	return st;
}

/* A store call no memory answers: the request waits with its challenge
 * used (checked before the store is asked), the loop answers other
 * requests meanwhile (a replay of the same AUTHENTICATE, a files-like
 * user, PING), and the answer, when it comes, completes the logon. */
START_TEST(store_answers_later)
{
	struct ntlmd_request *req, *replay;
	struct flow x;
	enum ntlmd_step step;

	req = verify_begun(&x, "slowalice", PASSWORD, NTLMD_STEP_WAIT);
	ck_assert_int_eq(req->call.op, NTLMD_CALL_LOOKUP);
	ck_assert_str_eq(req->call.user, "slowalice");
	/* meanwhile: the same AUTHENTICATE again is a replay, refused at once */
	replay = verify_started(&x, &step);
	ck_assert_int_eq(step, NTLMD_STEP_REPLY);
	ck_assert_status(finished(replay), NTLM_STATUS_CHALLENGE_EXPIRED);
	ntlmd_request_free(replay);
	/* meanwhile: a user the store has in memory, and PING */
	ck_assert_status(logon("alice", PASSWORD, NTLM_CLIENT_NTLMV2, "192.0.2.1"), NTLM_OK);
	ck_assert(!last_event.request || strcmp(last_event.request, "VERIFY") == 0);
	/* the worker's part, then the loop's */
	ntlmd_request_run_call(req);
	ck_assert(req->call.waited);
	ck_assert_int_eq(ntlmd_request_resume(&hctx, req), NTLMD_STEP_REPLY);
	ck_assert_status(finished(req), NTLM_OK);
	ck_assert_str_eq(req->event.account, "TESTDOM\\slowalice");
	ck_assert_str_eq(req->event.backend, "fake");
	ntlmd_request_free(req);
	flow_clear(&x);
}
END_TEST

/* A store that never answers: at the deadline the request is answered
 * STATUS_NO_LOGON_SERVERS with a detail, its verification state is freed
 * with it (no leak: ASan and valgrind run this), and nothing was counted
 * against the account. */
START_TEST(store_never_answers)
{
	struct flow x;
	struct ntlmd_request *req = verify_begun(&x, "slowalice", "Wrong-pass1", NTLMD_STEP_WAIT);

	ntlmd_request_expire(&hctx, req);
	ck_assert(req->abandoned);
	ck_assert_status(finished(req), NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_str_eq(req->event.detail, "no store answered within store_timeout");
	ck_assert_ptr_null(req->writeback);
	ntlmd_request_free(req);
	ck_assert_uint_eq(ntlmd_lockout_count(hctx.user_lockout), 0);
	flow_clear(&x);
}
END_TEST

/* A group search never runs on the loop, for a SID as for a name: with
 * the account answered from memory, CHECK_MEMBERSHIP still waits for a
 * worker's GROUP_MEMBER call (the SID in its canonical text). */
START_TEST(group_search_waits_for_a_worker)
{
	struct ntlm_writer w;
	struct ntlmd_request *req;
	uint8_t *frame;
	size_t len;

	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_USER, "alice");
	ntlmd_put_string(&w, NTLMD_TAG_GROUP, "s-1-5-21-1-2-3-1001");
	ck_assert_status(ntlmd_frame_encode(NTLMD_REQ_CHECK_MEMBERSHIP, &w, &frame, &len), NTLM_OK);
	ntlm_writer_clear(&w);
	req = ntlmd_request_new(&hctx, &helper, NTLMD_REQ_CHECK_MEMBERSHIP, frame + NTLMD_HEADER_LEN,
	                        len - NTLMD_HEADER_LEN);
	free(frame);
	ck_assert_ptr_nonnull(req);
	ck_assert_int_eq(ntlmd_request_start(&hctx, req), NTLMD_STEP_WAIT);
	ck_assert_int_eq(req->call.op, NTLMD_CALL_GROUP_MEMBER);
	ck_assert_str_eq(req->call.group, STAFF_SID);
	ntlmd_request_run_call(req);
	ck_assert(req->call.waited);
	ck_assert_int_eq(ntlmd_request_resume(&hctx, req), NTLMD_STEP_REPLY);
	ck_assert_status(finished(req), NTLM_OK);
	ntlmd_request_free(req);
}
END_TEST

/* The fast path: a store call the chain answers from memory never waits. */
START_TEST(store_answers_at_once)
{
	struct flow x;
	struct ntlmd_request *req = verify_begun(&x, "alice", PASSWORD, NTLMD_STEP_REPLY);

	ck_assert(!req->call.waited);
	ck_assert_status(finished(req), NTLM_OK);
	ntlmd_request_free(req);
	flow_clear(&x);
}
END_TEST

/* A reload while a request waits: the request keeps the setup it started
 * under (its configuration and chain) until it is freed; new requests
 * take the new one. */
START_TEST(reload_while_waiting)
{
	struct ntlmd_setup *before = hctx.setup;
	struct flow x;
	struct ntlmd_request *req = verify_begun(&x, "slowalice", PASSWORD, NTLMD_STEP_WAIT);

	ck_assert_ptr_eq(req->setup, before);
	ck_assert_uint_eq(before->refs, 2); /* the context's and the request's */
	reload();
	ck_assert_ptr_ne(hctx.setup, before);
	ck_assert_uint_eq(before->refs, 1); /* the request's alone */
	ntlmd_request_run_call(req);
	ck_assert_int_eq(ntlmd_request_resume(&hctx, req), NTLMD_STEP_REPLY);
	ck_assert_status(finished(req), NTLM_OK);
	ntlmd_request_free(req); /* the last reference: the old setup goes */
	flow_clear(&x);
}
END_TEST

/* A wrong password leaves its write-back for after the reply, for the
 * store that answered; a success with no bad count leaves none. */
START_TEST(writeback_after_the_reply)
{
	fake_recorded = 0;
	ck_assert_status(logon("alice", "Wrong-pass1", NTLM_CLIENT_NTLMV2, "192.0.2.3"),
	                 NTLM_STATUS_WRONG_PASSWORD);
	ck_assert_uint_eq(fake_recorded, 1);
	ck_assert_status(logon("alice", PASSWORD, NTLM_CLIENT_NTLMV2, "192.0.2.3"), NTLM_OK);
	ck_assert_uint_eq(fake_recorded, 1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The store workers                                                   */

/* A gate a job waits at until the test opens it. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t opened;
	bool open;
};

#define GATE_CLOSED ((struct gate){PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false})

static void gate_set(struct gate *g, bool open)
{
	pthread_mutex_lock(&g->lock);
	g->open = open;
	pthread_cond_broadcast(&g->opened);
	pthread_mutex_unlock(&g->lock);
}

struct test_job {
	struct ntlmd_job job;
	int id;
	struct gate *gate; /* the job waits for it to open; NULL: none */
};

/* Job id_ of uid uid_, waiting at gate_ when not NULL. */
#define TEST_JOB(uid_, id_, gate_) ((struct test_job){{.uid = (uid_), .run = test_job_run}, (id_), (gate_)})

static int run_order[16];
static size_t n_run;

static void test_job_run(struct ntlmd_job *job)
{
	struct test_job *t = (struct test_job *)(void *)job;

	if (t->gate != NULL) {
		pthread_mutex_lock(&t->gate->lock);
		while (!t->gate->open)
			pthread_cond_wait(&t->gate->opened, &t->gate->lock);
		pthread_mutex_unlock(&t->gate->lock);
	}
	run_order[n_run++] = t->id; /* one worker: no race */
}

/* Opens the gate a little later (the pool is stopping meanwhile). */
static void *open_gate_later(void *arg)
{
	usleep(100000);
	gate_set(arg, true);
	return NULL;
}

/* Waits until a worker runs a job. */
static void wait_running(struct ntlmd_pool *p)
{
	while (ntlmd_pool_running(p) == 0)
		usleep(1000);
}

/* Submits job, which waits at its gate, and waits until the one worker
 * runs it: the jobs submitted after it queue. */
static void submit_held(struct ntlmd_pool *p, struct test_job *job)
{
	ck_assert(ntlmd_pool_submit(p, &job->job));
	wait_running(p);
}

/* The worker's runs run_order[first..first + n) were the jobs ids[0..n). */
static void ck_ran(size_t first, const int *ids, size_t n)
{
	ck_assert_uint_ge(n_run, first + n);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(run_order[first + i], ids[i]);
}
#define CK_RAN(first, ...) \
	ck_ran((first), (const int[]){__VA_ARGS__}, sizeof((int[]){__VA_ARGS__}) / sizeof(int))

/* Done jobs, waiting on the pool's descriptor as the loop does. */
static size_t take_done(struct ntlmd_pool *p, size_t want)
{
	size_t got = 0;

	while (got < want) {
		struct pollfd pfd = {.fd = ntlmd_pool_fd(p), .events = POLLIN};

		ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
		while (ntlmd_pool_done(p) != NULL)
			got++;
	}
	return got;
}

/* The uids take turns; a uid's queue is capped; stop hands back what no
 * worker ran. */
START_TEST(pool_turns_caps_and_stop)
{
	struct gate gate = GATE_CLOSED;
	struct ntlmd_pool *p = ntlmd_pool_new(1, 3);
	struct test_job jobs[6] = {
	    TEST_JOB(1, 0, &gate), /* holds the worker */
	    TEST_JOB(1, 1, NULL),  TEST_JOB(1, 2, NULL), TEST_JOB(1, 3, NULL),
	    TEST_JOB(2, 4, NULL),  TEST_JOB(1, 5, NULL),
	};

	ck_assert_ptr_nonnull(p);
	n_run = 0;
	submit_held(p, &jobs[0]);
	for (int i = 1; i <= 4; i++)
		ck_assert(ntlmd_pool_submit(p, &jobs[i].job));
	ck_assert(!ntlmd_pool_submit(p, &jobs[5].job)); /* uid 1 has 3 waiting */
	ck_assert_uint_eq(ntlmd_pool_queued(p), 4);
	gate_set(&gate, true);
	ck_assert_uint_eq(take_done(p, 5), 5);
	CK_RAN(0, 0, 1, 4, 2, 3); /* uid 2's job did not wait behind all of uid 1's */

	/* stop: the job running finishes, the queued ones come back unrun */
	gate_set(&gate, false);
	submit_held(p, &jobs[0]);
	ck_assert(ntlmd_pool_submit(p, &jobs[1].job));
	{
		pthread_t opener;

		/* the gate opens while stop waits for the worker: it has seen
		 * the stop before it could take the queued job */
		ck_assert_int_eq(pthread_create(&opener, NULL, open_gate_later, &gate), 0);
		ntlmd_pool_stop(p);
		pthread_join(opener, NULL);
	}
	{
		struct ntlmd_job *a = ntlmd_pool_done(p), *b = ntlmd_pool_done(p);

		ck_assert_ptr_eq(a, &jobs[0].job);
		ck_assert(!a->cancelled);
		ck_assert_ptr_eq(b, &jobs[1].job);
		ck_assert(b->cancelled);
		ck_assert_ptr_null(ntlmd_pool_done(p));
	}
	ck_assert(!ntlmd_pool_submit(p, &jobs[2].job)); /* stopped */
	ntlmd_pool_free(p);
	ntlmd_pool_stop(NULL);
	ntlmd_pool_free(NULL);
}
END_TEST

/* The pool's own queue (write-backs, attack3 F3) is outside the uid's cap
 * and has its own limit; a queued job taken back (attack3 F9) frees its
 * uid's share at once and never runs; a running one is not taken back. */
START_TEST(pool_own_queue_and_cancel)
{
	struct gate gate = GATE_CLOSED;
	struct ntlmd_pool *p = ntlmd_pool_new(1, 2);
	struct test_job jobs[7] = {
	    TEST_JOB(1, 0, &gate), /* holds the worker */
	    TEST_JOB(1, 1, NULL),  TEST_JOB(1, 2, NULL), TEST_JOB(1, 3, NULL),
	    TEST_JOB(1, 4, NULL),  TEST_JOB(1, 5, NULL), TEST_JOB(1, 6, NULL),
	};

	ck_assert_ptr_nonnull(p);
	n_run = 0;
	submit_held(p, &jobs[0]);
	ck_assert(ntlmd_pool_submit(p, &jobs[1].job));
	ck_assert(ntlmd_pool_submit(p, &jobs[2].job));
	ck_assert(!ntlmd_pool_submit(p, &jobs[3].job)); /* uid 1's share is full */
	/* the same uid's write-backs: in the pool's own queue, limit 2 */
	ck_assert(ntlmd_pool_submit_own(p, &jobs[4].job, 2));
	ck_assert(ntlmd_pool_submit_own(p, &jobs[5].job, 2));
	ck_assert(!ntlmd_pool_submit_own(p, &jobs[6].job, 2));
	ck_assert_uint_eq(ntlmd_pool_queued(p), 4);
	/* taken back: the queued one is, the running one is not */
	ck_assert(ntlmd_pool_cancel(p, &jobs[1].job));
	ck_assert(!ntlmd_pool_cancel(p, &jobs[1].job)); /* no longer queued */
	ck_assert(!ntlmd_pool_cancel(p, &jobs[0].job)); /* a worker runs it */
	ck_assert_uint_eq(ntlmd_pool_queued(p), 3);
	ck_assert(ntlmd_pool_submit(p, &jobs[3].job)); /* the share has room again */
	/* the queue's tail taken back, then queued again: still the tail */
	ck_assert(ntlmd_pool_cancel(p, &jobs[3].job));
	ck_assert(ntlmd_pool_submit(p, &jobs[3].job));
	gate_set(&gate, true);
	ck_assert_uint_eq(take_done(p, 5), 5);
	ck_assert_ptr_null(ntlmd_pool_done(p)); /* job 1 never comes back */
	/* the own queue takes its turn as one more uid */
	ck_assert_uint_eq(n_run, 5);
	CK_RAN(0, 0, 2, 4, 3, 5);
	ntlmd_pool_stop(p);
	ck_assert_ptr_null(ntlmd_pool_done(p));
	ntlmd_pool_free(p);
}
END_TEST

/* A queue taken out of the ring by a cancel before the queue whose turn
 * is next: that queue keeps its turn. */
START_TEST(pool_cancel_keeps_turns)
{
	struct gate first = GATE_CLOSED;
	struct gate second = GATE_CLOSED;
	struct ntlmd_pool *p = ntlmd_pool_new(1, 0);
	struct test_job jobs[6] = {
	    TEST_JOB(9, 0, &first), TEST_JOB(1, 1, NULL), TEST_JOB(2, 2, &second),
	    TEST_JOB(2, 3, NULL),   TEST_JOB(3, 4, NULL), TEST_JOB(1, 5, NULL),
	};

	ck_assert_ptr_nonnull(p);
	n_run = 0;
	submit_held(p, &jobs[0]);
	for (int i = 1; i <= 4; i++)
		ck_assert(ntlmd_pool_submit(p, &jobs[i].job));
	gate_set(&first, true);
	ck_assert_uint_eq(take_done(p, 2), 2); /* jobs 0 and 1 */
	wait_running(p);                       /* job 2 waits at its gate */
	/* the ring: uid 2 (job 3), uid 3 (job 4, next), then uid 1 */
	ck_assert(ntlmd_pool_submit(p, &jobs[5].job));
	ck_assert(ntlmd_pool_cancel(p, &jobs[3].job)); /* uid 2 leaves the ring */
	gate_set(&second, true);
	ck_assert_uint_eq(take_done(p, 3), 3);
	ck_assert_uint_eq(n_run, 5);
	CK_RAN(2, 2, 4, 5); /* uid 3 (job 4) kept its turn */
	ntlmd_pool_stop(p);
	ntlmd_pool_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("protocol");
	TCase *tc;

	test_add_tcase(s, "frames",
	               TESTS(request_round_trip, getters_refuse_absent_and_wrong_kind,
	                     names_without_control_characters, reply_round_trip_and_codes, string_cap,
	                     payload_cap, writer_refuses_bad_strings, header_decode_alone,
	                     stats_records_round_trip));
	tc = test_add_tcase(s, "malformed", TESTS(mutation_never_crashes));
	tcase_add_loop_test(tc, malformed_frames_refused, 0, (int)ARRAY_SIZE(bad_frames));
	tcase_add_test(tc, field_count_capped);
	tcase_set_timeout(tc, 60);
	test_add_tcase(s, "client", TESTS(client_round_trip, client_failures_map_to_statuses));
	test_add_tcase(s, "tables",
	               TESTS(siphash_vector, challenge_table, challenge_table_grows_and_shrinks,
	                     challenge_table_retention, challenge_table_uid_cap, challenge_table_address_cap,
	                     challenge_table_address_flood, challenge_table_many_addresses,
	                     challenge_table_compaction_mixed, challenge_table_many, lockout_table));
	test_add_tcase(s, "audit", TESTS(audit_escaping));
	tc = test_add_tcase(
	    s, "handlers",
	    TESTS(access_table, ping_reports_version_and_counters, stats_reports_what_was_done,
	          stats_reply_stays_bounded, challenge_limits_per_address, verify_ntlmv2_round_trip,
	          verify_foreign_challenge_once, verify_outcomes, verify_lockout, verify_response_mschap,
	          plaintext_requests, create_never_overwrites_a_case_twin, sync_password_counts_nothing,
	          check_membership, check_membership_by_sid, malformed_request_gets_its_status,
	          names_with_control_characters_refused));
	tcase_add_checked_fixture(tc, handlers_setup, handlers_teardown);
	tc = test_add_tcase(s, "steps",
	                    TESTS(store_answers_later, store_never_answers, store_answers_at_once,
	                          group_search_waits_for_a_worker, reload_while_waiting,
	                          writeback_after_the_reply));
	tcase_add_checked_fixture(tc, handlers_setup, handlers_teardown);
	test_add_tcase(s, "pool",
	               TESTS(pool_turns_caps_and_stop, pool_own_queue_and_cancel, pool_cancel_keeps_turns));
	return test_run_suite(s);
}
