/* test-partition: partition tuples decoded and rendered (raw, human, key)
 * for every type and transform, bounds in single-value serialization, and
 * conformance with the real tables in ../shared/iceberg. */
#include "config.h"
#include "tests.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <avro.h>
#include <jansson.h>

#include "ice_avro_header.h"
#include "ice_metadata.h"
#include "ice_partition.h"
#include "ice_path.h"
#include "ice_table.h"

void test_partition(void);

/* ---- building tables and Avro values --------------------------------------- */

typedef enum { V_NULL, V_BOOL, V_INT, V_LONG, V_FLOAT, V_DOUBLE, V_STR, V_BYTES, V_FIXED } vkind;

typedef struct {
	vkind kind;
	int64_t i;
	double d;
	const char *s;
	size_t len;
} tval;

#define VNULL { .kind = V_NULL }
#define VBOOL(x) { .kind = V_BOOL, .i = (x) }
#define VINT(x) { .kind = V_INT, .i = (x) }
#define VLONG(x) { .kind = V_LONG, .i = (x) }
#define VFLOAT(x) { .kind = V_FLOAT, .d = (x) }
#define VDOUBLE(x) { .kind = V_DOUBLE, .d = (x) }
#define VSTR(x) { .kind = V_STR, .s = (x), .len = sizeof(x) - 1 }
#define VBYTES(x) { .kind = V_BYTES, .s = (x), .len = sizeof(x) - 1 }
#define VFIXED(x) { .kind = V_FIXED, .s = (x), .len = sizeof(x) - 1 }

/* A v2 table with these schemas and one partition spec (id 0). */
static ice_metadata *make_md(const char *schemas, int current_schema, const char *spec_fields)
{
	char text[8192];
	ice_metadata *md = NULL;
	ice_err err = { 0 };

	snprintf(text, sizeof text,
	         "{\"format-version\":2,\"table-uuid\":\"u-1\",\"location\":\"/t\","
	         "\"last-sequence-number\":0,\"last-updated-ms\":1,\"current-schema-id\":%d,"
	         "\"schemas\":%s,\"default-spec-id\":0,"
	         "\"partition-specs\":[{\"spec-id\":0,\"fields\":%s}],\"snapshots\":[]}",
	         current_schema, schemas, spec_fields);
	if (ice_metadata_parse(text, strlen(text), "test.metadata.json", &md, &err))
		tap_diag("metadata: %s", err.msg);
	return md;
}

/* An Avro record schema (with field-ids) and a generic value of it. */
typedef struct {
	json_t *json;
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t value;
	bool ok;
} arec;

static bool arec_new(arec *r, const char *json)
{
	memset(r, 0, sizeof *r);
	r->json = json_loads(json, 0, NULL);
	if (!r->json || avro_schema_from_json_length(json, strlen(json), &r->schema)) {
		tap_diag("bad Avro schema %s: %s", json, avro_strerror());
		return false;
	}
	r->iface = avro_generic_class_from_schema(r->schema);
	r->ok = r->iface && avro_generic_value_new(r->iface, &r->value) == 0;
	return r->ok;
}

static void arec_free(arec *r)
{
	if (r->ok)
		avro_value_decref(&r->value);
	if (r->iface)
		avro_value_iface_decref(r->iface);
	if (r->schema)
		avro_schema_decref(r->schema);
	json_decref(r->json);
}

static int set_value(avro_value_t *t, const tval *v)
{
	char buf[64];

	if (v->len > sizeof buf)
		return -1;
	if (v->s)
		memcpy(buf, v->s, v->len);
	switch (v->kind) {
	case V_NULL: return avro_value_set_null(t);
	case V_BOOL: return avro_value_set_boolean(t, (int)v->i);
	case V_INT: return avro_value_set_int(t, (int32_t)v->i);
	case V_LONG: return avro_value_set_long(t, v->i);
	case V_FLOAT: return avro_value_set_float(t, (float)v->d);
	case V_DOUBLE: return avro_value_set_double(t, v->d);
	case V_STR: return avro_value_set_string_len(t, v->s, v->len + 1);
	case V_BYTES: return avro_value_set_bytes(t, buf, v->len);
	case V_FIXED: return avro_value_set_fixed(t, buf, v->len);
	}
	return -1;
}

/* Set a field of the record; a union gets its null or its other branch. */
static bool set_field(arec *r, const char *name, const tval *v)
{
	avro_value_t field, target;

	if (avro_value_get_by_name(&r->value, name, &field, NULL))
		return false;
	target = field;
	if (avro_value_get_type(&field) == AVRO_UNION &&
	    avro_value_set_branch(&field, v->kind == V_NULL ? 0 : 1, &target))
		return false;
	return set_value(&target, v) == 0;
}

static char *dump(const json_t *j)
{
	return j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(none)");
}

static void is_json(const json_t *got, const char *want, const char *what, const char *label)
{
	char *s = dump(got);

	tap_is_str(s, want, "%s: %s", label, what);
	free(s);
}

/* ---- one field, every type and transform ----------------------------------- */

typedef struct {
	const char *itype;     /* the source column's Iceberg type; NULL: no such column */
	const char *transform;
	const char *atype;     /* the partition field's Avro type */
	tval v;
	const char *key;       /* expected key, human and raw (JSON) of the field "p" */
	const char *human;
	const char *raw;
} pcase;

#define TS "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\",\"adjust-to-utc\":false}"
#define TSTZ "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\",\"adjust-to-utc\":true}"
#define TSNS "{\"type\":\"long\",\"logicalType\":\"timestamp-nanos\",\"adjust-to-utc\":false}"
#define TSTZNS "{\"type\":\"long\",\"logicalType\":\"timestamp-nanos\",\"adjust-to-utc\":true}"
#define TIME "{\"type\":\"long\",\"logicalType\":\"time-micros\"}"
#define DATE "{\"type\":\"int\",\"logicalType\":\"date\"}"
#define DEC(p, s, n) "{\"type\":\"fixed\",\"name\":\"decimal_" #p "_" #s "\",\"size\":" #n \
	",\"logicalType\":\"decimal\",\"precision\":" #p ",\"scale\":" #s "}"
#define UUIDF "{\"type\":\"fixed\",\"name\":\"uuid_fixed\",\"size\":16,\"logicalType\":\"uuid\"}"
#define Q "\""

static const pcase cases[] = {
	{ "boolean", "identity", "\"boolean\"", VBOOL(1), "p=true", Q "true" Q, "true" },
	{ "boolean", "identity", "\"boolean\"", VBOOL(0), "p=false", Q "false" Q, "false" },
	{ "int", "identity", "\"int\"", VINT(-7), "p=-7", Q "-7" Q, "-7" },
	{ "long", "identity", "\"long\"", VLONG(1234567890123), "p=1234567890123", Q "1234567890123" Q, "1234567890123" },
	{ "long", "identity", "\"int\"", VINT(5), "p=5", Q "5" Q, "5" },
	{ "float", "identity", "\"float\"", VFLOAT(1.5), "p=1.5", Q "1.5" Q, "1.5" },
	{ "float", "identity", "\"float\"", VFLOAT(0.1), "p=0.1", Q "0.1" Q, "0.10000000149011612" },
	{ "float", "identity", "\"float\"", VFLOAT(1e-45), "p=1.4E-45", Q "1.4E-45" Q, "1.4012984643248171e-45" },
	{ "float", "identity", "\"float\"", VFLOAT(-0.0), "p=-0.0", Q "-0.0" Q, "-0.0" },
	{ "double", "identity", "\"double\"", VDOUBLE(1e7), "p=1.0E7", Q "1.0E7" Q, "10000000.0" },
	{ "double", "identity", "\"double\"", VDOUBLE(-0.000244140625), "p=-2.44140625E-4", Q "-2.44140625E-4" Q, "-0.000244140625" },
	{ "double", "identity", "\"double\"", VDOUBLE(123456.75), "p=123456.75", Q "123456.75" Q, "123456.75" },
	{ "double", "identity", "\"double\"", VDOUBLE(100), "p=100.0", Q "100.0" Q, "100.0" },
	{ "double", "identity", "\"double\"", VDOUBLE(0.001), "p=0.001", Q "0.001" Q, "0.001" },
	{ "double", "identity", "\"double\"", VDOUBLE(5e-324), "p=4.9E-324", Q "4.9E-324" Q, "4.9406564584124654e-324" },
	{ "double", "identity", "\"double\"", VDOUBLE(NAN), "p=NaN", Q "NaN" Q, Q "NaN" Q },
	{ "double", "identity", "\"float\"", VFLOAT(0.1), "p=0.10000000149011612", Q "0.10000000149011612" Q, "0.10000000149011612" },
	{ "date", "identity", DATE, VINT(19723), "p=2024-01-01", Q "2024-01-01" Q, "19723" },
	{ "date", "identity", DATE, VINT(-1), "p=1969-12-31", Q "1969-12-31" Q, "-1" },
	{ "date", "identity", DATE, VINT(-719528), "p=0000-01-01", Q "0000-01-01" Q, "-719528" },
	{ "date", "identity", DATE, VINT(789), "p=1972-02-29", Q "1972-02-29" Q, "789" },
	{ "date", "identity", DATE, VINT(2932896), "p=9999-12-31", Q "9999-12-31" Q, "2932896" },
	{ "time", "identity", TIME, VLONG(0), "p=00%3A00", Q "00:00" Q, "0" },
	{ "time", "identity", TIME, VLONG(60000000), "p=00%3A01", Q "00:01" Q, "60000000" },
	{ "time", "identity", TIME, VLONG(3723000001), "p=01%3A02%3A03.000001", Q "01:02:03.000001" Q, "3723000001" },
	{ "time", "identity", TIME, VLONG(45296120000), "p=12%3A34%3A56.120", Q "12:34:56.120" Q, "45296120000" },
	{ "time", "identity", TIME, VLONG(86399999999), "p=23%3A59%3A59.999999", Q "23:59:59.999999" Q, "86399999999" },
	{ "timestamp", "identity", TS, VLONG(1684161045000000), "p=2023-05-15T14%3A30%3A45", Q "2023-05-15T14:30:45" Q, "1684161045000000" },
	{ "timestamp", "identity", TS, VLONG(1684161000000000), "p=2023-05-15T14%3A30%3A00", Q "2023-05-15T14:30:00" Q, "1684161000000000" },
	{ "timestamp", "identity", TS, VLONG(1684161045120000), "p=2023-05-15T14%3A30%3A45.12", Q "2023-05-15T14:30:45.12" Q, "1684161045120000" },
	{ "timestamp", "identity", TS, VLONG(-1), "p=1969-12-31T23%3A59%3A59.999999", Q "1969-12-31T23:59:59.999999" Q, "-1" },
	{ "timestamp", "identity", TS, VLONG(-31536000000000), "p=1969-01-01T00%3A00%3A00", Q "1969-01-01T00:00:00" Q, "-31536000000000" },
	{ "timestamp", "identity", TS, VLONG(-62135596800000000), "p=0001-01-01T00%3A00%3A00", Q "0001-01-01T00:00:00" Q, "-62135596800000000" },
	{ "timestamptz", "identity", TSTZ, VLONG(0), "p=1970-01-01T00%3A00%3A00%2B00%3A00", Q "1970-01-01T00:00:00+00:00" Q, "0" },
	{ "timestamptz", "identity", TSTZ, VLONG(-1500000), "p=1969-12-31T23%3A59%3A58.5%2B00%3A00", Q "1969-12-31T23:59:58.5+00:00" Q, "-1500000" },
	{ "timestamp_ns", "identity", TSNS, VLONG(1684161045123456789), "p=2023-05-15T14%3A30%3A45.123456789", Q "2023-05-15T14:30:45.123456789" Q, "1684161045123456789" },
	{ "timestamp_ns", "identity", TSNS, VLONG(1684161045000000100), "p=2023-05-15T14%3A30%3A45.0000001", Q "2023-05-15T14:30:45.0000001" Q, "1684161045000000100" },
	{ "timestamptz_ns", "identity", TSTZNS, VLONG(-1), "p=1969-12-31T23%3A59%3A59.999999999%2B00%3A00", Q "1969-12-31T23:59:59.999999999+00:00" Q, "-1" },
	{ "string", "identity", "\"string\"", VSTR("a b/c=d%e\xe2\x82\xac?&+"), "p=a+b%2Fc%3Dd%25e%E2%82%AC%3F%26%2B", Q "a b/c=d%e\xe2\x82\xac?&+" Q, Q "a b/c=d%e\xe2\x82\xac?&+" Q },
	{ "string", "identity", "\"string\"", VSTR(""), "p=", Q Q, Q Q },
	{ "string", "identity", "\"string\"", VSTR("*._-~"), "p=*._-%7E", Q "*._-~" Q, Q "*._-~" Q },
	{ "string", "identity", "\"string\"", VSTR("a\xff" "b"), "p=a%EF%BF%BDb", Q "a\xef\xbf\xbd" "b" Q, Q "a\xef\xbf\xbd" "b" Q },
	{ "string", "identity", "\"string\"", VSTR("a\0b"), "p=a%00b", Q "a\\u0000b" Q, Q "a\\u0000b" Q },
	{ "string", "identity", "\"string\"", VNULL, "p=null", "null", "null" },
	{ "uuid", "identity", UUIDF, VFIXED("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"), "p=00010203-0405-0607-0809-0a0b0c0d0e0f", Q "00010203-0405-0607-0809-0a0b0c0d0e0f" Q, Q "000102030405060708090a0b0c0d0e0f" Q },
	{ "uuid", "identity", "{\"type\":\"string\",\"logicalType\":\"uuid\"}", VSTR("00010203-0405-0607-0809-0A0B0C0D0E0F"), "p=00010203-0405-0607-0809-0a0b0c0d0e0f", Q "00010203-0405-0607-0809-0a0b0c0d0e0f" Q, Q "000102030405060708090a0b0c0d0e0f" Q },
	{ "fixed[3]", "identity", "{\"type\":\"fixed\",\"name\":\"f3\",\"size\":3}", VFIXED("\xff\xfe\xfd"), "p=%2F%2F79", Q "fffefd" Q, Q "fffefd" Q },
	{ "binary", "identity", "\"bytes\"", VBYTES("\x01\x02\x03"), "p=AQID", Q "010203" Q, Q "010203" Q },
	{ "binary", "identity", "\"bytes\"", VBYTES("\xfb\xff"), "p=%2B%2F8%3D", Q "fbff" Q, Q "fbff" Q },
	{ "binary", "identity", "\"bytes\"", VBYTES(""), "p=", Q Q, Q Q },
	{ "decimal(9, 4)", "identity", DEC(9, 4, 4), VFIXED("\x00\x00\x30\x0c"), "p=1.2300", Q "1.2300" Q, Q "0000300c" Q },
	{ "decimal(9, 4)", "identity", DEC(9, 4, 4), VFIXED("\xff\xff\xcf\xf4"), "p=-1.2300", Q "-1.2300" Q, Q "ffffcff4" Q },
	{ "decimal(9,4)", "identity", DEC(9, 4, 4), VFIXED("\x00\x00\x00\x00"), "p=0.0000", Q "0.0000" Q, Q "00000000" Q },
	{ "decimal(9, 0)", "identity", DEC(9, 0, 1), VFIXED("\x2a"), "p=42", Q "42" Q, Q "2a" Q },
	{ "decimal(9, 0)", "identity", DEC(9, 0, 2), VFIXED("\x00\x80"), "p=128", Q "128" Q, Q "0080" Q },
	{ "decimal(9, 2)", "identity", DEC(9, 2, 1), VFIXED("\xff"), "p=-0.01", Q "-0.01" Q, Q "ff" Q },
	{ "decimal(10, 2)", "identity", DEC(10, 2, 1), VFIXED("\x05"), "p=0.05", Q "0.05" Q, Q "05" Q },
	{ "decimal(10, 8)", "identity", DEC(10, 8, 1), VFIXED("\x01"), "p=1E-8", Q "1E-8" Q, Q "01" Q },
	{ "decimal(10, 8)", "identity", DEC(10, 8, 1), VFIXED("\x00"), "p=0E-8", Q "0E-8" Q, Q "00" Q },
	{ "decimal(38, 10)", "identity", DEC(38, 10, 16), VFIXED("\x7f\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), "p=17014118346046923173168730371.5884105727", Q "17014118346046923173168730371.5884105727" Q, Q "7fffffffffffffffffffffffffffffff" Q },
	{ "decimal(38, 0)", "identity", DEC(38, 0, 16), VFIXED("\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), "p=-170141183460469231731687303715884105728", Q "-170141183460469231731687303715884105728" Q, Q "80000000000000000000000000000000" Q },
	{ "decimal(9, 2)", "identity", "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":9,\"scale\":2}", VBYTES("\xfb\x2e"), "p=-12.34", Q "-12.34" Q, Q "fb2e" Q },
	{ "string", "bucket[16]", "\"int\"", VINT(3), "p=3", Q "3" Q, "3" },
	{ "long", "bucket[8]", "\"int\"", VNULL, "p=null", "null", "null" },
	{ "string", "truncate[4]", "\"string\"", VSTR("abcd"), "p=abcd", Q "abcd" Q, Q "abcd" Q },
	{ "int", "truncate[10]", "\"int\"", VINT(-10), "p=-10", Q "-10" Q, "-10" },
	{ "binary", "truncate[2]", "\"bytes\"", VBYTES("\x01\x02"), "p=AQI%3D", Q "0102" Q, Q "0102" Q },
	{ "decimal(9, 2)", "truncate[10]", DEC(9, 2, 4), VFIXED("\x00\x00\x04\xd2"), "p=12.34", Q "12.34" Q, Q "000004d2" Q },
	{ "timestamp", "year", "\"int\"", VINT(54), "p=2024", Q "2024" Q, "54" },
	{ "date", "year", "\"int\"", VINT(-1), "p=1969", Q "1969" Q, "-1" },
	{ "timestamptz", "month", "\"int\"", VINT(648), "p=2024-01", Q "2024-01" Q, "648" },
	{ "date", "month", "\"int\"", VINT(-1), "p=1969-12", Q "1969-12" Q, "-1" },
	{ "date", "month", "\"int\"", VINT(-13), "p=1968-12", Q "1968-12" Q, "-13" },
	{ "timestamp", "day", DATE, VINT(19723), "p=2024-01-01", Q "2024-01-01" Q, "19723" },
	{ "timestamptz", "day", "\"int\"", VINT(-1), "p=1969-12-31", Q "1969-12-31" Q, "-1" },
	{ "timestamp", "hour", "\"int\"", VINT(473362), "p=2024-01-01-10", Q "2024-01-01-10" Q, "473362" },
	{ "timestamptz", "hour", "\"int\"", VINT(-1), "p=1969-12-31-23", Q "1969-12-31-23" Q, "-1" },
	{ "string", "void", "\"string\"", VSTR("x"), "p=null", "null", "null" },
	/* no source column in any schema: the Avro type decides */
	{ NULL, "identity", TS, VLONG(1684161045000000), "p=2023-05-15T14%3A30%3A45", Q "2023-05-15T14:30:45" Q, "1684161045000000" },
	{ NULL, "identity", "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}", VLONG(0), "p=1970-01-01T00%3A00%3A00%2B00%3A00", Q "1970-01-01T00:00:00+00:00" Q, "0" },
	{ NULL, "identity", DEC(4, 2, 2), VFIXED("\x04\xd2"), "p=12.34", Q "12.34" Q, Q "04d2" Q },
	{ NULL, "identity", DATE, VINT(19723), "p=2024-01-01", Q "2024-01-01" Q, "19723" },
	{ NULL, "identity", "\"bytes\"", VBYTES("\x01\x02\x03"), "p=AQID", Q "010203" Q, Q "010203" Q },
	{ NULL, "truncate[3]", "\"string\"", VSTR("a b"), "p=a+b", Q "a b" Q, Q "a b" Q },
	{ NULL, "zorder", "\"long\"", VLONG(9), "p=9", Q "9" Q, "9" },
};

/* A decoder for one field "p" (id 1000) on column 1 of type itype. */
static ice_part_decoder *one_decoder(const char *itype, const char *transform, arec *r,
                                     ice_err *err)
{
	char schemas[512], spec[256];
	ice_part_decoder *d = NULL;
	ice_metadata *md;

	if (itype)
		snprintf(schemas, sizeof schemas, "[{\"schema-id\":0,\"type\":\"struct\",\"fields\":"
		         "[{\"id\":1,\"name\":\"c\",\"required\":false,\"type\":\"%s\"}]}]", itype);
	else
		snprintf(schemas, sizeof schemas, "[{\"schema-id\":0,\"type\":\"struct\",\"fields\":"
		         "[{\"id\":2,\"name\":\"other\",\"required\":false,\"type\":\"string\"}]}]");
	snprintf(spec, sizeof spec, "[{\"name\":\"p\",\"transform\":\"%s\",\"source-id\":1,"
	         "\"field-id\":1000}]", transform);
	if (!(md = make_md(schemas, 0, spec)))
		return NULL;
	if (ice_part_decoder_new(md, &md->specs[0], r->json, &d, err))
		d = NULL;
	ice_metadata_free(md);
	return d;
}

static bool one_record(arec *r, const char *atype)
{
	char schema[1024];

	snprintf(schema, sizeof schema, "{\"type\":\"record\",\"name\":\"r102\",\"fields\":"
	         "[{\"name\":\"p\",\"type\":[\"null\",%s],\"default\":null,\"field-id\":1000}]}", atype);
	return arec_new(r, schema);
}

static void check_case(size_t n, const pcase *c)
{
	char label[160], want[256];
	ice_part_decoder *d = NULL;
	json_t *raw = NULL, *human = NULL;
	char *key = NULL;
	ice_err err = { 0 };
	arec r;

	snprintf(label, sizeof label, "case %zu %s(%s)", n, c->transform, c->itype ? c->itype : "?");
	if (!tap_ok(one_record(&r, c->atype) && set_field(&r, "p", &c->v), "%s: Avro value", label))
		goto out;
	if (!tap_ok((d = one_decoder(c->itype, c->transform, &r, &err)) != NULL,
	            "%s: decoder (%s)", label, err.msg))
		goto out;
	if (!tap_ok(ice_part_decode(d, &r.value, &raw, &human, &key, &err) == ICE_OK,
	            "%s: decodes (%s)", label, err.msg))
		goto out;
	tap_is_str(key, c->key, "%s: key", label);
	snprintf(want, sizeof want, "{\"p\":%s}", c->human);
	is_json(human, want, "human", label);
	snprintf(want, sizeof want, "{\"p\":%s}", c->raw);
	is_json(raw, want, "raw", label);
out:
	json_decref(raw);
	json_decref(human);
	free(key);
	ice_part_decoder_free(d);
	arec_free(&r);
}

static void test_cases(void)
{
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_case(i, &cases[i]);
}

/* ---- several fields, matched by field id -------------------------------- */

static const char multi_schemas[] =
	"[{\"schema-id\":0,\"type\":\"struct\",\"fields\":["
	"{\"id\":1,\"name\":\"event_date\",\"required\":false,\"type\":\"date\"},"
	"{\"id\":2,\"name\":\"event type\",\"required\":false,\"type\":\"string\"},"
	"{\"id\":3,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
	"{\"id\":4,\"name\":\"s\",\"required\":false,\"type\":{\"type\":\"struct\",\"fields\":["
	"{\"id\":5,\"name\":\"ts\",\"required\":false,\"type\":\"timestamp\"}]}}]}]";

static const char multi_spec[] =
	"[{\"name\":\"event_date\",\"transform\":\"identity\",\"source-id\":1,\"field-id\":1000},"
	"{\"name\":\"event type\",\"transform\":\"identity\",\"source-id\":2,\"field-id\":1001},"
	"{\"name\":\"id_bucket\",\"transform\":\"bucket[8]\",\"source-id\":3,\"field-id\":1002},"
	"{\"name\":\"ts_hour\",\"transform\":\"hour\",\"source-id\":5,\"field-id\":1003},"
	"{\"name\":\"gone/\\u00e9\",\"transform\":\"identity\",\"source-id\":2,\"field-id\":1004}]";

/* Avro fields in another order than the spec, other names, one extra. */
static const char multi_avro[] =
	"{\"type\":\"record\",\"name\":\"r102\",\"fields\":["
	"{\"name\":\"ts_hour\",\"type\":[\"null\",\"int\"],\"default\":null,\"field-id\":1003},"
	"{\"name\":\"extra\",\"type\":[\"null\",\"string\"],\"default\":null,\"field-id\":1099},"
	"{\"name\":\"event_x20type\",\"type\":[\"null\",\"string\"],\"default\":null,\"field-id\":1001},"
	"{\"name\":\"id_bucket\",\"type\":\"int\",\"field-id\":1002},"
	"{\"name\":\"event_date\",\"type\":[\"null\",{\"type\":\"int\",\"logicalType\":\"date\"}],"
	"\"default\":null,\"field-id\":1000}]}";

static void test_multi(void)
{
	static const tval hour = VINT(473362), type = VSTR("a/b c"), bucket = VINT(3),
	                  date = VINT(19723), extra = VSTR("zzz");
	ice_metadata *md = make_md(multi_schemas, 0, multi_spec);
	ice_part_decoder *d = NULL;
	json_t *raw = NULL, *human = NULL;
	char *key = NULL;
	ice_err err = { 0 };
	arec r;

	if (!tap_ok(md && arec_new(&r, multi_avro), "multi: table and Avro schema"))
		goto out;
	tap_ok(set_field(&r, "ts_hour", &hour) && set_field(&r, "event_x20type", &type) &&
	       set_field(&r, "id_bucket", &bucket) && set_field(&r, "event_date", &date) &&
	       set_field(&r, "extra", &extra), "multi: Avro value");
	if (!tap_ok(ice_part_decoder_new(md, &md->specs[0], r.json, &d, &err) == ICE_OK,
	            "multi: decoder (%s)", err.msg))
		goto out;
	tap_is_int((long long)ice_part_decoder_size(d), 5, "multi: five fields");
	if (!tap_ok(ice_part_decode(d, &r.value, &raw, &human, &key, &err) == ICE_OK,
	            "multi: decodes (%s)", err.msg))
		goto out;
	tap_is_str(key, "event_date=2024-01-01/event+type=a%2Fb+c/id_bucket=3/"
	           "ts_hour=2024-01-01-10/gone%2F%C3%A9=null", "multi: key in spec order, escaped");
	is_json(raw, "{\"event_date\":19723,\"event type\":\"a/b c\",\"id_bucket\":3,"
	        "\"ts_hour\":473362,\"gone/\xc3\xa9\":null}", "raw by field id", "multi");
	is_json(human, "{\"event_date\":\"2024-01-01\",\"event type\":\"a/b c\",\"id_bucket\":\"3\","
	        "\"ts_hour\":\"2024-01-01-10\",\"gone/\xc3\xa9\":null}", "human", "multi");
	free(key);
	key = NULL;
	json_decref(raw);
	raw = NULL;
	tap_ok(ice_part_decode(d, &r.value, NULL, NULL, &key, &err) == ICE_OK && key &&
	       strncmp(key, "event_date=", 11) == 0, "multi: key alone");
	free(key);
	key = NULL;
	tap_ok(ice_part_decode(d, &r.value, &raw, NULL, NULL, &err) == ICE_OK && json_is_object(raw),
	       "multi: raw alone");
out:
	json_decref(raw);
	json_decref(human);
	free(key);
	ice_part_decoder_free(d);
	arec_free(&r);
	ice_metadata_free(md);
}

/* The source column only in an older schema; an unpartitioned spec. */
static void test_schemas(void)
{
	static const tval day = VINT(19723);
	ice_metadata *md = make_md(
		"[{\"schema-id\":0,\"fields\":[{\"id\":1,\"name\":\"old\",\"required\":false,\"type\":\"date\"}]},"
		"{\"schema-id\":1,\"fields\":[{\"id\":2,\"name\":\"new\",\"required\":false,\"type\":\"string\"}]}]",
		1, "[{\"name\":\"old\",\"transform\":\"identity\",\"source-id\":1,\"field-id\":1000}]");
	ice_partition_spec none = { 0, NULL, 0 };
	ice_part_decoder *d = NULL;
	json_t *raw = NULL, *human = NULL;
	char *key = NULL;
	ice_err err = { 0 };
	arec r;

	if (!tap_ok(md && arec_new(&r, "{\"type\":\"record\",\"name\":\"r102\",\"fields\":[{\"name\":\"old\","
	                           "\"type\":[\"null\",\"int\"],\"field-id\":1000}]}") &&
	            set_field(&r, "old", &day), "older schema: table and value"))
		goto out;
	tap_ok(ice_part_decoder_new(md, &md->specs[0], r.json, &d, &err) == ICE_OK &&
	       ice_part_decode(d, &r.value, NULL, NULL, &key, &err) == ICE_OK,
	       "older schema: decodes (%s)", err.msg);
	tap_is_str(key, "old=2024-01-01", "older schema: the column's type is found there");
	free(key);
	key = NULL;
	ice_part_decoder_free(d);
	d = NULL;
	arec_free(&r);
	arec_new(&r, "{\"type\":\"record\",\"name\":\"r102\",\"fields\":[]}");
	tap_ok(ice_part_decoder_new(md, &none, r.json, &d, &err) == ICE_OK &&
	       ice_part_decode(d, &r.value, &raw, &human, &key, &err) == ICE_OK,
	       "unpartitioned: decodes (%s)", err.msg);
	tap_is_str(key, "", "unpartitioned: empty key");
	is_json(raw, "{}", "raw {}", "unpartitioned");
	is_json(human, "{}", "human {}", "unpartitioned");
	json_decref(raw);
	json_decref(human);
	free(key);
	tap_ok(ice_part_decode(d, NULL, &raw, &human, &key, &err) == ICE_OK && key && !*key,
	       "unpartitioned: no value needed");
out:
	json_decref(raw);
	json_decref(human);
	free(key);
	ice_part_decoder_free(d);
	arec_free(&r);
	ice_metadata_free(md);
}

/* ---- errors ------------------------------------------------------------------ */

static void expect_error(const char *itype, const char *transform, const char *atype,
                         tval v, const char *what)
{
	ice_part_decoder *d = NULL;
	json_t *raw = (json_t *)1, *human = (json_t *)1;
	char *key = (char *)1;
	ice_err err = { 0 };
	int rc;
	arec r;

	if (!one_record(&r, atype) || !set_field(&r, "p", &v) ||
	    !(d = one_decoder(itype, transform, &r, &err))) {
		tap_ok(false, "%s: setup (%s)", what, err.msg);
		goto out;
	}
	rc = ice_part_decode(d, &r.value, &raw, &human, &key, &err);
	tap_is_int(rc, ICE_EFORMAT, "%s: format error", what);
	tap_ok(strstr(err.msg, "'p'") != NULL, "%s: the message names the field (%s)", what, err.msg);
	tap_ok(!raw && !human && !key, "%s: nothing returned", what);
	if (rc == ICE_OK) {
		json_decref(raw);
		json_decref(human);
		free(key);
	}
out:
	ice_part_decoder_free(d);
	arec_free(&r);
}

static void test_errors(void)
{
	static const tval i7 = VINT(7), s = VSTR("x"), day = VLONG(86400000000),
	                  short_uuid = VFIXED("12345678"), big = VLONG(1);
	ice_metadata *md = make_md("[{\"schema-id\":0,\"fields\":[]}]", 0, "[]");
	ice_part_decoder *d = NULL;
	ice_err err = { 0 };
	json_t *arr = json_array();

	expect_error("string", "identity", "\"int\"", i7, "string column, Avro int");
	expect_error("timestamp", "day", "\"string\"", s, "day, Avro string");
	expect_error("time", "identity", TIME, day, "time of 24:00");
	expect_error("uuid", "identity", "{\"type\":\"fixed\",\"name\":\"u8\",\"size\":8}", short_uuid,
	             "uuid of 8 bytes");
	expect_error("int", "identity", "\"long\"", big, "int column, Avro long");
	tap_is_int(md ? ice_part_decoder_new(md, &md->specs[0], arr, &d, &err) : -1, ICE_EFORMAT,
	           "decoder: an Avro schema that is no record (%s)", err.msg);
	tap_ok(d == NULL, "decoder: none made");
	json_decref(arr);
	ice_metadata_free(md);
}

/* ---- bounds ------------------------------------------------------------------ */

typedef struct {
	const char *itype, *transform, *atype;
	const char *bytes;
	size_t len;
	const char *want; /* raw JSON, or NULL: a format error */
} bcase;

#define B(x) (x), sizeof(x) - 1

static const bcase bcases[] = {
	{ "int", "identity", "\"int\"", B("\x03\x00\x00\x00"), "3" },
	{ "string", "bucket[16]", "\"int\"", B("\xff\xff\xff\xff"), "-1" },
	{ "date", "identity", DATE, B("\x0b\x4d\x00\x00"), "19723" },
	{ "timestamp", "day", DATE, B("\x0b\x4d\x00\x00"), "19723" },
	{ "long", "identity", "\"long\"", B("\x15\xcd\x5b\x07\x00\x00\x00\x00"), "123456789" },
	{ "long", "identity", "\"long\"", B("\xfe\xff\xff\xff"), "-2" },
	{ "timestamp", "identity", TS, B("\x00\x00\x00\x00\x00\x00\x00\x00"), "0" },
	{ "string", "identity", "\"string\"", B("abc"), "\"abc\"" },
	{ "decimal(9, 4)", "identity", DEC(9, 4, 4), B("\x30\x0c"), "\"0000300c\"" },
	{ "decimal(9, 4)", "identity", DEC(9, 4, 4), B("\xcf\xf4"), "\"ffffcff4\"" },
	{ "decimal(9, 2)", "identity", "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":9,\"scale\":2}", B("\x30\x0c"), "\"300c\"" },
	{ "boolean", "identity", "\"boolean\"", B("\x01"), "true" },
	{ "boolean", "identity", "\"boolean\"", B("\x00"), "false" },
	{ "double", "identity", "\"double\"", B("\x00\x00\x00\x00\x00\x00\xf8\x3f"), "1.5" },
	{ "double", "identity", "\"double\"", B("\x00\x00\xc0\x3f"), "1.5" },
	{ "float", "identity", "\"float\"", B("\x00\x00\xc0\x3f"), "1.5" },
	{ "uuid", "identity", UUIDF, B("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"), "\"000102030405060708090a0b0c0d0e0f\"" },
	{ "binary", "identity", "\"bytes\"", B("\x01\x02"), "\"0102\"" },
	{ "string", "void", "\"string\"", B("abc"), "null" },
	{ "int", "identity", "\"int\"", B("\x01\x02\x03"), NULL },
	{ "boolean", "identity", "\"boolean\"", B(""), NULL },
	{ "uuid", "identity", UUIDF, B("\x01\x02"), NULL },
};

static void check_bound(size_t n, const bcase *c)
{
	ice_part_decoder *d = NULL;
	json_t *out = NULL;
	ice_err err = { 0 };
	char label[96];
	int rc;
	arec r;

	snprintf(label, sizeof label, "bound %zu %s(%s)", n, c->transform, c->itype);
	if (!one_record(&r, c->atype) || !(d = one_decoder(c->itype, c->transform, &r, &err))) {
		tap_ok(false, "%s: setup (%s)", label, err.msg);
		goto out;
	}
	rc = ice_part_bound_to_json(d, 0, c->bytes, c->len, &out, &err);
	if (c->want) {
		tap_ok(rc == ICE_OK, "%s: decodes (%s)", label, err.msg);
		is_json(out, c->want, "value", label);
	} else {
		tap_ok(rc == ICE_EFORMAT && !out && strstr(err.msg, "'p'"), "%s: format error (%s)",
		       label, err.msg);
	}
	if (n == 0) {
		json_decref(out);
		out = NULL;
		tap_is_int(ice_part_bound_to_json(d, 1, c->bytes, c->len, &out, &err), ICE_EINVAL,
		           "bound: field index out of range");
		tap_ok(ice_part_bound_to_json(d, 0, NULL, 0, &out, &err) == ICE_OK && json_is_null(out),
		       "bound: none is null");
	}
out:
	json_decref(out);
	ice_part_decoder_free(d);
	arec_free(&r);
}

static void test_bounds(void)
{
	size_t i;

	for (i = 0; i < sizeof bcases / sizeof bcases[0]; i++)
		check_bound(i, &bcases[i]);
}

/* ---- conformance with ../shared/iceberg ---------------------------------------- */

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a folder, sorted, NULL-terminated (free with free_names). */
static char **list_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = calloc(1, sizeof *names), **more;
	size_t n = 0;

	while (d && names && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !(more = realloc(names, (n + 2) * sizeof *names)))
			continue;
		names = more;
		names[n++] = strdup(e->d_name);
		names[n] = NULL;
	}
	if (d)
		closedir(d);
	if (names)
		qsort(names, n, sizeof *names, cmp_names);
	return names;
}

static void free_names(char **names)
{
	for (char **p = names; p && *p; p++)
		free(*p);
	free(names);
}

static void add_expected(json_t *map, const json_t *rec)
{
	static const char *const lists[] = { "data_added", "data_removed", "delete_added", "delete_removed" };
	const json_t *arr, *f;
	size_t i, k;

	for (k = 0; k < sizeof lists / sizeof lists[0]; k++) {
		arr = json_object_get(rec, lists[k]);
		for (i = 0; i < json_array_size(arr); i++) {
			f = json_array_get(arr, i);
			if (json_is_string(json_object_get(f, "file_path")))
				json_object_set(map, json_string_value(json_object_get(f, "file_path")),
				                (json_t *)f);
		}
	}
}

/* Every file record of the expected diffs, by file_path. */
static json_t *load_expected(const char *dir)
{
	json_t *map = json_object(), *rec;
	char **names = list_dir(dir), *path, *line = NULL;
	size_t cap = 0, i;
	FILE *in;

	for (i = 0; names && names[i]; i++) {
		if (!ends_with(names[i], ".jsonl") || !(path = ice_path_join(dir, names[i])))
			continue;
		if ((in = fopen(path, "r"))) {
			while (getline(&line, &cap, in) > 0) {
				rec = json_loads(line, 0, NULL);
				add_expected(map, rec);
				json_decref(rec);
			}
			fclose(in);
		}
		free(path);
	}
	free(line);
	free_names(names);
	return map;
}

/* The partition folder of a data file path: between the last "/data/" and
 * the file name ("" for a file right in data/), or NULL. */
static char *data_folder(const char *path)
{
	const char *s = NULL, *p = path, *end = strrchr(path, '/');

	while ((p = strstr(p, "/data/")))
		s = p++;
	if (!s || end < s + 5)
		return NULL;
	return strndup(s + 6, end > s + 5 ? (size_t)(end - s - 6) : 0);
}

static const json_t *field_by_id(const json_t *record, int id)
{
	const json_t *fields = json_object_get(record, "fields"), *f;
	size_t i;

	for (i = 0; i < json_array_size(fields); i++) {
		f = json_array_get(fields, i);
		if (json_integer_value(json_object_get(f, "field-id")) == id)
			return f;
	}
	return NULL;
}

static void diag_json(const json_t *got, const json_t *want)
{
	char *g = dump(got), *w = dump(want);

	tap_diag("  got: %s", g);
	tap_diag("  expected: %s", w);
	free(g);
	free(w);
}

typedef struct {
	const json_t *expected;
	const ice_part_decoder *dec;
	const char *label;
	int entries, matched;
} conf;

static void check_entry(conf *c, avro_value_t *part, const char *file_path)
{
	const json_t *exp = json_object_get(c->expected, file_path);
	const char *base = strrchr(file_path, '/') ? strrchr(file_path, '/') + 1 : file_path;
	json_t *raw = NULL, *human = NULL;
	char *key = NULL, *folder = data_folder(file_path);
	ice_err err = { 0 };

	c->entries++;
	if (!tap_ok(ice_part_decode(c->dec, part, &raw, &human, &key, &err) == ICE_OK,
	            "%s: %s decodes (%s)", c->label, base, err.msg))
		goto out;
	if (folder && (*folder || ice_part_decoder_size(c->dec) == 0))
		tap_is_str(key, folder, "%s: %s key is its data folder", c->label, base);
	if (!tap_ok(exp != NULL, "%s: %s is in the expected diffs", c->label, base))
		goto out;
	c->matched++;
	if (!tap_ok(json_equal(raw, json_object_get(exp, "partition")), "%s: %s raw", c->label, base))
		diag_json(raw, json_object_get(exp, "partition"));
	if (!tap_ok(json_equal(human, json_object_get(exp, "partition_human")), "%s: %s human",
	            c->label, base))
		diag_json(human, json_object_get(exp, "partition_human"));
out:
	json_decref(raw);
	json_decref(human);
	free(key);
	free(folder);
}

/* Read every entry of a manifest with avro-c and check its partition. */
static void read_entries(conf *c, const char *path, const json_t *schema)
{
	const json_t *df = field_by_id(schema, 2);
	const json_t *part = field_by_id(json_object_get(df, "type"), 102);
	const json_t *fp = field_by_id(json_object_get(df, "type"), 100);
	avro_file_reader_t reader;
	avro_schema_t ws;
	avro_value_iface_t *iface;
	avro_value_t entry, dfv, pv, fpv;
	const char *file_path;
	size_t len;

	if (!tap_ok(df && part && fp && avro_file_reader(path, &reader) == 0, "%s: avro-c reads it",
	            c->label))
		return;
	ws = avro_file_reader_get_writer_schema(reader);
	iface = avro_generic_class_from_schema(ws);
	if (iface && avro_generic_value_new(iface, &entry) == 0) {
		while (avro_file_reader_read_value(reader, &entry) == 0)
			if (avro_value_get_by_name(&entry, json_string_value(json_object_get(df, "name")), &dfv, NULL) == 0 &&
			    avro_value_get_by_name(&dfv, json_string_value(json_object_get(part, "name")), &pv, NULL) == 0 &&
			    avro_value_get_by_name(&dfv, json_string_value(json_object_get(fp, "name")), &fpv, NULL) == 0 &&
			    avro_value_get_string(&fpv, &file_path, &len) == 0)
				check_entry(c, &pv, file_path);
		avro_value_decref(&entry);
	}
	if (iface)
		avro_value_iface_decref(iface);
	avro_schema_decref(ws);
	avro_file_reader_close(reader);
}

static void check_manifest(const ice_metadata *md, const char *path, const char *label,
                           const json_t *expected)
{
	json_t *meta = NULL, *schema = NULL;
	const char *sid, *rname;
	const ice_partition_spec *spec;
	const json_t *part;
	conf c = { expected, NULL, label, 0, 0 };
	ice_part_decoder *dec = NULL;
	ice_err err = { 0 };

	if (ice_avro_header_read(path, label, &meta, &err) ||
	    !(schema = ice_avro_header_schema(meta, label, &err))) {
		tap_ok(false, "%s: header (%s)", label, err.msg);
		goto out;
	}
	rname = json_string_value(json_object_get(schema, "name"));
	if (!rname || strcmp(rname, "manifest_entry") != 0)
		goto out; /* a manifest list */
	sid = json_string_value(json_object_get(meta, "partition-spec-id"));
	spec = ice_metadata_spec(md, sid ? atoi(sid) : md->default_spec_id);
	part = field_by_id(json_object_get(field_by_id(schema, 2), "type"), 102);
	if (!tap_ok(spec && ice_part_decoder_new(md, spec, json_object_get(part, "type"), &dec, &err) == 0,
	            "%s: decoder for spec %s (%s)", label, sid ? sid : "default", err.msg))
		goto out;
	c.dec = dec;
	read_entries(&c, path, schema);
	tap_ok(c.entries > 0 && c.matched == c.entries, "%s: %d entries, %d in the expected diffs",
	       label, c.entries, c.matched);
out:
	ice_part_decoder_free(dec);
	json_decref(schema);
	json_decref(meta);
}

static void check_table(const char *root, const char *name, const json_t *expected)
{
	ice_table t;
	ice_metadata *md = NULL;
	char *mdpath = NULL, **files = NULL, *path, label[512];
	ice_err err = { 0 };
	size_t i;

	if (!tap_ok(ice_table_open(root, &t, &err) == 0 && ice_table_current_metadata(&t, &mdpath, &err) == 0 &&
	            ice_metadata_load(mdpath, &md, &err) == 0, "%s: metadata (%s)", name, err.msg))
		goto out;
	files = list_dir(t.metadata_dir);
	for (i = 0; files && files[i]; i++) {
		if (!ends_with(files[i], ".avro") || !(path = ice_path_join(t.metadata_dir, files[i])))
			continue;
		snprintf(label, sizeof label, "%s/%s", name, files[i]);
		check_manifest(md, path, label, expected);
		free(path);
	}
out:
	free_names(files);
	free(mdpath);
	ice_metadata_free(md);
	ice_table_free(&t);
}

/* Tables are the folders holding a metadata/ folder. */
static void walk_tables(const char *dir, const char *name, const json_t *expected, int depth)
{
	char *meta = ice_path_join(dir, "metadata"), **names, *sub, subname[512];
	size_t i;

	if (meta && is_dir(meta)) {
		check_table(dir, name, expected);
	} else if (depth < 6 && (names = list_dir(dir))) {
		for (i = 0; names[i]; i++) {
			if (!(sub = ice_path_join(dir, names[i])))
				continue;
			snprintf(subname, sizeof subname, "%s%s%s", name, *name ? "/" : "", names[i]);
			if (is_dir(sub))
				walk_tables(sub, subname, expected, depth + 1);
			free(sub);
		}
		free_names(names);
	}
	free(meta);
}

static void test_conformance(void)
{
	const char *top = getenv("top_srcdir");
	char tables[4096], expected_dir[4096];
	json_t *expected;

	snprintf(tables, sizeof tables, "%s/../shared/iceberg/tables", top && *top ? top : ".");
	snprintf(expected_dir, sizeof expected_dir, "%s/../shared/iceberg/expected", top && *top ? top : ".");
	if (!is_dir(tables) || !is_dir(expected_dir)) {
		tap_ok(1, "# SKIP conformance: no shared tables at %s", tables);
		return;
	}
	expected = load_expected(expected_dir);
	tap_ok(json_object_size(expected) > 0, "conformance: %zu expected file records",
	       json_object_size(expected));
	walk_tables(tables, "", expected, 0);
	json_decref(expected);
}

void test_partition(void)
{
	test_cases();
	test_multi();
	test_schemas();
	test_errors();
	test_bounds();
	test_conformance();
}
