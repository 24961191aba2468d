/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "ctl_out.h"

/* "2024-05-01T12:00:00.123Z" from Unix ms; "-" for 0. */
static void
ctl_out_time(json_int_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	gmtime_r(&s, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
}

static void
ctl_out_scalar(FILE *f, const char *key, json_t *v)
{
	char t[40];

	if (json_is_integer(v) && strlen(key) > 3 &&
	    strcmp(key + strlen(key) - 3, "_ms") == 0 &&
	    json_integer_value(v) > 1000000000000LL) {
		ctl_out_time(json_integer_value(v), t, sizeof(t));
		fprintf(f, "%s\n", t);
	} else if (json_is_string(v)) {
		fprintf(f, "%s\n", json_string_value(v));
	} else if (json_is_integer(v)) {
		fprintf(f, "%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	} else if (json_is_real(v)) {
		fprintf(f, "%.4f\n", json_real_value(v));
	} else if (json_is_boolean(v)) {
		fprintf(f, "%s\n", json_is_true(v) ? "yes" : "no");
	} else if (json_is_null(v)) {
		fprintf(f, "-\n");
	} else {
		char *s = json_dumps(v, JSON_COMPACT);

		fprintf(f, "%s\n", s != NULL ? s : "?");
		free(s);
	}
}

/* key: value lines; nested objects as prefix.key. */
static void
ctl_out_flat(FILE *f, const char *prefix, json_t *o)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		char name[128];

		if (prefix == NULL && (strcmp(key, "v") == 0 ||
				       strcmp(key, "id") == 0 ||
				       strcmp(key, "ok") == 0))
			continue;
		snprintf(name, sizeof(name), "%s%s%s", prefix ? prefix : "",
			 prefix ? "." : "", key);
		if (json_is_object(v)) {
			ctl_out_flat(f, name, v);
			continue;
		}
		fprintf(f, "%-28s ", name);
		ctl_out_scalar(f, key, v);
	}
}

static void
ctl_out_audit(FILE *f, json_t *r)
{
	json_t *e = json_object_get(r, "entries");
	size_t i;
	json_t *x;

	if (!json_is_array(e)) {
		/* Whole-chain verification. */
		fprintf(f,
			"audit chain verified: %" JSON_INTEGER_FORMAT
			" entries, head seq %" JSON_INTEGER_FORMAT
			"\nhead hash %s\n",
			json_integer_value(json_object_get(r, "entries")),
			json_integer_value(json_object_get(r, "head_seq")),
			json_string_value(json_object_get(r, "head_hash")));
		return;
	}
	fprintf(f, "token %s\n", json_string_value(json_object_get(r, "token")));
	fprintf(f, "%-8s %-24s %-7s %-12s %5s %6s %7s %s\n", "SEQ", "TIME (UTC)",
		"ACTION", "METHOD", "NODE", "EPOCH", "NOTICE", "HASH");
	json_array_foreach(e, i, x) {
		char t[40];

		ctl_out_time(json_integer_value(json_object_get(x, "time_ms")),
			     t, sizeof(t));
		fprintf(f,
			"%-8" JSON_INTEGER_FORMAT " %-24s %-7s %-12s %5"
			JSON_INTEGER_FORMAT " %6" JSON_INTEGER_FORMAT
			" %7" JSON_INTEGER_FORMAT " %.16s...\n",
			json_integer_value(json_object_get(x, "seq")), t,
			json_string_value(json_object_get(x, "action")),
			json_string_value(json_object_get(x, "method")),
			json_integer_value(json_object_get(x, "node")),
			json_integer_value(json_object_get(x, "epoch")),
			json_integer_value(json_object_get(x, "notice")),
			json_string_value(json_object_get(x, "hash")));
	}
	fprintf(f, "%zu entr%s, hash links verified\n", json_array_size(e),
		json_array_size(e) == 1 ? "y" : "ies");
}

/* A sender key issued (optin with a pubkey, rekey): its epoch and the key
 * sealed to the phone, which only the phone can open. */
static void
ctl_out_key(FILE *f, json_t *r, int with_token)
{
	if (with_token)
		fprintf(f, "sender key issued: token %s seq %" JSON_INTEGER_FORMAT
			   "\n",
			json_string_value(json_object_get(r, "token")),
			json_integer_value(json_object_get(r, "seq")));
	fprintf(f, "key_epoch %" JSON_INTEGER_FORMAT "\nsealed_key %s\n",
		json_integer_value(json_object_get(r, "key_epoch")),
		json_string_value(json_object_get(r, "sealed_key")));
}

/* A --wait=fleet reply's "fleet": who enforces the change, who lags. */
void
ctl_out_fleet_wait(FILE *f, json_t *fl)
{
	json_t *v;
	size_t i;

	if (!json_is_object(fl))
		return;
	fprintf(f, "fleet: enforced by");
	json_array_foreach(json_object_get(fl, "enforced"), i, v)
		fprintf(f, "%s %s", i ? "," : "", json_string_value(v));
	json_array_foreach(json_object_get(fl, "lagging"), i, v)
		fprintf(f, "%s %s (at seq %" JSON_INTEGER_FORMAT ")",
			i ? "," : "; lagging:",
			json_string_value(json_object_get(v, "appliance")),
			json_integer_value(json_object_get(v, "enforced_seq")));
	fputc('\n', f);
}

static void
ctl_out_change(FILE *f, json_t *r)
{
	const char *state = json_string_value(json_object_get(r, "state"));
	json_t *applied = json_object_get(r, "applied");

	fprintf(f, "%s: token %s node %" JSON_INTEGER_FORMAT "%s seq %"
		   JSON_INTEGER_FORMAT " (was %s)%s\n",
		state == NULL              ? "?"
		: strcmp(state, "in") == 0  ? "opted in"
		: strcmp(state, "out") == 0 ? "opted out"
					    : "erased",
		json_string_value(json_object_get(r, "token")),
		json_integer_value(json_object_get(r, "node")),
		json_is_true(json_object_get(r, "pinned")) ? " (pinned)" : "",
		json_integer_value(json_object_get(r, "seq")),
		json_string_value(json_object_get(r, "previous")),
		json_is_true(applied) ? ", applied by the dataplane" : "");
	ctl_out_fleet_wait(f, json_object_get(r, "fleet"));
	if (json_object_get(r, "sealed_key") != NULL)
		ctl_out_key(f, r, 0);
}

static void
ctl_out_help(FILE *f, json_t *r)
{
	const char *key;
	json_t *v;

	fprintf(f, "daemon commands:\n");
	json_object_foreach(json_object_get(r, "commands"), key, v)
		fprintf(f, "  %-10s %s\n", key, json_string_value(v));
}

/* One line for the store, then one per appliance (docs/fleet.md
 * section 8). */
static void
ctl_out_fleet(FILE *f, json_t *r)
{
	json_t *list = json_object_get(r, "appliances"), *m;
	size_t i;

	if (json_is_string(json_object_get(r, "forgotten"))) {
		fprintf(f, "appliance %s forgotten\n",
			json_string_value(json_object_get(r, "forgotten")));
		return;
	}
	if (strcmp(json_string_value(json_object_get(r, "store")) ?: "",
		   "postgresql") != 0) {
		fprintf(f, "store lmdb: this appliance is not part of a "
			   "fleet\n");
		return;
	}
	fprintf(f, "store postgresql  head %" JSON_INTEGER_FORMAT
		   "  timeline %" JSON_INTEGER_FORMAT "  %s\n",
		json_integer_value(json_object_get(r, "head_seq")),
		json_integer_value(json_object_get(r, "timeline")),
		json_is_true(json_object_get(r, "connected"))
			? "connected"
			: "NOT CONNECTED (positions as last read)");
	if (json_integer_value(json_object_get(r, "stale_primary_refusals")) > 0)
		fprintf(f, "WARNING: %" JSON_INTEGER_FORMAT " connections to an "
			   "old primary refused (a lower timeline): fence it\n",
			json_integer_value(json_object_get(r,
						"stale_primary_refusals")));
	fprintf(f, "%-20s %5s %-7s %10s %10s %8s %11s\n", "appliance", "id",
		"state", "applied", "enforced", "lag", "report_age");
	json_array_foreach(list, i, m) {
		json_t *age = json_object_get(m, "report_age_ms");
		char a[24];

		if (json_is_integer(age))
			snprintf(a, sizeof(a), "%.1f s",
				 (double)json_integer_value(age) / 1000.0);
		else
			snprintf(a, sizeof(a), "never");
		fprintf(f, "%-20s %5" JSON_INTEGER_FORMAT " %-7s %10"
			   JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT
			   " %8" JSON_INTEGER_FORMAT " %11s%s\n",
			json_string_value(json_object_get(m, "name")),
			json_integer_value(json_object_get(m, "id")),
			json_string_value(json_object_get(m, "state")),
			json_integer_value(json_object_get(m, "applied_seq")),
			json_integer_value(json_object_get(m, "enforced_seq")),
			json_integer_value(json_object_get(m, "lag")), a,
			json_is_true(json_object_get(m, "self")) ? "  (this one)"
								 : "");
	}
}

void
ctl_out_reply(FILE *f, const char *cmd, json_t *reply)
{
	const char *fleet;

	if (strcmp(cmd, "audit") == 0)
		ctl_out_audit(f, reply);
	else if (strcmp(cmd, "optin") == 0 || strcmp(cmd, "optout") == 0 ||
		 strcmp(cmd, "erase") == 0)
		ctl_out_change(f, reply);
	else if (strcmp(cmd, "rekey") == 0)
		ctl_out_key(f, reply, 1);
	else if (strcmp(cmd, "help") == 0)
		ctl_out_help(f, reply);
	else if (strcmp(cmd, "fleet") == 0)
		ctl_out_fleet(f, reply);
	else
		ctl_out_flat(f, NULL, reply);
	/* A fleet's answer from a copy that cannot catch up may be old. */
	fleet = json_string_value(json_object_get(reply, "fleet"));
	if (strcmp(cmd, "status") == 0 && fleet != NULL &&
	    strcmp(fleet, "unreachable") == 0)
		fprintf(stderr, "optroutectl: warning: the system of record is "
				"unreachable: this is the local copy's answer, "
				"as of seq %" JSON_INTEGER_FORMAT "\n",
			json_integer_value(json_object_get(reply, "as_of_seq")));
}

void
ctl_out_error(FILE *f, json_t *reply)
{
	json_t *e = json_object_get(reply, "error");

	fprintf(f, "optroutectl: %s: %s\n",
		json_string_value(json_object_get(e, "code")) ?: "error",
		json_string_value(json_object_get(e, "message")) ?: "");
	ctl_out_fleet_wait(f, json_object_get(reply, "fleet"));
}
