/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The live auth epochs' keys sent to the dataplane (AUTH_KEYS) and where
 * that set stands (cp_link.h, "Auth keys"). The keys are wiped once sent.
 */
#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "control/daemon/cp_log.h"

#include "link_priv.h"

void
cp_link_keys_changed(struct cp_link *p)
{
	pthread_mutex_lock(&p->mu);
	p->keys_dirty = 1;
	pthread_mutex_unlock(&p->mu);
	cp_link_wake(p);
}

/* The thread moves the auth key set to state; the keys_* fields change
 * together under mu, so that cp_link_info() never pairs one set's state
 * with another's seq. */
void
cp_link_keys_update(struct cp_link *p, uint64_t state, uint64_t seq,
		    uint64_t error)
{
	pthread_mutex_lock(&p->mu);
	INFO_SET(p, keys_state, state);
	INFO_SET(p, keys_seq, seq);
	INFO_SET(p, keys_error, error);
	switch (state) {
	case CP_KEYS_PENDING:
		INFO_ADD(p, keys_sent, 1);
		break;
	case CP_KEYS_REFUSED:
		INFO_ADD(p, keys_refused, 1);
		break;
	case CP_KEYS_ACKED:
		if (!INFO_GET(p, keys_acked) || seq > INFO_GET(p, keys_acked_seq))
			INFO_SET(p, keys_acked_seq, seq);
		INFO_SET(p, keys_acked, 1);
		break;
	}
	pthread_mutex_unlock(&p->mu);
}

/* Sends the live auth epochs' keys, as the store has them now. 0 or
 * -errno (connection lost). */
int
cp_link_send_keys(struct cp_link *p)
{
	struct or_chan_auth_key k[OR_CHAN_AUTH_MAX_EPOCHS];
	struct or_err err = { "" };
	struct or_auth_state st;
	uint64_t seq;
	unsigned n = 0;
	int rc;

	pthread_mutex_lock(&p->mu);
	p->keys_dirty = 0; /* before the read: a later change sets it again */
	pthread_mutex_unlock(&p->mu);
	if (p->conf.keys == NULL)
		return 0;
	rc = or_sor_auth_get(p->conf.sor, &st, &err);
	if (rc < 0) {
		CP_ERR("auth keys not sent to the dataplane: %s", err.msg);
		return 0;
	}
	memset(k, 0, sizeof(k));
	k[n].epoch = st.current;
	memcpy(k[n++].key, or_keys_auth(p->conf.keys, st.current)->b,
	       OR_CHAN_AUTH_KEY_LEN);
	if (st.has_previous) {
		k[n].epoch = st.previous;
		memcpy(k[n++].key, or_keys_auth(p->conf.keys, st.previous)->b,
		       OR_CHAN_AUTH_KEY_LEN);
	}
	rc = or_chan_send_auth_keys(p->c, k, n, &seq);
	sodium_memzero(k, sizeof(k));
	if (rc < 0)
		return rc;
	p->keys_chan_seq = seq;
	cp_link_keys_update(p, CP_KEYS_PENDING, st.seq, 0);
	if (st.has_previous)
		CP_INFO("dataplane: auth key set of store seq %" PRIu64
			" sent (current epoch %u, previous epoch %u)",
			st.seq, st.current, st.previous);
	else
		CP_INFO("dataplane: auth key set of store seq %" PRIu64
			" sent (current epoch %u)",
			st.seq, st.current);
	return 0;
}
