#!/bin/sh
# archive: ice-cache export/import between two caches of the backend
# under test (two real redis-servers; two SQLite files), and from it into
# the other backend:
# exact binary values (all 256 bytes, NULs, empty, 5 MiB), odd keys, tags,
# origin, created time and remaining TTL kept, expired entries skipped,
# `-` through a pipe, filters; hostile archives (made here with python3's
# tarfile) refused member by member with nothing half-imported.
. "$top_srcdir/tests/cli/lib.sh"

ICE_TEST_BACKEND=${ICE_TEST_BACKEND:-redis}
have_redis() { command -v redis-server > /dev/null && command -v redis-cli > /dev/null; }
! on_redis || have_redis || skip_all "redis-server/redis-cli not installed (scripts/setup installs them)"
C="$top_builddir/ice-cache"

# new_cache NAME [BACKEND]: a private, empty cache of BACKEND (default: the
# one under test), its URL in $URL: a redis-server on $TMP/NAME.sock or the
# SQLite file $TMP/NAME.db; on the cluster backend, cache a is a Redis
# Cluster and the others single servers (archives go from one to the other).
new_cache() {
	if [ "${2:-$ICE_TEST_BACKEND}" = cluster ] && [ "$1" = a ]; then
		start_cluster
		URL=$CLUSTER_URL
	elif [ "${2:-$ICE_TEST_BACKEND}" != sqlite ]; then
		redis-server --port 0 --unixsocket "$TMP/$1.sock" --save '' --appendonly no --dir "$TMP" \
			> "$TMP/$1.log" 2>&1 &
		track_pid $!
		wait_for 10 test -S "$TMP/$1.sock" || { echo "Bail out! redis-server $1 did not start"; exit 1; }
		URL="unix://$TMP/$1.sock"
	else
		URL="sqlite://$TMP/$1.db"
	fi
}
# empty_cache NAME: remove everything from it.
empty_cache() {
	if on_redis; then
		redis-cli -s "$TMP/$1.sock" FLUSHALL > /dev/null
	else
		rm -f "$TMP/$1.db" "$TMP/$1.db-wal" "$TMP/$1.db-shm"
	fi
}
new_cache a
A=$URL
new_cache b
B=$URL
CACHE_DB="$TMP/b.db" # what sql inspects on SQLite
export ICE_CACHE_URL="$A"
hits() { "$top_builddir/ice-stat" --json | $JSONQ 'r["totals"]["hits"]'; }

# ---- the entries on A ---------------------------------------------------------
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 4)' > "$TMP/all256"
printf 'a\000b\000\000' > "$TMP/nuls"
: > "$TMP/empty"
head -c 5242880 /dev/urandom > "$TMP/big"
"$C" put all256 --table db.t --file "db.t:s3://b/f1.parquet" --ttl 1h < "$TMP/all256"
"$C" put nuls --partition "db.t:day=2024-01-01" < "$TMP/nuls"
"$C" put empty --tag user-tag < /dev/null
"$C" put big --table db.u --ttl 2h < "$TMP/big"
nl='new
line'
latin1=$(printf 'caf\351')
for key in "with space" "$nl" "glob*?[x]" "$latin1"; do
	"$C" put "$key" --table db.k --value "v:$key"
done
is "$("$C" ls | wc -l | tr -d ' ')" "8" "setup: 8 entries on A"
hits_before=$(hits)

# ---- round trip through a pipe ---------------------------------------------------
t0=$(now_ms)
"$C" export - | "$C" --url "$B" import - > "$TMP/summary" 2> "$TMP/err"
rc=$?
t1=$(now_ms)
is "$rc" "0" "export - | import -: exit 0"
is "$(cat "$TMP/err")" "" "export - | import -: nothing on stderr"
is "$($JSONQ '(r["kind"], r["imported"], r["skipped"], r["dry_run"])' < "$TMP/summary")" \
	"('import', 8, 0, False)" "import: a JSON summary of what it did"
is "$(hits)" "$hits_before" "export counts no hit (peek)"
for key in all256 nuls empty big; do
	"$C" --url "$B" get "$key" > "$TMP/back"
	check "value of $key comes back byte for byte" cmp -s "$TMP/back" "$TMP/$key"
done
is "$(wc -c < "$TMP/all256" | tr -d ' ')" "1024" "the 256-byte sample holds every byte 4 times"
for key in "with space" "$nl" "glob*?[x]" "$latin1"; do
	is "$("$C" --url "$B" get "$key")" "v:$key" \
		"odd key kept: $(printf '%s' "$key" | tr '\n\351' '~?')"
done
meta() { # meta URL KEY: the fields an import keeps
	"$C" --url "$1" info "$2" | $JSONQ '(r["created_ms"], r["origin"], r["table"], sorted(r["tags"]), r["size"])'
}
for key in all256 nuls empty big "with space" "$latin1"; do
	is "$(meta "$B" "$key")" "$(meta "$A" "$key")" "created, origin, table, tags, size kept: $key"
done
expires() { "$C" --url "$1" info "$2" | $JSONQ 'r["expires_ms"]'; }
# Export writes the time left, import subtracts the time since the export:
# B's expiry differs from A's by at most the time the pipe took.
ea=$(expires "$A" all256)
eb=$(expires "$B" all256)
check "TTL kept as remaining time: B's expiry within $((t1 - t0)) ms (the pipe's time) of A's ($eb vs $ea)" \
	test "$eb" -le $((ea + t1 - t0)) -a "$eb" -ge $((ea - (t1 - t0)))
# The store's own expiry, not only the metadata: Redis's PTTL, SQLite's
# expires column (ms since the epoch).
if on_redis; then
	ttl_b=$(redis-cli -s "$TMP/b.sock" PTTL "icecache:{db.u}:e:big")
else
	ttl_b=$(sql "SELECT expires - CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) FROM entries WHERE key = 'big'")
fi
check "the store's expiry is set on B too ($ttl_b ms left, within 2 h)" \
	test "$ttl_b" -gt 7000000 -a "$ttl_b" -le 7200000
is "$(expires "$B" nuls)" "0" "an entry without TTL stays without"
is "$("$C" --url "$B" info "$latin1" | $JSONQ 'r["key"]')" '{"hex":"636166e9"}' \
	"info: a key that is not UTF-8 shows as hex, not as an error"
printf '%s\n' '{"kind":"diff","table":"db.u","from":1,"to":2,"scope":"files","data_preserving":false,"partitions":[]}' |
	"$top_builddir/ice-invalidate" --url "$B" > /dev/null
is "$("$C" --url "$B" get big > /dev/null; echo "$?"):$("$C" --url "$B" get nuls > /dev/null; echo "$?")" \
	"1:0" "imported tags are live: ice-invalidate removes the invalidated table's entry, and only that"

# ---- across backends: A's archive into a cache of the other backend -------------
if on_redis; then other=sqlite; else other=redis; fi
if [ "$other" = sqlite ] || have_redis; then
	new_cache x "$other"
	X=$URL
	t0=$(now_ms)
	"$C" export - | "$C" --url "$X" import - > "$TMP/summary" 2> "$TMP/err"
	rc=$?
	t1=$(now_ms)
	is "$rc:$($JSONQ 'r["imported"]' < "$TMP/summary"):$(cat "$TMP/err")" "0:8:" \
		"export from $ICE_TEST_BACKEND, import into $other: every entry, nothing on stderr"
	bad=""
	for key in all256 nuls empty big; do
		"$C" --url "$X" get "$key" > "$TMP/back"
		cmp -s "$TMP/back" "$TMP/$key" || bad="$bad $key"
	done
	for key in "with space" "$nl" "glob*?[x]" "$latin1"; do
		[ "$("$C" --url "$X" get "$key")" = "v:$key" ] || bad="$bad [$key]"
		[ "$(meta "$X" "$key")" = "$(meta "$A" "$key")" ] || bad="$bad meta[$key]"
	done
	for key in all256 nuls empty big; do
		[ "$(meta "$X" "$key")" = "$(meta "$A" "$key")" ] || bad="$bad meta:$key"
	done
	is "$bad" "" "$other: every value byte for byte, odd keys, created, origin, table, tags and size kept"
	ex=$(expires "$X" all256)
	check "$other: TTL kept as remaining time, within $((t1 - t0)) ms ($ex vs $ea)" \
		test "$ex" -le $((ea + t1 - t0)) -a "$ex" -ge $((ea - (t1 - t0)))
	printf '%s\n' '{"kind":"diff","table":"db.u","from":1,"to":2,"scope":"files","data_preserving":false,"partitions":[]}' |
		"$top_builddir/ice-invalidate" --url "$X" > /dev/null
	is "$("$C" --url "$X" get big > /dev/null; echo "$?"):$("$C" --url "$X" get nuls > /dev/null; echo "$?")" \
		"1:0" "$other: imported tags are live for ice-invalidate"
else
	echo "ok $((_n += 1)) # SKIP redis-server not installed: no import from SQLite into Redis"
fi

# ---- an entry whose TTL runs out between export and import -----------------------
# An hour to live, and the archive's export time moved two hours back: the
# hour has run out by import time whatever the machine's load.
empty_cache b
"$C" put soon --table db.t --ttl 1h --value soon
"$C" export "$TMP/all.tar" 'soon'
check "export FILE: the archive exists" test -s "$TMP/all.tar"
# shellcheck disable=SC2010 # names this test chose: plain
check "export FILE: no temporary file left" test "$(ls "$TMP" | grep -c 'all.tar.')" -eq 0
"$C" rm soon
python3 - "$TMP/all.tar" << 'EOF'
import io, json, sys, tarfile
path = sys.argv[1]
with tarfile.open(path) as t:
    members = [(m, t.extractfile(m).read()) for m in t.getmembers()]
with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
    for m, data in members:
        if m.name == "icecache-archive.json":
            marker = json.loads(data)
            marker["exported_ms"] -= 2 * 3600 * 1000
            data = json.dumps(marker).encode()
            m.size = len(data)
        t.addfile(m, io.BytesIO(data))
EOF
"$C" --url "$B" import "$TMP/all.tar" > "$TMP/summary" 2> "$TMP/err"
is "$?:$($JSONQ '(r["imported"], r["expired"], r["skipped"])' < "$TMP/summary")" "0:(0, 1, 0)" \
	"an entry expired by import time is skipped and counted, not an error"
is "$("$C" --url "$B" get soon; echo "$?")" "1" "the expired entry is not imported"

# ---- filters and dry run ----------------------------------------------------------
"$C" export "$TMP/t.tar" --table db.t
is "$("$C" --url "$B" import --dry-run "$TMP/t.tar" | $JSONQ 'r["imported"]')" "2" \
	"export --table: the table's entries only"
"$C" export "$TMP/tag.tar" --tag user-tag
is "$(tar -xOf "$TMP/tag.tar" entries/00000001.json | $JSONQ 'r["key"]')" "empty" \
	"export --tag: the tagged entry"
"$C" export "$TMP/pat.tar" 'glob\**'
is "$(tar -tf "$TMP/pat.tar" | tr '\n' ' ')" \
	"icecache-archive.json entries/00000001.json entries/00000001.value " \
	"export PATTERN: marker first, then metadata and value named by position"
is "$("$C" --url "$B" ls | wc -l | tr -d ' ')" "0" "import --dry-run stores nothing"

# An archive whose name is not UTF-8: the import record names it as
# {"hex":...} (it said "out of memory" instead, the import done).
odd=$TMP/$(printf 'caf\351').tar
cp "$TMP/t.tar" "$odd"
"$C" --url "$B" import --dry-run "$odd" > "$TMP/summary" 2> "$TMP/err"
is "$?:$($JSONQ '(r["archive"]["hex"][-16:], r["imported"])' < "$TMP/summary"):$(cat "$TMP/err")" \
	"0:('636166e92e746172', 2):" "an archive named with bytes that are not UTF-8: its record, no error"

# ---- usage -------------------------------------------------------------------------
"$C" export 2> /dev/null
is "$?" "2" "export without FILE: exit 2"
"$C" import "$TMP/nonexistent.tar" > /dev/null 2> "$TMP/err"
is "$?" "1" "import of a missing file: exit 1"
like "$(cat "$TMP/err")" "nonexistent.tar: No such file" "import of a missing file: says so"
"$C" export "$TMP/no/such/dir/x.tar" 2> "$TMP/err"
is "$?" "1" "export into a missing folder: exit 1"

# ---- many entries: committed in batches, each entry whole --------------------------
# 2,500 entries (the embedded store commits them about a thousand at a
# time), then the same archive cut in the middle of member 1,201's value:
# what came before the cut stays, and the summary counts exactly that.
empty_cache b
python3 - "$TMP" << 'EOF'
import io, json, sys, tarfile, time
tmp = sys.argv[1]
now = int(time.time() * 1000)

def add(t, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))

def archive(name, entries): # entries: (key, value, tags)
    with tarfile.open(f"{tmp}/{name}", "w", format=tarfile.PAX_FORMAT) as t:
        add(t, "icecache-archive.json",
            json.dumps({"kind": "icecache-archive", "version": 1, "exported_ms": now}).encode())
        for i, (key, value, tags) in enumerate(entries, 1):
            meta = {"kind": "entry", "key": key, "size": len(value), "created_ms": now,
                    "ttl_ms": 0, "tags": tags}
            add(t, "entries/%08d.json" % i, json.dumps(meta).encode())
            add(t, "entries/%08d.value" % i, value)

archive("many.tar", [("m%d" % i, b"v%d" % i, ["partition:db.many:p=%d" % (i % 10)])
                     for i in range(1, 2501)])
# the third entry larger than a 100K size limit
archive("toobig.tar", [("s%d" % i, b"x" * size, ["table:db.s"])
                       for i, size in enumerate([10, 10, 200000, 10], 1)])
with tarfile.open(f"{tmp}/many.tar") as t:
    cut = t.getmember("entries/00001201.value").offset_data
with open(f"{tmp}/many.tar", "rb") as f, open(f"{tmp}/cut.tar", "wb") as out:
    out.write(f.read(cut + 2))
EOF
"$C" --url "$B" import "$TMP/many.tar" > "$TMP/summary" 2> "$TMP/err"
is "$?:$($JSONQ '(r["imported"], r["skipped"])' < "$TMP/summary"):$(cat "$TMP/err")" "0:(2500, 0):" \
	"2,500 entries: all imported, nothing on stderr"
is "$("$C" --url "$B" ls | wc -l | tr -d ' ')" "2500" "2,500 entries: every one is in the cache"
is "$("$C" --url "$B" get m1):$("$C" --url "$B" get m1000):$("$C" --url "$B" get m1001):$("$C" --url "$B" get m2500)" \
	"v1:v1000:v1001:v2500" "2,500 entries: the values on both sides of a batch's end"
printf '%s\n' '{"kind":"file","table":"db.many","change":"removed","content":"data","file_path":"/d/x.parquet","partition_key":"p=3"}' \
	'{"kind":"diff","table":"db.many","from":1,"to":2,"scope":"files","data_preserving":false,"partitions":[{"spec_id":0,"partition_key":"p=3"}]}' |
	"$top_builddir/ice-invalidate" --url "$B" > /dev/null
is "$("$C" --url "$B" ls | wc -l | tr -d ' '):$("$C" --url "$B" get m3; echo "$?"):$("$C" --url "$B" get m4)" \
	"2250:1:v4" "2,500 entries: their tags are live (one partition's 250 invalidated, no other)"

empty_cache b
"$C" --url "$B" import "$TMP/cut.tar" > "$TMP/summary" 2> "$TMP/err"
is "$?:$($JSONQ 'r["imported"]' < "$TMP/summary")" "1:1200" \
	"an archive cut in entry 1,201: exit 1, 1,200 imported"
like "$(cat "$TMP/err")" "cut.tar: entries/00001201.value: Truncated tar archive" "an archive cut in entry 1,201: one clear line"
is "$("$C" --url "$B" ls | wc -l | tr -d ' '):$("$C" --url "$B" get m1200):$("$C" --url "$B" get m1201; echo "$?")" \
	"1200:v1200:1" "an archive cut in entry 1,201: the 1,200 entries before it stay, and only they"

if ! on_redis; then
	# Under a size limit an entry too large for it stops the import inside
	# a batch: that entry is undone alone, the ones before it stay.
	empty_cache b
	"$C" --url "$B" --max-size 100K import "$TMP/toobig.tar" > "$TMP/summary" 2> "$TMP/err"
	rc=$?
	is "$([ "$rc" -ne 0 ] && echo failed):$($JSONQ 'r["imported"]' < "$TMP/summary")" "failed:2" \
		"an entry over the size limit: the import fails, 2 imported"
	like "$(cat "$TMP/err")" "toobig.tar: entries/00000003.value: sqlite://$TMP/b.db: the entry alone is larger than the cache's size limit" \
		"an entry over the size limit: the message names the member"
	is "$("$C" --url "$B" ls | $JSONQ 'r["key"]' | sort | tr '\n' ' ')" "s1 s2 " \
		"an entry over the size limit: the entries before it stay, nothing of it or after it"
	is "$(sql "SELECT value = (SELECT IFNULL(SUM(bytes), 0) FROM entries) FROM store WHERE name = 'used_bytes'")" "1" \
		"an entry over the size limit: the byte count matches the entries"
else
	for _i in 1 2 3 4; do skip "the size limit is the embedded store's"; done
fi

# ---- hostile archives ---------------------------------------------------------------
empty_cache b
python3 - "$TMP" << 'EOF'
import io, json, sys, tarfile, time
tmp = sys.argv[1]
now = int(time.time() * 1000)

def marker(version=1):
    return json.dumps({"kind": "icecache-archive", "version": version, "exported_ms": now}).encode()

def meta(key, size, tags=("table:db.h",), **extra):
    m = {"kind": "entry", "key": key, "size": size, "created_ms": now, "ttl_ms": 0,
         "origin": "put", "tags": list(tags)}
    m.update(extra)
    return json.dumps(m).encode()

def add(t, name, data, **attrs):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    for k, v in attrs.items():
        setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data) if data else None)

def special(t, name, kind, linkname=""):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = linkname
    t.addfile(ti)

with tarfile.open(f"{tmp}/evil.tar", "w", format=tarfile.PAX_FORMAT) as t:
    add(t, "icecache-archive.json", marker())
    add(t, "entries/00000001.json", meta("good1", 3))
    add(t, "entries/00000001.value", b"one")
    add(t, "../escape.json", meta("escape", 1))
    add(t, "/abs/entries/00000002.json", meta("abs", 1))
    add(t, "entries/../../x.value", b"x")
    special(t, "entries/00000003.value", tarfile.SYMTYPE, "/etc/passwd")
    special(t, "entries/00000004.value", tarfile.LNKTYPE, "entries/00000001.value")
    special(t, "entries/00000005.value", tarfile.CHRTYPE)
    add(t, "entries/00000006.json", b'{"kind":"entry","key":"badjson",')
    add(t, "entries/00000006.value", b"v")
    add(t, "entries/00000007.json", meta("mismatch", 10))
    add(t, "entries/00000007.value", b"abc")
    add(t, "entries/00000008.json", meta("badtag", 1, tags=("bad\ntag",)))
    add(t, "entries/00000008.value", b"v")
    add(t, "entries/00000009.json", meta("twotables", 1, tags=("table:a", "file:b:f")))
    add(t, "entries/00000009.value", b"v")
    add(t, "entries/00000010.json", b" " * (5 * 1024 * 1024) + meta("oversized-meta", 1))
    add(t, "entries/00000010.value", b"v")
    add(t, "entries/00000011.json", meta("orphan", 1))
    add(t, "entries/00000012.json", meta("good2", 3, tags=("table:db.h", "partition:db.h:p=1")))
    add(t, "entries/00000012.value", b"two")
    add(t, "notes.txt", b"hello")

# A value declaring 1 TiB that the archive does not hold (written by hand:
# tarfile would want the data).
def member(name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    return ti.tobuf(tarfile.PAX_FORMAT) + data + b"\0" * (-len(data) % 512)

with open(f"{tmp}/huge.tar", "wb") as f:
    f.write(member("icecache-archive.json", marker()))
    f.write(member("entries/00000001.json", meta("huge", 5)))
    ti = tarfile.TarInfo("entries/00000001.value")
    ti.size = 1 << 40
    f.write(ti.tobuf(tarfile.PAX_FORMAT) + b"hello" + b"\0" * 507)

with tarfile.open(f"{tmp}/nomarker.tar", "w", format=tarfile.PAX_FORMAT) as t:
    add(t, "entries/00000001.json", meta("x", 1))
    add(t, "entries/00000001.value", b"x")

with tarfile.open(f"{tmp}/v2.tar", "w", format=tarfile.PAX_FORMAT) as t:
    add(t, "icecache-archive.json", marker(version=2))
EOF
is "$?" "0" "hostile archives written by python3 tarfile"

cd "$TMP" || exit 1
"$C" --url "$B" import --dry-run "$TMP/evil.tar" > "$TMP/summary" 2> "$TMP/err"
is "$?:$("$C" --url "$B" ls | wc -l | tr -d ' ')" "1:0" "hostile archive, --dry-run: exit 1, nothing stored"
"$C" --url "$B" import "$TMP/evil.tar" > "$TMP/summary" 2> "$TMP/err"
is "$?" "1" "hostile archive: exit 1"
# an entry over two tables: held by both backends (on Redis with a guard)
valid="good1 good2 twotables "
refused=12
is "$("$C" --url "$B" ls | $JSONQ 'r["key"]' | sort | tr '\n' ' ')" "$valid" \
	"hostile archive: exactly the valid entries imported, nothing else"
is "$("$C" --url "$B" get good2):$("$C" --url "$B" info good2 | $JSONQ 'sorted(r["tags"])')" \
	"two:[\"partition:db.h:p=1\",\"table:db.h\"]" "hostile archive: a valid entry is whole (value and tags)"
if on_redis; then
	is "$(redis-cli -s "$TMP/b.sock" KEYS '*' | grep -v -e good1 -e good2 -e twotables -e ':layout$' -e stats -e tags -e ':t:' -e ':all$' -e ':seq$' | tr '\n' ' ')" "" \
		"hostile archive: no Redis key of a refused entry (only the valid ones and their tables' sets and sequences)"
else
	is "$(sql "SELECT (SELECT COUNT(*) FROM entries WHERE key NOT IN ('good1', 'good2', 'twotables')), (SELECT COUNT(*) FROM tags WHERE key NOT IN ('good1', 'good2', 'twotables'))")" "0|0" \
		"hostile archive: no entry or tag row of a refused entry"
fi
check "hostile archive: no file written outside (../escape.json)" test ! -e "$TMP/../escape.json"
err=$(cat "$TMP/err")
for want in "evil.tar: ../escape.json: path escapes" \
	"evil.tar: /abs/entries/00000002.json: path escapes" \
	"evil.tar: entries/../../x.value: path escapes" \
	"evil.tar: entries/00000003.value: a symbolic link" \
	"evil.tar: entries/00000004.value: a hard link" \
	"evil.tar: entries/00000005.value: a device" \
	"evil.tar: entries/00000006.json: metadata is not valid JSON" \
	"evil.tar: entries/00000007.value: size 3 differs from its metadata's size 10" \
	"evil.tar: entries/00000008.json: tag 1: empty or contains a newline" \
	"evil.tar: entries/00000010.json: oversized" \
	"evil.tar: entries/00000011.json: metadata without a value" \
	"evil.tar: notes.txt: not an IceCache member"; do
	like "$err" "ice-cache: error: $TMP/$want" "refused with a message: ${want#evil.tar: }"
done
is "$("$C" --url "$B" info twotables | $JSONQ 'r["tags"]')" '["table:a","file:b:f"]' \
	"an entry over two tables imported whole"
is "$(grep -c '; skipped$' "$TMP/err")" "$refused" "one line per refused member, no more"
like "$err" "ice-cache: error: $TMP/evil.tar: $refused members skipped" "a closing count of what was skipped"
is "$($JSONQ '(r["imported"], r["skipped"])' < "$TMP/summary")" "($((15 - refused)), $refused)" \
	"the JSON summary counts them too"

"$C" --url "$B" import "$TMP/huge.tar" > /dev/null 2> "$TMP/err"
is "$?" "1" "a member declaring 1 TiB: exit 1"
like "$(cat "$TMP/err")" "huge.tar: entries/00000001.value: oversized" "a member declaring 1 TiB: refused as oversized"
is "$("$C" --url "$B" get huge; echo "$?")" "1" "a member declaring 1 TiB: nothing imported"
"$C" --url "$B" import "$TMP/nomarker.tar" > /dev/null 2> "$TMP/err"
is "$?" "1" "an archive without the marker first: exit 1"
like "$(cat "$TMP/err")" "not an IceCache archive" "an archive without the marker first: says so"
"$C" --url "$B" import "$TMP/v2.tar" > /dev/null 2> "$TMP/err"
is "$?" "1" "a newer archive version: exit 1"
like "$(cat "$TMP/err")" "archive version 2" "a newer archive version: says which"
printf 'not a tar at all' | "$C" --url "$B" import - > /dev/null 2> "$TMP/err"
is "$?" "1" "garbage on standard input: exit 1"
like "$(cat "$TMP/err")" "ice-cache: error: standard input: " "garbage on standard input: one clear line"

done_testing
