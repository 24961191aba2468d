/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroutectl: command-line client of optroute-control's management socket
 * (docs/control.md). It is only a client: every command is one request
 * (import: a stream of requests) answered by the daemon.
 *
 * Plain numbers: a number given on the command line is copied and its argv
 * bytes are wiped at once (it was still briefly visible in the process
 * list: provisioning should pass "-" and write the number to stdin). Every
 * buffer that held a number is wiped after use. --seal seals the number
 * to the daemon's public key here, so not even the daemon's socket sees
 * it in plain.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "optroute/mgmt.h"

#include "control/lib/keys.h"
#include "control/lib/token.h"

#include "ctl.h"
#include "ctl_cmd.h"
#include "ctl_io.h"
#include "ctl_out.h"

/* ------------------------------------------------------------ request -- */

int
ctl_roundtrip(struct ctl *c, struct ctl_buf *req, json_t **reply)
{
	int rc, src;

	do {
		src = ctl_send(&c->conn, req);
		/* Even if the send failed, the daemon may have said why
		 * before it closed (permission_denied, too_many_clients):
		 * read that. */
		rc = ctl_recv(&c->conn, reply);
	} while (ctl_retry(&c->conn, rc, reply));
	ctl_buf_reset(req);
	if (rc < 0 && src < 0) {
		fprintf(stderr, "optroutectl: send: %s\n", strerror(-src));
		return CTL_EXIT_CONN;
	}
	if (rc < 0) {
		fprintf(stderr, "optroutectl: no reply from the daemon: %s\n",
			rc == -ECONNRESET ? "connection closed"
			: rc == -EBADMSG  ? "not a JSON reply"
					  : strerror(-rc));
		return CTL_EXIT_CONN;
	}
	return 0;
}

/* Prints the reply as asked and returns the exit code. */
static int
ctl_finish(struct ctl *c, const char *cmd, json_t *reply)
{
	int ok = json_is_true(json_object_get(reply, "ok"));

	if (c->json) {
		json_dumpf(reply, stdout, JSON_COMPACT);
		putchar('\n');
	} else if (ok) {
		ctl_out_reply(stdout, cmd, reply);
	}
	if (!ok)
		ctl_out_error(stderr, reply);
	json_decref(reply);
	return ok ? 0 : CTL_EXIT_ERROR;
}

/* Fetches the daemon's sealing key. */
static int
ctl_pubkey(struct ctl *c, uint8_t pk[OR_SEAL_PK_LEN])
{
	struct ctl_buf b = { 0 };
	json_t *reply;
	const char *hex;
	int rc;

	ctl_buf_printf(&b, "{\"v\":%d,\"id\":0,\"cmd\":\"pubkey\"}\n",
		       OR_MGMT_VERSION);
	rc = ctl_roundtrip(c, &b, &reply);
	ctl_buf_free(&b);
	if (rc != 0)
		return rc;
	hex = json_string_value(json_object_get(reply, "hex"));
	if (hex == NULL || sodium_hex2bin(pk, OR_SEAL_PK_LEN, hex, strlen(hex),
					  NULL, NULL, NULL) != 0) {
		fprintf(stderr, "optroutectl: daemon sent no usable pubkey\n");
		json_decref(reply);
		return CTL_EXIT_ERROR;
	}
	json_decref(reply);
	return 0;
}

/* The request of a command (not an import), sent; its reply printed. */
static int
ctl_request(struct ctl *c)
{
	struct ctl_buf b = { 0 };
	json_t *reply;
	int rc = 0;

	/* --seal: the number is sealed to the daemon's key here. */
	if (c->seal)
		rc = ctl_pubkey(c, c->seal_pk);
	if (rc == 0)
		rc = ctl_request_build(c, &b);
	if (rc == 0)
		rc = ctl_roundtrip(c, &b, &reply);
	ctl_buf_free(&b);
	return rc != 0 ? rc : ctl_finish(c, c->info->name, reply);
}

/* Every command is one request but import, a stream of them ("help" is
 * answered in main with the usage). */
static int
ctl_run(struct ctl *c)
{
	if (c->info->fields & OR_MGMT_F_LINES)
		return ctl_import(c);
	return ctl_request(c);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c = { .node = -1, .notice = -1, .optin = -1,
			 .timeout_ms = 30000 };
	const char *sock = getenv("OPTROUTE_CONTROL_SOCKET");
	char err[256];
	long long v;
	int o, rc;

	if (sock == NULL)
		sock = OR_MGMT_DEFAULT_SOCKET;
	while ((o = getopt_long(argc, argv, "+s:jt:h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			sock = optarg;
			break;
		case 'j':
			c.json = 1;
			break;
		case 't':
			if (ctl_parse_int(optarg, 1, 86400000, &v) < 0) {
				fprintf(stderr, "optroutectl: bad timeout\n");
				return CTL_EXIT_USAGE;
			}
			c.timeout_ms = (int)v;
			break;
		case 'h':
			ctl_usage(stdout);
			return 0;
		default:
			ctl_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		ctl_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		ctl_usage(stdout);
		return 0;
	}
	if (sodium_init() < 0)
		return CTL_EXIT_ERROR;
	/* Checked against the command's entry before connecting: what the
	 * daemon would refuse never leaves this process. */
	rc = ctl_parse_cmd_args(&c, argc - optind, argv + optind);
	if (rc == 0 && ctl_cmd_check(&c, err, sizeof(err)) != 0) {
		fprintf(stderr, "optroutectl: %s\n", err);
		rc = CTL_EXIT_USAGE;
	}
	if (rc == 0 && ctl_connect(&c.conn, sock, c.timeout_ms, err,
				   sizeof(err)) < 0) {
		fprintf(stderr, "optroutectl: %s\n", err);
		rc = CTL_EXIT_CONN;
	}
	if (rc == 0)
		rc = ctl_run(&c);
	ctl_close(&c.conn);
	if (c.arg_copy != NULL) {
		sodium_memzero(c.arg_copy, strlen(c.arg_copy));
		free(c.arg_copy);
	}
	return rc;
}
