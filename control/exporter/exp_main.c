/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-exporter: the appliance's Prometheus endpoint (exp.h).
 *   optroute-exporter -c FILE [--check]
 * Reference: docs/exporter.md.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "optroute/mgmt.h"
#include "optroute/version.h"

#include "exp.h"

static void
exp_usage(FILE *f)
{
	fprintf(f,
		"usage: optroute-exporter -c FILE [--check]\n"
		"  -c, --config FILE  configuration ([exporter] section and "
		"[control] mgmt_socket;\n"
		"                     see docs/exporter.md)\n"
		"      --check        check the configuration and exit\n"
		"  -V, --version      print the version and exit\n"
		"  -h, --help         this text\n");
}

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
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[EXP_CFG_ERR_LEN];
	const char *conf = NULL;
	struct exp_cfg cfg;
	int check = 0, c;

	or_log_set_name("optroute-exporter");
	while ((c = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 'C':
			check = 1;
			break;
		case 'V':
			printf("optroute-exporter %s (management protocol %d)\n",
			       OR_VERSION, OR_MGMT_VERSION);
			return 0;
		case 'h':
			exp_usage(stdout);
			return 0;
		default:
			exp_usage(stderr);
			return 2;
		}
	}
	if (conf == NULL || optind != argc) {
		exp_usage(stderr);
		return 2;
	}
	exp_cfg_defaults(&cfg);
	if (exp_cfg_load(conf, &cfg, err) < 0) {
		fprintf(stderr, "optroute-exporter: %s\n", err);
		return 2;
	}
	if (check) {
		printf("%s: configuration OK\n", conf);
		return 0;
	}
	or_log_set_level(cfg.log_level);
	return exp_run(&cfg);
}
