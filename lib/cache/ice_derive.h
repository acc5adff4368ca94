/* ice_derive: cache keys derived from what a result depends on.
 *
 * Keys stay readable where they can ("fetch:GET https://host/x") and end
 * in a SHA-256 digest (OpenSSL libcrypto) of everything else that tells
 * two results apart, so a changed input gives a different key. Every
 * derived key is a malloc'd string owned by the caller. */
#ifndef ICE_DERIVE_H
#define ICE_DERIVE_H

#include <stddef.h>

#include "ice_error.h"

/* Hex digits of the digest kept in keys (128 bits). */
#define ICE_DERIVE_HEX 32

/* exec --key-from-args: "exec:NAME:DIGEST" where NAME is the command's base
 * name and DIGEST covers every argument and, for each source file (in the
 * order given), its absolute path, size and modification time in
 * nanoseconds. A source that cannot be stat'ed is an error naming it. */
int ice_derive_exec_key(const char *const *argv, size_t argc, const char *const *sources,
                        size_t n_sources, char **key, ice_err *err);

/* fetch of a URL: "fetch:METHOD URL", plus " #DIGEST" when request
 * headers or a body take part; the digest covers the headers (as given,
 * in the order given) and the body. */
int ice_derive_url_key(const char *method, const char *url, const char *const *headers,
                       size_t n_headers, const void *body, size_t body_len, char **key,
                       ice_err *err);

/* fetch of a local file: "fetch:file:ABSOLUTE_PATH" (the file's version is
 * checked against the entry, not put in the key: a changed file replaces
 * its one entry instead of leaving old versions behind). */
int ice_derive_file_key(const char *path, char **abs_path, char **key, ice_err *err);

/* SHA-256 over length-prefixed fields (so "ab","c" differs from "a","bc"),
 * as ICE_DERIVE_HEX lower-case hex digits and a NUL in out. */
int ice_derive_digest(const void *const *fields, const size_t *lens, size_t n,
                      char out[ICE_DERIVE_HEX + 1], ice_err *err);

#endif
