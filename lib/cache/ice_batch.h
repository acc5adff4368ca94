/* ice_batch: many writes in a row (import, migrate) grouped into a few
 * commits (ice_backend_batch), so a copy of many small entries does not
 * pay a transaction (embedded store) or three round trips (Redis) per
 * entry.
 *
 * A batch commits after ICE_BATCH_MAX_ENTRIES writes, ICE_BATCH_MAX_BYTES
 * bytes of values or ICE_BATCH_MAX_MS milliseconds, whichever comes first,
 * so other writers of the same cache never wait long. Each write stays
 * all-or-nothing on its own. A write counts as done (entries, bytes) only
 * once its batch committed; on a backend that cannot group writes, at once.
 *
 * Usage: ice_batch_init; before each write ice_batch_open; after each write
 * that succeeded ice_batch_wrote; at the end ice_batch_close (always, also
 * after a failure: it keeps what the open batch holds, or says why not).
 * The ice_batch holds no memory; the backend stays the caller's. */
#ifndef ICE_BATCH_H
#define ICE_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "ice_backend.h"

#define ICE_BATCH_MAX_ENTRIES 1000
#define ICE_BATCH_MAX_BYTES (16u << 20)
#define ICE_BATCH_MAX_MS 200

typedef struct ice_batch {
	ice_backend *b;
	uint64_t entries, bytes;            /* committed */
	uint64_t pending, pending_bytes;    /* written in the open batch */
	int64_t opened_ms;
	bool open, unsupported;
} ice_batch;

void ice_batch_init(ice_batch *bt, ice_backend *b);

/* Open a batch unless one is open (or the backend cannot group writes).
 * Inside it, a write's own failure may show only at the commit (Redis). */
int ice_batch_open(ice_batch *bt, ice_err *err);

/* One write of bytes succeeded; commits the batch when it is full. */
int ice_batch_wrote(ice_batch *bt, uint64_t bytes, ice_err *err);

/* Commit the open batch, if any. */
int ice_batch_close(ice_batch *bt, ice_err *err);

#endif
