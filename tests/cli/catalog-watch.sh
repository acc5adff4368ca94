#!/bin/sh
# catalog-watch: ice-snapshot on tables of the catalog test server: ls,
# show, log, poll and ice-diff by catalog name; named catalogs of the
# configuration file (NAME:db.t); an idle watch of 100 tables makes one
# conditional request per table and round, all answered 304 with no body;
# faults (403, malformed JSON, an unknown namespace) are one line naming the
# catalog and the endpoint while the other tables are watched on, and the
# watch exits 1 at the end.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/catalog/catalog-lib.sh"

command -v curl > /dev/null || skip_all "curl not installed (scripts/setup installs it)"
cd "$TMP" || exit 1

# 100 tables: one written, copied (the catalog serves what is on disk).
"$MKTABLE" create wh/many/t0 --seed 5 > /dev/null || { echo "Bail out! ice-mktable failed"; exit 1; }
i=1
while [ "$i" -lt 100 ]; do
	cp -r wh/many/t0 "wh/many/t$i"
	i=$((i + 1))
done
"$MKTABLE" create wh/db/orders --seed 7 > /dev/null
"$MKTABLE" append wh/db/orders --files 2 > /dev/null
"$MKTABLE" append wh/db/orders --files 1 > /dev/null
"$MKTABLE" create wh/a/b/events --seed 8 > /dev/null

# Pages of 200: a listing of the namespace is one request (catalog-client.sh
# checks paging).
start_catalog cat "$TMP/wh" --prefix p --token tok-1 --page-size 200
LOG="$TMP/cat.log"
ICE_CATALOG=$cat_URL ICE_CATALOG_TOKEN=tok-1
export ICE_CATALOG ICE_CATALOG_TOKEN
unset ICE_CATALOG_CREDENTIAL ICE_CATALOG_WAREHOUSE
S() { "$ICE_SNAPSHOT" "$@"; }
mark() { _mark=$(wc -l < "$LOG"); }
since() { tail -n +"$((_mark + 1))" "$LOG"; }
lines_at_least() { [ -f "$1" ] && test "$(wc -l < "$1")" -ge "$2"; }
orders_loaded_at_least() { test "$(since | grep -c 'tables/orders?.* 200 ')" -ge "$1"; }
t99_loads_at_least() { test "$(since | grep -c 'tables/t99?')" -ge "$1"; }

# ---- ls, show, log, poll, ice-diff by name ----
S ls > out
is "$(grep -c '^many\.t' out)" "100" "ls: the 100 tables of many"
is "$(grep -v '^many\.t' out | tr '\n' ' ')" "a. a.b. a.b.events db. db.orders many. " \
	"ls: namespaces (a.b.) and tables, to any depth"
is "$(S ls a.b)" "a.b.events" "ls NAMESPACE: under it only"
S show db.orders > out
is "$($JSONQ '(r["event"], r["table"], r["catalog"], r["namespace"], r["table_name"])' < out)" \
	"('current', 'db.orders', '$cat_URL', 'db', 'orders')" "show: a catalog table, named as given"
is "$($JSONQ 'str(r["metadata_location"] == r["metadata_file"])' < out)" "True" \
	"show: metadata_file is the catalog's metadata-location"
is "$(S log db.orders | wc -l | tr -d ' ')" "2" "log: the two snapshots"
is "$(S show a.b.events | $JSONQ 'r["namespace"]')" "a.b" "show: a two-level namespace"
is "$("$ICE_DIFF" db.orders | tail -n 1 | $JSONQ '(r["table"], r["counts"]["data_added"])')" \
	"('db.orders', 1)" "ice-diff TABLE: a catalog table"
S poll --state cur.json db.orders > /dev/null
"$MKTABLE" append wh/db/orders --files 1 > /dev/null
is "$(S poll --state cur.json db.orders | $JSONQ 'r["event"]')" "new" "poll: the commit since the cursor"
is "$(S poll --state cur.json db.orders | wc -l | tr -d ' ')" "0" "poll: then nothing"
S show db.nope > /dev/null 2> err
is "$?" "1" "show: an unknown table fails"
like "$(cat err)" "catalog $cat_URL: GET /v1/p/namespaces/db/tables/nope: 404" \
	"show: one line naming the catalog and the endpoint"
ICE_CATALOG_TOKEN=wrong S show db.orders > /dev/null 2> err
is "$?" "1" "a refused token fails"
like "$(cat err)" "catalog $cat_URL: GET /v1/config: 401" "a refused token: catalog and endpoint named"
check "the token is never printed" sh -c "! grep -q wrong err"

# ---- named catalogs of the configuration file ----
mkdir -p xdg-config/icecache
cat > xdg-config/icecache/config <<CFG
catalog.lake.uri = $cat_URL
catalog.lake.token = tok-1
CFG
is "$(ICE_CATALOG='' S show lake:db.orders | $JSONQ '(r["table"], r["catalog"])')" "('lake:db.orders', 'lake')" \
	"NAME:db.t: a catalog of the configuration file"
is "$(ICE_CATALOG=lake S show db.orders | $JSONQ 'r["catalog"]')" "lake" "ICE_CATALOG=NAME: that catalog"
is "$(ICE_CATALOG='' S --catalog "$cat_URL" show db.orders | $JSONQ 'r["table"]')" "db.orders" "--catalog URL"
ICE_CATALOG='' S show db.orders > /dev/null 2> err
is "$?" "1" "no catalog: db.orders is a path, and missing"
rm xdg-config/icecache/config

# ---- an idle watch of 100 tables ----
"$ICE_SNAPSHOT" watch --interval 300ms 'many.*' > idle.out 2> idle.err &
pid=$!
track_pid $pid
wait_for 120 lines_at_least idle.out 100
mark
# Three more rounds at least: every table loaded three times since.
wait_for 120 t99_loads_at_least 3
kill "$pid"
wait "$pid"
is "$?" "0" "idle watch: stopped by SIGTERM, exit 0"
since | grep 'GET /v1/p/namespaces/many/tables/' > loads
rounds=$(grep -c 'tables/t99?' loads)
n=$(wc -l < loads)
check "idle watch: 100 loads a round, one per table ($n over $rounds rounds of t99)" \
	test "$n" -ge $((100 * (rounds - 1))) -a "$n" -le $((100 * (rounds + 1)))
is "$(grep -vc ' 304 0 inm="' loads)" "0" "idle watch: every load conditional, answered 304 with no body"
is "$(grep -c 'snapshots=refs' loads)" "$n" "idle watch: snapshots=refs"
is "$(since | grep -v 'GET /v1/p/namespaces/many/tables/' | grep -vc 'GET /v1/p/namespaces/many/tables?')" "0" \
	"idle watch: besides the loads, only the listings of the namespace"
check "idle watch: one listing a round" test "$(since | grep -c 'GET /v1/p/namespaces/many/tables?')" -le $((rounds + 1))
is "$(wc -l < idle.out | tr -d ' ')" "100" "idle watch: no record after the first round"

# ---- a lagging catalog: an older metadata file served again ----
"$ICE_SNAPSHOT" watch --interval 200ms db.orders > lag.out 2> lag.err &
pid=$!
track_pid $pid
wait_for 60 lines_at_least lag.out 1
newest=$(find wh/db/orders/metadata -name 'v*.metadata.json' | sort -t v -k 2 -n | tail -n 1)
mv "$newest" wh/db/orders/metadata/held-back.json
mark
wait_for 60 orders_loaded_at_least 2
mv wh/db/orders/metadata/held-back.json "$newest"
mark
wait_for 60 orders_loaded_at_least 2
kill "$pid"
wait "$pid"
is "$(wc -l < lag.out | tr -d ' ')" "1" "lagging catalog: an older answer is no rollback, the cursor never moves back"
is "$(cat lag.err)" "" "lagging catalog: nothing said"

# ---- faults: the other tables are watched on, exit 1 at the end ----
ctl "$cat_URL" fail '{"match": "/tables/t3?", "status": 403}'
ctl "$cat_URL" fail '{"match": "/tables/t4?", "malformed": true}'
S watch --once many.t2 many.t3 many.t4 many.t5 > out 2> err
is "$?" "1" "faults: exit 1"
is "$($JSONQ '(r["kind"], r["table"])' < out | tr '\n' ' ')" \
	"('snapshot', 'many.t2') ('error', 'many.t3') ('error', 'many.t4') ('snapshot', 'many.t5') " \
	"faults: records for the others, error records for the two"
like "$(grep t3 err)" "catalog $cat_URL: GET /v1/p/namespaces/many/tables/t3: 403 forbidden" "403: catalog, endpoint"
like "$(grep t4 err)" "catalog $cat_URL: GET /v1/p/namespaces/many/tables/t4: malformed JSON" "malformed: catalog, endpoint"
is "$(wc -l < err | tr -d ' ')" "2" "faults: one line each"
ctl "$cat_URL" fail '{"match": "/tables/t6?", "status": 503, "retry_after": "1"}'
S watch --once many.t6 > out 2> err
is "$?:$($JSONQ 'r["event"]' < out)" "0:current" "503 with Retry-After: retried, loaded"
S watch --once 'nope.*' many.t7 > out 2> err
is "$?" "1" "an unknown namespace: exit 1"
like "$(cat err)" "GET /v1/p/namespaces/nope/tables: 404" "an unknown namespace: the endpoint named"
is "$($JSONQ 'r["table"]' < out)" "many.t7" "an unknown namespace: the other table is watched"
S show 'many.*' > /dev/null 2> err
is "$?" "2" "a namespace pattern outside watch: usage error"
check_schemas
done_testing
