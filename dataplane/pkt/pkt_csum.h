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

#include <stdbool.h>
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

/*
 * Whether a 20-byte IPv4 header's checksum is right: its ones' complement
 * sum is 0xffff. That folded sum is congruent to the plain sum s of its
 * words modulo 0xffff (2^16 = 1 there) and never 0 for s > 0, so it is
 * 0xffff exactly when s is a nonzero multiple of 0xffff: a multiply and a
 * compare (GCC's divisibility test) instead of a chain of folds, in the
 * per-frame path. Loaded as two 8-byte words and one 4-byte word split in
 * registers: copied into a 20-byte array, the header went to the stack as
 * one 16-byte store read back as 4-byte words, which store forwarding
 * cannot serve.
 */
static inline bool
or_ip_hdr_csum_ok(const void *ip)
{
	const uint8_t *p = ip;
	uint64_t a, b, s;
	uint32_t c;

	memcpy(&a, p, sizeof(a));
	memcpy(&b, p + 8, sizeof(b));
	memcpy(&c, p + 16, sizeof(c));
	s = (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32) + c;
	return s % 0xffff == 0 && s != 0;
}

/* Adds (new - old) for one 16-bit word to a ones' complement sum. */
static inline uint32_t
or_csum_adj16(uint32_t acc, uint16_t old, uint16_t new)
{
	return acc + (uint16_t)~old + new;
}

static inline uint32_t
or_csum_adj32(uint32_t acc, uint32_t old, uint32_t new)
{
	acc = or_csum_adj16(acc, (uint16_t)old, (uint16_t)new);
	return or_csum_adj16(acc, (uint16_t)(old >> 16), (uint16_t)(new >> 16));
}

/* A 32-bit field as stored, as two 16-bit words of a ones' complement sum. */
static inline uint32_t
or_csum_words32(uint32_t v)
{
	return (v & 0xffff) + (v >> 16);
}

/* 16-bit word at byte offset off of p, as stored. */
static inline uint16_t
or_word_at(const void *p, unsigned off)
{
	uint16_t w;

	memcpy(&w, (const uint8_t *)p + off, sizeof(w));
	return w;
}

/* The same word with its byte at off (0 or 1 within it) replaced. */
static inline uint16_t
or_word_with(uint16_t w, unsigned off, uint8_t b)
{
	/* Shifts, not a byte array: a byte stored into the word's stack copy
	 * and read back as a word stalls store forwarding. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	unsigned shift = off * 8;
#else
	unsigned shift = (1 - off) * 8;
#endif

	return (uint16_t)((w & ~(0xffu << shift)) | ((unsigned)b << shift));
}

#endif
