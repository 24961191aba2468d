/* What the consent store's test suites (test_store.c, test_store_auth.c,
 * test_audit.c, test_store_index.c) share: throw-away store directories,
 * deterministic tokens and changes, and raw LMDB access to what a store
 * wrote (to edit it as an attacker or an older build would). */
#ifndef TEST_STORE_UTIL_H
#define TEST_STORE_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include <lmdb.h>
#include <sodium.h>

#include "optroute/consent.h"

#include "control/store/audit.h"

/* Removes an LMDB store directory made by a test (its two files, then the
 * directory); an empty dir string is nothing to remove. */
static inline void
ts_rm_store(const char *dir)
{
	char p[128];

	if (dir[0] == '\0')
		return;
	/* a store's files, and a local copy's log (copy.h) */
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/log.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/log.mdb-lock", dir);
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

/* Every entry of a store's trail, in seq order. */
struct trail {
	struct or_audit_entry *e;
	size_t n, cap;
};

static inline int
trail_add(void *arg, const struct or_audit_entry *e)
{
	struct trail *t = arg;

	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1024;
		t->e = realloc(t->e, t->cap * sizeof(*t->e));
		if (t->e == NULL)
			return 1;
	}
	t->e[t->n++] = *e;
	return 0;
}

/* The store's LMDB databases, opened raw in one write transaction. */
struct raw {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi consent, audit, idx, meta;
};

/* 0, or -1 if the store at dir cannot be opened so. */
static inline int
raw_open(struct raw *r, const char *dir)
{
	if (mdb_env_create(&r->env) || mdb_env_set_maxdbs(r->env, 4) ||
	    mdb_env_open(r->env, dir, 0, 0600) ||
	    mdb_txn_begin(r->env, NULL, 0, &r->txn) ||
	    mdb_dbi_open(r->txn, "consent", 0, &r->consent) ||
	    mdb_dbi_open(r->txn, "audit", 0, &r->audit) ||
	    mdb_dbi_open(r->txn, "audit_tok", MDB_DUPSORT | MDB_DUPFIXED,
			 &r->idx) ||
	    mdb_dbi_open(r->txn, "meta", 0, &r->meta))
		return -1;
	return 0;
}

/* Commits the edits and closes; the commit's LMDB result. */
static inline int
raw_close(struct raw *r)
{
	int rc = mdb_txn_commit(r->txn);

	mdb_env_close(r->env);
	return rc;
}

#include "control/store/store.h"

#define TS_MAP_SIZE (256ull << 20)

/* A suite's store directory (each test file has its own), and the suite
 * clean-up that removes it. */
static char ts_dir[64] __attribute__((unused));

static inline int
ts_suite_clean(void)
{
	ts_rm_store(ts_dir);
	return 0;
}

/* A fresh empty store in a new temporary directory, written to dir (64
 * bytes; the previous one there, if any, removed first). NULL on failure,
 * with the store's message on stderr. */
static inline struct or_store *
ts_fresh_store(char *dir)
{
	struct or_store_conf conf = { .path = dir, .map_size = TS_MAP_SIZE };
	struct or_store *s = NULL;
	struct or_err err;

	ts_rm_store(dir);
	strcpy(dir, "/tmp/or_test_store.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return NULL;
	if (or_store_open(&conf, &s, &err) != 0) {
		fprintf(stderr, "store open: %s\n", err.msg);
		return NULL;
	}
	return s;
}

/* Closes s and opens the store in dir again. */
static inline struct or_store *
ts_reopen(const char *dir, struct or_store *s, int read_only)
{
	struct or_store_conf conf = { .path = dir, .map_size = TS_MAP_SIZE,
				      .read_only = read_only };
	struct or_err err;

	or_store_close(s);
	s = NULL;
	if (or_store_open(&conf, &s, &err) != 0)
		fprintf(stderr, "store reopen: %s\n", err.msg);
	return s;
}

/* The node policy of the store suites' changes: a hash over four nodes. */
static inline const struct or_node_policy *
ts_pol4(void)
{
	static const struct or_node_policy p = { .kind = OR_NODE_POLICY_HASH,
						 .n_nodes = 4 };

	return &p;
}

/* Change i: token ts_tok(i), fixed method, epoch, notice and a time. */
static inline struct or_change
ts_chg(uint64_t i, uint8_t action, int32_t node)
{
	return (struct or_change){
		.token = ts_tok(i),
		.action = action,
		.method = OR_METHOD_APP,
		.epoch = 2,
		.node = node,
		.notice_version = 7,
		.time_ms = 1700000000000ull + i,
	};
}

/* The store's last change sequence number. */
static inline uint64_t
ts_last_seq(struct or_store *s)
{
	struct or_store_stats st;

	CU_ASSERT_EQUAL(or_store_stats(s, &st, NULL), 0);
	return st.last_seq;
}

#endif
