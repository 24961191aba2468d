/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-client: the reference client of docs/protocol.md, over kernel
 * UDP sockets (no DPDK). See docs/client.md.
 *
 *   send      sends MSGs to the appliance and reports the BOUNCEs that
 *             come back (or "no reply" once --wait-ms has passed);
 *   recv      plays a delivery node: prints every MSG delivered to it;
 *   keygen    makes the phone's X25519 key pair;
 *   open-key  opens the sealed K_sender the control plane answers an
 *             opt-in with into a key file, which send --key signs with.
 *
 * Headers are built and parsed by or_client_msg.h, key files by
 * or_client_key.h (both tested by tests/unit/test_client.c). Replies are
 * parsed strictly: a bad one is reported and counted, never trusted. The
 * client only ever handles tokens, never phone numbers, and never prints
 * a key. Every wait is bounded.
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

volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* SIGINT/SIGTERM end a run early but still print the summary; no
 * SA_RESTART so that poll() returns at once. */
void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The wall clock in ms since the Unix epoch: a version-2 send_time. */
uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
usage(FILE *f)
{
	fprintf(f,
		"usage: %s send --to HOST[:PORT] --to-token HEX\n"
		"         (--key KEYFILE [--v2] [--from-token HEX] | --v1 --from-token HEX)\n"
		"         [--epoch E] [--id N] [--count N] [--interval-ms MS]\n"
		"         [--wait-ms MS] [--payload TEXT | --payload-hex HEX]\n"
		"         [--bind ADDR[:PORT]] [--expect bounce|none] [-j]\n"
		"         test only (version 2): [--forge-tag | --tag HEX |\n"
		"         --key-from-other KEYFILE] [--time-offset-ms N | --send-time MS]\n"
		"         [--flip-byte OFFSET[:MASK]]...; any version: [--repeat N]\n"
		"       %s recv --listen ADDR[:PORT] [--count N] [--timeout-ms MS]\n"
		"         [--v1 | --v2] [-j]\n"
		"       %s keygen --secret FILE\n"
		"       %s open-key --secret FILE --epoch E --token HEX --out KEYFILE\n"
		"         [--sealed B64]   (else the sealed key is read from stdin)\n"
		"send speaks version 2 (signed) with --v2 or --key, version 1\n"
		"(unsigned: an appliance with [dataplane] auth = no) with --v1,\n"
		"else version %u. The test-only options make frames an appliance\n"
		"must refuse: --forge-tag a random tag, --tag these 8 bytes (16 hex\n"
		"digits, as -j prints a sent MSG's auth_tag) as the tag,\n"
		"--key-from-other a tag under another sender's key, --time-offset-ms\n"
		"a send_time shifted by N ms (stale or future), --send-time this\n"
		"send_time (ms since 1970), --flip-byte the byte at OFFSET of the\n"
		"UDP payload xor MASK (default 1) after signing (not the tag's\n"
		"bytes 60..67; up to 8 times), --repeat each datagram sent N times\n"
		"(replays), --epoch E another key_epoch than the key file's.\n"
		"HOST and ADDR are numeric IPv4; default port %u. Tokens are 32 hex\n"
		"digits (optroutectl prints them); see docs/client.md.\n",
		prog, prog, prog, prog, CLIENT_DEFAULT_VERSION,
		OR_PROTO_DEFAULT_PORT);
}

int
parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max,
	  uint64_t *out)
{
	if (or_cli_u64_parse(s, min, max, out) == 0)
		return 0;
	fprintf(stderr, "%s: %s: invalid value '%s' (expected %" PRIu64
		"..%" PRIu64 ")\n", prog, opt, s, min, max);
	return -EINVAL;
}

/* A signed decimal number in [-bound, bound]. */
int
parse_i64(const char *opt, const char *s, int64_t bound, int64_t *out)
{
	const char *d = *s == '-' ? s + 1 : s;
	uint64_t v;

	if (or_cli_u64_parse(d, 0, (uint64_t)bound, &v) == 0) {
		*out = *s == '-' ? -(int64_t)v : (int64_t)v;
		return 0;
	}
	fprintf(stderr, "%s: %s: invalid value '%s' (expected -%" PRId64
		"..%" PRId64 ")\n", prog, opt, s, bound, bound);
	return -EINVAL;
}

int
parse_addr(const char *opt, const char *s, int allow_zero,
	   struct sockaddr_in *sa)
{
	switch (or_cli_addr_parse(s, OR_PROTO_DEFAULT_PORT, allow_zero, sa)) {
	case OR_CLI_ADDR_OK:
		return 0;
	case OR_CLI_ADDR_BAD_HOST:
		fprintf(stderr, "%s: %s: bad host in '%s' (expected a numeric "
			"IPv4 address, e.g. 192.0.2.1[:PORT])\n", prog, opt, s);
		return -EINVAL;
	default:
		fprintf(stderr, "%s: %s: bad port in '%s' (expected %s..65535)\n",
			prog, opt, s, allow_zero ? "0" : "1");
		return -EINVAL;
	}
}

int
parse_token(const char *opt, const char *s, struct or_token *t)
{
	if (or_cli_token_parse(s, t) == 0)
		return 0;
	/* Do not echo the value: a user may have typed something else than a
	 * token there (a phone number), and that must not end up in logs. */
	fprintf(stderr, "%s: %s: bad token (expected exactly %d hex digits, "
		"got %zu characters)\n", prog, opt, 2 * OR_TOKEN_LEN, strlen(s));
	return -EINVAL;
}

void
id_str(uint64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64, id);
}

/* One JSON object per line; stdout is flushed per event so that a
 * script reading it sees each one as it happens. */
void
emit_json(json_t *o)
{
	if (o == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return;
	}
	json_dumpf(o, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(o);
}

int
open_socket(const struct sockaddr_in *bind_sa)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int sz = 1 << 20;
	char a[OR_CLI_ADDR_STRLEN];

	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
		return -1;
	}
	/* Best effort: a burst of messages should not overflow the default
	 * buffer; failing here is harmless. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind_sa != NULL &&
	    bind(fd, (const struct sockaddr *)bind_sa, sizeof(*bind_sa)) != 0) {
		or_cli_addr_format(bind_sa, a, sizeof(a));
		fprintf(stderr, "%s: bind %s: %s\n", prog, a, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits up to timeout_ms for fd to be readable: 1 readable, 0 not (time
 * up or a signal), -1 error. */
int
wait_readable(int fd, uint64_t timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int rc = poll(&p, 1, (int)timeout_ms);

	if (rc < 0 && errno != EINTR) {
		fprintf(stderr, "%s: poll: %s\n", prog, strerror(errno));
		return -1;
	}
	return rc > 0;
}

/* Reads one waiting datagram into buf: its length, -EAGAIN when none is
 * left, -EIO on a socket error. An ICMP error of an earlier send
 * (connection refused...) is not a datagram and not fatal: skipped. */
ssize_t
rx_one(int fd, uint8_t *buf, size_t cap, struct sockaddr_in *from)
{
	for (;;) {
		socklen_t fl = sizeof(*from);
		ssize_t n = recvfrom(fd, buf, cap, MSG_DONTWAIT,
				     (struct sockaddr *)from, &fl);

		if (n >= 0 && fl == sizeof(*from) && from->sin_family == AF_INET)
			return n;
		if (n >= 0 || errno == ECONNREFUSED || errno == EHOSTUNREACH ||
		    errno == ENETUNREACH)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return -EAGAIN;
		fprintf(stderr, "%s: recvfrom: %s\n", prog, strerror(errno));
		return -EIO;
	}
}

/* An invalid datagram: reported on stdout with the other events. */
void
report_invalid(int json, const char *what, enum or_cli_err e,
	       const struct sockaddr_in *from, size_t len)
{
	char a[OR_CLI_ADDR_STRLEN];

	or_cli_addr_format(from, a, sizeof(a));
	if (json)
		emit_json(json_pack("{s:s, s:s, s:s, s:s, s:I}", "event", "error",
				    "what", what, "error", or_cli_err_name(e),
				    "from", a, "len", (json_int_t)len));
	else
		printf("invalid %s from %s: %s (%zu bytes)\n", what, a,
		       or_cli_err_name(e), len);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: libsodium failed to initialise\n", prog);
		return EXIT_FAIL;
	}
	/* Subcommand options start at argv[1], which getopt skips as its
	 * "program name". */
	if (strcmp(argv[1], "send") == 0)
		return cmd_send(argc - 1, argv + 1);
	if (strcmp(argv[1], "recv") == 0)
		return cmd_recv(argc - 1, argv + 1);
	if (strcmp(argv[1], "keygen") == 0)
		return cmd_keygen(argc - 1, argv + 1);
	if (strcmp(argv[1], "open-key") == 0)
		return cmd_open_key(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
