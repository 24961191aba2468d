/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The management socket: creation (mode 0660, group allowed_gid) and the
 * peer check on accept (SO_PEERCRED, SO_PEERGROUPS).
 *
 * Who may connect: root, the daemon's own uid, allowed_uid, and any process
 * whose primary or supplementary group is allowed_gid. Root is always
 * allowed because it can read the store and the key file anyway; refusing
 * it would protect nothing. Beyond those, a process whose primary or
 * supplementary group is readonly_gid connects as a read-only client (it
 * may run the commands OR_MGMT_CMDS marks RO; cp_srv.c refuses the rest).
 * The socket's mode and group are a second, independent barrier (both must
 * pass): mode 0660, group allowed_gid, and with readonly_gid an access ACL
 * entry that gives that group the same rw.
 */
#ifndef CP_LISTEN_H
#define CP_LISTEN_H

#include <sys/types.h>

#include "control/daemon/cp_daemon.h"

/* Creates, binds and listens; replaces a stale socket file but refuses to
 * take over one a live daemon answers on. fd or -errno (logged). */
int cp_listen_open(const struct cp_cfg *cfg);

/* Accepts one connection. fd (non-blocking) with the peer's uid and pid,
 * and *readonly 1 if only readonly_gid let it in; -EAGAIN when there is
 * none left, -EMFILE when out of descriptors (the connections wait in the
 * backlog), or -EPERM / -errno for a connection that was refused
 * (answered, closed and logged here). */
int cp_listen_accept(struct cp_daemon *d, int lfd, uid_t *uid, pid_t *pid,
		     int *readonly);

/* Answers a connection with one error line and closes it. */
void cp_listen_refuse(int fd, const char *code, const char *msg);

/* Closes the socket and unlinks its path. */
void cp_listen_close(const struct cp_cfg *cfg, int lfd);

#endif
