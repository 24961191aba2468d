/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroutectl's side of the management protocol (include/optroute/mgmt.h):
 * a connection that sends request lines and reads reply lines, and a
 * request buffer that is wiped whenever it is freed or grows, because a
 * request may carry a plain number.
 */
#ifndef CTL_IO_H
#define CTL_IO_H

#include <stddef.h>

#include <jansson.h>

struct ctl_conn {
	int fd;
	int timeout_ms;
	char *in;
	size_t in_len, in_cap;
	char path[108];  /* the socket, for ctl_retry() */
	unsigned lines;  /* lines received on this connection */
	unsigned tries;  /* reconnections so far (ctl_retry) */
};

/* A request line being built. Wiped on growth and on ctl_buf_free(). */
struct ctl_buf {
	char *p;
	size_t len, cap;
};

/* 0 or -errno; err says why (socket path, permission). */
int ctl_connect(struct ctl_conn *c, const char *path, int timeout_ms,
		char *err, size_t errlen);
void ctl_close(struct ctl_conn *c);

/* Sends b (one line, newline included). 0 or -errno. */
int ctl_send(struct ctl_conn *c, const struct ctl_buf *b);

/* Reads one reply line and parses it. 0, -ETIMEDOUT, -ECONNRESET (the
 * daemon closed), -EBADMSG (not JSON). */
int ctl_recv(struct ctl_conn *c, json_t **reply);

/* The daemon refuses a connection at max_clients, or takes its slot for a
 * newer one while it has no request in progress, with too_many_clients
 * ("retry later", docs/control.md "Limits and abuse"): nothing sent on it
 * was done. After rc and reply (NULL if none) of the connection's first
 * ctl_recv(): 1 if that happened and the connection was replaced by a new
 * one (after a pause growing from 50 ms to 1 s, at most CTL_RETRY_MAX
 * times): send everything again. 0 otherwise (reply untouched). */
#define CTL_RETRY_MAX 20
int ctl_retry(struct ctl_conn *c, int rc, json_t **reply);

int ctl_buf_add(struct ctl_buf *b, const char *s, size_t len);
int ctl_buf_printf(struct ctl_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Adds s[0..len) as a JSON string, quotes included. */
int ctl_buf_add_jstr(struct ctl_buf *b, const char *s, size_t len);
void ctl_buf_reset(struct ctl_buf *b); /* wipes, keeps the memory */
void ctl_buf_free(struct ctl_buf *b);

#endif
