/* ice_objcache: a local cache of immutable remote objects (Iceberg
 * metadata files, manifest lists, manifests: never rewritten once
 * written), so that watching and diffing a remote table fetches each of
 * them at most once.
 *
 * One file per object under DIR (default $XDG_CACHE_HOME/icecache/objects,
 * else ~/.cache/icecache/objects), named by the SHA-256 of its URI, in
 * 256 sub-folders. A file holds a short header (the URI, the size and ETag
 * the store gave, the SHA-256 of the bytes) and the bytes. A hit is
 * checked: the URI, the size and the SHA-256 must match, else the entry
 * is removed and the call is a miss (a corrupted or truncated entry is
 * fetched again, never used).
 *
 * Several processes may use one cache at once: entries are written to a
 * temporary file and renamed into place (a reader sees a whole entry or
 * none), and removing an entry another process reads is harmless. Least
 * recently used first out: a hit touches the entry's mtime; when this
 * process's writes may have taken the cache past max_bytes, the folder is
 * scanned and the oldest entries removed down to 90% of it. Errors of the
 * cache never fail a read: get reports a miss, put is best effort (both
 * still return codes for tests). */
#ifndef ICE_OBJCACHE_H
#define ICE_OBJCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "ice_error.h"
#include "ice_object.h"

typedef struct ice_objcache_opts {
	const char *dir;     /* NULL: the default above */
	uint64_t max_bytes;  /* 0: 1 GiB */
	bool disabled;       /* no cache at all */
} ice_objcache_opts;

typedef struct ice_objcache_stats {
	uint64_t hits, misses, stored, corrupt, evicted;
} ice_objcache_stats;

typedef struct ice_objcache ice_objcache;

/* The folder is created when first written. *c is the caller's. With
 * o->disabled, *c is NULL and every call below is a miss / a no-op. */
int ice_objcache_open(ice_objcache **c, const ice_objcache_opts *o, ice_err *err);
void ice_objcache_close(ice_objcache *c);

/* *found and out (bytes, size, ETag; cleared by the caller) on a hit. */
int ice_objcache_get(ice_objcache *c, const char *uri, ice_obj *out, bool *found, ice_err *err);
/* Keep o's bytes (o->info.size and etag as the store gave them). */
int ice_objcache_put(ice_objcache *c, const char *uri, const ice_obj *o, ice_err *err);

ice_objcache_stats ice_objcache_stats_of(const ice_objcache *c);
/* The folder in use (NULL when disabled). */
const char *ice_objcache_dir(const ice_objcache *c);

#endif
