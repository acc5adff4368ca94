#!/bin/sh
# lint: every shell script of the project passes shellcheck (POSIX sh for
# the scripts and tests, bash for the bash completions; the zsh completions
# are beyond shellcheck: completions.sh has zsh parse them), and every man
# page passes `mandoc -Tlint` without a message. One test per file.
. "$top_srcdir/tests/cli/lib.sh"

command -v shellcheck > /dev/null || skip_all "shellcheck not installed (scripts/setup installs it)"
command -v mandoc > /dev/null || skip_all "mandoc not installed (scripts/setup installs it)"

# lint_file NAME COMMAND...: COMMAND passes and prints nothing.
lint_file() {
	_name=$1
	shift
	if "$@" > "$TMP/lint.out" 2>&1 && [ ! -s "$TMP/lint.out" ]; then
		ok 0 "$_name"
	else
		ok 1 "$_name"
		sed 's/^/#   /' "$TMP/lint.out"
	fi
}

# From the top folder, where -x finds the lib.sh every test sources.
cd "$top_srcdir" || exit 1
for f in autogen.sh scripts/* tests/cli/*.sh tests/cli/on-backend; do
	lint_file "shellcheck $f" shellcheck -x -s sh "$f"
done
for f in completions/ice-*; do
	lint_file "shellcheck $f" shellcheck -s bash "$f"
done
for f in man/*.[1-9]; do
	lint_file "mandoc -Tlint $f" mandoc -Tlint "$f"
done

done_testing
