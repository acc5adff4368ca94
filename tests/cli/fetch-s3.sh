#!/bin/sh
# fetch-s3: ice-cache fetch s3://BUCKET/KEY against a real S3 server (s3rver
# behind the botocore-verifying proxy, see start_s3): bytes signed and
# verified, keyed by the URI, revalidated with the ETag (a 304 without a
# body), --ttl, errors (404, 403) one line and never cached, and the S3
# settings from flags, the environment and the configuration file in that
# order.
. "$top_srcdir/tests/cli/lib.sh"

start_cache
start_s3 lake
C="$top_builddir/ice-cache"
cd "$TMP" || exit 1
fault() { curl -s -o /dev/null -X POST --data "$1" "$S3_EP/__ctl/fault"; }
reset_faults() { curl -s -o /dev/null -X POST "$S3_EP/__ctl/reset"; }
entries() { "$C" ls 'fetch:*' | wc -l | tr -d ' '; }

mkdir -p src/exports/day=2024-01-01
printf '{"eur":1.08}' > src/exports/rates.json
printf 'a,b\n1,2\n' > "src/exports/day=2024-01-01/a b+c.csv"
s3_put src '' || { echo "Bail out! seeding failed"; exit 1; }
U=s3://lake/exports/rates.json
KEY="fetch:GET $U"

# ---- bytes, key, revalidation ----
is "$("$C" fetch $U)" '{"eur":1.08}' "fetch s3://: the object's bytes"
is "$(s3_requests 'GET /lake/exports/rates.json 200')" "1" "fetch s3://: one GET"
is "$(s3_requests 'refused')" "0" "fetch s3://: the signature passed botocore's check"
like "$("$C" info "$KEY" | $JSONQ 'r["origin"]')" "{\"url\":\"$U\",\"etag\":\"\\\"" \
	"fetch s3://: keyed by the URI, the ETag kept"
is "$("$C" fetch -v $U 2> verbose)" '{"eur":1.08}' "again: the same bytes"
like "$(cat verbose)" "storage: requests=1 retries=0 not_modified=1 bytes=0 " \
	"again -v: one request, a 304, no bytes"
is "$(s3_requests 'GET /lake/exports/rates.json 304 0')" "1" \
	"again: one conditional GET answered 304 without a body (smart: until changed)"
is "$(s3_requests 'GET /lake/exports/rates.json 200')" "1" "again: nothing downloaded"
printf '{"eur":1.10}' > src/exports/rates.json
s3_put src '' > /dev/null
is "$("$C" fetch $U)" '{"eur":1.10}' "changed in the store: the new bytes"
is "$(entries)" "1" "changed in the store: one entry, replaced"
is "$("$C" fetch "s3a://lake/exports/day=2024-01-01/a b+c.csv" | tail -1)" "1,2" \
	"fetch s3a://: a key with = + and a space"

"$C" fetch --ttl 1h -o out.json $U
is "$(cat out.json)" '{"eur":1.10}' "--ttl 1h -o FILE: written"
n=$(s3_requests 'rates.json')
is "$("$C" fetch $U)" '{"eur":1.10}' "--ttl 1h: then served from the cache"
is "$(s3_requests 'rates.json')" "$n" "--ttl 1h: without asking the store"

# ---- errors: one line, nothing on stdout, never cached ----
"$C" fetch s3://lake/exports/missing.json > out 2> err
is "$?:$(wc -c < out | tr -d ' ')" "1:0" "404: exit 1, nothing on stdout"
like "$(cat err)" "ice-cache: error: s3://lake/exports/missing.json: not found" "404: one line naming the URI"
is "$(wc -l < err | tr -d ' ')" "1" "404: one line"
fault '{"kind":"deny","match":"day=","count":1}'
"$C" fetch "s3a://lake/exports/day=2024-01-01/a b+c.csv" > out 2> err
is "$?:$(wc -c < out | tr -d ' ')" "1:0" "403: exit 1, nothing on stdout"
like "$(cat err)" "bucket 'lake', key 'exports/day=2024-01-01/a b+c.csv', credentials: environment" \
	"403: names the bucket, the key and where the keys came from"
check "403: the secret is never printed" sh -c "! grep -q 'secret/key' err"
reset_faults
AWS_SECRET_ACCESS_KEY=not-the-secret "$C" fetch s3://lake/exports/other.json > /dev/null 2> err
like "$(cat err)" "access denied" "wrong secret: access denied"
check "wrong secret: never printed" sh -c "! grep -q 'not-the-secret' err"
is "$(entries)" "2" "errors: never cached"
"$C" fetch -H 'A: b' $U > /dev/null 2> err
is "$?" "2" "-H with s3://: a usage error"
"$C" fetch s3://lake/exports/ > /dev/null 2> err
is "$?" "2" "a prefix, not an object: a usage error"

# ---- settings: flags > environment > configuration file ----
# forget: no entry to serve, so the next fetch asks the store.
forget() { "$C" rm "$KEY" > /dev/null 2>&1; }
EP=$S3_EP
unset AWS_ENDPOINT_URL
BAD=http://127.0.0.1:9
is "$(forget; "$C" fetch --endpoint-url "$EP" $U)" \
	'{"eur":1.10}' "--endpoint-url: the store named by the flag"
printf 's3_endpoint_url = %s\ns3_attempts = 1\n' "$EP" > conf
is "$(forget; ICE_CONFIG=conf "$C" fetch $U)" '{"eur":1.10}' "s3_endpoint_url: from the configuration file"
printf 's3_endpoint_url = %s\ns3_attempts = 1\n' "$BAD" > conf-bad
is "$(forget; ICE_CONFIG=conf-bad AWS_ENDPOINT_URL=$EP "$C" fetch $U)" '{"eur":1.10}' \
	"AWS_ENDPOINT_URL beats s3_endpoint_url"
forget; ICE_CONFIG=conf AWS_ENDPOINT_URL=$BAD "$C" fetch $U > /dev/null 2> err
is "$?" "1" "s3_endpoint_url is beaten by AWS_ENDPOINT_URL (here a bad one)"
is "$(forget; ICE_CONFIG=conf-bad AWS_ENDPOINT_URL=$BAD "$C" fetch --endpoint-url "$EP" $U)" \
	'{"eur":1.10}' "--endpoint-url beats both"
printf 's3_endpoint_url = %s\ns3_anonymous = yes\n' "$EP" > conf-anon
forget; ICE_CONFIG=conf-anon "$C" fetch $U > /dev/null 2> err
is "$?" "1" "s3_anonymous: unsigned, refused by this store"
is "$(s3_requests 'refused: no Authorization header')" "1" "s3_anonymous: sent without Authorization"
printf 's3_endpoint_url = %s\ns3_path_style = false\ns3_attempts = 1\n' "$EP" > conf-vhost
forget; ICE_CONFIG=conf-vhost "$C" fetch --timeout 5s $U > /dev/null 2> err
like "$(cat err)" "lake.127.0.0.1" "s3_path_style = false: the bucket in the host name"
mkdir -p home/.aws
printf '[prod]\naws_access_key_id = AKTOK\naws_secret_access_key = sek\naws_session_token = TOKEN123\n' \
	> home/.aws/credentials
printf 's3_endpoint_url = %s\ns3_profile = prod\n' "$EP" > conf-prof
forget; ICE_CONFIG=conf-prof env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	"$C" fetch -v $U > /dev/null 2> err
like "$(cat err)" "credentials: profile prod" "s3_profile: the keys of that profile"
forget; ICE_CONFIG=conf-prof "$C" fetch -v $U > /dev/null 2> err
like "$(cat err)" "credentials: environment" "s3_profile: keys in the environment win"
forget; ICE_CONFIG=conf-prof env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	"$C" fetch -v --profile nope $U > /dev/null 2> err
like "$(cat err)" "AWS profile 'nope' not found" "--profile beats s3_profile"
forget; ICE_CONFIG=conf AWS_MAX_ATTEMPTS=0 "$C" fetch $U > /dev/null 2> err
is "$?" "2" "AWS_MAX_ATTEMPTS=0: a usage error"
printf 's3_path_style = maybe\n' > conf-junk
forget; ICE_CONFIG=conf-junk "$C" fetch $U > /dev/null 2> err
is "$?" "2" "a bad s3_path_style: a usage error"
like "$(cat err)" "conf-junk:1: s3_path_style: want true or false, not 'maybe'" "a bad value: file and line"
done_testing
