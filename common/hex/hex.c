/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Hex codec (include/optroute/hex.h).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "optroute/hex.h"

int
or_hex_decode(const char *s, size_t len, uint8_t *out, size_t cap,
	      size_t *out_len)
{
	const char *end = NULL;
	size_t n = 0;

	if (s == NULL || len % 2 != 0)
		return -EINVAL;
	if (len / 2 > cap)
		return -ERANGE;
	/* With hex_end given, sodium stops at the first character that is
	 * not a hex digit instead of failing: anything left over is an
	 * error here. No ignore set: blanks and colons are refused. */
	if (sodium_hex2bin(out, cap, s, len, NULL, &n, &end) != 0 ||
	    end != s + len || n != len / 2)
		return -EINVAL;
	*out_len = n;
	return 0;
}

void
or_hex_encode(const uint8_t *b, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, b, n);
}

int
or_token_hex_parse(const char *s, size_t len, struct or_token *t)
{
	struct or_token tmp;
	size_t n;

	if (len != OR_TOKEN_HEX_LEN ||
	    or_hex_decode(s, len, tmp.b, sizeof(tmp.b), &n) != 0)
		return -EINVAL;
	*t = tmp;
	return 0;
}

void
or_token_hex_format(const struct or_token *t, char out[OR_TOKEN_HEX_BUFSZ])
{
	or_hex_encode(t->b, OR_TOKEN_LEN, out);
}
