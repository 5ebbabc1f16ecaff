/*
 * bench_gssntlmssp: full NTLMv2 handshakes in one process, through
 * libntlmssp's initiator and acceptor, set beside the same handshakes
 * through gss-ntlmssp's GSSAPI initiator and acceptor (the MIT mechglue,
 * mechanism 1.3.6.1.4.1.311.2.2.10), in the same run, rounds alternating.
 *
 * Both acceptors read the account's NT hash, never its password:
 * gss-ntlmssp from an smbpasswd-format NTLM_USER_FILE written to a private
 * temporary directory ("DOMAIN\user:UID:LM:NT:..."), libntlmssp through a
 * lookup callback holding the same hash. A handshake is NEGOTIATE ->
 * CHALLENGE -> AUTHENTICATE and the verification; gss-ntlmssp's is
 * gss_init_sec_context / gss_accept_sec_context twice each, until both
 * return GSS_S_COMPLETE. Each handshake is checked: GSS_S_COMPLETE on both
 * sides (NTLM_OK for libntlmssp). A sanity round first checks the
 * authenticated name on both sides and that a wrong password fails.
 *
 * Reported per round and as medians: handshakes/s (both sides' work) and
 * the acceptor's own time per handshake (CHALLENGE + verification), and
 * their ratios. The last lines are machine-readable:
 *   RATIO gss_acceptor_time <gss-ntlmssp acceptor time / ours>
 *   RATIO gss_handshake_rate <our handshakes/s / gss-ntlmssp's>
 *
 * The mechanism must be registered with the mechglue: Debian's gss-ntlmssp
 * installs /etc/gss/mech.d/ntlmssp.conf; GSS_MECH_CONFIG may name another
 * file. Prints "skipped: ..." and exits 0 when it is not.
 *
 * usage: bench_gssntlmssp [HANDSHAKES-PER-ROUND] [ROUNDS] [SECONDS-LIMIT-PER-ROUND]
 *        (defaults 2000, 5, 30)
 */
#include "ntlmssp.h"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define BENCH_USER     "benchuser"
#define BENCH_DOMAIN   "BENCH"
#define BENCH_PASSWORD "Bench-Passw0rd"
#define WRONG_PASSWORD "Wrong-Passw0rd"
#define MAX_ROUNDS     64

/* 1.3.6.1.4.1.311.2.2.10, the NTLMSSP mechanism (MS-NLMP 1.9) */
static gss_OID_desc ntlmssp_oid = {10, (void *)"\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a"};

static const struct ntlm_server_names names = {
    .nb_computer = "BENCHSRV",
    .nb_domain = BENCH_DOMAIN,
    .dns_computer = "benchsrv.bench.test",
    .dns_domain = "bench.test",
};

static struct ntlm_hash account_hash;

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return v[n / 2];
}

/* ---- libntlmssp ------------------------------------------------------ */

static enum ntlm_status lookup(void *ctx, const char *user, const char *domain, struct ntlm_credentials *ret)
{
	(void)ctx;
	(void)domain;
	if (strcasecmp(user, BENCH_USER) != 0)
		return NTLM_STATUS_NO_SUCH_USER;
	ret->nt_hash = account_hash;
	ret->has_lm_hash = false;
	ret->account_status = NTLM_OK;
	return NTLM_OK;
}

/* One full handshake through libntlmssp; adds the acceptor's time to
 * *acceptor_s. Returns the acceptor's status; *user gets the
 * authenticated name when wanted (caller frees). */
static enum ntlm_status ours_handshake(const struct ntlm_initiator_config *cfg, double *acceptor_s,
                                       char **user)
{
	struct ntlm_policy policy;
	struct ntlm_accept_result r = {0};
	uint8_t *neg = NULL, *chal = NULL, *auth = NULL;
	size_t neg_len = 0, chal_len = 0, auth_len = 0;
	enum ntlm_status st;
	uint64_t now = ntlm_filetime_now();
	double t0;

	ntlm_policy_init(&policy);
	policy.require_mic = true;
	st = ntlm_initiator_negotiate(cfg, &neg, &neg_len);
	if (st != NTLM_OK)
		goto out;
	t0 = now_seconds();
	st = ntlm_acceptor_challenge(&names, neg, neg_len, now, &chal, &chal_len);
	*acceptor_s += now_seconds() - t0;
	if (st != NTLM_OK)
		goto out;
	st = ntlm_initiator_authenticate(cfg, neg, neg_len, chal, chal_len, &auth, &auth_len, NULL);
	if (st != NTLM_OK)
		goto out;
	t0 = now_seconds();
	st = ntlm_acceptor_verify(&policy, neg, neg_len, chal, chal_len, auth, auth_len, NULL, lookup, NULL,
	                          now, &r);
	*acceptor_s += now_seconds() - t0;
	if (st == NTLM_OK && user != NULL && r.user != NULL)
		*user = strdup(r.user);
out:
	ntlm_accept_result_clear(&r);
	free(neg);
	free(chal);
	free(auth);
	return st;
}

/* ---- gss-ntlmssp ----------------------------------------------------- */

static void gss_report(const char *what, OM_uint32 major, OM_uint32 minor)
{
	OM_uint32 min2, ctx = 0;
	gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;

	fprintf(stderr, "bench_gssntlmssp: %s: major 0x%x minor 0x%x", what, major, minor);
	if (gss_display_status(&min2, major, GSS_C_GSS_CODE, GSS_C_NO_OID, &ctx, &msg) == GSS_S_COMPLETE) {
		fprintf(stderr, " (%.*s)", (int)msg.length, (const char *)msg.value);
		gss_release_buffer(&min2, &msg);
	}
	fputc('\n', stderr);
}

static bool mech_registered(void)
{
	OM_uint32 minor;
	gss_OID_set mechs = GSS_C_NO_OID_SET;
	int present = 0;

	if (gss_indicate_mechs(&minor, &mechs) != GSS_S_COMPLETE)
		return false;
	gss_test_oid_set_member(&minor, &ntlmssp_oid, mechs, &present);
	gss_release_oid_set(&minor, &mechs);
	return present != 0;
}

static OM_uint32 initiator_cred(const char *password, gss_cred_id_t *ret)
{
	OM_uint32 major, minor;
	gss_buffer_desc n = {strlen(BENCH_DOMAIN "\\" BENCH_USER), (void *)BENCH_DOMAIN "\\" BENCH_USER};
	gss_buffer_desc pw = {strlen(password), (void *)password};
	gss_OID_set_desc mechs = {1, &ntlmssp_oid};
	gss_name_t name = GSS_C_NO_NAME;

	major = gss_import_name(&minor, &n, GSS_C_NT_USER_NAME, &name);
	if (major != GSS_S_COMPLETE) {
		gss_report("gss_import_name (user)", major, minor);
		return major;
	}
	major = gss_acquire_cred_with_password(&minor, name, &pw, GSS_C_INDEFINITE, &mechs, GSS_C_INITIATE,
	                                       ret, NULL, NULL);
	if (major != GSS_S_COMPLETE)
		gss_report("gss_acquire_cred_with_password", major, minor);
	gss_release_name(&minor, &name);
	return major;
}

static OM_uint32 acceptor_cred(gss_cred_id_t *ret)
{
	OM_uint32 major, minor;
	gss_OID_set_desc mechs = {1, &ntlmssp_oid};

	major =
	    gss_acquire_cred(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &mechs, GSS_C_ACCEPT, ret, NULL, NULL);
	if (major != GSS_S_COMPLETE)
		gss_report("gss_acquire_cred (acceptor)", major, minor);
	return major;
}

struct gss_side {
	gss_cred_id_t init_cred, accept_cred;
	gss_name_t target;
};

/* One full handshake through gss-ntlmssp; adds the acceptor's time to
 * *acceptor_s. Returns the acceptor's last major status (GSS_S_COMPLETE on
 * success); *user gets the source name when wanted (caller frees). */
static OM_uint32 gss_handshake(const struct gss_side *g, double *acceptor_s, char **user)
{
	OM_uint32 imaj = GSS_S_FAILURE, amaj = GSS_S_FAILURE, minor;
	gss_ctx_id_t ictx = GSS_C_NO_CONTEXT, actx = GSS_C_NO_CONTEXT;
	gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER, back = GSS_C_EMPTY_BUFFER;
	gss_name_t src = GSS_C_NO_NAME;
	const OM_uint32 flags = GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG;
	double t0;

	/* NEGOTIATE, CHALLENGE, AUTHENTICATE, verification: at most 2 legs each */
	for (int leg = 0; leg < 2; leg++) {
		imaj = gss_init_sec_context(&minor, g->init_cred, &ictx, g->target, &ntlmssp_oid, flags, 0,
		                            GSS_C_NO_CHANNEL_BINDINGS, leg ? &back : GSS_C_NO_BUFFER, NULL,
		                            &out, NULL, NULL);
		gss_release_buffer(&minor, &back);
		if (GSS_ERROR(imaj)) {
			gss_report("gss_init_sec_context", imaj, minor);
			goto out;
		}
		in = out;
		out = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
		t0 = now_seconds();
		amaj = gss_accept_sec_context(&minor, &actx, g->accept_cred, &in, GSS_C_NO_CHANNEL_BINDINGS,
		                              leg ? &src : NULL, NULL, &back, NULL, NULL, NULL);
		*acceptor_s += now_seconds() - t0;
		gss_release_buffer(&minor, &in);
		if (amaj != GSS_S_CONTINUE_NEEDED)
			break;
	}
	if (amaj == GSS_S_COMPLETE && imaj != GSS_S_COMPLETE)
		amaj = GSS_S_FAILURE; /* the acceptor finished before the initiator did */
	if (amaj == GSS_S_COMPLETE && user != NULL) {
		gss_buffer_desc shown = GSS_C_EMPTY_BUFFER;
		if (gss_display_name(&minor, src, &shown, NULL) == GSS_S_COMPLETE) {
			*user = strndup(shown.value, shown.length);
			gss_release_buffer(&minor, &shown);
		}
	}
out:
	gss_release_buffer(&minor, &back);
	gss_release_name(&minor, &src);
	gss_delete_sec_context(&minor, &ictx, GSS_C_NO_BUFFER);
	gss_delete_sec_context(&minor, &actx, GSS_C_NO_BUFFER);
	return amaj;
}

/* ---- set-up and sanity ----------------------------------------------- */

/* The NTLM_USER_FILE: one smbpasswd line with the NT hash, the user name
 * carrying its domain (without it gss-ntlmssp computes NTOWFv2 with an
 * empty domain only). */
static int write_user_file(const char *path)
{
	FILE *f = fopen(path, "w");
	int rc = -1;

	if (f == NULL)
		return -1;
	fprintf(f, "%s\\%s:4001:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:", BENCH_DOMAIN, BENCH_USER);
	for (size_t i = 0; i < NTLM_HASH_LEN; i++)
		fprintf(f, "%02X", account_hash.bytes[i]);
	fprintf(f, ":[U          ]:LCT-00000000:\n");
	if (fclose(f) == 0)
		rc = 0;
	return rc;
}

static bool name_is_bench_user(const char *name)
{
	/* gss-ntlmssp shows DOMAIN\user; libntlmssp returns the user alone */
	const char *slash = name ? strrchr(name, '\\') : NULL;
	return name != NULL && strcasecmp(slash ? slash + 1 : name, BENCH_USER) == 0;
}

static bool sanity(const struct gss_side *g, const struct gss_side *g_wrong,
                   const struct ntlm_initiator_config *cfg, const struct ntlm_initiator_config *cfg_wrong)
{
	char *gss_user = NULL, *our_user = NULL;
	double ignored = 0;
	bool ok = true;
	OM_uint32 maj;
	enum ntlm_status st;

	maj = gss_handshake(g, &ignored, &gss_user);
	printf("sanity: gss-ntlmssp, right password: %s, source name %s\n",
	       maj == GSS_S_COMPLETE ? "GSS_S_COMPLETE" : "FAILED", gss_user ? gss_user : "(none)");
	ok = ok && maj == GSS_S_COMPLETE && name_is_bench_user(gss_user);
	st = ours_handshake(cfg, &ignored, &our_user);
	printf("sanity: libntlmssp, right password: %s, user %s\n", ntlm_status_name(st),
	       our_user ? our_user : "(none)");
	ok = ok && st == NTLM_OK && name_is_bench_user(our_user);
	free(gss_user);
	free(our_user);

	maj = gss_handshake(g_wrong, &ignored, NULL);
	printf("sanity: gss-ntlmssp, wrong password: %s\n",
	       maj == GSS_S_COMPLETE ? "GSS_S_COMPLETE (accepted!)" : "refused");
	ok = ok && maj != GSS_S_COMPLETE;
	st = ours_handshake(cfg_wrong, &ignored, NULL);
	printf("sanity: libntlmssp, wrong password: %s\n", ntlm_status_name(st));
	ok = ok && st == NTLM_STATUS_WRONG_PASSWORD;
	return ok;
}

/* ---- rounds ---------------------------------------------------------- */

struct round {
	double hs_per_s;
	double acceptor_us;
	long done;
};

static bool run_gss(const struct gss_side *g, long n, double limit, struct round *ret)
{
	double acc = 0, start = now_seconds(), elapsed = 0;
	long i;

	for (i = 0; i < n && elapsed < limit; i++) {
		if (gss_handshake(g, &acc, NULL) != GSS_S_COMPLETE)
			return false;
		if ((i & 63) == 63)
			elapsed = now_seconds() - start;
	}
	elapsed = now_seconds() - start;
	ret->done = i;
	ret->hs_per_s = (double)i / elapsed;
	ret->acceptor_us = acc * 1e6 / (double)i;
	return true;
}

static bool run_ours(const struct ntlm_initiator_config *cfg, long n, double limit, struct round *ret)
{
	double acc = 0, start = now_seconds(), elapsed = 0;
	long i;

	for (i = 0; i < n && elapsed < limit; i++) {
		enum ntlm_status st = ours_handshake(cfg, &acc, NULL);
		if (st != NTLM_OK) {
			fprintf(stderr, "bench_gssntlmssp: libntlmssp handshake failed: %s\n",
			        ntlm_status_name(st));
			return false;
		}
		if ((i & 63) == 63)
			elapsed = now_seconds() - start;
	}
	elapsed = now_seconds() - start;
	ret->done = i;
	ret->hs_per_s = (double)i / elapsed;
	ret->acceptor_us = acc * 1e6 / (double)i;
	return true;
}

static int bench(long n, int rounds, double limit)
{
	struct gss_side g = {GSS_C_NO_CREDENTIAL, GSS_C_NO_CREDENTIAL, GSS_C_NO_NAME};
	struct gss_side g_wrong = {GSS_C_NO_CREDENTIAL, GSS_C_NO_CREDENTIAL, GSS_C_NO_NAME};
	struct ntlm_initiator_config cfg = {.user = BENCH_USER, .domain = BENCH_DOMAIN, .workstation = "WS1"};
	struct ntlm_initiator_config cfg_wrong = cfg;
	struct ntlm_hash wrong_hash;
	double g_rate[MAX_ROUNDS], g_acc[MAX_ROUNDS], o_rate[MAX_ROUNDS], o_acc[MAX_ROUNDS];
	gss_buffer_desc target = {strlen("HTTP@benchsrv.bench.test"), (void *)"HTTP@benchsrv.bench.test"};
	OM_uint32 minor;
	int rc = 1;

	if (ntlm_ntowfv1(WRONG_PASSWORD, &wrong_hash) != NTLM_OK)
		goto out;
	cfg.nt_hash = &account_hash;
	cfg_wrong.nt_hash = &wrong_hash;
	if (gss_import_name(&minor, &target, GSS_C_NT_HOSTBASED_SERVICE, &g.target) != GSS_S_COMPLETE ||
	    initiator_cred(BENCH_PASSWORD, &g.init_cred) != GSS_S_COMPLETE ||
	    initiator_cred(WRONG_PASSWORD, &g_wrong.init_cred) != GSS_S_COMPLETE ||
	    acceptor_cred(&g.accept_cred) != GSS_S_COMPLETE)
		goto out;
	g_wrong.accept_cred = g.accept_cred;
	g_wrong.target = g.target;

	if (!sanity(&g, &g_wrong, &cfg, &cfg_wrong)) {
		fprintf(stderr, "bench_gssntlmssp: sanity round failed\n");
		goto out;
	}
	printf("%ld handshakes per round (at most %.0f s each), %d rounds, alternating\n", n, limit, rounds);
	for (int r = 0; r < rounds; r++) {
		struct round gr, orr;
		if (!run_gss(&g, n, limit, &gr) || !run_ours(&cfg, n, limit, &orr))
			goto out;
		g_rate[r] = gr.hs_per_s;
		g_acc[r] = gr.acceptor_us;
		o_rate[r] = orr.hs_per_s;
		o_acc[r] = orr.acceptor_us;
		printf("round %d: gss-ntlmssp %ld hs, %.0f hs/s, acceptor %.2f us | libntlmssp %ld hs, %.0f "
		       "hs/s, "
		       "acceptor %.2f us\n",
		       r + 1, gr.done, gr.hs_per_s, gr.acceptor_us, orr.done, orr.hs_per_s, orr.acceptor_us);
	}
	{
		double gr = median(g_rate, rounds), ga = median(g_acc, rounds);
		double orate = median(o_rate, rounds), oa = median(o_acc, rounds);
		printf("median gss-ntlmssp: %.0f handshakes/s, acceptor %.2f us per handshake\n", gr, ga);
		printf("median libntlmssp:  %.0f handshakes/s, acceptor %.2f us per handshake\n", orate, oa);
		printf("acceptor time: libntlmssp %.1fx lower; handshake rate: libntlmssp %.1fx higher\n",
		       ga / oa, orate / gr);
		printf("RATIO gss_acceptor_time %.2f\n", ga / oa);
		printf("RATIO gss_handshake_rate %.2f\n", orate / gr);
	}
	rc = 0;
out:
	gss_release_cred(&minor, &g.init_cred);
	gss_release_cred(&minor, &g_wrong.init_cred);
	gss_release_cred(&minor, &g.accept_cred);
	gss_release_name(&minor, &g.target);
	ntlm_wipe(&wrong_hash, sizeof(wrong_hash));
	return rc;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	double limit = argc > 3 ? atof(argv[3]) : 30;
	char dir[] = "/tmp/bench-gssntlmssp.XXXXXX", path[64];
	int rc;

	if (n < 1 || n > 10000000 || rounds < 1 || rounds > MAX_ROUNDS || limit <= 0 || limit > 600) {
		fprintf(stderr,
		        "usage: bench_gssntlmssp [HANDSHAKES (1-10M)] [ROUNDS (1-%d)] [SECONDS (0-600)]\n",
		        MAX_ROUNDS);
		return 2;
	}
	if (!mech_registered()) {
		printf("skipped: the gss-ntlmssp mechanism is not registered (/etc/gss/mech.d, "
		       "GSS_MECH_CONFIG)\n");
		return 0;
	}
	if (ntlm_ntowfv1(BENCH_PASSWORD, &account_hash) != NTLM_OK || mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/users", dir);
	if (write_user_file(path) != 0) {
		fprintf(stderr, "bench_gssntlmssp: cannot write %s\n", path);
		rmdir(dir);
		return 1;
	}
	/* gss-ntlmssp's acceptor: the account file and the server's names
	 * (without the names, every new context asks winbindd for them) */
	setenv("NTLM_USER_FILE", path, 1);
	setenv("NETBIOS_COMPUTER_NAME", names.nb_computer, 1);
	setenv("NETBIOS_DOMAIN_NAME", names.nb_domain, 1);
	rc = bench(n, rounds, limit);
	unlink(path);
	rmdir(dir);
	ntlm_wipe(&account_hash, sizeof(account_hash));
	return rc;
}
