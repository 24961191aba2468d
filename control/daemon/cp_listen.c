/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "optroute/peer.h"

#include "cp_listen.h"
#include "cp_log.h"

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
cp_listen_accept(struct cp_daemon *d, int lfd, uid_t *uid, pid_t *pid)
{
	const struct cp_cfg *cfg = d->cfg;
	const struct or_peer_allow allow = {
		.has_uid = cfg->has_uid, .uid = cfg->allowed_uid,
		.has_gid = cfg->has_gid, .gid = cfg->allowed_gid,
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
