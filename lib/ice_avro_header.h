/* ice_avro_header: the metadata map of an Avro object container file.
 *
 * avro-c parses the writer schema but drops attributes it does not know,
 * and Iceberg resolves fields by their "field-id" attribute. So the header
 * (magic, then a map of string to bytes: avro.schema, avro.codec and the
 * keys Iceberg writes, such as partition-spec-id and format-version) is
 * read here, and avro-c still decodes the data blocks. */
#ifndef ICE_AVRO_HEADER_H
#define ICE_AVRO_HEADER_H

#include <jansson.h>

#include "ice_error.h"

#define ICE_AVRO_HEADER_MAX (16u * 1024u * 1024u)

/* Read the header of the Avro file at `path` into *meta, a new JSON object
 * mapping each key to its value as a string (caller decrefs). `name` is
 * the file as the user knows it, for messages. Not an Avro file, or a
 * truncated header, is ICE_EFORMAT. */
int ice_avro_header_read(const char *path, const char *name, json_t **meta, ice_err *err);

/* The "avro.schema" entry parsed as JSON (a new reference), or NULL with
 * *err set. */
json_t *ice_avro_header_schema(const json_t *meta, const char *name, ice_err *err);

#endif
