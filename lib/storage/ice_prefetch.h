/* ice_prefetch: immutable S3 objects fetched ahead of their reader, many
 * at once, by a background thread (used by ice_storage_prefetch).
 *
 * The thread drives up to `concurrency` GETs at a time with curl multi
 * (kept connections), each signed anew per try and retried as single
 * reads are (ice_retry.h, statuses and transport failures as in
 * ice_xfer.h). An object already in the object cache costs no request:
 * the thread reads and checks it there (on the second core). What arrives
 * is put into the object cache and held in memory for its reader. The
 * thread runs ahead of the reader by at most a window of objects fetched
 * and not yet taken (the concurrency, and 16 MiB), then waits: memory
 * does not grow with the number of objects. A failure is
 * not reported: the reader's own read makes the request again and says
 * what went wrong.
 *
 * Threads: add, take and stats are called by the one thread that uses the
 * storage; the prefetcher's own thread only reads the ice_s3 (its
 * configuration, never its connection or counters), which must outlive
 * the prefetcher. libcurl must be loaded before open (ice_curl_load). */
#ifndef ICE_PREFETCH_H
#define ICE_PREFETCH_H

#include <stdbool.h>

#include "ice_error.h"
#include "ice_objcache.h"
#include "ice_object.h"
#include "ice_s3.h"

typedef struct ice_prefetch ice_prefetch;

/* Starts the thread. concurrency: transfers at once (1..256). *pf is the
 * caller's, released by ice_prefetch_close (which stops the thread and
 * drops what is in flight). */
int ice_prefetch_open(ice_prefetch **pf, const ice_s3 *s3, const ice_objcache_opts *cache,
                      const ice_retry_policy *retry, int concurrency, ice_err *err);
void ice_prefetch_close(ice_prefetch *pf);

/* Queue s3://BUCKET/KEY (key: its object-cache name) unless already
 * queued, in flight or held. Returns at once. */
int ice_prefetch_add(ice_prefetch *pf, const char *key, const char *bucket, const char *okey,
                     ice_err *err);

/* The bytes of key if it was queued: waits while it is queued or in
 * flight (a queued one goes first), then true with *out filled (the
 * caller's) when the prefetch brought it, false when it failed or was let
 * go or was never queued (then read it the ordinary way). */
bool ice_prefetch_take(ice_prefetch *pf, const char *key, ice_obj *out);

/* Requests made and the prefetcher's own object-cache counters. */
void ice_prefetch_stats(ice_prefetch *pf, ice_io_stats *io, ice_objcache_stats *cache);

#endif
