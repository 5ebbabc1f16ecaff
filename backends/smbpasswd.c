/*
 * smbpasswd.c: parser and in-memory index for smbpasswd-format files.
 */
#include "config.h"

#include "smbpasswd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
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
	for (size_t i = 0; i < NTLM_HASH_LEN; i++) {
		int hi = hex_value(f->start[2 * i]), lo = hex_value(f->start[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			ntlm_wipe(&h, sizeof(h));
			return HASH_BAD;
		}
		h.bytes[i] = (uint8_t)(hi << 4 | lo);
	}
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
		int d = hex_value(f->start[i]);
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

enum ntlm_status smbpasswd_parse_line(const char *line, size_t len, struct smbpasswd_entry *ret,
                                      const char **ret_reason)
{
	struct field f[7];
	struct smbpasswd_entry e = {.last_change = -1};
	const char *reason = NULL;
	enum hash_kind kind;
	size_t n;

	if (line == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
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
	e.user = strndup(f[0].start, f[0].len);
	if (e.user == NULL) {
		ntlm_wipe(&e, sizeof(e));
		return NTLM_ERR_NO_MEMORY;
	}
	*ret = e;
	ntlm_wipe(&e, sizeof(e));
	return NTLM_OK;
out:
	ntlm_wipe(&e, sizeof(e));
	if (ret_reason != NULL)
		*ret_reason = reason;
	return NTLM_ERR_BAD_ENCODING;
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

/* ---- the index ---- */

struct smbpasswd_db {
	struct smbpasswd_entry *entries;
	size_t count;
	size_t cap;
	uint32_t *slots; /* open addressing: entry index + 1, 0 = empty */
	size_t nslots;   /* a power of two, >= 2 * count */
};

/* FNV-1a over the ASCII-lower-cased name. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		h = (h ^ c) * 0x100000001b3u;
	}
	return h;
}

static bool name_equal(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return false;
	}
	return *a == *b;
}

/* Index of the slot holding user, or of the empty slot where it goes. */
static size_t find_slot(const struct smbpasswd_db *db, const char *user)
{
	size_t mask = db->nslots - 1, i = (size_t)name_hash(user) & mask;

	while (db->slots[i] != 0 && !name_equal(db->entries[db->slots[i] - 1].user, user))
		i = (i + 1) & mask;
	return i;
}

static enum ntlm_status build_index(struct smbpasswd_db *db)
{
	size_t nslots = 16;

	while (nslots < 2 * db->count)
		nslots *= 2;
	db->slots = calloc(nslots, sizeof(*db->slots));
	if (db->slots == NULL)
		return NTLM_ERR_NO_MEMORY;
	db->nslots = nslots;
	for (size_t i = 0; i < db->count; i++) {
		size_t s = find_slot(db, db->entries[i].user);
		if (db->slots[s] == 0) /* the first line for a name wins, as in Samba */
			db->slots[s] = (uint32_t)(i + 1);
	}
	return NTLM_OK;
}

static enum ntlm_status append_entry(struct smbpasswd_db *db, const struct smbpasswd_entry *e)
{
	if (db->count == db->cap) {
		size_t cap = db->cap ? db->cap * 2 : 64;
		struct smbpasswd_entry *n;
		if (cap > UINT32_MAX - 1)
			return NTLM_ERR_NO_MEMORY;
		n = calloc(cap, sizeof(*n));
		if (n == NULL)
			return NTLM_ERR_NO_MEMORY;
		if (db->count > 0)
			memcpy(n, db->entries, db->count * sizeof(*n));
		ntlm_wipe(db->entries, db->cap * sizeof(*n));
		free(db->entries);
		db->entries = n;
		db->cap = cap;
	}
	db->entries[db->count++] = *e;
	return NTLM_OK;
}

/* Reads the whole file into a malloc'd, NUL-terminated buffer. */
static enum ntlm_status read_file(const char *path, char **ret, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > SMBPASSWD_MAX_FILE)
		goto fail;
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		goto fail;
	while (len < (size_t)st.st_size) {
		ssize_t got = read(fd, buf + len, (size_t)st.st_size - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break; /* the file shrank: parse what we have */
		len += (size_t)got;
	}
	close(fd);
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return NTLM_OK;
fail:
	close(fd);
	free(buf);
	return NTLM_ERR_BACKEND_UNAVAILABLE;
}

/* Parses every line of buf into db. */
static enum ntlm_status parse_lines(struct smbpasswd_db *db, const char *buf, size_t len,
                                    size_t *ret_bad_line, const char **ret_reason)
{
	size_t lineno = 0, pos = 0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len, llen = end - pos;
		struct smbpasswd_entry e;
		enum ntlm_status st;

		lineno++;
		if (llen > 0 && buf[pos + llen - 1] == '\r')
			llen--;
		if (llen > 0 && buf[pos] != '#') {
			st = smbpasswd_parse_line(buf + pos, llen, &e, ret_reason);
			if (st == NTLM_OK)
				st = append_entry(db, &e);
			if (st != NTLM_OK) {
				smbpasswd_entry_clear(&e);
				if (st == NTLM_ERR_BAD_ENCODING && ret_bad_line != NULL)
					*ret_bad_line = lineno;
				return st;
			}
		}
		pos = end + 1;
	}
	return NTLM_OK;
}

enum ntlm_status smbpasswd_db_load(const char *path, struct smbpasswd_db **ret, size_t *ret_bad_line,
                                   const char **ret_reason)
{
	struct smbpasswd_db *db = NULL;
	char *buf = NULL;
	size_t len = 0;
	enum ntlm_status st;

	if (path == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	st = read_file(path, &buf, &len);
	if (st != NTLM_OK)
		goto out;
	db = calloc(1, sizeof(*db));
	if (db == NULL) {
		st = NTLM_ERR_NO_MEMORY;
		goto out;
	}
	st = parse_lines(db, buf, len, ret_bad_line, ret_reason);
	if (st == NTLM_OK)
		st = build_index(db);
	if (st == NTLM_OK) {
		*ret = db;
		db = NULL;
	}
out:
	smbpasswd_db_free(db);
	if (buf != NULL) {
		ntlm_wipe(buf, len);
		free(buf);
	}
	return st;
}

const struct smbpasswd_entry *smbpasswd_db_find(const struct smbpasswd_db *db, const char *user)
{
	size_t s;

	if (db == NULL || user == NULL || db->nslots == 0)
		return NULL;
	s = find_slot(db, user);
	return db->slots[s] ? &db->entries[db->slots[s] - 1] : NULL;
}

/* The account status an entry's flags give (Samba's pdb_encode_acct_ctrl letters). */
static enum ntlm_status account_status(const struct smbpasswd_entry *e)
{
	if (smbpasswd_entry_has_flag(e, 'D'))
		return NTLM_STATUS_ACCOUNT_DISABLED;
	if (smbpasswd_entry_has_flag(e, 'L'))
		return NTLM_STATUS_ACCOUNT_LOCKED_OUT;
	if (smbpasswd_entry_has_flag(e, 'W') || smbpasswd_entry_has_flag(e, 'S') ||
	    smbpasswd_entry_has_flag(e, 'I'))
		return NTLM_STATUS_NOLOGON_TRUST_ACCOUNT;
	return NTLM_OK;
}

enum ntlm_status smbpasswd_db_lookup(void *ctx, const char *user, const char *domain,
                                     struct ntlm_credentials *ret)
{
	const struct smbpasswd_entry *e = smbpasswd_db_find(ctx, user);

	(void)domain;
	if (e == NULL)
		return NTLM_STATUS_NO_SUCH_USER;
	if (!e->has_nt)
		return NTLM_STATUS_ACCOUNT_RESTRICTION;
	ret->nt_hash = e->nt;
	ret->has_lm_hash = e->has_lm;
	if (e->has_lm)
		ret->lm_hash = e->lm;
	ret->account_status = account_status(e);
	return NTLM_OK;
}

size_t smbpasswd_db_count(const struct smbpasswd_db *db)
{
	return db ? db->count : 0;
}

void smbpasswd_db_free(struct smbpasswd_db *db)
{
	if (db == NULL)
		return;
	for (size_t i = 0; i < db->count; i++)
		smbpasswd_entry_clear(&db->entries[i]);
	free(db->entries);
	free(db->slots);
	free(db);
}
