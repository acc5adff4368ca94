/* ice_xfer: one HTTP request at a time on a reused libcurl handle.
 *
 * The handle is kept between requests, so connections stay open
 * (keep-alive) and DNS and TLS sessions are cached. A request succeeds
 * when a whole response arrived, whatever its status: the caller judges
 * the status. A transport failure (refused, reset, timed out, a body
 * shorter than its Content-Length) is an error naming the URL, and
 * `transient` tells whether trying again may help. Bodies of any status
 * are kept (S3 explains its errors in the body), up to max_bytes.
 * Strings in an ice_xfer_resp are owned by it (ice_xfer_resp_clear). */
#ifndef ICE_XFER_H
#define ICE_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ice_error.h"
#include "ice_object.h"
#include "ice_retry.h"

typedef struct ice_xfer ice_xfer;

/* Loads libcurl when not yet loaded (ice_curl.h). *x is the caller's. */
int ice_xfer_open(ice_xfer **x, ice_err *err);
void ice_xfer_close(ice_xfer *x);

typedef struct ice_xfer_req {
	const char *method;          /* "GET", "HEAD" or "POST" */
	const char *url;
	const char *const *headers;  /* "Name: value" lines */
	size_t n_headers;
	int64_t timeout_ms;          /* the whole transfer; 0: 60 s */
	int64_t connect_timeout_ms;  /* 0: 10 s */
	size_t max_bytes;            /* a longer body is ICE_ETOOBIG; 0: 512 MiB */
	bool follow_redirects;       /* up to 5, http and https only */
	const char *body;            /* sent as is with POST (NULL: none) */
	size_t body_len;
	const char *ca_bundle;       /* a CA file instead of the system's (NULL: system) */
} ice_xfer_req;

typedef struct ice_xfer_resp {
	long status;
	char *body;                  /* NUL after len; NULL when empty */
	size_t len;
	int64_t content_length;      /* -1: not sent */
	char *etag, *last_modified, *content_range; /* NULL when absent */
	char *retry_after;           /* as sent (seconds or an HTTP date); NULL when absent */
	bool transient;              /* on failure: worth another try */
} ice_xfer_resp;

int ice_xfer_perform(ice_xfer *x, const ice_xfer_req *q, ice_xfer_resp *r, ice_err *err);

/* The same request in two halves, for a caller that drives several
 * handles at once with curl multi (prefetch.c): begin sets the request up
 * on x's handle (q and r must outlive it), the caller runs the handle
 * (ice_xfer_handle, a CURL *) to completion, and finish judges the result
 * (curl's CURLcode) as ice_xfer_perform does. */
int ice_xfer_begin(ice_xfer *x, const ice_xfer_req *q, ice_xfer_resp *r, ice_err *err);
void *ice_xfer_handle(ice_xfer *x);
int ice_xfer_finish(ice_xfer *x, int curl_code, ice_err *err);
void ice_xfer_resp_clear(ice_xfer_resp *r);

/* What a client did, for --stats and tests. */
typedef struct ice_io_stats {
	uint64_t requests;      /* tries sent, retries included */
	uint64_t retries;
	uint64_t bytes;         /* body bytes received */
	uint64_t not_modified;  /* conditional reads answered 304 */
	/* The tries by kind: GET (ranged included), HEAD, listings, and
	 * conditional GETs (If-None-Match). */
	uint64_t gets, heads, lists, conditional;
} ice_io_stats;

/* Count one try of a request of that kind into *s. */
void ice_io_stats_count(ice_io_stats *s, const char *method, bool listing, bool conditional);
/* Statuses worth another try: 500, 502, 503, 504 and 429. */
bool ice_xfer_status_transient(long status);

/* One try of a request: ICE_OK when an answer arrived, in *resp. */
typedef int (*ice_xfer_try_fn)(void *ctx, ice_xfer_resp *resp, ice_err *err);
/* Says why an answer failed ("HTTP 503 SlowDown"); NULL: "HTTP N". */
typedef void (*ice_xfer_why_fn)(const ice_xfer_resp *resp, char *buf, size_t n);

/* Make tries until one gives a final answer (ICE_OK, in *resp): again on
 * transient transport failures and on 500, 502, 503, 504 and 429, as the
 * policy allows (ice_retry.h). Spent, the error is one line: `what`, the
 * last failure, the tries and the time taken. Counted into *stats. */
int ice_xfer_retrying(const ice_retry_policy *p, const char *what, ice_xfer_try_fn try_fn,
                      ice_xfer_why_fn why_fn, void *ctx, ice_xfer_resp *resp, ice_io_stats *stats,
                      ice_err *err);

/* The size (of the whole object, from Content-Range on a 206), ETag and
 * modification time of an answer, into *info (strings owned by it). */
int ice_xfer_resp_info(const ice_xfer_resp *r, ice_obj_info *info, ice_err *err);

/* A server that ignored Range sent the whole object: keep [offset,
 * offset + length) of the body (length 0: to the end). */
void ice_xfer_resp_cut_range(ice_xfer_resp *r, uint64_t offset, uint64_t length);

/* HTTP dates ("Sun, 06 Nov 1994 08:49:37 GMT") and S3's ISO 8601 times as
 * Unix milliseconds, or -1 (HTTP dates are read by libcurl, loaded if need be). */
int64_t ice_xfer_date_ms(const char *s);

#endif
