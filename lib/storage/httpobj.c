/* httpobj: plain HTTP(S) objects, with the retries and checks of S3 reads. */
#include "config.h"
#include "ice_httpobj.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	ice_xfer *x;
	ice_xfer_req q;
	ice_io_stats *stats;
	bool conditional;
} http_try;

static int try_fn(void *ctx, ice_xfer_resp *resp, ice_err *err)
{
	http_try *t = ctx;

	ice_io_stats_count(t->stats, t->q.method, false, t->conditional);
	return ice_xfer_perform(t->x, &t->q, resp, err);
}

static int fetch(ice_xfer *x, const ice_s3_opts *o, const char *url, const ice_httpobj_read *rd,
                 ice_xfer_resp *resp, ice_io_stats *stats, ice_err *err)
{
	char range[64], inm[300];
	const char *lines[2];
	http_try t = { x, { 0 }, stats, rd->if_none_match != NULL };

	t.q.method = rd->method;
	t.q.url = url;
	t.q.headers = lines;
	t.q.timeout_ms = o->timeout_ms;
	t.q.connect_timeout_ms = o->connect_timeout_ms;
	t.q.max_bytes = o->max_bytes;
	t.q.follow_redirects = true;
	if (rd->range) {
		if (rd->length)
			snprintf(range, sizeof range, "Range: bytes=%" PRIu64 "-%" PRIu64, rd->offset,
			         rd->offset + rd->length - 1);
		else
			snprintf(range, sizeof range, "Range: bytes=%" PRIu64 "-", rd->offset);
		lines[t.q.n_headers++] = range;
	}
	if (rd->if_none_match) {
		snprintf(inm, sizeof inm, "If-None-Match: %.250s", rd->if_none_match);
		lines[t.q.n_headers++] = inm;
	}
	return ice_xfer_retrying(&o->retry, url, try_fn, NULL, &t, resp, stats, err);
}

static int status_error(const char *url, long status, ice_err *err)
{
	if (status == 404 || status == 410)
		return ice_err_set(err, ICE_ENOENT, "%.400s: not found (HTTP %ld)", url, status);
	if (status == 401 || status == 403)
		return ice_err_set(err, ICE_EACCES, "%.400s: access denied (HTTP %ld)", url, status);
	if (status == 416)
		return ice_err_set(err, ICE_EINVAL, "%.400s: range beyond the end of the object", url);
	return ice_err_set(err, ICE_EIO, "%.400s: HTTP %ld", url, status);
}

int ice_httpobj_get(ice_xfer *x, const ice_s3_opts *o, const char *url,
                    const ice_httpobj_read *rd, ice_obj *out, ice_io_stats *stats, ice_err *err)
{
	ice_xfer_resp r;
	int rc;

	memset(out, 0, sizeof *out);
	out->info.mtime_ms = -1;
	if ((rc = fetch(x, o, url, rd, &r, stats, err)))
		return rc;
	if (r.status == 304 && rd->if_none_match) {
		stats->not_modified++;
		out->unchanged = true;
		if (!(out->info.etag = strdup(rd->if_none_match)))
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if (r.status != 200 && r.status != 206) {
		rc = status_error(url, r.status, err);
		goto out;
	}
	if ((rc = ice_xfer_resp_info(&r, &out->info, err)))
		goto out;
	if (r.status == 200 && rd->range)
		ice_xfer_resp_cut_range(&r, rd->offset, rd->length);
	if (strcmp(rd->method, "HEAD") != 0) {
		out->data = r.body ? r.body : calloc(1, 1);
		out->len = r.len;
		r.body = NULL;
		if (!out->data)
			rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
	}
out:
	ice_xfer_resp_clear(&r);
	if (rc)
		ice_obj_clear(out);
	return rc;
}
