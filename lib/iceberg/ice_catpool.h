/* ice_catpool: several clients of one catalog, to load many tables at
 * once: each client keeps its own connection alive (and its own token), and
 * a round of loads runs one thread per client over a share of the tables.
 *
 * The clients are opened on the calling thread (GET /v1/config, a token)
 * the first time a round needs them, so libcurl is loaded before any
 * thread starts (ice_curl.h). The settings are borrowed for the pool's
 * life: keep them (and the strings they point to) unchanged until
 * ice_catpool_close. A pool is used from one thread at a time. */
#ifndef ICE_CATPOOL_H
#define ICE_CATPOOL_H

#include <stddef.h>

#include "ice_catalog.h"
#include "ice_error.h"

#define ICE_CATPOOL_MAX_WIDTH 16

typedef struct ice_catpool ice_catpool;

/* width: the most clients (1..ICE_CATPOOL_MAX_WIDTH). The first client is
 * opened now, so a catalog that cannot be reached is said at once. */
int ice_catpool_open(ice_catpool **p, const ice_catalog_settings *s, int width, ice_err *err);
void ice_catpool_close(ice_catpool *p);

/* The first client, for listings and single loads (borrowed). */
ice_catalog *ice_catpool_client(ice_catpool *p);

/* One loadTable of a round: id and seen are the caller's (seen may be
 * NULL: unconditional); out, rc and err are filled by ice_catpool_load
 * (clear out with ice_loaded_table_clear). */
typedef struct ice_catpool_job {
	const ice_table_ident *id;
	ice_snapshots_mode mode;
	ice_table_seen *seen;
	ice_loaded_table out;
	int rc;
	ice_err err;
} ice_catpool_job;

/* Run every job, concurrently over the pool's clients. A client that
 * cannot be opened fails the jobs it would have run. */
void ice_catpool_load(ice_catpool *p, ice_catpool_job *jobs, size_t n);

/* The counters of every client, summed. */
void ice_catpool_stats(const ice_catpool *p, ice_catalog_stats *out);

#endif
