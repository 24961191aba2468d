/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The chan_client fuzz target's model (fz_chan_cmodel.h).
 */
#include <errno.h>
#include <string.h>

#include "fz_chan_cmodel.h"
#include "fz_util.h"

static void
cm_error(struct cmodel *m, int code, uint32_t index, uint64_t seq,
	 const char *text, size_t tlen)
{
	size_t l = strnlen(text, tlen);

	if (l >= sizeof(m->last.text))
		l = sizeof(m->last.text) - 1;
	m->last.code = code;
	m->last.index = index;
	m->last.seq = seq;
	memcpy(m->last.text, text, l);
	m->last.text[l] = '\0';
	m->n_err++;
	m->cb_calls++;
}

static void
cm_malformed(struct cmodel *m)
{
	/* The client's own text; only the code and ids are compared. */
	m->last.code = EBADMSG;
	m->last.index = OR_CHAN_NO_INDEX;
	m->last.seq = OR_CHAN_NO_SEQ;
	m->last.text[0] = '\0';
	m->n_err++;
	m->cb_calls++;
}

/* One message from the dataplane, as docs/channel.md has the client take
 * it. */
void
cm_msg(struct cmodel *m, const uint8_t *b, size_t len)
{
	struct or_chan_hdr h;

	if (len < sizeof(h)) {
		cm_malformed(m);
		return;
	}
	memcpy(&h, b, sizeof(h));
	if (h.len != len) {
		cm_malformed(m);
		return;
	}
	switch (h.type) {
	case OR_CHAN_ACK:
		if (len == sizeof(struct or_chan_ack)) {
			struct or_chan_ack a;

			memcpy(&a, b, sizeof(a));
			if (a.seq > m->acked)
				m->acked = a.seq;
			return;
		}
		break;
	case OR_CHAN_ERROR:
		if (len == sizeof(struct or_chan_error)) {
			struct or_chan_error e;
			int code;

			memcpy(&e, b, sizeof(e));
			code = e.code >= 1 && e.code <= MAX_ERRNO ? (int)e.code
								   : EPROTO;
			if (!m->hello_seen)
				m->hello_err = -code;
			cm_error(m, code, e.index, e.seq, e.text, sizeof(e.text));
			return;
		}
		break;
	case OR_CHAN_HELLO:
		if (len == sizeof(struct or_chan_hello)) {
			struct or_chan_hello hl;

			if (m->hello_seen)
				return;
			memcpy(&hl, b, sizeof(hl));
			m->peer = (struct or_chan_peer_info){
				.version = hl.version, .role = hl.role,
				.workers = hl.workers, .max_ops = hl.max_ops,
				.entries = hl.entries,
				.acked_seq = hl.acked_seq,
				.generation = hl.generation,
			};
			m->hello_seen = 1;
			return;
		}
		break;
	case OR_CHAN_STATS_REPLY:
		if (len >= sizeof(struct or_chan_stats_reply)) {
			struct or_chan_stats_reply r;

			memcpy(&r, b, sizeof(r));
			if (r.count > OR_CHAN_MAX_STATS ||
			    len != sizeof(r) + (size_t)r.count * 72) {
				cm_malformed(m);
				return;
			}
			if (!m->collecting || r.id != m->stats_id)
				return;
			for (uint32_t i = 0;
			     i < r.count && m->stats_n < m->stats_max; i++) {
				struct or_chan_stat *s = &m->stats[m->stats_n++];

				memcpy(s, b + sizeof(r) + (size_t)i * 72, 72);
				s->name[sizeof(s->name) - 1] = '\0';
			}
			if (r.last)
				m->stats_done = 1;
			return;
		}
		break;
	default:
		break;
	}
	cm_malformed(m);
}

/* The client reads everything the dataplane sent so far. Returns 1 if
 * it then sees the dataplane gone. */
int
cm_read_all(struct cmodel *m)
{
	for (unsigned i = 0; i < m->nq; i++)
		cm_msg(m, m->q[i].b, m->q[i].len);
	m->nq = 0;
	return m->closed;
}

