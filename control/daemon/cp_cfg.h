/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-control configuration: the [control] section of an INI file that
 * may also hold the dataplane's sections (their keys are ignored, except
 * that [dataplane] channel is the default for channel_socket, so one file
 * serves both daemons). Read through the INI layer both daemons share
 * (include/optroute/or_ini.h). Keys, defaults and meaning: docs/control.md;
 * syntax and value spellings: docs/configuration.md.
 *
 * Errors name the file, the line and the key:
 *   "cp.ini:7: [control] key_epoch: invalid value '300' (expected ...)".
 */
#ifndef CP_CFG_H
#define CP_CFG_H

#include <limits.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "optroute/mgmt.h"

#include "control/store/store.h"

#define CP_SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

struct cp_cfg {
	char mgmt_socket[CP_SUN_PATH_MAX];
	char chan_socket[CP_SUN_PATH_MAX]; /* default OR_INI_DEFAULT_CHANNEL */
	char store_path[PATH_MAX];
	char key_file[PATH_MAX];
	uint64_t store_map_mb;     /* 0 = the store's default */
	unsigned key_epoch;        /* 0..255 */
	int has_uid, has_gid;
	uid_t allowed_uid;
	gid_t allowed_gid;
	int has_ro_gid;
	gid_t readonly_gid;        /* read-only clients (cp_listen.h) */
	struct or_node_policy node_policy;
	uint32_t notice_version;   /* default for changes that name none */
	unsigned max_clients;
	unsigned max_pending;      /* requests waiting for a commit or an ack */
	unsigned line_timeout_ms;  /* a started line must end within this */
	unsigned idle_timeout_ms;  /* a connection with nothing to do */
	unsigned wait_timeout_ms;  /* most time a "wait" request waits */
	unsigned chan_retry_ms;    /* delay between dataplane connect attempts */
	unsigned chan_queue_max;   /* changes queued for the dataplane before
				    * falling back to a full resync */
	int log_level;
	/* The system of record (docs/fleet.md section 12). */
	int store_pg;              /* store = postgresql (else lmdb) */
	char store_conninfo[256];  /* libpq string; never logged */
	char appliance_name[64];   /* default: the host name */
	unsigned fleet_commit_timeout_ms;
	unsigned fleet_report_ms;
	unsigned fleet_silence_ms;
	uint64_t fleet_resync_after; /* 0: the copy's records, >= 1M */
};

#define CP_CFG_ERR_LEN 512

/* Sets the defaults. */
void cp_cfg_defaults(struct cp_cfg *c);

/* Reads path into c (on top of the defaults). 0, or -EINVAL (or the
 * -errno of opening the file, or -ENOMEM) with a message naming the file,
 * line and key in err. */
int cp_cfg_load(const char *path, struct cp_cfg *c, char err[CP_CFG_ERR_LEN]);

#endif
