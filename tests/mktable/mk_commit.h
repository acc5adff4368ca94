/* ice-mktable: the commit builder shared by snapshot-producing commands. */
#ifndef ICE_MK_COMMIT_H
#define ICE_MK_COMMIT_H

#include "mktable.h"

/* a set of 64-bit hashes */
typedef struct {
	uint64_t *slots;
	size_t cap, count;
} mk_hset;

uint64_t mk_hash(const void *p, size_t n, uint64_t h);
bool mk_hset_add(mk_hset *s, uint64_t h);
bool mk_hset_has(const mk_hset *s, uint64_t h);
void mk_hset_free(mk_hset *s);

/* one "name=value" partition filter (value as rendered in a path) with a
 * cache of its typed value for the last spec it was matched against */
typedef struct {
	char name[MK_NAME_MAX];
	char value[MK_PV_MAX * 3];
	int cache_spec;     /* -1 = none */
	int cache_field;    /* -1 = field not in that spec */
	bool cache_typed;
	mk_pval cache;
} mk_pfilter;

int mk_parse_filters(const char **pvals, int n, mk_pfilter **out);
bool mk_filter_match(const mk_spec *sp, const mk_pval *pv, mk_pfilter *f, int nf);
int mk_pvals_apply(const mk_spec *sp, const mk_pfilter *f, int nf, mk_pval *pv, bool *given);

enum mk_mmode { MM_FIRST_N, MM_PATHS, MM_PARTITION, MM_DV_FOR };

/* which live entries a rewrite removes */
typedef struct {
	enum mk_mmode mode;
	int64_t budget;
	const char **paths;
	int npaths;
	bool *found;
	mk_pfilter *filters;
	int nfilters;
	const char *target;
	void (*on_remove)(void *ctx, const mk_spec *sp, const mk_entry *e);
	void *ctx;
} mk_match;

enum mk_slot { SLOT_KEEP, SLOT_REPLACED };

typedef struct {
	mk_table *t;
	const char *op;
	int64_t snap_id;
	bool has_parent;
	int64_t parent_id;
	int64_t seq;
	char uuid[37];
	int mnum;
	int64_t fnum;
	mk_mfile *old;
	int nold;
	enum mk_slot *slot;
	mk_mfile *repl;
	mk_mfile *added;
	int nadded;
	FILE *added_paths, *removed_paths;
	int64_t add_data_files, add_records, add_size;
	int64_t del_data_files, del_records, rem_size;
	int64_t add_del_files, add_pos_files, add_eq_files, add_dvs, add_pos_del, add_eq_del;
	int64_t rem_del_files, rem_pos_files, rem_eq_files, rem_dvs, rem_pos_del, rem_eq_del;
	mk_hset parts;
	bool keep_empty;    /* fast append lists old manifests unchanged */
} mk_commit;

int mk_commit_begin(mk_commit *c, mk_table *t, const char *op);
void mk_commit_free(mk_commit *c);
int mk_commit_open_manifest(mk_commit *c, const mk_spec *sp, int content, mk_mwriter **w);
int mk_commit_close_manifest(mk_commit *c, mk_mwriter *w);
int mk_commit_add_file(mk_commit *c, const mk_spec *sp, mk_mwriter *w, mk_newfile *f);
char *mk_commit_data_path(mk_commit *c, const mk_spec *sp, const mk_pval *pv, int64_t n,
			  uint64_t seed, const char *ext);
int mk_commit_rewrite(mk_commit *c, mk_match *m, int content, int64_t *removed);
int mk_find_live(mk_table *t, const char *path, mk_spec *sp, mk_pval *pv);
int mk_first_live(mk_table *t, mk_spec *sp, mk_pval *pv);
int mk_commit_finish(mk_commit *c);
void mk_print_commit(const char *op, bool has_snap, int64_t snap, bool has_parent, int64_t parent,
		     int64_t seq, const char *meta_local, FILE *added, FILE *removed,
		     json_t *extra);
int mk_current_manifests(mk_table *t, mk_mfile **m, int *n);

/* an append's manifests, written by one process or several (mk_par.c) */
typedef struct {
	mk_commit *c;
	const mk_spec *sp;
	const mk_opts *o;
	const mk_pval *fixed;
	const bool *given;
	int64_t n, m, day0, days;
	const uint64_t *bases;  /* one RNG seed per manifest */
} mk_append_job;

int mk_append_manifest(mk_append_job *j, int64_t k);
int mk_par_append(mk_append_job *j, int jobs);
int mk_par_jobs(int64_t files, int64_t manifests);

#endif
