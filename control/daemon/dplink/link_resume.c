/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Resuming the dataplane (docs/channel.md "Resuming"): the dataplane
 * outlives a control plane restart with its table, and says in its HELLO
 * which store position that table is at (its mark, the last MARK it
 * kept). If the local store still has that position with the same chain
 * hash, only the records changed since are sent, as BATCH ops; otherwise
 * (no mark, another chain, a copy that folded past it, too many changes)
 * a full resync, as before. After what is queued is sent, a MARK tells
 * the dataplane the position its table will be at.
 *
 * Ordering: as a full resync's (link_table.c). The queue is dropped and
 * opened before the store is read at snap_seq; the changes read are the
 * records at snap_seq, and queued items up to it are skipped.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "control/daemon/cp_log.h"

#include "link_priv.h"

static int
cp_link_resume_chunk(void *arg, const struct or_store_entry *e, unsigned n)
{
	struct cp_link *p = arg;
	uint64_t last;
	int rc;

	for (unsigned i = 0; i < n; i++)
		or_chan_op_set(&p->ops[i],
			       e[i].rec != 0 ? OR_CHAN_OP_UPSERT
					     : OR_CHAN_OP_DELETE,
			       &e[i].token, e[i].rec);
	rc = or_chan_send_batch(p->c, p->ops, n, &last);
	if (rc == 0) {
		p->resume_last = last;
		INFO_ADD(p, batches, 1);
		INFO_ADD(p, ops, n);
		INFO_ADD(p, resume_entries, n);
	} else {
		p->resume_rc = rc; /* the connection, not the store */
	}
	return rc;
}

int
cp_link_resume(struct cp_link *p)
{
	const struct or_chan_peer_info *peer = or_chan_peer(p->c);
	struct or_err err = { "" };
	uint64_t snap = 0;
	int rc;

	if (peer->mark_seq == 0 || peer->generation == 0) {
		CP_INFO("dataplane: its table has no mark; sending a full "
			"resync");
		return cp_link_resync(p);
	}
	cp_link_open_queue(p);
	INFO_SET(p, resume_entries, 0);
	p->resume_rc = 0;
	p->resume_last = 0;
	rc = or_sor_changes_since(p->conf.sor, peer->mark_seq, peer->mark_hash,
				  CP_LINK_RESUME_MAX, p->ents, p->max_ops,
				  cp_link_resume_chunk, p, &snap, &err);
	if (p->resume_rc != 0)
		return p->resume_rc;
	if (rc != 0) {
		/* Whatever was sent holds records of snap_seq or later:
		 * the resync overwrites it with the same or newer. */
		CP_NOTICE("dataplane: cannot resume from its mark at store "
			  "seq %" PRIu64 " (%s); sending a full resync",
			  peer->mark_seq,
			  err.msg[0] != '\0' ? err.msg : strerror(-rc));
		return cp_link_resync(p);
	}
	p->snap_seq = snap;
	p->table_seq = snap;
	INFO_SET(p, generation, peer->generation);
	INFO_ADD(p, resumes, 1);
	/* Enforced once the last op is acked; with none, what the
	 * dataplane acked before this connection already holds snap. */
	rc = cp_link_map_add(p, p->resume_last != 0 ? p->resume_last
						    : peer->acked_seq,
			     snap);
	CP_NOTICE("dataplane resumed from its mark at store seq %" PRIu64
		  ": %" PRIu64 " changes since, up to seq %" PRIu64
		  " (no full resync)",
		  peer->mark_seq, INFO_GET(p, resume_entries), snap);
	return rc; /* the caller marks table_seq, as after a resync */
}

int
cp_link_mark(struct cp_link *p)
{
	uint8_t hash[OR_AUDIT_HASH_LEN];
	struct or_err err = { "" };
	int rc;

	if (p->table_seq == 0 || p->table_seq == p->marked_seq)
		return 0;
	/* A copy may have folded the entry away meanwhile: no mark this
	 * time, the next send marks a later seq. */
	if (or_sor_hash_at(p->conf.sor, p->table_seq, hash, &err) < 0)
		return 0;
	rc = or_chan_send_mark(p->c, p->table_seq, hash);
	if (rc < 0)
		return rc;
	p->marked_seq = p->table_seq;
	INFO_ADD(p, marks, 1);
	return 0;
}
