/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "optroute/mgmt.h"

#include "cp_client.h"

#define CP_CLIENT_IN_MIN 4096
/* Room for the longest line plus its newline. */
#define CP_CLIENT_IN_MAX (OR_MGMT_MAX_LINE + 1)
/* Reads and lines handled per cp_client_read() call: one busy client
 * cannot starve others (a read may hold thousands of small requests). */
#define CP_CLIENT_READS 4
#define CP_CLIENT_LINES 64

struct cp_client *
cp_client_new(int fd, uid_t uid, pid_t pid, uint64_t now)
{
	struct cp_client *cl = calloc(1, sizeof(*cl));

	if (cl == NULL)
		return NULL;
	cl->in = malloc(CP_CLIENT_IN_MIN);
	if (cl->in == NULL) {
		free(cl);
		return NULL;
	}
	cl->in_cap = CP_CLIENT_IN_MIN;
	cl->fd = fd;
	cl->uid = uid;
	cl->pid = pid;
	cl->last_ms = now;
	cl->active_ms = now;
	return cl;
}

/* Grows the input buffer; the old one is wiped before it is freed (no
 * realloc: it would free the old copy without wiping it). */
static int
cp_client_grow(struct cp_client *cl)
{
	size_t cap = cl->in_cap * 2;
	char *p;

	if (cap > CP_CLIENT_IN_MAX)
		cap = CP_CLIENT_IN_MAX;
	p = malloc(cap);
	if (p == NULL)
		return -ENOMEM;
	memcpy(p, cl->in, cl->in_len);
	sodium_memzero(cl->in, cl->in_cap);
	free(cl->in);
	cl->in = p;
	cl->in_cap = cap;
	return 0;
}

/* Hands complete lines to fn, then moves the rest to the front and wipes
 * what it vacated. Stops early, keeping the lines ("held"), after *budget
 * lines (the next call goes on), or once the replies queued reach
 * CP_CLIENT_OUT_HIGH: a peer that pipelines requests with large replies
 * and never reads cannot make the queue grow further. */
static void
cp_client_lines(struct cp_client *cl, uint64_t now, unsigned *budget,
		cp_line_fn fn, void *arg)
{
	size_t start = 0, rest;
	char *nl;

	cl->held = 0;
	while (!cl->dead && !cl->closing &&
	       (nl = memchr(cl->in + start, '\n', cl->in_len - start)) !=
		       NULL) {
		size_t len = (size_t)(nl - (cl->in + start));

		if (*budget == 0 || cp_client_out_full(cl)) {
			cl->held = 1;
			break;
		}
		(*budget)--;
		fn(arg, cl, cl->in + start, len);
		start += len + 1;
	}
	if (cl->closing || cl->dead)
		start = cl->in_len; /* drop what follows */
	rest = cl->in_len - start;
	if (start > 0) {
		memmove(cl->in, cl->in + start, rest);
		sodium_memzero(cl->in + rest, cl->in_len - rest);
		cl->in_len = rest;
	}
	/* The line timer runs from the first byte of the unfinished line;
	 * not while lines are held (the peer is waiting for us then). */
	if (rest == 0 || cl->held)
		cl->partial_ms = 0;
	else if (start > 0 || cl->partial_ms == 0)
		cl->partial_ms = now;
}

int
cp_client_read(struct cp_client *cl, uint64_t now, cp_line_fn fn, void *arg)
{
	unsigned budget = CP_CLIENT_LINES;

	if (cl->held && !cp_client_out_full(cl))
		cp_client_lines(cl, now, &budget, fn, arg);
	for (int i = 0; i < CP_CLIENT_READS; i++) {
		ssize_t r;

		/* Lines still held: the buffer may be full of them. */
		if (cl->dead || cl->closing || cl->held ||
		    cp_client_out_full(cl))
			return 0;
		if (cl->in_len == cl->in_cap) {
			if (cl->in_cap == CP_CLIENT_IN_MAX) {
				/* A full buffer holds no newline. */
				sodium_memzero(cl->in, cl->in_len);
				cl->in_len = 0;
				cl->partial_ms = 0;
				return -EMSGSIZE;
			}
			if (cp_client_grow(cl) < 0)
				return -ENOMEM;
		}
		r = read(cl->fd, cl->in + cl->in_len, cl->in_cap - cl->in_len);
		if (r == 0) {
			cl->eof = 1;
			/* An unterminated last line is still a request. */
			if (cl->in_len > 0 && !cl->closing) {
				size_t len = cl->in_len;

				cl->in_len = 0;
				cl->partial_ms = 0;
				fn(arg, cl, cl->in, len);
				sodium_memzero(cl->in, len);
			}
			return 0;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		cl->last_ms = now;
		cl->in_len += (size_t)r;
		cp_client_lines(cl, now, &budget, fn, arg);
	}
	return cl->dead || cl->closing || cl->held ? 0 : 1;
}

int
cp_client_queue(struct cp_client *cl, json_t *reply, uint64_t now)
{
	size_t n = json_dumpb(reply, NULL, 0, JSON_COMPACT);

	if (n == 0) {
		json_decref(reply);
		return -ENOMEM;
	}
	if (cl->out_off > 0 && cl->out_off == cl->out_len)
		cl->out_off = cl->out_len = 0;
	if (cl->out_len + n + 1 > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;
		char *p;

		/* Compact first: sent bytes are not kept. */
		if (cl->out_off > 0) {
			memmove(cl->out, cl->out + cl->out_off,
				cl->out_len - cl->out_off);
			cl->out_len -= cl->out_off;
			cl->out_off = 0;
		}
		while (cap < cl->out_len + n + 1)
			cap *= 2;
		if (cap != cl->out_cap) {
			/* Replies hold no plain numbers: realloc is fine. */
			p = realloc(cl->out, cap);
			if (p == NULL) {
				json_decref(reply);
				return -ENOMEM;
			}
			cl->out = p;
			cl->out_cap = cap;
		}
	}
	json_dumpb(reply, cl->out + cl->out_len, n, JSON_COMPACT);
	json_decref(reply);
	cl->out_len += n;
	cl->out[cl->out_len++] = '\n';
	cl->last_ms = now;
	return 0;
}

int
cp_client_flush(struct cp_client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t w = send(cl->fd, cl->out + cl->out_off,
				 cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		cl->out_off += (size_t)w;
		cl->sent_total += (size_t)w;
	}
	cl->out_off = cl->out_len = 0;
	return 0;
}

void
cp_client_free(struct cp_client *cl)
{
	if (cl == NULL)
		return;
	if (cl->fd >= 0)
		close(cl->fd);
	sodium_memzero(cl->in, cl->in_cap);
	free(cl->in);
	free(cl->out);
	free(cl);
}
