/* ice_metahead: the two fields that tell metadata files of different
 * tables apart (table-uuid, last-updated-ms), read cheaply.
 *
 * Writers put both near the start of the file, so only the first few
 * kilobytes are read and scanned (top-level keys only, nested values
 * skipped); when they are not there, the whole file is parsed. For the
 * locator, which may look at every file of a metadata folder. */
#ifndef ICE_METAHEAD_H
#define ICE_METAHEAD_H

#include <stdbool.h>
#include <stdint.h>

#include "ice_error.h"

typedef struct ice_metadata_head {
	bool has_uuid;
	char uuid[64];          /* table-uuid, when it has one (format 1 may not) */
	bool has_updated_ms;
	int64_t updated_ms;     /* last-updated-ms */
} ice_metadata_head;

/* Fill *h from the metadata file at path. A file that cannot be read or
 * parsed is an error (nothing in *h is then set). */
int ice_metadata_head_read(const char *path, ice_metadata_head *h, ice_err *err);

#endif
