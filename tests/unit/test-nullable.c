/* test-nullable: manifests whose every field is a nullable union
 * ["null", T] (data_file and the partition record too), read by the direct
 * decoder and by avro-c alike; a null where the spec requires a value is an
 * error naming the manifest, the entry and the field. The files are written
 * byte by byte here (codec null, so both decoders read them), since avro-c
 * drops the field-id attributes a writer schema needs. */
#include "config.h"
#include "tests.h"
#include "ice_manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define U(t) "[\"null\"," t "]"
#define FIELD(name, type, id) "{\"name\":\"" name "\",\"type\":" type ",\"field-id\":" #id "}"

static const char schema[] =
	"{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
	FIELD("status", U("\"int\""), 0) ","
	FIELD("snapshot_id", U("\"long\""), 1) ","
	FIELD("data_file", U("{\"type\":\"record\",\"name\":\"r2\",\"fields\":["
		FIELD("content", U("\"int\""), 134) ","
		FIELD("file_path", U("\"string\""), 100) ","
		FIELD("file_format", U("\"string\""), 101) ","
		FIELD("partition", U("{\"type\":\"record\",\"name\":\"r102\",\"fields\":["
			FIELD("category", U("\"string\""), 1000) "]}"), 102) ","
		FIELD("record_count", U("\"long\""), 103) ","
		FIELD("file_size_in_bytes", U("\"long\""), 104) "]}"), 2) "]}";

/* The required fields, in writing order; NONE: every one present. */
enum { STATUS, DATA_FILE, CONTENT, FILE_PATH, FILE_FORMAT, PARTITION, RECORD_COUNT, FILE_SIZE,
       NONE };
static const char *const field_names[] = { "status", "data_file", "content", "file_path",
	                                   "file_format", "partition", "record_count",
	                                   "file_size_in_bytes" };

typedef struct {
	unsigned char b[4096];
	size_t n;
} buf;

static void put_long(buf *o, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);

	while (z > 0x7f) {
		o->b[o->n++] = (unsigned char)(z | 0x80);
		z >>= 7;
	}
	o->b[o->n++] = (unsigned char)z;
}

static void put_str(buf *o, const char *s)
{
	put_long(o, (int64_t)strlen(s));
	memcpy(o->b + o->n, s, strlen(s));
	o->n += strlen(s);
}

/* A union branch: false (and null written) when `field` is the null one. */
static bool branch(buf *o, int field, int null_field)
{
	put_long(o, field == null_field ? 0 : 1);
	return field != null_field;
}

/* One entry; `category` NULL writes a null partition value. */
static void put_entry(buf *o, int null_field, const char *path, const char *category, int64_t rows)
{
	if (branch(o, STATUS, null_field))
		put_long(o, 1);
	put_long(o, 1); /* snapshot_id */
	put_long(o, 42);
	if (!branch(o, DATA_FILE, null_field))
		return;
	if (branch(o, CONTENT, null_field))
		put_long(o, 0);
	if (branch(o, FILE_PATH, null_field))
		put_str(o, path);
	if (branch(o, FILE_FORMAT, null_field))
		put_str(o, "PARQUET");
	if (branch(o, PARTITION, null_field)) {
		put_long(o, category ? 1 : 0);
		if (category)
			put_str(o, category);
	}
	if (branch(o, RECORD_COUNT, null_field))
		put_long(o, rows);
	if (branch(o, FILE_SIZE, null_field))
		put_long(o, rows * 10);
}

/* An Avro container (codec null) of two entries, the second with
 * `null_field` written as null. Returns the path (caller frees). */
static char *write_manifest(const char *dir, int null_field)
{
	static const char sync[17] = "0123456789abcdef";
	char *path = malloc(strlen(dir) + 32);
	buf h = { .n = 0 }, d = { .n = 0 };
	FILE *f;

	sprintf(path, "%s/nullable-%d.avro", dir, null_field);
	memcpy(h.b, "Obj\x01", 4);
	h.n = 4;
	put_long(&h, 2);
	put_str(&h, "avro.schema");
	put_str(&h, schema);
	put_str(&h, "avro.codec");
	put_str(&h, "null");
	put_long(&h, 0);
	memcpy(h.b + h.n, sync, 16);
	h.n += 16;
	put_entry(&d, NONE, "/t/data/a.parquet", "books", 7);
	put_entry(&d, null_field, "/t/data/b.parquet", NULL, 9);
	put_long(&h, 2);
	put_long(&h, (int64_t)d.n);
	if ((f = fopen(path, "wb"))) {
		fwrite(h.b, 1, h.n, f);
		fwrite(d.b, 1, d.n, f);
		fwrite(sync, 1, 16, f);
		fclose(f);
	}
	return path;
}

/* Read every entry of path; the result of the last ice_manifest_next. */
static int read_entries(const char *path, bool generic, ice_manifest_entry *e, int *entries,
                        ice_err *err)
{
	ice_manifest_reader *r = NULL;
	int got = -1;

	*entries = 0;
	if ((generic ? ice_manifest_open_generic : ice_manifest_open)(path, path, &r, err) == ICE_OK)
		while ((got = ice_manifest_next(r, e, err)) == 1)
			(*entries)++;
	ice_manifest_close(r);
	return got;
}

/* The partition value of an entry: the category string, or NULL. */
static const char *category_of(ice_manifest_entry *e, char *out, size_t cap)
{
	avro_value_t v, b;
	const char *s;
	size_t n;

	if (avro_value_get_by_index(&e->partition, 0, &v, NULL) != 0)
		return NULL;
	if (avro_value_get_type(&v) == AVRO_UNION && avro_value_get_current_branch(&v, &b) == 0)
		v = b;
	if (avro_value_get_type(&v) != AVRO_STRING || avro_value_get_string(&v, &s, &n) != 0)
		return NULL;
	snprintf(out, cap, "%s", s);
	return out;
}

static void check_present(const char *path, bool generic)
{
	const char *how = generic ? "avro-c" : "direct decoder";
	ice_manifest_reader *r = NULL;
	ice_manifest_entry e;
	ice_err err = { 0 };
	char cat[32];
	bool first = false, second = false;

	if ((generic ? ice_manifest_open_generic : ice_manifest_open)(path, path, &r, &err) == ICE_OK &&
	    ice_manifest_next(r, &e, &err) == 1) {
		first = e.status == 1 && e.has_snapshot_id && e.snapshot_id == 42 && e.content == 0 &&
		        strcmp(e.file_path, "/t/data/a.parquet") == 0 &&
		        strcmp(e.file_format, "PARQUET") == 0 && e.record_count == 7 &&
		        e.file_size_in_bytes == 70 && category_of(&e, cat, sizeof cat) &&
		        strcmp(cat, "books") == 0;
		second = ice_manifest_next(r, &e, &err) == 1 &&
		         strcmp(e.file_path, "/t/data/b.parquet") == 0 && e.record_count == 9 &&
		         !category_of(&e, cat, sizeof cat) && ice_manifest_next(r, &e, &err) == 0;
	}
	tap_ok(first, "nullable manifest, %s: every field read through its union (%s)", how,
	       err.msg);
	tap_ok(second, "nullable manifest, %s: a null partition value reads as null, and the file ends there",
	       how);
	tap_ok(r && json_is_object(ice_manifest_partition_schema(r)) &&
	       strcmp(json_string_value(json_object_get(ice_manifest_partition_schema(r), "name")),
	              "r102") == 0,
	       "nullable manifest, %s: the partition schema is the record inside the union", how);
	ice_manifest_close(r);
}

void test_nullable(void)
{
	char *dir = test_tmpdir(), *path = write_manifest(dir, NONE);

	check_present(path, false);
	check_present(path, true);
	free(path);
	for (int f = STATUS; f < NONE; f++) {
		for (int generic = 0; generic < 2; generic++) {
			ice_manifest_entry e;
			ice_err err = { 0 };
			char want[64];
			int entries, got;

			path = write_manifest(dir, f);
			got = read_entries(path, generic, &e, &entries, &err);
			snprintf(want, sizeof want, "entry 2: required field %s is null", field_names[f]);
			tap_ok(got == -1 && entries == 1 && strstr(err.msg, path) && strstr(err.msg, want),
			       "nullable manifest, %s: a null %s is an error naming manifest and entry: %s",
			       generic ? "avro-c" : "direct decoder", field_names[f], err.msg);
			free(path);
		}
	}
	free(dir);
}
