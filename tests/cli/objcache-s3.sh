#!/bin/sh
# objcache-s3: the object cache as the programs use it, against a real S3
# server (s3rver behind the botocore-verifying proxy, see start_s3), with
# the requests counted at the server: where it lives and how it is sized or
# turned off (flag, environment, configuration file), a second read of an
# immutable object making no request, two programs filling it at once, the
# size limit kept by evicting the least recently used, and a corrupted
# entry detected and fetched again. The layer's own checks (readimm in
# ice-storage-probe) are in storage-s3.sh.
. "$top_srcdir/tests/cli/lib.sh"

start_s3 lake
cd "$TMP" || exit 1
SNAP="$top_builddir/ice-snapshot"

"$MKTABLE" create t --format-version 2 --seed 4 --location s3://lake/wh/db/t > /dev/null
for _ in 1 2 3 4 5 6; do "$MKTABLE" append t --files 1 > /dev/null; done
s3_put t wh/db/t/ || { echo "Bail out! seeding failed"; exit 1; }
M=s3://lake/wh/db/t/metadata
files=$(for v in 1 2 3 4 5 6 7; do printf '%s/v%s.metadata.json ' "$M" $v; done)
gets() { s3_requests "GET /lake/wh/db/t/metadata/v$1.metadata.json 200"; }
entries() { find "$1" -type f -name '[0-9a-f]*' ! -name '*.tmp*' | wc -l | tr -d ' '; }
bytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }

# ---- where it lives: XDG_CACHE_HOME by default, ICE_OBJECT_CACHE, object_cache ----
XDG_CACHE_HOME="$TMP/xdg" "$SNAP" show $M/v7.metadata.json > first
is "$?:$(gets 7)" "0:1" "show: the metadata file read from the store"
is "$(entries "$TMP/xdg/icecache/objects")" "1" "default: kept under \$XDG_CACHE_HOME/icecache/objects"
XDG_CACHE_HOME="$TMP/xdg" "$SNAP" show $M/v7.metadata.json > second
is "$(gets 7)" "1" "again: no request (counted at the server)"
check "again: the same record" cmp -s first second

ICE_OBJECT_CACHE="$TMP/env-cache" "$SNAP" show $M/v6.metadata.json > /dev/null
ICE_OBJECT_CACHE="$TMP/env-cache" "$SNAP" show $M/v6.metadata.json > /dev/null
is "$(gets 6):$(entries "$TMP/env-cache")" "1:1" "ICE_OBJECT_CACHE: the folder, one request for two reads"
printf 'object_cache = %s\n' "$TMP/conf-cache" > conf
ICE_CONFIG=conf "$SNAP" show $M/v5.metadata.json > /dev/null
is "$(entries "$TMP/conf-cache")" "1" "object_cache: the folder from the configuration file"
ICE_CONFIG=conf ICE_OBJECT_CACHE="$TMP/env-cache" "$SNAP" show $M/v4.metadata.json > /dev/null
is "$(entries "$TMP/env-cache"):$(entries "$TMP/conf-cache")" "2:1" "ICE_OBJECT_CACHE beats object_cache"
ICE_OBJECT_CACHE=relative "$SNAP" show $M/v4.metadata.json > /dev/null 2> err
is "$?" "2" "a relative folder: a usage error"

# ---- off: every read is a request ----
printf 'object_cache = off\n' > conf-off
n=$(gets 7)
ICE_CONFIG=conf-off XDG_CACHE_HOME="$TMP/xdg" "$SNAP" show $M/v7.metadata.json > /dev/null
ICE_CONFIG=conf-off XDG_CACHE_HOME="$TMP/xdg" "$SNAP" show $M/v7.metadata.json > /dev/null
is "$(gets 7)" "$((n + 2))" "object_cache = off: two reads, two requests"
ICE_OBJECT_CACHE=off XDG_CACHE_HOME="$TMP/xdg" "$SNAP" show $M/v7.metadata.json > /dev/null
XDG_CACHE_HOME="$TMP/xdg" "$SNAP" --no-object-cache show $M/v7.metadata.json > /dev/null
is "$(gets 7)" "$((n + 4))" "ICE_OBJECT_CACHE=off and --no-object-cache: a request each"
ICE_CONFIG=conf ICE_OBJECT_CACHE=off "$SNAP" show $M/v3.metadata.json > /dev/null
is "$(entries "$TMP/conf-cache")" "1" "ICE_OBJECT_CACHE=off beats object_cache"

# ---- two programs filling one cache at once ----
export ICE_OBJECT_CACHE="$TMP/shared"
: > proxy.log
# shellcheck disable=SC2086 # a list of URIs without blanks, split on purpose
"$SNAP" show $files > fill1 2>&1 &
p1=$!
# shellcheck disable=SC2086 # a list of URIs without blanks, split on purpose
"$SNAP" show $files > fill2 2>&1 &
p2=$!
wait $p1; s1=$?
wait $p2; s2=$?
is "$s1:$s2" "0:0" "two at once: both succeed"
check "two at once: the same records" cmp -s fill1 fill2
is "$(wc -l < fill1 | tr -d ' ')" "7" "two at once: a record per metadata file"
is "$(entries "$TMP/shared")" "7" "two at once: one entry per object"
: > proxy.log
# shellcheck disable=SC2086 # a list of URIs without blanks, split on purpose
"$SNAP" show $files > fill3
check "then: the cached records are the store's" cmp -s fill1 fill3
is "$(s3_requests 'metadata.json')" "0" "then: every entry whole, no request"

# ---- a corrupted entry is detected and fetched again ----
entry=$(grep -l 'v2.metadata.json' "$TMP"/shared/*/* | head -1)
printf 'garbage' | dd of="$entry" bs=1 seek=200 conv=notrunc 2> /dev/null
"$SNAP" show $M/v2.metadata.json > after
is "$?" "0" "corrupted entry: still read"
check "corrupted entry: the right record" sh -c "grep -F -q \"\$(sed -n 2p fill1)\" after"
is "$(gets 2)" "1" "corrupted entry: fetched again from the store"
"$SNAP" show $M/v2.metadata.json > /dev/null
is "$(gets 2)" "1" "corrupted entry: replaced by a whole one"

# ---- the size limit: least recently used out ----
one=$(bytes "$TMP/xdg/icecache/objects")
limit=$((one * 3 + one / 2))
export ICE_OBJECT_CACHE="$TMP/small" ICE_OBJECT_CACHE_SIZE=$limit
for f in $files; do "$SNAP" show "$f" > /dev/null; done
size=$(bytes "$TMP/small")
check "ICE_OBJECT_CACHE_SIZE: kept ($size bytes of $limit)" test "$size" -le "$limit"
check "ICE_OBJECT_CACHE_SIZE: entries were evicted" test "$(entries "$TMP/small")" -lt 7
: > proxy.log
"$SNAP" show $M/v7.metadata.json > /dev/null
is "$(s3_requests 'metadata.json')" "0" "the most recently used survives"
"$SNAP" show $M/v1.metadata.json > /dev/null
is "$(s3_requests 'v1.metadata.json 200')" "1" "the least recently used was evicted"
unset ICE_OBJECT_CACHE_SIZE
printf 'object_cache_size = %s\n' "$limit" > conf-size
ICE_CONFIG=conf-size ICE_OBJECT_CACHE="$TMP/small2" sh -c \
	'for f in $0; do "$1" show "$f" > /dev/null; done' "$files" "$SNAP"
size=$(bytes "$TMP/small2")
check "object_cache_size: kept ($size bytes of $limit)" test "$size" -le "$limit"
ICE_OBJECT_CACHE_SIZE=0 "$SNAP" show $M/v1.metadata.json > /dev/null 2> err
is "$?" "2" "ICE_OBJECT_CACHE_SIZE=0: a usage error"
ICE_OBJECT_CACHE_SIZE=lots "$SNAP" show $M/v1.metadata.json > /dev/null 2> err
like "$(cat err)" "ICE_OBJECT_CACHE_SIZE: bad size 'lots'" "ICE_OBJECT_CACHE_SIZE=lots: says why"
is "$(s3_requests 'refused')" "0" "every request passed botocore's signature check"
done_testing
