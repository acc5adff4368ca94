/* ice-stat-serve: `ice-stat serve`, the metrics endpoint, as ice-stat.c
 * starts it. */
#ifndef ICE_STAT_SERVE_H
#define ICE_STAT_SERVE_H

#include "ice_stats.h"

#define ICE_STAT_DEFAULT_LISTEN "127.0.0.1:9477"

/* Answer GET /metrics on listen ("ADDR:PORT") until SIGINT or SIGTERM,
 * each scrape with ice_stats_scrape(scrape), which must outlive the call.
 * Returns the exit status. */
int ice_stat_serve(const ice_stats_scrape_opts *scrape, const char *listen);

#endif
