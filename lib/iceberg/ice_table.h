/* ice_table: find a table's current metadata file from a TABLE argument.
 *
 * TABLE is a table directory (Hadoop layout: DIR/metadata/...), its
 * metadata directory, or one metadata file. For a directory the current
 * metadata is what metadata/version-hint.text names (a number N meaning
 * vN.metadata.json or a compressed variant, or a file name without
 * ".metadata.json"); without a hint, the metadata file with the highest
 * version number (vN. or NNNNN-uuid. names); without numbers, the one with
 * the highest last-updated-ms. Files of several tables (a table dropped and
 * created again over its old files, numbering from 1 again) are told apart
 * by table-uuid: the newest table (highest last-updated-ms) wins, then its
 * highest version; the same for a hint number matching several files. A
 * hint that names no file is an error: a table whose pointer is broken is
 * not silently read at another version. */
#ifndef ICE_TABLE_H
#define ICE_TABLE_H

#include <stdbool.h>

#include "ice_error.h"
#include "ice_fileio.h"
#include "ice_storage.h"

typedef struct ice_table {
	char *arg;           /* as given */
	char *root;          /* the table directory (metadata location maps here) */
	char *metadata_dir;  /* root/metadata, or the folder of a given file */
	char *file;          /* the metadata file given as TABLE, else NULL */
	ice_storage *st;     /* borrowed: a table in object storage, else NULL */
} ice_table;

/* Cheap identity of "what the current metadata is", for idle polls: the
 * version hint and the metadata folder (a new file changes its mtime). */
typedef struct ice_table_probe {
	ice_file_id hint;
	ice_file_id dir;
	ice_file_id file;
	/* A table in object storage: a hash of the hint's validators, or,
	 * without a hint, of the metadata/ listing; "" on disk. */
	char remote[17];
	/* The hint's (or given file's) ETag, for the next conditional probe;
	 * "" when none or too long to keep. */
	char etag[160];
} ice_table_probe;

/* Resolve `arg` into the table's folders. ICE_ENOENT when nothing is
 * there, ICE_EINVAL when it is not an Iceberg table. */
int ice_table_open(const char *arg, ice_table *t, ice_err *err);
void ice_table_free(ice_table *t);

/* The same for a table URI in object storage (s3://bucket/wh/db/t, its
 * metadata/ folder or one metadata file; http(s) only for a file), read
 * through st, which must outlive *t. The folders are URIs; the current
 * metadata is found as on disk: version-hint.text (asked fresh), else
 * the listing of metadata/. A local path is opened as by ice_table_open. */
int ice_table_open_storage(ice_storage *st, const char *uri, ice_table *t, ice_err *err);

/* The current metadata file's path (caller frees). */
int ice_table_current_metadata(const ice_table *t, char **path, ice_err *err);

int ice_table_probe_now(const ice_table *t, ice_table_probe *p, ice_err *err);
/* The same, knowing the table's last probe prev (NULL: none): a table in
 * object storage then asks for its pointer with one conditional GET
 * (If-None-Match prev's ETag), which an idle table answers 304 with no
 * body (*p is then *prev); without prev, one HEAD. */
int ice_table_probe_since(const ice_table *t, const ice_table_probe *prev, ice_table_probe *p,
                          ice_err *err);
bool ice_table_probe_equal(const ice_table_probe *a, const ice_table_probe *b);

/* "db.table" from the last two folder names of the root, with a Hive
 * namespace folder's ".db" dropped (warehouse/sales.db/orders is
 * "sales.orders", as engines name it); caller frees. */
char *ice_table_default_name(const ice_table *t);

/* A TABLE argument NAME=TABLE: true with *name (not NUL-terminated, *name_len
 * bytes) and *path pointing into arg; false with *path = arg when arg is a
 * plain table: no '=', an existing path, or a slash before the '=' (a path
 * that merely contains one). */
bool ice_table_arg_split(const char *arg, const char **name, size_t *name_len, const char **path);

/* Is `name` a metadata file name, and its version number (-1: none)? */
bool ice_is_metadata_name(const char *name);
long long ice_metadata_name_version(const char *name);

#endif
