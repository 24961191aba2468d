/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-client's parts (main.c: command line, sockets, output helpers;
 * send.c: the send command; recv.c: the recv command; keys.c: keygen and
 * open-key).
 */
#ifndef OR_CLIENT_H
#define OR_CLIENT_H

#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "tests/tools/or_client_key.h"
#include "tests/tools/or_client_msg.h"

#define CLIENT_PROG "optroute-client"

/* The protocol version send uses without --v1, --v2 or --key, and the
 * one named first in --help: version 2, what the dataplane checks by
 * default (auth = yes). Version 1 (unsigned) only with --v1, for an
 * appliance run with auth = no (lab use). */
#define CLIENT_DEFAULT_VERSION OR_PROTO_V2

#define EXIT_FAIL 1   /* expectation not met, I/O error */
#define EXIT_USAGE 2  /* bad command line */
#define EXIT_FORGED 3 /* send: a bounce with a bad tag came */

/* Bounds of the command line options: every wait has a limit. */
#define MAX_SEND_COUNT 1000000u
#define MAX_INTERVAL_MS 60000u
#define MAX_WAIT_MS 600000u
#define MAX_TIMEOUT_MS 3600000u
#define MAX_REPEAT 1000u
#define MAX_TIME_OFFSET_MS 1000000000000ll /* ~31 years */
#define RX_BUF_LEN 65536u /* more than the largest UDP payload */

/* After the last expected bounce, wait this long for duplicates. */
#define CLIENT_LINGER_MS 100

/* Set by SIGINT/SIGTERM: loops end early. */
extern volatile sig_atomic_t stop_flag;

void install_signals(void);
uint64_t now_ms(void);
uint64_t wall_ms(void);
void usage(FILE *f);
int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max,
	      uint64_t *out);
int parse_addr(const char *opt, const char *s, int allow_zero,
	       struct sockaddr_in *sa);
int parse_token(const char *opt, const char *s, struct or_token *t);
int parse_i64(const char *opt, const char *s, int64_t bound, int64_t *out);
void id_str(uint64_t id, char *buf, size_t len);
void emit_json(json_t *o);
int open_socket(const struct sockaddr_in *bind_sa);
int wait_readable(int fd, uint64_t timeout_ms);
ssize_t rx_one(int fd, uint8_t *buf, size_t cap, struct sockaddr_in *from);
void report_invalid(int json, const char *what, enum or_cli_err e,
		    const struct sockaddr_in *from, size_t len);

/* The commands: argv[0] is the command name. */
int cmd_send(int argc, char **argv);
int cmd_recv(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_open_key(int argc, char **argv);

#endif
