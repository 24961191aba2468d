/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The "chan_client" fuzz target's model of what the control plane's
 * channel client must make of the fake dataplane's messages, written from
 * docs/channel.md alone: the HELLO it must accept or refuse, the errors it
 * must record (and report through its callback), the STATS_REPLY parts it
 * must collect. chan_client.c compares the real client with it.
 */
#ifndef FZ_CHAN_CMODEL_H
#define FZ_CHAN_CMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "optroute/chan.h"
#include "optroute/chan_client.h"

#define MAX_ERRNO 4095   /* the largest error code an errno can be */
#define MAX_DP_MSG 512   /* largest message the fake dataplane sends */

struct cmodel {
	int hello_seen, hello_err;
	struct or_chan_peer_info peer;
	uint64_t acked;
	uint64_t next_seq, sent_seq;
	/* recorded errors since the last take */
	unsigned n_err;
	struct or_chan_err_info last;
	/* callback errors seen, to compare with the recorded ones */
	unsigned cb_calls;
	/* stats being collected */
	int collecting, stats_done;
	uint64_t stats_id;
	unsigned stats_max, stats_n;
	struct or_chan_stat stats[64];
	int closed;    /* the fake dataplane closed */
	int connected; /* or_chan_connect returned 0 */
	/* messages sent by the fake dataplane, not read by the client yet */
	unsigned nq;
	struct {
		size_t len;
		uint8_t b[MAX_DP_MSG];
	} q[64];
};

/* What the client must make of the message b[0..len) it is about to read. */
void cm_msg(struct cmodel *m, const uint8_t *b, size_t len);

/* The client read every queued message: apply them all to the model.
 * Returns 1 if the fake dataplane has closed, else 0. */
int cm_read_all(struct cmodel *m);

#endif /* FZ_CHAN_CMODEL_H */
