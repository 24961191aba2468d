/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The peer check of the daemons' Unix sockets (include/optroute/peer.h).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <unistd.h>

#include "optroute/or_ini.h"
#include "optroute/peer.h"

/* Digits first: a name made of digits would be ambiguous, and the id is
 * what the kernel compares. (uid_t)-1 is "no id" to the kernel. */
static int
peer_id_number(const char *v, uint32_t *out)
{
	uint64_t x;

	if (or_ini_uint(v, 0, UINT32_MAX - 1, &x) != 0)
		return -EINVAL;
	*out = (uint32_t)x;
	return 0;
}

int
or_peer_uid_parse(const char *v, uid_t *out)
{
	struct passwd *pw;
	uint32_t id;

	if (v == NULL || v[0] == '\0')
		return -EINVAL;
	if (peer_id_number(v, &id) == 0) {
		*out = (uid_t)id;
		return 0;
	}
	pw = getpwnam(v);
	if (pw == NULL)
		return -EINVAL;
	*out = pw->pw_uid;
	return 0;
}

int
or_peer_gid_parse(const char *v, gid_t *out)
{
	struct group *gr;
	uint32_t id;

	if (v == NULL || v[0] == '\0')
		return -EINVAL;
	if (peer_id_number(v, &id) == 0) {
		*out = (gid_t)id;
		return 0;
	}
	gr = getgrnam(v);
	if (gr == NULL)
		return -EINVAL;
	*out = gr->gr_gid;
	return 0;
}

/* Without the supplementary groups: 1 allowed, 0 refused, -1 undecided
 * (only a supplementary group could let it in). */
static int
peer_decide(const struct or_peer_allow *a, uid_t self, const struct ucred *cr)
{
	if (cr->uid == 0 || cr->uid == self)
		return 1;
	if (a->has_uid && cr->uid == a->uid)
		return 1;
	if (!a->has_gid)
		return 0;
	if (cr->gid == a->gid)
		return 1;
	return -1;
}

int
or_peer_allowed(const struct or_peer_allow *a, uid_t self,
		const struct ucred *cr, const gid_t *groups, size_t n_groups)
{
	int rc = peer_decide(a, self, cr);

	if (rc >= 0)
		return rc;
	for (size_t i = 0; i < n_groups; i++)
		if (groups[i] == a->gid)
			return 1;
	return 0;
}

int
or_peer_check(int fd, const struct or_peer_allow *a, struct ucred *cr)
{
	gid_t groups[OR_PEER_MAX_GROUPS];
	socklen_t len = sizeof(*cr);
	int rc;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &len) < 0)
		return -errno;
	if (len != sizeof(*cr))
		return -EPROTO;
	rc = peer_decide(a, geteuid(), cr);
	if (rc >= 0)
		return rc;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return 0;
	return or_peer_allowed(a, geteuid(), cr, groups,
			       len / sizeof(groups[0]));
}
