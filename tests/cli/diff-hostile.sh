#!/bin/sh
# diff-hostile: ice-diff on a table whose manifest list or manifest is one
# of the hostile Avro files of tests/fuzz (issue 13): each ends with exit
# 1, one error line naming the file, and the table-scope diff, never a
# signal or a hang.
. "$top_srcdir/tests/cli/lib.sh"

D="$ICE_DIFF"
MKHOSTILE="$top_builddir/tests/fuzz/mkhostile"

mkdir -p "$TMP/hostile"
"$MKHOSTILE" "$TMP/hostile" > "$TMP/files" || bail "mkhostile failed"

t="$TMP/wh/db/t"
"$MKTABLE" create "$t" --seed 7 > /dev/null
"$MKTABLE" append "$t" --files 3 > /dev/null
"$MKTABLE" append "$t" --files 3 > /dev/null
# shellcheck disable=SC2012 # names the test wrote itself
list=$(ls -t "$t"/metadata/snap-*.avro | head -n 1)
# shellcheck disable=SC2012 # names the test wrote itself
manifest=$(ls "$t"/metadata/*-m0.avro | head -n 1)
cp "$list" "$TMP/list.orig"
cp "$manifest" "$TMP/manifest.orig"

while read -r f; do
	name=$(basename "$f")
	case "$name" in
	equality-*) target="$manifest" ;;
	*) target="$list" ;;
	esac
	cp "$TMP/list.orig" "$list"
	cp "$TMP/manifest.orig" "$manifest"
	cp "$f" "$target"
	"$D" "$t" > "$TMP/out" 2> "$TMP/err"
	rc=$?
	case "$name" in
	null-array.avro|repeated-field-ids.avro)
		# valid files, but not manifest lists of this table: their manifests are missing
		is "$rc" "1" "$name: exit 1" ;;
	*)
		is "$rc" "1" "$name: exit 1"
		like "$(cat "$TMP/err")" "ice-diff: error: " "$name: an error line"
		like "$(cat "$TMP/err")" "$(basename "$target")" "$name: naming the file" ;;
	esac
	is "$(grep -c . "$TMP/err")" "1" "$name: one error line"
	is "$(tail -n 1 "$TMP/out" | $JSONQ 'r["scope"]')" "table" "$name: table scope"
done < "$TMP/files"

done_testing
