/* test-stale: the tags a transition's records make stale. */
#include "config.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

#include "ice_stale.h"

/* Feed newline-separated JSON records; return the tags joined by spaces
 * (prefixed "WHOLE " for whole-table results), or "ERR" / "NOTDONE". */
static char *run(ice_grain grain, const char *records)
{
	ice_stale *s = ice_stale_new(grain);
	char *copy = strdup(records), *line, *save = NULL, *out = calloc(1, 4096);
	const ice_stale_result *r;
	bool done = false;
	ice_err err;

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *rec = json_loads(line, 0, NULL);
		int rc = ice_stale_add(s, rec, &done, &err);
		json_decref(rec);
		if (rc) {
			strcpy(out, "ERR");
			goto out;
		}
	}
	if (!done || !(r = ice_stale_result_get(s))) {
		strcpy(out, "NOTDONE");
		goto out;
	}
	if (r->whole_table)
		strcat(out, "WHOLE ");
	if (r->also_table) {
		strcat(out, "ALSO ");
		strcat(out, r->also_table);
		strcat(out, " ");
	}
	for (size_t i = 0; i < r->n_tags; i++) {
		strcat(out, r->tags[i]);
		strcat(out, i + 1 < r->n_tags ? " " : "");
	}
out:
	free(copy);
	ice_stale_free(s);
	return out;
}

#define F(change, content, path, key) \
	"{\"kind\":\"file\",\"table\":\"db.t\",\"change\":\"" change "\",\"content\":\"" content \
	"\",\"file_path\":\"" path "\",\"partition_key\":\"" key "\"}\n"
#define DIFF(extra) \
	"{\"kind\":\"diff\",\"table\":\"db.t\",\"scope\":\"files\"," extra "}\n"
#define PARTS(a, b) "\"partitions\":[{\"spec_id\":0,\"partition_key\":\"" a "\"},{\"spec_id\":0,\"partition_key\":\"" b "\"}]"

static void check(ice_grain g, const char *records, const char *want, const char *what)
{
	char *got = run(g, records);

	tap_is_str(got, want, "stale: %s", what);
	free(got);
}

void test_stale(void)
{
	const char *overwrite = F("added", "data", "s3://b/new.parquet", "day=2")
		F("removed", "data", "s3://b/old.parquet", "day=1")
		DIFF("\"operation\":\"overwrite\",\"data_preserving\":false," PARTS("day=1", "day=2"));

	check(ICE_GRAIN_FINEST, overwrite,
	      "file:db.t:s3://b/old.parquet partition:db.t:day=1 partition:db.t:day=2 table:db.t",
	      "removed file, both partitions, the table; no tag for the added file");
	check(ICE_GRAIN_PARTITION, overwrite,
	      "file:db.t:s3://b/old.parquet partition:db.t:day=1 partition:db.t:day=2 table:db.t",
	      "partition granularity: never less than the finest (the file tag stays)");
	check(ICE_GRAIN_TABLE, overwrite, "WHOLE table:db.t",
	      "table granularity: the whole table, not the table tag alone");
	check(ICE_GRAIN_PARTITION,
	      F("added", "data", "s3://b/c.parquet", "day=1") F("removed", "data", "s3://b/a.parquet", "day=1")
	      DIFF("\"operation\":\"replace\",\"data_preserving\":true,\"partitions\":[{\"partition_key\":\"day=1\"}]"),
	      "file:db.t:s3://b/a.parquet partition:db.t:day=1",
	      "partition granularity: compaction takes the rewritten files' partitions too, not the table");
	check(ICE_GRAIN_TABLE,
	      F("added", "data", "s3://b/c.parquet", "day=1") F("removed", "data", "s3://b/a.parquet", "day=1")
	      DIFF("\"operation\":\"replace\",\"data_preserving\":true,\"partitions\":[{\"partition_key\":\"day=1\"}]"),
	      "WHOLE table:db.t", "table granularity: compaction too");
	check(ICE_GRAIN_FINEST,
	      F("added", "equality_deletes", "s3://b/d.parquet", "day=1")
	      F("rows_deleted", "data", "s3://b/a.parquet", "day=1")
	      F("rows_deleted", "data", "s3://b/a.parquet", "day=1")
	      DIFF("\"data_preserving\":false,\"partitions\":[{\"partition_key\":\"day=1\"}]"),
	      "file:db.t:s3://b/a.parquet partition:db.t:day=1 table:db.t",
	      "rows deleted: the data file's tag once, its partition, the table");
	check(ICE_GRAIN_FINEST,
	      F("added", "data", "s3://b/c.parquet", "day=1") F("removed", "data", "s3://b/a.parquet", "day=1")
	      F("removed", "data", "s3://b/b.parquet", "day=1")
	      DIFF("\"operation\":\"replace\",\"data_preserving\":true,\"partitions\":[{\"partition_key\":\"day=1\"}]"),
	      "file:db.t:s3://b/a.parquet file:db.t:s3://b/b.parquet",
	      "compaction keeps partition and table entries");
	check(ICE_GRAIN_FINEST,
	      "{\"kind\":\"diff\",\"table\":\"db.t\",\"scope\":\"table\",\"reason\":\"schema changed\"}\n",
	      "WHOLE table:db.t", "table scope: the whole table");
	check(ICE_GRAIN_FINEST,
	      "{\"kind\":\"diff\",\"table\":\"db.a:b\",\"scope\":\"table\",\"reason\":\"schema changed\"}\n",
	      "WHOLE ALSO db.a table:db.a:b",
	      "a whole table named with ':' also names the table its partition tags belong to");
	check(ICE_GRAIN_FINEST,
	      "{\"kind\":\"file\",\"table\":\"db.a:b\",\"change\":\"removed\",\"content\":\"data\","
	      "\"file_path\":\"f\",\"partition_key\":\"d=1\"}\n"
	      "{\"kind\":\"diff\",\"table\":\"db.a:b\",\"scope\":\"files\",\"data_preserving\":false,"
	      "\"partitions\":[]}\n",
	      "file:db.a:b:f table:db.a:b", "... and only the whole table does (its tags match exactly)");
	check(ICE_GRAIN_FINEST,
	      F("removed", "position_deletes", "s3://b/pd.parquet", "day=1")
	      DIFF("\"data_preserving\":false,\"partitions\":[]"),
	      "WHOLE table:db.t", "a delete file removed outside compaction: the whole table");
	check(ICE_GRAIN_FINEST,
	      "{\"kind\":\"snapshot\",\"table\":\"db.t\"}\n" F("removed", "data", "p", "k")
	      "{\"kind\":\"file\",\"table\":\"db.other\",\"change\":\"removed\",\"file_path\":\"q\"}\n",
	      "ERR", "records of two tables in one transition are refused");
	check(ICE_GRAIN_FINEST, F("removed", "data", "p", "k"), "NOTDONE", "no result before the diff record");
	check(ICE_GRAIN_FINEST,
	      DIFF("\"data_preserving\":false,\"partitions\":[]") F("removed", "data", "s3://x", "k")
	      DIFF("\"data_preserving\":false,\"partitions\":[]"),
	      "file:db.t:s3://x table:db.t", "a second transition starts afresh");
}
