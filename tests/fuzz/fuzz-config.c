/* fuzz-config: the configuration file (ice_config_parse). */
#include "config.h"
#include "fuzz.h"
#include "ice_config.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	ice_config c;

	if (!text)
		return 0;
	ice_config_init(&c);
	if (ice_config_parse(text, "icecache.conf", &c, NULL) == ICE_OK)
		ice_config_clear(&c);
	free(text);
	return 0;
}
