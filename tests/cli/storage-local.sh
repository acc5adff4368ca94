#!/bin/sh
# storage-local: the storage layer on local files and on http(s) objects
# (tests/cli/httpd.py): reads, ranges, stat, conditional reads, listings,
# errors; and libcurl loaded only when a remote object is first read, never
# by `ice-cache get`.
. "$top_srcdir/tests/cli/lib.sh"

PROBE="$top_builddir/tests/storage/ice-storage-probe"
cd "$TMP" || exit 1

# ---- local files ----
mkdir -p t/metadata t/data/sub
printf '0123456789' > t/metadata/v1.metadata.json
printf 'x' > t/data/a.avro
printf 'yy' > t/data/sub/b.avro
is "$("$PROBE" read t/metadata/v1.metadata.json)" "0123456789" "local: read"
is "$("$PROBE" read "file://$TMP/t/metadata/v1.metadata.json")" "0123456789" "local: file:// URI"
is "$("$PROBE" range t/metadata/v1.metadata.json 3 4)" "3456" "local: range"
is "$("$PROBE" range t/metadata/v1.metadata.json 8 100)" "89" "local: range past the end is cut"
"$PROBE" range t/metadata/v1.metadata.json 11 1 > /dev/null 2>&1
is "$?" "1" "local: range starting past the end is an error"
like "$("$PROBE" stat t/metadata/v1.metadata.json)" "size=10 etag=W/\"" "local: stat with a made-up ETag"
etag=$("$PROBE" stat t/metadata/v1.metadata.json | sed 's/.*etag=\(.*\) mtime.*/\1/')
is "$("$PROBE" readif t/metadata/v1.metadata.json "$etag")" "unchanged" "local: same ETag, unchanged"
printf 'changed!!!' > t/metadata/v1.metadata.json
touch -d '2001-01-01' t/metadata/v1.metadata.json
is "$("$PROBE" readif t/metadata/v1.metadata.json "$etag")" "changed!!!" "local: a rewrite changes the ETag"
is "$("$PROBE" list t/data)" "t/data/a.avro 1" "local: list, only files directly in the folder"
is "$("$PROBE" list t -r | tr '\n' ' ')" \
	"t/data/a.avro 1 t/data/sub/b.avro 2 t/metadata/v1.metadata.json 10 " "local: list -r, sorted"
"$PROBE" read t/nope > /dev/null 2> err
is "$?" "2" "local: missing file: not found"
like "$(cat err)" "t/nope: No such file or directory" "local: missing file: named"
"$PROBE" list t/nope > /dev/null 2>&1
is "$?" "2" "local: missing folder: not found"

# ---- http(s) objects ----
mkdir www
printf 'http object bytes' > www/o.bin
python3 "$top_srcdir/tests/cli/httpd.py" www http.log port &
track_pid $!
wait_for 10 test -s port || { echo "Bail out! httpd.py did not start"; exit 1; }
U="http://127.0.0.1:$(cat port)"
is "$("$PROBE" read "$U/o.bin")" "http object bytes" "http: read"
is "$("$PROBE" range "$U/o.bin" 5 6)" "object" "http: range (a server ignoring Range: cut here)"
like "$("$PROBE" stat "$U/o.bin")" "size=17 etag=\"" "http: stat by HEAD"
etag=$("$PROBE" stat "$U/o.bin" | sed 's/.*etag=\(.*\) mtime.*/\1/')
is "$("$PROBE" --stats readif "$U/o.bin" "$etag" 2> stats)" "unchanged" "http: conditional read, 304"
like "$(cat stats)" "requests=1 retries=0 not_modified=1" "http: one request"
"$PROBE" read "$U/missing" > /dev/null 2>&1
is "$?" "2" "http: 404 is not found"
"$PROBE" --attempts 2 --stats read "$U/o.bin?status=503" > /dev/null 2> err
like "$(cat err)" "gave up after 2 tries" "http: 503 retried, bounded"
like "$(cat err)" "requests=2 retries=1" "http: two tries"
"$PROBE" list "$U/" > /dev/null 2> err
like "$(cat err)" "cannot be listed" "http: no listing"

# ---- libcurl only when needed ----
loads_curl() { LD_DEBUG=libs "$@" 2>&1 >/dev/null | grep -q 'libcurl\.so'; }
check "local read: libcurl not loaded" sh -c "! LD_DEBUG=libs '$PROBE' read t/data/a.avro 2>&1 >/dev/null | grep -q 'libcurl\\.so'"
check "http read: libcurl loaded (so the check above can fail)" loads_curl "$PROBE" read "$U/o.bin"
ICE_TEST_BACKEND=sqlite
start_cache
printf 'v' | "$top_builddir/ice-cache" put k > /dev/null
is "$("$top_builddir/ice-cache" get k)" "v" "ice-cache get: the value"
check "ice-cache get: libcurl not loaded" sh -c "! LD_DEBUG=libs '$top_builddir/ice-cache' get k 2>&1 >/dev/null | grep -q 'libcurl\\.so'"
done_testing
