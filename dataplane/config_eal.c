/* SPDX-License-Identifier: BSD-3-Clause
 *
 * From the configuration to EAL: the argv and the names EAL gives devices.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

void
or_cfg_dev_name(const struct or_cfg_port *p, char *buf, unsigned len)
{
	size_t n = strcspn(p->device, ",");
	const char *dom = "";

	/* EAL names PCI devices with their domain. */
	if (p->is_pci && n == 7)
		dom = "0000:";
	snprintf(buf, len, "%s%.*s", dom, (int)n, p->device);
	if (p->is_pci)
		for (char *c = buf; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
}

/* "sep lcore" or "sep lcore@cpu"; returns the characters written. */
static int
put_lcore(char *s, const struct or_cfg *cfg, unsigned lcore, const char *sep)
{
	for (unsigned i = 0; i < cfg->n_lcore_cpus; i++)
		if (cfg->lcore_cpus[i].lcore == lcore)
			return sprintf(s, "%s%u@%u", sep, lcore,
				       cfg->lcore_cpus[i].cpu);
	return sprintf(s, "%s%u", sep, lcore);
}

int
or_cfg_eal_argv(const struct or_cfg *cfg, const char *argv0, int *argc,
		char ***argv)
{
	size_t args_len = cfg->eal_args ? strlen(cfg->eal_args) + 1 : 0;
	size_t nargs = 8 + args_len + 2 * cfg->n_ports;
	size_t bytes = strlen(argv0) + 1 + args_len + 64 +
		       (OR_CFG_MAX_WORKERS + 1) * 11;
	char **v, *s, *tok, *save = NULL;
	int n = 0;

	for (unsigned i = 0; i < cfg->n_ports; i++)
		bytes += strlen(cfg->ports[i].device) + 16;
	v = calloc(1, nargs * sizeof(char *) + bytes);
	if (v == NULL)
		return -ENOMEM;
	s = (char *)(v + nargs);

#define PUSH(...) (v[n++] = s, s += sprintf(s, __VA_ARGS__) + 1)
	PUSH("%s", argv0);
	if (cfg->eal_args != NULL) {
		char *copy = s;

		strcpy(copy, cfg->eal_args);
		s += args_len;
		for (tok = strtok_r(copy, " \t", &save); tok != NULL;
		     tok = strtok_r(NULL, " \t", &save))
			v[n++] = tok;
	}
	/* -l 0,1,2; or --lcores 0,1@1,2@1 where lcore_cpus maps some. */
	v[n++] = s;
	s += sprintf(s, cfg->n_lcore_cpus != 0 ? "--lcores" : "-l") + 1;
	v[n++] = s;
	s += put_lcore(s, cfg, cfg->main_lcore, "");
	for (unsigned i = 0; i < cfg->n_workers; i++)
		s += put_lcore(s, cfg, cfg->workers[i], ",");
	s++;
	PUSH("--main-lcore=%u", cfg->main_lcore);
	for (unsigned i = 0; i < cfg->n_ports; i++) {
		if (cfg->ports[i].is_pci) {
			PUSH("-a");
			PUSH("%s", cfg->ports[i].device);
		} else {
			PUSH("--vdev=%s", cfg->ports[i].device);
		}
	}
#undef PUSH
	v[n] = NULL;
	*argc = n;
	*argv = v;
	return 0;
}
