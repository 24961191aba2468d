/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The durable consent store (LMDB). Specification: docs/consent-store.md.
 *
 * One record per token, keyed by the 16-byte token, holding exactly what
 * consent needs and nothing more about a person: state, delivery node, key
 * epoch, flags, method of collection, notice version, the time of the last
 * opt-in and of the withdrawal in force, and the change sequence number
 * that last touched it. Times are Unix milliseconds (UTC).
 *
 * Every change gets a change sequence number (seq), 1, 2, 3, ... with no
 * gaps, stored in the same LMDB write transaction as the change and its
 * audit entry (audit.h); the daemon uses it as the update channel's
 * sequence number. The environment is opened without MDB_NOSYNC and
 * MDB_NOMETASYNC: mdb_txn_commit() returns only after fsync, so a change
 * may be acknowledged as soon as or_store_apply() returned 0.
 *
 * Thread safety: all functions may be called from any thread at any time
 * on one struct or_store (LMDB serialises writers; readers get their own
 * snapshot transactions, MDB_NOTLS). or_store_close() must not race others.
 */
#ifndef OR_STORE_H
#define OR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "optroute/consent.h"
#include "optroute/cp_stats.h"

#include "control/lib/or_err.h"

/* Address space reserved for the map. The file grows only as data is
 * written (no MDB_WRITEMAP), so a big value costs nothing on disk. At
 * ~300 bytes per token (record, audit entry; measured 2.9-3.4 GB for 10M
 * in bench-control), 64 GiB is >100M changes. */
#define OR_STORE_DEFAULT_MAP_SIZE (64ull << 30)

/* How a consent (or its withdrawal) was collected. Stored in the record
 * and in every audit entry; values are on disk, never renumber. */
enum or_method {
	OR_METHOD_APP = 1,          /* number sent by the phone app (TLS) */
	OR_METHOD_SEALED = 2,       /* number sealed to the appliance key */
	OR_METHOD_PROVISIONING = 3, /* carrier / SIM provisioning system */
	OR_METHOD_IMPORT = 4,       /* bulk token import from another system */
	OR_METHOD_OPERATOR = 5,     /* operator with optroutectl */
};
#define OR_METHOD_MAX OR_METHOD_OPERATOR

/* What a change does. Values are on disk (audit), never renumber. */
enum or_action {
	OR_ACT_OPTIN = 1,  /* record -> IN (created if absent) */
	OR_ACT_OPTOUT = 2, /* record -> OUT (created if absent: explicit
			    * withdrawal is kept so it is never lost) */
	OR_ACT_ERASE = 3,  /* record deleted (right to erasure); the audit
			    * trail keeps the token and the event */
	OR_ACT_KEY = 4,    /* a sender key of auth epoch `epoch` was issued
			    * to the token (record unchanged; it must be IN) */
	/* The appliance's own events, written by or_store_auth_rotate() /
	 * _retire() only, under the all-zero token (OR_AUDIT_APPLIANCE): */
	OR_ACT_ROTATE = 5, /* auth epoch `epoch` became the current one */
	OR_ACT_RETIRE = 6, /* auth epoch `epoch` (the previous) retired */
};
#define OR_ACT_MAX OR_ACT_RETIRE
/* The actions or_store_apply() takes. */
#define OR_ACT_CHANGE_MAX OR_ACT_KEY

/* One consent record as stored. */
struct or_consent {
	struct or_token token;
	uint8_t state;           /* OR_STATE_IN or OR_STATE_OUT */
	uint8_t epoch;           /* key epoch the token was derived under */
	uint8_t flags;           /* OR_CFLAG_* (PINNED: node set explicitly) */
	uint8_t method;          /* enum or_method of the last change */
	uint16_t node;           /* delivery node */
	uint32_t notice_version; /* privacy notice version of the last change */
	uint64_t granted_ms;     /* last opt-in, 0 if never */
	uint64_t withdrawn_ms;   /* withdrawal in force, 0 while opted in */
	uint64_t seq;            /* change that last wrote this record */
};

/* The 32-bit record the dataplane stores (include/optroute/consent.h). */
static inline uint32_t
or_consent_rec(const struct or_consent *c)
{
	return or_rec_make((enum or_consent_state)c->state, c->node, c->epoch,
			   c->flags);
}

/* Delivery-node assignment for opt-ins that name no node. */
enum or_node_policy_kind {
	OR_NODE_POLICY_HASH = 1,  /* node = first 8 token bytes (LE) mod n */
	OR_NODE_POLICY_FIXED = 2, /* node = fixed */
};

struct or_node_policy {
	enum or_node_policy_kind kind;
	uint32_t n_nodes; /* HASH: 1..65536, nodes 0..n_nodes-1 */
	uint16_t node;    /* FIXED */
};

/* Parses "hash N" / "hash:N" (N = node count, 1..65536) or "fixed N" /
 * "fixed:N" (N = node id, 0..65535). 0 or -EINVAL. */
int or_node_policy_parse(const char *s, struct or_node_policy *out,
			 struct or_err *err);

/* The node policy p assigns to token t. p must be valid (as parsed). */
/* The policy as or_node_policy_parse reads it ("hash 4", "fixed 2"). */
void or_node_policy_format(const struct or_node_policy *p, char *buf,
			   size_t len);

uint16_t or_node_pick(const struct or_node_policy *p,
		      const struct or_token *t);

/* One requested change. */
struct or_change {
	struct or_token token;
	uint8_t action;          /* enum or_action, 1..OR_ACT_CHANGE_MAX */
	uint8_t method;          /* enum or_method */
	uint8_t epoch;           /* key epoch of token; OR_ACT_KEY: the auth
				  * epoch of the key issued */
	/* OPTIN only: -1 = keep a pinned node, else ask the policy;
	 * 0..65535 = this node, and the record becomes PINNED.
	 * Must be -1 for OPTOUT and ERASE (they keep the node). */
	int32_t node;
	uint32_t notice_version; /* notice the person was shown */
	uint64_t time_ms;        /* 0 = now (CLOCK_REALTIME) */
};

/* Outcome of one change, in the order given. */
struct or_change_result {
	uint64_t seq;      /* its change sequence number */
	uint32_t rec;      /* record after: push as upsert; 0 = erased,
			    * push as delete (OR_ACT_KEY: the unchanged
			    * record, nothing to push) */
	uint32_t prev_rec; /* record before, 0 if there was none */
};

struct or_store_conf {
	const char *path;  /* directory; created (0700) if missing. Holds
			    * data.mdb and lock.mdb, both mode 0600 */
	uint64_t map_size; /* bytes; 0 = OR_STORE_DEFAULT_MAP_SIZE */
	int read_only;     /* 1: MDB_RDONLY, for offline inspection tools;
			    * or_store_apply() then fails with -EROFS */
};

/* Most changes one or_store_apply() takes: bounds the dirty pages of one
 * write transaction well below LMDB's limit (MDB_TXN_FULL) even when
 * every change touches different pages of a large store. */
#define OR_STORE_APPLY_MAX 16384u

struct or_store;

/* Opens (creating if needed) the store. 0 or -errno; err says why
 * (including LMDB's own text). */
int or_store_open(const struct or_store_conf *conf, struct or_store **out,
		  struct or_err *err);

/* Closes the environment. NULL is fine. */
void or_store_close(struct or_store *s);

/* Group commit: applies ch[0..n) in order in ONE write transaction, with
 * their audit entries, and commits (fsync). All or nothing. Changes are
 * checked first (-EINVAL, err "change 3: unknown method"), then applied;
 * a token may appear more than once (each later change sees the earlier).
 * On 0: change i has seq *first_seq + i, res[i] (if res != NULL) says
 * what to push to the dataplane, and everything is on disk. n == 0 is a
 * no-op (0, *first_seq = 0). pol may be NULL if no change is an opt-in
 * without an explicit node.
 * OR_ACT_KEY changes no record and fails the group (-EINVAL, "change 3:
 * a key is issued only to an opted-in subject") unless the token's record
 * is IN at that point of the group.
 * Errors: -EINVAL, -E2BIG (n > OR_STORE_APPLY_MAX), -ENOSPC (map full:
 * raise map_size), -EROFS, -EBADMSG (corrupt record), -EIO. */
int or_store_apply(struct or_store *s, const struct or_node_policy *pol,
		   const struct or_change *ch, unsigned n,
		   struct or_change_result *res, uint64_t *first_seq,
		   struct or_err *err);

/* A follower's full resync builds a fresh copy (docs/fleet.md section 5):
 * records loaded in token order, in batches (each one write
 * transaction; the first into an empty store), then the position it
 * stands at. 0 or -errno (err: records out of order or invalid). */
int or_store_load(struct or_store *s, const struct or_consent *c,
		  unsigned n, struct or_err *err);
struct or_audit_entry; /* audit.h */
struct or_auth_state; /* below */
int or_store_set_position(struct or_store *s, uint64_t seq,
			  const uint8_t hash[32],
			  const struct or_auth_state *auth,
			  struct or_err *err);

/* Looks one token up. 0, -ENOENT or -errno. */
int or_store_get(struct or_store *s, const struct or_token *t,
		 struct or_consent *out);

/* Full resync. What the dataplane needs, from one read-only snapshot. */
struct or_store_entry {
	struct or_token token;
	uint32_t rec;
};

/* Returns 0 to go on, anything else to stop (returned by the caller). */
typedef int (*or_store_chunk_cb)(void *arg, const struct or_store_entry *e,
				 unsigned n);

/* Streams every record of one consistent snapshot, in token order, in
 * chunks of up to cap entries written to buf (caller-owned, cap >= 1).
 * *snap_seq (if not NULL) is set BEFORE the first callback to the last
 * seq the snapshot contains: changes with seq > *snap_seq are not in it
 * and must be sent after the resync. An empty store calls cb zero times.
 * 0, the callback's nonzero value, or -errno. */
int or_store_snapshot(struct or_store *s, struct or_store_entry *buf,
		      unsigned cap, or_store_chunk_cb cb, void *arg,
		      uint64_t *snap_seq, struct or_err *err);

/* Every full record of one snapshot, in token order (export, tools).
 * Same return convention as or_store_snapshot(). */
int or_store_foreach(struct or_store *s,
		     int (*cb)(void *arg, const struct or_consent *c),
		     void *arg, struct or_err *err);

/* The exported figures are the list OR_STORE_STATS
 * (include/optroute/cp_stats.h: entries, opted_in, opted_out, last_seq,
 * audit_entries, file_bytes = data.mdb's bytes on disk, st_blocks * 512,
 * map_bytes), filled in place: .figures is the stats reply's section. */
struct or_store_stats {
	union {
		struct cp_store_stats figures;
		struct {
			OR_STORE_STATS(OR_STAT_FIELD_)
		};
	};
	uint64_t file_len;      /* data.mdb, st_size (not exported) */
};

int or_store_stats(struct or_store *s, struct or_store_stats *st,
		   struct or_err *err);

/* Sender authentication epochs (include/optroute/auth.h): at most two are
 * live, the current one and, after a rotation until it is retired, the
 * previous one. Durable in the meta DB; a fresh store is {current 0, no
 * previous, seq 0}. Each rotation and retirement is one write transaction
 * of its own: the new state, its audit entry (OR_ACT_ROTATE with the new
 * current epoch, OR_ACT_RETIRE with the retired one, under the all-zero
 * token, method operator) and the next change seq. */
struct or_auth_state {
	uint8_t current;
	uint8_t has_previous; /* 1 while the previous epoch is live */
	uint8_t previous;     /* valid if has_previous */
	uint64_t seq;         /* change seq of the rotation or retirement
			       * that made this state; 0 = never changed.
			       * Grows with every change of the state, so
			       * it also names the key set sent to the
			       * dataplane. */
};

/* The state as committed. 0 or -errno (-EBADMSG: malformed). */
int or_store_auth_get(struct or_store *s, struct or_auth_state *st,
		      struct or_err *err);

/* current := current + 1 (mod 256), previous := the old current. Refused
 * with -EBUSY ("retire epoch N first") while a previous epoch is live.
 * time_ms 0 = now. On 0, *st is the new state (st->seq its seq). */
int or_store_auth_rotate(struct or_store *s, uint64_t time_ms,
			 struct or_auth_state *st, struct or_err *err);

/* Drops the previous epoch. -ENOENT ("no previous epoch to retire") if
 * none is live. On 0, *st is the new state. */
int or_store_auth_retire(struct or_store *s, uint64_t time_ms,
			 struct or_auth_state *st, struct or_err *err);

/* Both backends' rule for a rotation (OR_ACT_ROTATE) or retirement
 * (OR_ACT_RETIRE) of st: its audit entry's action, epoch (the new current
 * one; the retired one), method operator and the all-zero token set in *e
 * (the rest left as it was: seq, time, writer, chain are the caller's).
 * 0; -EBUSY or -ENOENT, refused as or_store_auth_rotate/retire say. */
struct or_audit_entry;
int or_auth_entry(const struct or_auth_state *st, uint8_t action,
		  struct or_audit_entry *e, struct or_err *err);

/* The auth state after a rotate or retire entry e (whose seq it takes).
 * 0, or -EBADMSG (a retirement of an epoch that is not the previous one,
 * another action): *st unchanged. */
int or_auth_next(struct or_auth_state *st, const struct or_audit_entry *e);

/* CLOCK_MONOTONIC in microseconds: durations and timeouts of the store's
 * threads (the local copy's fold, the fleet backend). */
uint64_t or_store_mono_us(void);

/* Names for JSON and the CLI ("optin", "optout", "erase", "key",
 * "rotate", "retire"; "app", "sealed", "provisioning", "import",
 * "operator"); NULL if unknown. */
const char *or_action_name(unsigned action);
const char *or_method_name(unsigned method);
/* 0 or -EINVAL. */
int or_action_parse(const char *s, uint8_t *out);
int or_method_parse(const char *s, uint8_t *out);

#endif
