#!/bin/sh
# sqlite-shell: every check of cache-shell.sh on the embedded SQLite backend.
ICE_TEST_BACKEND=sqlite
export ICE_TEST_BACKEND
exec sh "$top_srcdir/tests/cli/shell.sh"
