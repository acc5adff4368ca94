/* ice_snaprec: the "snapshot" record of ice-snapshot's output.
 *
 * Fields (documented in ice-snapshot(1)): kind, event, table, table_uuid,
 * snapshot_id (null for a table with no snapshot), parent_id,
 * previous_snapshot_id (watch/poll: the snapshot seen before this one;
 * null after the empty table), sequence_number, timestamp_ms, timestamp,
 * operation, summary, manifest_list or manifests, schema_id,
 * format_version, metadata_file, table_path, location, reason; for a
 * table of a catalog also catalog, namespace, table_name and
 * metadata_location. */
#ifndef ICE_SNAPREC_H
#define ICE_SNAPREC_H

#include <jansson.h>

#include "ice_metadata.h"
#include "ice_track.h"

/* A new record (caller owns it), or NULL on ENOMEM. `table_path` is the
 * local table folder. `s` may be NULL (no snapshot); `ev` may be NULL
 * (show/log), then `event` names the event. */
json_t *ice_snapshot_record(const ice_metadata *md, const char *table, const char *table_path,
                            const ice_snapshot *s, const ice_track_event *ev, const char *event);

/* Where a catalog table came from, added to a record: the catalog's name,
 * the namespace ("a.b"), the table's own name and its metadata-location
 * (NULL: null). */
void ice_snapshot_record_catalog(json_t *r, const char *catalog, const char *ns,
                                 const char *name, const char *metadata_location);

/* The record of a table gone from its catalog (404 after it was seen):
 * event "dropped", no snapshot, previous_snapshot_id the one seen last
 * (has_previous false: the table was empty). NULL on ENOMEM. */
json_t *ice_dropped_record(const char *table, const char *table_uuid, bool has_previous,
                           int64_t previous_id, const char *reason);

#endif
