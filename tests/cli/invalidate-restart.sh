#!/bin/sh
# invalidate-restart: `ice-snapshot watch | ice-diff | ice-invalidate` keeps
# running while Redis (with an append-only file) is killed with SIGKILL and
# started again: a commit that lands while Redis is down is invalidated once
# it is back, nothing already invalidated comes back, and the rest of the
# cache is still served. Then a Redis that stays away ends the run with
# exit 3 after ICE_CACHE_RECONNECT, the cursor left before the lost commit.
. "$top_srcdir/tests/cli/lib.sh"

# shellcheck disable=SC2015 # skip unless both are installed
command -v redis-server > /dev/null && command -v redis-cli > /dev/null ||
	skip_all "redis-server/redis-cli not installed (scripts/setup installs them)"
INV="$top_builddir/ice-invalidate"
CACHE="$top_builddir/ice-cache"
sock="$TMP/redis.sock"
URL="unix://$sock"

start_redis() {
	redis-server --port 0 --unixsocket "$sock" --save '' --appendonly yes \
		--appendfsync always --dir "$TMP" >> "$TMP/redis.log" 2>&1 &
	rpid=$!
	track_pid $rpid
	wait_for 10 sh -c "redis-cli -s '$sock' PING 2>/dev/null | grep -q PONG"
}
start_redis || { echo "Bail out! redis-server did not start"; exit 1; }

t="$TMP/wh/db/r"
"$MKTABLE" create "$t" --seed 7 --partition "identity(category)" > /dev/null
"$MKTABLE" append "$t" --files 8 > /dev/null
"$MKTABLE" list "$t" > "$TMP/live"
# Three files in three different partitions (the writer spreads them).
parts=$($JSONQ '"/".join("%s=%s" % kv for kv in r["partition"].items())' < "$TMP/live" | sort -u)
p1=$(echo "$parts" | sed -n 1p)
p2=$(echo "$parts" | sed -n 2p)
p3=$(echo "$parts" | sed -n 3p)
[ -n "$p3" ] || { echo "Bail out! the table has fewer than 3 partitions"; exit 1; }
file_in() { grep -F "\"$(echo "$1" | cut -d= -f2)\"" "$TMP/live" | head -n 1 | $JSONQ 'r["file_path"]'; }
f1=$(file_in "$p1")
f2=$(file_in "$p2")

# The pipeline, in the background, for the whole test.
ICE_CACHE_RECONNECT=30s
export ICE_CACHE_RECONNECT
("$ICE_SNAPSHOT" watch --interval 100ms "$t" | "$ICE_DIFF" |
	"$INV" --url "$URL" > "$TMP/inv.out" 2> "$TMP/inv.err"; echo $? > "$TMP/inv.status") &
track_pid $!
check "pipeline: first snapshot seen" wait_for 10 grep -q '"kind":"invalidated"' "$TMP/inv.out"
# Entries put after the pipeline took the table's current state.
for p in "$p1" "$p2" "$p3"; do
	echo "value of $p" | "$CACHE" --url "$URL" put "entry $p" --partition "db.r:$p" ||
		echo "Bail out! ice-cache put failed"
done
alive() { "$CACHE" --url "$URL" get "entry $1" > /dev/null 2>&1; }
gone() { "$CACHE" --url "$URL" get "entry $1" > /dev/null 2>&1; [ $? -eq 1 ]; }

"$MKTABLE" delete "$t" --path "$f1" > /dev/null
check "commit 1 (Redis up): its partition's entry goes" wait_for 10 gone "$p1"

kill -KILL $rpid
wait $rpid 2> /dev/null
"$MKTABLE" delete "$t" --path "$f2" > /dev/null
sleep 0.5 # the watch sees the commit; ice-invalidate is now reconnecting
[ ! -s "$TMP/inv.status" ]
ok $? "Redis killed: the pipeline keeps running"
start_redis
ok $? "Redis restarted from its append-only file"
check "commit 2 (made while Redis was down): its entry goes once Redis is back" wait_for 20 gone "$p2"
check "commit 1's invalidation survived the restart" gone "$p1"
check "the untouched partition is still served" alive "$p3"
is "$(grep -c '"kind":"invalidated"' "$TMP/inv.out")" "3" \
	"one invalidated record per transition (first snapshot and two commits)"
[ ! -s "$TMP/inv.status" ]
ok $? "the pipeline is still running"

# A Redis that goes away for longer than ICE_CACHE_RECONNECT under an
# invalidator already connected: exit 3 after the budget, cursor unmoved.
inv_cursor() { redis-cli -s "$sock" GET "icecache:{db.r}:c:invalidated"; }
"$MKTABLE" append "$t" --files 1 > /dev/null
"$ICE_SNAPSHOT" show "$t" > "$TMP/snap"
check "the running pipeline goes on after the restart" wait_for 20 sh -c \
	"[ \$(grep -c '\"kind\":\"invalidated\"' '$TMP/inv.out') -ge 4 ]"
pkill -f "ice-snapshot watch --interval 100ms $t" # the pipeline ends here
wait_for 10 test -s "$TMP/inv.status"
status=$(cat "$TMP/inv.status")
is "$status" "0" "the pipeline ends cleanly when its watch stops"
# what went wrong, in the log
[ "$status" = 0 ] || sed 's/^/#   ice-invalidate: /' "$TMP/inv.err"
before=$(inv_cursor)
like "$before" '"snapshot_id"' "the invalidated cursor is kept in Redis"
"$MKTABLE" delete "$t" --path "$(file_in "$p3")" > /dev/null
"$ICE_DIFF" "$t" > "$TMP/last"
(sleep 1; cat "$TMP/last") | ICE_CACHE_RECONNECT=1s "$INV" --url "$URL" > /dev/null 2> "$TMP/err" &
lone=$!
sleep 0.3 # connected, waiting for its input
kill -KILL $rpid
wait $rpid 2> /dev/null
wait $lone
is "$?" "3" "Redis gone for longer than ICE_CACHE_RECONNECT: exit 3"
like "$(cat "$TMP/err")" "gave up reconnecting after 1000 ms" "and says why in one line"
start_redis
is "$(inv_cursor)" "$before" "the cursor did not move past the lost invalidation"
check "the lost invalidation's entry is still there to be redone" alive "$p3"
ICE_CACHE_RECONNECT=junk "$INV" --url "$URL" < /dev/null 2> "$TMP/err"
is "$?" "2" "a bad ICE_CACHE_RECONNECT is a usage error"

done_testing
