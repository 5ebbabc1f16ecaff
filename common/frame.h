/*
 * frame.h: encoding and decoding of ntlmd frames (common/protocol.h,
 * docs/PROTOCOL.md) on top of libntlmssp's bounded reader and writer.
 *
 * A decoded frame owns one buffer holding a copy of every known field,
 * each followed by a NUL byte, so string fields can be used as C strings.
 * The buffer may hold passwords: ntlmd_frame_clear() wipes it. Pointers
 * returned by the getters borrow from the frame and live as long as it.
 *
 * Decoding refuses, each with its own status:
 *   bad magic or version          NTLM_ERR_BAD_SIGNATURE
 *   flags other than 0            NTLM_ERR_BAD_REQUEST
 *   payload_len over the cap      NTLM_ERR_MESSAGE_TOO_LONG
 *   frame or field header cut     NTLM_ERR_TRUNCATED
 *   field value past the payload  NTLM_ERR_FIELD_OUT_OF_BOUNDS
 *   bytes after the payload       NTLM_ERR_TRAILING_DATA
 *   a tag twice, or over the cap  NTLM_ERR_BAD_REQUEST
 *   fixed-size field of bad size  NTLM_ERR_BAD_REQUEST
 *   string with NUL / bad UTF-8   NTLM_ERR_BAD_STRING
 *   USER, DOMAIN or WORKSTATION   NTLM_ERR_CONTROL_CHARACTER
 *     with a control character
 *     (C0, DEL, C1; NUL too)
 *   string over NTLMD_MAX_STRING  NTLM_ERR_STRING_TOO_LONG
 * Unknown tags are skipped (after the duplicate check).
 */
#ifndef PAM_NTLM_COMMON_FRAME_H
#define PAM_NTLM_COMMON_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntlmssp.h"
#include "protocol.h"

/* Tags below this value can be known (and are stored); higher ones are
 * skipped. Raise it when protocol.h gains a tag at or above it. */
#define NTLMD_FRAME_TAGS 128u

/* A field of a decoded frame. data is followed by a NUL byte. */
struct ntlmd_field {
	const uint8_t *data; /* NULL when absent */
	uint32_t len;        /* at most NTLMD_MAX_PAYLOAD */
	bool present;
};

struct ntlmd_frame {
	uint16_t type;
	uint8_t *buf; /* owned copy of the fields, wiped on clear */
	size_t buf_size;
	struct ntlmd_field fields[NTLMD_FRAME_TAGS];
};

/* ------------------------------------------------------------------ */
/* Decoding                                                            */
/* ------------------------------------------------------------------ */

/* Checks a 12-byte header (len must be at least NTLMD_HEADER_LEN; only the
 * first 12 bytes are read): magic, version, flags 0, payload_len within
 * NTLMD_MAX_PAYLOAD. Returns the type and the payload length. */
enum ntlm_status ntlmd_header_decode(const uint8_t *p, size_t len, uint16_t *ret_type,
                                     uint32_t *ret_payload_len) NTLM_MUST_USE;

/* Decodes a payload of a frame of the given type into *ret (which the
 * caller frees with ntlmd_frame_clear()); on failure *ret is left empty. */
enum ntlm_status ntlmd_payload_decode(uint16_t type, const uint8_t *p, size_t len,
                                      struct ntlmd_frame *ret) NTLM_MUST_USE;

/* Decodes a whole frame: header and payload, exactly len bytes. */
enum ntlm_status ntlmd_frame_decode(const uint8_t *p, size_t len, struct ntlmd_frame *ret) NTLM_MUST_USE;

/* Wipes and frees what the frame owns; the struct is left zeroed. NULL-safe. */
void ntlmd_frame_clear(struct ntlmd_frame *f);

/* ------------------------------------------------------------------ */
/* Getters: NTLM_OK, or NTLM_ERR_TRUNCATED when the field is absent, or    */
/* NTLM_ERR_BAD_ENCODING when the tag is not of that kind.             */
/* ------------------------------------------------------------------ */

bool ntlmd_frame_has(const struct ntlmd_frame *f, uint16_t tag);
/* A string field (NUL-free UTF-8, at most NTLMD_MAX_STRING bytes). */
enum ntlm_status ntlmd_frame_get_string(const struct ntlmd_frame *f, uint16_t tag,
                                        const char **ret) NTLM_MUST_USE;
/* The string, or NULL when absent: for optional fields. */
const char *ntlmd_frame_string(const struct ntlmd_frame *f, uint16_t tag);
/* Any field's bytes (data is NULL when len is 0). */
enum ntlm_status ntlmd_frame_get_bytes(const struct ntlmd_frame *f, uint16_t tag, const uint8_t **ret,
                                       size_t *ret_len) NTLM_MUST_USE;
enum ntlm_status ntlmd_frame_get_u32(const struct ntlmd_frame *f, uint16_t tag, uint32_t *ret) NTLM_MUST_USE;
enum ntlm_status ntlmd_frame_get_u64(const struct ntlmd_frame *f, uint16_t tag, uint64_t *ret) NTLM_MUST_USE;
enum ntlm_status ntlmd_frame_get_u8(const struct ntlmd_frame *f, uint16_t tag, uint8_t *ret) NTLM_MUST_USE;

/* The status of a reply frame: its NTLMD_TAG_STATUS code mapped back to
 * enum ntlm_status (NTLM_ERR_INTERNAL for a code no status has).
 * NTLM_ERR_TRUNCATED when the reply carries no status. */
enum ntlm_status ntlmd_reply_status(const struct ntlmd_frame *reply, enum ntlm_status *ret) NTLM_MUST_USE;
/* The status whose NTSTATUS code is code; NTLM_ERR_INTERNAL if none. */
enum ntlm_status ntlmd_status_from_code(uint32_t code);

/* ------------------------------------------------------------------ */
/* Encoding                                                            */
/* ------------------------------------------------------------------ */

/* Starts a field list (a payload) capped at NTLMD_MAX_PAYLOAD. */
void ntlmd_fields_init(struct ntlm_writer *w);
/* Appends one field. A NULL string is left out (optional fields); a string
 * over NTLMD_MAX_STRING or with a byte that is not allowed makes the writer
 * fail (sticky) with NTLM_ERR_STRING_TOO_LONG / NTLM_ERR_BAD_STRING. */
void ntlmd_put_string(struct ntlm_writer *w, uint16_t tag, const char *s);
void ntlmd_put_bytes(struct ntlm_writer *w, uint16_t tag, const void *p, size_t n);
void ntlmd_put_u32(struct ntlm_writer *w, uint16_t tag, uint32_t v);
void ntlmd_put_u64(struct ntlm_writer *w, uint16_t tag, uint64_t v);
void ntlmd_put_u8(struct ntlm_writer *w, uint16_t tag, uint8_t v);

/* A frame of type with fields (a writer from ntlmd_fields_init(); NULL for
 * none) as its payload. The result is malloc'd: wipe and free it. Fails
 * with the writer's sticky error, or NTLM_ERR_MESSAGE_TOO_LONG. */
enum ntlm_status ntlmd_frame_encode(uint16_t type, const struct ntlm_writer *fields, uint8_t **ret,
                                    size_t *ret_len) NTLM_MUST_USE;
/* A reply to request_type: NTLMD_TAG_STATUS, NTLMD_TAG_STATUS_NAME and
 * NTLMD_TAG_MESSAGE of status first, then fields (may be NULL). */
enum ntlm_status ntlmd_reply_encode(uint16_t request_type, enum ntlm_status status,
                                    const struct ntlm_writer *fields, uint8_t **ret,
                                    size_t *ret_len) NTLM_MUST_USE;

/* True when s[0..len) may be a string field: valid UTF-8 without NUL, at
 * most NTLMD_MAX_STRING bytes. */
bool ntlmd_string_valid(const char *s, size_t len);

#endif /* PAM_NTLM_COMMON_FRAME_H */
