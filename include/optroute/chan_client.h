/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Client side of the update channel (include/optroute/chan.h,
 * docs/channel.md), used by the control plane and by optroute-chanctl.
 *
 * Blocking API over a non-blocking socket: every call is bounded by a
 * timeout. While a call waits to send, it keeps reading what the dataplane
 * sends (ACKs, ERRORs), so a long stream of batches never deadlocks on full
 * socket buffers. ERRORs received at any time are counted, kept (the last
 * one) and passed to the error callback if one is set.
 *
 * Sequence numbers are assigned by the client: the first one of a
 * connection is the dataplane's HELLO acked_seq + 1 (or the value given to
 * or_chan_set_next_seq), then +1 per message. Each sending call returns the
 * seq of the last message it sent; pass it to or_chan_wait_ack().
 *
 * Not thread-safe: one thread uses a client at a time.
 */
#ifndef OPTROUTE_CHAN_CLIENT_H
#define OPTROUTE_CHAN_CLIENT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "optroute/chan.h"
#include "optroute/hex.h"

struct or_chan_client;

/* What the dataplane said in its HELLO. */
struct or_chan_peer_info {
	uint32_t version;
	uint32_t role;
	uint32_t workers;
	uint32_t max_ops;
	uint64_t entries;
	uint64_t acked_seq;
	uint64_t generation;
	uint64_t mark_seq;   /* the table's mark (chan.h MARK), 0 = none */
	uint8_t mark_hash[OR_CHAN_MARK_HASH_LEN];
};

/* A received ERROR, decoded. */
struct or_chan_err_info {
	int code;        /* positive errno */
	uint32_t index;  /* op index or OR_CHAN_NO_INDEX */
	uint64_t seq;    /* or OR_CHAN_NO_SEQ */
	char text[OR_CHAN_ERR_TEXT_LEN];
};

typedef void (*or_chan_error_cb)(void *arg, const struct or_chan_err_info *e);

/* Connects to the dataplane's socket and exchanges HELLOs. Retries while
 * the socket does not exist or refuses (dataplane starting) until
 * timeout_ms has passed, then returns that error (-ENOENT, -ECONNREFUSED).
 * role: enum or_chan_role.
 * 0, or -errno: -ETIMEDOUT (no HELLO in time), -ENAMETOOLONG, -EBUSY
 * (another peer is connected), -EPROTONOSUPPORT (version mismatch),
 * -ECONNRESET, -ENOMEM. */
int or_chan_connect(const char *path, uint32_t role, int timeout_ms,
		    struct or_chan_client **out);

/* Closes the connection (a resync in progress is aborted by the dataplane)
 * and frees the client. NULL is fine. */
void or_chan_close(struct or_chan_client *c);

/* The dataplane's HELLO. */
const struct or_chan_peer_info *or_chan_peer(const struct or_chan_client *c);

/* The socket, e.g. to poll() it for POLLIN, then call or_chan_poll(). */
int or_chan_fd(const struct or_chan_client *c);

/* Per-call timeout for sends (default 5000 ms). */
void or_chan_set_timeout(struct or_chan_client *c, int timeout_ms);

/* Called for every ERROR received (may be NULL). */
void or_chan_set_error_cb(struct or_chan_client *c, or_chan_error_cb cb,
			  void *arg);

/* Overrides the next seq to use (must be > any seq sent on this connection,
 * else -ERANGE). */
int or_chan_set_next_seq(struct or_chan_client *c, uint64_t seq);

/* Sends n ops (any n; split into messages of at most max_ops) as BATCH
 * messages. *last_seq (may be NULL) receives the seq of the last message,
 * or is left alone if n == 0. 0 or -errno (-EINVAL for an invalid op or
 * record, checked before anything is sent; -ETIMEDOUT, -ECONNRESET). */
int or_chan_send_batch(struct or_chan_client *c, const struct or_chan_op *ops,
		       size_t n, uint64_t *last_seq);

/* A full resync in three steps, so entries can be streamed from a store
 * (begin, then data any number of times, then end). generation > 0 and the
 * same at begin and end. Ops of resync_data must be UPSERTs. BATCHes may be
 * sent between begin and end (live deltas). */
int or_chan_resync_begin(struct or_chan_client *c, uint64_t generation,
			 uint64_t *seq);
int or_chan_resync_data(struct or_chan_client *c, const struct or_chan_op *ops,
			size_t n, uint64_t *last_seq);
int or_chan_resync_end(struct or_chan_client *c, uint64_t generation,
		       uint64_t *seq);

/* Begin + data + end in one call; *seq gets the seq of the END message. */
int or_chan_resync(struct or_chan_client *c, uint64_t generation,
		   const struct or_chan_op *ops, size_t n, uint64_t *seq);

/* Sends the live auth epochs' keys as one AUTH_KEYS message (include/
 * optroute/chan.h): keys[0] the current epoch, keys[1] the previous one if
 * count is 2; count 0 clears the dataplane's set. The message buffer is
 * wiped after sending; keys stays the caller's to wipe. *seq (may be NULL)
 * gets its seq: an ACK >= seq with no ERROR for it before means every
 * worker verifies with exactly these keys. A dataplane that predates
 * AUTH_KEYS answers ERROR EOPNOTSUPP without a seq (OR_CHAN_NO_SEQ) and
 * does not take the seq, so a later ACK still covers it: the ERROR, read
 * before that ACK, is what tells. 0 or -errno (-EINVAL: count > 2 or two
 * equal epochs). */
int or_chan_send_auth_keys(struct or_chan_client *c,
			   const struct or_chan_auth_key *keys, unsigned count,
			   uint64_t *seq);

/* Sends a MARK: once what was sent before it is applied, the table
 * holds the store's records at store_seq, whose chain hash is hash.
 * 0, -EINVAL (store_seq 0) or the send's -errno. */
int or_chan_send_mark(struct or_chan_client *c, uint64_t store_seq,
		      const uint8_t hash[OR_CHAN_MARK_HASH_LEN]);

/* Waits until an ACK >= seq has arrived. 0, -ETIMEDOUT, -ECONNRESET.
 * ERRORs that arrive meanwhile are recorded (or_chan_take_errors) and do not
 * end the wait: the dataplane still acks a message it reported an error for. */
int or_chan_wait_ack(struct or_chan_client *c, uint64_t seq, int timeout_ms);

/* Highest seq acked so far on this connection (or the HELLO's acked_seq). */
uint64_t or_chan_acked(const struct or_chan_client *c);

/* Reads and handles whatever is readable now without blocking (ACKs,
 * ERRORs). 0 or -ECONNRESET. */
int or_chan_poll(struct or_chan_client *c);

/* ERRORs received since the last call (the count is reset to 0); *last (may
 * be NULL) gets the most recent one if the count is non-zero. */
unsigned or_chan_take_errors(struct or_chan_client *c,
			     struct or_chan_err_info *last);

/* Asks the dataplane for its counters: at most max go to out (extra ones are
 * read and dropped), *n gets how many were stored. 0, -ETIMEDOUT,
 * -ECONNRESET, -EBADMSG. */
int or_chan_get_stats(struct or_chan_client *c, struct or_chan_stat *out,
		      unsigned max, unsigned *n, int timeout_ms);

/* The same with request flags (OR_CHAN_STATS_F_CLEAR). */
int or_chan_get_stats_flags(struct or_chan_client *c, uint16_t flags,
			    struct or_chan_stat *out, unsigned max, unsigned *n,
			    int timeout_ms);

/* Fills an op; rec is ignored for DELETE. */
static inline void
or_chan_op_set(struct or_chan_op *o, uint8_t opcode,
	       const struct or_token *t, uint32_t rec)
{
	memset(o, 0, sizeof(*o));
	o->op = opcode;
	o->rec = opcode == OR_CHAN_OP_UPSERT ? rec : 0;
	o->token = *t;
}

/* A token from 32 hex digits (a NUL-terminated string). 0 or -EINVAL.
 * The codec is include/optroute/hex.h's; this keeps the tools' signature. */
static inline int
or_chan_token_parse(const char *hex, struct or_token *t)
{
	return hex == NULL ? -EINVAL : or_token_hex_parse(hex, strlen(hex), t);
}

/* A token as 32 lowercase hex digits + NUL (buf >= OR_TOKEN_HEX_BUFSZ). */
static inline void
or_chan_token_format(const struct or_token *t, char *buf)
{
	or_token_hex_format(t, buf);
}

#endif
