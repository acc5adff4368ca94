/* tagnorm: partition tags brought to the form the pipeline emits, and tags
 * checked against the table infos ice-invalidate records (ice_tagnorm.h). */
#include "config.h"
#include "ice_tagnorm.h"

#include "ice_path.h"
#include "ice_tag.h"
#include "ice_time.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- values: Java URLEncoder's escaping ---- */

static int is_safe(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '-' || c == '*' || c == '_';
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Already in the escaped form: only safe bytes, '+' and %XX. */
static int is_escaped(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '%' && i + 2 < len &&
		    hexval((unsigned char)v[i + 1]) >= 0 && hexval((unsigned char)v[i + 2]) >= 0)
			i += 2;
		else if (!is_safe(c) && c != '+')
			return 0;
	}
	return 1;
}

/* The raw bytes of an escaped value, in place (never longer). */
static size_t unescape(char *v, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (v[i] == '%' && i + 2 < len && hexval((unsigned char)v[i + 1]) >= 0 &&
		    hexval((unsigned char)v[i + 2]) >= 0) {
			v[o++] = (char)(hexval((unsigned char)v[i + 1]) * 16 + hexval((unsigned char)v[i + 2]));
			i += 2;
		} else {
			v[o++] = v[i] == '+' ? ' ' : v[i];
		}
	}
	return o;
}

static char *escape(const char *raw, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(len * 3 + 1), *p = out;

	for (size_t i = 0; out && i < len; i++) {
		unsigned char c = (unsigned char)raw[i];
		if (is_safe(c)) {
			*p++ = (char)c;
		} else if (c == ' ') {
			*p++ = '+';
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	if (out)
		*p = '\0';
	return out;
}

/* A value the way the pipeline writes it: an escaped one re-escaped (so
 * %3a becomes %3A), any other escaped. */
static char *canon_value(const char *v, size_t len)
{
	char *raw = strndup(v, len), *out;

	if (!raw)
		return NULL;
	if (is_escaped(v, len))
		len = unescape(raw, len);
	out = escape(raw, len);
	free(raw);
	return out;
}

/* What a transform keeps of a date or timestamp written for its source
 * column: "2023-05-15T14:30:45" is "2023-05-15" for day, "2023-05" for
 * month, "2023" for year, "2023-05-15-14" for hour. len is updated. */
static void cut_for(const char *transform, char *v, size_t *len)
{
	int stamp = *len >= 10 && v[4] == '-' && v[7] == '-';

	if (!transform || !stamp)
		return;
	if (strcmp(transform, "day") == 0)
		*len = 10;
	else if (strcmp(transform, "month") == 0)
		*len = 7;
	else if (strcmp(transform, "year") == 0)
		*len = 4;
	else if (strcmp(transform, "hour") == 0 && *len >= 13 && (v[10] == 'T' || v[10] == ' ')) {
		v[10] = '-';
		*len = 13;
	}
	v[*len] = '\0';
}

/* ---- the table info ---- */

typedef struct {
	char *name, *value; /* value raw until canon(), then escaped */
	const char *transform; /* set when name was a source column */
} kv;

static void kv_free(kv *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

#define FOR_FIELDS(info, spec, si, f, fi) \
	json_array_foreach(json_object_get(info, "specs"), si, spec) \
		json_array_foreach(json_object_get(spec, "fields"), fi, f)

static const char *fstr(const json_t *f, const char *k)
{
	return json_string_value(json_object_get(f, k));
}

static int is_field(const json_t *info, const char *name)
{
	const json_t *spec, *f;
	size_t si, fi;

	FOR_FIELDS(info, spec, si, f, fi)
		if (fstr(f, "name") && strcmp(fstr(f, "name"), name) == 0)
			return 1;
	return 0;
}

/* The partition field a source column stands for: its only one, else its
 * identity one; NULL when none or several. */
static const json_t *field_of_column(const json_t *info, const char *col)
{
	const json_t *spec, *f, *found = NULL;
	size_t si, fi;
	int several = 0;

	FOR_FIELDS(info, spec, si, f, fi) {
		if (!fstr(f, "source") || strcmp(fstr(f, "source"), col) != 0 || !fstr(f, "name"))
			continue;
		if (found && strcmp(fstr(found, "name"), fstr(f, "name")) != 0) {
			several = 1;
			if (fstr(f, "transform") && strcmp(fstr(f, "transform"), "identity") == 0)
				found = f;
		} else if (!found) {
			found = f;
		}
	}
	if (several && !(fstr(found, "transform") && strcmp(fstr(found, "transform"), "identity") == 0))
		return NULL;
	return found;
}

/* The pair of p named name, or n when none. */
static size_t pair_named(const kv *p, size_t n, const char *name)
{
	size_t j;

	for (j = 0; name && j < n; j++)
		if (strcmp(p[j].name, name) == 0)
			break;
	return name ? j : n;
}

/* The spec (latest first) whose fields are exactly the names of p, each
 * once. */
static const json_t *spec_with(const json_t *info, const kv *p, size_t n)
{
	const json_t *specs = json_object_get(info, "specs"), *fields, *spec;
	size_t s, i;

	for (i = 0; i < n; i++)
		if (pair_named(p, n, p[i].name) != i)
			return NULL; /* a field named twice */
	for (s = json_array_size(specs); s-- > 0;) {
		spec = json_array_get(specs, s);
		fields = json_object_get(spec, "fields");
		if (json_array_size(fields) != n)
			continue;
		for (i = 0; i < n && pair_named(p, n, fstr(json_array_get(fields, i), "name")) < n; i++)
			;
		if (i == n)
			return spec;
	}
	return NULL;
}

/* ---- partition keys ---- */

/* KEY as name=value pairs: split at '/', a piece without '=' belonging to
 * the value before it (a raw value with a slash). */
static int split_key(const char *key, kv **out, size_t *n)
{
	size_t cap = 1, k = 0, len;
	const char *p = key, *slash, *eq;
	kv *v;

	for (const char *q = key; *q; q++)
		cap += *q == '/';
	if (!(v = calloc(cap, sizeof *v)))
		return ICE_ENOMEM;
	while (*p) {
		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		eq = memchr(p, '=', len);
		if (eq || k == 0) {
			v[k].name = eq ? strndup(p, (size_t)(eq - p)) : strdup("");
			v[k].value = eq ? strndup(eq + 1, len - (size_t)(eq - p) - 1) : strndup(p, len);
			if (!v[k].name || !v[k].value) {
				kv_free(v, k + 1);
				return ICE_ENOMEM;
			}
			k++;
		} else {
			char *joined;
			if (asprintf(&joined, "%s/%.*s", v[k - 1].value, (int)len, p) < 0) {
				kv_free(v, k);
				return ICE_ENOMEM;
			}
			free(v[k - 1].value);
			v[k - 1].value = joined;
		}
		p += len + (slash ? 1 : 0);
	}
	*out = v;
	*n = k;
	return ICE_OK;
}

/* Column names to field names, values cut and escaped. */
static int canon_pairs(const json_t *info, kv *p, size_t n)
{
	const json_t *f;
	size_t len;
	char *v;

	for (size_t i = 0; i < n; i++) {
		if (info && !is_field(info, p[i].name) && (f = field_of_column(info, p[i].name))) {
			free(p[i].name);
			if (!(p[i].name = strdup(fstr(f, "name"))))
				return ICE_ENOMEM;
			p[i].transform = fstr(f, "transform");
			len = strlen(p[i].value);
			if (!is_escaped(p[i].value, len))
				cut_for(p[i].transform, p[i].value, &len);
		}
		if (!(v = canon_value(p[i].value, strlen(p[i].value))))
			return ICE_ENOMEM;
		free(p[i].value);
		p[i].value = v;
	}
	return ICE_OK;
}

/* "partition:T:" + the pairs in the order of the spec that has them. */
static char *join_pairs(const char *head, size_t head_len, const json_t *spec, const kv *p,
                        size_t n)
{
	const json_t *fields = json_object_get(spec, "fields");
	size_t len = head_len + 1, i, j, k = 0;
	char *out, *q;

	for (i = 0; i < n; i++)
		len += strlen(p[i].name) + strlen(p[i].value) + 2;
	if (!(out = q = malloc(len)))
		return NULL;
	memcpy(q, head, head_len);
	q += head_len;
	for (i = 0; i < n; i++) {
		j = spec ? pair_named(p, n, fstr(json_array_get(fields, i), "name")) : i;
		if (j >= n) /* spec_with matched every field: not reached */
			j = i;
		q += sprintf(q, "%s%s=%s", k++ ? "/" : "", p[j].name, p[j].value);
	}
	*q = '\0';
	return out;
}

/* The KEY of a partition tag, and where it starts (NULL: not one). */
static const char *partition_key(const char *tag)
{
	const char *colon;

	if (strncmp(tag, "partition:", 10) != 0 || !(colon = strchr(tag + 10, ':')))
		return NULL;
	return colon + 1;
}

char *ice_tag_canonical(const char *tag, const json_t *info)
{
	const char *key = partition_key(tag);
	kv *p = NULL;
	size_t n = 0;
	char *out = NULL;

	if (!key || !*key)
		return strdup(tag);
	if (split_key(key, &p, &n))
		return NULL;
	if (canon_pairs(info, p, n) == ICE_OK)
		out = join_pairs(tag, (size_t)(key - tag), info ? spec_with(info, p, n) : NULL, p, n);
	kv_free(p, n);
	return out;
}

/* ---- close matches ---- */

static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, cur, *row;

	if (la > 64 || lb > 64)
		return strcmp(a, b) ? 64 : 0;
	if (!(row = malloc((lb + 1) * sizeof *row)))
		return 64;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = row[j];
			row[j] = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? prev
			         : 1 + (prev < row[j] ? (prev < row[j - 1] ? prev : row[j - 1])
			                              : (row[j] < row[j - 1] ? row[j] : row[j - 1]));
			prev = cur;
		}
	}
	i = row[lb];
	free(row);
	return i;
}

static const char *last_part(const char *s)
{
	const char *dot = strrchr(s, '.');

	return dot ? dot + 1 : s;
}

/* Close enough to be what was meant: a few typos, or the same last name
 * ("orders", "default.db.orders" and "default.orders"). */
static int close_to(const char *want, const char *have)
{
	size_t l = strlen(want) > strlen(have) ? strlen(want) : strlen(have);

	return distance(want, have) <= (l / 4 > 2 ? l / 4 : 2) ||
	       strcmp(last_part(want), last_part(have)) == 0;
}

/* Append "'name'" to a growing list when close (or every one: all). */
static int add_match(char **list, const char *name, const char *want, int all)
{
	char *grown, *quoted;
	int named;

	if (!all && !close_to(want, name))
		return ICE_OK;
	if (asprintf(&quoted, "'%s'", name) < 0)
		return ICE_ENOMEM;
	named = *list && strstr(*list, quoted); /* a field of several specs: once */
	free(quoted);
	if (named)
		return ICE_OK;
	if (asprintf(&grown, "%s%s'%s'", *list ? *list : "", *list ? ", " : "", name) < 0)
		return ICE_ENOMEM;
	free(*list);
	*list = grown;
	return ICE_OK;
}

/* ---- problems ---- */

static char *fields_list(const json_t *info, const char *want, int all)
{
	const json_t *spec, *f;
	size_t si, fi;
	char *list = NULL;

	FOR_FIELDS(info, spec, si, f, fi) {
		if (fstr(f, "name"))
			add_match(&list, fstr(f, "name"), want, all);
		if (!all && fstr(f, "source"))
			add_match(&list, fstr(f, "source"), want, 0);
	}
	return list;
}

static int partitioned(const json_t *info)
{
	const json_t *spec, *f;
	size_t si, fi;

	FOR_FIELDS(info, spec, si, f, fi)
		return 1;
	return 0;
}

/* A field name the table does not have, with the close ones. */
static char *unknown_field(const json_t *info, const char *table, const char *name)
{
	char *close = fields_list(info, name, 0), *all = close ? NULL : fields_list(info, name, 1), *why;

	if (asprintf(&why, "table '%s' has no partition field '%s' (%s %s%s)", table, name,
	             close ? "did you mean" : "its fields:", close ? close : all ? all : "none",
	             close ? "?" : "") < 0)
		why = NULL;
	free(close);
	free(all);
	return why;
}

/* The fields of each spec: "spec 0: a; spec 1: a/b". */
static char *specs_list(const json_t *info)
{
	const json_t *spec, *f;
	size_t si, fi;
	char *list = NULL, *grown;

	json_array_foreach(json_object_get(info, "specs"), si, spec) {
		if (asprintf(&grown, "%s%sspec %lld:", list ? list : "", list ? "; " : "",
		             (long long)json_integer_value(json_object_get(spec, "spec_id"))) < 0)
			break;
		free(list);
		list = grown;
		json_array_foreach(json_object_get(spec, "fields"), fi, f) {
			if (asprintf(&grown, "%s%s%s", list, fi ? "/" : " ", fstr(f, "name") ? fstr(f, "name") : "?") < 0)
				break;
			free(list);
			list = grown;
		}
	}
	return list;
}

/* The problem of file tag file:T:PATH, or NULL: a missing or relative
 * PATH never equals the full path a manifest holds (ice_path_is_full). */
static char *file_problem(const char *tag, int *oom)
{
	const char *t, *path;
	size_t tl;
	char *why = NULL;
	int n;

	if (!ice_tag_table(tag, &t, &tl))
		return NULL;
	path = t[tl] == ':' ? t + tl + 1 : "";
	if (ice_path_is_full(path))
		return NULL;
	if (!*path)
		n = asprintf(&why, "file tag without a path (file:%.*s:PATH, PATH as the manifests hold it)",
		             (int)tl, t);
	else
		n = asprintf(&why, "file path '%s' is relative: the pipeline emits the full path the manifests "
		                   "hold (absolute, or a URI such as s3://bucket/...)", path);
	if (n < 0) {
		*oom = 1;
		why = NULL;
	}
	return why;
}

char *ice_tag_problem(const char *tag, const json_t *info, int *oom)
{
	const char *key = partition_key(tag), *t;
	char *table = NULL, *why = NULL, *specs;
	kv *p = NULL;
	size_t n = 0, tl, i;

	*oom = 0;
	if (ice_tag_is_file(tag))
		return file_problem(tag, oom);
	if (!key || !info || !ice_tag_table(tag, &t, &tl))
		return NULL;
	if (!(table = strndup(t, tl)) || split_key(key, &p, &n))
		goto oom;
	if (!partitioned(info)) {
		if (asprintf(&why, "table '%s' is not partitioned (tag it table:%s)", table, table) < 0)
			goto oom;
		goto out;
	}
	for (i = 0; i < n && !why; i++)
		if (!is_field(info, p[i].name) && !(why = unknown_field(info, table, p[i].name)))
			goto oom;
	if (!why && !spec_with(info, p, n)) {
		specs = specs_list(info);
		if (asprintf(&why, "no partition spec of table '%s' has exactly the fields of '%s' (%s)",
		             table, key, specs ? specs : "?") < 0)
			why = NULL;
		free(specs);
		if (!why)
			goto oom;
	}
	goto out;
oom:
	*oom = 1;
out:
	kv_free(p, n);
	free(table);
	return why;
}

/* ---- recording ---- */

int ice_table_info_record(ice_backend *b, const json_t *diff, ice_err *err)
{
	const char *table = json_string_value(json_object_get(diff, "table"));
	json_t *old = NULL, *info, *v;
	ice_err ignored = { 0 };
	int rc;

	if (!table || !*table)
		return ICE_OK;
	ice_backend_cursor_get(b, table, ICE_TABLE_INFO_CURSOR, &old, &ignored);
	if (!(info = json_pack("{s:s, s:I}", "table", table, "updated_ms", (json_int_t)ice_now_ms()))) {
		json_decref(old);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	/* what the diff says, else what was known */
	v = json_object_get(diff, "table_uuid");
	json_object_set(info, "table_uuid", json_is_string(v) ? v : json_object_get(old, "table_uuid"));
	v = json_object_get(diff, "specs");
	json_object_set(info, "specs", json_is_array(v) ? v : json_object_get(old, "specs"));
	if (!json_object_get(info, "table_uuid"))
		json_object_del(info, "table_uuid");
	if (!json_object_get(info, "specs"))
		json_object_del(info, "specs");
	rc = ice_backend_cursor_set(b, table, ICE_TABLE_INFO_CURSOR, info, err);
	json_decref(info);
	json_decref(old);
	return rc;
}

/* ---- the memo ---- */

#define UNSEEN_MEMO_MS 1000

struct ice_tagnorm {
	ice_backend *b;
	json_t *infos;  /* table -> info, null (seen, no info) or the time (ms) it was
	                 * found never seen: asked again a second later, as a
	                 * long-lived handle (the shell) outlives a first commit */
	char **tables;  /* the tables the store knows, for close matches */
	size_t n_tables;
	int have_tables;
};

ice_tagnorm *ice_tagnorm_new(ice_backend *b)
{
	ice_tagnorm *t = calloc(1, sizeof *t);

	if (t && !(t->infos = json_object())) {
		free(t);
		return NULL;
	}
	if (t)
		t->b = b;
	return t;
}

void ice_tagnorm_free(ice_tagnorm *t)
{
	if (!t)
		return;
	json_decref(t->infos);
	ice_backend_strv_free(t->tables, t->n_tables);
	free(t);
}

/* A cursor of table: 1 set, 0 unset, < 0 failed (err set). */
static int cursor(ice_tagnorm *t, const char *table, const char *name, json_t **v, ice_err *err)
{
	ice_err e = { 0 };
	int rc = ice_backend_cursor_get(t->b, table, name, v, &e);

	if (rc == ICE_ENOENT)
		return 0;
	if (rc == ICE_EFORMAT) /* a cursor someone else wrote: as if unset */
		return 0;
	if (rc) {
		ice_err_set(err, (ice_code)rc, "%s", e.msg);
		return -rc;
	}
	return 1;
}

int ice_tagnorm_info(ice_tagnorm *t, const char *table, size_t len, const json_t **info,
                     int *seen, ice_err *err)
{
	char *name = strndup(table, len);
	json_t *v = NULL, *memo;
	int rc = ICE_OK, got;

	*info = NULL;
	*seen = 0;
	if (!name)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	memo = json_object_get(t->infos, name);
	if (json_is_integer(memo) && ice_now_ms() - json_integer_value(memo) > UNSEEN_MEMO_MS)
		memo = NULL;
	if (!memo) {
		if ((got = cursor(t, name, ICE_TABLE_INFO_CURSOR, &v, err)) < 0 ||
		    (!got && (got = cursor(t, name, "invalidated", &v, err)) < 0)) {
			rc = -got;
			goto out;
		}
		if (got && !json_object_get(v, "table")) { /* an "invalidated" cursor */
			json_decref(v);
			v = json_null();
		}
		memo = got ? v : json_integer((json_int_t)ice_now_ms());
		/* keyed by the name's bytes (it may not be UTF-8): a private memo,
		 * never written out; a failed set has freed memo */
		if (!memo || json_object_set_new_nocheck(t->infos, name, memo)) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			goto out;
		}
	}
	*seen = !json_is_integer(memo);
	*info = json_is_object(memo) ? memo : NULL;
out:
	free(name);
	return rc;
}

int ice_tagnorm_tags(ice_tagnorm *t, const char *const *tags, size_t n, char ***out,
                     ice_err *err)
{
	char **v = calloc(n ? n : 1, sizeof *v);
	const json_t *info;
	const char *tb;
	size_t i, tl;
	int rc = ICE_OK, seen;

	if (!v)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (i = 0; i < n && !rc; i++) {
		info = NULL;
		if (partition_key(tags[i]) && ice_tag_table(tags[i], &tb, &tl))
			rc = ice_tagnorm_info(t, tb, tl, &info, &seen, err);
		if (!rc && !(v[i] = ice_tag_canonical(tags[i], info)))
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	if (rc) {
		ice_backend_strv_free(v, n);
		return rc;
	}
	*out = v;
	return ICE_OK;
}

/* The tables the pipeline has seen, close to table, as "'a', 'b'". */
static char *close_tables(ice_tagnorm *t, const char *table, ice_err *err)
{
	const json_t *info;
	char *list = NULL;
	int seen;

	if (!t->have_tables && ice_backend_tables(t->b, &t->tables, &t->n_tables, err) == ICE_OK)
		t->have_tables = 1;
	for (size_t i = 0; i < t->n_tables; i++)
		if (strcmp(t->tables[i], table) != 0 &&
		    ice_tagnorm_info(t, t->tables[i], strlen(t->tables[i]), &info, &seen, err) == ICE_OK && seen)
			add_match(&list, t->tables[i], table, 0);
	return list;
}

static char *unseen_table(ice_tagnorm *t, const char *table, ice_err *err)
{
	char *close = close_tables(t, table, err), *why;

	if (asprintf(&why, "the pipeline has never invalidated table '%s' in this cache%s%s%s", table,
	             close ? " (did you mean " : "", close ? close : "", close ? "?)" : "") < 0)
		why = NULL;
	free(close);
	return why;
}

/* One tag's problem, or NULL; *told says the table was already reported. */
static int lint_one(ice_tagnorm *t, const char *tag, json_t *told, char **why, ice_err *err)
{
	const json_t *info;
	const char *tb;
	char *table;
	size_t tl;
	int rc, seen, oom = 0;

	*why = NULL;
	if (!ice_tag_table(tag, &tb, &tl))
		return ICE_OK;
	if ((rc = ice_tagnorm_info(t, tb, tl, &info, &seen, err)))
		return rc;
	if (!(table = strndup(tb, tl)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (!seen && !json_object_get(told, table)) {
		json_object_set_new_nocheck(told, table, json_true()); /* bytes: never written out */
		if (!(*why = unseen_table(t, table, err)))
			oom = 1;
	} else if (seen) {
		*why = ice_tag_problem(tag, info, &oom);
	}
	free(table);
	return oom ? ice_err_set(err, ICE_ENOMEM, "out of memory") : ICE_OK;
}

int ice_tagnorm_lint(ice_tagnorm *t, const char *const *tags, size_t n, ice_tag_problem_cb cb,
                     void *ctx, size_t *problems, ice_err *err)
{
	json_t *told = json_object();
	char *why;
	int rc = told ? ICE_OK : ice_err_set(err, ICE_ENOMEM, "out of memory");

	*problems = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if ((rc = lint_one(t, tags[i], told, &why, err)) || !why)
			continue;
		cb(ctx, tags[i], why);
		(*problems)++;
		free(why);
	}
	json_decref(told);
	return rc;
}
