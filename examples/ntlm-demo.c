/*
 * ntlm-demo: the built-in default job. It sets up a private ntlmd with the
 * files backend and a demo user, then runs real NTLM exchanges through it:
 * the client side is libntlmssp's initiator, the server side is ntlmd (the
 * only process that reads the hash), reached over its UNIX socket with the
 * CHALLENGE and VERIFY requests of docs/PROTOCOL.md. It prints each
 * message, the daemon's verdict and the daemon's audit log:
 *
 *   1. NTLMv2 with MIC and TLS channel bindings, the right password: accepted;
 *   2. the same with a wrong password: STATUS_WRONG_PASSWORD;
 *   3. NTLMv1 with the right password: refused by the default policy.
 *
 * usage: ntlm-demo NTLMD-BINARY [DIR]   (DIR defaults to a new directory under /tmp)
 * Exit status 0 when every outcome is the expected one.
 */
#include <config.h>

#include "client.h"
#include "ntlmssp.h"
#include "protocol.h"
#include "smbpasswd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEMO_USER   "demo"
#define DEMO_DOMAIN "DEMO"
/* A throwaway password for the demo account only. */
#define DEMO_PASSWORD "Demo-Passw0rd"
#define DEMO_SERVICE  "demo"

/* "tls-server-end-point:" || SHA-256 of a certificate, as RFC 5929 binds
 * a TLS channel; the bytes stand in for a real certificate hash. */
static const uint8_t demo_binding[] = "tls-server-end-point:"
                                      "\x3a\x9c\x51\x07\xe2\x48\x1d\x6f\x90\x2b\xc4\x77\x05\xde\x13\x88"
                                      "\x6c\x21\xfa\x49\xb0\x3e\x95\x0d\x72\x14\xa8\x5b\xe6\x0f\xc9\x31";

struct demo {
	char dir[256];
	char socket[300], hashes[300], conf[300], log[300], audit[300];
	pid_t daemon;
};

/* Adds the demo user to a new smbpasswd-format file with the project's
 * own editor (lock, temporary file, atomic rename, mode 0600). */
static int write_hash_file(const struct demo *d)
{
	struct ntlm_hash nt;
	struct smbpasswd_edit add = {
	    .op = SMBPASSWD_ADD,
	    .user = DEMO_USER,
	    .uid = 1000,
	    .nt = &nt,
	    .add_flags = "UX",
	    .now = time(NULL),
	};
	const char *reason = NULL;
	enum ntlm_status st = ntlm_ntowfv1(DEMO_PASSWORD, &nt);

	if (st == NTLM_OK)
		st = smbpasswd_file_edit(d->hashes, &add, &reason);
	ntlm_wipe(&nt, sizeof(nt));
	if (st != NTLM_OK)
		fprintf(stderr, "ntlm-demo: cannot write %s: %s (%s)\n", d->hashes, reason ? reason : "",
		        ntlm_status_name(st));
	return st == NTLM_OK ? 0 : -1;
}

/* A minimal ntlmd.conf: private socket, files backend, default policy. */
static int write_config(const struct demo *d)
{
	FILE *f = fopen(d->conf, "we");

	if (f == NULL)
		return -1;
	fprintf(f,
	        "# ntlm-demo: a private ntlmd with the files backend\n"
	        "socket %s\n"
	        "backends files\n"
	        "hash_file %s\n"
	        "audit_json %s\n"
	        "netbios_name NTLMDEMO\n"
	        "netbios_domain %s\n"
	        "dns_name ntlmdemo.example.test\n"
	        "dns_domain example.test\n",
	        d->socket, d->hashes, d->audit, DEMO_DOMAIN);
	return fclose(f) == 0 ? 0 : -1;
}

/* Starts "ntlmd -d -f CONF" with its log in d->log, and waits until it
 * answers PING (at most 5 s). */
static int start_daemon(struct demo *d, const char *ntlmd)
{
	struct ntlm_writer none;

	d->daemon = fork();
	if (d->daemon < 0)
		return -1;
	if (d->daemon == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
			_exit(127);
		execl(ntlmd, "ntlmd", "-d", "-f", d->conf, (char *)NULL);
		_exit(127);
	}
	ntlmd_fields_init(&none);
	for (int i = 0; i < 100; i++) {
		struct ntlmd_reply r;
		if (ntlmd_call(d->socket, NTLMD_REQ_PING, &none, 500, &r) == NTLM_OK) {
			ntlmd_reply_clear(&r);
			ntlm_writer_clear(&none);
			return 0;
		}
		if (waitpid(d->daemon, NULL, WNOHANG) == d->daemon) {
			d->daemon = 0;
			break;
		}
		usleep(50 * 1000);
	}
	ntlm_writer_clear(&none);
	return -1;
}

static void stop_daemon(struct demo *d)
{
	if (d->daemon > 0) {
		kill(d->daemon, SIGTERM);
		waitpid(d->daemon, NULL, 0);
		d->daemon = 0;
	}
}

/* Prints a message as base64, the way it travels in an HTTP header. */
static void print_message(const char *arrow, const char *name, const uint8_t *msg, size_t len)
{
	char *b64 = NULL;

	if (ntlm_base64_encode(msg, len, &b64) != NTLM_OK)
		return;
	printf("  %s %-12s %3zu bytes  NTLM %.56s%s\n", arrow, name, len, b64, strlen(b64) > 56 ? "..." : "");
	free(b64);
}

/* Asks ntlmd for a CHALLENGE answering neg. */
static enum ntlm_status daemon_challenge(const struct demo *d, const uint8_t *neg, size_t neg_len,
                                         uint8_t **ret, size_t *ret_len)
{
	struct ntlm_writer w;
	struct ntlmd_reply r;
	const uint8_t *chal;
	size_t len;
	enum ntlm_status st;

	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_SERVICE, DEMO_SERVICE);
	ntlmd_put_bytes(&w, NTLMD_TAG_NEGOTIATE, neg, neg_len);
	ntlmd_put_string(&w, NTLMD_TAG_CLIENT_ADDRESS, "127.0.0.1");
	st = ntlmd_call(d->socket, NTLMD_REQ_CHALLENGE, &w, NTLMD_CLIENT_TIMEOUT_MS, &r);
	ntlm_writer_clear(&w);
	if (st != NTLM_OK)
		return st;
	st = r.status;
	if (st == NTLM_OK)
		st = ntlmd_frame_get_bytes(&r.frame, NTLMD_TAG_CHALLENGE, &chal, &len);
	if (st == NTLM_OK) {
		*ret = malloc(len);
		if (*ret == NULL)
			st = NTLM_ERR_NO_MEMORY;
		else
			memcpy(*ret, chal, len);
		*ret_len = len;
	}
	ntlmd_reply_clear(&r);
	return st;
}

/* Sends the three messages and the channel bindings to ntlmd; prints its verdict. */
static enum ntlm_status daemon_verify(const struct demo *d, const uint8_t *neg, size_t neg_len,
                                      const uint8_t *chal, size_t chal_len, const uint8_t *auth,
                                      size_t auth_len)
{
	struct ntlm_writer w;
	struct ntlmd_reply r;
	enum ntlm_status st;

	ntlmd_fields_init(&w);
	ntlmd_put_string(&w, NTLMD_TAG_SERVICE, DEMO_SERVICE);
	ntlmd_put_bytes(&w, NTLMD_TAG_NEGOTIATE, neg, neg_len);
	ntlmd_put_bytes(&w, NTLMD_TAG_CHALLENGE, chal, chal_len);
	ntlmd_put_bytes(&w, NTLMD_TAG_AUTHENTICATE, auth, auth_len);
	ntlmd_put_bytes(&w, NTLMD_TAG_CB_APPLICATION, demo_binding, sizeof(demo_binding) - 1);
	ntlmd_put_string(&w, NTLMD_TAG_CLIENT_ADDRESS, "127.0.0.1");
	st = ntlmd_call(d->socket, NTLMD_REQ_VERIFY, &w, NTLMD_CLIENT_TIMEOUT_MS, &r);
	ntlm_writer_clear(&w);
	if (st != NTLM_OK)
		return st;
	st = r.status;
	if (st == NTLM_OK)
		printf("  ntlmd:  OK %s, %s, MIC %s, channel bindings %s, session key %s\n",
		       ntlmd_frame_string(&r.frame, NTLMD_TAG_AUTH_USER),
		       ntlmd_frame_string(&r.frame, NTLMD_TAG_RESPONSE_TYPE),
		       ntlmd_frame_string(&r.frame, NTLMD_TAG_MIC),
		       ntlmd_frame_string(&r.frame, NTLMD_TAG_CHANNEL_BINDINGS),
		       ntlmd_frame_has(&r.frame, NTLMD_TAG_SESSION_KEY) ? "returned" : "absent");
	else
		printf("  ntlmd:  FAIL %s (0x%08X): %s\n", ntlm_status_name(st), ntlm_status_code(st),
		       ntlm_status_message(st));
	ntlmd_reply_clear(&r);
	return st;
}

/* One exchange; returns ntlmd's status. */
static enum ntlm_status run_exchange(const struct demo *d, const char *title,
                                     const struct ntlm_initiator_config *client)
{
	uint8_t *neg = NULL, *chal = NULL, *auth = NULL;
	size_t neg_len = 0, chal_len = 0, auth_len = 0;
	enum ntlm_status st;

	printf("\n%s\n", title);
	if ((st = ntlm_initiator_negotiate(client, &neg, &neg_len)) != NTLM_OK)
		goto out;
	print_message("client ->", "NEGOTIATE", neg, neg_len);
	if ((st = daemon_challenge(d, neg, neg_len, &chal, &chal_len)) != NTLM_OK)
		goto out;
	print_message("<- ntlmd ", "CHALLENGE", chal, chal_len);
	st = ntlm_initiator_authenticate(client, neg, neg_len, chal, chal_len, &auth, &auth_len, NULL);
	if (st != NTLM_OK)
		goto out;
	print_message("client ->", "AUTHENTICATE", auth, auth_len);
	st = daemon_verify(d, neg, neg_len, chal, chal_len, auth, auth_len);
out:
	if (st != NTLM_OK && auth == NULL)
		printf("  error: %s (0x%08X): %s\n", ntlm_status_name(st), ntlm_status_code(st),
		       ntlm_status_message(st));
	free(neg);
	free(chal);
	free(auth);
	return st;
}

/* Prints a file (the daemon's log lines). */
static void print_file(const char *title, const char *path)
{
	char line[2048];
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return;
	printf("\n%s (%s):\n", title, path);
	while (fgets(line, sizeof(line), f) != NULL)
		printf("  %s", line);
	(void)fclose(f); /* read only */
}

/* Makes the demo directory: the given one or a fresh one under /tmp. */
static int demo_paths(struct demo *d, const char *dir)
{
	if (dir != NULL) {
		if (snprintf(d->dir, sizeof(d->dir), "%s", dir) >= (int)sizeof(d->dir) ||
		    (mkdir(d->dir, 0700) < 0 && errno != EEXIST))
			return -1;
	} else {
		snprintf(d->dir, sizeof(d->dir), "/tmp/ntlm-demo.XXXXXX");
		if (mkdtemp(d->dir) == NULL)
			return -1;
	}
	snprintf(d->socket, sizeof(d->socket), "%s/ntlmd.socket", d->dir);
	snprintf(d->hashes, sizeof(d->hashes), "%s/smbpasswd", d->dir);
	snprintf(d->conf, sizeof(d->conf), "%s/ntlmd.conf", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/ntlmd.log", d->dir);
	snprintf(d->audit, sizeof(d->audit), "%s/audit.json", d->dir);
	unlink(d->hashes); /* a rerun in the same DIR starts afresh */
	return 0;
}

int main(int argc, char **argv)
{
	struct ntlm_channel_bindings cb = {.application_data = {demo_binding, sizeof(demo_binding) - 1}};
	struct ntlm_initiator_config client = {
	    .user = DEMO_USER,
	    .domain = DEMO_DOMAIN,
	    .workstation = "WORKSTATION1",
	    .password = DEMO_PASSWORD,
	    .channel_bindings = &cb,
	};
	struct demo d = {0};
	int failures = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: ntlm-demo NTLMD-BINARY [DIR]\n");
		return 2;
	}
	if (demo_paths(&d, argc > 2 ? argv[2] : NULL) < 0 || write_hash_file(&d) < 0 ||
	    write_config(&d) < 0) {
		fprintf(stderr, "ntlm-demo: cannot set up %s: %s\n", d.dir, strerror(errno));
		return 1;
	}
	printf("pam_ntlm demo in %s\n  hash file %s (mode 0600, user %s\\%s)\n  ntlmd.conf %s\n", d.dir,
	       d.hashes, DEMO_DOMAIN, DEMO_USER, d.conf);
	if (start_daemon(&d, argv[1]) < 0) {
		fprintf(stderr, "ntlm-demo: ntlmd did not start; its log:\n");
		print_file("ntlmd log", d.log);
		stop_daemon(&d);
		return 1;
	}
	printf("  ntlmd (pid %ld) listening on %s\n", (long)d.daemon, d.socket);

	if (run_exchange(&d, "1. NTLMv2 with MIC and channel bindings, right password", &client) != NTLM_OK)
		failures++;
	client.password = "Demo-Wr0ng-Passw0rd";
	if (run_exchange(&d, "2. NTLMv2, wrong password", &client) != NTLM_STATUS_WRONG_PASSWORD)
		failures++;
	client.password = DEMO_PASSWORD;
	client.mode = NTLM_CLIENT_NTLMV1;
	if (run_exchange(&d, "3. NTLMv1, right password, default policy", &client) !=
	    NTLM_STATUS_NTLM_BLOCKED)
		failures++;

	stop_daemon(&d);
	print_file("ntlmd's log", d.log);
	print_file("ntlmd's JSON audit log", d.audit);
	printf("\n%s\n", failures == 0 ? "demo: all three outcomes as expected" : "demo: UNEXPECTED OUTCOME");
	return failures == 0 ? 0 : 1;
}
