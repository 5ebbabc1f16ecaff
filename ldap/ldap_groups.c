/*
 * ldap_groups.c: the group search of the ldap store (--require-membership-of
 * of ntlm_auth): a group by name or by SID, its members by name or DN, and
 * an account's own SIDs.
 */
#include <config.h>

#include "ldap_int.h"
#include "sid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

/* The normalized DN of user's entry (free it), found like a lookup but
 * reading no attribute. */
static enum ntlm_status user_dn(struct ntlmd_ldap_op *op, const char *user, char **ret)
{
	const struct ntlmd_ldap_store *s = op->s;
	char filter[FILTER_MAX];
	char no_attr[] = LDAP_NO_ATTRS; /* "1.1": no attribute (RFC 4511 4.5.1.8) */
	char *no_attrs[] = {no_attr, NULL};
	struct search q = {.bases = s->conf.bases, .filter = filter, .attrs = no_attrs};
	LDAPMessage *res = NULL;
	char *dn, *norm = NULL;
	enum ntlm_status st;

	if (!ntlmd_ldap_match_filter(s->conf.filter, s->conf.attrs[NTLMD_LDAP_ATTR_UID], user, filter))
		return NTLM_STATUS_NO_SUCH_USER;
	st = ntlmd_ldap_search_failover(op, &q, &res);
	if (st != NTLM_OK)
		return st;
	dn = ldap_get_dn(op->conn->ld, ldap_first_entry(op->conn->ld, res));
	ldap_msgfree(res);
	if (dn == NULL ||
	    ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAP, &norm, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		st = NTLM_ERR_NO_MEMORY;
	ldap_memfree(dn);
	if (st == NTLM_OK) {
		*ret = strdup(norm);
		st = *ret != NULL ? NTLM_OK : NTLM_ERR_NO_MEMORY;
	}
	ldap_memfree(norm);
	return st;
}

/* One value of the member attribute names user (memberUid: the name,
 * ASCII case-insensitively) or, when dn is not NULL, the user's entry
 * (the value normalized as a DN first). */
static bool names_user(const struct berval *v, const char *user, const char *dn)
{
	char text[FILTER_MAX];
	char *norm = NULL;
	bool same;

	if (v->bv_len >= sizeof(text) || memchr(v->bv_val, '\0', v->bv_len) != NULL)
		return false;
	memcpy(text, v->bv_val, v->bv_len);
	text[v->bv_len] = '\0';
	if (dn == NULL)
		return strcasecmp(text, user) == 0;
	if (ldap_dn_normalize(text, LDAP_DN_FORMAT_LDAP, &norm, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return false;
	same = strcasecmp(norm, dn) == 0;
	ldap_memfree(norm);
	return same;
}

/*
 * The group search: the one entry under group_base matching
 * (&group_filter(group_name_attribute=group)), then its
 * group_member_attribute values. Every search has the lookups' timelimit
 * and failover. No group search configured, or no such group:
 * NO_SUCH_USER (the next store's).
 */
/* The DN of the account whose key is key when it is this store's (an
 * "ldap:" key), normalized as user_dn() gives it; NO_SUCH_USER for another
 * store's account. */
static enum ntlm_status key_dn(const char *key, char **ret)
{
	char *norm = NULL;
	enum ntlm_status st = NTLM_ERR_NO_MEMORY;

	if (strncmp(key, "ldap:", 5) != 0)
		return NTLM_STATUS_NO_SUCH_USER;
	if (ldap_dn_normalize(key + 5, LDAP_DN_FORMAT_LDAP, &norm, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return NTLM_STATUS_NO_SUCH_USER;
	if ((*ret = strdup(norm)) != NULL)
		st = NTLM_OK;
	ldap_memfree(norm);
	return st;
}

/* Whether user is a member of the group entry found in op (its member
 * values; dn: the user's normalized DN when members are DNs). */
static bool member_of_result(struct ntlmd_ldap_op *op, LDAPMessage *res, const char *user, const char *dn)
{
	LDAP *ld = op->conn->ld;
	struct berval **vals =
	    ldap_get_values_len(ld, ldap_first_entry(ld, res), op->s->conf.group_member_attribute);
	bool member = false;

	for (size_t i = 0; vals != NULL && vals[i] != NULL && !member; i++)
		member = names_user(vals[i], user, dn);
	ldap_value_free_len(vals);
	return member;
}

/* Whether one of the values of attribute of entry e is sid (compared as
 * SIDs: "s-1-5-..." and "S-1-5-..." are one). */
static bool entry_has_sid(LDAP *ld, LDAPMessage *e, const char *attribute, const struct ntlmd_sid *sid)
{
	struct berval **vals = ldap_get_values_len(ld, e, attribute);
	char text[NTLMD_SID_TEXT_MAX];
	struct ntlmd_sid v;
	bool same = false;

	for (size_t i = 0; vals != NULL && vals[i] != NULL && !same; i++) {
		if (vals[i]->bv_len >= sizeof(text))
			continue;
		memcpy(text, vals[i]->bv_val, vals[i]->bv_len);
		text[vals[i]->bv_len] = '\0';
		same = ntlmd_sid_parse(text, &v, NULL) == NTLM_OK && ntlmd_sid_equal(&v, sid);
	}
	ldap_value_free_len(vals);
	return same;
}

/* Whether sid is the account's own (sambaSID) or its primary group's
 * (sambaPrimaryGroupSID): the entry of user whose DN is dn (this store's
 * account of that key), searched on op's connection. NO_SUCH_USER when
 * the entry is gone or another. */
static enum ntlm_status account_has_sid(struct ntlmd_ldap_op *op, const char *user, const char *dn,
                                        const struct ntlmd_sid *sid, bool *ret)
{
	const struct ntlmd_ldap_store *s = op->s;
	char filter[FILTER_MAX];
	char *attrs[] = {s->conf.attrs[NTLMD_LDAP_ATTR_SID], s->conf.attrs[NTLMD_LDAP_ATTR_PRIMARY_GROUP_SID],
	                 NULL};
	struct search q = {.bases = s->conf.bases, .filter = filter, .attrs = attrs};
	LDAPMessage *res = NULL, *e;
	LDAP *ld;
	char *found = NULL, *norm = NULL;
	enum ntlm_status st;

	if (!ntlmd_ldap_match_filter(s->conf.filter, s->conf.attrs[NTLMD_LDAP_ATTR_UID], user, filter))
		return NTLM_STATUS_NO_SUCH_USER;
	if ((st = ntlmd_ldap_search_failover(op, &q, &res)) != NTLM_OK)
		return st;
	ld = op->conn->ld; /* the connection that returned res */
	e = ldap_first_entry(ld, res);
	found = ldap_get_dn(ld, e);
	if (found == NULL ||
	    ldap_dn_normalize(found, LDAP_DN_FORMAT_LDAP, &norm, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		st = NTLM_ERR_NO_MEMORY;
	else if (strcasecmp(norm, dn) != 0)
		st = NTLM_STATUS_NO_SUCH_USER;
	else
		*ret = entry_has_sid(ld, e, attrs[0], sid) || entry_has_sid(ld, e, attrs[1], sid);
	ldap_memfree(norm);
	ldap_memfree(found);
	ldap_msgfree(res);
	return st;
}

/* Whether the sambaGroupMapping entry of sid under group_base lists the
 * user (group_member_attribute, as for a group name), searched on op's
 * connection. NO_SUCH_USER when there is no group search or no such
 * entry. */
static enum ntlm_status mapped_group_member(struct ntlmd_ldap_op *op, const char *sid_text, const char *user,
                                            const char *dn, bool *ret)
{
	const struct ntlmd_ldap_store *s = op->s;
	char filter[FILTER_MAX];
	char *attrs[] = {s->conf.group_member_attribute, NULL};
	struct search q = {.bases = s->conf.group_bases, .filter = filter, .attrs = attrs};
	LDAPMessage *res = NULL;
	enum ntlm_status st;

	if (s->conf.group_bases == NULL ||
	    (size_t)snprintf(filter, sizeof(filter), "(&%s(objectClass=sambaGroupMapping)(sambaSID=%s))",
	                     s->conf.group_filter, sid_text) >= sizeof(filter))
		return NTLM_STATUS_NO_SUCH_USER;
	if ((st = ntlmd_ldap_search_failover(op, &q, &res)) != NTLM_OK)
		return st;
	*ret = (!s->conf.group_member_dn || dn != NULL) && member_of_result(op, res, user, dn);
	ldap_msgfree(res);
	return NTLM_OK;
}

/*
 * A group given as a SID (ntlm_auth --require-membership-of=S-1-5-21-...):
 * this store's account is a member of its own sambaSID and of its
 * sambaPrimaryGroupSID; any account (a files user too, by memberUid) is a
 * member of the sambaGroupMapping entry with that sambaSID under
 * group_base that lists it. The account's own entry answers for any SID
 * (not a member: NTLM_OK, false); another store's account whose SID no
 * mapping names: NO_SUCH_USER, for the next store. Like a group name's
 * search, it runs in one operation of the pool (a store worker's, never
 * ntlmd's loop: group_member has no no-wait form).
 */
static enum ntlm_status sid_member(struct ntlmd_ldap_store *s, const char *group, const char *user,
                                   const char *key, bool *ret_member)
{
	struct ntlmd_sid sid;
	char text[NTLMD_SID_TEXT_MAX];
	struct ntlmd_ldap_op op;
	char *dn = NULL;
	bool member = false, ours = false;
	enum ntlm_status st = NTLM_OK;

	if (ntlmd_sid_parse(group, &sid, NULL) != NTLM_OK || !ntlmd_sid_format(&sid, text, sizeof(text)))
		return NTLM_STATUS_NO_SUCH_USER;
	if (key != NULL && (st = key_dn(key, &dn)) != NTLM_OK && st != NTLM_STATUS_NO_SUCH_USER)
		return st;
	if (!ntlmd_ldap_op_begin(s, &op)) {
		free(dn);
		return NTLM_ERR_NO_MEMORY;
	}
	if (dn != NULL) {
		st = account_has_sid(&op, user, dn, &sid, &member);
		ours = st == NTLM_OK;
		if (st != NTLM_OK && st != NTLM_STATUS_NO_SUCH_USER)
			goto out;
	}
	if (!member) {
		st = mapped_group_member(&op, text, user, s->conf.group_member_dn ? dn : NULL, &member);
		if (st == NTLM_STATUS_NO_SUCH_USER && ours)
			st = NTLM_OK;
	} else {
		st = NTLM_OK;
	}
out:
	ntlmd_ldap_op_end(&op);
	free(dn);
	if (st == NTLM_OK) {
		char shown_user[NTLMD_LOG_NAME_MAX];

		ntlmd_backend_log(LOG_DEBUG, "ldap: %s is %sa member of %s",
		                  ntlmd_log_name(user, shown_user, sizeof(shown_user)), member ? "" : "not ",
		                  text);
		*ret_member = member;
	}
	return st;
}

enum ntlm_status ntlmd_ldap_group_member(void *state, const char *group, const char *user, const char *key,
                                         bool *ret_member)
{
	struct ntlmd_ldap_store *s = state;
	char filter[FILTER_MAX];
	char *attrs[2];
	struct search q = {.filter = filter, .attrs = attrs};
	LDAPMessage *res = NULL;
	struct ntlmd_ldap_op op;
	char *dn = NULL;
	bool member = false;
	enum ntlm_status st = NTLM_OK;

	if (s == NULL || group == NULL || user == NULL || ret_member == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (ntlmd_ldap_valid_user(user) && ntlmd_sid_looks_like(group))
		return sid_member(s, group, user, key, ret_member);
	if (s->conf.group_bases == NULL || !ntlmd_ldap_valid_user(group) || !ntlmd_ldap_valid_user(user))
		return NTLM_STATUS_NO_SUCH_USER;
	if (!ntlmd_ldap_match_filter(s->conf.group_filter, s->conf.group_name_attribute, group, filter))
		return NTLM_STATUS_NO_SUCH_USER;
	if (!ntlmd_ldap_op_begin(s, &op))
		return NTLM_ERR_NO_MEMORY;
	/* the user's DN first: the group's result is read on the connection
	 * that returned it */
	if (s->conf.group_member_dn) {
		st = key != NULL ? key_dn(key, &dn) : user_dn(&op, user, &dn);
		if (st != NTLM_OK && st != NTLM_STATUS_NO_SUCH_USER)
			goto out;
	}
	attrs[0] = s->conf.group_member_attribute;
	attrs[1] = NULL;
	q.bases = s->conf.group_bases;
	st = ntlmd_ldap_search_failover(&op, &q, &res);
	if (st == NTLM_OK && (!s->conf.group_member_dn || dn != NULL))
		member = member_of_result(&op, res, user, dn);
	ldap_msgfree(res);
	if (st == NTLM_OK) {
		char shown_user[NTLMD_LOG_NAME_MAX], shown_group[NTLMD_LOG_NAME_MAX];

		ntlmd_backend_log(LOG_DEBUG, "ldap: %s is %sa member of group %s",
		                  ntlmd_log_name(user, shown_user, sizeof(shown_user)), member ? "" : "not ",
		                  ntlmd_log_name(group, shown_group, sizeof(shown_group)));
		*ret_member = member;
	}
out:
	ntlmd_ldap_op_end(&op);
	free(dn);
	return st;
}
