/* ice_migrate: copy a cache from one backend to another (ice-cache migrate).
 *
 * Only the ice_backend interface is used: scan + peek_many on the source
 * (in key order, in bounded batches), put (or restore, when the
 * destination has it) in write batches on the destination, so any two
 * backends work. Entries keep their tags, origin and remaining TTL; with
 * restore also created and hits. Counters are added to the destination's
 * when it can (counters_add); cursors are copied. Entries that expire
 * during the copy are skipped. Neither backend is closed. */
#ifndef ICE_MIGRATE_H
#define ICE_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>

#include "ice_backend.h"

typedef struct ice_migrate_stats {
	uint64_t entries;       /* copied */
	uint64_t skipped;       /* expired or removed while copying */
	uint64_t cursors;       /* copied */
	uint64_t tables;        /* whose counters were copied */
	bool metadata_kept;     /* created and hits kept (destination restores) */
	bool counters_copied;   /* the destination could add counters */
} ice_migrate_stats;

int ice_migrate(ice_backend *from, ice_backend *to, ice_migrate_stats *st, ice_err *err);

#endif
