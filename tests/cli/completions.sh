#!/bin/sh
# completions: the bash completions complete commands and the options of
# each command; the zsh completions parse.
. "$top_srcdir/tests/cli/lib.sh"

[ -r /usr/share/bash-completion/bash_completion ] || skip_all "bash-completion not installed"

# complete PROGRAM WORDS...: what bash offers for the last word.
complete_words() {
	bash -c '
		. /usr/share/bash-completion/bash_completion
		. "$1/completions/$2"
		compopt() { :; } # only meaningful inside a real completion
		shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_${COMP_WORDS[0]//-/_}
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
	' _ "$top_srcdir" "$@"
}

is "$(complete_words ice-snapshot ice-snapshot '')" "log ls poll show watch " "ice-snapshot: commands"
is "$(complete_words ice-snapshot ice-snapshot watch --)" \
	"--catalog --count --endpoint-url --from-start --help --interval --name --no-object-cache --no-sign-request --once --profile --stats --verbose --version " \
	"ice-snapshot watch: its options"
mkdir -p "$TMP/home/.aws"
printf '[default]\n[prod]\n' > "$TMP/home/.aws/credentials"
printf '[profile staging]\nregion = eu-west-1\n' > "$TMP/home/.aws/config"
is "$(HOME="$TMP/home" complete_words ice-snapshot ice-snapshot --profile '')" "default prod staging " \
	"ice-snapshot --profile: the AWS profiles"
is "$(HOME="$TMP/home" complete_words ice-diff ice-diff --profile pr)" "prod " \
	"ice-diff --profile: the AWS profiles"
is "$(HOME="$TMP/home" complete_words ice-cache ice-cache fetch --profile p)" "prod " \
	"ice-cache fetch --profile: the AWS profiles"
is "$(complete_words ice-cache ice-cache fetch --no)" "--no-sign-request " "ice-cache fetch: --no-sign-request"
is "$(complete_words ice-snapshot ice-snapshot log --a)" "--all " "ice-snapshot log: --all"
is "$(complete_words ice-snapshot ice-snapshot poll --st)" "--state --stats " "ice-snapshot poll: --state, --stats"

is "$(complete_words ice-diff ice-diff --p)" "--partitions --profile " "ice-diff: --partitions, --profile"
is "$(complete_words ice-diff ice-diff --from '')" "none " "ice-diff --from: none"

is "$(complete_words ice-invalidate ice-invalidate --granularity '')" "file partition table " \
	"ice-invalidate --granularity: its values"

is "$(complete_words ice-cache ice-cache '')" "doctor exec export fetch gc get import info ls migrate put rm shell " "ice-cache: commands"
is "$(complete_words ice-cache ice-cache migrate s)" "sqlite:// " "ice-cache migrate: URL schemes"
is "$(complete_words ice-cache ice-cache --max)" "--max-size " "ice-cache: --max-size"
is "$(complete_words ice-cache ice-cache put --t)" "--table --tag --ttl " "ice-cache put: its tag options"
is "$(complete_words ice-cache ice-cache exec --k)" "--key-from-args " "ice-cache exec: --key-from-args"
is "$(complete_words ice-cache ice-cache exec --so)" "--source " "ice-cache exec: --source"
is "$(complete_words ice-cache ice-cache exec k --lock)" "--lock-timeout " "ice-cache exec: --lock-timeout"
is "$(complete_words ice-cache ice-cache exec k --ttl u)" "until-invalidated " "ice-cache --ttl: until-invalidated"
is "$(complete_words ice-cache ice-cache fetch --t)" "--table --tag --timeout --ttl " "ice-cache fetch: its t options"
is "$(complete_words ice-cache ice-cache fetch --key-)" "--key-header " "ice-cache fetch: --key-header"
is "$(complete_words ice-cache ice-cache fetch -X P)" "POST PUT " "ice-cache fetch -X: methods"
like "$(complete_words ice-cache ice-cache exec k -- ech)" "echo " "ice-cache exec --: the command completes as a command"
is "$(complete_words ice-cache ice-cache import --d)" "--dry-run " "ice-cache import: --dry-run"
is "$(complete_words ice-cache ice-cache export --ta)" "--table --tag " "ice-cache export: its filters"
mkdir -p "$TMP/files" && : > "$TMP/files/orders.tar" && : > "$TMP/files/notes.txt"
is "$(cd "$TMP/files" && complete_words ice-cache ice-cache import '')" "orders.tar " \
	"ice-cache import: tar files"

is "$(complete_words ice-stat ice-stat '')" "reset serve " "ice-stat: commands"
is "$(complete_words ice-stat ice-stat --)" "--count --help --json --output --prefix --prometheus --url --version --watch " \
	"ice-stat: the summary's options"
is "$(complete_words ice-stat ice-stat serve --)" "--help --listen --prefix --url --version " "ice-stat serve: its options"
is "$(complete_words ice-stat ice-stat reset --)" "--help --prefix --table --url --version --yes " "ice-stat reset: its options"

# Sourced by a shell that has not loaded bash-completion (root's on Debian):
# completion still works, with no error on stderr.
for prog in ice-snapshot ice-diff ice-invalidate ice-cache ice-stat; do
	got=$(bash --norc -c '
		. "$1/completions/$2" || exit 1
		compopt() { :; }
		COMP_WORDS=("$2" --h); COMP_CWORD=1; COMP_LINE="$2 --h"; COMP_POINT=${#COMP_LINE}
		_${2//-/_}
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$top_srcdir" "$prog" 2> "$TMP/err")
	is "$got:$(cat "$TMP/err")" "--help:" "$prog: completes in a shell without bash-completion loaded"
done

if command -v zsh > /dev/null; then
	for f in "$top_srcdir"/completions/_*; do
		zsh -n "$f"
		ok $? "zsh completion $(basename "$f") parses"
	done
fi
done_testing
