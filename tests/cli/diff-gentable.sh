#!/bin/sh
# diff-gentable: ice-diff reads a table written independently by
# ../shared/tools/gen_table.py (Debian's python3-avro; full column statistics,
# day partitions, appends, deletes and overwrites) as its expected.json
# says: the live files of every snapshot, and each commit's added and
# deleted files. bench/run does the same at 100k and 1M files.
. "$top_srcdir/tests/cli/lib.sh"

GEN="$top_srcdir/../shared/tools/gen_table.py"
[ -f "$GEN" ] || skip_all "../shared/tools/gen_table.py not present (a user's clone has no shared/)"
/usr/bin/python3 -c 'import avro' 2>/dev/null || skip_all "Debian's python3-avro is not installed"

t="$TMP/gen"
/usr/bin/python3 "$GEN" --files 3000 --per-manifest 700 --partitions 40 --snapshots 10 \
	--append-batch 50 --delete-batch 7 --overwrite-batch 5 --seed 7 "$t" > /dev/null
check "gen_table.py wrote a table" test -f "$t/expected.json"

/usr/bin/python3 - "$t/expected.json" > "$TMP/snaps" <<'PY'
import json, sys
for s in json.load(open(sys.argv[1]))["snapshots"]:
    print(s["sequence-number"], s["snapshot-id"], s["parent-snapshot-id"] or "none", s["live-data-files"],
          s["added-count"], s["deleted-count"])
PY
while read -r seq id parent live added deleted; do
	"$ICE_DIFF" "$t" --from none --to "$id" --partitions > "$TMP/full"
	is "$($JSONQ 'rs[-1]["counts"]["data_added"]' --all < "$TMP/full")" "$live" \
		"snapshot $seq: $live live data files"
	[ "$parent" = none ] && continue
	"$ICE_DIFF" "$t" --from "$parent" --to "$id" > "$TMP/step"
	is "$($JSONQ '[rs[-1]["counts"]["data_added"], rs[-1]["counts"]["data_removed"]]' --all < "$TMP/step")" \
		"[$added,$deleted]" "snapshot $seq: $added added, $deleted deleted"
	same=$(/usr/bin/python3 - "$t/expected.json" "$seq" "$TMP/step" <<'PY'
import json, sys
exp = [s for s in json.load(open(sys.argv[1]))["snapshots"] if s["sequence-number"] == int(sys.argv[2])][0]
out = [json.loads(l) for l in open(sys.argv[3])]
got = {c: sorted(r["file_path"] for r in out if r["kind"] == "file" and r["change"] == c)
       for c in ("added", "removed")}
print("yes" if got["added"] == sorted(exp["added-files"]) and got["removed"] == sorted(exp["deleted-files"]) else "no")
PY
)
	is "$same" yes "snapshot $seq: the added and deleted paths"
done < "$TMP/snaps"

done_testing
