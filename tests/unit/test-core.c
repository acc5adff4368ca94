/* test-core: JSON lines, file reading and atomic writes, paths and
 * remapping, durations, the table locator, the small shared helpers (XDG
 * paths, growing arrays, glob literals, visible text). */
#include "config.h"
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

#include "ice_fileio.h"
#include "ice_grow.h"
#include "ice_jsonl.h"
#include "ice_path.h"
#include "ice_strset.h"
#include "ice_table.h"
#include "ice_text.h"
#include "ice_time.h"
#include "ice_words.h"
#include "ice_xdg.h"

static void test_jsonl_reader(void)
{
	const char *text =
		"{\"kind\":\"a\",\"id\":9223372036854775807}\n"
		"\n"
		"{\"kind\":\"b\"\n"
		"[1,2]\n"
		"{\"no_kind\":1}\n"
		"{\"kind\":\"c\",\"big\":18446744073709551616}\n"
		"{\"kind\":\"d\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n"
		"{\"kind\":\"e\"}";
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	ice_jsonl_reader *r = ice_jsonl_reader_new(in, "stdin", 64);
	json_t *rec = NULL;
	ice_err err = { 0 };
	int64_t id = 0;

	tap_is_int(ice_jsonl_next(r, &rec, &err), 1, "jsonl: first record read");
	tap_ok(ice_json_get_i64(rec, "id", &id) && id == INT64_MAX, "jsonl: int64 max stays exact");
	json_decref(rec);
	tap_is_int(ice_jsonl_next(r, &rec, &err), -1, "jsonl: truncated object rejected");
	tap_ok(strncmp(err.msg, "stdin:3:", 8) == 0, "jsonl: error names line 3 (blank line counted): %s", err.msg);
	tap_is_int(ice_jsonl_next(r, &rec, &err), -1, "jsonl: array line rejected");
	tap_ok(strstr(err.msg, "stdin:4") && strstr(err.msg, "not a JSON object"), "jsonl: says not an object: %s", err.msg);
	tap_is_int(ice_jsonl_next(r, &rec, &err), -1, "jsonl: record without kind rejected");
	tap_ok(strstr(err.msg, "kind") != NULL, "jsonl: says kind is missing: %s", err.msg);
	tap_is_int(ice_jsonl_next(r, &rec, &err), -1, "jsonl: integer over 64 bits rejected");
	tap_is_int(ice_jsonl_next(r, &rec, &err), -1, "jsonl: line over the bound rejected");
	tap_is_int(err.code, ICE_ETOOBIG, "jsonl: too-long line is ICE_ETOOBIG");
	tap_is_int(ice_jsonl_next(r, &rec, &err), 1, "jsonl: reader goes on after bad lines");
	tap_is_str(ice_record_kind(rec), "e", "jsonl: last line without newline read");
	tap_is_int((long long)ice_jsonl_lineno(r), 8, "jsonl: line count");
	json_decref(rec);
	tap_is_int(ice_jsonl_next(r, &rec, &err), 0, "jsonl: end of input");
	ice_jsonl_reader_free(r);
	fclose(in);
}

static void test_jsonl_writer(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	json_t *rec = ice_record_new("snapshot");
	ice_err err;

	json_object_set_new(rec, "snapshot_id", json_integer(7777777777777777776LL));
	json_object_set_new(rec, "s", json_string("a\nb"));
	tap_is_int(ice_jsonl_write(out, rec, &err), ICE_OK, "jsonl: write ok");
	fclose(out);
	tap_is_str(buf, "{\"kind\":\"snapshot\",\"snapshot_id\":7777777777777777776,\"s\":\"a\\nb\"}\n",
	           "jsonl: compact, ordered, one line, exact id");
	json_decref(rec);
	free(buf);
}

static int shell(const char *cmd)
{
	return system(cmd);
}

static void test_fileio(void)
{
	char *dir = test_tmpdir();
	char *plain = test_write(dir, "plain.json", "{\"x\":1}\n");
	char gz[4200], zst[4200], trunc[4200], missing[4200], cmd[9000];
	char *buf = NULL;
	size_t len = 0;
	ice_err err;

	snprintf(gz, sizeof gz, "%s/v1.gz.metadata.json", dir);
	snprintf(zst, sizeof zst, "%s/v1.metadata.json.zst", dir);
	snprintf(trunc, sizeof trunc, "%s/trunc.gz", dir);
	snprintf(missing, sizeof missing, "%s/missing.json", dir);
	snprintf(cmd, sizeof cmd, "gzip -c '%s' > '%s'", plain, gz);
	shell(cmd);
	snprintf(cmd, sizeof cmd, "seq 1 5000 | gzip -c | head -c 300 > '%s'", trunc);
	shell(cmd);

	tap_ok(ice_read_file(plain, 0, &buf, &len, &err) == ICE_OK && len == 8 &&
	       strcmp(buf, "{\"x\":1}\n") == 0, "fileio: plain file read");
	free(buf);
	tap_ok(ice_read_file(gz, 0, &buf, &len, &err) == ICE_OK && strcmp(buf, "{\"x\":1}\n") == 0,
	       "fileio: gzip file read decompressed");
	free(buf);
	snprintf(cmd, sizeof cmd, "zstd -q -c '%s' > '%s' 2>/dev/null", plain, zst);
	if (shell(cmd) == 0) {
		tap_ok(ice_read_file(zst, 0, &buf, &len, &err) == ICE_OK && strcmp(buf, "{\"x\":1}\n") == 0,
		       "fileio: zstd file read decompressed");
		free(buf);
	} else {
		tap_ok(0, "fileio: zstd command missing (scripts/setup installs it)");
	}
	tap_ok(ice_read_file(trunc, 0, &buf, &len, &err) != ICE_OK, "fileio: truncated gzip is an error");
	tap_ok(strstr(err.msg, "trunc.gz") != NULL, "fileio: error names the file: %s", err.msg);
	tap_is_int(ice_read_file(missing, 0, &buf, &len, &err), ICE_ENOENT, "fileio: missing file is ENOENT");
	tap_is_int(ice_read_file(plain, 4, &buf, &len, &err), ICE_ETOOBIG, "fileio: size bound enforced");
	tap_is_int(ice_write_file_atomic(missing, "hello", 5, &err), ICE_OK, "fileio: atomic write");
	tap_ok(ice_read_file(missing, 0, &buf, &len, &err) == ICE_OK && strcmp(buf, "hello") == 0,
	       "fileio: atomic write content");
	free(buf);
	free(plain);
	free(dir);
}

static void check_norm(const char *in, const char *want)
{
	char *got = ice_location_normalize(in);

	tap_is_str(got, want, "normalize '%s'", in);
	free(got);
}

static void check_resolve(const ice_remap *m, const char *in, const char *want)
{
	char *got = ice_remap_resolve(m, in);

	tap_is_str(got, want, "remap '%s'", in);
	free(got);
}

static void test_paths(void)
{
	ice_remap m;
	ice_err err;

	check_norm("file:///tmp/t/", "/tmp/t");
	check_norm("file:/tmp/t", "/tmp/t");
	check_norm("file://host/tmp/t", "/tmp/t");
	check_norm("./lineitem_iceberg", "lineitem_iceberg");
	check_norm("s3://bucket/wh//db/t/", "s3://bucket/wh/db/t");
	check_norm("/a//b/", "/a/b");

	tap_ok(ice_path_is_full("/wh/t/data/a.parquet"), "full path: absolute");
	tap_ok(ice_path_is_full("s3://b/t/a.parquet"), "full path: s3://");
	tap_ok(ice_path_is_full("file:/wh/t/a.parquet"), "full path: file:/ (Hadoop's form)");
	tap_ok(ice_path_is_full("abfss://c@acct.dfs.core.windows.net/t/a"), "full path: abfss://");
	tap_ok(!ice_path_is_full("data/a.parquet"), "full path: not a relative one");
	tap_ok(!ice_path_is_full("./a.parquet"), "full path: not ./");
	tap_ok(!ice_path_is_full("1s3://b/a"), "full path: a scheme starts with a letter");
	tap_ok(!ice_path_is_full(""), "full path: not an empty one");

	ice_remap_init(&m);
	ice_remap_set_location(&m, "./lineitem_iceberg", "/data/t", &err);
	check_resolve(&m, "lineitem_iceberg/metadata/snap-1.avro", "/data/t/metadata/snap-1.avro");
	check_resolve(&m, "lineitem_icebergX/metadata/a.avro", "lineitem_icebergX/metadata/a.avro");
	ice_remap_set_location(&m, "s3://b/wh/t", "/data/t", &err);
	check_resolve(&m, "s3://b/wh/t/metadata/m.avro", "/data/t/metadata/m.avro");
	check_resolve(&m, "s3a://b/wh/t/metadata/m.avro", "/data/t/metadata/m.avro");
	check_resolve(&m, "s3n://b/wh/tx/m.avro", "s3n://b/wh/tx/m.avro");
	check_resolve(&m, "s3a://c/wh/t/m.avro", "s3a://c/wh/t/m.avro");
	ice_remap_set_location(&m, "s3a://b/wh/t", "s3://lake/copy/t", &err);
	check_resolve(&m, "s3://b/wh/t/metadata/m.avro", "s3://lake/copy/t/metadata/m.avro");
	check_resolve(&m, "file:/b/wh/t/m.avro", "/b/wh/t/m.avro");
	ice_remap_set_location(&m, "s3://b/wh/t", "/data/t", &err);
	tap_is_int(ice_remap_add_arg(&m, "s3://b/wh=/mnt/wh", &err), ICE_OK, "remap: rule parsed");
	check_resolve(&m, "s3://b/wh/t/metadata/m.avro", "/mnt/wh/t/metadata/m.avro");
	tap_is_int(ice_remap_add_arg(&m, "s3://b/wh/t/metadata=/meta", &err), ICE_OK, "remap: longer rule");
	check_resolve(&m, "s3://b/wh/t/metadata/m.avro", "/meta/m.avro");
	tap_is_int(ice_remap_add_arg(&m, "nothing", &err), ICE_EINVAL, "remap: FROM=TO required");
	ice_remap_free(&m);
}

static void test_durations(void)
{
	int64_t ms = 0;
	ice_err err;
	char buf[ICE_TIME_BUF];

	tap_ok(ice_parse_duration("5", &ms, &err) == ICE_OK && ms == 5000, "duration: bare seconds");
	tap_ok(ice_parse_duration("250ms", &ms, &err) == ICE_OK && ms == 250, "duration: ms");
	tap_ok(ice_parse_duration("1m30s", &ms, &err) == ICE_OK && ms == 90000, "duration: 1m30s");
	tap_ok(ice_parse_duration("0.5s", &ms, &err) == ICE_OK && ms == 500, "duration: fraction");
	tap_ok(ice_parse_duration("2d", &ms, &err) == ICE_OK && ms == 172800000, "duration: days");
	tap_ok(ice_parse_duration("5x", &ms, &err) != ICE_OK, "duration: bad unit rejected");
	tap_ok(ice_parse_duration("0", &ms, &err) != ICE_OK, "duration: zero rejected");
	tap_ok(ice_parse_duration("-1s", &ms, &err) != ICE_OK, "duration: negative rejected");
	tap_ok(ice_parse_duration("", &ms, &err) != ICE_OK, "duration: empty rejected");
	tap_is_str(ice_format_time_ms(1760585153811LL, buf), "2025-10-16T03:25:53.811Z", "time: ISO format");
}

static const char *md_json(int v, long long updated)
{
	static char buf[512];

	snprintf(buf, sizeof buf,
	         "{\"format-version\":2,\"table-uuid\":\"u\",\"location\":\"/x\","
	         "\"last-updated-ms\":%lld,\"schemas\":[],\"partition-specs\":[],\"v\":%d}",
	         updated, v);
	return buf;
}

static void check_locate(const char *arg, const char *want_suffix, const char *what)
{
	ice_table t;
	ice_err err = { 0 };
	char *path = NULL;
	bool ok = ice_table_open(arg, &t, &err) == ICE_OK &&
	          ice_table_current_metadata(&t, &path, &err) == ICE_OK;
	size_t lp = path ? strlen(path) : 0, ls = strlen(want_suffix);

	tap_ok(ok && lp >= ls && strcmp(path + lp - ls, want_suffix) == 0, "locate: %s (%s)", what,
	       ok ? path : err.msg);
	free(path);
	if (ok)
		ice_table_free(&t);
}

static void test_locator(void)
{
	char *d1 = test_tmpdir(), *d2 = test_tmpdir(), *d3 = test_tmpdir(), *d4 = test_tmpdir();
	char *d5 = test_tmpdir(), *meta = NULL, *p = NULL;
	ice_table t;
	ice_err err = { 0 };

	/* Numbers: v10 beats v9 (numeric, not lexical). */
	free(test_write(d1, "metadata/v9.metadata.json", md_json(9, 1)));
	free(test_write(d1, "metadata/v10.metadata.json", md_json(10, 2)));
	check_locate(d1, "/metadata/v10.metadata.json", "highest vN without hint");
	free(test_write(d1, "metadata/version-hint.text", "9\n"));
	check_locate(d1, "/metadata/v9.metadata.json", "hint number wins");
	free(test_write(d1, "metadata/version-hint.text", "42"));
	tap_ok(ice_table_open(d1, &t, &err) == ICE_OK &&
	       ice_table_current_metadata(&t, &p, &err) == ICE_ENOENT, "locate: hint naming nothing is an error");
	tap_ok(strstr(err.msg, "version-hint.text") && strstr(err.msg, "42"), "locate: error says so: %s", err.msg);
	ice_table_free(&t);

	/* Java-style names and a hint holding a name. */
	free(test_write(d2, "metadata/00000-aaa.metadata.json", md_json(0, 1)));
	free(test_write(d2, "metadata/00001-bbb.metadata.json", md_json(1, 2)));
	free(test_write(d2, "metadata/00001-bbb.metadata.json.tmp.x", "garbage"));
	check_locate(d2, "/00001-bbb.metadata.json", "NNNNN-uuid names");
	free(test_write(d2, "metadata/version-hint.text", "00000-aaa"));
	check_locate(d2, "/00000-aaa.metadata.json", "hint holding a file name");

	/* Compressed names. */
	free(test_write(d3, "metadata/v1.gz.metadata.json", md_json(1, 1)));
	free(test_write(d3, "metadata/v2.gz.metadata.json", md_json(2, 2)));
	free(test_write(d3, "metadata/version-hint.text", "2"));
	check_locate(d3, "/v2.gz.metadata.json", "hint N finds vN.gz.metadata.json");

	/* No numbers at all: last-updated-ms decides. */
	free(test_write(d4, "metadata/abc.metadata.json", md_json(0, 500)));
	free(test_write(d4, "metadata/xyz.metadata.json", md_json(0, 100)));
	check_locate(d4, "/abc.metadata.json", "unnumbered: newest last-updated-ms");

	/* The metadata folder itself, and one file. */
	meta = malloc(strlen(d1) + strlen(d5) + 64);
	sprintf(meta, "%s/metadata", d1);
	free(test_write(d1, "metadata/version-hint.text", "10"));
	check_locate(meta, "/v10.metadata.json", "metadata folder given");
	sprintf(meta, "%s/metadata/v9.metadata.json", d1);
	check_locate(meta, "/v9.metadata.json", "metadata file given");
	tap_ok(ice_table_open(meta, &t, &err) == ICE_OK && strcmp(t.root, d1) == 0,
	       "locate: a file's table root is above metadata/");
	ice_table_free(&t);

	tap_is_int(ice_table_open(d5, &t, &err), ICE_EINVAL, "locate: empty folder is not a table");
	sprintf(meta, "%s/nope", d5);
	tap_is_int(ice_table_open(meta, &t, &err), ICE_ENOENT, "locate: missing path is ENOENT");
	tap_is_int(ice_metadata_name_version("v12.gz.metadata.json"), 12, "version of v12.gz.metadata.json");
	tap_is_int(ice_metadata_name_version("00007-9f.metadata.json"), 7, "version of 00007-uuid");
	tap_is_int(ice_metadata_name_version("abc.metadata.json"), -1, "no version in abc");
	free(meta);
	free(d1);
	free(d2);
	free(d3);
	free(d4);
	free(d5);
}


/* Entries of dir whose name starts with prefix (temporary files left). */
static int count_prefixed(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return n;
}

static void test_atomic_file(void)
{
	char *dir = test_tmpdir();
	char path[4200], nested[4200], *buf = NULL;
	ice_atomic_file af;
	struct stat st;
	size_t len;
	ice_err err;

	snprintf(path, sizeof path, "%s/report.txt", dir);
	free(test_write(dir, "report.txt", "old\n"));
	tap_is_int(ice_atomic_begin(&af, path, 0644, &err), ICE_OK, "atomic: begin");
	tap_ok(write(af.fd, "new\n", 4) == 4, "atomic: write to the temporary file");
	tap_ok(ice_read_file(path, 0, &buf, &len, &err) == ICE_OK && strcmp(buf, "old\n") == 0,
	       "atomic: the old content until commit");
	free(buf);
	tap_is_int(ice_atomic_commit(&af, &err), ICE_OK, "atomic: commit");
	tap_ok(ice_read_file(path, 0, &buf, &len, &err) == ICE_OK && strcmp(buf, "new\n") == 0,
	       "atomic: the new content after commit");
	free(buf);
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "atomic: the mode asked for");
	tap_is_int(count_prefixed(dir, "report.txt.tmp"), 0, "atomic: no temporary file left");

	tap_is_int(ice_atomic_begin(&af, path, 0600, &err), ICE_OK, "atomic: begin again");
	tap_ok(write(af.fd, "partial", 7) == 7, "atomic: a partial write");
	ice_atomic_abort(&af);
	tap_ok(ice_read_file(path, 0, &buf, &len, &err) == ICE_OK && strcmp(buf, "new\n") == 0,
	       "atomic: abort keeps the old content");
	free(buf);
	tap_is_int(count_prefixed(dir, "report.txt.tmp"), 0, "atomic: abort removes the temporary file");
	ice_atomic_abort(&af); /* twice is harmless */

	snprintf(nested, sizeof nested, "%s/a/b/c/file", dir);
	tap_is_int(ice_mkdir_parents(nested, 0700, &err), ICE_OK, "mkdir_parents: a/b/c");
	snprintf(path, sizeof path, "%s/a/b/c", dir);
	tap_ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
	       "mkdir_parents: private folders");
	tap_is_int(ice_mkdir_parents(nested, 0700, &err), ICE_OK, "mkdir_parents: existing folders");
	snprintf(path, sizeof path, "%s/a/b/c/file/x/y", dir);
	free(test_write(dir, "a/b/c/file", "x"));
	tap_is_int(ice_mkdir_parents(path, 0700, &err), ICE_EIO, "mkdir_parents: a file in the way");
	free(dir);
}

static void check_xdg(ice_xdg_kind kind, const char *xdg_var, const char *xdg, const char *home,
                      const char *want, const char *what)
{
	char *got = NULL;
	ice_err err;

	xdg ? setenv(xdg_var, xdg, 1) : unsetenv(xdg_var);
	home ? setenv("HOME", home, 1) : unsetenv("HOME");
	if (ice_xdg_path(kind, "icecache/x", &got, &err) != ICE_OK)
		tap_is_str(NULL, want, "xdg: %s (%s)", what, err.msg);
	else
		tap_is_str(got, want, "xdg: %s", what);
	free(got);
}

static void test_xdg(void)
{
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char *cache = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;

	check_xdg(ICE_XDG_CACHE, "XDG_CACHE_HOME", "/c", "/h", "/c/icecache/x", "cache from XDG_CACHE_HOME");
	check_xdg(ICE_XDG_CACHE, "XDG_CACHE_HOME", "rel", "/h", "/h/.cache/icecache/x",
	          "a relative XDG_CACHE_HOME is ignored");
	check_xdg(ICE_XDG_CONFIG, "XDG_CONFIG_HOME", NULL, "/h", "/h/.config/icecache/x", "config under HOME");
	check_xdg(ICE_XDG_STATE, "XDG_STATE_HOME", "", "/h", "/h/.local/state/icecache/x",
	          "state: an empty XDG_STATE_HOME is unset");
	check_xdg(ICE_XDG_CACHE, "XDG_CACHE_HOME", NULL, NULL, NULL, "neither set: an error");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_STATE_HOME");
	home ? setenv("HOME", home, 1) : unsetenv("HOME");
	cache ? setenv("XDG_CACHE_HOME", cache, 1) : unsetenv("XDG_CACHE_HOME");
	free(home);
	free(cache);
}

static void test_grow_and_glob(void)
{
	long *v = NULL;
	size_t cap = 0, i;
	bool all = true;
	char *g;

	for (i = 0; i < 1000; i++) {
		if (ice_grow(&v, &cap, i + 1, sizeof *v) != 0) {
			all = false;
			break;
		}
		v[i] = (long)i;
	}
	for (i = 0; all && i < 1000; i++)
		all = v[i] == (long)i;
	tap_ok(all && cap >= 1000 && cap < 2048, "grow: 1000 appends keep every element (room %zu)", cap);
	tap_is_int(ice_grow(&v, &cap, SIZE_MAX / 2, sizeof *v), -1, "grow: an overflowing size is refused");
	tap_ok(v && v[999] == 999, "grow: a refusal keeps the array");
	free(v);
	g = ice_glob_literal("a*b?[c]\\d");
	tap_is_str(g, "a\\*b\\?\\[c\\]\\\\d", "glob literal: every special character escaped");
	free(g);
}

/* ice_text_visible(s) is want, shows in cols columns, and is valid
 * UTF-8 (jansson takes it as a string). */
static void visible_is(const char *s, const char *want, size_t cols, const char *what)
{
	size_t got_cols = 0;
	char *v = ice_text_visible(s, &got_cols);
	json_t *j = v ? json_string(v) : NULL;

	tap_is_str(v, want, "visible: %s", what);
	tap_ok(got_cols == cols && j, "visible: %s: %zu columns (%zu), valid UTF-8", what, cols, got_cols);
	json_decref(j);
	free(v);
}

/* ice_json_text and ice_json_text_bytes: bytes there and back. */
static void text_round_trip(const char *s, const char *what)
{
	json_t *j = ice_json_text(s);
	char *back = ice_json_text_bytes(j);

	tap_ok(back && strcmp(back, s) == 0, "json text: %s comes back byte for byte", what);
	free(back);
	json_decref(j);
}

static void test_text(void)
{
	const char *bad[] = { "{\"hex\":\"00\"}", "{\"hex\":\"zz\"}", "{\"hex\":\"abc\"}", "{\"nohex\":1}", "7" };

	visible_is("db.orders", "db.orders", 9, "plain ASCII as is");
	visible_is("caf\xc3\xa9 \xe6\x97\xa5", "caf\xc3\xa9 \xe6\x97\xa5", 6, "UTF-8 as is, a column a character");
	visible_is("a\nb\tc", "a\\nb\\x09c", 9, "newline and tab escaped");
	visible_is("e\x1b[31mred\x7f", "e\\x1b[31mred\\x7f", 16, "ESC and DEL escaped");
	visible_is("\xc2\x9b" "2J", "\\xc2\\x9b2J", 10, "a C1 control (8-bit CSI) escaped, each byte");
	visible_is("caf\xe9", "caf\\xe9", 7, "a byte that is not UTF-8 escaped");
	visible_is("\xe2\x82", "\\xe2\\x82", 8, "a cut UTF-8 sequence escaped");
	visible_is("\xed\xa0\x80", "\\xed\\xa0\\x80", 12, "a surrogate escaped");
	visible_is("a\\b", "a\\b", 3, "a backslash as is");
	tap_ok(ice_text_is_utf8("db.caf\xc3\xa9 \xe6\x97\xa5") && ice_text_is_utf8(""), "utf-8: valid text is");
	tap_ok(!ice_text_is_utf8("db.caf\xe9") && !ice_text_is_utf8("\xe2\x82") && !ice_text_is_utf8("\xc0\xaf"),
	       "utf-8: a stray byte, a cut sequence, an overlong form are not");
	text_round_trip("db.orders", "a UTF-8 name");
	text_round_trip("caf\xe9\x01\xff", "bytes that are not UTF-8");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
		char *b = ice_json_text_bytes(j);
		tap_ok(j && !b, "json text: %s is no text", bad[i]);
		free(b);
		json_decref(j);
	}
}

/* ice_strset: each string once, and the copy insert hands out stays put
 * while the set grows (ice_stale keeps those pointers as its tags). */
static void test_strset(void)
{
	ice_strset *s = ice_strset_new();
	const char *first = NULL, *again = NULL;
	char key[32];
	bool each_once = true;

	tap_ok(s != NULL, "strset: a new set");
	if (!s)
		return;
	tap_is_int(ice_strset_insert(s, "file:db.t:a", &first), 1, "strset: a new string is added");
	for (int i = 0; i < 5000 && each_once; i++) {
		const char *p = NULL;
		snprintf(key, sizeof key, "k%d", i);
		each_once = ice_strset_insert(s, key, &p) == 1 && strcmp(p, key) == 0;
	}
	tap_ok(each_once, "strset: 5000 more, each added once with its copy");
	tap_is_int(ice_strset_insert(s, "file:db.t:a", &again), 0, "strset: a string present is not added again");
	tap_ok(first && again == first && strcmp(first, "file:db.t:a") == 0,
	       "strset: its copy is the same one after the set grew");
	tap_is_int((long long)ice_strset_size(s), 5001, "strset: 5001 strings");
	ice_strset_free(s);
}

void test_core(void)
{
	test_jsonl_reader();
	test_jsonl_writer();
	test_fileio();
	test_paths();
	test_durations();
	test_locator();
	test_atomic_file();
	test_xdg();
	test_grow_and_glob();
	test_text();
	test_strset();
}
