#!/bin/sh
# stat: ice-stat on each backend (a real redis-server; the SQLite
# file). Counters move as expected
# across put/get/invalidate (ice-cache and ice-invalidate), per table and in
# total; the summary, --json, --prometheus (promtool accepts it) and
# --output agree; --watch refreshes (in place on a terminal) and stops on
# SIGTERM; reset asks on a terminal, needs --yes otherwise; bad flags exit
# 2, an unreachable cache 3.
. "$top_srcdir/tests/cli/lib.sh"

start_cache
BE=$ICE_TEST_BACKEND # the backend label in --json and --prometheus
[ "$BE" != cluster ] || BE=redis # a cluster is Redis too
S="$top_builddir/ice-stat"
C="$top_builddir/ice-cache"
INV="$top_builddir/ice-invalidate"
# vanish KEY TABLE: the entry goes behind IceCache's back (committed).
vanish() {
	if on_redis; then
		cache_cli DEL "icecache:{$2}:e:$1" > /dev/null
	else
		python3 -c 'import sqlite3, sys
with sqlite3.connect(sys.argv[1]) as db:
    db.execute("DELETE FROM entries WHERE key = ?", (sys.argv[2],))' "$CACHE_DB" "$1"
	fi
}
umask 022

# q EXPR: EXPR over the stats document (r); tq TABLE EXPR: over the record
# of one table (t).
q() { "$S" --json | $JSONQ "$1"; }
tq() { "$S" --json | $JSONQ "(lambda t: $2)([t for t in r['tables'] if t['table'] == '$1'][0])"; }

is "$(q '(r["kind"], r["backend"], r["totals"]["entries"], r["totals"]["hits"], r["tables"], r["totals"]["hit_rate"])')" \
	"('stats', '$BE', 0, 0, [], None)" "empty cache: no entries, no tables, no hit rate"

# put/get: entries in two tables, hits, a miss on an unknown key and one on
# a key of db.t whose entry went behind IceCache's back.
"$C" put a --file db.t:f1 --value 12345
"$C" put b --table db.t --value 123
"$C" put c --table db.u --value 1
"$C" put gone --table db.t --value x
vanish gone db.t
"$C" get a > /dev/null
"$C" get a > /dev/null
"$C" get c > /dev/null
"$C" get nope
"$C" get gone
# The miss on the vanished entry: Redis still holds the key's index
# (icecache:k:gone -> db.t) and counts it as a miss of db.t; in SQLite the
# key's table lived in the deleted row, so the miss counts only globally.
if on_redis; then t_misses=1 t_rate=0.6667 t_pct=66.7%; else t_misses=0 t_rate=1.0 t_pct=100.0%; fi
is "$(tq db.t '(t["entries"], t["bytes"], t["hits"], t["misses"], t["puts"], t["invalidations"], t["last_invalidated"])')" \
	"(2, 8, 2, $t_misses, 3, 0, None)" "db.t: entries, bytes, hits, misses, puts"
is "$(tq db.t 'round(t["hit_rate"], 4)')" "$t_rate" "db.t: hit rate 2 of $((2 + t_misses))"
is "$(tq db.u '(t["entries"], t["bytes"], t["hits"], t["misses"], t["puts"])')" "(1, 1, 1, 0, 1)" "db.u: its own counters"
is "$(q '(r["totals"]["entries"], r["totals"]["bytes"], r["totals"]["hits"], r["totals"]["misses"], r["totals"]["puts"])')" \
	"(3, 9, 3, 2, 4)" "totals: every table, and the miss on an unknown key"
# The store's own numbers; SQLite adds the size of its file.
if on_redis; then server='["evicted","expired","max_bytes","used_bytes"]'
else server='["evicted","expired","file_bytes","max_bytes","used_bytes"]'; fi
is "$(q 'sorted(r["server"])')" "$server" "the store's own numbers: memory, evictions, expirations"

# ice-invalidate removes db.t's entries: its invalidation counters move, the
# last snapshot it finished shows (a 64-bit id, exact).
printf '%s\n' \
	'{"kind":"file","table":"db.t","change":"removed","content":"data","file_path":"f1","partition_key":""}' \
	'{"kind":"diff","table":"db.t","from":1,"to":3138177759849079112,"scope":"files","data_preserving":false,"partitions":[]}' |
	"$INV" > "$TMP/inv"
is "$(tail -n 1 "$TMP/inv" | $JSONQ 'r["entries_removed"]')" "2" "ice-invalidate removed db.t's two entries"
is "$(tq db.t '(t["entries"], t["bytes"], t["invalidations"], t["invalidated"], t["last_invalidated"]["snapshot_id"])')" \
	"(0, 0, 1, 2, 3138177759849079112)" "db.t after invalidation: no entries, 1 invalidation, 2 entries invalidated, the snapshot"
is "$(tq db.t '0 <= t["last_invalidated"]["age_s"] < 3600 and t["last_invalidated"]["updated_ms"] > 0')" "true" \
	"db.t: when it was invalidated"
is "$(tq db.u '(t["entries"], t["invalidated"])')" "(1, 0)" "db.u untouched"
is "$(q '(r["totals"]["invalidations"], r["totals"]["invalidated"], r["totals"]["entries"])')" "(1, 2, 1)" \
	"totals after invalidation"

# The summary for people.
"$S" > "$TMP/text"
is "$?" "0" "summary: exit 0"
like "$(grep '^db.t ' "$TMP/text")" " $t_pct " "summary: db.t's row shows its hit rate"
like "$(grep '^db.t ' "$TMP/text")" "3138177759849079112, " "summary: db.t's row shows the last snapshot and how long ago"
like "$(cat "$TMP/text")" "(all)" "summary: a row for all tables"
like "$(head -n 1 "$TMP/text")" "$BE $CACHE_URL " "summary: names the backend and the cache"

# Prometheus text format.
"$S" --prometheus > "$TMP/metrics"
is "$?" "0" "--prometheus: exit 0"
for line in "icecache_up{backend=\"$BE\"} 1" "icecache_hits_total{backend=\"$BE\"} 3" \
	"icecache_table_hits_total{backend=\"$BE\",table=\"db.t\"} 2" \
	"icecache_table_misses_total{backend=\"$BE\",table=\"db.t\"} $t_misses" \
	"icecache_table_invalidations_total{backend=\"$BE\",table=\"db.t\"} 1" \
	"icecache_table_invalidated_entries_total{backend=\"$BE\",table=\"db.t\"} 2" \
	"icecache_table_entries{backend=\"$BE\",table=\"db.u\"} 1" \
	"icecache_table_value_bytes{backend=\"$BE\",table=\"db.u\"} 1" \
	"icecache_table_last_invalidated_snapshot_info{backend=\"$BE\",table=\"db.t\",snapshot_id=\"3138177759849079112\"} 1" \
	'# TYPE icecache_evicted_keys_total counter'; do
	check "--prometheus: $line" grep -qxF "$line" "$TMP/metrics"
done
if command -v promtool > /dev/null; then
	promtool check metrics < "$TMP/metrics" > "$TMP/lint" 2>&1
	is "$?:$(cat "$TMP/lint")" "0:" "promtool check metrics: accepted, no lint"
else
	echo "ok $((_n += 1)) # SKIP promtool not installed (scripts/setup installs prometheus)"
fi
"$S" --prometheus 2> "$TMP/err" | head -n 1 > /dev/null
is "$(cat "$TMP/err")" "" "--prometheus into a closed pipe: quiet"
"$S" --prometheus --output "$TMP/textfile/icecache.prom" 2> "$TMP/err"
is "$?" "1" "--output into a missing folder: exit 1"
mkdir "$TMP/textfile"
"$S" --prometheus --output "$TMP/textfile/icecache.prom"
is "$?:$(ls "$TMP/textfile")" "0:icecache.prom" "--output: the file, no temporary left"
# (a cluster's memory moves by itself: its bus and replication buffers)
vary=scrape_duration
if on_cluster; then vary='scrape_duration\|memory_used_bytes'; fi
is "$(grep -v "$vary" "$TMP/textfile/icecache.prom")" "$(grep -v "$vary" "$TMP/metrics")" \
	"--output: the same metrics"
is "$(stat -c %a "$TMP/textfile/icecache.prom")" "644" "--output: readable by a collector running as another user"

# --watch: one document per refresh; stops on SIGTERM with exit 0.
is "$("$S" --json --watch 50ms --count 3 | $JSONQ 'r["kind"]' | tr '\n' ' ')" "stats stats stats " \
	"--watch --count 3 --json: three documents"
"$S" --json --watch 100ms > "$TMP/watch" &
wpid=$!
wait_for 10 test -s "$TMP/watch"
kill -TERM $wpid
wait $wpid
is "$?" "0" "--watch: SIGTERM ends it, exit 0"
if command -v script > /dev/null; then
	script -qec "'$S' --watch 50ms --count 2" /dev/null > "$TMP/tty"
	is "$(grep -o "$(printf '\033')\[H" "$TMP/tty" | wc -l | tr -d ' ')" "2" "--watch on a terminal: redrawn in place"
fi

# reset: asks on a terminal, needs --yes otherwise; --table resets one table.
"$S" reset < /dev/null 2> "$TMP/err"
is "$?" "2" "reset, not a terminal, no --yes: exit 2"
like "$(cat "$TMP/err")" "--yes" "reset: says to give --yes"
is "$(q 'r["totals"]["hits"]')" "3" "reset refused: nothing reset"
if command -v script > /dev/null; then
	printf 'n\n' | script -qec "'$S' reset" /dev/null > "$TMP/tty"
	is "$?:$(q 'r["totals"]["hits"]')" "1:3" "reset on a terminal, answered no: exit 1, nothing reset"
	like "$(cat "$TMP/tty")" "[y/N]" "reset on a terminal: asks"
fi
"$S" reset --table db.u --yes
is "$?:$(tq db.u '(t["hits"], t["puts"])'):$(tq db.t 't["hits"]'):$(q 'r["totals"]["hits"]')" "0:(0, 0):2:3" \
	"reset --table db.u: that table only"
"$S" reset --yes
is "$?:$(q '(r["totals"]["hits"], r["totals"]["misses"], r["totals"]["invalidated"])'):$(tq db.t '(t["hits"], t["invalidated"])')" \
	"0:(0, 0, 0):(0, 0)" "reset --yes: every counter"
is "$(q 'r["totals"]["entries"]'):$(tq db.t 't["last_invalidated"]["snapshot_id"]')" "1:3138177759849079112" \
	"reset: entries and cursors kept"
"$C" get c > /dev/null
is "$(tq db.u 't["hits"]')" "1" "after a reset counting goes on"

# Table names are bytes: one that is not UTF-8, one holding an escape
# sequence. --json keeps them ({"hex":...} for the first); the summary and
# the labels show them escaped, so no byte of theirs reaches a terminal.
"$C" put odd1 --value x --tag "$(printf 'table:caf\351')" 2> /dev/null
"$C" put odd2 --value x --tag "$(printf 'table:e\033[31mred')" 2> /dev/null
is "$(q '[t["table"] for t in r["tables"] if not isinstance(t["table"], str) or t["table"].startswith("e")]')" \
	'[{"hex":"636166e9"},"e\u001b[31mred"]' "--json: a table name that is not UTF-8 as {\"hex\":...}, one with ESC as is"
"$C" doctor > "$TMP/doctor"
is "$?:$(grep -F '"table":{"hex":"636166e9"}' "$TMP/doctor" | $JSONQ '(r["tags"], r["reasons"])')" \
	"1:([{'hex': '7461626c653a636166e9'}], [\"the pipeline has never invalidated table 'caf\\\\xe9' in this cache\"])" \
	"doctor: such a table's entry (exit 1: found), its tag and the reason (the name escaped)"
"$S" > "$TMP/summary" < /dev/null
is "$?" "0" "summary with such table names: exit 0"
check "summary: a stray byte escaped" grep -q '^caf\\xe9  *1 ' "$TMP/summary"
check "summary: an escape character escaped" grep -q '^e\\x1b\[31mred  *1 ' "$TMP/summary"
check "summary: no escape character, no stray byte" \
	python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); sys.exit(b"\x1b" in b or b"\xe9" in b)' "$TMP/summary"
"$S" --prometheus > "$TMP/metrics"
is "$?:$(grep -c 'icecache_table_entries{backend="'"$BE"'",table="caf\\\\xe9"} 1$' "$TMP/metrics")" "0:1" \
	"--prometheus: the label shows the stray byte as \\xe9"
check "--prometheus: valid UTF-8, no escape character" \
	python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); b.decode("utf-8"); sys.exit(b"\x1b" in b)' "$TMP/metrics"
if command -v promtool > /dev/null; then
	check "promtool accepts those labels" sh -c "promtool check metrics < '$TMP/metrics' > /dev/null 2>&1"
fi
"$C" rm odd1 odd2
if ! on_redis; then
	# a cache file whose path is not UTF-8: --json names it as {"hex":...}
	# and the summary shows it escaped (both said "out of memory")
	oddb="sqlite://$TMP/$(printf 'c\351').db"
	is "$("$S" --url "$oddb" --json | $JSONQ 'r["location"]["hex"][-8:]'):$("$S" --url "$oddb" | head -n 1 | grep -c 'c\\xe9\.db')" \
		"e92e6462:1" "a cache file named with bytes that are not UTF-8: --json and the summary"
fi

# Bad flags.
for args in "--json --prometheus" "--output x" "--watch soon" "--count 2" "--watch 1s --count 0" "--listen :1" \
	"--table t" "bogus" "--bogus" "serve --json" "reset extra" "serve --listen nowhere" "--url bogus://x" "serve --url redis://h:99999"; do
	# shellcheck disable=SC2086
	"$S" $args > /dev/null 2> "$TMP/err" < /dev/null
	is "$?" "2" "usage error: ice-stat $args"
done
like "$(cat "$TMP/err")" "ice-stat: error: " "usage error: one clear line"
ICE_CACHE_RECONNECT=junk "$S" --json > /dev/null 2> "$TMP/err"
is "$?" "2" "ice-stat reads the shared cache settings: a bad ICE_CACHE_RECONNECT is a usage error"
ICE_CACHE_URL='' "$S" --json > "$TMP/out" 2> "$TMP/err"
is "$?" "0" "no cache configured: the embedded default cache, exit 0"
is "$($JSONQ 'r["backend"]' < "$TMP/out")" "sqlite" "no cache configured: reports the embedded backend"

# An unreachable cache: no server on the socket; a SQLite file that
# cannot be opened (its folder is a regular file).
if on_redis; then
	bad="unix://$TMP/nope.sock" bad_says="cannot connect to unix://$TMP/nope.sock"
else
	: > "$TMP/afile"
	bad="sqlite://$TMP/afile/cache.db" bad_says="cannot open sqlite://$TMP/afile/cache.db"
fi
"$S" --url "$bad" > "$TMP/out" 2> "$TMP/err"
is "$?:$(wc -c < "$TMP/out" | tr -d ' ')" "3:0" "unreachable cache: exit 3, nothing on stdout"
like "$(cat "$TMP/err")" "ice-stat: error: $bad_says" "unreachable cache: says so"
"$S" --url "$bad" --prometheus --watch 50ms --count 2 > "$TMP/out" 2> /dev/null
is "$?:$(grep -c "^icecache_up{backend=\"$BE\"} 0\$" "$TMP/out")" "3:2" \
	"--prometheus --watch on an unreachable cache: icecache_up 0 each time, exit 3"

"$S" --help > "$TMP/help"
like "$(cat "$TMP/help")" "ice-stat serve" "--help: lists serve"
like "$("$S" --version)" "ice-stat" "--version"
done_testing
