/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The "chan_server" fuzz target's model of the dataplane's update channel,
 * written from docs/channel.md alone (not from dataplane/chan/): for every
 * message the client sends, the reply it must get (ERROR code, seq and op
 * index; HELLO fields; STATS_REPLY) and its effect on the live table, the
 * table a resync builds and the auth epochs. chan_server.c drives the real
 * updater and compares it with this model after every wakeup.
 */
#ifndef FZ_CHAN_MODEL_H
#define FZ_CHAN_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "optroute/consent.h"

#define TSLOTS 16384     /* slots of a model table (open addressing) */
#define MAX_EXPECT 256   /* replies of one wakeup */

/* token -> record, open addressing with tombstones (0 free, 1 used,
 * 2 deleted): a model table of thousands of tokens stays fast. */
struct tmap {
	unsigned n, filled;
	uint8_t used[TSLOTS];
	struct or_token tok[TSLOTS];
	uint32_t rec[TSLOTS];
};

struct expect {
	uint16_t type;      /* OR_CHAN_ERROR, _HELLO, _STATS_REPLY, _ACK */
	uint32_t code;      /* ERROR */
	uint32_t index;     /* ERROR */
	uint64_t seq;       /* ERROR, ACK */
	uint64_t id;        /* STATS_REPLY */
	uint64_t entries, acked, generation, last_seq, errors, stats_req;
	uint64_t auth_keys, clears;
	uint64_t mark;      /* HELLO */
	int check_entries;
	/* ERROR: texts must not hold these (hex of tokens and keys). */
	unsigned nforbid;
	char forbid[4][33];
};

struct model {
	/* connection */
	int alive, hello_done, closing, resyncing, need_sync;
	uint64_t conn_seq, resync_gen;
	/* dataplane */
	uint64_t acked_seq, generation, last_seq, errors, stats_req;
	uint64_t auth_installs, clears;
	/* the table's mark (MARK): its store seq, 0 none; tainted: an ERROR
	 * since the last completed resync */
	uint64_t mark;
	int tainted;
	struct tmap live, next;
	unsigned kn;
	uint8_t kep[2], kkey[2][16];
	/* every token ever named, to check absent ones too */
	struct tmap seen;
	/* this wakeup */
	unsigned nexp;
	struct expect exp[MAX_EXPECT];
};

/* The reply expected next; NULL (and a finding) when a wakeup expects
 * more than MAX_EXPECT. */
struct expect *fzm_expect(struct model *m, uint16_t type);

/* What the message msg[0..len) does to the model, and the replies it
 * expects: a HELLO, BATCH, RESYNC_*, AUTH_KEYS, STATS_REQUEST, MARK or
 * garbage. */
void fzm_model_msg(struct model *m, const uint8_t *msg, size_t len);

/* The record the model holds for k, 0 if none. */
uint32_t fzm_tmap_get(const struct tmap *t, const struct or_token *k);

/* Checks the reply b[0..n) the updater sent against e, the one the model
 * expected (fz_chan_reply.c); a mismatch is a finding. workers: what the
 * updater was configured with, as its HELLO must say. */
void fzm_check_reply(const struct expect *e, const uint8_t *b, ssize_t n,
		     unsigned workers);

#endif /* FZ_CHAN_MODEL_H */
