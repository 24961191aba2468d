/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The "postgresql" backend of the system of record (sor.h; design:
 * docs/fleet.md sections 4 to 9). A fleet's PostgreSQL database holds
 * the records and the audit chain; this appliance keeps a local copy
 * (an LMDB store written only through or_store_follow) from which it
 * reads, snapshots and restarts.
 *
 * Two threads, each with its own connection:
 *  - the writer takes a submitted group, commits it (pg_writer.c), wakes
 *    the follower and waits until the copy holds the group (read your own
 *    writes; at most commit_timeout_ms), then reports the group done on
 *    commit_fd;
 *  - the follower LISTENs, tails the trail after the copy's position
 *    (pg_tail.c), appends each batch to the copy's log (fsync; copy.h,
 *    whose own thread folds the log into its records) and only then
 *    hands it to the sink, in seq order; it wakes on a NOTIFY, on the
 *    writer, or every report_ms, and reports its position in its
 *    appliance row.
 *
 * Shared state (mu): todo/done (the group handed over: event loop ->
 * writer -> event loop), applied (follower -> writer), wake, stop.
 * Everything else belongs to one thread. The local copy (copy.h): read by
 * any thread, written by the follower only (and folded by its own
 * thread); swapped whole by a full resync under copy_lock.
 */
#ifndef OR_SOR_PG_PRIV_H
#define OR_SOR_PG_PRIV_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "control/lib/pg/or_pg.h"
#include "control/store/copy.h"
#include "control/store/pg/pg_tail.h"
#include "control/store/pg/pg_writer.h"
#include "control/store/sor_priv.h"

#define SP_BATCH 8192              /* entries a tail batch */
#define SP_ROUND (16u * SP_BATCH)  /* entries a follower round */
#define SP_DEF_COMMIT_MS 10000
#define SP_DEF_REPORT_MS 1000
#define SP_DEF_SILENCE_MS 10000
/* Positions changed: every follower rereads them (payload empty). */
#define SP_POS_CHANNEL "optroute_pos"
/* pg_try_advisory_lock(OR_PG_LOCK_CLASS, SP_LOCK_APPLIANCE + id): one
 * daemon per appliance name; (OR_PG_LOCK_CLASS, SP_LOCK_REGISTER):
 * registrations one at a time. */
#define SP_LOCK_REGISTER 1
#define SP_LOCK_APPLIANCE 65536

struct sor_pg {
	struct or_sor base; /* first: the handle callers hold */
	/* The local copy: read by any thread, written by the follower,
	 * swapped by a full resync: every use holds copy_lock (the swap
	 * exclusively). */
	pthread_rwlock_t copy_lock;
	struct or_copy *copy;
	struct or_store_conf copy_conf;
	char copy_path[4096];
	uint64_t resync_after; /* missed entries that call for a resync */
	struct or_node_policy pol;
	int has_pol;
	char *conninfo;
	char name[64];
	uint16_t id;
	struct or_pg_fleet_conf fleet;
	char policy_text[32];
	unsigned commit_ms, report_ms, silence_ms;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct or_sor_group *todo;  /* submitted, not taken by the writer */
	struct or_sor_group *done;  /* done, not taken by the event loop */
	uint64_t applied;           /* the copy's position (follower) */
	uint64_t enforced;          /* the dataplane's ack (event loop) */
	uint64_t keys_acked;        /* its key set ack (event loop) */
	struct or_sor_fleet fl;     /* positions as last read (follower) */
	uint64_t resyncs, catchups; /* (follower; read under mu) */
	uint64_t fl_read_ms;
	/* The timeline guard (sor_pg_guard.c; any connecting thread, under
	 * mu): the highest (fleet_id, timeline) used, and refusals. */
	char guard_fleet[37];
	uint32_t guard_tl;
	int guard_loaded;
	uint64_t stale_refusals;
	int wake;                   /* the writer asks for a tail now */
	int stop;
	int wake_fd;                /* eventfd: the follower's poll wakes */
	int started;
	pthread_t writer, follower;

	/* writer thread */
	PGconn *wc;
	/* Its backend (pid, backend_start): the one a lost commit's
	 * settling waits to be gone. */
	char wpid[16], wstart[64];
	uint64_t group;
	int joined; /* schema checked, fleet row joined, id known */
	/* follower thread */
	PGconn *fc;
	struct or_pg_pos pos;
	struct or_change *fch;
	struct or_change_result *fres;
	uint64_t reported, reported_enf, reported_keys, last_report_ms;
};

static inline struct sor_pg *
sor_pg(struct or_sor *s)
{
	return (struct sor_pg *)s;
}

static inline uint64_t
sp_now_ms(void)
{
	return or_store_mono_us() / 1000u;
}

/* Registration (sor_pg.c): the appliance's id, set by whichever thread
 * registers first. */
uint16_t sp_id(struct sor_pg *p);
int sp_register(struct sor_pg *p, PGconn *c, int lock_it, struct or_err *err);

/* A connection to the system of record for app_name, through the
 * timeline guard (sor_pg_guard.c): 0, -ESTALE (an old primary: refused
 * and closed, err says so), or or_pg_connect's errors. */
int sp_connect(struct sor_pg *p, const char *app_name, PGconn **out,
	       struct or_err *err);

/* fleet --forget (sor_pg_forget.c): or_sor_forget of this backend. */
int sor_pg_forget(struct or_sor *s, const char *name, struct or_err *err);

/* The follower (sor_pg_follow.c). */
int sp_follower_connect(struct sor_pg *p, struct or_err *err);
void *sp_follower(void *arg);

/* Reads of the audit chain, each on a connection of its own
 * (sor_pg_audit.c). */
int sor_pg_audit_verify(struct or_sor *s, const volatile int *cancel,
			uint64_t *bad_seq, uint64_t *n_checked,
			struct or_err *err);
int sor_pg_audit_head(struct or_sor *s, uint64_t *seq,
		      uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err);
int sor_pg_audit_subject(struct or_sor *s, const struct or_token *t,
			 struct or_audit_entry **out, size_t *n,
			 uint64_t *bad_seq, struct or_err *err);

#endif
