/*
 * smbpasswd.c: parser and in-memory index for smbpasswd-format files.
 */
#include <config.h>

#include "smbpasswd.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SMBPASSWD_MAX_FILE (512u * 1024u * 1024u)

/* A field of a line: [start, start + len). */
struct field {
	const char *start;
	size_t len;
};

/* Splits line at ':' into at most max fields; returns the count. */
static size_t split_fields(const char *line, size_t len, struct field *fields, size_t max)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len && n < max; i++) {
		if (i == len || line[i] == ':') {
			fields[n].start = line + start;
			fields[n].len = i - start;
			n++;
			start = i + 1;
		}
	}
	return n;
}

/* True when all len bytes of p are c. */
static bool all_chars(const char *p, size_t len, char c)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != c)
			return false;
	return true;
}

enum hash_kind { HASH_PRESENT, HASH_ABSENT, HASH_NULL_PASSWORD, HASH_BAD };

/* Decodes a 32-character hash field. */
static enum hash_kind parse_hash(const struct field *f, struct ntlm_hash *ret)
{
	static const char null_prefix[] = "NO PASSWORD";
	struct ntlm_hash h;

	if (f->len != 2 * NTLM_HASH_LEN)
		return HASH_BAD;
	if (all_chars(f->start, f->len, 'X') || all_chars(f->start, f->len, '*'))
		return HASH_ABSENT;
	if (memcmp(f->start, null_prefix, sizeof(null_prefix) - 1) == 0) /* not secret: a fixed marker */
		return HASH_NULL_PASSWORD;
	if (ntlm_hex_to_bytes(f->start, f->len, h.bytes, sizeof(h.bytes)) != NTLM_OK)
		return HASH_BAD;
	*ret = h;
	ntlm_wipe(&h, sizeof(h));
	return HASH_PRESENT;
}

/* "[UDX        ]" -> "UDX" */
static bool parse_flags(const struct field *f, char ret[SMBPASSWD_MAX_FLAGS + 1])
{
	size_t n = 0;

	if (f->len < 2 || f->start[0] != '[' || f->start[f->len - 1] != ']')
		return false;
	for (size_t i = 1; i + 1 < f->len; i++) {
		char c = f->start[i];
		if (c == ' ')
			continue;
		if (!strchr("UDHTMNWSILX", c) || n >= SMBPASSWD_MAX_FLAGS)
			return false;
		ret[n++] = c;
	}
	ret[n] = '\0';
	return true;
}

/* A decimal uid of at most 10 digits that fits 32 bits. */
static bool parse_uid(const struct field *f, uint32_t *ret)
{
	uint64_t v = 0;

	if (f->len == 0 || f->len > 10)
		return false;
	for (size_t i = 0; i < f->len; i++) {
		if (f->start[i] < '0' || f->start[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(f->start[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/* "LCT-5F3A1B2C" -> seconds */
static bool parse_lct(const struct field *f, int64_t *ret)
{
	int64_t v = 0;

	if (f->len < 5 || f->len > 4 + 16 || memcmp(f->start, "LCT-", 4) != 0) /* not secret */
		return false;
	for (size_t i = 4; i < f->len; i++) {
		int d = ntlm_hex_digit(f->start[i]);
		if (d < 0 || v > (INT64_MAX >> 4))
			return false;
		v = v << 4 | d;
	}
	*ret = v;
	return true;
}

/* A user name: non-empty, no control characters. */
static bool valid_user(const struct field *f)
{
	if (f->len == 0 || f->len > 256)
		return false;
	for (size_t i = 0; i < f->len; i++)
		if ((unsigned char)f->start[i] < 0x20 || f->start[i] == 0x7f)
			return false;
	return true;
}

/* Parses every field of a line but the user name, which it returns as a
 * field: the loader keeps names in one block, smbpasswd_parse_line copies
 * it. On error *ret_reason is a phrase that never quotes field contents. */
static bool parse_line_fields(const char *line, size_t len, struct smbpasswd_entry *ret,
                              struct field *ret_user, const char **ret_reason)
{
	struct field f[7];
	struct smbpasswd_entry e = {.last_change = -1};
	const char *reason = NULL;
	enum hash_kind kind;
	size_t n;

	if (len > SMBPASSWD_MAX_LINE) {
		reason = "line too long";
		goto out;
	}
	n = split_fields(line, len, f, 7);
	if (n < 5) {
		reason = "fewer than 5 ':'-separated fields";
		goto out;
	}
	if (!valid_user(&f[0])) {
		reason = "bad user name";
		goto out;
	}
	if (!parse_uid(&f[1], &e.uid)) {
		reason = "bad uid";
		goto out;
	}
	kind = parse_hash(&f[2], &e.lm);
	if (kind == HASH_BAD) {
		reason = "LM hash is not 32 hex digits or X";
		goto out;
	}
	e.has_lm = kind == HASH_PRESENT;
	kind = parse_hash(&f[3], &e.nt);
	if (kind == HASH_BAD) {
		reason = "NT hash is not 32 hex digits or X";
		goto out;
	}
	e.has_nt = kind == HASH_PRESENT;
	e.null_password = kind == HASH_NULL_PASSWORD;
	if (!parse_flags(&f[4], e.flags)) {
		reason = "bad account flags field";
		goto out;
	}
	if (n >= 6 && f[5].len > 0 && !parse_lct(&f[5], &e.last_change)) {
		reason = "bad LCT field";
		goto out;
	}
	*ret = e;
	*ret_user = f[0];
out:
	ntlm_wipe(&e, sizeof(e));
	if (reason != NULL && ret_reason != NULL)
		*ret_reason = reason;
	return reason == NULL;
}

enum ntlm_status smbpasswd_parse_line(const char *line, size_t len, struct smbpasswd_entry *ret,
                                      const char **ret_reason)
{
	struct smbpasswd_entry e;
	struct field user;

	if (line == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (!parse_line_fields(line, len, &e, &user, ret_reason))
		return NTLM_ERR_BAD_ENCODING;
	e.user = strndup(user.start, user.len);
	if (e.user == NULL) {
		ntlm_wipe(&e, sizeof(e));
		return NTLM_ERR_NO_MEMORY;
	}
	*ret = e;
	ntlm_wipe(&e, sizeof(e));
	return NTLM_OK;
}

void smbpasswd_entry_clear(struct smbpasswd_entry *e)
{
	if (e == NULL)
		return;
	free(e->user);
	ntlm_wipe(e, sizeof(*e));
}

bool smbpasswd_entry_has_flag(const struct smbpasswd_entry *e, char letter)
{
	return e != NULL && letter != '\0' && strchr(e->flags, letter) != NULL;
}

/* ---- lines ---- */

/* The line of buf that starts at *pos, without its "\n" or "\r\n"; moves
 * *pos past the terminator. False at the end of buf. */
static bool next_line(const char *buf, size_t len, size_t *pos, const char **ret_line, size_t *ret_len)
{
	const char *nl;
	size_t end, llen;

	if (*pos >= len)
		return false;
	nl = memchr(buf + *pos, '\n', len - *pos);
	end = nl ? (size_t)(nl - buf) : len;
	llen = end - *pos;
	if (llen > 0 && buf[*pos + llen - 1] == '\r')
		llen--;
	*ret_line = buf + *pos;
	*ret_len = llen;
	*pos = nl ? end + 1 : len;
	return true;
}

/* Lines that are neither blank nor comments hold entries. */
static bool is_entry_line(const char *line, size_t len)
{
	return len > 0 && line[0] != '#';
}

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* ASCII case-insensitive equality of a[0..alen) (up to a NUL: alen may be
 * SIZE_MAX) and the string b. */
static bool name_equal_n(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen && a[i] != '\0'; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return false;
	return b[i] == '\0';
}

/* ---- the index ---- */

struct smbpasswd_db {
	struct smbpasswd_entry *entries; /* each user points into names */
	size_t count;
	char *names; /* every user name, NUL-terminated, one after the other */
	/* Open addressing. A slot is 0 (empty) or the entry index + 1 in its
	 * low index_bits bits and, above them, a tag from the name's hash, so
	 * that a probe rarely has to read an entry that is not the one. */
	uint32_t *slots;
	size_t nslots; /* a power of two, >= 2 * the entries' capacity */
	unsigned index_bits;
};

/* FNV-1a over the ASCII-lower-cased name. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (; *s; s++)
		h = (h ^ ascii_lower((unsigned char)*s)) * 0x100000001b3u;
	return h;
}

static uint32_t index_mask(const struct smbpasswd_db *db)
{
	return (uint32_t)((1ull << db->index_bits) - 1);
}

/* The entry of a full slot. */
static struct smbpasswd_entry *slot_entry(const struct smbpasswd_db *db, uint32_t v)
{
	return &db->entries[(v & index_mask(db)) - 1];
}

/* Index of the slot holding user, or of the empty slot where it goes;
 * *ret_tag is the tag user's slot carries. */
static size_t find_slot(const struct smbpasswd_db *db, const char *user, uint32_t *ret_tag)
{
	uint64_t h = name_hash(user);
	uint32_t tag = (uint32_t)(h >> 32) & ~index_mask(db);
	size_t mask = db->nslots - 1, i = (size_t)h & mask;

	for (; db->slots[i] != 0; i = (i + 1) & mask) {
		uint32_t v = db->slots[i];
		if ((v & ~index_mask(db)) == tag && name_equal_n(slot_entry(db, v)->user, SIZE_MAX, user))
			break;
	}
	*ret_tag = tag;
	return i;
}

/* Reads the whole of fd into a malloc'd, NUL-terminated buffer. */
static enum ntlm_status read_fd(int fd, char **ret, size_t *ret_len)
{
	struct stat st;
	char *buf;
	size_t len = 0;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > SMBPASSWD_MAX_FILE)
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		return NTLM_ERR_NO_MEMORY;
	while (len < (size_t)st.st_size) {
		ssize_t got = read(fd, buf + len, (size_t)st.st_size - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ntlm_wipe(buf, len);
			free(buf);
			return NTLM_ERR_BACKEND_UNAVAILABLE;
		}
		if (got == 0)
			break; /* the file shrank: the caller sees what there is */
		len += (size_t)got;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return NTLM_OK;
}

/*
 * Parses every line of buf into db->entries (sized for every entry line)
 * and indexes it in the same pass. The names are moved to the front of buf
 * as they are met (a name never lies after its own line), the rest of buf,
 * which held the hashes, is wiped, and buf becomes db->names: no allocation
 * per user.
 */
static enum ntlm_status parse_lines(struct smbpasswd_db *db, char *buf, size_t len, size_t *ret_bad_line,
                                    const char **ret_reason)
{
	size_t lineno = 0, pos = 0, w = 0, llen;
	const char *line;
	char *names;

	while (next_line(buf, len, &pos, &line, &llen)) {
		struct smbpasswd_entry *e = &db->entries[db->count];
		struct field user;
		uint32_t tag;
		size_t slot;

		lineno++;
		if (!is_entry_line(line, llen))
			continue;
		if (!parse_line_fields(line, llen, e, &user, ret_reason)) {
			if (ret_bad_line != NULL)
				*ret_bad_line = lineno;
			return NTLM_ERR_BAD_ENCODING;
		}
		memmove(buf + w, user.start, user.len);
		buf[w + user.len] = '\0';
		e->user = buf + w;
		w += user.len + 1;
		slot = find_slot(db, e->user, &tag);
		if (db->slots[slot] == 0) /* the first line for a name wins, as in Samba */
			db->slots[slot] = tag | (uint32_t)(db->count + 1);
		db->count++;
	}
	ntlm_wipe(buf + w, len - w);
	names = realloc(buf, w + 1); /* shrinks: the hash text is gone already */
	if (names == NULL)
		names = buf;
	db->names = names;
	for (size_t i = 0, off = 0; i < db->count; i++) {
		db->entries[i].user = names + off;
		off += strlen(names + off) + 1;
	}
	return NTLM_OK;
}

enum ntlm_status smbpasswd_db_load(const char *path, struct smbpasswd_db **ret, size_t *ret_bad_line,
                                   const char **ret_reason)
{
	struct smbpasswd_db *db = NULL;
	char *buf = NULL;
	size_t len = 0, lines = 0, pos = 0, llen, nslots = 16;
	unsigned index_bits = 1;
	const char *line;
	enum ntlm_status st;
	int fd;

	if (path == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	st = read_fd(fd, &buf, &len);
	close(fd);
	if (st != NTLM_OK)
		return st;
	while (next_line(buf, len, &pos, &line, &llen))
		lines += is_entry_line(line, llen);
	while (nslots < 2 * lines)
		nslots *= 2;
	/* lines < 2^31: an entry line has at least 70 bytes, the file at most 512 MiB */
	while (index_bits < 31 && (1ull << index_bits) <= lines)
		index_bits++;
	db = calloc(1, sizeof(*db));
	if (db == NULL || (db->entries = calloc(lines ? lines : 1, sizeof(*db->entries))) == NULL ||
	    (db->slots = calloc(nslots, sizeof(*db->slots))) == NULL) {
		st = NTLM_ERR_NO_MEMORY;
		goto out;
	}
	db->nslots = nslots;
	db->index_bits = index_bits;
	st = parse_lines(db, buf, len, ret_bad_line, ret_reason);
	if (st == NTLM_OK) {
		buf = NULL; /* db->names now */
		*ret = db;
		db = NULL;
	}
out:
	smbpasswd_db_free(db);
	ntlm_free_wiped(buf, len);
	return st;
}

const struct smbpasswd_entry *smbpasswd_db_find(const struct smbpasswd_db *db, const char *user)
{
	uint32_t tag;
	size_t s;

	if (db == NULL || user == NULL || db->nslots == 0)
		return NULL;
	s = find_slot(db, user, &tag);
	return db->slots[s] ? slot_entry(db, db->slots[s]) : NULL;
}

const struct smbpasswd_entry *smbpasswd_db_entry(const struct smbpasswd_db *db, size_t i)
{
	return db != NULL && i < db->count ? &db->entries[i] : NULL;
}

size_t smbpasswd_db_count(const struct smbpasswd_db *db)
{
	return db ? db->count : 0;
}

void smbpasswd_db_free(struct smbpasswd_db *db)
{
	if (db == NULL)
		return;
	if (db->entries != NULL)
		ntlm_wipe(db->entries, db->count * sizeof(*db->entries));
	free(db->entries);
	free(db->names);
	free(db->slots);
	free(db);
}

/* ---- writing ---- */

/* The flag letters in the order Samba writes them (pdb_encode_acct_ctrl). */
static const char flag_order[] = "NDHTUMWSLXI";
/* Letters and padding between the brackets: Samba's field is
 * NEW_PW_FORMAT_SPACE_PADDED_LEN (14) with the brackets and the NUL. */
#define FLAG_FIELD_WIDTH 11
/* How long smbpasswd_file_edit waits for the lock. */
#define EDIT_LOCK_WAIT_MS 5000

static bool valid_flag_letters(const char *letters)
{
	for (; letters != NULL && *letters; letters++)
		if (!strchr(flag_order, *letters))
			return false;
	return true;
}

/* Writes a hash field: upper-case hex, or Samba's marker for no hash. */
static char *put_hash(char *p, bool present, const struct ntlm_hash *h, bool no_password)
{
	static const char hex[] = "0123456789ABCDEF";

	if (present) {
		for (size_t i = 0; i < NTLM_HASH_LEN; i++) {
			p[2 * i] = hex[h->bytes[i] >> 4];
			p[2 * i + 1] = hex[h->bytes[i] & 15];
		}
	} else if (no_password) {
		memcpy(p, "NO PASSWORDXXXXXXXXXXXXXXXXXXXXX", 2 * NTLM_HASH_LEN);
	} else {
		memset(p, 'X', 2 * NTLM_HASH_LEN);
	}
	p[2 * NTLM_HASH_LEN] = ':';
	return p + 2 * NTLM_HASH_LEN + 1;
}

char *smbpasswd_format_line(const struct smbpasswd_entry *e)
{
	/* name, ':', uid, ':', two hashes with ':', [flags]:, LCT-16 hex digits:, "\n" */
	size_t ulen, cap, n = 0;
	struct field user;
	bool no_password;
	char *line, *p;

	if (e == NULL || e->user == NULL || !memchr(e->flags, '\0', sizeof(e->flags)) ||
	    !valid_flag_letters(e->flags))
		return NULL;
	ulen = strlen(e->user);
	user = (struct field){e->user, ulen};
	if (!valid_user(&user) || memchr(e->user, ':', ulen) || e->user[0] == '#')
		return NULL;
	cap = ulen + 12 + 2 * (2 * NTLM_HASH_LEN + 1) + FLAG_FIELD_WIDTH + 3 + 4 + 16 + 1 + 2;
	line = malloc(cap);
	if (line == NULL)
		return NULL;
	memcpy(line, e->user, ulen);
	p = line + ulen;
	p += snprintf(p, cap - (size_t)(p - line), ":%" PRIu32 ":", e->uid);
	/* Samba writes "NO PASSWORD" for a missing hash of an N account */
	no_password = strchr(e->flags, 'N') != NULL;
	p = put_hash(p, e->has_lm, &e->lm, no_password);
	p = put_hash(p, e->has_nt, &e->nt, no_password);
	*p++ = '[';
	for (const char *f = flag_order; *f; f++)
		if (strchr(e->flags, *f))
			p[n++] = *f;
	memset(p + n, ' ', FLAG_FIELD_WIDTH - n);
	p += FLAG_FIELD_WIDTH;
	*p++ = ']';
	*p++ = ':';
	/* Samba: "LCT-%08X:"; an unknown time is left out rather than written
	 * as 0, which would mean "must change" */
	if (e->last_change >= 0)
		p += snprintf(p, cap - (size_t)(p - line), "LCT-%08" PRIX64 ":", (uint64_t)e->last_change);
	*p++ = '\n';
	*p = '\0';
	return line;
}

static void set_reason(const char **ret_reason, const char *reason)
{
	if (ret_reason != NULL)
		*ret_reason = reason;
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Takes a write lock on the whole of fd, waiting until start + 5 s. An
 * open-file-description lock, so that closing another descriptor of the
 * file in this process does not drop it and threads exclude each other;
 * it conflicts with the classic fcntl locks that Samba's tools take. */
static enum ntlm_status lock_fd(int fd, const struct timespec *start, const char **ret_reason)
{
	long delay_ms = 1;

	for (;;) {
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		int rc = fcntl(fd, F_OFD_SETLK, &fl);

		if (rc < 0 && errno == EINVAL)
			rc = fcntl(fd, F_SETLK, &fl); /* a kernel without OFD locks */
		if (rc == 0)
			return NTLM_OK;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR) {
			set_reason(ret_reason, "cannot lock the file");
			return NTLM_ERR_BACKEND_UNAVAILABLE;
		}
		if (elapsed_ms(start) >= EDIT_LOCK_WAIT_MS) {
			set_reason(ret_reason, "the file stayed locked by another editor for 5 s");
			return NTLM_ERR_BACKEND_UNAVAILABLE;
		}
		nanosleep(&(struct timespec){0, delay_ms * 1000000}, NULL);
		if (delay_ms < 50)
			delay_ms *= 2;
	}
}

/*
 * Opens path for update and locks it. An editor that waited for the lock
 * may find that the one before it renamed a new file over the one it
 * holds: it then starts again on the new file. create (for ADD) makes a
 * missing file; *ret_created says so.
 */
static enum ntlm_status open_locked(const char *path, bool create, int *ret_fd, struct stat *ret_st,
                                    bool *ret_created, const char **ret_reason)
{
	const int flags = O_RDWR | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW;
	struct timespec start;
	enum ntlm_status st;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct stat fst, pst;
		bool created = false;
		int fd = open(path, flags);

		if (fd < 0 && errno == ENOENT && create) {
			fd = open(path, flags | O_CREAT | O_EXCL, 0600);
			if (fd < 0 && errno == EEXIST)
				continue;
			created = fd >= 0;
		}
		if (fd < 0) {
			if (errno == ENOENT) {
				set_reason(ret_reason, "the file does not exist");
				return NTLM_STATUS_NO_SUCH_USER;
			}
			set_reason(ret_reason, errno == ELOOP ? "the file is a symbolic link: edit its target"
			                                      : "cannot open the file for writing");
			return NTLM_ERR_BACKEND_UNAVAILABLE;
		}
		if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode)) {
			close(fd);
			set_reason(ret_reason, "not a regular file");
			return NTLM_ERR_INVALID_ARGUMENT;
		}
		st = lock_fd(fd, &start, ret_reason);
		if (st != NTLM_OK) {
			close(fd);
			return st;
		}
		if (lstat(path, &pst) == 0 && pst.st_dev == fst.st_dev && pst.st_ino == fst.st_ino) {
			*ret_fd = fd;
			*ret_st = fst;
			*ret_created = created;
			return NTLM_OK;
		}
		close(fd); /* replaced while we waited */
		if (elapsed_ms(&start) >= EDIT_LOCK_WAIT_MS) {
			set_reason(ret_reason, "the file kept being replaced for 5 s");
			return NTLM_ERR_BACKEND_UNAVAILABLE;
		}
	}
}

/* Removes the letters of remove from flags, then adds those of add. */
static void merge_flags(char flags[SMBPASSWD_MAX_FLAGS + 1], const char *add, const char *remove)
{
	size_t n = 0;

	for (size_t i = 0; flags[i]; i++)
		if (remove == NULL || !strchr(remove, flags[i]))
			flags[n++] = flags[i];
	flags[n] = '\0';
	for (; add != NULL && *add; add++)
		if (!strchr(flags, *add) && n < SMBPASSWD_MAX_FLAGS) {
			flags[n++] = *add;
			flags[n] = '\0';
		}
}

/* Sets the hashes of e as SET_HASH and ADD do. */
static void set_hashes(struct smbpasswd_entry *e, const struct smbpasswd_edit *edit)
{
	e->has_nt = edit->nt != NULL;
	if (e->has_nt)
		e->nt = *edit->nt;
	else
		ntlm_wipe(&e->nt, sizeof(e->nt));
	e->has_lm = edit->lm != NULL;
	if (e->has_lm)
		e->lm = *edit->lm;
	else
		ntlm_wipe(&e->lm, sizeof(e->lm));
	e->null_password = false;
	if (e->has_nt) /* a password is set: no longer "no password required" (as smbpasswd does) */
		merge_flags(e->flags, NULL, "N");
	e->last_change = edit->now;
}

/* Formats the entry an edit writes for a line (NULL for ADD) of the file.
 * The result is a malloc'd line with its "\n"; it must parse back. */
static enum ntlm_status edited_line(const struct smbpasswd_edit *edit, const char *line, size_t llen,
                                    char **ret, const char **ret_reason)
{
	struct smbpasswd_entry e = {.last_change = -1};
	struct smbpasswd_entry check;
	struct field user;
	enum ntlm_status st = NTLM_OK;
	char *out = NULL;
	bool owned = false;

	if (edit->op == SMBPASSWD_ADD) {
		const char *add = edit->add_flags != NULL && *edit->add_flags ? edit->add_flags : "U";
		e.user = (char *)edit->user;
		e.uid = edit->uid;
		/* every account has a type: U unless W, S or I was asked for */
		merge_flags(e.flags, strpbrk(add, "UWSI") ? NULL : "U", NULL);
		merge_flags(e.flags, add, NULL);
		set_hashes(&e, edit);
	} else {
		st = smbpasswd_parse_line(line, llen, &e, ret_reason);
		if (st != NTLM_OK)
			goto out;
		owned = true;
		if (edit->op == SMBPASSWD_SET_HASH)
			set_hashes(&e, edit);
		else
			merge_flags(e.flags, edit->add_flags, edit->remove_flags);
	}
	out = smbpasswd_format_line(&e);
	if (out == NULL) {
		set_reason(ret_reason, "the user name cannot be written to the file");
		st = NTLM_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (!parse_line_fields(out, strlen(out) - 1, &check, &user, ret_reason)) {
		st = NTLM_ERR_INVALID_ARGUMENT;
		goto out;
	}
	ntlm_wipe(&check, sizeof(check));
	*ret = out;
	out = NULL;
out:
	if (out != NULL)
		ntlm_free_wiped(out, strlen(out));
	if (owned)
		smbpasswd_entry_clear(&e);
	ntlm_wipe(&e, sizeof(e));
	return st;
}

/* Appends n bytes to out (sized by the caller). */
static void put(char *out, size_t *pos, const char *p, size_t n)
{
	memcpy(out + *pos, p, n);
	*pos += n;
}

/*
 * The new contents of the file: every line kept byte for byte but the
 * user's (replaced with its terminator kept, or dropped by DELETE: every
 * line of the name), and the new line at the end for ADD.
 */
static enum ntlm_status apply_edit(const char *buf, size_t len, const struct smbpasswd_edit *edit, char **ret,
                                   size_t *ret_len, const char **ret_reason)
{
	size_t pos = 0, start = 0, llen, olen = 0, cap;
	char *out, *newline = NULL;
	const char *line;
	bool found = false;
	enum ntlm_status st = NTLM_OK;

	/* a replaced line is at most SMBPASSWD_MAX_LINE + 2 bytes longer */
	cap = len + SMBPASSWD_MAX_LINE + 4;
	out = malloc(cap);
	if (out == NULL)
		return NTLM_ERR_NO_MEMORY;
	for (; next_line(buf, len, &pos, &line, &llen); start = pos) {
		const char *colon = memchr(line, ':', llen);
		size_t nlen = colon ? (size_t)(colon - line) : llen;
		bool match = is_entry_line(line, llen) && name_equal_n(line, nlen, edit->user);

		if (match && edit->op == SMBPASSWD_ADD) {
			set_reason(ret_reason, "the user already exists");
			st = NTLM_ERR_INVALID_ARGUMENT;
			goto out;
		}
		if (match && edit->op == SMBPASSWD_DELETE) {
			found = true;
			continue;
		}
		if (match && !found) {
			found = true;
			st = edited_line(edit, line, llen, &newline, ret_reason);
			if (st != NTLM_OK)
				goto out;
			put(out, &olen, newline, strlen(newline) - 1);
			/* the line's own terminator: "\n", "\r\n" or none at the end */
			put(out, &olen, line + llen, pos - start - llen);
			continue;
		}
		put(out, &olen, buf + start, pos - start);
	}
	if (edit->op == SMBPASSWD_ADD) {
		st = edited_line(edit, NULL, 0, &newline, ret_reason);
		if (st != NTLM_OK)
			goto out;
		if (olen > 0 && out[olen - 1] != '\n')
			put(out, &olen, "\n", 1);
		put(out, &olen, newline, strlen(newline));
	} else if (!found) {
		set_reason(ret_reason, "no such user in the file");
		st = NTLM_STATUS_NO_SUCH_USER;
		goto out;
	}
	*ret = out;
	*ret_len = olen;
	out = NULL;
out:
	ntlm_free_wiped(out, cap);
	if (newline != NULL)
		ntlm_free_wiped(newline, strlen(newline));
	return st;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Writes data to a new file next to path with old's owner and mode (0600
 * when created), syncs it, renames it over path and syncs the directory. */
static enum ntlm_status replace_file(const char *path, const struct stat *old, bool created, const char *data,
                                     size_t len, const char **ret_reason)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	size_t dlen = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
	char *dir = NULL, *tmp = NULL;
	enum ntlm_status st = NTLM_ERR_BACKEND_UNAVAILABLE;
	struct stat tst;
	int fd = -1, dfd;

	dir = strndup(slash == NULL ? "." : path, dlen);
	tmp = malloc(dlen + strlen(base) + 10);
	if (dir == NULL || tmp == NULL) {
		st = NTLM_ERR_NO_MEMORY;
		goto out;
	}
	sprintf(tmp, "%s/.%s.XXXXXX", dir, base);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		set_reason(ret_reason, "cannot create a temporary file in the file's directory");
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fstat(fd, &tst) < 0 || (!created && (tst.st_uid != old->st_uid || tst.st_gid != old->st_gid) &&
	                            fchown(fd, old->st_uid, old->st_gid) < 0)) {
		set_reason(ret_reason, "cannot give the new file the owner of the old one");
		goto out;
	}
	if (fchmod(fd, created ? 0600 : old->st_mode & 07777) < 0) {
		set_reason(ret_reason, "cannot give the new file the mode of the old one");
		goto out;
	}
	if (!write_all(fd, data, len) || fsync(fd) < 0) {
		set_reason(ret_reason, "cannot write the new file");
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		set_reason(ret_reason, "cannot write the new file");
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		set_reason(ret_reason, "cannot rename the new file over the old one");
		goto out;
	}
	free(tmp);
	tmp = NULL;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		set_reason(ret_reason, "the file was replaced but its directory could not be synced");
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	close(dfd);
	st = NTLM_OK;
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(dir);
	return st;
}

/* Removes path if it is still the file st describes. */
static void unlink_if_same(const char *path, const struct stat *st)
{
	struct stat now;

	if (lstat(path, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino)
		unlink(path);
}

enum ntlm_status smbpasswd_file_edit(const char *path, const struct smbpasswd_edit *edit,
                                     const char **ret_reason)
{
	char *buf = NULL, *out = NULL;
	size_t len = 0, olen = 0;
	struct stat st_file;
	bool created = false;
	enum ntlm_status st;
	int fd = -1;

	if (path == NULL || edit == NULL || edit->user == NULL || edit->user[0] == '\0' ||
	    edit->op > SMBPASSWD_SET_FLAGS) {
		set_reason(ret_reason, "no file, edit or user name");
		return NTLM_ERR_INVALID_ARGUMENT;
	}
	if (!valid_flag_letters(edit->add_flags) || !valid_flag_letters(edit->remove_flags) ||
	    (edit->add_flags != NULL && edit->remove_flags != NULL &&
	     strpbrk(edit->add_flags, edit->remove_flags))) {
		set_reason(ret_reason,
		           "flags must be among N D H T U M W S L X I, none both added and removed");
		return NTLM_ERR_INVALID_ARGUMENT;
	}
	st = open_locked(path, edit->op == SMBPASSWD_ADD, &fd, &st_file, &created, ret_reason);
	if (st != NTLM_OK)
		return st;
	st = read_fd(fd, &buf, &len);
	if (st != NTLM_OK) {
		set_reason(ret_reason, "cannot read the file (or it is over 512 MiB)");
		goto out;
	}
	st = apply_edit(buf, len, edit, &out, &olen, ret_reason);
	if (st == NTLM_OK)
		st = replace_file(path, &st_file, created, out, olen, ret_reason);
out:
	if (st != NTLM_OK && created)
		unlink_if_same(path, &st_file); /* the empty file made for ADD, unless replaced */
	close(fd);                              /* drops the lock */
	ntlm_free_wiped(buf, len);
	ntlm_free_wiped(out, olen);
	return st;
}
