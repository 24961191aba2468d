/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Tag verification of a burst of version-2 MSGs, before any consent
 * lookup (docs/protocol.md section 5): for each header, the epoch must be
 * live, K_sender = AES-128(K_auth[epoch], sender) is recomputed and the
 * tag compared with SipHash-2-4 under it. Sixteen headers at a time where
 * the CPU has AVX-512 and VAES (the AES of four senders per instruction,
 * two independent SipHash chains of eight lanes each), one at a time
 * otherwise; both are unit tested against the reference
 * (common/auth/auth.c).
 *
 * K_sender and K_auth's round keys exist only in registers; they are never
 * stored with the frame or anywhere else, the stack included: the code is
 * laid out so that the compiler has no reason to spill them (loops over
 * lanes unrolled, no blended round keys), and the `auth` suite's "no key
 * left on the stack" reads the stack after every burst length to check
 * it. The vector registers that held them are zeroed at the end of each
 * burst and of each bounce's tag (optroute/wipe.h says why).
 */
#ifndef OR_AUTH_VERIFY_H
#define OR_AUTH_VERIFY_H

#include <stdint.h>
#include <string.h>

#include "auth_keyring.h"
#include "auth_siphash.h"
#include "optroute/wipe.h"

/* What became of a MSG before its lookup. The burst verification sets the
 * first three; the worker then the time window's and the replay filter's
 * (dataplane/worker.c worker_replay). */
enum or_auth_verdict {
	OR_AUTH_OK = 0,
	OR_AUTH_BAD_TAG,
	OR_AUTH_UNKNOWN_EPOCH,
	OR_AUTH_STALE,        /* send time off the window */
	OR_AUTH_REPLAY,       /* the replay filter saw it */
	OR_AUTH_REPLAY_FULL,  /* the replay filter could not record it */
};

#define OR_HDR2_EPOCH_OFF 5
#define OR_HDR2_SENDER_OFF 16

/* K_sender of the header at h under slot s of kr, as two SipHash key
 * words: register to register, never through a stack copy. */
static inline void
or_auth_sender_words(const struct or_keyring *kr, int s, const uint8_t *h,
		     uint64_t *k0, uint64_t *k1)
{
	__m128i k = or_aes128_enc(&kr->rk[s],
				  _mm_loadu_si128((const __m128i *)
						  (h + OR_HDR2_SENDER_OFF)));

	*k0 = (uint64_t)_mm_cvtsi128_si64(k);
	*k1 = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(k, k));
}

/* The tag of the header at h under slot s, registers left as they are:
 * for the verification loops, which wipe once per burst. */
static inline uint64_t
or_auth_tag_calc(const struct or_keyring *kr, int s, const uint8_t *h)
{
	uint64_t k0, k1;

	or_auth_sender_words(kr, s, h, &k0, &k1);
	return or_sip_hdr(k0, k1, h);
}

/* The tag the header at h must carry (its first 60 bytes as they are now)
 * under slot s, the vector registers wiped after. For signing a bounce. */
static inline uint64_t
or_auth_tag_of(const struct or_keyring *kr, int s, const uint8_t *h)
{
	uint64_t tag = or_auth_tag_calc(kr, s, h);

	or_wipe_vregs();
	return tag;
}

/* One header at a time. */
static inline void
or_auth_verify_scalar(const struct or_keyring *kr, const uint8_t *const *h,
		      unsigned n, uint8_t *verdict)
{
	for (unsigned i = 0; i < n; i++) {
		int s = or_keyring_slot(kr, h[i][OR_HDR2_EPOCH_OFF]);

		if (s < 0) {
			verdict[i] = OR_AUTH_UNKNOWN_EPOCH;
			continue;
		}
		verdict[i] = or_auth_tag_calc(kr, s, h[i]) ==
					     or_sip_load64(h[i] + OR_HDR2_TAG_OFF) ?
				     OR_AUTH_OK :
				     OR_AUTH_BAD_TAG;
	}
}

#if defined(OR_AES128_X4) && defined(OR_SIP_X8)
#define OR_AUTH_X8 1

/* The sender tokens of four headers, one per 128-bit lane. */
static inline __m512i
or_auth_tokens_x4(const uint8_t *const *h)
{
#define OR_TOK(i) _mm_loadu_si128((const __m128i *)(h[i] + OR_HDR2_SENDER_OFF))
	__m512i v = _mm512_castsi128_si512(OR_TOK(0));

	v = _mm512_inserti32x4(v, OR_TOK(1), 1);
	v = _mm512_inserti32x4(v, OR_TOK(2), 2);
	return _mm512_inserti32x4(v, OR_TOK(3), 3);
#undef OR_TOK
}

/* K_sender of eight headers (h[0..7]), lane i under live slot slot[i] (0
 * or 1), as SipHash key words: lane i of *k0 and *k1. */
static inline void
or_auth_keys_x8(const struct or_keyring *kr, const uint8_t *const *h,
		const int8_t *slot, __m512i *k0, __m512i *k1)
{
	/* Per 128-bit lane, which ring: 2 mask bits (qwords) per lane. */
	__mmask8 m1 = 0;
	__m512i a, b;
	__mmask8 lo, hi;

	for (unsigned i = 0; i < 8; i++)
		m1 |= (__mmask8)((slot[i] == 1) << i);
	a = or_auth_tokens_x4(h);
	b = or_auth_tokens_x4(h + 4);
	if (m1 == 0 || m1 == 0xff) {
		/* All eight of one epoch (the usual case: one live epoch,
		 * or a rotation's old one drained). */
		a = or_aes128_enc_x4(kr->rk4[m1 & 1], a);
		b = or_aes128_enc_x4(kr->rk4[m1 & 1], b);
	} else {
		/* Both epochs (during a rotation): each block under both
		 * keys, the right result kept. Blending the round keys
		 * instead costs one AES, but 22 blended keys do not fit in
		 * the registers beside the rest and were spilled to the
		 * stack. */
		lo = (__mmask8)((m1 & 1 ? 0x03 : 0) | (m1 & 2 ? 0x0c : 0) |
				(m1 & 4 ? 0x30 : 0) | (m1 & 8 ? 0xc0 : 0));
		hi = (__mmask8)((m1 & 16 ? 0x03 : 0) | (m1 & 32 ? 0x0c : 0) |
				(m1 & 64 ? 0x30 : 0) | (m1 & 128 ? 0xc0 : 0));
		a = _mm512_mask_blend_epi64(lo, or_aes128_enc_x4(kr->rk4[0], a),
					    or_aes128_enc_x4(kr->rk4[1], a));
		b = _mm512_mask_blend_epi64(hi, or_aes128_enc_x4(kr->rk4[0], b),
					    or_aes128_enc_x4(kr->rk4[1], b));
	}
	/* Lane i's key words: the low and high qword of block i. */
	*k0 = _mm512_permutex2var_epi64(
		a, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), b);
	*k1 = _mm512_permutex2var_epi64(
		a, _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), b);
}

/* The tags of ns (1..OR_SIP_SETS_MAX) sets of eight headers (h[0..8ns-1];
 * a short set repeats a valid header) as they are now, header i under
 * live slot slot[i] (0 or 1): what or_auth_tag_calc gives for each, lane
 * i % 8 of tag[i / 8]. */
static inline void
or_auth_tags_xn(const struct or_keyring *kr, const uint8_t *const *h,
		const int8_t *slot, const unsigned ns, __m512i *tag)
{
	__m512i k0[OR_SIP_SETS_MAX], k1[OR_SIP_SETS_MAX];
	__m512i w[OR_SIP_SETS_MAX][8];

	OR_SIP_UNROLL
	for (unsigned s = 0; s < ns; s++)
		or_auth_keys_x8(kr, h + 8 * s, slot + 8 * s, &k0[s], &k1[s]);
	OR_SIP_UNROLL
	for (unsigned s = 0; s < ns; s++)
		or_sip_words_x8(h + 8 * s, w[s]);
	or_sip_hdr_xn(k0, k1, w, ns, tag);
}

/* Verdicts of the m headers h[0..m-1], m <= 8 * ns, hashed as ns sets of
 * eight: a header without a live epoch is UNKNOWN_EPOCH, the others OK or
 * BAD_TAG. */
static inline void
or_auth_verify_xn(const struct or_keyring *kr, const uint8_t *const *h,
		  unsigned m, const unsigned ns, uint8_t *verdict)
{
	const uint8_t *g[8 * OR_SIP_SETS_MAX];
	int8_t slot[8 * OR_SIP_SETS_MAX];
	__m512i want[OR_SIP_SETS_MAX];
	unsigned live = 0, first = 0;
	uint32_t ok = 0;

	for (unsigned j = 0; j < m; j++) {
		int s = or_keyring_slot(kr, h[j][OR_HDR2_EPOCH_OFF]);

		slot[j] = (int8_t)s;
		if (s >= 0 && live++ == 0)
			first = j;
	}
	if (live == 0) {
		for (unsigned j = 0; j < m; j++)
			verdict[j] = OR_AUTH_UNKNOWN_EPOCH;
		return;
	}
	/* Lanes without a live epoch (or past the group) hash a copy of a
	 * live header; their result is ignored. */
	for (unsigned j = 0; j < 8 * ns; j++) {
		int dead = j >= m || slot[j] < 0;

		g[j] = dead ? h[first] : h[j];
		if (j >= m)
			slot[j] = -1;
	}
	{
		int8_t use[8 * OR_SIP_SETS_MAX];

		for (unsigned j = 0; j < 8 * ns; j++)
			use[j] = slot[j] < 0 ? slot[first] : slot[j];
		or_auth_tags_xn(kr, g, use, ns, want);
	}
	OR_SIP_UNROLL
	for (unsigned s = 0; s < ns; s++) {
		__m512i got = _mm512_i64gather_epi64(
			_mm512_add_epi64(_mm512_loadu_si512((const void *)(g + 8 * s)),
					 _mm512_set1_epi64(OR_HDR2_TAG_OFF)),
			NULL, 1);

		ok |= (uint32_t)_mm512_cmpeq_epi64_mask(want[s], got) << (8 * s);
	}
	for (unsigned j = 0; j < m; j++)
		verdict[j] = slot[j] < 0 ? OR_AUTH_UNKNOWN_EPOCH :
			     (ok >> j) & 1 ? OR_AUTH_OK :
					     OR_AUTH_BAD_TAG;
}
#endif

/* Groups of fewer bounces than this are signed one at a time: the eight
 * lanes cost about as much as two scalar tags (tests/bench/bench_auth.c). */
#define OR_AUTH_SIGN_X8_MIN 3

/* tag[i] = the tag of the header at h[i] as it is now under live slot
 * slot[i] (or_auth_tag_of of each, byte for byte), i < n: for signing a
 * burst's bounces together, eight at a time where the CPU can; the
 * vector registers wiped at the end. */
static inline void
or_auth_tag_burst(const struct or_keyring *kr, const uint8_t *const *h,
		  const int8_t *slot, unsigned n, uint64_t *tag)
{
	unsigned i = 0;

#ifdef OR_AUTH_X8
	for (; n - i >= OR_AUTH_SIGN_X8_MIN; i += 8) {
		const uint8_t *g[8];
		int8_t s[8];
		uint64_t t[8];
		__m512i v;
		unsigned m = n - i < 8 ? n - i : 8;

		/* Lanes past the group hash a copy of its first header. */
		for (unsigned j = 0; j < 8; j++) {
			g[j] = h[i + (j < m ? j : 0)];
			s[j] = slot[i + (j < m ? j : 0)];
		}
		or_auth_tags_xn(kr, g, s, 1, &v);
		_mm512_storeu_si512(t, v);
		memcpy(tag + i, t, m * sizeof(t[0]));
		if (m < 8) {
			i = n;
			break;
		}
	}
#endif
	for (; i < n; i++)
		tag[i] = or_auth_tag_calc(kr, slot[i], h[i]);
	or_wipe_vregs();
}

/* verdict[i] for the headers h[0..n-1]; the vector registers wiped at the
 * end (or_auth_verify_scalar alone leaves them to its caller). */
static inline void
or_auth_verify_burst(const struct or_keyring *kr, const uint8_t *const *h,
		     unsigned n, uint8_t *verdict)
{
#ifdef OR_AUTH_X8
	unsigned i = 0;

	/* Sixteen at a time while there are more than eight left, then
	 * eight. */
	for (; n - i > 8; i += 16) {
		unsigned m = n - i < 16 ? n - i : 16;

		or_auth_verify_xn(kr, h + i, m, 2, verdict + i);
		if (m < 16) {
			i = n;
			break;
		}
	}
	if (i < n)
		or_auth_verify_xn(kr, h + i, n - i, 1, verdict + i);
#else
	or_auth_verify_scalar(kr, h, n, verdict);
#endif
	or_wipe_vregs();
}

#endif
