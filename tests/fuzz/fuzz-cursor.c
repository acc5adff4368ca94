/* fuzz-cursor: ice-snapshot's cursor file (ice_cursor_file_open), which
 * anyone who can write the state folder controls. */
#include "config.h"
#include "fuzz.h"
#include "ice_cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	ice_cursor_file *f = NULL;
	ice_cursor c = { 0 };

	if (!path || ice_cursor_file_open(path, &f, NULL) != ICE_OK)
		return 0;
	if (ice_cursor_file_get(f, "db.t", &c) == 1)
		ice_cursor_clear(&c);
	ice_cursor_file_close(f);
	return 0;
}
