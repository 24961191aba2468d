/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A stand-in for libFuzzer's main: feeds every file named on the command
 * line (a directory: every regular file in it, sorted) to the target's
 * LLVMFuzzerTestOneInput, once each, in one process. Built with the normal
 * compiler (gcc), so `make test` replays every seed corpus where clang's
 * fuzzer runtime is missing. A target's checks abort() on a failure; the
 * last "replay:" line names the input that was running.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Inputs longer than this are cut, as -max_len would (the targets bound
 * their own work; this only bounds memory). */
#define REPLAY_MAX_LEN (1u << 20)

static int
replay_file(const char *path, int verbose)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(REPLAY_MAX_LEN);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, REPLAY_MAX_LEN, f);
	fclose(f);
	if (verbose)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
	/* An exact-size copy, so a read past the end is caught under ASan. */
	uint8_t *in = malloc(n ? n : 1);

	if (in == NULL) {
		free(buf);
		return -1;
	}
	memcpy(in, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(in, n);
	free(in);
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
replay_dir(const char *dir, int verbose, unsigned *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL) {
				closedir(d);
				return -1;
			}
		}
		if (asprintf(&names[n], "%s/%s", dir, e->d_name) < 0) {
			closedir(d);
			return -1;
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(names[i], verbose) < 0)
				rc = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned count = 0;
	int verbose = getenv("REPLAY_VERBOSE") != NULL, rc = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (argv[i][0] == '-')
			continue; /* libFuzzer flags: ignored here */
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], verbose, &count) < 0)
				rc = 1;
		} else if (replay_file(argv[i], verbose) < 0) {
			rc = 1;
		} else {
			count++;
		}
	}
	printf("replay: %u inputs, %s\n", count, rc ? "errors" : "ok");
	return rc;
}
