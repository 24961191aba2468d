/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-exporter's management client (exp.h): asks optroute-control's
 * event loop for "stats" over the management socket, as optroutectl does,
 * so that every figure is read by the thread that owns it. The exporter's
 * user is let in as a read-only client ([control] readonly_gid, group
 * optroute-readonly: docs/exporter.md#access); a refusal
 * (permission_denied) is logged once and retried at every fetch.
 *
 * Replies are matched by id: a reply that arrives after its fetch gave up
 * is skipped. Any failure closes the connection; the next fetch reconnects.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "optroute/mgmt.h"

#include "exp.h"

/* A stats reply is some tens of KiB (a few hundred dataplane counters). */
#define EXP_FETCH_MAX (4u << 20)

void
exp_fetch_init(struct exp_fetch *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->fd = -1;
	f->next_id = 1;
}

static void
exp_fetch_close(struct exp_fetch *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->len = 0;
}

void
exp_fetch_fini(struct exp_fetch *f)
{
	exp_fetch_close(f);
	free(f->buf);
	f->buf = NULL;
	f->cap = 0;
}

static int
exp_fetch_connect(struct exp_fetch *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	/* A Unix stream connect completes at once, or fails with EAGAIN
	 * when the backlog is full: then this fetch fails, the next one
	 * tries again. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	f->fd = fd;
	f->len = 0;
	return 0;
}

/* Looks at one reply line. 1: ours, *reply set; 0: an older reply, skip;
 * <0: error. */
static int
exp_fetch_line(struct exp_fetch *f, int64_t id, const char *line, size_t n,
	       json_t **reply)
{
	json_error_t jerr;
	json_t *r = json_loadb(line, n, 0, &jerr);
	json_t *rid, *err;

	if (!json_is_object(r)) {
		json_decref(r);
		EXP_DEBUG("unparsable reply from optroute-control");
		return -EPROTO;
	}
	rid = json_object_get(r, "id");
	if (json_is_integer(rid) && json_integer_value(rid) != id) {
		json_decref(r);
		return 0;
	}
	if (json_is_integer(rid) && json_is_true(json_object_get(r, "ok"))) {
		*reply = r;
		return 1;
	}
	/* Our request failed, or an error for the connection (no id):
	 * busy, idle_timeout, too_many_clients, permission_denied. */
	err = json_object_get(json_object_get(r, "error"), "code");
	if (!f->failing)
		EXP_WARN("stats request refused: %s",
			json_is_string(err) ? json_string_value(err) : "?");
	f->failing = 1;
	json_decref(r);
	return -EPROTO;
}

/* Reads what is there and handles complete lines. 1 with *reply, 0 for
 * more to come, <0 on error or EOF. */
static int
exp_fetch_read(struct exp_fetch *f, int64_t id, json_t **reply)
{
	for (;;) {
		char *nl;
		ssize_t k;
		int rc;

		while (f->len > 0 &&
		       (nl = memchr(f->buf, '\n', f->len)) != NULL) {
			size_t n = (size_t)(nl - f->buf);

			rc = exp_fetch_line(f, id, f->buf, n, reply);
			memmove(f->buf, nl + 1, f->len - n - 1);
			f->len -= n + 1;
			if (rc != 0)
				return rc;
		}
		if (f->len == f->cap) {
			size_t cap = f->cap != 0 ? f->cap * 2 : 65536;
			char *b;

			if (cap > EXP_FETCH_MAX)
				return -EPROTO;
			b = realloc(f->buf, cap);
			if (b == NULL)
				return -ENOMEM;
			f->buf = b;
			f->cap = cap;
		}
		k = read(f->fd, f->buf + f->len, f->cap - f->len);
		if (k == 0)
			return -ECONNRESET;
		if (k < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		f->len += (size_t)k;
	}
}

static int
exp_fetch_once(struct exp_fetch *f, int stop_fd, unsigned timeout_ms,
	       json_t **reply)
{
	uint64_t deadline = exp_now_ms() + timeout_ms;
	int64_t id = f->next_id++;
	char req[96];
	ssize_t w;
	int n, rc;

	if (f->fd >= 0) {
		struct pollfd pf = { .fd = f->fd, .events = POLLIN };

		/* Anything on an idle connection is the daemon closing it
		 * (idle_timeout, shutting down): start a new one. */
		if (poll(&pf, 1, 0) != 0)
			exp_fetch_close(f);
	}
	if (f->fd < 0 && (rc = exp_fetch_connect(f)) < 0)
		return rc;
	n = snprintf(req, sizeof(req),
		     "{\"v\":%d,\"id\":%lld,\"cmd\":\"stats\"}\n",
		     OR_MGMT_VERSION, (long long)id);
	/* A short line on a socket with an empty send buffer: all or
	 * nothing in practice; a partial write is treated as a failure. */
	w = send(f->fd, req, (size_t)n, MSG_NOSIGNAL);
	if (w != n)
		return w < 0 ? -errno : -EIO;
	for (;;) {
		struct pollfd pf[2] = {
			{ .fd = f->fd, .events = POLLIN },
			{ .fd = stop_fd, .events = POLLIN },
		};
		uint64_t now = exp_now_ms();

		rc = exp_fetch_read(f, id, reply);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(pf, 2, (int)(deadline - now)) < 0 && errno != EINTR)
			return -errno;
		if (pf[1].revents & POLLIN)
			return -ECANCELED;
	}
}

int
exp_fetch_stats(struct exp_fetch *f, int stop_fd, unsigned timeout_ms,
		json_t **reply)
{
	int rc = exp_fetch_once(f, stop_fd, timeout_ms, reply);

	if (rc == 0) {
		if (f->failing)
			EXP_NOTICE("stats requests answered again");
		f->failing = 0;
		return 0;
	}
	/* A late reply would only be skipped: start afresh instead. */
	exp_fetch_close(f);
	if (!f->failing && rc != -ECANCELED && rc != -EPROTO)
		EXP_WARN("stats request to %s failed: %s", f->path,
			strerror(-rc));
	if (rc != -ECANCELED)
		f->failing = 1;
	return rc;
}
