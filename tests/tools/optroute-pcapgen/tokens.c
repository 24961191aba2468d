/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The tokens optroute-pcapgen draws senders and recipients from: an entry
 * file, or the derivation of `optroute-chanctl random`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "optroute/chan_client.h"
#include "tests/tools/or_client_msg.h"
#include "tests/tools/or_random_entry.h"
#include "pcapgen.h"

/* Entry i of `optroute-chanctl random`: it draws three splitmix64 values
 * per entry, and splitmix64's state only grows by a constant, so entry i
 * starts from seed + 3 * i * gamma. */
static void
random_entry(const struct gen_tokens *tk, uint64_t i, struct gen_entry *e)
{
	struct or_random_entry re;

	or_random_entry(tk->rseed, i, tk->rpermille, tk->rnodes, &re);
	e->t = re.t;
	e->in = re.in;
	e->node = re.node;
}

void
gen_tokens_free(struct gen_tokens *tk)
{
	free(tk->e);
	free(tk->in_idx);
	free(tk->all_in);
	free(tk->out_idx);
	free(tk->routed);
}

static int
routed(const struct gen_tokens *tk, uint16_t node)
{
	return tk->routed == NULL || tk->routed[node];
}

int
gen_load_entries(struct gen_tokens *tk, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	unsigned ln = 0;

	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", gen_prog, path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char hex[64], st[8];
		unsigned node;
		struct gen_entry e;
		char *c = strchr(line, '#');

		ln++;
		if (c != NULL)
			*c = '\0';
		if (sscanf(line, "%63s", hex) != 1)
			continue;
		if (sscanf(line, "%63s %7s %u", hex, st, &node) != 3 ||
		    or_chan_token_parse(hex, &e.t) != 0 || node > OR_NODE_MAX ||
		    (strcmp(st, "in") != 0 && strcmp(st, "out") != 0 &&
		     strcmp(st, "1") != 0 && strcmp(st, "2") != 0)) {
			fprintf(stderr, "%s: %s:%u: expected TOKENHEX in|out "
				"NODE [EPOCH]\n", gen_prog, path, ln);
			fclose(f);
			return -1;
		}
		e.in = strcmp(st, "in") == 0 || strcmp(st, "1") == 0;
		e.node = (uint16_t)node;
		if (tk->n == tk->alloc) {
			size_t na = tk->alloc ? tk->alloc * 2 : 1024;
			void *p = realloc(tk->e, na * sizeof(*tk->e));

			if (p == NULL) {
				fclose(f);
				return -1;
			}
			tk->e = p;
			tk->alloc = na;
		}
		tk->e[tk->n++] = e;
	}
	fclose(f);
	tk->in_idx = calloc(tk->n + 1, sizeof(size_t));
	tk->all_in = calloc(tk->n + 1, sizeof(size_t));
	tk->out_idx = calloc(tk->n + 1, sizeof(size_t));
	if (tk->in_idx == NULL || tk->all_in == NULL || tk->out_idx == NULL)
		return -1;
	for (size_t i = 0; i < tk->n; i++) {
		if (!tk->e[i].in) {
			tk->out_idx[tk->n_out++] = i;
			continue;
		}
		tk->all_in[tk->n_all_in++] = i;
		if (routed(tk, tk->e[i].node))
			tk->in_idx[tk->n_in++] = i;
	}
	return 0;
}

/* An opted-in entry; want_routed: 1 routed node, 0 unrouted, -1 any. */
int
gen_pick_in(const struct gen_tokens *tk, uint64_t *rng, int want_routed,
	struct gen_entry *out)
{
	if (!tk->random) {
		if (want_routed == 1) {
			if (tk->n_in == 0)
				return -1;
			*out = tk->e[tk->in_idx[or_rand_next(rng) % tk->n_in]];
			return 0;
		}
		for (unsigned tries = 0; tries < 100000 && tk->n_all_in; tries++) {
			*out = tk->e[tk->all_in[or_rand_next(rng) % tk->n_all_in]];
			if (want_routed < 0 || !routed(tk, out->node))
				return 0;
		}
		return -1;
	}
	for (unsigned tries = 0; tries < 100000; tries++) {
		random_entry(tk, or_rand_next(rng) % tk->rn, out);
		if (out->in && (want_routed < 0 ||
				routed(tk, out->node) == want_routed))
			return 0;
	}
	return -1;
}

/* A recipient that is not opted in: an OUT entry if there are any, else a
 * token that is in no table (drawn from another stream; a collision with
 * a real entry has probability ~n/2^128). */
void
gen_pick_not_in(const struct gen_tokens *tk, uint64_t *rng, struct gen_entry *out)
{
	if (!tk->random && tk->n_out > 0 && or_rand_next(rng) % 2 == 0) {
		*out = tk->e[tk->out_idx[or_rand_next(rng) % tk->n_out]];
		return;
	}
	if (tk->random && tk->rpermille > 0 && or_rand_next(rng) % 2 == 0) {
		for (unsigned tries = 0; tries < 100000; tries++) {
			random_entry(tk, or_rand_next(rng) % tk->rn, out);
			if (!out->in)
				return;
		}
	}
	uint64_t a = or_rand_next(rng) ^ 0x5555aaaa5555aaaaull;
	uint64_t b = or_rand_next(rng) ^ 0xa5a5a5a55a5a5a5aull;

	memcpy(out->t.b, &a, 8);
	memcpy(out->t.b + 8, &b, 8);
	out->in = 0;
	out->node = 0;
}
