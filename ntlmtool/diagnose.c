/*
 * diagnose.c: "ntlmtool diagnose": verify, then the outcome in plain
 * language: the likely cause and the ntlmd.conf setting (or the client
 * setting) to change. explain() also gives verify its one-sentence reason.
 *
 * The causes follow docs/acceptor.md and the support articles on channel
 * binding tokens and LMv2 (KB976918), clock skew, and Negotiate's fallback
 * from Kerberos to NTLM.
 */
#include <config.h>

#include "ntlmtool.h"

#include <string.h>

/* "DOMAIN\user", "user" or "the anonymous user", for sentences. */
static void who(const struct ntlm_accept_result *r, char *out, size_t n)
{
	if (r->user == NULL || r->user[0] == '\0')
		snprintf(out, n, "the anonymous user");
	else if (r->domain != NULL && r->domain[0] != '\0')
		snprintf(out, n, "%s\\%s", r->domain, r->user);
	else
		snprintf(out, n, "%s", r->user);
}

/* The policy's target_names as "a, b". */
static void spn_list(const char *const *names, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (; names != NULL && *names != NULL && used < n; names++) {
		int w = snprintf(out + used, n - used, "%s%s", used ? ", " : "", *names);

		used += w > 0 ? (size_t)w : 0;
	}
}

struct text {
	char *reason, *advice;
	size_t reason_len, advice_len;
};

static void say(struct text *t, const char *reason_fmt, ...) __attribute__((format(printf, 2, 3)));
static void advise(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->reason, t->reason_len, fmt, ap);
	va_end(ap);
}

static void advise(struct text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->advice, t->advice_len, fmt, ap);
	va_end(ap);
}

/* What a successful verification may still deserve a word about. */
static void explain_success(const struct verify_outcome *o, struct text *t, const char *name)
{
	const struct ntlm_accept_result *r = &o->result;

	say(t, "the %s response of %s is valid%s", ntlm_response_type_name(r->response_type), name,
	    r->used_nil_domain ? " (it was computed with an empty domain: the NIL-domain retry matched)"
	                       : "");
	if (r->channel_bindings == NTLM_VERDICT_UNCHECKED && o->policy->channel_bindings == NTLM_CB_OFF)
		advise(t,
		       "the client bound the TLS channel but this service has channel_bindings=off: turn it "
		       "to when-supported");
	else if (r->channel_bindings == NTLM_VERDICT_UNCHECKED)
		advise(t, "the client sent channel bindings but none were given with --channel-bindings, so "
		          "they were not checked");
	else if (r->response_type == NTLM_RESPONSE_NTLMV1 || r->response_type == NTLM_RESPONSE_NTLMV1_ESS ||
	         r->response_type == NTLM_RESPONSE_LM || r->response_type == NTLM_RESPONSE_LMV2)
		advise(t,
		       "%s responses can be cracked offline from a capture: move the client to NTLMv2 "
		       "(LmCompatibilityLevel 3 or higher) and set ntlm_auth = ntlmv2-only",
		       ntlm_response_type_name(r->response_type));
	else if (r->mic == NTLM_VERDICT_ABSENT && r->response_type == NTLM_RESPONSE_NTLMV2)
		advise(t,
		       "the client sent no MIC, so a relay could alter the negotiated flags unnoticed; "
		       "require_mic = yes refuses such clients (curl, impacket and older Samba send none)");
	else if (r->target_name == NTLM_VERDICT_UNCHECKED)
		advise(t,
		       "the client named its target (%s) but target_names is not set, so any SPN is "
		       "accepted: set target_names to this service's SPNs to stop relayed logons",
		       r->client_target_name ? r->client_target_name : "an SPN");
	else
		advise(t, "nothing to change");
}

static void explain_blocked(const struct verify_outcome *o, struct text *t)
{
	enum ntlm_response_type type = o->result.response_type;

	if (o->ntlm_auth_disabled) {
		say(t, "NTLM is switched off for this service (ntlm_auth = disabled)");
		advise(t, "set ntlm_auth = ntlmv2-only if this service should accept NTLM");
	} else if (type == NTLM_RESPONSE_NTLMV1 || type == NTLM_RESPONSE_NTLMV1_ESS) {
		say(t, "the client answered with %s, which ntlm_auth = %s refuses",
		    ntlm_response_type_name(type),
		    o->ntlm_auth_v1_permitted ? "ntlmv1-permitted" : "ntlmv2-only");
		advise(t,
		       "move the client to NTLMv2 (Windows: LmCompatibilityLevel 3 or higher; Samba: client "
		       "ntlmv2 auth = yes); only if that is impossible set ntlm_auth = ntlmv1-permitted");
	} else if (type == NTLM_RESPONSE_LM || type == NTLM_RESPONSE_LMV2) {
		say(t,
		    "the client sent only an LM-field response (LM or LMv2) and no NT response; lmv2 = %s, "
		    "lanman_auth = %s",
		    o->lmv2 ? "yes" : "no", o->lanman_auth ? "yes" : "no");
		advise(t, "Windows 7 and later send LMv2 only when SuppressExtendedProtection asks them to "
		          "(KB976918): prefer NTLMv2 on the client; lmv2 = yes accepts LMv2, lanman_auth = "
		          "yes with "
		          "ntlm_auth = ntlmv1-permitted accepts LM (both are weak)");
	} else {
		say(t, "the %s response is refused by the policy", ntlm_response_type_name(type));
		advise(t, "check ntlm_auth in ntlmd.conf");
	}
}

static void explain_skew(const struct verify_outcome *o, struct text *t)
{
	const struct ntlm_accept_result *r = &o->result;
	char dur[32];
	unsigned long long max = (unsigned long long)o->policy->max_clock_skew;

	format_duration(r->clock_skew, dur, sizeof(dur));
	if (o->has_challenge_time && o->challenge_time == r->client_timestamp) {
		say(t,
		    "the response carries the CHALLENGE's own timestamp, which is %s %s this server's clock "
		    "(or --at): NTLMv2 responses further than max_clock_skew (%llu s) from the clock are "
		    "refused",
		    dur, r->clock_skew > 0 ? "ahead of" : "behind", max);
		advise(
		    t,
		    "a captured exchange is verified as of when it happened: pass --at with that time; on "
		    "a live server the CHALLENGE came from a server with another clock, or was answered too "
		    "late: synchronise the clocks (NTP) or raise max_clock_skew (0 turns the check off)");
		return;
	}
	say(t,
	    "the client's clock is %s %s this server: NTLMv2 responses older than max_clock_skew are refused",
	    dur, r->clock_skew > 0 ? "ahead of" : "behind");
	advise(
	    t,
	    "fix the client's clock (NTP or the domain's time service); or raise max_clock_skew (now %llu s; "
	    "0 turns the check off). LMv2 is not subject to the skew (KB976918), but lmv2 = yes weakens "
	    "the service",
	    max);
}

static void explain_mic(const struct verify_outcome *o, struct text *t)
{
	const struct ntlm_accept_result *r = &o->result;

	if (o->result.status == NTLM_STATUS_MIC_INVALID) {
		if (!o->has_negotiate) {
			say(t,
			    "the MIC does not match, and no NEGOTIATE was given: the MIC covers NEGOTIATE, "
			    "CHALLENGE and AUTHENTICATE together");
			advise(t, "pass the NEGOTIATE the client sent with --negotiate");
			return;
		}
		say(t,
		    "the MIC does not match: the NEGOTIATE, CHALLENGE or AUTHENTICATE was altered in transit "
		    "(a relay or proxy changing flags), or the three messages are not from one exchange");
		advise(t,
		       "take all three messages from the same connection; if they are, look for a proxy or "
		       "attacker rewriting them");
		return;
	}
	if (r->response_type != NTLM_RESPONSE_NTLMV2) {
		say(t, "%s responses cannot carry a MIC, and this service has require_mic = yes",
		    ntlm_response_type_name(r->response_type));
		advise(t, "move the client to NTLMv2, or set require_mic = no");
	} else if (o->mic_announced) {
		say(t, "the client's MsvAvFlags announce a MIC but the AUTHENTICATE has no room for one: the "
		       "message was altered in transit");
		advise(t, "look for a proxy or relay cutting the AUTHENTICATE");
	} else {
		say(t, "the client sent no MIC%s and this service has require_mic = yes",
		    o->mic_field_nonzero ? " (its MIC field is filled in but MsvAvFlags does not announce it)"
		                         : "");
		advise(
		    t,
		    "clients such as curl, impacket and Samba before 4.18 send no MIC: set require_mic = no "
		    "for this service if it must accept them");
	}
}

static void explain_bindings(const struct verify_outcome *o, struct text *t)
{
	const struct ntlm_accept_result *r = &o->result;

	if (o->result.status == NTLM_STATUS_BAD_BINDINGS) {
		say(t,
		    "the client bound its response to another TLS channel than the one given with "
		    "--channel-bindings: a TLS-intercepting proxy, TLS ended by a load balancer, or another "
		    "certificate");
		advise(
		    t,
		    "compute the bindings from the certificate the client saw (\"tls-server-end-point:\" + "
		    "its hash); if TLS ends in front of this service, set channel_bindings = off");
	} else if (r->response_type != NTLM_RESPONSE_NTLMV2) {
		say(t,
		    "%s responses cannot carry channel bindings, and this service has channel_bindings = "
		    "required",
		    ntlm_response_type_name(r->response_type));
		advise(t, "move the client to NTLMv2, or set channel_bindings = when-supported");
	} else {
		say(t, "this service requires channel bindings (channel_bindings = required) but the client "
		       "sent "
		       "none (or all zeros)");
		advise(t, "the client does not do extended protection, or it did not connect over TLS; "
		          "channel_bindings = when-supported accepts it");
	}
}

static void explain_target(const struct verify_outcome *o, struct text *t)
{
	const struct ntlm_accept_result *r = &o->result;
	char list[256];

	spn_list(o->target_names, list, sizeof(list));
	if (r->response_type != NTLM_RESPONSE_NTLMV2) {
		say(t, "%s responses cannot name their target, and target_names is set (%s)",
		    ntlm_response_type_name(r->response_type), list);
		advise(t, "move the client to NTLMv2, or remove target_names");
	} else if (r->client_target_name == NULL) {
		say(t, "target_names is set (%s) but the client named no target (no MsvAvTargetName)", list);
		advise(t,
		       "the client does not send its SPN; remove target_names for this service to accept it");
	} else if (r->unverified_spn && !o->policy->allow_unverified_spn) {
		say(t,
		    "the client marked its target name %s as unverified (MsvAvFlags UNVERIFIED_SPN) and "
		    "allow_unverified_spn is off",
		    r->client_target_name);
		advise(t, "set allow_unverified_spn = yes only if such clients are expected");
	} else {
		say(t, "the client addressed %s, which is not in target_names (%s)", r->client_target_name,
		    list);
		advise(t,
		       "the client builds the SPN from the name it connected to (an alias or CNAME gives "
		       "another one): add it to target_names if it is this service; otherwise the logon may "
		       "have been relayed from another server");
	}
}

/* Account states: "before NAME after", and the advice. */
static const struct {
	enum ntlm_status status;
	const char *before, *after, *advice;
} account_texts[] = {
    {NTLM_STATUS_ACCOUNT_DISABLED, "the password is right but the account ", " is disabled (flag D)",
     "ntlmtool passwd --file FILE enable USER"},
    {NTLM_STATUS_ACCOUNT_LOCKED_OUT, "the password is right but the account ", " is locked out (flag L)",
     "ntlmtool passwd --file FILE unlock USER"},
    {NTLM_STATUS_ACCOUNT_RESTRICTION, "the account ", " has no NT hash, so it cannot log on with NTLM",
     "set a password for it (ntlmtool passwd --file FILE USER)"},
    {NTLM_STATUS_NOLOGON_TRUST_ACCOUNT, "",
     " is a trust account (flag W, S or I), which may not log on as a user", "use a user account"},
};

/* Outcomes with one fixed explanation. */
static const struct {
	enum ntlm_status status;
	const char *reason, *advice;
} fixed_texts[] = {
    {NTLM_STATUS_ANONYMOUS_REFUSED,
     "the client logged on anonymously (empty user and responses: a null session)",
     "set anonymous = yes only if this service serves anonymous users; otherwise the client has no "
     "credentials to offer"},
    {NTLM_STATUS_AV_PAIRS_ALTERED,
     "the server names in the client's NTLMv2 blob differ from those of the CHALLENGE: the CHALLENGE was "
     "altered on its way to the client (a relay or tampering in transit)",
     "make sure --challenge is the CHALLENGE this client answered; if it is, look for a proxy or attacker "
     "between client and server"},
    {NTLM_STATUS_CHALLENGE_MISMATCH,
     "the response answers a different CHALLENGE: its timestamp is not the one of the CHALLENGE given",
     "give the CHALLENGE of the same connection; on a server this means a crossed or replayed exchange"},
    {NTLM_ERR_BACKEND_UNAVAILABLE, "the account store could not be read",
     "check the hash file's path and permissions"},
};

static void explain_account(const struct verify_outcome *o, struct text *t, const char *name)
{
	switch (o->result.status) {
	case NTLM_STATUS_WRONG_PASSWORD:
		say(t, "the response does not match %s for %s", o->cred_source, name);
		advise(
		    t,
		    "check the password typed on the client (and its keyboard layout); after a password "
		    "change update the hash (ntlmtool passwd); NTLMv2 also binds the user and domain names "
		    "the client sent");
		break;
	case NTLM_STATUS_NO_SUCH_USER:
		if (o->domain_refused) {
			say(t,
			    "the domain '%s' is not in accepted_domains (unset: the server's own "
			    "netbios_domain, dns_domain and netbios_name)",
			    o->result.domain ? o->result.domain : "");
			advise(t, "set netbios_domain to the domain your users type, or add the domain to "
			          "accepted_domains if its users belong here");
		} else {
			say(t, "there is no account %s in %s", o->result.user ? o->result.user : "",
			    o->cred_source);
			advise(t, "add it (ntlmtool passwd --file FILE useradd USER), or check the name the "
			          "client sends (user, DOMAIN\\user, user@domain)");
		}
		break;
	default:
		for (size_t i = 0; i < ARRAY_LEN(account_texts); i++)
			if (account_texts[i].status == o->result.status) {
				say(t, "%s%s%s", account_texts[i].before, name, account_texts[i].after);
				advise(t, "%s", account_texts[i].advice);
				return;
			}
		say(t, "%s: %s", name, ntlm_status_message(o->result.status));
		advise(t, "check the account's state in its store");
		break;
	}
}

void explain(const struct verify_outcome *o, char *reason, size_t reason_len, char *advice, size_t advice_len)
{
	const struct ntlm_accept_result *r = &o->result;
	struct text t = {reason, advice, reason_len, advice_len};
	char name[600], missing[400];

	who(r, name, sizeof(name));
	advice[0] = '\0';
	if (o->malformed != NULL && r->status == NTLM_ERR_CONTROL_CHARACTER) {
		say(&t, "%s is refused: %s (a tab, a line break, NEL or another C0, DEL or C1 character)",
		    o->malformed, ntlm_status_message(r->status));
		advise(&t,
		       "no genuine client types one: such a name would split log lines and helper replies, "
		       "so look at the client that sent it");
		return;
	}
	if (o->malformed != NULL) {
		say(&t, "%s is malformed: %s", o->malformed, ntlm_status_message(r->status));
		advise(&t,
		       "capture the token again: it may have been cut short or pasted from the wrong place");
		return;
	}
	if (ntlm_status_is_malformed(r->status)) {
		say(&t, "a message is malformed: %s", ntlm_status_message(r->status));
		advise(&t, "capture the exchange again");
		return;
	}
	for (size_t i = 0; i < ARRAY_LEN(fixed_texts); i++)
		if (fixed_texts[i].status == r->status) {
			say(&t, "%s", fixed_texts[i].reason);
			advise(&t, "%s", fixed_texts[i].advice);
			return;
		}
	switch (r->status) {
	case NTLM_OK:
		explain_success(o, &t, name);
		break;
	case NTLM_STATUS_NTLM_BLOCKED:
		explain_blocked(o, &t);
		break;
	case NTLM_STATUS_DOWNGRADE_DETECTED:
		flag_list(o->policy->required_flags & ~r->flags, missing, sizeof(missing));
		say(&t, "the exchange lacks negotiate flags that required_flags asks for: %s", missing);
		advise(
		    &t,
		    "an old client, or a man in the middle stripping them: relax required_flags only for a "
		    "client you know");
		break;
	case NTLM_STATUS_TIME_SKEW:
		explain_skew(o, &t);
		break;
	case NTLM_STATUS_MIC_MISSING:
	case NTLM_STATUS_MIC_INVALID:
		explain_mic(o, &t);
		break;
	case NTLM_STATUS_BAD_BINDINGS:
	case NTLM_STATUS_BINDINGS_MISSING:
		explain_bindings(o, &t);
		break;
	case NTLM_STATUS_TARGET_NAME_MISMATCH:
		explain_target(o, &t);
		break;
	default:
		if (r->status >= NTLM_ERR_INVALID_ARGUMENT) {
			say(&t, "the verification could not run: %s", ntlm_status_message(r->status));
			advise(&t, "check the options given");
		} else {
			explain_account(o, &t, name);
		}
		break;
	}
}

int cmd_diagnose(int argc, char **argv)
{
	struct verify_job *j = NULL;
	const struct verify_outcome *o;
	struct doc *root;
	char reason[512], advice[512];
	int rc = verify_parse("diagnose", argc, argv, &j);

	if (rc != TOOL_OK || j == NULL)
		return rc;
	o = verify_run(j);
	explain(o, reason, sizeof(reason), advice, sizeof(advice));
	root = doc_new();
	verify_document(root, o);
	/* verify_document() has the reason, and the advice for JSON */
	doc_only(doc_str(root, NULL, "what to do", "%s", advice), DOC_TEXT_ONLY);
	doc_print(stdout, root, verify_json(j));
	doc_free(root);
	rc = verify_exit_status(o->result.status);
	verify_job_free(j);
	return rc;
}
