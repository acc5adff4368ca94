/* ice_fetch: HTTP(S) transfers for the read-through cache (libcurl), and
 * what a response says about how long it may be cached.
 *
 * One request per call, redirects followed up to a limit (http and https
 * only), a total time limit. Only a final 2xx or 304 is a success; 4xx/5xx,
 * transport errors and time-outs are ICE_EIO with a message naming the URL
 * (and where it was redirected) and the HTTP status. Strings in an
 * ice_http_resp are owned by it: ice_http_resp_clear() frees them. */
#ifndef ICE_FETCH_H
#define ICE_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ice_error.h"

typedef struct ice_http_req {
	const char *url;             /* http:// or https:// */
	const char *method;          /* NULL: GET, or POST when there is a body */
	const char *const *headers;  /* "Name: value" lines, sent as given */
	size_t n_headers;
	const void *body;            /* NULL: no request body */
	size_t body_len;
	const char *etag;            /* sent as If-None-Match (NULL: none) */
	const char *last_modified;   /* sent as If-Modified-Since (NULL: none) */
	int64_t timeout_ms;          /* whole transfer; 0: 60 s */
	int64_t connect_timeout_ms;  /* 0: 10 s */
	long max_redirects;          /* < 0: 5 */
	size_t max_bytes;            /* larger bodies are ICE_ETOOBIG; 0: 512 MiB */
} ice_http_req;

typedef struct ice_http_resp {
	long status;         /* the final response's: 2xx or 304 on success */
	char *body;          /* 2xx: the bytes (NUL after len); else NULL */
	size_t len;
	long redirects;      /* redirects followed */
	char *effective_url; /* where the final response came from */
	/* Headers of the final response, NULL when absent. */
	char *etag, *last_modified, *cache_control, *expires, *date, *age;
} ice_http_resp;

void ice_http_resp_clear(ice_http_resp *r);

int ice_http_fetch(const ice_http_req *q, ice_http_resp *r, ice_err *err);

/* How long a response may be served without asking the server again. */
typedef struct ice_http_freshness {
	bool no_store;       /* Cache-Control: no-store */
	bool says;           /* the response states a lifetime (or no-cache) */
	int64_t lifetime_ms; /* when says: s-maxage, max-age (minus Age), or
	                        Expires - Date; 0 for no-cache or in the past */
} ice_http_freshness;

void ice_http_freshness_of(const ice_http_resp *r, int64_t now_ms, ice_http_freshness *f);

/* Whether the response carries a validator for a later conditional request. */
bool ice_http_has_validator(const ice_http_resp *r);

#endif
