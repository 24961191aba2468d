/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "cp_cfg.h"
#include "cp_log.h"
#include "cp_metrics.h"

void
cp_cfg_defaults(struct cp_cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->mgmt_socket, sizeof(c->mgmt_socket), "%s",
		 OR_MGMT_DEFAULT_SOCKET);
	snprintf(c->chan_socket, sizeof(c->chan_socket), "%s",
		 CP_CFG_DEFAULT_CHANNEL);
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
	/* Loopback only by default: the endpoint has no authentication. */
	c->metrics_on = 1;
	cp_metrics_parse_listen(CP_METRICS_DEFAULT_LISTEN, &c->metrics_addr,
				&c->metrics_addr_len);
	c->metrics_max_age_ms = 1000;
}

enum cp_cfg_type {
	T_PATH,   /* char[], size in 'size' */
	T_U32,    /* unsigned, in [lo, hi] */
	T_U64,    /* uint64_t, in [lo, hi] */
	T_UID,
	T_GID,
	T_POLICY,
	T_LEVEL,
	T_LISTEN, /* metrics: off or a listen address */
	T_BOOL,   /* int: yes/no */
};

static const struct cp_cfg_key {
	const char *name;
	enum cp_cfg_type type;
	size_t off, size;
	uint64_t lo, hi;
	const char *expect;
} cp_cfg_keys[] = {
#define K_PATH(n, f) { n, T_PATH, offsetof(struct cp_cfg, f),                \
		       sizeof(((struct cp_cfg *)0)->f), 0, 0,                \
		       "a non-empty path, at most " #f " length" }
#define K_U32(n, f, lo, hi) { n, T_U32, offsetof(struct cp_cfg, f), 0, lo,   \
			      hi, "an integer in [" #lo ", " #hi "]" }
	K_PATH("mgmt_socket", mgmt_socket),
	K_PATH("channel_socket", chan_socket),
	K_PATH("store_path", store_path),
	K_PATH("key_file", key_file),
	{ "store_map_mb", T_U64, offsetof(struct cp_cfg, store_map_mb), 0, 16,
	  1u << 24, "an integer in [16, 16777216] (MiB)" },
	K_U32("key_epoch", key_epoch, 0, 255),
	{ "allowed_uid", T_UID, 0, 0, 0, 0, "a user name or a numeric uid" },
	{ "allowed_gid", T_GID, 0, 0, 0, 0, "a group name or a numeric gid" },
	{ "node_policy", T_POLICY, 0, 0, 0, 0,
	  "'fixed NODE' (0..65535) or 'hash COUNT' (1..65536)" },
	K_U32("notice_version", notice_version, 0, 4294967295u),
	K_U32("max_clients", max_clients, 1, 65536),
	K_U32("max_pending", max_pending, 1, 1048576),
	K_U32("line_timeout_ms", line_timeout_ms, 10, 3600000),
	K_U32("idle_timeout_ms", idle_timeout_ms, 10, 86400000),
	K_U32("wait_timeout_ms", wait_timeout_ms, 1, 3600000),
	K_U32("channel_retry_ms", chan_retry_ms, 10, 3600000),
	K_U32("channel_queue_max", chan_queue_max, 1024, 1073741824),
	{ "log_level", T_LEVEL, 0, 0, 0, 0,
	  "error, warning, notice, info or debug" },
	{ "metrics", T_LISTEN, 0, 0, 0, 0,
	  "off, PORT, IPV4:PORT or [IPV6]:PORT (numeric, port 1..65535)" },
	{ "metrics_allow_remote", T_BOOL,
	  offsetof(struct cp_cfg, metrics_allow_remote), 0, 0, 0,
	  "yes or no" },
	K_U32("metrics_max_age_ms", metrics_max_age_ms, 0, 60000),
#undef K_PATH
#undef K_U32
};

#define CP_CFG_NKEYS (sizeof(cp_cfg_keys) / sizeof(cp_cfg_keys[0]))

struct cp_cfg_ctx {
	struct cp_cfg *c;
	FILE *f;
	int line;     /* number of the line read last */
	int mid_line; /* the last read ended without a newline (long line) */
	int err_line; /* line of our first error, 0 if none */
	int seen[CP_CFG_NKEYS];
	int chan_set; /* channel_socket given in [control] */
	char dp_channel[CP_SUN_PATH_MAX]; /* [dataplane] channel, if any */
	char msg[CP_CFG_ERR_LEN - 64];
};

/* fgets-style reader for ini_parse_stream that counts lines, so a bad
 * value is reported with its own line number. */
static char *
cp_cfg_read_line(char *str, int num, void *stream)
{
	struct cp_cfg_ctx *x = stream;
	char *r = fgets(str, num, x->f);

	if (r != NULL) {
		if (!x->mid_line)
			x->line++;
		x->mid_line = strchr(r, '\n') == NULL;
	}
	return r;
}

/* Unsigned decimal in [lo, hi]; the whole string must be used. */
static int
cp_cfg_uint(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi)
		return -EINVAL;
	*out = x;
	return 0;
}

static int
cp_cfg_set(struct cp_cfg *c, const struct cp_cfg_key *k, const char *v)
{
	char *field = (char *)c + k->off;
	uint64_t x;

	switch (k->type) {
	case T_PATH:
		if (*v == '\0' || strlen(v) >= k->size)
			return -EINVAL;
		memcpy(field, v, strlen(v) + 1);
		return 0;
	case T_U32:
	case T_U64:
		if (cp_cfg_uint(v, k->lo, k->hi, &x) != 0)
			return -EINVAL;
		if (k->type == T_U32)
			*(unsigned *)field = (unsigned)x;
		else
			*(uint64_t *)field = x;
		return 0;
	case T_UID: {
		struct passwd *pw;

		c->has_uid = 1;
		if (cp_cfg_uint(v, 0, UINT32_MAX - 1, &x) == 0) {
			c->allowed_uid = (uid_t)x;
			return 0;
		}
		pw = getpwnam(v);
		if (pw == NULL)
			return -EINVAL;
		c->allowed_uid = pw->pw_uid;
		return 0;
	}
	case T_GID: {
		struct group *gr;

		c->has_gid = 1;
		if (cp_cfg_uint(v, 0, UINT32_MAX - 1, &x) == 0) {
			c->allowed_gid = (gid_t)x;
			return 0;
		}
		gr = getgrnam(v);
		if (gr == NULL)
			return -EINVAL;
		c->allowed_gid = gr->gr_gid;
		return 0;
	}
	case T_POLICY:
		return or_node_policy_parse(v, &c->node_policy, NULL);
	case T_LEVEL:
		c->log_level = cp_log_level_parse(v);
		return c->log_level < 0 ? -EINVAL : 0;
	case T_LISTEN:
		if (strcmp(v, "off") == 0) {
			c->metrics_on = 0;
			return 0;
		}
		c->metrics_on = 1;
		return cp_metrics_parse_listen(v, &c->metrics_addr,
					       &c->metrics_addr_len);
	case T_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
		    strcmp(v, "on") == 0 || strcmp(v, "1") == 0)
			*(int *)field = 1;
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
			 strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
			*(int *)field = 0;
		else
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

/* [dataplane] channel, the default of channel_socket: refused as the
 * dataplane refuses it (dataplane/config.c), even when channel_socket
 * overrides it, since the same file configures the dataplane. A path that
 * does not fit sun_path is an error, never a truncated copy: the daemons
 * would use different sockets. */
static int
cp_cfg_dp_channel(struct cp_cfg_ctx *x, const char *value)
{
	size_t len = strlen(value);

	if (len > 0 && len < sizeof(x->dp_channel)) {
		memcpy(x->dp_channel, value, len + 1);
		return 1;
	}
	if (x->err_line != 0)
		return 0;
	x->err_line = x->line;
	/* A line longer than inih's buffer comes in pieces: this is only
	 * the first part of the value. */
	snprintf(x->msg, sizeof(x->msg),
		 "[dataplane] channel: invalid value '%.200s%s' (expected a "
		 "socket path of 1..%zu characters)",
		 value, x->mid_line && !feof(x->f) ? "..." : "",
		 sizeof(x->dp_channel) - 1);
	return 0;
}

static int
cp_cfg_handler(void *user, const char *section, const char *name,
	       const char *value)
{
	struct cp_cfg_ctx *x = user;
	size_t i;

	if (strcmp(section, "dataplane") == 0 && strcmp(name, "channel") == 0)
		return cp_cfg_dp_channel(x, value);
	/* Other sections belong to the dataplane. The dataplane also skips
	 * metrics* sections, but the metrics keys are in [control]: a
	 * [metrics] section would be ignored by both daemons, so it is
	 * refused, like any control* section other than [control], so that
	 * a misplaced key or a typo in a section name is not silently
	 * ignored. */
	if (strncmp(section, "control", 7) != 0 &&
	    strncmp(section, "metrics", 7) != 0)
		return 1;
	if (x->err_line != 0)
		return 0;
	x->err_line = x->line;
	if (strncmp(section, "metrics", 7) == 0) {
		snprintf(x->msg, sizeof(x->msg),
			 "[%.64s] unknown section (the metrics keys are in "
			 "[control]: metrics, metrics_allow_remote, "
			 "metrics_max_age_ms)",
			 section);
		return 0;
	}
	if (strcmp(section, "control") != 0) {
		snprintf(x->msg, sizeof(x->msg),
			 "[%.64s] unknown section (expected [control])",
			 section);
		return 0;
	}
	for (i = 0; i < CP_CFG_NKEYS; i++)
		if (strcmp(name, cp_cfg_keys[i].name) == 0)
			break;
	if (i == CP_CFG_NKEYS) {
		snprintf(x->msg, sizeof(x->msg), "[control] %.64s: unknown key",
			 name);
		return 0;
	}
	if (x->seen[i]) {
		snprintf(x->msg, sizeof(x->msg),
			 "[control] %s: duplicate key (first on line %d)",
			 name, x->seen[i]);
		return 0;
	}
	if (cp_cfg_set(x->c, &cp_cfg_keys[i], value) != 0) {
		snprintf(x->msg, sizeof(x->msg),
			 "[control] %s: invalid value '%.200s' (expected %s)",
			 name, value, cp_cfg_keys[i].expect);
		return 0;
	}
	x->seen[i] = x->line;
	if (strcmp(name, "channel_socket") == 0)
		x->chan_set = 1;
	x->err_line = 0;
	return 1;
}

/* After the whole file: metrics_allow_remote may come after metrics. */
static int
cp_cfg_check_metrics(const struct cp_cfg_ctx *x, const char *path,
		     char err[CP_CFG_ERR_LEN])
{
	const struct cp_cfg *c = x->c;
	char addr[CP_METRICS_ADDR_LEN];
	size_t i;

	if (!c->metrics_on || c->metrics_allow_remote ||
	    cp_metrics_is_loopback(&c->metrics_addr))
		return 0;
	for (i = 0; i < CP_CFG_NKEYS; i++)
		if (strcmp(cp_cfg_keys[i].name, "metrics") == 0)
			break;
	cp_metrics_addr_str(&c->metrics_addr, addr);
	snprintf(err, CP_CFG_ERR_LEN,
		 "%s:%d: [control] metrics: %s is not a loopback address; "
		 "/metrics has no authentication, so serving it beyond this "
		 "host needs metrics_allow_remote = yes",
		 path, i < CP_CFG_NKEYS ? x->seen[i] : 0, addr);
	return -EINVAL;
}

int
cp_cfg_load(const char *path, struct cp_cfg *c, char err[CP_CFG_ERR_LEN])
{
	struct cp_cfg_ctx x = { .c = c };
	int line, rc;

	x.f = fopen(path, "re");
	if (x.f == NULL) {
		snprintf(err, CP_CFG_ERR_LEN, "%s: cannot open: %s", path,
			 strerror(errno));
		return -ENOENT;
	}
	line = ini_parse_stream(cp_cfg_read_line, &x, cp_cfg_handler, &x);
	fclose(x.f);
	if (line == -2) {
		snprintf(err, CP_CFG_ERR_LEN, "%s: out of memory", path);
		return -ENOMEM;
	}
	if (line != 0) {
		/* The first error is ours (err_line set) unless inih found a
		 * syntax error on an earlier line. */
		if (x.err_line != 0 && (line < 0 || x.err_line <= line))
			snprintf(err, CP_CFG_ERR_LEN, "%s:%d: %s", path,
				 x.err_line, x.msg);
		else
			snprintf(err, CP_CFG_ERR_LEN, "%s:%d: syntax error",
				 path, line);
		return -EINVAL;
	}
	rc = cp_cfg_check_metrics(&x, path, err);
	if (rc < 0)
		return rc;
	/* Both CP_SUN_PATH_MAX long, the length checked on its line. */
	if (!x.chan_set && x.dp_channel[0] != '\0')
		memcpy(c->chan_socket, x.dp_channel, sizeof(c->chan_socket));
	return 0;
}
