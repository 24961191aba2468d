/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Internals of the updater (dataplane/chan/): shared between the socket side
 * (chan_server.c), the message handling (chan_apply.c) and the thread
 * (updater.c). Everything here runs on the updater thread except the
 * counters, which other threads read with relaxed atomic loads.
 */
#ifndef OR_CHAN_PRIV_H
#define OR_CHAN_PRIV_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include <rte_log.h>

#include "optroute/chan.h"
#include "updater.h"

/* Messages read per wakeup before the batch is synced and acked: bounds the
 * work (and the ack latency) of one loop iteration. */
#define CHAN_DRAIN_MAX 64
/* Queued outgoing messages; a peer that lets more pile up is dropped. */
#define CHAN_OUTQ_MAX 1024
/* ct_upsert -EAGAIN: grace periods (each advancing every deferred op by
 * one cuckoo hop) before an op is reported as failed (chan_ops.c). */
#define CHAN_DEFER_ROUNDS 64
/* Token set of deferred ops: a power of two >= 2 * OR_CHAN_MAX_OPS. */
#define CHAN_DEFER_SET 4096
/* Buckets copied per idle ct_grow_step call. */
#define CHAN_GROW_STEP 4096
/* Most counters taken from conf.stats_fill. */
#define CHAN_DP_STATS_MAX 1024
/* poll() timeout: how fast or_updater_stop() is noticed. */
#define CHAN_POLL_MS 20

struct chan_out {
	struct chan_out *next;
	size_t len;
	uint8_t data[];
};

struct or_updater {
	struct or_updater_conf conf;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ct *t;
	int lfd; /* listening socket */
	int cfd; /* connected peer, -1 if none */
	int stop;
	pthread_t thread;
	struct or_updater_stats st; /* relaxed atomics */

	/* The table's mark (chan.h MARK), kept across connections: st.mark_seq
	 * and mark_hash; 0 = none. tainted: an ERROR was sent since the last
	 * full resync (a refused message, a failed op), so no MARK is kept
	 * until the next one completes. */
	uint8_t mark_hash[OR_CHAN_MARK_HASH_LEN];
	int tainted;

	/* Connection state, reset on accept. */
	int hello_done;
	int close_after_flush; /* fatal error sent: close once flushed */
	int peer_reset;        /* ECONNRESET seen: read what is left, then close */
	int peer_gone;         /* EPIPE on send: drop output, read until EOF */
	uint64_t conn_seq;     /* highest seq consumed on this connection */
	int resyncing;
	uint64_t resync_gen;
	int need_sync;         /* seqs consumed since the last ct_sync */
	int ack_owed;          /* an ACK for acked_seq is still to be sent */
	struct chan_out *outq_head, *outq_tail;
	unsigned outq_len;

	uint8_t *rbuf; /* OR_CHAN_MSG_MAX + 1 bytes: one more to see oversize */
	struct or_updater_stat *dpstats; /* scratch for conf.stats_fill */
	struct chan_defer *defer[2];     /* chan_ops.c scratch */
};

/* Outcome of applying one message's ops. */
struct chan_op_result {
	uint32_t upserts, deletes, missing;
	uint32_t failed;
	uint32_t first;  /* lowest failed op index */
	int first_rc;    /* its -errno */
};

/* Counters: written by the updater thread only, read by anyone. */
#define CHAN_INC(u, f) __atomic_fetch_add(&(u)->st.f, 1, __ATOMIC_RELAXED)
#define CHAN_ADD(u, f, n) __atomic_fetch_add(&(u)->st.f, (n), __ATOMIC_RELAXED)
#define CHAN_SET(u, f, v) __atomic_store_n(&(u)->st.f, (v), __ATOMIC_RELAXED)
#define CHAN_GET(u, f) __atomic_load_n(&(u)->st.f, __ATOMIC_RELAXED)

extern int or_chan_logtype;
#define CHAN_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, or_chan_logtype, "updater: " fmt "\n", \
		##__VA_ARGS__)

/* chan_server.c: sockets and the output queue. */
int chan_listen(const char *path, int *lfd);
void chan_accept(struct or_updater *u);
void chan_disconnect(struct or_updater *u);
int chan_queue(struct or_updater *u, const void *msg, size_t len);
int chan_flush(struct or_updater *u);
int chan_read(struct or_updater *u);
void chan_send_error(struct or_updater *u, int code, uint64_t seq,
		     uint32_t index, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* chan_apply.c: one received message. */
void chan_handle(struct or_updater *u, const uint8_t *msg, size_t len);
/* Forgets the table's mark: the table is about to hold something else. */
void chan_mark_clear(struct or_updater *u);
/* Grace period + ACK for everything consumed so far. */
void chan_sync_and_ack(struct or_updater *u);

/* chan_ops.c: applies ops (validated already) to the table. */
void chan_apply_ops(struct or_updater *u, const struct or_chan_op *ops,
		    uint32_t n, int resync, struct chan_op_result *r);
void chan_op_failed(struct or_updater *u, struct chan_op_result *r,
		    uint32_t i, int rc);
int chan_defer_alloc(struct or_updater *u);
void chan_defer_free(struct or_updater *u);

/* chan_stats.c: STATS_REQUEST. */
void chan_handle_stats(struct or_updater *u,
		       const struct or_chan_stats_request *req);

#endif
