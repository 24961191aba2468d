/* Unit tests of optroute-control's channel thread (control/daemon/dplink/,
 * linked from the daemon's library, liborcpd.a) against fake dataplanes: a
 * scripted one (test_fake_dp.c) and one below that answers table messages
 * as the updater does, refusing some, over a real store. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "control/daemon/cp_daemon.h"
#include "control/daemon/cp_log.h"
#include "control/daemon/dplink/cp_link.h"

#include "or_test.h"
#include "test_fake_dp.h"
#include "test_store_util.h"

/* A peer that answers the HELLO with an ERROR of a code outside the errno
 * range: the thread must count no connection and keep retrying, not use
 * a client it never got. */
static void
test_bad_error_code(void)
{
	static const uint32_t codes[] = { 0xffffffffu, 0x80000000u, 0 };

	cp_log_set_level(CP_LOG_ERR); /* no "retrying" notices */
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		struct tf_dp d = { 0 };
		struct cp_link_conf conf = { .retry_ms = 10, .queue_max = 1024 };
		struct cp_link *p = NULL;
		struct cp_link_info info;

		tf_dp_send_error(&d, codes[i]);
		tf_dp_start(&d);
		conf.chan_path = d.path;
		CU_ASSERT_EQUAL_FATAL(cp_link_start(&conf, &p), 0);
		CU_ASSERT_EQUAL(tf_dp_wait_served(&d, 3), 0);
		cp_link_info(p, &info);
		CU_ASSERT_EQUAL(info.connected, 0);
		CU_ASSERT_EQUAL(info.connects, 0);
		CU_ASSERT_EQUAL(cp_link_request_stats(p, 1, 0), -ENOTCONN);
		cp_link_stop(p);
		tf_dp_stop(&d);
	}
	cp_log_set_level(CP_LOG_INFO);
}

/* ----------------------------------------- a dataplane that answers -- */

/* The scripted fake (test_fake_dp.c) plays a fixed script; the refusal
 * tests need a peer that answers every table message as the updater does
 * (dataplane/chan/chan_apply.c): an ERROR naming a refused message's seq,
 * then one cumulative ACK for what was read, which covers it. This one
 * refuses one message type on chosen connections, can hold a connection's
 * ACKs until the test releases them, and records what it read. */

#define RF_CONNS 16
#define RF_MSGS 256
#define RF_POLL_MS 10

/* A table message the fake read. */
struct rf_msg {
	unsigned conn;      /* connection index, from 0 */
	uint16_t type;      /* enum or_chan_type */
	uint64_t seq;
	uint32_t watch_rec; /* record of the watched token's op in it, or 0 */
	int refused;        /* answered with an ERROR */
};

struct rf_dp {
	/* Set before rf_start, read-only after. */
	uint16_t refuse_type;  /* this message type is refused ... */
	uint32_t refuse_code;  /* ... with this errno ... */
	uint32_t refuse_mask;  /* ... on connections whose bit is set */
	uint32_t hold_mask;    /* these connections' ACKs wait for release */
	struct or_token watch;

	char dir[64];
	char path[96];
	int lfd;
	pthread_t th;
	int stop;    /* atomics, set by the test */
	int release; /* held ACKs may go */
	int kick;    /* close the current connection (once) */

	pthread_mutex_t mu;
	/* Under mu, written by the fake's thread. */
	unsigned conns;               /* accepted */
	uint64_t accept_us[RF_CONNS]; /* when (CLOCK_MONOTONIC) */
	unsigned n_msgs;
	struct rf_msg msgs[RF_MSGS];
};

static uint64_t
rf_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int
rf_flag(int *f)
{
	return __atomic_load_n(f, __ATOMIC_ACQUIRE);
}

/* One message into buf, waiting at most ms: its length, 0 on timeout, -1
 * on EOF or error. */
static ssize_t
rf_read(int fd, uint8_t *buf, int ms)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pf, 1, ms) != 1)
		return 0;
	n = recv(fd, buf, OR_CHAN_MSG_MAX + 1, MSG_DONTWAIT);
	/* A client that closed with our answers unread leaves ECONNRESET
	 * pending, reported once ahead of what it sent before: read on. */
	if (n < 0 && errno == ECONNRESET)
		n = recv(fd, buf, OR_CHAN_MSG_MAX + 1, MSG_DONTWAIT);
	return n > 0 ? n : -1;
}

static void
rf_send(int fd, const void *m, size_t len)
{
	/* The client may be gone already (it drops the connection as soon
	 * as it reads a refusal): nothing to do then. */
	(void)send(fd, m, len, MSG_NOSIGNAL);
}

static void
rf_send_error(int fd, uint32_t code, uint64_t seq)
{
	struct or_chan_error e = {
		.h = { .type = OR_CHAN_ERROR, .len = sizeof(e) },
		.code = code,
		.index = OR_CHAN_NO_INDEX,
		.seq = seq,
	};

	snprintf(e.text, sizeof(e.text), "refused by the fake (%u)", code);
	rf_send(fd, &e, sizeof(e));
}

/* The seq of a table message, and the watched token's record in it; 0 if
 * m is no table message. */
static uint64_t
rf_parse(const struct rf_dp *d, const uint8_t *m, size_t len, uint16_t *type,
	 uint32_t *watch_rec)
{
	struct or_chan_hdr h;

	*watch_rec = 0;
	if (len < sizeof(h))
		return 0;
	memcpy(&h, m, sizeof(h));
	*type = h.type;
	switch (h.type) {
	case OR_CHAN_BATCH:
	case OR_CHAN_RESYNC_DATA: {
		struct or_chan_batch b;

		if (len < sizeof(b))
			return 0;
		memcpy(&b, m, sizeof(b));
		for (size_t i = 0; i < b.count &&
		     sizeof(b) + (i + 1) * sizeof(struct or_chan_op) <= len; i++) {
			struct or_chan_op o;

			memcpy(&o, m + sizeof(b) + i * sizeof(o), sizeof(o));
			if (or_token_eq(&o.token, &d->watch))
				*watch_rec = o.rec;
		}
		return b.seq;
	}
	case OR_CHAN_RESYNC_BEGIN:
	case OR_CHAN_RESYNC_END: {
		struct or_chan_resync r;

		if (len < sizeof(r))
			return 0;
		memcpy(&r, m, sizeof(r));
		return r.seq;
	}
	default:
		return 0; /* no AUTH_KEYS (no keys given), no stats asked */
	}
}

static void
rf_serve(struct rf_dp *d, int fd, unsigned conn)
{
	struct or_chan_hello hello = {
		.h = { .type = OR_CHAN_HELLO, .len = sizeof(hello) },
		.version = OR_CHAN_VERSION,
		.role = OR_CHAN_ROLE_DATAPLANE,
		.workers = 1,
		.max_ops = OR_CHAN_MAX_OPS,
	};
	const int refuse = (d->refuse_mask >> conn) & 1;
	const int hold = (d->hold_mask >> conn) & 1;
	uint8_t *buf = malloc(OR_CHAN_MSG_MAX + 1);
	uint64_t read_seq = 0, acked = 0;
	int in_refused_resync = 0;

	/* The client's HELLO, then ours (acked_seq 0: its seqs start at 1). */
	if (buf == NULL || rf_read(fd, buf, 5000) <= 0)
		goto out;
	rf_send(fd, &hello, sizeof(hello));
	while (!rf_flag(&d->stop) &&
	       !__atomic_exchange_n(&d->kick, 0, __ATOMIC_ACQ_REL)) {
		int ack_due = read_seq > acked && (!hold || rf_flag(&d->release));
		ssize_t n = rf_read(fd, buf, ack_due ? 0 : RF_POLL_MS);
		struct rf_msg r = { .conn = conn };

		if (n < 0)
			break;
		if (n == 0) {
			/* Nothing more to read now: one ACK for it all. */
			if (ack_due) {
				struct or_chan_ack a = {
					.h = { .type = OR_CHAN_ACK,
					       .len = sizeof(a) },
					.seq = read_seq,
				};

				rf_send(fd, &a, sizeof(a));
				acked = read_seq;
			}
			continue;
		}
		r.seq = rf_parse(d, buf, (size_t)n, &r.type, &r.watch_rec);
		if (r.seq == 0)
			continue;
		if (refuse && r.type == d->refuse_type) {
			rf_send_error(fd, d->refuse_code, r.seq);
			r.refused = 1;
			in_refused_resync = r.type == OR_CHAN_RESYNC_BEGIN;
		} else if (in_refused_resync && (r.type == OR_CHAN_RESYNC_DATA ||
						 r.type == OR_CHAN_RESYNC_END)) {
			/* As the updater: no resync open. */
			rf_send_error(fd, EPROTO, r.seq);
			r.refused = 1;
			in_refused_resync = r.type != OR_CHAN_RESYNC_END;
		}
		read_seq = r.seq;
		pthread_mutex_lock(&d->mu);
		if (d->n_msgs < RF_MSGS)
			d->msgs[d->n_msgs++] = r;
		pthread_mutex_unlock(&d->mu);
	}
out:
	free(buf);
}

static void *
rf_main(void *arg)
{
	struct rf_dp *d = arg;

	while (!rf_flag(&d->stop)) {
		struct pollfd pf = { .fd = d->lfd, .events = POLLIN };
		unsigned conn;
		int fd;

		if (poll(&pf, 1, RF_POLL_MS) != 1)
			continue;
		fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&d->mu);
		conn = d->conns;
		if (conn < RF_CONNS)
			d->accept_us[conn] = rf_now_us();
		d->conns++;
		pthread_mutex_unlock(&d->mu);
		if (conn < RF_CONNS)
			rf_serve(d, fd, conn);
		close(fd);
	}
	return NULL;
}

static void
rf_start(struct rf_dp *d)
{
	d->lfd = tf_listen(d->dir, d->path, "/tmp/or_rf_dp.XXXXXX");
	pthread_mutex_init(&d->mu, NULL);
	CU_ASSERT_FATAL(pthread_create(&d->th, NULL, rf_main, d) == 0);
}

static void
rf_stop(struct rf_dp *d)
{
	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	pthread_join(d->th, NULL);
	tf_unlisten(d->lfd, d->path, d->dir);
	pthread_mutex_destroy(&d->mu);
}

/* The i-th table message read on connection conn (from 0), copied; 0 or
 * -1 if there is none (yet). */
static int
rf_msg_get(struct rf_dp *d, unsigned conn, unsigned i, struct rf_msg *out)
{
	int rc = -1;

	pthread_mutex_lock(&d->mu);
	for (unsigned k = 0; k < d->n_msgs; k++) {
		if (d->msgs[k].conn != conn || i-- != 0)
			continue;
		*out = d->msgs[k];
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* Messages of type read on connection conn. */
static unsigned
rf_count(struct rf_dp *d, unsigned conn, uint16_t type)
{
	unsigned n = 0;

	pthread_mutex_lock(&d->mu);
	for (unsigned k = 0; k < d->n_msgs; k++)
		n += d->msgs[k].conn == conn && d->msgs[k].type == type;
	pthread_mutex_unlock(&d->mu);
	return n;
}

static unsigned
rf_conns(struct rf_dp *d)
{
	unsigned n;

	pthread_mutex_lock(&d->mu);
	n = d->conns;
	pthread_mutex_unlock(&d->mu);
	return n;
}

/* Time from accepting connection c to accepting c + 1, in us. */
static uint64_t
rf_gap_us(struct rf_dp *d, unsigned c)
{
	uint64_t us;

	pthread_mutex_lock(&d->mu);
	us = d->accept_us[c + 1] - d->accept_us[c];
	pthread_mutex_unlock(&d->mu);
	return us;
}

/* ------------------------------------------------ refused messages -- */

/* Polls cond every millisecond for up to ms: 1 once it holds, else 0. */
#define T_WAIT(cond, ms)                                               \
	({                                                             \
		int ok_ = 0;                                           \
		for (int ms_ = 0; ms_ < (ms) && !(ok_ = !!(cond)); ms_++) \
			usleep(1000);                                  \
		ok_;                                                   \
	})

static const struct or_node_policy t_pol = { .kind = OR_NODE_POLICY_FIXED,
					     .node = 1 };

static struct or_change
t_change(uint64_t i, uint8_t action)
{
	return (struct or_change){
		.token = ts_tok(i),
		.action = action,
		.method = OR_METHOD_OPERATOR,
		.epoch = 1,
		.node = -1,
		.notice_version = 1,
	};
}

/* A new store in a new directory (dir, 64 bytes) with tokens 1..n opted
 * in, store seqs 1..n. */
static struct or_store *
t_store(char *dir, unsigned n)
{
	struct or_store_conf conf = { .path = dir, .map_size = 16u << 20 };
	struct or_change ch[8];
	struct or_store *s = NULL;
	struct or_err err = { "" };
	uint64_t first;

	snprintf(dir, 64, "/tmp/or_test_push.XXXXXX");
	CU_ASSERT_FATAL(n <= 8 && mkdtemp(dir) != NULL);
	CU_ASSERT_FATAL(or_store_open(&conf, &s, &err) == 0);
	for (unsigned i = 0; i < n; i++)
		ch[i] = t_change(i + 1, OR_ACT_OPTIN);
	CU_ASSERT_FATAL(or_store_apply(s, &t_pol, ch, n, NULL, &first, &err) == 0);
	CU_ASSERT_FATAL(first == 1);
	return s;
}

static struct cp_link_info
t_info(struct cp_link *p)
{
	struct cp_link_info i;

	cp_link_info(p, &i);
	return i;
}

/* Connection conn's table messages have types want[0..n) (and no more),
 * the first always a RESYNC_BEGIN: a full resync. */
static void
t_check_types(struct rf_dp *d, unsigned conn, const uint16_t *want,
	      unsigned n)
{
	struct rf_msg m;

	for (unsigned i = 0; i < n; i++) {
		CU_ASSERT_EQUAL_FATAL(rf_msg_get(d, conn, i, &m), 0);
		CU_ASSERT_EQUAL(m.type, want[i]);
	}
	CU_ASSERT_EQUAL(rf_msg_get(d, conn, n, &m), -1);
}

/* An ERROR naming a BATCH's seq, then the ACK that covers it: the change
 * it carried is not reported enforced (acked_seq, the "--wait" test in
 * cp_pend.c, and its ack time stay below it), the connection is dropped,
 * and the next one carries the change in a full resync. */
static void
test_refused_batch(void)
{
	static const uint16_t conn0[] = { OR_CHAN_RESYNC_BEGIN,
					  OR_CHAN_RESYNC_DATA,
					  OR_CHAN_RESYNC_END, OR_CHAN_BATCH };
	static const uint16_t conn1[] = { OR_CHAN_RESYNC_BEGIN,
					  OR_CHAN_RESYNC_DATA,
					  OR_CHAN_RESYNC_END };
	/* Connection 0 refuses BATCHes (a table_mem_mb too small);
	 * connection 1's ACKs wait until the test has looked. */
	struct rf_dp d = { .refuse_type = OR_CHAN_BATCH,
			   .refuse_code = ENOSPC,
			   .refuse_mask = 1u << 0,
			   .hold_mask = 1u << 1 };
	struct cp_link_conf conf = { .retry_ms = 20, .queue_max = 1024 };
	struct or_sor_conf sc = { 0 }; /* no sink: the test enqueues */
	struct or_store *st;
	struct or_change ch = t_change(2, OR_ACT_OPTOUT);
	struct or_change_result res;
	struct or_err err = { "" };
	struct cp_link *p = NULL;
	struct cp_link_info i;
	struct rf_msg m;
	uint64_t first = 0;
	char dir[64];
	int ok;

	cp_log_set_level(CP_LOG_ERR); /* the refusals' warnings are expected */
	st = t_store(dir, 3);
	CU_ASSERT_EQUAL_FATAL(or_sor_lmdb_attach(st, &sc, &conf.sor), 0);
	d.watch = ch.token;
	rf_start(&d);
	conf.chan_path = d.path;
	CU_ASSERT_EQUAL_FATAL(cp_link_start(&conf, &p), 0);
	ok = T_WAIT(t_info(p).acked_seq == 3, 5000);
	CU_ASSERT(ok);
	if (!ok)
		goto out;

	/* Token 2 opts out (store seq 4): one BATCH, refused, then acked. */
	CU_ASSERT_EQUAL_FATAL(or_store_apply(st, &t_pol, &ch, 1, &res,
					     &first, &err), 0);
	CU_ASSERT_EQUAL(first, 4);
	CU_ASSERT_EQUAL(cp_link_enqueue(p, first, &ch, &res, 1), 0);

	/* The thread drops connection 0 and sends connection 1 a full
	 * resync, whose ACK the fake holds. */
	ok = T_WAIT(rf_count(&d, 1, OR_CHAN_RESYNC_END) == 1, 5000);
	CU_ASSERT(ok);
	i = t_info(p);
	CU_ASSERT_EQUAL(i.acked_seq, 3);
	CU_ASSERT(cp_link_ack_time(p, 3) != 0);
	CU_ASSERT_EQUAL(cp_link_ack_time(p, 4), 0);
	CU_ASSERT_EQUAL(i.disconnects, 1);
	if (!ok)
		goto out;
	CU_ASSERT_EQUAL(i.connects, 2);
	CU_ASSERT_EQUAL(i.resyncs, 1);
	CU_ASSERT_EQUAL(i.errors, 1);
	CU_ASSERT_EQUAL(i.batches, 1);
	/* Connection 0: its resync, then the BATCH with the opt-out, refused
	 * and nothing after it. */
	t_check_types(&d, 0, conn0, 4);
	CU_ASSERT_EQUAL(rf_msg_get(&d, 0, 3, &m), 0);
	CU_ASSERT_EQUAL(m.seq, 4);
	CU_ASSERT_EQUAL(m.watch_rec, res.rec);
	CU_ASSERT(m.refused);
	/* Connection 1: a full resync that carries the opt-out. */
	t_check_types(&d, 1, conn1, 3);
	CU_ASSERT_EQUAL(rf_msg_get(&d, 1, 1, &m), 0);
	CU_ASSERT_EQUAL(m.watch_rec, res.rec);

	/* Once that resync is acked, the change is enforced. */
	__atomic_store_n(&d.release, 1, __ATOMIC_RELEASE);
	ok = T_WAIT(t_info(p).acked_seq == 4, 5000);
	CU_ASSERT(ok);
	i = t_info(p);
	CU_ASSERT_EQUAL(i.resyncs, 2);
	CU_ASSERT_EQUAL(i.connects, 2);
	CU_ASSERT(cp_link_ack_time(p, 4) != 0);
out:
	cp_link_stop(p);
	rf_stop(&d);
	or_sor_close(conf.sor);
	or_store_close(st);
	ts_rm_store(dir);
	cp_log_set_level(CP_LOG_INFO);
}

/* RESYNC_BEGIN refused (as by a dataplane whose table_mem_mb cannot hold
 * a second table), with the rest of that resync refused as the updater
 * does, then an ACK covering it all: the resync is not counted done and
 * acked_seq stays 0. Each connection starts with a full resync again,
 * after retry_ms doubled per refusal in a row, at most 64 times; a resync
 * that is applied starts the count again. */
static void
test_refused_resync(void)
{
	/* Connections 0-7 and 9 refuse; 8's ACKs wait for the test, then
	 * the fake closes it; 10 is served. */
	struct rf_dp d = { .refuse_type = OR_CHAN_RESYNC_BEGIN,
			   .refuse_code = ENOMEM,
			   .refuse_mask = 0xffu | 1u << 9,
			   .hold_mask = 1u << 8 };
	const unsigned retry = 10;
	struct cp_link_conf conf = { .retry_ms = retry, .queue_max = 1024 };
	struct or_sor_conf sc = { 0 }; /* no sink: the test enqueues */
	struct or_store *st;
	struct cp_link *p = NULL;
	struct cp_link_info i;
	struct rf_msg m;
	char dir[64];
	int ok;

	cp_log_set_level(CP_LOG_ERR);
	st = t_store(dir, 3);
	CU_ASSERT_EQUAL_FATAL(or_sor_lmdb_attach(st, &sc, &conf.sor), 0);
	d.watch = ts_tok(1);
	rf_start(&d);
	conf.chan_path = d.path;
	CU_ASSERT_EQUAL_FATAL(cp_link_start(&conf, &p), 0);
	/* Eight refusals take 10+20+40+80+160+320+640+640 ms of delays. */
	ok = T_WAIT(rf_count(&d, 8, OR_CHAN_RESYNC_END) == 1, 15000);
	CU_ASSERT(ok);
	i = t_info(p);
	CU_ASSERT_EQUAL(i.acked_seq, 0);
	CU_ASSERT_EQUAL(i.resyncs, 0);
	if (!ok)
		goto out;
	CU_ASSERT_EQUAL(i.connects, 9);
	CU_ASSERT_EQUAL(i.disconnects, 8);
	CU_ASSERT_EQUAL(cp_link_ack_time(p, 1), 0);
	CU_ASSERT_EQUAL(rf_conns(&d), 9);
	for (unsigned c = 0; c <= 8; c++) {
		/* Each one a full resync, the refused ones refused from its
		 * RESYNC_BEGIN on. */
		static const uint16_t want[] = { OR_CHAN_RESYNC_BEGIN,
						 OR_CHAN_RESYNC_DATA,
						 OR_CHAN_RESYNC_END };

		t_check_types(&d, c, want, 3);
		CU_ASSERT_EQUAL(rf_msg_get(&d, c, 0, &m), 0);
		CU_ASSERT_EQUAL(m.refused, c < 8);
	}
	/* The delay after the k-th refusal in a row (k from 0) is retry_ms
	 * << min(k, 6): accept to accept, the delay less 1 ms at least (the
	 * clock is in ms). The 8th delay is 64x, not 128x. */
	for (unsigned k = 0; k < 8; k++) {
		uint64_t want_us = ((uint64_t)retry << (k < 6 ? k : 6)) * 1000;

		CU_ASSERT(rf_gap_us(&d, k) >= want_us - 1000);
	}
	CU_ASSERT(rf_gap_us(&d, 7) < ((uint64_t)retry << 7) * 1000 - 1000);

	/* Connection 8's resync acked: done, and the store seq acked. */
	__atomic_store_n(&d.release, 1, __ATOMIC_RELEASE);
	ok = T_WAIT(t_info(p).resyncs == 1, 5000);
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(t_info(p).acked_seq, 3);
	if (!ok)
		goto out;

	/* The fake closes connection 8: 9 follows at once and is refused;
	 * 10 comes retry_ms later, not 64 times that. */
	__atomic_store_n(&d.kick, 1, __ATOMIC_RELEASE);
	ok = T_WAIT(t_info(p).resyncs == 2, 5000);
	CU_ASSERT(ok);
	if (!ok)
		goto out;
	CU_ASSERT_EQUAL(rf_conns(&d), 11);
	CU_ASSERT_EQUAL(rf_msg_get(&d, 9, 0, &m), 0);
	CU_ASSERT(m.refused);
	CU_ASSERT(rf_gap_us(&d, 9) >= retry * 1000 - 1000);
	CU_ASSERT(rf_gap_us(&d, 9) < ((uint64_t)retry << 5) * 1000);
	i = t_info(p);
	CU_ASSERT_EQUAL(i.acked_seq, 3);
	CU_ASSERT_EQUAL(i.connects, 11);
out:
	cp_link_stop(p);
	rf_stop(&d);
	or_sor_close(conf.sor);
	or_store_close(st);
	ts_rm_store(dir);
	cp_log_set_level(CP_LOG_INFO);
}

static CU_TestInfo cp_link_tests[] = {
	{ "ERROR with a bad code instead of HELLO", test_bad_error_code },
	{ "refused BATCH: not acked, resync on a new connection",
	  test_refused_batch },
	{ "refused RESYNC_BEGIN: not done, retried with backoff",
	  test_refused_resync },
	CU_TEST_INFO_NULL,
};

OR_TEST_SUITE("cp_link", NULL, NULL, cp_link_tests)
