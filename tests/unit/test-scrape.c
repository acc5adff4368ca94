/* test-scrape: one Prometheus scrape of a cache, with its options passed
 * in: a cache that answers, one that does not, the backend label. */
#include "config.h"
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ice_stats.h"

static void test_labels(void)
{
	tap_is_str(ice_stats_backend_label("redis://localhost:6379/0"), "redis", "label: redis://");
	tap_is_str(ice_stats_backend_label("unix:///run/redis.sock"), "redis", "label: unix://");
	tap_is_str(ice_stats_backend_label("sqlite:///tmp/c.db"), "sqlite", "label: sqlite://");
	tap_is_str(ice_stats_backend_label("file:///tmp/c.db"), "sqlite", "label: file://");
	tap_is_str(ice_stats_backend_label("memcached://x"), "unknown", "label: anything else");
}

/* Scrape url under prefix; the text, or "ERR: message" when there is none. */
static char *scrape(const char *url, const char *prefix, int *rc)
{
	ice_stats_scrape_opts o;
	ice_err err = { 0 };
	char *text = NULL, *msg;
	size_t len = 0;

	memset(&o, 0, sizeof o);
	o.url = url;
	o.backend.prefix = prefix;
	*rc = ice_stats_scrape(&o, &text, &len, &err);
	if (text)
		return text;
	if (asprintf(&msg, "ERR: %s", err.msg) < 0)
		return NULL;
	return msg;
}

static void test_answering_cache(void)
{
	char *dir = test_tmpdir(), url[4200], *text;
	ice_backend_opts bo = { 0 };
	ice_backend *b = NULL;
	const char *tags[] = { "table:db.t" };
	ice_err err = { 0 };
	int rc;

	snprintf(url, sizeof url, "sqlite://%s/c.db", dir);
	bo.prefix = "scraped";
	if (ice_backend_open(url, &bo, &b, &err) ||
	    ice_backend_put(b, "k", "v", 1, tags, 1, 0, "put", &err)) {
		tap_ok(0, "scrape: a cache with one entry (%s)", err.msg);
		goto out;
	}
	text = scrape(url, "scraped", &rc);
	tap_is_int(rc, ICE_OK, "scrape: a cache that answers: no error");
	tap_ok(text && strstr(text, "icecache_up{backend=\"sqlite\"} 1\n"), "scrape: icecache_up 1, backend sqlite");
	tap_ok(text && strstr(text, "icecache_entries{backend=\"sqlite\"} 1\n"),
	       "scrape: the entry under the prefix passed in is counted");
	free(text);
	text = scrape(url, "other", &rc);
	tap_ok(text && strstr(text, "icecache_entries{backend=\"sqlite\"} 0\n"),
	       "scrape: another prefix sees none of it (the options are the ones passed)");
	free(text);
out:
	ice_backend_close(b);
	free(dir);
}

static void test_silent_cache(void)
{
	char *dir = test_tmpdir(), url[4200], *text;
	int rc;

	snprintf(url, sizeof url, "unix://%s/no-redis.sock", dir);
	text = scrape(url, NULL, &rc);
	tap_is_int(rc, ICE_EBACKEND, "scrape: an unreachable cache is ICE_EBACKEND");
	tap_ok(text && strstr(text, "icecache_up{backend=\"redis\"} 0\n"),
	       "scrape: ... and the text still says icecache_up 0");
	tap_ok(text && !strstr(text, "icecache_entries"), "scrape: ... and nothing else of the cache");
	free(text);
	free(dir);
}

void test_scrape(void)
{
	test_labels();
	test_answering_cache();
	test_silent_cache();
}
