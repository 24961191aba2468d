/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Strict E.164 validation and token derivation (see token.h). Error texts
 * name the rule and a position, never the number or any digit of it.
 */
#include <errno.h>
#include <stdatomic.h>

#include <sodium.h>

#include "keys_priv.h"
#include "token.h"

int
or_crypto_init(void)
{
	static atomic_int done;

	if (atomic_load_explicit(&done, memory_order_acquire))
		return 0;
	/* sodium_init() is itself thread-safe and idempotent: 0 first time,
	 * 1 afterwards, -1 on failure. */
	if (sodium_init() < 0)
		return -EIO;
	atomic_store_explicit(&done, 1, memory_order_release);
	return 0;
}

int
or_e164_check(const char *s, size_t len, struct or_err *err)
{
	size_t i;

	if (s == NULL || len == 0) {
		or_err_set(err, "number is empty");
		return -EINVAL;
	}
	if (s[0] != '+') {
		or_err_set(err, "number must start with '+'");
		return -EINVAL;
	}
	if (len == 1) {
		or_err_set(err, "number has no digits after '+'");
		return -EINVAL;
	}
	/* Characters first: a stray byte is the more useful message even in
	 * an over-long string. */
	for (i = 1; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			continue;
		if (s[i] == '\n' && i == len - 1)
			or_err_set(err,
				   "number ends with a newline (strip it first)");
		else
			or_err_set(err, "invalid character at position %zu", i);
		return -EINVAL;
	}
	if (len - 1 > OR_E164_MAX_DIGITS) {
		or_err_set(err, "too many digits (at most %d)",
			   OR_E164_MAX_DIGITS);
		return -EINVAL;
	}
	if (s[1] == '0') {
		or_err_set(err, "number must not start with 0 after '+'");
		return -EINVAL;
	}
	return 0;
}

int
or_token_from_number(const struct or_keys *k, uint8_t epoch, char *number,
		     size_t len, struct or_token *out, struct or_err *err)
{
	int rc;

	rc = or_crypto_init();
	if (rc < 0) {
		or_err_set(err, "libsodium initialisation failed");
		goto out;
	}
	if (k == NULL || out == NULL) {
		or_err_set(err, "no keys loaded");
		rc = -EINVAL;
		goto out;
	}
	rc = or_e164_check(number, len, err);
	if (rc < 0)
		goto out;
	/* The message is exactly the validated bytes: '+' and the digits. */
	if (crypto_generichash(out->b, OR_TOKEN_LEN, (const uint8_t *)number,
			       len, or_keys_subkey(k, epoch),
			       OR_SUBKEY_LEN) != 0) {
		or_err_set(err, "token hash failed");
		rc = -EIO;
	}
out:
	if (number != NULL && len > 0)
		sodium_memzero(number, len);
	return rc;
}

void
or_token_to_hex(const struct or_token *t, char out[OR_TOKEN_HEX_BUFSZ])
{
	or_token_hex_format(t, out);
}

int
or_token_from_hex(const char *s, size_t len, struct or_token *out,
		  struct or_err *err)
{
	if (or_token_hex_parse(s, len, out) != 0) {
		or_err_set(err, "token must be exactly %d hex digits",
			   OR_TOKEN_HEX_LEN);
		return -EINVAL;
	}
	return 0;
}
