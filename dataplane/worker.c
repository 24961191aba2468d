/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The worker loop (see worker.h). Per poll of a queue: receive and
 * classify a burst, gathering the sender and recipient tokens of all its
 * MSGs, and hold it; then, in ONE table pass (ct_lookup_step), read and
 * finish the lookup of the burst held since the previous poll and start
 * this one's (hashes, bucket prefetches). Each MSG of the finished burst
 * is decided, rewritten and queued on the TX buffer of its egress port, in
 * arrival order with the held ARP replies, except version-2 bounces: they
 * are signed together (eight at a time) and queued after the burst's
 * other frames. So a burst's bucket lines load
 * while the worker handles the previous burst and polls again; a MSG waits
 * at most one more loop. TX buffers are drained once per loop.
 */
#include <assert.h>
#include <errno.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <urcu-qsbr.h>

#include "optroute/ctable.h"
#include "auth/auth_clock.h"
#include "auth/budget.h"
#include "auth/replay.h"
#include "log.h"
#include "pkt/pkt_classify.h"
#include "pkt/pkt_decide.h"
#include "worker.h"

/* How far ahead of the frame being classified its data is prefetched. */
#define OR_PREFETCH 4

static_assert(2 * OR_BURST <= CT_BULK_MAX, "one bulk lookup per burst");
static_assert(offsetof(struct or_hdr, recipient) ==
	      offsetof(struct or_hdr, sender) + sizeof(struct or_token),
	      "recipient token right after the sender's");

/* TX buffer error callback: frames the TX queue did not take (ring full). */
static void
tx_unsent(struct rte_mbuf **pkts, uint16_t unsent, void *userdata)
{
	struct or_cnt_block *b = userdata;

	b->v[OR_CNT_DROP(OR_DROP_TX_FULL)] += unsent;
	rte_pktmbuf_free_bulk(pkts, unsent);
}

static inline void
worker_tx(struct or_worker *w, uint16_t port_id, struct rte_mbuf *m)
{
	uint16_t sent = rte_eth_tx_buffer(port_id, w->idx, w->txb[port_id], m);

	if (sent != 0)
		w->cnt[w->port_idx[port_id]].v[OR_CNT_TX] += sent;
}

static inline void
worker_drain(struct or_worker *w)
{
	for (unsigned j = 0; j < w->n_ports; j++) {
		uint16_t p = w->port_ids[j];
		uint16_t sent = rte_eth_tx_buffer_flush(p, w->idx, w->txb[p]);

		if (sent != 0)
			w->cnt[j].v[OR_CNT_TX] += sent;
	}
}

/* Counter of a drop reason from the pkt module; an out-of-range value
 * (a bug there) must not write past the counter block. */
static inline unsigned
drop_cnt(unsigned reason)
{
	if (unlikely(reason == OR_DROP_NONE || reason >= OR_DROP_MAX))
		reason = OR_DROP_BAD_TYPE;
	return OR_CNT_DROP(reason);
}

static inline void
mbuf_trim(struct rte_mbuf *m, uint16_t len)
{
	m->data_len = len;
	m->pkt_len = len;
}

/* Frame j of h back into L1 for its decision: its mbuf and the headers
 * classify read. Since then the PMD copied a whole burst in and the table
 * pass ran, and L1 is 32 KiB. */
static inline void
held_prefetch(const struct or_held *h, unsigned j)
{
	const struct rte_mbuf *m = h->pkts[j];

	rte_prefetch0(m);
	rte_prefetch0((const uint8_t *)m->buf_addr + m->data_off);
}

/* The lookup keys of MSG k of h, whose sender token is at sender: the
 * recipient follows the sender in the header, so one pointer gives both
 * (loading the two pointers classify stored as one vector stalls store
 * forwarding). */
static inline void
held_keys_set(struct or_held *h, unsigned k, const struct or_token *sender)
{
	h->keys[2 * k] = sender;
	h->keys[2 * k + 1] = sender + 1;
}

/* Sends the held frames h of a queue in order: ARP replies as they are,
 * MSGs once their lookup is read and finished here and they are decided
 * and rewritten. The same table pass starts next's lookup (the burst just
 * received; NULL when draining): ct_lookup_step. */
static inline void
worker_finish(struct or_worker *w, const struct or_rxq *q, struct or_held *h,
	      struct or_held *next)
{
	struct rte_mbuf *drops[OR_BURST];
	/* Version-2 bounces, signed together after the loop. */
	struct rte_mbuf *sig_pkt[OR_BURST];
	const uint8_t *sig_hdr[OR_BURST];
	uint8_t sig_k[OR_BURST];
	int8_t sig_slot[OR_BURST];
	uint64_t sig_tag[OR_BURST];
	unsigned nsig = 0;
	const uint32_t *recs = h->lookup.recs;
	uint64_t *c = w->cnt[q->port_idx].v;
	struct ct_burst *hb = h->nmsg != 0 ? &h->lookup : NULL;
	unsigned ndrop = 0, k = 0;
	uint64_t mono_ms = w->budget != NULL ? or_auth_mono_ms() : 0;

	if (next != NULL && next->nmsg == 0)
		next = NULL;
	ct_lookup_step(w->table, hb, hb, next != NULL ? next->keys : NULL,
		       next != NULL ? 2 * next->nmsg : 0,
		       next != NULL ? &next->lookup : NULL);
	/* The records are read: the MSGs that will bounce (sender IN,
	 * recipient not) are known, and their charges' buckets are loaded
	 * while the MSGs before them are decided. */
	if (w->budget != NULL)
		for (unsigned i = 0; i < h->nmsg; i++)
			if (or_rec_state(recs[2 * i]) == OR_STATE_IN &&
			    or_rec_state(recs[2 * i + 1]) != OR_STATE_IN)
				or_budget_prefetch_charge_at(w->budget,
							     h->bhash[i]);
	for (unsigned j = 0; j < h->n && j < OR_PREFETCH; j++)
		held_prefetch(h, j);
	for (unsigned j = 0; j < h->n; j++) {
		struct rte_mbuf *m = h->pkts[j];
		uint16_t len = m->data_len, out = 0;
		enum or_drop_reason reason = OR_DROP_NONE;
		int8_t slot = -1;
		int over;

		if (j + OR_PREFETCH < h->n)
			held_prefetch(h, j + OR_PREFETCH);

		if (!h->is_msg[j]) {
			worker_tx(w, q->port_id, m);
			continue;
		}
		/* Whether the sender is over budget comes from its bucket
		 * alone, before the recipient is looked at (budget.h). */
		over = w->budget != NULL &&
		       or_rec_state(recs[2 * k]) == OR_STATE_IN &&
		       or_budget_over_at(w->budget, h->info[k].sender,
					 h->bhash[k], mono_ms);
		switch (or_pkt_decide_defer(rte_pktmbuf_mtod(m, uint8_t *),
					    &len, &h->info[k], recs[2 * k],
					    recs[2 * k + 1], w->nh, w->nh_count,
					    &q->pa, w->kr, over, &out, &reason,
					    &slot)) {
		case OR_VERDICT_DELIVER:
			mbuf_trim(m, len);
			c[OR_CNT_DELIVERED]++;
			worker_tx(w, out, m);
			break;
		case OR_VERDICT_BOUNCE:
			/* The sender token is still where classify found it. */
			if (w->budget != NULL)
				or_budget_charge_at(w->budget, h->info[k].sender,
						    h->bhash[k], mono_ms);
			mbuf_trim(m, len);
			c[OR_CNT_BOUNCED]++;
			goto bounce;
		case OR_VERDICT_OVER_BUDGET:
			mbuf_trim(m, len);
			c[OR_CNT_OVER_BUDGET]++;
		bounce:
			if (slot < 0) { /* version 1: complete */
				worker_tx(w, q->port_id, m);
				break;
			}
			sig_pkt[nsig] = m;
			sig_hdr[nsig] = (const uint8_t *)or_pkt_hdr2_of(
				rte_pktmbuf_mtod(m, uint8_t *), &h->info[k]);
			sig_k[nsig] = (uint8_t)k;
			sig_slot[nsig++] = slot;
			break;
		default:
			c[drop_cnt(reason)]++;
			drops[ndrop++] = m;
			break;
		}
		k++;
	}
	/* The version-2 bounces' tags, eight at a time, then their
	 * checksums (which cover the tag), then out after the burst's
	 * other frames. */
	if (nsig != 0) {
		or_auth_tag_burst(w->kr, sig_hdr, sig_slot, nsig, sig_tag);
		for (unsigned i = 0; i < nsig; i++) {
			(void)or_pkt_bounce2_finish(
				rte_pktmbuf_mtod(sig_pkt[i], uint8_t *),
				&h->info[sig_k[i]], &q->pa, sig_tag[i]);
			worker_tx(w, q->port_id, sig_pkt[i]);
		}
	}
	h->n = 0;
	h->nmsg = 0;
	if (ndrop != 0)
		rte_pktmbuf_free_bulk(drops, ndrop);
}

/* Send times and the window, then the replay filter for what is left, in
 * one burst call (its buckets prefetched first). */
static inline void
worker_replay(struct or_worker *w, const uint8_t *const *hdr, unsigned n,
	      uint8_t *verdict, uint64_t now)
{
	uint64_t st[OR_BURST], tag[OR_BURST];
	unsigned idx[OR_BURST], m = 0;
	uint8_t res[OR_BURST];

	for (unsigned i = 0; i < n; i++) {
		uint64_t t;

		if (verdict[i] != OR_AUTH_OK)
			continue;
		t = rte_be_to_cpu_64(((const struct or_hdr2 *)hdr[i])->send_time);
		if (t + w->window_ms < now || t > now + w->window_ms) {
			verdict[i] = OR_AUTH_STALE;
			continue;
		}
		st[m] = t;
		tag[m] = or_sip_load64(hdr[i] + OR_HDR2_TAG_OFF);
		idx[m++] = i;
	}
	if (m == 0 || w->replay == NULL)
		return;
	or_replay_check_burst(w->replay, m, st, tag, now, res);
	for (unsigned j = 0; j < m; j++)
		verdict[idx[j]] = res[j] == OR_REPLAY_NEW ? OR_AUTH_OK :
				  res[j] == OR_REPLAY_SEEN ? OR_AUTH_REPLAY :
				  res[j] == OR_REPLAY_FULL ? OR_AUTH_REPLAY_FULL :
							     OR_AUTH_STALE;
}

/* Version 2, before any lookup: the tag of every MSG of h is verified
 * (eight at a time), its send time checked against the window and the
 * replay filter asked; a MSG that fails is dropped here, counted, and
 * never looked up or bounced. The held frames keep their order. */
static inline void
worker_authenticate(struct or_worker *w, struct or_held *h, uint64_t *c,
		    struct rte_mbuf **drops, unsigned *ndrop)
{
	static const uint8_t drop_of[] = {
		[OR_AUTH_OK] = OR_DROP_NONE,
		[OR_AUTH_BAD_TAG] = OR_DROP_BAD_TAG,
		[OR_AUTH_UNKNOWN_EPOCH] = OR_DROP_UNKNOWN_EPOCH,
		[OR_AUTH_STALE] = OR_DROP_STALE,
		[OR_AUTH_REPLAY] = OR_DROP_REPLAY,
		[OR_AUTH_REPLAY_FULL] = OR_DROP_REPLAY_FULL,
	};
	const uint8_t *hdr[OR_BURST];
	uint8_t verdict[OR_BURST];
	unsigned nheld = 0, nmsg = 0, k = 0;

	for (unsigned i = 0; i < h->nmsg; i++)
		hdr[i] = (const uint8_t *)(h->info[i].sender) -
			 OR_HDR2_SENDER_OFF;
	or_auth_verify_burst(w->kr, hdr, h->nmsg, verdict);
	if (w->window_ms != 0)
		worker_replay(w, hdr, h->nmsg, verdict, or_auth_now_ms());
	for (unsigned j = 0; j < h->n; j++) {
		struct rte_mbuf *m = h->pkts[j];
		enum or_drop_reason r = OR_DROP_NONE;

		if (h->is_msg[j]) {
			r = (enum or_drop_reason)drop_of[verdict[k]];
			if (r != OR_DROP_NONE) {
				c[OR_CNT_DROP(r)]++;
				drops[(*ndrop)++] = m;
				k++;
				continue;
			}
			/* Moved down only behind a drop (rare). */
			if (nmsg != k) {
				h->info[nmsg] = h->info[k];
				held_keys_set(h, nmsg, h->info[nmsg].sender);
			}
			nmsg++;
			k++;
		}
		h->is_msg[nheld] = h->is_msg[j];
		h->pkts[nheld++] = m;
	}
	h->n = nheld;
	h->nmsg = nmsg;
	/* The senders' hints (their hashes kept for the check and the
	 * charge); keys[] holds sender, recipient, sender, ... */
	if (w->budget != NULL && nmsg != 0) {
		const struct or_token *snd[OR_BURST];

		for (unsigned i = 0; i < nmsg; i++)
			snd[i] = h->keys[2 * i];
		or_budget_prefetch_burst(w->budget, snd, nmsg, h->bhash);
	}
}

/* Receives and classifies one burst: MSGs (and their tokens) and ARP
 * replies go to h, the rest is dropped at once. With decide false (the
 * table is not synced yet) MSGs are dropped too, as not_synced, before
 * any authentication (a MSG refused now must not enter the replay filter:
 * the phone may send it again later). Used through the two copies below,
 * so the hot path's has no trace of the flag.
 * Returns the number of frames received. */
static __rte_always_inline unsigned
worker_rx(struct or_worker *w, const struct or_rxq *q, struct or_held *h,
	  const bool decide)
{
	struct rte_mbuf *pkts[OR_BURST];
	struct rte_mbuf *drops[OR_BURST];
	uint64_t *c = w->cnt[q->port_idx].v;
	unsigned n, i, nheld = 0, nmsg = 0, ndrop = 0;

	n = rte_eth_rx_burst(q->port_id, q->queue_id, pkts, OR_BURST);
	if (n == 0)
		return 0;
	c[OR_CNT_RX] += n;

	for (i = 0; i < n && i < OR_PREFETCH; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct or_pkt_info *info = &h->info[nmsg];
		uint8_t *f;

		if (i + OR_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + OR_PREFETCH],
						       void *));
		if (unlikely(m->nb_segs != 1)) {
			c[OR_CNT_DROP(OR_DROP_MULTI_SEG)]++;
			drops[ndrop++] = m;
			continue;
		}
		f = rte_pktmbuf_mtod(m, uint8_t *);
		switch (or_pkt_classify(f, m->data_len, &q->pa, info)) {
		case OR_PKT_MSG:
			if (!decide) {
				c[OR_CNT_DROP(OR_DROP_NOT_SYNCED)]++;
				drops[ndrop++] = m;
				break;
			}
			held_keys_set(h, nmsg, info->sender);
			nmsg++;
			h->is_msg[nheld] = true;
			h->pkts[nheld++] = m;
			break;
		case OR_PKT_ARP_REQUEST:
			if (or_arp_reply(f, m->data_len, &q->pa) == 0) {
				c[OR_CNT_ARP_REPLIES]++;
				h->is_msg[nheld] = false;
				h->pkts[nheld++] = m;
			} else {
				c[OR_CNT_DROP(OR_DROP_BAD_ARP)]++;
				drops[ndrop++] = m;
			}
			break;
		default:
			c[drop_cnt(info->reason)]++;
			drops[ndrop++] = m;
			break;
		}
	}
	h->n = nheld;
	h->nmsg = nmsg;
	if (decide && w->auth != NULL && nmsg != 0)
		worker_authenticate(w, h, c, drops, &ndrop);
	if (ndrop != 0)
		rte_pktmbuf_free_bulk(drops, ndrop);
	return n;
}

/* The hot path's copy, out of line as the compiler kept worker_rx before
 * there were two (docs/benchmarks/dataplane.md measured that layout). */
static __rte_noinline unsigned
worker_rx_decide(struct or_worker *w, const struct or_rxq *q,
		 struct or_held *h)
{
	return worker_rx(w, q, h, true);
}

/* Before the table is synced (worker_hold_off). */
static __rte_noinline unsigned
worker_rx_hold(struct or_worker *w, const struct or_rxq *q, struct or_held *h)
{
	return worker_rx(w, q, h, false);
}

/* One poll of a queue: receive burst k+1 into the free slot, then finish
 * burst k (held since the previous poll, so a MSG waits at most one loop)
 * while starting k+1's lookup. */
static inline unsigned
worker_poll(struct or_worker *w, struct or_rxq *q)
{
	struct or_held *next = &q->held[q->cur ^ 1];
	unsigned got = worker_rx_decide(w, q, next);

	worker_finish(w, q, &q->held[q->cur], next);
	q->cur ^= 1;
	return got;
}

/* Frames held in any queue's pipeline. */
static bool
worker_holding(const struct or_worker *w)
{
	for (unsigned q = 0; q < w->n_rxq; q++)
		for (unsigned i = 0; i < OR_HELD; i++)
			if (w->rxq[q].held[i].n != 0)
				return true;
	return false;
}

/* Finishes every held burst (before the worker stops or pauses). */
static void
worker_flush_held(struct or_worker *w)
{
	for (unsigned q = 0; q < w->n_rxq; q++) {
		struct or_rxq *rq = &w->rxq[q];

		worker_finish(w, rq, &rq->held[rq->cur], NULL);
	}
	worker_drain(w);
}

/* Charges the loop that ends now to the worker's poll counters
 * (counters.h): busy if it received anything. */
static inline void
worker_account(uint64_t *polls, unsigned got, uint64_t *last)
{
	uint64_t now = rte_rdtsc();

	if (got != 0) {
		polls[OR_POLL_BUSY_POLLS]++;
		polls[OR_POLL_BUSY_CYCLES] += now - *last;
	} else {
		polls[OR_POLL_IDLE_POLLS]++;
		polls[OR_POLL_IDLE_CYCLES] += now - *last;
	}
	*last = now;
}

/* Sleeps as an offline QSBR reader, so no grace period waits for us. */
static void
worker_sleep(unsigned us)
{
	rcu_thread_offline();
	usleep(us);
	rcu_thread_online();
}

/* One loop before the table is synced (state, enum or_rx_state, is not
 * OR_RX_DECIDE): nothing is looked up and no MSG is decided. RX held:
 * nothing is polled. Not synced: every queue is polled, ARP requests are
 * answered (neighbours keep the appliance resolved, so traffic flows the
 * moment it is synced) and MSGs are dropped as not_synced; nothing is
 * held across loops. Out of line: the loop's hot code stays as compact as
 * before. Returns the number of frames received. */
static __rte_noinline unsigned
worker_hold_off(struct or_worker *w, int state)
{
	unsigned got = 0;

	/* None: the state only moves towards OR_RX_DECIDE. */
	if (worker_holding(w))
		worker_flush_held(w);
	if (state == OR_RX_HELD) {
		worker_sleep(1000);
		return 0;
	}
	for (unsigned i = 0; i < w->n_rxq; i++) {
		struct or_rxq *q = &w->rxq[i];
		struct or_held *h = &q->held[q->cur];

		got += worker_rx_hold(w, q, h);
		for (unsigned j = 0; j < h->n; j++) /* ARP replies only */
			worker_tx(w, q->port_id, h->pkts[j]);
		h->n = 0;
		h->nmsg = 0;
	}
	worker_drain(w);
	if (got == 0 && w->idle_sleep_us != 0)
		worker_sleep(w->idle_sleep_us);
	return got;
}

int
or_worker_main(void *arg)
{
	struct or_worker *w = arg;
	uint64_t *polls = w->cnt[w->n_ports].v;
	uint64_t last;

	rcu_register_thread();
	OR_LOG(INFO, "worker %u on lcore %u: %u RX queue(s)", w->idx,
	       w->lcore_id, w->n_rxq);
	last = rte_rdtsc();
	while (!__atomic_load_n(w->quit, __ATOMIC_RELAXED)) {
		unsigned got = 0;
		int state = __atomic_load_n(w->rx_state, __ATOMIC_ACQUIRE);

		/* Valid until this loop's quiescent state. */
		if (w->auth != NULL)
			w->kr = or_keyring_get(w->auth);
		/* The loop's one test of the sync state, as predictable as
		 * the quit test: the per-burst path never sees it. */
		if (unlikely(state != OR_RX_DECIDE)) {
			got = worker_hold_off(w, state);
			rcu_quiescent_state();
			worker_account(polls, got, &last);
			continue;
		}
		for (unsigned q = 0; q < w->n_rxq; q++)
			got += worker_poll(w, &w->rxq[q]);
		worker_drain(w);
		rcu_quiescent_state();
		/* Not while frames are held: idle polls finish them. */
		if (got == 0 && w->idle_sleep_us != 0 && !worker_holding(w))
			worker_sleep(w->idle_sleep_us);
		worker_account(polls, got, &last);
	}
	if (w->auth != NULL)
		w->kr = or_keyring_get(w->auth);
	worker_flush_held(w);
	rcu_unregister_thread();
	return 0;
}

void
or_worker_free(struct or_worker *w)
{
	if (w == NULL)
		return;
	for (unsigned p = 0; p < RTE_MAX_ETHPORTS; p++)
		rte_free(w->txb[p]);
	rte_free(w);
}

int
or_worker_create(struct or_dp *dp, unsigned idx, struct or_worker **out)
{
	const struct or_cfg *cfg = dp->cfg;
	unsigned lcore = cfg->workers[idx];
	int socket = (int)rte_lcore_to_socket_id(lcore);
	struct or_worker *w;

	w = rte_zmalloc_socket("or_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
			       socket);
	if (w == NULL)
		return -ENOMEM;
	w->idx = idx;
	w->lcore_id = lcore;
	w->cnt = dp->cnt.live[idx];
	w->nh = dp->nh;
	w->nh_count = dp->nh_count;
	w->table = dp->table;
	w->quit = &dp->quit;
	w->rx_state = &dp->rx_state;
	w->idle_sleep_us = cfg->idle_sleep_us;
	if (cfg->auth) {
		w->auth = &dp->auth;
		w->window_ms = cfg->auth_time_checks ?
				       (uint64_t)cfg->time_window_s * 1000 : 0;
		w->budget = dp->budget;
		w->replay = dp->replay;
	}
	w->n_ports = dp->n_ports;
	memcpy(w->port_idx, dp->port_idx, sizeof(w->port_idx));

	for (unsigned i = 0; i < dp->n_ports; i++) {
		const struct or_cfg_port *cp = &cfg->ports[i];
		const struct or_dp_port *p = &dp->ports[i];
		struct rte_eth_dev_tx_buffer *b;

		for (unsigned q = 0; q < cp->n_workers; q++) {
			if (cp->workers[q] != lcore)
				continue;
			w->rxq[w->n_rxq++] = (struct or_rxq){
				.port_id = p->port_id,
				.queue_id = (uint16_t)q,
				.port_idx = (uint16_t)i,
				.pa = p->pa,
			};
		}
		w->port_ids[i] = p->port_id;
		b = rte_zmalloc_socket("or_txbuf", RTE_ETH_TX_BUFFER_SIZE(OR_BURST),
				       0, socket);
		if (b == NULL) {
			or_worker_free(w);
			return -ENOMEM;
		}
		w->txb[p->port_id] = b;
		rte_eth_tx_buffer_init(b, OR_BURST);
		rte_eth_tx_buffer_set_err_callback(b, tx_unsent, &w->cnt[i]);
	}
	*out = w;
	return 0;
}
