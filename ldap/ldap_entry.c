/*
 * ldap_entry.c: an entry of the ldap store as a struct ntlmd_account: the
 * values of its attributes (sambaSamAccount) parsed, its key and domain.
 */
#include <config.h>

#include "ldap_int.h"
#include "sid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#define LOGON_HOURS_HEX 42 /* sambaLogonHours: 21 bytes, 168 hours */

/* The entry's single value of attribute, NUL-terminated (malloc'd), or
 * NULL with *ret_absent when there is none. */
char *ntlmd_ldap_get_value(LDAP *ld, LDAPMessage *e, const char *attr, bool *ret_absent)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	char *s = NULL;

	*ret_absent = v == NULL || v[0] == NULL;
	if (!*ret_absent && memchr(v[0]->bv_val, '\0', v[0]->bv_len) == NULL)
		s = strndup(v[0]->bv_val, v[0]->bv_len);
	else if (!*ret_absent)
		s = NULL; /* a NUL inside: malformed */
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		ntlm_wipe(v[i]->bv_val, v[i]->bv_len); /* libldap's copy of a value that may be a hash */
	ldap_value_free_len(v);
	return s;
}

/* Frees a value that may hold a secret. */
static void free_value(char *v)
{
	if (v != NULL)
		ntlm_wipe(v, strlen(v));
	free(v);
}

static bool parse_hash(const char *hex, struct ntlm_hash *ret)
{
	return ntlm_hex_to_bytes(hex, strlen(hex), ret->bytes, sizeof(ret->bytes)) == NTLM_OK;
}

bool ntlmd_ldap_parse_int64(const char *s, int64_t *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0)
		return false;
	*ret = (int64_t)v;
	return true;
}

/* sambaAcctFlags: "[" letters and blanks "]" (Samba's pdb_decode_acct_ctrl). */
static bool parse_flags(const char *s, char *ret, size_t n)
{
	size_t len = strlen(s), o = 0;

	if (len < 2 || s[0] != '[' || s[len - 1] != ']')
		return false;
	for (size_t i = 1; i + 1 < len; i++) {
		if (s[i] == ' ')
			continue;
		if (s[i] < 'A' || s[i] > 'Z' || o + 1 >= n)
			return false;
		ret[o++] = s[i];
	}
	ret[o] = '\0';
	return true;
}

/* sambaLogonHours: 42 hex digits, byte i from digits 2i and 2i+1 (Samba's
 * pdb_gethexhours). */
static bool parse_logon_hours(const char *s, uint8_t ret[21])
{
	uint8_t *bytes = NULL;
	size_t n = 0;

	if (strlen(s) != LOGON_HOURS_HEX || ntlm_hex_decode(s, LOGON_HOURS_HEX, &bytes, &n) != NTLM_OK)
		return false;
	if (n == 21)
		memcpy(ret, bytes, 21);
	free(bytes);
	return n == 21;
}

/* sambaUserWorkstations: a comma-separated list; empty = any. */
static bool parse_workstations(const char *s, char ***ret)
{
	char *copy = strdup(s), *save = NULL;
	char **list = NULL;
	size_t n = 0;

	if (copy == NULL)
		return false;
	for (char *w = strtok_r(copy, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
		char **grown;
		size_t len;

		while (*w == ' ')
			w++;
		len = strlen(w);
		while (len > 0 && w[len - 1] == ' ')
			w[--len] = '\0';
		if (len == 0)
			continue;
		grown = realloc(list, (n + 2) * sizeof(char *));
		if (grown == NULL || (grown[n] = strdup(w)) == NULL) {
			list = grown != NULL ? grown : list;
			if (list != NULL)
				list[n] = NULL;
			ntlmd_ldap_strv_free(list);
			free(copy);
			return false;
		}
		list = grown;
		list[++n] = NULL;
	}
	free(copy);
	*ret = list;
	return true;
}
/* The domain of an account whose sambaSID is sid (may be NULL): the
 * sambaDomain whose SID prefixes it; else the first configured `domains`
 * name, else the only sambaDomain read; else NULL (the chain then gives
 * netbios_domain). Called with state_lock held (the domains read). */
static const char *entry_domain_locked(const struct ntlmd_ldap_store *s, const char *sid)
{
	char *const *list = s->conf.domains != NULL ? s->conf.domains : s->dir_domains;

	for (size_t i = 0; sid != NULL && s->dir_sids != NULL && s->dir_sids[i] != NULL; i++) {
		size_t n = strlen(s->dir_sids[i]);
		if (n > 0 && strncasecmp(sid, s->dir_sids[i], n) == 0 && sid[n] == '-')
			return s->dir_domains[i];
	}
	if (list == NULL || list[0] == NULL || strcmp(list[0], "*") == 0)
		return NULL;
	if (s->conf.domains == NULL && list[1] != NULL)
		return NULL; /* several domains and no SID to choose */
	return list[0];
}

/* The canonical text of an entry's SID value (sambaSID), or NULL in
 * *ret when there is none or it is not a SID (the account then has no
 * SID; its other attributes still serve). */
static enum ntlm_status canonical_sid(const char *value, char **ret)
{
	struct ntlmd_sid sid;
	char text[NTLMD_SID_TEXT_MAX];

	*ret = NULL;
	if (value == NULL || ntlmd_sid_parse(value, &sid, NULL) != NTLM_OK ||
	    !ntlmd_sid_format(&sid, text, sizeof(text)))
		return NTLM_OK;
	*ret = strdup(text);
	return *ret != NULL ? NTLM_OK : NTLM_ERR_NO_MEMORY;
}

/* The canonical identity of entry e: key "ldap:" DN, and its domain. */
static enum ntlm_status entry_identity(struct ntlmd_ldap_store *s, LDAP *ld, LDAPMessage *e, const char *sid,
                                       struct ntlmd_account *a)
{
	char *dn = ldap_get_dn(ld, e);
	const char *domain;
	bool no_memory;

	if (dn == NULL)
		return NTLM_ERR_NO_MEMORY;
	a->key = ntlmd_account_key("ldap", dn);
	ldap_memfree(dn);
	pthread_mutex_lock(&s->state_lock);
	domain = entry_domain_locked(s, sid);
	no_memory = domain != NULL && (a->domain = strdup(domain)) == NULL;
	pthread_mutex_unlock(&s->state_lock);
	if (a->key == NULL || no_memory)
		return NTLM_ERR_NO_MEMORY;
	return NTLM_OK;
}

/* Fills a from entry e; on a malformed attribute logs the entry and the
 * attribute (never the value) and returns NTLM_ERR_BAD_ENCODING. */
enum ntlm_status ntlmd_ldap_entry_to_account(struct ntlmd_ldap_store *s, LDAP *ld, LDAPMessage *e,
                                             struct ntlmd_account *a)
{
	char *const *attr = s->conf.attrs;
	const char *bad = NULL, *why = "";
	enum ntlm_status st = NTLM_OK;
	char *v[NTLMD_LDAP_ATTR_COUNT] = {0};
	bool absent[NTLMD_LDAP_ATTR_COUNT];
	int64_t n;

	for (size_t i = 0; i < NTLMD_LDAP_ATTR_COUNT; i++) {
		v[i] = ntlmd_ldap_get_value(ld, e, attr[i], &absent[i]);
		if (!absent[i] && v[i] == NULL && bad == NULL) {
			bad = attr[i];
			why = "not text";
		}
	}
	*a = (struct ntlmd_account){.pwd_last_set = -1, .pwd_must_change = -1, .kickoff_time = -1};
	if (bad != NULL)
		goto out;
	a->name = strdup(v[NTLMD_LDAP_ATTR_UID] != NULL ? v[NTLMD_LDAP_ATTR_UID] : "");
	if (a->name == NULL) {
		st = NTLM_ERR_NO_MEMORY;
		goto out;
	}
	if ((st = entry_identity(s, ld, e, v[NTLMD_LDAP_ATTR_SID], a)) != NTLM_OK)
		goto out;
	if ((st = canonical_sid(v[NTLMD_LDAP_ATTR_SID], &a->sid)) != NTLM_OK)
		goto out;
	if (v[NTLMD_LDAP_ATTR_UID_NUMBER] != NULL &&
	    ntlmd_ldap_parse_int64(v[NTLMD_LDAP_ATTR_UID_NUMBER], &n) && n >= 0 && n <= UINT32_MAX) {
		a->has_uid = true;
		a->uid = (uint32_t)n;
	}
	if (v[NTLMD_LDAP_ATTR_NT] != NULL) {
		if (!parse_hash(v[NTLMD_LDAP_ATTR_NT], &a->nt_hash)) {
			bad = attr[NTLMD_LDAP_ATTR_NT];
			why = "not 32 hex digits";
			goto out;
		}
		a->has_nt = true;
	}
	if (v[NTLMD_LDAP_ATTR_LM] != NULL) {
		if (parse_hash(v[NTLMD_LDAP_ATTR_LM], &a->lm_hash))
			a->has_lm = true;
		else if (strspn(v[NTLMD_LDAP_ATTR_LM], "X") != strlen(v[NTLMD_LDAP_ATTR_LM])) {
			bad = attr[NTLMD_LDAP_ATTR_LM];
			why = "not 32 hex digits";
			goto out;
		}
	}
	if (v[NTLMD_LDAP_ATTR_FLAGS] == NULL)
		strcpy(a->flags, "U");
	else if (!parse_flags(v[NTLMD_LDAP_ATTR_FLAGS], a->flags, sizeof(a->flags))) {
		bad = attr[NTLMD_LDAP_ATTR_FLAGS];
		why = "not \"[LETTERS]\"";
		goto out;
	}
	a->null_password = !a->has_nt && strchr(a->flags, 'N') != NULL;
	{
		static const enum ntlmd_ldap_attr times[] = {
		    NTLMD_LDAP_ATTR_PWD_LAST_SET, NTLMD_LDAP_ATTR_PWD_MUST_CHANGE, NTLMD_LDAP_ATTR_KICKOFF};
		int64_t *slots[] = {&a->pwd_last_set, &a->pwd_must_change, &a->kickoff_time};
		for (size_t i = 0; i < 3; i++)
			if (v[times[i]] != NULL && !ntlmd_ldap_parse_int64(v[times[i]], slots[i])) {
				bad = attr[times[i]];
				why = "not a number";
				goto out;
			}
	}
	if (v[NTLMD_LDAP_ATTR_LOGON_HOURS] != NULL) {
		if (!parse_logon_hours(v[NTLMD_LDAP_ATTR_LOGON_HOURS], a->logon_hours)) {
			bad = attr[NTLMD_LDAP_ATTR_LOGON_HOURS];
			why = "not 42 hex digits";
			goto out;
		}
		a->has_logon_hours = true;
	}
	if (v[NTLMD_LDAP_ATTR_WORKSTATIONS] != NULL &&
	    !parse_workstations(v[NTLMD_LDAP_ATTR_WORKSTATIONS], &a->workstations))
		st = NTLM_ERR_NO_MEMORY;
out:
	if (bad != NULL) {
		char *dn = ldap_get_dn(ld, e);
		ntlmd_backend_log(LOG_ERR, "ldap: entry %s: attribute %s is malformed (%s): entry refused",
		                  dn != NULL ? dn : "?", bad, why);
		ldap_memfree(dn);
		st = NTLM_ERR_BAD_ENCODING;
	}
	if (st != NTLM_OK)
		ntlmd_account_clear(a);
	for (size_t i = 0; i < NTLMD_LDAP_ATTR_COUNT; i++)
		free_value(v[i]);
	return st;
}

/* The entry's sambaBadPasswordCount (-1 when absent or malformed), and
 * its sambaBadPasswordTime in *ret_time (0 when absent). */
int64_t ntlmd_ldap_bad_count_of(const struct ntlmd_ldap_store *s, LDAP *ld, LDAPMessage *e, int64_t *ret_time)
{
	int64_t count = -1, t = 0;
	bool absent;
	char *v = ntlmd_ldap_get_value(ld, e, s->conf.attrs[NTLMD_LDAP_ATTR_BAD_COUNT], &absent);

	if (v == NULL || !ntlmd_ldap_parse_int64(v, &count) || count < 0)
		count = -1;
	free(v);
	if (ret_time != NULL) {
		v = ntlmd_ldap_get_value(ld, e, s->conf.attrs[NTLMD_LDAP_ATTR_BAD_TIME], &absent);
		if (v == NULL || !ntlmd_ldap_parse_int64(v, &t))
			t = 0;
		free(v);
		*ret_time = t;
	}
	return count;
}
