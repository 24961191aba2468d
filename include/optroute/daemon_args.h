/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The command line the optroute daemons that read optroute.ini share
 * (optroute-control, optroute-exporter):
 *
 *   PROG -c FILE [--check] | -V | -h
 *
 * One parser, so that the options, the usage text, the version line and
 * the exit statuses (0 after -V or -h, 2 for a bad command line, as for a
 * bad configuration) are the same for each.
 */
#ifndef OR_DAEMON_ARGS_H
#define OR_DAEMON_ARGS_H

struct or_daemon_args {
	const char *config; /* -c FILE */
	int check;          /* --check: check the configuration and exit */
};

/* Parses argv. -1: go on with *a; otherwise the status to exit with (the
 * version or usage is printed). config_what says what of the file the
 * program reads, for the usage text (e.g. "[control] section; see
 * docs/control.md"). */
int or_daemon_args(int argc, char **argv, const char *prog,
		   const char *config_what, struct or_daemon_args *a);

#endif /* OR_DAEMON_ARGS_H */
