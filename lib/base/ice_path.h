/* ice_path: path helpers and location remapping.
 *
 * Paths inside Iceberg metadata are those of the writer's machine
 * (s3://b/wh/t/metadata/x.avro, file:/tmp/t/..., data/persistent/t/...).
 * A remap turns such a path into one readable here: explicit FROM=TO rules
 * first (longest FROM wins), then the table's own `location` mapped onto the
 * directory actually read. Prefixes match whole path segments only, and
 * s3://, s3a:// and s3n:// match one another (one bucket). Output
 * records keep the paths exactly as written; only file access is remapped. */
#ifndef ICE_PATH_H
#define ICE_PATH_H

#include <stdbool.h>

#include "ice_error.h"

/* "a" + "/" + "b" (no doubled slash). Caller frees; NULL on ENOMEM. */
char *ice_path_join(const char *a, const char *b);

/* The directory part / last segment, as new strings (caller frees). */
char *ice_path_dirname(const char *path);
char *ice_path_basename(const char *path);

/* Whether path is whole as Iceberg metadata writes a file's path: absolute
 * (/x) or a URI with a scheme (s3://b/x, file:/x, abfss://c@a/x); a
 * relative path (data/x) never equals one. */
bool ice_path_is_full(const char *path);

/* Normalise a location for prefix comparison: file:///x, file://x and
 * file:/x become /x, leading ./ is dropped, trailing / and doubled / in the
 * path part are removed. Scheme URIs keep their scheme (s3://b/x). */
char *ice_location_normalize(const char *loc);

typedef struct ice_remap_rule {
	char *from; /* normalised */
	char *to;
} ice_remap_rule;

typedef struct ice_remap {
	ice_remap_rule *rules;
	size_t n;
	char *location; /* the table's location, normalised; may be NULL */
	char *root;     /* the directory read for that location */
} ice_remap;

void ice_remap_init(ice_remap *m);
void ice_remap_free(ice_remap *m);

/* Add a rule from "FROM=TO" (the form of --remap). */
int ice_remap_add_arg(ice_remap *m, const char *arg, ice_err *err);
int ice_remap_add(ice_remap *m, const char *from, const char *to, ice_err *err);

/* Copy every rule of src into dst (not the location pair). */
int ice_remap_copy_rules(ice_remap *dst, const ice_remap *src, ice_err *err);

/* Set the table's location and the directory it is read from. */
int ice_remap_set_location(ice_remap *m, const char *location, const char *root, ice_err *err);

/* The local path for `path` as written in metadata. Caller frees; NULL on
 * ENOMEM. A path no rule matches comes back normalised, unchanged else. */
char *ice_remap_resolve(const ice_remap *m, const char *path);

#endif
