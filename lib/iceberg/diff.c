/* diff: compute a snapshot transition from the manifests listed by only one
 * side, then report rows deleted by added delete files. */
#include "config.h"
#include "ice_diff.h"
#include "ice_avro_header.h"
#include "ice_jsonl.h"
#include "ice_manifest.h"
#include "ice_partition.h"
#include "ice_strset.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One side of the transition: its manifests, and which the other side
 * lists too. */
typedef struct {
	ice_manifest_file *files;
	size_t n;
	bool *shared;
} side;

/* What rows_deleted needs of one added delete file. */
typedef struct {
	int spec_id;
	bool global;       /* unpartitioned spec: applies to the whole table */
	char *key;         /* partition key */
	json_t *partition; /* raw values */
	int64_t seq;
	int content;
	char *path, *ref;
} added_delete;

typedef struct {
	const ice_metadata *md;
	const char *table;
	const ice_snapshot *from, *to;
	const ice_diff_opts *o;
	const ice_diff_sink *sink;
	ice_diff_stats *stats;
	ice_err *err;
	side a, b;
	ice_strset *a_keys, *touched, *rows_done;
	json_t *touched_list, *by_partition;
	added_delete *deletes;
	size_t n_deletes, cap_deletes;
	ice_storage *st;             /* o->storage, else own_st */
	ice_storage *own_st;
	ice_manifest_reader *reader; /* reused from manifest to manifest */
	ice_obj bytes;               /* of the manifest the reader reads */
	ice_part_decoder **spec_dec; /* per spec of md->specs (by position, not id:
	                              * ids come from files), for partition bounds */
	size_t n_spec_dec;
	int64_t data_added, data_removed, deletes_added, deletes_removed, rows_deleted;
	ice_jbuf prefix;   /* {"kind":"file",...,"to":N,"change":" */
	ice_jbuf line;     /* the file record being written */
} dctx;

/* The partition of the entries being scanned: entries of one partition
 * come in runs, so it is decoded and rendered once per run (keyed by its
 * Avro bytes, when the reader knows them). */
typedef struct {
	unsigned char *raw;
	size_t raw_len, raw_cap;
	bool valid;
	json_t *partition;   /* raw values */
	char *key;
	ice_jbuf text;       /* ,"spec_id":N,"partition":{...},"partition_key":"..." */
} part_memo;

/* A manifest being scanned, for inheritance and partition rendering. */
typedef struct {
	const ice_manifest_file *mf;
	int spec_id;
	ice_part_decoder *dec;
	part_memo memo;
} mscan;

typedef int (*entry_fn)(dctx *c, mscan *m, ice_manifest_entry *e);

/* ---- small helpers ------------------------------------------------------- */

static int64_t data_seq(const mscan *m, const ice_manifest_entry *e)
{
	if (e->has_sequence_number)
		return e->sequence_number;
	return e->status == ICE_STATUS_ADDED ? m->mf->sequence_number : 0;
}

static bool is_dv(const ice_manifest_entry *e)
{
	return e->content == ICE_CONTENT_POSITION_DELETES &&
	       (e->has_content_offset || (e->file_format && strcasecmp(e->file_format, "puffin") == 0));
}

static const char *content_name(const ice_manifest_entry *e)
{
	if (e->content == ICE_CONTENT_DATA)
		return "data";
	if (e->content == ICE_CONTENT_EQUALITY_DELETES)
		return "equality_deletes";
	return is_dv(e) ? "deletion_vector" : "position_deletes";
}

/* The live-set key: the path, plus the offset for deletion vectors (several
 * vectors live in one Puffin file). */
static char *entry_key(const ice_manifest_entry *e)
{
	char *k;

	if (!is_dv(e))
		return strdup(e->file_path);
	if (asprintf(&k, "%s#%lld", e->file_path, (long long)e->content_offset) < 0)
		return NULL;
	return k;
}

static bool is_live(const ice_manifest_entry *e)
{
	return e->status != ICE_STATUS_DELETED;
}

static json_t *id_or_null(const ice_snapshot *s)
{
	return s ? json_integer(s->id) : json_null();
}

static int emit(dctx *c, json_t *rec)
{
	if (!rec)
		return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
	return c->sink->emit(c->sink->ctx, rec);
}

/* ---- reading manifests ----------------------------------------------------- */

/* How messages name a manifest (list): the path written in the metadata,
 * and what was read when that is another (a remapped or relative
 * location), so that both the table's view and the file to look at are in
 * front of whoever reads the error. A new string, NULL when out of memory. */
static char *shown_name(const char *written, const char *uri)
{
	char *d;

	if (strcmp(written, uri) == 0)
		return strdup(written);
	if (asprintf(&d, "%s (%s %s)", written, ice_uri_is_remote(uri) ? "read from" : "local file",
	             uri) < 0)
		return NULL;
	return d;
}

/* The bytes of a manifest list or manifest, named by its path as written
 * (`length` as the manifest list says, 0 or -1: unknown): the one place they
 * are obtained. They come through the table's storage, remapped onto what
 * is actually read; remote ones from the object cache after the first
 * fetch. An object of another size than its manifest list says is a
 * changed or truncated object: an error, never a partial decode. *out is
 * the caller's (ice_obj_clear), filled on success only; so is *shown (its
 * name for messages, shown_name) when shown is not NULL. */
static int manifest_bytes(dctx *c, const char *written, int64_t length, ice_obj *out,
                          char **shown)
{
	char *uri = ice_remap_resolve(c->o->remap, written);
	int rc;

	memset(out, 0, sizeof *out);
	if (!uri)
		return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
	rc = ice_storage_read_immutable(c->st, uri, out, c->err);
	if (rc == ICE_OK && length > 0 && ice_uri_is_remote(uri) && (uint64_t)length != out->len) {
		rc = ice_err_set(c->err, ICE_EFORMAT, "%s: %zu bytes read where the manifest list says %lld",
		                 uri, out->len, (long long)length);
		ice_obj_clear(out);
	}
	if (rc == ICE_OK && shown && !(*shown = shown_name(written, uri))) {
		rc = ice_err_set(c->err, ICE_ENOMEM, "out of memory");
		ice_obj_clear(out);
	}
	free(uri);
	return rc;
}

static int spec_of(const dctx *c, const ice_manifest_file *mf, ice_manifest_reader *r)
{
	const char *h;
	char *end;
	long long v;

	if (mf->spec_id >= 0)
		return mf->spec_id;
	/* Format 1 inline manifests: the header says which spec wrote them
	 * (-1, found in no metadata, when that is not a spec id). */
	h = json_string_value(json_object_get(ice_manifest_header(r), "partition-spec-id"));
	if (!h)
		return c->md->default_spec_id;
	errno = 0;
	v = strtoll(h, &end, 10);
	return errno || end == h || *end || v < 0 || v > INT32_MAX ? -1 : (int)v;
}

static int open_scan(dctx *c, const ice_manifest_file *mf, ice_manifest_reader **r, mscan *m)
{
	const ice_partition_spec *spec;
	ice_obj next;
	char *shown = NULL;
	int rc;

	memset(m, 0, sizeof *m);
	m->mf = mf;
	if ((rc = manifest_bytes(c, mf->path, mf->length, &next, &shown)))
		return rc;
	/* One reader for all: manifests of one spec share the compiled schema.
	 * It borrows the bytes: the previous manifest's go once it moved on. */
	if (c->reader)
		rc = ice_manifest_reopen_mem(c->reader, next.data, next.len, shown, c->err);
	else
		rc = ice_manifest_open_mem(next.data, next.len, shown, &c->reader, c->err);
	free(shown);
	ice_obj_clear(&c->bytes);
	c->bytes = next;
	*r = c->reader;
	if (rc)
		return rc;
	m->spec_id = spec_of(c, mf, *r);
	spec = ice_metadata_spec(c->md, m->spec_id);
	if (!spec)
		return ice_err_set(c->err, ICE_EFORMAT, "%s: partition spec %d is not in the metadata",
		                   mf->path, m->spec_id);
	return ice_part_decoder_new(c->md, spec, ice_manifest_partition_schema(*r), &m->dec, c->err);
}

static void memo_clear(part_memo *p)
{
	json_decref(p->partition);
	free(p->key);
	p->partition = NULL;
	p->key = NULL;
	p->valid = false;
}

static int scan(dctx *c, const ice_manifest_file *mf, entry_fn fn)
{
	ice_manifest_reader *r = NULL;
	ice_manifest_entry e;
	mscan m;
	int rc, got = 0;

	rc = open_scan(c, mf, &r, &m);
	if (rc == ICE_OK) {
		c->stats->manifests_read++;
		while ((got = ice_manifest_next(r, &e, c->err)) == 1) {
			c->stats->entries_read++;
			if ((rc = fn(c, &m, &e)))
				break;
		}
		if (got < 0)
			rc = c->err->code ? c->err->code : ICE_EFORMAT;
	}
	memo_clear(&m.memo);
	free(m.memo.raw);
	ice_jbuf_free(&m.memo.text);
	ice_part_decoder_free(m.dec);
	return rc;
}

static int read_side(dctx *c, const ice_snapshot *s, side *sd)
{
	ice_obj list;
	char *shown = NULL;
	int rc;

	if (!s)
		return ICE_OK;
	if (!s->manifest_list) {
		/* Format 1 inline manifest paths: only the paths are known. */
		size_t n = json_array_size(s->manifests);
		sd->files = calloc(n + 1, sizeof *sd->files);
		if (!sd->files)
			return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			sd->files[i].path = strdup(json_string_value(json_array_get(s->manifests, i)) ? json_string_value(json_array_get(s->manifests, i)) : "");
			sd->files[i].spec_id = -1;
			sd->n++;
		}
		return ICE_OK;
	}
	if ((rc = manifest_bytes(c, s->manifest_list, -1, &list, &shown)))
		return rc;
	rc = ice_manifest_list_decode(list.data, list.len, shown, &sd->files, &sd->n, c->err);
	free(shown);
	ice_obj_clear(&list);
	return rc;
}

/* Mark the manifests both sides list (never in --full mode). */
static int mark_shared(dctx *c)
{
	ice_strset *in_a = ice_strset_new();
	int rc = ICE_OK;

	c->a.shared = calloc(c->a.n + 1, sizeof(bool));
	c->b.shared = calloc(c->b.n + 1, sizeof(bool));
	if (!in_a || !c->a.shared || !c->b.shared) {
		rc = ice_err_set(c->err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if (c->o->full)
		goto out;
	for (size_t i = 0; i < c->a.n; i++)
		if (ice_strset_add(in_a, c->a.files[i].path) < 0) {
			rc = ice_err_set(c->err, ICE_ENOMEM, "out of memory");
			goto out;
		}
	for (size_t i = 0; i < c->b.n; i++)
		if (ice_strset_mark(in_a, c->b.files[i].path))
			c->b.shared[i] = true;
	for (size_t i = 0; i < c->a.n; i++)
		c->a.shared[i] = ice_strset_marked(in_a, c->a.files[i].path);
out:
	ice_strset_free(in_a);
	return rc;
}

/* ---- records ---------------------------------------------------------------- */

static json_t *base_record(dctx *c, const char *kind)
{
	json_t *r = json_object();

	if (!r)
		return NULL;
	json_object_set_new(r, "kind", json_string(kind));
	json_object_set_new(r, "table", json_string(c->table));
	json_object_set_new(r, "from", id_or_null(c->from));
	json_object_set_new(r, "to", json_integer(c->to->id));
	return r;
}

static json_t *equality_ids(const ice_manifest_entry *e)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < e->n_equality_ids; i++)
		json_array_append_new(arr, json_integer(e->equality_ids[i]));
	return arr;
}

static void add_delete_fields(json_t *r, ice_manifest_entry *e)
{
	if (e->referenced_data_file)
		json_object_set_new(r, "referenced_data_file", json_string(e->referenced_data_file));
	if (e->has_content_offset) {
		json_object_set_new(r, "content_offset", json_integer(e->content_offset));
		json_object_set_new(r, "content_size_in_bytes", json_integer(e->content_size_in_bytes));
	}
	if (e->has_equality_ids)
		json_object_set_new(r, "equality_ids", equality_ids(e));
}

static json_t *file_record(dctx *c, const mscan *m, ice_manifest_entry *e, const char *change,
                           json_t *partition, const char *key)
{
	json_t *r = base_record(c, "file");

	if (!r)
		return NULL;
	json_object_set_new(r, "change", json_string(change));
	json_object_set_new(r, "content", json_string(content_name(e)));
	json_object_set_new(r, "file_path", json_string(e->file_path));
	json_object_set_new(r, "file_format", e->file_format ? json_string(e->file_format) : json_null());
	json_object_set_new(r, "spec_id", json_integer(m->spec_id));
	json_object_set_new(r, "partition", json_incref(partition));
	json_object_set_new(r, "partition_key", json_string(key));
	json_object_set_new(r, "record_count", json_integer(e->record_count));
	json_object_set_new(r, "file_size_in_bytes", json_integer(e->file_size_in_bytes));
	json_object_set_new(r, "sequence_number", json_integer(data_seq(m, e)));
	add_delete_fields(r, e);
	return r;
}

/* Count a change against its partition (for the summary and --partitions). */
static int touch(dctx *c, int spec_id, json_t *partition, const char *key, const char *what)
{
	char *id = NULL;
	json_t *p;
	int rc = ICE_OK;

	if (asprintf(&id, "%d/%s", spec_id, key) < 0)
		return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
	if (ice_strset_add(c->touched, id) == 1)
		json_array_append_new(c->touched_list,
		                      json_pack("{s:i, s:s}", "spec_id", spec_id, "partition_key", key));
	/* Per-partition counts are only printed with --partitions. */
	if (!c->o->partitions_only)
		goto out;
	p = json_object_get(c->by_partition, id);
	if (!p) {
		p = json_pack("{s:i, s:O, s:s, s:i, s:i, s:i}", "spec_id", spec_id, "partition", partition,
		              "partition_key", key, "added", 0, "removed", 0, "rows_deleted", 0);
		if (!p || json_object_set_new(c->by_partition, id, p) != 0)
			rc = ice_err_set(c->err, ICE_ENOMEM, "out of memory");
	}
	if (p)
		json_object_set_new(p, what, json_integer(json_integer_value(json_object_get(p, what)) + 1));
out:
	free(id);
	return rc;
}

/* The partition of entry e, decoded or remembered (borrowed from m->memo
 * until the next entry). *fresh: it differs from the previous entry's. */
static int entry_partition(dctx *c, mscan *m, ice_manifest_entry *e, bool *fresh)
{
	part_memo *p = &m->memo;
	char *json;
	int rc;

	*fresh = !p->valid || !e->partition_raw || p->raw_len != e->partition_raw_len ||
	         (p->raw_len && memcmp(p->raw, e->partition_raw, p->raw_len) != 0);
	if (!*fresh)
		return ICE_OK;
	memo_clear(p);
	if ((rc = ice_part_decode(m->dec, &e->partition, &p->partition, NULL, &p->key, c->err)))
		return rc;
	/* The record's partition fields, as jansson writes them. */
	ice_jbuf_reset(&p->text);
	ice_jbuf_lit(&p->text, ",\"spec_id\":");
	ice_jbuf_int(&p->text, m->spec_id);
	ice_jbuf_lit(&p->text, ",\"partition\":");
	if ((json = json_dumps(p->partition, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
		ice_jbuf_raw(&p->text, json, strlen(json));
		free(json);
	} else
		p->text.invalid = true;
	ice_jbuf_lit(&p->text, ",\"partition_key\":");
	ice_jbuf_str(&p->text, p->key);
	if (e->partition_raw) {
		if (e->partition_raw_len > p->raw_cap) {
			unsigned char *q = realloc(p->raw, e->partition_raw_len);
			if (!q)
				return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
			p->raw = q;
			p->raw_cap = e->partition_raw_len;
		}
		if (e->partition_raw_len)
			memcpy(p->raw, e->partition_raw, e->partition_raw_len);
		p->raw_len = e->partition_raw_len;
		p->valid = true;
	}
	return ICE_OK;
}

/* The record prefix every file record of this diff shares. */
static void build_prefix(dctx *c)
{
	ice_jbuf *b = &c->prefix;

	ice_jbuf_lit(b, "{\"kind\":\"file\",\"table\":");
	ice_jbuf_str(b, c->table);
	ice_jbuf_lit(b, ",\"from\":");
	if (c->from)
		ice_jbuf_int(b, c->from->id);
	else
		ice_jbuf_lit(b, "null");
	ice_jbuf_lit(b, ",\"to\":");
	ice_jbuf_int(b, c->to->id);
	ice_jbuf_lit(b, ",\"change\":\"");
}

static void line_delete_fields(ice_jbuf *b, const ice_manifest_entry *e)
{
	if (e->referenced_data_file) {
		ice_jbuf_lit(b, ",\"referenced_data_file\":");
		ice_jbuf_str(b, e->referenced_data_file);
	}
	if (e->has_content_offset) {
		ice_jbuf_lit(b, ",\"content_offset\":");
		ice_jbuf_int(b, e->content_offset);
		ice_jbuf_lit(b, ",\"content_size_in_bytes\":");
		ice_jbuf_int(b, e->content_size_in_bytes);
	}
	if (e->has_equality_ids) {
		ice_jbuf_lit(b, ",\"equality_ids\":[");
		for (size_t i = 0; i < e->n_equality_ids; i++) {
			if (i)
				ice_jbuf_lit(b, ",");
			ice_jbuf_int(b, e->equality_ids[i]);
		}
		ice_jbuf_lit(b, "]");
	}
}

/* file_record() as text: the same bytes jansson would write, without
 * building the object (the listing of a large table is mostly this). */
static const ice_jbuf *file_line(dctx *c, const mscan *m, const ice_manifest_entry *e,
                                 const char *change)
{
	ice_jbuf *b = &c->line;
	const char *content = content_name(e);

	ice_jbuf_reset(b);
	if (c->prefix.invalid || m->memo.text.invalid)
		return NULL;
	ice_jbuf_raw(b, c->prefix.p, c->prefix.len);
	ice_jbuf_raw(b, change, strlen(change));
	ice_jbuf_lit(b, "\",\"content\":\"");
	ice_jbuf_raw(b, content, strlen(content));
	ice_jbuf_lit(b, "\",\"file_path\":");
	ice_jbuf_str(b, e->file_path);
	ice_jbuf_lit(b, ",\"file_format\":");
	if (e->file_format)
		ice_jbuf_str(b, e->file_format);
	else
		ice_jbuf_lit(b, "null");
	ice_jbuf_raw(b, m->memo.text.p, m->memo.text.len);
	ice_jbuf_lit(b, ",\"record_count\":");
	ice_jbuf_int(b, e->record_count);
	ice_jbuf_lit(b, ",\"file_size_in_bytes\":");
	ice_jbuf_int(b, e->file_size_in_bytes);
	ice_jbuf_lit(b, ",\"sequence_number\":");
	ice_jbuf_int(b, data_seq(m, e));
	line_delete_fields(b, e);
	ice_jbuf_lit(b, "}");
	return b->invalid ? NULL : b;
}

static int emit_file(dctx *c, const mscan *m, ice_manifest_entry *e, const char *change)
{
	const ice_jbuf *line = c->sink->write_line ? file_line(c, m, e, change) : NULL;

	/* Strings jansson refuses (not UTF-8) take its path, to the same effect. */
	if (line)
		return c->sink->write_line(c->sink->ctx, line->p, line->len);
	return emit(c, file_record(c, m, e, change, m->memo.partition, m->memo.key));
}

static int report_change(dctx *c, mscan *m, ice_manifest_entry *e, const char *change)
{
	bool data = e->content == ICE_CONTENT_DATA, fresh;
	int rc;

	if ((rc = entry_partition(c, m, e, &fresh)))
		return rc;
	if (strcmp(change, "added") == 0)
		data ? c->data_added++ : c->deletes_added++;
	else
		data ? c->data_removed++ : c->deletes_removed++;
	/* A run of one partition is touched once, unless counted per file. */
	if ((fresh || c->o->partitions_only) &&
	    (rc = touch(c, m->spec_id, m->memo.partition, m->memo.key, change)))
		return rc;
	return c->o->partitions_only ? ICE_OK : emit_file(c, m, e, change);
}

/* ---- the passes -------------------------------------------------------------- */

static int remember_a(dctx *c, mscan *m, ice_manifest_entry *e)
{
	char *k;
	int rc = ICE_OK;

	(void)m;
	if (!is_live(e))
		return ICE_OK;
	if (!(k = entry_key(e)) || ice_strset_add(c->a_keys, k) < 0)
		rc = ice_err_set(c->err, ICE_ENOMEM, "out of memory");
	free(k);
	return rc;
}

static int keep_delete(dctx *c, mscan *m, ice_manifest_entry *e)
{
	const ice_partition_spec *spec = ice_metadata_spec(c->md, m->spec_id);
	added_delete *d;

	if (c->n_deletes == c->cap_deletes) {
		added_delete *q = realloc(c->deletes, (c->cap_deletes = c->cap_deletes * 2 + 8) * sizeof *q);
		if (!q)
			return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
		c->deletes = q;
	}
	d = &c->deletes[c->n_deletes];
	memset(d, 0, sizeof *d);
	d->spec_id = m->spec_id;
	d->global = !spec || spec->n_fields == 0;
	d->seq = data_seq(m, e);
	d->content = e->content;
	d->path = strdup(e->file_path);
	d->ref = e->referenced_data_file ? strdup(e->referenced_data_file) : NULL;
	d->partition = json_incref(m->memo.partition);
	d->key = strdup(m->memo.key);
	c->n_deletes++;
	if (!d->path || !d->key || (e->referenced_data_file && !d->ref))
		return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

static int visit_b(dctx *c, mscan *m, ice_manifest_entry *e)
{
	char *k;
	int rc;

	if (!is_live(e))
		return ICE_OK;
	/* With nothing one-sided on the earlier side (a listing from the empty
	 * table, an append), every live entry is added: no key to look up. */
	if (ice_strset_size(c->a_keys) > 0) {
		bool both;
		if (!(k = entry_key(e)))
			return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
		both = ice_strset_mark(c->a_keys, k);
		free(k);
		if (both)
			return ICE_OK; /* live on both sides */
	}
	if ((rc = report_change(c, m, e, "added")))
		return rc;
	return e->content == ICE_CONTENT_DATA ? ICE_OK : keep_delete(c, m, e);
}

static int visit_a_again(dctx *c, mscan *m, ice_manifest_entry *e)
{
	char *k;
	bool gone;

	if (!is_live(e))
		return ICE_OK;
	if (!(k = entry_key(e)))
		return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
	gone = !ice_strset_marked(c->a_keys, k);
	free(k);
	return gone ? report_change(c, m, e, "removed") : ICE_OK;
}

/* Ask for the manifests about to be read all at once: remote ones arrive
 * while the first are decoded (nothing is done for local ones). A failure
 * here is no error: each read (manifest_bytes) asks again and reports it. */
static void prefetch_side(dctx *c, const side *sd)
{
	char **uris = calloc(sd->n + 1, sizeof *uris);
	size_t n = 0;

	if (!uris)
		return;
	for (size_t i = 0; i < sd->n; i++)
		if (!sd->shared[i] && (uris[n] = ice_remap_resolve(c->o->remap, sd->files[i].path)))
			n++;
	ice_storage_prefetch(c->st, (const char *const *)uris, n, NULL);
	for (size_t i = 0; i < n; i++)
		free(uris[i]);
	free(uris);
}

static int scan_side(dctx *c, side *sd, entry_fn fn)
{
	prefetch_side(c, sd);
	for (size_t i = 0; i < sd->n; i++) {
		int rc;
		if (sd->shared[i])
			continue;
		if ((rc = scan(c, &sd->files[i], fn)))
			return rc;
	}
	return ICE_OK;
}

/* ---- rows deleted -------------------------------------------------------------- */

static int emit_rows_deleted(dctx *c, const char *path, int spec_id, json_t *partition,
                             const char *key, const char *by)
{
	json_t *r;
	int rc;

	if (ice_strset_add(c->rows_done, path) != 1)
		return ICE_OK; /* already reported, or ENOMEM (reported below) */
	c->rows_deleted++;
	if ((rc = touch(c, spec_id, partition, key, "rows_deleted")) || c->o->partitions_only)
		return rc;
	r = base_record(c, "file");
	if (!r)
		return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
	json_object_set_new(r, "change", json_string("rows_deleted"));
	json_object_set_new(r, "content", json_string("data"));
	json_object_set_new(r, "file_path", json_string(path));
	json_object_set_new(r, "spec_id", json_integer(spec_id));
	json_object_set_new(r, "partition", json_incref(partition));
	json_object_set_new(r, "partition_key", json_string(key));
	json_object_set_new(r, "deleted_by", json_string(by));
	return emit(c, r);
}

/* Does an unreferenced delete apply to this live data file? */
static const added_delete *applies(const dctx *c, int spec_id, const char *key, int64_t seq)
{
	for (size_t i = 0; i < c->n_deletes; i++) {
		const added_delete *d = &c->deletes[i];
		bool newer = d->content == ICE_CONTENT_EQUALITY_DELETES ? seq < d->seq : seq <= d->seq;
		if (d->ref || !newer)
			continue;
		if (d->global || (d->spec_id == spec_id && strcmp(d->key, key) == 0))
			return d;
	}
	return NULL;
}

static int visit_data_for_deletes(dctx *c, mscan *m, ice_manifest_entry *e)
{
	const added_delete *d;
	bool fresh;
	int rc;

	if (!is_live(e) || e->content != ICE_CONTENT_DATA)
		return ICE_OK;
	if ((rc = entry_partition(c, m, e, &fresh)))
		return rc;
	d = applies(c, m->spec_id, m->memo.key, data_seq(m, e));
	return d ? emit_rows_deleted(c, e->file_path, m->spec_id, m->memo.partition, m->memo.key, d->path)
	         : ICE_OK;
}

/* The partition decoder of a spec, built once from the partition schema
 * in the header of a manifest written with it (NULL when unavailable: the
 * caller then does not prune). */
static ice_part_decoder *spec_decoder(dctx *c, const ice_manifest_file *mf)
{
	json_t *meta = NULL, *schema = NULL;
	const json_t *part = NULL;
	const ice_partition_spec *spec = ice_metadata_spec(c->md, mf->spec_id);
	ice_obj bytes;
	size_t at;

	if (mf->spec_id < 0 || !spec)
		return NULL;
	at = (size_t)(spec - c->md->specs);
	if (!c->spec_dec) {
		if (!(c->spec_dec = calloc(c->md->n_specs, sizeof *c->spec_dec)))
			return NULL;
		c->n_spec_dec = c->md->n_specs;
	}
	if (c->spec_dec[at])
		return c->spec_dec[at];
	/* The whole manifest, not only its header: it is read next anyway
	 * (and a remote one is then in the object cache). */
	if (manifest_bytes(c, mf->path, mf->length, &bytes, NULL) != ICE_OK) {
		ice_err_clear(c->err);
		return NULL;
	}
	if (ice_avro_header_parse_mem(bytes.data, bytes.len, mf->path, &meta, NULL, NULL, NULL) == ICE_OK &&
	    (schema = ice_avro_header_schema(meta, mf->path, NULL))) {
		part = ice_manifest_schema_partition_type(schema);
		if (part)
			ice_part_decoder_new(c->md, spec, part, &c->spec_dec[at], NULL);
	}
	ice_obj_clear(&bytes);
	json_decref(schema);
	json_decref(meta);
	return c->spec_dec[at];
}

/* Is a source column a decimal? Its raw values are two's complement hex,
 * which does not order like the numbers. */
static bool is_decimal_source(const ice_metadata *md, int source_id)
{
	json_t *schema, *field;
	size_t i, k;

	json_array_foreach(md->schemas, i, schema)
		json_array_foreach(json_object_get(schema, "fields"), k, field)
			if (json_integer_value(json_object_get(field, "id")) == source_id) {
				const char *t = json_string_value(json_object_get(field, "type"));
				return t && strncmp(t, "decimal", 7) == 0;
			}
	return false;
}

/* Compare a raw value with a bound: -1, 0, 1, or 2 when they do not order. */
static int cmp_raw(const json_t *v, const json_t *bound)
{
	if (json_is_integer(v) && json_is_integer(bound))
		return (json_integer_value(v) > json_integer_value(bound)) -
		       (json_integer_value(v) < json_integer_value(bound));
	if (json_is_number(v) && json_is_number(bound))
		return (json_number_value(v) > json_number_value(bound)) -
		       (json_number_value(v) < json_number_value(bound));
	if (json_is_string(v) && json_is_string(bound)) {
		int r = strcmp(json_string_value(v), json_string_value(bound));
		return (r > 0) - (r < 0);
	}
	return 2;
}

/* Can the summary of one partition field hold `v`? */
static bool field_may_hold(const ice_part_decoder *dec, size_t i, const ice_field_summary *s,
                           const json_t *v)
{
	json_t *lo = NULL, *hi = NULL;
	bool may = true;
	int r;

	if (json_is_null(v))
		return s->contains_null;
	if (s->lower && ice_part_bound_to_json(dec, i, s->lower, s->lower_len, &lo, NULL) == ICE_OK &&
	    (r = cmp_raw(v, lo)) != 2 && r < 0)
		may = false;
	if (may && s->upper && ice_part_bound_to_json(dec, i, s->upper, s->upper_len, &hi, NULL) == ICE_OK &&
	    (r = cmp_raw(v, hi)) != 2 && r > 0)
		may = false;
	json_decref(lo);
	json_decref(hi);
	return may;
}

/* Can manifest mf hold files of the delete's partition? Decided by the
 * manifest list's partition summaries; unknown means yes. */
static bool partition_may_hold(dctx *c, const ice_manifest_file *mf, const added_delete *d)
{
	const ice_partition_spec *spec = ice_metadata_spec(c->md, d->spec_id);
	ice_part_decoder *dec;

	if (!mf->has_partitions || !spec || mf->n_partitions != spec->n_fields ||
	    !(dec = spec_decoder(c, mf)))
		return true;
	for (size_t i = 0; i < spec->n_fields; i++) {
		const json_t *v = json_object_get(d->partition, spec->fields[i].name);
		if (!v || is_decimal_source(c->md, spec->fields[i].source_id))
			continue;
		if (!field_may_hold(dec, i, &mf->partitions[i], v))
			return false;
	}
	return true;
}

/* Can this data manifest hold files an unreferenced delete applies to?
 * Files older than the delete, of its spec (unless the delete is global),
 * within the manifest's partition bounds. */
static bool may_apply(dctx *c, const ice_manifest_file *mf, int64_t max_seq)
{
	if (mf->content != ICE_CONTENT_DATA || mf->min_sequence_number > max_seq)
		return false;
	for (size_t i = 0; i < c->n_deletes; i++) {
		const added_delete *d = &c->deletes[i];
		if (d->ref)
			continue;
		if (d->global || mf->spec_id < 0)
			return true;
		if (d->spec_id == mf->spec_id && partition_may_hold(c, mf, d))
			return true;
	}
	return false;
}

/* The highest sequence number of an unreferenced delete, or -1. */
static int64_t max_unreferenced_seq(const dctx *c)
{
	int64_t max = -1;

	for (size_t i = 0; i < c->n_deletes; i++)
		if (!c->deletes[i].ref && c->deletes[i].seq > max)
			max = c->deletes[i].seq;
	return max;
}

static int rows_deleted(dctx *c)
{
	int64_t max = max_unreferenced_seq(c);
	int rc;

	for (size_t i = 0; i < c->n_deletes; i++) {
		const added_delete *d = &c->deletes[i];
		if (d->ref && (rc = emit_rows_deleted(c, d->ref, d->spec_id, d->partition, d->key, d->path)))
			return rc;
	}
	if (max < 0)
		return ICE_OK;
	/* Unreferenced deletes apply to older live data files of their partition. */
	for (size_t i = 0; i < c->b.n; i++)
		if (may_apply(c, &c->b.files[i], max) && (rc = scan(c, &c->b.files[i], visit_data_for_deletes)))
			return rc;
	return ICE_OK;
}

/* ---- summary -------------------------------------------------------------------- */

json_t *ice_diff_table_scope(const char *table, bool has_from, int64_t from, bool has_to,
                             int64_t to, const char *operation, const char *reason)
{
	json_t *r = json_object();

	if (!r)
		return NULL;
	json_object_set_new(r, "kind", json_string("diff"));
	json_object_set_new(r, "table", json_string(table));
	json_object_set_new(r, "from", has_from ? json_integer(from) : json_null());
	json_object_set_new(r, "to", has_to ? json_integer(to) : json_null());
	json_object_set_new(r, "operation", operation ? json_string(operation) : json_null());
	json_object_set_new(r, "data_preserving", json_false());
	json_object_set_new(r, "scope", json_string("table"));
	json_object_set_new(r, "reason", json_string(reason));
	return r;
}

static const char *table_reason(const dctx *c)
{
	if (c->from && c->to->has_schema_id && c->from->has_schema_id &&
	    c->from->schema_id != c->to->schema_id)
		return "schema changed";
	return NULL;
}

static json_t *summary(dctx *c, const char *failure)
{
	const char *reason = failure ? failure : table_reason(c);
	json_t *r = base_record(c, "diff");
	bool preserving = c->to->operation && strcmp(c->to->operation, "replace") == 0;

	if (!r)
		return NULL;
	json_object_set_new(r, "operation", c->to->operation ? json_string(c->to->operation) : json_null());
	json_object_set_new(r, "data_preserving", json_boolean(preserving && !reason));
	/* Where "to" stands in the table's history: what keeps a cache's
	 * cursor monotonic when an old transition is replayed late. */
	json_object_set_new(r, "to_sequence_number", json_integer((json_int_t)c->to->sequence_number));
	json_object_set_new(r, "to_timestamp_ms", json_integer((json_int_t)c->to->timestamp_ms));
	json_object_set_new(r, "scope", json_string(reason ? "table" : "files"));
	if (reason)
		json_object_set_new(r, "reason", json_string(reason));
	json_object_set_new(r, "counts", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
	                    "data_added", (json_int_t)c->data_added, "data_removed", (json_int_t)c->data_removed,
	                    "deletes_added", (json_int_t)c->deletes_added,
	                    "deletes_removed", (json_int_t)c->deletes_removed,
	                    "rows_deleted", (json_int_t)c->rows_deleted,
	                    "partitions", (json_int_t)json_array_size(c->touched_list)));
	json_object_set_new(r, "partitions", json_incref(c->touched_list));
	/* What the cache needs to check partition tags against (ice-invalidate
	 * records it): the table's identity and every spec's field names. */
	if (c->md->table_uuid)
		json_object_set_new(r, "table_uuid", json_string(c->md->table_uuid));
	json_object_set_new(r, "specs", ice_metadata_specs_json(c->md));
	json_object_set_new(r, "manifests_read", json_integer((json_int_t)c->stats->manifests_read));
	json_object_set_new(r, "entries_read", json_integer((json_int_t)c->stats->entries_read));
	return r;
}

static int emit_partitions(dctx *c)
{
	const char *id;
	json_t *p;
	int rc;

	json_object_foreach(c->by_partition, id, p) {
		json_t *r = base_record(c, "partition");
		if (!r)
			return ice_err_set(c->err, ICE_ENOMEM, "out of memory");
		json_object_update(r, p);
		if ((rc = emit(c, r)))
			return rc;
	}
	return ICE_OK;
}

/* ---- driver ------------------------------------------------------------------------ */

static int compute(dctx *c)
{
	int rc;

	if ((rc = read_side(c, c->from, &c->a)) || (rc = read_side(c, c->to, &c->b)) ||
	    (rc = mark_shared(c)))
		return rc;
	if ((rc = scan_side(c, &c->a, remember_a)) || (rc = scan_side(c, &c->b, visit_b)) ||
	    (rc = scan_side(c, &c->a, visit_a_again)) || (rc = rows_deleted(c)))
		return rc;
	return c->o->partitions_only ? emit_partitions(c) : ICE_OK;
}

static void free_ctx(dctx *c)
{
	ice_manifest_files_free(c->a.files, c->a.n);
	ice_manifest_files_free(c->b.files, c->b.n);
	free(c->a.shared);
	free(c->b.shared);
	ice_strset_free(c->a_keys);
	ice_strset_free(c->touched);
	ice_strset_free(c->rows_done);
	json_decref(c->touched_list);
	json_decref(c->by_partition);
	for (size_t i = 0; i < c->n_deletes; i++) {
		free(c->deletes[i].key);
		free(c->deletes[i].path);
		free(c->deletes[i].ref);
		json_decref(c->deletes[i].partition);
	}
	free(c->deletes);
	for (size_t i = 0; i < c->n_spec_dec; i++)
		ice_part_decoder_free(c->spec_dec[i]);
	free(c->spec_dec);
	ice_manifest_close(c->reader);
	ice_obj_clear(&c->bytes);
	ice_storage_close(c->own_st);
	ice_jbuf_free(&c->prefix);
	ice_jbuf_free(&c->line);
}

int ice_diff_run(const ice_metadata *md, const char *table, const ice_snapshot *from,
                 const ice_snapshot *to, const ice_diff_opts *o, const ice_diff_sink *sink,
                 ice_diff_stats *stats, ice_err *err)
{
	dctx c = { .md = md, .table = table, .from = from, .to = to, .o = o, .sink = sink,
	           .stats = stats, .err = err };
	ice_err local = { 0 };
	int rc, src;

	memset(stats, 0, sizeof *stats);
	if (!err)
		c.err = &local;
	c.a_keys = ice_strset_new();
	c.touched = ice_strset_new();
	c.rows_done = ice_strset_new();
	c.touched_list = json_array();
	c.by_partition = json_object();
	c.st = o->storage;
	if (!c.st && ice_storage_open(&c.own_st, NULL, c.err) == ICE_OK)
		c.st = c.own_st;
	if (!c.a_keys || !c.touched || !c.rows_done || !c.touched_list || !c.by_partition || !c.st)
		rc = ice_err_set(c.err, ICE_ENOMEM, "out of memory");
	else {
		build_prefix(&c);
		rc = compute(&c);
	}
	if (rc == ICE_EPIPE)
		goto out;
	/* A failed diff still says what it knows: the whole table is stale. */
	src = emit(&c, summary(&c, rc ? c.err->msg : NULL));
	if (!rc)
		rc = src;
out:
	free_ctx(&c);
	return rc;
}
