/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Reference sender authentication (include/optroute/auth.h): OpenSSL's
 * AES-128 for K_sender, libsodium's SipHash-2-4 (crypto_shorthash) for the
 * tag. The dataplane has its own batched path (dataplane/auth/), checked
 * against these functions by the unit tests.
 */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "optroute/auth.h"

_Static_assert(crypto_shorthash_BYTES == OR_AUTH_TAG_LEN, "SipHash-2-4 tag");
_Static_assert(crypto_shorthash_KEYBYTES == OR_AUTH_KEY_LEN, "SipHash key");

int
or_auth_sender_key(const struct or_auth_key *k_auth,
		   const struct or_token *sender, struct or_auth_key *k_sender)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	if (ctx == NULL)
		return -EIO;
	/* One block, no padding: ECB of a single block is the block cipher
	 * itself, used as a PRF of the 128-bit token. */
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, k_auth->b, NULL) &&
	     EVP_CIPHER_CTX_set_padding(ctx, 0) &&
	     EVP_EncryptUpdate(ctx, k_sender->b, &n, sender->b,
			       sizeof(sender->b)) &&
	     n == OR_AUTH_KEY_LEN;
	/* Frees (and clears) the expanded key schedule. */
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		sodium_memzero(k_sender, sizeof(*k_sender));
		return -EIO;
	}
	return 0;
}

void
or_auth_tag(const struct or_auth_key *k_sender, const struct or_hdr2 *h,
	    uint8_t out[OR_AUTH_TAG_LEN])
{
	crypto_shorthash(out, (const unsigned char *)h, OR_HDR2_TAG_OFF,
			 k_sender->b);
}

void
or_auth_sign(const struct or_auth_key *k_sender, struct or_hdr2 *h)
{
	uint8_t tag[OR_AUTH_TAG_LEN];

	or_auth_tag(k_sender, h, tag);
	memcpy(h->auth_tag, tag, sizeof(tag));
}

int
or_auth_check(const struct or_auth_key *k_sender, const struct or_hdr2 *h)
{
	uint8_t tag[OR_AUTH_TAG_LEN];

	or_auth_tag(k_sender, h, tag);
	return sodium_memcmp(tag, h->auth_tag, sizeof(tag)) == 0;
}
