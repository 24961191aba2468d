/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The local copy's overlay map (copy_map.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "copy_map.h"

#define MAP_MIN_CAP 1024u

static uint32_t
map_hash(const struct or_copy_map *m, const uint8_t *token)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t v;

	crypto_shorthash(h, token, OR_TOKEN_LEN, m->key);
	memcpy(&v, h, sizeof(v));
	return v;
}

/* The slot of token: its entry, or the free slot where it goes. */
static size_t
map_slot(const struct or_copy_map *m, const uint8_t *token, uint32_t h)
{
	size_t i = h & (m->cap - 1);

	while (m->slot[i].seq != 0 &&
	       (m->slot[i].hash != h ||
		memcmp(m->slot[i].token, token, OR_TOKEN_LEN) != 0))
		i = (i + 1) & (m->cap - 1);
	return i;
}

int
or_copy_map_init(struct or_copy_map *m)
{
	memset(m, 0, sizeof(*m));
	m->slot = calloc(MAP_MIN_CAP, sizeof(*m->slot));
	if (m->slot == NULL)
		return -ENOMEM;
	m->cap = MAP_MIN_CAP;
	crypto_shorthash_keygen(m->key);
	return 0;
}

void
or_copy_map_free(struct or_copy_map *m)
{
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

void
or_copy_map_clear(struct or_copy_map *m)
{
	memset(m->slot, 0, m->cap * sizeof(*m->slot));
	m->n = 0;
}

struct or_copy_ent *
or_copy_map_find(const struct or_copy_map *m,
		 const uint8_t token[OR_TOKEN_LEN])
{
	size_t i = map_slot(m, token, map_hash(m, token));

	return m->slot[i].seq != 0 ? &m->slot[i] : NULL;
}

static int
map_grow(struct or_copy_map *m)
{
	struct or_copy_ent *old = m->slot;
	size_t ocap = m->cap;

	m->slot = calloc(2 * ocap, sizeof(*m->slot));
	if (m->slot == NULL) {
		m->slot = old;
		return -ENOMEM;
	}
	m->cap = 2 * ocap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].seq != 0)
			m->slot[map_slot(m, old[i].token, old[i].hash)] = old[i];
	free(old);
	return 0;
}

struct or_copy_ent *
or_copy_map_put(struct or_copy_map *m, const uint8_t token[OR_TOKEN_LEN])
{
	uint32_t h = map_hash(m, token);
	size_t i = map_slot(m, token, h);

	if (m->slot[i].seq != 0)
		return &m->slot[i];
	if (2 * (m->n + 1) > m->cap) {
		if (map_grow(m) < 0)
			return NULL;
		i = map_slot(m, token, h);
	}
	memset(&m->slot[i], 0, sizeof(m->slot[i]));
	memcpy(m->slot[i].token, token, OR_TOKEN_LEN);
	m->slot[i].hash = h;
	/* A placeholder seq marks the slot used until the caller sets it. */
	m->slot[i].seq = UINT64_MAX;
	m->n++;
	return &m->slot[i];
}

void
or_copy_map_del(struct or_copy_map *m, struct or_copy_ent *e)
{
	size_t mask = m->cap - 1, i = (size_t)(e - m->slot), j = i;

	/* Backward shift: an entry further along the run moves into the
	 * hole unless its own slot lies cyclically in (hole, its place]. */
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (m->slot[j].seq == 0)
			break;
		home = m->slot[j].hash & mask;
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && home <= i && home > j)) {
			m->slot[i] = m->slot[j];
			i = j;
		}
	}
	memset(&m->slot[i], 0, sizeof(m->slot[i]));
	m->n--;
}
