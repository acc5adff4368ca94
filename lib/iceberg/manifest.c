/* manifest: decode manifest lists and manifests from their bytes, resolving
 * fields by Iceberg field id and projecting away what a diff never uses. */
#include "config.h"
#include "ice_manifest.h"
#include "ice_avro_block.h"
#include "ice_avro_decode.h"
#include "ice_avro_header.h"
#include "ice_fileio.h"

#include <stdio.h>
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

/* Spec ids are Iceberg ints, never negative. */
static bool spec_id_ok(int64_t v)
{
	return v >= 0 && v <= INT32_MAX;
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

/* The type a value of `type` has when present: the non-null branch of a
 * union ["null", T] (some writers make every manifest field one, even
 * data_file and the partition record); any other type as it is. */
static const json_t *present_type(const json_t *type)
{
	const json_t *branch, *found = NULL;
	size_t i;

	if (!json_is_array(type))
		return type;
	json_array_foreach(type, i, branch)
		if (!json_is_string(branch) || strcmp(json_string_value(branch), "null") != 0) {
			if (found)
				return type; /* a union of two types is not a nullable T */
			found = branch;
		}
	return found ? found : type;
}

/* `type` with its present type replaced by `t` (a new reference), keeping
 * a nullable union's shape so that avro-c resolves writer and reader. */
static json_t *with_present_type(const json_t *type, json_t *t)
{
	json_t *out;
	const json_t *branch;
	size_t i;

	if (!t || present_type(type) == type)
		return t;
	out = json_array();
	json_array_foreach(type, i, branch)
		json_array_append_new(out, branch == present_type(type) ? json_incref(t)
		                                                         : json_deep_copy(branch));
	json_decref(t);
	return out;
}

const json_t *ice_manifest_schema_partition_type(const json_t *schema)
{
	const json_t *df = present_type(json_object_get(find_field(schema, F_DATA_FILE), "type"));

	return json_is_object(df) ? present_type(json_object_get(find_field(df, F_PARTITION), "type"))
	                          : NULL;
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

/* avro-c reads the file's bytes through a stream over them (it owns and
 * closes the stream; the bytes stay the caller's). */
static int projected_open(projected_file *pf, const void *data, size_t len, const char *name,
                          const json_t *reader_json, ice_err *err)
{
	char *text = json_dumps(reader_json, JSON_COMPACT);
	avro_schema_t writer;
	FILE *f = NULL;
	int rc = ICE_OK;

	memset(pf, 0, sizeof *pf);
	if (!text)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (avro_schema_from_json_length(text, strlen(text), &pf->reader_schema) != 0) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s: unusable schema: %s", name, avro_strerror());
		goto out;
	}
	if (!len || !(f = fmemopen((void *)data, len, "rb"))) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s: not an Avro container file", name);
		goto out;
	}
	/* avro-c's reader leaks when a block's length is corrupt: the framing
	 * is checked first */
	if ((rc = ice_avro_blocks_check_mem(data, len, name, err)))
		goto out;
	if (avro_file_reader_fp(f, name, 1, &pf->file) != 0) {
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

/* Is the value at slot a union holding null? */
static bool is_null(avro_value_t *rec, int slot)
{
	avro_value_t v, branch;

	return slot >= 0 && avro_value_get_by_index(rec, (size_t)slot, &v, NULL) == 0 &&
	       avro_value_get_type(&v) == AVRO_UNION &&
	       avro_value_get_current_branch(&v, &branch) == 0 &&
	       avro_value_get_type(&branch) == AVRO_NULL;
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

/* The header and schema of a file avro-c is to read. The schema is first
 * compiled by our own decoder, which refuses what avro-c would recurse on
 * without end (recursive types, deep nesting) or expand without bound. */
static int header_schema(const void *data, size_t len, const char *name, json_t **meta,
                         json_t **schema, ice_err *err)
{
	ice_avro_type *type = NULL;
	int rc = ice_avro_header_parse_mem(data, len, name, meta, NULL, NULL, err);

	if (rc)
		return rc;
	if (!(*schema = ice_avro_header_schema(*meta, name, err)))
		return ICE_EFORMAT;
	rc = ice_avro_type_new(*schema, name, &type, err);
	ice_avro_type_free(type);
	return rc;
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
		s->contains_nan = -1;
		mf->n_partitions++;
		if (avro_value_get_type(&item) == AVRO_UNION &&
		    (avro_value_get_current_branch(&item, &b) != 0 || avro_value_get_type(&b) == AVRO_NULL))
			continue; /* a null summary: nothing known of the field */
		if (avro_value_get_type(&item) == AVRO_UNION)
			item = b;
		/* The summary record is read whole; its field order is the spec's. */
		if (get_field(&item, slot_of(&sp, S_CONTAINS_NULL), &b) && avro_value_get_boolean(&b, &bv) == 0)
			s->contains_null = bv;
		if (get_field(&item, slot_of(&sp, S_CONTAINS_NAN), &b) && avro_value_get_boolean(&b, &bv) == 0)
			s->contains_nan = bv;
		get_bytes(&item, slot_of(&sp, S_LOWER), &s->lower, &s->lower_len);
		get_bytes(&item, slot_of(&sp, S_UPPER), &s->upper, &s->upper_len);
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
	if (get_i64(rec, slot_of(p, L_SPEC_ID), &v) && !spec_id_ok(v))
		return ice_err_set(err, ICE_EFORMAT, "%s: manifest list entry %s: partition spec id %lld out of range",
		                   name, path, (long long)v);
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

/* A new zeroed entry at the end of a growing array, or NULL. */
static ice_manifest_file *list_slot(ice_manifest_file **arr, size_t *count, size_t *cap)
{
	if (*count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		ice_manifest_file *q = realloc(*arr, ncap * sizeof *q);
		if (!q)
			return NULL;
		*arr = q;
		*cap = ncap;
	}
	memset(&(*arr)[*count], 0, sizeof **arr);
	return &(*arr)[(*count)++];
}

static int read_list_generic(const void *data, size_t len, const char *name,
                             ice_manifest_file **arr, size_t *count, size_t *cap, ice_err *err)
{
	json_t *meta = NULL, *schema = NULL, *proj = NULL;
	projected_file pf = { 0 };
	projection p;
	ice_manifest_file *mf;
	int rc, got;

	if ((rc = header_schema(data, len, name, &meta, &schema, err)))
		goto out;
	if (!(proj = project(schema, list_ids, N_OF(list_ids), &p))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if (slot_of(&p, L_PATH) < 0) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s: not a manifest list (no field 500)", name);
		goto out;
	}
	if ((rc = projected_open(&pf, data, len, name, proj, err)))
		goto out;
	while ((got = projected_next(&pf, name, err)) == 1) {
		if (!(mf = list_slot(arr, count, cap))) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = read_list_entry(&pf.dest, &p, name, mf, err)))
			goto out;
	}
	if (got < 0)
		rc = ICE_EFORMAT; /* err may be NULL */
out:
	projected_close(&pf);
	json_decref(proj);
	json_decref(schema);
	json_decref(meta);
	return rc;
}

/* ---- manifest lists, decoded directly ---- */

static bool copy_bytes(const unsigned char *s, size_t len, unsigned char **out, size_t *out_len)
{
	if (!(*out = malloc(len ? len : 1)))
		return false;
	memcpy(*out, s, len);
	*out_len = len;
	return true;
}

static bool read_opt_bytes(ice_av_cursor *c, const ice_av_node *n, unsigned char **out,
                           size_t *len)
{
	const unsigned char *s;
	size_t l;
	bool present;

	/* A schema may repeat a field id: the last value wins, none leaks. */
	free(*out);
	*out = NULL;
	*len = 0;
	return ice_av_read_str(c, n, &present, &s, &l) && (!present || copy_bytes(s, l, out, len));
}

static bool read_summary(ice_av_cursor *c, const ice_av_node *n, ice_field_summary *s)
{
	bool present, v;

	s->contains_nan = -1;
	if (!ice_av_branch(c, &n, &present) || !present || n->kind != ICE_AV_RECORD)
		return present ? ice_av_skip(c, n) : true;
	for (size_t i = 0; i < n->n; i++) {
		const ice_av_node *f = n->children[i];
		bool ok;
		switch (n->field_ids[i]) {
		case S_CONTAINS_NULL:
			ok = ice_av_read_bool(c, f, &present, &v) && (s->contains_null = present && v, true);
			break;
		case S_CONTAINS_NAN:
			ok = ice_av_read_bool(c, f, &present, &v) && (s->contains_nan = present ? v : -1, true);
			break;
		case S_LOWER:
			ok = read_opt_bytes(c, f, &s->lower, &s->lower_len);
			break;
		case S_UPPER:
			ok = read_opt_bytes(c, f, &s->upper, &s->upper_len);
			break;
		default:
			ok = ice_av_skip(c, f);
		}
		if (!ok)
			return false;
	}
	return true;
}

static bool read_summaries_direct(ice_av_cursor *c, const ice_av_node *n, ice_manifest_file *mf)
{
	int64_t count;
	bool present;

	if (!ice_av_branch(c, &n, &present))
		return false;
	if (!present || n->kind != ICE_AV_ARRAY)
		return ice_av_skip(c, n);
	mf->has_partitions = true;
	/* ice_av_array_block bounds count by the bytes left, so the sum below
	 * cannot overflow; the array is grown only once the count is known good. */
	while (ice_av_array_block(c, &count) && count > 0) {
		ice_field_summary *q = realloc(mf->partitions, (mf->n_partitions + (size_t)count + 1) * sizeof *q);
		if (!q)
			return false;
		mf->partitions = q;
		for (int64_t k = 0; k < count; k++) {
			ice_field_summary *s = &mf->partitions[mf->n_partitions];
			memset(s, 0, sizeof *s);
			mf->n_partitions++;
			if (!read_summary(c, n->items, s))
				return false;
		}
	}
	if (!mf->partitions)
		mf->partitions = calloc(1, sizeof *mf->partitions);
	return count == 0 && mf->partitions;
}

static bool read_list_field(ice_av_cursor *c, int id, const ice_av_node *n, ice_manifest_file *mf)
{
	const unsigned char *s;
	size_t len;
	int64_t v;
	bool present;

	switch (id) {
	case L_PATH:
		free(mf->path); /* a repeated field id: the last wins */
		mf->path = NULL;
		return ice_av_read_str(c, n, &present, &s, &len) &&
		       (!present || (mf->path = strndup((const char *)s, len)) != NULL);
	case L_LENGTH:
		return ice_av_read_i64(c, n, &present, &mf->length);
	case L_ADDED_SNAPSHOT:
		return ice_av_read_i64(c, n, &mf->has_added_snapshot_id, &mf->added_snapshot_id);
	case L_SEQ:
		return ice_av_read_i64(c, n, &present, &mf->sequence_number);
	case L_MIN_SEQ:
		return ice_av_read_i64(c, n, &present, &mf->min_sequence_number);
	case L_SPEC_ID:
	case L_CONTENT:
	case L_ADDED_FILES:
	case L_EXISTING_FILES:
	case L_DELETED_FILES:
		if (!ice_av_read_i64(c, n, &present, &v))
			return false;
		if (present && id == L_SPEC_ID && !spec_id_ok(v))
			return false;
		if (present && id == L_SPEC_ID)
			mf->spec_id = (int)v;
		else if (present && id == L_CONTENT)
			mf->content = (int)v;
		else if (present)
			*(id == L_ADDED_FILES ? &mf->added_files
			  : id == L_EXISTING_FILES ? &mf->existing_files : &mf->deleted_files) = v;
		return true;
	case L_PARTITIONS:
		return read_summaries_direct(c, n, mf);
	default:
		return ice_av_skip(c, n);
	}
}

static int read_list_direct(ice_avro_blocks *blocks, const char *name, ice_manifest_file **arr,
                            size_t *count, size_t *cap, ice_err *err)
{
	json_t *schema = ice_avro_header_schema(ice_avro_blocks_meta(blocks), name, err);
	ice_avro_type *type = NULL;
	const ice_av_node *rec;
	ice_av_cursor c;
	const unsigned char *data;
	size_t len;
	int64_t n;
	int rc, got;

	if (!schema)
		return err && err->code ? err->code : ICE_EFORMAT;
	if ((rc = ice_avro_type_new(schema, name, &type, err)))
		goto out;
	rec = ice_avro_type_root(type);
	if (rec->kind != ICE_AV_RECORD || !find_field(schema, L_PATH)) {
		rc = ice_err_set(err, ICE_EFORMAT, "%s: not a manifest list (no field 500)", name);
		goto out;
	}
	while ((got = ice_avro_blocks_next(blocks, &data, &len, &n, err)) == 1) {
		c.p = data;
		c.end = data + len;
		while (n-- > 0) {
			ice_manifest_file *mf = list_slot(arr, count, cap);
			if (!mf) {
				rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
				goto out;
			}
			mf->added_files = mf->existing_files = mf->deleted_files = -1;
			for (size_t i = 0; i < rec->n; i++)
				if (!read_list_field(&c, rec->field_ids[i], rec->children[i], mf)) {
					rc = ice_err_set(err, ICE_EFORMAT, "%s: corrupt Avro data in entry %zu",
					                 name, *count);
					goto out;
				}
			if (!mf->path) {
				rc = ice_err_set(err, ICE_EFORMAT, "%s: manifest list entry without manifest_path", name);
				goto out;
			}
		}
		if (c.p != c.end) {
			rc = ice_err_set(err, ICE_EFORMAT, "%s: corrupt Avro block after entry %zu", name, *count);
			goto out;
		}
	}
	if (got < 0)
		rc = err && err->code ? err->code : ICE_EFORMAT; /* err may be NULL */
out:
	ice_avro_type_free(type);
	json_decref(schema);
	return rc;
}

/* Hand the entries over, or free them. */
static int list_done(int rc, ice_manifest_file *arr, size_t count, ice_manifest_file **files,
                     size_t *n)
{
	if (rc == ICE_OK) {
		*files = arr;
		*n = count;
	} else {
		ice_manifest_files_free(arr, count);
	}
	return rc;
}

static int list_decode(const void *data, size_t len, const char *name, bool generic,
                       ice_manifest_file **files, size_t *n, ice_err *err)
{
	ice_avro_blocks *blocks = NULL;
	ice_manifest_file *arr = NULL;
	size_t count = 0, cap = 0;
	int rc = ICE_EUNSUPPORTED;

	*files = NULL;
	*n = 0;
	/* Directly when the codec allows, else with avro-c. */
	if (!generic && (rc = ice_avro_blocks_open_mem(data, len, name, &blocks, err)) == ICE_OK) {
		rc = read_list_direct(blocks, name, &arr, &count, &cap, err);
		ice_avro_blocks_close(blocks);
	} else if (rc == ICE_EUNSUPPORTED) {
		ice_err_clear(err);
		rc = read_list_generic(data, len, name, &arr, &count, &cap, err);
	}
	return list_done(rc, arr, count, files, n);
}

int ice_manifest_list_decode(const void *data, size_t len, const char *name,
                             ice_manifest_file **files, size_t *n, ice_err *err)
{
	return list_decode(data, len, name, false, files, n, err);
}

/* A local file read whole, then decoded. */
static int list_read_file(const char *path, const char *name, bool generic,
                          ice_manifest_file **files, size_t *n, ice_err *err)
{
	ice_file_id id;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*files = NULL;
	*n = 0;
	if ((rc = ice_read_file_raw(path, 0, &buf, &len, &id, err)) == ICE_OK)
		rc = list_decode(buf, len, name, generic, files, n, err);
	free(buf);
	return rc;
}

int ice_manifest_list_read(const char *path, const char *name, ice_manifest_file **files,
                           size_t *n, ice_err *err)
{
	return list_read_file(path, name, false, files, n, err);
}

int ice_manifest_list_read_generic(const char *path, const char *name, ice_manifest_file **files,
                                   size_t *n, ice_err *err)
{
	return list_read_file(path, name, true, files, n, err);
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

/* Direct decoding of a manifest's blocks (codecs null and deflate). */
typedef struct {
	ice_avro_blocks *blocks;
	ice_avro_type *type;
	const ice_av_node *entry;   /* the manifest_entry record */
	ice_av_cursor cur;          /* in the current block */
	int64_t left;               /* records left in it */
	char *str[3];               /* NUL-terminated copies: path, format, referenced */
	size_t str_cap[3];
	/* The partition tuple, decoded by avro-c when its bytes change. */
	avro_schema_t part_schema;
	avro_value_iface_t *part_class;
	avro_value_t part_value;
	bool have_part_value;
	avro_reader_t part_reader;
	unsigned char *part_last;
	size_t part_last_len, part_last_cap;
	bool part_known;
} direct_file;

struct ice_manifest_reader {
	char *name;
	char *owned;                /* the bytes of a file read by path */
	json_t *meta;
	json_t *partition_schema;
	char *schema_text;          /* avro.schema the direct decoder was compiled for */
	bool ready;                 /* a file is open */
	bool direct;
	direct_file df;
	projected_file pf;
	projection entry, file;
	int32_t *eq;                /* equality ids of the current entry */
	size_t eq_cap;
	uint64_t count;
};

/* The data_file record type of a manifest schema, with file_path. */
static const json_t *data_file_type(const ice_manifest_reader *r, const json_t *schema, ice_err *err)
{
	const json_t *df_type = present_type(json_object_get(find_field(schema, F_DATA_FILE), "type"));

	if (!json_is_object(df_type) || !find_field(df_type, F_FILE_PATH)) {
		ice_err_set(err, ICE_EFORMAT, "%s: not a manifest (no data_file with file_path)", r->name);
		return NULL;
	}
	return df_type;
}

/* The projected manifest_entry schema: entry fields, and data_file cut
 * down to file_ids. */
static json_t *project_manifest(ice_manifest_reader *r, const json_t *schema, ice_err *err)
{
	const json_t *df_type = data_file_type(r, schema, err);
	json_t *proj, *df_proj, *slot;

	if (!df_type || !(proj = project(schema, entry_ids, N_OF(entry_ids), &r->entry)))
		return NULL;
	df_proj = project(df_type, file_ids, N_OF(file_ids), &r->file);
	slot = json_array_get(json_object_get(proj, "fields"), (size_t)slot_of(&r->entry, F_DATA_FILE));
	json_object_set_new(slot, "type", with_present_type(json_object_get(slot, "type"), df_proj));
	return proj;
}

static int open_generic(ice_manifest_reader *r, const void *data, size_t len,
                        const json_t *schema, ice_err *err)
{
	json_t *proj = project_manifest(r, schema, err);
	int rc;

	if (!proj)
		return err && err->code ? err->code : ICE_ENOMEM;
	rc = projected_open(&r->pf, data, len, r->name, proj, err);
	json_decref(proj);
	return rc;
}

/* What belongs to one file; the compiled schema stays for the next. */
static void direct_close_file(direct_file *d)
{
	ice_avro_blocks_close(d->blocks);
	d->blocks = NULL;
	d->cur.p = d->cur.end = NULL;
	d->left = 0;
	d->part_known = false;
}

static void direct_close(direct_file *d)
{
	direct_close_file(d);
	if (d->have_part_value)
		avro_value_decref(&d->part_value);
	if (d->part_class)
		avro_value_iface_decref(d->part_class);
	if (d->part_schema)
		avro_schema_decref(d->part_schema);
	if (d->part_reader)
		avro_reader_free(d->part_reader);
	for (int i = 0; i < 3; i++)
		free(d->str[i]);
	free(d->part_last);
	ice_avro_type_free(d->type);
	memset(d, 0, sizeof *d);
}

/* avro-c's value of the writer's partition record, for ice_part_decode. */
static int open_partition_value(ice_manifest_reader *r, ice_err *err)
{
	direct_file *d = &r->df;
	char *text = json_dumps(r->partition_schema, JSON_COMPACT);
	int rc = ICE_OK;

	if (!text)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (avro_schema_from_json_length(text, strlen(text), &d->part_schema) != 0)
		rc = ice_err_set(err, ICE_EFORMAT, "%s: unusable partition schema: %s", r->name,
		                 avro_strerror());
	else if (!(d->part_class = avro_generic_class_from_schema(d->part_schema)) ||
	         avro_generic_value_new(d->part_class, &d->part_value) != 0 ||
	         !(d->part_reader = avro_reader_memory(NULL, 0)))
		rc = ice_err_set(err, ICE_ENOMEM, "%s: %s", r->name, avro_strerror());
	else
		d->have_part_value = true;
	free(text);
	return rc;
}

static int open_direct(ice_manifest_reader *r, const json_t *schema, ice_err *err)
{
	direct_file *d = &r->df;
	const ice_av_node *root;
	int rc;

	if ((rc = ice_avro_type_new(schema, r->name, &d->type, err)))
		return rc;
	root = ice_avro_type_root(d->type);
	if (root->kind != ICE_AV_RECORD)
		return ice_err_set(err, ICE_EFORMAT, "%s: not a manifest (not a record)", r->name);
	d->entry = root;
	return open_partition_value(r, err);
}

/* Forget the previous file; keep its compiled schema when the next one's
 * is the same text (`schema_text` NULL: keep nothing). */
static void reset_reader(ice_manifest_reader *r, const char *schema_text)
{
	bool same = schema_text && r->schema_text && r->direct && strcmp(schema_text, r->schema_text) == 0;

	projected_close(&r->pf);
	if (same) {
		direct_close_file(&r->df);
	} else {
		direct_close(&r->df);
		json_decref(r->partition_schema);
		r->partition_schema = NULL;
		free(r->schema_text);
		r->schema_text = NULL;
		r->direct = false;
	}
	json_decref(r->meta);
	r->meta = NULL;
	r->count = 0;
}

/* The header of a file read directly: its schema, compiled unless the
 * previous file had the same. */
static int load_direct(ice_manifest_reader *r, ice_avro_blocks *blocks, ice_err *err)
{
	const char *text = json_string_value(json_object_get(ice_avro_blocks_meta(blocks), "avro.schema"));
	json_t *schema = NULL;
	const json_t *df_type;
	int rc = ICE_OK;

	reset_reader(r, text);
	r->df.blocks = blocks;
	r->meta = json_incref((json_t *)ice_avro_blocks_meta(blocks));
	if (r->direct)
		return ICE_OK;
	if (!(schema = ice_avro_header_schema(r->meta, r->name, err)) ||
	    !(df_type = data_file_type(r, schema, err))) {
		rc = err && err->code ? err->code : ICE_EFORMAT;
		goto out;
	}
	r->partition_schema = json_incref((json_t *)ice_manifest_schema_partition_type(schema));
	if ((rc = open_direct(r, schema, err)))
		goto out;
	if (!(r->schema_text = strdup(text))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	r->direct = true;
out:
	json_decref(schema);
	return rc;
}

/* A codec avro-c knows and we do not, or on request: avro-c decodes. */
static int load_generic(ice_manifest_reader *r, const void *data, size_t len, ice_err *err)
{
	json_t *schema = NULL;
	const json_t *df_type;
	int rc;

	reset_reader(r, NULL);
	if ((rc = header_schema(data, len, r->name, &r->meta, &schema, err)))
		goto out;
	if (!(df_type = data_file_type(r, schema, err))) {
		rc = err && err->code ? err->code : ICE_EFORMAT;
		goto out;
	}
	r->partition_schema = json_incref((json_t *)ice_manifest_schema_partition_type(schema));
	rc = open_generic(r, data, len, schema, err);
out:
	json_decref(schema);
	return rc;
}

static int load(ice_manifest_reader *r, const void *data, size_t len, const char *name,
                bool generic, ice_err *err)
{
	ice_avro_blocks *blocks = NULL;
	char *copy = strdup(name);
	int rc = ICE_EUNSUPPORTED;

	r->ready = false;
	if (!copy)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	free(r->name);
	r->name = copy;
	if (!generic && (rc = ice_avro_blocks_open_mem(data, len, name, &blocks, err)) == ICE_OK)
		rc = load_direct(r, blocks, err);
	else if (rc == ICE_EUNSUPPORTED) {
		ice_err_clear(err);
		rc = load_generic(r, data, len, err);
	}
	r->ready = rc == ICE_OK;
	return rc;
}

/* Load a local file: its bytes are the reader's until the next load. The
 * previous file's bytes go only once nothing of it is open any more. */
static int load_file(ice_manifest_reader *r, const char *path, const char *name, bool generic,
                     ice_err *err)
{
	char *old = r->owned, *buf = NULL;
	ice_file_id id;
	size_t len = 0;
	int rc;

	r->owned = NULL;
	if ((rc = ice_read_file_raw(path, 0, &buf, &len, &id, err)) == ICE_OK) {
		r->owned = buf;
		rc = load(r, buf, len, name, generic, err);
	} else {
		r->ready = false;
		reset_reader(r, NULL);
	}
	free(old);
	return rc;
}

static int open_reader(const char *path, const void *data, size_t len, const char *name,
                       bool generic, ice_manifest_reader **out, ice_err *err)
{
	ice_manifest_reader *r = calloc(1, sizeof *r);
	int rc;

	*out = NULL;
	if (!r)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	rc = path ? load_file(r, path, name, generic, err) : load(r, data, len, name, generic, err);
	if (rc)
		ice_manifest_close(r);
	else
		*out = r;
	return rc;
}

int ice_manifest_open(const char *path, const char *name, ice_manifest_reader **out, ice_err *err)
{
	return open_reader(path, NULL, 0, name, false, out, err);
}

int ice_manifest_open_generic(const char *path, const char *name, ice_manifest_reader **out,
                              ice_err *err)
{
	return open_reader(path, NULL, 0, name, true, out, err);
}

int ice_manifest_reopen(ice_manifest_reader *r, const char *path, const char *name, ice_err *err)
{
	return load_file(r, path, name, false, err);
}

int ice_manifest_open_mem(const void *data, size_t len, const char *name,
                          ice_manifest_reader **out, ice_err *err)
{
	return open_reader(NULL, data, len, name, false, out, err);
}

int ice_manifest_reopen_mem(ice_manifest_reader *r, const void *data, size_t len,
                            const char *name, ice_err *err)
{
	int rc;

	/* Bytes of a file read by path stay until nothing of it is open. */
	rc = load(r, data, len, name, false, err);
	free(r->owned);
	r->owned = NULL;
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

static int push_equality_id(ice_manifest_reader *r, size_t n, int64_t id, ice_err *err)
{
	if (n == r->eq_cap) {
		size_t cap = r->eq_cap ? r->eq_cap * 2 : 8;
		int32_t *q = realloc(r->eq, cap * sizeof *q);
		if (!q)
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		r->eq = q;
		r->eq_cap = cap;
	}
	r->eq[n] = (int32_t)id;
	return ICE_OK;
}

static int bad_entry(const ice_manifest_reader *r, ice_err *err, const char *what)
{
	return ice_err_set(err, ICE_EFORMAT, "%s: entry %llu lacks %s", r->name,
	                   (unsigned long long)r->count, what);
}

/* A nullable union holding null where the spec requires a value. */
static int null_entry(const ice_manifest_reader *r, ice_err *err, const char *field)
{
	return ice_err_set(err, ICE_EFORMAT, "%s: entry %llu: required field %s is null", r->name,
	                   (unsigned long long)r->count, field);
}

/* What one entry held of the fields the spec requires. */
typedef struct {
	bool status, data_file, path, partition;
	const char *null_field; /* the first required field written as null */
} entry_seen;

static void seen_null(entry_seen *seen, const char *field)
{
	if (!seen->null_field)
		seen->null_field = field;
}

/* ---- direct decoding ---------------------------------------------------------- */

static bool copy_str(direct_file *d, int i, const unsigned char *s, size_t len, const char **out)
{
	if (len + 1 > d->str_cap[i]) {
		size_t cap = (len + 1) * 2;
		char *q = realloc(d->str[i], cap);
		if (!q)
			return false;
		d->str[i] = q;
		d->str_cap[i] = cap;
	}
	memcpy(d->str[i], s, len);
	d->str[i][len] = '\0';
	*out = d->str[i];
	return true;
}

static bool read_opt_str(direct_file *d, const ice_av_node *n, int i, const char **out)
{
	const unsigned char *s;
	size_t len;
	bool present;

	*out = NULL;
	if (!ice_av_read_str(&d->cur, n, &present, &s, &len))
		return false;
	return !present || copy_str(d, i, s, len, out);
}

static bool read_equality_ids(ice_manifest_reader *r, const ice_av_node *n, ice_manifest_entry *e)
{
	ice_av_cursor *c = &r->df.cur;
	int64_t count, id;

	if (!ice_av_branch(c, &n, &e->has_equality_ids))
		return false;
	if (!e->has_equality_ids)
		return true;
	if (n->kind != ICE_AV_ARRAY || (n->items->kind != ICE_AV_INT && n->items->kind != ICE_AV_LONG)) {
		e->has_equality_ids = false;
		return ice_av_skip(c, n);
	}
	for (;;) {
		if (!ice_av_array_block(c, &count))
			return false;
		if (count == 0)
			break;
		while (count-- > 0)
			if (!ice_av_read_long(c, &id) || push_equality_id(r, e->n_equality_ids++, id, NULL))
				return false;
	}
	e->equality_ids = r->eq;
	return true;
}

/* Hand the partition bytes to avro-c when they differ from the last. */
static int decode_partition(ice_manifest_reader *r, ice_manifest_entry *e, ice_err *err)
{
	direct_file *d = &r->df;

	e->partition = d->part_value;
	if (d->part_known && d->part_last_len == e->partition_raw_len &&
	    (!e->partition_raw_len || memcmp(d->part_last, e->partition_raw, e->partition_raw_len) == 0))
		return ICE_OK;
	d->part_known = false;
	if (e->partition_raw_len > d->part_last_cap) {
		unsigned char *q = realloc(d->part_last, e->partition_raw_len * 2);
		if (!q)
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		d->part_last = q;
		d->part_last_cap = e->partition_raw_len * 2;
	}
	avro_value_reset(&d->part_value);
	avro_reader_memory_set_source(d->part_reader, (const char *)e->partition_raw,
	                              (int64_t)e->partition_raw_len);
	if (avro_value_read(d->part_reader, &d->part_value) != 0)
		return ice_err_set(err, ICE_EFORMAT, "%s: entry %llu: bad partition: %s", r->name,
		                   (unsigned long long)r->count, avro_strerror());
	if (e->partition_raw_len)
		memcpy(d->part_last, e->partition_raw, e->partition_raw_len);
	d->part_last_len = e->partition_raw_len;
	d->part_known = true;
	return ICE_OK;
}

/* A required long: null (in a nullable union) is noted in *seen. */
static bool read_required_i64(ice_av_cursor *c, const ice_av_node *n, const char *field,
                              entry_seen *seen, int64_t *out)
{
	bool present;

	if (!ice_av_read_i64(c, n, &present, out))
		return false;
	if (!present)
		seen_null(seen, field);
	return true;
}

/* The partition record's bytes, after the branch of a nullable union. */
static bool read_partition_raw(direct_file *d, const ice_av_node *n, ice_manifest_entry *e,
                               entry_seen *seen)
{
	bool present;

	if (!ice_av_branch(&d->cur, &n, &present))
		return false;
	seen->partition = true;
	if (!present) {
		seen_null(seen, "partition");
		return true;
	}
	e->partition_raw = d->cur.p;
	if (!ice_av_skip(&d->cur, n))
		return false;
	e->partition_raw_len = (size_t)(d->cur.p - e->partition_raw);
	return true;
}

static bool read_file_field(ice_manifest_reader *r, int id, const ice_av_node *n,
                            ice_manifest_entry *e, entry_seen *seen)
{
	direct_file *d = &r->df;
	int64_t v;
	bool present;

	switch (id) {
	case F_CONTENT:
		if (!ice_av_read_i64(&d->cur, n, &present, &v))
			return false;
		if (!present && n->kind == ICE_AV_UNION)
			seen_null(seen, "content");
		e->content = present ? (int)v : ICE_CONTENT_DATA;
		return true;
	case F_FILE_PATH:
		if (!read_opt_str(d, n, 0, &e->file_path))
			return false;
		seen->path = e->file_path != NULL;
		if (!e->file_path && n->kind == ICE_AV_UNION)
			seen_null(seen, "file_path");
		return true;
	case F_FILE_FORMAT:
		if (!read_opt_str(d, n, 1, &e->file_format))
			return false;
		if (!e->file_format && n->kind == ICE_AV_UNION)
			seen_null(seen, "file_format");
		return true;
	case F_REFERENCED:
		return read_opt_str(d, n, 2, &e->referenced_data_file);
	case F_PARTITION:
		return read_partition_raw(d, n, e, seen);
	case F_RECORD_COUNT:
		return read_required_i64(&d->cur, n, "record_count", seen, &e->record_count);
	case F_FILE_SIZE:
		return read_required_i64(&d->cur, n, "file_size_in_bytes", seen, &e->file_size_in_bytes);
	case F_CONTENT_OFFSET:
		return ice_av_read_i64(&d->cur, n, &e->has_content_offset, &e->content_offset);
	case F_CONTENT_SIZE:
		return ice_av_read_i64(&d->cur, n, &present, &e->content_size_in_bytes);
	case F_EQUALITY_IDS:
		return read_equality_ids(r, n, e);
	default:
		return ice_av_skip(&d->cur, n);
	}
}

static bool read_data_file(ice_manifest_reader *r, const ice_av_node *n, ice_manifest_entry *e,
                           entry_seen *seen)
{
	bool present;

	if (!ice_av_branch(&r->df.cur, &n, &present))
		return false;
	if (!present)
		seen_null(seen, "data_file");
	if (!present || n->kind != ICE_AV_RECORD)
		return ice_av_skip(&r->df.cur, n);
	seen->data_file = true;
	for (size_t i = 0; i < n->n; i++)
		if (!read_file_field(r, n->field_ids[i], n->children[i], e, seen))
			return false;
	return true;
}

static bool read_entry_field(ice_manifest_reader *r, int id, const ice_av_node *n,
                             ice_manifest_entry *e, entry_seen *seen)
{
	ice_av_cursor *c = &r->df.cur;
	int64_t v;

	switch (id) {
	case F_STATUS:
		if (!ice_av_read_i64(c, n, &seen->status, &v))
			return false;
		if (!seen->status && n->kind == ICE_AV_UNION)
			seen_null(seen, "status");
		e->status = (int)v;
		return true;
	case F_SNAPSHOT_ID:
		return ice_av_read_i64(c, n, &e->has_snapshot_id, &e->snapshot_id);
	case F_SEQ:
		return ice_av_read_i64(c, n, &e->has_sequence_number, &e->sequence_number);
	case F_FILE_SEQ:
		return ice_av_read_i64(c, n, &e->has_file_sequence_number, &e->file_sequence_number);
	case F_DATA_FILE:
		return read_data_file(r, n, e, seen);
	default:
		return ice_av_skip(c, n);
	}
}

/* The verdict on an entry's required fields, the same for both decoders. */
static int check_seen(const ice_manifest_reader *r, const entry_seen *seen, ice_err *err)
{
	if (seen->null_field)
		return null_entry(r, err, seen->null_field);
	if (!seen->status || !seen->data_file)
		return bad_entry(r, err, "status or data_file");
	if (!seen->path || !seen->partition)
		return bad_entry(r, err, "file_path or partition");
	return ICE_OK;
}

static int direct_fill(ice_manifest_reader *r, ice_manifest_entry *e, ice_err *err)
{
	const ice_av_node *rec = r->df.entry;
	entry_seen seen = { 0 };
	int rc;

	for (size_t i = 0; i < rec->n; i++)
		if (!read_entry_field(r, rec->field_ids[i], rec->children[i], e, &seen))
			return ice_err_set(err, ICE_EFORMAT, "%s: corrupt or truncated Avro data in entry %llu",
			                   r->name, (unsigned long long)r->count);
	if ((rc = check_seen(r, &seen, err)))
		return rc;
	return decode_partition(r, e, err);
}

/* 1 when the cursor is on a record, 0 at the end, -1 on a bad block. */
static int direct_advance(ice_manifest_reader *r, ice_err *err)
{
	direct_file *d = &r->df;
	const unsigned char *data;
	size_t len;
	int got;

	while (d->left == 0) {
		if (d->cur.p != d->cur.end) {
			ice_err_set(err, ICE_EFORMAT, "%s: corrupt Avro block before entry %llu", r->name,
			            (unsigned long long)r->count);
			return -1;
		}
		if ((got = ice_avro_blocks_next(d->blocks, &data, &len, &d->left, err)) != 1)
			return got;
		d->cur.p = data;
		d->cur.end = data + len;
	}
	d->left--;
	return 1;
}

/* ---- generic decoding (avro-c) ---------------------------------------------- */

/* Note in *seen each required field of the entry written as null. */
static void generic_nulls(ice_manifest_reader *r, avro_value_t *df, entry_seen *seen)
{
	static const struct {
		int id;
		const char *name;
	} required[] = {
		{ F_CONTENT, "content" }, { F_FILE_PATH, "file_path" }, { F_FILE_FORMAT, "file_format" },
		{ F_PARTITION, "partition" }, { F_RECORD_COUNT, "record_count" },
		{ F_FILE_SIZE, "file_size_in_bytes" },
	};

	if (is_null(&r->pf.dest, slot_of(&r->entry, F_STATUS)))
		seen_null(seen, "status");
	if (is_null(&r->pf.dest, slot_of(&r->entry, F_DATA_FILE)))
		seen_null(seen, "data_file");
	for (size_t i = 0; df && i < N_OF(required); i++)
		if (is_null(df, slot_of(&r->file, required[i].id)))
			seen_null(seen, required[i].name);
}

static int generic_fill(ice_manifest_reader *r, ice_manifest_entry *e, ice_err *err)
{
	avro_value_t df, ids;
	const projection *p = &r->file;
	entry_seen seen = { 0 };
	int64_t v = 0;
	int rc;

	seen.status = get_i64(&r->pf.dest, slot_of(&r->entry, F_STATUS), &v);
	seen.data_file = get_field(&r->pf.dest, slot_of(&r->entry, F_DATA_FILE), &df);
	generic_nulls(r, seen.data_file ? &df : NULL, &seen);
	if (seen.data_file) {
		seen.path = (e->file_path = get_str(&df, slot_of(p, F_FILE_PATH))) != NULL;
		seen.partition = get_field(&df, slot_of(p, F_PARTITION), &e->partition);
	}
	if ((rc = check_seen(r, &seen, err)))
		return rc;
	e->status = (int)v;
	e->has_snapshot_id = get_i64(&r->pf.dest, slot_of(&r->entry, F_SNAPSHOT_ID), &e->snapshot_id);
	e->has_sequence_number = get_i64(&r->pf.dest, slot_of(&r->entry, F_SEQ), &e->sequence_number);
	e->has_file_sequence_number = get_i64(&r->pf.dest, slot_of(&r->entry, F_FILE_SEQ),
	                                      &e->file_sequence_number);
	e->content = get_i64(&df, slot_of(p, F_CONTENT), &v) ? (int)v : ICE_CONTENT_DATA;
	e->file_format = get_str(&df, slot_of(p, F_FILE_FORMAT));
	get_i64(&df, slot_of(p, F_RECORD_COUNT), &e->record_count);
	get_i64(&df, slot_of(p, F_FILE_SIZE), &e->file_size_in_bytes);
	e->referenced_data_file = get_str(&df, slot_of(p, F_REFERENCED));
	e->has_content_offset = get_i64(&df, slot_of(p, F_CONTENT_OFFSET), &e->content_offset);
	get_i64(&df, slot_of(p, F_CONTENT_SIZE), &e->content_size_in_bytes);
	e->has_equality_ids = get_field(&df, slot_of(p, F_EQUALITY_IDS), &ids);
	if (e->has_equality_ids) {
		size_t n = 0;
		avro_value_get_size(&ids, &n);
		for (size_t i = 0; i < n; i++) {
			avro_value_t item;
			int32_t id;
			if (avro_value_get_by_index(&ids, i, &item, NULL) == 0 &&
			    avro_value_get_int(&item, &id) == 0 &&
			    push_equality_id(r, e->n_equality_ids++, id, err))
				return ICE_ENOMEM;
		}
		e->equality_ids = r->eq;
	}
	return ICE_OK;
}

int ice_manifest_next(ice_manifest_reader *r, ice_manifest_entry *e, ice_err *err)
{
	int got;

	if (!r->ready) {
		ice_err_set(err, ICE_EINVAL, "%s: manifest not open", r->name);
		return -1;
	}
	got = r->direct ? direct_advance(r, err) : projected_next(&r->pf, r->name, err);

	if (got != 1)
		return got;
	memset(e, 0, sizeof *e);
	r->count++;
	if (r->direct)
		return direct_fill(r, e, err) == ICE_OK ? 1 : -1;
	return generic_fill(r, e, err) == ICE_OK ? 1 : -1;
}

void ice_manifest_close(ice_manifest_reader *r)
{
	if (!r)
		return;
	direct_close(&r->df);
	projected_close(&r->pf);
	json_decref(r->partition_schema);
	json_decref(r->meta);
	free(r->schema_text);
	free(r->eq);
	free(r->name);
	free(r->owned);
	free(r);
}
