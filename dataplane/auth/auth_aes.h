/* SPDX-License-Identifier: BSD-3-Clause
 *
 * AES-128 encryption with the AES-NI instructions, for K_sender =
 * AES-128(K_auth[e], token) (include/optroute/auth.h) on the worker's hot
 * path: the key schedule of each live K_auth is expanded once, when the
 * updater installs it (auth_keyring.c), and a burst's K_sender are then
 * one AESENC chain each, four blocks per VAES instruction where the CPU
 * has VAES. The unit tests check both against OpenSSL (common/auth/auth.c)
 * and FIPS-197 appendix C.1. Without AES-NI, the reference does the work.
 */
#ifndef OR_AUTH_AES_H
#define OR_AUTH_AES_H

#include <stdint.h>

#include <immintrin.h>
#include <string.h>

#define OR_AES128_ROUNDS 10

/* The 11 round keys of AES-128. */
struct or_aes128_rk {
	__m128i k[OR_AES128_ROUNDS + 1];
};

#ifndef __AES__
/* A build for a CPU without AES-NI (ct_fallback's x86-64-v2 build, say):
 * k[0] holds the key itself and each block goes through the reference,
 * OpenSSL's AES (common/auth). Correct, and far slower: production builds
 * are -march=native on CPUs that have AES-NI. */
#include "optroute/auth.h"

static inline void
or_aes128_expand(const uint8_t key[16], struct or_aes128_rk *rk)
{
	memset(rk, 0, sizeof(*rk));
	rk->k[0] = _mm_loadu_si128((const __m128i *)key);
}

static inline __m128i
or_aes128_enc(const struct or_aes128_rk *rk, __m128i b)
{
	struct or_auth_key k, out;
	struct or_token t;
	__m128i r;

	_mm_storeu_si128((__m128i *)k.b, rk->k[0]);
	_mm_storeu_si128((__m128i *)t.b, b);
	if (or_auth_sender_key(&k, &t, &out) != 0)
		memset(&out, 0, sizeof(out)); /* no key: the tag will not match */
	r = _mm_loadu_si128((const __m128i *)out.b);
	explicit_bzero(&k, sizeof(k));
	explicit_bzero(&out, sizeof(out));
	return r;
}
#else

static inline __m128i
or_aes128_expand_step(__m128i k, __m128i assist)
{
	/* FIPS-197 5.2: each word is the previous round's word xor the word
	 * before it; the assist's high word is SubWord(RotWord(w3)) ^ rcon. */
	assist = _mm_shuffle_epi32(assist, 0xff);
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	return _mm_xor_si128(k, assist);
}

/* AESKEYGENASSIST takes its round constant as an immediate. */
#define OR_AES128_STEP(rk, i, rcon)                                           \
	((rk)->k[i] = or_aes128_expand_step(                                  \
		 (rk)->k[(i) - 1],                                            \
		 _mm_aeskeygenassist_si128((rk)->k[(i) - 1], rcon)))

static inline void
or_aes128_expand(const uint8_t key[16], struct or_aes128_rk *rk)
{
	rk->k[0] = _mm_loadu_si128((const __m128i *)key);
	OR_AES128_STEP(rk, 1, 0x01);
	OR_AES128_STEP(rk, 2, 0x02);
	OR_AES128_STEP(rk, 3, 0x04);
	OR_AES128_STEP(rk, 4, 0x08);
	OR_AES128_STEP(rk, 5, 0x10);
	OR_AES128_STEP(rk, 6, 0x20);
	OR_AES128_STEP(rk, 7, 0x40);
	OR_AES128_STEP(rk, 8, 0x80);
	OR_AES128_STEP(rk, 9, 0x1b);
	OR_AES128_STEP(rk, 10, 0x36);
}
#undef OR_AES128_STEP

/* One block. */
static inline __m128i
or_aes128_enc(const struct or_aes128_rk *rk, __m128i b)
{
	b = _mm_xor_si128(b, rk->k[0]);
	for (unsigned r = 1; r < OR_AES128_ROUNDS; r++)
		b = _mm_aesenc_si128(b, rk->k[r]);
	return _mm_aesenclast_si128(b, rk->k[OR_AES128_ROUNDS]);
}

#endif /* __AES__ */

#if defined(__AES__) && defined(__VAES__) && defined(__AVX512F__)
#define OR_AES128_X4 1
/* Four blocks, one per 128-bit lane, each lane with its own key schedule:
 * rk[r] holds round key r of every lane's key. */
static inline __m512i
or_aes128_enc_x4(const __m512i rk[OR_AES128_ROUNDS + 1], __m512i b)
{
	b = _mm512_xor_si512(b, rk[0]);
	for (unsigned r = 1; r < OR_AES128_ROUNDS; r++)
		b = _mm512_aesenc_epi128(b, rk[r]);
	return _mm512_aesenclast_epi128(b, rk[OR_AES128_ROUNDS]);
}
#endif

#endif
