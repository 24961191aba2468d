/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Consent decision and in-place rewrite of a classified MSG: deliver to the
 * recipient's node, bounce to the sender, or drop. See docs/protocol.md for
 * the exact output bytes. Inline, in the worker's per-frame loop: called
 * across files, the frame length, egress port and reason went through
 * memory on every frame.
 */
#ifndef OR_PKT_DECIDE_H
#define OR_PKT_DECIDE_H

#include <netinet/in.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include "dataplane/auth/auth_verify.h"
#include "pkt.h"
#include "pkt_csum.h"

#define OR_BOUNCE_IP_LEN (OR_IP_HDR_LEN + OR_UDP_HDR_LEN + OR_HDR_LEN)

/*
 * Delivery: the new addresses go in, TTL goes down by one. The UDP
 * checksum is updated incrementally (RFC 1624, HC' = ~(~HC + ~m + m')),
 * not recomputed, so the payload is never read and an error it carried in
 * stays detectable at the delivery node. All sums are over the words as
 * stored (network order): ones' complement sums do not care.
 */
static inline void
or_pkt_rewrite_deliver(uint8_t *frame, const struct or_pkt_info *info,
		       const struct or_nexthop *nh)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + info->l3_off);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	rte_ether_addr_copy(&nh->dst_mac, &eth->dst_addr);
	rte_ether_addr_copy(&nh->src_mac, &eth->src_addr);

	if (udp->dgram_cksum != 0) {
		uint32_t acc = (uint16_t)~udp->dgram_cksum;
		uint16_t ck;

		acc = or_csum_adj32(acc, ip->src_addr, nh->src_ip);
		acc = or_csum_adj32(acc, ip->dst_addr, nh->dst_ip);
		acc = or_csum_adj16(acc, udp->src_port, nh->src_udp);
		acc = or_csum_adj16(acc, udp->dst_port, nh->dst_udp);
		acc = (acc & 0xffff) + (acc >> 16);
		acc = (acc & 0xffff) + (acc >> 16);
		ck = (uint16_t)~acc;
		/* 0 means "no checksum" in UDP: send the other zero. */
		udp->dgram_cksum = ck == 0 ? 0xffff : ck;
	}
	udp->src_port = nh->src_udp;
	udp->dst_port = nh->dst_udp;

	/* The IPv4 checksum (verified by or_pkt_classify) is updated the
	 * same way, from the old values: summing the header again would read
	 * back words just written, which stalls store forwarding. */
	uint8_t ttl = (uint8_t)(ip->time_to_live - 1);
	uint16_t tp = or_word_at(ip, 8), tp_new = or_word_with(tp, 0, ttl);
	uint32_t acc = (uint16_t)~ip->hdr_checksum;

	ip->time_to_live = ttl;
	acc = or_csum_adj16(acc, tp, tp_new);
	acc = or_csum_adj32(acc, ip->src_addr, nh->src_ip);
	acc = or_csum_adj32(acc, ip->dst_addr, nh->dst_ip);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	ip->hdr_checksum = (uint16_t)~acc;
	ip->src_addr = nh->src_ip;
	ip->dst_addr = nh->dst_ip;
}

/*
 * Bounce: back to the sender with the payload stripped. Everything in the
 * output is a function of the input frame and the reason alone, so a
 * recipient who never registered and one who opted out give byte-identical
 * bounces. Returns the new frame length.
 * Both checksums are computed from values read before anything is
 * written: summing the headers after rewriting them would read back
 * words just stored, which stalls store forwarding. The IPv4 one (verified
 * by or_pkt_classify) is updated incrementally; the UDP one is summed
 * afresh (its payload is gone) from the original OR header and the new
 * values of the words that change.
 */
/*
 * The headers of a bounce below the OR header: back to the sender, UDP
 * checksum from hdr_sum (the ones' complement sum of the OR header as it
 * is sent). Returns the new frame length.
 * The IPv4 checksum (verified by or_pkt_classify) is updated
 * incrementally from values read before anything is written: summing the
 * header after rewriting it would read back words just stored, which
 * stalls store forwarding.
 */
static inline uint16_t
or_pkt_bounce_headers(uint8_t *frame, const struct or_pkt_info *info,
		      const struct or_port_addr *pa, uint64_t hdr_sum)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + info->l3_off);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	const rte_be16_t udp_len = RTE_BE16(OR_UDP_HDR_LEN + OR_HDR_LEN);
	const rte_be16_t ip_len = RTE_BE16(OR_BOUNCE_IP_LEN);
	rte_be32_t src = ip->src_addr, dst = ip->dst_addr;
	rte_be16_t sport = udp->src_port;
	uint16_t tp = or_word_at(ip, 8), tp_new = or_word_with(tp, 0, OR_BOUNCE_TTL);
	uint64_t sum = hdr_sum;
	uint32_t acc;
	uint16_t ck;

	/* UDP: pseudo header, UDP header (checksum 0), OR header. */
	sum += or_csum_words32(pa->ip) + or_csum_words32(src) +
	       RTE_BE16(IPPROTO_UDP) + udp_len;
	sum += pa->udp_port + sport + udp_len;
	ck = (uint16_t)~or_csum_fold(sum);

	/* IPv4: incremental from the old checksum. */
	acc = (uint16_t)~ip->hdr_checksum;
	acc = or_csum_adj16(acc, ip->total_length, ip_len);
	acc = or_csum_adj16(acc, tp, tp_new);
	acc = or_csum_adj32(acc, src, pa->ip);
	acc = or_csum_adj32(acc, dst, src);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);

	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&pa->mac, &eth->src_addr);

	udp->dst_port = sport;
	udp->src_port = pa->udp_port;
	udp->dgram_len = udp_len;
	/* 0 means "no checksum" in UDP: send the other zero. */
	udp->dgram_cksum = ck == 0 ? 0xffff : ck;

	ip->total_length = ip_len;
	ip->time_to_live = OR_BOUNCE_TTL;
	ip->dst_addr = src;
	ip->src_addr = pa->ip;
	ip->hdr_checksum = (uint16_t)~acc;
	return (uint16_t)(info->l3_off + OR_BOUNCE_IP_LEN);
}

/*
 * Bounce (version 1): back to the sender with the payload stripped.
 * Everything in the output is a function of the input frame and the
 * reason alone, so a recipient who never registered and one who opted out
 * give byte-identical bounces. Returns the new frame length. The OR
 * header's sum is taken from the header as received, with the three words
 * that change corrected, before they are written (store forwarding).
 */
static inline uint16_t
or_pkt_rewrite_bounce(uint8_t *frame, const struct or_pkt_info *info,
		      const struct or_port_addr *pa, uint8_t reason)
{
	struct or_hdr *h = (struct or_hdr *)(frame + info->l3_off +
					     OR_IP_HDR_LEN + OR_UDP_HDR_LEN);
	/* OR header words that change: version|type, reason|reserved,
	 * payload_len. */
	uint16_t vt = or_word_at(h, 2), rr = or_word_at(h, 6), pl = or_word_at(h, 64);
	uint16_t vt_new = or_word_with(vt, 1, OR_TYPE_BOUNCE);
	uint16_t rr_new = or_word_with(rr, 0, reason);
	uint64_t sum;

	sum = rte_raw_cksum(h, OR_HDR_LEN);
	sum += (uint16_t)~vt + vt_new + (uint16_t)~rr + rr_new + (uint16_t)~pl;
	h->type = OR_TYPE_BOUNCE;
	h->reason = reason;
	h->payload_len = 0;
	return or_pkt_bounce_headers(frame, info, pa, sum);
}

/*
 * Bounce (version 2): as version 1, and the tag is replaced by the
 * bounce's own, under the sender's key (slot of its epoch in kr), so the
 * phone can tell a bounce of the appliance from a forged one. Still a
 * function of the received frame, the reason and the key alone.
 */
static inline struct or_hdr2 *
or_pkt_hdr2_of(uint8_t *frame, const struct or_pkt_info *info)
{
	return (struct or_hdr2 *)(frame + info->l3_off + OR_IP_HDR_LEN +
				  OR_UDP_HDR_LEN);
}

/* A version-2 bounce in two steps, so that a burst's bounces are signed
 * together (or_auth_tag_burst): or_pkt_bounce2_start rewrites the OR
 * header's fields that the tag covers; the caller computes the tag of the
 * header as it is then; or_pkt_bounce2_finish writes it and the headers
 * below, with their checksums (the UDP one covers the tag). Together they
 * write the bytes or_pkt_rewrite_bounce2 writes; the frame must not be
 * sent in between. */
static inline void
or_pkt_bounce2_start(uint8_t *frame, const struct or_pkt_info *info,
		     uint8_t reason)
{
	struct or_hdr2 *h = or_pkt_hdr2_of(frame, info);

	h->type = OR_TYPE_BOUNCE;
	h->reason = reason;
	h->payload_len = 0;
}

static inline uint16_t
or_pkt_bounce2_finish(uint8_t *frame, const struct or_pkt_info *info,
		      const struct or_port_addr *pa, uint64_t tag)
{
	struct or_hdr2 *h = or_pkt_hdr2_of(frame, info);

	memcpy(h->auth_tag, &tag, sizeof(tag));
	return or_pkt_bounce_headers(frame, info, pa,
				     rte_raw_cksum(h, OR_HDR_LEN));
}

static inline uint16_t
or_pkt_rewrite_bounce2(uint8_t *frame, const struct or_pkt_info *info,
		       const struct or_port_addr *pa, uint8_t reason,
		       const struct or_keyring *kr, int slot)
{
	or_pkt_bounce2_start(frame, info, reason);
	return or_pkt_bounce2_finish(
		frame, info, pa,
		or_auth_tag_of(kr, slot,
			       (const uint8_t *)or_pkt_hdr2_of(frame, info)));
}

/* A bounce recomputes the UDP checksum; the one we got is checked first,
 * so a corrupted header is not sent back under a valid checksum. */
static inline int
or_pkt_udp_csum_bad(const uint8_t *frame, const struct or_pkt_info *info)
{
	const struct rte_ipv4_hdr *ip =
		(const struct rte_ipv4_hdr *)(frame + info->l3_off);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);

	return udp->dgram_cksum != 0 && rte_ipv4_udptcp_cksum_verify(ip, udp) != 0;
}

/* The bounce of either version; 0 if the sender's epoch is no longer
 * live (retired since the tag was verified): nothing can sign it. With
 * sign_slot, a version-2 bounce is only started (or_pkt_bounce2_start),
 * its slot in *sign_slot, and the length returned is the one it will
 * have once finished. */
static inline uint16_t
or_pkt_bounce(uint8_t *frame, const struct or_pkt_info *info,
	      const struct or_port_addr *pa, uint8_t reason,
	      const struct or_keyring *kr, int8_t *sign_slot)
{
	int slot;

	if (kr == NULL)
		return or_pkt_rewrite_bounce(frame, info, pa, reason);
	slot = or_keyring_slot(kr, info->key_epoch);
	if (slot < 0)
		return 0;
	if (sign_slot == NULL)
		return or_pkt_rewrite_bounce2(frame, info, pa, reason, kr, slot);
	or_pkt_bounce2_start(frame, info, reason);
	*sign_slot = (int8_t)slot;
	return (uint16_t)(info->l3_off + OR_BOUNCE_IP_LEN);
}

/*
 * Decides and rewrites a frame or_pkt_classify() returned OR_PKT_MSG for,
 * given the consent records of its sender and recipient (0 = miss).
 * nh[0..nh_count-1] is the next-hop table; pa the receiving port.
 * kr: the live auth epochs for a version-2 MSG (its tag already verified),
 * NULL for version 1. over_budget: the sender has no bounce left
 * (auth/budget.h); decided before the recipient is looked at, so the reply
 * never depends on the recipient. *len is the frame length in, the length
 * to send out (DELIVER: Ethernet padding trimmed; BOUNCE, OVER_BUDGET:
 * payload stripped). *out_port is set on DELIVER only; *reason on DROP
 * only. The frame is unchanged on DROP.
 */
/* or_pkt_decide, where a version-2 bounce (BOUNCE, OVER_BUDGET) may be
 * left for the caller to sign: with sign_slot not NULL, such a bounce is
 * only started (or_pkt_bounce2_start), *sign_slot is its key slot in kr,
 * *len its final length, and the caller must compute its tag and call
 * or_pkt_bounce2_finish before sending it. sign_slot is not touched for
 * any other outcome. */
static inline enum or_verdict
or_pkt_decide_defer(uint8_t *frame, uint16_t *len,
		    const struct or_pkt_info *info, uint32_t sender_rec,
		    uint32_t recipient_rec, const struct or_nexthop *nh,
		    unsigned nh_count, const struct or_port_addr *pa,
		    const struct or_keyring *kr, int over_budget,
		    uint16_t *out_port, enum or_drop_reason *reason,
		    int8_t *sign_slot)
{
	uint8_t bounce_reason = OR_REASON_RECIPIENT_UNAVAILABLE;
	enum or_verdict verdict = OR_VERDICT_BOUNCE;

	if (or_rec_state(sender_rec) != OR_STATE_IN) {
		*reason = OR_DROP_SENDER_NOT_OPTED_IN;
		return OR_VERDICT_DROP;
	}
	if (over_budget) {
		bounce_reason = OR_REASON_OVER_BUDGET;
		verdict = OR_VERDICT_OVER_BUDGET;
	} else if (or_rec_state(recipient_rec) == OR_STATE_IN) {
		uint16_t node = or_rec_node(recipient_rec);

		/* Dropped, not bounced: a missing next hop is our fault and
		 * usually passing; a bounce would read as a refusal. */
		if (node >= nh_count || !nh[node].valid) {
			*reason = OR_DROP_NO_ROUTE;
			return OR_VERDICT_DROP;
		}
		or_pkt_rewrite_deliver(frame, info, &nh[node]);
		*len = info->ip_end;
		*out_port = nh[node].port_id;
		return OR_VERDICT_DELIVER;
	}

	if (or_pkt_udp_csum_bad(frame, info)) {
		*reason = OR_DROP_BAD_UDP_CSUM;
		return OR_VERDICT_DROP;
	}
	*len = or_pkt_bounce(frame, info, pa, bounce_reason, kr, sign_slot);
	if (*len == 0) {
		*reason = OR_DROP_UNKNOWN_EPOCH;
		return OR_VERDICT_DROP;
	}
	return verdict;
}

static inline enum or_verdict
or_pkt_decide(uint8_t *frame, uint16_t *len, const struct or_pkt_info *info,
	      uint32_t sender_rec, uint32_t recipient_rec,
	      const struct or_nexthop *nh, unsigned nh_count,
	      const struct or_port_addr *pa, const struct or_keyring *kr,
	      int over_budget, uint16_t *out_port, enum or_drop_reason *reason)
{
	return or_pkt_decide_defer(frame, len, info, sender_rec, recipient_rec,
				   nh, nh_count, pa, kr, over_budget, out_port,
				   reason, NULL);
}

#endif
