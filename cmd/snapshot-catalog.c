/* snapshot-catalog: ice-snapshot's catalog tables: loads, rounds, listings. */
#include "config.h"
#include "snapshot-catalog.h"
#include "cli.h"
#include "cli-catalog.h"
#include "ice_snaprec.h"

#include <stdlib.h>
#include <string.h>

int ice_snapcat_init(ice_snapcat *t, const char *catalog, const char *rest, ice_err *err)
{
	int rc;

	memset(t, 0, sizeof *t);
	if ((rc = ice_table_ident_parse(rest, &t->ident, err)))
		return rc;
	if (catalog) {
		size_t len = strlen(catalog) + strlen(rest) + 2;

		if ((t->catalog = strdup(catalog)) && (t->name = malloc(len)))
			snprintf(t->name, len, "%s:%s", catalog, rest);
	} else {
		t->name = strdup(rest);
	}
	if (!t->name || (catalog && !t->catalog)) {
		ice_snapcat_clear(t);
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	return ICE_OK;
}

void ice_snapcat_clear(ice_snapcat *t)
{
	free(t->catalog);
	free(t->name);
	ice_table_ident_clear(&t->ident);
	ice_table_seen_clear(&t->seen);
	ice_loaded_table_clear(&t->job.out);
	memset(t, 0, sizeof *t);
}

/* The model of a loaded table; its metadata_file is the metadata-location
 * (the catalog's name for the table when the table is staged). */
static int model_of(const ice_snapcat *t, const ice_loaded_table *lt, ice_metadata **md,
                    ice_err *err)
{
	const char *path = lt->metadata_location ? lt->metadata_location : t->name;

	return ice_metadata_from_json(json_incref(lt->metadata), path, md, err);
}

int ice_snapcat_load(ice_snapcat *t, ice_metadata **md, ice_err *err)
{
	ice_catpool *p;
	int rc;

	*md = NULL;
	ice_loaded_table_clear(&t->job.out);
	if ((rc = ice_cli_catalog_pool(t->catalog, &p, err)) ||
	    (rc = ice_catalog_load_table(ice_catpool_client(p), &t->ident, ICE_SNAPSHOTS_ALL,
	                                 &t->seen, &t->job.out, err)))
		return rc;
	if (t->job.out.not_modified)
		/* Only a round's load is conditional: this one had no ETag to send. */
		return ice_err_set(err, ICE_EFORMAT, "%s: 304 to an unconditional load", t->name);
	return model_of(t, &t->job.out, md, err);
}

int ice_snapcat_model(ice_snapcat *t, bool all, ice_metadata **md, ice_err *err)
{
	if (all) {
		/* Conditional in its own mode: a 304 there cannot be used, so
		 * forget that mode's ETag first. */
		free(t->seen.etag[ICE_SNAPSHOTS_ALL]);
		t->seen.etag[ICE_SNAPSHOTS_ALL] = NULL;
		return ice_snapcat_load(t, md, err);
	}
	*md = NULL;
	return model_of(t, &t->job.out, md, err);
}

/* The round's loads of one catalog's tables. */
static void round_of(ice_snapcat **v, size_t n, const char *catalog, ice_catpool_job *jobs,
                     size_t *idx)
{
	ice_catpool *p = NULL;
	ice_err err = { 0 };
	size_t k = 0;
	int rc = ice_cli_catalog_pool(catalog, &p, &err);

	for (size_t i = 0; i < n; i++) {
		bool same = (!catalog && !v[i]->catalog) ||
		            (catalog && v[i]->catalog && strcmp(catalog, v[i]->catalog) == 0);
		if (!same)
			continue;
		ice_loaded_table_clear(&v[i]->job.out);
		if (rc) {
			v[i]->job.rc = rc;
			v[i]->job.err = err;
			continue;
		}
		jobs[k] = (ice_catpool_job){ &v[i]->ident, ICE_SNAPSHOTS_REFS, &v[i]->seen,
		                             { 0 }, ICE_OK, { 0 } };
		idx[k++] = i;
	}
	if (rc || !k)
		return;
	ice_catpool_load(p, jobs, k);
	for (size_t j = 0; j < k; j++)
		v[idx[j]]->job = jobs[j];
}

void ice_snapcat_round(ice_snapcat **v, size_t n)
{
	ice_catpool_job *jobs = calloc(n ? n : 1, sizeof *jobs);
	size_t *idx = calloc(n ? n : 1, sizeof *idx);
	bool *done = calloc(n ? n : 1, sizeof *done);

	if (!jobs || !idx || !done) {
		for (size_t i = 0; i < n; i++) {
			v[i]->job.rc = ICE_ENOMEM;
			ice_err_set(&v[i]->job.err, ICE_ENOMEM, "out of memory");
		}
		goto out;
	}
	/* One pass per catalog, in the order they first appear. */
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		round_of(v, n, v[i]->catalog, jobs, idx);
		for (size_t j = i; j < n; j++)
			if ((!v[i]->catalog && !v[j]->catalog) ||
			    (v[i]->catalog && v[j]->catalog && strcmp(v[i]->catalog, v[j]->catalog) == 0))
				done[j] = true;
	}
out:
	free(jobs);
	free(idx);
	free(done);
}

void ice_snapcat_annotate(const ice_snapcat *t, json_t *r, const char *metadata_location)
{
	char *ns = ice_ns_format(&t->ident.ns);

	ice_snapshot_record_catalog(r, ice_cli_catalog_label(t->catalog), ns ? ns : "",
	                            t->ident.name, metadata_location);
	free(ns);
}

bool ice_snapcat_pattern(const char *arg, char **catalog, ice_ns *ns, ice_err *err, int *rc)
{
	const char *rest;
	size_t len;
	char *text;

	*rc = ICE_OK;
	memset(ns, 0, sizeof *ns);
	len = strlen(arg);
	if (len < 3 || strcmp(arg + len - 2, ".*") != 0 || !ice_cli_catalog_table(arg, catalog, &rest))
		return false;
	if (!(text = strndup(rest, strlen(rest) - 2))) {
		*rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		return true;
	}
	*rc = ice_ns_parse(text, ns, err);
	free(text);
	return true;
}

int ice_snapcat_list(const char *catalog, const ice_ns *ns, ice_ident_list *out, ice_err *err)
{
	ice_catpool *p;
	int rc = ice_cli_catalog_pool(catalog, &p, err);

	return rc ? rc : ice_catalog_list_tables(ice_catpool_client(p), ns, out, err);
}

/* One namespace: its tables, then each namespace under it, depth first. */
static int ls_under(ice_catalog *c, const ice_ns *ns, ice_err *err)
{
	ice_ns_list subs = { 0 };
	ice_ident_list tables = { 0 };
	int rc;

	if (ns->n && (rc = ice_catalog_list_tables(c, ns, &tables, err)))
		goto out;
	for (size_t i = 0; i < tables.n; i++) {
		char *name = ice_table_ident_format(&tables.v[i]);

		if (!name) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			goto out;
		}
		rc = printf("%s\n", name) < 0 ? ice_err_set(err, ICE_EIO, "stdout: write failed") : ICE_OK;
		free(name);
		if (rc)
			goto out;
	}
	if ((rc = ice_catalog_list_namespaces(c, ns, &subs, err)))
		goto out;
	for (size_t i = 0; i < subs.n && !rc; i++) {
		char *name = ice_ns_format(&subs.v[i]);

		if (!name)
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		else if (printf("%s.\n", name) < 0)
			rc = ice_err_set(err, ICE_EIO, "stdout: write failed");
		free(name);
		if (!rc)
			rc = ls_under(c, &subs.v[i], err);
	}
out:
	ice_ns_list_clear(&subs);
	ice_ident_list_clear(&tables);
	return rc;
}

int ice_snapcat_ls(const char *arg, ice_err *err)
{
	char *catalog = NULL;
	const char *rest = arg ? arg : "";
	ice_ns ns = { 0 };
	ice_catpool *p;
	int rc;

	if (arg && ice_catalog_ref_split(arg, &catalog, &rest) && !*rest)
		rest = "";
	if (*rest && (rc = ice_ns_parse(rest, &ns, err)))
		goto out;
	if ((rc = ice_cli_catalog_pool(catalog, &p, err)))
		goto out;
	rc = ls_under(ice_catpool_client(p), &ns, err);
out:
	ice_ns_clear(&ns);
	free(catalog);
	return rc;
}
