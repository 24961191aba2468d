/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-control's configuration (cp_cfg.h): the [control] keys, read
 * through the INI layer both daemons share (include/optroute/or_ini.h),
 * which owns the syntax, the line numbers, the error format and the value
 * parsers.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "optroute/log.h"
#include "optroute/mgmt.h"
#include "optroute/or_ini.h"
#include "optroute/peer.h"

#include "control/lib/or_err.h"
#include "control/lib/pg/or_pg.h"

#include "cp_cfg.h"
#include "cp_log.h"

void
cp_cfg_defaults(struct cp_cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->mgmt_socket, sizeof(c->mgmt_socket), "%s",
		 OR_MGMT_DEFAULT_SOCKET);
	snprintf(c->chan_socket, sizeof(c->chan_socket), "%s",
		 OR_INI_DEFAULT_CHANNEL);
	snprintf(c->store_path, sizeof(c->store_path), "%s",
		 "/var/lib/optroute/store");
	snprintf(c->key_file, sizeof(c->key_file), "%s",
		 "/etc/optroute/master.key");
	c->node_policy.kind = OR_NODE_POLICY_FIXED;
	c->node_policy.node = 0;
	c->node_policy.n_nodes = 1;
	c->notice_version = 1;
	c->max_clients = 64;
	c->max_pending = 4096;
	c->line_timeout_ms = 5000;
	c->idle_timeout_ms = 300000;
	c->wait_timeout_ms = 5000;
	c->chan_retry_ms = 1000;
	c->chan_queue_max = 1u << 22;
	c->log_level = CP_LOG_INFO;
	c->fleet_commit_timeout_ms = 10000;
	c->fleet_report_ms = 1000;
	c->fleet_silence_ms = 10000;
	if (gethostname(c->appliance_name, sizeof(c->appliance_name) - 1) != 0)
		c->appliance_name[0] = '\0';
}

enum cp_cfg_type {
	T_PATH,   /* char[], size in 'size' */
	T_SOCK,   /* a socket path: char[], size in 'size' */
	T_U32,    /* unsigned, in [lo, hi] */
	T_U64,    /* uint64_t, in [lo, hi] */
	T_UID,
	T_GID,
	T_ROGID,  /* readonly_gid */
	T_POLICY,
	T_LEVEL,
	T_STORE,    /* lmdb | postgresql */
	T_CONNINFO, /* libpq string: checked, never quoted back */
	T_NAME,     /* appliance name */
};

static const struct cp_cfg_key {
	const char *name;
	enum cp_cfg_type type;
	size_t off, size;
	uint64_t lo, hi;
	const char *expect; /* NULL: the INI layer's text for the type */
} cp_cfg_keys[] = {
#define K_STR(n, t, f) { n, t, offsetof(struct cp_cfg, f),                   \
			 sizeof(((struct cp_cfg *)0)->f), 0, 0, NULL }
#define K_U32(n, f, lo, hi) { n, T_U32, offsetof(struct cp_cfg, f), 0, lo,   \
			      hi, NULL }
	K_STR("mgmt_socket", T_SOCK, mgmt_socket),
	K_STR("channel_socket", T_SOCK, chan_socket),
	K_STR("store_path", T_PATH, store_path),
	K_STR("key_file", T_PATH, key_file),
	{ "store_map_mb", T_U64, offsetof(struct cp_cfg, store_map_mb), 0, 16,
	  1u << 24, "an integer 16..16777216 (MiB)" },
	K_U32("key_epoch", key_epoch, 0, 255),
	{ "allowed_uid", T_UID, 0, 0, 0, 0, "a user name or a numeric uid" },
	{ "allowed_gid", T_GID, 0, 0, 0, 0, "a group name or a numeric gid" },
	{ "readonly_gid", T_ROGID, 0, 0, 0, 0,
	  "a group name or a numeric gid" },
	{ "node_policy", T_POLICY, 0, 0, 0, 0,
	  "'fixed NODE' (0..65535) or 'hash COUNT' (1..65536)" },
	K_U32("notice_version", notice_version, 0, UINT32_MAX),
	K_U32("max_clients", max_clients, 1, 65536),
	K_U32("max_pending", max_pending, 1, 1048576),
	K_U32("line_timeout_ms", line_timeout_ms, 10, 3600000),
	K_U32("idle_timeout_ms", idle_timeout_ms, 10, 86400000),
	K_U32("wait_timeout_ms", wait_timeout_ms, 1, 3600000),
	K_U32("channel_retry_ms", chan_retry_ms, 10, 3600000),
	K_U32("channel_queue_max", chan_queue_max, 1024, 1073741824),
	{ "log_level", T_LEVEL, 0, 0, 0, 0,
	  OR_LOG_LEVEL_WORDS },
	{ "store", T_STORE, 0, 0, 0, 0, "'lmdb' or 'postgresql'" },
	{ "store_conninfo", T_CONNINFO, 0, 0, 0, 0, NULL },
	{ "appliance_name", T_NAME, 0, 0, 0, 0,
	  "1 to 63 of A-Z a-z 0-9 . _ -" },
	K_U32("fleet_commit_timeout_ms", fleet_commit_timeout_ms, 100, 600000),
	K_U32("fleet_report_ms", fleet_report_ms, 50, 60000),
	K_U32("fleet_silence_ms", fleet_silence_ms, 100, 3600000),
	{ "fleet_resync_after", T_U64,
	  offsetof(struct cp_cfg, fleet_resync_after), 0, 0, UINT64_MAX / 2,
	  "an integer (missed changes; 0 = the local copy's records, at "
	  "least 1000000)" },
#undef K_STR
#undef K_U32
};

#define CP_CFG_NKEYS (sizeof(cp_cfg_keys) / sizeof(cp_cfg_keys[0]))

struct cp_cfg_ctx {
	struct or_ini ini;
	struct cp_cfg *c;
	enum { S_OTHER, S_CONTROL, S_DATAPLANE } sect;
	unsigned seen[CP_CFG_NKEYS]; /* line of each [control] key */
	int chan_set; /* channel_socket given in [control] */
	char dp_channel[OR_INI_SOCK_PATH_LEN]; /* [dataplane] channel, if any */
};

_Static_assert(sizeof(((struct cp_cfg *)0)->chan_socket) ==
		       OR_INI_SOCK_PATH_LEN,
	       "channel_socket and [dataplane] channel hold the same paths");
_Static_assert(sizeof(((struct cp_cfg *)0)->appliance_name) >
		       OR_MGMT_APPLIANCE_MAX,
	       "appliance_name holds the longest name and its NUL");

/* One [control] key's value; the error recorded on failure. */
static int
cp_cfg_set(struct or_ini *ini, struct cp_cfg *c, const struct cp_cfg_key *k,
	   const char *v)
{
	char *field = (char *)c + k->off;
	char low[OR_INI_LINE_MAX + 1];
	uint64_t x;
	size_t i;

	/* Keywords (off, log levels, fixed/hash) are matched in any case,
	 * like booleans and the dataplane's words (docs/configuration.md):
	 * the parsers below take lowercase. A value is at most a line. */
	for (i = 0; v[i] != '\0' && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)v[i]);
	low[i] = '\0';

	switch (k->type) {
	case T_PATH:
	case T_SOCK:
		return or_ini_get_path(ini, k->name, v, k->type == T_SOCK ?
				       "socket path" : "path", field, k->size);
	case T_U32:
	case T_U64:
		if (or_ini_get_uint(ini, k->name, v, k->lo, k->hi, k->expect,
				    &x) != 0)
			return -1;
		if (k->type == T_U32)
			*(unsigned *)field = (unsigned)x;
		else
			*(uint64_t *)field = x;
		return 0;
	case T_UID:
		if (or_peer_uid_parse(v, &c->allowed_uid) != 0)
			break;
		c->has_uid = 1;
		return 0;
	case T_GID:
		if (or_peer_gid_parse(v, &c->allowed_gid) != 0)
			break;
		c->has_gid = 1;
		return 0;
	case T_ROGID:
		if (or_peer_gid_parse(v, &c->readonly_gid) != 0)
			break;
		c->has_ro_gid = 1;
		return 0;
	case T_POLICY:
		if (or_node_policy_parse(low, &c->node_policy, NULL) == 0)
			return 0;
		break;
	case T_LEVEL:
		c->log_level = cp_log_level_parse(low);
		if (c->log_level >= 0)
			return 0;
		break;
	case T_STORE:
		if (strcmp(low, "lmdb") != 0 && strcmp(low, "postgresql") != 0)
			break;
		c->store_pg = strcmp(low, "postgresql") == 0;
		return 0;
	case T_CONNINFO: {
		struct or_err e = { "" };

		/* Its message never quotes the string (a password). */
		if (or_pg_conninfo_check(v, &e) != 0 ||
		    strlen(v) >= sizeof(c->store_conninfo)) {
			or_ini_err(ini, k->name, "%s", e.msg[0] != '\0' ? e.msg
				   : "too long");
			return -1;
		}
		snprintf(c->store_conninfo, sizeof(c->store_conninfo), "%s", v);
		return 0;
	}
	case T_NAME:
		i = strlen(v);
		if (!or_mgmt_appliance_ok(v, i))
			break;
		memcpy(c->appliance_name, v, i + 1);
		return 0;
	}
	return or_ini_bad_value(ini, k->name, v, "%s", k->expect);
}

/* Sections: [control] is ours; [dataplane] has the channel's default;
 * [exporter] is optroute-exporter's; other sections belong to the
 * dataplane. A [metrics] section (where an operator may look for the
 * exporter's settings) would be ignored by every daemon, so it is refused,
 * like any control* section other than [control], so that a misplaced key
 * or a typo in a section name is not silently ignored. */
static void
cp_cfg_section(struct or_ini *ini)
{
	struct cp_cfg_ctx *x = ini->user;
	const char *s = ini->section;

	x->sect = S_OTHER;
	if (strcmp(s, "control") == 0)
		x->sect = S_CONTROL;
	else if (strcmp(s, "dataplane") == 0)
		x->sect = S_DATAPLANE;
	else if (strncmp(s, "metrics", 7) == 0)
		or_ini_err(ini, NULL, "unknown section (the metrics "
			   "settings are in [exporter], read by "
			   "optroute-exporter)");
	else if (strncmp(s, "control", 7) == 0)
		or_ini_err(ini, NULL, "unknown section (expected [control])");
}

/* An unknown [control] key; the keys /metrics had when optroute-control
 * served it get the name they have in [exporter] (docs/configuration.md,
 * "Moved keys"). */
static int
cp_cfg_moved_key(struct or_ini *ini, const char *name)
{
	static const struct {
		const char *old, *now;
	} moved[] = {
		{ "metrics", "listen" },
		{ "metrics_allow_remote", "allow_remote" },
		{ "metrics_max_age_ms", "max_age_ms" },
	};

	for (size_t i = 0; i < sizeof(moved) / sizeof(moved[0]); i++)
		if (strcmp(name, moved[i].old) == 0) {
			or_ini_err(ini, name, "moved: /metrics is served by "
				   "optroute-exporter, set [exporter] %s",
				   moved[i].now);
			return -1;
		}
	return or_ini_unknown_key(ini, name);
}

static int
cp_cfg_key(struct or_ini *ini, const char *name, const char *value)
{
	struct cp_cfg_ctx *x = ini->user;
	size_t i;

	/* [dataplane] channel, the default of channel_socket: read as the
	 * dataplane reads it (one function), even when channel_socket
	 * overrides it, since the same file configures the dataplane. */
	if (x->sect == S_DATAPLANE) {
		if (strcmp(name, "channel") != 0)
			return 0;
		if (or_ini_key_check(ini, name, 0) != 0)
			return -1;
		return or_ini_get_channel(ini, name, value, x->dp_channel);
	}
	if (x->sect != S_CONTROL)
		return 0;
	for (i = 0; i < CP_CFG_NKEYS; i++)
		if (strcmp(name, cp_cfg_keys[i].name) == 0)
			break;
	if (i == CP_CFG_NKEYS)
		return cp_cfg_moved_key(ini, name);
	if (or_ini_key_check(ini, name, 0) != 0)
		return -1;
	if (cp_cfg_set(ini, x->c, &cp_cfg_keys[i], value) != 0)
		return -1;
	x->seen[i] = ini->line;
	if (strcmp(name, "channel_socket") == 0)
		x->chan_set = 1;
	return 0;
}

static const struct or_ini_ops cp_cfg_ops = {
	.section = cp_cfg_section,
	.key = cp_cfg_key,
};

int
cp_cfg_load(const char *path, struct cp_cfg *c, char err[CP_CFG_ERR_LEN])
{
	struct cp_cfg_ctx x = { .c = c };
	int rc;

	or_ini_init(&x.ini, path, &cp_cfg_ops, &x, err, CP_CFG_ERR_LEN);
	rc = or_ini_parse_file(&x.ini, path);
	if (rc < 0)
		return rc;
	if (!x.chan_set && x.dp_channel[0] != '\0')
		memcpy(c->chan_socket, x.dp_channel, sizeof(c->chan_socket));
	/* Whole-file rules, at the line of the store key. */
	if (c->store_pg && (c->store_conninfo[0] == '\0' ||
			    c->appliance_name[0] == '\0')) {
		unsigned line = 0;

		for (size_t i = 0; i < CP_CFG_NKEYS; i++)
			if (strcmp(cp_cfg_keys[i].name, "store") == 0)
				line = x.seen[i];
		or_ini_err_at(&x.ini, line, "control", "store",
			      "postgresql needs %s",
			      c->store_conninfo[0] == '\0'
				      ? "store_conninfo"
				      : "appliance_name (no host name to "
					"default to)");
		return -EINVAL;
	}
	return 0;
}
