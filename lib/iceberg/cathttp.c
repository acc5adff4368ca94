/* cathttp: catalog requests with retries, Retry-After and error messages. */
#include "config.h"
#include "ice_cathttp.h"
#include "ice_time.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MAX_RETRY_AFTER_MS 10000

void ice_cathttp_close(ice_cathttp *h)
{
	ice_xfer_close(h->x);
	h->x = NULL;
	free(h->catalog);
	h->catalog = NULL;
	free(h->ca_bundle);
	h->ca_bundle = NULL;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Retry-After in ms (delay seconds or an HTTP date), -1 when absent or
 * unreadable. */
static int64_t retry_after_ms(const char *v)
{
	char *end;
	long long s;
	int64_t at;

	if (!v)
		return -1;
	s = strtoll(v, &end, 10);
	if (end != v && !*end && s >= 0)
		return s > INT64_MAX / 1000 ? INT64_MAX : (int64_t)s * 1000;
	if ((at = ice_xfer_date_ms(v)) < 0)
		return -1;
	at -= ice_now_ms();
	return at < 0 ? 0 : at;
}

static bool retryable_status(long status)
{
	return status == 429 || status == 503 || status == 502 || status == 504;
}

/* Wait as the server asked, within the bounds: false when another try is
 * not allowed (err then says why, naming the wait). */
static bool wait_retry_after(ice_cathttp *h, ice_retry *rt, const ice_cathttp_call *c,
                             long status, int64_t wait, ice_err *err)
{
	int64_t bound = h->max_retry_after_ms > 0 ? h->max_retry_after_ms
	                                          : DEFAULT_MAX_RETRY_AFTER_MS;

	rt->attempt++;
	if (wait > bound) {
		ice_err_set(err, ICE_EIO,
		            "catalog %s: %s %.200s: %ld, retry after %lld ms: longer than the %lld ms "
		            "allowed", h->catalog, c->method, c->endpoint, status, (long long)wait,
		            (long long)bound);
		return false;
	}
	if (rt->attempt >= rt->p.max_attempts ||
	    ice_retry_elapsed_ms(rt) + wait > rt->p.budget_ms)
		return false;
	sleep_ms(wait);
	return true;
}

int ice_cathttp_send(ice_cathttp *h, const ice_cathttp_call *c, ice_xfer_resp *r, ice_err *err)
{
	ice_xfer_req q = { 0 };
	ice_retry rt;
	int rc;

	if (!h->x && (rc = ice_xfer_open(&h->x, err)))
		return rc;
	q.method = c->method;
	q.url = c->url;
	q.headers = c->headers;
	q.n_headers = c->n_headers;
	q.timeout_ms = h->timeout_ms;
	q.connect_timeout_ms = h->connect_timeout_ms;
	q.max_bytes = 256u * 1024u * 1024u;
	q.body = c->body;
	q.body_len = c->body_len;
	q.ca_bundle = h->ca_bundle;
	ice_retry_start(&rt, &h->retry);
	for (;;) {
		int64_t wait;
		bool again;

		h->stats.requests++;
		rc = ice_xfer_perform(h->x, &q, r, err);
		if (!rc)
			h->stats.bytes += r->len;
		if (rc && !r->transient)
			return ice_err_prefix(err, "catalog %s: %s %.200s: ", h->catalog, c->method,
			                      c->endpoint);
		if (!rc && !retryable_status(r->status))
			return ICE_OK;
		wait = rc ? -1 : retry_after_ms(r->retry_after);
		if (wait >= 0) {
			ice_err_clear(err);
			again = wait_retry_after(h, &rt, c, r->status, wait, err);
			if (!again && err && err->code)
				return err->code;
		} else {
			again = ice_retry_again(&rt);
		}
		if (!again) {
			if (!rc) /* the last answer stands: the caller reports it */
				return ICE_OK;
			return ice_err_prefix(err, "catalog %s: %s %.200s: %d tries in %lld ms: ",
			                      h->catalog, c->method, c->endpoint, rt.attempt,
			                      (long long)ice_retry_elapsed_ms(&rt));
		}
		h->stats.retries++;
		ice_xfer_resp_clear(r);
	}
}

/* The error's type and message from an IcebergErrorResponse or an OAuth2
 * error body, into buf ("" when the body says nothing readable). */
static void error_detail(const ice_xfer_resp *r, char *buf, size_t size)
{
	json_t *doc, *e;
	const char *type = NULL, *msg = NULL;

	*buf = '\0';
	if (!r->body || !(doc = json_loadb(r->body, r->len, 0, NULL)))
		return;
	if (json_is_object(e = json_object_get(doc, "error"))) {
		type = json_string_value(json_object_get(e, "type"));
		msg = json_string_value(json_object_get(e, "message"));
	} else if (json_is_string(e)) { /* OAuth2: {"error": "invalid_client", ...} */
		type = json_string_value(e);
		msg = json_string_value(json_object_get(doc, "error_description"));
	}
	if (type || msg)
		snprintf(buf, size, ": %.80s%s%.200s", type ? type : "", type && msg ? ": " : "",
		         msg ? msg : "");
	json_decref(doc);
}

int ice_cathttp_status_error(const ice_cathttp *h, const ice_cathttp_call *c,
                             const ice_xfer_resp *r, ice_err *err)
{
	char detail[300];
	ice_code code = ICE_EIO;
	const char *what = "";

	error_detail(r, detail, sizeof detail);
	switch (r->status) {
	case 401:
		code = ICE_EACCES;
		what = " unauthorized";
		break;
	case 403:
		code = ICE_EACCES;
		what = " forbidden";
		break;
	case 419:
		code = ICE_EACCES;
		what = " authentication timed out";
		break;
	case 404:
		code = ICE_ENOENT;
		what = " not found";
		break;
	default:
		break;
	}
	return ice_err_set(err, code, "catalog %s: %s %.200s: %ld%s%s", h->catalog, c->method,
	                   c->endpoint, r->status, what, detail);
}

int ice_cathttp_json(const ice_cathttp *h, const ice_cathttp_call *c, const ice_xfer_resp *r,
                     json_t **out, ice_err *err)
{
	json_error_t je;

	*out = NULL;
	if (!r->body)
		return ice_cathttp_bad(h, c, "an empty body where JSON was expected", err);
	if (!(*out = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je)))
		return ice_err_set(err, ICE_EFORMAT, "catalog %s: %s %.200s: malformed JSON (line %d: "
		                   "%.100s)", h->catalog, c->method, c->endpoint, je.line, je.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return ice_cathttp_bad(h, c, "the JSON answer is not an object", err);
	}
	return ICE_OK;
}

int ice_cathttp_bad(const ice_cathttp *h, const ice_cathttp_call *c, const char *why,
                    ice_err *err)
{
	return ice_err_set(err, ICE_EFORMAT, "catalog %s: %s %.200s: %s", h->catalog, c->method,
	                   c->endpoint, why);
}
