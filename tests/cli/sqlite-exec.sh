#!/bin/sh
# sqlite-exec: every check of cache-exec.sh on the embedded SQLite backend.
ICE_TEST_BACKEND=sqlite
export ICE_TEST_BACKEND
exec sh "$top_srcdir/tests/cli/exec.sh"
