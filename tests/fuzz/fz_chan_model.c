/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The chan_server fuzz target's channel model (fz_chan_model.h).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "optroute/chan.h"
#include "fz_chan_model.h"
#include "fz_util.h"

static uint32_t
fzm_tmap_hash(const struct or_token *k)
{
	uint32_t h;

	memcpy(&h, k->b, sizeof(h));
	h ^= (uint32_t)k->b[7] << 24 ^ (uint32_t)k->b[11] << 8 ^ k->b[15];
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return (h ^ h >> 16) & (TSLOTS - 1);
}

/* The slot of k, or -1; *free_slot (may be NULL) gets where it would go. */
static int
fzm_tmap_find2(const struct tmap *t, const struct or_token *k, int *free_slot)
{
	int fs = -1;

	for (uint32_t i = fzm_tmap_hash(k), c = 0; c < TSLOTS;
	     i = (i + 1) & (TSLOTS - 1), c++) {
		if (t->used[i] == 0) {
			if (free_slot != NULL)
				*free_slot = fs >= 0 ? fs : (int)i;
			return -1;
		}
		if (t->used[i] == 2) {
			if (fs < 0)
				fs = (int)i;
			continue;
		}
		if (or_token_eq(&t->tok[i], k))
			return (int)i;
	}
	if (free_slot != NULL)
		*free_slot = fs;
	return -1;
}

uint32_t
fzm_tmap_get(const struct tmap *t, const struct or_token *k)
{
	int i = fzm_tmap_find2(t, k, NULL);

	return i < 0 ? 0 : t->rec[i];
}

static void
fzm_tmap_set(struct tmap *t, const struct or_token *k, uint32_t rec)
{
	int fs = -1, i = fzm_tmap_find2(t, k, &fs);

	if (rec == 0) {
		if (i >= 0) {
			t->used[i] = 2;
			t->n--;
		}
		return;
	}
	if (i >= 0) {
		t->rec[i] = rec;
		return;
	}
	FZ_CHECK(fs >= 0 && t->filled < TSLOTS - 1, "model table full");
	if (t->used[fs] == 0)
		t->filled++;
	t->used[fs] = 1;
	t->tok[fs] = *k;
	t->rec[fs] = rec;
	t->n++;
}

static void
fzm_tmap_clear(struct tmap *t)
{
	memset(t->used, 0, sizeof(t->used));
	t->n = 0;
	t->filled = 0;
}

struct expect *
fzm_expect(struct model *m, uint16_t type)
{
	struct expect *e;

	FZ_CHECK(m->nexp < MAX_EXPECT, "too many replies in one wakeup");
	e = &m->exp[m->nexp++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	return e;
}

static struct expect *
fzm_expect_error(struct model *m, uint32_t code, uint64_t seq, uint32_t index)
{
	struct expect *e = fzm_expect(m, OR_CHAN_ERROR);

	e->code = code;
	e->seq = seq;
	e->index = index;
	m->errors++;
	/* Any ERROR: the peer's view of the table may differ from ours, no
	 * MARK is kept until a resync completes. */
	m->tainted = 1;
	m->mark = 0;
	return e;
}

static void
fzm_forbid_hex(struct expect *e, const uint8_t *b)
{
	if (e->nforbid < 4)
		sodium_bin2hex(e->forbid[e->nforbid++], 33, b, 16);
}

/* chan_take_seq: 0 if taken. */
static int
fzm_model_seq(struct model *m, uint64_t seq)
{
	if (seq == 0 || seq <= m->conn_seq) {
		fzm_expect_error(m, ERANGE, seq, OR_CHAN_NO_INDEX);
		return -1;
	}
	m->conn_seq = seq;
	m->need_sync = 1;
	m->last_seq = seq;
	return 0;
}

static void
fzm_model_batch(struct model *m, const uint8_t *msg, size_t len, int resync)
{
	struct or_chan_batch b;
	const struct or_chan_op *ops;

	if (len < sizeof(b)) {
		fzm_expect_error(m, EBADMSG, 0, OR_CHAN_NO_INDEX);
		return;
	}
	memcpy(&b, msg, sizeof(b));
	if (fzm_model_seq(m, b.seq) < 0)
		return;
	if (b.count > OR_CHAN_MAX_OPS) {
		fzm_expect_error(m, E2BIG, b.seq, OR_CHAN_NO_INDEX);
		return;
	}
	if (b.count == 0 || len != sizeof(b) + (size_t)b.count * 24) {
		fzm_expect_error(m, EBADMSG, b.seq, OR_CHAN_NO_INDEX);
		return;
	}
	if (resync && !m->resyncing) {
		fzm_expect_error(m, EPROTO, b.seq, OR_CHAN_NO_INDEX);
		return;
	}
	ops = (const struct or_chan_op *)(msg + sizeof(b));
	for (uint32_t i = 0; i < b.count; i++) {
		uint8_t op = ops[i].op;

		if ((op == OR_CHAN_OP_UPSERT && !or_rec_valid(ops[i].rec)) ||
		    (op != OR_CHAN_OP_UPSERT &&
		     (op != OR_CHAN_OP_DELETE || resync))) {
			struct expect *e = fzm_expect_error(m, EINVAL, b.seq, i);

			fzm_forbid_hex(e, ops[i].token.b);
			return;
		}
	}
	m->mark = 0; /* the table moves past it */
	for (uint32_t i = 0; i < b.count; i++) {
		uint32_t rec = ops[i].op == OR_CHAN_OP_UPSERT ? ops[i].rec : 0;

		fzm_tmap_set(&m->seen, &ops[i].token, 1);
		if (resync) {
			fzm_tmap_set(&m->next, &ops[i].token, rec);
			continue;
		}
		fzm_tmap_set(&m->live, &ops[i].token, rec);
		if (m->resyncing)
			fzm_tmap_set(&m->next, &ops[i].token, rec);
	}
}

static void
fzm_model_resync(struct model *m, const uint8_t *msg, size_t len, int end)
{
	struct or_chan_resync r;

	if (len != sizeof(r)) {
		fzm_expect_error(m, EBADMSG, 0, OR_CHAN_NO_INDEX);
		return;
	}
	memcpy(&r, msg, sizeof(r));
	if (fzm_model_seq(m, r.seq) < 0)
		return;
	if (!end) {
		if (m->resyncing)
			fzm_expect_error(m, EALREADY, r.seq, OR_CHAN_NO_INDEX);
		else if (r.generation == 0)
			fzm_expect_error(m, EINVAL, r.seq, OR_CHAN_NO_INDEX);
		else {
			m->resyncing = 1;
			m->resync_gen = r.generation;
			m->mark = 0;
			fzm_tmap_clear(&m->next);
		}
		return;
	}
	if (!m->resyncing)
		fzm_expect_error(m, EPROTO, r.seq, OR_CHAN_NO_INDEX);
	else if (r.generation != m->resync_gen)
		fzm_expect_error(m, EINVAL, r.seq, OR_CHAN_NO_INDEX);
	else {
		m->resyncing = 0;
		m->live = m->next;
		m->generation = r.generation;
		m->tainted = 0;
	}
}

static void
fzm_model_auth_keys(struct model *m, const uint8_t *msg, size_t len)
{
	struct or_chan_auth_keys k;
	struct expect *e;

	if (len != sizeof(k)) {
		fzm_expect_error(m, EBADMSG, 0, OR_CHAN_NO_INDEX);
		return;
	}
	memcpy(&k, msg, sizeof(k));
	if (fzm_model_seq(m, k.seq) < 0)
		return;
	e = NULL;
	if (k.version != OR_CHAN_AUTH_KEYS_VERSION)
		e = fzm_expect_error(m, EPROTONOSUPPORT, k.seq, OR_CHAN_NO_INDEX);
	else if (k.count > 2 ||
		 (k.count == 2 && k.keys[0].epoch == k.keys[1].epoch))
		e = fzm_expect_error(m, EINVAL, k.seq, OR_CHAN_NO_INDEX);
	if (e != NULL) {
		fzm_forbid_hex(e, k.keys[0].key);
		fzm_forbid_hex(e, k.keys[1].key);
		return;
	}
	m->kn = k.count;
	for (unsigned i = 0; i < k.count; i++) {
		m->kep[i] = k.keys[i].epoch;
		memcpy(m->kkey[i], k.keys[i].key, 16);
	}
	m->auth_installs++;
}

/* One message as chan_handle takes it. */
void
fzm_model_msg(struct model *m, const uint8_t *msg, size_t len)
{
	struct or_chan_hdr h;

	if (len < sizeof(h)) {
		fzm_expect_error(m, EBADMSG, 0, OR_CHAN_NO_INDEX);
		return;
	}
	memcpy(&h, msg, sizeof(h));
	if (h.len != len) {
		fzm_expect_error(m, EBADMSG, 0, OR_CHAN_NO_INDEX);
		return;
	}
	if (!m->hello_done && h.type != OR_CHAN_HELLO) {
		fzm_expect_error(m, EPROTO, 0, OR_CHAN_NO_INDEX);
		return;
	}
	switch (h.type) {
	case OR_CHAN_HELLO: {
		struct or_chan_hello in;
		uint32_t ver;

		/* Another version's HELLO has another size: its version is
		 * read first, to say why it is refused. */
		if (len >= 12 && !m->hello_done) {
			memcpy(&ver, msg + 8, sizeof(ver));
			if (ver != OR_CHAN_VERSION) {
				fzm_expect_error(m, EPROTONOSUPPORT, 0,
						 OR_CHAN_NO_INDEX);
				m->closing = 1;
				break;
			}
		}
		if (len != sizeof(in)) {
			fzm_expect_error(m, EBADMSG, 0, OR_CHAN_NO_INDEX);
			break;
		}
		memcpy(&in, msg, sizeof(in));
		if (m->hello_done) {
			fzm_expect_error(m, EPROTO, 0, OR_CHAN_NO_INDEX);
		} else if (in.role != OR_CHAN_ROLE_CONTROL &&
			   in.role != OR_CHAN_ROLE_TOOL) {
			fzm_expect_error(m, EINVAL, 0, OR_CHAN_NO_INDEX);
			m->closing = 1;
		} else {
			struct expect *e = fzm_expect(m, OR_CHAN_HELLO);

			e->entries = m->live.n;
			e->acked = m->acked_seq;
			e->generation = m->generation;
			e->mark = m->mark;
			m->hello_done = 1;
		}
		break;
	}
	case OR_CHAN_BATCH:
	case OR_CHAN_RESYNC_DATA:
		fzm_model_batch(m, msg, len, h.type == OR_CHAN_RESYNC_DATA);
		break;
	case OR_CHAN_RESYNC_BEGIN:
	case OR_CHAN_RESYNC_END:
		fzm_model_resync(m, msg, len, h.type == OR_CHAN_RESYNC_END);
		break;
	case OR_CHAN_STATS_REQUEST: {
		struct or_chan_stats_request r;
		struct expect *e;

		if (len != sizeof(r)) {
			fzm_expect_error(m, EBADMSG, 0, OR_CHAN_NO_INDEX);
			break;
		}
		memcpy(&r, msg, sizeof(r));
		m->stats_req++;
		e = fzm_expect(m, OR_CHAN_STATS_REPLY);
		e->id = r.id;
		e->entries = m->live.n;
		e->acked = m->acked_seq;
		e->generation = m->generation;
		e->last_seq = m->last_seq;
		e->errors = m->errors;
		e->stats_req = m->stats_req;
		e->auth_keys = m->auth_installs;
		e->clears = m->clears;
		if (r.h.flags & OR_CHAN_STATS_F_CLEAR)
			m->clears++;
		break;
	}
	case OR_CHAN_AUTH_KEYS:
		fzm_model_auth_keys(m, msg, len);
		break;
	case OR_CHAN_MARK: {
		struct or_chan_mark k;

		if (len != sizeof(k)) {
			fzm_expect_error(m, EBADMSG, 0, OR_CHAN_NO_INDEX);
			break;
		}
		memcpy(&k, msg, sizeof(k));
		if (k.store_seq == 0)
			fzm_expect_error(m, EINVAL, 0, OR_CHAN_NO_INDEX);
		else if (m->tainted || m->resyncing || m->generation == 0)
			m->mark = 0; /* not kept, no reply */
		else
			m->mark = k.store_seq;
		break;
	}
	case OR_CHAN_ERROR:
		break;
	default:
		fzm_expect_error(m, EOPNOTSUPP, 0, OR_CHAN_NO_INDEX);
		break;
	}
}
