/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-chanctl: drives the dataplane's update channel from the command
 * line, for tests and benchmarks (the control plane uses the same client
 * library, control/lib/chan_client.c). See usage() and docs/channel.md.
 *
 * Every updating command waits for the dataplane's ACK (unless -n) and
 * exits 1 if the dataplane reported any ERROR, so a script can rely on
 * "exit 0" meaning "applied and visible to every worker".
 *
 * Entry files (load, resync, random -o) have one entry per line:
 *     TOKENHEX STATE NODE [EPOCH]
 * TOKENHEX is 32 hex digits, STATE is in|out (or 1|2) or del (load only),
 * NODE 0..65535, EPOCH 0..255 (default 0). '#' starts a comment.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "optroute/chan_client.h"
#include "or_random_entry.h"

#define CTL_DEFAULT_SOCK "/run/optroute/dataplane.sock"
#define CTL_CHUNK 32768 /* ops buffered before a send */
#define CTL_STATS_MAX 4096

static const char *prog = "optroute-chanctl";

struct ctl {
	const char *sock;
	int timeout_ms;
	int no_wait;
	int quiet;
	struct or_chan_client *c;
	uint64_t last_seq; /* 0 = nothing sent */
	unsigned errors;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-s SOCK] [-t MS] [-n] [-q] COMMAND [ARGS]\n"
		"  -s SOCK   dataplane channel socket (default %s)\n"
		"  -t MS     timeout for connect, sends and the ack (default 10000)\n"
		"  -n        do not wait for the ack\n"
		"  -q        print nothing on success\n"
		"commands:\n"
		"  hello                      show the dataplane's HELLO\n"
		"  upsert TOKENHEX STATE NODE [EPOCH]   STATE: in|out\n"
		"  delete TOKENHEX\n"
		"  load FILE                  apply a file's entries as deltas ('-' = stdin)\n"
		"  auth-keys [EPOCH KEYHEX [EPOCH KEYHEX]]\n"
		"                             the live auth epochs' K_auth, current first\n"
		"                             (tests and benchmarks only: a key in argv)\n"
		"  resync FILE [GENERATION]   full resync: exactly the file's entries remain\n"
		"                             (default generation: the dataplane's + 1)\n"
		"  random [-o FILE] [-k NODES] [-p OUT_PERMILLE] N SEED\n"
		"                             upsert N tokens derived from SEED; list them in\n"
		"                             entry-file format to FILE ('-' = stdout)\n"
		"  stats                      print the dataplane's counters, 'name value'\n"
		"  wait-ack [SEQ]             print the acked seq; with SEQ, wait (reconnecting)\n"
		"                             until it is >= SEQ\n"
		"entry file lines: TOKENHEX STATE NODE [EPOCH]; STATE in|out|del (del: load only)\n",
		prog, CTL_DEFAULT_SOCK);
}

static void
ctl_on_error(void *arg, const struct or_chan_err_info *e)
{
	(void)arg;
	fprintf(stderr, "%s: dataplane error: %s (%d)", prog, strerror(e->code),
		e->code);
	if (e->seq != OR_CHAN_NO_SEQ)
		fprintf(stderr, " seq %" PRIu64, e->seq);
	if (e->index != OR_CHAN_NO_INDEX)
		fprintf(stderr, " op %u", e->index);
	fprintf(stderr, ": %s\n", e->text);
}

static int
ctl_connect(struct ctl *x)
{
	int rc = or_chan_connect(x->sock, OR_CHAN_ROLE_TOOL, x->timeout_ms,
				 &x->c);

	if (rc < 0) {
		fprintf(stderr, "%s: cannot connect to %s: %s\n", prog, x->sock,
			strerror(-rc));
		return -1;
	}
	or_chan_set_timeout(x->c, x->timeout_ms);
	or_chan_set_error_cb(x->c, ctl_on_error, x);
	return 0;
}

/* Waits for the ack of everything sent; 0, or -1 on failure or errors. */
static int
ctl_finish(struct ctl *x)
{
	int rc = 0;

	if (!x->no_wait && x->last_seq != 0) {
		rc = or_chan_wait_ack(x->c, x->last_seq, x->timeout_ms);
		if (rc < 0) {
			fprintf(stderr, "%s: no ack for seq %" PRIu64 ": %s\n",
				prog, x->last_seq, strerror(-rc));
			return -1;
		}
	} else {
		or_chan_poll(x->c);
	}
	x->errors += or_chan_take_errors(x->c, NULL);
	if (x->errors > 0) {
		fprintf(stderr, "%s: the dataplane reported %u error(s)\n", prog,
			x->errors);
		return -1;
	}
	if (!x->quiet && !x->no_wait && x->last_seq != 0)
		printf("acked seq %" PRIu64 "\n", x->last_seq);
	return 0;
}

/* ---- parsing ---- */

static int
parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long n;

	if (s == NULL || *s == '\0' || *s == '-')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || n > max)
		return -1;
	*v = n;
	return 0;
}

/* STATE NODE [EPOCH] -> op. */
static int
parse_entry(const char *tokhex, const char *state, const char *node,
	    const char *epoch, int allow_del, struct or_chan_op *op,
	    const char **why)
{
	struct or_token t;
	uint64_t n = 0, ep = 0;
	enum or_consent_state st;

	if (or_chan_token_parse(tokhex, &t) < 0) {
		*why = "token must be 32 hex digits";
		return -1;
	}
	if (state != NULL && strcmp(state, "del") == 0) {
		if (!allow_del) {
			*why = "'del' is not allowed here";
			return -1;
		}
		or_chan_op_set(op, OR_CHAN_OP_DELETE, &t, 0);
		return 0;
	}
	if (state == NULL || node == NULL) {
		*why = "expected TOKENHEX STATE NODE [EPOCH]";
		return -1;
	}
	if (strcmp(state, "in") == 0 || strcmp(state, "1") == 0) {
		st = OR_STATE_IN;
	} else if (strcmp(state, "out") == 0 || strcmp(state, "2") == 0) {
		st = OR_STATE_OUT;
	} else {
		*why = "state must be in or out";
		return -1;
	}
	if (parse_u64(node, OR_NODE_MAX, &n) < 0) {
		*why = "node must be 0..65535";
		return -1;
	}
	if (epoch != NULL && parse_u64(epoch, 255, &ep) < 0) {
		*why = "epoch must be 0..255";
		return -1;
	}
	or_chan_op_set(op, OR_CHAN_OP_UPSERT, &t,
		       or_rec_make(st, (uint16_t)n, (uint8_t)ep, 0));
	return 0;
}

/* ---- streaming ops to the dataplane ---- */

struct ctl_sink {
	struct ctl *x;
	int resync;
	struct or_chan_op *ops;
	size_t n;
	uint64_t total;
};

static int
sink_flush(struct ctl_sink *s)
{
	int rc;

	if (s->n == 0)
		return 0;
	rc = s->resync ? or_chan_resync_data(s->x->c, s->ops, s->n,
					     &s->x->last_seq) :
			 or_chan_send_batch(s->x->c, s->ops, s->n,
					    &s->x->last_seq);
	if (rc < 0) {
		fprintf(stderr, "%s: send failed: %s\n", prog, strerror(-rc));
		return -1;
	}
	s->total += s->n;
	s->n = 0;
	return 0;
}

static int
sink_add(struct ctl_sink *s, const struct or_chan_op *op)
{
	s->ops[s->n++] = *op;
	return s->n == CTL_CHUNK ? sink_flush(s) : 0;
}

/* Streams the entries of path ('-' = stdin) into s. */
static int
ctl_read_file(struct ctl_sink *s, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char line[512];
	unsigned lineno = 0;
	int rc = 0;

	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *fld[5] = { NULL }, *save = NULL, *p;
		struct or_chan_op op;
		const char *why = NULL;
		int nf = 0;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "%s: %s:%u: line too long\n", prog,
				path, lineno);
			rc = -1;
			break;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		for (p = strtok_r(line, " \t\r\n", &save); p != NULL && nf < 5;
		     p = strtok_r(NULL, " \t\r\n", &save))
			fld[nf++] = p;
		if (nf == 0)
			continue;
		if (nf > 4) {
			why = "too many fields";
			rc = -1;
		} else {
			rc = parse_entry(fld[0], fld[1], fld[2], fld[3],
					 !s->resync, &op, &why);
		}
		if (rc < 0) {
			fprintf(stderr, "%s: %s:%u: %s\n", prog, path, lineno,
				why);
			break;
		}
		rc = sink_add(s, &op);
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "%s: %s: read error\n", prog, path);
		rc = -1;
	}
	if (f != stdin)
		fclose(f);
	return rc == 0 ? sink_flush(s) : -1;
}

static int
sink_init(struct ctl_sink *s, struct ctl *x, int resync)
{
	memset(s, 0, sizeof(*s));
	s->x = x;
	s->resync = resync;
	s->ops = malloc(CTL_CHUNK * sizeof(*s->ops));
	if (s->ops == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	return 0;
}

/* ---- commands ---- */

static int
cmd_hello(struct ctl *x)
{
	const struct or_chan_peer_info *p = or_chan_peer(x->c);

	printf("version %u\nworkers %u\nmax_ops %u\nentries %" PRIu64
	       "\nacked_seq %" PRIu64 "\ngeneration %" PRIu64 "\n",
	       p->version, p->workers, p->max_ops, p->entries, p->acked_seq,
	       p->generation);
	return 0;
}

static int
cmd_one(struct ctl *x, int argc, char **argv, int del)
{
	struct or_chan_op op;
	const char *why = NULL;
	int rc;

	if (del ? argc != 2 : (argc < 4 || argc > 5)) {
		usage(stderr);
		return 2;
	}
	if (del)
		rc = parse_entry(argv[1], "del", NULL, NULL, 1, &op, &why);
	else
		rc = parse_entry(argv[1], argv[2], argv[3],
				 argc == 5 ? argv[4] : NULL, 0, &op, &why);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", prog, why);
		return 2;
	}
	if (ctl_connect(x) < 0)
		return 1;
	rc = or_chan_send_batch(x->c, &op, 1, &x->last_seq);
	if (rc < 0) {
		fprintf(stderr, "%s: send failed: %s\n", prog, strerror(-rc));
		return 1;
	}
	return ctl_finish(x) < 0 ? 1 : 0;
}

/* auth-keys [EPOCH KEYHEX [EPOCH KEYHEX]]: the live auth epochs, current
 * first. Test and benchmark use only: the key is on the command line. */
static int
cmd_auth_keys(struct ctl *x, int argc, char **argv)
{
	struct or_chan_auth_key k[OR_CHAN_AUTH_MAX_EPOCHS];
	unsigned n = (unsigned)(argc - 1) / 2;
	int rc;

	memset(k, 0, sizeof(k));
	if (argc % 2 != 1 || n > OR_CHAN_AUTH_MAX_EPOCHS) {
		usage(stderr);
		return 2;
	}
	for (unsigned i = 0; i < n; i++) {
		char *end;
		unsigned long e = strtoul(argv[1 + 2 * i], &end, 10);
		const char *h = argv[2 + 2 * i];

		if (*end != '\0' || e > 255 || strlen(h) != 2 * OR_CHAN_AUTH_KEY_LEN) {
			fprintf(stderr, "%s: auth-keys: EPOCH 0..255 and 32 hex digits\n",
				prog);
			return 2;
		}
		k[i].epoch = (uint8_t)e;
		for (unsigned j = 0; j < OR_CHAN_AUTH_KEY_LEN; j++) {
			unsigned v;

			if (sscanf(h + 2 * j, "%2x", &v) != 1) {
				fprintf(stderr, "%s: auth-keys: bad hex\n", prog);
				return 2;
			}
			k[i].key[j] = (uint8_t)v;
		}
	}
	if (ctl_connect(x) < 0)
		return 1;
	rc = or_chan_send_auth_keys(x->c, k, n, &x->last_seq);
	explicit_bzero(k, sizeof(k));
	if (rc < 0) {
		fprintf(stderr, "%s: send failed: %s\n", prog, strerror(-rc));
		return 1;
	}
	return ctl_finish(x) < 0 ? 1 : 0;
}

static int
cmd_load(struct ctl *x, int argc, char **argv)
{
	struct ctl_sink s;
	int rc;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (ctl_connect(x) < 0 || sink_init(&s, x, 0) < 0)
		return 1;
	rc = ctl_read_file(&s, argv[1]);
	free(s.ops);
	if (rc < 0)
		return 1; /* the dataplane keeps what was sent and acked */
	if (ctl_finish(x) < 0)
		return 1;
	if (!x->quiet)
		printf("%" PRIu64 " entries applied\n", s.total);
	return 0;
}

static int
cmd_resync(struct ctl *x, int argc, char **argv)
{
	struct ctl_sink s;
	uint64_t gen;
	int rc;

	if (argc < 2 || argc > 3) {
		usage(stderr);
		return 2;
	}
	if (argc == 3 && (parse_u64(argv[2], UINT64_MAX, &gen) < 0 || gen == 0)) {
		fprintf(stderr, "%s: generation must be a number > 0\n", prog);
		return 2;
	}
	if (ctl_connect(x) < 0 || sink_init(&s, x, 1) < 0)
		return 1;
	if (argc == 2)
		gen = or_chan_peer(x->c)->generation + 1;
	rc = or_chan_resync_begin(x->c, gen, &x->last_seq);
	if (rc == 0)
		rc = ctl_read_file(&s, argv[1]);
	else
		fprintf(stderr, "%s: send failed: %s\n", prog, strerror(-rc));
	free(s.ops);
	/* On a failure, closing the connection aborts the resync: the
	 * dataplane keeps its table as it was. */
	if (rc < 0)
		return 1;
	rc = or_chan_resync_end(x->c, gen, &x->last_seq);
	if (rc < 0) {
		fprintf(stderr, "%s: send failed: %s\n", prog, strerror(-rc));
		return 1;
	}
	if (ctl_finish(x) < 0)
		return 1;
	if (!x->quiet)
		printf("resync generation %" PRIu64 ": %" PRIu64 " entries\n",
		       gen, s.total);
	return 0;
}

static int
cmd_random(struct ctl *x, int argc, char **argv)
{
	const char *out = NULL;
	uint64_t n, seed, nodes = 1, out_pm = 0;
	FILE *f = NULL;
	struct ctl_sink s;
	int opt, rc = 0;

	optind = 1;
	while ((opt = getopt(argc, argv, "+o:k:p:")) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'k':
			if (parse_u64(optarg, OR_NODE_MAX + 1ull, &nodes) < 0 ||
			    nodes == 0) {
				fprintf(stderr, "%s: -k: 1..65536 nodes\n", prog);
				return 2;
			}
			break;
		case 'p':
			if (parse_u64(optarg, 1000, &out_pm) < 0) {
				fprintf(stderr, "%s: -p: 0..1000\n", prog);
				return 2;
			}
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2 || parse_u64(argv[optind], UINT64_MAX, &n) < 0 ||
	    parse_u64(argv[optind + 1], UINT64_MAX, &seed) < 0) {
		usage(stderr);
		return 2;
	}
	if (out != NULL) {
		f = strcmp(out, "-") == 0 ? stdout : fopen(out, "w");
		if (f == NULL) {
			fprintf(stderr, "%s: %s: %s\n", prog, out,
				strerror(errno));
			return 1;
		}
	}
	if (ctl_connect(x) < 0 || sink_init(&s, x, 0) < 0) {
		if (f != NULL && f != stdout)
			fclose(f);
		return 1;
	}
	for (uint64_t i = 0; i < n && rc == 0; i++) {
		struct or_random_entry e;
		struct or_chan_op op;
		enum or_consent_state cs;
		uint16_t node;
		const struct or_token *tp = &e.t;

		or_random_entry(seed, i, out_pm, nodes, &e);
		cs = e.in ? OR_STATE_IN : OR_STATE_OUT;
		node = e.node;
		or_chan_op_set(&op, OR_CHAN_OP_UPSERT, tp,
			       or_rec_make(cs, node, 0, 0));
		if (f != NULL) {
			char hex[2 * OR_TOKEN_LEN + 1];

			or_chan_token_format(tp, hex);
			fprintf(f, "%s %s %u\n", hex,
				cs == OR_STATE_IN ? "in" : "out", node);
		}
		rc = sink_add(&s, &op);
	}
	if (rc == 0)
		rc = sink_flush(&s);
	free(s.ops);
	if (f != NULL && f != stdout && fclose(f) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, out, strerror(errno));
		rc = -1;
	}
	if (rc < 0 || ctl_finish(x) < 0)
		return 1;
	if (!x->quiet && f != stdout)
		printf("%" PRIu64 " entries applied\n", s.total);
	return 0;
}

static int
cmd_stats(struct ctl *x)
{
	struct or_chan_stat *st = calloc(CTL_STATS_MAX, sizeof(*st));
	unsigned n = 0;
	int rc;

	if (st == NULL)
		return 1;
	if (ctl_connect(x) < 0) {
		free(st);
		return 1;
	}
	rc = or_chan_get_stats(x->c, st, CTL_STATS_MAX, &n, x->timeout_ms);
	if (rc < 0) {
		fprintf(stderr, "%s: stats: %s\n", prog, strerror(-rc));
		free(st);
		return 1;
	}
	for (unsigned i = 0; i < n; i++)
		printf("%s %" PRIu64 "\n", st[i].name, st[i].value);
	free(st);
	return 0;
}

static int
cmd_wait_ack(struct ctl *x, int argc, char **argv)
{
	uint64_t want = 0;

	if (argc > 2 || (argc == 2 && parse_u64(argv[1], UINT64_MAX, &want) < 0)) {
		usage(stderr);
		return 2;
	}
	/* One peer at a time, and acks go to the peer that sent the
	 * updates: another process can only see the acked seq in HELLO. */
	for (int tries = 0;; tries++) {
		if (ctl_connect(x) < 0)
			return 1;
		if (or_chan_peer(x->c)->acked_seq >= want)
			break;
		or_chan_close(x->c);
		x->c = NULL;
		if (tries * 50 >= x->timeout_ms) {
			fprintf(stderr, "%s: seq %" PRIu64 " not acked\n",
				prog, want);
			return 1;
		}
		usleep(50 * 1000);
	}
	printf("%" PRIu64 "\n", or_chan_peer(x->c)->acked_seq);
	return 0;
}

int
main(int argc, char **argv)
{
	struct ctl x = { .sock = CTL_DEFAULT_SOCK, .timeout_ms = 10000 };
	uint64_t v;
	int opt, rc;
	const char *cmd;

	while ((opt = getopt(argc, argv, "+s:t:nqh")) != -1) {
		switch (opt) {
		case 's':
			x.sock = optarg;
			break;
		case 't':
			if (parse_u64(optarg, 3600 * 1000, &v) < 0) {
				fprintf(stderr, "%s: -t: milliseconds\n", prog);
				return 2;
			}
			x.timeout_ms = (int)v;
			break;
		case 'n':
			x.no_wait = 1;
			break;
		case 'q':
			x.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	cmd = argv[0];
	if ((strcmp(cmd, "hello") == 0 || strcmp(cmd, "stats") == 0) &&
	    argc != 1) {
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "hello") == 0)
		rc = ctl_connect(&x) < 0 ? 1 : cmd_hello(&x);
	else if (strcmp(cmd, "upsert") == 0)
		rc = cmd_one(&x, argc, argv, 0);
	else if (strcmp(cmd, "delete") == 0)
		rc = cmd_one(&x, argc, argv, 1);
	else if (strcmp(cmd, "load") == 0)
		rc = cmd_load(&x, argc, argv);
	else if (strcmp(cmd, "auth-keys") == 0)
		rc = cmd_auth_keys(&x, argc, argv);
	else if (strcmp(cmd, "resync") == 0)
		rc = cmd_resync(&x, argc, argv);
	else if (strcmp(cmd, "random") == 0)
		rc = cmd_random(&x, argc, argv);
	else if (strcmp(cmd, "stats") == 0)
		rc = cmd_stats(&x);
	else if (strcmp(cmd, "wait-ack") == 0)
		rc = cmd_wait_ack(&x, argc, argv);
	else {
		fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
		rc = 2;
	}
	or_chan_close(x.c);
	return rc;
}
