/*
 * ntlmssp.h: public API of libntlmssp, the pam_ntlm NTLM core library.
 *
 * The library parses and builds NTLMSSP messages (MS-NLMP 2.2), computes
 * and verifies every response type of MS-NLMP 3.3, and implements session
 * security (MS-NLMP 3.4). It performs no I/O, never logs, keeps no global
 * mutable state and is thread-safe. Every exported symbol starts with
 * "ntlm_" and is versioned (LIBNTLMSSP_1), so it installs next to GNU
 * libntlm without clashing.
 *
 * Conventions:
 *  - functions that can fail return enum ntlm_status; NTLM_OK is 0;
 *  - out-parameters are named ret_* and are written only on success;
 *  - *_clear() wipes and frees what a struct owns and keeps the struct;
 *  - struct ntlm_view fields borrow from the caller's input buffer and are
 *    valid only while that buffer is;
 *  - strings returned by the library are UTF-8, NUL-terminated and owned by
 *    the struct they sit in;
 *  - secrets (hashes, keys) are wiped before the library releases them.
 */
#ifndef NTLMSSP_H
#define NTLMSSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with -fvisibility=hidden: everything declared in
 * this header, and nothing else, is exported (and versioned by
 * libntlmssp.map). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#if defined(__GNUC__)
#define NTLM_MUST_USE __attribute__((warn_unused_result))
#else
#define NTLM_MUST_USE
#endif

/* ------------------------------------------------------------------ */
/* Status codes                                                        */
/* ------------------------------------------------------------------ */

/*
 * One status enum for the whole project. Each value has a stable name in
 * NTSTATUS style and a 32-bit code: the real NTSTATUS code where Windows
 * defines one, otherwise a code in the customer range 0xE0A7xxxx (bit 29
 * set, as MS-ERREF 2.3 reserves for non-Microsoft codes). Malformed input
 * never shares a status with an authentication failure.
 */
enum ntlm_status {
	NTLM_OK = 0,

	/* malformed input: the peer or the wire is at fault */
	NTLM_ERR_TRUNCATED,           /* message ends before a field it needs */
	NTLM_ERR_BAD_SIGNATURE,       /* does not start with "NTLMSSP\0" */
	NTLM_ERR_WRONG_MESSAGE_TYPE,  /* NEGOTIATE where AUTHENTICATE was due, ... */
	NTLM_ERR_FIELD_OUT_OF_BOUNDS, /* a payload offset/length points outside */
	NTLM_ERR_FIELD_OVERLAP,       /* a payload field overlaps the header */
	NTLM_ERR_MESSAGE_TOO_LONG,    /* over NTLM_MAX_MESSAGE */
	NTLM_ERR_BAD_STRING,          /* invalid UTF-16 / UTF-8, NUL inside */
	NTLM_ERR_STRING_TOO_LONG,     /* a name over NTLM_MAX_NAME */
	NTLM_ERR_BAD_AV_PAIR,         /* AV_PAIR list malformed (2.2.2.1) */
	NTLM_ERR_BAD_RESPONSE,        /* response length impossible for any type */
	NTLM_ERR_TRAILING_DATA,       /* bytes left over where none may be */
	NTLM_ERR_BAD_ENCODING,        /* base64 / hex input not decodable */
	NTLM_ERR_CONTROL_CHARACTER,   /* a user, domain or workstation name holds C0, DEL or C1 */

	/* authentication outcomes: the credentials or the policy are at fault */
	NTLM_STATUS_WRONG_PASSWORD,        /* STATUS_WRONG_PASSWORD 0xC000006A */
	NTLM_STATUS_NO_SUCH_USER,          /* STATUS_NO_SUCH_USER 0xC0000064 */
	NTLM_STATUS_LOGON_FAILURE,         /* STATUS_LOGON_FAILURE 0xC000006D */
	NTLM_STATUS_ACCOUNT_DISABLED,      /* STATUS_ACCOUNT_DISABLED 0xC0000072 */
	NTLM_STATUS_ACCOUNT_LOCKED_OUT,    /* STATUS_ACCOUNT_LOCKED_OUT 0xC0000234 */
	NTLM_STATUS_ACCOUNT_EXPIRED,       /* STATUS_ACCOUNT_EXPIRED 0xC0000193 */
	NTLM_STATUS_PASSWORD_EXPIRED,      /* STATUS_PASSWORD_EXPIRED 0xC0000071 */
	NTLM_STATUS_PASSWORD_MUST_CHANGE,  /* STATUS_PASSWORD_MUST_CHANGE 0xC0000224 */
	NTLM_STATUS_INVALID_LOGON_HOURS,   /* STATUS_INVALID_LOGON_HOURS 0xC000006F */
	NTLM_STATUS_INVALID_WORKSTATION,   /* STATUS_INVALID_WORKSTATION 0xC0000070 */
	NTLM_STATUS_ACCOUNT_RESTRICTION,   /* STATUS_ACCOUNT_RESTRICTION 0xC000006E */
	NTLM_STATUS_NOLOGON_TRUST_ACCOUNT, /* STATUS_NOLOGON_WORKSTATION_TRUST_ACCOUNT */
	NTLM_STATUS_NTLM_BLOCKED,          /* response type refused by policy: STATUS_NTLM_BLOCKED */
	NTLM_STATUS_ANONYMOUS_REFUSED,     /* null session while anonymous is off */
	NTLM_STATUS_DOWNGRADE_DETECTED,    /* required negotiate flags missing */
	NTLM_STATUS_TIME_SKEW,             /* NTLMv2 timestamp beyond max skew */
	NTLM_STATUS_MIC_MISSING,           /* MIC required by policy or by MsvAvFlags, absent */
	NTLM_STATUS_MIC_INVALID,           /* MIC present and wrong */
	NTLM_STATUS_BAD_BINDINGS,          /* channel bindings do not match: STATUS_BAD_BINDINGS */
	NTLM_STATUS_BINDINGS_MISSING,      /* channel bindings required, client sent none */
	NTLM_STATUS_TARGET_NAME_MISMATCH,  /* MsvAvTargetName not an accepted SPN */
	NTLM_STATUS_AV_PAIRS_ALTERED,      /* server AV pairs not echoed unchanged */
	NTLM_STATUS_CHALLENGE_MISMATCH,    /* response computed for another CHALLENGE */
	NTLM_STATUS_CHALLENGE_EXPIRED,     /* challenge unknown, used or too old (ntlmd) */

	/* our side is at fault */
	NTLM_ERR_INVALID_ARGUMENT, /* API misuse: NULL where a value is needed, ... */
	NTLM_ERR_NO_MEMORY,
	NTLM_ERR_CRYPTO,              /* OpenSSL failed (provider missing, ...) */
	NTLM_ERR_BACKEND_UNAVAILABLE, /* STATUS_NO_LOGON_SERVERS 0xC000005E */
	NTLM_ERR_INTERNAL,
	NTLM_ERR_INSUFFICIENT_RESOURCES, /* a configured limit is reached: STATUS_INSUFFICIENT_RESOURCES */

	/* daemon level (appended: every value above keeps its number) */
	NTLM_ERR_CONFIG,           /* a configuration file or setting is wrong: STATUS_NTLM_CONFIG_ERROR */
	NTLM_ERR_BAD_REQUEST,      /* a daemon frame is malformed (a field twice or of a wrong size,
	                              flags set): STATUS_INVALID_NETWORK_RESPONSE 0xC00000C3 */
	NTLM_STATUS_NO_SUCH_GROUP, /* STATUS_NO_SUCH_GROUP 0xC0000066: no store has the group */

	_NTLM_STATUS_MAX
};

/* "STATUS_WRONG_PASSWORD"; "STATUS_UNKNOWN" for values out of range. */
const char *ntlm_status_name(enum ntlm_status s);
/* One human sentence, lower case, no final period. */
const char *ntlm_status_message(enum ntlm_status s);
/* The 32-bit NTSTATUS code, e.g. 0xC000006A. */
uint32_t ntlm_status_code(enum ntlm_status s);
/* True for NTLM_ERR_TRUNCATED .. NTLM_ERR_CONTROL_CHARACTER and
 * NTLM_ERR_BAD_REQUEST: the input, not the credentials or our side. */
bool ntlm_status_is_malformed(enum ntlm_status s);

/* ------------------------------------------------------------------ */
/* Limits and constants                                                */
/* ------------------------------------------------------------------ */

/* Hard cap on any NTLMSSP message, as Windows and Samba 4.22 enforce. */
#define NTLM_MAX_MESSAGE 2888
/* Cap on user, domain and workstation names, in UTF-16 code units. */
#define NTLM_MAX_NAME 256
/* Cap on the number of AV pairs in one TargetInfo list. */
#define NTLM_MAX_AV_PAIRS  32

#define NTLM_HASH_LEN      16
#define NTLM_CHALLENGE_LEN 8
#define NTLM_MIC_LEN       16
#define NTLM_SIGNATURE_LEN 16

/* MS-NLMP 2.2.2.5 NEGOTIATE flags */
#define NTLM_NEGOTIATE_UNICODE                  0x00000001u
#define NTLM_NEGOTIATE_OEM                      0x00000002u
#define NTLM_REQUEST_TARGET                     0x00000004u
#define NTLM_NEGOTIATE_SIGN                     0x00000010u
#define NTLM_NEGOTIATE_SEAL                     0x00000020u
#define NTLM_NEGOTIATE_DATAGRAM                 0x00000040u
#define NTLM_NEGOTIATE_LM_KEY                   0x00000080u
#define NTLM_NEGOTIATE_NTLM                     0x00000200u
#define NTLM_NEGOTIATE_ANONYMOUS                0x00000800u
#define NTLM_NEGOTIATE_OEM_DOMAIN_SUPPLIED      0x00001000u
#define NTLM_NEGOTIATE_OEM_WORKSTATION_SUPPLIED 0x00002000u
#define NTLM_NEGOTIATE_ALWAYS_SIGN              0x00008000u
#define NTLM_TARGET_TYPE_DOMAIN                 0x00010000u
#define NTLM_TARGET_TYPE_SERVER                 0x00020000u
#define NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLM_NEGOTIATE_IDENTIFY                 0x00100000u
#define NTLM_REQUEST_NON_NT_SESSION_KEY         0x00400000u
#define NTLM_NEGOTIATE_TARGET_INFO              0x00800000u
#define NTLM_NEGOTIATE_VERSION                  0x02000000u
#define NTLM_NEGOTIATE_128                      0x20000000u
#define NTLM_NEGOTIATE_KEY_EXCH                 0x40000000u
#define NTLM_NEGOTIATE_56                       0x80000000u

/* MS-NLMP 2.2.2.1 AV_PAIR ids */
enum ntlm_av_id {
	NTLM_AV_EOL = 0,
	NTLM_AV_NB_COMPUTER_NAME = 1,
	NTLM_AV_NB_DOMAIN_NAME = 2,
	NTLM_AV_DNS_COMPUTER_NAME = 3,
	NTLM_AV_DNS_DOMAIN_NAME = 4,
	NTLM_AV_DNS_TREE_NAME = 5,
	NTLM_AV_FLAGS = 6,
	NTLM_AV_TIMESTAMP = 7,
	NTLM_AV_SINGLE_HOST = 8,
	NTLM_AV_TARGET_NAME = 9,
	NTLM_AV_CHANNEL_BINDINGS = 10,
};

/* MsvAvFlags bits */
#define NTLM_AVFLAG_CONSTRAINED    0x00000001u
#define NTLM_AVFLAG_MIC_PRESENT    0x00000002u
#define NTLM_AVFLAG_UNVERIFIED_SPN 0x00000004u

/* ------------------------------------------------------------------ */
/* Secrets                                                             */
/* ------------------------------------------------------------------ */

/* Sizes in the types, so a hash is never confused with a buffer. */
struct ntlm_hash {
	uint8_t bytes[NTLM_HASH_LEN];
};

/* Wipes n bytes in a way the compiler cannot optimise away. NULL-safe. */
void ntlm_wipe(void *p, size_t n);
/* Frees a heap buffer of len bytes after wiping it (it held a secret, a
 * name or a message). NULL-safe. */
void ntlm_free_wiped(void *p, size_t len);
/* Frees a NUL-terminated string after wiping it (a password, or a name
 * beside one). NULL-safe. */
void ntlm_free_string(char *s);
/* Constant-time equality of two n-byte buffers (time depends on n only). */
bool ntlm_equal_ct(const void *a, const void *b, size_t n) NTLM_MUST_USE;
/* Fills buf with n bytes from the operating system CSPRNG. */
enum ntlm_status ntlm_random(void *buf, size_t n) NTLM_MUST_USE;

/* ------------------------------------------------------------------ */
/* Bounded reader and writer                                           */
/* ------------------------------------------------------------------ */

/*
 * A read-only, bounds-checked view of untrusted bytes. This is the only
 * code that indexes input: every decoder in the project (NTLMSSP messages,
 * AV pairs, ntlmd frames) reads through it.  Invariant: pos <= len.
 */
struct ntlm_reader {
	const uint8_t *data;
	size_t len;
	size_t pos;
};

void ntlm_reader_init(struct ntlm_reader *r, const void *data, size_t len);
size_t ntlm_reader_left(const struct ntlm_reader *r);
enum ntlm_status ntlm_read_u8(struct ntlm_reader *r, uint8_t *ret) NTLM_MUST_USE;
enum ntlm_status ntlm_read_u16le(struct ntlm_reader *r, uint16_t *ret) NTLM_MUST_USE;
enum ntlm_status ntlm_read_u32le(struct ntlm_reader *r, uint32_t *ret) NTLM_MUST_USE;
enum ntlm_status ntlm_read_u64le(struct ntlm_reader *r, uint64_t *ret) NTLM_MUST_USE;
/* Copies n bytes into ret. */
enum ntlm_status ntlm_read_bytes(struct ntlm_reader *r, void *ret, size_t n) NTLM_MUST_USE;
/* Borrows n bytes: *ret points into r->data. */
enum ntlm_status ntlm_read_view(struct ntlm_reader *r, size_t n, const uint8_t **ret) NTLM_MUST_USE;
enum ntlm_status ntlm_reader_skip(struct ntlm_reader *r, size_t n) NTLM_MUST_USE;
/*
 * A sub-reader over [offset, offset + len) of the whole of msg (an MS-NLMP
 * "security buffer" payload), independent of msg->pos. The check is done by
 * subtraction, so offset + len can never overflow.
 */
enum ntlm_status ntlm_reader_slice(const struct ntlm_reader *msg, size_t offset, size_t len,
                                   struct ntlm_reader *ret) NTLM_MUST_USE;
/* NTLM_ERR_TRAILING_DATA unless every byte was consumed. */
enum ntlm_status ntlm_reader_expect_end(const struct ntlm_reader *r) NTLM_MUST_USE;

/*
 * A growable, capped output buffer. Errors are sticky: after the first
 * failure every write is a no-op and ntlm_writer_finish() reports it, so
 * encoders can write a whole message and check once.
 */
struct ntlm_writer {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max; /* hard cap on len */
	enum ntlm_status error;
};

void ntlm_writer_init(struct ntlm_writer *w, size_t max);
void ntlm_write_u8(struct ntlm_writer *w, uint8_t v);
void ntlm_write_u16le(struct ntlm_writer *w, uint16_t v);
void ntlm_write_u32le(struct ntlm_writer *w, uint32_t v);
void ntlm_write_u64le(struct ntlm_writer *w, uint64_t v);
void ntlm_write_bytes(struct ntlm_writer *w, const void *p, size_t n);
void ntlm_write_zeros(struct ntlm_writer *w, size_t n);
/* Overwrites bytes already written at [pos, pos + 2); used to patch offsets. */
void ntlm_writer_put_u16le_at(struct ntlm_writer *w, size_t pos, uint16_t v);
void ntlm_writer_put_u32le_at(struct ntlm_writer *w, size_t pos, uint32_t v);
/* On success hands the buffer to the caller (free() it); on error wipes and frees it. */
enum ntlm_status ntlm_writer_finish(struct ntlm_writer *w, uint8_t **ret, size_t *ret_len) NTLM_MUST_USE;
/* Wipes and frees the buffer (for abandoning a writer). */
void ntlm_writer_clear(struct ntlm_writer *w);

/* ------------------------------------------------------------------ */
/* Text helpers                                                        */
/* ------------------------------------------------------------------ */

/* UTF-8 -> UTF-16LE; NUL-free input required; max_units caps the output. */
enum ntlm_status ntlm_utf8_to_utf16le(const char *s, size_t max_units, uint8_t **ret,
                                      size_t *ret_len) NTLM_MUST_USE;
/* UTF-16LE -> UTF-8 (NUL-terminated). Unpaired surrogates and NUL are refused. */
enum ntlm_status ntlm_utf16le_to_utf8(const uint8_t *p, size_t len, char **ret) NTLM_MUST_USE;
/*
 * The 8-bit code page OEM text falls back to when it is not UTF-8 (MS-NLMP
 * 2.2.1 leaves the OEM character set to the machine; Samba calls it "dos
 * charset", CP850 by default). The tables are built in: no iconv, no
 * locale, no global state.
 */
enum ntlm_oem_charset {
	NTLM_OEM_CP850 = 0, /* the default */
	NTLM_OEM_CP1252,
	NTLM_OEM_ISO8859_1,
	NTLM_OEM_ISO8859_15,
};
/* "CP850", "CP1252", "ISO-8859-1", "ISO-8859-15"; NULL when out of range. */
const char *ntlm_oem_charset_name(enum ntlm_oem_charset c);
/* The charset of a name (case-insensitive; "CP850", "IBM850", "CP1252",
 * "WINDOWS-1252", "ISO-8859-1", "LATIN1", "ISO-8859-15", "LATIN9", with or
 * without the dashes); NTLM_ERR_INVALID_ARGUMENT for any other. */
enum ntlm_status ntlm_oem_charset_from_name(const char *name, enum ntlm_oem_charset *ret) NTLM_MUST_USE;

/* Which rule decoded a name. */
enum ntlm_text_rule {
	NTLM_TEXT_NONE = 0,  /* empty, absent, or not decoded */
	NTLM_TEXT_UTF16,     /* UTF-16LE (NTLMSSP_NEGOTIATE_UNICODE) */
	NTLM_TEXT_ASCII,     /* OEM bytes, all 7-bit */
	NTLM_TEXT_UTF8,      /* OEM bytes that are valid UTF-8 */
	NTLM_TEXT_CODEPAGE,  /* OEM bytes through the oem_charset code page: the fallback */
	NTLM_TEXT_ESCAPED,   /* informative name not decodable: kept with \xHH escapes */
	NTLM_TEXT_UNREADABLE /* informative name whose field points outside its payload */
};
/* "none", "UTF-16LE", "ASCII", "UTF-8", "code page", "escaped", "unreadable" */
const char *ntlm_text_rule_name(enum ntlm_text_rule r);

/* OEM text to UTF-8: 7-bit text as it is, valid UTF-8 as it is, anything
 * else byte by byte through the code page cs. A NUL byte is refused
 * (NTLM_ERR_BAD_STRING). ret_rule (may be NULL) gets the rule applied. */
enum ntlm_status ntlm_oem_decode(const uint8_t *p, size_t len, enum ntlm_oem_charset cs, char **ret,
                                 enum ntlm_text_rule *ret_rule) NTLM_MUST_USE;
/* ntlm_oem_decode() with the default code page, CP850. */
enum ntlm_status ntlm_oem_to_utf8(const uint8_t *p, size_t len, char **ret) NTLM_MUST_USE;
/* A user, domain or workstation name may not hold a control character:
 * C0 (U+0000-U+001F), DEL (U+007F) or C1 (U+0080-U+009F, NEL U+0085
 * among them); spaces and every other character are allowed. Returns
 * NTLM_ERR_CONTROL_CHARACTER when the UTF-8 text s[0..len) holds one (a
 * NUL byte included), else NTLM_OK; the text's UTF-8 validity is not
 * checked here. The AUTHENTICATE decoder applies the same rule to the
 * names on the wire. */
enum ntlm_status ntlm_utf8_name_check(const char *s, size_t len) NTLM_MUST_USE;
/* Base64 (RFC 4648, padding required, canonical: the unused bits before
 * the padding are zero) encode/decode; the result is malloc'd. The time
 * taken depends on the length and the padding, not on the other data. */
enum ntlm_status ntlm_base64_encode(const uint8_t *p, size_t len, char **ret) NTLM_MUST_USE;
enum ntlm_status ntlm_base64_decode(const char *s, size_t slen, uint8_t **ret, size_t *ret_len) NTLM_MUST_USE;
/* ntlm_base64_decode_ex() flag: the last group may also come without its
 * '=' padding ("xx", "xxx"), as HTTP clients send it. */
#define NTLM_BASE64_PADDING_OPTIONAL 0x1u
enum ntlm_status ntlm_base64_decode_ex(const char *s, size_t slen, unsigned flags, uint8_t **ret,
                                       size_t *ret_len) NTLM_MUST_USE;
/* The length of the longest prefix of s[0..n) made of base64 characters
 * and '=' (where a blob ends in a line that goes on after it). */
size_t ntlm_base64_span(const char *s, size_t n);
/* Hex (either case) to bytes; ASCII white space between digits is skipped,
 * as in pasted dumps; an odd number of digits or any other character is
 * NTLM_ERR_BAD_ENCODING. The result is malloc'd (a 1-byte buffer for empty
 * input). */
enum ntlm_status ntlm_hex_decode(const char *s, size_t slen, uint8_t **ret, size_t *ret_len) NTLM_MUST_USE;
/* Exactly 2n hex digits (either case) to n bytes in out, in a time that
 * does not depend on the digits (they are NT hashes): any other length or
 * character is NTLM_ERR_BAD_ENCODING, and out is then wiped. */
enum ntlm_status ntlm_hex_to_bytes(const char *s, size_t slen, uint8_t *out, size_t n) NTLM_MUST_USE;
/* The value of one hex digit (either case), or -1; no branch or table
 * lookup depends on c. */
int ntlm_hex_digit(char c);

/* ------------------------------------------------------------------ */
/* Messages (MS-NLMP 2.2.1)                                            */
/* ------------------------------------------------------------------ */

/* A borrowed byte range; data is NULL when len is 0. */
struct ntlm_view {
	const uint8_t *data;
	size_t len;
};

/* MS-NLMP 2.2.2.10 VERSION */
struct ntlm_version {
	uint8_t major;
	uint8_t minor;
	uint16_t build;
	uint8_t revision; /* NTLMSSP_REVISION_W2K3 = 15 */
};

/* One AV_PAIR, borrowed from the buffer it was decoded from. */
struct ntlm_av_pair {
	uint16_t id;
	struct ntlm_view value;
};

/* A decoded AV_PAIR list (MS-NLMP 2.2.2.1); MsvAvEOL is not stored. */
struct ntlm_av_list {
	struct ntlm_av_pair pairs[NTLM_MAX_AV_PAIRS];
	size_t count;
};

/* Decodes a TargetInfo list: it must end with MsvAvEOL, nothing may follow
 * but zero padding, and each fixed-size pair (flags, timestamp, channel
 * bindings) must have its exact size. Borrows from p. */
enum ntlm_status ntlm_av_list_decode(const uint8_t *p, size_t len, struct ntlm_av_list *ret) NTLM_MUST_USE;
/* The first pair with that id, or NULL. */
const struct ntlm_av_pair *ntlm_av_list_find(const struct ntlm_av_list *l, uint16_t id);
/* Typed accessors: true and the value when the pair is present with exactly
 * 4 (u32) or 8 (u64) bytes. */
bool ntlm_av_list_get_u32(const struct ntlm_av_list *l, uint16_t id, uint32_t *ret);
bool ntlm_av_list_get_u64(const struct ntlm_av_list *l, uint16_t id, uint64_t *ret);
/* Appends one pair to w; ntlm_av_write_eol() writes the MsvAvEOL terminator. */
void ntlm_av_write(struct ntlm_writer *w, uint16_t id, const void *value, size_t len);
void ntlm_av_write_eol(struct ntlm_writer *w);

/*
 * The NEGOTIATE's domain and workstation only inform (MS-NLMP 2.2.1.1): the
 * decoder never refuses a message because of them. A name whose bytes are
 * not text (a NUL, a control character) is kept with \xHH escapes
 * (NTLM_TEXT_ESCAPED); one whose field points into the header or past the
 * end is left NULL (NTLM_TEXT_UNREADABLE).
 */
struct ntlm_negotiate {
	uint32_t flags;
	char *domain;      /* OEM domain if supplied and readable, else NULL */
	char *workstation; /* OEM workstation if supplied and readable, else NULL */
	bool has_version;
	struct ntlm_version version;
	enum ntlm_text_rule domain_text, workstation_text;
};

struct ntlm_challenge {
	uint32_t flags;
	uint8_t server_challenge[NTLM_CHALLENGE_LEN];
	char *target_name;            /* NULL when absent */
	struct ntlm_view target_info; /* raw AV_PAIR list, borrowed */
	bool has_version;
	struct ntlm_version version;
};

struct ntlm_authenticate {
	uint32_t flags;
	struct ntlm_view lm_response;
	struct ntlm_view nt_response;
	struct ntlm_view encrypted_session_key;
	char *domain; /* "" when empty, never NULL after a successful decode */
	char *user;
	char *workstation;
	bool has_version;
	struct ntlm_version version;
	/* MS-NLMP 2.2.1.3: the MIC follows VERSION when the payload leaves room.
	 * mic_offset is 0 when there is no room for a MIC. */
	size_t mic_offset;
	uint8_t mic[NTLM_MIC_LEN];
	/* how each name was decoded (UTF-16LE, or which OEM rule) */
	enum ntlm_text_rule domain_text, user_text, workstation_text;
};

/* What the decoders may be told beyond the message itself. */
struct ntlm_decode_options {
	enum ntlm_oem_charset oem_charset; /* OEM text that is not UTF-8 */
	/* AUTHENTICATE: the flags of the CHALLENGE it answers. The encoding
	 * the CHALLENGE chose (NTLMSSP_NEGOTIATE_UNICODE or _OEM) decodes the
	 * names, whatever the AUTHENTICATE's own flags say (MS-NLMP 3.2.5.1.2
	 * works on the server's NegFlg). When the CHALLENGE set both or
	 * neither, the AUTHENTICATE's choice comes first, then what the bytes
	 * can be. Without them the AUTHENTICATE's own flags decide. */
	bool has_challenge_flags;
	uint32_t challenge_flags;
};

/* Decoders: the buffer must be at most NTLM_MAX_MESSAGE bytes. Views in the
 * result borrow from buf; strings are allocated. The plain decoders use the
 * default options (CP850, the AUTHENTICATE's own flags). */
enum ntlm_status ntlm_negotiate_decode(const uint8_t *buf, size_t len,
                                       struct ntlm_negotiate *ret) NTLM_MUST_USE;
enum ntlm_status ntlm_challenge_decode(const uint8_t *buf, size_t len,
                                       struct ntlm_challenge *ret) NTLM_MUST_USE;
enum ntlm_status ntlm_authenticate_decode(const uint8_t *buf, size_t len,
                                          struct ntlm_authenticate *ret) NTLM_MUST_USE;
/* The decoders with options (opt NULL: the defaults). */
enum ntlm_status ntlm_negotiate_decode_ex(const uint8_t *buf, size_t len,
                                          const struct ntlm_decode_options *opt,
                                          struct ntlm_negotiate *ret) NTLM_MUST_USE;
enum ntlm_status ntlm_challenge_decode_ex(const uint8_t *buf, size_t len,
                                          const struct ntlm_decode_options *opt,
                                          struct ntlm_challenge *ret) NTLM_MUST_USE;
enum ntlm_status ntlm_authenticate_decode_ex(const uint8_t *buf, size_t len,
                                             const struct ntlm_decode_options *opt,
                                             struct ntlm_authenticate *ret) NTLM_MUST_USE;
void ntlm_negotiate_clear(struct ntlm_negotiate *m);
void ntlm_challenge_clear(struct ntlm_challenge *m);
void ntlm_authenticate_clear(struct ntlm_authenticate *m);
/* The message type (1, 2, 3) after checking the signature, or an error. */
enum ntlm_status ntlm_message_type(const uint8_t *buf, size_t len, uint32_t *ret) NTLM_MUST_USE;
/* The NegotiateFlags and ServerChallenge of a CHALLENGE message, read from
 * its fixed header only (signature and type checked): for a message this
 * process built or already decoded, without decoding it again. */
enum ntlm_status ntlm_challenge_peek(const uint8_t *buf, size_t len, uint32_t *ret_flags,
                                     uint8_t ret_server_challenge[NTLM_CHALLENGE_LEN]) NTLM_MUST_USE;

/* Encoders: the result is malloc'd; free it with free() (or wipe first). */
enum ntlm_status ntlm_negotiate_encode(const struct ntlm_negotiate *m, uint8_t **ret,
                                       size_t *ret_len) NTLM_MUST_USE;
enum ntlm_status ntlm_challenge_encode(const struct ntlm_challenge *m, uint8_t **ret,
                                       size_t *ret_len) NTLM_MUST_USE;
/* Writes a MIC field (zeroed) when m->mic_offset != 0; the caller patches
 * it. mic_offset must then be 72: without has_version the 8 VERSION bytes
 * are written as zeros, as MS-NLMP 2.2.1.3 keeps them. */
enum ntlm_status ntlm_authenticate_encode(const struct ntlm_authenticate *m, uint8_t **ret,
                                          size_t *ret_len) NTLM_MUST_USE;

/* MS-NLMP 2.2.2.7 NTLMv2_CLIENT_CHALLENGE, decoded from an NTLMv2 response
 * (after the 16-byte NTProofStr). */
struct ntlm_v2_blob {
	uint8_t resp_type;
	uint8_t hi_resp_type;
	uint64_t timestamp; /* FILETIME */
	uint8_t client_challenge[NTLM_CHALLENGE_LEN];
	struct ntlm_view av_pairs; /* borrowed; may carry trailing zero padding */
};
enum ntlm_status ntlm_v2_blob_decode(const uint8_t *p, size_t len, struct ntlm_v2_blob *ret) NTLM_MUST_USE;

/* ------------------------------------------------------------------ */
/* Response computations (MS-NLMP 3.3) and keys (3.4.5)                */
/* ------------------------------------------------------------------ */

/* MS-NLMP 3.3.1 */
enum ntlm_status ntlm_lmowfv1(const char *password, struct ntlm_hash *ret) NTLM_MUST_USE;
enum ntlm_status ntlm_ntowfv1(const char *password, struct ntlm_hash *ret) NTLM_MUST_USE;
/* MS-NLMP 3.3.2: HMAC_MD5(NTOWFv1, UNICODE(Uppercase(user) || domain)).
 * LMOWFv2 is the same function. */
enum ntlm_status ntlm_ntowfv2(const struct ntlm_hash *nt_hash, const char *user, const char *domain,
                              struct ntlm_hash *ret) NTLM_MUST_USE;
/* DESL(K, challenge): the 24-byte LM/NTLMv1 response of MS-NLMP 3.3.1 */
enum ntlm_status ntlm_desl(const struct ntlm_hash *key, const uint8_t challenge[8],
                           uint8_t ret[24]) NTLM_MUST_USE;
/* NTLMv1 with extended session security: DESL(K, MD5(server || client)[0..7]) */
enum ntlm_status ntlm_ess_response(const struct ntlm_hash *nt_hash, const uint8_t server_challenge[8],
                                   const uint8_t client_challenge[8], uint8_t ret[24]) NTLM_MUST_USE;
/* NTProofStr = HMAC_MD5(ResponseKeyNT, server_challenge || blob) (MS-NLMP 3.3.2) */
enum ntlm_status ntlm_ntproofstr(const struct ntlm_hash *response_key, const uint8_t server_challenge[8],
                                 const uint8_t *blob, size_t blob_len, uint8_t ret[16]) NTLM_MUST_USE;
/* LMv2 = HMAC_MD5(ResponseKeyLM, server || client)[16] || client[8] */
enum ntlm_status ntlm_lmv2_response(const struct ntlm_hash *response_key, const uint8_t server_challenge[8],
                                    const uint8_t client_challenge[8], uint8_t ret[24]) NTLM_MUST_USE;
/* SessionBaseKey for v2: HMAC_MD5(ResponseKeyNT, NTProofStr) */
enum ntlm_status ntlm_v2_session_base_key(const struct ntlm_hash *response_key, const uint8_t ntproofstr[16],
                                          struct ntlm_hash *ret) NTLM_MUST_USE;
/* SessionBaseKey for v1: MD4(NTOWFv1) */
enum ntlm_status ntlm_v1_session_base_key(const struct ntlm_hash *nt_hash,
                                          struct ntlm_hash *ret) NTLM_MUST_USE;
/* MS-NLMP 3.4.5.1 KXKEY. lm_response is the 24-byte LmChallengeResponse
 * (used only for NTLMv1 with LM_KEY); lm_hash is LMOWFv1 (used for LM_KEY and
 * REQUEST_NON_NT_SESSION_KEY), may be NULL otherwise. */
enum ntlm_status ntlm_kxkey(uint32_t flags, const struct ntlm_hash *session_base_key,
                            const uint8_t lm_response[24], const struct ntlm_hash *lm_hash,
                            const uint8_t server_challenge[8], bool ntlmv2,
                            struct ntlm_hash *ret) NTLM_MUST_USE;
/* MS-NLMP 3.4.5.2/3.4.5.3: client = true for the client-to-server keys.
 * SIGNKEY without ESS has no key: ret is zeroed and *ret_present is false. */
enum ntlm_status ntlm_signkey(uint32_t flags, const struct ntlm_hash *exported_key, bool client,
                              struct ntlm_hash *ret, bool *ret_present) NTLM_MUST_USE;
enum ntlm_status ntlm_sealkey(uint32_t flags, const struct ntlm_hash *exported_key, bool client,
                              struct ntlm_hash *ret) NTLM_MUST_USE;
/* RC4K(K, D) for a 16-byte D (EncryptedRandomSessionKey) */
enum ntlm_status ntlm_rc4k(const struct ntlm_hash *key, const uint8_t in[16], uint8_t ret[16]) NTLM_MUST_USE;
/* MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE)
 * where the AUTHENTICATE's MIC field at mic_offset is taken as zeros. */
enum ntlm_status ntlm_compute_mic(const struct ntlm_hash *exported_key, const uint8_t *negotiate,
                                  size_t negotiate_len, const uint8_t *challenge, size_t challenge_len,
                                  const uint8_t *authenticate, size_t authenticate_len, size_t mic_offset,
                                  uint8_t ret[16]) NTLM_MUST_USE;
/* HMAC-MD5 of one buffer (exported for benchmarks and helpers). */
enum ntlm_status ntlm_hmac_md5(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                               uint8_t ret[16]) NTLM_MUST_USE;

/*
 * Channel bindings (RFC 2744 gss_channel_bindings_struct, hashed as MS-NLMP
 * 2.2.2.1 MsvAvChannelBindings). Addresses are usually empty; application
 * data is e.g. "tls-server-end-point:" || certificate hash (RFC 5929).
 */
struct ntlm_channel_bindings {
	uint32_t initiator_addrtype;
	struct ntlm_view initiator_address;
	uint32_t acceptor_addrtype;
	struct ntlm_view acceptor_address;
	struct ntlm_view application_data;
};
enum ntlm_status ntlm_channel_bindings_hash(const struct ntlm_channel_bindings *cb,
                                            uint8_t ret[16]) NTLM_MUST_USE;

/* ------------------------------------------------------------------ */
/* Acceptor (server side, MS-NLMP 3.2.5)                               */
/* ------------------------------------------------------------------ */

enum ntlm_response_type {
	NTLM_RESPONSE_NONE = 0,
	NTLM_RESPONSE_ANONYMOUS,
	NTLM_RESPONSE_LM,
	NTLM_RESPONSE_NTLMV1,
	NTLM_RESPONSE_NTLMV1_ESS,
	NTLM_RESPONSE_NTLMV2,
	NTLM_RESPONSE_LMV2,
};
/* "LM", "NTLMv1", "NTLMv1-ESS", "NTLMv2", "LMv2", "anonymous", "none" */
const char *ntlm_response_type_name(enum ntlm_response_type t);

enum ntlm_cb_mode {
	NTLM_CB_OFF = 0,        /* bindings not checked (IIS "None") */
	NTLM_CB_WHEN_SUPPORTED, /* checked when the client sent non-zero bindings ("Allow") */
	NTLM_CB_REQUIRED,       /* must be present and match ("Require") */
};

/* The acceptor's policy. ntlm_policy_init() sets the defaults: NTLMv2 only,
 * MIC checked when the client announces it, CB when-supported, no SPN
 * list, server AV pairs checked, NIL-domain retry on, 1800 s maximum
 * clock skew (Samba's challenge lifetime; MS-NLMP's MaxLifetime of 36 h is
 * far too long for a server), anonymous refused. */
struct ntlm_policy {
	bool allow_lm;
	bool allow_ntlmv1;
	bool allow_ntlmv1_ess;
	bool allow_ntlmv2;
	bool allow_lmv2; /* only when no NTLMv2 response is present */
	bool allow_anonymous;
	bool require_mic;
	bool check_av_echo;    /* server AV pairs must come back unchanged */
	bool retry_nil_domain; /* MS-NLMP 3.2.5.1.2 NIL domain retry */
	enum ntlm_cb_mode channel_bindings;
	const char *const
	    *target_names;         /* accepted SPNs (case-insensitive), NULL-terminated; NULL = unchecked */
	bool allow_unverified_spn; /* accept MsvAvFlags UNVERIFIED_SPN when target_names set */
	uint64_t max_clock_skew; /* seconds; 0 = not checked (nor when the CHALLENGE had no MsvAvTimestamp) */
	uint32_t required_flags; /* must be set in the negotiated flags */
	enum ntlm_oem_charset oem_charset; /* OEM names that are not UTF-8 (default CP850) */
};
void ntlm_policy_init(struct ntlm_policy *p);

/* What the account store returns for a user. */
struct ntlm_credentials {
	struct ntlm_hash nt_hash;
	bool has_lm_hash;
	struct ntlm_hash lm_hash;
	/* NTLM_OK, or the account status (disabled, locked, expired, ...) that
	 * is returned only once the response has proved the password, so a
	 * guesser learns nothing about the account's state. */
	enum ntlm_status account_status;
};

/*
 * Account lookup, called at most once per verification (the NIL-domain
 * retry uses the same hashes). Returns NTLM_OK with creds,
 * NTLM_STATUS_NO_SUCH_USER, NTLM_ERR_BACKEND_UNAVAILABLE or an account
 * status (disabled, locked, ...). The library wipes *ret after use.
 */
typedef enum ntlm_status (*ntlm_lookup_fn)(void *ctx, const char *user, const char *domain,
                                           struct ntlm_credentials *ret);

/* Server names for the CHALLENGE (MS-NLMP 3.2.5.1.1). NULL fields are left
 * out. nb_computer is required. */
struct ntlm_server_names {
	const char *nb_computer;
	const char *nb_domain;
	const char *dns_computer;
	const char *dns_domain;
	const char *dns_tree;
	bool domain_joined; /* TargetName = domain instead of computer */
};

/*
 * Builds a CHALLENGE for a NEGOTIATE (which may be NULL for connectionless
 * callers): a CSPRNG server challenge, flags answered per MS-NLMP
 * 3.2.5.1.1, target info with the names and MsvAvTimestamp = now.
 * now is a FILETIME (ntlm_filetime_now()). The result is malloc'd.
 */
enum ntlm_status ntlm_acceptor_challenge(const struct ntlm_server_names *names, const uint8_t *negotiate,
                                         size_t negotiate_len, uint64_t now, uint8_t **ret,
                                         size_t *ret_len) NTLM_MUST_USE;

enum ntlm_verdict {
	NTLM_VERDICT_ABSENT = 0, /* nothing to check */
	NTLM_VERDICT_VALID,
	NTLM_VERDICT_INVALID,
	NTLM_VERDICT_UNCHECKED, /* present but not checked by policy */
};
/* "absent", "valid", "invalid", "unchecked" */
const char *ntlm_verdict_name(enum ntlm_verdict v);

/* Everything the acceptor learned; valid whatever the status, as far as the
 * verification got. Free with ntlm_accept_result_clear(). */
struct ntlm_accept_result {
	enum ntlm_status status;
	char *user; /* as sent by the client; NULL if not decoded */
	char *domain;
	char *workstation;
	enum ntlm_response_type response_type;
	uint32_t flags; /* AUTHENTICATE flags & CHALLENGE flags */
	enum ntlm_verdict mic;
	enum ntlm_verdict channel_bindings;
	enum ntlm_verdict target_name;
	char *client_target_name; /* MsvAvTargetName, NULL if absent */
	bool unverified_spn;
	bool has_client_timestamp;
	uint64_t client_timestamp; /* FILETIME from the NTLMv2 blob */
	int64_t clock_skew;        /* client - server, seconds (when has_client_timestamp) */
	bool used_nil_domain;      /* the NIL-domain retry matched */
	bool skew_checked;         /* the CHALLENGE had an MsvAvTimestamp, so the skew was checked */
	/* how user, domain and workstation were decoded; name_fallback is set
	 * when one of them needed the oem_charset code page */
	enum ntlm_text_rule user_text, domain_text, workstation_text;
	bool name_fallback;
	bool has_session_key;
	struct ntlm_hash session_key; /* ExportedSessionKey, on success only */
};
void ntlm_accept_result_clear(struct ntlm_accept_result *r);

/*
 * Verifies an AUTHENTICATE against the CHALLENGE it answers (and the
 * NEGOTIATE that started the exchange, for the MIC; NULL when there was
 * none) per MS-NLMP 3.2.5.1.2. cb is the application's channel bindings or
 * NULL. now is a FILETIME. Returns result->status.
 */
enum ntlm_status ntlm_acceptor_verify(const struct ntlm_policy *policy, const uint8_t *negotiate,
                                      size_t negotiate_len, const uint8_t *challenge, size_t challenge_len,
                                      const uint8_t *authenticate, size_t authenticate_len,
                                      const struct ntlm_channel_bindings *cb, ntlm_lookup_fn lookup,
                                      void *lookup_ctx, uint64_t now, struct ntlm_accept_result *result);

/*
 * Verifies a bare challenge/response pair (MS-CHAP style callers that carry
 * no NTLMSSP messages): NTLMv1 (24-byte NT response), NTLMv2 (longer NT
 * response) or, where policy allows, LM/LMv2 in lm_response. The NT session
 * key (for MPPE) is returned in result->session_key.
 */
enum ntlm_status ntlm_acceptor_verify_response(const struct ntlm_policy *policy, const char *user,
                                               const char *domain, const uint8_t server_challenge[8],
                                               const uint8_t *lm_response, size_t lm_len,
                                               const uint8_t *nt_response, size_t nt_len,
                                               ntlm_lookup_fn lookup, void *lookup_ctx, uint64_t now,
                                               struct ntlm_accept_result *result);

/*
 * The same verifications in steps, for a caller whose account store answers
 * later (a daemon that must not wait on a directory). The checks and their
 * order are those of ntlm_acceptor_verify(); no account is wanted for a
 * response the policy refuses, a malformed message, a stale or altered
 * challenge or a clock skew.
 *
 *   ntlm_verify_begin(...);                 decode, classify, policy, echo, skew
 *   if (ntlm_verify_wants(v, &user, &domain))
 *           lookup_status = <store>(user, domain, &creds);
 *   ntlm_verify_finish(v, lookup_status, &creds);   proof, MIC, CB, SPN, status
 *
 * begin returns NTLM_OK and *ret unless the arguments are wrong or memory
 * runs out (then result->status says so and *ret is NULL). It keeps
 * pointers to policy, the messages and cb: they must live until finish or
 * free. wants gives the names the account is looked up by (the client's,
 * owned by the result) while the proof waits for it. finish takes the
 * store's answer (creds only with NTLM_OK; copied, the caller wipes its
 * own), completes result, frees v and returns result->status; without a
 * wanted account it only completes and frees. ntlm_verify_free() abandons
 * a verification (a deadline passed): result keeps what was decoded.
 */
struct ntlm_verify;
enum ntlm_status ntlm_verify_begin(const struct ntlm_policy *policy, const uint8_t *negotiate,
                                   size_t negotiate_len, const uint8_t *challenge, size_t challenge_len,
                                   const uint8_t *authenticate, size_t authenticate_len,
                                   const struct ntlm_channel_bindings *cb, uint64_t now,
                                   struct ntlm_accept_result *result, struct ntlm_verify **ret) NTLM_MUST_USE;
enum ntlm_status ntlm_verify_begin_response(const struct ntlm_policy *policy, const char *user,
                                            const char *domain, const uint8_t server_challenge[8],
                                            const uint8_t *lm_response, size_t lm_len,
                                            const uint8_t *nt_response, size_t nt_len, uint64_t now,
                                            struct ntlm_accept_result *result,
                                            struct ntlm_verify **ret) NTLM_MUST_USE;
bool ntlm_verify_wants(const struct ntlm_verify *v, const char **ret_user, const char **ret_domain);
enum ntlm_status ntlm_verify_finish(struct ntlm_verify *v, enum ntlm_status lookup_status,
                                    const struct ntlm_credentials *creds);
void ntlm_verify_free(struct ntlm_verify *v);

/* Default of ntlm_policy.max_clock_skew, seconds */
#define NTLM_DEFAULT_MAX_CLOCK_SKEW 1800

/* Current time as a FILETIME (100 ns ticks since 1601-01-01 UTC). */
uint64_t ntlm_filetime_now(void);
/* FILETIME <-> Unix seconds */
uint64_t ntlm_filetime_from_unix(int64_t seconds);
int64_t ntlm_filetime_to_unix(uint64_t filetime);

/* ------------------------------------------------------------------ */
/* Initiator (client side, MS-NLMP 3.1.5)                              */
/* ------------------------------------------------------------------ */

enum ntlm_client_mode {
	NTLM_CLIENT_NTLMV2 = 0, /* default */
	NTLM_CLIENT_NTLMV1,     /* plain NTLMv1 (no ESS) with LM response */
	NTLM_CLIENT_NTLMV1_ESS, /* NTLMv1 with extended session security */
	NTLM_CLIENT_LM,         /* LM response only (NT response empty) */
	NTLM_CLIENT_LMV2,       /* LMv2 only (NT response empty) */
};

struct ntlm_initiator_config {
	const char *user;
	const char *domain;              /* may be NULL or "" */
	const char *workstation;         /* may be NULL */
	const char *password;            /* either password ... */
	const struct ntlm_hash *nt_hash; /* ... or the NT hash (then LM is unavailable) */
	enum ntlm_client_mode mode;
	bool no_mic;          /* NTLMv2: leave out MsvAvFlags MIC and the MIC */
	bool no_version;      /* leave out the VERSION field (curl style) */
	bool oem;             /* do not offer UNICODE */
	uint32_t extra_flags; /* added to the NEGOTIATE flags */
	uint32_t drop_flags;  /* removed from the NEGOTIATE/AUTHENTICATE flags */
	const struct ntlm_channel_bindings *channel_bindings; /* NULL: Z(16) is sent */
	bool no_channel_bindings;                             /* send no MsvAvChannelBindings pair at all */
	const char *target_name;                              /* MsvAvTargetName (SPN), NULL: none */
	bool unverified_spn;
	/* Test hooks: fixed values instead of random ones (NULL = random/now). */
	const uint8_t *client_challenge;   /* 8 bytes */
	const uint8_t *random_session_key; /* 16 bytes */
	const uint64_t *timestamp;         /* FILETIME used when the CHALLENGE has none */
};

/* NEGOTIATE for cfg; result malloc'd. */
enum ntlm_status ntlm_initiator_negotiate(const struct ntlm_initiator_config *cfg, uint8_t **ret,
                                          size_t *ret_len) NTLM_MUST_USE;
/*
 * AUTHENTICATE answering challenge (negotiate is the message sent before, for
 * the MIC; NULL if none). On success returns the message and, if
 * ret_session_key is not NULL, the ExportedSessionKey.
 */
enum ntlm_status ntlm_initiator_authenticate(const struct ntlm_initiator_config *cfg,
                                             const uint8_t *negotiate, size_t negotiate_len,
                                             const uint8_t *challenge, size_t challenge_len, uint8_t **ret,
                                             size_t *ret_len,
                                             struct ntlm_hash *ret_session_key) NTLM_MUST_USE;

/* ------------------------------------------------------------------ */
/* Session security (MS-NLMP 3.4)                                      */
/* ------------------------------------------------------------------ */

struct ntlm_session;

/*
 * Creates the sign/seal state for one side of an authenticated context.
 * flags are the negotiated flags, key the ExportedSessionKey; initiator
 * selects which direction's keys are used to send. The session is returned
 * in *ret; free it with ntlm_session_free().
 */
enum ntlm_status ntlm_session_new(uint32_t flags, const struct ntlm_hash *exported_key, bool initiator,
                                  struct ntlm_session **ret) NTLM_MUST_USE;
/* Wipes and frees; NULL-safe. */
void ntlm_session_free(struct ntlm_session *s);
/* MS-NLMP 3.4.4: signature over msg with the send sequence number, which advances. */
enum ntlm_status ntlm_session_sign(struct ntlm_session *s, const uint8_t *msg, size_t len,
                                   uint8_t ret_signature[16]) NTLM_MUST_USE;
/* Checks a received signature; NTLM_STATUS_MIC_INVALID when wrong. */
enum ntlm_status ntlm_session_verify(struct ntlm_session *s, const uint8_t *msg, size_t len,
                                     const uint8_t signature[16]) NTLM_MUST_USE;
/* MS-NLMP 3.4.3: encrypts msg into out (same length) and signs it. */
enum ntlm_status ntlm_session_seal(struct ntlm_session *s, const uint8_t *msg, size_t len, uint8_t *out,
                                   uint8_t ret_signature[16]) NTLM_MUST_USE;
/* Decrypts and verifies. out holds len bytes; wiped on failure. */
enum ntlm_status ntlm_session_unseal(struct ntlm_session *s, const uint8_t *msg, size_t len, uint8_t *out,
                                     const uint8_t signature[16]) NTLM_MUST_USE;

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* NTLMSSP_H */
