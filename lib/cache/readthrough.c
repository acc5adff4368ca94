/* readthrough: the read-through policy of fetch (freshness of stored
 * copies, revalidation, what to store and for how long, keys), with no
 * I/O of its own. */
#include "config.h"
#include "ice_readthrough.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ice_derive.h"
#include "ice_jsonl.h"

/* ---- the origin record --------------------------------------------------------- */

static char *origin_of(json_t *info)
{
	char *text = info ? json_dumps(info, JSON_COMPACT) : NULL, *origin = NULL;

	if (text && asprintf(&origin, "fetch %s", text) < 0)
		origin = NULL;
	free(text);
	json_decref(info);
	return origin;
}

/* The JSON object of an entry fetch wrote, else NULL (caller decrefs). */
static json_t *info_of(const ice_entry_meta *m)
{
	if (!m->origin || strncmp(m->origin, "fetch {", 7) != 0)
		return NULL;
	return json_loads(m->origin + 6, 0, NULL);
}

/* ---- local files ----------------------------------------------------------- */

char *ice_readthrough_file_origin(const char *abs_path, const ice_file_id *id)
{
	/* a path is bytes: {"hex":...} when not UTF-8 (only size and mtime are checked) */
	return origin_of(json_pack("{s:o, s:I, s:I}", "path", ice_json_text(abs_path), "size", (json_int_t)id->size,
	                           "mtime_ns", (json_int_t)id->mtime_ns));
}

bool ice_readthrough_file_current(const ice_entry_meta *m, const ice_file_id *id)
{
	json_t *info = info_of(m);
	bool ok;

	ok = info && id->exists &&
	     (json_int_t)id->size == json_integer_value(json_object_get(info, "size")) &&
	     (json_int_t)id->mtime_ns == json_integer_value(json_object_get(info, "mtime_ns"));
	json_decref(info);
	return ok;
}

/* ---- URLs: what is stored -------------------------------------------------------- */

static char *string_field(json_t *obj, const char *name)
{
	const char *s = json_string_value(json_object_get(obj, name));

	return s ? strdup(s) : NULL;
}

void ice_readthrough_entry_of(const ice_entry_meta *m, int64_t now_ms, ice_readthrough_entry *e)
{
	json_t *info = info_of(m), *until, *lifetime;

	memset(e, 0, sizeof *e);
	e->lifetime_ms = -1;
	if (!info)
		return;
	until = json_object_get(info, "fresh_until_ms");
	e->fresh = !until || now_ms < json_integer_value(until);
	e->etag = string_field(info, "etag");
	e->last_modified = string_field(info, "last_modified");
	if (json_is_integer(lifetime = json_object_get(info, "lifetime_ms")))
		e->lifetime_ms = json_integer_value(lifetime);
	json_decref(info);
}

void ice_readthrough_entry_clear(ice_readthrough_entry *e)
{
	free(e->etag);
	free(e->last_modified);
	memset(e, 0, sizeof *e);
	e->lifetime_ms = -1;
}

bool ice_readthrough_can_revalidate(const ice_readthrough_entry *e)
{
	return e && (e->etag || e->last_modified);
}

void ice_readthrough_condition(ice_http_req *q, const ice_readthrough_entry *e)
{
	q->etag = e ? e->etag : NULL;
	q->last_modified = e ? e->last_modified : NULL;
}

/* ---- URLs: what to store ----------------------------------------------------------- */

/* The hint in force: --ttl when it decides, else what the response says,
 * else the lifetime stored before, else fetch_ttl. *no_store when the
 * response forbids storing. */
static ice_ttl lifetime_hint(const ice_readthrough_settings *s, const ice_http_resp *r,
                             int64_t prev_lifetime, int64_t now_ms, bool *no_store)
{
	ice_ttl builtin = { ICE_TTL_DURATION, ICE_READTHROUGH_TTL_MS };
	ice_http_freshness f;

	*no_store = false;
	if (s->ttl.kind != ICE_TTL_SMART && s->ttl.kind != ICE_TTL_UNSET)
		return s->ttl;
	ice_http_freshness_of(r, now_ms, &f);
	*no_store = f.no_store;
	if (f.says)
		return (ice_ttl){ ICE_TTL_DURATION, f.lifetime_ms };
	if (prev_lifetime >= 0)
		return (ice_ttl){ ICE_TTL_DURATION, prev_lifetime };
	return ice_ttl_first(s->fetch_ttl, builtin, s->ttl);
}

static const char *etag_of(const ice_http_resp *r, const ice_readthrough_entry *prev)
{
	return r->etag ? r->etag : prev ? prev->etag : NULL;
}

static const char *last_modified_of(const ice_http_resp *r, const ice_readthrough_entry *prev)
{
	return r->last_modified ? r->last_modified : prev ? prev->last_modified : NULL;
}

void ice_readthrough_decide(const ice_readthrough_settings *s, const ice_http_resp *r,
                            const ice_readthrough_entry *prev, int64_t now_ms,
                            ice_readthrough_store *out)
{
	bool no_store, validator = etag_of(r, prev) || last_modified_of(r, prev);
	ice_ttl t = lifetime_hint(s, r, prev ? prev->lifetime_ms : -1, now_ms, &no_store);

	memset(out, 0, sizeof *out);
	if (no_store)
		return;
	if (t.kind == ICE_TTL_FOREVER) {
		out->store = out->forever = true;
		return;
	}
	out->lifetime_ms = t.ms;
	out->ttl_ms = t.ms;
	if (validator)
		out->ttl_ms += s->keep_ms > 0 ? s->keep_ms : ICE_READTHROUGH_KEEP_MS;
	out->store = out->ttl_ms > 0;
}

char *ice_readthrough_url_origin(const char *url, const ice_http_resp *r,
                                 const ice_readthrough_entry *prev,
                                 const ice_readthrough_store *p, int64_t now_ms)
{
	json_t *info = json_pack("{s:s, s:s?, s:s?}", "url", url, "etag", etag_of(r, prev),
	                         "last_modified", last_modified_of(r, prev));

	if (info && !p->forever) {
		json_object_set_new(info, "fresh_until_ms", json_integer(now_ms + p->lifetime_ms));
		json_object_set_new(info, "lifetime_ms", json_integer(p->lifetime_ms));
	}
	return origin_of(info);
}

size_t ice_readthrough_tags(const char *const *given, size_t n_given, const char *const *kept,
                            size_t n_kept, const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < n_given && n < max; i++)
		out[n++] = given[i];
	for (size_t i = 0; i < n_kept && n < max; i++) {
		size_t j = 0;

		while (j < n_given && strcmp(given[j], kept[i]) != 0)
			j++;
		if (j == n_given)
			out[n++] = kept[i];
	}
	return n;
}

/* ---- URLs: keys ----------------------------------------------------------------------- */

static bool header_named(const char *line, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static bool takes_part(const char *header, const char *const *names, size_t n_names)
{
	for (size_t j = 0; j < n_names; j++)
		if (header_named(header, names[j]))
			return true;
	return n_names == 0;
}

int ice_readthrough_url_key(const ice_http_req *q, const char *const *key_names,
                            size_t n_key_names, char **key, ice_err *err)
{
	const char **chosen = calloc(q->n_headers + 1, sizeof *chosen);
	size_t n = 0;
	int rc;

	if (!chosen)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (size_t i = 0; i < q->n_headers; i++)
		if (takes_part(q->headers[i], key_names, n_key_names))
			chosen[n++] = q->headers[i];
	rc = ice_derive_url_key(q->method, q->url, chosen, n, q->body, q->body_len, key, err);
	free(chosen);
	return rc;
}
