/* ice_avro_block: the data blocks of an Avro object container file held
 * in memory, decompressed, one at a time.
 *
 * Iceberg writers compress manifests with the deflate codec (or none);
 * those are read here with libdeflate, so that callers can decode records
 * straight from the bytes. The other codecs avro-c reads (snappy, lzma)
 * are ICE_EUNSUPPORTED at open: the caller then reads the file with
 * avro-c; any other name is ICE_EFORMAT. Besides the file's bytes, memory
 * holds one inflated block. */
#ifndef ICE_AVRO_BLOCK_H
#define ICE_AVRO_BLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ice_error.h"

/* Bounds on one block, against corrupt lengths. */
#define ICE_AVRO_BLOCK_MAX (64u * 1024u * 1024u)
#define ICE_AVRO_BLOCK_INFLATED_MAX (512u * 1024u * 1024u)

typedef struct ice_avro_blocks ice_avro_blocks;

/* Read the header of the Avro file whose `len` bytes are at `data`
 * (`name` for messages). The bytes are borrowed: they must stay valid and
 * unchanged until ice_avro_blocks_close. */
int ice_avro_blocks_open_mem(const void *data, size_t len, const char *name,
                             ice_avro_blocks **out, ice_err *err);

/* The same for the local file `path`, read whole and owned by the reader. */
int ice_avro_blocks_open(const char *path, const char *name, ice_avro_blocks **out, ice_err *err);

/* The header map (see ice_avro_header_read); borrowed. */
const json_t *ice_avro_blocks_meta(const ice_avro_blocks *b);

/* The next block: 1 with its object count and decompressed bytes (owned by
 * the reader or borrowed from the file's bytes, valid until the next call),
 * 0 at the end of the file, -1 on a
 * truncated or corrupt file (*err says which block), a count over the
 * block's bytes included. */
int ice_avro_blocks_next(ice_avro_blocks *b, const unsigned char **data, size_t *len,
                         int64_t *count, ice_err *err);

/* Whether the file's blocks are framed soundly, whatever its codec: each
 * an object count and a byte size that are not negative, the bytes there,
 * the sync marker after them (ICE_EFORMAT or ICE_ETOOBIG naming the block
 * otherwise). Run before a file goes to avro-c, whose reader leaks what
 * it allocated when a length is corrupt. */
int ice_avro_blocks_check_mem(const void *data, size_t len, const char *name, ice_err *err);

void ice_avro_blocks_close(ice_avro_blocks *b);

#endif
