/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-control: the consent control plane daemon.
 *   optroute-control -c FILE [--check]
 * Reference: docs/control.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "optroute/daemon_args.h"

#include "control/daemon/dplink/cp_link.h"
#include "control/daemon/loop/cp_json.h"
#include "control/daemon/loop/cp_srv.h"
#include "control/lib/keys.h"
#include "control/store/sor.h"

#include "cp_cfg.h"
#include "cp_daemon.h"
#include "cp_log.h"

/* Everything the daemon holds, torn down in reverse order. */
struct cp_main {
	struct cp_cfg cfg;
	struct cp_daemon d;
	struct cp_srv *srv;
};

static int
cp_start(struct cp_main *m)
{
	struct cp_daemon *d = &m->d;
	struct or_sor_conf sc = {
		.backend = m->cfg.store_pg ? OR_SOR_BACKEND_PG
					   : OR_SOR_BACKEND_LMDB,
		.store = { .path = m->cfg.store_path },
		.node_policy = &m->cfg.node_policy,
		/* Committed changes and key sets go to the channel
		 * thread, in seq order. */
		.sink = cp_link_sink(&d->link),
		.conninfo = m->cfg.store_conninfo,
		.appliance = m->cfg.appliance_name,
		.key_epoch = (uint8_t)m->cfg.key_epoch,
		.commit_timeout_ms = m->cfg.fleet_commit_timeout_ms,
		.report_ms = m->cfg.fleet_report_ms,
		.silence_ms = m->cfg.fleet_silence_ms,
		.resync_after = m->cfg.fleet_resync_after,
	};
	struct cp_link_conf pc = { 0 };
	struct or_store_stats ss;
	struct or_err err = { "" };
	sigset_t set;
	int rc;

	d->cfg = &m->cfg;
	d->start_ms = cp_now_ms();
	/* No core dump may ever hold the master key or a number. */
	rc = or_process_harden(&err);
	if (rc < 0) {
		CP_ERR("cannot harden the process: %s", err.msg);
		return rc;
	}
	rc = or_keys_load(m->cfg.key_file, &d->keys, &err);
	if (rc < 0) {
		CP_ERR("%s", err.msg);
		return rc;
	}
	sc.store.map_size = m->cfg.store_map_mb << 20;
	or_keys_fleet_check(d->keys, sc.key_check);
	rc = or_sor_open(&sc, &d->sor, &err);
	if (rc < 0) {
		CP_ERR("store %s: %s", m->cfg.store_path, err.msg);
		return rc;
	}
	rc = or_sor_stats(d->sor, &ss, &err);
	if (rc < 0) {
		CP_ERR("store %s: %s", m->cfg.store_path, err.msg);
		return rc;
	}
	d->committed_seq = ss.last_seq;
	rc = or_sor_auth_get(d->sor, &d->auth, &err);
	if (rc < 0) {
		CP_ERR("store %s: %s", m->cfg.store_path, err.msg);
		return rc;
	}

	/* Signals are read by the event loop (signalfd); the channel thread
	 * inherits the blocked mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	pc.chan_path = m->cfg.chan_socket;
	pc.sor = d->sor;
	pc.keys = d->keys;
	pc.retry_ms = m->cfg.chan_retry_ms;
	pc.queue_max = m->cfg.chan_queue_max;
	rc = cp_link_start(&pc, &d->link);
	if (rc < 0) {
		CP_ERR("cannot start the channel thread: %s", strerror(-rc));
		return rc;
	}
	/* The sink reaches the channel thread from now on. */
	rc = or_sor_start(d->sor);
	if (rc < 0) {
		CP_ERR("cannot start the store's threads: %s", strerror(-rc));
		return rc;
	}
	rc = cp_srv_open(d, &m->srv);
	if (rc < 0)
		return rc;
	CP_NOTICE("ready: management socket %s, store %s%s%s%s (%" PRIu64
		  " records, last seq %" PRIu64 "), key epoch %u, "
		  "auth epoch %u%s, dataplane channel %s",
		  m->cfg.mgmt_socket, m->cfg.store_pg ? "postgresql, appliance "
						      : "",
		  m->cfg.store_pg ? m->cfg.appliance_name : "",
		  m->cfg.store_pg ? ", local copy " : "", m->cfg.store_path,
		  ss.entries,
		  ss.last_seq, m->cfg.key_epoch, d->auth.current,
		  d->auth.has_previous ? " (previous still live)" : "",
		  m->cfg.chan_socket);
	sd_notify(0, "READY=1");
	return 0;
}

static void
cp_stop(struct cp_main *m)
{
	sd_notify(0, "STOPPING=1");
	/* The server first: it commits and answers what it has read. */
	cp_srv_close(m->srv);
	/* The store's threads feed the channel thread: they end first. */
	or_sor_stop(m->d.sor);
	cp_link_stop(m->d.link);
	or_sor_close(m->d.sor);
	or_keys_free(m->d.keys);
}

int
main(int argc, char **argv)
{
	static struct cp_main m; /* large (group arrays live in the server) */
	char err[CP_CFG_ERR_LEN];
	struct or_daemon_args a;
	int rc;

	/* Before any jansson use: freed JSON memory is wiped. */
	cp_json_init();
	rc = or_daemon_args(argc, argv, "optroute-control",
			    "[control] section; see docs/control.md", &a);
	if (rc >= 0)
		return rc;
	cp_cfg_defaults(&m.cfg);
	if (cp_cfg_load(a.config, &m.cfg, err) < 0) {
		fprintf(stderr, "optroute-control: %s\n", err);
		return 2;
	}
	if (a.check) {
		printf("%s: configuration OK\n", a.config);
		return 0;
	}
	cp_log_set_level(m.cfg.log_level);
	rc = cp_start(&m);
	if (rc == 0)
		rc = cp_srv_run(m.srv);
	cp_stop(&m);
	if (rc == 0)
		CP_NOTICE("stopped");
	return rc == 0 ? 0 : 1;
}
