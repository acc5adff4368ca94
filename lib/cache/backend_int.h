/* backend_int: the private interface between the dispatcher (backend.c)
 * and the backend implementations (redis.c, sqlite.c): the operations
 * table each backend fills and the functions that open one. Not for use
 * outside lib/cache; callers use ice_backend.h.
 *
 * Every operation gets the impl pointer its backend's open returned and
 * follows the contract of the ice_backend_* function of the same name. */
#ifndef ICE_BACKEND_INT_H
#define ICE_BACKEND_INT_H

#include <stdbool.h>

#include "ice_backend.h"
#include "ice_backend_url.h"

typedef struct ice_backend_ops {
	void (*close)(void *impl);
	/* created_ms 0: now */
	int (*put)(void *impl, const char *key, const void *val, size_t len,
	           const char *const *tags, size_t n_tags, int64_t ttl_ms,
	           const char *origin, int64_t created_ms, ice_err *err);
	int (*get)(void *impl, const char *key, void **val, size_t *len,
	           ice_entry_meta *meta, ice_err *err);
	int (*peek)(void *impl, const char *key, void **val, size_t *len,
	            ice_entry_meta *meta, ice_err *err);
	int (*del)(void *impl, const char *const *keys, size_t n, uint64_t *removed, ice_err *err);
	int (*invalidate)(void *impl, const char *const *tags, size_t n, uint64_t *removed,
	                  ice_err *err);
	int (*invalidate_table)(void *impl, const char *table, uint64_t *removed, ice_err *err);
	int (*scan)(void *impl, const char *table, const char *tag, const char *pattern,
	            ice_backend_scan_cb cb, void *ctx, ice_err *err);
	int (*counters)(void *impl, const char *table, json_t **out, ice_err *err);
	int (*cursor_get)(void *impl, const char *table, const char *name, json_t **value,
	                  ice_err *err);
	int (*cursor_set)(void *impl, const char *table, const char *name,
	                  const json_t *value, ice_err *err);
	int (*cursor_advance)(void *impl, const char *table, const char *name, const json_t *value,
	                      int64_t seq, int64_t ts, bool *moved, ice_err *err);
	int (*gc)(void *impl, uint64_t *removed_refs, ice_err *err);
	int (*lock)(void *impl, const char *name, const char *token, int64_t ttl_ms, ice_err *err);
	int (*unlock)(void *impl, const char *name, const char *token, ice_err *err);
	int (*server_info)(void *impl, json_t **out, ice_err *err);
	int (*counters_reset)(void *impl, const char *table, ice_err *err);
	int (*tables)(void *impl, char ***tables, size_t *n, ice_err *err);
} ice_backend_ops;

/* The optional operations of ice_backend.h; any member may be NULL. */
typedef struct ice_backend_ext_ops {
	int (*restore)(void *impl, const char *key, const void *val, size_t len,
	               const ice_entry_meta *m, ice_err *err);
	int (*counters_add)(void *impl, const char *table, const json_t *add, ice_err *err);
	int (*batch)(void *impl, int op, ice_err *err);
	int (*peek_many)(void *impl, const char *const *keys, size_t n, ice_backend_peek_cb cb,
	                 void *ctx, ice_err *err);
} ice_backend_ext_ops;

/* One key's peek by the backend's peek op, handed to cb as
 * ice_backend_peek_many does (*stop: what cb returned). ICE_OK when it
 * was found or not, else the failure. */
typedef int (*ice_backend_peek_fn)(void *impl, const char *key, void **val, size_t *len,
                                   ice_entry_meta *meta, ice_err *err);
int ice_backend_peek_to(ice_backend_peek_fn peek, void *impl, const char *key,
                        ice_backend_peek_cb cb, void *ctx, int *stop, ice_err *err);

/* sqlite.c: open (creating as needed) the database of a parsed sqlite://
 * URL. */
int ice_sqlite_open(const ice_backend_url *u, const ice_backend_opts *o,
                    const ice_backend_ops **ops, const ice_backend_ext_ops **ext,
                    void **impl, ice_err *err);

/* redis.c: connect to a parsed redis:// or unix:// URL. */
int ice_redis_open(const ice_backend_url *u, const ice_backend_opts *o,
                   const ice_backend_ops **ops, const ice_backend_ext_ops **ext, void **impl,
                   ice_err *err);

/* redis.c: connect to a Redis Cluster, url redis+cluster://... (seeds). */
int ice_redis_open_cluster(const char *url, const ice_backend_opts *o, const ice_backend_ops **ops,
                           const ice_backend_ext_ops **ext, void **impl, ice_err *err);

#endif
