#!/bin/sh
# readme-examples: the README's ```console examples run verbatim, so the
# documentation never promises a tag form the pipeline does not emit.
# Each "$ COMMAND" line runs with sh in one working folder holding the
# sample tables the examples make (ice-mktable, the test-suite's table
# writer, on PATH as the README says); the lines after it, up to the next
# "$ " line or the block's end, are its expected output (stdout and stderr).
. "$top_srcdir/tests/cli/lib.sh"

command -v jq > /dev/null || skip_all "jq not installed (the examples use it)"
[ -x "$MKTABLE" ] || skip_all "ice-mktable not built"

mkdir -p "$TMP/bin" "$TMP/work"
ln -s "$MKTABLE" "$TMP/bin/ice-mktable"
for p in ice-snapshot ice-diff ice-invalidate ice-cache ice-stat; do
	ln -s "$top_builddir/$p" "$TMP/bin/$p"
done
PATH="$TMP/bin:$PATH"
export PATH
unset ICE_CACHE_URL # the embedded default, in the test's XDG_CACHE_HOME

# Each command as ex/LINE.cmd, its expected output as ex/LINE.want.
mkdir -p "$TMP/ex"
python3 - "$top_srcdir/README.md" "$TMP/ex" <<'PY'
import os, sys
block = None
for no, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    line = line.rstrip("\n")
    if block is None:
        if line.strip() == "```console":
            block = []
        continue
    if line.strip() == "```":
        for cmd_no, cmd, out in block:
            base = os.path.join(sys.argv[2], "%05d" % cmd_no)
            open(base + ".cmd", "w").write(cmd + "\n")
            open(base + ".want", "w").write("".join(o + "\n" for o in out))
        block = None
    elif line.startswith("$ "):
        block.append((no, line[2:], []))
    elif block:
        block[-1][2].append(line)
PY
ls "$TMP/ex"/*.cmd > /dev/null 2>&1 || { echo "Bail out! no console example in README.md"; exit 1; }

cd "$TMP/work" || exit 1
for f in "$TMP/ex"/*.cmd; do
	base=${f%.cmd}
	sh "$f" > "$base.got" 2>&1 < /dev/null
	line=$(basename "$base" | sed 's/^0*//')
	if cmp -s "$base.got" "$base.want"; then
		ok 0 "README.md:$line: $(cat "$f")"
	else
		ok 1 "README.md:$line: $(cat "$f")"
		diff "$base.want" "$base.got" | sed 's/^/#   /'
	fi
done

done_testing
