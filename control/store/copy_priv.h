/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Internal to the local copy (copy.c, copy_fold.c): its state and the
 * log's value format.
 */
#ifndef OR_COPY_PRIV_H
#define OR_COPY_PRIV_H

#include <pthread.h>
#include <stdint.h>

#include <lmdb.h>

#include "copy.h"
#include "copy_map.h"
#include "store_priv.h"

/* log.mdb value (key: seq, big-endian): prev_hash[32] hash[32]
 * token[16] kind u8 (enum or_copy_log_kind) state[40]: the record after
 * (REC), the auth state after (AUTH: or_auth_encode's 16 bytes, then
 * zeros), zeros otherwise. */
#define OR_COPY_LOG_VAL_LEN (2 * OR_AUDIT_HASH_LEN + OR_TOKEN_LEN + 1 + \
			     OR_COPY_REC_LEN)

enum or_copy_log_kind {
	OR_COPY_LOG_REC = OR_COPY_REC,       /* a record after */
	OR_COPY_LOG_ERASED = OR_COPY_ERASED, /* none after */
	OR_COPY_LOG_SAME = 2,                /* a key: record unchanged */
	OR_COPY_LOG_AUTH = 3,                /* rotate, retire */
};

/* A rollback of the overlay, one per entry of a batch that fails. */
struct or_copy_undo {
	struct or_copy_ent old; /* seq 0: the token was not there */
	uint8_t token[OR_TOKEN_LEN];
	uint8_t used;           /* the entry changed the overlay */
};

struct or_copy {
	struct or_store *rec; /* data.mdb: the records, folded up to F */
	MDB_env *log_env;     /* log.mdb */
	MDB_dbi log_db;

	pthread_mutex_t mu;
	pthread_cond_t cv;    /* the fold moved F, or stop */
	/* Under mu: */
	struct or_copy_map map; /* the overlay */
	uint64_t head_seq;      /* the position */
	uint8_t head_hash[OR_AUDIT_HASH_LEN];
	uint64_t folded;        /* F */
	uint64_t n_in, n_out;   /* records at the position */
	struct or_auth_state auth; /* auth state at the position */
	uint64_t last_ms;       /* CLOCK_MONOTONIC ms of the last batch */
	struct or_copy_stats st;
	int stop, started;

	pthread_t fold;
	struct or_copy_undo *undo; /* follow's, grown as needed */
	unsigned undo_cap;
};

/* Trims the log up to seq (inclusive), in transactions of bounded size. */
int or_copy_log_trim(struct or_copy *c, uint64_t seq, struct or_err *err);

/* The fold thread. */
void *or_copy_fold_main(void *arg);

#endif
