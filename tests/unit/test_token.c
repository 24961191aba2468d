/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Tokens and secrets (control/lib/token.h, keys.h): strict E.164, token
 * derivation against fixed vectors, key file handling, sealed numbers,
 * wiping of plain numbers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "control/lib/keys.h"
#include "control/lib/token.h"
#include "or_test.h"

/* Master key 00 01 02 ... 1f, for the fixed vectors below. */
#define TEST_MASTER_HEX \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static char tdir[64];
static char key_path[128];
static struct or_keys *keys;

static int
write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	close(fd);
	return chmod(path, mode);
}

static int
suite_init(void)
{
	struct or_err err;

	strcpy(tdir, "/tmp/or_test_token.XXXXXX");
	if (mkdtemp(tdir) == NULL)
		return -1;
	snprintf(key_path, sizeof(key_path), "%s/master.key", tdir);
	if (write_file(key_path, TEST_MASTER_HEX "\n",
		       strlen(TEST_MASTER_HEX) + 1, 0600) != 0)
		return -1;
	return or_keys_load(key_path, &keys, &err) == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
	char p[192];

	or_keys_free(keys);
	keys = NULL;
	unlink(key_path);
	/* whatever a test left */
	snprintf(p, sizeof(p), "%s/gen.key", tdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/bad.key", tdir);
	unlink(p);
	return rmdir(tdir);
}

/* ------------------------------------------------------------ E.164 --- */

static int
check(const char *s, size_t len, struct or_err *err)
{
	memset(err, 0, sizeof(*err));
	return or_e164_check(s, len, err);
}

static void
test_e164_valid(void)
{
	static const char *const ok[] = {
		"+1", "+49", "+4915112345678", "+123456789012345",
		"+999999999999999",
	};
	struct or_err err;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CU_ASSERT_EQUAL(check(ok[i], strlen(ok[i]), &err), 0);
}

/* The message must not carry any run of 4 digits of the input (it may
 * carry a position or the limit 15), nor the whole digit string. */
static void
assert_no_echo(const char *in, size_t len, const char *msg)
{
	char digits[2048];
	size_t n = 0;

	for (size_t i = 0; i < len && n < sizeof(digits) - 1; i++)
		if (in[i] >= '0' && in[i] <= '9')
			digits[n++] = in[i];
	digits[n] = '\0';
	for (size_t i = 0; i + 4 <= n; i++) {
		char w[5];

		memcpy(w, digits + i, 4);
		w[4] = '\0';
		CU_ASSERT_PTR_NULL(strstr(msg, w));
	}
	if (n >= 2)
		CU_ASSERT_PTR_NULL(strstr(msg, digits));
}

struct bad_case {
	const char *s;
	size_t len;     /* 0 = strlen(s) */
	const char *msg; /* expected substring */
};

static void
test_e164_invalid(void)
{
	static const struct bad_case bad[] = {
		{ "", 0, "empty" },
		{ "4915112345678", 0, "must start with '+'" },
		{ "+", 0, "no digits" },
		{ "+1234567890123456", 0, "too many digits" },
		{ "+04915112345678", 0, "must not start with 0" },
		{ "+49151abc45678", 0, "invalid character at position 6" },
		{ "+49 1511234567", 0, "invalid character at position 3" },
		{ " +4915112345678", 0, "must start with '+'" },
		{ "+4915112\0" "345678", 15, "invalid character at position 8" },
		{ "+4915112345678\n", 0, "ends with a newline" },
		{ "+4915112345678\r\n", 0, "invalid character at position 14" },
		{ "++1", 0, "invalid character at position 1" },
		{ "+4915112345678+", 0, "invalid character at position 14" },
	};
	struct or_err err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].s);

		CU_ASSERT_EQUAL(check(bad[i].s, len, &err), -EINVAL);
		if (strstr(err.msg, bad[i].msg) == NULL)
			fprintf(stderr, "case %zu: got '%s'\n", i, err.msg);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].msg));
		assert_no_echo(bad[i].s, len, err.msg);
	}
	CU_ASSERT_EQUAL(or_e164_check(NULL, 0, NULL), -EINVAL);
}

static void
test_e164_long(void)
{
	char *s = malloc(100001);
	struct or_err err;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	s[0] = '+';
	for (size_t i = 1; i < 100000; i++)
		s[i] = (char)('1' + (i * 7) % 9);
	s[100000] = '\0';
	CU_ASSERT_EQUAL(check(s, 100000, &err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too many digits"));
	assert_no_echo(s, 100000, err.msg);
	s[99999] = 'x';
	CU_ASSERT_EQUAL(check(s, 100000, &err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "position 99999"));
	free(s);
}

/* ----------------------------------------------------------- tokens --- */

static int
is_zero(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static int
token_of(const char *num, uint8_t epoch, struct or_token *t,
	 struct or_err *err)
{
	char buf[64];
	size_t len = strlen(num);
	int rc;

	memcpy(buf, num, len + 1);
	rc = or_token_from_number(keys, epoch, buf, len, t, err);
	CU_ASSERT(is_zero(buf, len)); /* wiped on every path */
	return rc;
}

static void
assert_token_hex(const struct or_token *t, const char *hex)
{
	char got[OR_TOKEN_HEX_BUFSZ];

	or_token_to_hex(t, got);
	CU_ASSERT_STRING_EQUAL(got, hex);
}

/*
 * Expected values computed independently of libsodium with python3's
 * hashlib (master key = bytes(range(32))):
 *
 *   sub(e) = blake2b(b'', digest_size=32, key=master,
 *                    salt=struct.pack('<Q', e) + bytes(8),
 *                    person=b'optroute' + bytes(8))
 *   token  = blake2b(number_ascii, digest_size=16, key=sub(e)).hexdigest()
 *
 *   sub(0) = 15a16619ce13d9f324781e3839a1230d67b419e0fa8af2b70381ad95d16e00dd
 */
static void
test_token_vectors(void)
{
	struct or_token t;
	struct or_err err;

	CU_ASSERT_EQUAL_FATAL(token_of("+4915112345678", 0, &t, &err), 0);
	assert_token_hex(&t, "407ae393ef3ccf1cf950c88625adff7f");
	CU_ASSERT_EQUAL_FATAL(token_of("+4915112345678", 1, &t, &err), 0);
	assert_token_hex(&t, "ada6589fc36cc46b019fb99b873101c4");
	CU_ASSERT_EQUAL_FATAL(token_of("+1", 7, &t, &err), 0);
	assert_token_hex(&t, "8fdc8e4699edf30c9ab23e2e42f472b6");
	CU_ASSERT_EQUAL_FATAL(token_of("+123456789012345", 255, &t, &err), 0);
	assert_token_hex(&t, "b732cb2f1189bf9e1e6962c995ab7a22");
}

static void
test_token_epochs_differ(void)
{
	struct or_token a, b;
	struct or_err err;

	CU_ASSERT_EQUAL(token_of("+4915112345678", 3, &a, &err), 0);
	CU_ASSERT_EQUAL(token_of("+4915112345678", 4, &b, &err), 0);
	CU_ASSERT_FALSE(or_token_eq(&a, &b));
	CU_ASSERT_EQUAL(token_of("+4915112345679", 3, &b, &err), 0);
	CU_ASSERT_FALSE(or_token_eq(&a, &b));
	CU_ASSERT_EQUAL(token_of("+4915112345678", 3, &b, &err), 0);
	CU_ASSERT_TRUE(or_token_eq(&a, &b));
}

static void
test_token_bad_number_wiped(void)
{
	struct or_token t;
	struct or_err err;

	CU_ASSERT_EQUAL(token_of("+4915112345678\n", 0, &t, &err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "newline"));
	CU_ASSERT_EQUAL(token_of("004915112345678", 0, &t, &err), -EINVAL);
	assert_no_echo("004915112345678", 15, err.msg);
}

static void
test_token_hex(void)
{
	struct or_token t, u;
	struct or_err err;
	char hex[OR_TOKEN_HEX_BUFSZ];

	for (int i = 0; i < OR_TOKEN_LEN; i++)
		t.b[i] = (uint8_t)(i * 17 + 3);
	or_token_to_hex(&t, hex);
	CU_ASSERT_EQUAL(strlen(hex), 32);
	CU_ASSERT_EQUAL(or_token_from_hex(hex, 32, &u, &err), 0);
	CU_ASSERT_TRUE(or_token_eq(&t, &u));
	CU_ASSERT_EQUAL(or_token_from_hex("407AE393EF3CCF1CF950C88625ADFF7F",
					  32, &u, &err), 0);
	assert_token_hex(&u, "407ae393ef3ccf1cf950c88625adff7f");
	CU_ASSERT_EQUAL(or_token_from_hex(hex, 31, &u, &err), -EINVAL);
	CU_ASSERT_EQUAL(or_token_from_hex("407ae393ef3ccf1cf950c88625adff7f0",
					  33, &u, &err), -EINVAL);
	CU_ASSERT_EQUAL(or_token_from_hex("407ae393ef3ccf1cf950c88625adff7g",
					  32, &u, &err), -EINVAL);
	CU_ASSERT_EQUAL(or_token_from_hex("0x7ae393ef3ccf1cf950c88625adff7f",
					  32, &u, &err), -EINVAL);
	CU_ASSERT_EQUAL(or_token_from_hex("407ae393ef3ccf1c:950c88625adff7f",
					  32, &u, &err), -EINVAL);
	CU_ASSERT_EQUAL(or_token_from_hex(NULL, 0, &u, &err), -EINVAL);
}

/* ------------------------------------------------------------- keys --- */

static void
test_key_mode(void)
{
	static const mode_t refused[] = { 0644, 0640, 0604, 0660, 0606 };
	struct or_keys *k = NULL;
	struct or_err err;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(chmod(key_path, refused[i]), 0);
		CU_ASSERT_EQUAL(or_keys_load(key_path, &k, &err), -EPERM);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "group/others"));
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chmod 600"));
	}
	CU_ASSERT_EQUAL_FATAL(chmod(key_path, 0600), 0);
	CU_ASSERT_EQUAL(or_keys_load(key_path, &k, &err), 0);
	or_keys_free(k);
	CU_ASSERT_EQUAL_FATAL(chmod(key_path, 0400), 0);
	CU_ASSERT_EQUAL(or_keys_load(key_path, &k, &err), 0);
	or_keys_free(k);
	CU_ASSERT_EQUAL(chmod(key_path, 0600), 0);
}

static void
test_key_contents(void)
{
	static const char *const bad[] = {
		"",
		TEST_MASTER_HEX "\n\n",
		TEST_MASTER_HEX "00",
		"00" TEST_MASTER_HEX,
		"0001020304050607",
		"zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		" 00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	};
	char path[192];
	struct or_keys *k = NULL;
	struct or_err err;

	snprintf(path, sizeof(path), "%s/bad.key", tdir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(write_file(path, bad[i], strlen(bad[i]),
						 0600), 0);
		CU_ASSERT_EQUAL(or_keys_load(path, &k, &err), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "hex digits"));
	}
	/* without the newline is fine */
	CU_ASSERT_EQUAL_FATAL(write_file(path, TEST_MASTER_HEX,
					 strlen(TEST_MASTER_HEX), 0600), 0);
	CU_ASSERT_EQUAL(or_keys_load(path, &k, &err), 0);
	or_keys_free(k);
	unlink(path);
	CU_ASSERT_EQUAL(or_keys_load(path, &k, &err), -ENOENT);
	CU_ASSERT_EQUAL(or_keys_load(tdir, &k, &err), -EINVAL); /* a dir */
}

/* Whether keygen left a temp file in tdir. */
static int
temp_left(void)
{
	DIR *d = opendir(tdir);
	struct dirent *de;
	int found = 0;

	if (d == NULL)
		return 1;
	while ((de = readdir(d)) != NULL)
		found |= strstr(de->d_name, ".tmp.") != NULL;
	closedir(d);
	return found;
}

static void
test_keygen(void)
{
	char path[192], buf[80];
	struct or_keys *k1 = NULL, *k2 = NULL;
	struct or_err err;
	struct stat st;
	uint8_t pk1[OR_SEAL_PK_LEN], pk2[OR_SEAL_PK_LEN];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/gen.key", tdir);
	unlink(path);
	CU_ASSERT_EQUAL_FATAL(or_keys_generate(path, &err), 0);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(st.st_size, 65);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	CU_ASSERT_EQUAL(n, 65);
	CU_ASSERT_EQUAL(buf[64], '\n');
	/* never overwrites */
	CU_ASSERT_EQUAL(or_keys_generate(path, &err), -EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "refusing to overwrite"));
	CU_ASSERT_FALSE(temp_left());
	CU_ASSERT_EQUAL(or_keys_load(path, &k1, &err), 0);
	CU_ASSERT_EQUAL(or_keys_load(key_path, &k2, &err), 0);
	if (k1 != NULL && k2 != NULL) {
		or_keys_pubkey(k1, pk1);
		or_keys_pubkey(k2, pk2);
		CU_ASSERT_NOT_EQUAL(memcmp(pk1, pk2, sizeof(pk1)), 0);
	}
	or_keys_free(k1);
	or_keys_free(k2);
	unlink(path);
}

/* X25519 public key of the test master key, computed independently with
 * python3: seed = blake2b(b'', digest_size=32, key=master, salt=bytes(16),
 * person=b'optrseal' + bytes(8)); sk = sha512(seed)[:32];
 * pk = cryptography's X25519PrivateKey.from_private_bytes(sk).public_key(). */
static void
test_pubkey(void)
{
	char hex[OR_PK_HEX_BUFSZ], b64[OR_PK_B64_BUFSZ];
	uint8_t pk[OR_SEAL_PK_LEN], back[OR_SEAL_PK_LEN];
	size_t len;

	or_keys_pubkey_hex(keys, hex);
	CU_ASSERT_STRING_EQUAL(hex, "fadad00dbd3deba09dcf73232d9f5131"
				    "1301af106b699c62d24afa7036750508");
	or_keys_pubkey(keys, pk);
	or_keys_pubkey_b64(keys, b64);
	CU_ASSERT_EQUAL(strlen(b64), 44);
	CU_ASSERT_EQUAL(sodium_base642bin(back, sizeof(back), b64, strlen(b64),
					  NULL, &len, NULL,
					  sodium_base64_VARIANT_ORIGINAL), 0);
	CU_ASSERT_EQUAL(len, OR_SEAL_PK_LEN);
	CU_ASSERT_EQUAL(memcmp(back, pk, OR_SEAL_PK_LEN), 0);
}

/* ----------------------------------------------------------- sealed --- */

static void
test_sealed_roundtrip(void)
{
	uint8_t pk[OR_SEAL_PK_LEN], sealed[OR_SEALED_MAX];
	char b64[OR_SEALED_B64_MAX], num[] = "+4915112345678";
	struct or_token a, b;
	struct or_err err;
	size_t slen;

	or_keys_pubkey(keys, pk);
	/* sealed by the test itself, as a phone would */
	CU_ASSERT_EQUAL_FATAL(crypto_box_seal(sealed, (const uint8_t *)num,
					      strlen(num), pk), 0);
	slen = strlen(num) + crypto_box_SEALBYTES;
	CU_ASSERT_EQUAL(or_token_from_sealed(keys, 0, sealed, slen, &a, &err), 0);
	assert_token_hex(&a, "407ae393ef3ccf1cf950c88625adff7f");

	sodium_bin2base64(b64, sizeof(b64), sealed, slen,
			  sodium_base64_VARIANT_ORIGINAL);
	CU_ASSERT_EQUAL(or_token_from_sealed_b64(keys, 0, b64, strlen(b64), &b,
						 &err), 0);
	CU_ASSERT_TRUE(or_token_eq(&a, &b));
	sodium_bin2base64(b64, sizeof(b64), sealed, slen,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	CU_ASSERT_EQUAL(or_token_from_sealed_b64(keys, 0, b64, strlen(b64), &b,
						 &err), 0);
	CU_ASSERT_TRUE(or_token_eq(&a, &b));

	/* library-side sealing too; it wipes the number */
	CU_ASSERT_EQUAL(or_seal_number(pk, num, strlen(num), sealed,
				       sizeof(sealed), &slen, &err), 0);
	CU_ASSERT(is_zero(num, strlen("+4915112345678")));
	CU_ASSERT_EQUAL(or_token_from_sealed(keys, 0, sealed, slen, &b, &err), 0);
	CU_ASSERT_TRUE(or_token_eq(&a, &b));
}

static void
test_sealed_bad(void)
{
	uint8_t pk[OR_SEAL_PK_LEN], sealed[OR_SEALED_MAX + 8];
	char bad_num[] = "+0491511234567\n", b64[OR_SEALED_B64_MAX + 8];
	struct or_token t;
	struct or_err err;
	size_t slen;

	or_keys_pubkey(keys, pk);
	randombytes_buf(sealed, sizeof(sealed));
	CU_ASSERT_EQUAL(or_token_from_sealed(keys, 0, sealed, 64, &t, &err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "could not be opened"));
	CU_ASSERT_EQUAL(or_token_from_sealed(keys, 0, sealed, 10, &t, &err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too short"));
	CU_ASSERT_EQUAL(or_token_from_sealed(keys, 0, sealed, sizeof(sealed),
					     &t, &err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too long"));

	/* sealed correctly, but not a valid number */
	CU_ASSERT_EQUAL_FATAL(crypto_box_seal(sealed, (uint8_t *)bad_num,
					      strlen(bad_num), pk), 0);
	slen = strlen(bad_num) + crypto_box_SEALBYTES;
	CU_ASSERT_EQUAL(or_token_from_sealed(keys, 0, sealed, slen, &t, &err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "sealed number: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "newline"));
	assert_no_echo(bad_num, strlen(bad_num), err.msg);
	/* one flipped bit */
	bad_num[14] = '\0';
	CU_ASSERT_EQUAL_FATAL(crypto_box_seal(sealed, (uint8_t *)"+4915112345678",
					      14, pk), 0);
	sealed[50] ^= 1;
	CU_ASSERT_EQUAL(or_token_from_sealed(keys, 0, sealed, 62, &t, &err),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "could not be opened"));

	CU_ASSERT_EQUAL(or_token_from_sealed_b64(keys, 0, "!!!notbase64", 12,
						 &t, &err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "base64"));
	CU_ASSERT_EQUAL(or_token_from_sealed_b64(keys, 0, "", 0, &t, &err),
			-EINVAL);
	memset(b64, 'A', sizeof(b64));
	CU_ASSERT_EQUAL(or_token_from_sealed_b64(keys, 0, b64, sizeof(b64), &t,
						 &err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too long"));

	/* sealing refuses bad numbers and small buffers, and wipes anyway */
	memcpy(bad_num, "+0491511234567", 15);
	CU_ASSERT_EQUAL(or_seal_number(pk, bad_num, 14, sealed, sizeof(sealed),
				       &slen, &err), -EINVAL);
	CU_ASSERT(is_zero(bad_num, 14));
	memcpy(bad_num, "+4915112345678", 15);
	CU_ASSERT_EQUAL(or_seal_number(pk, bad_num, 14, sealed, 20, &slen,
				       &err), -ENOSPC);
	CU_ASSERT(is_zero(bad_num, 14));
}

static void
test_harden(void)
{
	pid_t pid = fork();
	int status;

	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct rlimit rl;
		struct or_err err;

		if (or_process_harden(&err) != 0)
			_exit(1);
		if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != 0 ||
		    rl.rlim_max != 0)
			_exit(2);
		if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
			_exit(3);
		_exit(0);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
}

static CU_TestInfo token_tests[] = {
	{ "e164 valid", test_e164_valid },
	{ "e164 invalid, no echo", test_e164_invalid },
	{ "e164 very long", test_e164_long },
	{ "token fixed vectors", test_token_vectors },
	{ "token epochs differ", test_token_epochs_differ },
	{ "token bad number wiped", test_token_bad_number_wiped },
	{ "token hex", test_token_hex },
	{ "key file mode", test_key_mode },
	{ "key file contents", test_key_contents },
	{ "keygen", test_keygen },
	{ "seal public key", test_pubkey },
	{ "sealed round trip", test_sealed_roundtrip },
	{ "sealed garbage", test_sealed_bad },
	{ "process harden", test_harden },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("token", suite_init, suite_clean, token_tests)
