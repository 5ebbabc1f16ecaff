/*
 * files.c: the files store of ntlmd, an smbpasswd-format file indexed in
 * memory. refresh() reloads a changed file into a new index and swaps it
 * in whole; a missing, malformed or exposed new version leaves the last
 * good copy in service and is described in the store's status.
 */
#include <config.h>

#include "backend.h"
#include "sid.h"
#include "smbpasswd.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* A file loaded less than this after its mtime is loaded once more: a
 * same-size write within the same clock tick leaves the key unchanged. */
#define RACY_SECONDS 2
/* Loads that find the file changed while reading it, per refresh */
#define LOAD_ATTEMPTS 3

/* What identifies a version of the file. */
struct file_key {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	mode_t mode;
};

struct files_store {
	char *path;
	pthread_mutex_t update;  /* one refresh or set_password at a time; guards what follows db */
	pthread_rwlock_t lock;   /* db: lookups read it, the swap writes it */
	struct smbpasswd_db *db; /* the copy in service; NULL before the first good load */
	bool have_served, served_racy;
	struct file_key served;
	bool have_tried; /* the last failed version, not retried until it changes */
	struct file_key tried;
	int tried_errno; /* when that failure was stat()'s */
	/* status: written under update and status_lock, read under either;
	 * status_lock is never held across I/O, so that ntlmd's loop thread
	 * reads the status while a worker edits the file */
	pthread_mutex_t status_lock;
	struct ntlmd_files_status status;
	bool has_domain_sid; /* domain_sid of ntlmd.conf: the accounts' SIDs (Samba's algorithmic RIDs) */
	struct ntlmd_sid domain_sid;
};

static struct file_key key_of(const struct stat *st)
{
	return (struct file_key){st->st_dev, st->st_ino, st->st_size, st->st_mtim, st->st_mode};
}

static bool key_equal(const struct file_key *a, const struct file_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->mode == b->mode;
}

/* Records a failed attempt. */
static void failed(struct files_store *fs, enum ntlm_status error, size_t line, const char *reason)
{
	struct ntlmd_files_status *s = &fs->status;
	size_t n;

	pthread_mutex_lock(&fs->status_lock);
	s->error = error;
	s->error_line = line;
	s->failures++;
	n = (size_t)snprintf(s->reason, sizeof(s->reason), "%s: %s", fs->path, reason);
	if (n < sizeof(s->reason))
		snprintf(s->reason + n, sizeof(s->reason) - n, "; %s",
		         fs->db ? "serving the last good copy" : "no copy in service");
	pthread_mutex_unlock(&fs->status_lock);
}

/* Puts a new copy in service. */
static void swap_in(struct files_store *fs, struct smbpasswd_db *db, const struct file_key *key,
                    const struct timespec *load_start)
{
	struct smbpasswd_db *old;

	pthread_rwlock_wrlock(&fs->lock);
	old = fs->db;
	fs->db = db;
	pthread_rwlock_unlock(&fs->lock);
	smbpasswd_db_free(old);
	fs->have_served = true;
	fs->served = *key;
	fs->served_racy = load_start->tv_sec - key->mtime.tv_sec < RACY_SECONDS;
	fs->have_tried = false;
	pthread_mutex_lock(&fs->status_lock);
	fs->status.loaded = true;
	fs->status.users = smbpasswd_db_count(db);
	fs->status.loaded_at = load_start->tv_sec;
	fs->status.loads++;
	fs->status.error = NTLM_OK;
	fs->status.error_line = 0;
	fs->status.reason[0] = '\0';
	pthread_mutex_unlock(&fs->status_lock);
}

/* Whether the version key needs loading. */
static bool needs_load(const struct files_store *fs, const struct file_key *key, const struct timespec *now)
{
	if (fs->have_served && key_equal(key, &fs->served))
		return fs->served_racy && now->tv_sec - key->mtime.tv_sec >= RACY_SECONDS;
	return !(fs->have_tried && fs->tried_errno == 0 && key_equal(key, &fs->tried));
}

/* One attempt at the current version; false when the file changed while
 * it was read (try again). Called with fs->update held. */
static bool try_load(struct files_store *fs)
{
	struct smbpasswd_db *db = NULL;
	struct timespec now;
	struct file_key key;
	struct stat st;
	const char *reason = "malformed";
	size_t bad_line = 0;
	enum ntlm_status status;
	char msg[128];

	clock_gettime(CLOCK_REALTIME, &now);
	if (stat(fs->path, &st) < 0) {
		if (!(fs->have_tried && fs->tried_errno == errno)) {
			fs->have_tried = true;
			fs->tried_errno = errno;
			snprintf(msg, sizeof(msg), "cannot stat the hash file: %s", strerror(errno));
			failed(fs, NTLM_ERR_BACKEND_UNAVAILABLE, 0, msg);
		}
		return true;
	}
	key = key_of(&st);
	if (!needs_load(fs, &key, &now))
		return true;
	/* a load now is out of the racy window: whatever it finds is final */
	if (fs->have_served && key_equal(&key, &fs->served))
		fs->served_racy = false;
	fs->have_tried = true;
	fs->tried_errno = 0;
	fs->tried = key;
	if (!S_ISREG(st.st_mode)) {
		failed(fs, NTLM_ERR_BACKEND_UNAVAILABLE, 0, "not a regular file");
		return true;
	}
	if (st.st_mode & 007) {
		snprintf(msg, sizeof(msg),
		         "readable or writable by others (mode %04o): not loaded; chmod o-rwx it",
		         (unsigned)(st.st_mode & 07777));
		failed(fs, NTLM_ERR_BACKEND_UNAVAILABLE, 0, msg);
		return true;
	}
	status = smbpasswd_db_load(fs->path, &db, &bad_line, &reason);
	if (status == NTLM_OK) {
		struct stat after;
		struct file_key key2 = {0};
		if (stat(fs->path, &after) == 0)
			key2 = key_of(&after);
		if (!key_equal(&key, &key2)) { /* changed while read: never serve a mix */
			smbpasswd_db_free(db);
			fs->have_tried = false;
			return false;
		}
		swap_in(fs, db, &key, &now);
		return true;
	}
	if (status == NTLM_ERR_BAD_ENCODING)
		snprintf(msg, sizeof(msg), "line %zu: %s", bad_line, reason);
	else
		snprintf(msg, sizeof(msg), "%s",
		         status == NTLM_ERR_NO_MEMORY ? "out of memory" : "cannot read the file");
	failed(fs, status, status == NTLM_ERR_BAD_ENCODING ? bad_line : 0, msg);
	return true;
}

static void refresh_locked(struct files_store *fs)
{
	for (int i = 0; i < LOAD_ATTEMPTS; i++)
		if (try_load(fs))
			return;
	failed(fs, NTLM_ERR_BACKEND_UNAVAILABLE, 0, "the file kept changing while it was read");
}

/* Called once a second by ntlmd's loop thread, which must not wait for a
 * worker's edit of the file: while one runs, this tick is skipped (the
 * edit reloads the file when it is done). */
static void files_refresh(void *state)
{
	struct files_store *fs = state;

	if (fs == NULL || pthread_mutex_trylock(&fs->update) != 0)
		return;
	refresh_locked(fs);
	pthread_mutex_unlock(&fs->update);
}

static void files_close(void *state)
{
	struct files_store *fs = state;

	if (fs == NULL)
		return;
	smbpasswd_db_free(fs->db);
	pthread_rwlock_destroy(&fs->lock);
	pthread_mutex_destroy(&fs->update);
	pthread_mutex_destroy(&fs->status_lock);
	free(fs->path);
	free(fs);
}

enum ntlm_status ntlmd_files_open(const char *path, void **ret_state, struct ntlmd_config_error *err)
{
	struct files_store *fs;
	struct stat st;

	if (path == NULL || path[0] == '\0' || ret_state == NULL) {
		if (err != NULL)
			*err = (struct ntlmd_config_error){0, "files backend: no hash_file"};
		return NTLM_ERR_INVALID_ARGUMENT;
	}
	if (stat(path, &st) == 0 && (!S_ISREG(st.st_mode) || (st.st_mode & 007))) {
		if (err != NULL) {
			err->line = 0;
			if (!S_ISREG(st.st_mode))
				snprintf(err->reason, sizeof(err->reason),
				         "hash file %s is not a regular file", path);
			else
				snprintf(err->reason, sizeof(err->reason),
				         "hash file %s is readable or writable by others (mode %04o): chmod "
				         "o-rwx it",
				         path, (unsigned)(st.st_mode & 07777));
		}
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	}
	fs = calloc(1, sizeof(*fs));
	if (fs == NULL || (fs->path = strdup(path)) == NULL) {
		free(fs);
		return NTLM_ERR_NO_MEMORY;
	}
	pthread_mutex_init(&fs->update, NULL);
	pthread_mutex_init(&fs->status_lock, NULL);
	pthread_rwlock_init(&fs->lock, NULL);
	fs->status.loaded_at = -1;
	refresh_locked(fs); /* a missing or bad file is reported in the status */
	*ret_state = fs;
	return NTLM_OK;
}

enum ntlm_status ntlmd_files_set_domain_sid(void *state, const char *sid)
{
	struct files_store *fs = state;
	struct ntlmd_sid parsed;

	if (fs == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (sid == NULL) {
		fs->has_domain_sid = false;
		return NTLM_OK;
	}
	if (ntlmd_sid_parse(sid, &parsed, NULL) != NTLM_OK || !ntlmd_sid_is_domain(&parsed))
		return NTLM_ERR_INVALID_ARGUMENT;
	fs->domain_sid = parsed;
	fs->has_domain_sid = true;
	return NTLM_OK;
}

enum ntlm_status ntlmd_files_open_config(const struct ntlmd_config *cfg, void **ret_state,
                                         struct ntlmd_config_error *err)
{
	enum ntlm_status st;

	if (cfg == NULL || ret_state == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	st = ntlmd_files_open(cfg->hash_file ? cfg->hash_file : NTLMD_DEFAULT_HASH_FILE, ret_state, err);
	if (st == NTLM_OK && (st = ntlmd_files_set_domain_sid(*ret_state, cfg->domain_sid)) != NTLM_OK) {
		files_close(*ret_state);
		*ret_state = NULL;
		if (err != NULL)
			*err =
			    (struct ntlmd_config_error){0, "files backend: domain_sid is not a domain SID"};
	}
	return st;
}

/* The account an entry describes; files know no expiry, hours or workstations,
 * and leave the domain to the chain (netbios_domain). */
enum ntlm_status ntlmd_files_entry_account(const struct smbpasswd_entry *e, struct ntlmd_account *ret)
{
	struct ntlmd_account a = {
	    .uid = e->uid,
	    .has_uid = true,
	    .has_nt = e->has_nt,
	    .nt_hash = e->nt,
	    .has_lm = e->has_lm,
	    .lm_hash = e->lm,
	    .null_password = !e->has_nt && smbpasswd_entry_has_flag(e, 'N'),
	    .pwd_last_set = e->last_change,
	    .pwd_must_change = -1,
	    .kickoff_time = -1,
	};

	_Static_assert(sizeof(a.flags) == sizeof(e->flags), "flag fields differ");
	memcpy(a.flags, e->flags, sizeof(a.flags));
	a.name = strdup(e->user);
	a.key = ntlmd_account_key("files", e->user);
	if (a.name == NULL || a.key == NULL) {
		ntlmd_account_clear(&a);
		return NTLM_ERR_NO_MEMORY;
	}
	*ret = a;
	ntlm_wipe(&a, sizeof(a));
	return NTLM_OK;
}

/* The account's SID: the domain SID and the RID 2 * uid + 1000 (Samba's
 * algorithmic mapping); none without domain_sid or for a uid too large. */
static enum ntlm_status account_sid(const struct files_store *fs, uint32_t uid, struct ntlmd_account *a)
{
	struct ntlmd_sid sid;
	char text[NTLMD_SID_TEXT_MAX];
	uint32_t rid;

	if (!fs->has_domain_sid || !ntlmd_uid_to_rid(uid, &rid) ||
	    !ntlmd_sid_compose(&fs->domain_sid, rid, &sid) || !ntlmd_sid_format(&sid, text, sizeof(text)))
		return NTLM_OK;
	a->sid = strdup(text);
	return a->sid != NULL ? NTLM_OK : NTLM_ERR_NO_MEMORY;
}

static enum ntlm_status files_lookup(void *state, const char *user, const char *domain,
                                     struct ntlmd_account *ret)
{
	struct files_store *fs = state;
	const struct smbpasswd_entry *e;
	enum ntlm_status st;

	(void)domain; /* a files store has one domain: the accepted_domains policy decides */
	if (fs == NULL || user == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	pthread_rwlock_rdlock(&fs->lock);
	if (fs->db == NULL)
		st = NTLM_ERR_BACKEND_UNAVAILABLE;
	else if ((e = smbpasswd_db_find(fs->db, user)) == NULL)
		st = NTLM_STATUS_NO_SUCH_USER;
	else if ((st = ntlmd_files_entry_account(e, ret)) == NTLM_OK &&
	         (st = account_sid(fs, e->uid, ret)) != NTLM_OK)
		ntlmd_account_clear(ret);
	pthread_rwlock_unlock(&fs->lock);
	return st;
}

/* ------------------------------------------------------------------ */
/* Membership by SID                                                   */

/* Whether gid maps to rid (2 * gid + 1001). */
static bool gid_has_rid(gid_t gid, uint32_t rid)
{
	uint32_t r;

	return ntlmd_gid_to_rid((uint32_t)gid, &r) && r == rid;
}

/* Whether the system account of uid (or else of name) has a group whose
 * RID is rid: its primary group or one getgrouplist(3) gives. */
static bool system_group_has_rid(uint32_t uid, const char *name, uint32_t rid)
{
	struct passwd pw, *found = NULL;
	char buf[16384];
	gid_t *groups = NULL;
	int n = 64;
	bool member = false;

	if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &found) != 0 || found == NULL)
		if (getpwnam_r(name, &pw, buf, sizeof(buf), &found) != 0 || found == NULL)
			return false;
	if (gid_has_rid(pw.pw_gid, rid))
		return true;
	for (int tries = 0; tries < 4; tries++) {
		gid_t *more = realloc(groups, (size_t)n * sizeof(*groups));
		int got = n;

		if (more == NULL)
			break;
		groups = more;
		if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &got) >= 0) {
			for (int i = 0; i < got && !member; i++)
				member = gid_has_rid(groups[i], rid);
			break;
		}
		n = got > n ? got : n * 2;
	}
	free(groups);
	return member;
}

/*
 * A group given as a SID of the domain_sid domain (ntlm_auth
 * --require-membership-of=S-1-5-21-...), for this store's own accounts:
 * the account is a member of its own SID (RID 2 * uid + 1000) and of the
 * SIDs of its system groups (RID 2 * gid + 1001: the primary group and
 * getgrouplist's), which is what winbindd's check_info3_in_group would
 * see of a Samba smbpasswd account. Group names, SIDs of other domains
 * and other stores' accounts: NO_SUCH_GROUP, for the next store.
 */
static enum ntlm_status files_group_member(void *state, const char *group, const char *user, const char *key,
                                           bool *ret_member)
{
	struct files_store *fs = state;
	const struct smbpasswd_entry *e;
	struct ntlmd_sid sid;
	uint32_t rid = 0, user_rid = 0, uid = 0;
	char *own_key = NULL, *name = NULL;
	enum ntlm_status st = NTLM_STATUS_NO_SUCH_GROUP;

	if (fs == NULL || group == NULL || user == NULL || ret_member == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (!fs->has_domain_sid || !ntlmd_sid_looks_like(group) ||
	    ntlmd_sid_parse(group, &sid, NULL) != NTLM_OK ||
	    !ntlmd_sid_split_rid(&sid, &fs->domain_sid, &rid))
		return NTLM_STATUS_NO_SUCH_GROUP;
	pthread_rwlock_rdlock(&fs->lock);
	if (fs->db == NULL)
		st = NTLM_ERR_BACKEND_UNAVAILABLE;
	else if ((e = smbpasswd_db_find(fs->db, user)) != NULL) {
		own_key = ntlmd_account_key("files", e->user);
		name = strdup(e->user);
		uid = e->uid;
		st = own_key != NULL && name != NULL ? NTLM_OK : NTLM_ERR_NO_MEMORY;
	}
	pthread_rwlock_unlock(&fs->lock);
	if (st != NTLM_OK)
		goto out;
	if (key != NULL && strcmp(key, own_key) != 0) {
		st = NTLM_STATUS_NO_SUCH_GROUP; /* another store's account of that name */
		goto out;
	}
	*ret_member =
	    (ntlmd_uid_to_rid(uid, &user_rid) && user_rid == rid) || system_group_has_rid(uid, name, rid);
out:
	free(own_key);
	free(name);
	return st;
}

enum ntlm_status ntlmd_db_lookup(void *ctx, const char *user, const char *domain,
                                 struct ntlm_credentials *ret)
{
	const struct ntlmd_db_lookup *l = ctx;
	const struct smbpasswd_entry *e = smbpasswd_db_find(l->db, user);
	struct ntlmd_account a = {0};
	enum ntlm_status st;

	(void)domain; /* as the files store: the caller's accepted_domains decides */
	if (e == NULL)
		return NTLM_STATUS_NO_SUCH_USER;
	if ((st = ntlmd_files_entry_account(e, &a)) == NTLM_OK)
		st = ntlmd_account_credentials(&a, &l->logon, ret);
	ntlmd_account_clear(&a);
	return st;
}

/* Applies one edit to the file under the update lock, then reloads it. */
static enum ntlm_status apply_edit(struct files_store *fs, const struct smbpasswd_edit *edit)
{
	const char *reason = NULL;
	enum ntlm_status st;

	pthread_mutex_lock(&fs->update);
	st = smbpasswd_file_edit(fs->path, edit, &reason);
	pthread_mutex_lock(&fs->status_lock);
	fs->status.edit_error = st == NTLM_OK ? NULL : reason;
	pthread_mutex_unlock(&fs->status_lock);
	if (st == NTLM_OK)
		refresh_locked(fs);
	pthread_mutex_unlock(&fs->update);
	return st;
}

static enum ntlm_status files_set_password(void *state, const char *user, const struct ntlm_hash *nt_hash,
                                           int64_t now)
{
	struct smbpasswd_edit edit = {.op = SMBPASSWD_SET_HASH, .user = user, .nt = nt_hash, .now = now};

	if (state == NULL || user == NULL || nt_hash == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	return apply_edit(state, &edit);
}

/* SMBPASSWD_ADD: a new line with the NT hash, no LM hash, flag U. */
static enum ntlm_status files_add_user(void *state, const char *user, uint32_t uid,
                                       const struct ntlm_hash *nt_hash, int64_t now)
{
	struct smbpasswd_edit edit = {
	    .op = SMBPASSWD_ADD, .user = user, .uid = uid, .nt = nt_hash, .add_flags = "U", .now = now};

	if (state == NULL || user == NULL || nt_hash == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	return apply_edit(state, &edit);
}

void ntlmd_files_get_status(void *state, struct ntlmd_files_status *ret)
{
	struct files_store *fs = state;

	if (fs == NULL || ret == NULL)
		return;
	pthread_mutex_lock(&fs->status_lock);
	*ret = fs->status;
	pthread_mutex_unlock(&fs->status_lock);
}

const char *ntlmd_files_last_error(void *state, size_t *ret_line)
{
	struct files_store *fs = state;

	if (fs == NULL || fs->status.error == NTLM_OK)
		return NULL;
	if (ret_line != NULL)
		*ret_line = fs->status.error_line;
	return fs->status.reason;
}

const struct ntlmd_backend ntlmd_backend_files = {
    .name = "files",
    .config = {.name = "files"}, /* hash_file and domain_sid are ntlmd.conf's own keys */
    .open = ntlmd_files_open_config,
    .lookup = files_lookup,
    .set_password = files_set_password,
    .add_user = files_add_user,
    .refresh = files_refresh,
    .close = files_close,
    .group_member = files_group_member,
};
