/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Management request parsing: one JSON line -> struct cp_req, checked for
 * shape (version, command, which fields, their types and ranges). Which
 * fields a command takes and needs is its entry of OR_MGMT_CMDS
 * (include/optroute/mgmt_cmds.h). A pure
 * function of its input (no sockets, no store, no keys) so it is unit
 * tested directly (tests/unit/test_mgmt.c). The subject itself (E.164,
 * token hex, sealed base64) is checked by the action that converts it.
 *
 * Error messages never quote request content: they name fields and
 * positions only (jansson's own messages quote the input, so they are not
 * passed on).
 */
#ifndef CP_REQ_H
#define CP_REQ_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "optroute/mgmt.h"

enum cp_subj_kind {
	CP_SUBJ_NONE = 0,
	CP_SUBJ_NUMBER,
	CP_SUBJ_SEALED,
	CP_SUBJ_TOKEN,
};

/* What a change request waits for (its "wait" field). */
#define CP_WAIT_LOCAL 1 /* true: this appliance's dataplane enforces it */
#define CP_WAIT_FLEET 2 /* "fleet": every live appliance's dataplane does */

struct cp_req {
	json_t *root;            /* owns every pointer below */
	json_t *id;              /* borrowed; NULL if the request had none */
	enum or_mgmt_cmd cmd;
	unsigned fields;         /* OR_MGMT_F_* present (beyond v, id, cmd) */
	enum cp_subj_kind subj;
	json_t *subject;         /* the string value of number/sealed/token */
	int node;                /* -1: not given (policy decides) */
	int64_t notice;          /* notice version; -1: not given */
	const char *method;      /* NULL: not given */
	int wait;                /* 0, CP_WAIT_LOCAL or CP_WAIT_FLEET */
	int clear;               /* stats */
	int optin;               /* import: 1 = optin, 0 = optout */
	json_t *pubkey;          /* optin, rekey: the phone's X25519 key
				  * (base64 string, not decoded yet) */
	json_t *lines;           /* import: array of strings */
	uint64_t first_line;     /* import: number of lines[0] in the file */
	const char *forget;      /* fleet: the appliance to forget, or NULL */
	uint64_t after_seq;      /* status: answer once reads hold this seq;
				  * 0: not given */
};

#define CP_REQ_MSG_LEN 160
/* Longest "pubkey": base64 of 32 bytes is 43 or 44 characters. */
#define CP_REQ_PUBKEY_MAX 64

/* Parses buf[0..len) (one line, no newline). Returns OR_MGMT_OK and fills
 * req, or an error code with a message in msg; on error req->id is still
 * set when the id could be read (so the error reply can echo it) and
 * cp_req_free() must be called either way. */
enum or_mgmt_err cp_req_parse(const char *buf, size_t len, struct cp_req *req,
			      char msg[CP_REQ_MSG_LEN]);

/* Whether the parsed request may wait for its reply, and so counts
 * against max_pending: its entry's done, but NOW where its fields make it
 * so (a status without after_seq, an audit of one subject). */
int cp_req_may_wait(const struct cp_req *req);

/* Wipes every string of the request (subject, import lines) and frees it. */
void cp_req_free(struct cp_req *req);

#endif
