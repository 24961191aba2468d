/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The timeline guard (docs/fleet.md section 7). After a failover the new
 * primary runs on a higher timeline; an old primary that comes back
 * read-write (fenced late, or not at all) is still on the lower one, and
 * libpq's host list may reach it first. Writing there, or following it,
 * would split the fleet's history. So every connection to the system of
 * record goes through sp_connect, which reads the server's fleet_id and
 * timeline and compares them with the highest this appliance has used:
 *  - the same fleet on a lower timeline: refused ("stale primary"), the
 *    connection closed, counted; the caller treats PostgreSQL as
 *    unreachable and retries (the old primary may be fenced meanwhile);
 *  - a higher timeline (a promotion), or another fleet (a database
 *    restored or moved: the copy's position check decides about the
 *    records): recorded, durably, before the connection is used;
 *  - no fleet row yet (before the first join): nothing to compare.
 * The highest is kept in the file <store_path>.timeline ("<fleet_id>
 * <timeline in hex>"), beside the local copy rather than in it: a full
 * resync replaces the copy's directory, and the guard must outlive it.
 *
 * The timeline is the first eight hex digits of
 * pg_walfile_name(pg_current_wal_lsn()), which any role may read (no
 * pg_control_checkpoint(), which needs more rights).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "optroute/log.h"

#include "control/lib/fs.h"
#include "control/store/pg/sor_pg_priv.h"

#define SP_GUARD_SUFFIX ".timeline"

static void
sp_guard_path(const struct sor_pg *p, char *path, size_t len)
{
	snprintf(path, len, "%s" SP_GUARD_SUFFIX, p->copy_path);
}

/* The recorded highest, into p (under p->mu). A missing file is none; a
 * malformed one is an error: the guard does not silently start over. */
static int
sp_guard_load(struct sor_pg *p, struct or_err *err)
{
	char path[sizeof(p->copy_path) + sizeof(SP_GUARD_SUFFIX)];
	char fleet[sizeof(p->guard_fleet)];
	unsigned tl;
	FILE *f;
	int n;

	sp_guard_path(p, path, sizeof(path));
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno != ENOENT) {
			or_err_set(err, "timeline guard: %s: %s", path,
				   strerror(errno));
			return -EIO;
		}
		p->guard_fleet[0] = '\0';
		p->guard_tl = 0;
		p->guard_loaded = 1;
		return 0;
	}
	n = fscanf(f, "%36s %8x", fleet, &tl);
	fclose(f);
	if (n != 2 || strlen(fleet) != 36) {
		or_err_set(err, "timeline guard: %s is malformed", path);
		return -EBADMSG;
	}
	memcpy(p->guard_fleet, fleet, sizeof(fleet));
	p->guard_tl = tl;
	p->guard_loaded = 1;
	return 0;
}

/* Records (fleet, tl) as the highest: a new file, synced, renamed over
 * the old one, the directory synced (under p->mu). */
static int
sp_guard_store(struct sor_pg *p, const char *fleet, uint32_t tl,
	       struct or_err *err)
{
	char path[sizeof(p->copy_path) + sizeof(SP_GUARD_SUFFIX)];
	char tmp[sizeof(path) + 4];
	char line[64];
	int fd, n, rc = 0;

	sp_guard_path(p, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	n = snprintf(line, sizeof(line), "%s %08x\n", fleet, tl);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		rc = -errno;
	else if ((rc = or_write_all(fd, line, (size_t)n)) == 0 &&
		 fsync(fd) != 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	/* The rename itself durable. */
	if (rc == 0)
		rc = or_fsync_dir_of(path);
	if (rc < 0) {
		or_err_set(err, "timeline guard: cannot record timeline %u: %s",
			   tl, strerror(-rc));
		return rc;
	}
	snprintf(p->guard_fleet, sizeof(p->guard_fleet), "%s", fleet);
	p->guard_tl = tl;
	return 0;
}

/* The guard on a fresh connection c (see above). 0, -ESTALE (an old
 * primary), or -EIO / -EBADMSG. */
static int
sp_guard_check(struct sor_pg *p, PGconn *c, struct or_err *err)
{
	PGresult *r = PQexec(c, "SELECT fleet_id::text,"
			     " substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"
			     " FROM optroute.fleet WHERE id = 1");
	const char *fleet, *hex;
	char *end;
	unsigned long tl;
	int rc = 0;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		or_pg_err(err, c, r, "system of record: timeline");
		PQclear(r);
		return -EIO;
	}
	if (PQntuples(r) == 0) { /* not joined yet */
		PQclear(r);
		return 0;
	}
	fleet = PQgetvalue(r, 0, 0);
	hex = PQgetvalue(r, 0, 1);
	tl = strtoul(hex, &end, 16);
	if (strlen(fleet) != 36 || strlen(hex) != 8 || *end != '\0') {
		or_err_set(err, "system of record: malformed fleet id or timeline");
		PQclear(r);
		return -EBADMSG;
	}
	pthread_mutex_lock(&p->mu);
	if (!p->guard_loaded)
		rc = sp_guard_load(p, err);
	if (rc == 0 && strcmp(fleet, p->guard_fleet) == 0 &&
	    tl < p->guard_tl) {
		p->stale_refusals++;
		or_err_set(err, "stale primary: timeline %lu < %u (an old "
			   "primary of fleet %.8s after a failover: not used)",
			   tl, p->guard_tl, fleet);
		rc = -ESTALE;
	} else if (rc == 0 && (strcmp(fleet, p->guard_fleet) != 0 ||
			       tl > p->guard_tl)) {
		if (p->guard_fleet[0] != '\0')
			or_log(OR_LOG_NOTICE, "fleet: timeline %lu of fleet %.8s "
			       "(was %u of %.8s): recorded", tl, fleet,
			       p->guard_tl, p->guard_fleet);
		rc = sp_guard_store(p, fleet, (uint32_t)tl, err);
	}
	pthread_mutex_unlock(&p->mu);
	PQclear(r);
	return rc;
}

int
sp_connect(struct sor_pg *p, const char *app_name, PGconn **out,
	   struct or_err *err)
{
	int rc = or_pg_connect(p->conninfo, app_name, out, err);

	if (rc < 0)
		return rc;
	rc = sp_guard_check(p, *out, err);
	if (rc < 0) {
		if (rc == -ESTALE)
			or_log(OR_LOG_WARNING, "fleet: %s", err->msg);
		PQfinish(*out);
		*out = NULL;
	}
	return rc;
}
