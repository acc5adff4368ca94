/* ice_avro_decode: Avro binary values decoded by hand from a writer schema.
 *
 * A writer schema (the JSON of a file's avro.schema, "field-id" attributes
 * kept) is compiled once into a tree of nodes; records are then read
 * straight from a block's bytes: the few fields a caller wants are read,
 * everything else (column statistics: maps of records, bytes) is skipped
 * without allocating. Named types may be referenced by name, but not from
 * within themselves. A schema from a file is bounded (nesting, expanded
 * size), and every count in the data against the bytes left, so that no
 * input costs more than a constant amount of work per byte.
 * The nodes belong to the ice_avro_type that compiled them. */
#ifndef ICE_AVRO_DECODE_H
#define ICE_AVRO_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ice_error.h"

typedef enum {
	ICE_AV_NULL, ICE_AV_BOOLEAN, ICE_AV_INT, ICE_AV_LONG, ICE_AV_FLOAT, ICE_AV_DOUBLE,
	ICE_AV_BYTES, ICE_AV_STRING, ICE_AV_FIXED, ICE_AV_ENUM, ICE_AV_ARRAY, ICE_AV_MAP,
	ICE_AV_RECORD, ICE_AV_UNION
} ice_av_kind;

typedef struct ice_av_node ice_av_node;
struct ice_av_node {
	ice_av_kind kind;
	size_t size;             /* fixed: bytes */
	ice_av_node *items;      /* array items, map values */
	size_t n;                /* record fields, union branches */
	ice_av_node **children;  /* record field types, union branches */
	int *field_ids;          /* record: each field's "field-id", -1 when absent */
	const json_t *json;      /* the schema JSON of this node (borrowed from the type) */
	int varints;             /* > 0: the value is exactly this many varints (an int,
	                          * or a record of ints and longs), skipped in one scan */
	int height;              /* levels of nodes below and including this one */
	uint64_t cost;           /* nodes a skip of one value visits (one item per array) */
	uint64_t least;          /* the fewest bytes a value takes; 0: always empty */
	char flat[16];           /* a record of primitives as one letter per field
	                          * ('v' varint, 'b' bytes or string, '1', '4', '8' fixed
	                          * widths; "" when not such a record), skipped in a loop */
};

typedef struct ice_avro_type ice_avro_type;

/* Compile `schema` (kept: a reference is taken). */
int ice_avro_type_new(const json_t *schema, const char *name, ice_avro_type **out, ice_err *err);
const ice_av_node *ice_avro_type_root(const ice_avro_type *t);
void ice_avro_type_free(ice_avro_type *t);

/* A read position in a block. Readers return false on truncated or
 * malformed data and leave the cursor unusable. */
typedef struct {
	const unsigned char *p, *end;
} ice_av_cursor;

bool ice_av_read_long(ice_av_cursor *c, int64_t *out);
bool ice_av_skip(ice_av_cursor *c, const ice_av_node *n);

/* Resolve a union: *n becomes the written branch. *present is false for
 * the null branch. Non-unions are left as they are. */
bool ice_av_branch(ice_av_cursor *c, const ice_av_node **n, bool *present);

/* An int or long (through a union); other types are skipped, absent. */
bool ice_av_read_i64(ice_av_cursor *c, const ice_av_node *n, bool *present, int64_t *out);

/* A boolean (through a union); other types are skipped, absent. */
bool ice_av_read_bool(ice_av_cursor *c, const ice_av_node *n, bool *present, bool *out);

/* The next block of array items: *count items follow (0: the array ended).
 * A count over the bytes left in the block is refused: callers use it for
 * items that take at least one byte each. */
bool ice_av_array_block(ice_av_cursor *c, int64_t *count);

/* A string or bytes (through a union): pointer into the block and length;
 * other types are skipped, absent. */
bool ice_av_read_str(ice_av_cursor *c, const ice_av_node *n, bool *present,
                     const unsigned char **s, size_t *len);

#endif
