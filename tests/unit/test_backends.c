/*
 * test_backends.c: the account policy, the files store, the backend chain
 * and the smbpasswd file editor, on real files in temporary directories.
 */
#include "testutil.h"

#include "backend.h"
#include "registry.h"
#include "smbpasswd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* NTOWFv1("Password") (MS-NLMP 4.2.2.1.2) and LMOWFv1("Password") (4.2.2.1.1) */
#define NT_PASSWORD "A4F49C406510BDCAB6824EE7C30FD852"
#define LM_PASSWORD "E52CAC67419A9A224A3B108F3FA6CB6D"
#define NEW_NT      "00112233445566778899AABBCCDDEEFF"
#define NO_HASH     "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
#define NO_PASSWORD "NO PASSWORDXXXXXXXXXXXXXXXXXXXXX"

#define ALICE_LINE  "alice:1000:" LM_PASSWORD ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n"
#define BOB_LINE    "bob:1001:" NO_HASH ":" NT_PASSWORD ":[DUX        ]:LCT-5F3A1B2C:\n"
#define GUEST_LINE  "guest:65534:" NO_PASSWORD ":" NO_PASSWORD ":[NU         ]:LCT-5F3A1B2C:\n"
#define WKS_LINE    "wks1$:1005:" NO_HASH ":" NT_PASSWORD ":[W          ]:LCT-5F3A1B2C:\n"

/* ------------------------------------------------------------------ */
/* Files and directories                                               */
/* ------------------------------------------------------------------ */

/* A new empty directory; free() the result after remove_dir(). */
static char *make_dir(void)
{
	char tmpl[] = "/tmp/test_backends.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	return strdup(tmpl);
}

/* dir/name, malloc'd */
static char *path_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	ck_assert_ptr_nonnull(p);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* The number of entries of dir besides . and .. */
static int count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void remove_dir(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		char *p;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = path_in(dir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
	free(dir);
}

/* Writes text to path in place (same inode when it exists). */
static void write_in_place(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* Rewrites path in place with text (same inode) and puts back the times
 * of *before: a same-size write within the same clock tick. */
static void rewrite_same_tick(const char *path, const char *text, const struct stat *before)
{
	struct timespec times[2] = {before->st_atim, before->st_mtim};
	int fd;

	write_in_place(path, text, 0600);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(futimens(fd, times), 0);
	close(fd);
}

/* Replaces path with a new file holding text, as editors do (new inode). */
static void write_file(const char *path, const char *text, mode_t mode)
{
	size_t n = strlen(path) + 5;
	char *tmp = malloc(n);

	ck_assert_ptr_nonnull(tmp);
	snprintf(tmp, n, "%s.new", path);
	write_in_place(tmp, text, mode);
	ck_assert_int_eq(rename(tmp, path), 0);
	free(tmp);
}

/* The whole of path, malloc'd and NUL-terminated. */
static char *read_text(const char *path)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	return buf;
}

static void assert_file_is(const char *path, const char *want)
{
	char *got = read_text(path);

	ck_assert_str_eq(got, want);
	free(got);
}

static mode_t file_mode(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* The fixture of the file tests: an empty directory and paths in it. */
static char *dir, *path, *path2, *missing;

static void make_fixture(void)
{
	dir = make_dir();
	path = path_in(dir, "smbpasswd");
	path2 = path_in(dir, "two");
	missing = path_in(dir, "missing");
}

static void remove_fixture(void)
{
	remove_dir(dir);
	free(path);
	free(path2);
	free(missing);
}

/* ------------------------------------------------------------------ */
/* Account policy                                                      */
/* ------------------------------------------------------------------ */

#define NOW ((int64_t)1700000000) /* Tuesday 2023-11-14 22:13:20 UTC: logon-hours bit 2 * 24 + 22 */

/* A user account that may log on: U, an NT hash, password set, no limits. */
static struct ntlmd_account plain_account(const char *flags)
{
	struct ntlmd_account a = {
	    .uid = 1000,
	    .has_nt = true,
	    .pwd_last_set = NOW - 86400,
	    .pwd_must_change = -1,
	    .kickoff_time = -1,
	};

	snprintf(a.flags, sizeof(a.flags), "%s", flags);
	a.nt_hash = hash_hex(NT_PASSWORD);
	return a;
}

static const struct ntlmd_logon interactive_logon = {.workstation = "WS1", .interactive = true, .now = NOW};

#define SET   (NOW - 86400) /* pwd_last_set: yesterday */
#define NEVER (-1)
#define PAST  (NOW - 1)
#define LATER (NOW + 60)

START_TEST(log_name_escapes_what_a_client_typed)
{
	char out[NTLMD_LOG_NAME_MAX];
	char small[16];
	char long_name[200];

	ck_assert_str_eq(ntlmd_log_name("alice", out, sizeof(out)), "\"alice\"");
	ck_assert_str_eq(ntlmd_log_name("j\xc3\xb6rg", out, sizeof(out)), "\"j\xc3\xb6rg\"");
	ck_assert_str_eq(ntlmd_log_name("a\"b\\c", out, sizeof(out)), "\"a\\x22b\\x5cc\"");
	ck_assert_str_eq(ntlmd_log_name("a\nAF x\x7f", out, sizeof(out)), "\"a\\x0aAF x\\x7f\"");
	ck_assert_str_eq(ntlmd_log_name("", out, sizeof(out)), "\"\"");
	/* cut on a whole escape, never past the buffer */
	ck_assert_str_eq(ntlmd_log_name("abcdefghijklmnop", small, sizeof(small)), "\"abcdefghij\"...");
	ck_assert_str_eq(ntlmd_log_name("abcdefgh\n", small, sizeof(small)), "\"abcdefgh\"...");
	memset(long_name, '\n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ntlmd_log_name(long_name, out, sizeof(out));
	ck_assert_uint_lt(strlen(out), sizeof(out));
	ck_assert_str_eq(out + strlen(out) - 4, "\"...");
}
END_TEST

START_TEST(account_policy)
{
	static const struct {
		const char *flags;
		bool has_nt, null_password;
		int64_t pwd_last_set, pwd_must_change, kickoff_time;
		bool interactive, allow_null_password;
		enum ntlm_status want;
	} cases[] = {
	    /* flags */
	    {"U", true, false, SET, NEVER, NEVER, true, false, NTLM_OK},
	    {"DU", true, false, SET, NEVER, NEVER, true, false, NTLM_STATUS_ACCOUNT_DISABLED},
	    {"LU", true, false, SET, NEVER, NEVER, true, false, NTLM_STATUS_ACCOUNT_LOCKED_OUT},
	    /* Samba checks L before anything else */
	    {"DLU", true, false, SET, NEVER, NEVER, true, false, NTLM_STATUS_ACCOUNT_LOCKED_OUT},
	    {"W", true, false, SET, NEVER, NEVER, true, false, NTLM_STATUS_NOLOGON_TRUST_ACCOUNT},
	    {"S", true, false, SET, NEVER, NEVER, true, false, NTLM_STATUS_NOLOGON_TRUST_ACCOUNT},
	    {"I", true, false, SET, NEVER, NEVER, true, false, NTLM_STATUS_NOLOGON_TRUST_ACCOUNT},
	    {"W", true, false, SET, NEVER, NEVER, false, false, NTLM_OK},
	    {"S", true, false, SET, NEVER, NEVER, false, false, NTLM_OK},
	    {"I", true, false, SET, NEVER, NEVER, false, false, NTLM_OK},
	    {"DW", true, false, SET, NEVER, NEVER, true, false, NTLM_STATUS_ACCOUNT_DISABLED},
	    {"HTMUX", true, false, SET, NEVER, NEVER, true, false, NTLM_OK},
	    /* null passwords: only N with "NO PASSWORD", only when allowed */
	    {"NU", false, true, SET, NEVER, NEVER, true, true, NTLM_OK},
	    {"NU", false, true, SET, NEVER, NEVER, true, false, NTLM_STATUS_ACCOUNT_RESTRICTION},
	    {"U", false, true, SET, NEVER, NEVER, true, true, NTLM_STATUS_ACCOUNT_RESTRICTION},
	    {"U", false, false, SET, NEVER, NEVER, true, true, NTLM_STATUS_ACCOUNT_RESTRICTION},
	    {"NU", true, false, SET, NEVER, NEVER, true, false, NTLM_OK}, /* N with a hash: ordinary */
	    {"LU", false, false, SET, NEVER, NEVER, true, false, NTLM_STATUS_ACCOUNT_LOCKED_OUT},
	    /* Samba checks the password before D */
	    {"DU", false, false, SET, NEVER, NEVER, true, false, NTLM_STATUS_ACCOUNT_RESTRICTION},
	    /* kickoff time: 0 is never, as in Samba */
	    {"U", true, false, SET, NEVER, PAST, true, false, NTLM_STATUS_ACCOUNT_EXPIRED},
	    {"U", true, false, SET, NEVER, LATER, true, false, NTLM_OK},
	    {"U", true, false, SET, NEVER, 0, true, false, NTLM_OK},
	    /* password age: X and N exempt, trust accounts never "must change" */
	    {"U", true, false, 0, NEVER, NEVER, true, false, NTLM_STATUS_PASSWORD_MUST_CHANGE},
	    {"UX", true, false, 0, NEVER, NEVER, true, false, NTLM_OK},
	    {"NU", true, false, 0, NEVER, NEVER, true, false, NTLM_OK},
	    {"W", true, false, 0, NEVER, NEVER, false, false, NTLM_OK},
	    {"U", true, false, NEVER, NEVER, NEVER, true, false, NTLM_OK}, /* no LCT in the file */
	    {"U", true, false, SET, PAST, NEVER, true, false, NTLM_STATUS_PASSWORD_EXPIRED},
	    {"U", true, false, SET, LATER, NEVER, true, false, NTLM_OK},
	    {"UX", true, false, SET, PAST, NEVER, true, false, NTLM_OK},
	    /* the order: disabled, expired, then the password */
	    {"DU", true, false, 0, PAST, PAST, true, false, NTLM_STATUS_ACCOUNT_DISABLED},
	    {"U", true, false, 0, PAST, PAST, true, false, NTLM_STATUS_ACCOUNT_EXPIRED},
	    {"W", true, false, SET, NEVER, PAST, true, false, NTLM_STATUS_ACCOUNT_EXPIRED},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ntlmd_account a = plain_account(cases[i].flags);
		struct ntlmd_logon l = interactive_logon;
		enum ntlm_status got;

		a.has_nt = cases[i].has_nt;
		a.null_password = cases[i].null_password;
		a.pwd_last_set = cases[i].pwd_last_set;
		a.pwd_must_change = cases[i].pwd_must_change;
		a.kickoff_time = cases[i].kickoff_time;
		l.interactive = cases[i].interactive;
		l.allow_null_password = cases[i].allow_null_password;
		got = ntlmd_account_check(&a, &l);
		ck_assert_msg(got == cases[i].want, "case %zu (flags %s): %s, expected %s", i, cases[i].flags,
		              ntlm_status_name(got), ntlm_status_name(cases[i].want));
	}
}
END_TEST

START_TEST(account_logon_hours)
{
	struct ntlmd_account a = plain_account("U");
	struct ntlmd_logon l = interactive_logon;

	a.has_logon_hours = true;
	memset(a.logon_hours, 0xff, sizeof(a.logon_hours));
	ck_assert_status(ntlmd_account_check(&a, &l), NTLM_OK);
	a.logon_hours[70 / 8] &= (uint8_t) ~(1u << (70 % 8)); /* Tuesday 22:00-23:00 UTC */
	ck_assert_status(ntlmd_account_check(&a, &l), NTLM_STATUS_INVALID_LOGON_HOURS);
	l.now = NOW + 3600; /* 23:13: allowed */
	ck_assert_status(ntlmd_account_check(&a, &l), NTLM_OK);

	memset(a.logon_hours, 0, sizeof(a.logon_hours));
	a.logon_hours[0] = 1; /* bit 0: Sunday 00:00-01:00 UTC only */
	l.now = 1699749000;   /* Sunday 2023-11-12 00:30 UTC */
	ck_assert_status(ntlmd_account_check(&a, &l), NTLM_OK);
	l.now = 1699749000 + 3600;
	ck_assert_status(ntlmd_account_check(&a, &l), NTLM_STATUS_INVALID_LOGON_HOURS);
	a.logon_hours[20] = 0x80; /* bit 167: Saturday 23:00-24:00 */
	l.now = 1700351940;       /* Saturday 2023-11-18 23:59 UTC */
	ck_assert_status(ntlmd_account_check(&a, &l), NTLM_OK);

	a.has_logon_hours = false; /* no restriction at all */
	ck_assert_status(ntlmd_account_check(&a, &(struct ntlmd_logon){.now = NOW}), NTLM_OK);
}
END_TEST

START_TEST(account_workstations)
{
	char *list[] = {(char *)"WS1", (char *)"Laptop", NULL};
	struct ntlmd_account a = plain_account("U");
	struct ntlmd_logon l = interactive_logon;

	a.workstations = list;
	l.workstation = "laptop";
	ck_assert_status(ntlmd_account_check(&a, &l), NTLM_OK);
	l.workstation = "ws1";
	ck_assert_status(ntlmd_account_check(&a, &l), NTLM_OK);
	l.workstation = "WS2";
	ck_assert_status(ntlmd_account_check(&a, &l), NTLM_STATUS_INVALID_WORKSTATION);
	l.workstation = "WS";
	ck_assert_status(ntlmd_account_check(&a, &l), NTLM_STATUS_INVALID_WORKSTATION);
	l.workstation = NULL;
	ck_assert_status(ntlmd_account_check(&a, &l), NTLM_STATUS_INVALID_WORKSTATION);
	l.workstation = "";
	ck_assert_status(ntlmd_account_check(&a, &l), NTLM_STATUS_INVALID_WORKSTATION);
	/* the workstation comes after the password checks, before trust accounts */
	a.pwd_last_set = 0;
	ck_assert_status(ntlmd_account_check(&a, &l), NTLM_STATUS_PASSWORD_MUST_CHANGE);
	a = plain_account("W");
	a.workstations = list;
	ck_assert_status(ntlmd_account_check(&a, &l), NTLM_STATUS_INVALID_WORKSTATION);
	ck_assert_status(ntlmd_account_check(NULL, &l), NTLM_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(account_clear_frees_and_wipes)
{
	struct ntlmd_account a = plain_account("U");
	static const uint8_t zero[sizeof(struct ntlmd_account)];

	a.name = strdup("alice");
	a.workstations = calloc(3, sizeof(char *));
	ck_assert_ptr_nonnull(a.workstations);
	a.workstations[0] = strdup("WS1");
	a.workstations[1] = strdup("WS2");
	ntlmd_account_clear(&a);
	ck_assert_int_eq(memcmp(&a, zero, sizeof(a)), 0); /* not secret: a test */
	ntlmd_account_clear(&a);
	ntlmd_account_clear(NULL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The files store                                                     */
/* ------------------------------------------------------------------ */

static void *open_files(const char *file)
{
	struct ntlmd_config_error err = {0};
	void *state = NULL;

	ck_assert_status(ntlmd_files_open(file, &state, &err), NTLM_OK);
	ck_assert_ptr_nonnull(state);
	return state;
}

/* The uid a store answers for user (the lookup must succeed). */
static uint32_t uid_of(void *state, const char *user)
{
	struct ntlmd_account a = {0};
	uint32_t uid;

	ck_assert_status(ntlmd_backend_files.lookup(state, user, "DOMAIN", &a), NTLM_OK);
	uid = a.uid;
	ntlmd_account_clear(&a);
	return uid;
}

static struct ntlmd_files_status status_of(void *state)
{
	struct ntlmd_files_status s;

	memset(&s, 0x55, sizeof(s));
	ntlmd_files_get_status(state, &s);
	return s;
}

START_TEST(files_lookup_maps_entries)
{
	struct ntlmd_config cfg = {.hash_file = path, .backends = (char *[]){(char *)"files", NULL}};
	struct ntlmd_logon logon = {.interactive = true, .now = NOW};
	struct ntlmd_account a = {0};
	struct ntlmd_files_status s;
	void *state = NULL;
	size_t line = 99;

	write_file(path, "# users\n" ALICE_LINE BOB_LINE GUEST_LINE WKS_LINE, 0600);
	ck_assert_status(ntlmd_backend_files.open(&cfg, &state, NULL), NTLM_OK);

	ck_assert_status(ntlmd_backend_files.lookup(state, "ALICE", "", &a), NTLM_OK);
	ck_assert_str_eq(a.name, "alice");
	ck_assert_uint_eq(a.uid, 1000);
	ck_assert(a.has_nt && a.has_lm && !a.null_password);
	ck_assert_hex_eq(a.nt_hash.bytes, 16, NT_PASSWORD);
	ck_assert_hex_eq(a.lm_hash.bytes, 16, LM_PASSWORD);
	ck_assert_str_eq(a.flags, "U");
	ck_assert_int_eq(a.pwd_last_set, 0x5F3A1B2C);
	ck_assert_int_eq(a.pwd_must_change, -1);
	ck_assert_int_eq(a.kickoff_time, -1);
	ck_assert(!a.has_logon_hours);
	ck_assert_ptr_null(a.workstations);
	ck_assert_status(ntlmd_account_check(&a, &logon), NTLM_OK);
	ntlmd_account_clear(&a);

	ck_assert_status(ntlmd_backend_files.lookup(state, "bob", "", &a), NTLM_OK);
	ck_assert(a.has_nt && !a.has_lm);
	ck_assert_ptr_nonnull(strchr(a.flags, 'D'));
	ck_assert_ptr_nonnull(strchr(a.flags, 'X'));
	ck_assert_status(ntlmd_account_check(&a, &logon), NTLM_STATUS_ACCOUNT_DISABLED);
	ntlmd_account_clear(&a);

	ck_assert_status(ntlmd_backend_files.lookup(state, "guest", "", &a), NTLM_OK);
	ck_assert(!a.has_nt && !a.has_lm && a.null_password);
	ck_assert_status(ntlmd_account_check(&a, &logon), NTLM_STATUS_ACCOUNT_RESTRICTION);
	logon.allow_null_password = true;
	ck_assert_status(ntlmd_account_check(&a, &logon), NTLM_OK);
	ntlmd_account_clear(&a);

	ck_assert_status(ntlmd_backend_files.lookup(state, "wks1$", "", &a), NTLM_OK);
	ck_assert_status(ntlmd_account_check(&a, &logon), NTLM_STATUS_NOLOGON_TRUST_ACCOUNT);
	logon.interactive = false;
	ck_assert_status(ntlmd_account_check(&a, &logon), NTLM_OK);
	ntlmd_account_clear(&a);

	ck_assert_status(ntlmd_backend_files.lookup(state, "carol", "", &a), NTLM_STATUS_NO_SUCH_USER);
	ck_assert_status(ntlmd_backend_files.lookup(state, "alic", "", &a), NTLM_STATUS_NO_SUCH_USER);

	s = status_of(state);
	ck_assert(s.loaded);
	ck_assert_uint_eq(s.users, 4);
	ck_assert_uint_eq(s.loads, 1);
	ck_assert_uint_eq(s.failures, 0);
	ck_assert_status(s.error, NTLM_OK);
	ck_assert_str_eq(s.reason, "");
	ck_assert_ptr_null(s.edit_error);
	ck_assert_ptr_null(ntlmd_files_last_error(state, &line));
	ck_assert_uint_eq(line, 99);
	ntlmd_backend_files.close(state);
	ntlmd_backend_files.close(NULL);
}
END_TEST

/* domain_sid: the files store's SIDs are Samba's algorithmic ones, and it
 * answers membership by SID for its own accounts: their own SID and their
 * system groups' (the primary group; RID 2 * gid + 1001). */
START_TEST(files_sids_and_membership)
{
	const struct passwd *pw = getpwuid(getuid());
	struct ntlmd_config cfg = {.hash_file = path,
	                           .backends = (char *[]){(char *)"files", NULL},
	                           .domain_sid = (char *)"S-1-5-21-1-2-3"};
	struct ntlmd_account a = {0};
	char text[512], own_sid[64], group_sid[64];
	void *state = NULL;
	bool member = true;

	ck_assert_ptr_nonnull(pw);
	snprintf(text, sizeof(text),
	         "%s:%u:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n"
	         "ghost:4000001:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n"
	         "huge:2147483148:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n",
	         pw->pw_name, (unsigned)pw->pw_uid);
	write_file(path, text, 0600);
	snprintf(own_sid, sizeof(own_sid), "S-1-5-21-1-2-3-%u", 2u * (unsigned)pw->pw_uid + 1000u);
	snprintf(group_sid, sizeof(group_sid), "s-1-5-21-1-2-3-%u", 2u * (unsigned)pw->pw_gid + 1001u);
	ck_assert_status(ntlmd_backend_files.open(&cfg, &state, NULL), NTLM_OK);

	ck_assert_status(ntlmd_backend_files.lookup(state, pw->pw_name, "", &a), NTLM_OK);
	ck_assert_str_eq(a.sid, own_sid);
	ntlmd_account_clear(&a);
	ck_assert_status(ntlmd_backend_files.lookup(state, "ghost", "", &a), NTLM_OK);
	ck_assert_str_eq(a.sid, "S-1-5-21-1-2-3-8001002");
	ntlmd_account_clear(&a);
	ck_assert_status(ntlmd_backend_files.lookup(state, "huge", "", &a), NTLM_OK);
	ck_assert_ptr_null(a.sid); /* its RID would not fit in 32 bits */
	ntlmd_account_clear(&a);

	/* its own SID, its primary group's */
	ck_assert_status(ntlmd_backend_files.group_member(state, own_sid, pw->pw_name, NULL, &member),
	                 NTLM_OK);
	ck_assert(member);
	member = false;
	snprintf(text, sizeof(text), "files:%s", pw->pw_name);
	ck_assert_status(ntlmd_backend_files.group_member(state, group_sid, pw->pw_name, text, &member),
	                 NTLM_OK);
	ck_assert(member);
	/* Samba's "bad" SID: of the domain, nobody's */
	ck_assert_status(
	    ntlmd_backend_files.group_member(state, "S-1-5-21-1-2-3-40", pw->pw_name, text, &member),
	    NTLM_OK);
	ck_assert(!member);
	/* a user NSS does not know: its own SID only */
	member = false;
	ck_assert_status(
	    ntlmd_backend_files.group_member(state, "S-1-5-21-1-2-3-8001002", "ghost", NULL, &member),
	    NTLM_OK);
	ck_assert(member);
	ck_assert_status(ntlmd_backend_files.group_member(state, group_sid, "ghost", NULL, &member), NTLM_OK);
	ck_assert(!member);
	/* not this store's to answer: another domain, a well-known SID, a
	 * group name, another store's account, an unknown user */
	ck_assert_status(
	    ntlmd_backend_files.group_member(state, "S-1-5-21-1-2-4-1000", pw->pw_name, NULL, &member),
	    NTLM_STATUS_NO_SUCH_GROUP);
	ck_assert_status(ntlmd_backend_files.group_member(state, "S-1-1-0", pw->pw_name, NULL, &member),
	                 NTLM_STATUS_NO_SUCH_GROUP);
	ck_assert_status(ntlmd_backend_files.group_member(state, "webusers", pw->pw_name, NULL, &member),
	                 NTLM_STATUS_NO_SUCH_GROUP);
	ck_assert_status(
	    ntlmd_backend_files.group_member(state, own_sid, pw->pw_name, "ldap:uid=x,dc=example", &member),
	    NTLM_STATUS_NO_SUCH_GROUP);
	ck_assert_status(ntlmd_backend_files.group_member(state, own_sid, "nobody-here", NULL, &member),
	                 NTLM_STATUS_NO_SUCH_GROUP);
	ntlmd_backend_files.close(state);

	/* without domain_sid: no SIDs at all */
	cfg.domain_sid = NULL;
	ck_assert_status(ntlmd_backend_files.open(&cfg, &state, NULL), NTLM_OK);
	ck_assert_status(ntlmd_backend_files.lookup(state, "ghost", "", &a), NTLM_OK);
	ck_assert_ptr_null(a.sid);
	ntlmd_account_clear(&a);
	ck_assert_status(
	    ntlmd_backend_files.group_member(state, "S-1-5-21-1-2-3-8001002", "ghost", NULL, &member),
	    NTLM_STATUS_NO_SUCH_GROUP);
	ck_assert_status(ntlmd_files_set_domain_sid(state, "S-1-5-32-544"), NTLM_ERR_INVALID_ARGUMENT);
	ntlmd_backend_files.close(state);
}
END_TEST

START_TEST(files_refresh_on_change)
{
	struct ntlmd_account a = {0};
	void *state;

	write_file(path, ALICE_LINE, 0600);
	state = open_files(path);
	ck_assert_uint_eq(uid_of(state, "alice"), 1000);

	/* a new version: served only once refresh() has swapped it in */
	write_file(path,
	           "alice:2000:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n"
	           "carol:2001:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n",
	           0600);
	ck_assert_uint_eq(uid_of(state, "alice"), 1000);
	ck_assert_status(ntlmd_backend_files.lookup(state, "carol", "", &a), NTLM_STATUS_NO_SUCH_USER);
	ntlmd_backend_files.refresh(state);
	ck_assert_uint_eq(uid_of(state, "alice"), 2000);
	ck_assert_uint_eq(uid_of(state, "carol"), 2001);
	ck_assert_uint_eq(status_of(state).loads, 2);
	ck_assert_uint_eq(status_of(state).users, 2);

	/* unchanged: not read again */
	ntlmd_backend_files.refresh(state);
	ck_assert_uint_eq(status_of(state).loads, 2);

	/* a user removed */
	write_file(path, "carol:2001:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n", 0600);
	ntlmd_backend_files.refresh(state);
	ck_assert_status(ntlmd_backend_files.lookup(state, "alice", "", &a), NTLM_STATUS_NO_SUCH_USER);
	ck_assert_uint_eq(uid_of(state, "carol"), 2001);
	ntlmd_backend_files.close(state);
}
END_TEST

START_TEST(files_refresh_same_size_same_tick)
{
	struct stat st;
	void *state, *state2;

	write_file(path, ALICE_LINE, 0600);
	ck_assert_int_eq(stat(path, &st), 0);
	state = open_files(path);
	ck_assert_uint_eq(uid_of(state, "alice"), 1000);

	/* an in-place write of the same size within the same clock tick: the
	 * key (dev, ino, size, mtime, mode) is unchanged */
	rewrite_same_tick(path, "alice:1001:" LM_PASSWORD ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n",
	                  &st);
	ntlmd_backend_files.refresh(state);
	ck_assert_uint_eq(uid_of(state, "alice"), 1000); /* cannot be told apart yet */
	/* loaded within 2 s of its mtime: loaded once more after that */
	sleep(2);
	ntlmd_backend_files.refresh(state);
	ck_assert_uint_eq(uid_of(state, "alice"), 1001);
	ck_assert_uint_eq(status_of(state).loads, 2);
	ntlmd_backend_files.refresh(state);
	ck_assert_uint_eq(status_of(state).loads, 2);

	/* the same with a malformed same-size write: reported once, old copy kept */
	write_file(path, "alice:1002:" LM_PASSWORD ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n", 0600);
	ck_assert_int_eq(stat(path, &st), 0);
	state2 = open_files(path);
	rewrite_same_tick(path, "alice:100x:" LM_PASSWORD ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n",
	                  &st);
	sleep(2);
	ntlmd_backend_files.refresh(state2);
	ck_assert_uint_eq(uid_of(state2, "alice"), 1002);
	ck_assert_uint_eq(status_of(state2).failures, 1);
	ck_assert_uint_eq(status_of(state2).error_line, 1);
	ntlmd_backend_files.refresh(state2);
	ntlmd_backend_files.refresh(state2);
	ck_assert_uint_eq(status_of(state2).failures, 1);
	ntlmd_backend_files.close(state2);
	ntlmd_backend_files.close(state);
}
END_TEST

START_TEST(files_malformed_keeps_last_good_copy)
{
	struct ntlmd_files_status s;
	const char *error;
	size_t line = 0;
	void *state;

	write_file(path, ALICE_LINE, 0600);
	state = open_files(path);
	/* line 3 has a bad NT hash: its digits must not reach the log */
	write_file(path,
	           "# users\n"
	           "alice:2000:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n"
	           "bob:1001:" NO_HASH ":A4F49C406510BDCAB6824EE7C30FD85Z:[U          ]:LCT-5F3A1B2C:\n",
	           0600);
	ntlmd_backend_files.refresh(state);
	ck_assert_uint_eq(uid_of(state, "alice"), 1000);
	s = status_of(state);
	ck_assert(s.loaded);
	ck_assert_uint_eq(s.users, 1);
	ck_assert_status(s.error, NTLM_ERR_BAD_ENCODING);
	ck_assert_uint_eq(s.error_line, 3);
	ck_assert_uint_eq(s.failures, 1);
	ck_assert_ptr_nonnull(strstr(s.reason, "line 3"));
	ck_assert_ptr_nonnull(strstr(s.reason, path));
	ck_assert_ptr_nonnull(strstr(s.reason, "NT hash"));
	ck_assert_ptr_nonnull(strstr(s.reason, "last good copy"));
	ck_assert_ptr_null(strstr(s.reason, "A4F49C"));
	ck_assert_ptr_null(strstr(s.reason, "a4f49c"));
	error = ntlmd_files_last_error(state, &line);
	ck_assert_ptr_nonnull(error);
	ck_assert_str_eq(error, s.reason);
	ck_assert_uint_eq(line, 3);

	/* the same bad version is not parsed (nor reported) again */
	ntlmd_backend_files.refresh(state);
	ck_assert_uint_eq(status_of(state).failures, 1);

	/* fixed: served, error gone */
	write_file(path, "alice:2000:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n", 0600);
	ntlmd_backend_files.refresh(state);
	ck_assert_uint_eq(uid_of(state, "alice"), 2000);
	ck_assert_status(status_of(state).error, NTLM_OK);
	ck_assert_ptr_null(ntlmd_files_last_error(state, &line));
	ntlmd_backend_files.close(state);
}
END_TEST

START_TEST(files_missing_file)
{
	struct ntlmd_account a = {0};
	struct ntlmd_files_status s;
	void *state;

	/* missing at start: the store opens, and cannot answer */
	state = open_files(path);
	ck_assert_status(ntlmd_backend_files.lookup(state, "alice", "", &a), NTLM_ERR_BACKEND_UNAVAILABLE);
	s = status_of(state);
	ck_assert(!s.loaded);
	ck_assert_int_eq(s.loaded_at, -1);
	ck_assert_status(s.error, NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(s.reason, "No such file"));
	ck_assert_ptr_nonnull(strstr(s.reason, "no copy in service"));

	write_file(path, ALICE_LINE, 0600);
	ntlmd_backend_files.refresh(state);
	ck_assert_uint_eq(uid_of(state, "alice"), 1000);

	/* removed later: the last good copy stays in service */
	ck_assert_int_eq(unlink(path), 0);
	ntlmd_backend_files.refresh(state);
	ck_assert_uint_eq(uid_of(state, "alice"), 1000);
	s = status_of(state);
	ck_assert(s.loaded);
	ck_assert_status(s.error, NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_uint_eq(s.error_line, 0);
	ck_assert_ptr_nonnull(strstr(s.reason, "last good copy"));
	ck_assert_uint_eq(s.failures, 2);
	ntlmd_backend_files.refresh(state); /* reported once */
	ck_assert_uint_eq(status_of(state).failures, 2);
	ntlmd_backend_files.close(state);
}
END_TEST

START_TEST(files_refuses_exposed_file)
{
	struct ntlmd_config_error err = {0};
	struct ntlmd_files_status s;
	void *state = NULL;

	write_file(path, ALICE_LINE, 0644);
	ck_assert_status(ntlmd_files_open(path, &state, &err), NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_ptr_null(state);
	ck_assert_ptr_nonnull(strstr(err.reason, "readable or writable by others"));
	ck_assert_ptr_nonnull(strstr(err.reason, "0644"));
	ck_assert_ptr_nonnull(strstr(err.reason, path));

	ck_assert_int_eq(chmod(path, 0602), 0); /* writable by others */
	ck_assert_status(ntlmd_files_open(path, &state, &err), NTLM_ERR_BACKEND_UNAVAILABLE);

	ck_assert_status(ntlmd_files_open(dir, &state, &err), NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(err.reason, "not a regular file"));

	ck_assert_int_eq(chmod(path, 0640), 0); /* a group may read it */
	state = open_files(path);
	ck_assert_uint_eq(uid_of(state, "alice"), 1000);

	/* exposed later: not loaded, the last good copy stays */
	write_file(path, "alice:2000:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n", 0604);
	ntlmd_backend_files.refresh(state);
	ck_assert_uint_eq(uid_of(state, "alice"), 1000);
	s = status_of(state);
	ck_assert_status(s.error, NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(s.reason, "readable or writable by others"));
	ck_assert_int_eq(chmod(path, 0600), 0);
	ntlmd_backend_files.refresh(state);
	ck_assert_uint_eq(uid_of(state, "alice"), 2000);
	ntlmd_backend_files.close(state);
}
END_TEST

START_TEST(files_set_password)
{
	struct ntlm_hash h = hash_hex(NEW_NT);
	struct ntlmd_account a = {0};
	void *state;

	write_file(path, ALICE_LINE BOB_LINE, 0600);
	state = open_files(path);
	ck_assert_status(ntlmd_backend_files.set_password(state, "Alice", &h, 0x60000000), NTLM_OK);
	/* served at once: set_password refreshes */
	ck_assert_status(ntlmd_backend_files.lookup(state, "alice", "", &a), NTLM_OK);
	ck_assert_hex_eq(a.nt_hash.bytes, 16, NEW_NT);
	ck_assert(!a.has_lm);
	ck_assert_int_eq(a.pwd_last_set, 0x60000000);
	ntlmd_account_clear(&a);
	assert_file_is(path, "alice:1000:" NO_HASH ":" NEW_NT ":[U          ]:LCT-60000000:\n" BOB_LINE);
	ck_assert_uint_eq(file_mode(path), 0600);
	ck_assert_ptr_null(status_of(state).edit_error);

	ck_assert_status(ntlmd_backend_files.set_password(state, "carol", &h, 0x60000000),
	                 NTLM_STATUS_NO_SUCH_USER);
	ck_assert_ptr_nonnull(status_of(state).edit_error);
	ck_assert_int_eq(count_dir(dir), 1);
	ntlmd_backend_files.close(state);
}
END_TEST

struct flipper {
	const char *path;
	void *state;
	int rounds;
	_Atomic bool done;
};

static const char *const versions[] = {
    "alice:1:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n"
    "bob:1:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n",
    "alice:2:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n"
    "bob:2:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n"
    "carol:2:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n",
};

/* Swaps two versions of the file and refreshes, while the test looks up. */
static void *flip_versions(void *arg)
{
	struct flipper *f = arg;
	size_t n = strlen(f->path) + 5;
	char *tmp = malloc(n);

	snprintf(tmp, n, "%s.new", f->path);
	for (int i = 0; i < f->rounds; i++) {
		FILE *out = fopen(tmp, "w");
		fputs(versions[i % 2], out);
		fclose(out);
		chmod(tmp, 0600);
		rename(tmp, f->path);
		ntlmd_backend_files.refresh(f->state);
	}
	free(tmp);
	f->done = true;
	return NULL;
}

START_TEST(files_lookups_during_reloads)
{
	struct flipper f = {.path = path, .rounds = 2000};
	unsigned long lookups = 0;
	pthread_t t;

	write_file(path, versions[1], 0600);
	f.state = open_files(path);
	ck_assert_int_eq(pthread_create(&t, NULL, flip_versions, &f), 0);
	while (!f.done || lookups < 1000) {
		struct ntlmd_account a = {0};
		ck_assert_status(ntlmd_backend_files.lookup(f.state, "bob", "", &a), NTLM_OK);
		ck_assert(a.uid == 1 || a.uid == 2);
		ck_assert_hex_eq(a.nt_hash.bytes, 16, NT_PASSWORD);
		ntlmd_account_clear(&a);
		lookups++;
	}
	pthread_join(t, NULL);
	ck_assert_uint_eq(status_of(f.state).failures, 0);
	ck_assert_uint_eq(status_of(f.state).loads, (unsigned long)f.rounds + 1);
	ntlmd_backend_files.close(f.state);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The chain                                                           */
/* ------------------------------------------------------------------ */

/* A chain of files stores over the given files (NULL: "missing"). */
static struct ntlmd_backend_chain *files_chain(const char *first, const char *second)
{
	const struct ntlmd_backend *b[] = {&ntlmd_backend_files, &ntlmd_backend_files};
	void *states[] = {open_files(first), open_files(second)};
	struct ntlmd_backend_chain *c = NULL;

	ck_assert_status(ntlmd_backends_new(b, states, 2, &c), NTLM_OK);
	return c;
}

START_TEST(chain_asks_stores_in_order)
{
	struct ntlmd_account a = {0};
	const char *backend = NULL;
	struct ntlmd_backend_chain *c;
	void *state = NULL;

	ck_assert_ptr_eq(ntlmd_backend_find("files"), &ntlmd_backend_files);
	ck_assert_ptr_null(ntlmd_backend_find("nis"));
	ck_assert_ptr_null(ntlmd_backend_find(NULL));

	write_file(path, ALICE_LINE, 0600);
	write_file(path2, "alice:3000:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n" BOB_LINE,
	           0600);
	c = files_chain(path, path2);
	ck_assert_uint_eq(ntlmd_backends_count(c), 2);
	ck_assert_ptr_eq(ntlmd_backends_store(c, 1, &state), &ntlmd_backend_files);
	ck_assert_ptr_nonnull(state);
	ck_assert_ptr_null(ntlmd_backends_store(c, 2, &state));

	/* only in the second store */
	ck_assert_status(ntlmd_backends_lookup(c, "bob", "DOM", &a, &backend), NTLM_OK);
	ck_assert_uint_eq(a.uid, 1001);
	ck_assert_str_eq(backend, "files");
	ntlmd_account_clear(&a);
	/* in both: the first store answers */
	ck_assert_status(ntlmd_backends_lookup(c, "alice", "DOM", &a, NULL), NTLM_OK);
	ck_assert_uint_eq(a.uid, 1000);
	ntlmd_account_clear(&a);
	/* in neither, both available */
	backend = NULL;
	ck_assert_status(ntlmd_backends_lookup(c, "carol", "DOM", &a, &backend), NTLM_STATUS_NO_SUCH_USER);
	ck_assert_ptr_null(backend);
	ntlmd_backends_close(c);
	ntlmd_backends_close(NULL);
}
END_TEST

START_TEST(chain_unavailable_is_not_no_such_user)
{
	struct ntlmd_account a = {0};
	const char *backend = NULL;
	struct ntlmd_backend_chain *c;

	write_file(path2, BOB_LINE, 0600);
	c = files_chain(missing, path2);
	/* the first store cannot answer, the second has the user: the first
	 * one's bob may be the one meant, so no account (fail closed) */
	ck_assert_status(ntlmd_backends_lookup(c, "bob", "", &a, &backend), NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_ptr_null(a.name);
	/* nobody has the user, and one store could not be asked */
	ck_assert_status(ntlmd_backends_lookup(c, "carol", "", &a, NULL), NTLM_ERR_BACKEND_UNAVAILABLE);
	ntlmd_backends_close(c);

	/* the same with the unavailable store last */
	c = files_chain(path2, missing);
	ck_assert_status(ntlmd_backends_lookup(c, "carol", "", &a, NULL), NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_status(ntlmd_backends_lookup(c, "bob", "", &a, NULL), NTLM_OK);
	ntlmd_account_clear(&a);
	ntlmd_backends_close(c);
}
END_TEST

/* A store like the directory: it holds "carol" and "dave" (domain DIR),
 * and answers from memory only what its cache says: the names in
 * dir_cached, as "user" or "user@DOMAIN" asked (positive when it holds
 * them, negative when not), or every name at once while dir_resting (a
 * directory known unavailable). */
static const char *const *dir_cached;
static bool dir_resting;
static unsigned dir_asked; /* lookups that went to "the server" */

static enum ntlm_status dir_lookup(void *state, const char *user, const char *domain,
                                   struct ntlmd_account *ret)
{
	(void)state;
	(void)domain;
	dir_asked++;
	if (strcmp(user, "carol") != 0 && strcmp(user, "dave") != 0)
		return NTLM_STATUS_NO_SUCH_USER;
	*ret = (struct ntlmd_account){.name = strdup(user), .domain = strdup("DIR"), .key = strdup("dir:x")};
	ret->key[4] = user[0];
	return NTLM_OK;
}

static enum ntlm_status dir_lookup_now(void *state, const char *user, const char *domain,
                                       struct ntlmd_account *ret, bool *ret_answered)
{
	*ret_answered = dir_resting;
	if (dir_resting)
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	for (size_t i = 0; dir_cached != NULL && dir_cached[i] != NULL; i++) {
		size_t n = strlen(user);
		bool hit = strcmp(dir_cached[i], user) == 0 ||
		           (strncmp(dir_cached[i], user, n) == 0 && dir_cached[i][n] == '@' &&
		            domain != NULL && strcmp(dir_cached[i] + n + 1, domain) == 0);

		if (hit) {
			enum ntlm_status st = dir_lookup(state, user, domain, ret);

			dir_asked--; /* from the cache */
			*ret_answered = true;
			return st;
		}
	}
	return NTLM_ERR_BACKEND_UNAVAILABLE;
}

static const struct ntlmd_backend dir_backend = {
    .name = "dir", .lookup = dir_lookup, .lookup_now = dir_lookup_now};

/* files (over path) and the directory-like store, in the order given. */
static struct ntlmd_backend_chain *mixed_chain(bool files_first)
{
	const struct ntlmd_backend *b[2] = {&ntlmd_backend_files, &dir_backend};
	void *states[2] = {open_files(path), NULL};
	struct ntlmd_backend_chain *c = NULL;

	if (!files_first) {
		b[0] = &dir_backend, b[1] = &ntlmd_backend_files;
		states[1] = states[0], states[0] = NULL;
	}
	ck_assert_status(ntlmd_backends_new(b, states, 2, &c), NTLM_OK);
	ck_assert_status(ntlmd_backends_set_domain(c, "DOM"), NTLM_OK);
	dir_cached = NULL;
	dir_resting = false;
	dir_asked = 0;
	return c;
}

/* lookup_now's answer: the status, or -1 when not answered. */
static int now_status(struct ntlmd_backend_chain *c, const char *user, const char *domain,
                      const char **backend)
{
	struct ntlmd_account a = {0};
	bool answered = true;
	enum ntlm_status st = ntlmd_backends_lookup_now(c, user, domain, &a, backend, &answered);

	if (!answered)
		ck_assert_ptr_null(a.name); /* nothing written */
	ntlmd_account_clear(&a);
	return answered ? (int)st : -1;
}

/* The chain without waiting (ntlmd's loop): the same rules as the
 * blocking lookup, and never a guess when a store must ask its server. */
START_TEST(chain_no_wait_files_first)
{
	static const char *const cached[] = {"dave", "nobody", NULL};
	const char *backend = NULL;
	struct ntlmd_account a = {0};
	struct ntlmd_backend_chain *c;

	write_file(path, ALICE_LINE BOB_LINE, 0600);
	c = mixed_chain(true);
	/* a files user: answered, the directory never asked */
	ck_assert_int_eq(now_status(c, "alice", "DOM", &backend), NTLM_OK);
	ck_assert_str_eq(backend, "files");
	ck_assert_uint_eq(dir_asked, 0);
	/* the directory's user, not cached: only a worker can say */
	ck_assert_int_eq(now_status(c, "carol", "DOM", NULL), -1);
	ck_assert_uint_eq(dir_asked, 0);
	ck_assert_status(ntlmd_backends_lookup(c, "carol", "DOM", &a, &backend), NTLM_OK);
	ck_assert_str_eq(backend, "dir");
	ck_assert_uint_eq(dir_asked, 1);
	ntlmd_account_clear(&a);
	/* no store has it: the directory must say so first */
	ck_assert_int_eq(now_status(c, "erin", "DOM", NULL), -1);
	/* cached, positive and negative */
	dir_cached = cached;
	ck_assert_int_eq(now_status(c, "dave", "DIR", &backend), NTLM_OK);
	ck_assert_str_eq(backend, "dir");
	ck_assert_int_eq(now_status(c, "nobody", "DOM", NULL), NTLM_STATUS_NO_SUCH_USER);
	/* the directory's own domain typed otherwise: the earlier store (files,
	 * in memory) is asked for a namesake, and says none */
	ck_assert_int_eq(now_status(c, "dave", "DOM", NULL), NTLM_OK);
	/* a directory known down: unavailable at once; files users still served */
	dir_resting = true;
	ck_assert_int_eq(now_status(c, "carol", "DOM", NULL), NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_int_eq(now_status(c, "alice", "DOM", NULL), NTLM_OK);
	ck_assert_uint_eq(dir_asked, 1);
	ntlmd_backends_close(c);
}
END_TEST

START_TEST(chain_no_wait_directory_first)
{
	static const char *const alice_cached[] = {"alice", NULL};
	struct ntlmd_backend_chain *c;

	write_file(path, ALICE_LINE, 0600);
	c = mixed_chain(false);
	/* a files user behind the directory: the directory must say first
	 * that it has no alice (fail closed while it cannot) */
	ck_assert_int_eq(now_status(c, "alice", "DOM", NULL), -1);
	dir_resting = true;
	ck_assert_int_eq(now_status(c, "alice", "DOM", NULL), NTLM_ERR_BACKEND_UNAVAILABLE);
	/* the directory's negative cache entry: files answers */
	dir_resting = false;
	dir_cached = alice_cached;
	ck_assert_int_eq(now_status(c, "alice", "DOM", NULL), NTLM_OK);
	/* typed in another domain than the account's (DOM): the namesake check
	 * asks the earlier store, whose cache answers */
	ck_assert_int_eq(now_status(c, "alice", "TESTSRV", NULL), NTLM_OK);
	ck_assert_uint_eq(dir_asked, 0);
	ntlmd_backends_close(c);
}
END_TEST

/* check_unambiguous asks the earlier stores only, and in the no-wait mode
 * waits for one that must ask its server. */
START_TEST(chain_no_wait_namesake_check)
{
	static const char *const carol_cached[] = {"carol", NULL};
	static const char *const nothing_cached[] = {NULL};
	static const char *const typed_only[] = {"alice@TESTSRV", NULL};
	struct ntlmd_account a = {0};
	struct ntlmd_backend_chain *c;

	/* carol in files too; the directory first holds carol (DIR) */
	write_file(path, "carol:1002:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n", 0600);
	c = mixed_chain(false);
	dir_cached = carol_cached;
	ck_assert_int_eq(now_status(c, "carol", "DIR", NULL), NTLM_OK);
	ntlmd_backends_close(c);
	/* files first: its carol (DOM) typed in TESTSRV; the namesake check
	 * asks nobody before files: answered */
	c = mixed_chain(true);
	dir_cached = nothing_cached;
	ck_assert_int_eq(now_status(c, "carol", "TESTSRV", NULL), NTLM_OK);
	ck_assert_uint_eq(dir_asked, 0);
	ntlmd_backends_close(c);
	/* directory first, files' alice typed in TESTSRV: the directory's cache
	 * knows alice@TESTSRV, not alice@DOM, which the namesake check asks:
	 * not answered; the blocking lookup asks and finds the files account */
	write_file(path, ALICE_LINE, 0600);
	c = mixed_chain(false);
	dir_cached = typed_only;
	ck_assert_int_eq(now_status(c, "alice", "TESTSRV", NULL), -1);
	ck_assert_uint_eq(dir_asked, 0);
	ck_assert_status(ntlmd_backends_lookup(c, "alice", "TESTSRV", &a, NULL), NTLM_OK);
	ck_assert_str_eq(a.key, "files:alice");
	ck_assert_uint_eq(dir_asked, 2);
	ntlmd_account_clear(&a);
	ntlmd_backends_close(c);
}
END_TEST

START_TEST(chain_set_password)
{
	struct ntlm_hash h = hash_hex(NEW_NT);
	struct ntlmd_account a = {0};
	struct ntlmd_backend_chain *c;

	write_file(path, ALICE_LINE, 0600);
	write_file(path2, BOB_LINE, 0600);
	c = files_chain(path, path2);
	/* the account proven is the one written, under its own name */
	ck_assert_status(ntlmd_backends_set_password(c, "BOB", "", "files:bob", &h, 0x60000000), NTLM_OK);
	assert_file_is(path, ALICE_LINE);
	assert_file_is(path2, "bob:1001:" NO_HASH ":" NEW_NT ":[DUX        ]:LCT-60000000:\n");
	ck_assert_status(ntlmd_backends_lookup(c, "bob", "", &a, NULL), NTLM_OK);
	ck_assert_hex_eq(a.nt_hash.bytes, 16, NEW_NT);
	ck_assert_str_eq(a.name, "bob");
	ck_assert_str_eq(a.key, "files:bob");
	ntlmd_account_clear(&a);
	ck_assert_status(ntlmd_backends_set_password(c, "carol", "", "files:carol", &h, 0x60000000),
	                 NTLM_STATUS_NO_SUCH_USER);
	/* a key that is not the account's: nothing is written */
	ck_assert_status(ntlmd_backends_set_password(c, "alice", "", "ldap:uid=alice,dc=x", &h, 0x60000000),
	                 NTLM_STATUS_NO_SUCH_USER);
	assert_file_is(path, ALICE_LINE);
	ntlmd_backends_close(c);

	c = files_chain(missing, path2);
	ck_assert_status(ntlmd_backends_set_password(c, "carol", "", "files:carol", &h, 0x60000000),
	                 NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_status(ntlmd_backends_set_password(c, "bob", "", "files:bob", &h, 0x60000001),
	                 NTLM_ERR_BACKEND_UNAVAILABLE);
	ntlmd_backends_close(c);
	c = files_chain(path2, missing);
	ck_assert_status(ntlmd_backends_set_password(c, "bob", "", "files:bob", &h, 0x60000001), NTLM_OK);
	ntlmd_backends_close(c);
	ck_assert_int_eq(count_dir(dir), 2);
}
END_TEST

START_TEST(chain_open_from_config)
{
	struct ntlmd_config cfg = {.hash_file = path, .backends = (char *[]){(char *)"files", NULL}};
	struct ntlmd_config defaults;
	struct ntlmd_config_error err = {0};
	struct ntlmd_backend_chain *c = NULL;
	struct ntlmd_account a = {0};

	write_file(path, ALICE_LINE, 0600);
	ck_assert_status(ntlmd_backends_open(&cfg, &c), NTLM_OK);
	ck_assert_uint_eq(ntlmd_backends_count(c), 1);
	ck_assert_status(ntlmd_backends_lookup(c, "alice", "", &a, NULL), NTLM_OK);
	ntlmd_account_clear(&a);
	/* refresh goes to every store */
	write_file(path, BOB_LINE, 0600);
	ntlmd_backends_refresh(c);
	ck_assert_status(ntlmd_backends_lookup(c, "bob", "", &a, NULL), NTLM_OK);
	ntlmd_account_clear(&a);
	ntlmd_backends_close(c);

	/* ntlmd's defaults: backends = files, hash_file = NTLMD_DEFAULT_HASH_FILE */
	ck_assert_status(ntlmd_config_init(&defaults), NTLM_OK);
	ck_assert_str_eq(defaults.hash_file, NTLMD_DEFAULT_HASH_FILE);
	free(defaults.hash_file);
	defaults.hash_file = strdup(path);
	c = NULL;
	ck_assert_status(ntlmd_backends_open(&defaults, &c), NTLM_OK);
	ck_assert_uint_eq(ntlmd_backends_count(c), 1);
	ck_assert_ptr_eq(ntlmd_backends_store(c, 0, NULL), &ntlmd_backend_files);
	ck_assert_status(ntlmd_backends_lookup(c, "bob", "", &a, NULL), NTLM_OK);
	ntlmd_account_clear(&a);
	ntlmd_backends_close(c);
	ntlmd_config_clear(&defaults);

	cfg.backends = NULL; /* no list at all: files */
	c = NULL;
	ck_assert_status(ntlmd_backends_open(&cfg, &c), NTLM_OK);
	ck_assert_uint_eq(ntlmd_backends_count(c), 1);
	ntlmd_backends_close(c);

	c = NULL;
	cfg.backends = (char *[]){(char *)"files", (char *)"nis", NULL};
	ck_assert_status(ntlmd_backends_open_err(&cfg, &c, &err), NTLM_ERR_CONFIG);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err.reason, "\"nis\""));
	cfg.backends = (char *[]){(char *)"files", (char *)"files", NULL};
	ck_assert_status(ntlmd_backends_open_err(&cfg, &c, &err), NTLM_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err.reason, "twice"));
	cfg.backends = (char *[]){NULL};
	ck_assert_status(ntlmd_backends_open_err(&cfg, &c, &err), NTLM_ERR_CONFIG);

	/* an exposed hash file stops the daemon from starting */
	cfg.backends = (char *[]){(char *)"files", NULL};
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_status(ntlmd_backends_open_err(&cfg, &c, &err), NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err.reason, "readable or writable by others"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* The smbpasswd writer                                                */
/* ------------------------------------------------------------------ */

START_TEST(format_line_as_samba)
{
	struct smbpasswd_entry e = {
	    .user = (char *)"alice", .uid = 1000, .has_nt = true, .flags = "U", .last_change = 0x5F3A1B2C};
	struct smbpasswd_entry back;
	char *line;

	/* the way smbpasswd -a writes a user (lanman auth off) */
	e.nt = hash_hex(NT_PASSWORD);
	line = smbpasswd_format_line(&e);
	ck_assert_str_eq(line, "alice:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:A4F49C406510BDCAB6824EE7C30FD852:"
	                       "[U          ]:LCT-5F3A1B2C:\n");
	ck_assert_status(smbpasswd_parse_line(line, strlen(line) - 1, &back, NULL), NTLM_OK);
	ck_assert_str_eq(back.user, "alice");
	ck_assert(back.has_nt && !back.has_lm);
	ck_assert_hex_eq(back.nt.bytes, 16, NT_PASSWORD);
	ck_assert_int_eq(back.last_change, 0x5F3A1B2C);
	smbpasswd_entry_clear(&back);
	free(line);

	/* letters in pdb_encode_acct_ctrl's order; LM upper-case */
	e.has_lm = true;
	e.lm = hash_hex(LM_PASSWORD);
	snprintf(e.flags, sizeof(e.flags), "XUD");
	line = smbpasswd_format_line(&e);
	ck_assert_str_eq(line, "alice:1000:" LM_PASSWORD ":" NT_PASSWORD ":[DUX        ]:LCT-5F3A1B2C:\n");
	free(line);
	snprintf(e.flags, sizeof(e.flags), "IXLSWMUTHDN");
	line = smbpasswd_format_line(&e);
	ck_assert_str_eq(line, "alice:1000:" LM_PASSWORD ":" NT_PASSWORD ":[NDHTUMWSLXI]:LCT-5F3A1B2C:\n");
	free(line);

	/* no hash with N: "NO PASSWORD", as Samba writes it */
	e.has_lm = e.has_nt = false;
	snprintf(e.flags, sizeof(e.flags), "UN");
	line = smbpasswd_format_line(&e);
	ck_assert_str_eq(line, "alice:1000:" NO_PASSWORD ":" NO_PASSWORD ":[NU         ]:LCT-5F3A1B2C:\n");
	free(line);

	/* no known change time: the field is left empty, not "0" (must change) */
	e.last_change = -1;
	snprintf(e.flags, sizeof(e.flags), "U");
	line = smbpasswd_format_line(&e);
	ck_assert_str_eq(line, "alice:1000:" NO_HASH ":" NO_HASH ":[U          ]:\n");
	ck_assert_status(smbpasswd_parse_line(line, strlen(line) - 1, &back, NULL), NTLM_OK);
	ck_assert_int_eq(back.last_change, -1);
	smbpasswd_entry_clear(&back);
	free(line);

	/* what cannot be written */
	snprintf(e.flags, sizeof(e.flags), "Q");
	ck_assert_ptr_null(smbpasswd_format_line(&e));
	snprintf(e.flags, sizeof(e.flags), "U");
	e.user = (char *)"al:ice";
	ck_assert_ptr_null(smbpasswd_format_line(&e));
	e.user = (char *)"#alice";
	ck_assert_ptr_null(smbpasswd_format_line(&e));
	e.user = (char *)"";
	ck_assert_ptr_null(smbpasswd_format_line(&e));
	e.user = (char *)"al\nice";
	ck_assert_ptr_null(smbpasswd_format_line(&e));
	ck_assert_ptr_null(smbpasswd_format_line(NULL));
}
END_TEST

static enum ntlm_status edit_file(const char *file, const struct smbpasswd_edit *edit)
{
	const char *reason = NULL;
	enum ntlm_status st = smbpasswd_file_edit(file, edit, &reason);

	if (st != NTLM_OK) {
		ck_assert_ptr_nonnull(reason);
		ck_assert_ptr_null(strstr(reason, "A4F49C"));
	}
	return st;
}

START_TEST(edit_add_to_new_file)
{
	struct ntlm_hash nt = hash_hex(NT_PASSWORD), lm = hash_hex(LM_PASSWORD);
	struct smbpasswd_edit add = {
	    .op = SMBPASSWD_ADD, .user = "alice", .uid = 1000, .nt = &nt, .now = 0x5F3A1B2C};
	const char *reason = NULL;

	umask(022);
	ck_assert_status(edit_file(path, &add), NTLM_OK);
	assert_file_is(path, "alice:1000:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n");
	ck_assert_uint_eq(file_mode(path), 0600);

	/* LM hash and flags; U is added to a user account */
	add = (struct smbpasswd_edit){.op = SMBPASSWD_ADD,
	                              .user = "bob",
	                              .uid = 1001,
	                              .nt = &nt,
	                              .lm = &lm,
	                              .add_flags = "XD",
	                              .now = 0x5F3A1B2C};
	ck_assert_status(edit_file(path, &add), NTLM_OK);
	/* a trust account gets no U; an account without a password */
	add = (struct smbpasswd_edit){
	    .op = SMBPASSWD_ADD, .user = "wks1$", .uid = 1005, .add_flags = "W", .now = 0x5F3A1B2C};
	ck_assert_status(edit_file(path, &add), NTLM_OK);
	add = (struct smbpasswd_edit){
	    .op = SMBPASSWD_ADD, .user = "guest", .uid = 65534, .add_flags = "N", .now = 0x5F3A1B2C};
	ck_assert_status(edit_file(path, &add), NTLM_OK);
	assert_file_is(path, "alice:1000:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-5F3A1B2C:\n"
	                     "bob:1001:" LM_PASSWORD ":" NT_PASSWORD ":[DUX        ]:LCT-5F3A1B2C:\n"
	                     "wks1$:1005:" NO_HASH ":" NO_HASH ":[W          ]:LCT-5F3A1B2C:\n" GUEST_LINE);

	/* names are case-insensitive, as in Samba */
	add = (struct smbpasswd_edit){.op = SMBPASSWD_ADD, .user = "ALICE", .uid = 1, .nt = &nt, .now = 1};
	ck_assert_status(smbpasswd_file_edit(path, &add, &reason), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_str_eq(reason, "the user already exists");
	ck_assert_uint_eq(file_mode(path), 0600);
	ck_assert_int_eq(count_dir(dir), 1); /* no temporary file left */
}
END_TEST

START_TEST(edit_keeps_other_lines_byte_for_byte)
{
	struct ntlm_hash nt = hash_hex(NEW_NT);
	struct smbpasswd_edit e;
	struct stat before, after;
	/* a comment, a blank line, lower-case hex with a trailing field and
	 * CRLF, and a last line without a newline */
	const char *head = "# Samba SMB password file\n"
	                   "\n";
	const char *bob =
	    "bob:1001:" NO_HASH ":a4f49c406510bdcab6824ee7c30fd852:[DUX        ]:LCT-00000001:x:\r\n";
	const char *carol = "carol:1002:" NO_HASH ":" NT_PASSWORD ":[U]:";
	char *text = malloc(4096);

	ck_assert_ptr_nonnull(text);
	snprintf(text, 4096, "%s%s%s%s", head, ALICE_LINE, bob, carol);
	write_file(path, text, 0600);

	/* SET_HASH: new NT hash, LM cleared, LCT = now */
	e = (struct smbpasswd_edit){.op = SMBPASSWD_SET_HASH, .user = "alice", .nt = &nt, .now = 0x60000000};
	ck_assert_status(edit_file(path, &e), NTLM_OK);
	snprintf(text, 4096, "%s%s%s%s", head,
	         "alice:1000:" NO_HASH ":" NEW_NT ":[U          ]:LCT-60000000:\n", bob, carol);
	assert_file_is(path, text);

	/* SET_FLAGS: the line is rewritten the Samba way, its CRLF kept */
	e = (struct smbpasswd_edit){
	    .op = SMBPASSWD_SET_FLAGS, .user = "BOB", .add_flags = "L", .remove_flags = "D"};
	ck_assert_status(edit_file(path, &e), NTLM_OK);
	snprintf(text, 4096, "%s%s%s%s", head,
	         "alice:1000:" NO_HASH ":" NEW_NT ":[U          ]:LCT-60000000:\n",
	         "bob:1001:" NO_HASH ":" NT_PASSWORD ":[ULX        ]:LCT-00000001:\r\n", carol);
	assert_file_is(path, text);

	/* DELETE the last line; then ADD after a file that ends with CRLF */
	e = (struct smbpasswd_edit){.op = SMBPASSWD_DELETE, .user = "carol"};
	ck_assert_status(edit_file(path, &e), NTLM_OK);
	e = (struct smbpasswd_edit){
	    .op = SMBPASSWD_ADD, .user = "dave", .uid = 1003, .nt = &nt, .now = 0x60000002};
	ck_assert_status(edit_file(path, &e), NTLM_OK);
	snprintf(text, 4096, "%s%s%s%s", head,
	         "alice:1000:" NO_HASH ":" NEW_NT ":[U          ]:LCT-60000000:\n",
	         "bob:1001:" NO_HASH ":" NT_PASSWORD ":[ULX        ]:LCT-00000001:\r\n",
	         "dave:1003:" NO_HASH ":" NEW_NT ":[U          ]:LCT-60000002:\n");
	assert_file_is(path, text);

	/* a missing user changes nothing, not even the inode */
	ck_assert_int_eq(stat(path, &before), 0);
	e = (struct smbpasswd_edit){.op = SMBPASSWD_SET_HASH, .user = "carol", .nt = &nt, .now = 1};
	ck_assert_status(edit_file(path, &e), NTLM_STATUS_NO_SUCH_USER);
	e.op = SMBPASSWD_DELETE;
	ck_assert_status(edit_file(path, &e), NTLM_STATUS_NO_SUCH_USER);
	e.op = SMBPASSWD_SET_FLAGS;
	ck_assert_status(edit_file(path, &e), NTLM_STATUS_NO_SUCH_USER);
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_uint_eq(before.st_ino, after.st_ino);
	assert_file_is(path, text);
	ck_assert_int_eq(count_dir(dir), 1);
	free(text);
}
END_TEST

START_TEST(edit_set_hash_clears_no_password)
{
	struct ntlm_hash nt = hash_hex(NT_PASSWORD);
	struct smbpasswd_edit e = {.op = SMBPASSWD_SET_HASH, .user = "guest", .nt = &nt, .now = 0x60000000};

	write_file(path, GUEST_LINE, 0600);
	ck_assert_status(edit_file(path, &e), NTLM_OK);
	assert_file_is(path, "guest:65534:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-60000000:\n");
}
END_TEST

START_TEST(edit_keeps_mode_and_owner)
{
	struct smbpasswd_edit e = {.op = SMBPASSWD_SET_FLAGS, .user = "alice", .add_flags = "D"};
	struct stat st;

	write_file(path, ALICE_LINE, 0600);
	ck_assert_status(edit_file(path, &e), NTLM_OK);
	ck_assert_uint_eq(file_mode(path), 0600);
	ck_assert_int_eq(chmod(path, 0640), 0);
	e.remove_flags = "D";
	e.add_flags = NULL;
	ck_assert_status(edit_file(path, &e), NTLM_OK);
	ck_assert_uint_eq(file_mode(path), 0640);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_uid, geteuid());
	ck_assert_uint_eq(st.st_gid, getegid());
	assert_file_is(path, ALICE_LINE);
}
END_TEST

START_TEST(edit_rejects_bad_edits)
{
	char *link = path_in(dir, "link");
	struct ntlm_hash nt = hash_hex(NT_PASSWORD);
	struct smbpasswd_edit e = {.op = SMBPASSWD_ADD, .user = "al:ice", .nt = &nt, .now = 1};
	const char *reason = NULL;

	write_file(path, ALICE_LINE, 0600);
	ck_assert_status(edit_file(path, &e), NTLM_ERR_INVALID_ARGUMENT);
	e.user = "#alice";
	ck_assert_status(edit_file(path, &e), NTLM_ERR_INVALID_ARGUMENT);
	e.user = "carol";
	e.add_flags = "Q";
	ck_assert_status(edit_file(path, &e), NTLM_ERR_INVALID_ARGUMENT);
	e = (struct smbpasswd_edit){
	    .op = SMBPASSWD_SET_FLAGS, .user = "alice", .add_flags = "D", .remove_flags = "LD"};
	ck_assert_status(edit_file(path, &e), NTLM_ERR_INVALID_ARGUMENT);
	e.user = NULL;
	ck_assert_status(smbpasswd_file_edit(path, &e, &reason), NTLM_ERR_INVALID_ARGUMENT);
	ck_assert_status(smbpasswd_file_edit(path, NULL, &reason), NTLM_ERR_INVALID_ARGUMENT);
	assert_file_is(path, ALICE_LINE);

	/* the file is missing: no user in it, and it is not created */
	e = (struct smbpasswd_edit){.op = SMBPASSWD_SET_HASH, .user = "alice", .nt = &nt, .now = 1};
	ck_assert_status(edit_file(missing, &e), NTLM_STATUS_NO_SUCH_USER);
	ck_assert_int_eq(access(missing, F_OK), -1);

	/* a symbolic link is not replaced by a file */
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_status(smbpasswd_file_edit(link, &e, &reason), NTLM_ERR_BACKEND_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(reason, "symbolic link"));
	assert_file_is(path, ALICE_LINE);

	/* the user's own line is malformed */
	write_file(path, "alice:1000:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-zz:\n", 0600);
	ck_assert_status(smbpasswd_file_edit(path, &e, &reason), NTLM_ERR_BAD_ENCODING);
	ck_assert_str_eq(reason, "bad LCT field");
	ck_assert_int_eq(count_dir(dir), 2);
	free(link);
}
END_TEST

/* Adds users name0..name<n-1>; the exit status counts the failures. */
static void add_users(const char *file, const char *prefix, int n)
{
	struct ntlm_hash nt = hash_hex(NT_PASSWORD);
	int failures = 0;

	for (int i = 0; i < n; i++) {
		char name[32];
		struct smbpasswd_edit e = {
		    .op = SMBPASSWD_ADD, .user = name, .uid = (uint32_t)i, .nt = &nt, .now = i};
		snprintf(name, sizeof(name), "%s%d", prefix, i);
		failures += smbpasswd_file_edit(file, &e, NULL) != NTLM_OK;
	}
	_exit(failures);
}

START_TEST(edit_concurrent_editors_serialised)
{
	struct smbpasswd_db *db = NULL;
	const int n = 40;
	pid_t pids[2];

	write_file(path, "# shared\n", 0600);
	for (int k = 0; k < 2; k++) {
		pids[k] = fork();
		ck_assert_int_ge(pids[k], 0);
		if (pids[k] == 0)
			add_users(path, k == 0 ? "left" : "right", n);
	}
	for (int k = 0; k < 2; k++) {
		int status;
		ck_assert_int_eq(waitpid(pids[k], &status, 0), pids[k]);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	/* every edit of both is there: none was lost to the other's rename */
	ck_assert_status(smbpasswd_db_load(path, &db, NULL, NULL), NTLM_OK);
	ck_assert_uint_eq(smbpasswd_db_count(db), 2 * (size_t)n);
	for (int i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "left%d", i);
		ck_assert_ptr_nonnull(smbpasswd_db_find(db, name));
		snprintf(name, sizeof(name), "right%d", i);
		ck_assert_ptr_nonnull(smbpasswd_db_find(db, name));
	}
	ck_assert_ptr_nonnull(smbpasswd_db_entry(db, 2 * (size_t)n - 1));
	ck_assert_ptr_null(smbpasswd_db_entry(db, 2 * (size_t)n));
	smbpasswd_db_free(db);
	ck_assert_uint_eq(file_mode(path), 0600);
	ck_assert_int_eq(count_dir(dir), 1);
}
END_TEST

START_TEST(edit_lock_wait_is_bounded)
{
	struct smbpasswd_edit e = {.op = SMBPASSWD_SET_FLAGS, .user = "alice", .add_flags = "D"};
	const char *reason = NULL;
	struct timespec t0, t1;
	int pipefd[2], status;
	double waited;
	pid_t pid;
	char c;

	write_file(path, ALICE_LINE, 0600);
	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* a classic fcntl lock, as Samba's smbpasswd takes */
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		int fd = open(path, O_RDWR);
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
			_exit(1);
		if (write(pipefd[1], "L", 1) != 1)
			_exit(1);
		sleep(30);
		_exit(0);
	}
	ck_assert_int_eq(read(pipefd[0], &c, 1), 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_status(smbpasswd_file_edit(path, &e, &reason), NTLM_ERR_BACKEND_UNAVAILABLE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(waited >= 4.9 && waited < 7.0, "waited %.2f s", waited);
	ck_assert_ptr_nonnull(strstr(reason, "locked"));
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(pipefd[0]);
	close(pipefd[1]);
	/* the lock gone, the edit goes through */
	ck_assert_status(edit_file(path, &e), NTLM_OK);
	assert_file_is(path, "alice:1000:" LM_PASSWORD ":" NT_PASSWORD ":[DU         ]:LCT-5F3A1B2C:\n");
}
END_TEST

START_TEST(db_first_line_wins_and_lists_in_order)
{
	struct smbpasswd_db *db = NULL;

	write_file(
	    path, "# x\n" ALICE_LINE "ALICE:7:" NO_HASH ":" NT_PASSWORD ":[U          ]:\n" BOB_LINE "\n\r\n",
	    0600);
	ck_assert_status(smbpasswd_db_load(path, &db, NULL, NULL), NTLM_OK);
	ck_assert_uint_eq(smbpasswd_db_count(db), 3);
	ck_assert_uint_eq(smbpasswd_db_find(db, "Alice")->uid, 1000);
	ck_assert_str_eq(smbpasswd_db_entry(db, 0)->user, "alice");
	ck_assert_str_eq(smbpasswd_db_entry(db, 1)->user, "ALICE");
	ck_assert_str_eq(smbpasswd_db_entry(db, 2)->user, "bob");
	ck_assert_int_eq(smbpasswd_db_entry(db, 1)->last_change, -1);
	ck_assert_ptr_null(smbpasswd_db_entry(db, 3));
	ck_assert_ptr_null(smbpasswd_db_entry(NULL, 0));
	smbpasswd_db_free(db);

	write_file(path, "", 0600); /* empty: no users, still a good copy */
	ck_assert_status(smbpasswd_db_load(path, &db, NULL, NULL), NTLM_OK);
	ck_assert_uint_eq(smbpasswd_db_count(db), 0);
	ck_assert_ptr_null(smbpasswd_db_find(db, "alice"));
	smbpasswd_db_free(db);
}
END_TEST

/* ntlmd's verdict on account u of the file at path: the files store's
 * lookup through a chain, then ntlm's account policy, as credentials_found
 * does in ntlmd/verify.c. */
static enum ntlm_status daemon_verdict(const char *file, const struct ntlmd_logon *logon)
{
	const struct ntlmd_backend *b[] = {&ntlmd_backend_files};
	void *states[] = {open_files(file)};
	struct ntlmd_backend_chain *c = NULL;
	struct ntlmd_account a = {0};
	struct ntlm_credentials cred = {0};
	enum ntlm_status st;

	ck_assert_status(ntlmd_backends_new(b, states, 1, &c), NTLM_OK);
	st = ntlmd_backends_lookup(c, "u", "", &a, NULL);
	if (st == NTLM_OK && (st = ntlmd_account_credentials(&a, logon, &cred)) == NTLM_OK)
		st = cred.account_status;
	ntlmd_account_clear(&a);
	ntlmd_backends_close(c);
	return st;
}

/* ntlmtool verify's (and the interop acceptor's) verdict: ntlmd_db_lookup
 * over the loaded file. */
static enum ntlm_status tool_verdict(const char *file, const struct ntlmd_logon *logon)
{
	struct smbpasswd_db *db = NULL;
	struct ntlmd_db_lookup l = {.logon = *logon};
	struct ntlm_credentials cred = {0};
	enum ntlm_status st;

	ck_assert_status(smbpasswd_db_load(file, &db, NULL, NULL), NTLM_OK);
	l.db = db;
	st = ntlmd_db_lookup(&l, "u", "", &cred);
	if (st == NTLM_OK)
		st = cred.account_status;
	smbpasswd_db_free(db);
	return st;
}

/* One account policy: ntlmd and ntlmtool give the same verdict for every
 * flag letter, every pair of them, and every password-age case an
 * smbpasswd file can hold (no LCT, LCT 0 = must change, a time). */
START_TEST(daemon_and_tool_agree_on_every_flag)
{
	static const char letters[] = "UDLNXWSIHTM";
	static const char *const lcts[] = {"", "LCT-00000000:", "LCT-5F3A1B2C:"};
	struct ntlmd_logon logon = {.interactive = true, .now = 0x60000000};
	char line[160], flags[16];
	size_t cases = 0;

	for (size_t i = 0; i < sizeof(letters) - 1; i++)
		for (size_t j = i; j < sizeof(letters) - 1; j++)
			for (size_t t = 0; t < 3; t++)
				for (int hashes = 0; hashes < 2; hashes++) {
					enum ntlm_status d, k;
					snprintf(flags, sizeof(flags), "%c%c", letters[i], letters[j]);
					snprintf(line, sizeof(line), "u:1000:%s:%s:[%-11s]:%s\n", NO_HASH,
					         hashes ? NT_PASSWORD : NO_HASH, flags, lcts[t]);
					write_file(path, line, 0600);
					d = daemon_verdict(path, &logon);
					k = tool_verdict(path, &logon);
					ck_assert_msg(d == k, "%s: ntlmd %s, ntlmtool %s", line,
					              ntlm_status_name(d), ntlm_status_name(k));
					cases++;
				}
	ck_assert_uint_eq(cases, 66 * 3 * 2);
	/* the order both follow (Samba's): L before D, trust accounts refused,
	 * LCT 0 must change unless X, no NT hash no NTLM logon */
	write_file(path, "u:1000:" NO_HASH ":" NT_PASSWORD ":[DL         ]:LCT-5F3A1B2C:\n", 0600);
	ck_assert_status(tool_verdict(path, &logon), NTLM_STATUS_ACCOUNT_LOCKED_OUT);
	write_file(path, "u:1000:" NO_HASH ":" NT_PASSWORD ":[W          ]:LCT-5F3A1B2C:\n", 0600);
	ck_assert_status(tool_verdict(path, &logon), NTLM_STATUS_NOLOGON_TRUST_ACCOUNT);
	write_file(path, "u:1000:" NO_HASH ":" NT_PASSWORD ":[U          ]:LCT-00000000:\n", 0600);
	ck_assert_status(tool_verdict(path, &logon), NTLM_STATUS_PASSWORD_MUST_CHANGE);
	write_file(path, "u:1000:" NO_HASH ":" NT_PASSWORD ":[UX         ]:LCT-00000000:\n", 0600);
	ck_assert_status(tool_verdict(path, &logon), NTLM_OK);
	write_file(path, "u:1000:" NO_HASH ":" NO_HASH ":[U          ]:LCT-5F3A1B2C:\n", 0600);
	ck_assert_status(tool_verdict(path, &logon), NTLM_STATUS_ACCOUNT_RESTRICTION);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("backends");
	TCase *account = tcase_create("account");
	TCase *files = tcase_create("files");
	TCase *chain = tcase_create("chain");
	TCase *edit = tcase_create("smbpasswd editor");

	tcase_add_test(account, account_policy);
	tcase_add_test(account, account_logon_hours);
	tcase_add_test(account, account_workstations);
	tcase_add_test(account, account_clear_frees_and_wipes);
	suite_add_tcase(s, account);

	tcase_set_timeout(files, 30);
	tcase_add_test(files, files_lookup_maps_entries);
	tcase_add_test(files, files_refresh_on_change);
	tcase_add_test(files, files_refresh_same_size_same_tick);
	tcase_add_test(files, files_malformed_keeps_last_good_copy);
	tcase_add_test(files, files_missing_file);
	tcase_add_test(files, files_sids_and_membership);
	tcase_add_test(files, files_refuses_exposed_file);
	tcase_add_test(files, files_set_password);
	tcase_add_test(files, files_lookups_during_reloads);
	tcase_add_checked_fixture(files, make_fixture, remove_fixture);
	suite_add_tcase(s, files);

	tcase_add_test(chain, chain_asks_stores_in_order);
	tcase_add_test(chain, log_name_escapes_what_a_client_typed);
	tcase_add_test(chain, chain_unavailable_is_not_no_such_user);
	tcase_add_test(chain, chain_set_password);
	tcase_add_test(chain, chain_no_wait_files_first);
	tcase_add_test(chain, chain_no_wait_directory_first);
	tcase_add_test(chain, chain_no_wait_namesake_check);
	tcase_add_test(chain, chain_open_from_config);
	tcase_add_test(chain, daemon_and_tool_agree_on_every_flag);
	tcase_add_checked_fixture(chain, make_fixture, remove_fixture);
	suite_add_tcase(s, chain);

	tcase_set_timeout(edit, 30);
	tcase_add_test(edit, format_line_as_samba);
	tcase_add_test(edit, edit_add_to_new_file);
	tcase_add_test(edit, edit_keeps_other_lines_byte_for_byte);
	tcase_add_test(edit, edit_set_hash_clears_no_password);
	tcase_add_test(edit, edit_keeps_mode_and_owner);
	tcase_add_test(edit, edit_rejects_bad_edits);
	tcase_add_test(edit, edit_concurrent_editors_serialised);
	tcase_add_test(edit, edit_lock_wait_is_bounded);
	tcase_add_test(edit, db_first_line_wins_and_lists_in_order);
	tcase_add_checked_fixture(edit, make_fixture, remove_fixture);
	suite_add_tcase(s, edit);
	return test_run_suite(s);
}
