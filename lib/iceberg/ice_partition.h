/* ice_partition: partition tuples of manifest entries, decoded and rendered.
 *
 * A manifest entry's `partition` is an Avro record whose fields carry the
 * partition spec's field ids. A decoder, made once per (table metadata,
 * spec, Avro record schema), turns such a record into three renderings:
 *
 *   raw    {name: value} with the Avro values: numbers as JSON numbers
 *          (dates as days, times and timestamps as micros or nanos,
 *          bucket/year/month/day/hour ordinals as integers), booleans,
 *          strings, decimal/binary/fixed/uuid as lowercase hex of the bytes;
 *   human  {name: string} readable values ("2024-01-01", "1.2300",
 *          "2023-05-15T14:30:45"; binary and fixed stay hex);
 *   key    the partition path as Iceberg's PartitionSpec.partitionToPath
 *          writes it ("event_date=2024-01-01/event_type=click"): each
 *          name=value URL-encoded like Java's URLEncoder, the value being
 *          the transform's human string (binary as base64), nulls "null".
 *
 * Nulls are JSON null in raw and human. The decoder copies what it needs:
 * the metadata, spec and schema passed to ice_part_decoder_new() may be
 * freed afterwards. It is immutable once made, so threads may share it. */
#ifndef ICE_PARTITION_H
#define ICE_PARTITION_H

#include <stddef.h>
#include <avro.h>
#include <jansson.h>

#include "ice_error.h"
#include "ice_metadata.h"

typedef struct ice_part_decoder ice_part_decoder;

/* spec: the manifest's partition spec. md: the table metadata, where each
 * source column's type is found by source-id in the current schema, else
 * in any other schema (md may be NULL; a source column found nowhere is
 * rendered by its Avro type, as identity of that type). avro_record_schema:
 * the JSON of the Avro record schema of the manifest's data_file.partition
 * field (field-id 102) as written in the manifest header, "field-id"
 * attributes included: Avro fields are matched to spec fields by field id;
 * a spec field without an Avro field renders as null. *out is freed with
 * ice_part_decoder_free(). */
int ice_part_decoder_new(const ice_metadata *md, const ice_partition_spec *spec,
                         const json_t *avro_record_schema, ice_part_decoder **out,
                         ice_err *err);
void ice_part_decoder_free(ice_part_decoder *d);

/* Number of fields of the decoder's spec. */
size_t ice_part_decoder_size(const ice_part_decoder *d);

/* Decode one partition record (an avro-c value of the writer's record
 * schema). *raw and *human get new JSON objects (caller decrefs) and *key
 * a malloc'd string (caller frees); pass NULL for what is not wanted. An
 * unpartitioned spec gives {} and "" (value may then be NULL). A value
 * whose Avro type does not fit the field's transform and source type is
 * ICE_EFORMAT naming the partition field; the outputs are then NULL. */
int ice_part_decode(const ice_part_decoder *d, avro_value_t *value, json_t **raw,
                    json_t **human, char **key, ice_err *err);

/* Decode one bound in Iceberg's binary single-value serialization (the
 * lower_bound/upper_bound of manifest list partition summaries) for field
 * `field_index` of the spec into a new JSON value (caller decrefs) with the
 * conventions of `raw`, for pruning. A decimal bound (minimal bytes) is
 * sign-extended to the size of the field's Avro fixed, so that it equals
 * the raw value of the same number. bytes == NULL or a void transform
 * gives JSON null. A length that does not fit the type is ICE_EFORMAT. */
int ice_part_bound_to_json(const ice_part_decoder *d, size_t field_index, const void *bytes,
                           size_t len, json_t **out, ice_err *err);

#endif
