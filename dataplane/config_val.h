/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Value parsers of the dataplane configuration (config.c) beyond the
 * shared ones (integers, booleans, paths: include/optroute/or_ini.h):
 * each returns 0 or a negative errno and writes its output only on
 * success.
 */
#ifndef OR_DP_CONFIG_VAL_H
#define OR_DP_CONFIG_VAL_H

#include <stdint.h>

/* A unicast, non-zero MAC "02:00:00:00:00:01". */
int or_cfgv_mac(const char *v, uint8_t mac[6]);
/* A unicast IPv4 address, network order (not 0.0.0.0, multicast or
 * 255.255.255.255). */
int or_cfgv_ip(const char *v, uint32_t *ip);
/* "1,2,4-6": distinct lcore ids <= OR_CFG_MAX_LCORE, at most max;
 * -EEXIST for a repeated one, -E2BIG for too many. */
int or_cfgv_lcores(const char *v, unsigned *out, unsigned max, unsigned *n);
/* "2@1 3@1": lcore@cpu pairs (ids <= OR_CFG_MAX_LCORE), each lcore once,
 * at most max pairs; -EEXIST for a repeated lcore, -E2BIG for too many. */
struct or_cfg_lcore_cpu;
int or_cfgv_lcore_cpus(const char *v, struct or_cfg_lcore_cpu *out,
		       unsigned max, unsigned *n);
/* A port name: 1..31 of [a-z0-9_] (it becomes part of counter names). */
int or_cfgv_name(const char *s);
/* "0000:01:00.0" or "01:00.0", optionally followed by ",devargs". */
int or_cfgv_pci(const char *d);
/* Whether the space-separated args contain one of the options in names
 * (NULL-terminated), alone, as "--opt=value", or short with its value
 * glued ("-l0-3"). */
int or_cfgv_has_arg(const char *args, const char *const *names);

#endif
