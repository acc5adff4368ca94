/* ice_xml: a small, bounded XML reader for the documents S3 answers with
 * (ListObjectsV2 results, error documents).
 *
 * Calls back once per closed element with its path from the root
 * ("ListBucketResult/Contents/Key") and its own text, entities and
 * character references decoded, CDATA kept. Processing instructions,
 * comments and the DOCTYPE are skipped (entities are never defined from
 * it), attributes ignored. Bounded: at most 16 levels, names of at most 64
 * bytes, texts of at most 1 MiB; deeper, longer or ill-formed input (a
 * close tag that does not match, an unclosed element) is ICE_EFORMAT. */
#ifndef ICE_XML_H
#define ICE_XML_H

#include <stddef.h>

#include "ice_error.h"

/* Return non-zero (an ice_code, err set) to stop the walk with it. */
typedef int (*ice_xml_fn)(void *ctx, const char *path, const char *text, size_t len,
                          ice_err *err);

int ice_xml_walk(const char *doc, size_t len, ice_xml_fn fn, void *ctx, ice_err *err);

#endif
