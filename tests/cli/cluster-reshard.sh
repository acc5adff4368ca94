#!/bin/sh
# cluster-reshard: `ice-snapshot watch | ice-diff | ice-invalidate` on a
# real Redis Cluster (three masters with a replica each) while
# `redis-cli --cluster reshard` moves the slots of the tables being
# invalidated to another master. Entries are written by ice-cache put and
# by an independent client (Python's redis.cluster.RedisCluster, per
# icecache-keys(7)); commits keep coming, each waited for, as long as the
# reshard runs, and one more after it (a slot map the invalidator took
# before the reshard ended answers MOVED). Afterwards every key is read:
# the entries of removed files are gone (hash and index), the others
# intact, every table's cursor is at its last commit, and the pipeline
# never failed. (ASK, deterministically: tests/unit/test-cluster.c.)
. "$top_srcdir/tests/cli/lib.sh"

python_redis
start_cluster
CACHE="$top_builddir/ice-cache"
INV="$top_builddir/ice-invalidate"
TABLES=4 FILES=8
# shellcheck disable=SC2086 # a list of ports, split on purpose
set -- $CLUSTER_PORTS
seed=$1

node_of() { cluster_master_of "$seed" "$1"; }
# The tables: the first db.rN in the lowest slots of the master of slot 0,
# which `reshard --cluster-from` gives away first.
from=$(node_of 0)
names="" last=0 n=0
while [ "$(echo "$names" | wc -w)" -lt "$TABLES" ] && [ "$n" -lt 2000 ]; do
	s=$(cluster_cli "$seed" CLUSTER KEYSLOT "db.r$n")
	if [ "$s" -lt 1500 ] && [ "$(node_of "$s")" = "$from" ]; then
		names="$names db.r$n"
		[ "$s" -gt "$last" ] && last=$s
	fi
	n=$((n + 1))
done
to=$(node_of 16383)
check "$TABLES tables in slots 0..$last of ${from#* }, to move to ${to#* }" \
	test "$(echo "$names" | wc -w)" = "$TABLES" -a "${to#* }" != "${from#* }"

dirs=""
for t in $names; do
	d="$TMP/wh/db/${t#db.}"
	if ! "$MKTABLE" create "$d" --seed "${t#db.r}" --partition "identity(category)" > /dev/null ||
		! "$MKTABLE" append "$d" --files "$FILES" > /dev/null; then
		echo "Bail out! ice-mktable failed"
		exit 1
	fi
	dirs="$dirs $d"
done

# The pipeline, for the whole test; stopped by stopping its watch.
mkfifo "$TMP/snaps"
# shellcheck disable=SC2086 # a list of folders, split on purpose
"$ICE_SNAPSHOT" watch --interval 100ms $dirs > "$TMP/snaps" 2> "$TMP/watch.err" &
watch=$!
track_pid $watch
("$ICE_DIFF" < "$TMP/snaps" | "$INV" --url "$CLUSTER_URL" > "$TMP/inv.out" 2> "$TMP/inv.err"
	echo $? > "$TMP/inv.status") &
track_pid $!
reported() { count_lines "$TMP/inv.out" '"kind":"invalidated"'; }
at_least() { _r=$(reported); [ "${_r:-0}" -ge "$1" ]; }
check "pipeline: every table's first snapshot seen" wait_for 60 at_least "$TABLES"

# Two entries per file: P-T-N put by ice-cache, Y-T-N by the Python client.
: > "$TMP/entries"
for d in $dirs; do
	t="db.${d##*/}"
	"$MKTABLE" list "$d" | $JSONQ 'r["file_path"]' | awk -v t="$t" '{ print t, NR, $0 }' >> "$TMP/entries"
done
while read -r t i f; do
	"$CACHE" --url "$CLUSTER_URL" put "P-$t-$i" --file "$t:$f" --value "value of P-$t-$i" ||
		echo "Bail out! ice-cache put failed"
done < "$TMP/entries"

# client write|check: the Python client over the entries file (TABLE N
# PATH). write: Y-T-N tagged file:T:PATH per icecache-keys(7), then reads
# back "ok bad". check: every P- and Y- entry read, hash and index:
# "gone kept wrong", an entry being stale when its PATH is in $TMP/removed.
client() {
	"$PY" - "$CLUSTER_PORTS" "$TMP/entries" "$TMP/removed" "$1" 2>> "$TMP/client.err" <<'PY'
import sys
from redis.cluster import RedisCluster, ClusterNode
ports, entries, removed, mode = sys.argv[1].split(), sys.argv[2], sys.argv[3], sys.argv[4]
rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", int(p)) for p in ports],
                  decode_responses=True)
P = "icecache"
rows = [l.rstrip("\n").split(" ", 2) for l in open(entries)]
if mode == "write":
    for t, n, f in rows:
        k, tag, v = "Y-%s-%s" % (t, n), "file:%s:%s" % (t, f), "value of Y-%s-%s" % (t, n)
        rc.hset("%s:{%s}:e:%s" % (P, t, k), mapping={"v": v, "created": 1, "expires": 0,
                "size": len(v), "hits": 0, "origin": "python", "tags": tag})
        rc.sadd("%s:{%s}:all" % (P, t), k)
        rc.sadd("%s:{%s}:t:%s" % (P, t, tag), k)
        rc.sadd("%s:{%s}:tags" % (P, t), tag)
        rc.set("%s:k:%s" % (P, k), t)
stale = set(l.rstrip("\n") for l in open(removed)) if mode == "check" else set()
counts = [0, 0, 0]
for t, n, f in rows:
    for who in ("P", "Y") if mode == "check" else ("Y",):
        k = "%s-%s-%s" % (who, t, n)
        v, idx = rc.hget("%s:{%s}:e:%s" % (P, t, k), "v"), rc.get("%s:k:%s" % (P, k))
        if f in stale:
            counts[0 if v is None and idx is None else 2] += 1
        else:
            counts[1 if v == "value of " + k and idx == t else 2] += 1
print("%d %d" % (counts[1], counts[2]) if mode == "write" else "%d %d %d" % tuple(counts))
PY
}
: > "$TMP/removed"
total=$((TABLES * FILES))
is "$(client write)" "$total 0" "RedisCluster wrote $total entries per icecache-keys(7) and read them back"

# round N: a commit per table removing its Nth file; waits until each is
# invalidated.
round() {
	_want=$(($(reported) + TABLES))
	for d in $dirs; do
		t="db.${d##*/}"
		f=$(awk -v t="$t" -v n="$1" '$1 == t && $2 == n { print $3 }' "$TMP/entries")
		echo "$f" >> "$TMP/removed"
		"$MKTABLE" delete "$d" --path "$f" > /dev/null || echo "Bail out! ice-mktable delete failed"
	done
	wait_for 60 at_least "$_want"
}

cluster_cli "$seed" --cluster reshard "127.0.0.1:$seed" --cluster-from "${from% *}" \
	--cluster-to "${to% *}" --cluster-slots $((last + 1)) --cluster-yes \
	> "$TMP/reshard.log" 2>&1 &
reshard=$!
track_pid $reshard
rounds=0 during=0
while kill -0 "$reshard" 2> /dev/null && [ "$rounds" -lt $((FILES - 2)) ]; do
	rounds=$((rounds + 1))
	round "$rounds" || break
	during=$((during + 1))
done
wait "$reshard"
is "$?" "0" "redis-cli --cluster reshard moved $((last + 1)) slots ($during commits per table begun while it ran)"
moved=0
for t in $names; do
	[ "$(node_of "$(cluster_cli "$seed" CLUSTER KEYSLOT "$t")")" = "$to" ] && moved=$((moved + 1))
done
is "$moved" "$TABLES" "every table's slot is now on ${to#* }"
rounds=$((rounds + 1))
check "a commit per table after the reshard (through MOVED, if its slot map predates it) is invalidated" round "$rounds"
is "$(reported)" "$((TABLES * (rounds + 1)))" "one invalidated record per transition ($rounds commits per table)"
is "$(client check)" "$((TABLES * rounds * 2)) $(((FILES - rounds) * TABLES * 2)) 0" \
	"every key read: the entries of removed files gone, the others intact"

last_ok=0
for d in $dirs; do
	t="db.${d##*/}"
	want=$("$ICE_SNAPSHOT" show "$d" | $JSONQ 'r["snapshot_id"]')
	got=$(cluster_cli "$seed" -c GET "icecache:{$t}:c:invalidated" | $JSONQ 'r["snapshot_id"]')
	[ "$got" = "$want" ] && last_ok=$((last_ok + 1))
done
is "$last_ok" "$TABLES" "every table's cursor is at its last commit"
"$CACHE" --url "$CLUSTER_URL" get "P-$(echo "$names" | cut -d' ' -f2)-$FILES" > "$TMP/get.out"
is "$?" "0" "ice-cache get of a kept entry after the reshard: a hit"

kill "$watch"
wait_for 30 test -s "$TMP/inv.status"
is "$(cat "$TMP/inv.status")" "0" "the invalidator ran through the reshard and exited 0 ($(head -c 300 "$TMP/inv.err"))"
done_testing
