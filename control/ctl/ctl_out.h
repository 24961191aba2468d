/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroutectl's readable output of replies (the default; -j prints the
 * JSON reply instead).
 */
#ifndef CTL_OUT_H
#define CTL_OUT_H

#include <stdio.h>

#include <jansson.h>

/* Prints a successful reply to a command in readable form. */
void ctl_out_reply(FILE *f, const char *cmd, json_t *reply);

/* Prints "optroutectl: CODE: MESSAGE" for an error reply (and the
 * fleet's line of a --wait=fleet reply). */
void ctl_out_error(FILE *f, json_t *reply);

/* "fleet: enforced by a1, a2; lagging: a3 (at seq 790)" for the "fleet"
 * object of a --wait=fleet reply; nothing when fl is not an object. */
void ctl_out_fleet_wait(FILE *f, json_t *fl);

#endif
