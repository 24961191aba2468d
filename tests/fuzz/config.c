/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Fuzz target "config": every configuration parser on the same file (one
 * INI file serves the three daemons): the dataplane's
 * (dataplane/config*.c, or_cfg_load), the control plane's
 * (control/daemon/cp_cfg.c, cp_cfg_load) and the exporter's
 * (control/exporter/exp_cfg.c, exp_cfg_load). The input is the file, NUL
 * bytes and all.
 *
 * Checked, with code written here:
 *  - an accepted file gives a configuration within the documented ranges
 *    (docs/dataplane.md, docs/control.md): ports named [a-z0-9_], each
 *    with an IP, one RX queue per worker, distinct worker lcores that are
 *    not the main lcore, mtu 96..9216, next hops sorted by id and naming a
 *    port, paths that fit their buffers, and so on;
 *  - an accepted file written back as INI by the harness (every key
 *    explicit) parses to the same configuration: the parsers mean what
 *    the values say;
 *  - the EAL argv of an accepted dataplane file has every port's device
 *    once and the lcores;
 *  - a refused file gets an error that starts with the file name and, if
 *    it names a line, one of the file's lines; the same file always gives
 *    the same result;
 *  - both accept: the control plane's dataplane channel is the
 *    dataplane's own unless [control] channel_socket overrides it; a
 *    [dataplane] channel one refuses, the other refuses too;
 *  - one INI layer (include/optroute/or_ini.h): a file with a line
 *    longer than 198 characters is refused by both (finding C2: the
 *    control plane read such lines in pieces); an error of the file's
 *    syntax (syntax error, NUL byte, long line, key outside a section)
 *    that one parser reports first, the other reports too, or an error
 *    on an earlier line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "control/daemon/cp_cfg.h"
#include "control/lib/pg/or_pg.h"
#include "control/daemon/cp_log.h"
#include "control/exporter/exp.h"
#include "dataplane/config.h"
#include "optroute/or_ini.h"
#include "fz_util.h"

#define MAX_TEXT 16384

/* The file: a memfd, so NUL bytes are kept. */
static int
file_of(const void *b, size_t n, char path[64])
{
	int fd = memfd_create("or_fuzz_cfg", MFD_CLOEXEC);

	FZ_CHECK(fd >= 0 && write(fd, b, n) == (ssize_t)n, "memfd");
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

static unsigned
count_lines(const uint8_t *b, size_t n, size_t *longest)
{
	unsigned l = 1;
	size_t cur = 0;

	*longest = 0;
	for (size_t i = 0; i < n; i++) {
		l += b[i] == '\n';
		cur = b[i] == '\n' ? 0 : cur + 1;
		if (cur > *longest)
			*longest = cur;
	}
	return l;
}

/* "path:LINE: ..." names a line of the file, or "path: ...". */
static void
check_err(const char *err, size_t cap, const char *path, unsigned lines)
{
	size_t pl = strlen(path);
	unsigned long ln;
	char *end;

	FZ_CHECK(memchr(err, 0, cap) != NULL && err[0] != '\0', "no error text");
	FZ_CHECK(strncmp(err, path, pl) == 0 && err[pl] == ':',
		 "error without the file name: %s", err);
	if (err[pl + 1] >= '0' && err[pl + 1] <= '9') {
		ln = strtoul(err + pl + 1, &end, 10);
		FZ_CHECK(*end == ':' && ln >= 1 && ln <= lines,
			 "error names line %lu of %u: %s", ln, lines, err);
	}
}

/* ------------------------------------------------------- dataplane ---- */

static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 31)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return 0;
	return 1;
}

static int
ip_ok(uint32_t ip)
{
	const uint8_t *b = (const uint8_t *)&ip;

	return ip != 0 && ip != 0xffffffffu && (b[0] & 0xf0) != 0xe0;
}

static void
check_dp(const struct or_cfg *c)
{
	FZ_CHECK(c->udp_port >= 1, "udp_port");
	FZ_CHECK(c->channel[0] != '\0' &&
			 memchr(c->channel, 0, sizeof(c->channel)) != NULL,
		 "channel");
	FZ_CHECK(c->table_entries >= 1 && c->table_entries <= (1ull << 32) &&
			 c->table_mem_mb <= (1u << 20),
		 "table");
	FZ_CHECK(c->rx_desc >= 64 && c->rx_desc <= 16384 && c->tx_desc >= 64 &&
			 c->tx_desc <= 16384,
		 "descriptors");
	FZ_CHECK(c->mbufs == 0 || (c->mbufs >= 1024 && c->mbufs <= 1u << 24),
		 "mbufs %u", c->mbufs);
	FZ_CHECK(c->idle_sleep_us <= 100000 && c->time_window_s >= 1 &&
			 c->time_window_s <= 3600,
		 "timing");
	FZ_CHECK(c->budget_burst >= 1 && c->budget_burst <= 1000000 &&
			 c->budget_refill_per_hour >= 1 &&
			 c->budget_refill_per_hour <= 3600000 &&
			 c->budget_senders >= 1024 &&
			 c->budget_senders <= (1u << 28),
		 "budget");
	FZ_CHECK(c->main_lcore <= OR_CFG_MAX_LCORE, "main_lcore");
	FZ_CHECK(c->n_ports >= 1 && c->n_ports <= OR_CFG_MAX_PORTS, "ports");
	for (unsigned i = 0; i < c->n_ports; i++) {
		const struct or_cfg_port *p = &c->ports[i];

		FZ_CHECK(name_ok(p->name), "port name '%s'", p->name);
		for (unsigned j = 0; j < i; j++)
			FZ_CHECK(strcmp(p->name, c->ports[j].name) != 0,
				 "two ports '%s'", p->name);
		FZ_CHECK(p->device[0] != '\0' &&
				 memchr(p->device, 0, sizeof(p->device)) != NULL,
			 "device");
		FZ_CHECK(p->has_ip && ip_ok(p->ip), "port ip");
		FZ_CHECK(!p->has_mac || (p->mac[0] & 1) == 0, "port mac");
		FZ_CHECK(p->rx_queues == p->n_workers &&
				 p->n_workers <= OR_CFG_MAX_QUEUES,
			 "queues %u workers %u", p->rx_queues, p->n_workers);
		FZ_CHECK(p->mtu >= 96 && p->mtu <= 9216, "mtu %u", p->mtu);
		for (unsigned q = 0; q < p->n_workers; q++) {
			FZ_CHECK(p->workers[q] <= OR_CFG_MAX_LCORE &&
					 p->workers[q] != c->main_lcore,
				 "worker lcore %u", p->workers[q]);
			for (unsigned r = 0; r < q; r++)
				FZ_CHECK(p->workers[r] != p->workers[q],
					 "lcore twice in a port");
		}
	}
	FZ_CHECK(c->n_workers >= 1 && c->n_workers <= OR_CFG_MAX_WORKERS,
		 "n_workers");
	for (unsigned i = 1; i < c->n_workers; i++)
		FZ_CHECK(c->workers[i - 1] < c->workers[i], "workers order");
	for (unsigned i = 0; i < c->n_nexthops; i++) {
		const struct or_cfg_nexthop *nh = &c->nexthops[i];

		FZ_CHECK(i == 0 || c->nexthops[i - 1].id < nh->id,
			 "next hops not sorted or repeated");
		FZ_CHECK(nh->port_idx < c->n_ports &&
				 strcmp(c->ports[nh->port_idx].name, nh->port) ==
					 0,
			 "next hop port");
		FZ_CHECK(nh->has_mac && nh->has_ip && ip_ok(nh->ip) &&
				 (nh->mac[0] & 1) == 0 && nh->udp_port != 0,
			 "next hop addresses");
	}
}

static void
put_ip(FILE *f, const char *key, uint32_t ip)
{
	const uint8_t *b = (const uint8_t *)&ip;

	fprintf(f, "%s = %u.%u.%u.%u\n", key, b[0], b[1], b[2], b[3]);
}

static void
put_mac(FILE *f, const uint8_t *m)
{
	fprintf(f, "mac = %02x:%02x:%02x:%02x:%02x:%02x\n", m[0], m[1], m[2],
		m[3], m[4], m[5]);
}

/* The configuration as INI, every key explicit. 0, or -1 if a value
 * would not survive (too long for one line, or a character INI eats). */
static int
write_dp(const struct or_cfg *c, FILE *f)
{
	static const char *const rx[3] = { "no", "yes", "ack" };

	if (c->eal_args != NULL) {
		if (strlen(c->eal_args) > 150 || strpbrk(c->eal_args, ";#") ||
		    c->eal_args[0] == ' ')
			return -1;
		fprintf(f, "[eal]\nargs = %s\n", c->eal_args);
	} else {
		fprintf(f, "[eal]\n");
	}
	fprintf(f, "main_lcore = %u\n", c->main_lcore);
	if (c->n_lcore_cpus > 0) {
		fprintf(f, "lcore_cpus =");
		for (unsigned i = 0; i < c->n_lcore_cpus; i++)
			fprintf(f, " %u@%u", c->lcore_cpus[i].lcore,
				c->lcore_cpus[i].cpu);
		fprintf(f, "\n");
	}
	if (strlen(c->channel) > 150 || strpbrk(c->channel, ";#"))
		return -1;
	fprintf(f, "[dataplane]\nudp_port = %u\nchannel = %s\n"
		"table_entries = %llu\ntable_mem_mb = %llu\n"
		"start_rx_after_sync = %s\nrx_desc = %u\ntx_desc = %u\n"
		"mbufs = %u\nidle_sleep_us = %u\npdump = %s\nauth = %s\n"
		"time_window_s = %u\nbudget_burst = %u\n"
		"budget_refill_per_hour = %u\nbudget_senders = %u\n"
		"auth_time_checks = %s\n",
		c->udp_port, c->channel, (unsigned long long)c->table_entries,
		(unsigned long long)c->table_mem_mb,
		rx[c->start_rx_after_sync], c->rx_desc, c->tx_desc, c->mbufs,
		c->idle_sleep_us, c->pdump ? "yes" : "no", c->auth ? "yes" : "no",
		c->time_window_s, c->budget_burst, c->budget_refill_per_hour,
		c->budget_senders, c->auth_time_checks ? "yes" : "no");
	for (unsigned i = 0; i < c->n_ports; i++) {
		const struct or_cfg_port *p = &c->ports[i];

		if (strlen(p->device) > 150 || strpbrk(p->device, ";# \t") ||
		    p->device[0] == '[')
			return -1;
		fprintf(f, "[port %s]\ndevice = %s\nrx_queues = %u\n", p->name,
			p->device, p->rx_queues);
		if (p->n_workers > 0) {
			fprintf(f, "workers = ");
			for (unsigned q = 0; q < p->n_workers; q++)
				fprintf(f, "%s%u", q ? "," : "", p->workers[q]);
			fprintf(f, "\n");
		}
		put_ip(f, "ip", p->ip);
		if (p->has_mac)
			put_mac(f, p->mac);
		fprintf(f, "promiscuous = %s\nmtu = %u\n",
			p->promiscuous ? "yes" : "no", p->mtu);
	}
	for (unsigned i = 0; i < c->n_nexthops; i++) {
		const struct or_cfg_nexthop *nh = &c->nexthops[i];

		fprintf(f, "[nexthop %u]\nport = %s\n", nh->id, nh->port);
		put_mac(f, nh->mac);
		put_ip(f, "ip", nh->ip);
		fprintf(f, "udp_port = %u\n", nh->udp_port);
	}
	return 0;
}

static void
same_dp(const struct or_cfg *a, const struct or_cfg *b)
{
#define EQ(f) FZ_CHECK(a->f == b->f, "round trip: " #f)
	FZ_CHECK((a->eal_args == NULL) == (b->eal_args == NULL) &&
			 (a->eal_args == NULL ||
			  strcmp(a->eal_args, b->eal_args) == 0),
		 "round trip: eal args");
	EQ(main_lcore); EQ(n_lcore_cpus); EQ(udp_port); EQ(table_entries);
	EQ(table_mem_mb); EQ(start_rx_after_sync); EQ(rx_desc); EQ(tx_desc);
	EQ(mbufs); EQ(idle_sleep_us); EQ(pdump); EQ(auth); EQ(time_window_s);
	EQ(budget_burst); EQ(budget_refill_per_hour); EQ(budget_senders);
	EQ(auth_time_checks); EQ(n_ports); EQ(n_nexthops); EQ(n_workers);
	FZ_CHECK(strcmp(a->channel, b->channel) == 0, "round trip: channel");
	FZ_CHECK(memcmp(a->lcore_cpus, b->lcore_cpus,
			a->n_lcore_cpus * sizeof(a->lcore_cpus[0])) == 0,
		 "round trip: lcore_cpus");
	FZ_CHECK(memcmp(a->workers, b->workers,
			a->n_workers * sizeof(a->workers[0])) == 0,
		 "round trip: workers");
	for (unsigned i = 0; i < a->n_ports; i++) {
		const struct or_cfg_port *p = &a->ports[i], *q = &b->ports[i];

		FZ_CHECK(strcmp(p->name, q->name) == 0 &&
				 strcmp(p->device, q->device) == 0 &&
				 p->is_pci == q->is_pci &&
				 p->rx_queues == q->rx_queues &&
				 p->n_workers == q->n_workers &&
				 memcmp(p->workers, q->workers,
					p->n_workers * sizeof(p->workers[0])) ==
					 0 &&
				 p->ip == q->ip && p->has_mac == q->has_mac &&
				 (!p->has_mac || memcmp(p->mac, q->mac, 6) == 0) &&
				 p->promiscuous == q->promiscuous &&
				 p->mtu == q->mtu,
			 "round trip: port %u", i);
	}
	for (unsigned i = 0; i < a->n_nexthops; i++) {
		const struct or_cfg_nexthop *x = &a->nexthops[i],
					    *y = &b->nexthops[i];

		FZ_CHECK(x->id == y->id && strcmp(x->port, y->port) == 0 &&
				 x->port_idx == y->port_idx &&
				 memcmp(x->mac, y->mac, 6) == 0 && x->ip == y->ip &&
				 x->udp_port == y->udp_port,
			 "round trip: next hop %u", i);
	}
#undef EQ
}

/* "l" or "l@cpu" as [eal] lcore_cpus maps it. */
static int
lcore_str(const struct or_cfg *c, unsigned l, char *out)
{
	for (unsigned i = 0; i < c->n_lcore_cpus; i++)
		if (c->lcore_cpus[i].lcore == l)
			return sprintf(out, "%u@%u", l, c->lcore_cpus[i].cpu);
	return sprintf(out, "%u", l);
}

static void
check_eal_argv(const struct or_cfg *c)
{
	char **argv, want[1024], main_arg[32];
	int argc, has_l = 0, has_main = 0, k;

	FZ_CHECK(or_cfg_eal_argv(c, "optroute-dataplane", &argc, &argv) == 0,
		 "eal argv");
	FZ_CHECK(argc >= 1 && strcmp(argv[0], "optroute-dataplane") == 0 &&
			 argv[argc] == NULL,
		 "argv shape");
	/* The main lcore, then every worker, ascending. */
	k = lcore_str(c, c->main_lcore, want);
	for (unsigned i = 0; i < c->n_workers; i++) {
		want[k++] = ',';
		k += lcore_str(c, c->workers[i], want + k);
	}
	snprintf(main_arg, sizeof(main_arg), "--main-lcore=%u", c->main_lcore);
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-l") == 0 ||
		     strcmp(argv[i], "--lcores") == 0) &&
		    i + 1 < argc) {
			FZ_CHECK(strcmp(argv[i + 1], want) == 0,
				 "lcores '%s', want '%s'", argv[i + 1], want);
			FZ_CHECK(strcmp(argv[i], c->n_lcore_cpus ? "--lcores"
								 : "-l") == 0,
				 "lcore option");
			has_l++;
		}
		has_main += strcmp(argv[i], main_arg) == 0;
	}
	FZ_CHECK(has_l == 1 && has_main == 1, "argv lcores %d main %d", has_l,
		 has_main);
	for (unsigned p = 0; p < c->n_ports; p++) {
		int seen = 0;

		for (int i = 1; i < argc; i++) {
			if (strncmp(argv[i], "--vdev=", 7) == 0 &&
			    strcmp(argv[i] + 7, c->ports[p].device) == 0)
				seen++;
			if (strcmp(argv[i], "-a") == 0 && i + 1 < argc &&
			    strcmp(argv[i + 1], c->ports[p].device) == 0)
				seen++;
		}
		FZ_CHECK(seen == 1, "port %u device in argv %d times", p, seen);
	}
	free(argv);
}

/* ---------------------------------------------------------- control --- */

static int
path_ok(const char *p, size_t size)
{
	return p[0] != '\0' && memchr(p, 0, size) != NULL;
}

static void
check_cp(const struct cp_cfg *c)
{
	FZ_CHECK(path_ok(c->mgmt_socket, sizeof(c->mgmt_socket)) &&
			 path_ok(c->chan_socket, sizeof(c->chan_socket)) &&
			 path_ok(c->store_path, sizeof(c->store_path)) &&
			 path_ok(c->key_file, sizeof(c->key_file)),
		 "paths");
	FZ_CHECK(c->key_epoch <= 255, "key_epoch");
	FZ_CHECK(c->store_map_mb == 0 ||
			 (c->store_map_mb >= 16 && c->store_map_mb <= 1u << 24),
		 "store_map_mb");
	FZ_CHECK(c->max_clients >= 1 && c->max_clients <= 65536 &&
			 c->max_pending >= 1 && c->max_pending <= 1048576 &&
			 c->line_timeout_ms >= 10 && c->idle_timeout_ms >= 10 &&
			 c->wait_timeout_ms >= 1 && c->chan_retry_ms >= 10 &&
			 c->chan_queue_max >= 1024,
		 "limits");
	FZ_CHECK((c->node_policy.kind == OR_NODE_POLICY_FIXED) ||
			 (c->node_policy.kind == OR_NODE_POLICY_HASH &&
			  c->node_policy.n_nodes >= 1 &&
			  c->node_policy.n_nodes <= 65536),
		 "node policy");
	FZ_CHECK(c->log_level >= CP_LOG_ERR && c->log_level <= CP_LOG_DEBUG,
		 "log level");
	/* store = postgresql only with a connection string that holds no
	 * password, and an appliance name of the allowed characters */
	FZ_CHECK(!c->store_pg || (c->store_conninfo[0] != '\0' &&
				  c->appliance_name[0] != '\0'),
		 "store = postgresql without conninfo or name");
	FZ_CHECK(strstr(c->store_conninfo, "password") == NULL ||
			 or_pg_conninfo_check(c->store_conninfo, NULL) == 0,
		 "a conninfo with a password was taken");
	FZ_CHECK(memchr(c->appliance_name, 0, sizeof(c->appliance_name)) !=
				 NULL &&
			 strspn(c->appliance_name,
				"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				"0123456789._-") == strlen(c->appliance_name),
		 "appliance name");
	FZ_CHECK(c->fleet_commit_timeout_ms >= 100 &&
			 c->fleet_commit_timeout_ms <= 600000 &&
			 c->fleet_report_ms >= 50 && c->fleet_report_ms <= 60000,
		 "fleet limits");
}

static int
write_cp(const struct cp_cfg *c, FILE *f)
{
	static const char *const lv[8] = { [3] = "error", [4] = "warning",
					   [5] = "notice", [6] = "info",
					   [7] = "debug" };
	const char *paths[4][2] = {
		{ "mgmt_socket", c->mgmt_socket },
		{ "channel_socket", c->chan_socket },
		{ "store_path", c->store_path },
		{ "key_file", c->key_file },
	};
	fprintf(f, "[control]\n");
	for (int i = 0; i < 4; i++) {
		if (strlen(paths[i][1]) > 150 || strpbrk(paths[i][1], ";#"))
			return -1;
		fprintf(f, "%s = %s\n", paths[i][0], paths[i][1]);
	}
	if (c->store_map_mb != 0)
		fprintf(f, "store_map_mb = %llu\n",
			(unsigned long long)c->store_map_mb);
	fprintf(f, "key_epoch = %u\n", c->key_epoch);
	if (c->has_uid)
		fprintf(f, "allowed_uid = %u\n", (unsigned)c->allowed_uid);
	if (c->has_gid)
		fprintf(f, "allowed_gid = %u\n", (unsigned)c->allowed_gid);
	if (c->has_ro_gid)
		fprintf(f, "readonly_gid = %u\n", (unsigned)c->readonly_gid);
	if (c->node_policy.kind == OR_NODE_POLICY_HASH)
		fprintf(f, "node_policy = hash %u\n", c->node_policy.n_nodes);
	else
		fprintf(f, "node_policy = fixed %u\n", c->node_policy.node);
	fprintf(f, "notice_version = %u\nmax_clients = %u\nmax_pending = %u\n"
		"line_timeout_ms = %u\nidle_timeout_ms = %u\n"
		"wait_timeout_ms = %u\nchannel_retry_ms = %u\n"
		"channel_queue_max = %u\nlog_level = %s\n",
		c->notice_version, c->max_clients, c->max_pending,
		c->line_timeout_ms, c->idle_timeout_ms, c->wait_timeout_ms,
		c->chan_retry_ms, c->chan_queue_max, lv[c->log_level]);
	if (strlen(c->store_conninfo) > 150 || strpbrk(c->store_conninfo, ";#"))
		return -1;
	if (c->store_conninfo[0] != '\0')
		fprintf(f, "store_conninfo = %s\n", c->store_conninfo);
	if (c->appliance_name[0] != '\0')
		fprintf(f, "appliance_name = %s\n", c->appliance_name);
	fprintf(f, "store = %s\nfleet_commit_timeout_ms = %u\n"
		"fleet_report_ms = %u\nfleet_silence_ms = %u\n"
		"fleet_resync_after = %llu\n",
		c->store_pg ? "postgresql" : "lmdb",
		c->fleet_commit_timeout_ms, c->fleet_report_ms,
		c->fleet_silence_ms,
		(unsigned long long)c->fleet_resync_after);
	return 0;
}

static void
same_cp(const struct cp_cfg *a, const struct cp_cfg *b)
{
#define EQ(f) FZ_CHECK(a->f == b->f, "round trip: " #f)
	FZ_CHECK(strcmp(a->mgmt_socket, b->mgmt_socket) == 0 &&
			 strcmp(a->chan_socket, b->chan_socket) == 0 &&
			 strcmp(a->store_path, b->store_path) == 0 &&
			 strcmp(a->key_file, b->key_file) == 0,
		 "round trip: paths");
	EQ(store_map_mb); EQ(key_epoch); EQ(has_uid); EQ(has_gid);
	EQ(allowed_uid); EQ(allowed_gid); EQ(node_policy.kind);
	EQ(notice_version); EQ(max_clients); EQ(max_pending);
	EQ(line_timeout_ms); EQ(idle_timeout_ms); EQ(wait_timeout_ms);
	EQ(chan_retry_ms); EQ(chan_queue_max); EQ(log_level);
	EQ(has_ro_gid); EQ(readonly_gid);
	EQ(store_pg); EQ(fleet_commit_timeout_ms); EQ(fleet_report_ms);
	EQ(fleet_silence_ms); EQ(fleet_resync_after);
	FZ_CHECK(strcmp(a->store_conninfo, b->store_conninfo) == 0 &&
			 strcmp(a->appliance_name, b->appliance_name) == 0,
		 "round trip: store_conninfo, appliance_name");
	if (a->node_policy.kind == OR_NODE_POLICY_HASH)
		EQ(node_policy.n_nodes);
	else
		EQ(node_policy.node);
#undef EQ
}

/* The exporter: /metrics beyond loopback only when allowed. */
static void
check_exp(const struct exp_cfg *c)
{
	FZ_CHECK(c->allow_remote || or_listen_is_loopback(&c->addr),
		 "metrics beyond loopback without allow_remote");
	FZ_CHECK(c->max_age_ms <= 60000, "max_age_ms");
	FZ_CHECK(c->log_level >= OR_LOG_ERR && c->log_level <= OR_LOG_DEBUG,
		 "exporter log level");
	FZ_CHECK(path_ok(c->mgmt_socket, sizeof(c->mgmt_socket)),
		 "exporter's management socket");
}

static int
write_exp(const struct exp_cfg *c, FILE *f)
{
	static const char *const lv[8] = { [3] = "error", [4] = "warning",
					   [5] = "notice", [6] = "info",
					   [7] = "debug" };
	char addr[OR_LISTEN_STR_LEN];

	if (strlen(c->mgmt_socket) > 150 || strpbrk(c->mgmt_socket, ";#"))
		return -1;
	or_listen_str(&c->addr, addr);
	fprintf(f, "[control]\nmgmt_socket = %s\n[exporter]\nlisten = %s\n"
		"allow_remote = %s\nmax_age_ms = %u\nlog_level = %s\n",
		c->mgmt_socket, addr, c->allow_remote ? "yes" : "no",
		c->max_age_ms, lv[c->log_level]);
	return 0;
}

static void
same_exp(const struct exp_cfg *a, const struct exp_cfg *b)
{
	FZ_CHECK(strcmp(a->mgmt_socket, b->mgmt_socket) == 0 &&
			 a->addr_len == b->addr_len &&
			 memcmp(&a->addr, &b->addr, a->addr_len) == 0 &&
			 a->allow_remote == b->allow_remote &&
			 a->max_age_ms == b->max_age_ms &&
			 a->log_level == b->log_level,
		 "round trip: exporter");
}

/* ------------------------------------------------------------- main --- */

/* "path:LINE: [dataplane] channel: invalid value ...": the error is about
 * that key (not a value quoting those words). */
static int
about_channel(const char *err, const char *path)
{
	static const char what[] = "[dataplane] channel: invalid value";
	size_t pl = strlen(path);

	if (strncmp(err, path, pl) != 0 || err[pl] != ':')
		return 0;
	err += pl + 1;
	while (*err >= '0' && *err <= '9')
		err++;
	return strncmp(err, ": ", 2) == 0 &&
	       strncmp(err + 2, what, sizeof(what) - 1) == 0;
}

/* The line an error names ("path:LINE: ..."), or 0. */
static unsigned long
err_line(const char *err, const char *path)
{
	size_t pl = strlen(path);

	if (strncmp(err, path, pl) != 0 || err[pl] != ':' ||
	    err[pl + 1] < '0' || err[pl + 1] > '9')
		return 0;
	return strtoul(err + pl + 1, NULL, 10);
}

/* An error of the INI layer's own (the file's syntax, whatever the
 * daemon) reported by one parser: the other (other, NULL if it accepted)
 * reports the same, or an error on an earlier line. */
static void
same_layer_error(const char *err, const char *other, const char *path)
{
	static const char *const layer[] = {
		"syntax error (expected [section]", "NUL byte in file",
		"line longer than 198 characters", "key '",
	};
	unsigned long l = err_line(err, path), lo;
	const char *m;
	int is_layer = 0;

	if (l == 0)
		return;
	/* The message after "path:LINE: " and a "[SECTION]: " (a section
	 * name has no ']'); a key's errors are "[SECTION] KEY: ...", so a
	 * value quoting these words is not taken for them. */
	m = strchr(err + strlen(path) + 1, ' ') + 1;
	if (*m == '[') {
		m = strchr(m, ']');
		if (m == NULL || strncmp(m, "]: ", 3) != 0)
			return;
		m += 3;
	}
	for (size_t i = 0; i < sizeof(layer) / sizeof(layer[0]); i++)
		is_layer |= strncmp(m, layer[i], strlen(layer[i])) == 0;
	if (!is_layer)
		return;
	FZ_CHECK(other != NULL, "'%s' accepted by the other daemon", err);
	lo = err_line(other, path);
	FZ_CHECK(lo != 0 && (lo < l || strcmp(other, err) == 0),
		 "one INI layer, two answers: '%s' and '%s'", err, other);
}

/* A configuration written back as INI by w (NULL: it cannot be). */
static char *
round_text(int (*w)(const void *, FILE *), const void *c, size_t *n)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, n);

	FZ_CHECK(f != NULL, "memstream");
	if (w(c, f) != 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static int
w_dp(const void *c, FILE *f)
{
	return write_dp(c, f);
}

static int
w_cp(const void *c, FILE *f)
{
	return write_cp(c, f);
}

static int
w_exp(const void *c, FILE *f)
{
	return write_exp(c, f);
}

/* The exporter's parser on the file at path: the same answer twice, an
 * accepted file within the rules and written back to the same. */
static int
fuzz_exp(const char *path, unsigned lines, struct exp_cfg *ex)
{
	static struct exp_cfg ex2;
	char err[EXP_CFG_ERR_LEN], err2[EXP_CFG_ERR_LEN], path2[64];
	char *text;
	size_t n;
	int rc, rc2, fd2;

	exp_cfg_defaults(ex);
	rc = exp_cfg_load(path, ex, err);
	exp_cfg_defaults(&ex2);
	rc2 = exp_cfg_load(path, &ex2, err2);
	FZ_CHECK(rc == rc2 && (rc == 0 || strcmp(err, err2) == 0),
		 "exporter: not repeatable");
	if (rc != 0) {
		FZ_CHECK(rc == -EINVAL, "exporter parser %d", rc);
		check_err(err, sizeof(err), path, lines);
		return rc;
	}
	check_exp(ex);
	text = round_text(w_exp, ex, &n);
	if (text != NULL) {
		fd2 = file_of(text, n, path2);
		exp_cfg_defaults(&ex2);
		rc2 = exp_cfg_load(path2, &ex2, err2);
		FZ_CHECK(rc2 == 0, "written back, refused: %s\n%s", err2, text);
		same_exp(ex, &ex2);
		close(fd2);
		free(text);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct or_cfg dp, dp2;
	static struct cp_cfg cp, cp2;
	static struct exp_cfg ex;
	char path[64], path2[64], cerr[CP_CFG_ERR_LEN], cerr2[CP_CFG_ERR_LEN];
	size_t longest;
	unsigned lines = count_lines(data, size, &longest);
	int fd, fd2, rd, rc, rc2;
	char *text;
	size_t n;

	if (size > MAX_TEXT)
		return 0;
	fd = file_of(data, size, path);

	/* The dataplane's parser, twice: the same answer. */
	rd = or_cfg_load(&dp, path);
	rc2 = or_cfg_load(&dp2, path);
	FZ_CHECK(rd == rc2 && strcmp(dp.err, dp2.err) == 0, "not repeatable");
	or_cfg_free(&dp2);
	if (rd != 0) {
		FZ_CHECK(rd == -EINVAL, "dataplane parser %d", rd);
		check_err(dp.err, sizeof(dp.err), path, lines);
	} else {
		check_dp(&dp);
		check_eal_argv(&dp);
		text = round_text(w_dp, &dp, &n);
		if (text != NULL) {
			fd2 = file_of(text, n, path2);
			rc2 = or_cfg_load(&dp2, path2);
			FZ_CHECK(rc2 == 0, "written back, refused: %s\n%s",
				 dp2.err, text);
			same_dp(&dp, &dp2);
			or_cfg_free(&dp2);
			close(fd2);
			free(text);
		}
	}

	/* The control plane's parser. */
	cp_cfg_defaults(&cp);
	rc = cp_cfg_load(path, &cp, cerr);
	cp_cfg_defaults(&cp2);
	rc2 = cp_cfg_load(path, &cp2, cerr2);
	FZ_CHECK(rc == rc2 && (rc == 0 || strcmp(cerr, cerr2) == 0),
		 "not repeatable");
	if (rc != 0) {
		FZ_CHECK(rc == -EINVAL, "control parser %d", rc);
		check_err(cerr, sizeof(cerr), path, lines);
	} else {
		check_cp(&cp);
		text = round_text(w_cp, &cp, &n);
		if (text != NULL) {
			fd2 = file_of(text, n, path2);
			cp_cfg_defaults(&cp2);
			rc2 = cp_cfg_load(path2, &cp2, cerr2);
			FZ_CHECK(rc2 == 0, "written back, refused: %s\n%s", cerr2,
				 text);
			same_cp(&cp, &cp2);
			close(fd2);
			free(text);
		}
	}

	/* The exporter's parser; [control] mgmt_socket is defined once: the
	 * exporter asks the socket the control plane listens on. */
	if (fuzz_exp(path, lines, &ex) == 0 && rc == 0)
		FZ_CHECK(strcmp(ex.mgmt_socket, cp.mgmt_socket) == 0,
			 "exporter asks '%s', control plane listens on '%s'",
			 ex.mgmt_socket, cp.mgmt_socket);

	if (getenv("OR_FUZZ_DEBUG") != NULL)
		fprintf(stderr, "config: dataplane %d %s | control %d %s\n", rd,
			dp.err, rc, rc ? cerr : "");
	/* One file, two daemons: the same dataplane socket. */
	if (rd == 0 && rc == 0 &&
	    !fz_contains(data, size, "channel_socket", 14))
		FZ_CHECK(strcmp(dp.channel, cp.chan_socket) == 0,
			 "dataplane channel '%s', control plane uses '%s'",
			 dp.channel, cp.chan_socket);
	if (rd != 0 && about_channel(dp.err, path))
		FZ_CHECK(rc != 0, "a channel the dataplane refuses, accepted: "
			 "%s", dp.err);
	if (rc != 0 && about_channel(cerr, path))
		FZ_CHECK(rd != 0, "a channel the control plane refuses, "
			 "accepted by the dataplane: %s", cerr);
	/* One INI layer: lines are lines for both (C2), and what is wrong
	 * with the file's syntax is wrong for both. */
	if (longest > OR_INI_LINE_MAX)
		FZ_CHECK(rd != 0 && rc != 0, "a %zu-character line accepted "
			 "(dataplane %d, control %d)", longest, rd, rc);
	if (rd != 0)
		same_layer_error(dp.err, rc != 0 ? cerr : NULL, path);
	if (rc != 0)
		same_layer_error(cerr, rd != 0 ? dp.err : NULL, path);
	or_cfg_free(&dp);
	close(fd);
	return 0;
}
