/* ice_cathttp: the requests of the catalog client (internal to
 * catalog.c and catauth.c): one connection kept alive (ice_xfer.h),
 * transport failures, 429 and 503 retried with backoff (ice_retry.h), a
 * Retry-After honoured up to a bound, and one-line errors naming the
 * catalog and the endpoint.
 *
 * Messages name the endpoint by its path, never its query or headers, so
 * no token or secret reaches them. */
#ifndef ICE_CATHTTP_H
#define ICE_CATHTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ice_error.h"
#include "ice_retry.h"
#include "ice_xfer.h"

/* What the catalog client did, for --stats and tests. */
typedef struct ice_catalog_stats {
	uint64_t requests;      /* sent, retries and token requests included */
	uint64_t retries;
	uint64_t not_modified;  /* loadTable answered 304 */
	uint64_t tokens;        /* OAuth2 tokens obtained */
	uint64_t bytes;         /* response bodies received */
} ice_catalog_stats;

typedef struct ice_cathttp {
	ice_xfer *x;                 /* opened on the first request */
	char *catalog;               /* the catalog's name, for messages */
	ice_retry_policy retry;
	int64_t timeout_ms, connect_timeout_ms;
	int64_t max_retry_after_ms;  /* a longer Retry-After fails at once */
	char *ca_bundle;             /* a CA file (owned); NULL: the system's */
	ice_catalog_stats stats;
} ice_cathttp;

typedef struct ice_cathttp_call {
	const char *method;          /* "GET" or "POST" */
	const char *url;
	const char *endpoint;        /* the path, for messages */
	const char *const *headers;  /* "Name: value" lines */
	size_t n_headers;
	const char *body;            /* POST */
	size_t body_len;
} ice_cathttp_call;

/* Send, retrying what may pass later; ICE_OK with any final status in *r
 * (which the caller clears), else an error (transport, retries spent). */
int ice_cathttp_send(ice_cathttp *h, const ice_cathttp_call *c, ice_xfer_resp *r, ice_err *err);

/* The error for a response whose status was not wanted: 401, 403 and 419
 * are ICE_EACCES, 404 ICE_ENOENT, others ICE_EIO; the message carries the
 * status, and the error's type and message when the body is an
 * IcebergErrorResponse (or an OAuth2 error). */
int ice_cathttp_status_error(const ice_cathttp *h, const ice_cathttp_call *c,
                             const ice_xfer_resp *r, ice_err *err);

/* The body as a JSON object (*out: a new reference), or ICE_EFORMAT
 * naming the catalog and the endpoint. */
int ice_cathttp_json(const ice_cathttp *h, const ice_cathttp_call *c, const ice_xfer_resp *r,
                     json_t **out, ice_err *err);

/* A protocol error in a well-formed answer: "catalog NAME: METHOD
 * ENDPOINT: why" as ICE_EFORMAT. */
int ice_cathttp_bad(const ice_cathttp *h, const ice_cathttp_call *c, const char *why,
                    ice_err *err);

void ice_cathttp_close(ice_cathttp *h);

#endif
