#!/bin/sh
# sqlite-stat-serve: every check of stat-serve.sh on the embedded SQLite
# backend.
ICE_TEST_BACKEND=sqlite
export ICE_TEST_BACKEND
exec sh "$top_srcdir/tests/cli/stat-serve.sh"
