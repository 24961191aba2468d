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

/* Prints "optroutectl: CODE: MESSAGE" for an error reply. */
void ctl_out_error(FILE *f, json_t *reply);

#endif
