/*
 * ldapstore.h: the ldap store of ntlmd: sambaSamAccount entries read
 * through OpenLDAP's libldap. Its settings are the nslcd-like backend keys
 * of ntlmd.conf (ntlmd.conf(5)). It depends on backends/ (backend.h),
 * never the reverse; only the registry above both (stores/) and the
 * ldap tests include it.
 */
#ifndef PAM_NTLM_LDAPSTORE_H
#define PAM_NTLM_LDAPSTORE_H

#include "backend.h"

/* The entry attributes the store reads, in the order of their "map" names. */
enum ntlmd_ldap_attr {
	NTLMD_LDAP_ATTR_UID = 0,
	NTLMD_LDAP_ATTR_NT,
	NTLMD_LDAP_ATTR_LM,
	NTLMD_LDAP_ATTR_FLAGS,
	NTLMD_LDAP_ATTR_PWD_LAST_SET,
	NTLMD_LDAP_ATTR_PWD_MUST_CHANGE,
	NTLMD_LDAP_ATTR_KICKOFF,
	NTLMD_LDAP_ATTR_LOGON_HOURS,
	NTLMD_LDAP_ATTR_WORKSTATIONS,
	NTLMD_LDAP_ATTR_BAD_COUNT,
	NTLMD_LDAP_ATTR_BAD_TIME,
	NTLMD_LDAP_ATTR_UID_NUMBER,
	NTLMD_LDAP_ATTR_SID,               /* the account's SID: its prefix names its sambaDomain */
	NTLMD_LDAP_ATTR_PRIMARY_GROUP_SID, /* the SID of the account's primary group (membership by SID) */
	NTLMD_LDAP_ATTR_COUNT
};

enum ntlmd_ldap_ssl { NTLMD_LDAP_SSL_OFF = 0, NTLMD_LDAP_SSL_START_TLS, NTLMD_LDAP_SSL_ON };

/* The parsed settings. Password files are read once, at parse time. */
struct ntlmd_ldap_conf {
	char **uris; /* NULL-terminated, in failover order */
	size_t n_uris;
	char **bases; /* NULL-terminated, searched in order */
	int scope;    /* LDAP_SCOPE_* */
	char *filter; /* default (objectClass=sambaSamAccount) */
	unsigned timelimit, bind_timelimit, idle_timelimit, reconnect_sleeptime; /* seconds */
	unsigned reconnect_retrytime;  /* seconds: no server answered, every operation fails at once */
	char *binddn, *bindpw;         /* bindpw: secret */
	char *rootbinddn, *rootbindpw; /* rootbindpw: secret */
	bool sasl_external;
	enum ntlmd_ldap_ssl ssl;
	int tls_reqcert; /* LDAP_OPT_X_TLS_* */
	char *tls_cacertfile, *tls_cacertdir, *tls_cert, *tls_key;
	char *attrs[NTLMD_LDAP_ATTR_COUNT];
	char *domain_attribute; /* of the sambaDomain entries; default sambaDomainName */
	char **domains;         /* configured NTLM domains; NULL = from the directory */
	unsigned cache_ttl, negative_cache_ttl, cache_stale_ttl;
	bool lockout_writeback;
	/* The group search (--require-membership-of of ntlm_auth): off while
	 * group_bases is NULL. A group is the entry under a group base that
	 * matches (&group_filter(group_name_attribute=NAME)); its members are
	 * the values of group_member_attribute: user names (memberUid), or,
	 * with group_member_dn, the DNs of the users' entries (member). A group
	 * given as a SID is the entry matching (&group_filter
	 * (objectClass=sambaGroupMapping)(sambaSID=SID)) instead. */
	char **group_bases;           /* NULL-terminated */
	char *group_filter;           /* default (objectClass=posixGroup) */
	char *group_name_attribute;   /* default cn */
	char *group_member_attribute; /* default memberUid, or member with group_member_dn */
	bool group_member_dn;
};

/*
 * Parses and checks the ldap keys of cfg (cfg->extra_*). Every problem is
 * appended to errs (up to max, with its line number); the count of all of
 * them is returned. On 0 *ret is filled (ntlmd_ldap_conf_clear it); otherwise it
 * is left cleared. ret may be NULL to check only.
 */
size_t ntlmd_ldap_conf_parse(const struct ntlmd_config *cfg, struct ntlmd_ldap_conf *ret,
                             struct ntlmd_config_error *errs, size_t max);
/* Wipes the passwords and frees everything; NULL-safe. */
void ntlmd_ldap_conf_clear(struct ntlmd_ldap_conf *c);

/* The store, opened with its reason on failure. */
enum ntlm_status ntlmd_ldap_open(const struct ntlmd_config *cfg, void **ret_state,
                                 struct ntlmd_config_error *err);

/* The ldap keys of ntlmd.conf, ended by a NULL name (ntlmd.conf(5)). */
extern const struct ntlmd_config_store_key ntlmd_ldap_config_keys[];
/* ntlmd_ldap_conf_parse without keeping the result: ntlmd -t and the reload. */
size_t ntlmd_ldap_check_config(const struct ntlmd_config *cfg, struct ntlmd_config_error *errs, size_t max);

/* The ldap store: the registry (stores/registry.c) lists it. */
extern const struct ntlmd_backend ntlmd_backend_ldap;

#endif /* PAM_NTLM_LDAPSTORE_H */
