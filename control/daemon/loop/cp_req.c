/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include "cp_json.h"
#include "cp_req.h"
#include "cp_req_priv.h"

/* Fields a request may carry: v, id and cmd, which every command takes,
 * and those of OR_MGMT_FIELDS, of which each command's entry of
 * OR_MGMT_CMDS allows some (fields) and needs some (needs). */
enum {
	F_V = 1u << 28,
	F_ID = 1u << 29,
	F_CMD = 1u << 30,
};

#define F_COMMON (F_V | F_ID | F_CMD)

_Static_assert(OR_MGMT_FB_COUNT <= 28, "request field bits overlap");

static const struct {
	const char *name;
	unsigned bit;
} cp_req_fields[] = {
	{ "v", F_V }, { "id", F_ID }, { "cmd", F_CMD },
#define CP_REQ_X_FIELD(f, n, acc) { n, OR_MGMT_F_##f },
	OR_MGMT_FIELDS(CP_REQ_X_FIELD)
#undef CP_REQ_X_FIELD
};

static unsigned
cp_req_field_bit(const char *key)
{
	for (size_t i = 0; i < sizeof(cp_req_fields) / sizeof(cp_req_fields[0]);
	     i++)
		if (strcmp(key, cp_req_fields[i].name) == 0)
			return cp_req_fields[i].bit;
	return 0;
}

/* A short printable token: [A-Za-z0-9._:-], 1..max chars. */
static int
cp_req_word_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		      *s == '-' || *s == ':'))
			return 0;
	return 1;
}

int
cp_req_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      *s == '_'))
			return 0;
	return 1;
}

#define CP_FAIL(code, ...)                                  \
	do {                                                \
		snprintf(msg, CP_REQ_MSG_LEN, __VA_ARGS__); \
		return OR_MGMT_E_##code;                    \
	} while (0)

/* The id is read first, so that even a request failing later is answered
 * with its id. */
static enum or_mgmt_err
cp_req_id(struct cp_req *r, char *msg)
{
	json_t *id = json_object_get(r->root, "id");

	if (id == NULL)
		return OR_MGMT_OK;
	if (json_is_integer(id) ||
	    (json_is_string(id) && json_string_length(id) <= 128 &&
	     cp_req_word_ok(json_string_value(id), 128))) {
		r->id = id;
		return OR_MGMT_OK;
	}
	CP_FAIL(BAD_REQUEST, "field 'id' must be an integer or a string of "
			     "at most 128 characters [A-Za-z0-9._:-]");
}

static enum or_mgmt_err
cp_req_subject(struct cp_req *r, unsigned present, char *msg)
{
	static const struct {
		const char *name;
		unsigned bit;
		enum cp_subj_kind kind;
		size_t max;
	} kinds[] = {
		{ "number", OR_MGMT_F_NUMBER, CP_SUBJ_NUMBER, 64 },
		{ "sealed", OR_MGMT_F_SEALED, CP_SUBJ_SEALED, 1024 },
		{ "token", OR_MGMT_F_TOKEN, CP_SUBJ_TOKEN, 64 },
	};
	unsigned n = __builtin_popcount(present & OR_MGMT_F_SUBJ);

	/* A subject the command does not need may be left out (audit:
	 * then the whole chain is verified). */
	if (n == 0 && !(or_mgmt_cmd_info(r->cmd)->needs & OR_MGMT_F_SUBJ))
		return OR_MGMT_OK;
	if (n != 1)
		CP_FAIL(BAD_REQUEST, "command '%s' needs exactly one of "
				     "'number', 'sealed' or 'token'",
			or_mgmt_cmd_name(r->cmd));
	for (size_t i = 0; i < 3; i++) {
		json_t *v;

		if (!(present & kinds[i].bit))
			continue;
		v = json_object_get(r->root, kinds[i].name);
		if (!json_is_string(v))
			CP_FAIL(BAD_REQUEST, "field '%s' must be a string",
				kinds[i].name);
		if (json_string_length(v) > kinds[i].max)
			CP_FAIL(BAD_REQUEST,
				"field '%s' is too long (at most %zu bytes)",
				kinds[i].name, kinds[i].max);
		r->subj = kinds[i].kind;
		r->subject = v;
	}
	return OR_MGMT_OK;
}

static enum or_mgmt_err
cp_req_options(struct cp_req *r, unsigned present, char *msg)
{
	json_t *v;

	if (present & OR_MGMT_F_NODE) {
		v = json_object_get(r->root, "node");
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 65535)
			CP_FAIL(BAD_REQUEST,
				"field 'node' must be an integer in [0, 65535]");
		r->node = (int)json_integer_value(v);
	}
	if (present & OR_MGMT_F_NOTICE) {
		v = json_object_get(r->root, "notice");
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > UINT32_MAX)
			CP_FAIL(BAD_REQUEST, "field 'notice' must be an integer "
					     "in [0, 4294967295] (notice "
					     "version)");
		r->notice = (int64_t)json_integer_value(v);
	}
	if (present & OR_MGMT_F_METHOD) {
		v = json_object_get(r->root, "method");
		if (!json_is_string(v) ||
		    !cp_req_word_ok(json_string_value(v), OR_MGMT_METHOD_MAX))
			CP_FAIL(BAD_REQUEST,
				"field 'method' must be a string of 1 to %d "
				"characters [A-Za-z0-9._:-]",
				OR_MGMT_METHOD_MAX);
		r->method = json_string_value(v);
	}
	if (present & OR_MGMT_F_WAIT) {
		v = json_object_get(r->root, "wait");
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), "fleet") == 0)
			r->wait = CP_WAIT_FLEET;
		else if (json_is_boolean(v))
			r->wait = json_is_true(v) ? CP_WAIT_LOCAL : 0;
		else
			CP_FAIL(BAD_REQUEST,
				"field 'wait' must be a boolean or \"fleet\"");
	}
	if (present & OR_MGMT_F_CLEAR) {
		v = json_object_get(r->root, "clear");
		if (!json_is_boolean(v))
			CP_FAIL(BAD_REQUEST, "field 'clear' must be a boolean");
		r->clear = json_is_true(v);
	}
	if (present & OR_MGMT_F_FORGET) {
		v = json_object_get(r->root, "forget");
		if (!json_is_string(v) ||
		    !or_mgmt_appliance_ok(json_string_value(v),
					  json_string_length(v)))
			CP_FAIL(BAD_REQUEST,
				"field 'forget' must be an appliance name of 1 "
				"to %d characters [A-Za-z0-9._-]",
				OR_MGMT_APPLIANCE_MAX);
		r->forget = json_string_value(v);
	}
	if (present & OR_MGMT_F_AFTER_SEQ) {
		v = json_object_get(r->root, "after_seq");
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			CP_FAIL(BAD_REQUEST, "field 'after_seq' must be a "
					     "positive integer (a change's seq)");
		r->after_seq = (uint64_t)json_integer_value(v);
	}
	if (present & OR_MGMT_F_PUBKEY) {
		/* Decoded by the action: here only its shape. */
		v = json_object_get(r->root, "pubkey");
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > CP_REQ_PUBKEY_MAX)
			CP_FAIL(BAD_REQUEST, "field 'pubkey' must be a string of "
					     "1 to %d characters (base64 of a "
					     "32-byte X25519 public key)",
				CP_REQ_PUBKEY_MAX);
		r->pubkey = v;
	}
	return OR_MGMT_OK;
}

/* The fields (besides the subject) the command needs: all of them named
 * if one is missing ("command 'import' needs 'action' and 'lines'"). */
static enum or_mgmt_err
cp_req_needs(const struct cp_req *r, unsigned needs, unsigned present,
	     char *msg)
{
	size_t off;
	unsigned n = (unsigned)__builtin_popcount(needs), k = 0;

	if ((present & needs) == needs)
		return OR_MGMT_OK;
	off = (size_t)snprintf(msg, CP_REQ_MSG_LEN, "command '%s' needs",
			       or_mgmt_cmd_name(r->cmd));
	for (unsigned b = 0; b < OR_MGMT_FB_COUNT; b++) {
		if (!(needs & (1u << b)) || off >= CP_REQ_MSG_LEN)
			continue;
		k++;
		off += (size_t)snprintf(msg + off, CP_REQ_MSG_LEN - off,
					"%s'%s'",
					k == 1   ? " "
					: k == n ? " and "
						 : ", ",
					or_mgmt_field_name(1u << b));
	}
	return OR_MGMT_E_BAD_REQUEST;
}

static enum or_mgmt_err
cp_req_import(struct cp_req *r, unsigned present, char *msg)
{
	json_t *v;
	size_t i;

	v = json_object_get(r->root, "action");
	if (json_is_string(v) && strcmp(json_string_value(v), "optin") == 0)
		r->optin = 1;
	else if (json_is_string(v) &&
		 strcmp(json_string_value(v), "optout") == 0)
		r->optin = 0;
	else
		CP_FAIL(BAD_REQUEST,
			"field 'action' must be \"optin\" or \"optout\"");
	v = json_object_get(r->root, "lines");
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > OR_MGMT_IMPORT_MAX_LINES)
		CP_FAIL(BAD_REQUEST,
			"field 'lines' must be an array of 1 to %d strings",
			OR_MGMT_IMPORT_MAX_LINES);
	for (i = 0; i < json_array_size(v); i++)
		if (!json_is_string(json_array_get(v, i)))
			CP_FAIL(BAD_REQUEST, "lines[%zu] is not a string", i);
	r->lines = v;
	r->first_line = 1;
	if (present & OR_MGMT_F_FIRST_LINE) {
		json_t *f = json_object_get(r->root, "first_line");

		if (!json_is_integer(f) || json_integer_value(f) < 1)
			CP_FAIL(BAD_REQUEST,
				"field 'first_line' must be a positive integer");
		r->first_line = (uint64_t)json_integer_value(f);
	}
	return OR_MGMT_OK;
}

enum or_mgmt_err
cp_req_parse(const char *buf, size_t len, struct cp_req *r,
	     char msg[CP_REQ_MSG_LEN])
{
	json_error_t jerr;
	const char *key;
	json_t *v;
	const struct or_mgmt_cmd_info *info;
	unsigned present = 0, allowed;
	enum or_mgmt_err e;

	memset(r, 0, sizeof(*r));
	r->node = -1;
	r->notice = -1;
	msg[0] = '\0';
	if (len > OR_MGMT_MAX_LINE)
		CP_FAIL(LINE_TOO_LONG, "request longer than %d bytes",
			OR_MGMT_MAX_LINE);
	r->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (r->root == NULL)
		CP_FAIL(BAD_JSON, "invalid JSON at column %d", jerr.column);
	if (!json_is_object(r->root))
		CP_FAIL(BAD_JSON, "request must be a JSON object");
	e = cp_req_id(r, msg);
	if (e != OR_MGMT_OK)
		return e;

	v = json_object_get(r->root, "v");
	if (v == NULL)
		CP_FAIL(BAD_REQUEST, "missing field 'v' (protocol version %d)",
			OR_MGMT_VERSION);
	if (!json_is_integer(v))
		CP_FAIL(BAD_REQUEST, "field 'v' must be an integer");
	/* Names the version spoken, not the one received: 'v' is request
	 * content like any other (it could hold a phone number). */
	if (json_integer_value(v) != OR_MGMT_VERSION)
		CP_FAIL(BAD_VERSION, "protocol version not supported (this "
				     "daemon speaks %d)", OR_MGMT_VERSION);

	v = json_object_get(r->root, "cmd");
	if (v == NULL)
		CP_FAIL(BAD_REQUEST, "missing field 'cmd'");
	if (!json_is_string(v))
		CP_FAIL(BAD_REQUEST, "field 'cmd' must be a string");
	r->cmd = or_mgmt_cmd_parse(json_string_value(v));
	if (r->cmd == OR_MGMT_CMD_NONE)
		CP_FAIL(UNKNOWN_COMMAND,
			"unknown command (try \"help\" for the list)");

	info = or_mgmt_cmd_info(r->cmd);
	allowed = F_COMMON | info->fields;
	json_object_foreach(r->root, key, v) {
		unsigned bit = cp_req_field_bit(key);

		/* Unknown keys are named only if they look like field
		 * names (letters and '_'): a key could be anything, a
		 * phone number included. */
		if (bit == 0 || !(bit & allowed)) {
			if (cp_req_name_ok(key))
				CP_FAIL(BAD_REQUEST,
					"field '%s' not allowed for '%s'", key,
					or_mgmt_cmd_name(r->cmd));
			CP_FAIL(BAD_REQUEST, "unknown field for '%s'",
				or_mgmt_cmd_name(r->cmd));
		}
		present |= bit;
	}
	if (allowed & OR_MGMT_F_SUBJ) {
		e = cp_req_subject(r, present, msg);
		if (e != OR_MGMT_OK)
			return e;
	}
	e = cp_req_needs(r, info->needs & ~OR_MGMT_F_SUBJ, present, msg);
	if (e != OR_MGMT_OK)
		return e;
	r->fields = present & ~F_COMMON;
	e = cp_req_options(r, present, msg);
	if (e != OR_MGMT_OK)
		return e;
	if (present & OR_MGMT_F_LINES)
		return cp_req_import(r, present, msg);
	return OR_MGMT_OK;
}

void
cp_req_free(struct cp_req *r)
{
	const char *key;
	json_t *v;

	if (r->root == NULL)
		return;
	/* Subject strings and import lines may be plain numbers: wipe them
	 * even if the wiping allocator is not installed (unit tests). */
	if (json_is_object(r->root)) {
		json_object_foreach(r->root, key, v) {
			if (json_is_string(v))
				cp_json_wipe_string(v);
			else if (json_is_array(v))
				for (size_t i = 0; i < json_array_size(v); i++)
					cp_json_wipe_string(
						json_array_get(v, i));
		}
	}
	json_decref(r->root);
	memset(r, 0, sizeof(*r));
}

int
cp_req_may_wait(const struct cp_req *req)
{
	const struct or_mgmt_cmd_info *i = or_mgmt_cmd_info(req->cmd);

	if (i == NULL)
		return 0;
	switch (i->done) {
	case OR_MGMT_DONE_NOW:
		return 0;
	case OR_MGMT_DONE_SEQ:
		return req->after_seq != 0;
	case OR_MGMT_DONE_JOB:
		return req->subj == CP_SUBJ_NONE;
	default:
		return 1;
	}
}
