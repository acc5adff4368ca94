#!/bin/sh
# redis-publish: the three steps of an invalidation on Redis
# (icecache-keys(7), INVALIDATION) on a real redis-server. Marks staged by
# stage.lua are invisible to readers until publish.lua makes them visible
# all at once; the publish refuses staged marks that are not all there,
# waits while an earlier invalidation of the table is not drained (or
# merges, the higher generation winning); ice-invalidate drains such an
# earlier invalidation before it publishes its own, and stages a big
# commit in calls of at most 500 tags (read from SLOWLOG, not timed). The
# drain, whose writes are gathered to the end of each call, removes and
# counts an entry met under two of its tags in one call once, takes a
# tag whose set it empties off the table's list of tags and ends that
# tag's job (a partition's walk ends its files' jobs: they are drained
# after it, never walked nor looked up; a set left with members keeps its
# job), and
# moves no cursor of a job another drainer finished.
. "$top_srcdir/tests/cli/lib.sh"

start_redis
CACHE="$top_builddir/ice-cache"
INV="$top_builddir/ice-invalidate"
LUA="$top_srcdir/lib/cache/lua"
T=db.t

rc() { redis-cli -s "$REDIS_SOCK" "$@"; }
k() { printf 'icecache:{%s}:%s' "$T" "$1"; }
hit() { "$CACHE" get "$1" > /dev/null 2>&1; } # exit 0: a hit
# stage G TAG...: stage.lua run as IceCache runs it (one call)
stage() {
	_g=$1
	shift
	rc EVAL "$(cat "$LUA/stage.lua")" 3 "$(k "stage:$_g")" "$(k "jobs:$_g")" "$(k tags)" \
		"$_g" 600000 0 "$@"
}
# publish G STAGED MERGE
publish() {
	rc EVAL "$(cat "$LUA/publish.lua")" 6 "$(k dead)" "$(k drain)" "$(k "stage:$1")" \
		"$(k "jobs:$1")" "$(k stats)" "$(k gstats)" 0 0 "$2" "$3"
}
# removal [PART]: ice-diff's records of a commit removing the data files
# named on stdin (one path a line), in partition PART (p=1)
removal() {
	python3 -c '
import json, sys
paths = sys.stdin.read().split()
rec = lambda **kw: print(json.dumps(kw, separators=(",", ":")))
for p in paths:
    rec(kind="file", table=sys.argv[1], change="removed", content="data", file_path=p,
        file_format="PARQUET", spec_id=0, partition={}, partition_key=sys.argv[2],
        record_count=1, file_size_in_bytes=1, sequence_number=1, **{"from": 1, "to": 2})
rec(kind="diff", table=sys.argv[1], operation="delete", data_preserving=False, scope="files",
    counts={"data_added": 0, "data_removed": len(paths), "deletes_added": 0,
            "deletes_removed": 0, "rows_deleted": 0, "partitions": 1},
    partitions=[{"spec_id": 0, "partition_key": sys.argv[2]}], manifests_read=1, entries_read=len(paths), **{"from": 1, "to": 2})
' "$T" "${1:-p=1}"
}

for i in 1 2 3 4; do
	"$CACHE" put "e$i" --file "$T:f$i" --value "v$i" 2> /dev/null
done
check "four entries, one file tag each" hit e1 && hit e2 && hit e3 && hit e4

# --- stage: invisible ---
G=$(rc INCR "$(k seq)")
is "$(stage "$G" "file:$T:f1")" 1 "stage: one mark for a tag whose set exists"
is "$(stage "$G" "file:$T:nothere")" 0 "stage: no mark for a tag with no entries"
check "a staged mark is invisible: e1 still a hit" hit e1
is "$(rc EXISTS "$(k dead)")" 0 "stage writes nothing readers look at"
ttl=$(rc PTTL "$(k "stage:$G")")
check "staged marks expire if no publish comes (PTTL $ttl)" test "$ttl" -gt 0

# --- publish ---
is "$(publish "$G" 2 0)" -1 "publish: staged marks not all there: refused (-1)"
check "  and nothing changed: e1 still a hit" hit e1
is "$(publish "$G" 1 0)" 1 "publish: the staged marks become the table's"
check "  e1 is a miss at once" sh -c "! \"$CACHE\" get e1 > /dev/null 2>&1"
check "  e2 (not invalidated) still a hit" hit e2
is "$(rc HGET "$(k dead)" "file:$T:f1")" "$G" "  dead[file tag] = G"
is "$(rc SMEMBERS "$(k drain)")" "$G
=file:$T:f1" "  the drain job G\\n=TAG"
is "$(rc PTTL "$(k dead)") $(rc PTTL "$(k drain)")" "-1 -1" "  dead and drain do not expire"
is "$(rc EXISTS "$(k "stage:$G")" "$(k "jobs:$G")")" 0 "  the staged keys are gone (renamed)"

# --- publish over marks not drained yet ---
G2=$(rc INCR "$(k seq)")
stage "$G2" "file:$T:f2" > /dev/null
is "$(publish "$G2" 1 0)" 0 "publish while an earlier invalidation is not drained: busy (0)"
check "  and nothing changed: e2 still a hit" hit e2
is "$(publish "$G2" 1 1)" 1 "publish with merge: published"
check "  e2 is a miss" sh -c "! \"$CACHE\" get e2 > /dev/null 2>&1"
is "$(rc HGET "$(k dead)" "file:$T:f1") $(rc HGET "$(k dead)" "file:$T:f2")" "$G $G2" \
	"  both marks in dead"
is "$(rc SCARD "$(k drain)")" 2 "  both jobs in drain"
is "$(rc EXISTS "$(k "stage:$G2")" "$(k "jobs:$G2")")" 0 "  the staged keys are gone"
stage 1 "file:$T:f2" > /dev/null
publish 1 1 1 > /dev/null
is "$(rc HGET "$(k dead)" "file:$T:f2")" "$G2" "merge: an older generation does not lower a mark"

# --- ice-invalidate drains the earlier invalidations first ---
echo "f3" | removal > "$TMP/rm3"
"$INV" < "$TMP/rm3" > "$TMP/out3"
ok $? "ice-invalidate of f3 over two invalidations not drained"
is "$(rc EXISTS "$(k e:e1)" "$(k e:e2)" "$(k e:e3)")" 0 "  e1, e2 and e3 are removed"
check "  e4 still a hit" hit e4
is "$(rc EXISTS "$(k dead)" "$(k drain)")" 0 "  every mark and job drained"
is "$(rc --scan --pattern "$(k 'stage:*')" | wc -l)" 0 "  no staged key left"
is "$(rc SISMEMBER "$(k tags)" "file:$T:f3") $(rc SISMEMBER "$(k tags)" "file:$T:f4")" "0 1" \
	"  the drained tag left the table's list of tags; e4's stayed"

# --- one drain call meets an entry in two jobs' pages (its file's and its
# partition's): removed and counted once, every set emptied ---
for i in 5 6 7; do
	"$CACHE" put "e$i" --file "$T:f$i" --partition "$T:p=1" --value "v$i" 2> /dev/null
done
printf 'f5\nf6\nf7\n' | removal > "$TMP/rm567"
"$INV" < "$TMP/rm567" > "$TMP/out567"
ok $? "ice-invalidate of f5, f6, f7 (partition p=1 too: each entry under two tags)"
like "$(cat "$TMP/out567")" '"entries_removed":3' "  3 entries removed, each counted once"
is "$(rc EXISTS "$(k e:e5)" "$(k e:e6)" "$(k e:e7)" "$(k "t:partition:$T:p=1")")" 0 \
	"  the hashes and the partition's set are gone"
is "$(rc SISMEMBER "$(k tags)" "partition:$T:p=1")" 0 "  the partition left the list of tags"
is "$(rc SCARD "$(k all)")" 1 "  only e4 is left in the table's set of all entries"
check "  e4 still a hit" hit e4

# --- coarse jobs first: the partition's walk empties its files' sets and
# so ends their jobs, which are never walked (one SSCAN in all) ---
i=10
while [ $i -lt 20 ]; do
	"$CACHE" put "e$i" --file "$T:f$i" --partition "$T:p=2" --value "v$i" 2> /dev/null
	echo "f$i"
	i=$((i + 1))
done | removal p=2 > "$TMP/rm10"
rc CONFIG RESETSTAT > /dev/null
# every command Redis runs meanwhile, those of scripts too (MONITOR, up
# from its "OK" until the ECHO sent after the run shows)
rc MONITOR > "$TMP/mon10" &
mon_pid=$!
track_pid $mon_pid
wait_for 30 grep -q '^OK' "$TMP/mon10"
ok $? "MONITOR started"
"$INV" < "$TMP/rm10" > "$TMP/out10"
ok $? "ice-invalidate of f10..f19, all in partition p=2"
rc ECHO monitor-end > /dev/null
wait_for 30 grep -q '"monitor-end"' "$TMP/mon10"
ok $? "  MONITOR saw everything up to the ECHO sent after it"
kill $mon_pid
like "$(cat "$TMP/out10")" '"entries_removed":10' "  10 entries removed"
is "$(rc INFO commandstats | sed -n 's/^cmdstat_sscan:calls=\([0-9]*\),.*/\1/p')" 1 \
	"  one SSCAN: the partition's set; the 10 file jobs ended with their sets"
# the client's lookups of jobs (SMISMEMBER on drain, outside scripts):
# the partition's, never a file's
grep -v ' lua\]' "$TMP/mon10" | grep -i '"smismember" "[^"]*:drain"' > "$TMP/lookups10"
like "$(cat "$TMP/lookups10")" "=partition:$T:p=2" "  the partition's job looked up (SMISMEMBER on drain)"
is "$(grep -c '=file:' "$TMP/lookups10")" 0 \
	"  the file jobs never looked up: the pass of the file tags ends on an empty queue"
is "$(rc EXISTS "$(k dead)" "$(k drain)" "$(k cur)")" 0 "  every mark, job and cursor gone"
is "$(rc SMISMEMBER "$(k tags)" "partition:$T:p=2" "file:$T:f10" "file:$T:f19" | tr '\n' ' ')" \
	"0 0 0 " "  the partition and its files left the list of tags"
check "  e4 still a hit" hit e4

# --- a big commit: staged in calls of at most 500 tags ---
python3 -c '
import sys
t = sys.argv[1]
def cmd(*a):
    sys.stdout.write("*%d\r\n" % len(a) + "".join("$%d\r\n%s\r\n" % (len(x.encode()), x) for x in a))
for i in range(1100):
    k, tag = "b%d" % i, "file:%s:big/%d.parquet" % (t, i)
    cmd("HSET", "icecache:{%s}:e:%s" % (t, k), "v", "x", "created", "1763780000000", "expires",
        "0", "size", "1", "hits", "0", "tags", tag, "seq", "1")
    cmd("SET", "icecache:k:%s" % k, t)
    cmd("SADD", "icecache:{%s}:all" % t, k)
    cmd("SADD", "icecache:{%s}:t:%s" % (t, tag), k)
    cmd("SADD", "icecache:{%s}:tags" % t, tag)
' "$T" | rc --pipe > /dev/null
is "$(rc SCARD "$(k all)")" 1101 "1,100 entries more, one file tag each (written per icecache-keys(7))"
sha=$(rc -x SCRIPT LOAD < "$LUA/stage.lua") # the file as IceCache embeds it
rc CONFIG SET slowlog-log-slower-than 0 > /dev/null
rc CONFIG SET slowlog-max-len 100000 > /dev/null
rc SLOWLOG RESET > /dev/null
i=0
while [ $i -lt 1100 ]; do
	echo "big/$i.parquet"
	i=$((i + 1))
done | removal > "$TMP/rmbig"
"$INV" < "$TMP/rmbig" > "$TMP/outbig"
ok $? "ice-invalidate of a commit removing 1,100 files"
rc --json SLOWLOG GET 100000 > "$TMP/slowlog"
rc CONFIG SET slowlog-log-slower-than 10000 > /dev/null
# SLOWLOG keeps 31 arguments of a call and "... (N more arguments)"; a
# stage call has 9 besides its tags (EVALSHA, sha, 3, three keys, G, the
# time to live, whole)
calls=$(python3 -c '
import json, re, sys
calls = [e[3] for e in json.load(open(sys.argv[1])) if e[3][:2] == ["EVALSHA", sys.argv[2]]]
def argc(c):
    m = re.match(r"\.\.\. \((\d+) more arguments\)$", c[-1])
    return len(c) - 1 + int(m.group(1)) if m else len(c)
print(len(calls), max(argc(c) for c in calls) - 9)
' "$TMP/slowlog" "$sha")
is "$calls" "3 500" "  staged in 3 calls, the largest with 500 tags"
is "$(rc SCARD "$(k all)")" 1 "  the 1,100 entries are removed; e4 stays"
is "$(rc EXISTS "$(k dead)" "$(k drain)")" 0 "  every mark and job drained"
is "$(rc --scan --pattern "$(k 'stage:*')" | wc -l)" 0 "  no staged key left"
like "$(cat "$TMP/outbig")" '"entries_removed":1100' "  ice-invalidate reports 1,100 entries removed"
check "e4 still a hit" hit e4

# --- two drainers of one table: a job's cursor moves only while the job is
# queued (the other drainer may have finished it meanwhile) ---
job=$(printf '999\n=file:%s:f9' "$T")
drain_page() { # one drain call of job over no candidates, next cursor 17
	rc EVAL "$(cat "$LUA/drain.lua")" 8 "$(k drain)" "$(k cur)" "$(k dead)" "$(k all)" \
		"$(k tags)" "$(k stats)" "$(k gstats)" "$(k "t:file:$T:f9")" 1 "$job" 17 0 > /dev/null
}
rc SADD "$(k drain)" "$job" > /dev/null
drain_page
is "$(rc HGET "$(k cur)" "$job")" 17 "drain: a queued job's cursor moves"
rc SREM "$(k drain)" "$job" > /dev/null
rc DEL "$(k cur)" > /dev/null
drain_page
is "$(rc EXISTS "$(k cur)")" 0 "drain: a job finished by another drainer leaves no cursor behind"

# --- one drain call leaves one of an entry's tag sets empty and the other
# not: only the emptied tag's job and mark end ---
A="partition:$T:q=1"
B="file:$T:mx"
rc HSET "$(k e:mx)" v x created 1 expires 0 size 1 hits 0 tags "$A
$B" seq 1 > /dev/null
rc SADD "$(k "t:$A")" mx my > /dev/null
rc SADD "$(k "t:$B")" mx > /dev/null
rc SADD "$(k all)" mx > /dev/null
rc SADD "$(k tags)" "$A" "$B" > /dev/null
rc HSET "$(k dead)" "$A" 5 "$B" 5 > /dev/null
jobA=$(printf '5\n=%s' "$A")
jobB=$(printf '5\n=%s' "$B")
rc SADD "$(k drain)" "$jobA" "$jobB" > /dev/null
rc EVAL "$(cat "$LUA/drain.lua")" 11 "$(k drain)" "$(k cur)" "$(k dead)" "$(k all)" \
	"$(k tags)" "$(k stats)" "$(k gstats)" "$(k "t:$A")" \
	"$(k e:mx)" "$(k "t:$A")" "$(k "t:$B")" 1 "$jobA" 17 1 mx "$A
$B" 2 > /dev/null
is "$(rc EXISTS "$(k e:mx)") $(rc SMEMBERS "$(k "t:$A")")" "0 my" \
	"drain: the entry goes, its partition's set keeps my"
is "$(rc SMISMEMBER "$(k drain)" "$jobA" "$jobB" | tr '\n' ' ')" "1 0 " \
	"  the emptied file tag's job ended; the partition's goes on"
is "$(rc HEXISTS "$(k dead)" "$A") $(rc HEXISTS "$(k dead)" "$B")" "1 0" \
	"  so did the file tag's mark only"
is "$(rc SMISMEMBER "$(k tags)" "$A" "$B" | tr '\n' ' ')" "1 0 " \
	"  and only the file tag left the list of tags"
rc DEL "$(k drain)" "$(k dead)" "$(k cur)" "$(k "t:$A")" > /dev/null
rc SREM "$(k tags)" "$A" > /dev/null

done_testing
