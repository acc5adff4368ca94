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

#include <stdio.h>
#include <jansson.h>

#include "ice_error.h"

#define ICE_AVRO_HEADER_MAX (16u * 1024u * 1024u)

/* Read the header of the Avro file at `path` into *meta, a new JSON object
 * mapping each key to its value as a string (caller decrefs). `name` is
 * the file as the user knows it, for messages. Not an Avro file, or a
 * truncated header, is ICE_EFORMAT. */
int ice_avro_header_read(const char *path, const char *name, json_t **meta, ice_err *err);

/* The same from an open stream at its start; with `sync` non-NULL the 16
 * byte sync marker that ends the header is read into it, and the stream is
 * left at the first data block. */
int ice_avro_header_parse(FILE *f, const char *name, json_t **meta, unsigned char sync[16],
                          ice_err *err);

/* The "avro.schema" entry parsed as JSON (a new reference), or NULL with
 * *err set. */
json_t *ice_avro_header_schema(const json_t *meta, const char *name, ice_err *err);

#endif
