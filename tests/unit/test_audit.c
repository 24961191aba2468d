/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Audit trail (control/store/audit.h): chain verification, subject export,
 * and tamper detection by editing the LMDB file directly (modify, delete,
 * reorder, index and head edits), using the layout in
 * docs/consent-store.md: audit key = seq as u64 big-endian, value =
 * prev_hash[32] || body[44] || hash[32].
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "control/store/audit.h"
#include "control/store/store.h"
/* The control plane's background verification, on the same stores. */
#include "control/daemon/cmd/cp_job.h"
#include "or_test.h"
#include "test_store_util.h"

#define N_CHANGES 20
#define N_TOKENS 4
#define VAL_LEN (32 + 44 + 32)

static char adir[64];

static void
rm_store(void)
{
	ts_rm_store(adir);
	adir[0] = '\0';
}

static int
suite_clean(void)
{
	rm_store();
	return 0;
}

static struct or_store *
open_store(uint64_t map_size)
{
	struct or_store_conf conf = { .path = adir, .map_size = map_size };
	struct or_store *s = NULL;
	struct or_err err;

	if (or_store_open(&conf, &s, &err) != 0)
		fprintf(stderr, "store open: %s\n", err.msg);
	return s;
}

/* Change i is for token i % N_TOKENS, so token k has seqs k+1, k+5, ... */
static struct or_change
chg(unsigned i)
{
	static const uint8_t acts[] = { OR_ACT_OPTIN, OR_ACT_OPTOUT,
					OR_ACT_OPTIN, OR_ACT_ERASE };

	return (struct or_change){
		.token = ts_tok(i % N_TOKENS),
		.action = acts[(i / N_TOKENS) % 4],
		.method = (uint8_t)(1 + i % OR_METHOD_MAX),
		.epoch = 1,
		.node = -1,
		.notice_version = 3 + i,
		.time_ms = 1700000000000ull + i * 1000,
	};
}

/* A fresh store with N_CHANGES changes in three group commits, closed. */
static int
build_store(void)
{
	static const struct or_node_policy pol = { .kind = OR_NODE_POLICY_HASH,
						   .n_nodes = 8 };
	static const unsigned cut[] = { 0, 7, 8, N_CHANGES };
	struct or_change ch[N_CHANGES];
	struct or_store *s;
	int rc = 0;

	rm_store();
	strcpy(adir, "/tmp/or_test_audit.XXXXXX");
	if (mkdtemp(adir) == NULL)
		return -1;
	s = open_store(0);
	if (s == NULL)
		return -1;
	for (unsigned i = 0; i < N_CHANGES; i++)
		ch[i] = chg(i);
	for (unsigned b = 0; b < 3 && rc == 0; b++)
		rc = or_store_apply(s, &pol, ch + cut[b], cut[b + 1] - cut[b],
				    NULL, NULL, NULL);
	or_store_close(s);
	return rc;
}

/* ---------------------------------------------------- raw LMDB edits --- */

static MDB_val
seq_key(uint64_t *buf, uint64_t seq)
{
	*buf = htobe64(seq);
	return (MDB_val){ 8, buf };
}

/* Copies entry seq's value into v (VAL_LEN bytes). */
static int
raw_get(struct raw *r, uint64_t seq, uint8_t *v)
{
	uint64_t kb;
	MDB_val k = seq_key(&kb, seq), d;

	if (mdb_get(r->txn, r->audit, &k, &d) || d.mv_size != VAL_LEN)
		return -1;
	memcpy(v, d.mv_data, VAL_LEN);
	return 0;
}

static int
raw_put(struct raw *r, uint64_t seq, const uint8_t *v)
{
	uint64_t kb;
	MDB_val k = seq_key(&kb, seq), d = { VAL_LEN, (void *)v };

	return mdb_put(r->txn, r->audit, &k, &d, 0);
}

static int
raw_del(struct raw *r, uint64_t seq)
{
	uint64_t kb;
	MDB_val k = seq_key(&kb, seq);

	return mdb_del(r->txn, r->audit, &k, NULL);
}

/* Verifies a (tampered) store; returns rc, bad seq in *bad. */
static int
verify(uint64_t *bad, char *msg, size_t msg_len)
{
	struct or_store *s = open_store(0);
	struct or_err err = { "" };
	int rc;

	*bad = 12345;
	if (s == NULL)
		return -999;
	rc = or_audit_verify(s, bad, NULL, &err);
	snprintf(msg, msg_len, "%s", err.msg);
	or_store_close(s);
	return rc;
}

/* Subject export of token k on the current store. */
static int
subject(unsigned k, size_t *n, uint64_t *bad)
{
	struct or_store *s = open_store(0);
	struct or_audit_entry *e = NULL;
	struct or_token t = ts_tok(k);
	int rc;

	*bad = 12345;
	if (s == NULL)
		return -999;
	rc = or_audit_subject(s, &t, &e, n, bad, NULL);
	if (rc != 0 && e != NULL)
		rc = -998; /* must be NULL on failure */
	free(e);
	or_store_close(s);
	return rc;
}

/* A fresh store whose entry seq had its action byte flipped in place. */
static void
tamper_action(uint64_t seq)
{
	struct raw r;
	uint8_t v[VAL_LEN];

	CU_ASSERT_EQUAL_FATAL(build_store(), 0);
	CU_ASSERT_EQUAL_FATAL(raw_open(&r, adir), 0);
	CU_ASSERT_EQUAL_FATAL(raw_get(&r, seq, v), 0);
	v[32 + 32] ^= 0x01; /* action byte of the body */
	CU_ASSERT_EQUAL_FATAL(raw_put(&r, seq, v), 0);
	CU_ASSERT_EQUAL_FATAL(raw_close(&r), 0);
}

/* --------------------------------------------------------------- tests --- */

struct collect {
	unsigned n;
	uint64_t first, last;
	uint8_t prev[32];
	int bad;
};

static int
collect_cb(void *arg, const struct or_audit_entry *e)
{
	struct collect *c = arg;

	if (c->n == 0)
		c->first = e->seq;
	else if (e->seq != c->last + 1 || memcmp(e->prev_hash, c->prev, 32))
		c->bad++;
	c->last = e->seq;
	memcpy(c->prev, e->hash, 32);
	c->n++;
	return 0;
}

static void
test_verify_ok(void)
{
	struct or_store *s;
	struct or_err err;
	struct collect c = { 0 };
	uint8_t head[32], zero[32] = { 0 };
	uint64_t bad = 7, n = 0, hseq;

	CU_ASSERT_EQUAL_FATAL(build_store(), 0);
	s = open_store(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(or_audit_verify(s, &bad, &n, &err), 0);
	CU_ASSERT_EQUAL(n, N_CHANGES);
	CU_ASSERT_EQUAL(or_audit_head(s, &hseq, head, &err), 0);
	CU_ASSERT_EQUAL(hseq, N_CHANGES);
	CU_ASSERT_NOT_EQUAL(memcmp(head, zero, 32), 0);

	CU_ASSERT_EQUAL(or_audit_foreach(s, 15, collect_cb, &c, &err), 0);
	CU_ASSERT_EQUAL(c.n, N_CHANGES - 14);
	CU_ASSERT_EQUAL(c.first, 15);
	CU_ASSERT_EQUAL(c.last, N_CHANGES);
	CU_ASSERT_EQUAL(c.bad, 0);
	CU_ASSERT_EQUAL(memcmp(c.prev, head, 32), 0);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(or_audit_foreach(s, 0, collect_cb, &c, &err), 0);
	CU_ASSERT_EQUAL(c.n, N_CHANGES);
	CU_ASSERT_EQUAL(c.bad, 0);
	or_store_close(s);
}

static void
test_empty(void)
{
	struct or_store *s;
	struct or_err err;
	uint8_t head[32], zero[32] = { 0 };
	uint64_t n = 9, hseq = 9;

	rm_store();
	strcpy(adir, "/tmp/or_test_audit.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(adir));
	s = open_store(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(or_audit_verify(s, NULL, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(or_audit_head(s, &hseq, head, &err), 0);
	CU_ASSERT_EQUAL(hseq, 0);
	CU_ASSERT_EQUAL(memcmp(head, zero, 32), 0);
	or_store_close(s);
}

static void
test_subject(void)
{
	struct or_store *s;
	struct or_audit_entry *e = NULL;
	struct or_token t = ts_tok(1), none = ts_tok(99);
	struct or_err err;
	size_t n = 0;

	CU_ASSERT_EQUAL_FATAL(build_store(), 0);
	s = open_store(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(or_audit_subject(s, &t, &e, &n, NULL, &err), 0);
	CU_ASSERT_EQUAL_FATAL(n, N_CHANGES / N_TOKENS);
	for (size_t i = 0; i < n; i++) {
		struct or_change c = chg((unsigned)(1 + i * N_TOKENS));

		CU_ASSERT_EQUAL(e[i].seq, 2 + i * N_TOKENS);
		CU_ASSERT_TRUE(or_token_eq(&e[i].token, &t));
		CU_ASSERT_EQUAL(e[i].action, c.action);
		CU_ASSERT_EQUAL(e[i].method, c.method);
		CU_ASSERT_EQUAL(e[i].notice_version, c.notice_version);
		CU_ASSERT_EQUAL(e[i].time_ms, c.time_ms);
		CU_ASSERT_EQUAL(e[i].epoch, 1);
	}
	free(e);
	e = NULL;
	CU_ASSERT_EQUAL(or_audit_subject(s, &none, &e, &n, NULL, &err), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_PTR_NULL(e);
	/* the last entry (seq 20, token 3) links to the head */
	t = ts_tok(3);
	CU_ASSERT_EQUAL(or_audit_subject(s, &t, &e, &n, NULL, &err), 0);
	CU_ASSERT_EQUAL(n, N_CHANGES / N_TOKENS);
	CU_ASSERT_EQUAL(e[n - 1].seq, N_CHANGES);
	free(e);
	or_store_close(s);
}

static void
test_tamper_modify(void)
{
	uint64_t bad;
	size_t n;
	char msg[OR_ERR_LEN];

	tamper_action(7);

	CU_ASSERT_EQUAL(verify(&bad, msg, sizeof(msg)), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 7);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "entry 7"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "hash mismatch"));
	/* seq 7 is token 2's; token 0's entries are intact */
	CU_ASSERT_EQUAL(subject(2, &n, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 7);
	CU_ASSERT_EQUAL(subject(0, &n, &bad), 0);
	CU_ASSERT_EQUAL(n, N_CHANGES / N_TOKENS);
}

/* An editor who also recomputes the edited entry's own hash is caught by
 * the next entry's link. */
static void
test_tamper_rehash(void)
{
	struct raw r;
	uint8_t v[VAL_LEN];
	uint64_t bad;
	size_t n;
	char msg[OR_ERR_LEN];

	CU_ASSERT_EQUAL_FATAL(build_store(), 0);
	CU_ASSERT_EQUAL_FATAL(raw_open(&r, adir), 0);
	CU_ASSERT_EQUAL_FATAL(raw_get(&r, 7, v), 0);
	v[32 + 40] ^= 0x01; /* notice version */
	crypto_generichash(v + 76, 32, v, 76, NULL, 0);
	CU_ASSERT_EQUAL_FATAL(raw_put(&r, 7, v), 0);
	CU_ASSERT_EQUAL_FATAL(raw_close(&r), 0);

	CU_ASSERT_EQUAL(verify(&bad, msg, sizeof(msg)), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 8);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "does not link"));
	CU_ASSERT_EQUAL(subject(2, &n, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 7);
}

static void
test_tamper_delete(void)
{
	struct raw r;
	uint64_t bad;
	size_t n;
	char msg[OR_ERR_LEN];

	CU_ASSERT_EQUAL_FATAL(build_store(), 0);
	CU_ASSERT_EQUAL_FATAL(raw_open(&r, adir), 0);
	CU_ASSERT_EQUAL_FATAL(raw_del(&r, 7), 0);
	CU_ASSERT_EQUAL_FATAL(raw_close(&r), 0);
	CU_ASSERT_EQUAL(verify(&bad, msg, sizeof(msg)), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 7);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "missing"));
	CU_ASSERT_EQUAL(subject(2, &n, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 7);
	/* neighbours of the hole: token 1 owns seq 6, token 3 seq 8 */
	CU_ASSERT_EQUAL(subject(1, &n, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 6);
	CU_ASSERT_EQUAL(subject(3, &n, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 8);

	/* the newest entry: caught by the recorded head */
	CU_ASSERT_EQUAL_FATAL(build_store(), 0);
	CU_ASSERT_EQUAL_FATAL(raw_open(&r, adir), 0);
	CU_ASSERT_EQUAL_FATAL(raw_del(&r, N_CHANGES), 0);
	CU_ASSERT_EQUAL_FATAL(raw_close(&r), 0);
	CU_ASSERT_EQUAL(verify(&bad, msg, sizeof(msg)), -EBADMSG);
	CU_ASSERT_EQUAL(bad, N_CHANGES);
	CU_ASSERT_EQUAL(subject(2, &n, &bad), -EBADMSG); /* owns seq 19 */
	CU_ASSERT_EQUAL(bad, N_CHANGES - 1);

	/* the oldest entry */
	CU_ASSERT_EQUAL_FATAL(build_store(), 0);
	CU_ASSERT_EQUAL_FATAL(raw_open(&r, adir), 0);
	CU_ASSERT_EQUAL_FATAL(raw_del(&r, 1), 0);
	CU_ASSERT_EQUAL_FATAL(raw_close(&r), 0);
	CU_ASSERT_EQUAL(verify(&bad, msg, sizeof(msg)), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 1);
}

static void
test_tamper_reorder(void)
{
	struct raw r;
	uint8_t a[VAL_LEN], b[VAL_LEN];
	uint64_t bad;
	char msg[OR_ERR_LEN];

	CU_ASSERT_EQUAL_FATAL(build_store(), 0);
	CU_ASSERT_EQUAL_FATAL(raw_open(&r, adir), 0);
	CU_ASSERT_EQUAL_FATAL(raw_get(&r, 3, a), 0);
	CU_ASSERT_EQUAL_FATAL(raw_get(&r, 4, b), 0);
	CU_ASSERT_EQUAL_FATAL(raw_put(&r, 3, b), 0);
	CU_ASSERT_EQUAL_FATAL(raw_put(&r, 4, a), 0);
	CU_ASSERT_EQUAL_FATAL(raw_close(&r), 0);
	CU_ASSERT_EQUAL(verify(&bad, msg, sizeof(msg)), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 3);

	/* moved with its seq field rewritten: the links break */
	CU_ASSERT_EQUAL_FATAL(build_store(), 0);
	CU_ASSERT_EQUAL_FATAL(raw_open(&r, adir), 0);
	CU_ASSERT_EQUAL_FATAL(raw_get(&r, 3, a), 0);
	CU_ASSERT_EQUAL_FATAL(raw_get(&r, 4, b), 0);
	memcpy(a + 32, b + 32, 8);
	memcpy(b + 32, (uint8_t[8]){ 3 }, 8); /* seq 3, little-endian */
	memcpy(a + 32, (uint8_t[8]){ 4 }, 8);
	crypto_generichash(a + 76, 32, a, 76, NULL, 0);
	crypto_generichash(b + 76, 32, b, 76, NULL, 0);
	CU_ASSERT_EQUAL_FATAL(raw_put(&r, 3, b), 0);
	CU_ASSERT_EQUAL_FATAL(raw_put(&r, 4, a), 0);
	CU_ASSERT_EQUAL_FATAL(raw_close(&r), 0);
	CU_ASSERT_EQUAL(verify(&bad, msg, sizeof(msg)), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "does not link"));
}

static void
test_tamper_index_head(void)
{
	struct raw r;
	struct or_token t0 = ts_tok(0), t1 = ts_tok(1);
	uint64_t kb, bad;
	MDB_val tk = { 16, t0.b }, sk = seq_key(&kb, 5);
	MDB_val hk = { 4, "head" }, hv;
	uint8_t h[32];
	size_t n;
	char msg[OR_ERR_LEN];

	/* an entry dropped from the token index */
	CU_ASSERT_EQUAL_FATAL(build_store(), 0);
	CU_ASSERT_EQUAL_FATAL(raw_open(&r, adir), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_del(r.txn, r.idx, &tk, &sk), 0);
	CU_ASSERT_EQUAL_FATAL(raw_close(&r), 0);
	CU_ASSERT_EQUAL(verify(&bad, msg, sizeof(msg)), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 5);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "token index"));

	/* an entry attributed to another subject */
	CU_ASSERT_EQUAL_FATAL(build_store(), 0);
	CU_ASSERT_EQUAL_FATAL(raw_open(&r, adir), 0);
	tk.mv_data = t1.b;
	CU_ASSERT_EQUAL_FATAL(mdb_put(r.txn, r.idx, &tk, &sk, 0), 0);
	CU_ASSERT_EQUAL_FATAL(raw_close(&r), 0);
	CU_ASSERT_EQUAL(verify(&bad, msg, sizeof(msg)), -EBADMSG);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "token index"));
	CU_ASSERT_EQUAL(subject(1, &n, &bad), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 5);

	/* the recorded head */
	CU_ASSERT_EQUAL_FATAL(build_store(), 0);
	CU_ASSERT_EQUAL_FATAL(raw_open(&r, adir), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_get(r.txn, r.meta, &hk, &hv), 0);
	memcpy(h, hv.mv_data, 32);
	h[0] ^= 0x80;
	hv = (MDB_val){ 32, h };
	CU_ASSERT_EQUAL_FATAL(mdb_put(r.txn, r.meta, &hk, &hv, 0), 0);
	CU_ASSERT_EQUAL_FATAL(raw_close(&r), 0);
	CU_ASSERT_EQUAL(verify(&bad, msg, sizeof(msg)), -EBADMSG);
	CU_ASSERT_EQUAL(bad, N_CHANGES);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "head"));
}

/* A group commit that fails half-way (map full) leaves neither records
 * nor audit entries behind: they share one transaction. */
static void
test_atomic_with_store(void)
{
	enum { N = OR_STORE_APPLY_MAX };
	static const struct or_node_policy pol = { .kind = OR_NODE_POLICY_FIXED,
						   .node = 1 };
	struct or_change *ch = calloc(N, sizeof(*ch));
	struct or_store_stats st;
	struct or_store *s;
	struct or_err err;
	uint64_t bad, n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	CU_ASSERT_EQUAL_FATAL(build_store(), 0);
	s = open_store(1u << 20); /* too small for N more changes */
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (unsigned i = 0; i < N; i++)
		ch[i] = (struct or_change){ .token = ts_tok(1000 + i),
					    .action = OR_ACT_OPTIN,
					    .method = OR_METHOD_IMPORT,
					    .node = -1 };
	CU_ASSERT_EQUAL(or_store_apply(s, &pol, ch, N, NULL, NULL, &err),
			-ENOSPC);
	CU_ASSERT_EQUAL(or_store_stats(s, &st, &err), 0);
	CU_ASSERT_EQUAL(st.last_seq, N_CHANGES);
	CU_ASSERT_EQUAL(st.audit_entries, N_CHANGES);
	CU_ASSERT_EQUAL(or_audit_verify(s, &bad, &n, &err), 0);
	CU_ASSERT_EQUAL(n, N_CHANGES);
	/* and the store still takes small batches */
	CU_ASSERT_EQUAL(or_store_apply(s, &pol, ch, 10, NULL, NULL, &err), 0);
	CU_ASSERT_EQUAL(or_audit_verify(s, &bad, &n, &err), 0);
	CU_ASSERT_EQUAL(n, N_CHANGES + 10);
	or_store_close(s);
	free(ch);
}

/* A store whose chain is N_BIG long: N_BIG opt-ins of distinct tokens. */
#define N_BIG 20000u

static struct or_store *
big_store(void)
{
	static const struct or_node_policy pol = { .kind = OR_NODE_POLICY_FIXED,
						   .node = 1 };
	struct or_change *ch = calloc(N_BIG, sizeof(*ch));
	struct or_store *s;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	CU_ASSERT_EQUAL_FATAL(build_store(), 0);
	s = open_store(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (unsigned i = 0; i < N_BIG; i++)
		ch[i] = (struct or_change){ .token = ts_tok(5000 + i),
					    .action = OR_ACT_OPTIN,
					    .method = OR_METHOD_IMPORT,
					    .epoch = 1,
					    .node = -1 };
	rc = or_store_apply(s, &pol, ch, OR_STORE_APPLY_MAX, NULL, NULL, NULL);
	if (rc == 0)
		rc = or_store_apply(s, &pol, ch + OR_STORE_APPLY_MAX,
				    N_BIG - OR_STORE_APPLY_MAX, NULL, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	free(ch);
	return s;
}

/* A set cancel flag stops the walk (it is looked at every 4096 entries),
 * with -ECANCELED, not a verdict. */
static void
test_verify_cancel(void)
{
	struct or_store *s = big_store();
	struct or_err err = { "" };
	volatile int cancel = 1;
	uint64_t bad = 0, n = 0;

	CU_ASSERT_EQUAL(or_audit_verify_cancel(s, &cancel, &bad, &n, &err),
			-ECANCELED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cancelled"));
	cancel = 0;
	CU_ASSERT_EQUAL(or_audit_verify_cancel(s, &cancel, &bad, &n, &err), 0);
	CU_ASSERT_EQUAL(n, N_CHANGES + N_BIG);
	or_store_close(s);
}

/* Waits (bounded) for the job's descriptor, then collects. */
static int
job_wait(struct cp_job *j, struct cp_job_result *r)
{
	struct pollfd pfd = { .fd = cp_job_fd(j), .events = POLLIN };

	if (poll(&pfd, 1, 60000) != 1)
		return -ETIMEDOUT;
	return cp_job_collect(j, r);
}

/* The control plane's background verification gives what a direct one
 * gives, one job at a time; destroying a running job cancels it. */
static void
test_verify_job(void)
{
	struct or_store *s = big_store();
	struct or_sor_conf sc = { 0 };
	struct or_sor *sor = NULL;
	struct cp_job_result r;
	uint8_t head[32];
	uint64_t hseq;
	struct cp_job *j = NULL;

	CU_ASSERT_EQUAL_FATAL(or_sor_lmdb_attach(s, &sc, &sor), 0);
	CU_ASSERT_EQUAL_FATAL(cp_job_create(sor, &j), 0);
	CU_ASSERT_FALSE(cp_job_running(j));
	CU_ASSERT_EQUAL(cp_job_collect(j, &r), -EAGAIN); /* none started */
	CU_ASSERT_EQUAL_FATAL(cp_job_start(j), 0);
	CU_ASSERT_TRUE(cp_job_running(j));
	CU_ASSERT_EQUAL(cp_job_start(j), -EBUSY);
	CU_ASSERT_EQUAL_FATAL(job_wait(j, &r), 0);
	CU_ASSERT_FALSE(cp_job_running(j));
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.entries, N_CHANGES + N_BIG);
	CU_ASSERT_EQUAL(or_audit_head(s, &hseq, head, NULL), 0);
	CU_ASSERT_EQUAL(r.head_seq, hseq);
	CU_ASSERT_EQUAL(memcmp(r.head, head, 32), 0);
	/* again: a second job on the same handle */
	CU_ASSERT_EQUAL_FATAL(cp_job_start(j), 0);
	CU_ASSERT_EQUAL_FATAL(job_wait(j, &r), 0);
	CU_ASSERT_EQUAL(r.rc, 0);
	/* a running job is cancelled and joined by destroy */
	CU_ASSERT_EQUAL_FATAL(cp_job_start(j), 0);
	cp_job_destroy(j);
	or_sor_close(sor);
	or_store_close(s);
}

/* A broken chain is reported by the job as by the direct call. */
static void
test_verify_job_broken(void)
{
	struct or_sor_conf sc = { 0 };
	struct or_sor *sor = NULL;
	struct cp_job_result r;
	struct or_store *s;
	struct cp_job *j = NULL;

	tamper_action(9);
	s = open_store(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(or_sor_lmdb_attach(s, &sc, &sor), 0);
	CU_ASSERT_EQUAL_FATAL(cp_job_create(sor, &j), 0);
	CU_ASSERT_EQUAL_FATAL(cp_job_start(j), 0);
	CU_ASSERT_EQUAL_FATAL(job_wait(j, &r), 0);
	CU_ASSERT_EQUAL(r.rc, -EBADMSG);
	CU_ASSERT_EQUAL(r.bad_seq, 9);
	CU_ASSERT(r.msg[0] != '\0');
	cp_job_destroy(j);
	or_sor_close(sor);
	or_store_close(s);
}

/* Sender keys in the trail: a key issued is an entry of its subject with
 * the key's epoch and nothing of the key; the appliance's rotations and
 * retirements are entries of the all-zero token; the chain verifies and
 * catches an edited epoch. */
static void
test_key_events(void)
{
	static const struct or_node_policy pol = { .kind = OR_NODE_POLICY_FIXED,
						   .node = 5 };
	struct or_token t = ts_tok(1), zero = { { 0 } };
	struct or_audit_entry *e = NULL;
	struct or_auth_state st;
	struct or_change ch[2];
	struct or_store *s;
	struct raw r;
	uint8_t v[VAL_LEN];
	uint64_t bad = 0, n_checked = 0;
	size_t n = 0;
	char msg[OR_ERR_LEN];

	rm_store();
	strcpy(adir, "/tmp/or_test_audit.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(adir));
	s = open_store(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	ch[0] = chg(1);
	ch[0].action = OR_ACT_OPTIN;
	ch[1] = ch[0];
	ch[1].action = OR_ACT_KEY;
	ch[1].epoch = 3;
	CU_ASSERT_EQUAL_FATAL(or_store_apply(s, &pol, ch, 2, NULL, NULL, NULL),
			      0);                                    /* 1, 2 */
	CU_ASSERT_EQUAL_FATAL(or_store_auth_rotate(s, 0, &st, NULL), 0); /* 3 */
	ch[1].epoch = st.current;
	CU_ASSERT_EQUAL_FATAL(or_store_apply(s, &pol, ch + 1, 1, NULL, NULL,
					     NULL), 0);               /* 4 */
	CU_ASSERT_EQUAL_FATAL(or_store_auth_retire(s, 0, &st, NULL), 0); /* 5 */

	CU_ASSERT_EQUAL(or_audit_verify(s, &bad, &n_checked, NULL), 0);
	CU_ASSERT_EQUAL(n_checked, 5);
	CU_ASSERT_EQUAL_FATAL(or_audit_subject(s, &t, &e, &n, NULL, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT(e[0].seq == 1 && e[0].action == OR_ACT_OPTIN);
	CU_ASSERT(e[1].seq == 2 && e[1].action == OR_ACT_KEY &&
		  e[1].epoch == 3 && e[1].method == ch[1].method &&
		  e[1].node == 5);
	CU_ASSERT(e[2].seq == 4 && e[2].action == OR_ACT_KEY &&
		  e[2].epoch == 1);
	free(e);
	e = NULL;
	CU_ASSERT_EQUAL_FATAL(or_audit_subject(s, &zero, &e, &n, NULL, NULL),
			      0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT(e[0].seq == 3 && e[0].action == OR_ACT_ROTATE &&
		  e[0].epoch == 1 && e[0].method == OR_METHOD_OPERATOR);
	CU_ASSERT(e[1].seq == 5 && e[1].action == OR_ACT_RETIRE &&
		  e[1].epoch == 0);
	free(e);
	CU_ASSERT_STRING_EQUAL(or_action_name(OR_ACT_KEY), "key");
	CU_ASSERT_STRING_EQUAL(or_action_name(OR_ACT_ROTATE), "rotate");
	CU_ASSERT_STRING_EQUAL(or_action_name(OR_ACT_RETIRE), "retire");
	or_store_close(s);

	/* The rotation's epoch edited in place: caught at its seq. */
	CU_ASSERT_EQUAL_FATAL(raw_open(&r, adir), 0);
	CU_ASSERT_EQUAL_FATAL(raw_get(&r, 3, v), 0);
	v[32 + 34] ^= 0x02; /* epoch byte of the body */
	CU_ASSERT_EQUAL_FATAL(raw_put(&r, 3, v), 0);
	CU_ASSERT_EQUAL_FATAL(raw_close(&r), 0);
	CU_ASSERT_EQUAL(verify(&bad, msg, sizeof(msg)), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "hash mismatch"));
}

static CU_TestInfo audit_tests[] = {
	{ "chain verifies", test_verify_ok },
	{ "empty trail", test_empty },
	{ "subject export", test_subject },
	{ "tamper: modify", test_tamper_modify },
	{ "tamper: modify and rehash", test_tamper_rehash },
	{ "tamper: delete", test_tamper_delete },
	{ "tamper: reorder", test_tamper_reorder },
	{ "tamper: index and head", test_tamper_index_head },
	{ "atomic with the store", test_atomic_with_store },
	{ "verification can be cancelled", test_verify_cancel },
	{ "background verification job", test_verify_job },
	{ "background verification of a broken chain", test_verify_job_broken },
	{ "sender key and auth epoch entries", test_key_events },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("audit", NULL, suite_clean, audit_tests)
