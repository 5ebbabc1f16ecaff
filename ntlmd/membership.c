/*
 * membership.c: CHECK_MEMBERSHIP: whether an account belongs to a group
 * (a name or a SID), asked of the stores (handlers.h).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "handlers.h"
#include "sid.h"

/* A GROUP that is a SID, in its canonical text for the stores; a
 * malformed one is STATUS_NTLM_BAD_ENCODING, and the audit says why. */
static enum ntlm_status canonical_group_sid(struct ntlmd_request *req, const char *group, char *out,
                                            size_t size)
{
	struct ntlmd_sid sid;
	const char *why = NULL;
	enum ntlm_status st = ntlmd_sid_parse(group, &sid, &why);
	char detail[NTLMD_AUDIT_TEXT];

	if (st == NTLM_OK && !ntlmd_sid_format(&sid, out, size))
		st = NTLM_ERR_INTERNAL;
	if (st != NTLM_OK) {
		snprintf(detail, sizeof(detail), "GROUP is not a SID: %s",
		         why != NULL ? why : "internal error");
		ntlmd_audit_set(req->event.detail, detail);
	}
	return st;
}

/* CHECK_MEMBERSHIP: whether the account USER (of DOMAIN) belongs to
 * GROUP in a store's group search (ldap: group_base). The account is
 * looked up again (the caller authenticated it first): the group search
 * is asked for its own name and key, so a member given by DN is that
 * account's entry, never another store's namesake. NO_SUCH_GROUP means
 * that no store has the group, NO_SUCH_USER that the account is gone. */
struct membership_state {
	struct request_ctx rc;
	struct lookup_ctx lc;
	const char *group;                 /* the frame's, or sid_text */
	char sid_text[NTLMD_SID_TEXT_MAX]; /* a GROUP that is a SID, canonical */
	bool asked_group;
};

void handler_clear_membership(struct ntlmd_request *req)
{
	struct membership_state *m = req->state;

	if (m == NULL)
		return;
	handler_lookup_ctx_clear(&m->lc);
	free(m);
	req->state = NULL;
}

enum ntlmd_step handler_start_check_membership(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct membership_state *m = calloc(1, sizeof(*m));
	const char *user = NULL, *domain;
	enum ntlm_status st;

	(void)ctx;
	req->state = m;
	if (m == NULL)
		return handler_reply(req, NTLM_ERR_NO_MEMORY);
	handler_request_begin(req, &m->rc);
	st = ntlmd_frame_get_string(&req->frame, NTLMD_TAG_USER, &user);
	if (st == NTLM_OK)
		st = ntlmd_frame_get_string(&req->frame, NTLMD_TAG_GROUP, &m->group);
	if (st != NTLM_OK)
		return handler_reply(req, st);
	domain = ntlmd_frame_string(&req->frame, NTLMD_TAG_DOMAIN);
	ntlmd_audit_set(req->event.user, user);
	ntlmd_audit_set(req->event.domain, domain);
	if (user[0] == '\0' || m->group[0] == '\0')
		return handler_reply(req, NTLM_ERR_INVALID_ARGUMENT);
	/* a SID is checked here, on the loop (no store needed), and asked
	 * of the stores in its canonical text, like a name: in a worker */
	if (ntlmd_sid_looks_like(m->group)) {
		st = canonical_group_sid(req, m->group, m->sid_text, sizeof(m->sid_text));
		if (st != NTLM_OK)
			return handler_reply(req, st);
		m->group = m->sid_text;
	}
	return handler_ask_account(req, user, domain != NULL ? domain : "");
}

enum ntlmd_step handler_resume_check_membership(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct membership_state *m = req->state;
	struct ntlmd_store_call *call;
	enum ntlm_status st;

	(void)ctx;
	if (!m->asked_group) {
		st = handler_account_found(req, &m->lc);
		if (st == NTLM_STATUS_NO_SUCH_USER)
			ntlmd_audit_set(req->event.detail, "no such account");
		if (st != NTLM_OK)
			return handler_reply(req, st);
		call = ntlmd_request_ask(req, NTLMD_CALL_GROUP_MEMBER);
		call->group = m->group;
		call->user = m->lc.name;
		call->key = m->lc.key;
		m->asked_group = true;
		return NTLMD_STEP_WAIT;
	}
	st = req->call.status;
	if (st == NTLM_OK) {
		char detail[NTLMD_AUDIT_TEXT];

		ntlmd_put_u8(&req->reply, NTLMD_TAG_MEMBER, req->call.member ? 1 : 0);
		snprintf(detail, sizeof(detail), "%s a member of group %s (%s)",
		         req->call.member ? "is" : "not", m->group, req->call.backend);
		ntlmd_audit_set(req->event.detail, detail);
	} else if (st == NTLM_STATUS_NO_SUCH_GROUP && req->event.detail[0] == '\0') {
		ntlmd_audit_set(req->event.detail, "no store has that group");
	}
	return handler_reply(req, st);
}
