/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The reference client's key files (optroute-client keygen, open-key,
 * send --key; docs/client.md "Keys"). Header-only (static inline) so that
 * tests/unit/test_client.c checks the very code the client runs.
 *
 * How a phone gets its K_sender: it makes an X25519 key pair (keygen),
 * sends the public key with its opt-in, and gets back its token, the auth
 * epoch and sealed_key = crypto_box_seal(K_sender, public key); open-key
 * opens it into a key file. Both files are small text files of
 * "NAME VALUE" lines ('#' starts a comment), mode 0600:
 *
 *   secret file (keygen)          key file (open-key)
 *     public HEX64                  token HEX32
 *     secret HEX64                  epoch E          (0..255, decimal)
 *                                   k_sender HEX32
 *
 * Every buffer that held a secret (the file text, hex, keys) is wiped
 * with sodium_memzero() before it goes out of scope; keys are never
 * printed. A key file readable by group or others is refused, like the
 * appliance's master key.
 */
#ifndef OR_CLIENT_KEY_H
#define OR_CLIENT_KEY_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "or_client_msg.h"

#define OR_CLI_X25519_LEN 32u
#define OR_CLI_SEALED_KEY_LEN (crypto_box_SEALBYTES + OR_AUTH_KEY_LEN)
#define OR_CLI_PK_B64_LEN 45u   /* standard base64 with padding, + NUL */
#define OR_CLI_KEYFILE_MAX 1024 /* bytes of a key file: a few lines */
#define OR_CLI_ERR_LEN 256

struct or_cli_keypair {
	uint8_t pk[OR_CLI_X25519_LEN];
	uint8_t sk[OR_CLI_X25519_LEN];
};

/* What a key file holds. */
struct or_cli_sender_key {
	struct or_token token;
	uint8_t epoch;
	struct or_auth_key k_sender;
};

static inline int
or_cli_key_err(char *err, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Formats the message into err (OR_CLI_ERR_LEN bytes); returns rc. */
static inline int
or_cli_key_err(char *err, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, OR_CLI_ERR_LEN, fmt, ap);
	va_end(ap);
	return rc;
}

/* Writes text[0..len) to a new file at path, mode 0600, created
 * exclusively and not through a symbolic link, synced. The file is
 * removed again if writing fails. 0 or -errno. */
static inline int
or_cli_secret_create(const char *path, const char *text, size_t len,
		     char *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			    O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0) {
		rc = -errno;
		if (rc == -EEXIST)
			return or_cli_key_err(err, rc, "%s exists: refusing to "
					      "overwrite a key", path);
		return or_cli_key_err(err, rc, "%s: %s", path, strerror(-rc));
	}
	/* umask can only take bits away from 0600; fchmod makes the mode
	 * exactly 0600 whatever it is. A short write sets no errno. */
	errno = 0;
	if (fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len ||
	    fsync(fd) != 0)
		rc = errno != 0 ? -errno : -EIO;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0) {
		unlink(path);
		return or_cli_key_err(err, rc, "%s: %s", path, strerror(-rc));
	}
	return 0;
}

/* The same, but replacing any file at path: written to path.tmp
 * (exclusively), then renamed over path. */
static inline int
or_cli_secret_replace(const char *path, const char *text, size_t len,
		      char *err)
{
	char tmp[PATH_MAX];
	int rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return or_cli_key_err(err, -ENAMETOOLONG, "%s: name too long",
				      path);
	rc = or_cli_secret_create(tmp, text, len, err);
	if (rc != 0)
		return rc;
	if (rename(tmp, path) != 0) {
		rc = -errno;
		unlink(tmp);
		return or_cli_key_err(err, rc, "%s: %s", path, strerror(-rc));
	}
	return 0;
}

/* One "NAME VALUE" field of a key file: val gets the value (cap bytes
 * with its NUL). */
struct or_cli_kv {
	const char *name;
	char *val;
	size_t cap;
	int seen;
};

/* Parses text (NUL-terminated, modified in place) into kv[0..n): every
 * name exactly once, nothing else. 0 or -EINVAL. */
static inline int
or_cli_kv_parse(char *text, struct or_cli_kv *kv, size_t n, const char *path,
		char *err)
{
	unsigned ln = 0;

	for (char *line = text, *next; line != NULL; line = next) {
		char *c, *name, *val, *extra, *save = NULL;
		size_t i;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		ln++;
		c = strchr(line, '#');
		if (c != NULL)
			*c = '\0';
		name = strtok_r(line, " \t\r", &save);
		if (name == NULL)
			continue;
		val = strtok_r(NULL, " \t\r", &save);
		extra = strtok_r(NULL, " \t\r", &save);
		for (i = 0; i < n && strcmp(kv[i].name, name) != 0; i++)
			;
		if (i == n || val == NULL || extra != NULL || kv[i].seen ||
		    strlen(val) >= kv[i].cap)
			return or_cli_key_err(err, -EINVAL, "%s:%u: expected "
					      "one NAME VALUE line per field",
					      path, ln);
		memcpy(kv[i].val, val, strlen(val) + 1);
		kv[i].seen = 1;
	}
	for (size_t i = 0; i < n; i++)
		if (!kv[i].seen)
			return or_cli_key_err(err, -EINVAL, "%s: no '%s' line",
					      path, kv[i].name);
	return 0;
}

/* Reads a key file (regular, at most OR_CLI_KEYFILE_MAX bytes, mode
 * without group/other bits) into kv. 0 or -errno. */
static inline int
or_cli_kv_read(const char *path, struct or_cli_kv *kv, size_t n, char *err)
{
	char text[OR_CLI_KEYFILE_MAX + 1];
	struct stat st;
	ssize_t got = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = 0;

	if (fd < 0) {
		rc = -errno;
		return or_cli_key_err(err, rc, "%s: %s", path, strerror(-rc));
	}
	if (fstat(fd, &st) != 0) {
		rc = or_cli_key_err(err, -errno, "%s: %s", path,
				    strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		rc = or_cli_key_err(err, -EINVAL, "%s: not a regular file",
				    path);
	} else if ((st.st_mode & 077) != 0) {
		rc = or_cli_key_err(err, -EPERM, "%s is accessible by group/"
				    "others (mode %04o); chmod 600 it", path,
				    (unsigned)(st.st_mode & 07777));
	} else if (st.st_size > OR_CLI_KEYFILE_MAX) {
		rc = or_cli_key_err(err, -EINVAL, "%s: larger than %d bytes: "
				    "not a key file", path, OR_CLI_KEYFILE_MAX);
	} else {
		got = read(fd, text, OR_CLI_KEYFILE_MAX + 1);
		if (got < 0)
			rc = or_cli_key_err(err, -errno, "%s: %s", path,
					    strerror(errno));
		else if (got > OR_CLI_KEYFILE_MAX)
			rc = or_cli_key_err(err, -EINVAL, "%s: grew while "
					    "read", path);
	}
	close(fd);
	if (rc == 0) {
		text[got] = '\0';
		rc = or_cli_kv_parse(text, kv, n, path, err);
	}
	sodium_memzero(text, sizeof(text));
	return rc;
}

/* Exactly 2 * n hex digits into out. 0 or -EINVAL. */
static inline int
or_cli_hex_exact(const char *hex, uint8_t *out, size_t n)
{
	size_t got;

	if (strlen(hex) != 2 * n || or_cli_hex_parse(hex, out, n, &got) != 0 ||
	    got != n)
		return -EINVAL;
	return 0;
}

/* A fresh X25519 key pair (crypto_box_keypair) written to a new file at
 * path (or_cli_secret_create()). 0 or -errno; *kp holds the pair. */
static inline int
or_cli_keypair_create(const char *path, struct or_cli_keypair *kp, char *err)
{
	char pk_hex[2 * OR_CLI_X25519_LEN + 1], sk_hex[2 * OR_CLI_X25519_LEN + 1];
	char text[256];
	int n, rc;

	crypto_box_keypair(kp->pk, kp->sk);
	or_cli_hex_format(kp->pk, sizeof(kp->pk), pk_hex);
	or_cli_hex_format(kp->sk, sizeof(kp->sk), sk_hex);
	n = snprintf(text, sizeof(text), "# optroute-client X25519 key pair: "
		     "keep secret (mode 0600)\npublic %s\nsecret %s\n", pk_hex,
		     sk_hex);
	rc = or_cli_secret_create(path, text, (size_t)n, err);
	sodium_memzero(sk_hex, sizeof(sk_hex));
	sodium_memzero(text, sizeof(text));
	return rc;
}

/* Reads a key pair file; the public key must be the secret key's. */
static inline int
or_cli_keypair_read(const char *path, struct or_cli_keypair *kp, char *err)
{
	char pk_hex[2 * OR_CLI_X25519_LEN + 1], sk_hex[2 * OR_CLI_X25519_LEN + 1];
	uint8_t pk[OR_CLI_X25519_LEN];
	struct or_cli_kv kv[] = {
		{ "public", pk_hex, sizeof(pk_hex), 0 },
		{ "secret", sk_hex, sizeof(sk_hex), 0 },
	};
	int rc = or_cli_kv_read(path, kv, 2, err);

	if (rc == 0 && (or_cli_hex_exact(pk_hex, kp->pk, sizeof(kp->pk)) != 0 ||
			or_cli_hex_exact(sk_hex, kp->sk, sizeof(kp->sk)) != 0))
		rc = or_cli_key_err(err, -EINVAL, "%s: public and secret must "
				    "be %u hex digits each", path,
				    2 * OR_CLI_X25519_LEN);
	if (rc == 0 && (crypto_scalarmult_base(pk, kp->sk) != 0 ||
			sodium_memcmp(pk, kp->pk, sizeof(pk)) != 0))
		rc = or_cli_key_err(err, -EINVAL, "%s: the public key is not "
				    "the secret key's", path);
	sodium_memzero(sk_hex, sizeof(sk_hex));
	if (rc != 0)
		sodium_memzero(kp, sizeof(*kp));
	return rc;
}

/* Standard base64 with padding of the public key. */
static inline void
or_cli_pk_b64(const struct or_cli_keypair *kp, char out[OR_CLI_PK_B64_LEN])
{
	sodium_bin2base64(out, OR_CLI_PK_B64_LEN, kp->pk, sizeof(kp->pk),
			  sodium_base64_VARIANT_ORIGINAL);
}

/* Opens sealed_key (base64 of crypto_box_seal(K_sender, pk): standard or
 * URL-safe alphabet, padding optional, surrounding blanks ignored) with
 * the key pair. 0, or -EINVAL (not base64, wrong length), -EBADMSG (not
 * sealed to this key pair, or corrupted). */
static inline int
or_cli_key_open(const struct or_cli_keypair *kp, const char *b64,
		struct or_auth_key *k_sender, char *err)
{
	static const int variants[] = {
		sodium_base64_VARIANT_ORIGINAL,
		sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
		sodium_base64_VARIANT_URLSAFE,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING,
	};
	uint8_t sealed[OR_CLI_SEALED_KEY_LEN + 1];
	size_t len, bl = 0;
	const char *end;
	size_t i;

	while (*b64 == ' ' || *b64 == '\t' || *b64 == '\n' || *b64 == '\r')
		b64++;
	len = strlen(b64);
	while (len > 0 && (b64[len - 1] == ' ' || b64[len - 1] == '\t' ||
			   b64[len - 1] == '\n' || b64[len - 1] == '\r'))
		len--;
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		if (sodium_base642bin(sealed, sizeof(sealed), b64, len, NULL,
				      &bl, &end, variants[i]) == 0 &&
		    end == b64 + len)
			break;
	if (i == sizeof(variants) / sizeof(variants[0]))
		return or_cli_key_err(err, -EINVAL, "sealed key is not valid "
				      "base64");
	if (bl != OR_CLI_SEALED_KEY_LEN)
		return or_cli_key_err(err, -EINVAL, "sealed key has %zu bytes, "
				      "expected %u", bl,
				      (unsigned)OR_CLI_SEALED_KEY_LEN);
	if (crypto_box_seal_open(k_sender->b, sealed, bl, kp->pk, kp->sk) != 0) {
		sodium_memzero(k_sender, sizeof(*k_sender));
		return or_cli_key_err(err, -EBADMSG, "sealed key could not be "
				      "opened (not sealed to this key pair, "
				      "or corrupted)");
	}
	return 0;
}

/* Writes a key file at path, replacing any (or_cli_secret_replace()). */
static inline int
or_cli_sender_key_write(const char *path, const struct or_cli_sender_key *sk,
			char *err)
{
	char tok[2 * OR_TOKEN_LEN + 1], key[2 * OR_AUTH_KEY_LEN + 1];
	char text[256];
	int n, rc;

	or_cli_hex_format(sk->token.b, OR_TOKEN_LEN, tok);
	or_cli_hex_format(sk->k_sender.b, OR_AUTH_KEY_LEN, key);
	n = snprintf(text, sizeof(text), "# optroute-client sender key: keep "
		     "secret (mode 0600)\ntoken %s\nepoch %u\nk_sender %s\n",
		     tok, sk->epoch, key);
	rc = or_cli_secret_replace(path, text, (size_t)n, err);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(text, sizeof(text));
	return rc;
}

/* Reads a key file. 0 or -errno (the message in err). */
static inline int
or_cli_sender_key_read(const char *path, struct or_cli_sender_key *sk,
		       char *err)
{
	char tok[2 * OR_TOKEN_LEN + 1], ep[8], key[2 * OR_AUTH_KEY_LEN + 1];
	struct or_cli_kv kv[] = {
		{ "token", tok, sizeof(tok), 0 },
		{ "epoch", ep, sizeof(ep), 0 },
		{ "k_sender", key, sizeof(key), 0 },
	};
	uint64_t e = 0;
	int rc = or_cli_kv_read(path, kv, 3, err);

	if (rc == 0 && (or_cli_token_parse(tok, &sk->token) != 0 ||
			or_cli_u64_parse(ep, 0, 255, &e) != 0 ||
			or_cli_hex_exact(key, sk->k_sender.b,
					 OR_AUTH_KEY_LEN) != 0))
		rc = or_cli_key_err(err, -EINVAL, "%s: expected token (%d hex "
				    "digits), epoch (0..255), k_sender (%d hex "
				    "digits)", path, 2 * OR_TOKEN_LEN,
				    2 * OR_AUTH_KEY_LEN);
	sk->epoch = (uint8_t)e;
	sodium_memzero(key, sizeof(key));
	if (rc != 0)
		sodium_memzero(sk, sizeof(*sk));
	return rc;
}

#endif
