#!/bin/sh
# sqlite-invalidate: every check of invalidate-redis.sh on the embedded
# SQLite backend.
ICE_TEST_BACKEND=sqlite
export ICE_TEST_BACKEND
exec sh "$top_srcdir/tests/cli/invalidate.sh"
