#!/bin/sh
# snapshot-s3: ice-snapshot show and log on tables in a real S3 server
# (behind the botocore-verifying proxy, see start_s3) print what they print
# for the same tables on disk, paths aside: version-hint.text, the listing
# of metadata/ without a hint, a metadata file given directly; metadata
# files come from the object cache the second time; an idle watch poll is
# one conditional GET of the pointer answered 304 without a body, and a
# new commit is reported.
. "$top_srcdir/tests/cli/lib.sh"

start_s3 lake
cd "$TMP" || exit 1
SNAP="$top_builddir/ice-snapshot"
# The records without the fields that name where the table was read.
sans_paths() { python3 -c 'import json, sys
for line in sys.stdin:
    r = json.loads(line)
    r.pop("metadata_file", None); r.pop("table_path", None)
    print(json.dumps(r, sort_keys=True))'; }

"$MKTABLE" create hinted --format-version 2 --seed 2 --location s3://lake/wh/db/hinted > /dev/null
"$MKTABLE" append hinted --files 2 > /dev/null
"$MKTABLE" append hinted --files 1 > /dev/null
"$MKTABLE" create bare --naming uuid --hint none --seed 9 --location s3://lake/wh/db/bare > /dev/null
"$MKTABLE" append bare --files 1 > /dev/null
"$MKTABLE" append bare --files 3 > /dev/null
if ! { s3_put hinted wh/db/hinted/ && s3_put bare wh/db/bare/; }; then
	echo "Bail out! seeding failed"
	exit 1
fi

for t in hinted bare; do
	"$SNAP" show "db.$t=$t" | sans_paths > "local-$t"
	"$SNAP" show "s3://lake/wh/db/$t" > "remote-$t.raw" 2> err
	is "$?" "0" "show s3://$t: exit 0"
	sans_paths < "remote-$t.raw" > "remote-$t"
	check "show s3://$t: the local record, paths aside" cmp -s "local-$t" "remote-$t"
	"$SNAP" log "db.$t=$t" | sans_paths > "log-local-$t"
	"$SNAP" log "s3a://lake/wh/db/$t" | sans_paths > "log-remote-$t"
	check "log s3a://$t: the local history, paths aside" cmp -s "log-local-$t" "log-remote-$t"
done
is "$($JSONQ 'r["table"], r["table_path"]' < remote-hinted.raw)" "('db.hinted', 's3://lake/wh/db/hinted')" \
	"show: the table named and located by its URI"
like "$($JSONQ 'r["metadata_file"]' < remote-hinted.raw)" "s3://lake/wh/db/hinted/metadata/v3.metadata.json" \
	"show: the hint's metadata file"
is "$(s3_requests 'GET /lake/wh/db/hinted/metadata/version-hint.text 200')" "2" \
	"hinted: version-hint.text read (fresh each time)"
is "$(s3_requests 'prefix=wh/db/bare/metadata/')" "2" "no hint: metadata/ listed"
is "$(s3_requests 'refused')" "0" "every request passed botocore's signature check"

# The object cache: metadata files are fetched once.
is "$(s3_requests 'GET /lake/wh/db/hinted/metadata/v3.metadata.json')" "1" \
	"object cache: the metadata file fetched once for show and log (s3:// and s3a://)"

mfile=$($JSONQ 'r["metadata_file"]' < remote-bare.raw)
"$SNAP" show "$mfile" | sans_paths > given
check "show METADATA-URI: the same record" cmp -s remote-bare given

# watch: an idle poll is one conditional GET of the pointer, answered 304
# without a body; a commit is seen.
: > proxy.log
"$SNAP" watch --interval 200ms s3://lake/wh/db/hinted > watch.out 2> watch.err &
wpid=$!
track_pid $wpid
check "watch s3://: starts with the current snapshot" wait_for 20 sh -c "grep -q '\"event\":' watch.out"
hint304='GET /lake/wh/db/hinted/metadata/version-hint.text 304 0'
check "watch s3://: polls the pointer with If-None-Match, answered 304 without a body" \
	wait_for 20 sh -c "[ \$(grep -c '$hint304' proxy.log) -ge 3 ]"
all=$(wc -l < proxy.log)
check "watch s3://: idle polls go on" \
	wait_for 20 sh -c "[ \$(tail -n +$((all + 1)) proxy.log | grep -c '$hint304') -ge 3 ]"
is "$(tail -n +$((all + 1)) proxy.log | grep -vc "$hint304")" "0" \
	"watch s3://: an idle poll is that one request and nothing else"
is "$(s3_requests 'HEAD /lake/wh/db/hinted/metadata/version-hint.text')" "1" \
	"watch s3://: one HEAD of the pointer in all (the first poll, before any ETag)"
"$MKTABLE" append hinted --files 1 > /dev/null
s3_put hinted wh/db/hinted/
check "watch s3://: a new commit in S3 is reported" \
	wait_for 20 sh -c "grep -q '\"event\":\"new\"' watch.out"
kill $wpid

"$SNAP" show s3://lake/wh/db/none > /dev/null 2> err
is "$?" "1" "missing table: exit 1"
like "$(cat err)" "s3://lake/wh/db/none/metadata" "missing table: the URI named"
AWS_SECRET_ACCESS_KEY=bad "$SNAP" show s3://lake/wh/db/hinted > /dev/null 2> err
like "$(cat err)" "access denied" "wrong key: access denied"
check "wrong key: the secret is never printed" sh -c "! grep -q 'secret/key' err"
done_testing
