/* SPDX-License-Identifier: BSD-3-Clause
 *
 * One group commit into the PostgreSQL system of record (pg_writer.h,
 * docs/fleet.md section 4). In one transaction: lock the head row, read
 * the group's records, compute results, records and the audit chain here
 * (as the LMDB store does), stage them with COPY into session temporary
 * tables, move them into the tables, advance the head, NOTIFY, COMMIT.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "control/lib/pg/or_pg.h"
#include "control/store/audit.h"
#include "control/store/consent_next.h"
#include "control/store/pg/pg_copy.h"
#include "control/store/pg/pg_writer.h"

/* Per session, emptied by every commit; temporary, so no WAL. IF NOT
 * EXISTS: created by a session's first group (or again after a rollback
 * took the creation with it). The audit rows need no staging: they are
 * COPYed into optroute.audit in seq order, under the lock. */
static const char pg_stage_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS or_stage_rec ("
	" token bytea, state smallint, epoch smallint, flags smallint,"
	" method smallint, node integer, notice_version bigint,"
	" granted_ms bigint, withdrawn_ms bigint, seq bigint, seqs bigint[])"
	" ON COMMIT DELETE ROWS";

/* The fleet-wide writer lock (F2): groups are totally ordered by it. */
static const char pg_lock_sql[] =
	"SELECT head_seq, encode(head_hash, 'hex'), n_in, n_out,"
	" auth_current, auth_previous, auth_seq"
	" FROM optroute.fleet WHERE id = 1 FOR UPDATE";

/* $1: the group's tokens, 16 bytes each, one binary bytea. */
static const char pg_read_sql[] =
	"SELECT encode(token, 'hex'), state, epoch, flags, method, node,"
	" notice_version, granted_ms, withdrawn_ms, seq FROM optroute.consent"
	" WHERE token = ANY (ARRAY(SELECT substring($1::bytea FROM i * 16 + 1"
	" FOR 16) FROM generate_series(0, length($1::bytea) / 16 - 1) AS i))"
	" AND state <> 0";

/* Every token the group names gets one row: its record (state 0: erased,
 * a tombstone) and its new entries' seqs appended to its history
 * (docs/fleet.md section 3, migration 3). */
static const char pg_move_sql[] =
	"INSERT INTO optroute.consent (token, state, epoch, flags, method,"
	" node, notice_version, granted_ms, withdrawn_ms, seq, audit_seqs)"
	" SELECT token, state, epoch, flags, method, node, notice_version,"
	" granted_ms, withdrawn_ms, seq, seqs FROM or_stage_rec"
	" ON CONFLICT (token) DO UPDATE SET state = EXCLUDED.state,"
	" epoch = EXCLUDED.epoch, flags = EXCLUDED.flags,"
	" method = EXCLUDED.method, node = EXCLUDED.node,"
	" notice_version = EXCLUDED.notice_version,"
	" granted_ms = EXCLUDED.granted_ms,"
	" withdrawn_ms = EXCLUDED.withdrawn_ms, seq = EXCLUDED.seq,"
	" audit_seqs = optroute.consent.audit_seqs || EXCLUDED.audit_seqs";

/* $1 new head, $2 its hash, $3 n_in, $4 n_out, $5 the head locked. */
static const char pg_head_sql[] =
	"UPDATE optroute.fleet SET head_seq = $1, head_hash = $2::bytea,"
	" n_in = $3, n_out = $4 WHERE id = 1 AND head_seq = $5";

/* $1 group, $2 its first seq, $3 appliance id. */
static const char pg_group_sql[] =
	"UPDATE optroute.appliance SET last_group = $1, last_group_seq = $2"
	" WHERE id = $3";

static const char pg_notify_sql[] =
	"SELECT pg_notify('" OR_PG_HEAD_CHANNEL "', $1)";

/* A change's place in token order (arrival order among equal tokens: a
 * later change of a token sees the earlier), as the LMDB store applies. */
struct pw_slot {
	const uint8_t *tok;
	unsigned idx;
};

/* What change i left: the audit entry's node and flags, the results. */
struct pw_out {
	uint32_t rec, prev_rec;
	uint16_t node;
	uint8_t flags;
};


struct pw_group {
	const struct or_change *ch;
	unsigned n;
	struct pw_slot *slot;
	struct pw_out *out;
	struct or_consent *have; /* records read, token order */
	unsigned n_have;
	uint64_t head, cnt[2]; /* cnt: n_in, n_out */
	struct or_auth_state auth; /* the fleet row's, as locked */
	uint8_t head_hash[OR_AUDIT_HASH_LEN];
	struct or_pg_rows audit, rec;
	unsigned bad; /* the change a rule refused */
};

static int
pw_slot_cmp(const void *a, const void *b)
{
	const struct pw_slot *x = a, *y = b;
	int c = memcmp(x->tok, y->tok, OR_TOKEN_LEN);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int
pw_have_cmp(const void *a, const void *b)
{
	const struct or_consent *x = a, *y = b;

	return memcmp(x->token.b, y->token.b, OR_TOKEN_LEN);
}

static uint64_t
pw_u64(const PGresult *r, int row, int col)
{
	return strtoull(PQgetvalue(r, row, col), NULL, 10);
}

/* The records of n tokens (toks, 16 bytes each) appended to g->have,
 * unsorted. */
static int
pw_read_toks(PGconn *c, struct pw_group *g, const uint8_t *toks, unsigned n,
	     struct or_err *err)
{
	const char *val = (const char *)toks;
	int len = (int)(n * OR_TOKEN_LEN), fmt = 1, rows;
	struct or_consent *have;
	PGresult *r;

	r = PQexecParams(c, pg_read_sql, 1, NULL, &val, &len, &fmt, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		or_pg_err(err, c, r, "system of record: reading records");
		PQclear(r);
		return -EIO;
	}
	rows = PQntuples(r);
	have = realloc(g->have, (g->n_have + (size_t)rows + 1) *
					sizeof(*g->have));
	if (have == NULL) {
		PQclear(r);
		return -ENOMEM;
	}
	g->have = have;
	for (int i = 0; i < rows; i++) {
		struct or_consent *h = &g->have[g->n_have];

		memset(h, 0, sizeof(*h));
		if (or_pg_get_hex(r, i, 0, h->token.b, OR_TOKEN_LEN) < 0) {
			or_err_set(err, "system of record: a malformed token");
			PQclear(r);
			return -EIO;
		}
		h->state = (uint8_t)pw_u64(r, i, 1);
		h->epoch = (uint8_t)pw_u64(r, i, 2);
		h->flags = (uint8_t)pw_u64(r, i, 3);
		h->method = (uint8_t)pw_u64(r, i, 4);
		h->node = (uint16_t)pw_u64(r, i, 5);
		h->notice_version = (uint32_t)pw_u64(r, i, 6);
		h->granted_ms = pw_u64(r, i, 7);
		h->withdrawn_ms = pw_u64(r, i, 8);
		h->seq = pw_u64(r, i, 9);
		g->n_have++;
	}
	PQclear(r);
	return 0;
}

/* The records the group's tokens have, sorted by token. Read BEFORE the
 * head lock is taken: these random lookups into the records' index are
 * the largest part of a group that needs no lock, and while one appliance
 * holds it the others read (pw_reread makes them exact). */
static int
pw_read(PGconn *c, struct pw_group *g, struct or_err *err)
{
	uint8_t *toks = malloc((size_t)g->n * OR_TOKEN_LEN);
	int rc;

	if (toks == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < g->n; i++)
		memcpy(toks + (size_t)i * OR_TOKEN_LEN, g->ch[i].token.b,
		       OR_TOKEN_LEN);
	rc = pw_read_toks(c, g, toks, g->n, err);
	free(toks);
	/* have is NULL while nothing was read (qsort's pointer must not be). */
	if (g->n_have > 1)
		qsort(g->have, g->n_have, sizeof(*g->have), pw_have_cmp);
	return rc;
}

static int
pw_slot_tok_cmp(const void *key, const void *elem)
{
	return memcmp(key, ((const struct pw_slot *)elem)->tok, OR_TOKEN_LEN);
}

static int
pw_tok_cmp(const void *a, const void *b)
{
	return memcmp(a, b, OR_TOKEN_LEN);
}

/* Under the lock, head g->head: the groups committed since the records
 * were read (at head h0 or later, READ COMMITTED) are (h0, g->head], so
 * the group's tokens among their entries' are read again; the others'
 * records cannot have changed. */
static int
pw_reread(PGconn *c, struct pw_group *g, uint64_t h0, struct or_err *err)
{
	char a[24], b[24];
	const char *pv[2] = { a, b };
	unsigned n = 0, k = 0;
	uint8_t *toks;
	PGresult *r;
	int rows, rc;

	snprintf(a, sizeof(a), "%" PRIu64, h0);
	snprintf(b, sizeof(b), "%" PRIu64, g->head);
	rc = or_pg_exec(c, "SELECT encode(token, 'hex') FROM optroute.audit"
			   " WHERE seq > $1 AND seq <= $2", 2, pv,
			"system of record: the changes since the read", err, &r);
	if (rc < 0)
		return rc;
	rows = PQntuples(r);
	toks = malloc(((size_t)rows + 1) * OR_TOKEN_LEN);
	if (toks == NULL) {
		PQclear(r);
		return -ENOMEM;
	}
	for (int i = 0; i < rows; i++) {
		uint8_t *t = toks + (size_t)n * OR_TOKEN_LEN;

		if (or_pg_get_hex(r, i, 0, t, OR_TOKEN_LEN) == 0 &&
		    bsearch(t, g->slot, g->n, sizeof(*g->slot),
			    pw_slot_tok_cmp) != NULL)
			n++;
	}
	PQclear(r);
	if (n > 0) {
		/* the stale copies out, then read again */
		qsort(toks, n, OR_TOKEN_LEN, pw_tok_cmp);
		for (unsigned i = 0; i < g->n_have; i++)
			if (bsearch(g->have[i].token.b, toks, n, OR_TOKEN_LEN,
				    pw_tok_cmp) == NULL)
				g->have[k++] = g->have[i];
		g->n_have = k;
		rc = pw_read_toks(c, g, toks, n, err);
		qsort(g->have, g->n_have, sizeof(*g->have), pw_have_cmp);
	}
	free(toks);
	return rc;
}

/* The fleet's head seq now (no lock). */
static int
pw_head_seq(PGconn *c, uint64_t *head, struct or_err *err)
{
	PGresult *r;
	int rc = or_pg_exec(c, "SELECT head_seq FROM optroute.fleet"
			       " WHERE id = 1", 0, NULL,
			    "system of record: the head", err, &r);

	if (rc < 0)
		return rc;
	if (PQntuples(r) != 1) {
		or_err_set(err, "system of record: no fleet row (not joined)");
		rc = -ENOENT;
	} else {
		*head = pw_u64(r, 0, 0);
	}
	PQclear(r);
	return rc;
}

/* One staged record row: the token's final record (state 0 when erased:
 * the tombstone, seq its last entry's) and the seqs of its entries in
 * this group, slots [from, to). -ENOMEM. */
static int
pw_stage_rec(struct pw_group *g, const struct or_consent *cur, int have,
	     unsigned from, unsigned to)
{
	struct or_pg_rows *b = &g->rec;
	const uint8_t *tok = g->slot[from].tok;

	if (or_pg_rows_reserve(b, 256 + (size_t)(to - from) * 22) < 0)
		return -ENOMEM;
	or_pg_rows_bytea(b, tok, OR_TOKEN_LEN, '\t');
	if (!have)
		b->len += (size_t)sprintf(b->p + b->len,
					  "0\t0\t0\t0\t0\t0\t0\t0\t%" PRIu64
					  "\t{", g->head + 1 +
					  g->slot[to - 1].idx);
	else
		b->len += (size_t)sprintf(b->p + b->len,
					  "%u\t%u\t%u\t%u\t%u\t%" PRIu32
					  "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
					  "\t{", cur->state, cur->epoch,
					  cur->flags, cur->method, cur->node,
					  cur->notice_version, cur->granted_ms,
					  cur->withdrawn_ms, cur->seq);
	/* slots of a token are in arrival order: the seqs ascend */
	for (unsigned k = from; k < to; k++)
		b->len += (size_t)sprintf(b->p + b->len, "%s%" PRIu64,
					  k > from ? "," : "",
					  g->head + 1 + g->slot[k].idx);
	b->p[b->len++] = '}';
	b->p[b->len++] = '\n';
	return 0;
}

/* Results and records, token by token in token order (or_store_apply's
 * order, so a refused group names the same change). 0, or 1 (g->bad: a
 * key for a subject not opted in), -ENOMEM. */
static int
pw_compute(struct pw_group *g, const struct or_node_policy *pol,
	   uint64_t t_now)
{
	unsigned k = 0;

	while (k < g->n) {
		const uint8_t *tok = g->slot[k].tok;
		struct or_consent key, cur, *old;
		unsigned from = k;
		int have;

		memcpy(key.token.b, tok, OR_TOKEN_LEN);
		old = g->n_have == 0 ? NULL :
		      bsearch(&key, g->have, g->n_have, sizeof(*g->have),
			      pw_have_cmp);
		have = old != NULL;
		if (have)
			cur = *old;
		for (; k < g->n && memcmp(g->slot[k].tok, tok,
					  OR_TOKEN_LEN) == 0; k++) {
			unsigned i = g->slot[k].idx;
			const struct or_change *c = &g->ch[i];
			struct pw_out *o = &g->out[i];
			uint64_t t = c->time_ms ? c->time_ms : t_now;

			o->prev_rec = have ? or_consent_rec(&cur) : 0;
			if (c->action == OR_ACT_KEY) {
				if (!have || cur.state != OR_STATE_IN) {
					g->bad = i;
					return 1;
				}
				o->rec = o->prev_rec;
				o->node = cur.node;
				o->flags = cur.flags;
				continue;
			}
			if (have)
				g->cnt[cur.state == OR_STATE_IN ? 0 : 1]--;
			if (c->action == OR_ACT_ERASE) {
				have = 0;
				o->rec = 0;
				o->node = 0;
				o->flags = 0;
				continue;
			}
			or_consent_next(pol, c, have ? &cur : NULL,
					g->head + 1 + i, t, &cur);
			have = 1;
			g->cnt[cur.state == OR_STATE_IN ? 0 : 1]++;
			o->rec = or_consent_rec(&cur);
			o->node = cur.node;
			o->flags = cur.flags;
		}
		if (pw_stage_rec(g, &cur, have, from, k) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The audit entries in seq order, chained from the head. */
static int
pw_chain(struct pw_group *g, uint16_t writer, uint64_t t_now)
{
	struct or_audit_entry e;
	uint8_t body[OR_AUDIT_BODY_LEN];

	memset(&e, 0, sizeof(e));
	for (unsigned i = 0; i < g->n; i++) {
		const struct or_change *c = &g->ch[i];

		e.seq = g->head + 1 + i;
		e.time_ms = c->time_ms ? c->time_ms : t_now;
		e.token = c->token;
		e.action = c->action;
		e.method = c->method;
		e.epoch = c->epoch;
		e.flags = g->out[i].flags;
		e.node = g->out[i].node;
		e.writer = writer;
		e.notice_version = c->notice_version;
		memcpy(e.prev_hash, g->head_hash, OR_AUDIT_HASH_LEN);
		or_audit_seal(&e, body);
		memcpy(g->head_hash, e.hash, OR_AUDIT_HASH_LEN);
		if (or_pg_rows_reserve(&g->audit, 400) < 0)
			return -ENOMEM;
		or_pg_rows_u64(&g->audit, e.seq, '\t');
		or_pg_rows_bytea(&g->audit, e.token.b, OR_TOKEN_LEN, '\t');
		or_pg_rows_bytea(&g->audit, body, OR_AUDIT_BODY_LEN, '\t');
		or_pg_rows_bytea(&g->audit, e.prev_hash, OR_AUDIT_HASH_LEN, '\t');
		or_pg_rows_bytea(&g->audit, e.hash, OR_AUDIT_HASH_LEN, '\n');
	}
	return 0;
}

static void
pw_rollback(PGconn *c)
{
	PQclear(PQexec(c, "ROLLBACK"));
}

/* The head row, locked. 0, -ENOENT (none), -EIO. */
static int
pw_lock_head(PGconn *c, struct pw_group *g, struct or_err *err)
{
	PGresult *r = PQexec(c, pg_lock_sql);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		or_pg_err(err, c, r, "system of record: locking the head");
		rc = -EIO;
	} else if (PQntuples(r) != 1) {
		or_err_set(err, "system of record: no fleet row (not joined)");
		rc = -ENOENT;
	} else if (or_pg_get_hex(r, 0, 1, g->head_hash, OR_AUDIT_HASH_LEN) <
		   0) {
		or_err_set(err, "system of record: malformed head hash");
		rc = -EIO;
	} else {
		g->head = pw_u64(r, 0, 0);
		g->cnt[0] = pw_u64(r, 0, 2);
		g->cnt[1] = pw_u64(r, 0, 3);
		g->auth.current = (uint8_t)pw_u64(r, 0, 4);
		g->auth.has_previous = !PQgetisnull(r, 0, 5);
		g->auth.previous = (uint8_t)pw_u64(r, 0, 5);
		g->auth.seq = pw_u64(r, 0, 6);
	}
	PQclear(r);
	return rc;
}

/* Everything after BEGIN and before COMMIT. 0, 1 (a rule refused
 * g->bad), -errno. */
/* The hex text of a bytea parameter ("\x..."), bufsz >= 2n + 3. */
static const char *
pw_hex(char *buf, size_t bufsz, const uint8_t *v, size_t n)
{
	buf[0] = '\\';
	buf[1] = 'x';
	sodium_bin2hex(buf + 2, bufsz - 2, v, n);
	return buf;
}

static int
pw_run(PGconn *c, struct pw_group *g, uint16_t writer, uint64_t group,
       const struct or_node_policy *pol, struct or_err *err)
{
	char p[5][72], hh[2 * OR_AUDIT_HASH_LEN + 3];
	PGresult *r;
	int moved;
	const char *pv[5] = { p[0], p[1], p[2], p[3], p[4] };
	uint64_t t_now = or_store_now_ms(), old_head, h0 = 0;
	int rc;

	if ((rc = or_pg_exec(c, pg_stage_sql, 0, NULL,
			  "system of record: staging tables", err, NULL)) < 0 ||
	    (rc = pw_head_seq(c, &h0, err)) < 0 ||
	    (rc = pw_read(c, g, err)) < 0 ||
	    (rc = pw_lock_head(c, g, err)) < 0 ||
	    (g->head != h0 && (rc = pw_reread(c, g, h0, err)) < 0))
		return rc;
	old_head = g->head;
	rc = pw_compute(g, pol, t_now);
	if (rc != 0)
		return rc;
	if ((rc = pw_chain(g, writer, t_now)) < 0 ||
	    (rc = or_pg_copy_in(c, "optroute.audit (seq, token, body,"
				" prev_hash, hash)", &g->audit, err)) < 0 ||
	    (rc = or_pg_copy_in(c, "or_stage_rec", &g->rec, err)) < 0 ||
	    (rc = or_pg_exec(c, pg_move_sql, 0, NULL,
			  "system of record: writing the group", err, NULL)) < 0)
		return rc;
	snprintf(p[0], sizeof(p[0]), "%" PRIu64, old_head + g->n);
	snprintf(p[2], sizeof(p[2]), "%" PRIu64, g->cnt[0]);
	snprintf(p[3], sizeof(p[3]), "%" PRIu64, g->cnt[1]);
	snprintf(p[4], sizeof(p[4]), "%" PRIu64, old_head);
	pv[1] = pw_hex(hh, sizeof(hh), g->head_hash, OR_AUDIT_HASH_LEN);
	if ((rc = or_pg_exec(c, pg_head_sql, 5, pv,
			     "system of record: advancing the head", err,
			     &r)) < 0)
		return rc;
	moved = strcmp(PQcmdTuples(r), "1") != 0;
	PQclear(r);
	if (moved) {
		/* The lock makes this impossible unless a writer bypassed
		 * it: refuse rather than fork the chain. */
		or_err_set(err, "system of record: the head moved under the lock");
		return -EIO;
	}
	if (writer != 0) {
		snprintf(p[0], sizeof(p[0]), "%" PRIu64, group);
		snprintf(p[1], sizeof(p[1]), "%" PRIu64, old_head + 1);
		snprintf(p[2], sizeof(p[2]), "%u", writer);
		pv[1] = p[1];
		if ((rc = or_pg_exec(c, pg_group_sql, 3, pv,
				  "system of record: recording the group", err, NULL)) < 0)
			return rc;
	}
	snprintf(p[0], sizeof(p[0]), "%" PRIu64, old_head + g->n);
	return or_pg_exec(c, pg_notify_sql, 1, pv, "system of record: notify",
		       err, NULL);
}

static void
pw_free(struct pw_group *g)
{
	free(g->slot);
	free(g->out);
	free(g->have);
	or_pg_rows_free(&g->audit);
	or_pg_rows_free(&g->rec);
}

/* COMMIT, its answer awaited at most ms (0: no bound). The last result,
 * or NULL when the connection broke or ms passed (then still busy). A
 * synchronous standby that does not answer, or a backend whose exit
 * waits, would otherwise hold the writer for as long. */
static PGresult *
pw_commit(PGconn *c, unsigned ms)
{
	uint64_t until;
	PGresult *last = NULL, *r;

	if (ms == 0)
		return PQexec(c, "COMMIT");
	if (PQsendQuery(c, "COMMIT") != 1)
		return NULL;
	until = or_store_mono_us() / 1000u + ms;
	for (;;) {
		struct pollfd pf = { .fd = PQsocket(c), .events = POLLIN };
		uint64_t now = or_store_mono_us() / 1000u;

		if (PQconsumeInput(c) != 1)
			break;
		while (!PQisBusy(c)) {
			r = PQgetResult(c);
			if (r == NULL)
				return last;
			PQclear(last);
			last = r;
		}
		if (now >= until || poll(&pf, 1, (int)(until - now)) < 0)
			break;
	}
	PQclear(last);
	return NULL;
}

/* Only COMMIT's OK makes the transaction committed; a lost answer leaves
 * it unknown (section 4: settled by the caller). 0, -ECONNABORTED, -EIO. */
static int
pw_finish(PGconn *c, unsigned commit_ms, struct or_err *err)
{
	PGresult *r = pw_commit(c, commit_ms);
	int rc = 0;

	if (r == NULL && PQstatus(c) == CONNECTION_OK) {
		or_err_set(err, "system of record: no answer to the commit "
			   "within %u ms (outcome unknown)", commit_ms);
		rc = -ECONNABORTED;
	} else if (r == NULL || PQstatus(c) != CONNECTION_OK) {
		or_pg_err(err, c, r, "system of record: commit (outcome unknown)");
		rc = -ECONNABORTED;
	} else if (PQresultStatus(r) != PGRES_COMMAND_OK ||
		   strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		or_pg_err(err, c, r, "system of record: commit");
		rc = -EIO;
	}
	PQclear(r);
	return rc;
}

/* The rotation or retirement's entry, its place in the zero token's
 * history, and the fleet row's head and auth state, under the lock. */
static int
pw_auth_run(PGconn *c, struct pw_group *g, uint16_t writer, uint8_t action,
	    struct or_auth_state *st, struct or_err *err)
{
	static const char audit_sql[] =
		"INSERT INTO optroute.audit (seq, token, body, prev_hash, hash)"
		" VALUES ($1, $2::bytea, $3::bytea, $4::bytea, $5::bytea)";
	static const char hist_sql[] =
		"INSERT INTO optroute.consent (token, state, epoch, flags,"
		" method, node, notice_version, granted_ms, withdrawn_ms, seq,"
		" audit_seqs) VALUES ($2::bytea, 0, 0, 0, 0, 0, 0, 0, 0, $1,"
		" ARRAY[$1::bigint]) ON CONFLICT (token) DO UPDATE SET"
		" seq = EXCLUDED.seq,"
		" audit_seqs = optroute.consent.audit_seqs || EXCLUDED.audit_seqs";
	static const char head_sql[] =
		"UPDATE optroute.fleet SET head_seq = $1, head_hash = $2::bytea,"
		" auth_current = $3, auth_previous = $4, auth_seq = $1"
		" WHERE id = 1 AND head_seq = $5";
	struct or_audit_entry e;
	uint8_t body[OR_AUDIT_BODY_LEN];
	char seq[24], old[24], cur[8], prev[8];
	char tok[2 * OR_TOKEN_LEN + 3], bd[2 * OR_AUDIT_BODY_LEN + 3];
	char ph[2 * OR_AUDIT_HASH_LEN + 3], hh[2 * OR_AUDIT_HASH_LEN + 3];
	const char *pv[5];
	PGresult *r;
	int rc, moved;

	memset(&e, 0, sizeof(e));
	if ((rc = pw_lock_head(c, g, err)) < 0 ||
	    (rc = or_auth_entry(&g->auth, action, &e, err)) < 0)
		return rc;
	e.seq = g->head + 1;
	e.time_ms = or_store_now_ms();
	e.writer = writer;
	memcpy(e.prev_hash, g->head_hash, OR_AUDIT_HASH_LEN);
	or_audit_seal(&e, body);
	*st = g->auth;
	if (or_auth_next(st, &e) < 0) {
		or_err_set(err, "system of record: malformed auth state");
		return -EIO;
	}
	snprintf(seq, sizeof(seq), "%" PRIu64, e.seq);
	snprintf(old, sizeof(old), "%" PRIu64, g->head);
	snprintf(cur, sizeof(cur), "%u", st->current);
	snprintf(prev, sizeof(prev), "%u", st->previous);
	pv[0] = seq;
	pv[1] = pw_hex(tok, sizeof(tok), e.token.b, OR_TOKEN_LEN);
	pv[2] = pw_hex(bd, sizeof(bd), body, OR_AUDIT_BODY_LEN);
	pv[3] = pw_hex(ph, sizeof(ph), e.prev_hash, OR_AUDIT_HASH_LEN);
	pv[4] = pw_hex(hh, sizeof(hh), e.hash, OR_AUDIT_HASH_LEN);
	if ((rc = or_pg_exec(c, audit_sql, 5, pv, "system of record: the "
			     "epoch's entry", err, NULL)) < 0 ||
	    (rc = or_pg_exec(c, hist_sql, 2, pv, "system of record: the "
			     "epoch history", err, NULL)) < 0)
		return rc;
	pv[1] = hh;
	pv[2] = cur;
	pv[3] = st->has_previous ? prev : NULL;
	pv[4] = old;
	if ((rc = or_pg_exec(c, head_sql, 5, pv, "system of record: "
			     "advancing the head", err, &r)) < 0)
		return rc;
	moved = strcmp(PQcmdTuples(r), "1") != 0;
	PQclear(r);
	if (moved) {
		or_err_set(err, "system of record: the head moved under the lock");
		return -EIO;
	}
	return or_pg_exec(c, pg_notify_sql, 1, pv, "system of record: notify",
			  err, NULL);
}

int
or_pg_write_auth(PGconn *c, uint16_t writer, uint8_t action,
		 unsigned commit_ms, struct or_auth_state *st,
		 struct or_err *err)
{
	struct pw_group g = { .n = 0 };
	int rc;

	if (PQstatus(c) != CONNECTION_OK ||
	    PQtransactionStatus(c) != PQTRANS_IDLE) {
		or_err_set(err, "system of record: not connected");
		return -ENOTCONN;
	}
	rc = or_pg_exec(c, "BEGIN", 0, NULL, "system of record: begin", err,
			NULL);
	if (rc == 0)
		rc = pw_auth_run(c, &g, writer, action, st, err);
	if (rc < 0) {
		pw_rollback(c);
		return rc;
	}
	return pw_finish(c, commit_ms, err);
}

int
or_pg_write_group(PGconn *c, uint16_t writer, uint64_t group,
		  const struct or_node_policy *pol, const struct or_change *ch,
		  unsigned n, struct or_change_result *res,
		  uint64_t *first_seq, unsigned commit_ms, struct or_err *err)
{
	struct pw_group g = { .ch = ch, .n = n };
	int rc;

	if (n > OR_STORE_APPLY_MAX) {
		or_err_set(err, "%u changes in one group (at most %u)", n,
			   OR_STORE_APPLY_MAX);
		return -E2BIG;
	}
	if (n == 0) {
		if (first_seq != NULL)
			*first_seq = 0;
		return 0;
	}
	if ((rc = or_changes_check(pol, ch, n, err)) < 0)
		return rc;
	if (PQstatus(c) != CONNECTION_OK ||
	    PQtransactionStatus(c) != PQTRANS_IDLE) {
		or_err_set(err, "system of record: not connected");
		return -ENOTCONN;
	}
	g.slot = malloc(n * sizeof(*g.slot));
	g.out = calloc(n, sizeof(*g.out));
	if (g.slot == NULL || g.out == NULL) {
		pw_free(&g);
		or_err_set(err, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++)
		g.slot[i] = (struct pw_slot){ ch[i].token.b, i };
	qsort(g.slot, n, sizeof(*g.slot), pw_slot_cmp);

	rc = or_pg_exec(c, "BEGIN", 0, NULL, "system of record: begin", err, NULL);
	if (rc < 0 && PQstatus(c) != CONNECTION_OK) {
		/* The connection was gone before any of the group was sent
		 * (a failover, a restart): the caller may retry on a new
		 * one. */
		pw_free(&g);
		return -ENOTCONN;
	}
	if (rc == 0)
		rc = pw_run(c, &g, writer, group, pol, err);
	if (rc != 0) {
		if (rc == 1) {
			or_err_set(err,
				   "change %u: a key is issued only to an opted-in subject",
				   g.bad);
			rc = -EINVAL;
		} else if (rc == -ENOMEM) {
			or_err_set(err, "out of memory");
		}
		pw_rollback(c);
		pw_free(&g);
		return rc;
	}
	rc = pw_finish(c, commit_ms, err);
	if (rc == 0 || rc == -ECONNABORTED) {
		if (res != NULL)
			for (unsigned i = 0; i < n; i++)
				res[i] = (struct or_change_result){
					.seq = g.head + 1 + i,
					.rec = g.out[i].rec,
					.prev_rec = g.out[i].prev_rec,
				};
		if (first_seq != NULL)
			*first_seq = g.head + 1;
	}
	pw_free(&g);
	return rc;
}
