# lib.sh: TAP helpers for the command-line tests (sourced, POSIX sh).
# The variables it sets are for the scripts that source it:
# shellcheck shell=sh disable=SC2034
# Tests run the real binaries from the build tree in a private temp folder.

: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
ICE_SNAPSHOT="$top_builddir/ice-snapshot"
ICE_DIFF="$top_builddir/ice-diff"
MKTABLE="${ICE_MKTABLE:-$top_builddir/tests/mktable/ice-mktable}"
SHARED="$top_srcdir/../shared/iceberg"
JSONQ="python3 $top_srcdir/tests/cli/jsonq.py"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ice-test.XXXXXX")
# The user's own configuration and cache settings never leak into a test;
# the embedded default cache lives in the test's temp folder, never in the
# user's ~/.cache.
XDG_CONFIG_HOME="$TMP/xdg-config"
XDG_CACHE_HOME="$TMP/xdg-cache"
export XDG_CONFIG_HOME XDG_CACHE_HOME
unset ICE_CONFIG ICE_CACHE_PREFIX
_bg_pids=""
cleanup() {
	for p in $_bg_pids; do kill "$p" 2>/dev/null; done
	for p in $_bg_pids; do wait "$p" 2>/dev/null; done
	if [ -n "${ICE_TEST_KEEP:-}" ]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

_n=0
_failed=0

ok() { # ok STATUS DESCRIPTION
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_failed=$((_failed + 1))
	fi
}

check() { # check DESCRIPTION COMMAND...: passes when COMMAND succeeds
	_d=$1
	shift
	if "$@"; then ok 0 "$_d"; else ok 1 "$_d"; fi
}

is() { # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
	fi
}

like() { # like TEXT SUBSTRING DESCRIPTION
	case "$1" in
	*"$2"*) ok 0 "$3" ;;
	*) ok 1 "$3"; printf '#   text: %s\n#   lacks: %s\n' "$1" "$2" ;;
	esac
}

# The real tables in ../shared: skip the whole test when absent, and map an
# expected file (a__b__c.diffs.jsonl) to its table (a/b/c).
require_shared() {
	# shellcheck disable=SC2015 # skip unless both folders are there
	[ -d "$SHARED/tables" ] && [ -d "$SHARED/expected" ] ||
		skip_all "../shared/iceberg not present (a user's clone has no shared/)"
}
shared_rel() { basename "$1" .diffs.jsonl | sed 's|__|/|g'; }

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

skip() { # skip REASON: one check not run here, and why
	_n=$((_n + 1))
	echo "ok $_n # SKIP $1"
}

done_testing() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
}

# Remember a background process so it is stopped by PID at exit.
track_pid() { _bg_pids="$_bg_pids $1"; }

# start_pipeline WATCH-ARGS...: `ice-snapshot watch WATCH-ARGS | ice-diff |
# ice-invalidate` in the current folder, through the named pipes snaps and
# diffs so that each program is stopped by its own PID. $watch_pid is the
# watch's; ice-invalidate writes inv.out; the errors go to watch.err,
# diff.err and inv.err. The cache is the one the environment names.
start_pipeline() {
	mkfifo snaps diffs
	"$ICE_SNAPSHOT" watch "$@" > snaps 2> watch.err &
	watch_pid=$!
	track_pid "$watch_pid"
	"$ICE_DIFF" < snaps > diffs 2> diff.err &
	track_pid $!
	"$top_builddir/ice-invalidate" < diffs > inv.out 2> inv.err &
	track_pid $!
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
wait_for() {
	_t=$(( $1 * 10 ))
	shift
	while [ "$_t" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_t=$((_t - 1))
	done
	return 1
}

# now_ms: the wall clock in ms since the epoch, as the programs stamp
# entries (timing checks read it before and after, never guess a window).
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }

# Start a private redis-server on a unix socket in $TMP; sets REDIS_SOCK
# and REDIS_PID and exports ICE_CACHE_URL. Skips the test when redis is not
# installed.
start_redis() {
	# shellcheck disable=SC2015 # skip unless both are installed
	command -v redis-server > /dev/null && command -v redis-cli > /dev/null ||
		skip_all "redis-server/redis-cli not installed (scripts/setup installs them)"
	REDIS_SOCK="$TMP/redis.sock"
	redis-server --port 0 --unixsocket "$REDIS_SOCK" --save '' --appendonly no --dir "$TMP" \
		> "$TMP/redis.log" 2>&1 &
	REDIS_PID=$!
	track_pid $REDIS_PID
	wait_for 10 test -S "$REDIS_SOCK" || { echo "Bail out! redis-server did not start"; exit 1; }
	ICE_CACHE_URL="unix://$REDIS_SOCK"
	export ICE_CACHE_URL
}

# Count lines of FILE matching PATTERN (0 when none or missing).
count_lines() { grep -c "$2" "$1" 2>/dev/null || true; }

# start_cache: a private, empty cache for this test on the backend named by
# ICE_TEST_BACKEND: redis (the default; a redis-server on a unix socket,
# REDIS_SOCK and REDIS_PID set, skipped when not installed), cluster (a
# Redis Cluster of three masters and three replicas, start_cluster; the
# same key layout as redis) or sqlite (a file, CACHE_DB). Sets CACHE_URL and
# exports ICE_CACHE_URL. make check runs the backend-shared scripts once
# per backend (BACKEND_TESTS in Makefile.am): a new backend is a case here
# and one line there.
start_cache() {
	ICE_TEST_BACKEND=${ICE_TEST_BACKEND:-redis}
	case $ICE_TEST_BACKEND in
	redis)
		start_redis
		CACHE_URL="unix://$REDIS_SOCK"
		;;
	cluster)
		start_cluster
		CACHE_URL=$CLUSTER_URL
		;;
	sqlite)
		CACHE_DB="$TMP/cache.db"
		CACHE_URL="sqlite://$CACHE_DB"
		;;
	*)
		echo "Bail out! ICE_TEST_BACKEND=$ICE_TEST_BACKEND: redis, cluster or sqlite"
		exit 1
		;;
	esac
	ICE_CACHE_URL=$CACHE_URL
	export ICE_CACHE_URL
}
# on_redis: the cache is Redis (one server or a cluster: one key layout).
on_redis() { [ "$ICE_TEST_BACKEND" = redis ] || [ "$ICE_TEST_BACKEND" = cluster ]; }
on_cluster() { [ "$ICE_TEST_BACKEND" = cluster ]; }

# cache_cli ARGS...: redis-cli against the test cache (on a cluster it
# follows redirections: commands with keys only).
cache_cli() {
	if on_cluster; then
		# shellcheck disable=SC2086 # the first port
		set -- -c -h 127.0.0.1 -p ${CLUSTER_PORTS%% *} "$@"
		_cluster_redis_cli "$@"
	else
		redis-cli -s "$REDIS_SOCK" "$@"
	fi
}

# cache_masters: the ports of the cluster's masters now, one a line.
cache_masters() {
	for _p in $CLUSTER_PORTS; do
		cluster_cli "$_p" role 2>/dev/null | head -n 1 | grep -qx master && echo "$_p"
	done
}

# cache_keys PATTERN: every key of the test cache matching PATTERN, one a
# line (SCAN on every master of a cluster).
cache_keys() {
	if on_cluster; then
		for _m in $(cache_masters); do cluster_cli "$_m" --scan --pattern "$1"; done
	else
		redis-cli -s "$REDIS_SOCK" --scan --pattern "$1"
	fi
}

# stop_cache_server: the Redis of the test cache goes away (every node of
# a cluster), killed by PID.
stop_cache_server() {
	if on_cluster; then
		# shellcheck disable=SC2086 # a list of PIDs
		kill $CLUSTER_PIDS 2>/dev/null
		for _p in $CLUSTER_PIDS; do wait "$_p" 2>/dev/null; done
	else
		kill "$REDIS_PID"
		wait "$REDIS_PID" 2>/dev/null
	fi
}

# sql QUERY: the answer of the sqlite test cache (rows of |-joined columns).
sql() {
	python3 -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]):
    print("|".join(map(str, row)))' "$CACHE_DB" "$1"
}

# free_ports N: N distinct TCP ports free on 127.0.0.1 right now, chosen at
# random below the kernel's ephemeral range (where outgoing connections
# take theirs), so that parallel tests rarely pick the same; a clash that
# still happens shows as a node that does not start, and start_cluster
# tries again with other ports.
free_ports() {
	python3 - "$1" <<'PY'
import random, socket, sys
want, found = int(sys.argv[1]), []
while len(found) < want:
    p = random.randrange(20000, 32000)
    if p in found:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        found.append(p)
    except OSError:
        pass
    finally:
        s.close()
print(" ".join(map(str, found)))
PY
}

# redis-cli with the cluster's password, if any, through the environment,
# never on a command line.
_cluster_redis_cli() {
	if [ -n "${CLUSTER_PASSWORD:-}" ]; then
		REDISCLI_AUTH=$CLUSTER_PASSWORD redis-cli --no-auth-warning "$@"
	else
		redis-cli "$@"
	fi
}

# cluster_cli PORT ARGS...: redis-cli against one cluster node.
cluster_cli() {
	_p=$1
	shift
	_cluster_redis_cli -h 127.0.0.1 -p "$_p" "$@"
}

# cluster_master_of PORT SLOT: "ID PORT" of the master serving SLOT, as the
# node on PORT sees it (CLUSTER NODES).
cluster_master_of() {
	cluster_cli "$1" CLUSTER NODES | awk -v s="$2" '$3 ~ /master/ {
		for (i = 9; i <= NF; i++) { split($i, r, "-"); if (r[2] == "") r[2] = r[1]
			if (s + 0 >= r[1] + 0 && s + 0 <= r[2] + 0) { split($2, a, "[:@]"); print $1, a[2] } } }'
}

# Start one cluster node in DIR on PORT with bus port BUS; its PID in
# _node_pid. Returns non-zero when it does not answer PING (a port taken).
_start_cluster_node() {
	mkdir -p "$1"
	{
		echo "bind 127.0.0.1"
		echo "port $2"
		echo "cluster-enabled yes"
		echo "cluster-port $3"
		echo "cluster-config-file $1/nodes.conf"
		# Quick failovers for the tests, yet far above any stall of a
		# loaded machine.
		echo "cluster-node-timeout 5000"
		echo "save \"\""
		echo "appendonly no"
		echo "dir $1"
		# A test's own settings (e.g. an append-only file, or slots
		# served while a master with no replica is down).
		[ -z "${CLUSTER_NODE_CONF:-}" ] || printf '%s\n' "$CLUSTER_NODE_CONF"
		if [ -n "${CLUSTER_PASSWORD:-}" ]; then
			echo "requirepass $CLUSTER_PASSWORD"
			echo "masterauth $CLUSTER_PASSWORD"
		fi
	} > "$1/redis.conf"
	chmod 600 "$1/redis.conf"
	redis-server "$1/redis.conf" > "$1/redis.log" 2>&1 &
	_node_pid=$!
	track_pid $_node_pid
	_t=100
	while [ "$_t" -gt 0 ]; do
		[ "$(cluster_cli "$2" ping 2>/dev/null)" = PONG ] && return 0
		kill -0 $_node_pid 2>/dev/null || return 1
		sleep 0.1
		_t=$((_t - 1))
	done
	return 1
}

# Does the node on PORT see a whole cluster: state ok, all its nodes, every
# slot assigned, and (a replica) its link to its master up?
_cluster_node_ready() {
	_info=$(cluster_cli "$1" cluster info 2>/dev/null | tr -d '\r')
	case $_info in *cluster_state:ok*) ;; *) return 1 ;; esac
	case $_info in *"cluster_known_nodes:$_cluster_nodes"*) ;; *) return 1 ;; esac
	case $_info in *cluster_slots_assigned:16384*) ;; *) return 1 ;; esac
	_repl=$(cluster_cli "$1" info replication 2>/dev/null | tr -d '\r')
	case $_repl in *role:slave*) case $_repl in *master_link_status:up*) ;; *) return 1 ;; esac ;; esac
	return 0
}

# python_redis: PY, a Python with Debian's python3-redis (redis.cluster),
# which lives in the system Python, maybe not the first python3 on PATH.
# Skips the test when there is none.
python_redis() {
	PY=""
	for _py in python3 /usr/bin/python3; do
		if "$_py" -c 'import redis.cluster' 2> /dev/null; then PY=$_py; return 0; fi
	done
	skip_all "python3-redis not installed (scripts/setup installs it)"
}

# start_cluster: a private Redis Cluster of three masters with a replica
# each, on loopback ports, every node in its own folder under $TMP/cluster;
# with CLUSTER_PASSWORD set, every node requires it; CLUSTER_REPLICAS=0
# starts the three masters alone; CLUSTER_NODE_CONF holds lines added to
# every node's redis.conf. Waits until every node sees the whole cluster.
# Sets CLUSTER_PORTS (six ports, or three), CLUSTER_PIDS
# (their redis-server PIDs, in the same order; stopped by PID at exit) and
# CLUSTER_URL (redis+cluster://[:PASSWORD@]127.0.0.1:P,... the three first
# nodes as seeds), exported as ICE_TEST_CLUSTER_URL. Skips the test when
# redis is not installed; bails out when the cluster does not form.
start_cluster() {
	# shellcheck disable=SC2015 # skip_all exits
	command -v redis-server > /dev/null && command -v redis-cli > /dev/null ||
		skip_all "redis-server/redis-cli not installed (scripts/setup installs them)"
	_cluster_nodes=6
	[ "${CLUSTER_REPLICAS:-1}" = 0 ] && _cluster_nodes=3
	_try=0
	while :; do
		_try=$((_try + 1))
		[ "$_try" -le 5 ] || { echo "Bail out! no $_cluster_nodes free ports for the cluster"; exit 1; }
		# shellcheck disable=SC2046 # ports: one word each, split on purpose
		set -- $(free_ports 12)
		CLUSTER_PORTS="$1 $2 $3 $4 $5 $6"
		[ "$_cluster_nodes" = 6 ] || CLUSTER_PORTS="$1 $2 $3"
		CLUSTER_PIDS=""
		_ok=1
		_i=0
		for _p in $CLUSTER_PORTS; do
			_i=$((_i + 1))
			eval "_bus=\${$((_i + 6))}"
			if ! _start_cluster_node "$TMP/cluster/$_try-$_p" "$_p" "$_bus"; then
				_ok=0
				break
			fi
			CLUSTER_PIDS="$CLUSTER_PIDS $_node_pid"
		done
		[ "$_ok" = 1 ] && break
		for _pid in $CLUSTER_PIDS $_node_pid; do kill "$_pid" 2>/dev/null; done
	done
	CLUSTER_PIDS=${CLUSTER_PIDS# }
	_addrs=""
	for _p in $CLUSTER_PORTS; do _addrs="$_addrs 127.0.0.1:$_p"; done
	# shellcheck disable=SC2086
	_cluster_redis_cli --cluster create $_addrs \
		--cluster-replicas "${CLUSTER_REPLICAS:-1}" --cluster-yes > "$TMP/cluster/create.log" 2>&1 ||
		{ echo "Bail out! redis-cli --cluster create failed"; sed 's/^/# /' "$TMP/cluster/create.log"; exit 1; }
	for _p in $CLUSTER_PORTS; do
		wait_for 60 _cluster_node_ready "$_p" ||
			{ echo "Bail out! node $_p: the cluster did not form"; exit 1; }
	done
	# shellcheck disable=SC2086 # a list of ports, split on purpose
	set -- $CLUSTER_PORTS
	CLUSTER_URL="redis+cluster://${CLUSTER_PASSWORD:+:$CLUSTER_PASSWORD@}127.0.0.1:$1,127.0.0.1:$2,127.0.0.1:$3"
	ICE_TEST_CLUSTER_URL=$CLUSTER_URL
	export ICE_TEST_CLUSTER_URL
}
# start_s3 BUCKET...: a private S3 server (s3rver, from tests/s3/node_modules)
# on a loopback port, behind tests/s3/sigv4-proxy.py, which refuses any
# request whose SigV4 signature differs from botocore's and injects faults
# on demand. Sets S3_PORT (the server itself, for seeding), S3_EP (the
# proxy) and exports the AWS settings of the test keys (AKIDTEST, and
# AKTOK with session token TOKEN123); HOME is the test's, so no ~/.aws of
# the user is read. Skips the test when node, s3rver or botocore is missing.
start_s3() {
	_s3dir="$top_srcdir/tests/s3"
	command -v node > /dev/null || skip_all "node not installed (scripts/setup installs it)"
	[ -d "$_s3dir/node_modules/s3rver" ] || skip_all "s3rver not installed in tests/s3 (run scripts/setup)"
	python3 -c 'import botocore' 2> /dev/null || skip_all "python3 botocore not installed (scripts/setup)"
	# s3rver enciphers continuation tokens with a cipher OpenSSL 3 keeps in
	# its legacy provider.
	node --openssl-legacy-provider "$_s3dir/s3rver-start.js" "$TMP/s3data" "$TMP/s3port" "$@" \
		> "$TMP/s3rver.log" 2>&1 &
	track_pid $!
	wait_for 30 test -s "$TMP/s3port" || { echo "Bail out! s3rver did not start"; exit 1; }
	S3_PORT=$(cat "$TMP/s3port")
	python3 "$_s3dir/sigv4-proxy.py" "$S3_PORT" "$TMP/proxyport" "$TMP/proxy.log" \
		--key AKIDTEST:'secret/key+1' --key AKTOK:sek:TOKEN123 > "$TMP/proxy.err" 2>&1 &
	track_pid $!
	wait_for 30 test -s "$TMP/proxyport" || { echo "Bail out! sigv4-proxy.py did not start"; exit 1; }
	S3_EP="http://127.0.0.1:$(cat "$TMP/proxyport")"
	HOME="$TMP/home"
	AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY='secret/key+1' AWS_ENDPOINT_URL=$S3_EP
	export HOME AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL
	unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE AWS_REGION AWS_DEFAULT_REGION \
		AWS_ENDPOINT_URL_S3 AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE
}

# s3_put DIR PREFIX: every file below DIR into bucket lake as PREFIX/...
s3_put() { python3 "$top_srcdir/tests/s3/s3-put.py" "$S3_PORT" lake "$1" "$2"; }
# s3_requests PATTERN: requests the proxy logged matching PATTERN.
s3_requests() { count_lines "$TMP/proxy.log" "$1"; }

# mk_history DIR FORMAT_VERSION LOCATION: a table whose history mixes
# appends, deletes, overwrites, position and equality deletes (a deletion
# vector in format 3), compaction and spec evolution (diff-basic,
# diff-s3). Sets `victim`, the data file the deletes target.
mk_history() {
	"$MKTABLE" create "$1" --format-version "$2" --seed "$2" --schema "id:long,day:date,cat:string" \
		--partition "day(day),identity(cat)" --location "$3" > /dev/null
	"$MKTABLE" append "$1" --files 8 --manifests 2 > /dev/null
	"$MKTABLE" append "$1" --files 3 > /dev/null
	"$MKTABLE" delete "$1" --files 2 > /dev/null
	"$MKTABLE" overwrite "$1" --files 1 --add 2 > /dev/null
	victim=$("$MKTABLE" list "$1" | head -n 1 | $JSONQ 'r["file_path"]')
	if [ "$2" = 3 ]; then
		"$MKTABLE" dv "$1" --target "$victim" > /dev/null
	else
		"$MKTABLE" pos-delete "$1" --target "$victim" > /dev/null
		"$MKTABLE" pos-delete "$1" --target "$victim" --no-reference > /dev/null
	fi
	"$MKTABLE" eq-delete "$1" > /dev/null
	"$MKTABLE" replace "$1" > /dev/null
	"$MKTABLE" evolve-spec "$1" --partition "identity(cat)" > /dev/null
	"$MKTABLE" append "$1" --files 2 > /dev/null
}
# s3_fault JSON: a fault the proxy injects (see tests/s3/sigv4-proxy.py);
# s3_reset_faults: none any more.
s3_fault() { curl -s -o /dev/null -X POST --data "$1" "$S3_EP/__ctl/fault"; }
s3_reset_faults() { curl -s -o /dev/null -X POST "$S3_EP/__ctl/reset"; }
