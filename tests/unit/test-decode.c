/* test-decode: the direct manifest decoder (ice_avro_block, ice_avro_decode)
 * reads every manifest of ../shared/iceberg exactly as avro-c does, fails
 * cleanly on damaged files, reads bytes in memory as it reads files, and
 * the hand-written JSON text of ice_jbuf is byte for byte what jansson
 * writes. */
#include "config.h"
#include "tests.h"
#include "ice_jsonl.h"
#include "ice_manifest.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- ice_jbuf against jansson ---------------------------------------------- */

static void check_string(const char *s, const char *what)
{
	json_t *js = json_string(s);
	char *want = js ? json_dumps(js, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	ice_jbuf b = { 0 };

	ice_jbuf_str(&b, s);
	if (!want) {
		tap_ok(b.invalid, "jbuf: %s is refused, as jansson refuses it", what);
	} else {
		ice_jbuf_raw(&b, "", 1);
		tap_ok(!b.invalid && strcmp(b.p, want) == 0, "jbuf: %s as jansson writes it", what);
	}
	free(want);
	json_decref(js);
	ice_jbuf_free(&b);
}

static void test_jbuf(void)
{
	static const long long ints[] = { 0, 1, -1, 9223372036854775807LL, -9223372036854775807LL - 1 };
	char all[128];

	check_string("", "empty string");
	check_string("s3://bucket/db/t/data/day=2024-01-01/00000-0-a.parquet", "a long plain path");
	check_string("q\"b\\s/\b\f\n\r\t\x01\x1f\x7f end", "quotes, backslash and control bytes");
	check_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8", "2, 3 and 4 byte UTF-8");
	check_string("12345678\"2345678\\", "escapes at word boundaries");
	check_string("bad \xff byte", "an invalid byte");
	check_string("overlong \xc0\xaf", "an overlong form");
	check_string("surrogate \xed\xa0\x80", "a surrogate");
	check_string("truncated \xe2\x82", "a truncated sequence");
	check_string("past U+10FFFF \xf4\x90\x80\x80", "a code point past U+10FFFF");
	for (int i = 1; i < 128; i++)
		all[i - 1] = (char)i;
	all[127] = '\0';
	check_string(all, "every ASCII byte");
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		ice_jbuf b = { 0 };
		char want[32];
		snprintf(want, sizeof want, "%lld", ints[i]);
		ice_jbuf_int(&b, ints[i]);
		ice_jbuf_raw(&b, "", 1);
		tap_is_str(b.p, want, "jbuf: integer %s", want);
		ice_jbuf_free(&b);
	}
}

/* ---- the direct decoder against avro-c -------------------------------------- */

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_entry(ice_manifest_entry *a, ice_manifest_entry *b)
{
	return a->status == b->status && a->has_snapshot_id == b->has_snapshot_id &&
	       (!a->has_snapshot_id || a->snapshot_id == b->snapshot_id) &&
	       a->has_sequence_number == b->has_sequence_number &&
	       (!a->has_sequence_number || a->sequence_number == b->sequence_number) &&
	       a->has_file_sequence_number == b->has_file_sequence_number &&
	       (!a->has_file_sequence_number || a->file_sequence_number == b->file_sequence_number) &&
	       a->content == b->content && same_str(a->file_path, b->file_path) &&
	       same_str(a->file_format, b->file_format) && a->record_count == b->record_count &&
	       a->file_size_in_bytes == b->file_size_in_bytes &&
	       same_str(a->referenced_data_file, b->referenced_data_file) &&
	       a->has_content_offset == b->has_content_offset &&
	       (!a->has_content_offset || (a->content_offset == b->content_offset &&
	                                   a->content_size_in_bytes == b->content_size_in_bytes)) &&
	       a->has_equality_ids == b->has_equality_ids && a->n_equality_ids == b->n_equality_ids &&
	       (a->n_equality_ids == 0 ||
	        memcmp(a->equality_ids, b->equality_ids, a->n_equality_ids * sizeof(int32_t)) == 0) &&
	       avro_value_equal(&a->partition, &b->partition);
}

/* Entries read by both decoders; -1 at the first difference or error. */
static long compare_file(const char *path, ice_manifest_reader *reused)
{
	ice_manifest_reader *generic = NULL, *direct = NULL;
	ice_manifest_entry a, b;
	ice_err err = { 0 };
	long n = 0;
	int ga, gb;

	if (ice_manifest_open_generic(path, path, &generic, &err) ||
	    (reused ? ice_manifest_reopen(reused, path, path, &err)
	            : ice_manifest_open(path, path, &direct, &err))) {
		tap_diag("%s: %s", path, err.msg);
		n = -1;
		goto out;
	}
	for (;;) {
		ga = ice_manifest_next(generic, &a, &err);
		gb = ice_manifest_next(reused ? reused : direct, &b, &err);
		if (ga != gb || ga < 0 || (ga == 1 && !same_entry(&a, &b))) {
			tap_diag("%s: entry %ld differs (%d, %d) %s", path, n, ga, gb, err.msg);
			n = -1;
			break;
		}
		if (ga == 0)
			break;
		n++;
	}
out:
	ice_manifest_close(generic);
	ice_manifest_close(direct);
	return n;
}

static char **manifests, **lists;
static size_t n_manifests, n_lists;

/* Manifests, and manifest lists (snap-*.avro). */
static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *base = path + ftw->base;
	size_t len = strlen(base);
	bool list = strncmp(base, "snap-", 5) == 0;
	char ***arr = list ? &lists : &manifests;
	size_t *n = list ? &n_lists : &n_manifests;
	char **q;

	(void)st;
	if (type != FTW_F || len < 5 || strcmp(base + len - 5, ".avro") != 0)
		return 0;
	if (!(q = realloc(*arr, (*n + 1) * sizeof *q)))
		return 1;
	*arr = q;
	(*arr)[(*n)++] = strdup(path);
	return 0;
}

static bool same_bytes(const unsigned char *a, size_t al, const unsigned char *b, size_t bl)
{
	return (!a && !b) || (a && b && al == bl && memcmp(a, b, al) == 0);
}

static bool same_summary(const ice_field_summary *a, const ice_field_summary *b)
{
	return a->contains_null == b->contains_null && a->contains_nan == b->contains_nan &&
	       same_bytes(a->lower, a->lower_len, b->lower, b->lower_len) &&
	       same_bytes(a->upper, a->upper_len, b->upper, b->upper_len);
}

static bool same_list_entry(const ice_manifest_file *a, const ice_manifest_file *b)
{
	bool same = strcmp(a->path, b->path) == 0 && a->length == b->length &&
	            a->spec_id == b->spec_id && a->content == b->content &&
	            a->sequence_number == b->sequence_number &&
	            a->min_sequence_number == b->min_sequence_number &&
	            a->has_added_snapshot_id == b->has_added_snapshot_id &&
	            a->added_snapshot_id == b->added_snapshot_id && a->added_files == b->added_files &&
	            a->existing_files == b->existing_files && a->deleted_files == b->deleted_files &&
	            a->n_partitions == b->n_partitions &&
	            /* avro-c gives an empty summary list as absent; both mean "no bounds" */
	            (a->has_partitions == b->has_partitions || a->n_partitions == 0);

	for (size_t i = 0; same && i < a->n_partitions; i++)
		same = same_summary(&a->partitions[i], &b->partitions[i]);
	return same;
}

static void test_lists(void)
{
	size_t entries = 0;
	bool all = n_lists > 0;

	for (size_t i = 0; i < n_lists; i++) {
		ice_manifest_file *a = NULL, *b = NULL;
		size_t na = 0, nb = 0;
		ice_err err = { 0 };
		bool same = ice_manifest_list_read_generic(lists[i], lists[i], &a, &na, &err) == 0 &&
		            ice_manifest_list_read(lists[i], lists[i], &b, &nb, &err) == 0 && na == nb;
		for (size_t k = 0; same && k < na; k++)
			same = same_list_entry(&a[k], &b[k]);
		if (!same)
			tap_diag("%s differs %s", lists[i], err.msg);
		all = all && same;
		entries += na;
		ice_manifest_files_free(a, na);
		ice_manifest_files_free(b, nb);
	}
	tap_ok(all, "direct decoder: the %zu shared manifest lists (%zu entries, partition summaries "
	       "included) read as avro-c reads them", n_lists, entries);
}

static void test_shared(void)
{
	const char *top = getenv("top_srcdir");
	char tables[4096];
	ice_manifest_reader *reused = NULL;
	ice_err err = { 0 };
	long total = 0, again = 0;
	bool all = true, all_reused = true;

	snprintf(tables, sizeof tables, "%s/../shared/iceberg/tables", top && *top ? top : ".");
	if (nftw(tables, collect, 16, FTW_PHYS) != 0 || n_manifests == 0) {
		tap_ok(1, "# SKIP direct decoder: no shared tables at %s", tables);
		return;
	}
	for (size_t i = 0; i < n_manifests; i++) {
		long n = compare_file(manifests[i], NULL);
		all = all && n >= 0;
		total += n > 0 ? n : 0;
	}
	tap_ok(all, "direct decoder: the %zu shared manifests (%ld entries) read as avro-c reads them",
	       n_manifests, total);
	/* One reader reopened on every manifest, as ice-diff does. */
	if (ice_manifest_open(manifests[0], manifests[0], &reused, &err) == 0) {
		for (size_t i = 0; i < n_manifests; i++) {
			long n = compare_file(manifests[i], reused);
			all_reused = all_reused && n >= 0;
			again += n > 0 ? n : 0;
		}
	}
	tap_ok(reused && all_reused && again == total,
	       "direct decoder: one reader reopened on each manifest reads the same %ld entries", again);
	ice_manifest_close(reused);
	test_lists();
}

/* ---- damaged files ------------------------------------------------------------ */

static int read_all(const char *path, bool generic, ice_err *err)
{
	ice_manifest_reader *r = NULL;
	ice_manifest_entry e;
	int got = -1;

	if ((generic ? ice_manifest_open_generic : ice_manifest_open)(path, "damaged.avro", &r, err) == 0)
		while ((got = ice_manifest_next(r, &e, err)) == 1)
			;
	ice_manifest_close(r);
	return got;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (f) {
		*len = (size_t)ftell(f);
		fclose(f);
	}
	return buf;
}

static void test_damaged(void)
{
	char *dir, *path;
	unsigned char *buf;
	size_t len = 0;
	ice_err err = { 0 };
	FILE *f;
	int got;

	if (n_manifests == 0 || !(buf = slurp(manifests[0], &len)) || len < 64) {
		tap_ok(1, "# SKIP damaged manifests: no shared manifest to damage");
		return;
	}
	dir = test_tmpdir();
	path = malloc(strlen(dir) + 32);
	sprintf(path, "%s/damaged.avro", dir);
	/* Cut in the last block; then a flipped sync marker. */
	if ((f = fopen(path, "wb"))) {
		fwrite(buf, 1, len - 20, f);
		fclose(f);
	}
	got = read_all(path, false, &err);
	tap_ok(got == -1 && strstr(err.msg, "damaged.avro"), "a truncated manifest is an error naming it: %s",
	       err.msg);
	buf[len - 1] ^= 0xff;
	if ((f = fopen(path, "wb"))) {
		fwrite(buf, 1, len, f);
		fclose(f);
	}
	got = read_all(path, false, &err);
	tap_ok(got == -1 && strstr(err.msg, "sync marker"), "a wrong sync marker is an error: %s", err.msg);
	got = read_all(path, true, &err);
	tap_ok(got == -1, "avro-c also refuses it");
	free(buf);
	free(path);
	free(dir);
}

/* ---- bytes in memory -------------------------------------------------------- */

/* Entries of a manifest read from `len` bytes in memory: the count, or -1
 * on an error. */
static long count_mem(const unsigned char *buf, size_t len, ice_err *err)
{
	ice_manifest_reader *r = NULL;
	ice_manifest_entry e;
	long n = 0;
	int got = -1;

	if (ice_manifest_open_mem(buf, len, "mem.avro", &r, err) == 0)
		while ((got = ice_manifest_next(r, &e, err)) == 1)
			n++;
	ice_manifest_close(r);
	return got == 0 ? n : -1;
}

static long count_path(const char *path)
{
	ice_manifest_reader *r = NULL;
	ice_manifest_entry e;
	ice_err err = { 0 };
	long n = 0;
	int got = -1;

	if (ice_manifest_open(path, path, &r, &err) == 0)
		while ((got = ice_manifest_next(r, &e, &err)) == 1)
			n++;
	ice_manifest_close(r);
	return got == 0 ? n : -1;
}

/* What ice-diff reads through storage: manifests and lists decoded from
 * their bytes give what the files give; cut short, an error, whatever
 * entries came before it. */
static void test_memory(void)
{
	bool same = n_manifests > 0, cut = n_manifests > 0, lists_same = true;
	ice_err err = { 0 };

	if (n_manifests == 0) {
		tap_ok(1, "# SKIP bytes in memory: no shared manifests");
		return;
	}
	for (size_t i = 0; i < n_manifests; i++) {
		size_t len = 0;
		unsigned char *buf = slurp(manifests[i], &len);
		same = same && buf && count_mem(buf, len, &err) == count_path(manifests[i]);
		cut = cut && buf && count_mem(buf, len * 2 / 3, &err) == -1 && err.code != ICE_OK;
		free(buf);
	}
	for (size_t i = 0; i < n_lists; i++) {
		ice_manifest_file *a = NULL, *b = NULL;
		size_t na = 0, nb = 0, len = 0;
		unsigned char *buf = slurp(lists[i], &len);
		lists_same = lists_same && buf &&
		             ice_manifest_list_decode(buf, len, lists[i], &a, &na, &err) == 0 &&
		             ice_manifest_list_read(lists[i], lists[i], &b, &nb, &err) == 0 && na == nb;
		for (size_t k = 0; lists_same && k < na; k++)
			lists_same = same_list_entry(&a[k], &b[k]);
		ice_manifest_files_free(a, na);
		ice_manifest_files_free(b, nb);
		free(buf);
	}
	tap_ok(same, "bytes in memory: the %zu shared manifests read as their files", n_manifests);
	tap_ok(cut, "bytes in memory: each manifest cut to two thirds is an error");
	tap_ok(lists_same, "bytes in memory: the %zu shared manifest lists read as their files", n_lists);
}

void test_decode(void)
{
	test_jbuf();
	test_shared();
	test_damaged();
	test_memory();
	for (size_t i = 0; i < n_manifests; i++)
		free(manifests[i]);
	free(manifests);
	for (size_t i = 0; i < n_lists; i++)
		free(lists[i]);
	free(lists);
}
