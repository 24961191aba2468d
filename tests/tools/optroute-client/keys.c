/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-client keygen and open-key: the phone's side of getting its
 * K_sender (see or_client_key.h and docs/client.md "Keys"). Neither ever
 * prints a secret; every buffer that held one is wiped.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"

static const char *prog = CLIENT_PROG;

/* More than any sealed key in base64 (88 characters) with blanks. */
#define SEALED_B64_MAX 1024

int
cmd_keygen(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "secret", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct or_cli_keypair kp;
	char err[OR_CLI_ERR_LEN], b64[OR_CLI_PK_B64_LEN];
	const char *path = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || path == NULL) {
		fprintf(stderr, "%s: keygen needs --secret FILE (and nothing "
			"else)\n", prog);
		return EXIT_USAGE;
	}
	if (or_cli_keypair_create(path, &kp, err) != 0) {
		sodium_memzero(&kp, sizeof(kp));
		fprintf(stderr, "%s: keygen: %s\n", prog, err);
		return EXIT_FAIL;
	}
	or_cli_pk_b64(&kp, b64);
	sodium_memzero(&kp, sizeof(kp));
	printf("%s\n", b64);
	return fflush(stdout) == 0 ? 0 : EXIT_FAIL;
}

/* The sealed key from stdin: at most SEALED_B64_MAX bytes. */
static int
read_sealed_stdin(char *buf, size_t cap)
{
	size_t n = fread(buf, 1, cap - 1, stdin);

	if (ferror(stdin)) {
		fprintf(stderr, "%s: open-key: reading stdin: %s\n", prog,
			strerror(errno));
		return -EIO;
	}
	if (n == cap - 1 && fgetc(stdin) != EOF) {
		fprintf(stderr, "%s: open-key: stdin holds more than a sealed "
			"key\n", prog);
		return -EINVAL;
	}
	buf[n] = '\0';
	return 0;
}

int
cmd_open_key(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "secret", required_argument, NULL, 's' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "token", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "sealed", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char stdin_b64[SEALED_B64_MAX];
	struct or_cli_keypair kp;
	struct or_cli_sender_key sk;
	char err[OR_CLI_ERR_LEN], tok[2 * OR_TOKEN_LEN + 1];
	const char *secret = NULL, *out = NULL, *sealed = NULL;
	int have_epoch = 0, have_token = 0, c, rc;
	uint64_t epoch = 0;

	memset(&sk, 0, sizeof(sk));
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		int r = 0;

		switch (c) {
		case 's':
			secret = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'S':
			sealed = optarg;
			break;
		case 'e':
			r = parse_u64("--epoch", optarg, 0, 255, &epoch);
			have_epoch = 1;
			break;
		case 't':
			r = parse_token("--token", optarg, &sk.token);
			have_token = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
		if (r != 0)
			return EXIT_USAGE;
	}
	if (optind != argc || secret == NULL || out == NULL || !have_epoch ||
	    !have_token) {
		fprintf(stderr, "%s: open-key needs --secret FILE, --epoch E, "
			"--token HEX and --out KEYFILE\n", prog);
		return EXIT_USAGE;
	}
	sk.epoch = (uint8_t)epoch;
	if (sealed == NULL) {
		if (read_sealed_stdin(stdin_b64, sizeof(stdin_b64)) != 0)
			return EXIT_FAIL;
		sealed = stdin_b64;
	}
	rc = or_cli_keypair_read(secret, &kp, err);
	if (rc == 0) {
		rc = or_cli_key_open(&kp, sealed, &sk.k_sender, err);
		sodium_memzero(&kp, sizeof(kp));
	}
	if (rc == 0)
		rc = or_cli_sender_key_write(out, &sk, err);
	sodium_memzero(&sk.k_sender, sizeof(sk.k_sender));
	if (rc != 0) {
		fprintf(stderr, "%s: open-key: %s\n", prog, err);
		return EXIT_FAIL;
	}
	or_cli_hex_format(sk.token.b, OR_TOKEN_LEN, tok);
	printf("key of token %s, epoch %u written to %s\n", tok, sk.epoch, out);
	return fflush(stdout) == 0 ? 0 : EXIT_FAIL;
}
