/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Records rebuilt from the audit trail (control/store/consent_next.h)
 * equal the records or_store_apply wrote: random streams of opt-ins
 * (policy-chosen and pinned nodes), opt-outs, erasures and keys, in
 * groups of random size over a few tokens (so that a token changes many
 * times, also within one group), then every entry folded in seq order
 * through or_consent_from_entry and compared field by field with the
 * store. This is what a fleet follower relies on (docs/fleet.md section 6):
 * a local copy (control/store/copy.h) that follows the first's trail, in
 * batches of random size with folds and reopenings (its log replayed) in
 * between, ends with the same records, snapshot, counts, auth state and
 * position, and gave the same results entry by entry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "control/store/consent_next.h"
#include "control/store/copy.h"

#include "tests/lib/or_rand.h"
#include "or_test.h"
#include "test_store_util.h"

#define N_TOK 48
#define N_GROUPS 60
#define GROUP_MAX 300

static char sdir[64];

/* The records rebuilt from the trail, by token index. */
static struct {
	struct or_token tok[N_TOK];
	struct or_consent rec[N_TOK];
	int have[N_TOK];
	uint64_t entries, next_seq;
	int bad; /* an entry that did not follow (from_entry < 0) */
} rb;

static int
tok_index(const struct or_token *t)
{
	for (int i = 0; i < N_TOK; i++)
		if (memcmp(rb.tok[i].b, t->b, OR_TOKEN_LEN) == 0)
			return i;
	return -1;
}

static int
fold_entry(void *arg, const struct or_audit_entry *e)
{
	int i = tok_index(&e->token), rc;
	struct or_consent nw;

	(void)arg;
	if (i < 0 || e->seq != rb.next_seq) {
		rb.bad = 1;
		return 1;
	}
	rb.next_seq++;
	rb.entries++;
	rc = or_consent_from_entry(e, rb.have[i] ? &rb.rec[i] : NULL, &nw);
	if (rc < 0) {
		rb.bad = 1;
		return 1;
	}
	rb.have[i] = rc;
	if (rc == 1)
		rb.rec[i] = nw;
	return 0;
}

static void
assert_same(const struct or_consent *a, const struct or_consent *b)
{
	CU_ASSERT_EQUAL(memcmp(a->token.b, b->token.b, OR_TOKEN_LEN), 0);
	CU_ASSERT_EQUAL(a->state, b->state);
	CU_ASSERT_EQUAL(a->epoch, b->epoch);
	CU_ASSERT_EQUAL(a->flags, b->flags);
	CU_ASSERT_EQUAL(a->method, b->method);
	CU_ASSERT_EQUAL(a->node, b->node);
	CU_ASSERT_EQUAL(a->notice_version, b->notice_version);
	CU_ASSERT_EQUAL(a->granted_ms, b->granted_ms);
	CU_ASSERT_EQUAL(a->withdrawn_ms, b->withdrawn_ms);
	CU_ASSERT_EQUAL(a->seq, b->seq);
}

/* One random change to token i; state[] is each token's state at this
 * point of the stream (0 none), so a key goes only to an opted-in one. */
static void
random_change(uint64_t *rng, int i, uint8_t state[N_TOK],
	      struct or_change *c)
{
	uint32_t r = or_rand_below(rng, 100);

	memset(c, 0, sizeof(*c));
	c->token = rb.tok[i];
	c->node = -1;
	c->method = (uint8_t)(1 + or_rand_below(rng, OR_METHOD_MAX));
	c->epoch = (uint8_t)or_rand_below(rng, 4);
	c->notice_version = or_rand_below(rng, 5);
	/* Mostly explicit times, so that two runs compare exactly; some
	 * "now" (0) as the daemon sends. */
	c->time_ms = or_rand_below(rng, 8) ? 1700000000000ull +
						     or_rand_next(rng) % 1000000
					   : 0;
	if (r < 10 && state[i] == OR_STATE_IN) {
		c->action = OR_ACT_KEY;
	} else if (r < 20) {
		c->action = OR_ACT_ERASE;
		state[i] = 0;
	} else if (r < 50) {
		c->action = OR_ACT_OPTOUT;
		state[i] = OR_STATE_OUT;
	} else {
		c->action = OR_ACT_OPTIN;
		if (or_rand_below(rng, 4) == 0)
			c->node = (int32_t)or_rand_below(rng, 1000);
		state[i] = OR_STATE_IN;
	}
}

static void
test_rebuilt_equals_store(void)
{
	static const struct or_node_policy pol = {
		.kind = OR_NODE_POLICY_HASH,
		.n_nodes = 7,
	};
	static struct or_change ch[GROUP_MAX];
	struct or_store_conf sc = { 0 };
	struct or_store *st = NULL;
	struct or_err err = { "" };
	uint8_t state[N_TOK] = { 0 };
	uint64_t rng = 20261202, first, total = 0;
	unsigned kinds[OR_ACT_CHANGE_MAX + 1] = { 0 }, pinned_then_in = 0;

	memset(&rb, 0, sizeof(rb));
	for (int i = 0; i < N_TOK; i++)
		rb.tok[i] = ts_tok((uint64_t)i + 1000);
	snprintf(sdir, sizeof(sdir), "/tmp/or_test_cnext.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(sdir));
	sc.path = sdir;
	sc.map_size = 64u << 20;
	CU_ASSERT_EQUAL_FATAL(or_store_open(&sc, &st, &err), 0);
	for (int g = 0; g < N_GROUPS; g++) {
		unsigned n = 1 + or_rand_below(&rng, GROUP_MAX);

		for (unsigned k = 0; k < n; k++) {
			int i = (int)or_rand_below(&rng, N_TOK);

			/* an opt-in of a pinned record without a node keeps
			 * the pin: count that the stream has such cases */
			random_change(&rng, i, state, &ch[k]);
			kinds[ch[k].action]++;
		}
		CU_ASSERT_EQUAL_FATAL(or_store_apply(st, &pol, ch, n, NULL,
						     &first, &err),
				      0);
		total += n;
	}
	rb.next_seq = 1;
	CU_ASSERT_EQUAL_FATAL(or_audit_foreach(st, 1, fold_entry, NULL, &err),
			      0);
	CU_ASSERT_FALSE(rb.bad);
	CU_ASSERT_EQUAL(rb.entries, total);
	for (int i = 0; i < N_TOK; i++) {
		struct or_consent c;
		int rc = or_store_get(st, &rb.tok[i], &c);

		if (!rb.have[i]) {
			CU_ASSERT_EQUAL(rc, -ENOENT);
			continue;
		}
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		assert_same(&rb.rec[i], &c);
		pinned_then_in += (c.flags & OR_CFLAG_PINNED) &&
				  c.state == OR_STATE_IN;
	}
	/* the stream did exercise every kind and both node paths */
	for (int a = OR_ACT_OPTIN; a <= OR_ACT_CHANGE_MAX; a++)
		CU_ASSERT(kinds[a] > 100);
	CU_ASSERT(pinned_then_in > 0);
	or_store_close(st);
	ts_rm_store(sdir);
	sdir[0] = '\0';
}

/* A snapshot's entries, in order. */
struct snap {
	struct or_store_entry e[4 * N_TOK];
	unsigned n;
};

static int
snap_add(void *arg, const struct or_store_entry *e, unsigned n)
{
	struct snap *s = arg;

	for (unsigned i = 0; i < n && s->n < 4 * N_TOK; i++)
		s->e[s->n++] = e[i];
	return 0;
}

/* The copy's snapshot equals the store's, entry by entry, at its seq. */
static void
assert_same_snapshot(struct or_store *a, struct or_copy *b)
{
	static struct snap sa, sb;
	struct or_store_entry buf[7]; /* a small chunk: several callbacks */
	struct or_err err = { "" };
	uint64_t qa, qb;

	sa.n = sb.n = 0;
	CU_ASSERT_EQUAL_FATAL(or_store_snapshot(a, buf, 7, snap_add, &sa, &qa,
						&err), 0);
	CU_ASSERT_EQUAL_FATAL(or_copy_snapshot(b, buf, 7, snap_add, &sb, &qb,
					       &err), 0);
	CU_ASSERT_EQUAL(qa, qb);
	CU_ASSERT_EQUAL_FATAL(sa.n, sb.n);
	for (unsigned i = 0; i < sa.n; i++) {
		CU_ASSERT_EQUAL(memcmp(sa.e[i].token.b, sb.e[i].token.b,
				       OR_TOKEN_LEN), 0);
		CU_ASSERT_EQUAL(sa.e[i].rec, sb.e[i].rec);
	}
}

/* The copy and the store agree on every record, count, the position and
 * the auth state. */
static void
assert_same_copy(struct or_store *a, struct or_copy *b)
{
	struct or_store_stats sa, sb;
	struct or_auth_state aa, ab;
	struct or_err err = { "" };
	uint8_t ha[OR_AUDIT_HASH_LEN], hb[OR_AUDIT_HASH_LEN];
	uint64_t la, lb;

	for (int i = 0; i < N_TOK; i++) {
		struct or_consent ca, cb;
		int ra = or_store_get(a, &rb.tok[i], &ca);

		CU_ASSERT_EQUAL_FATAL(or_copy_get(b, &rb.tok[i], &cb), ra);
		if (ra == 0)
			assert_same(&ca, &cb);
	}
	CU_ASSERT_EQUAL(or_store_stats(a, &sa, &err), 0);
	CU_ASSERT_EQUAL(or_copy_stats(b, &sb, NULL, &err), 0);
	CU_ASSERT_EQUAL(sa.entries, sb.entries);
	CU_ASSERT_EQUAL(sa.opted_in, sb.opted_in);
	CU_ASSERT_EQUAL(sa.opted_out, sb.opted_out);
	CU_ASSERT_EQUAL(sa.last_seq, sb.last_seq);
	CU_ASSERT_EQUAL(or_audit_head(a, &la, ha, &err), 0);
	or_copy_position(b, &lb, hb);
	CU_ASSERT_EQUAL(la, lb);
	CU_ASSERT_EQUAL(memcmp(ha, hb, sizeof(hb)), 0);
	CU_ASSERT_EQUAL(or_store_auth_get(a, &aa, &err), 0);
	CU_ASSERT_EQUAL(or_copy_auth_get(b, &ab, &err), 0);
	CU_ASSERT_EQUAL(aa.current, ab.current);
	CU_ASSERT_EQUAL(aa.has_previous, ab.has_previous);
	CU_ASSERT_EQUAL(aa.previous, ab.previous);
	CU_ASSERT_EQUAL(aa.seq, ab.seq);
	assert_same_snapshot(a, b);
}

static void
test_copy_follows(void)
{
	static const struct or_node_policy pol = {
		.kind = OR_NODE_POLICY_HASH,
		.n_nodes = 5,
	};
	static struct or_change ch[GROUP_MAX];
	static struct or_change_result res[20 * (GROUP_MAX + 1)],
		fres[20 * (GROUP_MAX + 1)];
	char bdir[64] = "/tmp/or_test_copy.XXXXXX";
	struct or_store_conf sc = { .map_size = 64u << 20 };
	struct or_store *a = NULL;
	struct or_copy *b = NULL;
	struct or_copy_stats cs;
	struct or_store_stats sb;
	struct or_auth_state aa;
	struct or_err err = { "" };
	uint8_t state[N_TOK] = { 0 };
	uint64_t rng = 77, first, total = 0;
	struct trail t = { 0 };
	size_t done = 0;
	unsigned folds = 0, reopens = 0;

	memset(&rb, 0, sizeof(rb));
	for (int i = 0; i < N_TOK; i++)
		rb.tok[i] = ts_tok((uint64_t)i + 5000);
	snprintf(sdir, sizeof(sdir), "/tmp/or_test_cnext.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(sdir));
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(bdir));
	sc.path = sdir;
	CU_ASSERT_EQUAL_FATAL(or_store_open(&sc, &a, &err), 0);
	sc.path = bdir;
	CU_ASSERT_EQUAL_FATAL(or_copy_open(&sc, &b, &err), 0);
	/* groups, with epoch rotations and retirements between some */
	for (int g = 0; g < 20; g++) {
		unsigned n = 1 + or_rand_below(&rng, GROUP_MAX);

		for (unsigned k = 0; k < n; k++)
			random_change(&rng, (int)or_rand_below(&rng, N_TOK),
				      state, &ch[k]);
		CU_ASSERT_EQUAL_FATAL(or_store_apply(a, &pol, ch, n,
						     res + total, &first, &err),
				      0);
		total += n;
		if (g % 4 == 1)
			CU_ASSERT_EQUAL_FATAL(or_store_auth_rotate(a, 0, &aa,
								   &err), 0);
		if (g % 4 == 3)
			CU_ASSERT_EQUAL_FATAL(or_store_auth_retire(a, 0, &aa,
								   &err), 0);
		if (g % 4 == 1 || g % 4 == 3)
			res[total++] = (struct or_change_result){ .seq =
									  aa.seq };
	}
	CU_ASSERT_EQUAL_FATAL(or_audit_foreach(a, 1, trail_add, &t, &err), 0);
	CU_ASSERT_EQUAL_FATAL(t.n, total);
	/* a batch that does not start at the position is refused */
	CU_ASSERT_EQUAL(or_copy_follow(b, t.e + 1, 1, fres, &err), -ESTALE);
	/* a batch whose second entry does not link is refused whole */
	{
		struct or_audit_entry two[2] = { t.e[0], t.e[2] };

		CU_ASSERT_EQUAL(or_copy_follow(b, two, 2, fres, &err),
				-EBADMSG);
		CU_ASSERT_EQUAL(or_copy_stats(b, &sb, NULL, &err), 0);
		CU_ASSERT_EQUAL(sb.last_seq, 0);
		CU_ASSERT_EQUAL(sb.entries, 0);
	}
	while (done < t.n) {
		unsigned n = 1 + or_rand_below(&rng, 300);

		if (n > t.n - done)
			n = (unsigned)(t.n - done);
		CU_ASSERT_EQUAL_FATAL(or_copy_follow(b, t.e + done, n,
						     fres + done, &err),
				      0);
		done += n;
		/* now and then a fold, a reopening (the log replayed over
		 * the records), or both */
		switch (or_rand_below(&rng, 6)) {
		case 0:
			CU_ASSERT_EQUAL_FATAL(or_copy_fold(b, &err), 0);
			folds++;
			break;
		case 1:
			CU_ASSERT_EQUAL_FATAL(or_copy_fold(b, &err), 0);
			folds++;
			/* fall through */
		case 2:
			or_copy_close(b);
			CU_ASSERT_EQUAL_FATAL(or_copy_open(&sc, &b, &err), 0);
			reopens++;
			break;
		default:
			break;
		}
	}
	CU_ASSERT(folds > 3 && reopens > 3);
	for (size_t i = 0; i < t.n; i++) {
		CU_ASSERT_EQUAL(fres[i].seq, res[i].seq);
		CU_ASSERT_EQUAL(fres[i].rec, res[i].rec);
		CU_ASSERT_EQUAL(fres[i].prev_rec, res[i].prev_rec);
	}
	/* an entry applied twice does not follow */
	CU_ASSERT_EQUAL(or_copy_follow(b, t.e + t.n - 1, 1, NULL, &err),
			-ESTALE);
	assert_same_copy(a, b);
	CU_ASSERT(aa.current >= 4);
	/* all folded: the log is empty, the records alone say the same */
	CU_ASSERT_EQUAL(or_copy_fold(b, &err), 0);
	CU_ASSERT_EQUAL(or_copy_stats(b, &sb, &cs, &err), 0);
	CU_ASSERT_EQUAL(cs.unfolded, 0);
	CU_ASSERT(cs.folds >= 1);
	or_copy_close(b);
	CU_ASSERT_EQUAL_FATAL(or_copy_open(&sc, &b, &err), 0);
	assert_same_copy(a, b);
	free(t.e);
	or_store_close(a);
	or_copy_close(b);
	ts_rm_store(bdir);
	ts_rm_store(sdir);
	sdir[0] = '\0';
}

/* Entries that cannot follow the record before them. */
static void
test_entries_that_do_not_follow(void)
{
	struct or_audit_entry e;
	struct or_consent old, nw;

	memset(&e, 0, sizeof(e));
	memset(&old, 0, sizeof(old));
	e.seq = 9;
	e.token = ts_tok(1);
	old.token = e.token;
	e.action = OR_ACT_KEY;
	CU_ASSERT_EQUAL(or_consent_from_entry(&e, NULL, &nw), -EBADMSG);
	old.state = OR_STATE_OUT;
	CU_ASSERT_EQUAL(or_consent_from_entry(&e, &old, &nw), -EBADMSG);
	old.state = OR_STATE_IN;
	old.seq = 3;
	CU_ASSERT_EQUAL(or_consent_from_entry(&e, &old, &nw), 1);
	CU_ASSERT_EQUAL(nw.seq, 3); /* a key leaves the record as it was */
	e.action = OR_ACT_ROTATE;
	CU_ASSERT_EQUAL(or_consent_from_entry(&e, &old, &nw), -EBADMSG);
	e.action = 0;
	CU_ASSERT_EQUAL(or_consent_from_entry(&e, &old, &nw), -EBADMSG);
	e.action = OR_ACT_ERASE;
	CU_ASSERT_EQUAL(or_consent_from_entry(&e, &old, &nw), 0);
	/* an opt-out of a new subject: the entry's node, no grant */
	e.action = OR_ACT_OPTOUT;
	e.node = 5;
	e.time_ms = 77;
	CU_ASSERT_EQUAL(or_consent_from_entry(&e, NULL, &nw), 1);
	CU_ASSERT_EQUAL(nw.state, OR_STATE_OUT);
	CU_ASSERT_EQUAL(nw.node, 5);
	CU_ASSERT_EQUAL(nw.granted_ms, 0);
	CU_ASSERT_EQUAL(nw.withdrawn_ms, 77);
	CU_ASSERT_EQUAL(nw.seq, 9);
}

static int
suite_clean(void)
{
	ts_rm_store(sdir);
	return 0;
}

static CU_TestInfo cnext_tests[] = {
	{ "records rebuilt from the trail equal the store's",
	  test_rebuilt_equals_store },
	{ "entries that do not follow", test_entries_that_do_not_follow },
	{ "a copy that follows the trail equals the store",
	  test_copy_follows },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("consent_next", NULL, suite_clean, cnext_tests)
