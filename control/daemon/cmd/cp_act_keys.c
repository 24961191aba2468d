/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The sender key commands (cp_act.h; docs/control.md, "Sender keys"):
 * the key of an optin with "pubkey", rekey, keys, rotate and retire.
 * K_sender exists only inside or_keys_seal_sender_key(): replies carry it
 * sealed to the phone's key, the audit trail that it was issued and its
 * epoch, logs nothing of it.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <sodium.h>

#include "control/daemon/cp_log.h"

#include "cp_act_priv.h"
#include "cp_fleet.h"

/* d->auth as the store has it now: in a fleet the follower applies
 * rotations and retirements of the record (and of a migrated history)
 * behind the event loop's back (docs/fleet.md section 6). */
static void
cp_auth_refresh(struct cp_daemon *d)
{
	struct or_auth_state st;

	if (or_sor_auth_get(d->sor, &st, NULL) == 0)
		d->auth = st;
}

/* The epoch keys are issued of: the current one once the dataplane has
 * acked a key set holding it (in a fleet: every live appliance's
 * dataplane), so that no phone holds a key a dataplane cannot check;
 * until then the previous one, live beside it. Without a previous epoch
 * (fresh store, or retired) the current one: a retired epoch never. */
static uint8_t
cp_keys_issuing(const struct cp_daemon *d, const struct cp_link_info *pi)
{
	const struct or_auth_state *st = &d->auth;
	struct or_sor_fleet f;

	if (!st->has_previous)
		return st->current;
	if (!pi->keys_acked || pi->keys_acked_seq < st->seq)
		return st->previous;
	or_sor_fleet(d->sor, &f);
	return cp_fleet_keys_acked(&f, st->seq) ? st->current : st->previous;
}

enum or_mgmt_err
cp_keys_pubkey(struct cp_act *a, const struct cp_req *r,
	       uint8_t pk[OR_SEAL_PK_LEN])
{
	size_t len;

	if (or_base64_decode(json_string_value(r->pubkey),
			     json_string_length(r->pubkey), pk, OR_SEAL_PK_LEN,
			     &len) == 0 &&
	    len == OR_SEAL_PK_LEN)
		return OR_MGMT_OK;
	snprintf(a->msg, sizeof(a->msg),
		 "field 'pubkey' must be base64 of a 32-byte X25519 public key");
	return OR_MGMT_E_BAD_REQUEST;
}

enum or_mgmt_err
cp_keys_issue(struct cp_act *a, const struct cp_req *r,
	      const struct or_token *t, uint8_t method,
	      const uint8_t pk[OR_SEAL_PK_LEN], struct or_change *c)
{
	uint8_t sealed[OR_SEALED_KEY_LEN];
	char b64[OR_SEALED_KEY_B64_BUFSZ];
	struct cp_link_info pi;
	uint8_t e;
	int rc;

	cp_auth_refresh(a->d);
	cp_link_info(a->d->link, &pi);
	e = cp_keys_issuing(a->d, &pi);
	rc = or_keys_seal_sender_key(a->d->keys, e, t, pk, sealed);
	if (rc == -EINVAL) {
		snprintf(a->msg, sizeof(a->msg),
			 "field 'pubkey' is not a usable X25519 public key");
		return OR_MGMT_E_BAD_REQUEST;
	}
	if (rc < 0) {
		snprintf(a->msg, sizeof(a->msg), "sealing the sender key failed");
		return OR_MGMT_E_INTERNAL;
	}
	sodium_bin2base64(b64, sizeof(b64), sealed, sizeof(sealed),
			  sodium_base64_VARIANT_ORIGINAL);
	/* Handed out only if the change that audits it commits (else
	 * cp_act_not_committed() takes it out). */
	cp_set_token(a->reply, "token", t);
	cp_set_u64(a->reply, "key_epoch", e);
	json_object_set_new(a->reply, "sealed_key", json_string(b64));
	cp_change_init(a, r, OR_ACT_KEY, method, c);
	c->token = *t;
	c->epoch = e;
	return OR_MGMT_OK;
}

void
cp_act_not_committed(json_t *reply)
{
	json_object_del(reply, "sealed_key");
	json_object_del(reply, "key_epoch");
}

enum cp_act_next
cp_act_rekey(struct cp_act *a, struct cp_req *r)
{
	uint8_t pk[OR_SEAL_PK_LEN], method;
	struct or_consent c;
	struct or_token t;
	int rc;

	a->err = cp_change_subject(a, r, &t, &method, pk);
	if (a->err != OR_MGMT_OK)
		return CP_NEXT_REPLY;
	/* The server committed the group first: this is the latest state,
	 * and or_store_apply() checks it again inside the transaction. */
	rc = or_sor_get(a->d->sor, &t, &c);
	if (rc < 0 && rc != -ENOENT)
		CP_ERR_RET(a, STORE, "store read failed: %s", strerror(-rc));
	if (rc == -ENOENT || c.state != OR_STATE_IN) {
		cp_set_token(a->reply, "token", &t);
		CP_ERR_RET(a, NOT_OPTED_IN,
			   "the subject is not opted in (%s); a sender key is "
			   "issued only with or after an opt-in",
			   rc == -ENOENT ? "no record" : "opted out");
	}
	a->err = cp_keys_issue(a, r, &t, method, pk, &a->ch[0]);
	if (a->err != OR_MGMT_OK)
		return CP_NEXT_REPLY;
	a->n = 1;
	return CP_NEXT_PEND;
}

static const char *
cp_keys_state_name(const struct cp_link_info *pi)
{
	if (!pi->connected)
		return "disconnected";
	switch (pi->keys_state) {
	case CP_KEYS_PENDING:
		return "pending";
	case CP_KEYS_ACKED:
		return "acked";
	case CP_KEYS_REFUSED:
		return "refused";
	default:
		return "not_sent";
	}
}

static void
cp_set_epoch(json_t *o, const char *key, int live, uint8_t epoch)
{
	json_object_set_new(o, key, live ? json_integer(epoch) : json_null());
}

enum cp_act_next
cp_act_keys(struct cp_act *a, struct cp_req *r)
{
	const struct or_auth_state *st = &a->d->auth;
	struct cp_link_info pi;

	(void)r;
	cp_auth_refresh(a->d);
	cp_link_info(a->d->link, &pi);
	cp_set_u64(a->reply, "current", st->current);
	cp_set_epoch(a->reply, "previous", st->has_previous, st->previous);
	cp_set_u64(a->reply, "issuing", cp_keys_issuing(a->d, &pi));
	cp_set_u64(a->reply, "seq", st->seq);
	/* Whether every worker verifies with exactly this set now. */
	json_object_set_new(a->reply, "enforced",
			    json_boolean(pi.connected &&
					 pi.keys_state == CP_KEYS_ACKED &&
					 pi.keys_seq == st->seq));
	json_object_set_new(a->reply, "dataplane",
			    json_string(cp_keys_state_name(&pi)));
	if (pi.connected && pi.keys_state == CP_KEYS_REFUSED)
		json_object_set_new(a->reply, "refusal",
				    json_string(strerror((int)pi.keys_error)));
	return CP_NEXT_REPLY;
}

enum cp_act_next
cp_act_epoch(struct cp_act *a, struct cp_req *r)
{
	struct cp_daemon *d = a->d;
	int rotate = r->cmd == OR_MGMT_CMD_ROTATE;
	uint8_t retired = d->auth.previous;
	struct or_err err = { "" };
	struct or_auth_state st;
	int rc;

	/* Committed, then its seq (it changes no entry) and the new key set
	 * go to the channel thread through the store's sink. */
	rc = rotate ? or_sor_auth_rotate(d->sor, &st, &err)
		    : or_sor_auth_retire(d->sor, &st, &err);
	if (rc == -EBUSY || rc == -ENOENT)
		CP_ERR_RET(a, CONFLICT, "%s", err.msg);
	if (rc < 0)
		CP_ERR_RET(a, STORE, "%s", err.msg);
	d->auth = st;
	d->committed_seq = st.seq;
	if (rotate) {
		d->cnt.rotations++;
		CP_NOTICE("auth epoch %u started (store seq %" PRIu64
			  "); epoch %u stays live until retired",
			  st.current, st.seq, st.previous);
	} else {
		d->cnt.retirements++;
		CP_NOTICE("auth epoch %u retired (store seq %" PRIu64
			  "); epoch %u is the only live one",
			  retired, st.seq, st.current);
		cp_set_u64(a->reply, "retired", retired);
	}
	cp_set_u64(a->reply, "current", st.current);
	cp_set_epoch(a->reply, "previous", st.has_previous, st.previous);
	cp_set_u64(a->reply, "seq", st.seq);
	a->keys_seq = st.seq;
	return CP_NEXT_PEND;
}

int
cp_act_keys_settled(struct cp_daemon *d, json_t *reply, uint64_t seq,
		    int timed_out)
{
	struct cp_link_info pi;
	char warn[256] = "";

	cp_link_info(d->link, &pi);
	if (pi.keys_acked && pi.keys_acked_seq >= seq) {
		/* Enforced: a set at least as new is what every worker has. */
	} else if (pi.connected && pi.keys_state == CP_KEYS_REFUSED &&
		   pi.keys_seq >= seq) {
		snprintf(warn, sizeof(warn),
			 "not enforced by the dataplane: it refused the key "
			 "set (%s)",
			 strerror((int)pi.keys_error));
	} else if (!timed_out) {
		return 0;
	} else if (!pi.connected) {
		snprintf(warn, sizeof(warn),
			 "not yet enforced by the dataplane: none is connected "
			 "to %s (the key set is sent when one connects)",
			 d->cfg->chan_socket);
	} else {
		snprintf(warn, sizeof(warn),
			 "not yet enforced by the dataplane: no ack within %u ms",
			 d->cfg->wait_timeout_ms);
	}
	json_object_set_new(reply, "enforced", json_boolean(warn[0] == '\0'));
	cp_set_u64(reply, "issuing", cp_keys_issuing(d, &pi));
	if (warn[0] != '\0')
		json_object_set_new(reply, "warning", json_string(warn));
	return 1;
}
