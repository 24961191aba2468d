/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The dataplane's live auth epochs (protocol version 2,
 * include/optroute/auth.h): K_auth of at most two epochs, their AES key
 * schedules expanded once, in locked memory that is never dumped.
 *
 * Concurrency contract (RCU, liburcu QSBR):
 *  - One writer, the updater thread: or_keyring_install() on every
 *    AUTH_KEYS message. It builds a new keyring, publishes it with
 *    rcu_assign_pointer(), waits for a grace period and only then wipes and
 *    frees the old one. The channel's ACK follows that, so after an ACK no
 *    worker verifies with a key the message left out.
 *  - Readers, the workers: or_keyring_get() once per loop, between two
 *    quiescent states; the keyring it returns is immutable and valid until
 *    their next rcu_quiescent_state(). NULL: no key was ever installed
 *    (every version-2 MSG is then dropped, unknown_epoch).
 *  - Key bytes never leave this memory: not logged, not in telemetry or
 *    STATS (only epoch numbers are), wiped on replacement and at exit.
 */
#ifndef OR_AUTH_KEYRING_H
#define OR_AUTH_KEYRING_H

#include <stdint.h>

#include <urcu-qsbr.h>

#include "optroute/chan.h"
#include "auth_aes.h"

#define OR_KEYRING_MAX OR_CHAN_AUTH_MAX_EPOCHS

struct or_keyring {
	unsigned n;                             /* live epochs, 0..2 */
	uint8_t epoch[OR_KEYRING_MAX];          /* [0] current, [1] previous */
	struct or_aes128_rk rk[OR_KEYRING_MAX]; /* K_auth[epoch[i]] expanded */
#ifdef OR_AES128_X4
	/* Each round key of rk[i] in all four 128-bit lanes, for VAES. */
	__m512i rk4[OR_KEYRING_MAX][OR_AES128_ROUNDS + 1];
#endif
};

/* The published keyring; one per dataplane. */
struct or_auth_keys {
	struct or_keyring *live; /* RCU pointer: written by the updater */
	uint64_t installs;       /* updater only; read relaxed by telemetry */
	/* The live epochs for readers that are not RCU readers (telemetry,
	 * STATS): n | epoch[0] << 8 | epoch[1] << 16, stored by the updater. */
	uint32_t epochs_word;
};

/* Slot of epoch e in kr (0 or 1), or -1 if e is not live. */
static inline int
or_keyring_slot(const struct or_keyring *kr, uint8_t e)
{
	if (kr == NULL)
		return -1;
	if (kr->n > 0 && kr->epoch[0] == e)
		return 0;
	if (kr->n > 1 && kr->epoch[1] == e)
		return 1;
	return -1;
}

/* Workers. */
static inline const struct or_keyring *
or_keyring_get(struct or_auth_keys *a)
{
	return rcu_dereference(a->live);
}

/* Updater thread: validates m (version, count, distinct epochs; -EINVAL
 * with a message in err[errlen] that names no key byte), installs it and
 * waits for the grace period that retires the old keyring. 0 or -errno. */
int or_keyring_install(struct or_auth_keys *a,
		       const struct or_chan_auth_keys *m, char *err,
		       size_t errlen);

/* The live epochs, for telemetry and STATS (never the keys): returns how
 * many, epochs[0] the current one. Any thread. */
unsigned or_keyring_epochs(struct or_auth_keys *a,
			   uint8_t epochs[OR_KEYRING_MAX]);

/* At exit, after the workers stopped: wipes and frees. */
void or_keyring_destroy(struct or_auth_keys *a);

#endif
