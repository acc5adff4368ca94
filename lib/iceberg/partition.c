/* partition: decode the partition tuples of manifest entries by partition
 * spec and table schema, and render them as raw JSON values, human strings
 * and Iceberg's partition path (PartitionSpec.partitionToPath), following
 * the transforms' human strings of the Iceberg Java implementation. */
#include "config.h"
#include "ice_partition.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a partition value is: the result type of the field's transform. */
typedef enum {
	PT_NONE, /* not known from the spec: taken from the Avro value */
	PT_BOOLEAN,
	PT_INT,
	PT_LONG,
	PT_FLOAT,
	PT_DOUBLE,
	PT_DATE,
	PT_TIME,
	PT_TIMESTAMP,
	PT_TIMESTAMPTZ,
	PT_TIMESTAMP_NS,
	PT_TIMESTAMPTZ_NS,
	PT_STRING,
	PT_UUID,
	PT_FIXED,
	PT_BINARY,
	PT_DECIMAL,
	PT_YEAR, /* the int ordinals of the year, month and hour transforms */
	PT_MONTH,
	PT_HOUR
} ptype;

static const char *const ptype_names[] = {
	"unknown", "boolean", "int", "long", "float", "double", "date", "time",
	"timestamp", "timestamptz", "timestamp_ns", "timestamptz_ns", "string",
	"uuid", "fixed", "binary", "decimal", "year", "month", "hour"
};

typedef enum { X_IDENTITY, X_BUCKET, X_TRUNCATE, X_YEAR, X_MONTH, X_DAY, X_HOUR, X_VOID, X_OTHER } xform;

typedef struct {
	char *name;        /* the partition field's name */
	char *transform;   /* as written in the spec, for messages */
	char *avro_name;   /* its field in the Avro record; NULL when absent */
	ptype type;
	int scale;         /* of a decimal */
	size_t fixed_size; /* of an Avro fixed field, else 0 */
	bool is_void;
} pfield;

struct ice_part_decoder {
	pfield *fields;
	size_t n;
};

/* One partition value, read from Avro or from a serialized bound. */
typedef struct {
	ptype type;
	bool null;
	bool b;
	int64_t i;              /* every integer type */
	double d;               /* float and double */
	const unsigned char *p; /* strings and bytes: borrowed, or buf */
	size_t len;
	int scale;
	unsigned char buf[32];
} pvalue;

typedef enum { R_KEY, R_HUMAN } rmode;

/* ---- a growing string --------------------------------------------------- */

typedef struct {
	char *p;
	size_t len, cap;
	bool failed; /* out of memory */
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n)
{
	size_t cap;
	char *np;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		for (cap = b->cap ? b->cap : 64; cap < b->len + n + 1; cap *= 2)
			;
		if (!(np = realloc(b->p, cap))) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void sb_putc(sbuf *b, char c)
{
	sb_putn(b, &c, 1);
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* For short numeric output only. */
static void sb_printf(sbuf *b, const char *fmt, ...)
{
	char tmp[96];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		b->failed = true;
	else
		sb_putn(b, tmp, (size_t)n);
}

/* ---- calendar ------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

typedef struct {
	int64_t year;
	int month, day;
} civil;

/* The proleptic Gregorian date `days` after 1970-01-01 (negative: before),
 * counted in 400-year eras of 146097 days starting on March 1st. */
static civil civil_from_days(int64_t days)
{
	int64_t z = days + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	civil c;

	c.day = (int)(doy - (153 * mp + 2) / 5 + 1);
	c.month = (int)(mp < 10 ? mp + 3 : mp - 9);
	c.year = yoe + era * 400 + (c.month <= 2);
	return c;
}

/* Years as Iceberg's humanYear/Month/Day/Hour print them. */
static void put_year4(sbuf *b, int64_t y)
{
	sb_printf(b, "%04" PRId64, y);
}

/* Years as Java's ISO_LOCAL_DATE prints them (sign beyond 4 digits). */
static void put_iso_year(sbuf *b, int64_t y)
{
	if (y > 9999)
		sb_printf(b, "+%" PRId64, y);
	else if (y < 0)
		sb_printf(b, "-%04" PRId64, -y);
	else
		sb_printf(b, "%04" PRId64, y);
}

static void put_day(sbuf *b, int64_t days)
{
	civil c = civil_from_days(days);

	put_year4(b, c.year);
	sb_printf(b, "-%02d-%02d", c.month, c.day);
}

static void put_month(sbuf *b, int64_t months)
{
	put_year4(b, 1970 + floor_div(months, 12));
	sb_printf(b, "-%02d", (int)floor_mod(months, 12) + 1);
}

static void put_hour(sbuf *b, int64_t hours)
{
	put_day(b, floor_div(hours, 24));
	sb_printf(b, "-%02d", (int)floor_mod(hours, 24));
}

/* Java's LocalTime.toString(): HH:mm, then :ss and a fraction of 3, 6 or 9
 * digits only when not zero. */
static void put_local_time(sbuf *b, int64_t nanos_of_day)
{
	int64_t secs = nanos_of_day / 1000000000, ns = nanos_of_day % 1000000000;

	sb_printf(b, "%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60));
	if (secs % 60 == 0 && ns == 0)
		return;
	sb_printf(b, ":%02d", (int)(secs % 60));
	if (ns == 0)
		return;
	if (ns % 1000000 == 0)
		sb_printf(b, ".%03d", (int)(ns / 1000000));
	else if (ns % 1000 == 0)
		sb_printf(b, ".%06d", (int)(ns / 1000));
	else
		sb_printf(b, ".%09d", (int)ns);
}

/* Java's ISO_LOCAL_DATE_TIME (seconds always, the fraction without its
 * trailing zeros), then "+00:00" for timestamps with zone, as Iceberg's
 * DateTimeUtil.microsToIsoTimestamp[tz] and nanosToIsoTimestamp[tz]. */
static void put_iso_timestamp(sbuf *b, int64_t v, int64_t per_sec, bool tz)
{
	int64_t per_day = per_sec * 86400;
	int64_t rem = floor_mod(v, per_day), secs = rem / per_sec;
	int64_t ns = (rem % per_sec) * (1000000000 / per_sec);
	civil c = civil_from_days(floor_div(v, per_day));
	char frac[16];
	int n;

	put_iso_year(b, c.year);
	sb_printf(b, "-%02d-%02dT%02d:%02d:%02d", c.month, c.day, (int)(secs / 3600),
	          (int)(secs / 60 % 60), (int)(secs % 60));
	if (ns) {
		n = snprintf(frac, sizeof frac, ".%09" PRId64, ns);
		while (n > 1 && frac[n - 1] == '0')
			n--;
		sb_putn(b, frac, (size_t)n);
	}
	if (tz)
		sb_puts(b, "+00:00");
}

/* ---- numbers -------------------------------------------------------------- */

/* The shortest decimal digits that read back as v (as a float when
 * `single`), closest to v; two digits when one would do, as Java 19+'s
 * Double/Float.toString choose. digits gets them without trailing zeros,
 * *exp10 the exponent of the first digit. */
static void shortest_digits(double v, bool single, char *digits, size_t size, int *exp10)
{
	char tmp[48];
	int prec, max = single ? 9 : 17;
	size_t n = 0;
	const char *s;

	for (prec = 1; prec < max; prec++) {
		snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
		if (single ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v)
			break;
	}
	if (prec == 1)
		prec = 2;
	snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
	for (s = tmp; *s && *s != 'e'; s++)
		if (isdigit((unsigned char)*s) && n + 1 < size)
			digits[n++] = *s;
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	*exp10 = *s == 'e' ? atoi(s + 1) : 0;
}

/* Java's Float.toString / Double.toString of a finite non-zero value. */
static void put_java_finite(sbuf *b, double v, bool single)
{
	char dg[32];
	int e, k, nd;

	shortest_digits(v, single, dg, sizeof dg, &e);
	nd = (int)strlen(dg);
	if (v < 0)
		sb_putc(b, '-');
	if (fabs(v) < 1e-3 || fabs(v) >= 1e7) {
		sb_putc(b, dg[0]);
		sb_putc(b, '.');
		sb_puts(b, nd > 1 ? dg + 1 : "0");
		sb_printf(b, "E%d", e);
	} else if (e < 0) {
		sb_puts(b, "0.");
		for (k = -1; k > e; k--)
			sb_putc(b, '0');
		sb_puts(b, dg);
	} else {
		for (k = 0; k <= e; k++)
			sb_putc(b, k < nd ? dg[k] : '0');
		sb_putc(b, '.');
		sb_puts(b, nd > e + 1 ? dg + e + 1 : "0");
	}
}

static void put_java_float(sbuf *b, double v, bool single)
{
	if (isnan(v))
		sb_puts(b, "NaN");
	else if (isinf(v))
		sb_puts(b, v > 0 ? "Infinity" : "-Infinity");
	else if (v == 0)
		sb_puts(b, signbit(v) ? "-0.0" : "0.0");
	else
		put_java_finite(b, v, single);
}

/* The magnitude of a big-endian two's complement integer as decimal
 * digits (malloc'd; NULL when out of memory); *neg tells its sign. */
static char *bigint_digits(const unsigned char *p, size_t n, bool *neg)
{
	unsigned char *mag = malloc(n + 1);
	char *dg = malloc(n * 3 + 2);
	size_t i, start = 0, nd = 0;
	unsigned carry = 1, rem;

	*neg = n > 0 && (p[0] & 0x80);
	if (!mag || !dg)
		goto out;
	for (i = n; i-- > 0;) {
		mag[i] = *neg ? (unsigned char)(~p[i] + carry) : p[i];
		carry = *neg && carry && p[i] == 0;
	}
	for (;;) {
		while (start < n && mag[start] == 0)
			start++;
		if (start == n && nd > 0)
			break;
		for (rem = 0, i = start; i < n; i++) {
			rem = rem * 256 + mag[i];
			mag[i] = (unsigned char)(rem / 10);
			rem %= 10;
		}
		dg[nd++] = (char)('0' + rem);
	}
	for (i = 0; i < nd / 2; i++) {
		char c = dg[i];
		dg[i] = dg[nd - 1 - i];
		dg[nd - 1 - i] = c;
	}
	dg[nd] = '\0';
out:
	if (!mag) {
		free(dg);
		dg = NULL;
	}
	free(mag);
	return dg;
}

/* Java's BigDecimal.toString() of unscaled bytes with `scale`. */
static void put_decimal(sbuf *b, const unsigned char *p, size_t n, int scale)
{
	bool neg;
	char *dg = bigint_digits(p, n, &neg);
	int64_t nd, adjusted, k;

	if (!dg) {
		b->failed = true;
		return;
	}
	nd = (int64_t)strlen(dg);
	adjusted = nd - 1 - scale;
	if (neg)
		sb_putc(b, '-');
	if (scale == 0) {
		sb_puts(b, dg);
	} else if (scale > 0 && adjusted >= -6) {
		if (scale >= nd) {
			sb_puts(b, "0.");
			for (k = nd; k < scale; k++)
				sb_putc(b, '0');
			sb_puts(b, dg);
		} else {
			sb_putn(b, dg, (size_t)(nd - scale));
			sb_putc(b, '.');
			sb_puts(b, dg + nd - scale);
		}
	} else {
		sb_putc(b, dg[0]);
		if (nd > 1) {
			sb_putc(b, '.');
			sb_puts(b, dg + 1);
		}
		sb_printf(b, "E%s%" PRId64, adjusted > 0 ? "+" : "", adjusted);
	}
	free(dg);
}

/* ---- bytes and text ------------------------------------------------------ */

static void put_hex(sbuf *b, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		sb_putc(b, digits[p[i] >> 4]);
		sb_putc(b, digits[p[i] & 15]);
	}
}

static void put_base64(sbuf *b, const unsigned char *p, size_t n)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];
	size_t i;
	uint32_t w;

	for (i = 0; i < n; i += 3) {
		w = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			w |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			w |= p[i + 2];
		q[0] = abc[w >> 18 & 63];
		q[1] = abc[w >> 12 & 63];
		q[2] = i + 1 < n ? abc[w >> 6 & 63] : '=';
		q[3] = i + 2 < n ? abc[w & 63] : '=';
		sb_putn(b, q, 4);
	}
}

static void put_uuid(sbuf *b, const unsigned char *p)
{
	put_hex(b, p, 4);
	sb_putc(b, '-');
	put_hex(b, p + 4, 2);
	sb_putc(b, '-');
	put_hex(b, p + 6, 2);
	sb_putc(b, '-');
	put_hex(b, p + 8, 2);
	sb_putc(b, '-');
	put_hex(b, p + 10, 6);
}

/* Length of the well-formed UTF-8 sequence at p (n bytes left), 0 if none. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	uint32_t cp, min;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1fu, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0fu, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07u, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	return (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) ? 0 : len;
}

/* Text as UTF-8, each byte of a malformed sequence replaced by U+FFFD (as
 * Java decodes it). */
static void put_utf8(sbuf *b, const unsigned char *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((k = utf8_seq(p + i, n - i)) == 0) {
			sb_puts(b, "\xef\xbf\xbd");
			i++;
		} else {
			sb_putn(b, (const char *)p + i, k);
			i += k;
		}
	}
}

/* Java's URLEncoder.encode(s, UTF-8). */
static void put_url_encoded(sbuf *b, const char *s, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	unsigned char c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c < 0x80 && isalnum(c)) || c == '.' || c == '-' || c == '*' || c == '_') {
			sb_putc(b, (char)c);
		} else if (c == ' ') {
			sb_putc(b, '+');
		} else {
			sb_putc(b, '%');
			sb_putc(b, digits[c >> 4]);
			sb_putc(b, digits[c & 15]);
		}
	}
}

/* ---- rendering ----------------------------------------------------------- */

/* The human string of a non-null value: the transform's toHumanString for
 * the key; for `human`, the same but binary and fixed as hex. */
static void put_text(sbuf *b, const pvalue *v, rmode mode)
{
	switch (v->type) {
	case PT_BOOLEAN: sb_puts(b, v->b ? "true" : "false"); break;
	case PT_FLOAT: put_java_float(b, v->d, true); break;
	case PT_DOUBLE: put_java_float(b, v->d, false); break;
	case PT_DATE: put_day(b, v->i); break;
	case PT_TIME: put_local_time(b, v->i * 1000); break;
	case PT_TIMESTAMP: put_iso_timestamp(b, v->i, 1000000, false); break;
	case PT_TIMESTAMPTZ: put_iso_timestamp(b, v->i, 1000000, true); break;
	case PT_TIMESTAMP_NS: put_iso_timestamp(b, v->i, 1000000000, false); break;
	case PT_TIMESTAMPTZ_NS: put_iso_timestamp(b, v->i, 1000000000, true); break;
	case PT_STRING: put_utf8(b, v->p, v->len); break;
	case PT_UUID: put_uuid(b, v->p); break;
	case PT_FIXED:
	case PT_BINARY:
		if (mode == R_KEY)
			put_base64(b, v->p, v->len);
		else
			put_hex(b, v->p, v->len);
		break;
	case PT_DECIMAL: put_decimal(b, v->p, v->len, v->scale); break;
	case PT_YEAR: put_year4(b, 1970 + v->i); break;
	case PT_MONTH: put_month(b, v->i); break;
	case PT_HOUR: put_hour(b, v->i); break;
	case PT_INT:
	case PT_LONG:
	case PT_NONE: sb_printf(b, "%" PRId64, v->i); break;
	}
}

static json_t *json_from_sbuf(sbuf *b)
{
	json_t *j = b->failed ? NULL : json_stringn(b->p ? b->p : "", b->len);

	free(b->p);
	return j;
}

static json_t *raw_json(const pvalue *v)
{
	sbuf b = { 0 };

	if (v->null)
		return json_null();
	switch (v->type) {
	case PT_BOOLEAN:
		return json_boolean(v->b);
	case PT_FLOAT:
	case PT_DOUBLE:
		if (isfinite(v->d))
			return json_real(v->d);
		return json_string(isnan(v->d) ? "NaN" : v->d > 0 ? "Infinity" : "-Infinity");
	case PT_STRING:
		put_utf8(&b, v->p, v->len);
		return json_from_sbuf(&b);
	case PT_UUID:
	case PT_FIXED:
	case PT_BINARY:
	case PT_DECIMAL:
		put_hex(&b, v->p, v->len);
		return json_from_sbuf(&b);
	default:
		return json_integer(v->i);
	}
}

static json_t *human_json(const pvalue *v)
{
	sbuf b = { 0 };

	if (v->null)
		return json_null();
	put_text(&b, v, R_HUMAN);
	return json_from_sbuf(&b);
}

/* Append "name=value" to a partition path. */
static void put_key_part(sbuf *b, const pfield *f, const pvalue *v)
{
	sbuf t = { 0 };

	put_url_encoded(b, f->name, strlen(f->name));
	sb_putc(b, '=');
	if (v->null) {
		sb_puts(b, "null");
		return;
	}
	put_text(&t, v, R_KEY);
	if (t.failed)
		b->failed = true;
	else
		put_url_encoded(b, t.p ? t.p : "", t.len);
	free(t.p);
}

/* ---- types from the table schema and the Avro schema ---------------------- */

static bool name_is(const char *s, const char *a, const char *b)
{
	return strcmp(s, a) == 0 || (b && strcmp(s, b) == 0);
}

static xform parse_transform(const char *t)
{
	char s[24];
	size_t i;

	for (i = 0; t[i] && i + 1 < sizeof s; i++)
		s[i] = (char)tolower((unsigned char)t[i]);
	s[i] = '\0';
	if (name_is(s, "identity", NULL))
		return X_IDENTITY;
	if (strncmp(s, "bucket[", 7) == 0)
		return X_BUCKET;
	if (strncmp(s, "truncate[", 9) == 0)
		return X_TRUNCATE;
	if (name_is(s, "year", "years"))
		return X_YEAR;
	if (name_is(s, "month", "months"))
		return X_MONTH;
	if (name_is(s, "day", "days"))
		return X_DAY;
	if (name_is(s, "hour", "hours"))
		return X_HOUR;
	if (name_is(s, "void", NULL))
		return X_VOID;
	return X_OTHER;
}

/* A primitive Iceberg type name ("decimal(9, 2)", "timestamptz"). */
static ptype iceberg_ptype(const json_t *type, int *scale)
{
	static const struct {
		const char *name;
		ptype type;
	} names[] = {
		{ "boolean", PT_BOOLEAN }, { "int", PT_INT }, { "long", PT_LONG },
		{ "float", PT_FLOAT }, { "double", PT_DOUBLE }, { "date", PT_DATE },
		{ "time", PT_TIME }, { "timestamp", PT_TIMESTAMP }, { "timestamptz", PT_TIMESTAMPTZ },
		{ "timestamp_ns", PT_TIMESTAMP_NS }, { "timestamptz_ns", PT_TIMESTAMPTZ_NS },
		{ "string", PT_STRING }, { "uuid", PT_UUID }, { "binary", PT_BINARY },
	};
	const char *s = json_string_value(type);
	size_t i;

	if (!s)
		return PT_NONE;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].type;
	if (strncmp(s, "fixed[", 6) == 0)
		return PT_FIXED;
	if (sscanf(s, "decimal(%*d ,%d )", scale) == 1)
		return PT_DECIMAL;
	return PT_NONE;
}

static bool json_id_is(const json_t *o, const char *key, int id)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) == id;
}

/* The type of the field `id` anywhere inside an Iceberg (nested) type. */
static const json_t *find_field_type(const json_t *type, int id)
{
	const json_t *fields = json_object_get(type, "fields"), *f, *r;
	size_t i;

	if (!json_is_object(type))
		return NULL;
	for (i = 0; i < json_array_size(fields); i++) {
		f = json_array_get(fields, i);
		if (json_id_is(f, "id", id))
			return json_object_get(f, "type");
		if ((r = find_field_type(json_object_get(f, "type"), id)))
			return r;
	}
	if (json_id_is(type, "element-id", id))
		return json_object_get(type, "element");
	if (json_id_is(type, "key-id", id))
		return json_object_get(type, "key");
	if (json_id_is(type, "value-id", id))
		return json_object_get(type, "value");
	if ((r = find_field_type(json_object_get(type, "element"), id)) ||
	    (r = find_field_type(json_object_get(type, "key"), id)))
		return r;
	return find_field_type(json_object_get(type, "value"), id);
}

/* The source column's type: in the current schema, else in any other. */
static const json_t *source_type(const ice_metadata *md, int source_id)
{
	const json_t *cur, *s, *r;
	size_t i;

	if (!md)
		return NULL;
	cur = ice_metadata_schema(md, md->current_schema_id);
	if (cur && (r = find_field_type(cur, source_id)))
		return r;
	for (i = 0; i < json_array_size(md->schemas); i++) {
		s = json_array_get(md->schemas, i);
		if (s != cur && (r = find_field_type(s, source_id)))
			return r;
	}
	return NULL;
}

static bool json_truthy(const json_t *v)
{
	return json_is_true(v) || (json_is_string(v) && strcmp(json_string_value(v), "true") == 0);
}

/* Timestamps: adjust-to-utc absent means UTC, as Iceberg reads Avro. */
static ptype avro_long_ptype(const json_t *t, const char *logical)
{
	const json_t *adj = json_object_get(t, "adjust-to-utc");
	bool utc = !adj || json_truthy(adj);

	if (strcmp(logical, "time-micros") == 0)
		return PT_TIME;
	if (strcmp(logical, "timestamp-micros") == 0)
		return utc ? PT_TIMESTAMPTZ : PT_TIMESTAMP;
	if (strcmp(logical, "local-timestamp-micros") == 0)
		return PT_TIMESTAMP;
	if (strcmp(logical, "timestamp-nanos") == 0)
		return utc ? PT_TIMESTAMPTZ_NS : PT_TIMESTAMP_NS;
	if (strcmp(logical, "local-timestamp-nanos") == 0)
		return PT_TIMESTAMP_NS;
	return PT_LONG;
}

/* What an Avro field type (a union with null, a name or a schema object)
 * says a value is, with the decimal scale and the fixed size. */
static ptype avro_ptype(const json_t *t, int *scale, size_t *fixed_size)
{
	const char *name, *logical;
	size_t i;

	for (i = 0; json_is_array(t) && i < json_array_size(t); i++)
		if (!json_is_string(json_array_get(t, i)) ||
		    strcmp(json_string_value(json_array_get(t, i)), "null") != 0) {
			t = json_array_get(t, i);
			break;
		}
	name = json_is_string(t) ? json_string_value(t) : json_string_value(json_object_get(t, "type"));
	logical = json_string_value(json_object_get(t, "logicalType"));
	if (!logical)
		logical = "";
	*scale = (int)json_integer_value(json_object_get(t, "scale"));
	if (!name)
		return PT_NONE;
	if (strcmp(name, "fixed") == 0)
		*fixed_size = (size_t)json_integer_value(json_object_get(t, "size"));
	if (strcmp(logical, "decimal") == 0 && (!strcmp(name, "fixed") || !strcmp(name, "bytes")))
		return PT_DECIMAL;
	if (strcmp(logical, "uuid") == 0 && (!strcmp(name, "fixed") || !strcmp(name, "string")))
		return PT_UUID;
	if (strcmp(name, "int") == 0)
		return strcmp(logical, "date") == 0 ? PT_DATE : PT_INT;
	if (strcmp(name, "long") == 0)
		return avro_long_ptype(t, logical);
	if (strcmp(name, "boolean") == 0)
		return PT_BOOLEAN;
	if (strcmp(name, "float") == 0)
		return PT_FLOAT;
	if (strcmp(name, "double") == 0)
		return PT_DOUBLE;
	if (strcmp(name, "string") == 0)
		return PT_STRING;
	if (strcmp(name, "bytes") == 0)
		return PT_BINARY;
	return strcmp(name, "fixed") == 0 ? PT_FIXED : PT_NONE;
}

static const json_t *avro_field_by_id(const json_t *fields, int id)
{
	size_t i;

	for (i = 0; i < json_array_size(fields); i++)
		if (json_id_is(json_array_get(fields, i), "field-id", id))
			return json_array_get(fields, i);
	return NULL;
}

/* The result type of the transform, from the source column's type when
 * known, else from the Avro field's type. */
static void field_type(pfield *f, xform x, const json_t *src, const json_t *afield)
{
	int sscale = 0, ascale = 0;
	ptype st = iceberg_ptype(src, &sscale);
	ptype at = afield ? avro_ptype(json_object_get(afield, "type"), &ascale, &f->fixed_size) : PT_NONE;

	f->is_void = x == X_VOID;
	switch (x) {
	case X_BUCKET: f->type = PT_INT; break;
	case X_YEAR: f->type = PT_YEAR; break;
	case X_MONTH: f->type = PT_MONTH; break;
	case X_DAY: f->type = PT_DATE; break;
	case X_HOUR: f->type = PT_HOUR; break;
	case X_OTHER: f->type = at; f->scale = ascale; break;
	default:
		f->type = st != PT_NONE ? st : at;
		f->scale = st != PT_NONE ? sscale : ascale;
		break;
	}
}

static int field_init(pfield *f, const ice_metadata *md, const ice_partition_field *pf,
                      const json_t *afields, ice_err *err)
{
	const json_t *afield = avro_field_by_id(afields, pf->field_id);
	const char *aname = json_string_value(json_object_get(afield, "name"));

	if (afield && !aname)
		return ice_err_set(err, ICE_EFORMAT, "partition field '%s': Avro field %d has no name",
		                   pf->name, pf->field_id);
	f->name = strdup(pf->name);
	f->transform = strdup(pf->transform);
	f->avro_name = aname ? strdup(aname) : NULL;
	if (!f->name || !f->transform || (aname && !f->avro_name))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	field_type(f, parse_transform(pf->transform), source_type(md, pf->source_id), afield);
	return ICE_OK;
}

int ice_part_decoder_new(const ice_metadata *md, const ice_partition_spec *spec,
                         const json_t *avro_record_schema, ice_part_decoder **out,
                         ice_err *err)
{
	const json_t *afields = json_object_get(avro_record_schema, "fields");
	ice_part_decoder *d = NULL;
	int rc = ICE_OK;
	size_t i;

	if (!out || !spec)
		return ice_err_set(err, ICE_EINVAL, "partition decoder: no spec");
	*out = NULL;
	if (!json_is_array(afields))
		return ice_err_set(err, ICE_EFORMAT, "partition spec %d: the Avro partition schema "
		                   "is not a record", spec->spec_id);
	if (!(d = calloc(1, sizeof *d)) || !(d->fields = calloc(spec->n_fields + 1, sizeof *d->fields))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	d->n = spec->n_fields;
	for (i = 0; i < d->n; i++)
		if ((rc = field_init(&d->fields[i], md, &spec->fields[i], afields, err)))
			goto out;
	*out = d;
	d = NULL;
out:
	ice_part_decoder_free(d);
	return rc;
}

void ice_part_decoder_free(ice_part_decoder *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; d->fields && i < d->n; i++) {
		free(d->fields[i].name);
		free(d->fields[i].transform);
		free(d->fields[i].avro_name);
	}
	free(d->fields);
	free(d);
}

size_t ice_part_decoder_size(const ice_part_decoder *d)
{
	return d ? d->n : 0;
}

/* ---- reading values -------------------------------------------------------- */

static const char *avro_type_name(avro_type_t t)
{
	switch (t) {
	case AVRO_STRING: return "string";
	case AVRO_BYTES: return "bytes";
	case AVRO_INT32: return "int";
	case AVRO_INT64: return "long";
	case AVRO_FLOAT: return "float";
	case AVRO_DOUBLE: return "double";
	case AVRO_BOOLEAN: return "boolean";
	case AVRO_NULL: return "null";
	case AVRO_RECORD: return "record";
	case AVRO_ENUM: return "enum";
	case AVRO_FIXED: return "fixed";
	case AVRO_MAP: return "map";
	case AVRO_ARRAY: return "array";
	case AVRO_UNION: return "union";
	default: return "unknown";
	}
}

static ptype ptype_of_avro(avro_type_t t)
{
	switch (t) {
	case AVRO_BOOLEAN: return PT_BOOLEAN;
	case AVRO_INT32: return PT_INT;
	case AVRO_INT64: return PT_LONG;
	case AVRO_FLOAT: return PT_FLOAT;
	case AVRO_DOUBLE: return PT_DOUBLE;
	case AVRO_STRING: return PT_STRING;
	case AVRO_BYTES: return PT_BINARY;
	case AVRO_FIXED: return PT_FIXED;
	default: return PT_NONE;
	}
}

static int mismatch(const pfield *f, const char *what, ice_err *err)
{
	return ice_err_set(err, ICE_EFORMAT, "partition field '%s' (%s): %s does not fit type %s",
	                   f->name, f->transform, what, ptype_names[f->type == PT_NONE ? 0 : f->type]);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A UUID written as text: 32 hex digits, dashes ignored. */
static bool parse_uuid(const char *s, size_t n, unsigned char *out)
{
	size_t i, k = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '-')
			continue;
		if (k == 16 || i + 1 >= n || (hi = hexval(s[i])) < 0 || (lo = hexval(s[i + 1])) < 0)
			return false;
		out[k++] = (unsigned char)(hi << 4 | lo);
		i++;
	}
	return k == 16;
}

static int read_int(avro_value_t *v, avro_type_t t, int64_t *out)
{
	int32_t i32 = 0;
	int rc;

	if (t == AVRO_INT64)
		return avro_value_get_long(v, out);
	rc = avro_value_get_int(v, &i32);
	*out = i32;
	return rc;
}

static int read_bytes(avro_value_t *v, avro_type_t t, pvalue *pv)
{
	const void *p = NULL;
	size_t n = 0;
	int rc;

	if (t == AVRO_STRING) {
		const char *s = NULL;
		rc = avro_value_get_string(v, &s, &n);
		p = s;
		n = n ? n - 1 : 0; /* avro-c counts the terminating NUL */
	} else if (t == AVRO_FIXED) {
		rc = avro_value_get_fixed(v, &p, &n);
	} else {
		rc = avro_value_get_bytes(v, &p, &n);
	}
	pv->p = p ? p : (const unsigned char *)"";
	pv->len = n;
	return rc;
}

/* Which Avro types carry a value of type `pt`. */
static bool avro_fits(ptype pt, avro_type_t t)
{
	switch (pt) {
	case PT_BOOLEAN: return t == AVRO_BOOLEAN;
	case PT_INT: case PT_DATE: case PT_YEAR: case PT_MONTH: case PT_HOUR:
		return t == AVRO_INT32;
	case PT_LONG: case PT_TIME: case PT_TIMESTAMP: case PT_TIMESTAMPTZ:
	case PT_TIMESTAMP_NS: case PT_TIMESTAMPTZ_NS:
		return t == AVRO_INT64 || t == AVRO_INT32; /* int promoted to long */
	case PT_FLOAT: return t == AVRO_FLOAT;
	case PT_DOUBLE: return t == AVRO_DOUBLE || t == AVRO_FLOAT;
	case PT_STRING: return t == AVRO_STRING;
	case PT_UUID: return t == AVRO_FIXED || t == AVRO_BYTES || t == AVRO_STRING;
	case PT_FIXED: case PT_BINARY: case PT_DECIMAL:
		return t == AVRO_FIXED || t == AVRO_BYTES;
	default: return false;
	}
}

static int read_scalar(avro_value_t *v, avro_type_t t, pvalue *pv)
{
	float fl = 0;
	int b = 0, rc;

	switch (t) {
	case AVRO_BOOLEAN:
		rc = avro_value_get_boolean(v, &b);
		pv->b = b != 0;
		return rc;
	case AVRO_FLOAT:
		rc = avro_value_get_float(v, &fl);
		pv->d = fl;
		return rc;
	case AVRO_DOUBLE:
		return avro_value_get_double(v, &pv->d);
	case AVRO_INT32:
	case AVRO_INT64:
		return read_int(v, t, &pv->i);
	default:
		return read_bytes(v, t, pv);
	}
}

/* Values the renderings cannot show. */
static int check_value(const pfield *f, pvalue *v, ice_err *err)
{
	char what[64];

	if (v->type == PT_TIME && (v->i < 0 || v->i >= INT64_C(86400000000))) {
		snprintf(what, sizeof what, "time %" PRId64 " (outside a day)", v->i);
		return mismatch(f, what, err);
	}
	if (v->type == PT_UUID && v->p != v->buf && v->len != 16) {
		snprintf(what, sizeof what, "a uuid of %zu bytes", v->len);
		return mismatch(f, what, err);
	}
	if (v->type == PT_DECIMAL && v->len > 1024)
		return mismatch(f, "a decimal over 1024 bytes", err);
	return ICE_OK;
}

static int avro_value_of(const pfield *f, avro_value_t *v, pvalue *pv, ice_err *err)
{
	avro_value_t branch;
	avro_type_t t = avro_value_get_type(v);
	char what[64];

	if (t == AVRO_UNION) {
		if (avro_value_get_current_branch(v, &branch))
			return mismatch(f, "an Avro union without a branch", err);
		v = &branch;
		t = avro_value_get_type(v);
	}
	if (t == AVRO_NULL) {
		pv->null = true;
		return ICE_OK;
	}
	pv->type = f->type != PT_NONE ? f->type : ptype_of_avro(t);
	pv->scale = f->scale;
	snprintf(what, sizeof what, "an Avro %s", avro_type_name(t));
	if (!avro_fits(pv->type, t))
		return mismatch(f, what, err);
	if (read_scalar(v, t, pv))
		return mismatch(f, what, err);
	if (pv->type == PT_UUID && t == AVRO_STRING) {
		if (!parse_uuid((const char *)pv->p, pv->len, pv->buf))
			return mismatch(f, "a uuid string that is no uuid", err);
		pv->p = pv->buf;
		pv->len = 16;
	}
	return check_value(f, pv, err);
}

/* The partition value of field f in the record. */
static int field_value(const pfield *f, avro_value_t *rec, pvalue *pv, ice_err *err)
{
	avro_value_t child;

	memset(pv, 0, sizeof *pv);
	if (f->is_void || !f->avro_name) {
		pv->null = true;
		return ICE_OK;
	}
	if (avro_value_get_by_name(rec, f->avro_name, &child, NULL))
		return ice_err_set(err, ICE_EFORMAT, "partition field '%s': no field '%s' in the "
		                   "Avro partition record", f->name, f->avro_name);
	return avro_value_of(f, &child, pv, err);
}

static int emit(const pfield *f, const pvalue *v, json_t *raw, json_t *human, sbuf *key,
                ice_err *err)
{
	if ((raw && json_object_set_new(raw, f->name, raw_json(v))) ||
	    (human && json_object_set_new(human, f->name, human_json(v))))
		return ice_err_set(err, ICE_ENOMEM, "partition field '%s': out of memory", f->name);
	if (key) {
		if (key->len)
			sb_putc(key, '/');
		put_key_part(key, f, v);
		if (key->failed)
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	return ICE_OK;
}

static int decode_fields(const ice_part_decoder *d, avro_value_t *value, json_t *raw,
                         json_t *human, sbuf *key, ice_err *err)
{
	pvalue v;
	size_t i;
	int rc;

	if (d->n && (!value || avro_value_get_type(value) != AVRO_RECORD))
		return ice_err_set(err, ICE_EFORMAT, "the partition value is not an Avro record");
	for (i = 0; i < d->n; i++)
		if ((rc = field_value(&d->fields[i], value, &v, err)) ||
		    (rc = emit(&d->fields[i], &v, raw, human, key, err)))
			return rc;
	return ICE_OK;
}

int ice_part_decode(const ice_part_decoder *d, avro_value_t *value, json_t **raw,
                    json_t **human, char **key, ice_err *err)
{
	json_t *r = raw ? json_object() : NULL, *h = human ? json_object() : NULL;
	sbuf k = { 0 };
	int rc;

	if (raw)
		*raw = NULL;
	if (human)
		*human = NULL;
	if (key)
		*key = NULL;
	if ((raw && !r) || (human && !h) || (key && !(k.p = calloc(1, 1)))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	k.cap = k.p ? 1 : 0;
	if ((rc = decode_fields(d, value, r, h, key ? &k : NULL, err)))
		goto out;
	if (raw)
		*raw = json_incref(r);
	if (human)
		*human = json_incref(h);
	if (key) {
		*key = k.p;
		k.p = NULL;
	}
out:
	json_decref(r);
	json_decref(h);
	free(k.p);
	return rc;
}

/* ---- single-value serialization ------------------------------------------- */

static uint64_t le_bytes(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

static int64_t le_signed(const unsigned char *p, size_t n)
{
	uint64_t v = le_bytes(p, n);

	if (n < 8 && (v >> (8 * n - 1) & 1))
		v |= ~UINT64_C(0) << (8 * n);
	return (int64_t)v;
}

static double le_float(const unsigned char *p, size_t n)
{
	uint64_t bits = le_bytes(p, n);
	uint32_t b32 = (uint32_t)bits;
	float f;
	double d;

	if (n == 4) {
		memcpy(&f, &b32, sizeof f);
		return f;
	}
	memcpy(&d, &bits, sizeof d);
	return d;
}

/* A minimal decimal bound, sign-extended to the Avro fixed size. */
static void decimal_bound(const pfield *f, const unsigned char *p, size_t len, pvalue *v)
{
	size_t pad;

	v->p = p;
	v->len = len;
	if (f->fixed_size <= len || f->fixed_size > sizeof v->buf)
		return;
	pad = f->fixed_size - len;
	memset(v->buf, len && (p[0] & 0x80) ? 0xff : 0, pad);
	if (len)
		memcpy(v->buf + pad, p, len);
	v->p = v->buf;
	v->len = f->fixed_size;
}

static bool bound_len_ok(ptype t, size_t len)
{
	switch (t) {
	case PT_BOOLEAN: return len == 1;
	case PT_INT: case PT_DATE: case PT_YEAR: case PT_MONTH: case PT_HOUR: case PT_FLOAT:
		return len == 4;
	case PT_LONG: case PT_TIME: case PT_TIMESTAMP: case PT_TIMESTAMPTZ:
	case PT_TIMESTAMP_NS: case PT_TIMESTAMPTZ_NS: case PT_DOUBLE:
		return len == 8 || len == 4; /* written before int->long or float->double */
	case PT_UUID: return len == 16;
	case PT_STRING: case PT_FIXED: case PT_BINARY: case PT_DECIMAL: return true;
	default: return false;
	}
}

static int bound_value(const pfield *f, const unsigned char *p, size_t len, pvalue *v,
                       ice_err *err)
{
	char what[64];

	v->type = f->type;
	v->scale = f->scale;
	if (!bound_len_ok(f->type, len)) {
		snprintf(what, sizeof what, "a bound of %zu bytes", len);
		return mismatch(f, what, err);
	}
	if (f->type == PT_BOOLEAN)
		v->b = p[0] != 0;
	else if (f->type == PT_FLOAT || f->type == PT_DOUBLE)
		v->d = le_float(p, len);
	else if (f->type == PT_DECIMAL)
		decimal_bound(f, p, len, v);
	else if (f->type == PT_STRING || f->type == PT_UUID || f->type == PT_FIXED ||
	         f->type == PT_BINARY)
		v->len = len, v->p = p;
	else
		v->i = le_signed(p, len);
	return check_value(f, v, err);
}

int ice_part_bound_to_json(const ice_part_decoder *d, size_t field_index, const void *bytes,
                           size_t len, json_t **out, ice_err *err)
{
	const pfield *f;
	pvalue v;
	int rc;

	*out = NULL;
	if (!d || field_index >= d->n)
		return ice_err_set(err, ICE_EINVAL, "partition field %zu out of range (the spec has %zu)",
		                   field_index, d ? d->n : 0);
	f = &d->fields[field_index];
	memset(&v, 0, sizeof v);
	if (!bytes || f->is_void)
		v.null = true;
	else if ((rc = bound_value(f, bytes, len, &v, err)))
		return rc;
	if (!(*out = raw_json(&v)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}
