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

/* A storage handle and the vended keys it was opened with. Tables vended
 * the same keys share it. Kept to the end of the run, refused ones too:
 * their counters belong to the run's summary, and a refresh is rare. */
typedef struct handle {
	ice_aws_config aws; /* owned; the handle's settings borrow its strings */
	char *source;       /* "catalog prod: ... (vended)" */
	ice_storage *st;
} handle;

/* One catalog table and the handle its keys open. */
typedef struct vended {
	char *catalog;         /* NULL: the default catalog */
	char *rest;            /* "db.orders" */
	int64_t expires_at_ms; /* -1: not said */
	bool asked, stale;     /* asked: the catalog answered; stale: refused, ask again */
	ice_storage *st;       /* borrowed from handles; NULL: none vended */
} vended;

static const ice_cli_storage_flags *flags;
static vended *tables;
static size_t n_tables;
static handle **handles; /* each allocated alone */
static size_t n_handles;

void ice_cli_vended_flags(const ice_cli_storage_flags *f)
{
	flags = f;
}

static void handle_free(handle *h)
{
	if (!h)
		return;
	ice_storage_close(h->st);
	ice_aws_config_clear(&h->aws);
	free(h->source);
	free(h);
}

static void close_all(void)
{
	for (size_t i = 0; i < n_handles; i++)
		handle_free(handles[i]);
	for (size_t i = 0; i < n_tables; i++) {
		free(tables[i].catalog);
		free(tables[i].rest);
	}
	free(handles);
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
	if (!v->asked || v->stale)
		return false;
	return v->expires_at_ms < 0 || v->expires_at_ms - ice_now_ms() > VENDED_MARGIN_MS;
}

/* A handle with the program's settings, the vended keys and place on top. */
static int open_with(handle *h, ice_err *err)
{
	ice_storage_opts o;
	ice_aws_settings *a = &o.s3.aws;

	if (ice_cli_storage_opts(flags, &o) >= 0)
		return ice_err_set(err, ICE_EINVAL, "the storage settings are not usable");
	a->access_key = h->aws.access_key;
	a->secret_key = h->aws.secret_key;
	a->session_token = h->aws.session_token;
	a->source = h->source;
	a->anonymous = false;
	a->profile = NULL;
	if (h->aws.region)
		a->region = h->aws.region;
	if (h->aws.endpoint) {
		a->endpoint_url = h->aws.endpoint;
		a->path_style = h->aws.path_style ? 1 : 0;
	}
	return ice_storage_open(&h->st, &o, err);
}

static bool same_keys(const ice_aws_config *a, const ice_aws_config *b)
{
	return same(a->access_key, b->access_key) && same(a->secret_key, b->secret_key) &&
	       same(a->session_token, b->session_token) && same(a->region, b->region) &&
	       same(a->endpoint, b->endpoint) && a->path_style == b->path_style;
}

/* The handle of those keys: one already open, else a new one taking them
 * (*aws is emptied then). */
static int handle_for(ice_aws_config *aws, ice_storage **st, ice_err *err)
{
	ice_sbuf b = ICE_SBUF_INIT;
	handle **grown, *h;
	int rc;

	for (size_t i = 0; i < n_handles; i++)
		if (same_keys(&handles[i]->aws, aws)) {
			*st = handles[i]->st;
			return ICE_OK;
		}
	/* A table came first (find_or_add): close_all is registered. */
	if (!(grown = realloc(handles, (n_handles + 1) * sizeof *handles)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	handles = grown;
	if (!(h = calloc(1, sizeof *h)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	h->aws = *aws;
	memset(aws, 0, sizeof *aws);
	ice_sbuf_printf(&b, "%s (vended)", h->aws.source);
	if (!(h->source = ice_sbuf_take(&b)))
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	else
		rc = open_with(h, err);
	if (rc) {
		handle_free(h);
		return rc;
	}
	handles[n_handles++] = h;
	*st = h->st;
	return ICE_OK;
}

/* loadTable with vended credentials, and the handle of its keys. */
static int ask(vended *v, ice_err *err)
{
	ice_table_ident id = { 0 };
	ice_loaded_table lt = { 0 };
	ice_aws_config aws = { 0 };
	ice_catpool *p;
	int rc;

	v->asked = v->stale = false;
	v->st = NULL;
	if ((rc = ice_table_ident_parse(v->rest, &id, err)) ||
	    (rc = ice_cli_catalog_pool(v->catalog, &p, err)) ||
	    (rc = ice_catalog_load_table(ice_catpool_client(p), &id, ICE_SNAPSHOTS_REFS, NULL, &lt,
	                                 err)) ||
	    (rc = ice_catalog_s3_access(ice_catpool_client(p), &lt, NULL, &aws, &v->expires_at_ms,
	                                err)))
		goto out;
	/* No keys vended: the program's own settings, remembered as such. */
	if (aws.access_key && (rc = handle_for(&aws, &v->st, err)))
		goto out;
	v->asked = true;
out:
	ice_aws_config_clear(&aws);
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
	bool any = false;

	/* Every table vended the refused keys asks again. */
	for (size_t i = 0; st && i < n_tables; i++)
		if (tables[i].st == st)
			any = tables[i].stale = true;
	return any;
}

size_t ice_cli_vended_handles(const ice_storage **out, size_t max)
{
	for (size_t i = 0; i < n_handles && i < max; i++)
		out[i] = handles[i]->st;
	return n_handles;
}
