/*
 * Replays files through a libFuzzer target without libFuzzer: every
 * argument is a file or a directory whose regular files are each passed to
 * LLVMFuzzerTestOneInput() once, in a buffer of their exact size. Used by
 * `make check` over tests/fuzz/corpus/<name>/.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef FUZZ_NAME
#define FUZZ_NAME "fuzz"
#endif

#define REPLAY_MAX_INPUT (1024 * 1024)

static int replay_file(const char *path, size_t *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t len;
	long end;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (end = ftell(f)) < 0 || end > REPLAY_MAX_INPUT ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "%s: cannot read %s\n", FUZZ_NAME, path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	len = (size_t)end;
	/* exact size, so that ASan sees any read past the end */
	buf = malloc(len > 0 ? len : 1);
	if (buf == NULL || fread(buf, 1, len, f) != len) {
		fprintf(stderr, "%s: cannot read %s\n", FUZZ_NAME, path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	(*count)++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *path, size_t *count)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (d == NULL) {
		fprintf(stderr, "%s: cannot open %s: %s\n", FUZZ_NAME, path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char **grown;

		if (de->d_name[0] == '.')
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (grown == NULL) {
			rc = -1;
			break;
		}
		names = grown;
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		size_t plen = strlen(path) + strlen(names[i]) + 2;
		char *full = malloc(plen);
		struct stat st;

		if (full == NULL) {
			rc = -1;
		} else {
			snprintf(full, plen, "%s/%s", path, names[i]);
			if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && replay_file(full, count) != 0)
				rc = -1;
		}
		free(full);
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int i, rc = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s: %s\n", FUZZ_NAME, argv[i], strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode) ? replay_dir(argv[i], &count) != 0
		                               : replay_file(argv[i], &count) != 0) {
			rc = 1;
		}
	}
	printf("%s: %zu inputs replayed\n", FUZZ_NAME, count);
	return rc;
}
