/* ice_metadata: the table metadata model, format versions 1, 2 and 3.
 *
 * ice_metadata owns the parsed JSON document; every string and json_t
 * pointer inside the structs below is borrowed from it and lives until
 * ice_metadata_free(). Arrays are owned by the ice_metadata. */
#ifndef ICE_METADATA_H
#define ICE_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ice_error.h"
#include "ice_storage.h"

#define ICE_FORMAT_VERSION_MIN 1
#define ICE_FORMAT_VERSION_MAX 3

typedef struct ice_snapshot {
	int64_t id;
	bool has_parent;
	int64_t parent_id;
	int64_t sequence_number;   /* 0 for format 1, which has none */
	int64_t timestamp_ms;
	const char *operation;     /* summary.operation; NULL when absent (v1) */
	json_t *summary;           /* object or NULL */
	const char *manifest_list; /* NULL for v1 inline manifests */
	json_t *manifests;         /* v1 inline manifest paths (array) or NULL */
	bool has_schema_id;
	int schema_id;
} ice_snapshot;

typedef struct ice_ref {
	const char *name;
	const char *type; /* "branch" or "tag" */
	int64_t snapshot_id;
} ice_ref;

typedef struct ice_snapshot_log_entry {
	int64_t timestamp_ms;
	int64_t snapshot_id;
} ice_snapshot_log_entry;

typedef struct ice_metadata_log_entry {
	int64_t timestamp_ms;
	const char *metadata_file;
} ice_metadata_log_entry;

typedef struct ice_partition_field {
	int field_id;     /* 1000, 1001, ... (v1 may omit: assigned 1000+i) */
	int source_id;
	const char *name;
	const char *transform; /* "identity", "bucket[16]", "day", ... */
} ice_partition_field;

typedef struct ice_partition_spec {
	int spec_id;
	ice_partition_field *fields;
	size_t n_fields;
} ice_partition_spec;

typedef struct ice_metadata {
	json_t *root;
	char *path;              /* the metadata file read */
	int format_version;
	const char *table_uuid;  /* NULL only for format 1 tables without one */
	const char *location;
	int64_t last_sequence_number;
	int64_t last_updated_ms;
	int current_schema_id;
	json_t *schemas;         /* array of schema objects (v1: the single schema) */
	int default_spec_id;
	ice_partition_spec *specs;
	size_t n_specs;
	bool has_current;
	int64_t current_snapshot_id;
	ice_snapshot *snapshots; /* in metadata order */
	size_t n_snapshots;
	ice_ref *refs;
	size_t n_refs;
	ice_snapshot_log_entry *snapshot_log;
	size_t n_snapshot_log;
	ice_metadata_log_entry *metadata_log;
	size_t n_metadata_log;
} ice_metadata;

/* Parse metadata JSON text. `path` names the input in messages and is
 * copied into the result. */
int ice_metadata_parse(const char *text, size_t len, const char *path,
                       ice_metadata **out, ice_err *err);

/* The model of a metadata document already parsed (a catalog's
 * loadTable answer): root is a new reference, consumed either way; path
 * (the metadata-location) names it in messages and records. */
int ice_metadata_from_json(json_t *root, const char *path, ice_metadata **out, ice_err *err);

/* Read (plain or compressed) and parse a metadata file. */
int ice_metadata_load(const char *path, ice_metadata **out, ice_err *err);

/* The same through storage (a remote metadata file, kept in the object
 * cache: metadata files are never rewritten), compressed or not. */
int ice_metadata_load_storage(ice_storage *st, const char *uri, ice_metadata **out,
                              ice_err *err);

void ice_metadata_free(ice_metadata *md);

const ice_snapshot *ice_metadata_snapshot(const ice_metadata *md, int64_t id);
const ice_ref *ice_metadata_ref(const ice_metadata *md, const char *name);
const ice_partition_spec *ice_metadata_spec(const ice_metadata *md, int spec_id);
/* The schema object with that id, or NULL. */
json_t *ice_metadata_schema(const ice_metadata *md, int schema_id);
/* The name of the column with that field id (a top-level or nested field,
 * its own name), in the current schema, else in any other; NULL when none
 * has it. Points into md. */
const char *ice_metadata_column_name(const ice_metadata *md, int field_id);
/* Every partition spec as records carry it, a new reference (NULL when out
 * of memory): [{"spec_id":N,"fields":[{"name":F,"source":COLUMN,
 * "transform":T}]}], source null when no schema has the column. */
json_t *ice_metadata_specs_json(const ice_metadata *md);

/* The current snapshot (of the main branch), or NULL for an empty table. */
const ice_snapshot *ice_metadata_current(const ice_metadata *md);

/* The ancestry of `head`, oldest first, as a malloc'd array of borrowed
 * pointers (*n entries; caller frees the array). *complete is false when
 * the walk stopped at a parent missing from the metadata (expired). */
int ice_metadata_ancestry(const ice_metadata *md, const ice_snapshot *head,
                          const ice_snapshot ***chain, size_t *n, bool *complete,
                          ice_err *err);

/* Every snapshot ordered by sequence number, then timestamp, then id. */
int ice_metadata_sorted_snapshots(const ice_metadata *md, const ice_snapshot ***out,
                                  size_t *n, ice_err *err);

/* Is `a` an ancestor of (or equal to) `b` through parent links? */
bool ice_metadata_is_ancestor(const ice_metadata *md, int64_t a, int64_t b);

#endif
