/*
 * client.c: "ntlmtool client": the library's initiator as a scripting
 * client. Without --challenge it prints the NEGOTIATE; with it, the
 * AUTHENTICATE for that CHALLENGE (the NEGOTIATE, which the MIC covers, is
 * the one the same options produce, or --negotiate).
 */
#include <config.h>

#include "ntlmtool.h"

#include <stdlib.h>
#include <string.h>

static const char client_usage[] =
    "usage: ntlmtool client --user USER [--domain DOMAIN] [--workstation NAME]\n"
    "           (--password PW|- | --nt-hash HEX) [--challenge B64 [--negotiate B64]]\n"
    "           [--ntlmv2 | --ntlmv1 | --ntlmv1-ess | --lm | --lmv2] [--no-mic]\n"
    "           [--channel-bindings HEX | --no-channel-bindings] [--spn SPN [--unverified-spn]]\n"
    "           [--no-version] [--oem] [--header NAME] [--json]\n"
    "\n"
    "Without --challenge, prints the NEGOTIATE message (base64). With --challenge,\n"
    "prints the AUTHENTICATE answering it. The MIC covers the NEGOTIATE: the one\n"
    "these options produce is used unless --negotiate gives another.\n"
    "\n"
    "  --ntlmv2 (default), --ntlmv1, --ntlmv1-ess, --lm, --lmv2   the response type\n"
    "  --no-mic               NTLMv2 without MsvAvFlags MIC and without the MIC\n"
    "  --channel-bindings HEX application data of the channel bindings (RFC 5929)\n"
    "  --no-channel-bindings  no MsvAvChannelBindings at all (default: all zeros)\n"
    "  --spn SPN              MsvAvTargetName; --unverified-spn marks it unverified\n"
    "  --no-version           leave the VERSION field out (as curl does)\n"
    "  --oem                  do not offer Unicode\n"
    "  --header NAME          print 'NAME: NTLM <base64>' (e.g. Authorization)\n"
    "  --json                 both messages and the exported session key as JSON\n"
    "  --client-challenge HEX, --session-key HEX, --timestamp TIME\n"
    "                         fixed values instead of random ones / the clock (tests)\n";

struct client_opts {
	struct ntlm_initiator_config cfg;
	const char *password_arg, *nt_hex, *challenge, *negotiate, *header, *cb_hex;
	const char *client_challenge_hex, *session_key_hex, *timestamp_arg;
	bool json;
	int modes;
};

enum {
	OPT_NTLMV2 = 256,
	OPT_NTLMV1,
	OPT_ESS,
	OPT_LM,
	OPT_LMV2,
	OPT_NO_MIC,
	OPT_CB,
	OPT_NO_CB,
	OPT_SPN,
	OPT_UNVERIFIED,
	OPT_NO_VERSION,
	OPT_OEM,
	OPT_HEADER,
	OPT_CLIENT_CHALLENGE,
	OPT_SESSION_KEY,
	OPT_TIMESTAMP,
};

/* The response type options (the only ones not stored by parse_options()). */
static int set_mode(int c, const char *arg, void *ctx)
{
	static const struct {
		int id;
		enum ntlm_client_mode mode;
	} modes[] = {
	    {OPT_NTLMV2, NTLM_CLIENT_NTLMV2},  {OPT_NTLMV1, NTLM_CLIENT_NTLMV1},
	    {OPT_ESS, NTLM_CLIENT_NTLMV1_ESS}, {OPT_LM, NTLM_CLIENT_LM},
	    {OPT_LMV2, NTLM_CLIENT_LMV2},
	};
	struct client_opts *o = ctx;

	(void)arg;
	for (size_t i = 0; i < ARRAY_LEN(modes); i++)
		if (modes[i].id == c) {
			o->cfg.mode = modes[i].mode;
			o->modes++;
			return TOOL_OK;
		}
	return TOOL_USAGE;
}

static int parse_client(int argc, char **argv, struct client_opts *o)
{
	static const struct option opts[] = {OPTION_ARG("user", 'u'),
	                                     OPTION_ARG("domain", 'd'),
	                                     OPTION_ARG("workstation", 'w'),
	                                     OPTION_PASSWORD,
	                                     OPTION_NT_HASH,
	                                     OPTION_CHALLENGE,
	                                     OPTION_NEGOTIATE,
	                                     OPTION_JSON,
	                                     OPTION_HELP,
	                                     OPTION_FLAG("ntlmv2", OPT_NTLMV2),
	                                     OPTION_FLAG("ntlmv1", OPT_NTLMV1),
	                                     OPTION_FLAG("ntlmv1-ess", OPT_ESS),
	                                     OPTION_FLAG("ess", OPT_ESS),
	                                     OPTION_FLAG("lm", OPT_LM),
	                                     OPTION_FLAG("lmv2", OPT_LMV2),
	                                     OPTION_FLAG("no-mic", OPT_NO_MIC),
	                                     OPTION_ARG("channel-bindings", OPT_CB),
	                                     OPTION_FLAG("no-channel-bindings", OPT_NO_CB),
	                                     OPTION_ARG("spn", OPT_SPN),
	                                     OPTION_FLAG("unverified-spn", OPT_UNVERIFIED),
	                                     OPTION_FLAG("no-version", OPT_NO_VERSION),
	                                     OPTION_FLAG("oem", OPT_OEM),
	                                     OPTION_ARG("header", OPT_HEADER),
	                                     OPTION_ARG("client-challenge", OPT_CLIENT_CHALLENGE),
	                                     OPTION_ARG("session-key", OPT_SESSION_KEY),
	                                     OPTION_ARG("timestamp", OPT_TIMESTAMP),
	                                     OPTION_END};
	const struct opt_store store[] = {
	    {'u', &o->cfg.user, NULL},
	    {'d', &o->cfg.domain, NULL},
	    {'w', &o->cfg.workstation, NULL},
	    {'p', &o->password_arg, NULL},
	    {'n', &o->nt_hex, NULL},
	    {'C', &o->challenge, NULL},
	    {'N', &o->negotiate, NULL},
	    {'j', NULL, &o->json},
	    {OPT_NO_MIC, NULL, &o->cfg.no_mic},
	    {OPT_CB, &o->cb_hex, NULL},
	    {OPT_NO_CB, NULL, &o->cfg.no_channel_bindings},
	    {OPT_SPN, &o->cfg.target_name, NULL},
	    {OPT_UNVERIFIED, NULL, &o->cfg.unverified_spn},
	    {OPT_NO_VERSION, NULL, &o->cfg.no_version},
	    {OPT_OEM, NULL, &o->cfg.oem},
	    {OPT_HEADER, &o->header, NULL},
	    {OPT_CLIENT_CHALLENGE, &o->client_challenge_hex, NULL},
	    {OPT_SESSION_KEY, &o->session_key_hex, NULL},
	    {OPT_TIMESTAMP, &o->timestamp_arg, NULL},
	    {0, NULL, NULL},
	};
	int rc = parse_options("client", argc, argv, ":h", opts, store, client_usage, set_mode, o);

	if (rc != TOOL_OK)
		return rc;
	if (optind < argc)
		return tool_usage_error("client", "unexpected argument '%s'", argv[optind]);
	if (o->cfg.user == NULL)
		return tool_usage_error("client", "--user is required");
	if (o->modes > 1)
		return tool_usage_error("client",
		                        "give one of --ntlmv2, --ntlmv1, --ntlmv1-ess, --lm, --lmv2");
	if ((o->password_arg != NULL) == (o->nt_hex != NULL))
		return tool_usage_error("client", "give one of --password and --nt-hash");
	if (o->cb_hex != NULL && o->cfg.no_channel_bindings)
		return tool_usage_error("client", "--channel-bindings and --no-channel-bindings contradict");
	return TOOL_OK;
}

/* Everything the options point to; wiped at the end. */
struct client_state {
	struct ntlm_hash nt, session_key;
	char *password;
	uint8_t *cb_data;
	size_t cb_len;
	struct ntlm_channel_bindings cb;
	uint8_t client_challenge[8], random_key[16];
	uint64_t timestamp;
	struct tool_input challenge, negotiate_in;
	uint8_t *negotiate, *authenticate;
	size_t negotiate_len, authenticate_len;
};

static int load_secrets(struct client_opts *o, struct client_state *s)
{
	int rc;

	if (o->nt_hex != NULL) {
		if (!parse_hex_exact(o->nt_hex, s->nt.bytes, sizeof(s->nt.bytes)))
			return tool_usage_error("client", "--nt-hash: expected 32 hex digits");
		o->cfg.nt_hash = &s->nt;
	} else {
		rc = read_password("client", o->password_arg, "Password: ", false, &s->password);
		if (rc != TOOL_OK)
			return rc;
		o->cfg.password = s->password;
	}
	if (o->cb_hex != NULL) {
		if (!parse_hex_alloc(o->cb_hex, &s->cb_data, &s->cb_len))
			return tool_usage_error("client", "--channel-bindings: expected hex");
		s->cb.application_data = (struct ntlm_view){s->cb_data, s->cb_len};
		o->cfg.channel_bindings = &s->cb;
	}
	if (o->client_challenge_hex != NULL) {
		if (!parse_hex_exact(o->client_challenge_hex, s->client_challenge,
		                     sizeof(s->client_challenge)))
			return tool_usage_error("client", "--client-challenge: expected 16 hex digits");
		o->cfg.client_challenge = s->client_challenge;
	}
	if (o->session_key_hex != NULL) {
		if (!parse_hex_exact(o->session_key_hex, s->random_key, sizeof(s->random_key)))
			return tool_usage_error("client", "--session-key: expected 32 hex digits");
		o->cfg.random_session_key = s->random_key;
	}
	if (o->timestamp_arg != NULL) {
		if (!parse_time(o->timestamp_arg, &s->timestamp))
			return tool_usage_error("client",
			                        "--timestamp: expected a FILETIME or an ISO-8601 time");
		o->cfg.timestamp = &s->timestamp;
	}
	return TOOL_OK;
}

static void client_state_clear(struct client_state *s)
{
	free_password(s->password);
	free(s->cb_data);
	input_clear(&s->challenge);
	input_clear(&s->negotiate_in);
	if (s->negotiate != NULL)
		ntlm_wipe(s->negotiate, s->negotiate_len);
	free(s->negotiate);
	if (s->authenticate != NULL)
		ntlm_wipe(s->authenticate, s->authenticate_len);
	free(s->authenticate);
	ntlm_wipe(s, sizeof(*s));
}

/* Prints one message: base64, as a header line with --header. */
static int print_message(const struct client_opts *o, const uint8_t *p, size_t n)
{
	char *b64 = NULL;
	enum ntlm_status st = ntlm_base64_encode(p, n, &b64);

	if (st != NTLM_OK)
		return tool_status_error("client", "cannot encode the message", st);
	if (o->header != NULL)
		printf("%s: NTLM %s\n", o->header, b64);
	else
		printf("%s\n", b64);
	free(b64);
	return TOOL_OK;
}

static int print_json(const struct client_state *s)
{
	struct doc *root = doc_new();
	char *b64 = NULL;

	if (ntlm_base64_encode(s->negotiate, s->negotiate_len, &b64) == NTLM_OK)
		doc_str(root, "negotiate", NULL, "%s", b64);
	free(b64);
	b64 = NULL;
	if (s->authenticate != NULL) {
		if (ntlm_base64_encode(s->authenticate, s->authenticate_len, &b64) == NTLM_OK)
			doc_str(root, "authenticate", NULL, "%s", b64);
		free(b64);
		doc_hex(root, "session_key", NULL, s->session_key.bytes, sizeof(s->session_key.bytes));
	}
	doc_print(stdout, root, true);
	doc_free(root);
	return TOOL_OK;
}

/* The NEGOTIATE the MIC covers: --negotiate, or the one these options make. */
static int make_negotiate(const struct client_opts *o, struct client_state *s)
{
	enum ntlm_status st;
	int rc;

	if (o->negotiate == NULL) {
		st = ntlm_initiator_negotiate(&o->cfg, &s->negotiate, &s->negotiate_len);
		return st == NTLM_OK ? TOOL_OK
		                     : tool_status_error("client", "cannot build the NEGOTIATE", st);
	}
	rc = input_load_ntlm("client", "--negotiate", o->negotiate, &s->negotiate_in);
	if (rc != TOOL_OK)
		return rc;
	s->negotiate_len = s->negotiate_in.token.inner.len;
	s->negotiate = xmalloc(s->negotiate_len);
	memcpy(s->negotiate, s->negotiate_in.token.inner.data, s->negotiate_len);
	return TOOL_OK;
}

int cmd_client(int argc, char **argv)
{
	struct client_opts o = {0};
	struct client_state s = {0};
	enum ntlm_status st;
	int rc = parse_client(argc, argv, &o);

	if (rc != TOOL_OK)
		return rc < 0 ? TOOL_OK : rc;
	if ((rc = load_secrets(&o, &s)) != TOOL_OK || (rc = make_negotiate(&o, &s)) != TOOL_OK)
		goto out;
	if (o.challenge != NULL) {
		rc = input_load_ntlm("client", "--challenge", o.challenge, &s.challenge);
		if (rc != TOOL_OK)
			goto out;
		st = ntlm_initiator_authenticate(&o.cfg, s.negotiate, s.negotiate_len,
		                                 s.challenge.token.inner.data, s.challenge.token.inner.len,
		                                 &s.authenticate, &s.authenticate_len, &s.session_key);
		if (st != NTLM_OK) {
			rc = tool_status_error("client", "cannot answer the CHALLENGE", st);
			goto out;
		}
	}
	if (o.json)
		rc = print_json(&s);
	else if (s.authenticate != NULL)
		rc = print_message(&o, s.authenticate, s.authenticate_len);
	else
		rc = print_message(&o, s.negotiate, s.negotiate_len);
out:
	client_state_clear(&s);
	return rc;
}
