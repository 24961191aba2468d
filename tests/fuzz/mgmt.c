/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Fuzz target "mgmt": the management connection of optroute-control, from
 * bytes on the socket to the reply lines. The input is written into one end
 * of a socket pair whose other end is a real struct cp_client
 * (control/daemon/loop/cp_client.c); cp_client_read cuts it into lines and each
 * line goes where the event loop's line handler (loop/cp_srv.c cp_on_line) sends
 * it: cp_req_parse, then cp_act_run on a real daemon state (keys, an LMDB
 * store with an opted-in and an opted-out subject, the channel thread with
 * no dataplane), then cp_client_queue and cp_client_flush. Commands that
 * write the store (rotate, retire) and the commit of a group are not run
 * (no fsync per input); every other command is, whole.
 *
 * Checked, with code written here:
 *  - the lines the handler gets are exactly the input split at '\n' (the
 *    unterminated last one at the end of input), up to a line longer than
 *    OR_MGMT_MAX_LINE, which ends the connection;
 *  - the bytes of a handled line are gone from the connection's input
 *    buffer, and a plain number (a "number" subject, an import line) is
 *    wiped in its JSON string once the request is freed;
 *  - every reply is one JSON object line with "v" 1, the request's "id",
 *    "ok", and on error a known "error" code and a "message" that quotes
 *    no run of six digits of the request (nor does an import error);
 *    a reply never holds a plain number's digits;
 *  - a number's token (in a change, or a status reply) is the one
 *    docs/privacy.md derives (computed here with BLAKE2b salt/personal);
 *    a hex token means its bytes; an import makes one change per valid
 *    line, in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "control/daemon/cmd/cp_act.h"
#include "control/daemon/loop/cp_client.h"
#include "control/daemon/cp_daemon.h"
#include "control/daemon/loop/cp_json.h"
#include "control/daemon/cp_log.h"
#include "control/daemon/loop/cp_req.h"
#include "control/daemon/loop/cp_srv_priv.h"
#include "control/lib/token.h"
#include "control/store/audit.h"
#include "fz_util.h"

#define LONG_LINE_BASE 65530u
#define MAX_LINES 4096

static struct cp_cfg fz_cfg;
static struct cp_daemon fz_d;
static struct or_store *fz_st;
static struct cp_srv fz_srv; /* only .d: for cp_reply_error's counter */
static uint8_t fz_master[32];
static struct or_change *fz_ch;
static int fz_debug; /* OR_FUZZ_DEBUG=1: every reply on stderr */

/* The lines the handler got, for the split check. */
struct seen_line {
	size_t off, len;
};
static struct seen_line fz_lines[MAX_LINES];
static unsigned fz_nlines;
static const uint8_t *fz_stream; /* the bytes written to the socket */
static size_t fz_stream_len, fz_stream_pos;
static unsigned fz_replies;      /* replies queued */

static void
ref_token(uint8_t epoch, const char *num, size_t len, uint8_t out[16])
{
	fz_ref_token(fz_master, epoch, (const uint8_t *)num, len, out);
}

/* The token a subject string means: a number or 32 hex digits. */
static int
ref_subject(enum cp_subj_kind kind, const char *s, size_t len, uint8_t out[16])
{
	if (kind == CP_SUBJ_NUMBER) {
		if (!fz_ref_e164_ok((const uint8_t *)s, len))
			return -1;
		ref_token((uint8_t)fz_cfg.key_epoch, s, len, out);
		return 0;
	}
	if (len != 32)
		return -1;
	for (int i = 0; i < 16; i++) {
		int a = fz_ref_hexv((uint8_t)s[2 * i]),
		    b = fz_ref_hexv((uint8_t)s[2 * i + 1]);

		if (a < 0 || b < 0)
			return -1;
		out[i] = (uint8_t)(a << 4 | b);
	}
	return 0;
}

/* The compact JSON text of j in our own memory: json_dumps() would
 * allocate with the daemon's wiping allocator (cp_json.c), which free()
 * cannot release. */
static char *
dump(const json_t *j)
{
	size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT);
	char *s = malloc(n + 1);

	if (s == NULL || json_dumpb(j, s, n, JSON_COMPACT) != n)
		abort();
	s[n] = '\0';
	return s;
}

/* No run of n digits of line[0..len) in text. */
static void
check_no_digit_run(const char *text, const char *line, size_t len, size_t n,
		   const char *what)
{
	size_t tl = strlen(text);

	for (size_t i = 0; i + n <= len; i++) {
		size_t k = 0;

		while (k < n && line[i + k] >= '0' && line[i + k] <= '9')
			k++;
		if (k == n)
			FZ_CHECK(!fz_contains(text, tl, line + i, n),
				 "%s quotes request digits: %s", what, text);
	}
}

/* A plain number's digits (4 or more after '+') are not in the reply.
 * Only a line of digits after '+' is one: "+true" is not, and "true" is
 * in every reply (the campaign's finding M2, docs/fuzzing.md); the digits
 * of other lines are check_no_digit_run's. */
static void
check_no_number(const char *reply, const char *num, size_t len)
{
	size_t d = 1;

	while (d < len && num[d] >= '0' && num[d] <= '9')
		d++;
	if (len >= 5 && num[0] == '+' && d == len)
		FZ_CHECK(!fz_contains(reply, strlen(reply), num + 1, len - 1),
			 "reply holds a plain number: %s", reply);
}

static int
known_code(const char *c)
{
	for (int e = 0; e < OR_MGMT_E_COUNT; e++)
		if (strcmp(c, or_mgmt_err_code((enum or_mgmt_err)e)) == 0)
			return e != OR_MGMT_OK;
	return 0;
}

/* The reply as it will go out: shape, id, and what it must not say. */
static void
check_reply(json_t *reply, json_t *id, const char *line, size_t len,
	    const char *num, size_t num_len)
{
	char *dumped = dump(reply);
	json_t *v = json_object_get(reply, "v"), *ok = json_object_get(reply, "ok");
	json_t *errs;

	FZ_CHECK(dump != NULL && json_is_integer(v) &&
			 json_integer_value(v) == OR_MGMT_VERSION &&
			 json_is_boolean(ok),
		 "reply shape: %s", dumped);
	if (fz_debug)
		fprintf(stderr, "mgmt: %s\n", dumped);
	if (id != NULL)
		FZ_CHECK(json_equal(json_object_get(reply, "id"), id),
			 "id not echoed: %s", dumped);
	else
		FZ_CHECK(json_object_get(reply, "id") == NULL, "id made up");
	if (!json_is_true(ok)) {
		json_t *er = json_object_get(reply, "error");
		json_t *code = json_object_get(er, "code");
		json_t *msg = json_object_get(er, "message");

		FZ_CHECK(json_is_string(code) &&
				 known_code(json_string_value(code)) &&
				 json_is_string(msg),
			 "error reply: %s", dumped);
		check_no_digit_run(json_string_value(msg), line, len, 6,
				   "error message");
	}
	errs = json_object_get(reply, "errors");
	for (size_t i = 0; json_is_array(errs) && i < json_array_size(errs);
	     i++) {
		json_t *m = json_object_get(json_array_get(errs, i), "message");

		FZ_CHECK(json_is_string(m), "import error without message");
		check_no_digit_run(json_string_value(m), line, len, 4,
				   "import error");
	}
	if (num != NULL)
		check_no_number(dumped, num, num_len);
	free(dumped);
}

/* The changes of a request that would commit. */
static void
check_changes(const struct cp_act *a, const struct cp_req *req,
	      const char *subj, size_t subj_len, char **lines,
	      size_t *line_lens, size_t nlines)
{
	uint8_t want[16];

	if (req->cmd == OR_MGMT_CMD_IMPORT) {
		unsigned k = 0;

		for (size_t i = 0; i < nlines; i++) {
			const char *s = lines[i];
			size_t l = line_lens[i];

			while (l > 0 && (s[0] == ' ' || s[0] == '\t'))
				s++, l--;
			while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t' ||
					 s[l - 1] == '\r' || s[l - 1] == '\n'))
				l--;
			if (l == 0 || s[0] == '#')
				continue;
			if (ref_subject(CP_SUBJ_TOKEN, s, l, want) != 0 &&
			    ref_subject(CP_SUBJ_NUMBER, s, l, want) != 0)
				continue;
			FZ_CHECK(k < a->n, "import: fewer changes than lines");
			FZ_CHECK(memcmp(a->ch[k].token.b, want, 16) == 0,
				 "import line %zu: token", i);
			FZ_CHECK(a->ch[k].action ==
					 (req->optin ? OR_ACT_OPTIN : OR_ACT_OPTOUT),
				 "import action");
			k++;
		}
		FZ_CHECK(k == a->n, "import: %u changes, %u valid lines", a->n,
			 k);
		return;
	}
	FZ_CHECK(subj != NULL &&
			 ref_subject(req->subj, subj, subj_len, want) == 0,
		 "a change from an invalid subject");
	FZ_CHECK(a->n >= 1 && memcmp(a->ch[0].token.b, want, 16) == 0,
		 "change token");
	if (a->n == 2)
		FZ_CHECK(a->ch[1].action == OR_ACT_KEY &&
				 memcmp(a->ch[1].token.b, want, 16) == 0,
			 "key change");
}

/* The store's head: where a status's reads stand (nothing commits here). */
static uint64_t
fz_head_seq(void)
{
	uint8_t hash[OR_AUDIT_HASH_LEN];
	struct or_err err = { 0 };
	uint64_t seq = 0;

	FZ_CHECK(or_audit_head(fz_st, &seq, hash, &err) == 0, "%s", err.msg);
	return seq;
}

/* The event loop's line handler (loop/cp_srv.c cp_on_line) without the group
 * commit and the replies that wait. */
static void
on_line(void *arg, struct cp_client *cl, char *line, size_t len)
{
	struct cp_act a = { .d = &fz_d };
	char msg[CP_REQ_MSG_LEN], *subj = NULL, *num = NULL;
	char **lines = NULL;
	size_t subj_len = 0, *line_lens = NULL, nlines = 0, i;
	json_t *subject = NULL, *larr = NULL, *id = NULL;
	enum cp_subj_kind kind;
	enum cp_act_next next;
	enum or_mgmt_err e;
	struct cp_req req;

	(void)arg;
	/* The handler sees the stream's next line, exactly. */
	FZ_CHECK(fz_nlines < MAX_LINES, "too many lines");
	{
		const uint8_t *nl = memchr(fz_stream + fz_stream_pos, '\n',
					   fz_stream_len - fz_stream_pos);
		size_t want = nl ? (size_t)(nl - (fz_stream + fz_stream_pos)) :
				   fz_stream_len - fz_stream_pos;

		FZ_CHECK(len == want &&
				 memcmp(line, fz_stream + fz_stream_pos, len) == 0,
			 "line %u: %zu bytes, the stream has %zu", fz_nlines,
			 len, want);
		fz_lines[fz_nlines++] = (struct seen_line){ fz_stream_pos, len };
		fz_stream_pos += len + (nl != NULL);
	}
	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			break;
	if (i == len)
		return;
	e = cp_req_parse(line, len, &req, msg);
	if (e != OR_MGMT_OK) {
		json_t *r = cp_reply_new(req.id);

		cp_reply_error(&fz_srv, r, e, msg);
		check_reply(r, req.id, line, len, NULL, 0);
		FZ_CHECK(cp_client_queue(cl, r, 0) == 0, "queue");
		fz_replies++;
		cp_req_free(&req);
		return;
	}
	if (req.cmd == OR_MGMT_CMD_ROTATE || req.cmd == OR_MGMT_CMD_RETIRE) {
		cp_req_free(&req); /* they write the store: not run here */
		return;
	}
	/* Copies of what the checks need once the request wiped them. */
	if (req.subject != NULL) {
		subject = json_incref(req.subject);
		subj_len = json_string_length(req.subject);
		subj = malloc(subj_len + 1);
		memcpy(subj, json_string_value(req.subject), subj_len + 1);
		if (req.subj == CP_SUBJ_NUMBER) {
			num = subj;
		}
	}
	if (req.lines != NULL) {
		larr = json_incref(req.lines);
		nlines = json_array_size(req.lines);
		lines = calloc(nlines, sizeof(*lines));
		line_lens = calloc(nlines, sizeof(*line_lens));
		for (i = 0; i < nlines; i++) {
			json_t *s = json_array_get(req.lines, i);

			line_lens[i] = json_string_length(s);
			lines[i] = malloc(line_lens[i] + 1);
			memcpy(lines[i], json_string_value(s), line_lens[i] + 1);
		}
	}
	kind = req.subj;
	id = req.id != NULL ? json_deep_copy(req.id) : NULL;
	a.reply = cp_reply_new(req.id);
	a.ch = fz_ch;
	a.n_max = OR_MGMT_IMPORT_MAX_LINES + 2;
	next = cp_act_run(&a, &req);
	if (a.err == OR_MGMT_OK && next == CP_NEXT_COMMIT)
		check_changes(&a, &req, subj, subj_len, lines, line_lens,
			      nlines);
	if (a.err == OR_MGMT_OK && req.cmd == OR_MGMT_CMD_STATUS) {
		uint8_t want[16];
		char hex[33];
		json_t *t = json_object_get(a.reply, "token");

		FZ_CHECK(ref_subject(req.subj, subj, subj_len, want) == 0 ||
				 req.subj == CP_SUBJ_SEALED,
			 "status of an invalid subject");
		if (req.subj != CP_SUBJ_SEALED && next == CP_NEXT_SEQ) {
			/* Waits for reads to hold after_seq: its token is
			 * kept for the reply, which has nothing yet. */
			FZ_CHECK(memcmp(a.token.b, want, 16) == 0 &&
					 a.after_seq == req.after_seq &&
					 json_object_get(a.reply, "token") ==
						 NULL,
				 "waiting status: token or after_seq");
		} else if (req.subj != CP_SUBJ_SEALED) {
			sodium_bin2hex(hex, sizeof(hex), want, 16);
			FZ_CHECK(json_is_string(t) &&
					 strcmp(json_string_value(t), hex) == 0,
				 "status token");
		}
		/* Waits exactly when after_seq is beyond the store's head. */
		FZ_CHECK((next == CP_NEXT_SEQ) ==
				 (req.after_seq > fz_head_seq()),
			 "status after_seq %" PRIu64 " waits %d",
			 req.after_seq, next == CP_NEXT_SEQ);
	}
	cp_req_free(&req);
	/* Plain numbers are wiped once the request is freed. */
	if (subject != NULL && kind == CP_SUBJ_NUMBER)
		FZ_CHECK(fz_all_zero(json_string_value(subject), subj_len),
			 "number subject not wiped");
	for (i = 0; i < nlines; i++)
		FZ_CHECK(fz_all_zero(json_string_value(json_array_get(larr, i)),
				     line_lens[i]),
			 "import line %zu not wiped", i);
	json_decref(subject);
	json_decref(larr);
	if (a.err != OR_MGMT_OK) {
		cp_reply_error(&fz_srv, a.reply, a.err, a.msg);
	} else if (next == CP_NEXT_COMMIT) {
		cp_act_not_committed(a.reply);
	}
	if (a.err == OR_MGMT_OK && next != CP_NEXT_REPLY &&
	    next != CP_NEXT_COMMIT) {
		json_decref(a.reply); /* would wait for a job or the dataplane */
	} else {
		check_reply(a.reply, id, line, len, num, subj_len);
		/* Also no import line that is a number. */
		for (i = 0; i < nlines; i++) {
			char *d = dump(a.reply);

			check_no_number(d, lines[i], line_lens[i]);
			free(d);
		}
		FZ_CHECK(cp_client_queue(cl, a.reply, 0) == 0, "queue");
		fz_replies++;
	}
	json_decref(id);
	if (subj != NULL)
		sodium_memzero(subj, subj_len);
	free(subj);
	for (i = 0; i < nlines; i++) {
		sodium_memzero(lines[i], line_lens[i]);
		free(lines[i]);
	}
	free(lines);
	free(line_lens);
}

/* No handled line is left in the input buffer beyond its live part. */
static void
check_in_wiped(const struct cp_client *cl)
{
	for (unsigned i = 0; i < fz_nlines; i++) {
		const uint8_t *p = fz_stream + fz_lines[i].off;
		size_t n = fz_lines[i].len < 64 ? fz_lines[i].len : 64;
		int dull = 1;

		if (n < 12)
			continue;
		/* A line of only the bytes a wiped or never written buffer
		 * holds (zeros, ASan's malloc fill 0xbe, one repeated byte)
		 * is found there without being a leftover (the campaign's
		 * finding M1, docs/fuzzing.md). */
		for (size_t k = 0; k < n; k++)
			dull &= p[k] == p[0] || p[k] == 0 || p[k] == 0xbe;
		if (dull)
			continue;
		FZ_CHECK(!fz_contains(cl->in + cl->in_len,
				      cl->in_cap - cl->in_len, p, n),
			 "line %u still in the input buffer", i);
	}
}

/* The reply bytes read so far (past the end: counted, not kept). */
static char fz_rbuf[1 << 20];
static size_t fz_rlen;
static int fz_rover;

static void
drain_replies(int fd)
{
	for (;;) {
		char sink[4096];
		size_t room = sizeof(fz_rbuf) - 1 - fz_rlen;
		ssize_t r = recv(fd, room ? fz_rbuf + fz_rlen : sink,
				 room ? room : sizeof(sink), MSG_DONTWAIT);

		if (r <= 0)
			break;
		if (room)
			fz_rlen += (size_t)r;
		else
			fz_rover = 1;
	}
}

static void
check_replies(int fd, unsigned want)
{
	char *buf = fz_rbuf;
	size_t n;
	unsigned lines = 0;

	drain_replies(fd);
	if (fz_rover)
		return;
	n = fz_rlen;
	buf[n] = '\0';
	for (char *p = buf, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		json_error_t je;
		json_t *r = json_loadb(p, (size_t)(nl - p), 0, &je);

		FZ_CHECK(json_is_object(r), "reply line %u is not an object",
			 lines);
		json_decref(r);
		lines++;
	}
	FZ_CHECK(n == 0 || buf[n - 1] == '\n', "unterminated reply");
	FZ_CHECK(lines == want, "%u reply lines, %u replies", lines, want);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/or_fuzz_mgmt.XXXXXX", path[128], hex[65];
	struct or_store_conf sc = { 0 };
	struct or_sor_conf soc = { 0 };
	struct cp_link_conf pc = { 0 };
	struct or_err err = { "" };
	struct or_change ch[2];
	uint64_t first;
	FILE *f;

	(void)argc;
	(void)argv;
	cp_json_init(); /* as the daemon: freed JSON memory is wiped */
	fz_debug = getenv("OR_FUZZ_DEBUG") != NULL;
	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		abort();
	cp_log_set_level(CP_LOG_ERR);
	cp_cfg_defaults(&fz_cfg);
	for (int i = 0; i < 32; i++)
		fz_master[i] = (uint8_t)(0xa0 ^ i);
	sodium_bin2hex(hex, sizeof(hex), fz_master, 32);
	snprintf(path, sizeof(path), "%s/master.key", dir);
	f = fopen(path, "w");
	if (f == NULL || fprintf(f, "%s\n", hex) < 0 || fclose(f) != 0 ||
	    chmod(path, 0600) != 0)
		abort();
	FZ_CHECK(or_keys_load(path, &fz_d.keys, &err) == 0, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/store", dir);
	sc.path = path;
	sc.map_size = 16u << 20;
	FZ_CHECK(or_store_open(&sc, &fz_st, &err) == 0, "%s", err.msg);
	/* Two subjects: +15550100001 opted in, +15550100002 out. */
	memset(ch, 0, sizeof(ch));
	for (int i = 0; i < 2; i++) {
		char num[] = "+1555010000X";

		num[11] = (char)('1' + i);
		ref_token(0, num, strlen(num), ch[i].token.b);
		ch[i].action = i == 0 ? OR_ACT_OPTIN : OR_ACT_OPTOUT;
		ch[i].method = OR_METHOD_OPERATOR;
		ch[i].node = -1;
		ch[i].notice_version = 1;
	}
	FZ_CHECK(or_store_apply(fz_st, &fz_cfg.node_policy, ch, 2, NULL,
				&first, &err) == 0,
		 "%s", err.msg);
	FZ_CHECK(or_store_auth_get(fz_st, &fz_d.auth, &err) == 0, "%s",
		 err.msg);
	/* The channel thread, with no dataplane to find. */
	snprintf(fz_cfg.chan_socket, sizeof(fz_cfg.chan_socket), "%s/none.sock",
		 dir);
	pc.chan_path = fz_cfg.chan_socket;
	/* The store as the daemon has it: its changes go to the link. */
	soc.node_policy = &fz_cfg.node_policy;
	soc.sink = cp_link_sink(&fz_d.link);
	FZ_CHECK(or_sor_lmdb_attach(fz_st, &soc, &fz_d.sor) == 0,
		 "or_sor_lmdb_attach");
	pc.sor = fz_d.sor;
	pc.keys = fz_d.keys;
	pc.retry_ms = 3600000;
	pc.queue_max = 1024;
	FZ_CHECK(cp_link_start(&pc, &fz_d.link) == 0, "cp_link_start");
	fz_d.cfg = &fz_cfg;
	fz_srv.d = &fz_d;
	fz_d.start_ms = cp_now_ms();
	fz_ch = calloc(OR_MGMT_IMPORT_MAX_LINES + 2, sizeof(*fz_ch));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t flags = fz_u8(&in);
	const uint8_t *p;
	uint8_t *stream;
	size_t n, len, off = 0, longest = 0, cur = 0;
	struct cp_client *cl;
	int sv[2], rc = 0, eof_sent = 0;

	if (size > 200000)
		return 0;
	p = fz_rest(&in, &n);
	/* Optionally a line around OR_MGMT_MAX_LINE first. */
	len = (flags & 1) ? LONG_LINE_BASE + (flags >> 1) + 1 + n : n;
	stream = malloc(len ? len : 1);
	if (flags & 1) {
		memset(stream, 'x', LONG_LINE_BASE + (flags >> 1));
		stream[LONG_LINE_BASE + (flags >> 1)] = '\n';
		memcpy(stream + LONG_LINE_BASE + (flags >> 1) + 1, p, n);
	} else {
		memcpy(stream, p, n);
	}
	fz_stream = stream;
	fz_stream_len = len;
	fz_stream_pos = 0;
	fz_nlines = 0;
	fz_replies = 0;
	fz_rlen = 0;
	fz_rover = 0;
	for (size_t i = 0; i < len; i++) {
		cur = stream[i] == '\n' ? 0 : cur + 1;
		if (cur > longest)
			longest = cur;
	}

	FZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0, sv) == 0,
		 "socketpair");
	cl = cp_client_new(sv[0], 0, 0, 0);
	FZ_CHECK(cl != NULL, "cp_client_new");
	/* Write what the socket takes, read, until all is read. */
	for (int guard = 0;; guard++) {
		FZ_CHECK(guard < 100000, "connection never ends");
		if (off < len) {
			ssize_t w = send(sv[1], stream + off, len - off,
					 MSG_DONTWAIT | MSG_NOSIGNAL);

			if (w > 0)
				off += (size_t)w;
		}
		if (off == len && !eof_sent) {
			shutdown(sv[1], SHUT_WR);
			eof_sent = 1;
		}
		rc = cp_client_read(cl, 0, on_line, NULL);
		check_in_wiped(cl);
		FZ_CHECK(cp_client_flush(cl) == 0, "flush");
		if (rc < 0 || (rc == 0 && cl->eof))
			break;
		/* Replies must be read too, or the socket fills. */
		drain_replies(sv[1]);
	}
	/* A line longer than OR_MGMT_MAX_LINE ends the connection; every
	 * line before it was handled, nothing after it. */
	if (longest > OR_MGMT_MAX_LINE) {
		FZ_CHECK(rc == -EMSGSIZE, "long line: rc %d", rc);
	} else {
		FZ_CHECK(rc == 0 && cl->eof, "rc %d", rc);
		FZ_CHECK(fz_stream_pos >= len, "stream not all handled (%zu of "
			 "%zu)", fz_stream_pos, len);
	}
	check_in_wiped(cl);
	check_replies(sv[1], fz_replies);
	cp_client_free(cl);
	close(sv[1]);
	free(stream);
	return 0;
}
