/* test-metadata: parsing formats 1-3, ancestry, and malformed metadata. */
#include "config.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

#include "ice_metadata.h"

static const char v1_text[] =
	"{\"format-version\":1,\"location\":\"s3://b/t\",\"last-updated-ms\":5,"
	"\"schema\":{\"type\":\"struct\",\"fields\":[{\"id\":1,\"name\":\"c\",\"required\":false,\"type\":\"string\"}]},"
	"\"partition-spec\":[{\"name\":\"c\",\"transform\":\"identity\",\"source-id\":1}],"
	"\"current-snapshot-id\":2456114553637229296,"
	"\"snapshots\":[{\"snapshot-id\":2456114553637229296,\"timestamp-ms\":9,"
	"\"summary\":{\"operation\":\"append\"},\"manifests\":[\"s3://b/t/metadata/m0.avro\"]}]}";

/* Three snapshots 1 <- 2 <- 3 plus 4 on a side branch from 1. */
static const char v2_text[] =
	"{\"format-version\":2,\"table-uuid\":\"u-1\",\"location\":\"/t\",\"last-sequence-number\":4,"
	"\"last-updated-ms\":40,\"current-schema-id\":1,"
	"\"schemas\":[{\"schema-id\":0,\"fields\":[]},{\"schema-id\":1,\"fields\":[]}],"
	"\"default-spec-id\":1,\"partition-specs\":[{\"spec-id\":0,\"fields\":[]},"
	"{\"spec-id\":1,\"fields\":[{\"name\":\"d_day\",\"transform\":\"day\",\"source-id\":3,\"field-id\":1000}]}],"
	"\"current-snapshot-id\":3,"
	"\"refs\":{\"main\":{\"snapshot-id\":3,\"type\":\"branch\"},\"side\":{\"snapshot-id\":4,\"type\":\"branch\"}},"
	"\"snapshots\":["
	"{\"snapshot-id\":1,\"sequence-number\":1,\"timestamp-ms\":10,\"summary\":{\"operation\":\"append\"},\"manifest-list\":\"/t/metadata/s1.avro\"},"
	"{\"snapshot-id\":2,\"parent-snapshot-id\":1,\"sequence-number\":2,\"timestamp-ms\":20,\"summary\":{\"operation\":\"delete\"},\"manifest-list\":\"/t/metadata/s2.avro\",\"schema-id\":1},"
	"{\"snapshot-id\":4,\"parent-snapshot-id\":1,\"sequence-number\":4,\"timestamp-ms\":40,\"summary\":{\"operation\":\"append\"},\"manifest-list\":\"/t/metadata/s4.avro\"},"
	"{\"snapshot-id\":3,\"parent-snapshot-id\":2,\"sequence-number\":3,\"timestamp-ms\":30,\"summary\":{\"operation\":\"overwrite\"},\"manifest-list\":\"/t/metadata/s3.avro\"}],"
	"\"snapshot-log\":[{\"timestamp-ms\":30,\"snapshot-id\":3}],"
	"\"metadata-log\":[{\"timestamp-ms\":1,\"metadata-file\":\"/t/metadata/v1.metadata.json\"}]}";

static ice_metadata *parse(const char *text, ice_err *err)
{
	ice_metadata *md = NULL;

	ice_metadata_parse(text, strlen(text), "test.metadata.json", &md, err);
	return md;
}

static void test_v1(void)
{
	ice_err err = { 0 };
	ice_metadata *md = parse(v1_text, &err);
	const ice_snapshot *s;

	if (!tap_ok(md != NULL, "v1: parsed (%s)", err.msg))
		return;
	tap_is_int(md->format_version, 1, "v1: format version");
	tap_ok(md->table_uuid == NULL, "v1: table-uuid optional");
	tap_is_int((long long)md->n_specs, 1, "v1: legacy partition-spec is spec 0");
	tap_is_int(md->specs[0].fields[0].field_id, 1000, "v1: partition field id assigned 1000");
	tap_ok(ice_metadata_schema(md, 0) != NULL, "v1: legacy schema is schema 0");
	s = ice_metadata_current(md);
	tap_ok(s && s->id == 2456114553637229296LL, "v1: current snapshot id exact");
	tap_ok(s && !s->manifest_list && json_array_size(s->manifests) == 1, "v1: inline manifests kept");
	ice_metadata_free(md);
}

static void test_v2(void)
{
	ice_err err = { 0 };
	ice_metadata *md = parse(v2_text, &err);
	const ice_snapshot **chain = NULL;
	size_t n = 0;
	bool complete = false;

	if (!tap_ok(md != NULL, "v2: parsed (%s)", err.msg))
		return;
	tap_is_str(md->table_uuid, "u-1", "v2: uuid");
	tap_is_int(md->default_spec_id, 1, "v2: default spec");
	tap_is_str(ice_metadata_spec(md, 1)->fields[0].transform, "day", "v2: spec field transform");
	tap_is_int((long long)md->n_refs, 2, "v2: refs");
	tap_is_int(ice_metadata_ref(md, "side")->snapshot_id, 4, "v2: side branch head");
	tap_is_int((long long)md->n_snapshot_log, 1, "v2: snapshot log");
	tap_is_str(md->metadata_log[0].metadata_file, "/t/metadata/v1.metadata.json", "v2: metadata log");
	ice_metadata_ancestry(md, ice_metadata_current(md), &chain, &n, &complete, &err);
	tap_ok(n == 3 && chain[0]->id == 1 && chain[1]->id == 2 && chain[2]->id == 3 && complete,
	       "v2: ancestry oldest first, complete");
	free(chain);
	ice_metadata_ancestry(md, ice_metadata_snapshot(md, 4), &chain, &n, &complete, &err);
	tap_ok(n == 2 && chain[0]->id == 1 && chain[1]->id == 4, "v2: side branch ancestry");
	free(chain);
	ice_metadata_sorted_snapshots(md, &chain, &n, &err);
	tap_ok(n == 4 && chain[0]->id == 1 && chain[2]->id == 3 && chain[3]->id == 4, "v2: sorted by sequence");
	free(chain);
	tap_ok(ice_metadata_is_ancestor(md, 1, 3) && !ice_metadata_is_ancestor(md, 4, 3),
	       "v2: ancestor test");
	ice_metadata_free(md);
}

static char *replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out = malloc(strlen(text) + strlen(to) + 1);

	if (!at) {
		strcpy(out, text);
		return out;
	}
	sprintf(out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return out;
}

static void check_bad(const char *from, const char *to, ice_code code, const char *needle)
{
	char *text = replace(v2_text, from, to);
	ice_err err = { 0 };
	ice_metadata *md = parse(text, &err);

	tap_ok(!md && err.code == code && strstr(err.msg, needle) != NULL,
	       "bad metadata (%s -> %s): %s", from, to, err.msg);
	ice_metadata_free(md);
	free(text);
}

static void test_bad(void)
{
	ice_err err = { 0 };
	ice_metadata *md;
	char half[200];

	check_bad("\"format-version\":2", "\"format-version\":4", ICE_EUNSUPPORTED, "format-version 4");
	check_bad("\"format-version\":2", "\"format-version\":\"2\"", ICE_EFORMAT, "format-version");
	check_bad("\"location\":\"/t\",", "", ICE_EFORMAT, "'location'");
	check_bad("\"table-uuid\":\"u-1\",", "", ICE_EFORMAT, "'table-uuid'");
	check_bad("{\"snapshot-id\":1,", "{", ICE_EFORMAT, "snapshots[0]");
	check_bad("\"current-snapshot-id\":3", "\"current-snapshot-id\":99", ICE_EFORMAT, "99");
	check_bad(",\"manifest-list\":\"/t/metadata/s1.avro\"", "", ICE_EFORMAT, "manifest-list");
	check_bad("\"summary\":{\"operation\":\"append\"}", "\"summary\":{}", ICE_EFORMAT, "operation");
	memcpy(half, v2_text, 150);
	half[150] = '\0';
	md = parse(half, &err);
	tap_ok(!md && err.code == ICE_EFORMAT && strstr(err.msg, "test.metadata.json:1:"),
	       "half-written metadata: position given: %s", err.msg);
	md = parse("[]", &err);
	tap_ok(!md && strstr(err.msg, "not a JSON object"), "array is not metadata");
	md = parse("{\"format-version\":2,\"table-uuid\":\"u\",\"location\":\"/t\","
	           "\"schemas\":[],\"partition-specs\":[],\"current-snapshot-id\":-1}", &err);
	tap_ok(md && !ice_metadata_current(md), "current-snapshot-id -1: no snapshot (%s)", err.msg);
	ice_metadata_free(md);
}

void test_metadata(void)
{
	test_v1();
	test_v2();
	test_bad();
}
