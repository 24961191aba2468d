/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The dataplane configuration's whole-file checks (config.c parses): what
 * no single line can tell — required keys, queues against worker lcores,
 * lcores used twice, next hops naming ports — with the line to blame, in
 * the INI layer's error format.
 */
#include <stdlib.h>
#include <string.h>

#include "config_parse.h"
#include "config_val.h"

static int
cmp_nh(const void *a, const void *b)
{
	const struct or_cfg_nexthop *x = a, *y = b;

	return (int)x->id - (int)y->id;
}

void
or_cfg_check(struct parse_state *st)
{
	static const char *const lcore_opts[] = { "-l", "-c", "--lcores",
		"--main-lcore", "--master-lcore", NULL };
	static const char *const nopci[] = { "--no-pci", NULL };
	struct or_cfg *cfg = st->cfg;
	struct or_ini *ini = &st->ini;
	char sect[OR_INI_NAME_LEN];
	unsigned rxq = 0;

	if (or_cfgv_has_arg(cfg->eal_args, lcore_opts)) {
		or_ini_err_at(ini, st->args_line, "eal", "args", "lcores are set "
			      "by [eal] main_lcore and [port] workers: remove "
			      "-l/-c/--lcores/--main-lcore");
		return;
	}
	if (cfg->n_ports == 0) {
		or_ini_err_at(ini, 0, NULL, NULL, "no [port NAME] section");
		return;
	}
	for (unsigned i = 0; i < cfg->n_ports; i++) {
		struct or_cfg_port *p = &cfg->ports[i];
		char dev[OR_CFG_DEV_LEN];

		snprintf(sect, sizeof(sect), "port %s", p->name);
		if (p->device[0] == '\0') {
			or_ini_err_at(ini, p->line, sect, NULL,
				      "missing key 'device'");
			return;
		}
		if (!p->has_ip) {
			or_ini_err_at(ini, p->line, sect, NULL, "missing key 'ip'");
			return;
		}
		p->is_pci = or_cfgv_pci(p->device);
		if (p->is_pci && or_cfgv_has_arg(cfg->eal_args, nopci)) {
			or_ini_err_at(ini, p->line, sect, "device", "PCI device "
				      "'%s' but [eal] args has --no-pci",
				      p->device);
			return;
		}
		or_cfg_dev_name(p, dev, sizeof(dev));
		for (unsigned j = 0; j < i; j++) {
			char other[OR_CFG_DEV_LEN];

			or_cfg_dev_name(&cfg->ports[j], other, sizeof(other));
			if (strcmp(dev, other) == 0) {
				or_ini_err_at(ini, p->line, sect, "device",
					      "device '%s' already used by "
					      "[port %s]", dev,
					      cfg->ports[j].name);
				return;
			}
		}
		if (!p->has_rx_queues) {
			p->rx_queues = p->n_workers;
		} else if (p->rx_queues != p->n_workers) {
			or_ini_err_at(ini, p->rx_queues_line, sect, "rx_queues",
				      "%u RX queues but %u worker lcores "
				      "(workers needs one lcore per RX queue)",
				      p->rx_queues, p->n_workers);
			return;
		}
		for (unsigned q = 0; q < p->n_workers; q++) {
			unsigned l = p->workers[q], k;

			if (l == cfg->main_lcore) {
				or_ini_err_at(ini, p->workers_line, sect,
					      "workers", "lcore %u is the main "
					      "lcore ([eal] main_lcore)", l);
				return;
			}
			for (k = 0; k < cfg->n_workers; k++)
				if (cfg->workers[k] == l)
					break;
			if (k < cfg->n_workers)
				continue;
			if (cfg->n_workers == OR_CFG_MAX_WORKERS) {
				or_ini_err_at(ini, p->workers_line, sect,
					      "workers", "more than %d worker "
					      "lcores in all",
					      OR_CFG_MAX_WORKERS);
				return;
			}
			/* keep ascending */
			while (k > 0 && cfg->workers[k - 1] > l) {
				cfg->workers[k] = cfg->workers[k - 1];
				k--;
			}
			cfg->workers[k] = l;
			cfg->n_workers++;
		}
		rxq += p->rx_queues;
	}
	if (rxq == 0) {
		or_ini_err_at(ini, 0, NULL, NULL, "no port has workers: nothing "
			      "would receive (set workers in a [port NAME] "
			      "section)");
		return;
	}
	for (unsigned i = 0; i < cfg->n_lcore_cpus; i++) {
		unsigned l = cfg->lcore_cpus[i].lcore, k = 0;

		while (k < cfg->n_workers && cfg->workers[k] != l)
			k++;
		if (k == cfg->n_workers && l != cfg->main_lcore) {
			or_ini_err_at(ini, st->lcore_cpus_line, "eal",
				      "lcore_cpus", "lcore %u is neither "
				      "main_lcore nor a worker", l);
			return;
		}
	}
	for (unsigned i = 0; i < cfg->n_nexthops; i++) {
		struct or_cfg_nexthop *nh = &cfg->nexthops[i];
		unsigned j;

		snprintf(sect, sizeof(sect), "nexthop %u", nh->id);
		if (nh->port[0] == '\0' || !nh->has_mac || !nh->has_ip) {
			or_ini_err_at(ini, nh->line, sect, NULL,
				      "missing key '%s'",
				      nh->port[0] == '\0' ? "port" :
				      !nh->has_mac ? "mac" : "ip");
			return;
		}
		for (j = 0; j < cfg->n_ports; j++)
			if (strcmp(cfg->ports[j].name, nh->port) == 0)
				break;
		if (j == cfg->n_ports) {
			or_ini_err_at(ini, nh->port_line, sect, "port",
				      "no [port %s] section", nh->port);
			return;
		}
		nh->port_idx = j;
		if (nh->udp_port == 0)
			nh->udp_port = cfg->udp_port;
	}
	if (cfg->n_nexthops > 1)
		qsort(cfg->nexthops, cfg->n_nexthops, sizeof(*cfg->nexthops),
		      cmp_nh);
}

