#!/bin/sh
# shell: ice-cache shell driven in a real terminal (tmux): tab
# completion of a subcommand, an option and a key, errors that do not end
# the session, the ls table, history across two sessions, the shell on
# `ice-cache` with no arguments; and `ice-cache ls` on a terminal. On each
# backend (a real redis-server; the SQLite file).
. "$top_srcdir/tests/cli/lib.sh"

command -v tmux > /dev/null || skip_all "tmux not installed (scripts/setup installs it)"
start_cache
C="$top_builddir/ice-cache"

"$C" put alpha-report --table db.t --value "report body"
"$C" put alpha-2 --value two
"$C" put "beta key" --value "value of beta"
"$C" put zeta --ttl 1h --value z

# A private tmux server; every pane runs with a private history and no
# ~/.inputrc, and says how its command ended.
TM="tmux -S $TMP/tmux.sock"
run_in_pane() { # run_in_pane NAME COMMAND...
	_name=$1
	shift
	TERM=${TERM:-xterm} $TM new-session -d -s "$_name" -x 200 -y 50 \
		"env XDG_STATE_HOME='$TMP/state' INPUTRC=/dev/null $*; echo \"[ended \$?]\"; exec sleep 600"
	[ -n "${tmux_pid:-}" ] || { tmux_pid=$($TM display-message -p '#{pid}') && track_pid "$tmux_pid"; }
}
screen() { $TM capture-pane -p -t "$1"; }
shows() { screen "$1" | grep -qF -- "$2"; }                # shows PANE TEXT
shows_line() { screen "$1" | grep -qE -- "$2"; }           # shows_line PANE REGEX
shows_times() { [ "$(screen "$1" | grep -cF -- "$2")" -ge "$3" ]; } # shows_times PANE TEXT N
type_keys() { _p=$1; shift; $TM send-keys -t "$_p" "$@"; } # type_keys PANE KEYS...

run_in_pane s1 "'$C' shell"
wait_for 30 shows s1 "ice-cache>"
ok $? "shell: the prompt appears"

type_keys s1 "inf" Tab
wait_for 30 shows s1 "ice-cache> info"
ok $? "completion: a subcommand (inf -> info)"
type_keys s1 "alpha-r" Tab
wait_for 30 shows s1 "ice-cache> info alpha-report"
ok $? "completion: a key from the cache (alpha-r -> alpha-report)"
type_keys s1 Enter
wait_for 30 shows s1 '"key":"alpha-report"'
ok $? "the completed command runs: info prints the entry"

type_keys s1 "get be" Tab
wait_for 30 shows s1 'ice-cache> get beta\ key'
ok $? "completion: a key with a space is inserted quoted"
type_keys s1 Enter
wait_for 30 shows s1 "value of beta"
ok $? "the quoted key reads back the value"

# after an opening quote: the key completes inside the quotes
type_keys s1 "get 'be" Tab
wait_for 30 shows s1 "ice-cache> get 'beta key'"
ok $? "completion after an opening quote: the key, quoted as begun"
type_keys s1 Enter
# (the first get's output is on the screen already: wait for a second one)
wait_for 30 shows_times s1 "value of beta" 2
ok $? "the key completed inside quotes reads back the value"

type_keys s1 "put x --va" Tab
wait_for 30 shows s1 "ice-cache> put x --value"
ok $? "completion: a long option (--va -> --value)"
type_keys s1 C-u
# --data (fetch) and --dry-run (import) share --d: after import only its own
type_keys s1 "import --d" Tab
wait_for 30 shows s1 "ice-cache> import --dry-run"
ok $? "completion: the options of the subcommand typed (import --d -> --dry-run)"
type_keys s1 C-u

type_keys s1 "get 'open" Enter
wait_for 30 shows s1 "ice-cache: error: column 5: unterminated ' quote"
ok $? "a quoting mistake is a clear error"
type_keys s1 "frobnicate" Enter
wait_for 30 shows s1 "ice-cache: error: unknown command 'frobnicate'"
ok $? "an unknown command is a clear error"
check "a usage error in the shell points to help, not to --help" shows s1 "Type 'help' for the commands and options."
type_keys s1 "get no-such-key" Enter
wait_for 30 shows s1 "(exit 1)"
ok $? "a miss shows its exit status"

type_keys s1 "exec from-shell -- echo made-by-exec" Enter
wait_for 30 shows s1 "made-by-exec"
ok $? "exec in the shell runs the command after --"
stored() { [ "$("$C" get from-shell 2>/dev/null)" = made-by-exec ]; }
check "exec in the shell stored its output (after streaming it)" wait_for 30 stored

type_keys s1 "ls" Enter
wait_for 30 shows_line s1 '^KEY +SIZE +CREATED +EXPIRES +HITS +TAGS$'
ok $? "ls in the shell: a table with column headers (the session survived the errors)"
# the headers can reach the pane before the rows: wait for the row too
wait_for 30 shows_line s1 '^alpha-report +11 +[0-9-]+T[0-9:]+ +never +[0-9]+ +table:db\.t$'
ok $? "ls in the shell: a row per entry with its tags"
if shows s1 "[ended"; then ok 1 "the session is still running"; else ok 0 "the session is still running"; fi

type_keys s1 "quit" Enter
wait_for 30 shows s1 "[ended 0]"
ok $? "quit ends the shell with status 0"
hist="$TMP/state/icecache/history"
check "history saved in \$XDG_STATE_HOME/icecache/history" test -s "$hist"
is "$(grep -c -x -e ls -e 'get beta\\ key *' -e quit "$hist")" "2" "history holds the commands run, not quit"

# A second session, entered by running ice-cache with no arguments on a
# terminal: Up recalls the last command of the first session.
run_in_pane s2 "'$C'"
wait_for 30 shows s2 "ice-cache>"
ok $? "ice-cache with no arguments on a terminal: the shell"
type_keys s2 Up
wait_for 30 shows s2 "ice-cache> ls"
ok $? "history: Up recalls the previous session's last command"
type_keys s2 C-u C-d
wait_for 30 shows s2 "[ended 0]"
ok $? "Ctrl-D ends the shell with status 0"

# ice-cache ls on a terminal, outside the shell; one tag holds a
# terminal's escape sequence (set the window title), which must show as
# text.
"$C" put painted --ttl 1h --value p --tag "$(printf 'free\033]0;pwned\007')"
run_in_pane s3 "'$C' ls"
wait_for 30 shows s3 "[ended"
check "ice-cache ls on a terminal: column headers" shows_line s3 '^KEY +SIZE +CREATED +EXPIRES +HITS +TAGS$'
check "ice-cache ls on a terminal: an entry with a TTL shows when it expires" \
	shows_line s3 '^zeta +1 +[0-9-]+T[0-9:]+ +[0-9-]+T[0-9:]+ +[0-9]+ *$'
check "ice-cache ls on a terminal: exit 0" shows s3 "[ended 0]"
check "ice-cache ls on a terminal: a tag's escape sequence shown as text" shows s3 'free\x1b]0;pwned\x07'
"$C" rm painted

# Not on a terminal: no shell.
"$C" > "$TMP/out" 2> "$TMP/err" < /dev/null
is "$?" "2" "no arguments, no terminal: usage error (exit 2)"
like "$(cat "$TMP/err")" "no COMMAND given" "no arguments, no terminal: says a command is missing"
"$C" shell < /dev/null > /dev/null 2> "$TMP/err"
is "$?" "2" "shell with standard input not a terminal: exit 2"

# An archive is never written to a terminal.
run_in_pane s4 "'$C' export -"
wait_for 30 shows s4 "[ended"
check "export - on a terminal: refused with exit 2" shows s4 "[ended 2]"
check "export - on a terminal: says why" shows s4 "not writing an archive to a terminal"

done_testing
