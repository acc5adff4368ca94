/* ice_avro_header: the metadata map of an Avro object container file.
 *
 * avro-c parses the writer schema but drops attributes it does not know,
 * and Iceberg resolves fields by their "field-id" attribute. So the header
 * (magic, then a map of string to bytes: avro.schema, avro.codec and the
 * keys Iceberg writes, such as partition-spec-id and format-version) is
 * read here. Data blocks are read by ice_avro_block (null and deflate
 * codecs) or by avro-c. */
#ifndef ICE_AVRO_HEADER_H
#define ICE_AVRO_HEADER_H

#include <stddef.h>
#include <jansson.h>

#include "ice_error.h"

#define ICE_AVRO_HEADER_MAX (16u * 1024u * 1024u)

/* Parse the header at the start of the `len` bytes at `data` into *meta, a
 * new JSON object mapping each key to its value as a string (caller
 * decrefs). `name` is the file as the user knows it, for messages. With
 * `sync` non-NULL the 16 byte sync marker that ends the header is read
 * into it; *used (when non-NULL) is then where the first data block
 * starts. Not an Avro file, or a truncated header, is ICE_EFORMAT. */
int ice_avro_header_parse_mem(const void *data, size_t len, const char *name, json_t **meta,
                              unsigned char sync[16], size_t *used, ice_err *err);

/* The same for the local file at `path` (read whole). */
int ice_avro_header_read(const char *path, const char *name, json_t **meta, ice_err *err);

/* The "avro.schema" entry parsed as JSON (a new reference), or NULL with
 * *err set. */
json_t *ice_avro_header_schema(const json_t *meta, const char *name, ice_err *err);

#endif
