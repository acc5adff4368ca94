/* ice_cursor: per-table positions saved between runs (ice-snapshot poll).
 *
 * A cursor file is one JSON document mapping table names to the last
 * snapshot emitted: {"format":"icecache-cursors","version":1,"tables":
 * {"db.t":{"table_uuid":...,"snapshot_id":...,"metadata_file":...,
 * "updated_ms":...}}}. Saving is atomic (temp file, fsync, rename), and an
 * open file holds an exclusive lock (PATH.lock) so overlapping cron runs
 * cannot interleave their reads and writes. */
#ifndef ICE_CURSOR_H
#define ICE_CURSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "ice_error.h"

typedef struct ice_cursor {
	char *table_uuid;    /* NULL when the table had none (format 1) */
	bool has_snapshot;   /* false: the table was empty */
	int64_t snapshot_id;
} ice_cursor;

void ice_cursor_clear(ice_cursor *c);
int ice_cursor_copy(ice_cursor *dst, const ice_cursor *src, ice_err *err);

typedef struct ice_cursor_file ice_cursor_file;

/* Lock and load `path` (a missing file is an empty set of cursors). A lock
 * held by another process is ICE_EBACKEND with a message saying so. */
int ice_cursor_file_open(const char *path, ice_cursor_file **out, ice_err *err);

/* Look up a table: 1 and *c filled (caller clears it) when present, else 0. */
int ice_cursor_file_get(const ice_cursor_file *f, const char *table, ice_cursor *c);

int ice_cursor_file_set(ice_cursor_file *f, const char *table, const ice_cursor *c,
                        const char *metadata_file, ice_err *err);

/* Write atomically. Nothing changes on disk before this call. */
int ice_cursor_file_save(ice_cursor_file *f, ice_err *err);

/* Release the lock and free. */
void ice_cursor_file_close(ice_cursor_file *f);

#endif
