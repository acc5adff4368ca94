#!/bin/sh
# cluster-invalidate: ice-invalidate on a real Redis Cluster (three masters
# with a replica each) through the failover of a master. An independent
# client, Python's redis.cluster.RedisCluster, writes entries per
# icecache-keys(7) over many tables and reads them back; ice-invalidate is
# fed half the commits, a master is killed with SIGKILL, the other half
# follows while its replica takes over. Afterwards every key is read: each
# entry whose invalidation was reported is gone (the mark was acknowledged
# by a replica before it was reported: WAIT), the entries no commit made
# stale are all there, and the invalidator exited 0.
. "$top_srcdir/tests/cli/lib.sh"

python_redis
start_cluster
INV="$top_builddir/ice-invalidate"
TABLES=24 ENTRIES=120 FILES=6 # files f0 and f1 of every table go stale

# client MODE [ARGS]: the independent client on the cluster.
#   write: entries T/eN tagged file:T:f(N mod FILES) (no table tag: a
#     commit removing files leaves the other entries of its table), per the
#     contract (version key, entry hash and sets in the table's slot, then
#     the index); prints how many it read back intact.
#   port TABLE: the port of the master serving the table's slot.
#   check: "gone kept wrong" over every entry after the invalidations
#     (stale: file f0 or f1; a stale entry must have no hash and no index).
client() {
	"$PY" - "$CLUSTER_PORTS" "$TABLES" "$ENTRIES" "$FILES" "$@" 2>> "$TMP/client.err" <<'PY'
import sys, time
from redis.cluster import RedisCluster, ClusterNode
ports, tables, entries, files, mode = sys.argv[1].split(), *map(int, sys.argv[2:5]), sys.argv[5]
for attempt in range(60):
    try:
        rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", int(p)) for p in ports],
                          decode_responses=True, cluster_error_retry_attempts=10)
        break
    except Exception:
        time.sleep(0.5) # a seed may be the node just killed
P = "icecache"
def entry(t, n):
    return "%s/e%d" % (t, n), "file:%s:f%d" % (t, n % files)
if mode == "port":
    print(rc.get_node_from_key("%s:{%s}:seq" % (P, sys.argv[6])).port)
    sys.exit(0)
if mode == "write":
    rc.set(P + ":layout", "2", nx=True)
    for i in range(tables):
        t = "db.t%d" % i
        pipe = rc.pipeline()
        for n in range(entries):
            k, f = entry(t, n)
            pipe.hset("%s:{%s}:e:%s" % (P, t, k), mapping={
                "v": "value of " + k, "created": 1, "expires": 0, "size": len("value of " + k),
                "hits": 0, "origin": "python", "tags": f})
            pipe.sadd("%s:{%s}:all" % (P, t), k)
            pipe.sadd("%s:{%s}:t:%s" % (P, t, f), k)
            pipe.sadd("%s:{%s}:tags" % (P, t), f)
        pipe.execute()
        pipe = rc.pipeline()
        for n in range(entries):
            pipe.set("%s:k:%s" % (P, entry(t, n)[0]), t)
        pipe.execute()
ok = gone = kept = wrong = 0
for i in range(tables):
    t = "db.t%d" % i
    for n in range(entries):
        k, f = entry(t, n)
        for attempt in range(100):
            try:
                v = rc.hget("%s:{%s}:e:%s" % (P, t, k), "v")
                idx = rc.get("%s:k:%s" % (P, k))
                break
            except Exception:
                time.sleep(0.2) # the failover still settling
        stale = n % files < 2
        if mode == "write":
            ok += v == "value of " + k and idx == t
        elif stale and v is None and idx is None:
            gone += 1
        elif not stale and v == "value of " + k and idx == t:
            kept += 1
        else:
            wrong += 1
print(ok if mode == "write" else "%d %d %d" % (gone, kept, wrong))
PY
}

# commits FIRST LAST: the records of one commit per table db.tFIRST..LAST
# (files f0 and f1 removed), as ice-diff writes them.
commits() {
	i=$1
	while [ "$i" -le "$2" ]; do
		for f in f0 f1; do
			printf '{"kind":"file","table":"db.t%d","change":"removed","content":"data","file_path":"%s","partition_key":""}\n' "$i" "$f"
		done
		printf '{"kind":"diff","table":"db.t%d","from":1,"to":2,"scope":"files","data_preserving":false,"partitions":[]}\n' "$i"
		i=$((i + 1))
	done
}
reported() { count_lines "$TMP/out" '"kind":"invalidated"'; }
half_reported() { [ "$(reported)" -ge $((TABLES / 2)) ]; }

is "$(client write)" "$((TABLES * ENTRIES))" "RedisCluster wrote $((TABLES * ENTRIES)) entries per icecache-keys(7) and read them back"

# The master of db.t0 (invalidated before the kill) dies after the first half.
victim=$(client port db.t0)
vpid=""
# shellcheck disable=SC2086 # a list of PIDs, split on purpose
set -- $CLUSTER_PIDS
for p in $CLUSTER_PORTS; do
	[ "$p" = "$victim" ] && vpid=$1
	shift
done
check "the master of db.t0 is one of ours (port $victim)" test -n "$vpid"

mkfifo "$TMP/in"
"$INV" --url "$CLUSTER_URL" < "$TMP/in" > "$TMP/out" 2> "$TMP/err" &
inv=$!
exec 3> "$TMP/in"
commits 0 $((TABLES / 2 - 1)) >&3
wait_for 120 half_reported
is "$(reported)" "$((TABLES / 2))" "first half: every commit reported invalidated"
kill -9 "$vpid"
commits $((TABLES / 2)) $((TABLES - 1)) >&3
exec 3>&-
wait "$inv"
is "$?" "0" "ice-invalidate went on through the failover and exited 0 ($(head -c 300 "$TMP/err"))"
is "$(reported)" "$TABLES" "every commit reported invalidated"
is "$(grep -o '"entries_removed":[0-9]*' "$TMP/out" | cut -d: -f2 | sort -u | tr '\n' ' ')" \
	"$((ENTRIES * 2 / FILES)) " "each invalidation removed exactly its table's stale entries"
is "$(client check)" "$((TABLES * ENTRIES * 2 / FILES)) $((TABLES * ENTRIES * 4 / FILES)) 0" \
	"after the failover: every stale entry gone (hash and index), every other one intact"
done_testing
