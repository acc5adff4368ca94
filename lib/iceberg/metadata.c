/* metadata: parse Iceberg table metadata JSON (formats 1-3) into the model
 * of ice_metadata.h, checking the fields later stages rely on. */
#include "config.h"
#include "ice_metadata.h"
#include "ice_fileio.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Parsing context: the file name and where we are, for messages. */
typedef struct {
	const char *path;
	ice_err *err;
} pctx;

static int missing(pctx *c, const char *where, const char *key)
{
	return ice_err_set(c->err, ICE_EFORMAT, "%s: %s%smissing or invalid field '%s'",
	                   c->path, where, *where ? ": " : "", key);
}

static int get_i64(pctx *c, const json_t *o, const char *where, const char *key,
                   bool required, int64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return ICE_OK;
	}
	if (!v && !required)
		return ICE_OK;
	if (json_is_null(v) && !required)
		return ICE_OK;
	return missing(c, where, key);
}

static int get_str(pctx *c, const json_t *o, const char *where, const char *key,
                   bool required, const char **out)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (json_is_string(v)) {
		*out = json_string_value(v);
		return ICE_OK;
	}
	if ((!v || json_is_null(v)) && !required)
		return ICE_OK;
	return missing(c, where, key);
}

static int parse_snapshot(pctx *c, int fv, const json_t *o, size_t i, ice_snapshot *s)
{
	char where[64];
	int64_t v = 0;
	int rc;

	snprintf(where, sizeof where, "snapshots[%zu]", i);
	if (!json_is_object(o))
		return ice_err_set(c->err, ICE_EFORMAT, "%s: %s: not an object", c->path, where);
	if ((rc = get_i64(c, o, where, "snapshot-id", true, &s->id)) ||
	    (rc = get_i64(c, o, where, "timestamp-ms", true, &s->timestamp_ms)) ||
	    (rc = get_i64(c, o, where, "sequence-number", false, &s->sequence_number)) ||
	    (rc = get_str(c, o, where, "manifest-list", fv >= 2, &s->manifest_list)))
		return rc;
	if (json_object_get(o, "parent-snapshot-id") &&
	    !json_is_null(json_object_get(o, "parent-snapshot-id"))) {
		if ((rc = get_i64(c, o, where, "parent-snapshot-id", true, &s->parent_id)))
			return rc;
		s->has_parent = true;
	}
	if (json_object_get(o, "schema-id")) {
		if ((rc = get_i64(c, o, where, "schema-id", true, &v)))
			return rc;
		s->has_schema_id = true;
		s->schema_id = (int)v;
	}
	s->summary = json_object_get(o, "summary");
	if (s->summary && !json_is_object(s->summary))
		return missing(c, where, "summary");
	if (s->summary && (rc = get_str(c, s->summary, where, "operation", fv >= 2, &s->operation)))
		return rc;
	if (!s->summary && fv >= 2)
		return missing(c, where, "summary");
	s->manifests = json_object_get(o, "manifests");
	if (s->manifests && !json_is_array(s->manifests))
		return missing(c, where, "manifests");
	if (!s->manifest_list && !s->manifests)
		return missing(c, where, "manifest-list");
	return ICE_OK;
}

static int parse_snapshots(pctx *c, ice_metadata *md)
{
	json_t *arr = json_object_get(md->root, "snapshots"), *o;
	size_t i;
	int rc;

	if (!arr || json_is_null(arr))
		return ICE_OK;
	if (!json_is_array(arr))
		return missing(c, "", "snapshots");
	md->snapshots = calloc(json_array_size(arr) + 1, sizeof *md->snapshots);
	if (!md->snapshots)
		return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
	json_array_foreach(arr, i, o) {
		if ((rc = parse_snapshot(c, md->format_version, o, i, &md->snapshots[i])))
			return rc;
		md->n_snapshots++;
	}
	return ICE_OK;
}

static int parse_spec_fields(pctx *c, const json_t *fields, const char *where,
                             ice_partition_spec *spec)
{
	const json_t *f;
	size_t i;
	int64_t v;
	int rc;

	if (!json_is_array(fields))
		return missing(c, where, "fields");
	spec->fields = calloc(json_array_size(fields) + 1, sizeof *spec->fields);
	if (!spec->fields)
		return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
	json_array_foreach(fields, i, f) {
		ice_partition_field *pf = &spec->fields[i];
		v = 1000 + (int64_t)i; /* v1 specs may omit field ids */
		if ((rc = get_str(c, f, where, "name", true, &pf->name)) ||
		    (rc = get_str(c, f, where, "transform", true, &pf->transform)) ||
		    (rc = get_i64(c, f, where, "field-id", false, &v)))
			return rc;
		pf->field_id = (int)v;
		if ((rc = get_i64(c, f, where, "source-id", true, &v)))
			return rc;
		pf->source_id = (int)v;
		spec->n_fields++;
	}
	return ICE_OK;
}

static int parse_specs(pctx *c, ice_metadata *md)
{
	json_t *arr = json_object_get(md->root, "partition-specs"), *o;
	json_t *legacy = json_object_get(md->root, "partition-spec");
	int64_t v = 0;
	size_t i;
	int rc;
	char where[64];

	if (!arr && legacy) {
		/* Format 1 without partition-specs: the legacy spec is spec 0. */
		md->specs = calloc(2, sizeof *md->specs);
		if (!md->specs)
			return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
		md->n_specs = 1;
		return parse_spec_fields(c, legacy, "partition-spec", &md->specs[0]);
	}
	if (!json_is_array(arr))
		return missing(c, "", "partition-specs");
	md->specs = calloc(json_array_size(arr) + 1, sizeof *md->specs);
	if (!md->specs)
		return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
	json_array_foreach(arr, i, o) {
		snprintf(where, sizeof where, "partition-specs[%zu]", i);
		if ((rc = get_i64(c, o, where, "spec-id", true, &v)))
			return rc;
		md->specs[i].spec_id = (int)v;
		if ((rc = parse_spec_fields(c, json_object_get(o, "fields"), where, &md->specs[i])))
			return rc;
		md->n_specs++;
	}
	v = md->specs[0].spec_id;
	if (md->n_specs && (rc = get_i64(c, md->root, "", "default-spec-id", false, &v)))
		return rc;
	md->default_spec_id = (int)v;
	return ICE_OK;
}

static int parse_schemas(pctx *c, ice_metadata *md)
{
	json_t *legacy = json_object_get(md->root, "schema");
	int64_t v = 0;
	int rc;

	md->schemas = json_object_get(md->root, "schemas");
	if (!md->schemas && json_is_object(legacy)) {
		/* Format 1 keeps one schema; wrap it so lookups are uniform. */
		md->schemas = json_array();
		if (!md->schemas || json_array_append(md->schemas, legacy) != 0 ||
		    json_object_set_new(md->root, "schemas", md->schemas) != 0)
			return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
		v = json_integer_value(json_object_get(legacy, "schema-id"));
	}
	if (!json_is_array(md->schemas))
		return missing(c, "", "schemas");
	if (json_object_get(md->root, "current-schema-id") &&
	    (rc = get_i64(c, md->root, "", "current-schema-id", true, &v)))
		return rc;
	md->current_schema_id = (int)v;
	return ICE_OK;
}

static int parse_refs(pctx *c, ice_metadata *md)
{
	json_t *obj = json_object_get(md->root, "refs"), *o;
	const char *name;
	char where[300];
	int rc;

	if (!obj || json_is_null(obj))
		return ICE_OK;
	if (!json_is_object(obj))
		return missing(c, "", "refs");
	md->refs = calloc(json_object_size(obj) + 1, sizeof *md->refs);
	if (!md->refs)
		return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
	json_object_foreach(obj, name, o) {
		ice_ref *r = &md->refs[md->n_refs];
		snprintf(where, sizeof where, "refs.%s", name);
		r->name = name;
		if ((rc = get_i64(c, o, where, "snapshot-id", true, &r->snapshot_id)) ||
		    (rc = get_str(c, o, where, "type", true, &r->type)))
			return rc;
		md->n_refs++;
	}
	return ICE_OK;
}

static int parse_logs(pctx *c, ice_metadata *md)
{
	json_t *sl = json_object_get(md->root, "snapshot-log");
	json_t *ml = json_object_get(md->root, "metadata-log"), *o;
	size_t i;
	int rc;

	if (json_is_array(sl)) {
		md->snapshot_log = calloc(json_array_size(sl) + 1, sizeof *md->snapshot_log);
		if (!md->snapshot_log)
			return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
		json_array_foreach(sl, i, o) {
			ice_snapshot_log_entry *e = &md->snapshot_log[i];
			if ((rc = get_i64(c, o, "snapshot-log", "snapshot-id", true, &e->snapshot_id)) ||
			    (rc = get_i64(c, o, "snapshot-log", "timestamp-ms", true, &e->timestamp_ms)))
				return rc;
			md->n_snapshot_log++;
		}
	}
	if (json_is_array(ml)) {
		md->metadata_log = calloc(json_array_size(ml) + 1, sizeof *md->metadata_log);
		if (!md->metadata_log)
			return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
		json_array_foreach(ml, i, o) {
			ice_metadata_log_entry *e = &md->metadata_log[i];
			if ((rc = get_str(c, o, "metadata-log", "metadata-file", true, &e->metadata_file)) ||
			    (rc = get_i64(c, o, "metadata-log", "timestamp-ms", true, &e->timestamp_ms)))
				return rc;
			md->n_metadata_log++;
		}
	}
	return ICE_OK;
}

/* The current snapshot: current-snapshot-id (-1 or null means none), else
 * the main branch. It must name a snapshot the metadata holds. */
static int parse_current(pctx *c, ice_metadata *md)
{
	json_t *v = json_object_get(md->root, "current-snapshot-id");
	const ice_ref *main_ref = ice_metadata_ref(md, "main");
	int64_t id;

	if (json_is_integer(v)) {
		id = (int64_t)json_integer_value(v);
		md->has_current = id != -1;
		md->current_snapshot_id = id;
	} else if (v && !json_is_null(v)) {
		return missing(c, "", "current-snapshot-id");
	} else if (main_ref) {
		md->has_current = true;
		md->current_snapshot_id = main_ref->snapshot_id;
	}
	if (md->has_current && !ice_metadata_snapshot(md, md->current_snapshot_id))
		return ice_err_set(c->err, ICE_EFORMAT,
		                   "%s: current snapshot %lld is not in 'snapshots'",
		                   c->path, (long long)md->current_snapshot_id);
	return ICE_OK;
}

static int parse_header(pctx *c, ice_metadata *md)
{
	int64_t fv = 0;
	int rc;

	if ((rc = get_i64(c, md->root, "", "format-version", true, &fv)))
		return rc;
	if (fv < ICE_FORMAT_VERSION_MIN || fv > ICE_FORMAT_VERSION_MAX)
		return ice_err_set(c->err, ICE_EUNSUPPORTED,
		                   "%s: unsupported format-version %lld (this build reads %d to %d)",
		                   c->path, (long long)fv, ICE_FORMAT_VERSION_MIN, ICE_FORMAT_VERSION_MAX);
	md->format_version = (int)fv;
	if ((rc = get_str(c, md->root, "", "table-uuid", fv >= 2, &md->table_uuid)) ||
	    (rc = get_str(c, md->root, "", "location", true, &md->location)) ||
	    (rc = get_i64(c, md->root, "", "last-sequence-number", false, &md->last_sequence_number)) ||
	    (rc = get_i64(c, md->root, "", "last-updated-ms", false, &md->last_updated_ms)))
		return rc;
	return ICE_OK;
}

/* The object key whose value is the number ending before `pos`, copied
 * into key (empty when the number is no object member, in an array). */
static void key_before(const char *text, size_t pos, char *key, size_t cap)
{
	size_t i = pos, end;

	key[0] = '\0';
	while (i > 0 && (isdigit((unsigned char)text[i - 1]) || text[i - 1] == '-' ||
	                 text[i - 1] == '+' || text[i - 1] == '.' || text[i - 1] == 'e' ||
	                 text[i - 1] == 'E'))
		i--;
	while (i > 0 && isspace((unsigned char)text[i - 1]))
		i--;
	if (i == 0 || text[i - 1] != ':')
		return;
	for (i--; i > 0 && isspace((unsigned char)text[i - 1]); i--)
		;
	if (i == 0 || text[i - 1] != '"')
		return;
	end = --i;
	while (i > 0 && text[i - 1] != '"')
		i--;
	if (i > 0 && end - i < cap)
		snprintf(key, cap, "%.*s", (int)(end - i), text + i);
}

/* The digits of the integer jansson stopped at (it reports the position
 * just past the token). */
static void number_before(const char *text, size_t pos, char *num, size_t cap)
{
	size_t end = pos, i;

	while (end > 0 && !isdigit((unsigned char)text[end - 1]))
		end--;
	for (i = end; i > 0 && (isdigit((unsigned char)text[i - 1]) || text[i - 1] == '-'); i--)
		;
	snprintf(num, cap, "%.*s", end - i < cap ? (int)(end - i) : 0, text + i);
}

/* Iceberg ids and counters are longs: a larger integer (some writers put
 * unsigned 64-bit snapshot ids in the metadata) refuses the whole table,
 * with the field named, rather than being read as something else. */
static int too_big_integer(const char *text, size_t len, const char *path,
                           const json_error_t *jerr, ice_err *err)
{
	size_t pos = (size_t)jerr->position < len ? (size_t)jerr->position : len;
	char key[64], num[32];

	/* The position may be one past the token's end. */
	while (pos > 0 && !isdigit((unsigned char)text[pos - 1]))
		pos--;
	key_before(text, pos, key, sizeof key);
	number_before(text, pos, num, sizeof num);
	return ice_err_set(err, ICE_EFORMAT,
	                   "%s:%d: %s%s%s%s is beyond the Iceberg long (a signed 64-bit integer); "
	                   "the table is not read",
	                   path, jerr->line, *key ? "field '" : "an integer", key, *key ? "' = " : " ",
	                   num);
}

/* The model of md->root, into *out; md is consumed either way. */
static int parse_model(ice_metadata *md, ice_metadata **out, ice_err *err)
{
	pctx c = { md->path, err };
	int rc;

	if (!json_is_object(md->root)) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s: not a JSON object", md->path);
		goto out;
	}
	if ((rc = parse_header(&c, md)) || (rc = parse_schemas(&c, md)) ||
	    (rc = parse_specs(&c, md)) || (rc = parse_snapshots(&c, md)) ||
	    (rc = parse_refs(&c, md)) || (rc = parse_logs(&c, md)) ||
	    (rc = parse_current(&c, md)))
		goto out;
	*out = md;
	md = NULL;
out:
	ice_metadata_free(md);
	return rc;
}

int ice_metadata_parse(const char *text, size_t len, const char *path,
                       ice_metadata **out, ice_err *err)
{
	ice_metadata *md = calloc(1, sizeof *md);
	json_error_t jerr;
	int rc;

	*out = NULL;
	if (!md || !(md->path = strdup(path))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	md->root = json_loadb(text, len, 0, &jerr);
	if (!md->root && strncmp(jerr.text, "too big", 7) == 0) {
		rc = too_big_integer(text, len, path, &jerr, err);
		goto out;
	}
	if (!md->root) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s:%d:%d: malformed JSON: %s",
		                 path, jerr.line, jerr.column, jerr.text);
		goto out;
	}
	rc = parse_model(md, out, err);
	md = NULL;
out:
	ice_metadata_free(md);
	return rc;
}

int ice_metadata_from_json(json_t *root, const char *path, ice_metadata **out, ice_err *err)
{
	ice_metadata *md = calloc(1, sizeof *md);

	*out = NULL;
	if (!md || !(md->path = strdup(path))) {
		json_decref(root);
		ice_metadata_free(md);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	md->root = root;
	return parse_model(md, out, err);
}

int ice_metadata_load(const char *path, ice_metadata **out, ice_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = ice_read_file(path, 0, &text, &len, err);
	if (rc == ICE_OK)
		rc = ice_metadata_parse(text, len, path, out, err);
	free(text);
	return rc;
}

int ice_metadata_load_storage(ice_storage *st, const char *uri, ice_metadata **out,
                              ice_err *err)
{
	static const unsigned char gzip[] = { 0x1f, 0x8b }, zstd[] = { 0x28, 0xb5, 0x2f, 0xfd };
	ice_obj o;
	int rc;

	*out = NULL;
	if (!ice_uri_is_remote(uri))
		return ice_metadata_load(uri, out, err);
	if ((rc = ice_storage_read_immutable(st, uri, &o, err)))
		return rc;
	/* Compressed metadata (v3.gz.metadata.json...) reads as on disk. */
	if ((o.len >= 2 && memcmp(o.data, gzip, 2) == 0) || (o.len >= 4 && memcmp(o.data, zstd, 4) == 0)) {
		char *text = NULL;
		size_t len = 0;
		if ((rc = ice_decompress_mem(o.data, o.len, uri, 0, &text, &len, err)) == ICE_OK)
			rc = ice_metadata_parse(text, len, uri, out, err);
		free(text);
	} else {
		rc = ice_metadata_parse(o.data, o.len, uri, out, err);
	}
	ice_obj_clear(&o);
	return rc;
}

void ice_metadata_free(ice_metadata *md)
{
	if (!md)
		return;
	/* One slot past n_specs may hold a spec that failed half-way. */
	for (size_t i = 0; md->specs && i <= md->n_specs; i++)
		free(md->specs[i].fields);
	free(md->specs);
	free(md->snapshots);
	free(md->refs);
	free(md->snapshot_log);
	free(md->metadata_log);
	json_decref(md->root);
	free(md->path);
	free(md);
}

const ice_snapshot *ice_metadata_snapshot(const ice_metadata *md, int64_t id)
{
	for (size_t i = 0; i < md->n_snapshots; i++)
		if (md->snapshots[i].id == id)
			return &md->snapshots[i];
	return NULL;
}

const ice_ref *ice_metadata_ref(const ice_metadata *md, const char *name)
{
	for (size_t i = 0; i < md->n_refs; i++)
		if (strcmp(md->refs[i].name, name) == 0)
			return &md->refs[i];
	return NULL;
}

const ice_partition_spec *ice_metadata_spec(const ice_metadata *md, int spec_id)
{
	for (size_t i = 0; i < md->n_specs; i++)
		if (md->specs[i].spec_id == spec_id)
			return &md->specs[i];
	return NULL;
}

json_t *ice_metadata_schema(const ice_metadata *md, int schema_id)
{
	json_t *s;
	size_t i;

	json_array_foreach(md->schemas, i, s) {
		json_t *id = json_object_get(s, "schema-id");
		if ((!id && schema_id == 0) || (json_is_integer(id) && json_integer_value(id) == schema_id))
			return s;
	}
	return NULL;
}

/* The name of field id anywhere inside a schema or nested type. */
static const char *field_name(const json_t *type, int id)
{
	const json_t *fields = json_object_get(type, "fields"), *f, *v;
	static const char *const inner[] = { "type", "element", "key", "value" };
	const char *r;
	size_t i, k;

	if (!json_is_object(type))
		return NULL;
	for (i = 0; i < json_array_size(fields); i++) {
		f = json_array_get(fields, i);
		v = json_object_get(f, "id");
		if (json_is_integer(v) && json_integer_value(v) == id)
			return json_string_value(json_object_get(f, "name"));
		if ((r = field_name(json_object_get(f, "type"), id)))
			return r;
	}
	for (k = 1; k < sizeof inner / sizeof inner[0]; k++)
		if ((r = field_name(json_object_get(type, inner[k]), id)))
			return r;
	return NULL;
}

const char *ice_metadata_column_name(const ice_metadata *md, int field_id)
{
	const json_t *cur = ice_metadata_schema(md, md->current_schema_id), *s;
	const char *r;
	size_t i;

	if (cur && (r = field_name(cur, field_id)))
		return r;
	json_array_foreach(md->schemas, i, s)
		if (s != cur && (r = field_name(s, field_id)))
			return r;
	return NULL;
}

json_t *ice_metadata_specs_json(const ice_metadata *md)
{
	json_t *all = json_array(), *fields, *spec;
	const ice_partition_spec *sp;
	const char *col;

	for (size_t i = 0; all && i < md->n_specs; i++) {
		sp = &md->specs[i];
		fields = json_array();
		spec = json_pack("{s:i, s:o*}", "spec_id", sp->spec_id, "fields", fields);
		for (size_t j = 0; spec && fields && j < sp->n_fields; j++) {
			col = ice_metadata_column_name(md, sp->fields[j].source_id);
			json_array_append_new(fields, json_pack("{s:s?, s:s?, s:s?}", "name", sp->fields[j].name,
			                                        "source", col, "transform", sp->fields[j].transform));
		}
		if (!spec || json_array_append_new(all, spec)) {
			json_decref(all);
			all = NULL;
		}
	}
	return all;
}

const ice_snapshot *ice_metadata_current(const ice_metadata *md)
{
	return md->has_current ? ice_metadata_snapshot(md, md->current_snapshot_id) : NULL;
}

int ice_metadata_ancestry(const ice_metadata *md, const ice_snapshot *head,
                          const ice_snapshot ***chain, size_t *n, bool *complete,
                          ice_err *err)
{
	const ice_snapshot **arr = calloc(md->n_snapshots + 1, sizeof *arr);
	const ice_snapshot *s = head;
	size_t k = 0;

	*chain = NULL;
	*n = 0;
	*complete = true;
	if (!arr)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	/* Bounded by the snapshot count so a parent cycle cannot loop. */
	while (s && k < md->n_snapshots) {
		arr[k++] = s;
		if (!s->has_parent)
			break;
		s = ice_metadata_snapshot(md, s->parent_id);
		if (!s)
			*complete = false;
	}
	for (size_t i = 0; i < k / 2; i++) {
		const ice_snapshot *t = arr[i];
		arr[i] = arr[k - 1 - i];
		arr[k - 1 - i] = t;
	}
	*chain = arr;
	*n = k;
	return ICE_OK;
}

static int cmp_snapshots(const void *pa, const void *pb)
{
	const ice_snapshot *a = *(const ice_snapshot *const *)pa;
	const ice_snapshot *b = *(const ice_snapshot *const *)pb;

	if (a->sequence_number != b->sequence_number)
		return a->sequence_number < b->sequence_number ? -1 : 1;
	if (a->timestamp_ms != b->timestamp_ms)
		return a->timestamp_ms < b->timestamp_ms ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

int ice_metadata_sorted_snapshots(const ice_metadata *md, const ice_snapshot ***out,
                                  size_t *n, ice_err *err)
{
	const ice_snapshot **arr = calloc(md->n_snapshots + 1, sizeof *arr);

	if (!arr)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (size_t i = 0; i < md->n_snapshots; i++)
		arr[i] = &md->snapshots[i];
	qsort(arr, md->n_snapshots, sizeof *arr, cmp_snapshots);
	*out = arr;
	*n = md->n_snapshots;
	return ICE_OK;
}

bool ice_metadata_is_ancestor(const ice_metadata *md, int64_t a, int64_t b)
{
	const ice_snapshot *s = ice_metadata_snapshot(md, b);

	for (size_t k = 0; s && k <= md->n_snapshots; k++) {
		if (s->id == a)
			return true;
		if (!s->has_parent)
			return false;
		if (s->parent_id == a)
			return true;
		s = ice_metadata_snapshot(md, s->parent_id);
	}
	return false;
}
