#!/bin/sh
# sqlite-archive: every check of cache-archive.sh on the embedded SQLite
# backend.
ICE_TEST_BACKEND=sqlite
export ICE_TEST_BACKEND
exec sh "$top_srcdir/tests/cli/archive.sh"
