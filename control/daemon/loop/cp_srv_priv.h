/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The management event loop's state, shared by its files: loop/cp_srv.c
 * (the loop, accepting, dispatching request lines), loop/cp_conn.c
 * (connections, replies, sweep, eviction), cmd/cp_commit.c (the group
 * commit) and cmd/cp_pend.c (replies that wait: for a commit, the
 * dataplane's ack or counters, or an audit job). All run on the event
 * loop thread only.
 */
#ifndef CP_SRV_PRIV_H
#define CP_SRV_PRIV_H

#include <stdint.h>

#include <jansson.h>

#include "optroute/chan.h"
#include "optroute/mgmt.h"

#include "control/daemon/cmd/cp_job.h"
#include "control/daemon/cp_daemon.h"

#include "cp_client.h"
#include "cp_req.h"

/* Most time a stats request waits for the channel thread. */
#define CP_DP_STATS_TIMEOUT_MS 3000

enum cp_pend_kind {
	P_COMMIT, /* in the current group, not committed yet */
	P_WAIT,   /* committed, waits for the dataplane's ack */
	P_DP,     /* waits for the dataplane's counters */
	P_JOB,    /* waits for an audit verification (cp_job.h) */
	P_KEYS,   /* rotate/retire: waits until the dataplane enforces the
		   * auth key set of seq (cp_act_keys_settled) */
	P_SEQ,    /* status with after_seq: waits until reads hold seq */
};

/* A request whose reply is not sent yet. */
struct cp_pend {
	struct cp_pend *next, *prev;
	struct cp_client *cl;    /* NULL once the client is gone */
	json_t *reply;
	enum or_mgmt_cmd cmd;
	enum cp_pend_kind kind;
	unsigned ch_first, ch_n; /* P_COMMIT: its changes in the group */
	uint64_t group;          /* P_COMMIT: the group (cp_srv group_no) */
	int wait;
	uint64_t seq;            /* P_WAIT: highest seq to be acked;
				  * P_KEYS: the auth state's seq;
				  * P_SEQ: the seq reads must hold */
	struct or_token token;   /* P_SEQ: the subject */
	uint64_t deadline_ms;    /* P_WAIT, P_DP, P_KEYS, P_SEQ */
	uint64_t cookie;         /* P_DP; P_JOB: the job it needs */
	uint64_t recv_us;        /* request line complete (cp_now_us) */
	uint64_t commit_us;      /* its changes committed (cp_now_us) */
};

struct cp_srv {
	struct cp_daemon *d;
	int ep;
	int lfd;
	int sfd;
	struct cp_client *clients;
	struct cp_pend *pends; /* every kind, in arrival order */
	uint64_t next_cookie;
	struct cp_job *job;
	uint64_t job_gen;        /* jobs started */
	uint64_t commit_done_us; /* when the last group was done */
	uint64_t accept_resume_ms; /* accepting paused (out of descriptors)
				    * until then; 0 = not paused */
	int stop;
	int more; /* a client has held lines to go on with (cp_sweep) */
	/* Two group buffers. The group being collected, number group_no,
	 * since group_us (cp_now_us), holds n changes in ch[cur]/res[cur];
	 * the group handed to the store (cmd/cp_commit.c), number
	 * flight_no, since commit_t0, uses the other one. At most one is in
	 * flight; with a backend that completes in place (LMDB) none is once
	 * cp_commit() returns, and one that completes later reports through
	 * or_sor_commit_fd (cp_on_commit) while the loop collects the next
	 * group (docs/fleet.md section 9). */
	unsigned n;
	unsigned cur;
	uint64_t group_no;
	uint64_t group_us;
	struct or_change ch[2][OR_STORE_APPLY_MAX];
	struct or_change_result res[2][OR_STORE_APPLY_MAX];
	struct or_sor_group group;
	int inflight;
	uint64_t flight_no;
	unsigned flight_buf;
	uint64_t commit_t0;
};

/* now - t, 0 if t is later (t may be stamped after now was read). */
static inline uint64_t
cp_elapsed(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

/* cp_srv.c */

/* The request line handler (cp_client_read's callback; arg: the server). */
void cp_on_line(void *arg, struct cp_client *cl, char *line, size_t len);
/* Sends an error reply now (after the client's requests in the group). */
void cp_send_error(struct cp_srv *s, struct cp_client *cl, json_t *id,
		   enum or_mgmt_err e, const char *msg);
/* Closes a connection for a reason: counts it in *counter, answers with
 * one error line and closes once that is sent (cp_sweep). */
void cp_close_for(struct cp_srv *s, struct cp_client *cl, uint64_t *counter,
		  enum or_mgmt_err e, const char *msg);

/* cp_conn.c */

/* A client's epoll events ev (0: go on with held lines). */
void cp_on_client(struct cp_srv *s, struct cp_client *cl, uint32_t ev);
/* Closes clients that are done, idle, stuck mid-line or not reading their
 * replies; frees dead ones. */
void cp_sweep(struct cp_srv *s, uint64_t now);
/* Connections open and not closed yet. */
unsigned cp_live_clients(const struct cp_srv *s);
/* Makes room for a new connection at max_clients: 1 if a slot was freed. */
int cp_evict(struct cp_srv *s, uint64_t now);
json_t *cp_reply_new(json_t *id);
/* Turns reply into an error reply; fields already set stay. */
void cp_reply_error(struct cp_srv *s, json_t *reply, enum or_mgmt_err e,
		    const char *msg);
/* Queues the reply (stealing it) and writes what the socket takes. */
void cp_send(struct cp_srv *s, struct cp_client *cl, json_t *reply);
/* The client's epoll events from its state (input room, output queued). */
void cp_client_update(struct cp_srv *s, struct cp_client *cl);
void cp_client_kill(struct cp_srv *s, struct cp_client *cl);

/* cmd/cp_commit.c */

/* Hands the group being collected to the store (nothing if it is empty,
 * or while another group is in flight: it goes once that one is done).
 * A backend that completes in place answers or parks its requests before
 * this returns. */
void cp_commit(struct cp_srv *s);
/* Room for a new group: waits for the group in flight (if any), then
 * hands the one collected over. */
void cp_commit_room(struct cp_srv *s);
/* Every change received so far is committed (or refused) and its
 * requests answered or parked when this returns: for a reply that must
 * not pass its client's earlier ones, and for a read that must see them.
 * Blocks the loop while a group is in flight. */
void cp_commit_flush(struct cp_srv *s);
/* The store's commit descriptor is readable: finishes the group. */
void cp_on_commit(struct cp_srv *s);

/* cmd/cp_pend.c */

/* A reply that waits, appended to s->pends (arrival order). */
struct cp_pend *cp_pend_new(struct cp_srv *s, struct cp_client *cl,
			    json_t *reply, enum or_mgmt_cmd cmd,
			    enum cp_pend_kind kind);
/* Sends the pending reply (if its client is still there) and frees it. */
void cp_pend_done(struct cp_srv *s, struct cp_pend *p);
void cp_pend_error(struct cp_srv *s, struct cp_pend *p, enum or_mgmt_err e,
		   const char *msg);
/* Answers a P_DP request with the dataplane's counters (rc 0) or the
 * error rc (the channel failed, or timed out): cp_act_dp_stats(). */
void cp_pend_dp_stats(struct cp_srv *s, struct cp_pend *p, int rc,
		      const struct or_chan_stat *st, unsigned n);

/* Starts an audit verification if P_JOB requests wait and none runs. */
void cp_job_kick(struct cp_srv *s);
/* The job's descriptor is readable: answers the requests it covers. */
void cp_on_job(struct cp_srv *s);

/* cp_link_take_stats() callback: a P_DP request's counters. */
void cp_on_dp_stats(void *arg, uint64_t cookie, int rc,
		    const struct or_chan_stat *st, unsigned n);
/* Answers waits that are acked or timed out, and stats requests that
 * timed out. */
void cp_check_pending(struct cp_srv *s, uint64_t now);

#endif
