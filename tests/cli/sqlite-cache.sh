#!/bin/sh
# sqlite-cache: every check of cache-redis.sh on the embedded SQLite backend.
ICE_TEST_BACKEND=sqlite
export ICE_TEST_BACKEND
exec sh "$top_srcdir/tests/cli/cache.sh"
