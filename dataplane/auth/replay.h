/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Replay filter of protocol version 2 (docs/replay.md): remembers every MSG
 * (send_time, tag) whose send time is inside the +-window, shared by all
 * workers, so that a second copy is dropped whichever lcore or queue it
 * arrives on. The caller verifies the tag and the window first
 * (|send_time - now| <= window, else `stale`), then asks or_replay_check.
 *
 * ============================== Layout ================================
 *
 * One table of 64-byte buckets, 16 entries of 32 bits each. A message has
 * two candidate buckets and a 32-bit entry value, all three from two AES
 * rounds (or a multiply mix without AES-NI) of (tag, send_time) under a
 * per-process random key: outsiders and senders grinding their own tags
 * cannot aim at buckets. The entry value is
 *     epoch (6 bits: send-time slot number mod 64) | fingerprint (26 bits)
 * Send time is cut into slots of slot_ms (derived from window_ms so that
 * the live slots are 32 of the 64 epoch values); an entry is live while its
 * slot is, i.e. until its send time left the window. Dead entries are free:
 * workers overwrite them in place. The tick keeps an epoch value from
 * coming back to life while old entries still carry it (sweep).
 *
 * ======================= Concurrency contract =========================
 *
 * Threads. or_replay_create / or_replay_free: one thread, nothing else
 * running. Any number of worker threads call or_replay_check,
 * or_replay_check_burst and or_replay_prefetch concurrently. ONE thread
 * (the dataplane's main lcore) calls or_replay_tick; any thread may call
 * or_replay_stats. No call takes a lock, sleeps or waits for another
 * thread; nothing is freed before or_replay_free, so QSBR readers call
 * everything while online and no grace period is ever needed.
 *
 * Shared fields (replay.c):
 *  - lo (the lowest live slot): written only by the tick (sequentially
 *    consistent store, once per slot_ms); read by workers at the start and
 *    at the end of every attempt.
 *  - bucket entries: workers CAS a free entry to their value (insert) and,
 *    rarely, their own value to a tombstone (roll back); the tick CASes
 *    dead entries to 0 (sweep). Everyone reads them with plain loads (each
 *    aligned 32-bit entry is read whole on x86; a stale read only makes a
 *    CAS fail and the scan start again).
 *  - counters: per-thread shards, relaxed atomic adds, only on the rare
 *    outcomes (SEEN, FULL, STALE, roll-backs); read by or_replay_stats.
 *  - tick state (clock, sweep cursor, live-entry count of the last pass):
 *    tick thread only; stats reads the published figures atomically.
 *
 * Guarantees (proof sketch in docs/replay.md):
 *  R1 Of any number of checks of the same (send_time, tag), racing or not,
 *     at most one returns OR_REPLAY_NEW while the send time's slot is live.
 *     Racing copies that all return before a tick moves the window: exactly
 *     one NEW, unless both buckets are full (then FULL). A copy that
 *     overlaps a move of the window retries (R3).
 *  R2 No false negative: a check after a NEW of the same message returns
 *     SEEN, or STALE once the slot left the window; never NEW.
 *  R3 A check that overlapped a change of `lo` does not return NEW from
 *     that attempt: it turns its own entry into a tombstone and starts
 *     again (at most OR_REPLAY_ATTEMPTS times, then FULL).
 *  R4 False positives (a NEW message reported SEEN): at most 32 * 2^-26 =
 *     4.8e-7 per check whatever the load; about 2 * n_slot / nb * 2^-26
 *     in practice (docs/replay.md).
 *  R5 Fail closed: FULL and STALE are drops, never NEW.
 */
#ifndef OR_REPLAY_H
#define OR_REPLAY_H

#include <stdint.h>

struct or_replay;

struct or_replay_params {
	/* Messages the filter must hold: window_ms / 1000 * expected peak
	 * rate (messages with a send time inside the window). The table is
	 * sized for this times (window + slot) / window, at a load where a
	 * FULL is rarer than 1e-8 (docs/replay.md). */
	uint64_t capacity;
	/* The +-window of the caller's time check (ms, 1 .. 86,400,000). */
	uint32_t window_ms;
	/* NUMA socket of the table (SOCKET_ID_ANY: -1). Memory: rte_malloc
	 * when EAL is up and has hugepages; else mmap with MAP_HUGETLB when
	 * enough hugepages are reserved; else mmap with MADV_HUGEPAGE. */
	int socket_id;
	/* Tests only: fingerprint bits (2 .. 26); 0 means 26. Fewer bits make
	 * the false-positive rate measurable on a small filter. */
	uint8_t fp_bits;
};

/* Results of or_replay_check. NEW: recorded, deliver. SEEN: a replay
 * (or, rarely, a false positive), drop. FULL: could not be recorded (both
 * buckets full of live entries), drop, fail closed. STALE: the filter does
 * not cover this send time (before the first tick, outside the live slots,
 * or the slot left the window during the check): drop as stale. */
enum or_replay_result {
	OR_REPLAY_NEW = 0,
	OR_REPLAY_SEEN = 1,
	OR_REPLAY_FULL = 2,
	OR_REPLAY_STALE = 3,
};

/* Messages hashed and prefetched together by or_replay_check_burst (a
 * longer burst is checked in pieces of this many). */
#define OR_REPLAY_BURST_MAX 64
/* Attempts of one check across changes of the window before FULL. */
#define OR_REPLAY_ATTEMPTS 4

/* 0, -EINVAL (capacity 0, window out of range, fp_bits out of range),
 * -ENOMEM, or -EIO (no random seed). */
int or_replay_create(const struct or_replay_params *p, struct or_replay **out);

/* NULL is fine. No other call may run or follow. */
void or_replay_free(struct or_replay *r);

/* One MSG that passed the tag and window checks: an or_replay_result. */
int or_replay_check(struct or_replay *r, uint64_t send_time_ms, uint64_t tag,
		    uint64_t now_ms);

/* n MSGs: hashes them and prefetches their buckets first (up to
 * OR_REPLAY_BURST_MAX at a time), then checks them in order; res[i] as
 * or_replay_check would give: the same results as n calls of
 * or_replay_check, in the same order. */
void or_replay_check_burst(struct or_replay *r, unsigned n,
			   const uint64_t *send_time_ms, const uint64_t *tag,
			   uint64_t now_ms, uint8_t *res);

/* Starts loading the buckets of a message checked soon (e.g. the next
 * burst's, while this one is checked). No effect on the result. */
void or_replay_prefetch(const struct or_replay *r, uint64_t send_time_ms,
			uint64_t tag);

/* Maintenance, from ONE thread, about every 20 ms (any interval works; the
 * sweep's share is proportional to the time elapsed). Call it once before
 * the first check: until then every check is STALE. Moves the live slots
 * with now (never backwards: a clock that steps back keeps the newer
 * window, docs/replay.md), and sweeps: entries of epoch values about to
 * come back into the window are cleared beforehand. Never blocks workers;
 * bounded work per call except after a stall (then it finishes a sweep
 * pass at once rather than let an epoch value alias). */
void or_replay_tick(struct or_replay *r, uint64_t now_ms);

struct or_replay_stats {
	uint64_t bytes;          /* bucket memory */
	uint64_t capacity;       /* params.capacity */
	uint64_t entries;        /* entry positions: buckets * 16 */
	uint64_t entries_approx; /* live entries, counted by the last full sweep pass */
	uint64_t window_ms;
	uint64_t slot_ms;
	uint64_t lo_slot;        /* lowest live slot (send_time / slot_ms), 0 before the first tick */
	uint64_t seen;           /* checks that returned SEEN */
	uint64_t full;           /* FULL */
	uint64_t stale;          /* STALE */
	uint64_t retries;        /* attempts rolled back: lo changed during them */
	uint64_t sweep_passes;   /* completed sweep passes */
	uint64_t sweep_cleared;  /* dead entries cleared by the sweep */
	uint64_t sweep_forced;   /* passes finished at once because the tick fell behind */
	unsigned fp_bits;
	const char *memory;      /* "rte_malloc", "hugetlb" or "thp" */
};

/* Any thread, any time; counters are read without stopping the writers. */
void or_replay_stats(const struct or_replay *r, struct or_replay_stats *s);

#endif
