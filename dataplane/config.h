/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Configuration of optroute-dataplane: one INI file, read through the INI
 * layer both daemons share (include/optroute/or_ini.h, libinih below it);
 * keys in docs/dataplane.md, syntax and value spellings in
 * docs/configuration.md. Parsing needs no EAL, so the unit tests and
 * `optroute-dataplane --check` run it on its own.
 *
 * Every error names the file, the line and the key, e.g.
 *   "dp.ini:12: [port client] rx_queues: invalid value 'x' (...)".
 * Sections owned by the control plane (names starting with "control" or
 * "metrics") are skipped without looking at their keys.
 */
#ifndef OR_DP_CONFIG_H
#define OR_DP_CONFIG_H

#include <stdint.h>

#include "optroute/or_ini.h"
#include "optroute/peer.h"

#define OR_CFG_MAX_PORTS 16
#define OR_CFG_MAX_QUEUES 16   /* RX queues (= workers) of one port */
#define OR_CFG_MAX_WORKERS 32  /* distinct worker lcores in all */
#define OR_CFG_NAME_LEN 32     /* port name, NUL included */
#define OR_CFG_DEV_LEN 512     /* device string, NUL included */
#define OR_CFG_PATH_LEN OR_INI_SOCK_PATH_LEN /* sizeof(sun_path) */
#define OR_CFG_ERR_LEN 512
#define OR_CFG_MAX_LCORE 1023  /* highest lcore id accepted in a list */

#define OR_CFG_DEFAULT_ENTRIES (1u << 20)
#define OR_CFG_DEFAULT_DESC 1024
/* [port] mtu: the largest IPv4 total length a port takes (docs/protocol.md
 * section 1); 96 is the smallest MSG. */
#define OR_CFG_DEFAULT_MTU 1500
#define OR_CFG_MTU_MIN 96
#define OR_CFG_MTU_MAX 9216
/* docs/budget.md says why. */
#define OR_CFG_DEFAULT_BUDGET_BURST 300
#define OR_CFG_DEFAULT_BUDGET_REFILL 15
#define OR_CFG_DEFAULT_BUDGET_SENDERS 1000000u
/* [dataplane] channel_peer_uid when the file gives none: the user
 * optroute-control.service runs as (deploy/systemd), if the system has it. */
#define OR_CFG_DEFAULT_CHAN_PEER_USER "optroute"
/* 1 Mpps of MSGs for a 30 s window; docs/replay.md sizes it. */
#define OR_CFG_DEFAULT_REPLAY_CAPACITY 30000000ull

/* When the workers start polling RX ([dataplane] start_rx_after_sync). */
enum or_cfg_rx_start {
	OR_CFG_RX_AT_START = 0,     /* no: at once (table empty until synced) */
	OR_CFG_RX_AFTER_RESYNC = 1, /* yes: once a full resync is committed */
	OR_CFG_RX_AFTER_ACK = 2,    /* ack: at the first ACK of anything */
};

struct or_cfg_port {
	char name[OR_CFG_NAME_LEN];
	char device[OR_CFG_DEV_LEN];  /* PCI address or vdev string */
	int is_pci;                   /* device is a PCI address */
	unsigned rx_queues;
	unsigned n_workers;           /* == rx_queues once checked */
	unsigned workers[OR_CFG_MAX_QUEUES]; /* lcore of RX queue i */
	uint32_t ip;                  /* network order */
	uint8_t mac[6];
	int has_mac;                  /* else the device's own MAC */
	int promiscuous;
	unsigned mtu;                 /* largest IPv4 total length taken */
	/* Where things were seen, for cross-check messages. */
	unsigned line, rx_queues_line, workers_line;
	int has_rx_queues, has_ip;
};

struct or_cfg_nexthop {
	uint16_t id;                  /* delivery node id */
	char port[OR_CFG_NAME_LEN];   /* egress port name */
	unsigned port_idx;            /* index in or_cfg.ports once checked */
	uint8_t mac[6];
	uint32_t ip;                  /* network order */
	uint16_t udp_port;            /* host order; 0 = dataplane udp_port */
	unsigned line, port_line;
	int has_mac, has_ip;
};

struct or_cfg_lcore_cpu {
	unsigned lcore, cpu;
};

struct or_cfg {
	char file[OR_CFG_PATH_LEN * 4];

	/* [eal] */
	char *eal_args;               /* malloc'ed, space-separated; or NULL */
	unsigned main_lcore;
	/* lcore_cpus: lcore -> CPU where it is not the identity (EAL
	 * --lcores), e.g. two workers sharing a CPU on a test machine. */
	unsigned n_lcore_cpus;
	struct or_cfg_lcore_cpu lcore_cpus[OR_CFG_MAX_WORKERS + 1];

	/* [dataplane] */
	uint16_t udp_port;            /* host order */
	char channel[OR_CFG_PATH_LEN]; /* default OR_INI_DEFAULT_CHANNEL */
	/* Who may use the channel besides root and the dataplane's own uid
	 * (optroute/peer.h): channel_peer_uid, else the uid of
	 * OR_CFG_DEFAULT_CHAN_PEER_USER if it exists (then
	 * chan_peer_uid_default is 1); channel_peer_gid. */
	struct or_peer_allow chan_peer;
	int chan_peer_uid_default;
	uint64_t table_entries;
	uint64_t table_mem_mb;        /* 0 = no limit */
	int start_rx_after_sync;      /* enum or_cfg_rx_start */
	unsigned rx_desc, tx_desc;
	unsigned mbufs;               /* 0 = sized from the rings */
	unsigned idle_sleep_us;       /* 0 = busy poll */
	int pdump;
	/* Sender authentication (protocol version 2, docs/protocol.md):
	 * auth = no takes version 1 only, for lab use. */
	int auth;
	unsigned time_window_s;       /* +- around the appliance clock */
	uint64_t replay_capacity;     /* MSGs with a send time in the window */
	/* Enumeration budget (docs/budget.md): bounces per sender. */
	unsigned budget_burst;
	unsigned budget_refill_per_hour;
	unsigned budget_senders;      /* senders in debt tracked */
	/* Benchmark only (auth_time_checks = no): no time window and no
	 * replay filter, so a looped pcap is not a drop test. Logged loudly. */
	int auth_time_checks;

	unsigned n_ports;
	struct or_cfg_port ports[OR_CFG_MAX_PORTS];

	unsigned n_nexthops;
	struct or_cfg_nexthop *nexthops; /* malloc'ed, sorted by id once checked */

	/* Distinct worker lcores, ascending, once checked. */
	unsigned n_workers;
	unsigned workers[OR_CFG_MAX_WORKERS];

	char err[OR_CFG_ERR_LEN];     /* first error, "file:line: ..." */
};

/* Parses and checks a file. 0, or -EINVAL / -ENOENT / -ENOMEM with
 * cfg->err set. cfg is always safe to pass to or_cfg_free() afterwards. */
int or_cfg_load(struct or_cfg *cfg, const char *path);

/* The same for a string (tests); name is used in messages. */
int or_cfg_load_string(struct or_cfg *cfg, const char *name, const char *text);

void or_cfg_free(struct or_cfg *cfg);

/* Builds the EAL argv: argv0, [eal] args, -l with the main and worker
 * lcores, --main-lcore, then --vdev=DEV / -a PCI for every port. The
 * result is one malloc'ed block (free(*argv) frees it all). 0 or -ENOMEM. */
int or_cfg_eal_argv(const struct or_cfg *cfg, const char *argv0, int *argc,
		    char ***argv);

/* Name under which EAL knows a port's device: the vdev name (up to the
 * first comma), or the PCI address with its domain ("0000:01:00.0"). */
void or_cfg_dev_name(const struct or_cfg_port *p, char *buf, unsigned len);

#endif
