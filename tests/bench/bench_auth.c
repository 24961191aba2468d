/* SPDX-License-Identifier: BSD-3-Clause
 *
 * bench_auth: the worker's version-2 steps apart, on data in the cache
 * (build/bin/bench_auth [ROUNDS]): what each costs per MSG without the
 * memory latency of the consent table, to read beside `make
 * bench-dataplane`'s auth_cost_ratio and its perf profiles.
 *
 *   verify_x8     or_auth_verify_burst over bursts of 32 signed headers
 *                 (AES x4 VAES + two SipHash x8 chains, AVX-512, where
 *                 the CPU has them)
 *   verify_scalar or_auth_verify_scalar, one header at a time
 *   bounce_tag    or_auth_tag_of, a bounce's tag (one AES, one SipHash,
 *                 the vector registers wiped)
 *   budget_hint   or_budget_prefetch + or_budget_over of 32 senders of a
 *                 default-sized budget (capacity 1M) none of which is
 *                 over: the per-MSG budget cost when no bucket is read
 *
 * Each figure is the best of ROUNDS (default 9) rounds of 2^16 bursts, in
 * ns per MSG of the thread's own CPU time (CLOCK_THREAD_CPUTIME_ID: other
 * tasks taking turns on the CPU are left out). The last line is one JSON object.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "optroute/auth.h"
#include "dataplane/auth/auth_verify.h"
#include "dataplane/auth/budget.h"

#define BA_BURST 32u
#define BA_POOL 1024u /* headers: 68 KiB, in L2 */
#define BA_BURSTS (1u << 16)

static double
ba_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct or_hdr2 pool[BA_POOL];
static const uint8_t *hp[BA_POOL];
static volatile uint64_t ba_sink;

/* ns per MSG of one round of fn over the pool in bursts of 32. */
typedef void (*ba_fn)(const struct or_keyring *kr, const uint8_t *const *h,
		      void *ctx);

static double
ba_round(ba_fn fn, const struct or_keyring *kr, void *ctx)
{
	double t0 = ba_now_ns();

	for (unsigned i = 0; i < BA_BURSTS; i++)
		fn(kr, hp + (i * BA_BURST) % BA_POOL, ctx);
	return (ba_now_ns() - t0) / ((double)BA_BURSTS * BA_BURST);
}

static double
ba_best(ba_fn fn, const struct or_keyring *kr, void *ctx, unsigned rounds)
{
	double best = 1e30;

	for (unsigned r = 0; r < rounds; r++) {
		double ns = ba_round(fn, kr, ctx);

		if (ns < best)
			best = ns;
	}
	return best;
}

static void
ba_verify_x8(const struct or_keyring *kr, const uint8_t *const *h, void *ctx)
{
	uint8_t v[BA_BURST];

	(void)ctx;
	or_auth_verify_burst(kr, h, BA_BURST, v);
	for (unsigned i = 0; i < BA_BURST; i++)
		if (v[i] != OR_AUTH_OK)
			abort();
}

static void
ba_verify_scalar(const struct or_keyring *kr, const uint8_t *const *h,
		 void *ctx)
{
	uint8_t v[BA_BURST];

	(void)ctx;
	or_auth_verify_scalar(kr, h, BA_BURST, v);
	or_wipe_vregs();
	for (unsigned i = 0; i < BA_BURST; i++)
		if (v[i] != OR_AUTH_OK)
			abort();
}

static void
ba_bounce_tag(const struct or_keyring *kr, const uint8_t *const *h, void *ctx)
{
	uint64_t x = 0;

	(void)ctx;
	for (unsigned i = 0; i < BA_BURST; i++)
		x ^= or_auth_tag_of(kr, 0, h[i]);
	ba_sink = x;
}

static void
ba_budget_hint(const struct or_keyring *kr, const uint8_t *const *h, void *ctx)
{
	const struct or_budget *b = ctx;
	int over = 0;

	(void)kr;
	for (unsigned i = 0; i < BA_BURST; i++)
		or_budget_prefetch(b, (const struct or_token *)
					      (h[i] + OR_HDR2_SENDER_OFF));
	for (unsigned i = 0; i < BA_BURST; i++)
		over |= or_budget_over(b, (const struct or_token *)
					      (h[i] + OR_HDR2_SENDER_OFF),
				       1000000);
	if (over)
		abort();
}

int
main(int argc, char **argv)
{
	struct or_budget_params bp = { .burst = 300, .refill_per_hour = 15,
				       .capacity = 1000000, .socket_id = -1 };
	struct or_chan_auth_keys m = { .version = OR_CHAN_AUTH_KEYS_VERSION,
				       .count = 1 };
	unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 9;
	struct or_auth_keys ring;
	struct or_auth_key kauth;
	struct or_budget *b;
	char err[128];
	double x8, sc, bt, bh;

	if (sodium_init() < 0 || rounds == 0)
		return 1;
	memset(&ring, 0, sizeof(ring));
	randombytes_buf(&kauth, sizeof(kauth));
	m.keys[0].epoch = 0;
	memcpy(m.keys[0].key, kauth.b, sizeof(kauth.b));
	if (or_keyring_install(&ring, &m, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_auth: keyring: %s\n", err);
		return 1;
	}
	for (unsigned i = 0; i < BA_POOL; i++) {
		struct or_hdr2 *h = &pool[i];
		struct or_auth_key ks;

		randombytes_buf(h, sizeof(*h));
		h->magic = htobe16(OR_PROTO_MAGIC);
		h->version = OR_PROTO_V2;
		h->type = OR_TYPE_MSG;
		h->key_epoch = 0;
		if (or_auth_sender_key(&kauth, &h->sender, &ks) != 0)
			return 1;
		or_auth_sign(&ks, h);
		hp[i] = (const uint8_t *)h;
	}
	if (or_budget_create(&bp, &b) != 0)
		return 1;
	x8 = ba_best(ba_verify_x8, ring.live, NULL, rounds);
	sc = ba_best(ba_verify_scalar, ring.live, NULL, rounds);
	bt = ba_best(ba_bounce_tag, ring.live, NULL, rounds);
	bh = ba_best(ba_budget_hint, ring.live, b, rounds);
	printf("bench_auth: ns per MSG (best of %u rounds of %u bursts of %u):"
	       " verify_x8 %.2f, verify_scalar %.2f, bounce_tag %.2f,"
	       " budget_hint %.2f\n", rounds, BA_BURSTS, BA_BURST, x8, sc, bt, bh);
	printf("{\"verify_x8_ns\":%.2f,\"verify_scalar_ns\":%.2f,"
	       "\"bounce_tag_ns\":%.2f,\"budget_hint_ns\":%.2f,\"rounds\":%u}\n",
	       x8, sc, bt, bh, rounds);
	or_budget_free(b);
	or_keyring_destroy(&ring);
	return 0;
}
