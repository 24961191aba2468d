/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Small file-system steps of durable writes (write a new file, sync it,
 * link or rename it into place, sync its directory), shared by the master
 * key file (keys.c) and the fleet's timeline guard (sor_pg_guard.c).
 */
#ifndef OR_FS_H
#define OR_FS_H

#include <stddef.h>

/* Writes all len bytes of p to fd, retrying after EINTR and short writes.
 * 0 or -errno. */
int or_write_all(int fd, const char *p, size_t len);

/* fsync of the directory that holds path, so that a rename or link into
 * it is durable. 0, -ENAMETOOLONG or -errno. */
int or_fsync_dir_of(const char *path);

#endif
