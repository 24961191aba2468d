/* Deterministic test keys and records for the consent table tests: key i
 * is a splitmix64 stream of i, and its record encodes i (node = low 16 bits,
 * epoch = next 8), so a record found under the wrong key, or a torn one,
 * shows. */
#ifndef CT_TEST_KEYS_H
#define CT_TEST_KEYS_H

#include <errno.h>

#include <CUnit/CUnit.h>

#include "optroute/ctable.h"
#include "tests/lib/or_rand.h"

#define CTT_ABSENT_BASE 0x800000u /* indices never inserted by a test */

static inline uint64_t
ctt_mix(uint64_t x)
{
	return or_rand_mix(x);
}

static inline void
ctt_key(uint32_t i, struct or_token *k)
{
	uint64_t a = ctt_mix(i), b = ctt_mix(a ^ 0x5bd1e995u);

	memcpy(k->b, &a, 8);
	memcpy(k->b + 8, &b, 8);
}

static inline uint32_t
ctt_rec(uint32_t i, enum or_consent_state st)
{
	return or_rec_make(st, (uint16_t)i, (uint8_t)(i >> 16), 0);
}

/* The index a record was made for. */
static inline uint32_t
ctt_rec_index(uint32_t rec)
{
	return or_rec_node(rec) | ((uint32_t)or_rec_epoch(rec) << 16);
}

/* Upsert, waiting for grace periods while the table makes room. */
static inline int
ctt_upsert(struct ct *h, const struct or_token *k, uint32_t rec)
{
	for (int i = 0; i < 10000; i++) {
		int ret = ct_upsert(h, k, rec);

		if (ret != -EAGAIN)
			return ret;
		ct_sync(h);
	}
	return -EAGAIN;
}

/* Bulk-looks up [from, to): present keys must have their IN record,
 * absent ones must miss. Returns the number of wrong answers. */
static inline unsigned
ctt_check_range(struct ct *h, uint32_t from, uint32_t to, int present)
{
	struct or_token keys[32];
	const struct or_token *kp[32];
	uint32_t recs[32];
	unsigned bad = 0;

	for (uint32_t i = from; i < to; i += 32) {
		unsigned n = to - i < 32 ? to - i : 32;
		uint64_t hits;

		for (unsigned j = 0; j < n; j++) {
			ctt_key(i + j, &keys[j]);
			kp[j] = &keys[j];
		}
		hits = ct_lookup_bulk(h, kp, n, recs);
		for (unsigned j = 0; j < n; j++) {
			int hit = (hits >> j) & 1;

			if (present ? (!hit || recs[j] != ctt_rec(i + j, OR_STATE_IN))
				    : (hit || recs[j] != 0))
				bad++;
		}
	}
	return bad;
}

#endif
