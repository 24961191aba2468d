/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The daemons' shared command line (include/optroute/daemon_args.h).
 */
#include <getopt.h>
#include <stdio.h>

#include "optroute/daemon_args.h"
#include "optroute/mgmt.h"
#include "optroute/version.h"

static void
or_daemon_usage(FILE *f, const char *prog, const char *config_what)
{
	fprintf(f,
		"usage: %s -c FILE [--check]\n"
		"  -c, --config FILE  configuration (%s)\n"
		"      --check        check the configuration and exit\n"
		"  -V, --version      print the version and exit\n"
		"  -h, --help         this text\n", prog, config_what);
}

int
or_daemon_args(int argc, char **argv, const char *prog,
	       const char *config_what, struct or_daemon_args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*a = (struct or_daemon_args){ 0 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'C':
			a->check = 1;
			break;
		case 'V':
			printf("%s %s (management protocol %d)\n", prog,
			       OR_VERSION, OR_MGMT_VERSION);
			return 0;
		case 'h':
			or_daemon_usage(stdout, prog, config_what);
			return 0;
		default:
			or_daemon_usage(stderr, prog, config_what);
			return 2;
		}
	}
	if (a->config == NULL || optind != argc) {
		or_daemon_usage(stderr, prog, config_what);
		return 2;
	}
	return -1;
}
