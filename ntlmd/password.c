/*
 * password.c: the requests naming a user: CHECK_PASSWORD, ACCOUNT_STATUS,
 * CHANGE_PASSWORD and SYNC_PASSWORD, each as start and resume
 * (handlers.h).
 */
#include <config.h>

#include <stdlib.h>

#include "handlers.h"

/* Where a user request is: what the store call it waits for is for. */
enum user_step { USER_FIND, USER_CHECK, USER_SET, USER_ADD };

struct user_request {
	struct request_ctx rc;
	struct lookup_ctx lc;
	const char *user, *domain;
	const char *password, *new_password; /* in the request's frame (wiped with it) */
	enum user_step step;
	uint8_t create;
	uint8_t stored; /* SYNC_PASSWORD */
	/* the account found (USER_FIND, USER_CHECK), kept for what follows:
	 * its NT hash is compared (SYNC_PASSWORD), then it is wiped */
	bool has_nt;
	struct ntlm_hash nt_hash;
};

void handler_clear_user(struct ntlmd_request *req)
{
	struct user_request *u = req->state;

	if (u == NULL)
		return;
	handler_lookup_ctx_clear(&u->lc);
	ntlm_wipe(u, sizeof(*u));
	free(u);
	req->state = NULL;
}

/* USER (required), DOMAIN, WORKSTATION, EXACT_NAME and the
 * accepted_domains check. */
static enum ntlm_status user_request_begin(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                           struct user_request **ret)
{
	const struct ntlmd_frame *f = &req->frame;
	struct user_request *u = calloc(1, sizeof(*u));
	uint8_t exact = 0;
	enum ntlm_status st;

	*ret = u;
	req->state = u;
	if (u == NULL)
		return NTLM_ERR_NO_MEMORY;
	handler_request_begin(req, &u->rc);
	if ((st = ntlmd_frame_get_string(f, NTLMD_TAG_USER, &u->user)) != NTLM_OK)
		return st;
	if (ntlmd_frame_has(f, NTLMD_TAG_EXACT_NAME) &&
	    ((st = ntlmd_frame_get_u8(f, NTLMD_TAG_EXACT_NAME, &exact)) != NTLM_OK || exact > 1))
		return st != NTLM_OK ? st : NTLM_ERR_INVALID_ARGUMENT;
	u->lc.exact = exact == 1;
	u->domain = ntlmd_frame_string(f, NTLMD_TAG_DOMAIN);
	if (u->domain == NULL)
		u->domain = "";
	u->lc.workstation = ntlmd_frame_string(f, NTLMD_TAG_WORKSTATION);
	ntlmd_audit_set(req->event.user, u->user);
	ntlmd_audit_set(req->event.domain, u->domain);
	ntlmd_audit_set(req->event.workstation, u->lc.workstation);
	if (u->user[0] == '\0')
		return NTLM_STATUS_NO_SUCH_USER;
	return handler_domain_check(ctx, req, &u->rc, u->user, u->domain);
}

/* The account's answer kept for the steps after the lookup. */
static enum ntlm_status user_account_found(struct ntlmd_request *req, struct user_request *u)
{
	enum ntlm_status st = handler_account_found(req, &u->lc);

	if (st == NTLM_OK) {
		u->has_nt = req->call.account.has_nt;
		u->nt_hash = req->call.account.nt_hash;
	}
	return st;
}

/* The password check of CHECK_PASSWORD and CHANGE_PASSWORD, once the
 * store answered: the account's lockout (its canonical key),
 * NTOWFv1(password) against the stored hash in constant time, then the
 * account policy (only for the right password), and the counting. */
static enum ntlm_status check_password(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                       struct user_request *u)
{
	struct ntlm_hash h;
	struct ntlmd_logon logon = handler_logon_of(u->lc.workstation);
	enum ntlm_status st = user_account_found(req, u);

	if (st == NTLM_OK && ((st = handler_account_lockout_check(ctx, req, &u->rc, u->lc.key)) != NTLM_OK ||
	                      (st = handler_store_lockout_check(req, &req->call.account)) != NTLM_OK))
		return st;
	if (st == NTLM_OK && !u->has_nt)
		st = NTLM_STATUS_ACCOUNT_RESTRICTION;
	if (st == NTLM_OK && (st = ntlm_ntowfv1(u->password, &h)) == NTLM_OK) {
		if (!ntlm_equal_ct(h.bytes, u->nt_hash.bytes, sizeof(h.bytes)))
			st = NTLM_STATUS_WRONG_PASSWORD;
		else
			st = ntlmd_account_check(&req->call.account, &logon);
	}
	ntlm_wipe(&h, sizeof(h));
	handler_lockout_record(ctx, req, &u->rc, &u->lc, st);
	return st;
}

/* Reply fields naming the account a store found. */
static void put_account(struct ntlm_writer *reply, const struct user_request *u)
{
	if (!u->lc.found)
		return;
	handler_put_canonical(reply, &u->rc, &u->lc);
	ntlmd_put_string(reply, NTLMD_TAG_ACCOUNT_FLAGS, u->lc.flags);
}

/* Looks up the user's account for a password check: the address lockout
 * first, so that a locked address asks no store. */
static enum ntlmd_step ask_for_check(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                     struct user_request *u)
{
	enum ntlm_status st = handler_address_lockout_check(ctx, req, &u->rc);

	if (st != NTLM_OK)
		return handler_reply(req, st);
	u->step = USER_CHECK;
	return handler_ask_account(req, u->user, u->domain);
}

enum ntlmd_step handler_start_check_password(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u;
	enum ntlm_status st = user_request_begin(ctx, req, &u);

	if (st == NTLM_OK)
		st = ntlmd_frame_get_string(&req->frame, NTLMD_TAG_PASSWORD, &u->password);
	if (st != NTLM_OK)
		return handler_reply(req, st);
	return ask_for_check(ctx, req, u);
}

enum ntlmd_step handler_resume_check_password(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u = req->state;
	enum ntlm_status st = check_password(ctx, req, u);

	if (st == NTLM_OK)
		put_account(&req->reply, u);
	return handler_reply(req, st);
}

enum ntlmd_step handler_start_account_status(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u;
	enum ntlm_status st = user_request_begin(ctx, req, &u);

	if (st != NTLM_OK)
		return handler_reply(req, st);
	u->step = USER_FIND;
	return handler_ask_account(req, u->user, u->domain);
}

enum ntlmd_step handler_resume_account_status(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u = req->state;
	struct ntlmd_logon logon = handler_logon_of(u->lc.workstation);
	enum ntlm_status st = user_account_found(req, u);

	if (st == NTLM_OK) {
		put_account(&req->reply, u);
		st = ntlmd_account_check(&req->call.account, &logon);
	}
	if (st == NTLM_OK)
		st = handler_store_lockout_check(req, &req->call.account);
	if (st == NTLM_OK)
		st = handler_account_lockout_check(ctx, req, &u->rc, u->lc.key);
	return handler_reply(req, st);
}

/* CHANGE_PASSWORD's checks of its fields: CREATE only by root without the
 * old password; a non-empty new password; the old one unless root. */
static enum ntlm_status change_request_check(struct ntlmd_request *req, struct user_request *u)
{
	const struct ntlmd_frame *f = &req->frame;
	enum ntlm_status st;

	u->create = 0;
	if (ntlmd_frame_has(f, NTLMD_TAG_CREATE)) {
		if ((st = ntlmd_frame_get_u8(f, NTLMD_TAG_CREATE, &u->create)) != NTLM_OK)
			return st;
		if (u->create > 1 || (u->create == 1 && (req->peer.uid != 0 || u->password != NULL))) {
			ntlmd_audit_set(req->event.detail, "CREATE is for root, without the old password");
			return NTLM_ERR_INVALID_ARGUMENT;
		}
	}
	if (u->new_password == NULL || u->new_password[0] == '\0') {
		ntlmd_audit_set(req->event.detail, "a non-empty new password is required");
		return u->new_password == NULL ? NTLM_ERR_TRUNCATED : NTLM_ERR_INVALID_ARGUMENT;
	}
	if (u->password == NULL && req->peer.uid != 0) {
		ntlmd_audit_set(req->event.detail, "the old password is required");
		return NTLM_ERR_TRUNCATED;
	}
	return NTLM_OK;
}

/* Asks the store that holds the account found to take the new password
 * (under the account's own name, when its key is still the one proven). */
static enum ntlmd_step ask_set_password(struct ntlmd_request *req, struct user_request *u)
{
	struct ntlmd_store_call *call = ntlmd_request_ask(req, NTLMD_CALL_SET_PASSWORD);
	enum ntlm_status st = ntlm_ntowfv1(u->new_password, &call->nt_hash);

	if (st != NTLM_OK)
		return handler_reply(req, st);
	call->user = u->user;
	call->domain = u->domain;
	call->key = u->lc.key;
	u->step = USER_SET;
	return NTLMD_STEP_WAIT;
}

/* CREATE (CHANGE_PASSWORD, SYNC_PASSWORD): a system user (NSS, in the
 * worker) that no store holds under any spelling is added, with its uid
 * (a store holding a case twin of it refuses in the chain).
 * NO_SUCH_USER otherwise. A user of uid 0 (root, or another name for it)
 * is never added: the worker answers ACCOUNT_RESTRICTION (added_user). */
static enum ntlmd_step ask_add_user(struct ntlmd_request *req, struct user_request *u)
{
	struct ntlmd_store_call *call;
	enum ntlm_status st;

	if (req->event.account_key[0] != '\0') /* found under another spelling */
		return handler_reply(req, NTLM_STATUS_NO_SUCH_USER);
	call = ntlmd_request_ask(req, NTLMD_CALL_ADD_SYSTEM_USER);
	if ((st = ntlm_ntowfv1(u->new_password, &call->nt_hash)) != NTLM_OK)
		return handler_reply(req, st);
	call->user = u->user;
	ntlmd_audit_set(req->event.detail, "added by root");
	u->step = USER_ADD;
	return NTLMD_STEP_WAIT;
}

/* The answer of ask_add_user's call; the audit says why a uid 0 was
 * refused. */
static enum ntlm_status added_user(struct ntlmd_request *req)
{
	if (req->call.uid0_refused)
		ntlmd_audit_set(req->event.detail, "CREATE refused: uid 0 is never added");
	return req->call.status;
}

/* Root may set a password without the old one; every other caller proves
 * it first (an expired password may be changed: that is the point). The
 * account that was found (and proven) is the one written, in the store
 * that found it, under its own name. */
enum ntlmd_step handler_start_change_password(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u;
	enum ntlm_status st = user_request_begin(ctx, req, &u);

	if (st == NTLM_OK) {
		u->password = ntlmd_frame_string(&req->frame, NTLMD_TAG_PASSWORD);
		u->new_password = ntlmd_frame_string(&req->frame, NTLMD_TAG_NEW_PASSWORD);
		st = change_request_check(req, u);
	}
	if (st != NTLM_OK)
		return handler_reply(req, st);
	if (u->password != NULL)
		return ask_for_check(ctx, req, u);
	u->step = USER_FIND;
	return handler_ask_account(req, u->user, u->domain);
}

enum ntlmd_step handler_resume_change_password(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u = req->state;
	enum ntlm_status st = req->call.status;

	switch (u->step) {
	case USER_CHECK:
		st = check_password(ctx, req, u);
		if (st == NTLM_STATUS_PASSWORD_EXPIRED || st == NTLM_STATUS_PASSWORD_MUST_CHANGE)
			st = NTLM_OK;
		break;
	case USER_FIND:
		st = user_account_found(req, u);
		if (st == NTLM_OK)
			ntlmd_audit_set(req->event.detail, "set by root without the old password");
		break;
	case USER_SET:
		if (st == NTLM_OK)
			put_account(&req->reply, u);
		break;
	case USER_ADD:
		return handler_reply(req, added_user(req));
	}
	if (st == NTLM_OK && u->step != USER_SET)
		return ask_set_password(req, u);
	if (st == NTLM_STATUS_NO_SUCH_USER && u->create == 1)
		return ask_add_user(req, u);
	return handler_reply(req, st);
}

/* SYNC_PASSWORD's fields: NEW_PASSWORD (not empty), no old PASSWORD,
 * CREATE 0 or 1. */
static enum ntlm_status sync_request_check(struct ntlmd_request *req, struct user_request *u)
{
	const struct ntlmd_frame *f = &req->frame;
	enum ntlm_status st;

	if (ntlmd_frame_has(f, NTLMD_TAG_PASSWORD)) {
		ntlmd_audit_set(req->event.detail, "SYNC_PASSWORD takes no old password");
		return NTLM_ERR_INVALID_ARGUMENT;
	}
	if (ntlmd_frame_has(f, NTLMD_TAG_CREATE) &&
	    ((st = ntlmd_frame_get_u8(f, NTLMD_TAG_CREATE, &u->create)) != NTLM_OK || u->create > 1))
		return st != NTLM_OK ? st : NTLM_ERR_INVALID_ARGUMENT;
	if ((st = ntlmd_frame_get_string(f, NTLMD_TAG_NEW_PASSWORD, &u->new_password)) != NTLM_OK)
		return st;
	if (u->new_password[0] == '\0') {
		ntlmd_audit_set(req->event.detail, "a non-empty new password is required");
		return NTLM_ERR_INVALID_ARGUMENT;
	}
	return NTLM_OK;
}

/* SYNC_PASSWORD (root only): what pam_ntlm's migrate sends after an
 * earlier module (pam_unix) accepted the password. The NT hash (MS-NLMP
 * 3.3.1, NTOWFv1) of NEW_PASSWORD is written to the account found unless
 * that account holds it already. Nothing is a logon here: the account
 * policy is not asked, no lockout counter is read or counted, and the
 * audit record is a success ("unchanged" or "updated") or the lookup's
 * status. Not an oracle: only root may ask (who may set any password),
 * and an answer other than "unchanged" has overwritten the hash. */
enum ntlmd_step handler_start_sync_password(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u;
	enum ntlm_status st = user_request_begin(ctx, req, &u);

	if (st == NTLM_OK)
		st = sync_request_check(req, u);
	if (st != NTLM_OK)
		return handler_reply(req, st);
	u->stored = NTLMD_STORED_ADDED;
	u->step = USER_FIND;
	return handler_ask_account(req, u->user, u->domain);
}

/* The account found holds the password's hash already (constant-time
 * comparison): nothing to write. */
static bool sync_unchanged(struct ntlmd_request *req, struct user_request *u, enum ntlm_status *ret)
{
	struct ntlm_hash h;
	bool same;

	if ((*ret = ntlm_ntowfv1(u->new_password, &h)) != NTLM_OK)
		return true;
	same = u->has_nt && ntlm_equal_ct(h.bytes, u->nt_hash.bytes, sizeof(h.bytes));
	ntlm_wipe(&h, sizeof(h));
	if (same) {
		ntlmd_audit_set(req->event.detail, "unchanged: the stored NT hash is the password's");
		u->stored = NTLMD_STORED_UNCHANGED;
	}
	return same;
}

enum ntlmd_step handler_resume_sync_password(struct ntlmd_context *ctx, struct ntlmd_request *req)
{
	struct user_request *u = req->state;
	enum ntlm_status st = req->call.status;

	(void)ctx;
	if (u->step == USER_FIND) {
		st = user_account_found(req, u);
		if (st == NTLM_OK && !sync_unchanged(req, u, &st))
			return ask_set_password(req, u);
	} else if (u->step == USER_SET && st == NTLM_OK) {
		ntlmd_audit_set(req->event.detail, "updated by root: the stored NT hash was another");
		u->stored = NTLMD_STORED_UPDATED;
	} else if (u->step == USER_ADD) {
		st = added_user(req);
	}
	if (st == NTLM_STATUS_NO_SUCH_USER && u->create == 1 && u->step != USER_ADD)
		return ask_add_user(req, u);
	if (st == NTLM_OK) {
		put_account(&req->reply, u);
		ntlmd_put_u8(&req->reply, NTLMD_TAG_PASSWORD_STORED, u->stored);
	}
	return handler_reply(req, st);
}
