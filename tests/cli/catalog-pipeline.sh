#!/bin/sh
# catalog-pipeline: ice-snapshot watch of catalog tables (by name and a
# whole namespace, 'db.*') | ice-diff | ice-invalidate keeps a cache exact
# while the tests commit to tables the catalog test server serves: a delete
# removes the entries on its file only; a token revoked mid-watch is
# replaced; a table dropped from the catalog, then created again under its
# name, is table scope both times; a table created after the watch began
# joins it; a rollback under snapshots=refs is loaded again with all and
# is a change. Run on each backend (tests/cli/catalog-pipeline.BACKEND.test).
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/catalog/catalog-lib.sh"

command -v curl > /dev/null || skip_all "curl not installed (scripts/setup installs it)"
C="$top_builddir/ice-cache"
start_cache
cd "$TMP" || exit 1

"$MKTABLE" create wh/db/t --seed 31 --partition "identity(category)" > /dev/null
"$MKTABLE" append wh/db/t --files 4 > /dev/null
"$MKTABLE" create wh/db/u --seed 32 > /dev/null
"$MKTABLE" append wh/db/u --files 1 > /dev/null
"$MKTABLE" list wh/db/t > live
victim=$(head -n 1 live | $JSONQ 'r["file_path"]')
other=$(tail -n 1 live | $JSONQ 'r["file_path"]')

start_catalog cat "$TMP/wh" --prefix p --client "app:s3cret"
ICE_CATALOG=$cat_URL ICE_CATALOG_CREDENTIAL=app:s3cret
export ICE_CATALOG ICE_CATALOG_CREDENTIAL
LOG="$TMP/cat.log"

put() { # put KEY TAG...
	key=$1
	shift
	for tag in "$@"; do set -- "$@" --tag "$tag"; shift; done
	"$C" put "$key" --value "value of $key" "$@"
}
present() { "$C" info "$1" > /dev/null 2>&1; }
absent() { "$C" info "$1" > /dev/null 2>&1; [ "$?" = 1 ]; }
# loads TABLE: how many loadTable requests the server answered for TABLE.
loads() { grep -c "GET /v1/p/namespaces/db/tables/$1?" "$LOG"; }
invalidated() { count_lines "$TMP/inv.out" '"kind":"invalidated"'; }
invalidated_at_least() { test "$(invalidated)" -ge "$1"; }

start_pipeline --interval 200ms db.t 'db.*'
# The first round is the current snapshots, each diffed from its parent;
# the entries are put once that is done.
wait_for 60 invalidated_at_least 2
put "on victim" "file:db.t:$victim"
put "on other" "file:db.t:$other"
put "all of u" "table:db.u"
is "$(count_lines inv.out '"event":"current"')" "2" "watch: db.t and db.u, each once (named and by pattern)"
like "$(grep '"table":"db.t"' inv.out | head -n 1)" '"namespace":"db","table_name":"t"' \
	"records carry the namespace and the table's name"
like "$(grep '"table":"db.t"' inv.out | head -n 1)" "\"metadata_location\":\"$TMP/wh/db/t/metadata/v2.metadata.json\"" \
	"records carry the metadata-location"

# ---- a delete: exactly the entries of the file removed ----
"$MKTABLE" delete wh/db/t --path "$victim" > /dev/null
wait_for 60 absent "on victim"
ok "$?" "delete: the entry on the deleted file is invalidated"
check "delete: the entry on another file stays" present "on other"
check "delete: the entry of another table stays" present "all of u"

# ---- the token revoked mid-watch ----
n=$(invalidated)
ctl "$cat_URL" revoke
"$MKTABLE" delete wh/db/t --path "$other" > /dev/null
wait_for 60 absent "on other"
ok "$?" "token revoked: the watch got a new one and went on"
check "token revoked: a 401, then a new token" grep -q ' 401 .*auth=bad' "$LOG"
is "$(invalidated)" "$((n + 1))" "token revoked: one more transition invalidated"

# ---- dropped, then created again under the same name ----
rm -r wh/db/u
wait_for 60 absent "all of u"
ok "$?" "dropped: the table's entries are invalidated"
is "$(grep -c '"event":"dropped","table":"db.u"' inv.out)" "1" "dropped: one dropped record"
like "$(grep '"kind":"diff","table":"db.u"' inv.out | tail -n 1)" '"scope":"table"' "dropped: table scope"
put "u again" "table:db.u"
"$MKTABLE" create wh/db/u --seed 33 > /dev/null
"$MKTABLE" append wh/db/u --files 1 > /dev/null
wait_for 60 absent "u again"
ok "$?" "recreated: the entries put since are invalidated"
# A round may see the new table before its first commit (recreated, then
# new) or after it (recreated): one recreated event either way.
is "$(grep '"table":"db.u"' inv.out | grep '"kind":"snapshot"' | grep -c '"event":"recreated"')" "1" \
	"recreated: a recreated event (new table-uuid)"

# ---- a table created after the watch began ----
put "all of late" "table:db.late"
"$MKTABLE" create wh/db/late --seed 34 > /dev/null
"$MKTABLE" append wh/db/late --files 1 > /dev/null
wait_for 60 absent "all of late"
ok "$?" "a table created later joins the watch of db.*"

# ---- a rollback: refs does not say, all does ----
first=$("$ICE_SNAPSHOT" log db.t | head -n 1 | $JSONQ 'r["snapshot_id"]')
put "t rolled" "snapshot:db.t:$first" "table:db.t"
n=$(grep -c 'tables/t?snapshots=all' "$LOG")
"$MKTABLE" rollback wh/db/t --to "$first" > /dev/null
wait_for 60 absent "t rolled"
ok "$?" "rollback: the table's entries are invalidated"
like "$(grep '"table":"db.t"' inv.out | grep '"kind":"snapshot"' | tail -n 1)" '"event":"rollback"' \
	"rollback: a rollback event"
check "rollback: loaded again with snapshots=all" test "$(grep -c 'tables/t?snapshots=all' "$LOG")" -gt "$n"

kill "$watch_pid"
wait "$watch_pid"
is "$?" "0" "watch: stopped by SIGTERM, exit 0 (every table was read)"
is "$(grep -c 'tables/.*snapshots=refs 304 0 inm=' "$LOG" | awk '{print ($1 > 0)}')" "1" \
	"idle rounds were answered 304 with no body"
is "$(cat diff.err inv.err | grep -vc 'scope\|whole table\|stale')" "0" \
	"no other diagnostics downstream"
check_schemas
done_testing
