/* ice_backend: the cache store behind every tool: Redis (redis.c, shared
 * by hosts) or an embedded SQLite file (sqlite.c, the default).
 *
 * An ice_backend is opened from a URL and owns its connection; close it with
 * ice_backend_close(). Values handed back (*val, ice_entry_meta strings,
 * json_t) are owned by the caller. The key layout in Redis is a public
 * contract described in icecache-keys(7). Errors never contain a password.
 * A connection lost after open (a restarted server) is reconnected with
 * backoff and the command repeated, for up to reconnect_ms; after a
 * timeout the next call reconnects. Not thread-safe. A write to a
 * connection the server closed raises SIGPIPE: callers ignore it (every
 * program does, in ice_cli_init) and get ICE_EBACKEND instead. */
#ifndef ICE_BACKEND_H
#define ICE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ice_error.h"
#include "ice_backend_url.h" /* the URL ice_backend_open takes */

typedef struct ice_backend ice_backend;

typedef struct ice_backend_opts {
	const char *prefix;        /* key namespace, default "icecache" */
	int connect_timeout_ms;    /* default 2000 */
	int command_timeout_ms;    /* default 5000 */
	int reconnect_ms;          /* keep reconnecting a lost connection this
	                            * long, with backoff; 0: 30000; < 0: never */
	int64_t max_bytes;         /* embedded store: set its size limit (kept in
	                            * the file); 0: keep the stored one, < 0: none */
	int wait_replicas;         /* Redis: replicas that must acknowledge an
	                            * invalidation's mark before it counts as
	                            * done (WAIT); 0: 1 when the master has
	                            * replicas, else none; < 0: never wait */
	int wait_timeout_ms;       /* how long WAIT may take; 0: 5000 */
} ice_backend_opts;

/* Filled by get/scan; the strings are owned by the struct:
 * ice_entry_meta_clear() frees them. */
typedef struct ice_entry_meta {
	int64_t created_ms, expires_ms; /* expires 0: no TTL */
	uint64_t size, hits;
	char *origin;               /* free text: "put", "exec", ... may be NULL */
	char *table;                /* the entry's home table ("_" when none) */
	char **tags;
	size_t n_tags;
	char **tables;              /* every table it depends on, home first;
	                            * NULL from a backend that does not fill it
	                            * (then only table) */
	size_t n_tables;
} ice_entry_meta;

void ice_entry_meta_clear(ice_entry_meta *m);

/* url: redis://[user:password@]host[:port][/db],
 * redis+cluster://[user:password@]host:port[,host:port...] (a Redis
 * Cluster, its seed nodes; key layout 2 as on one server),
 * unix:///path/to/redis.sock[?db=N], or the embedded store
 * sqlite:///path/to/cache.db[?max_size=SIZE] (file:///... is the same);
 * its folders are created as needed. Unreachable: ICE_EBACKEND with
 * "cannot connect to redis://host:port: reason". o may be NULL. */
int ice_backend_open(const char *url, const ice_backend_opts *o, ice_backend **out, ice_err *err);
void ice_backend_close(ice_backend *b);

/* tags: "table:T", "partition:T:KEY", "file:T:PATH", "snapshot:T:ID" or
 * free-form; no tag may be empty or contain "\n" (ICE_EINVAL; the grammar
 * is ice_tag.h's). Tags naming several tables make an entry that a commit
 * to any of them invalidates; a backend that cannot hold such an entry
 * refuses it with ICE_EUNSUPPORTED. ttl_ms 0: none.
 * Replaces an existing entry of the same key atomically. */
int ice_backend_put(ice_backend *b, const char *key, const void *val, size_t len,
                    const char *const *tags, size_t n_tags, int64_t ttl_ms,
                    const char *origin, ice_err *err);

/* Like put, but the entry keeps created_ms as its creation time (0: now):
 * import restores an entry as it was exported. */
int ice_backend_put_at(ice_backend *b, const char *key, const void *val, size_t len,
                       const char *const *tags, size_t n_tags, int64_t ttl_ms,
                       const char *origin, int64_t created_ms, ice_err *err);

/* ICE_OK hit (*val malloc'd with a NUL after len bytes, caller frees; meta
 * optional, caller clears), ICE_ENOENT miss. Counts a hit or a miss. */
int ice_backend_get(ice_backend *b, const char *key, void **val, size_t *len,
                    ice_entry_meta *meta, ice_err *err);

/* Like get, but counts nothing and leaves hits alone (export, migrate). */
int ice_backend_peek(ice_backend *b, const char *key, void **val, size_t *len,
                     ice_entry_meta *meta, ice_err *err);

/* A peek of each of keys[0..n), in that order, handed to cb: rc ICE_OK
 * (val, len and meta valid during the call only) or ICE_ENOENT; cb
 * returns nonzero to stop. Redis reads them in one pipeline (two round
 * trips for all, not two each), so the caller should bound n by the
 * values' sizes (the scan's meta has them). Another failure stops it. */
typedef int (*ice_backend_peek_cb)(void *ctx, const char *key, int rc, const void *val,
                                   size_t len, const ice_entry_meta *meta);
int ice_backend_peek_many(ice_backend *b, const char *const *keys, size_t n,
                          ice_backend_peek_cb cb, void *ctx, ice_err *err);

int ice_backend_delete(ice_backend *b, const char *const *keys, size_t n,
                       uint64_t *removed, ice_err *err);

/* Remove every entry carrying any of the tags and every reference to them,
 * atomically per table (one Lua script call per table). On Redis with
 * replicas, it returns only once the step that makes the entries gone was
 * acknowledged by wait_replicas replicas (fewer: ICE_EBACKEND), so that a
 * failover right after cannot bring them back. A free-form tag is
 * looked up in every table in use, found with SCAN. *removed = entries
 * removed (removed may be NULL). Adds to the invalidations/invalidated
 * counters. Tolerates dangling references (expired entries). */
int ice_backend_invalidate(ice_backend *b, const char *const *tags, size_t n,
                           uint64_t *removed, ice_err *err);

/* Remove every entry of table (whatever its tags) as one atomic step for
 * readers, and every reference to them. Counts like invalidate. */
int ice_backend_invalidate_table(ice_backend *b, const char *table, uint64_t *removed,
                                 ice_err *err);

/* Entries, optionally only of a table and/or carrying a tag, the key matching
 * a glob pattern (NULL: all). cb returns non-zero to stop. An entry changed
 * during the scan may be reported twice or not at all. */
typedef int (*ice_backend_scan_cb)(void *ctx, const char *key, const ice_entry_meta *m);
int ice_backend_scan(ice_backend *b, const char *table, const char *tag, const char *pattern,
                     ice_backend_scan_cb cb, void *ctx, ice_err *err);

/* The counters every backend keeps, in the order documented below. */
#define ICE_BACKEND_N_COUNTERS 5
extern const char *const ice_backend_counter_names[ICE_BACKEND_N_COUNTERS];

/* {"hits":N,"misses":N,"puts":N,"invalidations":N,"invalidated":N}, a new
 * reference; table NULL: global. */
int ice_backend_counters(ice_backend *b, const char *table, json_t **out, ice_err *err);

/* Zero the counters that ice_backend_counters reports: of table only (the
 * global ones stay), or with table NULL the global ones and every table's.
 * Entries, cursors and the store's own statistics are left alone. */
int ice_backend_counters_reset(ice_backend *b, const char *table, ice_err *err);

/* Every table the store holds something for (entries with tags, counters
 * or cursors), "_" included, sorted bytewise, no duplicates. *tables is a
 * malloc'd array of *n malloc'd strings: free with ice_backend_strv_free. */
int ice_backend_tables(ice_backend *b, char ***tables, size_t *n, ice_err *err);
void ice_backend_strv_free(char **v, size_t n);

/* An opaque JSON value per (table, name), table NULL meaning "_". *value is
 * a new reference; ICE_ENOENT when unset. */
int ice_backend_cursor_get(ice_backend *b, const char *table, const char *name,
                           json_t **value, ice_err *err);
int ice_backend_cursor_set(ice_backend *b, const char *table, const char *name,
                           const json_t *value, ice_err *err);
/* Set the cursor only forward (atomically, on every backend): its place
 * in the table's history is (seq, ts), a snapshot's sequence number then
 * its timestamp, compared with the stored value's integer members
 * "sequence_number" and "timestamp_ms" (value should carry both). A
 * stored cursor at the same place or later is kept: *moved is false. A
 * stored cursor without them is behind everything. */
int ice_backend_cursor_advance(ice_backend *b, const char *table, const char *name,
                               const json_t *value, int64_t seq, int64_t ts, bool *moved,
                               ice_err *err);

/* Remove tag-set references to entries that no longer exist (TTL expiry). */
int ice_backend_gc(ice_backend *b, uint64_t *removed_refs, ice_err *err);

/* A named lock (e.g. the key of a command being computed) held by token for
 * at most ttl_ms: ICE_OK taken, ICE_EBUSY when someone else holds it.
 * unlock releases it only if token still holds it (ICE_OK either way). */
int ice_backend_lock(ice_backend *b, const char *name, const char *token, int64_t ttl_ms,
                     ice_err *err);
int ice_backend_unlock(ice_backend *b, const char *name, const char *token, ice_err *err);

/* What the store itself knows, a new reference: {"backend":"redis" or
 * "sqlite", "location":URL without password, "used_bytes":N, "max_bytes":N
 * (0: no limit), "evicted":N, "expired":N} (fields a backend cannot know
 * are left out). */
int ice_backend_server_info(ice_backend *b, json_t **out, ice_err *err);

/* ---- optional operations (ICE_EUNSUPPORTED when the backend lacks one) ----
 * For copying a cache between backends (ice-cache migrate). */

/* Write an entry with its metadata kept: created_ms, expires_ms (absolute;
 * 0 none), hits, origin and tags of m (m->table is derived from the tags).
 * Replaces an entry of the same key; counts nothing. */
int ice_backend_restore(ice_backend *b, const char *key, const void *val, size_t len,
                        const ice_entry_meta *m, ice_err *err);

/* Add each integer member of add ({"hits":N,...}) to the counter of that
 * name, of table (NULL: the global counters). */
int ice_backend_counters_add(ice_backend *b, const char *table, const json_t *add, ice_err *err);

/* Group the writes that follow (ICE_BATCH_BEGIN) until ICE_BATCH_COMMIT
 * or ICE_BATCH_ROLLBACK, for many small writes in a row (import,
 * migrate). Inside a batch each put or restore is still all-or-nothing on
 * its own, and none is visible to other clients before the commit.
 * The embedded store makes the batch one transaction (a put a savepoint
 * of it: a failed put fails at once and leaves the others); other writers
 * wait for it. When SQLite itself rolls the transaction back (a full disk,
 * an I/O error), every change after that is refused (ICE_EBACKEND) until
 * the batch ends, rather than stored outside it. Redis checks a put at
 * once and queues it; the commit writes the queue pipelined, and its
 * failures show there. A commit that
 * fails may have written none of the batch (SQLite) or part of it
 * (Redis), each entry whole or not at all: the caller counts the batch's
 * writes as done only once the commit returned ICE_OK. Callers use
 * ice_batch.h. */
enum { ICE_BATCH_BEGIN, ICE_BATCH_COMMIT, ICE_BATCH_ROLLBACK };
int ice_backend_batch(ice_backend *b, int op, ice_err *err);

#endif
