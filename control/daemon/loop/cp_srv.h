/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The management server: one event-loop thread (epoll) serving every
 * client of the management socket, with group commit.
 *
 * A loop round reads every readable client and handles its complete
 * request lines in order (at most 64 a round; the rest next round).
 * Requests that change consent add their changes to the current group;
 * once a round finds no client with input ready (of those that have sent
 * a well-formed request), or the group is 10 ms old, or before a read that
 * must see them, or when the group is full, the whole group is applied in
 * ONE store transaction, and only then are those requests answered, or,
 * with "wait", parked until the dataplane acknowledges their seq.
 * Committed changes go to the channel thread (dplink/) in the same order.
 *
 * Limits (docs/control.md, "Limits and abuse"), each close counted per
 * reason: max_clients connections (at the limit a new one evicts one with
 * nothing in progress that sent no well-formed request, or idle for 10 s,
 * else it is refused); max_pending requests awaiting a commit, an ack or
 * dataplane counters; a line must end within line_timeout_ms and a
 * connection with nothing to do is closed after idle_timeout_ms; a line
 * over OR_MGMT_MAX_LINE closes the connection, as do 16 malformed requests
 * in a row; a client that does not read its replies is not read either
 * (cp_client.h) and is closed after idle_timeout_ms.
 */
#ifndef CP_SRV_H
#define CP_SRV_H

#include "control/daemon/cp_daemon.h"

struct cp_srv;

/* Creates the listening socket (mode 0660, group allowed_gid if set).
 * 0 or -errno (logged). */
int cp_srv_open(struct cp_daemon *d, struct cp_srv **out);

/* Runs until SIGINT or SIGTERM (which the caller has blocked). 0 or
 * -errno. */
int cp_srv_run(struct cp_srv *s);

/* Answers what is pending, closes every client and the socket, unlinks
 * its path. NULL is fine. */
void cp_srv_close(struct cp_srv *s);

#endif
