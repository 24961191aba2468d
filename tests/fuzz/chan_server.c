/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Fuzz target "chan_server": the dataplane's update channel server
 * (dataplane/chan/), every message type in any order, on a real consent
 * table and a real auth keyring. The updater is driven as its thread
 * drives it (updater.c), one step at a time: the harness connects a client
 * socket to the real listening socket (chan_listen, chan_accept), sends
 * messages, then runs one wakeup (chan_read, chan_sync_and_ack, chan_flush)
 * and reads every reply. No thread: each run is deterministic.
 *
 * A model written here from docs/channel.md predicts, for every message,
 * its reply (ERROR code, seq and op index; HELLO fields; STATS_REPLY) and
 * its effect, and for every wakeup the ACK (seq, entries, generation).
 * Checked after every wakeup: the replies, one for one, in order; the
 * live table (ct_get of every token ever named) equals the model's,
 * resyncs (mark and sweep, deltas during a resync, abort at a disconnect)
 * included; that no upsert is refused (there is no memory limit: ENOSPC
 * is a defect even in an ERROR nobody reads, findings F2 and C1); the live
 * auth epochs and their keys; that no ERROR text holds a
 * token or key of its message; that an AUTH_KEYS message's key bytes are
 * gone from the receive buffer once handled; the next HELLO's acked_seq
 * after a peer closed with messages unread; a second peer refused (EBUSY).
 *
 * Input: a script of operations (first byte of each: its kind, below).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_log.h>
#include <sodium.h>

#include "optroute/auth.h"
#include "optroute/chan.h"
#include "optroute/ctable.h"
#include "dataplane/auth/auth_verify.h"
#include "dataplane/chan/chan_priv.h"
#include "fz_chan_model.h"
#include "fz_util.h"
#include "tests/lib/or_rand.h"

#define POOL 16          /* tokens the structured ops name */
#define MAX_MSG 8192     /* largest raw message the script sends */
#define MAX_GEN_OPS 6000 /* ops a script's big batches make in all */
#define WORKERS 3

static char fz_path[108];
static int fz_lfd = -1;
static int fz_debug;

struct sent {
	size_t len;
	uint8_t *b;
};

struct run {
	struct or_updater *u;
	struct ct *t;
	struct or_auth_keys auth;
	int cfd;            /* our end; -1 when not connected */
	struct model *m;
	uint64_t sseq;      /* the script's last seq, as a client keeps it */
	uint32_t gen_left;  /* ops big batches may still make */
	unsigned npend;     /* sent, not read by the updater yet */
	struct sent pend[CHAN_DRAIN_MAX];
};


/* ---------------------------------------------------- the updater ----- */

static unsigned fz_clears;

static unsigned
stats_fill(void *arg, struct or_updater_stat *out, unsigned max)
{
	(void)arg;
	if (max < 2)
		return 0;
	snprintf(out[0].name, sizeof(out[0].name), "dp.clears");
	out[0].value = fz_clears;
	/* No NUL: the updater must terminate the name itself. */
	memset(out[1].name, 'x', sizeof(out[1].name));
	out[1].value = 42;
	return 2;
}

static void
stats_clear(void *arg)
{
	(void)arg;
	fz_clears++;
}

static struct or_updater *
updater_new(struct ct *t, struct or_auth_keys *auth)
{
	struct or_updater *u = calloc(1, sizeof(*u));

	FZ_CHECK(u != NULL, "calloc");
	u->conf.table = t;
	u->conf.workers = WORKERS;
	u->conf.auth = auth;
	u->conf.stats_fill = stats_fill;
	u->conf.stats_clear = stats_clear;
	u->t = t;
	u->lfd = fz_lfd;
	u->cfd = -1;
	u->rbuf = malloc(OR_CHAN_MSG_MAX + 1);
	u->dpstats = calloc(CHAN_DP_STATS_MAX, sizeof(*u->dpstats));
	FZ_CHECK(u->rbuf != NULL && u->dpstats != NULL &&
			 chan_defer_alloc(u) == 0,
		 "updater memory");
	return u;
}

static int
client_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
			0);

	FZ_CHECK(fd >= 0, "socket");
	memcpy(sa.sun_path, fz_path, sizeof(fz_path));
	FZ_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		 "connect: %s", strerror(errno));
	return fd;
}

static void
conn_reset(struct model *m)
{
	m->alive = 1;
	m->hello_done = 0;
	m->closing = 0;
	m->resyncing = 0;
	m->need_sync = 0;
	m->conn_seq = 0;
	m->resync_gen = 0;
}

static void
run_connect(struct run *r)
{
	r->cfd = client_connect();
	chan_accept(r->u);
	FZ_CHECK(r->u->cfd >= 0, "not accepted");
	conn_reset(r->m);
}

/* ----------------------------------------------------- the checks ----- */

/* The table, the key ring, and the receive buffer after a wakeup. */
static void
check_state(struct run *r)
{
	struct model *m = r->m;
	struct ct_stats cs;
	uint8_t ep[2];
	unsigned kn;

	for (unsigned i = 0; i < TSLOTS; i++) {
		uint32_t got, want;

		if (m->seen.used[i] != 1)
			continue;
		got = ct_get(r->t, &m->seen.tok[i]);
		want = fzm_tmap_get(&m->live, &m->seen.tok[i]);
		FZ_CHECK(got == want, "token %u: table %08x, model %08x", i,
			 got, want);
	}
	ct_get_stats(r->t, &cs);
	FZ_CHECK(cs.entries == m->live.n, "entries %" PRIu64 ", model %u",
		 cs.entries, m->live.n);
	/* No memory limit here: no upsert is ever refused, whether or not
	 * anybody read the ERROR that would say so (F2, C1). */
	FZ_CHECK(CHAN_GET(r->u, nospc) == 0 && cs.grow_failures == 0,
		 "upserts refused: nospc %" PRIu64 ", grow failures %" PRIu64,
		 (uint64_t)CHAN_GET(r->u, nospc), cs.grow_failures);
	kn = or_keyring_epochs(&r->auth, ep);
	FZ_CHECK(kn == m->kn, "live epochs %u, model %u", kn, m->kn);
	if (kn > 0) {
		/* The installed key is the one sent: a tag under it equals
		 * the reference tag under the model's key. */
		const struct or_keyring *kr = or_keyring_get(&r->auth);
		uint8_t hdr[68] = { 0x4f, 0x52, 2, 1, 0, 0 };

		for (unsigned i = 0; i < kn; i++) {
			struct or_auth_key ka, ks;
			uint8_t ref[8];
			uint64_t got;

			FZ_CHECK(ep[i] == m->kep[i], "epoch %u", i);
			hdr[5] = m->kep[i];
			memcpy(ka.b, m->kkey[i], 16);
			or_auth_sender_key(&ka, (const struct or_token *)
					   (hdr + 16), &ks);
			or_auth_tag(&ks, (const struct or_hdr2 *)hdr, ref);
			got = or_auth_tag_of(kr, or_keyring_slot(kr, m->kep[i]),
					     hdr);
			FZ_CHECK(memcmp(&got, ref, 8) == 0, "key of epoch %u",
				 m->kep[i]);
		}
	}
}

/* Every reply readable now, the k-th expected first; 1 if the updater
 * closed the connection. */
static int
read_replies(struct run *r, unsigned *kp)
{
	static uint8_t buf[OR_CHAN_MSG_MAX + 1];
	struct model *m = r->m;
	unsigned k = *kp;
	int eof = 0;

	for (;;) {
		ssize_t n = recv(r->cfd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			FZ_CHECK(errno == EAGAIN || errno == ECONNRESET,
				 "recv: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			eof = 1;
			break;
		}
		FZ_CHECK(k < m->nexp, "reply %u of %u expected (type %u)",
			 k + 1, m->nexp, ((struct or_chan_hdr *)buf)->type);
		if (fz_debug)
			fprintf(stderr, "chan_server: reply type %u\n",
				((struct or_chan_hdr *)buf)->type);
		fzm_check_reply(&m->exp[k++], buf, n, WORKERS);
	}
	*kp = k;
	return eof;
}

/* One loop of the updater thread over what was sent. */
static void
run_wakeup(struct run *r)
{
	struct model *m = r->m;
	unsigned handled = 0, last_keys = UINT32_MAX;
	size_t later_max = 0;
	int eof;

	if (r->cfd < 0)
		return;
	for (unsigned i = 0; i < r->npend && !m->closing; i++) {
		const struct sent *s = &r->pend[i];

		fzm_model_msg(m, s->b, s->len);
		handled++;
		if (s->len >= 48 && ((const struct or_chan_hdr *)s->b)->type ==
					    OR_CHAN_AUTH_KEYS) {
			last_keys = i;
			later_max = 0;
		} else if (s->len > later_max) {
			later_max = s->len;
		}
	}
	if (m->need_sync && !m->closing) {
		struct expect *e = fzm_expect(m, OR_CHAN_ACK);

		m->acked_seq = m->conn_seq;
		m->need_sync = 0;
		e->seq = m->conn_seq;
		e->entries = m->live.n;
		e->generation = m->generation;
	}
	chan_read(r->u);
	chan_sync_and_ack(r->u);
	/* What the socket did not take stays queued until a later flush,
	 * as the thread would retry on POLLOUT. */
	eof = 0;
	for (unsigned k = 0, guard = 0;; guard++) {
		FZ_CHECK(guard < 1000, "replies never flushed");
		if (r->u->cfd >= 0)
			chan_flush(r->u);
		eof = read_replies(r, &k);
		if (eof || r->u->cfd < 0 ||
		    (r->u->outq_head == NULL && !r->u->ack_owed)) {
			if (!eof && r->u->cfd < 0)
				eof = read_replies(r, &k);
			FZ_CHECK(k == m->nexp,
				 "%u replies, %u expected (next type %u code %u)",
				 k, m->nexp, m->exp[k].type, m->exp[k].code);
			break;
		}
	}
	m->nexp = 0;
	/* The key bytes of the last AUTH_KEYS message read are gone from
	 * the receive buffer unless a later message overwrote them. */
	if (last_keys != UINT32_MAX && later_max <= 32) {
		const uint8_t *k = r->pend[last_keys].b + 32;

		if (!fz_all_zero(k, 16))
			FZ_CHECK(memcmp(r->u->rbuf + 32, k, 16) != 0,
				 "AUTH_KEYS key left in the receive buffer");
	}
	for (unsigned i = 0; i < r->npend; i++)
		free(r->pend[i].b);
	r->npend = 0;
	FZ_CHECK(eof == m->closing, "connection closed %d, model %d", eof,
		 m->closing);
	if (eof) {
		FZ_CHECK(r->u->cfd < 0, "updater still connected");
		close(r->cfd);
		r->cfd = -1;
		m->alive = 0;
	}
	check_state(r);
	(void)handled;
}

/* The peer closes, possibly with messages unread: the updater reads and
 * applies them to the end, then syncs and records acked_seq. */
static void
run_close(struct run *r)
{
	struct model *m = r->m;

	if (r->cfd < 0)
		return;
	for (unsigned i = 0; i < r->npend && !m->closing; i++)
		fzm_model_msg(m, r->pend[i].b, r->pend[i].len);
	m->nexp = 0; /* nobody reads them */
	if (m->need_sync) {
		m->acked_seq = m->conn_seq;
		m->need_sync = 0;
	}
	close(r->cfd);
	r->cfd = -1;
	for (int guard = 0; r->u->cfd >= 0; guard++) {
		FZ_CHECK(guard < 64, "updater does not see the close");
		if (chan_read(r->u) < 0)
			break;
		chan_sync_and_ack(r->u);
		if (r->u->cfd >= 0)
			chan_flush(r->u);
	}
	FZ_CHECK(r->u->cfd < 0, "updater still connected");
	for (unsigned i = 0; i < r->npend; i++)
		free(r->pend[i].b);
	r->npend = 0;
	m->alive = 0;
	if (m->resyncing) /* aborted: the live table stays */
		m->resyncing = 0;
	check_state(r);
}

static void
run_send(struct run *r, const void *msg, size_t len)
{
	struct sent *s;

	if (r->cfd < 0)
		run_connect(r);
	if (r->npend == CHAN_DRAIN_MAX)
		run_wakeup(r);
	if (r->cfd < 0)
		run_connect(r);
	for (;;) {
		ssize_t n = send(r->cfd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n == (ssize_t)len)
			break;
		FZ_CHECK(n < 0 && (errno == EAGAIN || errno == ENOBUFS),
			 "send: %zd %s", n, strerror(errno));
		FZ_CHECK(r->npend > 0, "socket full with nothing pending");
		run_wakeup(r);
		if (r->cfd < 0)
			run_connect(r);
	}
	s = &r->pend[r->npend++];
	s->len = len;
	s->b = malloc(len ? len : 1);
	memcpy(s->b, msg, len);
}

/* A second peer while one is connected: ERROR EBUSY, then closed. */
static void
run_second_peer(struct run *r)
{
	uint8_t buf[256];
	struct or_chan_error e;
	int fd;
	ssize_t n;

	if (r->cfd < 0)
		return;
	fd = client_connect();
	chan_accept(r->u);
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	FZ_CHECK(n == sizeof(e), "refusal of %zd bytes", n);
	memcpy(&e, buf, sizeof(e));
	FZ_CHECK(e.h.type == OR_CHAN_ERROR && e.code == EBUSY &&
			 e.seq == 0 && e.index == OR_CHAN_NO_INDEX,
		 "refusal");
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	FZ_CHECK(n == 0, "refused peer not closed (%zd)", n);
	close(fd);
}

/* -------------------------------------------------------- the script -- */

static struct or_token
pool_token(uint8_t i)
{
	struct or_token t;

	for (int b = 0; b < 16; b++)
		t.b[b] = (uint8_t)(0x40 + (i % POOL) * 16 + b);
	return t;
}

/* splitmix64 of i, both halves: a token as uniform as a real one. */
static struct or_token
mix_token(uint32_t i)
{
	uint64_t s = i, z[2];
	struct or_token t;

	for (int k = 0; k < 2; k++)
		z[k] = or_rand_next(&s);
	memcpy(t.b, z, 16);
	return t;
}

static uint32_t
rec_of(uint8_t b)
{
	/* state 0 and 3 are invalid: EINVAL. */
	return (uint32_t)(b & 3) | (uint32_t)((b >> 2) & 7) << 16 |
	       (uint32_t)(b >> 5) << 8;
}

/* The seq of the next message: mostly the next one, as a client sends. */
static uint64_t
seq_of(struct fz_in *in, struct run *r)
{
	uint8_t mode = fz_u8(in);

	switch (mode & 7) {
	case 0:
	case 1:
	case 2:
		return ++r->sseq;
	case 3:
		return r->sseq;
	case 4:
		return 0;
	case 5:
		return r->sseq += 1 + fz_u8(in);
	default:
		return fz_u64(in);
	}
}

static void
op_batch(struct run *r, struct fz_in *in, uint16_t type)
{
	static uint8_t buf[sizeof(struct or_chan_batch) + OR_CHAN_MAX_OPS * 24];
	struct or_chan_batch *b = (void *)buf;
	uint64_t seq = seq_of(in, r);
	uint32_t n = fz_u8(in), count;
	uint8_t opt = fz_u8(in);
	int big = n == 0xff;

	if (big) { /* up to OR_CHAN_MAX_OPS, made here, not read */
		n = (fz_u16(in) % OR_CHAN_MAX_OPS) + 1;
		if (n > r->gen_left)
			n = r->gen_left > 0 ? r->gen_left : 1;
		r->gen_left -= n < r->gen_left ? n : r->gen_left;
	}
	memset(buf, 0, sizeof(*b));
	for (uint32_t i = 0; i < n; i++) {
		struct or_chan_op *o = &b->ops[i];
		int gen = big || fz_left(in) == 0;
		uint8_t c = gen ? (uint8_t)(i * 4) : fz_u8(in);
		uint8_t rs = gen ? 0x01 : fz_u8(in);
		struct or_token t = pool_token((uint8_t)(c >> 2));

		/* Ops past the end of the input: distinct tokens, so a big
		 * batch grows the table; uniform, as keyed hashes are. */
		if (gen)
			t = mix_token(i + (uint32_t)seq * 7919u);

		memset(o, 0, sizeof(*o));
		o->op = (c & 3) == 3 ? (uint8_t)(c >> 2) : (c & 1) + 1;
		o->rec = o->op == OR_CHAN_OP_UPSERT ? rec_of(rs) : 0;
		o->token = t;
	}
	count = n;
	if (opt & 1) /* count field that lies */
		count = opt & 2 ? n + 1 : fz_u32(in);
	b->h.type = type;
	b->h.len = (uint32_t)(sizeof(*b) + n * 24);
	b->seq = seq;
	b->count = count;
	run_send(r, buf, sizeof(*b) + n * 24);
}

static void
op_auth_keys(struct run *r, struct fz_in *in)
{
	struct or_chan_auth_keys k;
	uint8_t v = fz_u8(in), seed = fz_u8(in);

	memset(&k, 0, sizeof(k));
	k.h.type = OR_CHAN_AUTH_KEYS;
	k.h.len = sizeof(k);
	k.seq = seq_of(in, r);
	k.version = v & 0x80 ? v : OR_CHAN_AUTH_KEYS_VERSION;
	k.count = v & 3;
	k.keys[0].epoch = fz_u8(in);
	k.keys[1].epoch = fz_u8(in);
	for (int i = 0; i < 16; i++) {
		k.keys[0].key[i] = (uint8_t)(seed * 7 + i + 1);
		k.keys[1].key[i] = (uint8_t)(seed * 13 + i * 3 + 2);
	}
	run_send(r, &k, sizeof(k));
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/or_fuzz_chan.XXXXXX";

	(void)argc;
	(void)argv;
	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		abort();
	snprintf(fz_path, sizeof(fz_path), "%s/dp.sock", dir);
	FZ_CHECK(chan_listen(fz_path, &fz_lfd) == 0, "chan_listen");
	rte_log_set_global_level(RTE_LOG_EMERG);
	fz_debug = getenv("OR_FUZZ_DEBUG") != NULL;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	struct ct_params p = { .entries = 64, .socket_id = -1 };
	struct fz_in in = { data, size };
	struct run r = { .cfd = -1, .m = &m, .gen_left = MAX_GEN_OPS };

	if (size > 65536)
		return 0;
	memset(&m, 0, sizeof(m));
	fz_clears = 0;
	FZ_CHECK(ct_create(&p, &r.t) == 0, "ct_create");
	r.u = updater_new(r.t, &r.auth);
	run_connect(&r);

	while (fz_left(&in) > 0) {
		uint8_t op = fz_u8(&in);

		if (fz_debug)
			fprintf(stderr, "chan_server: op %u\n", op % 13);
		switch (op % 13) {
		case 0: { /* raw message */
			static uint8_t raw[MAX_MSG];
			size_t n = fz_u16(&in) % MAX_MSG;

			/* Never empty: SOCK_SEQPACKET reads an empty
			 * datagram as the peer's close. */
			n = fz_bytes(&in, raw, n);
			run_send(&r, raw, n > 0 ? n : 1);
			break;
		}
		case 1: { /* HELLO */
			struct or_chan_hello h = {
				.h = { .type = OR_CHAN_HELLO, .len = sizeof(h) },
				.version = OR_CHAN_VERSION,
				.role = OR_CHAN_ROLE_CONTROL,
			};
			uint8_t v = fz_u8(&in);

			if (v & 1)
				h.version = fz_u8(&in);
			if (v & 2)
				h.role = fz_u8(&in);
			run_send(&r, &h, sizeof(h));
			break;
		}
		case 2:
			op_batch(&r, &in, OR_CHAN_BATCH);
			break;
		case 3:
			op_batch(&r, &in, OR_CHAN_RESYNC_DATA);
			break;
		case 4:
		case 5: {
			struct or_chan_resync x = {
				.h = { .type = op % 13 == 4 ? OR_CHAN_RESYNC_BEGIN
							    : OR_CHAN_RESYNC_END,
				       .len = sizeof(x) },
			};

			x.seq = seq_of(&in, &r);
			x.generation = fz_u8(&in);
			run_send(&r, &x, sizeof(x));
			break;
		}
		case 6: {
			struct or_chan_stats_request s = {
				.h = { .type = OR_CHAN_STATS_REQUEST,
				       .len = sizeof(s) },
			};

			s.h.flags = fz_u8(&in) & 3;
			s.id = fz_u64(&in);
			run_send(&r, &s, sizeof(s));
			break;
		}
		case 7:
			op_auth_keys(&r, &in);
			break;
		case 8: {
			struct or_chan_error e = {
				.h = { .type = OR_CHAN_ERROR, .len = sizeof(e) },
				.code = fz_u32(&in),
			};

			fz_bytes(&in, e.text, sizeof(e.text));
			run_send(&r, &e, sizeof(e));
			break;
		}
		case 9:
			run_wakeup(&r);
			break;
		case 12: {
			struct or_chan_mark k = {
				.h = { .type = OR_CHAN_MARK, .len = sizeof(k) },
			};

			k.store_seq = fz_u8(&in); /* 0: refused */
			fz_bytes(&in, k.store_hash, sizeof(k.store_hash));
			run_send(&r, &k, sizeof(k));
			break;
		}
		case 10:
			run_close(&r);
			break;
		case 11:
			run_second_peer(&r);
			break;
		}
	}
	run_wakeup(&r);
	run_close(&r);
	/* A new peer's HELLO says where the last one left the table. */
	{
		struct or_chan_hello h = {
			.h = { .type = OR_CHAN_HELLO, .len = sizeof(h) },
			.version = OR_CHAN_VERSION,
			.role = OR_CHAN_ROLE_TOOL,
		};

		run_send(&r, &h, sizeof(h));
		run_wakeup(&r);
		run_close(&r);
	}
	chan_defer_free(r.u);
	free(r.u->dpstats);
	free(r.u->rbuf);
	free(r.u);
	ct_destroy(r.t);
	or_keyring_destroy(&r.auth);
	return 0;
}
