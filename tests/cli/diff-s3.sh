#!/bin/sh
# diff-s3: ice-diff on tables in a real S3 server (behind the
# botocore-verifying proxy, see start_s3) prints what it prints for the
# same tables on disk: every transition of ice-mktable histories (located
# in another bucket, under s3a://, on a local path), of the ../shared
# tables, fast, --full and --partitions; the pipeline into ice-invalidate
# removes the same cache entries; a second diff of a transition fetches no
# manifest; a missing manifest gives the table-scope diff as on disk; a
# refusal, a truncated body, an object of another size than its manifest
# list says are one clear error and never a partial diff.
. "$top_srcdir/tests/cli/lib.sh"

start_s3 lake
cd "$TMP" || exit 1
D="$ICE_DIFF"
C="$top_builddir/ice-cache"
INV="$top_builddir/ice-invalidate"
fault() { curl -s -o /dev/null -X POST --data "$1" "$S3_EP/__ctl/fault"; }
reset_faults() { curl -s -o /dev/null -X POST "$S3_EP/__ctl/reset"; }
put_or_bail() { s3_put "$1" "$2" || { echo "Bail out! seeding $2 failed"; exit 1; }; }
# first_manifest DIR: the first manifest ice-mktable wrote in DIR/metadata.
first_manifest() { for f in "$1"/metadata/*-m0.avro; do echo "$f"; return; done; }
# drop_fields FIELD...: the JSON lines on stdin without those fields.
drop_fields() { python3 -c 'import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print(json.dumps({k: v for k, v in r.items() if k not in sys.argv[1:]}, sort_keys=True))' "$@"; }
# manifest_gets: manifests and manifest lists fetched so far.
manifest_gets() { grep -c 'GET /lake/.*\.avro' proxy.log || true; }

# same_history NAME LOCAL URI [PAIRS]: every transition (FROM TO lines in
# PAIRS, default the table's whole log from the empty table on) diffed on
# the fast path, with --full and with --partitions prints the same records
# and exits the same from URI as from LOCAL. The local runs must succeed
# (else both could fail alike).
same_history() {
	if [ -n "$4" ]; then
		cp "$4" pairs
	else
		"$ICE_SNAPSHOT" log --all "$2" |
			$JSONQ '(r["parent_id"] if r["parent_id"] is not None else "none", r["snapshot_id"])' |
			tr -d "(),'" > pairs
		first=$(head -n 1 pairs | cut -d' ' -f2)
		last=$(tail -n 1 pairs | cut -d' ' -f2)
		echo "none $last" >> pairs
		echo "$first $last" >> pairs
	fi
	n=0 bad="" failed=""
	while read -r from to; do
		for mode in --fast --full --partitions; do
			flag=$mode
			[ $mode = --fast ] && flag=""
			"$D" $flag --name db.x "$2" --from "$from" --to "$to" > l.out 2> l.err
			ls=$?
			"$D" $flag --name db.x "$3" --from "$from" --to "$to" > r.out 2> r.err
			rs=$?
			n=$((n + 1))
			[ "$ls" = 0 ] || failed="$failed $from->$to$mode"
			{ [ "$ls" = "$rs" ] && cmp -s l.out r.out; } || bad="$bad $from->$to$mode"
		done
	done < pairs
	is "$failed" "" "$1: the $n local diffs succeed"
	is "$bad" "" "$1: the $n diffs from $3 equal the local ones"
}

# ---- ice-mktable histories -----------------------------------------------------

# The history of diff-basic (mk_history); v2: written for another bucket
# (s3://b/...), read from lake; v3: located under s3a:// where it is read
# from; v1: a copied table whose location is the local folder it was
# written in.
mk_history t2 2 s3://b/wh/db/t2
mk_history t3 3 s3a://lake/wh/db/t3
"$MKTABLE" create "$TMP/t1" --format-version 1 --seed 21 --partition "identity(category)" > /dev/null
"$MKTABLE" append "$TMP/t1" --files 4 > /dev/null
"$MKTABLE" delete "$TMP/t1" --files 1 > /dev/null
"$MKTABLE" append "$TMP/t1" --files 2 > /dev/null
pr=prune
"$MKTABLE" create $pr --seed 80 --schema "id:long,day:date,cat:string" --partition "day(day)" > /dev/null
for d in 01 02 03 04 05; do
	"$MKTABLE" append $pr --files 20 --partition-value "day_day=2024-01-$d" > /dev/null
done
"$MKTABLE" eq-delete $pr --partition-value day_day=2024-01-03 > /dev/null
put_or_bail t2 wh/db/t2/
put_or_bail t3 wh/db/t3/
put_or_bail "$TMP/t1" copies/t1/
put_or_bail $pr wh/db/prune/

same_history "v2, another bucket" t2 s3://lake/wh/db/t2
same_history "v3, s3a location" t3 s3a://lake/wh/db/t3
same_history "v1, a local location" "$TMP/t1" s3://lake/copies/t1
same_history "partition pruning of rows_deleted" $pr s3://lake/wh/db/prune
last=$("$ICE_SNAPSHOT" show t2 | $JSONQ 'r["snapshot_id"]')
mfile=$("$ICE_SNAPSHOT" show s3://lake/wh/db/t2 | $JSONQ 'r["metadata_file"]')
"$D" --name db.x t2 > l.out
"$D" --name db.x "$mfile" > r.out
check "a metadata file URI as TABLE: the same diff" cmp -s l.out r.out

# --remap with URIs: a table written for s3://prod/... read from lake.
"$MKTABLE" create rm --seed 5 --location s3://prod/wh/db/rm > /dev/null
"$MKTABLE" append rm --files 3 > /dev/null
mkdir -p remapped/metadata
cp rm/metadata/*.avro remapped/metadata/
put_or_bail remapped moved/rm/
"$D" --name db.x --remap s3://prod/wh/db/rm/metadata=s3://lake/moved/rm/metadata rm > l.out 2> l.err
is "$?" "0" "--remap FROM=URI: a local table's manifests read from S3"
"$D" --name db.x rm > want.out
check "--remap FROM=URI: the same diff" cmp -s l.out want.out
check "--remap FROM=URI: read from the remapped URI" grep -q 'GET /lake/moved/rm/metadata/' proxy.log

# ---- the ../shared tables -------------------------------------------------------

if [ -d "$SHARED/tables" ] && [ -d "$SHARED/expected" ]; then
	put_or_bail "$SHARED/tables" shared/
	for exp in "$SHARED"/expected/*.diffs.jsonl; do
		rel=$(shared_rel "$exp")
		python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    print(e["from_snapshot"] if e["from_snapshot"] is not None else "none", e["to_snapshot"])
' "$exp" > shared-pairs
		same_history "shared $rel" "$SHARED/tables/$rel" "s3://lake/shared/$rel" shared-pairs
	done
else
	ok 0 "# SKIP ../shared/iceberg not present"
fi

# ---- the pipeline into ice-invalidate ---------------------------------------------

"$MKTABLE" create p --seed 60 --partition "identity(category)" --location s3://lake/wh/db/p > /dev/null
"$MKTABLE" append p --files 6 > /dev/null
"$MKTABLE" append p --files 4 > /dev/null
put_or_bail p wh/db/p/
"$ICE_SNAPSHOT" poll --state l.json db.p=p > /dev/null
"$ICE_SNAPSHOT" poll --state r.json db.p=s3://lake/wh/db/p > /dev/null
# One entry per live file and per partition, the same in both caches.
"$MKTABLE" list p | $JSONQ '(r["file_path"], "/".join("%s=%s" % kv for kv in r["partition"].items()))' |
	tr -d "(),'" > live
i=0
while read -r path part; do
	i=$((i + 1))
	for db in l r; do
		"$C" put --url "sqlite://$TMP/$db.db" "file $i" --value v --tag "file:db.p:$path" > /dev/null
		"$C" put --url "sqlite://$TMP/$db.db" "part $i" --value v --tag "partition:db.p:$part" > /dev/null
	done
done < live
for db in l r; do
	"$C" put --url "sqlite://$TMP/$db.db" other --value v --tag table:db.other > /dev/null
done
"$MKTABLE" delete p --files 2 > /dev/null
"$MKTABLE" overwrite p --files 1 --add 1 > /dev/null
put_or_bail p wh/db/p/
"$ICE_SNAPSHOT" poll --state l.json db.p=p | "$D" | "$INV" --url "sqlite://$TMP/l.db" > l.pipe 2> l.err
is "$?" "0" "pipeline on disk: exit 0"
"$ICE_SNAPSHOT" poll --state r.json db.p=s3://lake/wh/db/p | "$D" | "$INV" --url "sqlite://$TMP/r.db" > r.pipe 2> r.err
is "$?" "0" "pipeline from S3: exit 0"
drop_fields metadata_file table_path < l.pipe > l.recs
drop_fields metadata_file table_path < r.pipe > r.recs
is "$($JSONQ 'r["kind"]' < r.recs | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')" \
	"diffx2 filex4 invalidatedx2 snapshotx2 " "pipeline from S3: two snapshots, their diffs and invalidations"
check "pipeline from S3: the records of the pipeline on disk, paths aside" cmp -s l.recs r.recs
"$C" ls --url "sqlite://$TMP/l.db" | $JSONQ 'r["key"]' | sort > l.keys
"$C" ls --url "sqlite://$TMP/r.db" | $JSONQ 'r["key"]' | sort > r.keys
check "pipeline from S3: the same entries removed as on disk" cmp -s l.keys r.keys
total=$((2 * i + 1))
kept=$(wc -l < r.keys)
check "pipeline: some entries removed, some kept ($kept of $total kept)" \
	sh -c "[ $kept -gt 0 ] && [ $kept -lt $total ]"
check "pipeline: the entry of another table kept" grep -q other r.keys
# watch: the whole history through the pipeline, as on disk.
"$ICE_SNAPSHOT" watch --once --from-start db.p=p | "$D" | "$INV" --url "sqlite://$TMP/lw.db" |
	drop_fields metadata_file table_path > l.watch
"$ICE_SNAPSHOT" watch --once --from-start db.p=s3://lake/wh/db/p | "$D" |
	"$INV" --url "sqlite://$TMP/rw.db" | drop_fields metadata_file table_path > r.watch
is "$(grep -c '"kind": "invalidated"' r.watch)" "4" "watch s3:// | ice-diff | ice-invalidate: four commits"
check "watch s3:// | ice-diff | ice-invalidate: the records on disk, paths aside" cmp -s l.watch r.watch

# ---- the object cache, --stats ------------------------------------------------------

before=$(manifest_gets)
"$D" --stats --name db.x s3://lake/wh/db/t2 > /dev/null 2> stats
is "$(manifest_gets)" "$before" "a second diff of a transition fetches no manifest (object cache)"
like "$(cat stats)" "ice-diff: storage: " "--stats: one line on stderr"
check "--stats: the object cache's hits, no miss" grep -Eq 'cache_hits=[1-9][0-9]* cache_misses=0 ' stats
check "--stats: requests by kind" grep -Eq ' gets=[0-9]+ heads=[0-9]+ lists=[0-9]+ conditional=[0-9]+ ' stats
check "--stats: the manifests and entries read" grep -Eq '; manifests=[1-9][0-9]* entries=[0-9]+$' stats
is "$(wc -l < stats)" "1" "--stats: one line"
"$D" --stats --name db.x t2 > /dev/null 2> stats
like "$(cat stats)" "ice-diff: storage: requests=0 " "--stats on a local table: no requests"
"$ICE_SNAPSHOT" --stats show s3://lake/wh/db/t2 > /dev/null 2> stats
like "$(cat stats)" "ice-snapshot: storage: " "ice-snapshot --stats: the same line"
check "ice-snapshot --stats: the metadata file from the object cache" \
	grep -Eq 'cache_hits=1 cache_misses=0 ' stats
"$D" -v --name db.x s3://lake/wh/db/t2 > /dev/null 2> verbose
check "-v: the --stats line" grep -Eq '^ice-diff: storage: requests=[0-9]+ .* credentials: .*; manifests=[0-9]+ entries=[0-9]+$' verbose

# ---- faults ----------------------------------------------------------------------

# A manifest, a manifest list missing (404): the table-scope diff, as on
# disk (the listing from the empty table reads every manifest).
"$MKTABLE" create nf --seed 7 --location s3://lake/wh/db/nf > /dev/null
"$MKTABLE" append nf --files 3 > /dev/null
"$MKTABLE" append nf --files 2 > /dev/null
cp -r nf nf-m
gone=$(first_manifest nf-m)
rm "$gone"
cp -r nf nf-l
rm nf-l/metadata/snap-*.avro
put_or_bail nf-m wh/db/nf-m/
put_or_bail nf-l wh/db/nf-l/
for what in m l; do
	[ $what = m ] && name="manifest" || name="manifest list"
	"$D" --name db.x nf-$what --from none > l.out 2> l.err
	ls=$?
	"$D" --name db.x s3://lake/wh/db/nf-$what --from none > r.out 2> r.err
	is "$?:$ls" "1:1" "$name missing (404): exit 1, as on disk"
	is "$(tail -n 1 r.out | $JSONQ 'r["scope"]')" "table" "$name missing (404): table scope"
	like "$(cat r.out)" '"kind":"diff"' "$name missing (404): a summary"
	is "$(drop_fields reason < r.out)" "$(drop_fields reason < l.out)" \
		"$name missing (404): the records on disk, the reason aside"
	is "$(wc -l < r.err)" "1" "$name missing (404): one error line"
done
like "$(cat r.err)" "not found" "manifest list missing (404): says not found"
"$D" --name db.x s3://lake/wh/db/nf-m --from none > r.out 2> r.err
like "$(cat r.err)" "$(basename "$gone")" "manifest missing (404): the error names it"

# 403 on one manifest: one error line naming bucket, key, credentials.
"$MKTABLE" create dn --seed 8 --location s3://lake/wh/db/dn > /dev/null
"$MKTABLE" append dn --files 3 > /dev/null
put_or_bail dn wh/db/dn/
m=$(basename "$(first_manifest dn)")
fault "{\"kind\": \"deny\", \"match\": \"$m\", \"count\": 5}"
"$D" --name db.x s3://lake/wh/db/dn > r.out 2> r.err
is "$?" "1" "403 on a manifest: exit 1"
is "$(wc -l < r.err)" "1" "403 on a manifest: one error line"
like "$(cat r.err)" "access denied" "403: says access denied"
like "$(cat r.err)" "bucket 'lake', key 'wh/db/dn/metadata/$m'" "403: names bucket and key"
like "$(cat r.err)" "credentials: environment" "403: names where the credentials came from"
check "403: the secret is never printed" sh -c "! grep -q 'secret/key' r.err r.out"
is "$($JSONQ 'r["kind"]' < r.out | tr '\n' ' ')" "diff " "403: no file record, a table-scope diff"
reset_faults

# A truncated body: retried; when it stays truncated, an error and no
# partial diff.
"$MKTABLE" create tr --seed 9 --location s3://lake/wh/db/tr > /dev/null
"$MKTABLE" append tr --files 40 > /dev/null
put_or_bail tr wh/db/tr/
m=$(basename "$(first_manifest tr)")
"$D" --name db.x tr > l.out
fault "{\"kind\": \"truncate\", \"match\": \"$m\", \"count\": 1}"
"$D" --name db.x s3://lake/wh/db/tr > r.out 2> r.err
is "$?" "0" "truncated once: retried, exit 0"
check "truncated once: the whole diff" cmp -s l.out r.out
like "$(s3_requests "fault truncate")" "1" "truncated once: the fault was served"
fault "{\"kind\": \"truncate\", \"match\": \"$m\", \"count\": 100}"
# (an empty object cache: the first try left the manifest in the default one)
XDG_CACHE_HOME=$TMP/fresh-cache "$D" --name db.x s3a://lake/wh/db/tr > r.out 2> r.err
is "$?" "1" "truncated always: exit 1"
is "$($JSONQ 'r["kind"]' < r.out | tr '\n' ' ')" "diff " "truncated always: no partial file records"
is "$(tail -n 1 r.out | $JSONQ 'r["scope"]')" "table" "truncated always: table scope"
is "$(wc -l < r.err)" "1" "truncated always: one error line"
reset_faults

# An object that changed after its manifest list was written (here cut to
# two thirds, served whole): not the size the list records, an error.
mkdir -p cut/metadata
head -c "$(($(wc -c < "tr/metadata/$m") * 2 / 3))" "tr/metadata/$m" > "cut/metadata/$m"
put_or_bail cut wh/db/tr/
XDG_CACHE_HOME=$TMP/fresh-cache2 "$D" --name db.x s3://lake/wh/db/tr > r.out 2> r.err
is "$?" "1" "manifest of another size than its list says: exit 1"
like "$(cat r.err)" "where the manifest list says" "manifest of another size: says so"
is "$($JSONQ 'r["kind"]' < r.out | tr '\n' ' ')" "diff " "manifest of another size: no partial file records"

is "$(s3_requests 'refused')" "0" "every request passed botocore's signature check"
done_testing
