/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Internal to the system of record (sor.h): what a backend provides. A
 * backend's handle starts with struct or_sor; sor.c dispatches every
 * or_sor_* call to its ops. The backends: sor_lmdb.c ("lmdb") and
 * pg/sor_pg.c ("postgresql"), listed in sor_backends[] in sor.c.
 */
#ifndef OR_SOR_PRIV_H
#define OR_SOR_PRIV_H

#include "sor.h"

struct or_sor_ops {
	const char *name;
	int (*open)(const struct or_sor_conf *conf, struct or_sor **out,
		    struct or_err *err);
	int (*start)(struct or_sor *s); /* NULL: nothing to start */
	void (*stop)(struct or_sor *s);  /* NULL: nothing to stop */
	void (*close)(struct or_sor *s);
	int (*commit_submit)(struct or_sor *s, struct or_sor_group *g);
	struct or_sor_group *(*commit_take)(struct or_sor *s);
	int (*get)(struct or_sor *s, const struct or_token *t,
		   struct or_consent *out);
	int (*snapshot)(struct or_sor *s, struct or_store_entry *buf,
			unsigned cap, or_store_chunk_cb cb, void *arg,
			uint64_t *snap_seq, struct or_err *err);
	int (*hash_at)(struct or_sor *s, uint64_t seq,
		       uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err);
	int (*changes_since)(struct or_sor *s, uint64_t seq,
			     const uint8_t hash[OR_AUDIT_HASH_LEN],
			     uint64_t max, struct or_store_entry *buf,
			     unsigned cap, or_store_chunk_cb cb, void *arg,
			     uint64_t *snap_seq, struct or_err *err);
	int (*auth_get)(struct or_sor *s, struct or_auth_state *st,
			struct or_err *err);
	int (*stats)(struct or_sor *s, struct or_store_stats *st,
		     struct or_err *err);
	/* rotate: 1 to rotate, 0 to retire. */
	int (*auth_change)(struct or_sor *s, int rotate,
			   struct or_auth_state *st, struct or_err *err);
	int (*audit_subject)(struct or_sor *s, const struct or_token *t,
			     struct or_audit_entry **out, size_t *n,
			     uint64_t *bad_seq, struct or_err *err);
	int (*audit_verify)(struct or_sor *s, const volatile int *cancel,
			    uint64_t *bad_seq, uint64_t *n_checked,
			    struct or_err *err);
	int (*audit_head)(struct or_sor *s, uint64_t *seq,
			  uint8_t hash[OR_AUDIT_HASH_LEN], struct or_err *err);
	/* NULL: not a fleet (nothing to report, no positions; reads are the
	 * record itself, and stand at the trail's head). */
	int (*read_pos)(struct or_sor *s, struct or_sor_read_pos *rp,
			struct or_err *err);
	void (*enforced)(struct or_sor *s, uint64_t seq, uint64_t keys_seq);
	void (*fleet)(struct or_sor *s, struct or_sor_fleet *f);
	int (*forget)(struct or_sor *s, const char *name, struct or_err *err);
};

/* The start of every backend's handle; set by the backend's open. */
struct or_sor {
	const struct or_sor_ops *ops;
	struct or_sor_sink sink;
	int commit_fd; /* -1: groups complete in place */
};

extern const struct or_sor_ops or_sor_lmdb_ops;
extern const struct or_sor_ops or_sor_pg_ops;

#endif
