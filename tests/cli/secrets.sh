#!/bin/sh
# secrets: recognisable secret values (the S3 secret key and session
# token, a Redis password in the cache URL, a catalog token) never appear on
# standard output or standard error of any program: in normal runs, in
# errors (403, wrong password, bad flags, bad configuration), in --verbose
# summaries, and in what ice-stat shows. Every run's output is kept and
# searched at the end; each run is also checked to have done what it
# should, so an empty output cannot pass for a clean one.
. "$top_srcdir/tests/cli/lib.sh"

start_s3 lake
command -v redis-server > /dev/null || skip_all "redis-server not installed (scripts/setup installs it)"
cd "$TMP" || exit 1
B="$top_builddir"

# The secrets. The S3 ones are the keys the verifying proxy knows (start_s3).
S3_SECRET='secret/key+1'
S3_TOKEN=TOKEN123
REDIS_PASSWORD='Pa55-redis-Wq7z'
CATALOG_TOKEN='cat-tok-R8x2Lm'
ICE_CATALOG_TOKEN=$CATALOG_TOKEN # read by the catalog client; set for every run
export ICE_CATALOG_TOKEN

port=$(free_ports 1)
redis-server --port "$port" --bind 127.0.0.1 --requirepass "$REDIS_PASSWORD" --save '' \
	--appendonly no --dir "$TMP" > redis.log 2>&1 &
track_pid $!
wait_for 10 sh -c "redis-cli -p $port --no-auth-warning -a '$REDIS_PASSWORD' ping | grep -q PONG" ||
	{ echo "Bail out! redis-server did not start"; exit 1; }
URL="redis://:$REDIS_PASSWORD@127.0.0.1:$port/0"
BADURL="redis://:wrong-$REDIS_PASSWORD@127.0.0.1:$port/0"
ICE_CACHE_URL=$URL
export ICE_CACHE_URL

n=0
# run EXPECTED-STATUS DESCRIPTION COMMAND...: run it, keep its stdout and
# stderr as out.N and err.N, check its exit status.
run() {
	_want=$1 _what=$2
	shift 2
	n=$((n + 1))
	"$@" > "out.$n" 2> "err.$n" < /dev/null
	is "$?" "$_want" "$_what: exit $_want"
}
# last_err PATTERN DESCRIPTION: the last run's stderr says PATTERN.
last_err() { like "$(cat "err.$n")" "$1" "$2"; }

# A table in S3 and the same on disk.
"$MKTABLE" create t --format-version 2 --seed 8 --location s3://lake/wh/db/t > /dev/null
"$MKTABLE" append t --files 3 > /dev/null
"$MKTABLE" append t --files 1 > /dev/null
s3_put t wh/db/t/ || { echo "Bail out! seeding failed"; exit 1; }
printf '{"eur":1.08}' > rates.json
s3_put . exports/ > /dev/null 2>&1

# ---- ice-snapshot on S3: normal, --verbose, session token, profile ----
run 0 "snapshot show -v" "$B/ice-snapshot" -v show s3://lake/wh/db/t
last_err "credentials: environment (AWS_ACCESS_KEY_ID)" "snapshot -v: the summary names the source"
run 0 "snapshot log -v, session token" env AWS_ACCESS_KEY_ID=AKTOK AWS_SECRET_ACCESS_KEY=sek \
	AWS_SESSION_TOKEN=$S3_TOKEN "$B/ice-snapshot" -v --no-object-cache log s3://lake/wh/db/t
run 0 "snapshot watch --once -v" "$B/ice-snapshot" -v watch --once s3://lake/wh/db/t
mkdir -p home/.aws
printf '[prod]\naws_access_key_id = AKTOK\naws_secret_access_key = sek\naws_session_token = %s\n' \
	"$S3_TOKEN" > home/.aws/credentials
run 0 "snapshot -v, keys from a profile" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	"$B/ice-snapshot" -v --profile prod --no-object-cache show s3://lake/wh/db/t
last_err "credentials: profile prod" "profile: the source is named"

# ---- ice-snapshot errors: 403, wrong keys, bad flags, bad configuration ----
curl -s -o /dev/null -X POST --data '{"kind":"deny","match":"version-hint","count":1}' \
	"$S3_EP/__ctl/fault"
run 1 "snapshot: 403" "$B/ice-snapshot" -v show s3://lake/wh/db/t
last_err "credentials: environment (AWS_ACCESS_KEY_ID)" "403: the source, not the key"
run 1 "snapshot: a wrong token" env AWS_ACCESS_KEY_ID=AKTOK AWS_SECRET_ACCESS_KEY=sek \
	AWS_SESSION_TOKEN="x$S3_TOKEN" "$B/ice-snapshot" -v --no-object-cache show s3://lake/wh/db/t
run 1 "snapshot: a wrong secret" env AWS_SECRET_ACCESS_KEY="x$S3_SECRET" \
	"$B/ice-snapshot" --no-object-cache show s3://lake/wh/db/t
run 2 "snapshot: a bad flag" "$B/ice-snapshot" --frob show s3://lake/wh/db/t
run 2 "snapshot: a bad AWS_MAX_ATTEMPTS" env AWS_MAX_ATTEMPTS=x "$B/ice-snapshot" show s3://lake/wh/db/t
printf 'catalog_token = %s\ns3_anonymous = perhaps\n' "$CATALOG_TOKEN" > bad.conf
run 2 "snapshot: a bad configuration file holding a token" env ICE_CONFIG=bad.conf \
	"$B/ice-snapshot" show s3://lake/wh/db/t
run 3 "snapshot poll --state cache, a wrong password" "$B/ice-snapshot" poll --state cache \
	--url "$BADURL" t
run 1 "snapshot: half a key pair" env -u AWS_ACCESS_KEY_ID "$B/ice-snapshot" show s3://lake/wh/db/t

# ---- the pipeline with the password in the cache URL ----
"$B/ice-cache" put k --table db.t --value v > /dev/null 2>&1
run 0 "pipeline: snapshot | diff | invalidate" sh -c \
	"'$B/ice-snapshot' watch --once --from-start db.t=t | '$B/ice-diff' | '$B/ice-invalidate'"
like "$(cat "out.$n")" '"kind":"invalidated"' "pipeline: invalidated"
run 3 "invalidate: a wrong password" sh -c "echo '{}' | '$B/ice-invalidate' --url '$BADURL'"
run 2 "diff: a bad flag" "$B/ice-diff" --frob
run 2 "invalidate: a bad flag" "$B/ice-invalidate" --frob --url "$URL"

# ---- ice-cache: entries, fetch s3:// (normal, -v, 403), wrong password ----
run 0 "cache put" "$B/ice-cache" put k2 --value v2
run 0 "cache get" "$B/ice-cache" get k2
run 0 "cache ls" "$B/ice-cache" ls
run 0 "cache info" "$B/ice-cache" info k2
run 0 "cache fetch s3:// -v" "$B/ice-cache" fetch -v s3://lake/exports/rates.json
last_err "storage: requests=1 retries=0 not_modified=0" "fetch -v: the summary"
run 0 "cache fetch s3:// -v again, session token" env AWS_ACCESS_KEY_ID=AKTOK \
	AWS_SECRET_ACCESS_KEY=sek AWS_SESSION_TOKEN=$S3_TOKEN \
	"$B/ice-cache" fetch -v s3://lake/exports/rates.json
curl -s -o /dev/null -X POST --data '{"kind":"deny","match":"rates","count":1}' "$S3_EP/__ctl/fault"
run 1 "cache fetch s3://: 403" "$B/ice-cache" fetch -v s3://lake/exports/rates.json
run 1 "cache fetch s3://: a wrong secret" env AWS_SECRET_ACCESS_KEY="x$S3_SECRET" \
	"$B/ice-cache" fetch s3://lake/exports/other.json
run 3 "cache get: a wrong password" "$B/ice-cache" --url "$BADURL" get k2
run 2 "cache: a bad flag" "$B/ice-cache" --frob get k2

# ---- ice-stat: every view, and a wrong password ----
run 0 "stat" "$B/ice-stat"
run 0 "stat --json" "$B/ice-stat" --json
run 0 "stat --prometheus" "$B/ice-stat" --prometheus
like "$(cat "out.$n")" "icecache_" "stat --prometheus: the metrics"
run 3 "stat: a wrong password" "$B/ice-stat" --url "$BADURL"
run 2 "stat: a bad flag" "$B/ice-stat" --frob

# ---- no secret anywhere ----
for s in "$S3_SECRET" "$S3_TOKEN" "$REDIS_PASSWORD" "$CATALOG_TOKEN" sek; do
	hits=$(grep -l -F -- "$s" out.* err.* 2> /dev/null | tr '\n' ' ')
	is "$hits" "" "'$s' appears in no output of the $n runs"
done
done_testing
