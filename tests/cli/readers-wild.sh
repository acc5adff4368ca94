#!/bin/sh
# readers-wild: what other writers write, end to end through ice-snapshot,
# ice-diff and the pipeline into ice-invalidate on the embedded cache:
# manifests whose every field is a nullable union (checked independently
# with Debian's python3-avro), a metadata folder holding only
# v1.metadata.json, snapshot ids beyond 2^63-1 (refused by name; the other
# tables go on; the pipeline invalidates the whole table), and a table
# dropped and created again over its old metadata files (the newest wins).
. "$top_srcdir/tests/cli/lib.sh"

INV="$top_builddir/ice-invalidate"
C="$top_builddir/ice-cache"
ICE_TEST_BACKEND=sqlite
start_cache
put() { # put KEY TAG...: an entry carrying the tags
	key=$1
	shift
	for tag in "$@"; do set -- "$@" --tag "$tag"; shift; done
	"$C" put "$key" --value "value of $key" "$@"
}
present() { "$C" info "$1" > /dev/null 2>&1; }
commit_files() { # commit_files FIELD < commit line: the sorted paths
	$JSONQ "'\n'.join(sorted(r['$1']))" | sed '/^$/d'
}
diff_files() { # diff_files CHANGE < ice-diff output: the sorted paths
	$JSONQ "r['file_path'] if r['kind'] == 'file' and r['change'] == '$1' else ''" | sed '/^$/d' | sort
}

# ---- 1. every manifest field a nullable union ---------------------------------
for part in "identity(category)" ""; do
	t="$TMP/wh/db/n${part:+p}"
	"$MKTABLE" create "$t" --format-version 2 --nullable-manifests --partition "$part" --seed 14 > /dev/null
	"$MKTABLE" append "$t" --files 5 --stats > "$TMP/c1"
	"$MKTABLE" delete "$t" --files 2 > "$TMP/c2"
	label=${part:-unpartitioned}
	"$ICE_DIFF" "$t" > "$TMP/d2"
	is "$?" 0 "nullable manifests ($label): ice-diff reads the delete"
	is "$(diff_files removed < "$TMP/d2")" "$(commit_files removed_files < "$TMP/c2")" \
		"nullable manifests ($label): the removed files, exactly"
	is "$($JSONQ 'r.get("scope", "")' < "$TMP/d2" | tail -n 1)" files \
		"nullable manifests ($label): file scope, not the table-scope fallback"
	first=$($JSONQ 'r["snapshot_id"]' < "$TMP/c1")
	"$ICE_DIFF" "$t" --from none --to "$first" > "$TMP/d1"
	is "$(diff_files added < "$TMP/d1")" "$(commit_files added_files < "$TMP/c1")" \
		"nullable manifests ($label): the appended files, exactly"
done
# The partition value comes through the partition record's union.
is "$($JSONQ 'r["partition_key"] if r["kind"] == "file" else ""' < "$TMP/d1" | sed '/^$/d' | sort -u)" "" \
	"nullable manifests: an unpartitioned table's empty partition record"
"$ICE_DIFF" "$TMP/wh/db/np" --from none --to "$("$ICE_SNAPSHOT" show "$TMP/wh/db/np" | $JSONQ 'r["snapshot_id"]')" \
	> "$TMP/dp"
keys_ok=$($JSONQ 'r["partition_key"] == "category=" + str(r["partition"]["category"]) if r["kind"] == "file" else ""' \
	< "$TMP/dp" | sed '/^$/d' | sort -u)
is "$keys_ok" true "nullable manifests: partition values read through the unions"

if /usr/bin/python3 -c 'import avro' 2>/dev/null; then
	# python3-avro reads the same manifests: every field a ["null", T]
	# union, and the same live files.
	mlist=$("$ICE_SNAPSHOT" show "$TMP/wh/db/np" | $JSONQ 'r["manifest_list"]')
	verdict=$(/usr/bin/python3 - "$mlist" "$TMP/dp" <<'PY'
import json, sys, warnings
import avro.datafile, avro.io
warnings.simplefilter("ignore")
def nullable(t):
    return isinstance(t, list) and len(t) == 2 and t[0] == "null"
def read(path):
    return avro.datafile.DataFileReader(open(path, "rb"), avro.io.DatumReader())
live, all_nullable = set(), True
for m in read(sys.argv[1]):
    r = read(m["manifest_path"])
    schema = json.loads(r.meta["avro.schema"])
    df = [x for x in schema["fields"] if x["field-id"] == 2][0]["type"]
    all_nullable &= all(nullable(x["type"]) for x in schema["fields"])
    all_nullable &= nullable(df) and all(nullable(x["type"]) for x in df[1]["fields"])
    for e in r:
        if e["status"] != 2:
            live.add(e["data_file"]["file_path"])
got = {json.loads(l)["file_path"] for l in open(sys.argv[2]) if '"kind":"file"' in l}
print("yes" if all_nullable and live == got and live else "no: %s %d %d" % (all_nullable, len(live), len(got)))
PY
)
	is "$verdict" yes "python3-avro: every manifest field is a nullable union, and it reads the same live files"
else
	ok 0 "# SKIP python3-avro is not installed"
fi

# ---- 2. a metadata folder holding only v1.metadata.json -------------------------
lone="$TMP/wh/db/lone"
"$MKTABLE" create "$lone" --format-version 3 --hint none > /dev/null
is "$(ls "$lone/metadata")" v1.metadata.json "lone v1: nothing but v1.metadata.json"
out=$("$ICE_SNAPSHOT" show "$lone" 2> "$TMP/err")
is "$?" 0 "lone v1: ice-snapshot show DIR succeeds"
is "$($JSONQ '[r["snapshot_id"], r["format_version"], r["reason"]]' <<EOF
$out
EOF
)" '[null,3,"table has no snapshot yet"]' "lone v1: no snapshot yet, format 3"
is "$(cat "$TMP/err")" "" "lone v1: nothing on standard error"
for arg in "$lone/metadata" "$lone/metadata/v1.metadata.json"; do
	is "$("$ICE_SNAPSHOT" show "$arg" | $JSONQ 'r["metadata_file"]')" "$lone/metadata/v1.metadata.json" \
		"lone v1: the same file from ${arg#"$lone"/}"
done
"$ICE_SNAPSHOT" log "$lone" > "$TMP/log" 2>&1
is "$?:$(cat "$TMP/log")" "0:" "lone v1: log is empty and succeeds"
"$ICE_DIFF" "$lone" > /dev/null 2> "$TMP/err"
like "$(cat "$TMP/err")" "the table has no snapshot" "lone v1: ice-diff says there is nothing to diff"
"$ICE_SNAPSHOT" watch --once "$lone" | "$ICE_DIFF" | "$INV" > "$TMP/pipe" 2> "$TMP/err"
is "$($JSONQ 'r["kind"]' < "$TMP/pipe" | tr '\n' ' ')" "snapshot " \
	"lone v1: the pipeline passes the empty table through and invalidates nothing"

# ---- 3. snapshot ids beyond 2^63-1 -----------------------------------------------
big="$TMP/wh/db/big"
good="$TMP/wh/db/good"
"$MKTABLE" create "$big" > /dev/null
"$MKTABLE" append "$big" --files 2 > /dev/null
"$MKTABLE" append "$big" --files 1 > /dev/null
"$MKTABLE" create "$good" > /dev/null
"$MKTABLE" append "$good" --files 1 > "$TMP/gc1"
"$ICE_SNAPSHOT" poll --state "$TMP/cursors" "$big" "$good" > /dev/null
big_before=$("$ICE_SNAPSHOT" show "$big" | $JSONQ 'r["snapshot_id"]')
"$MKTABLE" unsigned-ids "$big" > "$TMP/u"
ids=$($JSONQ '" ".join(str(i) for i in r["snapshot_ids"])' < "$TMP/u")
is "$($JSONQ '[len(r["snapshot_ids"]), all(2**63 <= i < 2**64 for i in r["snapshot_ids"])]' < "$TMP/u")" \
	"[2,true]" "unsigned-ids: both snapshot ids are above 2^63-1"
grep -q "\"current-snapshot-id\" *: *${ids#* }" "$big/metadata/v4.metadata.json"
is "$?" 0 "unsigned-ids: the metadata holds the unsigned value"

"$ICE_SNAPSHOT" show "$big" > "$TMP/out" 2> "$TMP/err"
is "$?" 1 "big ids: ice-snapshot show refuses the table (exit 1)"
is "$(wc -l < "$TMP/err" | tr -d ' ')" 1 "big ids: one line"
like "$(cat "$TMP/err")" "field 'current-snapshot-id' = ${ids#* } is beyond the Iceberg long" \
	"big ids: the line names the field and the value"
is "$(cat "$TMP/out")" "" "big ids: no record from show"
"$ICE_DIFF" "$big" > /dev/null 2> "$TMP/err"
is "$?" 1 "big ids: ice-diff refuses it too"
like "$(cat "$TMP/err")" "field 'current-snapshot-id'" "big ids: ice-diff names the field"

"$MKTABLE" append "$good" --files 1 > "$TMP/gc2"
"$ICE_SNAPSHOT" watch --once "$big" "$good" > "$TMP/w" 2> /dev/null
is "$($JSONQ 'r["kind"] + ":" + r["table"]' < "$TMP/w" | tr '\n' ' ')" "error:db.big snapshot:db.good " \
	"big ids: watch reports the table as an error record and goes on with the others"

put "big entry" "table:db.big"
put "big file entry" "file:db.big:/somewhere.parquet"
put "good table entry" "table:db.good"
put "unrelated" "table:db.other"
"$ICE_SNAPSHOT" poll --state "$TMP/cursors" "$big" "$good" 2> "$TMP/err" | "$ICE_DIFF" | "$INV" > "$TMP/pipe"
is "$($JSONQ 'r["kind"] + ":" + r["table"]' < "$TMP/pipe" | tr '\n' ' ')" \
	"error:db.big diff:db.big invalidated:db.big snapshot:db.good file:db.good diff:db.good invalidated:db.good " \
	"big ids: poll | ice-diff | ice-invalidate: an error, a whole-table transition, then the good table"
is "$($JSONQ '[r["whole_table"], r["to"]] if r["kind"] == "invalidated" and r["table"] == "db.big" else ""' \
	< "$TMP/pipe" | sed '/^$/d')" "[true,null]" "big ids: the whole unreadable table is invalidated"
present "big entry"
is "$?" 1 "big ids: the table's entries are gone"
present "big file entry"
is "$?" 1 "big ids: its file entries too"
present "unrelated"
is "$?" 0 "big ids: other tables' entries stay"
is "$("$ICE_SNAPSHOT" poll --state cache "$good" | $JSONQ 'r["event"]')" "" \
	"big ids: the good table's cursor moved past its commit"
is "$($JSONQ 'r["tables"]["db.big"]["snapshot_id"]' --doc < "$TMP/cursors")" "$big_before" \
	"big ids: the unreadable table keeps its old cursor in the state file"
old_big=$("$ICE_SNAPSHOT" poll --state cache "$big" 2> /dev/null | $JSONQ 'r["kind"]')
is "$old_big" error "big ids: poll --state cache reports it again (the cache cursor did not move)"

# ---- 4. a table dropped and created again over its old files ---------------------
for naming in v uuid; do
	for hint in number none; do
		r="$TMP/wh/re/$naming-$hint"
		"$MKTABLE" create "$r" --naming "$naming" --hint "$hint" > /dev/null
		for _ in 1 2 3; do "$MKTABLE" append "$r" --files 1 > /dev/null; done
		"$ICE_SNAPSHOT" poll --state "$TMP/re-cursors" "re=$r" > /dev/null
		new_uuid=$("$MKTABLE" recreate "$r" --restart-versions | $JSONQ 'r["table_uuid"]')
		"$MKTABLE" append "$r" --files 2 > "$TMP/rc"
		label="recreated ($naming names, hint $hint)"
		n=$(find "$r/metadata" -name '*metadata.json' | wc -l | tr -d ' ')
		want=4 # v3 and v4 of the old table beside v1 and v2 of the new one
		[ "$naming" = uuid ] && want=6 # no name is reused
		is "$n" "$want" "$label: the old table's later versions remain ($want metadata files)"
		"$ICE_SNAPSHOT" show "$r" > "$TMP/s"
		is "$($JSONQ '[r["table_uuid"], r["snapshot_id"]]' < "$TMP/s")" \
			"$($JSONQ '["'"$new_uuid"'", r["snapshot_id"]]' < "$TMP/rc")" \
			"$label: ice-snapshot shows the new table's snapshot"
		"$ICE_DIFF" "$r" > "$TMP/d"
		is "$(diff_files added < "$TMP/d")" "$(commit_files added_files < "$TMP/rc")" \
			"$label: ice-diff diffs the new table's commit"
		put "re entry $naming-$hint" "table:re"
		"$ICE_SNAPSHOT" poll --state "$TMP/re-cursors" "re=$r" | "$ICE_DIFF" | "$INV" > "$TMP/p"
		is "$($JSONQ 'r["event"] if r["kind"] == "snapshot" else r["kind"]' < "$TMP/p" | tr '\n' ' ')" \
			"recreated diff invalidated " "$label: the pipeline sees one recreated table"
		present "re entry $naming-$hint"
		is "$?" 1 "$label: and invalidates the whole table"
	done
done

done_testing
