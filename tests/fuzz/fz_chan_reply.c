/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The "chan_server" fuzz target's check of one reply the real updater sent
 * against the one its model expected (fz_chan_model.h): type, length, and
 * every field docs/channel.md defines for an ERROR, HELLO, ACK and
 * STATS_REPLY, and no token or key of the message in an ERROR's text.
 */
#include <inttypes.h>
#include <string.h>
#include <sys/types.h>

#include "optroute/chan.h"
#include "fz_chan_model.h"
#include "fz_util.h"

static void
check_stats(const struct expect *e, const uint8_t *b, size_t n)
{
	struct or_chan_stats_reply r;
	const struct or_chan_stat *st;
	unsigned seen = 0;

	FZ_CHECK(n >= sizeof(r), "short STATS_REPLY");
	memcpy(&r, b, sizeof(r));
	FZ_CHECK(r.count <= OR_CHAN_MAX_STATS &&
			 n == sizeof(r) + (size_t)r.count * sizeof(*st),
		 "STATS_REPLY of %zu bytes, count %u", n, r.count);
	FZ_CHECK(r.id == e->id, "stats id %" PRIu64 ", want %" PRIu64, r.id,
		 e->id);
	FZ_CHECK(r.last == 1, "one reply message, last = %u", r.last);
	st = (const struct or_chan_stat *)(b + sizeof(r));
	for (uint32_t i = 0; i < r.count; i++) {
		char name[OR_CHAN_STAT_NAME_LEN];
		uint64_t v = st[i].value, want;
		size_t l = strnlen(st[i].name, sizeof(name));

		FZ_CHECK(l < sizeof(name), "stat name without NUL");
		memcpy(name, st[i].name, l + 1);
		for (size_t j = 0; j < l; j++)
			FZ_CHECK((name[j] >= 'a' && name[j] <= 'z') ||
					 (name[j] >= '0' && name[j] <= '9') ||
					 name[j] == '_' || name[j] == '.',
				 "stat name '%s'", name);
#define S(nm, val, cond)                                                     \
	if (strcmp(name, nm) == 0 && (cond)) {                               \
		want = (val);                                                \
		FZ_CHECK(v == want, "%s = %" PRIu64 ", want %" PRIu64, name, \
			 v, want);                                           \
		seen++;                                                      \
	}
		S("table.entries", e->entries, 1);
		S("chan.connected", 1, 1);
		S("chan.last_seq", e->last_seq, 1);
		S("chan.acked_seq", e->acked, 1);
		S("chan.generation", e->generation, 1);
		S("chan.errors", e->errors, 1);
		S("chan.stats_requests", e->stats_req, 1);
		S("chan.auth_keys", e->auth_keys, 1);
		S("dp.clears", e->clears, 1);
#undef S
	}
	FZ_CHECK(seen == 9, "%u of the checked counters in the reply", seen);
}

void
fzm_check_reply(const struct expect *e, const uint8_t *b, ssize_t n,
		unsigned workers)
{
	struct or_chan_hdr h;

	FZ_CHECK(n >= (ssize_t)sizeof(h), "reply of %zd bytes", n);
	memcpy(&h, b, sizeof(h));
	FZ_CHECK(h.len == n, "reply len field %u, datagram %zd", h.len, n);
	FZ_CHECK(h.type == e->type, "reply type %u, want %u (code %u)", h.type,
		 e->type,
		 h.type == OR_CHAN_ERROR ? ((const struct or_chan_error *)b)->code
					 : 0);
	switch (h.type) {
	case OR_CHAN_ERROR: {
		struct or_chan_error er;

		FZ_CHECK(n == sizeof(er), "ERROR size");
		memcpy(&er, b, sizeof(er));
		FZ_CHECK(er.code == e->code && er.seq == e->seq &&
				 er.index == e->index,
			 "ERROR %u seq %" PRIu64 " index %u (%.96s), want %u "
			 "seq %" PRIu64 " index %u",
			 er.code, er.seq, er.index, er.text, e->code, e->seq,
			 e->index);
		FZ_CHECK(memchr(er.text, 0, sizeof(er.text)) != NULL,
			 "ERROR text without NUL");
		for (unsigned i = 0; i < e->nforbid; i++)
			FZ_CHECK(strstr(er.text, e->forbid[i]) == NULL,
				 "ERROR text holds a token or key: %s", er.text);
		break;
	}
	case OR_CHAN_HELLO: {
		struct or_chan_hello hl;

		FZ_CHECK(n == sizeof(hl), "HELLO size");
		memcpy(&hl, b, sizeof(hl));
		FZ_CHECK(hl.version == OR_CHAN_VERSION &&
				 hl.role == OR_CHAN_ROLE_DATAPLANE &&
				 hl.workers == workers &&
				 hl.max_ops == OR_CHAN_MAX_OPS,
			 "HELLO constants");
		FZ_CHECK(hl.mark_seq == e->mark, "HELLO mark %" PRIu64
			 ", want %" PRIu64, hl.mark_seq, e->mark);
		FZ_CHECK(hl.entries == e->entries && hl.acked_seq == e->acked &&
				 hl.generation == e->generation,
			 "HELLO entries %" PRIu64 " acked %" PRIu64
			 " generation %" PRIu64 ", want %" PRIu64 " %" PRIu64
			 " %" PRIu64,
			 hl.entries, hl.acked_seq, hl.generation, e->entries,
			 e->acked, e->generation);
		break;
	}
	case OR_CHAN_ACK: {
		struct or_chan_ack a;

		FZ_CHECK(n == sizeof(a), "ACK size");
		memcpy(&a, b, sizeof(a));
		FZ_CHECK(a.seq == e->seq && a.entries == e->entries &&
				 a.generation == e->generation,
			 "ACK %" PRIu64 " entries %" PRIu64 " gen %" PRIu64
			 ", want %" PRIu64 " %" PRIu64 " %" PRIu64,
			 a.seq, a.entries, a.generation, e->seq, e->entries,
			 e->generation);
		break;
	}
	case OR_CHAN_STATS_REPLY:
		check_stats(e, b, (size_t)n);
		break;
	default:
		FZ_CHECK(0, "unexpected reply type %u", h.type);
	}
}
