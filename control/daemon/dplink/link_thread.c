/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The channel thread (cp_link.h): its life (start, stop), its loop, the
 * connection to the dataplane (connect, HELLO, disconnect, retries) and
 * the eventfds between it and the event loop. What it sends and tracks is
 * in the other link_*.c files (link_priv.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "control/daemon/cp_log.h"

#include "link_priv.h"

void
cp_link_notify(struct cp_link *p)
{
	uint64_t one = 1;

	if (write(p->notify_fd, &one, sizeof(one)) < 0) {
		/* Counter saturated: the event loop will read it anyway. */
	}
}

void
cp_link_wake(struct cp_link *p)
{
	uint64_t one = 1;

	if (write(p->wake_fd, &one, sizeof(one)) < 0) {
		/* Already pending. */
	}
}

void
cp_link_drain(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* Nothing pending (EAGAIN). */
	}
}

int
cp_link_notify_fd(const struct cp_link *p)
{
	return p->notify_fd;
}

void
cp_link_notify_clear(struct cp_link *p)
{
	cp_link_drain(p->notify_fd);
}

void
cp_link_info(struct cp_link *p, struct cp_link_info *info)
{
	const uint64_t *src = (const uint64_t *)&p->info;
	uint64_t *dst = (uint64_t *)info;

	/* Under mu: the keys_* fields change together under it. */
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < sizeof(*info) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&p->mu);
}

static void
cp_link_disconnect(struct cp_link *p, int rc)
{
	if (p->c == NULL)
		return;
	or_chan_close(p->c);
	p->c = NULL;
	pthread_mutex_lock(&p->mu);
	p->accepting = 0;
	cp_link_drop_queue_locked(p);
	pthread_mutex_unlock(&p->mu);
	p->map_head = p->map_n = 0;
	p->resync_end = 0;
	p->table_seq = p->marked_seq = 0;
	if (p->refused_chan_seq != 0) {
		unsigned k = p->refusals < 6 ? p->refusals : 6;

		p->refusals++;
		p->connect_at_ms = cp_now_ms() + ((uint64_t)p->conf.retry_ms << k);
	}
	p->refused_chan_seq = 0;
	cp_link_keys_update(p, CP_KEYS_NONE, INFO_GET(p, keys_seq), 0);
	INFO_SET(p, connected, 0);
	INFO_SET(p, syncing, 0);
	INFO_ADD(p, disconnects, 1);
	if (rc == -ESHUTDOWN)
		CP_INFO("dataplane channel closed");
	else
		CP_WARN("dataplane channel lost (%s); reconnecting in the "
			"background",
			strerror(-rc));
	cp_link_fail_reqs(p, -ENOTCONN);
	cp_link_notify(p);
}

static void
cp_link_connect(struct cp_link *p)
{
	int rc = or_chan_connect(p->conf.chan_path, OR_CHAN_ROLE_CONTROL,
				 CP_LINK_CONNECT_MS, &p->c);

	/* Only 0 means connected (and p->c set): anything else is a failure,
	 * even a result that is not a -errno (logged as EPROTO; strerror of
	 * -INT_MIN would overflow). */
	if (rc != 0) {
		if (rc > 0 || rc < -4095)
			rc = -EPROTO;
		p->c = NULL;
		if (!p->connect_logged)
			CP_NOTICE("dataplane channel %s not available (%s); "
				  "retrying every %u ms",
				  p->conf.chan_path, strerror(-rc),
				  p->conf.retry_ms);
		p->connect_logged = 1;
		return;
	}
	p->connect_logged = 0;
	p->max_ops = or_chan_peer(p->c)->max_ops;
	if (p->max_ops == 0 || p->max_ops > OR_CHAN_MAX_OPS)
		p->max_ops = OR_CHAN_MAX_OPS;
	or_chan_set_error_cb(p->c, cp_link_on_error, p);
	INFO_SET(p, workers, or_chan_peer(p->c)->workers);
	INFO_ADD(p, connects, 1);
	INFO_SET(p, connected, 1);
	CP_NOTICE("dataplane connected (%u workers, %" PRIu64
		  " entries, marked at store seq %" PRIu64 ")",
		  or_chan_peer(p->c)->workers, or_chan_peer(p->c)->entries,
		  or_chan_peer(p->c)->mark_seq);
	/* The keys first: the table the resync builds is then never
	 * enforced with a key set older than the store's. */
	rc = cp_link_send_keys(p);
	if (rc == 0)
		rc = cp_link_resume(p);
	if (rc == 0)
		rc = cp_link_mark(p);
	if (rc == 0)
		rc = cp_link_check_refused(p);
	if (rc < 0)
		cp_link_disconnect(p, rc);
	cp_link_notify(p);
}

/* A flag of struct cp_link that is under mu. */
static int
cp_link_flag(struct cp_link *p, const int *flag)
{
	int v;

	pthread_mutex_lock(&p->mu);
	v = *flag;
	pthread_mutex_unlock(&p->mu);
	return v;
}

static void *
cp_link_main(void *arg)
{
	struct cp_link *p = arg;

	while (!cp_link_flag(p, &p->stop)) {
		struct pollfd pf[2] = {
			{ .fd = p->wake_fd, .events = POLLIN },
			{ .fd = -1, .events = POLLIN },
		};
		int rc;

		if (p->c == NULL) {
			uint64_t now = cp_now_ms();
			int ms = (int)p->conf.retry_ms;

			if (now >= p->connect_at_ms)
				cp_link_connect(p);
			else
				ms = (int)(p->connect_at_ms - now);
			if (p->c == NULL) {
				cp_link_fail_reqs(p, -ENOTCONN);
				if (poll(pf, 1, ms) > 0)
					cp_link_drain(p->wake_fd);
				continue;
			}
		}
		pf[1].fd = or_chan_fd(p->c);
		if (poll(pf, 2, 1000) < 0 && errno != EINTR)
			continue;
		if (pf[0].revents & POLLIN)
			cp_link_drain(p->wake_fd);
		/* Acks first, stamped as soon as they are read: the time
		 * from commit to ack is what a "wait" reply reports. */
		rc = or_chan_poll(p->c);
		if (rc == 0)
			cp_link_update_acks(p, cp_now_us());
		if (rc == 0)
			rc = cp_link_check_refused(p);
		if (rc == 0)
			rc = cp_link_send_queue(p);
		if (rc == 0)
			rc = cp_link_mark(p);
		if (rc == 0 && cp_link_flag(p, &p->keys_dirty))
			rc = cp_link_send_keys(p);
		if (rc == 0)
			rc = cp_link_serve_stats(p);
		/* Acks read while sending or waiting for counters. */
		if (rc == 0)
			cp_link_update_acks(p, cp_now_us());
		if (rc == 0)
			rc = cp_link_check_refused(p);
		if (rc < 0)
			cp_link_disconnect(p, rc);
	}
	cp_link_disconnect(p, -ESHUTDOWN);
	return NULL;
}

int
cp_link_start(const struct cp_link_conf *conf, struct cp_link **out)
{
	struct cp_link *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL)
		return -ENOMEM;
	p->conf = *conf;
	p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->ops = calloc(OR_CHAN_MAX_OPS, sizeof(*p->ops));
	p->ents = calloc(OR_CHAN_MAX_OPS, sizeof(*p->ents));
	p->max_ops = OR_CHAN_MAX_OPS;
	pthread_mutex_init(&p->mu, NULL);
	if (p->wake_fd < 0 || p->notify_fd < 0 || p->ops == NULL ||
	    p->ents == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = -pthread_create(&p->th, NULL, cp_link_main, p);
	if (rc < 0)
		goto fail;
	pthread_setname_np(p->th, "cp-channel");
	p->started = 1;
	*out = p;
	return 0;
fail:
	cp_link_stop(p);
	return rc;
}

void
cp_link_stop(struct cp_link *p)
{
	if (p == NULL)
		return;
	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_mutex_unlock(&p->mu);
		cp_link_wake(p);
		pthread_join(p->th, NULL);
	}
	cp_link_drop_queue_locked(p);
	for (unsigned i = 0; i < CP_LINK_REQS; i++)
		free(p->reqs[i].st);
	free(p->map);
	free(p->ops);
	free(p->ents);
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	if (p->notify_fd >= 0)
		close(p->notify_fd);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
