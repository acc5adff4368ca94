/* manifest: read manifest lists and manifests with avro-c, resolving
 * fields by Iceberg field id and projecting away what a diff never uses. */
#include "config.h"
#include "ice_manifest.h"
#include "ice_avro_header.h"

#include <stdlib.h>
#include <string.h>

/* Field ids (Iceberg spec, "Manifests" and "Manifest Lists"). */
enum {
	F_STATUS = 0, F_SNAPSHOT_ID = 1, F_DATA_FILE = 2, F_SEQ = 3, F_FILE_SEQ = 4,
	F_FILE_PATH = 100, F_FILE_FORMAT = 101, F_PARTITION = 102, F_RECORD_COUNT = 103,
	F_FILE_SIZE = 104, F_CONTENT = 134, F_EQUALITY_IDS = 135, F_REFERENCED = 143,
	F_CONTENT_OFFSET = 144, F_CONTENT_SIZE = 145,
	L_PATH = 500, L_LENGTH = 501, L_SPEC_ID = 502, L_ADDED_SNAPSHOT = 503,
	L_ADDED_FILES = 504, L_EXISTING_FILES = 505, L_DELETED_FILES = 506,
	L_PARTITIONS = 507, L_SEQ = 515, L_MIN_SEQ = 516, L_CONTENT = 517,
	S_CONTAINS_NULL = 509, S_LOWER = 510, S_UPPER = 511, S_CONTAINS_NAN = 518
};

static const int entry_ids[] = { F_STATUS, F_SNAPSHOT_ID, F_SEQ, F_FILE_SEQ, F_DATA_FILE };
static const int file_ids[] = {
	F_CONTENT, F_FILE_PATH, F_FILE_FORMAT, F_PARTITION, F_RECORD_COUNT, F_FILE_SIZE,
	F_EQUALITY_IDS, F_REFERENCED, F_CONTENT_OFFSET, F_CONTENT_SIZE
};
static const int list_ids[] = {
	L_PATH, L_LENGTH, L_SPEC_ID, L_CONTENT, L_SEQ, L_MIN_SEQ, L_ADDED_SNAPSHOT,
	L_ADDED_FILES, L_EXISTING_FILES, L_DELETED_FILES, L_PARTITIONS
};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_IDS 16

/* A projected record: which writer fields are kept, and where they land. */
typedef struct {
	int ids[MAX_IDS];
	int index[MAX_IDS]; /* index in the projected record, -1 absent */
	size_t n;
} projection;

static int field_id_of(const json_t *field)
{
	const json_t *id = json_object_get(field, "field-id");

	return json_is_integer(id) ? (int)json_integer_value(id) : -1;
}

static int slot_of(const projection *p, int id)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->ids[i] == id)
			return p->index[i];
	return -1;
}

static const json_t *find_field(const json_t *record, int id)
{
	const json_t *f;
	size_t i;

	json_array_foreach(json_object_get(record, "fields"), i, f)
		if (field_id_of(f) == id)
			return f;
	return NULL;
}

/* A copy of `record` keeping only fields whose id is in ids[], in writer
 * order (resolution is by name, and the names are the writer's). */
static json_t *project(const json_t *record, const int *ids, size_t n, projection *p)
{
	json_t *out = json_deep_copy(record), *fields = json_array(), *f;
	size_t i;
	int next = 0;

	if (!out || !fields)
		goto fail;
	p->n = n;
	for (size_t k = 0; k < n; k++) {
		p->ids[k] = ids[k];
		p->index[k] = -1;
	}
	json_array_foreach(json_object_get(record, "fields"), i, f) {
		int id = field_id_of(f);
		for (size_t k = 0; k < n; k++)
			if (ids[k] == id) {
				p->index[k] = next++;
				json_array_append_new(fields, json_deep_copy(f));
			}
	}
	json_object_set_new(out, "fields", fields);
	return out;
fail:
	json_decref(out);
	json_decref(fields);
	return NULL;
}

/* An open Avro file read through a projected reader schema. */
typedef struct {
	avro_file_reader_t file;
	avro_schema_t reader_schema;
	avro_value_iface_t *resolver, *dest_class;
	avro_value_t resolved, dest;
	bool have_resolved, have_dest;
} projected_file;

static void projected_close(projected_file *pf)
{
	if (pf->have_resolved)
		avro_value_decref(&pf->resolved);
	if (pf->have_dest)
		avro_value_decref(&pf->dest);
	if (pf->resolver)
		avro_value_iface_decref(pf->resolver);
	if (pf->dest_class)
		avro_value_iface_decref(pf->dest_class);
	if (pf->reader_schema)
		avro_schema_decref(pf->reader_schema);
	if (pf->file)
		avro_file_reader_close(pf->file);
	memset(pf, 0, sizeof *pf);
}

static int projected_open(projected_file *pf, const char *path, const char *name,
                          const json_t *reader_json, ice_err *err)
{
	char *text = json_dumps(reader_json, JSON_COMPACT);
	avro_schema_t writer;
	int rc = ICE_OK;

	memset(pf, 0, sizeof *pf);
	if (!text)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (avro_schema_from_json_length(text, strlen(text), &pf->reader_schema) != 0) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s: unusable schema: %s", name, avro_strerror());
		goto out;
	}
	if (avro_file_reader(path, &pf->file) != 0) {
		pf->file = NULL;
		rc = ice_err_set(err, ICE_EFORMAT, "%s: %s", name, avro_strerror());
		goto out;
	}
	/* A new reference: the resolver keeps its own, so ours is released. */
	writer = avro_file_reader_get_writer_schema(pf->file);
	pf->resolver = avro_resolved_writer_new(writer, pf->reader_schema);
	avro_schema_decref(writer);
	pf->dest_class = avro_generic_class_from_schema(pf->reader_schema);
	if (!pf->resolver || !pf->dest_class ||
	    avro_resolved_writer_new_value(pf->resolver, &pf->resolved) != 0) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s: cannot resolve schema: %s", name, avro_strerror());
		goto out;
	}
	pf->have_resolved = true;
	if (avro_generic_value_new(pf->dest_class, &pf->dest) != 0) {
		rc = ice_err_set(err, ICE_ENOMEM, "%s: %s", name, avro_strerror());
		goto out;
	}
	pf->have_dest = true;
	avro_resolved_writer_set_dest(&pf->resolved, &pf->dest);
out:
	free(text);
	if (rc)
		projected_close(pf);
	return rc;
}

/* 1 on a record, 0 at the end, -1 on a corrupt file. */
static int projected_next(projected_file *pf, const char *name, ice_err *err)
{
	int rc;

	avro_value_reset(&pf->dest);
	rc = avro_file_reader_read_value(pf->file, &pf->resolved);
	if (rc == 0)
		return 1;
	if (rc == EOF)
		return 0;
	ice_err_set(err, ICE_EFORMAT, "%s: corrupt or truncated Avro data: %s", name, avro_strerror());
	return -1;
}

/* ---- reading values ------------------------------------------------------ */

/* The value at slot, with a null union branch meaning absent. */
static bool get_field(avro_value_t *rec, int slot, avro_value_t *out)
{
	avro_value_t v;

	if (slot < 0 || avro_value_get_by_index(rec, (size_t)slot, &v, NULL) != 0)
		return false;
	if (avro_value_get_type(&v) == AVRO_UNION) {
		avro_value_t branch;
		if (avro_value_get_current_branch(&v, &branch) != 0 ||
		    avro_value_get_type(&branch) == AVRO_NULL)
			return false;
		v = branch;
	}
	*out = v;
	return true;
}

static bool get_i64(avro_value_t *rec, int slot, int64_t *out)
{
	avro_value_t v;
	int32_t i;

	if (!get_field(rec, slot, &v))
		return false;
	switch (avro_value_get_type(&v)) {
	case AVRO_INT64:
		return avro_value_get_long(&v, out) == 0;
	case AVRO_INT32:
		if (avro_value_get_int(&v, &i) != 0)
			return false;
		*out = i;
		return true;
	default:
		return false;
	}
}

static const char *get_str(avro_value_t *rec, int slot)
{
	avro_value_t v;
	const char *s = NULL;
	size_t size;

	if (!get_field(rec, slot, &v) || avro_value_get_type(&v) != AVRO_STRING ||
	    avro_value_get_string(&v, &s, &size) != 0)
		return NULL;
	return s;
}

static bool get_bytes(avro_value_t *rec, int slot, unsigned char **out, size_t *len)
{
	avro_value_t v;
	const void *p;
	size_t n;

	*out = NULL;
	*len = 0;
	if (!get_field(rec, slot, &v) || avro_value_get_type(&v) != AVRO_BYTES ||
	    avro_value_get_bytes(&v, &p, &n) != 0)
		return false;
	*out = malloc(n ? n : 1);
	if (!*out)
		return false;
	memcpy(*out, p, n);
	*len = n;
	return true;
}

/* ---- manifest lists -------------------------------------------------------- */

static int header_schema(const char *path, const char *name, json_t **meta, json_t **schema,
                         ice_err *err)
{
	int rc = ice_avro_header_read(path, name, meta, err);

	if (rc)
		return rc;
	*schema = ice_avro_header_schema(*meta, name, err);
	return *schema ? ICE_OK : err->code;
}

static int read_summaries(avro_value_t *rec, int slot, ice_manifest_file *mf, ice_err *err)
{
	avro_value_t arr, item;
	size_t n = 0;
	projection sp = { { S_CONTAINS_NULL, S_CONTAINS_NAN, S_LOWER, S_UPPER }, { 0, 1, 2, 3 }, 4 };

	if (!get_field(rec, slot, &arr))
		return ICE_OK;
	avro_value_get_size(&arr, &n);
	mf->has_partitions = true;
	mf->partitions = calloc(n + 1, sizeof *mf->partitions);
	if (!mf->partitions)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		ice_field_summary *s = &mf->partitions[i];
		avro_value_t b;
		int bv;
		avro_value_get_by_index(&arr, i, &item, NULL);
		/* The summary record is read whole; its field order is the spec's. */
		if (get_field(&item, slot_of(&sp, S_CONTAINS_NULL), &b) && avro_value_get_boolean(&b, &bv) == 0)
			s->contains_null = bv;
		s->contains_nan = -1;
		if (get_field(&item, slot_of(&sp, S_CONTAINS_NAN), &b) && avro_value_get_boolean(&b, &bv) == 0)
			s->contains_nan = bv;
		get_bytes(&item, slot_of(&sp, S_LOWER), &s->lower, &s->lower_len);
		get_bytes(&item, slot_of(&sp, S_UPPER), &s->upper, &s->upper_len);
		mf->n_partitions++;
	}
	return ICE_OK;
}

static int read_list_entry(avro_value_t *rec, const projection *p, const char *name,
                           ice_manifest_file *mf, ice_err *err)
{
	const char *path = get_str(rec, slot_of(p, L_PATH));
	int64_t v;

	if (!path)
		return ice_err_set(err, ICE_EFORMAT, "%s: manifest list entry without manifest_path", name);
	if (!(mf->path = strdup(path)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	get_i64(rec, slot_of(p, L_LENGTH), &mf->length);
	mf->spec_id = get_i64(rec, slot_of(p, L_SPEC_ID), &v) ? (int)v : 0;
	mf->content = get_i64(rec, slot_of(p, L_CONTENT), &v) ? (int)v : ICE_CONTENT_DATA;
	get_i64(rec, slot_of(p, L_SEQ), &mf->sequence_number);
	get_i64(rec, slot_of(p, L_MIN_SEQ), &mf->min_sequence_number);
	mf->has_added_snapshot_id = get_i64(rec, slot_of(p, L_ADDED_SNAPSHOT), &mf->added_snapshot_id);
	mf->added_files = get_i64(rec, slot_of(p, L_ADDED_FILES), &v) ? v : -1;
	mf->existing_files = get_i64(rec, slot_of(p, L_EXISTING_FILES), &v) ? v : -1;
	mf->deleted_files = get_i64(rec, slot_of(p, L_DELETED_FILES), &v) ? v : -1;
	return read_summaries(rec, slot_of(p, L_PARTITIONS), mf, err);
}

int ice_manifest_list_read(const char *path, const char *name, ice_manifest_file **files,
                           size_t *n, ice_err *err)
{
	json_t *meta = NULL, *schema = NULL, *proj = NULL;
	projected_file pf = { 0 };
	projection p;
	ice_manifest_file *arr = NULL;
	size_t count = 0, cap = 0;
	int rc, got;

	*files = NULL;
	*n = 0;
	if ((rc = header_schema(path, name, &meta, &schema, err)))
		goto out;
	if (!(proj = project(schema, list_ids, N_OF(list_ids), &p))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if (slot_of(&p, L_PATH) < 0) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s: not a manifest list (no field 500)", name);
		goto out;
	}
	if ((rc = projected_open(&pf, path, name, proj, err)))
		goto out;
	while ((got = projected_next(&pf, name, err)) == 1) {
		if (count == cap) {
			ice_manifest_file *q = realloc(arr, (cap = cap ? cap * 2 : 16) * sizeof *q);
			if (!q) {
				rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
				goto out;
			}
			arr = q;
		}
		memset(&arr[count], 0, sizeof arr[count]);
		rc = read_list_entry(&pf.dest, &p, name, &arr[count], err);
		count++;
		if (rc)
			goto out;
	}
	if (got < 0) {
		rc = err->code;
		goto out;
	}
	*files = arr;
	*n = count;
	arr = NULL;
	count = 0;
out:
	ice_manifest_files_free(arr, count);
	projected_close(&pf);
	json_decref(proj);
	json_decref(schema);
	json_decref(meta);
	return rc;
}

void ice_manifest_files_free(ice_manifest_file *files, size_t n)
{
	for (size_t i = 0; files && i < n; i++) {
		for (size_t k = 0; k < files[i].n_partitions; k++) {
			free(files[i].partitions[k].lower);
			free(files[i].partitions[k].upper);
		}
		free(files[i].partitions);
		free(files[i].path);
	}
	free(files);
}

/* ---- manifests --------------------------------------------------------------- */

struct ice_manifest_reader {
	char *name;
	json_t *meta;
	json_t *partition_schema;
	projected_file pf;
	projection entry, file;
	uint64_t count;
};

/* The projected manifest_entry schema: entry fields, and data_file cut
 * down to file_ids. */
static json_t *project_manifest(ice_manifest_reader *r, const json_t *schema, ice_err *err)
{
	json_t *proj = project(schema, entry_ids, N_OF(entry_ids), &r->entry);
	const json_t *df = find_field(schema, F_DATA_FILE);
	const json_t *df_type = json_object_get(df, "type");
	json_t *df_proj, *slot;

	if (!proj)
		return NULL;
	if (!json_is_object(df_type) || !find_field(df_type, F_FILE_PATH)) {
		ice_err_set(err, ICE_EFORMAT, "%s: not a manifest (no data_file with file_path)", r->name);
		json_decref(proj);
		return NULL;
	}
	df_proj = project(df_type, file_ids, N_OF(file_ids), &r->file);
	slot = json_array_get(json_object_get(proj, "fields"), (size_t)slot_of(&r->entry, F_DATA_FILE));
	json_object_set_new(slot, "type", df_proj);
	r->partition_schema = json_incref(json_object_get(find_field(df_type, F_PARTITION), "type"));
	return proj;
}

int ice_manifest_open(const char *path, const char *name, ice_manifest_reader **out, ice_err *err)
{
	ice_manifest_reader *r = calloc(1, sizeof *r);
	json_t *schema = NULL, *proj = NULL;
	int rc;

	*out = NULL;
	if (!r || !(r->name = strdup(name))) {
		free(r);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	if ((rc = header_schema(path, name, &r->meta, &schema, err)))
		goto out;
	if (!(proj = project_manifest(r, schema, err))) {
		rc = err && err->code ? err->code : ICE_ENOMEM;
		goto out;
	}
	rc = projected_open(&r->pf, path, name, proj, err);
out:
	json_decref(proj);
	json_decref(schema);
	if (rc)
		ice_manifest_close(r);
	else
		*out = r;
	return rc;
}

const json_t *ice_manifest_partition_schema(const ice_manifest_reader *r)
{
	return r->partition_schema;
}

const json_t *ice_manifest_header(const ice_manifest_reader *r)
{
	return r->meta;
}

uint64_t ice_manifest_count(const ice_manifest_reader *r)
{
	return r->count;
}

static int fill_entry(ice_manifest_reader *r, ice_manifest_entry *e, ice_err *err)
{
	avro_value_t df;
	const projection *p = &r->file;
	int64_t v;

	memset(e, 0, sizeof *e);
	if (!get_i64(&r->pf.dest, slot_of(&r->entry, F_STATUS), &v) ||
	    !get_field(&r->pf.dest, slot_of(&r->entry, F_DATA_FILE), &df))
		return ice_err_set(err, ICE_EFORMAT, "%s: entry %llu lacks status or data_file",
		                   r->name, (unsigned long long)r->count);
	e->status = (int)v;
	e->has_snapshot_id = get_i64(&r->pf.dest, slot_of(&r->entry, F_SNAPSHOT_ID), &e->snapshot_id);
	e->has_sequence_number = get_i64(&r->pf.dest, slot_of(&r->entry, F_SEQ), &e->sequence_number);
	e->has_file_sequence_number = get_i64(&r->pf.dest, slot_of(&r->entry, F_FILE_SEQ),
	                                      &e->file_sequence_number);
	e->content = get_i64(&df, slot_of(p, F_CONTENT), &v) ? (int)v : ICE_CONTENT_DATA;
	e->file_path = get_str(&df, slot_of(p, F_FILE_PATH));
	e->file_format = get_str(&df, slot_of(p, F_FILE_FORMAT));
	if (!e->file_path || !get_field(&df, slot_of(p, F_PARTITION), &e->partition))
		return ice_err_set(err, ICE_EFORMAT, "%s: entry %llu lacks file_path or partition",
		                   r->name, (unsigned long long)r->count);
	get_i64(&df, slot_of(p, F_RECORD_COUNT), &e->record_count);
	get_i64(&df, slot_of(p, F_FILE_SIZE), &e->file_size_in_bytes);
	e->referenced_data_file = get_str(&df, slot_of(p, F_REFERENCED));
	e->has_content_offset = get_i64(&df, slot_of(p, F_CONTENT_OFFSET), &e->content_offset);
	get_i64(&df, slot_of(p, F_CONTENT_SIZE), &e->content_size_in_bytes);
	e->has_equality_ids = get_field(&df, slot_of(p, F_EQUALITY_IDS), &e->equality_ids);
	return ICE_OK;
}

int ice_manifest_next(ice_manifest_reader *r, ice_manifest_entry *e, ice_err *err)
{
	int got = projected_next(&r->pf, r->name, err);

	if (got != 1)
		return got;
	r->count++;
	return fill_entry(r, e, err) == ICE_OK ? 1 : -1;
}

void ice_manifest_close(ice_manifest_reader *r)
{
	if (!r)
		return;
	projected_close(&r->pf);
	json_decref(r->partition_schema);
	json_decref(r->meta);
	free(r->name);
	free(r);
}
