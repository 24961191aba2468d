/* The scripted fake dataplane of test_fake_dp.h. One thread, one connection
 * at a time: accept, play the script, then read and drop whatever the
 * client sends until it closes (or the fake is stopped). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "test_fake_dp.h"

#define TF_POLL_MS 10
#define TF_WAIT_MS 5000

static struct tf_step *
tf_dp_step(struct tf_dp *d, size_t len)
{
	struct tf_step *s;

	CU_ASSERT_FATAL(d->n_steps < TF_STEPS_MAX);
	s = &d->steps[d->n_steps++];
	memset(s, 0, sizeof(*s));
	s->len = len;
	return s;
}

void
tf_dp_send_error(struct tf_dp *d, uint32_t code)
{
	struct or_chan_error *e =
		(void *)tf_dp_step(d, sizeof(struct or_chan_error))->msg;

	e->h.type = OR_CHAN_ERROR;
	e->h.len = sizeof(*e);
	e->code = code;
	e->index = OR_CHAN_NO_INDEX;
	snprintf(e->text, sizeof(e->text), "code %u from a fake peer", code);
}

void
tf_dp_send_hello(struct tf_dp *d)
{
	struct or_chan_hello *h =
		(void *)tf_dp_step(d, sizeof(struct or_chan_hello))->msg;

	h->h.type = OR_CHAN_HELLO;
	h->h.len = sizeof(*h);
	h->version = OR_CHAN_VERSION;
	h->role = OR_CHAN_ROLE_DATAPLANE;
	h->workers = 1;
	h->max_ops = OR_CHAN_MAX_OPS;
}

void
tf_dp_send_ack(struct tf_dp *d, uint64_t seq)
{
	struct or_chan_ack *a =
		(void *)tf_dp_step(d, sizeof(struct or_chan_ack))->msg;

	a->h.type = OR_CHAN_ACK;
	a->h.len = sizeof(*a);
	a->seq = seq;
}

void
tf_dp_recv(struct tf_dp *d)
{
	tf_dp_step(d, 0)->recv = 1;
}

static int
tf_dp_stopping(struct tf_dp *d)
{
	return __atomic_load_n(&d->stop, __ATOMIC_ACQUIRE);
}

/* One message from the client, waiting at most ms: 1, or 0 on EOF, error
 * or timeout. */
static int
tf_dp_read(int fd, int ms)
{
	uint8_t buf[OR_CHAN_MSG_MAX + 1];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return 0;
	return recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0;
}

static void
tf_dp_play(struct tf_dp *d, int fd)
{
	for (unsigned i = 0; i < d->n_steps; i++) {
		const struct tf_step *s = &d->steps[i];

		if (s->recv) {
			if (!tf_dp_read(fd, TF_WAIT_MS))
				return;
		} else if (send(fd, s->msg, s->len, MSG_NOSIGNAL) !=
			   (ssize_t)s->len) {
			return;
		}
	}
	/* Until the client closes: a poll timeout just checks for a stop. */
	while (!tf_dp_stopping(d)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, TF_POLL_MS) == 1 && !tf_dp_read(fd, 0))
			return;
	}
}

static void *
tf_dp_main(void *arg)
{
	struct tf_dp *d = arg;

	while (!tf_dp_stopping(d)) {
		struct pollfd p = { .fd = d->lfd, .events = POLLIN };
		int fd;

		if (poll(&p, 1, TF_POLL_MS) != 1)
			continue;
		fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		tf_dp_play(d, fd);
		close(fd);
		__atomic_fetch_add(&d->served, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

int
tf_listen(char dir[64], char path[96], const char *tmpl)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd;

	snprintf(dir, 64, "%s", tmpl);
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(path, 96, "%s/dp.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(lfd >= 0);
	CU_ASSERT_FATAL(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CU_ASSERT_FATAL(listen(lfd, 4) == 0);
	return lfd;
}

void
tf_unlisten(int lfd, const char *path, const char *dir)
{
	close(lfd);
	unlink(path);
	rmdir(dir);
}

void
tf_dp_start(struct tf_dp *d)
{
	d->lfd = tf_listen(d->dir, d->path, "/tmp/or_fake_dp.XXXXXX");
	d->stop = 0;
	d->served = 0;
	CU_ASSERT_FATAL(pthread_create(&d->th, NULL, tf_dp_main, d) == 0);
}

int
tf_dp_wait_served(struct tf_dp *d, unsigned n)
{
	for (int ms = 0; ms < TF_WAIT_MS; ms++) {
		if (__atomic_load_n(&d->served, __ATOMIC_ACQUIRE) >= n)
			return 0;
		usleep(1000);
	}
	return -1;
}

void
tf_dp_stop(struct tf_dp *d)
{
	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	pthread_join(d->th, NULL);
	tf_unlisten(d->lfd, d->path, d->dir);
}
