/* ice-mktable: Avro manifests and manifest lists.  avro-c encodes records and
 * writes deflate blocks; the container header is replaced with Iceberg's exact
 * Avro schema (field-id attributes, which avro-c drops) and its metadata keys.
 * Readers map fields by Iceberg field id from the file's own schema.
 * Also gzip/gunzip of metadata JSON through avro-c's deflate codec. */
#include "mktable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE 64000
#define STATUS_EXISTING 0
#define STATUS_ADDED 1
#define STATUS_DELETED 2
#define POS_PATH_ID 2147483546
#define POS_POS_ID 2147483545

/* ======================================================================== */
/* container writer: avro-c behind a stdio cookie that swaps the header      */
/* ======================================================================== */

typedef struct {
	FILE *out;              /* pass-through destination, NULL while capturing */
	unsigned char *buf;     /* captured bytes */
	size_t len, cap;
	int64_t written;
	bool failed;
} mk_sink;

typedef struct {
	const char *key;
	const char *val;
} mk_kv;

typedef struct {
	mk_sink sink;
	FILE *fp;
	avro_file_writer_t w;
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t rec;
	bool have_rec;
	char *local;
} mk_avw;

static ssize_t sink_write(void *cookie, const char *p, size_t n)
{
	mk_sink *s = cookie;

	if (s->out) {
		if (fwrite(p, 1, n, s->out) != n) {
			s->failed = true;
			return -1;
		}
	} else {
		if (s->len + n > s->cap) {
			size_t nc = (s->len + n) * 2;
			unsigned char *nb = realloc(s->buf, nc);
			if (!nb) {
				s->failed = true;
				return -1;
			}
			s->buf = nb;
			s->cap = nc;
		}
		memcpy(s->buf + s->len, p, n);
		s->len += n;
	}
	s->written += (int64_t)n;
	return (ssize_t)n;
}

static size_t put_long(unsigned char *o, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	size_t n = 0;

	while (z & ~0x7fULL) {
		o[n++] = (unsigned char)((z & 0x7f) | 0x80);
		z >>= 7;
	}
	o[n++] = (unsigned char)z;
	return n;
}

static int put_bytes(FILE *f, const void *p, size_t n)
{
	unsigned char v[10];
	size_t k = put_long(v, (int64_t)n);

	return (fwrite(v, 1, k, f) == k && fwrite(p, 1, n, f) == n) ? 0 : -1;
}

static int write_header(FILE *f, const mk_kv *kv, int n, const unsigned char *sync)
{
	unsigned char v[10];
	size_t k = put_long(v, n);

	if (fwrite("Obj\1", 1, 4, f) != 4 || fwrite(v, 1, k, f) != k)
		return -1;
	for (int i = 0; i < n; i++)
		if (put_bytes(f, kv[i].key, strlen(kv[i].key)) ||
		    put_bytes(f, kv[i].val, strlen(kv[i].val)))
			return -1;
	return (fputc(0, f) == EOF || fwrite(sync, 1, 16, f) != 16) ? -1 : 0;
}

/* the complete container header as bytes */
static int header_bytes(const mk_kv *kv, int n, const unsigned char *sync, char **buf,
			size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int rc;

	if (!f)
		return -1;
	rc = write_header(f, kv, n, sync);
	if (fclose(f) != 0)
		rc = -1;
	if (rc != 0) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

/* avro-c leaks part of every generic class built for a record schema, so one
 * class per distinct schema is kept for the life of the process */
typedef struct {
	char *json;
	avro_schema_t schema;
	avro_value_iface_t *iface;
} mk_class;

static mk_class *classes;
static int nclasses;

static int class_for(const char *json, size_t len, avro_schema_t *schema,
		     avro_value_iface_t **iface)
{
	mk_class *nc, *c;

	for (int i = 0; i < nclasses; i++) {
		if (strlen(classes[i].json) == len && memcmp(classes[i].json, json, len) == 0) {
			*schema = classes[i].schema;
			*iface = classes[i].iface;
			return 0;
		}
	}
	nc = realloc(classes, (size_t)(nclasses + 1) * sizeof(*nc));
	if (!nc)
		return -1;
	classes = nc;
	c = &classes[nclasses];
	if (avro_schema_from_json_length(json, len, &c->schema)) {
		mk_err("Avro schema rejected: %s", avro_strerror());
		return -1;
	}
	c->iface = avro_generic_class_from_schema(c->schema);
	if (!c->iface) {
		mk_err("cannot create Avro class: %s", avro_strerror());
		avro_schema_decref(c->schema);
		return -1;
	}
	c->json = strndup(json, len);
	if (!c->json) {
		avro_value_iface_decref(c->iface);
		avro_schema_decref(c->schema);
		return -1;
	}
	nclasses++;
	*schema = c->schema;
	*iface = c->iface;
	return 0;
}

void mk_avro_cleanup(void)
{
	for (int i = 0; i < nclasses; i++) {
		avro_value_iface_decref(classes[i].iface);
		avro_schema_decref(classes[i].schema);
		free(classes[i].json);
	}
	free(classes);
	classes = NULL;
	nclasses = 0;
}

static void avw_free(mk_avw *a)
{
	if (a->have_rec)
		avro_value_decref(&a->rec);
	free(a->sink.buf);
	free(a->local);
	free(a);
}

/* Open a container writer; local == NULL keeps everything in memory. */
static int avw_open(const char *local, const char *schema_json, const mk_kv *kv, int nkv,
		    size_t block, mk_avw **out)
{
	mk_avw *a = calloc(1, sizeof(*a));
	cookie_io_functions_t io = {.write = sink_write};
	unsigned char sync[16];
	FILE *dst = NULL;
	char *hb = NULL;
	size_t hlen = 0;

	if (!a)
		return -1;
	if (class_for(schema_json, strlen(schema_json), &a->schema, &a->iface) != 0)
		goto fail;
	if (avro_generic_value_new(a->iface, &a->rec)) {
		mk_err("cannot create Avro value: %s", avro_strerror());
		goto fail;
	}
	a->have_rec = true;
	a->fp = fopencookie(&a->sink, "w", io);
	if (!a->fp)
		goto fail;
	setvbuf(a->fp, NULL, _IOFBF, 1 << 16);
	if (avro_file_writer_create_with_codec_fp(a->fp, local ? local : "memory", 1, a->schema,
						  &a->w, "deflate", block)) {
		mk_err("cannot create Avro writer: %s", avro_strerror());
		a->fp = NULL;
		goto fail;
	}
	if (fflush(a->fp) != 0 || a->sink.len < 20) {
		mk_err("cannot capture Avro header");
		goto fail;
	}
	memcpy(sync, a->sink.buf + a->sink.len - 16, 16);
	a->sink.len = 0;
	a->sink.written = 0;
	if (header_bytes(kv, nkv, sync, &hb, &hlen) != 0)
		goto fail;
	if (local) {
		dst = fopen(local, "wb");
		if (!dst) {
			mk_err("cannot create %s: %s", local, strerror(errno));
			goto fail;
		}
		a->local = mk_strdup(local);
		setvbuf(dst, NULL, _IOFBF, 1 << 16);
		a->sink.out = dst;
	}
	if (sink_write(&a->sink, hb, hlen) != (ssize_t)hlen) {
		mk_err("cannot write Avro header");
		goto fail;
	}
	free(hb);
	*out = a;
	return 0;
fail:
	free(hb);
	if (a->w) {
		avro_file_writer_close(a->w);
	} else if (a->fp) {
		fclose(a->fp);
	}
	if (dst)
		fclose(dst);
	if (local && dst)
		remove(local);
	avw_free(a);
	return -1;
}

static int avw_append(mk_avw *a)
{
	if (avro_file_writer_append_value(a->w, &a->rec)) {
		mk_err("cannot append Avro record: %s", avro_strerror());
		return -1;
	}
	return 0;
}

/* Close; for a file returns its length, for memory hands over the buffer. */
static int avw_close(mk_avw *a, int64_t *length, unsigned char **mem, size_t *memlen)
{
	int rc = 0;

	if (avro_file_writer_close(a->w)) {
		mk_err("cannot close Avro writer: %s", avro_strerror());
		rc = -1;
	}
	if (a->sink.out && fclose(a->sink.out) != 0)
		rc = -1;
	if (a->sink.failed)
		rc = -1;
	if (rc != 0)
		mk_err("cannot write %s", a->local ? a->local : "Avro data");
	if (length)
		*length = a->sink.written;
	if (mem) {
		*mem = a->sink.buf;
		*memlen = a->sink.len;
		a->sink.buf = NULL;
	}
	avw_free(a);
	return rc;
}

static void avw_abort(mk_avw *a)
{
	char *local = a->local ? mk_strdup(a->local) : NULL;

	avw_close(a, NULL, NULL, NULL);
	if (local)
		remove(local);
	free(local);
}

/* ======================================================================== */
/* container header reader                                                  */
/* ======================================================================== */

typedef struct {
	char *key;
	unsigned char *val;
	size_t len;
} mk_hkv;

typedef struct {
	const unsigned char *p, *end;
} mk_cur;

static int get_long_f(FILE *f, int64_t *v)
{
	uint64_t z = 0;
	int shift = 0, c;

	do {
		c = fgetc(f);
		if (c == EOF || shift > 63)
			return -1;
		z |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	} while (c & 0x80);
	*v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
	return 0;
}

static unsigned char *get_bytes_f(FILE *f, size_t *n)
{
	int64_t len;
	unsigned char *b;

	if (get_long_f(f, &len) || len < 0 || len > (1 << 26))
		return NULL;
	b = malloc((size_t)len + 1);
	if (!b)
		return NULL;
	if (fread(b, 1, (size_t)len, f) != (size_t)len) {
		free(b);
		return NULL;
	}
	b[len] = 0;
	*n = (size_t)len;
	return b;
}

static void hkv_free(mk_hkv *kv, int n)
{
	for (int i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].val);
	}
	free(kv);
}

static int read_header(FILE *f, mk_hkv **out, int *nout)
{
	char magic[4];
	mk_hkv *kv = NULL;
	int n = 0;
	int64_t cnt, skip;
	unsigned char sync[16];

	if (fread(magic, 1, 4, f) != 4 || memcmp(magic, "Obj\1", 4) != 0)
		goto bad;
	for (;;) {
		if (get_long_f(f, &cnt))
			goto bad;
		if (cnt == 0)
			break;
		if (cnt < 0) {
			cnt = -cnt;
			if (get_long_f(f, &skip))
				goto bad;
		}
		for (int64_t i = 0; i < cnt; i++) {
			mk_hkv *nk = realloc(kv, (size_t)(n + 1) * sizeof(*kv));
			size_t kl;
			if (!nk)
				goto bad;
			kv = nk;
			kv[n].key = (char *)get_bytes_f(f, &kl);
			kv[n].val = kv[n].key ? get_bytes_f(f, &kv[n].len) : NULL;
			if (!kv[n].val) {
				free(kv[n].key);
				goto bad;
			}
			n++;
		}
	}
	if (fread(sync, 1, 16, f) != 16)
		goto bad;
	*out = kv;
	*nout = n;
	return 0;
bad:
	hkv_free(kv, n);
	return -1;
}

static const char *hkv_get(const mk_hkv *kv, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return (const char *)kv[i].val;
	return NULL;
}

/* field-id -> record field index, for ids in [base, base + n) */
static void map_ids(json_t *fields, int *map, int base, int n)
{
	json_t *f;
	size_t i;

	for (int k = 0; k < n; k++)
		map[k] = -1;
	json_array_foreach(fields, i, f) {
		json_int_t id = json_integer_value(json_object_get(f, "field-id"));
		if (json_object_get(f, "field-id") && id >= base && id < base + n)
			map[id - base] = (int)i;
	}
}

static json_t *field_by_id(json_t *fields, int id)
{
	json_t *f;
	size_t i;

	json_array_foreach(fields, i, f)
		if (json_integer_value(json_object_get(f, "field-id")) == id &&
		    json_object_get(f, "field-id"))
			return f;
	return NULL;
}

/* the record type inside a (possibly ["null", X]) type */
static json_t *record_fields(json_t *field)
{
	json_t *t = json_object_get(field, "type");
	size_t i;
	json_t *b;

	if (json_is_array(t)) {
		json_array_foreach(t, i, b)
			if (json_is_object(b))
				t = b;
	}
	if (json_is_object(t) && json_is_string(json_object_get(t, "type")) &&
	    strcmp(json_string_value(json_object_get(t, "type")), "array") == 0)
		t = json_object_get(t, "items");
	return json_object_get(t, "fields");
}

/* Open an Avro container with avro-c, after reading its header ourselves. */
typedef struct {
	FILE *fp;
	avro_file_reader_t r;
	avro_value_iface_t *iface;
	avro_value_t rec;
	bool have_rec, empty;
	json_t *schema;         /* the file's avro.schema */
	mk_hkv *kv;
	int nkv;
} mk_avr;

static void avr_close(mk_avr *a)
{
	if (a->have_rec)
		avro_value_decref(&a->rec);
	if (a->r)
		avro_file_reader_close(a->r);
	else if (a->fp)
		fclose(a->fp);
	json_decref(a->schema);
	hkv_free(a->kv, a->nkv);
	memset(a, 0, sizeof(*a));
}

static int avr_open(const char *path, mk_avr *a)
{
	const char *sj;
	avro_schema_t cls_schema;
	int c;

	memset(a, 0, sizeof(*a));
	a->fp = fopen(path, "rb");
	if (!a->fp) {
		mk_err("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (read_header(a->fp, &a->kv, &a->nkv) != 0) {
		mk_err("%s: not an Avro container file", path);
		goto fail;
	}
	sj = hkv_get(a->kv, a->nkv, "avro.schema");
	a->schema = sj ? json_loads(sj, 0, NULL) : NULL;
	if (!a->schema) {
		mk_err("%s: missing or bad avro.schema", path);
		goto fail;
	}
	c = fgetc(a->fp);
	if (c == EOF) {
		a->empty = true;
		return 0;
	}
	rewind(a->fp);
	if (avro_file_reader_fp(a->fp, path, 1, &a->r)) {
		a->fp = NULL;
		mk_err("%s: %s", path, avro_strerror());
		goto fail;
	}
	if (class_for(sj, strlen(sj), &cls_schema, &a->iface) != 0)
		goto fail;
	if (avro_generic_value_new(a->iface, &a->rec)) {
		mk_err("%s: %s", path, avro_strerror());
		goto fail;
	}
	a->have_rec = true;
	return 0;
fail:
	avr_close(a);
	return -1;
}

/* 1 = record read, 0 = end of file */
static int avr_next(mk_avr *a)
{
	if (a->empty)
		return 0;
	return avro_file_reader_read_value(a->r, &a->rec) == 0 ? 1 : 0;
}

/* ======================================================================== */
/* value helpers                                                            */
/* ======================================================================== */

static avro_value_t fld(avro_value_t *rec, int idx)
{
	avro_value_t f = {NULL, NULL};

	avro_value_get_by_index(rec, (size_t)idx, &f, NULL);
	return f;
}

/* field idx to write a value into: the non-null branch when the field is
 * a nullable union (--nullable-manifests makes every field one) */
static avro_value_t fld_w(avro_value_t *rec, int idx)
{
	avro_value_t f = fld(rec, idx), b;

	if (avro_value_get_type(&f) == AVRO_UNION && avro_value_set_branch(&f, 1, &b) == 0)
		return b;
	return f;
}

/* field idx as read: the current branch of a union */
static avro_value_t fld_r(avro_value_t *rec, int idx)
{
	avro_value_t f = fld(rec, idx), b;

	if (avro_value_get_type(&f) == AVRO_UNION && avro_value_get_current_branch(&f, &b) == 0)
		return b;
	return f;
}

static void set_int(avro_value_t *rec, int idx, int32_t v)
{
	if (idx >= 0) {
		avro_value_t f = fld_w(rec, idx);
		avro_value_set_int(&f, v);
	}
}

static void set_long(avro_value_t *rec, int idx, int64_t v)
{
	if (idx >= 0) {
		avro_value_t f = fld_w(rec, idx);
		avro_value_set_long(&f, v);
	}
}

static void set_string(avro_value_t *rec, int idx, const char *s)
{
	if (idx >= 0) {
		avro_value_t f = fld_w(rec, idx);
		avro_value_set_string(&f, s);
	}
}

static void set_null(avro_value_t *rec, int idx)
{
	if (idx >= 0) {
		avro_value_t u = fld(rec, idx), b;
		avro_value_set_branch(&u, 0, &b);
		avro_value_set_null(&b);
	}
}

/* select the non-null branch of union field idx; false when absent */
static bool opt_branch(avro_value_t *rec, int idx, avro_value_t *b)
{
	avro_value_t u;

	if (idx < 0)
		return false;
	u = fld(rec, idx);
	if (avro_value_get_type(&u) != AVRO_UNION) {
		*b = u;
		return true;
	}
	avro_value_set_branch(&u, 1, b);
	return true;
}

static void set_opt_long(avro_value_t *rec, int idx, bool has, int64_t v)
{
	avro_value_t b;

	if (!has) {
		set_null(rec, idx);
		return;
	}
	if (opt_branch(rec, idx, &b))
		avro_value_set_long(&b, v);
}

static void set_opt_int(avro_value_t *rec, int idx, bool has, int32_t v)
{
	avro_value_t b;

	if (!has) {
		set_null(rec, idx);
		return;
	}
	if (opt_branch(rec, idx, &b))
		avro_value_set_int(&b, v);
}

static void set_opt_string(avro_value_t *rec, int idx, const char *s)
{
	avro_value_t b;

	if (!s) {
		set_null(rec, idx);
		return;
	}
	if (opt_branch(rec, idx, &b))
		avro_value_set_string(&b, s);
}

/* read helpers: false when the field is absent or null */
static bool get_val(avro_value_t *rec, int idx, avro_value_t *out)
{
	avro_value_t f;

	if (idx < 0)
		return false;
	f = fld(rec, idx);
	if (avro_value_get_type(&f) == AVRO_UNION) {
		avro_value_t b;
		if (avro_value_get_current_branch(&f, &b))
			return false;
		f = b;
	}
	if (avro_value_get_type(&f) == AVRO_NULL)
		return false;
	*out = f;
	return true;
}

static bool get_long(avro_value_t *rec, int idx, int64_t *v)
{
	avro_value_t f;
	int32_t i = 0;

	if (!get_val(rec, idx, &f))
		return false;
	if (avro_value_get_type(&f) == AVRO_INT32) {
		avro_value_get_int(&f, &i);
		*v = i;
		return true;
	}
	return avro_value_get_long(&f, v) == 0;
}

static const char *get_str(avro_value_t *rec, int idx)
{
	avro_value_t f;
	const char *s = NULL;
	size_t n;

	if (!get_val(rec, idx, &f) || avro_value_get_string(&f, &s, &n))
		return NULL;
	return s;
}

/* ======================================================================== */
/* Iceberg Avro schemas                                                     */
/* ======================================================================== */

enum fkind { FK_INT, FK_LONG, FK_STRING, FK_BYTES, FK_BOOL, FK_PART, FK_MAP_IL, FK_MAP_IB,
	     FK_LIST_L, FK_LIST_I, FK_SUMMARY, FK_DATAFILE };

#define V1 1
#define V2 2
#define V3 4
#define VALL (V1 | V2 | V3)

typedef struct {
	int id;
	const char *name;
	enum fkind kind;
	bool opt;
	const char *doc;
	int a, b;
	unsigned versions;
} fdesc;

static const fdesc df_fields[] = {
	{134, "content", FK_INT, false,
	 "Contents of the file: 0=data, 1=position deletes, 2=equality deletes", 0, 0, V2 | V3},
	{100, "file_path", FK_STRING, false, "Location URI with FS scheme", 0, 0, VALL},
	{101, "file_format", FK_STRING, false, "File format name: avro, orc, or parquet", 0, 0,
	 VALL},
	{102, "partition", FK_PART, false,
	 "Partition data tuple, schema based on the partition spec", 0, 0, VALL},
	{103, "record_count", FK_LONG, false, "Number of records in the file", 0, 0, VALL},
	{104, "file_size_in_bytes", FK_LONG, false, "Total file size in bytes", 0, 0, VALL},
	{105, "block_size_in_bytes", FK_LONG, false, NULL, 0, 0, V1},
	{108, "column_sizes", FK_MAP_IL, true, "Map of column id to total size on disk", 117, 118,
	 VALL},
	{109, "value_counts", FK_MAP_IL, true,
	 "Map of column id to total count, including null and NaN", 119, 120, VALL},
	{110, "null_value_counts", FK_MAP_IL, true, "Map of column id to null value count", 121,
	 122, VALL},
	{137, "nan_value_counts", FK_MAP_IL, true,
	 "Map of column id to number of NaN values in the column", 138, 139, VALL},
	{125, "lower_bounds", FK_MAP_IB, true, "Map of column id to lower bound", 126, 127, VALL},
	{128, "upper_bounds", FK_MAP_IB, true, "Map of column id to upper bound", 129, 130, VALL},
	{131, "key_metadata", FK_BYTES, true, "Encryption key metadata blob", 0, 0, VALL},
	{132, "split_offsets", FK_LIST_L, true, "Splittable offsets", 133, 0, VALL},
	{135, "equality_ids", FK_LIST_I, true, "Equality comparison field IDs", 136, 0, V2 | V3},
	{140, "sort_order_id", FK_INT, true, "Sort order ID", 0, 0, VALL},
	{142, "first_row_id", FK_LONG, true, "The _row_id for the first row in the data file", 0,
	 0, V3},
	{143, "referenced_data_file", FK_STRING, true,
	 "Fully qualified location (URI with FS scheme) of a data file that all deletes reference",
	 0, 0, V2 | V3},
	{144, "content_offset", FK_LONG, true, "The offset in the file where the content starts",
	 0, 0, V3},
	{145, "content_size_in_bytes", FK_LONG, true,
	 "The length of a referenced content stored in the file; required if content_offset is "
	 "present", 0, 0, V3},
};

static const fdesc ml_fields_v1[] = {
	{500, "manifest_path", FK_STRING, false, "Location URI with FS scheme", 0, 0, V1},
	{501, "manifest_length", FK_LONG, false, "Total file size in bytes", 0, 0, V1},
	{502, "partition_spec_id", FK_INT, false, "Spec ID used to write", 0, 0, V1},
	{503, "added_snapshot_id", FK_LONG, false, "Snapshot ID that added the manifest", 0, 0, V1},
	{504, "added_data_files_count", FK_INT, true, "Added entry count", 0, 0, V1},
	{505, "existing_data_files_count", FK_INT, true, "Existing entry count", 0, 0, V1},
	{506, "deleted_data_files_count", FK_INT, true, "Deleted entry count", 0, 0, V1},
	{507, "partitions", FK_SUMMARY, true, "Summary for each partition", 508, 0, V1},
	{512, "added_rows_count", FK_LONG, true, "Added rows count", 0, 0, V1},
	{513, "existing_rows_count", FK_LONG, true, "Existing rows count", 0, 0, V1},
	{514, "deleted_rows_count", FK_LONG, true, "Deleted rows count", 0, 0, V1},
	{519, "key_metadata", FK_BYTES, true, "Encryption key metadata blob", 0, 0, V1},
};

static const fdesc ml_fields_v2[] = {
	{500, "manifest_path", FK_STRING, false, "Location URI with FS scheme", 0, 0, V2 | V3},
	{501, "manifest_length", FK_LONG, false, "Total file size in bytes", 0, 0, V2 | V3},
	{502, "partition_spec_id", FK_INT, false, "Spec ID used to write", 0, 0, V2 | V3},
	{517, "content", FK_INT, false, "Contents of the manifest: 0=data, 1=deletes", 0, 0,
	 V2 | V3},
	{515, "sequence_number", FK_LONG, false, "Sequence number when the manifest was added", 0,
	 0, V2 | V3},
	{516, "min_sequence_number", FK_LONG, false, "Lowest sequence number in the manifest", 0,
	 0, V2 | V3},
	{503, "added_snapshot_id", FK_LONG, false, "Snapshot ID that added the manifest", 0, 0,
	 V2 | V3},
	{504, "added_files_count", FK_INT, false, "Added entry count", 0, 0, V2 | V3},
	{505, "existing_files_count", FK_INT, false, "Existing entry count", 0, 0, V2 | V3},
	{506, "deleted_files_count", FK_INT, false, "Deleted entry count", 0, 0, V2 | V3},
	{512, "added_rows_count", FK_LONG, false, "Added rows count", 0, 0, V2 | V3},
	{513, "existing_rows_count", FK_LONG, false, "Existing rows count", 0, 0, V2 | V3},
	{514, "deleted_rows_count", FK_LONG, false, "Deleted rows count", 0, 0, V2 | V3},
	{507, "partitions", FK_SUMMARY, true, "Summary for each partition", 508, 0, V2 | V3},
	{519, "key_metadata", FK_BYTES, true, "Encryption key metadata blob", 0, 0, V2 | V3},
	{520, "first_row_id", FK_LONG, true,
	 "Starting row ID to assign to new rows in ADDED data files", 0, 0, V3},
};

static const fdesc sum_fields[] = {
	{509, "contains_null", FK_BOOL, false, "True if any file has a null partition value", 0,
	 0, VALL},
	{518, "contains_nan", FK_BOOL, true, "True if any file has a nan partition value", 0, 0,
	 VALL},
	{510, "lower_bound", FK_BYTES, true, "Partition lower bound for all files", 0, 0, VALL},
	{511, "upper_bound", FK_BYTES, true, "Partition upper bound for all files", 0, 0, VALL},
};

static unsigned vbit(int format)
{
	return format <= 1 ? V1 : format == 2 ? V2 : V3;
}

static json_t *avro_field(const char *name, json_t *type, int id, const char *doc, bool opt)
{
	json_t *f = json_object();

	json_object_set_new(f, "name", json_string(name));
	json_object_set_new(f, "type", opt ? json_pack("[so]", "null", type) : type);
	if (doc)
		json_object_set_new(f, "doc", json_string(doc));
	if (opt)
		json_object_set_new(f, "default", json_null());
	json_object_set_new(f, "field-id", json_integer(id));
	return f;
}

static json_t *ice_field(int id, const char *name, bool required, json_t *type, const char *doc)
{
	json_t *f = json_pack("{s:i,s:s,s:b,s:o}", "id", id, "name", name, "required", required,
			      "type", type);

	if (doc)
		json_object_set_new(f, "doc", json_string(doc));
	return f;
}

typedef struct {
	const mk_spec *sp;
	json_t *seen;
	bool all_nullable; /* every Avro field a ["null", T] union */
} build_ctx;

static void build_fields(const fdesc *fd, size_t n, unsigned v, build_ctx *bc, json_t *av,
			 json_t *ice);

static void build_map(const fdesc *d, const char *vt_avro, const char *vt_ice, json_t **a,
		      json_t **i)
{
	char rn[32];

	snprintf(rn, sizeof(rn), "k%d_v%d", d->a, d->b);
	*a = json_pack("{s:s,s:{s:s,s:s,s:[{s:s,s:s,s:i},{s:s,s:s,s:i}]},s:s}", "type", "array",
		       "items", "type", "record", "name", rn, "fields", "name", "key", "type",
		       "int", "field-id", d->a, "name", "value", "type", vt_avro, "field-id", d->b,
		       "logicalType", "map");
	*i = json_pack("{s:s,s:i,s:s,s:i,s:s,s:b}", "type", "map", "key-id", d->a, "key", "int",
		       "value-id", d->b, "value", vt_ice, "value-required", 1);
}

static void build_partition(build_ctx *bc, json_t **a, json_t **i)
{
	json_t *af = json_array(), *ifs = json_array();
	char tb[64];

	for (int k = 0; k < bc->sp->nf; k++) {
		const mk_pfield *pf = &bc->sp->f[k];
		json_array_append_new(af, avro_field(pf->name, mk_avro_ptype(&pf->rtype, bc->seen),
						     pf->field_id, NULL, true));
		json_array_append_new(ifs, ice_field(pf->field_id, pf->name, false,
						     json_string(mk_iceberg_ptype(&pf->rtype, tb,
										   sizeof(tb))),
						     NULL));
	}
	*a = json_pack("{s:s,s:s,s:o}", "type", "record", "name", "r102", "fields", af);
	*i = json_pack("{s:s,s:o}", "type", "struct", "fields", ifs);
}

static void build_type(const fdesc *d, unsigned v, build_ctx *bc, json_t **a, json_t **i)
{
	json_t *af, *ifs;

	switch (d->kind) {
	case FK_INT:
		*a = json_string("int");
		*i = json_string("int");
		return;
	case FK_LONG:
		*a = json_string("long");
		*i = json_string("long");
		return;
	case FK_STRING:
		*a = json_string("string");
		*i = json_string("string");
		return;
	case FK_BYTES:
		*a = json_string("bytes");
		*i = json_string("binary");
		return;
	case FK_BOOL:
		*a = json_string("boolean");
		*i = json_string("boolean");
		return;
	case FK_MAP_IL:
		build_map(d, "long", "long", a, i);
		return;
	case FK_MAP_IB:
		build_map(d, "bytes", "binary", a, i);
		return;
	case FK_LIST_L:
	case FK_LIST_I: {
		const char *t = d->kind == FK_LIST_L ? "long" : "int";
		*a = json_pack("{s:s,s:s,s:i}", "type", "array", "items", t, "element-id", d->a);
		*i = json_pack("{s:s,s:i,s:s,s:b}", "type", "list", "element-id", d->a, "element",
			       t, "element-required", 1);
		return;
	}
	case FK_PART:
		build_partition(bc, a, i);
		return;
	case FK_SUMMARY:
		af = json_array();
		ifs = json_array();
		build_fields(sum_fields, sizeof(sum_fields) / sizeof(sum_fields[0]), v, bc, af, ifs);
		*a = json_pack("{s:s,s:{s:s,s:s,s:o},s:i}", "type", "array", "items", "type",
			       "record", "name", "r508", "fields", af, "element-id", d->a);
		*i = json_pack("{s:s,s:i,s:{s:s,s:o},s:b}", "type", "list", "element-id", d->a,
			       "element", "type", "struct", "fields", ifs, "element-required", 1);
		return;
	case FK_DATAFILE:
		af = json_array();
		ifs = json_array();
		build_fields(df_fields, sizeof(df_fields) / sizeof(df_fields[0]), v, bc, af, ifs);
		*a = json_pack("{s:s,s:s,s:o}", "type", "record", "name", "r2", "fields", af);
		*i = json_pack("{s:s,s:o}", "type", "struct", "fields", ifs);
		return;
	}
}

static void build_fields(const fdesc *fd, size_t n, unsigned v, build_ctx *bc, json_t *av,
			 json_t *ice)
{
	for (size_t k = 0; k < n; k++) {
		json_t *a = NULL, *i = NULL;
		if (!(fd[k].versions & v))
			continue;
		build_type(&fd[k], v, bc, &a, &i);
		json_array_append_new(av, avro_field(fd[k].name, a, fd[k].id, fd[k].doc,
						     fd[k].opt || bc->all_nullable));
		json_array_append_new(ice, ice_field(fd[k].id, fd[k].name, !fd[k].opt, i, fd[k].doc));
	}
}

/* manifest_entry schema: Avro JSON and Iceberg JSON */
static void entry_schema(int format, const mk_spec *sp, bool all_nullable, char **avro_js,
			 char **ice_js)
{
	unsigned v = vbit(format);
	build_ctx bc = {sp, json_object(), all_nullable};
	json_t *af = json_array(), *ifs = json_array(), *a, *i;
	static const fdesc top[] = {
		{0, "status", FK_INT, false, NULL, 0, 0, VALL},
		{1, "snapshot_id", FK_LONG, true, NULL, 0, 0, V2 | V3},
		{1, "snapshot_id", FK_LONG, false, NULL, 0, 0, V1},
		{3, "sequence_number", FK_LONG, true, NULL, 0, 0, V2 | V3},
		{4, "file_sequence_number", FK_LONG, true, NULL, 0, 0, V2 | V3},
		{2, "data_file", FK_DATAFILE, false, NULL, 0, 0, VALL},
	};

	build_fields(top, sizeof(top) / sizeof(top[0]), v, &bc, af, ifs);
	a = json_pack("{s:s,s:s,s:o}", "type", "record", "name", "manifest_entry", "fields", af);
	i = json_pack("{s:s,s:i,s:o}", "type", "struct", "schema-id", 0, "fields", ifs);
	*avro_js = json_dumps(a, JSON_COMPACT);
	*ice_js = json_dumps(i, JSON_COMPACT);
	json_decref(a);
	json_decref(i);
	json_decref(bc.seen);
}

static void mlist_schema(int format, char **avro_js, char **ice_js)
{
	unsigned v = vbit(format);
	build_ctx bc = {NULL, json_object(), false};
	json_t *af = json_array(), *ifs = json_array(), *a, *i;

	if (format <= 1)
		build_fields(ml_fields_v1, sizeof(ml_fields_v1) / sizeof(ml_fields_v1[0]), v, &bc, af,
			     ifs);
	else
		build_fields(ml_fields_v2, sizeof(ml_fields_v2) / sizeof(ml_fields_v2[0]), v, &bc, af,
			     ifs);
	a = json_pack("{s:s,s:s,s:o}", "type", "record", "name", "manifest_file", "fields", af);
	i = json_pack("{s:s,s:i,s:o}", "type", "struct", "schema-id", 0, "fields", ifs);
	*avro_js = json_dumps(a, JSON_COMPACT);
	*ice_js = json_dumps(i, JSON_COMPACT);
	json_decref(a);
	json_decref(i);
	json_decref(bc.seen);
}

/* ======================================================================== */
/* partition values <-> Avro                                                */
/* ======================================================================== */

static void set_pval(avro_value_t *b, const mk_type *t, const mk_pval *v)
{
	unsigned char buf[MK_PV_MAX + 1];
	int n;

	switch (t->kind) {
	case T_BOOLEAN:
		avro_value_set_boolean(b, (int)v->i);
		return;
	case T_INT:
	case T_DATE:
		avro_value_set_int(b, (int32_t)v->i);
		return;
	case T_LONG:
	case T_TIME:
	case T_TIMESTAMP:
	case T_TIMESTAMPTZ:
	case T_TIMESTAMP_NS:
	case T_TIMESTAMPTZ_NS:
		avro_value_set_long(b, v->i);
		return;
	case T_FLOAT:
		avro_value_set_float(b, (float)v->d);
		return;
	case T_DOUBLE:
		avro_value_set_double(b, v->d);
		return;
	case T_STRING:
		memcpy(buf, v->b, v->len);
		buf[v->len] = 0;
		avro_value_set_string_len(b, (const char *)buf, v->len + 1);
		return;
	case T_BINARY:
		avro_value_set_bytes(b, (void *)v->b, v->len);
		return;
	case T_UUID:
	case T_FIXED:
		avro_value_set_fixed(b, (void *)v->b, v->len);
		return;
	case T_DECIMAL:
		n = mk_decimal_bytes(t->p);
		for (int k = 0; k < n; k++) {
			int sh = 8 * (n - 1 - k);
			buf[k] = (unsigned char)(sh >= 64 ? (v->i < 0 ? 0xff : 0) :
							    (uint64_t)v->i >> sh);
		}
		avro_value_set_fixed(b, buf, (size_t)n);
		return;
	}
}

static void get_pval(avro_value_t *b, const mk_type *t, mk_pval *v)
{
	const void *p = NULL;
	size_t n = 0;
	int32_t i32 = 0;
	int bo = 0;
	float f = 0;
	const char *s = NULL;

	memset(v, 0, offsetof(mk_pval, b));
	switch (avro_value_get_type(b)) {
	case AVRO_BOOLEAN:
		avro_value_get_boolean(b, &bo);
		v->i = bo;
		return;
	case AVRO_INT32:
		avro_value_get_int(b, &i32);
		v->i = i32;
		return;
	case AVRO_INT64:
		avro_value_get_long(b, &v->i);
		return;
	case AVRO_FLOAT:
		avro_value_get_float(b, &f);
		v->d = f;
		return;
	case AVRO_DOUBLE:
		avro_value_get_double(b, &v->d);
		return;
	case AVRO_STRING:
		avro_value_get_string(b, &s, &n);
		p = s;
		n = n ? n - 1 : 0;
		break;
	case AVRO_BYTES:
		avro_value_get_bytes(b, &p, &n);
		break;
	case AVRO_FIXED:
		avro_value_get_fixed(b, &p, &n);
		break;
	default:
		v->null = true;
		return;
	}
	if (t->kind == T_DECIMAL) {
		const unsigned char *u = p;
		uint64_t acc = (n > 0 && (u[0] & 0x80)) ? ~0ULL : 0;
		for (size_t k = 0; k < n; k++)
			acc = (acc << 8) | u[k];
		v->i = (int64_t)acc;
		return;
	}
	v->len = n > MK_PV_MAX ? MK_PV_MAX : n;
	memcpy(v->b, p, v->len);
}

/* ======================================================================== */
/* manifest writer                                                          */
/* ======================================================================== */

struct mk_mwriter {
	const mk_table *t;
	mk_spec sp;
	int content, format;
	int64_t snap_id, seq;
	mk_avw *aw;
	char *uri;
	int top[5];
	int di[46];
	int pi[MK_MAX_PFIELDS];
	/* summary */
	int32_t cnt[3];
	int64_t rows[3];
	bool have_min;
	int64_t min_seq;
	bool pnull[MK_MAX_PFIELDS], pnan[MK_MAX_PFIELDS], phave[MK_MAX_PFIELDS];
	mk_pval pmin[MK_MAX_PFIELDS], pmax[MK_MAX_PFIELDS];
	uint64_t rng;
	int64_t next_id;
};

#define DI(w, id) ((w)->di[(id) - 100])

int mk_mwriter_open(const mk_table *t, const mk_spec *sp, int content, const char *local,
		    const char *uri, int64_t snap_id, int64_t seq, mk_mwriter **out)
{
	mk_mwriter *w = calloc(1, sizeof(*w));
	char *avro_js = NULL, *ice_js = NULL, *schema_js = NULL, *spec_js = NULL;
	char spec_id[16], fmt[16];
	json_t *sj, *spj, *parsed = NULL;
	int rc = -1;

	if (!w)
		return -1;
	w->t = t;
	w->sp = *sp;
	w->content = content;
	w->format = t->format;
	w->snap_id = snap_id;
	w->seq = seq;
	w->uri = mk_strdup(uri);
	w->rng = (uint64_t)snap_id ^ 0x5bd1e995ULL ^ (uint64_t)seq * 31;
	w->next_id = (int64_t)(mk_rand(&w->rng) % 1000000000ULL);
	entry_schema(t->format, sp, t->nullable_manifests, &avro_js, &ice_js);
	sj = mk_schema_to_json(&t->schema);
	schema_js = json_dumps(sj, JSON_COMPACT);
	json_decref(sj);
	spj = mk_spec_fields_json(sp);
	spec_js = json_dumps(spj, JSON_COMPACT);
	json_decref(spj);
	snprintf(spec_id, sizeof(spec_id), "%d", sp->id);
	snprintf(fmt, sizeof(fmt), "%d", t->format);
	{
		mk_kv kv[] = {
			{"schema", schema_js},
			{"avro.schema", avro_js},
			{"avro.codec", "deflate"},
			{"format-version", fmt},
			{"partition-spec-id", spec_id},
			{"iceberg.schema", ice_js},
			{"partition-spec", spec_js},
			{"content", content ? "deletes" : "data"},
		};
		int nkv = t->format >= 2 ? 8 : 7;
		if (avw_open(local, avro_js, kv, nkv, BLOCK_SIZE, &w->aw) != 0)
			goto out;
	}
	parsed = json_loads(avro_js, 0, NULL);
	{
		json_t *fields = json_object_get(parsed, "fields");
		json_t *dff = record_fields(field_by_id(fields, 2));
		json_t *pff = record_fields(field_by_id(dff, 102));
		int pmap[MK_MAX_PFIELDS];
		map_ids(fields, w->top, 0, 5);
		map_ids(dff, w->di, 100, 46);
		for (int k = 0; k < sp->nf; k++) {
			map_ids(pff, pmap, sp->f[k].field_id, 1);
			w->pi[k] = pmap[0];
		}
	}
	*out = w;
	w = NULL;
	rc = 0;
out:
	json_decref(parsed);
	free(avro_js);
	free(ice_js);
	free(schema_js);
	free(spec_js);
	if (w) {
		free(w->uri);
		free(w);
	}
	return rc;
}

static void set_partition(mk_mwriter *w, avro_value_t *df, const mk_pval *pv)
{
	avro_value_t prec = fld_w(df, DI(w, 102));

	for (int k = 0; k < w->sp.nf; k++) {
		avro_value_t u, b;
		if (w->pi[k] < 0)
			continue;
		u = fld(&prec, w->pi[k]);
		if (pv[k].null) {
			avro_value_set_branch(&u, 0, &b);
			avro_value_set_null(&b);
		} else {
			avro_value_set_branch(&u, 1, &b);
			set_pval(&b, &w->sp.f[k].rtype, &pv[k]);
		}
	}
}

/* one map<int, long|bytes> as an Avro array of key/value records */
typedef struct {
	avro_value_t arr;
} mk_map;

static void map_begin(avro_value_t *df, int idx, mk_map *m)
{
	avro_value_t b;

	opt_branch(df, idx, &b);
	m->arr = b;
	avro_value_reset(&m->arr);
}

static void map_put_long(mk_map *m, int32_t key, int64_t v)
{
	avro_value_t el, k, val;

	avro_value_append(&m->arr, &el, NULL);
	avro_value_get_by_index(&el, 0, &k, NULL);
	avro_value_get_by_index(&el, 1, &val, NULL);
	avro_value_set_int(&k, key);
	avro_value_set_long(&val, v);
}

static void map_put_bytes(mk_map *m, int32_t key, const void *p, size_t n)
{
	avro_value_t el, k, val;

	avro_value_append(&m->arr, &el, NULL);
	avro_value_get_by_index(&el, 0, &k, NULL);
	avro_value_get_by_index(&el, 1, &val, NULL);
	avro_value_set_int(&k, key);
	avro_value_set_bytes(&val, (void *)p, n);
}

static void set_split_offsets(mk_mwriter *w, avro_value_t *df, int64_t size)
{
	avro_value_t arr, el;

	opt_branch(df, DI(w, 132), &arr);
	avro_value_reset(&arr);
	avro_value_append(&arr, &el, NULL);
	avro_value_set_long(&el, 4);
	for (int64_t off = 4 + 134217728; off < size - 1000000; off += 134217728) {
		avro_value_append(&arr, &el, NULL);
		avro_value_set_long(&el, off + (int64_t)(mk_rand(&w->rng) % 4096));
	}
}

/* realistic per-column metrics for a data file */
static void set_stats(mk_mwriter *w, avro_value_t *df, const mk_newfile *f)
{
	const mk_schema *s = &w->t->schema;
	mk_map m;
	unsigned char lo[MK_PV_MAX];
	uint64_t r = f->seed;
	int64_t usable = f->file_size * 97 / 100;

	map_begin(df, DI(w, 108), &m);
	for (int c = 0; c < s->ncols; c++)
		map_put_long(&m, s->cols[c].id,
			     1 + usable / s->ncols / 2 +
				     (int64_t)(mk_rand(&r) % (uint64_t)(usable / s->ncols + 1)));
	map_begin(df, DI(w, 109), &m);
	for (int c = 0; c < s->ncols; c++)
		map_put_long(&m, s->cols[c].id, f->record_count);
	map_begin(df, DI(w, 110), &m);
	for (int c = 0; c < s->ncols; c++) {
		uint64_t x = mk_rand(&r);
		int64_t nulls = s->cols[c].required || x % 3 ? 0 :
				(int64_t)(x >> 8) % (f->record_count / 10 + 1);
		map_put_long(&m, s->cols[c].id, nulls);
	}
	map_begin(df, DI(w, 137), &m);
	for (int c = 0; c < s->ncols; c++) {
		if (s->cols[c].type.kind == T_FLOAT || s->cols[c].type.kind == T_DOUBLE) {
			map_put_long(&m, s->cols[c].id, 0);
		}
	}
	for (int side = 0; side < 2; side++) {
		uint64_t br = f->seed ^ 0x9e3779b97f4a7c15ULL;
		map_begin(df, DI(w, side ? 128 : 125), &m);
		for (int c = 0; c < s->ncols; c++) {
			const mk_col *col = &s->cols[c];
			int64_t base = (int64_t)(mk_rand(&br) % 1099511627776ULL);
			size_t n;
			if (c == 0 && (col->type.kind == T_LONG || col->type.kind == T_INT)) {
				mk_pval v = {.i = side ? w->next_id + f->record_count - 1 : w->next_id};
				n = mk_pval_serialize(&col->type, &v, lo);
			} else {
				uint64_t cr = br ^ (uint64_t)c * 0x2545f4914f6cdd1dULL;
				n = mk_gen_bound(col, &w->sp, f->part, &cr, side != 0, base, lo);
			}
			map_put_bytes(&m, col->id, lo, n);
		}
	}
	w->next_id += f->record_count + (int64_t)(mk_rand(&r) % 1000);
	set_split_offsets(w, df, f->file_size);
}

/* position delete files carry metrics of file_path and pos */
static void set_pos_delete_stats(mk_mwriter *w, avro_value_t *df, const mk_newfile *f)
{
	mk_map m;
	unsigned char pos[8];
	mk_pval v = {.i = f->record_count * 7};
	mk_type lt = {T_LONG, 0, 0};

	map_begin(df, DI(w, 109), &m);
	map_put_long(&m, POS_PATH_ID, f->record_count);
	map_put_long(&m, POS_POS_ID, f->record_count);
	map_begin(df, DI(w, 110), &m);
	map_put_long(&m, POS_PATH_ID, 0);
	map_put_long(&m, POS_POS_ID, 0);
	map_begin(df, DI(w, 125), &m);
	map_put_bytes(&m, POS_PATH_ID, f->ref_file, strlen(f->ref_file));
	v.i = 0;
	mk_pval_serialize(&lt, &v, pos);
	map_put_bytes(&m, POS_POS_ID, pos, 8);
	map_begin(df, DI(w, 128), &m);
	map_put_bytes(&m, POS_PATH_ID, f->ref_file, strlen(f->ref_file));
	v.i = f->record_count * 7;
	mk_pval_serialize(&lt, &v, pos);
	map_put_bytes(&m, POS_POS_ID, pos, 8);
}

static void track(mk_mwriter *w, int status, int64_t rows, int64_t dseq, const mk_pval *pv)
{
	w->cnt[status]++;
	w->rows[status] += rows;
	if (status != STATUS_DELETED && (!w->have_min || dseq < w->min_seq)) {
		w->min_seq = dseq;
		w->have_min = true;
	}
	for (int k = 0; k < w->sp.nf; k++) {
		const mk_type *t = &w->sp.f[k].rtype;
		if (pv[k].null) {
			w->pnull[k] = true;
			continue;
		}
		if ((t->kind == T_FLOAT || t->kind == T_DOUBLE) && pv[k].d != pv[k].d) {
			w->pnan[k] = true;
			continue;
		}
		if (!w->phave[k] || mk_pval_cmp(t, &pv[k], &w->pmin[k]) < 0)
			w->pmin[k] = pv[k];
		if (!w->phave[k] || mk_pval_cmp(t, &pv[k], &w->pmax[k]) > 0)
			w->pmax[k] = pv[k];
		w->phave[k] = true;
	}
}

int mk_mwriter_add(mk_mwriter *w, const mk_newfile *f)
{
	avro_value_t *rec = &w->aw->rec, df;
	bool v1 = w->format <= 1;

	set_int(rec, w->top[0], STATUS_ADDED);
	if (v1)
		set_long(rec, w->top[1], w->snap_id);
	else
		set_opt_long(rec, w->top[1], true, w->snap_id);
	set_null(rec, w->top[3]);
	set_null(rec, w->top[4]);
	df = fld_w(rec, w->top[2]);
	set_int(&df, DI(w, 134), f->content);
	set_string(&df, DI(w, 100), f->path);
	set_string(&df, DI(w, 101), f->format);
	set_partition(w, &df, f->part);
	set_long(&df, DI(w, 103), f->record_count);
	set_long(&df, DI(w, 104), f->file_size);
	set_long(&df, DI(w, 105), 67108864);
	{
		static const int nullable[] = {108, 109, 110, 137, 125, 128, 131, 132};
		for (size_t k = 0; k < sizeof(nullable) / sizeof(nullable[0]); k++)
			set_null(&df, DI(w, nullable[k]));
	}
	if (f->content == 0 && f->stats)
		set_stats(w, &df, f);
	else if (f->content == 0)
		set_split_offsets(w, &df, f->file_size);
	else if (f->content == 1 && f->ref_file && strcmp(f->format, "PARQUET") == 0)
		set_pos_delete_stats(w, &df, f);
	if (DI(w, 135) >= 0) {
		if (f->n_eq > 0) {
			avro_value_t arr, el;
			opt_branch(&df, DI(w, 135), &arr);
			avro_value_reset(&arr);
			for (int k = 0; k < f->n_eq; k++) {
				avro_value_append(&arr, &el, NULL);
				avro_value_set_int(&el, f->eq_ids[k]);
			}
		} else {
			set_null(&df, DI(w, 135));
		}
	}
	set_opt_int(&df, DI(w, 140), f->content != 1, 0);
	set_null(&df, DI(w, 142));
	set_opt_string(&df, DI(w, 143), f->ref_file);
	set_opt_long(&df, DI(w, 144), f->has_offset, f->content_offset);
	set_opt_long(&df, DI(w, 145), f->has_offset, f->content_size);
	track(w, STATUS_ADDED, f->record_count, w->seq, f->part);
	return avw_append(w->aw);
}

int mk_mwriter_copy(mk_mwriter *w, const mk_entry *e, int status, int64_t snap_id)
{
	avro_value_t *rec = &w->aw->rec, df;

	set_int(rec, w->top[0], status);
	if (w->format <= 1)
		set_long(rec, w->top[1], snap_id);
	else
		set_opt_long(rec, w->top[1], true, snap_id);
	set_opt_long(rec, w->top[3], true, e->seq);
	set_opt_long(rec, w->top[4], true, e->fseq);
	df = fld_w(rec, w->top[2]);
	if (avro_value_copy(&df, &e->df)) {
		mk_err("cannot copy manifest entry %s: %s", e->path, avro_strerror());
		return -1;
	}
	if (e->content == 0)
		set_opt_long(&df, DI(w, 142), e->has_first_row_id, e->first_row_id);
	track(w, status, e->record_count, e->seq, e->part);
	return avw_append(w->aw);
}

static void fill_summary(mk_mwriter *w, mk_mfile *m)
{
	m->parts_null = false;
	m->nparts = w->sp.nf;
	m->parts = calloc((size_t)(w->sp.nf ? w->sp.nf : 1), sizeof(mk_fsum));
	if (!m->parts) {
		m->nparts = 0;
		return;
	}
	for (int k = 0; k < w->sp.nf; k++) {
		mk_fsum *s = &m->parts[k];
		const mk_type *t = &w->sp.f[k].rtype;
		s->contains_null = w->pnull[k];
		s->contains_nan = w->pnan[k];
		if (w->phave[k]) {
			s->has_lower = s->has_upper = true;
			s->llen = mk_pval_serialize(t, &w->pmin[k], s->lower);
			s->ulen = mk_pval_serialize(t, &w->pmax[k], s->upper);
		}
	}
}

int mk_mwriter_close(mk_mwriter *w, mk_mfile *m)
{
	int rc;

	memset(m, 0, sizeof(*m));
	rc = avw_close(w->aw, &m->length, NULL, NULL);
	m->path = w->uri;
	m->spec_id = w->sp.id;
	m->content = w->content;
	m->seq = w->seq;
	m->min_seq = w->have_min ? w->min_seq : w->seq;
	m->added_snapshot_id = w->snap_id;
	m->added_files = w->cnt[STATUS_ADDED];
	m->existing_files = w->cnt[STATUS_EXISTING];
	m->deleted_files = w->cnt[STATUS_DELETED];
	m->added_rows = w->rows[STATUS_ADDED];
	m->existing_rows = w->rows[STATUS_EXISTING];
	m->deleted_rows = w->rows[STATUS_DELETED];
	fill_summary(w, m);
	free(w);
	return rc;
}

void mk_mwriter_abort(mk_mwriter *w)
{
	avw_abort(w->aw);
	free(w->uri);
	free(w);
}

/* ======================================================================== */
/* manifest reader                                                          */
/* ======================================================================== */

struct mk_mreader {
	const mk_table *t;
	mk_spec sp;
	mk_avr av;
	int64_t added_snapshot_id, seq;
	bool has_first_row_id;
	int64_t next_row_id;
	int top[5];
	int di[46];
	int pi[MK_MAX_PFIELDS];
	char *path;
};

int mk_mreader_open(const mk_table *t, const mk_mfile *mf, mk_mreader **out)
{
	mk_mreader *r = calloc(1, sizeof(*r));
	const mk_spec *sp = mk_table_spec(t, mf->spec_id);
	json_t *fields, *dff, *pff;

	if (!r)
		return -1;
	if (!sp) {
		mk_err("manifest %s uses unknown partition spec %d", mf->path, mf->spec_id);
		free(r);
		return -1;
	}
	r->t = t;
	r->sp = *sp;
	r->added_snapshot_id = mf->added_snapshot_id;
	r->seq = mf->seq;
	r->has_first_row_id = mf->has_first_row_id;
	r->next_row_id = mf->first_row_id;
	r->path = mk_local_path(t, mf->path);
	if (avr_open(r->path, &r->av) != 0) {
		free(r->path);
		free(r);
		return -1;
	}
	fields = json_object_get(r->av.schema, "fields");
	dff = record_fields(field_by_id(fields, 2));
	pff = record_fields(field_by_id(dff, 102));
	map_ids(fields, r->top, 0, 5);
	map_ids(dff, r->di, 100, 46);
	for (int k = 0; k < sp->nf; k++) {
		int pmap[1];
		map_ids(pff, pmap, sp->f[k].field_id, 1);
		r->pi[k] = pmap[0];
	}
	if (r->top[0] < 0 || r->top[2] < 0 || r->di[0] < 0) {
		mk_err("%s: not an Iceberg manifest (missing field ids)", r->path);
		mk_mreader_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

static void read_partition(mk_mreader *r, avro_value_t *df, mk_entry *e)
{
	avro_value_t prec = fld_r(df, r->di[102 - 100]);

	e->npart = r->sp.nf;
	for (int k = 0; k < r->sp.nf; k++) {
		avro_value_t v;
		memset(&e->part[k], 0, offsetof(mk_pval, b));
		if (!get_val(&prec, r->pi[k], &v)) {
			e->part[k].null = true;
			continue;
		}
		get_pval(&v, &r->sp.f[k].rtype, &e->part[k]);
	}
}

/* 1 = entry, 0 = end */
int mk_mreader_next(mk_mreader *r, mk_entry *e)
{
	avro_value_t *rec = &r->av.rec;
	int64_t v;

	if (avr_next(&r->av) != 1)
		return 0;
	e->status = get_long(rec, r->top[0], &v) ? (int)v : 1;
	e->snapshot_id = get_long(rec, r->top[1], &v) ? v : r->added_snapshot_id;
	e->seq = get_long(rec, r->top[3], &v) ? v : r->seq;
	e->fseq = get_long(rec, r->top[4], &v) ? v : r->seq;
	e->df = fld_r(rec, r->top[2]);
	e->content = get_long(&e->df, r->di[134 - 100], &v) ? (int)v : 0;
	e->path = get_str(&e->df, r->di[100 - 100]);
	e->format = get_str(&e->df, r->di[101 - 100]);
	e->record_count = get_long(&e->df, r->di[103 - 100], &v) ? v : 0;
	e->file_size = get_long(&e->df, r->di[104 - 100], &v) ? v : 0;
	e->ref_file = get_str(&e->df, r->di[143 - 100]);
	e->has_offset = get_long(&e->df, r->di[144 - 100], &e->content_offset);
	if (!get_long(&e->df, r->di[145 - 100], &e->content_size))
		e->content_size = 0;
	e->has_first_row_id = get_long(&e->df, r->di[142 - 100], &e->first_row_id);
	if (!e->has_first_row_id && e->content == 0 && r->has_first_row_id &&
	    e->status != STATUS_DELETED) {
		e->has_first_row_id = true;
		e->first_row_id = r->next_row_id;
		r->next_row_id += e->record_count;
	}
	if (!e->path)
		e->path = "";
	if (!e->format)
		e->format = "";
	read_partition(r, &e->df, e);
	return 1;
}

void mk_mreader_close(mk_mreader *r)
{
	if (!r)
		return;
	avr_close(&r->av);
	free(r->path);
	free(r);
}

/* ======================================================================== */
/* manifest lists                                                           */
/* ======================================================================== */

void mk_mfile_free(mk_mfile *m)
{
	free(m->path);
	free(m->parts);
	memset(m, 0, sizeof(*m));
}

void mk_mfiles_free(mk_mfile *m, int n)
{
	for (int i = 0; m && i < n; i++)
		mk_mfile_free(&m[i]);
	free(m);
}

int mk_mfile_copy(const mk_mfile *src, mk_mfile *dst)
{
	*dst = *src;
	dst->path = mk_strdup(src->path);
	dst->parts = NULL;
	if (src->nparts) {
		dst->parts = malloc((size_t)src->nparts * sizeof(mk_fsum));
		if (!dst->parts)
			return -1;
		memcpy(dst->parts, src->parts, (size_t)src->nparts * sizeof(mk_fsum));
	}
	return 0;
}

static void read_summaries(avro_value_t *rec, int idx, const int *si, mk_mfile *m)
{
	avro_value_t arr;
	size_t n = 0;

	m->parts_null = !get_val(rec, idx, &arr);
	if (m->parts_null)
		return;
	avro_value_get_size(&arr, &n);
	m->parts = calloc(n ? n : 1, sizeof(mk_fsum));
	if (!m->parts)
		return;
	m->nparts = (int)n;
	for (size_t k = 0; k < n; k++) {
		avro_value_t el, f;
		mk_fsum *s = &m->parts[k];
		const void *p;
		size_t len;
		int b;

		avro_value_get_by_index(&arr, k, &el, NULL);
		s->contains_nan = -1;
		if (get_val(&el, si[0], &f) && !avro_value_get_boolean(&f, &b))
			s->contains_null = b;
		if (get_val(&el, si[9], &f) && !avro_value_get_boolean(&f, &b))
			s->contains_nan = b;
		if (get_val(&el, si[1], &f) && !avro_value_get_bytes(&f, &p, &len)) {
			s->has_lower = true;
			s->llen = len > MK_PV_MAX ? MK_PV_MAX : len;
			memcpy(s->lower, p, s->llen);
		}
		if (get_val(&el, si[2], &f) && !avro_value_get_bytes(&f, &p, &len)) {
			s->has_upper = true;
			s->ulen = len > MK_PV_MAX ? MK_PV_MAX : len;
			memcpy(s->upper, p, s->ulen);
		}
	}
}

int mk_mlist_read(const mk_table *t, const char *uri, mk_mfile **out, int *nout)
{
	char *local = mk_local_path(t, uri);
	mk_avr av;
	mk_mfile *arr = NULL;
	int n = 0, rc = -1;
	int mi[21], si[10];

	*out = NULL;
	*nout = 0;
	if (avr_open(local, &av) != 0)
		goto out;
	map_ids(json_object_get(av.schema, "fields"), mi, 500, 21);
	map_ids(record_fields(field_by_id(json_object_get(av.schema, "fields"), 507)), si, 509, 10);
	if (mi[0] < 0) {
		mk_err("%s: not an Iceberg manifest list", local);
		goto close;
	}
	while (avr_next(&av) == 1) {
		avro_value_t *rec = &av.rec;
		mk_mfile *m;
		mk_mfile *na = realloc(arr, (size_t)(n + 1) * sizeof(*arr));
		int64_t v;
		const char *p;

		if (!na)
			goto close;
		arr = na;
		m = &arr[n++];
		memset(m, 0, sizeof(*m));
		p = get_str(rec, mi[0]);
		m->path = mk_strdup(p ? p : "");
		m->length = get_long(rec, mi[1], &v) ? v : 0;
		m->spec_id = get_long(rec, mi[2], &v) ? (int)v : 0;
		m->content = get_long(rec, mi[17], &v) ? (int)v : 0;
		m->seq = get_long(rec, mi[15], &v) ? v : 0;
		m->min_seq = get_long(rec, mi[16], &v) ? v : 0;
		m->added_snapshot_id = get_long(rec, mi[3], &v) ? v : 0;
		m->added_files = get_long(rec, mi[4], &v) ? (int32_t)v : 0;
		m->existing_files = get_long(rec, mi[5], &v) ? (int32_t)v : 0;
		m->deleted_files = get_long(rec, mi[6], &v) ? (int32_t)v : 0;
		m->added_rows = get_long(rec, mi[12], &v) ? v : 0;
		m->existing_rows = get_long(rec, mi[13], &v) ? v : 0;
		m->deleted_rows = get_long(rec, mi[14], &v) ? v : 0;
		m->has_first_row_id = get_long(rec, mi[20], &m->first_row_id);
		read_summaries(rec, mi[7], si, m);
	}
	*out = arr;
	*nout = n;
	arr = NULL;
	rc = 0;
close:
	avr_close(&av);
out:
	mk_mfiles_free(arr, n);
	free(local);
	return rc;
}

static void write_summaries(avro_value_t *rec, int idx, const mk_mfile *m)
{
	avro_value_t arr, el, f, b;

	if (m->parts_null) {
		set_null(rec, idx);
		return;
	}
	opt_branch(rec, idx, &arr);
	avro_value_reset(&arr);
	for (int k = 0; k < m->nparts; k++) {
		const mk_fsum *s = &m->parts[k];
		avro_value_append(&arr, &el, NULL);
		avro_value_get_by_index(&el, 0, &f, NULL);
		avro_value_set_boolean(&f, s->contains_null);
		avro_value_get_by_index(&el, 1, &f, NULL);
		if (s->contains_nan < 0) {
			avro_value_set_branch(&f, 0, &b);
			avro_value_set_null(&b);
		} else {
			avro_value_set_branch(&f, 1, &b);
			avro_value_set_boolean(&b, s->contains_nan);
		}
		avro_value_get_by_index(&el, 2, &f, NULL);
		avro_value_set_branch(&f, s->has_lower ? 1 : 0, &b);
		if (s->has_lower)
			avro_value_set_bytes(&b, (void *)s->lower, s->llen);
		else
			avro_value_set_null(&b);
		avro_value_get_by_index(&el, 3, &f, NULL);
		avro_value_set_branch(&f, s->has_upper ? 1 : 0, &b);
		if (s->has_upper)
			avro_value_set_bytes(&b, (void *)s->upper, s->ulen);
		else
			avro_value_set_null(&b);
	}
}

static void write_mfile(avro_value_t *rec, const int *mi, int format, const mk_mfile *m)
{
	set_string(rec, mi[0], m->path);
	set_long(rec, mi[1], m->length);
	set_int(rec, mi[2], m->spec_id);
	set_int(rec, mi[17], m->content);
	set_long(rec, mi[15], m->seq);
	set_long(rec, mi[16], m->min_seq);
	set_long(rec, mi[3], m->added_snapshot_id);
	if (format <= 1) {
		set_opt_int(rec, mi[4], true, m->added_files);
		set_opt_int(rec, mi[5], true, m->existing_files);
		set_opt_int(rec, mi[6], true, m->deleted_files);
		set_opt_long(rec, mi[12], true, m->added_rows);
		set_opt_long(rec, mi[13], true, m->existing_rows);
		set_opt_long(rec, mi[14], true, m->deleted_rows);
	} else {
		set_int(rec, mi[4], m->added_files);
		set_int(rec, mi[5], m->existing_files);
		set_int(rec, mi[6], m->deleted_files);
		set_long(rec, mi[12], m->added_rows);
		set_long(rec, mi[13], m->existing_rows);
		set_long(rec, mi[14], m->deleted_rows);
	}
	write_summaries(rec, mi[7], m);
	set_null(rec, mi[19]);
	set_opt_long(rec, mi[20], m->has_first_row_id, m->first_row_id);
}

int mk_mlist_write(const mk_table *t, const char *local, int64_t snap_id, bool has_parent,
		   int64_t parent_id, int64_t seq, int64_t first_row_id, const mk_mfile *m, int n)
{
	char *avro_js = NULL, *ice_js = NULL;
	char sid[24], pid[24], sq[24], fmt[8], frid[24];
	mk_avw *aw = NULL;
	json_t *parsed = NULL;
	int mi[21], rc = -1, nkv = 0;
	mk_kv kv[8];

	mlist_schema(t->format, &avro_js, &ice_js);
	snprintf(sid, sizeof(sid), "%lld", (long long)snap_id);
	snprintf(pid, sizeof(pid), has_parent ? "%lld" : "null", (long long)parent_id);
	snprintf(sq, sizeof(sq), "%lld", (long long)seq);
	snprintf(fmt, sizeof(fmt), "%d", t->format);
	snprintf(frid, sizeof(frid), "%lld", (long long)first_row_id);
	kv[nkv++] = (mk_kv){"avro.schema", avro_js};
	kv[nkv++] = (mk_kv){"avro.codec", "deflate"};
	kv[nkv++] = (mk_kv){"snapshot-id", sid};
	kv[nkv++] = (mk_kv){"parent-snapshot-id", pid};
	if (t->format >= 2)
		kv[nkv++] = (mk_kv){"sequence-number", sq};
	if (t->format >= 3)
		kv[nkv++] = (mk_kv){"first-row-id", frid};
	kv[nkv++] = (mk_kv){"format-version", fmt};
	kv[nkv++] = (mk_kv){"iceberg.schema", ice_js};
	if (avw_open(local, avro_js, kv, nkv, BLOCK_SIZE, &aw) != 0)
		goto out;
	parsed = json_loads(avro_js, 0, NULL);
	map_ids(json_object_get(parsed, "fields"), mi, 500, 21);
	for (int i = 0; i < n; i++) {
		write_mfile(&aw->rec, mi, t->format, &m[i]);
		if (avw_append(aw) != 0) {
			avw_abort(aw);
			goto out;
		}
	}
	rc = avw_close(aw, NULL, NULL, NULL);
out:
	json_decref(parsed);
	free(avro_js);
	free(ice_js);
	return rc;
}

/* ======================================================================== */
/* gzip through avro-c's deflate codec                                      */
/* ======================================================================== */

static int cur_long(mk_cur *c, int64_t *v)
{
	uint64_t z = 0;
	int shift = 0;
	unsigned char b;

	do {
		if (c->p >= c->end || shift > 63)
			return -1;
		b = *c->p++;
		z |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	*v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
	return 0;
}

static int cur_skip_header(mk_cur *c)
{
	int64_t cnt, len;

	if (c->end - c->p < 4 || memcmp(c->p, "Obj\1", 4) != 0)
		return -1;
	c->p += 4;
	for (;;) {
		if (cur_long(c, &cnt))
			return -1;
		if (cnt == 0)
			break;
		if (cnt < 0) {
			cnt = -cnt;
			if (cur_long(c, &len))
				return -1;
		}
		for (int64_t i = 0; i < 2 * cnt; i++) {
			if (cur_long(c, &len) || len < 0 || len > c->end - c->p)
				return -1;
			c->p += len;
		}
	}
	if (c->end - c->p < 16)
		return -1;
	c->p += 16;
	return 0;
}

static void put_le32(unsigned char *o, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		o[i] = (unsigned char)(v >> (8 * i));
}

int mk_gzip(const unsigned char *in, size_t n, unsigned char **out, size_t *outlen)
{
	char schema[96];
	mk_avw *aw = NULL;
	unsigned char *mem = NULL, *gz = NULL;
	size_t memlen = 0;
	int64_t cnt, len;
	mk_cur c;
	mk_kv kv[1] = {{"avro.codec", "deflate"}};
	int rc = -1;

	snprintf(schema, sizeof(schema), "{\"type\":\"fixed\",\"name\":\"gz\",\"size\":%zu}", n);
	if (n == 0 || avw_open(NULL, schema, kv, 1, n + 64, &aw) != 0)
		goto out;
	if (avro_value_set_fixed(&aw->rec, (void *)in, n) || avw_append(aw) != 0) {
		avw_abort(aw);
		goto out;
	}
	if (avw_close(aw, NULL, &mem, &memlen) != 0)
		goto out;
	c.p = mem;
	c.end = mem + memlen;
	if (cur_skip_header(&c) || cur_long(&c, &cnt) || cnt != 1 || cur_long(&c, &len) ||
	    len < 0 || len > c.end - c.p)
		goto out;
	gz = malloc((size_t)len + 18);
	if (!gz)
		goto out;
	memcpy(gz, "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03", 10);
	memcpy(gz + 10, c.p, (size_t)len);
	put_le32(gz + 10 + len, mk_crc32(0, in, n));
	put_le32(gz + 14 + len, (uint32_t)n);
	*out = gz;
	*outlen = (size_t)len + 18;
	gz = NULL;
	rc = 0;
out:
	if (rc != 0)
		mk_err("gzip compression failed");
	free(mem);
	free(gz);
	return rc;
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* deflate payload offset of a gzip member, or 0 on error */
static size_t gzip_payload(const unsigned char *in, size_t n)
{
	size_t o = 10;
	unsigned flg;

	if (n < 18 || in[0] != 0x1f || in[1] != 0x8b || in[2] != 8)
		return 0;
	flg = in[3];
	if (flg & 4) {
		if (o + 2 > n)
			return 0;
		o += 2 + (size_t)(in[o] | in[o + 1] << 8);
	}
	for (unsigned bit = 8; bit <= 16; bit <<= 1) {
		if (!(flg & bit))
			continue;
		while (o < n && in[o])
			o++;
		o++;
	}
	if (flg & 2)
		o += 2;
	return o + 8 <= n ? o : 0;
}

int mk_gunzip(const unsigned char *in, size_t n, unsigned char **out, size_t *outlen)
{
	size_t off = gzip_payload(in, n), dlen, hl = 0;
	uint32_t isize, crc;
	char schema[96];
	unsigned char *buf = NULL, *res = NULL;
	FILE *fp = NULL;
	avro_file_reader_t r = NULL;
	avro_value_iface_t *iface = NULL;
	avro_schema_t cls_schema;
	avro_value_t v;
	bool have_v = false;
	const void *p;
	size_t plen;
	int rc = -1;

	if (!off)
		goto out;
	isize = get_le32(in + n - 4);
	crc = get_le32(in + n - 8);
	dlen = n - 8 - off;
	if (isize == 0) {
		*out = calloc(1, 1);
		*outlen = 0;
		return *out ? 0 : -1;
	}
	snprintf(schema, sizeof(schema), "{\"type\":\"fixed\",\"name\":\"gz\",\"size\":%u}", isize);
	buf = malloc(dlen + 256);
	if (!buf)
		goto out;
	{
		mk_kv kv[2] = {{"avro.codec", "deflate"}, {"avro.schema", schema}};
		static const unsigned char sync[16];
		char *hb = NULL;
		if (header_bytes(kv, 2, sync, &hb, &hl) != 0 || hl > 200) {
			free(hb);
			goto out;
		}
		memcpy(buf, hb, hl);
		free(hb);
		hl += put_long(buf + hl, 1);
		hl += put_long(buf + hl, (int64_t)dlen);
		memcpy(buf + hl, in + off, dlen);
		hl += dlen;
		memcpy(buf + hl, sync, 16);
		hl += 16;
	}
	fp = fmemopen(buf, hl, "rb");
	if (!fp || avro_file_reader_fp(fp, "gzip", 1, &r)) {
		r = NULL;
		goto out;
	}
	if (class_for(schema, strlen(schema), &cls_schema, &iface) != 0 ||
	    avro_generic_value_new(iface, &v))
		goto out;
	have_v = true;
	if (avro_file_reader_read_value(r, &v) || avro_value_get_fixed(&v, &p, &plen) ||
	    plen != isize || mk_crc32(0, p, plen) != crc)
		goto out;
	res = malloc(plen + 1);
	if (!res)
		goto out;
	memcpy(res, p, plen);
	res[plen] = 0;
	*out = res;
	*outlen = plen;
	rc = 0;
out:
	if (rc != 0)
		mk_err("cannot decompress gzip data");
	if (have_v)
		avro_value_decref(&v);
	if (r)
		avro_file_reader_close(r);
	free(buf);
	return rc;
}
