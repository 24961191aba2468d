/* SPDX-License-Identifier: BSD-3-Clause
 *
 * optroute-exporter's /metrics HTTP endpoint and its cache; see exp.h for
 * where the figures come from and the thread model.
 *
 * A scrape goes through the access handler three times at most:
 *   1. headers in: method and URL checked (405, 404), marked SEEN;
 *   2. request complete: figures fresh enough -> answered at once; else
 *      queued for the fetch thread, marked WAITED, and suspended;
 *   3. resumed by the fetch thread once its fetch ended: answered with
 *      its figures, or without the control plane's if it failed.
 * Suspending (under mu) always comes before the fetch thread takes the
 * queue (under mu), so a resume never precedes its suspend.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "optroute/chan.h"
#include "optroute/mgmt.h"
#include "optroute/version.h"

#include "exp.h"

#define EXP_HX_CONN_MAX 16      /* HTTP connections at once */
#define EXP_HX_CONN_TIMEOUT 10  /* s: idle HTTP connection closed */
/* Longest wait for a stats reply: above the event loop's own dataplane
 * counters timeout (3 s), so a slow dataplane still yields control-plane
 * figures; below Prometheus' default scrape timeout (10 s). */
#define EXP_HX_FETCH_MS 5000

struct exp_http {
	struct MHD_Daemon *mhd;
	pthread_t th;
	int th_started;
	int stop_fd; /* eventfd: ends the fetch thread's wait for a reply */
	int listen_fd; /* ours until libmicrohttpd has it, then closed by it */
	unsigned max_age_ms;
	struct exp_fetch fetch; /* fetch thread only */
	char addr[OR_LISTEN_STR_LEN];

	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu. */
	int stopping;
	int want;         /* a scrape waits for fresh figures */
	json_t *stats;    /* the last fetch's reply; NULL if it failed */
	uint64_t stats_ms;
	uint64_t fetches, failures, scrapes;
	struct MHD_Connection *waiting[EXP_HX_CONN_MAX];
	unsigned n_waiting;
};

/* Connection states (*con_cls). */
static char exp_hx_seen, exp_hx_waited;

/* ------------------------------------------------------------ replies -- */

static enum MHD_Result
exp_hx_text(struct MHD_Connection *con, unsigned status, const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
					    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(con, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
exp_hx_metrics(struct exp_http *h, struct MHD_Connection *con)
{
	struct exp_meta meta = {
		.version = OR_VERSION,
		.mgmt_protocol = OR_MGMT_VERSION,
		.chan_protocol = OR_CHAN_VERSION,
	};
	struct MHD_Response *r;
	enum MHD_Result ret;
	json_t *stats;
	char *buf;
	size_t len;
	int rc;

	pthread_mutex_lock(&h->mu);
	h->scrapes++;
	/* Our own reference: the fetch thread may replace the cache while
	 * this renders. Taken and dropped under mu: jansson decrements
	 * with release order only, so without the lock the last decref
	 * (and free) would not be ordered after this thread's reads. */
	stats = json_incref(h->stats);
	meta.age_ms = exp_now_ms() - h->stats_ms;
	meta.fetches = h->fetches;
	meta.fetch_failures = h->failures;
	meta.scrapes = h->scrapes;
	pthread_mutex_unlock(&h->mu);

	rc = exp_render(stats, &meta, &buf, &len);
	pthread_mutex_lock(&h->mu);
	json_decref(stats);
	pthread_mutex_unlock(&h->mu);
	if (rc < 0)
		return exp_hx_text(con, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "out of memory\n");
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(con, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
exp_hx_handler(void *cls, struct MHD_Connection *con, const char *url,
	       const char *method, const char *version,
	       const char *upload_data, size_t *upload_data_size,
	       void **con_cls)
{
	struct exp_http *h = cls;

	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) {
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
			return exp_hx_text(con, MHD_HTTP_METHOD_NOT_ALLOWED,
					   "only GET /metrics\n");
		if (strcmp(url, "/metrics") != 0)
			return exp_hx_text(con, MHD_HTTP_NOT_FOUND,
					   "not found: the figures are at "
					  "/metrics\n");
		*con_cls = &exp_hx_seen;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0; /* a GET body means nothing: skipped */
		return MHD_YES;
	}
	if (*con_cls == &exp_hx_seen) {
		pthread_mutex_lock(&h->mu);
		if (!h->stopping && h->n_waiting < EXP_HX_CONN_MAX &&
		    (h->stats == NULL ||
		     exp_now_ms() - h->stats_ms >= h->max_age_ms)) {
			h->waiting[h->n_waiting++] = con;
			h->want = 1;
			pthread_cond_signal(&h->cv);
			*con_cls = &exp_hx_waited;
			MHD_suspend_connection(con);
			pthread_mutex_unlock(&h->mu);
			return MHD_YES;
		}
		pthread_mutex_unlock(&h->mu);
	}
	return exp_hx_metrics(h, con);
}

/* -------------------------------------------------------- fetch thread -- */

/* Under mu: hands the waiting scrapes back to libmicrohttpd. */
static void
exp_hx_resume_locked(struct exp_http *h)
{
	for (unsigned i = 0; i < h->n_waiting; i++)
		MHD_resume_connection(h->waiting[i]);
	h->n_waiting = 0;
}

static void *
exp_hx_main(void *arg)
{
	struct exp_http *h = arg;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		json_t *reply = NULL;
		int rc;

		while (!h->stopping && !h->want)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->stopping)
			break;
		h->want = 0;
		pthread_mutex_unlock(&h->mu);
		rc = exp_fetch_stats(&h->fetch, h->stop_fd, EXP_HX_FETCH_MS,
				     &reply);
		pthread_mutex_lock(&h->mu);
		if (rc == 0) {
			json_decref(h->stats);
			h->stats = reply;
			h->stats_ms = exp_now_ms();
			h->fetches++;
		} else if (rc != -ECANCELED) {
			/* Down, restarting, refusing us or hung: no figures
			 * rather than old ones that look alive. */
			json_decref(h->stats);
			h->stats = NULL;
			h->failures++;
		}
		/* Scrapes queued during the fetch take its result too. */
		h->want = 0;
		exp_hx_resume_locked(h);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* ------------------------------------------------------------ control -- */

static void
exp_hx_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	EXP_WARN("http: %s", buf);
}

/* The listening socket, made here rather than by libmicrohttpd so that a
 * failure says why (address in use, not available, no permission). */
static int
exp_hx_listen(const struct exp_cfg *cfg)
{
	int one = 1, fd, rc;

	fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A restart must not wait for the old connections' TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (cfg->addr.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			sizeof(one)) < 0) ||
	    bind(fd, (const struct sockaddr *)&cfg->addr, cfg->addr_len) < 0 ||
	    listen(fd, 64) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int
exp_http_start(const struct exp_cfg *cfg, struct exp_http **out)
{
	struct exp_http *h;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	int rc;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	exp_fetch_init(&h->fetch, cfg->mgmt_socket);
	h->max_age_ms = cfg->max_age_ms;
	h->listen_fd = -1;
	or_listen_str(&cfg->addr, h->addr);
	h->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->stop_fd < 0) {
		rc = -errno;
		goto fail;
	}
	h->listen_fd = exp_hx_listen(cfg);
	if (h->listen_fd < 0) {
		rc = h->listen_fd;
		EXP_ERR("cannot listen on %s: %s", h->addr, strerror(-rc));
		goto out;
	}
	rc = -pthread_create(&h->th, NULL, exp_hx_main, h);
	if (rc < 0)
		goto fail;
	h->th_started = 1;
	pthread_setname_np(h->th, "exp-fetch");
	if (cfg->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, exp_hx_handler, h,
		/* First, so that every message of libmicrohttpd's goes to
		 * our log. */
		MHD_OPTION_EXTERNAL_LOGGER, exp_hx_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, h->listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)EXP_HX_CONN_MAX,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)EXP_HX_CONN_TIMEOUT,
		MHD_OPTION_END);
	if (h->mhd == NULL) {
		rc = -EIO; /* libmicrohttpd logged why above */
		goto fail;
	}
	h->listen_fd = -1; /* libmicrohttpd's now */
	EXP_NOTICE("serving http://%s/metrics from %s", h->addr,
		   cfg->mgmt_socket);
	*out = h;
	return 0;
fail:
	EXP_ERR("cannot start: %s", strerror(-rc));
out:
	exp_http_stop(h);
	return rc;
}

void
exp_http_stop(struct exp_http *h)
{
	uint64_t one = 1;

	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	h->stopping = 1;
	pthread_cond_signal(&h->cv);
	/* libmicrohttpd must not be stopped with suspended connections;
	 * resumed ones are answered from the cache (stopping is set). */
	exp_hx_resume_locked(h);
	pthread_mutex_unlock(&h->mu);
	if (h->stop_fd >= 0 && write(h->stop_fd, &one, sizeof(one)) < 0) {
		/* Counter saturated: the thread sees it anyway. */
	}
	if (h->th_started)
		pthread_join(h->th, NULL);
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	if (h->stop_fd >= 0)
		close(h->stop_fd);
	exp_fetch_fini(&h->fetch);
	json_decref(h->stats);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
