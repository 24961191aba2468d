/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-dataplane: the DPDK message router.
 *
 *   optroute-dataplane -c FILE [--check]
 *
 * Start-up: configuration, EAL (arguments built from the configuration),
 * consent table, ports, counters, next hops, workers, telemetry, pdump,
 * updater (the table's single writer, on its own control thread), then the
 * workers are launched and the main lcore just waits: for the table to be
 * synced (rx_gate: until then the workers decide nothing), then for
 * SIGINT/SIGTERM.
 *
 * Shutdown, in this order so nothing is freed under a user: workers leave
 * their loops (rte_eal_mp_wait_lcore), the updater stops (no writer),
 * rcu_barrier(), ports stop and close, the table is destroyed, EAL cleans up.
 *
 * systemd (Type=notify, deploy/systemd/): READY=1 once ports are started,
 * the updater listens and the workers run; WATCHDOG=1 from the main lcore's
 * wait loop when WatchdogSec is set; STOPPING=1 before shutdown; STATUS=
 * lines on the way. Without NOTIFY_SOCKET every sd_notify is a no-op.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pdump.h>

#include <urcu-qsbr.h>

#include "optroute/ctable.h"
#include "auth/auth_clock.h"
#include "auth/budget.h"
#include "auth/replay.h"
#include "chan/updater.h"
#include "eal_diag.h"
#include "log.h"
#include "port.h"
#include "telemetry.h"
#include "worker.h"

RTE_LOG_REGISTER(or_dp_logtype, optroute.dataplane, INFO);

#define PROG "optroute-dataplane"
#define MAIN_TICK_US 20000

static volatile sig_atomic_t got_signal;

/* systemd watchdog: ping interval (half of WatchdogSec), 0 = disabled. */
struct or_sd_wd {
	uint64_t interval_us;
	uint64_t next_us;
};

static void
on_signal(int sig)
{
	got_signal = sig;
}

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* WATCHDOG_USEC (and WATCHDOG_PID, if set, naming us) come from systemd's
 * WatchdogSec=. Pinging at half the interval is what sd_watchdog_enabled(3)
 * recommends. The main lcore pings, never a worker: a wedged main loop
 * (signal handling, RX gate) is what the watchdog must catch. */
static void
sd_wd_init(struct or_sd_wd *wd)
{
	uint64_t usec = 0;

	wd->interval_us = 0;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		wd->interval_us = usec / 2;
		OR_LOG(INFO, "systemd watchdog: %" PRIu64 " ms, pinging every %"
		       PRIu64 " ms", usec / 1000, wd->interval_us / 1000);
	}
	wd->next_us = mono_us();
}

static void
sd_wd_ping(struct or_sd_wd *wd)
{
	uint64_t now;

	if (wd->interval_us == 0)
		return;
	now = mono_us();
	if (now < wd->next_us)
		return;
	sd_notify(0, "WATCHDOG=1");
	wd->next_us = now + wd->interval_us;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: " PROG " -c FILE [--check]\n"
		"  -c, --config FILE  configuration (docs/dataplane.md)\n"
		"      --check        validate the configuration and exit\n"
		"  -h, --help         this text\n");
}

/* Next-hop table indexed by delivery node id (or_pkt_decide's nh). */
static int
nexthops_build(struct or_dp *dp)
{
	const struct or_cfg *cfg = dp->cfg;

	if (cfg->n_nexthops == 0)
		return 0;
	/* sorted by id: the last one is the highest */
	dp->nh_count = cfg->nexthops[cfg->n_nexthops - 1].id + 1u;
	dp->nh = rte_zmalloc("or_nexthops", dp->nh_count * sizeof(*dp->nh),
			     RTE_CACHE_LINE_SIZE);
	if (dp->nh == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < cfg->n_nexthops; i++) {
		const struct or_cfg_nexthop *c = &cfg->nexthops[i];
		const struct or_dp_port *p = &dp->ports[c->port_idx];
		struct or_nexthop *nh = &dp->nh[c->id];

		nh->valid = 1;
		nh->port_id = p->port_id;
		nh->src_mac = p->pa.mac;
		memcpy(nh->dst_mac.addr_bytes, c->mac, RTE_ETHER_ADDR_LEN);
		nh->src_ip = p->pa.ip;
		nh->dst_ip = c->ip;
		nh->src_udp = p->pa.udp_port;
		nh->dst_udp = rte_cpu_to_be_16(c->udp_port);
	}
	return 0;
}

static int
table_create(struct or_dp *dp)
{
	const struct or_cfg *cfg = dp->cfg;
	struct ct_params p = {
		.entries = cfg->table_entries,
		.mem_limit = cfg->table_mem_mb << 20,
		.socket_id = SOCKET_ID_ANY,
		/* Without hugepages rte_malloc memory is the -m budget:
		 * take plain memory (transparent hugepages) instead. */
		.flags = rte_eal_has_hugepages() ? CT_F_RTE_MALLOC : 0,
	};
	int rc = ct_create(&p, &dp->table);

	if (rc != 0)
		OR_LOG(ERR, "consent table for %" PRIu64 " entries: %s",
		       cfg->table_entries, strerror(-rc));
	return rc;
}

/* What version 2 shares between the workers: the bounce budgets and the
 * replay filter. */
static int
auth_create(struct or_dp *dp)
{
	const struct or_cfg *cfg = dp->cfg;
	struct or_budget_params bp = {
		.burst = cfg->budget_burst,
		.refill_per_hour = cfg->budget_refill_per_hour,
		.capacity = cfg->budget_senders,
		.socket_id = SOCKET_ID_ANY,
		.flags = rte_eal_has_hugepages() ? OR_BUDGET_F_RTE_MALLOC : 0,
	};
	struct or_replay_params rp = {
		.capacity = cfg->replay_capacity,
		.window_ms = cfg->time_window_s * 1000,
		.socket_id = SOCKET_ID_ANY,
	};
	int rc;

	if (!cfg->auth)
		return 0;
	rc = or_budget_create(&bp, &dp->budget);
	if (rc != 0) {
		OR_LOG(ERR, "bounce budget for %u senders: %s",
		       cfg->budget_senders, strerror(-rc));
		return rc;
	}
	if (!cfg->auth_time_checks)
		return 0;
	rc = or_replay_create(&rp, &dp->replay);
	if (rc != 0) {
		OR_LOG(ERR, "replay filter for %" PRIu64 " messages: %s",
		       cfg->replay_capacity, strerror(-rc));
		return rc;
	}
	/* Before the first check: until a tick every check is stale. */
	or_replay_tick(dp->replay, or_auth_now_ms());
	return 0;
}

/* The socket's directory (e.g. /run/optroute) may not exist yet. */
static void
channel_dir(const char *path)
{
	char dir[OR_CFG_PATH_LEN];
	size_t n = strnlen(path, sizeof(dir) - 1);
	char *slash;

	memcpy(dir, path, n);
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		OR_LOG(WARNING, "mkdir %s: %s", dir, strerror(errno));
}

/*
 * The updater's on_synced: the first full resync is committed. Called
 * before the grace period of its ACK, so once the control plane reads that
 * ACK every worker decides, on the resynced table (docs/dataplane.md,
 * "Before the first resync").
 */
static void
dp_on_synced(void *arg)
{
	struct or_dp *dp = arg;

	__atomic_store_n(&dp->rx_state, OR_RX_DECIDE, __ATOMIC_RELEASE);
}

/* Who the update channel serves, once at start: an operator whose
 * control plane is refused reads here what to set. */
static void
channel_log_peers(const struct or_cfg *cfg)
{
	const struct or_peer_allow *p = &cfg->chan_peer;
	char uid[48] = "none", gid[24] = "none";

	if (p->has_uid)
		snprintf(uid, sizeof(uid), "%u%s", (unsigned)p->uid,
			 cfg->chan_peer_uid_default ?
				 " (user " OR_CFG_DEFAULT_CHAN_PEER_USER ")" :
				 "");
	if (p->has_gid)
		snprintf(gid, sizeof(gid), "%u", (unsigned)p->gid);
	OR_LOG(INFO, "update channel on %s; peers served: root, uid %u, "
	       "channel_peer_uid %s, channel_peer_gid %s", cfg->channel,
	       (unsigned)geteuid(), uid, gid);
}

static int
dp_start(struct or_dp *dp)
{
	const struct or_cfg *cfg = dp->cfg;
	int sockets[OR_CFG_MAX_WORKERS];
	struct or_updater_conf uc = { 0 };
	int rc;

	dp->n_workers = cfg->n_workers;
	for (unsigned w = 0; w < cfg->n_workers; w++) {
		if (!rte_lcore_is_enabled(cfg->workers[w])) {
			OR_LOG(ERR, "worker lcore %u is not available",
			       cfg->workers[w]);
			return -EINVAL;
		}
		sockets[w] = (int)rte_lcore_to_socket_id(cfg->workers[w]);
	}
	rc = table_create(dp);
	if (rc == 0)
		rc = auth_create(dp);
	if (rc == 0)
		rc = or_port_init_all(dp);
	if (rc == 0)
		rc = or_cnt_init(&dp->cnt, dp->n_workers, dp->n_ports, sockets);
	if (rc == 0)
		rc = nexthops_build(dp);
	for (unsigned w = 0; rc == 0 && w < dp->n_workers; w++)
		rc = or_worker_create(dp, w, &dp->workers[w]);
	if (rc == 0)
		rc = or_telemetry_init(dp);
	if (rc != 0)
		return rc;
	if (!cfg->auth)
		OR_LOG(WARNING, "auth = no: protocol version 1, senders are NOT "
		       "authenticated (lab use only)");
	else if (!cfg->auth_time_checks)
		OR_LOG(WARNING, "auth_time_checks = no: no send-time window and "
		       "no replay filter (benchmarks only)");
	if (cfg->pdump && rte_pdump_init() != 0)
		OR_LOG(WARNING, "pdump: %s (dpdk-dumpcap will not work)",
		       rte_strerror(rte_errno));

	/* Before the updater starts (its on_synced moves it on) and the
	 * workers run (they read it from their first loop). */
	if (cfg->start_rx_after_sync == OR_CFG_RX_AT_START) {
		dp->rx_state = OR_RX_UNSYNCED;
		OR_LOG(INFO, "MSGs dropped (not_synced) until the first full "
		       "resync is applied");
	} else {
		dp->rx_state = OR_RX_HELD;
		OR_LOG(INFO, "RX held until the table is synced (%s)",
		       cfg->start_rx_after_sync == OR_CFG_RX_AFTER_ACK ?
			       "first ACK" : "first full resync");
	}
	channel_dir(cfg->channel);
	uc.sock_path = cfg->channel;
	uc.table = dp->table;
	uc.stats_fill = or_stats_fill;
	uc.stats_clear = or_stats_clear;
	uc.stats_arg = dp;
	uc.on_synced = dp_on_synced;
	uc.synced_arg = dp;
	uc.workers = dp->n_workers;
	uc.use_eal = 1;
	uc.auth = &dp->auth;
	uc.peer = cfg->chan_peer;
	rc = or_updater_start(&uc, &dp->updater);
	if (rc != 0) {
		OR_LOG(ERR, "update channel on %s: %s", cfg->channel,
		       strerror(-rc));
		return rc;
	}
	channel_log_peers(cfg);

	for (unsigned w = 0; w < dp->n_workers; w++) {
		rc = rte_eal_remote_launch(or_worker_main, dp->workers[w],
					   dp->workers[w]->lcore_id);
		if (rc != 0) {
			OR_LOG(ERR, "launch on lcore %u: %s",
			       dp->workers[w]->lcore_id, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Main lcore tick until the workers decide: with start_rx_after_sync =
 * ack, opens at the first ACK of anything; then says so, once. */
static void
rx_gate(struct or_dp *dp, int *told)
{
	struct or_updater_stats s;

	if (*told || dp->updater == NULL)
		return;
	or_updater_get_stats(dp->updater, &s);
	if (dp->cfg->start_rx_after_sync == OR_CFG_RX_AFTER_ACK &&
	    s.acked_seq > 0)
		__atomic_store_n(&dp->rx_state, OR_RX_DECIDE, __ATOMIC_RELEASE);
	if (__atomic_load_n(&dp->rx_state, __ATOMIC_ACQUIRE) != OR_RX_DECIDE)
		return;
	*told = 1;
	OR_LOG(INFO, "table synced (acked seq %" PRIu64 ", %" PRIu64
	       " upserts): deciding", s.acked_seq, s.upserts);
	sd_notifyf(0, "STATUS=forwarding: table synced (acked seq %" PRIu64
		   "), %u ports, %u workers", s.acked_seq, dp->n_ports,
		   dp->n_workers);
}

static void
log_totals(struct or_dp *dp)
{
	uint64_t v[OR_CNT_NUM], drops;

	if (dp->cnt.live == NULL)
		return;
	drops = or_cnt_read(&dp->cnt, OR_CNT_ALL, OR_CNT_ALL, v);
	OR_LOG(INFO, "totals: rx %" PRIu64 " tx %" PRIu64 " delivered %" PRIu64
	       " bounced %" PRIu64 " arp_replies %" PRIu64 " dropped %" PRIu64,
	       v[OR_CNT_RX], v[OR_CNT_TX], v[OR_CNT_DELIVERED],
	       v[OR_CNT_BOUNCED], v[OR_CNT_ARP_REPLIES], drops);
	for (unsigned k = OR_CNT_DROP_FIRST; k < OR_CNT_NUM; k++)
		if (v[k] != 0)
			OR_LOG(INFO, "  %s %" PRIu64, or_cnt_name(k), v[k]);
}

static void
dp_stop(struct or_dp *dp)
{
	__atomic_store_n(&dp->quit, 1, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	or_telemetry_stop();
	if (dp->updater != NULL) {
		or_updater_stop(dp->updater);
		dp->updater = NULL;
	}
	rcu_barrier();
	log_totals(dp);
	or_port_close_all(dp);
	for (unsigned w = 0; w < dp->n_workers; w++)
		or_worker_free(dp->workers[w]);
	or_cnt_fini(&dp->cnt);
	rte_free(dp->nh);
	if (dp->table != NULL)
		ct_destroy(dp->table);
	dp->table = NULL;
	/* Workers and updater are gone: no reader, no writer. */
	or_keyring_destroy(&dp->auth);
	or_budget_free(dp->budget);
	dp->budget = NULL;
	or_replay_free(dp->replay);
	dp->replay = NULL;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct or_cfg cfg;
	static struct or_dp dp;
	const char *file = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	char **eal_argv;
	int eal_argc, check = 0, c, rc;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': file = optarg; break;
		case 'k': check = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (file == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	rc = or_cfg_load(&cfg, file);
	if (rc != 0) {
		fprintf(stderr, PROG ": %s\n", cfg.err);
		or_cfg_free(&cfg);
		return 1;
	}
	if (check) {
		printf("%s: ok (%u ports, %u workers, %u next hops)\n", file,
		       cfg.n_ports, cfg.n_workers, cfg.n_nexthops);
		or_cfg_free(&cfg);
		return 0;
	}
	if (or_cfg_eal_argv(&cfg, argv[0], &eal_argc, &eal_argv) != 0) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	rc = rte_eal_init(eal_argc, eal_argv);
	if (rc < 0) {
		char why[OR_EAL_DIAG_LEN];

		/* Hugepages missing read "Permission denied": say which. */
		or_eal_diag(eal_argc, eal_argv, rte_errno, why, sizeof(why));
		fprintf(stderr, PROG ": EAL initialisation failed: %s\n", why);
		sd_notifyf(0, "STATUS=EAL initialisation failed: %s", why);
		free(eal_argv);
		or_cfg_free(&cfg);
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	dp.cfg = &cfg;
	sd_notify(0, "STATUS=starting: table, ports, workers, update channel");
	rc = dp_start(&dp);
	if (rc == 0) {
		struct or_sd_wd wd;
		int told = 0;

		OR_LOG(INFO, "running: %u ports, %u workers, %u next hops",
		       dp.n_ports, dp.n_workers, cfg.n_nexthops);
		sd_wd_init(&wd);
		sd_notifyf(0, "READY=1\nSTATUS=%s: %u ports, %u workers, "
			   "channel %s", dp.rx_state == OR_RX_HELD ?
			   "RX held until the table is synced" :
			   "not synced: MSGs dropped until the first resync",
			   dp.n_ports, dp.n_workers, cfg.channel);
		while (!got_signal) {
			rx_gate(&dp, &told);
			if (dp.replay != NULL)
				or_replay_tick(dp.replay, or_auth_now_ms());
			sd_wd_ping(&wd);
			usleep(MAIN_TICK_US);
		}
		OR_LOG(INFO, "signal %d: stopping", (int)got_signal);
		sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	} else {
		int e = rc < 0 ? -rc : rc;

		sd_notifyf(0, "STATUS=start-up failed: %s\nERRNO=%d",
			   strerror(e), e);
	}
	dp_stop(&dp);
	rte_eal_cleanup();
	free(eal_argv);
	or_cfg_free(&cfg);
	return rc == 0 ? 0 : 1;
}
