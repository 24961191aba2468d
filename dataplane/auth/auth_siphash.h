/* SPDX-License-Identifier: BSD-3-Clause
 *
 * SipHash-2-4 (Aumasson and Bernstein, 2012) of exactly the 60 tagged
 * bytes of a version-2 header (include/optroute/auth.h), for the worker:
 * one header at a time, and eight at a time with AVX-512, one header per
 * 64-bit lane (SipHash is adds, xors and rotates of 64-bit words, all of
 * which AVX-512 has, VPROLQ included). The unit tests check both against
 * libsodium's crypto_shorthash (common/auth/auth.c).
 *
 * A 60-byte message is seven 8-byte words m0..m6 (little-endian) and a
 * last word b = (60 << 56) | the four bytes 56..59: 8 compressions of two
 * SipRounds each, then four finalization rounds.
 */
#ifndef OR_AUTH_SIPHASH_H
#define OR_AUTH_SIPHASH_H

#include <stdint.h>
#include <string.h>

#include <immintrin.h>

#include "optroute/proto.h"

#define OR_SIP_WORDS (OR_HDR2_TAG_OFF / 8)     /* 7 full words */
#define OR_SIP_TAIL (OR_HDR2_TAG_OFF % 8)      /* then 4 bytes */

static_assert(OR_SIP_WORDS == 7 && OR_SIP_TAIL == 4, "60 tagged bytes");

static inline uint64_t
or_sip_rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

#define OR_SIP_ROUND(v0, v1, v2, v3, ADD, XOR, ROTL)                          \
	do {                                                                  \
		v0 = ADD(v0, v1); v1 = ROTL(v1, 13); v1 = XOR(v1, v0);        \
		v0 = ROTL(v0, 32);                                            \
		v2 = ADD(v2, v3); v3 = ROTL(v3, 16); v3 = XOR(v3, v2);        \
		v0 = ADD(v0, v3); v3 = ROTL(v3, 21); v3 = XOR(v3, v0);        \
		v2 = ADD(v2, v1); v1 = ROTL(v1, 17); v1 = XOR(v1, v2);        \
		v2 = ROTL(v2, 32);                                            \
	} while (0)

#define OR_SIP_ADD64(a, b) ((a) + (b))
#define OR_SIP_XOR64(a, b) ((a) ^ (b))

static inline uint64_t
or_sip_load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v)); /* little-endian host (x86-64) */
	return v;
}

static inline uint32_t
or_sip_load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The last message word of a 60-byte message. */
static inline uint64_t
or_sip_last_word(const uint8_t *msg)
{
	return ((uint64_t)OR_HDR2_TAG_OFF << 56) |
	       or_sip_load32(msg + 8 * OR_SIP_WORDS);
}

/* The tag of one header (its first 60 bytes) under key (16 bytes, as
 * two little-endian words k0, k1). */
static inline uint64_t
or_sip_hdr(uint64_t k0, uint64_t k1, const uint8_t *msg)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull;
	uint64_t v3 = k1 ^ 0x7465646279746573ull;

	for (unsigned i = 0; i <= OR_SIP_WORDS; i++) {
		uint64_t m = i < OR_SIP_WORDS ? or_sip_load64(msg + 8 * i) :
						or_sip_last_word(msg);

		v3 ^= m;
		OR_SIP_ROUND(v0, v1, v2, v3, OR_SIP_ADD64, OR_SIP_XOR64,
			     or_sip_rotl);
		OR_SIP_ROUND(v0, v1, v2, v3, OR_SIP_ADD64, OR_SIP_XOR64,
			     or_sip_rotl);
		v0 ^= m;
	}
	v2 ^= 0xff;
	for (unsigned r = 0; r < 4; r++)
		OR_SIP_ROUND(v0, v1, v2, v3, OR_SIP_ADD64, OR_SIP_XOR64,
			     or_sip_rotl);
	return v0 ^ v1 ^ v2 ^ v3;
}

#ifdef __AVX512F__
#define OR_SIP_X8 1
#define OR_SIP_ADD512(a, b) _mm512_add_epi64(a, b)
#define OR_SIP_XOR512(a, b) _mm512_xor_si512(a, b)
/* A rotation by 32 is a swap of the 32-bit halves: VPSHUFD, which runs
 * beside the VPROLQs of the other rotations (measured with
 * build/bin/bench_auth). */
#define OR_SIP_ROTL512(a, b)                                                  \
	((b) == 32 ? _mm512_shuffle_epi32(a, _MM_PERM_CDAB) :                 \
		     _mm512_rol_epi64(a, b))

/* Eight tags at once: lane i hashes the 60 bytes at address addr[i] under
 * (k0[i], k1[i]). Each message word is one gather of the eight headers. */
static inline __m512i
or_sip_hdr_x8(__m512i k0, __m512i k1, __m512i addr)
{
	__m512i v0 = _mm512_xor_si512(k0, _mm512_set1_epi64(0x736f6d6570736575ll));
	__m512i v1 = _mm512_xor_si512(k1, _mm512_set1_epi64(0x646f72616e646f6dll));
	__m512i v2 = _mm512_xor_si512(k0, _mm512_set1_epi64(0x6c7967656e657261ll));
	__m512i v3 = _mm512_xor_si512(k1, _mm512_set1_epi64(0x7465646279746573ll));
	__m512i m;

	for (unsigned i = 0; i <= OR_SIP_WORDS; i++) {
		m = _mm512_i64gather_epi64(
			_mm512_add_epi64(addr, _mm512_set1_epi64(8 * i)),
			NULL, 1);
		if (i == OR_SIP_WORDS)
			/* Bytes 56..59 and the length: the gathered word's
			 * upper half is the tag, not message. */
			m = _mm512_or_si512(
				_mm512_and_si512(m, _mm512_set1_epi64(0xffffffffll)),
				_mm512_set1_epi64((long long)OR_HDR2_TAG_OFF << 56));
		v3 = _mm512_xor_si512(v3, m);
		OR_SIP_ROUND(v0, v1, v2, v3, OR_SIP_ADD512, OR_SIP_XOR512,
			     OR_SIP_ROTL512);
		OR_SIP_ROUND(v0, v1, v2, v3, OR_SIP_ADD512, OR_SIP_XOR512,
			     OR_SIP_ROTL512);
		v0 = _mm512_xor_si512(v0, m);
	}
	v2 = _mm512_xor_si512(v2, _mm512_set1_epi64(0xff));
	for (unsigned r = 0; r < 4; r++)
		OR_SIP_ROUND(v0, v1, v2, v3, OR_SIP_ADD512, OR_SIP_XOR512,
			     OR_SIP_ROTL512);
	return _mm512_xor_si512(_mm512_xor_si512(v0, v1),
				_mm512_xor_si512(v2, v3));
}
#endif

#endif
