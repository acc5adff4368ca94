/* s3: signed S3 requests with retries, and what their answers mean. */
#include "config.h"
#include "ice_s3.h"
#include "ice_s3xml.h"
#include "ice_sbuf.h"
#include "ice_sigv4.h"
#include "ice_xfer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ice_s3 {
	ice_s3_opts o;
	ice_aws_config cfg;
	ice_xfer *x;        /* opened at the first request */
	ice_io_stats stats;
};

int ice_s3_open(ice_s3 **s, const ice_s3_opts *o, ice_err *err)
{
	ice_s3 *c = calloc(1, sizeof *c);
	int rc;

	*s = NULL;
	if (!c)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	if (o)
		c->o = *o;
	else
		c->o.aws.path_style = -1;
	if ((rc = ice_aws_config_resolve(&c->o.aws, &c->cfg, err))) {
		free(c);
		return rc;
	}
	*s = c;
	return ICE_OK;
}

void ice_s3_close(ice_s3 *s)
{
	if (!s)
		return;
	ice_xfer_close(s->x);
	ice_aws_config_clear(&s->cfg);
	free(s);
}

const ice_aws_config *ice_s3_config(const ice_s3 *s)
{
	return &s->cfg;
}

const ice_io_stats *ice_s3_stats(const ice_s3 *s)
{
	return &s->stats;
}

/* ---- one request ------------------------------------------------------------ */

typedef struct {
	const char *method, *bucket, *key;
	const ice_kv *query;
	size_t n_query;
	const ice_kv *headers;
	size_t n_headers;
	size_t max_bytes;
} s3_req;

/* Where a bucket lives: scheme, Host header and the path before the key. */
typedef struct {
	char scheme[8];
	char host[512];
	char base[512]; /* "" or "/bucket" (path-style), plus an endpoint's own path */
} place;

static int place_of(const ice_s3 *s, const char *bucket, place *p, ice_err *err)
{
	const char *ep = s->cfg.endpoint, *h, *slash;
	int n;

	if (!ep) {
		snprintf(p->scheme, sizeof p->scheme, "https");
		/* Dotted names do not match the wildcard certificate: path-style. */
		if (s->cfg.path_style || strchr(bucket, '.')) {
			n = snprintf(p->host, sizeof p->host, "s3.%s.amazonaws.com", s->cfg.region);
			snprintf(p->base, sizeof p->base, "/%s", bucket);
		} else {
			n = snprintf(p->host, sizeof p->host, "%s.s3.%s.amazonaws.com", bucket,
			             s->cfg.region);
			p->base[0] = '\0';
		}
		return n < (int)sizeof p->host ? ICE_OK
		       : ice_err_set(err, ICE_EINVAL, "bucket name too long");
	}
	h = strstr(ep, "://") + 3;
	snprintf(p->scheme, sizeof p->scheme, "%.*s", (int)(h - 3 - ep), ep);
	slash = strchr(h, '/');
	n = slash ? (int)(slash - h) : (int)strlen(h);
	if (s->cfg.path_style) {
		snprintf(p->host, sizeof p->host, "%.*s", n, h);
		n = snprintf(p->base, sizeof p->base, "%s/%s", slash ? slash : "", bucket);
	} else {
		n = snprintf(p->host, sizeof p->host, "%s.%.*s", bucket, n, h);
		snprintf(p->base, sizeof p->base, "%s", slash ? slash : "");
	}
	return n < (int)sizeof p->base ? ICE_OK
	       : ice_err_set(err, ICE_EINVAL, "bucket name too long");
}

/* Sign and build the URL and header lines of one try. */
static int prepare(const ice_s3 *s, const s3_req *q, char **url, ice_sigv4_out *sig,
                   char ***lines, size_t *n_lines, ice_err *err)
{
	ice_sbuf path = ICE_SBUF_INIT, b = ICE_SBUF_INIT;
	ice_sigv4_key key = { s->cfg.access_key, s->cfg.secret_key, s->cfg.session_token };
	ice_sigv4_req r = { 0 };
	size_t i, n = 0;
	char **l;
	place p;
	int rc;

	*url = NULL;
	*lines = NULL;
	if ((rc = place_of(s, q->bucket, &p, err)))
		return rc;
	ice_sbuf_printf(&path, "%s/%s", p.base, q->key);
	if (path.oom)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	r.method = q->method;
	r.host = p.host;
	r.path = path.s;
	r.query = q->query;
	r.n_query = q->n_query;
	r.headers = q->headers;
	r.n_headers = q->n_headers;
	r.region = s->cfg.region;
	r.now = time(NULL);
	rc = ice_sigv4_sign(&r, s->cfg.access_key ? &key : NULL, sig, err);
	ice_sbuf_free(&path);
	if (rc)
		return rc;
	ice_sbuf_printf(&b, "%s://%s%s%s%s", p.scheme, p.host, sig->path, *sig->query ? "?" : "",
	                sig->query);
	l = calloc(q->n_headers + sig->n_headers + 1, sizeof *l);
	if (!l || !(*url = ice_sbuf_take(&b)))
		goto oom;
	/* The Host signed is the Host sent. */
	if (asprintf(&l[n++], "Host: %s", p.host) < 0)
		goto oom;
	for (i = 0; i < q->n_headers; i++)
		if (asprintf(&l[n++], "%s: %s", q->headers[i].name, q->headers[i].value) < 0)
			goto oom;
	for (i = 0; i < sig->n_headers; i++)
		if (!(l[n++] = strdup(sig->headers[i])))
			goto oom;
	*lines = l;
	*n_lines = n;
	return ICE_OK;
oom:
	for (i = 0; l && i < n; i++)
		free(l[i]);
	free(l);
	free(*url);
	*url = NULL;
	ice_sbuf_free(&b);
	ice_sigv4_out_free(sig);
	return ice_err_set(err, ICE_ENOMEM, "out of memory");
}

static void free_lines(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static bool has_header(const s3_req *q, const char *name)
{
	for (size_t i = 0; i < q->n_headers; i++)
		if (strcasecmp(q->headers[i].name, name) == 0)
			return true;
	return false;
}

static int try_once(ice_s3 *s, const s3_req *q, ice_xfer_resp *resp, ice_err *err)
{
	ice_xfer_req xq = { 0 };
	ice_sigv4_out sig;
	char *url, **lines;
	size_t n_lines = 0;
	int rc;

	if ((rc = prepare(s, q, &url, &sig, &lines, &n_lines, err)))
		return rc;
	ice_io_stats_count(&s->stats, q->method, q->n_query > 0, has_header(q, "If-None-Match"));
	xq.method = q->method;
	xq.url = url;
	xq.headers = (const char *const *)lines;
	xq.n_headers = n_lines;
	xq.timeout_ms = s->o.timeout_ms;
	xq.connect_timeout_ms = s->o.connect_timeout_ms;
	xq.max_bytes = q->max_bytes ? q->max_bytes : s->o.max_bytes;
	rc = ice_xfer_perform(s->x, &xq, resp, err);
	free(url);
	free_lines(lines, n_lines);
	ice_sigv4_out_free(&sig);
	return rc;
}

static void describe_status(const ice_xfer_resp *r, char *buf, size_t n)
{
	ice_s3_error_doc e;

	ice_s3_parse_error(r->body, r->len, &e);
	if (*e.code && *e.message)
		snprintf(buf, n, "HTTP %ld %s: %s", r->status, e.code, e.message);
	else if (*e.code)
		snprintf(buf, n, "HTTP %ld %s", r->status, e.code);
	else
		snprintf(buf, n, "HTTP %ld", r->status);
}

typedef struct {
	ice_s3 *s;
	const s3_req *q;
} s3_try;

static int try_fn(void *ctx, ice_xfer_resp *resp, ice_err *err)
{
	s3_try *t = ctx;

	return try_once(t->s, t->q, resp, err);
}

/* One request, tried again while the failure is transient and the policy
 * allows. ICE_OK: a final answer arrived (any status), in *resp. */
static int request(ice_s3 *s, const s3_req *q, ice_xfer_resp *resp, ice_err *err)
{
	char what[ICE_ERR_MSG_MAX / 2];
	s3_try t = { s, q };
	int rc;

	if (!s->x && (rc = ice_xfer_open(&s->x, err)))
		return rc;
	snprintf(what, sizeof what, "s3://%s/%s", q->bucket, q->key);
	return ice_xfer_retrying(&s->o.retry, what, try_fn, describe_status, &t, resp, &s->stats, err);
}

/* The error of a final answer that is not a success. */
static int status_error(const ice_s3 *s, const s3_req *q, const ice_xfer_resp *r, ice_err *err)
{
	char why[300];

	describe_status(r, why, sizeof why);
	if (r->status == 404)
		return ice_err_set(err, ICE_ENOENT, "s3://%s/%s: not found (%s)", q->bucket, q->key, why);
	if (r->status == 403 || r->status == 401)
		return ice_err_set(err, ICE_EACCES,
		                   "s3://%s/%s: access denied (%s) to bucket '%s', key '%s', "
		                   "credentials: %s", q->bucket, q->key, why, q->bucket, q->key,
		                   s->cfg.source);
	if (r->status == 412)
		return ice_err_set(err, ICE_EIO, "s3://%s/%s: the object changed while being read",
		                   q->bucket, q->key);
	if (r->status == 416)
		return ice_err_set(err, ICE_EINVAL, "s3://%s/%s: range beyond the end of the object",
		                   q->bucket, q->key);
	if (r->status == 301 || r->status == 400) {
		ice_s3_error_doc e;
		ice_s3_parse_error(r->body, r->len, &e);
		if (*e.region)
			return ice_err_set(err, ICE_EIO, "s3://%s/%s: %s (the bucket is in region %s; "
			                   "set AWS_REGION)", q->bucket, q->key, why, e.region);
	}
	return ice_err_set(err, ICE_EIO, "s3://%s/%s: %s", q->bucket, q->key, why);
}

/* ---- the operations ------------------------------------------------------------- */

/* What the final answer r to a GET means, into out (the body is taken). */
static int get_answer(const ice_s3 *s, const s3_req *q, const ice_s3_read *rd, ice_xfer_resp *r,
                      ice_obj *out, ice_err *err)
{
	int rc;

	if (r->status == 304 && rd && rd->if_none_match) {
		out->unchanged = true;
		return (out->info.etag = strdup(rd->if_none_match)) ? ICE_OK
		       : ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
	if (r->status != 200 && r->status != 206)
		return status_error(s, q, r, err);
	if ((rc = ice_xfer_resp_info(r, &out->info, err)))
		return rc;
	/* A store that ignored the Range sends everything: cut it here. */
	if (r->status == 200 && rd && rd->range)
		ice_xfer_resp_cut_range(r, rd->offset, rd->length);
	out->data = r->body ? r->body : calloc(1, 1);
	out->len = r->len;
	r->body = NULL;
	return out->data ? ICE_OK : ice_err_set(err, ICE_ENOMEM, "out of memory");
}

int ice_s3_get(ice_s3 *s, const char *bucket, const char *key, const ice_s3_read *rd,
               ice_obj *out, ice_err *err)
{
	ice_kv h[3];
	char range[64];
	size_t nh = 0;
	s3_req q = { "GET", bucket, key, NULL, 0, h, 0, 0 };
	ice_xfer_resp r;
	int rc;

	memset(out, 0, sizeof *out);
	out->info.mtime_ms = -1;
	if (rd && rd->range) {
		if (rd->length)
			snprintf(range, sizeof range, "bytes=%" PRIu64 "-%" PRIu64, rd->offset,
			         rd->offset + rd->length - 1);
		else
			snprintf(range, sizeof range, "bytes=%" PRIu64 "-", rd->offset);
		h[nh++] = (ice_kv){ "Range", range };
	}
	if (rd && rd->if_none_match)
		h[nh++] = (ice_kv){ "If-None-Match", rd->if_none_match };
	if (rd && rd->if_match)
		h[nh++] = (ice_kv){ "If-Match", rd->if_match };
	q.n_headers = nh;
	if ((rc = request(s, &q, &r, err)))
		return rc;
	if ((rc = get_answer(s, &q, rd, &r, out, err)) == ICE_OK && out->unchanged)
		s->stats.not_modified++;
	ice_xfer_resp_clear(&r);
	if (rc)
		ice_obj_clear(out);
	return rc;
}

/* ---- requests driven by the caller (prefetch.c) ------------------------------ */

int ice_s3_sign_get(const ice_s3 *s, const char *bucket, const char *key, ice_s3_signed *out,
                    ice_err *err)
{
	s3_req q = { "GET", bucket, key, NULL, 0, NULL, 0, 0 };
	ice_sigv4_out sig;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = prepare(s, &q, &out->url, &sig, &out->lines, &out->n_lines, err)))
		return rc;
	ice_sigv4_out_free(&sig);
	out->req = (ice_xfer_req){ 0 };
	out->req.method = "GET";
	out->req.url = out->url;
	out->req.headers = (const char *const *)out->lines;
	out->req.n_headers = out->n_lines;
	out->req.timeout_ms = s->o.timeout_ms;
	out->req.connect_timeout_ms = s->o.connect_timeout_ms;
	out->req.max_bytes = s->o.max_bytes;
	return ICE_OK;
}

void ice_s3_signed_clear(ice_s3_signed *sg)
{
	free(sg->url);
	free_lines(sg->lines, sg->n_lines);
	memset(sg, 0, sizeof *sg);
}

int ice_s3_get_answer(const ice_s3 *s, const char *bucket, const char *key, ice_xfer_resp *r,
                      ice_obj *out, ice_err *err)
{
	s3_req q = { "GET", bucket, key, NULL, 0, NULL, 0, 0 };
	int rc;

	memset(out, 0, sizeof *out);
	out->info.mtime_ms = -1;
	if ((rc = get_answer(s, &q, NULL, r, out, err)))
		ice_obj_clear(out);
	return rc;
}

int ice_s3_head(ice_s3 *s, const char *bucket, const char *key, ice_obj_info *out, ice_err *err)
{
	s3_req q = { "HEAD", bucket, key, NULL, 0, NULL, 0, 0 };
	ice_xfer_resp r;
	int rc;

	memset(out, 0, sizeof *out);
	out->mtime_ms = -1;
	if ((rc = request(s, &q, &r, err)))
		return rc;
	rc = r.status == 200 ? ice_xfer_resp_info(&r, out, err) : status_error(s, &q, &r, err);
	ice_xfer_resp_clear(&r);
	return rc;
}

static int list_page(ice_s3 *s, const char *bucket, const char *prefix, const char *delimiter,
                     const char *token, ice_listing *out, ice_s3_page *page, ice_err *err)
{
	char max_keys[16];
	ice_kv qv[6];
	size_t n = 0;
	s3_req q = { "GET", bucket, "", qv, 0, NULL, 0, 64u * 1024 * 1024 };
	ice_xfer_resp r;
	int rc;

	qv[n++] = (ice_kv){ "list-type", "2" };
	qv[n++] = (ice_kv){ "prefix", prefix };
	qv[n++] = (ice_kv){ "encoding-type", "url" };
	if (delimiter)
		qv[n++] = (ice_kv){ "delimiter", delimiter };
	if (token)
		qv[n++] = (ice_kv){ "continuation-token", token };
	if (s->o.list_page_keys > 0) {
		snprintf(max_keys, sizeof max_keys, "%d", s->o.list_page_keys);
		qv[n++] = (ice_kv){ "max-keys", max_keys };
	}
	q.n_query = n;
	if ((rc = request(s, &q, &r, err)))
		return rc;
	if (r.status != 200)
		rc = status_error(s, &q, &r, err);
	else if ((rc = ice_s3_parse_list(r.body, r.len, out, page, err)))
		ice_err_prefix(err, "s3://%s/%s: ", bucket, prefix);
	ice_xfer_resp_clear(&r);
	return rc;
}

int ice_s3_list(ice_s3 *s, const char *bucket, const char *prefix, const char *delimiter,
                ice_listing *out, ice_err *err)
{
	char *token = NULL;
	ice_s3_page page;
	int rc, pages = 0;

	do {
		rc = list_page(s, bucket, prefix, delimiter, token, out, &page, err);
		free(token);
		token = NULL;
		if (rc)
			break;
		/* A store that hands back the same token forever must not loop us. */
		if (page.truncated && ++pages > 1000000) {
			rc = ice_err_set(err, ICE_EFORMAT, "s3://%s/%s: listing does not end", bucket,
			                 prefix);
			free(page.next_token);
			break;
		}
		token = page.truncated ? page.next_token : (free(page.next_token), NULL);
	} while (token);
	return rc;
}
