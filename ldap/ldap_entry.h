/*
 * ldap_entry.h: an entry of the ldap store read as a struct ntlmd_account,
 * from its attributes' values alone: no libldap, no connection, no store,
 * so that the fuzz target ldap_entry (tests/fuzz/fuzz_ldap_entry.c) and the
 * unit test (tests/ldap/test_ldap_entry.c) run it without a directory. The
 * search code (ldap_search.c) pulls the values out of an LDAPMessage and
 * adds what needs the store: the key (the DN) and the domain.
 */
#ifndef PAM_NTLM_LDAP_ENTRY_H
#define PAM_NTLM_LDAP_ENTRY_H

#include "ldapstore.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One value as the directory sent it: bytes, not NUL-terminated (a value
 * may hold a NUL, which makes it malformed). */
struct ntlmd_ldap_value {
	const char *bytes;
	size_t len;
};

/* One attribute of an entry: its name and its values (count may be 0). */
struct ntlmd_ldap_attribute {
	const char *name;
	const struct ntlmd_ldap_value *values;
	size_t count;
};

/* An entry's attributes; the names are matched without case, as LDAP
 * does (RFC 4512 2.5), the first attribute of a name counting. */
struct ntlmd_ldap_entry {
	const struct ntlmd_ldap_attribute *attributes;
	size_t count;
};

/* Why an entry was refused: the attribute (its configured name) and what
 * is wrong with its value, for the log; never the value itself. */
struct ntlmd_ldap_entry_fault {
	const char *attribute;
	const char *why;
};

/*
 * The first value of attribute name in e, NUL-terminated (malloc'd; a
 * value may be a hash: free it with ntlmd_ldap_free_value), or NULL: with
 * *ret_absent when the entry has no value of it, without when that value
 * holds a NUL or memory ran out. Later values of a multi-valued attribute
 * are ignored, as Samba's ldapsam reads the first.
 */
char *ntlmd_ldap_entry_text(const struct ntlmd_ldap_entry *e, const char *name, bool *ret_absent);
/* Wipes and frees a value of ntlmd_ldap_entry_text; NULL-safe. */
void ntlmd_ldap_free_value(char *v);

/*
 * Fills *ret from e, the attributes named by attrs (the "map" names,
 * NTLMD_LDAP_ATTR_COUNT of them; the store passes its conf.attrs): name (uid), SID, uidNumber, NT and LM
 * hashes, sambaAcctFlags (absent: "U"), the password times, logon hours,
 * workstations, and the directory's lockout count (-1 when absent or
 * malformed) and time (0 then). Not the key nor the domain: the caller
 * sets them (the DN, the store's domains). A malformed value (not text,
 * a hash not 32 hex digits, flags not "[LETTERS]", a time not a number,
 * logon hours not 42 hex digits) gives NTLM_ERR_BAD_ENCODING with
 * *ret_fault; on any error *ret is cleared.
 */
enum ntlm_status ntlmd_ldap_entry_parse(const struct ntlmd_ldap_entry *e,
                                        const char *const attrs[NTLMD_LDAP_ATTR_COUNT],
                                        struct ntlmd_account *ret, struct ntlmd_ldap_entry_fault *ret_fault);

/* The lockout fields of e alone: sambaBadPasswordCount (-1 when absent,
 * malformed or negative) and, when ret_time is not NULL,
 * sambaBadPasswordTime (0 when absent or malformed). */
int64_t ntlmd_ldap_entry_bad_count(const struct ntlmd_ldap_entry *e,
                                   const char *const attrs[NTLMD_LDAP_ATTR_COUNT], int64_t *ret_time);

/* The attributes read when ntlmd.conf maps none ("map", ntlmd.conf(5)). */
extern const char *const ntlmd_ldap_default_attrs[NTLMD_LDAP_ATTR_COUNT];

/* A decimal number, the whole of s. */
bool ntlmd_ldap_parse_int64(const char *s, int64_t *ret);
/* Frees a NULL-terminated list of strings; NULL-safe. */
void ntlmd_ldap_strv_free(char **v);

#endif /* PAM_NTLM_LDAP_ENTRY_H */
