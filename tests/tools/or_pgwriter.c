/* SPDX-License-Identifier: BSD-3-Clause
 *
 * or_pgwriter check CONNINFO STORE_DIR: checks the PostgreSQL writer
 * (control/store/pg/pg_writer.h) against the LMDB store, and the
 * follower's tail (pg_tail.h), for tests/integration/pg_writer.sh. The same random groups of changes go
 * to both (opt-ins with policy and pinned nodes, opt-outs, erasures,
 * keys, tokens repeated within and across groups, explicit times); then:
 *
 *  - each group's return code, first seq and results are equal, and a
 *    group refused by a rule is refused by both with the same message,
 *    leaving the head as it was;
 *  - the consent rows equal the LMDB records field by field;
 *  - every audit row (body, prev_hash, hash) equals, byte for byte, the
 *    LMDB store's entry of that seq, and the fleet row's head and counts
 *    equal the store's: one chain, whichever backend wrote it;
 *  - joining with another master key or node policy is refused;
 *  - with a writer id, the body carries it and the appliance row records
 *    the group; a listener gets the head on optroute_head;
 *  - two writers at once (threads, own connections) give one chain with
 *    no gap and no fork: seqs 1..head, each prev_hash the previous hash,
 *    each hash recomputed;
 *  - the tail from seq 0, in small batches, hands over every entry once,
 *    in order, and the records rebuilt from them (or_consent_from_entry)
 *    equal the consent table; a tail from a position that does not link
 *    (another hash, a seq above the head) is "position gone".
 *
 * Prints "or_pgwriter: ok, N changes in G groups" and exits 0; else
 * "or_pgwriter: FAIL: ..." and exits 1 (2: usage).
 *
 * or_pgwriter tail CONNINFO: the whole trail through or_pg_tail; prints
 * "tail: N entries" (exit 0) or "tail: broken at SEQ: why" (exit 1).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include <sodium.h>

#include "control/lib/or_err.h"
#include "control/lib/pg/or_pg.h"
#include "control/store/audit.h"
#include "control/store/consent_next.h"
#include "control/store/pg/pg_tail.h"
#include "control/store/pg/pg_writer.h"
#include "control/store/store.h"
#include "tests/lib/or_rand.h"

#define N_TOK 3000
#define N_GROUPS 40
#define GROUP_MAX 2000

static const struct or_node_policy pw_pol = { .kind = OR_NODE_POLICY_HASH,
					      .n_nodes = 7 };
static const char *conninfo;

static void
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "or_pgwriter: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static struct or_token
tok(uint64_t i)
{
	struct or_token t;

	crypto_generichash(t.b, sizeof(t.b), (const uint8_t *)&i, sizeof(i),
			   NULL, 0);
	return t;
}

static PGconn *
connect_or_fail(void)
{
	struct or_err err = { "" };
	PGconn *c = NULL;

	if (or_pg_connect(conninfo, "or_pgwriter", &c, &err) != 0)
		fail("%s", err.msg);
	return c;
}

/* One random group; state[] follows each token so a key goes to an
 * opted-in one (or, when bad_at >= 0, change bad_at is a key to a token
 * that is not). */
static void
make_group(uint64_t *rng, uint8_t *state, struct or_change *ch, unsigned n,
	   int bad_at)
{
	for (unsigned k = 0; k < n; k++) {
		uint32_t i = (uint32_t)(or_rand_next(rng) % N_TOK), r = or_rand_next(rng) % 100;
		struct or_change *c = &ch[k];

		memset(c, 0, sizeof(*c));
		c->node = -1;
		c->method = (uint8_t)(1 + or_rand_next(rng) % OR_METHOD_MAX);
		c->epoch = (uint8_t)(or_rand_next(rng) % 3);
		c->notice_version = (uint32_t)(or_rand_next(rng) % 4);
		c->time_ms = 1700000000000ull + or_rand_next(rng) % 100000000;
		if ((int)k == bad_at) {
			while (state[i] == OR_STATE_IN)
				i = (i + 1) % N_TOK;
			c->action = OR_ACT_KEY;
		} else if (r < 8 && state[i] == OR_STATE_IN) {
			c->action = OR_ACT_KEY;
		} else if (r < 16) {
			c->action = OR_ACT_ERASE;
			state[i] = 0;
		} else if (r < 45) {
			c->action = OR_ACT_OPTOUT;
			state[i] = OR_STATE_OUT;
		} else {
			c->action = OR_ACT_OPTIN;
			if (or_rand_next(rng) % 5 == 0)
				c->node = (int32_t)(or_rand_next(rng) % 500);
			state[i] = OR_STATE_IN;
		}
		c->token = tok(i);
	}
}

static PGresult *
query(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_TUPLES_OK &&
	    PQresultStatus(r) != PGRES_COMMAND_OK)
		fail("%s: %s", sql, PQerrorMessage(c));
	return r;
}

static void
unhex(const char *hex, uint8_t *out, size_t n)
{
	size_t got = 0;

	if (sodium_hex2bin(out, n, hex, strlen(hex), NULL, &got, NULL) != 0 ||
	    got != n)
		fail("malformed hex '%s'", hex);
}

/* The fleet's head, seq and hash. */
static uint64_t
pg_head(PGconn *c, uint8_t hash[32], uint64_t cnt[2])
{
	PGresult *r = query(c, "SELECT head_seq, encode(head_hash, 'hex'),"
			       " n_in, n_out FROM optroute.fleet");
	uint64_t seq;

	if (PQntuples(r) != 1)
		fail("no fleet row");
	seq = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	if (hash != NULL)
		unhex(PQgetvalue(r, 0, 1), hash, 32);
	if (cnt != NULL) {
		cnt[0] = strtoull(PQgetvalue(r, 0, 2), NULL, 10);
		cnt[1] = strtoull(PQgetvalue(r, 0, 3), NULL, 10);
	}
	PQclear(r);
	return seq;
}

static void
check_join(PGconn *c)
{
	struct or_pg_fleet_conf fc = { .node_policy = "hash 7" };
	struct or_err err = { "" };
	int rc;

	memset(fc.key_check, 0x5a, sizeof(fc.key_check));
	if ((rc = or_pg_fleet_join(c, &fc, &err)) != 0)
		fail("join: %d %s", rc, err.msg);
	if ((rc = or_pg_fleet_join(c, &fc, &err)) != 0)
		fail("join again: %d %s", rc, err.msg);
	fc.key_check[3] ^= 1;
	if (or_pg_fleet_join(c, &fc, &err) != -EKEYREJECTED ||
	    strstr(err.msg, "master key differs") == NULL)
		fail("another key was not refused (%s)", err.msg);
	fc.key_check[3] ^= 1;
	fc.node_policy = "hash 8";
	if (or_pg_fleet_join(c, &fc, &err) != -EINVAL ||
	    strstr(err.msg, "'hash 8' differs from the fleet's 'hash 7'") == NULL)
		fail("another node policy was not refused (%s)", err.msg);
}

/* The same groups into both; returns the changes committed. */
static uint64_t
run_groups(PGconn *c, struct or_store *st, unsigned *groups)
{
	static struct or_change ch[GROUP_MAX];
	static struct or_change_result rl[GROUP_MAX], rp[GROUP_MAX];
	static uint8_t state[N_TOK], saved[N_TOK];
	struct or_err el = { "" }, ep = { "" };
	uint64_t rng = 1512, total = 0, fl, fp;

	for (unsigned g = 0; g < N_GROUPS; g++) {
		unsigned n = 1 + (unsigned)(or_rand_next(&rng) % GROUP_MAX);
		int bad_at = g % 9 == 4 ? (int)(or_rand_next(&rng) % n) : -1;
		int a, b;
		uint64_t before = pg_head(c, NULL, NULL);

		memcpy(saved, state, sizeof(state));
		make_group(&rng, state, ch, n, bad_at);
		a = or_store_apply(st, &pw_pol, ch, n, rl, &fl, &el);
		b = or_pg_write_group(c, 0, 0, &pw_pol, ch, n, rp, &fp, 0, &ep);
		if (a != b)
			fail("group %u: lmdb %d (%s), postgresql %d (%s)", g, a,
			     el.msg, b, ep.msg);
		if (a != 0) {
			if (bad_at < 0 || strcmp(el.msg, ep.msg) != 0)
				fail("group %u refused: '%s' / '%s'", g, el.msg,
				     ep.msg);
			if (pg_head(c, NULL, NULL) != before)
				fail("group %u: refused, yet the head moved", g);
			memcpy(state, saved, sizeof(state));
			continue;
		}
		if (bad_at >= 0)
			fail("group %u: a key to a subject not in was taken", g);
		if (fl != fp || memcmp(rl, rp, n * sizeof(rl[0])) != 0)
			fail("group %u: results differ", g);
		total += n;
		(*groups)++;
	}
	return total;
}

/* Every row of optroute.consent as a record; *n rows (malloc'ed). */
static struct or_consent *
pg_records(PGconn *c, int *n)
{
	PGresult *r = query(c, "SELECT encode(token, 'hex'), state, epoch,"
			       " flags, method, node, notice_version,"
			       " granted_ms, withdrawn_ms, seq"
			       " FROM optroute.consent WHERE state <> 0");
	struct or_consent *out;

	*n = PQntuples(r);
	out = calloc(*n ? (size_t)*n : 1, sizeof(*out));
	if (out == NULL)
		fail("out of memory");
	for (int i = 0; i < *n; i++) {
		uint64_t v[9];

		unhex(PQgetvalue(r, i, 0), out[i].token.b, OR_TOKEN_LEN);
		for (int k = 0; k < 9; k++)
			v[k] = strtoull(PQgetvalue(r, i, k + 1), NULL, 10);
		out[i].state = (uint8_t)v[0];
		out[i].epoch = (uint8_t)v[1];
		out[i].flags = (uint8_t)v[2];
		out[i].method = (uint8_t)v[3];
		out[i].node = (uint16_t)v[4];
		out[i].notice_version = (uint32_t)v[5];
		out[i].granted_ms = v[6];
		out[i].withdrawn_ms = v[7];
		out[i].seq = v[8];
	}
	PQclear(r);
	return out;
}

static int
same_record(const struct or_consent *a, const struct or_consent *b)
{
	return a->state == b->state && a->epoch == b->epoch &&
	       a->flags == b->flags && a->method == b->method &&
	       a->node == b->node && a->notice_version == b->notice_version &&
	       a->granted_ms == b->granted_ms &&
	       a->withdrawn_ms == b->withdrawn_ms && a->seq == b->seq;
}

struct cmp_ctx {
	PGresult *r;
	int row;
};

static int
cmp_entry(void *arg, const struct or_audit_entry *e)
{
	struct cmp_ctx *x = arg;
	struct or_audit_entry s = *e;
	uint8_t body[OR_AUDIT_BODY_LEN], pb[OR_AUDIT_BODY_LEN], ph[32], pp[32];

	if (x->row >= PQntuples(x->r))
		fail("audit: seq %" PRIu64 " missing in postgresql", e->seq);
	if (strtoull(PQgetvalue(x->r, x->row, 0), NULL, 10) != e->seq)
		fail("audit: row %d is not seq %" PRIu64, x->row, e->seq);
	or_audit_seal(&s, body);
	unhex(PQgetvalue(x->r, x->row, 1), pb, sizeof(pb));
	unhex(PQgetvalue(x->r, x->row, 2), pp, sizeof(pp));
	unhex(PQgetvalue(x->r, x->row, 3), ph, sizeof(ph));
	if (memcmp(body, pb, sizeof(pb)) != 0 ||
	    memcmp(pp, e->prev_hash, 32) != 0 || memcmp(ph, e->hash, 32) != 0 ||
	    memcmp(s.hash, e->hash, 32) != 0)
		fail("audit: seq %" PRIu64 " differs", e->seq);
	x->row++;
	return 0;
}

static void
compare(PGconn *c, struct or_store *st)
{
	PGresult *r;
	struct cmp_ctx x = { 0 };
	struct or_err err = { "" };
	struct or_store_stats ss;
	struct or_consent *recs;
	uint8_t hl[32], hp[32];
	uint64_t sl, cnt[2];
	int rows;

	recs = pg_records(c, &rows);
	for (int i = 0; i < rows; i++) {
		struct or_consent l;

		if (or_store_get(st, &recs[i].token, &l) != 0)
			fail("consent: row %d not in the lmdb store", i);
		if (!same_record(&recs[i], &l))
			fail("consent: row %d differs from the lmdb record", i);
	}
	free(recs);
	if (or_store_stats(st, &ss, &err) != 0)
		fail("%s", err.msg);
	if ((uint64_t)rows != ss.entries)
		fail("consent: %d rows, %" PRIu64 " records", rows, ss.entries);
	r = query(c, "SELECT seq, encode(body, 'hex'), encode(prev_hash, 'hex'),"
		     " encode(hash, 'hex') FROM optroute.audit ORDER BY seq");
	x.r = r;
	if (or_audit_foreach(st, 1, cmp_entry, &x, &err) != 0)
		fail("%s", err.msg);
	if (x.row != PQntuples(r))
		fail("audit: %d rows in postgresql, %d in lmdb", PQntuples(r),
		     x.row);
	PQclear(r);
	if (or_audit_head(st, &sl, hl, &err) != 0)
		fail("%s", err.msg);
	if (pg_head(c, hp, cnt) != sl || memcmp(hl, hp, 32) != 0)
		fail("the heads differ");
	if (cnt[0] != ss.opted_in || cnt[1] != ss.opted_out)
		fail("n_in/n_out %" PRIu64 "/%" PRIu64 ", store %" PRIu64
		     "/%" PRIu64, cnt[0], cnt[1], ss.opted_in, ss.opted_out);
}

/* A writer id, the appliance row and the notification. */
static void
check_writer_and_notify(PGconn *c)
{
	PGconn *l = connect_or_fail();
	struct or_change ch = { .token = tok(7777777), .action = OR_ACT_OPTIN,
				.method = OR_METHOD_OPERATOR, .node = -1,
				.time_ms = 1700000000001ull };
	struct or_change_result res;
	struct or_err err = { "" };
	uint64_t first, head;
	PGnotify *nf;
	PGresult *r;
	char want[24];
	uint8_t body[OR_AUDIT_BODY_LEN];

	PQclear(query(c, "INSERT INTO optroute.appliance (id, name)"
			 " VALUES (3, 'a3')"));
	PQclear(query(l, "LISTEN " OR_PG_HEAD_CHANNEL));
	if (or_pg_write_group(c, 3, 41, &pw_pol, &ch, 1, &res, &first, 0,
			      &err) != 0)
		fail("writer 3: %s", err.msg);
	head = pg_head(c, NULL, NULL);
	if (head != first)
		fail("writer 3: head %" PRIu64 ", first %" PRIu64, head, first);
	snprintf(want, sizeof(want), "%" PRIu64, head);
	for (int i = 0; i < 50; i++) {
		fd_set fds;
		struct timeval tv = { 0, 100000 };

		FD_ZERO(&fds);
		FD_SET(PQsocket(l), &fds);
		select(PQsocket(l) + 1, &fds, NULL, NULL, &tv);
		PQconsumeInput(l);
		if ((nf = PQnotifies(l)) != NULL)
			break;
	}
	if (nf == NULL || strcmp(nf->relname, OR_PG_HEAD_CHANNEL) != 0 ||
	    strcmp(nf->extra, want) != 0)
		fail("no notification '%s' on " OR_PG_HEAD_CHANNEL, want);
	PQfreemem(nf);
	PQfinish(l);
	r = query(c, "SELECT encode(a.body, 'hex'), p.last_group, p.last_group_seq"
		     " FROM optroute.audit a, optroute.appliance p"
		     " WHERE p.id = 3 AND a.seq = (SELECT head_seq FROM optroute.fleet)");
	unhex(PQgetvalue(r, 0, 0), body, sizeof(body));
	if (body[38] != 3 || body[39] != 0)
		fail("writer 3: the body's writer field is %u", body[38]);
	if (strcmp(PQgetvalue(r, 0, 1), "41") != 0 ||
	    strtoull(PQgetvalue(r, 0, 2), NULL, 10) != first)
		fail("writer 3: the appliance row does not record group 41");
	PQclear(r);
}

static void *
racer(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	PGconn *c = connect_or_fail();
	static struct or_change ch[2][64];
	struct or_err err = { "" };

	for (int g = 0; g < 40; g++) {
		/* changes 0..7 of every group: 8 tokens both racers
		 * toggle, so a record read before the head lock that the
		 * other changed meanwhile must be read again */
		for (int k = 0; k < 64; k++)
			ch[id][k] = (struct or_change){
				.token = k < 8 ? tok(990000 + k)
					       : tok(1000000 * (id + 1) +
						     g * 64 + k),
				.action = k < 8 && (g + k + (int)id) % 2
						  ? OR_ACT_OPTOUT
						  : OR_ACT_OPTIN,
				.method = OR_METHOD_APP,
				.node = -1,
				.time_ms = 1700000000000ull + 2 * g + id,
			};
		if (or_pg_write_group(c, (uint16_t)(id + 1), (uint64_t)g,
				      &pw_pol, ch[id], 64, NULL, NULL, 0,
				      &err) != 0)
			fail("racer %u: %s", (unsigned)id, err.msg);
	}
	PQfinish(c);
	return NULL;
}

/* Two writers at once (some tokens changed by both), then the whole
 * chain from seq 1, and the counts; check_tail then rebuilds every record
 * from the chain and compares. */
static void
check_race_and_chain(PGconn *c)
{
	pthread_t t[2];
	PGresult *r;
	uint8_t prev[32] = { 0 };
	int rows;

	for (uintptr_t i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, racer, (void *)i) != 0)
			fail("pthread_create");
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	r = query(c, "SELECT seq, encode(prev_hash, 'hex'), encode(body, 'hex'),"
		     " encode(hash, 'hex') FROM optroute.audit ORDER BY seq");
	rows = PQntuples(r);
	for (int i = 0; i < rows; i++) {
		struct or_audit_entry e;
		uint8_t ph[32], body[OR_AUDIT_BODY_LEN], h[32];

		unhex(PQgetvalue(r, i, 1), ph, 32);
		unhex(PQgetvalue(r, i, 2), body, sizeof(body));
		unhex(PQgetvalue(r, i, 3), h, 32);
		if (strtoull(PQgetvalue(r, i, 0), NULL, 10) != (uint64_t)i + 1)
			fail("chain: a gap before row %d", i);
		if (or_audit_unseal(ph, body, h, &e) != 0)
			fail("chain: seq %d does not hash", i + 1);
		if (e.seq != (uint64_t)i + 1 || memcmp(ph, prev, 32) != 0)
			fail("chain: seq %d does not link", i + 1);
		memcpy(prev, h, 32);
	}
	PQclear(r);
	if (pg_head(c, NULL, NULL) != (uint64_t)rows)
		fail("chain: head is not the last row");
	r = query(c, "SELECT n_in = (SELECT count(*) FROM optroute.consent"
		     " WHERE state = 1) AND n_out = (SELECT count(*) FROM"
		     " optroute.consent WHERE state = 2) FROM optroute.fleet");
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		fail("race: the fleet row's n_in, n_out differ from the records");
	PQclear(r);
}

/* Records rebuilt from the tail: open addressing by the token's first
 * 8 bytes (uniform: keyed hashes). */
#define RB_SLOTS (1u << 16)
static struct rb_slot {
	int used, have;
	struct or_consent rec;
} rb[RB_SLOTS];
static uint64_t rb_next, rb_count;

static struct rb_slot *
rb_find(const struct or_token *t)
{
	uint64_t h;

	memcpy(&h, t->b, sizeof(h));
	for (uint32_t i = (uint32_t)h % RB_SLOTS;; i = (i + 1) % RB_SLOTS) {
		if (!rb[i].used) {
			rb[i].used = 1;
			rb[i].rec.token = *t;
			return &rb[i];
		}
		if (memcmp(rb[i].rec.token.b, t->b, OR_TOKEN_LEN) == 0)
			return &rb[i];
	}
}

static int
rb_apply(void *arg, const struct or_audit_entry *e, unsigned n)
{
	(void)arg;
	for (unsigned i = 0; i < n; i++) {
		struct rb_slot *s;
		struct or_consent nw;
		int rc;

		if (e[i].seq != rb_next + 1)
			fail("tail: seq %" PRIu64 " after %" PRIu64, e[i].seq,
			     rb_next);
		rb_next = e[i].seq;
		rb_count++;
		if (e[i].action == OR_ACT_ROTATE || e[i].action == OR_ACT_RETIRE)
			continue;
		s = rb_find(&e[i].token);
		rc = or_consent_from_entry(&e[i], s->have ? &s->rec : NULL,
					   &nw);
		if (rc < 0)
			fail("tail: entry %" PRIu64 " does not follow", e[i].seq);
		s->have = rc;
		if (rc == 1)
			s->rec = nw;
	}
	return 0;
}

static void
check_tail(PGconn *c)
{
	struct or_pg_pos pos = { 0 };
	struct or_err err = { "" };
	uint64_t bad = 0, head, have = 0;
	struct or_consent *recs;
	int n, rows;

	head = pg_head(c, NULL, NULL);
	/* twice: a first part, then the rest from where it stopped */
	n = or_pg_tail(c, &pos, head / 3, 997, rb_apply, NULL, &bad, &err);
	if (n != (int)(head / 3) || pos.seq != head / 3)
		fail("tail: %d of %" PRIu64 " (%s)", n, head / 3, err.msg);
	n = or_pg_tail(c, &pos, UINT64_MAX, 997, rb_apply, NULL, &bad, &err);
	if (n < 0 || pos.seq != head || rb_count != head)
		fail("tail: %d, at %" PRIu64 " of %" PRIu64 " (%s)", n, pos.seq,
		     head, err.msg);
	if (or_pg_tail(c, &pos, UINT64_MAX, 997, rb_apply, NULL, &bad,
		       &err) != 0)
		fail("tail: at the head, something new (%s)", err.msg);
	recs = pg_records(c, &rows);
	for (int i = 0; i < rows; i++) {
		struct rb_slot *s = rb_find(&recs[i].token);

		if (!s->have || !same_record(&recs[i], &s->rec))
			fail("tail: the record rebuilt for row %d differs", i);
	}
	free(recs);
	for (uint32_t i = 0; i < RB_SLOTS; i++)
		have += rb[i].used && rb[i].have;
	if (have != (uint64_t)rows)
		fail("tail: %" PRIu64 " records rebuilt, %d rows", have, rows);
	/* a position whose hash the trail does not have */
	pos.seq = head / 2;
	memset(pos.hash, 0x77, sizeof(pos.hash));
	if (or_pg_tail(c, &pos, 10, 10, rb_apply, NULL, &bad, &err) !=
		    -ESTALE ||
	    bad != head / 2 + 1 || strstr(err.msg, "position gone") == NULL)
		fail("tail: a diverged position was not refused (%s)", err.msg);
	pos.seq = head + 5;
	if (or_pg_tail(c, &pos, 10, 10, rb_apply, NULL, &bad, &err) != -ESTALE)
		fail("tail: a position above the head was not refused");
}

/* The whole trail, for the tamper test of pg_writer.sh. */
static int
count_entries(void *arg, const struct or_audit_entry *e, unsigned n)
{
	(void)e;
	*(uint64_t *)arg += n;
	return 0;
}

static int
cmd_tail(void)
{
	PGconn *c = connect_or_fail();
	struct or_pg_pos pos = { 0 };
	struct or_err err = { "" };
	uint64_t bad = 0, n = 0;
	int rc;

	rc = or_pg_tail(c, &pos, UINT64_MAX, 1000, count_entries, &n, &bad,
			&err);
	PQfinish(c);
	if (rc < 0) {
		printf("tail: broken at %" PRIu64 ": %s\n", bad, err.msg);
		return 1;
	}
	printf("tail: %" PRIu64 " entries\n", n);
	return 0;
}

int
main(int argc, char **argv)
{
	struct or_store_conf sc = { 0 };
	struct or_store *st = NULL;
	struct or_err err = { "" };
	unsigned groups = 0;
	uint64_t total;
	PGconn *c;

	if (argc < 3 || (strcmp(argv[1], "check") == 0) != (argc == 4) ||
	    (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "tail") != 0)) {
		fprintf(stderr, "usage: or_pgwriter check CONNINFO STORE_DIR\n"
				"       or_pgwriter tail CONNINFO\n");
		return 2;
	}
	if (sodium_init() < 0)
		fail("sodium_init");
	conninfo = argv[2];
	if (strcmp(argv[1], "tail") == 0)
		return cmd_tail();
	sc.path = argv[3];
	if (or_store_open(&sc, &st, &err) != 0)
		fail("%s", err.msg);
	c = connect_or_fail();
	check_join(c);
	total = run_groups(c, st, &groups);
	compare(c, st);
	check_writer_and_notify(c);
	check_race_and_chain(c);
	check_tail(c);
	PQfinish(c);
	or_store_close(st);
	printf("or_pgwriter: ok, %" PRIu64 " changes in %u groups\n", total,
	       groups);
	return 0;
}
