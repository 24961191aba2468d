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

#include "../lib/keys.h"
#include "../lib/token.h"

#include "ctl.h"
#include "ctl_io.h"
#include "ctl_out.h"

static void
ctl_usage(FILE *f)
{
	fprintf(f,
"usage: optroutectl [-s SOCK] [-j] [-t MS] COMMAND [ARGS]\n"
"  -s, --socket SOCK   management socket (default $OPTROUTE_CONTROL_SOCKET\n"
"                      or " OR_MGMT_DEFAULT_SOCKET ")\n"
"  -j, --json          print the JSON reply\n"
"  -t, --timeout MS    reply timeout (default 30000)\n"
"commands (SUBJECT is NUMBER, '-' to read the number from stdin,\n"
"          --token HEX or --sealed BASE64):\n"
"  optin SUBJECT [--node N] [--notice V] [--method M] [--seal] [--wait]\n"
"        [--pubkey B64 | --pubkey-file F]  also issue a sealed sender key\n"
"  optout SUBJECT [--notice V] [--method M] [--seal] [--wait]\n"
"  erase SUBJECT [--method M] [--seal] [--wait]   delete the record\n"
"  status SUBJECT [--seal]\n"
"  import FILE|- --optin|--optout [--node N] [--notice V] [--method M]\n"
"                [--wait] [--chunk LINES]\n"
"  rekey SUBJECT --pubkey B64 | --pubkey-file F [--method M] [--seal]\n"
"                      a new sender key for an opted-in subject, sealed\n"
"                      to the phone's X25519 public key\n"
"  keys                auth epochs: current, previous, issuing, enforced\n"
"  rotate              start a new auth epoch (the old one stays live)\n"
"  retire              retire the previous auth epoch\n"
"  audit SUBJECT       one subject's history (hash links verified)\n"
"  audit --verify      verify the whole audit chain\n"
"  stats [--clear]     control plane and dataplane counters\n"
"  table               the dataplane's consent table\n"
"  dataplane           channel state: connected, acked seq, lag\n"
"  pubkey              public key numbers are sealed to\n"
"  version | help\n"
"Numbers on the command line are visible in the process list for a\n"
"moment: prefer '-' and stdin for provisioning, and --seal.\n");
}

/* ------------------------------------------------------------ request -- */

int
ctl_roundtrip(struct ctl *c, struct ctl_buf *req, json_t **reply)
{
	int rc = ctl_send(&c->conn, req), src = rc;

	ctl_buf_reset(req);
	/* Even if the send failed, the daemon may have said why before it
	 * closed (permission_denied, too_many_clients): read that. */
	rc = ctl_recv(&c->conn, reply);
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

static int
ctl_simple(struct ctl *c, const char *cmd, const char *extra)
{
	struct ctl_buf b = { 0 };
	json_t *reply;
	int rc;

	ctl_buf_printf(&b, "{\"v\":%d,\"id\":1,\"cmd\":\"%s\"%s}\n",
		       OR_MGMT_VERSION, cmd, extra);
	rc = ctl_roundtrip(c, &b, &reply);
	ctl_buf_free(&b);
	return rc != 0 ? rc : ctl_finish(c, cmd, reply);
}

/* Reads one number from stdin into buf (newline stripped). */
static int
ctl_read_number(char *buf, size_t cap, size_t *len)
{
	if (fgets(buf, (int)cap, stdin) == NULL) {
		fprintf(stderr, "optroutectl: no number on stdin\n");
		return -EINVAL;
	}
	*len = strcspn(buf, "\r\n");
	buf[*len] = '\0';
	return 0;
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

/* Adds "number", "sealed" or "token" to the request. The number is wiped
 * from every buffer here, whatever happens. */
static int
ctl_add_subject(struct ctl *c, struct ctl_buf *b)
{
	char num[OR_E164_BUFSZ + 48];
	struct or_err err = { "" };
	size_t len = 0;
	int rc = 0;

	if (c->token != NULL) {
		struct or_token t;

		if (or_token_from_hex(c->token, strlen(c->token), &t, &err) <
		    0) {
			fprintf(stderr, "optroutectl: token: %s\n", err.msg);
			return CTL_EXIT_USAGE;
		}
		ctl_buf_add(b, ",\"token\":", 9);
		return ctl_buf_add_jstr(b, c->token, strlen(c->token));
	}
	if (c->sealed != NULL) {
		ctl_buf_add(b, ",\"sealed\":", 10);
		return ctl_buf_add_jstr(b, c->sealed, strlen(c->sealed));
	}
	if (c->number == NULL) {
		fprintf(stderr, "optroutectl: give a NUMBER, '-', --token or "
				"--sealed\n");
		return CTL_EXIT_USAGE;
	}
	if (strcmp(c->number, "-") == 0) {
		if (ctl_read_number(num, sizeof(num), &len) < 0)
			return CTL_EXIT_USAGE;
	} else {
		len = strlen(c->number);
		if (len >= sizeof(num))
			len = sizeof(num) - 1;
		memcpy(num, c->number, len);
		num[len] = '\0';
	}
	/* Checked here so that a typo never leaves this process. */
	if (or_e164_check(num, len, &err) < 0) {
		fprintf(stderr, "optroutectl: %s\n", err.msg);
		rc = CTL_EXIT_USAGE;
	} else if (c->seal) {
		uint8_t pk[OR_SEAL_PK_LEN], sealed[OR_SEAL_OVERHEAD + 64];
		char b64[sizeof(sealed) * 2];
		size_t slen;

		rc = ctl_pubkey(c, pk);
		if (rc == 0 && or_seal_number(pk, num, len, sealed,
					      sizeof(sealed), &slen, &err) < 0) {
			fprintf(stderr, "optroutectl: seal: %s\n", err.msg);
			rc = CTL_EXIT_ERROR;
		}
		if (rc == 0) {
			sodium_bin2base64(b64, sizeof(b64), sealed, slen,
					  sodium_base64_VARIANT_ORIGINAL);
			ctl_buf_add(b, ",\"sealed\":", 10);
			rc = ctl_buf_add_jstr(b, b64, strlen(b64));
		}
	} else {
		ctl_buf_add(b, ",\"number\":", 10);
		rc = ctl_buf_add_jstr(b, num, len);
	}
	sodium_memzero(num, sizeof(num));
	return rc < 0 ? CTL_EXIT_ERROR : rc;
}

/* Adds "pubkey" (--pubkey or --pubkey-file), checked here: base64 of 32
 * bytes; a file may also hold the 32 raw bytes. */
static int
ctl_add_pubkey(struct ctl *c, struct ctl_buf *b)
{
	uint8_t pk[OR_SEAL_PK_LEN + 1], raw[256];
	char b64[OR_PK_B64_BUFSZ];
	const char *s = c->pubkey;
	size_t len = 0, n = 0;
	FILE *f;

	if (c->pubkey_file != NULL) {
		f = fopen(c->pubkey_file, "rb");
		if (f == NULL) {
			fprintf(stderr, "optroutectl: %s: %s\n", c->pubkey_file,
				strerror(errno));
			return CTL_EXIT_USAGE;
		}
		n = fread(raw, 1, sizeof(raw) - 1, f);
		fclose(f);
		raw[n] = '\0';
		s = (const char *)raw;
		if (n == OR_SEAL_PK_LEN) {
			sodium_bin2base64(b64, sizeof(b64), raw, n,
					  sodium_base64_VARIANT_ORIGINAL);
			s = b64;
		} else {
			while (n > 0 && (raw[n - 1] == '\n' || raw[n - 1] == '\r' ||
					 raw[n - 1] == ' '))
				raw[--n] = '\0';
		}
	}
	if (or_base64_decode(s, strlen(s), pk, sizeof(pk), &len) < 0 ||
	    len != OR_SEAL_PK_LEN) {
		fprintf(stderr, "optroutectl: the phone's public key must be "
				"base64 of 32 bytes (X25519)\n");
		return CTL_EXIT_USAGE;
	}
	ctl_buf_add(b, ",\"pubkey\":", 10);
	return ctl_buf_add_jstr(b, s, strlen(s)) < 0 ? CTL_EXIT_ERROR : 0;
}

int
ctl_add_options(struct ctl *c, struct ctl_buf *b, int with_node)
{
	if (with_node && c->node >= 0)
		ctl_buf_printf(b, ",\"node\":%d", c->node);
	if (c->notice >= 0)
		ctl_buf_printf(b, ",\"notice\":%lld", c->notice);
	if (c->method != NULL) {
		ctl_buf_add(b, ",\"method\":", 10);
		ctl_buf_add_jstr(b, c->method, strlen(c->method));
	}
	if (c->wait)
		ctl_buf_add(b, ",\"wait\":true", 12);
	return 0;
}

static int
ctl_subject_cmd(struct ctl *c, const char *cmd)
{
	struct ctl_buf b = { 0 };
	json_t *reply;
	int rc = 0;

	ctl_buf_printf(&b, "{\"v\":%d,\"id\":1,\"cmd\":\"%s\"", OR_MGMT_VERSION,
		       cmd);
	if (c->pubkey != NULL || c->pubkey_file != NULL) {
		if (strcmp(cmd, "optin") != 0 && strcmp(cmd, "rekey") != 0) {
			fprintf(stderr, "optroutectl: --pubkey is for optin "
					"and rekey only\n");
			rc = CTL_EXIT_USAGE;
		} else {
			rc = ctl_add_pubkey(c, &b);
		}
	} else if (strcmp(cmd, "rekey") == 0) {
		fprintf(stderr, "optroutectl: rekey needs --pubkey or "
				"--pubkey-file\n");
		rc = CTL_EXIT_USAGE;
	}
	if (rc == 0)
		rc = ctl_add_subject(c, &b);
	if (rc == 0 && strcmp(cmd, "optin") == 0)
		ctl_add_options(c, &b, 1);
	else if (rc == 0 && (strcmp(cmd, "optout") == 0 ||
			       strcmp(cmd, "erase") == 0 ||
			       strcmp(cmd, "rekey") == 0))
		ctl_add_options(c, &b, 0);
	if (rc == 0)
		rc = ctl_buf_add(&b, "}\n", 2);
	if (rc == 0)
		rc = ctl_roundtrip(c, &b, &reply);
	ctl_buf_free(&b);
	return rc != 0 ? rc : ctl_finish(c, cmd, reply);
}

/* -------------------------------------------------------------- args -- */

enum {
	O_TOKEN = 256, O_SEALED, O_SEAL, O_NODE, O_NOTICE, O_METHOD, O_WAIT,
	O_CLEAR, O_VERIFY, O_OPTIN, O_OPTOUT, O_CHUNK, O_PUBKEY, O_PUBKEY_FILE,
};

static int
ctl_parse_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Command arguments: one positional (subject or file) and options. */
static int
ctl_parse_cmd_args(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "token", required_argument, NULL, O_TOKEN },
		{ "sealed", required_argument, NULL, O_SEALED },
		{ "seal", no_argument, NULL, O_SEAL },
		{ "node", required_argument, NULL, O_NODE },
		{ "notice", required_argument, NULL, O_NOTICE },
		{ "method", required_argument, NULL, O_METHOD },
		{ "wait", no_argument, NULL, O_WAIT },
		{ "clear", no_argument, NULL, O_CLEAR },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "optin", no_argument, NULL, O_OPTIN },
		{ "optout", no_argument, NULL, O_OPTOUT },
		{ "chunk", required_argument, NULL, O_CHUNK },
		{ "pubkey", required_argument, NULL, O_PUBKEY },
		{ "pubkey-file", required_argument, NULL, O_PUBKEY_FILE },
		{ NULL, 0, NULL, 0 },
	};
	long long v;
	int o;

	optind = 0;
	opterr = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case O_TOKEN:
			c->token = optarg;
			break;
		case O_SEALED:
			c->sealed = optarg;
			break;
		case O_SEAL:
			c->seal = 1;
			break;
		case O_NODE:
			if (ctl_parse_int(optarg, 0, 65535, &v) < 0)
				goto bad;
			c->node = (int)v;
			break;
		case O_NOTICE:
			if (ctl_parse_int(optarg, 0, 4294967295LL, &v) < 0)
				goto bad;
			c->notice = v;
			break;
		case O_METHOD:
			c->method = optarg;
			break;
		case O_WAIT:
			c->wait = 1;
			break;
		case O_CLEAR:
			c->clear = 1;
			break;
		case O_VERIFY:
			c->verify = 1;
			break;
		case O_OPTIN:
		case O_OPTOUT:
			c->optin = o == O_OPTIN;
			break;
		case O_PUBKEY:
			c->pubkey = optarg;
			break;
		case O_PUBKEY_FILE:
			c->pubkey_file = optarg;
			break;
		case O_CHUNK:
			if (ctl_parse_int(optarg, 1, OR_MGMT_IMPORT_MAX_LINES,
					  &v) < 0)
				goto bad;
			c->chunk = (unsigned)v;
			break;
		default:
			return CTL_EXIT_USAGE;
		}
		continue;
bad:
		fprintf(stderr, "optroutectl: invalid value for %s\n",
			argv[optind - 1]);
		return CTL_EXIT_USAGE;
	}
	if (optind < argc) {
		c->number = argv[optind];
		/* Keep the number out of /proc/PID/cmdline from now on. */
		if (strcmp(argv[optind], "-") != 0) {
			c->arg_copy = strdup(argv[optind]);
			if (c->arg_copy == NULL)
				return CTL_EXIT_ERROR;
			sodium_memzero(argv[optind], strlen(argv[optind]));
			c->number = c->arg_copy;
		}
		optind++;
	}
	if (optind < argc) {
		fprintf(stderr, "optroutectl: unexpected argument\n");
		return CTL_EXIT_USAGE;
	}
	return 0;
}

static int
ctl_run(struct ctl *c, const char *cmd)
{
	if (strcmp(cmd, "optin") == 0 || strcmp(cmd, "optout") == 0 ||
	    strcmp(cmd, "erase") == 0 || strcmp(cmd, "status") == 0 ||
	    strcmp(cmd, "rekey") == 0)
		return ctl_subject_cmd(c, cmd);
	if (strcmp(cmd, "audit") == 0) {
		if (c->verify)
			return ctl_simple(c, "audit", "");
		return ctl_subject_cmd(c, cmd);
	}
	if (strcmp(cmd, "import") == 0)
		return ctl_import(c);
	if (strcmp(cmd, "stats") == 0)
		return ctl_simple(c, cmd, c->clear ? ",\"clear\":true" : "");
	if (strcmp(cmd, "table") == 0 || strcmp(cmd, "dataplane") == 0 ||
	    strcmp(cmd, "pubkey") == 0 || strcmp(cmd, "version") == 0 ||
	    strcmp(cmd, "keys") == 0 || strcmp(cmd, "rotate") == 0 ||
	    strcmp(cmd, "retire") == 0)
		return ctl_simple(c, cmd, "");
	if (strcmp(cmd, "help") == 0) {
		ctl_usage(stdout);
		return 0;
	}
	fprintf(stderr, "optroutectl: unknown command '%s' (try help)\n", cmd);
	return CTL_EXIT_USAGE;
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
	c.cmd = argv[optind];
	if (strcmp(c.cmd, "help") == 0) {
		ctl_usage(stdout);
		return 0;
	}
	if (sodium_init() < 0)
		return CTL_EXIT_ERROR;
	rc = ctl_parse_cmd_args(&c, argc - optind, argv + optind);
	if (rc == 0 && ctl_connect(&c.conn, sock, c.timeout_ms, err,
				   sizeof(err)) < 0) {
		fprintf(stderr, "optroutectl: %s\n", err);
		rc = CTL_EXIT_CONN;
	}
	if (rc == 0)
		rc = ctl_run(&c, c.cmd);
	ctl_close(&c.conn);
	if (c.arg_copy != NULL) {
		sodium_memzero(c.arg_copy, strlen(c.arg_copy));
		free(c.arg_copy);
	}
	return rc;
}
