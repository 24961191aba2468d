/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The system of record, whichever backend (docs/fleet.md section 9): what
 * optroute-control's event loop, actions, channel thread and audit job
 * call instead of the LMDB store (store.h, audit.h) directly, so that a
 * second backend plugs in without touching them. Backends: "lmdb"
 * (sor_lmdb.c: the local store is the record) and "postgresql"
 * (control/store/pg/sor_pg.c: a fleet's PostgreSQL database is the
 * record, the local store its follower's copy; docs/fleet.md).
 *
 * Commit is asynchronous in the interface, because a remote record may
 * wait on the network, a lock or a standby, and the event loop must not:
 * or_sor_commit_submit() hands over a group, or_sor_commit_fd() turns
 * readable once it is done, or_sor_commit_take() gives it back with its
 * outcome. The LMDB backend completes a group in place: commit_take()
 * right after commit_submit() returns it (its commit_fd is -1).
 *
 * What reaches the dataplane, in which order, is the backend's: every
 * committed change goes to the sink (struct or_sor_sink), in seq order,
 * before its group is taken; the event loop never forwards changes itself.
 *
 * Threads. open, start, close, commit_*: the event loop only (one group
 * in flight at most). get, snapshot, hash_at, changes_since, auth_get,
 * stats: any thread. audit_*:
 * any thread, blocking (the audit job's thread). auth_rotate/retire: the
 * event loop. The sink is called by the thread that completes a group
 * (LMDB: the event loop, inside commit_submit and auth_rotate/retire;
 * PostgreSQL: its follower thread, from or_sor_start on), never
 * concurrently with itself.
 */
#ifndef OR_SOR_H
#define OR_SOR_H

#include <stddef.h>
#include <stdint.h>

#include "control/lib/or_err.h"
#include "control/store/audit.h"
#include "control/store/copy.h"
#include "control/store/store.h"

struct or_sor;

/* Where committed changes go (the daemon: the channel thread, dplink/). */
struct or_sor_sink {
	void *arg;
	/* Changes first_seq .. first_seq + n - 1 are committed: ch[i] with
	 * result res[i]; ch and res NULL: n seqs that change no entry (an
	 * auth epoch rotated or retired). */
	void (*applied)(void *arg, uint64_t first_seq,
			const struct or_change *ch,
			const struct or_change_result *res, unsigned n);
	/* The local copy was replaced: the dataplane needs a full resync
	 * (never called by the LMDB backend). NULL: nothing to do. */
	void (*replaced)(void *arg);
	/* The auth epoch state changed (committed). */
	void (*auth_changed)(void *arg);
};

#define OR_SOR_BACKEND_LMDB "lmdb"
#define OR_SOR_BACKEND_PG "postgresql"

struct or_sor_conf {
	const char *backend;                  /* NULL: OR_SOR_BACKEND_LMDB */
	struct or_store_conf store;           /* the local store (postgresql:
					       * the follower's copy) */
	const struct or_node_policy *node_policy; /* copied; NULL: none */
	struct or_sor_sink sink;
	/* postgresql only (copied) */
	const char *conninfo;                 /* libpq string, no password */
	const char *appliance;                /* name, unique in the fleet */
	uint8_t key_check[16];                /* or_keys_fleet_check */
	uint8_t key_epoch;
	unsigned commit_timeout_ms;           /* a group's longest time */
	unsigned report_ms;                   /* poll and report interval */
	unsigned silence_ms;                  /* an appliance silent this
					       * long is not live */
	uint64_t resync_after;                /* missed entries that call
					       * for a full resync; 0: the
					       * copy's records, >= 1M */
};

enum or_sor_outcome {
	OR_SOR_COMMITTED = 1,
	OR_SOR_NOT_COMMITTED, /* rc and err say why; nothing of it applies */
	OR_SOR_UNKNOWN,       /* a remote commit whose outcome was lost */
};

/* One group of changes. Caller-owned, untouched by the caller from
 * commit_submit() until commit_take() returns it. */
struct or_sor_group {
	const struct or_change *ch;   /* in: n changes */
	unsigned n;                   /* in: 1 .. OR_STORE_APPLY_MAX */
	struct or_change_result *res; /* out: n results */
	uint64_t first_seq;           /* out (committed): seq of ch[0] */
	enum or_sor_outcome outcome;  /* out */
	int rc;                       /* out: 0 or -errno (or_store_apply's) */
	struct or_err err;            /* out: why, when rc != 0 */
};

/* Opens the backend conf->backend. 0 or -errno (-EINVAL: unknown backend),
 * err says why. */
int or_sor_open(const struct or_sor_conf *conf, struct or_sor **out,
		struct or_err *err);

/* The "lmdb" backend over a store already open (tests, tools that also
 * work on the store itself): conf->store is ignored, and or_sor_close()
 * leaves st open. 0 or -ENOMEM. */
int or_sor_lmdb_attach(struct or_store *st, const struct or_sor_conf *conf,
		       struct or_sor **out);

/* The sink may be called from now on (the daemon: once the channel
 * thread runs): a backend with threads of its own starts them. 0 or
 * -errno. */
int or_sor_start(struct or_sor *s);

/* The sink is not called any more once this returns (the daemon: before
 * the channel thread stops); a backend's threads end. Idempotent; close
 * does it too. */
void or_sor_stop(struct or_sor *s);

/* NULL is fine. No group may be in flight. */
void or_sor_close(struct or_sor *s);

/* Hands group g over. 0 (taken: done when commit_take returns it),
 * -EBUSY (a group is in flight) or -ENOTCONN (the record is unreachable;
 * refused at once, g untouched). */
int or_sor_commit_submit(struct or_sor *s, struct or_sor_group *g);

/* Readable (EPOLLIN) when a group is done, and in a fleet also when the
 * appliances' positions moved (a --wait=fleet may be answered now); -1
 * if the backend completes every group in place and has no fleet. */
int or_sor_commit_fd(const struct or_sor *s);

/* The group submitted, once done (outcome set), else NULL. Clears
 * commit_fd's readiness: call it whenever the descriptor is readable. */
struct or_sor_group *or_sor_commit_take(struct or_sor *s);

/* Local reads, as store.h says. */
int or_sor_get(struct or_sor *s, const struct or_token *t,
	       struct or_consent *out);
int or_sor_snapshot(struct or_sor *s, struct or_store_entry *buf,
		    unsigned cap, or_store_chunk_cb cb, void *arg,
		    uint64_t *snap_seq, struct or_err *err);
int or_sor_auth_get(struct or_sor *s, struct or_auth_state *st,
		    struct or_err *err);
/* Resuming the dataplane after a restart (docs/channel.md "Resuming"),
 * from the local store or copy, as audit.h's or_audit_hash_at and
 * or_audit_changes_since say (a copy answers only for positions it has
 * not folded yet). */
int or_sor_hash_at(struct or_sor *s, uint64_t seq,
		   uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err);
int or_sor_changes_since(struct or_sor *s, uint64_t seq,
			 const uint8_t hash[OR_AUDIT_HASH_LEN], uint64_t max,
			 struct or_store_entry *buf, unsigned cap,
			 or_store_chunk_cb cb, void *arg, uint64_t *snap_seq,
			 struct or_err *err);
/* Where local reads (or_sor_get, or_sor_snapshot) stand. */
struct or_sor_read_pos {
	uint64_t seq;  /* every change up to seq is in what they return from
			* now on (lmdb: the trail's head; a fleet: the local
			* copy's position) */
	int fleet;     /* 0: store = lmdb, whose reads are the record */
	int connected; /* fleet: the follower reaches the system of record */
};

/* Where local reads stand now (any thread). 0 or -errno (err says). */
int or_sor_read_pos(struct or_sor *s, struct or_sor_read_pos *rp,
		    struct or_err *err);
/* The local store's figures. */
int or_sor_stats(struct or_sor *s, struct or_store_stats *st,
		 struct or_err *err);

/* Auth epochs (store.h): committed, then the sink hears of it (applied
 * with the state's seq, then auth_changed). */
int or_sor_auth_rotate(struct or_sor *s, struct or_auth_state *st,
		       struct or_err *err);
int or_sor_auth_retire(struct or_sor *s, struct or_auth_state *st,
		       struct or_err *err);

/* Removes decommissioned appliance name's row from the fleet (docs/fleet.md
 * section 8), so that it is listed no more. Refused for this appliance,
 * one that reported within fleet_silence_ms, or one whose follower is
 * connected (it holds its appliance lock). 0; -ENOENT (no such name);
 * -EBUSY (this one, live or connected: err says which); -EOPNOTSUPP (not
 * a fleet); or the connection's errors. The event loop; blocking, bounded
 * by fleet_commit_timeout_ms. */
int or_sor_forget(struct or_sor *s, const char *name, struct or_err *err);

/* Fleet positions (docs/fleet.md section 8). */
#define OR_SOR_FLEET_MAX 64 /* appliances listed */

struct or_sor_member {
	char name[64];
	uint16_t id;
	int self;           /* this appliance */
	int live;           /* reported within silence_ms */
	uint64_t applied;   /* its copy's position */
	uint64_t enforced;  /* its dataplane's ack */
	uint64_t keys_acked; /* the auth state seq its dataplane's key set
			      * ack holds (or_auth_state.seq) */
	uint64_t silent_ms; /* since its last report (the server's clock) */
};

struct or_sor_fleet {
	int fleet;          /* 0: not a fleet (lmdb): nothing else is set */
	int connected;      /* the follower reaches the system of record */
	uint64_t head;      /* the fleet's head seq, as last read */
	uint64_t age_ms;    /* since these positions were read */
	uint64_t resyncs;   /* full resyncs of this appliance's copy */
	uint32_t timeline;  /* the highest PostgreSQL timeline used (0: none
			     * yet; the timeline guard, docs/fleet.md s. 7) */
	uint64_t stale_refusals; /* connections to an old primary refused */
	struct or_copy_stats copy; /* its log and fold (copy.h) */
	unsigned n;         /* members listed (at most OR_SOR_FLEET_MAX) */
	struct or_sor_member m[OR_SOR_FLEET_MAX];
};

/* This appliance's dataplane enforces every change up to seq, and the
 * key set of auth state keys_seq (0: none acked) (event loop, on every
 * ack advance): reported to the fleet. */
void or_sor_enforced(struct or_sor *s, uint64_t seq, uint64_t keys_seq);

/* The fleet's positions as the follower last read them (any thread). */
void or_sor_fleet(struct or_sor *s, struct or_sor_fleet *f);

/* The audit trail, as audit.h says (blocking). */
int or_sor_audit_subject(struct or_sor *s, const struct or_token *t,
			 struct or_audit_entry **out, size_t *n,
			 uint64_t *bad_seq, struct or_err *err);
int or_sor_audit_verify(struct or_sor *s, const volatile int *cancel,
			uint64_t *bad_seq, uint64_t *n_checked,
			struct or_err *err);
int or_sor_audit_head(struct or_sor *s, uint64_t *seq,
		      uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err);

#endif
