#!/bin/sh
# pipeline-no-silent-drop: the pipeline never drops a commit quietly. A
# snapshot record ice-diff cannot use is an error naming its line and, when
# its table is known, a table-scope diff; ice-invalidate given snapshot
# records with no diff says so and fails; a --from that names no snapshot is
# a usage error; Hive-style NAME.db folders and NAME=TABLE name tables as
# engines do.
. "$top_srcdir/tests/cli/lib.sh"
ICE_INVALIDATE="$top_builddir/ice-invalidate"
ICE_CACHE="$top_builddir/ice-cache"
ICE_CACHE_URL="sqlite://$TMP/cache.db"
export ICE_CACHE_URL

t="$TMP/wh/sales.db/orders"
"$MKTABLE" create "$t" --seed 17 --partition "identity(category)" > /dev/null
"$MKTABLE" append "$t" --files 3 > /dev/null
"$MKTABLE" append "$t" --files 2 > /dev/null
"$ICE_SNAPSHOT" show "$t" > "$TMP/snap"
good=$(cat "$TMP/snap")

# ---- table names -------------------------------------------------------------
is "$($JSONQ 'r["table"]' < "$TMP/snap")" "sales.orders" "a NAME.db folder names the table NAME.TABLE"
is "$("$ICE_DIFF" "$t" | tail -n 1 | $JSONQ 'r["table"]')" "sales.orders" "ice-diff names it the same way"
is "$("$ICE_DIFF" "o2=$t" | tail -n 1 | $JSONQ 'r["table"]')" "o2" "ice-diff NAME=TABLE"
"$ICE_DIFF" --name x "o2=$t" > /dev/null 2> "$TMP/err"
is "$?" "2" "ice-diff --name with NAME=TABLE: usage error"
like "$(cat "$TMP/err")" "named twice" "... says the table is named twice"

# ---- --from naming no snapshot -------------------------------------------------
"$ICE_DIFF" "$t" --from 12345 > "$TMP/out" 2> "$TMP/err"
is "$?" "2" "--from with an unknown id: usage error, like --to"
like "$(cat "$TMP/err")" "ice-diff: error: --from: no snapshot '12345'" "... naming the id"
is "$(wc -c < "$TMP/out" | tr -d ' ')" "0" "... and no table-scope record"
first=$("$ICE_SNAPSHOT" log "$t" | head -n 1 | $JSONQ 'r["snapshot_id"]')
"$MKTABLE" append "$t" --files 1 > /dev/null
"$MKTABLE" expire "$t" --keep 1 > /dev/null
"$ICE_DIFF" "$t" --from "$first" > "$TMP/out" 2> "$TMP/err"
is "$?" "2" "--from an expired snapshot the table no longer remembers: usage error"
# A writer that keeps expired snapshots in its snapshot log: the id is known
# history, so the whole table is stale rather than the id a mistake.
python3 - "$t" "$first" <<'PY'
import glob, json, sys
path = sorted(glob.glob(sys.argv[1] + "/metadata/v*.metadata.json"), key=lambda p: int(p.rsplit("/v", 1)[1].split(".")[0]))[-1]
md = json.load(open(path))
md["snapshot-log"].insert(0, {"timestamp-ms": md["snapshot-log"][0]["timestamp-ms"] - 1, "snapshot-id": int(sys.argv[2])})
json.dump(md, open(path, "w"))
PY
"$ICE_DIFF" "$t" --from "$first" > "$TMP/out" 2> "$TMP/err"
is "$?" "1" "--from an expired snapshot still in the snapshot log: exit 1 (table scope, as documented)"
is "$($JSONQ '(r["scope"], r["reason"], r["from"] == '"$first"')' < "$TMP/out")" \
	"('table', 'from-snapshot expired', True)" "... a table-scope diff reporting the id given as from"

# ---- snapshot records ice-diff cannot use --------------------------------------
bad_record() { # bad_record PYTHON-EXPRESSION-ON-r: the good record, edited
	printf '%s\n' "$good" | python3 -c 'import json, sys
r = json.loads(sys.stdin.read())
'"$1"'
print(json.dumps(r))'
}
for case in 'r["snapshot_id"] = 1.5|is not an integer' \
	'r["snapshot_id"] = "123"|is not an integer' \
	'del r["snapshot_id"]|no "snapshot_id"' \
	'del r["metadata_file"]|no string "metadata_file"' \
	'r["previous_snapshot_id"] = "x"|neither an integer nor null'; do
	edit=${case%%|*}
	want=${case#*|}
	{ echo '{"kind":"note"}'; bad_record "$edit"; } | "$ICE_DIFF" > "$TMP/out" 2> "$TMP/err"
	is "$?" "1" "unusable record ($edit): exit 1"
	like "$(cat "$TMP/err")" "ice-diff: error: stdin:2: snapshot record " "... the error names the line"
	like "$(cat "$TMP/err")" "$want" "... and what is wrong ($want)"
	is "$(tail -n 1 "$TMP/out" | $JSONQ '(r["kind"], r["table"], r["scope"], r["reason"])')" \
		"('diff', 'sales.orders', 'table', 'unusable snapshot record')" "... a table-scope diff follows it"
done
bad_record 'del r["table"]' | "$ICE_DIFF" > "$TMP/out" 2> "$TMP/err"
is "$?" "1" "a snapshot record without a table: exit 1"
like "$(cat "$TMP/err")" "not diffed" "... said, with no diff (no table to name)"
is "$(grep -c '"kind":"diff"' "$TMP/out")" "0" "... and no diff record"
printf '{"kind":"snapshot","table":"sales.orders","snapshot_id":null}\n' | "$ICE_DIFF" > /dev/null 2> "$TMP/err"
is "$?:$(wc -c < "$TMP/err" | tr -d ' ')" "0:0" "a table with no snapshot yet: nothing to diff, no error"

# The whole table goes when its snapshot record was unusable, and the
# cursor does not move (there is no snapshot to move it to).
"$ICE_CACHE" put k1 --value v --table sales.orders > /dev/null
"$ICE_CACHE" put k2 --value v --table other.t > /dev/null
bad_record 'r["snapshot_id"] = "oops"' | "$ICE_DIFF" 2> /dev/null | "$ICE_INVALIDATE" > "$TMP/inv" 2> "$TMP/err"
is "$(grep '"kind":"invalidated"' "$TMP/inv" | $JSONQ '(r["whole_table"], r["entries_removed"])')" "(True, 1)" \
	"unusable record through the pipeline: the whole table invalidated"
"$ICE_CACHE" get k1 > /dev/null 2>&1
is "$?" "1" "... its entry is gone"
is "$("$ICE_CACHE" get k2)" "v" "... another table's entry stays"

# ---- ice-invalidate without ice-diff ---------------------------------------
"$ICE_CACHE" put k3 --value v --table sales.orders > /dev/null
"$ICE_SNAPSHOT" show "$t" | "$ICE_INVALIDATE" > "$TMP/inv" 2> "$TMP/err"
is "$?" "1" "ice-snapshot | ice-invalidate (ice-diff forgotten): exit 1"
like "$(cat "$TMP/err")" "ice-invalidate: error: stdin:1: a snapshot record with no diff after it" \
	"... one clear line naming the record"
is "$(grep -c 'no diff after it' "$TMP/err")" "1" "... said once"
"$ICE_SNAPSHOT" log "$t" | "$ICE_INVALIDATE" > /dev/null 2> "$TMP/err"
is "$?:$(grep -c 'no diff after it' "$TMP/err")" "1:1" "several undiffed snapshots: exit 1, said once"
"$ICE_SNAPSHOT" show "$t" | "$ICE_DIFF" | "$ICE_INVALIDATE" > /dev/null 2> "$TMP/err"
is "$?:$(grep -c 'no diff' "$TMP/err")" "0:0" "with ice-diff in between: exit 0, no warning"

done_testing
