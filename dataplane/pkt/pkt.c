/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ARP replies and drop reason names; frame validation itself is inline in
 * pkt_classify.h.
 */
#include <errno.h>

#include "pkt_classify.h"

#define OR_DROP_NAME_(name, str) [OR_DROP_##name] = str,
static const char *const drop_names[OR_DROP_MAX] = {
	[OR_DROP_NONE] = "none",
	OR_DROP_REASONS(OR_DROP_NAME_)
};
#undef OR_DROP_NAME_

const char *
or_drop_reason_name(enum or_drop_reason r)
{
	if ((unsigned)r >= OR_DROP_MAX)
		return "unknown";
	return drop_names[r];
}

int
or_arp_reply(uint8_t *frame, uint16_t len, const struct or_port_addr *pa)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_arp_hdr *arp;
	uint16_t l3;
	rte_be16_t et;

	if (or_pkt_l2_parse(frame, len, &l3, &et) != OR_DROP_NONE ||
	    et != RTE_BE16(RTE_ETHER_TYPE_ARP) ||
	    or_pkt_arp_check(frame, len, l3, pa) != OR_DROP_NONE)
		return -EINVAL;
	arp = (struct rte_arp_hdr *)(frame + l3);

	rte_ether_addr_copy(&arp->arp_data.arp_sha, &eth->dst_addr);
	rte_ether_addr_copy(&pa->mac, &eth->src_addr);
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&arp->arp_data.arp_sha, &arp->arp_data.arp_tha);
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	rte_ether_addr_copy(&pa->mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = pa->ip;
	return 0;
}
