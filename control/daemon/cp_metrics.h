/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-control's Prometheus endpoint: GET /metrics over HTTP
 * (libmicrohttpd), text exposition format 0.0.4. Reference:
 * docs/control.md#metrics.
 *
 * Where the figures come from. Control-plane counters belong to the event
 * loop thread and the dataplane's counters reach it through the channel
 * thread (cp_push: only the event loop may ask for them). So the exporter
 * does not read them itself: its own thread is a client of the management
 * socket, like optroutectl, and asks for "stats". The event loop answers
 * it as any client (control, store, channel and the dataplane's STATS
 * reply, or null when no dataplane is connected or it did not answer).
 *
 * When. Only on demand: a scrape finding figures older than max_age_ms
 * wakes the fetch thread and is suspended (MHD_suspend_connection: the
 * HTTP thread never waits) until the reply is in or the fetch failed; then
 * it is answered from the cache. With no scrapes the exporter sends
 * nothing. Each fetch is one "stats" request, counted in
 * optroute_control_requests_total like any other.
 *
 * Threads: libmicrohttpd's internal polling thread (epoll, one for every
 * connection) and the fetch thread; both started by cp_metrics_start()
 * and stopped by cp_metrics_stop().
 *
 * The pure parts, rendering (cp_metrics_text.c) and the listen address
 * (cp_metrics_addr.c), are unit tested by tests/unit/test_metrics.c.
 */
#ifndef CP_METRICS_H
#define CP_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

struct cp_cfg;
struct cp_metrics;

/* Starts the HTTP server and the fetch thread if cfg->metrics_on. 0 with
 * *out NULL when metrics are off or the address cannot be bound (logged:
 * consent handling does not depend on the monitoring port), 0 with *out
 * set when serving, -errno on other failures (out of memory, threads). */
int cp_metrics_start(const struct cp_cfg *cfg, struct cp_metrics **out);

/* Answers suspended scrapes, stops both threads, frees. NULL is fine. */
void cp_metrics_stop(struct cp_metrics *m);

/* ---------------------------------- fetch (cp_metrics_fetch.c) -- */

/* The exporter's management socket client: one connection, kept open
 * between fetches, reopened after any failure. One thread only. */
struct cp_mfetch {
	char path[108];  /* management socket */
	int fd;          /* -1 when closed */
	int failing;     /* the last fetch failed (logged once per streak) */
	int64_t next_id;
	char *buf;       /* reply bytes read so far */
	size_t len, cap;
};

void cp_mfetch_init(struct cp_mfetch *f, const char *path);
void cp_mfetch_fini(struct cp_mfetch *f);

/* Sends {"cmd":"stats"} and waits for its reply for at most timeout_ms,
 * or until stop_fd is readable. 0 with *reply (an "ok" reply, owned by
 * the caller); -ECANCELED (stop_fd), -ETIMEDOUT, -EPROTO (error reply,
 * bad JSON, reply too long) or -errno (socket). */
int cp_mfetch_stats(struct cp_mfetch *f, int stop_fd, unsigned timeout_ms,
		    json_t **reply);

/* ------------------------------------------ pure (_addr.c, _text.c) -- */

/* Longest text form of a listen address: "[v6addr]:65535". */
#define CP_METRICS_ADDR_LEN 64
#define CP_METRICS_DEFAULT_LISTEN "127.0.0.1:9140"

/* "PORT", "IPv4:PORT" or "[IPv6]:PORT" (numeric, no name lookup; PORT
 * 1..65535; a bare port means 127.0.0.1) -> socket address. 0 or
 * -EINVAL. */
int cp_metrics_parse_listen(const char *s, struct sockaddr_storage *ss,
			    socklen_t *len);

/* 1 if the address is loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104). */
int cp_metrics_is_loopback(const struct sockaddr_storage *ss);

/* Text form of a socket address ("127.0.0.1:9140", "[::1]:9140"). */
void cp_metrics_addr_str(const struct sockaddr_storage *ss,
			 char buf[CP_METRICS_ADDR_LEN]);

/* What the exporter knows of itself. */
struct cp_metrics_meta {
	const char *version;     /* CP_VERSION */
	unsigned mgmt_protocol;  /* OR_MGMT_VERSION */
	unsigned chan_protocol;  /* OR_CHAN_VERSION */
	uint64_t age_ms;         /* age of stats (when not NULL) */
	uint64_t fetches;        /* stats requests answered */
	uint64_t fetch_failures; /* not answered, or with an error */
	uint64_t scrapes;        /* /metrics requests, this one included */
};

/* Renders a "stats" reply (NULL if none yet) as Prometheus text into a
 * malloc'd, NUL-terminated buffer (*out, *len without the NUL). Every
 * family has # HELP and # TYPE lines and its samples together; label
 * values are escaped. Unknown dataplane counters are kept as
 * optroute_dataplane_stat{name="..."}. 0 or -ENOMEM. */
int cp_metrics_render(const json_t *stats, const struct cp_metrics_meta *m,
		      char **out, size_t *len);

#endif
