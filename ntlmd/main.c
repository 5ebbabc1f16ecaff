/*
 * main.c: ntlmd start-up: options, configuration (ntlmd -t checks it),
 * hardening, the listening socket (its own, or systemd's), the privilege
 * drop, the event loop, reload on SIGHUP and a clean exit on SIGTERM.
 *
 * The order matters: everything that needs root (the hash file, the
 * socket directory, the audit file) is opened first, then the process
 * drops to the configured user and group, and only then does it serve.
 */
#include <config.h> /* autoconf: PACKAGE_VERSION, _GNU_SOURCE */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "registry.h"
#include "server.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* systemd's sd_listen_fds(3) protocol: the first passed descriptor. */
#define SD_LISTEN_FDS_START 3
#define MAX_CONFIG_ERRORS   64

struct options {
	const char *config;
	bool debug;      /* -d: foreground, log to stderr */
	bool foreground; /* -F: foreground, log to syslog only */
	bool test;       /* -t */
};

/* The daemon's state, for the reload and tick hooks. The configuration
 * and chain in service are ctx.setup's (context.h): a reload makes a new
 * setup, and the old one lives on until the last request that started
 * under it is freed. */
struct daemon {
	struct options opt;
	struct ntlmd_context ctx;
	/* What was last logged of each files store: loads and failures */
	struct {
		unsigned long loads, failures;
	} reported[8];
};

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: ntlmd [-f FILE] [-d | -F] [-t]\n"
	        "The NTLM verification daemon: the only process that reads NT hashes.\n\n"
	        "  -f, --config FILE  configuration file (default %s)\n"
	        "  -d, --debug        stay in the foreground and log to stderr too\n"
	        "  -F, --foreground   stay in the foreground (for systemd), log to syslog\n"
	        "  -t, --test         check the configuration and exit (0: OK, 1: errors)\n"
	        "  -h, --help         this help\n"
	        "  -V, --version      the version\n\n"
	        "Defaults of this installation: the socket %s (socket),\n"
	        "the files backend's hash file %s (hash_file).\n",
	        NTLMD_DEFAULT_CONFIG, NTLMD_DEFAULT_SOCKET, NTLMD_DEFAULT_HASH_FILE);
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'f'},
	    {"debug", no_argument, NULL, 'd'},
	    {"foreground", no_argument, NULL, 'F'},
	    {"test", no_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	static const char flag_letters[] = "dFt"; /* the options that only set a flag */
	int c;

	*opt = (struct options){.config = NTLMD_DEFAULT_CONFIG};
	while ((c = getopt_long(argc, argv, "f:dFthV", longopts, NULL)) != -1) {
		bool *flags[] = {&opt->debug, &opt->foreground, &opt->test};
		const char *flag = c > 0 ? strchr(flag_letters, c) : NULL;

		if (flag != NULL) {
			*flags[flag - flag_letters] = true;
			continue;
		}
		switch (c) {
		case 'f':
			opt->config = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("ntlmd %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ntlmd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Prints (or logs, once running, at priority) each of errors[0..n) as
 * FILE:LINE: reason, the reason after "warning: " below LOG_ERR. */
static void print_problems(const char *path, const struct ntlmd_config_error *errors, size_t n, bool running,
                           int priority)
{
	const char *kind = priority == LOG_ERR ? "" : "warning: ";

	for (size_t i = 0; i < n && i < MAX_CONFIG_ERRORS; i++) {
		char where[32] = "";

		if (errors[i].line > 0)
			snprintf(where, sizeof(where), ":%u", errors[i].line);
		if (running)
			ntlmd_log(priority, "%s%s: %s%s", path, where, kind, errors[i].reason);
		else
			fprintf(stderr, "%s%s: %s%s\n", path, where, kind, errors[i].reason);
	}
}

static void print_errors(const char *path, const struct ntlmd_config_error *errors, size_t n, bool running)
{
	print_problems(path, errors, n, running, LOG_ERR);
}

/* Reads the configuration; every error is printed as FILE:LINE: reason
 * (to stderr, or to the log once running). */
static enum ntlm_status load_config(const char *path, struct ntlmd_config *cfg, bool running)
{
	struct ntlmd_config_error errors[MAX_CONFIG_ERRORS];
	size_t n = 0;
	enum ntlm_status st = ntlmd_stores_config_load(path, cfg, errors, MAX_CONFIG_ERRORS, &n);

	if (st == NTLM_ERR_CONFIG && n == 0) {
		if (running)
			ntlmd_log(LOG_ERR, "%s: cannot read: %s", path, strerror(errno));
		else
			fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
		return st;
	}
	print_errors(path, errors, n, running);
	if (n > MAX_CONFIG_ERRORS) {
		if (running)
			ntlmd_log(LOG_ERR, "%s: %zu more errors", path, n - MAX_CONFIG_ERRORS);
		else
			fprintf(stderr, "%s: %zu more errors\n", path, n - MAX_CONFIG_ERRORS);
	}
	if (st == NTLM_OK && n > 0)
		st = NTLM_ERR_CONFIG;
	return st;
}

static bool uses_backend(const struct ntlmd_config *cfg, const char *name)
{
	for (size_t i = 0; cfg->backends != NULL && cfg->backends[i] != NULL; i++)
		if (strcmp(cfg->backends[i], name) == 0)
			return true;
	return false;
}

/* A secret file must not be open to others (mode & 007). A missing file
 * is the backend's business (it serves nothing and says so). Returns
 * false with a reason in why. */
static bool secret_file_ok(const char *path, char *why, size_t n)
{
	struct stat st;

	if (path == NULL || stat(path, &st) != 0)
		return true;
	if ((st.st_mode & 007) != 0) {
		snprintf(why, n, "%s: readable or writable by others (mode %04o); run: chmod o-rwx %s", path,
		         (unsigned)(st.st_mode & 07777), path);
		return false;
	}
	return true;
}

/* The backends' own keys (ldap: uri, base, bindpw_file, ...), their
 * password files included; false after printing or logging each problem
 * as FILE:LINE: reason. */
static bool backend_keys_ok(const struct ntlmd_config *cfg, bool running)
{
	struct ntlmd_config_error errors[MAX_CONFIG_ERRORS];
	size_t n = ntlmd_backends_check_config(cfg, errors, MAX_CONFIG_ERRORS);

	print_errors(cfg->path != NULL ? cfg->path : "ntlmd.conf", errors, n, running);
	if (n > 0)
		return false;
	/* keys of a store not in use: read, but they serve nothing */
	n = ntlmd_backends_unused_keys(cfg, errors, MAX_CONFIG_ERRORS);
	print_problems(cfg->path != NULL ? cfg->path : "ntlmd.conf", errors, n, running, LOG_WARNING);
	return true;
}

/* All secret files of cfg; false after printing or logging the reason. */
static bool secrets_ok(const struct ntlmd_config *cfg, bool running)
{
	char why[PATH_MAX * 2 + 100];

	if (!backend_keys_ok(cfg, running))
		return false;
	if (!uses_backend(cfg, "files") || secret_file_ok(cfg->hash_file, why, sizeof(why)))
		return true;
	if (running)
		ntlmd_log(LOG_ERR, "%s", why);
	else
		fprintf(stderr, "ntlmd: %s\n", why);
	return false;
}

/* No core dumps and no ptrace by others (the process holds NT hashes),
 * and no privilege gain through exec. */
static int harden(void)
{
	struct rlimit none = {0, 0}, files;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || setrlimit(RLIMIT_CORE, &none) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	/* Room for max_connections descriptors. */
	if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
		files.rlim_cur = files.rlim_max;
		setrlimit(RLIMIT_NOFILE, &files);
	}
	return 0;
}

/* A socket systemd passed (LISTEN_PID, LISTEN_FDS; sd_listen_fds(3)), or
 * -1 when there is none. */
static int systemd_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int type = 0;
	socklen_t len = sizeof(type);
	struct stat st;

	if (pid == NULL || fds == NULL || strtol(pid, NULL, 10) != (long)getpid() ||
	    strtol(fds, NULL, 10) < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (fstat(SD_LISTEN_FDS_START, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    getsockopt(SD_LISTEN_FDS_START, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
		fprintf(stderr, "ntlmd: descriptor %d from systemd is not a stream socket\n",
		        SD_LISTEN_FDS_START);
		return -2;
	}
	return SD_LISTEN_FDS_START;
}

/* Creates the socket's directory (0755, one level) when missing;
 * *ret_created tells whether it did. */
static int make_socket_dir(const char *path, bool *ret_created)
{
	char *copy = strdup(path), *dir;
	struct stat st;
	int rc = 0;

	*ret_created = false;
	if (copy == NULL)
		return -1;
	dir = dirname(copy);
	if (stat(dir, &st) != 0) {
		if (mkdir(dir, 0755) != 0 || chmod(dir, 0755) != 0) {
			fprintf(stderr, "ntlmd: cannot create %s: %s\n", dir, strerror(errno));
			rc = -1;
		} else {
			*ret_created = true;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "ntlmd: %s is not a directory\n", dir);
		rc = -1;
	}
	free(copy);
	return rc;
}

/* Binds and listens on path with mode 0666: access is decided per
 * request by SO_PEERCRED, not by the file mode. A stale socket is
 * replaced; a live one (another ntlmd answers) is an error. */
static int listen_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ntlmd: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0) {
		fprintf(stderr, "ntlmd: another daemon listens on %s already\n", path);
		close(fd);
		return -1;
	}
	close(fd);
	if (unlink(path) != 0 && errno != ENOENT)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0666) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		goto fail;
	}
	return fd;
fail:
	fprintf(stderr, "ntlmd: %s: %s\n", path, strerror(errno));
	return -1;
}

/* A decimal number (a uid or gid given as such). */
static bool parse_number(const char *s, unsigned long *ret)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	*ret = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* The uid and primary gid of a user, by name or number (*ret_gid is left
 * alone for a number no account has); -1 when there is no such user. */
static int user_ids(const char *name, uid_t *ret_uid, gid_t *ret_gid)
{
	const struct passwd *pw = getpwnam(name);
	unsigned long n;

	if (pw == NULL && parse_number(name, &n)) {
		*ret_uid = (uid_t)n;
		pw = getpwuid((uid_t)n);
	}
	if (pw != NULL) {
		*ret_uid = pw->pw_uid;
		*ret_gid = pw->pw_gid;
	}
	return pw != NULL || parse_number(name, &n) ? 0 : -1;
}

/* The gid of a group, by name or number; -1 when there is none. */
static int group_id(const char *name, gid_t *ret)
{
	const struct group *gr = getgrnam(name);
	unsigned long n;

	if (gr != NULL)
		*ret = gr->gr_gid;
	else if (parse_number(name, &n))
		*ret = (gid_t)n;
	else
		return -1;
	return 0;
}

/* Drops to cfg->user / cfg->group: supplementary groups reset, gid, uid,
 * each checked afterwards. chown_dir (may be NULL) is the socket directory
 * ntlmd created, handed over so the socket can be removed at exit. */
static int drop_privileges(const struct ntlmd_config *cfg, const char *chown_dir)
{
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (cfg->user == NULL && cfg->group == NULL)
		return 0;
	if (cfg->user != NULL && user_ids(cfg->user, &uid, &gid) != 0) {
		fprintf(stderr, "ntlmd: user '%s' not found\n", cfg->user);
		return -1;
	}
	if (cfg->group != NULL && group_id(cfg->group, &gid) != 0) {
		fprintf(stderr, "ntlmd: group '%s' not found\n", cfg->group);
		return -1;
	}
	if (chown_dir != NULL && chown(chown_dir, uid, gid) != 0)
		fprintf(stderr, "ntlmd: cannot hand %s to uid %u: %s\n", chown_dir, (unsigned)uid,
		        strerror(errno));
	/* The audit file was opened as root: a reopen after a rotation (SIGHUP)
	 * runs as uid and must still be able to append to it. */
	if (ntlmd_audit_chown(uid, gid) != 0)
		fprintf(stderr, "ntlmd: cannot hand the audit file %s to uid %u: %s\n", cfg->audit_json,
		        (unsigned)uid, strerror(errno));
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		fprintf(stderr, "ntlmd: cannot drop privileges to uid %u gid %u: %s\n", (unsigned)uid,
		        (unsigned)gid, strerror(errno));
		return -1;
	}
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid ||
	    (uid != 0 && setuid(0) == 0)) {
		fprintf(stderr, "ntlmd: privileges not dropped as asked\n");
		return -1;
	}
	/* setuid() resets the dumpable flag on some kernels: set it again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		fprintf(stderr, "ntlmd: cannot make the process non-dumpable: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Forks into the background; the parent exits once the socket listens. */
static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	if (chdir("/") != 0)
		return -1;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

/* Logs what changed in each files store since the last call: one line
 * per good load, and one per failed one (the store keeps serving its last
 * good copy and says so; the reason names the line, never a field). */
static void report_stores(struct daemon *d, const struct ntlmd_setup *setup)
{
	size_t n = ntlmd_backends_count(setup->chain);

	for (size_t i = 0; i < n && i < sizeof(d->reported) / sizeof(d->reported[0]); i++) {
		struct ntlmd_files_status st;
		void *state = NULL;

		if (ntlmd_backends_store(setup->chain, i, &state) != &ntlmd_backend_files)
			continue;
		ntlmd_files_get_status(state, &st);
		if (st.failures != d->reported[i].failures && st.error != NTLM_OK)
			ntlmd_log(LOG_ERR, "files: %s", st.reason);
		if (st.loads != d->reported[i].loads)
			ntlmd_log(LOG_INFO, "files: %zu users loaded from %s", st.users,
			          setup->cfg->hash_file);
		d->reported[i].failures = st.failures;
		d->reported[i].loads = st.loads;
	}
}

/* SIGHUP: (re)opens the audit file at path, so that a rotated file (mv,
 * then SIGHUP) is followed by a new one. When the open fails, the file open
 * so far keeps receiving the records: none is lost. */
static void reopen_audit(const char *path)
{
	enum ntlm_status st = ntlmd_audit_open(path);

	if (st != NTLM_OK) {
		int e = errno;

		ntlmd_log(LOG_ERR,
		          "cannot reopen the audit file %s: %s (%s): records go on to the file open "
		          "before; its directory must be writable by uid %u",
		          path, strerror(e), ntlm_status_name(st), (unsigned)geteuid());
	}
}

/* SIGHUP: the audit file is reopened, and a new configuration and a freshly opened backend chain replace
 * the old ones only when both are good; otherwise nothing changes. */
static void reload(void *arg)
{
	struct daemon *d = arg;
	const struct ntlmd_config *running = d->ctx.cfg;
	struct ntlmd_config *cfg = calloc(1, sizeof(*cfg));
	struct ntlmd_backend_chain *backends = NULL;
	struct ntlmd_setup *setup;
	struct ntlmd_config_error err = {0};
	enum ntlm_status st;

	if (cfg == NULL || load_config(d->opt.config, cfg, true) != NTLM_OK || !secrets_ok(cfg, true)) {
		ntlmd_log(LOG_ERR, "reload failed: keeping the running configuration");
		goto fail;
	}
	if ((st = ntlmd_backends_open_err(cfg, &backends, &err)) != NTLM_OK) {
		ntlmd_log(LOG_ERR, "reload failed: %s (%s); keeping the running configuration",
		          err.reason[0] != '\0' ? err.reason : ntlm_status_message(st), ntlm_status_name(st));
		goto fail;
	}
	if ((setup = ntlmd_setup_new(cfg, backends, true)) == NULL) {
		ntlmd_log(LOG_ERR, "reload failed: out of memory; keeping the running configuration");
		ntlmd_backends_close(backends);
		goto fail;
	}
	if (strcmp(cfg->socket_path, running->socket_path) != 0 ||
	    cfg->max_connections != running->max_connections ||
	    cfg->store_workers != running->store_workers || (cfg->user == NULL) != (running->user == NULL) ||
	    (cfg->user != NULL && strcmp(cfg->user, running->user) != 0))
		ntlmd_log(LOG_WARNING,
		          "changes of socket, max_connections, store_workers and user take effect "
		          "at the next start");
	reopen_audit(cfg->audit_json);
	/* requests waiting on the old chain keep it until they are done */
	ntlmd_context_reload(&d->ctx, setup);
	ntlmd_setup_unref(setup);
	memset(d->reported, 0, sizeof(d->reported));
	report_stores(d, d->ctx.setup);
	if (!d->opt.debug)
		ntlmd_log_set_level(d->ctx.cfg->log_level);
	ntlmd_log(LOG_INFO, "configuration reloaded from %s", d->opt.config);
	return;
fail:
	reopen_audit(running->audit_json); /* a rotation still takes effect */
	if (cfg != NULL)
		ntlmd_config_clear(cfg);
	free(cfg);
}

/* Once a second: stores pick up changed files. */
static void tick(void *arg)
{
	struct daemon *d = arg;

	ntlmd_backends_refresh(d->ctx.setup->chain);
	report_stores(d, d->ctx.setup);
}

int main(int argc, char **argv)
{
	static struct daemon d;
	struct ntlmd_server_hooks hooks = {.reload = reload, .tick = tick, .arg = &d};
	struct ntlmd_server *server = NULL;
	struct ntlmd_config_error err = {0};
	/* static: still reachable (not leaked) in the parent that exits from
	 * daemonize() */
	static struct ntlmd_config *cfg;
	static struct ntlmd_backend_chain *backends;
	static struct ntlmd_setup *setup;
	static char *socket_dir_copy, *bound_path;
	const char *created_dir = NULL;
	bool dir_created = false, own_socket = false;
	enum ntlm_status st;
	int listen_fd = -1, rc = 1;

	if (parse_options(argc, argv, &d.opt) != 0)
		return 2;
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		fprintf(stderr, "ntlmd: out of memory\n");
		return 1;
	}
	if (load_config(d.opt.config, cfg, false) != NTLM_OK) {
		if (!d.opt.test)
			fprintf(stderr, "ntlmd: not started: the configuration has errors\n");
		free(cfg);
		return 1;
	}
	if (!secrets_ok(cfg, false)) {
		if (!d.opt.test)
			fprintf(stderr,
			        "ntlmd: not started: a backend setting or a secret file is refused\n");
		goto out;
	}
	if (d.opt.test) {
		printf("configuration OK\n");
		rc = 0;
		goto out;
	}
	if (harden() != 0) {
		fprintf(stderr, "ntlmd: cannot disable core dumps: %s\n", strerror(errno));
		goto out;
	}
	ntlmd_log_open(d.opt.debug, d.opt.debug ? LOG_DEBUG : cfg->log_level);
	ntlmd_backends_set_log(ntlmd_log);
	if ((st = ntlmd_backends_open_err(cfg, &backends, &err)) != NTLM_OK) {
		fprintf(stderr, "ntlmd: cannot open the backends: %s (%s)\n",
		        err.reason[0] != '\0' ? err.reason : ntlm_status_message(st), ntlm_status_name(st));
		goto out;
	}
	/* from here the setup owns cfg and the chain */
	if ((setup = ntlmd_setup_new(cfg, backends, true)) == NULL) {
		fprintf(stderr, "ntlmd: out of memory\n");
		goto out;
	}
	report_stores(&d, setup);
	if (ntlmd_audit_open(cfg->audit_json) != NTLM_OK) {
		fprintf(stderr, "ntlmd: cannot open the audit file %s: %s\n", cfg->audit_json,
		        strerror(errno));
		goto out;
	}

	listen_fd = systemd_socket();
	if (listen_fd == -2)
		goto out;
	if (listen_fd < 0) {
		if (make_socket_dir(cfg->socket_path, &dir_created) != 0)
			goto out;
		if (dir_created) {
			socket_dir_copy = strdup(cfg->socket_path);
			created_dir = socket_dir_copy != NULL ? dirname(socket_dir_copy) : NULL;
		}
		listen_fd = listen_socket(cfg->socket_path);
		if (listen_fd < 0)
			goto out;
		bound_path = strdup(cfg->socket_path);
		own_socket = bound_path != NULL;
	}
	if (drop_privileges(cfg, created_dir) != 0)
		goto out;
	if (uses_backend(cfg, "files") && cfg->hash_file != NULL && access(cfg->hash_file, R_OK) != 0 &&
	    errno != ENOENT)
		fprintf(stderr,
		        "ntlmd: warning: %s is not readable after the privilege drop: changes to it "
		        "will not be picked up\n",
		        cfg->hash_file);

	/* Before the event loop exists: a signalfd watched by epoll wakes the
	 * process that registered it, not a forked child. */
	if (!d.opt.debug && !d.opt.foreground && daemonize() != 0) {
		ntlmd_log(LOG_ERR, "cannot go to the background: %s", strerror(errno));
		goto out;
	}
	if ((st = ntlmd_context_init(&d.ctx, setup)) != NTLM_OK) {
		fprintf(stderr, "ntlmd: %s\n", ntlm_status_message(st));
		goto out;
	}
	/* the context holds it now: a reload's new setup frees this one once
	 * its last request is done */
	ntlmd_setup_unref(setup);
	setup = NULL;
	cfg = NULL;
	server = ntlmd_server_new(listen_fd, &d.ctx, d.ctx.cfg->max_connections, &hooks);
	if (server == NULL) {
		fprintf(stderr, "ntlmd: cannot set up the event loop: %s\n", strerror(errno));
		goto out;
	}
	ntlmd_log(LOG_INFO, "ntlmd %s listening on %s (uid %u)", PACKAGE_VERSION,
	          own_socket ? d.ctx.cfg->socket_path : "a socket from systemd", (unsigned)getuid());
	rc = ntlmd_server_run(server) == 0 ? 0 : 1;
	ntlmd_log(LOG_INFO, "ntlmd stopped");
out:
	ntlmd_server_free(server);
	if (listen_fd >= 0)
		close(listen_fd);
	if (own_socket && unlink(bound_path) != 0 && errno != ENOENT)
		ntlmd_log(LOG_WARNING, "cannot remove %s: %s", bound_path, strerror(errno));
	free(bound_path);
	/* the loop's requests are freed (ntlmd_server_free): the context's
	 * reference is the last one */
	ntlmd_context_clear(&d.ctx);
	if (setup != NULL) {
		ntlmd_setup_unref(setup);
	} else if (cfg != NULL) { /* failed before the setup was made */
		ntlmd_backends_close(backends);
		ntlmd_config_clear(cfg);
		free(cfg);
	}
	ntlmd_audit_close();
	free(socket_dir_copy);
	ntlmd_log_close();
	return rc;
}
