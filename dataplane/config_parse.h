/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What the configuration's parser (config.c) and its checks
 * (config_check.c) share: the parse state, around the INI layer's
 * (include/optroute/or_ini.h, which records errors). Private to those two
 * files.
 */
#ifndef OR_DP_CONFIG_PARSE_H
#define OR_DP_CONFIG_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "optroute/or_ini.h"

#include "config.h"

enum sect_kind {
	SECT_NONE = 0, /* before any section */
	SECT_EAL,
	SECT_DP,
	SECT_PORT,
	SECT_NEXTHOP,
	SECT_IGNORED,  /* owned by the control plane */
	SECT_BAD,      /* unknown or duplicate: already reported */
};

struct parse_state {
	struct or_ini ini;     /* the shared INI layer: lines, errors */
	struct or_cfg *cfg;
	enum sect_kind kind;
	unsigned idx;          /* port or nexthop index */
	unsigned args_line, lcore_cpus_line;
	unsigned chan_peer_uid_line; /* 0: channel_peer_uid not given */
	size_t nh_alloc;
};

/* Whole-file checks once every line is parsed: required keys, ports,
 * queues and lcores, next hops. Errors through or_ini_err_at(). */
void or_cfg_check(struct parse_state *st);

#endif
