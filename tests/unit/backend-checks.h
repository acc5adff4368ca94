/* backend-checks: behaviour checks shared by the backend unit tests. */
#ifndef ICE_BACKEND_CHECKS_H
#define ICE_BACKEND_CHECKS_H

#include <stdint.h>

#include "ice_backend.h"
#include "tap.h"

/* Called after each named step of the checks ("values", "ttl-live",
 * "ttl-expired", "ttl-gc", "replaced", "deleted", "invalidated-file",
 * "invalidated-table", "big-written", "big-invalidated",
 * "table-invalidated", "peeked", "scan-many", "odd-invalidated") with the
 * backend in use, to check the store's own layout. */
typedef void (*bc_layout_fn)(const char *step, ice_backend *b);

/* Every shared check on b (prefix "icecache", fresh) and on new backends
 * opened from url with prefixes "cnt", "scan" and "odd"; backend is the
 * name server_info reports. */
void bc_run_all(ice_backend *b, const char *url, const char *backend, bc_layout_fn fn);

/* Helpers, also for backend-specific tests. */
void bc_sleep_ms(long ms);
int bc_put(ice_backend *b, const char *key, const char *val, const char *t1, const char *t2,
           const char *t3);
int bc_get_rc(ice_backend *b, const char *key);
uint64_t bc_inval1(ice_backend *b, const char *tag);
long long bc_counter(ice_backend *b, const char *table, const char *name);
int bc_count_scan(ice_backend *b, const char *table, const char *tag, const char *pattern, int stop);

#endif
