/* SPDX-License-Identifier: BSD-3-Clause
 *
 * One management connection: a non-blocking Unix stream socket with an
 * input buffer cut into lines and an output buffer of reply lines.
 *
 * The input buffer may hold plain numbers: every byte of it is wiped as soon
 * as its line has been handled, when it moves, and when the client goes.
 * A line longer than OR_MGMT_MAX_LINE is not buffered further: its bytes
 * are wiped and the connection is to be closed (its end cannot be found).
 *
 * Memory per connection is bounded: the input buffer by OR_MGMT_MAX_LINE + 1,
 * the output queue by CP_CLIENT_OUT_HIGH plus one reply: once that much is
 * queued, no further line is handled and nothing more is read ("held")
 * until the peer has read its replies below the mark. Time too: a call
 * handles at most a few reads and a few dozen lines; lines left over are
 * held for the next loop round.
 *
 * Everything here belongs to the event loop thread (loop/, cmd/).
 */
#ifndef CP_CLIENT_H
#define CP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

struct cp_client {
	struct cp_client *next, *prev;
	int fd;
	uid_t uid;
	pid_t pid;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_off, out_len, out_cap; /* unsent bytes: [out_off, out_len) */
	uint64_t last_ms;    /* last byte received, reply queued or sent */
	uint64_t active_ms;  /* accepted, last well-formed request, or a reply
			      * byte taken by the peer: what a connection
			      * that only trickles bytes does not refresh */
	uint64_t partial_ms; /* when the unfinished line began; 0 = none */
	uint64_t closing_ms; /* when closing was set */
	uint64_t sent_total; /* reply bytes the socket took, ever */
	uint64_t sent_seen;  /* sent_total when the loop last looked */
	unsigned npend;      /* requests of this client not answered yet */
	unsigned ncommit;    /* of which in the group, not committed yet */
	unsigned bad_run;    /* malformed requests in a row */
	int served;          /* has sent a well-formed request */
	int readonly;        /* let in by readonly_gid only: runs the
			      * commands OR_MGMT_CMDS marks RO */
	int held;            /* complete lines wait: for the output to drain,
			      * or for the next loop round (fairness) */
	int eof;             /* the peer shut down its side */
	int closing;         /* close once the output is sent */
	int dead;            /* closed; freed at the end of the loop round */
	uint32_t events;     /* epoll events registered */
};

/* Output above which the client's requests are not read any more until
 * it reads its replies (backpressure). */
#define CP_CLIENT_OUT_HIGH (4u << 20)

/* 1 if no more requests are to be handled until the peer reads. */
static inline int
cp_client_out_full(const struct cp_client *cl)
{
	return cl->out_len - cl->out_off >= CP_CLIENT_OUT_HIGH;
}

typedef void (*cp_line_fn)(void *arg, struct cp_client *cl, char *line,
			   size_t len);

struct cp_client *cp_client_new(int fd, uid_t uid, pid_t pid, uint64_t now);

/* Hands held lines first (unless the output is still full), then reads
 * what is available and calls fn for every complete line, newline
 * excluded, both bounded per call for fairness (lines left over are held);
 * at end of input an unterminated last line counts as a line. Reads
 * nothing while lines are held.
 * 0, 1 (more may be readable), -EMSGSIZE (line too long: input dropped) or
 * -errno (connection error). */
int cp_client_read(struct cp_client *cl, uint64_t now, cp_line_fn fn,
		   void *arg);

/* Appends the reply as one JSON line and steals the reference. 0 or
 * -ENOMEM. */
int cp_client_queue(struct cp_client *cl, json_t *reply, uint64_t now);

/* Writes what the socket takes. 0 or -errno (connection error). */
int cp_client_flush(struct cp_client *cl);

/* Closes the socket, wipes the input and frees. */
void cp_client_free(struct cp_client *cl);

#endif
