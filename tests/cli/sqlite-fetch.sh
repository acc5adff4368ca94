#!/bin/sh
# sqlite-fetch: every check of cache-fetch.sh on the embedded SQLite backend.
ICE_TEST_BACKEND=sqlite
export ICE_TEST_BACKEND
exec sh "$top_srcdir/tests/cli/fetch.sh"
