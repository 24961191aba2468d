/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-exporter: the appliance's Prometheus endpoint (exp.h).
 *   optroute-exporter -c FILE [--check]
 * Reference: docs/exporter.md.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "optroute/daemon_args.h"

#include "exp.h"

/* Serves until SIGTERM or SIGINT. 0, or 1 if it could not start. */
static int
exp_run(const struct exp_cfg *cfg)
{
	struct exp_http *h;
	sigset_t set;
	int sig = 0;

	/* Blocked before any thread starts, so that every thread inherits
	 * the mask and the signals wait for sigwait() below. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (exp_http_start(cfg, &h) < 0)
		return 1;
	sd_notify(0, "READY=1");
	if (sigwait(&set, &sig) != 0)
		sig = SIGTERM;
	EXP_NOTICE("%s: stopping", strsignal(sig));
	sd_notify(0, "STOPPING=1");
	exp_http_stop(h);
	EXP_NOTICE("stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	char err[EXP_CFG_ERR_LEN];
	struct or_daemon_args a;
	struct exp_cfg cfg;
	int rc;

	or_log_set_name("optroute-exporter");
	rc = or_daemon_args(argc, argv, "optroute-exporter",
			    "[exporter] section and [control] mgmt_socket; "
			    "see docs/exporter.md", &a);
	if (rc >= 0)
		return rc;
	exp_cfg_defaults(&cfg);
	if (exp_cfg_load(a.config, &cfg, err) < 0) {
		fprintf(stderr, "optroute-exporter: %s\n", err);
		return 2;
	}
	if (a.check) {
		printf("%s: configuration OK\n", a.config);
		return 0;
	}
	or_log_set_level(cfg.log_level);
	return exp_run(&cfg);
}
