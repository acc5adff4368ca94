#!/bin/sh
# catalog-iceberg-js: iceberg-js (npm), an independent Iceberg REST client,
# against the catalog test server: it must find the same namespaces and
# tables (across pages) as our client, load them at the same metadata
# locations, and be answered 304 when it sends the ETag back; so the server
# speaks the protocol, not only our assumptions.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/catalog/catalog-lib.sh"

JSDIR="$top_srcdir/tests/catalog"
command -v node > /dev/null || skip_all "node not installed (scripts/setup installs it)"
[ -d "$JSDIR/node_modules/iceberg-js" ] || skip_all "iceberg-js not installed in tests/catalog (run scripts/setup)"
cd "$TMP" || exit 1

for t in db/orders db/customers db/items a/b/events a/b/clicks; do
	"$MKTABLE" create "wh/$t" > /dev/null || { echo "Bail out! ice-mktable failed"; exit 1; }
done
"$MKTABLE" append wh/db/orders --files 2 > /dev/null
start_catalog cat "$TMP/wh" --prefix wh1 --warehouse lake --token static-tok-1 --page-size 1
unset ICE_CATALOG ICE_CATALOG_CREDENTIAL
ICE_CATALOG_TOKEN=static-tok-1 ICE_CATALOG_WAREHOUSE=lake
export ICE_CATALOG_TOKEN ICE_CATALOG_WAREHOUSE
P() { "$CATALOG_PROBE" --catalog "$cat_URL" "$@"; }

node "$JSDIR/iceberg-js-check.mjs" "$cat_URL" lake static-tok-1 > js.out 2> js.err
is "$?" "0" "iceberg-js: ran ($(head -c 300 js.err))"
is "$(grep '^namespace' js.out | sed 's/namespace //' | sort | tr '\n' ' ')" "a a.b db " \
	"iceberg-js: the namespaces, nested ones included"
ours=$( { P tables db; P tables a.b; } | sort | tr '\n' ' ')
is "$(grep '^table' js.out | cut -d' ' -f2 | sort | tr '\n' ' ')" "$ours" "iceberg-js: the same tables as our client"
is "$(echo "$ours" | wc -w)" "5" "both: five tables"
for t in db.orders a.b.events; do
	is "$(grep "^table $t " js.out | cut -d' ' -f3)" "$(P load "$t" | cut -d' ' -f2)" \
		"iceberg-js: $t at the same metadata location"
done
is "$(grep '^reload' js.out | cut -d' ' -f3 | sort -u)" "304" "iceberg-js: every reload with the ETag was a 304"
check "iceberg-js: it paginated (page size 1: a pageToken of page1 sent)" grep -q 'pageToken=page1' "$TMP/cat.log"
check_schemas
done_testing
