/*
 * pam_ntlm.c: pam_ntlm.so, NTLM and password logins through ntlmd.
 *
 * The module never sees an NT hash: every verdict comes from the daemon
 * (docs/PROTOCOL.md). docs/pam-conversation.md and pam_ntlm(8) describe
 * the conversation an application answers.
 */
#include <config.h>

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#define PAM_SM_PASSWORD
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "client.h"
#include "ntlmd_conf.h" /* NTLMD_DEFAULT_SOCKET */
#include "ntlmssp.h"
#include "options.h"
#include "spnego.h"

/* pam_get_data / pam_set_data keys (documented in pam_ntlm(8)). */
#define DATA_EXCHANGE    "pam_ntlm_exchange"    /* an exchange waiting for its next answer */
#define DATA_SESSION_KEY "pam_ntlm_session_key" /* 16 bytes: ExportedSessionKey */
#define DATA_IDENTITY    "pam_ntlm_identity"    /* struct pam_ntlm_identity */
#define DATA_MIGRATE     "pam_ntlm_migrate"     /* struct migrate_candidate, until pam_setcred */

/* The PAM environment variable an application sets (pam_putenv) to pass
 * channel-binding application data, base64 (RFC 5929 tls-server-end-point). */
#define ENV_CB_APPLICATION "NTLM_CB_APPLICATION"
/* Set by the module after a SPNEGO-wrapped exchange succeeded: the base64
 * of the final NegTokenResp (accept-completed) the application sends the
 * client (HTTP "WWW-Authenticate: Negotiate <token>"). */
#define ENV_FINAL_TOKEN "NTLM_FINAL_TOKEN"

/* Prompts (docs/pam-conversation.md). */
#define PROMPT_PASSWORD     "Password: "
#define PROMPT_NEGOTIATE    "NTLM NEGOTIATE: "
#define PROMPT_CHALLENGE    "NTLM CHALLENGE: "
#define PROMPT_AUTHENTICATE "NTLM AUTHENTICATE: "
#define PROMPT_CURRENT      "Current NTLM password: "

struct module {
	pam_handle_t *pamh;
	struct pam_ntlm_options opt;
	const char *service;
	const char *rhost;
};

/* The account the daemon authenticated (its canonical names, never the
 * client's spelling), for pam_sm_acct_mgmt. */
struct pam_ntlm_identity {
	char account[NTLMD_MAX_STRING + 1];     /* ACCOUNT_NAME: the store's name */
	char domain[NTLMD_MAX_STRING + 1];      /* ACCOUNT_DOMAIN */
	char auth_user[NTLMD_MAX_STRING + 1];   /* AUTH_USER: what PAM_USER is set to */
	char workstation[NTLMD_MAX_STRING + 1]; /* the exchange's, for the workstation list */
};

/* An exchange across calls of pam_authenticate (PAM_INCOMPLETE). */
enum step {
	STEP_FIRST = 0,    /* auto mode: waiting for a password or a NEGOTIATE */
	STEP_NEGOTIATE,    /* waiting for the NEGOTIATE */
	STEP_CHALLENGE,    /* verify mode: waiting for the CHALLENGE */
	STEP_AUTHENTICATE, /* waiting for the AUTHENTICATE */
};

struct exchange {
	enum pam_ntlm_mode mode;
	enum step step;
	uint8_t *negotiate; /* NULL: none */
	size_t negotiate_len;
	uint8_t *challenge;
	size_t challenge_len;
	char *prompt;      /* exchange mode: the prompt carrying the CHALLENGE (or the SPNEGO answer) */
	bool spnego;       /* the NEGOTIATE came in SPNEGO: the CHALLENGE goes back in it */
	bool renegotiated; /* NTLMSSP was selected in SPNEGO: the NEGOTIATE is asked again */
};

/* ------------------------------------------------------------------ */
/* Options and logging                                                 */
/* ------------------------------------------------------------------ */

static void complain(void *ctx, const char *message)
{
	pam_syslog((pam_handle_t *)ctx, LOG_ERR, "%s", message);
}

/* Parses the arguments (bad ones are logged) and fills the context. */
static void module_init(struct module *m, pam_handle_t *pamh, int argc, const char **argv)
{
	const void *item = NULL;

	memset(m, 0, sizeof(*m));
	m->pamh = pamh;
	(void)pam_ntlm_parse_options(argc, argv, &m->opt, complain, pamh);
	m->service = m->opt.service;
	if (m->service[0] == '\0') {
		m->service = NULL;
		if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS && item != NULL)
			m->service = item;
	}
	item = NULL;
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item != NULL && *(const char *)item)
		m->rhost = item;
}

/* A copy of s fit for a log line: control bytes become '?', long text is
 * cut. Only names go through here, never a secret. */
static const char *printable(const char *s, char *buf, size_t cap)
{
	size_t i = 0;

	if (s == NULL)
		return "-";
	for (; s[i] != '\0' && i + 1 < cap; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

/* Logs the outcome of a request once: the status name, the user and what
 * the request was. */
static void log_outcome(const struct module *m, int priority, const char *what, const char *user,
                        enum ntlm_status st)
{
	char ubuf[128], rbuf[64];

	pam_syslog(m->pamh, priority, "%s for user %s%s%s: %s", what, printable(user, ubuf, sizeof(ubuf)),
	           m->rhost != NULL ? " from " : "",
	           m->rhost != NULL ? printable(m->rhost, rbuf, sizeof(rbuf)) : "", ntlm_status_name(st));
}

/* PAM_USER as the application (pam_start) or an earlier module set it,
 * without prompting: NULL when unset or empty. */
static const char *preset_user(pam_handle_t *pamh)
{
	const void *item = NULL;

	if (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS || item == NULL || *(const char *)item == '\0')
		return NULL;
	return item;
}

/* Logs a verdict refused because the PAM user and the NTLM account are not
 * the same account: both names, escaped. */
static void log_mismatch(const struct module *m, const char *what, const char *pam_user, const char *account,
                         const char *auth_user)
{
	char ubuf[192], abuf[192], fbuf[192], rbuf[64];

	pam_syslog(m->pamh, LOG_WARNING, "%s refused: PAM user %s is not the NTLM account %s (%s)%s%s: %s",
	           what, pam_ntlm_quote(pam_user, ubuf, sizeof(ubuf)),
	           pam_ntlm_quote(account, abuf, sizeof(abuf)), pam_ntlm_quote(auth_user, fbuf, sizeof(fbuf)),
	           m->rhost != NULL ? " from " : "",
	           m->rhost != NULL ? printable(m->rhost, rbuf, sizeof(rbuf)) : "",
	           ntlm_status_name(NTLM_STATUS_LOGON_FAILURE));
}

/* The account a successful reply names (ACCOUNT_NAME), or NULL, logged,
 * when it names none: an ntlmd older than the module, whose verdict may
 * stand for another spelling of the name. The caller fails closed. */
static const char *reply_account(const struct module *m, const char *what, const struct ntlmd_frame *f)
{
	const char *account = ntlmd_frame_string(f, NTLMD_TAG_ACCOUNT_NAME);

	if (account != NULL && account[0] != '\0')
		return account;
	pam_syslog(m->pamh, LOG_ERR,
	           "%s refused: ntlmd's reply names no account (ACCOUNT_NAME; ntlmd older than "
	           "pam_ntlm?): %s",
	           what, ntlm_status_name(NTLM_STATUS_LOGON_FAILURE));
	return NULL;
}

/*
 * A request for PAM user pam_user that named the account name with
 * EXACT_NAME succeeded: the account the reply names must be name, byte for
 * byte (the daemon promised it; a daemon that did not keep the promise is
 * refused all the same). PAM_SUCCESS, or PAM_AUTH_ERR (logged) for any
 * other account or none.
 */
static int check_exact_account(const struct module *m, const char *what, const char *pam_user,
                               const char *name, const struct ntlmd_frame *f)
{
	const char *account = reply_account(m, what, f);

	if (account == NULL)
		return PAM_AUTH_ERR;
	if (strcmp(account, name) != 0) { /* not secret: names */
		log_mismatch(m, what, pam_user, account, ntlmd_frame_string(f, NTLMD_TAG_AUTH_USER));
		return PAM_AUTH_ERR;
	}
	return PAM_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* The daemon                                                          */
/* ------------------------------------------------------------------ */

/* Adds SERVICE and CLIENT_ADDRESS, sends, and returns the daemon's status,
 * or NTLM_ERR_BACKEND_UNAVAILABLE (logged here) when the daemon could not
 * be asked or its reply was not valid. On a reply *ret holds it; otherwise
 * *ret is zeroed. The writer is cleared. */
static enum ntlm_status ask_daemon(const struct module *m, uint16_t type, struct ntlm_writer *w,
                                   struct ntlmd_reply *ret)
{
	enum ntlm_status st;
	int saved;

	memset(ret, 0, sizeof(*ret));
	ntlmd_put_string(w, NTLMD_TAG_SERVICE, m->service);
	ntlmd_put_string(w, NTLMD_TAG_CLIENT_ADDRESS, m->rhost);
	st = ntlmd_call(m->opt.socket[0] ? m->opt.socket : NULL, type, w, m->opt.timeout_ms, ret);
	saved = errno;
	ntlm_writer_clear(w);
	if (st != NTLM_OK) {
		memset(ret, 0, sizeof(*ret));
		if (st == NTLM_ERR_BACKEND_UNAVAILABLE)
			pam_syslog(m->pamh, LOG_ERR, "ntlmd at %s cannot be asked: %s",
			           m->opt.socket[0] ? m->opt.socket : NTLMD_DEFAULT_SOCKET, strerror(saved));
		else
			pam_syslog(m->pamh, LOG_ERR, "ntlmd's reply is not valid: %s", ntlm_status_name(st));
		/* either way the daemon could not answer: not the user's fault */
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	}
	return ret->status;
}

/* ------------------------------------------------------------------ */
/* Conversation                                                        */
/* ------------------------------------------------------------------ */

/*
 * Asks one question. Returns PAM_SUCCESS with *ret (malloc'd; wipe it when
 * it may be a password), PAM_CONV_AGAIN when the application wants to be
 * called again, or PAM_CONV_ERR for a missing conversation, a failed one
 * or an answer that is missing or too long.
 */
static int converse(pam_handle_t *pamh, int style, const char *prompt, char **ret)
{
	const struct pam_conv *conv = NULL;
	struct pam_message msg = {.msg_style = style, .msg = prompt};
	const struct pam_message *msgs[1] = {&msg};
	struct pam_response *resp = NULL;
	int rc;

	*ret = NULL;
	rc = pam_get_item(pamh, PAM_CONV, (const void **)&conv);
	if (rc != PAM_SUCCESS || conv == NULL || conv->conv == NULL)
		return PAM_CONV_ERR;
	rc = conv->conv(1, msgs, &resp, conv->appdata_ptr);
	if (rc == PAM_CONV_AGAIN) {
		if (resp != NULL) {
			if (resp[0].resp != NULL) {
				ntlm_wipe(resp[0].resp, strlen(resp[0].resp));
				free(resp[0].resp);
			}
			free(resp);
		}
		return PAM_CONV_AGAIN;
	}
	if (rc != PAM_SUCCESS || resp == NULL || resp[0].resp == NULL) {
		rc = PAM_CONV_ERR;
		goto out;
	}
	if (strnlen(resp[0].resp, PAM_NTLM_MAX_ANSWER + 1) > PAM_NTLM_MAX_ANSWER) {
		rc = PAM_CONV_ERR;
		goto out;
	}
	*ret = resp[0].resp;
	resp[0].resp = NULL;
	rc = PAM_SUCCESS;
out:
	if (resp != NULL) {
		if (resp[0].resp != NULL) {
			ntlm_wipe(resp[0].resp, strnlen(resp[0].resp, PAM_NTLM_MAX_ANSWER + 1));
			free(resp[0].resp);
		}
		free(resp);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Results                                                             */
/* ------------------------------------------------------------------ */

static void cleanup_secret16(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	(void)error_status;
	ntlm_wipe(data, 16);
	free(data);
}

static void cleanup_free(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	(void)error_status;
	free(data);
}

/* NAME=value into the PAM environment, when value is present. */
static void put_env(pam_handle_t *pamh, const char *name, const char *value)
{
	char *entry = NULL;

	if (value == NULL)
		return;
	if (asprintf(&entry, "%s=%s", name, value) < 0)
		return;
	(void)pam_putenv(pamh, entry);
	free(entry);
}

/* Keeps the account a successful reply names (account: its
 * ACCOUNT_NAME) for the account phase. */
static void keep_identity(pam_handle_t *pamh, const char *account, const struct ntlmd_frame *f,
                          const char *workstation)
{
	struct pam_ntlm_identity *id = calloc(1, sizeof(*id));
	const char *domain = ntlmd_frame_string(f, NTLMD_TAG_ACCOUNT_DOMAIN);
	const char *auth_user = ntlmd_frame_string(f, NTLMD_TAG_AUTH_USER);

	if (id == NULL)
		return;
	snprintf(id->account, sizeof(id->account), "%s", account);
	snprintf(id->domain, sizeof(id->domain), "%s", domain != NULL ? domain : "");
	snprintf(id->auth_user, sizeof(id->auth_user), "%s", auth_user != NULL ? auth_user : "");
	snprintf(id->workstation, sizeof(id->workstation), "%s", workstation != NULL ? workstation : "");
	if (pam_set_data(pamh, DATA_IDENTITY, id, cleanup_free) != PAM_SUCCESS)
		free(id);
}

/* The account pam_sm_authenticate proved, when PAM_USER (user) still
 * names it; otherwise NULL. */
static const struct pam_ntlm_identity *proven_identity(pam_handle_t *pamh, const char *user)
{
	const void *data = NULL;
	const struct pam_ntlm_identity *id;

	if (pam_get_data(pamh, DATA_IDENTITY, &data) != PAM_SUCCESS || data == NULL)
		return NULL;
	id = data;
	return pam_ntlm_user_names_account(user, id->account, id->auth_user) ? id : NULL;
}

/*
 * The identity rule of an exchange: the account the exchange proved is the
 * PAM user when the application (or an earlier module) set one, under the
 * mapping of pam_ntlm_user_names_account(); an unset PAM_USER becomes the
 * account's AUTH_USER. An application that fixed its target before PAM
 * (su, chsh) never reads PAM_USER again: another account's proof must not
 * stand for that target.
 */
static int exchange_user(const struct module *m, const struct ntlmd_frame *f)
{
	const char *account = reply_account(m, "NTLM exchange", f);
	const char *auth_user = ntlmd_frame_string(f, NTLMD_TAG_AUTH_USER);
	const char *pam_user = preset_user(m->pamh);

	if (account == NULL)
		return PAM_AUTH_ERR;
	if (auth_user == NULL || auth_user[0] == '\0') {
		pam_syslog(m->pamh, LOG_ERR, "ntlmd accepted an exchange without naming the user: %s",
		           ntlm_status_name(NTLM_STATUS_LOGON_FAILURE));
		return PAM_AUTH_ERR;
	}
	if (pam_user != NULL) {
		if (pam_ntlm_user_names_account(pam_user, account, auth_user))
			return PAM_SUCCESS;
		log_mismatch(m, "NTLM exchange", pam_user, account, auth_user);
		return PAM_AUTH_ERR;
	}
	return pam_set_item(m->pamh, PAM_USER, auth_user);
}

/* A successful VERIFY: PAM_USER, the environment, the session key. */
static int publish_verify(const struct module *m, const struct ntlmd_frame *f)
{
	const uint8_t *key = NULL;
	size_t key_len = 0;
	int rc;

	rc = exchange_user(m, f);
	if (rc != PAM_SUCCESS)
		return rc;
	/* the account's names, never the client's spelling */
	put_env(m->pamh, "NTLM_USER", ntlmd_frame_string(f, NTLMD_TAG_ACCOUNT_NAME));
	put_env(m->pamh, "NTLM_DOMAIN", ntlmd_frame_string(f, NTLMD_TAG_ACCOUNT_DOMAIN));
	put_env(m->pamh, "NTLM_WORKSTATION", ntlmd_frame_string(f, NTLMD_TAG_WORKSTATION));
	put_env(m->pamh, "NTLM_RESPONSE_TYPE", ntlmd_frame_string(f, NTLMD_TAG_RESPONSE_TYPE));
	put_env(m->pamh, "NTLM_CLIENT_SPN", ntlmd_frame_string(f, NTLMD_TAG_CLIENT_SPN));
	put_env(m->pamh, "NTLM_CHANNEL_BINDINGS", ntlmd_frame_string(f, NTLMD_TAG_CHANNEL_BINDINGS));
	keep_identity(m->pamh, ntlmd_frame_string(f, NTLMD_TAG_ACCOUNT_NAME), f,
	              ntlmd_frame_string(f, NTLMD_TAG_WORKSTATION));
	if (ntlmd_frame_get_bytes(f, NTLMD_TAG_SESSION_KEY, &key, &key_len) == NTLM_OK && key_len == 16) {
		uint8_t *copy = malloc(16);

		if (copy != NULL) {
			memcpy(copy, key, 16);
			if (pam_set_data(m->pamh, DATA_SESSION_KEY, copy, cleanup_secret16) != PAM_SUCCESS)
				cleanup_secret16(m->pamh, copy, 0);
		}
	}
	return PAM_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* NTLM exchanges                                                      */
/* ------------------------------------------------------------------ */

static void exchange_free(struct exchange *x)
{
	if (x == NULL)
		return;
	free(x->negotiate);
	free(x->challenge);
	free(x->prompt);
	free(x);
}

static void cleanup_exchange(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	(void)error_status;
	exchange_free(data);
}

/* Channel bindings the application passed (base64 in the PAM
 * environment): NTLM_OK with *ret NULL when none; a decoding error. */
static enum ntlm_status app_channel_bindings(const struct module *m, uint8_t **ret, size_t *ret_len)
{
	const char *b64 = pam_getenv(m->pamh, ENV_CB_APPLICATION);

	*ret = NULL;
	*ret_len = 0;
	if (b64 == NULL || b64[0] == '\0')
		return NTLM_OK;
	if (strlen(b64) > PAM_NTLM_MAX_ANSWER)
		return NTLM_ERR_MESSAGE_TOO_LONG;
	return ntlm_base64_decode(b64, strlen(b64), ret, ret_len);
}

/* Asks ntlmd for a CHALLENGE answering the NEGOTIATE and builds the prompt
 * that carries it. */
static enum ntlm_status get_challenge(const struct module *m, struct exchange *x)
{
	struct ntlm_writer w;
	struct ntlmd_reply r;
	const uint8_t *chal = NULL;
	size_t len = 0;
	char *b64 = NULL;
	enum ntlm_status st;

	ntlmd_fields_init(&w);
	if (x->negotiate != NULL)
		ntlmd_put_bytes(&w, NTLMD_TAG_NEGOTIATE, x->negotiate, x->negotiate_len);
	st = ask_daemon(m, NTLMD_REQ_CHALLENGE, &w, &r);
	if (st == NTLM_OK)
		st = ntlmd_frame_get_bytes(&r.frame, NTLMD_TAG_CHALLENGE, &chal, &len);
	if (st == NTLM_OK && (len == 0 || len > NTLM_MAX_MESSAGE))
		st = NTLM_ERR_BAD_ENCODING;
	if (st == NTLM_OK && x->spnego) {
		/* RFC 4178 4.2.2: accept-incomplete, supportedMech NTLMSSP,
		 * responseToken the CHALLENGE */
		uint8_t *der = NULL;
		size_t der_len = 0;

		st = ntlm_spnego_encode_resp(SPNEGO_ACCEPT_INCOMPLETE, true, chal, len, NULL, 0, &der,
		                             &der_len);
		if (st == NTLM_OK)
			st = ntlm_base64_encode(der, der_len, &b64);
		free(der);
	} else if (st == NTLM_OK) {
		st = ntlm_base64_encode(chal, len, &b64);
	}
	if (st == NTLM_OK) {
		free(x->prompt);
		x->prompt = NULL;
		x->challenge = malloc(len);
		if (x->challenge == NULL ||
		    asprintf(&x->prompt, "NTLM CHALLENGE %s AUTHENTICATE: ", b64) < 0) {
			x->prompt = NULL;
			st = NTLM_ERR_NO_MEMORY;
		} else {
			memcpy(x->challenge, chal, len);
			x->challenge_len = len;
		}
	}
	free(b64);
	ntlmd_reply_clear(&r);
	return st;
}

/* After a SPNEGO exchange: the final NegTokenResp, accept-completed and
 * nothing else (RFC 4178 4.2.2), base64 in NTLM_FINAL_TOKEN. It carries no
 * secret. No mechListMIC is sent: NTLMSSP is the only and first mechanism,
 * so RFC 4178 5 lets it be omitted. */
static int publish_final_token(const struct module *m)
{
	uint8_t *der = NULL;
	size_t der_len = 0;
	char *b64 = NULL;
	enum ntlm_status st;

	st = ntlm_spnego_encode_resp(SPNEGO_ACCEPT_COMPLETED, false, NULL, 0, NULL, 0, &der, &der_len);
	if (st == NTLM_OK)
		st = ntlm_base64_encode(der, der_len, &b64);
	free(der);
	if (st != NTLM_OK) {
		pam_syslog(m->pamh, LOG_ERR, "the final SPNEGO token cannot be built: %s",
		           ntlm_status_name(st));
		return PAM_BUF_ERR;
	}
	put_env(m->pamh, ENV_FINAL_TOKEN, b64);
	free(b64);
	return PAM_SUCCESS;
}

/* Sends the three messages to ntlmd and publishes the result. */
static int verify_exchange(const struct module *m, const struct exchange *x, const uint8_t *auth,
                           size_t auth_len, bool spnego)
{
	struct ntlm_writer w;
	struct ntlmd_reply r;
	uint8_t *cb = NULL;
	size_t cb_len = 0;
	enum ntlm_status st;
	int rc;

	st = app_channel_bindings(m, &cb, &cb_len);
	if (st != NTLM_OK) {
		pam_syslog(m->pamh, LOG_ERR, "%s is not valid base64: %s", ENV_CB_APPLICATION,
		           ntlm_status_name(st));
		return PAM_SYSTEM_ERR;
	}
	if (cb == NULL && m->opt.require_cb) {
		pam_syslog(m->pamh, LOG_ERR, "require_cb: the application passed no channel bindings (%s)",
		           ENV_CB_APPLICATION);
		return PAM_AUTH_ERR;
	}
	ntlmd_fields_init(&w);
	if (x->negotiate != NULL)
		ntlmd_put_bytes(&w, NTLMD_TAG_NEGOTIATE, x->negotiate, x->negotiate_len);
	ntlmd_put_bytes(&w, NTLMD_TAG_CHALLENGE, x->challenge, x->challenge_len);
	ntlmd_put_bytes(&w, NTLMD_TAG_AUTHENTICATE, auth, auth_len);
	if (cb != NULL)
		ntlmd_put_bytes(&w, NTLMD_TAG_CB_APPLICATION, cb, cb_len);
	free(cb);
	st = ask_daemon(m, NTLMD_REQ_VERIFY, &w, &r);
	if (st == NTLM_OK) {
		rc = publish_verify(m, &r.frame);
		if (rc == PAM_SUCCESS && (spnego || x->spnego))
			rc = publish_final_token(m);
		if (m->opt.debug && rc == PAM_SUCCESS)
			log_outcome(m, LOG_DEBUG, "NTLM exchange accepted",
			            ntlmd_frame_string(&r.frame, NTLMD_TAG_ACCOUNT_NAME), st);
	} else {
		rc = pam_ntlm_status_to_pam(st, PAM_NTLM_PHASE_AUTH);
		if (r.frame.buf != NULL || st != NTLM_ERR_BACKEND_UNAVAILABLE)
			log_outcome(m, LOG_NOTICE, "NTLM authentication failed",
			            ntlmd_frame_string(&r.frame, NTLMD_TAG_USER), st);
	}
	ntlmd_reply_clear(&r);
	return rc;
}

/* A Kerberos token: logged once with what it was for, and
 * PAM_AUTHINFO_UNAVAIL, since the module cannot verify it at all (a stack
 * may fall through to a Kerberos module); not a wrong credential. */
static int refuse_kerberos(const struct module *m, const struct pam_ntlm_wrapping *w)
{
	char realm[128], sname[128];

	pam_syslog(m->pamh, LOG_ERR,
	           "Kerberos token refused (%s%s%s%s%s): Kerberos is not served by pam_ntlm, which "
	           "verifies NTLMSSP through ntlmd; the client must fall back to NTLM",
	           w->krb_what[0] ? w->krb_what : "Kerberos message", w->krb_sname[0] ? " for " : "",
	           w->krb_sname[0] ? printable(w->krb_sname, sname, sizeof(sname)) : "",
	           w->krb_realm[0] ? "@" : "",
	           w->krb_realm[0] ? printable(w->krb_realm, realm, sizeof(realm)) : "");
	return PAM_AUTHINFO_UNAVAIL;
}

/* Decodes an answer into a message of type, bare or SPNEGO-wrapped (then
 * *ret_spnego is set when ret_spnego is not NULL); logs and maps a bad one. */
static int decode_answer(const struct module *m, const char *answer, uint32_t type, uint8_t **ret,
                         size_t *ret_len, bool *ret_spnego)
{
	static const char *const names[] = {"", "NEGOTIATE", "CHALLENGE", "AUTHENTICATE"};
	struct pam_ntlm_wrapping w;
	enum ntlm_status st = pam_ntlm_decode_token(answer, type, ret, ret_len, &w);

	if (st == NTLM_OK) {
		if (ret_spnego != NULL)
			*ret_spnego = w.spnego;
		return PAM_SUCCESS;
	}
	if (w.kerberos)
		return refuse_kerberos(m, &w);
	pam_syslog(m->pamh, LOG_NOTICE, "the application's %s is not valid: %s", names[type & 3],
	           ntlm_status_name(st));
	return PAM_AUTH_ERR;
}

/*
 * The NEGOTIATE of an exchange, bare or in SPNEGO (x->spnego). A
 * NegTokenInit that lists NTLMSSP but carries no NTLMSSP token (a Kerberos
 * optimistic token, or none) is answered once, as RFC 4178 3.2 lets an
 * acceptor pick another mechanism of the list: the prompt
 * "NTLM SPNEGO <NegTokenResp> NEGOTIATE: " carries accept-incomplete with
 * supportedMech NTLMSSP and asks again; *ret_again is then true.
 */
static int take_negotiate(const struct module *m, struct exchange *x, const char *answer, bool *ret_again)
{
	struct pam_ntlm_wrapping w;
	enum ntlm_status st = pam_ntlm_decode_token(answer, 1, &x->negotiate, &x->negotiate_len, &w);
	uint8_t *der = NULL;
	size_t der_len = 0;
	char *b64 = NULL;

	*ret_again = false;
	if (st == NTLM_OK) {
		x->spnego = x->spnego || w.spnego;
		return PAM_SUCCESS;
	}
	if (!w.offers_ntlmssp || x->renegotiated || x->mode == PAM_NTLM_MODE_VERIFY) {
		if (w.kerberos)
			return refuse_kerberos(m, &w);
		pam_syslog(m->pamh, LOG_NOTICE, "the application's NEGOTIATE is not valid: %s",
		           ntlm_status_name(st));
		return PAM_AUTH_ERR;
	}
	st = ntlm_spnego_encode_resp(SPNEGO_ACCEPT_INCOMPLETE, true, NULL, 0, NULL, 0, &der, &der_len);
	if (st == NTLM_OK)
		st = ntlm_base64_encode(der, der_len, &b64);
	free(der);
	free(x->prompt);
	x->prompt = NULL;
	if (st != NTLM_OK || asprintf(&x->prompt, "NTLM SPNEGO %s NEGOTIATE: ", b64) < 0) {
		x->prompt = NULL;
		free(b64);
		return PAM_BUF_ERR;
	}
	free(b64);
	if (m->opt.debug)
		pam_syslog(m->pamh, LOG_DEBUG, "SPNEGO: %s token with NTLMSSP offered too: NTLMSSP selected",
		           w.kerberos ? "a Kerberos" : "no NTLMSSP");
	x->spnego = true;
	x->renegotiated = true;
	*ret_again = true;
	return PAM_SUCCESS;
}

/* True for an empty (or blank) answer: no NEGOTIATE. */
static bool blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	return true;
}

/*
 * Runs (or resumes) an exchange until it ends or the application asks to be
 * called again. x is owned by the PAM handle (DATA_EXCHANGE) from the
 * moment a step can be resumed.
 */
static int run_exchange(const struct module *m, struct exchange *x)
{
	char *answer = NULL;
	uint8_t *auth = NULL;
	size_t auth_len = 0;
	bool auth_spnego = false;
	int rc;

	for (;;) {
		switch (x->step) {
		case STEP_NEGOTIATE: {
			bool again = false;

			rc = converse(m->pamh, PAM_PROMPT_ECHO_ON,
			              x->renegotiated ? x->prompt : PROMPT_NEGOTIATE, &answer);
			if (rc != PAM_SUCCESS)
				goto out;
			if (x->mode == PAM_NTLM_MODE_VERIFY && blank(answer)) {
				x->step = STEP_CHALLENGE;
			} else {
				rc = take_negotiate(m, x, answer, &again);
				if (rc != PAM_SUCCESS)
					goto out;
				if (!again)
					x->step = x->mode == PAM_NTLM_MODE_VERIFY ? STEP_CHALLENGE
					                                          : STEP_AUTHENTICATE;
			}
			free(answer);
			answer = NULL;
			if (x->step == STEP_AUTHENTICATE) {
				enum ntlm_status st = get_challenge(m, x);

				if (st != NTLM_OK) {
					if (st != NTLM_ERR_BACKEND_UNAVAILABLE)
						log_outcome(m, LOG_NOTICE, "NTLM CHALLENGE refused", NULL,
						            st);
					rc = pam_ntlm_status_to_pam(st, PAM_NTLM_PHASE_AUTH);
					goto out;
				}
			}
			break;
		}
		case STEP_CHALLENGE:
			rc = converse(m->pamh, PAM_PROMPT_ECHO_ON, PROMPT_CHALLENGE, &answer);
			if (rc != PAM_SUCCESS)
				goto out;
			rc = decode_answer(m, answer, 2, &x->challenge, &x->challenge_len, NULL);
			if (rc != PAM_SUCCESS)
				goto out;
			free(answer);
			answer = NULL;
			x->step = STEP_AUTHENTICATE;
			break;
		case STEP_AUTHENTICATE:
			rc = converse(m->pamh, PAM_PROMPT_ECHO_ON,
			              x->mode == PAM_NTLM_MODE_VERIFY ? PROMPT_AUTHENTICATE : x->prompt,
			              &answer);
			if (rc != PAM_SUCCESS)
				goto out;
			rc = decode_answer(m, answer, 3, &auth, &auth_len, &auth_spnego);
			if (rc == PAM_SUCCESS)
				rc = verify_exchange(m, x, auth, auth_len, auth_spnego);
			goto out;
		case STEP_FIRST:
		default:
			rc = PAM_SYSTEM_ERR;
			goto out;
		}
	}
out:
	free(answer);
	if (auth != NULL) {
		ntlm_wipe(auth, auth_len);
		free(auth);
	}
	if (rc == PAM_CONV_AGAIN)
		return PAM_INCOMPLETE;
	if (rc == PAM_CONV_ERR)
		pam_syslog(m->pamh, LOG_ERR, "the conversation failed or gave no usable answer");
	return rc;
}

/* Keeps x with the handle for a resumed call (or drops a finished one). */
static int keep_exchange(const struct module *m, struct exchange *x, int rc)
{
	if (rc == PAM_INCOMPLETE) {
		if (pam_set_data(m->pamh, DATA_EXCHANGE, x, cleanup_exchange) != PAM_SUCCESS) {
			exchange_free(x);
			return PAM_BUF_ERR;
		}
		return rc;
	}
	exchange_free(x);
	return rc;
}

/* The exchange a previous call left waiting, taken from the handle. */
static struct exchange *resume_exchange(pam_handle_t *pamh)
{
	const void *data = NULL;
	struct exchange *x;

	if (pam_get_data(pamh, DATA_EXCHANGE, &data) != PAM_SUCCESS || data == NULL)
		return NULL;
	/* Move the contents out: replacing the data below runs its cleanup,
	 * which then frees an empty shell. */
	x = malloc(sizeof(*x));
	if (x != NULL) {
		struct exchange *kept = (struct exchange *)data;

		*x = *kept;
		kept->negotiate = kept->challenge = NULL;
		kept->prompt = NULL;
	}
	(void)pam_set_data(pamh, DATA_EXCHANGE, NULL, NULL);
	return x;
}

/* ------------------------------------------------------------------ */
/* Passwords                                                           */
/* ------------------------------------------------------------------ */

/* Starts a request about the account whose login name is user: USER, and
 * EXACT_NAME so that the account found carries that name byte for byte
 * (not "alice" for "Alice"). */
static void put_login_name(struct ntlm_writer *w, const char *user)
{
	ntlmd_fields_init(w);
	ntlmd_put_string(w, NTLMD_TAG_USER, user);
	ntlmd_put_u8(w, NTLMD_TAG_EXACT_NAME, 1);
}

/* Checks user's password with ntlmd: the account named user, exactly. */
static int check_password(const struct module *m, const char *user, const char *password)
{
	struct ntlm_writer w;
	struct ntlmd_reply r;
	enum ntlm_status st;
	int rc;

	if (password[0] == '\0') {
		log_outcome(m, LOG_NOTICE, "empty password refused", user, NTLM_STATUS_WRONG_PASSWORD);
		return PAM_AUTH_ERR;
	}
	put_login_name(&w, user);
	ntlmd_put_string(&w, NTLMD_TAG_PASSWORD, password);
	st = ask_daemon(m, NTLMD_REQ_CHECK_PASSWORD, &w, &r);
	rc = pam_ntlm_status_to_pam(st, PAM_NTLM_PHASE_AUTH);
	if (st == NTLM_OK) {
		rc = check_exact_account(m, "password login", user, user, &r.frame);
		if (rc == PAM_SUCCESS)
			keep_identity(m->pamh, user, &r.frame, NULL);
	}
	ntlmd_reply_clear(&r);
	if (st == NTLM_OK && rc == PAM_SUCCESS && m->opt.debug)
		log_outcome(m, LOG_DEBUG, "password accepted", user, st);
	else if (st != NTLM_OK && st != NTLM_ERR_BACKEND_UNAVAILABLE)
		log_outcome(m, LOG_NOTICE, "password authentication failed", user, st);
	return rc;
}

/* The password mode: from PAM_AUTHTOK (use_first_pass, try_first_pass)
 * or the answer already given (auto mode), else a prompt. */
static int password_login(const struct module *m, char *given)
{
	const char *user = NULL;
	const void *item = NULL;
	char *typed = given;
	int rc;

	rc = pam_get_user(m->pamh, &user, NULL);
	if (rc != PAM_SUCCESS || user == NULL || user[0] == '\0') {
		rc = rc == PAM_SUCCESS ? PAM_USER_UNKNOWN : rc;
		goto out;
	}
	if (typed == NULL && (m->opt.use_first_pass || m->opt.try_first_pass) &&
	    pam_get_item(m->pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS && item != NULL) {
		rc = check_password(m, user, item);
		if (rc == PAM_SUCCESS || m->opt.use_first_pass || rc == PAM_AUTHINFO_UNAVAIL)
			goto out;
	} else if (typed == NULL && m->opt.use_first_pass) {
		pam_syslog(m->pamh, LOG_ERR, "use_first_pass: no password from an earlier module");
		rc = PAM_AUTH_ERR;
		goto out;
	}
	if (typed == NULL) {
		rc = converse(m->pamh, PAM_PROMPT_ECHO_OFF, PROMPT_PASSWORD, &typed);
		if (rc == PAM_CONV_AGAIN) {
			rc = PAM_INCOMPLETE;
			goto out;
		}
		if (rc != PAM_SUCCESS) {
			pam_syslog(m->pamh, LOG_ERR, "the conversation gave no password");
			goto out;
		}
	}
	rc = check_password(m, user, typed);
	if (rc == PAM_SUCCESS)
		(void)pam_set_item(m->pamh, PAM_AUTHTOK, typed);
out:
	ntlm_free_string(typed);
	return rc;
}

/* What a successful SYNC_PASSWORD did, for the log line. */
static const char *sync_outcome(const struct ntlmd_frame *reply)
{
	uint8_t stored = 0;

	if (ntlmd_frame_get_u8(reply, NTLMD_TAG_PASSWORD_STORED, &stored) != NTLM_OK)
		return NULL;
	switch (stored) {
	case NTLMD_STORED_UNCHANGED:
		return "migrate: NT hash already current";
	case NTLMD_STORED_UPDATED:
		return "migrate: NT hash stored";
	case NTLMD_STORED_ADDED:
		return "migrate: user added";
	default:
		return NULL;
	}
}

/* migrate's candidate, from pam_sm_authenticate to pam_sm_setcred (module
 * data DATA_MIGRATE): the PAM user and a copy of PAM_AUTHTOK, which
 * Linux-PAM clears when pam_authenticate returns. */
struct migrate_candidate {
	char *user;
	char *password; /* wiped by the cleanup */
};

static void cleanup_candidate(pam_handle_t *pamh, void *data, int error_status)
{
	struct migrate_candidate *c = data;

	(void)pamh;
	(void)error_status;
	if (c == NULL)
		return;
	ntlm_free_string(c->password);
	free(c->user);
	ntlm_wipe(c, sizeof(*c));
	free(c);
}

/* Drops (and wipes) a candidate kept earlier on this handle, if any. */
static void drop_candidate(pam_handle_t *pamh)
{
	const void *data = NULL;

	if (pam_get_data(pamh, DATA_MIGRATE, &data) == PAM_SUCCESS && data != NULL)
		(void)pam_set_data(pamh, DATA_MIGRATE, NULL, NULL); /* the cleanup wipes it */
}

/*
 * migrate, in pam_sm_authenticate: keeps the PAM user and a copy of
 * PAM_AUTHTOK (the password the module before it read) for
 * pam_sm_setcred, and stores nothing. The module cannot tell here whether
 * that module accepted the password: only the success of the whole stack
 * says so, and an application calls pam_setcred only after
 * pam_authenticate succeeded. A candidate of an earlier pam_authenticate
 * on the same handle (an application that lets the user try again) is
 * dropped first. Never changes the outcome.
 */
static int migrate_keep(const struct module *m)
{
	const char *user = NULL;
	const void *item = NULL;
	struct migrate_candidate *c;

	drop_candidate(m->pamh);
	if (pam_get_user(m->pamh, &user, NULL) != PAM_SUCCESS || user == NULL || user[0] == '\0')
		return PAM_IGNORE;
	if (pam_get_item(m->pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS || item == NULL ||
	    *(const char *)item == 0) {
		if (m->opt.debug)
			pam_syslog(m->pamh, LOG_DEBUG, "migrate: no password from an earlier module");
		return PAM_IGNORE;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return PAM_IGNORE;
	c->user = strdup(user);
	c->password = strdup(item);
	if (c->user == NULL || c->password == NULL) {
		cleanup_candidate(m->pamh, c, 0);
		return PAM_IGNORE;
	}
	if (pam_set_data(m->pamh, DATA_MIGRATE, c, cleanup_candidate) != PAM_SUCCESS) {
		cleanup_candidate(m->pamh, c, 0);
		return PAM_IGNORE;
	}
	if (m->opt.debug)
		log_outcome(m, LOG_DEBUG, "migrate: password kept until pam_setcred", user, NTLM_OK);
	return PAM_IGNORE;
}

/* add_users: the lowest uid that may be added: min_uid=, else UID_MIN of
 * login.defs, else PAM_NTLM_MIN_UID_DEFAULT. */
static uint32_t min_uid(const struct module *m)
{
	uint32_t v = PAM_NTLM_MIN_UID_DEFAULT;

	if (m->opt.min_uid_set)
		return m->opt.min_uid;
	(void)pam_ntlm_login_defs_uid_min(PAM_NTLM_LOGIN_DEFS, &v);
	return v;
}

/* add_users: whether the system user may be added (CREATE): the system
 * knows it, with a uid of at least min_uid. Otherwise why[cap] says why
 * not, for the log line when ntlmd does not know the user. */
static bool may_add(const struct module *m, const char *user, char *why, size_t cap)
{
	const struct passwd *pw = pam_modutil_getpwnam(m->pamh, user);
	uint32_t lowest;

	if (pw == NULL) {
		snprintf(why, cap, "not a system user");
		return false;
	}
	lowest = min_uid(m);
	if ((uint32_t)pw->pw_uid < lowest) {
		snprintf(why, cap, "uid %lu is below min_uid %lu", (unsigned long)pw->pw_uid,
		         (unsigned long)lowest);
		return false;
	}
	return true;
}

/*
 * migrate, in pam_sm_setcred: stores the NT hash of the candidate's
 * password when ntlmd's differs, in one root-only SYNC_PASSWORD
 * (docs/PROTOCOL.md): ntlmd compares and writes, and counts no failed
 * logon (no audit failure, no lockout) for a stale hash. With add_users a
 * system user missing from the stores is added (CREATE), unless its uid is
 * below min_uid. The candidate is then wiped.
 */
static void migrate_store(const struct module *m, const struct migrate_candidate *c)
{
	const char *what;
	char why[96] = "";
	struct ntlm_writer w;
	struct ntlmd_reply r;
	enum ntlm_status st;
	bool create = m->opt.add_users && may_add(m, c->user, why, sizeof(why));

	put_login_name(&w, c->user);
	ntlmd_put_string(&w, NTLMD_TAG_NEW_PASSWORD, c->password);
	if (create)
		ntlmd_put_u8(&w, NTLMD_TAG_CREATE, 1);
	st = ask_daemon(m, NTLMD_REQ_SYNC_PASSWORD, &w, &r);
	what = st == NTLM_OK ? sync_outcome(&r.frame) : NULL;
	ntlmd_reply_clear(&r);
	if (st == NTLM_OK && what == NULL)
		log_outcome(m, LOG_ERR, "migrate: ntlmd's reply does not say what it stored", c->user,
		            NTLM_ERR_TRUNCATED);
	else if (st == NTLM_OK && (m->opt.debug || strcmp(what, "migrate: NT hash already current") != 0))
		log_outcome(m, LOG_INFO, what, c->user, st);
	else if (st != NTLM_OK && st != NTLM_ERR_BACKEND_UNAVAILABLE)
		/* unknown user (not added), root (add_users min_uid=0: ntlmd
		 * never adds uid 0), or the store cannot be written */
		log_outcome(m, st == NTLM_STATUS_NO_SUCH_USER ? LOG_INFO : LOG_ERR, "migrate: nothing stored",
		            c->user, st);
	if (st == NTLM_STATUS_NO_SUCH_USER && m->opt.add_users && !create) {
		char ubuf[128];

		pam_syslog(m->pamh, LOG_NOTICE, "migrate add_users: user %s not added: %s",
		           printable(c->user, ubuf, sizeof(ubuf)), why);
	}
}

/* pam_sm_setcred in migrate mode. PAM_ESTABLISH_CRED and
 * PAM_REINITIALIZE_CRED store the candidate that pam_sm_authenticate kept,
 * once; PAM_DELETE_CRED drops it. The PAM user must still be the one it
 * was kept for. Never changes the outcome. */
static int migrate_setcred(const struct module *m, int flags)
{
	const void *data = NULL;
	const struct migrate_candidate *c;
	const char *user = preset_user(m->pamh);

	if (pam_get_data(m->pamh, DATA_MIGRATE, &data) != PAM_SUCCESS || data == NULL) {
		if (m->opt.debug && (flags & (PAM_ESTABLISH_CRED | PAM_REINITIALIZE_CRED)) != 0)
			pam_syslog(m->pamh, LOG_DEBUG, "migrate: no password kept by pam_authenticate");
		return PAM_IGNORE;
	}
	c = data;
	if ((flags & (PAM_ESTABLISH_CRED | PAM_REINITIALIZE_CRED)) != 0) {
		if (user != NULL && strcmp(user, c->user) == 0) { /* not secret: names */
			migrate_store(m, c);
		} else {
			char ubuf[192], kbuf[192];

			pam_syslog(m->pamh, LOG_WARNING,
			           "migrate: nothing stored: PAM user %s is not %s, whose password "
			           "pam_authenticate kept",
			           pam_ntlm_quote(user, ubuf, sizeof(ubuf)),
			           pam_ntlm_quote(c->user, kbuf, sizeof(kbuf)));
		}
	} else if ((flags & PAM_DELETE_CRED) == 0) {
		return PAM_IGNORE; /* PAM_REFRESH_CRED: keep it */
	}
	drop_candidate(m->pamh);
	return PAM_IGNORE;
}

/* ------------------------------------------------------------------ */
/* pam_sm_authenticate                                                 */
/* ------------------------------------------------------------------ */

/* auto mode: the first answer says whether this is an exchange. */
static int auto_login(const struct module *m, struct exchange *x)
{
	char *answer = NULL;
	bool again = false;
	int rc;

	if (m->opt.use_first_pass || m->opt.try_first_pass) {
		const void *item = NULL;

		if (m->opt.use_first_pass ||
		    (pam_get_item(m->pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS && item != NULL)) {
			exchange_free(x);
			return password_login(m, NULL);
		}
	}
	rc = converse(m->pamh, PAM_PROMPT_ECHO_OFF, PROMPT_PASSWORD, &answer);
	if (rc != PAM_SUCCESS) {
		if (rc == PAM_CONV_ERR)
			pam_syslog(m->pamh, LOG_ERR, "the conversation gave no answer");
		return keep_exchange(m, x, rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : rc);
	}
	if (!pam_ntlm_looks_like_negotiate(answer)) {
		exchange_free(x);
		return password_login(m, answer);
	}
	x->mode = PAM_NTLM_MODE_EXCHANGE;
	rc = take_negotiate(m, x, answer, &again);
	free(answer);
	if (rc == PAM_SUCCESS && again) {
		x->step = STEP_NEGOTIATE;
		return keep_exchange(m, x, run_exchange(m, x));
	}
	if (rc == PAM_SUCCESS) {
		enum ntlm_status st = get_challenge(m, x);

		rc = pam_ntlm_status_to_pam(st, PAM_NTLM_PHASE_AUTH);
		if (st != NTLM_OK && st != NTLM_ERR_BACKEND_UNAVAILABLE)
			log_outcome(m, LOG_NOTICE, "NTLM CHALLENGE refused", NULL, st);
	}
	if (rc != PAM_SUCCESS)
		return keep_exchange(m, x, rc);
	x->step = STEP_AUTHENTICATE;
	return keep_exchange(m, x, run_exchange(m, x));
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct module m;
	struct exchange *x;

	(void)flags;
	module_init(&m, pamh, argc, argv);
	if (m.opt.migrate)
		return migrate_keep(&m);
	x = resume_exchange(pamh);
	if (x != NULL) {
		if (x->step == STEP_FIRST)
			return auto_login(&m, x);
		return keep_exchange(&m, x, run_exchange(&m, x));
	}
	if (m.opt.mode == PAM_NTLM_MODE_PASSWORD)
		return password_login(&m, NULL);
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return PAM_BUF_ERR;
	x->mode = m.opt.mode;
	if (m.opt.mode == PAM_NTLM_MODE_AUTO)
		return auto_login(&m, x);
	x->step = STEP_NEGOTIATE;
	return keep_exchange(&m, x, run_exchange(&m, x));
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct module m;

	module_init(&m, pamh, argc, argv);
	if (m.opt.migrate)
		return migrate_setcred(&m, flags);
	return PAM_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* pam_sm_acct_mgmt                                                    */
/* ------------------------------------------------------------------ */

/*
 * The account behind PAM_USER: the one pam_sm_authenticate proved while
 * PAM_USER still names it (its store name and domain, and the exchange's
 * workstation), otherwise the account whose store name is PAM_USER
 * exactly. The account phase never checks an account other than the one
 * the application will serve.
 */
PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct module m;
	const struct pam_ntlm_identity *id;
	const char *user = NULL, *account;
	struct ntlm_writer w;
	struct ntlmd_reply r;
	enum ntlm_status st;
	int rc;

	(void)flags;
	module_init(&m, pamh, argc, argv);
	rc = pam_get_user(pamh, &user, NULL);
	if (rc != PAM_SUCCESS || user == NULL || user[0] == '\0')
		return rc == PAM_SUCCESS ? PAM_USER_UNKNOWN : rc;
	id = proven_identity(pamh, user);
	account = id != NULL ? id->account : user;
	put_login_name(&w, account);
	if (id != NULL && id->domain[0] != '\0')
		ntlmd_put_string(&w, NTLMD_TAG_DOMAIN, id->domain);
	if (id != NULL && id->workstation[0] != '\0')
		ntlmd_put_string(&w, NTLMD_TAG_WORKSTATION, id->workstation);
	st = ask_daemon(&m, NTLMD_REQ_ACCOUNT_STATUS, &w, &r);
	rc = st == NTLM_OK ? check_exact_account(&m, "account check", user, account, &r.frame) : PAM_SUCCESS;
	ntlmd_reply_clear(&r);
	if (rc != PAM_SUCCESS)
		return rc;
	if (st == NTLM_STATUS_NO_SUCH_USER && m.opt.ignore_unknown_user) {
		if (m.opt.debug)
			log_outcome(&m, LOG_DEBUG, "account check ignored", user, st);
		return PAM_IGNORE;
	}
	rc = pam_ntlm_status_to_pam(st, PAM_NTLM_PHASE_ACCOUNT);
	if (st != NTLM_OK && st != NTLM_ERR_BACKEND_UNAVAILABLE)
		log_outcome(&m, LOG_NOTICE, "account refused", user, st);
	else if (st == NTLM_OK && m.opt.debug)
		log_outcome(&m, LOG_DEBUG, "account valid", user, st);
	return rc;
}

/* ------------------------------------------------------------------ */
/* pam_sm_chauthtok                                                    */
/* ------------------------------------------------------------------ */

/* The old password: PAM_OLDAUTHTOK, or asked. *ret is a copy to wipe. */
static int old_password(const struct module *m, char **ret)
{
	const void *item = NULL;
	int rc;

	*ret = NULL;
	if (pam_get_item(m->pamh, PAM_OLDAUTHTOK, &item) == PAM_SUCCESS && item != NULL) {
		*ret = strdup(item);
		return *ret != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
	}
	rc = converse(m->pamh, PAM_PROMPT_ECHO_OFF, PROMPT_CURRENT, ret);
	if (rc == PAM_CONV_AGAIN)
		return PAM_INCOMPLETE;
	if (rc != PAM_SUCCESS)
		return PAM_AUTHTOK_RECOVERY_ERR;
	rc = pam_set_item(m->pamh, PAM_OLDAUTHTOK, *ret);
	if (rc != PAM_SUCCESS) {
		ntlm_free_string(*ret);
		*ret = NULL;
	}
	return rc;
}

/* PAM_PRELIM_CHECK: the daemon answers, and the old password is right
 * (when need_old). */
static int prelim_check(const struct module *m, const char *user, bool need_old)
{
	struct ntlm_writer w;
	struct ntlmd_reply r;
	enum ntlm_status st;
	char *old = NULL;
	int rc;

	put_login_name(&w, user);
	if (need_old) {
		rc = old_password(m, &old);
		if (rc != PAM_SUCCESS) {
			ntlm_writer_clear(&w);
			return rc;
		}
		ntlmd_put_string(&w, NTLMD_TAG_PASSWORD, old);
		ntlm_free_string(old);
		st = ask_daemon(m, NTLMD_REQ_CHECK_PASSWORD, &w, &r);
	} else {
		st = ask_daemon(m, NTLMD_REQ_ACCOUNT_STATUS, &w, &r);
	}
	rc = st == NTLM_OK ? check_exact_account(m, "password change", user, user, &r.frame) : PAM_SUCCESS;
	ntlmd_reply_clear(&r);
	if (rc != PAM_SUCCESS)
		return rc;
	/* an expired or must-change password may be changed */
	if (st == NTLM_STATUS_PASSWORD_EXPIRED || st == NTLM_STATUS_PASSWORD_MUST_CHANGE)
		st = NTLM_OK;
	if (st == NTLM_STATUS_NO_SUCH_USER && m->opt.ignore_unknown_user)
		return PAM_IGNORE;
	if (st != NTLM_OK && st != NTLM_ERR_BACKEND_UNAVAILABLE)
		log_outcome(m, LOG_NOTICE, "password change refused", user, st);
	return pam_ntlm_status_to_pam(st, PAM_NTLM_PHASE_PASSWORD);
}

/* PAM_UPDATE_AUTHTOK: stores the new password's NT hash. */
static int update_authtok(const struct module *m, const char *user, bool need_old)
{
	const char *new_pw = NULL;
	struct ntlm_writer w;
	struct ntlmd_reply r;
	enum ntlm_status st;
	char *old = NULL;
	int rc;

	if (need_old) {
		rc = old_password(m, &old);
		if (rc != PAM_SUCCESS)
			return rc;
	}
	if (m->opt.use_authtok) {
		const void *item = NULL;

		if (pam_get_item(m->pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS || item == NULL) {
			pam_syslog(m->pamh, LOG_ERR, "use_authtok: no new password from an earlier module");
			ntlm_free_string(old);
			return PAM_AUTHTOK_ERR;
		}
		new_pw = item;
	} else {
		rc = pam_get_authtok(m->pamh, PAM_AUTHTOK, &new_pw, NULL);
		if (rc != PAM_SUCCESS || new_pw == NULL) {
			ntlm_free_string(old);
			return rc == PAM_SUCCESS ? PAM_AUTHTOK_ERR : rc;
		}
	}
	put_login_name(&w, user);
	if (old != NULL)
		ntlmd_put_string(&w, NTLMD_TAG_PASSWORD, old);
	ntlmd_put_string(&w, NTLMD_TAG_NEW_PASSWORD, new_pw);
	ntlm_free_string(old);
	st = ask_daemon(m, NTLMD_REQ_CHANGE_PASSWORD, &w, &r);
	ntlmd_reply_clear(&r);
	if (st == NTLM_STATUS_NO_SUCH_USER && m->opt.ignore_unknown_user)
		return PAM_IGNORE;
	if (st != NTLM_ERR_BACKEND_UNAVAILABLE)
		log_outcome(m, st == NTLM_OK ? LOG_INFO : LOG_NOTICE, "NT hash change", user, st);
	return pam_ntlm_status_to_pam(st, PAM_NTLM_PHASE_PASSWORD);
}

PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct module m;
	const char *user = NULL;
	bool need_old;
	int rc;

	module_init(&m, pamh, argc, argv);
	rc = pam_get_user(pamh, &user, NULL);
	if (rc != PAM_SUCCESS || user == NULL || user[0] == '\0')
		return rc == PAM_SUCCESS ? PAM_USER_UNKNOWN : rc;
	/* root changes any password without the old one, as with passwd(1);
	 * not an expired one the user must change to log in
	 * (PAM_CHANGE_EXPIRED_AUTHTOK: login, su, sshd as root), where the old
	 * password is what proves the user, as pam_unix asks for it */
	need_old = getuid() != 0 || (flags & PAM_CHANGE_EXPIRED_AUTHTOK) != 0;
	if (flags & PAM_PRELIM_CHECK)
		return prelim_check(&m, user, need_old);
	if (flags & PAM_UPDATE_AUTHTOK)
		return update_authtok(&m, user, need_old);
	return PAM_SERVICE_ERR;
}

/* ------------------------------------------------------------------ */
/* Sessions                                                            */
/* ------------------------------------------------------------------ */

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
