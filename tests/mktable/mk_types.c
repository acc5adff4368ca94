/* ice-mktable: Iceberg types, schemas, partition specs and partition values
 * (parsing, human/path rendering, single-value serialization, Avro types,
 * and deterministic generation of partition values and column bounds). */
#include "mktable.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MICROS_PER_HOUR 3600000000LL
#define MICROS_PER_DAY 86400000000LL

static const struct {
	const char *name;
	enum mk_tkind kind;
} tnames[] = {
	{"boolean", T_BOOLEAN}, {"int", T_INT}, {"long", T_LONG}, {"float", T_FLOAT},
	{"double", T_DOUBLE}, {"date", T_DATE}, {"time", T_TIME}, {"timestamp", T_TIMESTAMP},
	{"timestamptz", T_TIMESTAMPTZ}, {"timestamp_ns", T_TIMESTAMP_NS},
	{"timestamptz_ns", T_TIMESTAMPTZ_NS}, {"string", T_STRING}, {"uuid", T_UUID},
	{"binary", T_BINARY},
};

int mk_type_parse(const char *s, mk_type *t)
{
	int p, sc, n = 0;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < sizeof(tnames) / sizeof(tnames[0]); i++) {
		if (strcmp(s, tnames[i].name) == 0) {
			t->kind = tnames[i].kind;
			return 0;
		}
	}
	if (sscanf(s, "decimal(%d ,%d )%n", &p, &sc, &n) == 2 && s[n] == '\0' &&
	    p >= 1 && p <= 38 && sc >= 0 && sc <= p) {
		t->kind = T_DECIMAL;
		t->p = p;
		t->s = sc;
		return 0;
	}
	if (sscanf(s, "fixed[%d]%n", &p, &n) == 1 && s[n] == '\0' && p >= 1 && p <= MK_PV_MAX) {
		t->kind = T_FIXED;
		t->p = p;
		return 0;
	}
	return -1;
}

void mk_type_str(const mk_type *t, char *buf, size_t cap)
{
	if (t->kind == T_DECIMAL) {
		snprintf(buf, cap, "decimal(%d, %d)", t->p, t->s);
		return;
	}
	if (t->kind == T_FIXED) {
		snprintf(buf, cap, "fixed[%d]", t->p);
		return;
	}
	for (size_t i = 0; i < sizeof(tnames) / sizeof(tnames[0]); i++) {
		if (tnames[i].kind == t->kind) {
			snprintf(buf, cap, "%s", tnames[i].name);
			return;
		}
	}
	snprintf(buf, cap, "unknown");
}

/* ---- schemas ------------------------------------------------------------ */

static int add_col(mk_schema *s, int id, const char *name, size_t nlen, const char *type,
		   bool required)
{
	mk_col *c;
	mk_col *cols = realloc(s->cols, (size_t)(s->ncols + 1) * sizeof(*cols));

	if (!cols)
		return -1;
	s->cols = cols;
	c = &cols[s->ncols];
	memset(c, 0, sizeof(*c));
	if (nlen == 0 || nlen >= MK_NAME_MAX) {
		mk_err("bad column name '%.*s'", (int)nlen, name);
		return -1;
	}
	memcpy(c->name, name, nlen);
	c->id = id;
	c->required = required;
	if (mk_type_parse(type, &c->type) != 0) {
		mk_err("unknown type '%s' for column '%s'", type, c->name);
		return -1;
	}
	s->ncols++;
	return 0;
}

/* "name:type,name:type" with decimal(P,S) commas inside parentheses */
int mk_schema_parse_spec(const char *spec, mk_schema *out)
{
	const char *p = spec;
	char item[256];

	memset(out, 0, sizeof(*out));
	while (*p) {
		size_t n = 0;
		int depth = 0;
		const char *colon;

		while (*p && (depth > 0 || *p != ',')) {
			if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			if (n + 1 >= sizeof(item))
				goto bad;
			item[n++] = *p++;
		}
		item[n] = '\0';
		if (*p == ',')
			p++;
		colon = strchr(item, ':');
		if (!colon)
			goto bad;
		if (add_col(out, out->ncols + 1, item, (size_t)(colon - item), colon + 1,
			    out->ncols == 0) != 0)
			goto fail;
	}
	if (out->ncols == 0)
		goto bad;
	return 0;
bad:
	mk_err("bad schema spec '%s' (expected name:type,...)", spec);
fail:
	mk_schema_free(out);
	return -1;
}

int mk_schema_from_json(json_t *js, mk_schema *out)
{
	json_t *fields = json_object_get(js, "fields"), *f;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->id = (int)json_integer_value(json_object_get(js, "schema-id"));
	if (!json_is_array(fields)) {
		mk_err("schema without fields");
		return -1;
	}
	json_array_foreach(fields, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *type = json_string_value(json_object_get(f, "type"));
		if (!name || !type) {
			mk_err("unsupported schema field (nested types are not supported)");
			goto fail;
		}
		if (add_col(out, (int)json_integer_value(json_object_get(f, "id")), name,
			    strlen(name), type, json_is_true(json_object_get(f, "required"))) != 0)
			goto fail;
	}
	return 0;
fail:
	mk_schema_free(out);
	return -1;
}

json_t *mk_schema_to_json(const mk_schema *s)
{
	json_t *fields = json_array();
	char tb[64];

	for (int i = 0; i < s->ncols; i++) {
		const mk_col *c = &s->cols[i];
		mk_type_str(&c->type, tb, sizeof(tb));
		json_array_append_new(fields, json_pack("{s:i,s:s,s:b,s:s}", "id", c->id, "name",
							c->name, "required", c->required,
							"type", tb));
	}
	return json_pack("{s:s,s:i,s:o}", "type", "struct", "schema-id", s->id, "fields", fields);
}

void mk_schema_free(mk_schema *s)
{
	free(s->cols);
	s->cols = NULL;
	s->ncols = 0;
}

int mk_schema_copy(const mk_schema *src, mk_schema *dst)
{
	*dst = *src;
	dst->cols = malloc((size_t)(src->ncols ? src->ncols : 1) * sizeof(mk_col));
	if (!dst->cols)
		return -1;
	memcpy(dst->cols, src->cols, (size_t)src->ncols * sizeof(mk_col));
	return 0;
}

const mk_col *mk_schema_col(const mk_schema *s, int id)
{
	for (int i = 0; i < s->ncols; i++)
		if (s->cols[i].id == id)
			return &s->cols[i];
	return NULL;
}

const mk_col *mk_schema_col_by_name(const mk_schema *s, const char *name)
{
	for (int i = 0; i < s->ncols; i++)
		if (strcmp(s->cols[i].name, name) == 0)
			return &s->cols[i];
	return NULL;
}

/* ---- partition specs ---------------------------------------------------- */

static const char *const xnames[] = {"identity", "bucket", "truncate", "year",
				     "month", "day", "hour", "void"};
static const char *const xsuffix[] = {"", "_bucket", "_trunc", "_year",
				      "_month", "_day", "_hour", "_null"};

static bool is_ts(enum mk_tkind k)
{
	return k == T_TIMESTAMP || k == T_TIMESTAMPTZ || k == T_TIMESTAMP_NS ||
	       k == T_TIMESTAMPTZ_NS;
}

static bool xform_ok(enum mk_xform x, enum mk_tkind k)
{
	switch (x) {
	case X_IDENTITY:
	case X_VOID:
		return true;
	case X_BUCKET:
		return k != T_BOOLEAN && k != T_FLOAT && k != T_DOUBLE;
	case X_TRUNCATE:
		return k == T_INT || k == T_LONG || k == T_DECIMAL || k == T_STRING ||
		       k == T_BINARY;
	case X_YEAR:
	case X_MONTH:
	case X_DAY:
		return k == T_DATE || is_ts(k);
	case X_HOUR:
		return is_ts(k);
	}
	return false;
}

static int pfield_init(mk_pfield *pf, const mk_schema *s, const char *col, enum mk_xform x,
		       int param, const char *name)
{
	const mk_col *c = mk_schema_col_by_name(s, col);

	memset(pf, 0, sizeof(*pf));
	if (!c) {
		mk_err("partition source column '%s' not in schema", col);
		return -1;
	}
	if (!xform_ok(x, c->type.kind)) {
		char tb[64];
		mk_type_str(&c->type, tb, sizeof(tb));
		mk_err("transform %s cannot apply to %s column '%s'", xnames[x], tb, col);
		return -1;
	}
	if ((x == X_BUCKET || x == X_TRUNCATE) && param <= 0) {
		mk_err("transform %s needs a positive parameter", xnames[x]);
		return -1;
	}
	pf->source_id = c->id;
	pf->xf = x;
	pf->param = param;
	pf->stype = c->type;
	pf->rtype = c->type;
	if (x == X_BUCKET || x == X_YEAR || x == X_MONTH || x == X_HOUR)
		pf->rtype = (mk_type){T_INT, 0, 0};
	else if (x == X_DAY)
		pf->rtype = (mk_type){T_DATE, 0, 0};
	if (name)
		snprintf(pf->name, sizeof(pf->name), "%s", name);
	else
		snprintf(pf->name, sizeof(pf->name), "%s%s", col, xsuffix[x]);
	return 0;
}

/* parse "bucket[16]" or "day" into transform + parameter */
static int parse_xform(const char *s, size_t n, enum mk_xform *x, int *param)
{
	*param = 0;
	for (int i = 0; i < 8; i++) {
		size_t l = strlen(xnames[i]);
		if (n < l || strncmp(s, xnames[i], l) != 0)
			continue;
		if (n == l) {
			*x = (enum mk_xform)i;
			return (i == X_BUCKET || i == X_TRUNCATE) ? -1 : 0;
		}
		if (s[l] == '[' && s[n - 1] == ']' && (i == X_BUCKET || i == X_TRUNCATE)) {
			*param = atoi(s + l + 1);
			*x = (enum mk_xform)i;
			return *param > 0 ? 0 : -1;
		}
	}
	return -1;
}

/* "identity(col),bucket[16](id),day(ts)"; a bare "col" means identity(col) */
int mk_spec_parse(const char *spec, const mk_schema *s, int spec_id, int first_field_id,
		  mk_spec *out)
{
	const char *p = spec;

	memset(out, 0, sizeof(*out));
	out->id = spec_id;
	while (*p) {
		char item[256], col[MK_NAME_MAX];
		size_t n = strcspn(p, ",");
		const char *open, *close;
		enum mk_xform x = X_IDENTITY;
		int param = 0;

		if (n == 0 || n >= sizeof(item))
			goto bad;
		memcpy(item, p, n);
		item[n] = '\0';
		p += n;
		if (*p == ',')
			p++;
		open = strrchr(item, '(');
		close = strrchr(item, ')');
		if (open) {
			if (!close || close[1] != '\0' || close < open ||
			    (size_t)(close - open - 1) >= sizeof(col))
				goto bad;
			if (parse_xform(item, (size_t)(open - item), &x, &param) != 0)
				goto bad;
			memcpy(col, open + 1, (size_t)(close - open - 1));
			col[close - open - 1] = '\0';
		} else {
			if (strlen(item) >= sizeof(col))
				goto bad;
			memcpy(col, item, strlen(item) + 1);
		}
		if (out->nf >= MK_MAX_PFIELDS) {
			mk_err("too many partition fields (max %d)", MK_MAX_PFIELDS);
			return -1;
		}
		if (pfield_init(&out->f[out->nf], s, col, x, param, NULL) != 0)
			return -1;
		out->f[out->nf].field_id = first_field_id + out->nf;
		out->nf++;
	}
	return 0;
bad:
	mk_err("bad partition spec '%s' (expected transform(col),...)", spec);
	return -1;
}

int mk_spec_from_json(json_t *js, const mk_schema *s, mk_spec *out)
{
	json_t *fields = json_object_get(js, "fields"), *f;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->id = (int)json_integer_value(json_object_get(js, "spec-id"));
	json_array_foreach(fields, i, f) {
		const char *tr = json_string_value(json_object_get(f, "transform"));
		const char *name = json_string_value(json_object_get(f, "name"));
		int sid = (int)json_integer_value(json_object_get(f, "source-id"));
		const mk_col *c = mk_schema_col(s, sid);
		enum mk_xform x;
		int param;

		if (!tr || !name || !c || parse_xform(tr, strlen(tr), &x, &param) != 0) {
			mk_err("unsupported partition field in spec %d", out->id);
			return -1;
		}
		if (out->nf >= MK_MAX_PFIELDS)
			return -1;
		if (pfield_init(&out->f[out->nf], s, c->name, x, param, name) != 0)
			return -1;
		out->f[out->nf].field_id = (int)json_integer_value(json_object_get(f, "field-id"));
		out->nf++;
	}
	return 0;
}

static void xform_str(const mk_pfield *pf, char *buf, size_t cap)
{
	if (pf->xf == X_BUCKET || pf->xf == X_TRUNCATE)
		snprintf(buf, cap, "%s[%d]", xnames[pf->xf], pf->param);
	else
		snprintf(buf, cap, "%s", xnames[pf->xf]);
}

json_t *mk_spec_fields_json(const mk_spec *sp)
{
	json_t *a = json_array();
	char tb[64];

	for (int i = 0; i < sp->nf; i++) {
		xform_str(&sp->f[i], tb, sizeof(tb));
		json_array_append_new(a, json_pack("{s:s,s:s,s:i,s:i}", "name", sp->f[i].name,
						   "transform", tb, "source-id",
						   sp->f[i].source_id, "field-id",
						   sp->f[i].field_id));
	}
	return a;
}

bool mk_spec_same(const mk_spec *a, const mk_spec *b)
{
	if (a->nf != b->nf)
		return false;
	for (int i = 0; i < a->nf; i++) {
		if (a->f[i].source_id != b->f[i].source_id || a->f[i].xf != b->f[i].xf ||
		    a->f[i].param != b->f[i].param || strcmp(a->f[i].name, b->f[i].name) != 0)
			return false;
	}
	return true;
}

/* ---- partition values: parsing and rendering ---------------------------- */

static int parse_date(const char *s, int64_t *days, const char **rest)
{
	long long y;
	int m, d, n = 0;

	if (sscanf(s, "%lld-%d-%d%n", &y, &m, &d, &n) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	*days = mk_days_from_civil(y, m, d);
	*rest = s + n;
	return 0;
}

/* HH:MM[:SS[.fraction]] -> nanoseconds of day */
static int parse_time(const char *s, int64_t *nanos, const char **rest)
{
	int h, mi, sec = 0, n = 0;
	int64_t frac = 0;

	if (sscanf(s, "%d:%d%n", &h, &mi, &n) != 2 || h > 23 || mi > 59)
		return -1;
	s += n;
	if (*s == ':') {
		if (sscanf(s + 1, "%d%n", &sec, &n) != 1 || sec > 59)
			return -1;
		s += 1 + n;
		if (*s == '.') {
			int digits = 0;
			for (s++; isdigit((unsigned char)*s); s++, digits++)
				if (digits < 9)
					frac = frac * 10 + (*s - '0');
			for (; digits < 9; digits++)
				frac *= 10;
		}
	}
	*nanos = ((int64_t)h * 3600 + mi * 60 + sec) * 1000000000LL + frac;
	*rest = s;
	return 0;
}

static int parse_timestamp(const char *s, bool nanos, int64_t *out)
{
	int64_t days, tn = 0;
	const char *r;
	int oh = 0, om = 0, sign = 1;

	if (parse_date(s, &days, &r) != 0)
		return -1;
	if (*r == 'T' || *r == ' ') {
		if (parse_time(r + 1, &tn, &r) != 0)
			return -1;
	}
	if (*r == 'Z') {
		r++;
	} else if (*r == '+' || *r == '-' || *r == ' ') {
		int n = 0;
		sign = *r == '-' ? -1 : 1;
		if (sscanf(r + 1, "%d:%d%n", &oh, &om, &n) != 2)
			return -1;
		r += 1 + n;
	}
	if (*r != '\0')
		return -1;
	tn -= sign * ((int64_t)oh * 3600 + om * 60) * 1000000000LL;
	*out = days * 86400000000000LL + tn;
	if (!nanos)
		*out = mk_floor_div(*out, 1000);
	return 0;
}

static int parse_decimal(const char *s, int scale, int64_t *out)
{
	bool neg = false, dot = false;
	int fd = 0;
	int64_t v = 0;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s == '.' && !dot) {
			dot = true;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			return -1;
		if (dot && fd >= scale)
			return -1;
		if (dot)
			fd++;
		v = v * 10 + (*s - '0');
	}
	for (; fd < scale; fd++)
		v *= 10;
	*out = neg ? -v : v;
	return 0;
}

static int parse_uuid(const char *s, unsigned char *b)
{
	int n = 0;

	for (; *s && n < 32; s++) {
		if (*s == '-')
			continue;
		int hi = isxdigit((unsigned char)s[0]) ? s[0] : -1;
		int lo = isxdigit((unsigned char)s[1]) ? s[1] : -1;
		if (hi < 0 || lo < 0)
			return -1;
		char pair[3] = {s[0], s[1], 0};
		b[n / 2] = (unsigned char)strtol(pair, NULL, 16);
		n += 2;
		s++;
	}
	return (n == 32 && *s == '\0') ? 0 : -1;
}

static int parse_typed(const mk_type *t, const char *s, mk_pval *v)
{
	bool ok = true;
	char *end;
	int64_t days, tn;
	const char *r;

	switch (t->kind) {
	case T_BOOLEAN:
		if (strcmp(s, "true") && strcmp(s, "false"))
			return -1;
		v->i = strcmp(s, "true") == 0;
		return 0;
	case T_INT:
	case T_LONG:
		v->i = mk_parse_i64(s, &ok);
		if (ok && t->kind == T_INT && (v->i < INT32_MIN || v->i > INT32_MAX))
			ok = false;
		return ok ? 0 : -1;
	case T_FLOAT:
	case T_DOUBLE:
		v->d = strtod(s, &end);
		return (*s && *end == '\0') ? 0 : -1;
	case T_DECIMAL:
		return parse_decimal(s, t->s, &v->i);
	case T_DATE:
		if (parse_date(s, &days, &r) != 0 || *r)
			return -1;
		v->i = days;
		return 0;
	case T_TIME:
		if (parse_time(s, &tn, &r) != 0 || *r)
			return -1;
		v->i = tn / 1000;
		return 0;
	case T_TIMESTAMP:
	case T_TIMESTAMPTZ:
	case T_TIMESTAMP_NS:
	case T_TIMESTAMPTZ_NS:
		return parse_timestamp(s, t->kind == T_TIMESTAMP_NS || t->kind == T_TIMESTAMPTZ_NS,
				       &v->i);
	case T_STRING:
		v->len = strlen(s);
		if (v->len > MK_PV_MAX)
			return -1;
		memcpy(v->b, s, v->len);
		return 0;
	case T_UUID:
		v->len = 16;
		return parse_uuid(s, v->b);
	case T_BINARY:
	case T_FIXED:
		if (mk_base64_dec(s, v->b, MK_PV_MAX, &v->len) != 0)
			return -1;
		return (t->kind == T_FIXED && (int)v->len != t->p) ? -1 : 0;
	}
	return -1;
}

int mk_pval_parse(const mk_pfield *pf, const char *text, mk_pval *v)
{
	if (mk_pval_try_parse(pf, text, v) == 0)
		return 0;
	mk_err("bad value '%s' for partition field '%s'", text, pf->name);
	return -1;
}

/* like mk_pval_parse, without an error message */
int mk_pval_try_parse(const mk_pfield *pf, const char *text, mk_pval *v)
{
	char s[MK_PV_MAX * 3 + 1];
	long long y;
	int m, d, h, n = 0;

	memset(v, 0, sizeof(*v));
	if (mk_url_unescape(text, s, sizeof(s)) < 0)
		goto bad;
	if (strcmp(s, "null") == 0 || pf->xf == X_VOID) {
		v->null = true;
		return 0;
	}
	switch (pf->xf) {
	case X_YEAR:
		if (sscanf(s, "%lld%n", &y, &n) != 1 || s[n])
			goto bad;
		v->i = y - 1970;
		return 0;
	case X_MONTH:
		if (sscanf(s, "%lld-%d%n", &y, &m, &n) != 2 || s[n] || m < 1 || m > 12)
			goto bad;
		v->i = (y - 1970) * 12 + (m - 1);
		return 0;
	case X_HOUR:
		if (sscanf(s, "%lld-%d-%d-%d%n", &y, &m, &d, &h, &n) != 4 || s[n] || h < 0 ||
		    h > 23)
			goto bad;
		v->i = mk_days_from_civil(y, m, d) * 24 + h;
		return 0;
	default:
		break;
	}
	if (parse_typed(&pf->rtype, s, v) == 0)
		return 0;
bad:
	return -1;
}

static void fmt_date(int64_t days, char *buf, size_t cap)
{
	int64_t y;
	int m, d;

	mk_civil_from_days(days, &y, &m, &d);
	snprintf(buf, cap, "%04lld-%02d-%02d", (long long)y, m, d);
}

/* java.time LocalTime.toString(): HH:MM, then :SS and .fraction when non-zero */
static void fmt_time(int64_t nanos, char *buf, size_t cap)
{
	int64_t sec = nanos / 1000000000LL, frac = nanos % 1000000000LL;
	int n = snprintf(buf, cap, "%02d:%02d", (int)(sec / 3600), (int)(sec / 60 % 60));

	if (sec % 60 == 0 && frac == 0)
		return;
	n += snprintf(buf + n, cap - (size_t)n, ":%02d", (int)(sec % 60));
	if (frac == 0)
		return;
	if (frac % 1000000 == 0)
		snprintf(buf + n, cap - (size_t)n, ".%03d", (int)(frac / 1000000));
	else if (frac % 1000 == 0)
		snprintf(buf + n, cap - (size_t)n, ".%06d", (int)(frac / 1000));
	else
		snprintf(buf + n, cap - (size_t)n, ".%09d", (int)frac);
}

static void fmt_timestamp(int64_t v, bool nanos, bool tz, char *buf, size_t cap)
{
	int64_t per_day = nanos ? 86400000000000LL : MICROS_PER_DAY;
	int64_t days = mk_floor_div(v, per_day), rem = v - days * per_day;
	size_t n;

	fmt_date(days, buf, cap);
	n = strlen(buf);
	buf[n++] = 'T';
	fmt_time(nanos ? rem : rem * 1000, buf + n, cap - n);
	if (tz)
		strncat(buf, "Z", cap - strlen(buf) - 1);
}

static void fmt_double(double d, bool is_float, char *buf, size_t cap)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, d);
		if (is_float ? (float)strtod(buf, NULL) == (float)d : strtod(buf, NULL) == d)
			break;
	}
	if (!strpbrk(buf, ".eEn"))
		strncat(buf, ".0", cap - strlen(buf) - 1);
}

static void fmt_decimal(int64_t u, int scale, char *buf, size_t cap)
{
	char digits[32];
	uint64_t a = u < 0 ? (uint64_t)0 - (uint64_t)u : (uint64_t)u;
	int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)a);
	size_t o = 0;

	if (u < 0)
		buf[o++] = '-';
	if (scale == 0) {
		snprintf(buf + o, cap - o, "%s", digits);
		return;
	}
	if (n <= scale) {
		o += (size_t)snprintf(buf + o, cap - o, "0.");
		for (int i = n; i < scale; i++)
			buf[o++] = '0';
		snprintf(buf + o, cap - o, "%s", digits);
		return;
	}
	snprintf(buf + o, cap - o, "%.*s.%s", n - scale, digits, digits + n - scale);
}

static void render_typed(const mk_type *t, const mk_pval *v, char *buf, size_t cap)
{
	switch (t->kind) {
	case T_BOOLEAN:
		snprintf(buf, cap, "%s", v->i ? "true" : "false");
		return;
	case T_INT:
	case T_LONG:
		snprintf(buf, cap, "%lld", (long long)v->i);
		return;
	case T_FLOAT:
	case T_DOUBLE:
		fmt_double(v->d, t->kind == T_FLOAT, buf, cap);
		return;
	case T_DECIMAL:
		fmt_decimal(v->i, t->s, buf, cap);
		return;
	case T_DATE:
		fmt_date(v->i, buf, cap);
		return;
	case T_TIME:
		fmt_time(v->i * 1000, buf, cap);
		return;
	case T_TIMESTAMP:
	case T_TIMESTAMPTZ:
	case T_TIMESTAMP_NS:
	case T_TIMESTAMPTZ_NS:
		fmt_timestamp(v->i, t->kind == T_TIMESTAMP_NS || t->kind == T_TIMESTAMPTZ_NS,
			      t->kind == T_TIMESTAMPTZ || t->kind == T_TIMESTAMPTZ_NS, buf, cap);
		return;
	case T_STRING:
		snprintf(buf, cap, "%.*s", (int)v->len, (const char *)v->b);
		return;
	case T_UUID: {
		const unsigned char *b = v->b;
		snprintf(buf, cap,
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
			 b[12], b[13], b[14], b[15]);
		return;
	}
	case T_BINARY:
	case T_FIXED:
		if (cap >= (v->len + 2) / 3 * 4 + 1)
			mk_base64_enc(v->b, v->len, buf);
		else
			snprintf(buf, cap, "?");
		return;
	}
}

/* Iceberg's human string of a partition value (Transform.toHumanString) */
void mk_pval_render(const mk_pfield *pf, const mk_pval *v, char *buf, size_t cap)
{
	int64_t y;
	int m, d;

	if (v->null) {
		snprintf(buf, cap, "null");
		return;
	}
	switch (pf->xf) {
	case X_YEAR:
		snprintf(buf, cap, "%04lld", (long long)(1970 + v->i));
		return;
	case X_MONTH:
		snprintf(buf, cap, "%04lld-%02d", (long long)(1970 + mk_floor_div(v->i, 12)),
			 (int)(v->i - mk_floor_div(v->i, 12) * 12 + 1));
		return;
	case X_HOUR:
		mk_civil_from_days(mk_floor_div(v->i, 24), &y, &m, &d);
		snprintf(buf, cap, "%04lld-%02d-%02d-%02d", (long long)y, m, d,
			 (int)(v->i - mk_floor_div(v->i, 24) * 24));
		return;
	default:
		render_typed(&pf->rtype, v, buf, cap);
	}
}

void mk_partition_path(const mk_spec *sp, const mk_pval *pv, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < sp->nf && o + 2 < cap; i++) {
		char human[MK_PV_MAX * 2], esc[MK_PV_MAX * 6];
		mk_pval_render(&sp->f[i], &pv[i], human, sizeof(human));
		mk_url_escape(human, strlen(human), esc, sizeof(esc));
		o += (size_t)snprintf(buf + o, cap - o, "%s%s=%s", i ? "/" : "", sp->f[i].name, esc);
	}
}

/* ---- single-value serialization and ordering ---------------------------- */

/* bytes of the smallest fixed holding any unscaled value of the precision
 * (Iceberg's decimalRequiredBytes): n bytes hold floor((8n-1)*log10(2)) digits */
int mk_decimal_bytes(int precision)
{
	static const int max_digits[] = {0, 2, 4, 6, 9, 11, 14, 16, 18, 21, 23, 26, 28, 31, 33, 35, 38};

	for (int n = 1; n <= 16; n++)
		if (max_digits[n] >= precision)
			return n;
	return 16;
}

static void put_le(uint64_t v, int n, unsigned char *out)
{
	for (int i = 0; i < n; i++)
		out[i] = (unsigned char)(v >> (8 * i));
}

size_t mk_pval_serialize(const mk_type *t, const mk_pval *v, unsigned char *out)
{
	switch (t->kind) {
	case T_BOOLEAN:
		out[0] = v->i ? 1 : 0;
		return 1;
	case T_INT:
	case T_DATE:
		put_le((uint64_t)v->i, 4, out);
		return 4;
	case T_LONG:
	case T_TIME:
	case T_TIMESTAMP:
	case T_TIMESTAMPTZ:
	case T_TIMESTAMP_NS:
	case T_TIMESTAMPTZ_NS:
		put_le((uint64_t)v->i, 8, out);
		return 8;
	case T_FLOAT: {
		float f = (float)v->d;
		uint32_t u;
		memcpy(&u, &f, 4);
		put_le(u, 4, out);
		return 4;
	}
	case T_DOUBLE: {
		uint64_t u;
		memcpy(&u, &v->d, 8);
		put_le(u, 8, out);
		return 8;
	}
	case T_DECIMAL: {
		/* minimal two's complement, big-endian (BigInteger.toByteArray) */
		int n = 8;
		while (n > 1) {
			int64_t top = v->i >> (8 * (n - 1) - 1);
			if (top != 0 && top != -1)
				break;
			n--;
		}
		for (int i = 0; i < n; i++)
			out[i] = (unsigned char)((uint64_t)v->i >> (8 * (n - 1 - i)));
		return (size_t)n;
	}
	case T_STRING:
	case T_UUID:
	case T_BINARY:
	case T_FIXED:
		memcpy(out, v->b, v->len);
		return v->len;
	}
	return 0;
}

int mk_pval_cmp(const mk_type *t, const mk_pval *a, const mk_pval *b)
{
	size_t n;
	int c;

	switch (t->kind) {
	case T_FLOAT:
	case T_DOUBLE:
		return (a->d > b->d) - (a->d < b->d);
	case T_STRING:
	case T_UUID:
	case T_BINARY:
	case T_FIXED:
		n = a->len < b->len ? a->len : b->len;
		c = memcmp(a->b, b->b, n);
		if (c)
			return c;
		return (a->len > b->len) - (a->len < b->len);
	default:
		return (a->i > b->i) - (a->i < b->i);
	}
}

/* ---- Avro types of partition values ------------------------------------- */

static json_t *logical(const char *base, const char *lt)
{
	return json_pack("{s:s,s:s}", "type", base, "logicalType", lt);
}

/* Avro type as Iceberg writes it; `seen` remembers emitted named types */
json_t *mk_avro_ptype(const mk_type *t, json_t *seen)
{
	char name[64];
	json_t *j;

	switch (t->kind) {
	case T_BOOLEAN:
		return json_string("boolean");
	case T_INT:
		return json_string("int");
	case T_LONG:
		return json_string("long");
	case T_FLOAT:
		return json_string("float");
	case T_DOUBLE:
		return json_string("double");
	case T_DATE:
		return logical("int", "date");
	case T_TIME:
		return logical("long", "time-micros");
	case T_TIMESTAMP:
	case T_TIMESTAMPTZ:
	case T_TIMESTAMP_NS:
	case T_TIMESTAMPTZ_NS:
		j = logical("long", (t->kind == T_TIMESTAMP || t->kind == T_TIMESTAMPTZ) ?
					    "timestamp-micros" : "timestamp-nanos");
		json_object_set_new(j, "adjust-to-utc",
				    json_boolean(t->kind == T_TIMESTAMPTZ ||
						 t->kind == T_TIMESTAMPTZ_NS));
		return j;
	case T_STRING:
		return json_string("string");
	case T_BINARY:
		return json_string("bytes");
	case T_UUID:
	case T_FIXED:
	case T_DECIMAL:
		break;
	}
	if (t->kind == T_UUID)
		snprintf(name, sizeof(name), "uuid_fixed");
	else if (t->kind == T_FIXED)
		snprintf(name, sizeof(name), "fixed_%d", t->p);
	else
		snprintf(name, sizeof(name), "decimal_%d_%d", t->p, t->s);
	if (json_object_get(seen, name))
		return json_string(name);
	json_object_set_new(seen, name, json_true());
	j = json_pack("{s:s,s:s,s:i}", "type", "fixed", "name", name, "size",
		      t->kind == T_UUID ? 16 : t->kind == T_FIXED ? t->p : mk_decimal_bytes(t->p));
	if (t->kind == T_UUID) {
		json_object_set_new(j, "logicalType", json_string("uuid"));
	} else if (t->kind == T_DECIMAL) {
		json_object_set_new(j, "logicalType", json_string("decimal"));
		json_object_set_new(j, "precision", json_integer(t->p));
		json_object_set_new(j, "scale", json_integer(t->s));
	}
	return j;
}

const char *mk_iceberg_ptype(const mk_type *t, char *buf, size_t cap)
{
	mk_type_str(t, buf, cap);
	return buf;
}

/* ---- deterministic generation ------------------------------------------- */

static const char *const words[] = {"books", "games", "music", "tools", "garden", "sports",
				    "toys", "food"};

static const char *const lo_words[] = {"alpha", "bravo", "charlie", "delta"};
static const char *const hi_words[] = {"sierra", "tango", "victor", "zulu"};

static void set_bytes(mk_pval *v, const void *p, size_t n)
{
	v->len = n > MK_PV_MAX ? MK_PV_MAX : n;
	memcpy(v->b, p, v->len);
}

/* identity/truncate value of a source type for slot k */
static void gen_source(const mk_type *t, int64_t day, int hour, int k, mk_pval *v)
{
	switch (t->kind) {
	case T_BOOLEAN:
		v->i = k & 1;
		break;
	case T_INT:
	case T_LONG:
		v->i = 1000 + k;
		break;
	case T_FLOAT:
	case T_DOUBLE:
		v->d = k + 0.5;
		break;
	case T_DECIMAL:
		v->i = (k + 1) * 100;
		break;
	case T_DATE:
		v->i = day;
		break;
	case T_TIME:
		v->i = hour * MICROS_PER_HOUR;
		break;
	case T_TIMESTAMP:
	case T_TIMESTAMPTZ:
		v->i = day * MICROS_PER_DAY + hour * MICROS_PER_HOUR;
		break;
	case T_TIMESTAMP_NS:
	case T_TIMESTAMPTZ_NS:
		v->i = (day * MICROS_PER_DAY + hour * MICROS_PER_HOUR) * 1000;
		break;
	case T_STRING:
		set_bytes(v, words[k % 8], strlen(words[k % 8]));
		break;
	case T_UUID:
	case T_FIXED:
		v->len = t->kind == T_UUID ? 16 : (size_t)t->p;
		memset(v->b, 0x11 * (k + 1), v->len);
		break;
	case T_BINARY:
		set_bytes(v, words[k % 8], 3);
		break;
	}
}

static void truncate_val(const mk_pfield *pf, mk_pval *v)
{
	int64_t w = pf->param;

	if (pf->stype.kind == T_STRING || pf->stype.kind == T_BINARY) {
		/* truncate strings by code points; ASCII generated values are bytes */
		if (v->len > (size_t)w)
			v->len = (size_t)w;
	} else {
		v->i = v->i - (((v->i % w) + w) % w);
	}
}

/* Partition values of file i of n in one commit: spread over 4 days (96 hours),
 * contiguous so that each manifest covers a range. */
void mk_gen_partition(const mk_spec *sp, int64_t day0, int64_t days, int64_t i, int64_t n,
		      mk_pval *pv)
{
	int64_t frac = n > 0 ? (i * days * 24) / n : 0;
	int64_t day = day0 + frac / 24;
	int hour = (int)(frac % 24), k = (int)(frac / 24);
	int64_t y;
	int m, d;

	mk_civil_from_days(day, &y, &m, &d);
	for (int f = 0; f < sp->nf; f++) {
		const mk_pfield *pf = &sp->f[f];
		mk_pval *v = &pv[f];
		memset(v, 0, offsetof(mk_pval, b));
		switch (pf->xf) {
		case X_VOID:
			v->null = true;
			break;
		case X_BUCKET: {
			int64_t nb = pf->param < 8 ? pf->param : 8;
			v->i = n > 0 ? (i * nb) / n : 0;
			break;
		}
		case X_YEAR:
			v->i = y - 1970;
			break;
		case X_MONTH:
			v->i = (y - 1970) * 12 + m - 1;
			break;
		case X_DAY:
			v->i = day;
			break;
		case X_HOUR:
			v->i = day * 24 + hour;
			break;
		case X_IDENTITY:
			gen_source(&pf->stype, day, hour, k, v);
			break;
		case X_TRUNCATE:
			gen_source(&pf->stype, day, hour, k, v);
			truncate_val(pf, v);
			break;
		}
	}
}

/* range [lo, hi] of a time-transform partition in the source column's units */
static bool period_range(const mk_pfield *pf, const mk_pval *v, int64_t *lo, int64_t *hi)
{
	int64_t d0, d1, unit;
	bool is_date = pf->stype.kind == T_DATE;

	switch (pf->xf) {
	case X_DAY:
		d0 = v->i;
		d1 = v->i + 1;
		break;
	case X_MONTH:
		d0 = mk_days_from_civil(1970 + mk_floor_div(v->i, 12),
					(int)(v->i - mk_floor_div(v->i, 12) * 12 + 1), 1);
		d1 = mk_days_from_civil(1970 + mk_floor_div(v->i + 1, 12),
					(int)(v->i + 1 - mk_floor_div(v->i + 1, 12) * 12 + 1), 1);
		break;
	case X_YEAR:
		d0 = mk_days_from_civil(1970 + v->i, 1, 1);
		d1 = mk_days_from_civil(1971 + v->i, 1, 1);
		break;
	case X_HOUR:
		unit = (pf->stype.kind == T_TIMESTAMP_NS || pf->stype.kind == T_TIMESTAMPTZ_NS) ?
			       1000 : 1;
		*lo = v->i * MICROS_PER_HOUR * unit;
		*hi = (v->i + 1) * MICROS_PER_HOUR * unit - 1;
		return true;
	default:
		return false;
	}
	if (is_date) {
		*lo = d0;
		*hi = d1 - 1;
		return true;
	}
	unit = (pf->stype.kind == T_TIMESTAMP_NS || pf->stype.kind == T_TIMESTAMPTZ_NS) ? 1000 : 1;
	*lo = d0 * MICROS_PER_DAY * unit;
	*hi = d1 * MICROS_PER_DAY * unit - 1;
	return true;
}

static size_t gen_random(const mk_type *t, uint64_t *rng, bool upper, int64_t base,
			 unsigned char *out)
{
	mk_pval v;
	uint64_t r = mk_rand(rng);

	memset(&v, 0, offsetof(mk_pval, b));
	switch (t->kind) {
	case T_BOOLEAN:
		v.i = upper;
		break;
	case T_INT:
		v.i = (int64_t)(r % 1000000) + (upper ? 1000000 : 0);
		break;
	case T_LONG:
		v.i = upper ? base + 1 + (int64_t)(r % 4294967296ULL) : base;
		break;
	case T_DECIMAL: {
		int64_t half = 5;
		for (int k = 1; k < (t->p < 18 ? t->p : 18); k++)
			half *= 10;
		v.i = (int64_t)(r % (uint64_t)half) + (upper ? half : 0);
		break;
	}
	case T_FLOAT:
	case T_DOUBLE:
		v.d = upper ? 500.0 + (double)(r % 950000) / 100.0 : (double)(r % 200) / 100.0;
		break;
	case T_DATE:
		v.i = 19723 + (int64_t)(r % 30) + (upper ? 30 : 0);
		break;
	case T_TIME:
		v.i = (int64_t)(r % (12 * 3600)) * 1000000 + (upper ? 12 * MICROS_PER_HOUR : 0);
		break;
	case T_TIMESTAMP:
	case T_TIMESTAMPTZ:
	case T_TIMESTAMP_NS:
	case T_TIMESTAMPTZ_NS:
		v.i = 1704067200000000LL + (int64_t)(r % 2592000000000ULL) +
		      (upper ? 2592000000000LL : 0);
		if (t->kind == T_TIMESTAMP_NS || t->kind == T_TIMESTAMPTZ_NS)
			v.i *= 1000;
		break;
	case T_STRING: {
		char s[40];
		int n = snprintf(s, sizeof(s), "%s_%s",
				 (upper ? hi_words : lo_words)[(r >> 8) % 4], words[r % 8]);
		set_bytes(&v, s, n > 16 ? 16 : (size_t)n);
		break;
	}
	case T_UUID:
	case T_FIXED:
	case T_BINARY:
		v.len = t->kind == T_UUID ? 16 : t->kind == T_FIXED ? (size_t)t->p : 16;
		if (v.len > 16 && t->kind != T_FIXED)
			v.len = 16;
		for (size_t i = 0; i < v.len; i++)
			v.b[i] = (unsigned char)(mk_rand(rng) | (upper ? 0x80 : 0));
		if (!upper)
			v.b[0] &= 0x7f;
		break;
	}
	return mk_pval_serialize(t, &v, out);
}

/* One lower or upper bound for column c, consistent with the partition values
 * of spec sp when the column is a partition source. Returns the length. */
size_t mk_gen_bound(const mk_col *c, const mk_spec *sp, const mk_pval *pv, uint64_t *rng,
		    bool upper, int64_t base, unsigned char *out)
{
	for (int f = 0; sp && f < sp->nf; f++) {
		const mk_pfield *pf = &sp->f[f];
		int64_t lo, hi;
		mk_pval v;

		if (pf->source_id != c->id || pv[f].null)
			continue;
		if (pf->xf == X_IDENTITY)
			return mk_pval_serialize(&c->type, &pv[f], out);
		if (period_range(pf, &pv[f], &lo, &hi)) {
			uint64_t span = (uint64_t)(hi - lo) / 8 + 1;
			memset(&v, 0, offsetof(mk_pval, b));
			v.i = upper ? hi - (int64_t)(mk_rand(rng) % span)
				    : lo + (int64_t)(mk_rand(rng) % span);
			return mk_pval_serialize(&c->type, &v, out);
		}
	}
	return gen_random(&c->type, rng, upper, base, out);
}
