/* xfer: one HTTP request on a kept libcurl handle, with the body, the
 * headers a store reports about an object, and truncation detected. */
#include "config.h"
#include "ice_xfer.h"
#include "ice_curl.h"

#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_BYTES (512u * 1024u * 1024u)

typedef struct {
	ice_xfer_resp *r;
	size_t cap, max;
	bool too_big, oom;
} sink;

struct ice_xfer {
	const ice_curl_api *cu;
	CURL *curl;
	/* The request under way (between ice_xfer_begin and ice_xfer_finish). */
	const ice_xfer_req *q;
	sink s;
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers;
};

int ice_xfer_open(ice_xfer **x, ice_err *err)
{
	const ice_curl_api *cu = ice_curl_load(err);

	*x = NULL;
	if (!cu)
		return err ? err->code : ICE_EUNSUPPORTED;
	if (!(*x = calloc(1, sizeof **x)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	(*x)->cu = cu;
	if (!((*x)->curl = cu->easy_init())) {
		free(*x);
		*x = NULL;
		return ice_err_set(err, ICE_ENOMEM, "cannot start libcurl");
	}
	return ICE_OK;
}

void ice_xfer_close(ice_xfer *x)
{
	if (!x)
		return;
	x->cu->slist_free_all(x->headers);
	x->cu->easy_cleanup(x->curl);
	free(x);
}

void ice_xfer_resp_clear(ice_xfer_resp *r)
{
	free(r->body);
	free(r->etag);
	free(r->last_modified);
	free(r->content_range);
	free(r->retry_after);
	memset(r, 0, sizeof *r);
	r->content_length = -1;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	sink *s = ctx;
	ice_xfer_resp *r = s->r;
	size_t len = size * n;

	if (r->len + len > s->max) {
		s->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (r->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 16 * 1024;
		char *q;

		while (cap < r->len + len + 1)
			cap *= 2;
		if (!(q = realloc(r->body, cap))) {
			s->oom = true;
			return 0;
		}
		r->body = q;
		s->cap = cap;
	}
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static char *header_of(const ice_xfer *x, const char *name)
{
	struct curl_header *h = NULL;

	if (x->cu->easy_header(x->curl, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
		return NULL;
	return strdup(h->value);
}

static int set_request(ice_xfer *x, const ice_xfer_req *q, sink *s, char *errbuf,
                       struct curl_slist **list)
{
	const ice_curl_api *cu = x->cu;
	CURL *c = x->curl;
	char agent[64];

	*list = NULL;
	for (size_t i = 0; i < q->n_headers; i++) {
		struct curl_slist *next = cu->slist_append(*list, q->headers[i]);
		if (!next)
			return ICE_ENOMEM;
		*list = next;
	}
	/* Reset drops the options of the last request, not its connections. */
	cu->easy_reset(c);
	snprintf(agent, sizeof agent, "icecache/%s", PACKAGE_VERSION);
	cu->easy_setopt(c, CURLOPT_URL, q->url);
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cu->easy_setopt(c, CURLOPT_USERAGENT, agent);
	cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cu->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, q->follow_redirects ? 1L : 0L);
	cu->easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	cu->easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(q->timeout_ms > 0 ? q->timeout_ms : 60000));
	cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	                (long)(q->connect_timeout_ms > 0 ? q->connect_timeout_ms : 10000));
	cu->easy_setopt(c, CURLOPT_HTTPHEADER, *list);
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	cu->easy_setopt(c, CURLOPT_WRITEDATA, s);
	/* Bytes as stored: an object's ETag and length are those of its bytes. */
	cu->easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	if (q->method && strcmp(q->method, "HEAD") == 0)
		cu->easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (q->method && strcmp(q->method, "GET") != 0)
		cu->easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	if (q->body) {
		cu->easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
		cu->easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
	}
	/* Verification stays on: a CA bundle only replaces the trusted roots. */
	if (q->ca_bundle)
		cu->easy_setopt(c, CURLOPT_CAINFO, q->ca_bundle);
	return ICE_OK;
}

/* Failures where the same request may well succeed a moment later. */
static bool transient_code(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

static int transport_error(const ice_xfer *x, const ice_xfer_req *q, ice_xfer_resp *r,
                           const sink *s, CURLcode cc, const char *errbuf, ice_err *err)
{
	const char *why = *errbuf ? errbuf : x->cu->easy_strerror(cc);

	r->transient = transient_code(cc);
	if (s->oom)
		return ice_err_set(err, ICE_ENOMEM, "%.300s: out of memory", q->url);
	if (s->too_big || cc == CURLE_FILESIZE_EXCEEDED)
		return ice_err_set(err, ICE_ETOOBIG, "%.300s: larger than %zu bytes", q->url, s->max);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return ice_err_set(err, ICE_ETIMEOUT, "%.300s: timed out (%.150s)", q->url, why);
	if (cc == CURLE_PARTIAL_FILE)
		return ice_err_set(err, ICE_EIO, "%.300s: truncated body (%.150s)", q->url, why);
	return ice_err_set(err, ICE_EIO, "%.300s: %.150s", q->url, why);
}

static void collect(ice_xfer *x, ice_xfer_resp *r)
{
	curl_off_t cl = -1;

	x->cu->easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &r->status);
	x->cu->easy_getinfo(x->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	r->content_length = cl;
	r->etag = header_of(x, "ETag");
	r->last_modified = header_of(x, "Last-Modified");
	r->content_range = header_of(x, "Content-Range");
	r->retry_after = header_of(x, "Retry-After");
}

int ice_xfer_begin(ice_xfer *x, const ice_xfer_req *q, ice_xfer_resp *r, ice_err *err)
{
	int rc;

	memset(r, 0, sizeof *r);
	r->content_length = -1;
	x->q = q;
	x->s = (sink){ r, 0, q->max_bytes ? q->max_bytes : DEFAULT_MAX_BYTES, false, false };
	x->errbuf[0] = '\0';
	if ((rc = set_request(x, q, &x->s, x->errbuf, &x->headers))) {
		x->cu->slist_free_all(x->headers);
		x->headers = NULL;
		return ice_err_set(err, rc, "out of memory");
	}
	return ICE_OK;
}

void *ice_xfer_handle(ice_xfer *x)
{
	return x->curl;
}

int ice_xfer_finish(ice_xfer *x, int code, ice_err *err)
{
	const ice_xfer_req *q = x->q;
	ice_xfer_resp *r = x->s.r;
	bool head = q->method && strcmp(q->method, "HEAD") == 0;
	CURLcode cc = (CURLcode)code;
	int rc = ICE_OK;

	collect(x, r);
	if (cc != CURLE_OK) {
		rc = transport_error(x, q, r, &x->s, cc, x->errbuf, err);
		goto out;
	}
	/* curl catches a short body on a kept connection; this catches the rest
	 * (and a longer one), so a partial object is never handed on. */
	/* A 304 or 204 has no body whatever its Content-Length says. */
	if (!head && r->status != 304 && r->status != 204 && r->content_length >= 0 &&
	    (uint64_t)r->content_length != r->len) {
		r->transient = true;
		rc = ice_err_set(err, ICE_EIO, "%.300s: truncated body (%zu of %lld bytes)", q->url,
		                 r->len, (long long)r->content_length);
	}
out:
	if (rc) {
		free(r->body);
		r->body = NULL;
		r->len = 0;
	}
	x->cu->slist_free_all(x->headers);
	x->headers = NULL;
	x->q = NULL;
	return rc;
}

int ice_xfer_perform(ice_xfer *x, const ice_xfer_req *q, ice_xfer_resp *r, ice_err *err)
{
	int rc;

	if ((rc = ice_xfer_begin(x, q, r, err)))
		return rc;
	return ice_xfer_finish(x, x->cu->easy_perform(x->curl), err);
}

int64_t ice_xfer_date_ms(const char *s)
{
	const ice_curl_api *cu;
	struct tm tm;
	time_t t;
	int ms = 0;

	if (!s)
		return -1;
	/* S3 listings: "2024-01-01T00:00:00.000Z" (UTC). */
	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
	           &tm.tm_min, &tm.tm_sec) == 6) {
		if (s[19] == '.')
			ms = atoi(s + 20) % 1000;
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		t = timegm(&tm);
		return t < 0 ? -1 : (int64_t)t * 1000 + ms;
	}
	if (!(cu = ice_curl_load(NULL)) || (t = cu->getdate(s, NULL)) < 0)
		return -1;
	return (int64_t)t * 1000;
}

/* ---- retries and what an answer says about its object ---------------------- */

bool ice_xfer_status_transient(long status)
{
	return status == 500 || status == 502 || status == 503 || status == 504 || status == 429;
}

void ice_io_stats_count(ice_io_stats *s, const char *method, bool listing, bool conditional)
{
	if (method && strcmp(method, "HEAD") == 0)
		s->heads++;
	else if (listing)
		s->lists++;
	else if (conditional)
		s->conditional++;
	else
		s->gets++;
}

int ice_xfer_retrying(const ice_retry_policy *p, const char *what, ice_xfer_try_fn try_fn,
                      ice_xfer_why_fn why_fn, void *ctx, ice_xfer_resp *resp, ice_io_stats *stats,
                      ice_err *err)
{
	char why[ICE_ERR_MSG_MAX] = "";
	ice_retry r;
	int rc;

	ice_retry_start(&r, p);
	for (;;) {
		stats->requests++;
		rc = try_fn(ctx, resp, err);
		stats->bytes += resp->len;
		if (rc == ICE_OK && !ice_xfer_status_transient(resp->status))
			return ICE_OK;
		if (rc && !resp->transient) {
			ice_xfer_resp_clear(resp);
			return rc;
		}
		if (rc)
			snprintf(why, sizeof why, "%s", err ? err->msg : "transport error");
		else if (why_fn)
			why_fn(resp, why, sizeof why);
		else
			snprintf(why, sizeof why, "HTTP %ld", resp->status);
		ice_xfer_resp_clear(resp);
		if (!ice_retry_again(&r))
			break;
		stats->retries++;
	}
	/* A transport error names the URL already: say `what` only once. */
	if (strncmp(why, what, strlen(what)) == 0)
		return ice_err_set(err, rc ? rc : ICE_EIO, "%.400s (gave up after %d tries in %lld ms)",
		                   why, r.attempt, (long long)ice_retry_elapsed_ms(&r));
	return ice_err_set(err, rc ? rc : ICE_EIO, "%.200s: %.300s (gave up after %d tries in %lld ms)",
	                   what, why, r.attempt, (long long)ice_retry_elapsed_ms(&r));
}

int ice_xfer_resp_info(const ice_xfer_resp *r, ice_obj_info *info, ice_err *err)
{
	const char *slash = r->content_range ? strchr(r->content_range, '/') : NULL;
	char *end;

	info->mtime_ms = ice_xfer_date_ms(r->last_modified);
	info->size = r->content_length >= 0 ? (uint64_t)r->content_length : r->len;
	/* "bytes 0-9/1234": the whole object is 1234 bytes. */
	if (r->status == 206 && slash && slash[1] != '*') {
		uint64_t total = strtoull(slash + 1, &end, 10);
		if (end != slash + 1)
			info->size = total;
	}
	if (r->etag && !(info->etag = strdup(r->etag)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	return ICE_OK;
}

void ice_xfer_resp_cut_range(ice_xfer_resp *r, uint64_t offset, uint64_t length)
{
	uint64_t off = offset < r->len ? offset : r->len;
	uint64_t n = length && length < r->len - off ? length : r->len - off;

	if (!r->body)
		return;
	memmove(r->body, r->body + off, n);
	r->len = n;
	r->body[n] = '\0';
}
