/*
 * internal.h: declarations shared by the library's own files and not
 * exported (the library is built with -fvisibility=hidden).
 */
#ifndef NTLM_INTERNAL_H
#define NTLM_INTERNAL_H

#include "ntlmssp.h"

#include <string.h>

/* MS-NLMP 2.2.1: "NTLMSSP\0" and the message types */
#define NTLM_SIGNATURE         "NTLMSSP"
#define NTLM_SIGNATURE_BYTES   8
#define NTLM_TYPE_NEGOTIATE    1u
#define NTLM_TYPE_CHALLENGE    2u
#define NTLM_TYPE_AUTHENTICATE 3u

/* Fixed header sizes (without VERSION) of MS-NLMP 2.2.1.1-2.2.1.3 */
#define NTLM_NEGOTIATE_HEADER    32u
#define NTLM_CHALLENGE_HEADER    48u
#define NTLM_AUTHENTICATE_HEADER 64u
#define NTLM_VERSION_LEN         8u
#define NTLM_NTLMV2_BLOB_HEADER  28u /* RespType .. ChallengeFromClient + Reserved3 */
#define NTLM_V1_RESPONSE_LEN     24u

/* NTLMSSP_REVISION_W2K3 (MS-NLMP 2.2.2.10) */
#define NTLM_REVISION_W2K3 15u

/* The number of elements of an array (not a pointer). */
#define NTLM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Wipes an array (not a pointer) completely. */
#define NTLM_WIPE_ARRAY(a) ntlm_wipe((a), sizeof(a))
/* Wipes the object a pointer points to. */
#define NTLM_WIPE_OBJECT(p) ntlm_wipe((p), sizeof(*(p)))

/* Little-endian unsigned integers of n bytes (n <= 8), the byte order of
 * every NTLM integer (MS-NLMP 2.2), in memory the caller has bounds-checked.
 * Untrusted input is read through struct ntlm_reader, which uses these. */
uint64_t ntlm_load_le(const uint8_t *p, size_t n);
void ntlm_store_le(uint8_t *p, uint64_t v, size_t n);

/* Records st as the writer's error unless it already has one (errors are
 * sticky: ntlm_writer_finish() reports the first). */
void ntlm_writer_fail(struct ntlm_writer *w, enum ntlm_status st);

/* Appends one AV pair holding a name in UTF-16LE (MS-NLMP 2.2.2.1); a
 * NULL name is left out. */
enum ntlm_status ntlm_av_write_name(struct ntlm_writer *w, uint16_t id, const char *name) NTLM_MUST_USE;

/* What every *_clear() does: frees the n strings the struct at obj owns
 * (with ntlm_free_string), then wipes the struct's size bytes. */
void ntlm_clear_struct(void *obj, size_t size, char *const *strings, size_t n);

/* The names of an AUTHENTICATE as they come on the wire, UTF-16LE when
 * unicode, else OEM: NTLM_ERR_CONTROL_CHARACTER when a code unit is a
 * control character (see ntlm_utf8_name_check()), else NTLM_OK. Only
 * whole units are looked at: the conversion refuses an odd length. */
enum ntlm_status ntlm_wire_name_check(const uint8_t *p, size_t len, bool unicode) NTLM_MUST_USE;

/* Bytes as log-safe text: printable ASCII but the backslash as it is,
 * every other byte as \xHH. For informative names that are not text. */
enum ntlm_status ntlm_escape_bytes(const uint8_t *p, size_t len, char **ret) NTLM_MUST_USE;

/* A TargetInfo or blob AV list that may be absent: no bytes at all is the
 * empty list (a CHALLENGE without TargetInfo, MS-NLMP 2.2.1.2), anything
 * else goes through ntlm_av_list_decode(). */
enum ntlm_status ntlm_av_list_decode_opt(const uint8_t *p, size_t len,
                                         struct ntlm_av_list *ret) NTLM_MUST_USE;

/* Case-insensitive comparison of two UTF-8 strings for ASCII letters
 * (SPNs, domain names); other bytes must match exactly. */
bool ntlm_ascii_casecmp_eq(const char *a, const char *b);

/* Upper-cases a UTF-16LE buffer in place (MS-NLMP UpperCase()) for the
 * Basic Latin and Latin-1 letters, as Windows' NTOWFv2 does for user names. */
void ntlm_utf16le_upper(uint8_t *p, size_t len);

#endif /* NTLM_INTERNAL_H */
