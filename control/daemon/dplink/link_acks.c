/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What the dataplane acknowledged or refused, in store seqs (cp_link.h):
 * the map from sent channel messages to store seqs, acks, ack times, and
 * the dataplane's ERRORs.
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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "control/daemon/cp_log.h"

#include "link_priv.h"

int
cp_link_map_add(struct cp_link *p, uint64_t chan_seq, uint64_t store_seq)
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
		(struct cp_link_map){ chan_seq, store_seq };
	p->table_chan_seq = chan_seq;
	if (store_seq > INFO_GET(p, sent_seq))
		INFO_SET(p, sent_seq, store_seq);
	return 0;
}

uint64_t
cp_link_ack_time(struct cp_link *p, uint64_t seq)
{
	uint64_t oldest, lo, hi, t = 0;

	pthread_mutex_lock(&p->mu);
	hi = p->ack_n;
	oldest = hi > CP_LINK_ACK_TIMES ? hi - CP_LINK_ACK_TIMES : 0;
	lo = oldest;
	/* Acked seqs only grow: find the first advance that reached seq. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (p->ack_times[mid & (CP_LINK_ACK_TIMES - 1)].seq >= seq)
			hi = mid;
		else
			lo = mid + 1;
	}
	/* Unknown if not acked yet, or if the advance found is the oldest
	 * kept and older ones were overwritten (the first may be lost). */
	if (lo < p->ack_n && (lo > oldest || oldest == 0))
		t = p->ack_times[lo & (CP_LINK_ACK_TIMES - 1)].us;
	pthread_mutex_unlock(&p->mu);
	return t;
}

/* now_us: when the acks now in the client were read. */
void
cp_link_update_acks(struct cp_link *p, uint64_t now_us)
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
		p->ack_times[p->ack_n++ & (CP_LINK_ACK_TIMES - 1)] =
			(struct cp_link_ack_time){ store, now_us };
		pthread_mutex_unlock(&p->mu);
		INFO_SET(p, acked_seq, store);
	}
	if (INFO_GET(p, keys_state) == CP_KEYS_PENDING &&
	    acked >= p->keys_chan_seq) {
		cp_link_keys_update(p, CP_KEYS_ACKED, INFO_GET(p, keys_seq), 0);
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
		cp_link_notify(p);
}

void
cp_link_on_error(void *arg, const struct or_chan_err_info *e)
{
	struct cp_link *p = arg;

	INFO_ADD(p, errors, 1);
	/* The dataplane's text never holds a number, a token or a key. */
	CP_WARN("dataplane reported error %d (%s) seq %" PRIu64 ": %s",
		e->code, strerror(e->code), e->seq, e->text);
	/* An ERROR naming the AUTH_KEYS seq, or the one a dataplane that
	 * does not know the message answers (no seq: it took none), comes
	 * before any ACK that covers the set: it is refused. */
	if (INFO_GET(p, keys_state) == CP_KEYS_PENDING &&
	    (e->seq == p->keys_chan_seq ||
	     (e->seq == OR_CHAN_NO_SEQ && e->code == EOPNOTSUPP))) {
		cp_link_keys_update(p, CP_KEYS_REFUSED, INFO_GET(p, keys_seq),
				    (uint64_t)e->code);
		CP_WARN("dataplane refused the auth key set of store seq %" PRIu64
			" (%s): sender keys are not enforced",
			INFO_GET(p, keys_seq), strerror(e->code));
		cp_link_notify(p);
		return;
	}
	/* Any other seq is a table message's: see "A refused table message"
	 * at the top. */
	if (e->seq != OR_CHAN_NO_SEQ && e->seq != p->keys_chan_seq &&
	    (p->refused_chan_seq == 0 || e->seq < p->refused_chan_seq))
		p->refused_chan_seq = e->seq;
}

/* -ECANCELED once the dataplane refused a table message, else 0. */
int
cp_link_check_refused(struct cp_link *p)
{
	if (p->refused_chan_seq == 0)
		return 0;
	CP_WARN("dataplane did not apply channel message %" PRIu64
		" (its error is above): acked store seq held at %" PRIu64
		"; a full resync follows on a new connection",
		p->refused_chan_seq, INFO_GET(p, acked_seq));
	return -ECANCELED;
}
