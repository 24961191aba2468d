/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-exporter's configuration (exp.h): the [exporter] section of the
 * daemons' optroute.ini, read through the INI layer they share
 * (include/optroute/or_ini.h: syntax, line numbers, error format, value
 * parsers), and the management socket from [control] mgmt_socket, the one
 * place it is defined. Keys: docs/exporter.md#configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "optroute/mgmt.h"

#include "exp.h"

void
exp_cfg_defaults(struct exp_cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->mgmt_socket, sizeof(c->mgmt_socket), "%s",
		 OR_MGMT_DEFAULT_SOCKET);
	/* Loopback only by default: the endpoint has no authentication. */
	or_listen_parse(EXP_DEFAULT_LISTEN, &c->addr, &c->addr_len);
	c->max_age_ms = 1000;
	c->log_level = OR_LOG_INFO;
}

struct exp_cfg_ctx {
	struct or_ini ini;
	struct exp_cfg *c;
	enum { S_OTHER, S_EXPORTER, S_CONTROL } sect;
	unsigned listen_line; /* where [exporter] listen was given, or 0 */
};

static void
exp_cfg_section(struct or_ini *ini)
{
	struct exp_cfg_ctx *x = ini->user;
	const char *s = ini->section;

	x->sect = S_OTHER;
	if (strcmp(s, "exporter") == 0)
		x->sect = S_EXPORTER;
	else if (strcmp(s, "control") == 0)
		x->sect = S_CONTROL;
	else if (strncmp(s, "exporter", 8) == 0)
		/* A misspelt section would otherwise be skipped silently. */
		or_ini_err(ini, NULL, "unknown section (expected [exporter])");
}

static int
exp_cfg_exporter_key(struct or_ini *ini, struct exp_cfg *c, const char *k,
		     const char *v)
{
	struct exp_cfg_ctx *x = ini->user;
	uint64_t u;
	int i;

	if (strcmp(k, "listen") == 0) {
		if (or_listen_parse(v, &c->addr, &c->addr_len) != 0)
			return or_ini_bad_value(ini, k, v, "PORT, IPV4:PORT or "
						"[IPV6]:PORT (numeric, port "
						"1..65535)");
		x->listen_line = ini->line;
		return 0;
	}
	if (strcmp(k, "allow_remote") == 0)
		return or_ini_get_bool(ini, k, v, &c->allow_remote);
	if (strcmp(k, "max_age_ms") == 0) {
		if (or_ini_get_uint(ini, k, v, 0, 60000, NULL, &u) != 0)
			return -1;
		c->max_age_ms = (unsigned)u;
		return 0;
	}
	if (strcmp(k, "log_level") == 0) {
		i = or_log_level_parse(v);
		if (i < 0)
			return or_ini_bad_value(ini, k, v, OR_LOG_LEVEL_WORDS);
		c->log_level = i;
		return 0;
	}
	return or_ini_unknown_key(ini, k);
}

static int
exp_cfg_key(struct or_ini *ini, const char *key, const char *value)
{
	struct exp_cfg_ctx *x = ini->user;

	if (x->sect == S_CONTROL) {
		/* The control plane's other keys are its own to check. */
		if (strcmp(key, "mgmt_socket") != 0)
			return 0;
		if (or_ini_key_check(ini, key, 0) != 0)
			return -1;
		return or_ini_get_path(ini, key, value, "socket path",
				       x->c->mgmt_socket,
				       sizeof(x->c->mgmt_socket));
	}
	if (x->sect != S_EXPORTER)
		return 0;
	if (or_ini_key_check(ini, key, 0) != 0)
		return -1;
	return exp_cfg_exporter_key(ini, x->c, key, value);
}

static const struct or_ini_ops exp_cfg_ops = {
	.section = exp_cfg_section,
	.key = exp_cfg_key,
};

/* After the whole file: allow_remote may come after listen. */
static int
exp_cfg_check(struct exp_cfg_ctx *x)
{
	char addr[OR_LISTEN_STR_LEN];

	if (x->c->allow_remote || or_listen_is_loopback(&x->c->addr))
		return 0;
	or_listen_str(&x->c->addr, addr);
	or_ini_err_at(&x->ini, x->listen_line, "exporter", "listen",
		      "%s is not a loopback address; /metrics has no "
		      "authentication, so serving it beyond this host needs "
		      "allow_remote = yes", addr);
	return -EINVAL;
}

static int
exp_cfg_finish(struct exp_cfg_ctx *x, int rc)
{
	if (rc < 0)
		return rc;
	return exp_cfg_check(x);
}

int
exp_cfg_load(const char *path, struct exp_cfg *c, char err[EXP_CFG_ERR_LEN])
{
	struct exp_cfg_ctx x = { .c = c };

	or_ini_init(&x.ini, path, &exp_cfg_ops, &x, err, EXP_CFG_ERR_LEN);
	return exp_cfg_finish(&x, or_ini_parse_file(&x.ini, path));
}

int
exp_cfg_load_string(const char *name, const char *text, struct exp_cfg *c,
		    char err[EXP_CFG_ERR_LEN])
{
	struct exp_cfg_ctx x = { .c = c };

	or_ini_init(&x.ini, name, &exp_cfg_ops, &x, err, EXP_CFG_ERR_LEN);
	return exp_cfg_finish(&x, or_ini_parse_string(&x.ini, text));
}
