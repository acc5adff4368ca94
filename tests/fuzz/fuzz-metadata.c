/* fuzz-metadata: table metadata JSON (ice_metadata_parse), then what
 * ice-snapshot derives from it: the events since no cursor, the snapshot
 * records, the ancestry of the current snapshot. */
#include "config.h"
#include "fuzz.h"
#include "ice_metadata.h"
#include "ice_snaprec.h"
#include "ice_track.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ice_metadata *md = NULL;
	ice_track_event *ev = NULL;
	size_t n = 0;
	ice_cursor c = { 0 };

	if (ice_metadata_parse((const char *)data, size, "fuzz.metadata.json", &md, NULL) != ICE_OK)
		return 0;
	if (ice_track_events(md, NULL, true, &ev, &n, NULL) == ICE_OK) {
		for (size_t i = 0; i < n; i++)
			json_decref(ice_snapshot_record(md, "db.t", "/t", ev[i].snapshot, &ev[i], "current"));
		free(ev);
	}
	if (ice_track_cursor_of(md, &c, NULL) == ICE_OK)
		ice_cursor_clear(&c);
	ice_metadata_free(md);
	return 0;
}
