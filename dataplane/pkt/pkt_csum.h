/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Ones' complement sums for the fixed 20-byte IPv4 header. DPDK's
 * rte_raw_cksum is a general loop (vectorised, with setup cost); the
 * header without options is always five 32-bit words, summed here in a few
 * instructions. Sums are over the bytes as stored: 2^16 = 1 in ones'
 * complement arithmetic, so adding 32-bit words and folding gives the same
 * result as adding 16-bit words, in either byte order.
 */
#ifndef OR_PKT_CSUM_H
#define OR_PKT_CSUM_H

#include <stdint.h>
#include <string.h>

static inline uint16_t
or_csum_fold(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

/* Ones' complement sum of a 20-byte IPv4 header (0xffff when valid). */
static inline uint16_t
or_ip_sum20(const void *ip)
{
	uint32_t w[5];

	memcpy(w, ip, sizeof(w));
	return or_csum_fold((uint64_t)w[0] + w[1] + w[2] + w[3] + w[4]);
}

#endif
