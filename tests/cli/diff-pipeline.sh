#!/bin/sh
# diff-pipeline: ice-snapshot | ice-diff. Snapshot records pass through and
# each is followed by its diff; a rollback diffs from the last snapshot seen;
# a recreated table, an expired from-snapshot and a file of the wrong kind
# give table scope.
. "$top_srcdir/tests/cli/lib.sh"

t="$TMP/wh/db/p"
"$MKTABLE" create "$t" --seed 60 --partition "identity(category)" > /dev/null
"$MKTABLE" append "$t" --files 4 > /dev/null
"$MKTABLE" append "$t" --files 2 > /dev/null
"$MKTABLE" delete "$t" --files 1 > /dev/null

"$ICE_SNAPSHOT" watch --once --from-start "$t" | "$ICE_DIFF" > "$TMP/out" 2> "$TMP/err"
is "$?" "0" "pipeline: exit 0"
is "$($JSONQ 'r["kind"]' < "$TMP/out" | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')" \
	"snapshotx1 filex4 diffx1 snapshotx1 filex2 diffx1 snapshotx1 filex1 diffx1 " \
	"pipeline: each snapshot record is passed through and followed by its diff"
is "$($JSONQ 'r.get("change")' < "$TMP/out" | grep -v null | tr '\n' ' ')" \
	"added added added added added added removed " "pipeline: changes per commit"
is "$(grep '"kind":"diff"' "$TMP/out" | head -n 1 | $JSONQ 'r["from"]')" "null" \
	"pipeline: the first commit is diffed from the empty table"

# The same pipeline on every format version, and on a table partitioned by
# many transforms: each file's partition_key must equal the partition folder
# ice-mktable (an independent renderer) wrote into the data file's path.
for fv in 1 2 3; do
	x="$TMP/wh/db/x$fv"
	"$MKTABLE" create "$x" --format-version $fv --seed $((70 + fv)) \
		--schema "id:long,cat:string,day:date,ts:timestamp,flag:boolean,n:int" \
		--partition "bucket[8](id),truncate[2](cat),month(day),year(day),hour(ts),identity(flag),identity(n)" > /dev/null
	"$MKTABLE" append "$x" --files 6 > /dev/null
	"$MKTABLE" append "$x" --files 3 > /dev/null
	"$MKTABLE" delete "$x" --files 2 > /dev/null
	"$ICE_SNAPSHOT" watch --once --from-start "$x" | "$ICE_DIFF" > "$TMP/out"
	is "$?:$($JSONQ 'r["kind"]' < "$TMP/out" | grep -c diff)" "0:3" "v$fv: three commits diffed through the pipeline"
	is "$($JSONQ 'r.get("change")' < "$TMP/out" | grep -v null | sort | uniq -c | awk '{print $2 $1}' | tr '\n' ' ')" \
		"added9 removed2 " "v$fv: 9 files added, 2 removed"
	bad=$($JSONQ '"" if r["kind"] != "file" or r["file_path"].rsplit("/", 1)[0].endswith("/data/" + r["partition_key"]) else r["file_path"] + " vs " + r["partition_key"]' < "$TMP/out" | grep -v '^$' | head -n 3)
	is "$bad" "" "v$fv: partition keys of 7 transforms equal the writer's folders"
done

# A rollback: diffed from the last snapshot seen, which is not an ancestor.
first=$("$ICE_SNAPSHOT" log "$t" | head -n 1 | $JSONQ 'r["snapshot_id"]')
last=$("$ICE_SNAPSHOT" show "$t" | $JSONQ 'r["snapshot_id"]')
"$ICE_SNAPSHOT" poll --state "$TMP/c.json" "$t" > /dev/null
"$MKTABLE" rollback "$t" --to "$first" > /dev/null
"$ICE_SNAPSHOT" poll --state "$TMP/c.json" "$t" | "$ICE_DIFF" > "$TMP/out"
is "$(tail -n 1 "$TMP/out" | $JSONQ '(r["from"] == '"$last"', r["to"] == '"$first"', r["scope"])')" \
	"(True, True, 'files')" "rollback: diff from the last snapshot seen to the new current"
want=$(python3 -c '
import json, subprocess, sys
live = lambda s: {json.loads(l)["file_path"] for l in subprocess.run(
    [sys.argv[1], "list", sys.argv[2], "--snapshot", s], capture_output=True, text=True).stdout.splitlines()}
a, b = live(sys.argv[3]), live(sys.argv[4])
print((len(b - a), len(a - b)))' "$MKTABLE" "$t" "$last" "$first")
is "$(tail -n 1 "$TMP/out" | $JSONQ '(r["counts"]["data_added"], r["counts"]["data_removed"])')" "$want" \
	"rollback: the live-set difference between the two ($want)"

# Recreated: table scope, whatever the files.
"$MKTABLE" recreate "$t" --seed 61 > /dev/null
"$MKTABLE" append "$t" --files 1 > /dev/null
"$ICE_SNAPSHOT" poll --state "$TMP/c.json" "$t" | "$ICE_DIFF" > "$TMP/out" 2> /dev/null
is "$?" "1" "recreated: exit 1 (not diffable precisely)"
is "$(tail -n 1 "$TMP/out" | $JSONQ '(r["kind"], r["scope"])')" "('diff', 'table')" "recreated: table scope"
like "$(tail -n 1 "$TMP/out")" "recreated" "recreated: the reason says so"

# Expired from-snapshot.
e="$TMP/wh/db/e"
"$MKTABLE" create "$e" --seed 62 > /dev/null
for _ in 1 2 3; do "$MKTABLE" append "$e" --files 1 > /dev/null; done
"$MKTABLE" expire "$e" --keep 1 > /dev/null
"$ICE_DIFF" "$e" > "$TMP/out" 2> "$TMP/err"
is "$?" "1" "expired parent: exit 1"
is "$(tail -n 1 "$TMP/out" | $JSONQ '(r["scope"], r["reason"])')" "('table', 'from-snapshot expired')" \
	"expired parent: table scope with the reason"

# A manifest list where a manifest should be: wrong schema, table scope.
w="$TMP/wh/db/w"
"$MKTABLE" create "$w" --seed 63 > /dev/null
"$MKTABLE" append "$w" --files 2 > /dev/null
# shellcheck disable=SC2012 # names ice-mktable wrote: plain
cp "$(ls "$w"/metadata/snap-*.avro | head -n 1)" "$(ls "$w"/metadata/*-m0.avro | head -n 1)"
"$ICE_DIFF" "$w" > "$TMP/out" 2> "$TMP/err"
is "$?" "1" "wrong schema: exit 1"
like "$(cat "$TMP/err")" "not a manifest" "wrong schema: says it is not a manifest"
is "$(tail -n 1 "$TMP/out" | $JSONQ 'r["scope"]')" "table" "wrong schema: table scope"

# --strict stops at the first problem; without it the next records still flow.
printf '%s\n' 'garbage' '{"kind":"x"}' | "$ICE_DIFF" --strict > "$TMP/out" 2> /dev/null
is "$?:$(wc -l < "$TMP/out" | tr -d ' ')" "1:0" "--strict: stops at the bad line"

done_testing
