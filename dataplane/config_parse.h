/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What the configuration's parser (config.c) and its checks
 * (config_check.c) share: the parse state and the error recorder.
 * Private to those two files.
 */
#ifndef OR_DP_CONFIG_PARSE_H
#define OR_DP_CONFIG_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
	struct or_cfg *cfg;
	const char *name;      /* file name in messages */
	FILE *f;               /* source: a file ... */
	const char *str;       /* ... or a string */
	unsigned line;         /* current line, 1-based */
	int at_bol;            /* next chunk starts a line */
	int indented;          /* current line starts with blank space */
	unsigned err_line;     /* line of the recorded error, 0 = none */
	enum sect_kind kind;
	unsigned idx;          /* port or nexthop index */
	char section[64];
	char last_key[64];
	uint32_t seen;         /* keys seen in this section (bit = table index) */
	int seen_eal, seen_dp;
	unsigned args_line, lcore_cpus_line;
	size_t nh_alloc;
};

/* Records the first error as "file:line: [section] key: message". */
void or_cfg_err_at(struct parse_state *st, unsigned line, const char *key,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Whole-file checks once every line is parsed: required keys, ports,
 * queues and lcores, next hops. Errors through or_cfg_err_at(). */
void or_cfg_check(struct parse_state *st);

#endif
