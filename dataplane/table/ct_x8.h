/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Consent table lookups eight keys at a time, with AVX-512 (F, VL, DQ) and
 * BMI2: the bulk lookup's three passes over a burst (start, read, match,
 * see ct_lookup.c) as vector code. A lookup is short on memory work (one
 * line for most keys) and was long on instructions: hashing, bucket
 * indexes, filter tests and picking the matching slot's record are the
 * same arithmetic for every key, done here in one instruction for eight.
 * What stays per key is what has to be: a prefetch, a record load and a
 * line compare.
 *
 * Everything here computes exactly what the scalar helpers of
 * ct_internal.h compute (ct_hash, ct_prim_of, ct_alt_of, ct_alt_bit,
 * ct_bucket_find), which the writer uses to place keys: the unit tests run
 * the scalar and SSE builds too (tests/integration/ct_fallback.sh).
 */
#ifndef CT_X8_H
#define CT_X8_H

#if defined(__AVX512F__) && defined(__AVX512VL__) && defined(__AVX512DQ__) && \
	defined(__BMI2__)
#include <immintrin.h>

#include <rte_prefetch.h>

#include "ct_internal.h"

#define CT_X8 1

static inline __mmask8
ct_x8_mask(unsigned cnt)
{
	return (__mmask8)((1u << cnt) - 1);
}

/* Byte addresses of buckets idx (eight 64-bit lanes) into out[]. */
static inline void
ct_x8_addrs(const struct ct_table *t, __m512i idx, uint64_t *out)
{
	_mm512_storeu_si512(out, _mm512_add_epi64(
		_mm512_set1_epi64((long long)(uintptr_t)t->buckets),
		_mm512_slli_epi64(idx, 6)));
}

/* Four 16-byte values as one vector, a in the low lane. */
static inline __m512i
ct_x8_join4(__m128i a, __m128i b, __m128i c, __m128i d)
{
	__m512i v = _mm512_castsi128_si512(a);

	v = _mm512_inserti64x2(v, b, 1);
	v = _mm512_inserti64x2(v, c, 2);
	return _mm512_inserti64x2(v, d, 3);
}

/* A token's 16 bytes. */
static inline __m128i
ct_x8_key(const struct or_token *k)
{
	return _mm_loadu_si128((const void *)k->b);
}

/* The live-record lanes of four buckets' records (ct_rec_live()). */
static inline __mmask16
ct_x8_live(__m512i recs)
{
	return _mm512_test_epi32_mask(
		_mm512_xor_si512(recs, _mm512_srli_epi32(recs, 1)),
		_mm512_set1_epi32(1));
}

/* Primary bucket indexes of hashes h: ct_prim_of(). */
static inline __m512i
ct_x8_prim(const struct ct_table *t, __m512i h)
{
	return _mm512_srli_epi64(
		_mm512_mul_epu32(h, _mm512_set1_epi64(t->nbuckets)), 32);
}

/* Hashes and primary buckets of b's keys i..i+cnt-1 (cnt <= 8), their
 * primaries prefetched into L2: ct_start_one() for eight keys. */
static inline void
ct_x8_start(const struct ct_table *t, struct ct_burst *b, unsigned i,
	    unsigned cnt)
{
	static const struct or_token none;
	__mmask8 m = ct_x8_mask(cnt);
	const struct or_token *kp[8];
	__m512i lo, hi, x, y, h, p;
	uint64_t ad[8];

	/* Eight 16-byte keys (a zero key past cnt) to a vector of their
	 * first halves and one of their second halves. */
	_mm512_storeu_si512(kp, _mm512_mask_loadu_epi64(
		_mm512_set1_epi64((long long)(uintptr_t)&none), m, &b->keys[i]));
	lo = ct_x8_join4(ct_x8_key(kp[0]), ct_x8_key(kp[1]), ct_x8_key(kp[2]),
			 ct_x8_key(kp[3]));
	hi = ct_x8_join4(ct_x8_key(kp[4]), ct_x8_key(kp[5]), ct_x8_key(kp[6]),
			 ct_x8_key(kp[7]));
	x = _mm512_permutex2var_epi64(lo, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), hi);
	y = _mm512_permutex2var_epi64(lo, _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), hi);
	/* ct_hash(): both halves seeded, each folded by a 32x32 product. */
	x = _mm512_xor_si512(x, _mm512_set1_epi64((long long)t->seed[0]));
	y = _mm512_xor_si512(y, _mm512_set1_epi64((long long)t->seed[1]));
	x = _mm512_mul_epu32(x, _mm512_srli_epi64(x, 32));
	y = _mm512_mul_epu32(y, _mm512_srli_epi64(y, 32));
	h = _mm512_xor_si512(x, _mm512_ror_epi64(y, 32));
	p = ct_x8_prim(t, h);
	_mm512_mask_storeu_epi64(&b->hash[i], m, h);
	_mm256_mask_storeu_epi32(&b->prim[i], m, _mm512_cvtepi64_epi32(p));
	/* All eight, past cnt too (a bucket of the zero key's: memory
	 * that is there): no compare per key. */
	ct_x8_addrs(t, p, ad);
	for (unsigned j = 0; j < 8; j++)
		rte_prefetch2((const void *)(uintptr_t)ad[j]);
}

/* A bucket's records and alt_bloom (ct_vec_recs), by address. */
static inline __m128i
ct_x8_recs(uint64_t addr)
{
	return ct_vec_recs((const struct ct_bucket *)(uintptr_t)addr);
}

/* Reads the records of b's keys i..i+cnt-1 into rv[i..] and prefetches
 * the alternate bucket of those whose primary's filter names them (the
 * primary again for the others: no branch); returns those keys as bits
 * i... The records are read before any key (ct_x8_match), which is what
 * makes the key compare safe (ct_vec_recs in ct_internal.h). */
static inline uint64_t
ct_x8_read(const struct ct_table *t, const struct ct_burst *b, unsigned i,
	   unsigned cnt, __m128i *rv)
{
	__mmask8 m = ct_x8_mask(cnt), want, same, wrap;
	__m512i nb = _mm512_set1_epi64(t->nbuckets);
	__m512i one = _mm512_set1_epi64(1);
	__m512i p = _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(m, &b->prim[i]));
	__m512i h = _mm512_maskz_loadu_epi64(m, &b->hash[i]);
	__m512i a, r0, r1;
	__m256i filt, bit;
	uint64_t ad[8];

	/* Lanes past cnt read bucket 0's records (p is 0 there): memory
	 * that is there, and ignored. */
	ct_x8_addrs(t, p, ad);
	r0 = ct_x8_join4(ct_x8_recs(ad[0]), ct_x8_recs(ad[1]),
			 ct_x8_recs(ad[2]), ct_x8_recs(ad[3]));
	r1 = ct_x8_join4(ct_x8_recs(ad[4]), ct_x8_recs(ad[5]),
			 ct_x8_recs(ad[6]), ct_x8_recs(ad[7]));
	_mm512_storeu_si512(&rv[i], r0);
	_mm512_storeu_si512(&rv[i + 4], r1);
	/* The filters: alt_bloom is the fourth word of each. */
	filt = _mm512_castsi512_si256(_mm512_permutex2var_epi32(r0,
		_mm512_setr_epi32(3, 7, 11, 15, 19, 23, 27, 31,
				  0, 0, 0, 0, 0, 0, 0, 0), r1));
	bit = _mm256_sllv_epi32(_mm256_set1_epi32(1), _mm256_and_si256(
		_mm512_cvtepi64_epi32(h), _mm256_set1_epi32(31)));
	want = _mm256_mask_test_epi32_mask(m, filt, bit);
	/* ct_alt_of(): from the high half; the next bucket if equal. */
	a = _mm512_srli_epi64(_mm512_mul_epu32(_mm512_srli_epi64(h, 32), nb), 32);
	same = _mm512_cmpeq_epu64_mask(a, p);
	a = _mm512_mask_add_epi64(a, same, p, one);
	wrap = _mm512_cmpeq_epu64_mask(a, nb);
	a = _mm512_mask_mov_epi64(a, wrap, _mm512_setzero_si512());
	ct_x8_addrs(t, _mm512_mask_mov_epi64(p, want, a), ad);
	for (unsigned j = 0; j < 8; j++) /* past cnt: bucket 0 */
		rte_prefetch0((const void *)(uintptr_t)ad[j]);
	return (uint64_t)want << i;
}

/* ct_bucket_find() for one key, the whole line in one compare: the record
 * of the live slot of bucket b holding key k, or 0. */
static inline uint32_t
ct_x8_find(const struct ct_bucket *b, const uint8_t *k)
{
	__m128i recs = ct_vec_recs(b);
	__m512i key = _mm512_broadcast_i32x4(_mm_loadu_si128((const void *)k));
	unsigned eq, live;

	ct_compiler_barrier(); /* keys after the records (ct_vec_recs) */
	eq = _mm512_cmpeq_epi64_mask(_mm512_load_si512((const void *)b), key);
	live = _mm_test_epi32_mask(_mm_xor_si128(recs, _mm_srli_epi32(recs, 1)),
				   _mm_set1_epi32(1));
	return (uint32_t)_mm_cvtsi128_si32(_mm_maskz_compress_epi32(
		(__mmask8)(_pext_u32(eq & (eq >> 1), 0x15) & live), recs));
}

/* Compares b's keys i..i+cnt-1 with their primary buckets, whose records
 * are rv[i..]: recs[i..] get the record of the live slot holding the key,
 * or 0; returns the hits as bits i... */
static inline uint64_t
ct_x8_match(const struct ct_table *t, const struct ct_burst *b, unsigned i,
	    unsigned cnt, const __m128i *rv, uint32_t *recs)
{
	__mmask8 m = ct_x8_mask(cnt);
	__m512i r0 = _mm512_loadu_si512(&rv[i]), r1 = _mm512_loadu_si512(&rv[i + 4]);
	__m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28,
					0, 0, 0, 0, 0, 0, 0, 0);
	uint64_t eq = 0, pair, slots, live;
	__m512i s0, s1;
	__m256i res;

	for (unsigned j = 0; j < cnt; j++) {
		const struct ct_bucket *bk = &t->buckets[b->prim[i + j]];
		__m512i key = _mm512_broadcast_i32x4(ct_x8_key(b->keys[i + j]));

		eq |= (uint64_t)_mm512_cmpeq_epi64_mask(
			_mm512_load_si512((const void *)bk), key) << (8 * j);
	}
	/* Slot s holds the key if qwords 2s and 2s+1 both match: bit 2s of
	 * its byte; then one bit a slot, four a key, as the records in rv
	 * (rec0, rec1, rec2, alt_bloom), and only stored records count (a
	 * free or vacated slot may still hold the key's bytes). */
	pair = eq & (eq >> 1) & 0x1515151515151515ull;
	slots = _pdep_u64(_pext_u64(pair, 0x1515151515151515ull), 0x77777777ull);
	live = ct_x8_live(r0) | (uint64_t)ct_x8_live(r1) << 16;
	slots &= live;
	/* At most one live slot of a bucket holds a key: OR each key's four
	 * lanes together, then one lane a key. */
	s0 = _mm512_maskz_mov_epi32((__mmask16)slots, r0);
	s1 = _mm512_maskz_mov_epi32((__mmask16)(slots >> 16), r1);
	s0 = _mm512_or_si512(s0, _mm512_shuffle_epi32(s0, _MM_PERM_BADC));
	s1 = _mm512_or_si512(s1, _mm512_shuffle_epi32(s1, _MM_PERM_BADC));
	s0 = _mm512_or_si512(s0, _mm512_shuffle_epi32(s0, _MM_PERM_CDAB));
	s1 = _mm512_or_si512(s1, _mm512_shuffle_epi32(s1, _MM_PERM_CDAB));
	res = _mm512_castsi512_si256(_mm512_permutex2var_epi32(s0, idx, s1));
	_mm256_mask_storeu_epi32(&recs[i], m, res);
	return (uint64_t)_mm256_mask_test_epi32_mask(m, res, res) << i;
}

#endif
#endif
