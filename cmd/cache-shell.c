/* cache-shell: the ice-cache REPL on GNU readline: line splitting, history,
 * completion of subcommands, options and keys; commands run through the
 * same code as on the command line. */
#include "config.h"
#include "cache-shell.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli.h"
#include "cli-cache.h"
#include "ice_fileio.h"
#include "ice_words.h"
#include "ice_xdg.h"

#define HISTORY_MAX 1000
#define KEY_MATCHES_MAX 1000

static const char shell_help[] =
	"\n"
	"In the shell, type a command without 'ice-cache': ls, get KEY, put KEY --value V,\n"
	"info KEY, rm KEY, ... Quote words as in sh: get 'a key', get $'new\\nline'.\n"
	"Tab completes commands, options and keys. help shows this; quit, exit or\n"
	"Ctrl-D leave; Ctrl-C clears the line.\n";

/* readline's callbacks take no context: the running shell's state. */
static const ice_shell_spec *spec;
static ice_backend **cache;
static volatile sig_atomic_t interrupted;

/* ---- history ---------------------------------------------------------------- */

char *ice_shell_history_path(void)
{
	char *path = NULL;
	ice_err err;

	ice_xdg_path(ICE_XDG_STATE, "icecache/history", &path, &err);
	return path;
}

/* Load the history and make sure the file exists for append_history().
 * Returns the path, or NULL when history is not kept (said once). */
static char *open_history(void)
{
	char *path = ice_shell_history_path();
	ice_err err;
	int fd;

	using_history();
	stifle_history(HISTORY_MAX);
	if (!path)
		return NULL;
	if (ice_mkdir_parents(path, 0700, &err) != ICE_OK) {
		ice_cli_warn("history not saved: %s", err.msg);
		free(path);
		return NULL;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		ice_cli_warn("history not saved: %s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	close(fd);
	read_history(path);
	return path;
}

static void remember(const char *line, const char *path)
{
	HIST_ENTRY *last = history_length ? history_get(history_base + history_length - 1) : NULL;

	if (last && strcmp(last->line, line) == 0)
		return;
	add_history(line);
	/* written at once, so a session that is killed keeps what it ran */
	if (path && append_history(1, path) != 0)
		ice_cli_warn("history not saved: %s: %s", path, strerror(errno));
}

/* ---- completion ------------------------------------------------------------- */

typedef struct matches {
	char **v;
	size_t n, cap;
} matches;

static void add_match(matches *m, const char *s)
{
	char **v;

	if (m->n + 1 >= m->cap) {
		m->cap = m->cap ? m->cap * 2 : 32;
		if (!(v = realloc(m->v, m->cap * sizeof *v)))
			return;
		m->v = v;
	}
	if ((m->v[m->n] = strdup(s)))
		m->n++;
}

static matches found;
static size_t next_match;

/* readline's generator over `found`, which the completer filled. */
static char *next_found(const char *text, int state)
{
	(void)text;
	if (state == 0)
		next_match = 0;
	return next_match < found.n ? found.v[next_match++] : NULL;
}

static void clear_found(void)
{
	for (size_t i = next_match; i < found.n; i++)
		free(found.v[i]); /* the ones readline did not take */
	free(found.v);
	memset(&found, 0, sizeof found);
	next_match = 0;
}

static void add_if_prefix(const char *word, const char *text)
{
	if (strncmp(word, text, strlen(text)) == 0)
		add_match(&found, word);
}

/* The option of spec->options named by word ("--ttl", "-t"), or NULL. */
static const ice_cache_option *option_of(const char *word)
{
	for (const ice_cache_option *o = spec->options; o->name; o++) {
		if (strncmp(word, "--", 2) == 0 && strcmp(word + 2, o->name) == 0)
			return o;
		if (word[0] == '-' && word[1] == o->val && !word[2] && o->val < 256)
			return o;
	}
	return NULL;
}

/* The subcommand named word, or NULL. */
static const ice_cache_cmd *command_named(const char *word)
{
	for (const ice_cache_cmd *c = spec->commands; word && c->name; c++)
		if (strcmp(c->name, word) == 0)
			return c;
	return NULL;
}

/* The options worth offering after c: the common ones and c's own; all
 * of them before the subcommand is typed (or after an unknown one). */
static bool offered(const ice_cache_option *o, const ice_cache_cmd *c)
{
	return !c || o->groups == 0 || (o->groups & c->options);
}

/* The subcommand among words (skipping options and their values), or NULL;
 * *wants_value tells whether the last word is an option that takes one. */
static const char *command_of(char **words, size_t n, bool *wants_value)
{
	const char *cmd = NULL;

	*wants_value = false;
	for (size_t i = 0; i < n; i++) {
		const ice_cache_option *o = words[i][0] == '-' ? option_of(words[i]) : NULL;
		if (*wants_value) {
			*wants_value = false;
			continue;
		}
		if (o && o->has_arg == required_argument)
			*wants_value = true;
		else if (!cmd && words[i][0] != '-')
			cmd = words[i];
	}
	return cmd;
}

/* What the user typed so far, quotes removed: readline hands the word
 * still quoted (the opening quote itself left out). */
static char *typed_text(const char *text)
{
	int q = rl_completion_quote_character;
	char *line = NULL, **w = NULL, *out;
	size_t n = 0;
	int got = q ? asprintf(&line, "%c%s%c", q, text, q) : asprintf(&line, "%s", text);

	if (got < 0)
		return strdup(text);
	out = ice_words_split(line, &w, &n, NULL) == ICE_OK && n == 1 ? strdup(w[0]) : strdup(text);
	ice_words_free(w);
	free(line);
	return out;
}

/* key as it must be inserted: escaped outside quotes, as is inside '...'
 * (a key with a ' cannot be), with \ " $ ` escaped inside "...". */
static char *insertable(const char *key)
{
	int q = rl_completion_quote_character;
	char *out, *o;

	if (q == 0)
		return ice_words_escape(key);
	if (q == '\'')
		return strchr(key, '\'') ? NULL : strdup(key);
	if (!(out = malloc(strlen(key) * 2 + 1)))
		return NULL;
	for (o = out; *key; key++) {
		if (strchr("\\\"$`", *key))
			*o++ = '\\';
		*o++ = *key;
	}
	*o = '\0';
	return out;
}

static int on_key(void *ctx, const char *key, const ice_entry_meta *m)
{
	char *ins = insertable(key);

	(void)m;
	if (ins)
		add_match(&found, ins);
	free(ins);
	return found.n >= *(size_t *)ctx;
}

static void complete_keys(const char *text)
{
	char *typed = typed_text(text), *lit = typed ? ice_glob_literal(typed) : NULL;
	char *pattern = NULL;
	size_t limit = KEY_MATCHES_MAX;

	if (lit && asprintf(&pattern, "%s*", lit) >= 0)
		ice_backend_scan(*cache, NULL, NULL, pattern, on_key, &limit, NULL);
	free(pattern);
	free(lit);
	free(typed);
}

static char **complete(const char *text, int start, int end)
{
	char *before = strndup(rl_line_buffer, (size_t)start), **words = NULL, **result;
	const char *cmd;
	const ice_cache_cmd *c;
	size_t n = 0;
	bool wants_value;

	(void)end;
	rl_attempted_completion_over = 1; /* no file names unless asked below */
	clear_found();
	/* After an opening quote readline starts the word past it: the quote
	 * belongs to the word being completed, not to the words before. */
	if (before && start > 0 && rl_completion_quote_character &&
	    before[start - 1] == rl_completion_quote_character)
		before[start - 1] = '\0';
	if (!before || ice_words_split(before, &words, &n, NULL) != ICE_OK) {
		free(before);
		return NULL;
	}
	cmd = command_of(words, n, &wants_value);
	c = command_named(cmd);
	if (wants_value) {
		/* an option's value: nothing to offer */
	} else if (text[0] == '-') {
		for (const ice_cache_option *o = spec->options; o->name; o++) {
			char opt[64];
			snprintf(opt, sizeof opt, "--%s", o->name);
			if (offered(o, c))
				add_if_prefix(opt, text);
		}
	} else if (!cmd) {
		for (c = spec->commands; c->name; c++)
			add_if_prefix(c->name, text);
		add_if_prefix("help", text);
		add_if_prefix("quit", text);
		add_if_prefix("exit", text);
	} else if (c && (c->flags & ICE_CMD_FILE_ARG)) {
		rl_attempted_completion_over = 0; /* readline's own file names */
	} else {
		complete_keys(text);
	}
	ice_words_free(words);
	free(before);
	result = found.n ? rl_completion_matches(text, next_found) : NULL;
	next_match = found.n; /* readline owns what it took */
	clear_found();
	return result;
}

/* A backslash before a blank keeps it inside the word. */
static int char_is_quoted(char *text, int index)
{
	int n = 0;

	while (index - n > 0 && text[index - n - 1] == '\\')
		n++;
	return n % 2;
}

/* ---- the loop ------------------------------------------------------------- */

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Ctrl-C while reading: forget the line, show a fresh prompt. */
static int after_signal(void)
{
	if (interrupted) {
		interrupted = 0;
		rl_replace_line("", 0);
		rl_crlf();
		rl_on_new_line();
		rl_redisplay();
	}
	return 0;
}

static void setup_readline(void)
{
	struct sigaction sa;

	rl_readline_name = "ice-cache";
	rl_attempted_completion_function = complete;
	rl_basic_word_break_characters = " \t\n";
	rl_completer_quote_characters = "'\"";
	rl_char_is_quoted_p = char_is_quoted;
	rl_signal_event_hook = after_signal;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

/* After a backend failure the connection is unusable: open it again so
 * the next command can work. */
static void reconnect(void)
{
	ice_backend *nb = NULL;

	if (ice_cli_open_cache(spec->url, spec->prefix, &nb) < 0) {
		ice_backend_close(*cache);
		*cache = nb;
	}
}

static void run_line(char **words, size_t n)
{
	int status;

	status = spec->run(*cache, (int)n, words);
	fflush(stdout);
	clearerr(stdin); /* a put that read standard input up to Ctrl-D */
	if (status == ICE_EXIT_BACKEND)
		reconnect();
	if (status != ICE_EXIT_OK)
		fprintf(stderr, "(exit %d)\n", status);
}

static bool is_quit(char **words, size_t n)
{
	return n > 0 && (strcmp(words[0], "quit") == 0 || strcmp(words[0], "exit") == 0);
}

/* One line: false when the shell should end. */
static bool handle(const char *line, const char *history)
{
	char **words = NULL;
	size_t n = 0;
	ice_err err = { 0 };
	int rc = ice_words_split(line, &words, &n, &err);

	/* a line with a quoting mistake is kept too, to be fixed with Up */
	if (line[strspn(line, " \t")] != '\0' && !is_quit(words, n))
		remember(line, history);
	if (rc != ICE_OK) {
		ice_cli_error("%s", err.msg);
		return true;
	}
	if (is_quit(words, n)) {
		ice_words_free(words);
		return false;
	}
	if (n > 0 && strcmp(words[0], "help") == 0) {
		spec->help();
		fputs(shell_help, stdout);
	} else if (n > 0) {
		run_line(words, n);
	}
	ice_words_free(words);
	return true;
}

int ice_shell_main(const ice_shell_spec *s, ice_backend **b)
{
	char *history, *line;

	spec = s;
	cache = b;
	setup_readline();
	history = open_history();
	printf("ice-cache shell: type help for commands, quit or Ctrl-D to leave.\n");
	while ((line = readline("ice-cache> ")) != NULL) {
		bool go_on = handle(line, history);
		free(line);
		if (!go_on)
			break;
	}
	if (!line)
		putchar('\n'); /* Ctrl-D: end the prompt's line */
	if (history)
		history_truncate_file(history, HISTORY_MAX);
	free(history);
	clear_found();
	return ICE_EXIT_OK;
}
