#!/bin/sh
# diff-links: ice-diff links only the layers it uses: no cache code in
# it, and neither hiredis nor SQLite (the cache layer's libraries) loaded
# when it starts; ice-cache, which has them, shows the checks can see them.
. "$top_srcdir/tests/cli/lib.sh"

command -v ldd > /dev/null || skip_all "ldd not installed"
C="$top_builddir/ice-cache"

ldd "$ICE_DIFF" > "$TMP/diff.libs"
ok $? "ldd reads ice-diff"
ldd "$C" > "$TMP/cache.libs"
ok $? "ldd reads ice-cache"
# shellcheck disable=SC2016 # expanded by the inner shell
check "ice-cache loads hiredis and SQLite (the check sees them)" \
	sh -c 'grep -q libhiredis "$1" && grep -q libsqlite3 "$1"' _ "$TMP/cache.libs"
is "$(grep -c -e libhiredis -e libsqlite3 "$TMP/diff.libs")" "0" "ice-diff loads neither hiredis nor SQLite"

if command -v nm > /dev/null; then
	nm "$C" > "$TMP/cache.syms" && nm "$ICE_DIFF" > "$TMP/diff.syms"
	ok $? "nm reads both programs"
	check "ice-cache has the cache layer's code (the check sees it)" grep -q ' T ice_backend_open$' "$TMP/cache.syms"
	is "$(grep -c -e ' T ice_backend_' -e ' T ice_cli_open_cache' "$TMP/diff.syms")" "0" \
		"ice-diff has none of the cache layer's code, nor cli-cache's"
fi
done_testing
