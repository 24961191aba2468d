/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Client side of the update channel: see include/optroute/chan_client.h
 * for the API and docs/channel.md for the protocol.
 *
 * The socket is non-blocking; every wait is a poll() bounded by a deadline.
 * Sending polls for POLLIN too and consumes what the dataplane sends
 * meanwhile (ACKs, ERRORs): the dataplane never blocks on its side either,
 * and drops a peer that does not read, so a sender must keep reading.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "optroute/chan_client.h"
#include "optroute/wipe.h"

#define CHAN_CLIENT_DEFAULT_TIMEOUT_MS 5000
#define CHAN_CLIENT_RETRY_MS 20
#define CHAN_CLIENT_ERRNO_MAX 4095 /* largest errno (the kernel's MAX_ERRNO) */

struct or_chan_client {
	int fd;
	int timeout_ms;
	uint64_t next_seq;
	uint64_t sent_seq; /* last seq sent, 0 = none */
	uint64_t acked;
	struct or_chan_peer_info peer;
	int hello_seen;
	int hello_err; /* -errno from an ERROR answering our HELLO */

	or_chan_error_cb err_cb;
	void *err_arg;
	unsigned n_err;
	struct or_chan_err_info last_err;

	/* Stats reply being collected. */
	uint64_t stats_id;
	struct or_chan_stat *stats_out;
	unsigned stats_max, stats_n;
	int stats_done;

	uint8_t *sbuf; /* OR_CHAN_MSG_MAX */
	uint8_t *rbuf; /* OR_CHAN_MSG_MAX + 1 */
};

static int64_t
chan_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
chan_left_ms(int64_t deadline)
{
	int64_t left = deadline - chan_now_ms();

	return left < 0 ? 0 : (int)left;
}

/* A peer's ERROR code as a positive errno. The code is the peer's to
 * choose: anything outside the errno range (0, above 4095, a "negative"
 * u32 whose negation would overflow an int) becomes EPROTO, so that a
 * failed or_chan_connect() always returns a negative errno (never 0 or a
 * positive value) and a recorded error always has a positive one. */
static int
chan_peer_errno(uint32_t code)
{
	return code >= 1 && code <= CHAN_CLIENT_ERRNO_MAX ? (int)code : EPROTO;
}

static void
chan_record_error(struct or_chan_client *c, int code, uint32_t index,
		  uint64_t seq, const char *text, size_t text_len)
{
	struct or_chan_err_info *e = &c->last_err;
	size_t l = strnlen(text, text_len);

	if (l >= sizeof(e->text))
		l = sizeof(e->text) - 1;
	e->code = code;
	e->index = index;
	e->seq = seq;
	memcpy(e->text, text, l);
	e->text[l] = '\0';
	c->n_err++;
	if (c->err_cb != NULL)
		c->err_cb(c->err_arg, e);
}

static void
chan_on_stats(struct or_chan_client *c, const struct or_chan_stats_reply *r,
	      size_t len)
{
	if (r->count > OR_CHAN_MAX_STATS ||
	    len != sizeof(*r) + (size_t)r->count * sizeof(r->stats[0])) {
		chan_record_error(c, EBADMSG, OR_CHAN_NO_INDEX, OR_CHAN_NO_SEQ,
				  "malformed STATS_REPLY", 32);
		return;
	}
	if (c->stats_out == NULL || r->id != c->stats_id)
		return; /* a reply to a request we gave up on */
	for (uint32_t i = 0; i < r->count && c->stats_n < c->stats_max; i++) {
		struct or_chan_stat *s = &c->stats_out[c->stats_n++];

		*s = r->stats[i];
		s->name[sizeof(s->name) - 1] = '\0';
	}
	if (r->last)
		c->stats_done = 1;
}

/* One message from the dataplane. Malformed ones are recorded as local
 * EBADMSG errors and otherwise ignored. */
static void
chan_on_msg(struct or_chan_client *c, const uint8_t *msg, size_t len)
{
	struct or_chan_hdr h;

	if (len < sizeof(h) || (memcpy(&h, msg, sizeof(h)), h.len != len)) {
		chan_record_error(c, EBADMSG, OR_CHAN_NO_INDEX, OR_CHAN_NO_SEQ,
				  "malformed message from the dataplane", 40);
		return;
	}
	switch (h.type) {
	case OR_CHAN_ACK:
		if (len == sizeof(struct or_chan_ack)) {
			const struct or_chan_ack *a = (const void *)msg;

			if (a->seq > c->acked)
				c->acked = a->seq;
			return;
		}
		break;
	case OR_CHAN_ERROR:
		if (len == sizeof(struct or_chan_error)) {
			const struct or_chan_error *e = (const void *)msg;
			int code = chan_peer_errno(e->code);

			if (!c->hello_seen)
				c->hello_err = -code;
			chan_record_error(c, code, e->index, e->seq, e->text,
					  sizeof(e->text));
			return;
		}
		break;
	case OR_CHAN_HELLO:
		if (len == sizeof(struct or_chan_hello)) {
			const struct or_chan_hello *hl = (const void *)msg;

			if (c->hello_seen)
				return;
			c->peer = (struct or_chan_peer_info){
				.version = hl->version,
				.role = hl->role,
				.workers = hl->workers,
				.max_ops = hl->max_ops,
				.entries = hl->entries,
				.acked_seq = hl->acked_seq,
				.generation = hl->generation,
				.mark_seq = hl->mark_seq,
			};
			memcpy(c->peer.mark_hash, hl->mark_hash,
			       sizeof(c->peer.mark_hash));
			c->hello_seen = 1;
			return;
		}
		break;
	case OR_CHAN_STATS_REPLY:
		if (len >= sizeof(struct or_chan_stats_reply)) {
			chan_on_stats(c, (const void *)msg, len);
			return;
		}
		break;
	default:
		break;
	}
	chan_record_error(c, EBADMSG, OR_CHAN_NO_INDEX, OR_CHAN_NO_SEQ,
			  "unexpected message from the dataplane", 40);
}

/* Reads everything readable now. 0 or -ECONNRESET. */
int
or_chan_poll(struct or_chan_client *c)
{
	int broken = 0;

	for (;;) {
		struct iovec iov = { c->rbuf, OR_CHAN_MSG_MAX + 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return broken ? -ECONNRESET : 0;
			/* A peer that closed with our messages unread leaves
			 * ECONNRESET pending, reported once, ahead of what it
			 * sent before closing (e.g. ERROR EBUSY): read on. */
			if (broken++)
				return -ECONNRESET;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (mh.msg_flags & MSG_TRUNC) {
			chan_record_error(c, EBADMSG, OR_CHAN_NO_INDEX,
					  OR_CHAN_NO_SEQ,
					  "oversized message from the dataplane",
					  40);
			continue;
		}
		chan_on_msg(c, c->rbuf, (size_t)n);
	}
}

/* Waits up to ms for something to read, then reads it. 1 read, 0 timeout,
 * -ECONNRESET. */
static int
chan_wait_in(struct or_chan_client *c, int ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int rc = poll(&p, 1, ms);

	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	if (rc == 0)
		return 0;
	rc = or_chan_poll(c);
	return rc < 0 ? rc : 1;
}

static int
chan_send(struct or_chan_client *c, const void *msg, size_t len)
{
	int64_t deadline = chan_now_ms() + c->timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN | POLLOUT };
		ssize_t n = send(c->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		int rc;

		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return -EMSGSIZE; /* cannot happen on SEQPACKET */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
			return errno == EPIPE ? -ECONNRESET : -errno;
		rc = poll(&p, 1, chan_left_ms(deadline));
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			rc = or_chan_poll(c);
			if (rc < 0)
				return rc;
		}
	}
}

static int
chan_connect_once(const char *path, int *fdp)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		*fdp = fd;
		return 0;
	}
	rc = -errno;
	close(fd);
	return rc;
}

int
or_chan_connect(const char *path, uint32_t role, int timeout_ms,
		struct or_chan_client **out)
{
	int64_t deadline = chan_now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	struct or_chan_hello hello = {
		.h = { .type = OR_CHAN_HELLO, .len = sizeof(hello) },
		.version = OR_CHAN_VERSION,
		.role = role,
	};
	struct or_chan_client *c;
	int rc;

	if (path == NULL || out == NULL)
		return -EINVAL;
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->fd = -1;
	c->timeout_ms = CHAN_CLIENT_DEFAULT_TIMEOUT_MS;
	c->sbuf = malloc(OR_CHAN_MSG_MAX);
	c->rbuf = malloc(OR_CHAN_MSG_MAX + 1);
	if (c->sbuf == NULL || c->rbuf == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	/* The dataplane may still be starting: retry until the deadline. */
	for (;;) {
		rc = chan_connect_once(path, &c->fd);
		if (rc == 0)
			break;
		if ((rc != -ENOENT && rc != -ECONNREFUSED && rc != -EAGAIN) ||
		    chan_left_ms(deadline) == 0)
			goto fail;
		usleep(CHAN_CLIENT_RETRY_MS * 1000);
	}
	c->timeout_ms = chan_left_ms(deadline);
	rc = chan_send(c, &hello, sizeof(hello));
	c->timeout_ms = CHAN_CLIENT_DEFAULT_TIMEOUT_MS;
	if (rc < 0) {
		/* A refusing dataplane (EBUSY) may have closed before our
		 * HELLO got there: its ERROR is still to be read. */
		or_chan_poll(c);
		if (c->hello_err != 0)
			rc = c->hello_err;
		goto fail;
	}
	while (!c->hello_seen && c->hello_err == 0) {
		rc = chan_wait_in(c, chan_left_ms(deadline));
		if (rc < 0 && c->hello_err == 0)
			goto fail;
		if (rc == 0 && chan_left_ms(deadline) == 0) {
			rc = -ETIMEDOUT;
			goto fail;
		}
	}
	if (c->hello_err != 0) {
		rc = c->hello_err;
		goto fail;
	}
	if (c->peer.version != OR_CHAN_VERSION ||
	    c->peer.role != OR_CHAN_ROLE_DATAPLANE || c->peer.max_ops == 0) {
		rc = -EPROTONOSUPPORT;
		goto fail;
	}
	c->acked = c->peer.acked_seq;
	c->next_seq = c->peer.acked_seq + 1;
	c->n_err = 0;
	*out = c;
	return 0;

fail:
	or_chan_close(c);
	return rc;
}

void
or_chan_close(struct or_chan_client *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->sbuf);
	free(c->rbuf);
	free(c);
}

const struct or_chan_peer_info *
or_chan_peer(const struct or_chan_client *c)
{
	return &c->peer;
}

int
or_chan_fd(const struct or_chan_client *c)
{
	return c->fd;
}

void
or_chan_set_timeout(struct or_chan_client *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms < 0 ? 0 : timeout_ms;
}

void
or_chan_set_error_cb(struct or_chan_client *c, or_chan_error_cb cb, void *arg)
{
	c->err_cb = cb;
	c->err_arg = arg;
}

int
or_chan_set_next_seq(struct or_chan_client *c, uint64_t seq)
{
	if (seq == 0 || seq <= c->sent_seq)
		return -ERANGE;
	c->next_seq = seq;
	return 0;
}

uint64_t
or_chan_acked(const struct or_chan_client *c)
{
	return c->acked;
}

unsigned
or_chan_take_errors(struct or_chan_client *c, struct or_chan_err_info *last)
{
	unsigned n = c->n_err;

	if (n > 0 && last != NULL)
		*last = c->last_err;
	c->n_err = 0;
	return n;
}

static int
chan_check_ops(const struct or_chan_op *ops, size_t n, int resync)
{
	for (size_t i = 0; i < n; i++) {
		if (ops[i].op == OR_CHAN_OP_UPSERT) {
			if (!or_rec_valid(ops[i].rec))
				return -EINVAL;
		} else if (ops[i].op != OR_CHAN_OP_DELETE || resync) {
			return -EINVAL;
		}
	}
	return 0;
}

static int
chan_send_ops(struct or_chan_client *c, uint16_t type,
	      const struct or_chan_op *ops, size_t n, uint64_t *last_seq)
{
	struct or_chan_batch *b = (struct or_chan_batch *)c->sbuf;
	size_t per = c->peer.max_ops < OR_CHAN_MAX_OPS ? c->peer.max_ops :
							  OR_CHAN_MAX_OPS;
	int rc = chan_check_ops(ops, n, type == OR_CHAN_RESYNC_DATA);

	if (rc < 0)
		return rc;
	while (n > 0) {
		size_t k = n < per ? n : per;
		size_t len = sizeof(*b) + k * sizeof(*ops);

		memset(b, 0, sizeof(*b));
		b->h.type = type;
		b->h.len = (uint32_t)len;
		b->seq = c->next_seq;
		b->count = (uint32_t)k;
		memcpy(b->ops, ops, k * sizeof(*ops));
		rc = chan_send(c, b, len);
		if (rc < 0)
			return rc;
		c->sent_seq = c->next_seq++;
		if (last_seq != NULL)
			*last_seq = c->sent_seq;
		ops += k;
		n -= k;
	}
	return 0;
}

int
or_chan_send_batch(struct or_chan_client *c, const struct or_chan_op *ops,
		   size_t n, uint64_t *last_seq)
{
	return chan_send_ops(c, OR_CHAN_BATCH, ops, n, last_seq);
}

int
or_chan_resync_data(struct or_chan_client *c, const struct or_chan_op *ops,
		    size_t n, uint64_t *last_seq)
{
	return chan_send_ops(c, OR_CHAN_RESYNC_DATA, ops, n, last_seq);
}

static int
chan_send_resync(struct or_chan_client *c, uint16_t type, uint64_t generation,
		 uint64_t *seq)
{
	struct or_chan_resync r = {
		.h = { .type = type, .len = sizeof(r) },
		.seq = c->next_seq,
		.generation = generation,
	};
	int rc;

	if (generation == 0)
		return -EINVAL;
	rc = chan_send(c, &r, sizeof(r));
	if (rc < 0)
		return rc;
	c->sent_seq = c->next_seq++;
	if (seq != NULL)
		*seq = c->sent_seq;
	return 0;
}

int
or_chan_resync_begin(struct or_chan_client *c, uint64_t generation,
		     uint64_t *seq)
{
	return chan_send_resync(c, OR_CHAN_RESYNC_BEGIN, generation, seq);
}

int
or_chan_resync_end(struct or_chan_client *c, uint64_t generation,
		   uint64_t *seq)
{
	return chan_send_resync(c, OR_CHAN_RESYNC_END, generation, seq);
}

int
or_chan_resync(struct or_chan_client *c, uint64_t generation,
	       const struct or_chan_op *ops, size_t n, uint64_t *seq)
{
	int rc = chan_check_ops(ops, n, 1);

	if (rc == 0)
		rc = or_chan_resync_begin(c, generation, NULL);
	if (rc == 0)
		rc = or_chan_resync_data(c, ops, n, NULL);
	if (rc == 0)
		rc = or_chan_resync_end(c, generation, seq);
	return rc;
}

int
or_chan_send_auth_keys(struct or_chan_client *c,
		       const struct or_chan_auth_key *keys, unsigned count,
		       uint64_t *seq)
{
	struct or_chan_auth_keys m;
	int rc;

	if (count > OR_CHAN_AUTH_MAX_EPOCHS || (count > 0 && keys == NULL) ||
	    (count == 2 && keys[0].epoch == keys[1].epoch))
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.h.type = OR_CHAN_AUTH_KEYS;
	m.h.len = sizeof(m);
	m.seq = c->next_seq;
	m.version = OR_CHAN_AUTH_KEYS_VERSION;
	m.count = count;
	for (unsigned i = 0; i < count; i++) {
		m.keys[i].epoch = keys[i].epoch;
		memcpy(m.keys[i].key, keys[i].key, sizeof(m.keys[i].key));
	}
	/* The copies went through vector registers, where K_auth would stay
	 * (in a core, or on the stack at the next lazy binding: found there
	 * by tests/integration/auth_privacy.sh, optroute/wipe.h). */
	or_wipe_vregs();
	rc = chan_send(c, &m, sizeof(m));
	/* The only message with key material: no copy stays behind. */
	sodium_memzero(&m, sizeof(m));
	if (rc < 0)
		return rc;
	c->sent_seq = c->next_seq++;
	if (seq != NULL)
		*seq = c->sent_seq;
	return 0;
}

int
or_chan_send_mark(struct or_chan_client *c, uint64_t store_seq,
		  const uint8_t hash[OR_CHAN_MARK_HASH_LEN])
{
	struct or_chan_mark m;

	if (store_seq == 0 || hash == NULL)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.h.type = OR_CHAN_MARK;
	m.h.len = sizeof(m);
	m.store_seq = store_seq;
	memcpy(m.store_hash, hash, sizeof(m.store_hash));
	return chan_send(c, &m, sizeof(m));
}

int
or_chan_wait_ack(struct or_chan_client *c, uint64_t seq, int timeout_ms)
{
	int64_t deadline = chan_now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);

	if (seq > c->sent_seq && seq > c->peer.acked_seq)
		return -EINVAL; /* never sent: would only time out */
	while (c->acked < seq) {
		int rc = chan_wait_in(c, chan_left_ms(deadline));

		if (rc < 0)
			return c->acked >= seq ? 0 : rc;
		if (c->acked < seq && chan_left_ms(deadline) == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

int
or_chan_get_stats(struct or_chan_client *c, struct or_chan_stat *out,
		  unsigned max, unsigned *n, int timeout_ms)
{
	return or_chan_get_stats_flags(c, 0, out, max, n, timeout_ms);
}

int
or_chan_get_stats_flags(struct or_chan_client *c, uint16_t flags,
			struct or_chan_stat *out, unsigned max, unsigned *n,
			int timeout_ms)
{
	int64_t deadline = chan_now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	struct or_chan_stats_request r = {
		.h = { .type = OR_CHAN_STATS_REQUEST, .flags = flags,
		       .len = sizeof(r) },
		.id = ++c->stats_id,
	};
	int rc;

	c->stats_out = out;
	c->stats_max = out == NULL ? 0 : max;
	c->stats_n = 0;
	c->stats_done = 0;
	rc = chan_send(c, &r, sizeof(r));
	while (rc == 0 && !c->stats_done) {
		rc = chan_wait_in(c, chan_left_ms(deadline));
		if (rc >= 0 && !c->stats_done && chan_left_ms(deadline) == 0)
			rc = -ETIMEDOUT;
		else if (rc > 0)
			rc = 0;
	}
	if (n != NULL)
		*n = c->stats_n;
	c->stats_out = NULL;
	return rc < 0 ? rc : 0;
}
