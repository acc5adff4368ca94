/* test-records: ice-diff's hand-written file records (the ice_jbuf text of
 * lib/iceberg/diff.c, see README Performance) are byte for byte the records
 * jansson writes for the same files: escapes, control characters and
 * unicode in table names, locations and partition values, null and empty
 * partitions, ids and counts above 2^32 and 2^53, every kind of delete
 * file. The tables are written by tests/mktable/ice-mktable. */
#include "config.h"
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ice_diff.h"
#include "ice_jsonl.h"
#include "ice_metadata.h"
#include "ice_path.h"
#include "ice_table.h"

void test_records(void);

/* The tables, each awkward in its own way (M: ice-mktable; in $DIR). */
static const char tables_script[] =
	"set -e\n"
	"cd \"$DIR\"\n"
	/* Quote, backslash, tab, accents, CJK and an emoji in the location, so
	 * in every file path; partition values with the same and a control
	 * character, null, and a record count above 2^32. */
	"\"$M\" create odd --format-version 2 --schema 'id:long,category:string' --partition category \\\n"
	"	--location \"$(printf 'file:///wh/q\"u\\\\o\\tt\\303\\251/\\346\\227\\245/\\360\\237\\230\\200')\"\n"
	"\"$M\" append odd --files 2 --rows 5000000000 --partition-value category=x\n"
	"\"$M\" append odd --files 1 --partition-value 'category=a%22b%5Cc%01d%0Ae%7F'\n"
	"\"$M\" append odd --files 1 --partition-value category=null\n"
	"\"$M\" append odd --files 1 --partition-value 'category=%C3%A9%F0%9F%98%80%E6%97%A5'\n"
	"\"$M\" append odd --files 1 --partition-value category=\n"
	"\"$M\" eq-delete odd --partition-value category=x --equality-ids 1,2\n"
	"\"$M\" delete odd --partition-value category=null\n"
	/* Unpartitioned (partition {} and key \"\"), position deletes with and
	 * without a referenced file. */
	"\"$M\" create flat --format-version 2 --partition '' --schema 'id:long,k:string'\n"
	"victim=$(\"$M\" append flat --files 3 | sed 's/.*\"added_files\":\\[\"\\([^\"]*\\)\".*/\\1/')\n"
	"\"$M\" pos-delete flat --target \"$victim\"\n"
	"\"$M\" pos-delete flat --target \"$victim\" --no-reference\n"
	"\"$M\" eq-delete flat\n"
	"\"$M\" replace flat\n"
	/* Format 3: deletion vectors (content offset and size). */
	"\"$M\" create dv --format-version 3 --partition 'day(ts)'\n"
	"victim=$(\"$M\" append dv --files 2 --days 2 | sed 's/.*\"added_files\":\\[\"\\([^\"]*\\)\".*/\\1/')\n"
	"\"$M\" dv dv --target \"$victim\"\n"
	"\"$M\" dv dv --target \"$victim\"\n"
	/* Format 1. */
	"\"$M\" create v1 --format-version 1 --partition 'bucket[4](id)'\n"
	"\"$M\" append v1 --files 3\n"
	"\"$M\" overwrite v1 --files 1 --add 2\n";

/* What one diff wrote: the JSON lines, and how many came each way. */
typedef struct {
	char *text;
	size_t len;
	FILE *out;
	int records, lines;
} written;

static int to_record(void *ctx, json_t *rec)
{
	written *w = ctx;
	ice_err err = { 0 };
	int rc = ice_jsonl_write(w->out, rec, &err);

	json_decref(rec);
	w->records++;
	return rc;
}

static int to_line(void *ctx, const char *line, size_t len)
{
	written *w = ctx;
	ice_err err = { 0 };

	w->lines++;
	return ice_jsonl_write_line(w->out, line, len, &err);
}

/* One diff, with the text path (with_lines) or with jansson only. */
static int run_one(const ice_metadata *md, const ice_remap *m, const char *name,
                   const ice_snapshot *from, const ice_snapshot *to, bool with_lines, written *w)
{
	ice_diff_opts o = { m, false, false, NULL };
	ice_diff_sink sink = { to_record, w, with_lines ? to_line : NULL };
	ice_diff_stats stats;
	ice_err err = { 0 };
	int rc;

	memset(w, 0, sizeof *w);
	if (!(w->out = open_memstream(&w->text, &w->len)))
		return ICE_ENOMEM;
	rc = ice_diff_run(md, name, from, to, &o, &sink, &stats, &err);
	fclose(w->out);
	if (rc)
		tap_diag("diff of %s: %s", name, err.msg);
	return rc;
}

/* The first line where the two outputs part. */
static void show_first_difference(const char *fast, const char *slow)
{
	const char *line = fast;
	size_t i = 0;

	for (; fast[i] && fast[i] == slow[i]; i++)
		if (fast[i] == '\n')
			line = fast + i + 1;
	tap_diag("text path: %.*s", (int)strcspn(line, "\n"), line);
	line = slow + (line - fast);
	tap_diag("jansson:   %.*s", (int)strcspn(line, "\n"), line);
}

/* Diff from -> to both ways and compare the bytes. *lines counts the file
 * records the text path wrote. */
static bool same_both_ways(const ice_metadata *md, const ice_remap *m, const char *name,
                           const ice_snapshot *from, const ice_snapshot *to, int *lines)
{
	written fast, slow;
	bool same;
	int rc1 = run_one(md, m, name, from, to, true, &fast);
	int rc2 = run_one(md, m, name, from, to, false, &slow);

	same = rc1 == ICE_OK && rc2 == ICE_OK && fast.len == slow.len &&
	       memcmp(fast.text, slow.text, fast.len) == 0 &&
	       fast.lines + fast.records == slow.records;
	if (!same)
		show_first_difference(fast.text, slow.text);
	*lines += fast.lines;
	free(fast.text);
	free(slow.text);
	return same;
}

/* Every transition of the table in `dir` (from its parent, and the full
 * listing from the empty table), as ice-diff would name the table `name`. */
static void check_table(const char *dir, const char *table, const char *name)
{
	char *path = NULL, *root = NULL;
	ice_table t = { 0 };
	ice_metadata *md = NULL;
	const ice_snapshot **snaps = NULL;
	size_t n = 0, same = 0;
	ice_remap m;
	ice_err err = { 0 };
	int lines = 0;

	ice_remap_init(&m);
	if (asprintf(&root, "%s/%s", dir, table) < 0 || ice_table_open(root, &t, &err) ||
	    ice_table_current_metadata(&t, &path, &err) || ice_metadata_load(path, &md, &err) ||
	    ice_remap_set_location(&m, md->location, t.root, &err) ||
	    ice_metadata_sorted_snapshots(md, &snaps, &n, &err)) {
		tap_ok(0, "records: open table %s: %s", table, err.msg);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const ice_snapshot *from = snaps[i]->has_parent ? ice_metadata_snapshot(md, snaps[i]->parent_id) : NULL;
		same += same_both_ways(md, &m, name, from, snaps[i], &lines);
	}
	same += same_both_ways(md, &m, name, NULL, ice_metadata_current(md), &lines);
	tap_is_int((long long)same, (long long)n + 1,
	           "records: %s: the text of every file record of %zu transitions is jansson's", table, n + 1);
	/* Otherwise the comparison above proved nothing about the text path. */
	tap_ok(lines > (int)n, "records: %s: %d file records took the text path", table, lines);
out:
	free(snaps);
	ice_metadata_free(md);
	ice_remap_free(&m);
	ice_table_free(&t);
	free(path);
	free(root);
}

/* Strings that are not UTF-8 cannot be written by hand as jansson would: the
 * text path steps aside (invalid) and the record goes through jansson. */
static void check_not_utf8(void)
{
	ice_jbuf b = { 0 };

	ice_jbuf_str(&b, "bad \xff byte");
	tap_ok(b.invalid, "records: a string that is not UTF-8 leaves the text path");
	ice_jbuf_free(&b);
}

void test_records(void)
{
	const char *top = getenv("top_builddir");
	char *dir = NULL, *script = NULL, *cmd = NULL, mk[4096];

	check_not_utf8();
	snprintf(mk, sizeof mk, "%s/tests/mktable/ice-mktable", top ? top : ".");
	if (access(mk, X_OK) != 0) {
		tap_ok(1, "# SKIP %s not built", mk);
		return;
	}
	dir = test_tmpdir();
	script = test_write(dir, "tables.sh", tables_script);
	if (asprintf(&cmd, "M='%s' DIR='%s' sh '%s' > '%s/mk.out' 2>&1", mk, dir, script, dir) < 0 ||
	    system(cmd) != 0) {
		tap_ok(0, "records: ice-mktable wrote the tables (see %s/mk.out)", dir);
		goto out;
	}
	check_table(dir, "odd", "db.\"odd\"\\\t\x01\x1f\x7f t\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80 /");
	check_table(dir, "flat", "db.flat");
	check_table(dir, "dv", "db.dv");
	check_table(dir, "v1", "");
out:
	free(cmd);
	free(script);
	free(dir);
}
