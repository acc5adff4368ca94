/* ice-mktable: the commit builder.  A commit reads the current manifest list,
 * writes new manifests and rewrites the manifests that lose files, then the
 * manifest list, the snapshot with its summary, and a new metadata version. */
#include "mk_commit.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STATUS_EXISTING 0
#define STATUS_DELETED 2

/* ---- hash set -------------------------------------------------------------- */

uint64_t mk_hash(const void *p, size_t n, uint64_t h)
{
	const unsigned char *b = p;

	if (!h)
		h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static bool hset_grow(mk_hset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 64;
	uint64_t *ns = calloc(ncap, sizeof(uint64_t));

	if (!ns)
		return false;
	for (size_t i = 0; i < s->cap; i++) {
		uint64_t h = s->slots[i];
		if (!h)
			continue;
		size_t j = h & (ncap - 1);
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = h;
	}
	free(s->slots);
	s->slots = ns;
	s->cap = ncap;
	return true;
}

bool mk_hset_has(const mk_hset *s, uint64_t h)
{
	if (!h)
		h = 1;
	if (!s->cap)
		return false;
	for (size_t j = h & (s->cap - 1); s->slots[j]; j = (j + 1) & (s->cap - 1))
		if (s->slots[j] == h)
			return true;
	return false;
}

bool mk_hset_add(mk_hset *s, uint64_t h)
{
	size_t j;

	if (!h)
		h = 1;
	if (mk_hset_has(s, h))
		return false;
	if ((s->count + 1) * 2 > s->cap && !hset_grow(s))
		return false;
	for (j = h & (s->cap - 1); s->slots[j]; j = (j + 1) & (s->cap - 1))
		;
	s->slots[j] = h;
	s->count++;
	return true;
}

void mk_hset_free(mk_hset *s)
{
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

/* ---- partition filters ----------------------------------------------------- */

int mk_parse_filters(const char **pvals, int n, mk_pfilter **out)
{
	mk_pfilter *f = calloc((size_t)(n ? n : 1), sizeof(*f));

	if (!f)
		return -1;
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(pvals[i], '=');
		if (!eq || eq == pvals[i] || (size_t)(eq - pvals[i]) >= MK_NAME_MAX ||
		    strlen(eq + 1) >= sizeof(f[i].value)) {
			mk_err("bad partition value '%s' (expected name=value)", pvals[i]);
			free(f);
			return -1;
		}
		memcpy(f[i].name, pvals[i], (size_t)(eq - pvals[i]));
		snprintf(f[i].value, sizeof(f[i].value), "%s", eq + 1);
		f[i].cache_spec = -1;
	}
	*out = f;
	return 0;
}

static int field_index(const mk_spec *sp, const char *name)
{
	for (int k = 0; k < sp->nf; k++)
		if (strcmp(sp->f[k].name, name) == 0)
			return k;
	return -1;
}

static void filter_prepare(const mk_spec *sp, mk_pfilter *f)
{
	if (f->cache_spec == sp->id)
		return;
	f->cache_spec = sp->id;
	f->cache_field = field_index(sp, f->name);
	f->cache_typed = false;
	/* an unparsable value just compares as text */
	if (f->cache_field >= 0)
		f->cache_typed = mk_pval_try_parse(&sp->f[f->cache_field], f->value, &f->cache) == 0;
}

bool mk_filter_match(const mk_spec *sp, const mk_pval *pv, mk_pfilter *f, int nf)
{
	for (int i = 0; i < nf; i++) {
		const mk_pval *v;
		filter_prepare(sp, &f[i]);
		if (f[i].cache_field < 0)
			return false;
		v = &pv[f[i].cache_field];
		if (f[i].cache_typed) {
			if (v->null != f[i].cache.null)
				return false;
			if (!v->null &&
			    mk_pval_cmp(&sp->f[f[i].cache_field].rtype, v, &f[i].cache) != 0)
				return false;
		} else {
			char human[MK_PV_MAX * 2];
			mk_pval_render(&sp->f[f[i].cache_field], v, human, sizeof(human));
			if (strcmp(human, f[i].value) != 0)
				return false;
		}
	}
	return true;
}

/* set the given fields' values in pv; unknown field names are errors */
int mk_pvals_apply(const mk_spec *sp, const mk_pfilter *f, int nf, mk_pval *pv, bool *given)
{
	for (int i = 0; i < nf; i++) {
		int k = field_index(sp, f[i].name);
		if (k < 0) {
			mk_err("partition spec %d has no field '%s'", sp->id, f[i].name);
			return -1;
		}
		if (mk_pval_parse(&sp->f[k], f[i].value, &pv[k]) != 0)
			return -1;
		if (given)
			given[k] = true;
	}
	return 0;
}

/* ---- commit lifecycle ------------------------------------------------------ */

int mk_current_manifests(mk_table *t, mk_mfile **m, int *n)
{
	int64_t cur;
	json_t *snap;
	const char *ml;

	*m = NULL;
	*n = 0;
	if (!mk_current_snapshot(t, &cur))
		return 0;
	snap = mk_snapshot_by_id(t, cur);
	ml = json_string_value(json_object_get(snap, "manifest-list"));
	if (!ml) {
		mk_err("snapshot %lld has no manifest-list (legacy v1 manifests are not supported)",
		       (long long)cur);
		return -1;
	}
	return mk_mlist_read(t, ml, m, n);
}

int mk_commit_begin(mk_commit *c, mk_table *t, const char *op)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->op = op;
	do {
		c->snap_id = (int64_t)(mk_rand(&t->rng) >> 1);
	} while (c->snap_id == 0 || mk_snapshot_by_id(t, c->snap_id));
	mk_uuid(&t->rng, c->uuid);
	c->has_parent = mk_current_snapshot(t, &c->parent_id);
	if (t->format >= 2)
		c->seq = json_integer_value(json_object_get(t->meta, "last-sequence-number")) + 1;
	c->added_paths = tmpfile();
	c->removed_paths = tmpfile();
	if (!c->added_paths || !c->removed_paths) {
		mk_err("cannot create temporary files");
		return -1;
	}
	if (mk_current_manifests(t, &c->old, &c->nold) != 0)
		return -1;
	c->slot = calloc((size_t)c->nold + 1, sizeof(*c->slot));
	c->repl = calloc((size_t)c->nold + 1, sizeof(*c->repl));
	return (c->slot && c->repl) ? 0 : -1;
}

void mk_commit_free(mk_commit *c)
{
	mk_mfiles_free(c->old, c->nold);
	for (int i = 0; i < c->nold && c->repl; i++)
		if (c->slot[i] == SLOT_REPLACED)
			mk_mfile_free(&c->repl[i]);
	free(c->repl);
	free(c->slot);
	mk_mfiles_free(c->added, c->nadded);
	if (c->added_paths)
		fclose(c->added_paths);
	if (c->removed_paths)
		fclose(c->removed_paths);
	mk_hset_free(&c->parts);
	memset(c, 0, sizeof(*c));
}

int mk_commit_open_manifest(mk_commit *c, const mk_spec *sp, int content, mk_mwriter **w)
{
	char *name = mk_printf("%s-m%d.avro", c->uuid, c->mnum++);
	char *local = mk_printf("%s/%s", c->t->metadir, name);
	char *uri = mk_meta_uri(c->t, name);
	int rc = mk_mwriter_open(c->t, sp, content, local, uri, c->snap_id, c->seq, w);

	free(name);
	free(local);
	free(uri);
	return rc;
}

int mk_commit_close_manifest(mk_commit *c, mk_mwriter *w)
{
	mk_mfile m;
	mk_mfile *na;

	if (mk_mwriter_close(w, &m) != 0) {
		mk_mfile_free(&m);
		return -1;
	}
	na = realloc(c->added, (size_t)(c->nadded + 1) * sizeof(*na));
	if (!na) {
		mk_mfile_free(&m);
		return -1;
	}
	c->added = na;
	c->added[c->nadded++] = m;
	return 0;
}

static void note_partition(mk_commit *c, const mk_spec *sp, const mk_pval *pv)
{
	uint64_t h = mk_hash(&sp->id, sizeof(sp->id), 0);

	for (int k = 0; k < sp->nf; k++) {
		h = mk_hash(&pv[k].null, sizeof(pv[k].null), h);
		if (pv[k].null)
			continue;
		h = mk_hash(&pv[k].i, sizeof(pv[k].i), h);
		h = mk_hash(&pv[k].d, sizeof(pv[k].d), h);
		h = mk_hash(pv[k].b, pv[k].len, h);
	}
	mk_hset_add(&c->parts, h);
}

static bool is_puffin(const char *fmt)
{
	return strcasecmp(fmt, "puffin") == 0;
}

int mk_commit_add_file(mk_commit *c, const mk_spec *sp, mk_mwriter *w, mk_newfile *f)
{
	if (mk_mwriter_add(w, f) != 0)
		return -1;
	c->add_size += f->file_size;
	if (f->content == 0) {
		c->add_data_files++;
		c->add_records += f->record_count;
	} else if (f->content == 1) {
		c->add_del_files++;
		c->add_pos_del += f->record_count;
		if (is_puffin(f->format))
			c->add_dvs++;
		else
			c->add_pos_files++;
	} else {
		c->add_del_files++;
		c->add_eq_files++;
		c->add_eq_del += f->record_count;
	}
	note_partition(c, sp, f->part);
	fprintf(c->added_paths, "%s\n", f->path);
	return 0;
}

static void note_removed(mk_commit *c, const mk_spec *sp, const mk_entry *e)
{
	c->rem_size += e->file_size;
	if (e->content == 0) {
		c->del_data_files++;
		c->del_records += e->record_count;
	} else if (e->content == 1) {
		c->rem_del_files++;
		c->rem_pos_del += e->record_count;
		if (is_puffin(e->format))
			c->rem_dvs++;
		else
			c->rem_pos_files++;
	} else {
		c->rem_del_files++;
		c->rem_eq_files++;
		c->rem_eq_del += e->record_count;
	}
	note_partition(c, sp, e->part);
	fprintf(c->removed_paths, "%s\n", e->path);
}

/* LOCATION/data/<partition path>/<nnnnn>-<n>-<uuid><ext>, uuid from seed */
char *mk_commit_data_path(mk_commit *c, const mk_spec *sp, const mk_pval *pv, int64_t n,
			  uint64_t seed, const char *ext)
{
	char ppath[4096], uuid[37];

	mk_uuid(&seed, uuid);
	if (sp->nf == 0)
		return mk_printf("%s/data/%05lld-%lld-%s%s", c->t->location, (long long)(n % 100000),
				 (long long)n, uuid, ext);
	mk_partition_path(sp, pv, ppath, sizeof(ppath));
	return mk_printf("%s/data/%s/%05lld-%lld-%s%s", c->t->location, ppath,
			 (long long)(n % 100000), (long long)n, uuid, ext);
}

/* ---- rewriting manifests --------------------------------------------------- */

static bool match(mk_match *m, const mk_spec *sp, const mk_entry *e, bool commit, int64_t *budget)
{
	if (e->status == STATUS_DELETED)
		return false;
	switch (m->mode) {
	case MM_FIRST_N:
		if (e->content != 0 || *budget <= 0)
			return false;
		(*budget)--;
		return true;
	case MM_PATHS:
		if (e->content != 0)
			return false;
		for (int k = 0; k < m->npaths; k++) {
			if (strcmp(m->paths[k], e->path) == 0) {
				if (commit)
					m->found[k] = true;
				return true;
			}
		}
		return false;
	case MM_PARTITION:
		return e->content == 0 && mk_filter_match(sp, e->part, m->filters, m->nfilters);
	case MM_DV_FOR:
		return e->content == 1 && e->ref_file && is_puffin(e->format) &&
		       strcmp(e->ref_file, m->target) == 0;
	}
	return false;
}

static int64_t probe(mk_commit *c, const mk_mfile *mf, mk_match *m)
{
	const mk_spec *sp = mk_table_spec(c->t, mf->spec_id);
	mk_mreader *r;
	mk_entry e;
	int64_t n = 0, budget = m->budget;

	if (mk_mreader_open(c->t, mf, &r) != 0)
		return -1;
	while (mk_mreader_next(r, &e) == 1)
		if (match(m, sp, &e, false, &budget))
			n++;
	mk_mreader_close(r);
	return n;
}

static int rewrite_one(mk_commit *c, int i, mk_match *m, int64_t *removed)
{
	const mk_mfile *mf = &c->old[i];
	const mk_spec *sp = mk_table_spec(c->t, mf->spec_id);
	mk_mreader *r = NULL;
	mk_mwriter *w = NULL;
	mk_entry e;
	int rc = -1;

	if (mk_mreader_open(c->t, mf, &r) != 0)
		return -1;
	if (mk_commit_open_manifest(c, sp, mf->content, &w) != 0)
		goto out;
	while (mk_mreader_next(r, &e) == 1) {
		if (e.status == STATUS_DELETED)
			continue;
		if (match(m, sp, &e, true, &m->budget)) {
			if (mk_mwriter_copy(w, &e, STATUS_DELETED, c->snap_id) != 0)
				goto out;
			note_removed(c, sp, &e);
			if (m->on_remove)
				m->on_remove(m->ctx, sp, &e);
			(*removed)++;
		} else if (mk_mwriter_copy(w, &e, STATUS_EXISTING, e.snapshot_id) != 0) {
			goto out;
		}
	}
	rc = mk_mwriter_close(w, &c->repl[i]);
	w = NULL;
	if (rc == 0)
		c->slot[i] = SLOT_REPLACED;
out:
	if (w)
		mk_mwriter_abort(w);
	mk_mreader_close(r);
	return rc;
}

/* Remove the live entries selected by m from manifests of the given content. */
int mk_commit_rewrite(mk_commit *c, mk_match *m, int content, int64_t *removed)
{
	*removed = 0;
	for (int i = 0; i < c->nold; i++) {
		const mk_mfile *mf = &c->old[i];
		int64_t n;

		if (c->slot[i] != SLOT_KEEP || mf->content != content)
			continue;
		if (mf->added_files + mf->existing_files == 0)
			continue;
		if (m->mode == MM_FIRST_N && m->budget <= 0)
			break;
		n = probe(c, mf, m);
		if (n < 0)
			return -1;
		if (n > 0 && rewrite_one(c, i, m, removed) != 0)
			return -1;
	}
	return 0;
}

/* scan the current snapshot's data manifests for a live data file */
static int scan_live(mk_table *t, const char *path, mk_spec *sp, mk_pval *pv)
{
	mk_mfile *ms = NULL;
	int n = 0, rc = -1;

	if (mk_current_manifests(t, &ms, &n) != 0)
		return -1;
	rc = 1;
	for (int i = 0; i < n && rc == 1; i++) {
		mk_mreader *r;
		mk_entry e;
		if (ms[i].content != 0)
			continue;
		if (mk_mreader_open(t, &ms[i], &r) != 0) {
			rc = -1;
			break;
		}
		while (mk_mreader_next(r, &e) == 1) {
			if (e.status == STATUS_DELETED || e.content != 0)
				continue;
			if (path && strcmp(path, e.path) != 0)
				continue;
			*sp = *mk_table_spec(t, ms[i].spec_id);
			memcpy(pv, e.part, (size_t)sp->nf * sizeof(mk_pval));
			rc = 0;
			break;
		}
		mk_mreader_close(r);
	}
	mk_mfiles_free(ms, n);
	return rc;
}

int mk_find_live(mk_table *t, const char *path, mk_spec *sp, mk_pval *pv)
{
	return scan_live(t, path, sp, pv);
}

int mk_first_live(mk_table *t, mk_spec *sp, mk_pval *pv)
{
	return scan_live(t, NULL, sp, pv);
}

/* ---- finishing ------------------------------------------------------------- */

static int64_t parent_total(const mk_commit *c, const char *key)
{
	json_t *snap, *sum;
	const char *v;

	if (!c->has_parent)
		return 0;
	snap = mk_snapshot_by_id(c->t, c->parent_id);
	sum = json_object_get(snap, "summary");
	v = json_string_value(json_object_get(sum, key));
	return v ? strtoll(v, NULL, 10) : 0;
}

static void put(json_t *s, const char *key, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	json_object_set_new(s, key, json_string(buf));
}

static json_t *build_summary(const mk_commit *c)
{
	json_t *s = json_pack("{s:s}", "operation", c->op);

	if (c->add_data_files) {
		put(s, "added-data-files", c->add_data_files);
		put(s, "added-records", c->add_records);
	}
	if (c->add_del_files) {
		put(s, "added-delete-files", c->add_del_files);
		if (c->add_eq_files)
			put(s, "added-equality-delete-files", c->add_eq_files);
		if (c->add_eq_del)
			put(s, "added-equality-deletes", c->add_eq_del);
		if (c->add_pos_files)
			put(s, "added-position-delete-files", c->add_pos_files);
		if (c->add_dvs)
			put(s, "added-dvs", c->add_dvs);
		if (c->add_pos_del)
			put(s, "added-position-deletes", c->add_pos_del);
	}
	if (c->add_data_files || c->add_del_files)
		put(s, "added-files-size", c->add_size);
	if (c->del_data_files) {
		put(s, "deleted-data-files", c->del_data_files);
		put(s, "deleted-records", c->del_records);
	}
	if (c->rem_del_files) {
		put(s, "removed-delete-files", c->rem_del_files);
		if (c->rem_eq_files)
			put(s, "removed-equality-delete-files", c->rem_eq_files);
		if (c->rem_eq_del)
			put(s, "removed-equality-deletes", c->rem_eq_del);
		if (c->rem_pos_files)
			put(s, "removed-position-delete-files", c->rem_pos_files);
		if (c->rem_dvs)
			put(s, "removed-dvs", c->rem_dvs);
		if (c->rem_pos_del)
			put(s, "removed-position-deletes", c->rem_pos_del);
	}
	if (c->del_data_files || c->rem_del_files)
		put(s, "removed-files-size", c->rem_size);
	put(s, "changed-partition-count", (int64_t)c->parts.count);
	put(s, "total-records", parent_total(c, "total-records") + c->add_records - c->del_records);
	put(s, "total-files-size",
	    parent_total(c, "total-files-size") + c->add_size - c->rem_size);
	put(s, "total-data-files",
	    parent_total(c, "total-data-files") + c->add_data_files - c->del_data_files);
	put(s, "total-delete-files",
	    parent_total(c, "total-delete-files") + c->add_del_files - c->rem_del_files);
	put(s, "total-position-deletes",
	    parent_total(c, "total-position-deletes") + c->add_pos_del - c->rem_pos_del);
	put(s, "total-equality-deletes",
	    parent_total(c, "total-equality-deletes") + c->add_eq_del - c->rem_eq_del);
	json_object_set_new(s, "engine-name", json_string("ice-mktable"));
	return s;
}

/* new manifests first, then the old ones in order (rewritten ones in place);
 * data manifests before delete manifests */
static mk_mfile *final_list(const mk_commit *c, int *n)
{
	mk_mfile *l = calloc((size_t)(c->nadded + c->nold) + 1, sizeof(*l));

	*n = 0;
	if (!l)
		return NULL;
	for (int content = 0; content <= 1; content++) {
		for (int i = 0; i < c->nadded; i++)
			if (c->added[i].content == content)
				l[(*n)++] = c->added[i];
		for (int i = 0; i < c->nold; i++) {
			const mk_mfile *m = &c->old[i];
			if (m->content != content)
				continue;
			if (c->slot[i] == SLOT_REPLACED)
				l[(*n)++] = c->repl[i];
			else if (c->keep_empty || m->added_files + m->existing_files > 0)
				l[(*n)++] = *m;
		}
	}
	return l;
}

static json_t *build_snapshot(const mk_commit *c, int64_t ts, const char *ml_uri,
			      int64_t first_row, int64_t added_rows)
{
	json_t *s = json_object();

	if (c->t->format >= 2)
		json_object_set_new(s, "sequence-number", json_integer(c->seq));
	json_object_set_new(s, "snapshot-id", json_integer(c->snap_id));
	if (c->has_parent)
		json_object_set_new(s, "parent-snapshot-id", json_integer(c->parent_id));
	json_object_set_new(s, "timestamp-ms", json_integer(ts));
	json_object_set_new(s, "summary", build_summary(c));
	json_object_set_new(s, "manifest-list", json_string(ml_uri));
	json_object_set_new(s, "schema-id", json_integer(c->t->schema.id));
	if (c->t->format >= 3) {
		json_object_set_new(s, "first-row-id", json_integer(first_row));
		json_object_set_new(s, "added-rows", json_integer(added_rows));
	}
	return s;
}

static void print_paths(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool first = true;

	putchar('[');
	if (f) {
		rewind(f);
		while ((n = getline(&line, &cap, f)) > 0) {
			if (line[n - 1] == '\n')
				line[n - 1] = '\0';
			if (!first)
				putchar(',');
			mk_json_str(stdout, line);
			first = false;
		}
	}
	putchar(']');
	free(line);
}

/* one commit line on stdout; takes the reference to extra */
void mk_print_commit(const char *op, bool has_snap, int64_t snap, bool has_parent, int64_t parent,
		     int64_t seq, const char *meta_local, FILE *added, FILE *removed,
		     json_t *extra)
{
	const char *key;
	json_t *v;

	fputs("{\"kind\":\"commit\",\"operation\":", stdout);
	mk_json_str(stdout, op);
	if (has_snap)
		printf(",\"snapshot_id\":%lld", (long long)snap);
	else
		fputs(",\"snapshot_id\":null", stdout);
	if (has_parent)
		printf(",\"parent_id\":%lld", (long long)parent);
	else
		fputs(",\"parent_id\":null", stdout);
	printf(",\"sequence_number\":%lld,\"metadata_file\":", (long long)seq);
	mk_json_str(stdout, meta_local);
	fputs(",\"added_files\":", stdout);
	print_paths(added);
	fputs(",\"removed_files\":", stdout);
	print_paths(removed);
	json_object_foreach(extra, key, v) {
		char *js = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		putchar(',');
		mk_json_str(stdout, key);
		printf(":%s", js ? js : "null");
		free(js);
	}
	fputs("}\n", stdout);
	fflush(stdout);
	json_decref(extra);
}

int mk_commit_finish(mk_commit *c)
{
	mk_table *t = c->t;
	int n = 0, rc = -1;
	mk_mfile *list = final_list(c, &n);
	int64_t first_row = json_integer_value(json_object_get(t->meta, "next-row-id"));
	int64_t next_row = first_row, ts = mk_next_timestamp(t);
	char *name = mk_printf("snap-%lld-1-%s.avro", (long long)c->snap_id, c->uuid);
	char *local = mk_printf("%s/%s", t->metadir, name), *uri = mk_meta_uri(t, name);
	char *meta_local = NULL;
	json_t *meta, *snap;

	if (!list)
		goto out;
	for (int i = 0; t->format >= 3 && i < n; i++) {
		if (list[i].content != 0 || list[i].has_first_row_id)
			continue;
		list[i].has_first_row_id = true;
		list[i].first_row_id = next_row;
		next_row += list[i].added_rows + list[i].existing_rows;
	}
	if (mk_mlist_write(t, local, c->snap_id, c->has_parent, c->parent_id, c->seq, first_row,
			   list, n) != 0)
		goto out;
	snap = build_snapshot(c, ts, uri, first_row, next_row - first_row);
	meta = mk_meta_next(t, ts);
	if (t->format >= 2)
		json_object_set_new(meta, "last-sequence-number", json_integer(c->seq));
	if (t->format >= 3)
		json_object_set_new(meta, "next-row-id", json_integer(next_row));
	json_object_set_new(meta, "current-snapshot-id", json_integer(c->snap_id));
	json_object_set_new(meta, "refs", json_pack("{s:{s:I,s:s}}", "main", "snapshot-id",
						    (json_int_t)c->snap_id, "type", "branch"));
	json_array_append_new(json_object_get(meta, "snapshots"), snap);
	json_array_append_new(json_object_get(meta, "snapshot-log"),
			      json_pack("{s:I,s:I}", "timestamp-ms", (json_int_t)ts, "snapshot-id",
					(json_int_t)c->snap_id));
	if (mk_table_write_version(t, meta, &meta_local) != 0)
		goto out;
	mk_print_commit(c->op, true, c->snap_id, c->has_parent, c->parent_id, c->seq, meta_local,
			c->added_paths, c->removed_paths, NULL);
	rc = mk_sidecar_save(t);
out:
	free(list);
	free(name);
	free(local);
	free(uri);
	free(meta_local);
	return rc;
}
