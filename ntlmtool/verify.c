/*
 * verify.c: "ntlmtool verify": a captured NEGOTIATE / CHALLENGE /
 * AUTHENTICATE checked offline by the library's acceptor, with ntlmd's
 * policy (ntlmd_config_init() defaults, --config FILE, -o KEY=VALUE), and
 * the credentials from --nt-hash, --password or an smbpasswd file.
 *
 * The interface is fixed by issue 7 (scripts use it):
 *   ntlmtool verify [--negotiate B64] --challenge B64 --authenticate B64
 *                   (--nt-hash HEX | --password PW | --hashes SMBPASSWD_FILE)
 *                   [--channel-bindings HEX] [--at TIME] [-o KEY=VALUE]...
 *                   [--config FILE] [--json]
 * Exit status: 0 authenticated, 1 rejected, 2 usage or input error.
 */
#include <config.h>

#include "ntlmtool.h"

#include "backend.h"
#include "ntlmd_conf.h"
#include "registry.h"
#include "smbpasswd.h"

#include <stdlib.h>
#include <string.h>

static const char verify_usage[] =
    "usage: ntlmtool %s [--negotiate B64] --challenge B64 --authenticate B64\n"
    "           (--nt-hash HEX | --password PW | --hashes SMBPASSWD_FILE)\n"
    "           [--channel-bindings HEX] [--at TIME] [-o KEY=VALUE]... [--config FILE] [--json]\n"
    "\n"
    "%s\n"
    "\n"
    "  --negotiate, --challenge, --authenticate B64\n"
    "                  the messages of one exchange: base64, hex, a header line, @FILE or '-'\n"
    "                  (standard input, for one of them); SPNEGO tokens are unwrapped. The\n"
    "                  NEGOTIATE is needed to check a MIC.\n"
    "  --nt-hash HEX   the user's NT hash (32 hex digits)\n"
    "  --password PW   the user's password ('-': one line from standard input)\n"
    "  --hashes FILE   an smbpasswd-format file (account flags apply)\n"
    "  --channel-bindings HEX\n"
    "                  the application data of the channel's gss_channel_bindings_struct,\n"
    "                  e.g. hex of \"tls-server-end-point:\" + certificate hash\n"
    "  --at TIME       verify as of TIME (FILETIME integer or ISO-8601 UTC); default now\n"
    "  -o KEY=VALUE    an ntlmd.conf policy key (ntlm_auth, lanman_auth, lmv2, anonymous,\n"
    "                  require_mic, channel_bindings, target_names, allow_unverified_spn,\n"
    "                  max_clock_skew, required_flags, accepted_domains, ...)\n"
    "  --config FILE   read the policy from an ntlmd.conf file (-o applies on top)\n"
    "  --json          one JSON object\n"
    "\n"
    "Exit status: 0 authenticated, 1 rejected, 2 usage or input error.\n";

enum cred_kind { CRED_NONE, CRED_NT_HASH, CRED_PASSWORD, CRED_HASHES };

struct verify_job {
	const char *cmd;
	bool json;
	struct tool_input msgs[3]; /* NEGOTIATE, CHALLENGE, AUTHENTICATE */
	bool has_msg[3];
	enum cred_kind cred;
	struct ntlm_hash nt, lm;
	bool has_lm;
	struct smbpasswd_db *db;
	uint8_t *cb_data;
	size_t cb_len;
	struct ntlm_channel_bindings cb;
	bool has_cb;
	uint64_t now;
	struct ntlmd_config cfg;
	bool has_config; /* --config: ntlmd's own file, with its default accepted_domains */
	struct ntlm_policy policy;
	bool domain_refused;
	char workstation[256]; /* the AUTHENTICATE's, for the account policy */
	const char *malformed; /* "the CHALLENGE" when a message did not decode */
	char cred_source[300];
	struct verify_outcome out;
};

enum { MSG_NEGOTIATE, MSG_CHALLENGE, MSG_AUTHENTICATE };
static const char *const msg_option[] = {"--negotiate", "--challenge", "--authenticate"};
static const char *const msg_name[] = {"the NEGOTIATE", "the CHALLENGE", "the AUTHENTICATE"};

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

static int set_cred(struct verify_job *j, enum cred_kind kind)
{
	if (j->cred != CRED_NONE)
		return tool_usage_error(j->cmd, "give only one of --nt-hash, --password and --hashes");
	j->cred = kind;
	return TOOL_OK;
}

static int load_password(struct verify_job *j, const char *arg)
{
	char *pw = NULL;
	enum ntlm_status st;
	int rc = read_password(j->cmd, arg, "Password: ", false, &pw);

	if (rc != TOOL_OK)
		return rc;
	st = ntlm_ntowfv1(pw, &j->nt);
	j->has_lm = st == NTLM_OK && ntlm_lmowfv1(pw, &j->lm) == NTLM_OK;
	free_password(pw);
	if (st != NTLM_OK)
		return tool_status_error(j->cmd, "--password", st);
	snprintf(j->cred_source, sizeof(j->cred_source), "the password given with --password");
	return TOOL_OK;
}

static int load_hashes(struct verify_job *j, const char *path)
{
	size_t bad_line = 0;
	const char *reason = NULL;
	enum ntlm_status st = smbpasswd_db_load(path, &j->db, &bad_line, &reason);

	if (st == NTLM_ERR_BAD_ENCODING)
		return tool_error(j->cmd, "%s:%zu: %s", path, bad_line, reason ? reason : "malformed line");
	if (st != NTLM_OK)
		return tool_status_error(j->cmd, path, st);
	snprintf(j->cred_source, sizeof(j->cred_source), "%s", path);
	return TOOL_OK;
}

/* The policy: ntlmd's defaults or --config, then every -o on top. */
static int load_policy(struct verify_job *j, const struct policy_opts *p)
{
	struct ntlmd_config_error errs[8];
	size_t n = 0;
	enum ntlm_status st;

	j->has_config = p->config_path != NULL;
	if (p->config_path != NULL) {
		st = ntlmd_stores_config_load(p->config_path, &j->cfg, errs, ARRAY_LEN(errs), &n);
		for (size_t i = 0; i < n && i < ARRAY_LEN(errs); i++)
			tool_error(j->cmd, "%s:%u: %s", p->config_path, errs[i].line, errs[i].reason);
		if (st != NTLM_OK)
			return n > 0 ? TOOL_USAGE : tool_status_error(j->cmd, p->config_path, st);
	} else if ((st = ntlmd_config_init(&j->cfg)) != NTLM_OK) {
		return tool_status_error(j->cmd, "cannot set up the default policy", st);
	}
	for (size_t i = 0; i < p->n_overrides; i++) {
		const char *kv = p->overrides[i], *eq = strchr(kv, '=');
		struct ntlmd_config_error err = {0};
		char *key;

		if (eq == NULL || eq == kv)
			return tool_usage_error(j->cmd, "-o %s: expected KEY=VALUE", kv);
		key = xasprintf("%.*s", (int)(eq - kv), kv);
		st = ntlmd_config_set_policy(&j->cfg, key, eq + 1, &err);
		free(key);
		if (st != NTLM_OK)
			return tool_usage_error(j->cmd, "-o %s: %s", kv,
			                        err.reason[0] ? err.reason : "invalid");
	}
	ntlmd_policy_to_ntlm(&j->cfg.policy, false, &j->policy);
	return TOOL_OK;
}

static int load_message(struct verify_job *j, int which, const char *arg)
{
	if (j->has_msg[which])
		return tool_usage_error(j->cmd, "%s given twice", msg_option[which]);
	j->has_msg[which] = true;
	return input_load_ntlm(j->cmd, msg_option[which], arg, &j->msgs[which]);
}

/* The options verify_option() sees. */
struct parse_ctx {
	struct verify_job *j;
	struct policy_opts *p;
};

static int verify_option(int c, const char *arg, void *ctx)
{
	struct verify_job *j = ((struct parse_ctx *)ctx)->j;
	int rc = TOOL_OK;

	switch (c) {
	case 'N':
		return load_message(j, MSG_NEGOTIATE, arg);
	case 'C':
		return load_message(j, MSG_CHALLENGE, arg);
	case 'A':
		return load_message(j, MSG_AUTHENTICATE, arg);
	case 'n':
		snprintf(j->cred_source, sizeof(j->cred_source), "the NT hash given with --nt-hash");
		if ((rc = set_cred(j, CRED_NT_HASH)) == TOOL_OK &&
		    !parse_hex_exact(arg, j->nt.bytes, sizeof(j->nt.bytes)))
			rc = tool_usage_error(j->cmd, "--nt-hash: expected 32 hex digits");
		return rc;
	case 'p':
		return (rc = set_cred(j, CRED_PASSWORD)) == TOOL_OK ? load_password(j, arg) : rc;
	case 'H':
		return (rc = set_cred(j, CRED_HASHES)) == TOOL_OK ? load_hashes(j, arg) : rc;
	case 'b':
		if (j->has_cb)
			return tool_usage_error(j->cmd, "--channel-bindings given twice");
		if (!parse_hex_alloc(arg, &j->cb_data, &j->cb_len))
			return tool_usage_error(j->cmd, "--channel-bindings: expected hex");
		j->has_cb = true;
		return TOOL_OK;
	case 't':
		if (!parse_time(arg, &j->now))
			return tool_usage_error(j->cmd,
			                        "--at: '%s' is neither a FILETIME nor an ISO-8601 time", arg);
		return TOOL_OK;
	case 'o':
		policy_opts_add(((struct parse_ctx *)ctx)->p, arg);
		return TOOL_OK;
	default: /* 'h' */
		printf(verify_usage, j->cmd,
		       strcmp(j->cmd, "verify") == 0
		           ? "Verifies a captured NTLM exchange offline and says why it passes or fails."
		           : "Verifies a captured NTLM exchange offline, then explains the outcome in plain\n"
		             "language: the likely cause, and the ntlmd.conf setting to change.");
		return -1;
	}
}

static int parse_verify(struct verify_job *j, int argc, char **argv, struct policy_opts *p)
{
	static const struct option opts[] = {OPTION_NEGOTIATE,
	                                     OPTION_CHALLENGE,
	                                     OPTION_ARG("authenticate", 'A'),
	                                     OPTION_NT_HASH,
	                                     OPTION_PASSWORD,
	                                     OPTION_ARG("hashes", 'H'),
	                                     OPTION_ARG("channel-bindings", 'b'),
	                                     OPTION_ARG("at", 't'),
	                                     OPTION_ARG("config", 'c'),
	                                     OPTION_JSON,
	                                     OPTION_HELP,
	                                     OPTION_END};
	const struct opt_store store[] = {
	    {'c', &p->config_path, NULL}, {'j', NULL, &j->json}, {0, NULL, NULL}};
	struct parse_ctx ctx = {j, p};
	int rc = parse_options(j->cmd, argc, argv, ":o:h", opts, store, NULL, verify_option, &ctx);

	if (rc == TOOL_OK && optind < argc)
		rc = tool_usage_error(j->cmd, "unexpected argument '%s'", argv[optind]);
	return rc;
}

int verify_parse(const char *cmd, int argc, char **argv, struct verify_job **ret)
{
	struct verify_job *j = xmalloc(sizeof(*j));
	struct policy_opts p = {0};
	int rc;

	j->cmd = cmd;
	j->now = ntlm_filetime_now();
	rc = parse_verify(j, argc, argv, &p);
	if (rc == TOOL_OK && (!j->has_msg[MSG_CHALLENGE] || !j->has_msg[MSG_AUTHENTICATE]))
		rc = tool_usage_error(cmd, "--challenge and --authenticate are required");
	if (rc == TOOL_OK && j->cred == CRED_NONE)
		rc = tool_usage_error(cmd, "give the credentials: --nt-hash, --password or --hashes");
	if (rc == TOOL_OK)
		rc = load_policy(j, &p);
	if (rc == TOOL_OK && j->policy.channel_bindings == NTLM_CB_REQUIRED && !j->has_cb)
		rc = tool_usage_error(cmd, "channel_bindings = required: give the channel's bindings with "
		                           "--channel-bindings HEX");
	policy_opts_clear(&p);
	if (rc != TOOL_OK) {
		verify_job_free(j);
		return rc < 0 ? TOOL_OK : rc;
	}
	j->cb.application_data = (struct ntlm_view){j->cb_data, j->cb_len};
	*ret = j;
	return TOOL_OK;
}

/* ------------------------------------------------------------------ */
/* Running                                                             */
/* ------------------------------------------------------------------ */

/* ntlm_lookup_fn: the smbpasswd file, or the one hash given; a domain not
 * in accepted_domains is an unknown user, as ntlmd answers. Unset, that
 * list is ntlmd's default (the server's own domains) only with --config:
 * a captured message checked against its hash alone may name any domain. */
static enum ntlm_status job_lookup(void *ctx, const char *user, const char *domain,
                                   struct ntlm_credentials *ret)
{
	struct verify_job *j = ctx;

	if (user[0] != '\0' && !(j->has_config ? ntlmd_config_accepts_domain(&j->cfg, &j->cfg.policy, domain)
	                                       : ntlmd_policy_accepts_domain(&j->cfg.policy, domain))) {
		j->domain_refused = true;
		return NTLM_STATUS_NO_SUCH_USER;
	}
	if (j->db != NULL) {
		/* ntlmd's account policy, as ntlmd applies it to a files account */
		struct ntlmd_db_lookup l = {
		    .db = j->db,
		    .logon = {.workstation = j->workstation,
		              .interactive = true,
		              .allow_null_password = false,
		              .now = ntlm_filetime_to_unix(j->now)},
		};
		return ntlmd_db_lookup(&l, user, domain, ret);
	}
	ret->nt_hash = j->nt;
	ret->has_lm_hash = j->has_lm;
	ret->lm_hash = j->lm;
	ret->account_status = NTLM_OK;
	return NTLM_OK;
}

/* The options the acceptor decodes the AUTHENTICATE with: the CHALLENGE's
 * encoding (when there is a readable one) and the policy's oem_charset. */
static struct ntlm_decode_options auth_options(const struct verify_job *j)
{
	const struct ntlm_view *cv = &j->msgs[MSG_CHALLENGE].token.inner;
	struct ntlm_decode_options o = {.oem_charset = j->policy.oem_charset};
	uint8_t server_challenge[NTLM_CHALLENGE_LEN];

	o.has_challenge_flags =
	    j->has_msg[MSG_CHALLENGE] &&
	    ntlm_challenge_peek(cv->data, cv->len, &o.challenge_flags, server_challenge) == NTLM_OK;
	return o;
}

/* Each message decodes as its type, so that a bad one is named. */
static enum ntlm_status check_messages(struct verify_job *j)
{
	const struct ntlm_decode_options opt = auth_options(j);

	for (int i = MSG_NEGOTIATE; i <= MSG_AUTHENTICATE; i++) {
		const struct ntlm_view *v = &j->msgs[i].token.inner;
		union {
			struct ntlm_negotiate n;
			struct ntlm_challenge c;
			struct ntlm_authenticate a;
		} m;
		enum ntlm_status st;

		if (!j->has_msg[i])
			continue;
		memset(&m, 0, sizeof(m));
		if (i == MSG_NEGOTIATE) {
			st = ntlm_negotiate_decode(v->data, v->len, &m.n);
			ntlm_negotiate_clear(&m.n);
		} else if (i == MSG_CHALLENGE) {
			st = ntlm_challenge_decode(v->data, v->len, &m.c);
			ntlm_challenge_clear(&m.c);
		} else {
			st = ntlm_authenticate_decode_ex(v->data, v->len, &opt, &m.a);
			ntlm_authenticate_clear(&m.a);
		}
		if (st != NTLM_OK) {
			j->malformed = msg_name[i];
			return st;
		}
	}
	return NTLM_OK;
}

/* What the messages say in clear, for the explanations. */
static void gather_facts(struct verify_job *j)
{
	static const uint8_t zeros[16];
	const struct ntlm_view *cv = &j->msgs[MSG_CHALLENGE].token.inner;
	const struct ntlm_view *av = &j->msgs[MSG_AUTHENTICATE].token.inner;
	struct verify_outcome *o = &j->out;
	struct ntlm_challenge chal = {0};
	struct ntlm_authenticate auth = {0};
	struct ntlm_av_list list;
	struct ntlm_v2_blob blob;
	const struct ntlm_av_pair *cb;
	const struct ntlm_decode_options opt = auth_options(j);
	uint32_t av_flags = 0;

	if (ntlm_challenge_decode(cv->data, cv->len, &chal) == NTLM_OK &&
	    ntlm_av_list_decode(chal.target_info.data, chal.target_info.len, &list) == NTLM_OK)
		o->has_challenge_time = ntlm_av_list_get_u64(&list, NTLM_AV_TIMESTAMP, &o->challenge_time);
	ntlm_challenge_clear(&chal);
	if (ntlm_authenticate_decode_ex(av->data, av->len, &opt, &auth) != NTLM_OK)
		return;
	snprintf(j->workstation, sizeof(j->workstation), "%s",
	         auth.workstation != NULL ? auth.workstation : "");
	o->mic_field_nonzero = auth.mic_offset != 0 && !ntlm_equal_ct(auth.mic, zeros, NTLM_MIC_LEN);
	if (auth.nt_response.len > 24 &&
	    ntlm_v2_blob_decode(auth.nt_response.data + 16, auth.nt_response.len - 16, &blob) == NTLM_OK &&
	    ntlm_av_list_decode(blob.av_pairs.data, blob.av_pairs.len, &list) == NTLM_OK) {
		(void)ntlm_av_list_get_u32(&list, NTLM_AV_FLAGS, &av_flags);
		o->mic_announced = (av_flags & NTLM_AVFLAG_MIC_PRESENT) != 0;
		cb = ntlm_av_list_find(&list, NTLM_AV_CHANNEL_BINDINGS);
		o->cb_sent = cb != NULL && !ntlm_equal_ct(cb->value.data, zeros, 16);
	}
	ntlm_authenticate_clear(&auth);
}

const struct verify_outcome *verify_run(struct verify_job *j)
{
	struct verify_outcome *o = &j->out;
	const struct ntlm_view *neg = &j->msgs[MSG_NEGOTIATE].token.inner;
	const struct ntlm_view *chal = &j->msgs[MSG_CHALLENGE].token.inner;
	const struct ntlm_view *auth = &j->msgs[MSG_AUTHENTICATE].token.inner;
	enum ntlm_status st;

	o->policy = &j->policy;
	o->target_names = j->policy.target_names;
	o->now = j->now;
	o->has_negotiate = j->has_msg[MSG_NEGOTIATE];
	o->has_cb = j->has_cb;
	o->ntlm_auth_v1_permitted = j->cfg.policy.ntlm_auth == NTLMD_NTLMV1_PERMITTED;
	o->ntlm_auth_disabled = j->cfg.policy.ntlm_auth == NTLMD_NTLM_DISABLED;
	o->lanman_auth = j->cfg.policy.lanman_auth;
	o->lmv2 = j->cfg.policy.lmv2;
	o->cred_source = j->cred_source;
	st = check_messages(j);
	if (st != NTLM_OK) {
		memset(&o->result, 0, sizeof(o->result));
		o->result.status = st;
		o->malformed = j->malformed;
		tool_error(j->cmd, "%s is malformed: %s (%s)", j->malformed, ntlm_status_message(st),
		           ntlm_status_name(st));
		return o;
	}
	gather_facts(j);
	(void)ntlm_acceptor_verify(&j->policy, j->has_msg[MSG_NEGOTIATE] ? neg->data : NULL, neg->len,
	                           chal->data, chal->len, auth->data, auth->len, j->has_cb ? &j->cb : NULL,
	                           job_lookup, j, j->now, &o->result);
	o->domain_refused = j->domain_refused;
	return o;
}

bool verify_json(const struct verify_job *j)
{
	return j->json;
}

void verify_job_free(struct verify_job *j)
{
	if (j == NULL)
		return;
	for (int i = 0; i < 3; i++)
		input_clear(&j->msgs[i]);
	smbpasswd_db_free(j->db);
	free(j->cb_data);
	ntlmd_config_clear(&j->cfg);
	ntlm_accept_result_clear(&j->out.result);
	ntlm_wipe(j, sizeof(*j));
	free(j);
}

int verify_exit_status(enum ntlm_status st)
{
	if (st == NTLM_OK)
		return TOOL_OK;
	if (st == NTLM_STATUS_NO_SUCH_GROUP)
		return TOOL_REJECTED;
	if (ntlm_status_is_malformed(st) || st >= NTLM_ERR_INVALID_ARGUMENT)
		return TOOL_USAGE;
	return TOOL_REJECTED;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

static void optional_str(struct doc *root, const char *key, const char *label, const char *v)
{
	if (v != NULL)
		doc_str(root, key, label, "%s", v);
	else
		doc_null(root, key, label);
}

void verify_document(struct doc *root, const struct verify_outcome *o)
{
	const struct ntlm_accept_result *r = &o->result;
	char reason[512], advice[512], when[64];

	explain(o, reason, sizeof(reason), advice, sizeof(advice));
	doc_str(root, "result", NULL, "%s", r->status == NTLM_OK ? "ok" : "fail");
	doc_only(doc_str(root, NULL, "status", "%s (0x%08X)", ntlm_status_name(r->status),
	                 (unsigned)ntlm_status_code(r->status)),
	         DOC_TEXT_ONLY);
	doc_only(doc_str(root, "status", NULL, "%s", ntlm_status_name(r->status)), DOC_JSON_ONLY);
	doc_only(doc_str(root, "ntstatus", NULL, "0x%08X", (unsigned)ntlm_status_code(r->status)),
	         DOC_JSON_ONLY);
	optional_str(root, "user", NULL, r->user);
	optional_str(root, "domain", NULL, r->domain);
	optional_str(root, "workstation", NULL, r->workstation);
	doc_str(root, "response_type", "response type", "%s", ntlm_response_type_name(r->response_type));
	doc_str(root, "flags", NULL, "0x%08x", (unsigned)r->flags);
	doc_str(root, "mic", "MIC", "%s", ntlm_verdict_name(r->mic));
	doc_str(root, "channel_bindings", "channel bindings", "%s", ntlm_verdict_name(r->channel_bindings));
	doc_str(root, "target_name", "target name", "%s", ntlm_verdict_name(r->target_name));
	optional_str(root, "client_target_name", "client SPN", r->client_target_name);
	doc_bool(root, "unverified_spn", "unverified SPN", r->unverified_spn);
	if (r->has_client_timestamp) {
		format_filetime(r->client_timestamp, when, sizeof(when));
		doc_str(root, "client_timestamp", "client timestamp", "%s", when);
		doc_num(root, "clock_skew", "clock skew (s)", r->clock_skew);
	} else {
		doc_null(root, "client_timestamp", NULL);
		doc_null(root, "clock_skew", NULL);
	}
	doc_bool(root, "used_nil_domain", "NIL-domain retry", r->used_nil_domain);
	if (r->status == NTLM_OK && r->has_session_key)
		doc_hex(root, "session_key", "session key", r->session_key.bytes,
		        sizeof(r->session_key.bytes));
	doc_str(root, "reason", NULL, "%s", reason);
	doc_only(doc_str(root, "advice", NULL, "%s", advice), DOC_JSON_ONLY);
}

int cmd_verify(int argc, char **argv)
{
	struct verify_job *j = NULL;
	const struct verify_outcome *o;
	struct doc *root;
	int rc = verify_parse("verify", argc, argv, &j);

	if (rc != TOOL_OK || j == NULL)
		return rc;
	o = verify_run(j);
	root = doc_new();
	verify_document(root, o);
	doc_print(stdout, root, verify_json(j));
	doc_free(root);
	rc = verify_exit_status(o->result.status);
	verify_job_free(j);
	return rc;
}
