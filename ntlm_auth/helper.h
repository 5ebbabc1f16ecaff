/*
 * helper.h: the line protocols of ntlm_auth (Samba-compatible helper
 * protocols spoken to Squid, FreeRADIUS, pppd, Radiator, curl...), as a
 * state machine that needs no daemon: every question to ntlmd goes through
 * a pluggable function, so the fuzz targets and the tests drive the same
 * code the program runs.
 *
 * One call of na_helper_line() takes one input line (without its LF) and
 * appends the complete reply (zero or more lines, each ending in LF) to an
 * output buffer, which the caller writes and flushes at once.
 */
#ifndef PAM_NTLM_NTLM_AUTH_HELPER_H
#define PAM_NTLM_NTLM_AUTH_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "client.h"
#include "ntlmssp.h"

/* Longest input line accepted; Samba drops lines over 630000 bytes, Squid
 * sends at most 65535. */
#define NA_MAX_LINE 65536u
/* Longest client address taken from Squid's key_extras. */
#define NA_MAX_ADDRESS 64u

enum na_protocol {
	NA_PROTO_NONE = 0,
	NA_PROTO_SQUID_NTLMSSP,    /* squid-2.5-ntlmssp */
	NA_PROTO_SQUID_BASIC,      /* squid-2.5-basic */
	NA_PROTO_SQUID24_BASIC,    /* squid-2.4-basic: no URL unescaping */
	NA_PROTO_GSS_SPNEGO,       /* gss-spnego */
	NA_PROTO_NTLM_SERVER_1,    /* ntlm-server-1 */
	NA_PROTO_NTLMSSP_CLIENT,   /* ntlmssp-client-1 */
	NA_PROTO_GSS_SPNEGO_CLIENT /* gss-spnego-client */
};

/* gss-spnego-client: where the initiator's SPNEGO context stands */
enum na_spnego_client {
	NA_SPNEGO_CLIENT_NONE = 0, /* no context: the next token starts one */
	NA_SPNEGO_CLIENT_INIT,     /* NegTokenInit with the NEGOTIATE sent */
	NA_SPNEGO_CLIENT_AUTH,     /* NegTokenResp with the AUTHENTICATE sent */
	NA_SPNEGO_CLIENT_DONE,     /* the acceptor's accept-completed taken */
	NA_SPNEGO_CLIENT_FAILED,   /* refused; only YR starts again */
};

/* Asks ntlmd: a request of type with fields; fills *ret like ntlmd_call(). */
typedef enum ntlm_status (*na_call_fn)(void *ctx, uint16_t type, const struct ntlm_writer *fields,
                                       struct ntlmd_reply *ret);

struct na_options {
	enum na_protocol protocol;
	bool kv_replies;      /* Squid >= 3.4 replies: OK user=... / ERR message=... */
	bool quiet;           /* no diagnostics on stderr (fuzzing) */
	bool channel_ids;     /* basic: a channel-ID precedes each request */
	const char *service;  /* ntlmd service name (policy), NULL: the global one */
	const char *username; /* client mode; server modes: unused */
	const char *domain;   /* client mode */
	const char *password; /* client mode; NULL: ask with PW */
	/* client mode, --use-cached-creds without a password: there is no
	 * credential cache (no winbindd), so YR answers BH at once instead of
	 * asking with PW (see ntlm_auth(1)) */
	bool use_cached_creds;
	const char *workstation;
	/* client modes: the SPN put in MsvAvTargetName ("HTTP/www.example.com",
	 * from --target-service and --target-hostname), NULL: none */
	const char *target_name;
	char separator; /* winbind separator used to split DOMAIN<sep>user, default '\\' */
	/* --require-membership-of: require_group is true and group_gid the gid;
	 * group_error true when the name could not be resolved (then every
	 * authentication answers NT_STATUS_INVALID_PARAMETER, as Samba does). */
	bool require_group;
	bool group_error;
	gid_t group_gid;
	/* the group is a SID (group_name its canonical text): NSS is not
	 * asked, ntlmd's answer alone decides; no store knowing the SID is
	 * "not a member" (NT_STATUS_LOGON_FAILURE), as winbindd's check */
	bool group_is_sid;
	/* The group's name without its domain part, and the question to ntlmd's
	 * group search (CHECK_MEMBERSHIP) asked when NSS does not know the
	 * group or does not list the user in it: NTLM_OK (member),
	 * NTLM_STATUS_LOGON_FAILURE (not a member), NTLM_STATUS_NO_SUCH_USER
	 * (no store has the group) or NTLM_ERR_BACKEND_UNAVAILABLE. NULL: NSS
	 * only. */
	const char *group_name;
	/* ntlmd's group search for the account user of domain (ACCOUNT_NAME and
	 * ACCOUNT_DOMAIN of the reply that authenticated it) */
	enum ntlm_status (*group_check)(void *ctx, const char *group, const char *user, const char *domain);
	void *group_check_ctx;
};

struct na_buf {
	char *p;
	size_t len, cap;
	bool failed; /* out of memory: the content is incomplete */
};

/* Server NTLMSSP context state */
enum na_state {
	NA_STATE_NONE = 0,
	NA_STATE_CHALLENGED, /* CHALLENGE sent, AUTHENTICATE due */
	NA_STATE_DONE,       /* a final answer was given */
};

/* ntlm-server-1 request block being read */
struct na_block {
	char *username, *domain, *full_username, *password;
	uint8_t *challenge, *nt_response, *lm_response;
	size_t challenge_len, nt_len, lm_len;
	bool want_user_key, want_lm_key;
	/* The reply to the block's first line that could not be taken
	 * ("Error: ...\n.\n"), held until the block's "." answers with it
	 * (and with nothing else): one reply per block, whatever its lines
	 * (Samba answers such a line at once, and the "." again). */
	struct na_buf error;
};

struct na_helper {
	struct na_options opt;
	na_call_fn call;
	void *call_ctx;

	/* server side (squid-2.5-ntlmssp, gss-spnego) */
	enum na_state state;
	bool spnego; /* the client wraps its tokens in SPNEGO */
	uint8_t *negotiate, *challenge;
	size_t negotiate_len, challenge_len;
	bool has_flags, has_key;
	uint32_t flags;
	uint8_t session_key[16];

	/* client side (ntlmssp-client-1, gss-spnego-client) */
	char *client_password;
	uint8_t *client_negotiate;
	size_t client_negotiate_len;
	char pending; /* 'Y' for a YR, 'T' for a TT that waits for a PW, else 0 */
	char *pending_blob;
	/* gss-spnego-client: the context, the line that waits for a PW, and
	 * the session whose keys sign and check the mechListMICs */
	enum na_spnego_client sp_client;
	char *pending_line;
	struct ntlm_session *client_session;

	struct na_block block; /* ntlm-server-1 */

	/* The client address of the line being served (Squid's key_extras
	 * "%>a"), sent to ntlmd as CLIENT_ADDRESS; "" when there is none. */
	char client_address[NA_MAX_ADDRESS + 1];
	bool address_refused; /* a key_extras word was not taken (logged once) */
	bool mic_noted;       /* a client's mechListMIC was seen (logged once) */
};

/* A helper for opt (copied: its strings must outlive the helper) asking
 * the daemon through call(call_ctx, ...). */
void na_helper_init(struct na_helper *h, const struct na_options *opt, na_call_fn call, void *call_ctx);
/* Wipes and frees what the helper holds. */
void na_helper_clear(struct na_helper *h);

/* Processes one line (len bytes, no LF; may hold any byte) and appends the
 * reply to out. Whatever the line, ntlmd or an error text holds, no reply
 * line has a byte below 0x20 or 0x7F but its final LF, and the Squid
 * protocols (squid-2.5-ntlmssp, gss-spnego, the basic ones) answer with
 * exactly one line: a reply that would break this becomes a BH line. */
void na_helper_line(struct na_helper *h, const char *line, size_t len, struct na_buf *out);

/* The reply to a line over NA_MAX_LINE, which the reader dropped (held to
 * the same rule). */
void na_helper_overlong(struct na_helper *h, struct na_buf *out);

void na_buf_add(struct na_buf *b, const char *s);
void na_buf_addf(struct na_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Wipes and frees the buffer (it may hold a session key). */
void na_buf_clear(struct na_buf *b);

/* Room for na_escape() of a name of up to 256 bytes (4 per byte). */
#define NA_ESCAPE_MAX 1028u

/* s for a log line (stderr: FreeRADIUS's log, Squid's cache.log), to go
 * between double quotes: bytes below 0x20, 0x7F, the C1 controls and the
 * line and paragraph separators in UTF-8 (U+0080..U+009F, U+2028,
 * U+2029), and bytes that are not valid UTF-8 as \xHH; '"' and '\\' with a
 * backslash before them; the rest as it is. Cut to size - 1 bytes, ending
 * in "..." when cut. Returns out (size >= 4). */
const char *na_escape(const char *s, char *out, size_t size);

/* "helper-protocol" name -> protocol; NA_PROTO_NONE when unknown. */
enum na_protocol na_protocol_from_name(const char *name);

/* Samba's NT_STATUS name of an outcome, as printed in NA/BH lines; squash
 * turns NO_SUCH_USER and WRONG_PASSWORD into LOGON_FAILURE. */
const char *na_status_name(enum ntlm_status st, bool squash);
/* The NTSTATUS code of that name (0xc000006d for NT_STATUS_LOGON_FAILURE). */
uint32_t na_status_code(enum ntlm_status st, bool squash);
/* Samba's (<= 4.6) short text of the status: "Logon failure", ... */
const char *na_status_text(enum ntlm_status st, bool squash);
/* Samba >= 4.7's text of the status (MS-ERREF 2.3.1 descriptions, as
 * Samba 4.17 prints them): "The attempted logon is invalid. ..." */
const char *na_status_description(enum ntlm_status st, bool squash);

/* Decodes hex the way Samba's ntlm_auth does: optional "0x", either case,
 * stopping at the first pair that is not hex. Returns the byte count (at
 * most max) written to out. */
size_t na_hex_prefix(const char *s, uint8_t *out, size_t max);

/* Splits "DOMAIN<sep>user": *ret_domain gets a malloc'd copy of the domain
 * part (NULL when there is no separator), *ret_user points into name. */
bool na_split_user(const char *name, char sep, char **ret_domain, const char **ret_user);

/* True when the account (uid as the daemon sent, or else the name) is a
 * member of gid by NSS (primary group or getgrouplist). */
bool na_user_in_group(const char *user, bool has_uid, uint32_t uid, gid_t gid);

/* --require-membership-of for a successful reply of ntlmd, of user: the
 * canonical account the reply names (na_reply_account), never the
 * client's spelling; NULL fails. By NSS, then by opt->group_check: NTLM_OK, or NTLM_STATUS_LOGON_FAILURE (not
 * a member), NTLM_ERR_INVALID_ARGUMENT (neither NSS nor ntlmd knows the group), NTLM_ERR_BACKEND_UNAVAILABLE
 * (ntlmd or its directory could not answer). */
enum ntlm_status na_membership(const struct na_options *opt, const struct ntlmd_reply *reply,
                               const char *user);
/* The account a successful reply names (ACCOUNT_NAME), or NULL. */
const char *na_reply_account(const struct ntlmd_reply *reply);

#endif /* PAM_NTLM_NTLM_AUTH_HELPER_H */
