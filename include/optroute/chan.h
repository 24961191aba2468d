/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The update channel between the control plane and the dataplane: message
 * definitions shared by both processes. Prose description, sequencing and
 * error codes: docs/channel.md.
 *
 * Transport: one Unix SOCK_SEQPACKET socket; the dataplane's updater listens,
 * the control plane connects. One message per datagram, so message
 * boundaries are kept by the kernel. One peer at a time: a second connection
 * gets an ERROR (EBUSY) and is closed.
 *
 * Encoding: fixed-layout structs, little-endian, naturally aligned with
 * explicit padding (no packing), sizes pinned with static asserts below. Both
 * ends run on the same host, but the layout is still defined byte for byte so
 * a capture of the socket can be decoded. Padding and reserved fields are
 * sent as 0; receivers ignore them.
 *
 * Every message starts with struct or_chan_hdr; len is the whole message
 * in bytes (header included) and must equal exactly what the type implies,
 * otherwise the receiver answers ERROR (EBADMSG) and counts it.
 *
 * Sequence numbers: every message that changes the table (BATCH,
 * RESYNC_BEGIN, RESYNC_DATA, RESYNC_END) carries a u64 seq, strictly
 * increasing per connection (the first one of a connection is free, > 0; the
 * control plane is expected to continue from the acked_seq of the dataplane's
 * HELLO). ACK{seq} means: every message up to and including seq has been
 * applied and a grace period has passed, so no worker decides a packet on
 * the state before them. An op that could not be applied is reported by an
 * ERROR naming its seq (and op index) BEFORE the ACK that covers that seq.
 */
#ifndef OPTROUTE_CHAN_H
#define OPTROUTE_CHAN_H

#include <assert.h>
#include <stdint.h>

#include "optroute/consent.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the channel structs are little-endian on the wire; add byte swaps"
#endif

/* 2: HELLO carries the table's mark, and MARK (both below). */
#define OR_CHAN_VERSION 2

/* Most ops in one BATCH / RESYNC_DATA message: 24 + 2048 * 24 = 49176 bytes,
 * below the default Unix socket send buffer and 64 KiB. */
#define OR_CHAN_MAX_OPS 2048
/* Most counters in one STATS_REPLY message: 24 + 256 * 56 = 14360 bytes. */
#define OR_CHAN_MAX_STATS 256
/* Largest message of any type, for receive buffers. */
#define OR_CHAN_MSG_MAX (sizeof(struct or_chan_batch) + \
			 OR_CHAN_MAX_OPS * sizeof(struct or_chan_op))

enum or_chan_type {
	OR_CHAN_HELLO = 1,        /* both ways; first message of a connection */
	OR_CHAN_BATCH = 2,        /* cp -> dp: live deltas */
	OR_CHAN_RESYNC_BEGIN = 3, /* cp -> dp: start a full resync */
	OR_CHAN_RESYNC_DATA = 4,  /* cp -> dp: entries of the resync (upserts) */
	OR_CHAN_RESYNC_END = 5,   /* cp -> dp: commit the resync */
	OR_CHAN_ACK = 6,          /* dp -> cp */
	OR_CHAN_STATS_REQUEST = 7,/* cp -> dp */
	OR_CHAN_STATS_REPLY = 8,  /* dp -> cp, one or more messages */
	OR_CHAN_ERROR = 9,        /* both ways (in practice dp -> cp) */
	OR_CHAN_AUTH_KEYS = 10,   /* cp -> dp: the live auth epochs' K_auth */
	OR_CHAN_MARK = 11,        /* cp -> dp: the store position the table is at */
};

struct or_chan_hdr {
	uint16_t type;  /* enum or_chan_type */
	uint16_t flags; /* reserved, 0 */
	uint32_t len;   /* whole message, header included */
};

enum or_chan_role {
	OR_CHAN_ROLE_CONTROL = 1,
	OR_CHAN_ROLE_DATAPLANE = 2,
	OR_CHAN_ROLE_TOOL = 3, /* optroute-chanctl; treated as CONTROL */
};

#define OR_CHAN_MARK_HASH_LEN 32

/* HELLO. The control plane sends it first (only version and role are
 * meaningful, the rest 0); the dataplane answers with its own HELLO, or with
 * ERROR (EPROTONOSUPPORT) if the versions differ, then closes. Any other
 * message before HELLO gets ERROR (EPROTO). */
struct or_chan_hello {
	struct or_chan_hdr h;
	uint32_t version;    /* OR_CHAN_VERSION */
	uint32_t role;       /* enum or_chan_role */
	uint32_t workers;    /* dp: worker lcores reading the table */
	uint32_t max_ops;    /* dp: OR_CHAN_MAX_OPS it accepts per message */
	uint64_t entries;    /* dp: entries in the live table */
	uint64_t acked_seq;  /* dp: highest seq applied and synced (acked, or
			      * synced at a disconnect), any connection; 0 = none */
	uint64_t generation; /* dp: generation of the last completed resync, 0 = none */
	uint64_t mark_seq;   /* dp: the table's mark (MARK below), 0 = none */
	uint8_t mark_hash[OR_CHAN_MARK_HASH_LEN];
};

enum or_chan_opcode {
	OR_CHAN_OP_UPSERT = 1,
	OR_CHAN_OP_DELETE = 2, /* rec ignored (send 0); not allowed in RESYNC_DATA */
};

/* One table change. Layout chosen so token and rec are aligned. */
struct or_chan_op {
	uint8_t op;     /* enum or_chan_opcode */
	uint8_t pad[3];
	uint32_t rec;   /* consent record, or_rec_valid() for UPSERT */
	struct or_token token;
};

/* BATCH and RESYNC_DATA: len = sizeof(struct or_chan_batch) +
 * count * sizeof(struct or_chan_op), 1 <= count <= OR_CHAN_MAX_OPS.
 * BATCH ops go to the live table (and, during a resync, to the new table as
 * well); RESYNC_DATA ops (UPSERT only) go to the table being rebuilt. */
struct or_chan_batch {
	struct or_chan_hdr h;
	uint64_t seq;
	uint32_t count;
	uint32_t pad;
	struct or_chan_op ops[];
};

/* RESYNC_BEGIN / RESYNC_END. END must carry BEGIN's generation. Whatever
 * was not re-sent (RESYNC_DATA) or changed (BATCH) between BEGIN and END is
 * gone after END is acked. A disconnect before END aborts the resync: the
 * live table stays as it was (plus the BATCH deltas). */
struct or_chan_resync {
	struct or_chan_hdr h;
	uint64_t seq;
	uint64_t generation; /* chosen by the control plane, > 0 */
};

/* ACK: every message up to seq applied and visible to every worker. */
struct or_chan_ack {
	struct or_chan_hdr h;
	uint64_t seq;
	uint64_t entries;    /* live table entries at ack time */
	uint64_t generation; /* last completed resync */
};

/* STATS_REQUEST: the dataplane answers with STATS_REPLY messages echoing id;
 * the last one has last = 1. With OR_CHAN_STATS_F_CLEAR in h.flags, the
 * dataplane's packet counters are cleared right after they are read (the
 * reply carries the values before the clear; table and channel figures are
 * gauges or sequence numbers and are not cleared). */
#define OR_CHAN_STATS_F_CLEAR 0x0001
struct or_chan_stats_request {
	struct or_chan_hdr h;
	uint64_t id;
};

#define OR_CHAN_STAT_NAME_LEN 64 /* "port." + 31-char name + ".drop_..." */

struct or_chan_stat {
	char name[OR_CHAN_STAT_NAME_LEN]; /* NUL-terminated, [a-z0-9_.] */
	uint64_t value;
};

/* len = sizeof(struct or_chan_stats_reply) + count * sizeof(struct or_chan_stat),
 * 0 <= count <= OR_CHAN_MAX_STATS. */
struct or_chan_stats_reply {
	struct or_chan_hdr h;
	uint64_t id;
	uint32_t count;
	uint32_t last; /* 1 on the final message of the reply */
	struct or_chan_stat stats[];
};

/* AUTH_KEYS: the complete set of live auth epochs (protocol version 2,
 * include/optroute/auth.h), replacing the set the dataplane had. The only
 * message that ever carries key material: the receiver copies the keys into
 * locked memory and wipes its receive buffer; no key byte is ever logged,
 * counted or sent back. Sequenced like BATCH: its ACK means every worker
 * verifies with exactly these keys (and no longer with a key left out).
 * The control plane sends it after every HELLO, before the resync, and
 * after each rotate or retire. keys[0..count-1], distinct epochs; keys[0]
 * is the current epoch (the one phones are issued keys of), keys[1] the
 * previous one while it is live. count 0: no live epoch, every version-2
 * MSG is dropped (unknown_epoch). len = sizeof(struct or_chan_auth_keys). */
#define OR_CHAN_AUTH_KEYS_VERSION 1
#define OR_CHAN_AUTH_MAX_EPOCHS 2
#define OR_CHAN_AUTH_KEY_LEN 16

struct or_chan_auth_key {
	uint8_t epoch;
	uint8_t pad[7];
	uint8_t key[OR_CHAN_AUTH_KEY_LEN]; /* K_auth[epoch] */
};

struct or_chan_auth_keys {
	struct or_chan_hdr h;
	uint64_t seq;
	uint32_t version;  /* OR_CHAN_AUTH_KEYS_VERSION */
	uint32_t count;    /* 0..OR_CHAN_AUTH_MAX_EPOCHS */
	struct or_chan_auth_key keys[OR_CHAN_AUTH_MAX_EPOCHS];
};

/* MARK: "once every message before this one is applied, the table holds
 * exactly the records of the store at position store_seq, the audit
 * entry whose chain hash is store_hash". Not sequenced (it changes no
 * entry, and is not acked). The dataplane keeps the last one and reports
 * it in its HELLO, so that a control plane that connects again (restarted)
 * sends only the changes made since that position instead of a full
 * resync (docs/channel.md "Resuming"). The dataplane keeps a MARK only
 * once a full resync has completed and while it has sent no ERROR since
 * (a refused message, a failed op), and forgets it at the next BATCH,
 * RESYNC_BEGIN or RESYNC_DATA: a mark never stands for a table that
 * holds anything else. store_seq > 0, else ERROR (EINVAL). */
struct or_chan_mark {
	struct or_chan_hdr h;
	uint64_t store_seq;
	uint8_t store_hash[OR_CHAN_MARK_HASH_LEN];
};

#define OR_CHAN_ERR_TEXT_LEN 96
#define OR_CHAN_NO_SEQ 0          /* error not tied to a seq */
#define OR_CHAN_NO_INDEX UINT32_MAX /* error not tied to one op */

/* ERROR: code is a positive Linux errno value (docs/channel.md lists them).
 * text is NUL-terminated, never contains a phone number or a token. */
struct or_chan_error {
	struct or_chan_hdr h;
	uint32_t code;
	uint32_t index; /* op index in the message, or OR_CHAN_NO_INDEX */
	uint64_t seq;   /* seq of the offending message, or OR_CHAN_NO_SEQ */
	char text[OR_CHAN_ERR_TEXT_LEN];
};

static_assert(sizeof(struct or_chan_hdr) == 8, "hdr layout");
static_assert(sizeof(struct or_chan_hello) == 88, "hello layout");
static_assert(sizeof(struct or_chan_mark) == 48, "mark layout");
static_assert(sizeof(struct or_chan_op) == 24, "op layout");
static_assert(sizeof(struct or_chan_batch) == 24, "batch layout");
static_assert(sizeof(struct or_chan_resync) == 24, "resync layout");
static_assert(sizeof(struct or_chan_ack) == 32, "ack layout");
static_assert(sizeof(struct or_chan_stats_request) == 16, "stats req layout");
static_assert(sizeof(struct or_chan_stat) == 72, "stat layout");
static_assert(sizeof(struct or_chan_stats_reply) == 24, "stats reply layout");
static_assert(sizeof(struct or_chan_error) == 120, "error layout");
static_assert(sizeof(struct or_chan_auth_key) == 24, "auth key layout");
static_assert(sizeof(struct or_chan_auth_keys) == 72, "auth keys layout");
static_assert(sizeof(struct or_chan_batch) +
		      OR_CHAN_MAX_OPS * sizeof(struct or_chan_op) < 65536,
	      "batch message too large");

#endif
