/*
 * handlers.h: what the request handlers of ntlmd share (private to
 * handlers.c, handlers_common.c, verify.c, password.c, membership.c;
 * request.h is their interface with the loop). Each handler runs in steps
 * (request.h): start makes every check that needs no store, resume takes
 * the store's answer. Both run on the loop thread, so the tables they use
 * need no lock.
 *
 * Order of the checks in every handler that verifies a secret: lockout of
 * the client address first (in start: a locked address asks no store),
 * then the account's lockout (a locked key is refused before any
 * verification), then the verification, and the account state only for a
 * caller who proved the password, so a guesser learns nothing about the
 * account.
 */
#ifndef PAM_NTLM_NTLMD_HANDLERS_H
#define PAM_NTLM_NTLMD_HANDLERS_H

#include "request.h"

/* Request fields every handler may use; the policy is the request's
 * setup's (it lives as long as the request). */
struct request_ctx {
	const char *service;
	const char *client_address;
	char address[NTLMD_ADDRESS_KEY]; /* what it counts by (ntlmd_address_key); "" when none */
	const struct ntlmd_policy *policy;
	struct ntlmd_lockout_rule rule;         /* an address, an account from one address */
	struct ntlmd_lockout_rule account_rule; /* an account from every address together */
};

/* What the account lookup learned, for the reply, the lockout and the
 * audit record: the canonical account, never the client's spelling. */
struct lookup_ctx {
	const char *workstation;
	bool exact;          /* the user asked is a login name: the account must carry it */
	const char *backend; /* the store that found the account */
	bool found;
	bool has_uid; /* never uid 0 for an account without one */
	uint32_t uid;
	int64_t bad_count; /* the store's, for its write-back */
	char flags[16];
	char *name, *domain, *key; /* the canonical account (handler_lookup_ctx_clear frees them) */
	char *sid;                 /* the account's SID, NULL when its store knows none */
};

/* handlers_common.c: the request's fields, the lockout checks and counts,
 * the account lookup, the domain check, the reply */
enum ntlm_status handler_account_found(struct ntlmd_request *req, struct lookup_ctx *lc);
enum ntlm_status handler_account_lockout_check(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                               const struct request_ctx *rc, const char *account_key);
enum ntlm_status handler_address_lockout_check(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                               const struct request_ctx *rc);
enum ntlmd_step handler_ask_account(struct ntlmd_request *req, const char *user, const char *domain);
const struct ntlmd_config *handler_cfg_of(const struct ntlmd_request *req);
enum ntlm_status handler_domain_check(struct ntlmd_context *ctx, struct ntlmd_request *req,
                                      const struct request_ctx *rc, const char *user, const char *domain);
void handler_lockout_record(struct ntlmd_context *ctx, struct ntlmd_request *req,
                            const struct request_ctx *rc, const struct lookup_ctx *lc, enum ntlm_status st);
struct ntlmd_logon handler_logon_of(const char *workstation);
void handler_lookup_ctx_clear(struct lookup_ctx *lc);
void handler_put_canonical(struct ntlm_writer *reply, const struct request_ctx *rc,
                           const struct lookup_ctx *lc);
enum ntlmd_step handler_reply(struct ntlmd_request *req, enum ntlm_status st);
void handler_request_begin(struct ntlmd_request *req, struct request_ctx *rc);
enum ntlm_status handler_store_lockout_check(struct ntlmd_request *req, const struct ntlmd_account *a);

/* handlers.c: the challenge limits VERIFY_RESPONSE shares with CHALLENGE */
bool handler_challenge_limit_hit(struct ntlmd_context *ctx, struct ntlmd_request *req);
int64_t handler_used_retention_ms(const struct ntlmd_config *cfg, const struct ntlmd_policy *policy);

/* verify.c: VERIFY and VERIFY_RESPONSE */
void handler_clear_verify(struct ntlmd_request *req);
enum ntlmd_step handler_resume_verify(struct ntlmd_context *ctx, struct ntlmd_request *req);
enum ntlmd_step handler_start_verify(struct ntlmd_context *ctx, struct ntlmd_request *req);
enum ntlmd_step handler_start_verify_response(struct ntlmd_context *ctx, struct ntlmd_request *req);

/* password.c: CHECK_PASSWORD, ACCOUNT_STATUS, CHANGE_PASSWORD, SYNC_PASSWORD */
void handler_clear_user(struct ntlmd_request *req);
enum ntlmd_step handler_resume_account_status(struct ntlmd_context *ctx, struct ntlmd_request *req);
enum ntlmd_step handler_resume_change_password(struct ntlmd_context *ctx, struct ntlmd_request *req);
enum ntlmd_step handler_resume_check_password(struct ntlmd_context *ctx, struct ntlmd_request *req);
enum ntlmd_step handler_resume_sync_password(struct ntlmd_context *ctx, struct ntlmd_request *req);
enum ntlmd_step handler_start_account_status(struct ntlmd_context *ctx, struct ntlmd_request *req);
enum ntlmd_step handler_start_change_password(struct ntlmd_context *ctx, struct ntlmd_request *req);
enum ntlmd_step handler_start_check_password(struct ntlmd_context *ctx, struct ntlmd_request *req);
enum ntlmd_step handler_start_sync_password(struct ntlmd_context *ctx, struct ntlmd_request *req);

/* membership.c: CHECK_MEMBERSHIP */
void handler_clear_membership(struct ntlmd_request *req);
enum ntlmd_step handler_resume_check_membership(struct ntlmd_context *ctx, struct ntlmd_request *req);
enum ntlmd_step handler_start_check_membership(struct ntlmd_context *ctx, struct ntlmd_request *req);

#endif /* PAM_NTLM_NTLMD_HANDLERS_H */
