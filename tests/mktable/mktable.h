/* ice-mktable: shared types and declarations of the Iceberg test-table writer
 * (metadata JSON with jansson, manifests and manifest lists with avro-c). */
#ifndef ICE_MKTABLE_H
#define ICE_MKTABLE_H

/* fopencookie, open_memstream, vasprintf: included first by every file */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <avro.h>
#include <jansson.h>

#define MK_NAME_MAX 128     /* column / partition field names */
#define MK_PV_MAX 256       /* bytes of one string/binary partition value */
#define MK_MAX_PFIELDS 16   /* partition fields per spec */

/* ---- Iceberg primitive types ------------------------------------------ */

enum mk_tkind {
	T_BOOLEAN, T_INT, T_LONG, T_FLOAT, T_DOUBLE, T_DECIMAL, T_DATE, T_TIME,
	T_TIMESTAMP, T_TIMESTAMPTZ, T_TIMESTAMP_NS, T_TIMESTAMPTZ_NS, T_STRING,
	T_UUID, T_BINARY, T_FIXED
};

typedef struct {
	enum mk_tkind kind;
	int p;  /* decimal precision, fixed length */
	int s;  /* decimal scale */
} mk_type;

typedef struct {
	int id;
	char name[MK_NAME_MAX];
	mk_type type;
	bool required;
} mk_col;

typedef struct {
	int id;
	int ncols;
	mk_col *cols;
} mk_schema;

enum mk_xform { X_IDENTITY, X_BUCKET, X_TRUNCATE, X_YEAR, X_MONTH, X_DAY, X_HOUR, X_VOID };

typedef struct {
	int source_id;
	int field_id;
	char name[MK_NAME_MAX];
	enum mk_xform xf;
	int param;          /* bucket count / truncate width */
	mk_type stype;      /* source column type */
	mk_type rtype;      /* partition (result) type */
} mk_pfield;

typedef struct {
	int id;
	int nf;
	mk_pfield f[MK_MAX_PFIELDS];
} mk_spec;

/* One partition value, typed by the partition field's result type. */
typedef struct {
	bool null;
	int64_t i;          /* ints, longs, dates, times, decimals (unscaled), booleans */
	double d;           /* float, double */
	size_t len;         /* string, binary, fixed, uuid bytes */
	unsigned char b[MK_PV_MAX];
} mk_pval;

/* ---- table state ------------------------------------------------------- */

enum mk_naming { NAMING_V, NAMING_UUID };
enum mk_hint { HINT_NUMBER, HINT_NAME, HINT_NONE };

typedef struct {
	char *dir;          /* absolute table directory */
	char *metadir;      /* dir/metadata */
	json_t *meta;       /* current table metadata */
	int version;        /* current metadata version number (1-based) */
	char *meta_name;    /* current metadata file name */
	int format;
	char *location;     /* without trailing slash */
	enum mk_naming naming;
	enum mk_hint hint;
	bool gzip;
	bool nullable_manifests; /* every manifest field a ["null", T] union */
	bool restarted;     /* recreated with version numbers from 1 over old files */
	bool unsigned_ids;  /* snapshot ids written as id + 2^63 (unsigned 64-bit) */
	bool seeded;
	uint64_t rng;
	mk_schema schema;   /* current schema */
	mk_spec *specs;
	int nspecs;
	int default_spec;
} mk_table;

/* Summary of one partition field over a manifest (manifest list r508). */
typedef struct {
	bool contains_null;
	int contains_nan;   /* -1 = null */
	bool has_lower, has_upper;
	size_t llen, ulen;
	unsigned char lower[MK_PV_MAX], upper[MK_PV_MAX];
} mk_fsum;

/* One manifest list entry. */
typedef struct {
	char *path;         /* as written in metadata (under location) */
	int64_t length;
	int spec_id;
	int content;        /* 0 data, 1 deletes */
	int64_t seq, min_seq;
	int64_t added_snapshot_id;
	int32_t added_files, existing_files, deleted_files;
	int64_t added_rows, existing_rows, deleted_rows;
	bool parts_null;
	int nparts;
	mk_fsum *parts;
	bool has_first_row_id;
	int64_t first_row_id;
} mk_mfile;

/* A manifest entry read back from a manifest, with inherited values filled in. */
typedef struct {
	int status;         /* 0 existing, 1 added, 2 deleted */
	int64_t snapshot_id, seq, fseq;
	int content;
	const char *path;
	const char *format;
	int64_t record_count, file_size;
	int npart;
	mk_pval part[MK_MAX_PFIELDS];
	const char *ref_file;   /* NULL when absent */
	bool has_offset;
	int64_t content_offset, content_size;
	bool has_first_row_id;
	int64_t first_row_id;
	avro_value_t df;        /* the data_file record (valid until next read) */
} mk_entry;

/* A new file to add to a manifest. */
typedef struct {
	int content;
	const char *path;
	const char *format;     /* "PARQUET", "PUFFIN" */
	const mk_pval *part;
	int64_t record_count, file_size;
	bool stats;
	const int *eq_ids;
	int n_eq;
	const char *ref_file;
	bool has_offset;
	int64_t content_offset, content_size;
	uint64_t seed;          /* drives the generated statistics */
} mk_newfile;

typedef struct mk_mwriter mk_mwriter;
typedef struct mk_mreader mk_mreader;

/* ---- mk_util.c --------------------------------------------------------- */

void mk_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *mk_strdup(const char *s);
char *mk_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t mk_rand(uint64_t *state);
void mk_uuid(uint64_t *state, char out[37]);
uint64_t mk_time_seed(void);
int64_t mk_now_ms(void);
uint32_t mk_crc32(uint32_t crc, const unsigned char *p, size_t n);
size_t mk_base64_enc(const unsigned char *in, size_t n, char *out);
int mk_base64_dec(const char *in, unsigned char *out, size_t cap, size_t *n);
void mk_url_escape(const char *in, size_t n, char *out, size_t cap);
int mk_url_unescape(const char *in, char *out, size_t cap);
int64_t mk_days_from_civil(int64_t y, int m, int d);
void mk_civil_from_days(int64_t z, int64_t *y, int *m, int *d);
int64_t mk_floor_div(int64_t a, int64_t b);
void mk_json_str(FILE *f, const char *s);
int mk_read_file(const char *path, unsigned char **buf, size_t *len);
int mk_write_atomic(const char *dir, const char *name, const void *buf, size_t len);
bool mk_file_exists(const char *path);
int64_t mk_parse_i64(const char *s, bool *ok);

/* ---- mk_types.c -------------------------------------------------------- */

int mk_type_parse(const char *s, mk_type *t);
void mk_type_str(const mk_type *t, char *buf, size_t cap);
int mk_schema_parse_spec(const char *spec, mk_schema *out);
int mk_schema_from_json(json_t *js, mk_schema *out);
json_t *mk_schema_to_json(const mk_schema *s);
void mk_schema_free(mk_schema *s);
int mk_schema_copy(const mk_schema *src, mk_schema *dst);
const mk_col *mk_schema_col(const mk_schema *s, int id);
const mk_col *mk_schema_col_by_name(const mk_schema *s, const char *name);
int mk_spec_parse(const char *spec, const mk_schema *s, int spec_id, int first_field_id, mk_spec *out);
int mk_spec_from_json(json_t *js, const mk_schema *s, mk_spec *out);
json_t *mk_spec_fields_json(const mk_spec *sp);
bool mk_spec_same(const mk_spec *a, const mk_spec *b);
int mk_pval_parse(const mk_pfield *pf, const char *text, mk_pval *v);
int mk_pval_try_parse(const mk_pfield *pf, const char *text, mk_pval *v);
void mk_pval_render(const mk_pfield *pf, const mk_pval *v, char *buf, size_t cap);
size_t mk_pval_serialize(const mk_type *t, const mk_pval *v, unsigned char *out);
int mk_pval_cmp(const mk_type *t, const mk_pval *a, const mk_pval *b);
void mk_partition_path(const mk_spec *sp, const mk_pval *pv, char *buf, size_t cap);
json_t *mk_avro_ptype(const mk_type *t, json_t *seen);
const char *mk_iceberg_ptype(const mk_type *t, char *buf, size_t cap);
int mk_decimal_bytes(int precision);
/* file i of n spread in order over `days` days (24 hours each) from day0 */
void mk_gen_partition(const mk_spec *sp, int64_t day0, int64_t days, int64_t i, int64_t n,
		      mk_pval *pv);
size_t mk_gen_bound(const mk_col *c, const mk_spec *sp, const mk_pval *pv, uint64_t *rng,
		    bool upper, int64_t base, unsigned char *out);

/* ---- mk_avro.c --------------------------------------------------------- */

int mk_mwriter_open(const mk_table *t, const mk_spec *sp, int content, const char *local,
		    const char *uri, int64_t snap_id, int64_t seq, mk_mwriter **out);
int mk_mwriter_add(mk_mwriter *w, const mk_newfile *f);
int mk_mwriter_copy(mk_mwriter *w, const mk_entry *e, int status, int64_t snap_id);
int mk_mwriter_close(mk_mwriter *w, mk_mfile *out);
void mk_mwriter_abort(mk_mwriter *w);
int mk_mreader_open(const mk_table *t, const mk_mfile *mf, mk_mreader **out);
int mk_mreader_next(mk_mreader *r, mk_entry *e);
void mk_mreader_close(mk_mreader *r);
int mk_mlist_read(const mk_table *t, const char *uri, mk_mfile **out, int *n);
int mk_mlist_write(const mk_table *t, const char *local, int64_t snap_id, bool has_parent,
		   int64_t parent_id, int64_t seq, int64_t first_row_id, const mk_mfile *m, int n);
void mk_mfile_free(mk_mfile *m);
void mk_avro_cleanup(void);
void mk_mfiles_free(mk_mfile *m, int n);
int mk_mfile_copy(const mk_mfile *src, mk_mfile *dst);
int mk_gzip(const unsigned char *in, size_t n, unsigned char **out, size_t *outlen);
int mk_gunzip(const unsigned char *in, size_t n, unsigned char **out, size_t *outlen);

/* ---- mk_meta.c --------------------------------------------------------- */

int mk_table_load(const char *dir, mk_table *t);
void mk_table_free(mk_table *t);
char *mk_local_path(const mk_table *t, const char *uri);
char *mk_meta_uri(const mk_table *t, const char *name);
int mk_table_write_version(mk_table *t, json_t *meta, char **local_out);
int mk_sidecar_save(const mk_table *t);
json_t *mk_snapshot_by_id(const mk_table *t, int64_t id);
bool mk_current_snapshot(const mk_table *t, int64_t *id);
int mk_table_parse(mk_table *t);
const mk_spec *mk_table_spec(const mk_table *t, int id);
int64_t mk_next_timestamp(const mk_table *t);
json_t *mk_new_metadata(const mk_table *t, const char *uuid, const mk_schema *s,
			const mk_spec *sp, int64_t ts);
json_t *mk_meta_next(const mk_table *t, int64_t ts);

/* ---- mk_ops.c ---------------------------------------------------------- */

typedef struct {
	const char *cmd;
	const char *dir;
	/* create / recreate */
	int format;
	const char *location, *schema, *partition, *uuid;
	int hint, naming;   /* -1 = unset */
	bool gzip, have_seed;
	bool nullable_manifests, restart_versions;
	uint64_t seed;
	/* commits */
	int64_t files;      /* -1 = unset */
	int64_t rows;       /* -1 = unset */
	int64_t manifests;
	int64_t days;       /* append: days the files spread over (default 4) */
	int64_t add;        /* -1 = unset */
	bool stats;
	const char *op;
	const char **pvals;
	int npvals;
	const char **paths;
	int npaths;
	const char *target;
	bool no_reference;
	const char *eq_ids;
	int64_t to;
	bool have_to;
	int64_t keep;
	const char *add_column;
	int64_t snapshot;
	bool have_snapshot;
} mk_opts;

int mk_cmd_create(const mk_opts *o, bool recreate);
int mk_cmd_append(const mk_opts *o);
int mk_cmd_delete(const mk_opts *o, bool overwrite);
int mk_cmd_replace(const mk_opts *o);
int mk_cmd_rowdelete(const mk_opts *o, int kind);
int mk_cmd_rollback(const mk_opts *o);
int mk_cmd_expire(const mk_opts *o);
int mk_cmd_evolve_spec(const mk_opts *o);
int mk_cmd_evolve_schema(const mk_opts *o);
int mk_cmd_list(const mk_opts *o);
int mk_cmd_unsigned_ids(const mk_opts *o);

#endif
