/*
 * audit.h: the daemon's log (syslog, and stderr in -d mode) and its audit
 * trail: one record per decision, as a syslog line and optionally as one
 * JSON object per line in the audit_json file.
 *
 * Nothing here ever receives a hash, a session key or a password: the
 * record has no field that could hold one.
 */
#ifndef PAM_NTLM_NTLMD_AUDIT_H
#define PAM_NTLM_NTLMD_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

#include "ntlmssp.h"

/* Opens syslog (ident "ntlmd", LOG_PID, LOG_AUTHPRIV); with to_stderr every
 * line is also written to stderr. Lines less important than level
 * (LOG_ERR .. LOG_DEBUG) are dropped. */
void ntlmd_log_open(bool to_stderr, int level);
void ntlmd_log_set_level(int level);
void ntlmd_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ntlmd_log_close(void);

/* Size of each text field of a record; longer values are cut (at a UTF-8
 * character boundary) and end with "...". */
#define NTLMD_AUDIT_TEXT 260

/* One decision. Text fields are empty when unknown. */
struct ntlmd_audit_event {
	const char *request; /* "VERIFY", ...; NULL: nothing to record */
	uint32_t uid;        /* the caller, by SO_PEERCRED */
	int32_t pid;
	char service[NTLMD_AUDIT_TEXT];
	char client_address[NTLMD_AUDIT_TEXT];
	char user[NTLMD_AUDIT_TEXT];        /* as the client typed it */
	char domain[NTLMD_AUDIT_TEXT];      /* as the client typed it */
	char account[NTLMD_AUDIT_TEXT];     /* the canonical account: DOMAIN\name */
	char account_key[NTLMD_AUDIT_TEXT]; /* its stable key: files:NAME, ldap:DN */
	char workstation[NTLMD_AUDIT_TEXT];
	char client_spn[NTLMD_AUDIT_TEXT];
	char detail[NTLMD_AUDIT_TEXT]; /* why, when the status alone does not say */
	const char *backend;           /* the store that answered, NULL if none */
	bool has_response_type;
	enum ntlm_response_type response_type;
	bool has_verdicts; /* an NTLMSSP exchange was verified */
	enum ntlm_verdict mic, channel_bindings, target_name;
	bool has_clock_skew;
	int64_t clock_skew; /* seconds, client - server */
	enum ntlm_status status;
	int64_t latency_us;
};

/* Clears the record for a new request. */
void ntlmd_audit_reset(struct ntlmd_audit_event *e);
/* Copies s (may be NULL) into a text field of the record. */
void ntlmd_audit_set(char field[NTLMD_AUDIT_TEXT], const char *s);
/* Names the canonical account of the record: DOMAIN\name (name alone
 * when domain is NULL or empty) and key. */
void ntlmd_audit_set_account(struct ntlmd_audit_event *e, const char *domain, const char *name,
                             const char *key);

/* Opens (creates with mode 0640) the JSON-lines file; NULL closes it. On
 * failure the previous file stays open and errno is kept. */
enum ntlm_status ntlmd_audit_open(const char *json_path);
/* Hands the open file to uid:gid (the privilege drop), so that a later
 * reopen by that user still finds it writable; 0, or -1 with errno. */
int ntlmd_audit_chown(uid_t uid, gid_t gid);
void ntlmd_audit_close(void);
/* Writes the record: a syslog line, and a JSON line when a file is open. */
void ntlmd_audit_write(const struct ntlmd_audit_event *e);

/* "success", "failure" (an authentication outcome), "malformed" or "error". */
const char *ntlmd_audit_outcome(enum ntlm_status st);
/* The JSON object of the record (no newline), for now (Unix microseconds);
 * malloc'd, NULL when out of memory. */
char *ntlmd_audit_json(const struct ntlmd_audit_event *e, int64_t now_us);
/* The text of the syslog line; malloc'd, NULL when out of memory. */
char *ntlmd_audit_text(const struct ntlmd_audit_event *e);

#endif /* PAM_NTLM_NTLMD_AUDIT_H */
