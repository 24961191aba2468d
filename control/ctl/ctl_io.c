/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl_io.h"

int
ctl_connect(struct ctl_conn *c, const char *path, int timeout_ms, char *err,
	    size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_ms = timeout_ms;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	memcpy(c->path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return rc;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		snprintf(err, errlen,
			 "cannot connect to %s: %s%s", path, strerror(errno),
			 errno == ENOENT || errno == ECONNREFUSED
				 ? " (is optroute-control running? -s SOCK)"
				 : errno == EACCES ? " (not in the allowed group?)"
						   : "");
		close(c->fd);
		c->fd = -1;
		return rc;
	}
	return 0;
}

void
ctl_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->in);
	c->in = NULL;
}

int
ctl_send(struct ctl_conn *c, const struct ctl_buf *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t w = send(c->fd, b->p + off, b->len - off, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)w;
	}
	return 0;
}

int
ctl_retry(struct ctl_conn *c, int rc, json_t **reply)
{
	struct ctl_conn n;
	const char *code;
	unsigned tries = c->tries, pause_us;
	char err[256];

	/* Only the connection's first line (or its close before any) can
	 * say that nothing was done. */
	if (rc == 0 && c->lines == 1) {
		json_t *e = json_object_get(*reply, "error");

		code = json_string_value(json_object_get(e, "code"));
		if (code == NULL || strcmp(code, "too_many_clients") != 0)
			return 0;
	} else if (!(c->lines == 0 && (rc == -ECONNRESET || rc == -EPIPE))) {
		return 0;
	}
	if (tries >= CTL_RETRY_MAX)
		return 0;
	pause_us = tries < 5 ? 50000u << tries : 1000000u;
	/* Said, so that a refusal counted by the daemon is seen here too. */
	fprintf(stderr, "optroutectl: the daemon refused the connection "
		"(too many clients); again in %u ms\n", pause_us / 1000);
	usleep(pause_us);
	if (ctl_connect(&n, c->path, c->timeout_ms, err, sizeof(err)) < 0)
		return 0;
	if (rc == 0)
		json_decref(*reply);
	*reply = NULL;
	ctl_close(c);
	*c = n;
	c->tries = tries + 1;
	return 1;
}

static long long
ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ctl_recv(struct ctl_conn *c, json_t **reply)
{
	long long deadline = ctl_now_ms() + c->timeout_ms;
	json_error_t jerr;
	char *nl;

	for (;;) {
		if (c->in_len > 0 &&
		    (nl = memchr(c->in, '\n', c->in_len)) != NULL) {
			size_t len = (size_t)(nl - c->in);

			*reply = json_loadb(c->in, len, 0, &jerr);
			memmove(c->in, nl + 1, c->in_len - len - 1);
			c->in_len -= len + 1;
			c->lines++;
			return *reply != NULL && json_is_object(*reply)
				       ? 0
				       : -EBADMSG;
		}
		if (c->in_len == c->in_cap) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 65536;
			char *p = realloc(c->in, cap);

			if (p == NULL)
				return -ENOMEM;
			c->in = p;
			c->in_cap = cap;
		}
		struct pollfd pf = { .fd = c->fd, .events = POLLIN };
		long long left = deadline - ctl_now_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pf, 1, (int)left) <= 0)
			continue;
		ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);

		if (r == 0)
			return -ECONNRESET;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		c->in_len += (size_t)r;
	}
}

static int
ctl_buf_room(struct ctl_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 1024;
	char *p;

	if (b->len + n + 1 <= b->cap)
		return 0;
	while (cap < b->len + n + 1)
		cap *= 2;
	/* Not realloc: the old block is wiped before it is freed. */
	p = malloc(cap);
	if (p == NULL)
		return -ENOMEM;
	if (b->p != NULL) {
		memcpy(p, b->p, b->len);
		sodium_memzero(b->p, b->cap);
		free(b->p);
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

int
ctl_buf_add(struct ctl_buf *b, const char *s, size_t len)
{
	if (ctl_buf_room(b, len) < 0)
		return -ENOMEM;
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

int
ctl_buf_printf(struct ctl_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -EINVAL;
	return ctl_buf_add(b, tmp, (size_t)n);
}

int
ctl_buf_add_jstr(struct ctl_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	/* Worst case: every byte as \u00XX. */
	if (ctl_buf_room(b, 6 * len + 2) < 0)
		return -ENOMEM;
	b->p[b->len++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			b->p[b->len++] = '\\';
			b->p[b->len++] = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			/* Non-ASCII bytes too: a file may hold invalid
			 * UTF-8, which JSON cannot carry as is. */
			b->p[b->len++] = '\\';
			b->p[b->len++] = 'u';
			b->p[b->len++] = '0';
			b->p[b->len++] = '0';
			b->p[b->len++] = hex[ch >> 4];
			b->p[b->len++] = hex[ch & 15];
		} else {
			b->p[b->len++] = (char)ch;
		}
	}
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
	return 0;
}

void
ctl_buf_reset(struct ctl_buf *b)
{
	if (b->p != NULL)
		sodium_memzero(b->p, b->cap);
	b->len = 0;
}

void
ctl_buf_free(struct ctl_buf *b)
{
	ctl_buf_reset(b);
	free(b->p);
	b->p = NULL;
	b->cap = 0;
}
