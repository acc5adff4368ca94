#!/bin/sh
# cluster-nodedown: a Redis Cluster master with no replica killed with
# SIGKILL (three masters alone, serving their slots while one is down, each
# with an append-only file). Reading a key in its slots is a clear error
# (exit 3), never a hit nor a miss; invalidating a table in its slots exits
# 3 and leaves the table's cursor; keys and tables in the other masters'
# slots still work (get, put, invalidate). Once the master is back, its
# entries and cursor are as they were, and the invalidation redone removes
# them.
. "$top_srcdir/tests/cli/lib.sh"

CLUSTER_REPLICAS=0
CLUSTER_NODE_CONF="cluster-require-full-coverage no
appendonly yes
appendfsync always"
start_cluster
CACHE="$top_builddir/ice-cache"
INV="$top_builddir/ice-invalidate"
# A node refusing connections stays away: give up after 1 s, not 30.
ICE_CACHE_RECONNECT=1s
export ICE_CACHE_RECONNECT
# shellcheck disable=SC2086 # a list of ports, split on purpose
set -- $CLUSTER_PORTS
seed=$1
victim=$3
# shellcheck disable=SC2086 # a list of PIDs, split on purpose
set -- $CLUSTER_PIDS
vpid=$3

# owner KEY: the port of the master serving KEY's slot.
owner() {
	_owner=$(cluster_master_of "$seed" "$(cluster_cli "$seed" CLUSTER KEYSLOT "$1")")
	echo "${_owner#* }"
}
# first_name PREFIX WHERE KEYS_OF: the first PREFIXN (N = 0, 1, ...)
# such that the first of the keys KEYS_OF NAME prints is served by the
# victim (WHERE = down), or none of them is (WHERE = up).
first_name() {
	_n=0
	while [ "$_n" -lt 200 ]; do
		_name=$1$_n
		_on=$($3 "$_name" | while read -r _k; do owner "$_k"; done)
		if { [ "$2" = down ] && [ "$(echo "$_on" | head -n 1)" = "$victim" ]; } ||
			{ [ "$2" = up ] && ! echo "$_on" | grep -qx "$victim"; }; then
			echo "$_name"
			return 0
		fi
		_n=$((_n + 1))
	done
	return 1
}
table_key() { echo "icecache:{$1}:seq"; }
index_key() { echo "icecache:k:$1"; }
# A key with no index also counts a miss in the global counters
# P:{s:N}:gstats, N from KEY's slot (icecache-keys(7)): a key "elsewhere"
# has both away from the victim (a miss counted on a dead master fails).
miss_keys() {
	index_key "$1"
	echo "icecache:{s:$(($(cluster_cli "$seed" CLUSTER KEYSLOT "$1") % 16))}:gstats"
}
tdown=$(first_name 'db.d' down table_key)
tup=$(first_name 'db.u' up table_key)
kdown=$(first_name 'kd' down index_key) # index and entry on the victim
kmix=$(first_name 'km' up miss_keys)    # index elsewhere, entry on the victim
kup=$(first_name 'ku' up miss_keys)     # index and entry elsewhere
kup2=$(first_name 'kv' up miss_keys)
check "tables and keys on the victim (port $victim) and elsewhere" \
	test -n "$tdown" -a -n "$tup" -a -n "$kdown" -a -n "$kmix" -a -n "$kup" -a -n "$kup2"
# The layout version is read by every program: its master stays up here.
[ "$(owner icecache:layout)" != "$victim" ] || { echo "Bail out! the victim serves icecache:layout"; exit 1; }

put() { echo "value of $1" | "$CACHE" --url "$CLUSTER_URL" put "$1" --file "$2:f0"; }
put "$kdown" "$tdown" && put "$kmix" "$tdown" && put "$kup" "$tup"
ok $? "three entries put: two in $tdown (victim's slots), one in $tup"

# commit TABLE FROM TO FILE: ice-diff's records of a commit removing FILE.
commit() {
	printf '{"kind":"file","table":"%s","change":"removed","content":"data","file_path":"%s","partition_key":""}\n' "$1" "$4"
	printf '{"kind":"diff","table":"%s","from":%d,"to":%d,"scope":"files","data_preserving":false,"partitions":[]}\n' "$1" "$2" "$3"
}
cursor() { cluster_cli "$(owner "icecache:{$1}:c:invalidated")" GET "icecache:{$1}:c:invalidated"; }
{ commit "$tdown" 1 2 gone.parquet; commit "$tup" 1 2 gone.parquet; } |
	"$INV" --url "$CLUSTER_URL" > /dev/null
is "$?" "0" "both tables invalidated once (cursors set)"
cdown=$(cursor "$tdown")
like "$cdown" '"snapshot_id":2' "the cursor of $tdown is at snapshot 2"

kill -KILL "$vpid"
wait "$vpid" 2> /dev/null

get() { "$CACHE" --url "$CLUSTER_URL" get "$1" > "$TMP/get.out" 2> "$TMP/get.err"; }
get "$kdown"
is "$?" "3" "get of a key whose slots are on the dead master: exit 3"
like "$(cat "$TMP/get.err")" "ice-cache: error:" "with an error on stderr ($(head -n 1 "$TMP/get.err"))"
like "$(cat "$TMP/get.err")" "127.0.0.1:$victim" "naming the node"
is "$(wc -l < "$TMP/get.err")" "1" "in one line"
check "and nothing on stdout (no stale hit)" test ! -s "$TMP/get.out"
get "$kmix"
is "$?" "3" "get of a key indexed elsewhere, its entry on the dead master: exit 3, not a miss"
check "and nothing on stdout" test ! -s "$TMP/get.out"
get "$kup"
is "$?" "0" "get of a key in a live master's slots: a hit"
is "$(cat "$TMP/get.out")" "value of $kup" "with its value"
echo "new value" | "$CACHE" --url "$CLUSTER_URL" put "$kup2" --file "$tup:f1"
is "$?" "0" "put in a live master's slots works"
get "$kup2"
is "$(cat "$TMP/get.out")" "new value" "and reads back"

commit "$tdown" 2 3 f0 | "$INV" --url "$CLUSTER_URL" > "$TMP/inv.out" 2> "$TMP/inv.err"
is "$?" "3" "ice-invalidate of a table in the dead master's slots: exit 3"
like "$(cat "$TMP/inv.err")" "ice-invalidate: error:" "with an error ($(head -n 1 "$TMP/inv.err"))"
like "$(cat "$TMP/inv.err")" "127.0.0.1:$victim" "naming the node"
is "$(count_lines "$TMP/inv.out" '"kind":"invalidated"')" "0" "and no invalidation reported"
commit "$tup" 2 3 f0 | "$INV" --url "$CLUSTER_URL" > "$TMP/inv.out" 2> "$TMP/inv.err"
is "$?" "0" "ice-invalidate of a table in a live master's slots: exit 0"
get "$kup"
is "$?" "1" "its stale entry is gone ($(cat "$TMP/get.err"))"
get "$kup2"
is "$?" "0" "its entry on another file is kept"
like "$(cursor "$tup")" '"snapshot_id":3' "its cursor moved to snapshot 3"

# The master comes back from its append-only file with its slots.
vdir=$(ls -d "$TMP"/cluster/*-"$victim")
redis-server "$vdir/redis.conf" > "$vdir/redis.log.2" 2>&1 &
track_pid $!
back() { get "$kdown" && [ "$(cluster_cli "$victim" CLUSTER INFO | tr -d '\r' | grep state)" = "cluster_state:ok" ]; }
check "the master restarted and serves its slots again" wait_for 60 back
is "$(cat "$TMP/get.out")" "value of $kdown" "its entry was never invalidated: still there to be redone"
is "$(cursor "$tdown")" "$cdown" "the cursor of $tdown did not move"
commit "$tdown" 2 3 f0 | "$INV" --url "$CLUSTER_URL" > /dev/null
is "$?" "0" "the invalidation redone: exit 0"
get "$kdown"
is "$?" "1" "now the stale entry is gone"
get "$kmix"
is "$?" "1" "both of them"
like "$(cursor "$tdown")" '"snapshot_id":3' "and the cursor moved to snapshot 3"
done_testing
