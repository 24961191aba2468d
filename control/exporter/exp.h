/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-exporter: the appliance's Prometheus endpoint, GET /metrics over
 * HTTP (libmicrohttpd), text exposition format 0.0.4, as a program of its
 * own. Reference: docs/exporter.md.
 *
 * Why a program of its own. optroute-control holds the master key and
 * briefly sees plain numbers; an HTTP server (and libmicrohttpd) does not
 * belong in that process. The exporter runs as its own unprivileged user
 * and needs nothing of the control plane but its management socket, as a
 * read-only client ([control] readonly_gid).
 *
 * Where the figures come from. It is a client of the management socket,
 * like optroutectl, and asks for "stats": the control plane, its store, the
 * update channel and the dataplane's STATS reply (null when no dataplane is
 * connected or it did not answer). Each fetch is one request, counted in
 * optroute_control_requests_total like any other.
 *
 * When. Only on demand: a scrape finding figures older than max_age_ms (or
 * none) wakes the fetch thread and is suspended (MHD_suspend_connection:
 * the HTTP thread never waits) until the reply is in or the fetch failed;
 * then it is answered. A failed fetch drops the figures held (a control
 * plane that is down or restarting has none to show: optroute_control_up
 * 0, its families left out), and the next scrape tries again.
 *
 * Files (every one but exp_main.c is in the library the unit tests link):
 *   exp_main.c   options, configuration, signals, sd_notify
 *   exp_cfg.c    the [exporter] section (and [control] mgmt_socket)
 *   exp_http.c   HTTP server, cache, fetch thread
 *   exp_fetch.c  the management socket client
 *   exp_text.c   rendering a "stats" reply as Prometheus text (pure)
 *
 * Threads: the main thread (waits for SIGTERM/SIGINT), libmicrohttpd's
 * internal polling thread (epoll, every connection) and the fetch thread;
 * the last two are started by exp_http_start() and stopped by
 * exp_http_stop(). What they share is in struct exp_http, under its mutex.
 */
#ifndef EXP_H
#define EXP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>

#include "optroute/listen.h"
#include "optroute/log.h"
#include "optroute/or_ini.h"

#define EXP_DEFAULT_LISTEN "127.0.0.1:9140"

#define EXP_ERR(...) or_log(OR_LOG_ERR, __VA_ARGS__)
#define EXP_WARN(...) or_log(OR_LOG_WARNING, __VA_ARGS__)
#define EXP_NOTICE(...) or_log(OR_LOG_NOTICE, __VA_ARGS__)
#define EXP_DEBUG(...) or_log(OR_LOG_DEBUG, __VA_ARGS__)

static inline uint64_t
exp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---------------------------------------------- configuration (_cfg.c) -- */

struct exp_cfg {
	/* [control] mgmt_socket: the one definition of the management
	 * socket (default OR_MGMT_DEFAULT_SOCKET). */
	char mgmt_socket[OR_INI_SOCK_PATH_LEN];
	/* [exporter] */
	struct sockaddr_storage addr; /* listen (EXP_DEFAULT_LISTEN) */
	socklen_t addr_len;
	int allow_remote;             /* a non-loopback address is allowed */
	unsigned max_age_ms;          /* figures this young are not refetched */
	int log_level;                /* enum or_log_level */
};

#define EXP_CFG_ERR_LEN 512

void exp_cfg_defaults(struct exp_cfg *c);

/* Reads the file at path (the daemons' optroute.ini) on top of the
 * defaults: [exporter], and mgmt_socket of [control]; every other section
 * and key is another program's. 0, or -EINVAL (or the -errno of opening
 * the file, or -ENOMEM) with "FILE:LINE: [exporter] KEY: ..." in err. */
int exp_cfg_load(const char *path, struct exp_cfg *c,
		 char err[EXP_CFG_ERR_LEN]);
/* The same from a string (tests); name is the file's name in messages. */
int exp_cfg_load_string(const char *name, const char *text,
			struct exp_cfg *c, char err[EXP_CFG_ERR_LEN]);

/* ------------------------------------------------- HTTP (exp_http.c) -- */

struct exp_http;

/* Listens on cfg->addr and starts libmicrohttpd and the fetch thread.
 * 0 with *out; -errno with the reason logged (address in use or not
 * available, out of memory, threads). */
int exp_http_start(const struct exp_cfg *cfg, struct exp_http **out);

/* Answers suspended scrapes, stops both threads, frees. NULL is fine. */
void exp_http_stop(struct exp_http *h);

/* ---------------------------------------------- fetch (exp_fetch.c) -- */

/* The management socket client: one connection, kept open between
 * fetches, reopened after any failure. The fetch thread's alone. */
struct exp_fetch {
	char path[OR_INI_SOCK_PATH_LEN]; /* management socket */
	int fd;          /* -1 when closed */
	int failing;     /* the last fetch failed (logged once per streak) */
	int64_t next_id;
	char *buf;       /* reply bytes read so far */
	size_t len, cap;
};

void exp_fetch_init(struct exp_fetch *f, const char *path);
void exp_fetch_fini(struct exp_fetch *f);

/* Sends {"cmd":"stats"} and waits for its reply for at most timeout_ms,
 * or until stop_fd is readable. 0 with *reply (an "ok" reply, owned by
 * the caller); -ECANCELED (stop_fd), -ETIMEDOUT, -EPROTO (error reply,
 * bad JSON, reply too long) or -errno (socket). */
int exp_fetch_stats(struct exp_fetch *f, int stop_fd, unsigned timeout_ms,
		    json_t **reply);

/* ------------------------------------------- rendering (exp_text.c) -- */

/* What the exporter knows of itself. */
struct exp_meta {
	const char *version;     /* OR_VERSION */
	unsigned mgmt_protocol;  /* OR_MGMT_VERSION */
	unsigned chan_protocol;  /* OR_CHAN_VERSION */
	uint64_t age_ms;         /* age of stats (when not NULL) */
	uint64_t fetches;        /* stats requests answered */
	uint64_t fetch_failures; /* not answered, or with an error */
	uint64_t scrapes;        /* /metrics requests, this one included */
};

/* Renders a "stats" reply (NULL if none: the control plane down, or not
 * asked yet) as Prometheus text into a malloc'd, NUL-terminated buffer
 * (*out, *len without the NUL). Every family has # HELP and # TYPE lines
 * and its samples together; label values are escaped. Unknown dataplane
 * counters are kept as optroute_dataplane_stat{name="..."}. 0 or
 * -ENOMEM. */
int exp_render(const json_t *stats, const struct exp_meta *m, char **out,
	       size_t *len);

#endif
