/* ice_tagnorm: partition tags in their one canonical form, and tags
 * checked against what the cache knows of each table.
 *
 * ice-invalidate records, per table it sees, a "table info" in the cache
 * (the cursor ICE_TABLE_INFO_CURSOR of the table):
 *   {"table":T, "table_uuid":U, "specs":[{"spec_id":N, "fields":
 *    [{"name":F, "source":COLUMN, "transform":"identity"|"day"|...}]}],
 *    "updated_ms":N}
 * The pipeline emits partition:T:KEY with KEY as Iceberg's partition path:
 * partition field names, values escaped like Java's URLEncoder, fields in
 * spec order ("event_date=2024-01-01/ts_day=...", "ts=2023-05-15T14%3A30%3A45").
 * A tag written by a person is brought to that form: a source column
 * stands for its partition field (a timestamp value cut to what a day,
 * month, year or hour transform keeps), a value not in the escaped form is
 * escaped, fields are put in the order of the spec that has them. Without
 * a table info only the values are escaped. Other tags are left alone.
 *
 * The table info is JSON owned by whoever holds it; strings returned are
 * new and freed by the caller. */
#ifndef ICE_TAGNORM_H
#define ICE_TAGNORM_H

#include <stddef.h>
#include <jansson.h>

#include "ice_backend.h"
#include "ice_error.h"

#define ICE_TABLE_INFO_CURSOR "table_info"

/* The canonical form of one tag given its table's info (NULL: unknown):
 * a new string, NULL when out of memory. Idempotent. */
char *ice_tag_canonical(const char *tag, const json_t *info);

/* Why a tag can never equal a tag the pipeline emits for a table whose
 * info is given (the tag already canonical): a new message naming close
 * matches (a file tag: its path is relative, info not needed), or NULL
 * when nothing is wrong (or not knowable: no info, a free form tag). *oom
 * is set when out of memory. */
char *ice_tag_problem(const char *tag, const json_t *info, int *oom);

/* Record what a diff record says of its table (name, table_uuid, specs)
 * as the table's info; a record without specs keeps the stored ones. */
int ice_table_info_record(ice_backend *b, const json_t *diff, ice_err *err);

/* A per-cache memo of table infos, for the checks of many tags. */
typedef struct ice_tagnorm ice_tagnorm;

/* b is borrowed and must outlive the memo. NULL when out of memory. */
ice_tagnorm *ice_tagnorm_new(ice_backend *b);
void ice_tagnorm_free(ice_tagnorm *t);

/* The info of table (len bytes), *info borrowed from the memo; NULL when
 * the pipeline has never recorded the table. *seen is set when some
 * ice-invalidate has finished a transition of it (info or not). */
int ice_tagnorm_info(ice_tagnorm *t, const char *table, size_t len, const json_t **info,
                     int *seen, ice_err *err);

/* Canonical copies of tags (*out: n new strings, ice_backend_strv_free). */
int ice_tagnorm_tags(ice_tagnorm *t, const char *const *tags, size_t n, char ***out,
                     ice_err *err);

/* Report each tag that can never match: cb(ctx, tag, why) with why naming
 * the close matches; a table the pipeline never saw is a problem of every
 * tag naming it (once per table). *problems counts the calls. */
typedef void (*ice_tag_problem_cb)(void *ctx, const char *tag, const char *why);
int ice_tagnorm_lint(ice_tagnorm *t, const char *const *tags, size_t n, ice_tag_problem_cb cb,
                     void *ctx, size_t *problems, ice_err *err);

#endif
