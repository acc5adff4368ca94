/* cli-catalog: catalog table arguments and the catalog clients of a run. */
#include "config.h"
#include "cli-catalog.h"
#include "cli-config.h"
#include "ice_catconf.h"
#include "ice_config.h"
#include "ice_metadata.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One catalog used by this run. */
typedef struct opened {
	char *name;               /* NULL: the default catalog */
	ice_catalog_settings s;   /* borrows from the file and the environment */
	ice_catpool *pool;
	int rc;                   /* the failure to open it, kept */
	ice_err err;
} opened;

static const char *flag_uri;
static int pool_width = 8;
static opened **cats; /* each allocated alone: its pool points to its settings */
static size_t n_cats;

void ice_cli_catalog_flag(const char *uri)
{
	flag_uri = uri;
}

void ice_cli_catalog_width(int width)
{
	pool_width = width;
}

static const ice_config *file_config(void)
{
	const ice_config *cfg;

	/* A bad file was reported by the program's own call already. */
	ice_cli_config(&cfg);
	return cfg;
}

bool ice_cli_catalog_configured(void)
{
	const ice_config *cfg = file_config();

	return flag_uri || ice_cli_env("ICE_CATALOG") || (cfg && cfg->catalog);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

bool ice_cli_catalog_table(const char *arg, char **catalog, const char **rest)
{
	const ice_config *cfg = file_config();

	*catalog = NULL;
	*rest = arg;
	if (ice_catalog_ref_split(arg, catalog, rest)) {
		if (cfg && ice_config_catalog(cfg, *catalog))
			return true;
		free(*catalog);
		*catalog = NULL;
		*rest = arg;
		return false;
	}
	/* A slash makes a path (a mistyped one is better said missing than
	 * looked up in the catalog). */
	return ice_cli_catalog_configured() && !strchr(arg, '/') && !exists(arg) &&
	       strchr(arg, '.') != NULL;
}

static void close_all(void)
{
	for (size_t i = 0; i < n_cats; i++) {
		ice_catpool_close(cats[i]->pool);
		free(cats[i]->name);
		free(cats[i]);
	}
	free(cats);
}

static opened *find(const char *name)
{
	for (size_t i = 0; i < n_cats; i++)
		if ((!name && !cats[i]->name) ||
		    (name && cats[i]->name && strcmp(name, cats[i]->name) == 0))
			return cats[i];
	return NULL;
}

static opened *add(const char *name)
{
	opened **grown = realloc(cats, (n_cats + 1) * sizeof *cats), *o;

	if (!grown)
		return NULL;
	if (!cats)
		atexit(close_all);
	cats = grown;
	if (!(o = calloc(1, sizeof *o)) || (name && !(o->name = strdup(name)))) {
		free(o);
		return NULL;
	}
	cats[n_cats++] = o;
	return o;
}

int ice_cli_catalog_pool(const char *name, ice_catpool **out, ice_err *err)
{
	opened *o = find(name);

	*out = NULL;
	if (!o) {
		if (!(o = add(name)))
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		o->rc = ice_catalog_resolve(file_config(), name, flag_uri, &o->s, &o->err);
		if (!o->rc)
			o->rc = ice_catpool_open(&o->pool, &o->s, pool_width, &o->err);
	}
	if (o->rc) {
		*err = o->err;
		return o->rc;
	}
	*out = o->pool;
	return ICE_OK;
}

const char *ice_cli_catalog_label(const char *name)
{
	opened *o = find(name);

	if (name)
		return name;
	return o && o->s.uri ? (o->s.name ? o->s.name : o->s.uri) : "default";
}

bool ice_cli_catalog_of_label(const char *label, char **name)
{
	const ice_config *cfg = file_config();
	ice_catpool *p;
	ice_err err;

	*name = NULL;
	if (!label)
		return false;
	if (cfg && ice_config_catalog(cfg, label))
		return (*name = strdup(label)) != NULL;
	/* The default's label is known once it is open. */
	if (!ice_cli_catalog_configured() || ice_cli_catalog_pool(NULL, &p, &err))
		return false;
	return strcmp(ice_cli_catalog_label(NULL), label) == 0;
}

int ice_cli_catalog_metadata(const char *catalog, const char *rest, ice_metadata **md,
                             ice_err *err)
{
	ice_table_ident id = { 0 };
	ice_loaded_table lt = { 0 };
	ice_catpool *p;
	int rc;

	*md = NULL;
	if ((rc = ice_table_ident_parse(rest, &id, err)) ||
	    (rc = ice_cli_catalog_pool(catalog, &p, err)) ||
	    (rc = ice_catalog_load_table(ice_catpool_client(p), &id, ICE_SNAPSHOTS_ALL, NULL, &lt, err)))
		goto out;
	rc = ice_metadata_from_json(json_incref(lt.metadata),
	                            lt.metadata_location ? lt.metadata_location : rest, md, err);
out:
	ice_loaded_table_clear(&lt);
	ice_table_ident_clear(&id);
	return rc;
}
