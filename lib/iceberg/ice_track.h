/* ice_track: what happened to a table since a cursor.
 *
 * Given the table's metadata now and the cursor of the last snapshot seen,
 * ice_track_events() lists the snapshot events to emit, oldest first:
 *   ICE_EV_CURRENT   no cursor: the current snapshot (or the empty table)
 *   ICE_EV_NEW       committed since the cursor; `previous` is the snapshot
 *                    before it (the cursor for the first, then its parent)
 *   ICE_EV_ROLLBACK  the current snapshot does not descend from the cursor,
 *                    which still exists (rollback, set-current-snapshot)
 *   ICE_EV_RESET     the history between cursor and current is gone
 *                    (expired snapshots) or the table has no snapshot now
 *   ICE_EV_RECREATED the table-uuid changed: dropped and created again
 * Events borrow snapshots from the metadata. */
#ifndef ICE_TRACK_H
#define ICE_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ice_cursor.h"
#include "ice_error.h"
#include "ice_metadata.h"

typedef enum {
	ICE_EV_CURRENT,
	ICE_EV_HISTORY,
	ICE_EV_NEW,
	ICE_EV_ROLLBACK,
	ICE_EV_RESET,
	ICE_EV_RECREATED
} ice_event_kind;

typedef struct ice_track_event {
	ice_event_kind kind;
	const ice_snapshot *snapshot; /* NULL: the table has no snapshot */
	bool has_previous;            /* a cursor position precedes this event */
	bool previous_is_empty;       /* ...and it was the empty table */
	int64_t previous_id;
	const char *reason;           /* static text for rollback/reset/recreated */
} ice_track_event;

const char *ice_event_name(ice_event_kind k);

/* List the events between `cursor` (NULL: none saved yet) and `md`.
 * from_start: with no cursor, emit the whole current ancestry as NEW
 * events instead of one CURRENT event. *events is malloc'd (caller frees). */
int ice_track_events(const ice_metadata *md, const ice_cursor *cursor, bool from_start,
                     ice_track_event **events, size_t *n, ice_err *err);

/* Does md hold every snapshot between the cursor and the current one, so
 * that ice_track_events can tell new commits from a rollback or a reset?
 * A catalog answer with snapshots=refs holds only the snapshots refs name:
 * when this is false, load the table with snapshots=all. True without a
 * cursor, after a table-uuid change and for an empty table. */
bool ice_track_chain_known(const ice_metadata *md, const ice_cursor *cursor);

/* The cursor after those events: the table's uuid and current snapshot.
 * The caller clears *c. */
int ice_track_cursor_of(const ice_metadata *md, ice_cursor *c, ice_err *err);

#endif
