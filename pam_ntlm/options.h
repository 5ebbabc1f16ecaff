/*
 * options.h: the parts of pam_ntlm.so that need no PAM handle, so that a
 * unit test can link them: the module options, the mapping of ntlmd's
 * statuses to PAM return codes, and the decoding of the NTLMSSP messages
 * an application answers in the conversation (docs/pam-conversation.md).
 */
#ifndef PAM_NTLM_OPTIONS_H
#define PAM_NTLM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntlmssp.h"
#include "spnego.h"

/* How pam_sm_authenticate talks to the application. */
enum pam_ntlm_mode {
	PAM_NTLM_MODE_AUTO = 0, /* a password, or a NEGOTIATE that starts an exchange */
	PAM_NTLM_MODE_EXCHANGE, /* NEGOTIATE in, CHALLENGE out, AUTHENTICATE in */
	PAM_NTLM_MODE_VERIFY,   /* NEGOTIATE, CHALLENGE and AUTHENTICATE in */
	PAM_NTLM_MODE_PASSWORD, /* a password, checked by the daemon (the default: no
	                           exchange starts unless the service asks for one) */
};

/* Bounds of timeout=MS. */
#define PAM_NTLM_TIMEOUT_MIN 100u
#define PAM_NTLM_TIMEOUT_MAX 600000u
/* Longest socket path (sun_path holds 108 bytes with the NUL). */
#define PAM_NTLM_SOCKET_MAX 107u
/* Longest service name (a string field of the daemon protocol). */
#define PAM_NTLM_SERVICE_MAX 256u
/* add_users: the lowest uid added when min_uid= is not given and
 * PAM_NTLM_LOGIN_DEFS has no UID_MIN (shadow's default). */
#define PAM_NTLM_MIN_UID_DEFAULT 1000u
/* Where UID_MIN is read (shadow's login.defs(5)). */
#define PAM_NTLM_LOGIN_DEFS "/etc/login.defs"

struct pam_ntlm_options {
	char socket[PAM_NTLM_SOCKET_MAX + 1]; /* "" = the daemon's default */
	unsigned timeout_ms;                  /* 0 = the client's default */
	enum pam_ntlm_mode mode;
	bool use_first_pass;
	bool try_first_pass;
	bool use_authtok;
	bool migrate;
	bool add_users;   /* migrate: also add system users missing from the store */
	bool min_uid_set; /* min_uid= given; otherwise UID_MIN of login.defs */
	uint32_t min_uid; /* add_users: the lowest uid added (when min_uid_set) */
	bool ignore_unknown_user;
	bool debug;
	bool require_cb;                        /* refuse an exchange without channel bindings */
	char service[PAM_NTLM_SERVICE_MAX + 1]; /* "" = PAM_SERVICE */
};

/* Called once per bad argument with a sentence that names it. */
typedef void (*pam_ntlm_complain_fn)(void *ctx, const char *message);

/*
 * Parses the module arguments into *ret (defaults first). Every argument
 * that is not a known option with a valid value is reported through
 * complain and counted; the valid ones still apply. Returns the number of
 * bad arguments (0: all good).
 */
unsigned pam_ntlm_parse_options(int argc, const char **argv, struct pam_ntlm_options *ret,
                                pam_ntlm_complain_fn complain, void *ctx);

/*
 * UID_MIN of a login.defs(5) file (lines "NAME VALUE", '#' comments): true
 * with *ret when the file defines it as a decimal number (optionally in
 * double quotes) of at most UINT32_MAX, the last such line counting;
 * false, *ret untouched, when the file cannot be read or has none.
 */
bool pam_ntlm_login_defs_uid_min(const char *path, uint32_t *ret);

/* "auto", "exchange", "verify", "password" */
const char *pam_ntlm_mode_name(enum pam_ntlm_mode m);

/*
 * The identity rule (docs/pam-conversation.md, "Who logs in"): true when
 * pam_user names the account ntlmd found, that is when it is, byte for
 * byte, either the account's name as its store spells it (ACCOUNT_NAME,
 * "alice") or the name ntlmd formats for the account (AUTH_USER, per
 * user_name_format, TESTDOM\alice). Case counts: "Alice" and " alice"
 * are not "alice". False when pam_user or account_name is NULL or empty;
 * auth_user may be NULL.
 */
bool pam_ntlm_user_names_account(const char *pam_user, const char *account_name, const char *auth_user);

/*
 * Writes s into buf[cap] for a log line: in double quotes, with '"' and
 * '\' escaped by a backslash and every control byte (C0, DEL, and C1 in
 * UTF-8: C2 80 .. C2 9F) as \xHH, so that a name can neither break the
 * line nor pass for another; cut, with "..." after the closing quote, when
 * it does not fit. NULL gives - without quotes; a cap under 8 gives "".
 * Returns buf. Only names go through here, never a secret.
 */
const char *pam_ntlm_quote(const char *s, char *buf, size_t cap);

/* Which PAM function asks: the same status means different PAM codes. */
enum pam_ntlm_phase {
	PAM_NTLM_PHASE_AUTH = 0, /* pam_sm_authenticate */
	PAM_NTLM_PHASE_ACCOUNT,  /* pam_sm_acct_mgmt */
	PAM_NTLM_PHASE_PASSWORD, /* pam_sm_chauthtok */
};

/* The PAM return code (PAM_SUCCESS, PAM_AUTH_ERR, ...) for a status of
 * ntlmd or of the module itself, in a phase. */
int pam_ntlm_status_to_pam(enum ntlm_status s, enum pam_ntlm_phase phase);

/* Longest answer the module accepts in the conversation: the base64 of a
 * 12 KiB token and a "Negotiate " prefix. An NTLMSSP message is at most
 * NTLM_MAX_MESSAGE bytes, wrapped or not; the rest of the room lets a
 * Kerberos token be recognised, and refused by name, rather than called
 * too long. */
#define PAM_NTLM_MAX_ANSWER 16400u

/* What carried a message the application answered. */
struct pam_ntlm_wrapping {
	bool spnego;         /* in a SPNEGO NegTokenInit or NegTokenResp (RFC 4178) */
	bool kerberos;       /* the token carries Kerberos, which is not served */
	bool offers_ntlmssp; /* a NegTokenInit without an NTLMSSP mechToken that lists NTLMSSP */
	char krb_what[16];   /* "AP-REQ", ... ; "" when not known */
	char krb_realm[128]; /* the ticket's realm, "" when not decoded */
	char krb_sname[256]; /* the ticket's service name, "" when not decoded */
};

/*
 * Decodes an NTLMSSP message of the given type (1, 2 or 3) as the
 * application typed it: optional white space around it, an optional "NTLM "
 * or "Negotiate " prefix (any case), then standard base64 of either the bare
 * message or a SPNEGO / GSS-API token that carries it (common/spnego.h). The
 * message must have the NTLMSSP signature and that type and be at most
 * NTLM_MAX_MESSAGE bytes. The result is malloc'd. Statuses:
 * NTLM_ERR_MESSAGE_TOO_LONG, NTLM_ERR_BAD_ENCODING (not base64, bad DER),
 * NTLM_ERR_TRUNCATED (empty), NTLM_ERR_BAD_SIGNATURE,
 * NTLM_ERR_WRONG_MESSAGE_TYPE (also for a token of another mechanism:
 * info->kerberos says when it is Kerberos), NTLM_ERR_NO_MEMORY. When info is
 * not NULL it is always written.
 */
enum ntlm_status pam_ntlm_decode_token(const char *text, uint32_t type, uint8_t **ret, size_t *ret_len,
                                       struct pam_ntlm_wrapping *info) NTLM_MUST_USE;

/* pam_ntlm_decode_token() without the wrapping details. */
enum ntlm_status pam_ntlm_decode_message(const char *text, uint32_t type, uint8_t **ret,
                                         size_t *ret_len) NTLM_MUST_USE;

/* True when text (as typed) decodes to an NTLMSSP NEGOTIATE_MESSAGE, bare or
 * SPNEGO-wrapped, to a NegTokenInit that offers NTLMSSP, or to a Kerberos
 * token: auto mode then starts an exchange (which selects NTLMSSP, or
 * refuses Kerberos by name) instead of checking a password. */
bool pam_ntlm_looks_like_negotiate(const char *text);

#endif /* PAM_NTLM_OPTIONS_H */
