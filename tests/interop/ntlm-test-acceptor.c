/*
 * ntlm-test-acceptor.c: a line-protocol front end of the libntlmssp acceptor,
 * driven by the interop tests (clients.py, http_ntlm_server.py).
 *
 * Usage:
 *   ntlm-test-acceptor --hashes FILE [--computer NAME] [--domain NAME]
 *       [--dns-domain NAME] [--allow-ntlmv1] [--allow-ess] [--allow-lm]
 *       [--allow-lmv2] [--require-mic] [--cb off|when-supported|required]
 *       [--cb-app-data HEX] [--target-name SPN]...
 *
 * Requests, one per line on stdin; one answer line per request on stdout:
 *   NEGOTIATE [<base64>]    -> CHALLENGE <base64> (no argument: connectionless)
 *   AUTHENTICATE <base64>   -> OK user=<u> domain=<d> workstation=<w> type=<t>
 *                                 mic=<v> cb=<v> spn=<v> key=<present|absent>
 *                           or FAIL <STATUS_NAME> 0x<code> type=<t> mic=<v> cb=<v>
 *   WRAP <base64>           -> TOKEN <base64 signature || (sealed) data>
 *   UNWRAP <base64>         -> DATA <base64> or FAIL <STATUS_NAME> 0x<code>
 * WRAP and UNWRAP use the session security (MS-NLMP 3.4) of the last
 * successful authentication: sealing when SEAL was negotiated, signing only
 * otherwise. A request that cannot be parsed, and a NEGOTIATE the library
 * refuses, get ERROR <STATUS_NAME>.
 *
 * A NEGOTIATE/CHALLENGE pair answers one AUTHENTICATE only. Names in the
 * answers are percent-escaped (bytes up to space, '%', DEL) so that every
 * answer stays one line of space-separated fields. Session keys and hashes
 * are never printed.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "backend.h"
#include "ntlmssp.h"
#include "smbpasswd.h"

/* Longest request line accepted: a maximal message in base64 and a keyword. */
#define MAX_LINE (((NTLM_MAX_MESSAGE + 2) / 3) * 4 + 64)
/* Longest WRAP/UNWRAP payload. */
#define MAX_WRAP_DATA    4096
#define MAX_TARGET_NAMES 16

struct acceptor {
	struct smbpasswd_db *db;
	struct ntlm_server_names names;
	struct ntlm_policy policy;
	const char *target_names[MAX_TARGET_NAMES + 1];
	size_t n_target_names;
	char *dns_computer;
	uint8_t *cb_app_data;
	size_t cb_app_data_len;
	bool have_cb;
	struct ntlm_channel_bindings cb;
	/* CHALLENGEs as other servers build them: without TargetInfo, or
	 * without MsvAvTimestamp in it */
	bool no_target_info;
	bool no_timestamp;

	/* the exchange in progress */
	uint8_t *negotiate;
	size_t negotiate_len;
	uint8_t *challenge;
	size_t challenge_len;
	bool have_challenge;

	/* session security of the last successful authentication */
	struct ntlm_session *session;
	bool session_seal;
};

static void usage(FILE *f)
{
	fputs("usage: ntlm-test-acceptor --hashes FILE [--computer NAME] [--domain NAME]\n"
	      "       [--dns-domain NAME] [--allow-ntlmv1] [--allow-ess] [--allow-lm] [--allow-lmv2]\n"
	      "       [--require-mic] [--cb off|when-supported|required] [--cb-app-data HEX]\n"
	      "       [--target-name SPN]... [--no-target-info] [--no-timestamp]\n",
	      f);
}

static void free_bytes(uint8_t *p, size_t len)
{
	ntlm_wipe(p, len);
	free(p);
}

static void forget_exchange(struct acceptor *a)
{
	free_bytes(a->negotiate, a->negotiate_len);
	free_bytes(a->challenge, a->challenge_len);
	a->negotiate = NULL;
	a->negotiate_len = 0;
	a->challenge = NULL;
	a->challenge_len = 0;
	a->have_challenge = false;
}

static void forget_session(struct acceptor *a)
{
	ntlm_session_free(a->session);
	a->session = NULL;
	a->session_seal = false;
}

static void acceptor_clear(struct acceptor *a)
{
	forget_exchange(a);
	forget_session(a);
	smbpasswd_db_free(a->db);
	a->db = NULL;
	free(a->dns_computer);
	a->dns_computer = NULL;
	free_bytes(a->cb_app_data, a->cb_app_data_len);
	a->cb_app_data = NULL;
	a->cb_app_data_len = 0;
}

/* "<computer in lower case>.<dns domain>" */
static char *make_dns_computer(const char *computer, const char *dns_domain)
{
	size_t clen = strlen(computer);
	size_t dlen = strlen(dns_domain);
	char *s = malloc(clen + 1 + dlen + 1);

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < clen; i++) {
		char c = computer[i];

		s[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	s[clen] = '.';
	memcpy(s + clen + 1, dns_domain, dlen + 1);
	return s;
}

/* Prints " key=value" with the value percent-escaped; NULL prints nothing after '='. */
static void print_field(const char *key, const char *value)
{
	printf(" %s=", key);
	if (value == NULL)
		return;
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p <= 0x20 || *p == '%' || *p == 0x7f)
			printf("%%%02X", *p);
		else
			putchar(*p);
	}
}

static void answer_error(enum ntlm_status st)
{
	printf("ERROR %s\n", ntlm_status_name(st));
}

static void answer_fail(enum ntlm_status st)
{
	printf("FAIL %s 0x%08" PRIX32 "\n", ntlm_status_name(st), ntlm_status_code(st));
}

/* Prints "<keyword> <base64 of p>". */
static void answer_base64(const char *keyword, const uint8_t *p, size_t len)
{
	char *b64 = NULL;
	enum ntlm_status st = ntlm_base64_encode(p, len, &b64);

	if (st != NTLM_OK) {
		answer_error(st);
		return;
	}
	printf("%s %s\n", keyword, b64);
	free(b64);
}

/* Decodes the base64 argument of a request; an absent argument gives no bytes. */
static enum ntlm_status decode_arg(const char *arg, uint8_t **ret, size_t *ret_len)
{
	if (arg == NULL || *arg == '\0') {
		*ret = NULL;
		*ret_len = 0;
		return NTLM_OK;
	}
	return ntlm_base64_decode(arg, strlen(arg), ret, ret_len);
}

/* The CHALLENGE's TargetInfo without MsvAvTimestamp, or none at all (and
 * NEGOTIATE_TARGET_INFO off), as a server that sends none does. */
static enum ntlm_status strip_challenge(const struct acceptor *a, uint8_t **chal, size_t *chal_len)
{
	struct ntlm_challenge c;
	struct ntlm_av_list list;
	struct ntlm_writer w;
	uint8_t *info = NULL, *out = NULL;
	size_t info_len = 0, out_len = 0;
	enum ntlm_status st;

	if ((st = ntlm_challenge_decode(*chal, *chal_len, &c)) != NTLM_OK)
		return st;
	if (a->no_target_info) {
		c.flags &= ~NTLM_NEGOTIATE_TARGET_INFO;
	} else {
		st = ntlm_av_list_decode(c.target_info.data, c.target_info.len, &list);
		if (st != NTLM_OK)
			goto out;
		ntlm_writer_init(&w, NTLM_MAX_MESSAGE);
		for (size_t i = 0; i < list.count; i++) {
			if (list.pairs[i].id != NTLM_AV_TIMESTAMP)
				ntlm_av_write(&w, list.pairs[i].id, list.pairs[i].value.data,
				              list.pairs[i].value.len);
		}
		ntlm_av_write_eol(&w);
		if ((st = ntlm_writer_finish(&w, &info, &info_len)) != NTLM_OK)
			goto out;
	}
	c.target_info = (struct ntlm_view){info, info_len};
	if ((st = ntlm_challenge_encode(&c, &out, &out_len)) != NTLM_OK)
		goto out;
	free_bytes(*chal, *chal_len);
	*chal = out;
	*chal_len = out_len;
out:
	free(info);
	ntlm_challenge_clear(&c);
	return st;
}

static void do_negotiate(struct acceptor *a, const char *arg)
{
	uint8_t *neg = NULL;
	size_t neg_len = 0;
	uint8_t *chal = NULL;
	size_t chal_len = 0;
	enum ntlm_status st;

	forget_exchange(a);
	st = decode_arg(arg, &neg, &neg_len);
	if (st != NTLM_OK) {
		answer_error(st);
		goto out;
	}
	st = ntlm_acceptor_challenge(&a->names, neg, neg_len, ntlm_filetime_now(), &chal, &chal_len);
	if (st == NTLM_OK && (a->no_target_info || a->no_timestamp))
		st = strip_challenge(a, &chal, &chal_len);
	if (st != NTLM_OK) {
		answer_error(st);
		goto out;
	}
	answer_base64("CHALLENGE", chal, chal_len);
	a->negotiate = neg;
	a->negotiate_len = neg_len;
	a->challenge = chal;
	a->challenge_len = chal_len;
	a->have_challenge = true;
	neg = NULL;
	chal = NULL;
out:
	free_bytes(neg, neg_len);
}

static void do_authenticate(struct acceptor *a, const char *arg)
{
	/* ntlmd's account policy over the file's entries */
	struct ntlmd_db_lookup lookup = {
	    .db = a->db,
	    .logon = {.interactive = true, .allow_null_password = false, .now = (int64_t)time(NULL)}};
	struct ntlm_accept_result res;
	uint8_t *auth = NULL;
	size_t auth_len = 0;
	enum ntlm_status st;

	memset(&res, 0, sizeof(res));
	forget_session(a);
	if (arg == NULL || *arg == '\0') {
		answer_error(NTLM_ERR_INVALID_ARGUMENT);
		goto keep;
	}
	st = decode_arg(arg, &auth, &auth_len);
	if (st != NTLM_OK) {
		answer_error(st);
		goto keep;
	}
	if (!a->have_challenge) {
		answer_fail(NTLM_STATUS_CHALLENGE_EXPIRED);
		goto out;
	}
	st = ntlm_acceptor_verify(&a->policy, a->negotiate, a->negotiate_len, a->challenge, a->challenge_len,
	                          auth, auth_len, a->have_cb ? &a->cb : NULL, ntlmd_db_lookup, &lookup,
	                          ntlm_filetime_now(), &res);
	if (st == NTLM_OK) {
		printf("OK");
		print_field("user", res.user);
		print_field("domain", res.domain);
		print_field("workstation", res.workstation);
		printf(" type=%s mic=%s cb=%s spn=%s key=%s\n", ntlm_response_type_name(res.response_type),
		       ntlm_verdict_name(res.mic), ntlm_verdict_name(res.channel_bindings),
		       ntlm_verdict_name(res.target_name), res.has_session_key ? "present" : "absent");
		if (res.has_session_key &&
		    ntlm_session_new(res.flags, &res.session_key, false, &a->session) == NTLM_OK)
			a->session_seal = (res.flags & NTLM_NEGOTIATE_SEAL) != 0;
	} else {
		printf("FAIL %s 0x%08" PRIX32 " type=%s mic=%s cb=%s\n", ntlm_status_name(st),
		       ntlm_status_code(st), ntlm_response_type_name(res.response_type),
		       ntlm_verdict_name(res.mic), ntlm_verdict_name(res.channel_bindings));
	}
out:
	/* one AUTHENTICATE per CHALLENGE; a request line that could not be
	 * read (ERROR) does not use it up */
	forget_exchange(a);
keep:
	ntlm_accept_result_clear(&res);
	free_bytes(auth, auth_len);
}

static void do_wrap(struct acceptor *a, const char *arg)
{
	uint8_t *data = NULL;
	size_t data_len = 0;
	uint8_t *token = NULL;
	size_t token_len = 0;
	enum ntlm_status st;

	st = decode_arg(arg, &data, &data_len);
	if (st != NTLM_OK) {
		answer_error(st);
		goto out;
	}
	if (data_len > MAX_WRAP_DATA) {
		answer_error(NTLM_ERR_MESSAGE_TOO_LONG);
		goto out;
	}
	if (a->session == NULL) {
		answer_fail(NTLM_ERR_INVALID_ARGUMENT);
		goto out;
	}
	token_len = NTLM_SIGNATURE_LEN + data_len;
	token = malloc(token_len);
	if (token == NULL) {
		answer_fail(NTLM_ERR_NO_MEMORY);
		goto out;
	}
	if (a->session_seal) {
		st = ntlm_session_seal(a->session, data, data_len, token + NTLM_SIGNATURE_LEN, token);
	} else {
		st = ntlm_session_sign(a->session, data, data_len, token);
		if (data_len > 0)
			memcpy(token + NTLM_SIGNATURE_LEN, data, data_len);
	}
	if (st != NTLM_OK) {
		answer_fail(st);
		goto out;
	}
	answer_base64("TOKEN", token, token_len);
out:
	free_bytes(token, token_len);
	free_bytes(data, data_len);
}

static void do_unwrap(struct acceptor *a, const char *arg)
{
	uint8_t *token = NULL;
	size_t token_len = 0;
	uint8_t *data = NULL;
	size_t data_len = 0;
	const uint8_t *body;
	enum ntlm_status st;

	st = decode_arg(arg, &token, &token_len);
	if (st != NTLM_OK) {
		answer_error(st);
		goto out;
	}
	if (token_len < NTLM_SIGNATURE_LEN) {
		answer_error(NTLM_ERR_TRUNCATED);
		goto out;
	}
	if (token_len - NTLM_SIGNATURE_LEN > MAX_WRAP_DATA) {
		answer_error(NTLM_ERR_MESSAGE_TOO_LONG);
		goto out;
	}
	if (a->session == NULL) {
		answer_fail(NTLM_ERR_INVALID_ARGUMENT);
		goto out;
	}
	body = token + NTLM_SIGNATURE_LEN;
	data_len = token_len - NTLM_SIGNATURE_LEN;
	data = malloc(data_len + 1);
	if (data == NULL) {
		answer_fail(NTLM_ERR_NO_MEMORY);
		goto out;
	}
	if (a->session_seal) {
		st = ntlm_session_unseal(a->session, body, data_len, data, token);
	} else {
		if (data_len > 0)
			memcpy(data, body, data_len);
		st = ntlm_session_verify(a->session, data, data_len, token);
	}
	if (st != NTLM_OK) {
		answer_fail(st);
		goto out;
	}
	answer_base64("DATA", data, data_len);
out:
	free_bytes(data, data_len);
	free_bytes(token, token_len);
}

/* Splits "KEYWORD[ ARG]"; returns the argument (NULL when there is none). */
static char *split_request(char *line)
{
	char *sp = strchr(line, ' ');

	if (sp == NULL)
		return NULL;
	*sp = '\0';
	sp++;
	while (*sp == ' ')
		sp++;
	return sp;
}

static void handle_line(struct acceptor *a, char *line)
{
	char *arg = split_request(line);

	if (strcmp(line, "NEGOTIATE") == 0)
		do_negotiate(a, arg);
	else if (strcmp(line, "AUTHENTICATE") == 0)
		do_authenticate(a, arg);
	else if (strcmp(line, "WRAP") == 0)
		do_wrap(a, arg);
	else if (strcmp(line, "UNWRAP") == 0)
		do_unwrap(a, arg);
	else
		answer_error(NTLM_ERR_INVALID_ARGUMENT);
}

/* Reads requests until EOF. Returns 0, or 1 on a read error. */
static int serve(struct acceptor *a)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	errno = 0;
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		size_t len = (size_t)n;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
			line[--len] = '\0';
		if (len > MAX_LINE)
			answer_error(NTLM_ERR_MESSAGE_TOO_LONG);
		else if (strlen(line) != len)
			answer_error(NTLM_ERR_BAD_STRING);
		else if (len > 0)
			handle_line(a, line);
		else
			answer_error(NTLM_ERR_INVALID_ARGUMENT);
		if (fflush(stdout) != 0) {
			rc = 1;
			goto out;
		}
		errno = 0;
	}
	if (ferror(stdin)) {
		perror("ntlm-test-acceptor: stdin");
		rc = 1;
	}
out:
	if (line != NULL)
		ntlm_wipe(line, cap);
	free(line);
	return rc;
}

static bool parse_cb_mode(const char *s, enum ntlm_cb_mode *ret)
{
	if (strcmp(s, "off") == 0)
		*ret = NTLM_CB_OFF;
	else if (strcmp(s, "when-supported") == 0)
		*ret = NTLM_CB_WHEN_SUPPORTED;
	else if (strcmp(s, "required") == 0)
		*ret = NTLM_CB_REQUIRED;
	else
		return false;
	return true;
}

enum {
	OPT_HASHES = 256,
	OPT_COMPUTER,
	OPT_DOMAIN,
	OPT_DNS_DOMAIN,
	OPT_ALLOW_NTLMV1,
	OPT_ALLOW_ESS,
	OPT_ALLOW_LM,
	OPT_ALLOW_LMV2,
	OPT_REQUIRE_MIC,
	OPT_CB,
	OPT_CB_APP_DATA,
	OPT_TARGET_NAME,
	OPT_NO_TARGET_INFO,
	OPT_NO_TIMESTAMP,
	OPT_HELP,
};

static const struct option options[] = {
    {"hashes", required_argument, NULL, OPT_HASHES},
    {"computer", required_argument, NULL, OPT_COMPUTER},
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"dns-domain", required_argument, NULL, OPT_DNS_DOMAIN},
    {"allow-ntlmv1", no_argument, NULL, OPT_ALLOW_NTLMV1},
    {"allow-ess", no_argument, NULL, OPT_ALLOW_ESS},
    {"allow-lm", no_argument, NULL, OPT_ALLOW_LM},
    {"allow-lmv2", no_argument, NULL, OPT_ALLOW_LMV2},
    {"require-mic", no_argument, NULL, OPT_REQUIRE_MIC},
    {"cb", required_argument, NULL, OPT_CB},
    {"cb-app-data", required_argument, NULL, OPT_CB_APP_DATA},
    {"target-name", required_argument, NULL, OPT_TARGET_NAME},
    {"no-target-info", no_argument, NULL, OPT_NO_TARGET_INFO},
    {"no-timestamp", no_argument, NULL, OPT_NO_TIMESTAMP},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
	struct acceptor a;
	const char *hashes = NULL;
	const char *dns_domain = NULL;
	size_t bad_line = 0;
	const char *reason = NULL;
	enum ntlm_status st;
	int opt;
	int rc = 2;

	memset(&a, 0, sizeof(a));
	ntlm_policy_init(&a.policy);
	a.names.nb_computer = "TESTSRV";
	a.names.nb_domain = "TESTDOM";

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case OPT_HASHES:
			hashes = optarg;
			break;
		case OPT_COMPUTER:
			a.names.nb_computer = optarg;
			break;
		case OPT_DOMAIN:
			a.names.nb_domain = optarg;
			break;
		case OPT_DNS_DOMAIN:
			dns_domain = optarg;
			break;
		case OPT_ALLOW_NTLMV1:
			a.policy.allow_ntlmv1 = true;
			break;
		case OPT_ALLOW_ESS:
			a.policy.allow_ntlmv1_ess = true;
			break;
		case OPT_ALLOW_LM:
			a.policy.allow_lm = true;
			break;
		case OPT_ALLOW_LMV2:
			a.policy.allow_lmv2 = true;
			break;
		case OPT_REQUIRE_MIC:
			a.policy.require_mic = true;
			break;
		case OPT_CB:
			if (!parse_cb_mode(optarg, &a.policy.channel_bindings)) {
				fprintf(stderr, "ntlm-test-acceptor: --cb: unknown mode '%s'\n", optarg);
				goto out;
			}
			break;
		case OPT_CB_APP_DATA:
			free_bytes(a.cb_app_data, a.cb_app_data_len);
			a.cb_app_data = NULL;
			a.cb_app_data_len = 0;
			if (ntlm_hex_decode(optarg, strlen(optarg), &a.cb_app_data, &a.cb_app_data_len) !=
			    NTLM_OK) {
				fputs("ntlm-test-acceptor: --cb-app-data: not a hex string\n", stderr);
				goto out;
			}
			a.have_cb = true;
			break;
		case OPT_TARGET_NAME:
			if (a.n_target_names == MAX_TARGET_NAMES) {
				fputs("ntlm-test-acceptor: too many --target-name options\n", stderr);
				goto out;
			}
			a.target_names[a.n_target_names++] = optarg;
			break;
		case OPT_NO_TARGET_INFO:
			a.no_target_info = true;
			break;
		case OPT_NO_TIMESTAMP:
			a.no_timestamp = true;
			break;
		case OPT_HELP:
			usage(stdout);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind != argc || hashes == NULL) {
		usage(stderr);
		goto out;
	}
	if (dns_domain != NULL) {
		a.dns_computer = make_dns_computer(a.names.nb_computer, dns_domain);
		if (a.dns_computer == NULL) {
			fputs("ntlm-test-acceptor: out of memory\n", stderr);
			rc = 1;
			goto out;
		}
		a.names.dns_domain = dns_domain;
		a.names.dns_computer = a.dns_computer;
		a.names.dns_tree = dns_domain;
	}
	if (a.n_target_names > 0) {
		a.target_names[a.n_target_names] = NULL;
		a.policy.target_names = a.target_names;
	}
	if (a.have_cb) {
		a.cb.application_data.data = a.cb_app_data;
		a.cb.application_data.len = a.cb_app_data_len;
	}

	st = smbpasswd_db_load(hashes, &a.db, &bad_line, &reason);
	if (st != NTLM_OK) {
		if (bad_line > 0)
			fprintf(stderr, "ntlm-test-acceptor: %s:%zu: %s\n", hashes, bad_line,
			        reason != NULL ? reason : ntlm_status_message(st));
		else
			fprintf(stderr, "ntlm-test-acceptor: %s: %s\n", hashes, ntlm_status_message(st));
		rc = 1;
		goto out;
	}
	rc = serve(&a);
out:
	acceptor_clear(&a);
	return rc;
}
