/* catalog: the Iceberg REST catalog client: configuration, listings with
 * pagination, and (conditional) loadTable. */
#include "config.h"
#include "ice_catalog.h"
#include "ice_catauth.h"
#include "ice_sbuf.h"

#include <stdlib.h>
#include <string.h>

/* Pages of one listing at most: a server whose tokens never end is an
 * error, not a hang. */
#define MAX_PAGES 100000

struct ice_catalog {
	ice_cathttp http;
	ice_catauth auth;
	char *base;        /* the uri without trailing '/' */
	char *warehouse;
	char **headers;    /* the extra headers, copied */
	size_t n_headers;
	json_t *props;     /* defaults, then overrides */
	char *root;        /* base + "/v1/" + prefix + "/" */
	int page_size;
};

const char *ice_catalog_name(const ice_catalog *c)
{
	return c->http.catalog;
}

const char *ice_catalog_property(const ice_catalog *c, const char *key)
{
	return c->props ? json_string_value(json_object_get(c->props, key)) : NULL;
}

const ice_catalog_stats *ice_catalog_get_stats(const ice_catalog *c)
{
	return &c->http.stats;
}

void ice_catalog_close(ice_catalog *c)
{
	if (!c)
		return;
	ice_cathttp_close(&c->http);
	ice_catauth_clear(&c->auth);
	for (size_t i = 0; i < c->n_headers; i++)
		free(c->headers[i]);
	free(c->headers);
	free(c->base);
	free(c->warehouse);
	json_decref(c->props);
	free(c->root);
	free(c);
}

/* The request's headers: the token, the extra ones, and more (at most 3). */
typedef struct {
	const char *v[40];
	size_t n;
} header_set;

static int request_headers(ice_catalog *c, header_set *hs, const char *const *more,
                           size_t n_more, ice_err *err)
{
	const char *auth;
	int rc;

	hs->n = 0;
	if ((rc = ice_catauth_header(&c->auth, &c->http, &auth, err)))
		return rc;
	if (auth)
		hs->v[hs->n++] = auth;
	hs->v[hs->n++] = "Accept: application/json";
	for (size_t i = 0; i < c->n_headers && hs->n < 36; i++)
		hs->v[hs->n++] = c->headers[i];
	for (size_t i = 0; i < n_more && hs->n < 40; i++)
		hs->v[hs->n++] = more[i];
	return ICE_OK;
}

/* GET url, authenticated; a 401 or 419 gets a new token and one more try. */
static int get(ice_catalog *c, const char *url, const char *endpoint, const char *const *more,
               size_t n_more, ice_xfer_resp *r, ice_err *err)
{
	ice_cathttp_call call = { "GET", url, endpoint, NULL, 0, NULL, 0 };
	header_set hs;
	int rc;

	for (int round = 0;; round++) {
		if ((rc = request_headers(c, &hs, more, n_more, err)))
			break;
		call.headers = hs.v;
		call.n_headers = hs.n;
		if ((rc = ice_cathttp_send(&c->http, &call, r, err)))
			break;
		if ((r->status != 401 && r->status != 419) || round > 0 ||
		    !ice_catauth_can_refresh(&c->auth))
			break;
		ice_xfer_resp_clear(r);
		if ((rc = ice_catauth_refresh(&c->auth, &c->http, err)))
			break;
	}
	if (rc)
		ice_catauth_redact(&c->auth, err);
	return rc;
}

/* The endpoint of a URL for messages: its path, without the query. */
static char *endpoint_of(const ice_catalog *c, const char *url)
{
	size_t skip = strlen(c->base), n;

	if (strncmp(url, c->base, skip) != 0)
		skip = 0;
	n = strcspn(url + skip, "?");
	return strndup(url + skip, n);
}

/* GET a JSON object with status 200. */
static int get_json(ice_catalog *c, const char *url, json_t **out, ice_err *err)
{
	ice_xfer_resp r = { 0 };
	char *endpoint = endpoint_of(c, url);
	ice_cathttp_call call = { "GET", url, endpoint, NULL, 0, NULL, 0 };
	int rc;

	*out = NULL;
	if (!endpoint)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (!(rc = get(c, url, endpoint, NULL, 0, &r, err))) {
		if (r.status != 200)
			rc = ice_cathttp_status_error(&c->http, &call, &r, err);
		else
			rc = ice_cathttp_json(&c->http, &call, &r, out, err);
	}
	ice_xfer_resp_clear(&r);
	free(endpoint);
	return rc;
}

static int merge_props(ice_catalog *c, const json_t *cfg, const char *field, ice_err *err)
{
	const json_t *o = json_object_get(cfg, field), *v;
	const char *k;

	if (!json_is_object(o))
		return ice_err_set(err, ICE_EFORMAT, "catalog %s: GET /v1/config: no '%s' object",
		                   c->http.catalog, field);
	json_object_foreach((json_t *)o, k, v) {
		if (!json_is_string(v))
			return ice_err_set(err, ICE_EFORMAT,
			                   "catalog %s: GET /v1/config: %s.%.60s is not a string",
			                   c->http.catalog, field, k);
		if (json_object_set((json_t *)c->props, k, (json_t *)v))
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	return ICE_OK;
}

static int read_config(ice_catalog *c, ice_err *err)
{
	ice_sbuf b = ICE_SBUF_INIT;
	json_t *cfg = NULL;
	const char *prefix;
	char *url;
	int rc;

	ice_sbuf_printf(&b, "%s/v1/config", c->base);
	if (c->warehouse) {
		ice_sbuf_puts(&b, "?warehouse=");
		ice_sbuf_pct(&b, c->warehouse, false);
	}
	if (!(url = ice_sbuf_take(&b)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if ((rc = get_json(c, url, &cfg, err)))
		goto out;
	if (!(c->props = json_object())) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = merge_props(c, cfg, "defaults", err)) ||
	    (rc = merge_props(c, cfg, "overrides", err)))
		goto out;
	prefix = ice_catalog_property(c, "prefix");
	ice_sbuf_printf(&b, "%s/v1/", c->base);
	if (prefix && *prefix)
		ice_sbuf_printf(&b, "%s/", prefix);
	if (!(c->root = ice_sbuf_take(&b)))
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
out:
	json_decref(cfg);
	free(url);
	return rc;
}

static int copy_settings(ice_catalog *c, const ice_catalog_settings *s, ice_err *err)
{
	size_t n = strlen(s->uri);
	ice_sbuf b = ICE_SBUF_INIT;
	char *token_uri;
	int rc;

	while (n && s->uri[n - 1] == '/')
		n--;
	c->base = strndup(s->uri, n);
	c->http.catalog = strdup(s->name ? s->name : s->uri);
	c->warehouse = s->warehouse ? strdup(s->warehouse) : NULL;
	c->headers = s->n_headers ? calloc(s->n_headers, sizeof *c->headers) : NULL;
	if (!c->base || !c->http.catalog || (s->warehouse && !c->warehouse) ||
	    (s->n_headers && !c->headers))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (; c->n_headers < s->n_headers; c->n_headers++)
		if (!(c->headers[c->n_headers] = strdup(s->headers[c->n_headers])))
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
	c->http.retry = s->retry;
	c->http.timeout_ms = s->timeout_ms;
	c->http.connect_timeout_ms = s->connect_timeout_ms;
	c->http.max_retry_after_ms = s->max_retry_after_ms;
	if (s->ca_bundle && !(c->http.ca_bundle = strdup(s->ca_bundle)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	c->page_size = s->page_size;
	if (s->oauth2_server_uri)
		ice_sbuf_puts(&b, s->oauth2_server_uri);
	else
		ice_sbuf_printf(&b, "%s/v1/oauth/tokens", c->base);
	if (!(token_uri = ice_sbuf_take(&b)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	rc = ice_catauth_init(&c->auth, s->credential, s->token, token_uri,
	                      s->scope ? s->scope : "catalog", err);
	free(token_uri);
	return rc;
}

int ice_catalog_open(ice_catalog **out, const ice_catalog_settings *s, ice_err *err)
{
	ice_catalog *c;
	int rc;

	*out = NULL;
	if (!s->uri || !*s->uri)
		return ice_err_set(err, ICE_EINVAL, "no catalog URI");
	if (strncmp(s->uri, "http://", 7) != 0 && strncmp(s->uri, "https://", 8) != 0)
		return ice_err_set(err, ICE_EINVAL, "catalog %.200s: not an http(s) URI",
		                   s->name ? s->name : s->uri);
	if (!(c = calloc(1, sizeof *c)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if ((rc = copy_settings(c, s, err)) || (rc = read_config(c, err))) {
		ice_catalog_close(c);
		return rc;
	}
	*out = c;
	return ICE_OK;
}

/* ---- listings ---------------------------------------------------------------- */

void ice_ns_list_clear(ice_ns_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		ice_ns_clear(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void ice_ident_list_clear(ice_ident_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		ice_table_ident_clear(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Appends one page's items (the array under `field`) to a list. */
typedef int (*page_fn)(const json_t *items, void *list, ice_err *err);

static int ns_page(const json_t *items, void *list, ice_err *err)
{
	ice_ns_list *l = list;
	ice_ns *v = realloc(l->v, (l->n + json_array_size(items) + 1) * sizeof *v);
	const json_t *it;
	size_t i;
	int rc;

	if (!v)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	l->v = v;
	json_array_foreach(items, i, it) {
		if ((rc = ice_ns_from_json(it, &l->v[l->n], err)))
			return rc;
		l->n++;
	}
	return ICE_OK;
}

static int ident_page(const json_t *items, void *list, ice_err *err)
{
	ice_ident_list *l = list;
	ice_table_ident *v = realloc(l->v, (l->n + json_array_size(items) + 1) * sizeof *v);
	const json_t *it;
	size_t i;
	int rc;

	if (!v)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	l->v = v;
	json_array_foreach(items, i, it) {
		const char *name = json_string_value(json_object_get(it, "name"));
		ice_table_ident *t = &l->v[l->n];

		if (!name || !*name)
			return ice_err_set(err, ICE_EFORMAT, "a table identifier without a name");
		if ((rc = ice_ns_from_json(json_object_get(it, "namespace"), &t->ns, err)))
			return rc;
		if (!(t->name = strdup(name))) {
			ice_ns_clear(&t->ns);
			return ice_err_set(err, ICE_ENOMEM, "out of memory");
		}
		l->n++;
	}
	return ICE_OK;
}

/* The next page's URL: base_url with pageToken (empty for the first page,
 * which asks a paginating server to paginate) and pageSize. */
static char *page_url(const ice_catalog *c, const char *base_url, const char *token)
{
	ice_sbuf b = ICE_SBUF_INIT;

	ice_sbuf_puts(&b, base_url);
	ice_sbuf_putc(&b, strchr(base_url, '?') ? '&' : '?');
	ice_sbuf_puts(&b, "pageToken=");
	ice_sbuf_pct(&b, token ? token : "", false);
	if (c->page_size > 0)
		ice_sbuf_printf(&b, "&pageSize=%d", c->page_size);
	return ice_sbuf_take(&b);
}

/* Every page of a listing; a null or missing next-page-token ends it. */
static int list_pages(ice_catalog *c, const char *base_url, const char *field, page_fn add,
                      void *list, ice_err *err)
{
	char *token = NULL, *url = NULL;
	json_t *doc = NULL;
	int rc = ICE_OK;

	for (int page = 0;; page++) {
		const json_t *items, *next;

		if (page == MAX_PAGES) {
			rc = ice_err_set(err, ICE_EFORMAT, "catalog %s: a listing of more than %d pages",
			                 c->http.catalog, MAX_PAGES);
			break;
		}
		free(url);
		if (!(url = page_url(c, base_url, token))) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			break;
		}
		json_decref(doc);
		if ((rc = get_json(c, url, &doc, err)))
			break;
		items = json_object_get(doc, field);
		next = json_object_get(doc, "next-page-token");
		if (!json_is_array(items) || (next && !json_is_null(next) && !json_is_string(next))) {
			char *ep = endpoint_of(c, url);

			rc = ice_err_set(err, ICE_EFORMAT, "catalog %s: GET %.200s: no '%s' array or a bad "
			                 "next-page-token", c->http.catalog, ep ? ep : "", field);
			free(ep);
			break;
		}
		if ((rc = add(items, list, err))) {
			char *ep = endpoint_of(c, url);

			ice_err_prefix(err, "catalog %s: GET %.200s: ", c->http.catalog, ep ? ep : "");
			free(ep);
			break;
		}
		if (!json_is_string(next))
			break;
		/* The same token again would loop for ever. */
		if (token && strcmp(token, json_string_value(next)) == 0) {
			rc = ice_err_set(err, ICE_EFORMAT, "catalog %s: the listing's next-page-token "
			                 "does not advance", c->http.catalog);
			break;
		}
		free(token);
		if (!(token = strdup(json_string_value(next)))) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			break;
		}
	}
	json_decref(doc);
	free(url);
	free(token);
	return rc;
}

static const char *separator(const ice_catalog *c)
{
	const char *sep = ice_catalog_property(c, "namespace-separator");

	return sep && *sep ? sep : "%1F";
}

int ice_catalog_list_namespaces(ice_catalog *c, const ice_ns *parent, ice_ns_list *out,
                                ice_err *err)
{
	ice_sbuf b = ICE_SBUF_INIT;
	char *url;
	int rc;

	memset(out, 0, sizeof *out);
	ice_sbuf_printf(&b, "%snamespaces", c->root);
	if (parent && parent->n) {
		ice_sbuf_puts(&b, "?parent=");
		ice_ns_put_url(&b, parent, separator(c));
	}
	if (!(url = ice_sbuf_take(&b)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if ((rc = list_pages(c, url, "namespaces", ns_page, out, err)))
		ice_ns_list_clear(out);
	free(url);
	return rc;
}

int ice_catalog_list_tables(ice_catalog *c, const ice_ns *ns, ice_ident_list *out, ice_err *err)
{
	ice_sbuf b = ICE_SBUF_INIT;
	char *url;
	int rc;

	memset(out, 0, sizeof *out);
	if (!ns || !ns->n)
		return ice_err_set(err, ICE_EINVAL, "catalog %s: list tables: no namespace",
		                   c->http.catalog);
	ice_sbuf_printf(&b, "%snamespaces/", c->root);
	ice_ns_put_url(&b, ns, separator(c));
	ice_sbuf_puts(&b, "/tables");
	if (!(url = ice_sbuf_take(&b)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if ((rc = list_pages(c, url, "identifiers", ident_page, out, err)))
		ice_ident_list_clear(out);
	free(url);
	return rc;
}

/* ---- loadTable --------------------------------------------------------------- */

void ice_table_seen_clear(ice_table_seen *s)
{
	for (int i = 0; i < 2; i++) {
		free(s->etag[i]);
		free(s->metadata_location[i]);
	}
	memset(s, 0, sizeof *s);
}

void ice_loaded_table_clear(ice_loaded_table *t)
{
	free(t->metadata_location);
	free(t->etag);
	json_decref(t->result);
	memset(t, 0, sizeof *t);
}

static int replace(char **field, const char *value, ice_err *err)
{
	char *v = value ? strdup(value) : NULL;

	if (value && !v)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	free(*field);
	*field = v;
	return ICE_OK;
}

/* A 200: the LoadTableResult read, the seen state brought up to date. */
static int loaded(ice_catalog *c, const ice_cathttp_call *call, ice_xfer_resp *r,
                  ice_snapshots_mode mode, ice_table_seen *seen, ice_loaded_table *out,
                  ice_err *err)
{
	const json_t *loc;
	int rc;

	if ((rc = ice_cathttp_json(&c->http, call, r, &out->result, err)))
		return rc;
	out->metadata = json_object_get(out->result, "metadata");
	loc = json_object_get(out->result, "metadata-location");
	if (!json_is_object(out->metadata))
		return ice_cathttp_bad(&c->http, call, "no 'metadata' object", err);
	if (loc && !json_is_null(loc) && !json_is_string(loc))
		return ice_cathttp_bad(&c->http, call, "'metadata-location' is not a string", err);
	if ((rc = replace(&out->metadata_location, json_string_value(loc), err)) ||
	    (rc = replace(&out->etag, r->etag, err)))
		return rc;
	if (!seen)
		return ICE_OK;
	/* Without an ETag the metadata location tells whether anything changed. */
	out->unchanged = !r->etag && out->metadata_location && seen->metadata_location[mode] &&
	                 strcmp(out->metadata_location, seen->metadata_location[mode]) == 0;
	if ((rc = replace(&seen->etag[mode], r->etag, err)))
		return rc;
	return replace(&seen->metadata_location[mode], out->metadata_location, err);
}

static char *table_url(const ice_catalog *c, const ice_table_ident *id, ice_snapshots_mode mode)
{
	ice_sbuf b = ICE_SBUF_INIT;

	ice_sbuf_printf(&b, "%snamespaces/", c->root);
	ice_ns_put_url(&b, &id->ns, separator(c));
	ice_sbuf_puts(&b, "/tables/");
	ice_sbuf_pct(&b, id->name, false);
	ice_sbuf_puts(&b, mode == ICE_SNAPSHOTS_REFS ? "?snapshots=refs" : "?snapshots=all");
	return ice_sbuf_take(&b);
}

int ice_catalog_load_table(ice_catalog *c, const ice_table_ident *id, ice_snapshots_mode mode,
                           ice_table_seen *seen, ice_loaded_table *out, ice_err *err)
{
	char *url = table_url(c, id, mode), *endpoint = NULL, *inm = NULL;
	const char *more[2] = { "X-Iceberg-Access-Delegation: vended-credentials", NULL };
	ice_cathttp_call call = { "GET", url, NULL, NULL, 0, NULL, 0 };
	ice_xfer_resp r = { 0 };
	size_t n_more = 1;
	int rc;

	memset(out, 0, sizeof *out);
	if (!url || !(endpoint = endpoint_of(c, url))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	call.endpoint = endpoint;
	if (seen && seen->etag[mode]) {
		ice_sbuf b = ICE_SBUF_INIT;

		ice_sbuf_printf(&b, "If-None-Match: %s", seen->etag[mode]);
		if (!(inm = ice_sbuf_take(&b))) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			goto out;
		}
		more[n_more++] = inm;
	}
	if ((rc = get(c, url, endpoint, more, n_more, &r, err)))
		goto out;
	if (r.status == 304) {
		if (!inm) {
			rc = ice_cathttp_bad(&c->http, &call, "304 to a request without If-None-Match", err);
			goto out;
		}
		c->http.stats.not_modified++;
		out->unchanged = out->not_modified = true;
	} else if (r.status == 200) {
		rc = loaded(c, &call, &r, mode, seen, out, err);
	} else {
		rc = ice_cathttp_status_error(&c->http, &call, &r, err);
	}
out:
	if (rc)
		ice_loaded_table_clear(out);
	ice_xfer_resp_clear(&r);
	free(inm);
	free(endpoint);
	free(url);
	return rc;
}
