/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Who may talk on a local Unix socket (common/peer/peer.c): the peer check
 * both daemons make on accept, from the kernel's SO_PEERCRED (the peer's
 * uid, gid and pid when it connected) and SO_PEERGROUPS (its supplementary
 * groups), and the user and group values of their configurations.
 *
 *   socket                          policy from
 *   management (optroute-control)   [control] allowed_uid, allowed_gid
 *   update channel (dataplane)      [dataplane] channel_peer_uid,
 *                                   channel_peer_gid
 *
 * Always allowed: root, which can read the store, the key and the
 * dataplane's memory anyway, and the daemon's own effective uid, which can
 * ptrace it; refusing them would protect nothing. Then one configured uid,
 * and one configured group, matched against the peer's primary group and
 * its supplementary groups. The socket file's mode and group are a second,
 * independent barrier: a peer must pass both.
 *
 * No state: any thread may call these functions.
 */
#ifndef OPTROUTE_PEER_H
#define OPTROUTE_PEER_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* What a socket lets in beyond root and the process's own uid. */
struct or_peer_allow {
	int has_uid;
	int has_gid;
	uid_t uid;
	gid_t gid;
};

/* Supplementary groups read from SO_PEERGROUPS; a peer in more is matched
 * on its uid and primary group only. */
#define OR_PEER_MAX_GROUPS 256

/* The configuration spelling of a user or a group: decimal digits (an id,
 * 0..4294967294) or a name the system knows (getpwnam/getgrnam). 0, or
 * -EINVAL (not a number, unknown name); *out written only on success. */
int or_peer_uid_parse(const char *v, uid_t *out);
int or_peer_gid_parse(const char *v, gid_t *out);

/* The decision on given credentials: 1 allowed, 0 refused. self is the
 * daemon's effective uid; groups[0..n_groups) the peer's supplementary
 * groups (may be NULL when n_groups is 0). */
int or_peer_allowed(const struct or_peer_allow *a, uid_t self,
		    const struct ucred *cr, const gid_t *groups,
		    size_t n_groups);

/* The check on an accepted connection: reads the peer's credentials into
 * *cr (for the caller's log line) and decides with geteuid(). 1 allowed,
 * 0 refused, -errno when SO_PEERCRED cannot be read (refuse it too). The
 * supplementary groups are read only when the decision needs them; if they
 * cannot be read the peer is refused unless its uid or primary group
 * passes. */
int or_peer_check(int fd, const struct or_peer_allow *a, struct ucred *cr);

#endif
