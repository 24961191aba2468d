/* SPDX-License-Identifier: BSD-3-Clause */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>

#include "optroute/peer.h"

#include "control/daemon/cp_log.h"

#include "cp_listen.h"

static int
cp_listen_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* A socket file left by a dead daemon is removed; one a live daemon still
 * answers on is not (two daemons on one store would be a mistake). */
static int
cp_listen_clear(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		CP_ERR("%s exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		CP_ERR("%s: another optroute-control is running", path);
		return -EADDRINUSE;
	}
	return unlink(path) < 0 ? -errno : 0;
}

/* readonly_gid must pass the socket file's barrier too, which mode 0660
 * and one group cannot say: an access ACL adds that group with the same
 * rw (owner rw, group rw, group readonly_gid rw, mask rw, others none;
 * the xattr form of <linux/posix_acl_xattr.h>, entries in tag order,
 * little-endian). 0 or -errno. */
static int
cp_listen_acl(const char *path, gid_t gid)
{
	struct {
		struct posix_acl_xattr_header h;
		struct posix_acl_xattr_entry e[5];
	} acl = {
		.h = { htole32(POSIX_ACL_XATTR_VERSION) },
		.e = {
			{ htole16(ACL_USER_OBJ), htole16(6), htole32(-1) },
			{ htole16(ACL_GROUP_OBJ), htole16(6), htole32(-1) },
			{ htole16(ACL_GROUP), htole16(6), htole32(gid) },
			{ htole16(ACL_MASK), htole16(6), htole32(-1) },
			{ htole16(ACL_OTHER), htole16(0), htole32(-1) },
		},
	};

	if (setxattr(path, "system.posix_acl_access", &acl, sizeof(acl), 0) <
	    0)
		return -errno;
	return 0;
}

int
cp_listen_open(const struct cp_cfg *cfg)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, rc;

	rc = cp_listen_addr(cfg->mgmt_socket, &sa);
	if (rc == 0)
		rc = cp_listen_clear(cfg->mgmt_socket, &sa);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Created 0660 from the start: no window where others may connect. */
	old = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0)
		goto fail;
	if (chmod(cfg->mgmt_socket, 0660) < 0)
		goto fail_unlink;
	if (cfg->has_gid && chown(cfg->mgmt_socket, (uid_t)-1,
				  cfg->allowed_gid) < 0)
		goto fail_unlink;
	/* Without ACLs on the socket's file system (or refused) the daemon
	 * still serves everyone else: read-only clients then fail at the
	 * file's mode, which the warning says. */
	if (cfg->has_ro_gid) {
		rc = cp_listen_acl(cfg->mgmt_socket, cfg->readonly_gid);
		if (rc < 0)
			CP_WARN("%s: cannot give readonly_gid %u access (POSIX "
				"ACL: %s): read-only clients cannot connect",
				cfg->mgmt_socket, (unsigned)cfg->readonly_gid,
				strerror(-rc));
	}
	if (listen(fd, 128) < 0)
		goto fail_unlink;
	return fd;
fail_unlink:
	rc = -errno;
	unlink(cfg->mgmt_socket);
	close(fd);
	return rc;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

void
cp_listen_refuse(int fd, const char *code, const char *msg)
{
	char line[256];
	int n;

	n = snprintf(line, sizeof(line),
		     "{\"v\":%d,\"ok\":false,\"error\":{\"code\":\"%s\","
		     "\"message\":\"%s\"}}\n",
		     OR_MGMT_VERSION, code, msg);
	/* Best effort: the socket buffer of a new connection is empty. */
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* The peer is gone already. */
	}
	close(fd);
}

int
cp_listen_accept(struct cp_daemon *d, int lfd, uid_t *uid, pid_t *pid,
		 int *readonly)
{
	const struct cp_cfg *cfg = d->cfg;
	const struct or_peer_allow allow = {
		.has_uid = cfg->has_uid, .uid = cfg->allowed_uid,
		.has_gid = cfg->has_gid, .gid = cfg->allowed_gid,
	};
	/* Root and the daemon's uid pass the first check already. */
	const struct or_peer_allow allow_ro = {
		.has_gid = cfg->has_ro_gid, .gid = cfg->readonly_gid,
	};
	struct ucred cr;
	int fd, rc;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		if (errno == EMFILE || errno == ENFILE) {
			/* Out of descriptors: the caller pauses accepting. */
			CP_WARN("accept: %s", strerror(errno));
			return -EMFILE;
		}
		/* Other errors concern that one connection only. */
		return -ECONNABORTED;
	}
	rc = or_peer_check(fd, &allow, &cr);
	*readonly = 0;
	if (rc == 0 && cfg->has_ro_gid) {
		rc = or_peer_check(fd, &allow_ro, &cr);
		*readonly = rc > 0;
	}
	if (rc < 0) {
		close(fd);
		return -EPERM;
	}
	if (rc == 0) {
		CP_NOTICE("refused management connection from uid %u gid %u "
			  "pid %d",
			  (unsigned)cr.uid, (unsigned)cr.gid, (int)cr.pid);
		cp_listen_refuse(fd,
				 or_mgmt_err_code(OR_MGMT_E_PERMISSION_DENIED),
				 "this user may not manage optroute-control");
		return -EPERM;
	}
	*uid = cr.uid;
	*pid = cr.pid;
	return fd;
}

void
cp_listen_close(const struct cp_cfg *cfg, int lfd)
{
	close(lfd);
	unlink(cfg->mgmt_socket);
}
