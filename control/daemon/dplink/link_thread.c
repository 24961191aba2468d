/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The channel thread; see cp_push.h for the contract.
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
 *
 * A refused table message. The dataplane answers a BATCH or RESYNC_* it
 * could not (wholly) apply with an ERROR naming its seq, then an ACK that
 * covers that seq all the same (docs/channel.md). So an ERROR naming any
 * seq but the AUTH_KEYS one stops acked_seq below that message for good
 * on this connection (an opt-out it carried is not known to be enforced),
 * and the connection is dropped: the next one starts with a full resync
 * from the store, after retry_ms, doubled for each refusal in a row up to
 * 64 times (a dataplane whose table_mem_mb is too small for the store
 * refuses every resync: it is not resynced in a loop).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sodium.h>

#include "optroute/chan_client.h"

#include "control/daemon/cp_daemon.h"
#include "control/daemon/cp_log.h"
#include "cp_link.h"

#define CP_PUSH_CONNECT_MS 1000      /* one connect + HELLO attempt */
#define CP_PUSH_STATS_TIMEOUT_MS 2000
#define CP_PUSH_STATS_MAX 1024       /* counters kept per stats answer */
#define CP_PUSH_REQS 16              /* stats requests in flight */
#define CP_PUSH_ACK_TIMES 4096       /* recent ack advances kept (power of 2) */

/* The changes of one store transaction: n table ops, op i for store seq
 * seqs[i]; last_seq is the transaction's last seq (an op's, or one that
 * changes no entry). */
struct cp_push_item {
	struct cp_push_item *next;
	uint64_t last_seq;
	unsigned n;
	uint64_t *seqs; /* n, after ops[] in the same allocation */
	struct or_chan_op ops[];
};

enum { REQ_FREE = 0, REQ_ASKED, REQ_DONE };

struct cp_push_req {
	int state;
	int rc;
	uint64_t cookie;
	uint16_t flags;          /* OR_CHAN_STATS_F_* */
	unsigned n;
	struct or_chan_stat *st; /* CP_PUSH_STATS_MAX, allocated on first use */
};

/* Sent message (chan seq) -> highest store seq it carries. */
struct cp_push_map {
	uint64_t chan_seq;
	uint64_t store_seq;
};

/* The store seq acked by one ACK, and when the ACK was read. */
struct cp_push_ack_time {
	uint64_t seq;
	uint64_t us; /* CLOCK_MONOTONIC */
};

struct cp_push {
	struct cp_push_conf conf;
	pthread_t th;
	int started;
	int wake_fd;   /* event loop -> thread */
	int notify_fd; /* thread -> event loop */

	pthread_mutex_t mu;
	/* Under mu. */
	struct cp_push_item *head, *tail;
	uint64_t queued;   /* changes in the queue */
	int accepting;     /* a dataplane is connected and resynced from */
	int overflow;      /* queue dropped: a full resync is owed */
	int keys_dirty;    /* the auth epoch state changed: send it */
	int stop;
	struct cp_push_req reqs[CP_PUSH_REQS];
	/* Ring of the last CP_PUSH_ACK_TIMES ack advances, oldest at
	 * ack_n - CP_PUSH_ACK_TIMES (ack_n counts every advance). */
	struct cp_push_ack_time ack_times[CP_PUSH_ACK_TIMES];
	uint64_t ack_n;

	/* Thread only. */
	struct or_chan_client *c;
	uint64_t snap_seq;       /* last store seq in the table by resync */
	uint64_t table_chan_seq; /* chan seq of the last table message sent */
	uint64_t keys_chan_seq;  /* chan seq of the last AUTH_KEYS sent */
	uint64_t resync_end;     /* chan seq of RESYNC_END not acked yet */
	uint64_t resync_t0;      /* ms */
	struct cp_push_map *map;
	size_t map_head, map_n, map_cap;
	struct or_chan_op *ops;  /* OR_CHAN_MAX_OPS, resync */
	struct or_store_entry *ents;
	unsigned max_ops;
	int connect_logged;
	uint64_t refused_chan_seq; /* lowest table message refused, 0 = none */
	uint64_t connect_at_ms;    /* no connect attempt before (cp_now_ms) */
	unsigned refusals;         /* connections ended by one, in a row */

	/* Written by the thread, read by anyone (atomics). */
	struct cp_push_info info;
};

#define INFO_SET(p, f, v) __atomic_store_n(&(p)->info.f, (v), __ATOMIC_RELEASE)
#define INFO_ADD(p, f, v) __atomic_add_fetch(&(p)->info.f, (v), __ATOMIC_RELAXED)
#define INFO_GET(p, f) __atomic_load_n(&(p)->info.f, __ATOMIC_ACQUIRE)

static void
cp_push_notify(struct cp_push *p)
{
	uint64_t one = 1;

	if (write(p->notify_fd, &one, sizeof(one)) < 0) {
		/* Counter saturated: the event loop will read it anyway. */
	}
}

static void
cp_push_wake(struct cp_push *p)
{
	uint64_t one = 1;

	if (write(p->wake_fd, &one, sizeof(one)) < 0) {
		/* Already pending. */
	}
}

static void
cp_push_drain(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* Nothing pending (EAGAIN). */
	}
}

/* Under mu. */
static void
cp_push_drop_queue_locked(struct cp_push *p)
{
	struct cp_push_item *it = p->head, *next;

	for (; it != NULL; it = next) {
		next = it->next;
		free(it);
	}
	p->head = p->tail = NULL;
	p->queued = 0;
}

int
cp_push_enqueue(struct cp_push *p, uint64_t first_seq,
		const struct or_change *ch, const struct or_change_result *res,
		unsigned n)
{
	struct cp_push_item *it;
	int rc = 0;

	if (n == 0)
		return 0;
	pthread_mutex_lock(&p->mu);
	if (!p->accepting)
		goto out; /* the next resync carries these changes */
	if (p->queued + n > p->conf.queue_max) {
		cp_push_drop_queue_locked(p);
		p->overflow = 1;
		goto out;
	}
	it = malloc(sizeof(*it) + n * (sizeof(it->ops[0]) + sizeof(uint64_t)));
	if (it == NULL) {
		cp_push_drop_queue_locked(p);
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
	cp_push_wake(p);
	return rc;
}

int
cp_push_enqueue_none(struct cp_push *p, uint64_t seq)
{
	return cp_push_enqueue(p, seq, NULL, NULL, 1);
}

void
cp_push_keys_changed(struct cp_push *p)
{
	pthread_mutex_lock(&p->mu);
	p->keys_dirty = 1;
	pthread_mutex_unlock(&p->mu);
	cp_push_wake(p);
}

int
cp_push_request_stats(struct cp_push *p, uint64_t cookie, uint16_t flags)
{
	int rc = -EBUSY;

	pthread_mutex_lock(&p->mu);
	if (!p->accepting) {
		rc = -ENOTCONN;
	} else {
		for (unsigned i = 0; i < CP_PUSH_REQS; i++) {
			if (p->reqs[i].state != REQ_FREE)
				continue;
			p->reqs[i].state = REQ_ASKED;
			p->reqs[i].cookie = cookie;
			p->reqs[i].flags = flags;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	if (rc == 0)
		cp_push_wake(p);
	return rc;
}

void
cp_push_take_stats(struct cp_push *p,
		   void (*cb)(void *arg, uint64_t cookie, int rc,
			      const struct or_chan_stat *st, unsigned n),
		   void *arg)
{
	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < CP_PUSH_REQS; i++) {
		struct cp_push_req *r = &p->reqs[i];

		if (r->state != REQ_DONE)
			continue;
		cb(arg, r->cookie, r->rc, r->st, r->rc == 0 ? r->n : 0);
		r->state = REQ_FREE;
	}
	pthread_mutex_unlock(&p->mu);
}

int
cp_push_notify_fd(const struct cp_push *p)
{
	return p->notify_fd;
}

void
cp_push_notify_clear(struct cp_push *p)
{
	cp_push_drain(p->notify_fd);
}

void
cp_push_info(struct cp_push *p, struct cp_push_info *info)
{
	const uint64_t *src = (const uint64_t *)&p->info;
	uint64_t *dst = (uint64_t *)info;

	/* Under mu: the keys_* fields change together under it. */
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < sizeof(*info) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&p->mu);
}

uint64_t
cp_push_ack_time(struct cp_push *p, uint64_t seq)
{
	uint64_t oldest, lo, hi, t = 0;

	pthread_mutex_lock(&p->mu);
	hi = p->ack_n;
	oldest = hi > CP_PUSH_ACK_TIMES ? hi - CP_PUSH_ACK_TIMES : 0;
	lo = oldest;
	/* Acked seqs only grow: find the first advance that reached seq. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (p->ack_times[mid & (CP_PUSH_ACK_TIMES - 1)].seq >= seq)
			hi = mid;
		else
			lo = mid + 1;
	}
	/* Unknown if not acked yet, or if the advance found is the oldest
	 * kept and older ones were overwritten (the first may be lost). */
	if (lo < p->ack_n && (lo > oldest || oldest == 0))
		t = p->ack_times[lo & (CP_PUSH_ACK_TIMES - 1)].us;
	pthread_mutex_unlock(&p->mu);
	return t;
}

/* ------------------------------------------------------------ thread -- */

static int
cp_push_map_add(struct cp_push *p, uint64_t chan_seq, uint64_t store_seq)
{
	if (p->map_head + p->map_n == p->map_cap) {
		if (p->map_head > 0) {
			memmove(p->map, p->map + p->map_head,
				p->map_n * sizeof(p->map[0]));
			p->map_head = 0;
		} else {
			size_t cap = p->map_cap ? p->map_cap * 2 : 256;
			void *m = realloc(p->map, cap * sizeof(p->map[0]));

			if (m == NULL)
				return -ENOMEM;
			p->map = m;
			p->map_cap = cap;
		}
	}
	p->map[p->map_head + p->map_n++] =
		(struct cp_push_map){ chan_seq, store_seq };
	p->table_chan_seq = chan_seq;
	if (store_seq > INFO_GET(p, sent_seq))
		INFO_SET(p, sent_seq, store_seq);
	return 0;
}

/* The thread moves the auth key set to state; the keys_* fields change
 * together under mu, so that cp_push_info() never pairs one set's state
 * with another's seq. */
static void
cp_push_keys_update(struct cp_push *p, uint64_t state, uint64_t seq,
		    uint64_t error)
{
	pthread_mutex_lock(&p->mu);
	INFO_SET(p, keys_state, state);
	INFO_SET(p, keys_seq, seq);
	INFO_SET(p, keys_error, error);
	switch (state) {
	case CP_KEYS_PENDING:
		INFO_ADD(p, keys_sent, 1);
		break;
	case CP_KEYS_REFUSED:
		INFO_ADD(p, keys_refused, 1);
		break;
	case CP_KEYS_ACKED:
		if (!INFO_GET(p, keys_acked) || seq > INFO_GET(p, keys_acked_seq))
			INFO_SET(p, keys_acked_seq, seq);
		INFO_SET(p, keys_acked, 1);
		break;
	}
	pthread_mutex_unlock(&p->mu);
}

/* now_us: when the acks now in the client were read. */
static void
cp_push_update_acks(struct cp_push *p, uint64_t now_us)
{
	uint64_t acked = or_chan_acked(p->c);
	uint64_t store = INFO_GET(p, acked_seq);
	int changed = 0;

	/* Nothing from a refused message on is known to be enforced. */
	if (p->refused_chan_seq != 0 && acked >= p->refused_chan_seq)
		acked = p->refused_chan_seq - 1;

	while (p->map_n > 0 && p->map[p->map_head].chan_seq <= acked) {
		if (p->map[p->map_head].store_seq > store) {
			store = p->map[p->map_head].store_seq;
			changed = 1;
		}
		p->map_head++;
		p->map_n--;
	}
	if (p->map_n == 0)
		p->map_head = 0;
	if (changed) {
		pthread_mutex_lock(&p->mu);
		p->ack_times[p->ack_n++ & (CP_PUSH_ACK_TIMES - 1)] =
			(struct cp_push_ack_time){ store, now_us };
		pthread_mutex_unlock(&p->mu);
		INFO_SET(p, acked_seq, store);
	}
	if (INFO_GET(p, keys_state) == CP_KEYS_PENDING &&
	    acked >= p->keys_chan_seq) {
		cp_push_keys_update(p, CP_KEYS_ACKED, INFO_GET(p, keys_seq), 0);
		CP_INFO("dataplane: auth key set of store seq %" PRIu64
			" acked: every worker verifies with it",
			INFO_GET(p, keys_seq));
		changed = 1;
	}
	if (p->resync_end != 0 && acked >= p->resync_end) {
		uint64_t ms = cp_now_ms() - p->resync_t0;

		p->resync_end = 0;
		p->refusals = 0;
		INFO_SET(p, resync_ms, ms);
		INFO_ADD(p, resyncs, 1);
		INFO_SET(p, syncing, 0);
		CP_INFO("dataplane: full resync of %" PRIu64
			" entries acked in %" PRIu64 " ms (store seq %" PRIu64
			")",
			INFO_GET(p, resync_entries), ms, p->snap_seq);
		changed = 1;
	}
	if (changed)
		cp_push_notify(p);
}

static void
cp_push_on_error(void *arg, const struct or_chan_err_info *e)
{
	struct cp_push *p = arg;

	INFO_ADD(p, dp_errors, 1);
	/* The dataplane's text never holds a number, a token or a key. */
	CP_WARN("dataplane reported error %d (%s) seq %" PRIu64 ": %s",
		e->code, strerror(e->code), e->seq, e->text);
	/* An ERROR naming the AUTH_KEYS seq, or the one a dataplane that
	 * does not know the message answers (no seq: it took none), comes
	 * before any ACK that covers the set: it is refused. */
	if (INFO_GET(p, keys_state) == CP_KEYS_PENDING &&
	    (e->seq == p->keys_chan_seq ||
	     (e->seq == OR_CHAN_NO_SEQ && e->code == EOPNOTSUPP))) {
		cp_push_keys_update(p, CP_KEYS_REFUSED, INFO_GET(p, keys_seq),
				    (uint64_t)e->code);
		CP_WARN("dataplane refused the auth key set of store seq %" PRIu64
			" (%s): sender keys are not enforced",
			INFO_GET(p, keys_seq), strerror(e->code));
		cp_push_notify(p);
		return;
	}
	/* Any other seq is a table message's: see "A refused table message"
	 * at the top. */
	if (e->seq != OR_CHAN_NO_SEQ && e->seq != p->keys_chan_seq &&
	    (p->refused_chan_seq == 0 || e->seq < p->refused_chan_seq))
		p->refused_chan_seq = e->seq;
}

/* -ECANCELED once the dataplane refused a table message, else 0. */
static int
cp_push_check_refused(struct cp_push *p)
{
	if (p->refused_chan_seq == 0)
		return 0;
	CP_WARN("dataplane did not apply channel message %" PRIu64
		" (its error is above): acked store seq held at %" PRIu64
		"; a full resync follows on a new connection",
		p->refused_chan_seq, INFO_GET(p, acked_seq));
	return -ECANCELED;
}

/* Sends the live auth epochs' keys, as the store has them now. 0 or
 * -errno (connection lost). */
static int
cp_push_send_keys(struct cp_push *p)
{
	struct or_chan_auth_key k[OR_CHAN_AUTH_MAX_EPOCHS];
	struct or_err err = { "" };
	struct or_auth_state st;
	uint64_t seq;
	unsigned n = 0;
	int rc;

	pthread_mutex_lock(&p->mu);
	p->keys_dirty = 0; /* before the read: a later change sets it again */
	pthread_mutex_unlock(&p->mu);
	if (p->conf.keys == NULL)
		return 0;
	rc = or_store_auth_get(p->conf.store, &st, &err);
	if (rc < 0) {
		CP_ERR("auth keys not sent to the dataplane: %s", err.msg);
		return 0;
	}
	memset(k, 0, sizeof(k));
	k[n].epoch = st.current;
	memcpy(k[n++].key, or_keys_auth(p->conf.keys, st.current)->b,
	       OR_CHAN_AUTH_KEY_LEN);
	if (st.has_previous) {
		k[n].epoch = st.previous;
		memcpy(k[n++].key, or_keys_auth(p->conf.keys, st.previous)->b,
		       OR_CHAN_AUTH_KEY_LEN);
	}
	rc = or_chan_send_auth_keys(p->c, k, n, &seq);
	sodium_memzero(k, sizeof(k));
	if (rc < 0)
		return rc;
	p->keys_chan_seq = seq;
	cp_push_keys_update(p, CP_KEYS_PENDING, st.seq, 0);
	if (st.has_previous)
		CP_INFO("dataplane: auth key set of store seq %" PRIu64
			" sent (current epoch %u, previous epoch %u)",
			st.seq, st.current, st.previous);
	else
		CP_INFO("dataplane: auth key set of store seq %" PRIu64
			" sent (current epoch %u)",
			st.seq, st.current);
	return 0;
}

static void
cp_push_fail_reqs(struct cp_push *p, int rc)
{
	int any = 0;

	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < CP_PUSH_REQS; i++)
		if (p->reqs[i].state == REQ_ASKED) {
			p->reqs[i].rc = rc;
			p->reqs[i].state = REQ_DONE;
			any = 1;
		}
	pthread_mutex_unlock(&p->mu);
	if (any)
		cp_push_notify(p);
}

static void
cp_push_disconnect(struct cp_push *p, int rc)
{
	if (p->c == NULL)
		return;
	or_chan_close(p->c);
	p->c = NULL;
	pthread_mutex_lock(&p->mu);
	p->accepting = 0;
	cp_push_drop_queue_locked(p);
	pthread_mutex_unlock(&p->mu);
	p->map_head = p->map_n = 0;
	p->resync_end = 0;
	if (p->refused_chan_seq != 0) {
		unsigned k = p->refusals < 6 ? p->refusals : 6;

		p->refusals++;
		p->connect_at_ms = cp_now_ms() + ((uint64_t)p->conf.retry_ms << k);
	}
	p->refused_chan_seq = 0;
	cp_push_keys_update(p, CP_KEYS_NONE, INFO_GET(p, keys_seq), 0);
	INFO_SET(p, connected, 0);
	INFO_SET(p, syncing, 0);
	INFO_ADD(p, disconnects, 1);
	if (rc == -ESHUTDOWN)
		CP_INFO("dataplane channel closed");
	else
		CP_WARN("dataplane channel lost (%s); reconnecting in the "
			"background",
			strerror(-rc));
	cp_push_fail_reqs(p, -ENOTCONN);
	cp_push_notify(p);
}

static int
cp_push_resync_chunk(void *arg, const struct or_store_entry *e, unsigned n)
{
	struct cp_push *p = arg;
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

/* Sends a full resync from a fresh snapshot. 0 or -errno. */
static int
cp_push_resync(struct cp_push *p)
{
	const struct or_chan_peer_info *peer = or_chan_peer(p->c);
	struct or_err err = { "" };
	uint64_t gen, seq, snap = 0;
	int rc;

	pthread_mutex_lock(&p->mu);
	cp_push_drop_queue_locked(p);
	p->overflow = 0;
	p->accepting = 1;
	pthread_mutex_unlock(&p->mu);

	gen = (peer->generation > INFO_GET(p, generation) ?
		       peer->generation : INFO_GET(p, generation)) + 1;
	INFO_SET(p, generation, gen);
	INFO_SET(p, syncing, 1);
	INFO_SET(p, resync_entries, 0);
	p->resync_t0 = cp_now_ms();
	rc = or_chan_resync_begin(p->c, gen, NULL);
	if (rc < 0)
		return rc;
	rc = or_store_snapshot(p->conf.store, p->ents, p->max_ops,
			       cp_push_resync_chunk, p, &snap, &err);
	if (rc != 0) {
		if (err.msg[0] != '\0')
			CP_ERR("resync: store snapshot failed: %s", err.msg);
		return rc < 0 ? rc : -EIO;
	}
	rc = or_chan_resync_end(p->c, gen, &seq);
	if (rc < 0)
		return rc;
	p->snap_seq = snap;
	p->resync_end = seq;
	return cp_push_map_add(p, seq, snap);
}

/* Sends everything queued. 0 or -errno (connection lost). */
static int
cp_push_send_queue(struct cp_push *p)
{
	struct cp_push_item *it, *next;
	int rc = 0, overflow;

	pthread_mutex_lock(&p->mu);
	it = p->head;
	p->head = p->tail = NULL;
	p->queued = 0;
	overflow = p->overflow;
	pthread_mutex_unlock(&p->mu);

	if (overflow) {
		INFO_ADD(p, overflows, 1);
		CP_WARN("dataplane: update queue overflow, sending a full "
			"resync");
		rc = cp_push_resync(p);
	}
	for (; it != NULL; it = next) {
		next = it->next;
		if (rc == 0 && it->last_seq > p->snap_seq) {
			for (unsigned off = 0; off < it->n && rc == 0;) {
				unsigned k = it->n - off;
				uint64_t last;

				if (k > p->max_ops)
					k = p->max_ops;
				rc = or_chan_send_batch(p->c, it->ops + off, k,
							&last);
				if (rc == 0)
					rc = cp_push_map_add(p, last,
							     it->seqs[off + k - 1]);
				INFO_ADD(p, batches, 1);
				INFO_ADD(p, ops, k);
				off += k;
			}
			/* Seqs after the last op change no entry: applied
			 * once what was sent before them is. */
			if (rc == 0 && (it->n == 0 ||
					it->seqs[it->n - 1] < it->last_seq))
				rc = cp_push_map_add(p, p->table_chan_seq,
						     it->last_seq);
		}
		free(it);
	}
	return rc;
}

/* Answers asked stats requests. 0 or -errno (connection lost). */
static int
cp_push_serve_stats(struct cp_push *p)
{
	for (unsigned i = 0; i < CP_PUSH_REQS; i++) {
		struct cp_push_req *r = &p->reqs[i];
		unsigned n = 0;
		int rc, asked;

		/* Only this thread moves a request on from ASKED. */
		pthread_mutex_lock(&p->mu);
		asked = r->state == REQ_ASKED;
		pthread_mutex_unlock(&p->mu);
		if (!asked)
			continue;
		if (r->st == NULL)
			r->st = calloc(CP_PUSH_STATS_MAX, sizeof(*r->st));
		rc = r->st == NULL ? -ENOMEM
				   : or_chan_get_stats_flags(p->c, r->flags, r->st,
							     CP_PUSH_STATS_MAX, &n,
							     CP_PUSH_STATS_TIMEOUT_MS);
		pthread_mutex_lock(&p->mu);
		r->rc = rc;
		r->n = n;
		r->state = REQ_DONE;
		pthread_mutex_unlock(&p->mu);
		cp_push_notify(p);
		if (rc == -ECONNRESET || rc == -EPIPE)
			return rc;
	}
	return 0;
}

static void
cp_push_connect(struct cp_push *p)
{
	int rc = or_chan_connect(p->conf.chan_path, OR_CHAN_ROLE_CONTROL,
				 CP_PUSH_CONNECT_MS, &p->c);

	/* Only 0 means connected (and p->c set): anything else is a failure,
	 * even a result that is not a -errno (logged as EPROTO; strerror of
	 * -INT_MIN would overflow). */
	if (rc != 0) {
		if (rc > 0 || rc < -4095)
			rc = -EPROTO;
		p->c = NULL;
		if (!p->connect_logged)
			CP_NOTICE("dataplane channel %s not available (%s); "
				  "retrying every %u ms",
				  p->conf.chan_path, strerror(-rc),
				  p->conf.retry_ms);
		p->connect_logged = 1;
		return;
	}
	p->connect_logged = 0;
	p->max_ops = or_chan_peer(p->c)->max_ops;
	if (p->max_ops == 0 || p->max_ops > OR_CHAN_MAX_OPS)
		p->max_ops = OR_CHAN_MAX_OPS;
	or_chan_set_error_cb(p->c, cp_push_on_error, p);
	INFO_SET(p, dp_workers, or_chan_peer(p->c)->workers);
	INFO_ADD(p, connects, 1);
	INFO_SET(p, connected, 1);
	CP_NOTICE("dataplane connected (%u workers, %" PRIu64
		  " entries); sending the auth keys and a full resync",
		  or_chan_peer(p->c)->workers, or_chan_peer(p->c)->entries);
	/* The keys first: the table the resync builds is then never
	 * enforced with a key set older than the store's. */
	rc = cp_push_send_keys(p);
	if (rc == 0)
		rc = cp_push_resync(p);
	if (rc == 0)
		rc = cp_push_check_refused(p);
	if (rc < 0)
		cp_push_disconnect(p, rc);
	cp_push_notify(p);
}

/* A flag of struct cp_push that is under mu. */
static int
cp_push_flag(struct cp_push *p, const int *flag)
{
	int v;

	pthread_mutex_lock(&p->mu);
	v = *flag;
	pthread_mutex_unlock(&p->mu);
	return v;
}

static void *
cp_push_main(void *arg)
{
	struct cp_push *p = arg;

	while (!cp_push_flag(p, &p->stop)) {
		struct pollfd pf[2] = {
			{ .fd = p->wake_fd, .events = POLLIN },
			{ .fd = -1, .events = POLLIN },
		};
		int rc;

		if (p->c == NULL) {
			uint64_t now = cp_now_ms();
			int ms = (int)p->conf.retry_ms;

			if (now >= p->connect_at_ms)
				cp_push_connect(p);
			else
				ms = (int)(p->connect_at_ms - now);
			if (p->c == NULL) {
				cp_push_fail_reqs(p, -ENOTCONN);
				if (poll(pf, 1, ms) > 0)
					cp_push_drain(p->wake_fd);
				continue;
			}
		}
		pf[1].fd = or_chan_fd(p->c);
		if (poll(pf, 2, 1000) < 0 && errno != EINTR)
			continue;
		if (pf[0].revents & POLLIN)
			cp_push_drain(p->wake_fd);
		/* Acks first, stamped as soon as they are read: the time
		 * from commit to ack is what a "wait" reply reports. */
		rc = or_chan_poll(p->c);
		if (rc == 0)
			cp_push_update_acks(p, cp_now_us());
		if (rc == 0)
			rc = cp_push_check_refused(p);
		if (rc == 0)
			rc = cp_push_send_queue(p);
		if (rc == 0 && cp_push_flag(p, &p->keys_dirty))
			rc = cp_push_send_keys(p);
		if (rc == 0)
			rc = cp_push_serve_stats(p);
		/* Acks read while sending or waiting for counters. */
		if (rc == 0)
			cp_push_update_acks(p, cp_now_us());
		if (rc == 0)
			rc = cp_push_check_refused(p);
		if (rc < 0)
			cp_push_disconnect(p, rc);
	}
	cp_push_disconnect(p, -ESHUTDOWN);
	return NULL;
}

int
cp_push_start(const struct cp_push_conf *conf, struct cp_push **out)
{
	struct cp_push *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL)
		return -ENOMEM;
	p->conf = *conf;
	p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->ops = calloc(OR_CHAN_MAX_OPS, sizeof(*p->ops));
	p->ents = calloc(OR_CHAN_MAX_OPS, sizeof(*p->ents));
	p->max_ops = OR_CHAN_MAX_OPS;
	pthread_mutex_init(&p->mu, NULL);
	if (p->wake_fd < 0 || p->notify_fd < 0 || p->ops == NULL ||
	    p->ents == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = -pthread_create(&p->th, NULL, cp_push_main, p);
	if (rc < 0)
		goto fail;
	pthread_setname_np(p->th, "cp-channel");
	p->started = 1;
	*out = p;
	return 0;
fail:
	cp_push_stop(p);
	return rc;
}

void
cp_push_stop(struct cp_push *p)
{
	if (p == NULL)
		return;
	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_mutex_unlock(&p->mu);
		cp_push_wake(p);
		pthread_join(p->th, NULL);
	}
	cp_push_drop_queue_locked(p);
	for (unsigned i = 0; i < CP_PUSH_REQS; i++)
		free(p->reqs[i].st);
	free(p->map);
	free(p->ops);
	free(p->ents);
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	if (p->notify_fd >= 0)
		close(p->notify_fd);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
