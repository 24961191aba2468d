/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The worker loop (see worker.h). Per burst: classify every frame, gather
 * the sender and recipient tokens of all MSGs, look them all up with ONE
 * ct_lookup_bulk() (it pipelines the bucket prefetches), then decide and
 * rewrite each MSG and queue it on the TX buffer of its egress port.
 * TX buffers are drained once per loop, so a frame waits at most one loop.
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
#include "log.h"
#include "worker.h"

/* How far ahead of the frame being classified its data is prefetched. */
#define OR_PREFETCH 4

static_assert(2 * OR_BURST <= CT_BULK_MAX, "one bulk lookup per burst");

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

/* One RX burst of one queue. Returns the number of frames received. */
static inline unsigned
worker_rx(struct or_worker *w, const struct or_rxq *q)
{
	struct rte_mbuf *pkts[OR_BURST];
	struct rte_mbuf *drops[OR_BURST];
	struct or_pkt_info info[OR_BURST];
	const struct or_token *keys[2 * OR_BURST];
	uint32_t recs[2 * OR_BURST];
	uint8_t msg[OR_BURST];
	uint64_t *c = w->cnt[q->port_idx].v;
	unsigned n, i, k, nmsg = 0, ndrop = 0;

	n = rte_eth_rx_burst(q->port_id, q->queue_id, pkts, OR_BURST);
	if (n == 0)
		return 0;
	c[OR_CNT_RX] += n;

	for (i = 0; i < n && i < OR_PREFETCH; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
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
		switch (or_pkt_classify(f, m->data_len, &q->pa, &info[i])) {
		case OR_PKT_MSG:
			keys[2 * nmsg] = info[i].sender;
			keys[2 * nmsg + 1] = info[i].recipient;
			msg[nmsg++] = (uint8_t)i;
			break;
		case OR_PKT_ARP_REQUEST:
			if (or_arp_reply(f, m->data_len, &q->pa) == 0) {
				c[OR_CNT_ARP_REPLIES]++;
				worker_tx(w, q->port_id, m);
			} else {
				c[OR_CNT_DROP(OR_DROP_BAD_ARP)]++;
				drops[ndrop++] = m;
			}
			break;
		default:
			c[drop_cnt(info[i].reason)]++;
			drops[ndrop++] = m;
			break;
		}
	}

	if (nmsg != 0) {
		/* The table pointer is read (rcu_dereference) inside. */
		ct_lookup_bulk(w->table, keys, 2 * nmsg, recs);
		for (k = 0; k < nmsg; k++) {
			struct rte_mbuf *m = pkts[msg[k]];
			uint16_t len = m->data_len, out = 0;
			enum or_drop_reason reason = OR_DROP_NONE;

			switch (or_pkt_decide(rte_pktmbuf_mtod(m, uint8_t *),
					      &len, &info[msg[k]], recs[2 * k],
					      recs[2 * k + 1], w->nh,
					      w->nh_count, &q->pa, &out,
					      &reason)) {
			case OR_ACT_DELIVER:
				mbuf_trim(m, len);
				c[OR_CNT_DELIVERED]++;
				worker_tx(w, out, m);
				break;
			case OR_ACT_BOUNCE:
				mbuf_trim(m, len);
				c[OR_CNT_BOUNCED]++;
				worker_tx(w, q->port_id, m);
				break;
			default:
				c[drop_cnt(reason)]++;
				drops[ndrop++] = m;
				break;
			}
		}
	}
	if (ndrop != 0)
		rte_pktmbuf_free_bulk(drops, ndrop);
	return n;
}

/* Sleeps as an offline QSBR reader, so no grace period waits for us. */
static void
worker_sleep(unsigned us)
{
	rcu_thread_offline();
	usleep(us);
	rcu_thread_online();
}

int
or_worker_main(void *arg)
{
	struct or_worker *w = arg;

	rcu_register_thread();
	OR_LOG(INFO, "worker %u on lcore %u: %u RX queue(s)", w->idx,
	       w->lcore_id, w->n_rxq);
	while (!__atomic_load_n(w->quit, __ATOMIC_RELAXED)) {
		unsigned got = 0;

		if (unlikely(!__atomic_load_n(w->rx_enabled, __ATOMIC_ACQUIRE))) {
			/* Held until the table is synced; not the hot path. */
			rcu_quiescent_state();
			worker_sleep(1000);
			continue;
		}
		for (unsigned q = 0; q < w->n_rxq; q++)
			got += worker_rx(w, &w->rxq[q]);
		worker_drain(w);
		rcu_quiescent_state();
		if (got == 0 && w->idle_sleep_us != 0)
			worker_sleep(w->idle_sleep_us);
	}
	worker_drain(w);
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
	w->rx_enabled = &dp->rx_enabled;
	w->idle_sleep_us = cfg->idle_sleep_us;
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
