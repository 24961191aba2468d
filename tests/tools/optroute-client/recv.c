/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-client recv: a delivery node, printing every MSG delivered to
 * it (see main.c and docs/client.md), of version 1 or 2 (--v1 or --v2:
 * only that one). A delivery node has no K_sender: a version-2 tag is
 * printed, not checked (the appliance checked it).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"

static const char *prog = CLIENT_PROG;

/* ------------------------------------------------------------ recv -- */

struct recv_state {
	int json;
	unsigned accept; /* OR_CLI_ACCEPT_* */
	uint64_t received, invalid;
};

static void
print_delivered(struct recv_state *r, const struct or_cli_view *v,
		const struct sockaddr_in *from)
{
	static char hex[2 * RX_BUF_LEN + 1];
	static char text[RX_BUF_LEN + 1];
	char ids[24], a[OR_CLI_ADDR_STRLEN];
	char snd[2 * OR_TOKEN_LEN + 1], rcp[2 * OR_TOKEN_LEN + 1];
	char tag[2 * sizeof(v->auth_tag) + 1], v2f[80] = "";
	int is_text = or_cli_printable(v->payload, v->payload_len);

	id_str(v->msg_id, ids, sizeof(ids));
	or_cli_addr_format(from, a, sizeof(a));
	or_cli_hex_format(v->sender.b, OR_TOKEN_LEN, snd);
	or_cli_hex_format(v->recipient.b, OR_TOKEN_LEN, rcp);
	or_cli_hex_format(v->payload, v->payload_len, hex);
	or_cli_hex_format(v->auth_tag, v->tag_len, tag);
	if (v->version == OR_PROTO_V2)
		snprintf(v2f, sizeof(v2f), " send_time=%" PRIu64 " tag=%s",
			 v->send_time, tag);
	memcpy(text, v->payload, v->payload_len);
	text[v->payload_len] = '\0';
	if (r->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:s}",
				      "event", "msg", "msg_id", ids,
				      "sender", snd, "recipient", rcp,
				      "epoch", (int)v->key_epoch,
				      "flags", (int)v->flags,
				      "payload_len", (int)v->payload_len,
				      "payload_hex", hex, "from", a);

		if (o != NULL && is_text)
			json_object_set_new(o, "payload", json_string(text));
		if (o != NULL)
			json_object_set_new(o, "version",
					    json_integer(v->version));
		if (o != NULL && v->version == OR_PROTO_V2) {
			json_object_set_new(o, "send_time", json_integer(
					    (json_int_t)v->send_time));
			json_object_set_new(o, "auth_tag", json_string(tag));
		}
		emit_json(o);
	} else {
		printf("msg msg_id=%s epoch=%u sender=%s recipient=%s from=%s%s "
		       "payload_len=%u %s%s%s\n", ids, v->key_epoch, snd, rcp, a,
		       v2f, v->payload_len,
		       is_text ? "payload=\"" : "payload_hex=",
		       is_text ? text : hex, is_text ? "\"" : "");
		fflush(stdout);
	}
}

static int
drain_delivered(int fd, struct recv_state *r, uint64_t count)
{
	static uint8_t buf[RX_BUF_LEN];

	while (count == 0 || r->received < count) {
		struct sockaddr_in from;
		struct or_cli_view v;
		enum or_cli_err e;
		ssize_t n = rx_one(fd, buf, sizeof(buf), &from);

		if (n < 0)
			return n == -EAGAIN ? 0 : -EIO;
		e = or_cli_parse(buf, (size_t)n, r->accept, &v);
		if (e == OR_CLI_OK && v.type != OR_TYPE_MSG)
			e = OR_CLI_BAD_TYPE;
		if (e != OR_CLI_OK) {
			r->invalid++;
			report_invalid(r->json, "message", e, &from, (size_t)n);
			continue;
		}
		r->received++;
		print_delivered(r, &v, &from);
	}
	return 0;
}

int
cmd_recv(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "v1", no_argument, NULL, '1' },
		{ "v2", no_argument, NULL, '2' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_in la, bound;
	socklen_t bl = sizeof(bound);
	struct recv_state r = { .accept = 0 };
	uint64_t count = 0, timeout_ms = 10000, deadline;
	int have_listen = 0, timed_out = 0, fd, c, ok;
	char a[OR_CLI_ADDR_STRLEN];

	while ((c = getopt_long(argc, argv, "jh", lopts, NULL)) != -1) {
		int rc = 0;

		switch (c) {
		case 'l':
			rc = parse_addr("--listen", optarg, 1, &la);
			have_listen = 1;
			break;
		case 'n':
			rc = parse_u64("--count", optarg, 1, UINT32_MAX, &count);
			break;
		case 't':
			rc = parse_u64("--timeout-ms", optarg, 1, MAX_TIMEOUT_MS,
				       &timeout_ms);
			break;
		case 'j':
			r.json = 1;
			break;
		case '1':
			r.accept |= OR_CLI_ACCEPT_V1;
			break;
		case '2':
			r.accept |= OR_CLI_ACCEPT_V2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
		if (rc != 0)
			return EXIT_USAGE;
	}
	if (optind != argc) {
		fprintf(stderr, "%s: recv: unexpected argument '%s'\n", prog,
			argv[optind]);
		return EXIT_USAGE;
	}
	if (!have_listen) {
		fprintf(stderr, "%s: recv needs --listen ADDR[:PORT]\n", prog);
		return EXIT_USAGE;
	}
	if (r.accept == OR_CLI_ACCEPT_ANY) {
		fprintf(stderr, "%s: --v1 and --v2 exclude each other\n", prog);
		return EXIT_USAGE;
	}
	if (r.accept == 0)
		r.accept = OR_CLI_ACCEPT_ANY;
	fd = open_socket(&la);
	if (fd < 0)
		return EXIT_FAIL;
	if (getsockname(fd, (struct sockaddr *)&bound, &bl) != 0)
		bound = la;
	install_signals();
	/* Announced once bound, so that a script can start sending (and
	 * learn the port when it asked for port 0). */
	or_cli_addr_format(&bound, a, sizeof(a));
	if (r.json)
		emit_json(json_pack("{s:s, s:s}", "event", "listening",
				    "addr", a));
	else
		printf("listening on %s\n", a);
	fflush(stdout);

	deadline = now_ms() + timeout_ms;
	while (!stop_flag && (count == 0 || r.received < count)) {
		uint64_t t = now_ms();
		int rc;

		if (t >= deadline) {
			timed_out = 1;
			break;
		}
		rc = wait_readable(fd, deadline - t);
		if (rc < 0 || (rc > 0 && drain_delivered(fd, &r, count) != 0)) {
			close(fd);
			return EXIT_FAIL;
		}
	}
	close(fd);
	if (r.json)
		emit_json(json_pack("{s:s, s:I, s:I, s:b, s:b}", "event",
				    "summary", "received", (json_int_t)r.received,
				    "invalid", (json_int_t)r.invalid,
				    "timed_out", timed_out,
				    "interrupted", (int)stop_flag));
	else
		printf("summary: received %" PRIu64 ", invalid %" PRIu64 "%s%s\n",
		       r.received, r.invalid, timed_out ? " (timed out)" : "",
		       stop_flag ? " (interrupted)" : "");
	fflush(stdout);
	/* With --count, success is getting them all; without, the run just
	 * lasts --timeout-ms. */
	ok = count == 0 || r.received >= count;
	return ok ? 0 : EXIT_FAIL;
}

