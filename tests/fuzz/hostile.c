/* hostile: the writers of the hostile inputs (see hostile.h). An Avro
 * container is written by hand: magic, header map, sync marker, blocks of
 * count, size, bytes and the sync marker again (codec null). */
#include "config.h"
#include "hostile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growing byte buffer with Avro's binary encoding -------------------- */

typedef struct {
	unsigned char *p;
	size_t len, cap;
	bool failed;
} hbuf;

static void hb_raw(hbuf *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2 + 64;
		unsigned char *q = realloc(b->p, cap);
		if (!q) {
			b->failed = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void hb_long(hbuf *b, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
	unsigned char c;

	do {
		c = (unsigned char)(z & 0x7f);
		z >>= 7;
		if (z)
			c |= 0x80;
		hb_raw(b, &c, 1);
	} while (z);
}

static void hb_str(hbuf *b, const char *s)
{
	hb_long(b, (int64_t)strlen(s));
	hb_raw(b, s, strlen(s));
}

static const unsigned char sync_marker[16] = "hostile-sync-16";

/* Write f's bytes to path, and free them. */
static bool write_out(const char *path, hbuf *f)
{
	FILE *out;
	bool ok = !f->failed && (out = fopen(path, "wb")) != NULL;

	if (ok) {
		ok = fwrite(f->p, 1, f->len, out) == f->len;
		ok = fclose(out) == 0 && ok;
	}
	free(f->p);
	f->p = NULL;
	return ok;
}

/* The header: magic, the map of schema and codec, the sync marker. */
static void hb_header(hbuf *f, const char *schema, const char *codec)
{
	hb_raw(f, "Obj\1", 4);
	hb_long(f, 2);
	hb_str(f, "avro.schema");
	hb_str(f, schema);
	hb_str(f, "avro.codec");
	hb_str(f, codec);
	hb_long(f, 0);
	hb_raw(f, sync_marker, 16);
}

/* One file: the header with `schema` and `codec`, then `data` as one block
 * of `count` records (no block when count is 0). */
static bool write_avro(const char *path, const char *schema, const char *codec, int64_t count,
                       const hbuf *data)
{
	hbuf f = { 0 };

	hb_header(&f, schema, codec);
	if (count) {
		hb_long(&f, count);
		hb_long(&f, (int64_t)data->len);
		hb_raw(&f, data->p, data->len);
		hb_raw(&f, sync_marker, 16);
	}
	f.failed = f.failed || data->failed;
	return write_out(path, &f);
}

static bool write_list(const char *path, const char *extra_fields, const char *codec,
                       int64_t count, hbuf *data)
{
	char *schema = NULL;
	bool ok = asprintf(&schema, "{\"type\":\"record\",\"name\":\"manifest_file\",\"fields\":[%s]}",
	                   extra_fields) >= 0 &&
	          write_avro(path, schema, codec, count, data);

	free(schema);
	free(data->p);
	data->p = NULL;
	return ok;
}

#define PATH_FIELD "{\"name\":\"manifest_path\",\"type\":\"string\",\"field-id\":500}"
#define SUMMARY_FIELDS(lower) \
	"{\"name\":\"partitions\",\"field-id\":507,\"type\":[\"null\",{\"type\":\"array\",\"items\":" \
	"{\"type\":\"record\",\"name\":\"r508\",\"fields\":[" \
	"{\"name\":\"contains_null\",\"type\":\"boolean\",\"field-id\":509}" lower "]}}]}"
#define LOWER_FIELD ",{\"name\":\"lower_bound\",\"type\":[\"null\",\"bytes\"],\"field-id\":510}"

/* 1. Summaries: a good block, then a count far over the bytes left. */
static bool summary_count(const char *path)
{
	hbuf d = { 0 };

	hb_str(&d, "m1.avro");
	hb_long(&d, 1);         /* partitions: the array branch */
	hb_long(&d, 1);         /* a block of one summary */
	hb_raw(&d, "\0", 1);    /* contains_null false */
	hb_long(&d, 0);         /* lower_bound null */
	hb_long(&d, 1000000);   /* a block of a million, and 2 bytes */
	hb_raw(&d, "\0\0", 2);
	return write_list(path, PATH_FIELD "," SUMMARY_FIELDS(LOWER_FIELD), "null", 1, &d);
}

/* 2. A record containing itself, needing no bytes to recurse. */
#define LOOP_FIELDS "{\"name\":\"loop\",\"type\":\"manifest_file\",\"field-id\":900}," PATH_FIELD

static bool recursive_record(const char *path)
{
	hbuf d = { 0 };

	hb_str(&d, "m1.avro");
	return write_list(path, LOOP_FIELDS, "null", 1, &d);
}

/* 2b. The same schema for avro-c (a codec only avro-c reads). */
static bool recursive_record_avroc(const char *path)
{
	hbuf d = { 0 };

	return write_list(path, LOOP_FIELDS, "snappy", 0, &d);
}

/* 3. An array of 2^62 nulls: valid, and empty. */
static bool null_array(const char *path)
{
	hbuf d = { 0 };

	hb_str(&d, "m1.avro");
	hb_long(&d, INT64_C(1) << 62);
	hb_long(&d, 0);
	return write_list(path, PATH_FIELD ",{\"name\":\"nulls\",\"field-id\":901,"
	                  "\"type\":{\"type\":\"array\",\"items\":\"null\"}}", "null", 1, &d);
}

/* 4. Named records, each of two fields of the one before: 2^40 ints once
 * expanded, from a schema of 3 KiB. */
static bool exponential_schema(const char *path)
{
	char *level = NULL, *next = NULL;
	hbuf d = { 0 };
	bool ok = asprintf(&level, "{\"type\":\"record\",\"name\":\"a0\",\"fields\":"
	                   "[{\"name\":\"x\",\"type\":\"int\"}]}") >= 0;

	for (int k = 1; ok && k < 40; k++) {
		ok = asprintf(&next, "{\"type\":\"record\",\"name\":\"a%d\",\"fields\":["
		              "{\"name\":\"l\",\"type\":%s},{\"name\":\"r\",\"type\":\"a%d\"}]}",
		              k, level, k - 1) >= 0;
		free(level);
		level = ok ? next : NULL;
	}
	ok = ok && asprintf(&next, PATH_FIELD ",{\"name\":\"deep\",\"field-id\":902,\"type\":%s}", level) >= 0;
	hb_str(&d, "m1.avro");
	ok = ok && write_list(path, next, "null", 1, &d);
	free(d.p);
	free(level);
	free(next);
	return ok;
}

/* 5a. A header map whose count is INT64_MIN. */
static bool header_count(const char *path)
{
	hbuf f = { 0 };

	hb_raw(&f, "Obj\1", 4);
	hb_long(&f, INT64_MIN);
	hb_long(&f, 10);
	hb_raw(&f, sync_marker, 16);
	return write_out(path, &f);
}

/* 5b. A manifest whose equality ids come in a block of INT64_MIN. */
static bool equality_count(const char *path)
{
	static const char schema[] =
		"{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
		"{\"name\":\"status\",\"type\":\"int\",\"field-id\":0},"
		"{\"name\":\"data_file\",\"field-id\":2,\"type\":{\"type\":\"record\",\"name\":\"r2\",\"fields\":["
		"{\"name\":\"file_path\",\"type\":\"string\",\"field-id\":100},"
		"{\"name\":\"partition\",\"field-id\":102,\"type\":{\"type\":\"record\",\"name\":\"r102\",\"fields\":[]}},"
		"{\"name\":\"equality_ids\",\"field-id\":135,\"type\":[\"null\",{\"type\":\"array\",\"items\":\"int\"}]}"
		"]}}]}";
	hbuf d = { 0 };
	bool ok;

	hb_long(&d, 1);
	hb_str(&d, "data/f1.parquet");
	hb_long(&d, 1);
	hb_long(&d, INT64_MIN);
	hb_long(&d, 4);
	hb_long(&d, 0);
	ok = write_avro(path, schema, "null", 1, &d);
	free(d.p);
	return ok;
}

/* 5c. An array of records of 100 ints, in a block of 2^57 - 2: the count
 * times 100 overflowed. */
static bool varints_overflow(const char *path)
{
	char fields[4096];
	size_t at;
	hbuf d = { 0 };

	at = (size_t)snprintf(fields, sizeof fields, PATH_FIELD ",{\"name\":\"wide\",\"field-id\":903,"
	                      "\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"w\",\"fields\":[");
	for (int i = 0; i < 100; i++)
		at += (size_t)snprintf(fields + at, sizeof fields - at, "%s{\"name\":\"i%d\",\"type\":\"int\"}",
		                       i ? "," : "", i);
	snprintf(fields + at, sizeof fields - at, "]}}}");
	hb_str(&d, "m1.avro");
	hb_long(&d, INT64_MAX / 64 - 1);
	hb_raw(&d, "\0\0\0\0", 4);
	return write_list(path, fields, "null", 1, &d);
}

/* 6a. Field ids 500 and 510 twice each: the first copies leaked. */
static bool repeated_ids(const char *path)
{
	hbuf d = { 0 };

	hb_str(&d, "m-first.avro");
	hb_str(&d, "m-second.avro");
	hb_long(&d, 1);
	hb_long(&d, 1);
	hb_raw(&d, "\0", 1);
	hb_long(&d, 1);
	hb_str(&d, "a");
	hb_long(&d, 1);
	hb_str(&d, "b");
	hb_long(&d, 0);
	return write_list(path, PATH_FIELD ",{\"name\":\"again\",\"type\":\"string\",\"field-id\":500},"
	                  SUMMARY_FIELDS(LOWER_FIELD LOWER_FIELD), "null", 1, &d);
}

/* 6b. A codec nobody knows: avro-c's reader leaked on it. */
static bool unknown_codec(const char *path)
{
	hbuf d = { 0 };

	hb_str(&d, "m1.avro");
	return write_list(path, PATH_FIELD, "bogus", 1, &d);
}

/* 8. A partition spec id past an int. */
static bool spec_id_huge(const char *path)
{
	hbuf d = { 0 };

	hb_str(&d, "m1.avro");
	hb_long(&d, INT64_C(1) << 40);
	return write_list(path, PATH_FIELD ",{\"name\":\"partition_spec_id\",\"type\":\"long\",\"field-id\":502}",
	                  "null", 1, &d);
}

/* Found by fuzz-manifest-list: a block cut short, read by a caller that
 * passes no ice_err (the error path read err->code). */
static bool truncated_block(const char *path)
{
	hbuf f = { 0 }, d = { 0 };
	bool ok;

	hb_str(&d, "m1.avro");
	ok = write_list(path, PATH_FIELD, "null", 1, &d);
	/* the same file less its last 20 bytes: the sync marker and more */
	if (ok) {
		FILE *in = fopen(path, "rb");
		unsigned char buf[4096];
		size_t n = in ? fread(buf, 1, sizeof buf, in) : 0;
		if (in)
			fclose(in);
		hb_raw(&f, buf, n > 20 ? n - 20 : 0);
		ok = n > 20 && write_out(path, &f);
		free(f.p);
	}
	return ok;
}

/* Found by fuzz-manifest-list: a codec only avro-c reads (snappy) and a
 * block whose byte size is negative; avro-c's reader failed to allocate
 * it and leaked what it had allocated (its schema, its reader). */
static bool negative_block_size(const char *path)
{
	hbuf f = { 0 };

	hb_header(&f, "{\"type\":\"record\",\"name\":\"manifest_file\",\"fields\":[" PATH_FIELD "]}",
	          "snappy");
	hb_long(&f, 1);   /* one record */
	hb_long(&f, -31); /* in -31 bytes */
	hb_str(&f, "m1.avro");
	hb_raw(&f, sync_marker, 16);
	return write_out(path, &f);
}

const hostile_case hostile_cases[] = {
	{ "summary-count.avro", HOSTILE_LIST, "corrupt Avro data in entry",
	  "1: summaries grown before the count check (use after free)", summary_count },
	{ "recursive-record.avro", HOSTILE_LIST, "recursive Avro type",
	  "2: a record containing itself (stack overflow)", recursive_record },
	{ "recursive-record-avroc.avro", HOSTILE_LIST, "recursive Avro type",
	  "2: the same, on the way to avro-c", recursive_record_avroc },
	{ "null-array.avro", HOSTILE_LIST, NULL, "3: 2^62 null items (hang)", null_array },
	{ "exponential-schema.avro", HOSTILE_LIST, "too large once its named types are expanded",
	  "4: exponential schema compile (hang)", exponential_schema },
	{ "header-count-min.avro", HOSTILE_LIST, "bad header map count",
	  "5: header map count INT64_MIN (negation)", header_count },
	{ "equality-count-min.avro", HOSTILE_MANIFEST, "corrupt or truncated Avro data in entry 1",
	  "5: equality ids count INT64_MIN (negation)", equality_count },
	{ "varints-overflow.avro", HOSTILE_LIST, "corrupt Avro data in entry",
	  "5: count * varints overflow", varints_overflow },
	{ "repeated-field-ids.avro", HOSTILE_LIST, NULL, "6: repeated field ids (leak)", repeated_ids },
	{ "unknown-codec.avro", HOSTILE_LIST, "unknown Avro codec 'bogus'",
	  "6: unknown codec handed to avro-c (leak)", unknown_codec },
	{ "spec-id-huge.avro", HOSTILE_LIST, "corrupt Avro data in entry",
	  "8: partition spec id past an int", spec_id_huge },
	{ "truncated-block.avro", HOSTILE_LIST, "corrupt or truncated Avro data in block 1",
	  "fuzz-manifest-list: a short block, no ice_err (null dereference)", truncated_block },
	{ "negative-block-size.avro", HOSTILE_LIST, "corrupt or truncated Avro data in block 1",
	  "fuzz-manifest-list: a negative block size handed to avro-c (leak)", negative_block_size },
};
const unsigned hostile_n_cases = sizeof hostile_cases / sizeof hostile_cases[0];
