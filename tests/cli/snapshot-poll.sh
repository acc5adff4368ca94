#!/bin/sh
# snapshot-poll: the cron mode. Each commit is emitted once across runs, the
# cursor is saved atomically and only after the output went out, several
# tables share one cursor file, and concurrent runs are refused.
. "$top_srcdir/tests/cli/lib.sh"

S="$ICE_SNAPSHOT"
a="$TMP/wh/db/a"
b="$TMP/wh/db/b"
state="$TMP/cursors.json"
"$MKTABLE" create "$a" --seed 11 > /dev/null
"$MKTABLE" create "$b" --seed 12 --format-version 1 > /dev/null
"$MKTABLE" append "$a" --files 2 > /dev/null

poll() { "$S" poll --state "$state" "$a" "$b"; }

poll > "$TMP/1" 2> "$TMP/err"
is "$?" "0" "first poll: exit 0"
is "$($JSONQ 'r["event"]' < "$TMP/1" | tr '\n' ' ')" "current current " "first poll: current snapshot of each table"
is "$($JSONQ 'r["snapshot_id"]' < "$TMP/1" | tail -n 1)" "null" "first poll: an empty table says so"
check "first poll: cursor file written" test -s "$state"

is "$(poll | wc -l | tr -d ' ')" "0" "second poll: nothing new"

"$MKTABLE" append "$a" --files 1 > /dev/null
"$MKTABLE" delete "$a" --files 1 > /dev/null
"$MKTABLE" append "$b" --files 1 > /dev/null
poll > "$TMP/3"
is "$($JSONQ 'r["table"] + ":" + r["event"] + ":" + r["operation"]' < "$TMP/3" | tr '\n' ' ')" \
	"db.a:new:append db.a:new:delete db.b:new:append " "third poll: every commit since, per table, in order"
is "$(sed -n 1p "$TMP/3" | $JSONQ 'r["previous_snapshot_id"] == r["parent_id"]')" "true" \
	"third poll: first record starts at the saved cursor"
is "$(sed -n 3p "$TMP/3" | $JSONQ 'r["previous_snapshot_id"]')" "null" \
	"third poll: first commit of a table that was empty starts at the empty table"
is "$(poll | wc -l | tr -d ' ')" "0" "fourth poll: nothing new"

# Output that cannot be written leaves the cursor where it was.
"$MKTABLE" append "$a" --files 1 > /dev/null
cp "$state" "$TMP/state.before"
poll > /dev/full 2> "$TMP/err"
is "$?" "1" "poll to a full disk: exit 1"
check "poll to a full disk: cursor unchanged" cmp -s "$state" "$TMP/state.before"
is "$(poll | wc -l | tr -d ' ')" "1" "next poll: the commit is delivered again (at least once)"

# One unreadable table does not hold back the others.
"$MKTABLE" append "$a" --files 1 > /dev/null
"$S" poll --state "$state" "$a" "$TMP/missing" > "$TMP/5" 2> "$TMP/err"
is "$?" "1" "poll with a missing table: exit 1"
is "$(grep -c '"kind":"snapshot"' "$TMP/5")" "1" "poll with a missing table: the other table's commit is out"
is "$(grep '"kind":"error"' "$TMP/5" | $JSONQ 'r["table_path"]')" "$TMP/missing" \
	"poll with a missing table: an error record names it (a pipeline invalidates it whole)"
is "$(poll | wc -l | tr -d ' ')" "0" "poll with a missing table: the other cursor moved"

# --from-start on a fresh cursor file: the whole history.
n=$("$S" log "$a" | wc -l | tr -d ' ')
is "$("$S" poll --from-start --state "$TMP/fresh.json" "$a" | wc -l | tr -d ' ')" "$n" \
	"--from-start: the whole branch history"

# Concurrent runs are refused while one holds the lock.
if command -v flock > /dev/null; then
	flock "$state.lock" sleep 2 &
	sleep 0.3
	poll > /dev/null 2> "$TMP/err"
	is "$?" "1" "poll while locked: exit 1"
	like "$(cat "$TMP/err")" "held by another process" "poll while locked: says why"
	wait
fi

# A damaged cursor file is an error, not a silent restart.
echo '{"format":"icecache-cursors",' > "$TMP/bad.json"
"$S" poll --state "$TMP/bad.json" "$a" > /dev/null 2> "$TMP/err"
is "$?" "1" "damaged cursor file: exit 1"
like "$(cat "$TMP/err")" "bad.json:" "damaged cursor file: named"

# The cursor file is what the man page says.
is "$($JSONQ 'sorted(r["tables"])' --doc < "$state")" '["db.a","db.b"]' "cursor file: one entry per table name"

done_testing
