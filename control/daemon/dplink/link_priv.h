/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Internal to the channel thread (cp_link.h): the state its files share.
 * link_thread.c runs the thread and the connection; link_table.c the
 * queue of committed changes, BATCHes and the full resync; link_acks.c
 * acks and refusals; link_keys.c the auth keys; link_dpstats.c the
 * dataplane's counters. Who touches what: the comments in struct cp_link
 * (under mu, thread only, atomics).
 */
#ifndef CP_LINK_PRIV_H
#define CP_LINK_PRIV_H

#include <pthread.h>
#include <stdint.h>

#include "optroute/chan_client.h"

#include "control/daemon/cp_daemon.h"

#include "cp_link.h"

#define CP_LINK_CONNECT_MS 1000      /* one connect + HELLO attempt */
#define CP_LINK_STATS_TIMEOUT_MS 2000
#define CP_LINK_STATS_MAX 1024       /* counters kept per stats answer */
#define CP_LINK_REQS 16              /* stats requests in flight */
#define CP_LINK_ACK_TIMES 4096       /* recent ack advances kept (power of 2) */
/* Most trail entries a resume sends as BATCH ops: past it a full resync
 * (a fresh table built beside the live one) is the cheaper way, and the
 * copy's list of changes stays bounded (docs/channel.md "Resuming"). */
#define CP_LINK_RESUME_MAX (1u << 20)

/* The changes of one store transaction: n table ops, op i for store seq
 * seqs[i]; last_seq is the transaction's last seq (an op's, or one that
 * changes no entry). */
struct cp_link_item {
	struct cp_link_item *next;
	uint64_t last_seq;
	unsigned n;
	uint64_t *seqs; /* n, after ops[] in the same allocation */
	struct or_chan_op ops[];
};

enum { REQ_FREE = 0, REQ_ASKED, REQ_DONE };

struct cp_link_req {
	int state;
	int rc;
	uint64_t cookie;
	uint16_t flags;          /* OR_CHAN_STATS_F_* */
	unsigned n;
	struct or_chan_stat *st; /* CP_LINK_STATS_MAX, allocated on first use */
};

/* Sent message (chan seq) -> highest store seq it carries. */
struct cp_link_map {
	uint64_t chan_seq;
	uint64_t store_seq;
};

/* The store seq acked by one ACK, and when the ACK was read. */
struct cp_link_ack_time {
	uint64_t seq;
	uint64_t us; /* CLOCK_MONOTONIC */
};

struct cp_link {
	struct cp_link_conf conf;
	pthread_t th;
	int started;
	int wake_fd;   /* event loop -> thread */
	int notify_fd; /* thread -> event loop */

	pthread_mutex_t mu;
	/* Under mu. */
	struct cp_link_item *head, *tail;
	uint64_t queued;   /* changes in the queue */
	int accepting;     /* a dataplane is connected and resynced from */
	int overflow;      /* queue dropped: a full resync is owed */
	int replaced;      /* the store's copy was replaced: the same */
	int keys_dirty;    /* the auth epoch state changed: send it */
	int stop;
	struct cp_link_req reqs[CP_LINK_REQS];
	/* Ring of the last CP_LINK_ACK_TIMES ack advances, oldest at
	 * ack_n - CP_LINK_ACK_TIMES (ack_n counts every advance). */
	struct cp_link_ack_time ack_times[CP_LINK_ACK_TIMES];
	uint64_t ack_n;

	/* Thread only. */
	struct or_chan_client *c;
	uint64_t snap_seq;       /* last store seq in the table by resync */
	uint64_t table_seq;      /* store seq the table is at once what was
				  * sent is applied (0: unknown) */
	uint64_t marked_seq;     /* store seq of the last MARK sent */
	int resume_rc;           /* a send's -errno during a resume */
	uint64_t resume_last;    /* chan seq of its last BATCH, 0 = none */
	uint64_t table_chan_seq; /* chan seq of the last table message sent */
	uint64_t keys_chan_seq;  /* chan seq of the last AUTH_KEYS sent */
	uint64_t resync_end;     /* chan seq of RESYNC_END not acked yet */
	uint64_t resync_t0;      /* ms */
	struct cp_link_map *map;
	size_t map_head, map_n, map_cap;
	struct or_chan_op *ops;  /* OR_CHAN_MAX_OPS, resync */
	struct or_store_entry *ents;
	unsigned max_ops;
	int connect_logged;
	uint64_t refused_chan_seq; /* lowest table message refused, 0 = none */
	uint64_t connect_at_ms;    /* no connect attempt before (cp_now_ms) */
	unsigned refusals;         /* connections ended by one, in a row */

	/* Written by the thread, read by anyone (atomics). */
	struct cp_link_info info;
};

#define INFO_SET(p, f, v) __atomic_store_n(&(p)->info.f, (v), __ATOMIC_RELEASE)
#define INFO_ADD(p, f, v) __atomic_add_fetch(&(p)->info.f, (v), __ATOMIC_RELAXED)
#define INFO_GET(p, f) __atomic_load_n(&(p)->info.f, __ATOMIC_ACQUIRE)

/* link_thread.c: thread -> event loop, event loop -> thread, and
 * reading an eventfd. */
void cp_link_notify(struct cp_link *p);
void cp_link_wake(struct cp_link *p);
void cp_link_drain(int fd);

/* link_table.c. Under mu: drops the queued changes. Thread: drops and
 * opens the queue before a snapshot is read; sends a full resync from a
 * fresh snapshot, or everything queued; 0 or -errno (connection lost). */
void cp_link_drop_queue_locked(struct cp_link *p);
void cp_link_open_queue(struct cp_link *p);
int cp_link_resync(struct cp_link *p);
int cp_link_send_queue(struct cp_link *p);

/* link_resume.c (thread). resume: the dataplane's table brought to the
 * store from the mark in its HELLO, else by a full resync; mark: a MARK
 * for table_seq if it moved. 0 or -errno (connection lost). */
int cp_link_resume(struct cp_link *p);
int cp_link_mark(struct cp_link *p);

/* link_acks.c (thread). map_add: message chan_seq carries store seqs up
 * to store_seq; update_acks: acks read at now_us; on_error: the channel
 * client's ERROR callback; check_refused: -ECANCELED once a table message
 * was refused. */
int cp_link_map_add(struct cp_link *p, uint64_t chan_seq, uint64_t store_seq);
void cp_link_update_acks(struct cp_link *p, uint64_t now_us);
void cp_link_on_error(void *arg, const struct or_chan_err_info *e);
int cp_link_check_refused(struct cp_link *p);

/* link_keys.c (thread). keys_update: the key set moves to state (enum
 * cp_keys_state); send_keys: sends the store's live keys, 0 or -errno. */
void cp_link_keys_update(struct cp_link *p, uint64_t state, uint64_t seq,
			 uint64_t error);
int cp_link_send_keys(struct cp_link *p);

/* link_dpstats.c (thread). fail_reqs: answers every asked request with
 * rc; serve_stats: asks the dataplane, 0 or -errno (connection lost). */
void cp_link_fail_reqs(struct cp_link *p, int rc);
int cp_link_serve_stats(struct cp_link *p);

#endif
