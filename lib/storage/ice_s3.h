/* ice_s3: an S3 client for reading: GET, ranged GET, conditional GET,
 * HEAD and ListObjectsV2, signed with SigV4 (ice_sigv4.h), over one kept
 * libcurl connection (ice_xfer.h), with bounded retries (ice_retry.h).
 *
 * Keys and prefixes are given decoded (raw UTF-8), as they appear in an
 * s3:// URI. Retried: transport failures (refused, reset, timed out,
 * truncated), 500, 502, 503 (SlowDown), 504 and 429; every try is signed
 * anew. Errors name s3://BUCKET/KEY: 404 is ICE_ENOENT; 403 and 401 are
 * ICE_EACCES naming the bucket, the key, the store's error code and where
 * the credentials came from (never a secret); a body shorter than its
 * Content-Length is an error, never returned; retries spent give one line
 * with the last failure, the tries and the time taken. */
#ifndef ICE_S3_H
#define ICE_S3_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ice_awsconf.h"
#include "ice_error.h"
#include "ice_object.h"
#include "ice_retry.h"
#include "ice_xfer.h"

typedef struct ice_s3_opts {
	ice_aws_settings aws;
	ice_retry_policy retry;
	int64_t timeout_ms;          /* one try, whole transfer; 0: 60 s */
	int64_t connect_timeout_ms;  /* 0: 10 s */
	size_t max_bytes;            /* per object; 0: 512 MiB */
	int list_page_keys;          /* max-keys per ListObjectsV2 page; 0: the store's (1000) */
} ice_s3_opts;

typedef struct ice_s3 ice_s3;

/* Resolves credentials, region and endpoint (ice_awsconf.h); libcurl is
 * loaded at the first request. o may be NULL (defaults). *s is the
 * caller's, released by ice_s3_close. */
int ice_s3_open(ice_s3 **s, const ice_s3_opts *o, ice_err *err);
void ice_s3_close(ice_s3 *s);

const ice_aws_config *ice_s3_config(const ice_s3 *s);
const ice_io_stats *ice_s3_stats(const ice_s3 *s);

typedef struct ice_s3_read {
	bool range;              /* read [offset, offset + length) only */
	uint64_t offset, length; /* length 0 with range: to the end */
	const char *if_none_match; /* an ETag: 304 gives out->unchanged */
	const char *if_match;      /* an ETag: the object changed is ICE_EIO */
} ice_s3_read;

/* GET (r may be NULL: the whole object). out is filled on success and
 * must be cleared by the caller (ice_obj_clear). */
int ice_s3_get(ice_s3 *s, const char *bucket, const char *key, const ice_s3_read *r,
               ice_obj *out, ice_err *err);
int ice_s3_head(ice_s3 *s, const char *bucket, const char *key, ice_obj_info *out, ice_err *err);

/* A whole-object GET made by the caller rather than by ice_s3_get, for
 * concurrent transfers (prefetch.c drives them with curl multi): sign
 * builds one try's request (sign anew for every try: the signature holds
 * the time), answer judges its final response as ice_s3_get does (the
 * body is taken into out). Both only read s: they may run in another
 * thread than the one using s, as long as s outlives them. */
typedef struct ice_s3_signed {
	ice_xfer_req req;     /* points into the fields below */
	char *url;
	char **lines;
	size_t n_lines;
} ice_s3_signed;

int ice_s3_sign_get(const ice_s3 *s, const char *bucket, const char *key, ice_s3_signed *out,
                    ice_err *err);
void ice_s3_signed_clear(ice_s3_signed *sg);
int ice_s3_get_answer(const ice_s3 *s, const char *bucket, const char *key, ice_xfer_resp *r,
                      ice_obj *out, ice_err *err);

/* Every object under prefix, following continuation tokens; with a
 * delimiter ("/"), only those not below a further delimiter. Entries are
 * appended to out with their keys as names, in the store's (byte) order. */
int ice_s3_list(ice_s3 *s, const char *bucket, const char *prefix, const char *delimiter,
                ice_listing *out, ice_err *err);

#endif
