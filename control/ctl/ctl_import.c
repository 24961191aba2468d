/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroutectl import FILE|- --optin|--optout: streams the file to the
 * daemon as "import" requests of up to --chunk lines each, a few requests
 * in flight at a time, and sums the replies. Lines are numbers (E.164) or
 * tokens (32 hex digits); blank lines and lines starting with '#' are
 * skipped. Per-line errors are reported by line number, never with the
 * line's content. The file is read here, so the daemon needs no access to
 * it; every buffer that held a line is wiped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "optroute/mgmt.h"

#include "ctl.h"

#define CTL_IMPORT_CHUNK 1000  /* default lines per request */
#define CTL_IMPORT_WINDOW 8    /* requests in flight: two full store groups */
#define CTL_IMPORT_LINE_MAX 256 /* longer lines are refused here */
/* Request size kept well below the daemon's line limit. */
#define CTL_IMPORT_REQ_MAX (OR_MGMT_MAX_LINE - 4096)

struct ctl_chunk {
	uint64_t id;
	uint64_t first_line;
	unsigned n;
};

/* stdio's buffer for the input, ours so that it can be wiped; static
 * because stdin keeps pointing at it until exit. */
static char ctl_import_iobuf[65536];

struct ctl_import {
	struct ctl *c;
	FILE *f;
	uint64_t size;    /* file size, 0 if unknown (pipe) */
	uint64_t bytes;   /* read so far */
	uint64_t line_no; /* lines read so far */
	int eof;
	int progress;
	/* Totals. */
	uint64_t lines, changes, skipped, invalid, failed;
	uint64_t too_long; /* sent as blank lines: skipped by the daemon */
	uint64_t first_seq, last_seq;
	json_t *errors;   /* per-line errors, for -j */
	/* Requests in flight, oldest first. */
	struct ctl_chunk fly[CTL_IMPORT_WINDOW];
	unsigned n_fly;
	uint64_t next_id;
	/* The first request, kept until the daemon answers it: only one is
	 * sent before that, and it is sent again on a new connection if the
	 * daemon refused this one (ctl_retry: too many clients). */
	struct ctl_buf first;
};

static void
ctl_import_report(struct ctl_import *im, uint64_t line, const char *code,
		  const char *msg)
{
	if (im->c->json) {
		if (json_array_size(im->errors) < 10000)
			json_array_append_new(
				im->errors,
				json_pack("{s:I,s:s,s:s}", "line",
					  (json_int_t)line, "code", code,
					  "message", msg));
		return;
	}
	if (im->progress)
		fputc('\n', stderr);
	fprintf(stderr, "line %" PRIu64 ": %s: %s\n", line, code, msg);
}

/* Reads up to chunk lines into one request and sends it. 0, 1 at end of
 * input (nothing sent) or an exit code. */
static int
ctl_import_send(struct ctl_import *im)
{
	struct ctl *c = im->c;
	unsigned max = c->chunk ? c->chunk : CTL_IMPORT_CHUNK, n = 0;
	struct ctl_buf b = { 0 };
	char *line = NULL;
	size_t cap = 0;
	uint64_t first = im->line_no + 1;
	ssize_t len;
	int rc = 0;

	ctl_buf_printf(&b, "{\"v\":%d,\"id\":%" PRIu64 ",\"cmd\":\"import\","
			   "\"action\":\"%s\",\"first_line\":%" PRIu64,
		       OR_MGMT_VERSION, im->next_id, c->optin ? "optin"
							      : "optout",
		       first);
	ctl_add_options(c, &b, c->optin);
	ctl_buf_add(&b, ",\"lines\":[", 10);
	while (n < max && b.len < CTL_IMPORT_REQ_MAX &&
	       (len = getline(&line, &cap, im->f)) >= 0) {
		im->line_no++;
		im->bytes += (uint64_t)len;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len > CTL_IMPORT_LINE_MAX) {
			/* Sent as a blank line so that the daemon's line
			 * numbers stay right; reported here. */
			im->too_long++;
			im->invalid++;
			ctl_import_report(im, im->line_no, "invalid_number",
					  "line too long");
			len = 0;
		}
		if (n > 0)
			ctl_buf_add(&b, ",", 1);
		rc = ctl_buf_add_jstr(&b, line, (size_t)len);
		sodium_memzero(line, cap);
		if (rc < 0)
			break;
		n++;
	}
	if (line != NULL) {
		sodium_memzero(line, cap);
		free(line);
	}
	if (n == 0 || rc < 0) {
		im->eof = 1;
		ctl_buf_free(&b);
		return rc < 0 ? CTL_EXIT_ERROR : 1;
	}
	if (n < max && b.len < CTL_IMPORT_REQ_MAX)
		im->eof = feof(im->f) || ferror(im->f);
	ctl_buf_add(&b, "]}\n", 3);
	rc = ctl_send(&c->conn, &b);
	if (c->conn.lines == 0) {
		/* Kept for ctl_import_recv; a failed send is its to judge
		 * (the daemon may have refused the connection). */
		im->first = b;
		rc = 0;
	} else {
		ctl_buf_free(&b);
	}
	if (rc < 0) {
		fprintf(stderr, "optroutectl: send: %s\n", strerror(-rc));
		return CTL_EXIT_CONN;
	}
	im->fly[im->n_fly++] = (struct ctl_chunk){ im->next_id++, first, n };
	return 0;
}

static void
ctl_import_progress(struct ctl_import *im, int done)
{
	char bar[31];
	unsigned pct = 0, fill;

	if (!im->progress)
		return;
	if (im->size > 0)
		pct = (unsigned)(im->bytes * 100 / im->size);
	if (done || pct > 100)
		pct = 100;
	fill = pct * 30 / 100;
	memset(bar, '#', fill);
	memset(bar + fill, ' ', 30 - fill);
	bar[30] = '\0';
	if (im->size > 0)
		fprintf(stderr, "\r[%s] %3u%% ", bar, pct);
	else
		fputc('\r', stderr);
	fprintf(stderr, "%" PRIu64 " lines, %" PRIu64 " changes, %" PRIu64
			" invalid%s",
		im->lines, im->changes, im->invalid, done ? "\n" : "");
}

#define JI(o, k) ((uint64_t)json_integer_value(json_object_get((o), (k))))

/* Reads one reply and adds it up. 0 or an exit code. */
static int
ctl_import_recv(struct ctl_import *im)
{
	struct ctl_chunk ch;
	json_t *reply, *errs, *e;
	unsigned i;
	uint64_t id;
	int rc;

	rc = ctl_recv(&im->c->conn, &reply);
	if (im->first.p != NULL && ctl_retry(&im->c->conn, rc, &reply)) {
		/* Refused, nothing done: the first request again. A failed
		 * send shows as the next read's error (no reply). */
		(void)ctl_send(&im->c->conn, &im->first);
		return 0;
	}
	ctl_buf_free(&im->first);
	if (rc < 0) {
		fprintf(stderr, "optroutectl: no reply from the daemon: %s\n",
			strerror(-rc));
		return CTL_EXIT_CONN;
	}
	id = JI(reply, "id");
	for (i = 0; i < im->n_fly && im->fly[i].id != id; i++)
		;
	if (i == im->n_fly) {
		/* Not ours: an error the daemon sent before closing. */
		fprintf(stderr, "optroutectl: unexpected reply: %s: %s\n",
			json_string_value(json_object_get(
				json_object_get(reply, "error"), "code")),
			json_string_value(json_object_get(
				json_object_get(reply, "error"), "message")));
		json_decref(reply);
		return CTL_EXIT_CONN;
	}
	ch = im->fly[i];
	memmove(&im->fly[i], &im->fly[i + 1],
		(im->n_fly - i - 1) * sizeof(im->fly[0]));
	im->n_fly--;
	im->lines += ch.n;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		json_t *err = json_object_get(reply, "error");
		char msg[320];

		snprintf(msg, sizeof(msg), "lines %" PRIu64 "-%" PRIu64
					   " not imported: %s",
			 ch.first_line, ch.first_line + ch.n - 1,
			 json_string_value(json_object_get(err, "message")));
		im->failed += ch.n;
		ctl_import_report(
			im, ch.first_line,
			json_string_value(json_object_get(err, "code")), msg);
		/* A committed chunk whose wait failed still counts. */
		if (json_is_true(json_object_get(reply, "committed")))
			im->changes += JI(reply, "changes");
		json_decref(reply);
		return 0;
	}
	im->changes += JI(reply, "changes");
	im->skipped += JI(reply, "skipped");
	errs = json_object_get(reply, "errors");
	json_array_foreach(errs, i, e)
		ctl_import_report(
			im, JI(e, "line"),
			json_string_value(json_object_get(e, "code")),
			json_string_value(json_object_get(e, "message")));
	im->invalid += JI(reply, "invalid");
	if (JI(reply, "changes") > 0) {
		if (im->first_seq == 0)
			im->first_seq = JI(reply, "first_seq");
		if (JI(reply, "seq") > im->last_seq)
			im->last_seq = JI(reply, "seq");
	}
	json_decref(reply);
	return 0;
}

static void
ctl_import_summary(struct ctl_import *im)
{
	im->skipped -= im->too_long;
	if (im->c->json) {
		json_t *o = json_pack(
			"{s:i,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "v",
			OR_MGMT_VERSION, "ok",
			im->invalid == 0 && im->failed == 0, "lines",
			(json_int_t)im->lines, "changes",
			(json_int_t)im->changes, "skipped",
			(json_int_t)im->skipped, "invalid",
			(json_int_t)im->invalid, "failed",
			(json_int_t)im->failed, "first_seq",
			(json_int_t)im->first_seq, "seq",
			(json_int_t)im->last_seq, "errors", im->errors);

		im->errors = NULL;
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
		return;
	}
	printf("imported %" PRIu64 " lines: %" PRIu64 " changes (seq %" PRIu64
	       "..%" PRIu64 "), %" PRIu64 " skipped, %" PRIu64
	       " invalid, %" PRIu64 " failed\n",
	       im->lines, im->changes, im->first_seq, im->last_seq,
	       im->skipped, im->invalid, im->failed);
}

int
ctl_import(struct ctl *c)
{
	struct ctl_import *im;
	struct stat st;
	int rc = 0;

	if (c->optin < 0 || c->number == NULL) {
		fprintf(stderr, "optroutectl: import FILE|- --optin|--optout\n");
		return CTL_EXIT_USAGE;
	}
	im = calloc(1, sizeof(*im));
	if (im == NULL)
		return CTL_EXIT_ERROR;
	im->c = c;
	im->f = strcmp(c->number, "-") == 0 ? stdin : fopen(c->number, "re");
	if (im->f == NULL) {
		fprintf(stderr, "optroutectl: %s: %s\n", c->number,
			strerror(errno));
		free(im);
		return CTL_EXIT_USAGE;
	}
	/* Our own stdio buffer, so it can be wiped at the end. */
	setvbuf(im->f, ctl_import_iobuf, _IOFBF, sizeof(ctl_import_iobuf));
	if (fstat(fileno(im->f), &st) == 0 && S_ISREG(st.st_mode))
		im->size = (uint64_t)st.st_size;
	im->progress = !c->json && isatty(STDOUT_FILENO);
	im->errors = json_array();
	while (rc == 0 && (!im->eof || im->n_fly > 0)) {
		/* One request until the daemon answered on this connection. */
		while (rc == 0 && !im->eof &&
		       im->n_fly < (c->conn.lines > 0 ? CTL_IMPORT_WINDOW : 1))
			rc = ctl_import_send(im);
		if (rc == 1)
			rc = 0;
		if (rc == 0 && im->n_fly > 0)
			rc = ctl_import_recv(im);
		ctl_import_progress(im, 0);
	}
	ctl_import_progress(im, 1);
	if (rc == 0)
		ctl_import_summary(im);
	if (rc == 0 && (im->invalid > 0 || im->failed > 0))
		rc = CTL_EXIT_ERROR;
	if (im->f != stdin)
		fclose(im->f);
	json_decref(im->errors);
	ctl_buf_free(&im->first);
	sodium_memzero(ctl_import_iobuf, sizeof(ctl_import_iobuf));
	free(im);
	return rc;
}
