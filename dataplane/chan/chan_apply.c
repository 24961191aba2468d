/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The updater's message handling: validates each received message and
 * applies it to the consent table (the updater is its only writer).
 *
 * Rules (docs/channel.md):
 *  - A message is validated whole before any op is applied: a malformed
 *    message changes nothing and gets one ERROR.
 *  - A seq that is readable and above the connection's last one is consumed
 *    even if the message is then rejected, so the next ACK covers it and a
 *    client waiting for it is not left hanging; the ERROR comes first.
 *  - Ops that fail at apply time (table full) are reported by one ERROR per
 *    message naming the first failed op and the number of failures; the
 *    other ops of the message are applied (chan_ops.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "optroute/ctable.h"
#include "dataplane/auth/auth_keyring.h"
#include "chan_priv.h"

/* Consumes seq if it is above the connection's last one. */
static int
chan_take_seq(struct or_updater *u, uint64_t seq)
{
	if (seq == 0 || seq <= u->conn_seq) {
		chan_send_error(u, ERANGE, seq, OR_CHAN_NO_INDEX,
				"seq %" PRIu64 " not above %" PRIu64, seq,
				u->conn_seq);
		return -1;
	}
	u->conn_seq = seq;
	u->need_sync = 1;
	CHAN_SET(u, last_seq, seq);
	return 0;
}

static void
chan_hello(struct or_updater *u, const uint8_t *msg, size_t len)
{
	const struct or_chan_hello *in = (const void *)msg;
	struct or_chan_hello out = {
		.h = { .type = OR_CHAN_HELLO, .len = sizeof(out) },
		.version = OR_CHAN_VERSION,
		.role = OR_CHAN_ROLE_DATAPLANE,
		.workers = u->conf.workers,
		.max_ops = OR_CHAN_MAX_OPS,
	};
	struct ct_stats cs;

	/* The version first: a peer of another version sends a HELLO of
	 * another size, and should hear why it is refused. */
	if (len >= offsetof(struct or_chan_hello, role) && !u->hello_done &&
	    in->version != OR_CHAN_VERSION) {
		chan_send_error(u, EPROTONOSUPPORT, OR_CHAN_NO_SEQ,
				OR_CHAN_NO_INDEX,
				"protocol version %u not supported, dataplane speaks %u",
				in->version, OR_CHAN_VERSION);
		u->close_after_flush = 1;
		return;
	}
	if (len != sizeof(*in)) {
		chan_send_error(u, EBADMSG, OR_CHAN_NO_SEQ, OR_CHAN_NO_INDEX,
				"HELLO of %zu bytes, expected %zu", len,
				sizeof(*in));
		return;
	}
	if (u->hello_done) {
		chan_send_error(u, EPROTO, OR_CHAN_NO_SEQ, OR_CHAN_NO_INDEX,
				"HELLO already exchanged");
		return;
	}
	if (in->role != OR_CHAN_ROLE_CONTROL && in->role != OR_CHAN_ROLE_TOOL) {
		chan_send_error(u, EINVAL, OR_CHAN_NO_SEQ, OR_CHAN_NO_INDEX,
				"peer role %u may not update the table",
				in->role);
		u->close_after_flush = 1;
		return;
	}
	ct_get_stats(u->t, &cs);
	out.entries = cs.entries;
	out.acked_seq = CHAN_GET(u, acked_seq);
	out.generation = CHAN_GET(u, generation);
	out.mark_seq = CHAN_GET(u, mark_seq);
	memcpy(out.mark_hash, u->mark_hash, sizeof(out.mark_hash));
	u->hello_done = 1;
	chan_queue(u, &out, sizeof(out));
}

static int
chan_check_ops(struct or_updater *u, const struct or_chan_batch *b, int resync)
{
	for (uint32_t i = 0; i < b->count; i++) {
		const struct or_chan_op *o = &b->ops[i];

		if (o->op == OR_CHAN_OP_UPSERT) {
			if (!or_rec_valid(o->rec)) {
				chan_send_error(u, EINVAL, b->seq, i,
						"op %u: invalid consent record 0x%08x",
						i, o->rec);
				return -1;
			}
		} else if (o->op == OR_CHAN_OP_DELETE && !resync) {
			continue;
		} else {
			chan_send_error(u, EINVAL, b->seq, i,
					"op %u: opcode %u not allowed in %s", i,
					o->op, resync ? "RESYNC_DATA" : "BATCH");
			return -1;
		}
	}
	return 0;
}

static void
chan_batch(struct or_updater *u, const uint8_t *msg, size_t len, int resync)
{
	const struct or_chan_batch *b = (const void *)msg;
	struct chan_op_result r;

	if (len < sizeof(*b)) {
		chan_send_error(u, EBADMSG, OR_CHAN_NO_SEQ, OR_CHAN_NO_INDEX,
				"batch of %zu bytes is shorter than its header",
				len);
		return;
	}
	if (chan_take_seq(u, b->seq) < 0)
		return;
	if (b->count > OR_CHAN_MAX_OPS) {
		chan_send_error(u, E2BIG, b->seq, OR_CHAN_NO_INDEX,
				"%u ops, at most %u per message", b->count,
				OR_CHAN_MAX_OPS);
		return;
	}
	if (b->count == 0 ||
	    len != sizeof(*b) + (size_t)b->count * sizeof(b->ops[0])) {
		chan_send_error(u, EBADMSG, b->seq, OR_CHAN_NO_INDEX,
				"batch of %zu bytes does not hold %u ops", len,
				b->count);
		return;
	}
	if (resync && !u->resyncing) {
		chan_send_error(u, EPROTO, b->seq, OR_CHAN_NO_INDEX,
				"RESYNC_DATA outside a resync");
		return;
	}
	if (chan_check_ops(u, b, resync) < 0)
		return;

	chan_mark_clear(u);
	chan_apply_ops(u, b->ops, b->count, resync, &r);
	CHAN_INC(u, batches);
	CHAN_ADD(u, upserts, r.upserts);
	CHAN_ADD(u, deletes, r.deletes);
	CHAN_ADD(u, delete_missing, r.missing);
	if (r.failed > 0)
		chan_send_error(u, -r.first_rc, b->seq, r.first,
				"%u of %u ops failed, first at op %u: %s",
				r.failed, b->count, r.first,
				strerror(-r.first_rc));
}

static void
chan_resync_begin(struct or_updater *u, const struct or_chan_resync *r)
{
	int rc;

	if (u->resyncing) {
		chan_send_error(u, EALREADY, r->seq, OR_CHAN_NO_INDEX,
				"resync %" PRIu64 " already in progress",
				u->resync_gen);
		return;
	}
	if (r->generation == 0) {
		chan_send_error(u, EINVAL, r->seq, OR_CHAN_NO_INDEX,
				"resync generation must be > 0");
		return;
	}
	rc = ct_replace_begin(u->t);
	if (rc < 0) {
		chan_send_error(u, -rc, r->seq, OR_CHAN_NO_INDEX,
				"cannot start resync: %s", strerror(-rc));
		return;
	}
	u->resyncing = 1;
	u->resync_gen = r->generation;
	chan_mark_clear(u);
}

static void
chan_resync_end(struct or_updater *u, const struct or_chan_resync *r)
{
	int rc;

	if (!u->resyncing) {
		chan_send_error(u, EPROTO, r->seq, OR_CHAN_NO_INDEX,
				"RESYNC_END without RESYNC_BEGIN");
		return;
	}
	if (r->generation != u->resync_gen) {
		/* The resync stays open: a correct END may still follow. */
		chan_send_error(u, EINVAL, r->seq, OR_CHAN_NO_INDEX,
				"RESYNC_END generation %" PRIu64
				" does not match %" PRIu64,
				r->generation, u->resync_gen);
		return;
	}
	u->resyncing = 0;
	rc = ct_replace_commit(u->t);
	if (rc < 0) {
		if (ct_replacing(u->t))
			ct_replace_abort(u->t);
		CHAN_INC(u, resync_aborts);
		chan_send_error(u, -rc, r->seq, OR_CHAN_NO_INDEX,
				"resync commit failed, live table kept: %s",
				strerror(-rc));
		return;
	}
	CHAN_INC(u, resyncs);
	CHAN_SET(u, generation, r->generation);
	/* The table is the resync's alone: what failed before is gone. */
	u->tainted = 0;
	CHAN_LOG(INFO, "resync %" PRIu64 " committed", r->generation);
}

static void
chan_resync(struct or_updater *u, const uint8_t *msg, size_t len, int end)
{
	const struct or_chan_resync *r = (const void *)msg;

	if (len != sizeof(*r)) {
		chan_send_error(u, EBADMSG, OR_CHAN_NO_SEQ, OR_CHAN_NO_INDEX,
				"%s of %zu bytes, expected %zu",
				end ? "RESYNC_END" : "RESYNC_BEGIN", len,
				sizeof(*r));
		return;
	}
	if (chan_take_seq(u, r->seq) < 0)
		return;
	if (end)
		chan_resync_end(u, r);
	else
		chan_resync_begin(u, r);
}

/* The one message with key material: installed into locked memory
 * (auth_keyring.c), then wiped here; the error texts name no key byte. */
static void
chan_auth_keys(struct or_updater *u, const uint8_t *msg, size_t len)
{
	const struct or_chan_auth_keys *m = (const void *)msg;
	char err[OR_CHAN_ERR_TEXT_LEN];
	int rc;

	if (len != sizeof(*m)) {
		chan_send_error(u, EBADMSG, OR_CHAN_NO_SEQ, OR_CHAN_NO_INDEX,
				"AUTH_KEYS of %zu bytes, expected %zu", len,
				sizeof(*m));
		return;
	}
	if (u->conf.auth == NULL) {
		chan_send_error(u, EOPNOTSUPP, m->seq, OR_CHAN_NO_INDEX,
				"this dataplane takes no auth keys");
		return;
	}
	if (chan_take_seq(u, m->seq) < 0)
		return;
	rc = or_keyring_install(u->conf.auth, m, err, sizeof(err));
	if (rc < 0) {
		chan_send_error(u, -rc, m->seq, OR_CHAN_NO_INDEX, "%s", err);
		return;
	}
	CHAN_INC(u, auth_keys);
	CHAN_LOG(INFO, "auth epochs installed (%u live)", m->count);
}

void
chan_mark_clear(struct or_updater *u)
{
	CHAN_SET(u, mark_seq, 0);
	memset(u->mark_hash, 0, sizeof(u->mark_hash));
}

static void
chan_mark(struct or_updater *u, const uint8_t *msg, size_t len)
{
	const struct or_chan_mark *m = (const void *)msg;

	if (len != sizeof(*m)) {
		chan_send_error(u, EBADMSG, OR_CHAN_NO_SEQ, OR_CHAN_NO_INDEX,
				"MARK of %zu bytes, expected %zu", len,
				sizeof(*m));
		return;
	}
	if (m->store_seq == 0) {
		chan_send_error(u, EINVAL, OR_CHAN_NO_SEQ, OR_CHAN_NO_INDEX,
				"MARK at store seq 0");
		return;
	}
	/* Not an error: the control plane cannot know an op failed until
	 * it reads the ERROR, which may cross its MARK. No mark is held
	 * here: an ERROR, a RESYNC_BEGIN cleared it, or none was kept. */
	if (u->tainted || u->resyncing || CHAN_GET(u, resyncs) == 0) {
		CHAN_INC(u, marks_refused);
		return;
	}
	memcpy(u->mark_hash, m->store_hash, sizeof(u->mark_hash));
	CHAN_SET(u, mark_seq, m->store_seq);
	CHAN_INC(u, marks);
}

static void
chan_handle_one(struct or_updater *u, const uint8_t *msg, size_t len)
{
	struct or_chan_hdr h;

	if (len < sizeof(h)) {
		chan_send_error(u, EBADMSG, OR_CHAN_NO_SEQ, OR_CHAN_NO_INDEX,
				"message of %zu bytes is shorter than a header",
				len);
		return;
	}
	memcpy(&h, msg, sizeof(h));
	if (h.len != len) {
		chan_send_error(u, EBADMSG, OR_CHAN_NO_SEQ, OR_CHAN_NO_INDEX,
				"length field says %u, message has %zu bytes",
				h.len, len);
		return;
	}
	if (!u->hello_done && h.type != OR_CHAN_HELLO) {
		chan_send_error(u, EPROTO, OR_CHAN_NO_SEQ, OR_CHAN_NO_INDEX,
				"HELLO expected first, got type %u", h.type);
		return;
	}
	switch (h.type) {
	case OR_CHAN_HELLO:
		chan_hello(u, msg, len);
		break;
	case OR_CHAN_BATCH:
		chan_batch(u, msg, len, 0);
		break;
	case OR_CHAN_RESYNC_DATA:
		chan_batch(u, msg, len, 1);
		break;
	case OR_CHAN_RESYNC_BEGIN:
		chan_resync(u, msg, len, 0);
		break;
	case OR_CHAN_RESYNC_END:
		chan_resync(u, msg, len, 1);
		break;
	case OR_CHAN_STATS_REQUEST:
		if (len != sizeof(struct or_chan_stats_request))
			chan_send_error(u, EBADMSG, OR_CHAN_NO_SEQ,
					OR_CHAN_NO_INDEX,
					"STATS_REQUEST of %zu bytes, expected %zu",
					len,
					sizeof(struct or_chan_stats_request));
		else
			chan_handle_stats(u, (const void *)msg);
		break;
	case OR_CHAN_AUTH_KEYS:
		chan_auth_keys(u, msg, len);
		break;
	case OR_CHAN_MARK:
		chan_mark(u, msg, len);
		break;
	case OR_CHAN_ERROR:
		/* The peer complains about something we sent: log only. */
		if (len == sizeof(struct or_chan_error)) {
			const struct or_chan_error *e = (const void *)msg;

			CHAN_LOG(WARNING, "peer error %u: %.*s", e->code,
				 (int)sizeof(e->text), e->text);
		}
		break;
	default:
		chan_send_error(u, EOPNOTSUPP, OR_CHAN_NO_SEQ, OR_CHAN_NO_INDEX,
				"unknown message type %u", h.type);
		break;
	}
}

void
chan_handle(struct or_updater *u, const uint8_t *msg, size_t len)
{
	struct or_chan_hdr h;

	chan_handle_one(u, msg, len);
	/* The receive buffer is the updater's own: no copy of a key outlives
	 * an AUTH_KEYS message, whatever was wrong with it (sent before the
	 * HELLO, a wrong length; found by fuzzing, tests/fuzz/chan_server.c). */
	if (len >= sizeof(h)) {
		memcpy(&h, msg, sizeof(h));
		if (h.type == OR_CHAN_AUTH_KEYS)
			explicit_bzero((void *)msg, len);
	}
}

void
chan_sync_and_ack(struct or_updater *u)
{
	int rc;

	if (!u->need_sync)
		return;
	/* One grace period for everything drained: after it no worker can
	 * still be reading a record or table version the batch replaced. */
	rc = ct_sync(u->t);
	CHAN_INC(u, syncs);
	u->need_sync = 0;
	if (rc < 0)
		chan_send_error(u, -rc, u->conn_seq, OR_CHAN_NO_INDEX,
				"table sync: %s", strerror(-rc));
	if (u->cfd < 0)
		return;
	CHAN_SET(u, acked_seq, u->conn_seq);
	u->ack_owed = 1;
}
