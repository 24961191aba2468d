/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Frame validation (or_pkt_classify). The checks run in the order
 * docs/protocol.md lists: the first failing one names the drop. Every read
 * is preceded by a bounds check against len, and every length field is
 * checked before it is trusted. Inline, in the worker's per-frame loop.
 */
#ifndef OR_PKT_CLASSIFY_H
#define OR_PKT_CLASSIFY_H

#include <netinet/in.h>
#include <stddef.h>

#include <rte_arp.h>

#include "pkt.h"
#include "pkt_csum.h"

/*
 * Ethernet and the optional 802.1Q tag. On success *l3 is the offset of
 * the network header and *et its ethertype (network order); otherwise the
 * drop reason.
 */
static inline enum or_drop_reason
or_pkt_l2_parse(const uint8_t *frame, uint16_t len, uint16_t *l3,
		rte_be16_t *et)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	uint16_t off = sizeof(*eth);
	rte_be16_t t;

	if (len < off)
		return OR_DROP_TRUNCATED;
	/* Group bit: a bounce or ARP reply must never go to a group. */
	if (!rte_is_unicast_ether_addr(&eth->src_addr))
		return OR_DROP_BAD_SRC_ADDR;
	t = eth->ether_type;
	if (t == RTE_BE16(RTE_ETHER_TYPE_VLAN)) {
		const struct rte_vlan_hdr *vh;

		if (len < off + sizeof(*vh))
			return OR_DROP_TRUNCATED;
		vh = (const struct rte_vlan_hdr *)(frame + off);
		off += sizeof(*vh);
		t = vh->eth_proto;
		if (t == RTE_BE16(RTE_ETHER_TYPE_VLAN) ||
		    t == RTE_BE16(RTE_ETHER_TYPE_QINQ))
			return OR_DROP_VLAN_STACKED;
	} else if (t == RTE_BE16(RTE_ETHER_TYPE_QINQ)) {
		return OR_DROP_VLAN_STACKED;
	}
	*l3 = off;
	*et = t;
	return OR_DROP_NONE;
}

/* An Ethernet/IPv4 ARP request for pa->ip, sent to us or broadcast. */
static inline enum or_drop_reason
or_pkt_arp_check(const uint8_t *frame, uint16_t len, uint16_t l3,
		 const struct or_port_addr *pa)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	const struct rte_arp_hdr *arp;

	if (len < l3 + sizeof(*arp))
		return OR_DROP_TRUNCATED;
	arp = (const struct rte_arp_hdr *)(frame + l3);
	if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4)
		return OR_DROP_BAD_ARP;
	if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) ||
	    arp->arp_data.arp_tip != pa->ip ||
	    !(rte_is_broadcast_ether_addr(&eth->dst_addr) ||
	      rte_is_same_ether_addr(&eth->dst_addr, &pa->mac)))
		return OR_DROP_ARP_NOT_FOR_US;
	/* The reply goes to the sender hardware address. */
	if (!rte_is_unicast_ether_addr(&arp->arp_data.arp_sha))
		return OR_DROP_BAD_ARP;
	return OR_DROP_NONE;
}

/*
 * A source we could not answer (a bounce would go to a group, nowhere, or
 * ourselves): 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/3, or our own address.
 */
static inline int
or_pkt_bad_src_ip(rte_be32_t src, rte_be32_t own)
{
	uint8_t a = ((const uint8_t *)&src)[0];

	return a == 0 || a == 127 || a >= 224 || src == own;
}

static inline enum or_pkt_class
or_pkt_drop(struct or_pkt_info *info, enum or_drop_reason r)
{
	info->reason = (uint8_t)r;
	return OR_PKT_DROP;
}

/* Parses and validates one frame. Reads only frame[0..len-1]. */
static inline enum or_pkt_class
or_pkt_classify(const uint8_t *frame, uint16_t len,
		const struct or_port_addr *pa, struct or_pkt_info *info)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;
	const struct or_hdr *h;
	enum or_drop_reason r;
	uint16_t l3, tot;
	rte_be16_t et;

	r = or_pkt_l2_parse(frame, len, &l3, &et);
	if (r != OR_DROP_NONE)
		return or_pkt_drop(info, r);
	if (et == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		r = or_pkt_arp_check(frame, len, l3, pa);
		if (r != OR_DROP_NONE)
			return or_pkt_drop(info, r);
		info->l3_off = l3;
		info->reason = OR_DROP_NONE;
		return OR_PKT_ARP_REQUEST;
	}
	if (et != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return or_pkt_drop(info, OR_DROP_NOT_IPV4);
	if (!rte_is_same_ether_addr(&eth->dst_addr, &pa->mac))
		return or_pkt_drop(info, OR_DROP_NOT_FOR_US_MAC);

	if (len < l3 + OR_IP_HDR_LEN)
		return or_pkt_drop(info, OR_DROP_TRUNCATED);
	ip = (const struct rte_ipv4_hdr *)(frame + l3);
	if ((ip->version_ihl >> 4) != 4 ||
	    (ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) < 5)
		return or_pkt_drop(info, OR_DROP_BAD_IP_HDR);
	if ((ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) != 5)
		return or_pkt_drop(info, OR_DROP_IP_OPTIONS);
	if (!or_ip_hdr_csum_ok(ip))
		return or_pkt_drop(info, OR_DROP_BAD_IP_CSUM);
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot < OR_IP_HDR_LEN)
		return or_pkt_drop(info, OR_DROP_BAD_IP_LEN);
	/* Longer frames are Ethernet padding; shorter ones lost bytes. */
	if (tot > len - l3)
		return or_pkt_drop(info, OR_DROP_TRUNCATED);
	/* The link MTU: the appliance never fragments, and a delivery node
	 * on a standard link could not take more. */
	if (tot > pa->mtu)
		return or_pkt_drop(info, OR_DROP_TOO_BIG);
	if (ip->fragment_offset &
	    RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return or_pkt_drop(info, OR_DROP_FRAGMENT);
	if (ip->dst_addr != pa->ip)
		return or_pkt_drop(info, OR_DROP_NOT_FOR_US_IP);
	if (or_pkt_bad_src_ip(ip->src_addr, pa->ip))
		return or_pkt_drop(info, OR_DROP_BAD_SRC_ADDR);
	if (ip->next_proto_id != IPPROTO_UDP)
		return or_pkt_drop(info, OR_DROP_NOT_UDP);
	if (ip->time_to_live <= 1)
		return or_pkt_drop(info, OR_DROP_TTL_EXPIRED);

	/* From here on, bounds are the IP datagram, not the frame. */
	if (tot < OR_IP_HDR_LEN + OR_UDP_HDR_LEN)
		return or_pkt_drop(info, OR_DROP_TRUNCATED);
	udp = (const struct rte_udp_hdr *)(ip + 1);
	if (udp->dst_port != pa->udp_port)
		return or_pkt_drop(info, OR_DROP_NOT_FOR_US_PORT);
	if (udp->src_port == 0)
		return or_pkt_drop(info, OR_DROP_BAD_SRC_ADDR);
	if (rte_be_to_cpu_16(udp->dgram_len) != tot - OR_IP_HDR_LEN)
		return or_pkt_drop(info, OR_DROP_BAD_UDP_LEN);
	if (tot < OR_IP_HDR_LEN + OR_UDP_HDR_LEN + OR_HDR_LEN)
		return or_pkt_drop(info, OR_DROP_TRUNCATED);
	h = (const struct or_hdr *)(udp + 1);
	if (h->magic != RTE_BE16(OR_PROTO_MAGIC))
		return or_pkt_drop(info, OR_DROP_BAD_MAGIC);
	/* One version per appliance: 2, or 1 with auth off (lab use). */
	if (h->version != pa->version)
		return or_pkt_drop(info, OR_DROP_BAD_VERSION);
	if (h->type != OR_TYPE_MSG)
		return or_pkt_drop(info, h->type == OR_TYPE_BOUNCE ?
						 OR_DROP_BOUNCE_TO_US :
						 OR_DROP_BAD_TYPE);
	if (rte_be_to_cpu_16(h->version == OR_PROTO_V2 ?
				     ((const struct or_hdr2 *)h)->payload_len :
				     h->payload_len) !=
	    tot - (OR_IP_HDR_LEN + OR_UDP_HDR_LEN + OR_HDR_LEN))
		return or_pkt_drop(info, OR_DROP_BAD_PAYLOAD_LEN);

	info->sender = &h->sender;
	info->recipient = &h->recipient;
	info->l3_off = l3;
	info->ip_end = (uint16_t)(l3 + tot);
	info->key_epoch = h->key_epoch;
	info->reason = OR_DROP_NONE;
	return OR_PKT_MSG;
}

#endif
