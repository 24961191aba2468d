/* SPDX-License-Identifier: BSD-3-Clause
 *
 * or_authkeys: TEST-ONLY helper for tests/integration/cp_keys.sh. It prints
 * secret keys, so it has no place on an appliance.
 *
 *   or_authkeys auth KEYFILE EPOCH         K_auth[EPOCH], hex
 *   or_authkeys sender KEYFILE EPOCH TOKEN K_sender of TOKEN (32 hex), hex
 *   or_authkeys keypair                    a phone's X25519 keypair:
 *                                          "PK_BASE64 SK_HEX"
 *   or_authkeys open SK_HEX SEALED_B64     opens a sealed_key reply, hex
 *
 * The keys are computed here independently of control/lib/keys.c, straight
 * from the definitions (include/optroute/auth.h): K_auth[e] =
 * crypto_kdf_derive_from_key(16, e, "optrauth", master) with the master
 * read from the key file, K_sender = or_auth_sender_key() (the reference).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "optroute/auth.h"

static int
usage(void)
{
	fprintf(stderr,
		"usage: or_authkeys auth KEYFILE EPOCH\n"
		"       or_authkeys sender KEYFILE EPOCH TOKEN\n"
		"       or_authkeys keypair\n"
		"       or_authkeys open SK_HEX SEALED_B64\n");
	return 2;
}

static void
print_hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	putchar('\n');
}

static int
hex_exact(const char *hex, uint8_t *out, size_t n)
{
	size_t len;

	return sodium_hex2bin(out, n, hex, strlen(hex), NULL, &len, NULL) ==
			       0 &&
		       len == n && strlen(hex) == 2 * n
		       ? 0
		       : -1;
}

/* K_auth[epoch] from the master key file (64 hex digits). */
static int
k_auth(const char *path, const char *epoch_s, struct or_auth_key *k)
{
	uint8_t master[crypto_kdf_KEYBYTES];
	char hex[2 * crypto_kdf_KEYBYTES + 2] = "";
	char *end;
	long e = strtol(epoch_s, &end, 10);
	FILE *f = fopen(path, "r");

	if (f == NULL || fgets(hex, sizeof(hex), f) == NULL || *end != '\0' ||
	    e < 0 || e > 255) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	hex[strcspn(hex, "\n")] = '\0';
	if (hex_exact(hex, master, sizeof(master)) < 0)
		return -1;
	crypto_kdf_derive_from_key(k->b, sizeof(k->b), (uint64_t)e,
				   OR_AUTH_KDF_CTX, master);
	sodium_memzero(master, sizeof(master));
	return 0;
}

int
main(int argc, char **argv)
{
	struct or_auth_key ka, ks;

	if (sodium_init() < 0 || argc < 2)
		return usage();
	if (strcmp(argv[1], "auth") == 0 && argc == 4) {
		if (k_auth(argv[2], argv[3], &ka) < 0)
			return usage();
		print_hex(ka.b, sizeof(ka.b));
		return 0;
	}
	if (strcmp(argv[1], "sender") == 0 && argc == 5) {
		struct or_token t;

		if (k_auth(argv[2], argv[3], &ka) < 0 ||
		    hex_exact(argv[4], t.b, sizeof(t.b)) < 0 ||
		    or_auth_sender_key(&ka, &t, &ks) < 0)
			return usage();
		print_hex(ks.b, sizeof(ks.b));
		return 0;
	}
	if (strcmp(argv[1], "keypair") == 0 && argc == 2) {
		uint8_t pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
		char b64[sodium_base64_ENCODED_LEN(sizeof(pk),
						   sodium_base64_VARIANT_ORIGINAL)];

		crypto_box_keypair(pk, sk);
		sodium_bin2base64(b64, sizeof(b64), pk, sizeof(pk),
				  sodium_base64_VARIANT_ORIGINAL);
		printf("%s ", b64);
		print_hex(sk, sizeof(sk));
		return 0;
	}
	if (strcmp(argv[1], "open") == 0 && argc == 4) {
		uint8_t pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
		uint8_t sealed[sizeof(ks.b) + crypto_box_SEALBYTES];
		size_t len;

		if (hex_exact(argv[2], sk, sizeof(sk)) < 0 ||
		    sodium_base642bin(sealed, sizeof(sealed), argv[3],
				      strlen(argv[3]), NULL, &len, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    len != sizeof(sealed))
			return usage();
		crypto_scalarmult_base(pk, sk);
		if (crypto_box_seal_open(ks.b, sealed, len, pk, sk) != 0) {
			fprintf(stderr, "or_authkeys: cannot open the sealed key\n");
			return 1;
		}
		print_hex(ks.b, sizeof(ks.b));
		return 0;
	}
	return usage();
}
