/* test-locate: the locator where the version numbers do not tell the
 * current table: a lone v1.metadata.json, and a table dropped and created
 * again over its old files (numbers restart at 1). Also the cheap read of
 * table-uuid and last-updated-ms it relies on. */
#include "config.h"
#include "tests.h"
#include "ice_fileio.h"
#include "ice_metahead.h"
#include "ice_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Metadata of table `uuid` updated at `ms`; `pad` bytes of properties
 * before the two keys push them past the head read first. */
static char *md(const char *uuid, long long ms, size_t pad)
{
	char *fill = malloc(pad + 1), *out = malloc(pad + 512);

	memset(fill, 'x', pad);
	fill[pad] = '\0';
	sprintf(out,
	        "{\"format-version\":2,\"properties\":{\"pad\":\"%s\",\"nested\":[{\"a\":[1,2]},\"}\"]},"
	        "\"table-uuid\":\"%s\",\"location\":\"/x\",\"last-updated-ms\":%lld,"
	        "\"schemas\":[],\"partition-specs\":[]}",
	        fill, uuid, ms);
	free(fill);
	return out;
}

static void put(const char *dir, const char *name, const char *uuid, long long ms)
{
	char *text = md(uuid, ms, 0), *file = malloc(strlen(name) + 16);

	sprintf(file, "metadata/%s", name);
	free(test_write(dir, file, text));
	free(file);
	free(text);
}

static void expect(const char *dir, const char *want, const char *what)
{
	ice_table t;
	ice_err err = { 0 };
	char *path = NULL;
	bool ok = ice_table_open(dir, &t, &err) == ICE_OK &&
	          ice_table_current_metadata(&t, &path, &err) == ICE_OK;
	const char *base = path ? strrchr(path, '/') + 1 : "";

	tap_ok(ok && strcmp(base, want) == 0 && err.code == ICE_OK, "locate: %s (%s)", what,
	       ok ? base : err.msg);
	free(path);
	if (ok)
		ice_table_free(&t);
}

static void test_heads(void)
{
	char *dir = test_tmpdir(), *text = md("u-1", 1234, 20000), *path, *gz;
	ice_metadata_head h;
	ice_err err = { 0 };
	char cmd[8300];

	path = test_write(dir, "late.metadata.json", text);
	tap_ok(ice_metadata_head_read(path, &h, &err) == ICE_OK && h.has_uuid &&
	       strcmp(h.uuid, "u-1") == 0 && h.has_updated_ms && h.updated_ms == 1234,
	       "metadata head: keys past the first 8 KiB are found by the whole parse (%s)", err.msg);
	free(text);
	free(path);
	text = md("u-2", 99, 0);
	path = test_write(dir, "early.metadata.json", text);
	snprintf(cmd, sizeof cmd, "gzip -c '%s' > '%s/early.gz.metadata.json'", path, dir);
	gz = malloc(strlen(dir) + 32);
	sprintf(gz, "%s/early.gz.metadata.json", dir);
	tap_ok(system(cmd) == 0 && ice_metadata_head_read(gz, &h, &err) == ICE_OK &&
	       strcmp(h.uuid, "u-2") == 0 && h.updated_ms == 99,
	       "metadata head: a gzip file is read decompressed (%s)", err.msg);
	free(path);
	/* Nested values (a brace in a string too) skipped; the tail is
	 * never parsed, as its broken end shows. */
	path = test_write(dir, "head.metadata.json",
	                  "{\"format-version\":2,\"properties\":{\"a\":[{\"b\":\"}]\\\"\"}],\"c\":true},"
	                  "\"location\":\"/x\",\"table-uuid\":\"u-3\",\"last-updated-ms\":77,\"schemas\":[");
	tap_ok(ice_metadata_head_read(path, &h, &err) == ICE_OK && strcmp(h.uuid, "u-3") == 0 &&
	       h.updated_ms == 77, "metadata head: the keys are read from the head, past nested values (%s)",
	       err.msg);
	free(path);
	path = test_write(dir, "bad.metadata.json", "{\"table-uuid\":\"u\"");
	tap_ok(ice_metadata_head_read(path, &h, &err) != ICE_OK,
	       "metadata head: a truncated file without last-updated-ms is an error: %s", err.msg);
	free(path);
	free(gz);
	free(text);
	free(dir);
}

static void test_head_bytes(void)
{
	char *dir = test_tmpdir(), *path = test_write(dir, "f", "0123456789"), *buf = NULL;
	size_t len = 0;
	ice_err err = { 0 };

	tap_ok(ice_read_file_head(path, 4, &buf, &len, &err) == ICE_OK && len == 4 &&
	       strcmp(buf, "0123") == 0, "read_file_head: the first bytes of a longer file");
	free(buf);
	tap_ok(ice_read_file_head(path, 64, &buf, &len, &err) == ICE_OK && len == 10 &&
	       strcmp(buf, "0123456789") == 0, "read_file_head: all of a shorter file");
	free(buf);
	free(path);
	free(dir);
}

void test_locate(void)
{
	char *lone = test_tmpdir(), *v = test_tmpdir(), *u = test_tmpdir(), *h = test_tmpdir();
	char *same = test_tmpdir();

	test_head_bytes();
	test_heads();

	put(lone, "v1.metadata.json", "new", 10);
	expect(lone, "v1.metadata.json", "a lone v1.metadata.json, no hint, leaves no error behind");

	/* Old table A reached v4; B, recreated at 1, overwrote v1 and v2. */
	put(v, "v1.metadata.json", "B", 900);
	put(v, "v2.metadata.json", "B", 1000);
	put(v, "v3.metadata.json", "A", 300);
	put(v, "v4.metadata.json", "A", 400);
	free(test_write(v, "metadata/v9.metadata.json", "{ half written"));
	expect(v, "v2.metadata.json",
	       "recreated table, vN names: the newest table's highest version, not v4");

	/* Java names: both tables have 00000- and 00001-. */
	put(u, "00000-a0.metadata.json", "A", 100);
	put(u, "00001-a1.metadata.json", "A", 200);
	put(u, "00002-a2.metadata.json", "A", 300);
	put(u, "00000-b0.metadata.json", "B", 500);
	put(u, "00001-b1.metadata.json", "B", 600);
	expect(u, "00001-b1.metadata.json", "recreated table, NNNNN-uuid names");

	/* A numeric hint that matches a file of each table. */
	put(h, "00001-a1.metadata.json", "A", 200);
	put(h, "00001-b1.metadata.json", "B", 600);
	put(h, "00002-a2.metadata.json", "A", 300);
	free(test_write(h, "metadata/version-hint.text", "1"));
	expect(h, "00001-b1.metadata.json", "a hint number naming two files: the newer table's");

	/* One table whose clock went back: the numbers still decide. */
	put(same, "v1.metadata.json", "A", 500);
	put(same, "v2.metadata.json", "A", 400);
	expect(same, "v2.metadata.json", "one table: the highest version, whatever the clock");

	free(lone);
	free(v);
	free(u);
	free(h);
	free(same);
}
