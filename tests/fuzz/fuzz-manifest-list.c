/* fuzz-manifest-list: a manifest list file (ice_manifest_list_read:
 * directly, or through avro-c for the codecs only it reads). */
#include "config.h"
#include "fuzz.h"
#include "ice_manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	ice_manifest_file *files = NULL;
	size_t n = 0;

	if (path && ice_manifest_list_read(path, "snap-fuzz.avro", &files, &n, NULL) == ICE_OK)
		ice_manifest_files_free(files, n);
	return 0;
}
