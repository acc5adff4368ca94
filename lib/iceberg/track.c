/* track: turn "cursor then, metadata now" into ordered snapshot events. */
#include "config.h"
#include "ice_track.h"

#include <stdlib.h>
#include <string.h>

const char *ice_event_name(ice_event_kind k)
{
	switch (k) {
	case ICE_EV_CURRENT: return "current";
	case ICE_EV_HISTORY: return "history";
	case ICE_EV_NEW: return "new";
	case ICE_EV_ROLLBACK: return "rollback";
	case ICE_EV_RESET: return "reset";
	case ICE_EV_RECREATED: return "recreated";
	}
	return "unknown";
}

static ice_track_event *one_event(ice_event_kind kind, const ice_snapshot *s,
                                  const ice_cursor *cursor, const char *reason)
{
	ice_track_event *ev = calloc(1, sizeof *ev);

	if (!ev)
		return NULL;
	ev->kind = kind;
	ev->snapshot = s;
	ev->reason = reason;
	if (cursor) {
		ev->has_previous = true;
		ev->previous_is_empty = !cursor->has_snapshot;
		ev->previous_id = cursor->snapshot_id;
	}
	return ev;
}

/* NEW events for chain[from..n-1]; the first's previous is the cursor. */
static int chain_events(const ice_snapshot **chain, size_t from, size_t n,
                        const ice_cursor *cursor, ice_track_event **events, size_t *count,
                        ice_err *err)
{
	ice_track_event *ev = calloc(n - from + 1, sizeof *ev);

	if (!ev)
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	for (size_t i = from; i < n; i++) {
		ice_track_event *e = &ev[i - from];
		e->kind = ICE_EV_NEW;
		e->snapshot = chain[i];
		if (i > from) {
			e->has_previous = true;
			e->previous_id = chain[i - 1]->id;
		} else if (cursor) {
			e->has_previous = true;
			e->previous_is_empty = !cursor->has_snapshot;
			e->previous_id = cursor->snapshot_id;
		} else {
			/* From the start: the first snapshot follows the empty table. */
			e->has_previous = true;
			e->previous_is_empty = !chain[i]->has_parent;
			e->previous_id = chain[i]->parent_id;
		}
	}
	*events = ev;
	*count = n - from;
	return ICE_OK;
}

static bool uuid_changed(const ice_metadata *md, const ice_cursor *c)
{
	return c->table_uuid && md->table_uuid && strcmp(c->table_uuid, md->table_uuid) != 0;
}

/* Index in chain of the first snapshot after the cursor, or n when the
 * cursor is not on the chain. */
static size_t after_cursor(const ice_snapshot **chain, size_t n, const ice_cursor *c)
{
	for (size_t i = n; i-- > 0;) {
		if (chain[i]->id == c->snapshot_id)
			return i + 1;
		if (chain[i]->has_parent && chain[i]->parent_id == c->snapshot_id)
			return i;
	}
	return n + 1;
}

static int single(ice_event_kind kind, const ice_snapshot *s, const ice_cursor *c,
                  const char *reason, ice_track_event **events, size_t *n, ice_err *err)
{
	*events = one_event(kind, s, c, reason);
	*n = 1;
	return *events ? ICE_OK : ice_err_set(err, ICE_ENOMEM, "out of memory");
}

static int since_cursor(const ice_metadata *md, const ice_snapshot *cur, const ice_cursor *c,
                        ice_track_event **events, size_t *n, ice_err *err)
{
	const ice_snapshot **chain = NULL;
	size_t len = 0, at;
	bool complete;
	int rc;

	if (!c->has_snapshot) {
		/* The table was empty: everything on the chain is new. */
		if ((rc = ice_metadata_ancestry(md, cur, &chain, &len, &complete, err)) == ICE_OK)
			rc = chain_events(chain, 0, len, c, events, n, err);
		goto out;
	}
	if ((rc = ice_metadata_ancestry(md, cur, &chain, &len, &complete, err)))
		goto out;
	at = after_cursor(chain, len, c);
	if (at <= len) {
		rc = chain_events(chain, at, len, c, events, n, err);
	} else if (ice_metadata_snapshot(md, c->snapshot_id)) {
		rc = single(ICE_EV_ROLLBACK, cur, c,
		            ice_metadata_is_ancestor(md, cur->id, c->snapshot_id)
		                ? "current snapshot rolled back to an ancestor"
		                : "current snapshot does not descend from the previous one",
		            events, n, err);
	} else {
		rc = single(ICE_EV_RESET, cur, c,
		            "previous snapshot expired; history since it is unknown", events, n, err);
	}
out:
	free(chain);
	return rc;
}

int ice_track_events(const ice_metadata *md, const ice_cursor *cursor, bool from_start,
                     ice_track_event **events, size_t *n, ice_err *err)
{
	const ice_snapshot *cur = ice_metadata_current(md);
	const ice_snapshot **chain = NULL;
	size_t len = 0;
	bool complete;
	int rc;

	*events = NULL;
	*n = 0;
	if (!cursor) {
		if (!from_start || !cur)
			return single(ICE_EV_CURRENT, cur, NULL, NULL, events, n, err);
		if ((rc = ice_metadata_ancestry(md, cur, &chain, &len, &complete, err)) == ICE_OK)
			rc = chain_events(chain, 0, len, NULL, events, n, err);
		free(chain);
		return rc;
	}
	if (uuid_changed(md, cursor))
		return single(ICE_EV_RECREATED, cur, cursor, "table-uuid changed: table was recreated",
		              events, n, err);
	if (!cur)
		return cursor->has_snapshot
		           ? single(ICE_EV_RESET, NULL, cursor, "table has no current snapshot", events, n, err)
		           : ICE_OK;
	if (cursor->has_snapshot && cursor->snapshot_id == cur->id)
		return ICE_OK;
	return since_cursor(md, cur, cursor, events, n, err);
}

bool ice_track_chain_known(const ice_metadata *md, const ice_cursor *cursor)
{
	const ice_snapshot *s = ice_metadata_current(md);

	if (!cursor || !s || uuid_changed(md, cursor))
		return true;
	/* Parent links from the current snapshot, at most one step per snapshot
	 * (a cycle in hostile metadata ends the walk). */
	for (size_t steps = 0; s && steps <= md->n_snapshots; steps++) {
		if (cursor->has_snapshot && (s->id == cursor->snapshot_id ||
		                             (s->has_parent && s->parent_id == cursor->snapshot_id)))
			return true;
		if (!s->has_parent)
			/* Back to the first snapshot: all new after an empty table;
			 * otherwise the cursor is off the chain, and whether it still
			 * exists (a rollback) or not (a reset) takes every snapshot. */
			return !cursor->has_snapshot;
		s = ice_metadata_snapshot(md, s->parent_id);
	}
	return false;
}

int ice_track_cursor_of(const ice_metadata *md, ice_cursor *c, ice_err *err)
{
	const ice_snapshot *cur = ice_metadata_current(md);

	ice_cursor_clear(c);
	if (md->table_uuid && !(c->table_uuid = strdup(md->table_uuid)))
		return ice_err_set(err, ICE_ENOMEM, "out of memory");
	c->has_snapshot = cur != NULL;
	c->snapshot_id = cur ? cur->id : 0;
	return ICE_OK;
}
