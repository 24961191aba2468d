/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Sender authentication keys in control/lib/keys.c: K_auth[e] derived at
 * load (checked against a direct libsodium call and against fixed vectors
 * made with Python's hashlib.blake2b and OpenSSL's command line), its KDF
 * context apart from the token and sealing keys', its memory read-only,
 * and a sealed K_sender that only the phone's secret key opens, to exactly
 * the reference or_auth_sender_key() of the issuing epoch.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "optroute/auth.h"

#include "control/lib/keys_priv.h"
#include "or_test.h"

/* Master key 00 01 02 ... 1f. */
#define TEST_MASTER_HEX \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static char kdir[64];
static char kpath[128];
static struct or_keys *keys;
static uint8_t master[32];

static int
suite_init(void)
{
	struct or_err err;
	int fd;

	for (unsigned i = 0; i < sizeof(master); i++)
		master[i] = (uint8_t)i;
	strcpy(kdir, "/tmp/or_test_keys.XXXXXX");
	if (mkdtemp(kdir) == NULL)
		return -1;
	snprintf(kpath, sizeof(kpath), "%s/master.key", kdir);
	fd = open(kpath, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, TEST_MASTER_HEX "\n", 65) != 65) {
		close(fd);
		return -1;
	}
	close(fd);
	return or_keys_load(kpath, &keys, &err) == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
	or_keys_free(keys);
	keys = NULL;
	unlink(kpath);
	rmdir(kdir);
	return 0;
}

static void
hex16(const char *hex, uint8_t out[16])
{
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(sodium_hex2bin(out, 16, hex, 32, NULL, &len, NULL),
			      0);
	CU_ASSERT_EQUAL_FATAL(len, 16);
}

/* Every K_auth[e] is crypto_kdf_derive_from_key(16, e, "optrauth",
 * master), computed here directly; and libsodium's KDF is what the
 * documentation says (BLAKE2b, salt = LE64(e), person = context). */
static void
test_derivation(void)
{
	static const struct {
		uint8_t e;
		const char *hex;
	} vec[] = {
		/* hashlib.blake2b(b"", digest_size=16, key=bytes(range(32)),
		 *   salt=struct.pack("<Q", e), person=b"optrauth") */
		{ 0, "9544c7acccf852cb41657e0ca11d0893" },
		{ 1, "c803609f6fffe12e9be953f52bea91ef" },
		{ 255, "ec0fe7d34335c8317b054c9881f1e629" },
	};
	uint8_t want[OR_AUTH_KEY_LEN];

	for (unsigned e = 0; e < 256; e++) {
		CU_ASSERT_EQUAL(crypto_kdf_derive_from_key(want, sizeof(want), e,
							   "optrauth", master),
				0);
		CU_ASSERT_EQUAL(memcmp(or_keys_auth(keys, (uint8_t)e)->b, want,
				       sizeof(want)),
				0);
	}
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		hex16(vec[i].hex, want);
		CU_ASSERT_EQUAL(memcmp(or_keys_auth(keys, vec[i].e)->b, want,
				       sizeof(want)),
				0);
	}
}

/* "optrauth" is a context of its own: K_auth[e] is none of the token
 * sub-key, the 16-byte KDF outputs under the other contexts, or another
 * epoch's K_auth. */
static void
test_context(void)
{
	uint8_t other[OR_AUTH_KEY_LEN];

	CU_ASSERT_STRING_NOT_EQUAL(OR_AUTH_KDF_CTX, OR_KDF_CTX_TOKEN);
	CU_ASSERT_STRING_NOT_EQUAL(OR_AUTH_KDF_CTX, OR_KDF_CTX_SEAL);
	for (unsigned e = 0; e < 256; e++) {
		const uint8_t *ka = or_keys_auth(keys, (uint8_t)e)->b;

		CU_ASSERT_NOT_EQUAL(memcmp(ka, or_keys_subkey(keys, (uint8_t)e),
					   OR_AUTH_KEY_LEN),
				    0);
		crypto_kdf_derive_from_key(other, sizeof(other), e,
					   OR_KDF_CTX_TOKEN, master);
		CU_ASSERT_NOT_EQUAL(memcmp(ka, other, sizeof(other)), 0);
		crypto_kdf_derive_from_key(other, sizeof(other), e,
					   OR_KDF_CTX_SEAL, master);
		CU_ASSERT_NOT_EQUAL(memcmp(ka, other, sizeof(other)), 0);
		for (unsigned f = 0; f < e; f++)
			CU_ASSERT_NOT_EQUAL(memcmp(ka,
						   or_keys_auth(keys, (uint8_t)f)->b,
						   OR_AUTH_KEY_LEN),
					    0);
	}
}

/* The keys live in read-only memory after load: a write faults. */
static void
test_read_only(void)
{
	pid_t pid = fork();
	int status = 0;

	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		volatile uint8_t *b = (uint8_t *)or_keys_auth(keys, 3)->b;

		signal(SIGSEGV, SIG_DFL);
		b[0] ^= 1;
		_exit(0);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	/* Killed by the fault (or, under ASan, its report's exit 1). */
	CU_ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A sealed K_sender opens with the phone's secret key only, to the
 * reference or_auth_sender_key() under K_auth[e] computed here. */
static void
test_seal(void)
{
	static const uint8_t epochs[] = { 0, 1, 7, 255 };
	uint8_t pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
	uint8_t pk2[crypto_box_PUBLICKEYBYTES], sk2[crypto_box_SECRETKEYBYTES];
	uint8_t sealed[OR_SEALED_KEY_LEN], sealed2[OR_SEALED_KEY_LEN];
	uint8_t opened[OR_AUTH_KEY_LEN];
	struct or_auth_key ka, ks;
	struct or_token t;

	CU_ASSERT_EQUAL(OR_SEALED_KEY_LEN, 64);
	crypto_box_keypair(pk, sk);
	crypto_box_keypair(pk2, sk2);
	for (size_t i = 0; i < sizeof(epochs); i++) {
		randombytes_buf(t.b, sizeof(t.b));
		CU_ASSERT_EQUAL_FATAL(or_keys_seal_sender_key(keys, epochs[i], &t,
							      pk, sealed),
				      0);
		CU_ASSERT_EQUAL_FATAL(crypto_box_seal_open(opened, sealed,
							   sizeof(sealed), pk,
							   sk),
				      0);
		crypto_kdf_derive_from_key(ka.b, sizeof(ka.b), epochs[i],
					   "optrauth", master);
		CU_ASSERT_EQUAL(or_auth_sender_key(&ka, &t, &ks), 0);
		CU_ASSERT_EQUAL(memcmp(opened, ks.b, sizeof(opened)), 0);
		/* Not under another epoch's key, nor openable by another
		 * phone; a new seal is a new ciphertext of the same key. */
		crypto_kdf_derive_from_key(ka.b, sizeof(ka.b),
					   (uint8_t)(epochs[i] + 1), "optrauth",
					   master);
		CU_ASSERT_EQUAL(or_auth_sender_key(&ka, &t, &ks), 0);
		CU_ASSERT_NOT_EQUAL(memcmp(opened, ks.b, sizeof(opened)), 0);
		CU_ASSERT_NOT_EQUAL(crypto_box_seal_open(opened, sealed,
							 sizeof(sealed), pk2,
							 sk2),
				    0);
		CU_ASSERT_EQUAL(or_keys_seal_sender_key(keys, epochs[i], &t, pk,
							sealed2),
				0);
		CU_ASSERT_NOT_EQUAL(memcmp(sealed, sealed2, sizeof(sealed)), 0);
	}
}

/* K_sender of a fixed token, against OpenSSL's command line:
 * printf '\x00..\x0f' | openssl enc -aes-128-ecb -K <K_auth[0]> -nopad */
static void
test_seal_vector(void)
{
	uint8_t pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
	uint8_t sealed[OR_SEALED_KEY_LEN], opened[OR_AUTH_KEY_LEN], want[16];
	struct or_token t;

	for (unsigned i = 0; i < sizeof(t.b); i++)
		t.b[i] = (uint8_t)i;
	hex16("55f16d2a4ceae7bb9e443e911f37599b", want);
	crypto_box_keypair(pk, sk);
	CU_ASSERT_EQUAL_FATAL(or_keys_seal_sender_key(keys, 0, &t, pk, sealed),
			      0);
	CU_ASSERT_EQUAL_FATAL(crypto_box_seal_open(opened, sealed,
						   sizeof(sealed), pk, sk),
			      0);
	CU_ASSERT_EQUAL(memcmp(opened, want, sizeof(want)), 0);
}

/* A public key libsodium cannot seal to (low order) is refused. */
static void
test_seal_bad_pk(void)
{
	uint8_t zero[OR_SEAL_PK_LEN] = { 0 }, sealed[OR_SEALED_KEY_LEN];
	struct or_token t = { { 1 } };

	CU_ASSERT_EQUAL(or_keys_seal_sender_key(keys, 0, &t, zero, sealed),
			-EINVAL);
}

static void
test_base64(void)
{
	uint8_t pk[32], out[33];
	char b64[64];
	size_t n = 0;

	randombytes_buf(pk, sizeof(pk));
	pk[0] = 0xfb; /* '+' or '-' and '/' or '_' in the encodings */
	pk[1] = 0xff;
	sodium_bin2base64(b64, sizeof(b64), pk, sizeof(pk),
			  sodium_base64_VARIANT_ORIGINAL);
	CU_ASSERT_EQUAL(strlen(b64), 44);
	CU_ASSERT_EQUAL(or_base64_decode(b64, 44, out, sizeof(out), &n), 0);
	CU_ASSERT_EQUAL(n, 32);
	CU_ASSERT_EQUAL(memcmp(out, pk, 32), 0);
	/* no padding */
	CU_ASSERT_EQUAL(or_base64_decode(b64, 43, out, sizeof(out), &n), 0);
	CU_ASSERT_EQUAL(n, 32);
	sodium_bin2base64(b64, sizeof(b64), pk, sizeof(pk),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	CU_ASSERT_EQUAL(or_base64_decode(b64, strlen(b64), out, sizeof(out), &n),
			0);
	CU_ASSERT_EQUAL(memcmp(out, pk, 32), 0);
	/* too long for the buffer, garbage, trailing bytes */
	CU_ASSERT_EQUAL(or_base64_decode(b64, strlen(b64), out, 31, &n),
			-EINVAL);
	CU_ASSERT_EQUAL(or_base64_decode("%%%%", 4, out, sizeof(out), &n),
			-EINVAL);
	CU_ASSERT_EQUAL(or_base64_decode("AAAA\n", 5, out, sizeof(out), &n),
			-EINVAL);
	/* Bytes outside the alphabet that libsodium 1.0.18 decodes anyway
	 * (tests/fuzz/findings/token-T1-base64-high-bytes). */
	CU_ASSERT_EQUAL(or_base64_decode("AAA\xff", 4, out, sizeof(out), &n),
			-EINVAL);
	CU_ASSERT_EQUAL(or_base64_decode("\x80" "AAA", 4, out, sizeof(out), &n),
			-EINVAL);
}

static CU_TestInfo keys_tests[] = {
	{ "K_auth derivation", test_derivation },
	{ "K_auth context apart", test_context },
	{ "keys read-only after load", test_read_only },
	{ "sealed K_sender", test_seal },
	{ "sealed K_sender vector", test_seal_vector },
	{ "sealing to a bad public key", test_seal_bad_pk },
	{ "base64 decoding", test_base64 },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("keys", suite_init, suite_clean, keys_tests)
