/* What the consent store's test suites (test_store.c, test_audit.c) share:
 * throw-away store directories and deterministic tokens. */
#ifndef TEST_STORE_UTIL_H
#define TEST_STORE_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <sodium.h>

#include "optroute/consent.h"

/* Removes an LMDB store directory made by a test (its two files, then the
 * directory); an empty dir string is nothing to remove. */
static inline void
ts_rm_store(const char *dir)
{
	char p[128];

	if (dir[0] == '\0')
		return;
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

/* Uniform pseudo-random token i (tokens are keyed hashes in real life). */
static inline struct or_token
ts_tok(uint64_t i)
{
	struct or_token t;

	crypto_generichash(t.b, sizeof(t.b), (const uint8_t *)&i, sizeof(i),
			   NULL, 0);
	return t;
}

#endif
