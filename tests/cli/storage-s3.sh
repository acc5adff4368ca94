#!/bin/sh
# storage-s3: the storage layer against a real S3 server (s3rver, from
# tests/s3/node_modules) behind a proxy that checks every request's SigV4
# signature with botocore (tests/s3/sigv4-proxy.py): reads, ranges,
# conditional reads, stat, listings past 1,000 keys with continuation,
# credentials from the environment and from profiles, and faults injected
# by the proxy (503 SlowDown, dropped connections, truncated bodies, 403 on
# one key, a response slower than the time-out).
. "$top_srcdir/tests/cli/lib.sh"

S3DIR="$top_srcdir/tests/s3"
PROBE="$top_builddir/tests/storage/ice-storage-probe"
start_s3 lake
cd "$TMP" || exit 1

# Seed: a small table whose keys need encoding, and 1,100 small objects.
KEY='t/data/day=2024-01-01/a b+c%~é.avro'
mkdir -p src/t/metadata "src/t/data/day=2024-01-01"
printf '{"format-version":2}' > src/t/metadata/v1.metadata.json
printf '0123456789abcdefghij' > "src/$KEY"
s3_put src wh/ || { echo "Bail out! seeding failed"; exit 1; }
python3 "$S3DIR/s3-put.py" "$S3_PORT" lake --many 1100 many/k || { echo "Bail out! seeding failed"; exit 1; }

P() { "$PROBE" --attempts 4 --budget-ms 20000 "$@"; }

# ---- reads, signed and verified ----
is "$(P read s3://lake/wh/t/metadata/v1.metadata.json)" '{"format-version":2}' "read: whole object"
is "$(P read "s3://lake/wh/$KEY")" "0123456789abcdefghij" "read: a key with = + % space ~ and UTF-8"
is "$(P range "s3a://lake/wh/$KEY" 5 4)" "5678" "range: bytes 5..8 (s3a://)"
is "$(P range "s3n://lake/wh/$KEY" 15 0)" "fghij" "range: to the end (s3n://)"
like "$(P stat "s3://lake/wh/$KEY")" "size=20 etag=\"" "stat: size and ETag by HEAD"
is "$(s3_requests 'refused')" "0" "every request passed botocore's signature check"
is "$(s3_requests "206 4")" "1" "range: one 206 with 4 bytes"

etag=$(P stat s3://lake/wh/t/metadata/v1.metadata.json | sed 's/.*etag=\(.*\) mtime.*/\1/')
is "$(P --stats readif s3://lake/wh/t/metadata/v1.metadata.json "$etag" 2> stats)" "unchanged" \
	"conditional read: same ETag is unchanged"
like "$(cat stats)" "requests=1 retries=0 not_modified=1" "conditional read: one request, a 304"
is "$(s3_requests 'v1.metadata.json 304 0')" "1" "conditional read: the 304 carried no body"
is "$(P readif s3://lake/wh/t/metadata/v1.metadata.json '"other"')" '{"format-version":2}' \
	"conditional read: another ETag gets the bytes"

P read s3://lake/wh/missing > /dev/null 2> err
is "$?" "2" "missing key: not found"
like "$(cat err)" "s3://lake/wh/missing: not found" "missing key: named"

# ---- credentials ----
AWS_SECRET_ACCESS_KEY=wrong-secret P read s3://lake/wh/t/metadata/v1.metadata.json > /dev/null 2> err
is "$?" "3" "wrong secret: access denied"
like "$(cat err)" "credentials: environment (AWS_ACCESS_KEY_ID)" "wrong secret: says where the keys came from"
check "wrong secret: never printed" sh -c "! grep -q 'wrong-secret' err"
AWS_ACCESS_KEY_ID=AKTOK AWS_SECRET_ACCESS_KEY=sek AWS_SESSION_TOKEN=TOKEN123 \
	P read s3://lake/wh/t/metadata/v1.metadata.json > out 2> err
is "$?:$(cat out)" '0:{"format-version":2}' "session token: signed and accepted"
AWS_ACCESS_KEY_ID=AKTOK AWS_SECRET_ACCESS_KEY=sek P read s3://lake/wh/t/metadata/v1.metadata.json \
	> /dev/null 2>&1
is "$?" "3" "session token missing: refused"

mkdir -p home/.aws
printf '[default]\nregion = us-east-1\n[profile prod]\nregion = us-east-1\n' > home/.aws/config
printf '[prod]\naws_access_key_id = AKTOK\naws_secret_access_key = sek\naws_session_token = TOKEN123\n' \
	> home/.aws/credentials
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=prod \
	"$PROBE" read s3://lake/wh/t/metadata/v1.metadata.json > out 2> err
is "$?:$(cat out)" '0:{"format-version":2}' "profile: keys and token from ~/.aws/credentials"
like "$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=prod "$PROBE" whoami)" \
	"credentials: profile prod ($TMP/home/.aws/credentials)" "profile: the source is named"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=nope "$PROBE" whoami > /dev/null 2> err
like "$(cat err)" "AWS profile 'nope' not found" "profile: an unknown profile is an error"
"$PROBE" --anonymous read s3://lake/wh/t/metadata/v1.metadata.json > /dev/null 2>&1
is "$?" "3" "anonymous: unsigned, refused by this store"
is "$(s3_requests 'refused: no Authorization header')" "1" "anonymous: sent without Authorization"

# ---- listings ----
P --stats list s3://lake/many > many.txt 2> stats
is "$(wc -l < many.txt | tr -d ' ')" "1100" "list: 1,100 keys"
is "$(s3_requests 'list-type=2&prefix=many/ 200')" "2" "list: two pages in all"
is "$(s3_requests 'continuation-token=')" "1" "list: a second page by continuation token"
is "$(head -1 many.txt):$(tail -1 many.txt)" "s3://lake/many/k00000 9:s3://lake/many/k01099 12" \
	"list: full URIs with sizes, first to last"
s3_fault '{"kind":"pagesize","size":7}'
: > proxy.log
is "$(P list s3://lake/wh -r | wc -l | tr -d ' ')" "2" "list: recursive, small pages"
is "$(P list s3://lake/many | sort -u | wc -l | tr -d ' ')" "1100" "list: 158 pages of 7, no key twice"
is "$(s3_requests 'continuation-token=')" "157" "list: 157 continuations"
s3_reset_faults
is "$(P list s3://lake/wh/t)" "" "list: not recursive, only objects directly under the prefix"

# ---- faults ----
: > proxy.log
s3_fault '{"kind":"slowdown","match":"v1.metadata","count":2}'
is "$(P --stats read s3://lake/wh/t/metadata/v1.metadata.json 2> stats)" '{"format-version":2}' \
	"503 SlowDown twice: then read"
like "$(cat stats)" "requests=3 retries=2" "503 SlowDown twice: three tries"
s3_fault '{"kind":"slowdown","match":"v1.metadata","count":10}'
P --attempts 3 read s3://lake/wh/t/metadata/v1.metadata.json > /dev/null 2> err
is "$?" "1" "503 on every try: an error"
like "$(cat err)" "HTTP 503 SlowDown" "503 on every try: the cause"
like "$(cat err)" "gave up after 3 tries" "503 on every try: bounded by --attempts"
s3_reset_faults

s3_fault '{"kind":"drop","match":"v1.metadata","count":1}'
is "$(P read s3://lake/wh/t/metadata/v1.metadata.json)" '{"format-version":2}' "dropped connection: retried"
s3_fault '{"kind":"truncate","match":"day=","count":1}'
is "$(P --stats read "s3://lake/wh/$KEY" 2> stats)" "0123456789abcdefghij" "truncated body: retried, whole"
like "$(cat stats)" "retries=1" "truncated body: one retry"
s3_fault '{"kind":"truncate","match":"day=","count":10}'
P --attempts 2 read "s3://lake/wh/$KEY" > out 2> err
is "$?:$(wc -c < out | tr -d ' ')" "1:0" "truncated every time: an error, no partial bytes"
like "$(cat err)" "truncated body" "truncated every time: said so"
s3_reset_faults

s3_fault '{"kind":"deny","match":"v1.metadata","count":1}'
P read s3://lake/wh/t/metadata/v1.metadata.json > /dev/null 2> err
is "$?" "3" "403 on one key: access denied, not retried"
like "$(cat err)" "bucket 'lake', key 'wh/t/metadata/v1.metadata.json', credentials: environment" \
	"403: names bucket, key and the credentials' source"
s3_reset_faults

s3_fault '{"kind":"slow","match":"v1.metadata","count":1,"seconds":3}'
is "$(P --timeout-ms 1000 --stats read s3://lake/wh/t/metadata/v1.metadata.json 2> stats)" \
	'{"format-version":2}' "slower than the time-out: tried again"
like "$(cat stats)" "retries=1" "slower than the time-out: one retry"
s3_fault '{"kind":"slow","match":"v1.metadata","count":5,"seconds":3}'
P --timeout-ms 500 --attempts 2 read s3://lake/wh/t/metadata/v1.metadata.json > /dev/null 2> err
like "$(cat err)" "timed out" "slow every time: a time-out error"
s3_reset_faults

is "$(s3_requests 'refused')" "0" "no request refused by the signature check in the fault runs"

# ---- the object cache ----
OBJ="$TMP/xdg-cache/icecache/objects"
M=s3://lake/wh/t/metadata/v1.metadata.json
: > proxy.log
is "$(P --stats readimm $M 2> stats)" '{"format-version":2}' "object cache: a miss reads the store"
like "$(cat stats)" "requests=1 " "object cache: one request"
is "$(find "$OBJ" -type f | wc -l | tr -d ' ')" "1" "object cache: one entry under XDG_CACHE_HOME"
is "$(P --stats readimm $M 2> stats)" '{"format-version":2}' "object cache: a hit, same bytes"
like "$(cat stats)" "requests=0 retries=0 not_modified=0 cache_hits=1" "object cache: a hit makes no request"
is "$(s3_requests 'v1.metadata.json')" "1" "object cache: the server saw one GET in all"
entry=$(find "$OBJ" -type f)
sed -i 's/format/FORMAT/' "$entry"
is "$(P --stats readimm $M 2> stats)" '{"format-version":2}' "object cache: a corrupted entry is not used"
like "$(cat stats)" "requests=1 retries=0 not_modified=0 cache_hits=0 cache_corrupt=1" \
	"object cache: corruption detected, fetched again"
is "$(P --stats readimm $M 2>&1 > /dev/null | sed 's/.*cache_hits=\([0-9]*\).*/\1/')" "1" \
	"object cache: the entry is whole again"
is "$(P --no-cache --stats readimm $M 2>&1 > /dev/null | sed 's/ retries.*//')" "requests=1" \
	"object cache: --no-cache reads the store"

uris=$(sed -n '1,60s/ .*//p' many.txt | tr '\n' ' ')
# shellcheck disable=SC2086 # a list of URIs without blanks, split on purpose
P --cache-dir "$TMP/c2" readimm $uris > fill1 2>&1 &
p1=$!
# shellcheck disable=SC2086 # a list of URIs without blanks, split on purpose
P --cache-dir "$TMP/c2" readimm $uris > fill2 2>&1 &
p2=$!
wait $p1; s1=$?
wait $p2; s2=$?
is "$s1:$s2" "0:0" "object cache: two processes fill one cache at once"
is "$(cat fill1)" "$(cat fill2)" "object cache: both read the same bytes"
# shellcheck disable=SC2086 # a list of URIs without blanks, split on purpose
P --cache-dir "$TMP/c2" --stats readimm $uris > fill3 2> stats
like "$(cat stats)" "requests=0 retries=0 not_modified=0 cache_hits=60 cache_corrupt=0" \
	"object cache: then every entry is whole"
check "object cache: a cached read gives the store's bytes" cmp -s fill1 fill3

# shellcheck disable=SC2086 # a list of URIs without blanks, split on purpose
P --cache-dir "$TMP/c3" --cache-max 4000 --stats readimm $uris > /dev/null 2> stats
size=$(find "$TMP/c3" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
check "object cache: the size limit is kept ($size bytes of 4000)" test "$size" -le 4000
check "object cache: the limit evicted entries" grep -q 'cache_evicted=[1-9]' stats
# shellcheck disable=SC2086 # a list of URIs without blanks, split on purpose
is "$(P --cache-dir "$TMP/c3" --stats readimm "$(echo $uris | awk '{ print $NF }')" 2>&1 >/dev/null |
	sed 's/ retries.*//')" "requests=0" "object cache: the most recent entry survives eviction"
done_testing
