/* ice-stat serve: the metrics over HTTP for Prometheus (libmicrohttpd).
 *
 * A pool of threads answers; each scrape opens its own backend connection
 * (the backend is not thread-safe), so scrapes run side by side and a
 * failed one leaves nothing behind. Idle or slow clients are dropped after
 * a timeout; SIGINT and SIGTERM stop the server after the answers in
 * flight. */
#include "config.h"

#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "ice-stat-serve.h"
#include "ice_stats.h"

#define SERVE_THREADS 4
#define SERVE_MAX_CONNECTIONS 64
#define SERVE_TIMEOUT_S 10

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"

static const char index_page[] =
	"<html><head><title>IceCache metrics</title></head>\n"
	"<body><h1>IceCache metrics</h1><p><a href=\"/metrics\">/metrics</a></p></body></html>\n";

/* One warning at a time: threads' lines must not interleave. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void warn_line(const char *what, const char *msg)
{
	pthread_mutex_lock(&log_lock);
	ice_cli_warn("%s: %s", what, msg);
	pthread_mutex_unlock(&log_lock);
}

/* libmicrohttpd's own log callback: the format comes from the library. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	warn_line("http", msg);
}

/* Queue a response owning buf (malloc'd, freed by libmicrohttpd) or, with
 * must_free 0, a constant buffer. */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *type, const char *body,
                             size_t len, int must_free, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, (void *)body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r) {
		if (must_free)
			free((void *)body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int code, const char *text,
                                  const char *allow)
{
	return reply(c, code, "text/plain; charset=utf-8", text, strlen(text), 0, allow);
}

static enum MHD_Result metrics(const ice_stats_scrape_opts *scrape, struct MHD_Connection *c)
{
	char *text = NULL;
	size_t len = 0;
	ice_err err = { 0 };
	int rc = ice_stats_scrape(scrape, &text, &len, &err);

	if (rc)
		warn_line("scrape", err.msg);
	if (!text)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "collection failed (see the server's log)\n", NULL);
	/* A down backend is reported inside the metrics (icecache_up 0). */
	return reply(c, MHD_HTTP_OK, CONTENT_TYPE_METRICS, text, len, 1, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: use GET\n", "GET, HEAD");
	if (strcmp(url, "/metrics") == 0)
		return metrics(cls, c);
	if (strcmp(url, "/") == 0)
		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", index_page, strlen(index_page), 0, NULL);
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n", NULL);
}

/* ADDR:PORT, [ADDR6]:PORT or :PORT (every interface) into an address. */
static int parse_listen(const char *listen, struct addrinfo **ai)
{
	struct addrinfo hints;
	const char *colon = strrchr(listen, ':'), *host = listen;
	size_t hlen;
	char *h;
	long long port;
	int rc;

	if (!colon || !ice_cli_parse_count(colon + 1, &port) || port > 65535)
		return ice_cli_usage_error("--listen: '%s' is not ADDR:PORT", listen);
	hlen = (size_t)(colon - listen);
	if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if (!(h = strndup(host, hlen)))
		return ICE_EXIT_FAILURE;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(hlen ? h : NULL, colon + 1, &hints, ai);
	free(h);
	if (rc)
		return ice_cli_usage_error("--listen: '%s': %s", listen, gai_strerror(rc));
	return -1;
}

/* The URL the server answers on, as a JSON line on stdout (for scripts and
 * tests that listened on port 0). */
static int announce(struct MHD_Daemon *d, const struct addrinfo *ai)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char host[NI_MAXHOST], url[NI_MAXHOST + 32];

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, NULL, 0, NI_NUMERICHOST) != 0)
		strcpy(host, "?");
	snprintf(url, sizeof url, ai->ai_family == AF_INET6 ? "http://[%s]:%u/metrics" : "http://%s:%u/metrics",
	         host, info ? (unsigned)info->port : 0u);
	if (ice_cli_emit(json_pack("{s:s, s:s}", "kind", "listening", "url", url)) != ICE_OK || fflush(stdout) != 0)
		return ICE_EXIT_FAILURE;
	return ICE_EXIT_OK;
}

int ice_stat_serve(const ice_stats_scrape_opts *scrape, const char *listen)
{
	struct addrinfo *ai = NULL;
	struct MHD_Daemon *d = NULL;
	sigset_t stop;
	int status, sig;

	if ((status = parse_listen(listen, &ai)) >= 0)
		return status;
	json_object_seed(0); /* jansson's hash seed, before threads use it */
	/* Blocked before the threads start, so only sigwait below sees them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
	                             (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	                     0, NULL, NULL, on_request, (void *)scrape,
	                     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, /* first, to catch all */
	                     MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	                     MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)SERVE_THREADS,
	                     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)SERVE_MAX_CONNECTIONS,
	                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)SERVE_TIMEOUT_S, MHD_OPTION_END);
	if (!d) {
		ice_cli_error("cannot listen on %s", listen);
		status = ICE_EXIT_FAILURE;
		goto out;
	}
	if ((status = announce(d, ai)) != ICE_EXIT_OK)
		goto out;
	while (sigwait(&stop, &sig) != 0)
		;
out:
	if (d)
		MHD_stop_daemon(d);
	freeaddrinfo(ai);
	return status;
}
