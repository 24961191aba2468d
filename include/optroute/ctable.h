/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The consent table: token -> 32-bit consent record (include/optroute/consent.h),
 * read at line rate by worker lcores while one writer changes it.
 *
 * ======================= Concurrency contract =========================
 *
 * Threads. Exactly ONE writer thread calls the functions marked [writer];
 * any number of reader threads call those marked [reader]. Functions marked
 * [any] may be called from any thread (they read counters only).
 *
 * Readers are liburcu QSBR readers (urcu-qsbr): each reader thread calls
 * rcu_register_thread() once, rcu_quiescent_state() once per poll loop
 * (never inside a lookup), and goes rcu_thread_offline() around anything that
 * blocks. A reader takes no lock, writes nothing shared, and never waits
 * for the writer: a lookup finishes in a bounded number of steps unless the
 * writer keeps moving keys, in which case it retries (lock-free, not
 * wait-free on misses).
 *
 * Guarantees to a reader, for a key K and one lookup L:
 *  G1 L never returns a torn record: it returns a record that was stored
 *     for K at some instant during L, or a miss.
 *  G2 If K is present, unchanged, for the whole of L, L finds it, even while
 *     the writer moves K or other keys between buckets, grows the table or
 *     replaces it.
 *  G3 If K was deleted before L began and ct_sync() returned since, L misses.
 *     (A lookup overlapping the delete may still see the old record.)
 *  G4 A lookup in stages (ct_lookup_start/_step/_finish) whose finish
 *     stage comes after a ct_sync() returned reflects every change made
 *     before that ct_sync(), even if its read stage came before: so what
 *     a caller decides after the finish is never older than a change
 *     already acknowledged (the update channel ACKs after ct_sync()).
 *
 * How (see dataplane/table/ct_table.c for the details):
 *  - A slot is (16-byte key, 32-bit record) inside one 64-byte bucket. A
 *    record is published with one 32-bit release store; record 0 means empty
 *    and the value OR_STATE_RSVD marks a slot whose key was deleted or moved
 *    away.
 *  - The writer never rewrites the key bytes of a slot a reader may still be
 *    comparing: a vacated slot is reused only after a grace period
 *    (synchronize_rcu in ct_sync). This is what makes G1 hold without a
 *    lock or a sequence counter readers would have to spin on.
 *  - A key lives in its primary bucket or its alternate one. A move copies
 *    the key to its other bucket first, then bumps the table's move counter,
 *    then vacates the old slot. A lookup that misses re-reads the move
 *    counter and retries if it changed (G2).
 *  - Each bucket has a 32-bit filter of the keys whose primary is that
 *    bucket but which live in their alternate (a key sets its bit before it
 *    is placed there; bits are only cleared by rebuilding the table): a
 *    lookup reads the alternate bucket only when the key's bit is set, so
 *    most lookups, hits and misses, touch one cache line.
 *  - ct_sync() bumps the handle's change count before its grace period; a
 *    finish stage that sees another count than its read stage did looks
 *    the whole burst up again (G4; rare: one ct_sync per update batch).
 *  - Growth and replace build a second table beside the live one (the
 *    writer mirrors every change into it), publish it with
 *    rcu_assign_pointer, and free the old one after a grace period.
 *
 * Writer duties. The writer must call ct_sync() regularly (the dataplane's
 * updater calls it once per batch, before it acknowledges): it waits for a
 * grace period, then reuses vacated slots and frees retired tables. An
 * upsert that needs a vacated slot returns -EAGAIN: call ct_sync() and
 * retry. ct_sync() must not be called from a registered, online reader.
 *
 * Memory: buckets come from DPDK hugepage memory (rte_malloc) when
 * CT_F_RTE_MALLOC is set and EAL is up, else from mmap with transparent
 * hugepages. A table created for N entries uses 30.5 bytes per entry at N;
 * a grown one at most 31.4 for uniform keys, as real tokens are; keys
 * alike in all but a few bytes can take many times that (docs/consent-
 * table.md, "Memory", has the bounds and figures).
 * ======================================================================
 */
#ifndef OPTROUTE_CTABLE_H
#define OPTROUTE_CTABLE_H

#include <stdint.h>

#include "optroute/consent.h"
#include "optroute/ct_stats.h"

/* Most keys in one ct_lookup_bulk() call. */
#define CT_BULK_MAX 64

struct ct;

/* Table creation flags. */
#define CT_F_RTE_MALLOC (1u << 0) /* allocate buckets with rte_malloc */

struct ct_params {
	uint64_t entries;   /* expected entries; the table is sized for them */
	uint64_t mem_limit; /* most bytes of buckets, all tables; 0 = none */
	int socket_id;      /* NUMA socket for rte_malloc, or -1 (SOCKET_ID_ANY) */
	unsigned flags;     /* CT_F_* */
};

/* struct ct_stats, [any]: its fields are the list OR_CT_STATS in
 * include/optroute/ct_stats.h. */

/* [writer] Creates an empty table. 0, -EINVAL or -ENOMEM. */
int ct_create(const struct ct_params *p, struct ct **out);

/* [writer] Frees everything. No reader may be using the table; waits for a
 * grace period first. */
void ct_destroy(struct ct *h);

/* [writer] Inserts or updates K. rec must be or_rec_valid().
 * 0, -EINVAL, -EAGAIN (room is being made: ct_sync() then retry),
 * -ENOSPC: no room, and no larger table could be made to hold the keys:
 * the memory limit or an allocation failure stopped it, or four growth
 * attempts did not fit them (1.25x, then each twice the one before, each
 * with a new seed, the doubling stopping at 16x the buckets the entries
 * need: keys alike in all but a few bytes; uniform keys, as real tokens
 * are, were never seen to). Counted in grow_failures; the table is
 * unchanged. */
int ct_upsert(struct ct *h, const struct or_token *k, uint32_t rec);

/* [writer] Deletes K. 0 or -ENOENT. */
int ct_delete(struct ct *h, const struct or_token *k);

/* [writer] Writer-side lookup (no RCU needed). Record or 0. */
uint32_t ct_get(const struct ct *h, const struct or_token *k);

/* [writer] Waits for a grace period, then reuses vacated slots, frees
 * retired tables and advances a growth in progress. 0 or -errno. */
int ct_sync(struct ct *h);

/* [writer] Copies up to 'buckets' buckets of a growth in progress; returns
 * 1 if a growth is still under way, 0 otherwise. The writer calls it when
 * idle; ct_upsert and ct_sync also advance growth by themselves. */
int ct_grow_step(struct ct *h, unsigned buckets);

/* [writer] Whole-table replace (full resync). Between begin and commit,
 * ct_replace_upsert() fills the new table only, while ct_upsert() and
 * ct_delete() go to both the live and the new table. Commit publishes the
 * new table: what was not (re-)sent is gone. Abort drops it.
 * A growth in progress is finished first. 0 or -errno. The new table grows
 * as the live one does: ct_replace_upsert() gets -ENOSPC when ct_upsert()
 * would (not counted in grow_failures), -ENOMEM at the memory limit; a
 * change ct_upsert() could not mirror into it makes commit fail (-ENOMEM,
 * the live table kept). */
int ct_replace_begin(struct ct *h);
int ct_replace_upsert(struct ct *h, const struct or_token *k, uint32_t rec);
int ct_replace_commit(struct ct *h);
void ct_replace_abort(struct ct *h);
int ct_replacing(const struct ct *h);

/* [any] Counters. */
void ct_get_stats(const struct ct *h, struct ct_stats *s);

/* A burst being looked up in stages (below). Its fields belong to the
 * table, but for recs and hits, which a caller reads once the burst is
 * finished; a caller only allocates it (on its stack or per lcore). */
struct ct_burst {
	uint64_t table_id;  /* which table the hashes were computed for */
	const struct or_token *const *keys;
	unsigned n;
	uint64_t changes;   /* the handle's ct_sync() count before the read */
	uint64_t moves;     /* the table's move count before the read */
	uint64_t need_alt;  /* misses whose alternate bucket is loading */
	uint64_t hits;      /* bit i: keys[i] found */
	uint32_t recs[CT_BULK_MAX]; /* records, 0 for a miss */
	uint32_t prim[CT_BULK_MAX];
	uint64_t hash[CT_BULK_MAX];
};

/* [reader] Looks up keys[0..n-1] (n <= CT_BULK_MAX): recs[i] receives the
 * record or 0 on a miss. Returns a bit mask of hits (bit i for keys[i]).
 * Equal to ct_lookup_start() then ct_lookup_finish(). */
uint64_t ct_lookup_bulk(const struct ct *h, const struct or_token *const *keys,
			unsigned n, uint32_t *recs);

/* [reader] The same lookup in stages, so that a caller can overlap one
 * burst's memory latency with the work on others: start hashes the keys
 * and prefetches their primary buckets (reads nothing it relies on); read
 * compares the keys with their primary buckets and prefetches the
 * alternates some need; finish compares those and returns what
 * ct_lookup_bulk() returns.
 *  - keys[] and the tokens must stay unchanged until the burst is
 *    finished.
 *  - Quiescent states may come between the stages: a stage uses nothing an
 *    earlier one read but the records of keys found (values, found after
 *    the lookup began); if the table was replaced or grew in between, the
 *    keys are hashed again and the misses looked up again. G1-G3 hold for
 *    the lookup as begun by the read stage.
 * ct_lookup_finish() runs the stages start left; ct_lookup_step() runs
 * them for a stream of bursts, one stage of each of up to three a pass. */
void ct_lookup_start(const struct ct *h, const struct or_token *const *keys,
		     unsigned n, struct ct_burst *b);
uint64_t ct_lookup_finish(const struct ct *h, struct ct_burst *b,
			  uint32_t *recs);

/* [reader] One pass over three bursts in a pipeline: finishes done (read
 * by the previous pass; its records are then in done->recs), reads mid
 * (started by the previous pass), and starts next with next_keys; the
 * read of mid and the start of next go eight keys of each in turn, so the
 * prefetches are spread over the work. Returns done's hits. Any of the
 * three may be NULL (when filling or draining the pipeline). done and mid
 * may be the same burst, read and finished in this pass: a two-burst
 * pipeline, as the dataplane worker runs it. Otherwise none may be
 * another. */
uint64_t ct_lookup_step(const struct ct *h, struct ct_burst *done,
			struct ct_burst *mid,
			const struct or_token *const *next_keys, unsigned next_n,
			struct ct_burst *next);

/* [reader] One key. Record or 0. */
uint32_t ct_lookup(const struct ct *h, const struct or_token *k);

#endif
