#!/bin/sh
# catalog-s3: catalog tables whose files are in object storage, read with
# the S3 keys the catalog vends. The catalog test server serves tables
# whose metadata lives in the local S3 server (--s3-root) and vends keys
# that the verifying proxy accepts; the environment's keys are refused
# there, so every success proves the vended keys were used. ice-snapshot
# watch db.t | ice-diff | ice-invalidate on the sqlite cache removes
# exactly the stale entries while the test commits; vended keys that
# expire mid-watch (the proxy drops them on demand, the catalog vends new
# ones) are asked for again and the watch goes on.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/catalog/catalog-lib.sh"

command -v curl > /dev/null || skip_all "curl not installed (scripts/setup installs it)"
ICE_TEST_BACKEND=sqlite
start_s3 lake
start_cache
cd "$TMP" || exit 1
C="$top_builddir/ice-cache"
keys() { curl -s -o /dev/null -X POST --data "$1" "$S3_EP/__ctl/keys"; }
# vend AK SECRET TOKEN [EXPIRES_AT_MS]: what the catalog vends for db.t
# from now on (by default keys that expire in 2100).
vend() {
	ctl "$cat_URL" vend "{\"storage-credentials\": [{\"prefix\": \"s3://lake/wh/db/t/\", \"config\": {
		\"s3.access-key-id\": \"$1\", \"s3.secret-access-key\": \"$2\", \"s3.session-token\": \"$3\",
		\"s3.session-token-expires-at-ms\": \"${4:-4102444800000}\"}}],
		\"config\": {\"s3.endpoint\": \"$S3_EP\", \"client.region\": \"us-east-1\"}}"
}
# publish: the working copy's new files into S3, then its new metadata
# files into the catalog's warehouse (renamed into place: the commit).
publish() {
	s3_put work/db/t wh/db/t/ || { echo "Bail out! seeding S3 failed"; exit 1; }
	mkdir -p catwh/db/t/metadata
	for f in work/db/t/metadata/*.metadata.json; do
		n=${f##*/}
		[ -e "catwh/db/t/metadata/$n" ] && continue
		cp "$f" catwh/db/t/metadata/.new && mv catwh/db/t/metadata/.new "catwh/db/t/metadata/$n"
	done
}

"$MKTABLE" create work/db/t --seed 41 --partition "identity(category)" --location s3://lake/wh/db/t > /dev/null
"$MKTABLE" append work/db/t --files 4 > /dev/null
publish
"$MKTABLE" list work/db/t > live
victim=$(sed -n 1p live | $JSONQ 'r["file_path"]')
other=$(sed -n 2p live | $JSONQ 'r["file_path"]')
third=$(sed -n 3p live | $JSONQ 'r["file_path"]')

start_catalog cat "$TMP/catwh" --s3-root s3://lake/wh
vend AKVEND1 'vend/secret+1' VTOK1
# The proxy knows the vended keys only; the environment's (AKIDTEST) are
# refused, and the endpoint comes from the catalog alone.
keys '{"add": {"AKVEND1": ["vend/secret+1", "VTOK1"]}, "remove": ["AKIDTEST", "AKTOK"]}'
unset AWS_ENDPOINT_URL
ICE_CATALOG=$cat_URL
export ICE_CATALOG
LOG="$TMP/cat.log"

# ---- one diff by name ----
AWS_ENDPOINT_URL=$S3_EP "$ICE_DIFF" s3://lake/wh/db/t > own.out 2> own.err
is "$?" "1" "control: the environment's keys are refused by the store"
control_403=$(grep -c ' 403 ' proxy.log)
like "$(cat own.err)" "access denied (HTTP 403" "control: the refusal is said"
"$ICE_DIFF" -v db.t > one.out 2> one.err
is "$?" "0" "ice-diff db.t: read from S3 with the vended keys"
is "$(count_lines one.out '"kind":"diff"')" "1" "ice-diff db.t: one diff record"
is "$(count_lines one.out '"kind":"file"')" "4" "ice-diff db.t: the four files added"
like "$(cat one.err)" "credentials: catalog $cat_URL: storage credential for s3://lake/wh/db/t/ (vended)" \
	"-v: the credentials are the catalog's vended ones"
check "-v: no secret or token in any message" sh -c '! grep -q "vend/secret\|VTOK" one.err'
like "$(grep 'tables/t?' "$LOG" | tail -n 1)" "deleg=vended-credentials" \
	"the keys were asked for with X-Iceberg-Access-Delegation"

# ---- keys about to expire are asked for again before each use ----
"$ICE_SNAPSHOT" log db.t > two.in
"$MKTABLE" append work/db/t --files 1 > /dev/null
publish
"$ICE_SNAPSHOT" log db.t | tail -n 1 >> two.in
vended_loads() { grep -c 'tables/t?.*deleg=vended' "$LOG"; }
n=$(vended_loads)
"$ICE_DIFF" < two.in > two.out 2> two.err
is "$?" "0" "two records, keys valid for long: diffed"
is "$(($(vended_loads) - n))" "1" "keys valid for long: asked for once in the run"
is "$(count_lines two.out '"kind":"diff"')" "2" "two records: two diffs"
# Expiring in 30 s: within the minute ice-diff keeps as a margin. The
# time only has to be in that minute when ice-diff runs; no race.
vend AKVEND1 'vend/secret+1' VTOK1 "$(($(date +%s) * 1000 + 30000))"
n=$(vended_loads)
"$ICE_DIFF" < two.in > two.out 2> two.err
is "$?" "0" "two records, keys about to expire: diffed"
is "$(($(vended_loads) - n))" "2" "keys about to expire: asked for again before each record"
vend AKVEND1 'vend/secret+1' VTOK1

# ---- the pipeline ----
put() { "$C" put "$1" --value "value of $1" --tag "$2"; }
present() { "$C" info "$1" > /dev/null 2>&1; }
absent() { "$C" info "$1" > /dev/null 2>&1; [ "$?" = 1 ]; }
invalidated() { count_lines "$TMP/inv.out" '"kind":"invalidated"'; }
invalidated_at_least() { test "$(invalidated)" -ge "$1"; }
start_pipeline --interval 200ms db.t
wait_for 60 invalidated_at_least 1
put "on victim" "file:db.t:$victim"
put "on other" "file:db.t:$other"
put "on third" "file:db.t:$third"
like "$(grep '"kind":"snapshot"' inv.out | head -n 1)" '"metadata_location":"s3://lake/wh/db/t/metadata/' \
	"records carry the metadata location in S3"

"$MKTABLE" delete work/db/t --path "$victim" > /dev/null
publish
wait_for 60 absent "on victim"
ok "$?" "delete: the entry on the deleted file is invalidated"
check "delete: the entry on another file stays" present "on other"
check "delete: the entry on a third file stays" present "on third"

# ---- the vended keys expire mid-watch ----
loads=$(grep -c 'tables/t?.*deleg=vended' "$LOG")
keys '{"add": {"AKVEND2": ["vend/secret+2", "VTOK2"]}, "remove": ["AKVEND1"]}'
vend AKVEND2 'vend/secret+2' VTOK2
"$MKTABLE" delete work/db/t --path "$other" > /dev/null
publish
wait_for 60 absent "on other"
ok "$?" "expired keys: refused, asked for again, the watch went on"
check "expired keys: the entry on a third file stays" present "on third"
check "expired keys: the store refused the old keys once" grep -q ' 403 ' proxy.log
check "expired keys: the catalog was asked again" \
	test "$(grep -c 'tables/t?.*deleg=vended' "$LOG")" -gt "$loads"

kill "$watch_pid"
wait "$watch_pid"
is "$?" "0" "watch: stopped by SIGTERM, exit 0"
is "$(grep -c ' 403 ' proxy.log)" "$((control_403 + 1))" \
	"signatures: one refusal besides the control's: the expired keys'"
is "$(grep -v ' 403 ' proxy.log | grep -vc ' 20[06] ')" "0" "signatures: every other request was verified and answered"
is "$(cat diff.err inv.err | grep -vc 'scope\|whole table\|stale')" "0" "no other diagnostics downstream"
check_schemas
done_testing
