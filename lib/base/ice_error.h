/* ice_error: the error value every lib/ call returns, with a message.
 *
 * lib/ never prints or exits. A failing call returns a non-zero ice_code and,
 * when given a non-NULL ice_err, fills it with the code and a one-line
 * message that names the input and the position ("v3.metadata.json: missing
 * field 'location'"). cmd/ prefixes the program name and decides the exit
 * status. ice_err is a plain value: no ownership, nothing to free. */
#ifndef ICE_ERROR_H
#define ICE_ERROR_H

#include <stddef.h>

typedef enum {
	ICE_OK = 0,
	ICE_EINVAL,       /* bad argument or malformed input text */
	ICE_ENOENT,       /* a file, table or snapshot does not exist */
	ICE_EIO,          /* a read or write failed */
	ICE_EFORMAT,      /* input parsed but violates its format (JSON, Avro, Iceberg) */
	ICE_EUNSUPPORTED, /* valid but beyond what we handle (format-version 4) */
	ICE_ENOMEM,
	ICE_ETOOBIG,      /* a line or file over its size bound */
	ICE_EBACKEND,     /* the cache backend failed or is unreachable */
	ICE_ETIMEOUT,
	ICE_EPIPE,        /* the reader of our output went away */
	ICE_EBUSY,        /* held by someone else (a lock) */
	ICE_EACCES        /* refused by a store: credentials or permissions (403, 401) */
} ice_code;

#define ICE_ERR_MSG_MAX 512

typedef struct {
	ice_code code;
	char msg[ICE_ERR_MSG_MAX];
} ice_err;

/* Set *err (when non-NULL) and return code, so callers can write
 * `return ice_err_set(err, ICE_EINVAL, "...")`. */
int ice_err_set(ice_err *err, ice_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the existing message with more context ("manifest.avro: " + msg). */
int ice_err_prefix(ice_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void ice_err_clear(ice_err *err);

/* Short name of a code ("format error"), never NULL. */
const char *ice_code_name(ice_code code);

#endif
