/* ice_stats: one look at a cache's metrics, as a JSON document, its
 * rendering in the Prometheus text exposition format, and a whole scrape
 * (open, collect, render, close) for a metrics endpoint.
 *
 * The document (a new reference, owned by the caller) is what
 * `ice-stat --json` prints:
 *   {"kind":"stats", "time_ms":N, "backend":"redis", "location":URL,
 *    "server":{"used_bytes":N, "max_bytes":N, "evicted":N, "expired":N},
 *    "totals":{"entries":N, "bytes":N, "hits":N, "misses":N,
 *              "hit_rate":X|null, "puts":N, "invalidations":N, "invalidated":N},
 *    "tables":[{"table":T, "entries":N, "bytes":N, "shared_entries":N, "hits":N, ...,
 *               "last_invalidated":{"snapshot_id":N, "updated_ms":N,
 *                                   "age_s":N}|null}, ...]}
 * A table's entries and bytes are those of the entries whose home table it
 * is (so that they add up to the totals); shared_entries counts the
 * entries that depend on it and on another table too (a cached join).
 * Entries and bytes come from a scan of every entry (cost grows with the
 * cache); the counters from the backend's counters; last_invalidated from
 * the "invalidated" cursor that ice-invalidate moves. Server fields the
 * backend cannot know are left out. */
#ifndef ICE_STATS_H
#define ICE_STATS_H

#include <stddef.h>
#include <jansson.h>

#include "ice_backend.h"
#include "ice_error.h"

int ice_stats_collect(ice_backend *b, json_t **out, ice_err *err);

/* The Prometheus text format of a document from ice_stats_collect, or with
 * stats NULL of a failed collection (icecache_up 0 only). backend is the
 * value of the backend label when stats is NULL. scrape_s: the seconds the
 * collection took, or < 0 to leave icecache_scrape_duration_seconds out.
 * *text is malloc'd, NUL-terminated, *len bytes; caller frees. */
int ice_stats_prometheus(const json_t *stats, const char *backend, double scrape_s,
                         char **text, size_t *len, ice_err *err);

/* The backend label of the metrics for a cache URL ("redis" for redis://,
 * redis+cluster:// and unix://, "sqlite" for sqlite:// and file://). Never NULL. */
const char *ice_stats_backend_label(const char *url);

/* What a scrape opens: the cache's URL and its options (prefix, timeouts,
 * reconnect budget). Borrowed, never changed: one set can serve scrapes
 * running in parallel. */
typedef struct ice_stats_scrape_opts {
	const char *url;
	ice_backend_opts backend;
} ice_stats_scrape_opts;

/* Open the cache, collect, render in the Prometheus text format, close.
 * When the cache cannot be reached the text says icecache_up 0 and the
 * error is returned in err (ICE_EBACKEND, ICE_ETIMEOUT) with *text set all
 * the same; other failures leave *text NULL. Thread-safe: each call has
 * its own connection. *text is malloc'd; caller frees. */
int ice_stats_scrape(const ice_stats_scrape_opts *o, char **text, size_t *len, ice_err *err);

#endif
