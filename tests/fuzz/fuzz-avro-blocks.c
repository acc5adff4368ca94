/* fuzz-avro-blocks: the blocks of an Avro container file, inflated
 * (ice_avro_blocks_open, _next). */
#include "config.h"
#include "fuzz.h"
#include "ice_avro_block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	ice_avro_blocks *b = NULL;
	const unsigned char *p;
	size_t len;
	int64_t count;

	if (!path || ice_avro_blocks_open(path, "fuzz.avro", &b, NULL) != ICE_OK)
		return 0;
	while (ice_avro_blocks_next(b, &p, &len, &count, NULL) == 1)
		;
	ice_avro_blocks_close(b);
	return 0;
}
