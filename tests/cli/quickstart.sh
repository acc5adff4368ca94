#!/bin/sh
# quickstart: the main job README's first command runs (scripts/quickstart),
# on the programs of this build, in a temp folder: the pipeline keeps the
# cache exact (the entries on the table and on the deleted file go, the one
# on a kept file stays), with nothing on standard error; then the same on
# the table in a local S3 server when s3rver is installed.
. "$top_srcdir/tests/cli/lib.sh"

# run_quickstart NAME [--s3]: its output in $TMP/NAME.out and .err, status in $rc.
run_quickstart() {
	_name=$1
	shift
	ICE_QUICKSTART_BIN=$(cd "$top_builddir" && pwd) ICE_QUICKSTART_DIR="$TMP/$_name" \
		"$top_srcdir/scripts/quickstart" "$@" > "$TMP/$_name.out" 2> "$TMP/$_name.err"
	rc=$?
}

# expect_main_job NAME: what the main job must show.
expect_main_job() {
	out=$(cat "$TMP/$1.out")
	is "$rc:$(cat "$TMP/$1.err")" "0:" "$1: exit 0, nothing on standard error (no warning either)"
	like "$out" "(append)
  added    data" "$1: ice-snapshot poll | ice-diff lists a commit and its added files"
	like "$out" "(delete)
  removed  data" "$1: and a delete with its removed files"
	like "$out" '"event":"new"' "$1: watch reports the commit that landed while it watched"
	like "$out" "invalidated:  orders report" "$1: the entry on the table is invalidated by the commit"
	like "$out" "invalidated:  rows of a file that will be deleted" "$1: the entry on the deleted file too"
	like "$out" "still cached: rows of a file that stays" "$1: the entry on a file that stays is still served"
}

run_quickstart local
expect_main_job local
check "local: the cache is the embedded default in the work folder" \
	test -s "$TMP/local/cache/icecache/cache.db"

if [ -d "$top_srcdir/tests/s3/node_modules/s3rver" ] && command -v node > /dev/null; then
	run_quickstart s3 --s3
	expect_main_job s3
	like "$out" "s3://demo/warehouse/shop/orders" "s3: every program read the table from the S3 server"
else
	for _i in 1 2 3 4 5 6 7 8; do skip "s3rver not installed in tests/s3 (scripts/setup installs it)"; done
fi

done_testing
