/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Zeroing the vector registers after key material went through them, in
 * both processes.
 *
 * Why: keys held in locked, MADV_DONTDUMP memory (the dataplane's keyring,
 * the control plane's sodium_malloc keys) pass through XMM/YMM/ZMM
 * registers when they are used or copied (AES round keys, K_sender, a
 * memcpy of K_auth into an AUTH_KEYS message), and nothing else overwrites
 * those registers for a long time on an idle thread (the upper sixteen ZMM
 * are used by almost nothing). A core (a crash, gcore) saves every
 * thread's registers, and the dynamic linker's lazy binding
 * (_dl_runtime_resolve_xsave) and every signal frame copy the whole
 * register file onto the thread's stack, which is dumped.
 * tests/integration/auth_privacy.sh found K_auth that way in a dataplane
 * worker's zmm21, in the updater's xmm10 and twice on its stack, and in
 * optroute-control's cp-channel thread's xmm2.
 *
 * Costs a VZEROALL and sixteen VPXORDs (AVX-512), or sixteen PXORs: call
 * it once per burst, per key install or per key message, after the last
 * use of the key and before any call into another library.
 */
#ifndef OR_WIPE_H
#define OR_WIPE_H

#include <immintrin.h>

static inline void
or_wipe_vregs(void)
{
#ifdef __AVX512F__
	/* ZMM16-31: no VZEROALL for these. The clobbers tell the compiler
	 * that nothing it keeps there survives. */
	__asm__ volatile(
		"vpxord %%zmm16, %%zmm16, %%zmm16\n\t"
		"vpxord %%zmm17, %%zmm17, %%zmm17\n\t"
		"vpxord %%zmm18, %%zmm18, %%zmm18\n\t"
		"vpxord %%zmm19, %%zmm19, %%zmm19\n\t"
		"vpxord %%zmm20, %%zmm20, %%zmm20\n\t"
		"vpxord %%zmm21, %%zmm21, %%zmm21\n\t"
		"vpxord %%zmm22, %%zmm22, %%zmm22\n\t"
		"vpxord %%zmm23, %%zmm23, %%zmm23\n\t"
		"vpxord %%zmm24, %%zmm24, %%zmm24\n\t"
		"vpxord %%zmm25, %%zmm25, %%zmm25\n\t"
		"vpxord %%zmm26, %%zmm26, %%zmm26\n\t"
		"vpxord %%zmm27, %%zmm27, %%zmm27\n\t"
		"vpxord %%zmm28, %%zmm28, %%zmm28\n\t"
		"vpxord %%zmm29, %%zmm29, %%zmm29\n\t"
		"vpxord %%zmm30, %%zmm30, %%zmm30\n\t"
		"vpxord %%zmm31, %%zmm31, %%zmm31"
		:
		:
		: "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21",
		  "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27",
		  "xmm28", "xmm29", "xmm30", "xmm31");
#endif
#ifdef __AVX__
	/* All of (Y/Z)MM0-15. */
	_mm256_zeroall();
#else
	__asm__ volatile(
		"pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\t"
		"pxor %%xmm2, %%xmm2\n\tpxor %%xmm3, %%xmm3\n\t"
		"pxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
		"pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\t"
		"pxor %%xmm8, %%xmm8\n\tpxor %%xmm9, %%xmm9\n\t"
		"pxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
		"pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\t"
		"pxor %%xmm14, %%xmm14\n\tpxor %%xmm15, %%xmm15"
		:
		:
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
		  "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
		  "xmm14", "xmm15");
#endif
}

#endif
