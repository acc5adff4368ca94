/* fuzz-avro-header: an Avro container header (magic, metadata map, sync
 * marker) and its avro.schema (ice_avro_header_parse_mem, _schema). */
#include "config.h"
#include "fuzz.h"
#include "ice_avro_header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char sync[16];
	json_t *meta = NULL;
	size_t used;

	if (ice_avro_header_parse_mem(data, size, "fuzz.avro", &meta, sync, &used, NULL) == ICE_OK)
		json_decref(ice_avro_header_schema(meta, "fuzz.avro", NULL));
	json_decref(meta);
	return 0;
}
