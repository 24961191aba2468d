/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The management commands; see cp_act.h. Replies never contain a plain
 * number: subjects are answered with their token.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "control/daemon/cp_log.h"
#include "control/daemon/loop/cp_json.h"
#include "control/lib/token.h"
#include "control/store/audit.h"

#include "cp_act.h"
#include "cp_act_priv.h"
#include "cp_fleet.h"
#include "cp_stats_json.h"

/* Per-line errors listed in one import reply; the rest are only counted. */
#define CP_IMPORT_MAX_ERRORS 256

static const char *
cp_state_name(unsigned state)
{
	switch (state) {
	case OR_STATE_IN:
		return "in";
	case OR_STATE_OUT:
		return "out";
	default:
		return "none";
	}
}

void
cp_set_token(json_t *o, const char *key, const struct or_token *t)
{
	char hex[OR_TOKEN_HEX_BUFSZ];

	or_token_to_hex(t, hex);
	json_object_set_new(o, key, json_string(hex));
}

void
cp_set_u64(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

/* Subject of a request -> token. The plain number is wiped in place by
 * or_token_from_number() whatever the outcome. */
enum or_mgmt_err
cp_subject_token(struct cp_act *a, struct cp_req *r, struct or_token *t)
{
	const struct cp_cfg *cfg = a->d->cfg;
	char *s = (char *)json_string_value(r->subject);
	size_t len = json_string_length(r->subject);
	struct or_err err = { "" };

	switch (r->subj) {
	case CP_SUBJ_NUMBER:
		if (or_token_from_number(a->d->keys, (uint8_t)cfg->key_epoch,
					 s, len, t, &err) == 0)
			return OR_MGMT_OK;
		snprintf(a->msg, sizeof(a->msg), "%s", err.msg);
		return OR_MGMT_E_INVALID_NUMBER;
	case CP_SUBJ_SEALED:
		if (or_token_from_sealed_b64(a->d->keys,
					     (uint8_t)cfg->key_epoch, s, len, t,
					     &err) == 0)
			return OR_MGMT_OK;
		snprintf(a->msg, sizeof(a->msg), "%s", err.msg);
		return OR_MGMT_E_INVALID_SEALED;
	case CP_SUBJ_TOKEN:
		if (or_token_from_hex(s, len, t, &err) == 0)
			return OR_MGMT_OK;
		snprintf(a->msg, sizeof(a->msg), "token: %s", err.msg);
		return OR_MGMT_E_INVALID_TOKEN;
	default:
		snprintf(a->msg, sizeof(a->msg), "no subject");
		return OR_MGMT_E_BAD_REQUEST;
	}
}

/* Method of collection: the request's, else one that fits the subject. */
enum or_mgmt_err
cp_method(struct cp_act *a, const struct cp_req *r, uint8_t *m)
{
	if (r->method != NULL) {
		if (or_method_parse(r->method, m) == 0)
			return OR_MGMT_OK;
		snprintf(a->msg, sizeof(a->msg),
			 "unknown method (expected app, sealed, provisioning, "
			 "import or operator)");
		return OR_MGMT_E_BAD_REQUEST;
	}
	if (r->cmd == OR_MGMT_CMD_IMPORT)
		*m = OR_METHOD_IMPORT;
	else if (r->subj == CP_SUBJ_SEALED)
		*m = OR_METHOD_SEALED;
	else
		*m = OR_METHOD_OPERATOR;
	return OR_MGMT_OK;
}

void
cp_change_init(struct cp_act *a, const struct cp_req *r, uint8_t action,
	       uint8_t method, struct or_change *c)
{
	memset(c, 0, sizeof(*c));
	c->action = action;
	c->method = method;
	c->epoch = (uint8_t)a->d->cfg->key_epoch;
	c->node = action == OR_ACT_OPTIN ? r->node : -1;
	c->notice_version = r->notice >= 0 ? (uint32_t)r->notice
					   : a->d->cfg->notice_version;
}

unsigned
cp_act_room(const struct cp_req *req)
{
	const struct or_mgmt_cmd_info *i = or_mgmt_cmd_info(req->cmd);

	switch (i != NULL ? i->changes : OR_MGMT_CH_NONE) {
	case OR_MGMT_CH_ONE:
		return 1;
	case OR_MGMT_CH_ONE_KEY:
		return req->pubkey != NULL ? 2 : 1; /* + the key issued */
	case OR_MGMT_CH_LINES:
		return (unsigned)json_array_size(req->lines);
	default:
		return 0;
	}
}

/* ---------------------------------------------------------- changes -- */

/* optin, optout and erase: one change; an optin with a pubkey also issues
 * a sender key (a second change, audited only). */
enum or_mgmt_err
cp_change_subject(struct cp_act *a, struct cp_req *r, struct or_token *t,
		  uint8_t *method, uint8_t pk[OR_SEAL_PK_LEN])
{
	enum or_mgmt_err e = OR_MGMT_OK;

	if (r->pubkey != NULL)
		e = cp_keys_pubkey(a, r, pk);
	if (e == OR_MGMT_OK)
		e = cp_subject_token(a, r, t);
	if (e == OR_MGMT_OK)
		e = cp_method(a, r, method);
	return e;
}

enum cp_act_next
cp_act_change(struct cp_act *a, struct cp_req *r)
{
	struct or_change *c = &a->ch[0];
	uint8_t method, pk[OR_SEAL_PK_LEN];
	struct or_token t;

	a->err = cp_change_subject(a, r, &t, &method, pk);
	if (a->err != OR_MGMT_OK)
		return CP_NEXT_REPLY;
	if (r->pubkey != NULL) {
		a->err = cp_keys_issue(a, r, &t, method, pk, &a->ch[1]);
		if (a->err != OR_MGMT_OK)
			return CP_NEXT_REPLY;
		a->n = 1;
	}
	cp_change_init(a, r,
		       r->cmd == OR_MGMT_CMD_OPTIN    ? OR_ACT_OPTIN
		       : r->cmd == OR_MGMT_CMD_OPTOUT ? OR_ACT_OPTOUT
						      : OR_ACT_ERASE,
		       method, c);
	c->token = t;
	a->n++;
	return CP_NEXT_PEND;
}

/* Whitespace around an import line is not part of it. */
static void
cp_trim(const char **s, size_t *len)
{
	while (*len > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' ||
			    (*s)[*len - 1] == '\r' || (*s)[*len - 1] == '\n'))
		(*len)--;
}

enum cp_act_next
cp_act_import(struct cp_act *a, struct cp_req *r)
{
	json_t *errors = json_array();
	uint64_t skipped = 0, bad = 0;
	uint8_t method;
	size_t i;

	a->err = cp_method(a, r, &method);
	if (a->err != OR_MGMT_OK) {
		json_decref(errors);
		return CP_NEXT_REPLY;
	}
	for (i = 0; i < json_array_size(r->lines); i++) {
		json_t *line = json_array_get(r->lines, i);
		char *raw = (char *)json_string_value(line);
		const char *s = raw;
		size_t len = json_string_length(line);
		struct or_err err = { "" };
		struct or_change *c = &a->ch[a->n];
		int rc;

		cp_trim(&s, &len);
		if (len == 0 || s[0] == '#') {
			skipped++;
			cp_json_wipe_string(line);
			continue;
		}
		cp_change_init(a, r, r->optin ? OR_ACT_OPTIN : OR_ACT_OPTOUT,
			       method, c);
		/* 32 hex digits are a token; anything else must be a
		 * number (or_token_from_number says what is wrong). */
		rc = len == OR_TOKEN_HEX_LEN
			     ? or_token_from_hex(s, len, &c->token, NULL)
			     : -EINVAL;
		if (rc < 0)
			/* Wipes s[0..len); the trimmed blanks hold nothing. */
			rc = or_token_from_number(a->d->keys, c->epoch,
						  (char *)s, len, &c->token,
						  &err);
		cp_json_wipe_string(line);
		if (rc == 0) {
			a->n++;
			continue;
		}
		bad++;
		if (json_array_size(errors) < CP_IMPORT_MAX_ERRORS)
			json_array_append_new(
				errors,
				json_pack("{s:I,s:s,s:s}", "line",
					  (json_int_t)(r->first_line + i),
					  "code",
					  or_mgmt_err_code(
						  OR_MGMT_E_INVALID_NUMBER),
					  "message", err.msg));
	}
	a->d->cnt.import_requests++;
	a->d->cnt.import_lines += json_array_size(r->lines);
	a->d->cnt.import_errors += bad;
	cp_set_u64(a->reply, "lines", json_array_size(r->lines));
	cp_set_u64(a->reply, "changes", a->n);
	cp_set_u64(a->reply, "skipped", skipped);
	cp_set_u64(a->reply, "invalid", bad);
	json_object_set_new(a->reply, "errors", errors);
	if (bad > CP_IMPORT_MAX_ERRORS)
		cp_set_u64(a->reply, "errors_not_listed",
			   bad - CP_IMPORT_MAX_ERRORS);
	return a->n > 0 ? CP_NEXT_PEND : CP_NEXT_REPLY;
}

void
cp_act_committed(struct cp_daemon *d, enum or_mgmt_cmd cmd, json_t *reply,
		 const struct or_change *ch, const struct or_change_result *res,
		 unsigned n, uint64_t first_seq)
{
	for (unsigned i = 0; i < n; i++) {
		if (ch[i].action == OR_ACT_OPTIN)
			d->cnt.optins++;
		else if (ch[i].action == OR_ACT_OPTOUT)
			d->cnt.optouts++;
		else if (ch[i].action == OR_ACT_KEY)
			d->cnt.keys_issued++;
		else
			d->cnt.erases++;
	}
	if (cmd == OR_MGMT_CMD_IMPORT) {
		cp_set_u64(reply, "first_seq", first_seq);
		cp_set_u64(reply, "seq", first_seq + n - 1);
		return;
	}
	cp_set_token(reply, "token", &ch[0].token);
	if (cmd == OR_MGMT_CMD_REKEY) {
		cp_set_u64(reply, "seq", first_seq);
		return;
	}
	json_object_set_new(reply, "state",
			    json_string(cp_state_name(or_rec_state(res[0].rec))));
	json_object_set_new(reply, "previous",
			    json_string(cp_state_name(
				    or_rec_state(res[0].prev_rec))));
	cp_set_u64(reply, "node", or_rec_node(res[0].rec));
	json_object_set_new(reply, "pinned",
			    json_boolean(or_rec_flags(res[0].rec) &
					 OR_CFLAG_PINNED));
	cp_set_u64(reply, "epoch", ch[0].epoch);
	cp_set_u64(reply, "seq", first_seq);
}

/* ------------------------------------------------------------ reads -- */

enum or_mgmt_err
cp_act_status_fill(struct cp_daemon *d, json_t *reply,
		   const struct or_token *t, const struct or_sor_read_pos *rp,
		   char *msg, size_t msglen)
{
	struct cp_link_info pi;
	struct or_consent c;
	int rc;

	cp_set_token(reply, "token", t);
	/* Where the reads stood before this one: the answer holds every
	 * change up to as_of_seq (and perhaps later ones). */
	cp_set_u64(reply, "as_of_seq", rp->seq);
	if (rp->fleet)
		json_object_set_new(reply, "fleet",
				    json_string(rp->connected ? "connected"
							      : "unreachable"));
	rc = or_sor_get(d->sor, t, &c);
	if (rc == -ENOENT) {
		json_object_set_new(reply, "state", json_string("none"));
		return OR_MGMT_OK;
	}
	if (rc < 0) {
		snprintf(msg, msglen, "store read failed: %s", strerror(-rc));
		return OR_MGMT_E_STORE;
	}
	cp_link_info(d->link, &pi);
	json_object_set_new(reply, "state", json_string(cp_state_name(c.state)));
	cp_set_u64(reply, "node", c.node);
	json_object_set_new(reply, "pinned",
			    json_boolean(c.flags & OR_CFLAG_PINNED));
	cp_set_u64(reply, "epoch", c.epoch);
	json_object_set_new(reply, "method",
			    json_string(or_method_name(c.method) != NULL
						? or_method_name(c.method)
						: "unknown"));
	cp_set_u64(reply, "notice", c.notice_version);
	cp_set_u64(reply, "granted_ms", c.granted_ms);
	cp_set_u64(reply, "withdrawn_ms", c.withdrawn_ms);
	cp_set_u64(reply, "seq", c.seq);
	/* Whether the dataplane already decides on this record. */
	json_object_set_new(reply, "applied",
			    json_boolean(pi.acked_seq >= c.seq));
	return OR_MGMT_OK;
}

enum or_mgmt_err
cp_act_read_pos(struct cp_daemon *d, struct or_sor_read_pos *rp, char *msg,
		size_t msglen)
{
	struct or_err err = { 0 };

	if (or_sor_read_pos(d->sor, rp, &err) == 0)
		return OR_MGMT_OK;
	snprintf(msg, msglen, "store read failed: %s", err.msg);
	return OR_MGMT_E_STORE;
}

/* With "after_seq" beyond where reads stand, the reply waits for them
 * (done SEQ: cp_check_pending); else it is answered now. */
enum cp_act_next
cp_act_status(struct cp_act *a, struct cp_req *r)
{
	struct or_sor_read_pos rp;
	struct or_token t;

	a->err = cp_subject_token(a, r, &t);
	if (a->err != OR_MGMT_OK)
		return CP_NEXT_REPLY;
	a->err = cp_act_read_pos(a->d, &rp, a->msg, sizeof(a->msg));
	if (a->err != OR_MGMT_OK)
		return CP_NEXT_REPLY;
	if (r->after_seq > rp.seq) {
		a->token = t;
		a->after_seq = r->after_seq;
		return CP_NEXT_PEND;
	}
	a->err = cp_act_status_fill(a->d, a->reply, &t, &rp, a->msg,
				    sizeof(a->msg));
	return CP_NEXT_REPLY;
}

static void
cp_hash_hex(const uint8_t *h, char out[2 * OR_AUDIT_HASH_LEN + 1])
{
	for (int i = 0; i < OR_AUDIT_HASH_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

enum or_mgmt_err
cp_act_audit_verified(json_t *reply, const struct cp_job_result *r, char *msg,
		      size_t msglen)
{
	char hex[2 * OR_AUDIT_HASH_LEN + 1];

	cp_set_u64(reply, "verify_ms", r->ms);
	if (r->rc == -EBADMSG) {
		cp_set_u64(reply, "bad_seq", r->bad_seq);
		snprintf(msg, msglen, "audit chain broken: %s", r->msg);
		return OR_MGMT_E_AUDIT_BROKEN;
	}
	if (r->rc == -ECANCELED) {
		snprintf(msg, msglen, "audit verification stopped: %s", r->msg);
		return OR_MGMT_E_SHUTTING_DOWN;
	}
	if (r->rc < 0) {
		snprintf(msg, msglen, "audit verify failed: %s", r->msg);
		return OR_MGMT_E_STORE;
	}
	cp_hash_hex(r->head, hex);
	json_object_set_new(reply, "verified", json_true());
	cp_set_u64(reply, "entries", r->entries);
	cp_set_u64(reply, "head_seq", r->head_seq);
	json_object_set_new(reply, "head_hash", json_string(hex));
	return OR_MGMT_OK;
}

enum cp_act_next
cp_act_audit(struct cp_act *a, struct cp_req *r)
{
	struct or_audit_entry *e = NULL;
	struct or_err err = { "" };
	struct or_token t;
	uint64_t bad = 0;
	size_t n = 0;
	json_t *hist;
	int rc;

	if (r->subj == CP_SUBJ_NONE)
		return CP_NEXT_PEND; /* the whole chain: cp_job.h */
	a->err = cp_subject_token(a, r, &t);
	if (a->err != OR_MGMT_OK)
		return CP_NEXT_REPLY;
	cp_set_token(a->reply, "token", &t);
	rc = or_sor_audit_subject(a->d->sor, &t, &e, &n, &bad, &err);
	if (rc == -EBADMSG) {
		cp_set_u64(a->reply, "bad_seq", bad);
		CP_ERR_RET(a, AUDIT_BROKEN, "audit chain broken: %s", err.msg);
	}
	if (rc < 0)
		CP_ERR_RET(a, STORE, "audit read failed: %s", err.msg);
	hist = json_array();
	for (size_t i = 0; i < n; i++) {
		char hex[2 * OR_AUDIT_HASH_LEN + 1];
		const char *act = or_action_name(e[i].action);
		const char *meth = or_method_name(e[i].method);

		cp_hash_hex(e[i].hash, hex);
		json_array_append_new(
			hist,
			json_pack("{s:I,s:I,s:s,s:s,s:i,s:i,s:b,s:I,s:s}",
				  "seq", (json_int_t)e[i].seq, "time_ms",
				  (json_int_t)e[i].time_ms, "action",
				  act != NULL ? act : "unknown", "method",
				  meth != NULL ? meth : "unknown", "node",
				  (int)e[i].node, "epoch", (int)e[i].epoch,
				  "pinned",
				  (int)(e[i].flags & OR_CFLAG_PINNED) != 0,
				  "notice", (json_int_t)e[i].notice_version,
				  "hash", hex));
	}
	free(e);
	json_object_set_new(a->reply, "verified", json_true());
	json_object_set_new(a->reply, "entries", hist);
	return CP_NEXT_REPLY;
}

/* The link to the dataplane: OR_LINK_STATS (include/optroute/
 * link_stats.h), for "dataplane" and stats.channel. */
static json_t *
cp_link_json(const struct cp_daemon *d)
{
	struct cp_link_info pi;
	struct cp_link_stats l;

	cp_link_info(d->link, &pi);
	cp_stats_link_of(&pi, d->committed_seq, &l);
	return cp_stats_link_json(&l, d->cfg->chan_socket);
}

enum cp_act_next
cp_act_dataplane(struct cp_act *a, struct cp_req *r)
{
	json_t *o = cp_link_json(a->d);

	(void)r;
	json_object_update(a->reply, o);
	json_decref(o);
	return CP_NEXT_REPLY;
}

enum cp_act_next
cp_act_stats(struct cp_act *a, struct cp_req *r)
{
	struct cp_gauges g = {
		.clients_connected = a->d->clients,
		.pending = a->d->pending,
		.uptime_s = (cp_now_ms() - a->d->start_ms) / 1000,
	};
	struct or_store_stats ss;
	struct or_err err = { "" };
	struct cp_link_info pi;

	/* Sections from the lists of include/optroute/cp_stats.h. */
	json_object_set_new(a->reply, "control",
			    cp_stats_control_json(&a->d->cnt, &g));
	if (or_sor_stats(a->d->sor, &ss, &err) == 0) {
		json_object_set_new(a->reply, "store",
				    cp_stats_store_json(&ss.figures));
	} else {
		CP_WARN("stats: store: %s", err.msg);
	}
	json_object_set_new(a->reply, "channel", cp_link_json(a->d));
	{
		struct or_sor_fleet f;
		json_t *fo;

		or_sor_fleet(a->d->sor, &f);
		fo = cp_fleet_json(&f);
		if (fo != NULL)
			json_object_set_new(a->reply, "fleet", fo);
	}
	if (r->clear) {
		memset(&a->d->cnt, 0, sizeof(a->d->cnt));
		json_object_set_new(a->reply, "cleared", json_true());
	}
	cp_link_info(a->d->link, &pi);
	if (!pi.connected) {
		json_object_set_new(a->reply, "dataplane", json_null());
		return CP_NEXT_REPLY;
	}
	return CP_NEXT_PEND;
}

enum cp_act_next
cp_act_table(struct cp_act *a, struct cp_req *r)
{
	struct cp_link_info pi;

	(void)r;
	cp_link_info(a->d->link, &pi);
	if (!pi.connected)
		CP_ERR_RET(a, DATAPLANE_UNAVAILABLE,
			   "no dataplane connected to %s",
			   a->d->cfg->chan_socket);
	return CP_NEXT_PEND;
}

enum or_mgmt_err
cp_act_dp_stats(struct cp_daemon *d, enum or_mgmt_cmd cmd, json_t *reply,
		int rc, const struct or_chan_stat *st, unsigned n, char *msg,
		size_t msglen)
{
	json_t *o = json_object();
	char name[OR_CHAN_STAT_NAME_LEN];

	(void)d;
	if (rc < 0) {
		json_decref(o);
		if (cmd == OR_MGMT_CMD_STATS) {
			/* Control-plane counters are still worth having. */
			json_object_set_new(reply, "dataplane", json_null());
			return OR_MGMT_OK;
		}
		snprintf(msg, msglen, "dataplane did not answer: %s",
			 strerror(-rc));
		return rc == -ENOTCONN ? OR_MGMT_E_DATAPLANE_UNAVAILABLE
				       : OR_MGMT_E_TIMEOUT;
	}
	for (unsigned i = 0; i < n; i++) {
		size_t l = strnlen(st[i].name, sizeof(st[i].name));

		memcpy(name, st[i].name, l);
		name[l < sizeof(name) ? l : sizeof(name) - 1] = '\0';
		if (cmd == OR_MGMT_CMD_TABLE) {
			if (strncmp(name, "table.", 6) != 0)
				continue;
			cp_set_u64(o, name + 6, st[i].value);
		} else {
			cp_set_u64(o, name, st[i].value);
		}
	}
	if (cmd == OR_MGMT_CMD_TABLE) {
		json_t *e = json_object_get(o, "entries");
		json_t *c = json_object_get(o, "capacity");

		/* Load in per mille of the slots, as the table reports it. */
		if (json_is_integer(e) && json_is_integer(c) &&
		    json_integer_value(c) > 0)
			json_object_set_new(
				o, "load",
				json_real((double)json_integer_value(e) /
					  (double)json_integer_value(c)));
		json_object_update(reply, o);
		json_decref(o);
	} else {
		json_object_set_new(reply, "dataplane", o);
	}
	return OR_MGMT_OK;
}

/* -------------------------------------------------------------- misc -- */

enum cp_act_next
cp_act_pubkey(struct cp_act *a, struct cp_req *r)
{
	char hex[OR_PK_HEX_BUFSZ], b64[OR_PK_B64_BUFSZ];

	(void)r;
	or_keys_pubkey_hex(a->d->keys, hex);
	or_keys_pubkey_b64(a->d->keys, b64);
	json_object_set_new(a->reply, "hex", json_string(hex));
	json_object_set_new(a->reply, "base64", json_string(b64));
	json_object_set_new(a->reply, "algorithm",
			    json_string("crypto_box_seal (X25519, XSalsa20-"
					"Poly1305)"));
	cp_set_u64(a->reply, "epoch", a->d->cfg->key_epoch);
	return CP_NEXT_REPLY;
}

enum cp_act_next
cp_act_help(struct cp_act *a, struct cp_req *r)
{
	json_t *cmds = json_object(), *ro = json_array();

	(void)r;
	for (unsigned c = OR_MGMT_CMD_NONE + 1; c < OR_MGMT_CMD_COUNT; c++) {
		json_object_set_new(cmds, or_mgmt_cmd_name(c),
				    json_string(or_mgmt_cmd_help(c)));
		if (or_mgmt_cmd_info(c)->readonly)
			json_array_append_new(ro,
					      json_string(or_mgmt_cmd_name(c)));
	}
	json_object_set_new(a->reply, "commands", cmds);
	/* What a read-only client (readonly_gid) may run. */
	json_object_set_new(a->reply, "readonly_commands", ro);
	return CP_NEXT_REPLY;
}

enum cp_act_next
cp_act_version(struct cp_act *a, struct cp_req *r)
{
	(void)r;
	json_object_set_new(a->reply, "daemon", json_string(CP_VERSION));
	cp_set_u64(a->reply, "protocol", OR_MGMT_VERSION);
	cp_set_u64(a->reply, "channel_protocol", OR_CHAN_VERSION);
	return CP_NEXT_REPLY;
}

/* The handler column of OR_MGMT_CMDS, by command. */
static const cp_act_fn cp_acts[OR_MGMT_CMD_COUNT] = {
#define CP_ACT_X_FN(c, n, fn, ...) [OR_MGMT_CMD_##c] = fn,
	OR_MGMT_CMDS(CP_ACT_X_FN)
#undef CP_ACT_X_FN
};

enum cp_act_next
cp_act_run(struct cp_act *a, struct cp_req *req)
{
	const struct or_mgmt_cmd_info *i = or_mgmt_cmd_info(req->cmd);
	enum cp_act_next next;

	a->err = OR_MGMT_OK;
	a->msg[0] = '\0';
	a->n = 0;
	if (i == NULL) {
		snprintf(a->msg, sizeof(a->msg), "unknown command");
		a->err = OR_MGMT_E_UNKNOWN_COMMAND;
		return CP_NEXT_REPLY;
	}
	if (cp_act_room(req) > a->n_max) {
		snprintf(a->msg, sizeof(a->msg), "no room for the changes");
		a->err = OR_MGMT_E_INTERNAL;
		return CP_NEXT_REPLY;
	}
	next = cp_acts[req->cmd](a, req);
	if (a->err != OR_MGMT_OK || next == CP_NEXT_REPLY)
		return CP_NEXT_REPLY;
	/* What completes it is the entry's to say (a command done NOW has
	 * nothing to wait for). */
	return (enum cp_act_next)i->done;
}
