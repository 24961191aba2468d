/* SPDX-License-Identifier: BSD-3-Clause
 *
 * bench_table: what the optroute table is compared with: the memory bound
 * (prefetched random 64-byte reads over as many bytes as the table uses),
 * DPDK's rte_hash (lock-free reader mode) and liburcu's cds_lfht (QSBR).
 * Each is built, measured and freed before the next.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

#include "bench_table.h"

/* ------------------------------------------------------- memory bound --- */

/* Allocated like the table's buckets, so pages and TLB reach match. */
int
bt_bench_mem(struct bt_work *w, const struct bt_opts *o, uint64_t *rng,
	     struct bt_result *res)
{
	uint64_t nlines = (res->ct_bytes + 63) / 64, len = nlines * 64;
	double v[o->runs];
	uint64_t *mem = res->ct_rte ? rte_malloc(NULL, len, 64) : bt_big_alloc(len);
	const uint64_t **lines = bt_big_alloc(w->seq_len * sizeof(*lines));
	struct bt_reader r = { .kind = BT_MEM, .w = w, .core = o->reader_core,
		.warmup = o->warmup, .seconds = o->seconds, .lines = lines };
	int rc = 0;

	if (mem == NULL || lines == NULL) {
		fprintf(stderr, "memory bound: cannot allocate %" PRIu64 " bytes\n", len);
		rc = -ENOMEM;
		goto out;
	}
	memset(mem, 1, len); /* fault every page in now */
	for (uint64_t i = 0; i < w->seq_len; i++)
		lines[i] = mem + bt_rng_below(rng, nlines) * 8;
	printf("memory bound: %" PRIu64 " MiB from %s, random lines in bursts "
	       "of %u, two ways: a burst prefetched into L1 then read; the next "
	       "burst prefetched into L2 while this one is read\n", len >> 20,
	       res->ct_rte ? "rte_malloc" : "mmap", w->burst);
	for (unsigned way = 0; way < 2 && rc == 0; way++) {
		const char *label = way ? "memory bound (pipelined)" :
					  "memory bound (one burst)";

		r.pipelined = way == 1;
		for (unsigned i = 0; i < o->runs && rc == 0; i++) {
			v[i] = bt_measure(&r, label, i, o->runs, &res->errors);
			if (v[i] < 0)
				rc = -EIO;
		}
		if (rc == 0)
			*(way ? &res->mem_pipe : &res->mem_burst) = bt_median(v, o->runs);
	}
	if (rc == 0) {
		res->mem = res->mem_pipe > res->mem_burst ? res->mem_pipe : res->mem_burst;
		printf("memory bound: median %.2f M lines/s one burst, %.2f pipelined: "
		       "the bound is %.2f\n", res->mem_burst, res->mem_pipe, res->mem);
	}
out:
	bt_big_free(lines, w->seq_len * sizeof(*lines));
	if (res->ct_rte)
		rte_free(mem);
	else
		bt_big_free(mem, len);
	return rc;
}

/* ----------------------------------------------------------- rte_hash --- */

/* Bytes allocated from one heap, or from all NUMA heaps (SOCKET_ID_ANY). */
static uint64_t
rte_heap_bytes(int socket)
{
	struct rte_malloc_socket_stats st;
	uint64_t sum = 0;

	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if ((socket == SOCKET_ID_ANY || s == socket) &&
		    rte_malloc_get_socket_stats(s, &st) == 0)
			sum += st.heap_allocsz_bytes;
	if (socket >= RTE_MAX_NUMA_NODES &&
	    rte_malloc_get_socket_stats(socket, &st) == 0)
		sum = st.heap_allocsz_bytes;
	return sum;
}

/* Free hugepage memory the EAL could still map, in bytes. */
static uint64_t
free_hugepage_bytes(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	uint64_t pages = 0, kb = 0, v;
	char line[128];

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "HugePages_Free: %" SCNu64, &v) == 1)
			pages = v;
		else if (sscanf(line, "Hugepagesize: %" SCNu64, &v) == 1)
			kb = v;
	}
	fclose(f);
	return pages * kb * 1024;
}

/* rte_hash's footprint for n keys: buckets, key store, free-slot ring. */
static uint64_t
rte_hash_bytes(uint64_t n)
{
	uint64_t p = 1;

	while (p < n + 1)
		p <<= 1;
	return (8 * p + 32 * (n + 1) + 4 * p) * 11 / 10 + (64u << 20);
}

struct bt_heap {
	void *raw;
	size_t raw_len;
	void *addr;
	size_t len;
};

/* Without hugepages EAL memory is a memfd in 4 KiB pages, while optroute's
 * buckets get transparent hugepages: give rte_hash an external heap on THP
 * memory so the comparison is not about the TLB. Returns its socket id. */
static int
thp_heap_create(struct bt_heap *hp, uint64_t bytes)
{
	hp->len = RTE_ALIGN_CEIL(bytes, BT_THP_PAGE);
	hp->raw_len = hp->len + BT_THP_PAGE;
	hp->raw = bt_big_alloc(hp->raw_len);
	if (hp->raw == NULL)
		return -1;
	hp->addr = RTE_PTR_ALIGN_CEIL(hp->raw, BT_THP_PAGE);
	if (rte_malloc_heap_create("bench_thp") != 0)
		return -1;
	if (rte_malloc_heap_memory_add("bench_thp", hp->addr, hp->len, NULL, 0,
				       BT_THP_PAGE) != 0)
		return -1;
	return rte_malloc_heap_get_socket("bench_thp");
}

static void
thp_heap_destroy(struct bt_heap *hp)
{
	if (hp->raw == NULL)
		return;
	rte_malloc_heap_memory_remove("bench_thp", hp->addr, hp->len);
	rte_malloc_heap_destroy("bench_thp");
	bt_big_free(hp->raw, hp->raw_len);
}

int
bt_bench_rte(struct bt_work *w, const struct bt_opts *o, bool huge,
	     struct bt_result *res)
{
	struct rte_hash_parameters p = {
		.name = "bench_table", .entries = (uint32_t)w->n,
		.key_len = OR_TOKEN_LEN, .socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct bt_heap hp = { 0 };
	uint64_t heap0, failed = 0, thp = bt_thp_kb();
	double v[o->runs], t;
	struct rte_hash *h;
	int rc = 0;

	/* Without hugepages, or too few left (the optroute table took them),
	 * rte_hash gets an external heap on transparent hugepages. */
	if (!huge || free_hugepage_bytes() < rte_hash_bytes(w->n)) {
		if (huge)
			printf("rte_hash: %" PRIu64 " MiB of hugepages free, needs %" PRIu64
			       " MiB: external heap on transparent hugepages\n",
			       free_hugepage_bytes() >> 20, rte_hash_bytes(w->n) >> 20);
		p.socket_id = thp_heap_create(&hp, rte_hash_bytes(w->n));
		if (p.socket_id < 0) {
			fprintf(stderr, "rte_hash: no THP heap: %s\n",
				rte_strerror(rte_errno));
			thp_heap_destroy(&hp);
			return -ENOMEM;
		}
	}
	heap0 = rte_heap_bytes(p.socket_id);

	p.hash_func = strcmp(o->rte_hash_fn, "jhash") == 0 ? rte_jhash :
							      rte_hash_crc;
	h = rte_hash_create(&p);
	if (h == NULL) {
		printf("rte_hash: create failed (%s): skipped\n",
		       rte_strerror(rte_errno));
		thp_heap_destroy(&hp);
		return 0;
	}
	t = bt_now();
	for (uint64_t i = 0; i < w->n; i++)
		failed += rte_hash_add_key_data(h, &w->tok[i],
				(void *)(uintptr_t)bt_rec_of(i)) != 0;
	t = bt_now() - t;
	printf("rte_hash (%s, lock-free readers): filled %" PRIu64 " keys in "
	       "%.2f s (%.2f M inserts/s), %" PRIu64 " failed, %.1f MiB (%.2f "
	       "B/entry) from ", o->rte_hash_fn, w->n, t,
	       (double)w->n / t / 1e6, failed,
	       (double)(rte_heap_bytes(p.socket_id) - heap0) / 1048576.0,
	       (double)(rte_heap_bytes(p.socket_id) - heap0) / (double)w->n);
	if (hp.len == 0)
		printf("hugepages\n");
	else
		printf("an external heap of %zu MiB, %" PRIu64 " MiB of it in "
		       "transparent hugepages\n", hp.len >> 20,
		       (bt_thp_kb() - thp) / 1024);
	for (unsigned i = 0; i < o->runs && rc == 0; i++) {
		struct bt_reader r = { .kind = BT_RTE, .tbl = h, .w = w,
			.core = o->reader_core, .warmup = o->warmup,
			.seconds = o->seconds };

		v[i] = bt_measure(&r, "rte_hash", i, o->runs, &res->errors);
		if (v[i] < 0)
			rc = -EIO;
	}
	rte_hash_free(h);
	thp_heap_destroy(&hp);
	if (rc != 0)
		return rc;
	if (failed != 0) {
		/* Its misses would count as wrong answers: not a figure. */
		printf("rte_hash: not reported, %" PRIu64 " keys did not fit\n", failed);
		return 0;
	}
	res->rte = bt_median(v, o->runs);
	res->has_rte = true;
	printf("rte_hash: median %.2f M lookups/s\n", res->rte);
	return 0;
}

/* --------------------------------------------------------------- lfht --- */

int
bt_bench_lfht(struct bt_work *w, const struct bt_opts *o,
	      struct bt_result *res)
{
	unsigned long size = 1;
	struct lf_node *nodes = bt_big_alloc(w->n * sizeof(*nodes));
	struct cds_lfht *ht;
	double v[o->runs], t;
	int rc = 0;

	while (size < w->n)
		size <<= 1;
	/* Sized once for N: no resize (and no call_rcu worker) while measured. */
	ht = cds_lfht_new(size, size, size, 0, NULL);
	if (nodes == NULL || ht == NULL) {
		fprintf(stderr, "lfht: cannot allocate\n");
		if (ht != NULL)
			cds_lfht_destroy(ht, NULL);
		bt_big_free(nodes, w->n * sizeof(*nodes));
		return -ENOMEM;
	}
	rcu_register_thread();
	t = bt_now();
	rcu_read_lock();
	for (uint64_t i = 0; i < w->n; i++) {
		nodes[i].key = w->tok[i];
		nodes[i].rec = bt_rec_of(i);
		cds_lfht_node_init(&nodes[i].node);
		cds_lfht_add(ht, bt_lf_hash(&nodes[i].key), &nodes[i].node);
	}
	rcu_read_unlock();
	t = bt_now() - t;
	rcu_thread_offline();
	printf("lfht (qsbr, %lu buckets): filled %" PRIu64 " keys in %.2f s "
	       "(%.2f M inserts/s), nodes %.1f MiB + buckets\n", size, w->n, t,
	       (double)w->n / t / 1e6,
	       (double)(w->n * sizeof(*nodes)) / 1048576.0);
	for (unsigned i = 0; i < o->runs; i++) {
		struct bt_reader r = { .kind = BT_LFHT, .tbl = ht, .w = w,
			.core = o->reader_core, .warmup = o->warmup,
			.seconds = o->seconds };

		v[i] = bt_measure(&r, "lfht", i, o->runs, &res->errors);
		if (v[i] < 0) {
			rc = -EIO;
			break;
		}
	}
	/* cds_lfht_destroy wants an empty table. */
	rcu_thread_online();
	rcu_read_lock();
	for (uint64_t i = 0; i < w->n; i++)
		cds_lfht_del(ht, &nodes[i].node);
	rcu_read_unlock();
	rcu_unregister_thread();
	cds_lfht_destroy(ht, NULL);
	bt_big_free(nodes, w->n * sizeof(*nodes));
	if (rc == 0) {
		res->lfht = bt_median(v, o->runs);
		res->has_lfht = true;
		printf("lfht: median %.2f M lookups/s\n", res->lfht);
	}
	return rc;
}

