/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Master key file, derived keys, sealed numbers, process hardening
 * (see keys.h and docs/privacy.md).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "optroute/auth.h"

#include "fs.h"
#include "keys_priv.h"
#include "token.h"

#define KEY_HEX_LEN (2 * OR_MASTER_KEY_LEN)
#define N_EPOCHS 256
/* Largest plaintext we decrypt: well above a valid number so that an
 * over-long one gets the E.164 message, not a size error. */
#define SEALED_PLAIN_MAX (OR_SEALED_MAX - OR_SEAL_OVERHEAD)

/* Secret part, in one sodium_malloc() region (guard pages, canary,
 * mlock'ed, read-only after load). */
struct keys_secret {
	uint8_t sub[N_EPOCHS][OR_SUBKEY_LEN];
	struct or_auth_key auth[N_EPOCHS]; /* K_auth[e] */
	uint8_t box_sk[crypto_box_SECRETKEYBYTES];
};

struct or_keys {
	struct keys_secret *sec;
	uint8_t box_pk[OR_SEAL_PK_LEN];
	uint8_t fleet_check[OR_FLEET_CHECK_LEN];
	int locked;
};

_Static_assert(OR_SEAL_PK_LEN == crypto_box_PUBLICKEYBYTES, "pk size");
_Static_assert(OR_SEAL_OVERHEAD == crypto_box_SEALBYTES, "seal overhead");
_Static_assert(OR_SUBKEY_LEN >= crypto_generichash_KEYBYTES_MIN &&
		       OR_SUBKEY_LEN <= crypto_generichash_KEYBYTES_MAX,
	       "sub-key size");
_Static_assert(sizeof(OR_KDF_CTX_TOKEN) - 1 == crypto_kdf_CONTEXTBYTES,
	       "kdf context");
_Static_assert(sizeof(OR_KDF_CTX_SEAL) - 1 == crypto_kdf_CONTEXTBYTES,
	       "kdf context");
_Static_assert(sizeof(OR_AUTH_KDF_CTX) - 1 == crypto_kdf_CONTEXTBYTES,
	       "kdf context");
_Static_assert(OR_AUTH_KEY_LEN >= crypto_kdf_BYTES_MIN, "K_auth size");
_Static_assert(sizeof(OR_KDF_CTX_FLEET) - 1 == crypto_kdf_CONTEXTBYTES,
	       "kdf context");
_Static_assert(OR_FLEET_CHECK_LEN >= crypto_kdf_BYTES_MIN, "key check size");
_Static_assert(OR_SEALED_KEY_LEN == OR_AUTH_KEY_LEN + crypto_box_SEALBYTES,
	       "sealed key size");

const uint8_t *
or_keys_subkey(const struct or_keys *k, uint8_t epoch)
{
	return k->sec->sub[epoch];
}

const struct or_auth_key *
or_keys_auth(const struct or_keys *k, uint8_t epoch)
{
	return &k->sec->auth[epoch];
}

int
or_keys_seal_sender_key(const struct or_keys *k, uint8_t epoch,
			const struct or_token *sender,
			const uint8_t pk[OR_SEAL_PK_LEN],
			uint8_t out[OR_SEALED_KEY_LEN])
{
	struct or_auth_key ks;
	int rc;

	rc = or_auth_sender_key(&k->sec->auth[epoch], sender, &ks);
	/* libsodium refuses a public key of low order (e.g. all zeros). */
	if (rc == 0 && crypto_box_seal(out, ks.b, sizeof(ks.b), pk) != 0)
		rc = -EINVAL;
	/* K_sender exists only here, for the time of one seal. */
	sodium_memzero(&ks, sizeof(ks));
	return rc;
}

int
or_keys_locked(const struct or_keys *k)
{
	return k->locked;
}

int
or_keys_generate(const char *path, struct or_err *err)
{
	char tmp[PATH_MAX];
	uint8_t *key = NULL;
	char *hex = NULL;
	int fd = -1, rc;

	if (or_crypto_init() < 0) {
		or_err_set(err, "libsodium initialisation failed");
		return -EIO;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    (int)sizeof(tmp)) {
		or_err_set(err, "key file path too long");
		return -ENAMETOOLONG;
	}
	key = sodium_malloc(OR_MASTER_KEY_LEN);
	hex = sodium_malloc(KEY_HEX_LEN + 2);
	if (key == NULL || hex == NULL) {
		or_err_set(err, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	randombytes_buf(key, OR_MASTER_KEY_LEN);
	sodium_bin2hex(hex, KEY_HEX_LEN + 1, key, OR_MASTER_KEY_LEN);
	hex[KEY_HEX_LEN] = '\n';

	/* mkstemp creates with 0600 whatever the umask; fchmod is there in
	 * case a libc ever does otherwise. */
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		or_err_set(err, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) != 0 ||
	    or_write_all(fd, hex, KEY_HEX_LEN + 1) != 0 || fsync(fd) != 0) {
		rc = -errno;
		or_err_set(err, "cannot write %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	/* link() never replaces: an existing key is never lost. */
	if (link(tmp, path) != 0) {
		rc = -errno;
		if (errno == EEXIST)
			or_err_set(err, "%s exists; refusing to overwrite a key",
				   path);
		else
			or_err_set(err, "cannot create %s: %s", path,
				   strerror(errno));
		goto out_unlink;
	}
	rc = or_fsync_dir_of(path);
	if (rc < 0)
		or_err_set(err, "cannot fsync the directory of %s: %s", path,
			   strerror(-rc));
out_unlink:
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	sodium_free(key);
	sodium_free(hex);
	return rc;
}

/* Reads the hex key file into master (32 bytes). */
static int
read_master(const char *path, uint8_t *master, struct or_err *err)
{
	struct stat st;
	char *buf;
	size_t bin_len;
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		or_err_set(err, "cannot open key file %s: %s", path,
			   strerror(errno));
		return rc;
	}
	/* fstat on the open fd: what we check is what we read. */
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		or_err_set(err, "cannot stat key file %s: %s", path,
			   strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		or_err_set(err, "key file %s is not a regular file", path);
		rc = -EINVAL;
		goto out_close;
	}
	if (st.st_mode & 077) {
		or_err_set(err,
			   "key file %s is accessible by group/others (mode %04o); chmod 600 it",
			   path, (unsigned)(st.st_mode & 07777));
		rc = -EPERM;
		goto out_close;
	}
	buf = sodium_malloc(KEY_HEX_LEN + 2);
	if (buf == NULL) {
		or_err_set(err, "out of memory");
		rc = -ENOMEM;
		goto out_close;
	}
	n = read(fd, buf, KEY_HEX_LEN + 2);
	if (n < 0) {
		rc = -errno;
		or_err_set(err, "cannot read key file %s: %s", path,
			   strerror(errno));
	} else if (!(n == KEY_HEX_LEN ||
		     (n == KEY_HEX_LEN + 1 && buf[KEY_HEX_LEN] == '\n')) ||
		   sodium_hex2bin(master, OR_MASTER_KEY_LEN, buf, KEY_HEX_LEN,
				  NULL, &bin_len, NULL) != 0 ||
		   bin_len != OR_MASTER_KEY_LEN) {
		or_err_set(err,
			   "key file %s must hold exactly %d hex digits and an optional newline",
			   path, KEY_HEX_LEN);
		rc = -EINVAL;
	}
	sodium_free(buf);
out_close:
	close(fd);
	return rc;
}

int
or_keys_load(const char *path, struct or_keys **out, struct or_err *err)
{
	struct or_keys *k;
	uint8_t *master, seed[crypto_box_SEEDBYTES];
	int rc;

	if (or_crypto_init() < 0) {
		or_err_set(err, "libsodium initialisation failed");
		return -EIO;
	}
	k = calloc(1, sizeof(*k));
	master = sodium_malloc(OR_MASTER_KEY_LEN);
	if (k != NULL)
		k->sec = sodium_malloc(sizeof(*k->sec));
	if (k == NULL || master == NULL || k->sec == NULL) {
		or_err_set(err, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	/* sodium_malloc already tries mlock (and ignores failure); doing it
	 * again lets us tell the operator when it did not work. */
	k->locked = sodium_mlock(k->sec, sizeof(*k->sec)) == 0;

	rc = read_master(path, master, err);
	if (rc < 0)
		goto fail;
	for (unsigned e = 0; e < N_EPOCHS; e++) {
		crypto_kdf_derive_from_key(k->sec->sub[e], OR_SUBKEY_LEN, e,
					   OR_KDF_CTX_TOKEN, master);
		crypto_kdf_derive_from_key(k->sec->auth[e].b, OR_AUTH_KEY_LEN,
					   e, OR_AUTH_KDF_CTX, master);
	}
	crypto_kdf_derive_from_key(seed, sizeof(seed), 0, OR_KDF_CTX_SEAL,
				   master);
	crypto_box_seed_keypair(k->box_pk, k->sec->box_sk, seed);
	crypto_kdf_derive_from_key(k->fleet_check, sizeof(k->fleet_check), 0,
				   OR_KDF_CTX_FLEET, master);
	sodium_memzero(seed, sizeof(seed));
	sodium_free(master); /* wipes */
	sodium_mprotect_readonly(k->sec);
	*out = k;
	return 0;
fail:
	sodium_free(master);
	if (k != NULL)
		sodium_free(k->sec);
	free(k);
	return rc;
}

void
or_keys_free(struct or_keys *k)
{
	if (k == NULL)
		return;
	/* sodium_free makes it writable, wipes, munlocks and unmaps. */
	sodium_free(k->sec);
	free(k);
}

void
or_keys_pubkey(const struct or_keys *k, uint8_t pk[OR_SEAL_PK_LEN])
{
	memcpy(pk, k->box_pk, OR_SEAL_PK_LEN);
}

void
or_keys_pubkey_hex(const struct or_keys *k, char out[OR_PK_HEX_BUFSZ])
{
	sodium_bin2hex(out, OR_PK_HEX_BUFSZ, k->box_pk, OR_SEAL_PK_LEN);
}

void
or_keys_pubkey_b64(const struct or_keys *k, char out[OR_PK_B64_BUFSZ])
{
	sodium_bin2base64(out, OR_PK_B64_BUFSZ, k->box_pk, OR_SEAL_PK_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
}

int
or_token_from_sealed(const struct or_keys *k, uint8_t epoch,
		     const uint8_t *sealed, size_t len, struct or_token *out,
		     struct or_err *err)
{
	char plain[SEALED_PLAIN_MAX];
	size_t plain_len;
	struct or_err e2;
	int rc;

	if (k == NULL || sealed == NULL || out == NULL) {
		or_err_set(err, "no keys loaded");
		return -EINVAL;
	}
	if (len < OR_SEAL_OVERHEAD + 2) {
		or_err_set(err, "sealed number too short");
		return -EINVAL;
	}
	if (len > OR_SEALED_MAX) {
		or_err_set(err, "sealed number too long");
		return -EINVAL;
	}
	plain_len = len - OR_SEAL_OVERHEAD;
	if (crypto_box_seal_open((uint8_t *)plain, sealed, len, k->box_pk,
				 k->sec->box_sk) != 0) {
		or_err_set(err,
			   "sealed number could not be opened (not sealed to this appliance's key, or corrupted)");
		rc = -EINVAL;
		goto out;
	}
	rc = or_token_from_number(k, epoch, plain, plain_len, out, &e2);
	if (rc < 0)
		or_err_set(err, "sealed number: %s", e2.msg);
out:
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

int
or_base64_decode(const char *b64, size_t b64_len, uint8_t *out, size_t cap,
		 size_t *out_len)
{
	static const int variants[] = {
		sodium_base64_VARIANT_ORIGINAL,
		sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
		sodium_base64_VARIANT_URLSAFE,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING,
	};
	const char *end;

	if (or_crypto_init() < 0)
		return -EIO;
	/* libsodium 1.0.18 (Debian 12) takes bytes >= 0x80 as digits, so one
	 * blob would have many spellings: only the two alphabets and '='. */
	for (size_t i = 0; i < b64_len; i++) {
		unsigned char c = (unsigned char)b64[i];

		if (!(isalnum(c) && c < 0x80) && c != '+' && c != '/' &&
		    c != '-' && c != '_' && c != '=')
			return -EINVAL;
	}
	for (unsigned i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		if (sodium_base642bin(out, cap, b64, b64_len, NULL, out_len,
				      &end, variants[i]) == 0 &&
		    end == b64 + b64_len)
			return 0;
	return -EINVAL;
}

int
or_token_from_sealed_b64(const struct or_keys *k, uint8_t epoch,
			 const char *b64, size_t b64_len, struct or_token *out,
			 struct or_err *err)
{
	uint8_t bin[OR_SEALED_MAX];
	size_t bin_len;

	if (or_crypto_init() < 0) {
		or_err_set(err, "libsodium initialisation failed");
		return -EIO;
	}
	if (b64 == NULL || b64_len == 0) {
		or_err_set(err, "sealed number is empty");
		return -EINVAL;
	}
	if (b64_len >= OR_SEALED_B64_MAX) {
		or_err_set(err, "sealed number too long");
		return -EINVAL;
	}
	if (or_base64_decode(b64, b64_len, bin, sizeof(bin), &bin_len) == 0)
		return or_token_from_sealed(k, epoch, bin, bin_len, out, err);
	or_err_set(err, "sealed number is not valid base64");
	return -EINVAL;
}

int
or_seal_number(const uint8_t pk[OR_SEAL_PK_LEN], char *number, size_t len,
	       uint8_t *out, size_t cap, size_t *out_len, struct or_err *err)
{
	int rc;

	rc = or_crypto_init();
	if (rc < 0) {
		or_err_set(err, "libsodium initialisation failed");
		goto out;
	}
	rc = or_e164_check(number, len, err);
	if (rc < 0)
		goto out;
	if (out == NULL || cap < len + OR_SEAL_OVERHEAD) {
		or_err_set(err, "output buffer too small for a sealed number");
		rc = -ENOSPC;
		goto out;
	}
	if (crypto_box_seal(out, (const uint8_t *)number, len, pk) != 0) {
		or_err_set(err, "sealing failed");
		rc = -EIO;
		goto out;
	}
	*out_len = len + OR_SEAL_OVERHEAD;
out:
	if (number != NULL && len > 0)
		sodium_memzero(number, len);
	return rc;
}

int
or_process_harden(struct or_err *err)
{
	const struct rlimit zero = { 0, 0 };
	int rc;

	if (setrlimit(RLIMIT_CORE, &zero) != 0) {
		rc = -errno;
		or_err_set(err, "setrlimit(RLIMIT_CORE, 0): %s", strerror(-rc));
		return rc;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		rc = -errno;
		or_err_set(err, "prctl(PR_SET_DUMPABLE, 0): %s", strerror(-rc));
		return rc;
	}
	return 0;
}

void
or_keys_fleet_check(const struct or_keys *k, uint8_t out[OR_FLEET_CHECK_LEN])
{
	memcpy(out, k->fleet_check, OR_FLEET_CHECK_LEN);
}
