/* fetch: HTTP(S) requests with libcurl, and HTTP freshness rules. */
#include "config.h"
#include "ice_fetch.h"
#include "ice_curl.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* libcurl is loaded when the first URL is fetched (ice_curl.h). */
static const ice_curl_api *cu_api;
#define cu (*cu_api)

static int load_curl(ice_err *err)
{
	if (!cu_api && !(cu_api = ice_curl_load(err)))
		return err ? err->code : ICE_EUNSUPPORTED;
	return ICE_OK;
}

static time_t parse_http_date(const char *s)
{
	return load_curl(NULL) == ICE_OK ? cu.getdate(s, NULL) : -1;
}

#define DEFAULT_MAX_BYTES (512u * 1024u * 1024u)

typedef struct {
	CURL *curl;
	ice_http_resp *r;
	size_t cap, max;
	bool too_big;
	char status_line[128]; /* of the last response, for error messages */
} transfer;

void ice_http_resp_clear(ice_http_resp *r)
{
	free(r->body);
	free(r->effective_url);
	free(r->etag);
	free(r->last_modified);
	free(r->cache_control);
	free(r->expires);
	free(r->date);
	free(r->age);
	memset(r, 0, sizeof *r);
}

/* Keep the body only of a success: redirect and error bodies are not ours. */
static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	transfer *t = ctx;
	ice_http_resp *r = t->r;
	long code = 0;
	size_t len = size * n;

	cu.easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299)
		return len;
	if (r->len + len > t->max) {
		t->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (r->len + len + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 64 * 1024;
		char *q;

		while (cap < r->len + len + 1)
			cap *= 2;
		if (!(q = realloc(r->body, cap)))
			return 0;
		r->body = q;
		t->cap = cap;
	}
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

/* Remember the status line of each response (the last one is the final). */
static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	transfer *t = ctx;
	size_t len = size * n, k;

	if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		k = len < sizeof t->status_line - 1 ? len : sizeof t->status_line - 1;
		memcpy(t->status_line, p, k);
		while (k && isspace((unsigned char)p[k - 1]))
			k--;
		t->status_line[k] = '\0';
	}
	return len;
}

static char *header_of(CURL *curl, const char *name)
{
	struct curl_header *h = NULL;

	if (cu.easy_header(curl, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
		return NULL;
	return strdup(h->value);
}

static void collect_headers(CURL *curl, ice_http_resp *r)
{
	char *url = NULL;

	r->etag = header_of(curl, "ETag");
	r->last_modified = header_of(curl, "Last-Modified");
	r->cache_control = header_of(curl, "Cache-Control");
	r->expires = header_of(curl, "Expires");
	r->date = header_of(curl, "Date");
	r->age = header_of(curl, "Age");
	cu.easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &url);
	r->effective_url = url ? strdup(url) : NULL;
	cu.easy_getinfo(curl, CURLINFO_REDIRECT_COUNT, &r->redirects);
}

/* Request headers: the user's, then the validators. */
static int request_headers(const ice_http_req *q, struct curl_slist **list)
{
	char line[2048];
	struct curl_slist *l = NULL, *next;

	for (size_t i = 0; i < q->n_headers; i++) {
		if (!(next = cu.slist_append(l, q->headers[i])))
			goto fail;
		l = next;
	}
	if (q->etag) {
		snprintf(line, sizeof line, "If-None-Match: %s", q->etag);
		if (!(next = cu.slist_append(l, line)))
			goto fail;
		l = next;
	}
	if (q->last_modified) {
		snprintf(line, sizeof line, "If-Modified-Since: %s", q->last_modified);
		if (!(next = cu.slist_append(l, line)))
			goto fail;
		l = next;
	}
	*list = l;
	return ICE_OK;
fail:
	cu.slist_free_all(l);
	return ICE_ENOMEM;
}

static void set_method(CURL *curl, const ice_http_req *q)
{
	const char *m = q->method;

	if (q->body) {
		cu.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
		cu.easy_setopt(curl, CURLOPT_POSTFIELDS, q->body);
		if (m && strcmp(m, "POST") != 0)
			cu.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, m);
	} else if (m && strcmp(m, "HEAD") == 0) {
		cu.easy_setopt(curl, CURLOPT_NOBODY, 1L);
	} else if (m && strcmp(m, "GET") != 0) {
		cu.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, m);
	}
}

static void set_options(CURL *curl, const ice_http_req *q, transfer *t, char *errbuf,
                        struct curl_slist *headers)
{
	char agent[64];

	snprintf(agent, sizeof agent, "icecache/%s", PACKAGE_VERSION);
	cu.easy_setopt(curl, CURLOPT_URL, q->url);
	cu.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	cu.easy_setopt(curl, CURLOPT_USERAGENT, agent);
	cu.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	cu.easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	cu.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	cu.easy_setopt(curl, CURLOPT_MAXREDIRS, q->max_redirects < 0 ? 5L : q->max_redirects);
	cu.easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(q->timeout_ms > 0 ? q->timeout_ms : 60000));
	cu.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)(q->connect_timeout_ms > 0 ? q->connect_timeout_ms : 10000));
	cu.easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max);
	cu.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	cu.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	cu.easy_setopt(curl, CURLOPT_WRITEDATA, t);
	cu.easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	cu.easy_setopt(curl, CURLOPT_HEADERDATA, t);
	set_method(curl, q);
}

/* "URL" or "URL (redirected to URL2)" for messages. */
static void where(const ice_http_req *q, const ice_http_resp *r, char *buf, size_t n)
{
	if (r->effective_url && strcmp(r->effective_url, q->url) != 0)
		snprintf(buf, n, "%s (redirected to %s)", q->url, r->effective_url);
	else
		snprintf(buf, n, "%s", q->url);
}

static int transport_error(const ice_http_req *q, const ice_http_resp *r, const transfer *t,
                           CURLcode cc, const char *errbuf, ice_err *err)
{
	char at[ICE_ERR_MSG_MAX / 2];

	where(q, r, at, sizeof at);
	if (t->too_big || cc == CURLE_FILESIZE_EXCEEDED)
		return ice_err_set(err, ICE_ETOOBIG, "%.200s: larger than %zu bytes", at, t->max);
	if (cc == CURLE_TOO_MANY_REDIRECTS)
		return ice_err_set(err, ICE_EIO, "%.200s: more than %ld redirects", q->url,
		                   q->max_redirects < 0 ? 5L : q->max_redirects);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return ice_err_set(err, ICE_EIO, "%.200s: timed out (%s)", at,
		                   *errbuf ? errbuf : cu.easy_strerror(cc));
	return ice_err_set(err, ICE_EIO, "%.200s: %s", at, *errbuf ? errbuf : cu.easy_strerror(cc));
}

static int check_status(const ice_http_req *q, ice_http_resp *r, const transfer *t, ice_err *err)
{
	char at[ICE_ERR_MSG_MAX / 2];
	const char *reason = t->status_line;

	if ((r->status >= 200 && r->status <= 299) || r->status == 304)
		return ICE_OK;
	where(q, r, at, sizeof at);
	/* "HTTP/1.1 404 Not Found" -> "404 Not Found" */
	if ((reason = strchr(reason, ' ')))
		reason++;
	if (reason && *reason)
		return ice_err_set(err, ICE_EIO, "%.200s: HTTP %.100s", at, reason);
	return ice_err_set(err, ICE_EIO, "%.200s: HTTP %ld", at, r->status);
}

int ice_http_fetch(const ice_http_req *q, ice_http_resp *r, ice_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	transfer t = { 0 };
	CURLcode cc;
	int rc;

	memset(r, 0, sizeof *r);
	if ((rc = load_curl(err)))
		return rc;
	t.r = r;
	t.max = q->max_bytes ? q->max_bytes : DEFAULT_MAX_BYTES;
	if (!(t.curl = cu.easy_init()))
		return ice_err_set(err, ICE_ENOMEM, "%s: cannot start libcurl", q->url);
	if ((rc = request_headers(q, &headers))) {
		rc = ice_err_set(err, rc, "out of memory");
		goto out;
	}
	set_options(t.curl, q, &t, errbuf, headers);
	cc = cu.easy_perform(t.curl);
	cu.easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &r->status);
	collect_headers(t.curl, r);
	if (cc != CURLE_OK) {
		rc = transport_error(q, r, &t, cc, errbuf, err);
		goto out;
	}
	rc = check_status(q, r, &t, err);
	if (!rc && r->status != 304 && !r->body)
		r->body = calloc(1, 1); /* an empty 2xx body is still a value */
	if (!rc && r->status != 304 && !r->body)
		rc = ice_err_set(err, ICE_ENOMEM, "out of memory");
out:
	if (rc) {
		free(r->body);
		r->body = NULL;
		r->len = 0;
	}
	cu.slist_free_all(headers);
	cu.easy_cleanup(t.curl);
	return rc;
}

/* ---- freshness --------------------------------------------------------- */

/* The value of "name=N" in a Cache-Control list, or -1. */
static long long directive_seconds(const char *cc, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = cc; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, n) == 0 && p[n] == '=') {
			const char *v = p + n + 1;

			if (*v == '"')
				v++;
			return isdigit((unsigned char)*v) ? strtoll(v, NULL, 10) : -1;
		}
	}
	return -1;
}

static bool has_directive(const char *cc, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = cc; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, n) == 0 &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t' || p[n] == '='))
			return true;
	}
	return false;
}

void ice_http_freshness_of(const ice_http_resp *r, int64_t now_ms, ice_http_freshness *f)
{
	const char *cc = r->cache_control;
	long long secs, age = r->age ? strtoll(r->age, NULL, 10) : 0;

	memset(f, 0, sizeof *f);
	if (cc && has_directive(cc, "no-store")) {
		f->no_store = true;
		return;
	}
	if (cc && has_directive(cc, "no-cache")) {
		f->says = true; /* cacheable, but ask every time */
		return;
	}
	/* A shared cache prefers s-maxage to max-age. */
	if (cc && ((secs = directive_seconds(cc, "s-maxage")) >= 0 ||
	           (secs = directive_seconds(cc, "max-age")) >= 0)) {
		f->says = true;
		secs -= age > 0 ? age : 0;
		f->lifetime_ms = secs > 0 ? secs * 1000 : 0;
		return;
	}
	if (r->expires) {
		time_t exp = parse_http_date(r->expires);
		time_t date = r->date ? parse_http_date(r->date) : -1;
		int64_t base = date >= 0 ? (int64_t)date * 1000 : now_ms;

		f->says = true; /* an invalid Expires means already expired */
		f->lifetime_ms = exp >= 0 && (int64_t)exp * 1000 > base ? (int64_t)exp * 1000 - base : 0;
	}
}

bool ice_http_has_validator(const ice_http_resp *r)
{
	return r->etag || r->last_modified;
}
