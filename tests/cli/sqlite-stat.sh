#!/bin/sh
# sqlite-stat: every check of stat-redis.sh on the embedded SQLite backend.
ICE_TEST_BACKEND=sqlite
export ICE_TEST_BACKEND
exec sh "$top_srcdir/tests/cli/stat.sh"
