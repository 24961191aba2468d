/* SPDX-License-Identifier: BSD-3-Clause
 *
 * One action per management command: the handler its entry of
 * OR_MGMT_CMDS (include/optroute/mgmt_cmds.h) names. The event loop
 * (cp_srv) parses a request (cp_req), builds the skeleton reply
 * {"v","id","ok":true} and calls cp_act_run(); the handler fills the reply
 * and returns CP_NEXT_REPLY (the reply is complete, or a->err is set) or
 * CP_NEXT_PEND (what the entry's "done" names completes it), which
 * cp_act_run() turns into what comes next:
 *
 *  CP_NEXT_REPLY      send the reply.
 *  CP_NEXT_COMMIT     (done COMMIT) the action wrote a->n changes to a->ch
 *                     (room for a->n_max, see cp_act_room): the server
 *                     commits them with the other requests of this round
 *                     in ONE store transaction, then calls
 *                     cp_act_committed().
 *  CP_NEXT_DATAPLANE  (done DATAPLANE) the reply needs the dataplane's
 *                     counters: the server asks the channel thread, then
 *                     calls cp_act_dp_stats().
 *  CP_NEXT_JOB        (done JOB) the reply needs the whole audit chain
 *                     verified: the server runs that in the background
 *                     (cp_job.h), then calls cp_act_audit_verified().
 *  CP_NEXT_SEQ        (done SEQ) a status whose "after_seq" (a->after_seq)
 *                     is beyond where reads stand: the server calls
 *                     cp_act_status_fill() for a->token once they hold it
 *                     (or answers "timeout").
 *  CP_NEXT_KEYS       (done KEYS) rotate/retire committed the auth epoch
 *                     state of seq a->keys_seq: the server calls
 *                     cp_act_keys_settled() until the dataplane enforces it
 *                     (or refused it, or the wait timed out).
 *
 * Plain numbers in a request are converted to tokens here and wiped in
 * place at once (or_token_from_number); nothing else is copied from them.
 * Sender keys (cp_act_keys.c) exist only inside or_keys_seal_sender_key():
 * the reply gets the sealed key.
 */
#ifndef CP_ACT_H
#define CP_ACT_H

#include <jansson.h>

#include "optroute/chan.h"

#include "control/daemon/cp_daemon.h"
#include "control/daemon/loop/cp_req.h"

#include "cp_job.h"

enum cp_act_next {
	CP_NEXT_REPLY = OR_MGMT_DONE_NOW,
	CP_NEXT_COMMIT = OR_MGMT_DONE_COMMIT,
	CP_NEXT_DATAPLANE = OR_MGMT_DONE_DATAPLANE,
	CP_NEXT_JOB = OR_MGMT_DONE_JOB,
	CP_NEXT_KEYS = OR_MGMT_DONE_KEYS,
	CP_NEXT_SEQ = OR_MGMT_DONE_SEQ,
	CP_NEXT_PEND, /* handlers only: as the command's entry says */
};

struct cp_act {
	struct cp_daemon *d;
	json_t *reply;           /* to fill */
	enum or_mgmt_err err;    /* != OR_MGMT_OK: reply with this error */
	char msg[CP_REQ_MSG_LEN + 64];
	struct or_change *ch;    /* CP_NEXT_COMMIT: where changes go */
	unsigned n_max;          /* room at ch */
	unsigned n;              /* changes written */
	uint64_t keys_seq;       /* CP_NEXT_KEYS: the auth state's seq */
	struct or_token token;   /* CP_NEXT_SEQ: the subject */
	uint64_t after_seq;      /* CP_NEXT_SEQ: the seq reads must hold */
};

/* A command's handler (the entry's handler column). */
typedef enum cp_act_next (*cp_act_fn)(struct cp_act *a, struct cp_req *r);

/* Most changes the request can produce (room the server must provide):
 * from the entry's changes column. */
unsigned cp_act_room(const struct cp_req *req);

enum cp_act_next cp_act_run(struct cp_act *a, struct cp_req *req);

/* After the commit of a CP_NEXT_COMMIT request: ch/res are its n changes,
 * the first with seq first_seq. */
void cp_act_committed(struct cp_daemon *d, enum or_mgmt_cmd cmd,
		      json_t *reply, const struct or_change *ch,
		      const struct or_change_result *res, unsigned n,
		      uint64_t first_seq);

/* The changes of a CP_NEXT_COMMIT request were not committed: takes out of
 * its reply what only a commit may hand out (a sealed sender key, whose
 * issue the commit would have audited). */
void cp_act_not_committed(json_t *reply);

/* After a CP_NEXT_DATAPLANE request: rc 0 and the counters, or -errno.
 * Returns OR_MGMT_OK or the error to answer with (msg filled). */
enum or_mgmt_err cp_act_dp_stats(struct cp_daemon *d, enum or_mgmt_cmd cmd,
				 json_t *reply, int rc,
				 const struct or_chan_stat *st, unsigned n,
				 char *msg, size_t msglen);

/* After a CP_NEXT_KEYS request, called again as the channel reports: 1
 * when the reply is complete ("enforced" true: the dataplane acked a key
 * set at least as new as auth state seq; false with a "warning": it
 * refused the set, or timed_out), else 0. */
int cp_act_keys_settled(struct cp_daemon *d, json_t *reply, uint64_t seq,
			int timed_out);

/* Where the store's reads stand (or_sor_read_pos). Returns OR_MGMT_OK or
 * the error to answer with (msg filled). */
enum or_mgmt_err cp_act_read_pos(struct cp_daemon *d,
				 struct or_sor_read_pos *rp, char *msg,
				 size_t msglen);

/* A status reply for token t, read now; rp: where reads stood before
 * (its as_of_seq, and "fleet"). Returns OR_MGMT_OK or the error to answer
 * with (msg filled). */
enum or_mgmt_err cp_act_status_fill(struct cp_daemon *d, json_t *reply,
				    const struct or_token *t,
				    const struct or_sor_read_pos *rp,
				    char *msg, size_t msglen);

/* After a CP_NEXT_JOB request: fills the reply from the verification r.
 * Returns OR_MGMT_OK or the error to answer with (msg filled). */
enum or_mgmt_err cp_act_audit_verified(json_t *reply,
				       const struct cp_job_result *r,
				       char *msg, size_t msglen);

#endif
