/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Installing and retiring the live auth epochs (auth_keyring.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "auth_keyring.h"
#include "optroute/wipe.h"

/* A keyring is one or two pages of its own, locked (never swapped) and left
 * out of core dumps; mlock may fail under a low RLIMIT_MEMLOCK, which is
 * reported by or_keyring_install's caller through the log, not fatal. */
static size_t
keyring_bytes(void)
{
	size_t page = 4096;

	return (sizeof(struct or_keyring) + page - 1) / page * page;
}

static struct or_keyring *
keyring_alloc(void)
{
	void *p = mmap(NULL, keyring_bytes(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	(void)mlock(p, keyring_bytes());
	(void)madvise(p, keyring_bytes(), MADV_DONTDUMP);
	return p;
}

static void
keyring_free(struct or_keyring *kr)
{
	if (kr == NULL)
		return;
	explicit_bzero(kr, keyring_bytes());
	munlock(kr, keyring_bytes());
	munmap(kr, keyring_bytes());
}

static int
keyring_check(const struct or_chan_auth_keys *m, char *err, size_t errlen)
{
	if (m->version != OR_CHAN_AUTH_KEYS_VERSION) {
		snprintf(err, errlen, "AUTH_KEYS version %u not supported (%u)",
			 m->version, OR_CHAN_AUTH_KEYS_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (m->count > OR_KEYRING_MAX) {
		snprintf(err, errlen, "AUTH_KEYS with %u epochs (at most %u)",
			 m->count, OR_KEYRING_MAX);
		return -EINVAL;
	}
	if (m->count == 2 && m->keys[0].epoch == m->keys[1].epoch) {
		snprintf(err, errlen, "AUTH_KEYS names epoch %u twice",
			 m->keys[0].epoch);
		return -EINVAL;
	}
	return 0;
}

int
or_keyring_install(struct or_auth_keys *a, const struct or_chan_auth_keys *m,
		   char *err, size_t errlen)
{
	struct or_keyring *kr, *old;
	int rc = keyring_check(m, err, errlen);

	if (rc < 0)
		return rc;
	kr = keyring_alloc();
	if (kr == NULL) {
		snprintf(err, errlen, "no memory for the auth keys");
		return -ENOMEM;
	}
	kr->n = m->count;
	for (unsigned i = 0; i < m->count; i++) {
		kr->epoch[i] = m->keys[i].epoch;
		or_aes128_expand(m->keys[i].key, &kr->rk[i]);
#ifdef OR_AES128_X4
		for (unsigned r = 0; r <= OR_AES128_ROUNDS; r++)
			kr->rk4[i][r] = _mm512_broadcast_i32x4(kr->rk[i].k[r]);
#endif
	}
	/* The round keys went through vector registers: zero them before
	 * the calls below, whose lazy binding or signal frames would copy
	 * them onto this thread's stack (optroute/wipe.h). */
	or_wipe_vregs();
	old = a->live;
	rcu_assign_pointer(a->live, kr);
	/* No worker may still verify with a key the message dropped once
	 * this returns: the old ring is wiped only after a grace period. */
	synchronize_rcu();
	keyring_free(old);
	__atomic_store_n(&a->epochs_word,
			 kr->n | (uint32_t)kr->epoch[0] << 8 |
				 (uint32_t)kr->epoch[1] << 16,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&a->installs, a->installs + 1, __ATOMIC_RELAXED);
	return 0;
}

unsigned
or_keyring_epochs(struct or_auth_keys *a, uint8_t epochs[OR_KEYRING_MAX])
{
	uint32_t w = __atomic_load_n(&a->epochs_word, __ATOMIC_RELAXED);

	epochs[0] = (uint8_t)(w >> 8);
	epochs[1] = (uint8_t)(w >> 16);
	return w & 0xff;
}

void
or_keyring_destroy(struct or_auth_keys *a)
{
	keyring_free(a->live);
	a->live = NULL;
	a->epochs_word = 0;
}
