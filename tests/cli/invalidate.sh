#!/bin/sh
# invalidate: the whole pipeline on each backend (a real redis-server;
# the embedded SQLite store).
# Entries are written with plain redis-cli following icecache-keys(7) (the
# public contract; ice-cache put on sqlite); a commit lands; ice-diff |
# ice-invalidate removes exactly the stale entries, keeps the rest, moves
# the cursor; compaction keeps partition and table entries; --dry-run
# removes nothing; an unreachable or dying cache gives exit 3.
. "$top_srcdir/tests/cli/lib.sh"

INV="$top_builddir/ice-invalidate"
C="$top_builddir/ice-cache"
start_cache
URL=$CACHE_URL
R() { cache_cli "$@"; }

# put KEY TAG...: an entry written by "another application" per the layout.
redis_put() {
	key=$1
	shift
	table=$(printf '%s\n' "$1" | cut -d: -f2)
	tags=$(printf '%s\n' "$@")
	R SET icecache:layout 2 NX > /dev/null
	R HSET "icecache:{$table}:e:$key" v "value of $key" created 1 expires 0 size 10 hits 0 \
		origin test tags "$tags" > /dev/null
	R SET "icecache:k:$key" "$table" > /dev/null
	R SADD "icecache:{$table}:all" "$key" > /dev/null
	for tag in "$@"; do
		R SADD "icecache:{$table}:t:$tag" "$key" > /dev/null
		R SADD "icecache:{$table}:tags" "$tag" > /dev/null
	done
}
# sqlite_put KEY TAG...: the same through ice-cache.
sqlite_put() {
	key=$1
	shift
	for tag in "$@"; do set -- "$@" --tag "$tag"; shift; done
	"$C" put "$key" --value "value of $key" "$@"
}
put() { if on_redis; then redis_put "$@"; else sqlite_put "$@"; fi; }
# present KEY TABLE, absent KEY TABLE: the cache answered, the entry is
# there (or not).
present() {
	if on_redis; then [ "$(R EXISTS "icecache:{$2}:e:$1")" = 1 ]; else "$C" info "$1" > /dev/null; fi
}
absent() {
	if on_redis; then
		[ "$(R EXISTS "icecache:{$2}:e:$1")" = 0 ]
	else
		"$C" info "$1" > /dev/null 2>&1
		[ "$?" = 1 ]
	fi
}
# references KEY TAG: how often the tag index still names KEY under TAG.
references() {
	if on_redis; then R SISMEMBER "icecache:{db.t}:t:$2" "$1"; else sql "SELECT COUNT(*) FROM tags WHERE tag = '$2' AND key = '$1'"; fi
}
cursor() { # cursor TABLE: the table's invalidated cursor, as stored
	if on_redis; then R GET "icecache:{$1}:c:invalidated"; else sql "SELECT value FROM cursors WHERE tbl = '$1' AND name = 'invalidated'"; fi
}

t="$TMP/wh/db/t"
"$MKTABLE" create "$t" --seed 90 --partition "identity(category)" > /dev/null
"$MKTABLE" append "$t" --files 6 > /dev/null
snap=$("$ICE_SNAPSHOT" show "$t" | $JSONQ 'r["snapshot_id"]')
"$MKTABLE" list "$t" > "$TMP/live"
victim=$(head -n 1 "$TMP/live" | $JSONQ 'r["file_path"]')
vpart=$(head -n 1 "$TMP/live" | $JSONQ '"/".join("%s=%s" % kv for kv in r["partition"].items())')
other=$($JSONQ 'r["file_path"]' < "$TMP/live" | grep -v "$victim" | tail -n 1)
opart=$(grep -F "$other" "$TMP/live" | $JSONQ '"/".join("%s=%s" % kv for kv in r["partition"].items())')

put "on victim" "file:db.t:$victim"
put "on other file" "file:db.t:$other"
put "on victim partition" "partition:db.t:$vpart"
put "on other partition" "partition:db.t:$opart"
put "whole table" "table:db.t"
put "snapshot" "snapshot:db.t:$snap"
put "report*?[x]" "table:db.other"

"$MKTABLE" delete "$t" --path "$victim" > /dev/null
[ "$vpart" != "$opart" ] || echo "# note: both files in one partition"

"$ICE_DIFF" "$t" | "$INV" --dry-run --url "$URL" > "$TMP/dry"
is "$?" "0" "dry run: exit 0"
is "$(tail -n 1 "$TMP/dry" | $JSONQ '(r["kind"], r["dry_run"], r["entries_removed"])')" "('invalidated', True, 3)" \
	"dry run: reports the three entries that would go"
check "dry run: nothing removed" present "on victim" db.t

"$ICE_DIFF" "$t" | "$INV" --url "$URL" > "$TMP/out" 2> "$TMP/err"
is "$?" "0" "invalidate: exit 0"
is "$($JSONQ 'r["kind"]' < "$TMP/out" | tr '\n' ' ')" "file diff invalidated " \
	"invalidate: records pass through, one invalidated record"
is "$(tail -n 1 "$TMP/out" | $JSONQ 'r["entries_removed"]')" "3" "invalidate: three entries removed"
for k in "on victim" "on victim partition" "whole table"; do
	check "stale entry removed: $k" absent "$k" db.t
done
for k in "on other file" "on other partition" "snapshot"; do
	check "entry kept: $k" present "$k" db.t
done
check "entry of another table kept (glob characters in its key)" present "report*?[x]" db.other
is "$(references "whole table" "table:db.t")" "0" "no reference to a removed entry is left"
if on_redis; then
	is "$(R EXISTS "icecache:k:on victim")" "0" "the key index of a removed entry is gone"
fi
like "$(cursor db.t)" "$("$ICE_SNAPSHOT" show "$t" | $JSONQ 'r["snapshot_id"]')" \
	"the table's cursor names the invalidated snapshot"

# Compaction keeps partition- and table-level entries.
put "whole table again" "table:db.t"
put "on other partition again" "partition:db.t:$opart"
"$MKTABLE" replace "$t" > /dev/null
"$ICE_DIFF" "$t" | "$INV" --url "$URL" > "$TMP/out"
check "replace: table entry kept" present "whole table again" db.t
check "replace: partition entry kept" present "on other partition again" db.t
is "$(present "on other file" db.t && echo kept || echo removed)" \
	"$("$MKTABLE" list "$t" | grep -qF "$other" && echo kept || echo removed)" \
	"replace: an entry on a rewritten file goes, on a kept file stays"

# --granularity table: any commit removes every entry of the table, those
# on partitions and files it did not touch too (the table tag alone would
# leave them stale: a coarser grain only ever removes more).
put "g on untouched partition" "partition:db.t:untouched=1"
put "g on kept file" "file:db.t:/nowhere/kept.parquet"
put "g of a snapshot" "snapshot:db.t:1"
put "g of another table" "table:db.other"
"$MKTABLE" append "$t" --files 1 > /dev/null
"$ICE_DIFF" "$t" | "$INV" --granularity table --url "$URL" > "$TMP/out"
is "$(tail -n 1 "$TMP/out" | $JSONQ '"%s %s" % (r["whole_table"], r["tags"])')" "True ['table:db.t']" \
	"--granularity table: the whole table"
like "$(tail -n 1 "$TMP/out" | $JSONQ 'r["reason"]')" "granularity table" "saying why"
check "--granularity table: an entry on a partition the commit did not touch goes" \
	absent "g on untouched partition" db.t
check "--granularity table: an entry on a file the commit did not touch goes" absent "g on kept file" db.t
check "--granularity table: a snapshot's entry goes with the whole table" absent "g of a snapshot" db.t
check "--granularity table: another table's entry stays" present "g of another table" db.other

# A table name holding ':' (Iceberg allows one): its partition tags name
# the table before the ':' (icecache-keys(7)). They still match exactly,
# and a change of the whole table takes that table's entries too: more
# misses, never a stale hit.
gone() { "$C" --url "$URL" get "$1" > /dev/null 2>&1; [ "$?" = 1 ]; }
for k in 1 2; do "$C" --url "$URL" put "colon $k" --value x --tag "partition:db.a:b:d=$k" 2> /dev/null; done
"$C" --url "$URL" put "colon table" --value x --tag "table:db.a:b" 2> /dev/null
"$C" --url "$URL" put "colon other" --value x --tag "table:db.other2" 2> /dev/null
printf '%s\n' '{"kind":"file","table":"db.a:b","from":1,"to":2,"change":"removed","content":"data","file_path":"s3://b/f1","partition_key":"d=1"}' \
	'{"kind":"diff","table":"db.a:b","from":1,"to":2,"scope":"files","data_preserving":false,"partitions":[{"spec_id":0,"partition_key":"d=1"}]}' |
	"$INV" --url "$URL" > /dev/null
check "table with ':': the changed partition's entry goes" gone "colon 1"
check "table with ':': the table's entry goes" gone "colon table"
is "$("$C" --url "$URL" get "colon 2")" "x" "table with ':': another partition's entry stays"
printf '%s\n' '{"kind":"diff","table":"db.a:b","from":2,"to":3,"scope":"table","reason":"schema changed"}' |
	"$INV" --url "$URL" > "$TMP/out" 2> "$TMP/err"
is "$?:$(tail -n 1 "$TMP/out" | $JSONQ '(r["whole_table"], r["also_table"])')" "0:(True, 'db.a')" \
	"table with ':', a change of the whole table: also_table names the table its tags name"
check "... its other partition's entry goes" gone "colon 2"
is "$("$C" --url "$URL" get "colon other")" "x" "... another table's entry stays"
like "$(cat "$TMP/err")" "warning: table 'db.a:b': its partition and file tags name table 'db.a'" "... and a warning says why"

# Monotonic cursor: replaying an older transition after a newer one (a
# late or restarted invalidator) still invalidates but leaves the cursor
# at the newer snapshot.
"$ICE_DIFF" "$t" > "$TMP/older"
"$INV" --url "$URL" < "$TMP/older" > /dev/null
older=$(tail -n 1 "$TMP/older" | $JSONQ 'r["to"]')
"$MKTABLE" append "$t" --files 1 > /dev/null
newer=$("$ICE_SNAPSHOT" show "$t" | $JSONQ 'r["snapshot_id"]')
"$ICE_DIFF" "$t" | "$INV" --url "$URL" > "$TMP/out"
is "$(cursor db.t | $JSONQ 'r["snapshot_id"]')" "$newer" "cursor at the newer snapshot"
is "$(cursor db.t | $JSONQ 'r["sequence_number"] > 0 and r["timestamp_ms"] > 0')" "true" \
	"the cursor records its place: sequence number and timestamp"
put "whole table, late" "table:db.t"
"$INV" --url "$URL" < "$TMP/older" > "$TMP/out"
is "$?" "0" "replayed older transition: exit 0"
is "$(tail -n 1 "$TMP/out" | $JSONQ '(r["to"], r.get("cursor_kept"), r["entries_removed"])')" \
	"($older, True, 1)" "replayed older transition: invalidates again, says the cursor was kept"
is "$(cursor db.t | $JSONQ 'r["snapshot_id"]')" "$newer" "replayed older transition: the cursor did not move back"

# At least once: poll --state cache starts from the snapshot ice-invalidate
# last finished, and only ice-invalidate moves it.
p="$TMP/wh/db/p"
"$MKTABLE" create "$p" --seed 91 > /dev/null
"$MKTABLE" append "$p" --files 2 > /dev/null
pollr() { "$ICE_SNAPSHOT" poll --state cache --url "$URL" "$p"; }
is "$(pollr | $JSONQ 'r["event"]')" "current" "poll --state cache, no cursor yet: the current snapshot"
pollr | "$ICE_DIFF" | "$INV" --url "$URL" > /dev/null
is "$(pollr | wc -l | tr -d ' ')" "0" "after ice-invalidate finished it: nothing to poll"
"$MKTABLE" append "$p" --files 1 > /dev/null
put "on p" "table:db.p"
pollr | "$ICE_DIFF" > /dev/null   # the invalidator never ran (crash, outage)
is "$(pollr | $JSONQ 'r["event"]')" "new" "an uninvalidated commit is polled again (at least once)"
check "its entry is still cached" present "on p" db.p
pollr | "$ICE_DIFF" | "$INV" --url "$URL" > /dev/null
check "the redone pipeline invalidates it" absent "on p" db.p
is "$(pollr | wc -l | tr -d ' ')" "0" "and then nothing is left to poll"

# Two invalidators at once on one table: each entry is removed once, by
# one of them, and no reference is left.
i=0
: > "$TMP/conc"
while [ $i -lt 200 ]; do
	if on_redis; then
		[ $i -gt 0 ] || echo "SET icecache:layout 2 NX"
		echo "SADD icecache:{db.c}:t:file:db.c:f$i e$i"
		echo "SADD icecache:{db.c}:tags file:db.c:f$i"
		echo "SET icecache:k:e$i db.c"
		echo "SADD icecache:{db.c}:all e$i"
		echo "HSET icecache:{db.c}:e:e$i v x created 1 expires 0 size 1 hits 0 tags file:db.c:f$i"
	else
		"$C" put "e$i" --file "db.c:f$i" --value x
	fi
	printf '{"kind":"file","table":"db.c","change":"removed","content":"data","file_path":"f%d","partition_key":""}\n' $i >> "$TMP/conc"
	i=$((i + 1))
done | if on_redis; then R > /dev/null; else cat > /dev/null; fi
echo '{"kind":"diff","table":"db.c","from":1,"to":2,"scope":"files","data_preserving":false,"partitions":[]}' >> "$TMP/conc"
"$INV" --url "$URL" < "$TMP/conc" > "$TMP/c1" &
c1=$!
"$INV" --url "$URL" < "$TMP/conc" > "$TMP/c2" &
c2=$!
wait $c1; s1=$?
wait $c2; s2=$?
is "$s1:$s2" "0:0" "concurrent invalidators: both exit 0"
is "$(cat "$TMP/c1" "$TMP/c2" | $JSONQ 'r.get("entries_removed", 0)' | awk '{ s += $1 } END { print s }')" "200" \
	"concurrent invalidators: 200 entries removed in all, each once"
if on_redis; then
	left=$(cache_keys 'icecache:{db.c}:*' | grep -c ':e:\|:t:')
else
	left=$(sql "SELECT (SELECT COUNT(*) FROM entries WHERE tbl = 'db.c') + (SELECT COUNT(*) FROM tags WHERE tag LIKE '%db.c:%')")
fi
is "$left" "0" "concurrent invalidators: no entry or reference left"
if on_redis; then
	# the last round's index keys go after its script (icecache-keys(7))
	is "$(cache_keys 'icecache:k:e*' | wc -l)" 0 "concurrent invalidators: no index key left"
fi

# Failures: unreachable, Redis gone mid-run, bad flags.
"$ICE_DIFF" "$t" | "$INV" --url "unix://$TMP/nope.sock" > /dev/null 2> "$TMP/err"
is "$?" "3" "unreachable cache: exit 3"
like "$(cat "$TMP/err")" "ice-invalidate: error: " "unreachable cache: one clear line"
"$INV" --url "$URL" --granularity bogus < /dev/null 2> "$TMP/err"
is "$?" "2" "bad granularity: exit 2"
ICE_CACHE_URL='' "$INV" < /dev/null 2> "$TMP/err"
is "$?" "0" "no URL: the embedded default cache"
check "no URL: the default cache file was made" test -s "$XDG_CACHE_HOME/icecache/cache.db"
"$ICE_DIFF" "$t" > "$TMP/diff"
if on_redis; then
	stop_cache_server
	gone="redis stopped"
else
	# The file replaced by something that is not a database.
	rm -f "$CACHE_DB-wal" "$CACHE_DB-shm"
	head -c 8192 /dev/urandom > "$CACHE_DB"
	gone="cache file unreadable"
fi
"$INV" --url "$URL" < "$TMP/diff" > /dev/null 2> "$TMP/err"
is "$?" "3" "$gone: exit 3"
"$ICE_SNAPSHOT" poll --state redis --url "$URL" "$p" > /dev/null 2> "$TMP/err"
is "$?" "3" "poll --state redis with $gone: exit 3"

done_testing
