#!/bin/sh
# diff-basic: ice-diff on tables written by ice-mktable. Every transition of
# a history mixing appends, deletes, overwrites, compaction, position and
# equality deletes, deletion vectors, spec evolution and a rollback equals
# the set difference of the live files that `ice-mktable list` reads back,
# on the fast path and with --full; small commits read only new manifests;
# broken input gives table scope, a clear error and exit 1.
. "$top_srcdir/tests/cli/lib.sh"

D="$ICE_DIFF"

# oracle TABLE FROM TO: expected "change content path" lines, sorted.
oracle() {
	if [ "$2" = none ]; then : > "$TMP/a"; else "$MKTABLE" list "$1" --snapshot "$2" > "$TMP/a"; fi
	"$MKTABLE" list "$1" --snapshot "$3" > "$TMP/b"
	python3 - "$TMP/a" "$TMP/b" <<'PY'
import json, sys
def live(p):
    out = {}
    for l in open(p):
        if l.strip():
            r = json.loads(l)
            key = r["file_path"] + ("#%s" % r["content_offset"] if r.get("content_offset") is not None else "")
            out[key] = r
    return out
a, b = live(sys.argv[1]), live(sys.argv[2])
names = {0: "data", 1: "pos", 2: "equality_deletes"}
for k in sorted(set(b) - set(a)): print("added", names[b[k]["content"]], b[k]["file_path"])
for k in sorted(set(a) - set(b)): print("removed", names[a[k]["content"]], a[k]["file_path"])
PY
}

# ours FILE: the same lines from ice-diff output.
ours() {
	python3 -c '
import json, sys
rows = []
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["kind"] == "file" and r["change"] in ("added", "removed"):
        c = "pos" if r["content"] in ("position_deletes", "deletion_vector") else r["content"]
        rows.append((r["change"] == "removed", r["change"], c, r["file_path"]))
for x in sorted(rows): print(x[1], x[2], x[3])' "$1"
}

check_history() { # TABLE: every transition of the branch, both paths
	"$ICE_SNAPSHOT" log --all "$1" | $JSONQ '(r["parent_id"] if r["parent_id"] is not None else "none", r["snapshot_id"], r["operation"])' |
		tr -d '(),'"'" > "$TMP/pairs"
	while read -r from to op; do
		want=$(oracle "$1" "$from" "$to")
		for mode in "" --full; do
			"$D" $mode "$1" --from "$from" --to "$to" > "$TMP/out" 2> "$TMP/err"
			is "$?:$(ours "$TMP/out")" "0:$want" "$2 $op ($from -> $to)${mode:+ $mode}: live-set difference"
		done
	done < "$TMP/pairs"
}

for fv in 2 3; do
	t="$TMP/wh/db/t$fv"
	mk_history "$t" $fv "s3://b/wh/db/t$fv"
	[ $fv = 2 ] && victim2=$victim
	check_history "$t" "v$fv"
done

# Format 1 and an unpartitioned table.
t="$TMP/wh/db/t1"
"$MKTABLE" create "$t" --format-version 1 --seed 21 --partition "identity(category)" > /dev/null
"$MKTABLE" append "$t" --files 4 > /dev/null
"$MKTABLE" delete "$t" --files 1 > /dev/null
check_history "$t" "v1"
u="$TMP/wh/db/unpart"
"$MKTABLE" create "$u" --seed 22 > /dev/null
"$MKTABLE" append "$u" --files 3 > /dev/null
"$MKTABLE" append "$u" --files 2 > /dev/null
"$MKTABLE" eq-delete "$u" > /dev/null
"$D" "$u" > "$TMP/out"
is "$($JSONQ 'r.get("change")' < "$TMP/out" | grep -c rows_deleted)" "5" \
	"unpartitioned equality delete: every older live data file has rows deleted"

# rows_deleted: a referenced delete names one file; an unreferenced one the
# older files of its partition only.
t="$TMP/wh/db/t2"
snap() { "$ICE_SNAPSHOT" log "$t" | $JSONQ 'r["snapshot_id"]' | sed -n "$1p"; }
"$D" "$t" --to "$(snap 5)" > "$TMP/out"
is "$($JSONQ 'r.get("change")' < "$TMP/out" | grep -c rows_deleted)" "1" "referenced position delete: one data file"
like "$(grep rows_deleted "$TMP/out")" "$victim2" "referenced position delete: the referenced file"
"$D" "$t" --to "$(snap 6)" > "$TMP/out"
want=$("$MKTABLE" list "$t" --snapshot "$(snap 5)" | python3 -c '
import json, sys
rs = [json.loads(l) for l in sys.stdin]
v = [r for r in rs if r["file_path"] == sys.argv[1]][0]
print(sum(1 for r in rs if r["content"] == 0 and r["partition"] == v["partition"]))' "$victim2")
is "$($JSONQ 'r.get("change")' < "$TMP/out" | grep -c rows_deleted)" "$want" \
	"unreferenced position delete: every live data file of its partition"

# Cost: an append onto a table reads only the manifest it wrote.
big="$TMP/wh/db/big"
"$MKTABLE" create "$big" --seed 30 --partition "day(day)" > /dev/null
"$MKTABLE" append "$big" --files 2000 --manifests 20 > /dev/null
"$MKTABLE" append "$big" --files 5 > /dev/null
"$D" "$big" > "$TMP/out"
is "$(tail -n 1 "$TMP/out" | $JSONQ '(r["manifests_read"], r["entries_read"])')" "(1, 5)" \
	"append onto 2000 files: reads 1 manifest, 5 entries"
"$D" --full "$big" > "$TMP/full"
is "$(tail -n 1 "$TMP/full" | $JSONQ 'r["manifests_read"]')" "61" \
	"--full reads every manifest of both sides (the earlier side twice: keys, then removals)"
"$D" --partitions "$big" --from none > "$TMP/out"
is "$($JSONQ 'sorted(set((k, [x["kind"] for x in rs].count(k)) for k in [x["kind"] for x in rs]))' --all < "$TMP/out")" \
	"[[\"diff\",1],[\"partition\",$(tail -n 1 "$TMP/out" | $JSONQ 'r["counts"]["partitions"]')]]" \
	"--partitions: one record per partition, no file records"
# A reader that stops early (head): ice-diff ends quietly, as cat would.
{ "$D" "$big" --from none 2> "$TMP/err"; echo $? > "$TMP/st"; } | head -c 100 > /dev/null
is "$(cat "$TMP/st"):$(cat "$TMP/err")" "0:" "a reader gone early (| head -c 100): exit 0, nothing on stderr"

# rows_deleted reads only the data manifests whose partition bounds can
# hold the delete's partition (manifest list summaries).
pr="$TMP/wh/db/prune"
"$MKTABLE" create "$pr" --seed 80 --schema "id:long,day:date,cat:string" --partition "day(day)" > /dev/null
for d in 01 02 03 04 05 06 07 08 09 10; do
	"$MKTABLE" append "$pr" --files 50 --partition-value "day_day=2024-01-$d" > /dev/null
done
"$MKTABLE" eq-delete "$pr" --partition-value day_day=2024-01-03 > /dev/null
"$D" "$pr" > "$TMP/out"
is "$(tail -n 1 "$TMP/out" | $JSONQ '(r["counts"]["rows_deleted"], r["manifests_read"], r["entries_read"])')" \
	"(50, 2, 51)" "equality delete on one day of ten: reads its delete manifest and one data manifest"
"$D" --full "$pr" > "$TMP/full"
is "$(tail -n 1 "$TMP/full" | $JSONQ 'r["counts"]["rows_deleted"]')" "50" "--full finds the same rows_deleted"

# Scope: compaction preserves data; a schema change invalidates the table.
t="$TMP/wh/db/t3"
is "$("$ICE_SNAPSHOT" log "$t" | $JSONQ 'r["operation"]' | grep -n replace | cut -d: -f1 | head -n 1 | xargs -I{} sh -c "\"$ICE_SNAPSHOT\" log '$t' | sed -n {}p" | $JSONQ 'r["snapshot_id"]' | xargs -I{} "$D" "$t" --to {} | tail -n 1 | $JSONQ 'r["data_preserving"]')" \
	"true" "replace: data preserving"
s="$TMP/wh/db/schema"
"$MKTABLE" create "$s" --seed 40 > /dev/null
"$MKTABLE" append "$s" --files 1 > /dev/null
"$MKTABLE" evolve-schema "$s" --add-column extra:string > /dev/null
"$MKTABLE" append "$s" --files 1 > /dev/null
is "$("$D" "$s" | tail -n 1 | $JSONQ '(r["scope"], r["reason"])')" "('table', 'schema changed')" \
	"schema change: table scope with the reason"

# Bad input: a truncated manifest, a missing manifest list, garbage on stdin.
b="$TMP/wh/db/broken"
"$MKTABLE" create "$b" --seed 50 > /dev/null
"$MKTABLE" append "$b" --files 50 > /dev/null
# shellcheck disable=SC2012 # names ice-mktable wrote: plain
m=$(ls "$b"/metadata/*-m0.avro | head -n 1)
head -c 300 "$m" > "$m.tmp" && mv "$m.tmp" "$m"
"$D" "$b" > "$TMP/out" 2> "$TMP/err"
is "$?" "1" "truncated manifest: exit 1"
like "$(cat "$TMP/err")" "ice-diff: error: " "truncated manifest: error line"
like "$(cat "$TMP/err")" "$(basename "$m")" "truncated manifest: names the manifest"
is "$(tail -n 1 "$TMP/out" | $JSONQ 'r["scope"]')" "table" "truncated manifest: table scope"
# A table written elsewhere (its metadata says s3://...): the error names
# the path as written and the local file read.
r="$TMP/wh/db/moved"
"$MKTABLE" create "$r" --seed 51 --location s3://lake/wh/db/moved > /dev/null
"$MKTABLE" append "$r" --files 5 > /dev/null
# shellcheck disable=SC2012 # names ice-mktable wrote: plain
mr=$(ls "$r"/metadata/*-m0.avro | head -n 1)
head -c 300 "$mr" > "$mr.tmp" && mv "$mr.tmp" "$mr"
"$D" "$r" > /dev/null 2> "$TMP/err"
like "$(cat "$TMP/err")" "s3://lake/wh/db/moved/metadata/$(basename "$mr") (local file " \
	"a manifest read from another place: the error names the path in the metadata"
like "$(cat "$TMP/err")" "$(basename "$mr"))" "and the local file read"
rm "$b"/metadata/snap-*.avro
"$D" "$b" > "$TMP/out" 2> "$TMP/err"
is "$?" "1" "missing manifest list: exit 1"
is "$(tail -n 1 "$TMP/out" | $JSONQ 'r["scope"]')" "table" "missing manifest list: table scope"
printf '%s\n' '{"kind":"note","x":1}' 'not json' '{"kind":"other"}' | "$D" > "$TMP/out" 2> "$TMP/err"
is "$?" "1" "garbage on stdin: exit 1"
like "$(cat "$TMP/err")" "stdin:2:" "garbage on stdin: names the line"
is "$($JSONQ 'r["kind"]' < "$TMP/out" | tr '\n' ' ')" "note other " "garbage on stdin: other records pass through"
"$D" --from 1 > /dev/null 2> "$TMP/err"
is "$?" "2" "--from without TABLE: usage error"
# The records carry the table's name as JSON text: a name that is not UTF-8
# is refused (the records came out without "table"), from --name or from
# the folders; a path that is not UTF-8 is fine with a name given.
"$D" --name "$(printf 'db.caf\351')" "$t" > "$TMP/out" 2> "$TMP/err"
is "$?:$(wc -c < "$TMP/out" | tr -d ' ')" "2:0" "a --name that is not UTF-8: usage error, no output"
like "$(cat "$TMP/err")" "table name of '$t' is not UTF-8" "... saying so"
odd=$TMP/wh/$(printf 'd\351')/t1
mkdir -p "$(dirname "$odd")" && cp -r "$t" "$odd"
"$D" "$odd" > /dev/null 2> "$TMP/err"
is "$?" "1" "a name from folders that is not UTF-8: exit 1"
like "$(cat "$TMP/err")" "is not UTF-8: name it with --name" "... saying how to name it"
is "$("$D" --name db.odd "$odd" | tail -n 1 | $JSONQ 'r["table"]')" "db.odd" "... and with --name it is diffed"

done_testing
