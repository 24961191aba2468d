/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include "cp_json.h"
#include "cp_req.h"

/* Fields a request may carry; each command allows a subset. */
enum {
	F_V = 1u << 0,
	F_ID = 1u << 1,
	F_CMD = 1u << 2,
	F_NUMBER = 1u << 3,
	F_SEALED = 1u << 4,
	F_TOKEN = 1u << 5,
	F_NODE = 1u << 6,
	F_NOTICE = 1u << 7,
	F_METHOD = 1u << 8,
	F_WAIT = 1u << 9,
	F_CLEAR = 1u << 10,
	F_ACTION = 1u << 11,
	F_LINES = 1u << 12,
	F_FIRST_LINE = 1u << 13,
	F_PUBKEY = 1u << 14,
};

#define F_COMMON (F_V | F_ID | F_CMD)
#define F_SUBJECT (F_NUMBER | F_SEALED | F_TOKEN)

static const struct {
	const char *name;
	unsigned bit;
} cp_req_fields[] = {
	{ "v", F_V },           { "id", F_ID },
	{ "cmd", F_CMD },       { "number", F_NUMBER },
	{ "sealed", F_SEALED }, { "token", F_TOKEN },
	{ "node", F_NODE },     { "notice", F_NOTICE },
	{ "method", F_METHOD }, { "wait", F_WAIT },
	{ "clear", F_CLEAR },   { "action", F_ACTION },
	{ "lines", F_LINES },   { "first_line", F_FIRST_LINE },
	{ "pubkey", F_PUBKEY },
};

static unsigned
cp_req_allowed(enum or_mgmt_cmd c)
{
	switch (c) {
	case OR_MGMT_CMD_OPTIN:
		return F_COMMON | F_SUBJECT | F_NODE | F_NOTICE | F_METHOD |
		       F_WAIT | F_PUBKEY;
	case OR_MGMT_CMD_REKEY:
		return F_COMMON | F_SUBJECT | F_METHOD | F_PUBKEY;
	case OR_MGMT_CMD_OPTOUT:
	case OR_MGMT_CMD_ERASE:
		return F_COMMON | F_SUBJECT | F_NOTICE | F_METHOD | F_WAIT;
	case OR_MGMT_CMD_STATUS:
	case OR_MGMT_CMD_AUDIT:
		return F_COMMON | F_SUBJECT;
	case OR_MGMT_CMD_IMPORT:
		return F_COMMON | F_ACTION | F_LINES | F_FIRST_LINE | F_NODE |
		       F_NOTICE | F_METHOD | F_WAIT;
	case OR_MGMT_CMD_STATS:
		return F_COMMON | F_CLEAR;
	default:
		return F_COMMON;
	}
}

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

static int
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
		{ "number", F_NUMBER, CP_SUBJ_NUMBER, 64 },
		{ "sealed", F_SEALED, CP_SUBJ_SEALED, 1024 },
		{ "token", F_TOKEN, CP_SUBJ_TOKEN, 64 },
	};
	unsigned n = __builtin_popcount(present & F_SUBJECT);

	/* audit without a subject verifies the whole chain. */
	if (n == 0 && r->cmd == OR_MGMT_CMD_AUDIT)
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

	if (present & F_NODE) {
		v = json_object_get(r->root, "node");
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 65535)
			CP_FAIL(BAD_REQUEST,
				"field 'node' must be an integer in [0, 65535]");
		r->node = (int)json_integer_value(v);
	}
	if (present & F_NOTICE) {
		v = json_object_get(r->root, "notice");
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > UINT32_MAX)
			CP_FAIL(BAD_REQUEST, "field 'notice' must be an integer "
					     "in [0, 4294967295] (notice "
					     "version)");
		r->notice = (int64_t)json_integer_value(v);
	}
	if (present & F_METHOD) {
		v = json_object_get(r->root, "method");
		if (!json_is_string(v) ||
		    !cp_req_word_ok(json_string_value(v), OR_MGMT_METHOD_MAX))
			CP_FAIL(BAD_REQUEST,
				"field 'method' must be a string of 1 to %d "
				"characters [A-Za-z0-9._:-]",
				OR_MGMT_METHOD_MAX);
		r->method = json_string_value(v);
	}
	if (present & F_WAIT) {
		v = json_object_get(r->root, "wait");
		if (!json_is_boolean(v))
			CP_FAIL(BAD_REQUEST, "field 'wait' must be a boolean");
		r->wait = json_is_true(v);
	}
	if (present & F_CLEAR) {
		v = json_object_get(r->root, "clear");
		if (!json_is_boolean(v))
			CP_FAIL(BAD_REQUEST, "field 'clear' must be a boolean");
		r->clear = json_is_true(v);
	}
	if (present & F_PUBKEY) {
		/* Decoded by the action: here only its shape. */
		v = json_object_get(r->root, "pubkey");
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > CP_REQ_PUBKEY_MAX)
			CP_FAIL(BAD_REQUEST, "field 'pubkey' must be a string of "
					     "1 to %d characters (base64 of a "
					     "32-byte X25519 public key)",
				CP_REQ_PUBKEY_MAX);
		r->pubkey = v;
	} else if (r->cmd == OR_MGMT_CMD_REKEY) {
		CP_FAIL(BAD_REQUEST, "command 'rekey' needs 'pubkey'");
	}
	return OR_MGMT_OK;
}

static enum or_mgmt_err
cp_req_import(struct cp_req *r, unsigned present, char *msg)
{
	json_t *v;
	size_t i;

	if (!(present & F_ACTION) || !(present & F_LINES))
		CP_FAIL(BAD_REQUEST,
			"command 'import' needs 'action' and 'lines'");
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
	if (present & F_FIRST_LINE) {
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

	allowed = cp_req_allowed(r->cmd);
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
	if (allowed & F_NUMBER) {
		e = cp_req_subject(r, present, msg);
		if (e != OR_MGMT_OK)
			return e;
	}
	e = cp_req_options(r, present, msg);
	if (e != OR_MGMT_OK)
		return e;
	if (r->cmd == OR_MGMT_CMD_IMPORT)
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
