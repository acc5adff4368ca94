/* catconf: the catalog settings from --catalog, ICE_CATALOG* and the file. */
#include "config.h"
#include "ice_catconf.h"

#include <stdlib.h>
#include <string.h>

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static void from_named(const ice_catalog_conf *k, ice_catalog_settings *out)
{
	out->name = k->name;
	out->uri = k->uri;
	out->credential = k->credential;
	out->token = k->token;
	out->warehouse = k->warehouse;
	out->scope = k->scope;
	out->oauth2_server_uri = k->oauth2_server_uri;
	out->ca_bundle = k->ca_bundle;
	out->headers = (const char *const *)k->headers;
	out->n_headers = k->n_headers;
}

/* The first value set, in order of precedence. */
static const char *first(const char *a, const char *b, const char *c)
{
	return a ? a : b ? b : c;
}

int ice_catalog_resolve(const ice_config *cfg, const char *name, const char *flag_uri,
                        ice_catalog_settings *out, ice_err *err)
{
	const ice_catalog_conf *k = NULL;
	const char *uri;

	memset(out, 0, sizeof *out);
	if (name) {
		if (!cfg || !(k = ice_config_catalog(cfg, name)))
			return ice_err_set(err, ICE_ENOENT, "no catalog '%.100s' in the configuration "
			                   "file (catalog.%.100s.uri)", name, name);
		from_named(k, out);
		return ICE_OK;
	}
	uri = first(flag_uri, env("ICE_CATALOG"), cfg ? cfg->catalog : NULL);
	if (!uri)
		return ice_err_set(err, ICE_ENOENT, "no catalog: give --catalog URL, set ICE_CATALOG "
		                   "or 'catalog' in the configuration file");
	if (!strstr(uri, "://")) {
		if (!cfg || !(k = ice_config_catalog(cfg, uri)))
			return ice_err_set(err, ICE_ENOENT, "catalog '%.100s': neither a URL nor a catalog "
			                   "of the configuration file", uri);
		from_named(k, out);
	} else {
		out->uri = uri;
	}
	out->credential = first(env("ICE_CATALOG_CREDENTIAL"), cfg ? cfg->catalog_credential : NULL,
	                        out->credential);
	out->token = first(env("ICE_CATALOG_TOKEN"), cfg ? cfg->catalog_token : NULL, out->token);
	out->warehouse = first(env("ICE_CATALOG_WAREHOUSE"), cfg ? cfg->catalog_warehouse : NULL,
	                       out->warehouse);
	return ICE_OK;
}
