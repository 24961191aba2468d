/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The background audit verification; see cp_job.h.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "control/daemon/cp_daemon.h"

#include "cp_job.h"

struct cp_job {
	struct or_sor *sor;
	int efd;            /* eventfd: 1 when the thread is done */
	bool running;       /* thread started, not joined */
	volatile int cancel;
	pthread_t th;
	struct cp_job_result res; /* the thread's until it is joined */
};

static void *
cp_job_main(void *arg)
{
	struct cp_job *j = arg;
	struct cp_job_result *r = &j->res;
	struct or_err err = { "" };
	uint64_t t0 = cp_now_ms(), one = 1;

	r->rc = or_sor_audit_verify(j->sor, &j->cancel, &r->bad_seq,
				    &r->entries, &err);
	if (r->rc == 0)
		r->rc = or_sor_audit_head(j->sor, &r->head_seq, r->head, &err);
	if (r->rc != 0)
		snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
	r->ms = cp_now_ms() - t0;
	/* Cannot fail short of a bug: the counter is read before each job. */
	(void)!write(j->efd, &one, sizeof(one));
	return NULL;
}

int
cp_job_create(struct or_sor *sor, struct cp_job **out)
{
	struct cp_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return -ENOMEM;
	j->sor = sor;
	j->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (j->efd < 0) {
		int rc = -errno;

		free(j);
		return rc;
	}
	*out = j;
	return 0;
}

int
cp_job_fd(const struct cp_job *j)
{
	return j->efd;
}

bool
cp_job_running(const struct cp_job *j)
{
	return j->running;
}

int
cp_job_start(struct cp_job *j)
{
	sigset_t all, old;
	int rc;

	if (j->running)
		return -EBUSY;
	memset(&j->res, 0, sizeof(j->res));
	j->cancel = 0;
	/* Signals stay with the event loop's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&j->th, NULL, cp_job_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		j->running = true;
	return rc;
}

int
cp_job_collect(struct cp_job *j, struct cp_job_result *r)
{
	uint64_t v;

	if (!j->running || read(j->efd, &v, sizeof(v)) != sizeof(v))
		return -EAGAIN;
	pthread_join(j->th, NULL);
	j->running = false;
	*r = j->res;
	return 0;
}

void
cp_job_destroy(struct cp_job *j)
{
	if (j == NULL)
		return;
	if (j->running) {
		__atomic_store_n(&j->cancel, 1, __ATOMIC_RELAXED);
		pthread_join(j->th, NULL);
	}
	close(j->efd);
	free(j);
}
