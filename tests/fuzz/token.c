/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Fuzz target "token": number, hex token and sealed number intake
 * (control/lib/token.c, control/lib/keys.c), checked against an
 * independent statement of docs/privacy.md:
 *  - or_e164_check agrees with a strict E.164 rule written here ('+', 1..15
 *    digits, the first not 0, nothing else);
 *  - a token is BLAKE2b-128 of the number's bytes keyed with the sub-key,
 *    itself BLAKE2b-256 keyed with the master key (salt LE64(epoch),
 *    personal "optroute"), computed here with crypto_generichash_blake2b_
 *    salt_personal, not crypto_kdf;
 *  - the caller's number buffer is all zero afterwards, on every path;
 *  - error texts never hold a run of four digits of the input;
 *  - a hex token is accepted iff it is exactly 32 hex digits, and means
 *    those bytes;
 *  - a sealed number (sealed here to the public key derived here from the
 *    master key) opens to the token of its plaintext, and base64 of any
 *    variant (standard or URL-safe, padding or none) decodes iff a decoder
 *    written here accepts it, to the same bytes.
 *
 * Input: mode byte, epoch byte, then the subject bytes (mode below).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "control/lib/keys.h"
#include "control/lib/token.h"
#include "fz_util.h"

static struct or_keys *fz_keys;
static uint8_t fz_master[OR_MASTER_KEY_LEN];
static uint8_t fz_pk[crypto_box_PUBLICKEYBYTES];

static void
ref_token(uint8_t epoch, const uint8_t *num, size_t len, uint8_t out[16])
{
	fz_ref_token(fz_master, epoch, num, len, out);
}

/* No run of four digits of the input appears in msg. */
static void
check_no_digits(const char *msg, const uint8_t *in, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i++) {
		if (in[i] < '0' || in[i] > '9' || in[i + 1] < '0' ||
		    in[i + 1] > '9' || in[i + 2] < '0' || in[i + 2] > '9' ||
		    in[i + 3] < '0' || in[i + 3] > '9')
			continue;
		FZ_CHECK(!fz_contains(msg, strlen(msg), in + i, 4),
			 "error text '%s' quotes digits of the input", msg);
	}
}

/* The base64 docs/privacy.md and keys.h describe: one alphabet (standard
 * or URL-safe), padding exact or absent, no other byte, no non-zero
 * trailing bits. Returns the decoded length, or -1. */
static long
ref_b64(const uint8_t *s, size_t len, uint8_t *out, size_t cap)
{
	static const char *const alpha[2] = {
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
	};

	for (int a = 0; a < 2; a++) {
		size_t body = len, pad = 0, n = 0;
		uint32_t acc = 0;
		unsigned bits = 0;
		int ok = 1;

		while (body > 0 && s[body - 1] == '=') {
			body--;
			pad++;
		}
		if (body % 4 == 1 || pad > 2 ||
		    (pad != 0 && pad != (4 - body % 4) % 4) ||
		    (pad != 0 && body % 4 == 0))
			continue;
		for (size_t i = 0; i < body && ok; i++) {
			const char *p = s[i] != 0 ? strchr(alpha[a], s[i]) : NULL;

			if (p == NULL) {
				ok = 0;
				break;
			}
			acc = acc << 6 | (uint32_t)(p - alpha[a]);
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (n >= cap) {
					ok = 0;
					break;
				}
				out[n++] = (uint8_t)(acc >> bits);
				acc &= (1u << bits) - 1;
			}
		}
		if (!ok || acc != 0)
			continue;
		return (long)n;
	}
	return -1;
}

static void
check_number(uint8_t epoch, const uint8_t *data, size_t len)
{
	char *buf = malloc(len ? len : 1);
	struct or_err err = { "" };
	struct or_token t;
	uint8_t want[16];
	int ok = fz_ref_e164_ok(data, len), rc;

	memcpy(buf, data, len);
	rc = or_token_from_number(fz_keys, epoch, buf, len, &t, &err);
	FZ_CHECK(fz_all_zero(buf, len), "number buffer not wiped (rc %d)", rc);
	free(buf);
	FZ_CHECK((rc == 0) == ok, "accepted %d, E.164 says %d (%s)", rc == 0,
		 ok, err.msg);
	FZ_CHECK(rc == 0 || rc == -EINVAL, "rc %d", rc);
	if (rc == 0) {
		ref_token(epoch, data, len, want);
		FZ_CHECK(memcmp(t.b, want, 16) == 0, "token differs");
	} else {
		FZ_CHECK(err.msg[0] != '\0', "no error text");
		check_no_digits(err.msg, data, len);
	}
	/* The checker alone agrees and does not wipe. */
	buf = malloc(len ? len : 1);
	memcpy(buf, data, len);
	rc = or_e164_check(buf, len, &err);
	FZ_CHECK((rc == 0) == ok, "or_e164_check %d, E.164 says %d", rc, ok);
	FZ_CHECK(memcmp(buf, data, len) == 0, "or_e164_check changed input");
	free(buf);
}

static void
check_hex(const uint8_t *data, size_t len)
{
	char *buf = malloc(len ? len : 1);
	struct or_err err = { "" };
	struct or_token t;
	char back[OR_TOKEN_HEX_BUFSZ];
	int ok = len == 32, rc;

	for (size_t i = 0; i < len && ok; i++)
		ok = fz_ref_hexv(data[i]) >= 0;
	memcpy(buf, data, len);
	rc = or_token_from_hex(buf, len, &t, &err);
	free(buf);
	FZ_CHECK((rc == 0) == ok, "hex accepted %d, expected %d", rc == 0, ok);
	if (rc != 0) {
		check_no_digits(err.msg, data, len);
		return;
	}
	for (int i = 0; i < 16; i++)
		FZ_CHECK(t.b[i] == (fz_ref_hexv(data[2 * i]) << 4 |
				    fz_ref_hexv(data[2 * i + 1])),
			 "byte %d", i);
	or_token_to_hex(&t, back);
	FZ_CHECK(strlen(back) == 32, "hex length");
	for (int i = 0; i < 32; i++)
		FZ_CHECK(fz_ref_hexv((uint8_t)back[i]) == fz_ref_hexv(data[i]) &&
				 !(back[i] >= 'A' && back[i] <= 'F'),
			 "round trip at %d", i);
}

/* The sealed blob sealed[0..len): or_token_from_sealed must give the
 * token of plain[0..plain_len) when it is E.164, an error otherwise
 * (plain NULL: not sealed by us, must not open). */
static void
check_sealed(uint8_t epoch, const uint8_t *sealed, size_t len,
	     const uint8_t *plain, size_t plain_len)
{
	struct or_err err = { "" };
	struct or_token t;
	uint8_t want[16];
	int rc = or_token_from_sealed(fz_keys, epoch, sealed, len, &t, &err);
	int ok = plain != NULL && len <= OR_SEALED_MAX &&
		 fz_ref_e164_ok(plain, plain_len);

	FZ_CHECK((rc == 0) == ok, "sealed accepted %d, expected %d (%s)",
		 rc == 0, ok, err.msg);
	if (rc == 0) {
		ref_token(epoch, plain, plain_len, want);
		FZ_CHECK(memcmp(t.b, want, 16) == 0, "sealed token differs");
	} else if (plain != NULL) {
		check_no_digits(err.msg, plain, plain_len);
	}
}

static void
check_b64(uint8_t epoch, const uint8_t *s, size_t len, const uint8_t *plain,
	  size_t plain_len)
{
	uint8_t ref[OR_SEALED_MAX], got[OR_SEALED_MAX];
	long rl = ref_b64(s, len, ref, sizeof(ref));
	size_t gl = 0;
	int rc = or_base64_decode((const char *)s, len, got, sizeof(got), &gl);
	struct or_err err = { "" };
	struct or_token t;
	FZ_CHECK((rc == 0) == (rl >= 0), "base64 accepted %d, expected %d",
		 rc == 0, rl >= 0);
	if (rc == 0)
		FZ_CHECK((long)gl == rl && memcmp(got, ref, gl) == 0,
			 "base64 bytes differ (%zu vs %ld)", gl, rl);
	rc = or_token_from_sealed_b64(fz_keys, epoch, (const char *)s, len, &t,
				      &err);
	if (rl < 0 || len == 0 || len >= OR_SEALED_B64_MAX) {
		FZ_CHECK(rc == -EINVAL, "bad base64 gave %d", rc);
		return;
	}
	/* Well-formed base64: the same as the binary intake. */
	{
		struct or_err e2 = { "" };
		struct or_token t2;
		int r2 = or_token_from_sealed(fz_keys, epoch, ref, (size_t)rl,
					      &t2, &e2);

		FZ_CHECK(rc == r2, "b64 %d, binary %d", rc, r2);
		if (rc == 0)
			FZ_CHECK(memcmp(t.b, t2.b, 16) == 0, "b64 token");
	}
	if (plain != NULL)
		check_sealed(epoch, ref, (size_t)rl, plain, plain_len);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/or_fuzz_token.XXXXXX", path[64], hex[65];
	static const uint8_t vec_num[] = "+4915112345678";
	static const uint8_t vec_tok[16] = {
		0x40, 0x7a, 0xe3, 0x93, 0xef, 0x3c, 0xcf, 0x1c,
		0xf9, 0x50, 0xc8, 0x86, 0x25, 0xad, 0xff, 0x7f,
	};
	uint8_t seed[32], sk[32], pk[32], t[16];
	struct or_err err = { "" };
	FILE *f;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		abort();
	/* The documented test vector's master key, 00 01 .. 1f. */
	for (int i = 0; i < OR_MASTER_KEY_LEN; i++)
		fz_master[i] = (uint8_t)i;
	ref_token(0, vec_num, sizeof(vec_num) - 1, t);
	FZ_CHECK(memcmp(t, vec_tok, 16) == 0, "reference derivation");
	sodium_bin2hex(hex, sizeof(hex), fz_master, sizeof(fz_master));
	snprintf(path, sizeof(path), "%s/master.key", dir);
	f = fopen(path, "w");
	if (f == NULL || fprintf(f, "%s\n", hex) < 0 || fclose(f) != 0 ||
	    chmod(path, 0600) != 0)
		abort();
	FZ_CHECK(or_keys_load(path, &fz_keys, &err) == 0, "%s", err.msg);
	unlink(path);
	rmdir(dir);
	/* The sealing key pair from docs/privacy.md. */
	{
		uint8_t salt[16] = { 0 }, personal[16] = "optrseal";

		if (crypto_generichash_blake2b_salt_personal(
			    seed, sizeof(seed), NULL, 0, fz_master,
			    sizeof(fz_master), salt, personal) != 0)
			abort();
	}
	crypto_box_seed_keypair(pk, sk, seed);
	or_keys_pubkey(fz_keys, fz_pk);
	FZ_CHECK(memcmp(pk, fz_pk, 32) == 0, "sealing public key");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t mode = fz_u8(&in), epoch = fz_u8(&in);
	const uint8_t *p;
	size_t n;

	if (size > 4096)
		return 0;
	p = fz_rest(&in, &n);
	switch (mode % 6) {
	case 0:
		check_number(epoch, p, n);
		break;
	case 1:
		check_hex(p, n);
		break;
	case 2: /* any blob: sealed by nobody, must never open */
		check_sealed(epoch, p, n, NULL, 0);
		check_b64(epoch, p, n, NULL, 0);
		break;
	case 3:
	case 4: { /* p sealed to the appliance here, then taken in */
		uint8_t sealed[256 + crypto_box_SEALBYTES];
		char b64[512];
		int variant = (int[]){ sodium_base64_VARIANT_ORIGINAL,
				       sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
				       sodium_base64_VARIANT_URLSAFE,
				       sodium_base64_VARIANT_URLSAFE_NO_PADDING }
			[(mode >> 3) & 3];

		if (n > 256)
			n = 256;
		crypto_box_seal(sealed, p, n, fz_pk);
		if (mode % 6 == 3) {
			check_sealed(epoch, sealed, n + crypto_box_SEALBYTES, p,
				     n);
			/* One flipped bit: must not open. */
			sealed[(epoch * 7u) % (n + crypto_box_SEALBYTES)] ^=
				(uint8_t)(1u << (epoch & 7));
			check_sealed(epoch, sealed, n + crypto_box_SEALBYTES,
				     NULL, 0);
		} else {
			sodium_bin2base64(b64, sizeof(b64), sealed,
					  n + crypto_box_SEALBYTES, variant);
			check_b64(epoch, (const uint8_t *)b64, strlen(b64), p,
				  n);
		}
		break;
	}
	default: /* raw text as base64 */
		check_b64(epoch, p, n, NULL, 0);
		break;
	}
	return 0;
}
