/* httpobj: plain HTTP(S) objects, with the retries and checks of S3 reads. */
#include "config.h"
#include "ice_httpobj.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool retry_status(long status)
{
	return status == 500 || status == 502 || status == 503 || status == 504 || status == 429;
}

static int fetch(ice_xfer *x, const ice_s3_opts *o, const char *url, const ice_httpobj_read *rd,
                 ice_xfer_resp *resp, ice_io_stats *stats, ice_err *err)
{
	char range[64], inm[300], why[ICE_ERR_MSG_MAX] = "";
	const char *lines[2];
	ice_xfer_req q = { 0 };
	ice_retry r;
	int rc;

	q.method = rd->method;
	q.url = url;
	q.headers = lines;
	q.timeout_ms = o->timeout_ms;
	q.connect_timeout_ms = o->connect_timeout_ms;
	q.max_bytes = o->max_bytes;
	q.follow_redirects = true;
	if (rd->range) {
		if (rd->length)
			snprintf(range, sizeof range, "Range: bytes=%" PRIu64 "-%" PRIu64, rd->offset,
			         rd->offset + rd->length - 1);
		else
			snprintf(range, sizeof range, "Range: bytes=%" PRIu64 "-", rd->offset);
		lines[q.n_headers++] = range;
	}
	if (rd->if_none_match) {
		snprintf(inm, sizeof inm, "If-None-Match: %.250s", rd->if_none_match);
		lines[q.n_headers++] = inm;
	}
	ice_retry_start(&r, &o->retry);
	for (;;) {
		stats->requests++;
		rc = ice_xfer_perform(x, &q, resp, err);
		stats->bytes += resp->len;
		if (rc == ICE_OK && !retry_status(resp->status))
			return ICE_OK;
		if (rc && !resp->transient) {
			ice_xfer_resp_clear(resp);
			return rc;
		}
		if (rc)
			snprintf(why, sizeof why, "%s", err ? err->msg : "transport error");
		else
			snprintf(why, sizeof why, "%s: HTTP %ld", url, resp->status);
		ice_xfer_resp_clear(resp);
		if (!ice_retry_again(&r))
			break;
		stats->retries++;
	}
	return ice_err_set(err, rc ? rc : ICE_EIO, "%.400s (gave up after %d tries in %" PRId64 " ms)",
	                   why, r.attempt, ice_retry_elapsed_ms(&r));
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
	const char *slash;
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
	out->info.mtime_ms = ice_xfer_date_ms(r.last_modified);
	out->info.size = r.content_length >= 0 ? (uint64_t)r.content_length : r.len;
	if (r.status == 206 && r.content_range && (slash = strchr(r.content_range, '/')) &&
	    slash[1] != '*')
		out->info.size = strtoull(slash + 1, NULL, 10);
	if (r.etag && !(out->info.etag = strdup(r.etag))) {
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
		goto out;
	}
	if (r.status == 200 && rd->range && r.body) { /* the server ignored Range */
		uint64_t off = rd->offset < r.len ? rd->offset : r.len;
		uint64_t n = rd->length && rd->length < r.len - off ? rd->length : r.len - off;
		memmove(r.body, r.body + off, n);
		r.len = n;
		r.body[n] = '\0';
	}
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
