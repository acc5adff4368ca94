/* scrape: one Prometheus scrape of a cache: open it, collect, render,
 * close; everything it needs is passed in, so server threads can run it
 * side by side. */
#include "config.h"
#include "ice_stats.h"

#include <string.h>

#include "ice_time.h"

const char *ice_stats_backend_label(const char *url)
{
	if (!url || strncmp(url, "redis://", 8) == 0 || strncmp(url, "unix://", 7) == 0 ||
	    strncmp(url, "redis+cluster://", 16) == 0)
		return "redis";
	if (strncmp(url, "sqlite://", 9) == 0 || strncmp(url, "file://", 7) == 0)
		return "sqlite";
	return "unknown";
}

int ice_stats_scrape(const ice_stats_scrape_opts *o, char **text, size_t *len, ice_err *err)
{
	ice_backend_opts bo = o->backend;
	ice_backend *b = NULL;
	json_t *stats = NULL;
	int64_t t0 = ice_monotonic_ms();
	ice_err render_err = { 0 };
	int rc;

	*text = NULL;
	if (!(rc = ice_backend_open(o->url, &bo, &b, err)))
		rc = ice_stats_collect(b, &stats, err);
	ice_backend_close(b);
	if (rc && rc != ICE_EBACKEND && rc != ICE_ETIMEOUT)
		return rc;
	/* The backend being down is a fact to report, not a failure to render. */
	if (ice_stats_prometheus(stats, ice_stats_backend_label(o->url),
	                         (double)(ice_monotonic_ms() - t0) / 1000.0, text, len, &render_err))
		rc = ice_err_set(err, render_err.code, "%s", render_err.msg);
	json_decref(stats);
	return rc;
}
