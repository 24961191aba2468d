/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Per-packet processing: pure functions on one contiguous frame (the first
 * and only mbuf segment, 2-byte aligned as mbuf data always is), no EAL, no
 * allocation, never a read or write past the length given. Wire format:
 * include/optroute/proto.h and docs/protocol.md. The decisions, outputs and
 * drop reasons are specified in docs/protocol.md sections 4-8.
 * The two per-frame steps are inline, for the worker's loops:
 * or_pkt_classify() in pkt_classify.h, or_pkt_decide() in pkt_decide.h.
 *
 * Worker usage, per burst:
 *   for each frame i:
 *     c = or_pkt_classify(frame, len, pa, &info[i]);
 *     OR_PKT_MSG          -> keys[2k] = info[i].sender,
 *                            keys[2k+1] = info[i].recipient
 *     OR_PKT_ARP_REQUEST  -> or_arp_reply(frame, len, pa), send back out
 *                            the receiving port
 *     OR_PKT_DROP         -> count info[i].reason, free
 *   ct_lookup_bulk(table, keys, 2k, recs);   (2k <= CT_BULK_MAX: bursts
 *                                             of at most 32 frames)
 *   for each MSG i:
 *     a = or_pkt_decide(frame, &len, &info[i], recs[2k], recs[2k+1],
 *                       nh, nh_count, pa, &out_port, &reason);
 *     OR_VERDICT_DELIVER -> send on out_port (len may have shrunk:
 *                           Ethernet padding is trimmed)
 *     OR_VERDICT_BOUNCE, OR_VERDICT_OVER_BUDGET
 *                        -> trim the mbuf to len, send back out the
 *                           receiving port
 *     OR_VERDICT_DROP    -> count reason, free
 */
#ifndef OR_PKT_H
#define OR_PKT_H

#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "optroute/consent.h"
#include "optroute/proto.h"

/*
 * Drop reasons, one per malformed case. Set by or_pkt_classify (the order
 * of its checks, which decides the reason when several apply, is in
 * docs/protocol.md section 4), by or_pkt_decide (BAD_UDP_CSUM,
 * SENDER_NOT_OPTED_IN, NO_ROUTE), and by the worker itself (NOT_SYNCED,
 * MULTI_SEG, TX_FULL), which counts drops in an array indexed by this enum.
 */
#define OR_DROP_REASONS(X)                                                   \
	X(TRUNCATED, "truncated")             /* a header does not fit */     \
	X(BAD_SRC_ADDR, "bad_src_addr")       /* multicast/zero/own source */ \
	X(NOT_FOR_US_MAC, "not_for_us_mac")   /* IPv4 to another MAC */       \
	X(VLAN_STACKED, "vlan_stacked")       /* QinQ / second tag */         \
	X(NOT_IPV4, "not_ipv4")               /* ethertype not IPv4 or ARP */ \
	X(BAD_ARP, "bad_arp")                 /* not Ethernet/IPv4 ARP */     \
	X(ARP_NOT_FOR_US, "arp_not_for_us")   /* other target, or a reply */  \
	X(BAD_IP_HDR, "bad_ip_hdr")           /* version != 4 or IHL < 5 */   \
	X(IP_OPTIONS, "ip_options")           /* IHL > 5 */                   \
	X(BAD_IP_CSUM, "bad_ip_csum")         /* IPv4 header checksum */      \
	X(BAD_IP_LEN, "bad_ip_len")           /* total length < IHL*4 */      \
	X(TOO_BIG, "too_big")                 /* total length > port mtu */   \
	X(FRAGMENT, "fragment")               /* MF set or offset != 0 */     \
	X(NOT_FOR_US_IP, "not_for_us_ip")     /* dst IP != ours */            \
	X(NOT_UDP, "not_udp")                                                 \
	X(TTL_EXPIRED, "ttl_expired")         /* TTL 0 or 1 */                \
	X(NOT_FOR_US_PORT, "not_for_us_port") /* UDP dst port != ours */      \
	X(BAD_UDP_LEN, "bad_udp_len")         /* != IP total length - 20 */   \
	X(BAD_MAGIC, "bad_magic")                                             \
	X(BAD_VERSION, "bad_version")                                         \
	X(BOUNCE_TO_US, "bounce_to_us")       /* a BOUNCE sent to us */       \
	X(BAD_TYPE, "bad_type")               /* unknown message type */      \
	X(BAD_PAYLOAD_LEN, "bad_payload_len") /* != UDP length - 8 - 68 */    \
	X(BAD_UDP_CSUM, "bad_udp_csum")       /* checked before a bounce */   \
	X(SENDER_NOT_OPTED_IN, "sender_not_opted_in")                         \
	X(NO_ROUTE, "no_route")               /* recipient node unroutable */ \
	X(UNKNOWN_EPOCH, "unknown_epoch")     /* v2: epoch not live */        \
	X(BAD_TAG, "bad_tag")                 /* v2: tag does not verify */   \
	X(STALE, "stale")                     /* v2: send time off window */  \
	X(REPLAY, "replay")                   /* v2: seen in the window */    \
	X(REPLAY_FULL, "replay_full")         /* v2: replay filter full */    \
	X(NOT_SYNCED, "not_synced")           /* worker: before 1st resync */ \
	X(MULTI_SEG, "multi_seg")             /* worker: chained mbuf */      \
	X(TX_FULL, "tx_full")                 /* worker: TX ring full */

#define OR_DROP_ENUM_(name, str) OR_DROP_##name,
enum or_drop_reason {
	OR_DROP_NONE = 0,
	OR_DROP_REASONS(OR_DROP_ENUM_)
	OR_DROP_MAX /* number of reasons, OR_DROP_NONE included */
};
#undef OR_DROP_ENUM_

/* "none", "truncated", ...; "unknown" for a value out of range. */
const char *or_drop_reason_name(enum or_drop_reason r);

/* The appliance's own addresses on one port (network order). */
struct or_port_addr {
	struct rte_ether_addr mac;
	rte_be32_t ip;
	rte_be16_t udp_port;
	uint8_t version;  /* the protocol version accepted: OR_PROTO_V2, or
			   * OR_PROTO_V1 with [dataplane] auth = no */
	uint16_t mtu;     /* largest IPv4 total length taken ([port] mtu) */
};

/* Next hop of one delivery node (index = node id of the consent record). */
struct or_nexthop {
	uint8_t valid;
	uint16_t port_id;               /* egress DPDK port */
	struct rte_ether_addr src_mac;  /* egress port's MAC */
	struct rte_ether_addr dst_mac;  /* next hop's MAC */
	rte_be32_t src_ip;              /* appliance's IP on the egress port */
	rte_be32_t dst_ip;              /* delivery node's IP */
	rte_be16_t src_udp;             /* appliance's UDP port on egress */
	rte_be16_t dst_udp;             /* delivery node's UDP port */
};

enum or_pkt_class {
	OR_PKT_DROP = 0,        /* info->reason says why */
	OR_PKT_MSG,             /* a well-formed MSG for us */
	OR_PKT_ARP_REQUEST,     /* an ARP request for pa->ip */
};

/* What or_pkt_classify learned about a MSG; valid until the frame moves. */
struct or_pkt_info {
	const struct or_token *sender;    /* inside the frame (alignment 1) */
	const struct or_token *recipient; /* inside the frame (alignment 1) */
	uint16_t l3_off;   /* 14, or 18 with a VLAN tag */
	uint16_t ip_end;   /* l3_off + IPv4 total length (<= frame len) */
	uint8_t key_epoch; /* header key_epoch (not checked in version 1) */
	uint8_t reason;    /* enum or_drop_reason when OR_PKT_DROP */
};

#define OR_IP_HDR_LEN ((uint16_t)sizeof(struct rte_ipv4_hdr))
#define OR_UDP_HDR_LEN ((uint16_t)sizeof(struct rte_udp_hdr))

/* What or_pkt_decide() did with a MSG: the packet's verdict. (Not the
 * store's enum or_action, which names a consent change.) */
enum or_verdict {
	OR_VERDICT_DROP = 0,    /* *reason says why */
	OR_VERDICT_DELIVER,     /* rewritten for the next hop; send on
				 * *out_port */
	OR_VERDICT_BOUNCE,      /* rewritten in place as a BOUNCE; *len
				 * shrank; send back out the receiving port */
	OR_VERDICT_OVER_BUDGET, /* version 2: a BOUNCE with reason
				 * OVER_BUDGET, sent like one */
};

/*
 * Turns an ARP request for pa->ip (one or_pkt_classify() returned
 * OR_PKT_ARP_REQUEST for) into its reply, in place: VLAN tag kept, length
 * unchanged; send it back out the receiving port. Re-checks the frame:
 * 0, or -EINVAL with the frame unchanged.
 */
int or_arp_reply(uint8_t *frame, uint16_t len, const struct or_port_addr *pa);

#endif
