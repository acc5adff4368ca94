/* ice-mktable: the commands (create, append, delete, overwrite, replace,
 * row-level deletes, rollback, expire, spec/schema evolution, recreate, list). */
#include "mk_commit.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_SCHEMA "id:long,day:date,category:string,ts:timestamp"
#define DAY_2024_01_01 19723
#define MAX_KEPT_PARTS 1024

/* ---- create / recreate ---------------------------------------------------- */

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return (mkdir(buf, 0755) != 0 && errno != EEXIST) ? -1 : 0;
}

static int init_new_table(const mk_opts *o, mk_table *t)
{
	char real[PATH_MAX];
	char *meta = mk_printf("%s/metadata", o->dir);
	int rc = -1;

	if (mkdir_p(meta) != 0) {
		mk_err("cannot create %s: %s", meta, strerror(errno));
		goto out;
	}
	if (!realpath(o->dir, real)) {
		mk_err("cannot resolve %s: %s", o->dir, strerror(errno));
		goto out;
	}
	t->dir = mk_strdup(real);
	t->metadir = mk_printf("%s/metadata", real);
	t->format = 2;
	t->naming = NAMING_V;
	t->hint = HINT_NUMBER;
	t->rng = mk_time_seed();
	t->location = mk_strdup(real);
	rc = 0;
out:
	free(meta);
	return rc;
}

static bool has_metadata(const char *metadir)
{
	DIR *d = opendir(metadir);
	struct dirent *de;
	bool found = false;
	size_t sl = strlen(".metadata.json");

	while (d && !found && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		found = n > sl && strcmp(de->d_name + n - sl, ".metadata.json") == 0;
	}
	if (d)
		closedir(d);
	return found;
}

/* spec string of an existing spec, to re-derive it against a new schema */
static void spec_string(const mk_table *t, const mk_spec *sp, char *buf, size_t cap)
{
	static const char *const xn[] = {"identity", "bucket", "truncate", "year",
					 "month", "day", "hour", "void"};
	size_t o = 0;

	buf[0] = '\0';
	for (int k = 0; k < sp->nf && o + 1 < cap; k++) {
		const mk_col *c = mk_schema_col(&t->schema, sp->f[k].source_id);
		const mk_pfield *pf = &sp->f[k];
		if (pf->xf == X_BUCKET || pf->xf == X_TRUNCATE)
			o += (size_t)snprintf(buf + o, cap - o, "%s%s[%d](%s)", k ? "," : "",
					      xn[pf->xf], pf->param, c ? c->name : "?");
		else
			o += (size_t)snprintf(buf + o, cap - o, "%s%s(%s)", k ? "," : "", xn[pf->xf],
					      c ? c->name : "?");
	}
}

static int create_schema_spec(const mk_opts *o, const mk_table *old, mk_schema *s, mk_spec *sp)
{
	char specbuf[4096];
	const char *spec = o->partition;

	memset(sp, 0, sizeof(*sp));
	if (o->schema) {
		if (mk_schema_parse_spec(o->schema, s) != 0)
			return -1;
	} else if (old) {
		if (mk_schema_copy(&old->schema, s) != 0)
			return -1;
	} else if (mk_schema_parse_spec(DEFAULT_SCHEMA, s) != 0) {
		return -1;
	}
	s->id = 0;
	if (!spec && old) {
		spec_string(old, mk_table_spec(old, old->default_spec), specbuf, sizeof(specbuf));
		spec = specbuf;
	}
	if (spec && *spec)
		return mk_spec_parse(spec, s, 0, 1000, sp);
	return 0;
}

static bool valid_uuid(const char *u)
{
	if (strlen(u) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? u[i] != '-' : !isxdigit((unsigned char)u[i]))
			return false;
	}
	return true;
}

int mk_cmd_create(const mk_opts *o, bool recreate)
{
	mk_table t;
	mk_schema s = {0};
	mk_spec sp;
	char uuid[37];
	char *local = NULL;
	int rc = 1;

	memset(&t, 0, sizeof(t));
	if (o->uuid && !valid_uuid(o->uuid)) {
		mk_err("bad --uuid '%s' (expected 8-4-4-4-12 hex digits)", o->uuid);
		return 1;
	}
	if (recreate) {
		if (mk_table_load(o->dir, &t) != 0 ||
		    create_schema_spec(o, &t, &s, &sp) != 0)
			goto out;
	} else {
		/* validate everything before touching the file system */
		if (create_schema_spec(o, NULL, &s, &sp) != 0 || init_new_table(o, &t) != 0)
			goto out;
		if (has_metadata(t.metadir)) {
			mk_err("%s already holds a table (use recreate)", o->dir);
			goto out;
		}
	}
	if (o->format)
		t.format = o->format;
	if (o->location) {
		free(t.location);
		t.location = mk_strdup(o->location);
		while (strlen(t.location) > 1 && t.location[strlen(t.location) - 1] == '/')
			t.location[strlen(t.location) - 1] = '\0';
	}
	if (o->naming >= 0)
		t.naming = (enum mk_naming)o->naming;
	if (o->hint >= 0)
		t.hint = (enum mk_hint)o->hint;
	if (o->gzip)
		t.gzip = true;
	if (o->nullable_manifests)
		t.nullable_manifests = true;
	if (recreate) {
		/* A new table forgets the old one's id trick; numbering restarts
		 * only on request (a writer that lost count: v1 again). */
		t.unsigned_ids = false;
		t.restarted = o->restart_versions;
		if (o->restart_versions)
			t.version = 0;
	}
	if (o->have_seed) {
		t.rng = o->seed;
		t.seeded = true;
	}
	if (o->uuid)
		snprintf(uuid, sizeof(uuid), "%s", o->uuid);
	else
		mk_uuid(&t.rng, uuid);
	if (mk_table_write_version(&t, mk_new_metadata(&t, uuid, &s, &sp, mk_next_timestamp(&t)),
				   &local) != 0)
		goto out;
	fputs("{\"kind\":\"create\",\"table_uuid\":", stdout);
	mk_json_str(stdout, uuid);
	fputs(",\"metadata_file\":", stdout);
	mk_json_str(stdout, local);
	fputs("}\n", stdout);
	rc = mk_sidecar_save(&t) == 0 ? 0 : 1;
out:
	free(local);
	mk_schema_free(&s);
	mk_table_free(&t);
	return rc;
}

/* ---- helpers for new files -------------------------------------------------- */

static int64_t snapshot_count(const mk_table *t)
{
	return (int64_t)json_array_size(json_object_get(t->meta, "snapshots"));
}

static int64_t pick_rows(const mk_opts *o, uint64_t *rng)
{
	if (o->rows >= 0)
		return o->rows;
	return 200000 + (int64_t)(mk_rand(rng) % 3800000);
}

/* roughly 3-7 bytes per value, as compressed parquet */
static int64_t pick_size(const mk_table *t, uint64_t *rng, int64_t rows)
{
	return rows * t->schema.ncols * (3 + (int64_t)(mk_rand(rng) % 5)) + 4096 +
	       (int64_t)(mk_rand(rng) % 100000);
}

static int add_data_file(mk_commit *c, const mk_spec *sp, mk_mwriter *w, const mk_pval *pv,
			 int64_t n, uint64_t *rng, int64_t rows, int64_t size, bool stats)
{
	mk_newfile f;
	int rc;

	memset(&f, 0, sizeof(f));
	f.content = 0;
	f.seed = mk_rand(rng);
	f.path = mk_commit_data_path(c, sp, pv, n, mk_rand(rng), ".parquet");
	f.format = "PARQUET";
	f.part = pv;
	f.record_count = rows;
	f.file_size = size;
	f.stats = stats;
	rc = mk_commit_add_file(c, sp, w, &f);
	free((char *)f.path);
	return rc;
}

/* ---- append ------------------------------------------------------------------ */

/* manifest k of an append: files [k*n/m, (k+1)*n/m) */
int mk_append_manifest(mk_append_job *j, int64_t k)
{
	mk_commit *c = j->c;
	const mk_spec *sp = j->sp;
	uint64_t rng = j->bases[k];
	mk_pval pv[MK_MAX_PFIELDS];
	mk_mwriter *w;

	c->mnum = (int)k;
	if (mk_commit_open_manifest(c, sp, 0, &w) != 0)
		return -1;
	for (int64_t i = k * j->n / j->m; i < (k + 1) * j->n / j->m; i++) {
		int64_t rows = pick_rows(j->o, &rng);
		mk_gen_partition(sp, j->day0, j->days, i, j->n, pv);
		for (int f = 0; f < sp->nf; f++)
			if (j->given[f])
				pv[f] = j->fixed[f];
		if (add_data_file(c, sp, w, pv, i, &rng, rows, pick_size(c->t, &rng, rows),
				  j->o->stats) != 0) {
			mk_mwriter_abort(w);
			return -1;
		}
	}
	return mk_commit_close_manifest(c, w);
}

int mk_cmd_append(const mk_opts *o)
{
	mk_table t;
	mk_commit c;
	mk_pfilter *filters = NULL;
	mk_pval fixed[MK_MAX_PFIELDS];
	bool given[MK_MAX_PFIELDS] = {false};
	uint64_t *bases = NULL;
	mk_append_job j;
	int64_t n = o->files >= 0 ? o->files : 1, m = o->manifests > 0 ? o->manifests : 1;
	int rc = 1, jobs;

	memset(&c, 0, sizeof(c));
	if (mk_table_load(o->dir, &t) != 0)
		return 1;
	if (o->have_seed) {
		t.rng = o->seed;
		t.seeded = true;
	}
	if (m > n)
		m = n;
	memset(&j, 0, sizeof(j));
	j.sp = mk_table_spec(&t, t.default_spec);
	if (mk_parse_filters(o->pvals, o->npvals, &filters) != 0 ||
	    mk_pvals_apply(j.sp, filters, o->npvals, fixed, given) != 0)
		goto out;
	if (mk_commit_begin(&c, &t, o->op ? o->op : "append") != 0)
		goto out;
	c.keep_empty = true;
	bases = malloc((size_t)m * sizeof(uint64_t));
	if (!bases)
		goto out;
	for (int64_t k = 0; k < m; k++)
		bases[k] = mk_rand(&t.rng);
	j.c = &c;
	j.o = o;
	j.fixed = fixed;
	j.given = given;
	j.n = n;
	j.m = m;
	j.day0 = DAY_2024_01_01 + snapshot_count(&t);
	j.days = o->days > 0 ? o->days : 4;
	j.bases = bases;
	jobs = mk_par_jobs(n, m);
	if (jobs > 1) {
		if (mk_par_append(&j, jobs) != 0)
			goto out;
	} else {
		for (int64_t k = 0; k < m; k++)
			if (mk_append_manifest(&j, k) != 0)
				goto out;
	}
	rc = mk_commit_finish(&c) == 0 ? 0 : 1;
out:
	free(bases);
	free(filters);
	mk_commit_free(&c);
	mk_table_free(&t);
	return rc;
}

/* ---- delete / overwrite --------------------------------------------------------- */

typedef struct {
	int spec_id;
	mk_pval pv[MK_MAX_PFIELDS];
} kept_part;

typedef struct {
	kept_part *parts;
	int n;
} kept_parts;

static void keep_part(void *ctx, const mk_spec *sp, const mk_entry *e)
{
	kept_parts *k = ctx;

	if (k->n >= MAX_KEPT_PARTS)
		return;
	k->parts[k->n].spec_id = sp->id;
	memcpy(k->parts[k->n].pv, e->part, (size_t)sp->nf * sizeof(mk_pval));
	k->n++;
}

static int setup_match(const mk_opts *o, mk_match *m, mk_pfilter **filters)
{
	memset(m, 0, sizeof(*m));
	*filters = NULL;
	if (o->npaths) {
		m->mode = MM_PATHS;
		m->paths = o->paths;
		m->npaths = o->npaths;
		m->found = calloc((size_t)o->npaths, sizeof(bool));
		return m->found ? 0 : -1;
	}
	if (o->files >= 0) {
		m->mode = MM_FIRST_N;
		m->budget = o->files;
		return 0;
	}
	m->mode = MM_PARTITION;
	if (mk_parse_filters(o->pvals, o->npvals, filters) != 0)
		return -1;
	m->filters = *filters;
	m->nfilters = o->npvals;
	return 0;
}

static int add_overwrite_files(mk_commit *c, const mk_opts *o, const kept_parts *kp,
			       int64_t count)
{
	mk_table *t = c->t;
	const mk_spec *sp = mk_table_spec(t, t->default_spec);
	mk_pval pv[MK_MAX_PFIELDS];
	int64_t day0 = DAY_2024_01_01 + snapshot_count(t);
	mk_mwriter *w;

	if (count <= 0)
		return 0;
	if (mk_commit_open_manifest(c, sp, 0, &w) != 0)
		return -1;
	for (int64_t j = 0; j < count; j++) {
		const kept_part *p = kp->n ? &kp->parts[j % kp->n] : NULL;
		int64_t rows = pick_rows(o, &t->rng);
		if (p && p->spec_id == sp->id)
			memcpy(pv, p->pv, sizeof(pv));
		else
			mk_gen_partition(sp, day0, 4, j, count, pv);
		if (add_data_file(c, sp, w, pv, c->fnum++, &t->rng, rows,
				  pick_size(t, &t->rng, rows), o->stats) != 0) {
			mk_mwriter_abort(w);
			return -1;
		}
	}
	return mk_commit_close_manifest(c, w);
}

int mk_cmd_delete(const mk_opts *o, bool overwrite)
{
	mk_table t;
	mk_commit c;
	mk_match m;
	mk_pfilter *filters = NULL;
	kept_parts kp = {calloc(MAX_KEPT_PARTS, sizeof(kept_part)), 0};
	int64_t removed = 0;
	int rc = 1;

	memset(&c, 0, sizeof(c));
	memset(&m, 0, sizeof(m));
	if (!kp.parts || mk_table_load(o->dir, &t) != 0) {
		free(kp.parts);
		return 1;
	}
	if (o->have_seed) {
		t.rng = o->seed;
		t.seeded = true;
	}
	if (setup_match(o, &m, &filters) != 0)
		goto out;
	m.on_remove = keep_part;
	m.ctx = &kp;
	if (mk_commit_begin(&c, &t, overwrite ? "overwrite" : "delete") != 0)
		goto out;
	if (mk_commit_rewrite(&c, &m, 0, &removed) != 0)
		goto out;
	for (int k = 0; k < m.npaths; k++) {
		if (!m.found[k]) {
			mk_err("no live data file %s in the current snapshot", m.paths[k]);
			goto out;
		}
	}
	if (removed == 0) {
		mk_err("no live data files matched");
		goto out;
	}
	if (overwrite && add_overwrite_files(&c, o, &kp, o->add >= 0 ? o->add : removed) != 0)
		goto out;
	rc = mk_commit_finish(&c) == 0 ? 0 : 1;
out:
	free(m.found);
	free(filters);
	free(kp.parts);
	mk_commit_free(&c);
	mk_table_free(&t);
	return rc;
}

/* ---- replace (compaction) -------------------------------------------------------- */

typedef struct {
	int spec_id;
	mk_pval pv[MK_MAX_PFIELDS];
	int64_t rows, size;
	uint64_t key;
} group;

typedef struct {
	group *g;
	int n, cap;
	mk_hset seen;
} groups;

static uint64_t group_key(const mk_spec *sp, const mk_pval *pv)
{
	uint64_t h = mk_hash(&sp->id, sizeof(sp->id), 0);

	for (int k = 0; k < sp->nf; k++) {
		h = mk_hash(&pv[k].null, sizeof(pv[k].null), h);
		if (!pv[k].null) {
			h = mk_hash(&pv[k].i, sizeof(pv[k].i), h);
			h = mk_hash(&pv[k].d, sizeof(pv[k].d), h);
			h = mk_hash(pv[k].b, pv[k].len, h);
		}
	}
	return h;
}

static int group_add(groups *gs, const mk_spec *sp, const mk_entry *e)
{
	uint64_t key = group_key(sp, e->part);
	group *g = NULL;

	if (mk_hset_has(&gs->seen, key)) {
		for (int i = gs->n - 1; i >= 0; i--)
			if (gs->g[i].key == key) {
				g = &gs->g[i];
				break;
			}
	}
	if (!g) {
		if (gs->n == gs->cap) {
			int nc = gs->cap ? gs->cap * 2 : 16;
			group *ng = realloc(gs->g, (size_t)nc * sizeof(group));
			if (!ng)
				return -1;
			gs->g = ng;
			gs->cap = nc;
		}
		g = &gs->g[gs->n++];
		memset(g, 0, sizeof(*g));
		g->spec_id = sp->id;
		g->key = key;
		memcpy(g->pv, e->part, (size_t)sp->nf * sizeof(mk_pval));
		mk_hset_add(&gs->seen, key);
	}
	g->rows += e->record_count;
	g->size += e->file_size;
	return 0;
}

static int collect_groups(mk_commit *c, mk_pfilter *f, int nf, groups *gs)
{
	for (int i = 0; i < c->nold; i++) {
		const mk_mfile *mf = &c->old[i];
		const mk_spec *sp = mk_table_spec(c->t, mf->spec_id);
		mk_mreader *r;
		mk_entry e;

		if (mf->content != 0 || mf->added_files + mf->existing_files == 0)
			continue;
		if (mk_mreader_open(c->t, mf, &r) != 0)
			return -1;
		while (mk_mreader_next(r, &e) == 1) {
			if (e.status == 2 || e.content != 0 || !mk_filter_match(sp, e.part, f, nf))
				continue;
			if (group_add(gs, sp, &e) != 0) {
				mk_mreader_close(r);
				return -1;
			}
		}
		mk_mreader_close(r);
	}
	return 0;
}

static int write_groups(mk_commit *c, const groups *gs, bool stats)
{
	for (int s = 0; s < c->t->nspecs; s++) {
		const mk_spec *sp = &c->t->specs[s];
		mk_mwriter *w = NULL;
		for (int i = 0; i < gs->n; i++) {
			if (gs->g[i].spec_id != sp->id)
				continue;
			if (!w && mk_commit_open_manifest(c, sp, 0, &w) != 0)
				return -1;
			if (add_data_file(c, sp, w, gs->g[i].pv, c->fnum++, &c->t->rng, gs->g[i].rows,
					  gs->g[i].size * 9 / 10 + 1, stats) != 0) {
				mk_mwriter_abort(w);
				return -1;
			}
		}
		if (w && mk_commit_close_manifest(c, w) != 0)
			return -1;
	}
	return 0;
}

int mk_cmd_replace(const mk_opts *o)
{
	mk_table t;
	mk_commit c;
	mk_match m;
	mk_pfilter *filters = NULL;
	groups gs;
	int64_t removed = 0;
	int rc = 1;

	memset(&c, 0, sizeof(c));
	memset(&gs, 0, sizeof(gs));
	if (mk_table_load(o->dir, &t) != 0)
		return 1;
	if (o->have_seed) {
		t.rng = o->seed;
		t.seeded = true;
	}
	if (mk_parse_filters(o->pvals, o->npvals, &filters) != 0)
		goto out;
	if (mk_commit_begin(&c, &t, "replace") != 0)
		goto out;
	if (collect_groups(&c, filters, o->npvals, &gs) != 0)
		goto out;
	if (gs.n == 0) {
		mk_err("no live data files to replace");
		goto out;
	}
	memset(&m, 0, sizeof(m));
	m.mode = MM_PARTITION;
	m.filters = filters;
	m.nfilters = o->npvals;
	if (mk_commit_rewrite(&c, &m, 0, &removed) != 0 || write_groups(&c, &gs, o->stats) != 0)
		goto out;
	rc = mk_commit_finish(&c) == 0 ? 0 : 1;
out:
	free(gs.g);
	mk_hset_free(&gs.seen);
	free(filters);
	mk_commit_free(&c);
	mk_table_free(&t);
	return rc;
}

/* ---- row-level deletes ------------------------------------------------------------ */

static int parse_eq_ids(const mk_table *t, const char *s, int *ids, int *n)
{
	*n = 0;
	if (!s) {
		ids[(*n)++] = t->schema.cols[0].id;
		return 0;
	}
	while (*s) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s || *n >= 64 || !mk_schema_col(&t->schema, (int)v)) {
			mk_err("bad equality field ids '%s'", s);
			return -1;
		}
		ids[(*n)++] = (int)v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',') {
			mk_err("bad equality field ids");
			return -1;
		}
	}
	return *n ? 0 : -1;
}

/* spec and partition values of the delete file to write */
static int delete_partition(const mk_opts *o, mk_table *t, int kind, mk_spec *sp, mk_pval *pv)
{
	int r;

	if (kind != 2) {
		r = mk_find_live(t, o->target, sp, pv);
		if (r > 0)
			mk_err("no live data file %s in the current snapshot", o->target);
		return r == 0 ? 0 : -1;
	}
	if (o->npvals) {
		mk_pfilter *f = NULL;
		bool given[MK_MAX_PFIELDS] = {false};
		*sp = *mk_table_spec(t, t->default_spec);
		if (mk_parse_filters(o->pvals, o->npvals, &f) != 0)
			return -1;
		r = mk_pvals_apply(sp, f, o->npvals, pv, given);
		free(f);
		for (int k = 0; r == 0 && k < sp->nf; k++) {
			if (!given[k]) {
				mk_err("missing --partition-value for field '%s'", sp->f[k].name);
				r = -1;
			}
		}
		return r;
	}
	r = mk_first_live(t, sp, pv);
	if (r > 0 && mk_table_spec(t, t->default_spec)->nf == 0) {
		*sp = *mk_table_spec(t, t->default_spec);
		return 0;
	}
	if (r > 0)
		mk_err("no live data file to take a partition from; give --partition-value");
	return r == 0 ? 0 : -1;
}

static int write_delete_file(mk_commit *c, const mk_opts *o, int kind, const mk_spec *sp,
			     const mk_pval *pv, const int *eq_ids, int n_eq)
{
	mk_table *t = c->t;
	mk_mwriter *w;
	mk_newfile f;
	int rc;

	memset(&f, 0, sizeof(f));
	f.part = pv;
	f.seed = mk_rand(&t->rng);
	f.record_count = 1 + (int64_t)(mk_rand(&t->rng) % 16);
	if (kind == 3) {
		f.content = 1;
		f.format = "PUFFIN";
		f.path = mk_printf("%s/data/%s-%lld.puffin", t->location, c->uuid,
				   (long long)c->fnum++);
		f.has_offset = true;
		f.content_offset = 4;
		f.content_size = 40 + f.record_count * 2;
		f.file_size = 4 + f.content_size + 180;
		f.ref_file = o->target;
	} else {
		f.content = kind;
		f.format = "PARQUET";
		f.path = mk_commit_data_path(c, sp, pv, c->fnum++, mk_rand(&t->rng),
					     kind == 1 ? "-deletes.parquet" : "-eq-deletes.parquet");
		f.file_size = 1200 + (int64_t)(mk_rand(&t->rng) % 800);
		f.ref_file = (kind == 1 && !o->no_reference) ? o->target : NULL;
		f.eq_ids = kind == 2 ? eq_ids : NULL;
		f.n_eq = kind == 2 ? n_eq : 0;
	}
	if (mk_commit_open_manifest(c, sp, 1, &w) != 0) {
		free((char *)f.path);
		return -1;
	}
	rc = mk_commit_add_file(c, sp, w, &f);
	free((char *)f.path);
	if (rc != 0) {
		mk_mwriter_abort(w);
		return -1;
	}
	return mk_commit_close_manifest(c, w);
}

/* kind: 1 position delete, 2 equality delete, 3 deletion vector */
int mk_cmd_rowdelete(const mk_opts *o, int kind)
{
	mk_table t;
	mk_commit c;
	mk_spec sp;
	mk_pval pv[MK_MAX_PFIELDS];
	int eq_ids[64], n_eq = 0, rc = 1;
	int64_t removed;

	memset(&c, 0, sizeof(c));
	if (mk_table_load(o->dir, &t) != 0)
		return 1;
	if (o->have_seed) {
		t.rng = o->seed;
		t.seeded = true;
	}
	if (kind == 3 && t.format < 3) {
		mk_err("deletion vectors need format version 3 (table is v%d)", t.format);
		goto out;
	}
	if (t.format < 2) {
		mk_err("row-level deletes need format version 2 or later (table is v1)");
		goto out;
	}
	if (kind == 2 && parse_eq_ids(&t, o->eq_ids, eq_ids, &n_eq) != 0)
		goto out;
	if (delete_partition(o, &t, kind, &sp, pv) != 0)
		goto out;
	if (mk_commit_begin(&c, &t, "delete") != 0)
		goto out;
	if (kind == 3) {
		/* a newer deletion vector replaces the previous one of the file */
		mk_match m;
		memset(&m, 0, sizeof(m));
		m.mode = MM_DV_FOR;
		m.target = o->target;
		if (mk_commit_rewrite(&c, &m, 1, &removed) != 0)
			goto out;
	}
	if (write_delete_file(&c, o, kind, &sp, pv, eq_ids, n_eq) != 0)
		goto out;
	rc = mk_commit_finish(&c) == 0 ? 0 : 1;
out:
	mk_commit_free(&c);
	mk_table_free(&t);
	return rc;
}

/* ---- metadata-only commits ------------------------------------------------------- */

static int64_t snap_seq(json_t *snap)
{
	return json_integer_value(json_object_get(snap, "sequence-number"));
}

static void print_meta_commit(const mk_table *t, const char *op, const char *local,
			      json_t *extra)
{
	int64_t cur = 0;
	bool has = mk_current_snapshot(t, &cur);
	json_t *snap = has ? mk_snapshot_by_id(t, cur) : NULL;
	json_t *parent = json_object_get(snap, "parent-snapshot-id");

	mk_print_commit(op, has, cur, json_is_integer(parent), json_integer_value(parent),
			snap ? snap_seq(snap) : 0, local, NULL, NULL, extra);
}

int mk_cmd_rollback(const mk_opts *o)
{
	mk_table t;
	json_t *meta;
	char *local = NULL;
	int64_t ts;
	int rc = 1;

	if (mk_table_load(o->dir, &t) != 0)
		return 1;
	if (!mk_snapshot_by_id(&t, o->to)) {
		mk_err("snapshot %lld not found", (long long)o->to);
		goto out;
	}
	ts = mk_next_timestamp(&t);
	meta = mk_meta_next(&t, ts);
	json_object_set_new(meta, "current-snapshot-id", json_integer(o->to));
	json_object_set_new(meta, "refs", json_pack("{s:{s:I,s:s}}", "main", "snapshot-id",
						    (json_int_t)o->to, "type", "branch"));
	json_array_append_new(json_object_get(meta, "snapshot-log"),
			      json_pack("{s:I,s:I}", "timestamp-ms", (json_int_t)ts, "snapshot-id",
					(json_int_t)o->to));
	if (mk_table_write_version(&t, meta, &local) != 0)
		goto out;
	print_meta_commit(&t, "rollback", local, NULL);
	rc = mk_sidecar_save(&t) == 0 ? 0 : 1;
out:
	free(local);
	mk_table_free(&t);
	return rc;
}

/* ---- expire ------------------------------------------------------------------------ */

static int manifest_set(mk_table *t, json_t *snap, mk_hset *set)
{
	const char *ml = json_string_value(json_object_get(snap, "manifest-list"));
	mk_mfile *ms = NULL;
	int n = 0;

	if (!ml || mk_mlist_read(t, ml, &ms, &n) != 0)
		return -1;
	for (int i = 0; i < n; i++)
		mk_hset_add(set, mk_hash(ms[i].path, strlen(ms[i].path), 0));
	mk_mfiles_free(ms, n);
	return 0;
}

static void remove_expired_files(mk_table *t, json_t *snap, const mk_hset *kept)
{
	const char *ml = json_string_value(json_object_get(snap, "manifest-list"));
	mk_mfile *ms = NULL;
	int n = 0;
	char *local;

	if (!ml)
		return;
	local = mk_local_path(t, ml);
	if (mk_file_exists(local) && mk_mlist_read(t, ml, &ms, &n) == 0) {
		for (int i = 0; i < n; i++) {
			char *p;
			if (mk_hset_has(kept, mk_hash(ms[i].path, strlen(ms[i].path), 0)))
				continue;
			p = mk_local_path(t, ms[i].path);
			unlink(p);
			free(p);
		}
		mk_mfiles_free(ms, n);
	}
	unlink(local);
	free(local);
}

static bool in_list(const int64_t *ids, int n, int64_t id)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

int mk_cmd_expire(const mk_opts *o)
{
	mk_table t;
	int64_t *keep = NULL, cur;
	int nkeep = 0, rc = 1;
	mk_hset kept = {0};
	json_t *snaps, *s, *meta = NULL, *nsnaps, *nlog, *expired_ids = json_array(), *expired;
	char *local = NULL;
	size_t i;

	if (mk_table_load(o->dir, &t) != 0) {
		json_decref(expired_ids);
		return 1;
	}
	snaps = json_object_get(t.meta, "snapshots");
	keep = calloc(json_array_size(snaps) + 1, sizeof(int64_t));
	if (!keep)
		goto out;
	for (bool has = mk_current_snapshot(&t, &cur); has && nkeep < o->keep;) {
		json_t *sn = mk_snapshot_by_id(&t, cur), *p;
		if (!sn)
			break;
		keep[nkeep++] = cur;
		p = json_object_get(sn, "parent-snapshot-id");
		has = json_is_integer(p);
		cur = json_integer_value(p);
	}
	for (int k = 0; k < nkeep; k++)
		if (manifest_set(&t, mk_snapshot_by_id(&t, keep[k]), &kept) != 0)
			goto out;
	expired = json_array();
	nsnaps = json_array();
	json_array_foreach(snaps, i, s) {
		int64_t id = json_integer_value(json_object_get(s, "snapshot-id"));
		json_array_append(in_list(keep, nkeep, id) ? nsnaps : expired, s);
		if (!in_list(keep, nkeep, id))
			json_array_append_new(expired_ids, json_integer(id));
	}
	if (json_array_size(expired) == 0) {
		char *cur_local = mk_printf("%s/%s", t.metadir, t.meta_name);
		json_decref(nsnaps);
		json_decref(expired);
		print_meta_commit(&t, "expire", cur_local,
				  json_pack("{s:O}", "expired_snapshot_ids", expired_ids));
		free(cur_local);
		rc = 0;
		goto out;
	}
	meta = mk_meta_next(&t, mk_next_timestamp(&t));
	json_object_set_new(meta, "snapshots", nsnaps);
	nlog = json_array();
	json_array_foreach(json_object_get(meta, "snapshot-log"), i, s)
		if (in_list(keep, nkeep, json_integer_value(json_object_get(s, "snapshot-id"))))
			json_array_append(nlog, s);
	json_object_set_new(meta, "snapshot-log", nlog);
	json_array_foreach(expired, i, s)
		json_incref(s);
	if (mk_table_write_version(&t, meta, &local) != 0) {
		json_decref(expired);
		goto out;
	}
	json_array_foreach(expired, i, s) {
		remove_expired_files(&t, s, &kept);
		json_decref(s);
	}
	json_decref(expired);
	print_meta_commit(&t, "expire", local,
			  json_pack("{s:O}", "expired_snapshot_ids", expired_ids));
	rc = mk_sidecar_save(&t) == 0 ? 0 : 1;
out:
	json_decref(expired_ids);
	mk_hset_free(&kept);
	free(keep);
	free(local);
	mk_table_free(&t);
	return rc;
}

/* ---- schema and spec evolution ----------------------------------------------------- */

static int max_id(json_t *arr, const char *key)
{
	json_t *v;
	size_t i;
	int m = -1;

	json_array_foreach(arr, i, v)
		if ((int)json_integer_value(json_object_get(v, key)) > m)
			m = (int)json_integer_value(json_object_get(v, key));
	return m;
}

/* reuse partition field ids of earlier specs for the same source and transform */
static void assign_field_ids(const mk_table *t, mk_spec *sp, int *last_pid)
{
	for (int k = 0; k < sp->nf; k++) {
		mk_pfield *pf = &sp->f[k];
		int id = -1;
		for (int s = 0; s < t->nspecs && id < 0; s++)
			for (int j = 0; j < t->specs[s].nf; j++) {
				const mk_pfield *o = &t->specs[s].f[j];
				if (o->source_id == pf->source_id && o->xf == pf->xf &&
				    o->param == pf->param) {
					id = o->field_id;
					break;
				}
			}
		pf->field_id = id >= 0 ? id : ++*last_pid;
	}
}

int mk_cmd_evolve_spec(const mk_opts *o)
{
	mk_table t;
	mk_spec sp;
	json_t *meta, *specs;
	char *local = NULL;
	int rc = 1, new_id = -1, last_pid;

	if (mk_table_load(o->dir, &t) != 0)
		return 1;
	specs = json_object_get(t.meta, "partition-specs");
	last_pid = (int)json_integer_value(json_object_get(t.meta, "last-partition-id"));
	if (last_pid < 999)
		last_pid = 999;
	if (mk_spec_parse(o->partition, &t.schema, max_id(specs, "spec-id") + 1, 0, &sp) != 0)
		goto out;
	assign_field_ids(&t, &sp, &last_pid);
	for (int s = 0; s < t.nspecs; s++)
		if (mk_spec_same(&t.specs[s], &sp))
			new_id = t.specs[s].id;
	meta = mk_meta_next(&t, mk_next_timestamp(&t));
	if (new_id < 0) {
		new_id = sp.id;
		json_array_append_new(json_object_get(meta, "partition-specs"),
				      json_pack("{s:i,s:o}", "spec-id", sp.id, "fields",
						mk_spec_fields_json(&sp)));
		json_object_set_new(meta, "last-partition-id", json_integer(last_pid));
	}
	json_object_set_new(meta, "default-spec-id", json_integer(new_id));
	if (t.format == 1) {
		json_t *sj;
		size_t i;
		json_array_foreach(json_object_get(meta, "partition-specs"), i, sj)
			if (json_integer_value(json_object_get(sj, "spec-id")) == new_id)
				json_object_set(meta, "partition-spec", json_object_get(sj, "fields"));
	}
	if (mk_table_write_version(&t, meta, &local) != 0)
		goto out;
	print_meta_commit(&t, "evolve-spec", local, json_pack("{s:i}", "spec_id", new_id));
	rc = mk_sidecar_save(&t) == 0 ? 0 : 1;
out:
	free(local);
	mk_table_free(&t);
	return rc;
}

int mk_cmd_evolve_schema(const mk_opts *o)
{
	mk_table t;
	mk_schema s;
	mk_type ty;
	json_t *meta, *sj;
	char *local = NULL, name[MK_NAME_MAX];
	const char *colon = strchr(o->add_column, ':');
	int rc = 1, col_id;

	if (!colon || colon == o->add_column || (size_t)(colon - o->add_column) >= sizeof(name) ||
	    mk_type_parse(colon + 1, &ty) != 0) {
		mk_err("bad column '%s' (expected name:type)", o->add_column);
		return 1;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(colon - o->add_column), o->add_column);
	if (mk_table_load(o->dir, &t) != 0)
		return 1;
	if (mk_schema_col_by_name(&t.schema, name)) {
		mk_err("column '%s' already exists", name);
		goto out;
	}
	if (mk_schema_copy(&t.schema, &s) != 0)
		goto out;
	col_id = (int)json_integer_value(json_object_get(t.meta, "last-column-id")) + 1;
	s.cols = realloc(s.cols, (size_t)(s.ncols + 1) * sizeof(mk_col));
	if (!s.cols)
		goto out;
	memset(&s.cols[s.ncols], 0, sizeof(mk_col));
	s.cols[s.ncols].id = col_id;
	snprintf(s.cols[s.ncols].name, MK_NAME_MAX, "%s", name);
	s.cols[s.ncols].type = ty;
	s.ncols++;
	s.id = max_id(json_object_get(t.meta, "schemas"), "schema-id") + 1;
	meta = mk_meta_next(&t, mk_next_timestamp(&t));
	sj = mk_schema_to_json(&s);
	json_array_append(json_object_get(meta, "schemas"), sj);
	json_object_set_new(meta, "current-schema-id", json_integer(s.id));
	json_object_set_new(meta, "last-column-id", json_integer(col_id));
	if (t.format == 1)
		json_object_set(meta, "schema", sj);
	json_decref(sj);
	mk_schema_free(&s);
	if (mk_table_write_version(&t, meta, &local) != 0)
		goto out;
	print_meta_commit(&t, "evolve-schema", local,
			  json_pack("{s:i,s:i}", "schema_id", (int)json_integer_value(json_object_get(
							t.meta, "current-schema-id")),
				    "column_id", col_id));
	rc = mk_sidecar_save(&t) == 0 ? 0 : 1;
out:
	free(local);
	mk_table_free(&t);
	return rc;
}

/* ---- list ----------------------------------------------------------------------------- */

static void print_live(const mk_spec *sp, const mk_entry *e, int format)
{
	json_t *line = json_object(), *part = json_object();
	char human[MK_PV_MAX * 2], ppath[4096];
	char *text;

	for (int k = 0; k < sp->nf; k++) {
		mk_pval_render(&sp->f[k], &e->part[k], human, sizeof(human));
		json_object_set_new(part, sp->f[k].name,
				    e->part[k].null ? json_null() : json_string(human));
	}
	mk_partition_path(sp, e->part, ppath, sizeof(ppath));
	json_object_set_new(line, "kind", json_string("live"));
	json_object_set_new(line, "file_path", json_string(e->path));
	json_object_set_new(line, "content", json_integer(e->content));
	json_object_set_new(line, "file_format", json_string(e->format));
	json_object_set_new(line, "partition", part);
	json_object_set_new(line, "partition_path", json_string(ppath));
	json_object_set_new(line, "record_count", json_integer(e->record_count));
	json_object_set_new(line, "file_size_in_bytes", json_integer(e->file_size));
	json_object_set_new(line, "spec_id", json_integer(sp->id));
	json_object_set_new(line, "status", json_integer(e->status));
	json_object_set_new(line, "snapshot_id", json_integer(e->snapshot_id));
	if (format >= 2) {
		json_object_set_new(line, "sequence_number", json_integer(e->seq));
		json_object_set_new(line, "file_sequence_number", json_integer(e->fseq));
	}
	if (e->ref_file)
		json_object_set_new(line, "referenced_data_file", json_string(e->ref_file));
	if (e->has_offset) {
		json_object_set_new(line, "content_offset", json_integer(e->content_offset));
		json_object_set_new(line, "content_size_in_bytes", json_integer(e->content_size));
	}
	if (e->has_first_row_id)
		json_object_set_new(line, "first_row_id", json_integer(e->first_row_id));
	text = json_dumps(line, JSON_COMPACT);
	if (text)
		puts(text);
	free(text);
	json_decref(line);
}

int mk_cmd_list(const mk_opts *o)
{
	mk_table t;
	int64_t id;
	json_t *snap;
	const char *ml;
	mk_mfile *ms = NULL;
	int n = 0, rc = 1;

	if (mk_table_load(o->dir, &t) != 0)
		return 1;
	if (o->have_snapshot) {
		id = o->snapshot;
	} else if (!mk_current_snapshot(&t, &id)) {
		rc = 0;
		goto out;
	}
	snap = mk_snapshot_by_id(&t, id);
	ml = json_string_value(json_object_get(snap, "manifest-list"));
	if (!snap || !ml) {
		mk_err("snapshot %lld not found (or without manifest list)", (long long)id);
		goto out;
	}
	if (mk_mlist_read(&t, ml, &ms, &n) != 0)
		goto out;
	for (int i = 0; i < n; i++) {
		mk_mreader *r;
		mk_entry e;
		const mk_spec *sp = mk_table_spec(&t, ms[i].spec_id);
		if (mk_mreader_open(&t, &ms[i], &r) != 0)
			goto out;
		while (mk_mreader_next(r, &e) == 1)
			if (e.status != 2)
				print_live(sp, &e, t.format);
		mk_mreader_close(r);
	}
	rc = 0;
out:
	mk_mfiles_free(ms, n);
	mk_table_free(&t);
	return rc;
}

/* ---- unsigned-ids ------------------------------------------------------------ */

/* A new metadata version whose snapshot ids (and the parent, current, ref
 * and log ids naming them) are written as id + 2^63: unsigned 64-bit
 * values beyond Iceberg's long, as some writers store them. The table is
 * then beyond what ice-mktable itself (jansson) can read back. */
int mk_cmd_unsigned_ids(const mk_opts *o)
{
	mk_table t;
	json_t *snaps, *s;
	char *local = NULL;
	size_t i;
	int rc = 1;

	if (mk_table_load(o->dir, &t) != 0)
		return 1;
	t.unsigned_ids = true;
	if (mk_table_write_version(&t, mk_meta_next(&t, mk_next_timestamp(&t)), &local) != 0)
		goto out;
	fputs("{\"kind\":\"unsigned-ids\",\"metadata_file\":", stdout);
	mk_json_str(stdout, local);
	fputs(",\"snapshot_ids\":[", stdout);
	snaps = json_object_get(t.meta, "snapshots");
	json_array_foreach(snaps, i, s)
		printf("%s%llu", i ? "," : "",
		       (unsigned long long)json_integer_value(json_object_get(s, "snapshot-id")) +
			       (1ULL << 63));
	fputs("]}\n", stdout);
	rc = mk_sidecar_save(&t) == 0 ? 0 : 1;
out:
	free(local);
	mk_table_free(&t);
	return rc;
}
