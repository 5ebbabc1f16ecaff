/*
 * smbpasswd.h: the smbpasswd file format (Samba's smbpasswd(5)), as
 * written by smbpasswd and pdbedit:
 *
 *   name:uid:LMHASH:NTHASH:[FLAGS      ]:LCT-XXXXXXXX:
 *
 * Hashes are 32 hex digits, or 32 'X' (no hash), or "NO PASSWORD" padded
 * with 'X' (null password, honoured only with flag N). Flags are letters
 * inside brackets (U user, D disabled, L locked, N no password required,
 * X password never expires, W/S/I trust accounts, H, T, M). LCT is the
 * last change time in hex seconds. Fields after LCT are ignored.
 */
#ifndef PAM_NTLM_SMBPASSWD_H
#define PAM_NTLM_SMBPASSWD_H

#include "ntlmssp.h"

#define SMBPASSWD_MAX_LINE  1024
#define SMBPASSWD_MAX_FLAGS 15

struct smbpasswd_entry {
	char *user;
	uint32_t uid;
	bool has_lm;
	struct ntlm_hash lm;
	bool has_nt;
	struct ntlm_hash nt;
	bool null_password;                  /* "NO PASSWORD" in the NT field */
	char flags[SMBPASSWD_MAX_FLAGS + 1]; /* letters inside [..], spaces dropped */
	int64_t last_change;                 /* -1 when absent */
};

/* Parses one line (without its newline). Malformed lines give
 * NTLM_ERR_BAD_ENCODING and *ret_reason (if not NULL) a short phrase that
 * never contains field contents. */
enum ntlm_status smbpasswd_parse_line(const char *line, size_t len, struct smbpasswd_entry *ret,
                                      const char **ret_reason);
/* Wipes the hashes and frees the name. */
void smbpasswd_entry_clear(struct smbpasswd_entry *e);
/* True when letter (e.g. 'D') is among the entry's flags. */
bool smbpasswd_entry_has_flag(const struct smbpasswd_entry *e, char letter);

/* An in-memory, read-only index of a whole file: O(1) lookup by user name
 * (ASCII case-insensitive). */
struct smbpasswd_db;
/* Loads path. On a malformed line returns NTLM_ERR_BAD_ENCODING with
 * *ret_bad_line set to its 1-based number and *ret_reason to the phrase;
 * on an unreadable file NTLM_ERR_BACKEND_UNAVAILABLE. Comment lines (#) and
 * blank lines are skipped. */
enum ntlm_status smbpasswd_db_load(const char *path, struct smbpasswd_db **ret, size_t *ret_bad_line,
                                   const char **ret_reason);
const struct smbpasswd_entry *smbpasswd_db_find(const struct smbpasswd_db *db, const char *user);
size_t smbpasswd_db_count(const struct smbpasswd_db *db);
/* The i-th entry in file order (0 <= i < count, duplicates included), or
 * NULL: for listing a file. */
const struct smbpasswd_entry *smbpasswd_db_entry(const struct smbpasswd_db *db, size_t i);
/* Wipes every entry and frees the db; NULL-safe. */
void smbpasswd_db_free(struct smbpasswd_db *db);

/* Formats an entry the way Samba writes it (13-character flag field, LCT-,
 * upper-case hex, "XXXX..." for absent hashes), with the final newline.
 * malloc'd; wipe it before freeing. */
char *smbpasswd_format_line(const struct smbpasswd_entry *e);

/* One change to a file. */
enum smbpasswd_edit_op {
	SMBPASSWD_ADD,      /* new entry (user must not exist) */
	SMBPASSWD_SET_HASH, /* new NT hash (and LM hash, or none), LCT = now */
	SMBPASSWD_DELETE,
	SMBPASSWD_SET_FLAGS, /* add and remove flag letters */
};
struct smbpasswd_edit {
	enum smbpasswd_edit_op op;
	const char *user;
	uint32_t uid;               /* ADD */
	const struct ntlm_hash *nt; /* ADD, SET_HASH */
	const struct ntlm_hash *lm; /* ADD, SET_HASH: NULL writes no LM hash */
	const char *add_flags;      /* ADD (default "U"), SET_FLAGS */
	const char *remove_flags;   /* SET_FLAGS */
	int64_t now;                /* LCT for ADD and SET_HASH */
};
/*
 * Applies one edit safely: an fcntl write lock on the file (waiting at most
 * 5 s), the whole file rewritten to a temporary file in the same directory
 * with the original mode and owner (0600 for a new file), fsync, atomic
 * rename, fsync of the directory. Lines it does not touch are kept byte for
 * byte. NO_SUCH_USER for an edit of a missing user; *ret_reason explains
 * other failures without quoting a hash.
 */
enum ntlm_status smbpasswd_file_edit(const char *path, const struct smbpasswd_edit *edit,
                                     const char **ret_reason);

#endif /* PAM_NTLM_SMBPASSWD_H */
