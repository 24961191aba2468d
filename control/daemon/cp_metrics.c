/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The /metrics HTTP endpoint and its cache; see cp_metrics.h for where the
 * figures come from and the thread model.
 *
 * A scrape goes through the access handler three times at most:
 *   1. headers in: method and URL checked (405, 404), marked SEEN;
 *   2. request complete: figures fresh enough -> answered at once; else
 *      queued for the fetch thread, marked WAITED, and suspended;
 *   3. resumed by the fetch thread once its fetch ended (well or not):
 *      answered from the cache, however old (the age is exported).
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
#include <unistd.h>

#include <microhttpd.h>

#include "optroute/chan.h"
#include "optroute/mgmt.h"

#include "cp_cfg.h"
#include "cp_daemon.h"
#include "cp_log.h"
#include "cp_metrics.h"

#define CP_MX_CONN_MAX 16      /* HTTP connections at once */
#define CP_MX_CONN_TIMEOUT 10  /* s: idle HTTP connection closed */
/* Longest wait for a stats reply: above the event loop's own dataplane
 * counters timeout (3 s), so a slow dataplane still yields control-plane
 * figures; below Prometheus' default scrape timeout (10 s). */
#define CP_MX_FETCH_MS 5000

struct cp_metrics {
	struct MHD_Daemon *mhd;
	pthread_t th;
	int th_started;
	int stop_fd; /* eventfd: ends the fetch thread's wait for a reply */
	unsigned max_age_ms;
	struct cp_mfetch fetch; /* fetch thread only */
	char addr[CP_METRICS_ADDR_LEN];

	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu. */
	int stopping;
	int want;         /* a scrape waits for fresh figures */
	json_t *stats;    /* last good stats reply, or NULL */
	uint64_t stats_ms;
	uint64_t fetches, failures, scrapes;
	struct MHD_Connection *waiting[CP_MX_CONN_MAX];
	unsigned n_waiting;
};

/* Connection states (*con_cls). */
static char cp_mx_seen, cp_mx_waited;

/* ------------------------------------------------------------ replies -- */

static enum MHD_Result
cp_mx_text(struct MHD_Connection *con, unsigned status, const char *text)
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
cp_mx_metrics(struct cp_metrics *m, struct MHD_Connection *con)
{
	struct cp_metrics_meta meta = {
		.version = CP_VERSION,
		.mgmt_protocol = OR_MGMT_VERSION,
		.chan_protocol = OR_CHAN_VERSION,
	};
	struct MHD_Response *r;
	enum MHD_Result ret;
	json_t *stats;
	char *buf;
	size_t len;
	int rc;

	pthread_mutex_lock(&m->mu);
	m->scrapes++;
	/* Our own reference: the fetch thread may replace the cache while
	 * this renders. Taken and dropped under mu: jansson decrements
	 * with release order only, so without the lock the last decref
	 * (and free) would not be ordered after this thread's reads. */
	stats = json_incref(m->stats);
	meta.age_ms = cp_now_ms() - m->stats_ms;
	meta.fetches = m->fetches;
	meta.fetch_failures = m->failures;
	meta.scrapes = m->scrapes;
	pthread_mutex_unlock(&m->mu);

	rc = cp_metrics_render(stats, &meta, &buf, &len);
	pthread_mutex_lock(&m->mu);
	json_decref(stats);
	pthread_mutex_unlock(&m->mu);
	if (rc < 0)
		return cp_mx_text(con, MHD_HTTP_INTERNAL_SERVER_ERROR,
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
cp_mx_handler(void *cls, struct MHD_Connection *con, const char *url,
	      const char *method, const char *version,
	      const char *upload_data, size_t *upload_data_size,
	      void **con_cls)
{
	struct cp_metrics *m = cls;

	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) {
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
			return cp_mx_text(con, MHD_HTTP_METHOD_NOT_ALLOWED,
					  "only GET /metrics\n");
		if (strcmp(url, "/metrics") != 0)
			return cp_mx_text(con, MHD_HTTP_NOT_FOUND,
					  "not found: the figures are at "
					  "/metrics\n");
		*con_cls = &cp_mx_seen;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0; /* a GET body means nothing: skipped */
		return MHD_YES;
	}
	if (*con_cls == &cp_mx_seen) {
		pthread_mutex_lock(&m->mu);
		if (!m->stopping && m->n_waiting < CP_MX_CONN_MAX &&
		    (m->stats == NULL ||
		     cp_now_ms() - m->stats_ms >= m->max_age_ms)) {
			m->waiting[m->n_waiting++] = con;
			m->want = 1;
			pthread_cond_signal(&m->cv);
			*con_cls = &cp_mx_waited;
			MHD_suspend_connection(con);
			pthread_mutex_unlock(&m->mu);
			return MHD_YES;
		}
		pthread_mutex_unlock(&m->mu);
	}
	return cp_mx_metrics(m, con);
}

/* -------------------------------------------------------- fetch thread -- */

/* Under mu: hands the waiting scrapes back to libmicrohttpd. */
static void
cp_mx_resume_locked(struct cp_metrics *m)
{
	for (unsigned i = 0; i < m->n_waiting; i++)
		MHD_resume_connection(m->waiting[i]);
	m->n_waiting = 0;
}

static void *
cp_mx_main(void *arg)
{
	struct cp_metrics *m = arg;

	pthread_mutex_lock(&m->mu);
	for (;;) {
		json_t *reply = NULL;
		int rc;

		while (!m->stopping && !m->want)
			pthread_cond_wait(&m->cv, &m->mu);
		if (m->stopping)
			break;
		m->want = 0;
		pthread_mutex_unlock(&m->mu);
		rc = cp_mfetch_stats(&m->fetch, m->stop_fd, CP_MX_FETCH_MS,
				     &reply);
		pthread_mutex_lock(&m->mu);
		if (rc == 0) {
			json_decref(m->stats);
			m->stats = reply;
			m->stats_ms = cp_now_ms();
			m->fetches++;
		} else {
			m->failures++;
		}
		/* Scrapes queued during the fetch take its result too. */
		m->want = 0;
		cp_mx_resume_locked(m);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

/* ------------------------------------------------------------ control -- */

static void
cp_mx_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	CP_WARN("metrics: %s", buf);
}

static uint16_t
cp_mx_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

int
cp_metrics_start(const struct cp_cfg *cfg, struct cp_metrics **out)
{
	struct cp_metrics *m;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	int rc;

	*out = NULL;
	if (!cfg->metrics_on)
		return 0;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	cp_mfetch_init(&m->fetch, cfg->mgmt_socket);
	m->max_age_ms = cfg->metrics_max_age_ms;
	cp_metrics_addr_str(&cfg->metrics_addr, m->addr);
	m->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->stop_fd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = -pthread_create(&m->th, NULL, cp_mx_main, m);
	if (rc < 0)
		goto fail;
	m->th_started = 1;
	pthread_setname_np(m->th, "cp-metrics");
	if (cfg->metrics_addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The port is only for libmicrohttpd's messages: SOCK_ADDR rules. */
	m->mhd = MHD_start_daemon(
		flags, cp_mx_port(&cfg->metrics_addr), NULL, NULL,
		cp_mx_handler, m,
		/* First, so that every message of libmicrohttpd's goes to
		 * our log. */
		MHD_OPTION_EXTERNAL_LOGGER, cp_mx_log, NULL,
		MHD_OPTION_SOCK_ADDR,
		(const struct sockaddr *)&cfg->metrics_addr,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CP_MX_CONN_MAX,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CP_MX_CONN_TIMEOUT,
		MHD_OPTION_END);
	if (m->mhd == NULL) {
		/* Consent handling does not depend on monitoring: go on
		 * without /metrics (libmicrohttpd logged why above). */
		CP_ERR("metrics: cannot serve http://%s/metrics (address in "
		       "use or not available); running without metrics",
		       m->addr);
		cp_metrics_stop(m);
		return 0;
	}
	CP_NOTICE("metrics: serving http://%s/metrics", m->addr);
	*out = m;
	return 0;
fail:
	CP_ERR("metrics: cannot start: %s", strerror(-rc));
	cp_metrics_stop(m);
	return rc;
}

void
cp_metrics_stop(struct cp_metrics *m)
{
	uint64_t one = 1;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->stopping = 1;
	pthread_cond_signal(&m->cv);
	/* libmicrohttpd must not be stopped with suspended connections;
	 * resumed ones are answered from the cache (stopping is set). */
	cp_mx_resume_locked(m);
	pthread_mutex_unlock(&m->mu);
	if (m->stop_fd >= 0 && write(m->stop_fd, &one, sizeof(one)) < 0) {
		/* Counter saturated: the thread sees it anyway. */
	}
	if (m->th_started)
		pthread_join(m->th, NULL);
	if (m->mhd != NULL)
		MHD_stop_daemon(m->mhd);
	if (m->stop_fd >= 0)
		close(m->stop_fd);
	cp_mfetch_fini(&m->fetch);
	json_decref(m->stats);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
}
