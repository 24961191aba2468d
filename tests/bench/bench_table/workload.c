/* SPDX-License-Identifier: BSD-3-Clause
 *
 * bench_table: the keys and the lookup sequence every structure is
 * measured with.
 *
 * Keys reach the lookups as a long precomputed stream of key copies in
 * random order (as tokens arrive in packets), so the table is the only
 * random access, as in the memory bound; --key-ptrs instead points into the
 * token array (one more random access per lookup).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bench_table.h"

void
bt_rng_token(uint64_t *s, struct or_token *t)
{
	uint64_t a = bt_rng_next(s), b = bt_rng_next(s);

	memcpy(t->b, &a, 8);
	memcpy(t->b + 8, &b, 8);
}

/* The record key i starts with: 90% opted in, a spread of nodes. */
uint32_t
bt_rec_of(uint64_t i)
{
	return or_rec_make(i % 10 == 0 ? OR_STATE_OUT : OR_STATE_IN,
			   (uint16_t)(i & 0x3ff), 1, 0);
}

void
bt_work_free(struct bt_work *w)
{
	bt_big_free(w->tok, w->n * sizeof(*w->tok));
	bt_big_free(w->stream, w->seq_len * sizeof(*w->stream));
	bt_big_free(w->miss, w->n_miss * sizeof(*w->miss));
	bt_big_free(w->seq, w->seq_len * sizeof(*w->seq));
	bt_big_free(w->expect, w->nbursts * sizeof(*w->expect));
}

int
bt_work_init(struct bt_work *w, const struct bt_opts *o, uint64_t *rng)
{
	uint64_t misses = 0;
	double t = bt_now();

	memset(w, 0, sizeof(*w));
	w->n = o->entries;
	/* 1/32 of the keys are churned by the writer and never looked up. */
	w->n_hit = w->n - (w->n / 32 > 0 ? w->n / 32 : 1);
	w->burst = o->burst;
	w->nbursts = (uint32_t)(o->seq_len / o->burst);
	w->seq_len = (uint64_t)w->nbursts * o->burst;
	w->tok = bt_big_alloc(w->n * sizeof(*w->tok));
	w->seq = bt_big_alloc(w->seq_len * sizeof(*w->seq));
	w->expect = bt_big_alloc(w->nbursts * sizeof(*w->expect));
	if (o->key_ptrs) {
		w->n_miss = w->n_hit / 9 + 1;
		w->miss = bt_big_alloc(w->n_miss * sizeof(*w->miss));
	} else {
		w->stream = bt_big_alloc(w->seq_len * sizeof(*w->stream));
	}
	if (w->tok == NULL || w->seq == NULL || w->expect == NULL ||
	    (w->miss == NULL && w->stream == NULL))
		return -ENOMEM;
	for (uint64_t i = 0; i < w->n; i++)
		bt_rng_token(rng, &w->tok[i]);
	for (uint64_t i = 0; i < w->n_miss; i++)
		bt_rng_token(rng, &w->miss[i]);
	for (uint64_t i = 0; i < w->seq_len; i++) {
		bool miss = bt_rng_below(rng, 1000) < BT_MISS_PER_MILLE;

		misses += miss;
		if (!miss)
			w->expect[i / w->burst] |= 1ull << (i % w->burst);
		if (o->key_ptrs) {
			w->seq[i] = miss ? &w->miss[bt_rng_below(rng, w->n_miss)] :
					   &w->tok[bt_rng_below(rng, w->n_hit)];
			continue;
		}
		if (miss)
			bt_rng_token(rng, &w->stream[i]);
		else
			w->stream[i] = w->tok[bt_rng_below(rng, w->n_hit)];
		w->seq[i] = &w->stream[i];
	}
	printf("keys: %" PRIu64 " in the table (%" PRIu64 " looked up, %" PRIu64
	       " churned by the writer); lookup sequence %" PRIu64 " keys as %s, "
	       "%.1f%% misses, burst %u; generated in %.2f s\n",
	       w->n, w->n_hit, w->n - w->n_hit, w->seq_len,
	       o->key_ptrs ? "pointers into the key array" : "a stream of key copies",
	       100.0 * (double)misses / (double)w->seq_len, w->burst, bt_now() - t);
	return 0;
}
