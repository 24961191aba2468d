/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Sender authentication of the wire protocol, version 2 (specification:
 * docs/protocol.md sections 2 and 5). Shared by everything that makes or
 * checks a tag: optroute-control (issues K_sender), optroute-client (signs
 * MSGs, verifies bounces), the dataplane's fast path (dataplane/auth/,
 * tested against these functions) and the tests.
 *
 * Keys, per auth epoch e (the header's key_epoch byte, 0..255):
 *   K_auth[e]  = crypto_kdf_derive_from_key(16, e, "optrauth", master)
 *                (control/lib/keys.c; only there is the master key)
 *   K_sender   = AES-128-Encrypt(key = K_auth[e], block = sender token)
 *   tag        = SipHash-2-4(key = K_sender, the first 60 header bytes),
 *                the 8 output bytes as crypto_shorthash() writes them
 *                (the 64-bit result, little-endian)
 * K_auth never leaves the appliance; each phone gets only its own K_sender
 * (sealed to its X25519 key). The dataplane stores no per-sender key: it
 * recomputes K_sender per packet, one AES block.
 *
 * These are the reference functions: clear and portable (OpenSSL's AES,
 * libsodium's SipHash), not fast. Every key buffer a caller passes stays the
 * caller's to wipe; these functions leave no copy of a key behind.
 */
#ifndef OPTROUTE_AUTH_H
#define OPTROUTE_AUTH_H

#include <stdint.h>

#include "optroute/consent.h"
#include "optroute/proto.h"

#define OR_AUTH_KEY_LEN 16              /* K_auth[e], K_sender */
#define OR_AUTH_KDF_CTX "optrauth"      /* 8 bytes: crypto_kdf context */

struct or_auth_key {
	uint8_t b[OR_AUTH_KEY_LEN];
};

/* K_sender = AES-128(K_auth, token). 0, or -EIO if the AES library
 * fails (it does not for valid arguments). */
int or_auth_sender_key(const struct or_auth_key *k_auth,
		       const struct or_token *sender,
		       struct or_auth_key *k_sender);

/* The tag of a version-2 header under k_sender: SipHash-2-4 over bytes
 * [0, OR_HDR2_TAG_OFF) of h, written to out (OR_AUTH_TAG_LEN bytes). */
void or_auth_tag(const struct or_auth_key *k_sender, const struct or_hdr2 *h,
		 uint8_t out[OR_AUTH_TAG_LEN]);

/* Computes and stores h->auth_tag. */
void or_auth_sign(const struct or_auth_key *k_sender, struct or_hdr2 *h);

/* 1 if h->auth_tag is the tag of h under k_sender, else 0 (constant
 * time in the tag bytes). */
int or_auth_check(const struct or_auth_key *k_sender, const struct or_hdr2 *h);

#endif
