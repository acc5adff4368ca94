/* stats: gather a cache's counters, sizes and cursors into one JSON document
 * (the model behind every view of ice-stat). */
#include "config.h"
#include "ice_stats.h"
#include "ice_jsonl.h"
#include "ice_time.h"

#include <stdlib.h>
#include <string.h>

/* sizes: {TABLE: {"entries":N, "bytes":N}} filled by the scan. */
static json_t *size_of(json_t *sizes, const char *table)
{
	json_t *s = json_object_get(sizes, table);

	if (!s && (s = json_pack("{s:I, s:I, s:I}", "entries", (json_int_t)0, "bytes", (json_int_t)0,
	                         "shared_entries", (json_int_t)0)))
		/* a table name is bytes: this object is never written out */
		if (json_object_set_new_nocheck(sizes, table, s))
			s = NULL;
	return s;
}

static void add_to(json_t *obj, const char *field, json_int_t n)
{
	json_t *v = json_object_get(obj, field);

	json_integer_set(v, json_integer_value(v) + n);
}

typedef struct scan_sizes {
	json_t *sizes;
	int oom;
} scan_sizes;

static int count_entry(void *ctx, const char *key, const ice_entry_meta *m)
{
	scan_sizes *c = ctx;
	json_t *s = size_of(c->sizes, m->table ? m->table : "_");

	(void)key;
	if (!s)
		return c->oom = 1; /* stop the scan */
	add_to(s, "entries", 1);
	add_to(s, "bytes", (json_int_t)m->size);
	/* an entry over several tables counts as shared in each of them */
	for (size_t i = 0; m->n_tables > 1 && i < m->n_tables; i++) {
		if (!(s = size_of(c->sizes, m->tables[i])))
			return c->oom = 1;
		add_to(s, "shared_entries", 1);
	}
	return 0;
}

static void set_hit_rate(json_t *obj)
{
	json_int_t hits = json_integer_value(json_object_get(obj, "hits"));
	json_int_t lookups = hits + json_integer_value(json_object_get(obj, "misses"));

	json_object_set_new(obj, "hit_rate", lookups > 0 ? json_real((double)hits / (double)lookups) : json_null());
}

/* Copy the counters of table (NULL: global) into obj. */
static int add_counters(ice_backend *b, const char *table, json_t *obj, ice_err *err)
{
	json_t *c = NULL;
	size_t i;
	int rc;

	if ((rc = ice_backend_counters(b, table, &c, err)))
		return rc;
	for (i = 0; i < ICE_BACKEND_N_COUNTERS; i++)
		json_object_set(obj, ice_backend_counter_names[i], json_object_get(c, ice_backend_counter_names[i]));
	json_decref(c);
	set_hit_rate(obj);
	return ICE_OK;
}

/* {"snapshot_id", "updated_ms", "age_s"} from the table's "invalidated"
 * cursor (fields the cursor lacks are left out), or null when unset. */
static int last_invalidated(ice_backend *b, const char *table, int64_t now, json_t **out, ice_err *err)
{
	json_t *cur = NULL, *id, *at;
	int rc = ice_backend_cursor_get(b, table, "invalidated", &cur, err);

	*out = NULL;
	if (rc == ICE_ENOENT || (rc == ICE_OK && !json_is_object(cur)) || rc == ICE_EFORMAT) {
		json_decref(cur);
		*out = json_null();
		return ICE_OK; /* never invalidated, or a cursor of another shape */
	}
	if (rc)
		return rc;
	id = json_object_get(cur, "snapshot_id");
	at = json_object_get(cur, "updated_ms");
	*out = json_object();
	if (*out && json_is_integer(id))
		json_object_set(*out, "snapshot_id", id);
	if (*out && json_is_integer(at)) {
		json_object_set(*out, "updated_ms", at);
		json_object_set_new(*out, "age_s", json_integer((json_int_t)((now - json_integer_value(at)) / 1000)));
	}
	json_decref(cur);
	return *out ? ICE_OK : ice_err_set(err, ICE_ENOMEM, "out of memory");
}

static int table_record(ice_backend *b, const char *table, json_t *sizes, int64_t now, json_t **out,
                        ice_err *err)
{
	json_t *s = size_of(sizes, table), *last = NULL;
	int rc;

	*out = s ? json_pack("{s:o, s:O, s:O, s:O}", "table", ice_json_text(table), "entries", json_object_get(s, "entries"),
	                     "bytes", json_object_get(s, "bytes"), "shared_entries",
	                     json_object_get(s, "shared_entries")) : NULL;
	if (!*out)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if ((rc = add_counters(b, table, *out, err)) || (rc = last_invalidated(b, table, now, &last, err))) {
		json_decref(*out);
		*out = NULL;
		return rc;
	}
	json_object_set_new(*out, "last_invalidated", last);
	return ICE_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Tables the backend lists plus any seen in the scan (an entry whose table
 * has no tag keys, e.g. written by hand), sorted. */
static int all_tables(ice_backend *b, json_t *sizes, char ***tables, size_t *n, ice_err *err)
{
	const char *t;
	json_t *v;
	size_t i;
	int rc;

	if ((rc = ice_backend_tables(b, tables, n, err)))
		return rc;
	json_object_foreach(sizes, t, v) {
		char **grown;
		for (i = 0; i < *n && strcmp((*tables)[i], t) != 0; i++)
			;
		if (i < *n)
			continue;
		if (!(grown = realloc(*tables, (*n + 1) * sizeof *grown)) || !(grown[*n] = strdup(t))) {
			if (grown)
				*tables = grown;
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		}
		*tables = grown;
		(*n)++;
	}
	if (*n > 1)
		qsort(*tables, *n, sizeof **tables, cmp_str);
	return ICE_OK;
}

static int totals(ice_backend *b, json_t *sizes, json_t *doc, ice_err *err)
{
	json_t *t = json_pack("{s:I, s:I}", "entries", (json_int_t)0, "bytes", (json_int_t)0), *s;
	const char *name;

	if (!t)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	json_object_foreach(sizes, name, s) {
		add_to(t, "entries", json_integer_value(json_object_get(s, "entries")));
		add_to(t, "bytes", json_integer_value(json_object_get(s, "bytes")));
	}
	json_object_set_new(doc, "totals", t);
	return add_counters(b, NULL, t, err);
}

/* {"backend", "location"} at the top, the rest under "server". */
static int server(ice_backend *b, json_t *doc, ice_err *err)
{
	json_t *info = NULL;
	int rc;

	if ((rc = ice_backend_server_info(b, &info, err)))
		return rc;
	json_object_set(doc, "backend", json_object_get(info, "backend"));
	json_object_set(doc, "location", json_object_get(info, "location"));
	json_object_del(info, "backend");
	json_object_del(info, "location");
	json_object_set_new(doc, "server", info);
	return ICE_OK;
}

int ice_stats_collect(ice_backend *b, json_t **out, ice_err *err)
{
	json_t *doc = NULL, *list = json_array(), *rec;
	scan_sizes sz = { json_object(), 0 };
	char **tables = NULL;
	size_t n = 0, i;
	int64_t now = ice_now_ms();
	int rc;

	*out = NULL;
	if (!sz.sizes || !list || !(doc = json_pack("{s:s, s:I}", "kind", "stats", "time_ms", (json_int_t)now))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = server(b, doc, err)) || (rc = ice_backend_scan(b, NULL, NULL, NULL, count_entry, &sz, err)))
		goto out;
	if (sz.oom) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = totals(b, sz.sizes, doc, err)) || (rc = all_tables(b, sz.sizes, &tables, &n, err)))
		goto out;
	for (i = 0; i < n; i++) {
		if ((rc = table_record(b, tables[i], sz.sizes, now, &rec, err)))
			goto out;
		json_array_append_new(list, rec);
	}
	json_object_set(doc, "tables", list);
	*out = doc;
	doc = NULL;
out:
	ice_backend_strv_free(tables, n);
	json_decref(sz.sizes);
	json_decref(list);
	json_decref(doc);
	return rc;
}
