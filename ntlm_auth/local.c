/*
 * local.c: the server helpers' test mode of Samba's ntlm_auth. With
 * --password, squid-2.5-ntlmssp, gss-spnego and ntlm-server-1 check the
 * client's responses against that one password, for whatever user the
 * client names, without the daemon (Samba's local_pw_check() and
 * ntlm-server-1's opt_password branch: NTLMv1 and LM allowed, the user name
 * reported as the client spelled it, DOMAIN<sep>user).
 *
 * It answers the helper's questions as ntlmd would (na_call_fn), so the
 * line protocols run unchanged. CHECK_PASSWORD (ntlm-server-1's Password:
 * line) is not answered here: Samba sends it to winbindd whatever
 * --password says, and this helper sends it to ntlmd.
 *
 * The password comes from the caller's command line; its NT hash lives in
 * this process only while a response is checked, and is wiped after.
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local.h"
#include "protocol.h"

/* ntlm_lookup_fn: every user has the one password (Samba's test mode). */
static enum ntlm_status local_lookup(void *ctx, const char *user, const char *domain,
                                     struct ntlm_credentials *ret)
{
	const struct na_local *l = ctx;
	enum ntlm_status st;

	(void)user;
	(void)domain;
	*ret = (struct ntlm_credentials){0};
	st = ntlm_ntowfv1(l->password, &ret->nt_hash);
	if (st == NTLM_OK)
		ret->has_lm_hash = ntlm_lmowfv1(l->password, &ret->lm_hash) == NTLM_OK;
	return st;
}

/* Samba's NTLM_AUTH_ON with lanman auth: every response type. */
static void local_policy(struct ntlm_policy *p)
{
	ntlm_policy_init(p);
	p->allow_lm = true;
	p->allow_ntlmv1 = true;
	p->allow_ntlmv1_ess = true;
	p->allow_lmv2 = true;
}

/* The names of the CHALLENGE: the host's short name, upper case, as a
 * standalone server's NetBIOS name and domain. */
static void local_names(struct na_local *l)
{
	char host[256] = "";
	size_t i;

	if (l->nb_name[0] != '\0')
		return;
	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	for (i = 0; host[i] != '\0' && host[i] != '.' && i < NA_LOCAL_NAME_MAX; i++)
		l->nb_name[i] = (char)toupper((unsigned char)host[i]);
	l->nb_name[i] = '\0';
}

/* DOMAIN<sep>user as the client sent them (Samba: "%s%c%s"). */
static void put_user(const struct na_local *l, struct ntlm_writer *w, const char *user, const char *domain)
{
	size_t n = strlen(user) + strlen(domain != NULL ? domain : "") + 2;
	char *name = malloc(n);

	if (name == NULL)
		return;
	snprintf(name, n, "%s%c%s", domain != NULL ? domain : "", l->separator, user);
	ntlmd_put_string(w, NTLMD_TAG_AUTH_USER, name);
	ntlmd_put_string(w, NTLMD_TAG_ACCOUNT_NAME, user);
	free(name);
}

static enum ntlm_status local_challenge(struct na_local *l, const struct ntlmd_frame *req,
                                        struct ntlm_writer *w)
{
	const uint8_t *neg = NULL;
	size_t neg_len = 0;
	uint8_t *chal = NULL;
	size_t chal_len = 0;
	struct ntlm_server_names names = {0};
	enum ntlm_status st;

	local_names(l);
	names.nb_computer = l->nb_name;
	names.nb_domain = l->nb_name;
	if (ntlmd_frame_has(req, NTLMD_TAG_NEGOTIATE) &&
	    (st = ntlmd_frame_get_bytes(req, NTLMD_TAG_NEGOTIATE, &neg, &neg_len)) != NTLM_OK)
		return st;
	st = ntlm_acceptor_challenge(&names, neg, neg_len, ntlm_filetime_now(), &chal, &chal_len);
	if (st == NTLM_OK)
		ntlmd_put_bytes(w, NTLMD_TAG_CHALLENGE, chal, chal_len);
	free(chal);
	return st;
}

/* The outcome of a check, as ntlmd's reply carries it. */
static void put_result(const struct na_local *l, const struct ntlm_accept_result *r, struct ntlm_writer *w)
{
	ntlmd_put_u32(w, NTLMD_TAG_FLAGS, r->flags);
	if (r->status != NTLM_OK)
		return;
	put_user(l, w, r->user != NULL ? r->user : "", r->domain);
	if (r->has_session_key)
		ntlmd_put_bytes(w, NTLMD_TAG_SESSION_KEY, r->session_key.bytes, sizeof(r->session_key.bytes));
}

static enum ntlm_status local_verify(struct na_local *l, const struct ntlmd_frame *req, struct ntlm_writer *w)
{
	const uint8_t *neg = NULL, *chal = NULL, *auth = NULL;
	size_t neg_len = 0, chal_len = 0, auth_len = 0;
	struct ntlm_accept_result r = {0};
	struct ntlm_policy policy;
	enum ntlm_status st;

	if (ntlmd_frame_has(req, NTLMD_TAG_NEGOTIATE) &&
	    (st = ntlmd_frame_get_bytes(req, NTLMD_TAG_NEGOTIATE, &neg, &neg_len)) != NTLM_OK)
		return st;
	if ((st = ntlmd_frame_get_bytes(req, NTLMD_TAG_CHALLENGE, &chal, &chal_len)) != NTLM_OK ||
	    (st = ntlmd_frame_get_bytes(req, NTLMD_TAG_AUTHENTICATE, &auth, &auth_len)) != NTLM_OK)
		return st;
	local_policy(&policy);
	st = ntlm_acceptor_verify(&policy, neg, neg_len, chal, chal_len, auth, auth_len, NULL, local_lookup,
	                          l, ntlm_filetime_now(), &r);
	put_result(l, &r, w);
	ntlm_accept_result_clear(&r);
	return st;
}

static enum ntlm_status local_verify_response(struct na_local *l, const struct ntlmd_frame *req,
                                              struct ntlm_writer *w)
{
	const uint8_t *chal = NULL, *lm = NULL, *nt = NULL;
	size_t chal_len = 0, lm_len = 0, nt_len = 0;
	const char *user = ntlmd_frame_string(req, NTLMD_TAG_USER);
	const char *domain = ntlmd_frame_string(req, NTLMD_TAG_DOMAIN);
	struct ntlm_accept_result r = {0};
	struct ntlm_policy policy;
	enum ntlm_status st;

	if ((st = ntlmd_frame_get_bytes(req, NTLMD_TAG_SERVER_CHALLENGE, &chal, &chal_len)) != NTLM_OK)
		return st;
	if (chal_len != NTLM_CHALLENGE_LEN || user == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (ntlmd_frame_has(req, NTLMD_TAG_LM_RESPONSE) &&
	    (st = ntlmd_frame_get_bytes(req, NTLMD_TAG_LM_RESPONSE, &lm, &lm_len)) != NTLM_OK)
		return st;
	if (ntlmd_frame_has(req, NTLMD_TAG_NT_RESPONSE) &&
	    (st = ntlmd_frame_get_bytes(req, NTLMD_TAG_NT_RESPONSE, &nt, &nt_len)) != NTLM_OK)
		return st;
	local_policy(&policy);
	st = ntlm_acceptor_verify_response(&policy, user, domain != NULL ? domain : "", chal, lm, lm_len, nt,
	                                   nt_len, local_lookup, l, ntlm_filetime_now(), &r);
	put_result(l, &r, w);
	ntlm_accept_result_clear(&r);
	return st;
}

enum ntlm_status na_local_call(void *ctx, uint16_t type, const struct ntlm_writer *fields,
                               struct ntlmd_reply *ret)
{
	struct na_local *l = ctx;
	struct ntlmd_frame req = {0};
	struct ntlm_writer w;
	enum ntlm_status st, verdict;

	if (type != NTLMD_REQ_CHALLENGE && type != NTLMD_REQ_VERIFY && type != NTLMD_REQ_VERIFY_RESPONSE)
		return l->fallback(l->fallback_ctx, type, fields, ret);
	if ((st = ntlmd_payload_decode(type, fields->data, fields->len, &req)) != NTLM_OK)
		return st;
	ntlmd_fields_init(&w);
	if (type == NTLMD_REQ_CHALLENGE)
		verdict = local_challenge(l, &req, &w);
	else if (type == NTLMD_REQ_VERIFY)
		verdict = local_verify(l, &req, &w);
	else
		verdict = local_verify_response(l, &req, &w);
	ntlmd_frame_clear(&req);
	return ntlmd_reply_make(type, verdict, &w, ret);
}
