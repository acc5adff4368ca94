/* snaprec: build snapshot records from the metadata model. */
#include "config.h"
#include "ice_snaprec.h"
#include "ice_time.h"

static json_t *int_or_null(bool has, int64_t v)
{
	return has ? json_integer(v) : json_null();
}

static void add_snapshot_fields(json_t *r, const ice_metadata *md, const ice_snapshot *s)
{
	char ts[ICE_TIME_BUF];

	json_object_set_new(r, "snapshot_id", json_integer(s->id));
	json_object_set_new(r, "parent_id", int_or_null(s->has_parent, s->parent_id));
	json_object_set_new(r, "sequence_number",
	                    int_or_null(md->format_version >= 2, s->sequence_number));
	json_object_set_new(r, "timestamp_ms", json_integer(s->timestamp_ms));
	json_object_set_new(r, "timestamp", json_string(ice_format_time_ms(s->timestamp_ms, ts)));
	json_object_set_new(r, "operation", s->operation ? json_string(s->operation) : json_null());
	json_object_set_new(r, "summary", s->summary ? json_copy(s->summary) : json_object());
	if (s->manifest_list)
		json_object_set_new(r, "manifest_list", json_string(s->manifest_list));
	else
		json_object_set_new(r, "manifests", json_copy(s->manifests));
	json_object_set_new(r, "schema_id", int_or_null(s->has_schema_id, s->schema_id));
}

static void add_event_fields(json_t *r, const ice_track_event *ev)
{
	if (!ev->has_previous)
		return;
	json_object_set_new(r, "previous_snapshot_id",
	                    ev->previous_is_empty ? json_null() : json_integer(ev->previous_id));
}

json_t *ice_snapshot_record(const ice_metadata *md, const char *table, const char *table_path,
                            const ice_snapshot *s, const ice_track_event *ev, const char *event)
{
	json_t *r = json_object();

	if (!r)
		return NULL;
	json_object_set_new(r, "kind", json_string("snapshot"));
	json_object_set_new(r, "event", json_string(ev ? ice_event_name(ev->kind) : event));
	json_object_set_new(r, "table", json_string(table));
	json_object_set_new(r, "table_uuid", md->table_uuid ? json_string(md->table_uuid) : json_null());
	if (s)
		add_snapshot_fields(r, md, s);
	else
		json_object_set_new(r, "snapshot_id", json_null());
	if (ev)
		add_event_fields(r, ev);
	json_object_set_new(r, "format_version", json_integer(md->format_version));
	json_object_set_new(r, "metadata_file", json_string(md->path));
	json_object_set_new(r, "table_path", json_string(table_path));
	json_object_set_new(r, "location", json_string(md->location));
	if (ev && ev->reason)
		json_object_set_new(r, "reason", json_string(ev->reason));
	else if (!s)
		json_object_set_new(r, "reason", json_string("table has no snapshot yet"));
	return r;
}

void ice_snapshot_record_catalog(json_t *r, const char *catalog, const char *ns,
                                 const char *name, const char *metadata_location)
{
	json_object_set_new(r, "catalog", json_string(catalog));
	json_object_set_new(r, "namespace", json_string(ns));
	json_object_set_new(r, "table_name", json_string(name));
	json_object_set_new(r, "metadata_location",
	                    metadata_location ? json_string(metadata_location) : json_null());
}

json_t *ice_dropped_record(const char *table, const char *table_uuid, bool has_previous,
                           int64_t previous_id, const char *reason)
{
	json_t *r = json_object();

	if (!r)
		return NULL;
	json_object_set_new(r, "kind", json_string("snapshot"));
	json_object_set_new(r, "event", json_string("dropped"));
	json_object_set_new(r, "table", json_string(table));
	json_object_set_new(r, "table_uuid", table_uuid ? json_string(table_uuid) : json_null());
	json_object_set_new(r, "snapshot_id", json_null());
	json_object_set_new(r, "previous_snapshot_id",
	                    has_previous ? json_integer(previous_id) : json_null());
	json_object_set_new(r, "reason", json_string(reason));
	return r;
}
