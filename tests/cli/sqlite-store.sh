#!/bin/sh
# sqlite-store: what only the embedded store has to prove from the command
# line: several processes at once (writers, readers and an invalidating
# pipeline on one file, none failing on a busy lock), a put killed with
# SIGKILL leaves a consistent file, and ice-cache migrate copies a cache to
# Redis and back.
. "$top_srcdir/tests/cli/lib.sh"

C="$top_builddir/ice-cache"
INV="$top_builddir/ice-invalidate"
ICE_TEST_BACKEND=sqlite
start_cache
# Five processes contend for one file on a 2-core CI machine that also runs
# other tests (under ASan in one build): give a busy lock longer than the
# 5 s default before calling it a failure.
mkdir -p "$XDG_CONFIG_HOME/icecache"
echo "command_timeout = 30s" > "$XDG_CONFIG_HOME/icecache/config"

# consistent: the file passes SQLite's own check, every tag row has its
# entry and the byte count matches the entries.
consistent() {
	[ "$(sql "PRAGMA integrity_check")" = ok ] &&
		[ "$(sql "SELECT COUNT(*) FROM tags t WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.ns = t.ns AND e.key = t.key)")" = 0 ] &&
		[ "$(sql "SELECT (SELECT value FROM store WHERE name = 'used_bytes') = (SELECT IFNULL(SUM(bytes), 0) FROM entries)")" = 1 ]
}

# ---- several processes at once ----
# Three writers put 60 entries each (tagged by file), a reader gets
# entries all along, and a pipeline invalidates two files many times over.
writer() {
	i=0
	while [ $i -lt 60 ]; do
		"$C" put "w$1-$i" --file "db.c:/wh/db.c/f$((i % 3))" --value "v$i" || echo "put w$1-$i failed: $?"
		i=$((i + 1))
	done > "$TMP/writer$1.out" 2>&1
}
reader() {
	i=0
	while [ $i -lt 120 ]; do
		"$C" get "w1-$((i % 60))" > /dev/null
		st=$?
		[ $st -le 1 ] || echo "get failed: $st"
		i=$((i + 1))
	done > "$TMP/reader.out" 2>&1
}
invalidator() {
	i=0
	while [ $i -lt 20 ]; do
		printf '%s\n' '{"kind":"file","table":"db.c","change":"removed","content":"data","file_path":"/wh/db.c/f0","partition_key":""}' \
			'{"kind":"diff","table":"db.c","from":1,"to":2,"scope":"files","data_preserving":false,"partitions":[]}' |
			"$INV" > /dev/null || echo "ice-invalidate failed: $?"
		i=$((i + 1))
	done > "$TMP/inval.out" 2>&1
}
# the pipeline has seen db.c once: the writers' tags name a known table
printf '%s\n' '{"kind":"diff","table":"db.c","from":0,"to":1,"scope":"files","data_preserving":false,"partitions":[]}' |
	"$INV" > /dev/null
writer 1 & p1=$!
writer 2 & p2=$!
writer 3 & p3=$!
reader & p4=$!
invalidator & p5=$!
track_pid "$p1 $p2 $p3 $p4 $p5"
wait $p1 $p2 $p3 $p4 $p5
is "$(cat "$TMP"/writer*.out "$TMP/reader.out" "$TMP/inval.out")" "" \
	"3 writers, a reader and an invalidating pipeline at once: no command failed"
is "$(sql "SELECT value FROM counters WHERE tbl = '' AND name = 'puts'")" "180" "all 180 puts counted"
printf '%s\n' '{"kind":"file","table":"db.c","change":"removed","content":"data","file_path":"/wh/db.c/f0","partition_key":""}' \
	'{"kind":"diff","table":"db.c","from":1,"to":2,"scope":"files","data_preserving":false,"partitions":[]}' |
	"$INV" > /dev/null
is "$("$C" ls --tag file:db.c:/wh/db.c/f0 | wc -l | tr -d ' '):$("$C" ls --tag file:db.c:/wh/db.c/f1 | wc -l | tr -d ' ')" "0:60" \
	"after a last invalidation: no entry on file f0 is left, all 60 on f1 are"
check "the file is consistent after the concurrent run" consistent

# ---- kill -9 in the middle of a put ----
# A value still arriving on a pipe: the put is killed before it commits;
# the old value stays, nothing of the new one is there. (Kills inside the
# transaction itself: test-sqlite, which kills a writer looping over puts
# and invalidations.)
"$C" put victim --table db.k --file db.k:f --value old
mkfifo "$TMP/fifo"
"$C" put victim --table db.k --file db.k:g < "$TMP/fifo" &
pp=$!
track_pid $pp
exec 3> "$TMP/fifo"
head -c 1000000 /dev/zero >&3
kill -9 $pp 2> /dev/null
wait $pp 2> /dev/null
exec 3>&-
is "$("$C" get victim)" "old" "put killed with SIGKILL: the old value is still served"
is "$("$C" ls --tag file:db.k:g | wc -l | tr -d ' ')" "0" "put killed: none of its tags were written"
check "put killed: the file is consistent" consistent
# A large invalidation killed mid-way: all or nothing.
i=0
while [ $i -lt 300 ]; do echo "x$i"; i=$((i + 1)); done > "$TMP/keys"
while read -r k; do "$C" put "$k" --table db.big --value v; done < "$TMP/keys"
printf '%s\n' '{"kind":"diff","table":"db.big","from":1,"to":2,"scope":"files","data_preserving":false,"partitions":[]}' |
	"$INV" > /dev/null &
ip=$!
sleep 0.05
kill -9 $ip 2> /dev/null
wait $ip 2> /dev/null
n=$("$C" ls --table db.big | wc -l | tr -d ' ')
case $n in 0 | 300) ok 0 "invalidation killed with SIGKILL: all or nothing ($n entries left)" ;;
*) ok 1 "invalidation killed with SIGKILL: all or nothing ($n entries left)" ;; esac
check "invalidation killed: the file is consistent" consistent

# ---- migrate, to Redis and back ----
"$C" put m1 --table db.m --file db.m:f1 --ttl 1h --value one
"$C" put m2 --tag user:bob --value two
"$C" get m1 > /dev/null
printf '%s\n' '{"kind":"diff","table":"db.m","from":7,"to":8,"scope":"files","data_preserving":false,"partitions":[]}' |
	"$INV" > /dev/null   # leaves a cursor for db.m
"$C" put m1 --table db.m --file db.m:f1 --ttl 1h --value one
out=$("$C" migrate "$CACHE_URL" "sqlite://$TMP/copy.db")
is "$(echo "$out" | $JSONQ '(r["kind"], r["metadata_kept"], r["counters_copied"], r["cursors"] >= 1)')" \
	"('migrated', True, True, True)" "migrate sqlite to sqlite: metadata, counters and cursors kept"
is "$("$C" --url "sqlite://$TMP/copy.db" info m1 | $JSONQ '(r["created_ms"], r["origin"], sorted(r["tags"]))')" \
	"$("$C" info m1 | $JSONQ '(r["created_ms"], r["origin"], sorted(r["tags"]))')" "migrate: created, origin and tags as in the source"
"$C" migrate "$CACHE_URL" 2> /dev/null
is "$?" "2" "migrate without TO_URL: exit 2"
"$C" migrate "$CACHE_URL" "unix://$TMP/nowhere.sock" 2> /dev/null
is "$?" "3" "migrate to an unreachable cache: exit 3"

if command -v redis-server > /dev/null && command -v redis-cli > /dev/null; then
	SQLITE_URL=$CACHE_URL
	ICE_TEST_BACKEND=redis
	start_cache
	# an entry over two tables: Redis's layout holds it too (with a guard)
	"$C" --url "$SQLITE_URL" put j --table db.m --table db.n --value joined 2> /dev/null
	"$C" migrate "$SQLITE_URL" "$CACHE_URL" > "$TMP/m.out"
	is "$?:$($JSONQ 'r["entries"]' < "$TMP/m.out")" "0:$("$C" --url "$SQLITE_URL" ls | wc -l | tr -d ' ')" \
		"migrate sqlite to redis: every entry, the one over two tables too"
	is "$($JSONQ 'r["skipped"]' < "$TMP/m.out"):$("$C" get j):$("$C" info j | $JSONQ 'r["tags"]')" \
		'0:joined:["table:db.m","table:db.n"]' "migrate: the entry over two tables is copied with both tables"
	"$C" --url "$SQLITE_URL" rm j > /dev/null
	is "$($JSONQ '(r["metadata_kept"], r["counters_copied"])' < "$TMP/m.out")" "(True, True)" \
		"migrate sqlite to redis: metadata and counters kept (restore, counters_add)"
	is "$("$C" info m1 | $JSONQ 'r["created_ms"]')" "$("$C" --url "$SQLITE_URL" info m1 | $JSONQ 'r["created_ms"]')" \
		"redis: the creation time came along"
	# key layout 2 keeps the global counters in gstats hashes: read their sum
	is "$("$top_builddir/ice-stat" --url "$CACHE_URL" --json | $JSONQ 'r["totals"]["puts"]')" "$("$C" --url "$SQLITE_URL" info m1 > /dev/null; \
		"$top_builddir/ice-stat" --url "$SQLITE_URL" --json | $JSONQ 'r["totals"]["puts"]')" \
		"redis: the put counter came along, not counted again"
	is "$("$C" get m1):$("$C" get m2)" "one:two" "redis: the values"
	ttl=$(redis-cli -s "$REDIS_SOCK" PTTL "icecache:{db.m}:e:m1")
	check "redis: the remaining TTL came along ($ttl ms)" test "$ttl" -gt 3000000
	like "$(redis-cli -s "$REDIS_SOCK" GET "icecache:{db.m}:c:invalidated")" '"snapshot_id":8' "redis: the cursor came along"
	"$C" migrate "$CACHE_URL" "sqlite://$TMP/back.db" > "$TMP/m.out"
	is "$($JSONQ '(r["entries"], r["metadata_kept"])' < "$TMP/m.out")" "($("$C" ls | wc -l | tr -d ' '), True)" \
		"migrate redis to sqlite: every entry"
	is "$("$C" --url "sqlite://$TMP/back.db" info m1 | $JSONQ '(r["origin"], sorted(r["tags"]), r["expires_ms"] > 0)')" \
		"('put', ['file:db.m:f1', 'table:db.m'], True)" "sqlite: origin, tags and expiry from redis"
	is "$("$C" --url "sqlite://$TMP/back.db" ls --tag user:bob | $JSONQ 'r["key"]')" "m2" "sqlite: free-form tags from redis"
	printf '%s\n' '{"kind":"file","table":"db.m","change":"removed","content":"data","file_path":"f1","partition_key":""}' \
		'{"kind":"diff","table":"db.m","from":8,"to":9,"scope":"files","data_preserving":false,"partitions":[]}' |
		"$INV" --url "sqlite://$TMP/back.db" > /dev/null
	is "$("$C" --url "sqlite://$TMP/back.db" get m1; echo "$?")" "1" "the migrated copy is invalidated like the original"
fi

# ---- private files, and ice-stat in the store's own terms ----
umask 022
p="$TMP/private/sub/cache.db"
"$C" --url "sqlite://$p" put pk --value secret
is "$(stat -c %a "$p")" 600 "a new cache file is the user's only (0600, whatever the umask)"
is "$(stat -c %a "$TMP/private/sub") $(stat -c %a "$TMP/private")" "700 700" "its new folders too (0700)"
is "$(find "$TMP/private/sub" -type f ! -perm 600 | wc -l | tr -d ' ')" 0 \
	"the WAL and shared-memory files as well"
"$top_builddir/ice-stat" --url "sqlite://$p" > "$TMP/statout"
like "$(head -n 2 "$TMP/statout")" "file " "ice-stat speaks of the store's file"
like "$(head -n 2 "$TMP/statout")" "evicted 0 entries, expired 0 entries" "and of entries, not keys"
check "ice-stat: no whole-server wording for a file" sh -c "! grep -q 'whole server' '$TMP/statout'"

done_testing
