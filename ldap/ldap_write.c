/*
 * ldap_write.c: what the ldap store writes: the directory's lockout
 * (sambaBadPasswordCount, L in sambaAcctFlags) read and written back with
 * a compare-and-swap, and the password change.
 */
#include <config.h>

#include "ldap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

/* Writes of one write-back whose compare-and-swap another writer beat: at
 * least one writer wins each round, so N writers at once need N rounds. */
#define CAS_ATTEMPTS 16

/* ------------------------------------------------------------------ */
/* Lockout across hosts (lockout_writeback yes; docs/ldap.md "Lockout
 * across hosts"): Samba's ldapsam, pdb_increment_bad_password_count and
 * pdb_update_autolock_flag */

/* Waits for the result of one modify of dn on ld. */
static int run_modify(const struct ntlmd_ldap_store *s, LDAP *ld, const char *dn, LDAPMod **mods)
{
	LDAPMessage *res = NULL;
	int msgid, err = LDAP_OTHER, rc = ldap_modify_ext(ld, dn, mods, NULL, NULL, &msgid);

	if (rc == LDAP_SUCCESS)
		rc = ntlmd_ldap_wait_result(ld, msgid, s->conf.timelimit, &res);
	if (rc == LDAP_SUCCESS)
		rc = ldap_parse_result(ld, res, &err, NULL, NULL, NULL, NULL, 1);
	return rc != LDAP_SUCCESS ? rc : err;
}

/* A connection for a write: rootbinddn's own to the server of op's (the
 * caller unbinds it, *ret_root), or op's when no rootbinddn is set. NULL
 * when rootbinddn's bind failed. */
static LDAP *writer_of(struct ntlmd_ldap_op *op, LDAP **ret_root)
{
	const struct ntlmd_ldap_store *s = op->s;

	*ret_root = NULL;
	if (s->conf.rootbinddn == NULL)
		return op->conn->ld;
	*ret_root = ntlmd_ldap_connect_uri(s, s->conf.uris[op->conn->current], s->conf.rootbinddn,
	                                   s->conf.rootbindpw);
	return *ret_root;
}

/* sambaAcctFlags value flags ("[U          ]"; NULL: absent, "[U]") with
 * L set or cleared, in the same width: L takes the first blank (or goes
 * before ']'); a cleared L leaves a blank before ']'. false: not
 * bracketed, or it does not fit in n bytes. */
static bool flags_with_lock(const char *flags, bool lock, char *out, size_t n)
{
	size_t len, o = 0;

	if (flags == NULL)
		flags = "[U          ]";
	len = strlen(flags);
	if (len < 2 || len + 2 > n || flags[0] != '[' || flags[len - 1] != ']')
		return false;
	if (lock) {
		const char *blank = strchr(flags, ' ');
		memcpy(out, flags, len + 1);
		if (blank != NULL)
			out[blank - flags] = 'L';
		else
			memcpy(out + len - 1, "L]", 3);
		return true;
	}
	for (size_t i = 0; i + 1 < len; i++)
		if (flags[i] != 'L')
			out[o++] = flags[i];
	while (o + 1 < len)
		out[o++] = ' ';
	memcpy(out + o, "]", 2);
	return true;
}

/* An L whose duration has passed: cleared in the directory with the
 * count, in one modify that fails when another writer changed the flags
 * first (then that writer's answer stands), and in a. */
static void auto_unlock(struct ntlmd_ldap_op *op, LDAPMessage *e, struct ntlmd_account *a)
{
	struct ntlmd_ldap_store *s = op->s;
	char new_flags[32], zero[] = "0", diag[DIAGNOSTIC_MAX];
	bool absent;
	char *old_flags =
	    ntlmd_ldap_get_value(op->conn->ld, e, s->conf.attrs[NTLMD_LDAP_ATTR_FLAGS], &absent);
	char *dn = ldap_get_dn(op->conn->ld, e);
	char *old_vals[] = {old_flags, NULL}, *new_vals[] = {new_flags, NULL}, *zero_vals[] = {zero, NULL};
	LDAPMod del = {LDAP_MOD_DELETE, s->conf.attrs[NTLMD_LDAP_ATTR_FLAGS], {.modv_strvals = old_vals}};
	LDAPMod add = {LDAP_MOD_ADD, s->conf.attrs[NTLMD_LDAP_ATTR_FLAGS], {.modv_strvals = new_vals}};
	LDAPMod count = {
	    LDAP_MOD_REPLACE, s->conf.attrs[NTLMD_LDAP_ATTR_BAD_COUNT], {.modv_strvals = zero_vals}};
	LDAPMod *mods[] = {&del, &add, &count, NULL};
	LDAP *root = NULL, *ld;
	char *l = strchr(a->flags, 'L');
	int rc;

	if (l != NULL)
		memmove(l, l + 1, strlen(l));
	a->bad_count = 0;
	if (old_flags == NULL || dn == NULL ||
	    !flags_with_lock(old_flags, false, new_flags, sizeof(new_flags)))
		goto out;
	if ((ld = writer_of(op, &root)) == NULL)
		goto out;
	rc = run_modify(s, ld, dn, mods);
	if (rc == LDAP_SUCCESS)
		ntlmd_backend_log(LOG_NOTICE, "ldap: %s: lockout duration passed: unlocked (L cleared)", dn);
	else if (rc != LDAP_NO_SUCH_ATTRIBUTE)
		ntlmd_backend_log(LOG_ERR, "ldap: %s: clearing an expired lockout failed: %s%s", dn,
		                  ldap_err2string(rc), ntlmd_ldap_diagnostic(ld, diag));
out:
	if (root != NULL)
		ldap_unbind_ext_s(root, NULL, NULL);
	ldap_memfree(dn);
	free(old_flags);
}

/* The directory's lockout of the account read in e: an L whose duration
 * has not passed (or with no sambaBadPasswordTime, or a duration of -1:
 * until an administrator clears it) sets a->locked_until, and so does a
 * count at the threshold within the observation window without L (fail
 * closed: the write of L was refused, or the policy changed); an L whose
 * duration passed is cleared (auto-unlock, as Samba does on reading). */
void ntlmd_ldap_read_lockout(struct ntlmd_ldap_op *op, LDAPMessage *e, struct ntlmd_account *a)
{
	struct lockout_policy p = ntlmd_ldap_current_policy(op);
	int64_t now = (int64_t)time(NULL), until;

	if (strchr(a->flags, 'L') == NULL) {
		if (p.threshold == 0 || a->bad_count < p.threshold || now - a->bad_time >= p.window)
			return;
		until = p.duration < 0 ? -1 : a->bad_time + p.duration;
		if (until < 0 || until > now)
			a->locked_until = until;
		return;
	}
	if (p.duration < 0 || a->bad_time <= 0)
		a->locked_until = -1;
	else if (a->bad_time + p.duration > now)
		a->locked_until = a->bad_time + p.duration;
	else
		auto_unlock(op, e, a);
}

/* The modifications of a password change (Samba's ldapsam): the new NT
 * hash, no LM hash, the time of the change, and sambaPwdMustChange moved
 * by the same interval (removed when it had none). */
static int modify_password(const struct ntlmd_ldap_store *s, LDAP *ld, const char *dn,
                           const struct ntlmd_account *old, const struct ntlm_hash *nt_hash, int64_t now)
{
	static const char hex[] = "0123456789ABCDEF";
	char nt_hex[33], last_set[24], must_change[24];
	char *nt_vals[] = {nt_hex, NULL}, *last_vals[] = {last_set, NULL}, *must_vals[] = {must_change, NULL};
	LDAPMod nt = {LDAP_MOD_REPLACE, s->conf.attrs[NTLMD_LDAP_ATTR_NT], {.modv_strvals = nt_vals}};
	LDAPMod lm = {LDAP_MOD_REPLACE, s->conf.attrs[NTLMD_LDAP_ATTR_LM], {.modv_strvals = NULL}};
	LDAPMod last = {
	    LDAP_MOD_REPLACE, s->conf.attrs[NTLMD_LDAP_ATTR_PWD_LAST_SET], {.modv_strvals = last_vals}};
	LDAPMod must = {
	    LDAP_MOD_REPLACE, s->conf.attrs[NTLMD_LDAP_ATTR_PWD_MUST_CHANGE], {.modv_strvals = NULL}};
	LDAPMod *mods[] = {&nt, &lm, &last, &must, NULL};
	int rc;

	for (size_t i = 0; i < 16; i++) {
		nt_hex[2 * i] = hex[nt_hash->bytes[i] >> 4];
		nt_hex[2 * i + 1] = hex[nt_hash->bytes[i] & 15];
	}
	nt_hex[32] = '\0';
	snprintf(last_set, sizeof(last_set), "%lld", (long long)now);
	if (old->pwd_must_change > 0 && old->pwd_last_set > 0 && old->pwd_must_change > old->pwd_last_set) {
		snprintf(must_change, sizeof(must_change), "%lld",
		         (long long)now + ((long long)old->pwd_must_change - (long long)old->pwd_last_set));
		must.mod_vals.modv_strvals = must_vals;
	} else if (old->pwd_must_change < 0) {
		mods[3] = NULL; /* nothing to move or remove */
	}
	rc = run_modify(s, ld, dn, mods);
	ntlm_wipe(nt_hex, sizeof(nt_hex));
	return rc;
}

/* The entry's DN, and its account, found on op's connection. */
static enum ntlm_status entry_dn_and_account(struct ntlmd_ldap_op *op, LDAPMessage *res, char **ret_dn,
                                             struct ntlmd_account *ret)
{
	LDAP *ld = op->conn->ld;
	enum ntlm_status st;

	*ret_dn = ldap_get_dn(ld, ldap_first_entry(ld, res));
	st = ntlmd_ldap_entry_to_account(op->s, ld, ldap_first_entry(ld, res), ret);
	if (*ret_dn == NULL && st == NTLM_OK) {
		ntlmd_account_clear(ret);
		st = NTLM_ERR_BACKEND_UNAVAILABLE;
	}
	return st;
}

enum ntlm_status ntlmd_ldap_set_password(void *state, const char *user, const struct ntlm_hash *nt_hash,
                                         int64_t now)
{
	struct ntlmd_ldap_store *s = state;
	struct ntlmd_account old = {0};
	LDAPMessage *res = NULL;
	LDAP *root = NULL, *ld;
	char *dn = NULL, key[MAX_USER + 1], diag[DIAGNOSTIC_MAX];
	struct ntlmd_ldap_op op;
	enum ntlm_status st;
	int rc;

	if (s == NULL || user == NULL || nt_hash == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (!ntlmd_ldap_valid_user(user))
		return NTLM_STATUS_NO_SUCH_USER;
	if (!ntlmd_ldap_op_begin(s, &op))
		return NTLM_ERR_NO_MEMORY;
	st = ntlmd_ldap_find_entry(&op, user, &res);
	if (st == NTLM_OK)
		st = entry_dn_and_account(&op, res, &dn, &old);
	if (st != NTLM_OK)
		goto out;
	if ((ld = writer_of(&op, &root)) == NULL) {
		st = NTLM_ERR_BACKEND_UNAVAILABLE;
		goto out;
	}
	rc = modify_password(s, ld, dn, &old, nt_hash, now);
	if (rc != LDAP_SUCCESS) {
		ntlmd_backend_log(LOG_ERR, "ldap: %s: changing the password of %s failed: %s%s",
		                  s->conf.uris[op.conn->current], dn, ldap_err2string(rc),
		                  ntlmd_ldap_diagnostic(ld, diag));
		st = rc == LDAP_INSUFFICIENT_ACCESS ? NTLM_STATUS_ACCOUNT_RESTRICTION
		                                    : NTLM_ERR_BACKEND_UNAVAILABLE;
		if (ntlmd_ldap_server_down(rc) && root == NULL)
			ntlmd_ldap_drop_connection(op.conn);
	} else {
		ntlmd_backend_log(LOG_INFO, "ldap: password of %s changed", dn);
	}
out:
	ntlmd_ldap_lower_key(user, key, sizeof(key));
	ntlmd_ldap_cache_remove(s, key);
	if (root != NULL)
		ldap_unbind_ext_s(root, NULL, NULL);
	ldap_msgfree(res);
	ntlmd_ldap_op_end(&op);
	ntlmd_account_clear(&old);
	ldap_memfree(dn);
	return st;
}

/* A sambaAcctFlags change in a write-back: old (NULL: absent) to new
 * (NULL: no change). */
struct flags_change {
	char *old, *new;
};

/* Replaces the bad-password count stored as old (its text as read, so
 * that a value ntlmd reads as malformed is replaced too; NULL: absent) by
 * new in one modify that fails when another writer changed it first:
 * delete the old value, add the new (the per-user serialisation of
 * concurrent ntlmd instances);
 * with time, sambaBadPasswordTime too; with flags->new, sambaAcctFlags in
 * the same modify (the count that reaches the threshold sets L: of two
 * hosts, the one whose swap succeeds is the one that locks). */
static int write_bad_count(const struct ntlmd_ldap_store *s, LDAP *ld, const char *dn, char *old, int64_t new,
                           int64_t time_now, const struct flags_change *flags)
{
	char new_s[24], time_s[24];
	char *old_vals[] = {old, NULL}, *new_vals[] = {new_s, NULL}, *time_vals[] = {time_s, NULL};
	char *old_flags[] = {flags->old, NULL}, *new_flags[] = {flags->new, NULL};
	LDAPMod del = {LDAP_MOD_DELETE, s->conf.attrs[NTLMD_LDAP_ATTR_BAD_COUNT], {.modv_strvals = old_vals}};
	LDAPMod add = {LDAP_MOD_ADD, s->conf.attrs[NTLMD_LDAP_ATTR_BAD_COUNT], {.modv_strvals = new_vals}};
	LDAPMod when = {
	    LDAP_MOD_REPLACE, s->conf.attrs[NTLMD_LDAP_ATTR_BAD_TIME], {.modv_strvals = time_vals}};
	LDAPMod del_flags = {
	    LDAP_MOD_DELETE, s->conf.attrs[NTLMD_LDAP_ATTR_FLAGS], {.modv_strvals = old_flags}};
	LDAPMod add_flags = {LDAP_MOD_ADD, s->conf.attrs[NTLMD_LDAP_ATTR_FLAGS], {.modv_strvals = new_flags}};
	LDAPMod *mods[6] = {NULL};
	size_t m = 0;

	snprintf(new_s, sizeof(new_s), "%lld", (long long)new);
	snprintf(time_s, sizeof(time_s), "%lld", (long long)time_now);
	if (old != NULL)
		mods[m++] = &del;
	mods[m++] = &add;
	if (time_now > 0)
		mods[m++] = &when;
	if (flags->new != NULL && flags->old != NULL)
		mods[m++] = &del_flags;
	if (flags->new != NULL)
		mods[m++] = &add_flags;
	return run_modify(s, ld, dn, mods);
}

/* The flags change of a bad password that moves the count to new: L set
 * when new reaches the policy's threshold and the entry e has none. */
static struct flags_change lock_at_threshold(struct ntlmd_ldap_op *op, LDAPMessage *e,
                                             const struct lockout_policy *p, int64_t new, char buf[32])
{
	struct flags_change f = {NULL, NULL};
	bool absent;

	if (p->threshold == 0 || new < p->threshold)
		return f;
	f.old = ntlmd_ldap_get_value(op->conn->ld, e, op->s->conf.attrs[NTLMD_LDAP_ATTR_FLAGS], &absent);
	if ((f.old == NULL && !absent) || (f.old != NULL && strchr(f.old, 'L') != NULL) ||
	    !flags_with_lock(f.old, true, buf, 32))
		return f; /* already locked, or malformed: the count alone */
	f.new = buf;
	return f;
}

/* One compare-and-swap of user's bad-password count on op's connection
 * (rootbinddn's, *root, opened at the first write): LDAP_SUCCESS, another
 * writer's change first (LDAP_NO_SUCH_ATTRIBUTE, LDAP_TYPE_OR_VALUE_EXISTS:
 * try again), or a failure, logged. *ret_done: nothing to write. */
static int record_once(struct ntlmd_ldap_op *op, const char *user, bool success, int64_t now, LDAP **root,
                       bool *ret_done)
{
	struct ntlmd_ldap_store *s = op->s;
	LDAPMessage *res = NULL, *e;
	struct lockout_policy p;
	struct flags_change flags = {NULL, NULL};
	char flags_buf[32], diag[DIAGNOSTIC_MAX];
	int64_t old, last = 0, new;
	char *dn = NULL, *stored = NULL;
	bool absent;
	int rc = LDAP_SUCCESS;

	*ret_done = true;
	if (ntlmd_ldap_find_entry(op, user, &res) != NTLM_OK)
		return LDAP_SUCCESS;
	p = ntlmd_ldap_current_policy(op);
	e = ldap_first_entry(op->conn->ld, res);
	old = ntlmd_ldap_bad_count_of(s, op->conn->ld, e, &last);
	/* the text as stored: a malformed one (-5, past int64) is replaced,
	 * the count starting again at 1 (attack4 F1: an add without its
	 * delete met the single value, every write was refused as "another
	 * writer first", and nothing was ever counted) */
	stored = ntlmd_ldap_get_value(op->conn->ld, e, s->conf.attrs[NTLMD_LDAP_ATTR_BAD_COUNT], &absent);
	new = success ? 0 : (old > 0 && now - last < p.window ? old + 1 : 1);
	if (!success)
		flags = lock_at_threshold(op, e, &p, new, flags_buf);
	dn = ldap_get_dn(op->conn->ld, e);
	if (dn == NULL || (success && old <= 0))
		goto out;
	*ret_done = false;
	if (s->conf.rootbinddn != NULL && *root == NULL)
		*root = ntlmd_ldap_connect_uri(s, s->conf.uris[op->conn->current], s->conf.rootbinddn,
		                               s->conf.rootbindpw);
	rc = s->conf.rootbinddn != NULL && *root == NULL
	         ? LDAP_SERVER_DOWN
	         : write_bad_count(s, *root != NULL ? *root : op->conn->ld, dn, stored, new,
	                           success ? 0 : now, &flags);
	/* a value added where none was read, while another writer added one:
	 * a second value of a single-valued attribute (RFC 4512 2.5.1) */
	if (rc == LDAP_CONSTRAINT_VIOLATION && (stored == NULL || (flags.new != NULL &&flags.old == NULL)))
		rc = LDAP_TYPE_OR_VALUE_EXISTS;
	if (rc == LDAP_SUCCESS && flags.new != NULL)
		ntlmd_backend_log(
		    LOG_NOTICE,
		    "ldap: %s: %lld bad passwords (threshold %lld): locked out in the directory "
		    "(L) for %lld s",
		    dn, (long long)new, (long long)p.threshold, (long long)p.duration);
	else if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_ATTRIBUTE && rc != LDAP_TYPE_OR_VALUE_EXISTS)
		ntlmd_backend_log(LOG_ERR, "ldap: %s: %s: updating the bad-password count failed: %s%s",
		                  s->conf.uris[op->conn->current], dn, ldap_err2string(rc),
		                  ntlmd_ldap_diagnostic(*root != NULL ? *root : op->conn->ld, diag));
out:
	if (dn != NULL)
		ntlmd_ldap_cache_forget_dn(s, dn);
	ldap_msgfree(res);
	free(flags.old);
	free(stored);
	ldap_memfree(dn);
	return rc;
}

/*
 * Lockout write-back (lockout_writeback yes), as Samba's passdb does: a
 * wrong password counts 1 more in sambaBadPasswordCount (1 again when the
 * last one, sambaBadPasswordTime, is older than the observation window)
 * and sets sambaBadPasswordTime; the count that reaches the threshold
 * sets L in sambaAcctFlags in the same modify (current_policy: the
 * sambaDomain's, else ntlmd.conf's). A success resets a count the lookup
 * saw above 0 and never touches L. Each write is a compare-and-swap of
 * the count, retried on a fresh read when another writer was first
 * (another ntlmd, or another worker of this one: ntlmd sends the
 * write-back to a worker after the reply).
 */
void ntlmd_ldap_record_logon(void *state, const char *user, int64_t bad_count, bool success, int64_t now)
{
	struct ntlmd_ldap_store *s = state;
	char key[MAX_USER + 1];
	LDAP *root = NULL;
	struct ntlmd_ldap_op op;

	if (s == NULL || user == NULL || !s->conf.lockout_writeback || !ntlmd_ldap_valid_user(user))
		return;
	if (success && bad_count <= 0)
		return; /* nothing to reset */
	if (!ntlmd_ldap_op_begin(s, &op))
		return;
	ntlmd_ldap_lower_key(user, key, sizeof(key));
	for (int attempt = 1;; attempt++) {
		bool done;
		int rc = record_once(&op, user, success, now, &root, &done);

		if (done || (rc != LDAP_NO_SUCH_ATTRIBUTE && rc != LDAP_TYPE_OR_VALUE_EXISTS))
			break; /* done, or a failure already logged */
		if (attempt == CAS_ATTEMPTS) {
			char shown[NTLMD_LOG_NAME_MAX];

			ntlmd_backend_log(LOG_ERR,
			                  "ldap: %s: the bad-password count changed under each of %d "
			                  "writes: this outcome is not counted",
			                  ntlmd_log_name(user, shown, sizeof(shown)), CAS_ATTEMPTS);
			break;
		}
	}
	/* written or not, the next lookup reads the entry again (the count,
	 * and L that another host may have set) */
	ntlmd_ldap_cache_remove(s, key);
	if (root != NULL)
		ldap_unbind_ext_s(root, NULL, NULL);
	ntlmd_ldap_op_end(&op);
}
