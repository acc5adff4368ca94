/* ice_httpobj: objects at http(s):// URLs as storage (internal to the
 * storage layer; see ice_storage.h): GET, ranged and conditional GET, and
 * HEAD, redirects followed, retried like S3 requests (ice_retry.h). */
#ifndef ICE_HTTPOBJ_H
#define ICE_HTTPOBJ_H

#include "ice_error.h"
#include "ice_object.h"
#include "ice_s3.h"
#include "ice_xfer.h"

typedef struct ice_httpobj_read {
	const char *method;        /* "GET" or "HEAD" */
	bool range;
	uint64_t offset, length;   /* length 0: to the end */
	const char *if_none_match;
} ice_httpobj_read;

/* x: an open transfer handle; o: time-outs, retries, bounds; stats are
 * counted into *stats. out is filled on success (clear it). */
int ice_httpobj_get(ice_xfer *x, const ice_s3_opts *o, const char *url,
                    const ice_httpobj_read *rd, ice_obj *out, ice_io_stats *stats, ice_err *err);

#endif
