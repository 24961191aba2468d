/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Telemetry commands of optroute-dataplane (telemetry.h): the figures of
 * figures.h, each put into the command's dict.
 *
 * DPDK 22.11 telemetry nests only arrays in dicts, so per-port and
 * per-worker detail follows the /ethdev/ convention: /optroute/ports lists
 * the port names, /optroute/ports,NAME gives one port's counters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "optroute/dp_stats.h"
#include "figures.h"
#include "log.h"
#include "telemetry.h"
#include "worker.h"

static struct or_dp *tel_dp;

/*
 * DPDK 22.11 cannot unregister a telemetry command, and its thread lives
 * until rte_eal_cleanup(), after the dataplane has freed what the commands
 * read. So every command enters through tel_enter(), and or_telemetry_stop()
 * closes the gate and waits for the commands still inside.
 */
static int tel_live;
static int tel_inside;

static int
tel_enter(void)
{
	__atomic_add_fetch(&tel_inside, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&tel_live, __ATOMIC_SEQ_CST))
		return 0;
	__atomic_sub_fetch(&tel_inside, 1, __ATOMIC_SEQ_CST);
	return -ENODEV;
}

static int
tel_leave(int rc)
{
	__atomic_sub_fetch(&tel_inside, 1, __ATOMIC_SEQ_CST);
	return rc;
}

void
or_telemetry_stop(void)
{
	__atomic_store_n(&tel_live, 0, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&tel_inside, __ATOMIC_SEQ_CST) != 0)
		usleep(1000);
}

/* Wraps a command body: fn_body(cmd, params, d) runs inside the gate. */
#define TEL_CMD(name)                                                        \
	static int name##_body(const char *cmd, const char *params,         \
			       struct rte_tel_data *d);                     \
	static int name(const char *cmd, const char *params,                \
			struct rte_tel_data *d)                             \
	{                                                                    \
		if (tel_enter() != 0)                                        \
			return -ENODEV;                                      \
		return tel_leave(name##_body(cmd, params, d));               \
	}                                                                    \
	static int name##_body(const char *cmd, const char *params,         \
			       struct rte_tel_data *d)

/* or_fig_cb: one figure into the dict d. */
static void
tel_put(void *d, const char *name, uint64_t v)
{
	rte_tel_data_add_dict_u64(d, name, v);
}

TEL_CMD(tel_stats)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	or_fig_packets(tel_dp, OR_CNT_ALL, OR_CNT_ALL, 0, tel_put, d);
	return 0;
}

TEL_CMD(tel_clear)
{
	(void)cmd;
	(void)params;
	or_cnt_clear(&tel_dp->cnt);
	OR_LOG(INFO, "counters cleared");
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "cleared", 1);
	return 0;
}

static int
find_port(const char *params)
{
	if (params == NULL)
		return -1;
	for (unsigned i = 0; i < tel_dp->n_ports; i++)
		if (strcmp(tel_dp->ports[i].name, params) == 0)
			return (int)i;
	return -1;
}

TEL_CMD(tel_ports)
{
	const struct or_dp_port *p;
	struct rte_eth_stats es;
	char buf[32];
	int i;

	(void)cmd;
	if (params == NULL || params[0] == '\0') {
		rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
		for (unsigned j = 0; j < tel_dp->n_ports; j++)
			rte_tel_data_add_array_string(d, tel_dp->ports[j].name);
		return 0;
	}
	i = find_port(params);
	if (i < 0)
		return -EINVAL;
	p = &tel_dp->ports[i];
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "port_id", p->port_id);
	rte_tel_data_add_dict_u64(d, "rx_queues", p->n_rxq);
	rte_tel_data_add_dict_u64(d, "tx_queues", p->n_txq);
	snprintf(buf, sizeof(buf), RTE_ETHER_ADDR_PRT_FMT,
		 RTE_ETHER_ADDR_BYTES(&p->pa.mac));
	rte_tel_data_add_dict_string(d, "mac", buf);
	inet_ntop(AF_INET, &p->pa.ip, buf, sizeof(buf));
	rte_tel_data_add_dict_string(d, "ip", buf);
	or_fig_packets(tel_dp, OR_CNT_ALL, i, 0, tel_put, d);
	/* The device's own view: frames it dropped before any worker saw
	 * them (imissed: RX ring full). Not affected by /optroute/clear. */
	if (rte_eth_stats_get(p->port_id, &es) == 0) {
		rte_tel_data_add_dict_u64(d, "eth_ipackets", es.ipackets);
		rte_tel_data_add_dict_u64(d, "eth_opackets", es.opackets);
		rte_tel_data_add_dict_u64(d, "eth_imissed", es.imissed);
		rte_tel_data_add_dict_u64(d, "eth_ierrors", es.ierrors);
		rte_tel_data_add_dict_u64(d, "eth_oerrors", es.oerrors);
		rte_tel_data_add_dict_u64(d, "eth_rx_nombuf", es.rx_nombuf);
	}
	return 0;
}

TEL_CMD(tel_workers)
{
	char *end;
	unsigned long lcore;
	unsigned w;

	(void)cmd;
	if (params == NULL || params[0] == '\0') {
		rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
		for (w = 0; w < tel_dp->n_workers; w++)
			rte_tel_data_add_array_int(d,
				(int)tel_dp->workers[w]->lcore_id);
		return 0;
	}
	lcore = strtoul(params, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	for (w = 0; w < tel_dp->n_workers; w++)
		if (tel_dp->workers[w]->lcore_id == lcore)
			break;
	if (w == tel_dp->n_workers)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "lcore", lcore);
	rte_tel_data_add_dict_u64(d, "rx_queues", tel_dp->workers[w]->n_rxq);
	or_fig_packets(tel_dp, (int)w, OR_CNT_ALL, 0, tel_put, d);
	or_fig_polls(tel_dp, (int)w, tel_put, d);
	or_fig_gauges(tel_dp, tel_put, d);
	return 0;
}

TEL_CMD(tel_table)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	or_fig_table(tel_dp, tel_put, d);
	return 0;
}

TEL_CMD(tel_channel)
{
	(void)cmd;
	(void)params;
	if (tel_dp->updater == NULL)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	or_fig_updater(tel_dp, tel_put, d);
	/* Workers poll RX (dp.h); they decide once synced, or with
	 * start_rx_after_sync = ack as soon as RX is on. */
	rte_tel_data_add_dict_int(d, "rx_enabled",
		__atomic_load_n(&tel_dp->rx_state, __ATOMIC_RELAXED) !=
			OR_RX_HELD);
	return 0;
}

TEL_CMD(tel_auth)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	or_fig_auth(tel_dp, tel_put, d);
	return 0;
}

int
or_telemetry_init(struct or_dp *dp)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{ "/optroute/stats", tel_stats,
		  "Dataplane counters summed over workers and ports. No parameters" },
		{ "/optroute/ports", tel_ports,
		  "Port names, or one port's counters. Parameter: port name" },
		{ "/optroute/workers", tel_workers,
		  "Worker lcores, or one worker's counters. Parameter: lcore id" },
		{ "/optroute/table", tel_table,
		  "Consent table statistics. No parameters" },
		{ "/optroute/channel", tel_channel,
		  "Update channel statistics. No parameters" },
		{ "/optroute/auth", tel_auth,
		  "Sender authentication: settings and live epochs. No parameters" },
		{ "/optroute/clear", tel_clear,
		  "Clears the dataplane counters for every reader. No parameters" },
	};
	int rc;

	tel_dp = dp;
	__atomic_store_n(&tel_live, 1, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < RTE_DIM(cmds); i++) {
		rc = rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn,
						cmds[i].help);
		if (rc != 0) {
			OR_LOG(ERR, "telemetry command %s: %s", cmds[i].cmd,
			       strerror(-rc));
			return rc;
		}
	}
	return 0;
}
