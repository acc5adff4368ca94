#!/bin/sh
# cache: ice-cache put/get/rm/ls/info/gc on each backend (a real
# redis-server; the embedded SQLite store):
# exact binary values, hit/miss exit statuses, TTL and gc, odd keys, a large
# value, tags that ice-invalidate honours, a full cache, and failures.
. "$top_srcdir/tests/cli/lib.sh"

C="$top_builddir/ice-cache"
start_cache

# Binary values round trip exactly.
head -c 100000 /dev/urandom > "$TMP/bin"
"$C" put "blob" --table db.t < "$TMP/bin"
is "$?" "0" "put from stdin: exit 0"
"$C" get blob > "$TMP/back"
is "$?" "0" "get of a present key: exit 0"
check "binary value comes back byte for byte" cmp -s "$TMP/bin" "$TMP/back"
"$C" get nothing-here > "$TMP/back" 2> "$TMP/err"
is "$?:$(wc -c < "$TMP/back" | tr -d ' '):$(cat "$TMP/err")" "1:0:" "get of a missing key: exit 1, no output, no message"

# Keys with spaces, newlines, glob characters.
for key in "with space" "new
line" "glob*?[x]"; do
	"$C" put "$key" --value "v:$key"
	is "$("$C" get "$key")" "v:$key" "odd key round trip: $(printf '%s' "$key" | tr '\n' '~')"
done

# A diagnostic is one line whatever the key holds, and shows a terminal's
# escape sequence as text.
"$C" info "$(printf 'k\033[31m\nx')" 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err" | tr -d ' ')" "1:1" "a missing odd key: exit 1, one line"
is "$(cat "$TMP/err")" "ice-cache: error: no entry 'k\x1b[31m\nx'" "... with ESC and the newline escaped"

# A large value (8 MiB).
head -c 8388608 /dev/zero | tr '\0' 'x' > "$TMP/big"
"$C" put big < "$TMP/big"
check "8 MiB value round trip" sh -c "'$C' get big | cmp -s - '$TMP/big'"

# ls, info, rm.
"$C" put a1 --table db.t --file "db.t:s3://b/f1.parquet" --value one
"$C" put a2 --table db.t --partition "db.t:day=2024-01-01" --value two
"$C" put b1 --table db.u --value three
is "$("$C" ls --table db.t | $JSONQ 'r["key"]' | sort | tr '\n' ' ')" "a1 a2 blob " "ls --table: the table's entries"
is "$("$C" ls --tag "file:db.t:s3://b/f1.parquet" | $JSONQ 'r["key"]')" "a1" "ls --tag: entries with the tag"
is "$("$C" ls 'a*' | $JSONQ 'r["key"]' | sort | tr '\n' ' ')" "a1 a2 " "ls PATTERN"
is "$("$C" info a2 | $JSONQ '(r["size"], sorted(r["tags"]))')" \
	"(3, ['partition:db.t:day=2024-01-01', 'table:db.t'])" "info: size and tags"
"$C" info nope > /dev/null 2> "$TMP/err"
is "$?" "1" "info of a missing key: exit 1"
"$C" rm a1 "with space"
is "$("$C" get a1; echo "$?")" "1" "rm: entry gone"
is "$("$C" ls --tag "file:db.t:s3://b/f1.parquet" | wc -l | tr -d ' ')" "0" "rm: not listed under its tag"
if on_redis; then
	is "$(cache_cli SISMEMBER "icecache:{db.t}:t:file:db.t:s3://b/f1.parquet" a1)" "0" \
		"rm: no tag reference left"
else
	is "$(sql "SELECT COUNT(*) FROM tags WHERE key = 'a1'")" "0" "rm: no tag reference left"
fi

# TTL, then gc of the dangling references. An entry with an hour to live
# is served and expires an hour after its put (the clock read around the
# put, so no load can make it fail); one of 300 ms is gone 600 ms later.
t0=$(now_ms)
"$C" put long --table db.t --ttl 1h --value soon
t1=$(now_ms)
is "$("$C" get long)" "soon" "ttl: served before it expires"
exp=$("$C" info long | $JSONQ 'r["expires_ms"]')
check "ttl: expires an hour after the put ($exp, put between $t0 and $t1)" \
	test "$exp" -ge $((t0 + 3600000)) -a "$exp" -le $((t1 + 3600000))
"$C" rm long
"$C" put short --table db.t --ttl 300ms --value soon
sleep 0.6
is "$("$C" get short; echo "$?")" "1" "ttl: gone after it expired"
is "$("$C" gc | $JSONQ 'r["references_removed"] >= 1')" "true" "gc removes the expired entry's references"

# Tags written by ice-cache are what ice-invalidate removes.
printf '%s\n' '{"kind":"file","table":"db.t","change":"removed","content":"data","file_path":"x","partition_key":"day=2024-01-01"}' \
	'{"kind":"diff","table":"db.t","from":1,"to":2,"scope":"files","data_preserving":false,"partitions":[{"spec_id":0,"partition_key":"day=2024-01-01"}]}' |
	"$top_builddir/ice-invalidate" > /dev/null
is "$("$C" get a2; echo "$?")" "1" "ice-invalidate removes an entry put by ice-cache (partition tag)"
is "$("$C" get b1)" "three" "another table's entry stays"

# A table name beginning with "}" would end the hash tag of its Redis keys
# (P:{}x}:...: no slot in common on a cluster): every backend refuses it,
# in one line. A "}" further in is fine, and invalidating such a table
# goes on with nothing to remove.
"$C" put brace --value v --tag 'table:}x' > "$TMP/out" 2> "$TMP/err"
is "$?:$(wc -l < "$TMP/err" | tr -d ' ')" "1:1" "put of a table beginning with '}': exit 1, one line"
check "... naming the tag and the table" grep -q "tag 1: table '}x' begins with '}'" "$TMP/err"
is "$("$C" get brace; echo "$?")" "1" "... and nothing stored"
"$C" put brace2 --value v2 --tag 'table:x}y' --tag 'partition:x}y:d=1'
is "$("$C" get brace2)" "v2" "a table with a '}' after its first character is stored"
printf '%s\n' '{"kind":"diff","table":"}x","from":1,"to":2,"scope":"table","reason":"test"}' |
	"$top_builddir/ice-invalidate" > "$TMP/out"
is "$?:$(tail -n 1 "$TMP/out" | $JSONQ 'r["entries_removed"]')" "0:0" \
	"invalidating a table beginning with '}': exit 0, nothing removed"
printf '%s\n' '{"kind":"diff","table":"x}y","from":1,"to":2,"scope":"table","reason":"test"}' |
	"$top_builddir/ice-invalidate" > /dev/null
is "$("$C" get brace2; echo "$?")" "1" "an entry of table x}y goes with its table"

if on_cluster; then
	skip "a full Redis (maxmemory, noeviction): checked on one server, whose rules each master follows"
fi
if [ "$ICE_TEST_BACKEND" = redis ]; then
	# A full Redis (maxmemory, noeviction): a put is refused whole with a clear
	# error, while reads and invalidation still work.
	fsock="$TMP/full.sock"
	redis-server --port 0 --unixsocket "$fsock" --save '' --appendonly no --dir "$TMP" \
		--maxmemory 3mb --maxmemory-policy noeviction > "$TMP/full.log" 2>&1 &
	fpid=$!
	track_pid $fpid
	wait_for 10 test -S "$fsock" || { echo "Bail out! second redis-server did not start"; exit 1; }
	FULL="unix://$fsock"
	"$C" --url "$FULL" put keep --table db.t --value kept
	head -c 200000 /dev/zero > "$TMP/200k"
	i=0
	st=0
	while [ $i -lt 200 ]; do
		"$C" --url "$FULL" put "fill$i" --table db.t < "$TMP/200k" 2> "$TMP/err" || { st=$?; break; }
		i=$((i + 1))
	done
	is "$st" "3" "full cache: put refused with exit 3"
	like "$(cat "$TMP/err")" "OOM" "full cache: the error says Redis is out of memory"
	is "$(redis-cli -s "$fsock" EXISTS "icecache:{db.t}:e:fill$i")" "0" "full cache: the refused put wrote nothing"
	is "$("$C" --url "$FULL" get keep)" "kept" "full cache: reads still work"
	printf '%s\n' '{"kind":"diff","table":"db.t","from":1,"to":2,"scope":"files","data_preserving":false,"partitions":[]}' |
		"$top_builddir/ice-invalidate" --url "$FULL" > /dev/null
	is "$?:$("$C" --url "$FULL" get keep; echo "$?")" "0:1" "full cache: invalidation still works and frees the entries"
	"$C" --url "$FULL" put after --value ok
	is "$?" "0" "full cache: puts work again once invalidation freed memory"
else
	# The embedded store has a size limit instead: the least recently used
	# entries go to make room, and the count of evictions says so.
	L="sqlite://$TMP/limited.db"
	head -c 100000 /dev/zero > "$TMP/100k"
	"$C" --url "$L" --max-size 350K put first --table db.t < "$TMP/100k"
	i=0
	while [ $i -lt 6 ]; do
		"$C" --url "$L" put "fill$i" --table db.t < "$TMP/100k" || break
		"$C" --url "$L" get first > /dev/null # keeps it the most recently used
		i=$((i + 1))
	done
	is "$i" "6" "limited cache: every put succeeds"
	is "$("$C" --url "$L" get first | wc -c | tr -d ' '):$("$C" --url "$L" get fill0; echo "$?")" "100000:1" \
		"limited cache: the recently read entry stays, the least recently used went"
	is "$(python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(dict(c.execute("SELECT name, value FROM store"))["used_bytes"] <= 350 * 1024)' "$TMP/limited.db")" \
		"True" "limited cache: kept under --max-size"
	head -c 400000 /dev/zero | "$C" --url "$L" put huge 2> "$TMP/err"
	is "$?" "1" "limited cache: an entry larger than the whole limit is refused"
	like "$(cat "$TMP/err")" "larger than the cache's size limit" "limited cache: and says why"
	"$C" --url "$L" --max-size 0 put after --value ok
	is "$?:$("$C" --url "$L" get first | wc -c | tr -d ' ')" "0:100000" "--max-size 0 removes the limit"
	"$C" --url "$L" --max-size lots get x 2> /dev/null
	is "$?" "2" "bad --max-size: exit 2"
fi

# Failures.
"$C" --url "unix://$TMP/none.sock" get a > /dev/null 2> "$TMP/err"
is "$?" "3" "unreachable cache: exit 3"
like "$(cat "$TMP/err")" "ice-cache: error: " "unreachable cache: one clear line"
"$C" --url "redis://user:s3cret@127.0.0.1:1/0" get a > /dev/null 2> "$TMP/err"
is "$?:$(grep -c s3cret "$TMP/err")" "3:0" "the password is never printed"
"$C" put k --ttl 5q --value v 2> /dev/null
is "$?" "2" "bad --ttl: exit 2"
"$C" frobnicate 2> /dev/null
is "$?" "2" "unknown command: exit 2"
"$C" put k --partition nocolon --value v 2> /dev/null
is "$?" "2" "--partition without TABLE: exit 2"
ICE_CACHE_URL='' "$C" put default-one --value here
is "$?:$(ICE_CACHE_URL='' "$C" get default-one)" "0:here" "no URL: the embedded default cache"
check "no URL: the default cache is \$XDG_CACHE_HOME/icecache/cache.db" test -s "$XDG_CACHE_HOME/icecache/cache.db"
ICE_CACHE_URL='' XDG_CACHE_HOME='' HOME='' "$C" get k 2> "$TMP/err"
is "$?" "2" "no URL, no HOME: exit 2"
like "$(cat "$TMP/err")" "no cache" "no URL, no HOME: says so"
"$C" --url "sqlite://$TMP/xdg-cache" get k 2> "$TMP/err"
is "$?" "3" "a folder for a database file: exit 3"

done_testing
