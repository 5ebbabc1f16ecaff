/*
 * bench_users: the users a benchmark client takes in turn. USER is either
 * one name, or @FILE with one name a line (empty lines skipped), as
 * ldap-bench.sh's scale case passes the same random sample of a large
 * directory to bench_ldap and bench_ntlmd.
 */
#ifndef BENCH_USERS_H
#define BENCH_USERS_H

#include <stddef.h>

struct bench_users {
	char **names;
	size_t count;
};

/* Fills u from arg; 0, or -1 (with a message on stderr) when the file
 * cannot be read or names no user. */
int bench_users_load(const char *arg, struct bench_users *u);

/* The i-th name, taking them in turn. */
const char *bench_users_at(const struct bench_users *u, size_t i);

void bench_users_free(struct bench_users *u);

#endif
