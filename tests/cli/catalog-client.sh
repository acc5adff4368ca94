#!/bin/sh
# catalog-client: the catalog client (lib/iceberg/catalog.c) against the
# catalog test server: configuration and prefix, pagination, multi-level
# namespaces and the advertised separator, conditional loadTable (304, and
# metadata-location without ETag), OAuth2 tokens refreshed before expiry
# and on 401/419, Retry-After, errors, vended credentials, named catalogs.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/catalog/catalog-lib.sh"

command -v curl > /dev/null || skip_all "curl not installed (scripts/setup installs it)"
cd "$TMP" || exit 1

# Five tables in db (three pages of two), a two-level namespace a.b.
for t in orders customers items payments returns; do
	"$MKTABLE" create "wh/db/$t" > /dev/null || { echo "Bail out! ice-mktable failed"; exit 1; }
done
"$MKTABLE" append wh/db/orders --files 2 > /dev/null
"$MKTABLE" create wh/a/b/events > /dev/null
"$MKTABLE" create wh/a/c/clicks > /dev/null

SECRET='s3cr3t-V4lue'
start_catalog cat "$TMP/wh" --prefix wh1 --warehouse lake --client "app:$SECRET" --log-header X-Api-Key
ICE_CATALOG_CREDENTIAL="app:$SECRET" ICE_CATALOG_WAREHOUSE=lake
export ICE_CATALOG_CREDENTIAL ICE_CATALOG_WAREHOUSE
unset ICE_CATALOG ICE_CATALOG_TOKEN
P() { "$CATALOG_PROBE" --catalog "$cat_URL" "$@"; }
LOG="$TMP/cat.log"
log_count() { count_lines "$LOG" "$1"; }
mark() { _mark=$(wc -l < "$LOG"); }
since() { tail -n +"$((_mark + 1))" "$LOG"; }   # the log lines since mark

# ---- configuration ----
is "$(P config prefix)" "wh1" "config: the prefix comes from overrides"
is "$(P config clients)" "4" "config: defaults are read"
like "$(grep 'GET /v1/config' "$LOG" | head -1)" "/v1/config?warehouse=lake" "config: ?warehouse= sent"
ICE_CATALOG_WAREHOUSE=other P config prefix > /dev/null 2> err
is "$?" "2" "config: an unknown warehouse is not found"
like "$(cat err)" "GET /v1/config: 404 not found: NoSuchWarehouseException" "config: error names the endpoint"

# ---- listings and pagination ----
is "$(P namespaces | tr '\n' ' ')" "a db " "namespaces: the top level"
is "$(P namespaces a | tr '\n' ' ')" "a.b a.c " "namespaces: under a (parent=a)"
mark
is "$(P tables db | tr '\n' ' ')" "db.customers db.items db.orders db.payments db.returns " \
	"tables: all five, in order, across pages"
is "$(since | grep -c 'GET /v1/wh1/namespaces/db/tables?pageToken=')" "3" "tables: three pages of two"
like "$(since | grep 'tables?pageToken=' | tail -1)" "pageToken=page4" "tables: the next-page-token was sent back"
mark
P --page-size 1 tables db > /dev/null
is "$(since | grep -c 'pageSize=1')" "5" "tables: pageSize=1 gives five pages"
is "$(P tables a.b)" "a.b.events" "tables: of a two-level namespace"
like "$(grep 'namespaces/a%1Fb/tables' "$LOG" | head -1)" "GET /v1/wh1/namespaces/a%1Fb/tables" \
	"tables: the levels joined by %1F in the path"
P tables nope > /dev/null 2> err
is "$?" "2" "tables: an unknown namespace is not found"
like "$(cat err)" "GET /v1/wh1/namespaces/nope/tables: 404 not found: NoSuchNamespaceException" \
	"tables: the error names the catalog's endpoint"

# ---- loadTable, ETag and 304 ----
mark
out=$(P --stats load db.orders 3 2> stats)
is "$(echo "$out" | sed 's/ .*//' | tr '\n' ' ')" "changed unchanged unchanged " "load: then unchanged twice"
is "$(echo "$out" | sed -n 2p)" "unchanged 304" "load: unchanged by a 304"
is "$(since | grep -c ' 304 0 inm="')" "2" "load: two conditional requests answered 304 with no body"
like "$(since | grep 'tables/orders' | head -1)" "?snapshots=all 200" "load: snapshots=all by default"
like "$(since | grep 'tables/orders' | head -1)" "deleg=vended-credentials" "load: vended credentials asked for"
like "$(cat stats)" "not_modified=2" "load: the client counted the 304s"
mark
out=$(P --refs load db.orders 2)
is "$(echo "$out" | sed 's/ .*//' | tr '\n' ' ')" "changed unchanged " "load --refs: its own ETag"
like "$(since | grep 'tables/orders' | head -1)" "snapshots=refs 200" "load --refs: snapshots=refs, first unconditional"
out=$(P --between "$MKTABLE append wh/db/orders --files 1 > /dev/null" load db.orders 2)
is "$(echo "$out" | sed 's/ .*//' | tr '\n' ' ')" "changed changed " "load: a commit between loads is seen"
like "$(echo "$out" | sed -n 2p)" "metadata/v3.metadata.json" "load: the new metadata location"
is "$(P load a.b.events)" "changed $TMP/wh/a/b/events/metadata/v1.metadata.json" "load: a two-level namespace"
P load db.nope > /dev/null 2> err
is "$?" "2" "load: an unknown table is not found"
like "$(cat err)" "GET /v1/wh1/namespaces/db/tables/nope: 404 not found: NoSuchTableException" \
	"load: the error names the endpoint"

# ---- OAuth2 ----
tok_lines() { since | grep -c 'POST /v1/oauth/tokens 200'; }
mark
P --stats load db.orders 4 > /dev/null 2> stats
like "$(cat stats)" "tokens=1" "oauth: one token for a whole session"
like "$(since | grep 'oauth/tokens' | head -1)" "auth=scope=catalog" "oauth: scope catalog by default"
ctl "$cat_URL" expire '{"expires_in": 1}'
mark
P --stats --sleep-ms 1500 load db.orders 2 > out 2> stats
is "$(sed 's/ .*//' out | tr '\n' ' ')" "changed unchanged " "oauth: loads across an expiry succeed"
is "$(tok_lines)" "2" "oauth: a new token before the old one expired"
is "$(since | grep -c ' 401 \| 419 ')" "0" "oauth: the refresh was ahead of expiry (no 401)"
ctl "$cat_URL" expire '{"expires_in": 3600}'
mark
P --between "curl -s -X POST -d '{}' $cat_URL/__ctl/revoke" load db.orders 2 > out
is "$(sed 's/ .*//' out | tr '\n' ' ')" "changed unchanged " "oauth: a revoked token is replaced on 401"
is "$(since | grep -c ' 401 .*auth=bad')" "1" "oauth: one 401, then a new token"
ctl "$cat_URL" expire '{"status": 419}'
mark
P --between "curl -s -X POST -d '{\"expire\": true}' $cat_URL/__ctl/revoke" load db.orders 2 > out
is "$(sed 's/ .*//' out | tr '\n' ' ')" "changed unchanged " "oauth: 419 gets a new token too"
is "$(since | grep -c ' 419 .*auth=expired')" "1" "oauth: one 419, then a new token"
ICE_CATALOG_CREDENTIAL="app:wrong-$SECRET" P namespaces > /dev/null 2> err
is "$?" "3" "oauth: a wrong secret is refused"
like "$(cat err)" "/v1/oauth/tokens: 401 unauthorized: invalid_client" "oauth: the token endpoint's error"
ICE_CATALOG_CREDENTIAL='' ICE_CATALOG_TOKEN=not-a-token P namespaces > /dev/null 2> err
is "$?" "3" "token: a static token refused"
like "$(cat err)" "catalog $cat_URL: GET /v1/config: 401" "token: the error names catalog and endpoint (no query)"
like "$(cat err)" ": 401 unauthorized" "token: 401"

# ---- faults ----
ctl "$cat_URL" fail '{"match": "/tables/orders", "status": 503, "retry_after": "1"}'
mark
P --stats load db.orders > out 2> stats
is "$(sed 's/ .*//' out)" "changed" "503 with Retry-After: retried and loaded"
like "$(cat stats)" "retries=1" "503 with Retry-After: one retry"
gap=$(since | grep 'tables/orders' | sed 's/.* t=\([0-9]*\).*/\1/' | awk 'NR==1{a=$1} NR==2{print $1-a}')
check "503 with Retry-After: 1: the retry waited a second ($gap ms)" test "${gap:-0}" -ge 900
ctl "$cat_URL" fail '{"match": "/tables/orders", "status": 429, "retry_after": "120"}'
mark
P --max-retry-after-ms 2000 load db.orders > /dev/null 2> err
is "$?" "1" "429 with a long Retry-After: fails"
like "$(cat err)" "429, retry after 120000 ms: longer than the 2000 ms allowed" "429: says why, at once"
is "$(since | grep -c 'tables/orders')" "1" "429: no retry beyond the bound"
ctl "$cat_URL" fail '{"match": "/tables/orders", "status": 503, "times": 10}'
mark
P --attempts 3 --budget-ms 20000 load db.orders > /dev/null 2> err
is "$?" "1" "503 throughout: fails after the retries"
is "$(since | grep -c 'tables/orders.* 503 ')" "3" "503 throughout: three tries"
like "$(cat err)" "GET /v1/wh1/namespaces/db/tables/orders: 503" "503: names the endpoint"
ctl "$cat_URL" reset
ctl "$cat_URL" fail '{"match": "/tables/orders", "status": 403}'
P load db.orders > /dev/null 2> err
is "$?" "3" "403: refused"
like "$(cat err)" "GET /v1/wh1/namespaces/db/tables/orders: 403 forbidden: ForbiddenException" "403: one line, endpoint named"
ctl "$cat_URL" fail '{"match": "/tables/orders", "malformed": true}'
P load db.orders > /dev/null 2> err
is "$?" "4" "malformed JSON: a format error"
like "$(cat err)" "GET /v1/wh1/namespaces/db/tables/orders: malformed JSON" "malformed JSON: endpoint named"
is "$(wc -l < err)" "1" "malformed JSON: one line"

# ---- vended credentials ----
ctl "$cat_URL" vend "{\"storage-credentials\": [
	{\"prefix\": \"$TMP/wh/\", \"config\": {\"s3.access-key-id\": \"AKWIDE\", \"s3.secret-access-key\": \"wide-secret\"}},
	{\"prefix\": \"$TMP/wh/db/orders/\", \"config\": {\"s3.access-key-id\": \"AKORDERS\", \"s3.secret-access-key\": \"orders-secret\", \"s3.session-token\": \"sess\", \"s3.session-token-expires-at-ms\": \"1900000000000\"}}],
	\"config\": {\"client.region\": \"eu-west-3\", \"s3.endpoint\": \"http://127.0.0.1:9/\", \"s3.path-style-access\": \"false\", \"s3.access-key-id\": \"AKCONFIG\", \"s3.secret-access-key\": \"config-secret\"}}"
out=$(P s3 db.orders)
like "$out" "access_key=AKORDERS secret=set session_token=set" "vended: the longest prefix wins"
like "$out" "source=catalog $cat_URL: storage credential for $TMP/wh/db/orders/" "vended: the source says which"
like "$out" "region=eu-west-3 endpoint=http://127.0.0.1:9 path_style=0 expires_at_ms=1900000000000" \
	"vended: region, endpoint, path-style and expiry from config"
like "$(P s3 db.customers)" "access_key=AKWIDE secret=set session_token=-" "vended: a shorter prefix for another table"
ctl "$cat_URL" vend '{"config": {"s3.access-key-id": "AKCONFIG", "s3.secret-access-key": "config-secret"}}'
like "$(P s3 db.customers)" "access_key=AKCONFIG secret=set session_token=- source=catalog $cat_URL: table configuration" \
	"vended: config when no storage-credentials"

# ---- a named catalog from the configuration file ----
cat > ice.conf << EOC
catalog.lake.uri = $cat_URL
catalog.lake.credential = app:$SECRET
catalog.lake.warehouse = lake
catalog.lake.header.X-Api-Key = key-42
EOC
is "$(ICE_CATALOG_CREDENTIAL='' "$CATALOG_PROBE" --config ice.conf resolve lake:a.b.events)" \
	"catalog=lake uri=$cat_URL table=a.b.events warehouse=lake auth=oauth2 headers=1" "named: resolved from the file"
mark
is "$(ICE_CATALOG_CREDENTIAL='' ICE_CATALOG_WAREHOUSE='' "$CATALOG_PROBE" --config ice.conf load lake:db.orders)" \
	"changed $TMP/wh/db/orders/metadata/v3.metadata.json" "named: lake:db.orders loads"
is "$(since | grep -c 'X-Api-Key=key-42')" "$(since | grep -c '^GET ')" "named: the extra header on every catalog request"

# ---- the advertised separator, a server without ETags ----
start_catalog sep "$TMP/wh" --separator %2E --no-etag
S() { ICE_CATALOG_CREDENTIAL='' ICE_CATALOG_WAREHOUSE='' "$CATALOG_PROBE" --catalog "$sep_URL" "$@"; }
is "$(S tables a.b)" "a.b.events" "separator: listed with the advertised one"
like "$(grep 'tables' "$TMP/sep.log" | head -1)" "namespaces/a%2Eb/tables" "separator: %2E in the path"
out=$(S load a.b.events 2)
is "$(echo "$out" | tr '\n' ' ')" "changed $TMP/wh/a/b/events/metadata/v1.metadata.json unchanged same-location " \
	"no ETag: the metadata location tells unchanged"
is "$(grep -c 'inm="' "$TMP/sep.log")" "0" "no ETag: no conditional request"
out=$(S --between "$MKTABLE append wh/a/b/events --files 1 > /dev/null" load a.b.events 2)
like "$(echo "$out" | sed -n 2p)" "changed $TMP/wh/a/b/events/metadata/v2" "no ETag: a commit is seen"

# ---- secrets ----
check "no secret or token in any output" sh -c "! grep -l -e '$SECRET' -e 'tok[0-9]*-' -e 'wide-secret' -e 'orders-secret' err out stats 2> /dev/null"
check_schemas
done_testing
