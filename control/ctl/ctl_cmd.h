/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroutectl's command line, parsed with the daemon's own list of
 * commands (OR_MGMT_CMDS, include/optroute/mgmt_cmds.h): a command's
 * options are those of the request fields its entry takes (--wait for
 * "wait", --node for "node" ...), what it needs is what its entry needs,
 * and the usage text is generated from the entries. So optroutectl refuses
 * what the daemon would refuse, before connecting, and no command or
 * option is described in two places.
 *
 *   field                  option(s)
 *   number                 NUMBER or '-' (positional; --seal seals it here)
 *   token, sealed          --token HEX, --sealed BASE64
 *   node, notice, method   --node N, --notice V, --method M
 *   wait, clear            --wait, --clear
 *   pubkey                 --pubkey B64, --pubkey-file F
 *   forget                 --forget NAME (fleet)
 *   action                 --optin, --optout
 *   lines                  FILE or '-' (positional), --chunk LINES
 *   (a subject the command does not need: --verify, "none")
 *
 * Pure functions of their arguments (stdin aside: '-'), unit tested in
 * tests/unit/test_ctl.c against the daemon's request parser.
 */
#ifndef CTL_CMD_H
#define CTL_CMD_H

/* A bit of struct ctl's given that is not a request field: the subject
 * left out on purpose (audit --verify). */
#define CTL_F_NONE (1u << 31)

#include <stdio.h>

#include "optroute/mgmt.h"

#include "ctl.h"

/* The usage, every command's line generated from OR_MGMT_CMDS. */
void ctl_usage(FILE *f);

/* Parses COMMAND [ARGS] (argv[0] is the command) into c: c->info, the
 * options and the positional. 0, or CTL_EXIT_USAGE / CTL_EXIT_ERROR with
 * the reason printed on stderr. The positional (a number) is copied and
 * wiped from argv. */
int ctl_parse_cmd_args(struct ctl *c, int argc, char **argv);

/* What the command line asks of c->info's entry: the options its fields
 * allow, one subject (or --verify where the subject is optional), what it
 * needs. 0, or CTL_EXIT_USAGE with the reason in err. */
int ctl_cmd_check(const struct ctl *c, char *err, size_t errlen);

/* The request line of a command that is not an import: {"v","id":1,"cmd"}
 * and each field the command line gave (subject from c->number, which is
 * '-' only if ctl_read_subject() did not run; sealed to c->seal_pk with
 * --seal). 0 or an exit code (message printed). The number is wiped from
 * every buffer here. */
int ctl_request_build(struct ctl *c, struct ctl_buf *b);

#endif
