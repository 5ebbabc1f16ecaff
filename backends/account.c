/*
 * account.c: the account policy that every store's accounts obey (Samba's
 * passdb checks), and the release of an account.
 */
#include <config.h>

#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ntlmd_account_clear(struct ntlmd_account *a)
{
	if (a == NULL)
		return;
	free(a->name);
	free(a->domain);
	free(a->key);
	free(a->sid);
	if (a->workstations != NULL) {
		for (char **w = a->workstations; *w != NULL; w++)
			free(*w);
		free(a->workstations);
	}
	ntlm_wipe(a, sizeof(*a));
}

char *ntlmd_account_key(const char *store, const char *id)
{
	size_t n = strlen(store) + strlen(id) + 2;
	char *key = malloc(n);

	if (key != NULL)
		snprintf(key, n, "%s:%s", store, id);
	return key;
}

static bool has_flag(const struct ntlmd_account *a, char letter)
{
	return memchr(a->flags, letter, strnlen(a->flags, sizeof(a->flags))) != NULL;
}

/* The bit of logon_hours for the hour of now: bit 0 (the low bit of byte
 * 0) is Sunday 00:00-01:00 UTC, as Samba's logon_hours_ok reads it. */
static bool logon_hour_allowed(const struct ntlmd_account *a, int64_t now)
{
	int64_t days = now / 86400, secs = now % 86400;
	unsigned bit;

	if (secs < 0) { /* floor division for times before 1970 */
		secs += 86400;
		days--;
	}
	/* 1970-01-01 was a Thursday (4) */
	bit = (unsigned)(((days % 7 + 7 + 4) % 7) * 24 + secs / 3600);
	return (a->logon_hours[bit / 8] >> (bit % 8)) & 1;
}

static bool ascii_equal_nocase(const char *x, const char *y)
{
	for (; *x && *y; x++, y++) {
		char cx = *x >= 'A' && *x <= 'Z' ? (char)(*x + 32) : *x;
		char cy = *y >= 'A' && *y <= 'Z' ? (char)(*y + 32) : *y;
		if (cx != cy)
			return false;
	}
	return *x == *y;
}

static bool workstation_allowed(const struct ntlmd_account *a, const char *workstation)
{
	if (a->workstations == NULL)
		return true;
	if (workstation == NULL || workstation[0] == '\0')
		return false;
	for (char **w = a->workstations; *w != NULL; w++)
		if (ascii_equal_nocase(*w, workstation))
			return true;
	return false;
}

/* The order is documented in backend.h: Samba's. */
enum ntlm_status ntlmd_account_check(const struct ntlmd_account *a, const struct ntlmd_logon *logon)
{
	bool trust_account;

	if (a == NULL || logon == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	/* check_sam_security: locked out, before the password */
	if (has_flag(a, 'L'))
		return NTLM_STATUS_ACCOUNT_LOCKED_OUT;
	/* sam_password_ok: no password is a password only with N, and only
	 * when the policy allows null passwords */
	if (!a->has_nt && !(a->null_password && has_flag(a, 'N') && logon->allow_null_password))
		return NTLM_STATUS_ACCOUNT_RESTRICTION;
	/* sam_account_ok */
	if (has_flag(a, 'D'))
		return NTLM_STATUS_ACCOUNT_DISABLED;
	if (a->has_logon_hours && !logon_hour_allowed(a, logon->now))
		return NTLM_STATUS_INVALID_LOGON_HOURS;
	/* 0 and -1: never (Samba treats 0 as never) */
	if (a->kickoff_time > 0 && logon->now > a->kickoff_time)
		return NTLM_STATUS_ACCOUNT_EXPIRED;
	if (!has_flag(a, 'X') && !has_flag(a, 'N')) {
		trust_account = has_flag(a, 'W') || has_flag(a, 'S');
		if (a->pwd_last_set == 0 && !trust_account)
			return NTLM_STATUS_PASSWORD_MUST_CHANGE;
		if (a->pwd_must_change > 0 && a->pwd_must_change < logon->now)
			return NTLM_STATUS_PASSWORD_EXPIRED;
	}
	if (!workstation_allowed(a, logon->workstation))
		return NTLM_STATUS_INVALID_WORKSTATION;
	if (logon->interactive && (has_flag(a, 'I') || has_flag(a, 'S') || has_flag(a, 'W')))
		return NTLM_STATUS_NOLOGON_TRUST_ACCOUNT;
	return NTLM_OK;
}

enum ntlm_status ntlmd_account_credentials(const struct ntlmd_account *a, const struct ntlmd_logon *logon,
                                           struct ntlm_credentials *ret)
{
	if (!a->has_nt)
		return NTLM_STATUS_ACCOUNT_RESTRICTION; /* no NT hash: no NTLM logon */
	ret->nt_hash = a->nt_hash;
	ret->has_lm_hash = a->has_lm;
	if (a->has_lm)
		ret->lm_hash = a->lm_hash;
	ret->account_status = ntlmd_account_check(a, logon);
	return NTLM_OK;
}
