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

/* Loops over rounds and sets of lanes fully unrolled: a state kept in an
 * array indexed by a loop the compiler kept would live on the stack. */
#define OR_SIP_UNROLL _Pragma("GCC unroll 8")

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

	OR_SIP_UNROLL
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
	OR_SIP_UNROLL
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

/* The first 64 bytes of eight headers, transposed: m[j] lane i is word j
 * (bytes 8j..8j+7) of h[i]. Eight loads and 24 shuffles: cheaper than a
 * gather per word (measured with build/bin/bench_auth). Word 7 holds the
 * last 4 tagged bytes and the tag's first 4. */
static inline void
or_sip_words_x8(const uint8_t *const *h, __m512i m[8])
{
	__m512i r[8], t[8], u[8];

	for (unsigned i = 0; i < 8; i++)
		r[i] = _mm512_loadu_si512((const void *)h[i]);
	/* Pairs of rows: t[2p] words 0,2,4,6 and t[2p+1] words 1,3,5,7 of
	 * rows 2p and 2p+1, interleaved. */
	for (unsigned p = 0; p < 4; p++) {
		t[2 * p] = _mm512_unpacklo_epi64(r[2 * p], r[2 * p + 1]);
		t[2 * p + 1] = _mm512_unpackhi_epi64(r[2 * p], r[2 * p + 1]);
	}
	/* Quads of rows: u[0] words 0 and 4 of rows 0-3, u[1] words 2 and 6,
	 * u[2] words 1 and 5, u[3] words 3 and 7; u[4..7] rows 4-7. */
	for (unsigned q = 0; q < 2; q++) {
		const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
		const __m512i hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
		__m512i *tq = t + 4 * q, *uq = u + 4 * q;

		uq[0] = _mm512_permutex2var_epi64(tq[0], lo, tq[2]);
		uq[1] = _mm512_permutex2var_epi64(tq[0], hi, tq[2]);
		uq[2] = _mm512_permutex2var_epi64(tq[1], lo, tq[3]);
		uq[3] = _mm512_permutex2var_epi64(tq[1], hi, tq[3]);
	}
	/* Rows 0-3 then 4-7 of each word. */
	m[0] = _mm512_shuffle_i64x2(u[0], u[4], 0x44);
	m[4] = _mm512_shuffle_i64x2(u[0], u[4], 0xee);
	m[2] = _mm512_shuffle_i64x2(u[1], u[5], 0x44);
	m[6] = _mm512_shuffle_i64x2(u[1], u[5], 0xee);
	m[1] = _mm512_shuffle_i64x2(u[2], u[6], 0x44);
	m[5] = _mm512_shuffle_i64x2(u[2], u[6], 0xee);
	m[3] = _mm512_shuffle_i64x2(u[3], u[7], 0x44);
	m[7] = _mm512_shuffle_i64x2(u[3], u[7], 0xee);
}

/* Up to this many sets of eight hashed at once: two independent chains
 * keep the vector units busier than one (SipHash's rounds are a chain of
 * dependent adds, rotates and xors), and the state of two still fits in
 * the 32 vector registers, so K_sender is never spilled to the stack. */
#define OR_SIP_SETS_MAX 2


/* rounds SipRounds of each of the ns states, interleaved. */
static inline __attribute__((always_inline)) void
or_sip_rounds_xn(__m512i *v0, __m512i *v1, __m512i *v2, __m512i *v3,
		 const unsigned ns, const unsigned rounds)
{
	OR_SIP_UNROLL
	for (unsigned r = 0; r < rounds; r++)
		OR_SIP_UNROLL
		for (unsigned s = 0; s < ns; s++)
			OR_SIP_ROUND(v0[s], v1[s], v2[s], v3[s], OR_SIP_ADD512,
				     OR_SIP_XOR512, OR_SIP_ROTL512);
}

/* ns (1..OR_SIP_SETS_MAX) sets of eight tags: lane i of set s hashes the
 * 60 bytes of a header under (k0[s][i], k1[s][i]), w[s] its words from
 * or_sip_words_x8. */
static inline void
or_sip_hdr_xn(const __m512i *k0, const __m512i *k1,
	      __m512i w[][8], const unsigned ns, __m512i *tag)
{
	__m512i v0[OR_SIP_SETS_MAX], v1[OR_SIP_SETS_MAX];
	__m512i v2[OR_SIP_SETS_MAX], v3[OR_SIP_SETS_MAX];
	const __m512i tail = _mm512_set1_epi64(0xffffffffll);
	const __m512i len = _mm512_set1_epi64((long long)OR_HDR2_TAG_OFF << 56);

	OR_SIP_UNROLL
	for (unsigned s = 0; s < ns; s++) {
		v0[s] = _mm512_xor_si512(k0[s], _mm512_set1_epi64(0x736f6d6570736575ll));
		v1[s] = _mm512_xor_si512(k1[s], _mm512_set1_epi64(0x646f72616e646f6dll));
		v2[s] = _mm512_xor_si512(k0[s], _mm512_set1_epi64(0x6c7967656e657261ll));
		v3[s] = _mm512_xor_si512(k1[s], _mm512_set1_epi64(0x7465646279746573ll));
		/* Bytes 56..59 and the length: word 7's upper half is the
		 * tag, not message. */
		w[s][OR_SIP_WORDS] = _mm512_or_si512(
			_mm512_and_si512(w[s][OR_SIP_WORDS], tail), len);
	}
	OR_SIP_UNROLL
	for (unsigned i = 0; i <= OR_SIP_WORDS; i++) {
		OR_SIP_UNROLL
		for (unsigned s = 0; s < ns; s++)
			v3[s] = _mm512_xor_si512(v3[s], w[s][i]);
		or_sip_rounds_xn(v0, v1, v2, v3, ns, 2);
		OR_SIP_UNROLL
		for (unsigned s = 0; s < ns; s++)
			v0[s] = _mm512_xor_si512(v0[s], w[s][i]);
	}
	OR_SIP_UNROLL
	for (unsigned s = 0; s < ns; s++)
		v2[s] = _mm512_xor_si512(v2[s], _mm512_set1_epi64(0xff));
	or_sip_rounds_xn(v0, v1, v2, v3, ns, 4);
	OR_SIP_UNROLL
	for (unsigned s = 0; s < ns; s++)
		tag[s] = _mm512_xor_si512(_mm512_xor_si512(v0[s], v1[s]),
					  _mm512_xor_si512(v2[s], v3[s]));
}
#endif

#endif
