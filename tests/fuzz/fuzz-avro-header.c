/* fuzz-avro-header: an Avro container header (magic, metadata map, sync
 * marker) and its avro.schema (ice_avro_header_parse, _schema). */
#include "config.h"
#include "fuzz.h"
#include "ice_avro_header.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = size ? fmemopen((void *)data, size, "rb") : NULL;
	unsigned char sync[16];
	json_t *meta = NULL;

	if (!f)
		return 0;
	if (ice_avro_header_parse(f, "fuzz.avro", &meta, sync, NULL) == ICE_OK)
		json_decref(ice_avro_header_schema(meta, "fuzz.avro", NULL));
	json_decref(meta);
	fclose(f);
	return 0;
}
