/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What every fuzz target shares: a failed check (FZ_CHECK) prints where and
 * why, then abort()s, which libFuzzer and the replay main both report as a
 * crash with the input that caused it; and a reader that takes values off
 * the front of the fuzzer's input (zeros once it is used up, so every input
 * is a valid script).
 */
#ifndef FZ_UTIL_H
#define FZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define FZ_CHECK(cond, ...)                                                  \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "FUZZ CHECK FAILED %s:%d: %s: ",     \
				__FILE__, __LINE__, #cond);                  \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                            \
	} while (0)

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline size_t
fz_left(const struct fz_in *in)
{
	return in->n;
}

static inline uint8_t
fz_u8(struct fz_in *in)
{
	uint8_t v = 0;

	if (in->n > 0) {
		v = in->p[0];
		in->p++;
		in->n--;
	}
	return v;
}

static inline uint16_t
fz_u16(struct fz_in *in)
{
	uint16_t v = fz_u8(in);

	return (uint16_t)(v | fz_u8(in) << 8);
}

static inline uint32_t
fz_u32(struct fz_in *in)
{
	uint32_t v = fz_u16(in);

	return v | (uint32_t)fz_u16(in) << 16;
}

static inline uint64_t
fz_u64(struct fz_in *in)
{
	uint64_t v = fz_u32(in);

	return v | (uint64_t)fz_u32(in) << 32;
}

/* Copies up to n bytes (zeros past the end of the input); returns how
 * many came from the input. */
static inline size_t
fz_bytes(struct fz_in *in, void *out, size_t n)
{
	size_t k = n < in->n ? n : in->n;

	memcpy(out, in->p, k);
	memset((uint8_t *)out + k, 0, n - k);
	in->p += k;
	in->n -= k;
	return k;
}

/* The rest of the input. */
static inline const uint8_t *
fz_rest(struct fz_in *in, size_t *n)
{
	const uint8_t *p = in->p;

	*n = in->n;
	in->p += in->n;
	in->n = 0;
	return p;
}

/* 1 if buf[0..n) holds the bytes needle[0..m). */
static inline int
fz_contains(const void *buf, size_t n, const void *needle, size_t m)
{
	return m > 0 && n >= m && memmem(buf, n, needle, m) != NULL;
}

static inline int
fz_all_zero(const void *buf, size_t n)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* The independent models of number intake (token and mgmt targets). */

/* A hex digit's value (either case), or -1: the models' own, not the
 * project's codec (common/hex) they check. */
static inline int
fz_ref_hexv(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Strict E.164: '+', a first digit 1-9, 1 to 15 digits in all. */
static inline int
fz_ref_e164_ok(const uint8_t *s, size_t len)
{
	if (len < 2 || len > 16 || s[0] != '+' || s[1] == '0')
		return 0;
	for (size_t i = 1; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* The token of num under master, as docs/privacy.md spells it in BLAKE2b
 * terms: sub-key(e) = BLAKE2b-256(key = master, salt = e, personal =
 * "optroute"), token = BLAKE2b-128(key = sub-key(e), num). */
static inline void
fz_ref_token(const uint8_t master[32], uint8_t epoch, const uint8_t *num,
	     size_t len, uint8_t out[16])
{
	uint8_t salt[16] = { epoch }, personal[16] = "optroute", sub[32];

	if (crypto_generichash_blake2b_salt_personal(sub, 32, NULL, 0, master,
						     32, salt, personal) != 0 ||
	    crypto_generichash(out, 16, num, len, sub, sizeof(sub)) != 0)
		abort();
}

#endif
