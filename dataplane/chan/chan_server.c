/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The updater's socket side: the listening Unix SOCK_SEQPACKET socket, the
 * peer check on accept (SO_PEERCRED, include/optroute/peer.h), the one
 * connected peer, reading messages and a bounded output queue.
 *
 * Output never blocks the updater: messages are sent with MSG_DONTWAIT and
 * queued when the peer's receive buffer is full. ACKs are not queued but
 * coalesced (only the highest seq matters) and sent once the queue is
 * empty, so an ERROR about a seq always reaches the peer before the ACK that
 * covers it. A peer that lets CHAN_OUTQ_MAX messages pile up is dropped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_log.h>

#include "optroute/ctable.h"
#include "optroute/peer.h"
#include "chan_priv.h"

RTE_LOG_REGISTER(or_chan_logtype, optroute.chan, NOTICE);

/* An existing path is replaced only if it is a socket nobody listens on:
 * never a regular file (a typo in the config), never a live dataplane's. */
static int
chan_remove_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat sb;
	int fd, rc;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(sb.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int
chan_listen(const char *path, int *lfd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (path == NULL || path[0] == '\0')
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	rc = chan_remove_stale(path, &sa);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	/* Mode before listen(): nobody can connect while it is still wider. */
	if (chmod(path, 0660) < 0 || listen(fd, 4) < 0) {
		rc = -errno;
		close(fd);
		unlink(path);
		return rc;
	}
	*lfd = fd;
	return 0;
}

static void
chan_outq_free(struct or_updater *u)
{
	struct chan_out *o, *n;

	for (o = u->outq_head; o != NULL; o = n) {
		n = o->next;
		free(o);
	}
	u->outq_head = u->outq_tail = NULL;
	u->outq_len = 0;
}

static void
chan_conn_reset(struct or_updater *u)
{
	u->hello_done = 0;
	u->close_after_flush = 0;
	u->peer_reset = 0;
	u->peer_gone = 0;
	u->conn_seq = 0;
	u->resyncing = 0;
	u->resync_gen = 0;
	u->ack_owed = 0;
	chan_outq_free(u);
}

void
chan_disconnect(struct or_updater *u)
{
	if (u->cfd < 0)
		return;
	/* Deltas already applied stay; make them visible before anything else.
	 * Nobody to ack to any more, but acked_seq is still recorded: the next
	 * HELLO tells a peer that sent and closed without reading its ACK up
	 * to where its messages are applied (docs/channel.md). */
	if (u->need_sync) {
		int rc = ct_sync(u->t);

		CHAN_INC(u, syncs);
		u->need_sync = 0;
		if (rc == 0)
			CHAN_SET(u, acked_seq, u->conn_seq);
	}
	if (u->resyncing) {
		ct_replace_abort(u->t);
		CHAN_INC(u, resync_aborts);
		CHAN_LOG(NOTICE, "peer gone during resync %" PRIu64
			 ": aborted, live table kept", u->resync_gen);
	}
	close(u->cfd);
	u->cfd = -1;
	chan_conn_reset(u);
	CHAN_SET(u, connected, 0);
	CHAN_INC(u, disconnects);
}

/* Answers a connection that is not served with one ERROR and closes it,
 * without reading anything from it. Best effort: the socket buffer of a
 * new connection is empty, and a peer gone already reads nothing. */
static void
chan_refuse(int fd, int code, const char *text)
{
	struct or_chan_error e = {
		.h = { .type = OR_CHAN_ERROR, .len = sizeof(e) },
		.code = (uint32_t)code,
		.index = OR_CHAN_NO_INDEX,
	};

	snprintf(e.text, sizeof(e.text), "%s", text);
	(void)send(fd, &e, sizeof(e), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

/* The peer's credentials before anything else, also before the one-peer
 * rule: a refused peer learns nothing, not even whether a control plane is
 * connected. Counted before the ERROR is sent (the peer may look at the
 * counters as soon as it has read it). 1 served, 0 refused (closed). */
static int
chan_peer_ok(struct or_updater *u, int fd)
{
	struct ucred cr = { .pid = 0 };
	int rc = or_peer_check(fd, &u->conf.peer, &cr);

	if (rc > 0)
		return 1;
	CHAN_INC(u, refused_peer);
	if (rc < 0)
		CHAN_LOG(NOTICE, "refused a peer whose credentials could not "
			 "be read: %s", strerror(-rc));
	else
		CHAN_LOG(NOTICE, "refused peer uid %u gid %u pid %d: not root, "
			 "our uid or [dataplane] channel_peer_uid/gid",
			 (unsigned)cr.uid, (unsigned)cr.gid, (int)cr.pid);
	chan_refuse(fd, EACCES, "this user may not use the update channel");
	return 0;
}

void
chan_accept(struct or_updater *u)
{
	int fd = accept4(u->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return; /* EAGAIN, or the peer gave up already */
	if (!chan_peer_ok(u, fd))
		return;
	if (u->cfd >= 0) {
		/* Counted first, as above. */
		CHAN_INC(u, refused);
		chan_refuse(fd, EBUSY, "another peer is connected; one at a "
			    "time");
		return;
	}
	u->cfd = fd;
	chan_conn_reset(u);
	CHAN_SET(u, connected, 1);
	CHAN_INC(u, connects);
}

/* 1 sent (or dropped: the peer is gone), 0 would block, -1 broken. */
static int
chan_send_now(struct or_updater *u, const void *msg, size_t len)
{
	ssize_t n;

	if (u->peer_gone)
		return 1;
	n = send(u->cfd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == (ssize_t)len)
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		      errno == ENOBUFS))
		return 0;
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
		/* The peer closed. What it sent before closing is still to
		 * be read and applied (until EOF, see chan_read); what we
		 * send from now on is dropped. */
		u->peer_gone = 1;
		return 1;
	}
	return -1;
}

int
chan_queue(struct or_updater *u, const void *msg, size_t len)
{
	struct chan_out *o;
	int rc;

	if (u->cfd < 0)
		return -ENOTCONN;
	if (u->outq_head == NULL) {
		rc = chan_send_now(u, msg, len);
		if (rc > 0)
			return 0;
		if (rc < 0) {
			chan_disconnect(u);
			return -ECONNRESET;
		}
	}
	if (u->outq_len >= CHAN_OUTQ_MAX) {
		CHAN_LOG(WARNING, "peer does not read its messages: dropped");
		chan_disconnect(u);
		return -ENOBUFS;
	}
	o = malloc(sizeof(*o) + len);
	if (o == NULL) {
		chan_disconnect(u);
		return -ENOMEM;
	}
	o->next = NULL;
	o->len = len;
	memcpy(o->data, msg, len);
	if (u->outq_tail != NULL)
		u->outq_tail->next = o;
	else
		u->outq_head = o;
	u->outq_tail = o;
	u->outq_len++;
	return 0;
}

int
chan_flush(struct or_updater *u)
{
	struct chan_out *o;
	int rc;

	while (u->cfd >= 0 && (o = u->outq_head) != NULL) {
		rc = chan_send_now(u, o->data, o->len);
		if (rc == 0)
			return 0;
		if (rc < 0) {
			chan_disconnect(u);
			return -ECONNRESET;
		}
		u->outq_head = o->next;
		if (u->outq_head == NULL)
			u->outq_tail = NULL;
		u->outq_len--;
		free(o);
	}
	if (u->cfd < 0)
		return -ENOTCONN;
	if (u->ack_owed) {
		struct ct_stats cs;
		struct or_chan_ack a = {
			.h = { .type = OR_CHAN_ACK, .len = sizeof(a) },
			.seq = CHAN_GET(u, acked_seq),
			.generation = CHAN_GET(u, generation),
		};

		ct_get_stats(u->t, &cs);
		a.entries = cs.entries;
		rc = chan_send_now(u, &a, sizeof(a));
		if (rc < 0) {
			chan_disconnect(u);
			return -ECONNRESET;
		}
		if (rc > 0) {
			u->ack_owed = 0;
			CHAN_INC(u, acks);
		}
	}
	if (u->close_after_flush && u->outq_head == NULL && !u->ack_owed)
		chan_disconnect(u);
	return 0;
}

void
chan_send_error(struct or_updater *u, int code, uint64_t seq, uint32_t index,
		const char *fmt, ...)
{
	struct or_chan_error e = {
		.h = { .type = OR_CHAN_ERROR, .len = sizeof(e) },
		.code = (uint32_t)code,
		.index = index,
		.seq = seq,
	};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e.text, sizeof(e.text), fmt, ap);
	va_end(ap);
	CHAN_INC(u, errors);
	/* Whatever was refused, the peer's view of the table and ours may
	 * differ now: no MARK is kept until the next full resync
	 * (chan_apply.c chan_mark). */
	u->tainted = 1;
	chan_mark_clear(u);
	CHAN_LOG(DEBUG, "error sent: %s (%s, seq %" PRIu64 ")", e.text,
		 strerror(code), seq);
	chan_queue(u, &e, sizeof(e));
}

/* Reads up to CHAN_DRAIN_MAX messages. Returns how many were handled, or
 * -1 if the peer went away. */
int
chan_read(struct or_updater *u)
{
	int n;

	for (n = 0; n < CHAN_DRAIN_MAX && u->cfd >= 0 && !u->close_after_flush;
	     n++) {
		struct iovec iov = { u->rbuf, OR_CHAN_MSG_MAX + 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t len = recvmsg(u->cfd, &mh, MSG_DONTWAIT);

		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return n;
			/* A peer that closed with our ACKs unread leaves
			 * ECONNRESET pending, reported once, ahead of the
			 * messages it sent before closing: apply those. */
			if (errno == ECONNRESET && !u->peer_reset) {
				u->peer_reset = 1;
				continue;
			}
			chan_disconnect(u);
			return -1;
		}
		if (len == 0) { /* orderly close (or an empty datagram) */
			chan_disconnect(u);
			return -1;
		}
		if ((mh.msg_flags & MSG_TRUNC) || len > (ssize_t)OR_CHAN_MSG_MAX) {
			chan_send_error(u, EBADMSG, OR_CHAN_NO_SEQ,
					OR_CHAN_NO_INDEX,
					"message larger than %zu bytes",
					(size_t)OR_CHAN_MSG_MAX);
			continue;
		}
		chan_handle(u, u->rbuf, (size_t)len);
	}
	return n;
}
