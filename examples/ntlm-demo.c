/*
 * ntlm-demo: the built-in default job. It writes a local smbpasswd-format
 * hash file with a demo user, then runs real NTLM exchanges between the
 * library's initiator and its acceptor, the acceptor reading the hash from
 * that file, and prints each message and the outcome:
 *
 *   1. NTLMv2 with MIC and TLS channel bindings, the right password: accepted;
 *   2. the same with a wrong password: STATUS_WRONG_PASSWORD;
 *   3. NTLMv1 with the right password: refused by the default policy.
 *
 * usage: ntlm-demo [DIR]   (DIR defaults to a new directory under /tmp)
 * Exit status 0 when every outcome is the expected one.
 */
#include "config.h"

#include "ntlmssp.h"
#include "smbpasswd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEMO_USER   "demo"
#define DEMO_DOMAIN "DEMO"
/* A throwaway password for the demo account only. */
#define DEMO_PASSWORD "Demo-Passw0rd"

static const struct ntlm_server_names demo_server = {
    .nb_computer = "NTLMDEMO",
    .nb_domain = DEMO_DOMAIN,
    .dns_computer = "ntlmdemo.example.test",
    .dns_domain = "example.test",
};

/* "tls-server-end-point:" || SHA-256 of a certificate, as RFC 5929 binds
 * a TLS channel; the bytes stand in for a real certificate hash. */
static const uint8_t demo_binding[] = "tls-server-end-point:"
                                      "\x3a\x9c\x51\x07\xe2\x48\x1d\x6f\x90\x2b\xc4\x77\x05\xde\x13\x88"
                                      "\x6c\x21\xfa\x49\xb0\x3e\x95\x0d\x72\x14\xa8\x5b\xe6\x0f\xc9\x31";

/* Writes the demo user's line (NT hash only) to path with mode 0600. */
static int write_hash_file(const char *path)
{
	struct ntlm_hash nt;
	char line[256];
	int fd, len, rc = -1;

	if (ntlm_ntowfv1(DEMO_PASSWORD, &nt) != NTLM_OK)
		return -1;
	len = snprintf(line, sizeof(line), "%s:%u:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:", DEMO_USER, 1000u);
	for (size_t i = 0; i < sizeof(nt.bytes); i++)
		len += snprintf(line + len, sizeof(line) - (size_t)len, "%02X", nt.bytes[i]);
	len += snprintf(line + len, sizeof(line) - (size_t)len, ":[UX         ]:LCT-%08lX:\n",
	                (unsigned long)ntlm_filetime_to_unix(ntlm_filetime_now()));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		if (write(fd, line, (size_t)len) == len)
			rc = 0;
		close(fd);
	}
	ntlm_wipe(line, sizeof(line));
	ntlm_wipe(&nt, sizeof(nt));
	return rc;
}

/* Prints a message as base64, the way it travels in an HTTP header. */
static void print_message(const char *arrow, const char *name, const uint8_t *msg, size_t len)
{
	char *b64 = NULL;

	if (ntlm_base64_encode(msg, len, &b64) != NTLM_OK)
		return;
	printf("  %s %-12s %3zu bytes  NTLM %.60s%s\n", arrow, name, len, b64, strlen(b64) > 60 ? "..." : "");
	free(b64);
}

/* One exchange; returns the acceptor's status. */
static enum ntlm_status run_exchange(const char *title, const struct ntlm_initiator_config *client,
                                     struct smbpasswd_db *db)
{
	struct ntlm_channel_bindings cb = {.application_data = {demo_binding, sizeof(demo_binding) - 1}};
	struct ntlm_policy policy;
	struct ntlm_accept_result r = {0};
	uint8_t *neg = NULL, *chal = NULL, *auth = NULL;
	size_t neg_len = 0, chal_len = 0, auth_len = 0;
	enum ntlm_status st;

	printf("\n%s\n", title);
	ntlm_policy_init(&policy); /* the secure default: NTLMv2 only */
	if ((st = ntlm_initiator_negotiate(client, &neg, &neg_len)) != NTLM_OK)
		goto out;
	print_message("client ->", "NEGOTIATE", neg, neg_len);
	st = ntlm_acceptor_challenge(&demo_server, neg, neg_len, ntlm_filetime_now(), &chal, &chal_len);
	if (st != NTLM_OK)
		goto out;
	print_message("<- server", "CHALLENGE", chal, chal_len);
	st = ntlm_initiator_authenticate(client, neg, neg_len, chal, chal_len, &auth, &auth_len, NULL);
	if (st != NTLM_OK)
		goto out;
	print_message("client ->", "AUTHENTICATE", auth, auth_len);
	st = ntlm_acceptor_verify(&policy, neg, neg_len, chal, chal_len, auth, auth_len, &cb,
	                          smbpasswd_db_lookup, db, ntlm_filetime_now(), &r);
	if (st == NTLM_OK)
		printf(
		    "  result: OK %s\\%s from workstation %s, %s, MIC %s, channel bindings %s, session key "
		    "established\n",
		    r.domain, r.user, r.workstation, ntlm_response_type_name(r.response_type),
		    ntlm_verdict_name(r.mic), ntlm_verdict_name(r.channel_bindings));
	else
		printf("  result: FAIL %s (0x%08X): %s [%s %s]\n", ntlm_status_name(st), ntlm_status_code(st),
		       ntlm_status_message(st), ntlm_response_type_name(r.response_type),
		       r.user ? r.user : "");
out:
	if (st != r.status && st != NTLM_OK)
		printf("  error: %s (0x%08X): %s\n", ntlm_status_name(st), ntlm_status_code(st),
		       ntlm_status_message(st));
	ntlm_accept_result_clear(&r);
	free(neg);
	free(chal);
	free(auth);
	return st;
}

/* Makes the demo directory: argv[1] or a fresh one under /tmp. */
static int demo_dir(int argc, char **argv, char *buf, size_t size)
{
	if (argc > 1) {
		if (snprintf(buf, size, "%s", argv[1]) >= (int)size)
			return -1;
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -1;
		return 0;
	}
	if (snprintf(buf, size, "/tmp/ntlm-demo.XXXXXX") >= (int)size)
		return -1;
	return mkdtemp(buf) ? 0 : -1;
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
	    .target_name = "HTTP/ntlmdemo.example.test",
	};
	struct smbpasswd_db *db = NULL;
	char dir[256], path[512];
	size_t bad_line = 0;
	const char *reason = NULL;
	int failures = 0;
	enum ntlm_status st;

	if (demo_dir(argc, argv, dir, sizeof(dir)) < 0 ||
	    snprintf(path, sizeof(path), "%s/smbpasswd", dir) >= (int)sizeof(path) ||
	    write_hash_file(path) < 0) {
		fprintf(stderr, "ntlm-demo: cannot write the hash file in %s: %s\n", dir, strerror(errno));
		return 1;
	}
	st = smbpasswd_db_load(path, &db, &bad_line, &reason);
	if (st != NTLM_OK) {
		fprintf(stderr, "ntlm-demo: %s line %zu: %s (%s)\n", path, bad_line, reason ? reason : "",
		        ntlm_status_name(st));
		return 1;
	}
	printf("pam_ntlm demo: hash file %s (mode 0600), user %s\\%s, %zu entr%s\n", path, DEMO_DOMAIN,
	       DEMO_USER, smbpasswd_db_count(db), smbpasswd_db_count(db) == 1 ? "y" : "ies");

	if (run_exchange("1. NTLMv2 with MIC and channel bindings, right password", &client, db) != NTLM_OK)
		failures++;
	client.password = "wrong-password";
	if (run_exchange("2. NTLMv2, wrong password", &client, db) != NTLM_STATUS_WRONG_PASSWORD)
		failures++;
	client.password = DEMO_PASSWORD;
	client.mode = NTLM_CLIENT_NTLMV1;
	if (run_exchange("3. NTLMv1, right password, default policy", &client, db) !=
	    NTLM_STATUS_NTLM_BLOCKED)
		failures++;

	smbpasswd_db_free(db);
	printf("\n%s\n", failures == 0 ? "demo: all three outcomes as expected" : "demo: UNEXPECTED OUTCOME");
	return failures == 0 ? 0 : 1;
}
