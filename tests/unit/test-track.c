/* test-track: events between a cursor and the metadata now. */
#include "config.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

#include "ice_track.h"

/* Chain 1 <- 2 <- 3 (current, by default), 4 on a side branch from 1;
 * snapshot 5's parent 9 was expired. */
static ice_metadata *table(const char *uuid, long long current)
{
	char text[2048];
	ice_metadata *md = NULL;

	snprintf(text, sizeof text,
	         "{\"format-version\":2,\"table-uuid\":\"%s\",\"location\":\"/t\","
	         "\"schemas\":[],\"partition-specs\":[],\"current-snapshot-id\":%lld,\"snapshots\":["
	         "{\"snapshot-id\":1,\"sequence-number\":1,\"timestamp-ms\":1,\"summary\":{\"operation\":\"append\"},\"manifest-list\":\"a\"},"
	         "{\"snapshot-id\":2,\"parent-snapshot-id\":1,\"sequence-number\":2,\"timestamp-ms\":2,\"summary\":{\"operation\":\"append\"},\"manifest-list\":\"a\"},"
	         "{\"snapshot-id\":3,\"parent-snapshot-id\":2,\"sequence-number\":3,\"timestamp-ms\":3,\"summary\":{\"operation\":\"append\"},\"manifest-list\":\"a\"},"
	         "{\"snapshot-id\":4,\"parent-snapshot-id\":1,\"sequence-number\":4,\"timestamp-ms\":4,\"summary\":{\"operation\":\"append\"},\"manifest-list\":\"a\"},"
	         "{\"snapshot-id\":5,\"parent-snapshot-id\":9,\"sequence-number\":5,\"timestamp-ms\":5,\"summary\":{\"operation\":\"append\"},\"manifest-list\":\"a\"}]}",
	         uuid, current);
	ice_metadata_parse(text, strlen(text), "t.json", &md, NULL);
	return md;
}

static ice_track_event *events(const ice_metadata *md, const ice_cursor *c, bool start, size_t *n)
{
	ice_track_event *ev = NULL;
	ice_err err = { 0 };

	if (ice_track_events(md, c, start, &ev, n, &err) != ICE_OK)
		tap_diag("track error: %s", err.msg);
	return ev;
}

static ice_cursor at(long long id)
{
	ice_cursor c = { 0 };

	c.table_uuid = strdup("u");
	c.has_snapshot = id != 0;
	c.snapshot_id = id;
	return c;
}

/* What snapshots=refs sends: only snapshot 3 (current, parent 2), as a
 * document already parsed (a catalog's loadTable answer). */
static ice_metadata *refs_only(void)
{
	const char *text =
		"{\"format-version\":2,\"table-uuid\":\"u\",\"location\":\"/t\",\"schemas\":[],"
		"\"partition-specs\":[],\"current-snapshot-id\":3,\"snapshots\":["
		"{\"snapshot-id\":3,\"parent-snapshot-id\":2,\"sequence-number\":3,\"timestamp-ms\":3,"
		"\"summary\":{\"operation\":\"append\"},\"manifest-list\":\"a\"}]}";
	ice_metadata *md = NULL;
	ice_err err = { 0 };

	if (ice_metadata_from_json(json_loads(text, 0, NULL), "s3://b/t/v3.metadata.json", &md, &err))
		tap_diag("from_json: %s", err.msg);
	return md;
}

static void chain_known_case(const ice_metadata *md, long long cursor, bool want, const char *what)
{
	ice_cursor c = at(cursor);

	tap_ok(ice_track_chain_known(md, &c) == want, "chain known: %s", what);
	ice_cursor_clear(&c);
}

static void test_chain_known(void)
{
	ice_metadata *md = table("u", 3), *refs = refs_only();
	ice_cursor other = { 0 };

	tap_ok(refs && refs->n_snapshots == 1 && refs->has_current && refs->current_snapshot_id == 3 &&
	       strcmp(refs->path, "s3://b/t/v3.metadata.json") == 0,
	       "metadata from a parsed document: the model, named by its location");
	tap_ok(ice_track_chain_known(md, NULL), "chain known: no cursor");
	chain_known_case(md, 1, true, "every snapshot back to the cursor sent");
	chain_known_case(md, 0, true, "after the empty table, the chain to the first snapshot");
	chain_known_case(refs, 2, true, "the cursor is the current snapshot's parent");
	chain_known_case(refs, 1, false, "refs lack the snapshot between cursor and current");
	chain_known_case(refs, 0, false, "refs lack the chain after the empty table");
	chain_known_case(md, 4, false, "the cursor off the chain (rollback or reset: ask for all)");
	other.table_uuid = strdup("v");
	other.has_snapshot = true;
	other.snapshot_id = 1;
	tap_ok(ice_track_chain_known(refs, &other), "chain known: a new table-uuid needs no history");
	ice_cursor_clear(&other);
	ice_metadata_free(refs);
	ice_metadata_free(md);
}

void test_track(void)
{
	ice_metadata *md = table("u", 3);
	ice_track_event *ev;
	ice_cursor c;
	size_t n = 0;

	ev = events(md, NULL, false, &n);
	tap_ok(n == 1 && ev[0].kind == ICE_EV_CURRENT && ev[0].snapshot->id == 3 && !ev[0].has_previous,
	       "track: no cursor gives the current snapshot");
	free(ev);
	ev = events(md, NULL, true, &n);
	tap_ok(n == 3 && ev[0].snapshot->id == 1 && ev[0].previous_is_empty && ev[2].snapshot->id == 3 &&
	       ev[2].previous_id == 2, "track: from start gives the chain, first after the empty table");
	free(ev);

	c = at(1);
	ev = events(md, &c, false, &n);
	tap_ok(n == 2 && ev[0].kind == ICE_EV_NEW && ev[0].snapshot->id == 2 && ev[0].previous_id == 1 &&
	       ev[1].snapshot->id == 3 && ev[1].previous_id == 2, "track: two commits since cursor, in order");
	free(ev);
	ice_cursor_clear(&c);

	c = at(3);
	ev = events(md, &c, false, &n);
	tap_ok(n == 0, "track: nothing new");
	free(ev);
	ice_cursor_clear(&c);

	c = at(0);
	ev = events(md, &c, false, &n);
	tap_ok(n == 3 && ev[0].previous_is_empty, "track: cursor on empty table: whole chain is new");
	free(ev);
	ice_cursor_clear(&c);

	c = at(4);
	ev = events(md, &c, false, &n);
	tap_ok(n == 1 && ev[0].kind == ICE_EV_ROLLBACK && ev[0].snapshot->id == 3 && ev[0].previous_id == 4,
	       "track: current not descending from cursor is a rollback");
	tap_ok(n == 1 && strstr(ev[0].reason, "does not descend") != NULL, "track: reason says why");
	free(ev);
	ice_cursor_clear(&c);
	ice_metadata_free(md);

	md = table("u", 1);
	c = at(3);
	ev = events(md, &c, false, &n);
	tap_ok(n == 1 && ev[0].kind == ICE_EV_ROLLBACK && strstr(ev[0].reason, "ancestor"),
	       "track: rollback to an ancestor");
	free(ev);
	ice_cursor_clear(&c);
	ice_metadata_free(md);

	md = table("u", 5);
	c = at(9);
	ev = events(md, &c, false, &n);
	tap_ok(n == 1 && ev[0].kind == ICE_EV_NEW && ev[0].snapshot->id == 5,
	       "track: expired cursor snapshot still connects through parent id");
	free(ev);
	ice_cursor_clear(&c);
	c = at(77);
	ev = events(md, &c, false, &n);
	tap_ok(n == 1 && ev[0].kind == ICE_EV_RESET, "track: unknown history is a reset");
	free(ev);
	ice_cursor_clear(&c);
	ice_metadata_free(md);

	md = table("v", 3);
	c = at(3);
	ev = events(md, &c, false, &n);
	tap_ok(n == 1 && ev[0].kind == ICE_EV_RECREATED, "track: new table-uuid is recreated");
	free(ev);
	ice_cursor_clear(&c);
	ice_metadata_free(md);

	md = table("u", -1);
	c = at(3);
	ev = events(md, &c, false, &n);
	tap_ok(n == 1 && ev[0].kind == ICE_EV_RESET && !ev[0].snapshot, "track: snapshot gone is a reset");
	free(ev);
	ice_cursor_clear(&c);
	ice_metadata_free(md);
	test_chain_known();
}
