/*
 * sid.h: security identifiers (MS-DTYP 2.4.2) as text, "S-1-5-21-a-b-c-RID":
 * the bounded parser every SID from outside goes through (ntlm_auth
 * --require-membership-of, ntlmd.conf's domain_sid, an LDAP sambaSID), the
 * canonical formatter, and Samba's algorithmic mapping of uids and gids to
 * RIDs that the files store uses.
 */
#ifndef PAM_NTLM_SID_H
#define PAM_NTLM_SID_H

#include "ntlmssp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MS-DTYP 2.4.2: at most 15 sub-authorities */
#define NTLMD_SID_MAX_SUBAUTH 15
/* The longest text a SID can have ("S-1-0x" and 12 hex digits, then 15
 * times "-4294967295"), with its NUL: longer input is refused unread. */
#define NTLMD_SID_TEXT_MAX (6 + 12 + NTLMD_SID_MAX_SUBAUTH * 11 + 1)

struct ntlmd_sid {
	uint8_t count;      /* sub-authorities in use */
	uint64_t authority; /* IdentifierAuthority: 48 bits */
	uint32_t sub[NTLMD_SID_MAX_SUBAUTH];
};

/*
 * Parses the text form of MS-DTYP 2.4.2.1: "S-1-", the identifier
 * authority (decimal, or 0x and up to 12 hex digits), then 1 to 15
 * sub-authorities, each "-" and a decimal number below 2^32. "s-" is
 * accepted as Samba's string_to_sid does; no blanks, signs or empty
 * fields. Reads at most NTLMD_SID_TEXT_MAX bytes of text. NTLM_OK with
 * *ret; a malformed SID is NTLM_ERR_BAD_ENCODING (STATUS_NTLM_BAD_ENCODING)
 * and *ret_why (may be NULL) says why in a few words (never quoting the
 * text); NTLM_ERR_INVALID_ARGUMENT for NULL arguments.
 */
enum ntlm_status ntlmd_sid_parse(const char *text, struct ntlmd_sid *ret, const char **ret_why);

/* True when text starts like a SID ("S-" or "s-" and a digit): the form
 * ntlm_auth treats as a SID, never as a group name. */
bool ntlmd_sid_looks_like(const char *text);

/* The canonical text ("S-1-5-21-..."; an authority of 2^32 or more in hex,
 * as MS-DTYP 2.4.2.1) into out; false when it does not fit. */
bool ntlmd_sid_format(const struct ntlmd_sid *sid, char *out, size_t size);

bool ntlmd_sid_equal(const struct ntlmd_sid *a, const struct ntlmd_sid *b);

/* A domain SID as Samba and Windows make them: S-1-5-21-a-b-c. */
bool ntlmd_sid_is_domain(const struct ntlmd_sid *sid);

/* domain with rid appended; false when domain has 15 sub-authorities. */
bool ntlmd_sid_compose(const struct ntlmd_sid *domain, uint32_t rid, struct ntlmd_sid *ret);

/* True, with *ret_rid, when sid is domain and one more sub-authority. */
bool ntlmd_sid_split_rid(const struct ntlmd_sid *sid, const struct ntlmd_sid *domain, uint32_t *ret_rid);

/*
 * Samba's algorithmic mapping (passdb's algorithmic_pdb_uid_to_user_rid
 * and pdb_gid_to_group_rid, "algorithmic rid base" 1000): a user's RID is
 * 2 * uid + 1000, a group's 2 * gid + 1001. False when the RID would not
 * fit in 32 bits (uid or gid above 2147483147).
 */
#define NTLMD_ALGORITHMIC_RID_BASE 1000u
bool ntlmd_uid_to_rid(uint32_t uid, uint32_t *ret_rid);
bool ntlmd_gid_to_rid(uint32_t gid, uint32_t *ret_rid);

#endif /* PAM_NTLM_SID_H */
