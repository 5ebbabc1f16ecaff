/*
 * passwd.c: "ntlmtool passwd": edits of an smbpasswd-format file through
 * smbpasswd_file_edit() (file lock, atomic rename, mode and owner kept,
 * lines written the way Samba writes them), and a listing that shows no
 * hash unless asked.
 */
#include <config.h>

#include "ntlmtool.h"

#include "smbpasswd.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char passwd_usage[] =
    "usage: ntlmtool passwd --file SMBPASSWD [set] USER [--uid N]  set USER's password\n"
    "       ntlmtool passwd --file SMBPASSWD useradd USER [--uid N] [--flags LETTERS]\n"
    "       ntlmtool passwd --file SMBPASSWD (del|disable|enable|unlock) USER\n"
    "       ntlmtool passwd --file SMBPASSWD list [--show-hashes] [--json]\n"
    "\n"
    "Edits an smbpasswd-format file safely: the file is locked, rewritten to a\n"
    "temporary file with the same mode and owner (0600 when created) and renamed\n"
    "over the old one. Flags are written the way Samba writes them. set adds\n"
    "USER, and creates the file, when missing (as useradd does).\n"
    "\n"
    "  --file FILE        the smbpasswd file (created by set and useradd)\n"
    "  --password PW|-    the new password for set and useradd ('-': one line from\n"
    "                     standard input); default: asked on the terminal, twice\n"
    "  --nt-hash HEX      store this NT hash instead of a password's\n"
    "  --lm               also store the LM hash (weak; Samba's 'lanman auth')\n"
    "  --uid N            useradd, and set when it adds USER: the uid written\n"
    "                     (default: the Unix user's)\n"
    "  --flags LETTERS    useradd, and set when it adds USER: account flags\n"
    "                     (default U; D disabled, X no expiry, ...)\n"
    "  --show-hashes      list: print the hashes too\n"
    "  --json             list: machine-readable output\n"
    "\n"
    "Exit status: 0 done, 1 no such user, 2 usage or file error.\n";

struct passwd_opts {
	const char *file, *password, *nt_hex, *flags, *uid;
	bool lm, show_hashes, json;
};

/* Account flag letters (Samba's pdb_encode_acct_ctrl) and what they mean. */
static const char *flag_meaning(char c)
{
	switch (c) {
	case 'U':
		return "user";
	case 'D':
		return "disabled";
	case 'L':
		return "locked";
	case 'N':
		return "no password required";
	case 'X':
		return "password never expires";
	case 'W':
		return "workstation trust";
	case 'S':
		return "server trust";
	case 'I':
		return "domain trust";
	case 'H':
		return "home directory required";
	case 'T':
		return "temporary duplicate";
	case 'M':
		return "MNS logon";
	default:
		break;
	}
	return "unknown";
}

/* A file error (exit 2) that names the file and the reason: the file's
 * own state (missing, unreadable) when stat() says so, else the reason. */
static int file_error(const char *file, const char *what, const char *reason, enum ntlm_status st)
{
	struct stat sb;

	if (stat(file, &sb) != 0)
		return tool_error("passwd", "%s: %s: %s%s", file, what, strerror(errno),
		                  errno == ENOENT ? " (ntlmtool passwd --file FILE USER creates it)" : "");
	if (access(file, R_OK) != 0)
		return tool_error("passwd", "%s: %s: %s", file, what, strerror(errno));
	return tool_error("passwd", "%s: %s: %s (%s)", file, what,
	                  reason != NULL ? reason : ntlm_status_message(st), ntlm_status_name(st));
}

static int list_file(const struct passwd_opts *o)
{
	struct smbpasswd_db *db = NULL;
	size_t bad_line = 0;
	const char *reason = NULL;
	enum ntlm_status st = smbpasswd_db_load(o->file, &db, &bad_line, &reason);
	struct doc *root, *users;

	if (st == NTLM_ERR_BAD_ENCODING)
		return tool_error("passwd", "%s:%zu: %s", o->file, bad_line,
		                  reason ? reason : "malformed line");
	if (st != NTLM_OK)
		return file_error(o->file, "cannot read the file", reason, st);
	root = doc_new();
	users = doc_array(root, "users", "");
	for (size_t i = 0; i < smbpasswd_db_count(db); i++) {
		const struct smbpasswd_entry *e = smbpasswd_db_entry(db, i);
		struct doc *u, *flags;
		char when[64];

		if (e == NULL)
			continue;
		u = doc_object(users, NULL, e->user);
		doc_summary(u, "uid %u, [%s]%s%s", (unsigned)e->uid, e->flags,
		            e->has_nt ? "" : ", no NT hash", e->has_lm ? ", LM hash stored" : "");
		doc_only(doc_str(u, "user", NULL, "%s", e->user), DOC_JSON_ONLY);
		doc_only(doc_num(u, "uid", NULL, e->uid), DOC_JSON_ONLY);
		flags = doc_only(doc_array(u, "flags", NULL), DOC_JSON_ONLY);
		for (const char *f = e->flags; *f; f++)
			doc_str(flags, NULL, NULL, "%c (%s)", *f, flag_meaning(*f));
		doc_only(doc_bool(u, "has_nt_hash", NULL, e->has_nt), DOC_JSON_ONLY);
		doc_only(doc_bool(u, "has_lm_hash", NULL, e->has_lm), DOC_JSON_ONLY);
		if (e->last_change >= 0) {
			format_filetime(ntlm_filetime_from_unix(e->last_change), when, sizeof(when));
			doc_str(u, "last_change", "last change", "%s", when);
		}
		if (o->show_hashes && e->has_nt)
			doc_hex(u, "nt_hash", "NT hash", e->nt.bytes, sizeof(e->nt.bytes));
		if (o->show_hashes && e->has_lm)
			doc_hex(u, "lm_hash", "LM hash", e->lm.bytes, sizeof(e->lm.bytes));
	}
	doc_print(stdout, root, o->json);
	doc_free(root);
	smbpasswd_db_free(db);
	return TOOL_OK;
}

/* The new hashes of set / useradd: --nt-hash, or a password. */
static int new_hashes(const struct passwd_opts *o, struct ntlm_hash *nt, struct ntlm_hash *lm, bool *ret_lm)
{
	char *pw = NULL;
	enum ntlm_status st;
	int rc;

	*ret_lm = false;
	if (o->nt_hex != NULL) {
		if (o->lm)
			return tool_usage_error("passwd", "--lm needs the password, not --nt-hash");
		if (!parse_hex_exact(o->nt_hex, nt->bytes, sizeof(nt->bytes)))
			return tool_usage_error("passwd", "--nt-hash: expected 32 hex digits");
		return TOOL_OK;
	}
	rc = read_password("passwd", o->password, "New password: ", true, &pw);
	if (rc != TOOL_OK)
		return rc;
	st = ntlm_ntowfv1(pw, nt);
	if (st == NTLM_OK && o->lm) {
		if (ntlm_lmowfv1(pw, lm) == NTLM_OK)
			*ret_lm = true;
		else
			fprintf(stderr, "ntlmtool passwd: no LM hash for a password over 14 bytes\n");
	}
	free_password(pw);
	return st == NTLM_OK ? TOOL_OK : tool_status_error("passwd", "cannot hash the password", st);
}

/* The uid for useradd: --uid, or the Unix account's. */
static int new_uid(const struct passwd_opts *o, const char *user, uint32_t *ret)
{
	const struct passwd *pw;
	uint64_t v;

	if (o->uid != NULL) {
		if (!parse_uint(o->uid, UINT32_MAX, &v))
			return tool_usage_error("passwd", "--uid: expected a number");
		*ret = (uint32_t)v;
		return TOOL_OK;
	}
	pw = getpwnam(user);
	if (pw == NULL)
		return tool_usage_error("passwd",
		                        "%s: cannot add %s: there is no Unix user '%s': give its uid "
		                        "with --uid",
		                        o->file, user, user);
	*ret = (uint32_t)pw->pw_uid;
	return TOOL_OK;
}

static const struct {
	const char *name;
	enum smbpasswd_edit_op op;
	const char *add, *remove; /* SET_FLAGS */
	const char *done;
} actions[] = {
    {"set", SMBPASSWD_SET_HASH, NULL, NULL, "password set for"},
    {"useradd", SMBPASSWD_ADD, NULL, NULL, "added"},
    {"del", SMBPASSWD_DELETE, NULL, NULL, "deleted"},
    {"disable", SMBPASSWD_SET_FLAGS, "D", NULL, "disabled"},
    {"enable", SMBPASSWD_SET_FLAGS, NULL, "D", "enabled"},
    {"unlock", SMBPASSWD_SET_FLAGS, NULL, "L", "unlocked"},
};

static int edit_file(const struct passwd_opts *o, size_t action, const char *user)
{
	struct smbpasswd_edit edit = {
	    .op = actions[action].op,
	    .user = user,
	    .add_flags = actions[action].add,
	    .remove_flags = actions[action].remove,
	    .now = (int64_t)time(NULL),
	};
	struct ntlm_hash nt = {{0}}, lm = {{0}};
	const char *reason = NULL;
	const char *done = actions[action].done;
	bool has_lm = false;
	enum ntlm_status st;
	int rc = TOOL_OK;

	if (edit.op == SMBPASSWD_ADD) {
		edit.add_flags = o->flags;
		rc = new_uid(o, user, &edit.uid);
	}
	if (rc == TOOL_OK && (edit.op == SMBPASSWD_ADD || edit.op == SMBPASSWD_SET_HASH)) {
		rc = new_hashes(o, &nt, &lm, &has_lm);
		edit.nt = &nt;
		edit.lm = has_lm ? &lm : NULL;
	}
	if (rc == TOOL_OK && o->uid != NULL && edit.op == SMBPASSWD_SET_HASH)
		rc = new_uid(o, user, &edit.uid); /* a bad --uid is refused before any change */
	if (rc != TOOL_OK)
		goto out;
	st = smbpasswd_file_edit(o->file, &edit, &reason);
	if (st == NTLM_STATUS_NO_SUCH_USER && edit.op == SMBPASSWD_SET_HASH) {
		/* set on a missing file or entry adds it, as useradd does */
		rc = new_uid(o, user, &edit.uid);
		if (rc != TOOL_OK)
			goto out;
		edit.op = SMBPASSWD_ADD;
		edit.add_flags = o->flags;
		reason = NULL;
		st = smbpasswd_file_edit(o->file, &edit, &reason);
		done = "added";
	}
	if (st == NTLM_STATUS_NO_SUCH_USER && access(o->file, F_OK) != 0) {
		rc = file_error(o->file, "cannot edit the file", reason, st); /* the file is missing */
	} else if (st == NTLM_STATUS_NO_SUCH_USER) {
		rc = TOOL_REJECTED;
		tool_error("passwd", "%s: %s: %s", o->file, user, reason ? reason : "no such user");
	} else if (st != NTLM_OK) {
		rc = tool_error("passwd", "%s: %s (%s)", o->file, reason ? reason : ntlm_status_message(st),
		                ntlm_status_name(st));
	} else {
		printf("%s %s in %s\n", done, user, o->file);
	}
out:
	ntlm_wipe(&nt, sizeof(nt));
	ntlm_wipe(&lm, sizeof(lm));
	return rc;
}

int cmd_passwd(int argc, char **argv)
{
	static const struct option opts[] = {OPTION_ARG("file", 'f'),
	                                     OPTION_PASSWORD,
	                                     OPTION_NT_HASH,
	                                     OPTION_FLAG("lm", 'l'),
	                                     OPTION_ARG("uid", 'u'),
	                                     OPTION_ARG("flags", 'F'),
	                                     OPTION_FLAG("show-hashes", 's'),
	                                     OPTION_JSON,
	                                     OPTION_HELP,
	                                     OPTION_END};
	struct passwd_opts o = {0};
	const struct opt_store store[] = {
	    {'f', &o.file, NULL},        {'p', &o.password, NULL}, {'n', &o.nt_hex, NULL},
	    {'u', &o.uid, NULL},         {'F', &o.flags, NULL},    {'l', NULL, &o.lm},
	    {'s', NULL, &o.show_hashes}, {'j', NULL, &o.json},     {0, NULL, NULL},
	};
	size_t action = 0, nargs;
	int rc = parse_options("passwd", argc, argv, ":h", opts, store, passwd_usage, NULL, NULL);

	if (rc != TOOL_OK)
		return rc < 0 ? TOOL_OK : rc;
	if (o.file == NULL)
		return tool_usage_error("passwd", "--file SMBPASSWD is required");
	nargs = (size_t)(argc - optind);
	if (nargs == 1 && strcmp(argv[optind], "list") == 0)
		return list_file(&o);
	if (nargs == 2) {
		for (action = 0; action < ARRAY_LEN(actions); action++)
			if (strcmp(argv[optind], actions[action].name) == 0)
				break;
		if (action == ARRAY_LEN(actions))
			return tool_usage_error("passwd", "unknown action '%s'", argv[optind]);
		optind++;
	} else if (nargs == 1) {
		for (size_t i = 0; i < ARRAY_LEN(actions); i++)
			if (strcmp(argv[optind], actions[i].name) == 0)
				return tool_usage_error("passwd", "%s needs a USER", argv[optind]);
	} else {
		return tool_usage_error("passwd", "expected [ACTION] USER, or list");
	}
	if ((o.uid != NULL || o.flags != NULL) && actions[action].op != SMBPASSWD_ADD &&
	    actions[action].op != SMBPASSWD_SET_HASH)
		return tool_usage_error("passwd", "--uid and --flags are for set and useradd");
	return edit_file(&o, action, argv[optind]);
}
