/* storage: one interface over local files, S3 and HTTP(S) objects. */
#include "config.h"
#include "ice_storage.h"
#include "ice_httpobj.h"
#include "ice_local.h"
#include "ice_path.h"
#include "ice_prefetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ice_storage {
	ice_storage_opts o;
	ice_s3 *s3;          /* at the first s3:// URI */
	ice_xfer *http;      /* at the first http(s):// URI */
	ice_io_stats http_stats;
	ice_objcache *cache;  /* at the first immutable remote read */
	bool cache_opened;
	ice_prefetch *pf;     /* at the first prefetch of an S3 object */
	bool pf_failed;       /* could not start: no prefetching */
};

int ice_storage_open(ice_storage **st, const ice_storage_opts *o, ice_err *err)
{
	if (!(*st = calloc(1, sizeof **st)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (o)
		(*st)->o = *o;
	else
		(*st)->o.s3.aws.path_style = -1;
	return ICE_OK;
}

void ice_storage_close(ice_storage *st)
{
	if (!st)
		return;
	ice_prefetch_close(st->pf); /* before the ice_s3 it reads */
	ice_s3_close(st->s3);
	ice_objcache_close(st->cache);
	ice_xfer_close(st->http);
	free(st);
}

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

ice_uri_kind ice_uri_kind_of(const char *uri)
{
	if (has_prefix(uri, "s3://") || has_prefix(uri, "s3a://") || has_prefix(uri, "s3n://"))
		return ICE_URI_S3;
	if (has_prefix(uri, "http://") || has_prefix(uri, "https://"))
		return ICE_URI_HTTP;
	return ICE_URI_LOCAL;
}

bool ice_uri_is_remote(const char *uri)
{
	return ice_uri_kind_of(uri) != ICE_URI_LOCAL;
}

/* s3://BUCKET/KEY -> BUCKET and KEY (caller frees both). */
static int split_s3(const char *uri, char **bucket, char **key, ice_err *err)
{
	const char *b = strstr(uri, "://") + 3, *slash = strchr(b, '/');
	size_t n = slash ? (size_t)(slash - b) : strlen(b);

	*bucket = *key = NULL;
	if (n == 0)
		return ice_err_set(err, ICE_EINVAL, "%.300s: no bucket in the URI", uri);
	if (!(*bucket = strndup(b, n)) || !(*key = strdup(slash ? slash + 1 : ""))) {
		free(*bucket);
		*bucket = NULL;
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	return ICE_OK;
}

static int need_s3(ice_storage *st, ice_err *err)
{
	return st->s3 ? ICE_OK : ice_s3_open(&st->s3, &st->o.s3, err);
}

static int need_http(ice_storage *st, ice_err *err)
{
	return st->http ? ICE_OK : ice_xfer_open(&st->http, err);
}

/* A local path from a path or a file: URI (caller frees). */
static char *local_path(const char *uri, ice_err *err)
{
	char *p = has_prefix(uri, "file:") ? ice_location_normalize(uri) : strdup(uri);

	if (!p)
		ice_err_set(err, ICE_ENOMEM, "out of memory");
	return p;
}

typedef struct {
	bool range, head;
	uint64_t offset, length;
	const char *if_none_match;
} read_req;

static int read_s3(ice_storage *st, const char *uri, const read_req *q, ice_obj *out,
                   ice_err *err)
{
	ice_s3_read rd = { q->range, q->offset, q->length, q->if_none_match, NULL };
	char *bucket, *key;
	int rc;

	if ((rc = need_s3(st, err)) || (rc = split_s3(uri, &bucket, &key, err)))
		return rc;
	if (q->head) {
		memset(out, 0, sizeof *out);
		rc = ice_s3_head(st->s3, bucket, key, &out->info, err);
	} else {
		rc = ice_s3_get(st->s3, bucket, key, &rd, out, err);
	}
	free(bucket);
	free(key);
	return rc;
}

static int read_any(ice_storage *st, const char *uri, const read_req *q, ice_obj *out,
                    ice_err *err)
{
	size_t max = st->o.s3.max_bytes;
	char *path;
	int rc;

	switch (ice_uri_kind_of(uri)) {
	case ICE_URI_S3:
		return read_s3(st, uri, q, out, err);
	case ICE_URI_HTTP: {
		ice_httpobj_read rd = { q->head ? "HEAD" : "GET", q->range, q->offset, q->length,
		                        q->if_none_match };
		if ((rc = need_http(st, err)))
			return rc;
		return ice_httpobj_get(st->http, &st->o.s3, uri, &rd, out, &st->http_stats, err);
	}
	case ICE_URI_LOCAL:
		break;
	}
	if (!(path = local_path(uri, err)))
		return ICE_ENOMEM;
	if (q->head) {
		memset(out, 0, sizeof *out);
		rc = ice_local_stat(path, &out->info, err);
	} else if (q->range) {
		rc = ice_local_read_range(path, q->offset, q->length, max, out, err);
	} else {
		rc = ice_local_read_if(path, q->if_none_match, max, out, err);
	}
	free(path);
	return rc;
}

int ice_storage_read(ice_storage *st, const char *uri, ice_obj *out, ice_err *err)
{
	read_req q = { 0 };

	return read_any(st, uri, &q, out, err);
}

/* One object, one entry: s3a:// and s3n:// name what s3:// names. */
static char *cache_key(const char *uri)
{
	char *k;

	if (ice_uri_kind_of(uri) != ICE_URI_S3)
		return strdup(uri);
	return asprintf(&k, "s3://%s", strstr(uri, "://") + 3) < 0 ? NULL : k;
}

int ice_storage_read_immutable(ice_storage *st, const char *uri, ice_obj *out, ice_err *err)
{
	bool found = false;
	char *key;
	int rc;

	if (!ice_uri_is_remote(uri))
		return ice_storage_read(st, uri, out, err);
	if (!(key = cache_key(uri)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	/* The cache is a help, never a failure: when it cannot open, go on. */
	if (!st->cache_opened) {
		st->cache_opened = true;
		ice_objcache_open(&st->cache, &st->o.cache, NULL);
	}
	if ((st->pf && ice_prefetch_take(st->pf, key, out)) ||
	    (ice_objcache_get(st->cache, key, out, &found, NULL) == ICE_OK && found)) {
		free(key);
		return ICE_OK;
	}
	if ((rc = ice_storage_read(st, uri, out, err)) == ICE_OK)
		ice_objcache_put(st->cache, key, out, NULL);
	free(key);
	return rc;
}

int ice_storage_concurrency(const ice_storage_opts *o)
{
	const char *e = getenv("ICE_S3_CONCURRENCY");
	int n = o && o->concurrency > 0 ? o->concurrency : e && *e ? atoi(e) : 0;

	return n < 1 ? ICE_STORAGE_CONCURRENCY : n > 256 ? 256 : n;
}

static int need_prefetch(ice_storage *st, ice_err *err)
{
	int rc;

	if (st->pf)
		return ICE_OK;
	if ((rc = need_s3(st, err)) ||
	    (rc = ice_prefetch_open(&st->pf, st->s3, &st->o.cache, &st->o.s3.retry,
	                            ice_storage_concurrency(&st->o), err)))
		st->pf_failed = true;
	return rc;
}

int ice_storage_prefetch(ice_storage *st, const char *const *uris, size_t n, ice_err *err)
{
	char *bucket, *okey, *key;
	int rc = ICE_OK;

	for (size_t i = 0; i < n && rc == ICE_OK; i++) {
		if (ice_uri_kind_of(uris[i]) != ICE_URI_S3)
			continue;
		if (st->pf_failed)
			return ICE_OK; /* reads go one by one, as without prefetching */
		if ((rc = need_prefetch(st, err)) || (rc = split_s3(uris[i], &bucket, &okey, err)))
			return rc;
		if (!(key = cache_key(uris[i])))
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		else
			rc = ice_prefetch_add(st->pf, key, bucket, okey, err);
		free(key);
		free(bucket);
		free(okey);
	}
	return rc;
}

int ice_storage_read_range(ice_storage *st, const char *uri, uint64_t offset, uint64_t length,
                           ice_obj *out, ice_err *err)
{
	read_req q = { true, false, offset, length, NULL };

	return read_any(st, uri, &q, out, err);
}

int ice_storage_read_if(ice_storage *st, const char *uri, const char *etag, ice_obj *out,
                        ice_err *err)
{
	read_req q = { false, false, 0, 0, etag };

	return read_any(st, uri, &q, out, err);
}

int ice_storage_stat(ice_storage *st, const char *uri, ice_obj_info *out, ice_err *err)
{
	read_req q = { false, true, 0, 0, NULL };
	ice_obj o;
	int rc;

	memset(out, 0, sizeof *out);
	out->mtime_ms = -1;
	if ((rc = read_any(st, uri, &q, &o, err)))
		return rc;
	*out = o.info;
	free(o.data);
	return ICE_OK;
}

/* s3://b/t/metadata -> keys under "t/metadata/", named s3://b/KEY again. */
static int list_s3(ice_storage *st, const char *uri, bool recursive, ice_listing *out,
                   ice_err *err)
{
	char *bucket, *key, *prefix = NULL, *scheme_end = strstr(uri, "://");
	size_t first = out->n, n;
	int rc;

	if ((rc = need_s3(st, err)) || (rc = split_s3(uri, &bucket, &key, err)))
		return rc;
	n = strlen(key);
	if (n && key[n - 1] != '/' ? asprintf(&prefix, "%s/", key) < 0 : !(prefix = strdup(key))) {
		prefix = NULL;
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = ice_s3_list(st->s3, bucket, prefix, recursive ? NULL : "/", out, err)))
		goto out;
	for (size_t i = first; i < out->n; i++) {
		char *full;
		if (asprintf(&full, "%.*s%s/%s", (int)(scheme_end + 3 - uri), uri, bucket,
		             out->v[i].name) < 0) {
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
			goto out;
		}
		free(out->v[i].name);
		out->v[i].name = full;
	}
	ice_listing_sort(out);
out:
	free(bucket);
	free(key);
	free(prefix);
	return rc;
}

int ice_storage_list(ice_storage *st, const char *uri, bool recursive, ice_listing *out,
                     ice_err *err)
{
	char *path;
	int rc;

	switch (ice_uri_kind_of(uri)) {
	case ICE_URI_S3:
		return list_s3(st, uri, recursive, out, err);
	case ICE_URI_HTTP:
		return ice_err_set(err, ICE_EUNSUPPORTED, "%.300s: http(s) folders cannot be listed",
		                   uri);
	case ICE_URI_LOCAL:
		break;
	}
	if (!(path = local_path(uri, err)))
		return ICE_ENOMEM;
	rc = ice_local_list(path, recursive, out, err);
	free(path);
	return rc;
}

ice_io_stats ice_storage_stats(const ice_storage *st)
{
	ice_io_stats s = st->http_stats;

	if (st->pf) {
		ice_objcache_stats c;
		ice_io_stats p;
		ice_prefetch_stats(st->pf, &p, &c);
		s.requests += p.requests;
		s.retries += p.retries;
		s.bytes += p.bytes;
		s.gets += p.gets;
	}
	if (st->s3) {
		const ice_io_stats *t = ice_s3_stats(st->s3);
		s.requests += t->requests;
		s.retries += t->retries;
		s.bytes += t->bytes;
		s.not_modified += t->not_modified;
		s.gets += t->gets;
		s.heads += t->heads;
		s.lists += t->lists;
		s.conditional += t->conditional;
	}
	return s;
}

ice_objcache_stats ice_storage_cache_stats(const ice_storage *st)
{
	ice_objcache_stats s = ice_objcache_stats_of(st->cache), p;
	ice_io_stats io;

	if (st->pf) {
		ice_prefetch_stats(st->pf, &io, &p);
		s.hits += p.hits;
		s.misses += p.misses;
		s.stored += p.stored;
		s.corrupt += p.corrupt;
		s.evicted += p.evicted;
	}
	return s;
}

const char *ice_storage_credential_source(const ice_storage *st)
{
	return st->s3 ? ice_s3_config(st->s3)->source : NULL;
}
