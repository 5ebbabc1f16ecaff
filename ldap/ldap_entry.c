/*
 * ldap_entry.c: an entry of the ldap store as a struct ntlmd_account, from
 * its attributes' values (ldap_entry.h): no libldap, no store, so that it
 * can be fuzzed (tests/fuzz/fuzz_ldap_entry.c). The values follow Samba's
 * sambaSamAccount (ldap/schema.md).
 */
#include <config.h>

#include "ldap_entry.h"
#include "sid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The last plausible sambaBadPasswordTime: 9999-12-31T23:59:59Z. */
#define MAX_BAD_TIME    INT64_C(253402300799)

#define LOGON_HOURS_HEX 42 /* sambaLogonHours: 21 bytes, 168 hours */

/* The attributes read when ntlmd.conf maps none (Samba's schema). */
const char *const ntlmd_ldap_default_attrs[NTLMD_LDAP_ATTR_COUNT] = {
    "uid",
    "sambaNTPassword",
    "sambaLMPassword",
    "sambaAcctFlags",
    "sambaPwdLastSet",
    "sambaPwdMustChange",
    "sambaKickoffTime",
    "sambaLogonHours",
    "sambaUserWorkstations",
    "sambaBadPasswordCount",
    "sambaBadPasswordTime",
    "uidNumber",
    "sambaSID",
    "sambaPrimaryGroupSID",
};

void ntlmd_ldap_strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* The values of attribute name in e (the first attribute of that name),
 * or NULL. */
static const struct ntlmd_ldap_attribute *attribute_of(const struct ntlmd_ldap_entry *e, const char *name)
{
	for (size_t i = 0; i < e->count; i++)
		if (e->attributes[i].name != NULL && strcasecmp(e->attributes[i].name, name) == 0)
			return &e->attributes[i];
	return NULL;
}

char *ntlmd_ldap_entry_text(const struct ntlmd_ldap_entry *e, const char *name, bool *ret_absent)
{
	const struct ntlmd_ldap_attribute *a = attribute_of(e, name);
	const struct ntlmd_ldap_value *v;

	*ret_absent = a == NULL || a->count == 0;
	if (*ret_absent)
		return NULL;
	v = &a->values[0];
	if (v->len == 0)
		return strdup(""); /* v->bytes may be NULL */
	if (memchr(v->bytes, '\0', v->len) != NULL)
		return NULL; /* a NUL inside: malformed */
	return strndup(v->bytes, v->len);
}

/* Frees a value that may hold a secret. */
void ntlmd_ldap_free_value(char *v)
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

int64_t ntlmd_ldap_entry_bad_count(const struct ntlmd_ldap_entry *e,
                                   const char *const attrs[NTLMD_LDAP_ATTR_COUNT], int64_t *ret_time)
{
	int64_t count = -1, t = 0;
	bool absent;
	char *v = ntlmd_ldap_entry_text(e, attrs[NTLMD_LDAP_ATTR_BAD_COUNT], &absent);

	/* past INT32_MAX (Samba keeps a uint16) it is malformed: no + 1 on
	 * it can overflow (attack4 F1) */
	if (v == NULL || !ntlmd_ldap_parse_int64(v, &count) || count < 0 || count > INT32_MAX)
		count = -1;
	free(v);
	if (ret_time != NULL) {
		v = ntlmd_ldap_entry_text(e, attrs[NTLMD_LDAP_ATTR_BAD_TIME], &absent);
		/* outside 1970..9999 it is malformed, read as absent: an L
		 * then holds until an administrator clears it, and no sum
		 * with a duration can wrap (attack3 F6) */
		if (v == NULL || !ntlmd_ldap_parse_int64(v, &t) || t < 0 || t > MAX_BAD_TIME)
			t = 0;
		free(v);
		*ret_time = t;
	}
	return count;
}

enum ntlm_status ntlmd_ldap_entry_parse(const struct ntlmd_ldap_entry *e,
                                        const char *const attrs[NTLMD_LDAP_ATTR_COUNT],
                                        struct ntlmd_account *a, struct ntlmd_ldap_entry_fault *ret_fault)
{
	const char *const *attr = attrs;
	const char *bad = NULL, *why = "";
	enum ntlm_status st = NTLM_OK;
	char *v[NTLMD_LDAP_ATTR_COUNT] = {0};
	bool absent[NTLMD_LDAP_ATTR_COUNT];
	int64_t n;

	for (size_t i = 0; i < NTLMD_LDAP_ATTR_COUNT; i++) {
		v[i] = ntlmd_ldap_entry_text(e, attr[i], &absent[i]);
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
	a->bad_count = ntlmd_ldap_entry_bad_count(e, attrs, &a->bad_time);
out:
	if (bad != NULL) {
		*ret_fault = (struct ntlmd_ldap_entry_fault){bad, why};
		st = NTLM_ERR_BAD_ENCODING;
	}
	if (st != NTLM_OK)
		ntlmd_account_clear(a);
	for (size_t i = 0; i < NTLMD_LDAP_ATTR_COUNT; i++)
		ntlmd_ldap_free_value(v[i]);
	return st;
}
