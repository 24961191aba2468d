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
#include <time.h>

#include <systemd/sd-daemon.h>

#include "optroute/daemon_args.h"

#include "../lib/keys.h"
#include "../lib/store.h"

#include "cp_cfg.h"
#include "cp_daemon.h"
#include "cp_json.h"
#include "cp_log.h"
#include "cp_push.h"
#include "cp_srv.h"

uint64_t
cp_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
cp_now_ms(void)
{
	return cp_now_us() / 1000;
}

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
	struct or_store_conf sc = { .path = m->cfg.store_path };
	struct cp_push_conf pc = { 0 };
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
	sc.map_size = m->cfg.store_map_mb << 20;
	rc = or_store_open(&sc, &d->store, &err);
	if (rc < 0) {
		CP_ERR("store %s: %s", m->cfg.store_path, err.msg);
		return rc;
	}
	rc = or_store_stats(d->store, &ss, &err);
	if (rc < 0) {
		CP_ERR("store %s: %s", m->cfg.store_path, err.msg);
		return rc;
	}
	d->committed_seq = ss.last_seq;
	rc = or_store_auth_get(d->store, &d->auth, &err);
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
	pc.store = d->store;
	pc.keys = d->keys;
	pc.retry_ms = m->cfg.chan_retry_ms;
	pc.queue_max = m->cfg.chan_queue_max;
	rc = cp_push_start(&pc, &d->push);
	if (rc < 0) {
		CP_ERR("cannot start the channel thread: %s", strerror(-rc));
		return rc;
	}
	rc = cp_srv_open(d, &m->srv);
	if (rc < 0)
		return rc;
	CP_NOTICE("ready: management socket %s, store %s (%" PRIu64
		  " records, last seq %" PRIu64 "), key epoch %u, "
		  "auth epoch %u%s, dataplane channel %s",
		  m->cfg.mgmt_socket, m->cfg.store_path, ss.entries,
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
	cp_push_stop(m->d.push);
	or_store_close(m->d.store);
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
