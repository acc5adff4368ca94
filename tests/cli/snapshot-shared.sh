#!/bin/sh
# snapshot-shared: every real table in ../shared/iceberg gives the current
# snapshot and history that the independently computed expected files list.
. "$top_srcdir/tests/cli/lib.sh"

require_shared

for exp in "$SHARED"/expected/*.diffs.jsonl; do
	base=$(basename "$exp" .diffs.jsonl)
	rel=$(shared_rel "$exp")
	table="$SHARED/tables/$rel"
	out="$TMP/$base"

	"$ICE_SNAPSHOT" show "$table" > "$out.show" 2> "$out.err"
	ok $? "$rel: show exits 0"
	"$ICE_SNAPSHOT" log --all "$table" > "$out.all" 2>> "$out.err"
	ok $? "$rel: log --all exits 0"
	"$ICE_SNAPSHOT" log "$table" > "$out.log" 2>> "$out.err"
	ok $? "$rel: log exits 0"
	is "$(cat "$out.err")" "" "$rel: nothing on stderr"

	# Compare with exact integers: the expected files hold ids above 2^53.
	result=$(python3 - "$exp" "$out.show" "$out.all" "$out.log" <<'PY'
import json, sys
exp = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
show = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
alls = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
log = [json.loads(l) for l in open(sys.argv[4]) if l.strip()]
problems = []
want_all = {e["to_snapshot"] for e in exp} | {e["from_snapshot"] for e in exp if e["from_snapshot"]}
got_all = {r["snapshot_id"] for r in alls}
if want_all != got_all:
    problems.append("log --all ids %s != expected %s" % (sorted(got_all), sorted(want_all)))
if len(show) != 1 or show[0]["snapshot_id"] != exp[-1]["to_snapshot"]:
    problems.append("show gives %s, expected current %s" % ([r["snapshot_id"] for r in show], exp[-1]["to_snapshot"]))
parents = {r["snapshot_id"]: r["parent_id"] for r in alls}
for e in exp:
    if "parent" in e["relations"] and parents.get(e["to_snapshot"]) != e["from_snapshot"]:
        problems.append("parent of %s is %s, expected %s" % (e["to_snapshot"], parents.get(e["to_snapshot"]), e["from_snapshot"]))
    op = next((r["operation"] for r in alls if r["snapshot_id"] == e["to_snapshot"]), None)
    if op != e["operation"]:
        problems.append("operation of %s is %s, expected %s" % (e["to_snapshot"], op, e["operation"]))
# The current branch: a parent chain ending at the current snapshot.
ids = [r["snapshot_id"] for r in log]
if not ids or ids[-1] != exp[-1]["to_snapshot"]:
    problems.append("log does not end at the current snapshot: %s" % ids)
for a, b in zip(log, log[1:]):
    if b["parent_id"] != a["snapshot_id"]:
        problems.append("log is not a parent chain at %s" % b["snapshot_id"])
print("; ".join(problems) if problems else "ok")
PY
)
	is "$result" "ok" "$rel: current snapshot, ids, parents and operations match expected"
done

# Format-specific fields seen on the real tables.
v1="$SHARED/tables/iceberg_v1_deprecated/default/legacy_v1"
is "$("$ICE_SNAPSHOT" show "$v1" | $JSONQ 'len(r["manifests"])')" "1" "format 1: inline manifests listed"
is "$("$ICE_SNAPSHOT" show "$v1" | $JSONQ 'r["sequence_number"]')" "null" "format 1: no sequence number"
gz="$SHARED/tables/iceberg/lineitem_iceberg_gz"
like "$("$ICE_SNAPSHOT" show "$gz" | $JSONQ 'r["metadata_file"]')" "v2.gz.metadata.json" "gzip metadata read through the hint"
dv="$SHARED/tables/legacy_bare_deletion_vector/warehouse/default/legacy_bare_deletion_vector"
is "$("$ICE_SNAPSHOT" show "$dv" | $JSONQ 'r["format_version"]')" "3" "format 3 table read"
is "$("$ICE_SNAPSHOT" show "$SHARED/tables/is_null_is_not_null" | $JSONQ 'r["snapshot_id"]')" \
	"1222714758486840798" "version-hint holding a file name"
is "$("$ICE_SNAPSHOT" log "$SHARED/tables/is_null_is_not_null" | wc -l | tr -d ' ')" "3" \
	"log follows parents, not the (shorter) snapshot-log"
is "$("$ICE_SNAPSHOT" show "$SHARED/tables/iceberg/lineitem_iceberg" | $JSONQ 'r["table"]')" \
	"iceberg.lineitem_iceberg" "default name is the last two folders"
is "$("$ICE_SNAPSHOT" show "orders=$SHARED/tables/partition_integer" | $JSONQ 'r["table"]')" \
	"orders" "NAME=TABLE names the table"

done_testing
