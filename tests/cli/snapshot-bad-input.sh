#!/bin/sh
# snapshot-bad-input: broken tables and bad flags give one clear line on
# stderr naming the program and the input, a documented exit status, and
# no crash; other tables in the same run are still reported.
. "$top_srcdir/tests/cli/lib.sh"

S="$ICE_SNAPSHOT"

# A minimal valid table written by hand (no manifests needed to show it).
good="$TMP/db/good"
mkdir -p "$good/metadata"
cat > "$good/metadata/v1.metadata.json" <<'JSON'
{"format-version":2,"table-uuid":"11111111-2222-3333-4444-555555555555","location":"s3://b/db/good",
 "last-sequence-number":1,"last-updated-ms":1700000000000,"current-schema-id":0,
 "schemas":[{"schema-id":0,"type":"struct","fields":[]}],"default-spec-id":0,
 "partition-specs":[{"spec-id":0,"fields":[]}],"current-snapshot-id":7777777777777777776,
 "snapshots":[{"snapshot-id":7777777777777777776,"sequence-number":1,"timestamp-ms":1700000000000,
   "summary":{"operation":"append"},"manifest-list":"s3://b/db/good/metadata/snap.avro"}]}
JSON
echo 1 > "$good/metadata/version-hint.text"

# bad_table NAME CONTENT: a table whose only metadata file holds CONTENT.
bad_table() {
	mkdir -p "$TMP/db/$1/metadata"
	printf '%s' "$2" > "$TMP/db/$1/metadata/v1.metadata.json"
	echo "$TMP/db/$1"
}

# expect_error DESCRIPTION STATUS MESSAGE-PART ARGS...
expect_error() {
	_desc=$1 _want=$2 _part=$3
	shift 3
	"$S" "$@" > "$TMP/out" 2> "$TMP/err"
	is "$?" "$_want" "$_desc: exit $_want"
	_msg=$(cat "$TMP/err")
	like "$_msg" "ice-snapshot: error: " "$_desc: message names the program"
	like "$_msg" "$_part" "$_desc: message says '$_part'"
	is "$(head -n 1 "$TMP/err" | wc -l | tr -d ' ')" "1" "$_desc: message is one line"
}

expect_error "missing table" 1 "$TMP/nope: No such file or directory" show "$TMP/nope"
expect_error "not a table" 1 "not an Iceberg table" show "$TMP"
t=$(bad_table malformed '{"format-version": 2, "location": ')
expect_error "malformed JSON" 1 "v1.metadata.json:1:" show "$t"
t=$(bad_table future '{"format-version":4,"table-uuid":"u","location":"/x"}')
expect_error "unknown format version" 1 "unsupported format-version 4" show "$t"
t=$(bad_table nolocation '{"format-version":2,"table-uuid":"u","schemas":[],"partition-specs":[]}')
expect_error "missing field" 1 "missing or invalid field 'location'" show "$t"
t=$(bad_table nosnapid '{"format-version":2,"table-uuid":"u","location":"/x","schemas":[],"partition-specs":[],"snapshots":[{"timestamp-ms":1,"summary":{"operation":"append"},"manifest-list":"m"}]}')
expect_error "snapshot without id" 1 "snapshots[0]: missing or invalid field 'snapshot-id'" show "$t"
t=$(bad_table empty '')
expect_error "empty metadata file" 1 "v1.metadata.json" show "$t"
mkdir -p "$TMP/db/hint/metadata"
cp "$good/metadata/v1.metadata.json" "$TMP/db/hint/metadata/"
echo 7 > "$TMP/db/hint/metadata/version-hint.text"
expect_error "version hint naming nothing" 1 "names version '7' but no such metadata file exists" show "$TMP/db/hint"
mkdir -p "$TMP/db/dirfile/metadata/v1.metadata.json"
expect_error "metadata that is a folder" 1 "v1.metadata.json" show "$TMP/db/dirfile"
mkdir -p "$TMP/db/trunc/metadata"
seq 1 5000 | gzip -c | head -c 300 > "$TMP/db/trunc/metadata/v1.gz.metadata.json"
expect_error "truncated gzip metadata" 1 "v1.gz.metadata.json" show "$TMP/db/trunc"

# One bad table among good ones: the good ones are still shown.
"$S" show "$good" "$TMP/nope" "$good" > "$TMP/out" 2> "$TMP/err"
is "$?" "1" "mixed good and bad: exit 1"
is "$(wc -l < "$TMP/out" | tr -d ' ')" "2" "mixed good and bad: both good tables shown"
is "$(wc -l < "$TMP/err" | tr -d ' ')" "1" "mixed good and bad: one error line"

# Usage errors: exit 2 and a pointer to --help.
expect_error "unknown option" 2 "Try 'ice-snapshot --help'" show --bogus "$good"
expect_error "unknown command" 2 "unknown command 'shwo'" shwo "$good"
expect_error "no table" 2 "no TABLE given" show
expect_error "bad count" 2 "--count: 'abc' is not a positive number" watch --count abc "$good"
expect_error "bad interval" 2 "--interval: bad duration '5x'" watch --interval 5x "$good"
expect_error "poll without state" 2 "poll needs --state PATH" poll "$good"
expect_error "flag of another command" 2 "--all is for log" show --all "$good"
expect_error "--url without --state cache" 2 "--url and --prefix go with poll --state cache" show --url redis://x "$good"
expect_error "--name with two tables" 2 "--name applies to a single TABLE" show --name x "$good" "$good"
# Records carry a table's name and paths as JSON text: bytes that are not
# UTF-8 there are refused (the record came out without the field).
expect_error "a name that is not UTF-8" 2 "a table's name and path must be UTF-8" \
	show --name "$(printf 'db.caf\351')" "$good"
oddpath=$TMP/$(printf 'w\351')/db/good
mkdir -p "$oddpath" && cp -r "$good/metadata" "$oddpath/"
expect_error "a path that is not UTF-8" 2 "a table's name and path must be UTF-8" show "$oddpath"

# A closed pipe is not an error worth a message.
for i in 1 2 3 4 5 6; do cp "$good/metadata/v1.metadata.json" "$TMP/db/good/metadata/x$i.json"; done
"$S" show "$good" "$good" "$good" "$good" 2> "$TMP/err" | head -c 10 > /dev/null
is "$(cat "$TMP/err")" "" "closed stdout: no message"
"$S" show "$good" > /dev/full 2> "$TMP/err"
is "$?" "1" "full disk on stdout: exit 1"
like "$(cat "$TMP/err")" "ice-snapshot: error: write error" "full disk on stdout: reported"

# Help and version go to stdout and exit 0.
"$S" --help > "$TMP/out" 2>&1
is "$?" "0" "--help exits 0"
like "$(cat "$TMP/out")" "Usage: ice-snapshot" "--help prints usage"
"$S" --version > "$TMP/out" 2>&1
like "$(cat "$TMP/out")" "jansson 2." "--version lists library versions"

done_testing
