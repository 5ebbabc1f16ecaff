/*
 * pam-su.c: calls PAM as util-linux su (and chsh, chfn) does, for
 * test-pam-identity.sh. The target is fixed before PAM:
 * pam_start(SERVICE, TARGET), then pam_authenticate() and, when it
 * succeeded, pam_acct_mgmt(). su then runs TARGET's shell: it never reads
 * PAM_USER again (printed here only so the test can see it).
 *
 * The conversation answers as an NTLM client of its own, built with
 * libntlmssp's initiator:
 *   "Password: " and "NTLM NEGOTIATE: "      a NEGOTIATE_MESSAGE (base64);
 *   "NTLM CHALLENGE <b64> AUTHENTICATE: "    an AUTHENTICATE_MESSAGE for
 *                                            NTLM_USER, from its password
 *                                            or, with --nt-hash, its NT
 *                                            hash alone (pass-the-hash);
 *   any other prompt                         a conversation error.
 *
 *   pam-su [--nt-hash] [--domain D] SERVICE TARGET NTLM_USER
 *
 * The password (or the NT hash, 32 hex digits) is the first line of
 * stdin, never an argument. TARGET "-" passes NULL to pam_start(), as a
 * server that learns the user from the exchange does. Prints one line per
 * prompt ("prompt: Password: ", "prompt: NTLM CHALLENGE ... AUTHENTICATE: "),
 * "authenticate: PAM_..." and, after a success, "acct_mgmt: PAM_...", then
 * "PAM_USER=..." and the NTLM_USER and NTLM_DOMAIN the module set. Exits
 * 0 when both calls succeeded, 1 when one failed, 2 on a usage or setup
 * error. It runs under pam_wrapper with the test's private service
 * directory.
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "ntlmssp.h"

#define CHALLENGE_PREFIX "NTLM CHALLENGE "
#define CHALLENGE_SUFFIX " AUTHENTICATE: "

struct client {
	struct ntlm_initiator_config cfg;
	struct ntlm_hash nt;
	char secret[256];
	uint8_t *negotiate;
	size_t negotiate_len;
};

static const char *pam_code_name(int rc)
{
	static const struct {
		int rc;
		const char *name;
	} names[] = {
	    {PAM_SUCCESS, "PAM_SUCCESS"},
	    {PAM_AUTH_ERR, "PAM_AUTH_ERR"},
	    {PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN"},
	    {PAM_CONV_ERR, "PAM_CONV_ERR"},
	    {PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL"},
	    {PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED"},
	    {PAM_PERM_DENIED, "PAM_PERM_DENIED"},
	    {PAM_NEW_AUTHTOK_REQD, "PAM_NEW_AUTHTOK_REQD"},
	    {PAM_MAXTRIES, "PAM_MAXTRIES"},
	    {PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR"},
	    {PAM_BUF_ERR, "PAM_BUF_ERR"},
	    {PAM_INCOMPLETE, "PAM_INCOMPLETE"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].rc == rc)
			return names[i].name;
	return "PAM_(other)";
}

/* The base64 of a message, or NULL. */
static char *encode(const uint8_t *msg, size_t len)
{
	char *b64 = NULL;

	return ntlm_base64_encode(msg, len, &b64) == NTLM_OK ? b64 : NULL;
}

/* The answer to the first prompt: a NEGOTIATE, kept for the MIC. */
static char *answer_negotiate(struct client *c)
{
	free(c->negotiate);
	c->negotiate = NULL;
	if (ntlm_initiator_negotiate(&c->cfg, &c->negotiate, &c->negotiate_len) != NTLM_OK)
		return NULL;
	return encode(c->negotiate, c->negotiate_len);
}

/* The answer to "NTLM CHALLENGE <b64> AUTHENTICATE: ". */
static char *answer_challenge(struct client *c, const char *prompt)
{
	const char *b64 = prompt + strlen(CHALLENGE_PREFIX);
	const char *end = strchr(b64, ' ');
	uint8_t *challenge = NULL, *auth = NULL;
	size_t challenge_len = 0, auth_len = 0;
	char *answer = NULL;

	if (end == NULL ||
	    ntlm_base64_decode(b64, (size_t)(end - b64), &challenge, &challenge_len) != NTLM_OK)
		goto out;
	if (ntlm_initiator_authenticate(&c->cfg, c->negotiate, c->negotiate_len, challenge, challenge_len,
	                                &auth, &auth_len, NULL) != NTLM_OK)
		goto out;
	answer = encode(auth, auth_len);
out:
	free(challenge);
	if (auth != NULL) {
		ntlm_wipe(auth, auth_len);
		free(auth);
	}
	return answer;
}

static bool is_challenge_prompt(const char *prompt)
{
	size_t n = strlen(prompt);

	return strncmp(prompt, CHALLENGE_PREFIX, strlen(CHALLENGE_PREFIX)) == 0 &&
	       n > strlen(CHALLENGE_SUFFIX) &&
	       strcmp(prompt + n - strlen(CHALLENGE_SUFFIX), CHALLENGE_SUFFIX) == 0;
}

/* One answer, or NULL for a prompt this client cannot answer. */
static char *answer(struct client *c, const char *prompt)
{
	if (strcmp(prompt, "Password: ") == 0 || strcmp(prompt, "NTLM NEGOTIATE: ") == 0)
		return answer_negotiate(c);
	if (is_challenge_prompt(prompt))
		return answer_challenge(c, prompt);
	return NULL;
}

static void free_responses(struct pam_response *r, int n)
{
	for (int i = 0; i < n; i++)
		free(r[i].resp);
	free(r);
}

static int conversation(int n, const struct pam_message **msgs, struct pam_response **ret, void *data)
{
	struct client *c = data;
	struct pam_response *r;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *text = msgs[i]->msg != NULL ? msgs[i]->msg : "";

		switch (msgs[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			printf("prompt: %s\n",
			       is_challenge_prompt(text) ? "NTLM CHALLENGE ... AUTHENTICATE: " : text);
			r[i].resp = answer(c, text);
			if (r[i].resp == NULL) {
				free_responses(r, n);
				return PAM_CONV_ERR;
			}
			break;
		default:
			printf("message: %s\n", text);
			break;
		}
	}
	fflush(stdout);
	*ret = r;
	return PAM_SUCCESS;
}

/* The secret from stdin's first line: the password, or the NT hash. */
static bool read_secret(struct client *c, bool nt_hash)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	bool ok;

	if (fgets(c->secret, sizeof(c->secret), stdin) == NULL)
		return false;
	c->secret[strcspn(c->secret, "\r\n")] = '\0';
	if (!nt_hash) {
		c->cfg.password = c->secret;
		return c->secret[0] != '\0';
	}
	ok = ntlm_hex_decode(c->secret, strlen(c->secret), &bytes, &len) == NTLM_OK &&
	     len == sizeof(c->nt.bytes);
	if (ok) {
		memcpy(c->nt.bytes, bytes, sizeof(c->nt.bytes));
		c->cfg.nt_hash = &c->nt;
	}
	if (bytes != NULL) {
		ntlm_wipe(bytes, len);
		free(bytes);
	}
	ntlm_wipe(c->secret, sizeof(c->secret));
	return ok;
}

/* su's order: authenticate, then the account check only after a success. */
static int run_pam(const char *service, const char *target, struct client *c)
{
	static const char *const env[] = {"NTLM_USER", "NTLM_DOMAIN"};
	struct pam_conv conv = {conversation, c};
	pam_handle_t *h = NULL;
	const void *user = NULL;
	int rc;

	rc = pam_start(service, target, &conv, &h);
	if (rc != PAM_SUCCESS) {
		printf("pam_start: %s\n", pam_code_name(rc));
		return 2;
	}
	rc = pam_authenticate(h, 0);
	printf("authenticate: %s\n", pam_code_name(rc));
	if (rc == PAM_SUCCESS) {
		rc = pam_acct_mgmt(h, 0);
		printf("acct_mgmt: %s\n", pam_code_name(rc));
	}
	if (pam_get_item(h, PAM_USER, &user) == PAM_SUCCESS && user != NULL)
		printf("PAM_USER=%s\n", (const char *)user);
	else
		printf("PAM_USER unset\n");
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
		const char *value = pam_getenv(h, env[i]);

		if (value != NULL)
			printf("%s=%s\n", env[i], value);
	}
	pam_end(h, rc);
	return rc == PAM_SUCCESS ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct client c;
	bool nt_hash = false;
	int i = 1, rc;

	memset(&c, 0, sizeof(c));
	c.cfg.domain = "TESTDOM";
	c.cfg.workstation = "CLIENT1";
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--nt-hash") == 0)
			nt_hash = true;
		else if (strcmp(argv[i], "--domain") == 0 && i + 1 < argc)
			c.cfg.domain = argv[++i];
		else
			break;
	}
	if (argc - i != 3) {
		fprintf(stderr, "usage: pam-su [--nt-hash] [--domain D] SERVICE TARGET NTLM_USER "
		                "(password or NT hash on stdin)\n");
		return 2;
	}
	c.cfg.user = argv[i + 2];
	if (!read_secret(&c, nt_hash)) {
		fprintf(stderr, "pam-su: no password (or NT hash of 32 hex digits) on stdin\n");
		return 2;
	}
	rc = run_pam(argv[i], strcmp(argv[i + 1], "-") == 0 ? NULL : argv[i + 1], &c);
	ntlm_wipe(c.secret, sizeof(c.secret));
	ntlm_wipe(&c.nt, sizeof(c.nt));
	free(c.negotiate);
	return rc;
}
