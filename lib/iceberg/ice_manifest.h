/* ice_manifest: stream the entries of Iceberg manifest lists and manifests.
 *
 * Fields are found by Iceberg field id in the schema of each file's header
 * (format 1 and 2 writers name the same fields differently), and only what
 * a diff needs is decoded. Manifests with the codecs Iceberg writes (deflate,
 * none) are decoded straight from their blocks (ice_avro_block,
 * ice_avro_decode): column statistics and split offsets are skipped without
 * allocating, and the partition tuple is handed to avro-c only when it
 * differs from the previous entry's. Other codecs are read with avro-c
 * through a reader schema that projects the statistics away. Entries are
 * streamed: memory does not grow with the number of entries. Any field,
 * data_file and the partition record included, may be a nullable union
 * ["null", T] (some writers make every field one); a null in a field the
 * spec requires is an error naming the manifest, the entry and the field. */
#ifndef ICE_MANIFEST_H
#define ICE_MANIFEST_H

#include <avro.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ice_error.h"

enum { ICE_STATUS_EXISTING = 0, ICE_STATUS_ADDED = 1, ICE_STATUS_DELETED = 2 };
enum { ICE_CONTENT_DATA = 0, ICE_CONTENT_POSITION_DELETES = 1, ICE_CONTENT_EQUALITY_DELETES = 2 };

/* One partition field's summary in a manifest list entry. Bounds are in
 * Iceberg's single-value binary serialization; NULL when absent. */
typedef struct ice_field_summary {
	bool contains_null;
	int contains_nan; /* -1 unknown */
	unsigned char *lower, *upper;
	size_t lower_len, upper_len;
} ice_field_summary;

/* One entry of a manifest list (or a format 1 inline manifest path, with
 * only `path` known and `spec_id` -1). Owns its strings and arrays. */
typedef struct ice_manifest_file {
	char *path;                 /* as written */
	int64_t length;
	int spec_id;
	int content;                /* 0 data, 1 deletes */
	int64_t sequence_number;    /* 0 for format 1 */
	int64_t min_sequence_number;
	bool has_added_snapshot_id;
	int64_t added_snapshot_id;
	int64_t added_files, existing_files, deleted_files; /* -1 unknown */
	ice_field_summary *partitions;
	size_t n_partitions;
	bool has_partitions;
} ice_manifest_file;

/* Read a whole manifest list (they are small: one entry per manifest).
 * `path` is the local file, `name` the path as written, for messages,
 * which name both ("NAME (local file PATH)") when they differ. */
int ice_manifest_list_read(const char *path, const char *name, ice_manifest_file **files,
                           size_t *n, ice_err *err);
void ice_manifest_files_free(ice_manifest_file *files, size_t n);

/* The same, always decoding with avro-c, for checking the direct decoder. */
int ice_manifest_list_read_generic(const char *path, const char *name, ice_manifest_file **files,
                                   size_t *n, ice_err *err);

/* One manifest entry. Strings and values are borrowed from the reader and
 * valid until the next ice_manifest_next() call. */
typedef struct ice_manifest_entry {
	int status;
	bool has_snapshot_id;
	int64_t snapshot_id;
	bool has_sequence_number;
	int64_t sequence_number;
	bool has_file_sequence_number;
	int64_t file_sequence_number;
	int content;
	const char *file_path;
	const char *file_format;
	avro_value_t partition;     /* the partition record */
	const unsigned char *partition_raw; /* its Avro bytes, NULL when not known */
	size_t partition_raw_len;
	int64_t record_count;
	int64_t file_size_in_bytes;
	const char *referenced_data_file; /* NULL when absent */
	bool has_content_offset;
	int64_t content_offset;
	int64_t content_size_in_bytes;
	bool has_equality_ids;
	const int32_t *equality_ids;
	size_t n_equality_ids;
} ice_manifest_entry;

typedef struct ice_manifest_reader ice_manifest_reader;

int ice_manifest_open(const char *path, const char *name, ice_manifest_reader **out, ice_err *err);

/* The same, always decoding with avro-c (any codec avro-c reads); slower,
 * for checking the direct decoder against it. */
int ice_manifest_open_generic(const char *path, const char *name, ice_manifest_reader **out,
                              ice_err *err);

/* Read another manifest with r (one from ice_manifest_open) instead of
 * closing it and opening a new one: when the new file's schema is the same
 * text as the last one's (the manifests of one table and spec), the decoder
 * compiled for it is kept, which saves most of the cost of opening. On an
 * error r reads nothing until the next successful reopen; close it still. */
int ice_manifest_reopen(ice_manifest_reader *r, const char *path, const char *name, ice_err *err);

/* The partition record type in a manifest's Avro schema (`schema`, the
 * header's avro.schema JSON), through nullable unions ["null", T] around
 * data_file and partition; NULL when there is none. Borrowed from schema. */
const json_t *ice_manifest_schema_partition_type(const json_t *schema);

/* The Avro schema (JSON, with field ids) of the partition record; borrowed. */
const json_t *ice_manifest_partition_schema(const ice_manifest_reader *r);

/* Iceberg metadata keys of the file header ("partition-spec-id", ...);
 * borrowed object of strings. */
const json_t *ice_manifest_header(const ice_manifest_reader *r);

/* 1 and *e filled, 0 at the end, -1 on a corrupt or truncated file. */
int ice_manifest_next(ice_manifest_reader *r, ice_manifest_entry *e, ice_err *err);

/* Entries read so far. */
uint64_t ice_manifest_count(const ice_manifest_reader *r);

void ice_manifest_close(ice_manifest_reader *r);

#endif
