/* ice-mktable: table metadata JSON (jansson): finding and loading the current
 * version, writing new versions atomically (optionally gzip), the version
 * hint, the sidecar with the tool's own settings, and path mapping. */
#include "mktable.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIDECAR ".ice-mktable.json"

/* version number of a metadata file name, 0 if it is not one */
static int meta_version(const char *name, bool *gz, bool *uuid_named)
{
	size_t n = strlen(name);
	const char *suf = ".metadata.json";
	size_t sl = strlen(suf);
	int v = 0, digits = 0;
	const char *p = name;

	if (n <= sl || strcmp(name + n - sl, suf) != 0)
		return 0;
	*gz = n > sl + 3 && strncmp(name + n - sl - 3, ".gz", 3) == 0;
	*uuid_named = name[0] != 'v';
	if (*p == 'v')
		p++;
	for (; isdigit((unsigned char)*p) && digits < 9; p++, digits++)
		v = v * 10 + (*p - '0');
	if (digits == 0)
		return 0;
	if (!*uuid_named)
		return (*p == '.') ? v : 0;
	return (*p == '-') ? v + 1 : 0;
}

static int find_current(const char *metadir, char **name, int *version)
{
	DIR *d = opendir(metadir);
	struct dirent *de;
	int best = 0;

	*name = NULL;
	if (!d) {
		mk_err("cannot open %s: %s (not a table?)", metadir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		bool gz, un;
		int v = meta_version(de->d_name, &gz, &un);
		if (v > best) {
			best = v;
			free(*name);
			*name = mk_strdup(de->d_name);
		}
	}
	closedir(d);
	if (!best) {
		mk_err("no metadata file in %s", metadir);
		return -1;
	}
	*version = best;
	return 0;
}

static json_t *load_json(const char *path)
{
	unsigned char *buf = NULL, *plain = NULL;
	size_t len = 0, plen = 0;
	json_t *js = NULL;
	json_error_t je;

	if (mk_read_file(path, &buf, &len) != 0)
		return NULL;
	if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
		if (mk_gunzip(buf, len, &plain, &plen) != 0)
			goto out;
		js = json_loadb((const char *)plain, plen, 0, &je);
	} else {
		js = json_loadb((const char *)buf, len, 0, &je);
	}
	if (!js)
		mk_err("%s: bad JSON: %s (line %d)", path, je.text, je.line);
out:
	free(buf);
	free(plain);
	return js;
}

static void load_sidecar(mk_table *t)
{
	char *p = mk_printf("%s/%s", t->dir, SIDECAR);
	json_t *sc = mk_file_exists(p) ? load_json(p) : NULL;
	const char *s;
	bool gz, un;

	meta_version(t->meta_name, &gz, &un);
	t->naming = un ? NAMING_UUID : NAMING_V;
	t->gzip = gz;
	free(p);
	p = mk_printf("%s/version-hint.text", t->metadir);
	t->hint = mk_file_exists(p) ? HINT_NUMBER : HINT_NONE;
	free(p);
	t->seeded = false;
	t->rng = mk_time_seed();
	if (!sc)
		return;
	s = json_string_value(json_object_get(sc, "naming"));
	if (s)
		t->naming = strcmp(s, "uuid") == 0 ? NAMING_UUID : NAMING_V;
	s = json_string_value(json_object_get(sc, "hint"));
	if (s)
		t->hint = strcmp(s, "name") == 0 ? HINT_NAME :
			  strcmp(s, "none") == 0 ? HINT_NONE : HINT_NUMBER;
	if (json_object_get(sc, "gzip"))
		t->gzip = json_is_true(json_object_get(sc, "gzip"));
	t->nullable_manifests = json_is_true(json_object_get(sc, "nullable_manifests"));
	t->restarted = json_is_true(json_object_get(sc, "restarted"));
	t->unsigned_ids = json_is_true(json_object_get(sc, "unsigned_ids"));
	if (json_is_true(json_object_get(sc, "seeded"))) {
		s = json_string_value(json_object_get(sc, "rng"));
		if (s) {
			t->seeded = true;
			t->rng = strtoull(s, NULL, 16);
		}
	}
	json_decref(sc);
}

int mk_sidecar_save(const mk_table *t)
{
	char rng[20];
	json_t *sc;
	char *text;
	int rc;

	snprintf(rng, sizeof(rng), "%016llx", (unsigned long long)t->rng);
	sc = json_pack("{s:s,s:s,s:s,s:b,s:b,s:b,s:b,s:b,s:s,s:s?}", "tool", "ice-mktable",
		       "naming", t->naming == NAMING_UUID ? "uuid" : "v", "hint",
		       t->hint == HINT_NAME ? "name" : t->hint == HINT_NONE ? "none" : "number",
		       "gzip", t->gzip, "nullable_manifests", t->nullable_manifests, "restarted",
		       t->restarted, "unsigned_ids", t->unsigned_ids, "seeded", t->seeded, "rng", rng,
		       "current", t->meta_name);
	text = json_dumps(sc, JSON_INDENT(2));
	json_decref(sc);
	rc = mk_write_atomic(t->dir, SIDECAR, text, strlen(text));
	free(text);
	return rc;
}

const mk_spec *mk_table_spec(const mk_table *t, int id)
{
	for (int i = 0; i < t->nspecs; i++)
		if (t->specs[i].id == id)
			return &t->specs[i];
	return NULL;
}

static json_t *current_schema_json(json_t *meta)
{
	json_t *schemas = json_object_get(meta, "schemas"), *s;
	json_int_t cur = json_integer_value(json_object_get(meta, "current-schema-id"));
	size_t i;

	json_array_foreach(schemas, i, s)
		if (json_integer_value(json_object_get(s, "schema-id")) == cur)
			return s;
	return json_object_get(meta, "schema");
}

/* (re)derive schema and specs from t->meta */
int mk_table_parse(mk_table *t)
{
	json_t *sj = current_schema_json(t->meta), *specs, *sp;
	size_t i;

	mk_schema_free(&t->schema);
	free(t->specs);
	t->specs = NULL;
	t->nspecs = 0;
	if (!sj || mk_schema_from_json(sj, &t->schema) != 0) {
		mk_err("cannot read the current schema of %s", t->meta_name);
		return -1;
	}
	specs = json_object_get(t->meta, "partition-specs");
	if (!json_is_array(specs)) {
		json_t *legacy = json_pack("[{s:i,s:O}]", "spec-id", 0, "fields",
					   json_object_get(t->meta, "partition-spec"));
		json_object_set_new(t->meta, "partition-specs", legacy ? legacy : json_array());
		specs = json_object_get(t->meta, "partition-specs");
	}
	t->specs = calloc(json_array_size(specs) + 1, sizeof(mk_spec));
	if (!t->specs)
		return -1;
	json_array_foreach(specs, i, sp) {
		if (mk_spec_from_json(sp, &t->schema, &t->specs[t->nspecs]) != 0)
			return -1;
		t->nspecs++;
	}
	t->default_spec = (int)json_integer_value(json_object_get(t->meta, "default-spec-id"));
	if (!mk_table_spec(t, t->default_spec)) {
		mk_err("default partition spec %d not found", t->default_spec);
		return -1;
	}
	return 0;
}

/* The current version the sidecar names, when that file exists: after
 * recreate --restart-versions the highest number is an old table's. */
static int sidecar_current(mk_table *t)
{
	char *p = mk_printf("%s/%s", t->dir, SIDECAR), *file = NULL;
	json_t *sc = mk_file_exists(p) ? load_json(p) : NULL;
	const char *name = json_string_value(json_object_get(sc, "current"));
	bool gz, un;
	int v = name && json_is_true(json_object_get(sc, "restarted")) ? meta_version(name, &gz, &un) : 0;
	int rc = -1;

	if (v > 0) {
		file = mk_printf("%s/%s", t->metadir, name);
		if (mk_file_exists(file)) {
			t->meta_name = mk_strdup(name);
			t->version = v;
			rc = 0;
		}
	}
	free(file);
	free(p);
	json_decref(sc);
	return rc;
}

int mk_table_load(const char *dir, mk_table *t)
{
	char real[PATH_MAX];
	char *path = NULL;
	const char *loc;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (!realpath(dir, real)) {
		mk_err("cannot access table %s: %s", dir, strerror(errno));
		return -1;
	}
	t->dir = mk_strdup(real);
	t->metadir = mk_printf("%s/metadata", real);
	if (sidecar_current(t) != 0 && find_current(t->metadir, &t->meta_name, &t->version) != 0)
		goto out;
	path = mk_printf("%s/%s", t->metadir, t->meta_name);
	t->meta = load_json(path);
	if (!t->meta)
		goto out;
	t->format = (int)json_integer_value(json_object_get(t->meta, "format-version"));
	loc = json_string_value(json_object_get(t->meta, "location"));
	if (t->format < 1 || t->format > 3 || !loc) {
		mk_err("%s: unsupported format-version or missing location", path);
		goto out;
	}
	t->location = mk_strdup(loc);
	while (strlen(t->location) > 1 && t->location[strlen(t->location) - 1] == '/')
		t->location[strlen(t->location) - 1] = '\0';
	load_sidecar(t);
	rc = mk_table_parse(t);
out:
	free(path);
	return rc;
}

void mk_table_free(mk_table *t)
{
	free(t->dir);
	free(t->metadir);
	free(t->meta_name);
	free(t->location);
	json_decref(t->meta);
	mk_schema_free(&t->schema);
	free(t->specs);
	memset(t, 0, sizeof(*t));
}

char *mk_local_path(const mk_table *t, const char *uri)
{
	size_t n = strlen(t->location);

	if (strncmp(uri, t->location, n) == 0 && (uri[n] == '/' || uri[n] == '\0'))
		return mk_printf("%s%s", t->dir, uri + n);
	if (strncmp(uri, "file://", 7) == 0)
		return mk_strdup(uri + 7);
	if (strncmp(uri, "file:", 5) == 0)
		return mk_strdup(uri + 5);
	return mk_strdup(uri);
}

char *mk_meta_uri(const mk_table *t, const char *name)
{
	return mk_printf("%s/metadata/%s", t->location, name);
}

json_t *mk_snapshot_by_id(const mk_table *t, int64_t id)
{
	json_t *snaps = json_object_get(t->meta, "snapshots"), *s;
	size_t i;

	json_array_foreach(snaps, i, s)
		if (json_integer_value(json_object_get(s, "snapshot-id")) == id)
			return s;
	return NULL;
}

bool mk_current_snapshot(const mk_table *t, int64_t *id)
{
	json_t *c = json_object_get(t->meta, "current-snapshot-id");

	if (!json_is_integer(c) || json_integer_value(c) == -1)
		return false;
	*id = json_integer_value(c);
	return true;
}

/* strictly increasing commit timestamps, even within one millisecond */
int64_t mk_next_timestamp(const mk_table *t)
{
	int64_t ts = mk_now_ms();
	int64_t last = t->meta ? json_integer_value(json_object_get(t->meta, "last-updated-ms")) : 0;
	json_t *snaps = t->meta ? json_object_get(t->meta, "snapshots") : NULL, *s;
	size_t i;

	json_array_foreach(snaps, i, s) {
		int64_t st = json_integer_value(json_object_get(s, "timestamp-ms"));
		if (st > last)
			last = st;
	}
	return ts > last ? ts : last + 1;
}

static int max_col_id(const mk_schema *s)
{
	int m = 0;

	for (int i = 0; i < s->ncols; i++)
		if (s->cols[i].id > m)
			m = s->cols[i].id;
	return m;
}

json_t *mk_new_metadata(const mk_table *t, const char *uuid, const mk_schema *s,
			const mk_spec *sp, int64_t ts)
{
	json_t *m = json_object();
	int last_pid = 999;

	for (int i = 0; i < sp->nf; i++)
		if (sp->f[i].field_id > last_pid)
			last_pid = sp->f[i].field_id;
	json_object_set_new(m, "format-version", json_integer(t->format));
	json_object_set_new(m, "table-uuid", json_string(uuid));
	json_object_set_new(m, "location", json_string(t->location));
	if (t->format >= 2)
		json_object_set_new(m, "last-sequence-number", json_integer(0));
	json_object_set_new(m, "last-updated-ms", json_integer(ts));
	json_object_set_new(m, "last-column-id", json_integer(max_col_id(s)));
	if (t->format == 1)
		json_object_set_new(m, "schema", mk_schema_to_json(s));
	json_object_set_new(m, "current-schema-id", json_integer(s->id));
	json_object_set_new(m, "schemas", json_pack("[o]", mk_schema_to_json(s)));
	if (t->format == 1)
		json_object_set_new(m, "partition-spec", mk_spec_fields_json(sp));
	json_object_set_new(m, "default-spec-id", json_integer(sp->id));
	json_object_set_new(m, "partition-specs",
			    json_pack("[{s:i,s:o}]", "spec-id", sp->id, "fields",
				      mk_spec_fields_json(sp)));
	json_object_set_new(m, "last-partition-id", json_integer(last_pid));
	json_object_set_new(m, "default-sort-order-id", json_integer(0));
	json_object_set_new(m, "sort-orders", json_pack("[{s:i,s:[]}]", "order-id", 0, "fields"));
	json_object_set_new(m, "properties",
			    json_pack("{s:s,s:s}", "write.parquet.compression-codec", "zstd",
				      "created-by", "ice-mktable"));
	if (t->format <= 2)
		json_object_set_new(m, "current-snapshot-id", json_integer(-1));
	json_object_set_new(m, "refs", json_object());
	json_object_set_new(m, "snapshots", json_array());
	json_object_set_new(m, "statistics", json_array());
	json_object_set_new(m, "partition-statistics", json_array());
	json_object_set_new(m, "snapshot-log", json_array());
	json_object_set_new(m, "metadata-log", json_array());
	if (t->format >= 3)
		json_object_set_new(m, "next-row-id", json_integer(0));
	return m;
}

/* a copy of the current metadata for the next version: metadata-log gains the
 * current file, last-updated-ms is set */
json_t *mk_meta_next(const mk_table *t, int64_t ts)
{
	json_t *m = json_deep_copy(t->meta);
	json_t *log = json_object_get(m, "metadata-log");
	char *uri = mk_meta_uri(t, t->meta_name);

	if (!json_is_array(log)) {
		log = json_array();
		json_object_set_new(m, "metadata-log", log);
	}
	json_array_append_new(log, json_pack("{s:I,s:s}", "timestamp-ms",
					     json_integer_value(json_object_get(t->meta,
										"last-updated-ms")),
					     "metadata-file", uri));
	json_object_set_new(m, "last-updated-ms", json_integer(ts));
	free(uri);
	return m;
}

static char *version_name(mk_table *t, int v)
{
	char uuid[37];
	const char *gz = t->gzip ? ".gz" : "";

	if (t->naming == NAMING_V)
		return mk_printf("v%d%s.metadata.json", v, gz);
	mk_uuid(&t->rng, uuid);
	return mk_printf("%05d-%s%s.metadata.json", v - 1, uuid, gz);
}

static int write_hint(const mk_table *t, const char *name)
{
	char *text;
	int rc;

	if (t->hint == HINT_NONE) {
		char *p = mk_printf("%s/version-hint.text", t->metadir);
		(void)unlink(p);
		free(p);
		return 0;
	}
	/* The number in the name: N of vN, NNNNN (= N - 1) of NNNNN-uuid, as
	 * readers number such files (Java parses the NNNNN as the version). */
	if (t->hint == HINT_NUMBER)
		text = mk_printf("%d", t->naming == NAMING_UUID ? t->version - 1 : t->version);
	else
		text = mk_printf("%.*s", (int)(strlen(name) - strlen(".metadata.json")), name);
	rc = mk_write_atomic(t->metadir, "version-hint.text", text, strlen(text));
	free(text);
	return rc;
}

/* Replace the decimal token `from` by `to` wherever it stands whole. */
static char *replace_number(char *text, const char *from, const char *to)
{
	size_t lf = strlen(from), lt = strlen(to), n = 0;
	char *out = malloc(strlen(text) * (lt / lf + 2) + 1), *o = out;

	if (!out)
		return NULL;
	while (text[n]) {
		bool whole = strncmp(text + n, from, lf) == 0 && (n == 0 || !isdigit((unsigned char)text[n - 1])) &&
			     !isdigit((unsigned char)text[n + lf]);
		if (whole) {
			memcpy(o, to, lt);
			o += lt;
			n += lf;
		} else {
			*o++ = text[n++];
		}
	}
	*o = '\0';
	free(text);
	return out;
}

/* The metadata text with every snapshot id X written as X + 2^63, the
 * unsigned 64-bit value some writers store (jansson cannot hold it). */
static int unsigned_ids_text(const json_t *meta, char **text)
{
	json_t *snaps = json_object_get(meta, "snapshots"), *s;
	size_t i;

	json_array_foreach(snaps, i, s) {
		char from[24], to[24];
		json_int_t id = json_integer_value(json_object_get(s, "snapshot-id"));
		snprintf(from, sizeof(from), "%lld", (long long)id);
		snprintf(to, sizeof(to), "%llu", (unsigned long long)id + (1ULL << 63));
		if (id < 0 || !(*text = replace_number(*text, from, to))) {
			mk_err("cannot write snapshot id %lld as unsigned", (long long)id);
			return -1;
		}
	}
	return 0;
}

/* Write `meta` as the next metadata version; takes a reference to meta. */
int mk_table_write_version(mk_table *t, json_t *meta, char **local_out)
{
	int v = t->version + 1;
	char *name = version_name(t, v), *path = mk_printf("%s/%s", t->metadir, name);
	char *text = json_dumps(meta, JSON_INDENT(2));
	unsigned char *gz = NULL;
	size_t gzlen = 0;
	int rc = -1;

	if (!text) {
		mk_err("cannot serialize metadata");
		goto out;
	}
	if (mk_file_exists(path) && !t->restarted) {
		mk_err("%s already exists", path);
		goto out;
	}
	if (t->unsigned_ids && unsigned_ids_text(meta, &text) != 0)
		goto out;
	if (t->gzip) {
		if (mk_gzip((unsigned char *)text, strlen(text), &gz, &gzlen) != 0)
			goto out;
		rc = mk_write_atomic(t->metadir, name, gz, gzlen);
	} else {
		rc = mk_write_atomic(t->metadir, name, text, strlen(text));
	}
	if (rc != 0)
		goto out;
	json_decref(t->meta);
	t->meta = json_incref(meta);
	t->version = v;
	free(t->meta_name);
	t->meta_name = mk_strdup(name);
	t->format = (int)json_integer_value(json_object_get(meta, "format-version"));
	rc = write_hint(t, name);
	if (rc == 0 && t->restarted)
		rc = mk_sidecar_save(t); /* the sidecar names the current version */
	if (rc == 0 && local_out) {
		*local_out = path;
		path = NULL;
	}
out:
	json_decref(meta);
	free(name);
	free(path);
	free(text);
	free(gz);
	return rc;
}
