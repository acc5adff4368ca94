#!/bin/sh
# snapshot-watch: ice-snapshot watch on tables being committed to by
# ice-mktable while it runs: each commit once and in order (several between
# two polls too), rollback, recreate, half-written metadata, a missing table,
# --once, --count, signals and a closed pipe.
. "$top_srcdir/tests/cli/lib.sh"

S="$ICE_SNAPSHOT"
t="$TMP/wh/db/orders"
out="$TMP/watch.out"

"$MKTABLE" create "$t" --seed 1 > /dev/null
"$MKTABLE" append "$t" --files 3 > /dev/null

# snapshot ids of the current branch, oldest first
branch_ids() { "$S" log "$t" | $JSONQ 'r["snapshot_id"]'; }
events() { $JSONQ 'r.get("event", r["kind"])' < "$out" | tr '\n' ' '; }

"$S" watch --interval 200ms "$t" > "$out" 2> "$TMP/watch.err" &
pid=$!
track_pid $pid
check "watch: first poll prints the current snapshot" wait_for 10 test -s "$out"
is "$(events)" "current " "watch: first record is event current"

# Three commits between two polls.
kill -STOP $pid
"$MKTABLE" append "$t" --files 1 > /dev/null
"$MKTABLE" delete "$t" --files 1 > /dev/null
"$MKTABLE" overwrite "$t" --files 1 --add 2 > /dev/null
kill -CONT $pid
check "watch: three commits arrive" wait_for 10 sh -c "[ \$(wc -l < '$out') -ge 4 ]"
sleep 0.5
is "$(events)" "current new new new " "watch: each commit once"
want=$(branch_ids | tail -n 3 | tr '\n' ' ')
got=$(tail -n 3 "$out" | $JSONQ 'r["snapshot_id"]' | tr '\n' ' ')
is "$got" "$want" "watch: in commit order"
got=$(tail -n 3 "$out" | $JSONQ 'r["previous_snapshot_id"] == r["parent_id"]' | tr '\n' ' ')
is "$got" "true true true " "watch: previous snapshot is the parent for commits on the branch"
is "$(tail -n 3 "$out" | $JSONQ 'r["operation"]' | tr '\n' ' ')" "append delete overwrite " \
	"watch: operations as committed"

# Rollback to the first snapshot.
first=$(branch_ids | head -n 1)
last=$(branch_ids | tail -n 1)
"$MKTABLE" rollback "$t" --to "$first" > /dev/null
check "watch: rollback reported" wait_for 10 sh -c "grep -q '\"event\":\"rollback\"' '$out'"
is "$(grep '"rollback"' "$out" | $JSONQ '(r["snapshot_id"], r["previous_snapshot_id"])')" \
	"($first, $last)" "watch: rollback record goes from the last seen to the new current"

# Half-written metadata: an error record, the watch goes on.
# shellcheck disable=SC2010 # names ice-mktable wrote: plain
n=$(ls "$t/metadata" | grep -c '^v[0-9]*\.metadata\.json$')
next=$((n + 1))
# The hint is replaced by rename, never truncated in place, so a poll never
# reads it empty; and it is restored before the broken file goes, so no poll
# can see a hint naming a missing file: one lasting error, never a second.
set_hint() {
	echo "$1" > "$t/metadata/hint.tmp" && mv "$t/metadata/hint.tmp" "$t/metadata/version-hint.text"
}
head -c 100 "$t/metadata/v$n.metadata.json" > "$t/metadata/v$next.metadata.json"
set_hint "$next"
check "watch: half-written metadata gives an error record" \
	wait_for 10 sh -c "grep -q '\"kind\":\"error\"' '$out'"
like "$(cat "$TMP/watch.err")" "ice-snapshot: error: " "watch: error also on stderr"
set_hint "$n"
rm "$t/metadata/v$next.metadata.json"
"$MKTABLE" append "$t" --files 1 > /dev/null
check "watch: goes on after the error" \
	wait_for 10 sh -c "tail -n 1 '$out' | grep -q '\"event\":\"new\"'"
is "$(grep -c '"kind":"error"' "$out")" "1" "watch: a lasting error is reported once"

# Dropped and recreated at the same place.
"$MKTABLE" recreate "$t" --seed 7 > /dev/null
check "watch: recreated table reported" wait_for 10 sh -c "grep -q '\"event\":\"recreated\"' '$out'"
kill -TERM $pid
wait $pid
is "$?" "0" "watch: SIGTERM ends it with status 0"

# An idle poll reads no metadata: count openat calls on metadata files.
if command -v strace > /dev/null; then
	strace -f -e trace=openat -o "$TMP/strace" "$S" watch --interval 100ms --count 1000 "$t" \
		> /dev/null 2>&1 &
	spid=$!
	sleep 1.5
	# strace does not pass signals on: stop the traced watch itself.
	pkill -TERM -P $spid 2> /dev/null
	wait $spid
	reads=$(grep -c 'metadata\.json' "$TMP/strace")
	is "$reads" "1" "watch: idle polls do not read metadata (read once in ~14 polls)"
fi

# A table missing at start: error record, then picked up when it appears.
m="$TMP/wh/db/later"
"$S" watch --interval 200ms "$m" > "$TMP/later.out" 2> /dev/null &
pid=$!
track_pid $pid
check "watch: missing table gives an error record" \
	wait_for 10 sh -c "grep -q '\"kind\":\"error\"' '$TMP/later.out'"
"$MKTABLE" create "$m" --seed 3 > /dev/null
"$MKTABLE" append "$m" --files 1 > /dev/null
check "watch: table picked up once it exists" \
	wait_for 10 sh -c "grep -q '\"kind\":\"snapshot\"' '$TMP/later.out'"
kill -INT $pid
wait $pid
is "$?" "0" "watch: SIGINT ends it with status 0"

# --once and --count.
is "$("$S" watch --once "$t" "$m" | wc -l | tr -d ' ')" "2" "watch --once: one poll of both tables"
is "$("$S" watch --from-start --count 2 "$m" "$t" | wc -l | tr -d ' ')" "2" "watch --count 2: two records"

# A closed pipe ends an idle watch.
( "$S" watch --interval 100ms "$t" | head -n 1 > /dev/null ) &
pipe_pid=$!
check "watch: ends when its reader goes away" wait_for 10 sh -c "! kill -0 $pipe_pid 2> /dev/null"

done_testing
