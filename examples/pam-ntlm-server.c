/*
 * pam-ntlm-server: how an application accepts NTLM logins through
 * pam_ntlm.so, with no NTLM verification code of its own and no hash. It
 * speaks a line protocol with its client on stdin/stdout, as an HTTP or
 * SMB front end would carry the same tokens in its own messages:
 *
 *   client: NEGOTIATE <base64>      server: CHALLENGE <base64>
 *   client: AUTHENTICATE <base64>   server: OK user=... ntlm_user=... domain=...
 *                                           workstation=... type=... cb=...
 *                                   or      FAIL <PAM error text>
 *
 * --mode exchange (default): the module drives the handshake (pam_ntlm
 *   mode=exchange). The conversation function is event-driven: when the
 *   module asks for the AUTHENTICATE, which the client has not sent yet, it
 *   returns PAM_CONV_AGAIN; pam_authenticate() returns PAM_INCOMPLETE, the
 *   server sends the CHALLENGE from the prompt to its client, and calls
 *   pam_authenticate() again when the AUTHENTICATE arrives.
 * --mode verify: the server builds the CHALLENGE itself with libntlmssp
 *   and hands NEGOTIATE, CHALLENGE and AUTHENTICATE to the module in one
 *   pam_authenticate() (pam_ntlm mode=verify).
 * --cb-app-data HEX: channel-binding application data the server binds
 *   (e.g. "tls-server-end-point:" and its certificate's hash), passed to the
 *   module as NTLM_CB_APPLICATION in the PAM environment.
 *
 * After a successful pam_authenticate() it runs pam_acct_mgmt() and prints
 * PAM_USER and the NTLM_* variables the module set. The session key stays
 * inside the PAM stack (pam_get_data "pam_ntlm_session_key", see
 * pam_ntlm(8)); it is never printed.
 *
 * usage: pam-ntlm-server [--service NAME] [--mode exchange|verify] [--cb-app-data HEX]
 */
#include <config.h>

#include <security/pam_appl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntlmssp.h"

#define LINE_MAX_LEN 8192

struct server {
	const char *service;
	bool verify_mode;
	char *cb_b64;           /* NTLM_CB_APPLICATION value, or NULL */
	pam_handle_t *pamh;     /* the login in progress */
	char *negotiate;        /* base64 of the client's NEGOTIATE */
	char *challenge;        /* base64 of the CHALLENGE (verify mode: ours) */
	const char *answer;     /* exchange mode: the client's token the module waits for */
	char *prompt_challenge; /* exchange mode: the CHALLENGE the module's prompt carried */
	int step;               /* verify mode: the next message the module asks for */
};

static char *dup_or_die(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL) {
		fputs("pam-ntlm-server: out of memory\n", stderr);
		exit(2);
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* The answer to one prompt of pam_ntlm (docs/pam-conversation.md). */
static int answer_prompt(struct server *srv, const struct pam_message *m, char **ret)
{
	static const char chal_prefix[] = "NTLM CHALLENGE ";
	const char *text = m->msg != NULL ? m->msg : "";

	*ret = NULL;
	if (m->msg_style == PAM_TEXT_INFO || m->msg_style == PAM_ERROR_MSG)
		return PAM_SUCCESS;
	if (srv->verify_mode) {
		/* "NTLM NEGOTIATE: ", "NTLM CHALLENGE: ", "NTLM AUTHENTICATE: " */
		if (strcmp(text, "NTLM NEGOTIATE: ") == 0)
			*ret = strdup(srv->negotiate != NULL ? srv->negotiate : "");
		else if (strcmp(text, "NTLM CHALLENGE: ") == 0)
			*ret = strdup(srv->challenge);
		else if (strcmp(text, "NTLM AUTHENTICATE: ") == 0 && srv->answer != NULL)
			*ret = strdup(srv->answer);
		else
			return PAM_CONV_ERR;
		return *ret != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
	}
	if (strcmp(text, "NTLM NEGOTIATE: ") == 0) {
		*ret = strdup(srv->negotiate);
		return *ret != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
	}
	if (strncmp(text, chal_prefix, sizeof(chal_prefix) - 1) == 0) {
		/* "NTLM CHALLENGE <base64> AUTHENTICATE: " */
		const char *b64 = text + sizeof(chal_prefix) - 1;
		const char *end = strchr(b64, ' ');

		if (end == NULL)
			return PAM_CONV_ERR;
		if (srv->answer == NULL) {
			/* the client has not answered yet: come back later */
			free(srv->prompt_challenge);
			srv->prompt_challenge = dup_or_die(b64, (size_t)(end - b64));
			return PAM_CONV_AGAIN;
		}
		*ret = strdup(srv->answer);
		return *ret != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
	}
	return PAM_CONV_ERR;
}

static int conversation(int n, const struct pam_message **msgs, struct pam_response **ret, void *data)
{
	struct server *srv = data;
	struct pam_response *resp;
	int rc = PAM_SUCCESS;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	resp = calloc((size_t)n, sizeof(*resp));
	if (resp == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n && rc == PAM_SUCCESS; i++)
		rc = answer_prompt(srv, msgs[i], &resp[i].resp);
	if (rc != PAM_SUCCESS) {
		for (int i = 0; i < n; i++)
			free(resp[i].resp);
		free(resp);
		return rc;
	}
	*ret = resp;
	return PAM_SUCCESS;
}

/* Prints a value with space, '%' and control bytes percent-encoded. */
static void print_field(const char *name, const char *value)
{
	printf(" %s=", name);
	for (const unsigned char *p = (const unsigned char *)(value != NULL ? value : ""); *p; p++) {
		if (*p <= 0x20 || *p == '%' || *p == 0x7f)
			printf("%%%02X", *p);
		else
			putchar(*p);
	}
}

static void end_login(struct server *srv, int rc)
{
	if (srv->pamh != NULL)
		pam_end(srv->pamh, rc);
	srv->pamh = NULL;
	free(srv->negotiate);
	free(srv->challenge);
	free(srv->prompt_challenge);
	srv->negotiate = srv->challenge = srv->prompt_challenge = NULL;
	srv->answer = NULL;
}

/* The end of pam_authenticate(): acct_mgmt, then the result line. */
static void report(struct server *srv, int rc)
{
	const void *user = NULL;

	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(srv->pamh, 0);
	if (rc != PAM_SUCCESS) {
		printf("FAIL %s\n", pam_strerror(srv->pamh, rc));
		end_login(srv, rc);
		return;
	}
	(void)pam_get_item(srv->pamh, PAM_USER, &user);
	printf("OK");
	print_field("user", user);
	print_field("ntlm_user", pam_getenv(srv->pamh, "NTLM_USER"));
	print_field("domain", pam_getenv(srv->pamh, "NTLM_DOMAIN"));
	print_field("workstation", pam_getenv(srv->pamh, "NTLM_WORKSTATION"));
	print_field("type", pam_getenv(srv->pamh, "NTLM_RESPONSE_TYPE"));
	print_field("cb", pam_getenv(srv->pamh, "NTLM_CHANNEL_BINDINGS"));
	print_field("key_in_env", pam_getenv(srv->pamh, "NTLM_SESSION_KEY") != NULL ? "yes" : "no");
	putchar('\n');
	end_login(srv, PAM_SUCCESS);
}

/* A new login for a NEGOTIATE. */
static int start_login(struct server *srv, const char *b64)
{
	static struct pam_conv conv = {conversation, NULL};
	int rc;

	end_login(srv, PAM_ABORT);
	conv.appdata_ptr = srv;
	rc = pam_start(srv->service, NULL, &conv, &srv->pamh);
	if (rc != PAM_SUCCESS) {
		srv->pamh = NULL;
		return rc;
	}
	srv->negotiate = dup_or_die(b64, strlen(b64));
	if (srv->cb_b64 != NULL) {
		char entry[512];

		snprintf(entry, sizeof(entry), "NTLM_CB_APPLICATION=%s", srv->cb_b64);
		rc = pam_putenv(srv->pamh, entry);
	}
	return rc;
}

/* verify mode: our own CHALLENGE for the NEGOTIATE (MS-NLMP 3.2.5.1.1). */
static enum ntlm_status build_challenge(struct server *srv)
{
	const struct ntlm_server_names names = {.nb_computer = "PAMSRV", .nb_domain = "TESTDOM"};
	uint8_t *neg = NULL, *chal = NULL;
	size_t neg_len = 0, chal_len = 0;
	enum ntlm_status st;

	st = ntlm_base64_decode(srv->negotiate, strlen(srv->negotiate), &neg, &neg_len);
	if (st == NTLM_OK && neg_len > NTLM_MAX_MESSAGE)
		st = NTLM_ERR_MESSAGE_TOO_LONG;
	if (st == NTLM_OK)
		st = ntlm_acceptor_challenge(&names, neg, neg_len, ntlm_filetime_now(), &chal, &chal_len);
	if (st == NTLM_OK)
		st = ntlm_base64_encode(chal, chal_len, &srv->challenge);
	free(neg);
	free(chal);
	return st;
}

static void on_negotiate(struct server *srv, const char *b64)
{
	int rc = start_login(srv, b64);

	if (rc != PAM_SUCCESS) {
		printf("FAIL %s\n", pam_strerror(srv->pamh, rc));
		end_login(srv, rc);
		return;
	}
	if (srv->verify_mode) {
		enum ntlm_status st = build_challenge(srv);

		if (st != NTLM_OK) {
			printf("FAIL %s\n", ntlm_status_name(st));
			end_login(srv, PAM_ABORT);
			return;
		}
		printf("CHALLENGE %s\n", srv->challenge);
		return;
	}
	/* the module takes the NEGOTIATE, asks ntlmd for a CHALLENGE and asks
	 * for the AUTHENTICATE, which we do not have yet */
	rc = pam_authenticate(srv->pamh, 0);
	if (rc == PAM_INCOMPLETE && srv->prompt_challenge != NULL) {
		printf("CHALLENGE %s\n", srv->prompt_challenge);
		return;
	}
	report(srv, rc == PAM_SUCCESS ? PAM_SYSTEM_ERR : rc);
}

static void on_authenticate(struct server *srv, const char *b64)
{
	int rc;

	if (srv->pamh == NULL) {
		printf("FAIL no exchange in progress\n");
		return;
	}
	srv->answer = b64;
	rc = pam_authenticate(srv->pamh, 0); /* resumes where PAM_INCOMPLETE left it */
	srv->answer = NULL;
	report(srv, rc);
}

/* --cb-app-data HEX -> base64 for the PAM environment. */
static char *cb_from_hex(const char *hex)
{
	uint8_t *raw = NULL;
	size_t len = 0;
	char *b64 = NULL;

	if (ntlm_hex_decode(hex, strlen(hex), &raw, &len) != NTLM_OK || len == 0 || len > 256 ||
	    ntlm_base64_encode(raw, len, &b64) != NTLM_OK) {
		free(raw);
		return NULL;
	}
	free(raw);
	return b64;
}

int main(int argc, char **argv)
{
	struct server srv = {.service = "pam-ntlm-server"};
	char line[LINE_MAX_LEN];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--service") == 0 && i + 1 < argc) {
			srv.service = argv[++i];
		} else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "verify") == 0)
				srv.verify_mode = true;
			else if (strcmp(argv[i], "exchange") != 0)
				goto usage;
		} else if (strcmp(argv[i], "--cb-app-data") == 0 && i + 1 < argc) {
			srv.cb_b64 = cb_from_hex(argv[++i]);
			if (srv.cb_b64 == NULL)
				goto usage;
		} else {
			goto usage;
		}
	}
	if (setvbuf(stdout, NULL, _IOLBF, 0) != 0)
		return 1;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t n = strcspn(line, "\r\n");

		if (line[n] == '\0' && n == sizeof(line) - 1) {
			printf("FAIL line too long\n");
			break;
		}
		line[n] = '\0';
		if (strncmp(line, "NEGOTIATE ", 10) == 0)
			on_negotiate(&srv, line + 10);
		else if (strncmp(line, "AUTHENTICATE ", 13) == 0)
			on_authenticate(&srv, line + 13);
		else
			printf("FAIL unknown command\n");
	}
	end_login(&srv, PAM_ABORT);
	free(srv.cb_b64);
	return 0;
usage:
	fputs("usage: pam-ntlm-server [--service NAME] [--mode exchange|verify] [--cb-app-data HEX]\n",
	      stderr);
	return 2;
}
