/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The optroute wire protocol, versions 2 and 1 (specification:
 * docs/protocol.md).
 *
 * A message is one UDP datagram (IPv4, Ethernet, at most one 802.1Q tag)
 * whose payload starts with a fixed 68-byte header, followed by
 * payload_len bytes of end-to-end ciphertext the appliance never reads.
 * Every multi-byte field is big-endian (network order), but for the tag,
 * which is SipHash's output bytes as they come (include/optroute/auth.h).
 *
 * Version 2 (struct or_hdr2), the default: authenticated senders.
 *
 *  off size field
 *    0  2   magic        0x4f52 ("OR")
 *    2  1   version      2
 *    3  1   type         OR_TYPE_*
 *    4  1   flags        none defined; sent 0, carried unchanged
 *    5  1   key_epoch    auth epoch e: the tag is under K_sender of K_auth[e]
 *    6  1   reason       OR_REASON_* in a BOUNCE, 0 otherwise
 *    7  1   reserved     sent 0, carried unchanged
 *    8  8   msg_id       chosen by the sender, carried unchanged
 *   16 16   sender       sender's phone token
 *   32 16   recipient    recipient's phone token
 *   48  8   send_time    sender's clock, ms since 1970-01-01 UTC
 *   56  2   payload_len  bytes after the header
 *   58  2   reserved2    sent 0, carried unchanged
 *   60  8   auth_tag     SipHash-2-4 under K_sender of bytes 0..59
 *
 * Version 1 (struct or_hdr): no authentication; only with [auth] mode = off.
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
#define OR_PROTO_V2 2u           /* the default */
#define OR_PROTO_V1 1u           /* only with [auth] mode = off */
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
	/* Version 2: the sender has used up its bounce budget; sent for every
	 * MSG of that sender, whatever the recipient, until it refills. */
	OR_REASON_OVER_BUDGET = 3,
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

/* Version 2: the same 68 bytes, with a send time and a 64-bit tag over
 * everything before it. */
#define OR_AUTH_TAG_LEN 8u
#define OR_HDR2_TAG_OFF 60u             /* the tag covers bytes [0, 60) */

struct or_hdr2 {
	uint16_t magic;       /* big-endian */
	uint8_t version;
	uint8_t type;
	uint8_t flags;
	uint8_t key_epoch;    /* auth epoch */
	uint8_t reason;
	uint8_t reserved;
	uint64_t msg_id;      /* big-endian */
	struct or_token sender;
	struct or_token recipient;
	uint64_t send_time;   /* big-endian, ms since the Unix epoch */
	uint16_t payload_len; /* big-endian */
	uint16_t reserved2;
	uint8_t auth_tag[OR_AUTH_TAG_LEN];
} __attribute__((packed));

static_assert(sizeof(struct or_hdr2) == OR_HDR_LEN, "or_hdr2 size");
static_assert(offsetof(struct or_hdr2, send_time) == 48, "or_hdr2 send_time");
static_assert(offsetof(struct or_hdr2, payload_len) == 56,
	      "or_hdr2 payload_len");
static_assert(offsetof(struct or_hdr2, auth_tag) == OR_HDR2_TAG_OFF,
	      "or_hdr2 auth_tag");

#endif
