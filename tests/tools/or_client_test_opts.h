/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-client send's test-only options that spoil a signed version-2
 * frame after the fact (tests/tools/optroute-client/send.c):
 *
 *   --tag HEX               these 8 bytes as the tag instead of the
 *                           computed one: a tag copied from another MSG
 *                           (another sender's, seen on the wire);
 *   --flip-byte OFF[:MASK]  the UDP payload's byte OFF xor MASK (default
 *                           0x01), after signing: a header field changed
 *                           in flight. The tag's own bytes are refused
 *                           (--tag and --forge-tag are for those).
 *
 * Header-only (static inline) so that tests/unit/test_client_opts.c checks
 * the very parsing the client runs. Numbers are decimal or 0x-hex; a
 * leading 0 is not octal here (strtoull's base 0 would read "040" as 32,
 * a surprise when naming a header offset).
 */
#ifndef OR_CLIENT_TEST_OPTS_H
#define OR_CLIENT_TEST_OPTS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "optroute/auth.h"
#include "optroute/proto.h"
#include "or_client_msg.h"

/* How many --flip-byte a run takes. */
#define OR_CLI_MAX_FLIPS 8u

struct or_cli_flip {
	uint16_t off; /* in the UDP payload: header byte, or payload byte */
	uint8_t mask; /* xor'ed into it, 1..255 */
};

/* Decimal, or hex after 0x/0X, digits only, at most max. 0 or -EINVAL. */
static inline int
or_cli_num_parse(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	size_t i = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return -EINVAL;
	for (; i < n; i++) {
		unsigned d;

		if (s[i] >= '0' && s[i] <= '9')
			d = (unsigned)(s[i] - '0');
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = (unsigned)(s[i] - 'a' + 10);
		else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
			d = (unsigned)(s[i] - 'A' + 10);
		else
			return -EINVAL;
		if (v > (max - d) / base)
			return -EINVAL;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

/* --tag: exactly 2 * OR_AUTH_TAG_LEN hex digits, in wire order (as
 * optroute-client prints a tag). 0 or -EINVAL. */
static inline int
or_cli_tag_parse(const char *hex, uint8_t tag[OR_AUTH_TAG_LEN])
{
	size_t n;

	if (strlen(hex) != 2 * OR_AUTH_TAG_LEN)
		return -EINVAL;
	if (or_cli_hex_parse(hex, tag, OR_AUTH_TAG_LEN, &n) != 0 ||
	    n != OR_AUTH_TAG_LEN)
		return -EINVAL;
	return 0;
}

/* --flip-byte "OFF" or "OFF:MASK" into *f. 0; -EINVAL bad syntax or a
 * mask of 0 (it would change nothing); -ERANGE an offset in the tag
 * (OR_HDR2_TAG_OFF..OR_HDR_LEN-1) or past the largest MSG. Whether OFF
 * is inside this run's datagram is or_cli_flip_fits()'s to say, once the
 * payload is known. */
static inline int
or_cli_flip_parse(const char *s, struct or_cli_flip *f)
{
	const char *colon = strchr(s, ':');
	size_t on = colon != NULL ? (size_t)(colon - s) : strlen(s);
	uint64_t off, mask = 0x01;

	if (or_cli_num_parse(s, on, UINT16_MAX, &off) != 0)
		return -EINVAL;
	if (colon != NULL &&
	    (or_cli_num_parse(colon + 1, strlen(colon + 1), UINT8_MAX,
			      &mask) != 0 ||
	     mask == 0))
		return -EINVAL;
	if ((off >= OR_HDR2_TAG_OFF && off < OR_HDR_LEN) ||
	    off >= OR_HDR_LEN + OR_CLI_MAX_PAYLOAD)
		return -ERANGE;
	f->off = (uint16_t)off;
	f->mask = (uint8_t)mask;
	return 0;
}

/* 1 if f's byte is inside a datagram of len bytes. */
static inline int
or_cli_flip_fits(const struct or_cli_flip *f, size_t len)
{
	return f->off < len;
}

/* Applies the flips to the datagram buf (each fits). */
static inline void
or_cli_flip_apply(uint8_t *buf, const struct or_cli_flip *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		buf[f[i].off] ^= f[i].mask;
}

#endif
