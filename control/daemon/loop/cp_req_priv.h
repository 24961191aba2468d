/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Internal to the request parser (cp_req.c), exported for its unit test
 * (tests/unit/test_mgmt.c).
 */
#ifndef CP_REQ_PRIV_H
#define CP_REQ_PRIV_H

/* 1 if s is a well-formed command name (1 to 32 letters or '_'): what
 * the parser accepts as "cmd" before looking it up. */
int cp_req_name_ok(const char *s);

#endif
