/* ice_stats: one look at a cache's metrics, as a JSON document, and its
 * rendering in the Prometheus text exposition format.
 *
 * The document (a new reference, owned by the caller) is what
 * `ice-stat --json` prints:
 *   {"kind":"stats", "time_ms":N, "backend":"redis", "location":URL,
 *    "server":{"used_bytes":N, "max_bytes":N, "evicted":N, "expired":N},
 *    "totals":{"entries":N, "bytes":N, "hits":N, "misses":N,
 *              "hit_rate":X|null, "puts":N, "invalidations":N, "invalidated":N},
 *    "tables":[{"table":T, "entries":N, "bytes":N, "hits":N, ...,
 *               "last_invalidated":{"snapshot_id":N, "updated_ms":N,
 *                                   "age_s":N}|null}, ...]}
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

#endif
