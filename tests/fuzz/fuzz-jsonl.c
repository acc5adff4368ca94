/* fuzz-jsonl: JSON lines as every program reads them (ice_jsonl_next, a
 * small line bound), each record fed to the invalidation collector
 * (ice_stale_add) as ice-invalidate does, at every granularity. */
#include "config.h"
#include "fuzz.h"
#include "ice_jsonl.h"
#include "ice_stale.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = size ? fmemopen((void *)data, size, "rb") : NULL;
	ice_jsonl_reader *r;
	ice_stale *st[3];
	json_t *rec;
	bool done;
	int got;

	if (!f)
		return 0;
	r = ice_jsonl_reader_new(f, "stdin", 4096);
	st[0] = ice_stale_new(ICE_GRAIN_FILE);
	st[1] = ice_stale_new(ICE_GRAIN_PARTITION);
	st[2] = ice_stale_new(ICE_GRAIN_TABLE);
	while (r && st[0] && st[1] && st[2] && (got = ice_jsonl_next(r, &rec, NULL)) != 0) {
		if (got < 0) {
			if (ice_jsonl_lineno(r) > 100000)
				break;
			continue;
		}
		ice_record_kind(rec);
		for (int i = 0; i < 3; i++)
			if (ice_stale_add(st[i], rec, &done, NULL) == ICE_OK && done)
				ice_stale_result_get(st[i]);
		json_decref(rec);
	}
	for (int i = 0; i < 3; i++)
		ice_stale_free(st[i]);
	ice_jsonl_reader_free(r);
	fclose(f);
	return 0;
}
