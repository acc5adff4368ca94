#!/bin/sh
# storage-prefetch: ice_storage_prefetch against a real S3 server (s3rver
# behind the botocore-verifying proxy): N objects prefetched are N GETs and
# their reads make no further request, the object cache is filled (a second
# run makes none), transfers run at once up to the concurrency
# (ICE_S3_CONCURRENCY), a 503 is retried, and a 404 among them leaves the
# others whole (the read of the missing one reports it).
. "$top_srcdir/tests/cli/lib.sh"

PROBE="$top_builddir/tests/storage/ice-storage-probe"
start_s3 lake
cd "$TMP" || exit 1
ms() { echo $(($(date +%s%N) / 1000000)); }

python3 "$top_srcdir/tests/s3/s3-put.py" "$S3_PORT" lake --many 40 pf/k ||
	{ echo "Bail out! seeding failed"; exit 1; }
i=0
uris=
: > want
while [ $i -lt 40 ]; do
	uris="$uris s3://lake/pf/k$(printf %05d $i)"
	printf 'object %d\n' $i >> want
	i=$((i + 1))
done
P() { "$PROBE" --attempts 4 --budget-ms 20000 "$@"; }

# ---- N objects, N GETs; the reads then make none ----
: > proxy.log
# shellcheck disable=SC2086 # a list of URIs without blanks, split on purpose
P --cache-dir c1 --concurrency 8 --stats prefetch $uris > got 2> stats
is "$?" "0" "prefetch: 40 objects"
check "prefetch: the reads give every object's bytes, in order" cmp -s want got
like "$(cat stats)" "requests=40 retries=0" "prefetch: 40 requests in all, reads included"
is "$(s3_requests 'GET /lake/pf/k')" "40" "prefetch: the server saw 40 GETs"
is "$(grep 'GET /lake/pf/k' proxy.log | cut -d' ' -f2 | sort | uniq -d | wc -l | tr -d ' ')" "0" \
	"prefetch: no object asked for twice"
is "$(s3_requests 'refused')" "0" "prefetch: every request passed botocore's signature check"
is "$(find c1 -type f | wc -l | tr -d ' ')" "40" "prefetch: 40 entries in the object cache"

: > proxy.log
# shellcheck disable=SC2086 # a list of URIs without blanks, split on purpose
P --cache-dir c1 --stats prefetch $uris > got 2> stats
check "prefetch, warm: the same bytes" cmp -s want got
like "$(cat stats)" "requests=0 retries=0 not_modified=0 cache_hits=40" \
	"prefetch, warm: all from the object cache, no request"
is "$(s3_requests 'GET')" "0" "prefetch, warm: the server saw nothing"

# shellcheck disable=SC2086 # a list of URIs without blanks, split on purpose
P --no-cache --stats prefetch $uris > got 2> stats
check "prefetch, no object cache: the same bytes" cmp -s want got
like "$(cat stats)" "requests=40 retries=0" "prefetch, no object cache: still one request each"

printf 'local bytes' > local.obj
is "$(P --stats prefetch "$TMP/local.obj" 2> stats)" "local bytes" "prefetch: a local file is read as is"
like "$(cat stats)" "requests=0" "prefetch: a local file makes no request"

# ---- faults: retried as single reads are; a failure is the read's to report ----
: > proxy.log
s3_fault '{"kind":"slowdown","match":"pf/k00003","count":1}'
# shellcheck disable=SC2086 # a list of URIs without blanks, split on purpose
P --cache-dir c2 --stats prefetch $uris > got 2> stats
check "503 SlowDown once: every object whole" cmp -s want got
like "$(cat stats)" "requests=41 retries=1" "503 SlowDown once: retried by the prefetcher, 41 requests"
is "$(s3_requests 'k00003 503')" "1" "503 SlowDown once: the server answered 503 once"
is "$(s3_requests 'k00003 200')" "1" "503 SlowDown once: then 200 once"
s3_reset_faults

: > proxy.log
first=$(echo "$uris" | cut -d' ' -f2-21)
rest=$(echo "$uris" | cut -d' ' -f22-)
# shellcheck disable=SC2086 # lists of URIs without blanks, split on purpose
P --cache-dir c3 --stats prefetch $first s3://lake/pf/missing $rest > got 2> err
is "$?" "2" "a 404 among them: the read of the missing one says not found"
like "$(cat err)" "s3://lake/pf/missing: not found" "a 404 among them: named by the read"
check "a 404 among them: every other object read whole" cmp -s want got
is "$(s3_requests 'pf/missing 404')" "2" "a 404 among them: asked by the prefetch, then by the read"
is "$(s3_requests 'GET /lake/pf/k')" "40" "a 404 among them: the others asked once each"
# shellcheck disable=SC2086 # a list of URIs without blanks, split on purpose
P --cache-dir c3 --stats readimm $rest > got 2> stats
like "$(cat stats)" "requests=0 " "a 404 among them: the others are in the object cache"

# ---- concurrency: ICE_S3_CONCURRENCY=1 is one at a time, 4 is four ----
# Lower bounds only (one at a time cannot be faster); the upper bound is
# four times the expected time.
slow4="s3://lake/pf/k00010 s3://lake/pf/k00011 s3://lake/pf/k00012 s3://lake/pf/k00013"
# timed CONCURRENCY COUNT SECONDS: ms to prefetch slow4, COUNT of them slow.
timed() {
	s3_fault "{\"kind\":\"slow\",\"match\":\"pf/k0001\",\"count\":$2,\"seconds\":$3}"
	t0=$(ms)
	# shellcheck disable=SC2086 # a list of URIs without blanks, split on purpose
	ICE_S3_CONCURRENCY=$1 P --no-cache prefetch $slow4 > /dev/null
	echo $(($(ms) - t0))
	s3_reset_faults
}
t=$(timed 1 3 1)
check "ICE_S3_CONCURRENCY=1: three 1-second answers one after another ($t ms)" test "$t" -ge 3000
t=$(timed 4 4 2)
check "ICE_S3_CONCURRENCY=4: four 2-second answers at once ($t ms, not 8000)" test "$t" -lt 8000
is "$(s3_requests 'refused')" "0" "no request refused by the signature check"
done_testing
