/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Enumeration budget (protocol version 2, docs/budget.md): each
 * authenticated sender may cause a limited number of bounces, a token bucket
 * of `burst` permits refilled at `refill_per_hour`. Deliveries cost nothing.
 *
 * ============================ The rule ===============================
 *
 * For a MSG of an authenticated, opted-in sender S, the caller (the worker)
 * decides in this order:
 *   1. or_budget_over(S, now): 1 -> reply with an OVER_BUDGET bounce
 *      (OR_REASON_OVER_BUDGET), whatever the recipient's state. Nothing is
 *      charged for it.
 *   2. otherwise the recipient decides: IN -> deliver (free);
 *      OUT or unknown -> normal bounce, and or_budget_charge(S, now) once
 *      the bounce is decided (before the next MSG this worker decides).
 * Step 1 reads the bucket alone, never the recipient, so the reply to a MSG
 * of an over-budget sender carries nothing about its recipient. The bucket
 * depends only on S's own charges and the time (and, when the table is
 * full, on an eviction that gives S budget back: counted, see below).
 *
 * ======================= Concurrency contract =========================
 *
 * Threads. or_budget_create/or_budget_free: one thread, with no other call
 * running. Any number of worker threads call or_budget_over,
 * or_budget_prefetch and or_budget_charge concurrently; any thread (the
 * telemetry thread) may call or_budget_stats and or_budget_permits at the
 * same time (and the _at variants of the worker calls, which are the
 * same calls with the sender's hash computed once). Nothing here needs
 * RCU: nothing is ever freed before
 * or_budget_free, so QSBR readers may call every function while online.
 *
 *  - or_budget_over / or_budget_permits / or_budget_stats never write shared
 *    memory, take no lock and never wait: a fixed number of loads (for
 *    or_budget_over a hint, then only if the hint is ahead one 128-byte
 *    bucket, sometimes a second), no retry loop.
 *  - or_budget_charge of a tracked sender is one compare-and-swap on its
 *    slot's 64-bit word (retried only if another worker changed that word
 *    in between), preceded by an atomic max on its hint when the charge
 *    leaves it over budget. The first charge of an untracked sender takes
 *    the spinlocks of its two candidate buckets (in index order; held for
 *    a few dozen instructions, never across anything that blocks) to
 *    place it, evicting an entry if need be.
 *
 * Shared fields (dataplane/auth/budget.c):
 *  - slot word: written by charges (CAS, lock-free) and by placements
 *    (under the bucket lock); read by everyone with atomic loads.
 *  - slot key: written only under the bucket lock while the slot's word is
 *    not live; read by everyone. A reader checks the word before and after
 *    comparing the key (the word carries a generation), so it never
 *    attributes a slot to a sender it did not hold throughout the read
 *    (unless the slot changed hands a multiple of 65 536 times between the
 *    two word loads of one lookup: the generation has 16 bits).
 *  - hints: raised (atomic max, lock-free) by a charge that leaves its
 *    sender over budget, before that charge publishes the slot word (whose
 *    release store or compare-and-swap orders the two); never lowered;
 *    read by or_budget_over with one atomic load.
 *  - bucket alt counters: atomic increments/decrements under the lock of
 *    the bucket a key is placed into or evicted from; read by everyone.
 *  - statistics counters: relaxed atomic adds by workers, relaxed loads by
 *    or_budget_stats.
 *
 * Guarantees, for a sender S:
 *  B1 or_budget_over returns a value S's bucket had at some instant of the
 *     call (never a mix of two senders' state). A hint that is not ahead
 *     answers 0 without the table; it is raised before any word that makes
 *     S over is published, so it never hides a charge that landed before
 *     the call.
 *  B2 A tracked sender is found by every call while it stays tracked; keys
 *     never move between slots.
 *  B3 No charge is lost while S stays tracked; two workers charging an
 *     untracked S at once create one entry, charged twice.
 *  B4 Overdraw is bounded: charges are taken only after or_budget_over said
 *     "not over", so S goes below zero permits by at most the number of its
 *     MSGs that were between steps 1 and 2 at once (at most workers - 1 if
 *     each worker charges before it decides its next MSG). Debt is capped
 *     at OR_BUDGET_MAX_OVERDRAW permits below zero whatever the caller does.
 *
 * Memory. Buckets of 128 bytes (5 slots of 24 bytes + lock + counters),
 * capacity / 4 of them: 32 bytes per sender of capacity. From rte_malloc
 * when OR_BUDGET_F_RTE_MALLOC is set and EAL is up, else mmap. When both
 * candidate buckets of a new sender are full of senders still in debt, the
 * one with the least debt is evicted (counted in evicted_unrefilled: that
 * sender gets its debt back). A sender whose bucket has refilled is
 * equivalent to an untracked one; its slot is reused at no cost.
 *
 * Time: now_ms from one clock shared by all callers, preferably monotonic
 * (a clock that jumps forward refills every bucket; backwards, delays).
 * ======================================================================
 */
#ifndef OR_BUDGET_H
#define OR_BUDGET_H

#include <stdint.h>

#include "optroute/consent.h"

/* Limits of the parameters (or_budget_create returns -EINVAL outside). */
#define OR_BUDGET_BURST_MAX 1000000u
#define OR_BUDGET_REFILL_MAX 3600000u      /* one permit per millisecond */
/* Debt below zero permits is capped here (B4). */
#define OR_BUDGET_MAX_OVERDRAW 1024u

/* Creation flags. */
#define OR_BUDGET_F_RTE_MALLOC (1u << 0) /* buckets from rte_malloc */

struct or_budget_params {
	uint32_t burst;           /* permits of a full bucket, >= 1 */
	uint32_t refill_per_hour; /* permits regained per hour, >= 1 */
	uint32_t capacity;        /* senders in debt tracked without loss, >= 1 */
	int socket_id;            /* NUMA socket for rte_malloc, or -1 */
	unsigned flags;           /* OR_BUDGET_F_* */
};

struct or_budget;

struct or_budget_stats {
	uint64_t tracked;            /* senders in debt now (a scan) */
	uint64_t over_now;           /* of which over budget now */
	uint64_t charged;            /* charges (bounces) since creation */
	uint64_t evicted_unrefilled; /* senders evicted while in debt: budget lost */
	uint64_t recycled;           /* refilled entries replaced (no cost) */
	uint64_t slots;              /* entries the table can hold */
	uint64_t bytes;              /* bucket memory */
};

/* Creates an empty budget table. 0, -EINVAL (parameters out of range),
 * -ENOMEM, or -EIO (no random seed). */
int or_budget_create(const struct or_budget_params *p, struct or_budget **out);

/* Frees it. No other call may be running or follow. NULL is a no-op. */
void or_budget_free(struct or_budget *b);

/* [worker] 1 if sender has fewer than one permit at now_ms, else 0. Read
 * only, lock-free. Call it for every MSG of an authenticated, opted-in
 * sender BEFORE looking at the recipient (see the rule above). */
int or_budget_over(const struct or_budget *b, const struct or_token *sender,
		   uint64_t now_ms);

/* [worker] Prefetches what or_budget_over of sender reads first (its
 * hint), a few hundred cycles before, and returns the sender's hash: the
 * seeded hash of its token that places it in b, computed once a MSG and
 * passed to the _at calls below. */
uint64_t or_budget_prefetch(const struct or_budget *b,
			    const struct or_token *sender);

/* [worker] or_budget_prefetch of senders[0..n-1] (a burst), hashes in
 * hash[0..n-1]. */
void or_budget_prefetch_burst(const struct or_budget *b,
			      const struct or_token *const *senders, unsigned n,
			      uint64_t *hash);

/* [worker] Prefetches what or_budget_charge of sender reads: for a MSG
 * known to bounce, a few MSGs before its charge. */
void or_budget_prefetch_charge(const struct or_budget *b,
			       const struct or_token *sender);

/* [worker] The same three calls for a sender whose hash or_budget_prefetch
 * returned (of this b, for this sender: with any other value, the sender
 * is looked up and charged in the wrong buckets). They give exactly the
 * answers and effects of the calls without _at. */
int or_budget_over_at(const struct or_budget *b, const struct or_token *sender,
		      uint64_t hash, uint64_t now_ms);
void or_budget_prefetch_charge_at(const struct or_budget *b, uint64_t hash);
void or_budget_charge_at(struct or_budget *b, const struct or_token *sender,
			 uint64_t hash, uint64_t now_ms);

/* [worker] A normal bounce was decided for a MSG of sender (which
 * or_budget_over said was not over): takes one permit. Never fails; the
 * bucket may go below zero by a few permits under races (B4). */
void or_budget_charge(struct or_budget *b, const struct or_token *sender,
		      uint64_t now_ms);

/* [any] The sender's permits at now_ms in thousandths (fixed point,
 * rounded down; negative in debt beyond zero). burst * 1000 if untracked.
 * For tests and diagnostics. */
int64_t or_budget_permits(const struct or_budget *b,
			  const struct or_token *sender, uint64_t now_ms);

/* [any] Counters and a scan of the table at now_ms (reads 32 bytes per
 * sender of capacity: call it from the telemetry thread, not a worker). */
void or_budget_stats(const struct or_budget *b, uint64_t now_ms,
		     struct or_budget_stats *s);

#endif
