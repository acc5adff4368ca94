#!/bin/sh
# multi: no silent misses, on each backend. Partition tags written the way
# people write them (a column, an unescaped value) are stored as the
# pipeline emits them and go on the next commit; tags naming a table the
# pipeline never saw or a field the table lacks are warned about, refused
# with --strict or strict_tags, and listed by doctor; an entry over several
# tables goes on a commit to any of them (both backends; on Redis the
# entry's guards in its other tables, icecache-keys(7)).
. "$top_srcdir/tests/cli/lib.sh"

C="$top_builddir/ice-cache"
INV="$top_builddir/ice-invalidate"
start_cache

W="$TMP/wh"
mk() { "$MKTABLE" "$@" > /dev/null || { echo "Bail out! ice-mktable $*"; exit 1; }; }
# commit TABLE: the current snapshot's transition through the pipeline.
commit() {
	"$ICE_SNAPSHOT" show "$W/shop.db/$1" | "$ICE_DIFF" | "$INV" > "$TMP/inv.out" 2> "$TMP/inv.err"
}
tags_of() { "$C" info "$1" | $JSONQ 'r["tags"]'; }
gone() { "$C" info "$1" > /dev/null 2>&1; [ "$?" = 1 ]; }

mk create "$W/shop.db/orders" --partition "day(ts)"
mk append "$W/shop.db/orders" --files 2 --partition-value ts_day=2024-01-01
mk create "$W/shop.db/customers" --partition category
mk append "$W/shop.db/customers" --files 1 --partition-value category=books

# ---- before the pipeline ran: the tables are unknown -------------------------
"$C" put k0 --value v --table shop.orders 2> "$TMP/err"
ok $? "put naming a table the pipeline never saw: stored"
like "$(cat "$TMP/err")" "never invalidated table 'shop.orders'" "and warned about"

commit orders
ok $? "the pipeline records shop.orders"
commit customers
ok $? "the pipeline records shop.customers"
gone k0
ok $? "the entry put before went with the first commit"

# ---- canonical partition tags ---------------------------------------------
"$C" put k1 --value v --partition "shop.orders:ts=2024-01-02T10:30:00" 2> "$TMP/err"
ok $? "put with the source column and a timestamp"
is "$(cat "$TMP/err")" "" "no warning: the tag can match"
is "$(tags_of k1)" '["partition:shop.orders:ts_day=2024-01-02"]' \
	"stored as the pipeline emits it (the day transform's field and value)"
"$C" put k2 --value v --partition "shop.customers:category=books" 2> "$TMP/err"
is "$(tags_of k2)" '["partition:shop.customers:category=books"]' "an identity field stays as written"
"$C" exec k3 --partition "shop.orders:ts_day=2024-01-03" -- echo computed > /dev/null 2> "$TMP/err"
is "$(cat "$TMP/err")" "" "exec with a good tag: no warning"
is "$("$C" ls --tag "partition:shop.orders:ts=2024-01-03T05:00:00" | $JSONQ 'r["key"]')" "k3" \
	"ls --tag finds the entry by the tag as people write it"

mk append "$W/shop.db/orders" --files 1 --partition-value ts_day=2024-01-02
commit orders
gone k1
ok $? "a commit to that day removes the entry tagged by column"
"$C" info k3 > /dev/null
ok $? "another day's entry stays"
"$C" info k2 > /dev/null
ok $? "another table's entry stays"

# ---- tags that can never match -------------------------------------------
"$C" put k4 --value v --table shop.order 2> "$TMP/err"
ok $? "a mistyped table: stored (a warning only)"
like "$(cat "$TMP/err")" "did you mean 'shop.orders'" "the warning names the close match"
"$C" put k5 --value v --partition "shop.orders:tsday=2024-01-01" 2> "$TMP/err"
like "$(cat "$TMP/err")" "has no partition field 'tsday' (did you mean 'ts_day'" \
	"a mistyped partition field: the close one named"
"$C" put k6 --strict --value v --partition "shop.customers:region=eu" 2> "$TMP/err"
is "$?" 2 "--strict refuses a field the table lacks (exit 2)"
like "$(cat "$TMP/err")" "its fields: 'category'" "naming the table's fields"
gone k6
ok $? "and stores nothing"
"$C" exec k7 --strict --table db.nothing -- touch "$TMP/ran" 2> "$TMP/err"
is "$?" 2 "exec --strict refuses an unknown table"
check "exec --strict refused before running the command" test ! -e "$TMP/ran"
mkdir -p "$XDG_CONFIG_HOME/icecache"
echo "strict_tags = true" > "$XDG_CONFIG_HOME/icecache/config"
"$C" put k8 --value v --table shop.ordres 2> "$TMP/err"
is "$?" 2 "strict_tags = true in the configuration refuses too"
echo "strict_tags = false" > "$XDG_CONFIG_HOME/icecache/config"
"$C" put k8 --value v --table shop.ordres 2> /dev/null
ok $? "strict_tags = false: a warning only"
rm "$XDG_CONFIG_HOME/icecache/config"

"$C" put f1 --strict --value v --file "shop.orders:data/ts_day=2024-01-01/00000-0.parquet" 2> "$TMP/err"
is "$?" 2 "--strict refuses a relative file path (manifests hold full paths)"
like "$(cat "$TMP/err")" "file path 'data/ts_day=2024-01-01/00000-0.parquet' is relative" "saying so"
"$C" put f2 --strict --value v --file "shop.orders:$W/shop.db/orders/data/00000-0.parquet" 2> "$TMP/err"
is "$?/$(cat "$TMP/err")" "0/" "an absolute file path: stored, no warning"
"$C" rm f2 > /dev/null

# tags of which none names a table, on an entry without a TTL: nothing
# but rm removes it, so put and exec say so (the tag that is a known
# table's name most likely lost its "table:")
"$C" put u1 --value v --tag shop.orders 2> "$TMP/err"
ok $? "a tag naming no table, no TTL: stored (a warning only)"
like "$(cat "$TMP/err")" "tag 'shop.orders' may never be invalidated: it names no table and the entry has no TTL" \
	"and warned about"
like "$(cat "$TMP/err")" "did you mean 'table:shop.orders'?" "naming the table tag it most likely meant"
"$C" put u2 --strict --value v --tag nightly-report 2> "$TMP/err"
is "$?" 2 "--strict refuses it (exit 2)"
like "$(cat "$TMP/err")" "error: tag 'nightly-report': it names no table" "as an error"
gone u2
ok $? "and stores nothing"
"$C" put u3 --value v --tag nightly-report --ttl 1h 2> "$TMP/err"
is "$?/$(cat "$TMP/err")" "0/" "with a TTL: no warning (it goes in time)"
"$C" put u4 --value v --tag nightly-report --table shop.customers 2> "$TMP/err"
is "$?/$(cat "$TMP/err")" "0/" "beside a table tag: no warning (a commit to the table removes it)"
"$C" put u5 --value v 2> "$TMP/err"
is "$?/$(cat "$TMP/err")" "0/" "no tags at all: no warning (nothing asked to invalidate it)"
"$C" exec u6 --tag nightly-report -- echo computed > /dev/null 2> "$TMP/err"
is "$?/$(cat "$TMP/err")" "0/" "exec keeps its result an hour by default: no warning"
"$C" exec u7 --strict --tag nightly-report --ttl until-invalidated -- touch "$TMP/ran7" 2> "$TMP/err"
is "$?" 2 "exec --strict --ttl until-invalidated refuses it"
check "before running the command" test ! -e "$TMP/ran7"
"$C" doctor > "$TMP/doc"
like "$(grep '"u1"' "$TMP/doc")" '"never_invalidated":true' "doctor lists the entry put with the warning"
"$C" rm u1 u3 u4 u5 u6 > /dev/null

"$C" doctor > "$TMP/doc"
is "$?" 1 "doctor: exit 1 when entries nothing invalidates exist"
is "$($JSONQ '"%s %s %s" % (r["key"], r["table"], r["never_invalidated"])' < "$TMP/doc" | sort | tr '\n' ' ')" \
	"k4 shop.order True k5 shop.orders True k8 shop.ordres True " \
	"doctor lists the three entries, per table"
like "$(grep k5 "$TMP/doc")" "no partition field 'tsday'" "with the reason"
"$C" doctor --table shop.customers > "$TMP/doc"
is "$?/$(wc -l < "$TMP/doc" | tr -d ' ')" "0/0" "doctor --table of a healthy table: nothing, exit 0"
"$C" rm k4 k5 k8 > /dev/null

# a key written by another application through the layout, its partition
# tag not in the canonical form: doctor names the form to write
if on_redis; then
	R() { cache_cli "$@" > /dev/null; }
	tag="partition:shop.orders:ts_day=2024-01-04T10:00:00"
	R HSET "icecache:{shop.orders}:e:app" v x created 1 expires 0 size 1 hits 0 origin app tags "$tag"
	R SET "icecache:k:app" shop.orders
	R SADD "icecache:{shop.orders}:all" app
	R SADD "icecache:{shop.orders}:t:$tag" app
	R SADD "icecache:{shop.orders}:tags" "$tag"
	"$C" doctor --table shop.orders > "$TMP/doc"
	like "$(cat "$TMP/doc")" '"canonical":"partition:shop.orders:ts_day=2024-01-04T10%3A00%3A00"' \
		"doctor: a tag written by another application in another form, and the form to write"
	"$C" rm app > /dev/null
fi

# ---- entries over several tables ------------------------------------------
"$C" put j1 --value joined --table shop.orders --table shop.customers 2> "$TMP/err"
ok $? "an entry over two tables"
"$C" put j2 --value joined --table shop.customers --partition "shop.orders:ts=2024-01-09" 2> /dev/null
"$C" ls --table shop.customers > "$TMP/ls"
is "$($JSONQ 'r["key"]' < "$TMP/ls" | sort | tr '\n' ' ')" "j1 j2 k2 " \
	"ls --table lists every entry depending on the table"
"$top_builddir/ice-stat" --json > "$TMP/stat"
is "$($JSONQ '[[t["table"], t["shared_entries"]] for t in r["tables"] if t["shared_entries"]]' < "$TMP/stat")" \
	'[["shop.customers",2],["shop.orders",2]]' "ice-stat counts the shared entries in each table"
"$top_builddir/ice-stat" --prometheus > "$TMP/metrics"
if on_redis; then backend=redis; else backend=sqlite; fi
check "Prometheus: shared entries per table" \
	grep -qxF "icecache_table_shared_entries{backend=\"$backend\",table=\"shop.orders\"} 2" "$TMP/metrics"
"$C" export "$TMP/a.tar" > /dev/null
mk append "$W/shop.db/customers" --files 1 --partition-value category=toys
commit customers
gone j1
ok $? "a commit to the second table invalidates the entry"
gone j2
ok $? "the table tag of another entry's second table too"
"$C" import "$TMP/a.tar" > /dev/null
"$C" info j2 | $JSONQ 'r["tags"]' > "$TMP/t"
is "$(cat "$TMP/t")" '["table:shop.customers","partition:shop.orders:ts_day=2024-01-09"]' \
	"export/import keeps both tables"
mk append "$W/shop.db/orders" --files 1 --partition-value ts_day=2024-01-09
commit orders
gone j2
ok $? "a commit to the first table invalidates it"

if on_redis; then
	# the reader checks the guard: one gone (a drain interrupted before
	# the home entry went) or of another version is a miss, never a hit
	"$C" put j3 --value joined --table shop.orders --table shop.customers
	"$C" get j3 > /dev/null
	ok $? "guarded entry: a hit while its guard holds its version"
	cache_cli HSET "icecache:{shop.customers}:e:j3" ver older > /dev/null
	"$C" get j3 > /dev/null
	is "$?" 1 "a guard of another version: a miss"
	cache_cli DEL "icecache:{shop.customers}:e:j3" > /dev/null
	"$C" get j3 > /dev/null
	is "$?" 1 "a missing guard: a miss, though the home entry is there"
	is "$(cache_cli EXISTS "icecache:{shop.orders}:e:j3")" 1 "(the home entry is there)"
	skip "schema 1 files migrated in place: the embedded store's, not Redis's"
	done_testing
	exit
fi
# a schema 1 file (entries in their home table only) migrates in place
"$C" put m1 --value v --table shop.customers
sql "DROP TABLE deps" > /dev/null
sql "DROP TRIGGER entries_removed" > /dev/null
python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TRIGGER entries_removed AFTER DELETE ON entries BEGIN DELETE FROM tags WHERE ns = old.ns AND key = old.key; UPDATE store SET value = value - old.bytes WHERE name = \"used_bytes\"; END")
db.execute("PRAGMA user_version = 1")
db.commit()' "$CACHE_DB"
"$C" ls --table shop.customers > "$TMP/ls"
like "$(cat "$TMP/ls")" '"key":"m1"' "a schema 1 file opens with its entries"
is "$(sql 'PRAGMA user_version')" 2 "and is now schema 2"
mk append "$W/shop.db/customers" --files 1 --partition-value category=games
commit customers
gone m1
ok $? "its entries are invalidated as before"

done_testing
