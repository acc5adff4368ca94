#!/bin/sh
# diff-shared: for every transition in ../shared/iceberg/expected, ice-diff's
# added and removed data and delete files (paths, contents, partition values)
# equal the independently computed ones, on the fast path and with --full.
. "$top_srcdir/tests/cli/lib.sh"

require_shared

for exp in "$SHARED"/expected/*.diffs.jsonl; do
	rel=$(shared_rel "$exp")
	table="$SHARED/tables/$rel"
	i=0
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    print(e["from_snapshot"] if e["from_snapshot"] is not None else "none", e["to_snapshot"])
' "$exp" > "$TMP/pairs"
	while read -r from to; do
		i=$((i + 1))
		for mode in fast full; do
			flag=""
			[ $mode = full ] && flag=--full
			"$ICE_DIFF" $flag "$table" --from "$from" --to "$to" > "$TMP/out" 2> "$TMP/err"
			st=$?
			result=$(python3 - "$exp" "$i" "$TMP/out" <<'PY'
import json, sys
exp = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2]) - 1]
out = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
code = {"data": 0, "position_deletes": 1, "deletion_vector": 1, "equality_deletes": 2}
def ours(change, data):
    return sorted((r["file_path"], code[r["content"]], json.dumps(r["partition"], sort_keys=True))
                  for r in out if r["kind"] == "file" and r["change"] == change
                  and (r["content"] == "data") == data)
def theirs(key):
    return sorted((f["file_path"], f["content"], json.dumps(f["partition"], sort_keys=True)) for f in exp[key])
problems = []
for change, data, key in (("added", True, "data_added"), ("removed", True, "data_removed"),
                          ("added", False, "delete_added"), ("removed", False, "delete_removed")):
    if ours(change, data) != theirs(key):
        problems.append("%s: got %s expected %s" % (key, ours(change, data), theirs(key)))
summ = [r for r in out if r["kind"] == "diff"]
if len(summ) != 1:
    problems.append("%d diff summaries" % len(summ))
print("; ".join(problems)[:2000] if problems else "ok")
PY
)
			is "$st:$result" "0:ok" "$rel #$i ($from -> $to, $mode): files and partitions as expected"
		done
	done < "$TMP/pairs"
done

done_testing
