/*
 * backend.h: the interface every credential store of ntlmd implements,
 * the ordered backend chain (like nsswitch), and the account policy that
 * applies to every store's accounts.
 */
#ifndef PAM_NTLM_BACKEND_H
#define PAM_NTLM_BACKEND_H

#include "config.h"
#include "ntlmssp.h"

/* What a store knows about one user. */
struct ntlmd_account {
	char *name; /* the store's spelling */
	uint32_t uid;
	bool has_nt;
	struct ntlm_hash nt_hash;
	bool has_lm;
	struct ntlm_hash lm_hash;
	bool null_password;       /* "NO PASSWORD" with flag N */
	char flags[16];           /* Samba account-control letters: U D L N X W S I H T M */
	int64_t pwd_last_set;     /* Unix seconds; 0 = must change; -1 unknown */
	int64_t pwd_must_change;  /* Unix seconds; -1 never */
	int64_t kickoff_time;     /* Unix seconds; -1 never */
	bool has_logon_hours;
	uint8_t logon_hours[21];  /* sambaLogonHours: 168 bits, bit 0 = Sunday 00:00 UTC */
	char **workstations;      /* NULL-terminated allow-list; NULL = any */
};

/* Wipes the hashes and frees what the account owns. */
void ntlmd_account_clear(struct ntlmd_account *a);

struct ntlmd_backend {
	const char *name; /* "files", "ldap" */
	enum ntlm_status (*open)(const struct ntlmd_config *cfg, void **ret_state);
	/* NTLM_OK with *ret filled, NTLM_STATUS_NO_SUCH_USER, or
	 * NTLM_ERR_BACKEND_UNAVAILABLE: never "no such user" for a store that
	 * could not be asked. */
	enum ntlm_status (*lookup)(void *state, const char *user, const char *domain, struct ntlmd_account *ret);
	/* Stores a new NT hash and clears the LM hash; NO_SUCH_USER if absent. */
	enum ntlm_status (*set_password)(void *state, const char *user, const struct ntlm_hash *nt_hash,
	                                 int64_t now);
	/* Picks up changes (files: re-reads a changed file atomically, keeping
	 * the last good copy when the new one is malformed). */
	void (*refresh)(void *state);
	void (*close)(void *state); /* NULL-safe */
};

extern const struct ntlmd_backend ntlmd_backend_files;
/* The backend called name, or NULL. */
const struct ntlmd_backend *ntlmd_backend_find(const char *name);

/* The configured stores, in order. */
struct ntlmd_backend_chain;
enum ntlm_status ntlmd_backends_open(const struct ntlmd_config *cfg, struct ntlmd_backend_chain **ret);
/*
 * Asks each store in turn: NO_SUCH_USER goes on to the next one. When no
 * store has the user and one of them was unavailable, the answer is
 * NTLM_ERR_BACKEND_UNAVAILABLE, never NO_SUCH_USER. *ret_backend names the
 * store that answered.
 */
enum ntlm_status ntlmd_backends_lookup(struct ntlmd_backend_chain *c, const char *user, const char *domain,
                                       struct ntlmd_account *ret, const char **ret_backend);
/* Sets the password in the store that holds the user. */
enum ntlm_status ntlmd_backends_set_password(struct ntlmd_backend_chain *c, const char *user,
                                             const struct ntlm_hash *nt_hash, int64_t now);
void ntlmd_backends_refresh(struct ntlmd_backend_chain *c);
void ntlmd_backends_close(struct ntlmd_backend_chain *c);

/* What the request is for, for the account policy. */
struct ntlmd_logon {
	const char *workstation; /* from the AUTHENTICATE; NULL or "" when unknown */
	bool interactive;        /* a user logon: trust accounts (W S I) are refused */
	bool allow_null_password;
	int64_t now;             /* Unix seconds */
};

/*
 * The account policy of every store (Samba's passdb checks): flags D
 * (disabled), L (locked), W/S/I trust accounts, N; kickoff time (expired);
 * password must change (pwd_last_set 0 or pwd_must_change passed, unless X);
 * logon hours; workstations. Returns NTLM_OK or the status.
 */
enum ntlm_status ntlmd_account_check(const struct ntlmd_account *a, const struct ntlmd_logon *logon);

#endif /* PAM_NTLM_BACKEND_H */
