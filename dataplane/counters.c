/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Reader side of the dataplane counters (see counters.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "counters.h"

#define OR_CNT_NAME_(n, s, ...) s,
#define OR_DROP_CNT_NAME_(n, s) OR_PKT_DROP_PREFIX s,
static const char *const cnt_names[OR_CNT_NUM] = {
	OR_PKT_COUNTERS(OR_CNT_NAME_)
	OR_DROP_REASONS(OR_DROP_CNT_NAME_)
};
#undef OR_CNT_NAME_
#undef OR_DROP_CNT_NAME_

#define OR_POLL_NAME_(n, s, ...) s,
static const char *const poll_names[OR_POLL_NUM] = {
	OR_POLL_COUNTERS(OR_POLL_NAME_)
};
#undef OR_POLL_NAME_

const char *
or_cnt_name(unsigned id)
{
	return id < OR_CNT_NUM ? cnt_names[id] : NULL;
}

const char *
or_poll_cnt_name(unsigned id)
{
	return id < OR_POLL_NUM ? poll_names[id] : NULL;
}

int
or_cnt_init(struct or_counters *c, unsigned n_workers, unsigned n_ports,
	    const int *worker_socket)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->live = calloc(n_workers ? n_workers : 1, sizeof(*c->live));
	c->base = calloc((size_t)n_workers * (n_ports + 1) + 1, sizeof(*c->base));
	if (c->live == NULL || c->base == NULL)
		goto nomem;
	c->n_workers = n_workers;
	c->n_ports = n_ports;
	for (unsigned w = 0; w < n_workers; w++) {
		c->live[w] = rte_zmalloc_socket("or_cnt",
						(n_ports + 1) * sizeof(**c->live),
						RTE_CACHE_LINE_SIZE,
						worker_socket[w]);
		if (c->live[w] == NULL)
			goto nomem;
	}
	return 0;
nomem:
	or_cnt_fini(c);
	return -ENOMEM;
}

void
or_cnt_fini(struct or_counters *c)
{
	if (c->live != NULL)
		for (unsigned w = 0; w < c->n_workers; w++)
			rte_free(c->live[w]);
	free(c->live);
	free(c->base);
	c->live = NULL;
	c->base = NULL;
	c->n_workers = 0;
	pthread_mutex_destroy(&c->lock);
}

static inline uint64_t
cnt_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Adds to out[0..n-1] the counters since the last clear of block j of
 * worker w (or of every worker). Called with the lock held. */
static void
cnt_sum(const struct or_counters *c, int w, unsigned j, unsigned n,
	uint64_t *out)
{
	for (unsigned i = 0; i < c->n_workers; i++) {
		const struct or_cnt_block *b = &c->base[i * (c->n_ports + 1) + j];

		if (w != OR_CNT_ALL && (unsigned)w != i)
			continue;
		for (unsigned k = 0; k < n; k++)
			out[k] += cnt_load(&c->live[i][j].v[k]) - b->v[k];
	}
}

uint64_t
or_cnt_read(struct or_counters *c, int w, int p, uint64_t *out)
{
	uint64_t drops = 0;

	memset(out, 0, OR_CNT_NUM * sizeof(*out));
	pthread_mutex_lock(&c->lock);
	for (unsigned j = 0; j < c->n_ports; j++)
		if (p == OR_CNT_ALL || (unsigned)p == j)
			cnt_sum(c, w, j, OR_CNT_NUM, out);
	pthread_mutex_unlock(&c->lock);
	for (unsigned k = OR_CNT_DROP_FIRST; k < OR_CNT_NUM; k++)
		drops += out[k];
	return drops;
}

void
or_cnt_read_polls(struct or_counters *c, int w, uint64_t *out)
{
	memset(out, 0, OR_POLL_NUM * sizeof(*out));
	pthread_mutex_lock(&c->lock);
	cnt_sum(c, w, c->n_ports, OR_POLL_NUM, out);
	pthread_mutex_unlock(&c->lock);
}

void
or_cnt_clear(struct or_counters *c)
{
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < c->n_workers; i++)
		for (unsigned j = 0; j <= c->n_ports; j++)
			for (unsigned k = 0; k < OR_CNT_NUM; k++)
				c->base[i * (c->n_ports + 1) + j].v[k] =
					cnt_load(&c->live[i][j].v[k]);
	pthread_mutex_unlock(&c->lock);
}
