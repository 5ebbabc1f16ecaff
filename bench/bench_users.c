/*
 * bench_users.c: the user list of bench_ldap and bench_ntlmd (one name, or
 * @FILE with one name a line).
 */
#include <config.h>

#include "bench_users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_name(struct bench_users *u, const char *name, size_t len, size_t *cap)
{
	char **grown;

	if (u->count == *cap) {
		*cap = *cap != 0 ? 2 * *cap : 64;
		grown = realloc(u->names, *cap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		u->names = grown;
	}
	u->names[u->count] = strndup(name, len);
	if (u->names[u->count] == NULL)
		return -1;
	u->count++;
	return 0;
}

static int read_names(const char *path, struct bench_users *u)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t line_cap = 0, cap = 0;
	ssize_t len;
	int rc = -1;

	if (f == NULL)
		goto out;
	while ((len = getline(&line, &line_cap, f)) >= 0) {
		size_t n = strcspn(line, "\r\n");
		if (n > 0 && add_name(u, line, n, &cap) != 0)
			goto out;
	}
	rc = u->count > 0 ? 0 : -1;
out:
	free(line);
	if (f != NULL)
		fclose(f);
	return rc;
}

int bench_users_load(const char *arg, struct bench_users *u)
{
	size_t cap = 0;

	u->names = NULL;
	u->count = 0;
	if (arg[0] != '@') {
		if (add_name(u, arg, strlen(arg), &cap) == 0)
			return 0;
		fprintf(stderr, "bench: out of memory\n");
	} else if (read_names(arg + 1, u) == 0) {
		return 0;
	} else {
		fprintf(stderr, "bench: %s: cannot read, or no user in it\n", arg + 1);
	}
	bench_users_free(u);
	return -1;
}

const char *bench_users_at(const struct bench_users *u, size_t i)
{
	return u->names[i % u->count];
}

void bench_users_free(struct bench_users *u)
{
	for (size_t i = 0; i < u->count; i++)
		free(u->names[i]);
	free(u->names);
	u->names = NULL;
	u->count = 0;
}
