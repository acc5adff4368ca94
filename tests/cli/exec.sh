#!/bin/sh
# exec: ice-cache exec on each backend (real redis-server; SQLite): hit and miss, the
# command run once for parallel callers, exit statuses and signals passed
# through and never cached, output streamed, stderr untouched, keys derived
# from the command line and --source files, locks left by others, TTL hints
# and the cache being unreachable.
. "$top_srcdir/tests/cli/lib.sh"

start_cache
C="$top_builddir/ice-cache"

# hold_lock NAME MS: a lock on NAME held by someone else for MS.
hold_lock() {
	if on_redis; then
		cache_cli SET "icecache:l:$1" sometoken PX "$2" > /dev/null
	else
		python3 -c 'import sqlite3, sys, time
with sqlite3.connect(sys.argv[1]) as db:
    db.execute("INSERT INTO locks VALUES (?, ?, ?, ?)",
               ("icecache", sys.argv[2], "sometoken", int(time.time() * 1000) + int(sys.argv[3])))' \
			"$CACHE_DB" "$1" "$2"
	fi
}
locks_left() {
	if on_redis; then
		cache_keys 'icecache:l:*' | wc -l | tr -d ' '
	else
		sql "SELECT count(*) FROM locks"
	fi
}
cd "$TMP" || exit 1

# A command that counts its runs in a file and says which run it was.
cat > count.sh <<'SH'
#!/bin/sh
echo run >> "$1"
echo "out of run $(wc -l < "$1" | tr -d ' ')"
echo "to stderr" >&2
SH
chmod +x count.sh

# Miss, then hit: the second call prints the first call's output.
"$C" exec k1 -- ./count.sh c1 > out1 2> err1
is "$?:$(cat out1)" "0:out of run 1" "miss: runs the command, exit 0, its output"
is "$(cat err1)" "to stderr" "miss: the command's stderr passes through"
"$C" exec k1 -- ./count.sh c1 > out2 2> err2
is "$?:$(cat out2):$(wc -l < c1 | tr -d ' ')" "0:out of run 1:1" "hit: the stored output, the command not run"
is "$(wc -c < err2 | tr -d ' ')" "0" "hit: stderr was never cached"
is "$("$C" get k1)" "out of run 1" "the entry is readable with get"
is "$("$C" info k1 | $JSONQ 'r["origin"]')" "exec" "origin is exec"

# Single flight: five callers at once, one run; the others wait for it.
cat > gated.sh <<'SH'
#!/bin/sh
echo run >> "$1"
while [ ! -e "$2" ]; do sleep 0.05; done
echo "result of pid $$"
SH
chmod +x gated.sh
pids=""
for i in 1 2 3 4 5; do
	"$C" exec sf --table db.t -- ./gated.sh sf.count gate > "sf.$i" 2> "sf.err.$i" &
	pids="$pids $!"
done
wait_for 10 test -s sf.count
sleep 1 # let the other callers reach the lock while the first still runs
touch gate
st=0
for p in $pids; do wait "$p" || st=1; done
is "$st" "0" "single flight: all five callers exit 0"
is "$(wc -l < sf.count | tr -d ' ')" "1" "single flight: the command ran once"
is "$(cat sf.1 sf.2 sf.3 sf.4 sf.5 | sort -u | wc -l | tr -d ' ')" "1" "single flight: all five outputs are identical"
like "$(cat sf.1)" "result of pid" "single flight: the output is the command's"
is "$(locks_left)" "0" "single flight: no lock left behind"

# Exit statuses pass through; failures are not cached.
"$C" exec k3 -- sh -c 'echo partial; exit 3' > out3
is "$?:$(cat out3)" "3:partial" "exit 3 passes through with the output"
"$C" get k3 > /dev/null
is "$?" "1" "a failed run is not cached"
"$C" exec k3 -- sh -c 'echo fixed' > out3
is "$?:$(cat out3)" "0:fixed" "the next call runs again and succeeds"
"$C" exec k4 -- sh -c 'echo before; kill -TERM $$' > out4
is "$?:$(cat out4)" "143:before" "a signal passes through as 128+N"
"$C" get k4 > /dev/null
is "$?" "1" "a killed run is not cached"
"$C" exec k5 -- no-such-command-here > /dev/null 2> err5
is "$?" "127" "a command that does not exist: 127, like a shell"
like "$(cat err5)" "no-such-command-here: command not found" "and says so"
"$C" exec k6 -- true
is "$?:$("$C" get k6 | wc -c | tr -d ' ')" "0:0" "empty output of a success is cached"

# Output streams: the first line is visible while the command still runs.
cat > slow.sh <<'SH'
#!/bin/sh
echo first
while [ ! -e "$1" ]; do sleep 0.05; done
echo second
SH
chmod +x slow.sh
"$C" exec stream -- ./slow.sh stream.gate > stream.out &
spid=$!
track_pid $spid
wait_for 10 grep -q first stream.out
is "$?:$(cat stream.out)" "0:first" "streaming: partial output is visible before the command ends"
check "streaming: the command is still running" kill -0 $spid
touch stream.gate
wait $spid
is "$?:$(tr '\n' ' ' < stream.out)" "0:first second " "streaming: the whole output at the end"
is "$("$C" get stream | tr '\n' ' ')" "first second " "streaming: the whole output is cached"

# A reader that goes away early does not lose the result.
"$C" exec big -- seq 200000 | head -1 > /dev/null
is "$("$C" get big | wc -l | tr -d ' ')" "200000" "a closed pipe: the full output is still cached"

# --key-from-args with --source: a changed input file never serves an old result.
echo v1 > data.txt
touch -d '2024-01-01 00:00:00' data.txt
cat > cat-count.sh <<'SH'
#!/bin/sh
echo run >> "$1"
cat "$2"
SH
chmod +x cat-count.sh
"$C" exec --key-from-args --source data.txt -- ./cat-count.sh src.count data.txt > o1
"$C" exec --key-from-args --source data.txt -- ./cat-count.sh src.count data.txt > o2
is "$(cat o1):$(cat o2):$(wc -l < src.count | tr -d ' ')" "v1:v1:1" "key-from-args: second call is a hit"
echo v2 > data.txt
touch -d '2024-01-02 00:00:00' data.txt
"$C" exec --key-from-args --source data.txt -- ./cat-count.sh src.count data.txt > o3
is "$(cat o3):$(wc -l < src.count | tr -d ' ')" "v2:2" "key-from-args: a changed source runs again"
echo v3-longer > data.txt
touch -d '2024-01-02 00:00:00' data.txt
"$C" exec --key-from-args --source data.txt -- ./cat-count.sh src.count data.txt > o4
is "$(cat o4):$(wc -l < src.count | tr -d ' ')" "v3-longer:3" "key-from-args: same mtime, other size runs again"
"$C" exec --key-from-args --source data.txt -- ./cat-count.sh src.count ./data.txt > o5
is "$(wc -l < src.count | tr -d ' ')" "4" "key-from-args: other arguments, other key"
is "$("$C" ls 'exec:cat-count.sh:*' | wc -l | tr -d ' ')" "4" "key-from-args: keys are exec:NAME:DIGEST"
"$C" exec --key-from-args --source missing.txt -- cat missing.txt > /dev/null 2> err
is "$?" "1" "key-from-args: a missing --source is an error"
like "$(cat err)" "missing.txt" "and names it"

# A lock left by a crashed holder: the caller waits until it expires, then runs.
hold_lock crashed 1500
"$C" exec crashed -- ./count.sh crashed.count > out 2> /dev/null
is "$?:$(cat out)" "0:out of run 1" "a stale lock: the caller takes over once it expires"
# A lock that outlives --lock-timeout: the waiter runs the command itself.
hold_lock held 60000
"$C" exec held --lock-timeout 500ms -- ./count.sh held.count > out 2> err
is "$?:$(cat out)" "0:out of run 1" "waiter past --lock-timeout runs the command itself"
like "$(cat err)" "still locked" "and warns about it"

# TTL hints: smart is exec_ttl (built in: 1h); until-invalidated has none.
ttl_of() { "$C" info "$1" | $JSONQ 'r["expires_ms"] - r["created_ms"] if r["expires_ms"] else 0'; }
is "$(ttl_of k1)" "3600000" "--ttl smart (default): an hour"
"$C" exec forever --ttl until-invalidated -- echo x > /dev/null
is "$(ttl_of forever)" "0" "--ttl until-invalidated: no TTL"
"$C" exec short --ttl 90s -- echo x > /dev/null
is "$(ttl_of short)" "90000" "--ttl 90s"
mkdir -p "$XDG_CONFIG_HOME/icecache"
echo "exec_ttl = 10m" > "$XDG_CONFIG_HOME/icecache/config"
"$C" exec configured -- echo x > /dev/null
is "$(ttl_of configured)" "600000" "exec_ttl from the configuration file"
rm "$XDG_CONFIG_HOME/icecache/config"

# Served until ice-invalidate removes it.
"$C" exec report --partition "db.orders:day=2024-01-01" -- ./count.sh report.count > /dev/null 2>&1
"$C" exec report --partition "db.orders:day=2024-01-01" -- ./count.sh report.count > /dev/null 2>&1
is "$(wc -l < report.count | tr -d ' ')" "1" "tagged result served from the cache"
printf '%s\n' '{"kind":"diff","table":"db.orders","from":1,"to":2,"scope":"files","data_preserving":false,"partitions":[{"spec_id":0,"partition_key":"day=2024-01-01"}]}' |
	"$top_builddir/ice-invalidate" > /dev/null
"$C" exec report --partition "db.orders:day=2024-01-01" -- ./count.sh report.count > out 2>&1
is "$(wc -l < report.count | tr -d ' ')" "2" "after ice-invalidate the command runs again"

# The cache unreachable: the command still runs, with a warning.
"$C" --url "unix://$TMP/none.sock" exec k1 -- sh -c 'echo live; exit 4' > out 2> err
is "$?:$(cat out)" "4:live" "cache unreachable: the command runs uncached, status passes"
like "$(cat err)" "warning: working without the cache" "cache unreachable: warned"

# Usage errors.
"$C" exec k1 2> /dev/null
is "$?" "2" "no '-- COMMAND': exit 2"
"$C" exec -- echo x 2> /dev/null
is "$?" "2" "neither KEY nor --key-from-args: exit 2"
"$C" exec k1 --key-from-args -- echo x 2> /dev/null
is "$?" "2" "both KEY and --key-from-args: exit 2"
"$C" exec k1 --source data.txt -- echo x 2> /dev/null
is "$?" "2" "--source without --key-from-args: exit 2"
"$C" exec k1 --lock-timeout soon -- echo x 2> /dev/null
is "$?" "2" "bad --lock-timeout: exit 2"
"$C" exec k1 --ttl sometimes -- echo x 2> /dev/null
is "$?" "2" "bad --ttl: exit 2"

done_testing
