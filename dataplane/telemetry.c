/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Telemetry commands and channel STATS of optroute-dataplane (telemetry.h).
 *
 * DPDK 22.11 telemetry nests only arrays in dicts, so per-port and
 * per-worker detail follows the /ethdev/ convention: /optroute/ports lists
 * the port names, /optroute/ports,NAME gives one port's counters.
 * Every counter read goes through or_cnt_read(), so /optroute/clear is
 * seen by every reader (telemetry and channel alike).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "optroute/auth_stats.h"
#include "optroute/ctable.h"
#include "auth/auth_clock.h"
#include "auth/budget.h"
#include "auth/replay.h"
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

static void
dict_counters(struct rte_tel_data *d, const uint64_t *v, uint64_t drops)
{
	for (unsigned k = 0; k < OR_CNT_NUM; k++)
		rte_tel_data_add_dict_u64(d, or_cnt_name(k), v[k]);
	rte_tel_data_add_dict_u64(d, "dropped", drops);
}

TEL_CMD(tel_stats)
{
	uint64_t v[OR_CNT_NUM], drops;

	(void)cmd;
	(void)params;
	drops = or_cnt_read(&tel_dp->cnt, OR_CNT_ALL, OR_CNT_ALL, v);
	rte_tel_data_start_dict(d);
	dict_counters(d, v, drops);
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
	uint64_t v[OR_CNT_NUM], drops;
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
	drops = or_cnt_read(&tel_dp->cnt, OR_CNT_ALL, i, v);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "port_id", p->port_id);
	rte_tel_data_add_dict_u64(d, "rx_queues", p->n_rxq);
	rte_tel_data_add_dict_u64(d, "tx_queues", p->n_txq);
	snprintf(buf, sizeof(buf), RTE_ETHER_ADDR_PRT_FMT,
		 RTE_ETHER_ADDR_BYTES(&p->pa.mac));
	rte_tel_data_add_dict_string(d, "mac", buf);
	inet_ntop(AF_INET, &p->pa.ip, buf, sizeof(buf));
	rte_tel_data_add_dict_string(d, "ip", buf);
	dict_counters(d, v, drops);
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
	uint64_t v[OR_CNT_NUM], polls[OR_POLL_NUM], drops;
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
	drops = or_cnt_read(&tel_dp->cnt, (int)w, OR_CNT_ALL, v);
	or_cnt_read_polls(&tel_dp->cnt, (int)w, polls);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "lcore", lcore);
	rte_tel_data_add_dict_u64(d, "rx_queues", tel_dp->workers[w]->n_rxq);
	dict_counters(d, v, drops);
	for (unsigned k = 0; k < OR_POLL_NUM; k++)
		rte_tel_data_add_dict_u64(d, or_poll_cnt_name(k), polls[k]);
	rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
	return 0;
}

TEL_CMD(tel_table)
{
	struct ct_stats s;

	(void)cmd;
	(void)params;
	ct_get_stats(tel_dp->table, &s);
	rte_tel_data_start_dict(d);
#define T(f, ...) rte_tel_data_add_dict_u64(d, #f, s.f);
	OR_CT_STATS(T)
#undef T
	return 0;
}

TEL_CMD(tel_channel)
{
	struct or_updater_stats s;

	(void)cmd;
	(void)params;
	if (tel_dp->updater == NULL)
		return -ENODEV;
	or_updater_get_stats(tel_dp->updater, &s);
	rte_tel_data_start_dict(d);
#define T(f, ...) rte_tel_data_add_dict_u64(d, #f, s.f);
	OR_UPDATER_STATS(T)
#undef T
	/* Workers poll RX (dp.h); they decide once synced, or with
	 * start_rx_after_sync = ack as soon as RX is on. */
	rte_tel_data_add_dict_int(d, "rx_enabled",
		__atomic_load_n(&tel_dp->rx_state, __ATOMIC_RELAXED) !=
			OR_RX_HELD);
	return 0;
}

/* Sender authentication, for /optroute/auth and the STATS reply
 * (auth.FIELD): the list OR_AUTH_STATS, include/optroute/auth_stats.h. */
static void
auth_figures(struct or_dp *dp, struct or_auth_stats *a)
{
	uint8_t e[OR_KEYRING_MAX];
	unsigned n = or_keyring_epochs(&dp->auth, e);
	struct or_budget_stats bs;
	struct or_replay_stats rs;

	memset(a, 0, sizeof(*a));
	a->enabled = (uint64_t)dp->cfg->auth;
	a->time_window_s = dp->cfg->time_window_s;
	a->time_checks = (uint64_t)dp->cfg->auth_time_checks;
	a->live_epochs = n;
	a->current_epoch = n > 0 ? e[0] : 256;
	a->previous_epoch = n > 1 ? e[1] : 256;
	a->installs = __atomic_load_n(&dp->auth.installs, __ATOMIC_RELAXED);
	a->budget_burst = dp->cfg->budget_burst;
	a->budget_refill_per_hour = dp->cfg->budget_refill_per_hour;
	memset(&bs, 0, sizeof(bs));
	if (dp->budget != NULL)
		or_budget_stats(dp->budget, or_auth_mono_ms(), &bs);
	a->budget_tracked = bs.tracked;
	a->budget_over_now = bs.over_now;
	a->budget_charged = bs.charged;
	a->budget_evicted_unrefilled = bs.evicted_unrefilled;
	a->budget_slots = bs.slots;
	a->budget_bytes = bs.bytes;
	memset(&rs, 0, sizeof(rs));
	if (dp->replay != NULL)
		or_replay_stats(dp->replay, &rs);
	a->replay_capacity = rs.capacity;
	a->replay_bytes = rs.bytes;
	a->replay_entries_approx = rs.entries_approx;
	a->replay_seen = rs.seen;
	a->replay_full = rs.full;
	a->replay_stale = rs.stale;
	a->replay_retries = rs.retries;
}

TEL_CMD(tel_auth)
{
	struct or_auth_stats a;

	(void)cmd;
	(void)params;
	auth_figures(tel_dp, &a);
	rte_tel_data_start_dict(d);
#define T(f, ...) rte_tel_data_add_dict_u64(d, #f, a.f);
	OR_AUTH_STATS(T)
#undef T
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

unsigned
or_stats_fill(void *arg, struct or_updater_stat *out, unsigned max)
{
	struct or_dp *dp = arg;
	uint64_t v[OR_CNT_NUM], polls[OR_POLL_NUM], drops;
	struct or_auth_stats a;
	unsigned n = 0;

	/* Zero drop reasons are left out per port and per worker, to keep the
	 * reply small; the totals carry every counter. */
#define PUT(val, ...)                                                        \
	do {                                                                 \
		if (n == max)                                                \
			return n;                                            \
		snprintf(out[n].name, sizeof(out[n].name), __VA_ARGS__);     \
		out[n++].value = (val);                                      \
	} while (0)
#define PUT_ALL(prefix_fmt, prefix_arg)                                      \
	do {                                                                 \
		for (unsigned k = 0; k < OR_CNT_NUM; k++)                    \
			if (k < OR_CNT_DROP_FIRST || v[k] != 0)              \
				PUT(v[k], prefix_fmt "%s", prefix_arg,       \
				    or_cnt_name(k));                         \
		PUT(drops, prefix_fmt "dropped", prefix_arg);                \
	} while (0)

	drops = or_cnt_read(&dp->cnt, OR_CNT_ALL, OR_CNT_ALL, v);
	for (unsigned k = 0; k < OR_CNT_NUM; k++)
		PUT(v[k], "%s", or_cnt_name(k));
	PUT(drops, "dropped");
	PUT(rte_get_tsc_hz(), "tsc_hz");
	auth_figures(dp, &a);
#define A(f, ...) PUT(a.f, "auth." #f);
	OR_AUTH_STATS(A)
#undef A
	for (unsigned i = 0; i < dp->n_ports; i++) {
		drops = or_cnt_read(&dp->cnt, OR_CNT_ALL, (int)i, v);
		PUT_ALL("port.%s.", dp->ports[i].name);
	}
	for (unsigned w = 0; w < dp->n_workers; w++) {
		drops = or_cnt_read(&dp->cnt, (int)w, OR_CNT_ALL, v);
		PUT_ALL("worker.%u.", dp->cfg->workers[w]);
		or_cnt_read_polls(&dp->cnt, (int)w, polls);
		for (unsigned k = 0; k < OR_POLL_NUM; k++)
			PUT(polls[k], "worker.%u.%s", dp->cfg->workers[w],
			    or_poll_cnt_name(k));
	}
#undef PUT_ALL
#undef PUT
	return n;
}

void
or_stats_clear(void *arg)
{
	struct or_dp *dp = arg;

	or_cnt_clear(&dp->cnt);
}
