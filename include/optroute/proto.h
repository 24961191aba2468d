/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The optroute wire protocol, version 1 (specification: docs/protocol.md).
 *
 * A message is one UDP datagram (IPv4, Ethernet, at most one 802.1Q tag)
 * whose payload starts with the fixed 68-byte header below, followed by
 * payload_len bytes of end-to-end ciphertext the appliance never reads.
 * Every multi-byte field is big-endian (network order).
 *
 *  off size field
 *    0  2   magic        0x4f52 ("OR")
 *    2  1   version      1
 *    3  1   type         OR_TYPE_*
 *    4  1   flags        none defined; sent 0, carried unchanged
 *    5  1   key_epoch    token key epoch of both tokens
 *    6  1   reason       OR_REASON_* in a BOUNCE, 0 otherwise
 *    7  1   reserved     sent 0, carried unchanged
 *    8  8   msg_id       chosen by the sender, carried unchanged
 *   16 16   sender       sender's phone token
 *   32 16   recipient    recipient's phone token
 *   48 16   auth_tag     reserved for authentication; carried unchanged
 *   64  2   payload_len  bytes after the header
 *   66  2   reserved2    sent 0, carried unchanged
 *
 * Plain C types (no DPDK dependency) so that clients and tools can use it.
 */
#ifndef OPTROUTE_PROTO_H
#define OPTROUTE_PROTO_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "optroute/consent.h"

#define OR_PROTO_MAGIC 0x4f52u   /* "OR" */
#define OR_PROTO_VERSION 1u
#define OR_PROTO_DEFAULT_PORT 7040u
#define OR_BOUNCE_TTL 64u        /* IPv4 TTL of a bounce */

/* Message types. */
enum or_msg_type {
	OR_TYPE_MSG = 1,    /* client -> appliance -> delivery node */
	OR_TYPE_BOUNCE = 2, /* appliance -> sender */
};

/* BOUNCE reason codes. */
enum or_bounce_reason {
	OR_REASON_NONE = 0,
	/* The recipient never opted in, or opted out: one code for both, and
	 * the whole bounce is byte-identical in both cases. */
	OR_REASON_RECIPIENT_UNAVAILABLE = 1,
	/* Reserved: the recipient's delivery node is unreachable. Version 1
	 * appliances never send it (they drop instead, see docs/protocol.md). */
	OR_REASON_NO_ROUTE = 2,
};

struct or_hdr {
	uint16_t magic;       /* big-endian */
	uint8_t version;
	uint8_t type;
	uint8_t flags;
	uint8_t key_epoch;
	uint8_t reason;
	uint8_t reserved;
	uint64_t msg_id;      /* big-endian */
	struct or_token sender;
	struct or_token recipient;
	uint8_t auth_tag[16];
	uint16_t payload_len; /* big-endian */
	uint16_t reserved2;
} __attribute__((packed));

#define OR_HDR_LEN 68u

static_assert(sizeof(struct or_hdr) == OR_HDR_LEN, "or_hdr size");
static_assert(offsetof(struct or_hdr, msg_id) == 8, "or_hdr msg_id");
static_assert(offsetof(struct or_hdr, sender) == 16, "or_hdr sender");
static_assert(offsetof(struct or_hdr, recipient) == 32, "or_hdr recipient");
static_assert(offsetof(struct or_hdr, auth_tag) == 48, "or_hdr auth_tag");
static_assert(offsetof(struct or_hdr, payload_len) == 64, "or_hdr payload_len");

#endif
