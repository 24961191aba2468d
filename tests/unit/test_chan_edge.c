/* Unit tests of the update channel, edges: malformed messages sent over a
 * raw socket (what the client library refuses to send), counters in STATS
 * replies, a full table, the socket path, and the ACK contract checked by a
 * live reader thread. Fixture: test_chan_util.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include <CUnit/CUnit.h>

#include "or_test.h"
#include "test_chan_util.h"
#include "test_fake_dp.h"
#include "tests/lib/or_rand.h"

/* ---- raw socket helpers ---- */

static int
raw_connect(const char *path, int hello)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	CU_ASSERT_FATAL(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	if (hello) {
		struct or_chan_hello h = {
			.h = { .type = OR_CHAN_HELLO, .len = sizeof(h) },
			.version = OR_CHAN_VERSION,
			.role = OR_CHAN_ROLE_TOOL,
		};
		uint8_t buf[256];

		CU_ASSERT_FATAL(send(fd, &h, sizeof(h), 0) == sizeof(h));
		CU_ASSERT_FATAL(recv(fd, buf, sizeof(buf), 0) ==
				sizeof(struct or_chan_hello));
		CU_ASSERT_EQUAL(((struct or_chan_hdr *)buf)->type,
				OR_CHAN_HELLO);
	}
	return fd;
}

/* Next message within the timeout: its length, 0 on EOF, -1 on timeout. */
static ssize_t
raw_recv(int fd, void *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, TC_TIMEOUT_MS) != 1)
		return -1;
	return recv(fd, buf, len, 0);
}

/* Sends msg and expects an ERROR with code; returns the error's seq. */
static uint64_t
raw_expect_error(int fd, const void *msg, size_t len, uint32_t code)
{
	_Alignas(8) uint8_t buf[512];
	const struct or_chan_error *er = (const void *)buf;
	ssize_t n;

	CU_ASSERT_FATAL(send(fd, msg, len, 0) == (ssize_t)len);
	n = raw_recv(fd, buf, sizeof(buf));
	CU_ASSERT_FATAL(n == sizeof(struct or_chan_error));
	CU_ASSERT_EQUAL(er->h.type, OR_CHAN_ERROR);
	CU_ASSERT_EQUAL(er->code, code);
	if (er->code != code)
		fprintf(stderr, "\n  got error %u (%s), want %u\n", er->code,
			er->text, code);
	CU_ASSERT(memchr(er->text, '\0', sizeof(er->text)) != NULL);
	return er->seq;
}

static void
raw_expect_ack(int fd, uint64_t seq)
{
	_Alignas(8) uint8_t buf[512];
	const struct or_chan_ack *a = (const void *)buf;

	CU_ASSERT_FATAL(raw_recv(fd, buf, sizeof(buf)) == sizeof(*a));
	CU_ASSERT_EQUAL(a->h.type, OR_CHAN_ACK);
	CU_ASSERT_EQUAL(a->seq, seq);
}

static void
test_malformed(void)
{
	struct tc_env e;
	_Alignas(8) uint8_t big[OR_CHAN_MSG_MAX + 64];
	struct or_chan_batch *b = (void *)big;
	struct or_chan_resync r = {
		.h = { .type = OR_CHAN_RESYNC_END, .len = sizeof(r) },
	};
	struct or_chan_hello h = {
		.h = { .type = OR_CHAN_HELLO, .len = sizeof(h) },
		.version = OR_CHAN_VERSION + 98,
		.role = OR_CHAN_ROLE_CONTROL,
	};
	struct or_chan_hdr hdr = { .type = 77, .len = sizeof(hdr) };
	struct or_chan_mark mk = {
		.h = { .type = OR_CHAN_MARK, .len = sizeof(mk) },
	};
	uint8_t garbage[3] = { 1, 2, 3 };
	unsigned sent_errors = 0;
	int fd;

	tc_env_start(&e, 1024, 0);
	or_chan_close(e.c); /* the raw socket is the peer here */
	e.c = NULL;
	CU_ASSERT_EQUAL(tc_wait_for(&e, tc_get_connected, 0), 0);

	/* Version mismatch: ERROR, then the dataplane closes. */
	fd = raw_connect(e.path, 0);
	raw_expect_error(fd, &h, sizeof(h), EPROTONOSUPPORT);
	sent_errors++;
	CU_ASSERT_EQUAL(raw_recv(fd, big, sizeof(big)), 0);
	close(fd);

	/* Anything before HELLO. */
	fd = raw_connect(e.path, 0);
	memset(big, 0, sizeof(big));
	b->h.type = OR_CHAN_BATCH;
	b->h.len = sizeof(*b) + sizeof(b->ops[0]);
	b->seq = 1;
	b->count = 1;
	b->ops[0].op = OR_CHAN_OP_UPSERT;
	b->ops[0].rec = tc_rec(1);
	b->ops[0].token = tc_tok(1);
	raw_expect_error(fd, b, b->h.len, EPROTO);
	sent_errors++;
	close(fd);
	CU_ASSERT_EQUAL(tc_wait_for(&e, tc_get_connected, 0), 0);

	fd = raw_connect(e.path, 1);
	raw_expect_error(fd, garbage, sizeof(garbage), EBADMSG);
	raw_expect_error(fd, &hdr, sizeof(hdr), EOPNOTSUPP);
	hdr.len = 100; /* does not match the 8 bytes sent */
	raw_expect_error(fd, &hdr, sizeof(hdr), EBADMSG);
	h.version = OR_CHAN_VERSION;
	raw_expect_error(fd, &h, sizeof(h), EPROTO); /* second HELLO */
	raw_expect_error(fd, &h, sizeof(h) - 4, EBADMSG);
	sent_errors += 5;
	/* MARK at store seq 0, and one of the wrong length. */
	raw_expect_error(fd, &mk, sizeof(mk), EINVAL);
	mk.store_seq = 1;
	mk.h.len = sizeof(mk) - 8;
	raw_expect_error(fd, &mk, sizeof(mk) - 8, EBADMSG);
	sent_errors += 2;
	CU_ASSERT_EQUAL(tc_ustats(&e).mark_seq, 0);

	/* Oversized datagram. */
	b->h.len = sizeof(big);
	raw_expect_error(fd, big, sizeof(big), EBADMSG);
	sent_errors++;

	/* Too many ops: the seq is consumed, ERROR then ACK. */
	b->h.len = sizeof(*b) + sizeof(b->ops[0]);
	b->seq = 5;
	b->count = OR_CHAN_MAX_OPS + 1;
	CU_ASSERT_EQUAL(raw_expect_error(fd, b, b->h.len, E2BIG), 5);
	raw_expect_ack(fd, 5);
	/* Count and length disagree. */
	b->seq = 6;
	b->count = 2;
	CU_ASSERT_EQUAL(raw_expect_error(fd, b, b->h.len, EBADMSG), 6);
	raw_expect_ack(fd, 6);
	/* Seq not increasing: rejected, not consumed, no ACK. */
	b->seq = 6;
	b->count = 1;
	CU_ASSERT_EQUAL(raw_expect_error(fd, b, b->h.len, ERANGE), 6);
	/* Invalid record, with its op index. */
	b->h.len = sizeof(*b) + 2 * sizeof(b->ops[0]);
	b->seq = 7;
	b->count = 2;
	b->ops[1] = b->ops[0];
	b->ops[1].rec = 0;
	CU_ASSERT_EQUAL(raw_expect_error(fd, b, b->h.len, EINVAL), 7);
	raw_expect_ack(fd, 7);
	/* Unknown opcode. */
	b->seq = 8;
	b->ops[1].op = 9;
	CU_ASSERT_EQUAL(raw_expect_error(fd, b, b->h.len, EINVAL), 8);
	raw_expect_ack(fd, 8);
	/* RESYNC_DATA outside a resync, RESYNC_END without BEGIN. */
	b->h.type = OR_CHAN_RESYNC_DATA;
	b->seq = 9;
	b->ops[1].op = OR_CHAN_OP_UPSERT;
	b->ops[1].rec = tc_rec(2);
	CU_ASSERT_EQUAL(raw_expect_error(fd, b, b->h.len, EPROTO), 9);
	raw_expect_ack(fd, 9);
	r.seq = 10;
	r.generation = 3;
	CU_ASSERT_EQUAL(raw_expect_error(fd, &r, sizeof(r), EPROTO), 10);
	raw_expect_ack(fd, 10);
	/* Resync: BEGIN generation 0, DELETE in RESYNC_DATA, END with the
	 * wrong generation. */
	r.h.type = OR_CHAN_RESYNC_BEGIN;
	r.seq = 11;
	r.generation = 0;
	CU_ASSERT_EQUAL(raw_expect_error(fd, &r, sizeof(r), EINVAL), 11);
	raw_expect_ack(fd, 11);
	sent_errors += 8;
	r.seq = 12;
	r.generation = 3;
	CU_ASSERT_FATAL(send(fd, &r, sizeof(r), 0) == sizeof(r));
	raw_expect_ack(fd, 12);
	b->seq = 13;
	b->ops[1].op = OR_CHAN_OP_DELETE;
	CU_ASSERT_EQUAL(raw_expect_error(fd, b, b->h.len, EINVAL), 13);
	raw_expect_ack(fd, 13);
	r.h.type = OR_CHAN_RESYNC_BEGIN;
	r.seq = 14;
	CU_ASSERT_EQUAL(raw_expect_error(fd, &r, sizeof(r), EALREADY), 14);
	raw_expect_ack(fd, 14);
	r.h.type = OR_CHAN_RESYNC_END;
	r.seq = 15;
	r.generation = 4;
	CU_ASSERT_EQUAL(raw_expect_error(fd, &r, sizeof(r), EINVAL), 15);
	raw_expect_ack(fd, 15);
	sent_errors += 3;
	CU_ASSERT(ct_replacing(e.t)); /* still open after the wrong END */
	/* Nothing of the rejected messages reached the table. */
	CU_ASSERT_EQUAL(tc_entries(&e), 0);
	CU_ASSERT_EQUAL(tc_ustats(&e).errors, sent_errors);

	/* Still serving: a valid batch is applied and acked. */
	b->h.type = OR_CHAN_BATCH;
	b->h.len = sizeof(*b) + sizeof(b->ops[0]);
	b->seq = 16;
	b->count = 1;
	CU_ASSERT_FATAL(send(fd, b, b->h.len, 0) == (ssize_t)b->h.len);
	raw_expect_ack(fd, 16);
	CU_ASSERT_EQUAL(tc_look(&e, 1), tc_rec(1));
	close(fd);
	CU_ASSERT_EQUAL(tc_wait_for(&e, tc_get_aborts, 1), 0);
	tc_env_stop(&e);
}

static void
test_stats(void)
{
	struct tc_env e;
	static struct or_chan_stat st[1024];
	unsigned n = 0, found = 0;

	tc_env_start(&e, 1024, 0);
	tc_batch(&e, 0, 50, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(or_chan_get_stats(e.c, st, 1024, &n, TC_TIMEOUT_MS), 0);
	/* Every table and updater entry (include/optroute/ct_stats.h,
	 * updater_stats.h) and TC_DP_STATS dataplane counters, over three
	 * STATS_REPLY messages. */
	CU_ASSERT_EQUAL(n, (0 OR_CT_STATS(OR_STAT_ONE_))
			   + (0 OR_UPDATER_STATS(OR_STAT_ONE_)) + TC_DP_STATS);
	for (unsigned i = 0; i < n; i++) {
		if (strcmp(st[i].name, "table.entries") == 0) {
			CU_ASSERT_EQUAL(st[i].value, 50);
			found++;
		} else if (strcmp(st[i].name, "chan.upserts") == 0) {
			CU_ASSERT_EQUAL(st[i].value, 50);
			found++;
		} else if (strcmp(st[i].name, "chan.acked_seq") == 0) {
			CU_ASSERT_EQUAL(st[i].value, 1);
			found++;
		} else if (strcmp(st[i].name, "dp.counter599") == 0) {
			CU_ASSERT_EQUAL(st[i].value, 1599);
			found++;
		}
	}
	CU_ASSERT_EQUAL(found, 4);
	/* A short output array: truncated, the rest read and dropped. */
	CU_ASSERT_EQUAL(or_chan_get_stats(e.c, st, 5, &n, TC_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_STRING_EQUAL(st[0].name, "table.entries");
	CU_ASSERT_EQUAL(tc_ustats(&e).stats_requests, 2);
	CU_ASSERT_EQUAL(tc_clears, 0);
	/* With the clear flag: the reply has the values before the clear,
	 * the next one those after it. */
	CU_ASSERT_EQUAL(or_chan_get_stats_flags(e.c, OR_CHAN_STATS_F_CLEAR, st,
						1024, &n, TC_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(tc_clears, 1);
	CU_ASSERT_STRING_EQUAL(st[n - 1].name, "dp.counter599");
	CU_ASSERT_EQUAL(st[n - 1].value, 1599);
	CU_ASSERT_EQUAL(or_chan_get_stats(e.c, st, 1024, &n, TC_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(tc_clears, 1);
	CU_ASSERT_EQUAL(st[n - 1].value, 599);
	/* The channel still works after it. */
	tc_batch(&e, 50, 1, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(tc_entries(&e), 51);
	tc_env_stop(&e);
}

static void
test_nospc(void)
{
	struct tc_env e;
	struct ct *t;
	struct ct_params p = { .entries = 64, .socket_id = -1 };
	struct ct_stats cs;
	struct or_chan_err_info ei;
	struct or_chan_op *ops;
	uint64_t seq = 0;
	const uint32_t n = 4096;

	/* A memory limit equal to the initial table: no growth possible. */
	CU_ASSERT_FATAL(ct_create(&p, &t) == 0);
	ct_get_stats(t, &cs);
	ct_destroy(t);
	tc_env_start(&e, 64, cs.bytes);
	ops = calloc(n, sizeof(*ops));
	CU_ASSERT_FATAL(ops != NULL);
	tc_mk_ops(ops, 0, n, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(or_chan_send_batch(e.c, ops, n, &seq), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, seq, TC_TIMEOUT_MS), 0);
	CU_ASSERT(or_chan_take_errors(e.c, &ei) >= 1);
	CU_ASSERT_EQUAL(ei.code, ENOSPC);
	CU_ASSERT(ei.seq >= 1 && ei.seq <= seq);
	CU_ASSERT(ei.index != OR_CHAN_NO_INDEX);
	CU_ASSERT(tc_ustats(&e).nospc > 0);
	CU_ASSERT_EQUAL(tc_ustats(&e).nospc + tc_entries(&e), n);
	CU_ASSERT(tc_entries(&e) > 0);
	/* Deletes still work and make room again. */
	for (uint32_t i = 0; i < n; i++)
		ops[i].op = OR_CHAN_OP_DELETE;
	CU_ASSERT_EQUAL(or_chan_send_batch(e.c, ops, n, &seq), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, seq, TC_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(tc_entries(&e), 0);
	tc_batch(&e, 0, 10, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(tc_entries(&e), 10);
	free(ops);
	tc_env_stop(&e);
}

static void
test_socket_path(void)
{
	struct tc_env e;
	struct or_updater_conf uc = { 0 };
	struct or_updater *u2;
	char path[128];
	int64_t t0;
	int fd;

	tc_env_start(&e, 64, 0);
	uc.table = e.t;
	/* A live dataplane's socket is not taken over. */
	uc.sock_path = e.path;
	CU_ASSERT_EQUAL(or_updater_start(&uc, &u2), -EADDRINUSE);
	/* A regular file is never replaced. */
	snprintf(path, sizeof(path), "%s/file", e.dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	uc.sock_path = path;
	CU_ASSERT_EQUAL(or_updater_start(&uc, &u2), -EEXIST);
	unlink(path);
	/* Too long a path. */
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	uc.sock_path = longp;
	CU_ASSERT_EQUAL(or_updater_start(&uc, &u2), -ENAMETOOLONG);

	/* Stop is prompt with a peer connected, and leaves a stale-free dir;
	 * a stale socket file (nobody listening) is replaced. */
	t0 = tc_now_ms();
	or_updater_stop(e.u);
	CU_ASSERT(tc_now_ms() - t0 < 1000);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", e.path);
		CU_ASSERT_FATAL(bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		close(s); /* leaves a stale socket file */
	}
	uc.sock_path = e.path;
	CU_ASSERT_EQUAL_FATAL(or_updater_start(&uc, &e.u), 0);
	or_chan_close(e.c); /* its server is gone */
	CU_ASSERT_EQUAL_FATAL(or_chan_connect(e.path, OR_CHAN_ROLE_CONTROL,
					      TC_TIMEOUT_MS, &e.c), 0);
	tc_batch(&e, 0, 5, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(tc_entries(&e), 5);
	tc_env_stop(&e);
}

/* ---- the ACK contract with a live reader ----
 * A worker-like reader thread looks up the current round's keys without
 * pause (a registered QSBR reader with a quiescent state per loop). The test
 * publishes in 'phase' what the reader must see: odd = the round's keys
 * present (upserts acked), even = absent (deletes acked), 0 = in flux. A
 * lookup is checked only if phase is the same before and after it. */
#define T_RD_KEYS 256

struct t_reader {
	const struct tc_env *e;
	int phase;
	int stop;
	uint64_t checked;
	uint64_t violations;
	uint64_t iters;
};

static void *
t_reader_main(void *arg)
{
	struct t_reader *r = arg;

	rcu_register_thread();
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		int p1 = __atomic_load_n(&r->phase, __ATOMIC_SEQ_CST);
		uint32_t base = (uint32_t)((p1 + 1) / 2) * 10000;
		uint64_t bad = 0;
		int p2;

		for (uint32_t j = 0; j < T_RD_KEYS; j++) {
			struct or_token t = tc_tok(base + j);
			uint32_t got = ct_lookup(r->e->t, &t);

			bad += p1 % 2 ? got != tc_rec(base + j) : got != 0;
		}
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		p2 = __atomic_load_n(&r->phase, __ATOMIC_SEQ_CST);
		if (p1 != 0 && p1 == p2) {
			r->checked++;
			r->violations += bad;
		}
		__atomic_fetch_add(&r->iters, 1, __ATOMIC_RELEASE);
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

/* Lets the reader run a few loops in the current phase. */
static void
t_reader_settle(struct t_reader *r)
{
	uint64_t start = __atomic_load_n(&r->iters, __ATOMIC_ACQUIRE);
	int64_t end = tc_now_ms() + TC_TIMEOUT_MS;

	while (__atomic_load_n(&r->iters, __ATOMIC_ACQUIRE) < start + 3 &&
	       tc_now_ms() < end)
		usleep(100);
}

static void
test_ack_reader(void)
{
	struct tc_env e;
	struct t_reader r = { .e = &e };
	pthread_t th;

	tc_env_start(&e, 256, 0); /* small: rounds force growths too */
	r.e = &e;
	CU_ASSERT_FATAL(pthread_create(&th, NULL, t_reader_main, &r) == 0);
	for (int round = 1; round <= 20; round++) {
		__atomic_store_n(&r.phase, 0, __ATOMIC_SEQ_CST);
		tc_batch(&e, (uint32_t)round * 10000, T_RD_KEYS,
			OR_CHAN_OP_UPSERT, 0);
		__atomic_store_n(&r.phase, 2 * round - 1, __ATOMIC_SEQ_CST);
		t_reader_settle(&r);
		__atomic_store_n(&r.phase, 0, __ATOMIC_SEQ_CST);
		tc_batch(&e, (uint32_t)round * 10000, T_RD_KEYS,
			OR_CHAN_OP_DELETE, 0);
		__atomic_store_n(&r.phase, 2 * round, __ATOMIC_SEQ_CST);
		t_reader_settle(&r);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CU_ASSERT(r.checked >= 40);
	CU_ASSERT_EQUAL(r.violations, 0);
	CU_ASSERT_EQUAL(tc_entries(&e), 0);
	tc_env_stop(&e);
}

/* Whatever code a peer's ERROR carries, the client library turns it into a
 * negative errno: or_chan_connect() returns 0 only with *out set, and a
 * recorded error's code is a positive errno (codes outside 1..4095 become
 * EPROTO; -(int)0x80000000 would overflow). */
static void
test_peer_error_codes(void)
{
	static const struct {
		uint32_t code;
		int want;
	} cases[] = {
		{ 0xffffffffu, EPROTO }, { 0x80000000u, EPROTO },
		{ 0, EPROTO },           { 4096, EPROTO },
		{ 4095, 4095 },          { EBUSY, EBUSY },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tf_dp d = { 0 };
		struct or_chan_client *c = NULL;
		struct or_chan_err_info ei = { 0 };
		uint64_t seq = 0;
		struct or_chan_op op;
		struct or_token t = tc_tok(1);
		int rc;

		/* Before the HELLO: the connect fails with -errno. */
		tf_dp_send_error(&d, cases[i].code);
		tf_dp_start(&d);
		rc = or_chan_connect(d.path, OR_CHAN_ROLE_CONTROL, 1000, &c);
		if (rc != -cases[i].want)
			fprintf(stderr, "\n  code %#x before HELLO: %d, want %d\n",
				cases[i].code, rc, -cases[i].want);
		CU_ASSERT_EQUAL(rc, -cases[i].want);
		CU_ASSERT_PTR_NULL(c);
		if (rc == 0)
			or_chan_close(c);
		tf_dp_stop(&d);

		/* After it: recorded with a positive errno. */
		memset(&d, 0, sizeof(d));
		tf_dp_send_hello(&d);
		tf_dp_recv(&d); /* our HELLO */
		tf_dp_recv(&d); /* the BATCH */
		tf_dp_send_error(&d, cases[i].code);
		tf_dp_send_ack(&d, 1);
		tf_dp_start(&d);
		c = NULL;
		CU_ASSERT_EQUAL_FATAL(or_chan_connect(d.path,
						      OR_CHAN_ROLE_CONTROL,
						      TC_TIMEOUT_MS, &c), 0);
		or_chan_op_set(&op, OR_CHAN_OP_UPSERT, &t, tc_rec(1));
		CU_ASSERT_EQUAL(or_chan_send_batch(c, &op, 1, &seq), 0);
		CU_ASSERT_EQUAL(or_chan_wait_ack(c, seq, TC_TIMEOUT_MS), 0);
		CU_ASSERT_EQUAL(or_chan_take_errors(c, &ei), 1);
		CU_ASSERT_EQUAL(ei.code, cases[i].want);
		or_chan_close(c);
		tf_dp_stop(&d);
	}
}

/* Token i of the chan_server fuzz target's generated batches (splitmix64
 * of i, both halves): uniform, as keyed hashes are. */
static struct or_token
f2_token(uint32_t i)
{
	uint64_t s = i, z[2];
	struct or_token t;

	for (int k = 0; k < 2; k++)
		z[k] = or_rand_next(&s);
	memcpy(t.b, z, sizeof(t.b));
	return t;
}

static uint32_t
f2_look(const struct tc_env *e, const struct or_token *t)
{
	uint32_t r;

	rcu_thread_online();
	r = ct_lookup(e->t, t);
	rcu_thread_offline();
	return r;
}

/* Fuzz finding F2, its exact sequence (corpus chan_server/
 * F2-batch-lost-in-resync): HELLO; RESYNC_BEGIN generation 0 (EINVAL);
 * RESYNC_BEGIN 120; a stray byte (EBADMSG); a BATCH of 264 upserts while
 * the resync is open; RESYNC_BEGIN (EALREADY); AUTH_KEYS; the peer closes
 * with nothing read. The close aborts the resync, and the live table, made
 * for 64 entries, must hold every token of the BATCH, as the next HELLO's
 * acked_seq says. It held about 80: once full, the live table could not
 * grow while the resync's table was being built, the rest got ENOSPC in an
 * ERROR nobody read, and acked_seq covered them. Then a resync that
 * completes, with 2000 deltas during it: all of them enforced. */
static void
test_batch_in_aborted_resync(void)
{
	_Alignas(8) static uint8_t buf[sizeof(struct or_chan_batch) +
				       2048 * sizeof(struct or_chan_op)];
	struct or_chan_batch *b = (void *)buf;
	struct or_chan_resync r = {
		.h = { .type = OR_CHAN_RESYNC_BEGIN, .len = sizeof(r) },
	};
	struct or_chan_auth_keys k = {
		.h = { .type = OR_CHAN_AUTH_KEYS, .len = sizeof(k) },
		.seq = 5,
		.version = OR_CHAN_AUTH_KEYS_VERSION,
		.count = 3,
	};
	const uint32_t rec = or_rec_make(OR_STATE_IN, 0, 0, 0), n = 264;
	struct or_chan_op *ops = b->ops;
	struct tc_env e;
	uint8_t junk = 0;
	uint64_t seq = 0;
	unsigned bad = 0;
	int fd;

	tc_env_start(&e, 64, 0);
	or_chan_close(e.c); /* the raw socket is the peer here */
	e.c = NULL;
	CU_ASSERT_EQUAL(tc_wait_for(&e, tc_get_connected, 0), 0);
	fd = raw_connect(e.path, 1);
	r.seq = 1;
	CU_ASSERT_FATAL(send(fd, &r, sizeof(r), 0) == sizeof(r));
	r.seq = 2;
	r.generation = 120;
	CU_ASSERT_FATAL(send(fd, &r, sizeof(r), 0) == sizeof(r));
	CU_ASSERT_FATAL(send(fd, &junk, 1, 0) == 1);
	memset(b, 0, sizeof(*b));
	b->h.type = OR_CHAN_BATCH;
	b->h.len = (uint32_t)(sizeof(*b) + n * sizeof(ops[0]));
	b->seq = 3;
	b->count = n;
	for (uint32_t i = 0; i < n; i++) {
		struct or_token t = f2_token(i + 3 * 7919u);

		or_chan_op_set(&ops[i], OR_CHAN_OP_UPSERT, &t, rec);
	}
	CU_ASSERT_FATAL(send(fd, b, b->h.len, 0) == (ssize_t)b->h.len);
	r.seq = 4;
	r.generation = 0;
	CU_ASSERT_FATAL(send(fd, &r, sizeof(r), 0) == sizeof(r));
	/* No key ring here: refused (EOPNOTSUPP), its seq not taken. */
	CU_ASSERT_FATAL(send(fd, &k, sizeof(k), 0) == sizeof(k));
	close(fd);
	CU_ASSERT_EQUAL(tc_wait_for(&e, tc_get_aborts, 1), 0);
	CU_ASSERT_EQUAL(tc_wait_for(&e, tc_get_connected, 0), 0);

	CU_ASSERT_EQUAL_FATAL(or_chan_connect(e.path, OR_CHAN_ROLE_CONTROL,
					      TC_TIMEOUT_MS, &e.c), 0);
	CU_ASSERT_EQUAL(or_chan_peer(e.c)->acked_seq, 4);
	CU_ASSERT_EQUAL(or_chan_peer(e.c)->generation, 0);
	CU_ASSERT_EQUAL(or_chan_peer(e.c)->entries, n);
	for (uint32_t i = 0; i < n; i++) {
		struct or_token t = f2_token(i + 3 * 7919u);

		bad += f2_look(&e, &t) != rec;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(tc_ustats(&e).nospc, 0);

	/* A resync that completes: the deltas sent during it stay, what was
	 * not re-sent (the 264) is swept. */
	CU_ASSERT_EQUAL(or_chan_resync_begin(e.c, 121, NULL), 0);
	tc_mk_ops(ops, 0, 2000, OR_CHAN_OP_UPSERT, 0);
	CU_ASSERT_EQUAL(or_chan_send_batch(e.c, ops, 2000, &seq), 0);
	CU_ASSERT_EQUAL(or_chan_resync_end(e.c, 121, &seq), 0);
	CU_ASSERT_EQUAL(or_chan_wait_ack(e.c, seq, TC_TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(or_chan_take_errors(e.c, NULL), 0);
	bad = 0;
	for (uint32_t i = 0; i < 2000; i++)
		bad += tc_look(&e, i) != tc_rec(i);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(tc_entries(&e), 2000);
	CU_ASSERT_EQUAL(tc_ustats(&e).generation, 121);
	CU_ASSERT_EQUAL(tc_ustats(&e).nospc, 0);
	tc_env_stop(&e);
}

static CU_TestInfo chan_edge_tests[] = {
	{ "malformed messages", test_malformed },
	{ "stats", test_stats },
	{ "table full", test_nospc },
	{ "socket path", test_socket_path },
	{ "acked changes seen by a live reader", test_ack_reader },
	{ "any error code from the peer is a -errno", test_peer_error_codes },
	{ "BATCH during a resync aborted by a close (F2)",
	  test_batch_in_aborted_resync },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("chan_edge", tc_suite_init, tc_suite_clean, chan_edge_tests)
