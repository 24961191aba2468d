/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-client send: MSGs to the appliance, and the BOUNCEs that come
 * back (see main.c and docs/client.md). Version 2 signs each MSG with the
 * key file's K_sender and takes a bounce only if its tag is right under
 * that key; one that is not is a forged bounce.
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
#include <sodium.h>

#include "client.h"
#include "tests/tools/or_client_test_opts.h"

static const char *prog = CLIENT_PROG;

/* ------------------------------------------------------------ send -- */

struct send_opts {
	struct sockaddr_in to;
	struct sockaddr_in bind;
	int have_to, have_from_tok, have_to_tok, have_bind, json;
	struct or_token from_tok, to_tok;
	uint64_t epoch, id, count, interval_ms, wait_ms, repeat;
	int have_id, have_epoch;
	uint8_t payload[OR_CLI_MAX_PAYLOAD];
	size_t payload_len;
	int have_payload;
	enum { EXPECT_ANY, EXPECT_BOUNCE, EXPECT_NONE } expect;
	uint8_t version;
	int have_v1, have_v2;
	/* Version 2: the key (MSGs are signed and bounces checked with it),
	 * and the test-only options. Wiped before the struct is freed. */
	const char *key_path, *other_path;
	struct or_cli_sender_key key, other;
	int forge_tag, have_time_offset, have_tag, have_send_time;
	int64_t time_offset_ms;
	uint64_t send_time;               /* --send-time: fixed */
	uint8_t tag[OR_AUTH_TAG_LEN];     /* --tag: sent as is */
	struct or_cli_flip flip[OR_CLI_MAX_FLIPS]; /* --flip-byte */
	unsigned n_flips;
};

struct send_state {
	const struct send_opts *o;
	int fd;
	uint64_t sent;       /* messages sent: ids o->id .. o->id + sent - 1 */
	uint8_t *bounced;    /* per message: bounces received (saturating) */
	uint64_t n_bounced;  /* messages with at least one bounce */
	uint64_t n_dup;      /* bounces beyond the first of a message */
	uint64_t n_invalid;  /* replies refused */
	uint64_t n_forged;   /* version 2: bounces with a bad tag */
};

static int
send_one(struct send_state *s)
{
	const struct send_opts *o = s->o;
	uint8_t buf[OR_HDR_LEN + OR_CLI_MAX_PAYLOAD];
	struct or_cli_msg m = {
		.type = OR_TYPE_MSG,
		.key_epoch = (uint8_t)o->epoch,
		.msg_id = o->id + s->sent,
		.sender = o->from_tok,
		.recipient = o->to_tok,
		.payload = o->payload,
		.payload_len = (uint16_t)o->payload_len,
	};
	int v2 = o->version == OR_PROTO_V2, len;
	char ids[24], a[OR_CLI_ADDR_STRLEN];
	char tag[2 * OR_AUTH_TAG_LEN + 1];

	/* The offset is bounded so that the sum stays positive. */
	if (v2)
		m.send_time = o->have_send_time ? o->send_time :
			      (uint64_t)((int64_t)wall_ms() + o->time_offset_ms);
	len = or_cli_build(o->version, buf, sizeof(buf), &m);
	if (len < 0)
		return len; /* not reached: the payload size is checked */
	if (v2 && o->forge_tag)
		randombytes_buf(buf + OR_HDR2_TAG_OFF, OR_AUTH_TAG_LEN);
	else if (v2 && o->have_tag)
		memcpy(buf + OR_HDR2_TAG_OFF, o->tag, OR_AUTH_TAG_LEN);
	else if (v2)
		or_cli_sign2(buf, o->other_path != NULL ? &o->other.k_sender :
							  &o->key.k_sender);
	/* --flip-byte: after the tag, as a change in flight would be (each
	 * offset was checked against this length by send_settle()). */
	or_cli_flip_apply(buf, o->flip, o->n_flips);
	or_cli_hex_format(buf + OR_HDR2_TAG_OFF, OR_AUTH_TAG_LEN, tag);
	/* --repeat: the very same bytes again, as a replay would be. */
	for (uint64_t r = 0; r < o->repeat; r++) {
		ssize_t n = sendto(s->fd, buf, (size_t)len, 0,
				   (const struct sockaddr *)&o->to,
				   sizeof(o->to));

		if (n != len) {
			or_cli_addr_format(&o->to, a, sizeof(a));
			fprintf(stderr, "%s: sendto %s: %s\n", prog, a,
				n < 0 ? strerror(errno) : "short write");
			return -EIO;
		}
	}
	s->sent++;
	id_str(m.msg_id, ids, sizeof(ids));
	if (o->json) {
		json_t *j = json_pack("{s:s, s:s, s:I}", "event", "sent",
				      "msg_id", ids, "payload_len",
				      (json_int_t)o->payload_len);

		/* The tag as sent (public: it is on the wire), so that a
		 * test can copy it into another MSG with --tag. */
		if (j != NULL && v2) {
			json_object_set_new(j, "send_time",
					    json_integer((json_int_t)m.send_time));
			json_object_set_new(j, "auth_tag", json_string(tag));
		}
		if (j != NULL && o->n_flips > 0)
			json_object_set_new(j, "flipped",
					    json_integer((json_int_t)o->n_flips));
		if (j != NULL && o->repeat > 1)
			json_object_set_new(j, "copies",
					    json_integer((json_int_t)o->repeat));
		emit_json(j);
	} else {
		printf("sent msg_id=%s payload_len=%zu", ids, o->payload_len);
		if (v2)
			printf(" send_time=%" PRIu64, m.send_time);
		if (o->repeat > 1)
			printf(" copies=%" PRIu64, o->repeat);
		printf("\n");
	}
	fflush(stdout);
	return 0;
}

/* A reply that passed every check but the tag: reported, counted apart,
 * never taken as a bounce. */
static void
report_forged(struct send_state *s, const struct or_cli_view *v,
	      const struct sockaddr_in *from)
{
	const char *rname = or_cli_reason_name(v->reason);
	char ids[24], a[OR_CLI_ADDR_STRLEN];

	s->n_forged++;
	id_str(v->msg_id, ids, sizeof(ids));
	or_cli_addr_format(from, a, sizeof(a));
	if (s->o->json)
		emit_json(json_pack("{s:s, s:s, s:s, s:i, s:s}", "event",
				    "forged_bounce", "msg_id", ids, "reason",
				    rname != NULL ? rname : "unknown",
				    "reason_code", (int)v->reason, "from", a));
	else
		printf("forged bounce msg_id=%s reason=%s (%u) from=%s: bad tag\n",
		       ids, rname != NULL ? rname : "unknown", v->reason, a);
	fflush(stdout);
}

/* Checks one reply: from the appliance's IP and port, then
 * or_cli_bounce_check(). */
static void
handle_reply(struct send_state *s, const uint8_t *buf, size_t len,
	     const struct sockaddr_in *from)
{
	const struct send_opts *o = s->o;
	const struct or_cli_sent sent = {
		.version = o->version,
		.first_id = o->id,
		.n = s->sent,
		.sender = o->from_tok,
		.recipient = o->to_tok,
		.k_sender = &o->key.k_sender,
	};
	struct or_cli_view v;
	enum or_cli_err e;
	uint64_t idx = 0;
	const char *rname;
	char ids[24], snd[2 * OR_TOKEN_LEN + 1], rcp[2 * OR_TOKEN_LEN + 1];
	int dup;

	if (from->sin_addr.s_addr != o->to.sin_addr.s_addr ||
	    from->sin_port != o->to.sin_port)
		e = OR_CLI_BAD_SOURCE;
	else
		e = or_cli_bounce_check(buf, len, &sent, &v, &idx);
	if (e == OR_CLI_FORGED) {
		report_forged(s, &v, from);
		return;
	}
	if (e != OR_CLI_OK) {
		s->n_invalid++;
		report_invalid(o->json, "reply", e, from, len);
		return;
	}
	dup = s->bounced[idx] > 0;
	if (dup)
		s->n_dup++;
	else
		s->n_bounced++;
	if (s->bounced[idx] < UINT8_MAX)
		s->bounced[idx]++;
	rname = or_cli_reason_name(v.reason);
	id_str(v.msg_id, ids, sizeof(ids));
	or_cli_hex_format(v.sender.b, OR_TOKEN_LEN, snd);
	or_cli_hex_format(v.recipient.b, OR_TOKEN_LEN, rcp);
	if (o->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:b}",
				      "event", "bounce", "msg_id", ids,
				      "reason", rname != NULL ? rname : "unknown",
				      "reason_code", (int)v.reason,
				      "epoch", (int)v.key_epoch,
				      "sender", snd, "recipient", rcp,
				      "duplicate", dup);

		if (j != NULL && v.version == OR_PROTO_V2)
			json_object_set_new(j, "send_time",
					    json_integer((json_int_t)v.send_time));
		emit_json(j);
	} else {
		printf("bounce msg_id=%s reason=%s (%u) epoch=%u%s\n", ids,
		       rname != NULL ? rname : "unknown", v.reason, v.key_epoch,
		       dup ? " duplicate" : "");
	}
	fflush(stdout);
}

/* Reads every datagram waiting on the socket. */
static int
drain_replies(struct send_state *s)
{
	static uint8_t buf[RX_BUF_LEN];
	struct sockaddr_in from;
	ssize_t n;

	while ((n = rx_one(s->fd, buf, sizeof(buf), &from)) >= 0)
		handle_reply(s, buf, (size_t)n, &from);
	return n == -EAGAIN ? 0 : -EIO;
}

static int
send_loop(struct send_state *s)
{
	const struct send_opts *o = s->o;
	uint64_t t = now_ms(), next = t, deadline = 0;

	while (!stop_flag) {
		uint64_t until;
		int rc;

		t = now_ms();
		if (s->sent < o->count && t >= next) {
			if (send_one(s) != 0)
				return -EIO;
			next = t + o->interval_ms;
			if (s->sent == o->count)
				deadline = t + o->wait_ms;
			continue;
		}
		/* Done when time is up. Once every message has bounced, linger
		 * a little (at most the time left) so that a duplicate bounce
		 * right behind the last one is still seen and counted. */
		if (s->sent == o->count && s->n_bounced == o->count &&
		    deadline > t + CLIENT_LINGER_MS)
			deadline = t + CLIENT_LINGER_MS;
		if (s->sent == o->count && t >= deadline)
			break;
		until = s->sent < o->count ? next : deadline;
		rc = wait_readable(s->fd, until > t ? until - t : 0);
		if (rc < 0)
			return -EIO;
		if (rc > 0 && drain_replies(s) != 0)
			return -EIO;
	}
	return 0;
}

static int
send_report(const struct send_state *s)
{
	const struct send_opts *o = s->o;
	uint64_t no_reply = 0;
	char ids[24];
	int ok;

	for (uint64_t i = 0; i < s->sent; i++) {
		if (s->bounced[i] > 0)
			continue;
		no_reply++;
		id_str(o->id + i, ids, sizeof(ids));
		if (o->json)
			emit_json(json_pack("{s:s, s:s}", "event", "no_reply",
					    "msg_id", ids));
		else
			printf("msg_id=%s: no reply (delivered or dropped)\n",
			       ids);
	}
	if (o->json) {
		emit_json(json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:b}",
				    "event", "summary",
				    "sent", (json_int_t)s->sent,
				    "bounced", (json_int_t)s->n_bounced,
				    "no_reply", (json_int_t)no_reply,
				    "duplicate", (json_int_t)s->n_dup,
				    "invalid", (json_int_t)s->n_invalid,
				    "forged", (json_int_t)s->n_forged,
				    "version", (int)o->version,
				    "interrupted", (int)stop_flag));
	} else {
		printf("summary: sent %" PRIu64 ", bounced %" PRIu64
		       ", no reply %" PRIu64 ", duplicate %" PRIu64
		       ", invalid %" PRIu64, s->sent, s->n_bounced, no_reply,
		       s->n_dup, s->n_invalid);
		if (o->version == OR_PROTO_V2)
			printf(", forged %" PRIu64, s->n_forged);
		printf("%s\n", stop_flag ? " (interrupted)" : "");
	}
	fflush(stdout);

	/* Someone sent bounces in the appliance's name: whatever was
	 * expected, that is what the run must say. */
	if (s->n_forged > 0)
		return EXIT_FORGED;
	/* An expectation is about a clean outcome: a refused reply fails
	 * it too. */
	ok = s->sent == o->count &&
	     (o->expect == EXPECT_ANY || s->n_invalid == 0) &&
	     (o->expect != EXPECT_BOUNCE || s->n_bounced == o->count) &&
	     (o->expect != EXPECT_NONE || s->n_bounced + s->n_dup == 0);
	return ok ? 0 : EXIT_FAIL;
}

/* --payload TEXT or --payload-hex HEX, once. */
static int
set_payload(struct send_opts *o, int hex, const char *arg)
{
	int r = 0;

	if (o->have_payload) {
		fprintf(stderr, "%s: --payload or --payload-hex given twice\n",
			prog);
		return -EINVAL;
	}
	o->have_payload = 1;
	if (hex) {
		r = or_cli_hex_parse(arg, o->payload, OR_CLI_MAX_PAYLOAD,
				     &o->payload_len);
		if (r == -EINVAL)
			fprintf(stderr, "%s: --payload-hex: expected an even "
				"number of hex digits\n", prog);
	} else if (strlen(arg) > OR_CLI_MAX_PAYLOAD) {
		r = -ERANGE;
	} else {
		o->payload_len = strlen(arg);
		memcpy(o->payload, arg, o->payload_len);
	}
	if (r == -ERANGE)
		fprintf(stderr, "%s: payload longer than %u bytes (one "
			"1500-byte IPv4 packet)\n", prog, OR_CLI_MAX_PAYLOAD);
	return r;
}

/* --tag HEX, once. */
static int
set_tag(struct send_opts *o, const char *arg)
{
	if (o->have_tag) {
		fprintf(stderr, "%s: --tag given twice\n", prog);
		return -EINVAL;
	}
	o->have_tag = 1;
	if (or_cli_tag_parse(arg, o->tag) == 0)
		return 0;
	fprintf(stderr, "%s: --tag: expected exactly %u hex digits (the "
		"tag's %u bytes as sent), got %zu characters\n", prog,
		2 * OR_AUTH_TAG_LEN, OR_AUTH_TAG_LEN, strlen(arg));
	return -EINVAL;
}

/* --flip-byte OFF[:MASK], up to OR_CLI_MAX_FLIPS times. */
static int
add_flip(struct send_opts *o, const char *arg)
{
	int r;

	if (o->n_flips == OR_CLI_MAX_FLIPS) {
		fprintf(stderr, "%s: --flip-byte: at most %u\n", prog,
			OR_CLI_MAX_FLIPS);
		return -EINVAL;
	}
	r = or_cli_flip_parse(arg, &o->flip[o->n_flips]);
	if (r == 0) {
		o->n_flips++;
		return 0;
	}
	if (r == -ERANGE)
		fprintf(stderr, "%s: --flip-byte: '%s': the offset is in the "
			"tag (%u..%u: use --tag or --forge-tag) or past the "
			"largest MSG (%u bytes)\n", prog, arg, OR_HDR2_TAG_OFF,
			OR_HDR_LEN - 1, OR_HDR_LEN + OR_CLI_MAX_PAYLOAD);
	else
		fprintf(stderr, "%s: --flip-byte: '%s': expected OFFSET or "
			"OFFSET:MASK (decimal or 0x-hex; MASK 1..255, default "
			"1)\n", prog, arg);
	return r;
}

/* A key file into *k; 0 or EXIT_USAGE (the message printed). */
static int
load_key(const char *opt, const char *path, struct or_cli_sender_key *k)
{
	char err[OR_CLI_ERR_LEN];

	if (or_cli_sender_key_read(path, k, err) == 0)
		return 0;
	fprintf(stderr, "%s: %s: %s\n", prog, opt, err);
	return EXIT_USAGE;
}

/* The version and what it needs, once the options are read: 0, or the
 * exit status (the message printed). Loads the key files. */
static int
send_settle(struct send_opts *o)
{
	const char *v2_only = o->key_path != NULL ? "--key" :
			      o->other_path != NULL ? "--key-from-other" :
			      o->forge_tag ? "--forge-tag" :
			      o->have_time_offset ? "--time-offset-ms" :
			      o->have_send_time ? "--send-time" :
			      o->have_tag ? "--tag" :
			      o->n_flips > 0 ? "--flip-byte" : NULL;

	if (o->have_v1 && o->have_v2) {
		fprintf(stderr, "%s: --v1 and --v2 exclude each other\n", prog);
		return EXIT_USAGE;
	}
	o->version = o->have_v1 ? OR_PROTO_V1 :
		     o->have_v2 || o->key_path != NULL ? OR_PROTO_V2 :
		     CLIENT_DEFAULT_VERSION;
	if (o->version == OR_PROTO_V1) {
		if (v2_only != NULL) {
			fprintf(stderr, "%s: %s is for version 2 (signed "
				"frames); version 1 sends them unsigned\n",
				prog, v2_only);
			return EXIT_USAGE;
		}
		if (!o->have_to || !o->have_from_tok || !o->have_to_tok) {
			fprintf(stderr, "%s: send needs --to, --from-token and "
				"--to-token\n", prog);
			return EXIT_USAGE;
		}
		return 0;
	}
	if (!o->have_to || !o->have_to_tok || o->key_path == NULL) {
		fprintf(stderr, "%s: send needs --to and --to-token, and version "
			"2 needs --key KEYFILE (made by open-key); --v1 sends "
			"unsigned version-1 frames, for an appliance with "
			"[dataplane] auth = no\n", prog);
		return EXIT_USAGE;
	}
	if (o->forge_tag + (o->other_path != NULL) + o->have_tag > 1) {
		fprintf(stderr, "%s: --forge-tag, --key-from-other and --tag "
			"exclude each other (each sets the tag)\n", prog);
		return EXIT_USAGE;
	}
	if (o->have_send_time && o->have_time_offset) {
		fprintf(stderr, "%s: --send-time and --time-offset-ms exclude "
			"each other\n", prog);
		return EXIT_USAGE;
	}
	for (unsigned i = 0; i < o->n_flips; i++) {
		if (or_cli_flip_fits(&o->flip[i], OR_HDR_LEN + o->payload_len))
			continue;
		fprintf(stderr, "%s: --flip-byte: offset %u is past the "
			"datagram (%zu bytes: the 68-byte header and the "
			"payload)\n", prog, o->flip[i].off,
			OR_HDR_LEN + o->payload_len);
		return EXIT_USAGE;
	}
	if (load_key("--key", o->key_path, &o->key) != 0 ||
	    (o->other_path != NULL &&
	     load_key("--key-from-other", o->other_path, &o->other) != 0))
		return EXIT_USAGE;
	if (o->have_from_tok && !or_token_eq(&o->from_tok, &o->key.token)) {
		fprintf(stderr, "%s: --from-token is not the token of --key's "
			"file (--key-from-other tags with another sender's "
			"key)\n", prog);
		return EXIT_USAGE;
	}
	o->from_tok = o->key.token;
	if (!o->have_epoch)
		o->epoch = o->key.epoch;
	return 0;
}

int
cmd_send(int argc, char **argv)
{
	enum { O_V1 = 256, O_V2, O_KEY, O_OTHER, O_FORGE, O_TOFF, O_REPEAT,
	       O_TAG, O_FLIP, O_STIME };
	static const struct option lopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "from-token", required_argument, NULL, 'F' },
		{ "to-token", required_argument, NULL, 'T' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "id", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "interval-ms", required_argument, NULL, 'I' },
		{ "wait-ms", required_argument, NULL, 'w' },
		{ "payload", required_argument, NULL, 'p' },
		{ "payload-hex", required_argument, NULL, 'x' },
		{ "bind", required_argument, NULL, 'b' },
		{ "expect", required_argument, NULL, 'E' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "v1", no_argument, NULL, O_V1 },
		{ "v2", no_argument, NULL, O_V2 },
		{ "key", required_argument, NULL, O_KEY },
		{ "key-from-other", required_argument, NULL, O_OTHER },
		{ "forge-tag", no_argument, NULL, O_FORGE },
		{ "time-offset-ms", required_argument, NULL, O_TOFF },
		{ "repeat", required_argument, NULL, O_REPEAT },
		{ "tag", required_argument, NULL, O_TAG },
		{ "flip-byte", required_argument, NULL, O_FLIP },
		{ "send-time", required_argument, NULL, O_STIME },
		{ NULL, 0, NULL, 0 },
	};
	struct send_opts *o = calloc(1, sizeof(*o));
	struct send_state s = { .o = o, .fd = -1 };
	int c, rc = EXIT_USAGE;

	if (o == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return EXIT_FAIL;
	}
	o->count = 1;
	o->repeat = 1;
	o->wait_ms = 1000;
	while ((c = getopt_long(argc, argv, "jh", lopts, NULL)) != -1) {
		int r = 0;

		switch (c) {
		case 't':
			r = parse_addr("--to", optarg, 0, &o->to);
			o->have_to = 1;
			break;
		case 'b':
			r = parse_addr("--bind", optarg, 1, &o->bind);
			o->have_bind = 1;
			break;
		case 'F':
			r = parse_token("--from-token", optarg, &o->from_tok);
			o->have_from_tok = 1;
			break;
		case 'T':
			r = parse_token("--to-token", optarg, &o->to_tok);
			o->have_to_tok = 1;
			break;
		case 'e':
			r = parse_u64("--epoch", optarg, 0, 255, &o->epoch);
			o->have_epoch = 1;
			break;
		case 'i':
			r = parse_u64("--id", optarg, 0, UINT64_MAX, &o->id);
			o->have_id = 1;
			break;
		case 'n':
			r = parse_u64("--count", optarg, 1, MAX_SEND_COUNT,
				      &o->count);
			break;
		case 'I':
			r = parse_u64("--interval-ms", optarg, 0,
				      MAX_INTERVAL_MS, &o->interval_ms);
			break;
		case 'w':
			r = parse_u64("--wait-ms", optarg, 0, MAX_WAIT_MS,
				      &o->wait_ms);
			break;
		case 'p':
		case 'x':
			r = set_payload(o, c == 'x', optarg);
			break;
		case 'E':
			if (strcmp(optarg, "bounce") == 0) {
				o->expect = EXPECT_BOUNCE;
			} else if (strcmp(optarg, "none") == 0) {
				o->expect = EXPECT_NONE;
			} else {
				fprintf(stderr, "%s: --expect: '%s' is not "
					"bounce or none\n", prog, optarg);
				r = -EINVAL;
			}
			break;
		case 'j':
			o->json = 1;
			break;
		case O_V1:
			o->have_v1 = 1;
			break;
		case O_V2:
			o->have_v2 = 1;
			break;
		case O_KEY:
			o->key_path = optarg;
			break;
		case O_OTHER:
			o->other_path = optarg;
			break;
		case O_FORGE:
			o->forge_tag = 1;
			break;
		case O_TOFF:
			r = parse_i64("--time-offset-ms", optarg,
				      MAX_TIME_OFFSET_MS, &o->time_offset_ms);
			o->have_time_offset = 1;
			break;
		case O_REPEAT:
			r = parse_u64("--repeat", optarg, 1, MAX_REPEAT,
				      &o->repeat);
			break;
		case O_STIME:
			r = parse_u64("--send-time", optarg, 0, UINT64_MAX,
				      &o->send_time);
			o->have_send_time = 1;
			break;
		case O_TAG:
			r = set_tag(o, optarg);
			break;
		case O_FLIP:
			r = add_flip(o, optarg);
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
		if (r != 0)
			goto out;
	}
	if (optind != argc) {
		fprintf(stderr, "%s: send: unexpected argument '%s'\n", prog,
			argv[optind]);
		goto out;
	}
	rc = send_settle(o);
	if (rc != 0)
		goto out;
	/* A fresh random first id (docs/protocol.md section 10); the next
	 * messages take the following ones. */
	if (!o->have_id && getrandom(&o->id, sizeof(o->id), 0) !=
	    (ssize_t)sizeof(o->id)) {
		fprintf(stderr, "%s: getrandom: %s\n", prog, strerror(errno));
		rc = EXIT_FAIL;
		goto out;
	}
	rc = EXIT_FAIL;
	s.bounced = calloc(o->count, 1);
	if (s.bounced == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	s.fd = open_socket(o->have_bind ? &o->bind : NULL);
	if (s.fd < 0)
		goto out;
	install_signals();
	if (send_loop(&s) == 0)
		rc = send_report(&s);
	else
		(void)send_report(&s);
out:
	if (s.fd >= 0)
		close(s.fd);
	free(s.bounced);
	sodium_memzero(o, sizeof(*o)); /* the keys */
	free(o);
	return rc;
}
