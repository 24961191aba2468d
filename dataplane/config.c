/* SPDX-License-Identifier: BSD-3-Clause
 *
 * INI configuration of optroute-dataplane (see config.h, docs/dataplane.md).
 *
 * The file's syntax, line numbers, error format and value parsers are the
 * INI layer both daemons share (include/optroute/or_ini.h); this file
 * says what the dataplane's sections and keys mean. Lines are limited to
 * OR_INI_LINE_MAX (198) characters; longer values (EAL args, vdev strings)
 * continue on indented lines.
 *
 * No EAL here: the unit tests and --check use this file alone.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_val.h"

#include "config_parse.h"

#define st_err(st, key, ...) or_ini_err(&(st)->ini, key, __VA_ARGS__)

/* -------------------------------------------------------------- keys -- */

typedef int (*key_fn)(struct parse_state *st, const char *key,
		      const char *v);

struct key_def {
	const char *name;
	key_fn fn;
	int cont; /* may continue on indented lines (appended) */
};

#define BAD(st, key, v, expect) or_ini_bad_value(&(st)->ini, key, v, "%s", expect)

static int
append_str(char **dst, const char *v, const char *sep)
{
	size_t a = *dst ? strlen(*dst) : 0;
	size_t b = strlen(v);
	char *p = realloc(*dst, a + strlen(sep) + b + 1);

	if (p == NULL)
		return -ENOMEM;
	if (a == 0)
		memcpy(p, v, b + 1);
	else
		sprintf(p + a, "%s%s", sep, v);
	*dst = p;
	return 0;
}

static int
k_eal_args(struct parse_state *st, const char *key, const char *v)
{
	if (st->args_line == 0)
		st->args_line = st->ini.line;
	/* An empty line adds nothing (it would add a stray separator:
	 * finding C3 of docs/fuzzing.md). */
	if (v[0] == '\0')
		return 0;
	if (append_str(&st->cfg->eal_args, v, " ") != 0)
		return st_err(st, key, "out of memory"), -1;
	return 0;
}

static int
k_main_lcore(struct parse_state *st, const char *key, const char *v)
{
	uint64_t x;

	if (or_ini_uint(v, 0, OR_CFG_MAX_LCORE, &x) != 0)
		return BAD(st, key, v, "an lcore id 0..1023");
	st->cfg->main_lcore = (unsigned)x;
	return 0;
}

static int
k_lcore_cpus(struct parse_state *st, const char *key, const char *v)
{
	struct or_cfg *c = st->cfg;

	if (or_cfgv_lcore_cpus(v, c->lcore_cpus,
			       sizeof(c->lcore_cpus) / sizeof(c->lcore_cpus[0]),
			       &c->n_lcore_cpus) != 0)
		return BAD(st, key, v, "distinct lcore@cpu pairs, e.g. '2@1 3@1'");
	st->lcore_cpus_line = st->ini.line;
	return 0;
}

static int
k_udp_port(struct parse_state *st, const char *key, const char *v)
{
	uint64_t x;

	if (or_ini_uint(v, 1, 65535, &x) != 0)
		return BAD(st, key, v, "a UDP port 1..65535");
	if (st->kind == SECT_DP)
		st->cfg->udp_port = (uint16_t)x;
	else
		st->cfg->nexthops[st->idx].udp_port = (uint16_t)x;
	return 0;
}

static int
k_channel(struct parse_state *st, const char *key, const char *v)
{
	return or_ini_get_channel(&st->ini, key, v, st->cfg->channel);
}

/* channel_peer_uid, channel_peer_gid: a name or a number, as [control]
 * allowed_uid and allowed_gid (optroute/peer.h). */
static int
k_chan_peer(struct parse_state *st, const char *key, const char *v)
{
	struct or_peer_allow *a = &st->cfg->chan_peer;

	if (strcmp(key, "channel_peer_uid") == 0) {
		if (or_peer_uid_parse(v, &a->uid) != 0)
			return BAD(st, key, v, "a user name or a numeric uid");
		a->has_uid = 1;
		st->chan_peer_uid_line = st->ini.line;
		return 0;
	}
	if (or_peer_gid_parse(v, &a->gid) != 0)
		return BAD(st, key, v, "a group name or a numeric gid");
	a->has_gid = 1;
	return 0;
}

/* Unsigned integer keys of [dataplane]: name, bounds, field. */
static int
k_dp_uint(struct parse_state *st, const char *key, const char *v)
{
	static const struct {
		const char *name;
		uint64_t min, max;
		const char *expect;
	} defs[] = {
		{ "table_entries", 1, 1ull << 32, "1..4294967296" },
		{ "table_mem_mb", 0, 1u << 20, "0..1048576 (0 = no limit)" },
		{ "rx_desc", 64, 16384, "64..16384" },
		{ "tx_desc", 64, 16384, "64..16384" },
		{ "mbufs", 0, 1u << 24, "0 (auto) or 1024..16777216" },
		{ "idle_sleep_us", 0, 100000, "0..100000 microseconds" },
		{ "time_window_s", 1, 3600, "1..3600 seconds" },
		{ "budget_burst", 1, 1000000, "1..1000000 bounces" },
		{ "budget_refill_per_hour", 1, 3600000, "1..3600000 bounces" },
		{ "budget_senders", 1024, 1u << 28, "1024..268435456 senders" },
		{ "replay_capacity", 1024, 1ull << 32, "1024..4294967296 messages" },
	};
	struct or_cfg *cfg = st->cfg;
	uint64_t x;
	unsigned i;

	for (i = 0; strcmp(defs[i].name, key) != 0; i++)
		;
	if (or_ini_uint(v, defs[i].min, defs[i].max, &x) != 0 ||
	    (i == 4 && x != 0 && x < 1024))
		return BAD(st, key, v, defs[i].expect);
	switch (i) {
	case 0: cfg->table_entries = x; break;
	case 1: cfg->table_mem_mb = x; break;
	case 2: cfg->rx_desc = (unsigned)x; break;
	case 3: cfg->tx_desc = (unsigned)x; break;
	case 4: cfg->mbufs = (unsigned)x; break;
	case 5: cfg->idle_sleep_us = (unsigned)x; break;
	case 6: cfg->time_window_s = (unsigned)x; break;
	case 7: cfg->budget_burst = (unsigned)x; break;
	case 8: cfg->budget_refill_per_hour = (unsigned)x; break;
	case 9: cfg->budget_senders = (unsigned)x; break;
	default: cfg->replay_capacity = x; break;
	}
	return 0;
}

static int
k_dp_bool(struct parse_state *st, const char *key, const char *v)
{
	int b;

	if (strcmp(key, "start_rx_after_sync") == 0) {
		if (strcasecmp(v, "ack") == 0) {
			st->cfg->start_rx_after_sync = OR_CFG_RX_AFTER_ACK;
			return 0;
		}
		if (or_ini_bool(v, &b) != 0)
			return BAD(st, key, v, "no, yes (a full resync) or ack");
		st->cfg->start_rx_after_sync = b ? OR_CFG_RX_AFTER_RESYNC :
						   OR_CFG_RX_AT_START;
		return 0;
	}
	if (or_ini_get_bool(&st->ini, key, v, &b) != 0)
		return -1;
	if (strcmp(key, "auth") == 0)
		st->cfg->auth = b;
	else if (strcmp(key, "auth_time_checks") == 0)
		st->cfg->auth_time_checks = b;
	else
		st->cfg->pdump = b;
	return 0;
}

static int
k_port_device(struct parse_state *st, const char *key, const char *v)
{
	struct or_cfg_port *p = &st->cfg->ports[st->idx];
	size_t a = strlen(p->device);

	if (v[0] == '\0')
		return BAD(st, key, v, "a PCI address or a vdev string");
	if (a + strlen(v) >= sizeof(p->device))
		return st_err(st, key, "device string longer than %zu characters",
			      sizeof(p->device) - 1), -1;
	/* Continuation pieces are glued without a separator: break the
	 * value after a comma. */
	strcpy(p->device + a, v);
	return 0;
}

static int
k_port_rxq(struct parse_state *st, const char *key, const char *v)
{
	struct or_cfg_port *p = &st->cfg->ports[st->idx];
	uint64_t x;

	if (or_ini_uint(v, 0, OR_CFG_MAX_QUEUES, &x) != 0)
		return BAD(st, key, v, "0..16");
	p->rx_queues = (unsigned)x;
	p->has_rx_queues = 1;
	p->rx_queues_line = st->ini.line;
	return 0;
}

static int
k_port_workers(struct parse_state *st, const char *key, const char *v)
{
	struct or_cfg_port *p = &st->cfg->ports[st->idx];
	int rc = or_cfgv_lcores(v, p->workers, OR_CFG_MAX_QUEUES, &p->n_workers);

	if (rc == -EEXIST)
		return st_err(st, key, "lcore listed twice in '%s'", v), -1;
	if (rc == -E2BIG)
		return st_err(st, key, "more than %d lcores in '%s'",
			      OR_CFG_MAX_QUEUES, v), -1;
	if (rc != 0)
		return BAD(st, key, v, "an lcore list like 1,2 or 1-3");
	p->workers_line = st->ini.line;
	return 0;
}

static int
k_ip(struct parse_state *st, const char *key, const char *v)
{
	uint32_t ip;

	if (or_cfgv_ip(v, &ip) != 0)
		return BAD(st, key, v, "a unicast IPv4 address");
	if (st->kind == SECT_PORT) {
		st->cfg->ports[st->idx].ip = ip;
		st->cfg->ports[st->idx].has_ip = 1;
	} else {
		st->cfg->nexthops[st->idx].ip = ip;
		st->cfg->nexthops[st->idx].has_ip = 1;
	}
	return 0;
}

static int
k_mac(struct parse_state *st, const char *key, const char *v)
{
	uint8_t mac[6];

	if (or_cfgv_mac(v, mac) != 0)
		return BAD(st, key, v, "a unicast MAC like 02:00:00:00:00:01");
	if (st->kind == SECT_PORT) {
		memcpy(st->cfg->ports[st->idx].mac, mac, 6);
		st->cfg->ports[st->idx].has_mac = 1;
	} else {
		memcpy(st->cfg->nexthops[st->idx].mac, mac, 6);
		st->cfg->nexthops[st->idx].has_mac = 1;
	}
	return 0;
}

static int
k_port_mtu(struct parse_state *st, const char *key, const char *v)
{
	uint64_t x;

	if (or_ini_uint(v, OR_CFG_MTU_MIN, OR_CFG_MTU_MAX, &x) != 0)
		return BAD(st, key, v, "an IPv4 MTU 96..9216");
	st->cfg->ports[st->idx].mtu = (unsigned)x;
	return 0;
}

static int
k_port_promisc(struct parse_state *st, const char *key, const char *v)
{
	return or_ini_get_bool(&st->ini, key, v,
			       &st->cfg->ports[st->idx].promiscuous);
}

static int
k_nh_port(struct parse_state *st, const char *key, const char *v)
{
	struct or_cfg_nexthop *nh = &st->cfg->nexthops[st->idx];

	if (!or_cfgv_name(v))
		return BAD(st, key, v, "the NAME of a [port NAME] section");
	strcpy(nh->port, v);
	nh->port_line = st->ini.line;
	return 0;
}

static const struct key_def eal_keys[] = {
	{ "args", k_eal_args, 1 },
	{ "main_lcore", k_main_lcore, 0 },
	{ "lcore_cpus", k_lcore_cpus, 0 },
	{ NULL, NULL, 0 },
};

static const struct key_def dp_keys[] = {
	{ "udp_port", k_udp_port, 0 },
	{ "channel", k_channel, 0 },
	{ "channel_peer_uid", k_chan_peer, 0 },
	{ "channel_peer_gid", k_chan_peer, 0 },
	{ "table_entries", k_dp_uint, 0 },
	{ "table_mem_mb", k_dp_uint, 0 },
	{ "rx_desc", k_dp_uint, 0 },
	{ "tx_desc", k_dp_uint, 0 },
	{ "mbufs", k_dp_uint, 0 },
	{ "idle_sleep_us", k_dp_uint, 0 },
	{ "start_rx_after_sync", k_dp_bool, 0 },
	{ "pdump", k_dp_bool, 0 },
	{ "auth", k_dp_bool, 0 },
	{ "time_window_s", k_dp_uint, 0 },
	{ "budget_burst", k_dp_uint, 0 },
	{ "budget_refill_per_hour", k_dp_uint, 0 },
	{ "budget_senders", k_dp_uint, 0 },
	{ "replay_capacity", k_dp_uint, 0 },
	{ "auth_time_checks", k_dp_bool, 0 },
	{ NULL, NULL, 0 },
};

static const struct key_def port_keys[] = {
	{ "device", k_port_device, 1 },
	{ "rx_queues", k_port_rxq, 0 },
	{ "workers", k_port_workers, 0 },
	{ "ip", k_ip, 0 },
	{ "mac", k_mac, 0 },
	{ "promiscuous", k_port_promisc, 0 },
	{ "mtu", k_port_mtu, 0 },
	{ NULL, NULL, 0 },
};

static const struct key_def nh_keys[] = {
	{ "port", k_nh_port, 0 },
	{ "mac", k_mac, 0 },
	{ "ip", k_ip, 0 },
	{ "udp_port", k_udp_port, 0 },
	{ NULL, NULL, 0 },
};

/* ---------------------------------------------------------- sections -- */

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "port NAME" / "nexthop ID": the argument after the word, or NULL. */
static const char *
section_arg(const char *s, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(s, word, n) != 0 || (s[n] != ' ' && s[n] != '\t'))
		return NULL;
	s += n;
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A section header: what it is, and where its keys go. */
static void
dp_section(struct or_ini *ini)
{
	struct parse_state *st = ini->user;
	struct or_cfg *cfg = st->cfg;
	const char *name = ini->section;
	const char *arg;
	uint64_t id;

	st->kind = SECT_BAD;
	if (starts_with(name, "control") || starts_with(name, "exporter") ||
	    starts_with(name, "metrics")) {
		st->kind = SECT_IGNORED;
	} else if (strcmp(name, "eal") == 0) {
		st->kind = SECT_EAL; /* given twice: the INI layer refuses */
	} else if (strcmp(name, "dataplane") == 0) {
		st->kind = SECT_DP;
	} else if ((arg = section_arg(name, "port")) != NULL) {
		if (!or_cfgv_name(arg)) {
			st_err(st, NULL, "invalid port name '%s' (expected "
				"1..31 characters of a-z, 0-9, _)", arg);
			return;
		}
		for (unsigned i = 0; i < cfg->n_ports; i++)
			if (strcmp(cfg->ports[i].name, arg) == 0) {
				st_err(st, NULL, "duplicate section (first on "
				       "line %u)", cfg->ports[i].line);
				return;
			}
		if (cfg->n_ports == OR_CFG_MAX_PORTS) {
			st_err(st, NULL, "more than %d ports", OR_CFG_MAX_PORTS);
			return;
		}
		st->idx = cfg->n_ports++;
		strcpy(cfg->ports[st->idx].name, arg);
		cfg->ports[st->idx].line = ini->line;
		cfg->ports[st->idx].mtu = OR_CFG_DEFAULT_MTU;
		st->kind = SECT_PORT;
	} else if ((arg = section_arg(name, "nexthop")) != NULL) {
		if (or_ini_uint(arg, 0, 65535, &id) != 0) {
			st_err(st, NULL, "invalid next-hop id '%s' (expected a "
				"delivery node id 0..65535)", arg);
			return;
		}
		for (unsigned i = 0; i < cfg->n_nexthops; i++)
			if (cfg->nexthops[i].id == id) {
				st_err(st, NULL, "duplicate section (first on "
				       "line %u)", cfg->nexthops[i].line);
				return;
			}
		if (cfg->n_nexthops == st->nh_alloc) {
			size_t n = st->nh_alloc ? st->nh_alloc * 2 : 16;
			void *p = realloc(cfg->nexthops, n * sizeof(*cfg->nexthops));

			if (p == NULL) {
				st_err(st, NULL, "out of memory");
				return;
			}
			cfg->nexthops = p;
			st->nh_alloc = n;
		}
		st->idx = cfg->n_nexthops++;
		memset(&cfg->nexthops[st->idx], 0, sizeof(cfg->nexthops[0]));
		cfg->nexthops[st->idx].id = (uint16_t)id;
		cfg->nexthops[st->idx].line = ini->line;
		st->kind = SECT_NEXTHOP;
	} else {
		st_err(st, NULL, "unknown section (expected eal, dataplane, "
			"port NAME or nexthop ID; control*, exporter* and "
			"metrics* sections are skipped)");
	}
}

/* A key line or a continuation line (ini->cont). */
static int
dp_key(struct or_ini *ini, const char *key, const char *value)
{
	struct parse_state *st = ini->user;
	const struct key_def *defs;
	unsigned i;

	switch (st->kind) {
	case SECT_EAL: defs = eal_keys; break;
	case SECT_DP: defs = dp_keys; break;
	case SECT_PORT: defs = port_keys; break;
	case SECT_NEXTHOP: defs = nh_keys; break;
	default: return 0; /* the control plane's, or already refused */
	}
	for (i = 0; defs[i].name != NULL; i++)
		if (strcmp(defs[i].name, key) == 0)
			break;
	if (defs[i].name == NULL)
		return or_ini_unknown_key(ini, key);
	if (or_ini_key_check(ini, key,
			     (defs[i].cont ? OR_INI_CONT : 0) |
			     (defs[i].fn == k_eal_args ? OR_INI_REPEAT : 0)) != 0)
		return -1;
	return defs[i].fn(st, key, value);
}

static const struct or_ini_ops dp_ops = {
	.section = dp_section,
	.key = dp_key,
};

/* -------------------------------------------------------------- load -- */

static void
cfg_defaults(struct or_cfg *cfg, const char *name)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->file, sizeof(cfg->file), "%s", name);
	cfg->udp_port = 7040;
	snprintf(cfg->channel, sizeof(cfg->channel), "%s",
		 OR_INI_DEFAULT_CHANNEL);
	cfg->table_entries = OR_CFG_DEFAULT_ENTRIES;
	cfg->rx_desc = OR_CFG_DEFAULT_DESC;
	cfg->tx_desc = OR_CFG_DEFAULT_DESC;
	cfg->pdump = 1;
	cfg->auth = 1;
	cfg->time_window_s = 30;
	cfg->budget_burst = OR_CFG_DEFAULT_BUDGET_BURST;
	cfg->budget_refill_per_hour = OR_CFG_DEFAULT_BUDGET_REFILL;
	cfg->budget_senders = OR_CFG_DEFAULT_BUDGET_SENDERS;
	cfg->replay_capacity = OR_CFG_DEFAULT_REPLAY_CAPACITY;
	cfg->auth_time_checks = 1;
}

/* channel_peer_uid not given: the user the shipped units run
 * optroute-control as, when this system has it (docs/dataplane.md). */
static void
chan_peer_default(struct parse_state *st)
{
	struct or_cfg *cfg = st->cfg;

	if (st->chan_peer_uid_line != 0)
		return;
	if (or_peer_uid_parse(OR_CFG_DEFAULT_CHAN_PEER_USER,
			      &cfg->chan_peer.uid) == 0) {
		cfg->chan_peer.has_uid = 1;
		cfg->chan_peer_uid_default = 1;
	}
}

/* After the INI layer's parse (rc): the whole-file checks. */
static int
parse_done(struct parse_state *st, int rc)
{
	if (rc == 0) {
		chan_peer_default(st);
		or_cfg_check(st);
	}
	if (rc == 0 && st->ini.failed)
		rc = -EINVAL;
	return rc;
}

int
or_cfg_load(struct or_cfg *cfg, const char *path)
{
	struct parse_state st = { .cfg = cfg };

	cfg_defaults(cfg, path);
	or_ini_init(&st.ini, path, &dp_ops, &st, cfg->err, sizeof(cfg->err));
	return parse_done(&st, or_ini_parse_file(&st.ini, path));
}

int
or_cfg_load_string(struct or_cfg *cfg, const char *name, const char *text)
{
	struct parse_state st = { .cfg = cfg };

	cfg_defaults(cfg, name);
	or_ini_init(&st.ini, name, &dp_ops, &st, cfg->err, sizeof(cfg->err));
	return parse_done(&st, or_ini_parse_string(&st.ini, text));
}

void
or_cfg_free(struct or_cfg *cfg)
{
	free(cfg->eal_args);
	free(cfg->nexthops);
	cfg->eal_args = NULL;
	cfg->nexthops = NULL;
	cfg->n_nexthops = 0;
}
