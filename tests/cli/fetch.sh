#!/bin/sh
# fetch: ice-cache fetch of local files and of URLs served by a small
# HTTP server started here (tests/cli/httpd.py) that counts requests:
# ETag/304 revalidation without a download, Cache-Control and Expires,
# redirects, errors never cached, time-outs, request headers and bodies in
# the key, -o FILE, and the cache being unreachable.
. "$top_srcdir/tests/cli/lib.sh"

start_cache
C="$top_builddir/ice-cache"
cd "$TMP" || exit 1

# ---- local files ----
head -c 3000 /dev/urandom > blob.bin
touch -d '2024-01-01 00:00:00' blob.bin
"$C" fetch blob.bin > got1
is "$?" "0" "file: exit 0"
check "file: bytes exactly" cmp -s blob.bin got1
key="fetch:file:$TMP/blob.bin"
is "$("$C" info "$key" | $JSONQ 'r["expires_ms"]')" "0" "file: smart TTL is none (until the file changes)"
"$C" fetch blob.bin > got2
is "$("$C" info "$key" | $JSONQ 'r["hits"]')" "1" "file: the second fetch is a hit"
check "file: hit gives the same bytes" cmp -s blob.bin got2
printf 'changed' > blob.bin
touch -d '2024-01-02 00:00:00' blob.bin
is "$("$C" fetch blob.bin)" "changed" "file: a changed file is read again"
is "$("$C" ls 'fetch:file:*blob.bin' | wc -l | tr -d ' ')" "1" "file: one entry per path, replaced"
# A path that is not UTF-8: its origin keeps the path as {"hex":...}, and
# the second fetch is a hit (without an origin every fetch read again).
odd=$(printf 'caf\351.txt')
echo odd > "$odd"
"$C" fetch "$odd" > /dev/null
is "$("$C" fetch "$odd"):$("$C" ls 'fetch:file:*caf*' | $JSONQ 'r["hits"]')" "odd:1" \
	"file: a path that is not UTF-8 is cached, the second fetch a hit"
"$C" fetch no-such-file > /dev/null 2> err
is "$?" "1" "file: missing file: exit 1"
like "$(cat err)" "no-such-file: No such file or directory" "file: missing file: named"
echo other > other.txt
"$C" fetch other.txt --ttl 1h --table db.t > /dev/null
is "$("$C" info "fetch:file:$TMP/other.txt" | $JSONQ '(r["expires_ms"] - r["created_ms"], r["tags"])')" \
	"(3600000, ['table:db.t'])" "file: --ttl and tags"

# ---- URLs ----
mkdir www
echo "version 1" > www/a.txt
python3 "$top_srcdir/tests/cli/httpd.py" www http.log port &
track_pid $!
wait_for 10 test -s port || { echo "Bail out! httpd.py did not start"; exit 1; }
U="http://127.0.0.1:$(cat port)"
requests() { count_lines http.log "$1"; }

"$C" fetch "$U/a.txt" > out
is "$?:$(cat out)" "0:version 1" "url: miss fetches"
"$C" fetch "$U/a.txt" > out
is "$(cat out):$(requests 'a.txt ')" "version 1:1" "url: fresh (fetch_ttl) hit makes no request"
like "$("$C" info "fetch:GET $U/a.txt" | $JSONQ 'r["origin"]')" '"etag":' \
	"url: validators kept in the entry's origin"

# no-cache: revalidate every time; a 304 costs no download and refreshes the TTL.
"$C" fetch "$U/a.txt?cc=no-cache" > out
k="fetch:GET $U/a.txt?cc=no-cache"
exp1=$("$C" info "$k" | $JSONQ 'r["expires_ms"]')
sleep 0.05
"$C" fetch "$U/a.txt?cc=no-cache" > out
is "$(cat out)" "version 1" "304: the cached bytes"
is "$(requests 'a.txt?cc=no-cache 304 0')" "1" "304: revalidated, no body downloaded"
exp2=$("$C" info "$k" | $JSONQ 'r["expires_ms"]')
check "304: the TTL is refreshed" test "$exp2" -gt "$exp1"
echo "version 2" > www/a.txt
"$C" fetch "$U/a.txt?cc=no-cache" > out
is "$(cat out):$(requests 'a.txt?cc=no-cache 200')" "version 2:2" "changed on the server: 200, new bytes"
is "$("$C" get "$k")" "version 2" "changed on the server: new bytes cached"

# An explicit --ttl: fresh for that long, then revalidated (kept with its ETag).
"$C" fetch "$U/a.txt?x=ttl" --ttl 300ms > /dev/null
sleep 0.6
"$C" fetch "$U/a.txt?x=ttl" --ttl 300ms > out
is "$(cat out):$(requests 'x=ttl 200'):$(requests 'x=ttl 304')" "version 2:1:1" "--ttl 300ms: after it, a 304 revalidation"

# max-age and Expires give the TTL; no-store is not cached.
"$C" fetch "$U/a.txt?cc=max-age%3D120" > /dev/null
like "$("$C" info "fetch:GET $U/a.txt?cc=max-age%3D120" | $JSONQ 'r["origin"]')" \
	'"lifetime_ms":120000' "max-age=120: fresh for 120 s"
"$C" fetch "$U/a.txt?expires=3600" > /dev/null
"$C" fetch "$U/a.txt?expires=3600" > /dev/null
is "$(requests 'expires=3600')" "1" "Expires in an hour: the second fetch makes no request"
"$C" fetch "$U/a.txt?cc=no-store" > out
is "$?:$(cat out)" "0:version 2" "no-store: served"
"$C" get "fetch:GET $U/a.txt?cc=no-store" > /dev/null
is "$?" "1" "no-store: not cached"
"$C" fetch "$U/a.txt?cc=no-store" --ttl 1m > /dev/null
"$C" get "fetch:GET $U/a.txt?cc=no-store" > /dev/null
is "$?" "0" "no-store with an explicit --ttl: cached (the user decides)"
"$C" fetch "$U/a.txt?y=1" --ttl until-invalidated > /dev/null
is "$("$C" info "fetch:GET $U/a.txt?y=1" | $JSONQ 'r["expires_ms"]')" "0" "--ttl until-invalidated: no TTL"

# Redirects are followed, up to a limit.
"$C" fetch "$U/redirect?n=2&to=/a.txt" > out
is "$?:$(cat out)" "0:version 2" "redirects: followed"
"$C" fetch --max-redirs 1 "$U/redirect?n=3&to=/a.txt" > out 2> err
is "$?:$(wc -c < out | tr -d ' ')" "1:0" "too many redirects: exit 1, no output"
like "$(cat err)" "more than 1 redirects" "too many redirects: said"

# HTTP errors: clear, exit 1, never cached.
"$C" fetch "$U/missing.txt" > out 2> err
is "$?:$(wc -c < out | tr -d ' ')" "1:0" "404: exit 1, no output"
like "$(cat err)" "ice-cache: error: $U/missing.txt: HTTP 404" "404: URL and status"
"$C" get "fetch:GET $U/missing.txt" > /dev/null
is "$?" "1" "404: not cached"
"$C" fetch "$U/a.txt?status=500" > /dev/null 2> err
is "$?" "1" "500: exit 1"
like "$(cat err)" "HTTP 500" "500: status named"
"$C" fetch "$U/redirect?n=1&to=/gone.txt" > /dev/null 2> err
like "$(cat err)" "(redirected to $U/gone.txt): HTTP 404" "error after a redirect names both URLs"
"$C" fetch --timeout 300ms "$U/a.txt?sleep=3" > /dev/null 2> err
is "$?" "1" "time-out: exit 1"
like "$(cat err)" "timed out" "time-out: said"
"$C" fetch "http://127.0.0.1:1/x" > /dev/null 2> err
is "$?" "1" "connection refused: exit 1"
"$C" fetch "ftp://example.com/x" 2> /dev/null
is "$?" "2" "other schemes: usage error"

# Request headers and bodies are part of the key.
"$C" fetch -H "X-Variant: a" "$U/header?name=X-Variant" > o1
"$C" fetch -H "X-Variant: b" "$U/header?name=X-Variant" > o2
is "$(cat o1 o2 | tr '\n' ' ')" "a b " "headers: sent, and different headers are different entries"
"$C" fetch -H "X-Variant: c" -H "X-Trace: 1" --key-header X-Variant "$U/header?name=X-Trace" > o3
"$C" fetch -H "X-Variant: c" -H "X-Trace: 2" --key-header X-Variant "$U/header?name=X-Trace" > o4
is "$(cat o3 o4 | tr '\n' ' ')" "1 1 " "--key-header: other headers do not make a new entry"
"$C" fetch --data one "$U/post" > p1
"$C" fetch --data two "$U/post" > p2
"$C" fetch --data one "$U/post" > p3
is "$(cat p1 p2 p3 | tr '\n' ' '):$(requests '^POST')" "posted:one posted:two posted:one :2" \
	"--data: POST, the body's hash in the key"

# -o FILE.
"$C" fetch -o saved.txt "$U/a.txt?cc=no-cache" > out
is "$(cat saved.txt):$(wc -c < out | tr -d ' ')" "version 2:0" "-o FILE: written there, nothing on stdout"

# Tags, so ice-invalidate removes fetched entries too.
"$C" fetch --table db.web "$U/a.txt?z=1" > /dev/null
printf '%s\n' '{"kind":"diff","table":"db.web","from":1,"to":2,"scope":"table","data_preserving":false,"partitions":[]}' |
	"$top_builddir/ice-invalidate" > /dev/null
"$C" get "fetch:GET $U/a.txt?z=1" > /dev/null
is "$?" "1" "a tagged fetch is removed by ice-invalidate"

# The cache unreachable: fetched uncached, with a warning.
"$C" --url "unix://$TMP/none.sock" fetch "$U/a.txt" > out 2> err
is "$?:$(cat out)" "0:version 2" "cache unreachable: fetched anyway"
like "$(cat err)" "warning: working without the cache" "cache unreachable: warned"

done_testing
