/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The fleet's positions as JSON and the --wait=fleet decision
 * (cp_fleet.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cp_act_priv.h"
#include "cp_fleet.h"

json_t *
cp_fleet_wait_json(const struct or_sor_fleet *f, uint64_t seq, int *done)
{
	json_t *o = json_object(), *enf = json_array(), *lag = json_array();

	*done = 1;
	for (unsigned i = 0; i < f->n; i++) {
		const struct or_sor_member *m = &f->m[i];

		if (m->self || (m->live && m->enforced >= seq)) {
			json_array_append_new(enf, json_string(m->name));
			continue;
		}
		if (m->live)
			*done = 0;
		json_array_append_new(
			lag, json_pack("{s:s, s:I, s:I}", "appliance", m->name,
				       "enforced_seq", (json_int_t)m->enforced,
				       "silent_ms",
				       m->silent_ms == UINT64_MAX
					       ? (json_int_t)-1
					       : (json_int_t)m->silent_ms));
	}
	json_object_set_new(o, "enforced", enf);
	json_object_set_new(o, "lagging", lag);
	return o;
}

void
cp_fleet_lagging_text(const struct or_sor_fleet *f, uint64_t seq, char *buf,
		      size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < f->n && o + 1 < len; i++) {
		const struct or_sor_member *m = &f->m[i];
		int w;

		if (m->self || (m->live && m->enforced >= seq))
			continue;
		if (!m->live && m->silent_ms == UINT64_MAX)
			w = snprintf(buf + o, len - o, "%s%s (never reported)",
				     o ? ", " : "", m->name);
		else if (!m->live)
			w = snprintf(buf + o, len - o,
				     "%s%s (silent for %" PRIu64 " s)",
				     o ? ", " : "", m->name,
				     m->silent_ms / 1000);
		else
			w = snprintf(buf + o, len - o,
				     "%s%s (at seq %" PRIu64 ")", o ? ", " : "",
				     m->name, m->enforced);
		if (w < 0)
			break;
		o += (size_t)w < len - o ? (size_t)w : len - o - 1;
	}
}

int
cp_fleet_keys_acked(const struct or_sor_fleet *f, uint64_t seq)
{
	if (!f->fleet)
		return 1;
	if (!f->connected)
		return 0;
	for (unsigned i = 0; i < f->n; i++)
		if (!f->m[i].self && f->m[i].live && f->m[i].keys_acked < seq)
			return 0;
	return 1;
}

json_t *
cp_fleet_json(const struct or_sor_fleet *f)
{
	json_t *o, *list;

	if (!f->fleet)
		return NULL;
	o = json_object();
	list = json_array();
	json_object_set_new(o, "store", json_string(OR_SOR_BACKEND_PG));
	json_object_set_new(o, "connected", json_boolean(f->connected));
	json_object_set_new(o, "head_seq", json_integer((json_int_t)f->head));
	json_object_set_new(o, "resyncs", json_integer((json_int_t)f->resyncs));
	/* The timeline guard (docs/fleet.md section 7). */
	json_object_set_new(o, "timeline", json_integer((json_int_t)f->timeline));
	json_object_set_new(o, "stale_primary_refusals",
			    json_integer((json_int_t)f->stale_refusals));
	/* The local copy's log and fold (docs/fleet.md section 6). */
	json_object_set_new(o, "local_unfolded",
			    json_integer((json_int_t)f->copy.unfolded));
	json_object_set_new(o, "folds", json_integer((json_int_t)f->copy.folds));
	json_object_set_new(o, "fold_failures",
			    json_integer((json_int_t)f->copy.fold_failures));
	json_object_set_new(o, "fold_last_ms",
			    json_integer((json_int_t)(f->copy.fold_us_last /
						      1000)));
	json_object_set_new(o, "positions_age_ms",
			    f->age_ms == UINT64_MAX
				    ? json_null()
				    : json_integer((json_int_t)f->age_ms));
	for (unsigned i = 0; i < f->n; i++) {
		const struct or_sor_member *m = &f->m[i];

		json_array_append_new(
			list,
			json_pack("{s:s, s:i, s:b, s:s, s:I, s:I, s:I, s:I, s:o}",
				  "name", m->name, "id", (int)m->id, "self",
				  m->self, "state", m->live ? "live" : "silent",
				  "applied_seq", (json_int_t)m->applied,
				  "enforced_seq", (json_int_t)m->enforced,
				  "keys_acked_seq", (json_int_t)m->keys_acked,
				  "lag",
				  (json_int_t)(f->head > m->enforced
						       ? f->head - m->enforced
						       : 0),
				  "report_age_ms",
				  m->silent_ms == UINT64_MAX
					  ? json_null()
					  : json_integer(
						    (json_int_t)m->silent_ms)));
	}
	json_object_set_new(o, "appliances", list);
	return o;
}

/* fleet --forget NAME: one action behind the CLI and the API. */
static enum cp_act_next
cp_act_forget(struct cp_act *a, const char *name)
{
	struct or_err err = { "" };
	int rc = or_sor_forget(a->d->sor, name, &err);

	if (rc == -ENOENT || rc == -EOPNOTSUPP)
		CP_ERR_RET(a, BAD_REQUEST, "%s", err.msg);
	if (rc == -EBUSY)
		CP_ERR_RET(a, CONFLICT, "%s", err.msg);
	if (rc < 0)
		CP_ERR_RET(a, STORE, "%s", err.msg);
	json_object_set_new(a->reply, "forgotten", json_string(name));
	return CP_NEXT_REPLY;
}

enum cp_act_next
cp_act_fleet(struct cp_act *a, struct cp_req *r)
{
	struct or_sor_fleet f;
	json_t *o;

	if (r->forget != NULL)
		return cp_act_forget(a, r->forget);
	or_sor_fleet(a->d->sor, &f);
	o = cp_fleet_json(&f);
	if (o == NULL) {
		json_object_set_new(a->reply, "store",
				    json_string(OR_SOR_BACKEND_LMDB));
		json_object_set_new(a->reply, "appliances", json_array());
		return CP_NEXT_REPLY;
	}
	json_object_update(a->reply, o);
	json_decref(o);
	return CP_NEXT_REPLY;
}
