/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Phone tokens: strict E.164 validation, token derivation, token hex.
 * Specification: docs/privacy.md ("Tokens").
 *
 * token(number, epoch) = BLAKE2b(out = 16 bytes,
 *                                key = sub-key(epoch),
 *                                message = the E.164 string's bytes)
 * sub-key(epoch) = crypto_kdf_derive_from_key(32 bytes, subkey_id = epoch,
 *                                             ctx = "optroute", master key)
 *
 * The message is exactly the ASCII bytes of the validated number: '+'
 * followed by 1..15 digits, the first not '0'. No terminating NUL, no
 * newline, no spaces. Callers strip a line ending themselves (a trailing
 * '\n' is rejected, not silently removed, so that two spellings can never
 * map to one token by accident or to two tokens by mistake).
 *
 * Plain numbers only ever live in caller-provided buffers, and every
 * function below that takes a `char *number` wipes number[0..len) with
 * sodium_memzero() before returning, on every path, errors included.
 * The caller still owns (and must wipe) any other copy it made.
 */
#ifndef OR_TOKEN_H
#define OR_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "optroute/consent.h"
#include "optroute/hex.h"

#include "or_err.h"

#define OR_E164_MAX_DIGITS 15
/* '+', 15 digits, NUL: a buffer this big holds any valid number. */
#define OR_E164_BUFSZ (1 + OR_E164_MAX_DIGITS + 1)

struct or_keys; /* keys.h */

/* Calls sodium_init() once (thread-safe, idempotent). 0 or -EIO.
 * Every entry point of this library that needs libsodium calls it, so
 * callers need not; it is exported for programs that use libsodium
 * directly (optroutectl sealing a number). */
int or_crypto_init(void);

/* Strict E.164 check of s[0..len). Does not wipe. 0, or -EINVAL with one
 * of these messages (the number is never echoed):
 *   "number is empty", "number must start with '+'",
 *   "number has no digits after '+'", "number must not start with 0 after '+'",
 *   "too many digits (at most 15)", "invalid character at position N"
 *   (N counts from 0; a NUL byte, space, newline or second '+' count as
 *   invalid characters), "number ends with a newline (strip it first)". */
int or_e164_check(const char *s, size_t len, struct or_err *err);

/* Validates number[0..len) and derives its token under `epoch`.
 * Wipes number[0..len) on every path. 0, -EINVAL (bad number, err says
 * why) or -EIO. */
int or_token_from_number(const struct or_keys *k, uint8_t epoch,
			 char *number, size_t len, struct or_token *out,
			 struct or_err *err);

/* The token hex of include/optroute/hex.h (OR_TOKEN_HEX_LEN, the one
 * codec), with this library's error reporting. */

/* 32 lowercase hex digits + NUL into out (OR_TOKEN_HEX_BUFSZ bytes). */
void or_token_to_hex(const struct or_token *t, char out[OR_TOKEN_HEX_BUFSZ]);

/* Parses exactly 32 hex digits (either case) from s[0..len): no prefix,
 * no separators, no whitespace. 0 or -EINVAL; *out written only on
 * success. */
int or_token_from_hex(const char *s, size_t len, struct or_token *out,
		      struct or_err *err);

#endif
