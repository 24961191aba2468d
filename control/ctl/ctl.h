/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroutectl: options and helpers shared by its command files.
 */
#ifndef CTL_H
#define CTL_H

#include <stdint.h>

#include <jansson.h>

#include "optroute/mgmt.h"

#include "ctl_io.h"

/* Exit codes. */
#define CTL_EXIT_ERROR 1 /* the daemon answered with an error */
#define CTL_EXIT_USAGE 2 /* bad command line or input */
#define CTL_EXIT_CONN 3  /* no daemon, or it did not answer */

struct ctl {
	struct ctl_conn conn;
	const char *cmd;
	const struct or_mgmt_cmd_info *info; /* cmd's entry of OR_MGMT_CMDS */
	unsigned given;      /* OR_MGMT_F_* the command line gave */
	unsigned opts;       /* options given: bits of ctl_cmd.c's table */
	uint8_t seal_pk[32]; /* --seal: the daemon's key (fetched first) */
	int json;
	int timeout_ms;
	const char *number;  /* NUMBER or "-" (import: FILE or "-") */
	char *arg_copy;      /* copy of the positional (argv is wiped) */
	const char *token;
	const char *sealed;
	const char *pubkey;      /* optin, rekey: --pubkey B64 */
	const char *pubkey_file; /* or --pubkey-file F (base64 or 32 bytes) */
	int seal;
	int node;            /* -1: not given */
	long long notice;    /* -1: not given */
	const char *method;
	int wait;
	int clear;
	const char *forget;  /* fleet --forget NAME */
	long long after_seq; /* status --after-seq N; 0: not given */
	int verify;
	int optin;           /* import: 1 optin, 0 optout, -1 not given */
	unsigned chunk;      /* import: lines per request, 0 = default */
};

/* Sends req (then wipes it) and reads the reply. 0 or an exit code
 * (message printed). */
int ctl_roundtrip(struct ctl *c, struct ctl_buf *req, json_t **reply);

/* Appends ,"node":..,"notice":..,"method":..,"wait":true,"clear":true,
 * "forget":..,"after_seq":.. as given (ctl_cmd.c). */
int ctl_add_options(struct ctl *c, struct ctl_buf *b, int with_node);

/* strtoll of all of s within [lo, hi]. 0 or -EINVAL. */
int ctl_parse_int(const char *s, long long lo, long long hi, long long *out);

/* import FILE|- --optin|--optout. Exit code. */
int ctl_import(struct ctl *c);

#endif
