#!/bin/sh
# stat-serve: `ice-stat serve` over HTTP on a private port, on each
# backend (a real redis-server; the SQLite file). A real
# Prometheus (Debian's prometheus package, its own port and storage in a
# temp dir) scrapes it and its query API sees hits and invalidations per
# table move as ice-cache and ice-invalidate run; 404 and 405 for what is
# not a GET of /metrics; 20 scrapes at once all answered; idle clients do
# not block others and are dropped; a stopped Redis (a SQLite file that
# can no longer be opened) is reported as icecache_up 0 without the server
# falling over; SIGTERM stops it.
. "$top_srcdir/tests/cli/lib.sh"

command -v curl > /dev/null || skip_all "curl not installed (scripts/setup installs it)"
start_cache
BE=$ICE_TEST_BACKEND # the backend label in the metrics
[ "$BE" != cluster ] || BE=redis # a cluster is Redis too
S="$top_builddir/ice-stat"
C="$top_builddir/ice-cache"
INV="$top_builddir/ice-invalidate"

"$S" serve --listen 127.0.0.1:0 > "$TMP/serve.out" 2> "$TMP/serve.err" &
spid=$!
track_pid $spid
wait_for 10 test -s "$TMP/serve.out" || { echo "Bail out! ice-stat serve did not start: $(cat "$TMP/serve.err")"; exit 1; }
url=$($JSONQ 'r["url"]' < "$TMP/serve.out")
base=${url%/metrics}
hostport=${base#http://}
like "$url" "http://127.0.0.1:" "serve: announces where it listens"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
is "$(code "$url")" "200" "GET /metrics: 200"
is "$(curl -s -D - -o /dev/null "$url" | grep -i '^content-type:' | tr -d '\r')" \
	"Content-Type: text/plain; version=0.0.4; charset=utf-8" "GET /metrics: the exposition format's content type"
is "$(code -I "$url")" "200" "HEAD /metrics: 200"
is "$(code "$base/")" "200" "GET /: 200 (a page linking /metrics)"
is "$(code "$base/nope")" "404" "GET of another path: 404"
is "$(code "$base/metrics/x")" "404" "GET /metrics/x: 404"
for m in POST PUT DELETE; do
	is "$(code -X $m -d 'x=1' "$url")" "405" "$m /metrics: 405"
done
like "$(curl -s -D - -o /dev/null -X POST "$url" | tr -d '\r')" "Allow: GET, HEAD" "405 names the allowed methods"
if command -v promtool > /dev/null; then
	curl -s "$url" | promtool check metrics > "$TMP/lint" 2>&1
	is "$?:$(cat "$TMP/lint")" "0:" "promtool check metrics accepts what serve answers"
fi

# Idle clients (a request that never ends) do not block the others, and the
# server drops them after its timeout.
python3 - "$hostport" > "$TMP/idle" 2>&1 <<'EOF' &
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
conns = [socket.create_connection((host, int(port))) for _ in range(10)]
for c in conns:
    c.sendall(b"GET /metr")
print("open", flush=True)
conns[0].settimeout(60)
print("dropped" if conns[0].recv(1024) == b"" else "answered", flush=True)
EOF
idle=$!
track_pid $idle
wait_for 10 grep -q open "$TMP/idle"
is "$(code --max-time 20 "$url")" "200" "a scrape while 10 clients sit idle: 200"

# 20 scrapes at once.
i=0
while [ $i -lt 20 ]; do
	curl -s -o "$TMP/par.$i" -w '%{http_code}\n' --max-time 30 "$url" > "$TMP/code.$i" &
	i=$((i + 1))
done
wait_for 60 sh -c "[ \$(cat '$TMP'/code.* 2>/dev/null | grep -c .) -eq 20 ]"
is "$(cat "$TMP"/code.* | sort | uniq -c | tr -s ' ')" " 20 200" "20 concurrent scrapes: all 200"
is "$(cat "$TMP"/par.* | grep -c "^icecache_up{backend=\"$BE\"} 1\$")" "20" "20 concurrent scrapes: all complete"

wait $idle
is "$(tail -n 1 "$TMP/idle")" "dropped" "an idle client is dropped after the timeout"

# A real Prometheus scrapes it.
if ! command -v prometheus > /dev/null; then
	echo "ok $((_n += 1)) # SKIP prometheus not installed (scripts/setup installs Debian's prometheus)"
else
	pport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat > "$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: icecache
    static_configs:
      - targets: ['$hostport']
EOF
	prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom-data" \
		--web.listen-address="127.0.0.1:$pport" > "$TMP/prom.log" 2>&1 &
	ppid_=$!
	track_pid $ppid_
	# promq QUERY: the values of an instant query, sorted, space-separated.
	promq() {
		curl -s --max-time 5 "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
			$JSONQ '" ".join(sorted(x["value"][1] for x in r["data"]["result"]))' 2> /dev/null
	}
	prom_is() { [ "$(promq "$1")" = "$2" ]; }
	wait_for 60 prom_is 'up{job="icecache"}' 1
	ok $? "Prometheus scrapes ice-stat serve (up 1)"
	is "$(promq 'icecache_up')" "1" "Prometheus: icecache_up 1"

	"$C" put a --table db.t --value 12345
	"$C" put b --file db.t:f1 --value 1
	"$C" put c --table db.u --value 1
	"$C" get a > /dev/null
	"$C" get a > /dev/null
	"$C" get b > /dev/null
	"$C" get c > /dev/null
	"$C" get missing
	wait_for 30 prom_is 'icecache_table_hits_total{table="db.t"}' 3
	ok $? "Prometheus: db.t's hits went to 3"
	# The miss was the last read: once a scrape has it, it has every read
	# (a scrape between the reads would give a wrong hit rate below).
	wait_for 30 prom_is 'icecache_misses_total' 1
	ok $? "Prometheus: the miss on an unknown key was scraped"
	is "$(promq 'icecache_table_entries')" "1 2" "Prometheus: entries per table"
	is "$(promq 'sum(icecache_table_hits_total) / sum(icecache_hits_total + icecache_misses_total)')" "0.8" \
		"Prometheus: the hit rate, 4 hits in 5 reads"
	printf '%s\n' \
		'{"kind":"file","table":"db.t","change":"removed","content":"data","file_path":"f1","partition_key":""}' \
		'{"kind":"diff","table":"db.t","from":1,"to":2,"scope":"files","data_preserving":false,"partitions":[]}' |
		"$INV" > /dev/null
	wait_for 30 prom_is 'icecache_table_invalidated_entries_total{table="db.t"}' 2
	ok $? "Prometheus: db.t's invalidated entries went to 2"
	is "$(promq 'icecache_table_invalidations_total')" "0 1" "Prometheus: invalidations per table (db.u 0, db.t 1)"
	is "$(promq 'icecache_table_entries{table="db.t"}')" "0" "Prometheus: db.t has no entries left"
	is "$(promq 'icecache_table_last_invalidation_timestamp_seconds{table="db.t"} > 0')" \
		"$(promq 'icecache_table_last_invalidation_timestamp_seconds{table="db.t"}')" \
		"Prometheus: when db.t was last invalidated"

	# The Grafana dashboard: every query is valid PromQL for this Prometheus
	# and names only series ice-stat serves.
	dash="$top_srcdir/contrib/grafana/icecache.json"
	# shellcheck disable=SC2016 # Grafana's variables, replaced literally
	$JSONQ '"\n".join(t["expr"] for p in r["panels"] for t in p["targets"])' --doc < "$dash" |
		sed 's/\$__rate_interval/1m/g; s/\$backend/.*/g; s/\$table/.*/g' > "$TMP/exprs"
	bad=""
	while IFS= read -r e; do
		st=$(curl -s --max-time 5 "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$e" |
			$JSONQ 'r["status"]' 2> /dev/null)
		[ "$st" = success ] || bad="$bad [$e]"
	done < "$TMP/exprs"
	is "$(wc -l < "$TMP/exprs" | tr -d ' '):$bad" "$(wc -l < "$TMP/exprs" | tr -d ' '):" "dashboard: Prometheus accepts every query"
	curl -s "$url" | sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' | sort > "$TMP/served"
	grep -o 'icecache_[a-z_]*' "$TMP/exprs" | sort -u > "$TMP/used"
	is "$(comm -23 "$TMP/used" "$TMP/served" | tr '\n' ' ')" "" "dashboard: uses only series ice-stat serves"
	like "$(cat "$TMP/used")" "icecache_table_invalidations_total" "dashboard: invalidations per table"
	kill $ppid_
	wait $ppid_ 2> /dev/null
fi

# The cache goes away: Redis stopped; the SQLite file replaced by a
# folder, which cannot be opened. The server stays up and says so in the
# metrics.
if on_redis; then
	stop_cache_server
else
	rm -f "$CACHE_DB" "$CACHE_DB-wal" "$CACHE_DB-shm"
	mkdir "$CACHE_DB"
fi
curl -s "$url" > "$TMP/down"
like "$(cat "$TMP/down")" "icecache_up{backend=\"$BE\"} 0" "cache gone: icecache_up 0"
is "$(code "$url")" "200" "cache gone: the server still answers"
like "$(cat "$TMP/serve.err")" "ice-stat: warning: scrape: " "cache gone: a warning in the server's log"

# A port in use.
# (timeout: a server that wrongly shares the port would never return)
timeout 20 "$S" serve --listen "$hostport" > /dev/null 2> "$TMP/err"
is "$?" "1" "a port in use: exit 1"
like "$(cat "$TMP/err")" "cannot listen on $hostport" "a port in use: says so"

kill -TERM $spid
wait $spid
is "$?" "0" "SIGTERM: stops, exit 0"
is "$(code --max-time 5 "$url")" "000" "after SIGTERM nothing listens"
done_testing
