/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Port set-up and tear-down (see port.h).
 */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "log.h"
#include "port.h"

#define OR_POOL_CACHE 256

static struct rte_mempool *pools[RTE_MAX_NUMA_NODES];

static int
port_socket(uint16_t port_id)
{
	int s = rte_eth_dev_socket_id(port_id);

	return s < 0 || s >= RTE_MAX_NUMA_NODES ? 0 : s;
}

/*
 * Mbufs a socket's pool must hold so that no RX ring ever starves: every
 * RX descriptor of the ports on this socket, plus what may sit in TX rings
 * (packets received here can leave by any port), in the workers' RX bursts
 * and TX buffers, and in the per-lcore caches.
 */
static unsigned
pool_size(const struct or_dp *dp, int socket)
{
	const struct or_cfg *cfg = dp->cfg;
	unsigned n = 0;

	if (cfg->mbufs != 0)
		return cfg->mbufs;
	for (unsigned i = 0; i < dp->n_ports; i++) {
		/* a send-only port may need unpolled RX queues */
		if (dp->ports[i].socket == socket)
			n += RTE_MAX(dp->ports[i].n_rxq, dp->ports[i].n_rxq == 0 ?
				     dp->ports[i].n_txq : 0) * cfg->rx_desc;
		n += dp->ports[i].n_txq * cfg->tx_desc;
	}
	n += dp->n_workers * OR_BURST * (1 + dp->n_ports);
	n += (dp->n_workers + 1) * OR_POOL_CACHE * 3 / 2;
	return n + 1024;
}

static int
pool_get(struct or_dp *dp, int socket, struct rte_mempool **out)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned n;

	if (pools[socket] == NULL) {
		n = pool_size(dp, socket);
		snprintf(name, sizeof(name), "or_mbuf_s%d", socket);
		pools[socket] = rte_pktmbuf_pool_create(name, n, OR_POOL_CACHE,
							0, RTE_MBUF_DEFAULT_BUF_SIZE,
							socket);
		if (pools[socket] == NULL) {
			OR_LOG(ERR, "mbuf pool of %u mbufs on socket %d: %s", n,
			       socket, rte_strerror(rte_errno));
			return -ENOMEM;
		}
		OR_LOG(INFO, "mbuf pool on socket %d: %u mbufs", socket, n);
	}
	*out = pools[socket];
	return 0;
}

/* Finds the DPDK port of a [port] section and sizes its queues. */
static int
port_find(struct or_dp *dp, unsigned i)
{
	const struct or_cfg_port *c = &dp->cfg->ports[i];
	struct or_dp_port *p = &dp->ports[i];
	char dev[OR_CFG_DEV_LEN];
	uint16_t id;

	or_cfg_dev_name(c, dev, sizeof(dev));
	if (rte_eth_dev_get_port_by_name(dev, &id) != 0) {
		OR_LOG(ERR, "[port %s]: no DPDK port for device '%s' (not "
		       "probed: check the driver and [eal] args)", c->name, dev);
		return -ENODEV;
	}
	snprintf(p->name, sizeof(p->name), "%s", c->name);
	p->port_id = id;
	p->socket = port_socket(id);
	p->n_rxq = c->rx_queues;
	p->n_rxq_hw = c->rx_queues;
	p->n_txq = dp->n_workers;
	dp->port_idx[id] = (uint8_t)i;
	return 0;
}

static int
port_setup(struct or_dp *dp, unsigned i)
{
	const struct or_cfg *cfg = dp->cfg;
	const struct or_cfg_port *c = &cfg->ports[i];
	struct or_dp_port *p = &dp->ports[i];
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	uint16_t nb_rxd = cfg->rx_desc, nb_txd = cfg->tx_desc;
	int promisc, rc;

	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc != 0) {
		OR_LOG(ERR, "[port %s]: device info: %s", p->name, strerror(-rc));
		return rc;
	}
	if (p->n_rxq > info.max_rx_queues || p->n_txq > info.max_tx_queues) {
		OR_LOG(ERR, "[port %s]: needs %u RX and %u TX queues (one TX "
		       "queue per worker); %s has at most %u and %u", p->name,
		       p->n_rxq, p->n_txq, info.driver_name, info.max_rx_queues,
		       info.max_tx_queues);
		return -EINVAL;
	}
	if (p->n_rxq > 1) {
		uint64_t hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) &
			      info.flow_type_rss_offloads;

		if (hf != 0) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
		} else {
			OR_LOG(WARNING, "[port %s]: %s has no RSS: %u RX queues "
			       "but the device decides which one gets what",
			       p->name, info.driver_name, p->n_rxq);
		}
	}
	rc = rte_eth_dev_configure(p->port_id, p->n_rxq, p->n_txq, &conf);
	if (rc != 0 && p->n_rxq == 0) {
		/* Some PMDs (net_tap) want as many RX as TX queues. A port
		 * that only sends can have them: nobody polls them. */
		OR_LOG(INFO, "[port %s]: %s: retrying with %u unpolled RX "
		       "queues", p->name, info.driver_name, p->n_txq);
		p->n_rxq_hw = p->n_txq;
		rc = rte_eth_dev_configure(p->port_id, p->n_rxq_hw, p->n_txq,
					   &conf);
	}
	if (rc != 0) {
		OR_LOG(ERR, "[port %s]: configure (%u RX, %u TX queues): %s%s",
		       p->name, p->n_rxq, p->n_txq, strerror(-rc),
		       p->n_rxq != p->n_txq ? " (if the driver wants as many "
		       "RX as TX queues, give the port one worker per worker "
		       "lcore)" : "");
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nb_rxd, &nb_txd);
	if (rc != 0)
		return rc;
	if (p->n_rxq_hw > 0) {
		rc = pool_get(dp, p->socket, &p->pool);
		if (rc != 0)
			return rc;
	}
	for (unsigned q = 0; q < p->n_rxq_hw; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, nb_rxd, p->socket,
					    NULL, p->pool);
		if (rc != 0) {
			OR_LOG(ERR, "[port %s]: RX queue %u: %s", p->name, q,
			       strerror(-rc));
			return rc;
		}
	}
	for (unsigned q = 0; q < p->n_txq; q++) {
		rc = rte_eth_tx_queue_setup(p->port_id, q, nb_txd, p->socket,
					    NULL);
		if (rc != 0) {
			OR_LOG(ERR, "[port %s]: TX queue %u: %s", p->name, q,
			       strerror(-rc));
			return rc;
		}
	}

	promisc = c->promiscuous;
	if (c->has_mac) {
		memcpy(mac.addr_bytes, c->mac, RTE_ETHER_ADDR_LEN);
		rc = rte_eth_dev_default_mac_addr_set(p->port_id, &mac);
		if (rc != 0 && !promisc) {
			/* Frames to the configured MAC must still come in. */
			OR_LOG(WARNING, "[port %s]: cannot set the MAC (%s): "
			       "promiscuous mode on instead", p->name,
			       strerror(-rc));
			promisc = 1;
		}
	} else {
		rc = rte_eth_macaddr_get(p->port_id, &mac);
		if (rc != 0)
			return rc;
	}
	rc = promisc ? rte_eth_promiscuous_enable(p->port_id) :
		       rte_eth_promiscuous_disable(p->port_id);
	if (rc != 0 && rc != -ENOTSUP)
		OR_LOG(WARNING, "[port %s]: promiscuous mode %s: %s", p->name,
		       promisc ? "on" : "off", strerror(-rc));

	p->pa.mac = mac;
	p->pa.ip = c->ip;
	p->pa.udp_port = rte_cpu_to_be_16(cfg->udp_port);
	p->pa.version = cfg->auth ? OR_PROTO_V2 : OR_PROTO_V1;
	p->pa.mtu = (uint16_t)c->mtu;

	rc = rte_eth_dev_start(p->port_id);
	if (rc != 0) {
		OR_LOG(ERR, "[port %s]: start: %s", p->name, strerror(-rc));
		return rc;
	}
	p->started = 1;
	OR_LOG(INFO, "[port %s]: DPDK port %u (%s), %u RX / %u TX queues, MAC "
	       RTE_ETHER_ADDR_PRT_FMT "%s", p->name, p->port_id,
	       info.driver_name, p->n_rxq, p->n_txq,
	       RTE_ETHER_ADDR_BYTES(&mac),
	       conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS ? ", RSS" : "");
	return 0;
}

int
or_port_init_all(struct or_dp *dp)
{
	int rc;

	dp->n_ports = dp->cfg->n_ports;
	for (unsigned i = 0; i < dp->n_ports; i++) {
		rc = port_find(dp, i);
		if (rc != 0)
			return rc;
	}
	for (unsigned i = 0; i < dp->n_ports; i++) {
		rc = port_setup(dp, i);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void
or_port_close_all(struct or_dp *dp)
{
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct or_dp_port *p = &dp->ports[i];

		if (p->name[0] == '\0')
			continue; /* never found */
		if (p->started) {
			rte_eth_dev_stop(p->port_id);
			p->started = 0;
		}
		rte_eth_dev_close(p->port_id);
	}
	for (unsigned s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		rte_mempool_free(pools[s]);
		pools[s] = NULL;
	}
}
