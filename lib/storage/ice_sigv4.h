/* ice_sigv4: AWS Signature Version 4 for S3 requests (header signing).
 *
 * Written here rather than through libcurl's CURLOPT_AWS_SIGV4: curl 7.88
 * signs the path and query verbatim, sends neither x-amz-content-sha256
 * nor the session token, and mis-signs keys holding '=' or '+', which
 * every Hive-style partition path (day=2024-01-01) does.
 *
 * The caller gives the path and query *decoded* (raw key bytes, parameter
 * names and values as meant); the signer encodes them per the SigV4 rules
 * (RFC 3986 unreserved characters kept, every other byte %XX in upper
 * case; '/' kept in the path; the query sorted by encoded name, then
 * value; a parameter without value signs as "name=") and hands back the
 * encoded path and query to put in the URL, so the bytes sent are the
 * bytes signed. The secret is used only to derive the signing key: it is
 * never copied into the output. */
#ifndef ICE_SIGV4_H
#define ICE_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "ice_error.h"

typedef struct ice_kv {
	const char *name;
	const char *value; /* NULL: a query parameter without value */
} ice_kv;

typedef struct ice_sigv4_key {
	const char *access_key;
	const char *secret_key;
	const char *session_token; /* NULL: long-term keys */
} ice_sigv4_key;

typedef struct ice_sigv4_req {
	const char *method;        /* "GET", "HEAD" */
	const char *host;          /* the Host header: "host" or "host:port" */
	const char *path;          /* decoded, starting with '/' */
	const ice_kv *query;       /* decoded, any order */
	size_t n_query;
	const ice_kv *headers;     /* further headers to send and sign (Range...) */
	size_t n_headers;
	const char *payload_sha256; /* hex; NULL: the hash of an empty body */
	const char *region;        /* "us-east-1" */
	const char *service;       /* NULL: "s3" */
	time_t now;                /* the signing time (pinned in tests) */
} ice_sigv4_req;

#define ICE_SIGV4_MAX_HEADERS 4

/* What to send. Every string is owned by the ice_sigv4_out. */
typedef struct ice_sigv4_out {
	char *path;   /* encoded path for the URL */
	char *query;  /* canonical query string for the URL ("" when none) */
	/* "Name: value" lines: x-amz-date, x-amz-content-sha256,
	 * x-amz-security-token (with a session token) and Authorization; none
	 * when signing anonymously. The headers of the request are sent too. */
	char *headers[ICE_SIGV4_MAX_HEADERS];
	size_t n_headers;
	char *canonical_request; /* for tests and traces; holds no secret */
	char *string_to_sign;
} ice_sigv4_out;

/* Sign r with key (NULL: anonymous, only path and query are encoded).
 * ICE_ENOMEM or ICE_EINVAL (no path, no region); *out is filled on success
 * only, and must then be released with ice_sigv4_out_free(). */
int ice_sigv4_sign(const ice_sigv4_req *r, const ice_sigv4_key *key, ice_sigv4_out *out,
                   ice_err *err);
void ice_sigv4_out_free(ice_sigv4_out *out);

/* The SHA-256 of an empty payload, in hex. */
extern const char ice_sigv4_empty_sha256[65];

#endif
