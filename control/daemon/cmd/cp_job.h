/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The event loop's background job: verifying the whole audit chain
 * (`optroutectl audit --verify`). It reads and hashes every entry, seconds
 * at millions of entries, so it runs on a thread of its own, in its own
 * read snapshot (or_sor_audit_verify: LMDB, MDB_NOTLS), while the event loop
 * goes on taking and committing consent changes. One job runs at a time;
 * cp_job_fd() turns readable when it is done.
 *
 * Threads: every function here is called by the event loop thread only;
 * the job thread touches nothing but its store snapshot and the result,
 * which the event loop reads after joining it.
 */
#ifndef CP_JOB_H
#define CP_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "control/store/sor.h"

struct cp_job;

struct cp_job_result {
	int rc;            /* 0, -EBADMSG (chain broken), -ECANCELED, -errno */
	uint64_t bad_seq;  /* -EBADMSG: first entry that fails (0: index) */
	uint64_t entries;  /* entries verified */
	uint64_t head_seq; /* rc 0: the head, read after the walk */
	uint8_t head[OR_AUDIT_HASH_LEN];
	uint64_t ms;       /* time the job took */
	char msg[256];     /* rc != 0: why */
};

/* 0 or -errno. */
int cp_job_create(struct or_sor *sor, struct cp_job **out);

/* Cancels a running job (it stops within a few thousand entries), joins
 * its thread and frees everything. NULL is fine. */
void cp_job_destroy(struct cp_job *j);

/* Readable (EPOLLIN) once a started job has finished. */
int cp_job_fd(const struct cp_job *j);

/* Started and not collected yet. */
bool cp_job_running(const struct cp_job *j);

/* Starts a verification: 0, -EBUSY while one runs, or -errno. */
int cp_job_start(struct cp_job *j);

/* The result of a finished job, its thread joined: 0, or -EAGAIN while
 * it still runs (or none was started). */
int cp_job_collect(struct cp_job *j, struct cp_job_result *r);

#endif
