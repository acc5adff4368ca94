#!/bin/sh
# snapshot-basic: show and log on tables written by ice-mktable, in every
# format version and naming style: the fields of the record, history order,
# --all, --ref, empty tables and the forms a TABLE argument takes.
. "$top_srcdir/tests/cli/lib.sh"

S="$ICE_SNAPSHOT"
q() { $JSONQ "$@"; }

for fv in 1 2 3; do
	t="$TMP/wh/db/t$fv"
	"$MKTABLE" create "$t" --format-version $fv --seed $fv --location "s3://bucket/wh/db/t$fv" > /dev/null
	is "$("$S" show "$t" | q '(r["snapshot_id"], r["reason"])')" "(None, 'table has no snapshot yet')" \
		"v$fv: empty table says so"
	ids=""
	for op in "append --files 2" "append --files 1" "delete --files 1" "overwrite --files 1 --add 2"; do
		# shellcheck disable=SC2086 # $op: a command and its options
		id=$("$MKTABLE" $op "$t" | q 'r["snapshot_id"]')
		ids="$ids$id "
	done
	is "$("$S" log "$t" | q 'r["snapshot_id"]' | tr '\n' ' ')" "$ids" "v$fv: log lists the commits oldest first"
	is "$("$S" log "$t" | q 'r["operation"]' | tr '\n' ' ')" "append append delete overwrite " \
		"v$fv: operations"
	last=$(echo "$ids" | awk '{print $NF}')
	rec=$("$S" show "$t")
	is "$(echo "$rec" | q 'r["snapshot_id"]')" "$last" "v$fv: show gives the last commit"
	is "$(echo "$rec" | q 'r["format_version"]')" "$fv" "v$fv: format version"
	is "$(echo "$rec" | q 'r["table"]')" "db.t$fv" "v$fv: default name db.table"
	is "$(echo "$rec" | q 'r["location"]')" "s3://bucket/wh/db/t$fv" "v$fv: location as written"
	like "$(echo "$rec" | q 'r["manifest_list"]')" "s3://bucket/wh/db/t$fv/metadata/snap-" \
		"v$fv: manifest list path as written, not remapped"
	is "$(echo "$rec" | q 'r["event"]')" "current" "v$fv: show event is current"
	is "$(echo "$rec" | q 'sorted(k for k in r if k not in ("reason",))' | tr -d ' ')" \
		'["event","format_version","kind","location","manifest_list","metadata_file","operation","parent_id","schema_id","sequence_number","snapshot_id","summary","table","table_path","table_uuid","timestamp","timestamp_ms"]' \
		"v$fv: record fields"
	if [ $fv -ge 2 ]; then
		is "$("$S" log "$t" | q 'r["sequence_number"]' | tr '\n' ' ')" "1 2 3 4 " "v$fv: sequence numbers"
	fi
done

# Rollback leaves a snapshot off the branch: log follows the branch, --all shows it.
t="$TMP/wh/db/t2"
first=$("$S" log "$t" | head -n 1 | q 'r["snapshot_id"]')
"$MKTABLE" rollback "$t" --to "$first" > /dev/null
is "$("$S" log "$t" | wc -l | tr -d ' ')" "1" "after rollback: log is the branch (one snapshot)"
is "$("$S" log --all "$t" | wc -l | tr -d ' ')" "4" "after rollback: --all lists every snapshot"
is "$("$S" log --ref main "$t" | wc -l | tr -d ' ')" "1" "--ref main"
"$S" log --ref nope "$t" > /dev/null 2> "$TMP/err"
is "$?" "1" "--ref of a missing branch: exit 1"
like "$(cat "$TMP/err")" "no branch or tag named 'nope'" "--ref of a missing branch: says so"

# The forms of TABLE, and naming styles.
u="$TMP/wh/db/uuidnamed"
"$MKTABLE" create "$u" --naming uuid --hint none --gzip --seed 9 > /dev/null
"$MKTABLE" append "$u" --files 1 > /dev/null
want=$("$MKTABLE" append "$u" --files 1 | q 'r["snapshot_id"]')
is "$("$S" show "$u" | q 'r["snapshot_id"]')" "$want" "uuid names, gzip, no hint: newest version found"
like "$("$S" show "$u" | q 'r["metadata_file"]')" "00002-" "uuid names: version 2 file read"
is "$("$S" show "$u/metadata" | q 'r["snapshot_id"]')" "$want" "metadata folder as TABLE"
mf=$("$S" show "$u" | q 'r["metadata_file"]')
is "$("$S" show "$mf" | q 'r["table"]')" "db.uuidnamed" "metadata file as TABLE: named after its table"
is "$("$S" show --name orders "$u" | q 'r["table"]')" "orders" "--name"
is "$(cd "$u" && "$S" show . | q 'r["table"]')" "db.uuidnamed" "'.' is named after the real folder"
n="$TMP/wh/db/namehint"
"$MKTABLE" create "$n" --naming uuid --hint name --seed 10 > /dev/null
want=$("$MKTABLE" append "$n" --files 1 | q 'r["snapshot_id"]')
is "$("$S" show "$n" | q 'r["snapshot_id"]')" "$want" "hint holding a file name"

done_testing
