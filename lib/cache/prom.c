/* prom: a stats document in the Prometheus text exposition format (0.0.4):
 * HELP and TYPE lines, base units, _total counters, labels backend and
 * table, every name under icecache_. */
#include "config.h"
#include "ice_stats.h"
#include "ice_jsonl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where a family's samples come from: a field of "totals" or "server"
 * (one sample), or of each "tables" record (one sample per table). */
typedef enum { FROM_TOTALS, FROM_SERVER, FROM_TABLE, FROM_LAST } source;

typedef struct family {
	const char *name, *type, *help;
	source from;
	const char *field;
} family;

static const family families[] = {
	{ "icecache_entries", "gauge", "Entries in the cache.", FROM_TOTALS, "entries" },
	{ "icecache_value_bytes", "gauge", "Bytes of cached values, all entries.", FROM_TOTALS, "bytes" },
	{ "icecache_hits_total", "counter", "Reads that found their entry.", FROM_TOTALS, "hits" },
	{ "icecache_misses_total", "counter", "Reads that found no entry, keys of no known table included.",
	  FROM_TOTALS, "misses" },
	{ "icecache_puts_total", "counter", "Entries written.", FROM_TOTALS, "puts" },
	{ "icecache_invalidations_total", "counter", "Invalidation calls (one per batch of tags).",
	  FROM_TOTALS, "invalidations" },
	{ "icecache_invalidated_entries_total", "counter", "Entries removed by invalidation.", FROM_TOTALS,
	  "invalidated" },
	{ "icecache_memory_used_bytes", "gauge", "Memory the store uses (the whole Redis server).",
	  FROM_SERVER, "used_bytes" },
	{ "icecache_memory_max_bytes", "gauge", "The store's memory limit, 0 for none.", FROM_SERVER,
	  "max_bytes" },
	{ "icecache_evicted_keys_total", "counter",
	  "Keys the store evicted under memory pressure (the whole Redis server; an entry is two keys).",
	  FROM_SERVER, "evicted" },
	{ "icecache_expired_keys_total", "counter",
	  "Keys the store expired by TTL (the whole Redis server; an entry is two keys).", FROM_SERVER,
	  "expired" },
	{ "icecache_table_entries", "gauge", "Entries of the table.", FROM_TABLE, "entries" },
	{ "icecache_table_value_bytes", "gauge", "Bytes of the table's cached values.", FROM_TABLE, "bytes" },
	{ "icecache_table_shared_entries", "gauge",
	  "Entries that depend on the table and on another one too (cached joins).", FROM_TABLE,
	  "shared_entries" },
	{ "icecache_table_hits_total", "counter", "Reads that found an entry of the table.", FROM_TABLE, "hits" },
	{ "icecache_table_misses_total", "counter", "Reads of a key of the table whose entry was gone.",
	  FROM_TABLE, "misses" },
	{ "icecache_table_puts_total", "counter", "Entries of the table written.", FROM_TABLE, "puts" },
	{ "icecache_table_invalidations_total", "counter", "Invalidations that named or touched the table.",
	  FROM_TABLE, "invalidations" },
	{ "icecache_table_invalidated_entries_total", "counter", "Entries of the table removed by invalidation.",
	  FROM_TABLE, "invalidated" },
	{ "icecache_table_last_invalidation_timestamp_seconds", "gauge",
	  "Unix time when ice-invalidate last finished a snapshot of the table.", FROM_LAST, "updated_ms" },
	{ "icecache_table_last_invalidated_snapshot_info", "gauge",
	  "The snapshot ice-invalidate last finished for the table (in the snapshot_id label).", FROM_LAST,
	  "snapshot_id" },
};

/* A label value with \, " and newline escaped. */
static void put_label(FILE *f, const char *name, const char *v)
{
	fprintf(f, "%s=\"", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

static void head(FILE *f, const family *fa)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", fa->name, fa->help, fa->name, fa->type);
}

/* One sample of fa: name{backend="B"[,table="T"][,snapshot_id="N"]} VALUE. */
static void sample(FILE *f, const family *fa, const char *backend, const char *table, const json_t *v)
{
	fprintf(f, "%s{", fa->name);
	put_label(f, "backend", backend);
	if (table) {
		fputc(',', f);
		put_label(f, "table", table);
	}
	if (fa->from == FROM_LAST && strcmp(fa->field, "snapshot_id") == 0) {
		fprintf(f, ",snapshot_id=\"%lld\"} 1\n", (long long)json_integer_value(v));
		return;
	}
	if (fa->from == FROM_LAST) /* milliseconds to the base unit */
		fprintf(f, "} %.3f\n", (double)json_integer_value(v) / 1000.0);
	else
		fprintf(f, "} %lld\n", (long long)json_integer_value(v));
}

/* A family's samples, the HELP and TYPE lines only when it has any;
 * names[i] the label of table i. */
static void put_family(FILE *f, const family *fa, const json_t *stats, const char *backend,
                       char *const *names)
{
	const json_t *tables = json_object_get(stats, "tables"), *t, *v;
	int headed = 0;
	size_t i;

	if (fa->from == FROM_TOTALS || fa->from == FROM_SERVER) {
		v = json_object_get(json_object_get(stats, fa->from == FROM_TOTALS ? "totals" : "server"), fa->field);
		if (json_is_integer(v)) {
			head(f, fa);
			sample(f, fa, backend, NULL, v);
		}
		return;
	}
	json_array_foreach(tables, i, t) {
		const json_t *src = fa->from == FROM_TABLE ? t : json_object_get(t, "last_invalidated");
		v = json_object_get(src, fa->field);
		if (!json_is_integer(v))
			continue;
		if (!headed++)
			head(f, fa);
		sample(f, fa, backend, names[i], v);
	}
}

/* The label of each table of stats, made once for every family: its name
 * with control characters and stray bytes as \xHH, valid UTF-8. A new
 * vector of n new strings, or NULL when out of memory. */
static char **table_labels(const json_t *stats, size_t *n)
{
	const json_t *tables = json_object_get(stats, "tables"), *t;
	char **names;
	size_t i;

	*n = json_array_size(tables);
	if (!(names = calloc(*n + 1, sizeof *names)))
		return NULL;
	json_array_foreach(tables, i, t) {
		if (!(names[i] = ice_json_text_shown(json_object_get(t, "table"), NULL))) {
			ice_backend_strv_free(names, i);
			return NULL;
		}
	}
	return names;
}

int ice_stats_prometheus(const json_t *stats, const char *backend, double scrape_s,
                         char **text, size_t *len, ice_err *err)
{
	FILE *f;
	char **names;
	size_t i, n = 0;
	int bad;

	*text = NULL;
	*len = 0;
	if (stats && json_is_string(json_object_get(stats, "backend")))
		backend = json_string_value(json_object_get(stats, "backend"));
	if (!(f = open_memstream(text, len)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (!backend)
		backend = "";
	fputs("# HELP icecache_up 1 when the cache backend answered this collection, else 0.\n"
	      "# TYPE icecache_up gauge\nicecache_up{", f);
	put_label(f, "backend", backend);
	fprintf(f, "} %d\n", stats ? 1 : 0);
	if (scrape_s >= 0) {
		fputs("# HELP icecache_scrape_duration_seconds Seconds the collection took.\n"
		      "# TYPE icecache_scrape_duration_seconds gauge\nicecache_scrape_duration_seconds{", f);
		put_label(f, "backend", backend);
		fprintf(f, "} %.6f\n", scrape_s);
	}
	names = stats ? table_labels(stats, &n) : NULL;
	bad = stats && !names;
	for (i = 0; names && i < sizeof families / sizeof families[0]; i++)
		put_family(f, &families[i], stats, backend, names);
	ice_backend_strv_free(names, n);
	bad |= ferror(f);
	if (fclose(f) != 0 || bad) {
		free(*text);
		*text = NULL;
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	return ICE_OK;
}
