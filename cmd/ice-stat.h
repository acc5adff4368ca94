/* ice-stat.h: what the files of ice-stat share (the CLI and the HTTP
 * endpoint). */
#ifndef ICE_STAT_H
#define ICE_STAT_H

#include <stddef.h>

#include "ice_error.h"

#define ICE_STAT_DEFAULT_LISTEN "127.0.0.1:9477"

/* The backend label of the metrics for a cache URL ("redis" for redis://
 * and unix://). Never NULL. */
const char *ice_stat_backend_label(const char *url);

/* Open the cache, collect, render in the Prometheus text format, close.
 * When the cache cannot be reached the text says icecache_up 0 and the
 * error is returned in err (ICE_EBACKEND, ICE_ETIMEOUT) with *text set all
 * the same; other failures leave *text NULL. Thread-safe: each call has its
 * own connection. *text is malloc'd; caller frees. */
int ice_stat_exposition(const char *url, const char *prefix, char **text, size_t *len, ice_err *err);

/* `ice-stat serve`: answer GET /metrics on listen ("ADDR:PORT") until
 * SIGINT or SIGTERM. Returns the exit status. */
int ice_stat_serve(const char *url, const char *prefix, const char *listen);

#endif
