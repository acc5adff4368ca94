/* fuzz-manifest: a manifest file read entry by entry (ice_manifest_open,
 * _next), the partition tuple decoded by avro-c as ice-diff has it. */
#include "config.h"
#include "fuzz.h"
#include "ice_manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	ice_manifest_reader *r = NULL;
	ice_manifest_entry e;

	if (!path || ice_manifest_open(path, "fuzz-m0.avro", &r, NULL) != ICE_OK)
		return 0;
	while (ice_manifest_next(r, &e, NULL) == 1)
		;
	ice_manifest_close(r);
	return 0;
}
