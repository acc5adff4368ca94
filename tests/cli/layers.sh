#!/bin/sh
# layers: the build keeps the layers apart. A probe source compiled with a
# layer's own flags (ICE_COMPILE_BASE, _ICEBERG, _CACHE from Makefile.am:
# the compiler, its flags and the layer's include paths) finds the headers
# of its layer and those below, and not those of a peer or of a layer
# above; and ice-diff, which has no cache, loads neither hiredis nor
# SQLite (its NEEDED entries, as objdump -p shows them).
. "$top_srcdir/tests/cli/lib.sh"

[ -n "${ICE_COMPILE_ICEBERG:-}" ] || skip_all "run through make check (ICE_COMPILE_* unset)"

# compiles FLAGS HEADER: a probe including HEADER compiles with FLAGS.
compiles() {
	printf '#include "config.h"\n#include "%s"\nint ice_probe(void);\nint ice_probe(void) { return 0; }\n' "$2" \
		> "$TMP/probe.c"
	# shellcheck disable=SC2086 # FLAGS: a compiler and its options
	$1 -o "$TMP/probe.o" "$TMP/probe.c" 2> "$TMP/probe.err"
}
refused() { # refused FLAGS HEADER: the probe fails, for the missing header
	! compiles "$1" "$2" && grep -q "$2" "$TMP/probe.err"
}

check "base flags: a base header builds" compiles "$ICE_COMPILE_BASE" ice_error.h
check "base flags: an iceberg header is refused" refused "$ICE_COMPILE_BASE" ice_manifest.h
check "base flags: a cache header is refused" refused "$ICE_COMPILE_BASE" ice_backend.h
check "iceberg flags: iceberg and base headers build" compiles "$ICE_COMPILE_ICEBERG" ice_diff.h
check "iceberg flags: a cache header is refused" refused "$ICE_COMPILE_ICEBERG" ice_backend.h
check "iceberg flags: a program's header is refused" refused "$ICE_COMPILE_ICEBERG" cli.h
check "cache flags: cache and base headers build" compiles "$ICE_COMPILE_CACHE" ice_stale.h
check "cache flags: an iceberg header is refused" refused "$ICE_COMPILE_CACHE" ice_manifest.h

command -v objdump > /dev/null || skip_all "objdump not installed (binutils)"
needed() { objdump -p "$1" | awk '$1 == "NEEDED" { print $2 }' | tr '\n' ' '; }
diff_libs=$(needed "$top_builddir/ice-diff")
cache_libs=$(needed "$top_builddir/ice-cache")
# The check below can see them: ice-cache has both.
like "$cache_libs" libhiredis "ice-cache loads hiredis"
like "$cache_libs" libsqlite3 "ice-cache loads SQLite"
case $diff_libs in
*libhiredis* | *libsqlite3*) ok 1 "ice-diff loads neither hiredis nor SQLite ($diff_libs)" ;;
*) ok 0 "ice-diff loads neither hiredis nor SQLite ($diff_libs)" ;;
esac

# The same at the symbol level: no cache-layer code linked into ice-diff,
# while ice-cache has it (so the check can see it).
if command -v nm > /dev/null; then
	nm "$top_builddir/ice-cache" > "$TMP/cache.syms" && nm "$ICE_DIFF" > "$TMP/diff.syms"
	ok $? "nm reads both programs"
	check "ice-cache has the cache layer's code (the check sees it)" grep -q ' T ice_backend_open$' "$TMP/cache.syms"
	is "$(grep -c -e ' T ice_backend_' -e ' T ice_cli_open_cache' "$TMP/diff.syms")" "0" \
		"ice-diff has none of the cache layer's code, nor cli-cache's"
fi

done_testing
