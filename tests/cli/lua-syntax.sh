#!/bin/sh
# lua-syntax: every Redis script in lib/cache/lua passes `luac5.1 -p`
# (Redis runs Lua 5.1), and the C strings built from them are exactly
# those files: each script (first line "#!lua...") embedded once, with its
# "--#include" lines replaced by the included file, each other file
# included by some script, and nothing else embedded.
. "$top_srcdir/tests/cli/lib.sh"

LUA_DIR="$top_srcdir/lib/cache/lua"
INC="$top_builddir/lib/cache/redis-lua.inc"

if command -v luac5.1 > /dev/null; then
	bad=""
	for f in "$LUA_DIR"/*.lua; do
		luac5.1 -p "$f" 2> "$TMP/err" || bad="$bad $(basename "$f"): $(cat "$TMP/err")"
	done
	is "$bad" "" "luac5.1 -p: every script parses"
else
	echo "ok $((_n += 1)) # SKIP luac5.1 not installed (scripts/setup installs lua5.1)"
fi

# embed_check DIR: "scripts=N", then one line per difference between the
# .lua files of DIR and the strings in $INC.
embed_check() {
	python3 - "$1" "$INC" 2>&1 << 'EOF_PY'
import ast, os, re, sys
lua_dir, inc = sys.argv[1], sys.argv[2]
text = open(inc).read()
# each array: static const char ice_lua_NAME[] = "..." "..." ;
embedded = {}
for m in re.finditer(r'static const char ice_lua_(\w+)\[\] =\n((?:\t".*"\n)*)\t;', text):
    lits = [ast.literal_eval(line.strip()) for line in m.group(2).splitlines()]
    embedded[m.group(1)] = "".join(lits)
problems = []
if len(embedded) != text.count("static const char"):
    problems.append("an array not in the expected form")
files = sorted(f for f in os.listdir(lua_dir) if f.endswith(".lua"))
included = set()
for f in files:
    src = open(os.path.join(lua_dir, f)).read()
    name = f[:-4]
    if not src.startswith("#!lua"):
        continue
    out = []
    for line in src.splitlines(True):
        if line.startswith("--#include "):
            inc_name = line[len("--#include "):].strip()
            included.add(inc_name)
            out.append(open(os.path.join(lua_dir, inc_name)).read())
        else:
            out.append(line)
    if name not in embedded:
        problems.append(f + " not embedded")
    elif embedded[name] != "".join(out):
        problems.append(f + " embedded differently")
for f in files:
    if not open(os.path.join(lua_dir, f)).read().startswith("#!lua") and f not in included:
        problems.append(f + " neither a script nor included")
for name in embedded:
    if name + ".lua" not in files:
        problems.append("ice_lua_" + name + " has no file")
print("scripts=%d" % len(embedded))
print("\n".join(problems))
EOF_PY
}

embed_check "$LUA_DIR" > "$TMP/embed"
is "$(head -n 1 "$TMP/embed")" "scripts=12" "twelve scripts embedded"
is "$(tail -n +2 "$TMP/embed")" "" "each .lua file embedded as it is (includes in place), nothing else"

# The check can fail: a script the build does not list is found.
cp -R "$LUA_DIR" "$TMP/lua"
printf '#!lua\nreturn 1\n' > "$TMP/lua/stray.lua"
like "$(embed_check "$TMP/lua")" "stray.lua not embedded" "a .lua file left out of the build is reported"

done_testing
