/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Phone tokens and the 32-bit consent record, shared by the dataplane, the
 * control plane and the update channel.
 *
 * A token is the 16-byte keyed BLAKE2b of a phone number in E.164 form
 * (see docs/architecture.md). Tokens are opaque everywhere but in the
 * control plane's token module; the dataplane never sees a plain number.
 *
 * Consent record layout (host byte order; little-endian on the channel):
 *
 *    31                16 15         8 7        2 1    0
 *   +--------------------+------------+----------+------+
 *   |   delivery node    | key epoch  |  flags   | state|
 *   +--------------------+------------+----------+------+
 *
 *   state  2 bits  OR_STATE_IN (1) opted in, OR_STATE_OUT (2) opted out.
 *                  0 and 3 are never stored: the table uses them for
 *                  empty and reclaim-pending slots, so a stored record is
 *                  never 0 and one 32-bit store publishes a whole record.
 *   flags  6 bits  OR_CFLAG_*.
 *   epoch  8 bits  token key epoch the token was derived under.
 *   node  16 bits  delivery node id (index in the dataplane next-hop table).
 */
#ifndef OPTROUTE_CONSENT_H
#define OPTROUTE_CONSENT_H

#include <stdint.h>
#include <string.h>

#define OR_TOKEN_LEN 16

struct or_token {
	uint8_t b[OR_TOKEN_LEN];
};

enum or_consent_state {
	OR_STATE_NONE = 0, /* lookup miss; never stored */
	OR_STATE_IN = 1,
	OR_STATE_OUT = 2,
	OR_STATE_RSVD = 3, /* never stored */
};

#define OR_CFLAG_PINNED (1u << 0) /* node chosen by the operator, not policy */

#define OR_REC_STATE_MASK 0x3u
#define OR_REC_FLAGS_SHIFT 2
#define OR_REC_FLAGS_MASK 0x3fu
#define OR_REC_EPOCH_SHIFT 8
#define OR_REC_EPOCH_MASK 0xffu
#define OR_REC_NODE_SHIFT 16
#define OR_REC_NODE_MASK 0xffffu
#define OR_NODE_MAX OR_REC_NODE_MASK

static inline uint32_t
or_rec_make(enum or_consent_state state, uint16_t node, uint8_t epoch,
	    uint8_t flags)
{
	return ((uint32_t)state & OR_REC_STATE_MASK) |
	       (((uint32_t)flags & OR_REC_FLAGS_MASK) << OR_REC_FLAGS_SHIFT) |
	       ((uint32_t)epoch << OR_REC_EPOCH_SHIFT) |
	       ((uint32_t)node << OR_REC_NODE_SHIFT);
}

static inline enum or_consent_state
or_rec_state(uint32_t rec)
{
	return (enum or_consent_state)(rec & OR_REC_STATE_MASK);
}

static inline uint16_t
or_rec_node(uint32_t rec)
{
	return (uint16_t)(rec >> OR_REC_NODE_SHIFT);
}

static inline uint8_t
or_rec_epoch(uint32_t rec)
{
	return (uint8_t)(rec >> OR_REC_EPOCH_SHIFT);
}

static inline uint8_t
or_rec_flags(uint32_t rec)
{
	return (uint8_t)((rec >> OR_REC_FLAGS_SHIFT) & OR_REC_FLAGS_MASK);
}

/* A record that may be stored: state IN or OUT. */
static inline int
or_rec_valid(uint32_t rec)
{
	return or_rec_state(rec) == OR_STATE_IN ||
	       or_rec_state(rec) == OR_STATE_OUT;
}

static inline int
or_token_eq(const struct or_token *a, const struct or_token *b)
{
	return memcmp(a->b, b->b, OR_TOKEN_LEN) == 0;
}

#endif
