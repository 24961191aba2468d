/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The link to the dataplane (dplink/): one thread, "cp-channel", pushes
 * committed consent changes to the dataplane over the update channel
 * (include/optroute/chan_client.h), sends it the auth keys, fetches its
 * counters for "stats", and tracks what the dataplane has acknowledged,
 * in store change seqs. Files: link_priv.h.
 *
 * Threads. The event loop is the only producer: it enqueues committed
 * changes (through the store's sink, control/store/sor.h) and dataplane
 * stats requests. One thread owned by this
 * module is the only user of the channel client: it (re)connects in the
 * background, sends a full resync from a store snapshot on every connect,
 * then streams queued changes as BATCH messages. It reports back through
 * an eventfd (cp_link_notify_fd) that the event loop polls: acks advanced,
 * stats answered, connection state changed.
 *
 * Seqs. The channel numbers its messages itself (per connection); this
 * module maps each sent message to the highest store change seq it
 * carries, so acked_seq below is a store seq: every change up to it is
 * applied by the dataplane and visible to every worker.
 *
 * Store seqs that change no table entry (a sender key issued, an auth
 * epoch rotated or retired) are queued too, without an op: each counts as
 * applied once the dataplane acks the last table message sent before it.
 *
 * Refusals. The dataplane answers a table message (BATCH, RESYNC_*) it
 * could not wholly apply with an ERROR naming its seq, then an ACK that
 * covers that seq all the same (docs/channel.md). So an ERROR naming any
 * seq but the AUTH_KEYS one holds acked_seq below that message for the
 * rest of the connection (what it and later messages carried is not
 * reported applied: a "wait" keeps waiting, cp_link_ack_time() gives 0),
 * and the thread drops the connection. The next one starts, as every
 * connection does, with a full resync from the store, which carries those
 * changes again; it is attempted retry_ms after the drop, doubled for each
 * such refusal in a row, at most 64 x retry_ms (an acked resync starts the
 * count again). So a dataplane that refuses every resync (its table_mem_mb
 * too small for the store) is not resynced in a loop: acked_seq stays,
 * each refusal is logged and counted in errors.
 *
 * Overflow. While no dataplane is connected nothing is queued (the resync
 * on connect carries everything). If the queue grows past queue_max changes
 * (a slow dataplane), it is dropped and a full resync is sent instead.
 *
 * Auth keys. After every HELLO, before the resync, and whenever the event
 * loop says the auth epoch state changed (cp_link_keys_changed), the thread
 * reads that state from the store and sends the live epochs' K_auth as one
 * AUTH_KEYS message (or_chan_send_auth_keys: the message is wiped once
 * sent, so is the thread's copy). Its ACK is tracked like a BATCH's; an
 * ERROR for it (a dataplane that predates AUTH_KEYS answers EOPNOTSUPP)
 * marks the set refused, is logged (never a key byte) and leaves the
 * connection up. The keys_* fields of cp_link_info say where it stands.
 */
#ifndef CP_LINK_H
#define CP_LINK_H

#include <stdint.h>

#include "optroute/chan.h"
#include "optroute/link_stats.h"

#include "control/lib/keys.h"
#include "control/store/sor.h"

struct cp_link;

struct cp_link_conf {
	const char *chan_path;
	struct or_sor *sor;         /* snapshots, the auth state */
	const struct or_keys *keys; /* NULL: no AUTH_KEYS are sent */
	unsigned retry_ms;
	unsigned queue_max;
};

/* Where the auth key set of this connection stands (keys_state). */
enum cp_keys_state {
	CP_KEYS_NONE = 0,    /* none sent on this connection (or none) */
	CP_KEYS_PENDING = 1, /* sent, not acked yet */
	CP_KEYS_ACKED = 2,   /* every worker verifies with it */
	CP_KEYS_REFUSED = 3, /* the dataplane answered ERROR keys_error */
};

/* Counters and state; any field may be slightly stale, but the keys_*
 * fields are always of one moment (written and read under a lock). */
struct cp_link_info {
	/* The link's figures (include/optroute/link_stats.h), by name
	 * (info.acked_seq) or all at once (info.link): acked_seq is the
	 * store seq applied by the dataplane, errors counts its ERROR
	 * messages, workers is from its HELLO. committed_seq and lag are
	 * the event loop's, 0 here (cp_stats_link_of() sets them). */
	union {
		struct cp_link_stats link;
		struct {
			OR_LINK_STATS(OR_STAT_FIELD_)
		};
	};
	uint64_t keys_state;     /* enum cp_keys_state */
	uint64_t keys_seq;       /* auth state seq of the set last sent */
	uint64_t keys_error;     /* errno of a refusal, else 0 */
	uint64_t keys_acked;     /* 1 once any set was acked (any connection) */
	uint64_t keys_acked_seq; /* highest auth state seq acked, ever */
};

int cp_link_start(const struct cp_link_conf *conf, struct cp_link **out);

/* Stops the thread and closes the channel. NULL is fine. */
void cp_link_stop(struct cp_link *p);

/* Queues n committed changes: change i has store seq first_seq + i and
 * result res[i] (rec 0 = delete; an OR_ACT_KEY change has no op); ch and
 * res NULL: n seqs that change no table entry (an auth epoch rotated or
 * retired). 0 or -ENOMEM (then a resync is forced). The signature of
 * or_sor_sink's applied. */
int cp_link_enqueue(struct cp_link *p, uint64_t first_seq,
		    const struct or_change *ch,
		    const struct or_change_result *res, unsigned n);

/* The store's sink (control/store/sor.h) that feeds the link *lp: applied
 * -> cp_link_enqueue, auth_changed -> cp_link_keys_changed. *lp is read
 * at each call, so the sink may be given to or_sor_open() before
 * cp_link_start() sets it (the store calls it only for commits, which
 * come after). */
struct or_sor_sink cp_link_sink(struct cp_link **lp);

/* The auth epoch state in the store changed (committed): the thread sends
 * the new key set (if a dataplane is connected; else it is sent after the
 * next HELLO anyway). */
void cp_link_keys_changed(struct cp_link *p);

/* Asks the dataplane for its counters (flags: OR_CHAN_STATS_F_CLEAR clears
 * them after reading); the answer comes back through cp_link_take_stats()
 * with the same cookie. 0, -ENOTCONN, -EBUSY. */
int cp_link_request_stats(struct cp_link *p, uint64_t cookie, uint16_t flags);

/* Calls cb for every answered stats request (rc 0 or -errno). */
void cp_link_take_stats(struct cp_link *p,
			void (*cb)(void *arg, uint64_t cookie, int rc,
				   const struct or_chan_stat *st, unsigned n),
			void *arg);

/* Readable when something changed; cp_link_notify_clear() rearms it. */
int cp_link_notify_fd(const struct cp_link *p);
void cp_link_notify_clear(struct cp_link *p);

void cp_link_info(struct cp_link *p, struct cp_link_info *info);

/* When (cp_now_us, CLOCK_MONOTONIC) the channel thread read the ack that
 * first covered store seq, or 0 if it is not acked yet or too long ago to
 * be remembered (the last 4096 ack advances are). */
uint64_t cp_link_ack_time(struct cp_link *p, uint64_t seq);

#endif
