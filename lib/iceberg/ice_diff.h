/* ice_diff: the file- and partition-level change between two snapshots.
 *
 * The change from A to B is the difference of their live file sets (status
 * EXISTING or ADDED), keyed by file path (deletion vectors: path and content
 * offset). Manifests are immutable and uniquely named, so a manifest both
 * snapshots list contributes the same entries to both: only manifests
 * listed by one side are read, and the cost grows with the change, not the
 * table. Added delete files also report the live data files whose rows they
 * may delete ("rows_deleted").
 *
 * Records go to a sink callback that takes ownership of each json_t, or,
 * for file records, as text to a line callback (a listing of a million
 * files is mostly file records).
 *
 * Manifest lists and manifests are read whole through an ice_storage (a
 * local folder, s3://, http(s)://: paths as written are remapped onto what
 * is read), one at a time, and decoded from memory. */
#ifndef ICE_DIFF_H
#define ICE_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ice_error.h"
#include "ice_metadata.h"
#include "ice_path.h"
#include "ice_storage.h"

typedef struct ice_diff_sink {
	/* Called with each record; returns ICE_OK or an error (ICE_EPIPE ends the diff). */
	int (*emit)(void *ctx, json_t *rec);
	void *ctx;
	/* Optional: called instead of emit with file records already written
	 * as one line of compact JSON (no newline; the bytes ice_jsonl_write
	 * would write for the record emit would get). */
	int (*write_line)(void *ctx, const char *line, size_t len);
} ice_diff_sink;

typedef struct ice_diff_opts {
	const ice_remap *remap; /* rules plus the table's location -> folder or URI */
	bool full;              /* read every manifest of both sides (to verify the fast path) */
	bool partitions_only;   /* partition records instead of file records */
	ice_storage *storage;   /* where manifest lists and manifests are read
	                         * (borrowed; NULL: local files only) */
} ice_diff_opts;

typedef struct ice_diff_stats {
	uint64_t manifests_read;
	uint64_t entries_read;
} ice_diff_stats;

/* Diff `from` (NULL: the empty table) to `to` of table `table` and emit
 * file (or partition) records, then one diff summary. A manifest that cannot
 * be read does not end the diff silently: the summary gets scope "table"
 * with the reason, and the error is returned in *err after the summary was
 * emitted (ICE_OK otherwise). */
int ice_diff_run(const ice_metadata *md, const char *table, const ice_snapshot *from,
                 const ice_snapshot *to, const ice_diff_opts *o, const ice_diff_sink *sink,
                 ice_diff_stats *stats, ice_err *err);

/* A summary with scope "table" and a reason, for transitions that cannot be
 * diffed (table recreated, from-snapshot expired, ...). `from`/`to` may be
 * absent (has_* false). */
json_t *ice_diff_table_scope(const char *table, bool has_from, int64_t from, bool has_to,
                             int64_t to, const char *operation, const char *reason);

#endif
