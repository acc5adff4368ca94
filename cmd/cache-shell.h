/* cache-shell: the interactive ice-cache shell (GNU readline).
 *
 * Each line is split into words with shell-like quoting (ice_words.h) and
 * handed to spec->run, the same code the command line runs, so a
 * subcommand behaves alike in both. History lives in
 * $XDG_STATE_HOME/icecache/history (default ~/.local/state/icecache/history);
 * Tab completes subcommands, the long options the subcommand typed takes
 * and keys (read from the cache). */
#ifndef ICE_CACHE_SHELL_H
#define ICE_CACHE_SHELL_H

#include "cache-cmd.h"
#include "ice_backend.h"

typedef struct ice_shell_spec {
	const ice_cache_cmd *commands;   /* the subcommands, ended by a NULL name */
	const ice_cache_option *options; /* every option, ended by a NULL name */
	void (*help)(void);              /* print the usage text (`help`) */
	const char *url, *prefix;        /* to reconnect after a backend failure */
	/* Run one command line (argv[0] is the subcommand, argv[argc] NULL,
	 * the words may be permuted); returns its exit status. Must neither
	 * exit nor close stdout. */
	int (*run)(ice_backend *b, int argc, char **argv);
} ice_shell_spec;

/* Read and run lines until quit, exit or end of input; *b is the open
 * cache (replaced when the shell reconnects; the caller closes it).
 * Returns the exit status for the program. */
int ice_shell_main(const ice_shell_spec *spec, ice_backend **b);

/* The history file (malloc'd), NULL when neither XDG_STATE_HOME (absolute)
 * nor HOME is set. */
char *ice_shell_history_path(void);

#endif
