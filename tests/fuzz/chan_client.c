/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Fuzz target "chan_client": the control plane's update channel client
 * (control/lib/chan_client.c) against a scripted fake dataplane that sends
 * anything in any order: HELLOs good and bad, ACKs of any seq, ERRORs with
 * any code (0, 0x80000000, 0xffffffff...), STATS_REPLYs of this request,
 * an old one or malformed, raw bytes, and closes when the script says.
 *
 * or_chan_connect runs against a thread that accepts, reads the client's
 * HELLO and sends the script's first messages up to the first that decides
 * the connect (a HELLO or an ERROR of the right size), or closes. Then
 * everything runs on one thread: the fake dataplane's messages of a step
 * are in the socket before the client call of the next step, and every
 * client call has a zero timeout, so each run is deterministic.
 *
 * A model written here from docs/channel.md and chan_client.h predicts:
 * the connect's result (0 only for a HELLO of OR_CHAN_VERSION, role dataplane,
 * max_ops > 0; a peer's ERROR code as a negative errno whatever its value,
 * 1..4095 kept, anything else EPROTO; a close ECONNRESET), the acked seq,
 * every recorded error (count, code, index, seq; the callback's too), the
 * counters a get_stats returns, and each call's return value. Every message
 * the client sends is checked against docs/channel.md: sizes, types,
 * seqs from the HELLO's acked_seq + 1 up by one (or from set_next_seq),
 * ops valid, batches split at the peer's max_ops, resync generations,
 * AUTH_KEYS (version, count, distinct epochs), stats request ids.
 *
 * Input: the role byte, the connect phase's messages, then a script of
 * steps (first byte of each: its kind, below).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "optroute/chan.h"
#include "optroute/chan_client.h"
#include "fz_chan_cmodel.h"
#include "fz_util.h"

#define MAX_OPS 5000

static char fz_path[108];
static int fz_lfd = -1;
static int fz_debug; /* OR_FUZZ_DEBUG=1: steps and results on stderr */

/* ------------------------------------------------ the model's state --- */

static struct cmodel fz_m;
static unsigned fz_cb_calls;
static struct or_chan_err_info fz_cb_last;

/* --------------------------------------------------- the dataplane ---- */

struct dp {
	int fd;           /* the fake dataplane's end, -1 once closed */
	uint8_t role;     /* the role the client says it has */
	uint64_t want_seq;/* the seq the next table message must carry */
	int seq_free;     /* set_next_seq: the next one may jump ahead */
	uint64_t stats_req_id; /* last STATS_REQUEST id seen */
};

static void
dp_send(struct dp *d, struct cmodel *m, const void *b, size_t len)
{
	if (d->fd < 0)
		return;
	/* The model keeps at most 64 messages the client has not read (the
	 * socket holds them all at once): a script that sends more has the
	 * extra ones dropped here, never sent (it is the script's excess,
	 * not the client's fault: finding H1 of docs/fuzzing.md). */
	if (m->nq == 64)
		return;
	FZ_CHECK(len <= MAX_DP_MSG, "message longer than the model keeps");
	if (fz_debug)
		fprintf(stderr, "chan_client:   dataplane sends %zu bytes, type "
			"%u\n", len, len >= 2 ? ((const uint8_t *)b)[0] : 0);
	FZ_CHECK(send(d->fd, b, len, MSG_DONTWAIT | MSG_NOSIGNAL) ==
			 (ssize_t)len,
		 "fake dataplane send: %s", strerror(errno));
	m->q[m->nq].len = len;
	memcpy(m->q[m->nq].b, b, len);
	m->nq++;
}

/* What the client sent is what docs/channel.md allows. */
static void
dp_check_msg(struct dp *d, struct cmodel *m, const uint8_t *b, ssize_t n)
{
	struct or_chan_hdr h;

	FZ_CHECK(n >= (ssize_t)sizeof(h), "client message of %zd bytes", n);
	memcpy(&h, b, sizeof(h));
	FZ_CHECK(h.len == n, "len field %u, datagram %zd", h.len, n);
	switch (h.type) {
	case OR_CHAN_BATCH:
	case OR_CHAN_RESYNC_DATA: {
		struct or_chan_batch bt;
		uint32_t per = m->peer.max_ops < OR_CHAN_MAX_OPS ?
				       m->peer.max_ops :
				       OR_CHAN_MAX_OPS;

		FZ_CHECK(h.flags == 0 && n >= (ssize_t)sizeof(bt), "batch hdr");
		memcpy(&bt, b, sizeof(bt));
		FZ_CHECK(bt.count >= 1 && bt.count <= per &&
				 n == (ssize_t)(sizeof(bt) + bt.count * 24u) &&
				 bt.pad == 0,
			 "batch of %u ops in %zd bytes (max_ops %u)", bt.count,
			 n, per);
		for (uint32_t i = 0; i < bt.count; i++) {
			struct or_chan_op o;

			memcpy(&o, b + sizeof(bt) + i * 24u, sizeof(o));
			FZ_CHECK(o.pad[0] == 0 && o.pad[1] == 0 && o.pad[2] == 0,
				 "op padding");
			if (o.op == OR_CHAN_OP_UPSERT)
				FZ_CHECK(or_rec_valid(o.rec), "invalid record sent");
			else
				FZ_CHECK(o.op == OR_CHAN_OP_DELETE &&
						 o.rec == 0 &&
						 h.type == OR_CHAN_BATCH,
					 "op %u in type %u", o.op, h.type);
		}
		FZ_CHECK(bt.seq == d->want_seq ||
				 (d->seq_free && bt.seq > d->want_seq - 1),
			 "seq %" PRIu64 ", want %" PRIu64, bt.seq,
			 d->want_seq);
		d->want_seq = bt.seq + 1;
		d->seq_free = 0;
		break;
	}
	case OR_CHAN_RESYNC_BEGIN:
	case OR_CHAN_RESYNC_END: {
		struct or_chan_resync r;

		FZ_CHECK(n == sizeof(r), "resync size");
		memcpy(&r, b, sizeof(r));
		FZ_CHECK(r.generation > 0, "resync generation 0 sent");
		FZ_CHECK(r.seq == d->want_seq ||
				 (d->seq_free && r.seq > d->want_seq - 1),
			 "seq %" PRIu64 ", want %" PRIu64, r.seq, d->want_seq);
		d->want_seq = r.seq + 1;
		d->seq_free = 0;
		break;
	}
	case OR_CHAN_AUTH_KEYS: {
		struct or_chan_auth_keys k;
		static const uint8_t zero[7];

		FZ_CHECK(n == sizeof(k), "AUTH_KEYS size");
		memcpy(&k, b, sizeof(k));
		FZ_CHECK(k.version == OR_CHAN_AUTH_KEYS_VERSION &&
				 k.count <= 2 &&
				 (k.count < 2 ||
				  k.keys[0].epoch != k.keys[1].epoch),
			 "AUTH_KEYS version %u count %u", k.version, k.count);
		for (unsigned i = 0; i < 2; i++)
			FZ_CHECK(memcmp(k.keys[i].pad, zero, 7) == 0 &&
					 (i < k.count ||
					  fz_all_zero(&k.keys[i], 24)),
				 "AUTH_KEYS key %u not clean", i);
		FZ_CHECK(k.seq == d->want_seq ||
				 (d->seq_free && k.seq > d->want_seq - 1),
			 "seq %" PRIu64 ", want %" PRIu64, k.seq, d->want_seq);
		d->want_seq = k.seq + 1;
		d->seq_free = 0;
		break;
	}
	case OR_CHAN_STATS_REQUEST: {
		struct or_chan_stats_request r;

		FZ_CHECK(n == sizeof(r), "STATS_REQUEST size");
		memcpy(&r, b, sizeof(r));
		FZ_CHECK(r.id == d->stats_req_id + 1, "stats id %" PRIu64
			 " after %" PRIu64, r.id, d->stats_req_id);
		FZ_CHECK((r.h.flags & ~OR_CHAN_STATS_F_CLEAR) == 0, "flags");
		d->stats_req_id = r.id;
		break;
	}
	default:
		FZ_CHECK(0, "client sent type %u", h.type);
	}
}

/* Everything the client sent since the last call; returns how many. */
static unsigned
dp_drain(struct dp *d, struct cmodel *m)
{
	static uint8_t b[OR_CHAN_MSG_MAX + 1];
	unsigned k = 0;

	while (d->fd >= 0) {
		ssize_t n = recv(d->fd, b, sizeof(b), MSG_DONTWAIT);

		if (n <= 0)
			break;
		dp_check_msg(d, m, b, n);
		k++;
	}
	return k;
}

/* ---------------------------------------------------- connect phase --- */

struct accept_arg {
	uint8_t role;
	unsigned n;
	const uint8_t *msg[16];
	size_t len[16];
	int fd;       /* out: the dataplane's end, or -1 (closed) */
};

/* A message that settles or_chan_connect: a HELLO or an ERROR of its
 * exact size. */
static int
decisive(const uint8_t *b, size_t len)
{
	struct or_chan_hdr h;

	if (len < sizeof(h))
		return 0;
	memcpy(&h, b, sizeof(h));
	return h.len == len &&
	       ((h.type == OR_CHAN_HELLO && len == sizeof(struct or_chan_hello)) ||
		(h.type == OR_CHAN_ERROR && len == sizeof(struct or_chan_error)));
}

static void *
accept_main(void *arg)
{
	struct accept_arg *a = arg;
	struct pollfd p = { .fd = fz_lfd, .events = POLLIN };
	struct or_chan_hello h;
	uint8_t b[256];
	int fd, dec = 0;
	ssize_t n;

	a->fd = -1;
	FZ_CHECK(poll(&p, 1, 5000) == 1, "client never connected");
	fd = accept4(fz_lfd, NULL, NULL, SOCK_CLOEXEC);
	FZ_CHECK(fd >= 0, "accept");
	p.fd = fd;
	FZ_CHECK(poll(&p, 1, 5000) == 1, "no HELLO from the client");
	n = recv(fd, b, sizeof(b), 0);
	FZ_CHECK(n == sizeof(h), "client HELLO of %zd bytes", n);
	memcpy(&h, b, sizeof(h));
	FZ_CHECK(h.h.type == OR_CHAN_HELLO && h.h.len == sizeof(h) &&
			 h.h.flags == 0 && h.version == OR_CHAN_VERSION &&
			 h.role == a->role && h.workers == 0 &&
			 h.max_ops == 0 && h.entries == 0 && h.acked_seq == 0 &&
			 h.generation == 0,
		 "client HELLO");
	for (unsigned i = 0; i < a->n && !dec; i++) {
		FZ_CHECK(send(fd, a->msg[i], a->len[i], MSG_NOSIGNAL) ==
				 (ssize_t)a->len[i],
			 "send");
		dec = decisive(a->msg[i], a->len[i]);
	}
	if (!dec) {
		close(fd);
		return NULL;
	}
	a->fd = fd;
	return NULL;
}

/* ------------------------------------------------- dataplane messages -- */

static uint8_t
next_or(struct fz_in *in, uint8_t dflt)
{
	return fz_left(in) > 0 ? fz_u8(in) : dflt;
}

/* One message of the fake dataplane, from the script, into b. */
static size_t
make_dp_msg(struct fz_in *in, const struct cmodel *m, uint8_t *b, uint8_t kind)
{
	memset(b, 0, MAX_DP_MSG);
	switch (kind % 6) {
	case 0: { /* raw; never empty: SOCK_SEQPACKET reads an empty
		   * datagram as the peer's close, on both ends */
		size_t n = fz_u8(in);

		n = fz_bytes(in, b, n);
		return n > 0 ? n : 1;
	}
	case 1: { /* ACK */
		struct or_chan_ack a = {
			.h = { .type = OR_CHAN_ACK, .len = sizeof(a) } };
		uint8_t mode = fz_u8(in);

		a.seq = mode & 1 ? m->sent_seq : mode & 2 ? fz_u64(in) :
			m->sent_seq > (mode >> 2) ? m->sent_seq - (mode >> 2) : 0;
		memcpy(b, &a, sizeof(a));
		return sizeof(a);
	}
	case 2: { /* ERROR */
		static const uint32_t codes[8] = {
			EINVAL, EBUSY, 0, 0xffffffffu, 0x80000000u, 4095, 4096,
			EPROTONOSUPPORT,
		};
		struct or_chan_error e = {
			.h = { .type = OR_CHAN_ERROR, .len = sizeof(e) } };
		uint8_t mode = fz_u8(in);

		e.code = mode & 8 ? fz_u32(in) : codes[mode & 7];
		e.index = mode & 16 ? fz_u32(in) : OR_CHAN_NO_INDEX;
		e.seq = mode & 32 ? fz_u64(in) : m->sent_seq;
		if (mode & 64)
			fz_bytes(in, e.text, sizeof(e.text)); /* maybe no NUL */
		else
			snprintf(e.text, sizeof(e.text), "fake %u", e.code);
		memcpy(b, &e, sizeof(e));
		return sizeof(e);
	}
	case 3: { /* HELLO */
		struct or_chan_hello h = {
			.h = { .type = OR_CHAN_HELLO, .len = sizeof(h) },
			.version = OR_CHAN_VERSION,
			.role = OR_CHAN_ROLE_DATAPLANE,
			.workers = 2,
			.max_ops = OR_CHAN_MAX_OPS,
		};
		uint8_t mode = fz_u8(in);

		if (mode & 1)
			h.version = fz_u8(in);
		if (mode & 2)
			h.role = fz_u8(in);
		if (mode & 4)
			h.max_ops = fz_u16(in) % 3000;
		if (mode & 8)
			h.acked_seq = fz_u64(in);
		h.entries = mode >> 4;
		memcpy(b, &h, sizeof(h));
		return sizeof(h);
	}
	case 4: { /* STATS_REPLY */
		struct or_chan_stats_reply r = {
			.h = { .type = OR_CHAN_STATS_REPLY } };
		uint8_t mode = fz_u8(in), count = fz_u8(in) % 5;
		size_t len = sizeof(r) + count * 72u;

		r.id = mode & 1 ? m->stats_id + 1 : mode & 2 ? m->stats_id :
								fz_u64(in);
		r.count = mode & 4 ? count + 1u : count; /* a lie */
		r.last = (mode >> 3) & 1;
		r.h.len = (uint32_t)len;
		memcpy(b, &r, sizeof(r));
		for (unsigned i = 0; i < count; i++) {
			struct or_chan_stat s;

			memset(&s, 0, sizeof(s));
			if (mode & 16)
				fz_bytes(in, s.name, sizeof(s.name));
			else
				snprintf(s.name, sizeof(s.name), "dp.c%u", i);
			s.value = next_or(in, (uint8_t)i) * 1000u + i;
			memcpy(b + sizeof(r) + i * 72u, &s, sizeof(s));
		}
		return len;
	}
	default: { /* a header only, any type */
		struct or_chan_hdr h = { .type = fz_u8(in), .len = 8 };

		memcpy(b, &h, sizeof(h));
		return sizeof(h);
	}
	}
}

/* -------------------------------------------------------- the script -- */

static void
error_cb(void *arg, const struct or_chan_err_info *e)
{
	(void)arg;
	FZ_CHECK(e->code >= 1 && e->code <= MAX_ERRNO,
		 "error callback code %d", e->code);
	FZ_CHECK(memchr(e->text, 0, sizeof(e->text)) != NULL, "text NUL");
	fz_cb_calls++;
	fz_cb_last = *e;
}

static void
check_errors(struct or_chan_client *c, struct cmodel *m)
{
	struct or_chan_err_info last;
	unsigned n = or_chan_take_errors(c, &last);

	FZ_CHECK(n == m->n_err, "%u errors, model %u", n, m->n_err);
	FZ_CHECK(fz_cb_calls == m->cb_calls, "callback %u, model %u",
		 fz_cb_calls, m->cb_calls);
	if (n > 0) {
		FZ_CHECK(last.code == m->last.code &&
				 last.index == m->last.index &&
				 last.seq == m->last.seq,
			 "last error %d/%u/%" PRIu64 ", model %d/%u/%" PRIu64,
			 last.code, last.index, last.seq, m->last.code,
			 m->last.index, m->last.seq);
		FZ_CHECK(last.code >= 1 && last.code <= MAX_ERRNO, "code %d",
			 last.code);
		if (m->last.text[0] != '\0')
			FZ_CHECK(strcmp(last.text, m->last.text) == 0, "text");
		FZ_CHECK(memcmp(&fz_cb_last, &last, sizeof(last)) == 0,
			 "callback saw another error");
	}
	m->n_err = 0;
}

static int
pool_op(struct fz_in *in, struct or_chan_op *o, unsigned i)
{
	uint8_t c = next_or(in, (uint8_t)(i * 4)), r = next_or(in, 1);
	struct or_token t;
	int bad;

	for (int b = 0; b < 16; b++)
		t.b[b] = (uint8_t)(0x40 + (c >> 3) * 16 + b + i * 3);
	or_chan_op_set(o, (c & 3) == 3 ? (uint8_t)(c >> 2) :
					(uint8_t)(OR_CHAN_OP_UPSERT + (c & 1)),
		       &t, (uint32_t)(r & 3) | (uint32_t)(r >> 2) << 16);
	bad = (o->op == OR_CHAN_OP_UPSERT && !or_rec_valid(o->rec)) ||
	      (o->op != OR_CHAN_OP_UPSERT && o->op != OR_CHAN_OP_DELETE);
	return bad;
}

/* Sends n messages worth of seqs: the model's view after a send of k
 * messages that all went out. */
static void
cm_sent(struct cmodel *m, unsigned k)
{
	if (k == 0)
		return;
	m->sent_seq = m->next_seq + k - 1;
	m->next_seq += k;
}

/* Messages a split of n ops into batches of the peer's max_ops makes. */
static unsigned
n_msgs(const struct cmodel *m, size_t n)
{
	size_t per = m->peer.max_ops < OR_CHAN_MAX_OPS ? m->peer.max_ops :
							  OR_CHAN_MAX_OPS;

	return (unsigned)((n + per - 1) / per);
}

/* The expected result of a send of k messages; -ECONNRESET once the
 * dataplane is gone (the model then sends nothing). */
static int
cm_send_result(struct cmodel *m, struct dp *d, unsigned k, unsigned got)
{
	if (k == 0)
		return 0;
	if (m->closed)
		return -ECONNRESET;
	FZ_CHECK(got == k, "client sent %u messages, want %u", got, k);
	(void)d;
	cm_sent(m, k);
	return 0;
}

static void
step(struct or_chan_client *c, struct cmodel *m, struct dp *d,
     struct fz_in *in)
{
	static struct or_chan_op ops[MAX_OPS];
	static uint8_t b[MAX_DP_MSG];
	uint8_t kind = fz_u8(in);
	int rc = 0, want = 0;

	if (fz_debug)
		fprintf(stderr, "chan_client: step %u\n", kind % 14);
	switch (kind % 14) {
	case 0: case 1: case 2: case 3: case 4: {
		/* the fake dataplane sends something */
		size_t len = make_dp_msg(in, m, b, fz_u8(in));

		dp_send(d, m, b, len);
		return;
	}
	case 5: { /* send_batch */
		size_t n = fz_u8(in);
		int bad = 0;
		unsigned got;

		if (n == 0xff)
			n = 2048 + fz_u16(in) % (MAX_OPS - 2048);
		/* At most 64 messages, which the socket holds at once. */
		if (n_msgs(m, n) > 64)
			n = 64 * (size_t)(m->peer.max_ops < OR_CHAN_MAX_OPS ?
						  m->peer.max_ops :
						  OR_CHAN_MAX_OPS);
		for (size_t i = 0; i < n; i++)
			bad |= pool_op(in, &ops[i], (unsigned)i);
		rc = or_chan_send_batch(c, ops, n, NULL);
		got = dp_drain(d, m);
		if (fz_debug)
			fprintf(stderr, "chan_client:   batch of %zu: %d, %u sent\n",
				n, rc, got);
		if (bad) {
			FZ_CHECK(rc == -EINVAL && got == 0,
				 "invalid op: rc %d, %u sent", rc, got);
			return;
		}
		want = cm_send_result(m, d, n_msgs(m, n), got);
		FZ_CHECK(rc == want, "send_batch %d, want %d", rc, want);
		return;
	}
	case 6: { /* resync pieces */
		uint8_t mode = fz_u8(in);
		uint64_t gen = fz_u8(in);
		size_t n = fz_u8(in) % 8;
		unsigned got, k;
		int bad = 0;

		for (size_t i = 0; i < n; i++)
			bad |= pool_op(in, &ops[i], (unsigned)i);
		for (size_t i = 0; i < n; i++)
			bad |= ops[i].op == OR_CHAN_OP_DELETE;
		switch (mode % 4) {
		case 0:
			rc = or_chan_resync_begin(c, gen, NULL);
			k = gen != 0;
			bad = gen == 0;
			break;
		case 1:
			rc = or_chan_resync_data(c, ops, n, NULL);
			k = bad ? 0 : n_msgs(m, n);
			break;
		case 2:
			rc = or_chan_resync_end(c, gen, NULL);
			k = gen != 0;
			bad = gen == 0;
			break;
		default:
			rc = or_chan_resync(c, gen, ops, n, NULL);
			bad |= gen == 0;
			k = bad ? 0 : 2 + n_msgs(m, n);
			break;
		}
		got = dp_drain(d, m);
		if (bad) {
			FZ_CHECK(rc == -EINVAL && got == 0,
				 "invalid resync: rc %d, %u sent", rc, got);
			return;
		}
		want = cm_send_result(m, d, k, got);
		FZ_CHECK(rc == want, "resync step %u: %d, want %d", mode % 4,
			 rc, want);
		return;
	}
	case 7: { /* auth keys */
		struct or_chan_auth_key keys[3];
		unsigned count = fz_u8(in) % 4, got;
		int bad;

		memset(keys, 0, sizeof(keys));
		for (unsigned i = 0; i < 3; i++) {
			keys[i].epoch = fz_u8(in);
			memset(keys[i].key, 0x11 * (i + 1), 16);
		}
		bad = count > 2 || (count == 2 && keys[0].epoch == keys[1].epoch);
		rc = or_chan_send_auth_keys(c, keys, count, NULL);
		got = dp_drain(d, m);
		if (bad) {
			FZ_CHECK(rc == -EINVAL && got == 0, "bad keys: %d", rc);
			return;
		}
		want = cm_send_result(m, d, 1, got);
		FZ_CHECK(rc == want, "auth keys %d, want %d", rc, want);
		return;
	}
	case 8: { /* wait_ack */
		uint8_t mode = fz_u8(in);
		uint64_t seq = mode & 1 ? m->sent_seq :
			       mode & 2 ? m->sent_seq + 1 :
			       mode & 4 ? m->peer.acked_seq : fz_u64(in);

		rc = or_chan_wait_ack(c, seq, 0);
		if (seq > m->sent_seq && seq > m->peer.acked_seq)
			want = -EINVAL;
		else if (m->acked >= seq)
			want = 0;
		else if (cm_read_all(m))
			want = m->acked >= seq ? 0 : -ECONNRESET;
		else
			want = m->acked >= seq ? 0 : -ETIMEDOUT;
		FZ_CHECK(rc == want, "wait_ack(%" PRIu64 ") %d, want %d", seq,
			 rc, want);
		break;
	}
	case 9: /* poll */
		rc = or_chan_poll(c);
		want = cm_read_all(m) ? -ECONNRESET : 0;
		FZ_CHECK(rc == want, "poll %d, want %d", rc, want);
		break;
	case 10:
		check_errors(c, m);
		break;
	case 11: { /* get_stats */
		struct or_chan_stat out[64];
		unsigned max = fz_u8(in) % 64, n = 999;
		uint16_t flags = fz_u8(in) & 1;

		m->stats_id++;
		m->collecting = 1;
		m->stats_done = 0;
		m->stats_n = 0;
		m->stats_max = max;
		rc = or_chan_get_stats_flags(c, flags, out, max, &n, 0);
		FZ_CHECK(dp_drain(d, m) == (m->closed ? 0u : 1u),
			 "stats request sent");
		if (m->closed) {
			/* The send fails: nothing read. */
			want = -ECONNRESET;
			m->collecting = 0;
			FZ_CHECK(rc == want, "get_stats %d, want %d", rc, want);
			break;
		}
		/* A dataplane gone is an error even after a complete reply
		 * (unlike or_chan_wait_ack; docs/fuzzing.md). */
		if (cm_read_all(m))
			want = -ECONNRESET;
		else
			want = m->stats_done ? 0 : -ETIMEDOUT;
		m->collecting = 0;
		FZ_CHECK(rc == want, "get_stats %d, want %d", rc, want);
		FZ_CHECK(n == m->stats_n, "%u counters, model %u", n,
			 m->stats_n);
		for (unsigned i = 0; i < n; i++)
			FZ_CHECK(memcmp(&out[i], &m->stats[i], sizeof(out[i])) ==
					 0 &&
				 memchr(out[i].name, 0, sizeof(out[i].name)),
				 "counter %u", i);
		break;
	}
	case 12: { /* set_next_seq */
		uint8_t mode = fz_u8(in);
		uint64_t seq = mode & 1 ? m->sent_seq + 1 + (mode >> 1) :
			       mode & 2 ? m->sent_seq : fz_u64(in);

		rc = or_chan_set_next_seq(c, seq);
		want = seq == 0 || seq <= m->sent_seq ? -ERANGE : 0;
		FZ_CHECK(rc == want, "set_next_seq %d, want %d", rc, want);
		if (rc == 0) {
			m->next_seq = seq;
			d->want_seq = seq;
		}
		break;
	}
	default: /* the dataplane closes */
		if (d->fd >= 0) {
			close(d->fd);
			d->fd = -1;
			m->closed = 1;
		}
		break;
	}
	if (fz_debug)
		fprintf(stderr, "chan_client:   rc %d acked %" PRIu64 "\n", rc,
			m->acked);
	FZ_CHECK(or_chan_acked(c) == m->acked, "acked %" PRIu64 ", model %"
		 PRIu64, or_chan_acked(c), m->acked);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/or_fuzz_cc.XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL)
		abort();
	fz_debug = getenv("OR_FUZZ_DEBUG") != NULL;
	snprintf(fz_path, sizeof(fz_path), "%s/dp.sock", dir);
	memcpy(sa.sun_path, fz_path, sizeof(fz_path));
	fz_lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	FZ_CHECK(fz_lfd >= 0 &&
			 bind(fz_lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
			 listen(fz_lfd, 4) == 0,
		 "fake dataplane socket");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pre[16][MAX_DP_MSG];
	struct fz_in in = { data, size };
	struct cmodel *m = &fz_m;
	struct accept_arg a = { 0 };
	struct dp d = { .fd = -1 };
	struct or_chan_client *c = NULL;
	pthread_t th;
	int rc, want;
	uint8_t role_sel = fz_u8(&in), npre = fz_u8(&in) % 16;

	if (size > 8192)
		return 0;
	memset(m, 0, sizeof(*m));
	fz_cb_calls = 0;
	a.role = role_sel & 1 ? OR_CHAN_ROLE_TOOL : OR_CHAN_ROLE_CONTROL;
	d.role = a.role;
	/* Connect phase: the messages before and including the first that
	 * settles it; the model takes them in order. */
	for (unsigned i = 0; i < npre; i++) {
		a.len[a.n] = make_dp_msg(&in, m, pre[a.n], fz_u8(&in));
		a.msg[a.n] = pre[a.n];
		a.n++;
		if (decisive(pre[a.n - 1], a.len[a.n - 1]))
			break;
	}
	for (unsigned i = 0; i < a.n; i++)
		cm_msg(m, a.msg[i], a.len[i]);
	FZ_CHECK(pthread_create(&th, NULL, accept_main, &a) == 0, "thread");
	rc = or_chan_connect(fz_path, a.role, 5000, &c);
	pthread_join(th, NULL);
	if (!m->hello_seen && m->hello_err == 0)
		want = -ECONNRESET;
	else if (m->hello_err != 0)
		want = m->hello_err;
	else if (m->peer.version != OR_CHAN_VERSION ||
		 m->peer.role != OR_CHAN_ROLE_DATAPLANE || m->peer.max_ops == 0)
		want = -EPROTONOSUPPORT;
	else
		want = 0;
	if (fz_debug)
		fprintf(stderr, "chan_client: connect %d\n", rc);
	FZ_CHECK(rc == want, "connect %d, want %d", rc, want);
	FZ_CHECK((rc == 0) == (c != NULL), "client set on failure");
	if (rc != 0) {
		if (a.fd >= 0)
			close(a.fd);
		return 0;
	}
	FZ_CHECK(memcmp(or_chan_peer(c), &m->peer, sizeof(m->peer)) == 0,
		 "peer info");
	/* What connect leaves: acked from the HELLO, errors forgotten. */
	m->acked = m->peer.acked_seq;
	m->next_seq = m->peer.acked_seq + 1;
	m->n_err = 0;
	m->cb_calls = 0;
	m->connected = 1;
	d.fd = a.fd;
	d.want_seq = m->next_seq;
	or_chan_set_timeout(c, 0);
	or_chan_set_error_cb(c, error_cb, NULL);
	FZ_CHECK(or_chan_acked(c) == m->acked, "acked after connect");
	while (fz_left(&in) > 0)
		step(c, m, &d, &in);
	rc = or_chan_poll(c);
	if (fz_debug)
		fprintf(stderr, "chan_client: last poll %d\n", rc);
	cm_read_all(m);
	check_errors(c, m);
	or_chan_close(c);
	if (d.fd >= 0)
		close(d.fd);
	return 0;
}
