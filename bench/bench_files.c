/*
 * bench_files.c: the files backend's scale target (issue 3). Writes an
 * smbpasswd file of USERS users (default 1,000,000) to a temporary
 * directory, then measures:
 *  - the load (smbpasswd_db_load: read, parse, index), best and median of
 *    ROUNDS, with the file in the page cache (it was just written);
 *  - lookups per second (smbpasswd_db_find) of random users, half of
 *    them spelt in upper case;
 *  - resident memory per user: VmRSS after the first load minus before.
 * Target: 1 M users load in under 2 s.
 *
 *   bench_files [USERS [ROUNDS]]
 */
#include "smbpasswd.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NAME_SIZE 16

static double now_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* VmRSS of this process in kB, from /proc/self/status. */
static long vm_rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* xorshift64*: test data, not secrets */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Du;
}

static void user_name(char *buf, size_t i, bool upper)
{
	snprintf(buf, NAME_SIZE, upper ? "USER%07u" : "user%07u", (unsigned)i);
}

/* Lines as smbpasswd -a writes them; every fourth user has an LM hash. */
static int write_file(const char *path, size_t users)
{
	uint64_t seed = 0x9E3779B97F4A7C15u;
	char name[NAME_SIZE];
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	fprintf(f, "# bench_files: %zu users\n", users);
	for (size_t i = 0; i < users; i++) {
		uint64_t a = next_random(&seed), b = next_random(&seed);
		user_name(name, i, false);
		if (i % 4 == 0)
			fprintf(f, "%s:%zu:%016llX%016llX:", name, 10000 + i, (unsigned long long)b,
			        (unsigned long long)a);
		else
			fprintf(f, "%s:%zu:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:", name, 10000 + i);
		fprintf(f, "%016llX%016llX:[U          ]:LCT-%08X:\n", (unsigned long long)a,
		        (unsigned long long)b, (unsigned)(0x5F000000u + i));
	}
	if (fclose(f) != 0)
		return -1;
	return chmod(path, 0600);
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	size_t users = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	char dir[] = "/tmp/bench_files.XXXXXX", path[64];
	struct smbpasswd_db *db = NULL;
	size_t bad_line = 0, nlookups = 4 * users, found = 0;
	const char *reason = "";
	double times[64], t0, t, lookup_s;
	long rss0, rss1;
	char(*names)[NAME_SIZE];
	uint64_t seed = 42;
	struct stat st;

	if (users == 0 || rounds < 1 || rounds > 64) {
		fprintf(stderr, "usage: bench_files [USERS [ROUNDS (1-64)]]\n");
		return 2;
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/smbpasswd", dir);
	t0 = now_seconds();
	if (write_file(path, users) != 0 || stat(path, &st) != 0) {
		perror(path);
		return 1;
	}
	printf("users:   %zu, file %.1f MB (written in %.2f s; loads below read it from the page cache)\n",
	       users, (double)st.st_size / 1e6, now_seconds() - t0);

	for (int r = 0; r < rounds; r++) {
		enum ntlm_status s;
		rss0 = vm_rss_kb();
		t0 = now_seconds();
		s = smbpasswd_db_load(path, &db, &bad_line, &reason);
		times[r] = now_seconds() - t0;
		if (s != NTLM_OK || smbpasswd_db_count(db) != users) {
			fprintf(stderr, "load failed: %s (line %zu: %s)\n", ntlm_status_name(s), bad_line,
			        reason);
			return 1;
		}
		if (r == 0) {
			rss1 = vm_rss_kb();
			printf("memory:  VmRSS %ld kB before the load, %ld kB after: %.1f bytes per user\n",
			       rss0, rss1, (double)(rss1 - rss0) * 1024.0 / (double)users);
		}
		if (r + 1 < rounds)
			smbpasswd_db_free(db);
	}
	qsort(times, (size_t)rounds, sizeof(times[0]), compare_double);
	printf(
	    "load:    best %.3f s, median %.3f s, worst %.3f s over %d loads (target: < 2 s for 1 M users)\n",
	    times[0], times[rounds / 2], times[rounds - 1], rounds);

	names = malloc(nlookups * sizeof(*names));
	if (names == NULL)
		return 1;
	for (size_t i = 0; i < nlookups; i++) {
		uint64_t v = next_random(&seed);
		user_name(names[i], (size_t)(v % users), v >> 63);
	}
	t0 = now_seconds();
	for (size_t i = 0; i < nlookups; i++)
		found += smbpasswd_db_find(db, names[i]) != NULL;
	t = now_seconds();
	lookup_s = t - t0;
	if (found != nlookups) {
		fprintf(stderr, "lookups: %zu of %zu found\n", found, nlookups);
		return 1;
	}
	printf("lookups: %zu random users in %.3f s: %.2f M/s, %.0f ns each\n", nlookups, lookup_s,
	       (double)nlookups / lookup_s / 1e6, lookup_s / (double)nlookups * 1e9);

	free(names);
	smbpasswd_db_free(db);
	unlink(path);
	rmdir(dir);
	return 0;
}
