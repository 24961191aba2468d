/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The updater thread (dataplane/chan/updater.h): the consent table's only
 * writer. One loop: wait for the socket (short poll timeout so a stop is
 * seen quickly), drain a bounded number of messages, apply them, then one
 * ct_sync() (grace period) for all of them and one ACK. When idle it
 * advances a table growth in progress.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "optroute/ctable.h"
#include "chan_priv.h"

static int
chan_stopping(const struct or_updater *u)
{
	return __atomic_load_n(&u->stop, __ATOMIC_ACQUIRE);
}

static void *
chan_thread(void *arg)
{
	struct or_updater *u = arg;
	int growing = 1;

	while (!chan_stopping(u)) {
		struct pollfd pfd[2] = {
			{ .fd = u->lfd, .events = POLLIN },
			{ .fd = u->cfd, .events = POLLIN },
		};
		int busy = 0;

		if (u->outq_head != NULL || u->ack_owed)
			pfd[1].events |= POLLOUT;
		/* Closing after a fatal error: read nothing more (and do not
		 * spin on what the peer keeps sending). */
		if (u->close_after_flush)
			pfd[1].events &= ~POLLIN;
		/* While a growth is under way, come back soon to advance it. */
		if (poll(pfd, u->cfd >= 0 ? 2 : 1, growing ? 1 : CHAN_POLL_MS) < 0) {
			if (errno == EINTR)
				continue;
			CHAN_LOG(ERR, "poll: %s", strerror(errno));
			break;
		}
		if (u->cfd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			busy = chan_read(u) != 0;
		/* Before the grace period and the ACK (updater.h). */
		if (CHAN_GET(u, synced) == 0 && CHAN_GET(u, resyncs) > 0) {
			if (u->conf.on_synced != NULL)
				u->conf.on_synced(u->conf.synced_arg);
			CHAN_SET(u, synced, 1);
		}
		chan_sync_and_ack(u);
		if (u->cfd >= 0)
			chan_flush(u);
		if (pfd[0].revents & POLLIN)
			chan_accept(u);
		if (!busy)
			growing = ct_grow_step(u->t, CHAN_GROW_STEP) > 0;
	}
	chan_disconnect(u);
	return NULL;
}

int
or_updater_start(const struct or_updater_conf *conf, struct or_updater **out)
{
	struct or_updater *u;
	int rc;

	if (conf == NULL || conf->table == NULL || out == NULL)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	u->conf = *conf;
	u->t = conf->table;
	u->lfd = -1;
	u->cfd = -1;
	u->rbuf = malloc(OR_CHAN_MSG_MAX + 1);
	u->dpstats = calloc(CHAN_DP_STATS_MAX, sizeof(*u->dpstats));
	if (u->rbuf == NULL || u->dpstats == NULL || chan_defer_alloc(u) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	if (conf->sock_path == NULL ||
	    strlen(conf->sock_path) >= sizeof(u->path)) {
		rc = conf->sock_path == NULL ? -EINVAL : -ENAMETOOLONG;
		goto fail;
	}
	strcpy(u->path, conf->sock_path);
	u->conf.sock_path = u->path; /* the caller's string may go away */
	rc = chan_listen(u->path, &u->lfd);
	if (rc < 0)
		goto fail;

	/* rte_lcore_count() is 0 until rte_eal_init() has run. */
	if (conf->use_eal || rte_lcore_count() > 0) {
		rc = rte_ctrl_thread_create(&u->thread, "or-updater", NULL,
					    chan_thread, u);
	} else {
		rc = -pthread_create(&u->thread, NULL, chan_thread, u);
		if (rc == 0)
			pthread_setname_np(u->thread, "or-updater");
	}
	if (rc < 0) /* both return 0 or a -errno here */
		goto fail_sock;
	*out = u;
	return 0;

fail_sock:
	close(u->lfd);
	unlink(u->path);
fail:
	chan_defer_free(u);
	free(u->dpstats);
	free(u->rbuf);
	free(u);
	return rc;
}

void
or_updater_stop(struct or_updater *u)
{
	if (u == NULL)
		return;
	__atomic_store_n(&u->stop, 1, __ATOMIC_RELEASE);
	pthread_join(u->thread, NULL);
	close(u->lfd);
	unlink(u->path);
	chan_defer_free(u);
	free(u->dpstats);
	free(u->rbuf);
	free(u);
}

void
or_updater_get_stats(const struct or_updater *u, struct or_updater_stats *s)
{
#define G(f, ...) s->f = CHAN_GET(u, f);
	OR_UPDATER_STATS(G)
#undef G
}
