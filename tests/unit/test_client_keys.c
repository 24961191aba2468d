/* The reference client's key files (tests/tools/or_client_key.h), as
 * optroute-client keygen, open-key and send --key use them: a key pair
 * made and read back, a K_sender sealed here to its public key (as the
 * control plane answers an opt-in) opened into a key file, file modes,
 * and every malformed or exposed file refused. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "or_test.h"
#include "tests/tools/or_client_key.h"

static char kdir[] = "/tmp/or-client-keys.XXXXXX";

static void
kpath(char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", kdir, name);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	CU_ASSERT_FATAL(fclose(f) == 0);
	CU_ASSERT_FATAL(chmod(path, mode) == 0);
}

static mode_t
file_mode(const char *path)
{
	struct stat st;

	CU_ASSERT_FATAL(stat(path, &st) == 0);
	return st.st_mode & 07777;
}

static void
test_keys_roundtrip(void)
{
	char sec[PATH_MAX], key[PATH_MAX], tmp[PATH_MAX + 8];
	char err[OR_CLI_ERR_LEN];
	char b64[OR_CLI_PK_B64_LEN], sb64[200];
	struct or_cli_keypair kp, kp2, stranger;
	struct or_cli_sender_key sk = { .epoch = 7 }, sk2;
	struct or_auth_key k, opened;
	uint8_t sealed[OR_CLI_SEALED_KEY_LEN], pk[64];
	size_t pkl = 0;

	CU_ASSERT_FATAL(mkdtemp(kdir) != NULL);
	kpath(sec, "phone.secret");
	kpath(key, "phone.key");

	/* keygen: a new file, mode 0600, refused once it exists. */
	CU_ASSERT_EQUAL_FATAL(or_cli_keypair_create(sec, &kp, err), 0);
	CU_ASSERT_EQUAL(file_mode(sec), 0600);
	CU_ASSERT_EQUAL(or_cli_keypair_create(sec, &kp2, err), -EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "refusing to overwrite"));
	CU_ASSERT_EQUAL(or_cli_keypair_read(sec, &kp2, err), 0);
	CU_ASSERT_EQUAL(memcmp(&kp, &kp2, sizeof(kp)), 0);
	or_cli_pk_b64(&kp, b64);
	CU_ASSERT_EQUAL(strlen(b64), 44);
	CU_ASSERT(sodium_base642bin(pk, sizeof(pk), b64, strlen(b64), NULL,
				    &pkl, NULL,
				    sodium_base64_VARIANT_ORIGINAL) == 0);
	CU_ASSERT(pkl == sizeof(kp.pk) && memcmp(pk, kp.pk, pkl) == 0);

	/* open-key: K_sender sealed to the public key, as the control plane
	 * answers an opt-in, in either base64 alphabet. */
	randombytes_buf(k.b, sizeof(k.b));
	CU_ASSERT_FATAL(crypto_box_seal(sealed, k.b, sizeof(k.b), pk) == 0);
	sodium_bin2base64(sb64, sizeof(sb64), sealed, sizeof(sealed),
			  sodium_base64_VARIANT_ORIGINAL);
	CU_ASSERT_EQUAL(or_cli_key_open(&kp2, sb64, &opened, err), 0);
	CU_ASSERT_EQUAL(memcmp(opened.b, k.b, sizeof(k.b)), 0);
	sb64[0] = ' ';
	sodium_bin2base64(sb64 + 1, sizeof(sb64) - 2, sealed, sizeof(sealed),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	strcat(sb64, "\n");
	memset(opened.b, 0, sizeof(opened.b));
	CU_ASSERT_EQUAL(or_cli_key_open(&kp2, sb64, &opened, err), 0);
	CU_ASSERT_EQUAL(memcmp(opened.b, k.b, sizeof(k.b)), 0);
	/* Refused: corrupted, sealed to someone else, not base64, too short. */
	sealed[20] ^= 1;
	sodium_bin2base64(sb64, sizeof(sb64), sealed, sizeof(sealed),
			  sodium_base64_VARIANT_ORIGINAL);
	CU_ASSERT_EQUAL(or_cli_key_open(&kp2, sb64, &opened, err), -EBADMSG);
	crypto_box_keypair(stranger.pk, stranger.sk);
	CU_ASSERT_FATAL(crypto_box_seal(sealed, k.b, sizeof(k.b),
					stranger.pk) == 0);
	sodium_bin2base64(sb64, sizeof(sb64), sealed, sizeof(sealed),
			  sodium_base64_VARIANT_ORIGINAL);
	CU_ASSERT_EQUAL(or_cli_key_open(&kp2, sb64, &opened, err), -EBADMSG);
	CU_ASSERT_EQUAL(or_cli_key_open(&stranger, sb64, &opened, err), 0);
	CU_ASSERT_EQUAL(or_cli_key_open(&kp2, "not base64!", &opened, err),
			-EINVAL);
	CU_ASSERT_EQUAL(or_cli_key_open(&kp2, "AAAA", &opened, err), -EINVAL);

	/* The key file: written 0600, read back; replaced on a new epoch. */
	memset(sk.token.b, 0xab, OR_TOKEN_LEN);
	sk.k_sender = k;
	CU_ASSERT_EQUAL(or_cli_sender_key_write(key, &sk, err), 0);
	CU_ASSERT_EQUAL(file_mode(key), 0600);
	CU_ASSERT_EQUAL(or_cli_sender_key_read(key, &sk2, err), 0);
	CU_ASSERT(or_token_eq(&sk2.token, &sk.token) && sk2.epoch == 7 &&
		  memcmp(sk2.k_sender.b, k.b, sizeof(k.b)) == 0);
	sk.epoch = 8;
	CU_ASSERT_EQUAL(or_cli_sender_key_write(key, &sk, err), 0);
	CU_ASSERT_EQUAL(or_cli_sender_key_read(key, &sk2, err), 0);
	CU_ASSERT_EQUAL(sk2.epoch, 8);
	snprintf(tmp, sizeof(tmp), "%s.tmp", key);
	CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
	/* Readable by others: refused, with the fix in the message. */
	CU_ASSERT_FATAL(chmod(key, 0640) == 0);
	CU_ASSERT_EQUAL(or_cli_sender_key_read(key, &sk2, err), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "chmod 600"));
	kpath(tmp, "absent.key");
	CU_ASSERT_EQUAL(or_cli_sender_key_read(tmp, &sk2, err), -ENOENT);
	unlink(key);
	unlink(sec);
}

static void
test_keys_refused(void)
{
	static const char *const bad_keys[] = {
		"token ab\nepoch 1\nk_sender 000102030405060708090a0b0c0d0e0f\n",
		"token abababababababababababababababab\nepoch 1\n",
		"token abababababababababababababababab\nepoch 256\n"
		"k_sender 000102030405060708090a0b0c0d0e0f\n",
		"token abababababababababababababababab\nepoch 1\n"
		"k_sender 000102030405060708090a0b0c0d0e\n",
		"token abababababababababababababababab\nepoch 1\n"
		"k_sender 000102030405060708090a0b0c0d0e0f\nepoch 2\n",
		"token abababababababababababababababab\nepoch 1\n"
		"k_sender 000102030405060708090a0b0c0d0e0f\nk_auth 00\n",
		"token abababababababababababababababab extra\nepoch 1\n"
		"k_sender 000102030405060708090a0b0c0d0e0f\n",
		"token abababababababababababababababab\nepoch\n"
		"k_sender 000102030405060708090a0b0c0d0e0f\n",
	};
	char path[PATH_MAX], err[OR_CLI_ERR_LEN];
	struct or_cli_sender_key sk;
	struct or_cli_keypair kp, kp2;
	char text[400], pkh[65], skh[65];

	kpath(path, "k");
	/* Comments and blank lines are fine. */
	write_file(path, "# c\n\n  token abababababababababababababababab # t\n"
		   "epoch 0x10\n\tk_sender 000102030405060708090A0B0C0D0E0F\n",
		   0600);
	CU_ASSERT_EQUAL(or_cli_sender_key_read(path, &sk, err), 0);
	CU_ASSERT(sk.epoch == 16 && sk.k_sender.b[15] == 0x0f &&
		  sk.token.b[0] == 0xab);
	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		write_file(path, bad_keys[i], 0600);
		CU_ASSERT_EQUAL(or_cli_sender_key_read(path, &sk, err), -EINVAL);
	}
	/* A key pair whose public key is not its secret key's. */
	crypto_box_keypair(kp.pk, kp.sk);
	crypto_box_keypair(kp2.pk, kp2.sk);
	or_cli_hex_format(kp2.pk, 32, pkh);
	or_cli_hex_format(kp.sk, 32, skh);
	snprintf(text, sizeof(text), "public %s\nsecret %s\n", pkh, skh);
	write_file(path, text, 0600);
	CU_ASSERT_EQUAL(or_cli_keypair_read(path, &kp2, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not the secret key's"));
	or_cli_hex_format(kp.pk, 32, pkh);
	snprintf(text, sizeof(text), "public %s\nsecret %s\n", pkh, skh);
	write_file(path, text, 0600);
	CU_ASSERT_EQUAL(or_cli_keypair_read(path, &kp2, err), 0);
	CU_ASSERT_EQUAL(memcmp(&kp, &kp2, sizeof(kp)), 0);
	write_file(path, text, 0604);
	CU_ASSERT_EQUAL(or_cli_keypair_read(path, &kp2, err), -EPERM);
	unlink(path);
	CU_ASSERT_EQUAL(rmdir(kdir), 0);
}

static int
client_keys_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

static CU_TestInfo client_keys_tests[] = {
	{ "keygen, open-key round trip", test_keys_roundtrip },
	{ "malformed and exposed files refused", test_keys_refused },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("client_keys", client_keys_init, NULL, client_keys_tests)
