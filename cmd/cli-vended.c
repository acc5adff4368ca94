/* cli-vended: storage handles with a catalog's vended S3 credentials. */
#include "config.h"
#include "cli-vended.h"
#include "cli-catalog.h"
#include "ice_catalog.h"
#include "ice_sbuf.h"
#include "ice_time.h"

#include <stdlib.h>
#include <string.h>

/* Refresh this long before the catalog says the keys expire. */
#define VENDED_MARGIN_MS 60000

/* One catalog table's handle and the keys it was opened with. */
typedef struct vended {
	char *catalog;           /* NULL: the default catalog */
	char *rest;              /* "db.orders" */
	ice_aws_config aws;      /* owned; the handle's settings borrow it */
	char *source;            /* "catalog prod: ... (vended)" */
	int64_t expires_at_ms;   /* -1: not said */
	bool stale;              /* refused: ask again */
	ice_storage *st;         /* NULL: none vended, the fallback is used */
} vended;

static const ice_cli_storage_flags *flags;
static vended *tables;
static size_t n_tables;

void ice_cli_vended_flags(const ice_cli_storage_flags *f)
{
	flags = f;
}

static void vended_clear(vended *v)
{
	ice_storage_close(v->st);
	ice_aws_config_clear(&v->aws);
	free(v->source);
	v->st = NULL;
	v->source = NULL;
}

static void close_all(void)
{
	for (size_t i = 0; i < n_tables; i++) {
		vended_clear(&tables[i]);
		free(tables[i].catalog);
		free(tables[i].rest);
	}
	free(tables);
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static vended *find_or_add(const char *catalog, const char *rest)
{
	vended *grown, *v;

	for (size_t i = 0; i < n_tables; i++)
		if (same(tables[i].catalog, catalog) && strcmp(tables[i].rest, rest) == 0)
			return &tables[i];
	if (!(grown = realloc(tables, (n_tables + 1) * sizeof *tables)))
		return NULL;
	if (!tables)
		atexit(close_all);
	tables = grown;
	v = &tables[n_tables];
	memset(v, 0, sizeof *v);
	v->expires_at_ms = -1;
	if (!(v->rest = strdup(rest)) || (catalog && !(v->catalog = strdup(catalog)))) {
		free(v->rest);
		return NULL;
	}
	n_tables++;
	return v;
}

static bool fresh(const vended *v)
{
	if (v->stale || (!v->st && !v->source))
		return false;
	return v->expires_at_ms < 0 || v->expires_at_ms - ice_now_ms() > VENDED_MARGIN_MS;
}

/* A handle with the program's settings, the vended keys and place on top. */
static int open_with(vended *v, ice_err *err)
{
	ice_storage_opts o;
	ice_aws_settings *a = &o.s3.aws;

	if (ice_cli_storage_opts(flags, &o) >= 0)
		return ice_err_set(err, ICE_EINVAL, "the storage settings are not usable");
	a->access_key = v->aws.access_key;
	a->secret_key = v->aws.secret_key;
	a->session_token = v->aws.session_token;
	a->source = v->source;
	a->anonymous = false;
	a->profile = NULL;
	if (v->aws.region)
		a->region = v->aws.region;
	if (v->aws.endpoint) {
		a->endpoint_url = v->aws.endpoint;
		a->path_style = v->aws.path_style ? 1 : 0;
	}
	return ice_storage_open(&v->st, &o, err);
}

/* loadTable with vended credentials, and the handle made from its answer. */
static int ask(vended *v, ice_err *err)
{
	ice_table_ident id = { 0 };
	ice_loaded_table lt = { 0 };
	ice_sbuf b = ICE_SBUF_INIT;
	ice_catpool *p;
	int rc;

	vended_clear(v);
	v->stale = false;
	if ((rc = ice_table_ident_parse(v->rest, &id, err)) ||
	    (rc = ice_cli_catalog_pool(v->catalog, &p, err)) ||
	    (rc = ice_catalog_load_table(ice_catpool_client(p), &id, ICE_SNAPSHOTS_REFS, NULL, &lt,
	                                 err)) ||
	    (rc = ice_catalog_s3_access(ice_catpool_client(p), &lt, NULL, &v->aws,
	                                &v->expires_at_ms, err)))
		goto out;
	if (!v->aws.access_key) {
		/* Nothing vended: remembered as such (source set, no handle). */
		v->source = strdup("none vended");
		rc = v->source ? ICE_OK : ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	ice_sbuf_printf(&b, "%s (vended)", v->aws.source);
	if (!(v->source = ice_sbuf_take(&b)))
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	else
		rc = open_with(v, err);
out:
	if (rc)
		vended_clear(v);
	ice_loaded_table_clear(&lt);
	ice_table_ident_clear(&id);
	return rc;
}

int ice_cli_vended_storage(const char *catalog, const char *rest, ice_storage *fallback,
                           ice_storage **st, ice_err *err)
{
	vended *v = find_or_add(catalog, rest);
	int rc;

	*st = fallback;
	if (!v)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (!fresh(v) && (rc = ask(v, err)))
		return rc;
	if (v->st)
		*st = v->st;
	return ICE_OK;
}

bool ice_cli_vended_refresh(ice_storage *st)
{
	for (size_t i = 0; st && i < n_tables; i++)
		if (tables[i].st == st) {
			tables[i].stale = true;
			return true;
		}
	return false;
}

size_t ice_cli_vended_handles(const ice_storage **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < n_tables; i++)
		if (tables[i].st) {
			if (n < max)
				out[n] = tables[i].st;
			n++;
		}
	return n;
}
