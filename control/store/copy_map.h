/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The local copy's overlay (copy.h): token -> the newest state the log
 * holds for it. Open addressing with linear probing, keyed by SipHash of
 * the token (libsodium crypto_shorthash, a random key per map) so that
 * tokens an operator imports as raw hex cannot be chosen to collide;
 * deletion shifts the run back (no tombstones). Grows by doubling at half
 * full. Not thread-safe: the copy's mutex guards it.
 */
#ifndef OR_COPY_MAP_H
#define OR_COPY_MAP_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "optroute/consent.h"

#define OR_COPY_REC_LEN 40 /* OR_REC_VAL_LEN (store_priv.h) */

/* What the log says of a token. */
enum or_copy_kind {
	OR_COPY_REC = 0,    /* rec holds the record after */
	OR_COPY_ERASED = 1, /* no record after */
};

struct or_copy_ent {
	uint8_t token[OR_TOKEN_LEN];
	uint64_t seq;  /* the entry that left this state; 0: free slot */
	uint32_t hash; /* of the token, for the slot it belongs in */
	uint8_t kind;  /* enum or_copy_kind */
	uint8_t rec[OR_COPY_REC_LEN];
};

struct or_copy_map {
	struct or_copy_ent *slot;
	size_t cap; /* a power of two */
	size_t n;
	uint8_t key[crypto_shorthash_KEYBYTES];
};

/* 0 or -ENOMEM. */
int or_copy_map_init(struct or_copy_map *m);
void or_copy_map_free(struct or_copy_map *m);
void or_copy_map_clear(struct or_copy_map *m);

/* The token's entry, or NULL. */
struct or_copy_ent *or_copy_map_find(const struct or_copy_map *m,
				     const uint8_t token[OR_TOKEN_LEN]);

/* The token's entry, made if missing (the token set, seq UINT64_MAX until
 * the caller sets it); NULL when out of memory. Invalidates pointers to
 * other entries (it may grow). */
struct or_copy_ent *or_copy_map_put(struct or_copy_map *m,
				    const uint8_t token[OR_TOKEN_LEN]);

/* Removes e (a pointer into the map). Invalidates other pointers. */
void or_copy_map_del(struct or_copy_map *m, struct or_copy_ent *e);

#endif
