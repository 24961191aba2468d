/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The dataplane's consent table kept equal to the store (cp_link.h):
 * committed changes queued by the event loop and sent as BATCHes, and the
 * full resync from a store snapshot.
 *
 * Ordering argument for the resync. A queued item holds the results of one
 * store transaction, all with seqs in (first_seq, last]. The thread starts a
 * resync by dropping the queue and accepting new items (under mu), then
 * takes a store snapshot at snap_seq. An item enqueued before that point
 * was committed before the snapshot, so the snapshot has it. An item
 * enqueued after may have been committed before or after the snapshot;
 * transactions are atomic, so it is wholly <= snap_seq (skipped) or wholly
 * > snap_seq (sent after RESYNC_DATA, so a newer change is never
 * overwritten by an older snapshot entry in the table being rebuilt).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "control/daemon/cp_log.h"

#include "link_priv.h"

/* Under mu. */
void
cp_link_drop_queue_locked(struct cp_link *p)
{
	struct cp_link_item *it = p->head, *next;

	for (; it != NULL; it = next) {
		next = it->next;
		free(it);
	}
	p->head = p->tail = NULL;
	p->queued = 0;
}

int
cp_link_enqueue(struct cp_link *p, uint64_t first_seq,
		const struct or_change *ch, const struct or_change_result *res,
		unsigned n)
{
	struct cp_link_item *it;
	int rc = 0;

	if (n == 0)
		return 0;
	pthread_mutex_lock(&p->mu);
	if (!p->accepting)
		goto out; /* the next resync carries these changes */
	if (p->queued + n > p->conf.queue_max) {
		cp_link_drop_queue_locked(p);
		p->overflow = 1;
		goto out;
	}
	it = malloc(sizeof(*it) + n * (sizeof(it->ops[0]) + sizeof(uint64_t)));
	if (it == NULL) {
		cp_link_drop_queue_locked(p);
		p->overflow = 1;
		rc = -ENOMEM;
		goto out;
	}
	it->next = NULL;
	it->last_seq = first_seq + n - 1;
	it->n = 0;
	it->seqs = (uint64_t *)&it->ops[n];
	for (unsigned i = 0; i < n; i++) {
		/* A key issued is audited only: no table entry changes
		 * (ch NULL: none of the n does). */
		if (ch == NULL || ch[i].action == OR_ACT_KEY)
			continue;
		or_chan_op_set(&it->ops[it->n],
			       res[i].rec != 0 ? OR_CHAN_OP_UPSERT
					       : OR_CHAN_OP_DELETE,
			       &ch[i].token, res[i].rec);
		it->seqs[it->n++] = first_seq + i;
	}
	if (p->tail != NULL)
		p->tail->next = it;
	else
		p->head = it;
	p->tail = it;
	p->queued += n;
out:
	pthread_mutex_unlock(&p->mu);
	cp_link_wake(p);
	return rc;
}

static void
cp_link_sink_applied(void *arg, uint64_t first_seq, const struct or_change *ch,
		     const struct or_change_result *res, unsigned n)
{
	cp_link_enqueue(*(struct cp_link **)arg, first_seq, ch, res, n);
}

/* The store's local copy was replaced (a fleet's full resync): the
 * dataplane gets a full resync from it, so that what the old copy held
 * and the new one does not is swept (docs/fleet.md section 5). */
static void
cp_link_sink_replaced(void *arg)
{
	struct cp_link *p = *(struct cp_link **)arg;

	pthread_mutex_lock(&p->mu);
	cp_link_drop_queue_locked(p);
	p->replaced = 1;
	pthread_mutex_unlock(&p->mu);
	cp_link_wake(p);
}

static void
cp_link_sink_auth_changed(void *arg)
{
	cp_link_keys_changed(*(struct cp_link **)arg);
}

struct or_sor_sink
cp_link_sink(struct cp_link **lp)
{
	return (struct or_sor_sink){ .arg = lp,
				     .applied = cp_link_sink_applied,
				     .replaced = cp_link_sink_replaced,
				     .auth_changed = cp_link_sink_auth_changed };
}

static int
cp_link_resync_chunk(void *arg, const struct or_store_entry *e, unsigned n)
{
	struct cp_link *p = arg;
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!or_rec_valid(e[i].rec)) {
			CP_ERR("store snapshot holds an invalid record; "
			       "not sent to the dataplane");
			continue;
		}
		or_chan_op_set(&p->ops[k++], OR_CHAN_OP_UPSERT, &e[i].token,
			       e[i].rec);
	}
	INFO_ADD(p, resync_entries, k);
	if (k == 0)
		return 0;
	return or_chan_resync_data(p->c, p->ops, k, NULL);
}

/* The queue dropped and opened: what is committed from now on is queued,
 * what was committed before is in the snapshot read next (the ordering
 * argument at the top). */
void
cp_link_open_queue(struct cp_link *p)
{
	pthread_mutex_lock(&p->mu);
	cp_link_drop_queue_locked(p);
	p->overflow = 0;
	p->replaced = 0;
	p->accepting = 1;
	pthread_mutex_unlock(&p->mu);
}

/* Sends a full resync from a fresh snapshot. 0 or -errno. */
int
cp_link_resync(struct cp_link *p)
{
	const struct or_chan_peer_info *peer = or_chan_peer(p->c);
	struct or_err err = { "" };
	uint64_t gen, seq, snap = 0;
	int rc;

	cp_link_open_queue(p);
	gen = (peer->generation > INFO_GET(p, generation) ?
		       peer->generation : INFO_GET(p, generation)) + 1;
	INFO_SET(p, generation, gen);
	INFO_SET(p, syncing, 1);
	INFO_SET(p, resync_entries, 0);
	p->resync_t0 = cp_now_ms();
	rc = or_chan_resync_begin(p->c, gen, NULL);
	if (rc < 0)
		return rc;
	rc = or_sor_snapshot(p->conf.sor, p->ents, p->max_ops,
			     cp_link_resync_chunk, p, &snap, &err);
	if (rc != 0) {
		if (err.msg[0] != '\0')
			CP_ERR("resync: store snapshot failed: %s", err.msg);
		return rc < 0 ? rc : -EIO;
	}
	rc = or_chan_resync_end(p->c, gen, &seq);
	if (rc < 0)
		return rc;
	p->snap_seq = snap;
	p->table_seq = snap;
	p->resync_end = seq;
	return cp_link_map_add(p, seq, snap);
}

/* Sends everything queued. 0 or -errno (connection lost). */
int
cp_link_send_queue(struct cp_link *p)
{
	struct cp_link_item *it, *next;
	int rc = 0, overflow, replaced;

	pthread_mutex_lock(&p->mu);
	it = p->head;
	p->head = p->tail = NULL;
	p->queued = 0;
	overflow = p->overflow;
	replaced = p->replaced;
	pthread_mutex_unlock(&p->mu);

	if (overflow) {
		INFO_ADD(p, overflows, 1);
		CP_WARN("dataplane: update queue overflow, sending a full "
			"resync");
		rc = cp_link_resync(p);
	} else if (replaced) {
		CP_NOTICE("dataplane: the store's local copy was replaced, "
			  "sending a full resync");
		rc = cp_link_resync(p);
	}
	for (; it != NULL; it = next) {
		next = it->next;
		if (rc == 0 && it->last_seq > p->snap_seq) {
			p->table_seq = it->last_seq;
			for (unsigned off = 0; off < it->n && rc == 0;) {
				unsigned k = it->n - off;
				uint64_t last;

				if (k > p->max_ops)
					k = p->max_ops;
				rc = or_chan_send_batch(p->c, it->ops + off, k,
							&last);
				if (rc == 0)
					rc = cp_link_map_add(p, last,
							     it->seqs[off + k - 1]);
				INFO_ADD(p, batches, 1);
				INFO_ADD(p, ops, k);
				off += k;
			}
			/* Seqs after the last op change no entry: applied
			 * once what was sent before them is. */
			if (rc == 0 && (it->n == 0 ||
					it->seqs[it->n - 1] < it->last_seq))
				rc = cp_link_map_add(p, p->table_chan_seq,
						     it->last_seq);
		}
		free(it);
	}
	return rc;
}
