/*
 * status.c: the NT_STATUS names, codes and texts Samba's ntlm_auth prints
 * (in NA/BH lines, "Authentication-Error:" and the exec mode's
 * "<text> (0x<code>)"), and the small text helpers of the helper protocols.
 */
#include <config.h>

#include <ctype.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "helper.h"
#include "protocol.h"

struct samba_status {
	const char *name;
	uint32_t code;
	const char *text; /* Samba <= 4.6 texts: FreeRADIUS matches them and the code */
	/* Samba >= 4.7 texts (get_friendly_nt_error_msg(), the MS-ERREF 2.3.1
	 * descriptions), as Samba 4.17's libsamba-errors prints them:
	 * ntlm-server-1's Authentication-Error and --diagnostics */
	const char *description;
};

static const struct samba_status st_ok = {"NT_STATUS_OK", 0x0u, "Success",
                                          "The operation completed successfully."};
static const struct samba_status st_invalid = {"NT_STATUS_INVALID_PARAMETER", 0xc000000du,
                                               "Unexpected information received",
                                               "An invalid parameter was passed to a service or function."};
static const struct samba_status st_logon_failure = {
    "NT_STATUS_LOGON_FAILURE", 0xc000006du, "Logon failure",
    "The attempted logon is invalid. This is either due to a bad username or authentication information."};
static const struct samba_status st_unsuccessful = {
    "NT_STATUS_UNSUCCESSFUL", 0xc0000001u, "Undetermined error",
    "{Operation Failed} The requested operation was unsuccessful."};

/* Outcomes with an NTSTATUS of their own; the others are reported as
 * LOGON_FAILURE (authentication) or UNSUCCESSFUL (our side), while the
 * daemon's log keeps the precise reason. */
static const struct {
	enum ntlm_status st;
	struct samba_status s;
} statuses[] = {
    {NTLM_STATUS_WRONG_PASSWORD,
     {"NT_STATUS_WRONG_PASSWORD", 0xc000006au, "Wrong Password",
      "When trying to update a password, this return status indicates that the value provided as the current "
      "password is not correct."}},
    {NTLM_STATUS_NO_SUCH_USER,
     {"NT_STATUS_NO_SUCH_USER", 0xc0000064u, "No such user", "The specified account does not exist."}},
    {NTLM_STATUS_ACCOUNT_DISABLED,
     {"NT_STATUS_ACCOUNT_DISABLED", 0xc0000072u, "Account disabled",
      "The referenced account is currently disabled and cannot be logged on to."}},
    {NTLM_STATUS_ACCOUNT_LOCKED_OUT,
     {"NT_STATUS_ACCOUNT_LOCKED_OUT", 0xc0000234u, "Account locked out",
      "The user account has been automatically locked because too many invalid logon attempts or password "
      "change attempts have been requested."}},
    {NTLM_STATUS_ACCOUNT_EXPIRED,
     {"NT_STATUS_ACCOUNT_EXPIRED", 0xc0000193u, "Account expired", "The user account has expired."}},
    {NTLM_STATUS_PASSWORD_EXPIRED,
     {"NT_STATUS_PASSWORD_EXPIRED", 0xc0000071u, "Password expired",
      "The user account password has expired."}},
    {NTLM_STATUS_PASSWORD_MUST_CHANGE,
     {"NT_STATUS_PASSWORD_MUST_CHANGE", 0xc0000224u, "Must change password",
      "The user password must be changed before logging on the first time."}},
    {NTLM_STATUS_INVALID_LOGON_HOURS,
     {"NT_STATUS_INVALID_LOGON_HOURS", 0xc000006fu, "Invalid logon hours",
      "The user account has time restrictions and cannot be logged onto at this time."}},
    {NTLM_STATUS_INVALID_WORKSTATION,
     {"NT_STATUS_INVALID_WORKSTATION", 0xc0000070u, "Invalid workstation",
      "The user account is restricted so that it cannot be used to log on from the source workstation."}},
    {NTLM_STATUS_ACCOUNT_RESTRICTION,
     {"NT_STATUS_ACCOUNT_RESTRICTION", 0xc000006eu, "Account restriction",
      "Indicates a referenced user name and authentication information are valid, but some user account "
      "restriction has prevented successful authentication (such as time-of-day restrictions)."}},
    {NTLM_STATUS_NOLOGON_TRUST_ACCOUNT,
     {"NT_STATUS_NOLOGON_WORKSTATION_TRUST_ACCOUNT", 0xc0000199u, "Workstation trust account",
      "The account used is a computer account. Use your global user account or local user account to access "
      "this server."}},
    {NTLM_STATUS_NTLM_BLOCKED,
     {"NT_STATUS_NTLM_BLOCKED", 0xc0000418u, "The authentication failed because NTLM was blocked.",
      "The authentication failed because NTLM was blocked."}},
    {NTLM_STATUS_TIME_SKEW,
     {"NT_STATUS_TIME_DIFFERENCE_AT_DC", 0xc0000133u, "Time difference at DC",
      "The time at the primary domain controller is different from the time at the backup domain controller "
      "or member server by too large an amount."}},
    {NTLM_STATUS_BAD_BINDINGS,
     {"NT_STATUS_BAD_BINDINGS", 0xc000035bu, "Bad bindings",
      "The client's supplied SSPI channel bindings were incorrect."}},
    {NTLM_STATUS_DOWNGRADE_DETECTED,
     {"NT_STATUS_DOWNGRADE_DETECTED", 0xc0000388u, "Downgrade detected",
      "The system detected a possible attempt to compromise security. Ensure that you can contact the server "
      "that authenticated you."}},
    {NTLM_STATUS_NO_SUCH_GROUP,
     {"NT_STATUS_NO_SUCH_GROUP", 0xc0000066u, "No such group", "The specified group does not exist."}},
    {NTLM_ERR_BACKEND_UNAVAILABLE,
     {"NT_STATUS_NO_LOGON_SERVERS", 0xc000005eu, "No logon servers",
      "No logon servers are currently available to service the logon request."}},
    {NTLM_ERR_NO_MEMORY,
     {"NT_STATUS_NO_MEMORY", 0xc0000017u, "Insufficient memory",
      "{Not Enough Quota} Not enough virtual memory or paging file quota is available to complete the "
      "specified operation."}},
    {NTLM_ERR_INSUFFICIENT_RESOURCES,
     {"NT_STATUS_INSUFFICIENT_RESOURCES", 0xc000009au, "Insufficient system resources",
      "Insufficient system resources exist to complete the API."}},
};

static const struct samba_status *samba_status_of(enum ntlm_status st, bool squash)
{
	if (st == NTLM_OK)
		return &st_ok;
	if (squash && (st == NTLM_STATUS_NO_SUCH_USER || st == NTLM_STATUS_WRONG_PASSWORD))
		return &st_logon_failure;
	if (ntlm_status_is_malformed(st) || st == NTLM_ERR_INVALID_ARGUMENT)
		return &st_invalid;
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].st == st)
			return &statuses[i].s;
	if (st == NTLM_ERR_CRYPTO || st == NTLM_ERR_INTERNAL || st == NTLM_ERR_CONFIG ||
	    st >= _NTLM_STATUS_MAX)
		return &st_unsuccessful;
	return &st_logon_failure;
}

const char *na_status_name(enum ntlm_status st, bool squash)
{
	return samba_status_of(st, squash)->name;
}

uint32_t na_status_code(enum ntlm_status st, bool squash)
{
	return samba_status_of(st, squash)->code;
}

const char *na_status_text(enum ntlm_status st, bool squash)
{
	return samba_status_of(st, squash)->text;
}

const char *na_status_description(enum ntlm_status st, bool squash)
{
	return samba_status_of(st, squash)->description;
}

size_t na_hex_prefix(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	while (n < max && s[0] != '\0' && s[1] != '\0') {
		int hi = ntlm_hex_digit(s[0]), lo = ntlm_hex_digit(s[1]);

		if (hi < 0 || lo < 0)
			break;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return n;
}

bool na_split_user(const char *name, char sep, char **ret_domain, const char **ret_user)
{
	const char *p = strchr(name, sep);

	*ret_domain = NULL;
	*ret_user = name;
	if (p == NULL)
		return true;
	*ret_domain = strndup(name, (size_t)(p - name));
	if (*ret_domain == NULL)
		return false;
	*ret_user = p + 1;
	return true;
}

bool na_user_in_group(const char *user, bool has_uid, uint32_t uid, gid_t gid)
{
	const struct passwd *pw = has_uid ? getpwuid((uid_t)uid) : NULL;
	gid_t *groups = NULL;
	int n = 64;
	bool member = false;

	if (pw == NULL && user != NULL)
		pw = getpwnam(user);
	if (pw == NULL)
		return false;
	if (pw->pw_gid == gid)
		return true;
	for (int tries = 0; tries < 4 && !member; tries++) {
		gid_t *more = realloc(groups, (size_t)n * sizeof(*groups));
		int got = n;

		if (more == NULL)
			break;
		groups = more;
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &got) >= 0) {
			for (int i = 0; i < got; i++)
				member = member || groups[i] == gid;
			break;
		}
		n = got > n ? got : n * 2;
	}
	free(groups);
	return member;
}

const char *na_reply_account(const struct ntlmd_reply *reply)
{
	return ntlmd_frame_string(&reply->frame, NTLMD_TAG_ACCOUNT_NAME);
}

enum ntlm_status na_membership(const struct na_options *opt, const struct ntlmd_reply *reply,
                               const char *user)
{
	uint32_t uid = 0;
	bool has_uid;
	enum ntlm_status st;

	if (!opt->require_group)
		return NTLM_OK;
	if (user == NULL) /* no account named: never a member */
		return NTLM_STATUS_LOGON_FAILURE;
	has_uid = ntlmd_frame_get_u32(&reply->frame, NTLMD_TAG_UID, &uid) == NTLM_OK;
	if (!opt->group_error && !opt->group_is_sid && na_user_in_group(user, has_uid, uid, opt->group_gid))
		return NTLM_OK;
	/* NSS does not know the group, or not this member: ntlmd's group search */
	st = NTLM_STATUS_NO_SUCH_GROUP;
	if (opt->group_check != NULL && opt->group_name != NULL && user != NULL)
		st = opt->group_check(opt->group_check_ctx, opt->group_name, user,
		                      ntlmd_frame_string(&reply->frame, NTLMD_TAG_ACCOUNT_DOMAIN));
	switch (st) {
	case NTLM_OK:
	case NTLM_ERR_BACKEND_UNAVAILABLE:
		return st;
	case NTLM_STATUS_NO_SUCH_GROUP: /* no store has the group either */
		return opt->group_error ? NTLM_ERR_INVALID_ARGUMENT : NTLM_STATUS_LOGON_FAILURE;
	default:
		return NTLM_STATUS_LOGON_FAILURE;
	}
}
