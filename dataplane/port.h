/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Ethernet ports of optroute-dataplane: any DPDK port EAL probed for a
 * [port NAME] section (PCI device or vdev). Each port gets its configured
 * RX queues (RSS spreads flows over them when there are several and the
 * device can) and one TX queue per worker lcore, so no two workers ever
 * share a queue. RX mbufs come from one pool per NUMA socket.
 */
#ifndef OR_DP_PORT_H
#define OR_DP_PORT_H

#include "dp.h"

/* Finds, configures and starts every port of dp->cfg; fills dp->ports,
 * dp->port_idx and dp->n_ports. 0 or -errno (logged). */
int or_port_init_all(struct or_dp *dp);

/* Stops and closes every started port (net_pcap flushes its files here),
 * then frees the pools. */
void or_port_close_all(struct or_dp *dp);

#endif
