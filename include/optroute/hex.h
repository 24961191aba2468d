/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The project's one hex codec (common/hex/hex.c): tokens on the command
 * lines, in management replies and in the tools, keys and payloads in the
 * reference client. Strict on input: an even number of hex digits, either
 * case, and nothing else (no "0x", no separators, no blanks); lowercase on
 * output. Decoding runs in constant time over the digits (libsodium), so it
 * may carry keys.
 */
#ifndef OPTROUTE_HEX_H
#define OPTROUTE_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "optroute/consent.h"

/* Hex form of a token: 32 digits, and the NUL of a string. */
#define OR_TOKEN_HEX_LEN (2 * OR_TOKEN_LEN)
#define OR_TOKEN_HEX_BUFSZ (OR_TOKEN_HEX_LEN + 1)

/* Decodes s[0..len) into out (at most cap bytes). 0 and *out_len, -EINVAL
 * (odd length, or a character that is not a hex digit) or -ERANGE (more
 * than cap bytes). On an error out may have been written to. */
int or_hex_decode(const char *s, size_t len, uint8_t *out, size_t cap,
		  size_t *out_len);

/* Lowercase hex of b[0..n) and a NUL into out (2 * n + 1 bytes). */
void or_hex_encode(const uint8_t *b, size_t n, char *out);

/* Exactly OR_TOKEN_HEX_LEN digits of s[0..len) into *t, written only on
 * success. 0 or -EINVAL. */
int or_token_hex_parse(const char *s, size_t len, struct or_token *t);

/* A token as OR_TOKEN_HEX_LEN lowercase digits and a NUL. */
void or_token_hex_format(const struct or_token *t,
			 char out[OR_TOKEN_HEX_BUFSZ]);

#endif
