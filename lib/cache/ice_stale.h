/* ice_stale: which cache tags a snapshot transition makes stale.
 *
 * Fed the records ice-diff prints for one transition (file records, then
 * the diff summary), it lists the tags to invalidate, per DESIGN's cache
 * semantics:
 *   - a removed data file, and a data file whose rows a delete may delete
 *     (rows_deleted): file:T:PATH;
 *   - every partition touched: partition:T:KEY;
 *   - the table: table:T;
 *   - a data-preserving transition (replace, compaction) keeps partition
 *     and table entries: only file tags of removed files go;
 *   - scope "table": the whole table (ice_stale_result.whole_table).
 * Added data files need no file tag: nothing can be cached on a file that
 * did not exist. snapshot:T:ID tags name immutable snapshots and never go
 * stale, except with the whole table. A coarser granularity only ever
 * adds: ICE_GRAIN_PARTITION also the partitions of the changed files
 * (removed, rows deleted), compaction included; ICE_GRAIN_TABLE the whole
 * table on every transition (its partition and file entries too: the
 * table tag alone would leave them stale). */
#ifndef ICE_STALE_H
#define ICE_STALE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "ice_error.h"

typedef enum {
	ICE_GRAIN_FINEST, /* what the records allow */
	ICE_GRAIN_FILE = ICE_GRAIN_FINEST,
	ICE_GRAIN_PARTITION,
	ICE_GRAIN_TABLE
} ice_grain;

typedef struct ice_stale ice_stale;

/* A collector for one table's transitions at the given granularity. */
ice_stale *ice_stale_new(ice_grain grain);
void ice_stale_free(ice_stale *s);

/* Feed one record. "file" records are collected; a "diff" record ends the
 * transition: *done becomes true and the result is ready. Other kinds are
 * ignored. A record of another table than the transition's so far, or a
 * file record without table/file_path, is ICE_EINVAL. */
int ice_stale_add(ice_stale *s, const json_t *rec, bool *done, ice_err *err);

typedef struct ice_stale_result {
	const char *table;
	bool whole_table;       /* scope "table": every entry of the table */
	const char *reason;     /* why, when whole_table */
	/* When whole_table and the table's name holds a ':': the table its
	 * partition, file and snapshot tags name (icecache-keys(7) ends a
	 * tag's table at its first ':'), whose entries must go too; else
	 * NULL. */
	const char *also_table;
	const char *const *tags;/* the tags to invalidate, without duplicates */
	size_t n_tags;
} ice_stale_result;

/* The finished transition's result; valid until the next ice_stale_add()
 * (which starts a new transition) or ice_stale_free(). */
const ice_stale_result *ice_stale_result_get(const ice_stale *s);

#endif
