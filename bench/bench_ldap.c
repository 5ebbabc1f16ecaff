/*
 * bench_ldap: the raw lookup rate of a directory, the floor under ntlmd's
 * ldap backend: one persistent libldap connection, bound once, searching
 * (&(objectClass=sambaSamAccount)(uid=USER)) for the attributes the
 * backend reads (ntlmd_ldap_default_attrs, ldap/ldap_entry.c) and
 * decoding the NT hash value, as ldapsearch would, in a loop.
 * bench/run.sh sets it beside VERIFY requests through ntlmd with the ldap
 * backend against the same slapd, in the same run.
 *
 * With "connect" as the seventh argument each lookup opens its own
 * connection, binds, searches and unbinds, as one ldapsearch run does.
 * USER may be @FILE, one name a line: the searches take the names in turn
 * (ldap-bench.sh's scale case: a random sample of a large directory).
 *
 * usage: bench_ldap URI BASE BINDDN BINDPW-FILE USER|@FILE [SEARCHES [connect]]
 */
#include <config.h>

#include "bench_users.h"
#include "ldap_entry.h"

#include <ldap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_password(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");

	if (f == NULL || fgets(buf, (int)n, f) == NULL) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* One search; 0 when exactly one entry with a 32-character NT hash came back. */
static int search_once(LDAP *ld, const char *base, const char *filter)
{
	char *attrs[NTLMD_LDAP_ATTR_COUNT + 1] = {NULL};
	struct timeval tv = {10, 0};
	LDAPMessage *res = NULL;
	struct berval **v;
	int rc, msgid, ok = -1;

	for (size_t i = 0; i < NTLMD_LDAP_ATTR_COUNT; i++)
		attrs[i] = (char *)ntlmd_ldap_default_attrs[i];
	rc = ldap_search_ext(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tv, 2, &msgid);
	if (rc != LDAP_SUCCESS || ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, &res) <= 0)
		return -1;
	if (ldap_count_entries(ld, res) == 1) {
		v = ldap_get_values_len(ld, ldap_first_entry(ld, res), "sambaNTPassword");
		ok = v != NULL && v[0] != NULL && v[0]->bv_len == 32 ? 0 : -1;
		ldap_value_free_len(v);
	}
	ldap_msgfree(res);
	return ok;
}

static LDAP *connect_bind(const char *uri, const char *dn, const char *pw)
{
	struct berval cred = {strlen(pw), (char *)pw};
	int version = LDAP_VERSION3, rc;
	LDAP *ld = NULL;

	if ((rc = ldap_initialize(&ld, uri)) != LDAP_SUCCESS ||
	    (rc = ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version)) != LDAP_OPT_SUCCESS ||
	    (rc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL)) != LDAP_SUCCESS) {
		fprintf(stderr, "bench_ldap: %s: %s\n", uri, ldap_err2string(rc));
		if (ld != NULL)
			ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	return ld;
}

/* The search filter of each user, in the order of u. */
static char **make_filters(const struct bench_users *u)
{
	char **filters = calloc(u->count, sizeof(*filters));

	for (size_t i = 0; filters != NULL && i < u->count; i++)
		if (asprintf(&filters[i], "(&(objectClass=sambaSamAccount)(uid=%s))", u->names[i]) < 0) {
			fprintf(stderr, "bench_ldap: out of memory\n");
			exit(1);
		}
	return filters;
}

int main(int argc, char **argv)
{
	char pw[256], **filters;
	long n = argc > 6 ? strtol(argv[6], NULL, 10) : 5000;
	bool each = argc > 7 && strcmp(argv[7], "connect") == 0;
	struct bench_users users;
	LDAP *ld;
	double start, elapsed;

	if (argc < 6 || n <= 0) {
		fprintf(stderr,
		        "usage: bench_ldap URI BASE BINDDN BINDPW-FILE USER|@FILE [SEARCHES [connect]]\n");
		return 2;
	}
	if (read_password(argv[4], pw, sizeof(pw)) != 0) {
		fprintf(stderr, "bench_ldap: cannot read %s\n", argv[4]);
		return 1;
	}
	if (bench_users_load(argv[5], &users) != 0 || (filters = make_filters(&users)) == NULL)
		return 1;
	ld = connect_bind(argv[1], argv[3], pw);
	if (ld == NULL)
		return 1;
	for (size_t i = 0; i < 100; i++) /* warm-up */
		if (search_once(ld, argv[2], filters[i % users.count]) != 0) {
			fprintf(stderr, "bench_ldap: the search for %s failed\n", bench_users_at(&users, i));
			return 1;
		}
	start = now_s();
	for (long i = 0; i < n; i++) {
		if (each) {
			ldap_unbind_ext_s(ld, NULL, NULL);
			ld = connect_bind(argv[1], argv[3], pw);
		}
		if (ld == NULL || search_once(ld, argv[2], filters[(size_t)i % users.count]) != 0) {
			fprintf(stderr, "bench_ldap: search %ld (%s) failed\n", i,
			        bench_users_at(&users, (size_t)i));
			return 1;
		}
	}
	elapsed = now_s() - start;
	printf("raw libldap search by uid%s",
	       each ? ", connect + bind + search each (as ldapsearch)" : ", one connection");
	if (users.count > 1)
		printf(", %zu users in turn", users.count);
	printf(": %.0f searches/s (%.1f us each)\n", (double)n / elapsed, elapsed * 1e6 / (double)n);
	ldap_unbind_ext_s(ld, NULL, NULL);
	for (size_t i = 0; i < users.count; i++)
		free(filters[i]);
	free(filters);
	bench_users_free(&users);
	return 0;
}
